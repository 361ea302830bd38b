/* addr.c - IPv4/IPv6 addresses as the program keeps them, and "host:port"
 * text (syslog.server), without any name resolution. */
#include "addr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

/* ------------------------------------------------------------------ */
/* addresses                                                            */

int idt_addr_parse(const char *s, struct idt_addr *out)
{
    struct idt_addr a;
    memset(&a, 0, sizeof a);
    if (s && inet_pton(AF_INET, s, a.a) == 1) {
        a.family = 4;
    } else if (s && inet_pton(AF_INET6, s, a.a) == 1) {
        a.family = 6;
    } else {
        return -1;
    }
    if (out)
        *out = a;
    return 0;
}

const char *idt_addr_str(const struct idt_addr *a, char *buf, size_t len)
{
    if (!buf || len == 0)
        return "";
    buf[0] = '\0';
    if (!a)
        return buf;
    if (a->family == 4) {
        if (!inet_ntop(AF_INET, a->a, buf, (socklen_t)(len > 0xffff ? 0xffff : len)))
            buf[0] = '\0';
    } else if (a->family == 6) {
        if (!inet_ntop(AF_INET6, a->a, buf, (socklen_t)(len > 0xffff ? 0xffff : len)))
            buf[0] = '\0';
    }
    return buf;
}

int idt_addr_eq(const struct idt_addr *a, const struct idt_addr *b)
{
    if (a->family != b->family)
        return 0;
    if (a->family == 4)
        return memcmp(a->a, b->a, 4) == 0;
    if (a->family == 6)
        return memcmp(a->a, b->a, 16) == 0;
    return 1; /* both unset */
}

/* ------------------------------------------------------------------ */
/* host:port                                                            */

static int valid_hostname(const char *h, size_t n)
{
    /* RFC 1123 host name: labels of [A-Za-z0-9-] (plus '_', seen in the
     * wild), 1..63 each, separated by dots, 253 total. */
    if (n == 0 || n > 253)
        return 0;
    size_t label = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)h[i];
        if (ch == '.') {
            if (label == 0)
                return 0;
            label = 0;
        } else if (isalnum(ch) || ch == '-' || ch == '_') {
            if (++label > 63)
                return 0;
        } else {
            return 0;
        }
    }
    return label > 0 || n > 1; /* a trailing dot is fine, "." alone is not */
}

int idt_hostport_parse(const char *s, char *host, size_t hostlen, uint16_t *port,
                       const char **why)
{
    const char *dummy = NULL;
    const char **w = why ? why : &dummy;
    const char *hs, *he, *ps;
    *w = NULL;
    if (!s || !*s) {
        *w = "empty";
        return -1;
    }
    if (s[0] == '[') {
        he = strchr(s, ']');
        if (!he) {
            *w = "missing ']' after IPv6 address";
            return -1;
        }
        hs = s + 1;
        if (he[1] != ':') {
            *w = "expected ':port' after ']'";
            return -1;
        }
        ps = he + 2;
        char tmp[INET6_ADDRSTRLEN + 1];
        struct in6_addr a6;
        size_t n = (size_t)(he - hs);
        if (n == 0 || n >= sizeof tmp) {
            *w = "not an IPv6 address inside [...]";
            return -1;
        }
        memcpy(tmp, hs, n);
        tmp[n] = '\0';
        if (inet_pton(AF_INET6, tmp, &a6) != 1) {
            *w = "not an IPv6 address inside [...]";
            return -1;
        }
    } else {
        he = strrchr(s, ':');
        if (!he) {
            *w = "missing ':port'";
            return -1;
        }
        if (memchr(s, ':', (size_t)(he - s))) {
            *w = "an IPv6 address must be written as [addr]:port";
            return -1;
        }
        hs = s;
        ps = he + 1;
        if (!valid_hostname(hs, (size_t)(he - hs))) {
            *w = "not a valid host name or address";
            return -1;
        }
    }
    if (!*ps) {
        *w = "missing port number";
        return -1;
    }
    unsigned long p = 0;
    for (const char *q = ps; *q; q++) {
        if (*q < '0' || *q > '9' || p > 65535) {
            *w = "port must be a number 1..65535";
            return -1;
        }
        p = p * 10 + (unsigned long)(*q - '0');
    }
    if (p < 1 || p > 65535) {
        *w = "port must be a number 1..65535";
        return -1;
    }
    size_t n = (size_t)(he - hs);
    if (host && hostlen) {
        if (n >= hostlen) {
            *w = "host name too long";
            return -1;
        }
        memcpy(host, hs, n);
        host[n] = '\0';
    }
    if (port)
        *port = (uint16_t)p;
    return 0;
}

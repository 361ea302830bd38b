/* addr.h - IPv4/IPv6 addresses as the program keeps them, and "host:port"
 * text, without any name resolution.  Pure: no I/O. */
#ifndef IDT_ADDR_H
#define IDT_ADDR_H

#include <stddef.h>
#include <stdint.h>

struct idt_addr {
    uint8_t family;                 /* 0 = unset, 4 or 6 */
    uint8_t a[16];                  /* IPv4 in the first 4 bytes */
};

int idt_addr_parse(const char *s, struct idt_addr *out);      /* 0 ok, -1 bad */
/* Canonical text (inet_ntop); "" for an unset address.  Always returns buf. */
const char *idt_addr_str(const struct idt_addr *a, char *buf, size_t len);
int idt_addr_eq(const struct idt_addr *a, const struct idt_addr *b);  /* unset == unset */

/* Split "host:port" / "[v6addr]:port" (as in syslog.server) without any
 * name resolution.  host receives the host part without brackets.  0 ok;
 * -1 bad, *why (if not NULL) then points to a static reason text. */
int idt_hostport_parse(const char *s, char *host, size_t hostlen, uint16_t *port,
                       const char **why);

#endif

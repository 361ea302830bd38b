/* vici_sas.c - list-sa and the IKE/CHILD up/down/rekey events into the
 * parts of an ike_view: see vici_sas.h.
 *
 * Shapes (strongSwan's vici README):
 *   list-sa      { <ike> = { uniqueid state local-host ... child-sas = { <c> = {...} } } }
 *   ike-updown   { up = yes (absent: down)  <ike> = { ... no child-sas } }
 *   child-updown { up = yes  <ike> = { ... child-sas = { <c> = {...} } } }
 *   ike-rekey    { <ike> = { old = { ... } new = { ... } } }
 *   child-rekey  { <ike> = { ... child-sas = { <c> = { old = {...} new = {...} } } } }
 */
#include "vici_sas.h"
#include "vici_msg.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ values */

int vici_parse_u64(const uint8_t *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 20)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int vici_parse_spi(const uint8_t *s, size_t n, uint32_t *out)
{
    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        s += 2;
        n -= 2;
    }
    if (n == 0 || n > 8)
        return -1;
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = s[i], d;
        if (c >= '0' && c <= '9')
            d = (uint8_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (uint8_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (uint8_t)(c - 'A' + 10);
        else
            return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

static const char *const ike_states[] = {
    "UNKNOWN", "CREATED", "CONNECTING", "ESTABLISHED", "PASSIVE",
    "REKEYING", "REKEYED", "DELETING", "DESTROYING",
};
static const char *const child_states[] = {
    "UNKNOWN", "CREATED", "ROUTED", "INSTALLING", "INSTALLED", "UPDATING",
    "REKEYING", "REKEYED", "RETRYING", "DELETING", "DELETED", "DESTROYING",
};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

const char *ike_sa_state_name(uint8_t st)
{
    return st < NELEM(ike_states) ? ike_states[st] : "UNKNOWN";
}

const char *ike_child_state_name(uint8_t st)
{
    return st < NELEM(child_states) ? child_states[st] : "UNKNOWN";
}

static uint8_t state_of(const char *const *names, size_t n, const struct vici_elem *e)
{
    for (size_t i = 1; i < n; i++)
        if (strlen(names[i]) == e->vlen && memcmp(names[i], e->value, e->vlen) == 0)
            return (uint8_t)i;
    return 0;   /* a state we do not know: kept as UNKNOWN */
}

static int is_yes(const struct vici_elem *e)
{
    return e->vlen == 3 && memcmp(e->value, "yes", 3) == 0;
}

/* ------------------------------------------------------------ parsing */

struct pctx {
    struct vici_iter it;
    struct vici_sas *b;
    char *err;
    size_t errlen;
    int refused;            /* content refused: first reason in err */
    int nomem;
};

__attribute__((format(printf, 2, 3)))
static void refuse(struct pctx *x, const char *fmt, ...)
{
    if (x->refused++)
        return;
    va_list ap;
    va_start(ap, fmt);
    if (x->err && x->errlen)
        vsnprintf(x->err, x->errlen, fmt, ap);
    va_end(ap);
}

static int wire_error(struct pctx *x, int r)
{
    if (x->err && x->errlen)
        snprintf(x->err, x->errlen, "malformed message at byte %zu: %s", x->it.off,
                 vici_strerror(r));
    return VICI_SAS_MALFORMED;
}

/* A value as printable text for messages. */
static const char *show(const struct vici_elem *e, char *buf, size_t len)
{
    size_t k = 0;
    for (size_t i = 0; i < e->vlen && k + 5 < len; i++) {
        uint8_t c = e->value[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            buf[k++] = (char)c;
        else
            k += (size_t)snprintf(buf + k, len - k, "\\x%02x", c);
    }
    buf[k] = '\0';
    return buf;
}

static void get_u64(struct pctx *x, const struct vici_elem *e, uint64_t max, uint64_t *out)
{
    uint64_t v;
    char q[64];
    if (vici_parse_u64(e->value, e->vlen, &v) < 0 || v > max)
        refuse(x, "%s = \"%s\" is not a number in 0..%llu", e->name, show(e, q, sizeof q),
               (unsigned long long)max);
    else
        *out = v;
}

static void get_u32(struct pctx *x, const struct vici_elem *e, uint32_t *out)
{
    uint64_t v = 0;
    get_u64(x, e, UINT32_MAX, &v);
    *out = (uint32_t)v;
}

static void get_spi(struct pctx *x, const struct vici_elem *e, uint32_t *out)
{
    char q[64];
    if (vici_parse_spi(e->value, e->vlen, out) < 0)
        refuse(x, "%s = \"%s\" is not a hexadecimal SPI", e->name, show(e, q, sizeof q));
}

static void get_addr(struct pctx *x, const struct vici_elem *e, struct idt_addr *out)
{
    char text[64], q[64];
    if (e->vlen >= sizeof text) {
        refuse(x, "%s = \"%s\" is not an IP address", e->name, show(e, q, sizeof q));
        return;
    }
    memcpy(text, e->value, e->vlen);
    text[e->vlen] = '\0';
    if (idt_addr_parse(text, out) < 0)
        refuse(x, "%s = \"%s\" is not an IP address", e->name, show(e, q, sizeof q));
}

static void get_name(struct pctx *x, const char *what, const char *name, size_t len, char *out)
{
    if (strlen(name) >= IKE_NAME_MAX)
        refuse(x, "%s name \"%.40s...\" is longer than %d characters", what, name,
               IKE_NAME_MAX - 1);
    snprintf(out, len, "%s", name);
}

/* Skip a list (LIST_START just read) to its LIST_END. */
static int skip_list(struct pctx *x)
{
    struct vici_elem e;
    int r;
    while ((r = vici_next(&x->it, &e)) > 0)
        if (e.type == VICI_LIST_END)
            return 0;
    return wire_error(x, r < 0 ? r : VICI_E_LIST_OPEN);
}

static int skip_section(struct pctx *x)
{
    int r = vici_skip_section(&x->it);
    return r < 0 ? wire_error(x, r) : 0;
}

/* The body of a child SA section, up to its SECTION_END. */
static int parse_child(struct pctx *x, const char *secname, struct ike_child *c)
{
    struct vici_elem e;
    int r;
    int have_name = 0;
    memset(c, 0, sizeof *c);
    while ((r = vici_next(&x->it, &e)) > 0) {
        if (e.type == VICI_SECTION_END)
            break;
        if (e.type == VICI_SECTION_START) {
            if ((r = skip_section(x)) < 0)
                return r;
            continue;
        }
        if (e.type == VICI_LIST_START) {
            if ((r = skip_list(x)) < 0)
                return r;
            continue;
        }
        const char *k = e.name;     /* KEY_VALUE */
        if (strcmp(k, "name") == 0) {
            char nm[VICI_NAME_MAX + 1];
            size_t n = e.vlen < VICI_NAME_MAX ? e.vlen : VICI_NAME_MAX;
            memcpy(nm, e.value, n);
            nm[n] = '\0';
            get_name(x, "CHILD_SA", nm, sizeof c->name, c->name);
            have_name = 1;
        } else if (strcmp(k, "uniqueid") == 0) {
            get_u32(x, &e, &c->unique_id);
        } else if (strcmp(k, "state") == 0) {
            c->state = state_of(child_states, NELEM(child_states), &e);
        } else if (strcmp(k, "protocol") == 0) {
            c->protocol_esp = e.vlen == 3 && memcmp(e.value, "ESP", 3) == 0;
        } else if (strcmp(k, "encap") == 0) {
            c->encap = (uint8_t)is_yes(&e);
        } else if (strcmp(k, "spi-in") == 0) {
            get_spi(x, &e, &c->spi_in);
        } else if (strcmp(k, "spi-out") == 0) {
            get_spi(x, &e, &c->spi_out);
        } else if (strcmp(k, "packets-in") == 0) {
            get_u64(x, &e, UINT64_MAX, &c->packets_in);
        } else if (strcmp(k, "packets-out") == 0) {
            get_u64(x, &e, UINT64_MAX, &c->packets_out);
        } else if (strcmp(k, "bytes-in") == 0) {
            get_u64(x, &e, UINT64_MAX, &c->bytes_in);
        } else if (strcmp(k, "bytes-out") == 0) {
            get_u64(x, &e, UINT64_MAX, &c->bytes_out);
        } else if (strcmp(k, "install-time") == 0) {
            get_u32(x, &e, &c->install_time_s);
        }
    }
    if (r < 0)
        return wire_error(x, r);
    if (r == 0)
        return wire_error(x, VICI_E_UNBALANCED);
    if (!have_name)     /* strongSwan always sends it; the section name is "<name>-<id>" */
        get_name(x, "CHILD_SA", secname, sizeof c->name, c->name);
    return 0;
}

enum ike_mode {
    M_LIST,             /* list-sa: children into b->child */
    M_UPDOWN,           /* ike-updown / child-updown: children into b->child (scratch) */
    M_IKE_REKEY,        /* ike-rekey: old/new sections */
    M_CHILD_REKEY,      /* child-rekey: child-sas = { c = { old new } } */
};

static int push_child(struct pctx *x, const struct ike_child *c)
{
    struct vici_sas *b = x->b;
    if (b->nchild >= VICI_SAS_MAX_CHILD) {
        refuse(x, "more than %d CHILD_SAs", VICI_SAS_MAX_CHILD);
        return 0;
    }
    if (b->nchild == b->cap_child) {
        size_t nc = b->cap_child ? b->cap_child * 2 : 16;
        struct ike_child *p = realloc(b->child, nc * sizeof *p);
        if (!p) {
            x->nomem = 1;
            return VICI_SAS_NOMEM;
        }
        b->child = p;
        b->cap_child = nc;
    }
    b->child[b->nchild++] = *c;
    return 0;
}

static void push_event(struct pctx *x, const struct ike_event *ev)
{
    struct vici_sas *b = x->b;
    if (b->nev >= VICI_SAS_MAX_EVENTS) {
        b->events_dropped++;
        return;
    }
    if (b->nev == b->cap_ev) {
        size_t nc = b->cap_ev ? b->cap_ev * 2 : 8;
        struct ike_event *p = realloc(b->ev, nc * sizeof *p);
        if (!p) {
            x->nomem = 1;
            b->events_dropped++;
            return;
        }
        b->ev = p;
        b->cap_ev = nc;
    }
    b->ev[b->nev++] = *ev;
}

/* child-rekey: the body of child-sas.<c> = { old = {...} new = {...} }. */
static int parse_child_rekey(struct pctx *x, const char *secname)
{
    struct vici_elem e;
    struct ike_child old, neu, tmp;
    int have_old = 0, have_new = 0, r;
    memset(&old, 0, sizeof old);
    memset(&neu, 0, sizeof neu);
    while ((r = vici_next(&x->it, &e)) > 0) {
        if (e.type == VICI_SECTION_END)
            break;
        if (e.type == VICI_LIST_START) {
            if ((r = skip_list(x)) < 0)
                return r;
        } else if (e.type == VICI_SECTION_START) {
            if ((r = parse_child(x, secname, &tmp)) < 0)
                return r;
            if (strcmp(e.name, "old") == 0) {
                old = tmp;
                have_old = 1;
            } else if (strcmp(e.name, "new") == 0) {
                neu = tmp;
                have_new = 1;
            }
        }
    }
    if (r <= 0)
        return wire_error(x, r < 0 ? r : VICI_E_UNBALANCED);
    if (!have_old || !have_new) {
        refuse(x, "child-rekey for %s without %s section", secname, have_old ? "a new" : "an old");
        return 0;
    }
    struct ike_event ev;
    memset(&ev, 0, sizeof ev);
    ev.kind = IKE_EV_CHILD_REKEY;
    snprintf(ev.child_name, sizeof ev.child_name, "%s", neu.name[0] ? neu.name : old.name);
    ev.old_spi_in = old.spi_in;
    ev.new_spi_in = neu.spi_in;
    ev.has_final = 1;       /* the old SA's last counters */
    ev.final = old;
    push_event(x, &ev);
    return 0;
}

/* The body of an IKE SA section, up to its SECTION_END. */
static int parse_ike(struct pctx *x, const char *secname, enum ike_mode mode, struct ike_sa *sa,
                     struct ike_sa *rekey_new)
{
    struct vici_elem e;
    int r;
    memset(sa, 0, sizeof *sa);
    get_name(x, "IKE_SA", secname, sizeof sa->name, sa->name);
    sa->first_child = x->b->nchild;
    while ((r = vici_next(&x->it, &e)) > 0) {
        if (e.type == VICI_SECTION_END)
            break;
        if (e.type == VICI_LIST_START) {
            if ((r = skip_list(x)) < 0)
                return r;
            continue;
        }
        if (e.type == VICI_SECTION_START) {
            if (mode == M_IKE_REKEY && (strcmp(e.name, "old") == 0 || strcmp(e.name, "new") == 0)) {
                struct ike_sa tmp;
                if ((r = parse_ike(x, secname, M_UPDOWN, &tmp, NULL)) < 0)
                    return r;
                if (e.name[0] == 'n' && rekey_new)
                    *rekey_new = tmp;
                continue;
            }
            if (strcmp(e.name, "child-sas") != 0 || mode == M_IKE_REKEY) {
                if ((r = skip_section(x)) < 0)
                    return r;
                continue;
            }
            /* child-sas: one section per child */
            while ((r = vici_next(&x->it, &e)) > 0 && e.type != VICI_SECTION_END) {
                if (e.type == VICI_LIST_START) {
                    if ((r = skip_list(x)) < 0)
                        return r;
                } else if (e.type == VICI_SECTION_START) {
                    char cname[VICI_NAME_MAX + 1];
                    snprintf(cname, sizeof cname, "%s", e.name);
                    if (mode == M_CHILD_REKEY) {
                        if ((r = parse_child_rekey(x, cname)) < 0)
                            return r;
                    } else {
                        struct ike_child c;
                        if ((r = parse_child(x, cname, &c)) < 0)
                            return r;
                        if (push_child(x, &c) < 0)
                            return VICI_SAS_NOMEM;
                    }
                }
            }
            if (r <= 0)
                return wire_error(x, r < 0 ? r : VICI_E_UNBALANCED);
            continue;
        }
        const char *k = e.name;     /* KEY_VALUE */
        uint32_t port;
        if (strcmp(k, "uniqueid") == 0) {
            get_u32(x, &e, &sa->unique_id);
        } else if (strcmp(k, "state") == 0) {
            sa->state = state_of(ike_states, NELEM(ike_states), &e);
        } else if (strcmp(k, "initiator") == 0) {
            sa->initiator = (uint8_t)is_yes(&e);
        } else if (strcmp(k, "local-host") == 0) {
            get_addr(x, &e, &sa->local);
        } else if (strcmp(k, "remote-host") == 0) {
            get_addr(x, &e, &sa->remote);
        } else if (strcmp(k, "local-port") == 0 || strcmp(k, "remote-port") == 0) {
            uint64_t v = 0;
            get_u64(x, &e, 65535, &v);
            port = (uint32_t)v;
            if (k[0] == 'l')
                sa->local_port = (uint16_t)port;
            else
                sa->remote_port = (uint16_t)port;
        } else if (strcmp(k, "established") == 0) {
            get_u32(x, &e, &sa->established_s);
        }
    }
    if (r <= 0)
        return wire_error(x, r < 0 ? r : VICI_E_UNBALANCED);
    sa->nchild = x->b->nchild - sa->first_child;
    return 0;
}

static int finish(struct pctx *x, int r)
{
    if (r < 0)
        return r;
    if (x->nomem) {
        if (x->err && x->errlen)
            snprintf(x->err, x->errlen, "out of memory");
        return VICI_SAS_NOMEM;
    }
    return x->refused ? VICI_SAS_REFUSED : VICI_SAS_OK;
}

static void pctx_init(struct pctx *x, struct vici_sas *b, const uint8_t *msg, size_t len,
                      char *err, size_t errlen)
{
    memset(x, 0, sizeof *x);
    vici_iter_init(&x->it, msg, len);
    x->b = b;
    x->err = err;
    x->errlen = errlen;
    if (err && errlen)
        err[0] = '\0';
}

int vici_sas_add_list_sa(struct vici_sas *b, const uint8_t *msg, size_t len,
                         char *err, size_t errlen)
{
    struct pctx x;
    struct vici_elem e;
    int r;
    pctx_init(&x, b, msg, len, err, errlen);
    /* a wire error anywhere refuses the whole message */
    if ((r = vici_msg_check(msg, len)) < 0) {
        x.it.off = 0;
        if (err && errlen)
            snprintf(err, errlen, "malformed list-sa message: %s", vici_strerror(r));
        return VICI_SAS_MALFORMED;
    }
    while ((r = vici_next(&x.it, &e)) > 0) {
        if (e.type == VICI_LIST_START) {
            if ((r = skip_list(&x)) < 0)
                return r;
            continue;
        }
        if (e.type != VICI_SECTION_START)
            continue;
        struct ike_sa sa;
        size_t child_mark = b->nchild;
        int refused_before = x.refused;
        if ((r = parse_ike(&x, e.name, M_LIST, &sa, NULL)) < 0) {
            b->nchild = child_mark;
            return finish(&x, r);
        }
        if (x.refused != refused_before || x.nomem) {
            b->nchild = child_mark;     /* the whole IKE SA is skipped */
            continue;
        }
        if (b->nsa >= VICI_SAS_MAX_IKE) {
            refuse(&x, "more than %d IKE_SAs", VICI_SAS_MAX_IKE);
            b->nchild = child_mark;
            continue;
        }
        if (b->nsa == b->cap_sa) {
            size_t nc = b->cap_sa ? b->cap_sa * 2 : 8;
            struct ike_sa *p = realloc(b->sa, nc * sizeof *p);
            if (!p) {
                b->nchild = child_mark;
                x.nomem = 1;
                continue;
            }
            b->sa = p;
            b->cap_sa = nc;
        }
        b->sa[b->nsa++] = sa;
    }
    return finish(&x, r < 0 ? wire_error(&x, r) : 0);
}

int vici_sas_add_event(struct vici_sas *b, const char *name, const uint8_t *msg, size_t len,
                       char *err, size_t errlen)
{
    struct pctx x;
    struct vici_elem e;
    int r, up = 0;
    enum ike_mode mode;
    int kind;
    pctx_init(&x, b, msg, len, err, errlen);
    if (strcmp(name, "ike-updown") == 0) {
        mode = M_UPDOWN;
        kind = IKE_EV_IKE_UP;
    } else if (strcmp(name, "child-updown") == 0) {
        mode = M_UPDOWN;
        kind = IKE_EV_CHILD_UP;
    } else if (strcmp(name, "ike-rekey") == 0) {
        mode = M_IKE_REKEY;
        kind = IKE_EV_IKE_REKEY;
    } else if (strcmp(name, "child-rekey") == 0) {
        mode = M_CHILD_REKEY;
        kind = IKE_EV_CHILD_REKEY;
    } else {
        refuse(&x, "unexpected event \"%.64s\"", name);
        return VICI_SAS_REFUSED;
    }
    if ((r = vici_msg_check(msg, len)) < 0) {
        if (err && errlen)
            snprintf(err, errlen, "malformed %s message: %s", name, vici_strerror(r));
        return VICI_SAS_MALFORMED;
    }
    /* "up" may come before or after the IKE section */
    while ((r = vici_next(&x.it, &e)) > 0)
        if (e.type == VICI_KEY_VALUE && e.depth == 0 && strcmp(e.name, "up") == 0)
            up = is_yes(&e);
    vici_iter_init(&x.it, msg, len);
    size_t nsections = 0;
    while ((r = vici_next(&x.it, &e)) > 0) {
        if (e.type == VICI_LIST_START) {
            if ((r = skip_list(&x)) < 0)
                return r;
            continue;
        }
        if (e.type != VICI_SECTION_START)
            continue;
        nsections++;
        struct ike_sa sa, neu;
        size_t child_mark = b->nchild, ev_mark = b->nev;
        int refused_before = x.refused;
        memset(&neu, 0, sizeof neu);
        r = parse_ike(&x, e.name, mode, &sa, &neu);
        if (r >= 0 && x.refused != refused_before) {
            b->nchild = child_mark;     /* the event is skipped */
            b->nev = ev_mark;
            continue;
        }
        if (r >= 0 && mode == M_UPDOWN && kind == IKE_EV_CHILD_UP) {
            for (size_t i = child_mark; i < b->nchild; i++) {
                struct ike_event ev;
                memset(&ev, 0, sizeof ev);
                ev.kind = up ? IKE_EV_CHILD_UP : IKE_EV_CHILD_DOWN;
                snprintf(ev.child_name, sizeof ev.child_name, "%s", b->child[i].name);
                if (!up) {
                    ev.has_final = 1;
                    ev.final = b->child[i];
                }
                push_event(&x, &ev);
            }
        } else if (r >= 0 && mode != M_CHILD_REKEY) {
            struct ike_event ev;
            memset(&ev, 0, sizeof ev);
            ev.kind = (uint8_t)(mode == M_IKE_REKEY ? IKE_EV_IKE_REKEY
                                : up ? IKE_EV_IKE_UP : IKE_EV_IKE_DOWN);
            push_event(&x, &ev);
        }
        b->nchild = child_mark;     /* event children were scratch */
        if (r < 0) {
            b->nev = ev_mark;
            return finish(&x, r);
        }
        for (size_t i = ev_mark; i < b->nev; i++) {
            snprintf(b->ev[i].ike_name, sizeof b->ev[i].ike_name, "%s", sa.name);
            b->ev[i].ike_unique_id = mode == M_IKE_REKEY ? neu.unique_id : sa.unique_id;
        }
    }
    if (r < 0)
        return finish(&x, wire_error(&x, r));
    if (nsections == 0)
        refuse(&x, "%s event without an IKE_SA section", name);
    return finish(&x, 0);
}

/* ------------------------------------------------------------ lifecycle */

void vici_sas_init(struct vici_sas *b)
{
    memset(b, 0, sizeof *b);
}

void vici_sas_free(struct vici_sas *b)
{
    free(b->sa);
    free(b->child);
    free(b->ev);
    memset(b, 0, sizeof *b);
}

void vici_sas_clear_sas(struct vici_sas *b)
{
    b->nsa = 0;
    b->nchild = 0;
}

void vici_sas_clear_events(struct vici_sas *b)
{
    b->nev = 0;
    b->events_dropped = 0;
}

struct ike_view *vici_sas_view(const struct vici_sas *b, uint64_t taken_us, uint64_t generation)
{
    struct ike_view *v = ike_view_new(b->nsa, b->nchild, b->nev);
    if (!v)
        return NULL;
    if (b->nsa)
        memcpy(v->sa, b->sa, b->nsa * sizeof *v->sa);
    if (b->nchild)
        memcpy(v->child, b->child, b->nchild * sizeof *v->child);
    if (b->nev)
        memcpy(v->event, b->ev, b->nev * sizeof *v->event);
    v->taken_us = taken_us;
    v->generation = generation;
    v->connected = 1;
    return v;
}

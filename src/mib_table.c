/* mib_table.c - generic sorted-rows handler (see mib_table.h). */
#include "mib_table.h"

struct cursor {
    unsigned col;
    size_t row;
};

static void row_oid(const struct mib_table_def *d, void *ctx, size_t row, unsigned col,
                    oid *out, size_t *len)
{
    size_t n = 0;
    for (size_t i = 0; i < d->root_len; i++)
        out[n++] = d->root[i];
    if (d->has_entry)
        out[n++] = 1;
    out[n++] = col;
    if (d->row_index) {
        oid idx[MIB_MAX_INDEX];
        d->row_index(ctx, row, idx);
        for (unsigned i = 0; i < d->nidx; i++)
            out[n++] = idx[i];
    } else {
        out[n++] = 0;
    }
    *len = n;
}

static size_t prefix_len(const struct mib_table_def *d)
{
    return d->root_len + (d->has_entry ? 1 : 0);
}

/* Index OID of a row (scalars: {0}). */
static size_t index_of(const struct mib_table_def *d, void *ctx, size_t row, oid *idx)
{
    if (!d->row_index) {
        idx[0] = 0;
        return 1;
    }
    d->row_index(ctx, row, idx);
    return d->nidx;
}

static size_t nrows(const struct mib_table_def *d, void *ctx)
{
    return d->nrows ? d->nrows(ctx) : 1;
}

/* First row whose index OID is greater than suffix (OID order). */
static size_t upper_bound(const struct mib_table_def *d, void *ctx, const oid *suf, size_t sn)
{
    size_t lo = 0, hi = nrows(d, ctx);
    oid idx[MIB_MAX_INDEX];
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        size_t n = index_of(d, ctx, mid, idx);
        if (snmp_oid_compare(idx, n, suf, sn) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Exact row, or (size_t)-1. */
static size_t find_row(const struct mib_table_def *d, void *ctx, const oid *suf, size_t sn)
{
    size_t r = upper_bound(d, ctx, suf, sn);
    oid idx[MIB_MAX_INDEX];
    if (r == 0)
        return (size_t)-1;
    size_t n = index_of(d, ctx, r - 1, idx);
    return snmp_oid_compare(idx, n, suf, sn) == 0 ? r - 1 : (size_t)-1;
}

static void set_value(netsnmp_variable_list *vb, const struct mib_val *v)
{
    switch (v->type) {
    case ASN_COUNTER64:
        snmp_set_var_typed_value(vb, ASN_COUNTER64, &v->c64, sizeof v->c64);
        break;
    case ASN_OCTET_STR:
        snmp_set_var_typed_value(vb, ASN_OCTET_STR, v->ptr, v->len);
        break;
    case ASN_INTEGER: {
        long l = v->i;
        snmp_set_var_typed_value(vb, ASN_INTEGER, &l, sizeof l);
        break;
    }
    default: {
        u_long u = (u_long)v->i;
        snmp_set_var_typed_value(vb, v->type, &u, sizeof u);
        break;
    }
    }
}

/* Resolve a GET/SET OID to (row, col).  Returns 0, or an SNMP_NOSUCH*. */
static int exact(const struct mib_table_def *d, void *ctx, const oid *name, size_t len,
                 size_t *row, unsigned *col)
{
    size_t pl = prefix_len(d);
    if (len < pl + 1 || snmp_oid_compare(name, d->root_len, d->root, d->root_len) != 0)
        return SNMP_NOSUCHOBJECT;
    if (d->has_entry && name[d->root_len] != 1)
        return SNMP_NOSUCHOBJECT;
    oid c = name[pl];
    if (c < d->first_col || c > d->last_col || (d->has_col && !d->has_col((unsigned)c)))
        return SNMP_NOSUCHOBJECT;
    *col = (unsigned)c;
    size_t sn = len - pl - 1;
    if (sn != (d->row_index ? d->nidx : 1))
        return SNMP_NOSUCHINSTANCE;
    *row = find_row(d, ctx, name + pl + 1, sn);
    if (*row == (size_t)-1)
        return SNMP_NOSUCHINSTANCE;
    return 0;
}

/* Sub-identifiers are 32-bit (RFC 2578), but libnetsnmp 5.9.3 hands an
 * AgentX subagent values >= 2^31 sign-extended into its 64-bit oid type
 * (an SPI of 3000000000 arrives as 0xffffffffb2d05e00).  Mask them back. */
static size_t clean_oid(const netsnmp_variable_list *vb, oid *out)
{
    size_t n = vb->name_length < MAX_OID_LEN ? vb->name_length : MAX_OID_LEN;
    for (size_t i = 0; i < n; i++)
        out[i] = vb->name[i] & 0xffffffffUL;
    return n;
}

static int do_getnext(const struct mib_table_def *d, void *ctx, netsnmp_variable_list *vb)
{
    oid q[MAX_OID_LEN] = { 0 };
    size_t qn = clean_oid(vb, q), pl = prefix_len(d);
    oid prefix[MAX_OID_LEN];
    for (size_t i = 0; i < d->root_len; i++)
        prefix[i] = d->root[i];
    if (d->has_entry)
        prefix[d->root_len] = 1;

    unsigned col = d->first_col;
    const oid *suf = NULL;
    size_t sn = 0;
    size_t m = qn < pl ? qn : pl;
    int c = snmp_oid_compare(q, m, prefix, m);
    if (c > 0)
        return 0;
    if (c == 0 && qn > pl) {
        oid qc = q[pl];
        if (qc > d->last_col)
            return 0;
        if (qc >= d->first_col) {
            col = (unsigned)qc;
            suf = q + pl + 1;
            sn = qn - pl - 1;
        }
    }
    size_t n = nrows(d, ctx);
    for (; col <= d->last_col; col++, suf = NULL, sn = 0) {
        if (d->has_col && !d->has_col(col))
            continue;
        size_t row = suf ? upper_bound(d, ctx, suf, sn) : 0;
        struct mib_val v;
        for (; row < n; row++) {
            if (d->cell(ctx, row, col, &v) == 0) {
                oid out[MAX_OID_LEN];
                size_t ol;
                row_oid(d, ctx, row, col, out, &ol);
                snmp_set_var_objid(vb, out, ol);
                set_value(vb, &v);
                return 1;
            }
        }
    }
    return 0;
}

static int handler(netsnmp_mib_handler *h, netsnmp_handler_registration *reg,
                   netsnmp_agent_request_info *reqinfo, netsnmp_request_info *requests)
{
    struct mib_table_def *d = h->myvoid;
    void *ctx = d->open ? d->open() : NULL;
    (void)reg;

    for (netsnmp_request_info *r = requests; r; r = r->next) {
        if (r->processed)
            continue;
        netsnmp_variable_list *vb = r->requestvb;
        oid name[MAX_OID_LEN] = { 0 };
        size_t nlen = clean_oid(vb, name);
        size_t row;
        unsigned col;
        int e;
        switch (reqinfo->mode) {
        case MODE_GET: {
            struct mib_val v;
            e = exact(d, ctx, name, nlen, &row, &col);
            if (e == 0 && d->cell(ctx, row, col, &v) == 0)
                set_value(vb, &v);
            else
                netsnmp_set_request_error(reqinfo, r, e ? e : (int)SNMP_NOSUCHINSTANCE);
            break;
        }
        case MODE_GETNEXT:
            do_getnext(d, ctx, vb);
            break;
        case MODE_SET_RESERVE1:
            e = exact(d, ctx, name, nlen, &row, &col);
            if (e)
                netsnmp_set_request_error(reqinfo, r, e == SNMP_NOSUCHOBJECT ?
                                          SNMP_ERR_NOTWRITABLE : SNMP_ERR_NOCREATION);
            else if (!d->check)
                netsnmp_set_request_error(reqinfo, r, SNMP_ERR_NOTWRITABLE);
            else if ((e = d->check(ctx, row, col, vb)) != SNMP_ERR_NOERROR)
                netsnmp_set_request_error(reqinfo, r, e);
            break;
        case MODE_SET_COMMIT:
            if (d->commit && exact(d, ctx, name, nlen, &row, &col) == 0)
                d->commit(ctx, row, col, vb);
            break;
        case MODE_SET_RESERVE2:
        case MODE_SET_ACTION:
        case MODE_SET_FREE:
        case MODE_SET_UNDO:
            break;
        default:
            break;
        }
    }
    if (d->close)
        d->close(ctx);
    return SNMP_ERR_NOERROR;
}

int mib_table_register(struct mib_table_def *d)
{
    netsnmp_handler_registration *reg = netsnmp_create_handler_registration(
        d->name, handler, d->root, d->root_len,
        d->check ? HANDLER_CAN_RWRITE : HANDLER_CAN_RONLY);
    if (!reg)
        return -1;
    reg->handler->myvoid = d;
    return netsnmp_register_handler(reg) == MIB_REGISTERED_OK ? 0 : -1;
}

void mib_table_unregister(struct mib_table_def *d)
{
    unregister_mib(d->root, d->root_len);
}

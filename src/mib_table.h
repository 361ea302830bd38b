/* mib_table.h - one generic Net-SNMP handler that serves a group of
 * scalars or a conceptual table from rows sorted by index OID.
 *
 * GET is a binary search; GETNEXT is a binary search for the first row
 * whose index OID is greater than the requested one, then a scan past
 * empty cells.  A walk over N rows costs O(N log N).  Agent thread only.
 */
#ifndef IDT_MIB_TABLE_H
#define IDT_MIB_TABLE_H

#include <net-snmp/net-snmp-config.h>
#include <net-snmp/net-snmp-includes.h>
#include <net-snmp/agent/net-snmp-agent-includes.h>

#define MIB_MAX_INDEX 3

struct mib_val {
    u_char type;                    /* ASN_* */
    long i;                         /* INTEGER, Unsigned32/Gauge32/Counter32/TimeTicks */
    struct counter64 c64;           /* Counter64 */
    const void *ptr;                /* OCTET STRING */
    size_t len;
};

struct mib_table_def {
    const char *name;
    oid root[MAX_OID_LEN];
    size_t root_len;
    int has_entry;                  /* table: root.1.col.index; scalars: root.col.0 */
    unsigned first_col, last_col;   /* accessible columns */
    unsigned nidx;                  /* index sub-identifiers per row */
    /* Columns first_col..last_col that are unassigned (may be NULL: none):
     * 1 if col exists.  Walks skip the others without visiting rows. */
    int (*has_col)(unsigned col);
    /* Per request batch: open a context (e.g. take a snapshot) and close it. */
    void *(*open)(void);
    void (*close)(void *ctx);
    size_t (*nrows)(void *ctx);
    void (*row_index)(void *ctx, size_t row, oid *idx);
    /* 0 with *v filled, or -1 if the cell is empty. */
    int (*cell)(void *ctx, size_t row, unsigned col, struct mib_val *v);
    /* SET support (may be NULL: read-only).  check returns an SNMP_ERR_*
     * and is called in RESERVE1; commit must not block. */
    int (*check)(void *ctx, size_t row, unsigned col, const netsnmp_variable_list *var);
    void (*commit)(void *ctx, size_t row, unsigned col, const netsnmp_variable_list *var);
};

/* Register def (which must stay alive).  Returns 0 or -1. */
int mib_table_register(struct mib_table_def *def);
void mib_table_unregister(struct mib_table_def *def);

#endif

/* sa_table.h - fixed-capacity open-addressing hash table of SAs.
 * Pure module: allocates only in sa_table_create(); the per-packet
 * lookup/insert path allocates nothing and is O(1) expected.
 *
 * Entries live in a dense slab (allocated once, touched only as used, so
 * RSS grows with the number of live SAs); the hash index is an array of
 * uint32 slot numbers with linear probing and backward-shift deletion.
 * Each entry carries its replay-window state and bitmap inline.
 */
#ifndef IDT_SA_TABLE_H
#define IDT_SA_TABLE_H

#include <stdint.h>
#include <stddef.h>
#include "replay_window.h"

struct sa_key {
    uint8_t  family;        /* 4 or 6 */
    uint8_t  pad[3];        /* always zero (key is compared bytewise) */
    uint32_t spi;
    uint8_t  src[16];       /* outer source; IPv4 in the first 4 bytes */
    uint8_t  dst[16];
};

struct sa_entry {
    struct sa_key key;
    uint32_t tunnel;        /* tunnel slot (owner-defined) */
    uint8_t  encap;         /* enum esp_encap */
    uint8_t  direction;     /* 1 inbound, 2 outbound */
    uint16_t flags;         /* SA_F_* (kept by the table) */
    uint32_t first_seen_s;  /* timestamps in seconds (owner's clock; 32 bits: */
    uint32_t last_seen_s;   /* epoch seconds last until 2106) */
    uint64_t octets;        /* outer IP length of every packet counted */
    struct rw_state rw;
    uint64_t bits[];        /* RW_WORDS(rw.window) words */
};

/* sa_entry.flags */
#define SA_F_TENTATIVE 0x1u     /* not yet confirmed (see sa_table_confirm) */
#define SA_F_RESERVED  0x2u     /* admitted in class SA_CLASS_RESERVED */

/* Admission classes.  Table-full policy (see sa_table_admit):
 *  - every new entry is TENTATIVE until the owner confirms it; tentative
 *    entries are kept in arrival order (one FIFO per class);
 *  - confirmed entries are never evicted, only removed by the owner;
 *  - SA_CLASS_OPEN entries may use at most max_sas - reserve slots;
 *    SA_CLASS_RESERVED entries may use every slot;
 *  - when a new entry finds no room, the oldest tentative entry it may
 *    displace gives way: an OPEN entry displaces only OPEN ones, a
 *    RESERVED entry displaces OPEN ones first, then RESERVED ones. */
enum sa_class { SA_CLASS_OPEN = 0, SA_CLASS_RESERVED = 1 };

struct sa_table;

/* Capacity max_sas (>= 1), window w bits.  NULL on allocation failure. */
struct sa_table *sa_table_create(uint32_t max_sas, uint32_t window);
void sa_table_destroy(struct sa_table *t);

/* Find the entry for key, or NULL. */
struct sa_entry *sa_table_find(struct sa_table *t, const struct sa_key *key);

/* Find or insert.  A new entry is zeroed, gets the key, has its replay
 * window initialised (rw_init), is TENTATIVE in class cls (at the tail
 * of its class's FIFO); *created is set to 1.  Returns NULL when there
 * is no room for a new entry of that class (nothing is evicted here:
 * see sa_table_admit). */
struct sa_entry *sa_table_insert_class(struct sa_table *t, const struct sa_key *key,
                                       enum sa_class cls, int *created);
/* sa_table_insert_class(t, key, SA_CLASS_OPEN, created). */
struct sa_entry *sa_table_insert(struct sa_table *t, const struct sa_key *key,
                                 int *created);

/* Is there room for one more entry of class cls?  Returns 1 if so.
 * Otherwise returns 0 and sets *victim to the oldest tentative entry
 * that a new entry of class cls may displace (the caller accounts for
 * it, removes it with sa_table_remove, and inserts), or to NULL when
 * there is none (the new SA is refused).  O(1). */
int sa_table_admit(struct sa_table *t, enum sa_class cls, struct sa_entry **victim);

/* Mark a tentative entry confirmed (it leaves its FIFO; it will never
 * be evicted).  No effect on a confirmed entry.  O(1). */
void sa_table_confirm(struct sa_table *t, struct sa_entry *e);

/* Slots that only SA_CLASS_RESERVED entries may use (clamped to
 * max_sas / 2).  0 at create.  Lowering the open share below the open
 * entries present evicts nothing: new open entries wait for room. */
void sa_table_set_reserve(struct sa_table *t, uint32_t reserve);
uint32_t sa_table_reserve(const struct sa_table *t);
uint32_t sa_table_tentative_count(const struct sa_table *t);
uint32_t sa_table_open_count(const struct sa_table *t);

/* Remove an entry previously returned by find/insert. */
void sa_table_remove(struct sa_table *t, struct sa_entry *e);

uint32_t sa_table_count(const struct sa_table *t);
uint32_t sa_table_capacity(const struct sa_table *t);
uint32_t sa_table_window(const struct sa_table *t);

/* Iterate live entries: start with *cursor = 0; returns NULL at the end.
 * Removing the returned entry during iteration is allowed. */
struct sa_entry *sa_table_next(struct sa_table *t, uint32_t *cursor);

/* Bytes of memory the table reserves per entry slot (for reporting):
 * everything reserved (slab, index, free list, FIFO links, live bitmap) divided by
 * max_sas, rounded up. */
size_t sa_table_entry_size(const struct sa_table *t);

/* Like sa_table_create() but with a caller-chosen hash seed instead of
 * one from getrandom() (tests, reproducible benchmarks).  Production
 * code should use sa_table_create(): the key comes off the wire and a
 * secret seed is what keeps hash flooding out. */
struct sa_table *sa_table_create_seeded(uint32_t max_sas, uint32_t window,
                                        uint64_t seed);

/* Bytes of one slab slot: sizeof(struct sa_entry) + RW_WORDS(window) * 8,
 * rounded up to 8. */
size_t sa_table_slot_stride(const struct sa_table *t);

/* Home bucket of key in the hash index (0 .. index capacity - 1), for
 * diagnostics and tests (building keys that collide). */
uint32_t sa_table_bucket_of(const struct sa_table *t, const struct sa_key *key);
uint32_t sa_table_index_capacity(const struct sa_table *t);

/* Notes: max_sas is limited to 2^28 (create returns NULL above); window
 * is clamped to RW_MIN_WINDOW..RW_MAX_WINDOW like rw_init().  Not thread
 * safe.  An entry inserted during an iteration may or may not be
 * visited by that iteration (a reused slot before the cursor is not). */

#endif

/* tunnel_ids.h - remembered identities of discovered tunnels: a bounded
 * map from the unordered outer address pair to (index, local/remote order,
 * name, last-seen seconds), with the next index to hand out, and its
 * versioned text form (the state file).  Pure module (no I/O).
 *
 * Lookup, insert, remove, touch and tunnel_ids_set_live are O(1)
 * (open-addressing hash plus an LRU list).  The list holds the entries
 * that are not live (least recently touched first), then the live ones
 * (identities of tunnels that exist now).  When the map is full, an insert
 * evicts the least recently touched entry that is not live, so a live
 * identity is never forgotten while one that is not live remains.
 * Nothing allocates after creation.
 *
 * Text form, version 1 (every line ends with '\n'):
 *   ipsecdiagtool-tunnels 1
 *   next-index N                         1..4294967296, above every index
 *   tunnel INDEX LOCAL REMOTE SECONDS NAME   zero or more, least recent first
 *   end COUNT                            COUNT = number of tunnel lines
 * Numbers are decimal without leading zeros; addresses in canonical
 * (inet_ntop) form, both of one family and different; NAME is
 * "LOCAL-REMOTE", "tunnel-INDEX" or "tunnel-INDEX-K" (K >= 2), at most
 * IDT_NAME_MAX-1 characters.  Pairs, indexes and names are unique.
 */
#ifndef IDT_TUNNEL_IDS_H
#define IDT_TUNNEL_IDS_H

#include <stddef.h>
#include <stdint.h>
#include "config.h"

#define TUNNEL_IDS_VERSION 1
#define TUNNEL_IDS_NONE UINT32_MAX

struct tunnel_id {
    struct idt_addr local, remote;
    uint32_t index;
    uint8_t used;
    uint8_t live;               /* its tunnel exists (tunnel_ids_set_live) */
    char name[IDT_NAME_MAX];
    uint64_t last_seen_s;
    uint32_t prev, next;        /* LRU list (TUNNEL_IDS_NONE ends it) */
};

struct tunnel_ids {
    struct tunnel_id *e;        /* cap entries */
    uint32_t cap, count;
    uint32_t *hash;             /* 0 = empty, else entry + 1 */
    uint32_t hmask;
    uint32_t head, tail;        /* head = least recently touched */
    uint32_t live_first;        /* first live entry; it and all after it are
                                 * live (TUNNEL_IDS_NONE: none is) */
    uint32_t free_head;         /* removed entries, chained through next */
    uint32_t fresh;             /* entries fresh..cap-1 were never used */
    uint64_t next_index;        /* 1..2^32; 2^32 = index space exhausted */
    uint64_t changes;           /* bumped by every change worth saving */
};

/* Hash of the unordered pair (the same for (a, b) and (b, a)). */
uint64_t tunnel_ids_pair_hash(const struct idt_addr *a, const struct idt_addr *b);

/* An empty map for at most cap (>= 1) entries; NULL if out of memory. */
struct tunnel_ids *tunnel_ids_create(uint32_t cap);
void tunnel_ids_destroy(struct tunnel_ids *m);

/* Entry of the pair (either order), NULL if none. */
struct tunnel_id *tunnel_ids_find(struct tunnel_ids *m, const struct idt_addr *a,
                                  const struct idt_addr *b);

/* Add a pair that is not in the map (evicting the least recently touched
 * entry that is not live when full; a live one only if all are) as the
 * most recent entry that is not live.  Never fails. */
struct tunnel_id *tunnel_ids_insert(struct tunnel_ids *m, const struct idt_addr *local,
                                    const struct idt_addr *remote, uint32_t index,
                                    const char *name, uint64_t now_s);

void tunnel_ids_remove(struct tunnel_ids *m, struct tunnel_id *id);

/* Make id the most recent of its kind (live or not); its time becomes
 * max(time, now_s).  Counts as a change (to be saved) only when the stored
 * time moves by an hour. */
void tunnel_ids_touch(struct tunnel_ids *m, struct tunnel_id *id, uint64_t now_s);

/* Mark id live (its tunnel exists) or not, as the most recent of its new
 * kind, with the time rule of tunnel_ids_touch.  A live entry is never
 * evicted while one that is not live remains; the text form lists the
 * live entries last. */
void tunnel_ids_set_live(struct tunnel_ids *m, struct tunnel_id *id, int live, uint64_t now_s);

/* Entries from least to most recent (those not live, then the live ones):
 * first, then next until NULL. */
struct tunnel_id *tunnel_ids_first(struct tunnel_ids *m);
struct tunnel_id *tunnel_ids_next(struct tunnel_ids *m, const struct tunnel_id *id);

/* Canonical generated name of a pair: "LOCAL-REMOTE" when it fits in
 * IDT_NAME_MAX-1 characters and alt == 0, else "tunnel-INDEX" (alt 0/1),
 * else "tunnel-INDEX-ALT" (alt >= 2).  buf has IDT_NAME_MAX bytes. */
void tunnel_ids_name(char *buf, const struct idt_addr *local, const struct idt_addr *remote,
                     uint32_t index, uint32_t alt);

/* Write the text form through out (which returns 0, or -1 to stop).
 * Returns 0, or -1 if out failed. */
typedef int (*tunnel_ids_writer)(void *ctx, const char *s, size_t n);
int tunnel_ids_format(struct tunnel_ids *m, tunnel_ids_writer out, void *ctx);

/* Parse len bytes of text form into a new map for at most cap entries
 * (the most recent ones are kept).  Returns the map, or NULL with one line
 * "line N: reason" (or a reason without line) in err. */
struct tunnel_ids *tunnel_ids_parse(const char *text, size_t len, uint32_t cap,
                                    char *err, size_t errlen);

#endif

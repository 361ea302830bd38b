/* mtu_search.h - exact tunnel MTU search with many DF probes per round.
 * Pure module: no I/O, no clock, no threads, no allocation.  The prober
 * thread drives it:
 *
 *     mtu_search_init(&s, &params);
 *     while ((n = mtu_search_next_round(&s, sizes, cap)) > 0) {
 *         send one DF echo of each sizes[i] (a size may appear several
 *         times: every entry is a separate probe);
 *         for each reply:     mtu_search_result(&s, size, 1);
 *         (optional) for each probe known lost: mtu_search_result(&s, size, 0);
 *         on EMSGSIZE:        mtu_search_local_limit(&s, local_mtu);
 *         on frag-needed:     mtu_search_hint(&s, reported_mtu);
 *         after the round timeout: mtu_search_end_round(&s);
 *     }
 *     mtu_search_state(&s) is then DONE, FAILED or INCOMPLETE.
 *
 * Probes not reported by the time of mtu_search_end_round() count as not
 * answered, so the prober only has to report replies.
 *
 * Model.  Sizes are IP packet sizes.  A reply at size x proves every size
 * <= x works (lo only rises).  A missing reply is only a hint: it may be
 * a lost probe.  Definitions:
 *   lo  largest size answered, min-1 if none yet;
 *   hi  smallest size > lo with at least one unanswered probe (a
 *       "suspected" failure), or the hard limit (max+1, or local
 *       limit+1) if there is none.  Failures at sizes <= lo are
 *       contradicted and discarded.
 * Answer (state DONE): the largest size S that was answered, with S+1
 * unanswered on at least 1+retries probes and never answered (or S = max,
 * or S = the authoritative local limit).  FAILED: no reply at all and
 * min unanswered on 1+retries probes (or a local limit below min).
 *
 * Rounds.  Round 1 holds max and the common plateaus inside [min, max]
 * (1500 1492 1480 1472 1460 1440 1420 1400 1380 1360 1280; at most 3/4
 * of the slots), then min if that does not cost worst-case rounds, then
 * probes spread evenly over the gaps that need the most rounds.  Later
 * rounds spread the probes inside (lo, hi) by an exact capacity plan:
 * for P probes per round and N = 1+retries confirmations, the planner
 * knows how many unknown sizes can be resolved *and confirmed* in k
 * rounds at 0% loss, picks the smallest k and places the probes so that
 * every outcome finishes within k rounds.  The confirmation probes ride
 * along: in the last round every remaining candidate for S+1 is sent N
 * times; in every round hi (the smallest failure, which may be a lost
 * probe) is re-probed up to its confirmation plus one extra copy, as
 * far as that does not cost a round.  When lo is a plateau, or a
 * frag-needed hint is pending, the round also bets on it (lo+1 sent N
 * times; hint sent once and hint+1 N times) if that does not cost a
 * round either.  Spare slots carry extra copies of the candidates for
 * S+1 (every copy must fail too).  A size is a confirmed failure only
 * after N unanswered probes and no reply; any reply above it discards it.
 *
 * Measured (tests/bench/mtu_sim.c, 576..1500, P=16, R=2): 0% loss mean
 * 3.39 rounds; 10% probe loss 99.9% exact, mean 3.6 rounds; 10% probe +
 * 10% reply loss 99.4% exact.  Worst case at 0% loss: R <= 1: 3 rounds
 * for every MTU; R = 2: 3 rounds for MTU >= 1280, 4 below (with the 11
 * plateaus in round 1 only 5 slots are left for 576..1279, and 2 more
 * rounds can resolve and confirm at most 84 unknowns per gap).
 *
 * Round cap: params.max_rounds (0 = automatic: 20, or more if the 0%-loss
 * plan for these parameters needs it).  When it is reached the search
 * stops with INCOMPLETE if anything ever answered (lo is then a proven
 * lower bound, but no answer is reported), or FAILED if nothing did.
 */
#ifndef IDT_MTU_SEARCH_H
#define IDT_MTU_SEARCH_H

#include <stdint.h>

#define MTU_SEARCH_MIN_SIZE     576u
#define MTU_SEARCH_MAX_SIZE     9216u
#define MTU_SEARCH_MAX_PROBES   64u
#define MTU_SEARCH_MAX_RETRIES  10u
#define MTU_SEARCH_DEFAULT_MAX_ROUNDS 20u
#define MTU_SEARCH_PLAN_ROUNDS  64u     /* internal capacity table depth */

struct mtu_search_params {
    uint32_t min, max;      /* 576..9216, min <= max */
    uint32_t probes;        /* P, probes per round, 1..64 */
    uint32_t retries;       /* R, 0..10: S+1 must fail on 1+R probes */
    uint32_t max_rounds;    /* 0 = automatic (see above) */
};

enum mtu_search_state {
    MTU_SEARCH_RUNNING = 0,
    MTU_SEARCH_DONE,        /* exact answer confirmed */
    MTU_SEARCH_FAILED,      /* nothing answered, not even min */
    MTU_SEARCH_INCOMPLETE,  /* round cap reached; lo proven, no answer */
};

/* One round, for the interactive display. */
struct mtu_search_round {
    unsigned number;                        /* 1-based */
    unsigned count;                         /* probes in the round */
    uint32_t size[MTU_SEARCH_MAX_PROBES];   /* ascending */
    uint8_t answered[MTU_SEARCH_MAX_PROBES];/* 1 = reply seen */
    uint8_t reported[MTU_SEARCH_MAX_PROBES];/* internal */
    uint32_t lo, hi;                        /* range after the round */
};

/* Public so that callers can embed it (no allocation); treat the members
 * as private and use the accessors. */
struct mtu_search {
    struct mtu_search_params p;
    uint32_t n;                 /* confirmations needed: 1 + retries */
    uint32_t lo;                /* largest answered, min-1 if none */
    uint32_t hard_hi;           /* max+1 or local limit+1 (authoritative) */
    uint32_t hint;              /* pending frag-needed hint, 0 = none */
    uint32_t answer;
    enum mtu_search_state state;
    unsigned rounds, probes, max_rounds;
    int in_round;
    struct mtu_search_round cur;    /* round in flight / last finished */
    /* cap[k][f]: unknown sizes resolvable and confirmed in k rounds at
     * 0% loss when hi already has f unanswered probes. */
    int32_t cap[MTU_SEARCH_PLAN_ROUNDS + 1][MTU_SEARCH_MAX_RETRIES + 2];
    /* unanswered probes per size (index size - MTU_SEARCH_MIN_SIZE),
     * meaningful only above lo */
    uint8_t fails[MTU_SEARCH_MAX_SIZE - MTU_SEARCH_MIN_SIZE + 1];
};

/* Returns 0, or -1 if the parameters are out of range (the search is
 * then FAILED and next_round returns 0). */
int mtu_search_init(struct mtu_search *s, const struct mtu_search_params *p);

/* Plan the next round into sizes[] (at most min(cap, P) entries, sorted
 * ascending, a size may repeat).  Returns the count; 0 when the search
 * is over.  If the previous round was not ended, it is ended first. */
unsigned mtu_search_next_round(struct mtu_search *s, uint32_t *sizes,
                               unsigned cap);

/* Outcome of one probe of the current round.  answered = 1 for a reply.
 * Returns 0, or -1 if no unreported probe of that size is in the round
 * (late or duplicate report: ignored). */
int mtu_search_result(struct mtu_search *s, uint32_t size, int answered);

/* Close the round: unreported probes count as not answered; updates
 * the state. */
void mtu_search_end_round(struct mtu_search *s);

/* ICMP frag-needed reported MTU `limit`: a hint only.  The search aims
 * at it (probes limit once and limit+1 1+R times) but it must be
 * confirmed like any other answer. */
void mtu_search_hint(struct mtu_search *s, uint32_t limit);

/* EMSGSIZE: the local interface cannot send more than `limit` bytes.
 * Authoritative: larger sizes are never sent and count as failed.  If
 * limit < min the search is FAILED; if a reply was already seen above
 * it, lo becomes limit (proven by that reply). */
void mtu_search_local_limit(struct mtu_search *s, uint32_t limit);

enum mtu_search_state mtu_search_state(const struct mtu_search *s);
uint32_t mtu_search_answer(const struct mtu_search *s);  /* 0 unless DONE */
void mtu_search_range(const struct mtu_search *s, uint32_t *lo, uint32_t *hi);
unsigned mtu_search_rounds(const struct mtu_search *s);
unsigned mtu_search_probes_sent(const struct mtu_search *s);
/* Last finished (or in-flight) round; NULL before the first round. */
const struct mtu_search_round *mtu_search_last_round(const struct mtu_search *s);
const char *mtu_search_state_name(enum mtu_search_state st);

#endif

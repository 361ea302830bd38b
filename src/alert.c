/* alert.c - per-tunnel inbound-loss alert policy and capture-drop policy.
 * See alert.h for the exact semantics. */
#include "alert.h"

#include <string.h>

#define US_PER_S 1000000u
#define PPM_ONE 1000000u
#define N ALERT_NBUCKETS

static struct alert_params normalise(const struct alert_params *in)
{
    struct alert_params p = *in;
    if (p.interval_s == 0)
        p.interval_s = ALERT_DEFAULT_INTERVAL;
    if (p.interval_s > ALERT_MAX_INTERVAL)
        p.interval_s = ALERT_MAX_INTERVAL;
    if (p.ppm > ALERT_MAX_PPM)
        p.ppm = ALERT_MAX_PPM;
    p.enabled = p.enabled ? 1 : 0;
    return p;
}

static uint64_t interval_us(const struct alert_state *s)
{
    return (uint64_t)s->p.interval_s * US_PER_S;
}

static uint32_t sat_add32(uint32_t *dst, uint32_t v)
{
    uint32_t room = UINT32_MAX - *dst;
    if (v > room)
        v = room;
    *dst += v;
    return v;
}

static int condition(const struct alert_params *p, uint64_t lost, uint64_t received);

/* Re-evaluate the condition after the window changed at time t and
 * remember when it last went from true to false. */
static void track(struct alert_state *s, uint64_t t)
{
    int c = condition(&s->p, s->sum_lost, s->sum_received);
    if (s->cond && !c)
        s->false_since_us = t;
    s->cond = c;
}

/* Move the state to now (clamped to be monotonic); returns the clamped now.
 * Each bucket leaving the window is removed at its boundary time
 * (cur + i) * w, so the moment the condition goes false is exact and does
 * not depend on how often the caller evaluates.  At most 64 steps. */
static uint64_t advance(struct alert_state *s, uint64_t now)
{
    if (now <= s->now_us)
        return s->now_us;
    s->now_us = now;
    if (now < (s->cur + 1) * s->width_us)
        return now;             /* same bucket: no division on the per-packet path */
    uint64_t k = now / s->width_us;
    if (k <= s->cur)
        return now;
    uint64_t d = k - s->cur;
    if (d > N)
        d = N;                  /* after 64 steps every slot is empty */
    for (uint64_t i = 1; i <= d; i++) {
        struct alert_bucket *b = &s->ring[(s->cur + i) % N];
        if (b->lost == 0 && b->received == 0)
            continue;
        s->sum_lost -= b->lost;
        s->sum_received -= b->received;
        b->lost = 0;
        b->received = 0;
        track(s, (s->cur + i) * s->width_us);
    }
    s->cur = k;
    return now;
}

/* Window sums as of now, without changing the state. */
static void window_sums(const struct alert_state *s, uint64_t now,
                        uint64_t *lost, uint64_t *received)
{
    uint64_t l = s->sum_lost, r = s->sum_received;
    if (now > s->now_us) {
        uint64_t k = now / s->width_us;
        if (k > s->cur) {
            uint64_t d = k - s->cur;
            if (d >= N) {
                l = 0;
                r = 0;
            } else {
                for (uint64_t i = 1; i <= d; i++) {
                    const struct alert_bucket *b = &s->ring[(s->cur + i) % N];
                    l -= b->lost;
                    r -= b->received;
                }
            }
        }
    }
    *lost = l;
    *received = r;
}

/* The criteria that hold (ALERT_CRIT_* bits; 0: C is false). */
static int condition(const struct alert_params *p, uint64_t lost, uint64_t received)
{
    int c = 0;
    if (p->lost > 0 && lost >= p->lost)
        c |= ALERT_CRIT_LOST;
    /* lost <= 64 * 2^32 and ppm <= 10^6: both products stay below 2^60 */
    if (p->ppm > 0 && lost > 0 && lost + received >= p->min_pkts &&
        lost * PPM_ONE >= (uint64_t)p->ppm * (lost + received))
        c |= ALERT_CRIT_PPM;
    return c;
}

static uint32_t rate_ppm(uint64_t lost, uint64_t received)
{
    uint64_t total = lost + received;
    if (total == 0)
        return 0;
    return (uint32_t)(lost * PPM_ONE / total);
}

static void fill(const struct alert_state *s, uint64_t now, uint64_t lost,
                 uint64_t received, struct alert_figures *out)
{
    if (!out)
        return;
    out->now_us = now;
    out->lost = lost;
    out->received = received;
    out->rate_ppm = rate_ppm(lost, received);
    out->interval_s = s->p.interval_s;
    out->alarm = s->alarm;
    out->alarm_start_us = s->alarm_start_us;
    out->criterion = s->criterion;
    out->reminders = s->reminders;
}

/* First reminder moment strictly after now on the grid start + n*R. */
static uint64_t next_reminder(const struct alert_state *s, uint64_t now)
{
    if (s->p.repeat_s == 0)
        return 0;
    uint64_t r = (uint64_t)s->p.repeat_s * US_PER_S;
    uint64_t start = s->alarm_start_us;
    uint64_t n = now >= start ? (now - start) / r + 1 : 1;
    return start + n * r;
}

void alert_params_default(struct alert_params *p)
{
    p->lost = ALERT_DEFAULT_LOST;
    p->interval_s = ALERT_DEFAULT_INTERVAL;
    p->ppm = 0;
    p->repeat_s = 0;
    p->min_pkts = ALERT_DEFAULT_MIN_PKTS;
    p->enabled = 1;
}

void alert_init(struct alert_state *s, const struct alert_params *p, uint64_t now_us)
{
    memset(s, 0, sizeof *s);
    s->p = normalise(p);
    s->width_us = (uint64_t)s->p.interval_s * ALERT_BUCKET_US_PER_S;
    s->now_us = now_us;
    s->cur = now_us / s->width_us;
}

static void rebucket(struct alert_state *s, uint32_t new_interval_s)
{
    struct alert_bucket old[N];
    uint64_t old_cur = s->cur, old_w = s->width_us, now = s->now_us;
    uint64_t new_w = (uint64_t)new_interval_s * ALERT_BUCKET_US_PER_S;
    uint64_t new_cur = now / new_w;

    memcpy(old, s->ring, sizeof old);
    memset(s->ring, 0, sizeof s->ring);
    s->sum_lost = 0;
    s->sum_received = 0;
    s->width_us = new_w;
    s->cur = new_cur;

    uint64_t first = old_cur >= N - 1 ? old_cur - (N - 1) : 0;
    for (uint64_t kk = first; kk <= old_cur; kk++) {
        const struct alert_bucket *ob = &old[kk % N];
        if (ob->lost == 0 && ob->received == 0)
            continue;
        uint64_t end = (kk + 1) * old_w - 1;
        if (end > now)
            end = now;
        uint64_t nk = end / new_w;
        if (nk + N <= new_cur)
            continue;                           /* older than the new window */
        struct alert_bucket *nb = &s->ring[nk % N];
        s->sum_lost += sat_add32(&nb->lost, ob->lost);
        s->sum_received += sat_add32(&nb->received, ob->received);
    }
}

void alert_set_params(struct alert_state *s, const struct alert_params *p, uint64_t now_us)
{
    struct alert_params np = normalise(p);
    advance(s, now_us);
    if (np.interval_s != s->p.interval_s)
        rebucket(s, np.interval_s);
    uint32_t old_repeat = s->p.repeat_s;
    s->p = np;
    if (!np.enabled)
        s->alarm = 0;
    if (s->alarm && np.repeat_s != old_repeat)
        s->next_reminder_us = next_reminder(s, s->now_us);
    track(s, s->now_us);
}

void alert_add(struct alert_state *s, uint64_t now_us, uint32_t received, uint32_t lost)
{
    advance(s, now_us);
    struct alert_bucket *b = &s->ring[s->cur % N];
    s->sum_lost += sat_add32(&b->lost, lost);
    s->sum_received += sat_add32(&b->received, received);
    /* receptions alone make a false condition true only through the ppm
     * criterion's minimum sample, which needs loss in the window */
    if (lost || s->cond || s->sum_lost)
        track(s, s->now_us);
}

enum alert_event alert_eval(struct alert_state *s, uint64_t now_us, struct alert_figures *out)
{
    uint64_t now = advance(s, now_us);
    enum alert_event ev = ALERT_NONE;
    int c = s->cond;

    if (!s->p.enabled) {
        s->alarm = 0;
    } else if (!s->alarm) {
        if (c) {
            s->alarm = 1;
            s->alarm_start_us = now;
            s->next_reminder_us = next_reminder(s, now);
            s->criterion = (uint32_t)c;
            s->reminders = 0;
            ev = ALERT_EXCEEDED;
        }
    } else {
        if (!c && now - s->false_since_us >= interval_us(s)) {
            s->alarm = 0;
            ev = ALERT_CLEARED;
        }
        if (s->alarm && s->p.repeat_s > 0 && now >= s->next_reminder_us) {
            s->next_reminder_us = next_reminder(s, now);
            s->reminders++;
            ev = ALERT_REMINDER;
        }
    }
    fill(s, now, s->sum_lost, s->sum_received, out);
    return ev;
}

int alert_pending(const struct alert_state *s)
{
    return s->alarm || s->sum_lost > 0;
}

void alert_figures(const struct alert_state *s, uint64_t now_us, struct alert_figures *out)
{
    uint64_t l, r;
    window_sums(s, now_us, &l, &r);
    fill(s, now_us > s->now_us ? now_us : s->now_us, l, r, out);
}

/* ------------------------------------------------------------ capture drops */

static struct drop_params drop_normalise(const struct drop_params *in)
{
    struct drop_params p = *in;
    if (p.quiet_s == 0)
        p.quiet_s = DROP_DEFAULT_QUIET;
    return p;
}

void drop_params_default(struct drop_params *p)
{
    p->repeat_s = DROP_DEFAULT_REPEAT;
    p->quiet_s = DROP_DEFAULT_QUIET;
}

void drop_init(struct drop_state *s, const struct drop_params *p,
               uint64_t now_us, uint64_t initial_count)
{
    memset(s, 0, sizeof *s);
    s->p = drop_normalise(p);
    s->now_us = now_us;
    s->last_count = initial_count;
    s->event_count = initial_count;
}

void drop_set_params(struct drop_state *s, const struct drop_params *p)
{
    s->p = drop_normalise(p);
}

static void drop_fill(const struct drop_state *s, uint64_t event_count,
                      struct drop_figures *out)
{
    if (!out)
        return;
    out->total = s->last_count;
    out->delta = s->last_count - event_count;
    out->dropping = s->dropping;
}

enum drop_event drop_update(struct drop_state *s, uint64_t now_us,
                            uint64_t cumulative, struct drop_figures *out)
{
    enum drop_event ev = DROP_NONE;
    if (now_us > s->now_us)
        s->now_us = now_us;
    uint64_t now = s->now_us;

    if (cumulative < s->last_count) {           /* counter reset */
        s->last_count = cumulative;
        s->event_count = cumulative;
        drop_fill(s, s->event_count, out);
        return DROP_NONE;
    }
    int rising = cumulative > s->last_count;
    s->last_count = cumulative;
    uint64_t prev_event_count = s->event_count;

    if (rising) {
        s->last_rise_us = now;
        if (!s->dropping) {
            s->dropping = 1;
            ev = DROP_DROPPING;
        } else if (s->p.repeat_s > 0 &&
                   now - s->last_emit_us >= (uint64_t)s->p.repeat_s * US_PER_S) {
            ev = DROP_DROPPING;
        }
        if (ev == DROP_DROPPING)
            s->last_emit_us = now;
    } else if (s->dropping &&
               now - s->last_rise_us >= (uint64_t)s->p.quiet_s * US_PER_S) {
        s->dropping = 0;
        ev = DROP_STOPPED;
    }
    if (ev != DROP_NONE)
        s->event_count = cumulative;
    drop_fill(s, ev != DROP_NONE ? prev_event_count : s->event_count, out);
    return ev;
}

void drop_figures(const struct drop_state *s, struct drop_figures *out)
{
    drop_fill(s, s->event_count, out);
}

const char *drop_event_name(enum drop_event e)
{
    switch (e) {
    case DROP_NONE: return "none";
    case DROP_DROPPING: return "dropping";
    case DROP_STOPPED: return "stopped";
    }
    return "?";
}

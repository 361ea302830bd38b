/* clock.h - the two clocks of the program.
 *
 * Everything that measures time inside the daemon (ticks, SA expiry,
 * alert buckets, snapshot publishing, MTU timeouts) uses CLOCK_MONOTONIC,
 * so wall-clock steps (NTP, an operator's `date`) change nothing.  The wall
 * clock is read only for what a person reads: log and event-log lines,
 * report times.  Offline analysis uses the packets' own timestamps. */
#ifndef IDT_CLOCK_H
#define IDT_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in microseconds. */
static inline uint64_t idt_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

/* CLOCK_MONOTONIC in nanoseconds. */
static inline uint64_t idt_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* A poll() timeout: milliseconds, rounded up, from now_ns until until_ns
 * (both CLOCK_MONOTONIC nanoseconds); 0 once until_ns has passed; at most
 * max_ms. */
static inline int idt_poll_ms(uint64_t now_ns, uint64_t until_ns, int max_ms)
{
    if (until_ns <= now_ns)
        return 0;
    uint64_t ms = (until_ns - now_ns + 999999u) / 1000000u;
    return ms > (uint64_t)max_ms ? max_ms : (int)ms;
}

/* CLOCK_REALTIME (wall clock) in microseconds since the epoch. */
static inline uint64_t idt_real_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000ULL + (uint64_t)ts.tv_nsec / 1000ULL;
}

/* The wall-clock time of a past CLOCK_MONOTONIC instant, as the wall clock
 * reads now (for printing only). */
static inline uint64_t idt_mono_to_real(uint64_t mono_us)
{
    uint64_t now = idt_mono_us(), real = idt_real_us();
    uint64_t ago = now > mono_us ? now - mono_us : 0;
    return real > ago ? real - ago : 0;
}

#endif

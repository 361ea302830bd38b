/* report.c - text and JSON reports of an engine's state. */
#include "report.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void report_iso8601(uint64_t time_us, char *buf, size_t len)
{
    struct tm tm;
    time_t t = (time_t)(time_us / 1000000ULL);
    if ((uint64_t)t != time_us / 1000000ULL || !gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999) {
        snprintf(buf, len, "-");
        return;
    }
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%06uZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(time_us % 1000000ULL));
}

const char *alert_event_name(enum alert_event ev)
{
    switch (ev) {
    case ALERT_EXCEEDED: return "exceeded";
    case ALERT_CLEARED: return "cleared";
    case ALERT_REMINDER: return "reminder";
    default: return "none";
    }
}

const char *alert_criterion_name(uint32_t criterion)
{
    switch (criterion & (ALERT_CRIT_LOST | ALERT_CRIT_PPM)) {
    case ALERT_CRIT_LOST: return "lost";
    case ALERT_CRIT_PPM: return "ppm";
    case ALERT_CRIT_LOST | ALERT_CRIT_PPM: return "lost+ppm";
    default: return "none";
    }
}

const char *tunnel_state_name(uint8_t state)
{
    switch (state) {
    case TUNNEL_ACTIVE: return "active";
    case TUNNEL_IDLE: return "idle";
    default: return "neverSeen";
    }
}

struct sa_row {
    const struct sa_entry *sa;
    const struct tunnel *tu;
};

static void key_addr(const struct sa_entry *sa, int dst, struct idt_addr *out)
{
    out->family = sa->key.family;
    memcpy(out->a, dst ? sa->key.dst : sa->key.src, 16);
}

static int cmp_sa_row(const void *pa, const void *pb)
{
    const struct sa_row *a = pa, *b = pb;
    if (a->tu->index != b->tu->index)
        return a->tu->index < b->tu->index ? -1 : 1;
    if (a->sa->direction != b->sa->direction)
        return a->sa->direction < b->sa->direction ? -1 : 1;
    if (a->sa->key.spi != b->sa->key.spi)
        return a->sa->key.spi < b->sa->key.spi ? -1 : 1;
    struct idt_addr x, y;
    key_addr(a->sa, 0, &x);
    key_addr(b->sa, 0, &y);
    int c = idt_addr_cmp(&x, &y);
    if (c)
        return c;
    key_addr(a->sa, 1, &x);
    key_addr(b->sa, 1, &y);
    return idt_addr_cmp(&x, &y);
}

static int cmp_tunnel(const void *pa, const void *pb)
{
    const struct tunnel *a = *(const struct tunnel *const *)pa, *b = *(const struct tunnel *const *)pb;
    return a->index < b->index ? -1 : a->index > b->index;
}

static struct sa_row *sorted_sas(struct engine *e, size_t *n)
{
    size_t cap = sa_table_count(e->sas), k = 0;
    struct sa_row *rows = calloc(cap ? cap : 1, sizeof *rows);
    if (!rows) {
        *n = 0;
        return NULL;
    }
    uint32_t cur = 0;
    const struct sa_entry *sa;
    while ((sa = sa_table_next(e->sas, &cur)) != NULL && k < cap) {
        const struct tunnel *tu = tunnel_table_at(e->tunnels, sa->tunnel);
        if (!tu)
            continue;
        rows[k].sa = sa;
        rows[k].tu = tu;
        k++;
    }
    qsort(rows, k, sizeof *rows, cmp_sa_row);
    *n = k;
    return rows;
}

static const struct tunnel **sorted_tunnels(struct engine *e, size_t *n)
{
    uint32_t slots = tunnel_table_slots(e->tunnels);
    const struct tunnel **t = calloc(slots ? slots : 1, sizeof *t);
    size_t k = 0;
    if (!t) {
        *n = 0;
        return NULL;
    }
    for (uint32_t s = 0; s < slots; s++) {
        const struct tunnel *tu = tunnel_table_at(e->tunnels, s);
        if (tu)
            t[k++] = tu;
    }
    qsort(t, k, sizeof *t, cmp_tunnel);
    *n = k;
    return t;
}

static void json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void json_counts(FILE *out, const struct loss_counts *c)
{
    fprintf(out, "\"received\": %llu, \"lost\": %llu, \"late\": %llu, \"duplicates\": %llu, "
            "\"reordered\": %llu, \"suspect\": %llu, \"octets\": %llu",
            (unsigned long long)c->received, (unsigned long long)c->lost,
            (unsigned long long)c->late, (unsigned long long)c->duplicate,
            (unsigned long long)c->reordered, (unsigned long long)c->suspect,
            (unsigned long long)c->octets);
}

/* A time in seconds with microseconds, or null for 0 (never). */
static void json_time(FILE *out, uint64_t us)
{
    if (!us)
        fputs("null", out);
    else
        fprintf(out, "%llu.%06llu", (unsigned long long)(us / 1000000ULL),
                (unsigned long long)(us % 1000000ULL));
}

void report_json(FILE *out, struct engine *e, const struct report_alert *alerts, size_t nalerts)
{
    char a1[INET6_ADDRSTRLEN], a2[INET6_ADDRSTRLEN];
    size_t nsa, ntu;
    struct sa_row *rows = sorted_sas(e, &nsa);
    const struct tunnel **tus = sorted_tunnels(e, &ntu);

    fputs("{\"sas\": [", out);
    for (size_t i = 0; i < nsa; i++) {
        const struct sa_entry *sa = rows[i].sa;
        struct idt_addr s, d;
        key_addr(sa, 0, &s);
        key_addr(sa, 1, &d);
        fprintf(out, "%s\n  {\"src\": \"%s\", \"dst\": \"%s\", \"spi\": \"0x%08x\", \"encap\": \"%s\", "
                "\"tunnel\": ", i ? "," : "", idt_addr_str(&s, a1, sizeof a1),
                idt_addr_str(&d, a2, sizeof a2), sa->key.spi,
                sa->encap == ESP_ENCAP_UDP ? "udp" : "esp");
        json_str(out, rows[i].tu->name);
        struct loss_counts c = { sa->rw.received, sa->rw.lost, sa->rw.late, sa->rw.duplicate,
                                 sa->rw.reordered, sa->rw.suspect, sa->octets };
        fprintf(out, ", \"direction\": \"%s\", ", sa->direction == SA_INBOUND ? "inbound" : "outbound");
        json_counts(out, &c);
        fprintf(out, ", \"highest_seq\": %llu, \"tentative\": %s}", (unsigned long long)sa->rw.high,
                sa->flags & SA_F_TENTATIVE ? "true" : "false");
    }
    fputs("],\n \"tunnels\": [", out);
    for (size_t i = 0; i < ntu; i++) {
        const struct tunnel *tu = tus[i];
        fprintf(out, "%s\n  {\"name\": ", i ? "," : "");
        json_str(out, tu->name);
        fprintf(out, ", \"index\": %u, \"origin\": \"%s\", \"local\": \"%s\", \"remote\": \"%s\", "
                "\"sas\": %u, ", tu->index,
                tu->origin == TUNNEL_CONFIGURED ? "configured" : "discovered",
                idt_addr_str(&tu->local, a1, sizeof a1), idt_addr_str(&tu->remote, a2, sizeof a2),
                tu->sas_seen);
        json_counts(out, &tu->in);
        fputs(", \"outbound\": {", out);
        json_counts(out, &tu->out);
        fprintf(out, "}, \"tentative_sas\": %u, \"evicted_sas\": %llu, \"refused_pkts\": %llu, "
                "\"state\": \"%s\", \"last_seen\": ",
                tu->tentative_sas, (unsigned long long)tu->evicted_sas,
                (unsigned long long)tu->refused_pkts, tunnel_state_name(tu->state));
        json_time(out, tu->last_seen_us);
        fputs(", \"newest_sa_first_seen\": ", out);
        json_time(out, tu->newest_sa_us);
        fprintf(out, ", \"lost_while_dropping\": %llu}", (unsigned long long)tu->lost_while_dropping);
    }
    fprintf(out, "],\n \"capture\": {\"packets\": %llu, \"esp\": %llu, \"ignored\": %llu, "
            "\"malformed\": %llu, \"untracked\": %llu, \"pcap_drops\": %llu},\n \"alerts\": [",
            (unsigned long long)e->st.packets, (unsigned long long)e->st.esp,
            (unsigned long long)e->st.ignored, (unsigned long long)e->st.malformed,
            (unsigned long long)(e->st.untracked_sas + e->st.untracked_tunnels),
            (unsigned long long)e->st.pcap_drops);
    for (size_t i = 0; i < nalerts; i++) {
        const struct report_alert *a = &alerts[i];
        fprintf(out, "%s\n  {\"time\": %llu.%06llu, \"tunnel\": ", i ? "," : "",
                (unsigned long long)(a->time_us / 1000000ULL),
                (unsigned long long)(a->time_us % 1000000ULL));
        json_str(out, a->tunnel);
        char iso[40];
        report_iso8601(a->time_us, iso, sizeof iso);
        fprintf(out, ", \"event\": \"%s\", \"lost\": %llu, \"interval\": %u, \"rate_ppm\": %u, "
                "\"received\": %llu, \"criterion\": \"%s\", \"threshold_lost\": %u, "
                "\"threshold_ppm\": %u, \"reminder\": %u, \"time_iso\": \"%s\"}",
                alert_event_name(a->event), (unsigned long long)a->lost, a->interval_s, a->rate_ppm,
                (unsigned long long)a->received, alert_criterion_name(a->criterion),
                a->threshold_lost, a->threshold_ppm, a->reminders, iso);
    }
    fprintf(out, "],\n \"sa_table\": {\"max_sas\": %u, \"reserved\": %u, \"active\": %u, "
            "\"tentative\": %u, \"evicted\": %llu, \"refused_pkts\": %llu}}\n",
            sa_table_capacity(e->sas), sa_table_reserve(e->sas), sa_table_count(e->sas),
            sa_table_tentative_count(e->sas), (unsigned long long)e->st.sas_evicted,
            (unsigned long long)e->st.untracked_sas);
    free(rows);
    free(tus);
}

void report_text(FILE *out, struct engine *e, const struct report_alert *alerts, size_t nalerts)
{
    char a1[INET6_ADDRSTRLEN], a2[INET6_ADDRSTRLEN];
    size_t nsa, ntu;
    struct sa_row *rows = sorted_sas(e, &nsa);
    const struct tunnel **tus = sorted_tunnels(e, &ntu);

    fprintf(out, "Capture: %llu frames, %llu ESP, %llu ignored, %llu malformed, %llu untracked, "
            "%llu dropped by the capture\n\n",
            (unsigned long long)e->st.packets, (unsigned long long)e->st.esp,
            (unsigned long long)e->st.ignored, (unsigned long long)e->st.malformed,
            (unsigned long long)(e->st.untracked_sas + e->st.untracked_tunnels),
            (unsigned long long)e->st.pcap_drops);
    fprintf(out, "SA table: %u of %u slots used (%u reserved for configured tunnels), %u tentative, "
            "%llu evicted, %llu packets of new SAs refused\n\n",
            sa_table_count(e->sas), sa_table_capacity(e->sas), sa_table_reserve(e->sas),
            sa_table_tentative_count(e->sas), (unsigned long long)e->st.sas_evicted,
            (unsigned long long)e->st.untracked_sas);
    fprintf(out, "Tunnels (in: remote -> local, out: local -> remote)\n"
            "%6s  %-32s %-11s %-9s %5s %-3s %12s %14s %10s %8s %8s %9s %8s\n",
            "INDEX", "NAME", "ORIGIN", "STATE", "SAS", "DIR", "RECEIVED", "OCTETS", "LOST", "LATE",
            "DUPS", "REORDERED", "SUSPECT");
    for (size_t i = 0; i < ntu; i++) {
        const struct tunnel *tu = tus[i];
        for (int d = 0; d < 2; d++) {
            const struct loss_counts *c = d ? &tu->out : &tu->in;
            fprintf(out, "%6u  %-32s %-11s %-9s %5u %-3s %12llu %14llu %10llu %8llu %8llu %9llu %8llu\n",
                    tu->index, tu->name,
                    tu->origin == TUNNEL_CONFIGURED ? "configured" : "discovered",
                    tunnel_state_name(tu->state), tu->sas_seen, d ? "out" : "in",
                    (unsigned long long)c->received, (unsigned long long)c->octets,
                    (unsigned long long)c->lost, (unsigned long long)c->late,
                    (unsigned long long)c->duplicate, (unsigned long long)c->reordered,
                    (unsigned long long)c->suspect);
        }
    }
    fprintf(out, "\nSecurity associations\n%-24s %-24s %-10s %-5s %-8s %10s %12s %8s %6s %6s %6s %7s %14s\n",
            "SRC", "DST", "SPI", "ENCAP", "DIR", "RECEIVED", "OCTETS", "LOST", "LATE", "DUPS",
            "REORD", "SUSPECT", "HIGHEST_SEQ");
    for (size_t i = 0; i < nsa; i++) {
        const struct sa_entry *sa = rows[i].sa;
        struct idt_addr s, d;
        key_addr(sa, 0, &s);
        key_addr(sa, 1, &d);
        fprintf(out, "%-24s %-24s 0x%08x %-5s %-8s %10llu %12llu %8llu %6llu %6llu %6llu %7llu %14llu\n",
                idt_addr_str(&s, a1, sizeof a1), idt_addr_str(&d, a2, sizeof a2), sa->key.spi,
                sa->encap == ESP_ENCAP_UDP ? "udp" : "esp",
                sa->direction == SA_INBOUND ? "inbound" : "outbound",
                (unsigned long long)sa->rw.received, (unsigned long long)sa->octets,
                (unsigned long long)sa->rw.lost,
                (unsigned long long)sa->rw.late, (unsigned long long)sa->rw.duplicate,
                (unsigned long long)sa->rw.reordered, (unsigned long long)sa->rw.suspect,
                (unsigned long long)sa->rw.high);
    }
    if (nalerts) {
        fputs("\nAlerts (time in Unix seconds, then in UTC)\n", out);
        for (size_t i = 0; i < nalerts; i++) {
            const struct report_alert *a = &alerts[i];
            char iso[40];
            report_iso8601(a->time_us, iso, sizeof iso);
            fprintf(out, "%llu.%06llu  %s  %-8s tunnel %s: lost=%llu received=%llu interval=%us "
                    "rate_ppm=%u criterion=%s threshold_lost=%u threshold_ppm=%u reminder=%u\n",
                    (unsigned long long)(a->time_us / 1000000ULL),
                    (unsigned long long)(a->time_us % 1000000ULL), iso, alert_event_name(a->event),
                    a->tunnel, (unsigned long long)a->lost, (unsigned long long)a->received,
                    a->interval_s, a->rate_ppm, alert_criterion_name(a->criterion),
                    a->threshold_lost, a->threshold_ppm, a->reminders);
        }
    }
    free(rows);
    free(tus);
}

void report_live(FILE *out, struct engine *e)
{
    size_t ntu;
    const struct tunnel **tus = sorted_tunnels(e, &ntu);
    fprintf(out, "%6s  %-32s %-9s %5s %12s %10s %8s %12s %10s %8s %9s\n", "INDEX", "NAME", "STATE",
            "SAS", "IN_PKTS", "IN_LOST", "IN_LATE", "OUT_PKTS", "OUT_LOST", "OUT_LATE", "ALARM");
    for (size_t i = 0; i < ntu; i++) {
        const struct tunnel *tu = tus[i];
        struct alert_figures f;
        alert_figures(&tu->alert, e->now_us, &f);
        fprintf(out, "%6u  %-32s %-9s %5u %12llu %10llu %8llu %12llu %10llu %8llu %9s\n", tu->index,
                tu->name, tunnel_state_name(tu->state), tu->active_sas,
                (unsigned long long)tu->in.received, (unsigned long long)tu->in.lost,
                (unsigned long long)tu->in.late, (unsigned long long)tu->out.received,
                (unsigned long long)tu->out.lost, (unsigned long long)tu->out.late,
                f.alarm ? "ALARM" : "normal");
    }
    fprintf(out, "frames=%llu esp=%llu ignored=%llu malformed=%llu capture_drops=%llu\n",
            (unsigned long long)e->st.packets, (unsigned long long)e->st.esp,
            (unsigned long long)e->st.ignored, (unsigned long long)e->st.malformed,
            (unsigned long long)e->st.pcap_drops);
    free(tus);
}

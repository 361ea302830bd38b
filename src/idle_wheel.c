/* idle_wheel.c - timing wheel of the tunnels that may go idle (idle_wheel.h). */
#include "idle_wheel.h"

#define MASK (IDLE_WHEEL_SLOTS - 1u)

void idle_wheel_init(struct idle_wheel *w, uint64_t now_s)
{
    for (uint32_t i = 0; i < IDLE_WHEEL_SLOTS; i++)
        w->head[i] = IDLE_WHEEL_NONE;
    w->next_s = now_s;
    w->len = 0;
}

void idle_wheel_add(struct idle_wheel *w, struct tunnel_table *t, struct tunnel *tu,
                    uint64_t due_s)
{
    if (tu->idle_queued)
        return;
    if (due_s < w->next_s)
        due_s = w->next_s;
    else if (due_s - w->next_s > IDLE_WHEEL_SLOTS - 1u)
        due_s = w->next_s + IDLE_WHEEL_SLOTS - 1u;
    uint32_t b = (uint32_t)(due_s & MASK);
    uint32_t s = tunnel_table_slot(t, tu);
    tu->idle_queued = 1;
    tu->idle_bucket = (uint16_t)b;
    tu->idle_prev = IDLE_WHEEL_NONE;
    tu->idle_next = w->head[b];
    if (w->head[b] != IDLE_WHEEL_NONE)
        tunnel_table_at(t, w->head[b])->idle_prev = s;
    w->head[b] = s;
    w->len++;
}

void idle_wheel_del(struct idle_wheel *w, struct tunnel_table *t, struct tunnel *tu)
{
    if (!tu->idle_queued)
        return;
    if (tu->idle_prev != IDLE_WHEEL_NONE)
        tunnel_table_at(t, tu->idle_prev)->idle_next = tu->idle_next;
    else
        w->head[tu->idle_bucket] = tu->idle_next;
    if (tu->idle_next != IDLE_WHEEL_NONE)
        tunnel_table_at(t, tu->idle_next)->idle_prev = tu->idle_prev;
    tu->idle_queued = 0;
    w->len--;
}

struct tunnel *idle_wheel_pop(struct idle_wheel *w, struct tunnel_table *t, uint64_t now_s)
{
    if (!w->len) {
        if (now_s >= w->next_s)
            w->next_s = now_s + 1u;
        return NULL;
    }
    if (now_s >= w->next_s && now_s - w->next_s >= IDLE_WHEEL_SLOTS)
        w->next_s = now_s - IDLE_WHEEL_SLOTS + 1u;
    while (w->next_s <= now_s) {
        uint32_t s = w->head[w->next_s & MASK];
        if (s != IDLE_WHEEL_NONE) {
            struct tunnel *tu = tunnel_table_at(t, s);
            idle_wheel_del(w, t, tu);
            return tu;
        }
        w->next_s++;
    }
    return NULL;
}

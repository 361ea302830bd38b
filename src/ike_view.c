/* ike_view.c - the immutable IKE view: allocation, reference counting and
 * lookup (ike_view.h).  The counter is atomic: a view is built by the VICI
 * client thread and released by the capture thread. */
#include "ike_view.h"

#include <stdlib.h>
#include <string.h>

struct ike_view *ike_view_new(size_t nsa, size_t nchild, size_t nevent)
{
    struct ike_view *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->sa = nsa ? calloc(nsa, sizeof *v->sa) : NULL;
    v->child = nchild ? calloc(nchild, sizeof *v->child) : NULL;
    v->event = nevent ? calloc(nevent, sizeof *v->event) : NULL;
    if ((nsa && !v->sa) || (nchild && !v->child) || (nevent && !v->event)) {
        free(v->sa);
        free(v->child);
        free(v->event);
        free(v);
        return NULL;
    }
    v->nsa = nsa;
    v->nchild = nchild;
    v->nevent = nevent;
    v->refs = 1;
    return v;
}

void ike_view_ref(struct ike_view *v)
{
    if (v)
        __atomic_add_fetch(&v->refs, 1, __ATOMIC_RELAXED);
}

void ike_view_unref(struct ike_view *v)
{
    if (!v || __atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    free(v->sa);
    free(v->child);
    free(v->event);
    free(v);
}

const struct ike_child *ike_view_find_spi_in(const struct ike_view *v, uint32_t spi,
                                             const struct ike_sa **owner)
{
    if (owner)
        *owner = NULL;
    if (!v || spi == 0)
        return NULL;
    for (size_t i = 0; i < v->nsa; i++) {
        const struct ike_sa *s = &v->sa[i];
        for (size_t k = s->first_child; k < s->first_child + s->nchild && k < v->nchild; k++)
            if (v->child[k].spi_in == spi) {
                if (owner)
                    *owner = s;
                return &v->child[k];
            }
    }
    return NULL;
}

struct ike_view *ike_view_merge_events(const struct ike_view *older,
                                       const struct ike_view *newer)
{
    size_t nold = older->nevent, total = nold + newer->nevent, skip = 0;
    if (total > IKE_VIEW_MAX_EVENTS) {
        skip = total - IKE_VIEW_MAX_EVENTS;
        total = IKE_VIEW_MAX_EVENTS;
    }
    struct ike_view *v = ike_view_new(newer->nsa, newer->nchild, total);
    if (!v)
        return NULL;
    if (newer->nsa)
        memcpy(v->sa, newer->sa, newer->nsa * sizeof *v->sa);
    if (newer->nchild)
        memcpy(v->child, newer->child, newer->nchild * sizeof *v->child);
    size_t k = 0;
    for (size_t i = skip; i < nold; i++)
        v->event[k++] = older->event[i];
    for (size_t i = skip > nold ? skip - nold : 0; i < newer->nevent; i++)
        v->event[k++] = newer->event[i];
    v->taken_us = newer->taken_us;
    v->generation = newer->generation;
    v->connected = newer->connected;
    return v;
}

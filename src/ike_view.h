/* ike_view.h - what the IKE daemon (strongSwan, over VICI) says about its
 * SAs, as one immutable, self-contained value.  The VICI client thread
 * (vici_client.h) builds a new view after every list-sas it runs (at
 * start, after each registered event, and every ike.poll_interval
 * seconds) and hands it to the capture thread (capture_ike_update), whose
 * engine applies it (engine_ike.h).  Pure data, no I/O.
 */
#ifndef IDT_IKE_VIEW_H
#define IDT_IKE_VIEW_H

#include <stdint.h>
#include <stddef.h>
#include "addr.h"
#include "config.h"

#define IKE_NAME_MAX IDT_NAME_MAX   /* IKE SA / child SA names, including NUL */

/* IKE SA states as strongSwan names them (ike_sa_state_t). */
enum ike_sa_state {
    IKE_ST_UNKNOWN = 0,   /* a state string we do not know */
    IKE_ST_CREATED, IKE_ST_CONNECTING, IKE_ST_ESTABLISHED, IKE_ST_PASSIVE,
    IKE_ST_REKEYING, IKE_ST_REKEYED, IKE_ST_DELETING, IKE_ST_DESTROYING,
};

/* CHILD SA states (child_sa_state_t). */
enum ike_child_state {
    CHILD_ST_UNKNOWN = 0,
    CHILD_ST_CREATED, CHILD_ST_ROUTED, CHILD_ST_INSTALLING, CHILD_ST_INSTALLED,
    CHILD_ST_UPDATING, CHILD_ST_REKEYING, CHILD_ST_REKEYED, CHILD_ST_RETRYING,
    CHILD_ST_DELETING, CHILD_ST_DELETED, CHILD_ST_DESTROYING,
};

struct ike_child {
    char name[IKE_NAME_MAX];        /* child SA (config) name, e.g. "net" */
    uint32_t unique_id;             /* "uniqueid" */
    uint8_t state;                  /* enum ike_child_state */
    uint8_t protocol_esp;           /* 1 if "protocol" is ESP (AH children are kept, 0) */
    uint8_t encap;                  /* "encap" = yes (UDP-encapsulated) */
    uint32_t spi_in, spi_out;       /* host order; 0 = not reported */
    uint64_t packets_in, packets_out;   /* as charon counts them (accepted) */
    uint64_t bytes_in, bytes_out;
    uint32_t install_time_s;        /* "install-time": seconds since installed */
};

struct ike_sa {
    char name[IKE_NAME_MAX];        /* IKE SA (connection) name, e.g. "lab" */
    uint32_t unique_id;             /* "uniqueid" */
    uint8_t state;                  /* enum ike_sa_state */
    uint8_t initiator;              /* "initiator" = yes */
    struct idt_addr local, remote;  /* "local-host", "remote-host" */
    uint16_t local_port, remote_port;
    uint32_t established_s;         /* "established": seconds ago (0 if not) */
    size_t first_child, nchild;     /* its children: view->child[first_child ..] */
};

/* Events the client received since the previous view, in order. */
enum ike_event_kind {
    IKE_EV_IKE_UP = 1, IKE_EV_IKE_DOWN,
    IKE_EV_CHILD_UP, IKE_EV_CHILD_DOWN,
    IKE_EV_IKE_REKEY, IKE_EV_CHILD_REKEY,
};

struct ike_event {
    uint8_t kind;                   /* enum ike_event_kind */
    char ike_name[IKE_NAME_MAX];
    uint32_t ike_unique_id;
    char child_name[IKE_NAME_MAX];  /* CHILD_* events; "" otherwise */
    uint32_t old_spi_in, new_spi_in;    /* CHILD_REKEY (0 = not reported) */
    /* CHILD_DOWN: the child's final counters (the SA is gone from the next
     * list-sas); CHILD_REKEY: the old child's counters at the rekey;
     * has_final = 0 when the event did not carry them. */
    uint8_t has_final;
    struct ike_child final;
};

struct ike_view {
    int refs;                       /* ike_view_ref / ike_view_unref */
    uint64_t taken_us;              /* CLOCK_MONOTONIC when the list-sas reply was complete */
    uint64_t generation;            /* 1, 2, ... per view of one client; resets never */
    uint8_t connected;              /* 0: the client lost charon (all below empty) */
    size_t nsa, nchild, nevent;
    struct ike_sa *sa;
    struct ike_child *child;
    struct ike_event *event;
};

/* Allocate an empty view with room for the given counts (refs = 1).  NULL
 * on ENOMEM. */
struct ike_view *ike_view_new(size_t nsa, size_t nchild, size_t nevent);
void ike_view_ref(struct ike_view *v);
void ike_view_unref(struct ike_view *v);    /* frees at 0; NULL is fine */

/* A new view (refs = 1) with newer's SAs and children and the events of
 * older followed by newer's, the oldest dropped beyond IKE_VIEW_MAX_EVENTS
 * in all; NULL on ENOMEM.  For a view that replaces one not yet applied. */
#define IKE_VIEW_MAX_EVENTS 8192
struct ike_view *ike_view_merge_events(const struct ike_view *older,
                                       const struct ike_view *newer);

/* The IKE SA and child that own an inbound SPI, or NULL.  O(n). */
const struct ike_child *ike_view_find_spi_in(const struct ike_view *v, uint32_t spi,
                                             const struct ike_sa **owner);

#endif

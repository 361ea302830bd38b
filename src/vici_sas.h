/* vici_sas.h - strongSwan's list-sa event messages and its ike-updown,
 * child-updown, ike-rekey and child-rekey events, decoded into the parts
 * of a struct ike_view (ike_view.h).  Pure: no I/O.
 *
 * The VICI client collects one list-sas round (one list-sa message per
 * IKE SA) and the events received since the last view in a struct
 * vici_sas, then vici_sas_view() copies them into an immutable view.
 *
 * Values are strings on the wire: SPIs hexadecimal ("c1a2b3d4"), counters
 * and times decimal, addresses text, flags "yes"/"no".  A key we do not
 * use is skipped, as is any list or section we do not know.
 */
#ifndef IDT_VICI_SAS_H
#define IDT_VICI_SAS_H

#include <stddef.h>
#include <stdint.h>
#include "ike_view.h"

/* Bounds on what one list-sas round or one view's events may hold: a
 * hostile or runaway daemon cannot make the client grow without end. */
#define VICI_SAS_MAX_IKE 65536
#define VICI_SAS_MAX_CHILD 262144
#define VICI_SAS_MAX_EVENTS 4096

struct vici_sas {
    struct ike_sa *sa;
    size_t nsa, cap_sa;
    struct ike_child *child;
    size_t nchild, cap_child;
    struct ike_event *ev;
    size_t nev, cap_ev;
    uint64_t events_dropped;        /* beyond VICI_SAS_MAX_EVENTS, since the last clear */
};

/* Results of the add functions. */
#define VICI_SAS_OK 0
#define VICI_SAS_MALFORMED (-1)     /* not a well-formed VICI message (protocol error) */
#define VICI_SAS_REFUSED (-2)       /* well-formed, but content refused: the SA/event is skipped */
#define VICI_SAS_NOMEM (-3)

void vici_sas_init(struct vici_sas *b);
void vici_sas_free(struct vici_sas *b);
void vici_sas_clear_sas(struct vici_sas *b);       /* before a new list-sas round */
void vici_sas_clear_events(struct vici_sas *b);    /* after a view took them */

/* One list-sa event message (its message bytes).  err gets one line on
 * any result but VICI_SAS_OK. */
int vici_sas_add_list_sa(struct vici_sas *b, const uint8_t *msg, size_t len,
                         char *err, size_t errlen);
/* One event message: name is the EVENT packet's name ("ike-updown",
 * "child-updown", "ike-rekey", "child-rekey"; anything else is refused). */
int vici_sas_add_event(struct vici_sas *b, const char *name, const uint8_t *msg, size_t len,
                       char *err, size_t errlen);

/* A new view (refs = 1) holding copies of the SAs and the events, or NULL
 * when out of memory. */
struct ike_view *vici_sas_view(const struct vici_sas *b, uint64_t taken_us, uint64_t generation);

/* Decoders of one value (exposed for the unit tests): 0, or -1 if the
 * text is not of the form.  SPI: 1..8 hex digits, optional 0x. */
int vici_parse_spi(const uint8_t *s, size_t n, uint32_t *out);
int vici_parse_u64(const uint8_t *s, size_t n, uint64_t *out);
const char *ike_sa_state_name(uint8_t st);
const char *ike_child_state_name(uint8_t st);

#endif

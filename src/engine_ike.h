/* engine_ike.h - the engine's side of IKE awareness: apply what strongSwan
 * says (an ike_view from the VICI client) to tunnels and SAs.  Called by
 * the capture thread, which owns the engine. */
#ifndef IDT_ENGINE_IKE_H
#define IDT_ENGINE_IKE_H

#include <stdint.h>
#include "engine.h"
#include "ike_view.h"

/* Apply v (the caller keeps its reference).  0, or -1 when out of memory
 * (nothing applied). */
int engine_ike_apply(struct engine *e, struct ike_view *v, uint64_t now_us);

#endif

/* engine_ike.c - placeholder: views are accepted and not yet applied. */
#include "engine_ike.h"

int engine_ike_apply(struct engine *e, struct ike_view *v, uint64_t now_us)
{
    (void)e;
    (void)v;
    (void)now_us;
    return 0;
}

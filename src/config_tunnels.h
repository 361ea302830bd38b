/* config_tunnels.h - the "tunnels" list of the configuration, for
 * config.c (see config_tunnels.c). */
#ifndef IDT_CONFIG_TUNNELS_H
#define IDT_CONFIG_TUNNELS_H

#include <libconfig.h>
#include <stdio.h>

#include "config.h"
#include "config_value.h"

/* Validate the list l into c->tunnels / c->ntunnels: 0, or -1 with the
 * error written. */
int cfg_parse_tunnels(struct cfg_ctx *x, const config_setting_t *l, struct idt_config *c);
/* "tunnels = ( ... );" in libconfig syntax. */
void cfg_print_tunnels(const struct idt_config *c, FILE *out);

#endif

/* service_args.h - the command line of "install" and "uninstall"/"remove"
 * (service_args.c). */
#ifndef IDT_SERVICE_ARGS_H
#define IDT_SERVICE_ARGS_H

#include "service_ops.h"

/* Parse options into *s (install: 1 for "install", 0 for "uninstall"/
 * "remove").  Returns -1 to go on, else an exit status. */
int svc_parse(struct svc *s, int argc, char **argv, int install);

#endif

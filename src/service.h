/* service.h - the "install" and "uninstall"/"remove" commands: set up (or
 * tear down) ipsecdiagtool as a systemd service.
 *
 *   install   [--root DIR] [--dry-run] [-c FILE]
 *   uninstall [--root DIR] [--dry-run] [--purge]
 *
 * argv[0] is the command name; options follow.  Exit status: 0 ok,
 * 1 failure (also: systemd not running and no --root), 2 usage error or
 * invalid config file given with -c. */
#ifndef IDT_SERVICE_H
#define IDT_SERVICE_H

#include <stddef.h>

#define SERVICE_USER       "ipsecdiag"
#define SERVICE_UNIT_NAME  "ipsecdiagtool.service"

int service_install_main(int argc, char **argv, const char *default_config);
int service_uninstall_main(int argc, char **argv, const char *default_config);

#endif

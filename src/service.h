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
#define SERVICE_UNIT_DIR   "/lib/systemd/system"

int service_install_main(int argc, char **argv, const char *default_config);
int service_uninstall_main(int argc, char **argv, const char *default_config);

/* The unit file text "install" writes: the built-in copy of
 * conf/ipsecdiagtool.service.in with @sbindir@, @sysconfdir@,
 * @localstatedir@ and @SERVICE_TYPE@ filled in.  Returns a malloc'ed
 * string (caller frees), NULL on allocation failure. */
char *service_unit_text(void);

#endif

/* config_file.h - reading the configuration file.  Not in the pure
 * library: this is the I/O around config_load_string() (config.h). */
#ifndef IDT_CONFIG_FILE_H
#define IDT_CONFIG_FILE_H

#include <stddef.h>

#include "config.h"

/* Load and validate path.  Returns 0 on success.  On failure returns -1,
 * leaves *c freed/empty, and writes one line "FILE:LINE: KEY: reason"
 * (or "FILE: reason" when there is no line) into err.
 * *c is output only: its previous contents are overwritten, not freed
 * (load into a fresh struct and swap, then config_free() the old one). */
int config_load(const char *path, struct idt_config *c, char *err, size_t errlen);

/* The config a command starts with: an explicit path must exist; the
 * default path is used when present, otherwise built-in defaults.
 * Returns 0, or 2 after printing the error to stderr. */
int load_config_for_command(const char *path, int explicit_path, struct idt_config *cfg);

#endif

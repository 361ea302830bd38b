#ifndef IDT_INTERACTIVE_H
#define IDT_INTERACTIVE_H
int interactive_main(int argc, char **argv, const char *default_config);
/* Load the config for a command: explicit path must exist; the default
 * path is used when present, otherwise built-in defaults.  Returns 0, or
 * 2 after printing the error. */
int load_config_for_command(const char *path, int explicit_path, struct idt_config *cfg);
#endif

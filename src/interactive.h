#ifndef IDT_INTERACTIVE_H
#define IDT_INTERACTIVE_H
int interactive_main(int argc, char **argv, const char *default_config);
#endif

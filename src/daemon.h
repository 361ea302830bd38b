#ifndef IDT_DAEMON_H
#define IDT_DAEMON_H
#include <stdio.h>
/* The "run" command: the AgentX subagent daemon, in the foreground. */
int daemon_main(int argc, char **argv, const char *default_config);
/* The "about" command. */
int daemon_about(FILE *out);
#endif

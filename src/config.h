/* config.h - ipsecdiagtool configuration (libconfig text), validated.
 *
 * config_load_string() (and config_load() in config_file.h, for a file)
 * parses and validates a whole text and either returns a complete struct
 * idt_config or an error naming the file, the line and the key.  Nothing
 * else in the program reads the configuration.
 *
 * KEY is the dotted path of the setting; tunnel list entries are written
 * with their 0-based position: "loss.window", "tunnels[1].mtu.max".
 * See ipsecdiagtool.conf(5) for the format and every key.
 */
#ifndef IDT_CONFIG_H
#define IDT_CONFIG_H

#include <stdint.h>
#include <stddef.h>
#include <stdio.h>

#include "addr.h"

#define IDT_NAME_MAX 64             /* tunnel name, including NUL */
#define IDT_MAX_CONF_TUNNELS 4096
#define IDT_DEFAULT_VICI "/var/run/charon.vici"   /* strongSwan's default socket */

struct idt_mtu_conf {
    int enabled;                    /* 1 if the tunnel has an mtu block */
    struct idt_addr source, target;
    uint32_t min, max;              /* 576..9216, min <= max; defaults 576 1500 */
    uint32_t probes;                /* 1..64, default 16 */
    double timeout;                 /* seconds per round, 0.1..60, default 2.0 */
    uint32_t retries;               /* 0..10, default 1 */
    uint32_t interval;              /* seconds between automatic runs, 0 = on demand; ..604800 */
};

struct idt_tunnel_conf {
    char name[IDT_NAME_MAX];        /* [A-Za-z0-9._-], 1..63 chars, unique */
    uint32_t index;                 /* 1..4294967295, unique; stable MIB index */
    struct idt_addr local, remote;  /* same family */
    /* per-tunnel alert overrides; -1 = inherit from loss.* */
    int64_t alert_lost;
    int64_t alert_interval;
    int64_t alert_ppm;
    int alerts;                     /* 1 on (default), 0 silenced */
    int64_t idle_timeout;           /* seconds, 0 = off; -1 = loss.idle_timeout */
    int idle_alerts;                /* idle/active notifications: 1 (default), 0 off */
    struct idt_mtu_conf mtu;
};

struct idt_config {
    char path[4096];                /* file it came from, "" for defaults */

    /* agentx */
    char agentx_socket[256];        /* "" = Net-SNMP default */
    uint32_t ping_interval;         /* 1..3600, default 15 */

    /* capture */
    char interface[64];             /* default "any" */
    uint32_t snaplen;               /* 64..65535, default 128 */
    uint32_t buffer_kb;             /* 256..1048576, default 4096 */

    /* loss */
    uint32_t window;                /* 32..4096, default 64 */
    uint32_t alert_lost;            /* 0..2^31, default 10; 0 = off */
    uint32_t alert_interval;        /* 1..86400, default 60 */
    uint32_t alert_ppm;             /* 0..1000000, default 0 = off */
    uint32_t alert_repeat;          /* 0 = off (default), else seconds, ..604800 */
    uint32_t alert_min_pkts;        /* 0..2^31, default 100: ppm criterion's minimum sample */
    uint32_t sa_idle_timeout;       /* 10..604800, default 600 */
    uint32_t idle_timeout;          /* tunnel idle after s without ESP; 0 = off; ..604800, default 300 */
    int discovered_idle_alerts;     /* discovered tunnels notify idle/active; default 0 */
    uint32_t max_sas;               /* 16..16777216, default 65536 */
    uint32_t max_tunnels;           /* 1..1048576, default 4096 (discovered) */
    char event_log[4096];           /* "" = off */

    /* syslog */
    int facility;                   /* LOG_DAEMON etc. (syslog.h value) */
    char facility_name[16];
    char syslog_server[256];        /* "" or "host:port" */

    /* traps */
    int traps_enabled;              /* default 1 */

    /* state */
    char state_dir[4000];           /* absolute; "" = no state file;
                                       default LOCALSTATEDIR "/lib/ipsecdiagtool" */

    /* ike (strongSwan VICI) */
    char ike_vici[108];             /* unix socket path (sun_path); "" = off ("none") */
    int ike_vici_set;               /* 0: the default, used only while it exists */
    uint32_t ike_poll_interval;     /* seconds between list-sas, 1..3600, default 10 */

    size_t ntunnels;
    struct idt_tunnel_conf *tunnels;  /* owned; config_free() releases */
};

/* Fill *c with built-in defaults (no tunnels). */
void config_defaults(struct idt_config *c);

/* Load and validate text.  Returns 0 on success.  On failure returns -1,
 * leaves *c freed/empty, and writes one line "NAME:LINE: KEY: reason"
 * (or "NAME: reason" when there is no line) into err; name (NULL:
 * "<string>") is the file name for messages.  *c is output only: its
 * previous contents are overwritten, not freed (load into a fresh struct
 * and swap, then config_free() the old one).  c->path is left "". */
int config_load_string(const char *text, const char *name,
                       struct idt_config *c, char *err, size_t errlen);

void config_free(struct idt_config *c);

/* Print the effective settings in libconfig syntax (check-config). */
void config_print(const struct idt_config *c, FILE *out);

/* Find a configured tunnel by name, NULL if none. */
const struct idt_tunnel_conf *config_tunnel_by_name(const struct idt_config *c,
                                                    const char *name);

#endif

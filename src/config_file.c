/* config_file.c - reading the configuration file (the I/O around
 * config_load_string()), and the config a command starts with. */
#include "config_file.h"
#include "config_value.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONF_MAX_FILE_BYTES (16u * 1024u * 1024u)

int config_load(const char *path, struct idt_config *c, char *err, size_t errlen)
{
    struct cfg_ctx x = {path ? path : "(null)", err, errlen};
    if (c)
        config_defaults(c);
    if (!path || !*path)
        return cfg_fail(&x, 0, NULL, "cannot open: no file name");
    if (strlen(path) >= sizeof c->path)
        return cfg_fail(&x, 0, NULL, "cannot open: %s", strerror(ENAMETOOLONG));

    FILE *f = fopen(path, "rb");
    if (!f)
        return cfg_fail(&x, 0, NULL, "cannot open: %s", strerror(errno));
    size_t cap = 8192, len = 0;
    char *text = malloc(cap);
    if (!text) {
        fclose(f);
        return cfg_fail(&x, 0, NULL, "out of memory");
    }
    for (;;) {
        if (len + 1 >= cap) {
            if (cap > CONF_MAX_FILE_BYTES) {
                free(text);
                fclose(f);
                return cfg_fail(&x, 0, NULL, "file is too large (more than %u bytes)",
                            CONF_MAX_FILE_BYTES);
            }
            char *nt = realloc(text, cap * 2);
            if (!nt) {
                free(text);
                fclose(f);
                return cfg_fail(&x, 0, NULL, "out of memory");
            }
            text = nt;
            cap *= 2;
        }
        size_t got = fread(text + len, 1, cap - 1 - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) {
                int e = errno;
                free(text);
                fclose(f);
                return cfg_fail(&x, 0, NULL, "cannot read: %s", strerror(e ? e : EIO));
            }
            break;
        }
    }
    fclose(f);
    text[len] = '\0';
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        int line = 1;
        for (const char *p = text; p < nul; p++)
            line += *p == '\n';
        free(text);
        return cfg_fail(&x, line, NULL, "syntax error: NUL byte in file");
    }
    int rc = config_load_string(text, path, c, err, errlen);
    free(text);
    if (rc == 0 && c)
        snprintf(c->path, sizeof c->path, "%s", path);
    return rc;
}

int load_config_for_command(const char *path, int explicit_path, struct idt_config *cfg)
{
    char err[512];
    if (!explicit_path && access(path, F_OK) != 0) {
        config_defaults(cfg);
        return 0;
    }
    if (config_load(path, cfg, err, sizeof err) < 0) {
        fprintf(stderr, "ipsecdiagtool: %s\n", err);
        return 2;
    }
    return 0;
}

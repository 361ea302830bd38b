/* state_file.h - the tunnel identity state file (STATE_DIR/tunnels.state):
 * loaded at start, saved atomically (temporary file in the same
 * directory, fsync, rename) when the identities changed, at most every
 * STATE_FILE_MIN_INTERVAL_S seconds, and on reload and stop.
 *
 * Used by the capture thread only.  Every problem (no directory, a
 * directory that cannot be written, a corrupt, truncated or foreign file)
 * is logged once and the daemon goes on: with fresh identities, or without
 * persistence.  A damaged file is kept as tunnels.state.bad for inspection.
 */
#ifndef IDT_STATE_FILE_H
#define IDT_STATE_FILE_H

#include "tunnel_table.h"

#define STATE_FILE_NAME "tunnels.state"
#define STATE_FILE_MIN_INTERVAL_S 5

struct state_file;

/* Load dir/tunnels.state into t's remembered identities.  dir "" turns
 * persistence off.  NULL only when out of memory (all calls accept NULL). */
struct state_file *state_file_open(const char *dir, struct tunnel_table *t);

/* Save if anything changed and (unless force) the last save is at least
 * STATE_FILE_MIN_INTERVAL_S seconds old, and at least 20 times as old as
 * it took (a save is O(identities): at most ~5% of the caller's time). */
void state_file_save(struct state_file *sf, struct tunnel_table *t, int force);

/* Reload: save to the current directory, then use dir (saved there at
 * the next call of state_file_save). */
void state_file_set_dir(struct state_file *sf, struct tunnel_table *t, const char *dir);

/* Save (if changed) and free. */
void state_file_close(struct state_file *sf, struct tunnel_table *t);

#endif

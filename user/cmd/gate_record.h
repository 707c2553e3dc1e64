/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A gate's note of the patch it is handling, in /run/lpsentinel/gate.<patch>:
 * written before the module is loaded, updated at each step, removed once the
 * patch is kept or taken out. A gate killed half-way (SIGKILL, a crash, a
 * reboot-less OOM) leaves the note behind, and `lpsentinel status` shows the
 * patch as left half-handled, with what finishes it; `lpsentinel revert`
 * removes the note once it has finished the job.
 */
#ifndef LPS_GATE_RECORD_H
#define LPS_GATE_RECORD_H

#include <stdbool.h>
#include <stdio.h>

#define GATE_RECORD_DIR "/run/lpsentinel"

struct json_object;

/*
 * Writes (or rewrites) the note: this process handles patch (module file
 * loaded with params, "" for none), now at step. -errno.
 */
int gate_record__write(const char *patch, const char *module, const char *params,
		       const char *step);
/* Removes the note of patch (none is fine). */
void gate_record__remove(const char *patch);
/*
 * The notes of patches still in the kernel (module loaded or livepatch
 * present): JSON array (status --json) or text lines on f. Notes of patches
 * with nothing left are skipped. Returns how many were reported.
 */
int gate_record__report(FILE *f, struct json_object *arr);

#endif

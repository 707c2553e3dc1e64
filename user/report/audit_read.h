/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A watch daemon's audit trail (audit.jsonl, one decision a line) read back
 * for the report: the decisions of a period, and each verdict line's
 * evidence as a verdict (the daemon writes the whole verdict into its line).
 * The file is hostile: a line that is not a decision record is refused
 * with its number.
 */
#ifndef LPS_AUDIT_READ_H
#define LPS_AUDIT_READ_H

#include "report_html.h"

#define AUDIT_READ_MAX_BYTES	(256UL << 20)
#define AUDIT_READ_MAX_VERDICTS	256	/* evidence kept; later verdicts are rows only */
#define AUDIT_READ_MAX_ROWS	10000	/* rows of the period shown: the newest; earlier counted */

struct audit_period {
	const char *since, *until;	/* "2026-12-02T21:00:00Z" or a prefix of one; NULL: open */
};

/*
 * Is s a UTC time as the trail writes it, or a prefix of one ("2026-12-02"),
 * with each part given in range (month 1-12, day 1-31, hour < 24, ...)?
 */
bool audit_read__time_ok(const char *s);
/* Does p's since come no later than its until (a prefix covering its span)? */
bool audit_read__period_ok(const struct audit_period *p);
/*
 * The decisions of path in the period into rows (*n, the newest
 * AUDIT_READ_MAX_ROWS; *left_out: the period's earlier rows not kept), and
 * the kept verdict lines' evidence into v (*nv; rows[i].verdict_idx points
 * there), within report_html__check_totals. 0, or -errno with one line in why.
 */
int audit_read__file(const char *path, const struct audit_period *p,
		     struct report_audit_row **rows, size_t *n, size_t *left_out,
		     struct report_verdict **v, size_t *nv, char *why, size_t len);
void audit_read__free(struct report_audit_row *rows, struct report_verdict *v, size_t nv);

#endif

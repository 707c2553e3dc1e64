/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A rules file's bytes as one YAML document, strictly: what a rules file
 * never needs is refused where it is read, with its line, before anything
 * interprets it. Rules files come from users and, through the daemon's
 * control socket, from gate clients: a hostile one must get one error line,
 * never a crash, a stall or a gigabyte.
 */
#ifndef LPS_RULES_YAML_H
#define LPS_RULES_YAML_H

#include <stddef.h>
#include <yaml.h>

/* Deeper than a rules file goes (top, functions:, entry, checks:, check: 5). */
#define RULES_YAML_MAX_DEPTH	8
/* Room for the largest lists rules.c takes, with every setting given. */
#define RULES_YAML_MAX_NODES	65536

/*
 * Parses the LEN bytes of BUF (called NAME in messages) into DOC. Refused,
 * -EINVAL with "NAME:LINE: reason" in WHY: malformed YAML or UTF-8, a second
 * document, anchors, aliases and tags, nesting deeper than
 * RULES_YAML_MAX_DEPTH, more than RULES_YAML_MAX_NODES nodes, a key that is
 * not a plain scalar, a key given twice in a mapping, and a scalar with a
 * byte that is not printable ASCII (so every message quoting one is one
 * printable line). -ENOMEM on allocation failure. On 0 the caller deletes
 * DOC with yaml_document_delete; on an error there is nothing to delete.
 */
int rules_yaml__load(const char *name, const char *buf, size_t len, yaml_document_t *doc,
		     char *why, size_t why_len);

#endif

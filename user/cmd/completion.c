// SPDX-License-Identifier: GPL-2.0
/*
 * The bash completion script, printed from the verbs' tables: the verbs, each
 * verb's options, and for every option argument and positional the kind of
 * word it takes, read from its name (its metavariable): "PATCH.ko" a .ko
 * file, "FILE" any file, "DIR" a directory, "PATCH" a loaded livepatch,
 * "auto|fentry|..." one of those words. The script needs bash-completion's
 * helpers (_init_completion, _filedir), as every script in its directory does.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "manpage.h"

/* Metavariables that name a kind of word; any other ("SECONDS", "FUNC") completes to nothing. */
static const struct {
	const char *opt;	/* only for this option; NULL: any, and positionals */
	const char *meta;
	const char *kind;	/* a case of _lpsentinel_kind in the script */
} metas[] = {
	{ "rules", "FILE", "yaml" },	/* rules files: YAML (any name is accepted; these are offered) */
	{ NULL, "FILE", "file" },
	{ NULL, "DIR", "dir" },
	{ NULL, "PATH", "file" },	/* a file or a directory (report --audit) */
	{ NULL, "PATCH", "patch" },	/* a loaded livepatch: revert PATCH, overhead PATCH */
};

/* Names the script holds in single quotes and case patterns: nothing a shell reads specially. */
static bool safe(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._:-", *s))
			return false;
	return true;
}

/*
 * One alternative of a metavariable (no '|'), as a kind: a lower-case word
 * is itself ("fentry" in "auto|fentry"), "NAME.ext" a file with that
 * extension, the rest from metas; "" for none. -EINVAL for a word the script cannot hold.
 */
static int alt_kind(char *buf, size_t len, const char *opt, const char *alt)
{
	const char *dot = strrchr(alt, '.');

	buf[0] = '\0';
	if (!safe(alt))
		return -EINVAL;
	if (islower((unsigned char)alt[0])) {
		snprintf(buf, len, "word:%s", alt);
		return 0;
	}
	if (dot && dot[1]) {
		snprintf(buf, len, "ext:%s", dot + 1);
		return 0;
	}
	for (size_t i = 0; i < sizeof(metas) / sizeof(metas[0]); i++)
		if (!strcmp(alt, metas[i].meta) && (!metas[i].opt || (opt && !strcmp(opt, metas[i].opt)))) {
			snprintf(buf, len, "%s", metas[i].kind);
			return 0;
		}
	return 0;
}

/*
 * Every kind of meta ("A|B...", a trailing "..." ignored, and the brackets of
 * optional positionals: "[VERDICT.json...]"), space-separated, into f.
 */
static int kinds(FILE *f, const char *opt, const char *meta)
{
	char copy[256], kind[128], *save = NULL;
	bool first = true;
	size_t len = strlen(meta);

	if (len >= 2 && meta[0] == '[' && meta[len - 1] == ']') {
		meta++;
		len -= 2;
	}
	if (len >= 3 && !strncmp(meta + len - 3, "...", 3))
		len -= 3;
	snprintf(copy, sizeof(copy), "%.*s", (int)len, meta);
	for (char *alt = strtok_r(copy, "|", &save); alt; alt = strtok_r(NULL, "|", &save)) {
		if (alt_kind(kind, sizeof(kind), opt, alt))
			return -EINVAL;
		if (*kind) {
			fprintf(f, "%s%s", first ? "" : " ", kind);
			first = false;
		}
	}
	return 0;
}

static int verb_case(FILE *f, const struct cli_verb *v)
{
	size_t n = cli__nopts(v);

	if (!safe(v->name))
		return -EINVAL;
	fprintf(f, "\t%s)\n\t\topts='", v->name);
	for (size_t i = 0; i <= n; i++) {
		const struct cli_opt *o = cli__opt(v, i);

		if (!safe(o->name))
			return -EINVAL;
		fprintf(f, "%s--%s", i ? " " : "", o->name);
		if (o->short_name)
			fprintf(f, " -%c", o->short_name);
	}
	fputs("'\n\t\tvk=(", f);
	for (size_t i = 0; i < n; i++) {
		const struct cli_opt *o = cli__opt(v, i);

		if (!o->arg)
			continue;
		fprintf(f, " [--%s]='", o->name);
		if (kinds(f, o->name, o->arg))
			return -EINVAL;
		fputs("'", f);
		if (o->short_name) {
			fprintf(f, " [-%c]='", o->short_name);
			kinds(f, o->name, o->arg);
			fputs("'", f);
		}
	}
	fputs(" )\n\t\tpk='", f);
	if (v->args && kinds(f, NULL, v->args))
		return -EINVAL;
	fprintf(f, "' max=%d rest=%s\n\t\t;;\n", v->max_args, v->rest ? "1" : "");
	return 0;
}

/* The script's fixed part: the kinds, the positionals, options' arguments, "--". */
static const char script_body[] =
	"\t*)\n\t\treturn\n\t\t;;\n\tesac\n"
	"\n"
	"\t# Past \"--\" (gate PATCH.ko -- PARAM=VALUE): the module's own words.\n"
	"\tlocal j n=0\n"
	"\tif [[ $rest ]]; then\n"
	"\t\tfor ((j = i + 1; j < cword; j++)); do\n"
	"\t\t\t[[ ${words[j]} == -- ]] && return\n"
	"\t\tdone\n"
	"\tfi\n"
	"\tif [[ $prev == -* && ${vk[$prev]+set} ]]; then\n"
	"\t\t_lpsentinel_kinds \"${vk[$prev]}\"\n"
	"\t\treturn\n"
	"\tfi\n"
	"\tif [[ $cur == -* ]]; then\n"
	"\t\tCOMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
	"\t\treturn\n"
	"\tfi\n"
	"\t# How many positionals are there already (an option's argument is not one)?\n"
	"\tfor ((j = i + 1; j < cword; j++)); do\n"
	"\t\tif [[ ${words[j]} != -* ]]; then\n"
	"\t\t\t((n++))\n"
	"\t\telif [[ ${words[j]} != *=* && ${vk[${words[j]}]+set} ]]; then\n"
	"\t\t\t((j++))\n"
	"\t\tfi\n"
	"\tdone\n"
	"\tif ((max >= 0 && n >= max)); then\n"
	"\t\tCOMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"))\n"
	"\t\treturn\n"
	"\tfi\n"
	"\t_lpsentinel_kinds \"$pk\"\n"
	"} &&\n"
	"\tcomplete -F _lpsentinel lpsentinel\n";

static const char script_head[] =
	"# bash completion for lpsentinel(8)                       -*- shell-script -*-\n"
	"# shellcheck shell=bash disable=SC2034,SC2207\n"
	"# (SC2034: split is _init_completion's; SC2207: compgen's words here hold no blanks)\n"
	"# Generated by `lpsentinel help --completion` (make completion) from the\n"
	"# option tables in user/cmd/*.c: edit those, not this file.\n"
	"# Loaded patch names come from $LPS_LIVEPATCH_DIR, /sys/kernel/livepatch\n"
	"# unless set: a hook for the tests (tests/man/check-completion.sh).\n"
	"\n"
	"# Completes $cur as each kind in $1: word:W (W itself), ext:E (files *.E),\n"
	"# yaml (rules files), file, dir, patch (a loaded livepatch's name).\n"
	"_lpsentinel_kinds()\n"
	"{\n"
	"\tlocal k p n q words=()\n"
	"\tfor k in $1; do\n"
	"\t\tcase $k in\n"
	"\t\tword:*) words+=(\"${k#word:}\") ;;\n"
	"\t\text:*) _filedir \"${k#ext:}\" ;;\n"
	"\t\tyaml) _filedir '@(yaml|yml)' ;;\n"
	"\t\tfile) _filedir ;;\n"
	"\t\tdir) _filedir -d ;;\n"
	"\t\tpatch)\n"
	"\t\t\t# Matched here, not by compgen -W, which would expand $(...) in a\n"
	"\t\t\t# name; each is offered quoted (%q), as the shell must read it.\n"
	"\t\t\tfor p in \"${LPS_LIVEPATCH_DIR:-/sys/kernel/livepatch}\"/*; do\n"
	"\t\t\t\tn=${p##*/}\n"
	"\t\t\t\t[[ -d $p && $n == \"$cur\"* ]] || continue\n"
	"\t\t\t\tprintf -v q %q \"$n\"\n"
	"\t\t\t\tCOMPREPLY+=(\"$q\")\n"
	"\t\t\tdone\n"
	"\t\t\t;;\n"
	"\t\tesac\n"
	"\tdone\n"
	"\t((${#words[@]})) && COMPREPLY+=($(compgen -W \"${words[*]}\" -- \"$cur\"))\n"
	"\treturn 0\n"
	"}\n"
	"\n"
	"_lpsentinel()\n"
	"{\n"
	"\tlocal cur prev words cword split\n"
	"\t_init_completion -s || return\n"
	"\n"
	"\tlocal i verb=\n"
	"\tfor ((i = 1; i < cword; i++)); do\n"
	"\t\tif [[ ${words[i]} != -* ]]; then\n"
	"\t\t\tverb=${words[i]}\n"
	"\t\t\tbreak\n"
	"\t\tfi\n"
	"\tdone\n";

int cli__completion(FILE *f, const struct cli_verb *const *verbs, size_t n)
{
	fputs(script_head, f);
	fputs("\tlocal verbs='", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s ", verbs[i]->name);
	fputs("help'\n"
	      "\tif [[ -z $verb ]]; then\n"
	      "\t\tCOMPREPLY=($(compgen -W \"$verbs --help -h\" -- \"$cur\"))\n"
	      "\t\treturn\n"
	      "\tfi\n"
	      "\n"
	      "\t# Per verb: opts, its options; vk, the kinds of each option's argument;\n"
	      "\t# pk, of its positionals, at most max of them (-1: any); rest: takes \"--\".\n"
	      "\tlocal opts pk max rest\n"
	      "\tlocal -A vk=()\n"
	      "\tcase $verb in\n", f);
	for (size_t i = 0; i < n; i++)
		if (verb_case(f, verbs[i])) {
			fprintf(stderr, "lpsentinel: error: completion: %s's table has a name that is "
				"not a plain word\n", verbs[i]->name);
			return -EINVAL;
		}
	/* help: a verb's --help, or --man's page. */
	fputs("\thelp)\n\t\topts='--man --completion --markdown --verbs'\n\t\tpk='", f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%sword:%s", i ? " " : "", verbs[i]->name);
	fputs("'\n\t\tvk=( [--man]=$pk ) max=1 rest=\n\t\t;;\n", f);
	fputs(script_body, f);
	return 0;
}

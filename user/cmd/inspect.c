// SPDX-License-Identifier: GPL-2.0
/*
 * lpsentinel inspect PATCH.ko [--json]: what a livepatch module replaces, from
 * the file alone; and, where the running kernel can tell, whether each old
 * function exists there, can be traced, and how `trace` would attach to it.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>
#include "cli.h"
#include "func_btf.h"
#include "klp_module.h"
#include "klp_sysfs.h"
#include "ksyms.h"
#include "log.h"
#include "opts.h"
#include "probes.h"

/* What the running kernel says about one target. */
struct target_check {
	bool known;		/* the kernel could be asked (kallsyms readable) */
	bool exists, traceable;
	const char *attach;	/* "fentry", "kprobe" or "none" */
	const char *why;	/* when it does not exist or cannot be traced */
};

static void check_target(const struct klp_target *t, const struct name_table *ksyms,
			 const struct name_table *ftrace, struct target_check *c)
{
	const char *mod = strcmp(t->object, "vmlinux") ? t->object : NULL;
	size_t count;
	__u32 kind;

	memset(c, 0, sizeof(*c));
	c->attach = "none";
	if (!ksyms)
		return;
	c->known = true;
	count = name_table__count_in(ksyms, t->function, mod);
	if (!count) {
		c->why = mod ? "not in kallsyms (is the module loaded?)" : "not in kallsyms";
		return;
	}
	if (t->sympos > count || (t->sympos == 0 && count > 1)) {
		c->why = t->sympos ? "sympos beyond the symbols of that name" :
			 "ambiguous name needs a sympos";
		return;
	}
	c->exists = true;
	c->traceable = !ftrace || name_table__count(ftrace, t->function, NULL) > 0;
	if (!c->traceable) {
		c->why = "not in available_filter_functions";
		return;
	}
	c->attach = attach_mode__name(probes__auto_mode(t->function,
			func_btf__ret_kind(t->function, mod, &kind) == 0, KLP_SYSFS_ROOT_DEFAULT));
}

struct inspect_args {
	bool json;
};

static const struct cli_opt inspect_opts[] = {
	{ "json", 'j', NULL, "one JSON document on stdout", CLI_SET_FLAG(struct inspect_args, json) },
	{ 0 },
};

const struct cli_verb cli_verb_inspect = {
	.name = "inspect", .args = "PATCH.ko", .opts = inspect_opts, .run = do_inspect,
	.summary = "What a livepatch module replaces, from the .ko alone, and how the running "
		   "kernel would trace each function",
	.min_args = 1, .max_args = 1, .args_error = "inspect needs exactly one PATCH.ko",
	.bad_option = "unknown option",
};

int do_inspect(int argc, char **argv)
{
	struct name_table *ksyms = NULL, *ftrace = NULL;
	struct klp_module_info m;
	struct json_object *doc = NULL, *fns = NULL;
	struct inspect_args a = { 0 };
	char why[256];
	int first, ret;

	ret = cli__parsed(&cli_verb_inspect,
			  cli__parse(&cli_verb_inspect, argc, argv, NULL, &a, &first));
	if (ret != CLI_RUN)
		return ret;
	if (klp_module__inspect(argv[first], &m, why, sizeof(why))) {
		lps_err("%s: %s", argv[first], why);
		return CLI_EXIT_ERROR;
	}
	/* The running kernel's view is extra: without it the file still speaks. */
	if (ksyms__load(&ksyms))
		ksyms = NULL;
	if (ftrace_funcs__load(&ftrace))
		ftrace = NULL;
	if (a.json) {
		doc = json_object_new_object();
		fns = json_object_new_array();
		json_object_object_add(doc, "patch", json_object_new_string(m.patch));
		json_object_object_add(doc, "module", json_object_new_string(argv[first]));
		json_object_object_add(doc, "style", json_object_new_string(m.style));
		json_object_object_add(doc, "replace",
				       m.replace < 0 ? NULL : json_object_new_boolean(m.replace));
		json_object_object_add(doc, "functions", fns);
	} else {
		printf("patch %s (%s-style%s) from %s\n", m.patch, m.style,
		       m.replace < 0 ? "" : m.replace ? ", atomic replace" : ", no atomic replace",
		       argv[first]);
		printf("  %-12s %-32s %6s  %-32s %s\n", "OBJECT", "FUNCTION", "SYMPOS",
		       "REPLACEMENT", "RUNNING KERNEL");
	}
	for (size_t i = 0; i < m.n; i++) {
		const struct klp_target *t = &m.targets[i];
		struct target_check ck;

		check_target(t, ksyms, ftrace, &ck);
		if (a.json) {
			struct json_object *f = json_object_new_object();

			json_object_object_add(f, "object", json_object_new_string(t->object));
			json_object_object_add(f, "function", json_object_new_string(t->function));
			json_object_object_add(f, "sympos", json_object_new_uint64(t->sympos));
			json_object_object_add(f, "replacement", json_object_new_string(t->replacement));
			if (ck.known) {
				json_object_object_add(f, "exists", json_object_new_boolean(ck.exists));
				json_object_object_add(f, "traceable",
						       json_object_new_boolean(ck.traceable));
				json_object_object_add(f, "attach", json_object_new_string(ck.attach));
				if (ck.why)
					json_object_object_add(f, "why", json_object_new_string(ck.why));
			}
			json_object_array_add(fns, f);
		} else {
			printf("  %-12s %-32s %6lu  %-32s %s%s%s\n", t->object, t->function, t->sympos,
			       t->replacement, !ck.known ? "unknown (kallsyms unreadable)" :
			       ck.traceable ? ck.attach : "cannot trace",
			       ck.why ? ": " : "", ck.why ? ck.why : "");
		}
	}
	if (doc)
		cli__print_json(doc);
	json_object_put(doc);
	name_table__free(ksyms);
	name_table__free(ftrace);
	func_btf__cleanup();
	klp_module_info__free(&m);
	return CLI_EXIT_OK;
}

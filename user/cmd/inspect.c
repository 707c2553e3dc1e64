// SPDX-License-Identifier: GPL-2.0
/*
 * lpsentinel inspect PATCH.ko [--json]: what a livepatch module replaces, from
 * the file alone; and, where the running kernel can tell, whether each old
 * function exists there, can be traced, and how `trace` would attach to it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
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
#include "targets.h"

/* What the running kernel says about one target, as inspect shows it. */
struct target_check {
	struct target_res r;
	const char *attach;	/* "fentry", "kprobe" or "none" */
	char text[320];		/* the RUNNING KERNEL column */
};

static void check_target(const struct klp_target *t, struct name_table *ksyms,
			 const struct name_table *ftrace, struct target_check *c)
{
	__u32 kind;

	target__resolve(t, ksyms, ftrace, &c->r);
	c->attach = "none";
	switch (c->r.state) {
	case TARGET_UNKNOWN:
		snprintf(c->text, sizeof(c->text), "unknown (kallsyms unreadable)");
		return;
	case TARGET_INVALID:
		snprintf(c->text, sizeof(c->text), "refused by the kernel: %s", c->r.why);
		return;
	case TARGET_NOT_MEASURED:
		snprintf(c->text, sizeof(c->text), "not measured: %s", c->r.why);
		return;
	case TARGET_MEASURED:
		break;
	}
	c->attach = attach_mode__name(c->r.kprobe_only ? ATTACH_KPROBE :
		probes__auto_mode(t->function, func_btf__ret_kind(c->r.probe, c->r.module,
								  &kind) == 0,
				  false, KLP_SYSFS_ROOT_DEFAULT));
	snprintf(c->text, sizeof(c->text), "%s%s%s%s%s", c->attach,
		 c->r.alias ? " (traced as " : "", c->r.alias ? c->r.probe : "",
		 c->r.alias ? ")" : "", c->r.addr ? " at its address" : "");
}

static struct json_object *target_json(const struct klp_target *t, const struct target_check *ck)
{
	struct json_object *f = json_object_new_object();
	bool exists = ck->r.state == TARGET_MEASURED ||
		      (ck->r.state == TARGET_NOT_MEASURED && !ck->r.module) ||
		      (ck->r.state == TARGET_NOT_MEASURED && strncmp(ck->r.why, "module ", 7));

	json_object_object_add(f, "object", json_object_new_string(t->object));
	json_object_object_add(f, "function", json_object_new_string(t->function));
	json_object_object_add(f, "sympos", json_object_new_uint64(t->sympos));
	json_object_object_add(f, "replacement", json_object_new_string(t->replacement));
	if (ck->r.state == TARGET_UNKNOWN)
		return f;
	json_object_object_add(f, "exists", json_object_new_boolean(exists));
	json_object_object_add(f, "traceable",
			       json_object_new_boolean(ck->r.state == TARGET_MEASURED));
	json_object_object_add(f, "attach", json_object_new_string(ck->attach));
	json_object_object_add(f, "state", json_object_new_string(target_state__name(ck->r.state)));
	if (ck->r.alias)
		json_object_object_add(f, "traced_as", json_object_new_string(ck->r.probe));
	if (ck->r.why[0])
		json_object_object_add(f, "why", json_object_new_string(ck->r.why));
	return f;
}

/* The atomic replace flag as the file holds it: a module's init may still set it. */
static const char *replace_text(const struct klp_module_info *m)
{
	if (m->replace < 0)
		return "";
	if (m->has_params)
		return m->replace ? ", atomic replace as built, module parameters may change it" :
		       ", no atomic replace as built, module parameters may change it";
	return m->replace ? ", atomic replace as built" : ", no atomic replace as built";
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

/*
 * The kernel's word on atomic replace, where a patch of this name is loaded
 * and sysfs has the file (6.11+): 1/0, else -1.
 */
static int loaded_replace(const char *patch)
{
	struct klp_patch_entry pe;
	int r;

	if (klp_sysfs__read_patch(KLP_SYSFS_ROOT_DEFAULT, patch, &pe))
		return -1;
	r = pe.replace;
	klp_patch_entry__free(&pe);
	return r;
}

static size_t max_len(size_t w, const char *s)
{
	size_t n = strlen(s);

	return n > w ? n : w;
}

static void print_text(const char *path, const struct klp_module_info *m,
		       const struct target_check *ck)
{
	int wo = 6, wf = 8, wr = 11;	/* "OBJECT", "FUNCTION", "REPLACEMENT" */
	int now = loaded_replace(m->patch);

	for (size_t i = 0; i < m->n; i++) {
		wo = (int)max_len((size_t)wo, m->targets[i].object);
		wf = (int)max_len((size_t)wf, m->targets[i].function);
		wr = (int)max_len((size_t)wr, m->targets[i].replacement);
	}
	printf("patch %s (%s-style%s) from %s\n", m->patch, m->style, replace_text(m), path);
	if (now >= 0)
		printf("  loaded now: %s (sysfs)\n", now ? "atomic replace" : "no atomic replace");
	if (m->n)
		printf("  %-*s  %-*s  %6s  %-*s  %s\n", wo, "OBJECT", wf, "FUNCTION", "SYMPOS", wr,
		       "REPLACEMENT", "RUNNING KERNEL");
	for (size_t i = 0; i < m->n; i++) {
		const struct klp_target *t = &m->targets[i];

		printf("  %-*s  %-*s  %6lu  %-*s  %s\n", wo, t->object, wf, t->function, t->sympos,
		       wr, t->replacement, ck[i].text);
	}
	for (size_t i = 0; i < m->nobjects; i++)
		if (!m->objects[i].nfuncs)
			printf("  object %s: no functions (callbacks or state only)\n",
			       m->objects[i].name);
	if (!m->n)
		printf("  the patch replaces no function\n");
}

static struct json_object *inspect_json(const char *path, const struct klp_module_info *m,
					const struct target_check *ck)
{
	struct json_object *doc = json_object_new_object(), *fns = json_object_new_array(),
			   *objs = json_object_new_array();

	json_object_object_add(doc, "patch", json_object_new_string(m->patch));
	json_object_object_add(doc, "module", json_object_new_string(path));
	json_object_object_add(doc, "style", json_object_new_string(m->style));
	/* as built: an init that copies a parameter into it is only seen in sysfs */
	json_object_object_add(doc, "replace",
			       m->replace < 0 ? NULL : json_object_new_boolean(m->replace));
	json_object_object_add(doc, "has_parameters", json_object_new_boolean(m->has_params));
	/* where a patch of this name is loaded: what the kernel says (6.11+) */
	if (loaded_replace(m->patch) >= 0)
		json_object_object_add(doc, "replace_loaded",
				       json_object_new_boolean(loaded_replace(m->patch)));
	for (size_t i = 0; i < m->nobjects; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(m->objects[i].name));
		json_object_object_add(o, "functions", json_object_new_uint64(m->objects[i].nfuncs));
		json_object_array_add(objs, o);
	}
	json_object_object_add(doc, "objects", objs);
	for (size_t i = 0; i < m->n; i++)
		json_object_array_add(fns, target_json(&m->targets[i], &ck[i]));
	json_object_object_add(doc, "functions", fns);
	return doc;
}

int do_inspect(int argc, char **argv)
{
	struct name_table *ksyms = NULL, *ftrace = NULL;
	struct target_check *ck = NULL;
	struct klp_module_info m;
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
	ck = calloc(m.n + 1, sizeof(*ck));
	if (!ck) {
		lps_err("out of memory");
		ret = CLI_EXIT_ERROR;
		goto cleanup;
	}
	/* The running kernel's view is extra: without it the file still speaks. */
	if (ksyms__load(&ksyms))
		ksyms = NULL;
	if (ftrace_funcs__load(&ftrace))
		ftrace = NULL;
	for (size_t i = 0; i < m.n; i++)
		check_target(&m.targets[i], ksyms, ftrace, &ck[i]);
	if (a.json) {
		struct json_object *doc = inspect_json(argv[first], &m, ck);

		cli__print_json(doc);
		json_object_put(doc);
	} else {
		print_text(argv[first], &m, ck);
	}
	ret = CLI_EXIT_OK;
cleanup:
	free(ck);
	name_table__free(ksyms);
	name_table__free(ftrace);
	func_btf__cleanup();
	klp_module_info__free(&m);
	return ret;
}

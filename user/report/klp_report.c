// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>
#include "klp_report.h"
#include "klp_tasks.h"

static struct json_object *tristate(int v)
{
	return v < 0 ? NULL : json_object_new_boolean(v);
}

struct json_object *klp_report__patch_json(const struct klp_patch_entry *p,
					   const struct klp_transition_info *t)
{
	struct json_object *o = json_object_new_object(), *objs = json_object_new_array();

	json_object_object_add(o, "patch", json_object_new_string(p->name));
	json_object_object_add(o, "enabled", json_object_new_boolean(p->enabled == 1));
	json_object_object_add(o, "transition", json_object_new_boolean(p->transition == 1));
	json_object_object_add(o, "replace", tristate(p->replace));
	json_object_object_add(o, "stack_order",
			       p->stack_order < 0 ? NULL : json_object_new_int(p->stack_order));
	for (size_t i = 0; i < p->nobjs; i++) {
		struct json_object *ob = json_object_new_object(), *fa = json_object_new_array();

		json_object_object_add(ob, "object", json_object_new_string(p->objs[i].name));
		json_object_object_add(ob, "patched", tristate(p->objs[i].patched));
		for (size_t j = 0; j < p->objs[i].nfuncs; j++) {
			struct json_object *fn = json_object_new_object();

			json_object_object_add(fn, "function",
					       json_object_new_string(p->objs[i].funcs[j].name));
			json_object_object_add(fn, "sympos",
					       json_object_new_uint64(p->objs[i].funcs[j].sympos));
			json_object_array_add(fa, fn);
		}
		json_object_object_add(ob, "functions", fa);
		json_object_array_add(objs, ob);
	}
	json_object_object_add(o, "objects", objs);
	if (t) {
		struct json_object *tr = json_object_new_object(), *bl = json_object_new_array();

		json_object_object_add(tr, "direction",
				       json_object_new_string(t->target ? "patching" : "unpatching"));
		json_object_object_add(tr, "elapsed_s", t->elapsed_s < 0 ? NULL :
				       json_object_new_double(t->elapsed_s));
		for (size_t i = 0; i < t->nblockers; i++) {
			struct json_object *b = json_object_new_object();

			json_object_object_add(b, "pid", json_object_new_int(t->blockers[i].pid));
			json_object_object_add(b, "tid", json_object_new_int(t->blockers[i].tid));
			json_object_object_add(b, "comm", json_object_new_string(t->blockers[i].comm));
			json_object_object_add(b, "patch_state",
					       json_object_new_int(t->blockers[i].state));
			json_object_object_add(b, "stack", t->blockers[i].stack ?
					       json_object_new_string(t->blockers[i].stack) : NULL);
			json_object_array_add(bl, b);
		}
		json_object_object_add(tr, "blockers", bl);
		json_object_object_add(o, "transition_info", tr);
	}
	return o;
}

static const char *yes_no(int v)
{
	return v < 0 ? "-" : v ? "yes" : "no";
}

void klp_report__blockers_text(FILE *f, const struct klp_transition_info *t)
{
	fprintf(f, "  %s transition in progress", t->target ? "patching" : "unpatching");
	if (t->elapsed_s >= 0)
		fprintf(f, " for %.1fs", t->elapsed_s);
	fprintf(f, ", %zu task%s not yet %s:\n", t->nblockers, t->nblockers == 1 ? "" : "s",
		t->target ? "patched" : "unpatched");
	for (size_t i = 0; i < t->nblockers; i++) {
		const struct klp_blocker *b = &t->blockers[i];

		fprintf(f, "    pid %d tid %d (%s) patch_state %d\n", b->pid, b->tid, b->comm,
			b->state);
		if (b->stack) {
			const char *line = b->stack;

			while (*line) {
				size_t len = strcspn(line, "\n");

				fprintf(f, "      %.*s\n", (int)len, line);
				line += len + (line[len] == '\n');
			}
		}
	}
}

void klp_report__patch_text(FILE *f, const struct klp_patch_entry *p,
			    const struct klp_transition_info *t)
{
	fprintf(f, "%s: enabled %s, transition %s, replace %s", p->name, yes_no(p->enabled),
		yes_no(p->transition), yes_no(p->replace));
	if (p->stack_order >= 0)
		fprintf(f, ", stack_order %d", p->stack_order);
	fputc('\n', f);
	for (size_t i = 0; i < p->nobjs; i++) {
		fprintf(f, "  %s (patched %s):", p->objs[i].name, yes_no(p->objs[i].patched));
		for (size_t j = 0; j < p->objs[i].nfuncs; j++)
			fprintf(f, " %s,%lu", p->objs[i].funcs[j].name, p->objs[i].funcs[j].sympos);
		fputc('\n', f);
	}
	if (t)
		klp_report__blockers_text(f, t);
}

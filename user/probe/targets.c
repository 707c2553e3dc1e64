// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "targets.h"

const char *target_state__name(enum target_state s)
{
	switch (s) {
	case TARGET_MEASURED: return "measured";
	case TARGET_NOT_MEASURED: return "not measured";
	case TARGET_INVALID: return "invalid";
	default: return "unknown";
	}
}

static void set_state(struct target_res *r, enum target_state s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_state(struct target_res *r, enum target_state s, const char *fmt, ...)
{
	va_list ap;

	r->state = s;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
}

void target__resolve(const struct klp_target *t, struct name_table *ksyms,
		     const struct name_table *ftrace, struct target_res *out)
{
	const char *mod = strcmp(t->object, "vmlinux") ? t->object : NULL;
	const char *fn = t->function, *alias;
	size_t count, nth = t->sympos ? t->sympos : 1;

	memset(out, 0, sizeof(*out));
	out->module = mod;
	snprintf(out->probe, sizeof(out->probe), "%s", fn);
	if (!ksyms)
		return;
	/* The kernel applies a module's object when the module arrives. */
	if (mod && !name_table__has_module(ksyms, mod)) {
		set_state(out, TARGET_NOT_MEASURED, "module %s is not loaded; the kernel patches "
			  "it when it loads", mod);
		return;
	}
	/* The kernel's own lookup (klp_find_object_symbol): these refuse the patch. */
	count = name_table__count_in(ksyms, fn, mod);
	if (!count) {
		set_state(out, TARGET_INVALID, "unknown function: not in /proc/kallsyms%s%s",
			  mod ? " for module " : "", mod ? mod : "");
		return;
	}
	if (!t->sympos && count > 1) {
		set_state(out, TARGET_INVALID, "ambiguous: %zu functions of %s have this name "
			  "and the patch gives no sympos", count, mod ? mod : "vmlinux");
		return;
	}
	if (nth > count) {
		set_state(out, TARGET_INVALID, "sympos %lu, but %s has %zu function%s of this name",
			  t->sympos, mod ? mod : "vmlinux", count, count == 1 ? "" : "s");
		return;
	}
	out->addr = name_table__addr_in(ksyms, fn, mod, nth);
	/*
	 * ftrace lists one name per address: a wrapper aliased to its body
	 * (__x64_sys_getpid and __do_sys_getpid) is traced under the listed name.
	 */
	if (ftrace && !name_table__count_in(ftrace, fn, mod)) {
		alias = name_table__alias(ksyms, out->addr, mod, ftrace);
		if (!alias) {
			set_state(out, TARGET_NOT_MEASURED, "not traceable: %s",
				  out->addr ? "no name at its address is in available_filter_"
				  "functions (inlined, notrace or on the kprobe blacklist)" :
				  "not in available_filter_functions, and kallsyms hides "
				  "addresses (run as root to look for an alias)");
			return;
		}
		snprintf(out->probe, sizeof(out->probe), "%s", alias);
		out->alias = true;
	}
	/*
	 * A name that several kernel symbols carry (in any object) cannot be
	 * given to a probe: kprobes at the address, when kallsyms shows it.
	 */
	if (name_table__count(ksyms, out->probe, NULL) > 1) {
		if (!out->addr) {
			set_state(out, TARGET_NOT_MEASURED, "%zu kernel functions are named %s and "
				  "kallsyms hides their addresses (run as root)",
				  name_table__count(ksyms, out->probe, NULL), out->probe);
			return;
		}
		out->kprobe_only = true;
	} else {
		out->addr = 0;
	}
	/*
	 * A module's functions get kprobes, never fentry: a BPF trampoline holds
	 * a reference on the module, and rmmod of the target fails while it is
	 * attached.
	 */
	if (mod)
		out->kprobe_only = true;
	out->state = TARGET_MEASURED;
}

int targets__resolve_all(const struct klp_module_info *m, struct target_res *out)
{
	struct name_table *ksyms = NULL, *ftrace = NULL;
	int ret = ksyms__load(&ksyms);

	/* Unreadable (locked-down tracefs): every existing function counts as traceable. */
	if (ftrace_funcs__load(&ftrace))
		ftrace = NULL;
	for (size_t i = 0; i < m->n; i++)
		target__resolve(&m->targets[i], ret ? NULL : ksyms, ftrace, &out[i]);
	name_table__free(ksyms);
	name_table__free(ftrace);
	return ret;
}

void target__spec(const struct klp_target *t, const struct target_res *r, struct probe_spec *out)
{
	*out = (struct probe_spec){
		.name = t->function, .probe = r->probe, .module = r->module, .addr = r->addr,
		.kprobe_only = r->kprobe_only,
	};
}

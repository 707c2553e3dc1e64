// SPDX-License-Identifier: GPL-2.0
/*
 * The watch daemon following modules: what a module's initstate says (live,
 * or not; which load), what changed between two ticks (arrived, left,
 * reloaded), a module that goes taking its probes with it (its functions wait
 * again, their counters kept), counters that carry over from one load's probes
 * to the next, and a tick over a sysfs-like tree.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unit.h"
#include "hist.h"
#include "watch.h"

static void set_state(const char *mod, const char *text)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", unit_tmpdir, mod);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/%s/initstate", unit_tmpdir, mod);
	if (!text) {
		unlink(path);
		rmdir(strrchr(path, '/') ? (*strrchr(path, '/') = 0, path) : path);
		return;
	}
	unit__write_file(path, text, strlen(text));
}

static void test_see(void **state)
{
	struct mod_seen s;
	struct stat st;
	char path[256];

	(void)state;
	assert_int_equal(watch_mod__see(unit_tmpdir, "absent_mod", &s), 0);
	assert_false(s.live);
	set_state("m1", "coming\n");
	assert_int_equal(watch_mod__see(unit_tmpdir, "m1", &s), 0);
	assert_false(s.live);
	assert_int_equal(s.ino, 0);
	set_state("m1", "live\n");
	assert_int_equal(watch_mod__see(unit_tmpdir, "m1", &s), 0);
	assert_true(s.live);
	snprintf(path, sizeof(path), "%s/m1/initstate", unit_tmpdir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(s.ino, st.st_ino);
	set_state("m1", "going\n");
	assert_int_equal(watch_mod__see(unit_tmpdir, "m1", &s), 0);
	assert_false(s.live);
	/* A name from a patch goes into a path: nothing but a module name. */
	assert_int_equal(watch_mod__see(unit_tmpdir, "../m1", &s), -EINVAL);
	set_state("m1", NULL);
}

static void test_change(void **state)
{
	struct watch_mod m = { .ino = 0 };
	struct mod_seen absent = { 0 }, live5 = { true, 5 }, live6 = { true, 6 };

	(void)state;
	assert_int_equal(watch_mod__change(&m, &absent), MOD_SAME);
	assert_int_equal(watch_mod__change(&m, &live5), MOD_ARRIVED);
	m.ino = 5;
	assert_int_equal(watch_mod__change(&m, &live5), MOD_SAME);
	assert_int_equal(watch_mod__change(&m, &absent), MOD_LEFT);
	/* Gone and back between two ticks: the probes are on the load that went. */
	assert_int_equal(watch_mod__change(&m, &live6), MOD_RELOADED);
}

static struct lps_hist reading(__u64 calls, __u64 ns)
{
	struct lps_hist h;

	memset(&h, 0, sizeof(h));
	h.calls = calls;
	h.buckets[lps_hist_bucket(ns)] = calls;
	h.sum_ns = calls * ns;
	h.max_ns = ns;
	return h;
}

static void init_watch(struct watch *w)
{
	memset(w, 0, sizeof(*w));
	rules__builtin(&w->def);
	w->def.min_calls = 10;
	w->tick_s = 1;
	w->sc.stats_fd = -EBADF;
	w->module_root = unit_tmpdir;
	w->capfns = 4;
	w->fns = calloc(w->capfns, sizeof(*w->fns));
	assert_non_null(w->fns);
}

/* A group of fn (already in w) for module mod, as if its probes were attached. */
static void fake_group(struct watch *w, size_t fn, const char *mod)
{
	struct watch_group *g = calloc(1, sizeof(*g));

	assert_non_null(g);
	snprintf(g->module, sizeof(g->module), "%s", mod);
	g->n = 1;
	g->fn = calloc(1, sizeof(*g->fn));
	g->buf = calloc(1, sizeof(*g->buf));
	w->groups = realloc(w->groups, (w->ngroups + 1) * sizeof(*w->groups));
	assert_true(g->fn && g->buf && w->groups);
	g->fn[0] = fn;
	w->groups[w->ngroups++] = g;
	w->fns[fn].grp = g;
	w->fns[fn].idx = 0;
	snprintf(w->fns[fn].module, sizeof(w->fns[fn].module), "%s", mod);
}

static void test_release_and_carry(void **state)
{
	struct watch w;
	struct watch_fn *fn;
	struct lps_hist b, r;
	double s;

	(void)state;
	init_watch(&w);
	assert_int_equal(watch_fn__init(&w.fns[0], "version_proc_show", 5), 0);
	assert_int_equal(watch_fn__init(&w.fns[1], "busymod_work_func", 5), 0);
	w.nfns = 2;
	fake_group(&w, 0, "");
	fake_group(&w, 1, "test_klp_callbacks_busy");
	fn = &w.fns[1];
	for (int k = 1; k <= 4; k++) {
		r = reading(10 * (__u64)k, 5000);
		watch_fn__push_probe(fn, &r, 1.0);
	}
	assert_int_equal(fn->cum.calls, 40);
	assert_true(watch__baseline(&w, fn, &b, &s));
	/* The module goes: its group only; the function waits, its counts kept. */
	watch__release_module(&w, "test_klp_callbacks_busy");
	assert_int_equal(w.ngroups, 1);
	assert_string_equal(w.groups[0]->module, "");
	assert_null(fn->grp);
	assert_int_equal(fn->state, FN_WAITING);
	assert_string_equal(watch_fn__state_name(fn), "waiting");
	assert_int_equal(fn->cum.calls, 40);
	assert_int_equal(fn->carry.calls, 40);
	/* Its baseline was of the load that went. */
	assert_false(watch__baseline(&w, fn, &b, &s));
	/* The next load's probes count from 0: the counters go on from 40, never back. */
	fake_group(&w, 1, "test_klp_callbacks_busy");
	fn->state = FN_TRACED;
	r = reading(7, 9000);
	watch_fn__push_probe(fn, &r, 1.0);
	r = reading(12, 9000);
	watch_fn__push_probe(fn, &r, 1.0);
	assert_int_equal(fn->cum.calls, 52);
	assert_true(watch__baseline(&w, fn, &b, &s));
	assert_int_equal(b.calls, 7);	/* the newest tick left out, as always */
	assert_int_equal(b.buckets[lps_hist_bucket(9000)], 7);
	watch__free_model(&w);
}

/*
 * A tick over a sysfs-like tree: a module that becomes live is tried once
 * (here its function is in no kernel: it stays waiting, with the reason,
 * and is not tried again on every tick), one that goes is forgotten until
 * its next load.
 */
static void test_tick(void **state)
{
	struct watch w;
	struct watch_mod *m;

	(void)state;
	init_watch(&w);
	assert_int_equal(watch_fn__init(&w.fns[0], "lps_no_such_function_xyz", 5), 0);
	snprintf(w.fns[0].module, sizeof(w.fns[0].module), "lps_mod_a");
	w.fns[0].state = FN_WAITING;
	w.nfns = 1;
	m = watch__mod(&w, "lps_mod_a");
	assert_non_null(m);
	assert_ptr_equal(watch__mod(&w, "lps_mod_a"), m);
	watch_modules__tick(&w);
	assert_false(m->live);
	assert_int_equal(m->ino, 0);
	set_state("lps_mod_a", "live\n");
	watch_modules__tick(&w);
	assert_true(m->live);
	assert_int_not_equal(m->ino, 0);
	assert_non_null(strstr(m->why, "lps_no_such_function_xyz"));
	assert_int_equal(w.fns[0].state, FN_WAITING);
	assert_int_equal(w.ngroups, 0);
	watch_modules__tick(&w);
	assert_int_equal(watch_mod__change(m, &(struct mod_seen){ true, m->ino }), MOD_SAME);
	set_state("lps_mod_a", "going\n");
	watch_modules__tick(&w);
	assert_false(m->live);
	assert_int_equal(m->ino, 0);
	set_state("lps_mod_a", NULL);
	watch__free_model(&w);
}

/*
 * A patch's function in a module that is not loaded: a record waiting for it,
 * no probes, no error. The same name said to be in vmlinux, or in a module
 * that is live, is an unknown function.
 */
static void test_add_waiting(void **state)
{
	const char *names[] = { "lps_no_such_function_xyz" };
	const char *in_mod[] = { "lps_mod_b" }, *in_vmlinux[] = { "vmlinux" };
	struct watch w;
	char why[300] = "";

	(void)state;
	init_watch(&w);
	assert_int_equal(watch__add_group(&w, names, in_mod, NULL, 1, why, sizeof(why)), 0);
	assert_int_equal(w.nfns, 1);
	assert_int_equal(w.fns[0].state, FN_WAITING);
	assert_string_equal(w.fns[0].module, "lps_mod_b");
	assert_null(w.fns[0].grp);
	assert_int_equal(w.ngroups, 0);
	assert_int_equal(w.nmods, 1);
	assert_string_equal(w.mods[0].name, "lps_mod_b");
	assert_false(w.mods[0].live);
	watch__free_model(&w);

	init_watch(&w);
	assert_int_equal(watch__add_group(&w, names, in_vmlinux, NULL, 1, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "unknown function"));
	assert_int_equal(w.nfns, 0);
	set_state("lps_mod_b", "live\n");
	why[0] = 0;
	assert_int_equal(watch__add_group(&w, names, in_mod, NULL, 1, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "unknown function"));
	assert_int_equal(w.nfns, 0);
	set_state("lps_mod_b", NULL);
	watch__free_model(&w);
}

/*
 * The sympos of each function a patch replaces, as sysfs shows it: the
 * daemon resolves a name several functions share by it (targets.h), and a
 * module's function that waits keeps it for when the module arrives.
 */
static void test_patch_functions_sympos(void **state)
{
	struct klp_func_entry vf[] = { { "__x64_sys_getpid", 1 }, { "dup_name", 2 } };
	struct klp_func_entry mf[] = { { "dup_name", 3 }, { "mod_fn", 1 } };
	struct klp_object_entry objs[] = { { "vmlinux", 1, vf, 2 }, { "lps_mod_c", -1, mf, 2 } };
	struct klp_patch_entry p = { .name = "lp", .objs = objs, .nobjs = 2 };
	const char **names, **ob;
	unsigned long *sympos;

	(void)state;
	assert_int_equal(watch__patch_functions(&p, &names, &ob, &sympos), 3);
	assert_string_equal(names[1], "dup_name");
	assert_string_equal(ob[1], "vmlinux");
	assert_int_equal(sympos[1], 2);
	assert_string_equal(names[2], "mod_fn");
	assert_string_equal(ob[2], "lps_mod_c");
	assert_int_equal(sympos[2], 1);
	free(names);
	free(ob);
	free(sympos);
}

/* A waiting function keeps the sympos its patch gave, for the probes of its module's load. */
static void test_waiting_keeps_sympos(void **state)
{
	const char *names[] = { "lps_no_such_function_xyz" }, *in_mod[] = { "lps_mod_d" };
	unsigned long sympos[] = { 2 };
	struct watch w;
	char why[300] = "";

	(void)state;
	init_watch(&w);
	assert_int_equal(watch__add_group(&w, names, in_mod, sympos, 1, why, sizeof(why)), 0);
	assert_int_equal(w.fns[0].state, FN_WAITING);
	assert_int_equal(w.fns[0].sympos, 2);
	assert_null(watch__fn_traced_as(&w.fns[0]));
	watch__free_model(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_see),
		cmocka_unit_test(test_change),
		cmocka_unit_test(test_release_and_carry),
		cmocka_unit_test(test_tick),
		cmocka_unit_test(test_add_waiting),
		cmocka_unit_test(test_patch_functions_sympos),
		cmocka_unit_test(test_waiting_keeps_sympos),
	};

	return cmocka_run_group_tests(tests, unit__tmpdir_setup, unit__tmpdir_teardown);
}

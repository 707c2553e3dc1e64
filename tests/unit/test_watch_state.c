// SPDX-License-Identifier: GPL-2.0
/*
 * The watch daemon's state file: what is saved comes back exactly, and every
 * truncation and every corruption of a real saved file is refused, not read.
 * The state directory: only root's is used, no link in it is followed, a
 * failed write leaves the old file whole; the audit trail keeps a line it
 * could not write and writes it later; a state file naming functions the
 * kernel does not have is read back quickly and keeps them.
 */
#define _GNU_SOURCE
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <syslog.h>
#include "unit.h"
#include "safe_file.h"
#include "clock.h"
#include "watch.h"
#include "watch_state.h"

static int dirfd_of(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

static void fill(struct watch_state *st, struct state_baseline *f, struct state_patch *p)
{
	memset(st, 0, sizeof(*st));
	snprintf(st->kernel, sizeof(st->kernel), "6.12.0-test-amd64");
	snprintf(st->boot_id, sizeof(st->boot_id), "4b0c3a5e-2f1d-4c7b-9a8e-0d1e2f3a4b5c");
	for (size_t i = 0; i < 3; i++) {
		memset(&f[i], 0, sizeof(f[i]));
		snprintf(f[i].function, sizeof(f[i].function), "func_%zu", i);
		f[i].seconds = 10.5 + (double)i;
		f[i].hist.calls = 1000 + i;
		f[i].hist.errors = i;
		snprintf(f[i].attach, sizeof(f[i].attach), "%s", i ? "kprobe" : "fentry");
		for (size_t b = 0; b < HIST_BUCKETS; b += 7)
			f[i].hist.buckets[b] = b * (i + 1);
	}
	memset(p, 0, sizeof(*p));
	snprintf(p->patch, sizeof(p->patch), "lp_gate_slow");
	p->verdict = 2;
	snprintf(p->state, sizeof(p->state), "reverted");
	p->judged_at = 1764000000;
	st->funcs = f;
	st->nfuncs = 3;
	st->patches = p;
	st->npatches = 1;
}

static void test_roundtrip(void **state)
{
	struct state_baseline f[3];
	struct state_patch p;
	struct watch_state st, back;
	char why[128] = "";
	int dfd;

	(void)state;
	fill(&st, f, &p);
	dfd = dirfd_of(unit_tmpdir);

	assert_int_equal(watch_state__save(dfd, &st), 0);
	assert_int_equal(watch_state__load(dfd, &back, why, sizeof(why)), 0);
	close(dfd);
	assert_string_equal(back.kernel, st.kernel);
	assert_string_equal(back.boot_id, st.boot_id);
	assert_int_equal(back.nfuncs, 3);
	assert_int_equal(back.npatches, 1);
	assert_memory_equal(back.funcs, f, sizeof(f));
	assert_memory_equal(back.patches, &p, sizeof(p));
	watch_state__free(&back);
}

static void test_missing(void **state)
{
	struct watch_state back;
	char why[128];

	(void)state;
	int dfd = dirfd_of("/");

	assert_int_equal(watch_state__load(dfd, &back, why, sizeof(why)), -ENOENT);
	close(dfd);
}

/* A real state file: fill()'s state saved, read back whole. */
static unsigned char *saved_state_file(size_t *n)
{
	struct state_baseline f[3];
	struct state_patch p;
	struct watch_state st;
	char path[256];

	int dfd = dirfd_of(unit_tmpdir);

	fill(&st, f, &p);
	assert_int_equal(watch_state__save(dfd, &st), 0);
	close(dfd);
	snprintf(path, sizeof(path), "%s/%s", unit_tmpdir, WATCH_STATE_FILE);
	return unit__read_file(path, n);
}

/* Every prefix of a real file is refused. */
static void test_truncations(void **state)
{
	struct watch_state back;
	char why[128];
	size_t n;
	unsigned char *buf = saved_state_file(&n);

	(void)state;
	for (size_t k = 0; k < n; k++) {
		why[0] = 0;
		assert_int_equal(watch_state__decode(buf, k, &back, why, sizeof(why)), -EBADMSG);
		assert_true(why[0] != 0);
		assert_null(back.funcs);
	}
	assert_int_equal(watch_state__decode(buf, n, &back, why, sizeof(why)), 0);
	watch_state__free(&back);
	free(buf);
}

/* Every bit flip in a real file is refused. */
static void test_corruptions(void **state)
{
	struct watch_state back;
	char why[128];
	size_t n, refused = 0;
	unsigned char *buf = saved_state_file(&n);

	(void)state;
	for (size_t k = 0; k < n; k++) {
		for (unsigned bit = 0; bit < 8; bit++) {
			int ret;

			buf[k] ^= (unsigned char)(1u << bit);
			ret = watch_state__decode(buf, n, &back, why, sizeof(why));
			buf[k] ^= (unsigned char)(1u << bit);
			if (ret == 0) {
				print_message("accepted flip at %zu bit %u of %zu\n", k, bit, n);
				watch_state__free(&back);
			}
			assert_int_equal(ret, -EBADMSG);
			refused++;
		}
	}
	assert_int_equal(refused, n * 8);
	free(buf);
}

/* A failed save never leaves a temp file or touches the old state. */
static void test_atomic_no_leftovers(void **state)
{
	char cmd[256];
	int dfd = dirfd_of(unit_tmpdir);

	(void)state;
	assert_int_equal(watch_state__write_atomic(dfd, "no-such-dir/x", "a", 1), -ENOENT);
	assert_int_equal(watch_state__write_atomic(dfd, "x", "abc", 3), 0);
	close(dfd);
	snprintf(cmd, sizeof(cmd), "test $(ls -A %s | grep -c '^\\.') -eq 0", unit_tmpdir);
	assert_int_equal(system(cmd), 0);
}

/* A fresh subdirectory of the scratch directory, and its descriptor. */
static int subdir(const char *name, char *path, size_t len)
{
	snprintf(path, len, "%s/%s", unit_tmpdir, name);
	assert_int_equal(mkdir(path, 0700), 0);
	return dirfd_of(path);
}

/* Only a directory root alone can change is a state directory. */
static void test_dir_trust(void **state)
{
	char dir[128], why[256] = "";
	int fd;

	(void)state;
	if (geteuid()) {
		skip();		/* ownership by root is what is checked */
		return;
	}
	snprintf(dir, sizeof(dir), "%s/made", unit_tmpdir);
	fd = watch_state__open_dir(dir, why, sizeof(why));	/* made when missing, 0700 */
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(chmod(dir, 0770), 0);
	assert_int_equal(watch_state__open_dir(dir, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "writable by its group"));
	assert_int_equal(chmod(dir, 0703), 0);
	assert_int_equal(watch_state__open_dir(dir, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "every user"));
	assert_int_equal(chmod(dir, 0700), 0);
	assert_int_equal(chown(dir, 65534, 0), 0);
	assert_int_equal(watch_state__open_dir(dir, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "owned by uid 65534"));
}

/* Links in the state directory: never followed, for reading or writing. */
static void test_links_not_followed(void **state)
{
	struct state_baseline f[3];
	struct state_patch p;
	struct watch_state st, back;
	char dir[128], outside[160], link[200], why[128] = "", cmd[800];
	int dfd = subdir("links", dir, sizeof(dir));

	(void)state;
	fill(&st, f, &p);
	/* A good state file elsewhere, linked to: refused, said why, not read. */
	snprintf(outside, sizeof(outside), "%s/outside", unit_tmpdir);
	assert_int_equal(mkdir(outside, 0700), 0);
	{
		int ofd = dirfd_of(outside);

		assert_int_equal(watch_state__save(ofd, &st), 0);
		close(ofd);
	}
	snprintf(link, sizeof(link), "%s/%s", outside, WATCH_STATE_FILE);
	assert_int_equal(symlinkat(link, dfd, WATCH_STATE_FILE), 0);
	assert_int_equal(watch_state__load(dfd, &back, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "symbolic link"));
	assert_null(back.funcs);
	/* A link where status.json goes: replaced by the file, its target untouched. */
	snprintf(link, sizeof(link), "%s/target", outside);
	unit__write_file(link, "keep", 4);
	assert_int_equal(symlinkat(link, dfd, "status.json"), 0);
	assert_int_equal(watch_state__write_atomic(dfd, "status.json", "{}", 2), 0);
	snprintf(cmd, sizeof(cmd), "test \"$(cat %s)\" = keep && test -f %s/status.json && "
		 "test ! -L %s/status.json", link, dir, dir);
	assert_int_equal(system(cmd), 0);
	/* Links planted at the temporary names: skipped (O_EXCL), never written through. */
	for (int i = 0; i < 60; i++) {
		char tmp[64];

		snprintf(tmp, sizeof(tmp), ".planted.%d.%d", (int)getpid(), i);
		assert_int_equal(symlinkat(link, dfd, tmp), 0);
	}
	assert_int_equal(watch_state__write_atomic(dfd, "planted", "new", 3), 0);
	assert_int_equal(system(cmd), 0);
	close(dfd);
}

/* A FIFO, a directory or a huge file as state.lps: refused at once, never waited on. */
static void test_not_a_file(void **state)
{
	struct watch_state back;
	char dir[128], why[128];
	int dfd = subdir("fifo", dir, sizeof(dir));
	double t0 = clock__now_s();

	(void)state;
	assert_int_equal(mkfifoat(dfd, WATCH_STATE_FILE, 0600), 0);
	assert_int_equal(watch_state__load(dfd, &back, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "FIFO"));
	assert_true(clock__now_s() - t0 < 2);
	assert_int_equal(unlinkat(dfd, WATCH_STATE_FILE, 0), 0);
	assert_int_equal(mkdirat(dfd, WATCH_STATE_FILE, 0700), 0);
	assert_int_equal(watch_state__load(dfd, &back, why, sizeof(why)), -EBADMSG);
	assert_int_equal(unlinkat(dfd, WATCH_STATE_FILE, AT_REMOVEDIR), 0);
	{
		int fd = openat(dfd, WATCH_STATE_FILE, O_WRONLY | O_CREAT, 0600);

		assert_true(fd >= 0);
		assert_int_equal(ftruncate(fd, (off_t)SAFE_FILE_MAX_STATE + 1), 0);
		close(fd);
	}
	assert_int_equal(watch_state__load(dfd, &back, why, sizeof(why)), -EBADMSG);
	close(dfd);
}

/* Names the daemon never writes (not symbols, not module names, twice): damage. */
static void test_names_checked(void **state)
{
	static const char *const bad_funcs[] = { "a b", "\x1b[31mx", "f\nrow", "", "x/y" };
	struct state_baseline f[3];
	struct state_patch p;
	struct watch_state st, back;
	unsigned char *buf;
	char why[128];
	size_t n;

	(void)state;
	for (size_t i = 0; i < sizeof(bad_funcs) / sizeof(bad_funcs[0]); i++) {
		fill(&st, f, &p);
		snprintf(f[1].function, sizeof(f[1].function), "%s", bad_funcs[i]);
		assert_int_equal(watch_state__encode(&st, &buf, &n), 0);
		assert_int_equal(watch_state__decode(buf, n, &back, why, sizeof(why)), -EBADMSG);
		assert_non_null(strstr(why, "kernel symbol"));
		free(buf);
	}
	fill(&st, f, &p);
	snprintf(f[2].function, sizeof(f[2].function), "%s", f[0].function);
	assert_int_equal(watch_state__encode(&st, &buf, &n), 0);
	assert_int_equal(watch_state__decode(buf, n, &back, why, sizeof(why)), -EBADMSG);
	assert_non_null(strstr(why, "two baselines"));
	free(buf);
	fill(&st, f, &p);
	snprintf(p.patch, sizeof(p.patch), "lp;rm -rf");
	assert_int_equal(watch_state__encode(&st, &buf, &n), 0);
	assert_int_equal(watch_state__decode(buf, n, &back, why, sizeof(why)), -EBADMSG);
	free(buf);
	fill(&st, f, &p);
	snprintf(f[0].attach, sizeof(f[0].attach), "evil");
	assert_int_equal(watch_state__encode(&st, &buf, &n), 0);
	assert_int_equal(watch_state__decode(buf, n, &back, why, sizeof(why)), -EBADMSG);
	free(buf);
	fill(&st, f, &p);	/* and what the daemon writes is read */
	snprintf(f[0].function, sizeof(f[0].function), "__x64_sys_read.cold.1$");
	assert_int_equal(watch_state__encode(&st, &buf, &n), 0);
	assert_int_equal(watch_state__decode(buf, n, &back, why, sizeof(why)), 0);
	watch_state__free(&back);
	free(buf);
}

/* Writes fail past this many bytes (EFBIG, as a full disk fails with ENOSPC). */
static void limit_writes(rlim_t bytes)
{
	struct rlimit r = { .rlim_cur = bytes, .rlim_max = RLIM_INFINITY };

	assert_int_equal(setrlimit(RLIMIT_FSIZE, &r), 0);
}

/* A save that cannot be written leaves the previous state file whole and no temp. */
static void test_failed_save_keeps_old(void **state)
{
	struct state_baseline f[3];
	struct state_patch p;
	struct watch_state st, back;
	char dir[128], why[128], cmd[300];
	int dfd = subdir("full", dir, sizeof(dir));

	(void)state;
	signal(SIGXFSZ, SIG_IGN);
	fill(&st, f, &p);
	assert_int_equal(watch_state__save(dfd, &st), 0);
	f[0].hist.calls = 99;
	limit_writes(100);
	assert_int_equal(watch_state__save(dfd, &st), -EFBIG);
	limit_writes(RLIM_INFINITY);
	assert_int_equal(watch_state__load(dfd, &back, why, sizeof(why)), 0);
	assert_int_equal(back.funcs[0].hist.calls, 1000);
	watch_state__free(&back);
	snprintf(cmd, sizeof(cmd), "test $(ls -A %s | wc -l) -eq 1", dir);
	assert_int_equal(system(cmd), 0);
	close(dfd);
}

static struct json_object *decision(int n)
{
	struct json_object *o = json_object_new_object();
	char pad[600];

	memset(pad, 'x', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = 0;
	json_object_object_add(o, "n", json_object_new_int(n));
	json_object_object_add(o, "pad", json_object_new_string(pad));
	return o;
}

/*
 * The audit trail on a full disk: no half line, the lines that failed are
 * written later in order, and the trail says how many writes failed.
 */
static void test_audit_full_disk(void **state)
{
	struct audit a;
	struct json_object *o;
	char why[128], dir[128], path[200], *buf, *line, *save = NULL;
	size_t n, lines = 0;
	int dfd = subdir("audit", dir, sizeof(dir)), expect = 0;

	(void)state;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(audit__open(&a, dfd, why, sizeof(why)), 0);
	o = decision(0);
	assert_int_equal(audit__record(&a, o, LOG_NOTICE, "test"), 0);
	json_object_put(o);
	limit_writes(1000);	/* the second line only half fits */
	for (int i = 1; i <= 2; i++) {
		o = decision(i);
		assert_int_not_equal(audit__record(&a, o, LOG_NOTICE, "test"), 0);
		json_object_put(o);
	}
	assert_int_equal(a.npending, 2);
	assert_true(a.failed >= 2);
	limit_writes(RLIM_INFINITY);
	assert_int_equal(audit__flush(&a), 0);
	audit__close(&a);
	snprintf(path, sizeof(path), "%s/%s", dir, AUDIT_FILE);
	buf = unit__read_file(path, &n);
	buf = realloc(buf, n + 1);
	buf[n] = 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct json_object *doc = json_tokener_parse(line), *v;

		assert_non_null(doc);	/* every line whole */
		if (json_object_object_get_ex(doc, "n", &v))
			assert_int_equal(json_object_get_int(v), expect++);
		else
			assert_non_null(strstr(line, "\"event\":\"audit_write_failed\""));
		json_object_put(doc);
		lines++;
	}
	assert_int_equal(expect, 3);
	assert_int_equal(lines, 4);
	free(buf);
	close(dfd);
}

/* The audit trail is not opened through a link, nor when it is a FIFO. */
static void test_audit_no_link(void **state)
{
	struct audit a;
	char dir[128], why[128];
	int dfd = subdir("audit-link", dir, sizeof(dir));

	(void)state;
	assert_int_equal(symlinkat("/tmp/lps-unit-elsewhere", dfd, AUDIT_FILE), 0);
	assert_int_equal(audit__open(&a, dfd, why, sizeof(why)), -ELOOP);
	assert_string_equal(why, "is a symbolic link: refused");
	assert_int_equal(unlinkat(dfd, AUDIT_FILE, 0), 0);
	assert_int_equal(mkfifoat(dfd, AUDIT_FILE, 0600), 0);
	assert_true(audit__open(&a, dfd, why, sizeof(why)) < 0);
	assert_int_equal(access("/tmp/lps-unit-elsewhere", F_OK), -1);
	close(dfd);
}

/*
 * A state file naming 800 functions this kernel does not have: read back in
 * well under a second (not one symbol table read per name), and every one of
 * them saved again, not lost.
 */
static void test_restore_unknown_functions(void **state)
{
	enum { N = 800 };
	struct state_baseline *f = calloc(N, sizeof(*f));
	struct watch_state st = { .funcs = f, .nfuncs = N }, back;
	struct watch w = { .kmsg_fd = -1, .ctl = { .lfd = -1 }, .audit = { .fd = -1 } };
	char dir[128], why[128];
	double t0;

	(void)state;
	assert_non_null(f);
	w.state_fd = subdir("restore", dir, sizeof(dir));
	w.a.state_dir = dir;
	snprintf(w.kernel, sizeof(w.kernel), "6.1.0-test");
	snprintf(st.kernel, sizeof(st.kernel), "6.1.0-test");
	for (size_t i = 0; i < N; i++) {
		snprintf(f[i].function, sizeof(f[i].function), "lps_gone_function_%zu", i);
		snprintf(f[i].attach, sizeof(f[i].attach), "kprobe");
		f[i].hist.calls = 100 + i;
		f[i].seconds = 60;
	}
	assert_int_equal(watch_state__save(w.state_fd, &st), 0);
	t0 = clock__now_s();
	watch_persist__restore(&w);
	print_message("restore of %d unknown functions: %.3f s\n", N, clock__now_s() - t0);
	assert_true(clock__now_s() - t0 < 5);
	assert_int_equal(w.nfns, 0);
	assert_int_equal(w.nkept, N);
	assert_int_equal(watch_persist__save(&w), 0);
	assert_int_equal(watch_state__load(w.state_fd, &back, why, sizeof(why)), 0);
	assert_int_equal(back.nfuncs, N);
	assert_int_equal(back.funcs[N - 1].hist.calls + back.funcs[0].hist.calls > 0, 1);
	watch_state__free(&back);
	free(w.kept);
	free(w.patches);
	close(w.state_fd);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_corruptions),
		cmocka_unit_test(test_atomic_no_leftovers),
		cmocka_unit_test(test_dir_trust),
		cmocka_unit_test(test_links_not_followed),
		cmocka_unit_test(test_not_a_file),
		cmocka_unit_test(test_names_checked),
		cmocka_unit_test(test_failed_save_keeps_old),
		cmocka_unit_test(test_audit_full_disk),
		cmocka_unit_test(test_audit_no_link),
		cmocka_unit_test(test_restore_unknown_functions),
	};

	return cmocka_run_group_tests(tests, unit__tmpdir_setup, unit__tmpdir_teardown);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * `status --state DIR` reading the daemon's status.json: the daemon's own
 * document is read and printed; every field of the wrong type, every name a
 * printer could be fooled by, and every file that is not a small regular file
 * (a link, a FIFO, a huge file) is one error, never an abort or a hang.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "unit.h"
#include "clock.h"
#include "daemon_status.h"
#include "safe_file.h"
#include "watch.h"

static int dirfd_of(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

/* status.json as the daemon writes it: three functions (one waiting for its module), one patch judged. */
static char *real_status(size_t *n)
{
	struct watch w = { .kmsg_fd = -1, .ctl = { .lfd = -1 }, .audit = { .fd = -1 } };
	struct watch_patch *p;
	char path[128];

	w.state_fd = dirfd_of(unit_tmpdir);
	w.a.state_dir = unit_tmpdir;
	w.def.min_calls = 10;
	snprintf(w.kernel, sizeof(w.kernel), "6.1.0-57-amd64");
	w.fns = calloc(3, sizeof(*w.fns));
	assert_non_null(w.fns);
	assert_int_equal(watch_fn__init(&w.fns[0], "version_proc_show", 4), 0);
	assert_int_equal(watch_fn__init(&w.fns[1], "__x64_sys_getpid", 4), 0);
	assert_int_equal(watch_fn__init(&w.fns[2], "busymod_work_func", 4), 0);
	/* A patch's function in a module not loaded: shown waiting for it, not as an error. */
	snprintf(w.fns[2].module, sizeof(w.fns[2].module), "test_klp_callbacks_busy");
	w.fns[2].state = FN_WAITING;
	w.nfns = 3;
	w.fns[0].cum.calls = 42;
	p = watch__patch(&w, "lp_gate_slow");
	p->judged = true;
	p->state = PATCH_REVERTED;
	p->verdict = VERDICT_FAIL;
	assert_int_equal(watch_persist__status(&w), 0);
	watch__free_model(&w);
	close(w.state_fd);
	snprintf(path, sizeof(path), "%s/%s", unit_tmpdir, WATCH_STATUS_FILE);
	return unit__read_file(path, n);
}

/* status text of a status.json document (which must parse); the caller frees it. */
static char *status_text(const char *doc_text, size_t n)
{
	struct json_object *doc;
	char why[256] = "", *out = NULL;
	size_t outn;
	FILE *f;

	assert_int_equal(daemon_status__parse(doc_text, n, &doc, why, sizeof(why)), 0);
	f = open_memstream(&out, &outn);
	assert_non_null(f);
	daemon_status__text(f, doc);
	fclose(f);
	json_object_put(doc);
	return out;
}

static void test_real_document(void **state)
{
	size_t n;
	char *buf = real_status(&n), *out = status_text(buf, n);

	(void)state;
	assert_non_null(strstr(out, "version_proc_show"));
	assert_non_null(strstr(out, "patch lp_gate_slow"));
	assert_non_null(strstr(out, "reverted, verdict fail"));
	assert_non_null(strstr(out, "busymod_work_func            waiting for module "
				 "test_klp_callbacks_busy (not loaded for 0s)"));
	free(out);
	free(buf);
}

/* A daemon on a host whose spinlocks the tracepoints miss says what lock_contention covers. */
static void test_lock_coverage(void **state)
{
	static const char doc_text[] =
		"{\"pid\":1,\"kernel\":\"k\",\"uptime_s\":1,\"listen\":null,\"functions\":[],"
		"\"patches\":[],\"lock_coverage\":\"sleeping locks only (mutexes, rwsems): x\"}";
	size_t n;
	char *buf, *out = status_text(doc_text, strlen(doc_text));

	(void)state;
	assert_non_null(strstr(out, "\n  lock_contention covers sleeping locks only (mutexes, rwsems): x\n"));
	free(out);
	buf = real_status(&n);		/* no signal probes: no caveat to make */
	out = status_text(buf, n);
	assert_null(strstr(out, "lock_contention covers"));
	free(out);
	free(buf);
}

/* A daemon with no control socket says so in status; one without the field (older) reads fine. */
static void test_control_error(void **state)
{
	const char *doc_text = "{\"pid\":7,\"kernel\":\"k\",\"uptime_s\":1,\"listen\":null,"
			       "\"functions\":[],\"patches\":[],\"control_error\":\"no control "
			       "socket (/s/control.sock: Operation not supported)\"}";
	const char *older = "{\"pid\":7,\"kernel\":\"k\",\"uptime_s\":1,\"listen\":null,"
			    "\"functions\":[],\"patches\":[]}";
	char *out = status_text(doc_text, strlen(doc_text));

	(void)state;
	assert_non_null(strstr(out, "\n  control socket: no control socket (/s/control.sock: "
			       "Operation not supported)\n"));
	free(out);
	out = status_text(older, strlen(older));
	assert_null(strstr(out, "control socket"));
	free(out);
}

/* A function whose probes sit on an alias of its code says so, as gate does. */
static void test_traced_as(void **state)
{
	static const char doc_text[] =
		"{\"pid\":1,\"kernel\":\"k\",\"uptime_s\":1,\"listen\":null,\"functions\":[{"
		"\"function\":\"__x64_sys_getpid\",\"object\":\"vmlinux\",\"state\":\"traced\","
		"\"since\":0,\"attach\":\"fentry\",\"traced_as\":\"__do_sys_getpid\",\"calls\":5,"
		"\"errors\":0,\"baseline_calls\":0,\"baseline_p50_ns\":0,\"judging\":false}],"
		"\"patches\":[]}";
	char *out = status_text(doc_text, strlen(doc_text));

	(void)state;
	assert_non_null(strstr(out, "__x64_sys_getpid             fentry as __do_sys_getpid calls 5,"));
	free(out);
}

/* A function under a CPU budget: what share of the time its probes sampled. */
static void test_budget_sampled(void **state)
{
	static const char doc_text[] =
		"{\"pid\":1,\"kernel\":\"k\",\"uptime_s\":1,\"listen\":null,\"functions\":[{"
		"\"function\":\"__x64_sys_getpid\",\"object\":\"vmlinux\",\"state\":\"traced\","
		"\"since\":0,\"attach\":\"kprobe\",\"calls\":5,\"errors\":0,\"baseline_calls\":0,"
		"\"baseline_p50_ns\":0,\"judging\":false,\"cpu_budget_pct\":1,\"sampled\":0.048}],"
		"\"patches\":[]}";
	char *out = status_text(doc_text, strlen(doc_text));

	(void)state;
	assert_non_null(strstr(out, "calls 5 (budget 1%: sampled 4.80% of the time), baseline"));
	free(out);
}

/* Each a document `status` aborted on, or would print a forged row from. */
static void test_damaged_documents(void **state)
{
	static const char *const docs[] = {
		"",
		"{",
		"[]",
		"5",
		"{\"pid\":1,\"kernel\":\"k\",\"uptime_s\":1,\"listen\":null,\"functions\":5,\"patches\":[]}",
		"{\"pid\":1,\"kernel\":\"k\",\"uptime_s\":1,\"listen\":null,\"functions\":[],\"patches\":{}}",
		"{\"pid\":1,\"kernel\":\"k\",\"uptime_s\":1,\"listen\":null,\"functions\":[1],\"patches\":[]}",
		"{\"pid\":\"1\",\"kernel\":\"k\",\"uptime_s\":1,\"listen\":null,\"functions\":[],\"patches\":[]}",
		"{\"pid\":-4,\"kernel\":\"k\",\"uptime_s\":1,\"listen\":null,\"functions\":[],\"patches\":[]}",
		"{\"pid\":1,\"kernel\":[],\"uptime_s\":1,\"listen\":null,\"functions\":[],\"patches\":[]}",
		"{\"pid\":1,\"kernel\":\"k\",\"uptime_s\":\"x\",\"listen\":null,\"functions\":[],\"patches\":[]}",
		"{\"pid\":1,\"kernel\":\"k\",\"uptime_s\":NaN,\"listen\":null,\"functions\":[],\"patches\":[]}",
		"{\"pid\":1,\"kernel\":\"k\\u001b[2J\",\"uptime_s\":1,\"listen\":null,\"functions\":[],"
		"\"patches\":[]}",
		"{\"pid\":1,\"kernel\":\"k\\u0000x\",\"uptime_s\":1,\"listen\":null,\"functions\":[],"
		"\"patches\":[]}",
		"{\"pid\":1,\"kernel\":\"k\",\"uptime_s\":1,\"listen\":null,\"functions\":[],\"patches\":[]}x",
		"{\"pid\":1,\"kernel\":\"k\",\"uptime_s\":1,\"functions\":[],\"patches\":[]}",
		"{\"pid\":1,\"kernel\":\"k\",\"uptime_s\":1,\"listen\":null,\"functions\":[{\"function\":"
		"\"a\\nforged row\",\"object\":\"vmlinux\",\"state\":\"traced\",\"since\":0,\"attach\":\"kprobe\",\"calls\":1,\"errors\":0,\"baseline_calls\":0,"
		"\"baseline_p50_ns\":0,\"judging\":false}],\"patches\":[]}",
		"{\"pid\":1,\"kernel\":\"k\",\"uptime_s\":1,\"listen\":null,\"functions\":[{\"function\":"
		"\"f\",\"object\":\"vmlinux\",\"state\":\"traced\",\"since\":0,\"attach\":\"kprobe\",\"calls\":\"1\",\"errors\":0,\"baseline_calls\":0,"
		"\"baseline_p50_ns\":0,\"judging\":false}],\"patches\":[]}",
		/* An object name that is no module name: a forged row in the making. */
		"{\"pid\":1,\"kernel\":\"k\",\"uptime_s\":1,\"listen\":null,\"functions\":[{\"function\":"
		"\"f\",\"object\":\"m\\nforged\",\"state\":\"waiting\",\"since\":0,\"attach\":\"none\","
		"\"calls\":1,\"errors\":0,\"baseline_calls\":0,\"baseline_p50_ns\":0,\"judging\":false}],"
		"\"patches\":[]}",
		"{\"pid\":1,\"kernel\":\"k\",\"uptime_s\":1,\"listen\":null,\"functions\":[{\"function\":"
		"\"f\",\"object\":\"m\",\"state\":\"waiting\",\"since\":\"0\",\"attach\":\"none\","
		"\"calls\":1,\"errors\":0,\"baseline_calls\":0,\"baseline_p50_ns\":0,\"judging\":false}],"
		"\"patches\":[]}",
		"{\"pid\":1,\"kernel\":\"k\",\"uptime_s\":1,\"listen\":null,\"functions\":[],\"patches\":"
		"[{\"patch\":\"lp x\",\"state\":\"kept\",\"verdict\":null,\"at\":0}]}",
		"{\"pid\":1,\"kernel\":\"k\",\"uptime_s\":1,\"listen\":null,\"functions\":[],\"patches\":"
		"[{\"patch\":\"lp\",\"state\":\"kept\",\"verdict\":7,\"at\":0}]}",
		"{\"pid\":1,\"kernel\":\"k\",\"uptime_s\":1,\"listen\":null,\"functions\":[],\"patches\":"
		"[],\"lock_coverage\":null}",
		/* An alias that is no symbol name: a forged row in the making. */
		"{\"pid\":1,\"kernel\":\"k\",\"uptime_s\":1,\"listen\":null,\"functions\":[{\"function\":"
		"\"f\",\"object\":\"vmlinux\",\"state\":\"traced\",\"since\":0,\"attach\":\"kprobe\","
		"\"traced_as\":\"g\\nforged\",\"calls\":1,\"errors\":0,\"baseline_calls\":0,"
		"\"baseline_p50_ns\":0,\"judging\":false}],\"patches\":[]}",
		"{\"pid\":1,\"kernel\":\"k\",\"uptime_s\":1,\"listen\":null,\"functions\":[],\"patches\":"
		"[],\"lock_coverage\":\"a\\nforged row\"}",
		"{\"pid\":1,\"kernel\":\"k\",\"uptime_s\":1,\"listen\":null,\"functions\":[],\"patches\":"
		"[],\"control_error\":5}",
		/* A budget's share that is no number. */
		"{\"pid\":1,\"kernel\":\"k\",\"uptime_s\":1,\"listen\":null,\"functions\":[{\"function\":"
		"\"f\",\"object\":\"vmlinux\",\"state\":\"traced\",\"since\":0,\"attach\":\"kprobe\","
		"\"calls\":1,\"errors\":0,\"baseline_calls\":0,\"baseline_p50_ns\":0,\"judging\":false,"
		"\"cpu_budget_pct\":1,\"sampled\":\"all\"}],\"patches\":[]}",
		"{\"pid\":1,\"kernel\":\"k\",\"uptime_s\":1,\"listen\":null,\"functions\":[],\"patches\":"
		"[],\"control_error\":\"x\\nforged row\"}",
	};
	struct json_object *doc;
	char why[256];

	(void)state;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		why[0] = 0;
		if (daemon_status__parse(docs[i], strlen(docs[i]), &doc, why, sizeof(why)) !=
		    -EBADMSG)
			fail_msg("accepted document %zu: %s", i, docs[i]);
		assert_null(doc);
		assert_true(why[0] != 0);
	}
}

/* Whatever status.json is, reading it returns at once with one reason. */
static void test_not_a_file(void **state)
{
	struct json_object *doc = (void *)1;
	char dir[128], path[200], why[256];
	double t0 = clock__now_s();
	int fd;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/st", unit_tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	/* None: no daemon, no error. */
	assert_int_equal(daemon_status__read(dir, &doc, why, sizeof(why)), 0);
	assert_null(doc);
	snprintf(path, sizeof(path), "%s/%s", dir, WATCH_STATUS_FILE);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(daemon_status__read(dir, &doc, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "FIFO"));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink("/dev/zero", path), 0);
	assert_int_equal(daemon_status__read(dir, &doc, why, sizeof(why)), -ELOOP);
	assert_non_null(strstr(why, "symbolic link"));
	assert_int_equal(unlink(path), 0);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)SAFE_FILE_MAX_TEXT + 1), 0);
	close(fd);
	assert_int_equal(daemon_status__read(dir, &doc, why, sizeof(why)), -EFBIG);
	assert_null(doc);
	assert_true(clock__now_s() - t0 < 2);
	/* A daemon that is gone: its last document is not shown as live. */
	unit__write_file(path, "{\"pid\":2147483647,\"kernel\":\"k\",\"uptime_s\":1,\"listen\":null,"
			 "\"functions\":[],\"patches\":[]}", 86);
	assert_int_equal(daemon_status__read(dir, &doc, why, sizeof(why)), 0);
	assert_null(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_document),
		cmocka_unit_test(test_lock_coverage),
		cmocka_unit_test(test_traced_as),
		cmocka_unit_test(test_budget_sampled),
		cmocka_unit_test(test_damaged_documents),
		cmocka_unit_test(test_control_error),
		cmocka_unit_test(test_not_a_file),
	};

	return cmocka_run_group_tests(tests, unit__tmpdir_setup, unit__tmpdir_teardown);
}

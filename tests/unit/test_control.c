// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket against hostile clients and hostile servers, on real
 * sockets: requests are checked field by field (1e999 seconds, wrong types,
 * unknown fields); idle, dribbling and non-reading clients never hold the
 * server (each poll returns in its time), get no more than their slots and
 * are closed at their deadline with one error line; gate refuses a socket
 * served by a user other than root, and a reply of the wrong shape is one
 * error, not an abort.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include "unit.h"
#include "cli.h"
#include "clock.h"
#include "control.h"
#include "gate.h"

static int parse(const char *text, struct control_request *req, char *why)
{
	return control__parse_request(text, strlen(text), req, why, 256);
}

static void test_request_fields(void **state)
{
	struct control_request req;
	char why[256];

	(void)state;
	assert_int_equal(parse("{\"op\":\"gate\",\"module\":\"/a/b.ko\",\"rules\":\"/r.yaml\","
			       "\"baseline_s\":4,\"observe_s\":6.5}", &req, why), 0);
	assert_string_equal(req.module, "/a/b.ko");
	assert_string_equal(req.rules, "/r.yaml");
	assert_true(req.baseline_s == 4 && req.observe_s == 6.5);
	assert_string_equal(req.params, "");
	/* Module parameters: checked as gate checks them, joined as finit_module takes them. */
	assert_int_equal(parse("{\"op\":\"gate\",\"module\":\"/a/b.ko\",\"params\":"
			       "[\"replace=1\",\"hook-name=x,y\"]}", &req, why), 0);
	assert_string_equal(req.params, "replace=1 hook-name=x,y");
	/* A judgement that never ends, or none at all. */
	static const char *const bad[] = {
		"{\"op\":\"gate\",\"module\":\"/m.ko\",\"observe_s\":1e999}",
		"{\"op\":\"gate\",\"module\":\"/m.ko\",\"observe_s\":-1}",
		"{\"op\":\"gate\",\"module\":\"/m.ko\",\"observe_s\":0}",
		"{\"op\":\"gate\",\"module\":\"/m.ko\",\"observe_s\":86401}",
		"{\"op\":\"gate\",\"module\":\"/m.ko\",\"baseline_s\":NaN}",
		"{\"op\":\"gate\",\"module\":\"/m.ko\",\"baseline_s\":\"5\"}",
		"{\"op\":\"gate\",\"module\":\"/m.ko\",\"baseline_s\":[5]}",
		"{\"op\":\"gate\",\"module\":\"/m.ko\",\"observe_s\":true}",
		"{\"op\":\"gate\",\"module\":[\"/m.ko\"]}",
		"{\"op\":\"gate\",\"module\":42}",
		"{\"op\":\"gate\",\"module\":\"m.ko\"}",
		"{\"op\":\"gate\",\"module\":\"/m\\u0000.ko\"}",
		"{\"op\":\"gate\",\"module\":\"/m.ko\",\"rules\":{}}",
		"{\"op\":[],\"module\":\"/m.ko\"}",
		"{\"op\":\"load\",\"module\":\"/m.ko\"}",
		"{\"module\":\"/m.ko\"}",
		"{\"op\":\"gate\"}",
		"{\"op\":\"gate\",\"module\":\"/m.ko\",\"force\":true}",
		"{\"op\":\"gate\",\"module\":\"/m.ko\",\"params\":\"replace=1\"}",
		"{\"op\":\"gate\",\"module\":\"/m.ko\",\"params\":[1]}",
		"{\"op\":\"gate\",\"module\":\"/m.ko\",\"params\":[\"replace\"]}",
		"{\"op\":\"gate\",\"module\":\"/m.ko\",\"params\":[\"a=1 b=2\"]}",
		"{\"op\":\"gate\",\"module\":\"/m.ko\",\"params\":[\"a=\\\"x\\\"\"]}",
		"{\"op\":\"gate\",\"module\":\"/m.ko\",\"params\":[\"a=1\\u0000 evil=1\"]}",
		"{\"op\":\"gate\",\"module\":\"/m.ko\",\"params\":[\"a=\\n\"]}",
		"{\"op\":\"gate\",\"module\":\"/m.ko\",\"params\":[[\"a=1\"]]}",
		"{\"op\":\"gate\",\"module\":\"/m.ko\"} {}",
		"[\"op\",\"gate\"]",
		"\"gate\"",
		"{\"op\":\"gate\",\"module\":\"/m.ko\"",
		"{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{",
		"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = 0;
		if (parse(bad[i], &req, why) != -EINVAL || !why[0])
			fail_msg("accepted: %s", bad[i]);
	}
	assert_int_equal(parse("{\"op\":\"gate\",\"module\":\"/m.ko\",\"observe_s\":1e999}", &req,
			       why), -EINVAL);
	assert_non_null(strstr(why, "observe_s"));
	/* More parameters than fit under KLP_PARAMS_MAX: refused, within the request cap. */
	{
		char big[CONTROL_REQUEST_MAX];
		size_t off = (size_t)snprintf(big, sizeof(big), "{\"op\":\"gate\",\"module\":"
					      "\"/m.ko\",\"params\":[");

		for (int i = 0; i < 200; i++)
			off += (size_t)snprintf(big + off, sizeof(big) - off, "%s\"p%d=1234567\"",
						i ? "," : "", i);
		snprintf(big + off, sizeof(big) - off, "]}");
		assert_int_equal(parse(big, &req, why), -EINVAL);
		assert_non_null(strstr(why, "bytes in all"));
	}
	/* A NUL in the raw bytes: refused, not cut short there. */
	assert_int_equal(control__parse_request("{\"op\":\"gate\",\"module\":\"/m\"}\0x", 26, &req,
						why, sizeof(why)), -EINVAL);
}

/*
 * One daemon per state directory: the lock refuses a second and names the
 * first; a gate sees it held while its holder lives, and free once it died.
 */
static void test_daemon_lock(void **state)
{
	char dir[256], c;
	int dfd, fd, holder, pid, p[2], ready[2];
	pid_t child;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/lockdir", unit_tmpdir);
	assert_int_equal(mkdir(dir, 0700), 0);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(dfd >= 0);
	assert_false(control__daemon_runs(dir, &pid));	/* no lock file yet */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(pipe(ready), 0);
	child = fork();
	assert_true(child >= 0);
	if (!child) {	/* the daemon: holds the lock until told to go */
		close(p[1]);
		close(ready[0]);
		if (control__lock(dfd, &holder) < 0 || write(ready[1], "L", 1) != 1)
			_exit(1);
		_exit(read(p[0], &c, 1) >= 0 ? 0 : 1);
	}
	close(p[0]);
	close(ready[1]);
	/* Told, not polled: a loaded machine (sanitizers, a bench beside) took over 2 s. */
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	assert_true(control__daemon_runs(dir, &pid));
	assert_int_equal(pid, child);
	assert_int_equal(control__lock(dfd, &holder), -EBUSY);
	assert_int_equal(holder, child);
	close(p[1]);	/* the daemon goes: its lock with it */
	assert_int_equal(waitpid(child, NULL, 0), child);
	assert_false(control__daemon_runs(dir, &pid));
	fd = control__lock(dfd, &holder);
	assert_true(fd >= 0);
	close(fd);
	close(dfd);
}

/* The server under test and what it handed over. */
struct server {
	struct control_server s;
	int requests, last_id;
	char dir[128];
};

static void on_request(void *arg, struct control_server *s, int id,
		       const struct control_request *req)
{
	struct server *sv = arg;

	(void)s;
	(void)req;
	sv->requests++;
	sv->last_id = id;
}

static void server_start(struct server *sv, double deadline_s)
{
	int lfd;

	memset(sv, 0, sizeof(*sv));
	snprintf(sv->dir, sizeof(sv->dir), "%s", unit_tmpdir);
	lfd = control__listen(sv->dir);
	assert_true(lfd >= 0);
	control_server__init(&sv->s, lfd);
	sv->s.deadline_s = deadline_s;
}

static int client(const char *dir)
{
	char why[256];
	int fd = control__connect(dir, why, sizeof(why));

	if (fd < 0)
		fail_msg("connect: %s", why);
	return fd;
}

/* One poll of at most 50 ms must return within 250 ms whatever the clients do. */
static void poll_once(struct server *sv)
{
	double t0 = clock__now_s();

	control_server__poll(&sv->s, 0.05, on_request, sv);
	if (clock__now_s() - t0 > 0.25)
		fail_msg("a poll of 50 ms took %.3f s", clock__now_s() - t0);
}

/* What the server wrote to fd so far (non-blocking); "" if nothing. */
static const char *got(int fd, char *buf, size_t len)
{
	ssize_t n = recv(fd, buf, len - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = 0;
	return buf;
}

static void test_hostile_clients(void **state)
{
	struct server sv;
	int idle[20], drib, nonreader;
	const char *req = "{\"op\":\"gate\",\"module\":\"/m.ko\",\"observe_s\":5}\n";
	char buf[4096];
	int busy = 0, timed_out = 0;
	double t0;

	(void)state;
	server_start(&sv, 0.5);
	for (int i = 0; i < 20; i++)
		idle[i] = client(sv.dir);
	for (int k = 0; k < 5; k++)
		poll_once(&sv);
	/* Eight slots: the twelve others were told so and closed. */
	for (int i = 0; i < 20; i++)
		busy += strstr(got(idle[i], buf, sizeof(buf)), "\"error\":\"busy") != NULL;
	assert_int_equal(busy, 12);
	assert_int_equal(sv.s.st.busy, 12);
	/* The idle ones are closed at their deadline, each with its error line. */
	t0 = clock__now_s();
	while (clock__now_s() - t0 < 0.8)
		poll_once(&sv);
	for (int i = 0; i < 20; i++) {
		const char *line = got(idle[i], buf, sizeof(buf));

		timed_out += strstr(line, "not whole within") != NULL;
		close(idle[i]);
	}
	assert_int_equal(timed_out, 8);
	assert_int_equal(sv.s.st.timed_out, 8);

	/* A request a byte at a time, across polls: accumulated, then handed over. */
	drib = client(sv.dir);
	for (const char *p = req; *p; p++) {
		assert_int_equal(send(drib, p, 1, 0), 1);
		poll_once(&sv);
	}
	poll_once(&sv);
	assert_int_equal(sv.requests, 1);
	/* A reply the client never reads (4 MiB against a small buffer): the server goes on. */
	nonreader = drib;
	{
		int small = 4096;
		struct json_object *doc = json_object_new_object();
		char *big = malloc(4 << 20);

		setsockopt(nonreader, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
		memset(big, 'x', 4 << 20);
		big[(4 << 20) - 1] = 0;
		json_object_object_add(doc, "error", json_object_new_string(big));
		free(big);
		t0 = clock__now_s();
		control_server__reply(&sv.s, sv.last_id, doc);
		json_object_put(doc);
		assert_true(clock__now_s() - t0 < 0.25);
		assert_int_equal(sv.s.conn[sv.last_id].state, CONN_WRITING);
	}
	t0 = clock__now_s();
	while (clock__now_s() - t0 < 0.8)
		poll_once(&sv);
	assert_int_equal(sv.s.conn[sv.last_id].state, CONN_FREE);
	close(nonreader);

	/* Too long a line: refused at the limit, not read for ever. */
	{
		int fd = client(sv.dir);
		char junk[4096];
		size_t sent = 0;

		memset(junk, ' ', sizeof(junk));
		while (sent <= CONTROL_REQUEST_MAX) {
			ssize_t w = send(fd, junk, sizeof(junk), MSG_DONTWAIT | MSG_NOSIGNAL);

			if (w > 0)
				sent += (size_t)w;
			poll_once(&sv);
			if (sv.s.st.refused)
				break;
		}
		poll_once(&sv);
		assert_int_equal(sv.s.st.refused, 1);
		assert_non_null(strstr(got(fd, buf, sizeof(buf)), "without a newline"));
		close(fd);
	}
	/* A malformed request: its error, one line. */
	{
		int fd = client(sv.dir);
		const char *bad = "{\"op\":\"gate\",\"module\":\"/m.ko\",\"observe_s\":1e999}\n";

		assert_int_equal(send(fd, bad, strlen(bad), 0), (ssize_t)strlen(bad));
		poll_once(&sv);
		poll_once(&sv);
		got(fd, buf, sizeof(buf));
		assert_non_null(strstr(buf, "\"error\":\"request refused: observe_s must be between"));
		assert_ptr_equal(strchr(buf, '\n'), buf + strlen(buf) - 1);
		close(fd);
	}
	assert_int_equal(sv.requests, 1);
	control_server__close(&sv.s);
}

/*
 * A socket served by nobody in a directory nobody owns, answering "pass,
 * kept": gate must not believe it. (Needs root, as the daemon does.)
 */
static void test_untrusted_server(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[80], why[256];
	pid_t pid;
	int lfd, fd, st;

	(void)state;
	if (geteuid()) {
		skip();
		return;
	}
	snprintf(dir, sizeof(dir), "%s/nobody", unit_tmpdir);
	assert_int_equal(chmod(unit_tmpdir, 0711), 0);	/* nobody reaches its directory */
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(chown(dir, 65534, 65534), 0);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, CONTROL_SOCKET);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		const char *pass = "{\"patch\":\"p\",\"verdict\":\"pass\",\"action\":\"kept\","
				   "\"reason\":\"fine\"}\n";

		if (setgid(65534) || setuid(65534))
			_exit(2);
		lfd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 1))
			_exit(3);
		fd = accept(lfd, NULL, NULL);
		(void)!write(fd, pass, strlen(pass));
		_exit(0);
	}
	for (int i = 0; i < 200 && access(sa.sun_path, F_OK); i++)
		clock__nap(0.01);
	fd = control__connect(dir, why, sizeof(why));
	assert_int_equal(fd, -EPERM);
	assert_non_null(strstr(why, "served by uid 65534"));
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
}

/*
 * gate against a busy daemon: the first connection is refused busy before
 * its request is read, the second gets a verdict. gate asks again and exits
 * with that verdict's code.
 */
static void test_gate_asks_again(void **state)
{
	struct gate_args a = { .module = "/proc/self/exe", .state_dir = unit_tmpdir, .json = true };
	struct server sv;
	pid_t pid;
	int st, fd;

	(void)state;
	server_start(&sv, 0.5);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		const char *kept = "{\"patch\":\"p\",\"verdict\":\"pass\",\"action\":\"kept\","
				   "\"reason\":\"r\"}\n";
		const char *busy = "{\"error\":\"busy: try again\",\"busy\":true}\n";
		char line[4096];
		int c;

		/* The slots are taken: this one is refused as the server refuses. */
		fcntl(sv.s.lfd, F_SETFL, 0);	/* this server waits */
		c = accept(sv.s.lfd, NULL, NULL);
		(void)!write(c, busy, strlen(busy));
		close(c);
		c = accept(sv.s.lfd, NULL, NULL);
		if (read(c, line, sizeof(line)) <= 0 || !strstr(line, "\"op\":\"gate\""))
			_exit(2);
		(void)!write(c, kept, strlen(kept));
		close(c);
		_exit(0);
	}
	fd = client(sv.dir);
	freopen("/dev/null", "w", stdout);
	assert_int_equal(gate__via_daemon(&a, fd), CLI_EXIT_OK);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	control_server__close(&sv.s);
}

static int reply(const char *text, bool json, char *why)
{
	struct json_object *doc;
	FILE *out = fopen("/dev/null", "w");
	int ret;

	why[0] = 0;
	if (control__parse_reply(text, strlen(text), &doc, why, 512)) {
		fclose(out);
		return -1;
	}
	ret = gate__daemon_reply(out, json, doc, why, 512);
	json_object_put(doc);
	fclose(out);
	return ret;
}

static void test_reply_shapes(void **state)
{
	static const char *const bad[] = {
		"{\"patch\":\"p\",\"verdict\":\"pass\",\"action\":\"kept\",\"reason\":\"r\","
		"\"functions\":{\"a\":1}}",
		"{\"patch\":\"p\",\"verdict\":\"pass\",\"action\":\"kept\",\"reason\":\"r\","
		"\"functions\":[1]}",
		"{\"patch\":\"p\",\"verdict\":\"pass\",\"action\":\"kept\",\"reason\":\"r\","
		"\"functions\":[{\"function\":\"f\",\"verdict\":\"pass\",\"checks\":\"x\"}]}",
		"{\"patch\":\"p\",\"verdict\":\"pass\",\"action\":\"kept\",\"reason\":\"r\","
		"\"system\":{\"checks\":[{\"check\":1,\"result\":\"pass\",\"detail\":\"\"}]}}",
		"{\"patch\":\"p\",\"verdict\":\"pass\",\"action\":\"kept\",\"reason\":\"r\","
		"\"system\":[]}",
		"{\"patch\":\"p\",\"verdict\":\"pass\",\"action\":[\"kept\"],\"reason\":\"r\"}",
		"{\"patch\":\"p\",\"verdict\":\"pass\",\"reason\":\"r\"}",
		"{\"patch\":\"p\",\"verdict\":\"pass\",\"action\":\"kept\",\"reason\":\"r\","
		"\"operational\":\"no\"}",
		"{\"error\":[1]}",
		"{\"error\":null}",
		"{\"patch\":\"p\",\"verdict\":\"pass\",\"action\":\"kept\",\"reason\":\"r\","
		"\"system\":{\"checks\":[{\"check\":\"lock_contention\",\"result\":\"pass\","
		"\"detail\":\"\",\"coverage\":7}]}}",
	};
	char why[512];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		for (int json = 0; json < 2; json++)
			if (reply(bad[i], json, why) != CLI_EXIT_ERROR || !strstr(why, "watch daemon"))
				fail_msg("accepted: %s (%s)", bad[i], why);
	assert_int_equal(reply("{\"patch\":\"p\",\"verdict\":\"pass\",\"action\":\"kept\","
			       "\"reason\":\"r\",\"operational\":false,\"functions\":[{\"function\":"
			       "\"f\",\"verdict\":\"pass\",\"checks\":[{\"check\":\"latency\","
			       "\"result\":\"pass\",\"detail\":\"d\",\"p\":1}]}],\"system\":{\"checks\":"
			       "[]}}", false, why), CLI_EXIT_OK);
	assert_int_equal(reply("{\"patch\":\"p\",\"verdict\":\"fail\",\"action\":\"reverted\","
			       "\"reason\":\"r\"}", false, why), CLI_EXIT_REGRESSED);
	assert_int_equal(reply("{\"patch\":\"p\",\"verdict\":\"fail\",\"action\":\"reverted\","
			       "\"reason\":\"r\",\"operational\":true}", false, why), CLI_EXIT_ERROR);
	assert_int_equal(reply("{\"error\":\"no\"}", false, why), CLI_EXIT_ERROR);
	assert_string_equal(why, "watch daemon: no");
	assert_int_equal(reply("{\"patch\":1} trailing", false, why), -1);
}

/* gate prints the daemon's lock_contention caveat under the check, as standalone. */
static void test_reply_coverage(void **state)
{
	static const char text[] =
		"{\"patch\":\"p\",\"verdict\":\"pass\",\"action\":\"kept\",\"reason\":\"r\","
		"\"system\":{\"checks\":[{\"check\":\"lock_contention\",\"result\":\"pass\","
		"\"detail\":\"d\",\"coverage\":\"sleeping locks only (mutexes, rwsems): x\"},"
		"{\"check\":\"kernel_faults\",\"result\":\"pass\",\"detail\":\"e\"}]}}";
	struct json_object *doc;
	char why[512], *out = NULL;
	size_t n;
	FILE *f;

	(void)state;
	assert_int_equal(control__parse_reply(text, strlen(text), &doc, why, sizeof(why)), 0);
	f = open_memstream(&out, &n);
	assert_int_equal(gate__daemon_reply(f, false, doc, why, sizeof(why)), CLI_EXIT_OK);
	fclose(f);
	assert_non_null(strstr(out, "  lock_contention  pass         d\n"
				    "                                coverage: sleeping locks only "
				    "(mutexes, rwsems): x\n  kernel_faults    pass         e\n"));
	free(out);
	json_object_put(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_fields),
		cmocka_unit_test(test_daemon_lock),
		cmocka_unit_test(test_hostile_clients),
		cmocka_unit_test(test_untrusted_server),
		cmocka_unit_test(test_reply_shapes),
		cmocka_unit_test(test_reply_coverage),
		cmocka_unit_test(test_gate_asks_again),
	};

	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, unit__tmpdir_setup, unit__tmpdir_teardown);
}

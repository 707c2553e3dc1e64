// SPDX-License-Identifier: GPL-2.0
/*
 * lpload: a load generator that counts its own operations exactly, so that a
 * tracer's call counts can be checked against it.
 *
 *   lpload (--file PATH | --getpid) [--procs P] (--count N | --seconds S)
 *          [--write STR] [--pread] [--pause-us N]
 *
 * Each of P worker processes repeats one operation on PATH: open, read 4096
 * bytes once, close (or open, write STR, close with --write; or one pread at
 * offset 0 on a file opened once, with --pread; or one getpid system call
 * with --getpid, for patches of syscalls), sleeping N us after each
 * with --pause-us: tasks that never sleep hold up RCU-tasks grace periods,
 * which BPF trampolines and livepatch transitions wait for. --count N splits exactly N
 * operations across the workers; --seconds S runs for S seconds, or until
 * SIGINT or SIGTERM (a test stops the load when its tracer is done, however
 * long the tracer took to start). Prints
 * "ops=N errors=E seconds=X ops_per_s=Y"; an operation whose read or write
 * (or open) failed counts in errors as well as in ops.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct load {
	const char *path, *write;
	long procs, count, pause_us;
	double seconds;
	int pread_mode, getpid_mode;
};

struct tally {
	long long ops, errors;
};

/* A --seconds run stopped early: the parent passes the signal to its workers. */
static volatile sig_atomic_t stop_req;
static volatile pid_t workers[1024];	/* volatile: stored before nworkers grows */
static volatile sig_atomic_t nworkers;

static void on_stop(int sig)
{
	int saved = errno;	/* kill() must not change what the code it interrupted reads */

	(void)sig;
	stop_req = 1;
	for (sig_atomic_t i = 0; i < nworkers; i++)
		kill(workers[i], SIGTERM);
	errno = saved;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int one_op(const struct load *l, int *fd)
{
	char buf[4096];
	ssize_t n;
	int f;

	/* syscall(): a libc that caches the pid would make no call at all */
	if (l->getpid_mode)
		return syscall(SYS_getpid) < 0 ? -1 : 0;
	if (l->pread_mode) {
		if (*fd < 0 && (*fd = open(l->path, O_RDONLY)) < 0)
			return -1;
		return pread(*fd, buf, sizeof(buf), 0) < 0 ? -1 : 0;
	}
	f = open(l->path, l->write ? O_WRONLY : O_RDONLY);
	if (f < 0)
		return -1;
	if (l->write)
		n = write(f, l->write, strlen(l->write));
	else
		n = read(f, buf, sizeof(buf));
	close(f);
	return n < 0 ? -1 : 0;
}

static struct tally worker(const struct load *l, long count)
{
	struct tally t = { 0 };
	double end = now_s() + l->seconds;
	int fd = -1;

	for (;;) {
		if (l->count ? t.ops >= count : (stop_req || (t.ops % 64 == 0 && now_s() >= end)))
			break;
		if (one_op(l, &fd))
			t.errors++;
		t.ops++;
		if (l->pause_us) {
			struct timespec ts = { .tv_nsec = l->pause_us * 1000 };

			nanosleep(&ts, NULL);
		}
	}
	if (fd >= 0)
		close(fd);
	return t;
}

static int usage(const char *why)
{
	fprintf(stderr, "lpload: %s (usage: lpload (--file PATH | --getpid) [--procs P] "
		"(--count N | --seconds S) [--write STR] [--pread] [--pause-us N])\n", why);
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "procs", required_argument, NULL, 'p' },
		{ "count", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{ "write", required_argument, NULL, 'w' },
		{ "pread", no_argument, NULL, 'r' },
		{ "getpid", no_argument, NULL, 'g' },
		{ "pause-us", required_argument, NULL, 'u' },
		{ 0 },
	};
	struct load l = { .procs = 1 };
	struct tally total = { 0 }, t;
	int pipefd[2], c, failed = 0;
	double start;
	char *end;

	/* getopt stays quiet: every complaint is one "lpload: ..." line below. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case 'f': l.path = optarg; break;
		case 'w': l.write = optarg; break;
		case 'r': l.pread_mode = 1; break;
		case 'g': l.getpid_mode = 1; break;
		case 'u':
			l.pause_us = strtol(optarg, &end, 10);
			if (*end || end == optarg || l.pause_us < 0 || l.pause_us > 999999)
				return usage("--pause-us wants 0..999999");
			break;
		case 'p':
			l.procs = strtol(optarg, &end, 10);
			if (*end || l.procs < 1 || l.procs > 1024)
				return usage("--procs wants 1..1024");
			break;
		case 'n':
			errno = 0;
			l.count = strtol(optarg, &end, 10);
			if (*end || end == optarg || errno || l.count < 1)
				return usage("--count wants a positive integer");
			break;
		case 's':
			l.seconds = strtod(optarg, &end);
			if (*end || end == optarg || !(l.seconds > 0 && l.seconds <= 1e6))
				return usage("--seconds wants a number of seconds in (0, 1e6]");
			break;
		case ':':
			return usage("an option is missing its argument");
		default: {
			char why[128];

			snprintf(why, sizeof(why), "unknown option %s", argv[optind - 1]);
			return usage(why);
		}
		}
	}
	if (optind < argc)
		return usage("unexpected argument");
	if (!l.path == !l.getpid_mode)
		return usage("give exactly one of --file and --getpid");
	if (l.getpid_mode && (l.write || l.pread_mode))
		return usage("--getpid reads no file: --write and --pread need --file");
	if (!l.count == !(l.seconds > 0))
		return usage("give exactly one of --count and --seconds");
	if (l.pread_mode && l.write)
		return usage("--pread reads; it cannot be combined with --write");
	if (pipe(pipefd))
		return perror("lpload: pipe"), 1;

	if (!l.count) {
		/* SA_RESTART: the parent's read() and wait() below go on. */
		struct sigaction sa = { .sa_handler = on_stop, .sa_flags = SA_RESTART };

		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	start = now_s();
	for (long i = 0; i < l.procs; i++) {
		/* Split --count exactly: the first count % procs workers do one more. */
		long share = l.count / l.procs + (i < l.count % l.procs);
		pid_t pid = fork();

		if (pid < 0)
			return perror("lpload: fork"), 1;
		if (pid == 0) {
			nworkers = 0;	/* a worker signals no sibling */
			close(pipefd[0]);
			t = worker(&l, share);
			if (write(pipefd[1], &t, sizeof(t)) != sizeof(t))
				_exit(1);
			_exit(0);
		}
		workers[i] = pid;
		nworkers = (sig_atomic_t)(i + 1);
		if (stop_req)	/* a signal before this worker was known */
			kill(pid, SIGTERM);
	}
	close(pipefd[1]);
	while (read(pipefd[0], &t, sizeof(t)) == sizeof(t)) {
		total.ops += t.ops;
		total.errors += t.errors;
	}
	while (wait(&c) > 0)
		failed |= !WIFEXITED(c) || WEXITSTATUS(c);
	if (failed) {
		fprintf(stderr, "lpload: a worker failed\n");
		return 1;
	}
	{
		double secs = now_s() - start;

		printf("ops=%lld errors=%lld seconds=%.3f ops_per_s=%.1f\n", total.ops,
		       total.errors, secs, (double)total.ops / secs);
	}
	return 0;
}

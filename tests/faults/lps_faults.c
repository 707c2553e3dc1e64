// SPDX-License-Identifier: GPL-2.0
/*
 * lps_faults.so: an LD_PRELOAD shim that makes real system calls fail, or
 * kills the process right after one returns, so the VM cases can prove that
 * lpsentinel loses nothing and leaves no patch half-handled. It changes what
 * the kernel's answers look like to the process; everything else is real.
 *
 * LPS_FAULT: specs separated by ',' (each counts on its own):
 *   bpf_map_create:ERRNO:N     fail BPF_MAP_CREATE number N (1 = the first)
 *   bpf_prog_load:ERRNO:N      fail BPF_PROG_LOAD number N
 *   bpf_map_create@NAME:..., bpf_prog_load@NAME:...
 *                              count only maps or programs whose name starts
 *                              with NAME (libbpf's own feature probes, which
 *                              it answers by itself, are then left alone)
 *   sysfs_write:SUFFIX:ERRNO:N fail write(2) number N to a file whose path
 *                              ends in SUFFIX (fds from open/openat)
 *   finit_module:ERRNO:N, delete_module:ERRNO:N
 *   kill_after:finit_module    SIGKILL right after finit_module succeeds
 *   kill_after:delete_module   ... after delete_module succeeds
 *   kill_after:sysfs_write:SUFFIX[:VALUE]
 *                              ... after a write to SUFFIX (of data starting
 *                              with VALUE, when given) succeeds
 * N may end in '+': that call and every later one. A failed call is not made;
 * it returns -1 with errno set, as the kernel would.
 * LPS_FAULT_ARM=PATH: calls count only while PATH exists (a daemon's startup
 *   is left alone; the case creates PATH when the fault is wanted). A spec
 *   written LABEL=SPEC is armed by PATH.LABEL instead, so that one process
 *   can be given several faults, each armed in turn.
 * LPS_FAULT_LOG=PATH: one line per fault injected, appended (the case checks
 *   that the fault really happened).
 *
 * libbpf 1.1 makes the bpf syscall through libc's syscall(3), and lpsentinel
 * calls finit_module and delete_module through syscall(3) too: syscall() is
 * the one entry point for those.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/bpf.h>

enum fault_kind { F_MAP_CREATE, F_PROG_LOAD, F_SYSFS_WRITE, F_FINIT, F_DELETE };

struct fault {
	enum fault_kind kind;
	bool kill_after;	/* SIGKILL after the call instead of failing it */
	int err;		/* errno to fail with */
	unsigned long nth;	/* 1-based; 0 with kill_after: every matching call */
	bool and_later;
	char suffix[64];	/* sysfs_write: the path's end */
	char value[32];		/* kill_after:sysfs_write: the data's start */
	char name[17];		/* bpf: the map's or program's name starts with it */
	char arm[256];		/* armed while this file exists ("": always, or LPS_FAULT_ARM) */
	unsigned long seen;
};

#define MAX_FAULTS 8
#define MAX_FDS 4096

static struct fault faults[MAX_FAULTS];
static int nfaults;
static const char *arm_path, *log_path;
/* Per fd: bit i set when its path ends in the suffix of sysfs_write fault i. */
static unsigned char fd_fault[MAX_FDS];

static long (*real_syscall)(long, ...);
static int (*real_open)(const char *, int, ...);
static int (*real_open64)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static int (*real_openat64)(int, const char *, int, ...);
static ssize_t (*real_write)(int, const void *, size_t);
static int (*real_close)(int);

static const struct { const char *name; int err; } errnos[] = {
	{ "ENOMEM", ENOMEM }, { "EAGAIN", EAGAIN }, { "EIO", EIO }, { "EPERM", EPERM },
	{ "EBUSY", EBUSY }, { "EINVAL", EINVAL }, { "ENOSPC", ENOSPC }, { "EMFILE", EMFILE },
	{ "E2BIG", E2BIG }, { "EFAULT", EFAULT }, { "EINTR", EINTR },
};

static void die(const char *spec, const char *why)
{
	/* A bad spec must not let a case pass with no fault injected. */
	fprintf(stderr, "lps_faults: LPS_FAULT '%s': %s\n", spec, why);
	_exit(125);
}

static int parse_errno(const char *s, const char *spec)
{
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (!strcmp(s, errnos[i].name))
			return errnos[i].err;
	die(spec, "unknown errno name");
	return 0;
}

static void parse_nth(struct fault *f, const char *s, const char *spec)
{
	char *end;

	f->nth = strtoul(s, &end, 10);
	f->and_later = *end == '+';
	if (end == s || f->nth == 0 || (*end && strcmp(end, "+")))
		die(spec, "the count must be a number from 1, optionally followed by '+'");
}

static enum fault_kind kind_of(const char *s, const char *spec)
{
	if (!strncmp(s, "bpf_map_create@", 15) || !strncmp(s, "bpf_prog_load@", 14))
		s = strndupa(s, (size_t)(strchr(s, '@') - s));
	if (!strcmp(s, "bpf_map_create"))
		return F_MAP_CREATE;
	if (!strcmp(s, "bpf_prog_load"))
		return F_PROG_LOAD;
	if (!strcmp(s, "sysfs_write"))
		return F_SYSFS_WRITE;
	if (!strcmp(s, "finit_module"))
		return F_FINIT;
	if (!strcmp(s, "delete_module"))
		return F_DELETE;
	die(spec, "unknown call");
	return F_MAP_CREATE;
}

static void parse_one(char *spec)
{
	char copy[256], *part[6] = { 0 }, *save = NULL;
	struct fault *f;
	int n = 0;

	if (nfaults == MAX_FAULTS)
		die(spec, "too many specs");
	snprintf(copy, sizeof(copy), "%s", spec);
	f = &faults[nfaults++];
	memset(f, 0, sizeof(*f));
	if (strchr(spec, '=')) {
		if (!arm_path)
			die(copy, "a LABEL= spec needs LPS_FAULT_ARM");
		*strchr(spec, '=') = 0;
		snprintf(f->arm, sizeof(f->arm), "%s.%s", arm_path, spec);
		spec += strlen(spec) + 1;
	} else if (arm_path) {
		snprintf(f->arm, sizeof(f->arm), "%s", arm_path);
	}
	for (char *t = strtok_r(spec, ":", &save); t && n < 6; t = strtok_r(NULL, ":", &save))
		part[n++] = t;
	if (n >= 2 && !strcmp(part[0], "kill_after")) {
		f->kill_after = true;
		f->kind = kind_of(part[1], copy);
		if (f->kind == F_SYSFS_WRITE) {
			if (n < 3 || n > 4)
				die(copy, "kill_after:sysfs_write:SUFFIX[:VALUE]");
			snprintf(f->suffix, sizeof(f->suffix), "%s", part[2]);
			if (n == 4)
				snprintf(f->value, sizeof(f->value), "%s", part[3]);
		} else if (n != 2) {
			die(copy, "kill_after:CALL takes nothing more");
		}
		return;
	}
	if (n < 3)
		die(copy, "want CALL:ERRNO:N");
	f->kind = kind_of(part[0], copy);
	if (strchr(part[0], '@'))
		snprintf(f->name, sizeof(f->name), "%s", strchr(part[0], '@') + 1);
	if (f->kind == F_SYSFS_WRITE) {
		if (n != 4)
			die(copy, "want sysfs_write:SUFFIX:ERRNO:N");
		snprintf(f->suffix, sizeof(f->suffix), "%s", part[1]);
		f->err = parse_errno(part[2], copy);
		parse_nth(f, part[3], copy);
		return;
	}
	if (n != 3)
		die(copy, "want CALL:ERRNO:N");
	f->err = parse_errno(part[1], copy);
	parse_nth(f, part[2], copy);
}

/* Resolved at the first call too: another library's constructor may run before ours. */
static void resolve(void)
{
	if (real_close)
		return;
	real_syscall = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
	real_open = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open");
	real_open64 = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, "open64");
	real_openat = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat");
	real_openat64 = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat64");
	real_write = (ssize_t (*)(int, const void *, size_t))dlsym(RTLD_NEXT, "write");
	real_close = (int (*)(int))dlsym(RTLD_NEXT, "close");
}

__attribute__((constructor)) static void init(void)
{
	char *spec = getenv("LPS_FAULT"), *save = NULL, buf[1024];

	resolve();
	arm_path = getenv("LPS_FAULT_ARM");
	log_path = getenv("LPS_FAULT_LOG");
	if (!spec || !*spec)
		return;
	snprintf(buf, sizeof(buf), "%s", spec);
	for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
		parse_one(t);
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void note(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int fd, n;

	if (!log_path)
		return;
	n = snprintf(line, sizeof(line), "pid %d: ", getpid());
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	fd = real_open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (real_write(fd, line, (size_t)n) < 0)
		n = 0;
	real_close(fd);
}

static bool armed(const struct fault *f)
{
	return !f->arm[0] || access(f->arm, F_OK) == 0;
}

/* The fault that makes this call fail, counted; NULL to make it. */
static struct fault *fails(enum fault_kind kind, int fd_match, const char *name)
{
	struct fault *hit = NULL;

	if (!nfaults)
		return NULL;
	for (int i = 0; i < nfaults; i++) {
		struct fault *f = &faults[i];
		unsigned long n;

		if (f->kill_after || f->kind != kind || (kind == F_SYSFS_WRITE && !(fd_match & (1 << i))) ||
		    (f->name[0] && (!name || strncmp(name, f->name, strlen(f->name)))) || !armed(f))
			continue;
		n = __atomic_add_fetch(&f->seen, 1, __ATOMIC_SEQ_CST);
		if (!hit && (n == f->nth || (f->and_later && n > f->nth)))
			hit = f;
	}
	return hit;
}

static bool kills_after(enum fault_kind kind, int fd, const void *data, size_t len)
{
	if (!nfaults)
		return false;
	for (int i = 0; i < nfaults; i++) {
		const struct fault *f = &faults[i];

		if (!f->kill_after || f->kind != kind || !armed(f))
			continue;
		if (kind != F_SYSFS_WRITE)
			return true;
		if (fd >= 0 && fd < MAX_FDS && (fd_fault[fd] & (1 << i)) &&
		    (!f->value[0] || (len >= strlen(f->value) && !memcmp(data, f->value, strlen(f->value)))))
			return true;
	}
	return false;
}

static void kill_now(const char *what)
{
	note("SIGKILL after %s", what);
	kill(getpid(), SIGKILL);
	pause();
}

static const char *errno_name(int err)
{
	for (size_t i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (errnos[i].err == err)
			return errnos[i].name;
	return "?";
}

long syscall(long nr, ...)
{
	long a[6], ret;
	char name[17] = "";
	enum fault_kind kind;
	struct fault *f;
	const char *what;
	va_list ap;

	resolve();
	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	if (nr == SYS_bpf && a[0] == BPF_MAP_CREATE) {
		kind = F_MAP_CREATE;
		what = "bpf(BPF_MAP_CREATE)";
	} else if (nr == SYS_bpf && a[0] == BPF_PROG_LOAD) {
		kind = F_PROG_LOAD;
		what = "bpf(BPF_PROG_LOAD)";
	} else if (nr == SYS_finit_module) {
		kind = F_FINIT;
		what = "finit_module";
	} else if (nr == SYS_delete_module) {
		kind = F_DELETE;
		what = "delete_module";
	} else {
		return real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	}
	if (kind == F_MAP_CREATE || kind == F_PROG_LOAD) {
		const union bpf_attr *attr = (const void *)a[1];

		snprintf(name, sizeof(name), "%.16s",
			 kind == F_MAP_CREATE ? attr->map_name : attr->prog_name);
	}
	f = fails(kind, 0, name);
	if (f) {
		if (kind == F_MAP_CREATE || kind == F_PROG_LOAD) {
			note("%s %s call %lu (name '%.16s'): %s", what, f->and_later ? "from" : "only",
			     f->seen, name, errno_name(f->err));
		} else {
			note("%s call %lu: %s", what, f->seen, errno_name(f->err));
		}
		errno = f->err;
		return -1;
	}
	ret = real_syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	if (ret == 0 && kills_after(kind, -1, NULL, 0)) {
		int saved = errno;

		note("%s returned %ld", what, ret);
		errno = saved;
		kill_now(what);
	}
	return ret;
}

/* Remembers which fault's suffix the path of a new fd ends in. */
static int track(int fd, const char *path)
{
	size_t len = path ? strlen(path) : 0;

	if (fd < 0 || fd >= MAX_FDS)
		return fd;
	fd_fault[fd] = 0;
	for (int i = 0; i < nfaults; i++) {
		size_t sl = strlen(faults[i].suffix);

		if (faults[i].kind == F_SYSFS_WRITE && sl && len >= sl &&
		    !strcmp(path + len - sl, faults[i].suffix))
			fd_fault[fd] |= (unsigned char)(1 << i);
	}
	return fd;
}

static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & O_CREAT) || (flags & __O_TMPFILE) == __O_TMPFILE ? va_arg(ap, mode_t) : 0;
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t m;

	va_start(ap, flags);
	m = mode_arg(flags, ap);
	va_end(ap);
	resolve();
	return track(real_open(path, flags, m), path);
}

int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t m;

	va_start(ap, flags);
	m = mode_arg(flags, ap);
	va_end(ap);
	resolve();
	return track(real_open64(path, flags, m), path);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t m;

	va_start(ap, flags);
	m = mode_arg(flags, ap);
	va_end(ap);
	resolve();
	return track(real_openat(dirfd, path, flags, m), path);
}

int openat64(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t m;

	va_start(ap, flags);
	m = mode_arg(flags, ap);
	va_end(ap);
	resolve();
	return track(real_openat64(dirfd, path, flags, m), path);
}

int close(int fd)
{
	resolve();
	if (fd >= 0 && fd < MAX_FDS)
		fd_fault[fd] = 0;
	return real_close(fd);
}

ssize_t write(int fd, const void *buf, size_t len)
{
	bool match = fd >= 0 && fd < MAX_FDS && fd_fault[fd];
	struct fault *f = match ? fails(F_SYSFS_WRITE, fd_fault[fd], NULL) : NULL;
	ssize_t ret;

	resolve();
	if (f) {
		note("write(%.*s) to ...%s call %lu: %s", (int)(len < 16 ? len : 16),
		     (const char *)buf, f->suffix, f->seen, errno_name(f->err));
		errno = f->err;
		return -1;
	}
	ret = real_write(fd, buf, len);
	if (match && ret >= 0 && kills_after(F_SYSFS_WRITE, fd, buf, len)) {
		note("write(%.*s) to a tracked file returned %zd", (int)(len < 16 ? len : 16),
		     (const char *)buf, ret);
		kill_now("sysfs_write");
	}
	return ret;
}

// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "safe_file.h"
#include "text.h"
#include "watch_state.h"

/*
 * File: header, then the zlib-compressed payload. CRCs cover the payload and
 * the compressed bytes, so a flipped bit anywhere is caught, even one that
 * deflate would decode to the same data. Host byte order: the file never leaves the
 * machine whose kernel it describes.
 */
#define STATE_MAGIC "LPSSTAT1"
#define STATE_VERSION 1u
#define STATE_MAX_RAW (64u << 20)

struct state_header {
	char magic[8];
	__u32 version;
	__u32 hist_size;	/* another histogram layout is another format */
	__u32 crc;		/* CRC-32 of the uncompressed payload */
	__u32 comp_crc;		/* and of the bytes on disk: deflate has bits no decoder reads */
	__u64 raw_len, comp_len;
};

struct state_counts {
	char kernel[72];
	char boot_id[40];
	__u64 nfuncs, npatches;
};

static int bad(char *why, size_t len, const char *what)
{
	snprintf(why, len, "%s", what);
	return -EBADMSG;
}

int watch_state__open_dir(const char *dir, char *why, size_t len)
{
	struct stat sb;
	int fd, ret;

	if (mkdir(dir, 0700) && errno != EEXIST) {
		ret = -errno;
		snprintf(why, len, "cannot create %s: %s", dir, strerror(errno));
		return ret;
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(why, len, "cannot open %s: %s", dir, strerror(errno));
		return ret;
	}
	/* What was opened, not the path: a rename after the check changes nothing. */
	if (fstat(fd, &sb)) {
		ret = -errno;
		snprintf(why, len, "cannot stat %s: %s", dir, strerror(errno));
		goto fail;
	}
	{
		char what[4200];

		snprintf(what, sizeof(what), "the state directory %s", dir);
		ret = safe_file__root_only(&sb, what, why, len);
	}
	if (!ret)
		return fd;
fail:
	close(fd);
	return ret;
}

/* A temporary name no one else uses: made with O_EXCL, tried again when taken. */
static int open_temp(int dirfd, const char *name, char *tmp, size_t len)
{
	static unsigned int seq;

	for (int tries = 0; tries < 100; tries++) {
		int fd;

		if ((size_t)snprintf(tmp, len, ".%s.%d.%u", name, (int)getpid(), seq++) >= len)
			return -ENAMETOOLONG;
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd >= 0 ? fd : -errno;
	}
	return -EEXIST;
}

int watch_state__write_atomic(int dirfd, const char *name, const void *data, size_t len)
{
	char tmp[300];
	const char *p = data;
	int fd, ret = 0;

	fd = open_temp(dirfd, name, tmp, sizeof(tmp));
	if (fd < 0)
		return fd;
	while (len) {
		ssize_t w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			ret = -errno;
			goto cleanup;
		}
		p += w;
		len -= (size_t)w;
	}
	/* Data on disk before the name points at it; then the rename itself. */
	if (fsync(fd) || renameat(dirfd, tmp, dirfd, name) || fsync(dirfd))
		ret = -errno;
cleanup:
	if (ret)
		unlinkat(dirfd, tmp, 0);
	close(fd);
	return ret;
}

int watch_state__wrap(const void *raw, size_t raw_len, unsigned char **out, size_t *n)
{
	struct state_header h = { .version = STATE_VERSION, .hist_size = sizeof(struct lps_hist) };
	uLongf comp_len = compressBound(raw_len);
	unsigned char *file = malloc(sizeof(h) + comp_len);

	if (!file)
		return -ENOMEM;
	if (compress2(file + sizeof(h), &comp_len, raw, raw_len, Z_DEFAULT_COMPRESSION) != Z_OK) {
		free(file);
		return -ENOMEM;
	}
	memcpy(h.magic, STATE_MAGIC, sizeof(h.magic));
	h.crc = (__u32)crc32(0, raw, raw_len);
	h.comp_crc = (__u32)crc32(0, file + sizeof(h), comp_len);
	h.raw_len = raw_len;
	h.comp_len = comp_len;
	memcpy(file, &h, sizeof(h));
	*out = file;
	*n = sizeof(h) + comp_len;
	return 0;
}

int watch_state__encode(const struct watch_state *st, unsigned char **out, size_t *n)
{
	struct state_counts c = { .nfuncs = st->nfuncs, .npatches = st->npatches };
	size_t fsz = st->nfuncs * sizeof(*st->funcs), psz = st->npatches * sizeof(*st->patches);
	size_t raw_len = sizeof(c) + fsz + psz;
	unsigned char *raw = malloc(raw_len);
	int ret;

	if (!raw)
		return -ENOMEM;
	snprintf(c.kernel, sizeof(c.kernel), "%s", st->kernel);
	snprintf(c.boot_id, sizeof(c.boot_id), "%s", st->boot_id);
	memcpy(raw, &c, sizeof(c));
	if (fsz)
		memcpy(raw + sizeof(c), st->funcs, fsz);
	if (psz)
		memcpy(raw + sizeof(c) + fsz, st->patches, psz);
	ret = watch_state__wrap(raw, raw_len, out, n);
	free(raw);
	return ret;
}

int watch_state__save(int dirfd, const struct watch_state *st)
{
	unsigned char *file = NULL;
	size_t n;
	int ret = watch_state__encode(st, &file, &n);

	if (!ret)
		ret = watch_state__write_atomic(dirfd, WATCH_STATE_FILE, file, n);
	free(file);
	return ret;
}

static bool terminated(const char *s, size_t len)
{
	return memchr(s, '\0', len) != NULL;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Does any name occur twice among n records of stride bytes (each name at its start)? */
static bool has_duplicates(const void *records, size_t stride, size_t n)
{
	const char **v = n > 1 ? malloc(n * sizeof(*v)) : NULL;
	bool dup = false;

	if (n < 2 || !v)
		return false;	/* without memory: the daemon's own lookups still cope */
	for (size_t i = 0; i < n; i++)
		v[i] = (const char *)records + i * stride;
	qsort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 1; i < n && !dup; i++)
		dup = !strcmp(v[i - 1], v[i]);
	free(v);
	return dup;
}

static bool attach_known(const char *s)
{
	return !strcmp(s, "fentry") || !strcmp(s, "kprobe") || !strcmp(s, "auto");
}

/*
 * Every name is what the daemon writes: a kernel symbol, a module name, one
 * record each. Anything else was not written by lpsentinel: the file is
 * damaged, and none of it is trusted (names go on to probes, logs, status).
 */
static int check_records(struct watch_state *st, char *why, size_t len)
{
	for (size_t i = 0; i < st->nfuncs; i++) {
		const struct state_baseline *f = &st->funcs[i];

		if (!terminated(f->function, sizeof(f->function)) || !text__is_symbol(f->function))
			return bad(why, len, "corrupted: a function name is not a kernel symbol");
		if (!terminated(f->attach, sizeof(f->attach)) || !attach_known(f->attach))
			return bad(why, len, "corrupted: unknown attach method");
		if (!(f->seconds >= 0 && f->seconds < 1e9))
			return bad(why, len, "corrupted: a baseline's duration is out of range");
	}
	for (size_t i = 0; i < st->npatches; i++) {
		const struct state_patch *p = &st->patches[i];

		if (!terminated(p->patch, sizeof(p->patch)) || !text__is_module(p->patch))
			return bad(why, len, "corrupted: a patch name is not a module name");
		if (!terminated(p->state, sizeof(p->state)) || !text__is_symbol(p->state))
			return bad(why, len, "corrupted: a patch state is not a word");
	}
	if (has_duplicates(st->funcs, sizeof(*st->funcs), st->nfuncs))
		return bad(why, len, "corrupted: a function has two baselines");
	if (has_duplicates(st->patches, sizeof(*st->patches), st->npatches))
		return bad(why, len, "corrupted: a patch has two records");
	/* The release is printed (another kernel's baselines): printable, or damage. */
	for (const char *k = st->kernel; *k; k++)
		if (*k <= 0x20 || *k >= 0x7f)
			return bad(why, len, "corrupted kernel release");
	return 0;
}

int watch_state__decode(const unsigned char *buf, size_t n, struct watch_state *st, char *why,
			size_t len)
{
	struct state_header h;
	struct state_counts c;
	unsigned char *raw = NULL;
	uLongf raw_len;
	size_t fsz, psz;
	int ret = 0;

	memset(st, 0, sizeof(*st));
	if (n < sizeof(h))
		return bad(why, len, "truncated: shorter than its header");
	memcpy(&h, buf, sizeof(h));
	if (memcmp(h.magic, STATE_MAGIC, sizeof(h.magic)))
		return bad(why, len, "not an lpsentinel state file");
	if (h.version != STATE_VERSION || h.hist_size != sizeof(struct lps_hist))
		return bad(why, len, "written by another version of lpsentinel");
	if (h.comp_len != n - sizeof(h))
		return bad(why, len, "truncated or padded: size does not match its header");
	if (h.raw_len < sizeof(c) || h.raw_len > STATE_MAX_RAW)
		return bad(why, len, "corrupted header");
	if ((__u32)crc32(0, buf + sizeof(h), h.comp_len) != h.comp_crc)
		return bad(why, len, "corrupted: checksum mismatch");
	raw_len = h.raw_len;
	raw = malloc(raw_len);
	if (!raw)
		return -ENOMEM;
	if (uncompress(raw, &raw_len, buf + sizeof(h), h.comp_len) != Z_OK || raw_len != h.raw_len) {
		ret = bad(why, len, "corrupted: does not decompress");
		goto cleanup;
	}
	if ((__u32)crc32(0, raw, raw_len) != h.crc) {
		ret = bad(why, len, "corrupted: checksum mismatch");
		goto cleanup;
	}
	memcpy(&c, raw, sizeof(c));
	if (c.nfuncs > STATE_MAX_RAW / sizeof(*st->funcs) ||
	    c.npatches > STATE_MAX_RAW / sizeof(*st->patches)) {
		ret = bad(why, len, "corrupted counts");
		goto cleanup;
	}
	fsz = c.nfuncs * sizeof(*st->funcs);
	psz = c.npatches * sizeof(*st->patches);
	if (sizeof(c) + fsz + psz != raw_len || !terminated(c.kernel, sizeof(c.kernel)) ||
	    !terminated(c.boot_id, sizeof(c.boot_id))) {
		ret = bad(why, len, "corrupted: records do not fill the payload");
		goto cleanup;
	}
	st->funcs = fsz ? malloc(fsz) : NULL;
	st->patches = psz ? malloc(psz) : NULL;
	if ((fsz && !st->funcs) || (psz && !st->patches)) {
		ret = -ENOMEM;
		goto cleanup;
	}
	if (fsz)
		memcpy(st->funcs, raw + sizeof(c), fsz);
	if (psz)
		memcpy(st->patches, raw + sizeof(c) + fsz, psz);
	st->nfuncs = c.nfuncs;
	st->npatches = c.npatches;
	snprintf(st->kernel, sizeof(st->kernel), "%.64s", c.kernel);
	snprintf(st->boot_id, sizeof(st->boot_id), "%.39s", c.boot_id);
	ret = check_records(st, why, len);
cleanup:
	free(raw);
	if (ret)
		watch_state__free(st);
	return ret;
}

int watch_state__load(int dirfd, struct watch_state *st, char *why, size_t len)
{
	char *buf = NULL;
	size_t n;
	int ret;

	memset(st, 0, sizeof(*st));
	/* Not through a link, not a FIFO or a device, not more than a state file can be. */
	ret = safe_file__read(dirfd, WATCH_STATE_FILE, SAFE_NOFOLLOW, SAFE_FILE_MAX_STATE, &buf, &n,
			      why, len);
	if (ret == -ELOOP || ret == -EINVAL || ret == -EISDIR || ret == -EFBIG)
		return -EBADMSG;	/* what is there is not our state file: why says what */
	if (ret)
		return ret;
	ret = watch_state__decode((const unsigned char *)buf, n, st, why, len);
	free(buf);
	return ret;
}

void watch_state__free(struct watch_state *st)
{
	free(st->funcs);
	free(st->patches);
	st->funcs = NULL;
	st->patches = NULL;
	st->nfuncs = st->npatches = 0;
}

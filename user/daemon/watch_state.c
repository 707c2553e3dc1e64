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

int watch_state__write_atomic(const char *dir, const char *name, const void *data, size_t len)
{
	char tmp[4096], dst[4096];
	const char *p = data;
	int fd, dfd = -1, ret = 0;

	snprintf(dst, sizeof(dst), "%s/%s", dir, name);
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", dir, name) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
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
	if (fchmod(fd, 0600) || fsync(fd) || rename(tmp, dst)) {
		ret = -errno;
		goto cleanup;
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd))
		ret = -errno;
cleanup:
	if (ret)
		unlink(tmp);
	close(fd);
	if (dfd >= 0)
		close(dfd);
	return ret;
}

int watch_state__save(const char *dir, const struct watch_state *st)
{
	struct state_counts c = { .nfuncs = st->nfuncs, .npatches = st->npatches };
	size_t fsz = st->nfuncs * sizeof(*st->funcs), psz = st->npatches * sizeof(*st->patches);
	size_t raw_len = sizeof(c) + fsz + psz;
	struct state_header h = { .version = STATE_VERSION, .hist_size = sizeof(struct lps_hist) };
	unsigned char *raw = NULL, *file = NULL;
	uLongf comp_len;
	int ret;

	snprintf(c.kernel, sizeof(c.kernel), "%s", st->kernel);
	snprintf(c.boot_id, sizeof(c.boot_id), "%s", st->boot_id);
	raw = malloc(raw_len);
	comp_len = compressBound(raw_len);
	file = malloc(sizeof(h) + comp_len);
	if (!raw || !file) {
		ret = -ENOMEM;
		goto cleanup;
	}
	memcpy(raw, &c, sizeof(c));
	if (fsz)
		memcpy(raw + sizeof(c), st->funcs, fsz);
	if (psz)
		memcpy(raw + sizeof(c) + fsz, st->patches, psz);
	if (compress2(file + sizeof(h), &comp_len, raw, raw_len, Z_DEFAULT_COMPRESSION) != Z_OK) {
		ret = -ENOMEM;
		goto cleanup;
	}
	memcpy(h.magic, STATE_MAGIC, sizeof(h.magic));
	h.crc = (__u32)crc32(0, raw, raw_len);
	h.comp_crc = (__u32)crc32(0, file + sizeof(h), comp_len);
	h.raw_len = raw_len;
	h.comp_len = comp_len;
	memcpy(file, &h, sizeof(h));
	ret = watch_state__write_atomic(dir, WATCH_STATE_FILE, file, sizeof(h) + comp_len);
cleanup:
	free(raw);
	free(file);
	return ret;
}

static bool terminated(const char *s, size_t len)
{
	return memchr(s, '\0', len) != NULL;
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
	for (size_t i = 0; i < st->nfuncs; i++)
		if (!terminated(st->funcs[i].function, sizeof(st->funcs[i].function)) ||
		    !st->funcs[i].function[0] ||
		    !terminated(st->funcs[i].attach, sizeof(st->funcs[i].attach)))
			ret = bad(why, len, "corrupted function name");
	for (size_t i = 0; i < st->npatches; i++)
		if (!terminated(st->patches[i].patch, sizeof(st->patches[i].patch)) ||
		    !terminated(st->patches[i].state, sizeof(st->patches[i].state)))
			ret = bad(why, len, "corrupted patch name");
cleanup:
	free(raw);
	if (ret)
		watch_state__free(st);
	return ret;
}

int watch_state__load(const char *dir, struct watch_state *st, char *why, size_t len)
{
	char path[4096];
	unsigned char *buf = NULL;
	struct stat sb;
	int fd, ret;

	memset(st, 0, sizeof(*st));
	snprintf(path, sizeof(path), "%s/%s", dir, WATCH_STATE_FILE);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb)) {
		ret = -errno;
		goto cleanup;
	}
	if (sb.st_size > (off_t)(2 * STATE_MAX_RAW)) {
		ret = bad(why, len, "too large to be a state file");
		goto cleanup;
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (!buf) {
		ret = -ENOMEM;
		goto cleanup;
	}
	if (read(fd, buf, (size_t)sb.st_size) != sb.st_size) {
		ret = bad(why, len, "short read");
		goto cleanup;
	}
	ret = watch_state__decode(buf, (size_t)sb.st_size, st, why, len);
cleanup:
	free(buf);
	close(fd);
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

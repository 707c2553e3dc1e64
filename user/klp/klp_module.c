// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include "klp_module.h"
#include "klp_sysfs.h"
#include "ko_elf.h"

/* Offsets stable since 5.5: klp_patch {mod, objs, states, replace},
 * klp_object {name, funcs}, klp_func {old_name, new_func, old_sympos}. */
#define PATCH_OBJS 8
#define PATCH_REPLACE 24
#define OBJ_FUNCS 8
#define FUNC_NEW 8
#define FUNC_SYMPOS 16
/* struct kpatch_patch_func {new_addr, new_size, old_addr, old_size, sympos, name, objname} */
#define KPATCH_FUNC_SIZE 56
#define KPATCH_SYMPOS 32
#define KPATCH_NAME 40
#define KPATCH_OBJNAME 48

static int fail(char *why, size_t len, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *why, size_t len, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return err;
}

static __u64 section_flags(const struct ko_elf *k, size_t sec)
{
	Elf_Scn *scn = elf_getscn(k->elf, sec);
	GElf_Shdr sh;

	return scn && gelf_getshdr(scn, &sh) ? sh.sh_flags : 0;
}

/* Where the pointer stored at (sec, off) points, when it points into this file. */
static int pointer_at(const struct ko_elf *k, size_t sec, __u64 off, size_t *tsec, __u64 *toff)
{
	const struct ko_rela *r = ko_elf__rela_at(k, sec, off);

	return r ? ko_elf__rela_target(k, r, tsec, toff) : -ENOENT;
}

/* Counts pointers inside [start, start + size) of sec whose target has these flags. */
static size_t count_pointers(const struct ko_elf *k, size_t sec, __u64 start, __u64 size,
			     __u64 want, __u64 mask)
{
	size_t n = 0;

	for (size_t i = 0; i < k->nrelas; i++) {
		const struct ko_rela *r = &k->relas[i];
		size_t ts;
		__u64 to;

		if (r->sec != sec || r->off < start || r->off - start >= size)
			continue;
		if (!ko_elf__rela_target(k, r, &ts, &to) && (section_flags(k, ts) & mask) == want)
			n++;
	}
	return n;
}

/*
 * A static array of entries (one terminator included) whose entries each hold
 * one pointer of a recognisable kind: the stride is the symbol's size over
 * the entry count. Returns the entry count without the terminator.
 */
static int array_layout(const struct ko_elf *k, size_t sec, __u64 off, __u64 want, __u64 mask,
			__u64 *stride)
{
	__u64 start, size;
	size_t n;

	if (ko_elf__object_at(k, sec, off, &start, &size) || start != off)
		return -ENOENT;
	n = count_pointers(k, sec, start, size, want, mask);
	if (!n || size % (n + 1) || (size / (n + 1)) % 8 || size / (n + 1) < 24)
		return -EINVAL;
	*stride = size / (n + 1);
	return (int)n;
}

static int add_target(struct klp_module_info *m, const char *obj, const char *fn,
		      unsigned long sympos, const char *repl)
{
	struct klp_target *v = realloc(m->targets, (m->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	m->targets = v;
	v += m->n;
	v->object = strdup(obj);
	v->function = strdup(fn);
	v->replacement = strdup(repl);
	v->sympos = sympos;
	m->n++;
	return v->object && v->function && v->replacement ? 0 : -ENOMEM;
}

/* The funcs array of one klp_object. */
static int read_funcs(const struct ko_elf *k, struct klp_module_info *m, const char *obj,
		      size_t sec, __u64 off, char *why, size_t len)
{
	__u64 stride;
	/* old_name points at read-only data: allocated, not writable, not code */
	int n = array_layout(k, sec, off, SHF_ALLOC, SHF_ALLOC | SHF_WRITE | SHF_EXECINSTR,
			     &stride);

	if (n < 0)
		return fail(why, len, -EINVAL, "klp_func array of object %s has no usable "
			    "symbol size (stripped?)", obj);
	for (int i = 0; i < n; i++) {
		__u64 e = off + (__u64)i * stride, ts_off, fn_off, sympos;
		const char *name, *repl;
		size_t ts, fn_sec;
		int ret;

		if (pointer_at(k, sec, e, &ts, &ts_off) || !(name = ko_elf__string_at(k, ts, ts_off)))
			return fail(why, len, -EINVAL, "klp_func %d of object %s has no old_name", i, obj);
		if (pointer_at(k, sec, e + FUNC_NEW, &fn_sec, &fn_off) ||
		    !(repl = ko_elf__func_at(k, fn_sec, fn_off)))
			return fail(why, len, -EINVAL, "klp_func %s has no new_func in this module", name);
		if (ko_elf__read_u64(k, sec, e + FUNC_SYMPOS, &sympos))
			return fail(why, len, -EINVAL, "klp_func %s lies outside its section", name);
		ret = add_target(m, obj, name, (unsigned long)sympos, repl);
		if (ret)
			return fail(why, len, ret, "out of memory");
	}
	return 0;
}

/* A klp_patch at (sec, off): its objs array and their funcs arrays. */
static int read_patch(const struct ko_elf *k, struct klp_module_info *m, size_t sec, __u64 off,
		      char *why, size_t len)
{
	size_t osec;
	__u64 ooff, stride;
	__u8 replace;
	int n, ret;

	if (pointer_at(k, sec, off + PATCH_OBJS, &osec, &ooff))
		return fail(why, len, -EINVAL, "klp_patch without objs");
	/* each klp_object points at its funcs array: writable data */
	n = array_layout(k, osec, ooff, SHF_ALLOC | SHF_WRITE, SHF_ALLOC | SHF_WRITE | SHF_EXECINSTR,
			 &stride);
	if (n < 0)
		return fail(why, len, -EINVAL, "klp_object array has no usable symbol size (stripped?)");
	for (int i = 0; i < n; i++) {
		__u64 e = ooff + (__u64)i * stride, noff, foff;
		const char *obj = "vmlinux";
		size_t nsec, fsec;

		/* name NULL (no relocation) means vmlinux */
		if (!pointer_at(k, osec, e, &nsec, &noff) && !(obj = ko_elf__string_at(k, nsec, noff)))
			return fail(why, len, -EINVAL, "klp_object %d has a bad name", i);
		if (pointer_at(k, osec, e + OBJ_FUNCS, &fsec, &foff))
			return fail(why, len, -EINVAL, "klp_object %s has no funcs", obj);
		ret = read_funcs(k, m, obj, fsec, foff, why, len);
		if (ret)
			return ret;
	}
	m->replace = ko_elf__read_u8(k, sec, off + PATCH_REPLACE, &replace) ? -1 : replace != 0;
	m->style = strdup("klp");
	return m->style ? 0 : -ENOMEM;
}

/* kpatch-build: .kpatch.funcs holds fixed-size kpatch_patch_func entries. */
static int read_kpatch(const struct ko_elf *k, struct klp_module_info *m, size_t sec,
		       char *why, size_t len)
{
	Elf_Data *d = ko_elf__section_data(k, sec);

	if (!d || d->d_size % KPATCH_FUNC_SIZE)
		return fail(why, len, -EINVAL, ".kpatch.funcs has a bad size");
	for (__u64 e = 0; e < d->d_size; e += KPATCH_FUNC_SIZE) {
		const char *name, *obj, *repl;
		size_t s1, s2, s3;
		__u64 o1, o2, o3, sympos;
		int ret;

		if (pointer_at(k, sec, e + KPATCH_NAME, &s1, &o1) || !(name = ko_elf__string_at(k, s1, o1)) ||
		    pointer_at(k, sec, e + KPATCH_OBJNAME, &s2, &o2) || !(obj = ko_elf__string_at(k, s2, o2)) ||
		    pointer_at(k, sec, e, &s3, &o3) || !(repl = ko_elf__func_at(k, s3, o3)) ||
		    ko_elf__read_u64(k, sec, e + KPATCH_SYMPOS, &sympos))
			return fail(why, len, -EINVAL, ".kpatch.funcs entry %llu is incomplete",
				    (unsigned long long)(e / KPATCH_FUNC_SIZE));
		ret = add_target(m, obj, name, (unsigned long)sympos, repl);
		if (ret)
			return fail(why, len, ret, "out of memory");
	}
	m->replace = -1;
	m->style = strdup("kpatch");
	return m->style ? 0 : -ENOMEM;
}

/* .modinfo: "key=value\0" strings. */
static const char *modinfo(const struct ko_elf *k, const char *key)
{
	size_t sec = ko_elf__find_section(k, ".modinfo"), klen = strlen(key);
	Elf_Data *d = sec ? ko_elf__section_data(k, sec) : NULL;
	const char *p, *end;

	if (!d)
		return NULL;
	p = d->d_buf;
	end = p + d->d_size;
	while (p < end) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));

		if (!nul)
			return NULL;	/* unterminated: ignore the rest */
		if ((size_t)(nul - p) > klen && !strncmp(p, key, klen) && p[klen] == '=')
			return p + klen + 1;
		p = nul + 1;
	}
	return NULL;
}

static int find_klp_patch(const struct ko_elf *k, struct klp_module_info *m, char *why, size_t len)
{
	int ret = -ENOENT;

	/* klp_patch.mod = THIS_MODULE: a pointer to __this_module at offset 0. */
	for (size_t i = 0; i < k->nrelas; i++) {
		const struct ko_rela *r = &k->relas[i];
		const char *name;
		GElf_Sym s;

		if (r->addend || ko_elf__sym(k, r->sym, &s, &name) || strcmp(name, "__this_module"))
			continue;
		if (!ko_elf__rela_at(k, r->sec, r->off + PATCH_OBJS))
			continue;
		ret = read_patch(k, m, r->sec, r->off, why, len);
		if (!ret && m->n)
			return 0;
		/* not a klp_patch (file_operations.owner and the like): keep looking */
		for (size_t j = 0; j < m->n; j++) {
			free(m->targets[j].object);
			free(m->targets[j].function);
			free(m->targets[j].replacement);
		}
		m->n = 0;
		free(m->style);
		m->style = NULL;
	}
	return ret;
}

int klp_module__inspect(const char *path, struct klp_module_info *out, char *why, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0) {
		memset(out, 0, sizeof(*out));
		return fail(why, len, -errno, "%s", strerror(errno));
	}
	ret = klp_module__inspect_fd(fd, path, out, why, len);
	close(fd);
	return ret;
}

int klp_module__inspect_fd(int fd, const char *path, struct klp_module_info *out, char *why,
			   size_t len)
{
	const char *reason = NULL, *lp, *name;
	struct ko_elf k;
	size_t ksec;
	char pname[128];
	int ret;

	memset(out, 0, sizeof(*out));
	ret = ko_elf__open_fd(&k, fd, &reason);
	if (ret)
		return fail(why, len, ret, "%s", reason);
	lp = modinfo(&k, "livepatch");
	if (!lp || strcmp(lp, "Y")) {
		ret = fail(why, len, -EINVAL, "not a livepatch module (no livepatch=Y in .modinfo)");
		goto cleanup;
	}
	name = modinfo(&k, "name");
	klp_patch_name(name ? name : path, pname, sizeof(pname));
	out->patch = strdup(pname);
	if (!out->patch) {
		ret = -ENOMEM;
		goto cleanup;
	}
	ksec = ko_elf__find_section(&k, ".kpatch.funcs");
	ret = ksec ? read_kpatch(&k, out, ksec, why, len) : find_klp_patch(&k, out, why, len);
	if (ret == -ENOENT)
		ret = fail(why, len, -EINVAL, "livepatch=Y, but no klp_patch structure or "
			   ".kpatch.funcs section found");
	if (!ret && !out->n)
		ret = fail(why, len, -EINVAL, "the patch replaces no function");
cleanup:
	ko_elf__close(&k);
	if (ret)
		klp_module_info__free(out);
	return ret;
}

void klp_module_info__free(struct klp_module_info *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->targets[i].object);
		free(m->targets[i].function);
		free(m->targets[i].replacement);
	}
	free(m->targets);
	free(m->patch);
	free(m->style);
	memset(m, 0, sizeof(*m));
}

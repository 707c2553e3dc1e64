// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include "identity.h"
#include "klp_module.h"
#include "klp_sysfs.h"
#include "ko_elf.h"
#include "safe_file.h"
#include "text.h"

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

/*
 * One reading of a module. Every relocation looked at and every target
 * found costs a step; a file that asks for more steps than a few per
 * relocation (klp arrays that overlap, many klp_patch look-alikes) is
 * refused: no crafted layout makes the reading quadratic.
 */
struct reader {
	const struct ko_elf *k;
	struct klp_module_info *m;
	size_t cap, ocap;	/* of m->targets, m->objects */
	size_t steps, budget;
	char *why;
	size_t len;
};

#define STEPS_PER_RELA 4
#define STEPS_BASE 4096

static bool over_budget(struct reader *r, size_t steps)
{
	r->steps += steps;
	return r->steps > r->budget;
}

static int budget_fail(struct reader *r)
{
	return fail(r->why, r->len, -E2BIG, "its klp structures take more than %zu steps to "
		    "read (overlapping arrays or many klp_patch look-alikes): refused", r->budget);
}

/*
 * A name read from the file at (sec, off) that is not a symbol (or module)
 * name: refused, naming where it lies, the bytes escaped.
 */
static int check_name(struct reader *r, const char *what, long long i, const char *field,
		      size_t sec, __u64 off, const char *name, bool module)
{
	const char *sname;
	char esc[96], idx[24] = "";

	if (module ? text__is_module(name) : text__is_symbol(name))
		return 0;
	sname = ko_elf__section_name(r->k, sec);
	text__escape(name, esc, sizeof(esc));
	if (i >= 0)
		snprintf(idx, sizeof(idx), " %lld", i);
	return fail(r->why, r->len, -EINVAL, "%s%s %s at %s+0x%llx is not a %s name: \"%s\"",
		    what, idx, field, sname && text__is_symbol(sname) ? sname : "?",
		    (unsigned long long)off, module ? "module" : "symbol", esc);
}

/* A function's name, at (sec, off), checked. */
static int check_func(struct reader *r, const char *what, long long i, const char *field,
		      size_t sec, __u64 off, const char *name)
{
	return check_name(r, what, i, field, sec, off, name, false);
}

/* Where the pointer stored at (sec, off) points, when it points into this file. */
static int pointer_at(const struct ko_elf *k, size_t sec, __u64 off, size_t *tsec, __u64 *toff)
{
	const struct ko_rela *r = ko_elf__rela_at(k, sec, off);

	return r ? ko_elf__rela_target(k, r, tsec, toff) : -ENOENT;
}

/* Counts pointers inside [start, start + size) of sec whose target has these flags. */
static int count_pointers(struct reader *r, size_t sec, __u64 start, __u64 size, __u64 want,
			  __u64 mask, size_t *count)
{
	const struct ko_rela *v;
	size_t n = ko_elf__relas_in(r->k, sec, start, size, &v);

	if (over_budget(r, n))
		return budget_fail(r);
	*count = 0;
	for (size_t i = 0; i < n; i++) {
		size_t ts;
		__u64 to;

		if (!ko_elf__rela_target(r->k, &v[i], &ts, &to) &&
		    (ko_elf__section_flags(r->k, ts) & mask) == want)
			(*count)++;
	}
	return 0;
}

/*
 * A static array of entries (one terminator included) whose entries each hold
 * one pointer of a recognisable kind: the stride is the symbol's size over
 * the entry count. Returns the entry count without the terminator, -ENOENT
 * or -EINVAL when there is no such array, -E2BIG (why set) past the budget.
 * With may_be_empty, a symbol holding no such pointer is the terminator alone
 * (`static struct klp_func no_funcs[] = { {} };`): 0 entries.
 */
static int array_layout(struct reader *r, size_t sec, __u64 off, __u64 want, __u64 mask,
			bool may_be_empty, __u64 *stride)
{
	__u64 size;
	size_t n = 0;
	int ret;

	if (ko_elf__object_at(r->k, sec, off, &size))
		return -ENOENT;
	ret = count_pointers(r, sec, off, size, want, mask, &n);
	if (ret)
		return ret;
	if (!n && may_be_empty && size >= 24 && !(size % 8)) {
		*stride = size;
		return 0;
	}
	if (!n || n > INT_MAX - 1 || size % (n + 1) || (size / (n + 1)) % 8 || size / (n + 1) < 24)
		return -EINVAL;
	*stride = size / (n + 1);
	return (int)n;
}

/* A new entry in the object list; its function count grows with add_target. */
static int add_object(struct reader *r, const char *name)
{
	struct klp_module_info *m = r->m;
	struct klp_object_info *v;

	if (over_budget(r, 1))
		return budget_fail(r);
	if (m->nobjects == r->ocap) {
		size_t c = r->ocap ? r->ocap * 2 : 4;

		v = realloc(m->objects, c * sizeof(*v));
		if (!v)
			return fail(r->why, r->len, -ENOMEM, "out of memory");
		m->objects = v;
		r->ocap = c;
	}
	v = &m->objects[m->nobjects];
	v->nfuncs = 0;
	v->name = strdup(name);
	if (!v->name)
		return fail(r->why, r->len, -ENOMEM, "out of memory");
	m->nobjects++;
	return 0;
}

/*
 * Counts a target in the last object of that name (kpatch names the object in
 * every entry: a new name starts a new object). Each object compared is a step.
 */
static int count_in_object(struct reader *r, const char *obj)
{
	struct klp_module_info *m = r->m;
	size_t i = m->nobjects;
	int ret;

	while (i > 0 && strcmp(m->objects[i - 1].name, obj)) {
		if (over_budget(r, 1))
			return budget_fail(r);
		i--;
	}
	if (!i) {
		ret = add_object(r, obj);
		if (ret)
			return ret;
		i = m->nobjects;
	}
	m->objects[i - 1].nfuncs++;
	return 0;
}

static int add_target(struct reader *r, const char *obj, const char *fn, unsigned long sympos,
		      const char *repl)
{
	struct klp_module_info *m = r->m;
	struct klp_target *v;
	int ret;

	if (over_budget(r, 1))
		return budget_fail(r);
	ret = count_in_object(r, obj);
	if (ret)
		return ret;
	if (m->n == r->cap) {
		size_t c = r->cap ? r->cap * 2 : 16;

		v = realloc(m->targets, c * sizeof(*v));
		if (!v)
			return fail(r->why, r->len, -ENOMEM, "out of memory");
		m->targets = v;
		r->cap = c;
	}
	v = &m->targets[m->n];
	v->object = strdup(obj);
	v->function = strdup(fn);
	v->replacement = strdup(repl);
	v->sympos = sympos;
	m->n++;
	if (!v->object || !v->function || !v->replacement)
		return fail(r->why, r->len, -ENOMEM, "out of memory");
	return 0;
}

/* The funcs array of one klp_object. */
static int read_funcs(struct reader *r, const char *obj, size_t sec, __u64 off)
{
	const struct ko_elf *k = r->k;
	__u64 stride;
	/*
	 * old_name points at read-only data: allocated, not writable, not code.
	 * An object may replace nothing (its callbacks or a module's arrival are
	 * the point): its array is the terminator alone.
	 */
	int n = array_layout(r, sec, off, SHF_ALLOC, SHF_ALLOC | SHF_WRITE | SHF_EXECINSTR,
			     true, &stride), ret;

	if (n == -E2BIG)
		return n;
	ret = add_object(r, obj);
	if (ret)
		return ret;
	if (n < 0)
		return fail(r->why, r->len, -EINVAL, "klp_func array of object %s has no usable "
			    "symbol size (stripped?)", obj);
	for (int i = 0; i < n; i++) {
		__u64 e = off + (__u64)i * stride, ts_off, fn_off, sympos;
		const char *name, *repl;
		size_t ts, fn_sec;

		if (pointer_at(k, sec, e, &ts, &ts_off) || !(name = ko_elf__string_at(k, ts, ts_off)))
			return fail(r->why, r->len, -EINVAL, "klp_func %d of object %s has no old_name",
				    i, obj);
		ret = check_func(r, "klp_func", i, "old_name", ts, ts_off, name);
		if (ret)
			return ret;
		if (pointer_at(k, sec, e + FUNC_NEW, &fn_sec, &fn_off) ||
		    !(repl = ko_elf__func_at(k, fn_sec, fn_off)))
			return fail(r->why, r->len, -EINVAL, "klp_func %s has no new_func in this module",
				    name);
		ret = check_func(r, "klp_func", i, "new_func symbol", fn_sec, fn_off, repl);
		if (ret)
			return ret;
		if (ko_elf__read_u64(k, sec, e + FUNC_SYMPOS, &sympos))
			return fail(r->why, r->len, -EINVAL, "klp_func %s lies outside its section",
				    name);
		ret = add_target(r, obj, name, (unsigned long)sympos, repl);
		if (ret)
			return ret;
	}
	return 0;
}

/* A klp_patch at (sec, off): its objs array and their funcs arrays. */
static int read_patch(struct reader *r, size_t sec, __u64 off)
{
	const struct ko_elf *k = r->k;
	size_t osec;
	__u64 ooff, stride;
	__u8 replace;
	int n, ret;

	if (pointer_at(k, sec, off + PATCH_OBJS, &osec, &ooff))
		return fail(r->why, r->len, -EINVAL, "klp_patch without objs");
	/* each klp_object points at its funcs array: writable data */
	n = array_layout(r, osec, ooff, SHF_ALLOC | SHF_WRITE,
			 SHF_ALLOC | SHF_WRITE | SHF_EXECINSTR, false, &stride);
	if (n == -E2BIG)
		return n;
	if (n < 0)
		return fail(r->why, r->len, -EINVAL,
			    "klp_object array has no usable symbol size (stripped?)");
	for (int i = 0; i < n; i++) {
		__u64 e = ooff + (__u64)i * stride, noff, foff;
		const char *obj = "vmlinux";
		size_t nsec, fsec;

		/* name NULL (no relocation) means vmlinux */
		if (!pointer_at(k, osec, e, &nsec, &noff)) {
			if (!(obj = ko_elf__string_at(k, nsec, noff)))
				return fail(r->why, r->len, -EINVAL, "klp_object %d has a bad name", i);
			ret = check_name(r, "klp_object", i, "name", nsec, noff, obj, true);
			if (ret)
				return ret;
		}
		if (pointer_at(k, osec, e + OBJ_FUNCS, &fsec, &foff))
			return fail(r->why, r->len, -EINVAL, "klp_object %s has no funcs", obj);
		ret = read_funcs(r, obj, fsec, foff);
		if (ret)
			return ret;
	}
	r->m->replace = ko_elf__read_u8(k, sec, off + PATCH_REPLACE, &replace) ? -1 : replace != 0;
	r->m->style = strdup("klp");
	return r->m->style ? 0 : fail(r->why, r->len, -ENOMEM, "out of memory");
}

/* kpatch-build: .kpatch.funcs holds fixed-size kpatch_patch_func entries. */
static int read_kpatch(struct reader *r, size_t sec)
{
	const struct ko_elf *k = r->k;
	Elf_Data *d = ko_elf__section_data(k, sec);

	if (!d || d->d_size % KPATCH_FUNC_SIZE)
		return fail(r->why, r->len, -EINVAL, ".kpatch.funcs has a bad size");
	for (__u64 e = 0; e < d->d_size; e += KPATCH_FUNC_SIZE) {
		long long i = (long long)(e / KPATCH_FUNC_SIZE);
		const char *name, *obj, *repl;
		size_t s1, s2, s3;
		__u64 o1, o2, o3, sympos;
		int ret;

		if (pointer_at(k, sec, e + KPATCH_NAME, &s1, &o1) || !(name = ko_elf__string_at(k, s1, o1)) ||
		    pointer_at(k, sec, e + KPATCH_OBJNAME, &s2, &o2) || !(obj = ko_elf__string_at(k, s2, o2)) ||
		    pointer_at(k, sec, e, &s3, &o3) || !(repl = ko_elf__func_at(k, s3, o3)) ||
		    ko_elf__read_u64(k, sec, e + KPATCH_SYMPOS, &sympos))
			return fail(r->why, r->len, -EINVAL, ".kpatch.funcs entry %lld is incomplete", i);
		ret = check_func(r, ".kpatch.funcs entry", i, "name", s1, o1, name);
		ret = ret ? ret : check_name(r, ".kpatch.funcs entry", i, "objname", s2, o2, obj, true);
		ret = ret ? ret : check_func(r, ".kpatch.funcs entry", i, "new_addr symbol", s3, o3,
					     repl);
		ret = ret ? ret : add_target(r, obj, name, (unsigned long)sympos, repl);
		if (ret)
			return ret;
	}
	r->m->replace = -1;
	r->m->style = strdup("kpatch");
	return r->m->style ? 0 : fail(r->why, r->len, -ENOMEM, "out of memory");
}

/* .modinfo: "key=value\0" strings; *off gets the value's offset in the section. */
static const char *modinfo(const struct ko_elf *k, size_t sec, const char *key, __u64 *off)
{
	Elf_Data *d = sec ? ko_elf__section_data(k, sec) : NULL;
	size_t klen = strlen(key);
	const char *p, *end;

	if (!d)
		return NULL;
	p = d->d_buf;
	end = p + d->d_size;
	while (p < end) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));

		if (!nul)
			return NULL;	/* unterminated: ignore the rest */
		if ((size_t)(nul - p) > klen && !strncmp(p, key, klen) && p[klen] == '=') {
			*off = (__u64)(p + klen + 1 - (const char *)d->d_buf);
			return p + klen + 1;
		}
		p = nul + 1;
	}
	return NULL;
}

/* Empties the target and object lists (their arrays stay, for the next look-alike). */
static void drop_targets(struct klp_module_info *m)
{
	for (size_t j = 0; j < m->n; j++) {
		free(m->targets[j].object);
		free(m->targets[j].function);
		free(m->targets[j].replacement);
	}
	m->n = 0;
	for (size_t j = 0; j < m->nobjects; j++)
		free(m->objects[j].name);
	m->nobjects = 0;
	free(m->style);
	m->style = NULL;
}

/*
 * The klp_patch: the first candidate that replaces functions. One that reads
 * as a klp_patch replacing nothing (a patch of states or callbacks, or a
 * look-alike whose "objects" happen to parse) wins only when no candidate
 * replaces anything: the first such one is read again at the end.
 */
static int find_klp_patch(struct reader *r)
{
	const struct ko_elf *k = r->k;
	const struct ko_rela *empty = NULL;
	int ret = -ENOENT;

	/* klp_patch.mod = THIS_MODULE: a pointer to __this_module at offset 0. */
	for (size_t i = 0; i < k->nrelas; i++) {
		const struct ko_rela *rel = &k->relas[i];
		const char *name;
		GElf_Sym s;

		if (rel->addend || ko_elf__sym(k, rel->sym, &s, &name) ||
		    strcmp(name, "__this_module"))
			continue;
		if (!ko_elf__rela_at(k, rel->sec, rel->off + PATCH_OBJS))
			continue;
		ret = read_patch(r, rel->sec, rel->off);
		if (!ret && r->m->n)
			return 0;
		if (!ret && !empty)
			empty = rel;
		/* Past the budget, or a bad name in what is a klp_patch: no further look. */
		if (ret == -E2BIG || ret == -ENOMEM || (ret == -EINVAL && r->m->n))
			return ret;
		/* not a klp_patch (file_operations.owner and the like): keep looking */
		drop_targets(r->m);
		if (over_budget(r, 1))
			return budget_fail(r);
	}
	return empty ? read_patch(r, empty->sec, empty->off) : ret;
}

int klp_module__inspect(const char *path, struct klp_module_info *out, char *why, size_t len)
{
	/* Read only: any regular file (not a FIFO, not past the size limit) may be inspected. */
	int fd = safe_file__open(AT_FDCWD, path, 0, SAFE_FILE_MAX_KO, why, len), ret;

	if (fd < 0) {
		memset(out, 0, sizeof(*out));
		return fd;
	}
	ret = klp_module__inspect_fd(fd, path, out, why, len);
	close(fd);
	return ret;
}

/* The name the kernel will use: .modinfo's name=, else the file's name; a module name. */
static int patch_name(struct reader *r, size_t misec, const char *path)
{
	__u64 off = 0;
	const char *name = modinfo(r->k, misec, "name", &off);
	char pname[128], esc[96];

	if (name) {
		if (!text__is_module(name))
			return check_name(r, ".modinfo", -1, "name", misec, off, name, true);
		klp_patch_name(name, pname, sizeof(pname));
	} else {
		klp_patch_name(path, pname, sizeof(pname));
		if (!text__is_module(pname))
			return fail(r->why, r->len, -EINVAL, "no name in .modinfo, and the file "
				    "name \"%s\" is not a module name",
				    text__escape(pname, esc, sizeof(esc)));
	}
	r->m->patch = strdup(pname);
	return r->m->patch ? 0 : fail(r->why, r->len, -ENOMEM, "out of memory");
}

/* The module's build id, which the kernel shows in /sys/module/NAME/notes once it is loaded. */
static void module_build_id(const struct ko_elf *k, struct klp_module_info *out)
{
	Elf_Data *d = ko_elf__section_data(k, ko_elf__find_section(k, ".note.gnu.build-id"));

	if (!d || identity__note_build_id(d->d_buf, d->d_size, out->build_id, sizeof(out->build_id)))
		out->build_id[0] = '\0';
}

int klp_module__inspect_fd(int fd, const char *path, struct klp_module_info *out, char *why,
			   size_t len)
{
	struct reader r = { .m = out, .why = why, .len = len };
	const char *reason = NULL, *lp;
	struct ko_elf k;
	size_t ksec, misec;
	__u64 off;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = safe_file__check_fd(fd, 0, SAFE_FILE_MAX_KO, why, len);
	if (ret)
		return ret;
	ret = ko_elf__open_fd(&k, fd, &reason);
	if (ret)
		return fail(why, len, ret, "%s", reason);
	r.k = &k;
	r.budget = STEPS_BASE + STEPS_PER_RELA * k.nrelas;
	misec = ko_elf__find_section(&k, ".modinfo");
	lp = modinfo(&k, misec, "livepatch", &off);
	if (!lp || strcmp(lp, "Y")) {
		ret = fail(why, len, -EINVAL, "not a livepatch module (no livepatch=Y in .modinfo)");
		goto cleanup;
	}
	ret = patch_name(&r, misec, path);
	if (ret)
		goto cleanup;
	out->has_params = modinfo(&k, misec, "parmtype", &off) != NULL;
	module_build_id(&k, out);
	ksec = ko_elf__find_section(&k, ".kpatch.funcs");
	ret = ksec ? read_kpatch(&r, ksec) : find_klp_patch(&r);
	if (ret == -ENOENT)
		ret = fail(why, len, -EINVAL, "livepatch=Y, but no klp_patch structure or "
			   ".kpatch.funcs section found");
cleanup:
	ko_elf__close(&k);
	if (ret)
		klp_module_info__free(out);
	return ret;
}

void klp_module_info__free(struct klp_module_info *m)
{
	drop_targets(m);
	free(m->targets);
	free(m->objects);
	free(m->patch);
	memset(m, 0, sizeof(*m));
}

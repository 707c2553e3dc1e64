// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ko_elf.h"

#define STR_(x) #x
#define STR(x) STR_(x)

static int cmp_rela(const void *a, const void *b)
{
	const struct ko_rela *x = a, *y = b;

	if (x->sec != y->sec)
		return x->sec < y->sec ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

/* By place, then symbol index: the first of several at one place is the lowest index. */
static int cmp_place(const void *a, const void *b)
{
	const struct ko_place *x = a, *y = b;

	if (x->sec != y->sec)
		return x->sec < y->sec ? -1 : 1;
	if (x->value != y->value)
		return x->value < y->value ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* qsort with no array (n == 0) is undefined behaviour: guarded here once. */
static void sort(void *v, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(v, n, size, cmp);
}

/* A string table elf_strptr can use in O(1): non-empty and NUL-terminated at its end. */
static int check_strtab(const struct ko_elf *k, size_t sec, const char *what, const char **why)
{
	Elf_Scn *scn = elf_getscn(k->elf, sec);
	GElf_Shdr sh;
	Elf_Data *d;

	if (!scn || !gelf_getshdr(scn, &sh) || sh.sh_type != SHT_STRTAB ||
	    !(d = elf_getdata(scn, NULL)) || !d->d_buf || !d->d_size ||
	    ((const char *)d->d_buf)[d->d_size - 1]) {
		*why = what;
		return -EINVAL;
	}
	return 0;
}

/* The relocations of one RELA section whose target is loaded (debug info is skipped). */
static int index_relas(struct ko_elf *k, Elf_Scn *scn, const GElf_Shdr *sh, size_t *cap,
		       const char **why)
{
	Elf_Scn *target = elf_getscn(k->elf, sh->sh_info);
	GElf_Shdr tsh;
	Elf_Data *d;
	size_t n;

	if (!target || !gelf_getshdr(target, &tsh)) {
		*why = "relocation section for a missing section";
		return -EINVAL;
	}
	if (!(tsh.sh_flags & SHF_ALLOC))
		return 0;
	d = elf_getdata(scn, NULL);
	if (!d || sh->sh_entsize != sizeof(Elf64_Rela)) {
		*why = "unreadable relocations (truncated or corrupt)";
		return -EINVAL;
	}
	n = d->d_size / sizeof(Elf64_Rela);
	if (n > KO_MAX_RELAS - k->nrelas) {
		*why = "more relocations than a module may have (" STR(KO_MAX_RELAS) "): refused";
		return -E2BIG;
	}
	if (k->nrelas + n > *cap) {
		struct ko_rela *v = realloc(k->relas, (k->nrelas + n) * sizeof(*v));

		if (!v) {
			*why = "out of memory";
			return -ENOMEM;
		}
		k->relas = v;
		*cap = k->nrelas + n;
	}
	for (size_t i = 0; i < n; i++) {
		struct ko_rela *r = &k->relas[k->nrelas];
		GElf_Rela rel;

		if (!gelf_getrela(d, (int)i, &rel)) {
			*why = "corrupt relocation entry";
			return -EINVAL;
		}
		r->sec = sh->sh_info;
		r->off = rel.r_offset;
		r->sym = (__u32)GELF_R_SYM(rel.r_info);
		r->addend = rel.r_addend;
		k->nrelas++;
	}
	return 0;
}

/* Defined functions and sized data objects, by place, for binary searches. */
static int index_symbols(struct ko_elf *k, const char **why)
{
	k->funcs = calloc(k->nsyms ? k->nsyms : 1, sizeof(*k->funcs));
	k->objs = calloc(k->nsyms ? k->nsyms : 1, sizeof(*k->objs));
	if (!k->funcs || !k->objs) {
		*why = "out of memory";
		return -ENOMEM;
	}
	for (size_t i = 1; i < k->nsyms; i++) {
		GElf_Sym s;
		struct ko_place p = { .idx = i };

		if (!gelf_getsym(k->symtab, (int)i, &s)) {
			*why = "corrupt symbol table entry";
			return -EINVAL;
		}
		if (s.st_shndx == SHN_UNDEF || s.st_shndx >= k->nsec)
			continue;	/* external, absolute or common: no place in this file */
		p.sec = s.st_shndx;
		p.value = s.st_value;
		p.size = s.st_size;
		if (GELF_ST_TYPE(s.st_info) == STT_FUNC)
			k->funcs[k->nfuncs++] = p;
		else if (GELF_ST_TYPE(s.st_info) == STT_OBJECT && s.st_size)
			k->objs[k->nobjs++] = p;	/* size 0 covers nothing */
	}
	sort(k->funcs, k->nfuncs, sizeof(*k->funcs), cmp_place);
	sort(k->objs, k->nobjs, sizeof(*k->objs), cmp_place);
	return 0;
}

static int index_sections(struct ko_elf *k, const char **why)
{
	size_t cap = 0;
	Elf_Scn *scn = NULL;
	int ret;

	k->sec_flags = calloc(k->nsec, sizeof(*k->sec_flags));
	if (!k->sec_flags) {
		*why = "out of memory";
		return -ENOMEM;
	}
	while ((scn = elf_nextscn(k->elf, scn))) {
		size_t idx = elf_ndxscn(scn);
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || idx >= k->nsec) {
			*why = "corrupt section header";
			return -EINVAL;
		}
		k->sec_flags[idx] = sh.sh_flags;
		if (sh.sh_type == SHT_SYMTAB_SHNDX) {
			*why = "extended section indexes (SHT_SYMTAB_SHNDX), which Linux does not "
			       "load: refused";
			return -ENOEXEC;
		} else if (sh.sh_type == SHT_SYMTAB) {
			if (k->symtab) {
				*why = "two symbol tables";
				return -EINVAL;
			}
			d = elf_getdata(scn, NULL);
			if (!d || sh.sh_entsize != sizeof(Elf64_Sym) || sh.sh_link >= k->nsec) {
				*why = "unreadable symbol table (truncated or corrupt)";
				return -EINVAL;
			}
			k->symtab = d;
			k->symtab_link = sh.sh_link;
			k->nsyms = d->d_size / sizeof(Elf64_Sym);
			if (k->nsyms > KO_MAX_SYMBOLS) {
				*why = "more symbols than a module may have (" STR(KO_MAX_SYMBOLS) "): refused";
				return -E2BIG;
			}
		} else if (sh.sh_type == SHT_RELA) {
			ret = index_relas(k, scn, &sh, &cap, why);
			if (ret)
				return ret;
		}
	}
	if (!k->symtab) {
		*why = "no symbol table";
		return -EINVAL;
	}
	if (check_strtab(k, k->symtab_link, "the symbol names are not a NUL-terminated "
			 "string table", why))
		return -EINVAL;
	sort(k->relas, k->nrelas, sizeof(*k->relas), cmp_rela);
	return index_symbols(k, why);
}

int ko_elf__open_fd(struct ko_elf *k, int fd, const char **why)
{
	GElf_Ehdr eh;
	int ret;

	memset(k, 0, sizeof(*k));
	/* Our own descriptor: the caller's stays open, for finit_module of the same file. */
	k->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (k->fd < 0) {
		ret = -errno;
		*why = strerror(errno);
		return ret;
	}
	if (elf_version(EV_CURRENT) == EV_NONE) {
		*why = "libelf is unusable";
		ret = -ENOTSUP;
		goto fail;
	}
	/* ELF_C_READ copies the file: a file truncated under us cannot fault. */
	k->elf = elf_begin(k->fd, ELF_C_READ, NULL);
	if (!k->elf || elf_kind(k->elf) != ELF_K_ELF) {
		*why = "not an ELF file";
		ret = -ENOEXEC;
		goto fail;
	}
	if (!gelf_getehdr(k->elf, &eh) || gelf_getclass(k->elf) != ELFCLASS64) {
		*why = "not a 64-bit ELF file (truncated or corrupt header)";
		ret = -ENOEXEC;
		goto fail;
	}
	if (eh.e_type != ET_REL) {
		*why = "not a kernel module (ELF type is not relocatable)";
		ret = -ENOEXEC;
		goto fail;
	}
	/*
	 * More than 65279 sections need extended numbering (e_shnum 0, the count
	 * in section 0), and the kernel's module loader reads e_shnum and
	 * e_shstrndx as they are: it refuses such a file, so inspect does too.
	 */
	if ((eh.e_shnum == 0 && eh.e_shoff) || eh.e_shstrndx == SHN_XINDEX) {
		*why = "more than 65279 sections (extended section numbering), which Linux "
		       "does not load: refused";
		ret = -ENOEXEC;
		goto fail;
	}
	if (elf_getshdrnum(k->elf, &k->nsec) || elf_getshdrstrndx(k->elf, &k->shstrndx) ||
	    k->shstrndx >= k->nsec || !elf_getscn(k->elf, k->shstrndx)) {
		*why = "corrupt section table (truncated?)";
		ret = -EINVAL;
		goto fail;
	}
	if (check_strtab(k, k->shstrndx, "the section names are not a NUL-terminated string "
			 "table", why)) {
		ret = -EINVAL;
		goto fail;
	}
	ret = index_sections(k, why);
	if (ret)
		goto fail;
	return 0;
fail:
	ko_elf__close(k);
	return ret;
}

void ko_elf__close(struct ko_elf *k)
{
	if (k->elf)
		elf_end(k->elf);
	if (k->fd > 0)
		close(k->fd);
	free(k->relas);
	free(k->funcs);
	free(k->objs);
	free(k->sec_flags);
	memset(k, 0, sizeof(*k));
}

const char *ko_elf__section_name(const struct ko_elf *k, size_t sec)
{
	Elf_Scn *scn = elf_getscn(k->elf, sec);
	GElf_Shdr sh;

	if (!scn || !gelf_getshdr(scn, &sh))
		return NULL;
	return elf_strptr(k->elf, k->shstrndx, sh.sh_name);
}

size_t ko_elf__find_section(const struct ko_elf *k, const char *name)
{
	for (size_t i = 1; i < k->nsec; i++) {
		const char *n = ko_elf__section_name(k, i);

		if (n && !strcmp(n, name))
			return i;
	}
	return 0;
}

__u64 ko_elf__section_flags(const struct ko_elf *k, size_t sec)
{
	return sec < k->nsec ? k->sec_flags[sec] : 0;
}

Elf_Data *ko_elf__section_data(const struct ko_elf *k, size_t sec)
{
	Elf_Scn *scn = elf_getscn(k->elf, sec);
	GElf_Shdr sh;
	Elf_Data *d;

	if (!scn || !gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS)
		return NULL;
	d = elf_getdata(scn, NULL);
	return d && d->d_buf && d->d_size ? d : NULL;
}

/* Index of the first relocation at or after (sec, off). */
static size_t rela_lower_bound(const struct ko_elf *k, size_t sec, __u64 off)
{
	size_t lo = 0, hi = k->nrelas;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct ko_rela *r = &k->relas[mid];

		if (r->sec < sec || (r->sec == sec && r->off < off))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

const struct ko_rela *ko_elf__rela_at(const struct ko_elf *k, size_t sec, __u64 off)
{
	size_t i = rela_lower_bound(k, sec, off);

	return i < k->nrelas && k->relas[i].sec == sec && k->relas[i].off == off ?
	       &k->relas[i] : NULL;
}

size_t ko_elf__relas_in(const struct ko_elf *k, size_t sec, __u64 off, __u64 size,
			const struct ko_rela **first)
{
	size_t lo = rela_lower_bound(k, sec, off), hi;

	/* An end past 2^64 ends with the section. */
	hi = off + size < off ? rela_lower_bound(k, sec + 1, 0) : rela_lower_bound(k, sec, off + size);
	*first = k->relas ? &k->relas[lo] : NULL;
	return hi - lo;
}

int ko_elf__sym(const struct ko_elf *k, size_t idx, GElf_Sym *sym, const char **name)
{
	if (idx >= k->nsyms || !gelf_getsym(k->symtab, (int)idx, sym))
		return -ERANGE;
	*name = elf_strptr(k->elf, k->symtab_link, sym->st_name);
	if (!*name)
		*name = "";
	return 0;
}

int ko_elf__rela_target(const struct ko_elf *k, const struct ko_rela *r, size_t *sec, __u64 *off)
{
	const char *name;
	GElf_Sym sym;

	if (ko_elf__sym(k, r->sym, &sym, &name))
		return -ERANGE;
	if (sym.st_shndx == SHN_UNDEF || sym.st_shndx >= k->nsec)
		return -ENOENT;	/* external symbol: no place in this file */
	*sec = sym.st_shndx;
	*off = sym.st_value + (__u64)r->addend;
	return 0;
}

const char *ko_elf__string_at(const struct ko_elf *k, size_t sec, __u64 off)
{
	Elf_Data *d = ko_elf__section_data(k, sec);
	const char *s;

	if (!d || off >= d->d_size)
		return NULL;
	s = (const char *)d->d_buf + off;
	return memchr(s, '\0', d->d_size - off) ? s : NULL;
}

/* The first symbol of v placed at exactly (sec, off), or NULL. */
static const struct ko_place *place_at(const struct ko_place *v, size_t n, size_t sec, __u64 off)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v[mid].sec < sec || (v[mid].sec == sec && v[mid].value < off))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && v[lo].sec == sec && v[lo].value == off ? &v[lo] : NULL;
}

const char *ko_elf__func_at(const struct ko_elf *k, size_t sec, __u64 off)
{
	const struct ko_place *p = place_at(k->funcs, k->nfuncs, sec, off);
	const char *name;
	GElf_Sym s;

	return p && !ko_elf__sym(k, p->idx, &s, &name) ? name : NULL;
}

int ko_elf__object_at(const struct ko_elf *k, size_t sec, __u64 off, __u64 *size)
{
	const struct ko_place *p = place_at(k->objs, k->nobjs, sec, off);

	if (!p)
		return -ENOENT;
	*size = p->size;
	return 0;
}

static const __u8 *bytes_at(const struct ko_elf *k, size_t sec, __u64 off, size_t len)
{
	Elf_Data *d = ko_elf__section_data(k, sec);

	if (!d || off > d->d_size || d->d_size - off < len)
		return NULL;
	return (const __u8 *)d->d_buf + off;
}

int ko_elf__read_u64(const struct ko_elf *k, size_t sec, __u64 off, __u64 *v)
{
	const __u8 *p = bytes_at(k, sec, off, sizeof(*v));

	if (!p)
		return -ERANGE;
	memcpy(v, p, sizeof(*v));
	return 0;
}

int ko_elf__read_u8(const struct ko_elf *k, size_t sec, __u64 off, __u8 *v)
{
	const __u8 *p = bytes_at(k, sec, off, 1);

	if (!p)
		return -ERANGE;
	*v = *p;
	return 0;
}

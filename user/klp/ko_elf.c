// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ko_elf.h"

static int cmp_rela(const void *a, const void *b)
{
	const struct ko_rela *x = a, *y = b;

	if (x->sec != y->sec)
		return x->sec < y->sec ? -1 : 1;
	return x->off < y->off ? -1 : x->off > y->off;
}

static int push_rela(struct ko_elf *k, size_t *cap, const struct ko_rela *r)
{
	if (k->nrelas == *cap) {
		size_t c = *cap ? *cap * 2 : 64;
		struct ko_rela *v = realloc(k->relas, c * sizeof(*v));

		if (!v)
			return -ENOMEM;
		k->relas = v;
		*cap = c;
	}
	k->relas[k->nrelas++] = *r;
	return 0;
}

/* Symbols and relocations against allocated sections (debug info is skipped). */
static int index_sections(struct ko_elf *k, const char **why)
{
	size_t cap = 0;
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(k->elf, scn))) {
		
		GElf_Shdr sh;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh)) {
			*why = "corrupt section header";
			return -EINVAL;
		}
		if (sh.sh_type == SHT_SYMTAB) {
			d = elf_getdata(scn, NULL);
			if (!d || !sh.sh_entsize || sh.sh_link >= k->nsec) {
				*why = "unreadable symbol table (truncated or corrupt)";
				return -EINVAL;
			}
			k->symtab = d;
			k->symtab_link = sh.sh_link;
			k->nsyms = d->d_size / sh.sh_entsize;
		} else if (sh.sh_type == SHT_RELA) {
			GElf_Shdr tsh;
			Elf_Scn *target = elf_getscn(k->elf, sh.sh_info);

			if (!target || !gelf_getshdr(target, &tsh)) {
				*why = "relocation section for a missing section";
				return -EINVAL;
			}
			if (!(tsh.sh_flags & SHF_ALLOC))
				continue;
			d = elf_getdata(scn, NULL);
			if (!d || !sh.sh_entsize) {
				*why = "unreadable relocations (truncated or corrupt)";
				return -EINVAL;
			}
			for (size_t i = 0; i < d->d_size / sh.sh_entsize; i++) {
				struct ko_rela r = { .sec = sh.sh_info };
				GElf_Rela rel;

				if (!gelf_getrela(d, (int)i, &rel)) {
					*why = "corrupt relocation entry";
					return -EINVAL;
				}
				r.off = rel.r_offset;
				r.sym = (__u32)GELF_R_SYM(rel.r_info);
				r.addend = rel.r_addend;
				if (push_rela(k, &cap, &r))
					return -ENOMEM;
			}
		}
	}
	if (!k->symtab) {
		*why = "no symbol table";
		return -EINVAL;
	}
	qsort(k->relas, k->nrelas, sizeof(*k->relas), cmp_rela);
	return 0;
}

int ko_elf__open(struct ko_elf *k, const char *path, const char **why)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0) {
		ret = -errno;
		memset(k, 0, sizeof(*k));
		*why = strerror(errno);
		return ret;
	}
	ret = ko_elf__open_fd(k, fd, why);
	close(fd);
	return ret;
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
	if (elf_getshdrnum(k->elf, &k->nsec) || elf_getshdrstrndx(k->elf, &k->shstrndx) ||
	    k->shstrndx >= k->nsec || !elf_getscn(k->elf, k->shstrndx)) {
		*why = "corrupt section table (truncated?)";
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

const struct ko_rela *ko_elf__rela_at(const struct ko_elf *k, size_t sec, __u64 off)
{
	struct ko_rela key = { .sec = sec, .off = off };

	return bsearch(&key, k->relas, k->nrelas, sizeof(key), cmp_rela);
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

const char *ko_elf__func_at(const struct ko_elf *k, size_t sec, __u64 off)
{
	for (size_t i = 1; i < k->nsyms; i++) {
		const char *name;
		GElf_Sym s;

		if (ko_elf__sym(k, i, &s, &name))
			return NULL;
		if (GELF_ST_TYPE(s.st_info) == STT_FUNC && s.st_shndx == sec && s.st_value == off)
			return name;
	}
	return NULL;
}

int ko_elf__object_at(const struct ko_elf *k, size_t sec, __u64 off, __u64 *start, __u64 *size)
{
	for (size_t i = 1; i < k->nsyms; i++) {
		const char *name;
		GElf_Sym s;

		if (ko_elf__sym(k, i, &s, &name))
			return -ERANGE;
		if (GELF_ST_TYPE(s.st_info) == STT_OBJECT && s.st_shndx == sec &&
		    s.st_value <= off && off - s.st_value < s.st_size) {
			*start = s.st_value;
			*size = s.st_size;
			return 0;
		}
	}
	return -ENOENT;
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

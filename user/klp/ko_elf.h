/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Bounded access to a kernel module file (ELF relocatable): sections, symbols
 * and relocations, every read checked against the data libelf vouches for, so
 * a truncated or corrupted file is an error, never an overread.
 */
#ifndef LPS_KO_ELF_H
#define LPS_KO_ELF_H

#include <stddef.h>
#include <gelf.h>
#include <linux/types.h>

struct ko_rela {
	size_t sec;		/* section the relocation patches */
	__u64 off;		/* offset in that section */
	__u32 sym;		/* symbol index */
	__s64 addend;
};

/* A defined function or data object symbol, for lookups by place. */
struct ko_place {
	size_t sec;
	__u64 value, size;
	size_t idx;		/* symbol index */
};

/*
 * What a crafted file can make the reader hold and go through: above these it
 * is refused (a real livepatch module has some thousands of each). They bound
 * one reading to a few seconds (the daemon's loop waits for it).
 */
#define KO_MAX_SYMBOLS	524288
#define KO_MAX_RELAS	1048576		/* against loaded sections */

struct ko_elf {
	int fd;
	Elf *elf;
	size_t shstrndx, nsec;
	Elf_Data *symtab;
	size_t symtab_link;	/* string table section of the symbols */
	size_t nsyms;
	struct ko_rela *relas;	/* sorted by (sec, off) */
	size_t nrelas;
	/* Every lookup is a binary search: no pass over a hostile file is quadratic. */
	struct ko_place *funcs, *objs;	/* sorted by (sec, value, idx) */
	size_t nfuncs, nobjs;
	__u64 *sec_flags;	/* sh_flags per section */
};

/*
 * Reads and indexes the module file open on fd (which stays the caller's,
 * checked by safe_file); on failure *why says what is wrong with the file.
 */
int ko_elf__open_fd(struct ko_elf *k, int fd, const char **why);
void ko_elf__close(struct ko_elf *k);

const char *ko_elf__section_name(const struct ko_elf *k, size_t sec);
/* Index of the first section with this name; 0 when absent. */
size_t ko_elf__find_section(const struct ko_elf *k, const char *name);
/* The section's bytes; NULL for NOBITS, empty or unreadable sections. */
Elf_Data *ko_elf__section_data(const struct ko_elf *k, size_t sec);

/* The relocation applied at exactly (sec, off), or NULL. */
const struct ko_rela *ko_elf__rela_at(const struct ko_elf *k, size_t sec, __u64 off);
/* The relocations applied inside [off, off + size) of sec: *first and the count. */
size_t ko_elf__relas_in(const struct ko_elf *k, size_t sec, __u64 off, __u64 size,
			const struct ko_rela **first);
/* sh_flags of section sec; 0 for a section that does not exist. */
__u64 ko_elf__section_flags(const struct ko_elf *k, size_t sec);
/* Where a relocation points: symbol's section and value plus the addend. */
int ko_elf__rela_target(const struct ko_elf *k, const struct ko_rela *r, size_t *sec, __u64 *off);
/* Symbol idx with its name ("" when unnamed). */
int ko_elf__sym(const struct ko_elf *k, size_t idx, GElf_Sym *sym, const char **name);

/* NUL-terminated string at (sec, off) lying wholly inside the section; NULL if not. */
const char *ko_elf__string_at(const struct ko_elf *k, size_t sec, __u64 off);
/* Name of the function symbol that starts at (sec, off); NULL if none. */
const char *ko_elf__func_at(const struct ko_elf *k, size_t sec, __u64 off);
/* Size of the (first) data object symbol that starts at (sec, off); -ENOENT if none. */
int ko_elf__object_at(const struct ko_elf *k, size_t sec, __u64 off, __u64 *size);
/* 8 bytes at (sec, off), little-endian host order; -ERANGE outside the data. */
int ko_elf__read_u64(const struct ko_elf *k, size_t sec, __u64 off, __u64 *v);
int ko_elf__read_u8(const struct ko_elf *k, size_t sec, __u64 off, __u8 *v);

#endif

/* SPDX-License-Identifier: GPL-2.0 */
/* What kernel BTF says about a function: is it there, what does it return. */
#ifndef LPS_FUNC_BTF_H
#define LPS_FUNC_BTF_H

#include <stdbool.h>
#include <linux/types.h>

struct btf;

/*
 * Loads vmlinux BTF (and the module's, when module is not NULL) and looks up
 * the function. Returns 0 and sets *ret_kind (enum lps_ret_kind) when found;
 * -ENOENT when the function has no BTF; -ENODATA when the kernel has no BTF.
 */
int func_btf__ret_kind(const char *name, const char *module, __u32 *ret_kind);

/* The return kind of a FUNC's prototype (exposed for unit tests). */
__u32 func_btf__kind_of(const struct btf *btf, __s32 func_id);

/* The number of parameters of the running kernel's function (a kfunc) name; -1: not there. */
int func_btf__kernel_func_params(const char *name);

/*
 * The value of member in the running kernel's enum enum_name (the kernel's
 * own numbering of an ABI constant this build's headers may predate): 0 and
 * *val, or -ENOENT.
 */
int func_btf__kernel_enum_value(const char *enum_name, const char *member, __s64 *val);

void func_btf__cleanup(void);

#endif

// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>
#include <bpf/btf.h>
#include "func_btf.h"
#include "lpsentinel.h"

/* Loaded once per run: parsing vmlinux BTF takes tens of milliseconds. */
static struct btf *vmlinux_btf;
static int vmlinux_err;

static struct btf *get_vmlinux_btf(void)
{
	if (!vmlinux_btf && !vmlinux_err) {
		vmlinux_btf = btf__load_vmlinux_btf();
		if (!vmlinux_btf)
			vmlinux_err = errno ? -errno : -ENODATA;
	}
	return vmlinux_btf;
}

__u32 func_btf__kind_of(const struct btf *btf, __s32 func_id)
{
	const struct btf_type *t = btf__type_by_id(btf, (__u32)func_id);
	__u32 id;

	if (!t || !btf_is_func(t))
		return LPS_RET_UNKNOWN;
	t = btf__type_by_id(btf, t->type);	/* FUNC_PROTO */
	if (!t || !btf_is_func_proto(t))
		return LPS_RET_UNKNOWN;
	id = t->type;
	if (id == 0)
		return LPS_RET_VOID;
	id = (__u32)btf__resolve_type(btf, id);	/* through typedefs and qualifiers */
	t = btf__type_by_id(btf, id);
	if (!t)
		return LPS_RET_UNKNOWN;
	if (btf_is_ptr(t))
		return LPS_RET_PTR;
	if (btf_is_int(t)) {
		if (btf_int_encoding(t) & BTF_INT_BOOL)
			return LPS_RET_NEVER;
		if (t->size == 4)
			return LPS_RET_INT32;
		if (t->size == 8)
			return LPS_RET_INT64;
	}
	return LPS_RET_NEVER;
}

int func_btf__ret_kind(const char *name, const char *module, __u32 *ret_kind)
{
	struct btf *base = get_vmlinux_btf(), *mod_btf = NULL;
	const struct btf *btf = base;
	__s32 id;

	if (!base)
		return -ENODATA;
	if (module) {
		mod_btf = btf__load_module_btf(module, base);
		if (!mod_btf)
			return -ENOENT;
		btf = mod_btf;
	}
	id = btf__find_by_name_kind(btf, name, BTF_KIND_FUNC);
	if (id > 0)
		*ret_kind = func_btf__kind_of(btf, id);
	btf__free(mod_btf);
	return id > 0 ? 0 : -ENOENT;
}

int func_btf__kernel_func_params(const char *name)
{
	struct btf *base = get_vmlinux_btf();
	const struct btf_type *fn, *proto;
	int id = base ? btf__find_by_name_kind(base, name, BTF_KIND_FUNC) : -1;

	if (id <= 0)
		return -1;
	fn = btf__type_by_id(base, (__u32)id);
	proto = fn ? btf__type_by_id(base, fn->type) : NULL;
	return proto && btf_is_func_proto(proto) ? btf_vlen(proto) : -1;
}

int func_btf__kernel_enum_value(const char *enum_name, const char *member, __s64 *val)
{
	struct btf *base = get_vmlinux_btf();
	int id = base ? btf__find_by_name_kind(base, enum_name, BTF_KIND_ENUM) : -1;
	const struct btf_type *t;
	const struct btf_enum *e;

	if (id <= 0)
		return -ENOENT;
	t = btf__type_by_id(base, (__u32)id);
	e = btf_enum(t);
	for (int i = 0; i < btf_vlen(t); i++, e++) {
		const char *name = btf__name_by_offset(base, e->name_off);

		if (name && !strcmp(name, member)) {
			*val = e->val;
			return 0;
		}
	}
	return -ENOENT;
}

void func_btf__cleanup(void)
{
	btf__free(vmlinux_btf);
	vmlinux_btf = NULL;
	vmlinux_err = 0;
}

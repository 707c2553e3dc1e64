/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a verdict was about, so verdicts from many hosts can be pooled only
 * when they judged the same thing: the kernel build and the patch module,
 * each by its GNU build id (the linker's SHA-1 of the linked contents, which
 * kbuild puts in every vmlinux and module). The same note is read from a .ko
 * file (gate, inspect) and from a loaded module's sysfs notes (the daemon),
 * so both name a module the same way.
 */
#ifndef LPS_IDENTITY_H
#define LPS_IDENTITY_H

#include <stddef.h>
#include <json-c/json.h>

/* A build id as lowercase hex: at most 64 bytes of note (sha1 is 20). */
#define IDENTITY_HEX_MAX (2 * 64 + 1)

struct lps_identity {
	char host[65];				/* the node name, where the verdict was made */
	char release[65];			/* uname -r */
	char kernel_build_id[IDENTITY_HEX_MAX];	/* "" when /sys/kernel/notes has none */
	char patch[128];
	char patch_build_id[IDENTITY_HEX_MAX];	/* "" when the module has none */
};

/*
 * The first NT_GNU_BUILD_ID of a run of ELF notes (a .note section, or a
 * sysfs notes file, which hold the same bytes), as hex. -ENOENT when there is
 * none, -EINVAL when the notes are malformed: nothing outside buf is read.
 */
int identity__note_build_id(const void *buf, size_t len, char *hex, size_t hexlen);

/* This host (its name, the running kernel's release and build id) and the patch judged here. */
void identity__here(struct lps_identity *id, const char *patch, const char *patch_build_id);

/* A loaded module's build id, from /sys/module/NAME/notes; "" when unreadable. */
void identity__loaded_module(const char *name, char *hex, size_t hexlen);

/* {"host", "kernel": {"release", "build_id"}, "patch": {"name", "build_id"}}, null for "". */
struct json_object *identity__json(const struct lps_identity *id);

#endif

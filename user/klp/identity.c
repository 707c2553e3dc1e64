// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <linux/types.h>
#include "identity.h"
#include "safe_file.h"

#define NT_GNU_BUILD_ID 3
/* Notes files are small: vmlinux's hold a few hundred bytes. */
#define NOTES_MAX (64UL << 10)

static size_t align4(size_t n)
{
	return (n + 3) & ~(size_t)3;
}

int identity__note_build_id(const void *buf, size_t len, char *hex, size_t hexlen)
{
	const unsigned char *p = buf;
	size_t off = 0;

	if (hexlen)
		hex[0] = '\0';
	while (len - off >= 12) {
		__u32 namesz, descsz, type;
		size_t name_at = off + 12, desc_at, next;

		memcpy(&namesz, p + off, 4);
		memcpy(&descsz, p + off + 4, 4);
		memcpy(&type, p + off + 8, 4);
		/* Each size checked against what is left before it is added: no wrap. */
		if (namesz > len - name_at || align4(namesz) > len - name_at)
			return -EINVAL;
		desc_at = name_at + align4(namesz);
		if (descsz > len - desc_at)
			return -EINVAL;
		next = descsz ? desc_at + align4(descsz) : desc_at;
		if (next > len)
			next = len;	/* the last note's padding may be cut */
		if (type == NT_GNU_BUILD_ID && namesz == 4 && !memcmp(p + name_at, "GNU", 4)) {
			if (!descsz || 2 * (size_t)descsz + 1 > hexlen)
				return -EINVAL;
			for (size_t i = 0; i < descsz; i++)
				snprintf(hex + 2 * i, 3, "%02x", p[desc_at + i]);
			return 0;
		}
		off = next;
	}
	return -ENOENT;
}

/* The build id in the notes file at path; "" when it cannot be read or has none. */
static void notes_file_build_id(const char *path, char *hex, size_t hexlen)
{
	char why[128], *buf = NULL;
	size_t len;

	hex[0] = '\0';
	if (safe_file__read(AT_FDCWD, path, 0, NOTES_MAX, &buf, &len, why, sizeof(why)))
		return;
	if (identity__note_build_id(buf, len, hex, hexlen))
		hex[0] = '\0';
	free(buf);
}

void identity__here(struct lps_identity *id, const char *patch, const char *patch_build_id)
{
	struct utsname u;

	snprintf(id->patch, sizeof(id->patch), "%s", patch);
	snprintf(id->patch_build_id, sizeof(id->patch_build_id), "%s", patch_build_id);
	id->release[0] = id->host[0] = '\0';
	if (!uname(&u)) {
		snprintf(id->release, sizeof(id->release), "%s", u.release);
		snprintf(id->host, sizeof(id->host), "%s", u.nodename);
	}
	notes_file_build_id("/sys/kernel/notes", id->kernel_build_id, sizeof(id->kernel_build_id));
}

void identity__loaded_module(const char *name, char *hex, size_t hexlen)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/module/%s/notes/.note.gnu.build-id", name);
	notes_file_build_id(path, hex, hexlen);
}

static struct json_object *string_or_null(const char *s)
{
	return s[0] ? json_object_new_string(s) : NULL;
}

struct json_object *identity__json(const struct lps_identity *id)
{
	struct json_object *o = json_object_new_object(), *k = json_object_new_object(),
			   *p = json_object_new_object();

	json_object_object_add(k, "release", string_or_null(id->release));
	json_object_object_add(k, "build_id", string_or_null(id->kernel_build_id));
	json_object_object_add(p, "name", string_or_null(id->patch));
	json_object_object_add(p, "build_id", string_or_null(id->patch_build_id));
	json_object_object_add(o, "host", string_or_null(id->host));
	json_object_object_add(o, "kernel", k);
	json_object_object_add(o, "patch", p);
	return o;
}

/* SPDX-License-Identifier: GPL-2.0 */
/* Reading /sys/kernel/livepatch. */
#ifndef LPS_KLP_SYSFS_H
#define LPS_KLP_SYSFS_H

#include <stdbool.h>

#define KLP_SYSFS_ROOT_DEFAULT "/sys/kernel/livepatch"

/* Is some loaded livepatch (enabled or in transition) replacing this function? */
bool klp_sysfs__is_patched(const char *root, const char *func);

#endif

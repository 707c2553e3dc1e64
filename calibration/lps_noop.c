// SPDX-License-Identifier: GPL-2.0
/*
 * lps_noop: lpsentinel's calibration livepatch. It replaces version_proc_show
 * (behind /proc/version) with a copy that does the same work: one seq_printf
 * with a format of the same bytes and the same three arguments. What a call
 * costs more once it is loaded is therefore the livepatch redirection alone
 * (the ftrace call site, klp_ftrace_handler, the jump to the copy), which
 * `lpsentinel overhead --calibrate lps_noop.ko` measures and separates from
 * what another patch's new code costs.
 *
 * The original's format, linux_proc_banner, is not exported to modules, so
 * it is rebuilt at load time from /proc/version as the original prints it,
 * before the patch is enabled; a banner that does not read back as
 * "SYSNAME version RELEASE ... VERSION\n" refuses the load.
 */
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/livepatch.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/utsname.h>

static char banner_fmt[512];

static int lps_noop_version_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, banner_fmt, utsname()->sysname, utsname()->release, utsname()->version);
	return 0;
}

static struct klp_func funcs[] = {
	{ .old_name = "version_proc_show", .new_func = lps_noop_version_proc_show },
	{ }
};

static struct klp_object objs[] = {
	{ .name = NULL, .funcs = funcs },
	{ }
};

static struct klp_patch patch = {
	.mod = THIS_MODULE,
	.objs = objs,
};

/* out: "%s version %s" MIDDLE "%s\n", MIDDLE with every '%' doubled. */
static int rebuild_format(const char *text, size_t n)
{
	const struct new_utsname *u = utsname();
	size_t ls = strlen(u->sysname), lr = strlen(u->release), lv = strlen(u->version);
	size_t head = ls + strlen(" version ") + lr, off, i;

	if (n < head + lv + 1 || memcmp(text, u->sysname, ls) ||
	    memcmp(text + ls, " version ", strlen(" version ")) || memcmp(text + ls + 9, u->release, lr) ||
	    text[n - 1] != '\n' || memcmp(text + n - 1 - lv, u->version, lv))
		return -EINVAL;
	off = scnprintf(banner_fmt, sizeof(banner_fmt), "%%s version %%s");
	for (i = head; i < n - 1 - lv; i++) {
		if (off + 3 >= sizeof(banner_fmt))
			return -E2BIG;
		if (text[i] == '%')
			banner_fmt[off++] = '%';
		banner_fmt[off++] = text[i];
	}
	if (off + 5 >= sizeof(banner_fmt))
		return -E2BIG;
	memcpy(banner_fmt + off, "%s\n", 4);
	return 0;
}

static int __init lps_noop_init(void)
{
	struct file *f;
	loff_t pos = 0;
	ssize_t n;
	char *text;
	int ret;

	text = kzalloc(1024, GFP_KERNEL);
	if (!text)
		return -ENOMEM;
	f = filp_open("/proc/version", O_RDONLY, 0);
	if (IS_ERR(f)) {
		kfree(text);
		return PTR_ERR(f);
	}
	n = kernel_read(f, text, 1023, &pos);
	filp_close(f, NULL);
	ret = n <= 0 ? -EIO : rebuild_format(text, (size_t)n);
	kfree(text);
	if (ret) {
		pr_err("lps_noop: /proc/version does not read as the banner it expects: %d\n", ret);
		return ret;
	}
	return klp_enable_patch(&patch);
}

static void __exit lps_noop_exit(void)
{
}

module_init(lps_noop_init);
module_exit(lps_noop_exit);
MODULE_LICENSE("GPL");
MODULE_INFO(livepatch, "Y");
MODULE_DESCRIPTION("lpsentinel calibration: a livepatch identical to version_proc_show");

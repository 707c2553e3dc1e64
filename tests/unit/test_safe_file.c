// SPDX-License-Identifier: GPL-2.0
/*
 * Opening what lpsentinel did not write: special files refused without
 * blocking, sizes bounded, links refused where asked, files others can write
 * refused where asked; names checked and text escaped.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "unit.h"
#include "safe_file.h"
#include "text.h"

static char path[256], why[256];

static const char *in_tmp(const char *name)
{
	snprintf(path, sizeof(path), "%s/%s", unit_tmpdir, name);
	return path;
}

static void test_fifo_refused_without_blocking(void **state)
{
	(void)state;
	assert_int_equal(mkfifo(in_tmp("fifo"), 0600), 0);
	alarm(5);	/* the old open(2) blocked here for ever: a hang fails the test */
	assert_int_equal(safe_file__open(AT_FDCWD, path, 0, 100, why, sizeof(why)), -EINVAL);
	alarm(0);
	assert_string_equal(why, "is a FIFO, not a regular file");
}

static void test_devices_and_dirs_refused(void **state)
{
	(void)state;
	assert_int_equal(safe_file__open(AT_FDCWD, "/dev/zero", 0, 100, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "is a character device, not a regular file");
	assert_int_equal(safe_file__open(AT_FDCWD, unit_tmpdir, 0, 100, why, sizeof(why)), -EISDIR);
}

static void test_size_limit(void **state)
{
	char *buf = NULL;
	size_t len = 0;

	(void)state;
	unit__write_file(in_tmp("big"), "0123456789", 10);
	assert_int_equal(safe_file__open(AT_FDCWD, path, 0, 9, why, sizeof(why)), -EFBIG);
	assert_non_null(strstr(why, "is 10 bytes, more than the 9"));
	assert_int_equal(safe_file__read(AT_FDCWD, path, 0, 10, &buf, &len, why, sizeof(why)), 0);
	assert_int_equal(len, 10);
	assert_string_equal(buf, "0123456789");
	free(buf);
}

static void test_growing_file_bounded(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	int fd = open("/proc/self/maps", O_RDONLY);	/* st_size 0, reads far more */

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(safe_file__read_fd(fd, 16, &buf, &len), -EFBIG);
	close(fd);
}

static void test_symlink_refused_when_asked(void **state)
{
	char target[256];
	int dfd, fd;

	(void)state;
	unit__write_file(in_tmp("target"), "x", 1);
	snprintf(target, sizeof(target), "%s", path);
	assert_int_equal(symlink(target, in_tmp("link")), 0);
	dfd = open(unit_tmpdir, O_RDONLY | O_DIRECTORY);
	assert_true(dfd >= 0);
	assert_int_equal(safe_file__open(dfd, "link", SAFE_NOFOLLOW, 10, why, sizeof(why)), -ELOOP);
	assert_string_equal(why, "is a symbolic link: refused");
	fd = safe_file__open(dfd, "link", 0, 10, why, sizeof(why));
	assert_true(fd >= 0);
	close(fd);
	close(dfd);
}

static void test_root_only(void **state)
{
	struct stat st = { .st_uid = 0, .st_mode = S_IFREG | 0644 };

	(void)state;
	assert_int_equal(safe_file__root_only(&st, "the module", why, sizeof(why)), 0);
	st.st_mode = S_IFREG | 0664;
	assert_int_equal(safe_file__root_only(&st, "the module", why, sizeof(why)), -EPERM);
	assert_string_equal(why, "the module is writable by its group (mode 0664): refused");
	st.st_mode = S_IFDIR | 01777;
	assert_int_equal(safe_file__root_only(&st, "the state directory", why, sizeof(why)), -EPERM);
	assert_string_equal(why, "the state directory is writable by every user (mode 1777): refused");
	st.st_mode = S_IFREG | 0600;
	st.st_uid = 65534;
	assert_int_equal(safe_file__root_only(&st, "the module", why, sizeof(why)), -EPERM);
	assert_string_equal(why, "the module is owned by uid 65534, not root: refused");
}

static void test_names(void **state)
{
	char longname[TEXT_SYMBOL_MAX + 2];

	(void)state;
	assert_true(text__is_symbol("version_proc_show"));
	assert_true(text__is_symbol("__x64_sys_getpid"));
	assert_true(text__is_symbol("cmdline_proc_show.cold"));
	assert_false(text__is_symbol(""));
	assert_false(text__is_symbol("a b"));
	assert_false(text__is_symbol("evil\n      version_proc_show"));
	assert_false(text__is_symbol("\x1b[2J"));
	assert_false(text__is_symbol("caf\xc3\xa9"));
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_false(text__is_symbol(longname));
	longname[TEXT_SYMBOL_MAX] = '\0';
	assert_true(text__is_symbol(longname));
	assert_true(text__is_printable("a b~", 4));
	assert_false(text__is_printable("a\0b", 3));
	assert_false(text__is_printable("\x7f", 1));
	assert_false(text__is_printable("caf\xc3\xa9", 5));
	assert_true(text__is_module("lp_gate-slow"));
	assert_false(text__is_module("lp.gate"));
	assert_false(text__is_module("a/b"));
}

static void test_escape(void **state)
{
	char out[64], small[6], buf[32];

	(void)state;
	assert_string_equal(text__escape("ok_name", out, sizeof(out)), "ok_name");
	assert_string_equal(text__escape("a\nb\x1b[1m\\", out, sizeof(out)), "a\\x0ab\\x1b[1m\\\\");
	/* Invalid UTF-8 and valid non-ASCII alike: printable ASCII out. */
	assert_string_equal(text__escape("\xff\xc3\xa9", out, sizeof(out)), "\\xff\\xc3\\xa9");
	/* Truncation never splits an escape. */
	assert_string_equal(text__escape("ab\ncd", small, sizeof(small)), "ab");
	snprintf(buf, sizeof(buf), "x\ty");
	text__escape_inplace(buf, sizeof(buf));
	assert_string_equal(buf, "x\\x09y");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_refused_without_blocking),
		cmocka_unit_test(test_devices_and_dirs_refused),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_growing_file_bounded),
		cmocka_unit_test(test_symlink_refused_when_asked),
		cmocka_unit_test(test_root_only),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_escape),
	};

	return cmocka_run_group_tests(tests, unit__tmpdir_setup, unit__tmpdir_teardown);
}

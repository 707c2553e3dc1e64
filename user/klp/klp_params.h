/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Module parameters for a patch module (`gate PATCH.ko -- replace=1`): each
 * PARAM=VALUE checked, then joined as finit_module(2) takes them. The kernel
 * parses the string itself (quotes, spaces, a name without '='); only the
 * plain form passes here, so what the kernel gets is what people read.
 */
#ifndef LPS_KLP_PARAMS_H
#define LPS_KLP_PARAMS_H

#include <stddef.h>

/* The joined string's size, its NUL included: lpsentinel's bound, well under any request's. */
#define KLP_PARAMS_MAX 1024
/* A parameter name: the kernel's C identifiers ('-' reads as '_'), at most this long. */
#define KLP_PARAM_NAME_MAX 64

/*
 * One PARAM=VALUE: a name of [A-Za-z0-9_-], '=', a value of printable ASCII
 * without space or quote (may be empty). 0, or -EINVAL with one sentence in why.
 */
int klp_params__check(const char *param, char *why, size_t len);
/*
 * Checks every one of v[0..n) and joins them with spaces into out (outlen
 * bytes, at most KLP_PARAMS_MAX used): "" when n is 0. 0; -EINVAL for a bad
 * one, -E2BIG when they do not fit; why says which, in one sentence.
 */
int klp_params__join(const char *const *v, size_t n, char *out, size_t outlen, char *why,
		     size_t len);

#endif

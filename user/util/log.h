/* SPDX-License-Identifier: GPL-2.0 */
/* Messages to the user: one line each on stderr, prefixed with the program name. */
#ifndef LPS_LOG_H
#define LPS_LOG_H

__attribute__((format(printf, 1, 2))) void lps_err(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void lps_warn(const char *fmt, ...);
void lps_silence_libbpf(void);
/*
 * libbpf's first warning that names a map or program ("map 'hists': failed
 * to create: ...") since lps_libbpf_mark(), or "" : which object the kernel
 * refused, for our own one-line error. Not thread-safe: loads are made from
 * one thread.
 */
void lps_libbpf_mark(void);
const char *lps_libbpf_culprit(void);

#endif

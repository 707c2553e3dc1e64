/* SPDX-License-Identifier: GPL-2.0 */
/* Time as the verbs and the daemon use it. */
#ifndef LPS_CLOCK_H
#define LPS_CLOCK_H

/* CLOCK_MONOTONIC in seconds. */
double clock__now_s(void);
/* CLOCK_MONOTONIC in ns: the clock of bpf_ktime_get_ns(), for values BPF compares. */
unsigned long long clock__now_ns(void);
/* CLOCK_REALTIME in seconds (unix time), for records people read. */
double clock__unix_s(void);
/* CPU time of the calling thread in seconds (system calls included). */
double clock__thread_cpu_s(void);
/* Sleeps s seconds; a signal cuts it short (callers loop on the clock). */
void clock__nap(double s);

#endif

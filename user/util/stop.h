/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SIGINT and SIGTERM set a flag instead of killing us (no SA_RESTART, so a
 * sleep is cut short): long-running verbs then detach or revert and exit.
 */
#ifndef LPS_STOP_H
#define LPS_STOP_H

#include <stdbool.h>

void stop__catch_signals(void);
bool stop__requested(void);

#endif

// SPDX-License-Identifier: GPL-2.0
#include <signal.h>
#include <stddef.h>
#include "stop.h"

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

void stop__catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

bool stop__requested(void)
{
	return stop_requested;
}

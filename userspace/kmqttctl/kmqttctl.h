/* SPDX-License-Identifier: GPL-2.0 OR MIT */
#ifndef KMQTTCTL_H
#define KMQTTCTL_H

#include <stdbool.h>

/* Exit codes shared by the subcommands. */
#define EXIT_OK 0
#define EXIT_FAIL 1		/* error: permission, bad arguments, I/O */
#define EXIT_USAGE 2
#define EXIT_NOT_RUNNING 3	/* the module or the daemon is not there */

struct ctl_opts {
	bool json;
	const char *socket;
};

int cmd_status(const struct ctl_opts *o, int argc, char **argv);

#endif

/* SPDX-License-Identifier: GPL-2.0 OR MIT */
#ifndef KMQTTCTL_H
#define KMQTTCTL_H

#include <stdbool.h>
#include <stddef.h>

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
int cmd_clients(const struct ctl_opts *o, int argc, char **argv);
int cmd_kick(const struct ctl_opts *o, int argc, char **argv);
int cmd_stats(const struct ctl_opts *o, int argc, char **argv);
int cmd_revoke(const struct ctl_opts *o, int argc, char **argv);
int cmd_reload(const struct ctl_opts *o, int argc, char **argv);
int cmd_retained(const struct ctl_opts *o, int argc, char **argv);
int cmd_sessions(const struct ctl_opts *o, int argc, char **argv);

/* Messages for the errors of the control socket and of the module's netlink family. */
const char *ctl_errstr(int err);
struct json_object;
struct json_object *ctl_daemon_json(const char *sock, const char *cmd, int *errp);
/* Print {"module": @m, "daemon": @d} as JSON (-j) or through @human; consumes both. */
void ctl_emit(const struct ctl_opts *o, struct json_object *m, struct json_object *d,
	      void (*human)(struct json_object *m, struct json_object *d, const char *sock));
const char *nl_errstr(int err);
/* The exit status for a netlink error: EXIT_NOT_RUNNING, or EXIT_FAIL. */
int nl_exit(int err);
/* @s with control characters escaped, for terminal output; returns @buf. */
const char *term_safe(const char *s, char *buf, size_t cap);

#endif

// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "conf.h"
#include "ctl.h"

#define MAX_ARGS 8

struct parse_ctx {
	const char *path;
	unsigned int line;
	char *err;
	size_t errlen;
	struct kmq_conf *c;
	unsigned int seen;	/* bit per option index: single-valued options seen */
};

static int fail(struct parse_ctx *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct parse_ctx *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s:%u: %s", p->path, p->line, msg);
	return -1;
}

static int opt_control_socket(struct parse_ctx *p, int argc, char **argv)
{
	(void)argc;
	if (argv[1][0] != '/')
		return fail(p, "control_socket must be an absolute path, got '%s'", argv[1]);
	if (strlen(argv[1]) >= 108)
		return fail(p, "control_socket path is longer than a UNIX socket allows (107 bytes)");
	free(p->c->control_socket);
	p->c->control_socket = strdup(argv[1]);
	return p->c->control_socket ? 0 : fail(p, "out of memory");
}

static int opt_log_level(struct parse_ctx *p, int argc, char **argv)
{
	(void)argc;
	if (kmq_log_level_parse(argv[1], &p->c->log_level))
		return fail(p, "log_level '%s' is not one of debug, info, notice, warning, error",
			    argv[1]);
	return 0;
}

static const struct option {
	const char *name;
	int min_args, max_args;
	bool repeatable;
	int (*set)(struct parse_ctx *p, int argc, char **argv);
} options[] = {
	{ "control_socket", 1, 1, false, opt_control_socket },
	{ "log_level", 1, 1, false, opt_log_level },
};

void kmq_conf_init(struct kmq_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->log_level = KMQ_LOG_INFO;
	c->control_socket = strdup(KMQ_CTL_SOCKET_DEFAULT);
}

void kmq_conf_free(struct kmq_conf *c)
{
	free(c->control_socket);
	c->control_socket = NULL;
}

static int parse_line(struct parse_ctx *p, char *s)
{
	char *argv[MAX_ARGS + 1];
	int argc = 0;
	char *tok, *save = NULL;

	s += strspn(s, " \t\r");
	if (*s == '#' || *s == 0)
		return 0;
	for (tok = strtok_r(s, " \t\r", &save); tok; tok = strtok_r(NULL, " \t\r", &save)) {
		if (argc == MAX_ARGS + 1)
			return fail(p, "too many values for '%s'", argv[0]);
		argv[argc++] = tok;
	}
	if (argc == 0)
		return 0;
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++) {
		const struct option *o = &options[i];

		if (strcmp(o->name, argv[0]))
			continue;
		if (argc - 1 < o->min_args || argc - 1 > o->max_args) {
			if (o->min_args == o->max_args)
				return fail(p, "'%s' takes %d value%s, got %d", o->name, o->min_args,
					    o->min_args == 1 ? "" : "s", argc - 1);
			return fail(p, "'%s' takes %d to %d values, got %d", o->name,
				    o->min_args, o->max_args, argc - 1);
		}
		if (!o->repeatable) {
			if (p->seen & (1u << i))
				return fail(p, "'%s' is set more than once", o->name);
			p->seen |= 1u << i;
		}
		return o->set(p, argc, argv);
	}
	return fail(p, "unknown option '%s'", argv[0]);
}

int kmq_conf_load(const char *path, struct kmq_conf *c, char *err, size_t errlen)
{
	struct parse_ctx p = { .path = path, .err = err, .errlen = errlen, .c = c };
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	FILE *f;
	int ret = 0;

	f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		p.line++;
		if (len && line[len - 1] == '\n')
			line[--len] = 0;
		if (len > KMQ_CONF_MAX_LINE) {
			ret = fail(&p, "line longer than %d bytes", KMQ_CONF_MAX_LINE);
			break;
		}
		if (strlen(line) != (size_t)len) {
			ret = fail(&p, "NUL byte in line");
			break;
		}
		ret = parse_line(&p, line);
		if (ret)
			break;
	}
	if (!ret && ferror(f)) {
		snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
		ret = -1;
	}
	free(line);
	fclose(f);
	return ret;
}

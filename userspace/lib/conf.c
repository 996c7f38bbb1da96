// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "conf.h"
#include "ctl.h"
#include "mqtt_codec.h"

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

/* A decimal integer in [min, max], or @unlimited_ok and -1. Nothing else, no spaces. */
static int parse_num(struct parse_ctx *p, const char *opt, const char *s, long min, long max,
		     bool unlimited_ok, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!errno && end != s && !*end && (s[0] == '-' || (s[0] >= '0' && s[0] <= '9')) &&
	    ((v >= min && v <= max) || (unlimited_ok && v == KMQ_UNLIMITED))) {
		*out = v;
		return 0;
	}
	if (unlimited_ok)
		return fail(p, "'%s' must be -1 (unlimited) or an integer from %ld to %ld, got '%s'",
			    opt, min, max, s);
	return fail(p, "'%s' must be an integer from %ld to %ld, got '%s'", opt, min, max, s);
}

static int set_path(struct parse_ctx *p, const char *opt, const char *val, char **out)
{
	const char *slash = strrchr(p->path, '/');
	size_t dlen = slash ? (size_t)(slash - p->path) + 1 : 0;
	char *s;

	if (!*val)
		return fail(p, "'%s' needs a file name", opt);
	/* Relative names are relative to the configuration file's directory. */
	if (val[0] == '/')
		dlen = 0;
	s = malloc(dlen + strlen(val) + 1);
	if (s) {
		memcpy(s, p->path, dlen);
		strcpy(s + dlen, val);
	}
	if (!s)
		return fail(p, "out of memory");
	free(*out);
	*out = s;
	return 0;
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

static int opt_listener(struct parse_ctx *p, int argc, char **argv)
{
	struct kmq_listener *l;
	unsigned char addr[16];
	const char *a = argc > 2 ? argv[2] : NULL;
	long port;

	if (parse_num(p, "listener", argv[1], 1, 65535, false, &port))
		return -1;
	if (a && inet_pton(AF_INET, a, addr) != 1 && inet_pton(AF_INET6, a, addr) != 1)
		return fail(p, "listener address '%s' is not a numeric IPv4 or IPv6 address", a);
	for (unsigned int i = 0; i < p->c->n_listeners; i++) {
		l = &p->c->listeners[i];
		if (l->port == port && (!l->address == !a) && (!a || !strcmp(l->address, a)))
			return fail(p, "listener %ld %s is already configured at line %u", port,
				    a ? a : "(all addresses)", l->line);
	}
	if (p->c->n_listeners == KMQ_CONF_MAX_LISTENERS)
		return fail(p, "more than %d listeners", KMQ_CONF_MAX_LISTENERS);
	l = &p->c->listeners[p->c->n_listeners];
	l->port = (uint16_t)port;
	l->line = p->line;
	l->address = NULL;
	if (a) {
		l->address = strdup(a);
		if (!l->address)
			return fail(p, "out of memory");
	}
	p->c->n_listeners++;
	return 0;
}

static int opt_allow_anonymous(struct parse_ctx *p, int argc, char **argv)
{
	(void)argc;
	if (!strcmp(argv[1], "true"))
		p->c->allow_anonymous = true;
	else if (!strcmp(argv[1], "false"))
		p->c->allow_anonymous = false;
	else
		return fail(p, "allow_anonymous must be true or false, got '%s'", argv[1]);
	return 0;
}

static int opt_password_file(struct parse_ctx *p, int argc, char **argv)
{
	(void)argc;
	return set_path(p, "password_file", argv[1], &p->c->password_file);
}

static int opt_acl_file(struct parse_ctx *p, int argc, char **argv)
{
	(void)argc;
	return set_path(p, "acl_file", argv[1], &p->c->acl_file);
}

static int opt_max_connections(struct parse_ctx *p, int argc, char **argv)
{
	(void)argc;
	return parse_num(p, argv[0], argv[1], 1, INT_MAX, true, &p->c->max_connections);
}

static int opt_max_connections_per_ip(struct parse_ctx *p, int argc, char **argv)
{
	(void)argc;
	return parse_num(p, argv[0], argv[1], 1, INT_MAX, true, &p->c->max_connections_per_ip);
}

static int opt_connect_rate_per_ip(struct parse_ctx *p, int argc, char **argv)
{
	(void)argc;
	return parse_num(p, argv[0], argv[1], 1, KMQ_CONF_MAX_CONNECT_RATE, true,
			 &p->c->connect_rate_per_ip);
}

static int opt_connect_timeout(struct parse_ctx *p, int argc, char **argv)
{
	long v;

	(void)argc;
	if (parse_num(p, argv[0], argv[1], 1, KMQ_CONF_MAX_CONNECT_TIMEOUT, false, &v))
		return -1;
	p->c->connect_timeout = (unsigned int)v;
	return 0;
}

static int opt_max_packet_size(struct parse_ctx *p, int argc, char **argv)
{
	long v;

	(void)argc;
	if (parse_num(p, argv[0], argv[1], KMQ_CONF_MIN_PACKET_SIZE, MQTT_MAX_PACKET_SIZE, false, &v))
		return -1;
	p->c->max_packet_size = (uint32_t)v;
	return 0;
}

static int opt_max_keepalive(struct parse_ctx *p, int argc, char **argv)
{
	long v;

	(void)argc;
	if (parse_num(p, argv[0], argv[1], 0, 65535, false, &v))
		return -1;
	p->c->max_keepalive = (uint16_t)v;
	return 0;
}

static int opt_max_queued_messages(struct parse_ctx *p, int argc, char **argv)
{
	long v;

	(void)argc;
	if (parse_num(p, argv[0], argv[1], 1, KMQ_CONF_MAX_QUEUED, false, &v))
		return -1;
	p->c->max_queued_messages = (uint32_t)v;
	return 0;
}

static int opt_max_inflight_messages(struct parse_ctx *p, int argc, char **argv)
{
	long v;

	(void)argc;
	if (parse_num(p, argv[0], argv[1], 1, KMQ_CONF_MAX_INFLIGHT, false, &v))
		return -1;
	p->c->max_inflight_messages = (uint32_t)v;
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
	{ "listener", 1, 2, true, opt_listener },
	{ "allow_anonymous", 1, 1, false, opt_allow_anonymous },
	{ "password_file", 1, 1, false, opt_password_file },
	{ "acl_file", 1, 1, false, opt_acl_file },
	{ "max_connections", 1, 1, false, opt_max_connections },
	{ "max_connections_per_ip", 1, 1, false, opt_max_connections_per_ip },
	{ "connect_rate_per_ip", 1, 1, false, opt_connect_rate_per_ip },
	{ "connect_timeout", 1, 1, false, opt_connect_timeout },
	{ "max_packet_size", 1, 1, false, opt_max_packet_size },
	{ "max_keepalive", 1, 1, false, opt_max_keepalive },
	{ "max_queued_messages", 1, 1, false, opt_max_queued_messages },
	{ "max_inflight_messages", 1, 1, false, opt_max_inflight_messages },
};

_Static_assert(sizeof(options) / sizeof(options[0]) <= 32, "parse_ctx.seen has 32 bits");

void kmq_conf_init(struct kmq_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->log_level = KMQ_LOG_INFO;
	c->control_socket = strdup(KMQ_CTL_SOCKET_DEFAULT);
	c->allow_anonymous = false;
	c->max_connections = KMQ_UNLIMITED;
	c->max_connections_per_ip = KMQ_UNLIMITED;
	c->connect_rate_per_ip = KMQ_UNLIMITED;
	c->connect_timeout = KMQ_CONF_DEFAULT_CONNECT_TIMEOUT;
}

void kmq_conf_free(struct kmq_conf *c)
{
	free(c->control_socket);
	c->control_socket = NULL;
	for (unsigned int i = 0; i < c->n_listeners; i++)
		free(c->listeners[i].address);
	c->n_listeners = 0;
	free(c->password_file);
	c->password_file = NULL;
	free(c->acl_file);
	c->acl_file = NULL;
}

static int parse_line(void *ctx, char *s, unsigned int lineno)
{
	struct parse_ctx *p = ctx;
	char *argv[MAX_ARGS + 1];
	int argc = 0;
	char *tok, *save = NULL;

	p->line = lineno;
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

int kmq_read_lines(const char *path, int (*fn)(void *ctx, char *line, unsigned int lineno),
		   void *ctx, char *err, size_t errlen)
{
	unsigned int lineno = 0;
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
		lineno++;
		if (len && line[len - 1] == '\n')
			line[--len] = 0;
		if (len && line[len - 1] == '\r')
			line[--len] = 0;
		if (len > KMQ_CONF_MAX_LINE) {
			snprintf(err, errlen, "%s:%u: line longer than %d bytes", path, lineno,
				 KMQ_CONF_MAX_LINE);
			ret = -1;
			break;
		}
		if (strlen(line) != (size_t)len) {
			snprintf(err, errlen, "%s:%u: NUL byte in line", path, lineno);
			ret = -1;
			break;
		}
		ret = fn(ctx, line, lineno);
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

int kmq_conf_load(const char *path, struct kmq_conf *c, char *err, size_t errlen)
{
	struct parse_ctx p = { .path = path, .err = err, .errlen = errlen, .c = c };

	return kmq_read_lines(path, parse_line, &p, err, errlen);
}

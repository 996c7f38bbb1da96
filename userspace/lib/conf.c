// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
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
	uint64_t seen;		/* bit per option index: single-valued options seen */
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

/* The listener that per-listener (TLS) options apply to: the last one configured. */
static struct kmq_listener *tls_listener(struct parse_ctx *p, const char *opt, unsigned int bit)
{
	struct kmq_listener *l;

	if (!p->c->n_listeners) {
		fail(p, "'%s' applies to a listener: put it after a 'listener' line", opt);
		return NULL;
	}
	l = &p->c->listeners[p->c->n_listeners - 1];
	if (l->t.seen & bit) {
		fail(p, "'%s' is set more than once for listener %u (line %u)", opt, l->port, l->line);
		return NULL;
	}
	l->t.seen |= bit;
	return l;
}

enum { T_CAFILE, T_CERTFILE, T_KEYFILE, T_CRLFILE, T_CIPHERS, T_CIPHERSUITES, T_REQUIRE,
       T_IDENTITY, T_VERSION };

static int tls_path(struct parse_ctx *p, char **argv, unsigned int bit, size_t off)
{
	struct kmq_listener *l = tls_listener(p, argv[0], 1u << bit);

	return l ? set_path(p, argv[0], argv[1], (char **)((char *)&l->t + off)) : -1;
}

static int opt_cafile(struct parse_ctx *p, int argc, char **argv)
{
	(void)argc;
	return tls_path(p, argv, T_CAFILE, offsetof(struct kmq_tls_conf, cafile));
}

static int opt_certfile(struct parse_ctx *p, int argc, char **argv)
{
	(void)argc;
	return tls_path(p, argv, T_CERTFILE, offsetof(struct kmq_tls_conf, certfile));
}

static int opt_keyfile(struct parse_ctx *p, int argc, char **argv)
{
	(void)argc;
	return tls_path(p, argv, T_KEYFILE, offsetof(struct kmq_tls_conf, keyfile));
}

static int opt_crlfile(struct parse_ctx *p, int argc, char **argv)
{
	(void)argc;
	return tls_path(p, argv, T_CRLFILE, offsetof(struct kmq_tls_conf, crlfile));
}

static int tls_string(struct parse_ctx *p, char **argv, char **out)
{
	if (!*argv[1])
		return fail(p, "'%s' needs a value", argv[0]);
	*out = strdup(argv[1]);
	return *out ? 0 : fail(p, "out of memory");
}

static int opt_ciphers(struct parse_ctx *p, int argc, char **argv)
{
	struct kmq_listener *l = tls_listener(p, argv[0], 1u << T_CIPHERS);

	(void)argc;
	return l ? tls_string(p, argv, &l->t.ciphers) : -1;
}

static int opt_ciphersuites(struct parse_ctx *p, int argc, char **argv)
{
	struct kmq_listener *l = tls_listener(p, argv[0], 1u << T_CIPHERSUITES);

	(void)argc;
	return l ? tls_string(p, argv, &l->t.ciphersuites) : -1;
}

static int parse_bool(struct parse_ctx *p, const char *opt, const char *v, bool *out)
{
	if (!strcmp(v, "true"))
		*out = true;
	else if (!strcmp(v, "false"))
		*out = false;
	else
		return fail(p, "%s must be true or false, got '%s'", opt, v);
	return 0;
}

static int opt_require_certificate(struct parse_ctx *p, int argc, char **argv)
{
	struct kmq_listener *l = tls_listener(p, argv[0], 1u << T_REQUIRE);

	(void)argc;
	return l ? parse_bool(p, argv[0], argv[1], &l->t.require_certificate) : -1;
}

static int opt_use_identity_as_username(struct parse_ctx *p, int argc, char **argv)
{
	struct kmq_listener *l = tls_listener(p, argv[0], 1u << T_IDENTITY);

	(void)argc;
	return l ? parse_bool(p, argv[0], argv[1], &l->t.use_identity_as_username) : -1;
}

static int opt_tls_version(struct parse_ctx *p, int argc, char **argv)
{
	struct kmq_listener *l = tls_listener(p, argv[0], 1u << T_VERSION);

	(void)argc;
	if (!l)
		return -1;
	if (!strcmp(argv[1], "tlsv1.2"))
		l->t.min_version = 0x0303;
	else if (!strcmp(argv[1], "tlsv1.3"))
		l->t.min_version = 0x0304;
	else if (!strcmp(argv[1], "tlsv1.1") || !strcmp(argv[1], "tlsv1"))
		return fail(p, "tls_version %s is refused: kmqtt speaks TLS 1.2 and 1.3 only",
			    argv[1]);
	else
		return fail(p, "tls_version must be tlsv1.2 or tlsv1.3, got '%s'", argv[1]);
	return 0;
}

static int opt_revocation_file(struct parse_ctx *p, int argc, char **argv)
{
	(void)argc;
	return set_path(p, "revocation_file", argv[1], &p->c->revocation_file);
}

static int opt_bool(struct parse_ctx *p, const char *opt, const char *val, bool *out)
{
	if (!strcmp(val, "true"))
		*out = true;
	else if (!strcmp(val, "false"))
		*out = false;
	else
		return fail(p, "%s must be true or false, got '%s'", opt, val);
	return 0;
}

static int opt_persistence(struct parse_ctx *p, int argc, char **argv)
{
	(void)argc;
	return opt_bool(p, argv[0], argv[1], &p->c->persistence);
}

static int opt_persistence_location(struct parse_ctx *p, int argc, char **argv)
{
	(void)argc;
	return set_path(p, argv[0], argv[1], &p->c->persistence_location);
}

static int opt_persistence_file(struct parse_ctx *p, int argc, char **argv)
{
	(void)argc;
	if (strchr(argv[1], '/'))
		return fail(p, "persistence_file is a file name without '/' (the directory is persistence_location), got '%s'",
			    argv[1]);
	free(p->c->persistence_file);
	p->c->persistence_file = strdup(argv[1]);
	return p->c->persistence_file ? 0 : fail(p, "out of memory");
}

static int opt_persistence_key_file(struct parse_ctx *p, int argc, char **argv)
{
	(void)argc;
	return set_path(p, argv[0], argv[1], &p->c->persistence_key_file);
}

static int opt_persistence_damaged(struct parse_ctx *p, int argc, char **argv)
{
	(void)argc;
	if (!strcmp(argv[1], "set_aside"))
		p->c->persistence_set_aside = true;
	else if (!strcmp(argv[1], "refuse"))
		p->c->persistence_set_aside = false;
	else
		return fail(p, "persistence_damaged must be refuse or set_aside, got '%s'", argv[1]);
	return 0;
}

/* A byte count: a decimal integer from @min to LLONG_MAX. */
static int parse_bytes(struct parse_ctx *p, const char *opt, const char *s, long long min,
		       uint64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || s[0] < '0' || s[0] > '9' || v < min)
		return fail(p, "'%s' must be a number of bytes from %lld to %lld, got '%s'", opt, min,
			    LLONG_MAX, s);
	*out = (uint64_t)v;
	return 0;
}

static int opt_max_queued_bytes(struct parse_ctx *p, int argc, char **argv)
{
	(void)argc;
	return parse_bytes(p, argv[0], argv[1], 0, &p->c->max_queued_bytes);
}

static int opt_max_queued_bytes_total(struct parse_ctx *p, int argc, char **argv)
{
	(void)argc;
	return parse_bytes(p, argv[0], argv[1], KMQ_CONF_MIN_QUEUED_BYTES_TOTAL,
			   &p->c->max_queued_bytes_total);
}

static int opt_queue_overflow(struct parse_ctx *p, int argc, char **argv)
{
	(void)argc;
	if (!strcmp(argv[1], "drop_newest"))
		p->c->queue_drop_oldest = false;
	else if (!strcmp(argv[1], "drop_oldest"))
		p->c->queue_drop_oldest = true;
	else
		return fail(p, "queue_overflow must be drop_newest or drop_oldest, got '%s'", argv[1]);
	return 0;
}

/* mosquitto's duration: an integer and one of h, d, w, m (30 days), y (365 days). */
int kmq_conf_parse_expiration(const char *s, int64_t *seconds)
{
	static const struct {
		char unit;
		int64_t secs;
	} units[] = { { 'h', 3600 }, { 'd', 86400 }, { 'w', 7 * 86400 }, { 'm', 30 * 86400 },
		      { 'y', 365 * 86400 } };
	size_t len = strlen(s);
	char *end;
	long long v;

	if (len < 2 || s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end != s + len - 1 || v < 1 || v > KMQ_CONF_MAX_EXPIRATION_UNITS)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (*end == units[i].unit) {
			*seconds = v * units[i].secs;
			return 0;
		}
	}
	return -1;
}

static int opt_persistent_client_expiration(struct parse_ctx *p, int argc, char **argv)
{
	(void)argc;
	if (kmq_conf_parse_expiration(argv[1], &p->c->persistent_client_expiration))
		return fail(p, "persistent_client_expiration must be an integer from 1 to %d followed by h, d, w, m (months of 30 days) or y (e.g. 14d), got '%s'",
			    KMQ_CONF_MAX_EXPIRATION_UNITS, argv[1]);
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
	{ "cafile", 1, 1, true, opt_cafile },
	{ "certfile", 1, 1, true, opt_certfile },
	{ "keyfile", 1, 1, true, opt_keyfile },
	{ "crlfile", 1, 1, true, opt_crlfile },
	{ "ciphers", 1, 1, true, opt_ciphers },
	{ "ciphersuites", 1, 1, true, opt_ciphersuites },
	{ "require_certificate", 1, 1, true, opt_require_certificate },
	{ "use_identity_as_username", 1, 1, true, opt_use_identity_as_username },
	{ "tls_version", 1, 1, true, opt_tls_version },
	{ "revocation_file", 1, 1, false, opt_revocation_file },
	{ "persistence", 1, 1, false, opt_persistence },
	{ "persistence_location", 1, 1, false, opt_persistence_location },
	{ "persistence_file", 1, 1, false, opt_persistence_file },
	{ "persistence_key_file", 1, 1, false, opt_persistence_key_file },
	{ "persistence_damaged", 1, 1, false, opt_persistence_damaged },
	{ "max_queued_bytes", 1, 1, false, opt_max_queued_bytes },
	{ "max_queued_bytes_total", 1, 1, false, opt_max_queued_bytes_total },
	{ "queue_overflow", 1, 1, false, opt_queue_overflow },
	{ "persistent_client_expiration", 1, 1, false, opt_persistent_client_expiration },
};

_Static_assert(sizeof(options) / sizeof(options[0]) <= 64, "parse_ctx.seen has 64 bits");

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
	c->revocation_file = strdup(KMQ_CONF_DEFAULT_REVOCATION_FILE);
	c->persistence_location = strdup(KMQ_CONF_PERSISTENCE_LOCATION);
	c->persistence_file = strdup(KMQ_CONF_PERSISTENCE_FILE);
	c->max_queued_bytes_total = KMQ_CONF_DEFAULT_QUEUED_BYTES_TOTAL;
}

void kmq_conf_free(struct kmq_conf *c)
{
	free(c->control_socket);
	c->control_socket = NULL;
	for (unsigned int i = 0; i < c->n_listeners; i++) {
		struct kmq_tls_conf *t = &c->listeners[i].t;

		free(c->listeners[i].address);
		free(t->cafile);
		free(t->certfile);
		free(t->keyfile);
		free(t->crlfile);
		free(t->ciphers);
		free(t->ciphersuites);
	}
	c->n_listeners = 0;
	free(c->revocation_file);
	c->revocation_file = NULL;
	free(c->password_file);
	c->password_file = NULL;
	free(c->acl_file);
	c->acl_file = NULL;
	free(c->persistence_location);
	c->persistence_location = NULL;
	free(c->persistence_file);
	c->persistence_file = NULL;
	free(c->persistence_key_file);
	c->persistence_key_file = NULL;
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
			if (p->seen & (1ULL << i))
				return fail(p, "'%s' is set more than once", o->name);
			p->seen |= 1ULL << i;
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

/* Per-listener TLS options must make a whole TLS listener. */
static int check_tls(struct parse_ctx *p)
{
	for (unsigned int i = 0; i < p->c->n_listeners; i++) {
		struct kmq_listener *l = &p->c->listeners[i];

		p->line = l->line;
		if (!l->t.seen)
			continue;
		if (!l->t.certfile || !l->t.keyfile)
			return fail(p, "listener %u has TLS options but no %s: TLS needs certfile and keyfile",
				    l->port, l->t.certfile ? "keyfile" : "certfile");
		if ((l->t.require_certificate || l->t.crlfile) && !l->t.cafile)
			return fail(p, "listener %u: %s needs a cafile to verify client certificates",
				    l->port, l->t.require_certificate ? "require_certificate" : "crlfile");
		if (l->t.use_identity_as_username && !l->t.require_certificate)
			return fail(p, "listener %u: use_identity_as_username needs require_certificate true",
				    l->port);
		l->tls = true;
		if (!l->t.min_version)
			l->t.min_version = 0x0303;
	}
	return 0;
}

int kmq_conf_load(const char *path, struct kmq_conf *c, char *err, size_t errlen)
{
	struct parse_ctx p = { .path = path, .err = err, .errlen = errlen, .c = c };

	if (kmq_read_lines(path, parse_line, &p, err, errlen))
		return -1;
	return check_tls(&p);
}

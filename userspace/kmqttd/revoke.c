// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Revocation that works without fetching anything: `kmqttctl revoke --serial S | --cn N`
 * appends a line to revocation_file (fsync'ed before the answer) and closes every live
 * session with that identity at once; the TLS handshake refuses the identity from then
 * on (tls.c's verify callback). The file is re-read at start and by SIGHUP/kmqttctl
 * reload, which also close live sessions that became revoked by the list or a CRL.
 *
 * The file: one entry per line, "serial HEX" (upper-case hex, leading zeros and colons
 * ignored) or "cn NAME" (the rest of the line); '#' comments and blank lines allowed. A
 * missing file is an empty list. Entries are kept sorted for binary search.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "kmqttd.h"

/* A bound on the list, so that a runaway script cannot exhaust memory. */
#define REVOCATIONS_MAX 1000000

struct rlist {
	char **v;
	size_t n, cap;
};

struct revocations {
	struct rlist serial, cn;
};

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool rlist_has(const struct rlist *l, const char *s)
{
	return l->n && bsearch(&s, l->v, l->n, sizeof(char *), cmp);
}

static int rlist_add(struct rlist *l, const char *s)
{
	size_t lo = 0, hi = l->n;
	char *copy;

	if (rlist_has(l, s))
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		char **v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (strcmp(l->v[mid], s) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(l->v + lo + 1, l->v + lo, (l->n - lo) * sizeof(char *));
	l->v[lo] = copy;
	l->n++;
	return 0;
}

static void rlist_free(struct rlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

void revocations_free(struct revocations *r)
{
	if (!r)
		return;
	rlist_free(&r->serial);
	rlist_free(&r->cn);
	free(r);
}

bool revoked(const struct revocations *r, const char *serial, const char *cn)
{
	if (!r)
		return false;
	return (serial && *serial && rlist_has(&r->serial, serial)) ||
	       (cn && *cn && rlist_has(&r->cn, cn));
}

struct load_ctx {
	struct revocations *r;
	const char *path;
	char *err;
	size_t errlen;
};

/* "serial HEX" or "cn NAME": 0, or -1 with a message (without file:line) in @err. */
static int parse_entry(struct revocations *r, char *s, char *err, size_t errlen)
{
	char *arg;

	s += strspn(s, " \t");
	if (!*s || *s == '#')
		return 0;
	if (r->serial.n + r->cn.n >= REVOCATIONS_MAX) {
		snprintf(err, errlen, "more than %d revocations", REVOCATIONS_MAX);
		return -1;
	}
	if (!strncmp(s, "serial", 6) && (s[6] == ' ' || s[6] == '\t')) {
		arg = s + 7 + strspn(s + 7, " \t");
		arg[strcspn(arg, " \t")] = 0;
		tls_serial_normalize(arg);
		if (!tls_serial_valid(arg)) {
			snprintf(err, errlen, "'%s' is not a certificate serial number (hexadecimal, at most %d digits)",
				 arg, KMQTT_MAX_CERT_SERIAL);
			return -1;
		}
		return rlist_add(&r->serial, arg) ? snprintf(err, errlen, "out of memory"), -1 : 0;
	}
	if (!strncmp(s, "cn", 2) && (s[2] == ' ' || s[2] == '\t')) {
		arg = s + 3 + strspn(s + 3, " \t");
		if (!*arg || strlen(arg) > KMQTT_MAX_USERNAME) {
			snprintf(err, errlen, "a common name must have 1 to %d bytes", KMQTT_MAX_USERNAME);
			return -1;
		}
		return rlist_add(&r->cn, arg) ? snprintf(err, errlen, "out of memory"), -1 : 0;
	}
	snprintf(err, errlen, "expected 'serial HEX' or 'cn NAME'");
	return -1;
}

static int load_line(void *arg, char *line, unsigned int lineno)
{
	struct load_ctx *c = arg;
	char msg[256];

	if (parse_entry(c->r, line, msg, sizeof(msg))) {
		snprintf(c->err, c->errlen, "%s:%u: %s", c->path, lineno, msg);
		return -1;
	}
	return 0;
}

int revocations_load(const char *path, struct revocations **out, char *err, size_t errlen)
{
	struct revocations *r = calloc(1, sizeof(*r));
	struct load_ctx c = { .r = r, .path = path, .err = err, .errlen = errlen };

	if (!r) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (access(path, F_OK) == 0 && kmq_read_lines(path, load_line, &c, err, errlen)) {
		revocations_free(r);
		return -1;
	}
	*out = r;
	return 0;
}

static int mkdir_for(const char *path)
{
	char *copy = strdup(path);
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	if (mkdir(dirname(copy), 0700) < 0 && errno != EEXIST)
		ret = -errno;
	free(copy);
	return ret;
}

int revoke_add(struct kmqttd *d, bool by_serial, const char *value, char *err, size_t errlen)
{
	const char *path = d->conf.revocation_file;
	char line[KMQTT_MAX_USERNAME + 16], v[KMQTT_MAX_USERNAME + 1];
	struct revocations *r = d->auth.rev;
	int fd, n, ret;

	if (snprintf(v, sizeof(v), "%s", value) >= (int)sizeof(v) || strchr(v, '\n')) {
		snprintf(err, errlen, "value too long or with a line break");
		return -1;
	}
	if (by_serial) {
		tls_serial_normalize(v);
		if (!tls_serial_valid(v)) {
			snprintf(err, errlen, "'%s' is not a certificate serial number (hexadecimal)", value);
			return -1;
		}
	} else if (!*v) {
		snprintf(err, errlen, "empty common name");
		return -1;
	}
	if (revoked(r, by_serial ? v : NULL, by_serial ? NULL : v))
		return 0;	/* already there: the sweep still runs */
	n = snprintf(line, sizeof(line), "%s %s\n", by_serial ? "serial" : "cn", v);
	ret = mkdir_for(path);
	fd = ret ? -1 : open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(ret ? -ret : errno));
		return -1;
	}
	if (write(fd, line, (size_t)n) != n || fsync(fd) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno ? errno : EIO));
		close(fd);
		return -1;
	}
	close(fd);
	if (rlist_add(by_serial ? &r->serial : &r->cn, v)) {
		snprintf(err, errlen, "out of memory (the file has the entry: reload to apply)");
		return -1;
	}
	log_notice("revoked %s %s (kmqttctl revoke)", by_serial ? "serial" : "common name", v);
	return 0;
}

struct sweep {
	struct kmqttd *d;
	uint64_t *ids;
	size_t n, cap;
};

static bool crl_revoked(struct kmqttd *d, const struct kmq_conn_tls *t)
{
	for (unsigned int i = 0; i < KMQ_CONF_MAX_LISTENERS; i++)
		if (d->auth.tls[i] && tls_crl_revoked(d->auth.tls[i], t->cert_issuer, t->cert_serial))
			return true;
	return false;
}

static int sweep_one(const struct kmq_conn_info *c, void *arg)
{
	struct sweep *s = arg;

	if (!c->tls.present || !c->tls.cert_serial[0])
		return 0;
	if (!revoked(s->d->auth.rev, c->tls.cert_serial, c->tls.cert_cn) &&
	    !crl_revoked(s->d, &c->tls))
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		uint64_t *ids = realloc(s->ids, cap * sizeof(*ids));

		if (!ids)
			return -ENOMEM;
		s->ids = ids;
		s->cap = cap;
	}
	s->ids[s->n++] = c->id;
	log_notice("closing connection %llu (client %s, certificate %s, CN %s): revoked",
		   (unsigned long long)c->id, c->client_id, c->tls.cert_serial, c->tls.cert_cn);
	return 0;
}

int revoke_sweep(struct kmqttd *d)
{
	struct sweep s = { .d = d };
	struct kmq_nl nl;
	int ret, closed = 0;

	if (d->link != MODULE_REGISTERED)
		return 0;
	ret = kmq_nl_open(&nl);
	if (ret) {
		log_warn("revocation: cannot talk to kmqtt.ko: %s", strerror(-ret));
		return ret;
	}
	ret = kmq_nl_conn_dump(&nl, sweep_one, &s);
	if (ret)
		log_warn("revocation: reading the module's connections failed: %s", strerror(-ret));
	for (size_t i = 0; i < s.n; i++) {
		if (!kmq_nl_conn_del(&nl, s.ids[i], NULL)) {
			closed++;
			d->stats[DS_REVOKED_DISCONNECTS]++;
		}
	}
	kmq_nl_close(&nl);
	free(s.ids);
	return ret ? ret : closed;
}

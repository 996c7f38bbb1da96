// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * tls-raw — an MQTT 3.1.1 client over TLS (OpenSSL) for what mosquitto_pub/sub cannot do:
 * break the TLS stream on purpose after the handshake, watch how the broker ends the
 * connection, and push binary payloads through byte for byte. MQTT packets are built and
 * read with the project's codec (kmod/core/mqtt_codec.c).
 *
 * Every check prints one TAP line, "ok - tls: COMMAND: what" or "not ok - tls: COMMAND:
 * what: why"; the exit status is 1 if a check failed, 2 on a usage error. "Closed" below
 * means the broker ended the connection within -t seconds: TCP EOF or reset, or a TLS
 * alert (close_notify included) followed by EOF, with no application data after the
 * breaking step.
 *
 *   connect      handshake, CONNECT, CONNACK 0: the connection is accepted
 *   refused      the broker refuses the connection: a failed handshake (alert or close),
 *                a close or alert before the CONNACK, or a CONNACK other than 0. A TCP
 *                connect failure or a failure of this client's own checks is not a
 *                refusal by the broker and fails the check
 *   untrusted    this client refuses the broker: the server certificate does not verify
 *                against --cafile
 *   version      like refused, with --min/--max forcing an old protocol version: the
 *                ClientHello must have gone out (for TLS < 1.2 this client drops to
 *                @SECLEVEL=0 so that OpenSSL 3 can offer it at all)
 *   closenotify  after CONNACK and a SUBSCRIBE, send close_notify: closed
 *   garbage      after CONNACK and a SUBSCRIBE, write non-TLS bytes to the TCP socket
 *                (a record header with a bad version): closed
 *   corrupt      after CONNACK and a SUBSCRIBE, send a PUBLISH whose TLS record has one
 *                ciphertext byte flipped: closed
 *   keyupdate    TLS 1.3: a KeyUpdate (update_requested), then a PUBLISH: closed
 *   renegotiate  TLS 1.2: start a renegotiation, then a PUBLISH: closed
 *   pubsub       two connections, a QoS 1 subscriber and a publisher: random binary
 *                payloads of 0 to 65536 bytes at QoS 0 and 1 come back byte-exact
 *   echo         connect, subscribe, publish to that subscription: the message comes back
 *   hold         connect, subscribe, print "# hold: ready", then wait: closed by the
 *                broker within -t seconds (printed: the time it took, and when it
 *                happened in ms since the epoch, to compare with another process's clock)
 *
 * --control makes closenotify, garbage, corrupt and keyupdate a control run that proves
 * the tool tells the two outcomes apart: closenotify and garbage skip the breaking step,
 * corrupt sends its captured record unflipped (it must be delivered), keyupdate expects
 * the broker to go through with the key update as OpenSSL servers do; then the
 * connection must still be open and serving. -W SECONDS pauses after the set-up,
 * printing "# COMMAND: ready", so that a test can freeze the broker there. The
 * renegotiation check also needs the TCP connection to end: an OpenSSL server declines a
 * renegotiation with a no_renegotiation alert and may carry on.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include "mqtt_codec.h"

#define MAX_PACKET	(128 * 1024)	/* what this tool reads back: 64 KiB payloads and more */
#define CLIENT_KA	60

static const char *host = "127.0.0.1";
static const char *port = "8883";
static const char *cafile, *certfile, *keyfile, *cipher_list, *ciphersuites;
static const char *user, *pass, *client_id;
static int min_version, max_version;
static int timeout_s = 5;
static int wait_s;
static bool control;
static const char *cmd;
static int failures;
static unsigned int serial;
static char topic_root[64];

static void tap(bool good, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void tap(bool good, const char *fmt, ...)
{
	va_list ap;

	printf("%s - tls: %s: ", good ? "ok" : "not ok", cmd);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!good)
		failures++;
}

static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void note(const char *fmt, ...)
{
	va_list ap;

	printf("# %s: ", cmd);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t rnd_state;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 2685821657736338717ULL;
}

static void rnd_fill(u8 *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (u8)(rnd() >> 56);
}

/* ------------------------------------------------------------------------------------ */
/* TLS connections */

struct conn {
	int fd;
	SSL *ssl;
	/* what the handshake layer saw (msg callback) */
	bool sent_client_hello;
	bool got_server_hello;
	int finished_in;	/* Finished messages received */
	int keyupdate_out, keyupdate_in;
	int alert_in;		/* description of the last alert received, -1 none */
	/* decrypted bytes not framed yet, and the packet framer */
	u8 rbuf[16384];
	size_t roff, rlen;
	u8 *pkt;
	struct mqtt_framer fr;
};

/* Why the last TLS operation failed, from OpenSSL's error queue and the socket. */
static void ssl_why(struct conn *c, int ret, char *why, size_t len)
{
	int e = SSL_get_error(c->ssl, ret);
	unsigned long err = ERR_peek_last_error();

	if (e == SSL_ERROR_SSL && err) {
		ERR_error_string_n(err, why, len);
	} else if (e == SSL_ERROR_SYSCALL) {
		snprintf(why, len, "%s", errno ? strerror(errno) : "EOF");
	} else if (e == SSL_ERROR_ZERO_RETURN) {
		snprintf(why, len, "close_notify");
	} else {
		snprintf(why, len, "SSL error %d", e);
	}
	ERR_clear_error();
}

static void msg_cb(int write_p, int version, int content_type, const void *buf, size_t len,
		   SSL *ssl, void *arg)
{
	struct conn *c = arg;
	const u8 *b = buf;

	(void)version;
	(void)ssl;
	if (!len)
		return;
	if (content_type == SSL3_RT_ALERT && !write_p && len >= 2) {
		c->alert_in = b[1];
	} else if (content_type == SSL3_RT_HANDSHAKE) {
		switch (b[0]) {
		case SSL3_MT_CLIENT_HELLO:
			if (write_p)
				c->sent_client_hello = true;
			break;
		case SSL3_MT_SERVER_HELLO:
			if (!write_p)
				c->got_server_hello = true;
			break;
		case SSL3_MT_FINISHED:
			if (!write_p)
				c->finished_in++;
			break;
		case SSL3_MT_KEY_UPDATE:
			if (write_p)
				c->keyupdate_out++;
			else
				c->keyupdate_in++;
			break;
		}
	}
}

static int parse_version(const char *s)
{
	static const struct {
		const char *name;
		int v;
	} v[] = {
		{ "tls1", TLS1_VERSION }, { "tls1.0", TLS1_VERSION }, { "tls1.1", TLS1_1_VERSION },
		{ "tls1.2", TLS1_2_VERSION }, { "tls1.3", TLS1_3_VERSION },
		{ "tlsv1.1", TLS1_1_VERSION }, { "tlsv1.2", TLS1_2_VERSION },
		{ "tlsv1.3", TLS1_3_VERSION },
	};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (!strcmp(s, v[i].name))
			return v[i].v;
	return -1;
}

static const char *version_name(int v)
{
	switch (v) {
	case TLS1_VERSION: return "TLSv1";
	case TLS1_1_VERSION: return "TLSv1.1";
	case TLS1_2_VERSION: return "TLSv1.2";
	case TLS1_3_VERSION: return "TLSv1.3";
	}
	return "?";
}

static SSL_CTX *ctx;

static bool make_ctx(void)
{
	ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx)
		return false;
	if (min_version && !SSL_CTX_set_min_proto_version(ctx, min_version))
		return false;
	if (max_version && !SSL_CTX_set_max_proto_version(ctx, max_version))
		return false;
	/* OpenSSL 3 offers TLS 1.0/1.1 only at security level 0 (their signatures use SHA-1). */
	if (!cipher_list && max_version && max_version < TLS1_2_VERSION &&
	    !SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0"))
		return false;
	if (cipher_list && !SSL_CTX_set_cipher_list(ctx, cipher_list)) {
		fprintf(stderr, "kmqtt-tls-raw: bad --cipher list '%s'\n", cipher_list);
		return false;
	}
	if (ciphersuites && !SSL_CTX_set_ciphersuites(ctx, ciphersuites)) {
		fprintf(stderr, "kmqtt-tls-raw: bad --ciphersuites '%s'\n", ciphersuites);
		return false;
	}
	if (cafile) {
		if (!SSL_CTX_load_verify_locations(ctx, cafile, NULL)) {
			fprintf(stderr, "kmqtt-tls-raw: cannot load --cafile %s\n", cafile);
			return false;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	if (certfile) {
		if (SSL_CTX_use_certificate_chain_file(ctx, certfile) != 1 ||
		    SSL_CTX_use_PrivateKey_file(ctx, keyfile ? keyfile : certfile,
						SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1) {
			fprintf(stderr, "kmqtt-tls-raw: cannot load --cert %s / --key %s\n",
				certfile, keyfile ? keyfile : certfile);
			return false;
		}
	}
	return true;
}

static int dial(char *why, size_t whylen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	int fd = -1, rc, one = 1;

	rc = getaddrinfo(host, port, &hints, &res);
	if (rc) {
		snprintf(why, whylen, "%s:%s: %s", host, port, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		snprintf(why, whylen, "TCP connect to %s port %s: %s", host, port, strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* Wait until @fd is readable (or writable) or @deadline; false on timeout. */
static bool wait_fd(int fd, short ev, long long deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = ev };
		long long left = deadline - now_ms();
		int rc;

		if (left < 0)
			left = 0;
		rc = poll(&p, 1, (int)left);
		if (rc > 0)
			return true;
		if (rc == 0)
			return false;
		if (errno != EINTR)
			return true;	/* let the caller's I/O call report the error */
	}
}

/*
 * Run one OpenSSL I/O call on the non-blocking socket until it completes, fails or the
 * deadline passes. Returns its result; *timed_out tells the last case apart.
 */
#define SSL_RETRY(c, deadline, timed_out, call)					\
	({									\
		int __r;							\
		*(timed_out) = false;						\
		for (;;) {							\
			int __e;						\
			__r = (call);						\
			if (__r > 0)						\
				break;						\
			__e = SSL_get_error((c)->ssl, __r);			\
			if (__e != SSL_ERROR_WANT_READ &&			\
			    __e != SSL_ERROR_WANT_WRITE)			\
				break;						\
			if (!wait_fd((c)->fd, __e == SSL_ERROR_WANT_READ ?	\
				     POLLIN : POLLOUT, deadline)) {		\
				*(timed_out) = true;				\
				break;						\
			}							\
		}								\
		__r;								\
	})

static void conn_free(struct conn *c)
{
	if (!c)
		return;
	if (c->ssl)
		SSL_free(c->ssl);
	if (c->fd >= 0)
		close(c->fd);
	free(c->pkt);
	free(c);
}

/*
 * TCP connect and TLS handshake. NULL only if there is no TCP connection (why says so);
 * otherwise the connection, with *ok telling whether the handshake completed and why
 * saying why not. The caller frees it either way.
 */
static struct conn *tls_open(char *why, size_t whylen, bool *ok)
{
	struct conn *c = calloc(1, sizeof(*c));
	struct in6_addr a6;
	struct in_addr a4;
	bool to;
	int r;

	*ok = false;
	if (!c || !(c->pkt = malloc(MAX_PACKET))) {
		snprintf(why, whylen, "out of memory");
		free(c);
		return NULL;
	}
	c->alert_in = -1;
	mqtt_framer_init(&c->fr, c->pkt, MAX_PACKET, MQTT_LEVEL_311, MAX_PACKET);
	c->fd = dial(why, whylen);
	if (c->fd < 0) {
		conn_free(c);
		return NULL;
	}
	/* non-blocking, so that every wait has a deadline */
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	c->ssl = SSL_new(ctx);
	if (!c->ssl || !SSL_set_fd(c->ssl, c->fd)) {
		snprintf(why, whylen, "SSL_new failed");
		return c;
	}
	SSL_set_msg_callback(c->ssl, msg_cb);
	SSL_set_msg_callback_arg(c->ssl, c);
	if (inet_pton(AF_INET, host, &a4) == 1 || inet_pton(AF_INET6, host, &a6) == 1) {
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), host);
	} else {
		SSL_set_tlsext_host_name(c->ssl, host);
		SSL_set1_host(c->ssl, host);
	}
	r = SSL_RETRY(c, now_ms() + timeout_s * 1000LL, &to, SSL_connect(c->ssl));
	if (r != 1) {
		if (to)
			snprintf(why, whylen, "handshake: no answer within %d s", timeout_s);
		else
			ssl_why(c, r, why, whylen);
		return c;
	}
	*ok = true;
	return c;
}

/* OpenSSL 3.0 has no name for some TLS 1.3 alerts (certificate_required, 116) */
static const char *alert_name(int d)
{
	static char buf[32];
	const char *s;

	if (d < 0)
		return "none";
	s = SSL_alert_desc_string_long(d);
	if (strcmp(s, "unknown"))
		return s;
	snprintf(buf, sizeof(buf), "alert %d", d);
	return buf;
}

/*
 * A handshake that failed: did the broker refuse it? False, with why rewritten, when the
 * failure was this client's own doing or no answer at all.
 */
static bool broker_refused(struct conn *c, char *why, size_t whylen)
{
	char w[256];
	long v = c->ssl ? SSL_get_verify_result(c->ssl) : X509_V_OK;

	snprintf(w, sizeof(w), "%s", why);
	if (!c->ssl) {
		return false;
	} else if (v != X509_V_OK) {
		snprintf(why, whylen, "this client rejected the server certificate (%s: %.120s), the "
			 "broker was not asked", X509_verify_cert_error_string(v), w);
		return false;
	} else if (!c->sent_client_hello) {
		snprintf(why, whylen, "this client could not send its ClientHello (%.180s)", w);
		return false;
	} else if (strstr(w, "no answer within")) {
		snprintf(why, whylen, "neither completed nor refused: %.180s", w);
		return false;
	}
	snprintf(why, whylen, "%.180s (alert received: %s)", w, alert_name(c->alert_in));
	return true;
}

static bool tls_send(struct conn *c, const void *buf, size_t len, char *why, size_t whylen)
{
	long long deadline = now_ms() + timeout_s * 1000LL;
	const u8 *p = buf;
	bool to;

	while (len) {
		int n = SSL_RETRY(c, deadline, &to, SSL_write(c->ssl, p, (int)len));

		if (n <= 0) {
			if (to)
				snprintf(why, whylen, "write: no progress within %d s", timeout_s);
			else
				ssl_why(c, n, why, whylen);
			return false;
		}
		p += n;
		len -= (size_t)n;
	}
	return true;
}

enum rd { RD_PACKET, RD_CLOSED, RD_TIMEOUT, RD_ERROR };

/*
 * The next MQTT packet from the broker, decoded into @pkt (which points into the
 * connection's buffer until the next call). RD_CLOSED: the broker closed (why says how).
 */
static enum rd read_packet(struct conn *c, long long deadline, struct mqtt_packet *pkt,
			   char *why, size_t whylen)
{
	static const struct mqtt_limits lim = MQTT_LIMITS_DEFAULT;
	bool to;

	for (;;) {
		if (c->roff < c->rlen) {
			const struct mqtt_fixed_header *fh;
			const u8 *p;
			u32 used = 0;
			int r;

			r = mqtt_framer_feed(&c->fr, c->rbuf + c->roff, (u32)(c->rlen - c->roff),
					     &used);
			c->roff += used;
			if (r < 0) {
				snprintf(why, whylen, "unframeable bytes from the broker: %s",
					 mqtt_err_name(r));
				return RD_ERROR;
			}
			if (r == 0)
				continue;
			p = mqtt_framer_packet(&c->fr, &fh);
			r = mqtt_decode(MQTT_LEVEL_311, fh, p + fh->hdr_len, &lim, pkt);
			if (r < 0) {
				snprintf(why, whylen, "malformed packet type %u from the broker: %s",
					 fh->type, mqtt_err_name(r));
				return RD_ERROR;
			}
			return RD_PACKET;
		}
		{
			int n = SSL_RETRY(c, deadline, &to,
					  SSL_read(c->ssl, c->rbuf, sizeof(c->rbuf)));

			if (n > 0) {
				c->roff = 0;
				c->rlen = (size_t)n;
				continue;
			}
			if (to) {
				snprintf(why, whylen, "nothing within %d s", timeout_s);
				return RD_TIMEOUT;
			}
			ssl_why(c, n, why, whylen);
			return RD_CLOSED;
		}
	}
}

static int send_packet(struct conn *c, const struct mqtt_packet *pkt, char *why, size_t whylen)
{
	static u8 out[MAX_PACKET];
	int n = mqtt_encode(out, sizeof(out), MQTT_LEVEL_311, pkt);

	if (n < 0) {
		snprintf(why, whylen, "encoding packet type %u: %s", pkt->type, mqtt_err_name(n));
		return -1;
	}
	return tls_send(c, out, (size_t)n, why, whylen) ? 0 : -1;
}

/*
 * CONNECT and CONNACK on an open TLS connection. Returns the CONNACK code, or -1 with why
 * and *closed set if the broker closed instead.
 */
static int mqtt_connect(struct conn *c, const char *name, bool *closed, char *why, size_t whylen)
{
	struct mqtt_packet pkt = { .type = MQTT_CONNECT };
	char id[128];
	enum rd r;

	*closed = false;
	if (client_id)
		snprintf(id, sizeof(id), "%s", client_id);
	else
		snprintf(id, sizeof(id), "kmqtt-tls-%s-%d-%u", name, (int)getpid(), serial++);
	pkt.connect.level = MQTT_LEVEL_311;
	pkt.connect.clean_start = true;
	pkt.connect.keep_alive = CLIENT_KA;
	pkt.connect.client_id.s = id;
	pkt.connect.client_id.len = (u16)strlen(id);
	if (user) {
		pkt.connect.has_username = true;
		pkt.connect.username.s = user;
		pkt.connect.username.len = (u16)strlen(user);
	}
	if (user && pass) {
		pkt.connect.has_password = true;
		pkt.connect.password.p = (const u8 *)pass;
		pkt.connect.password.len = (u16)strlen(pass);
	}
	if (send_packet(c, &pkt, why, whylen)) {
		*closed = true;
		return -1;
	}
	r = read_packet(c, now_ms() + timeout_s * 1000LL, &pkt, why, whylen);
	if (r == RD_CLOSED)
		*closed = true;
	if (r != RD_PACKET)
		return -1;
	if (pkt.type != MQTT_CONNACK) {
		snprintf(why, whylen, "packet type %u instead of CONNACK", pkt.type);
		return -1;
	}
	return pkt.connack.reason;
}

static void say_negotiated(struct conn *c)
{
	note("%s %s", SSL_get_version(c->ssl), SSL_get_cipher_name(c->ssl));
}

/* A connection with CONNACK 0: NULL with why otherwise. */
static struct conn *session(const char *name, char *why, size_t whylen)
{
	char w[256] = "";
	struct conn *c;
	bool closed, ok;
	int code;

	c = tls_open(w, sizeof(w), &ok);
	if (!c || !ok) {
		snprintf(why, whylen, "%s%s", c ? "handshake: " : "", w);
		conn_free(c);
		return NULL;
	}
	code = mqtt_connect(c, name, &closed, w, sizeof(w));
	if (code != 0) {
		if (code > 0)
			snprintf(why, whylen, "CONNACK %d", code);
		else
			snprintf(why, whylen, "no CONNACK: %s (alert received: %s)", w,
				 alert_name(c->alert_in));
		conn_free(c);
		return NULL;
	}
	return c;
}

static void topic_of(char *t, size_t len, const char *what)
{
	snprintf(t, len, "%s/%s", topic_root, what);
}

/* SUBSCRIBE one filter at @qos; true when granted @qos. */
static bool subscribe(struct conn *c, const char *filter, u8 qos, char *why, size_t whylen)
{
	struct mqtt_sub_entry e = { .qos = qos };
	struct mqtt_packet pkt = { .type = MQTT_SUBSCRIBE };
	enum rd r;

	e.filter.s = filter;
	e.filter.len = (u16)strlen(filter);
	pkt.subscribe.packet_id = 1;
	pkt.subscribe.count = 1;
	pkt.subscribe.entries = &e;
	if (send_packet(c, &pkt, why, whylen))
		return false;
	r = read_packet(c, now_ms() + timeout_s * 1000LL, &pkt, why, whylen);
	if (r != RD_PACKET)
		return false;
	if (pkt.type != MQTT_SUBACK || pkt.suback.packet_id != 1 || pkt.suback.count != 1 ||
	    pkt.suback.codes[0] != qos) {
		snprintf(why, whylen, "no SUBACK granting QoS %u (type %u, code %d)", qos, pkt.type,
			 pkt.type == MQTT_SUBACK && pkt.suback.count ? pkt.suback.codes[0] : -1);
		return false;
	}
	return true;
}

static int encode_publish(u8 *out, size_t cap, const char *topic, u8 qos, u16 id,
			  const u8 *payload, u32 len)
{
	struct mqtt_packet pkt = { .type = MQTT_PUBLISH };

	pkt.publish.qos = qos;
	pkt.publish.packet_id = qos ? id : 0;
	pkt.publish.topic.s = topic;
	pkt.publish.topic.len = (u16)strlen(topic);
	pkt.publish.payload = payload;
	pkt.publish.payload_len = len;
	return mqtt_encode(out, (u32)cap, MQTT_LEVEL_311, &pkt);
}

/* Read and drop raw bytes until the broker ends the TCP connection (true) or @deadline. */
static bool tcp_close_wait(int fd, long long deadline, size_t *bytes)
{
	u8 b[4096];

	for (;;) {
		ssize_t k;

		if (!wait_fd(fd, POLLIN, deadline))
			return false;
		k = recv(fd, b, sizeof(b), 0);
		if (k > 0) {
			*bytes += (size_t)k;
			continue;
		}
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		return true;
	}
}

/*
 * Wait for the broker to close. Returns true if it did by @deadline; *data counts the
 * application bytes that came first, how says how it ended.
 */
static bool await_close(struct conn *c, long long deadline, size_t *data, char *how,
			size_t howlen)
{
	char w[200];
	bool to;

	*data = 0;
	for (;;) {
		int n = SSL_RETRY(c, deadline, &to, SSL_read(c->ssl, c->rbuf, sizeof(c->rbuf)));
		int e;

		if (n > 0) {
			*data += (size_t)n;
			continue;
		}
		if (to) {
			snprintf(how, howlen, "still open");
			return false;
		}
		e = SSL_get_error(c->ssl, n);
		ssl_why(c, n, w, sizeof(w));
		if (e == SSL_ERROR_ZERO_RETURN) {
			/* the broker's close_notify: now the TCP close */
			size_t more = 0;

			if (!tcp_close_wait(c->fd, deadline, &more)) {
				snprintf(how, howlen, "close_notify from the broker but TCP still open");
				return false;
			}
			*data += more;
			snprintf(how, howlen, "close_notify then the TCP close");
			return true;
		}
		snprintf(how, howlen, "%s%s%s", w, c->alert_in >= 0 ? ", alert received: " : "",
			 c->alert_in >= 0 ? alert_name(c->alert_in) : "");
		return true;
	}
}

/* PUBLISH @what to @topic at QoS 0 and expect it back on our subscription to it. */
static bool echo(struct conn *c, const char *topic, char *why, size_t whylen)
{
	static u8 out[512];
	struct mqtt_packet pkt;
	const char *what = "echo";
	int n = encode_publish(out, sizeof(out), topic, 0, 0, (const u8 *)what, 4);
	enum rd r;

	if (n < 0 || !tls_send(c, out, (size_t)n, why, whylen))
		return false;
	r = read_packet(c, now_ms() + timeout_s * 1000LL, &pkt, why, whylen);
	if (r != RD_PACKET)
		return false;
	if (pkt.type != MQTT_PUBLISH || pkt.publish.payload_len != 4 ||
	    memcmp(pkt.publish.payload, what, 4)) {
		snprintf(why, whylen, "got packet type %u, not our PUBLISH", pkt.type);
		return false;
	}
	return true;
}

/* ------------------------------------------------------------------------------------ */
/* commands */

static void run_connect(void)
{
	char why[256];
	struct conn *c = session("connect", why, sizeof(why));
	struct mqtt_packet d = { .type = MQTT_DISCONNECT };

	if (!c) {
		tap(false, "TLS connection with CONNACK 0 to %s port %s: %s", host, port, why);
		return;
	}
	tap(true, "%s %s connection with CONNACK 0 to %s port %s", SSL_get_version(c->ssl),
	    SSL_get_cipher_name(c->ssl), host, port);
	send_packet(c, &d, why, sizeof(why));
	SSL_shutdown(c->ssl);
	conn_free(c);
}

static void run_refused(void)
{
	char why[256] = "", w[256] = "";
	struct conn *c;
	bool closed, ok;
	int code;

	c = tls_open(why, sizeof(why), &ok);
	if (!c) {
		tap(false, "no TCP connection: %s", why);
		return;
	}
	if (!ok) {
		bool good = broker_refused(c, why, sizeof(why));

		tap(good, "%s: %s", good ? "refused at the TLS handshake" : "not refused by the broker", why);
		conn_free(c);
		return;
	}
	say_negotiated(c);
	code = mqtt_connect(c, "refused", &closed, w, sizeof(w));
	if (code == 0)
		tap(false, "the broker accepted the connection (%s, CONNACK 0)",
		    SSL_get_version(c->ssl));
	else if (code > 0)
		tap(true, "refused with CONNACK %d after the handshake", code);
	else if (closed)
		tap(true, "refused after the handshake, before CONNACK: %s (alert received: %s)", w,
		    alert_name(c->alert_in));
	else
		tap(false, "neither CONNACK nor close: %s", w);
	conn_free(c);
}

static void run_version(void)
{
	char why[256] = "";
	struct conn *c;
	bool ok;

	if (!max_version) {
		fprintf(stderr, "kmqtt-tls-raw: version needs --max\n");
		exit(2);
	}
	c = tls_open(why, sizeof(why), &ok);
	if (!c) {
		tap(false, "no TCP connection: %s", why);
		return;
	}
	if (ok) {
		tap(SSL_version(c->ssl) > max_version,
		    "handshake offering at most %s: the broker %s %s",
		    version_name(max_version),
		    SSL_version(c->ssl) > max_version ? "negotiated" : "accepted",
		    SSL_get_version(c->ssl));
	} else {
		bool good = broker_refused(c, why, sizeof(why));

		tap(good, "handshake offering at most %s: %s%s", version_name(max_version),
		    good ? "refused by the broker: " : "", why);
	}
	conn_free(c);
}

static void run_untrusted(void)
{
	char why[256] = "";
	struct conn *c;
	bool ok;
	long v;

	if (!cafile) {
		fprintf(stderr, "kmqtt-tls-raw: untrusted needs --cafile\n");
		exit(2);
	}
	c = tls_open(why, sizeof(why), &ok);
	if (!c) {
		tap(false, "no TCP connection: %s", why);
		return;
	}
	v = c->ssl ? SSL_get_verify_result(c->ssl) : X509_V_OK;
	if (ok)
		tap(false, "the server certificate verified against %s (%s)", cafile,
		    SSL_get_version(c->ssl));
	else
		tap(v != X509_V_OK, "the server certificate does not verify against %s: %s (%s)",
		    cafile, X509_verify_cert_error_string(v), why);
	conn_free(c);
}

/* Session, a QoS 0 subscription to our own topic, then -W. */
static struct conn *setup(char *topic, size_t tlen, char *why, size_t whylen)
{
	struct conn *c = session(cmd, why, whylen);

	if (!c)
		return NULL;
	say_negotiated(c);
	topic_of(topic, tlen, cmd);
	if (!subscribe(c, topic, 0, why, whylen)) {
		conn_free(c);
		return NULL;
	}
	if (wait_s) {
		note("ready");
		sleep((unsigned int)wait_s);
	}
	return c;
}

/* After the breaking step: closed (or, for --control, still serving). */
static void judge(struct conn *c, const char *topic, const char *what, long long t0)
{
	char how[256] = "";
	size_t data = 0;
	bool closed;

	if (control) {
		bool good = echo(c, topic, how, sizeof(how));

		tap(good, "control: %s: connection kept and still serving%s%s", what,
		    good ? "" : ": ", how);
		return;
	}
	closed = await_close(c, t0 + timeout_s * 1000LL, &data, how, sizeof(how));
	tap(closed && !data, "%s: %s after %lld ms (%s)%s", what,
	    closed ? "closed" : "not closed", now_ms() - t0, how,
	    data ? ", with application data before the close" : "");
}

static void run_closenotify(void)
{
	char topic[128], why[256];
	struct conn *c = setup(topic, sizeof(topic), why, sizeof(why));
	long long t0;

	if (!c) {
		tap(false, "set-up: %s", why);
		return;
	}
	t0 = now_ms();
	if (!control) {
		int r = SSL_shutdown(c->ssl);

		if (r < 0) {
			ssl_why(c, r, why, sizeof(why));
			tap(false, "sending close_notify: %s", why);
			conn_free(c);
			return;
		}
	}
	judge(c, topic, "close_notify after SUBSCRIBE", t0);
	conn_free(c);
}

static void run_garbage(void)
{
	char topic[128], why[256];
	struct conn *c = setup(topic, sizeof(topic), why, sizeof(why));
	u8 junk[512];
	long long t0;

	if (!c) {
		tap(false, "set-up: %s", why);
		return;
	}
	rnd_fill(junk, sizeof(junk));
	/* no TLS record header: the version bytes are not 3,x */
	junk[1] = 0x47;
	t0 = now_ms();
	if (!control && send(c->fd, junk, sizeof(junk), MSG_NOSIGNAL) != (ssize_t)sizeof(junk)) {
		tap(true, "%zu non-TLS bytes: closed while we sent them (%s)", sizeof(junk),
		    strerror(errno));
		conn_free(c);
		return;
	}
	judge(c, topic, "512 non-TLS bytes on the TCP socket", t0);
	conn_free(c);
}

static void run_corrupt(void)
{
	char topic[128], why[256];
	struct conn *c = setup(topic, sizeof(topic), why, sizeof(why));
	BIO *mem, *sock;
	u8 out[512], *rec;
	long n, k;
	int len;
	long long t0;

	if (!c) {
		tap(false, "set-up: %s", why);
		return;
	}
	len = encode_publish(out, sizeof(out), topic, 0, 0, (const u8 *)"echo", 4);
	/* capture the record SSL_write makes instead of sending it */
	sock = SSL_get_wbio(c->ssl);
	BIO_up_ref(sock);
	mem = BIO_new(BIO_s_mem());
	SSL_set0_wbio(c->ssl, mem);
	if (len < 0 || SSL_write(c->ssl, out, len) != len) {
		tap(false, "encrypting a PUBLISH into memory failed");
		BIO_free(sock);
		conn_free(c);
		return;
	}
	n = BIO_get_mem_data(mem, (char **)&rec);
	if (n < 5 + 16 + len || rec[0] != SSL3_RT_APPLICATION_DATA) {
		tap(false, "captured %ld bytes, not one application data record", n);
		BIO_free(sock);
		conn_free(c);
		return;
	}
	if (!control)
		rec[5 + (n - 5) / 2] ^= 0x20;	/* inside the ciphertext */
	note("a %ld-byte record%s", n, control ? ", intact" : ", one ciphertext byte flipped");
	t0 = now_ms();
	for (k = 0; k < n;) {
		ssize_t w;

		if (!wait_fd(c->fd, POLLOUT, t0 + timeout_s * 1000LL))
			break;
		w = send(c->fd, rec + k, (size_t)(n - k), MSG_NOSIGNAL);
		if (w > 0)
			k += w;
		else if (errno != EINTR && errno != EAGAIN)
			break;
	}
	SSL_set0_wbio(c->ssl, sock);	/* frees the memory BIO */
	if (k < n) {
		tap(!control, "closed while we sent the record (%s)", strerror(errno));
		conn_free(c);
		return;
	}
	if (control) {
		/* the intact record was our PUBLISH: it must come back */
		struct mqtt_packet pkt;
		enum rd r = read_packet(c, t0 + timeout_s * 1000LL, &pkt, why, sizeof(why));

		tap(r == RD_PACKET && pkt.type == MQTT_PUBLISH && pkt.publish.payload_len == 4 &&
		    !memcmp(pkt.publish.payload, "echo", 4),
		    "control: the captured record sent intact is delivered back%s%s",
		    r == RD_PACKET ? "" : ": ", r == RD_PACKET ? "" : why);
		if (r == RD_PACKET)
			judge(c, topic, "after the intact record", t0);
		conn_free(c);
		return;
	}
	judge(c, topic, "a PUBLISH record with a flipped ciphertext byte", t0);
	conn_free(c);
}

static void run_keyupdate(void)
{
	char topic[128], why[256];
	struct conn *c = setup(topic, sizeof(topic), why, sizeof(why));
	long long t0;
	u8 out[512];
	int len;

	if (!c) {
		tap(false, "set-up: %s", why);
		return;
	}
	if (SSL_version(c->ssl) != TLS1_3_VERSION) {
		tap(false, "needs TLS 1.3, got %s", SSL_get_version(c->ssl));
		conn_free(c);
		return;
	}
	t0 = now_ms();
	if (!SSL_key_update(c->ssl, SSL_KEY_UPDATE_REQUESTED)) {
		tap(false, "SSL_key_update failed");
		conn_free(c);
		return;
	}
	/* the KeyUpdate goes out with the next write: a PUBLISH under the new key */
	len = encode_publish(out, sizeof(out), topic, 0, 0, (const u8 *)"echo", 4);
	if (!tls_send(c, out, (size_t)len, why, sizeof(why))) {
		tap(!control, "closed while we sent KeyUpdate and PUBLISH (%s)", why);
		conn_free(c);
		return;
	}
	if (!c->keyupdate_out) {
		tap(false, "no KeyUpdate went out");
		conn_free(c);
		return;
	}
	if (control) {
		struct mqtt_packet pkt;
		enum rd r = read_packet(c, t0 + timeout_s * 1000LL, &pkt, why, sizeof(why));

		tap(r == RD_PACKET && pkt.type == MQTT_PUBLISH && c->keyupdate_in > 0,
		    "control: after our KeyUpdate (update_requested) the broker updated its key "
		    "too (%d KeyUpdate received) and delivered our PUBLISH%s%s", c->keyupdate_in,
		    r == RD_PACKET ? "" : ": ", r == RD_PACKET ? "" : why);
		conn_free(c);
		return;
	}
	judge(c, topic, "KeyUpdate (update_requested) then PUBLISH", t0);
	conn_free(c);
}

static void run_renegotiate(void)
{
	char topic[128], why[256];
	struct conn *c = setup(topic, sizeof(topic), why, sizeof(why));
	long long t0;
	bool to;
	int r;

	if (!c) {
		tap(false, "set-up: %s", why);
		return;
	}
	if (SSL_version(c->ssl) != TLS1_2_VERSION) {
		tap(false, "needs TLS 1.2, got %s", SSL_get_version(c->ssl));
		conn_free(c);
		return;
	}
	t0 = now_ms();
	c->got_server_hello = false;
	c->sent_client_hello = false;
	if (!SSL_renegotiate(c->ssl)) {
		tap(false, "SSL_renegotiate failed");
		conn_free(c);
		return;
	}
	r = SSL_RETRY(c, t0 + timeout_s * 1000LL, &to, SSL_do_handshake(c->ssl));
	if (!c->sent_client_hello) {
		tap(false, "no ClientHello went out for the renegotiation");
		conn_free(c);
		return;
	}
	if (r == 1) {
		tap(false, "renegotiation: the broker went through with it (%s)",
		    SSL_get_version(c->ssl));
	} else if (to) {
		/* no answer to the ClientHello: it must still close */
		judge(c, topic, "renegotiation ClientHello", t0);
	} else {
		/* the broker answered with an alert or a close: the TCP connection must end */
		size_t bytes = 0;
		bool closed;

		ssl_why(c, r, why, sizeof(why));
		closed = tcp_close_wait(c->fd, t0 + timeout_s * 1000LL, &bytes);
		tap(closed, "renegotiation ClientHello: %s after %lld ms (%s%s%s)",
		    closed ? "closed" : "declined but the TCP connection stays open",
		    now_ms() - t0, why, c->alert_in >= 0 ? ", alert received: " : "",
		    c->alert_in >= 0 ? alert_name(c->alert_in) : "");
	}
	conn_free(c);
}

static const u32 ps_sizes[] = { 0, 1, 127, 128, 1000, 16383, 16384, 16385, 40000, 65536 };

static void run_pubsub(void)
{
	char topic[128], why[256] = "";
	struct conn *sub = NULL, *pub = NULL;
	static u8 payload[65536], out[MAX_PACKET];
	u16 id = 1;
	u8 qos;
	size_t i;

	topic_of(topic, sizeof(topic), "pubsub");
	sub = session("sub", why, sizeof(why));
	if (!sub) {
		tap(false, "subscriber connects: %s", why);
		return;
	}
	say_negotiated(sub);
	if (!subscribe(sub, topic, 1, why, sizeof(why))) {
		tap(false, "subscriber SUBSCRIBE at QoS 1: %s", why);
		goto out;
	}
	pub = session("pub", why, sizeof(why));
	if (!pub) {
		tap(false, "publisher connects: %s", why);
		goto out;
	}
	for (qos = 0; qos <= 1; qos++) {
		size_t done = 0;

		for (i = 0; i < sizeof(ps_sizes) / sizeof(ps_sizes[0]); i++) {
			u32 len = ps_sizes[i];
			long long deadline = now_ms() + timeout_s * 1000LL;
			struct mqtt_packet pkt;
			int n;
			enum rd r;

			rnd_fill(payload, len);
			n = encode_publish(out, sizeof(out), topic, qos, id, payload, len);
			if (n < 0 || !tls_send(pub, out, (size_t)n, why, sizeof(why))) {
				snprintf(why + strlen(why), sizeof(why) - strlen(why),
					 " (publishing %u bytes)", len);
				break;
			}
			r = read_packet(sub, deadline, &pkt, why, sizeof(why));
			if (r != RD_PACKET) {
				snprintf(why + strlen(why), sizeof(why) - strlen(why),
					 " (waiting for the %u-byte message)", len);
				break;
			}
			if (pkt.type != MQTT_PUBLISH || pkt.publish.qos != qos ||
			    pkt.publish.topic.len != strlen(topic) ||
			    memcmp(pkt.publish.topic.s, topic, strlen(topic))) {
				snprintf(why, sizeof(why),
					 "%u-byte message: got type %u QoS %u on another topic or "
					 "level", len, pkt.type, pkt.publish.qos);
				break;
			}
			if (pkt.publish.payload_len != len ||
			    (len && memcmp(pkt.publish.payload, payload, len))) {
				snprintf(why, sizeof(why),
					 "%u-byte payload came back as %u bytes%s", len,
					 pkt.publish.payload_len,
					 pkt.publish.payload_len == len ? " with different bytes" : "");
				break;
			}
			if (qos) {
				struct mqtt_packet ack = { .type = MQTT_PUBACK };

				ack.ack.packet_id = pkt.publish.packet_id;
				if (send_packet(sub, &ack, why, sizeof(why)))
					break;
				r = read_packet(pub, deadline, &pkt, why, sizeof(why));
				if (r != RD_PACKET || pkt.type != MQTT_PUBACK ||
				    pkt.ack.packet_id != id) {
					if (r == RD_PACKET)
						snprintf(why, sizeof(why),
							 "type %u instead of PUBACK %u", pkt.type, id);
					break;
				}
				id = id == 65535 ? 1 : id + 1;
			}
			done++;
		}
		tap(done == i && i == sizeof(ps_sizes) / sizeof(ps_sizes[0]),
		    "QoS %u: %zu of %zu random binary payloads of 0..65536 bytes came back "
		    "byte-exact%s%s", qos, done, sizeof(ps_sizes) / sizeof(ps_sizes[0]),
		    done == i && i == sizeof(ps_sizes) / sizeof(ps_sizes[0]) ? "" : ": ", why);
		if (done != sizeof(ps_sizes) / sizeof(ps_sizes[0]))
			break;
	}
out:
	conn_free(pub);
	conn_free(sub);
}

static void run_echo(void)
{
	char topic[128], why[256] = "";
	struct conn *c = setup(topic, sizeof(topic), why, sizeof(why));

	if (!c) {
		tap(false, "set-up: %s", why);
		return;
	}
	tap(echo(c, topic, why, sizeof(why)), "%s: SUBSCRIBE, then our PUBLISH comes back%s%s",
	    SSL_get_version(c->ssl), *why ? ": " : "", why);
	conn_free(c);
}

static long long epoch_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void run_hold(void)
{
	char topic[128], why[256], how[256];
	struct conn *c = session("hold", why, sizeof(why));
	size_t data = 0;
	long long t0;
	bool closed;

	if (!c) {
		tap(false, "set-up: %s", why);
		return;
	}
	say_negotiated(c);
	topic_of(topic, sizeof(topic), "hold");
	if (!subscribe(c, topic, 0, why, sizeof(why))) {
		tap(false, "set-up: %s", why);
		conn_free(c);
		return;
	}
	note("ready");
	t0 = now_ms();
	closed = await_close(c, t0 + timeout_s * 1000LL, &data, how, sizeof(how));
	if (closed)
		note("closed at epoch ms %lld", epoch_ms());
	tap(closed, "%s by the broker after %lld ms (%s)", closed ? "closed" : "not closed",
	    now_ms() - t0, how);
	conn_free(c);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: kmqtt-tls-raw [-h HOST] [-p PORT] [--cafile FILE] [--cert FILE --key FILE]\n"
		"                     [--min V] [--max V] (V: tls1, tls1.1, tls1.2, tls1.3)\n"
		"                     [--cipher LIST] [--ciphersuites LIST] [-u USER] [-P PASS]\n"
		"                     [-i CLIENT_ID] [-t TIMEOUT_S] [-W SECONDS] [--control] [-r SEED]\n"
		"                     COMMAND\n"
		"commands: connect refused untrusted version closenotify garbage corrupt keyupdate\n"
		"          renegotiate pubsub echo hold\n");
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "cafile", required_argument, NULL, 'A' },
		{ "cert", required_argument, NULL, 'C' },
		{ "key", required_argument, NULL, 'K' },
		{ "min", required_argument, NULL, 'm' },
		{ "max", required_argument, NULL, 'M' },
		{ "cipher", required_argument, NULL, 'c' },
		{ "ciphers", required_argument, NULL, 'c' },
		{ "ciphersuites", required_argument, NULL, 's' },
		{ "control", no_argument, NULL, 'x' },
		{ "help", no_argument, NULL, '?' },
		{ NULL, 0, NULL, 0 }
	};
	static const struct {
		const char *name;
		void (*fn)(void);
	} cmds[] = {
		{ "connect", run_connect },
		{ "refused", run_refused },
		{ "untrusted", run_untrusted },
		{ "version", run_version },
		{ "closenotify", run_closenotify },
		{ "garbage", run_garbage },
		{ "corrupt", run_corrupt },
		{ "keyupdate", run_keyupdate },
		{ "renegotiate", run_renegotiate },
		{ "pubsub", run_pubsub },
		{ "echo", run_echo },
		{ "hold", run_hold },
	};
	uint64_t seed = 0;
	size_t k;
	int c;

	while ((c = getopt_long(argc, argv, "h:p:u:P:i:t:W:r:", lo, NULL)) != -1) {
		switch (c) {
		case 'h': host = optarg; break;
		case 'p': port = optarg; break;
		case 'u': user = optarg; break;
		case 'P': pass = optarg; break;
		case 'i': client_id = optarg; break;
		case 't': timeout_s = atoi(optarg); break;
		case 'W': wait_s = atoi(optarg); break;
		case 'r': seed = strtoull(optarg, NULL, 0); break;
		case 'A': cafile = optarg; break;
		case 'C': certfile = optarg; break;
		case 'K': keyfile = optarg; break;
		case 'c': cipher_list = optarg; break;
		case 's': ciphersuites = optarg; break;
		case 'x': control = true; break;
		case 'm':
		case 'M':
			if (parse_version(optarg) < 0) {
				usage(stderr);
				return 2;
			}
			*(c == 'm' ? &min_version : &max_version) = parse_version(optarg);
			break;
		default: usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc || timeout_s < 1 || wait_s < 0) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind];
	signal(SIGPIPE, SIG_IGN);
	if (!seed)
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	rnd_state = seed | 1;
	printf("# seed %llu\n", (unsigned long long)seed);
	snprintf(topic_root, sizeof(topic_root), "kmqtt-tls-%d-%04x", (int)getpid(),
		 (unsigned int)(rnd() & 0xffff));
	if (!make_ctx()) {
		ERR_print_errors_fp(stderr);
		return 2;
	}
	for (k = 0; k < sizeof(cmds) / sizeof(cmds[0]); k++)
		if (!strcmp(cmd, cmds[k].name))
			break;
	if (k == sizeof(cmds) / sizeof(cmds[0])) {
		usage(stderr);
		return 2;
	}
	cmds[k].fn();
	SSL_CTX_free(ctx);
	return failures ? 1 : 0;
}

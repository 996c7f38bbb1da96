// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A client from accept to hand-off: read its CONNECT exactly, decide, and either give
 * the socket to kmqtt.ko (which sends the CONNACK) or answer with an error CONNACK and
 * close.
 *
 * Reading exactly: the fixed header is read two bytes and then one byte at a time until
 * mqtt_fixed_header() says it is complete, then exactly the remaining length. A client
 * may pipeline packets right after its CONNECT; those bytes stay in the socket for the
 * module. Before authentication nothing is trusted: the CONNECT must arrive within
 * connect_timeout and is at most KMQTTD_CONNECT_MAX bytes (or max_packet_size).
 *
 * After an error CONNACK the socket is shut down for writing and drained for a moment
 * (KMQTTD_LINGER_MS), so that a client which already sent more does not get a reset
 * that destroys the CONNACK before it reads it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/ssl.h>
#include "acl.h"
#include "kmqttd.h"

enum pc_state { PC_TLS, PC_HEADER, PC_BODY, PC_LINGER };

struct pconn {
	struct ev ev;		/* first: epoll events point here */
	struct pconn *prev, *next;
	struct pc_list *list;
	uint64_t deadline;
	struct peer *peer;	/* a held slot; NULL once handed to the connection table */
	char name[INET6_ADDRSTRLEN + 8];	/* address:port */
	char ip[INET6_ADDRSTRLEN];
	enum pc_state state;
	uint8_t hdr[MQTT_MAX_HEADER_LEN];
	uint8_t hdr_have;
	struct mqtt_fixed_header fh;
	uint8_t *body;
	uint32_t have;		/* body bytes read; drained bytes while lingering */
	/* TLS listeners: the handshake's state, then what it established. */
	SSL *ssl;		/* during the handshake only */
	struct tls_secret secret;
	struct tls_identity *tls;	/* NULL: plain TCP */
	bool use_identity;	/* the certificate's CN is the user name */
};

static void list_add_tail(struct pc_list *l, struct pconn *pc)
{
	pc->list = l;
	pc->next = NULL;
	pc->prev = l->tail;
	if (l->tail)
		l->tail->next = pc;
	else
		l->head = pc;
	l->tail = pc;
}

static void list_del(struct pconn *pc)
{
	struct pc_list *l = pc->list;

	if (pc->prev)
		pc->prev->next = pc->next;
	else
		l->head = pc->next;
	if (pc->next)
		pc->next->prev = pc->prev;
	else
		l->tail = pc->prev;
	pc->list = NULL;
}

static uint32_t connect_cap(const struct kmqttd *d)
{
	uint32_t m = d->conf.max_packet_size;

	return m && m < KMQTTD_CONNECT_MAX ? m : KMQTTD_CONNECT_MAX;
}

static void pc_free(struct kmqttd *d, struct pconn *pc)
{
	list_del(pc);
	/*
	 * Explicitly: after a hand-off kmqtt.ko holds the socket's file too, and an epoll
	 * registration lives as long as the file, not the descriptor. Without this, the
	 * module's socket would keep waking us with a pointer to freed memory.
	 */
	kmqttd_epoll_del(d, &pc->ev);
	SSL_free(pc->ssl);
	close(pc->ev.fd);
	d->n_pending--;
	if (pc->peer)
		peer_put(d, pc->peer);
	OPENSSL_cleanse(&pc->secret, sizeof(pc->secret));
	free(pc->tls);
	free(pc->body);
	free(pc);
}

void connect_start(struct kmqttd *d, int fd, struct peer *peer,
		   const struct sockaddr_storage *ss, const struct listener *l)
{
	struct pconn *pc = calloc(1, sizeof(*pc));

	if (!pc) {
		d->stats[DS_ACCEPT_ERRORS]++;
		close(fd);
		peer_put(d, peer);
		return;
	}
	pc->ev = (struct ev){ .kind = EV_PENDING, .fd = fd };
	pc->peer = peer;
	pc->state = PC_HEADER;
	sockaddr_name(ss, pc->name, sizeof(pc->name));
	sockaddr_ip(ss, pc->ip, sizeof(pc->ip));
	/* connect_timeout covers the TLS handshake and the CONNECT. */
	pc->deadline = kmqttd_now_ms() + (uint64_t)d->conf.connect_timeout * 1000;
	list_add_tail(&d->pending, pc);
	d->n_pending++;
	if (l->tls) {
		pc->state = PC_TLS;
		pc->use_identity = l->conf_idx >= 0 &&
			d->conf.listeners[l->conf_idx].t.use_identity_as_username;
		pc->tls = calloc(1, sizeof(*pc->tls));
		pc->ssl = pc->tls ? tls_new(l->tls, fd, &pc->secret) : NULL;
		if (!pc->ssl) {
			d->stats[DS_ACCEPT_ERRORS]++;
			pc_free(d, pc);
			return;
		}
	}
	if (kmqttd_epoll_add(d, &pc->ev, EPOLLIN | EPOLLRDHUP) < 0) {
		d->stats[DS_ACCEPT_ERRORS]++;
		pc_free(d, pc);
	}
}

/* Send an error CONNACK (3.1 and 3.1.1 share its format) and linger before closing. */
static void refuse(struct kmqttd *d, struct pconn *pc, int rc)
{
	struct mqtt_connack ack = { .reason = (uint8_t)rc };
	uint8_t buf[4];
	int n = mqtt_encode_connack(buf, sizeof(buf), MQTT_LEVEL_311, &ack);

	if (n > 0 && send(pc->ev.fd, buf, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n) {
		pc_free(d, pc);
		return;
	}
	shutdown(pc->ev.fd, SHUT_WR);
	free(pc->body);
	pc->body = NULL;
	pc->state = PC_LINGER;
	pc->have = 0;
	list_del(pc);
	pc->deadline = kmqttd_now_ms() + KMQTTD_LINGER_MS;
	list_add_tail(&d->linger, pc);
}

static void invalid(struct kmqttd *d, struct pconn *pc, int err)
{
	int rc = mqtt_err_connack(err);
	int e = err < 0 ? -err : err;

	d->stats[DS_CONNECT_INVALID]++;
	if (e >= MQTT_E_BASE && e < MQTT_E__END)
		d->connect_errors[e - MQTT_E_BASE]++;
	if (rc == MQTT_RC311_BAD_PROTOCOL_VERSION)
		d->stats[DS_UNSUPPORTED_VERSION]++;
	else if (rc == MQTT_RC311_ID_REJECTED)
		d->stats[DS_CLIENT_ID_REJECTED]++;
	log_limited(d, RL_INVALID, KMQ_LOG_NOTICE, "invalid CONNECT from %s: %s", pc->name,
		    mqtt_err_name(err));
	if (rc == MQTT_RC311_NONE)
		pc_free(d, pc);
	else
		refuse(d, pc, rc);
}

static int assign_client_id(char *id, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t r[KMQTTD_CLIENT_ID_RANDOM / 2];
	size_t n = strlen(KMQTTD_CLIENT_ID_PREFIX);

	if (cap < n + 2 * sizeof(r) + 1 || getrandom(r, sizeof(r), 0) != sizeof(r))
		return -1;
	memcpy(id, KMQTTD_CLIENT_ID_PREFIX, n);
	for (size_t i = 0; i < sizeof(r); i++) {
		id[n++] = hex[r[i] >> 4];
		id[n++] = hex[r[i] & 15];
	}
	id[n] = 0;
	return 0;
}

static bool will_allowed(const struct mqtt_connect *c, const struct kmq_acl_rules *rules)
{
	char topic[KMQTT_MAX_TOPIC + 1];

	if (c->will_topic.len > KMQTT_MAX_TOPIC)
		return false;
	memcpy(topic, c->will_topic.s, c->will_topic.len);
	topic[c->will_topic.len] = 0;
	return kmq_acl_rules_allow(rules, topic, KMQTT_ACL_WRITE);
}

/* Hand the authenticated connection to kmqtt.ko. */
static void hand_off(struct kmqttd *d, struct pconn *pc, const struct mqtt_connect *c,
		     const char *id, const char *user, const struct kmq_acl_rules *rules)
{
	const char *filters[KMQTT_MAX_ACL_RULES];
	uint32_t access[KMQTT_MAX_ACL_RULES];
	struct kmq_conn_new p = {
		.fd = pc->ev.fd,
		.client_id = id,
		.username = user,
		.level = c->level,
		.keepalive = c->keep_alive,
		.flags = c->clean_start ? KMQTT_CONN_F_CLEAN_SESSION : 0,
		.n_acl = rules ? (int)rules->n : -1,
		.acl_filter = filters,
		.acl_access = access,
		.max_packet = d->conf.max_packet_size,
		.tx_queue = d->conf.max_queued_messages,
		.inflight = d->conf.max_inflight_messages,
		.will = c->will,
		.will_topic = c->will_topic.s,
		.will_topic_len = c->will_topic.len,
		.will_payload = c->will_payload.p,
		.will_payload_len = c->will_payload.len,
		.will_qos = c->will_qos,
		.will_retain = c->will_retain,
	};
	const struct tls_identity *t = pc->tls;
	struct session_connect sc;
	char pid[96], pu[96];
	uint64_t conn_id;
	uint32_t rflags;
	int ret;

	for (unsigned int i = 0; rules && i < rules->n; i++) {
		filters[i] = rules->rule[i].filter;
		access[i] = rules->rule[i].access;
	}
	if (t) {
		p.tls_version = t->version;
		p.tls_cipher = t->cipher;
		if (t->has_cert) {
			p.cert_cn = t->cn[0] ? t->cn : NULL;
			p.cert_serial = t->serial;
			p.cert_issuer = t->issuer;
		}
	}
	printable(id, strlen(id), pid, sizeof(pid));
	if (d->link != MODULE_REGISTERED) {
		d->stats[DS_MODULE_UNAVAILABLE]++;
		log_limited(d, RL_MODULE, KMQ_LOG_WARNING,
			    "kmqtt.ko is not loaded: client %s from %s refused (server unavailable)",
			    pid, pc->ip);
		refuse(d, pc, MQTT_RC311_SERVER_UNAVAILABLE);
		return;
	}
	/*
	 * Persistent sessions: the stored subscriptions, session present, hold. (Events read
	 * while the reply is awaited may change the session: the request is built by then.)
	 */
	session_prepare_connect(d, id, c->clean_start, &p, &sc);
	ret = kmq_nl_conn_new(&d->nl, &p, &conn_id, &rflags);
	if (!ret) {
		d->stats[DS_HANDED_OFF]++;
		conn_track(d, conn_id, pc->peer);
		pc->peer = NULL;
		if (user)
			log_info("client %s (user %s) from %s handed to kmqtt.ko as connection %llu",
				 pid, printable(user, strlen(user), pu, sizeof(pu)), pc->name,
				 (unsigned long long)conn_id);
		else
			log_info("client %s from %s handed to kmqtt.ko as connection %llu", pid,
				 pc->name, (unsigned long long)conn_id);
		pc_free(d, pc);
		/* Then the queued messages, in order, and the release of held ones. */
		session_connect_done(d, &sc, 0, conn_id, rflags);
		return;
	}
	session_connect_done(d, &sc, ret, 0, 0);
	if (ret == -ETIMEDOUT) {
		/* The module may own the socket now: write nothing to it. */
		d->stats[DS_HANDOFF_UNKNOWN]++;
		d->resync_needed = true;
		log_warn("kmqtt.ko did not answer the hand-off of client %s from %s; closing our end",
			 pid, pc->name);
		pc_free(d, pc);
		return;
	}
	d->stats[DS_HANDOFF_REFUSED]++;
	log_limited(d, RL_MODULE, KMQ_LOG_WARNING, "kmqtt.ko refused client %s from %s: %s%s%s",
		    pid, pc->ip, strerror(-ret), d->nl.errmsg[0] ? ": " : "", d->nl.errmsg);
	refuse(d, pc, MQTT_RC311_SERVER_UNAVAILABLE);
}

static void process(struct kmqttd *d, struct pconn *pc)
{
	struct mqtt_limits lim = MQTT_LIMITS_DEFAULT;
	char id[KMQTT_MAX_CLIENT_ID + 1], user[KMQTT_MAX_USERNAME + 1];
	char pid[96], pu[96] = "", why[256];
	struct kmq_acl_rules rules;
	const struct mqtt_connect *c;
	struct mqtt_packet pkt;
	bool verified, have_rules = false;
	int err;

	lim.max_packet_size = connect_cap(d);
	lim.max_client_id_len = KMQTT_MAX_CLIENT_ID;
	err = mqtt_decode(MQTT_LEVEL_UNKNOWN, &pc->fh, pc->body, &lim, &pkt);
	if (err) {
		invalid(d, pc, err);
		return;
	}
	c = &pkt.connect;
	if (c->level == MQTT_LEVEL_5) {
		d->stats[DS_UNSUPPORTED_VERSION]++;
		log_limited(d, RL_INVALID, KMQ_LOG_NOTICE,
			    "MQTT 5 client from %s refused: kmqtt serves MQTT 3.1 and 3.1.1", pc->name);
		refuse(d, pc, MQTT_RC311_BAD_PROTOCOL_VERSION);
		return;
	}
	if (!c->client_id.len) {
		/* [MQTT-3.1.3-7], [MQTT-3.1.3-8]: only a clean session may have no id. */
		if (!c->clean_start) {
			d->stats[DS_CLIENT_ID_REJECTED]++;
			log_limited(d, RL_INVALID, KMQ_LOG_NOTICE,
				    "client from %s refused: empty client id without clean session",
				    pc->name);
			refuse(d, pc, MQTT_RC311_ID_REJECTED);
			return;
		}
		if (assign_client_id(id, sizeof(id))) {
			refuse(d, pc, MQTT_RC311_SERVER_UNAVAILABLE);
			return;
		}
		d->stats[DS_CLIENT_IDS_ASSIGNED]++;
	} else {
		memcpy(id, c->client_id.s, c->client_id.len);
		id[c->client_id.len] = 0;
	}
	printable(id, strlen(id), pid, sizeof(pid));
	if (d->conf.max_keepalive && (!c->keep_alive || c->keep_alive > d->conf.max_keepalive)) {
		/* 3.1.1 cannot tell the client another keepalive: refuse as mosquitto does. */
		d->stats[DS_KEEPALIVE_REFUSED]++;
		log_limited(d, RL_INVALID, KMQ_LOG_NOTICE,
			    "client %s from %s refused: keepalive %u s, max_keepalive is %u s", pid,
			    pc->name, c->keep_alive, d->conf.max_keepalive);
		refuse(d, pc, MQTT_RC311_ID_REJECTED);
		return;
	}
	if (pc->use_identity) {
		/* The certificate is the credential: its CN is the user name, as mosquitto. */
		if (!pc->tls->cn[0]) {
			d->stats[DS_AUTH_FAILED]++;
			log_limited(d, RL_AUTH, KMQ_LOG_WARNING,
				    "client %s from %s refused: its certificate has no common name to use as user name",
				    pid, pc->ip);
			refuse(d, pc, MQTT_RC311_NOT_AUTHORIZED);
			return;
		}
		snprintf(user, sizeof(user), "%s", pc->tls->cn);
		printable(user, strlen(user), pu, sizeof(pu));
		verified = true;
		goto authenticated;
	}
	if (c->has_username) {
		printable(c->username.s, c->username.len, pu, sizeof(pu));
		if (c->username.len > KMQTT_MAX_USERNAME) {
			d->stats[DS_AUTH_FAILED]++;
			log_limited(d, RL_AUTH, KMQ_LOG_WARNING,
				    "auth failed for user %s from %s: name longer than %d bytes", pu,
				    pc->ip, KMQTT_MAX_USERNAME);
			refuse(d, pc, MQTT_RC311_BAD_USER_OR_PASSWORD);
			return;
		}
		memcpy(user, c->username.s, c->username.len);
		user[c->username.len] = 0;
	}
	switch (auth_check(d, c, &verified)) {
	case AUTH_OK:
		break;
	case AUTH_BAD_CREDENTIALS:
		d->stats[DS_AUTH_FAILED]++;
		log_limited(d, RL_AUTH, KMQ_LOG_WARNING, "auth failed for user %s from %s", pu, pc->ip);
		refuse(d, pc, MQTT_RC311_BAD_USER_OR_PASSWORD);
		return;
	case AUTH_NOT_AUTHORIZED:
		d->stats[DS_ANONYMOUS_REFUSED]++;
		if (c->has_username)
			log_limited(d, RL_AUTH, KMQ_LOG_WARNING,
				    "client %s (user %s) from %s refused: no password_file to check the user and allow_anonymous is false",
				    pid, pu, pc->ip);
		else
			log_limited(d, RL_AUTH, KMQ_LOG_WARNING,
				    "anonymous client %s from %s refused (allow_anonymous is false)",
				    pid, pc->ip);
		refuse(d, pc, MQTT_RC311_NOT_AUTHORIZED);
		return;
	case AUTH_ERROR:
		d->stats[DS_AUTH_FAILED]++;
		log_err("password check for client %s failed in the crypto library", pid);
		refuse(d, pc, MQTT_RC311_SERVER_UNAVAILABLE);
		return;
	}
authenticated:
	if (d->auth.acl) {
		if (kmq_acl_rules(d->auth.acl, verified ? user : NULL, id, &rules, why, sizeof(why))) {
			d->stats[DS_ACL_REFUSED]++;
			log_limited(d, RL_ACL, KMQ_LOG_WARNING, "client %s from %s refused: %s", pid,
				    pc->ip, why);
			refuse(d, pc, MQTT_RC311_NOT_AUTHORIZED);
			return;
		}
		have_rules = true;
		if (rules.dropped) {
			d->stats[DS_ACL_RULES_DROPPED] += rules.dropped;
			log_limited(d, RL_ACL, KMQ_LOG_NOTICE,
				    "client %s: %u ACL pattern grant(s) left out (the %%u/%%c value contains '+', '#' or '/', or is too long)",
				    pid, rules.dropped);
		}
		/* As mosquitto: a will the client could not publish refuses the CONNECT. */
		if (c->will && !will_allowed(c, &rules)) {
			d->stats[DS_WILL_REFUSED]++;
			log_limited(d, RL_WILL, KMQ_LOG_WARNING,
				    "client %s from %s refused: the ACL does not allow writing its will topic",
				    pid, pc->ip);
			kmq_acl_rules_free(&rules);
			refuse(d, pc, MQTT_RC311_NOT_AUTHORIZED);
			return;
		}
	}
	hand_off(d, pc, c, id, c->has_username || pc->use_identity ? user : NULL,
		 have_rules ? &rules : NULL);
	if (have_rules)
		kmq_acl_rules_free(&rules);
}

/* Read what the current state needs. Returns 1 when the CONNECT is complete. */
static int read_connect(struct kmqttd *d, struct pconn *pc)
{
	for (;;) {
		uint8_t *dst;
		size_t want;
		ssize_t n;
		int r;

		if (pc->state == PC_HEADER) {
			dst = pc->hdr + pc->hdr_have;
			want = pc->hdr_have < 2 ? 2u - pc->hdr_have : 1;
		} else {
			dst = pc->body + pc->have;
			want = pc->fh.remlen - pc->have;
			if (!want)
				return 1;
		}
		n = recv(pc->ev.fd, dst, want, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n <= 0) {
			d->stats[DS_CONNECT_CLOSED]++;
			log_debug("%s closed before its CONNECT was complete", pc->name);
			pc_free(d, pc);
			return -1;
		}
		if (pc->state == PC_BODY) {
			pc->have += (uint32_t)n;
			continue;
		}
		pc->hdr_have += (uint8_t)n;
		if (pc->hdr[0] >> 4 != MQTT_CONNECT) {
			invalid(d, pc, -MQTT_E_NOT_CONNECT);
			return -1;
		}
		r = mqtt_fixed_header(pc->hdr, pc->hdr_have, MQTT_LEVEL_UNKNOWN, connect_cap(d),
				      &pc->fh);
		if (r == 0)
			continue;
		if (r == -MQTT_E_PACKET_TOO_LARGE) {
			d->stats[DS_CONNECT_TOO_LARGE]++;
			log_limited(d, RL_INVALID, KMQ_LOG_NOTICE,
				    "CONNECT of %u bytes from %s is over the %u-byte limit", pc->fh.remlen,
				    pc->name, connect_cap(d));
			pc_free(d, pc);
			return -1;
		}
		if (r < 0) {
			invalid(d, pc, r);
			return -1;
		}
		pc->body = malloc(pc->fh.remlen ? pc->fh.remlen : 1);
		if (!pc->body) {
			pc_free(d, pc);
			return -1;
		}
		pc->state = PC_BODY;
		pc->have = 0;
	}
}

static void drain(struct kmqttd *d, struct pconn *pc)
{
	uint8_t buf[4096];
	ssize_t n;

	while ((n = recv(pc->ev.fd, buf, sizeof(buf), 0)) > 0) {
		pc->have += (uint32_t)n;
		if (pc->have > KMQTTD_LINGER_MAX_BYTES)
			break;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	pc_free(d, pc);
}

/* One step of the TLS handshake; true when it is done and the CONNECT may be read. */
static bool handshake(struct kmqttd *d, struct pconn *pc)
{
	struct epoll_event ev = { .data.ptr = &pc->ev };
	char why[256];

	switch (tls_handshake(pc->ssl, pc->tls, &pc->secret, why, sizeof(why))) {
	case TLS_DONE:
		break;
	case TLS_WANT_READ:
	case TLS_WANT_WRITE:
		ev.events = EPOLLRDHUP | (SSL_want_write(pc->ssl) ? EPOLLOUT : EPOLLIN);
		epoll_ctl(d->epfd, EPOLL_CTL_MOD, pc->ev.fd, &ev);
		return false;
	case TLS_REVOKED:
		d->stats[DS_TLS_REVOKED]++;
		log_limited(d, RL_TLS, KMQ_LOG_WARNING, "TLS handshake with %s refused: %s",
			    pc->name, why);
		pc_free(d, pc);
		return false;
	case TLS_FAILED:
		d->stats[DS_TLS_HANDSHAKE_FAILED]++;
		log_limited(d, RL_TLS, KMQ_LOG_NOTICE, "TLS handshake with %s failed: %s",
			    pc->name, why);
		pc_free(d, pc);
		return false;
	case TLS_NOT_OFFLOADED:
		d->stats[DS_TLS_NOT_OFFLOADED]++;
		log_limited(d, RL_TLS, KMQ_LOG_WARNING,
			    "TLS client %s refused: kernel TLS cannot carry it (%s)", pc->name, why);
		pc_free(d, pc);
		return false;
	}
	d->stats[DS_TLS_HANDSHAKES]++;
	log_debug("TLS handshake with %s: %s %s%s%s", pc->name, pc->tls->version,
		  pc->tls->cipher, pc->tls->has_cert ? ", certificate CN " : "",
		  pc->tls->has_cert ? pc->tls->cn : "");
	/* From here the kernel decrypts: the CONNECT is read with recv() like plain TCP. */
	SSL_free(pc->ssl);
	pc->ssl = NULL;
	pc->state = PC_HEADER;
	ev.events = EPOLLIN | EPOLLRDHUP;
	epoll_ctl(d->epfd, EPOLL_CTL_MOD, pc->ev.fd, &ev);
	return true;
}

void connect_on_event(struct kmqttd *d, struct pconn *pc, uint32_t events)
{
	(void)events;
	if (pc->state == PC_LINGER) {
		drain(d, pc);
		return;
	}
	if (pc->state == PC_TLS && !handshake(d, pc))
		return;
	if (read_connect(d, pc) == 1)
		process(d, pc);
}

static int64_t expire(struct kmqttd *d, struct pc_list *l, uint64_t now, bool pending)
{
	while (l->head && l->head->deadline <= now) {
		struct pconn *pc = l->head;

		if (pending) {
			d->stats[DS_CONNECT_TIMEOUTS]++;
			log_limited(d, RL_INVALID, KMQ_LOG_INFO, "no CONNECT from %s within %u s",
				    pc->name, d->conf.connect_timeout);
		}
		pc_free(d, pc);
	}
	return l->head ? (int64_t)(l->head->deadline - now) : -1;
}

int connect_sweep(struct kmqttd *d, uint64_t now)
{
	int64_t a = expire(d, &d->pending, now, true);
	int64_t b = expire(d, &d->linger, now, false);
	int64_t m = a < 0 ? b : b < 0 ? a : a < b ? a : b;

	return m > 1000 ? 1000 : (int)m;
}

void connect_close_all(struct kmqttd *d)
{
	while (d->pending.head)
		pc_free(d, d->pending.head);
	while (d->linger.head)
		pc_free(d, d->linger.head);
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * MQTT listeners and the accept-time limits. Everything here happens before a byte of the
 * client is read: the global connection cap, the per-IP cap and the per-IP connect rate
 * close a connection at once, counted and logged (rate-limited).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <openssl/ssl.h>
#include "kmqttd.h"

void sockaddr_ip(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	const struct sockaddr_in6 *s6 = (const void *)ss;
	const struct sockaddr_in *s4 = (const void *)ss;

	if (ss->ss_family != AF_INET6)
		inet_ntop(AF_INET, &s4->sin_addr, buf, (socklen_t)len);
	else if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
		inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], buf, (socklen_t)len);
	else
		inet_ntop(AF_INET6, &s6->sin6_addr, buf, (socklen_t)len);
}

void sockaddr_name(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		sockaddr_ip(ss, host, sizeof(host));
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
			snprintf(buf, len, "%s:%u", host, ntohs(s6->sin6_port));
		else
			snprintf(buf, len, "[%s]:%u", host, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const void *)ss;

		inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
		snprintf(buf, len, "%s:%u", host, ntohs(s4->sin_port));
	}
}

/*
 * One listening socket; @address NULL: every address (IPv6 dual-stack, or IPv4).
 * @conf_idx: its entry in conf.listeners (-1 for the default), for its TLS context.
 */
static int open_one(struct kmqttd *d, const char *address, uint16_t port, int conf_idx)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in6 *s6 = (void *)&ss;
	struct sockaddr_in *s4 = (void *)&ss;
	struct listener *l;
	int fd, one = 1, zero = 0, ret;

	if (d->n_listeners == sizeof(d->listeners) / sizeof(d->listeners[0]))
		return -ENOSPC;
	if (address && inet_pton(AF_INET, address, &s4->sin_addr) == 1) {
		ss.ss_family = AF_INET;
		s4->sin_port = htons(port);
	} else {
		ss.ss_family = AF_INET6;
		s6->sin6_port = htons(port);
		if (address && inet_pton(AF_INET6, address, &s6->sin6_addr) != 1)
			return -EINVAL;
		if (!address)
			s6->sin6_addr = in6addr_any;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 && !address && errno == EAFNOSUPPORT) {
		/* No IPv6 in this kernel: every IPv4 address. */
		memset(&ss, 0, sizeof(ss));
		ss.ss_family = AF_INET;
		s4->sin_addr.s_addr = htonl(INADDR_ANY);
		s4->sin_port = htons(port);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	}
	l = &d->listeners[d->n_listeners];
	sockaddr_name(&ss, l->name, sizeof(l->name));
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* An explicit IPv6 address is that address only; no address is both families. */
	if (ss.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, address ? &one : &zero, sizeof(int)) < 0)
		goto fail;
	if (bind(fd, (struct sockaddr *)&ss, ss.ss_family == AF_INET6 ? sizeof(*s6) : sizeof(*s4)) < 0 ||
	    listen(fd, SOMAXCONN) < 0)
		goto fail;
	l->ev = (struct ev){ .kind = EV_LISTENER, .fd = fd };
	l->paused_until = 0;
	l->conf_idx = conf_idx;
	l->tls = conf_idx >= 0 ? d->auth.tls[conf_idx] : NULL;
	if (kmqttd_epoll_add(d, &l->ev, EPOLLIN) < 0)
		goto fail;
	if (l->tls)
		SSL_CTX_up_ref(l->tls);
	d->n_listeners++;
	log_info("listening for MQTT%s on %s", l->tls ? " over TLS" : "", l->name);
	return 0;
fail:
	ret = -errno;
	log_err("cannot listen on %s: %s", l->name, strerror(errno));
	if (fd >= 0)
		close(fd);
	return ret;
}

int listen_open(struct kmqttd *d)
{
	int ret;

	if (!d->conf.n_listeners) {
		/* No listener configured: local clients only, as mosquitto 2 does. */
		log_notice("no 'listener' configured: listening on the loopback addresses, port %d",
			   KMQ_CONF_DEFAULT_PORT);
		ret = open_one(d, "127.0.0.1", KMQ_CONF_DEFAULT_PORT, -1);
		if (ret)
			return ret;
		if (open_one(d, "::1", KMQ_CONF_DEFAULT_PORT, -1))
			log_notice("no IPv6 loopback listener; IPv4 only");
		return 0;
	}
	for (unsigned int i = 0; i < d->conf.n_listeners; i++) {
		ret = open_one(d, d->conf.listeners[i].address, d->conf.listeners[i].port, (int)i);
		if (ret)
			return ret;
	}
	return 0;
}

void listen_close(struct kmqttd *d)
{
	for (unsigned int i = 0; i < d->n_listeners; i++) {
		close(d->listeners[i].ev.fd);
		SSL_CTX_free(d->listeners[i].tls);
		d->listeners[i].tls = NULL;
	}
	d->n_listeners = 0;
}

/* After a reload with the same listeners: new connections use the new TLS files. */
void listen_update_tls(struct kmqttd *d)
{
	for (unsigned int i = 0; i < d->n_listeners; i++) {
		struct listener *l = &d->listeners[i];
		SSL_CTX *ctx = l->conf_idx >= 0 ? d->auth.tls[l->conf_idx] : NULL;

		if (!ctx || !l->tls)
			continue;
		SSL_CTX_up_ref(ctx);
		SSL_CTX_free(l->tls);
		l->tls = ctx;
	}
}

bool listen_conf_changed(const struct kmq_conf *a, const struct kmq_conf *b)
{
	if (a->n_listeners != b->n_listeners)
		return true;
	for (unsigned int i = 0; i < a->n_listeners; i++) {
		const struct kmq_listener *x = &a->listeners[i], *y = &b->listeners[i];

		if (x->port != y->port || x->tls != y->tls || !x->address != !y->address ||
		    (x->address && strcmp(x->address, y->address)))
			return true;
	}
	return false;
}

static void pause_listener(struct kmqttd *d, struct listener *l, uint64_t now)
{
	struct epoll_event ev = { .events = 0, .data.ptr = &l->ev };

	l->paused_until = now + KMQTTD_ACCEPT_PAUSE_MS;
	epoll_ctl(d->epfd, EPOLL_CTL_MOD, l->ev.fd, &ev);
}

void listen_sweep(struct kmqttd *d, uint64_t now)
{
	for (unsigned int i = 0; i < d->n_listeners; i++) {
		struct listener *l = &d->listeners[i];
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &l->ev };

		if (l->paused_until && now >= l->paused_until) {
			l->paused_until = 0;
			epoll_ctl(d->epfd, EPOLL_CTL_MOD, l->ev.fd, &ev);
		}
	}
}

static void refuse(struct kmqttd *d, int fd, enum dstat why, const char *peer, const char *what)
{
	d->stats[why]++;
	close(fd);
	log_limited(d, RL_REFUSED, KMQ_LOG_WARNING, "refused connection from %s: %s", peer, what);
}

static void admit(struct kmqttd *d, const struct listener *l, int fd,
		  const struct sockaddr_storage *ss, uint64_t now)
{
	long max = d->conf.max_connections, per_ip = d->conf.max_connections_per_ip;
	char name[INET6_ADDRSTRLEN + 8];
	struct peer *p;
	struct ip_key k;

	d->stats[DS_ACCEPTED]++;
	sockaddr_name(ss, name, sizeof(name));
	if (max != KMQ_UNLIMITED && (uint64_t)d->n_pending + conns_tracked(d) >= (uint64_t)max) {
		refuse(d, fd, DS_REFUSED_MAX_CONNECTIONS, name, "max_connections reached");
		return;
	}
	ip_key_from_sockaddr(&k, ss);
	p = peer_get(d, &k);
	if (!p) {
		refuse(d, fd, DS_REFUSED_PEER_TABLE, name, "too many client addresses tracked");
		return;
	}
	if (per_ip != KMQ_UNLIMITED && peer_conns(p) >= (uint64_t)per_ip) {
		refuse(d, fd, DS_REFUSED_PER_IP, name, "max_connections_per_ip reached");
		return;
	}
	if (!peer_rate_take(d, p, now)) {
		refuse(d, fd, DS_REFUSED_RATE, name, "connect_rate_per_ip exceeded");
		return;
	}
	peer_hold(p);
	connect_start(d, fd, p, ss, l);
}

void listen_on_accept(struct kmqttd *d, struct listener *l)
{
	uint64_t now = kmqttd_now_ms();

	for (int i = 0; i < KMQTTD_ACCEPT_BATCH; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		int fd = accept4(l->ev.fd, (struct sockaddr *)&ss, &len,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			admit(d, l, fd, &ss, now);
			continue;
		}
		switch (errno) {
		case EAGAIN:
			return;
		case EINTR:
		case ECONNABORTED:
		case EPROTO:
			continue;
		case EMFILE:
		case ENFILE:
		case ENOBUFS:
		case ENOMEM:
			/* Level-triggered: without a pause this would spin. */
			d->stats[DS_ACCEPT_ERRORS]++;
			log_limited(d, RL_ACCEPT, KMQ_LOG_ERR, "accept on %s: %s (pausing %d ms)",
				    l->name, strerror(errno), KMQTTD_ACCEPT_PAUSE_MS);
			pause_listener(d, l, now);
			return;
		default:
			d->stats[DS_ACCEPT_ERRORS]++;
			log_limited(d, RL_ACCEPT, KMQ_LOG_ERR, "accept on %s: %s", l->name,
				    strerror(errno));
			return;
		}
	}
}

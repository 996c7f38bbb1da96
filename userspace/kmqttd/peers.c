// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * What the accept-time limits need to know: per IP address, how many connections it has
 * (being read, or handed to the module) and its connect-rate token bucket; and which
 * handed-off connection belongs to which address, so that a CONN_CLOSED event gives the
 * slot back.
 *
 * The module owns the connections; this is a cache of them. It is rebuilt from a
 * CONN_GET dump at registration, after lost events and every KMQTTD_RESYNC_MS.
 *
 * Both tables are chained hashes. The address hash is keyed with random bits, so that
 * clients cannot pick addresses that all land in one chain; the table holds at most
 * KMQTTD_MAX_PEERS addresses (a client beyond that is refused and counted).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include "kmqttd.h"

#define PEER_BUCKETS	16384	/* power of two */
#define CONN_BUCKETS_MIN 1024

struct peer {
	struct peer *next;
	struct ip_key ip;
	uint32_t conns;		/* pending + handed off */
	uint64_t tokens;	/* connect-rate bucket, in thousandths of a connection */
	uint64_t refill_ms;
};

struct hconn {
	struct hconn *next;
	uint64_t id;
	struct peer *peer;
};

static uint64_t mix(uint64_t h)
{
	h ^= h >> 31;
	h *= 0x9e3779b97f4a7c15ULL;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return h;
}

static uint32_t ip_hash(const struct peers *p, const struct ip_key *k)
{
	uint64_t a, b;

	memcpy(&a, k->a, 8);
	memcpy(&b, k->a + 8, 8);
	return (uint32_t)mix(mix(a ^ p->seed[0]) ^ b ^ p->seed[1]);
}

static uint32_t id_hash(uint64_t id)
{
	return (uint32_t)mix(id);
}

int peers_init(struct peers *p)
{
	memset(p, 0, sizeof(*p));
	if (getrandom(p->seed, sizeof(p->seed), 0) != sizeof(p->seed))
		return -errno;
	p->bucket = calloc(PEER_BUCKETS, sizeof(*p->bucket));
	p->conn = calloc(CONN_BUCKETS_MIN, sizeof(*p->conn));
	if (!p->bucket || !p->conn) {
		peers_free(p);
		return -ENOMEM;
	}
	p->mask = PEER_BUCKETS - 1;
	p->conn_mask = CONN_BUCKETS_MIN - 1;
	return 0;
}

void peers_free(struct peers *p)
{
	if (p->conn) {
		for (uint32_t i = 0; i <= p->conn_mask; i++) {
			while (p->conn[i]) {
				struct hconn *h = p->conn[i];

				p->conn[i] = h->next;
				free(h);
			}
		}
	}
	if (p->bucket) {
		for (uint32_t i = 0; i <= p->mask; i++) {
			while (p->bucket[i]) {
				struct peer *e = p->bucket[i];

				p->bucket[i] = e->next;
				free(e);
			}
		}
	}
	free(p->conn);
	free(p->bucket);
	memset(p, 0, sizeof(*p));
}

void ip_key_from_sockaddr(struct ip_key *k, const struct sockaddr_storage *ss)
{
	memset(k, 0, sizeof(*k));
	if (ss->ss_family == AF_INET6) {
		memcpy(k->a, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
	} else if (ss->ss_family == AF_INET) {
		k->a[10] = 0xff;
		k->a[11] = 0xff;
		memcpy(k->a + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
	}
}

static uint64_t bucket_cap(const struct kmqttd *d)
{
	return (uint64_t)d->conf.connect_rate_per_ip * 1000;
}

static void refill(const struct kmqttd *d, struct peer *p, uint64_t now)
{
	uint64_t cap = bucket_cap(d);

	if (now > p->refill_ms) {
		/* rate per second = rate thousandths per millisecond */
		uint64_t add = (now - p->refill_ms) * (uint64_t)d->conf.connect_rate_per_ip;

		p->tokens = add >= cap || p->tokens + add >= cap ? cap : p->tokens + add;
		p->refill_ms = now;
	}
	if (p->tokens > cap)
		p->tokens = cap;	/* the rate was lowered by SIGHUP */
}

/* An address with no connections and a full bucket carries no information. */
static bool idle(const struct kmqttd *d, struct peer *p, uint64_t now)
{
	if (p->conns)
		return false;
	if (d->conf.connect_rate_per_ip == KMQ_UNLIMITED)
		return true;
	refill(d, p, now);
	return p->tokens >= bucket_cap(d);
}

struct peer *peer_get(struct kmqttd *d, const struct ip_key *k)
{
	struct peers *ps = &d->peers;
	uint32_t b = ip_hash(ps, k) & ps->mask;
	struct peer *p;

	for (p = ps->bucket[b]; p; p = p->next) {
		if (!memcmp(&p->ip, k, sizeof(*k)))
			return p;
	}
	if (ps->n >= KMQTTD_MAX_PEERS) {
		peers_sweep(d, kmqttd_now_ms());
		if (ps->n >= KMQTTD_MAX_PEERS)
			return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->ip = *k;
	p->refill_ms = kmqttd_now_ms();
	p->tokens = d->conf.connect_rate_per_ip == KMQ_UNLIMITED ? 0 : bucket_cap(d);
	p->next = ps->bucket[b];
	ps->bucket[b] = p;
	ps->n++;
	return p;
}

uint32_t peer_conns(const struct peer *p)
{
	return p->conns;
}

void peer_hold(struct peer *p)
{
	p->conns++;
}

static void peer_unlink(struct peers *ps, struct peer *p)
{
	struct peer **pp = &ps->bucket[ip_hash(ps, &p->ip) & ps->mask];

	while (*pp != p)
		pp = &(*pp)->next;
	*pp = p->next;
	ps->n--;
	free(p);
}

void peer_put(struct kmqttd *d, struct peer *p)
{
	if (p->conns)
		p->conns--;
	if (idle(d, p, kmqttd_now_ms()))
		peer_unlink(&d->peers, p);
}

bool peer_rate_take(struct kmqttd *d, struct peer *p, uint64_t now)
{
	if (d->conf.connect_rate_per_ip == KMQ_UNLIMITED)
		return true;
	refill(d, p, now);
	if (p->tokens < 1000)
		return false;
	p->tokens -= 1000;
	return true;
}

void peers_sweep(struct kmqttd *d, uint64_t now)
{
	struct peers *ps = &d->peers;

	for (uint32_t i = 0; i <= ps->mask; i++) {
		struct peer **pp = &ps->bucket[i];

		while (*pp) {
			struct peer *p = *pp;

			if (idle(d, p, now)) {
				*pp = p->next;
				ps->n--;
				free(p);
			} else {
				pp = &p->next;
			}
		}
	}
}

static void conns_grow(struct peers *ps)
{
	uint32_t size = (ps->conn_mask + 1) * 2;
	struct hconn **nb = calloc(size, sizeof(*nb));

	if (!nb)
		return;		/* longer chains, still correct */
	for (uint32_t i = 0; i <= ps->conn_mask; i++) {
		while (ps->conn[i]) {
			struct hconn *h = ps->conn[i];

			ps->conn[i] = h->next;
			h->next = nb[id_hash(h->id) & (size - 1)];
			nb[id_hash(h->id) & (size - 1)] = h;
		}
	}
	free(ps->conn);
	ps->conn = nb;
	ps->conn_mask = size - 1;
}

static bool recently_closed(struct peers *ps, uint64_t id)
{
	for (size_t i = 0; i < sizeof(ps->recent_closed) / sizeof(ps->recent_closed[0]); i++) {
		if (ps->recent_closed[i] == id) {
			ps->recent_closed[i] = 0;
			return true;
		}
	}
	return false;
}

/* Takes over the reference the pending connection held on @p. */
void conn_track(struct kmqttd *d, uint64_t id, struct peer *p)
{
	struct peers *ps = &d->peers;
	struct hconn *h;

	/* The connection may have ended before its CONN_NEW reply was read. */
	if (recently_closed(ps, id)) {
		peer_put(d, p);
		return;
	}
	h = malloc(sizeof(*h));
	if (!h) {
		/* Uncounted until the next resync; the limits are approximate meanwhile. */
		peer_put(d, p);
		d->resync_needed = true;
		return;
	}
	if (ps->n_conns > 2 * (ps->conn_mask + 1))
		conns_grow(ps);
	h->id = id;
	h->peer = p;
	h->next = ps->conn[id_hash(id) & ps->conn_mask];
	ps->conn[id_hash(id) & ps->conn_mask] = h;
	ps->n_conns++;
}

void conn_closed(struct kmqttd *d, uint64_t id)
{
	struct peers *ps = &d->peers;
	struct hconn **hp = &ps->conn[id_hash(id) & ps->conn_mask];

	for (; *hp; hp = &(*hp)->next) {
		struct hconn *h = *hp;

		if (h->id != id)
			continue;
		*hp = h->next;
		ps->n_conns--;
		peer_put(d, h->peer);
		free(h);
		return;
	}
	ps->recent_closed[ps->recent_pos++ % (sizeof(ps->recent_closed) /
					      sizeof(ps->recent_closed[0]))] = id;
}

void conns_forget_all(struct kmqttd *d)
{
	struct peers *ps = &d->peers;

	for (uint32_t i = 0; i <= ps->conn_mask; i++) {
		while (ps->conn[i]) {
			struct hconn *h = ps->conn[i];

			ps->conn[i] = h->next;
			peer_put(d, h->peer);
			free(h);
		}
	}
	ps->n_conns = 0;
	memset(ps->recent_closed, 0, sizeof(ps->recent_closed));
}

/* "a.b.c.d:port" or "[v6]:port", as the module prints peers (%pISpc). */
int conn_track_peer_string(struct kmqttd *d, uint64_t id, const char *peer)
{
	struct sockaddr_storage ss = { 0 };
	char host[64];
	const char *colon = strrchr(peer, ':');
	size_t len;
	struct peer *p;
	struct ip_key k;

	if (!colon)
		return -EINVAL;
	len = (size_t)(colon - peer);
	if (len && peer[0] == '[' && peer[len - 1] == ']') {
		peer++;
		len -= 2;
	}
	if (len >= sizeof(host))
		return -EINVAL;
	memcpy(host, peer, len);
	host[len] = 0;
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1)
		ss.ss_family = AF_INET6;
	else
		return -EINVAL;
	ip_key_from_sockaddr(&k, &ss);
	p = peer_get(d, &k);
	if (!p)
		return -ENOMEM;
	peer_hold(p);
	conn_track(d, id, p);
	return 0;
}

uint32_t conns_tracked(const struct kmqttd *d)
{
	return d->peers.n_conns;
}

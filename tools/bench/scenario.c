// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The scenarios as lists of clients. Subscribers come first in the list, so that workers
 * connect them first. Each subscriber receives a contiguous range of publisher ids, which
 * is what lets the receiving side keep one small sequence window per (subscriber,
 * publisher) pair. In --raw mode a client's key replaces topic and filter: a subscriber
 * uses its filter as key, and every publisher uses the key of the subscribers that would
 * receive it (so one key per subscriber group).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0) {
		perror("kmqtt-bench: vasprintf");
		exit(1);
	}
	va_end(ap);
	return s;
}

static struct client *add(struct scenario *s, uint8_t role, uint8_t cls, uint8_t qos)
{
	struct client *c;

	if (s->ncl == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->cl = realloc(s->cl, s->cap * sizeof(*s->cl));
		if (!s->cl) {
			perror("kmqtt-bench: realloc");
			exit(1);
		}
	}
	c = &s->cl[s->ncl++];
	memset(c, 0, sizeof(*c));
	c->role = role;
	c->cls = cls;
	c->qos = qos;
	c->keepalive = O.keepalive;
	c->burst = 1;
	return c;
}

static void sub(struct scenario *s, uint8_t cls, uint8_t qos, const char *filter,
		uint32_t lo, uint32_t hi)
{
	struct client *c = add(s, ROLE_SUB, cls, qos);

	c->topic = strdup(filter);
	c->key = strdup(filter);
	c->src_lo = lo;
	c->src_hi = hi;
	s->cls[cls].subs++;
	s->nsub++;
}

/* A publisher; @i and @of place its messages in the period (phase i/of). */
static struct client *pub(struct scenario *s, uint8_t cls, uint8_t qos, char *topic,
			  const char *key, double rate, uint32_t i, uint32_t of, uint32_t fan)
{
	struct client *c = add(s, ROLE_PUB, cls, qos);
	struct class_info *ci = &s->cls[cls];

	c->topic = topic;
	c->key = strdup(key);
	c->pub_id = s->npub++;
	c->rate = rate;
	c->phase = of ? (double)i / of : 0;
	c->size_min = ci->size_min;
	c->size_max = ci->size_max;
	c->fan = fan;
	ci->pubs++;
	ci->rate += rate;
	s->base_rate += rate;
	if (c->size_max > s->max_payload)
		s->max_payload = c->size_max;
	return c;
}

static void class(struct scenario *s, uint8_t cls, const char *name, uint8_t qos,
		  uint32_t size_min, uint32_t size_max)
{
	struct class_info *ci = &s->cls[cls];

	ci->name = name;
	ci->qos = qos;
	ci->size_min = size_min < PAYLOAD_HDR ? PAYLOAD_HDR : size_min;
	ci->size_max = size_max < ci->size_min ? ci->size_min : size_max;
	if (cls + 1u > s->nclass)
		s->nclass = cls + 1;
}

static void build_fanin(struct scenario *s, const struct opts *o, uint8_t q)
{
	uint32_t i;

	class(s, 0, "all", q, o->size, o->size);
	sub(s, 0, q, "bench/in/+", 0, o->n);
	for (i = 0; i < o->n; i++)
		pub(s, 0, q, xasprintf("bench/in/%u", i), "bench/in/+", 1.0 / o->n, i, o->n, 1);
}

static void build_fanout(struct scenario *s, const struct opts *o, uint8_t q)
{
	uint32_t i;

	class(s, 0, "all", q, o->size, o->size);
	for (i = 0; i < o->n; i++)
		sub(s, 0, q, "bench/out", 0, 1);
	pub(s, 0, q, strdup("bench/out"), "bench/out", 1.0, 0, 1, o->n);
}

static void build_p2p(struct scenario *s, const struct opts *o, uint8_t q)
{
	uint32_t i;
	char *t;

	class(s, 0, "all", q, o->size, o->size);
	for (i = 0; i < o->n; i++) {
		t = xasprintf("bench/p2p/%u", i);
		sub(s, 0, q, t, i, i + 1);
		free(t);
	}
	for (i = 0; i < o->n; i++) {
		t = xasprintf("bench/p2p/%u", i);
		pub(s, 0, q, t, t, 1.0 / o->n, i, o->n, 1);
	}
}

/*
 * offline: n pairs on bench/off/<i> like p2p, but each subscriber holds a persistent
 * session under a fixed identifier (<prefix>off-<i>) and is offline while its publisher
 * sends: the messages go through the broker's offline queue (and store, with persistence
 * on) and are delivered when the subscriber comes back. See kmqtt-bench.c for the run.
 */
static void build_offline(struct scenario *s, const struct opts *o, uint8_t q)
{
	struct client *c;
	uint32_t i;
	char *t;

	class(s, 0, "all", q, o->size, o->size);
	s->offline = true;
	for (i = 0; i < o->n; i++) {
		t = xasprintf("bench/off/%u", i);
		sub(s, 0, q, t, i, i + 1);
		free(t);
		c = &s->cl[s->ncl - 1];
		c->persistent = true;
		c->client_id = xasprintf("%soff-%u", o->client_prefix, i);
	}
	for (i = 0; i < o->n; i++) {
		t = xasprintf("bench/off/%u", i);
		pub(s, 0, q, t, t, 1.0 / o->n, i, o->n, 1);
	}
}

static void build_idle(struct scenario *s, const struct opts *o, uint8_t q)
{
	struct client *c;
	uint32_t i;

	class(s, 0, "all", q, o->size, o->size);
	s->traffic = false;
	for (i = 0; i < o->n; i++) {
		c = add(s, ROLE_IDLE, 0, q);
		c->key = xasprintf("bench/idle/%u", i);
		c->topic = o->idle_sub ? strdup(c->key) : NULL;
	}
}

/*
 * The smart-city mix at scale n (n = 10: ~1060 connections, ~620 messages/s):
 *
 *   class     devices  topic                                 QoS  payload     rate/device
 *   traffic   20 n     city/traffic/z<zone>/s<id>/speed      0    48-96 B     2/s
 *   parking   10 n     city/parking/lot<lot>/bay<bay>        1    32-48 B     1/10 s
 *   metering  5 n      city/meter/m<id>/kwh                  1    40-64 B     1/15 s
 *   police    n/5      city/police/cam<id>/event             1    8-32 KiB    4 at once every 5 s
 *   fleet     20 n     city/fleet/v<id>/pos                  0    40-80 B     1/s
 *   domestic  50 n     city/home/h<id>/status                1    24-64 B     1/60 s, ping 10 s
 *
 * One back-office subscriber per class with a wildcard filter: city/traffic/#,
 * city/parking/#, city/meter/+/kwh, city/police/#, city/fleet/+/pos, city/home/+/status,
 * at the class's QoS. Zones: n/2 (at least 1), parking lots: n.
 */
enum { C_TRAFFIC, C_PARKING, C_METER, C_POLICE, C_FLEET, C_HOME };

static void build_city(struct scenario *s, const struct opts *o)
{
	uint32_t n = o->n, i, cnt, base;
	uint32_t zones = n / 2 ? n / 2 : 1;
	struct client *c;

	class(s, C_TRAFFIC, "traffic", 0, 48, 96);
	class(s, C_PARKING, "parking", 1, 32, 48);
	class(s, C_METER, "metering", 1, 40, 64);
	class(s, C_POLICE, "police", 1, 8192, 32768);
	class(s, C_FLEET, "fleet", 0, 40, 80);
	class(s, C_HOME, "domestic", 1, 24, 64);

	/* Publisher ids are handed out in class order; subscribers take the ranges. */
	base = 0;
	cnt = 20 * n;
	sub(s, C_TRAFFIC, 0, "city/traffic/#", base, base + cnt);
	base += cnt;
	cnt = 10 * n;
	sub(s, C_PARKING, 1, "city/parking/#", base, base + cnt);
	base += cnt;
	cnt = 5 * n;
	sub(s, C_METER, 1, "city/meter/+/kwh", base, base + cnt);
	base += cnt;
	cnt = n / 5 ? n / 5 : 1;
	sub(s, C_POLICE, 1, "city/police/#", base, base + cnt);
	base += cnt;
	cnt = 20 * n;
	sub(s, C_FLEET, 0, "city/fleet/+/pos", base, base + cnt);
	base += cnt;
	cnt = 50 * n;
	sub(s, C_HOME, 1, "city/home/+/status", base, base + cnt);

	cnt = 20 * n;
	for (i = 0; i < cnt; i++)
		pub(s, C_TRAFFIC, 0, xasprintf("city/traffic/z%u/s%u/speed", i % zones, i),
		    "city/traffic/#", 2.0, i, cnt, 1);
	cnt = 10 * n;
	for (i = 0; i < cnt; i++)
		pub(s, C_PARKING, 1, xasprintf("city/parking/lot%u/bay%u", i % n, i / n),
		    "city/parking/#", 0.1, i, cnt, 1);
	cnt = 5 * n;
	for (i = 0; i < cnt; i++)
		pub(s, C_METER, 1, xasprintf("city/meter/m%u/kwh", i), "city/meter/+/kwh",
		    1.0 / 15, i, cnt, 1);
	cnt = n / 5 ? n / 5 : 1;
	for (i = 0; i < cnt; i++) {
		c = pub(s, C_POLICE, 1, xasprintf("city/police/cam%u/event", i), "city/police/#",
			0.8, i, cnt, 1);
		c->burst = 4;
	}
	cnt = 20 * n;
	for (i = 0; i < cnt; i++)
		pub(s, C_FLEET, 0, xasprintf("city/fleet/v%u/pos", i), "city/fleet/+/pos",
		    1.0, i, cnt, 1);
	cnt = 50 * n;
	for (i = 0; i < cnt; i++) {
		c = pub(s, C_HOME, 1, xasprintf("city/home/h%u/status", i),
			"city/home/+/status", 1.0 / 60, i, cnt, 1);
		c->keepalive = 10;
	}
}

int scenario_build(struct scenario *s, const char *name, const struct opts *o)
{
	uint8_t q = o->qos > 0 ? (uint8_t)o->qos : 0;

	memset(s, 0, sizeof(*s));
	s->name = name;
	s->traffic = true;
	if (!strcmp(name, "fanin"))
		build_fanin(s, o, q);
	else if (!strcmp(name, "fanout"))
		build_fanout(s, o, q);
	else if (!strcmp(name, "p2p"))
		build_p2p(s, o, q);
	else if (!strcmp(name, "qos1"))
		build_p2p(s, o, 1);
	else if (!strcmp(name, "qos2"))
		build_p2p(s, o, 2);
	else if (!strcmp(name, "offline"))
		build_offline(s, o, q);
	else if (!strcmp(name, "idle"))
		build_idle(s, o, q);
	else if (!strcmp(name, "city"))
		build_city(s, o);
	else
		return -1;
	if (s->max_payload < PAYLOAD_HDR)
		s->max_payload = PAYLOAD_HDR;
	return 0;
}

void scenario_free(struct scenario *s)
{
	uint32_t i;

	for (i = 0; i < s->ncl; i++) {
		free(s->cl[i].topic);
		free(s->cl[i].key);
		free(s->cl[i].client_id);
	}
	free(s->cl);
	memset(s, 0, sizeof(*s));
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
/* kmqttctl clients: the connections kmqtt.ko runs (KMQTT_CMD_CONN_GET dump). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "kmqttctl.h"
#include "nl.h"

struct list {
	struct kmq_conn_info *c;
	size_t n, cap;
};

static int collect(const struct kmq_conn_info *c, void *arg)
{
	struct list *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct kmq_conn_info *nc = realloc(l->c, cap * sizeof(*nc));

		if (!nc)
			return -ENOMEM;
		l->c = nc;
		l->cap = cap;
	}
	l->c[l->n++] = *c;
	return 0;
}

static int by_client_id(const void *a, const void *b)
{
	const struct kmq_conn_info *x = a, *y = b;

	return strcmp(x->client_id, y->client_id);
}

static const char *level_name(uint8_t level)
{
	return level == 3 ? "3.1" : level == 4 ? "3.1.1" : level == 5 ? "5.0" : "?";
}

static uint64_t since(uint64_t now, uint64_t then)
{
	return now > then ? now - then : 0;
}

static const char *duration(uint64_t ms, char *buf, size_t len)
{
	uint64_t s = ms / 1000;

	if (s < 60)
		snprintf(buf, len, "%" PRIu64 "s", s);
	else if (s < 3600)
		snprintf(buf, len, "%" PRIu64 "m%02" PRIu64 "s", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%" PRIu64 "h%02" PRIu64 "m", s / 3600, s / 60 % 60);
	else
		snprintf(buf, len, "%" PRIu64 "d%02" PRIu64 "h", s / 86400, s / 3600 % 24);
	return buf;
}

static json_object *conn_json(const struct kmq_conn_info *c, uint64_t now)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int64((int64_t)c->id));
	json_object_object_add(o, "client_id", json_object_new_string(c->client_id));
	json_object_object_add(o, "username",
			       c->has_username ? json_object_new_string(c->username) : NULL);
	json_object_object_add(o, "peer", json_object_new_string(c->peer));
	json_object_object_add(o, "protocol", json_object_new_string(level_name(c->level)));
	json_object_object_add(o, "keepalive", json_object_new_int(c->keepalive));
	json_object_object_add(o, "connected_for_ms",
			       json_object_new_int64((int64_t)since(now, c->connected_ms)));
	json_object_object_add(o, "idle_ms", json_object_new_int64((int64_t)since(now, c->last_rx_ms)));
	if (c->tls.present) {
		json_object *t = json_object_new_object();

		json_object_object_add(t, "version", json_object_new_string(c->tls.version));
		json_object_object_add(t, "cipher", json_object_new_string(c->tls.cipher));
		json_object_object_add(o, "tls", t);
	} else {
		json_object_object_add(o, "tls", NULL);
	}
	if (c->tls.present && c->tls.cert_serial[0]) {
		json_object *t = json_object_new_object();

		json_object_object_add(t, "cn", c->tls.cert_cn[0] ?
				       json_object_new_string(c->tls.cert_cn) : NULL);
		json_object_object_add(t, "serial", json_object_new_string(c->tls.cert_serial));
		json_object_object_add(t, "issuer", json_object_new_string(c->tls.cert_issuer));
		json_object_object_add(o, "cert", t);
	} else {
		json_object_object_add(o, "cert", NULL);
	}
	for (int s = 0; s <= KMQTT_CS_MAX; s++) {
		if (c->have_stat[s] && kmq_conn_stat_name(s))
			json_object_object_add(o, kmq_conn_stat_name(s),
					       json_object_new_int64((int64_t)c->stats[s]));
	}
	return o;
}

static void print_table(const struct list *l, uint64_t now)
{
	char id[300], user[300], d1[32], d2[32];
	int wid = 9, wuser = 4, wpeer = 4;

	for (size_t i = 0; i < l->n; i++) {
		int a = (int)strlen(term_safe(l->c[i].client_id, id, sizeof(id)));
		int b = (int)strlen(term_safe(l->c[i].username, user, sizeof(user)));
		int p = (int)strlen(l->c[i].peer);

		wid = a > wid ? (a > 40 ? 40 : a) : wid;
		wuser = b > wuser ? (b > 24 ? 24 : b) : wuser;
		wpeer = p > wpeer ? p : wpeer;
	}
	printf("%-*s  %-*s  %-*s  %-5s  %-7s  %5s  %9s  %7s  %10s  %10s  %5s  %6s\n", wid,
	       "CLIENT ID", wuser, "USER", wpeer, "PEER", "MQTT", "TLS", "KA", "CONNECTED", "IDLE",
	       "MSGS IN", "MSGS OUT", "SUBS", "QUEUE");
	for (size_t i = 0; i < l->n; i++) {
		const struct kmq_conn_info *c = &l->c[i];

		printf("%-*s  %-*s  %-*s  %-5s  %-7s  %5u  %9s  %7s  %10" PRIu64 "  %10" PRIu64
		       "  %5" PRIu64 "  %6" PRIu64 "\n",
		       wid, term_safe(c->client_id, id, sizeof(id)), wuser,
		       c->has_username ? term_safe(c->username, user, sizeof(user)) : "-", wpeer,
		       c->peer, level_name(c->level), c->tls.present ? c->tls.version : "-",
		       c->keepalive,
		       duration(since(now, c->connected_ms), d1, sizeof(d1)),
		       duration(since(now, c->last_rx_ms), d2, sizeof(d2)),
		       c->stats[KMQTT_CS_MSGS_IN], c->stats[KMQTT_CS_MSGS_OUT],
		       c->stats[KMQTT_CS_SUBSCRIPTIONS],
		       c->stats[KMQTT_CS_TX_QUEUED] + c->stats[KMQTT_CS_INFLIGHT]);
	}
	printf("%zu client%s\n", l->n, l->n == 1 ? "" : "s");
}

int cmd_clients(const struct ctl_opts *o, int argc, char **argv)
{
	struct list l = { 0 };
	struct kmq_status st;
	struct kmq_nl nl;
	int err;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "kmqttctl: clients takes no arguments\n");
		return EXIT_USAGE;
	}
	err = kmq_nl_open(&nl);
	if (!err) {
		err = kmq_nl_status(&nl, &st);
		if (!err)
			err = kmq_nl_conn_dump(&nl, collect, &l);
		kmq_nl_close(&nl);
	}
	if (err) {
		free(l.c);
		if (o->json) {
			json_object *e = json_object_new_object();

			json_object_object_add(e, "error", json_object_new_string(nl_errstr(err)));
			printf("%s\n", json_object_to_json_string_ext(e, JSON_C_TO_STRING_PRETTY |
								     JSON_C_TO_STRING_SPACED));
			json_object_put(e);
		} else {
			fprintf(stderr, "kmqttctl: %s\n", nl_errstr(err));
		}
		return nl_exit(err);
	}
	if (l.n)
		qsort(l.c, l.n, sizeof(*l.c), by_client_id);
	if (o->json) {
		json_object *root = json_object_new_object();
		json_object *a = json_object_new_array();

		for (size_t i = 0; i < l.n; i++)
			json_object_array_add(a, conn_json(&l.c[i], st.uptime_ms));
		json_object_object_add(root, "clients", a);
		json_object_object_add(root, "count", json_object_new_int64((int64_t)l.n));
		printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
							      JSON_C_TO_STRING_SPACED));
		json_object_put(root);
	} else {
		print_table(&l, st.uptime_ms);
	}
	free(l.c);
	return EXIT_OK;
}

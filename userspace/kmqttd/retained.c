// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Retained messages: the module hands every retained PUBLISH over (KMQTT_CMD_RETAIN); the
 * daemon keeps the last one per topic in memory, in the core's topic store (the same
 * matcher as the module's trie, '$' rules included), persists it through the store when
 * persistence is on, and only then confirms it to the module (KMQTT_CMD_RETAIN_STORED),
 * which sends the publisher's PUBACK. A subscription granted by the module
 * (KMQTT_CMD_SUBSCRIBED) is answered with the matching retained messages
 * (KMQTT_CMD_DELIVER) at the smaller of the message's and the subscription's QoS.
 *
 * Confirmations wait for the store's commit; their cookie carries the registration they
 * belong to, so that a confirmation that completes after the module was reloaded (whose
 * punt ids start again) is dropped, never applied to another message.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <time.h>
#include <json-c/json.h>
#include "kmqttd.h"
#include "log.h"
#include "store.h"
#include "topic.h"

/* One retained message: the topic store's payload pointer. */
struct rmsg {
	uint8_t qos;
	uint32_t len;
	int64_t stored_at;
	uint8_t payload[];
};

struct retained {
	struct topic_store ts;
	uint64_t bytes;
};

/* The topic limits of the module (kmod/broker.c), without shared subscriptions. */
static const struct topic_limits rlim = {
	.max_topic_len = KMQTT_MAX_TOPIC,
	.max_levels = TOPIC_DEFAULT_MAX_LEVELS,
};

static void rmsg_free(void *p)
{
	free(p);
}

static int rset(struct kmqttd *d, const char *topic, uint16_t tlen, const uint8_t *payload,
		uint32_t plen, uint8_t qos, int64_t stored_at)
{
	struct retained *r = d->retained;
	struct rmsg *m, *old = NULL;
	int ret;

	if (!plen) {
		if (topic_store_del(&r->ts, topic, tlen, (void **)&old) == 0) {
			r->bytes -= old->len;
			free(old);
			d->stats[DS_RETAINED_DELETED]++;
		}
		return 0;
	}
	m = malloc(sizeof(*m) + plen);
	if (!m)
		return -ENOMEM;
	m->qos = qos;
	m->len = plen;
	m->stored_at = stored_at;
	memcpy(m->payload, payload, plen);
	ret = topic_store_set(&r->ts, topic, tlen, m, (void **)&old);
	if (ret < 0) {
		free(m);
		return ret == TOPIC_E_NOMEM ? -ENOMEM : -EINVAL;
	}
	if (old) {
		r->bytes -= old->len;
		free(old);
	}
	r->bytes += plen;
	d->stats[ret == 1 ? DS_RETAINED_REPLACED : DS_RETAINED_SET]++;
	return 0;
}

static int load_one(void *ctx, const struct kmq_retained_rec *rec)
{
	struct kmqttd *d = ctx;

	return rset(d, rec->topic, rec->topic_len, rec->payload, rec->payload_len, rec->qos,
		    rec->stored_at) ? -1 : 0;
}

int retained_init(struct kmqttd *d, char *err, size_t errlen)
{
	struct kmq_store_opts o = { .key_file = d->conf.persistence_key_file,
				    .set_aside_damaged = d->conf.persistence_set_aside };
	enum kmq_store_open_result res;
	const char *loc = d->conf.persistence_location;
	size_t l = strlen(loc);
	char *path;
	int ret;

	d->retained = calloc(1, sizeof(*d->retained));
	if (!d->retained) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	topic_store_init(&d->retained->ts, &rlim, 0);
	d->store_ev = (struct ev){ .kind = EV_STORE, .fd = -1 };
	if (!d->conf.persistence) {
		if (d->conf.persistence_key_file)
			log_warn("persistence_key_file is set but persistence is false: nothing is stored");
		return 0;
	}
	/* The directory is created if missing (its parent must exist), private to us. */
	if (mkdir(loc, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "persistence_location %s: %s", loc, strerror(errno));
		return -1;
	}
	if (asprintf(&path, "%s%s%s", loc, l && loc[l - 1] == '/' ? "" : "/",
		     d->conf.persistence_file) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	o.path = path;
	session_store_opts(d, &o);
	ret = kmq_store_open(&o, load_one, d, &d->store, &res, err, errlen);
	if (ret) {
		free(path);
		return -1;
	}
	log_info("persistence file %s %s%s: %llu retained messages, %u persistent sessions", path,
		 res == KMQ_STORE_CREATED ? "created" : res == KMQ_STORE_SET_ASIDE ?
		 "created anew (the damaged one was set aside)" : "opened",
		 o.key_file ? ", payloads encrypted" : "",
		 (unsigned long long)d->retained->ts.entries, session_count(d));
	free(path);
	return 0;
}

/* After epoll exists: watch the store's completions. */
int retained_start(struct kmqttd *d)
{
	if (!d->store)
		return 0;
	d->store_ev.fd = kmq_store_fd(d->store);
	return kmqttd_epoll_add(d, &d->store_ev, EPOLLIN) < 0 ? -errno : 0;
}

void retained_free(struct kmqttd *d)
{
	if (d->store) {
		kmq_store_close(d->store);
		d->store = NULL;
	}
	if (d->retained) {
		topic_store_destroy(&d->retained->ts, rmsg_free);
		free(d->retained);
		d->retained = NULL;
	}
}

static void confirm(struct kmqttd *d, uint32_t punt_id)
{
	int ret;

	if (d->link != MODULE_REGISTERED)
		return;
	ret = kmq_nl_retain_stored(&d->nl, punt_id);
	if (ret)
		log_warn("confirming a retained message to kmqtt.ko failed: %s", strerror(-ret));
	else
		d->stats[DS_RETAINED_CONFIRMED]++;
}

static void on_stored(void *ctx, uint64_t c, int err)
{
	struct kmqttd *d = ctx;

	if (c >> 62 != SC_RETAINED) {
		session_on_stored(d, c, err);
		return;
	}
	if (err) {
		/* Not durable: no confirmation, so no PUBACK; the module counts it pending. */
		d->stats[DS_RETAINED_STORE_ERRORS]++;
		log_limited(d, RL_STORE, KMQ_LOG_ERR, "a retained message could not be stored: %s",
			    strerror(-err));
		return;
	}
	if (store_cookie_current(d, c))
		confirm(d, (uint32_t)c);
}

void retained_on_store_event(struct kmqttd *d)
{
	kmq_store_reap(d->store, on_stored, d);
}

void retained_on_publish(struct kmqttd *d, const struct kmq_event *ev)
{
	struct kmq_retained_rec rec = {
		.topic = ev->topic, .topic_len = ev->topic_len, .payload = ev->payload,
		.payload_len = ev->payload_len, .qos = ev->qos, .stored_at = (int64_t)time(NULL),
	};
	char t[96];
	int ret;

	ret = rset(d, ev->topic, ev->topic_len, ev->payload, ev->payload_len, ev->qos,
		   rec.stored_at);
	if (!ret && d->store)
		ret = kmq_store_retained_put(d->store, &rec,
					     store_cookie(d, SC_RETAINED, ev->punt_id));
	if (ret) {
		/* Unconfirmed: the module keeps it pending, the publisher gets no PUBACK. */
		d->stats[DS_RETAINED_STORE_ERRORS]++;
		log_limited(d, RL_STORE, KMQ_LOG_ERR, "retained message of '%s' not kept: %s",
			    printable(ev->topic, ev->topic_len, t, sizeof(t)), strerror(-ret));
		return;
	}
	if (!d->store)
		confirm(d, ev->punt_id);
}

struct deliver_ctx {
	struct kmqttd *d;
	uint64_t conn_id;
	uint8_t qos;
};

static int deliver_one(void *ctx, const char *name, uint16_t len, void *payload,
		       struct topic_node *node)
{
	struct deliver_ctx *c = ctx;
	struct rmsg *m = payload;
	struct kmq_deliver dm = {
		.conn_id = c->conn_id, .topic = name, .topic_len = len, .payload = m->payload,
		.payload_len = m->len, .qos = m->qos < c->qos ? m->qos : c->qos,
		.flags = KMQTT_MSG_F_RETAIN,
	};
	int ret;

	(void)node;
	ret = kmq_nl_deliver(&c->d->nl, &dm, false);
	if (ret) {
		log_limited(c->d, RL_STORE, KMQ_LOG_WARNING,
			    "sending a retained message to kmqtt.ko failed: %s", strerror(-ret));
		return ret;
	}
	c->d->stats[DS_RETAINED_SENT]++;
	return 0;
}

void retained_on_subscribe(struct kmqttd *d, const struct kmq_event *ev)
{
	struct deliver_ctx c = { .d = d, .conn_id = ev->conn_id, .qos = ev->qos };
	const char *group, *filter;
	uint16_t glen, flen;
	char buf[KMQTT_MAX_TOPIC + 1];

	if (!d->retained->ts.entries || d->link != MODULE_REGISTERED)
		return;
	/* Shared subscriptions get no retained messages (MQTT 5.0 §4.8.2). */
	if (topic_share_split(ev->topic, ev->topic_len, &group, &glen, &filter, &flen))
		return;
	topic_store_match(&d->retained->ts, ev->topic, ev->topic_len, buf, sizeof(buf),
			  deliver_one, &c);
}

#define RETAINED_LIST_MAX 10000

struct list_ctx {
	json_object *a;
	unsigned int n;
};

static int list_one(void *ctx, const char *name, uint16_t len, void *payload,
		    struct topic_node *node)
{
	struct list_ctx *l = ctx;
	struct rmsg *m = payload;
	json_object *o;

	(void)node;
	if (l->n == RETAINED_LIST_MAX)
		return -1;
	o = json_object_new_object();
	json_object_object_add(o, "topic", json_object_new_string_len(name, len));
	json_object_object_add(o, "qos", json_object_new_int(m->qos));
	json_object_object_add(o, "size", json_object_new_int64(m->len));
	json_object_object_add(o, "stored_at", json_object_new_int64(m->stored_at));
	json_object_array_add(l->a, o);
	l->n++;
	return 0;
}

/* kmqttctl retained [FILTER]: {"daemon": {"retained": [...], "count": N, ...}} */
json_object *retained_json(struct kmqttd *d, const char *filter)
{
	struct list_ctx l = { .a = json_object_new_array() };
	json_object *o = json_object_new_object(), *dm = json_object_new_object();
	char buf[KMQTT_MAX_TOPIC + 1];
	size_t flen = strlen(filter);
	int ret = 0;

	if (flen > KMQTT_MAX_TOPIC ||
	    topic_filter_valid(filter, (uint16_t)flen, &rlim) != TOPIC_OK) {
		json_object_put(l.a);
		json_object_put(dm);
		json_object_object_add(o, "error", json_object_new_string("invalid topic filter"));
		return o;
	}
	ret = topic_store_match(&d->retained->ts, filter, (uint16_t)flen, buf, sizeof(buf),
				list_one, &l);
	json_object_object_add(dm, "filter", json_object_new_string(filter));
	json_object_object_add(dm, "persistence", json_object_new_boolean(d->store != NULL));
	json_object_object_add(dm, "total", json_object_new_int64((int64_t)d->retained->ts.entries));
	json_object_object_add(dm, "total_bytes", json_object_new_int64((int64_t)d->retained->bytes));
	json_object_object_add(dm, "count", json_object_new_int((int)l.n));
	json_object_object_add(dm, "truncated", json_object_new_boolean(ret == -1));
	json_object_object_add(dm, "retained", l.a);
	json_object_object_add(o, "daemon", dm);
	return o;
}

/* The store's figures for kmqttctl status. */
json_object *retained_store_json(struct kmqttd *d)
{
	struct kmq_store_stats st;
	json_object *o;

	if (!d->store)
		return NULL;
	kmq_store_get_stats(d->store, &st);
	o = json_object_new_object();
	json_object_object_add(o, "encrypted", json_object_new_boolean(st.encrypted));
	json_object_object_add(o, "writes", json_object_new_int64((int64_t)st.writes));
	json_object_object_add(o, "transactions", json_object_new_int64((int64_t)st.batches));
	json_object_object_add(o, "max_batch", json_object_new_int64((int64_t)st.max_batch));
	json_object_object_add(o, "errors", json_object_new_int64((int64_t)st.errors));
	json_object_object_add(o, "queued", json_object_new_int64((int64_t)st.queued));
	return o;
}

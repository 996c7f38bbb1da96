// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Unit tests of kmod/core/topic.c: validation, the subscription trie, shared groups, the
 * collector, the topic-name store, pruning and memory accounting.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "topic.h"
#include "../../kmod/tests/topic_vectors.h"

#define MAX_HITS 4096

/* Distinct subscriber identities. */
static char subscribers[65536];
#define SUB(i) ((void *)&subscribers[(i)])

struct hits {
	int n;
	void *sub[MAX_HITS];
	struct topic_sub_opts opts[MAX_HITS];
	const char *group[MAX_HITS];
	u16 group_len[MAX_HITS];
	struct topic_node *node[MAX_HITS];
};

static int record(void *ctx, const struct topic_match *m)
{
	struct hits *h = ctx;

	if (h->n == MAX_HITS)
		return -1000;
	h->sub[h->n] = m->subscriber;
	h->opts[h->n] = *m->opts;
	h->group[h->n] = m->group;
	h->group_len[h->n] = m->group_len;
	h->node[h->n] = m->node;
	h->n++;
	return 0;
}

static int count_sub(const struct hits *h, void *sub)
{
	int i, n = 0;

	for (i = 0; i < h->n; i++)
		n += h->sub[i] == sub;
	return n;
}

static const struct topic_sub_opts qos0 = { .qos = 0 };
static const struct topic_sub_opts qos1 = { .qos = 1 };
static const struct topic_sub_opts qos2 = { .qos = 2 };

static struct topic_limits deflim(void)
{
	struct topic_limits lim = TOPIC_LIMITS_DEFAULT;

	return lim;
}

static void trie_new(struct topic_trie *t)
{
	struct topic_limits lim = deflim();

	topic_trie_init(t, &lim, 0);
}

static int sub(struct topic_trie *t, const char *f, int who, const struct topic_sub_opts *o)
{
	return topic_subscribe(t, f, strlen(f), SUB(who), o);
}

static int unsub(struct topic_trie *t, const char *f, int who)
{
	return topic_unsubscribe(t, f, strlen(f), SUB(who));
}

static int match(struct topic_trie *t, const char *topic, struct hits *h)
{
	h->n = 0;
	return topic_match(t, topic, strlen(topic), NULL, 0, record, h);
}

static void assert_empty(struct topic_trie *t)
{
	assert_int_equal(t->tree.nodes, 0);
	assert_int_equal(t->tree.bytes, 0);
	assert_int_equal(t->tree.tables, 0);
	assert_int_equal(t->subs, 0);
	assert_int_equal(t->shared_groups, 0);
	assert_null(t->tree.root);
}

/* ---- validation ---- */

static void test_validation_vectors_spec_examples(void **state)
{
	struct topic_limits lim = deflim();
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(topic_valid_vectors); i++) {
		const struct topic_valid_vector *v = &topic_valid_vectors[i];
		int n = topic_name_valid(v->s, v->len, &lim);
		int f = topic_filter_valid(v->s, v->len, &lim);

		if (n != v->name_err || f != v->filter_err)
			fail_msg("vector %zu (%s): name %s (want %s), filter %s (want %s)", i,
				 v->why, topic_err_name(n), topic_err_name(v->name_err),
				 topic_err_name(f), topic_err_name(v->filter_err));
	}
}

static void test_utf8_errors_distinct_and_named(void **state)
{
	const char *seen[-TOPIC_E__MIN + 1];
	int e, k;

	(void)state;
	assert_int_equal(mqtt_utf8_valid("", 0), 0);
	assert_int_equal(mqtt_utf8_valid("\0", 1), TOPIC_E_NUL);
	assert_int_equal(mqtt_utf8_valid("\xed\xa0\x80", 3), TOPIC_E_UTF8_SURROGATE);
	assert_int_equal(mqtt_utf8_valid("\xc0\xaf", 2), TOPIC_E_UTF8_OVERLONG);
	assert_int_equal(mqtt_utf8_valid("\xf4\x90\x80\x80", 4), TOPIC_E_UTF8_RANGE);
	assert_int_equal(mqtt_utf8_valid("\xf0\x9f\x98", 3), TOPIC_E_UTF8_TRUNCATED);
	assert_int_equal(mqtt_utf8_valid("\xbf", 1), TOPIC_E_UTF8_BAD_BYTE);
	/* The length bounds the scan: a NUL past it is not seen. */
	assert_int_equal(mqtt_utf8_valid("ab\0", 2), 0);
	for (e = 0; e >= TOPIC_E__MIN; e--) {
		seen[-e] = topic_err_name(e);
		assert_non_null(seen[-e]);
		assert_string_not_equal(seen[-e], "unknown");
		for (k = 0; k > e; k--)
			assert_string_not_equal(seen[-k], seen[-e]);
	}
	for (e = 0; e >= TOPIC_E__MIN; e--)
		assert_int_equal(topic_err_is_utf8(e),
				 e <= TOPIC_E_NUL && e >= TOPIC_E_UTF8_BAD_BYTE);
	assert_string_equal(topic_err_name(TOPIC_E__MIN - 1), "unknown");
	assert_string_equal(topic_err_name(1), "unknown");
}

static void test_limits_topic_length(void **state)
{
	struct topic_limits lim = { .max_topic_len = 8, .max_levels = 32 };

	(void)state;
	assert_int_equal(topic_name_valid("abcdefgh", 8, &lim), 0);
	assert_int_equal(topic_name_valid("abcdefghi", 9, &lim), TOPIC_E_TOO_LONG);
	assert_int_equal(topic_filter_valid("abcdef/#", 8, &lim), 0);
	assert_int_equal(topic_filter_valid("abcdefg/#", 9, &lim), TOPIC_E_TOO_LONG);
}

static void test_limits_level_count(void **state)
{
	struct topic_limits lim = { .max_topic_len = 100, .max_levels = 3 };
	struct topic_trie t;

	(void)state;
	assert_int_equal(topic_name_valid("a/b/c", 5, &lim), 0);
	assert_int_equal(topic_name_valid("a/b/c/d", 7, &lim), TOPIC_E_TOO_DEEP);
	assert_int_equal(topic_name_valid("//", 2, &lim), 0);
	assert_int_equal(topic_name_valid("///", 3, &lim), TOPIC_E_TOO_DEEP);
	assert_int_equal(topic_filter_valid("+/+/#", 5, &lim), 0);
	assert_int_equal(topic_filter_valid("+/+/+/#", 7, &lim), TOPIC_E_TOO_DEEP);
	/* The trie enforces its limits on filters. */
	topic_trie_init(&t, &lim, 0);
	assert_int_equal(topic_subscribe(&t, "a/b/c/d", 7, SUB(1), &qos0), TOPIC_E_TOO_DEEP);
	assert_int_equal(topic_subscribe(&t, "a/b/c", 5, SUB(1), &qos0), 0);
	topic_trie_destroy(&t);
	assert_empty(&t);
}

static void test_share_syntax_only_with_shared_flag(void **state)
{
	struct topic_limits lim = { .max_topic_len = 100, .max_levels = 8 };
	struct topic_trie t;
	struct hits h;

	(void)state;
	/* Without TOPIC_LIM_SHARED, "$share/..." is an ordinary filter. */
	assert_int_equal(topic_filter_valid("$share//a", 9, &lim), 0);
	assert_int_equal(topic_filter_valid("$share/g", 8, &lim), 0);
	topic_trie_init(&t, &lim, 0);
	assert_int_equal(sub(&t, "$share/g/a", 1, &qos0), 0);
	assert_int_equal(sub(&t, "$share/g/a", 2, &qos0), 0);
	assert_int_equal(match(&t, "$share/g/a", &h), 2);
	assert_int_equal(match(&t, "a", &h), 0);
	topic_trie_destroy(&t);

	lim.flags = TOPIC_LIM_SHARED;
	assert_int_equal(topic_filter_valid("$share//a", 9, &lim), TOPIC_E_BAD_SHARE);
}

/* ---- matching ---- */

static void test_match_vectors_trie(void **state)
{
	const size_t nv = ARRAY_SIZE(topic_match_vectors);
	struct topic_trie t;
	struct hits h;
	size_t i, j;

	(void)state;
	trie_new(&t);
	for (i = 0; i < nv; i++)
		assert_int_equal(sub(&t, topic_match_vectors[i].filter, i, &qos1), 0);
	for (i = 0; i < nv; i++) {
		const struct topic_match_vector *v = &topic_match_vectors[i];
		int got;

		assert_true(match(&t, v->topic, &h) >= 0);
		got = count_sub(&h, SUB(i));
		if (got != (int)v->match)
			fail_msg("vector %zu (%s): filter '%s' topic '%s': got %d want %d", i,
				 v->why, v->filter, v->topic, got, v->match);
		/* Vectors with the same filter and topic must agree with this one. */
		for (j = 0; j < nv; j++)
			if (!strcmp(topic_match_vectors[j].filter, v->filter) &&
			    count_sub(&h, SUB(j)) != got)
				fail_msg("vector %zu and %zu disagree", i, j);
	}
	for (i = 0; i < nv; i++)
		assert_int_equal(unsub(&t, topic_match_vectors[i].filter, i), 0);
	assert_empty(&t);
	topic_trie_destroy(&t);
}

struct names {
	int n;
	char name[64][128];
};

static int record_name(void *ctx, const char *name, u16 len, void *payload,
		       struct topic_node *node)
{
	struct names *r = ctx;

	(void)node;
	assert_true(len < sizeof(r->name[0]));
	assert_true(r->n < 64);
	assert_int_equal(len, strlen(payload));
	assert_memory_equal(name, payload, len);
	memcpy(r->name[r->n], name, len);
	r->name[r->n][len] = 0;
	r->n++;
	return 0;
}

static int has_name(const struct names *r, const char *s)
{
	int i, n = 0;

	for (i = 0; i < r->n; i++)
		n += !strcmp(r->name[i], s);
	return n;
}

/* The same vectors, the other way round: one filter against many stored names. */
static void test_match_vectors_store(void **state)
{
	const size_t nv = ARRAY_SIZE(topic_match_vectors);
	struct topic_limits lim = deflim();
	struct topic_store s;
	char buf[TOPIC_DEFAULT_MAX_LEN];
	struct names r;
	size_t i;
	int ret;

	(void)state;
	topic_store_init(&s, &lim, 0);
	for (i = 0; i < nv; i++) {
		const char *name = topic_match_vectors[i].topic;

		ret = topic_store_set(&s, name, strlen(name), (void *)name, NULL);
		assert_true(ret == 0 || ret == 1);
	}
	for (i = 0; i < nv; i++) {
		const struct topic_match_vector *v = &topic_match_vectors[i];

		r.n = 0;
		ret = topic_store_match(&s, v->filter, strlen(v->filter), buf, sizeof(buf),
					record_name, &r);
		assert_int_equal(ret, r.n);
		if (has_name(&r, v->topic) != (int)v->match)
			fail_msg("vector %zu (%s): filter '%s' name '%s': got %d want %d", i,
				 v->why, v->filter, v->topic, has_name(&r, v->topic), v->match);
	}
	for (i = 0; i < nv; i++) {
		const char *name = topic_match_vectors[i].topic;

		ret = topic_store_del(&s, name, strlen(name), NULL);
		assert_true(ret == 0 || ret == TOPIC_E_NOT_FOUND);
	}
	assert_int_equal(s.entries, 0);
	assert_int_equal(s.tree.nodes, 0);
	assert_int_equal(s.tree.bytes, 0);
	topic_store_destroy(&s, NULL);
}

static void test_overlap_callback_reports_each_subscription(void **state)
{
	struct topic_sub_opts a = { .qos = 0, .sub_id = 7 }, b = { .qos = 2, .sub_id = 9 };
	struct topic_trie t;
	struct hits h;

	(void)state;
	trie_new(&t);
	assert_int_equal(sub(&t, "city/+/traffic/#", 1, &a), 0);
	assert_int_equal(sub(&t, "city/north/traffic/jam", 1, &b), 0);
	assert_int_equal(sub(&t, "city/#", 2, &qos1), 0);
	assert_int_equal(match(&t, "city/north/traffic/jam", &h), 3);
	assert_int_equal(count_sub(&h, SUB(1)), 2);
	assert_int_equal(count_sub(&h, SUB(2)), 1);
	assert_int_equal(match(&t, "city/south/traffic/jam", &h), 2);
	topic_trie_destroy(&t);
	assert_empty(&t);
}

struct collector_mem {
	struct topic_delivery dlv[8];
	u32 index[16];
	struct topic_id_link ids[8];
	struct topic_collector c;
};

static void collector_new(struct collector_mem *m, u32 dlv_cap, u32 ids_cap)
{
	assert_int_equal(topic_collector_init(&m->c, m->dlv, dlv_cap, m->index, 16, m->ids,
					      ids_cap), 0);
}

static const struct topic_delivery *delivery_of(const struct topic_collector *c, void *who)
{
	u32 i;

	for (i = 0; i < c->ndlv; i++)
		if (c->dlv[i].subscriber == who)
			return &c->dlv[i];
	return NULL;
}

/* MQTT 3.1.1 §3.3.5 [MQTT-3.3.5-1]: one delivery at the highest QoS of the overlaps. */
static void test_overlap_collect_once_at_max_qos(void **state)
{
	struct collector_mem m;
	const struct topic_delivery *d;
	struct topic_trie t;

	(void)state;
	trie_new(&t);
	collector_new(&m, 8, 8);
	assert_int_equal(sub(&t, "a/#", 1, &qos0), 0);
	assert_int_equal(sub(&t, "a/+", 1, &qos2), 0);
	assert_int_equal(sub(&t, "a/b", 1, &qos1), 0);
	assert_int_equal(sub(&t, "a/b", 2, &qos0), 0);
	assert_int_equal(topic_collect(&t, "a/b", 3, NULL, 0, &m.c), 2);
	d = delivery_of(&m.c, SUB(1));
	assert_non_null(d);
	assert_int_equal(d->qos, 2);
	assert_int_equal(d->nsubs, 3);
	assert_int_equal(d->nids, 0);
	assert_int_equal(d->first_id, TOPIC_ID_END);
	d = delivery_of(&m.c, SUB(2));
	assert_non_null(d);
	assert_int_equal(d->qos, 0);
	assert_int_equal(d->nsubs, 1);
	/* Reusable: a second collect starts from scratch. */
	assert_int_equal(topic_collect(&t, "a/c", 3, NULL, 0, &m.c), 1);
	assert_int_equal(delivery_of(&m.c, SUB(1))->qos, 2);
	assert_int_equal(delivery_of(&m.c, SUB(1))->nsubs, 2);
	topic_trie_destroy(&t);
}

/* MQTT 5.0 §3.3.4 [MQTT-3.3.4-4]: one copy carries every matching subscription id. */
static void test_overlap_collect_all_subscription_ids(void **state)
{
	struct topic_sub_opts o1 = { .qos = 1, .sub_id = 11 };
	struct topic_sub_opts o2 = { .qos = 0, .sub_id = 22, .flags = TOPIC_SUB_RAP };
	struct topic_sub_opts o3 = { .qos = 0, .sub_id = 0 };
	struct topic_sub_opts o4 = { .qos = 2, .sub_id = 268435455 };
	const struct topic_delivery *d;
	struct collector_mem m;
	struct topic_trie t;
	u32 i, seen = 0, n = 0;

	(void)state;
	trie_new(&t);
	collector_new(&m, 8, 8);
	assert_int_equal(sub(&t, "m/+/kwh", 1, &o1), 0);
	assert_int_equal(sub(&t, "m/#", 1, &o2), 0);
	assert_int_equal(sub(&t, "+/7/kwh", 1, &o3), 0);
	assert_int_equal(sub(&t, "m/7/kwh", 2, &o4), 0);
	assert_int_equal(topic_collect(&t, "m/7/kwh", 7, NULL, 0, &m.c), 2);
	d = delivery_of(&m.c, SUB(1));
	assert_int_equal(d->qos, 1);
	assert_int_equal(d->nsubs, 3);
	assert_int_equal(d->nids, 2);
	assert_int_equal(d->flags, TOPIC_SUB_RAP);
	for (i = d->first_id; i != TOPIC_ID_END; i = m.c.ids[i].next, n++)
		seen |= m.c.ids[i].id == 11 ? 1 : m.c.ids[i].id == 22 ? 2 : 4;
	assert_int_equal(n, 2);
	assert_int_equal(seen, 3);
	d = delivery_of(&m.c, SUB(2));
	assert_int_equal(d->nids, 1);
	assert_int_equal(m.c.ids[d->first_id].id, 268435455);
	topic_trie_destroy(&t);
}

static void test_collector_full_counts_dropped(void **state)
{
	struct topic_sub_opts o = { .qos = 1, .sub_id = 5 };
	struct collector_mem m;
	struct topic_trie t;
	int i;

	(void)state;
	trie_new(&t);
	for (i = 0; i < 5; i++)
		assert_int_equal(sub(&t, "x", i, &o), 0);
	collector_new(&m, 3, 2);
	assert_int_equal(topic_collect(&t, "x", 1, NULL, 0, &m.c), TOPIC_E_FULL);
	assert_int_equal(m.c.ndlv, 3);
	assert_int_equal(m.c.nids, 2);
	assert_int_equal(m.c.dropped, 2 + 1);
	/* Bad geometry is refused. */
	assert_int_equal(topic_collector_init(&m.c, m.dlv, 8, m.index, 8, m.ids, 8),
			 TOPIC_E_INVAL);
	assert_int_equal(topic_collector_init(&m.c, m.dlv, 8, m.index, 12, m.ids, 8),
			 TOPIC_E_INVAL);
	topic_trie_destroy(&t);
}

/* MQTT 5.0 [MQTT-3.8.3-3]: no-local subscriptions do not get their own messages. */
static void test_no_local_skips_publisher_only(void **state)
{
	struct topic_sub_opts nl = { .qos = 1, .flags = TOPIC_SUB_NO_LOCAL };
	struct topic_trie t;
	struct hits h;

	(void)state;
	trie_new(&t);
	assert_int_equal(sub(&t, "chat/#", 1, &nl), 0);
	assert_int_equal(sub(&t, "chat/room", 1, &qos0), 0);
	assert_int_equal(sub(&t, "chat/#", 2, &nl), 0);
	h.n = 0;
	assert_int_equal(topic_match(&t, "chat/room", 9, SUB(1), 0, record, &h), 2);
	assert_int_equal(count_sub(&h, SUB(1)), 1);
	assert_int_equal(h.opts[h.sub[0] == SUB(1) ? 0 : 1].flags & TOPIC_SUB_NO_LOCAL, 0);
	assert_int_equal(count_sub(&h, SUB(2)), 1);
	/* Anyone else publishing reaches all three. */
	assert_int_equal(topic_match(&t, "chat/room", 9, SUB(3), 0, record, &h), 3);
	topic_trie_destroy(&t);
}

static void test_resubscribe_replaces_options(void **state)
{
	struct topic_sub_opts o = { .qos = 2, .sub_id = 3, .flags = TOPIC_SUB_RAP,
				    .retain_handling = 2 };
	struct topic_trie t;
	struct hits h;
	size_t bytes;

	(void)state;
	trie_new(&t);
	assert_int_equal(sub(&t, "a/+", 1, &qos0), 0);
	bytes = t.tree.bytes;
	assert_int_equal(sub(&t, "a/+", 1, &o), 1);
	assert_int_equal(t.subs, 1);
	assert_int_equal(t.tree.bytes, bytes);
	assert_int_equal(match(&t, "a/b", &h), 1);
	assert_int_equal(h.opts[0].qos, 2);
	assert_int_equal(h.opts[0].sub_id, 3);
	assert_int_equal(h.opts[0].flags, TOPIC_SUB_RAP);
	assert_int_equal(h.opts[0].retain_handling, 2);
	/* Same for a member of a table of subscribers. */
	assert_int_equal(sub(&t, "a/+", 2, &qos0), 0);
	assert_int_equal(sub(&t, "a/+", 3, &qos0), 0);
	assert_int_equal(sub(&t, "a/+", 2, &qos1), 1);
	assert_int_equal(match(&t, "a/b", &h), 3);
	assert_int_equal(h.opts[h.sub[0] == SUB(2) ? 0 : h.sub[1] == SUB(2) ? 1 : 2].qos, 1);
	assert_int_equal(t.subs, 3);
	topic_trie_destroy(&t);
	assert_empty(&t);
}

static void test_invalid_options_rejected(void **state)
{
	struct topic_sub_opts q3 = { .qos = 3 }, rh3 = { .retain_handling = 3 };
	struct topic_sub_opts id = { .sub_id = 268435456 }, fl = { .flags = 0x80 };
	struct topic_sub_opts nl = { .flags = TOPIC_SUB_NO_LOCAL };
	struct topic_trie t;

	(void)state;
	trie_new(&t);
	assert_int_equal(sub(&t, "a", 1, &q3), TOPIC_E_INVAL);
	assert_int_equal(sub(&t, "a", 1, &rh3), TOPIC_E_INVAL);
	assert_int_equal(sub(&t, "a", 1, &id), TOPIC_E_INVAL);
	assert_int_equal(sub(&t, "a", 1, &fl), TOPIC_E_INVAL);
	/* [MQTT-3.8.3-4] No Local on a shared subscription is a protocol error. */
	assert_int_equal(sub(&t, "$share/g/a", 1, &nl), TOPIC_E_INVAL);
	assert_int_equal(sub(&t, "a#", 1, &qos0), TOPIC_E_BAD_HASH);
	assert_int_equal(topic_unsubscribe(&t, "a/+x", 4, SUB(1)), TOPIC_E_BAD_PLUS);
	assert_empty(&t);
	topic_trie_destroy(&t);
}

/* MQTT 5.0 §4.8.2: one member per (group, filter), round-robin; others get every copy. */
static void test_shared_group_round_robin(void **state)
{
	struct topic_trie t;
	int per[8] = { 0 };
	struct hits h;
	int i, k;

	(void)state;
	trie_new(&t);
	for (i = 1; i <= 3; i++)
		assert_int_equal(sub(&t, "$share/workers/jobs/+", i, &qos1), 0);
	assert_int_equal(sub(&t, "$share/audit/jobs/#", 4, &qos0), 0);
	assert_int_equal(sub(&t, "jobs/+", 5, &qos0), 0);
	assert_int_equal(t.shared_groups, 2);
	assert_int_equal(t.subs, 5);
	for (k = 0; k < 30; k++) {
		assert_int_equal(match(&t, "jobs/print", &h), 3);
		for (i = 0; i < h.n; i++)
			per[(char *)h.sub[i] - subscribers]++;
		assert_int_equal(count_sub(&h, SUB(1)) + count_sub(&h, SUB(2)) +
				 count_sub(&h, SUB(3)), 1);
		for (i = 0; i < h.n; i++) {
			if (h.sub[i] == SUB(4)) {
				assert_int_equal(h.group_len[i], 5);
				assert_memory_equal(h.group[i], "audit", 5);
			} else if (h.sub[i] == SUB(5)) {
				assert_null(h.group[i]);
			}
		}
	}
	assert_int_equal(per[1], 10);
	assert_int_equal(per[2], 10);
	assert_int_equal(per[3], 10);
	assert_int_equal(per[4], 30);
	assert_int_equal(per[5], 30);
	/* Leaving the group shifts the load to the rest; the last one removes the group. */
	assert_int_equal(unsub(&t, "$share/workers/jobs/+", 2), 0);
	memset(per, 0, sizeof(per));
	for (k = 0; k < 10; k++) {
		match(&t, "jobs/x", &h);
		for (i = 0; i < h.n; i++)
			per[(char *)h.sub[i] - subscribers]++;
	}
	assert_int_equal(per[1], 5);
	assert_int_equal(per[3], 5);
	assert_int_equal(unsub(&t, "$share/workers/jobs/+", 2), TOPIC_E_NOT_FOUND);
	assert_int_equal(unsub(&t, "$share/nogroup/jobs/+", 1), TOPIC_E_NOT_FOUND);
	assert_int_equal(unsub(&t, "jobs/+", 1), TOPIC_E_NOT_FOUND);
	assert_int_equal(unsub(&t, "$share/workers/jobs/+", 1), 0);
	assert_int_equal(unsub(&t, "$share/workers/jobs/+", 3), 0);
	assert_int_equal(t.shared_groups, 1);
	assert_int_equal(unsub(&t, "$share/audit/jobs/#", 4), 0);
	assert_int_equal(unsub(&t, "jobs/+", 5), 0);
	assert_empty(&t);
	topic_trie_destroy(&t);
}

/* A big group: every member gets its turn before anyone gets a second. */
static void test_shared_group_large_is_fair(void **state)
{
	static int per[1000];
	struct topic_trie t;
	struct hits h;
	int i;

	(void)state;
	trie_new(&t);
	memset(per, 0, sizeof(per));
	for (i = 0; i < 1000; i++)
		assert_int_equal(sub(&t, "$share/g/q", i, &qos0), 0);
	for (i = 0; i < 1000; i++) {
		assert_int_equal(match(&t, "q", &h), 1);
		per[(char *)h.sub[0] - subscribers]++;
	}
	for (i = 0; i < 1000; i++)
		assert_int_equal(per[i], 1);
	for (i = 0; i < 1000; i++)
		assert_int_equal(unsub(&t, "$share/g/q", i), 0);
	assert_empty(&t);
	topic_trie_destroy(&t);
}

static void test_unsubscribe_prunes_nodes_and_bytes_to_zero(void **state)
{
	static const char *const filters[] = {
		"a/b/c", "a/b/#", "a/+/c", "+/+/+", "#", "a", "/", "a//b", "$SYS/#",
		"$share/g/a/b", "$share/h/a/b", "$share/g/+",
	};
	struct topic_trie t;
	size_t i;
	int who;

	(void)state;
	trie_new(&t);
	for (who = 0; who < 3; who++)
		for (i = 0; i < ARRAY_SIZE(filters); i++)
			assert_int_equal(sub(&t, filters[i], who, &qos1), 0);
	assert_true(t.tree.nodes > 0);
	assert_true(t.tree.bytes > 0);
	assert_int_equal(t.subs, 3 * ARRAY_SIZE(filters));
	/* Remove in another order than added. */
	for (who = 2; who >= 0; who--)
		for (i = ARRAY_SIZE(filters); i-- > 0;)
			assert_int_equal(unsub(&t, filters[i], who), 0);
	assert_empty(&t);
	topic_trie_destroy(&t);
}

static void test_unsubscribe_unknown_is_not_found(void **state)
{
	struct topic_trie t;
	size_t nodes, bytes;

	(void)state;
	trie_new(&t);
	assert_int_equal(unsub(&t, "a/b", 1), TOPIC_E_NOT_FOUND);
	assert_int_equal(sub(&t, "a/b/c", 1, &qos0), 0);
	nodes = t.tree.nodes;
	bytes = t.tree.bytes;
	assert_int_equal(unsub(&t, "a/b", 1), TOPIC_E_NOT_FOUND);
	assert_int_equal(unsub(&t, "a/b/c", 2), TOPIC_E_NOT_FOUND);
	assert_int_equal(unsub(&t, "a/b/+", 1), TOPIC_E_NOT_FOUND);
	assert_int_equal(t.tree.nodes, nodes);
	assert_int_equal(t.tree.bytes, bytes);
	assert_int_equal(unsub(&t, "a/b/c", 1), 0);
	assert_empty(&t);
	topic_trie_destroy(&t);
}

/* One parent with many children: the child table grows, shrinks and stays exact. */
static void test_hash_resize_many_children(void **state)
{
	const int n = 50000;
	struct topic_trie t;
	char f[32];
	struct hits h;
	u64 resizes;
	int i;

	(void)state;
	trie_new(&t);
	for (i = 0; i < n; i++) {
		snprintf(f, sizeof(f), "meter/%d/kwh", i);
		assert_int_equal(sub(&t, f, i % 60000, &qos0), 0);
	}
	resizes = t.tree.resizes;
	assert_true(resizes >= 10);
	assert_int_equal(t.subs, n);
	for (i = 0; i < n; i += 997) {
		snprintf(f, sizeof(f), "meter/%d/kwh", i);
		assert_int_equal(match(&t, f, &h), 1);
		assert_ptr_equal(h.sub[0], SUB(i % 60000));
	}
	assert_int_equal(match(&t, "meter/50000/kwh", &h), 0);
	/* Remove the odd ones: tombstones must not hide the even ones. */
	for (i = 1; i < n; i += 2) {
		snprintf(f, sizeof(f), "meter/%d/kwh", i);
		assert_int_equal(unsub(&t, f, i % 60000), 0);
	}
	for (i = 0; i < n; i++) {
		snprintf(f, sizeof(f), "meter/%d/kwh", i);
		assert_int_equal(match(&t, f, &h), (i & 1) ? 0 : 1);
	}
	/* Re-adding into a table full of tombstones. */
	for (i = 1; i < n; i += 2) {
		snprintf(f, sizeof(f), "meter/%d/kwh", i);
		assert_int_equal(sub(&t, f, i % 60000, &qos0), 0);
	}
	for (i = 0; i < n; i++) {
		snprintf(f, sizeof(f), "meter/%d/kwh", i);
		assert_int_equal(unsub(&t, f, i % 60000), 0);
	}
	assert_true(t.tree.resizes > resizes);
	assert_empty(&t);
	topic_trie_destroy(&t);
}

/* Many subscribers on one filter: the subscriber table is hashed too. */
static void test_many_subscribers_one_filter(void **state)
{
	const int n = 20000;
	struct topic_trie t;
	int i, seen = 0;
	struct hits *h;

	(void)state;
	h = malloc(sizeof(*h));
	trie_new(&t);
	for (i = 0; i < n; i++)
		assert_int_equal(sub(&t, "+/+/alarm", i, &qos0), 0);
	for (i = 0; i < n; i += 3)
		assert_int_equal(sub(&t, "+/+/alarm", i, &qos1), 1);
	h->n = 0;
	assert_int_equal(topic_match(&t, "a/b/alarm", 9, NULL, 0, record, h), -1000);
	assert_int_equal(h->n, MAX_HITS);
	for (i = 0; i < n; i += 2)
		assert_int_equal(unsub(&t, "+/+/alarm", i), 0);
	for (i = 0; i < MAX_HITS; i++)
		seen += h->opts[i].qos;
	assert_true(seen > 0);
	assert_int_equal(t.subs, n / 2);
	for (i = 1; i < n; i += 2)
		assert_int_equal(unsub(&t, "+/+/alarm", i), 0);
	assert_empty(&t);
	topic_trie_destroy(&t);
	free(h);
}

static int stop_at_two(void *ctx, const struct topic_match *m)
{
	int *n = ctx;

	(void)m;
	return ++*n == 2 ? -42 : 0;
}

static void test_callback_error_stops_match(void **state)
{
	struct topic_trie t;
	int n = 0, i;

	(void)state;
	trie_new(&t);
	for (i = 0; i < 5; i++)
		assert_int_equal(sub(&t, "a/#", i, &qos0), 0);
	assert_int_equal(topic_match(&t, "a/b", 3, NULL, 0, stop_at_two, &n), -42);
	assert_int_equal(n, 2);
	topic_trie_destroy(&t);
}

static void test_match_rejects_oversized_topic(void **state)
{
	struct topic_limits lim = { .max_topic_len = 4, .max_levels = 4 };
	struct topic_trie t;
	struct hits h;

	(void)state;
	topic_trie_init(&t, &lim, 0);
	assert_int_equal(sub(&t, "#", 1, &qos0), 0);
	assert_int_equal(match(&t, "abcd", &h), 1);
	assert_int_equal(match(&t, "abcde", &h), TOPIC_E_TOO_LONG);
	assert_int_equal(topic_match(&t, "", 0, NULL, 0, record, &h), TOPIC_E_EMPTY);
	topic_trie_destroy(&t);
}

static void test_match_stamps_last_used(void **state)
{
	struct topic_trie t;
	struct hits h;
	int i;

	(void)state;
	trie_new(&t);
	assert_int_equal(sub(&t, "a/+", 1, &qos0), 0);
	assert_int_equal(sub(&t, "a/#", 2, &qos0), 0);
	assert_int_equal(match(&t, "a/b", &h), 2);
	for (i = 0; i < h.n; i++)
		assert_int_equal(topic_node_used(h.node[i]), 0);
	h.n = 0;
	assert_int_equal(topic_match(&t, "a/b", 3, NULL, 1234, record, &h), 2);
	for (i = 0; i < h.n; i++)
		assert_int_equal(topic_node_used(h.node[i]), 1234);
	topic_node_set_used(h.node[0], 99);
	assert_int_equal(topic_node_used(h.node[0]), 99);
	topic_trie_destroy(&t);
}

/* Every allocation failure point leaves a consistent trie and exact accounting. */
static void test_mem_limit_every_failure_point_is_clean(void **state)
{
	static const char *const filters[] = {
		"a/b/c", "a/b/d", "a/+/c", "a/#", "$share/g/a/b/c", "$share/h/a/b/c",
		"x/y", "x/z", "x/w", "x/v", "x/u",
	};
	const int nf = ARRAY_SIZE(filters);
	struct topic_limits lim = deflim();
	struct topic_trie t;
	size_t full, limit;
	bool ok[ARRAY_SIZE(filters)];
	struct hits h;
	int i, ret, want, hits_total = 0;

	(void)state;
	trie_new(&t);
	for (i = 0; i < nf; i++)
		assert_int_equal(sub(&t, filters[i], i, &qos0), 0);
	full = t.tree.bytes;
	topic_trie_destroy(&t);

	/* mem_limit 0 means no cap, so start at the first real one. */
	for (limit = 8; limit <= full; limit += 8) {
		topic_trie_init(&t, &lim, limit);
		for (i = 0; i < nf; i++) {
			size_t before = t.tree.bytes;

			ret = sub(&t, filters[i], i, &qos0);
			ok[i] = ret == 0;
			assert_true(ret == 0 || ret == TOPIC_E_MEM_LIMIT);
			assert_true(t.tree.bytes <= limit);
			if (!ok[i])
				assert_int_equal(t.tree.bytes, before);
		}
		want = 0;
		for (i = 0; i < nf; i++)
			want += ok[i] && i < 6 && i != 1;
		assert_int_equal(match(&t, "a/b/c", &h), want);
		hits_total += want;
		for (i = 0; i < nf; i++)
			assert_int_equal(unsub(&t, filters[i], i), ok[i] ? 0 : TOPIC_E_NOT_FOUND);
		assert_empty(&t);
		if (limit < full)
			assert_true(t.tree.mem_limit_hits > 0);
		topic_trie_destroy(&t);
	}
	assert_true(hits_total > 0);
}

/* Freeing a trie that still holds everything leaks nothing (ASan checks). */
static void test_destroy_frees_populated_trie(void **state)
{
	struct topic_trie t;
	char f[32];
	int i;

	(void)state;
	trie_new(&t);
	for (i = 0; i < 2000; i++) {
		snprintf(f, sizeof(f), "d/%d/%s", i % 50, i & 1 ? "+" : "#");
		assert_true(sub(&t, f, i, &qos0) >= 0);
		snprintf(f, sizeof(f), "$share/g%d/d/%d", i % 3, i % 7);
		assert_true(sub(&t, f, i, &qos0) >= 0);
	}
	topic_trie_destroy(&t);
	assert_empty(&t);
}

/* ---- walk and dump ---- */

struct dump_rec {
	int n;
	char line[32][64];
};

static int record_dump(void *ctx, const char *filter, u16 len, const struct topic_match *m)
{
	struct dump_rec *r = ctx;

	assert_true(r->n < 32);
	snprintf(r->line[r->n++], 64, "%.*s|%.*s|%d|%d", len, filter, m->group_len,
		 m->group ? m->group : "", (int)((char *)m->subscriber - subscribers),
		 m->opts->qos);
	return 0;
}

static int has_line(const struct dump_rec *r, const char *s)
{
	int i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->line[i], s))
			return 1;
	return 0;
}

static int record_walk(void *ctx, const char *path, u16 len, struct topic_node *node)
{
	struct dump_rec *r = ctx;

	(void)node;
	assert_true(r->n < 32);
	snprintf(r->line[r->n++], 64, "%.*s", len, path);
	return 0;
}

static void test_walk_and_dump_list_every_filter(void **state)
{
	struct topic_trie t;
	struct dump_rec r;
	char buf[TOPIC_DEFAULT_MAX_LEN];

	(void)state;
	trie_new(&t);
	assert_int_equal(sub(&t, "a/+/c", 1, &qos1), 0);
	assert_int_equal(sub(&t, "a/#", 2, &qos2), 0);
	assert_int_equal(sub(&t, "/", 3, &qos0), 0);
	assert_int_equal(sub(&t, "$share/g/a/+/c", 4, &qos0), 0);
	r.n = 0;
	assert_int_equal(topic_trie_dump(&t, buf, sizeof(buf), record_dump, &r), 4);
	assert_true(has_line(&r, "a/+/c||1|1"));
	assert_true(has_line(&r, "a/#||2|2"));
	assert_true(has_line(&r, "/||3|0"));
	assert_true(has_line(&r, "a/+/c|g|4|0"));
	r.n = 0;
	assert_int_equal(topic_walk(&t.tree, buf, sizeof(buf), record_walk, &r), 6);
	assert_true(has_line(&r, "a") && has_line(&r, "a/+") && has_line(&r, "a/+/c"));
	assert_true(has_line(&r, "a/#") && has_line(&r, "") && has_line(&r, "/"));
	topic_trie_destroy(&t);
}

/* ---- store ---- */

static void test_store_set_get_replace_delete(void **state)
{
	struct topic_limits lim = deflim();
	struct topic_store s;
	int p1, p2;
	void *old = NULL;

	(void)state;
	topic_store_init(&s, &lim, 0);
	assert_null(topic_store_get(&s, "a/b", 3));
	assert_int_equal(topic_store_set(&s, "a/b", 3, &p1, &old), 0);
	assert_null(old);
	assert_ptr_equal(topic_store_get(&s, "a/b", 3), &p1);
	assert_null(topic_store_get(&s, "a", 1));
	assert_int_equal(topic_store_set(&s, "a/b", 3, &p2, &old), 1);
	assert_ptr_equal(old, &p1);
	assert_int_equal(s.entries, 1);
	assert_int_equal(topic_store_set(&s, "a", 1, &p1, NULL), 0);
	assert_int_equal(topic_store_set(&s, "a/+", 3, &p1, NULL), TOPIC_E_WILDCARD_IN_NAME);
	assert_int_equal(topic_store_set(&s, "a", 1, NULL, NULL), TOPIC_E_INVAL);
	assert_int_equal(topic_store_del(&s, "a/b/c", 5, NULL), TOPIC_E_NOT_FOUND);
	assert_int_equal(topic_store_del(&s, "a/b", 3, &old), 0);
	assert_ptr_equal(old, &p2);
	assert_null(topic_store_get(&s, "a/b", 3));
	assert_ptr_equal(topic_store_get(&s, "a", 1), &p1);
	assert_int_equal(topic_store_del(&s, "a", 1, NULL), 0);
	assert_int_equal(topic_store_del(&s, "a", 1, NULL), TOPIC_E_NOT_FOUND);
	assert_int_equal(s.tree.nodes, 0);
	assert_int_equal(s.tree.bytes, 0);
	topic_store_destroy(&s, NULL);
}

static void free_payload(void *p)
{
	free(p);
}

static void test_store_match_retained_semantics(void **state)
{
	static const char *const names[] = {
		"sport", "sport/tennis", "sport/tennis/player1", "sport/golf", "$SYS/load",
		"$SYS", "/", "a//b", "news", "$share/x/y",
	};
	struct topic_limits lim = deflim();
	char buf[TOPIC_DEFAULT_MAX_LEN];
	struct topic_store s;
	struct names r;
	size_t i;

	(void)state;
	topic_store_init(&s, &lim, 0);
	for (i = 0; i < ARRAY_SIZE(names); i++)
		assert_int_equal(topic_store_set(&s, names[i], strlen(names[i]),
						 strdup(names[i]), NULL), 0);
#define STORE_MATCH(f) (r.n = 0, topic_store_match(&s, f, strlen(f), buf, sizeof(buf), \
						   record_name, &r))
	assert_int_equal(STORE_MATCH("#"), 7);
	assert_int_equal(has_name(&r, "$SYS/load") + has_name(&r, "$SYS"), 0);
	assert_int_equal(has_name(&r, "$share/x/y"), 0);
	assert_int_equal(STORE_MATCH("sport/#"), 4);
	assert_int_equal(STORE_MATCH("sport/+"), 2);
	assert_int_equal(STORE_MATCH("+"), 2);
	assert_true(has_name(&r, "sport") && has_name(&r, "news"));
	assert_int_equal(STORE_MATCH("+/+"), 3);
	assert_true(has_name(&r, "/"));
	assert_int_equal(STORE_MATCH("$SYS/#"), 2);
	assert_int_equal(STORE_MATCH("+/tennis/#"), 2);
	assert_int_equal(STORE_MATCH("a/+/b"), 1);
	assert_int_equal(STORE_MATCH("nothing/#"), 0);
	/* The store never treats $share specially. */
	assert_int_equal(STORE_MATCH("$share/x/y"), 1);
	assert_int_equal(STORE_MATCH("a/b#"), TOPIC_E_BAD_HASH);
	r.n = 0;
	assert_int_equal(topic_store_match(&s, "#", 1, buf, 10, record_name, &r),
			 TOPIC_E_INVAL);
#undef STORE_MATCH
	topic_store_destroy(&s, free_payload);
	assert_int_equal(s.tree.nodes, 0);
	assert_int_equal(s.tree.bytes, 0);
}

/* The store's child tables resize like the trie's (they are the same code). */
static void test_store_many_names_one_parent(void **state)
{
	struct topic_limits lim = deflim();
	char buf[TOPIC_DEFAULT_MAX_LEN], f[32];
	struct topic_store s;
	struct names r;
	int i;

	(void)state;
	topic_store_init(&s, &lim, 0);
	for (i = 0; i < 20000; i++) {
		snprintf(f, sizeof(f), "m/%d", i);
		assert_int_equal(topic_store_set(&s, f, strlen(f), strdup(f), NULL), 0);
	}
	r.n = 0;
	assert_int_equal(topic_store_match(&s, "m/12345", 7, buf, sizeof(buf), record_name, &r),
			 1);
	for (i = 0; i < 20000; i += 2) {
		void *old;

		snprintf(f, sizeof(f), "m/%d", i);
		assert_int_equal(topic_store_del(&s, f, strlen(f), &old), 0);
		free(old);
	}
	assert_int_equal(s.entries, 10000);
	topic_store_destroy(&s, free_payload);
	assert_int_equal(s.tree.bytes, 0);
	assert_int_equal(s.tree.tables, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_validation_vectors_spec_examples),
		cmocka_unit_test(test_utf8_errors_distinct_and_named),
		cmocka_unit_test(test_limits_topic_length),
		cmocka_unit_test(test_limits_level_count),
		cmocka_unit_test(test_share_syntax_only_with_shared_flag),
		cmocka_unit_test(test_match_vectors_trie),
		cmocka_unit_test(test_match_vectors_store),
		cmocka_unit_test(test_overlap_callback_reports_each_subscription),
		cmocka_unit_test(test_overlap_collect_once_at_max_qos),
		cmocka_unit_test(test_overlap_collect_all_subscription_ids),
		cmocka_unit_test(test_collector_full_counts_dropped),
		cmocka_unit_test(test_no_local_skips_publisher_only),
		cmocka_unit_test(test_resubscribe_replaces_options),
		cmocka_unit_test(test_invalid_options_rejected),
		cmocka_unit_test(test_shared_group_round_robin),
		cmocka_unit_test(test_shared_group_large_is_fair),
		cmocka_unit_test(test_unsubscribe_prunes_nodes_and_bytes_to_zero),
		cmocka_unit_test(test_unsubscribe_unknown_is_not_found),
		cmocka_unit_test(test_hash_resize_many_children),
		cmocka_unit_test(test_many_subscribers_one_filter),
		cmocka_unit_test(test_callback_error_stops_match),
		cmocka_unit_test(test_match_rejects_oversized_topic),
		cmocka_unit_test(test_match_stamps_last_used),
		cmocka_unit_test(test_mem_limit_every_failure_point_is_clean),
		cmocka_unit_test(test_destroy_frees_populated_trie),
		cmocka_unit_test(test_walk_and_dump_list_every_filter),
		cmocka_unit_test(test_store_set_get_replace_delete),
		cmocka_unit_test(test_store_match_retained_semantics),
		cmocka_unit_test(test_store_many_names_one_parent),
	};

	return cmocka_run_group_tests_name("topic", tests, NULL, NULL);
}

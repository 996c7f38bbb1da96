// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * KUnit suite kmqtt_topic: topic validation, the subscription trie and the topic-name
 * store in the kernel, on the vectors the host unit tests use (topic_vectors.h), plus what
 * only the kernel can show:
 *
 *   - readers matching under rcu_read_lock() while a writer kthread subscribes and
 *     unsubscribes, growing, shrinking and pruning the very tables the readers walk
 *     (KASAN reports a reader touching freed memory, lockdep a locking mistake);
 *   - every allocation of subscribe and store_set failing in turn (CONFIG_FAILSLAB with
 *     the task's fail-nth counter), each leaving a consistent trie that kmemleak finds
 *     nothing leaked from.
 *
 * The trie is compiled into this test module from its source, so kmqtt_test.ko does not
 * depend on kmqtt.ko.
 */
#include "../core/topic.c"

#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>

#include "topic_vectors.h"

/* Distinct subscriber identities. */
static char subscribers[1024];
#define SUB(i)	((void *)&subscribers[(i)])

static const struct topic_sub_opts qos0 = { .qos = 0 };
static const struct topic_sub_opts qos1 = { .qos = 1 };

static void trie_new(struct topic_trie *t, size_t mem_limit)
{
	struct topic_limits lim = TOPIC_LIMITS_DEFAULT;

	topic_trie_init(t, &lim, mem_limit);
}

static int sub(struct topic_trie *t, const char *f, int who, const struct topic_sub_opts *o)
{
	return topic_subscribe(t, f, strlen(f), SUB(who), o);
}

static int unsub(struct topic_trie *t, const char *f, int who)
{
	return topic_unsubscribe(t, f, strlen(f), SUB(who));
}

/* Matches of one subscriber, counted by a topic_match() callback. */
struct count_ctx {
	const void *who;
	int n;
};

static int count_one(void *ctx, const struct topic_match *m)
{
	struct count_ctx *c = ctx;

	c->n += m->subscriber == c->who;
	return 0;
}

static int matches_of(struct topic_trie *t, const char *topic, int who)
{
	struct count_ctx c = { .who = SUB(who) };
	int ret;

	rcu_read_lock();
	ret = topic_match(t, topic, strlen(topic), NULL, 0, count_one, &c);
	rcu_read_unlock();
	return ret < 0 ? ret : c.n;
}

static void expect_empty(struct kunit *test, struct topic_trie *t)
{
	KUNIT_EXPECT_EQ(test, t->tree.nodes, 0);
	KUNIT_EXPECT_EQ(test, t->tree.bytes, 0);
	KUNIT_EXPECT_EQ(test, t->tree.tables, 0);
	KUNIT_EXPECT_EQ(test, t->subs, 0);
	KUNIT_EXPECT_EQ(test, t->shared_groups, 0);
	KUNIT_EXPECT_NULL(test, rcu_access_pointer(t->tree.root));
}

/* ---- The shared vectors ---- */

static void valid_vector_desc(const struct topic_valid_vector *v, char *desc)
{
	strscpy(desc, v->why, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(topic_valid_vectors, topic_valid_vectors, valid_vector_desc);

/* valid: topic_name_valid() and topic_filter_valid() give the vector's verdicts. */
static void topic_valid(struct kunit *test)
{
	const struct topic_valid_vector *v = test->param_value;
	struct topic_limits lim = TOPIC_LIMITS_DEFAULT;
	char *copy = kunit_kmalloc(test, v->len ?: 1, GFP_KERNEL);
	int n, f;

	/* An exact-size copy: KASAN reports a validator reading past the string. */
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, copy);
	memcpy(copy, v->s, v->len);
	n = topic_name_valid(copy, v->len, &lim);
	f = topic_filter_valid(copy, v->len, &lim);
	KUNIT_EXPECT_EQ_MSG(test, n, v->name_err, "name: got %s, want %s", topic_err_name(n),
			    topic_err_name(v->name_err));
	KUNIT_EXPECT_EQ_MSG(test, f, v->filter_err, "filter: got %s, want %s",
			    topic_err_name(f), topic_err_name(v->filter_err));
}

/* match_trie: all vector filters in one trie; each topic matches exactly as the vector says. */
static void topic_match_trie(struct kunit *test)
{
	const size_t nv = ARRAY_SIZE(topic_match_vectors);
	struct topic_trie t;
	size_t i, j;
	int got;

	trie_new(&t, 0);
	for (i = 0; i < nv; i++)
		KUNIT_ASSERT_EQ(test, sub(&t, topic_match_vectors[i].filter, i, &qos1), 0);
	for (i = 0; i < nv; i++) {
		const struct topic_match_vector *v = &topic_match_vectors[i];

		got = matches_of(&t, v->topic, i);
		KUNIT_EXPECT_EQ_MSG(test, got, (int)v->match, "%s: filter '%s' topic '%s'",
				    v->why, v->filter, v->topic);
		/* Vectors with the same filter must agree with this one. */
		for (j = 0; j < nv; j++)
			if (j != i && !strcmp(topic_match_vectors[j].filter, v->filter))
				KUNIT_EXPECT_EQ_MSG(test, matches_of(&t, v->topic, j), got,
						    "vectors %zu and %zu disagree", i, j);
	}
	for (i = 0; i < nv; i++)
		KUNIT_EXPECT_EQ(test, unsub(&t, topic_match_vectors[i].filter, i), 0);
	expect_empty(test, &t);
	topic_trie_destroy(&t);
}

struct name_ctx {
	const char *want;
	int seen;
	int calls;
};

static int find_name(void *ctx, const char *name, u16 len, void *payload,
		     struct topic_node *node)
{
	struct name_ctx *c = ctx;

	c->calls++;
	/* The payload of every stored name is the name itself. */
	if (len != strlen(payload) || memcmp(name, payload, len))
		return -EINVAL;
	c->seen += len == strlen(c->want) && !memcmp(name, c->want, len);
	return 0;
}

/* match_store: the same vectors the other way round, one filter against many stored names. */
static void topic_match_store(struct kunit *test)
{
	const size_t nv = ARRAY_SIZE(topic_match_vectors);
	struct topic_limits lim = TOPIC_LIMITS_DEFAULT;
	struct topic_store s;
	struct name_ctx c;
	char *buf;
	size_t i;
	int ret;

	buf = kunit_kmalloc(test, TOPIC_DEFAULT_MAX_LEN, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	topic_store_init(&s, &lim, 0);
	for (i = 0; i < nv; i++) {
		const char *name = topic_match_vectors[i].topic;

		ret = topic_store_set(&s, name, strlen(name), (void *)name, NULL);
		KUNIT_ASSERT_TRUE_MSG(test, ret == 0 || ret == 1, "set '%s': %s", name,
				      topic_err_name(ret));
	}
	for (i = 0; i < nv; i++) {
		const struct topic_match_vector *v = &topic_match_vectors[i];

		c = (struct name_ctx){ .want = v->topic };
		ret = topic_store_match(&s, v->filter, strlen(v->filter), buf,
					TOPIC_DEFAULT_MAX_LEN, find_name, &c);
		KUNIT_EXPECT_EQ(test, ret, c.calls);
		KUNIT_EXPECT_EQ_MSG(test, c.seen, (int)v->match, "%s: filter '%s' name '%s'",
				    v->why, v->filter, v->topic);
	}
	for (i = 0; i < nv; i++) {
		const char *name = topic_match_vectors[i].topic;

		ret = topic_store_del(&s, name, strlen(name), NULL);
		KUNIT_EXPECT_TRUE(test, ret == 0 || ret == TOPIC_E_NOT_FOUND);
	}
	KUNIT_EXPECT_EQ(test, s.entries, 0);
	KUNIT_EXPECT_EQ(test, s.tree.nodes, 0);
	KUNIT_EXPECT_EQ(test, s.tree.bytes, 0);
	topic_store_destroy(&s, NULL);
}

/* ---- Readers under RCU against a writer kthread ---- */

/* How long each race runs, and the least work each side must have done for it to count. */
#define RACE_MS		3000
#define RACE_MIN_OPS	50
/* Past RACE_MS, how long to wait for RACE_MIN_OPS before calling the race stuck. */
#define RACE_HARD_MS	60000
/*
 * Churn subscribers SUB(RACE_CHURN_BASE + k), shared group members SUB(RACE_GROUP_BASE + k)
 * and the flicker subscriber.
 */
#define RACE_CHURN	64
#define RACE_CHURN_BASE	100
#define RACE_GROUP_BASE	(RACE_CHURN_BASE + RACE_CHURN)
#define RACE_FLICKER	(RACE_GROUP_BASE + RACE_CHURN)
/* How long a reader holds on to the flicker node, at most, polling every RACE_SPIN_US. */
#define RACE_HOLD_US	2000
#define RACE_SPIN_US	10
/* The stable member of the shared group. */
#define RACE_GROUP_SUB	ARRAY_SIZE(race_stable)

/* Topic every reader matches, and the subscriptions that stay put while it does. */
static const char race_topic[] = "city/north/traffic";
static const char *const race_stable[] = {
	"city/north/traffic", "city/+/traffic", "city/#", "+/north/+",
};

static const char race_group_filter[] = "$share/g/city/north/traffic";
/*
 * Added and removed again by every writer step: its node exists only while subscribed. A
 * reader that gets its callback waits there until the writer has removed it, and then
 * walks back up through the node: only an RCU grace period keeps it valid.
 */
static const char race_flicker_filter[] = "city/north/+";

struct race {
	struct kunit *test;
	struct topic_trie trie;
	struct topic_store store;
	struct mutex lock;	/* serializes the writers, as kmqtt's control path does */
	unsigned long writes;
	int err;		/* first writer failure */
	char what[96];
};

static void race_fail(struct race *r, int err, const char *what, const char *arg)
{
	if (!r->err) {
		r->err = err;
		scnprintf(r->what, sizeof(r->what), "%s '%s': %s", what, arg, topic_err_name(err));
	}
}

/*
 * One writer step: add (even rounds) or remove (odd rounds) churn subscriber k's filters.
 * The filters share nodes with the stable ones, fan out under "city" so that its child
 * table grows and shrinks, and join the shared group, whose stable member stays.
 */
static void race_trie_step(struct race *r, unsigned long round, int k)
{
	char f[5][48];
	int i, ret;

	snprintf(f[0], sizeof(f[0]), "city/north/traffic/%d", k);
	snprintf(f[1], sizeof(f[1]), "city/d%d/traffic", k);
	snprintf(f[2], sizeof(f[2]), "city/+/x%d", k);
	snprintf(f[3], sizeof(f[3]), "city/north/#");
	snprintf(f[4], sizeof(f[4]), "%s", race_group_filter);
	mutex_lock(&r->lock);
	for (i = 0; i < ARRAY_SIZE(f); i++) {
		int who = (i == 4 ? RACE_GROUP_BASE : RACE_CHURN_BASE) + k;

		if (round & 1) {
			ret = unsub(&r->trie, f[i], who);
			if (ret)
				race_fail(r, ret, "unsubscribe", f[i]);
		} else {
			ret = sub(&r->trie, f[i], who, &qos0);
			if (ret)
				race_fail(r, ret, "subscribe", f[i]);
		}
	}
	mutex_unlock(&r->lock);
}

static void race_flicker(struct race *r)
{
	int ret;

	mutex_lock(&r->lock);
	ret = sub(&r->trie, race_flicker_filter, RACE_FLICKER, &qos0);
	mutex_unlock(&r->lock);
	if (ret)
		race_fail(r, ret, "subscribe", race_flicker_filter);
	usleep_range(20, 40);
	mutex_lock(&r->lock);
	ret = unsub(&r->trie, race_flicker_filter, RACE_FLICKER);
	mutex_unlock(&r->lock);
	if (ret)
		race_fail(r, ret, "unsubscribe", race_flicker_filter);
}

static int race_trie_writer(void *arg)
{
	struct race *r = arg;
	unsigned long round = 0;
	int k;

	while (!kthread_should_stop()) {
		for (k = 0; k < RACE_CHURN && !READ_ONCE(r->err); k++) {
			race_trie_step(r, round, k);
			race_flicker(r);
			WRITE_ONCE(r->writes, r->writes + 1);
			cond_resched();
		}
		round++;
		if (READ_ONCE(r->err))
			msleep(20);
	}
	/* Leave the trie with only the stable subscriptions. */
	if (round & 1) {
		for (k = 0; k < RACE_CHURN; k++)
			race_trie_step(r, round, k);
	}
	return 0;
}

struct race_seen {
	struct race *r;
	int stable;		/* matches of the stable subscribers */
	int group;		/* deliveries to members of the shared group */
	int held;		/* times the flicker node was held across a writer step */
};

static bool race_is_stable(const void *who)
{
	return who >= SUB(0) && who < SUB(ARRAY_SIZE(race_stable));
}

static bool race_is_member(const void *who)
{
	return who == SUB(RACE_GROUP_SUB) ||
	       (who >= SUB(RACE_GROUP_BASE) && who < SUB(RACE_GROUP_BASE + RACE_CHURN));
}

static int race_count(void *ctx, const struct topic_match *m)
{
	struct race_seen *s = ctx;

	unsigned long w0;
	int us;

	s->stable += race_is_stable(m->subscriber);
	if (race_is_member(m->subscriber))
		s->group += m->group_len == 1 && m->group[0] == 'g' ? 1 : 100;
	if (m->subscriber == SUB(RACE_FLICKER)) {
		w0 = READ_ONCE(s->r->writes);
		for (us = 0; us < RACE_HOLD_US && READ_ONCE(s->r->writes) == w0;
		     us += RACE_SPIN_US)
			udelay(RACE_SPIN_US);
		s->held += READ_ONCE(s->r->writes) != w0;
	}
	return 0;
}

/*
 * match_vs_writer: topic_match() and topic_collect() under rcu_read_lock() always see every
 * stable subscription exactly once and the shared group exactly once, while a writer
 * kthread keeps changing the nodes and tables they walk.
 */
static void topic_match_vs_writer(struct kunit *test)
{
	const u16 len = sizeof(race_topic) - 1;
	struct topic_delivery *dlv;
	struct topic_id_link *ids;
	struct topic_collector c;
	struct task_struct *task;
	unsigned long deadline, hard_deadline, reads = 0, bad = 0, held = 0;
	struct race *r;
	u32 *index;
	int i, ret;

	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	dlv = kunit_kcalloc(test, 128, sizeof(*dlv), GFP_KERNEL);
	index = kunit_kcalloc(test, 256, sizeof(*index), GFP_KERNEL);
	ids = kunit_kcalloc(test, 16, sizeof(*ids), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, r);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dlv);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, index);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ids);
	KUNIT_ASSERT_EQ(test, topic_collector_init(&c, dlv, 128, index, 256, ids, 16), 0);
	mutex_init(&r->lock);
	trie_new(&r->trie, 0);
	for (i = 0; i < ARRAY_SIZE(race_stable); i++)
		KUNIT_ASSERT_EQ(test, sub(&r->trie, race_stable[i], i, &qos1), 0);
	KUNIT_ASSERT_EQ(test, sub(&r->trie, race_group_filter, RACE_GROUP_SUB, &qos1), 0);

	task = kthread_run(race_trie_writer, r, "kmqtt-kunit-w");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	deadline = jiffies + msecs_to_jiffies(RACE_MS);
	hard_deadline = deadline + msecs_to_jiffies(RACE_HARD_MS);
	while (time_before(jiffies, hard_deadline) &&
	       (time_before(jiffies, deadline) || reads < RACE_MIN_OPS ||
		READ_ONCE(r->writes) < RACE_MIN_OPS)) {
		struct race_seen seen = { .r = r };

		rcu_read_lock();
		if (reads & 1) {
			/* Stamping last-used times is a reader-side store too. */
			ret = topic_match(&r->trie, race_topic, len, NULL, jiffies | 1, race_count,
					  &seen);
			held += seen.held;
		} else {
			ret = topic_collect(&r->trie, race_topic, len, NULL, 0, &c);
			for (i = 0; ret >= 0 && i < c.ndlv; i++) {
				const void *who = c.dlv[i].subscriber;

				if (race_is_stable(who))
					seen.stable += c.dlv[i].nsubs;
				if (race_is_member(who))
					seen.group += c.dlv[i].nsubs;
			}
		}
		rcu_read_unlock();
		if (ret < 0 || seen.stable != ARRAY_SIZE(race_stable) || seen.group != 1) {
			if (!bad)
				kunit_err(test, "read %lu: ret %d, stable %d (want %zu), group %d\n",
					  reads, ret, seen.stable, ARRAY_SIZE(race_stable),
					  seen.group);
			bad++;
		}
		reads++;
		cond_resched();
		if (READ_ONCE(r->err))
			break;
	}
	kthread_stop(task);
	KUNIT_EXPECT_EQ_MSG(test, r->err, 0, "writer: %s", r->what);
	KUNIT_EXPECT_EQ_MSG(test, bad, 0, "%lu of %lu reads saw a wrong set", bad, reads);
	KUNIT_EXPECT_GE(test, reads, RACE_MIN_OPS);
	KUNIT_EXPECT_GE(test, r->writes, RACE_MIN_OPS);
	kunit_info(test, "%lu reads, %lu writes, %lu held across a removal\n", reads, r->writes,
		   held);

	/* The writer left only the stable subscriptions. */
	for (i = 0; i < ARRAY_SIZE(race_stable); i++)
		KUNIT_EXPECT_EQ(test, unsub(&r->trie, race_stable[i], i), 0);
	KUNIT_EXPECT_EQ(test, unsub(&r->trie, race_group_filter, RACE_GROUP_SUB), 0);
	expect_empty(test, &r->trie);
	topic_trie_destroy(&r->trie);
}

/* Payloads of the store race: the stable name always holds one of these two. */
static int race_payloads[2];
#define race_payload_a	(&race_payloads[0])
#define race_payload_b	(&race_payloads[1])
static const char race_name[] = "plant/7/temp";

/*
 * Even rounds add names below and beside the stable one ("plant/<k>/temp/<n>" fans out
 * under "plant" and hangs below "plant/7/temp"), odd rounds delete them again; every step
 * swaps the stable name's payload.
 */
static int race_store_writer(void *arg)
{
	struct race *r = arg;
	unsigned long round = 0;
	char name[48];
	int k, ret;

	while (!kthread_should_stop()) {
		for (k = 0; k < RACE_CHURN && !READ_ONCE(r->err); k++) {
			snprintf(name, sizeof(name), "plant/%d/temp/%lu", k, (round / 2) % 3);
			mutex_lock(&r->lock);
			if (round & 1) {
				ret = topic_store_del(&r->store, name, strlen(name), NULL);
				if (ret)
					race_fail(r, ret, "del", name);
			} else {
				ret = topic_store_set(&r->store, name, strlen(name), race_payload_a,
						      NULL);
				if (ret)
					race_fail(r, ret, "set", name);
			}
			ret = topic_store_set(&r->store, race_name, sizeof(race_name) - 1,
					      (k & 1) ? race_payload_a : race_payload_b, NULL);
			if (ret != 1)
				race_fail(r, ret, "replace", race_name);
			mutex_unlock(&r->lock);
			WRITE_ONCE(r->writes, r->writes + 1);
			cond_resched();
		}
		round++;
		if (READ_ONCE(r->err))
			msleep(20);
	}
	return 0;
}

/*
 * store_get_vs_writer: topic_store_get() under rcu_read_lock() finds the stable name with
 * one of its two payloads while a writer adds and deletes names beside and below it.
 */
static void topic_store_get_vs_writer(struct kunit *test)
{
	struct topic_limits lim = TOPIC_LIMITS_DEFAULT;
	unsigned long deadline, hard_deadline, reads = 0, bad = 0;
	struct task_struct *task;
	struct race *r;
	void *p;

	r = kunit_kzalloc(test, sizeof(*r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, r);
	mutex_init(&r->lock);
	topic_store_init(&r->store, &lim, 0);
	KUNIT_ASSERT_EQ(test, topic_store_set(&r->store, race_name, sizeof(race_name) - 1,
					      race_payload_a, NULL), 0);

	task = kthread_run(race_store_writer, r, "kmqtt-kunit-s");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	deadline = jiffies + msecs_to_jiffies(RACE_MS);
	hard_deadline = deadline + msecs_to_jiffies(RACE_HARD_MS);
	while (time_before(jiffies, hard_deadline) &&
	       (time_before(jiffies, deadline) || reads < RACE_MIN_OPS ||
		READ_ONCE(r->writes) < RACE_MIN_OPS)) {
		rcu_read_lock();
		p = topic_store_get(&r->store, race_name, sizeof(race_name) - 1);
		rcu_read_unlock();
		if (p != race_payload_a && p != race_payload_b)
			bad++;
		reads++;
		cond_resched();
		if (READ_ONCE(r->err))
			break;
	}
	kthread_stop(task);
	KUNIT_EXPECT_EQ_MSG(test, r->err, 0, "writer: %s", r->what);
	KUNIT_EXPECT_EQ_MSG(test, bad, 0, "%lu of %lu reads lost the stable name", bad, reads);
	KUNIT_EXPECT_GE(test, reads, RACE_MIN_OPS);
	KUNIT_EXPECT_GE(test, r->writes, RACE_MIN_OPS);
	kunit_info(test, "%lu reads, %lu writes\n", reads, r->writes);
	topic_store_destroy(&r->store, NULL);
	KUNIT_EXPECT_EQ(test, r->store.tree.bytes, 0);
	KUNIT_EXPECT_EQ(test, r->store.tree.tables, 0);
}

/* ---- Allocation failures ---- */

#if IS_ENABLED(CONFIG_FAULT_INJECTION) && IS_ENABLED(CONFIG_FAILSLAB)

static const char *const nomem_filters[] = {
	"a/b/c", "a/b/d", "a/+/c", "a/#", "$share/g/a/b/c", "$share/h/a/b/c",
	"x/y", "x/z", "x/w", "x/v", "x/u", "x/t", "x/s", "x/r", "x/q", "x/p",
};

/* How many of nomem_filters (added where @ok says) match "a/b/c". */
static int nomem_want(const bool *ok)
{
	int i, n = 0;

	for (i = 0; i < 6; i++)
		n += ok[i] && i != 1;
	return n;
}

struct match_all_ctx {
	int n;
};

static int match_all(void *ctx, const struct topic_match *m)
{
	((struct match_all_ctx *)ctx)->n++;
	return 0;
}

/*
 * Make the @nth slab allocation of this task from now on fail (the fail-nth counter of
 * /proc/self/task/<tid>/fail-nth); failslab must not ignore sleeping allocations.
 */
static void fail_nth_arm(unsigned int nth)
{
	WRITE_ONCE(current->fail_nth, nth);
}

#define FAILSLAB_HINT \
	"no allocation failed: set /sys/kernel/debug/failslab/ignore-gfp-wait to N"

/* Disarm; returns whether the armed allocation was reached (and failed). */
static bool fail_nth_disarm(void)
{
	bool reached = !READ_ONCE(current->fail_nth);

	WRITE_ONCE(current->fail_nth, 0);
	return reached;
}

/*
 * nomem_subscribe: with each allocation of a batch of subscribes failing in turn, the
 * failing subscribe reports TOPIC_E_NOMEM and adds nothing, the others work, matching sees
 * exactly the successful ones and unsubscribing them empties the trie to zero bytes.
 */
static void topic_nomem_subscribe(struct kunit *test)
{
	const int nf = ARRAY_SIZE(nomem_filters);
	bool ok[ARRAY_SIZE(nomem_filters)];
	unsigned int nth, failures = 0;
	struct topic_trie t;
	bool reached;
	int i, ret;

	for (nth = 1; nth < 10000; nth++) {
		struct match_all_ctx m = {};
		u64 nomem_before;

		trie_new(&t, 0);
		fail_nth_arm(nth);
		for (i = 0; i < nf; i++) {
			u64 nodes = t.tree.nodes, subs = t.subs, groups = t.shared_groups;

			ret = sub(&t, nomem_filters[i], i, &qos0);
			ok[i] = ret == 0;
			if (ret && ret != TOPIC_E_NOMEM)
				break;
			/*
			 * A failed subscribe leaves no node, subscription or group behind. (Its
			 * bytes may differ: a table it grew before failing stays grown.)
			 */
			if (!ok[i] && (t.tree.nodes != nodes || t.subs != subs ||
				       t.shared_groups != groups))
				break;
		}
		reached = fail_nth_disarm();
		KUNIT_ASSERT_TRUE_MSG(test, i == nf,
				      "fail-nth %u: '%s' gave %s, %llu nodes, %llu subs, %llu groups",
				      nth, nomem_filters[i], topic_err_name(ret), t.tree.nodes,
				      t.subs, t.shared_groups);
		rcu_read_lock();
		ret = topic_match(&t, "a/b/c", 5, NULL, 0, match_all, &m);
		rcu_read_unlock();
		KUNIT_EXPECT_EQ_MSG(test, ret, nomem_want(ok), "fail-nth %u", nth);
		failures += t.tree.nomem > 0;
		nomem_before = t.tree.nomem;
		for (i = 0; i < nf; i++)
			KUNIT_EXPECT_EQ_MSG(test, unsub(&t, nomem_filters[i], i),
					    ok[i] ? 0 : TOPIC_E_NOT_FOUND, "fail-nth %u: '%s'", nth,
					    nomem_filters[i]);
		KUNIT_EXPECT_EQ(test, t.tree.nomem, nomem_before);
		expect_empty(test, &t);
		topic_trie_destroy(&t);
		if (!reached)
			break;
	}
	KUNIT_EXPECT_FALSE_MSG(test, reached, "still failing allocations at fail-nth %u", nth);
	if (!failures)
		kunit_skip(test, FAILSLAB_HINT);
	kunit_info(test, "%u failure points, %u gave TOPIC_E_NOMEM\n", nth - 1, failures);
}

/*
 * nomem_unsubscribe: unsubscribing never fails for want of memory (topic.h: it returns 0
 * or TOPIC_E_NOT_FOUND), whichever allocation it might attempt fails.
 */
static void topic_nomem_unsubscribe(struct kunit *test)
{
	const int nf = ARRAY_SIZE(nomem_filters);
	struct topic_trie t;
	unsigned int nth;
	bool reached;
	int i, ret = 0;

	for (nth = 1; nth < 10000; nth++) {
		trie_new(&t, 0);
		for (i = 0; i < nf; i++)
			KUNIT_ASSERT_EQ(test, sub(&t, nomem_filters[i], i, &qos0), 0);
		fail_nth_arm(nth);
		for (i = 0; i < nf; i++) {
			ret = unsub(&t, nomem_filters[i], i);
			if (ret)
				break;
		}
		reached = fail_nth_disarm();
		KUNIT_ASSERT_EQ_MSG(test, ret, 0, "fail-nth %u: unsubscribe '%s': %s", nth,
				    nomem_filters[i], topic_err_name(ret));
		expect_empty(test, &t);
		topic_trie_destroy(&t);
		if (!reached)
			break;
	}
	KUNIT_EXPECT_FALSE(test, reached);
}

/*
 * nomem_store_set: each allocation of a batch of store_set failing in turn leaves the
 * names stored so far readable and the store empty after deleting them.
 */
static void topic_nomem_store_set(struct kunit *test)
{
	static const char *const names[] = {
		"a/b/c", "a/b/d", "a/b", "a", "x/1", "x/2", "x/3", "x/4", "x/5", "x/6", "x/7",
		"x/8", "x/9", "$SYS/x",
	};
	const int nn = ARRAY_SIZE(names);
	struct topic_limits lim = TOPIC_LIMITS_DEFAULT;
	bool ok[ARRAY_SIZE(names)];
	unsigned int nth, failures = 0;
	struct topic_store s;
	bool reached;
	int i, ret = 0;

	for (nth = 1; nth < 10000; nth++) {
		topic_store_init(&s, &lim, 0);
		fail_nth_arm(nth);
		for (i = 0; i < nn; i++) {
			ret = topic_store_set(&s, names[i], strlen(names[i]), (void *)names[i],
					      NULL);
			ok[i] = ret == 0;
			if (ret && ret != TOPIC_E_NOMEM)
				break;
		}
		reached = fail_nth_disarm();
		KUNIT_ASSERT_TRUE_MSG(test, i == nn, "fail-nth %u: '%s' gave %s", nth, names[i],
				      topic_err_name(ret));
		failures += s.tree.nomem > 0;
		for (i = 0; i < nn; i++) {
			rcu_read_lock();
			KUNIT_EXPECT_PTR_EQ_MSG(test,
						topic_store_get(&s, names[i], strlen(names[i])),
						ok[i] ? (void *)names[i] : NULL,
						"fail-nth %u: '%s'", nth, names[i]);
			rcu_read_unlock();
		}
		for (i = 0; i < nn; i++)
			KUNIT_EXPECT_EQ(test, topic_store_del(&s, names[i], strlen(names[i]), NULL),
					ok[i] ? 0 : TOPIC_E_NOT_FOUND);
		KUNIT_EXPECT_EQ(test, s.entries, 0);
		KUNIT_EXPECT_EQ(test, s.tree.bytes, 0);
		KUNIT_EXPECT_EQ(test, s.tree.nodes, 0);
		topic_store_destroy(&s, NULL);
		if (!reached)
			break;
	}
	KUNIT_EXPECT_FALSE(test, reached);
	if (!failures)
		kunit_skip(test, FAILSLAB_HINT);
}

#else /* !(CONFIG_FAULT_INJECTION && CONFIG_FAILSLAB) */

static void topic_nomem_unavailable(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_FAULT_INJECTION and CONFIG_FAILSLAB");
}

#define topic_nomem_subscribe	topic_nomem_unavailable
#define topic_nomem_unsubscribe	topic_nomem_unavailable
#define topic_nomem_store_set	topic_nomem_unavailable

#endif

#define TOPIC_CASE(fn, gen)	{ .run_case = topic_##fn, .name = #fn, .generate_params = gen }
/* The races run for RACE_MS on purpose. */
#define TOPIC_CASE_SLOW(fn)	{ .run_case = topic_##fn, .name = #fn, \
				  .attr = { .speed = KUNIT_SPEED_SLOW } }

static struct kunit_case topic_cases[] = {
	TOPIC_CASE(valid, topic_valid_vectors_gen_params),
	TOPIC_CASE(match_trie, NULL),
	TOPIC_CASE(match_store, NULL),
	TOPIC_CASE_SLOW(match_vs_writer),
	TOPIC_CASE_SLOW(store_get_vs_writer),
	TOPIC_CASE(nomem_subscribe, NULL),
	TOPIC_CASE(nomem_unsubscribe, NULL),
	TOPIC_CASE(nomem_store_set, NULL),
	{}
};

static struct kunit_suite topic_suite = {
	.name = "kmqtt_topic",
	.test_cases = topic_cases,
};

kunit_test_suite(topic_suite);

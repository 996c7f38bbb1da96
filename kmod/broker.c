// SPDX-License-Identifier: GPL-2.0
/*
 * The broker's shared state: the topic trie of every subscription, fan-out of a PUBLISH
 * to the matching subscribers, ACL checks, and per-error protocol counters.
 *
 * Locking: the trie is read under rcu_read_lock() by any number of publishers at once
 * (kmqtt_publish) while subscribe/unsubscribe are serialized by kmqtt_trie_lock. A
 * subscriber pointer seen by a reader is a struct kmqtt_conn, freed only after an RCU
 * grace period, and pinned with kmqtt_conn_get() before it is used.
 */
#include <linux/atomic.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <net/netlink.h>
#include "kmqtt.h"
#include "stats.h"

static struct topic_trie kmqtt_trie;
static DEFINE_MUTEX(kmqtt_trie_lock);
static atomic64_t kmqtt_msg_seq;

static const struct mqtt_limits kmqtt_lim = {
	.max_packet_size = MQTT_MAX_PACKET_SIZE,	/* per connection: conn->max_packet */
	.max_subs = MQTT_DEFAULT_MAX_SUBS,
	.max_props = MQTT_DEFAULT_MAX_PROPS,
	.max_user_props = MQTT_DEFAULT_MAX_USER_PROPS,
	.max_client_id_len = KMQTT_MAX_CLIENT_ID,
	.topic = TOPIC_LIMITS_DEFAULT,
};

/* Protocol errors by codec error: index err - MQTT_E_BASE. */
#define KMQTT_N_ERRORS (MQTT_E__END - MQTT_E_BASE)
struct kmqtt_err_stats {
	u64 v[KMQTT_N_ERRORS];
};

static DEFINE_PER_CPU(struct kmqtt_err_stats, kmqtt_err_stats);

const struct mqtt_limits *kmqtt_limits(void)
{
	return &kmqtt_lim;
}

void kmqtt_count_error(int err)
{
	if (err < 0)
		err = -err;
	if (err >= MQTT_E_BASE && err < MQTT_E__END)
		this_cpu_inc(kmqtt_err_stats.v[err - MQTT_E_BASE]);
}

u64 kmqtt_error_count(int idx)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += READ_ONCE(per_cpu(kmqtt_err_stats, cpu).v[idx]);
	return sum;
}

/*
 * A connection's ACL: rules in the order the daemon gave them, each a topic filter held
 * in a private trie whose "subscriber" is the rule's index + 1, so matching a topic
 * against the rules uses the same matcher as message routing. First match decides.
 */
struct kmqtt_acl {
	struct topic_trie trie;
	u32 n;
	u32 cap;
	u8 access[];
};

struct kmqtt_acl *kmqtt_acl_alloc(u32 n_rules)
{
	struct kmqtt_acl *acl;

	acl = kzalloc(struct_size(acl, access, n_rules), GFP_KERNEL_ACCOUNT);
	if (!acl)
		return NULL;
	acl->cap = n_rules;
	/* No shared-subscription syntax in ACL filters: "$share/..." is literal. */
	topic_trie_init(&acl->trie, &(struct topic_limits){
		.max_topic_len = TOPIC_DEFAULT_MAX_LEN,
		.max_levels = TOPIC_DEFAULT_MAX_LEVELS }, 0);
	return acl;
}

int kmqtt_acl_add(struct kmqtt_acl *acl, const char *filter, u32 access)
{
	struct topic_sub_opts opts = {};
	size_t len = strlen(filter);
	int ret;

	if (acl->n == acl->cap || len == 0 || len > TOPIC_DEFAULT_MAX_LEN)
		return -EINVAL;
	ret = topic_subscribe(&acl->trie, filter, len, (void *)(uintptr_t)(acl->n + 1), &opts);
	if (ret < 0)
		return -EINVAL;
	/* A filter given twice matches twice; the earlier rule (smaller index) decides. */
	acl->access[acl->n++] = access;
	return 0;
}

void kmqtt_acl_free(struct kmqtt_acl *acl)
{
	if (!acl)
		return;
	topic_trie_destroy(&acl->trie);
	kfree(acl);
}

static int kmqtt_acl_first(void *ctx, const struct topic_match *m)
{
	u32 *first = ctx;
	u32 idx = (u32)(uintptr_t)m->subscriber;

	if (idx < *first)
		*first = idx;
	return 0;
}

bool kmqtt_acl_allows(const struct kmqtt_acl *acl, const char *topic, u16 len, u32 access)
{
	u32 first = U32_MAX;

	if (!acl)
		return true;
	/* The ACL trie is never written after hand-off: reading it needs no lock. */
	topic_match((struct topic_trie *)&acl->trie, topic, len, NULL, 0, kmqtt_acl_first, &first);
	if (first == U32_MAX)
		return false;
	return (acl->access[first - 1] & access) == access;
}

struct kmqtt_sub {
	struct list_head node;
	u16 len;
	u8 qos;
	char filter[];
};

int kmqtt_subscribe(struct kmqtt_conn *c, const char *filter, u16 len, u8 qos)
{
	struct topic_sub_opts opts = { .qos = qos };
	struct kmqtt_sub *s;
	int ret;

	s = kmalloc(struct_size(s, filter, len), GFP_KERNEL_ACCOUNT);
	if (!s)
		return -ENOMEM;
	mutex_lock(&kmqtt_trie_lock);
	ret = topic_subscribe(&kmqtt_trie, filter, len, c, &opts);
	mutex_unlock(&kmqtt_trie_lock);
	if (ret < 0 || ret == 1) {
		/* Error, or options of an existing subscription replaced. */
		kfree(s);
		if (ret < 0)
			return -EINVAL;
		list_for_each_entry(s, &c->subs, node)
			if (s->len == len && !memcmp(s->filter, filter, len))
				s->qos = qos;
		return 0;
	}
	s->len = len;
	s->qos = qos;
	memcpy(s->filter, filter, len);
	list_add_tail(&s->node, &c->subs);
	c->n_subs++;
	kmqtt_stat_inc(KMQTT_STAT_SUBSCRIPTIONS);
	return 0;
}

int kmqtt_unsubscribe(struct kmqtt_conn *c, const char *filter, u16 len)
{
	struct kmqtt_sub *s;
	int ret;

	list_for_each_entry(s, &c->subs, node) {
		if (s->len != len || memcmp(s->filter, filter, len))
			continue;
		mutex_lock(&kmqtt_trie_lock);
		ret = topic_unsubscribe(&kmqtt_trie, filter, len, c);
		mutex_unlock(&kmqtt_trie_lock);
		WARN_ON_ONCE(ret);
		list_del(&s->node);
		kfree(s);
		c->n_subs--;
		kmqtt_stat_dec(KMQTT_STAT_SUBSCRIPTIONS);
		return 0;
	}
	return -ENOENT;
}

void kmqtt_unsubscribe_all(struct kmqtt_conn *c)
{
	struct kmqtt_sub *s, *tmp;

	mutex_lock(&kmqtt_trie_lock);
	list_for_each_entry_safe(s, tmp, &c->subs, node) {
		WARN_ON_ONCE(topic_unsubscribe(&kmqtt_trie, s->filter, s->len, c));
		list_del(&s->node);
		kfree(s);
		kmqtt_stat_dec(KMQTT_STAT_SUBSCRIPTIONS);
	}
	mutex_unlock(&kmqtt_trie_lock);
	c->n_subs = 0;
}

void kmqtt_subs_move(struct kmqtt_conn *from, struct kmqtt_conn *to)
{
	struct kmqtt_sub *s;

	list_for_each_entry(s, &from->subs, node)
		if (kmqtt_subscribe(to, s->filter, s->len, s->qos))
			pr_warn_ratelimited("session %s: a subscription could not be moved\n",
					    to->client_id);
	kmqtt_unsubscribe_all(from);
}

size_t kmqtt_subs_nla_size(struct kmqtt_conn *c)
{
	struct kmqtt_sub *s;
	size_t n = nla_total_size(0);

	list_for_each_entry(s, &c->subs, node)
		n += nla_total_size(0) + nla_total_size(s->len) + nla_total_size(1);
	return n;
}

int kmqtt_subs_nla_put(struct sk_buff *msg, struct kmqtt_conn *c)
{
	struct nlattr *subs, *sub;
	struct kmqtt_sub *s;

	subs = nla_nest_start(msg, KMQTT_A_SUBS);
	if (!subs)
		return -EMSGSIZE;
	list_for_each_entry(s, &c->subs, node) {
		sub = nla_nest_start(msg, KMQTT_A_SUB);
		if (!sub || nla_put(msg, KMQTT_SUB_A_FILTER, s->len, s->filter) ||
		    nla_put_u8(msg, KMQTT_SUB_A_QOS, s->qos))
			return -EMSGSIZE;
		nla_nest_end(msg, sub);
	}
	nla_nest_end(msg, subs);
	return 0;
}

void kmqtt_msg_put(struct kmqtt_msg *m)
{
	if (refcount_dec_and_test(&m->ref))
		kvfree(m);
}

/* A parked session matched during the fan-out, handed over after the RCU section. */
struct kmqtt_parked_match {
	struct kmqtt_parked_match *next;
	struct kmqtt_conn *conn;	/* with a reference */
	u8 qos;
};

struct kmqtt_fanout {
	struct kmqtt_msg *msg;
	struct kmqtt_parked_match *parked;
	int queued;
	bool failed;		/* a parked session could not be handed the message */
};

static int kmqtt_deliver(void *ctx, const struct topic_match *m)
{
	struct kmqtt_fanout *f = ctx;
	struct kmqtt_conn *c = m->subscriber;
	struct kmqtt_msg *msg = f->msg;
	u8 qos = min(msg->qos, m->opts->qos);
	struct kmqtt_parked_match *pm;
	int ret;

	if (c->acl && !kmqtt_acl_allows(c->acl, (const char *)msg->data, msg->topic_len,
					KMQTT_ACL_READ)) {
		kmqtt_stat_inc(KMQTT_STAT_ACL_DENIED);
		return 0;
	}
	ret = kmqtt_conn_enqueue(c, msg, qos);
	if (ret > 0) {
		f->queued++;
	} else if (ret == -EAGAIN) {
		/* Inside RCU: the netlink hand-over may sleep, so it comes after. */
		pm = kmalloc(sizeof(*pm), GFP_ATOMIC | __GFP_NOWARN);
		if (pm && kmqtt_conn_get(c)) {
			pm->conn = c;
			pm->qos = qos;
			pm->next = f->parked;
			f->parked = pm;
		} else {
			kfree(pm);
			f->failed = true;
			kmqtt_stat_inc(KMQTT_STAT_SESSION_MSGS_REFUSED);
		}
	}
	return 0;
}

struct kmqtt_msg *kmqtt_msg_new(u16 topic_len, u32 payload_len)
{
	struct kmqtt_msg *m;

	m = kvmalloc(struct_size(m, data, (size_t)topic_len + payload_len), GFP_KERNEL_ACCOUNT);
	if (!m)
		return NULL;
	refcount_set(&m->ref, 1);
	m->topic_len = topic_len;
	m->payload_len = payload_len;
	m->qos = 0;
	m->retain = false;
	m->seq = atomic64_inc_return(&kmqtt_msg_seq);
	return m;
}

struct kmqtt_ack *kmqtt_ack_get(struct kmqtt_ack **ack, struct kmqtt_conn *from,
				const struct mqtt_publish *p)
{
	struct kmqtt_ack *a = *ack;

	if (a)
		return a;
	a = kzalloc(sizeof(*a), GFP_KERNEL_ACCOUNT);
	if (!a) {
		kmqtt_stat_inc(KMQTT_STAT_NO_MEMORY);
		return NULL;
	}
	refcount_set(&a->ref, 1);	/* the publisher's */
	a->qos = p->qos;
	a->pid = p->packet_id;
	a->conn_id = from->id;
	*ack = a;
	return a;
}

void kmqtt_ack_put(struct kmqtt_ack *a)
{
	struct kmqtt_conn *c;

	if (!refcount_dec_and_test(&a->ref))
		return;
	if (!READ_ONCE(a->failed)) {
		/* Every party responsible holds the message: acknowledge it. */
		c = kmqtt_conn_find(a->conn_id);
		if (c) {
			kmqtt_conn_ack_late(c, a->qos, a->pid);
			kmqtt_conn_put(c);
		}
	}
	kfree(a);
}

/*
 * After the RCU section: hand the message to each parked session it matched; each
 * hand-over holds a reference on the publisher's tracker. Returns -ENOMEM if the tracker
 * could not be had (nothing handed over: no acknowledgment may be sent).
 */
static int kmqtt_fanout_parked(struct kmqtt_fanout *f, struct kmqtt_conn *from,
			       const struct mqtt_publish *p, struct kmqtt_ack **ack)
{
	struct kmqtt_parked_match *pm;
	struct kmqtt_ack *a = NULL;
	int ret = 0;

	if (ack && from && p->qos) {
		a = kmqtt_ack_get(ack, from, p);
		if (!a)
			ret = -ENOMEM;
	}
	while ((pm = f->parked)) {
		f->parked = pm->next;
		if (!ret && !kmqtt_conn_parked_deliver(pm->conn, f->msg, pm->qos, a))
			f->failed = true;
		kmqtt_conn_put(pm->conn);
		kfree(pm);
	}
	return ret;
}

int kmqtt_publish(struct kmqtt_conn *from, const struct mqtt_publish *p,
		  struct kmqtt_ack **ack)
{
	struct kmqtt_fanout f = {};
	struct kmqtt_msg *m;
	int ret;

	m = kmqtt_msg_new(p->topic.len, p->payload_len);
	if (!m) {
		kmqtt_stat_inc(KMQTT_STAT_NO_MEMORY);
		return -ENOMEM;
	}
	m->qos = p->qos;
	/* Live forwarding clears the retain flag [MQTT-3.3.1-9]. */
	memcpy(m->data, p->topic.s, p->topic.len);
	if (p->payload_len)
		memcpy(m->data + p->topic.len, p->payload, p->payload_len);

	f.msg = m;
	rcu_read_lock();
	topic_match(&kmqtt_trie, p->topic.s, p->topic.len, from, 0, kmqtt_deliver, &f);
	rcu_read_unlock();
	ret = f.parked ? kmqtt_fanout_parked(&f, from, p, ack) : 0;
	kmqtt_msg_put(m);
	if (ret)
		return ret;
	if (f.failed && ack && p->qos) {
		/* Not held by every party responsible: no acknowledgment. */
		if (!kmqtt_ack_get(ack, from, p))
			return -ENOMEM;
		WRITE_ONCE((*ack)->failed, true);
	}
	return f.queued;
}

int __init kmqtt_broker_init(void)
{
	topic_trie_init(&kmqtt_trie, &kmqtt_lim.topic, 0);
	return 0;
}

void kmqtt_broker_exit(void)
{
	mutex_lock(&kmqtt_trie_lock);
	topic_trie_destroy(&kmqtt_trie);
	mutex_unlock(&kmqtt_trie_lock);
}

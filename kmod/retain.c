// SPDX-License-Identifier: GPL-2.0
/*
 * The punt channel for retained messages (see "Retained messages" in uapi/linux/kmqtt.h).
 *
 * A retained PUBLISH is forwarded live by the fast path as any other, and handed to the
 * daemon as a KMQTT_CMD_RETAIN event. The hand-over is remembered in kmqtt_punts (by punt
 * id) until the daemon confirms it with KMQTT_CMD_RETAIN_STORED; only then does a QoS 1
 * publisher get its PUBACK. The table is bounded in entries and bytes, and emptied when
 * the daemon goes away or the module is unloaded. Nothing here blocks on the daemon:
 * events are unicast without waiting, and a full socket refuses the message (counted).
 *
 * The daemon answers a granted subscription (KMQTT_CMD_SUBSCRIBED) with the matching
 * retained messages (KMQTT_CMD_DELIVER), queued to the subscriber behind its SUBACK.
 *
 * Locking: kmqtt_punt_lock (a mutex: every caller is in process context) protects the
 * table and its totals. A pending punt holds the connection's id, not a reference: a
 * confirmation for a connection that is gone finds nothing and is dropped.
 */
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/xarray.h>
#include <net/genetlink.h>
#include "compat.h"
#include "kmqtt.h"
#include "stats.h"

struct kmqtt_punt {
	struct list_head node;	/* on a list being flushed */
	struct kmqtt_ack *ack;	/* the publisher's tracker, NULL if nobody waits */
	struct kmqtt_tx *owed;	/* a session's message, kept until confirmed */
	struct kmqtt_conn *sess;	/* ... and its parked session, with a reference */
	u32 bytes;
	bool session;		/* KMQTT_CMD_SESSION_MSG, else KMQTT_CMD_RETAIN */
};

/*
 * Owed messages are numbered in hand-over order. The count starts at the wall clock in
 * microseconds and never goes below what a registering daemon holds (a gateway's clock
 * may go back across a reboot), so a number is never one the daemon already stored.
 */
static atomic64_t kmqtt_owed_seq = ATOMIC64_INIT(0);

u64 kmqtt_owed_seq_next(void)
{
	return atomic64_inc_return(&kmqtt_owed_seq);
}

void kmqtt_owed_seq_floor(u64 seq)
{
	u64 cur = atomic64_read(&kmqtt_owed_seq);

	while (cur < seq && !atomic64_try_cmpxchg(&kmqtt_owed_seq, &cur, seq))
		;
}

static DEFINE_MUTEX(kmqtt_punt_lock);
static DECLARE_WAIT_QUEUE_HEAD(kmqtt_punt_wq);
static DEFINE_XARRAY_ALLOC1(kmqtt_punts);
static u32 kmqtt_punt_next;
static u32 kmqtt_punt_count;
static u32 kmqtt_punt_bytes;
static bool kmqtt_punt_stopping;

/* Room for the attributes of an event with @tlen topic and @plen payload bytes. */
static size_t kmqtt_punt_size(u32 tlen, u32 plen)
{
	u32 chunks = DIV_ROUND_UP(plen, KMQTT_PAYLOAD_CHUNK);

	return nla_total_size(tlen) + chunks * nla_total_size(KMQTT_PAYLOAD_CHUNK) +
	       nla_total_size(KMQTT_MAX_CLIENT_ID + 1) + 4 * nla_total_size_64bit(8);
}

static int kmqtt_put_payload(struct sk_buff *msg, const u8 *p, u32 len)
{
	u32 n;

	while (len) {
		n = min_t(u32, len, KMQTT_PAYLOAD_CHUNK);
		if (nla_put(msg, KMQTT_A_PAYLOAD, n, p))
			return -EMSGSIZE;
		p += n;
		len -= n;
	}
	return 0;
}

/* Take hand-over @id out of the table; NULL if it is not (any more) there. */
static struct kmqtt_punt *kmqtt_punt_take(u32 id)
{
	struct kmqtt_punt *e;

	mutex_lock(&kmqtt_punt_lock);
	e = xa_erase(&kmqtt_punts, id);
	if (e) {
		kmqtt_punt_count--;
		kmqtt_punt_bytes -= e->bytes;
		if (!kmqtt_punt_count)
			wake_up_all(&kmqtt_punt_wq);
	}
	mutex_unlock(&kmqtt_punt_lock);
	if (e)
		kmqtt_stat_dec(KMQTT_STAT_RETAIN_PENDING);
	return e;
}

/* The hand-over is over: confirmed (@ok) or not; the publisher's tracker is told. */
static void kmqtt_punt_end(struct kmqtt_punt *e, bool ok)
{
	bool held = ok;

	/* A session's message not confirmed is held by its parked session again first. */
	if (e->owed) {
		if (ok)
			kmqtt_tx_free(e->owed);
		else
			held = kmqtt_session_take_back(e->sess, e->owed);
		kmqtt_conn_put(e->sess);
	}
	if (e->ack) {
		if (!held)
			WRITE_ONCE(e->ack->failed, true);
		kmqtt_ack_put(e->ack);
	}
	kfree(e);
}

/*
 * Record a hand-over of @bytes; its id in *@id. -ENOSPC over the limits. Under
 * kmqtt_punt_lock, which the caller holds until the event is sent (or recorded as not
 * sent): a flush never finds a hand-over whose fate its sender does not know yet.
 */
static int kmqtt_punt_add_locked(struct kmqtt_punt *e, u32 *id)
{
	int err = -ENOSPC;

	lockdep_assert_held(&kmqtt_punt_lock);
	if (!kmqtt_punt_stopping && kmqtt_punt_count < KMQTT_MAX_RETAIN_PENDING &&
	    kmqtt_punt_bytes + e->bytes <= KMQTT_MAX_RETAIN_PENDING_BYTES)
		err = xa_alloc_cyclic(&kmqtt_punts, id, e, xa_limit_32b, &kmqtt_punt_next,
				      GFP_KERNEL_ACCOUNT);
	if (err < 0)
		return err;
	kmqtt_punt_count++;
	kmqtt_punt_bytes += e->bytes;
	kmqtt_stat_inc(KMQTT_STAT_RETAIN_PENDING);
	if (e->ack)
		refcount_inc(&e->ack->ref);
	return 0;
}

/* The event of hand-over @id could not be sent: forget it; the sender keeps what it gave. */
static void kmqtt_punt_unrecord_locked(struct kmqtt_punt *e, u32 id)
{
	lockdep_assert_held(&kmqtt_punt_lock);
	xa_erase(&kmqtt_punts, id);
	kmqtt_punt_count--;
	kmqtt_punt_bytes -= e->bytes;
	if (!kmqtt_punt_count)
		wake_up_all(&kmqtt_punt_wq);
	kmqtt_stat_dec(KMQTT_STAT_RETAIN_PENDING);
	/* The sender still holds its own tracker reference: this one is never the last. */
	if (e->ack)
		refcount_dec(&e->ack->ref);
}

/*
 * Hand the retained PUBLISH @p of @c to the daemon. Returns true if the daemon got it: the
 * hand-over then holds a reference on @ack until the daemon confirms the store. False: not
 * stored (counted), and no PUBACK/PUBREC may be sent.
 */
bool kmqtt_retain_punt(struct kmqtt_conn *c, const struct mqtt_publish *p,
		       struct kmqtt_ack *ack)
{
	u32 bytes = p->topic.len + p->payload_len;
	struct kmqtt_punt *e;
	struct sk_buff *msg;
	u32 portid, id;
	void *hdr;

	if (bytes > KMQTT_MAX_RETAIN_SIZE)
		goto refused;
	portid = kmqtt_nl_daemon_portid();
	if (!portid)
		goto refused;
	e = kzalloc(sizeof(*e), GFP_KERNEL_ACCOUNT);
	if (!e)
		goto nomem;
	e->bytes = bytes;
	e->ack = ack;
	msg = genlmsg_new(kmqtt_punt_size(p->topic.len, p->payload_len), GFP_KERNEL);
	if (!msg) {
		kfree(e);
		goto nomem;
	}
	mutex_lock(&kmqtt_punt_lock);
	if (kmqtt_punt_add_locked(e, &id)) {
		mutex_unlock(&kmqtt_punt_lock);
		kfree(e);
		nlmsg_free(msg);
		goto refused;
	}

	hdr = kmqtt_nl_event_put(msg, KMQTT_CMD_RETAIN);
	if (!hdr || nla_put_u32(msg, KMQTT_A_PUNT_ID, id) ||
	    nla_put_u64_64bit(msg, KMQTT_A_CONN_ID, c->id, KMQTT_A_PAD) ||
	    nla_put_string(msg, KMQTT_A_CLIENT_ID, c->client_id) ||
	    nla_put(msg, KMQTT_A_TOPIC, p->topic.len, p->topic.s) ||
	    nla_put_u8(msg, KMQTT_A_QOS, p->qos) ||
	    kmqtt_put_payload(msg, p->payload, p->payload_len)) {
		nlmsg_free(msg);
		goto unwind;
	}
	genlmsg_end(msg, hdr);
	/* Never waits: a daemon that does not read fills its socket and is refused. */
	if (genlmsg_unicast(&init_net, msg, portid))
		goto unwind;
	mutex_unlock(&kmqtt_punt_lock);
	kmqtt_stat_inc(KMQTT_STAT_RETAIN_PUNTED);
	return true;

unwind:
	kmqtt_punt_unrecord_locked(e, id);
	mutex_unlock(&kmqtt_punt_lock);
	kfree(e);
	goto refused;
nomem:
	kmqtt_stat_inc(KMQTT_STAT_NO_MEMORY);
refused:
	kmqtt_stat_inc(KMQTT_STAT_RETAIN_NOT_STORED);
	return false;
}

bool kmqtt_session_punt(struct kmqtt_conn *c, struct kmqtt_tx *t, struct kmqtt_ack *ack)
{
	const struct kmqtt_msg *m = t->released ? NULL : t->msg;
	u32 tlen = m ? m->topic_len : 0, plen = m ? m->payload_len : 0;
	u32 flags = (t->released ? KMQTT_MSG_F_PUBREL : t->dup ? KMQTT_MSG_F_DUP : 0) |
		    (t->again ? KMQTT_MSG_F_AGAIN : 0);
	struct kmqtt_punt *e;
	struct sk_buff *msg;
	u32 portid, id;
	void *hdr;

	portid = kmqtt_nl_daemon_portid();
	if (!portid || tlen + plen > KMQTT_MAX_RETAIN_SIZE)
		goto refused;
	e = kzalloc(sizeof(*e), GFP_KERNEL_ACCOUNT);
	if (!e)
		goto nomem;
	e->bytes = tlen + plen;
	e->ack = ack;
	e->session = true;
	msg = genlmsg_new(kmqtt_punt_size(tlen, plen) + nla_total_size(4) + nla_total_size(2),
			  GFP_KERNEL);
	if (!msg) {
		kfree(e);
		goto nomem;
	}
	/* The parked session outlives the hand-over: it may have to take the message back. */
	kref_get(&c->ref);
	e->sess = c;
	e->owed = t;
	if (!t->owed_seq)
		t->owed_seq = kmqtt_owed_seq_next();
	mutex_lock(&kmqtt_punt_lock);
	if (kmqtt_punt_add_locked(e, &id)) {
		mutex_unlock(&kmqtt_punt_lock);
		kmqtt_conn_put(c);
		kfree(e);
		nlmsg_free(msg);
		goto refused;
	}
	hdr = kmqtt_nl_event_put(msg, KMQTT_CMD_SESSION_MSG);
	if (!hdr || nla_put_u32(msg, KMQTT_A_PUNT_ID, id) ||
	    nla_put_string(msg, KMQTT_A_CLIENT_ID, c->client_id) ||
	    (m && nla_put(msg, KMQTT_A_TOPIC, tlen, m->data)) ||
	    nla_put_u8(msg, KMQTT_A_QOS, t->qos) ||
	    nla_put_u32(msg, KMQTT_A_FLAGS, flags) ||
	    (t->pid && nla_put_u16(msg, KMQTT_A_PACKET_ID, t->pid)) ||
	    nla_put_u64_64bit(msg, KMQTT_A_OWED_SEQ, t->owed_seq, KMQTT_A_PAD) ||
	    (m && kmqtt_put_payload(msg, m->data + tlen, plen))) {
		nlmsg_free(msg);
		goto unwind;
	}
	genlmsg_end(msg, hdr);
	if (genlmsg_unicast(&init_net, msg, portid))
		goto unwind;
	mutex_unlock(&kmqtt_punt_lock);
	kmqtt_stat_inc(KMQTT_STAT_SESSION_MSGS_PUNTED);
	return true;

unwind:
	kmqtt_punt_unrecord_locked(e, id);
	mutex_unlock(&kmqtt_punt_lock);
	kmqtt_conn_put(c);
	kfree(e);
	goto refused;
nomem:
	kmqtt_stat_inc(KMQTT_STAT_NO_MEMORY);
refused:
	kmqtt_stat_inc(KMQTT_STAT_SESSION_MSGS_REFUSED);
	return false;
}

bool kmqtt_session_parked_event(struct kmqtt_conn *c)
{
	struct nlattr *ids;
	struct sk_buff *msg;
	unsigned long idx;
	u32 portid;
	void *hdr, *v;

	portid = kmqtt_nl_daemon_portid();
	if (!portid)
		goto lost;
	msg = genlmsg_new(nla_total_size(KMQTT_MAX_CLIENT_ID + 1) + 2 * nla_total_size_64bit(8) +
			  kmqtt_subs_nla_size(c) + nla_total_size(0) +
			  c->n_qos2_in * nla_total_size(2), GFP_KERNEL);
	if (!msg)
		goto lost;
	hdr = kmqtt_nl_event_put(msg, KMQTT_CMD_SESSION_PARKED);
	if (!hdr || nla_put_string(msg, KMQTT_A_CLIENT_ID, c->client_id) ||
	    nla_put_u64_64bit(msg, KMQTT_A_CONN_ID, c->id, KMQTT_A_PAD) ||
	    (c->max_store_id &&
	     nla_put_u64_64bit(msg, KMQTT_A_STORE_ID, c->max_store_id, KMQTT_A_PAD)) ||
	    kmqtt_subs_nla_put(msg, c))
		goto free;
	ids = nla_nest_start(msg, KMQTT_A_QOS2_IDS);
	if (!ids)
		goto free;
	xa_for_each(&c->qos2_in, idx, v)
		if (nla_put_u16(msg, KMQTT_A_PACKET_ID, idx))
			goto free;
	nla_nest_end(msg, ids);
	genlmsg_end(msg, hdr);
	if (genlmsg_unicast(&init_net, msg, portid))
		goto lost;
	return true;
free:
	nlmsg_free(msg);
lost:
	kmqtt_stat_inc(KMQTT_STAT_EVENTS_LOST);
	pr_warn_ratelimited("session %s parked, but the daemon could not be told\n",
			    c->client_id);
	return false;
}

int kmqtt_nl_retain_stored(struct sk_buff *skb, struct genl_info *info)
{
	struct kmqtt_punt *e;

	kmqtt_stat_inc(KMQTT_STAT_NL_REQUESTS);
	if (!kmqtt_nl_is_daemon(info)) {
		NL_SET_ERR_MSG_MOD(info->extack, "only the daemon confirms hand-overs");
		return -EPERM;
	}
	if (GENL_REQ_ATTR_CHECK(info, KMQTT_A_PUNT_ID))
		return -EINVAL;
	e = kmqtt_punt_take(nla_get_u32(info->attrs[KMQTT_A_PUNT_ID]));
	if (!e) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KMQTT_A_PUNT_ID],
				    "kmqtt: no such hand-over waiting");
		return -ENOENT;
	}
	kmqtt_stat_inc(e->session ? KMQTT_STAT_SESSION_MSGS_STORED : KMQTT_STAT_RETAIN_STORED);
	/* Every party responsible holds it now: the last one sends the PUBACK/PUBREC. */
	kmqtt_punt_end(e, true);
	return 0;
}

/* Tell the daemon about a granted subscription; counted as lost if it cannot hear it. */
void kmqtt_retain_subscribed(struct kmqtt_conn *c, const char *filter, u16 len, u8 qos)
{
	struct sk_buff *msg;
	u32 portid;
	void *hdr;

	portid = kmqtt_nl_daemon_portid();
	if (!portid)
		goto lost;
	msg = genlmsg_new(kmqtt_punt_size(len, 0), GFP_KERNEL);
	if (!msg)
		goto lost;
	hdr = kmqtt_nl_event_put(msg, KMQTT_CMD_SUBSCRIBED);
	if (!hdr || nla_put_u64_64bit(msg, KMQTT_A_CONN_ID, c->id, KMQTT_A_PAD) ||
	    nla_put_string(msg, KMQTT_A_CLIENT_ID, c->client_id) ||
	    nla_put(msg, KMQTT_A_TOPIC, len, filter) ||
	    nla_put_u8(msg, KMQTT_A_QOS, qos)) {
		nlmsg_free(msg);
		goto lost;
	}
	genlmsg_end(msg, hdr);
	if (genlmsg_unicast(&init_net, msg, portid))
		goto lost;
	return;
lost:
	kmqtt_stat_inc(KMQTT_STAT_EVENTS_LOST);
}

/*
 * Has the stored message @id (0: none) been delivered to the session of @c already?
 * Deliveries are serialized (genetlink); the id is recorded once the message is queued.
 */
static bool kmqtt_store_id_seen(struct kmqtt_conn *c, u64 id)
{
	return id && id <= READ_ONCE(c->max_store_id);
}

static void kmqtt_store_id_delivered(struct kmqtt_conn *c, u64 id)
{
	if (id)
		WRITE_ONCE(c->max_store_id, id);
}

/*
 * Stored messages are taken in order: once one was refused, a later one (higher id) is
 * refused too until that one comes again, so that the daemon, sending a batch without
 * waiting for each answer, always finds an accepted prefix. Deliveries are serialized
 * (the family has no parallel ops).
 */
static bool kmqtt_store_gap(struct kmqtt_conn *c, u64 id)
{
	return id && c->store_refused && id > c->store_refused;
}

static void kmqtt_store_result(struct kmqtt_conn *c, u64 id, int err)
{
	if (!id)
		return;
	if (err == -ENOBUFS || err == -ENOMEM) {
		if (!c->store_refused || id < c->store_refused)
			c->store_refused = id;
	} else if (!err && id <= c->store_refused) {
		c->store_refused = 0;
	}
}

int kmqtt_nl_deliver(struct sk_buff *skb, struct genl_info *info)
{
	const struct nlattr *a, *topic;
	struct kmqtt_conn *c;
	struct kmqtt_msg *m;
	u32 plen = 0, off, flags = 0;
	u64 store_id = 0;
	u16 pid = 0;
	int rem, err;
	u8 qos;

	kmqtt_stat_inc(KMQTT_STAT_NL_REQUESTS);
	if (!kmqtt_nl_is_daemon(info)) {
		NL_SET_ERR_MSG_MOD(info->extack, "only the daemon delivers stored messages");
		return -EPERM;
	}
	if (GENL_REQ_ATTR_CHECK(info, KMQTT_A_CONN_ID) ||
	    GENL_REQ_ATTR_CHECK(info, KMQTT_A_QOS))
		return -EINVAL;
	err = -EINVAL;
	if (info->attrs[KMQTT_A_FLAGS])
		flags = nla_get_u32(info->attrs[KMQTT_A_FLAGS]);
	if (flags & ~__KMQTT_MSG_F_ALL) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KMQTT_A_FLAGS],
				    "kmqtt: unknown delivery flags");
		goto refused;
	}
	if (info->attrs[KMQTT_A_PACKET_ID])
		pid = nla_get_u16(info->attrs[KMQTT_A_PACKET_ID]);
	if (info->attrs[KMQTT_A_STORE_ID])
		store_id = nla_get_u64(info->attrs[KMQTT_A_STORE_ID]);
	qos = nla_get_u8(info->attrs[KMQTT_A_QOS]);
	topic = info->attrs[KMQTT_A_TOPIC];
	if ((flags & (KMQTT_MSG_F_DUP | KMQTT_MSG_F_PUBREL)) && (!pid || !qos)) {
		NL_SET_ERR_MSG_MOD(info->extack, "kmqtt: a resend needs its packet id and QoS");
		goto refused;
	}
	if (flags & KMQTT_MSG_F_PUBREL) {
		if (qos != 2 || topic) {
			NL_SET_ERR_MSG_MOD(info->extack, "kmqtt: PUBREL is QoS 2, without topic");
			goto refused;
		}
		err = -ENOENT;
		c = kmqtt_conn_find(nla_get_u64(info->attrs[KMQTT_A_CONN_ID]));
		if (!c) {
			NL_SET_ERR_MSG_MOD(info->extack, "no such connection");
			goto refused;
		}
		err = 0;
		if (kmqtt_store_gap(c, store_id)) {
			NL_SET_ERR_MSG_MOD(info->extack, "kmqtt: an earlier message was refused");
			err = -EAGAIN;
		} else if (!kmqtt_store_id_seen(c, store_id)) {
			err = kmqtt_conn_enqueue_resend(c, NULL, 2, pid);
			if (!err)
				kmqtt_store_id_delivered(c, store_id);
			kmqtt_store_result(c, store_id, err);
		}
		kmqtt_conn_put(c);
		if (err)
			goto refused;
		return 0;
	}
	if (!topic) {
		NL_SET_ERR_MSG_MOD(info->extack, "kmqtt: a message needs a topic");
		goto refused;
	}
	if (topic_name_valid(nla_data(topic), nla_len(topic), &kmqtt_limits()->topic)) {
		NL_SET_ERR_MSG_ATTR(info->extack, topic, "kmqtt: invalid topic name");
		goto refused;
	}
	nla_for_each_attr(a, genlmsg_data(info->genlhdr), genlmsg_len(info->genlhdr), rem)
		if (nla_type(a) == KMQTT_A_PAYLOAD)
			plen += nla_len(a);
	err = -EMSGSIZE;
	if (plen > KMQTT_MAX_RETAIN_SIZE - nla_len(topic)) {
		NL_SET_ERR_MSG_MOD(info->extack, "message too large");
		goto refused;
	}
	err = -ENOENT;
	c = kmqtt_conn_find(nla_get_u64(info->attrs[KMQTT_A_CONN_ID]));
	if (!c) {
		NL_SET_ERR_MSG_MOD(info->extack, "no such connection");
		goto refused;
	}
	err = -EAGAIN;
	if (kmqtt_store_gap(c, store_id)) {
		NL_SET_ERR_MSG_MOD(info->extack, "kmqtt: an earlier stored message was refused");
		goto put_conn;
	}
	/* Delivered before (the daemon was killed before it could forget it): done. */
	err = 0;
	if (kmqtt_store_id_seen(c, store_id))
		goto put_conn;
	/* The read check of the fan-out: what the subscriber may not read, it does not get. */
	err = -EACCES;
	if (!kmqtt_acl_allows(c->acl, nla_data(topic), nla_len(topic), KMQTT_ACL_READ)) {
		kmqtt_stat_inc(KMQTT_STAT_ACL_DENIED);
		goto put_conn;
	}
	err = -ENOMEM;
	m = kmqtt_msg_new(nla_len(topic), plen);
	if (!m) {
		kmqtt_stat_inc(KMQTT_STAT_NO_MEMORY);
		goto put_conn;
	}
	m->qos = qos;
	m->retain = flags & KMQTT_MSG_F_RETAIN;
	memcpy(m->data, nla_data(topic), nla_len(topic));
	off = nla_len(topic);
	nla_for_each_attr(a, genlmsg_data(info->genlhdr), genlmsg_len(info->genlhdr), rem) {
		if (nla_type(a) != KMQTT_A_PAYLOAD)
			continue;
		memcpy(m->data + off, nla_data(a), nla_len(a));
		off += nla_len(a);
	}
	if (flags & KMQTT_MSG_F_DUP)
		err = kmqtt_conn_enqueue_resend(c, m, qos, pid);
	else
		err = kmqtt_conn_enqueue_stored(c, m, qos) > 0 ? 0 : -ENOBUFS;
	if (!err)
		kmqtt_store_id_delivered(c, store_id);
	kmqtt_msg_put(m);
put_conn:
	kmqtt_store_result(c, store_id, err);
	kmqtt_conn_put(c);
	if (!err) {
		if (flags & KMQTT_MSG_F_RETAIN)
			kmqtt_stat_inc(KMQTT_STAT_RETAIN_DELIVERED);
		return 0;
	}
refused:
	kmqtt_stat_inc(KMQTT_STAT_DELIVER_REFUSED);
	return err;
}

int kmqtt_nl_session_resumed(struct sk_buff *skb, struct genl_info *info)
{
	kmqtt_stat_inc(KMQTT_STAT_NL_REQUESTS);
	if (!kmqtt_nl_is_daemon(info)) {
		NL_SET_ERR_MSG_MOD(info->extack, "only the daemon resumes sessions");
		return -EPERM;
	}
	if (GENL_REQ_ATTR_CHECK(info, KMQTT_A_CONN_ID))
		return -EINVAL;
	return kmqtt_conn_resumed(nla_get_u64(info->attrs[KMQTT_A_CONN_ID]));
}

int kmqtt_nl_session_add(struct sk_buff *skb, struct genl_info *info)
{
	struct kmqtt_conn_params p = {};
	u64 max = 0;

	kmqtt_stat_inc(KMQTT_STAT_NL_REQUESTS);
	if (!kmqtt_nl_is_daemon(info)) {
		NL_SET_ERR_MSG_MOD(info->extack, "only the daemon restores sessions");
		return -EPERM;
	}
	if (GENL_REQ_ATTR_CHECK(info, KMQTT_A_CLIENT_ID))
		return -EINVAL;
	if (!nla_len(info->attrs[KMQTT_A_CLIENT_ID]) ||
	    !*(char *)nla_data(info->attrs[KMQTT_A_CLIENT_ID]))
		return -EINVAL;
	if (kmqtt_nl_check_session(info, &p))
		return -EINVAL;
	if (info->attrs[KMQTT_A_STORE_ID])
		max = nla_get_u64(info->attrs[KMQTT_A_STORE_ID]);
	return kmqtt_session_add(nla_data(info->attrs[KMQTT_A_CLIENT_ID]), &p, max);
}

int kmqtt_nl_session_del(struct sk_buff *skb, struct genl_info *info)
{
	kmqtt_stat_inc(KMQTT_STAT_NL_REQUESTS);
	if (!kmqtt_nl_is_daemon(info)) {
		NL_SET_ERR_MSG_MOD(info->extack, "only the daemon ends sessions");
		return -EPERM;
	}
	if (GENL_REQ_ATTR_CHECK(info, KMQTT_A_CLIENT_ID))
		return -EINVAL;
	return kmqtt_session_del(nla_data(info->attrs[KMQTT_A_CLIENT_ID]));
}

/* Forget every waiting hand-over: none will be confirmed (daemon gone, module unload). */
static void kmqtt_retain_flush(bool stop)
{
	struct kmqtt_punt *e;
	unsigned long id;
	struct kmqtt_punt *tmp;
	u32 n = 0, ns = 0;
	LIST_HEAD(ends);

	mutex_lock(&kmqtt_punt_lock);
	if (stop)
		kmqtt_punt_stopping = true;
	xa_for_each(&kmqtt_punts, id, e) {
		xa_erase(&kmqtt_punts, id);
		if (e->session)
			ns++;
		list_add_tail(&e->node, &ends);
		n++;
	}
	kmqtt_punt_count = 0;
	kmqtt_punt_bytes = 0;
	wake_up_all(&kmqtt_punt_wq);
	mutex_unlock(&kmqtt_punt_lock);
	kmqtt_stat_add(KMQTT_STAT_RETAIN_NOT_STORED, n - ns);
	kmqtt_stat_add(KMQTT_STAT_RETAIN_PENDING, -(u64)n);
	/*
	 * Outside the lock: the last reference on a tracker may look up a connection. In
	 * table order, which is hand-over order: owed messages go back in their order.
	 */
	list_for_each_entry_safe(e, tmp, &ends, node)
		kmqtt_punt_end(e, false);
	if (n - ns)
		pr_warn("%u retained messages were not confirmed by the daemon: not stored\n",
			n - ns);
	if (ns)
		pr_warn("%u session messages were not confirmed by the daemon: kept by their parked sessions\n",
			ns);
}

void kmqtt_retain_daemon_gone(void)
{
	kmqtt_retain_flush(false);
	kmqtt_conns_release_holds();
}

void kmqtt_retain_drain(unsigned long timeout)
{
	if (!wait_event_timeout(kmqtt_punt_wq, !READ_ONCE(kmqtt_punt_count), timeout))
		pr_warn("the daemon did not confirm %u hand-overs in time\n",
			READ_ONCE(kmqtt_punt_count));
}

void kmqtt_retain_exit(void)
{
	kmqtt_retain_flush(true);
	xa_destroy(&kmqtt_punts);
}

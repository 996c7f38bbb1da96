// SPDX-License-Identifier: GPL-2.0
/*
 * The connection engine: a TCP socket handed over by kmqttd after it authenticated the
 * client's CONNECT, driven by socket callbacks that only queue work (the nvmet-tcp
 * model). rx_work reads and frames packets with the portable codec and acts on them;
 * tx_work sends the queue with kernel_sendmsg(); ka_work enforces the keepalive;
 * close_work tears the connection down exactly once.
 *
 * Locking and lifetime:
 *  - kmqtt_conns_lock (mutex) protects the id xarray and the client-id hash; both hold
 *    the connection's "open" reference until close_work removes it.
 *  - tx_lock (spinlock, BH-safe: write_space runs in softirq) protects the TX queue, the
 *    in-flight list and the CLOSING check of producers, so that nothing is queued after
 *    close_work drained the queues.
 *  - RX state is owned by rx_work; close_work cancels rx_work before touching it.
 *  - Every queued work item holds a reference (taken before queue_work, dropped by the
 *    work, or by the canceller when cancel_*_sync() stops it from running).
 *
 * TLS: kmqttd did the handshake and set up kernel TLS both ways before the hand-off, so
 * the socket reads and writes plaintext records. kTLS has its own data_ready and
 * write_space callbacks (record parsing, pushing a partly sent record): ours call them
 * before queueing work. rx_work asks for each record's type with a control message and
 * acts on application data only.
 */
#include <linux/file.h>
#include <linux/hashtable.h>
#include <linux/jhash.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <linux/xarray.h>
#include <linux/tls.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <net/tls.h>
#include "kmqtt.h"
#include "stats.h"

static DEFINE_MUTEX(kmqtt_conns_lock);
static DEFINE_XARRAY_ALLOC1(kmqtt_conns);
static DEFINE_HASHTABLE(kmqtt_conns_by_client, 10);
static u32 kmqtt_conn_next_id;
static atomic_t kmqtt_conns_open = ATOMIC_INIT(0);
static DECLARE_WAIT_QUEUE_HEAD(kmqtt_conns_wq);
static bool kmqtt_conns_stopping;
static struct kmem_cache *kmqtt_tx_cache;

static void kmqtt_conn_free_rcu(struct rcu_head *rcu)
{
	struct kmqtt_conn *c = container_of(rcu, struct kmqtt_conn, rcu);

	kfree(c->client_id);
	kfree(c->username);
	kfree(c->tls);
	kfree(c->will);
	kfree(c);
}

static void kmqtt_conn_release(struct kref *ref)
{
	struct kmqtt_conn *c = container_of(ref, struct kmqtt_conn, ref);

	kmqtt_acl_free(c->acl);
	/*
	 * A session taken up keeps its new connection for as long as anyone can still find
	 * it (a fan-out that matched it, a hand-over): they are sent on through taken_by.
	 */
	if (c->taken_by)
		kmqtt_conn_put(c->taken_by);
	/* Trie readers may still hold the pointer until a grace period has passed. */
	call_rcu(&c->rcu, kmqtt_conn_free_rcu);
	if (atomic_dec_and_test(&kmqtt_conns_open))
		wake_up(&kmqtt_conns_wq);
}

bool kmqtt_conn_get(struct kmqtt_conn *c)
{
	return kref_get_unless_zero(&c->ref);
}

void kmqtt_conn_put(struct kmqtt_conn *c)
{
	kref_put(&c->ref, kmqtt_conn_release);
}

/*
 * Queue @w with a reference for it. A fan-out may get here for a connection whose last
 * reference is going away (it found it in the trie under RCU, so the memory is still
 * there): hence kref_get_unless_zero().
 */
static void kmqtt_conn_queue(struct kmqtt_conn *c, struct work_struct *w)
{
	if (test_bit(KMQTT_CONN_CLOSING, &c->flags) && w != &c->close_work)
		return;
	if (!kmqtt_conn_get(c))
		return;
	if (!queue_work(kmqtt_wq, w))
		kmqtt_conn_put(c);
}

static void kmqtt_conn_queue_ka(struct kmqtt_conn *c, unsigned long delay)
{
	if (test_bit(KMQTT_CONN_CLOSING, &c->flags) || !kmqtt_conn_get(c))
		return;
	if (!queue_delayed_work(kmqtt_wq, &c->ka_work, delay))
		kmqtt_conn_put(c);
}

/* ---- socket callbacks: only queue work ---- */

static void kmqtt_data_ready(struct sock *sk)
{
	struct kmqtt_conn *c;

	read_lock_bh(&sk->sk_callback_lock);
	c = sk->sk_user_data;
	if (likely(c)) {
		if (c->tls)
			c->saved_data_ready(sk);	/* kTLS: parse the record */
		kmqtt_conn_queue(c, &c->rx_work);
	}
	read_unlock_bh(&sk->sk_callback_lock);
}

static void kmqtt_write_space(struct sock *sk)
{
	struct kmqtt_conn *c;

	read_lock_bh(&sk->sk_callback_lock);
	c = sk->sk_user_data;
	if (likely(c) && c->tls)
		c->saved_write_space(sk);	/* kTLS: push a partly sent record */
	if (likely(c) && sk_stream_is_writeable(sk)) {
		clear_bit(SOCK_NOSPACE, &sk->sk_socket->flags);
		kmqtt_conn_queue(c, &c->tx_work);
	}
	read_unlock_bh(&sk->sk_callback_lock);
}

static void kmqtt_state_change(struct sock *sk)
{
	struct kmqtt_conn *c;

	read_lock_bh(&sk->sk_callback_lock);
	c = sk->sk_user_data;
	if (likely(c)) {
		switch (sk->sk_state) {
		case TCP_ESTABLISHED:
			break;
		default:
			/* FIN or RST: rx_work reads what is left, then sees the end. */
			kmqtt_conn_queue(c, &c->rx_work);
		}
	}
	read_unlock_bh(&sk->sk_callback_lock);
}

/* ---- closing ---- */

void kmqtt_conn_close(struct kmqtt_conn *c, u32 reason)
{
	if (test_and_set_bit(KMQTT_CONN_CLOSING, &c->flags))
		return;
	c->close_reason = reason;
	kmqtt_conn_queue(c, &c->close_work);
}

void kmqtt_tx_free(struct kmqtt_tx *t)
{
	if (t->msg)
		kmqtt_msg_put(t->msg);
	kfree(t->big);
	kmem_cache_free(kmqtt_tx_cache, t);
}

/*
 * Publish the will of @c as if the client had sent it: the ACL decides, the live
 * subscribers get it, a retained will is handed to the daemon to be stored. Nobody waits
 * for an acknowledgment.
 */
static void kmqtt_conn_publish_will(struct kmqtt_conn *c)
{
	const struct kmqtt_will *w = c->will;
	struct mqtt_publish p = {
		.topic = { .s = (const char *)w->data, .len = w->topic_len },
		.payload = w->data + w->topic_len,
		.payload_len = w->payload_len,
		.qos = w->qos,
		.retain = w->retain,
	};

	if (c->acl && !kmqtt_acl_allows(c->acl, p.topic.s, p.topic.len, KMQTT_ACL_WRITE)) {
		kmqtt_stat_inc(KMQTT_STAT_WILLS_DENIED);
		kmqtt_stat_inc(KMQTT_STAT_ACL_DENIED);
		return;
	}
	kmqtt_stat_inc(KMQTT_STAT_WILLS_PUBLISHED);
	kmqtt_publish(c, &p, NULL);
	if (p.retain)
		kmqtt_retain_punt(c, &p, NULL);
}

/* Parked sessions now, against KMQTT_MAX_PARKED. */
static atomic_t kmqtt_parked = ATOMIC_INIT(0);

/*
 * Hand what @c still owed its client to the daemon, in order: the in-flight messages
 * (resent with DUP and their packet id; a released QoS 2 one as its PUBREL), then the
 * queued ones, then whatever arrived while the connection was closing. The session is
 * marked parked when nothing is left, under tx_lock, so that every later message is
 * handed over by the fan-out after these. QoS 0 messages are dropped. What cannot be
 * handed over (no daemon) stays in c->txq, in order, for the client's return.
 */
static void kmqtt_conn_park(struct kmqtt_conn *c)
{
	struct kmqtt_tx *t, *tmp;
	bool refused = test_bit(KMQTT_CONN_TAKEN_OVER, &c->flags);
	LIST_HEAD(owed);
	LIST_HEAD(keep);

	spin_lock_bh(&c->tx_lock);
	/*
	 * [MQTT-4.4.0-1]: what was sent goes again with its packet id and DUP, wherever it
	 * goes now: to the daemon, or kept here (no daemon, a takeover) for the next
	 * connection. Marked before anything is handed over: a refusal keeps the rest.
	 */
	list_for_each_entry(t, &c->inflight, node) {
		t->dup = true;
		t->inflight = false;
	}
	list_splice_init(&c->inflight, &owed);
	for (;;) {
		list_splice_tail_init(&c->txq, &owed);
		list_splice_tail_init(&c->held, &owed);
		c->txq_len = 0;
		c->n_dup_queued = 0;
		c->held_len = 0;
		c->last_tx = NULL;
		if (list_empty(&owed) || refused) {
			list_splice_init(&keep, &c->txq);
			list_splice_tail_init(&owed, &c->txq);
			list_for_each_entry(t, &c->txq, node)
				c->txq_len++;
			set_bit(KMQTT_CONN_PARKED, &c->flags);
			spin_unlock_bh(&c->tx_lock);
			break;
		}
		spin_unlock_bh(&c->tx_lock);
		list_for_each_entry_safe(t, tmp, &owed, node) {
			list_del(&t->node);
			if (!t->qos) {
				kmqtt_tx_free(t);
				continue;
			}
			/* Off the list first: once handed over, a confirmation may free it. */
			if (!kmqtt_session_punt(c, t, NULL)) {
				list_add(&t->node, &owed);
				refused = true;
				break;
			}
		}
		/* Refused: the rest stays, in order, ahead of anything that came meanwhile. */
		list_splice_tail_init(&owed, &keep);
		spin_lock_bh(&c->tx_lock);
	}
	c->n_inflight = 0;
	if (c->txq_len && !test_bit(KMQTT_CONN_TAKEN_OVER, &c->flags))
		pr_warn_ratelimited("session %s parked with %u messages the daemon could not take: kept in memory\n",
				    c->client_id, c->txq_len);
}

/*
 * The daemon went away before confirming the message @t handed over for the parked
 * session @c: @c holds it again, in hand-over order among those it took back, ahead of
 * what it held before (never handed over: newer). Returns true if it is held, or nobody
 * wants it any more (the session ended); false if the session was taken up by a new
 * connection meanwhile: the daemon had the message then and delivered it, or not.
 */
bool kmqtt_session_take_back(struct kmqtt_conn *c, struct kmqtt_tx *t)
{
	struct kmqtt_tx *pos;
	bool ended;

	spin_lock_bh(&c->tx_lock);
	if (c->taken_by || test_bit(KMQTT_CONN_DISCARDED, &c->flags)) {
		ended = !c->taken_by;
		spin_unlock_bh(&c->tx_lock);
		kmqtt_tx_free(t);
		return ended;
	}
	list_for_each_entry(pos, &c->txq, node)
		if (!pos->owed_seq || pos->owed_seq > t->owed_seq)
			break;
	t->again = true;
	list_add_tail(&t->node, &pos->node);
	c->txq_len++;
	spin_unlock_bh(&c->tx_lock);
	kmqtt_stat_inc(KMQTT_STAT_SESSION_MSGS_TAKEN_BACK);
	return true;
}

/*
 * A daemon that registered again parks its stored sessions; @c is one the module still
 * has. Hand it what @c holds, in order (numbered ones keep their number: the daemon knows
 * those it stored already); what it refuses stays.
 */
static void kmqtt_session_hand_back(struct kmqtt_conn *c)
{
	struct kmqtt_tx *t, *tmp;
	LIST_HEAD(owed);

	spin_lock_bh(&c->tx_lock);
	if (c->taken_by || test_bit(KMQTT_CONN_DISCARDED, &c->flags)) {
		spin_unlock_bh(&c->tx_lock);
		return;
	}
	list_splice_init(&c->txq, &owed);
	c->txq_len = 0;
	spin_unlock_bh(&c->tx_lock);

	list_for_each_entry_safe(t, tmp, &owed, node) {
		list_del(&t->node);
		if (!kmqtt_session_punt(c, t, NULL)) {
			list_add(&t->node, &owed);
			break;
		}
	}
	if (list_empty(&owed))
		return;
	spin_lock_bh(&c->tx_lock);
	list_for_each_entry(t, &owed, node)
		c->txq_len++;
	list_splice(&owed, &c->txq);
	spin_unlock_bh(&c->tx_lock);
}

/* Free a parked session: subscriptions, what it still held, its place in the tables. */
static void kmqtt_session_discard(struct kmqtt_conn *c)
{
	struct kmqtt_tx *t, *tmp;
	LIST_HEAD(drop);

	kmqtt_unsubscribe_all(c);
	spin_lock_bh(&c->tx_lock);
	set_bit(KMQTT_CONN_DISCARDED, &c->flags);
	list_splice_init(&c->txq, &drop);
	c->txq_len = 0;
	spin_unlock_bh(&c->tx_lock);
	list_for_each_entry_safe(t, tmp, &drop, node) {
		kmqtt_stat_inc(KMQTT_STAT_SESSION_MSGS_REFUSED);
		kmqtt_tx_free(t);
	}
	xa_destroy(&c->qos2_in);
	mutex_lock(&kmqtt_conns_lock);
	xa_erase(&kmqtt_conns, c->id);
	if (!hlist_unhashed(&c->id_node))
		hash_del(&c->id_node);
	mutex_unlock(&kmqtt_conns_lock);
	atomic_dec(&kmqtt_parked);
	kmqtt_stat_dec(KMQTT_STAT_SESSIONS_PARKED);
	kmqtt_conn_put(c);	/* the open reference, kept while parked */
}

static void kmqtt_conn_close_work(struct work_struct *w)
{
	struct kmqtt_conn *c = container_of(w, struct kmqtt_conn, close_work);
	struct sock *sk = c->sk;
	struct kmqtt_tx *t, *tmp;
	bool park = false;
	LIST_HEAD(drop);

	/* No callback can find the connection after this. */
	write_lock_bh(&sk->sk_callback_lock);
	sk->sk_user_data = NULL;
	sk->sk_data_ready = c->saved_data_ready;
	sk->sk_write_space = c->saved_write_space;
	sk->sk_state_change = c->saved_state_change;
	write_unlock_bh(&sk->sk_callback_lock);

	if (cancel_work_sync(&c->rx_work))
		kmqtt_conn_put(c);
	if (cancel_work_sync(&c->tx_work))
		kmqtt_conn_put(c);
	if (cancel_delayed_work_sync(&c->ka_work))
		kmqtt_conn_put(c);

	/* A persistent session outlives its connection, up to KMQTT_MAX_PARKED of them. */
	if (c->persistent) {
		park = atomic_inc_return(&kmqtt_parked) <= KMQTT_MAX_PARKED;
		if (!park) {
			atomic_dec(&kmqtt_parked);
			kmqtt_stat_inc(KMQTT_STAT_SESSIONS_DISCARDED);
		}
	}
	/* Otherwise no new subscriber deliveries: unsubscribe (under the trie lock), drain. */
	if (!park)
		kmqtt_unsubscribe_all(c);
	spin_lock_bh(&c->tx_lock);
	list_splice_init(&c->ctlq, &drop);
	if (!park) {
		list_splice_init(&c->txq, &drop);
		list_splice_init(&c->held, &drop);
		list_splice_init(&c->inflight, &drop);
		c->txq_len = 0;
		c->held_len = 0;
		c->n_inflight = 0;
		c->n_dup_queued = 0;
		c->last_tx = NULL;
	}
	/* An item being sent that is not in flight (QoS 0, control) is dropped. */
	if (c->tx_cur && !c->tx_cur->inflight)
		list_add(&c->tx_cur->node, &drop);
	c->tx_cur = NULL;
	clear_bit(KMQTT_CONN_HOLD, &c->flags);
	spin_unlock_bh(&c->tx_lock);
	list_for_each_entry_safe(t, tmp, &drop, node)
		kmqtt_tx_free(t);
	if (c->pkt && c->pkt != c->small)
		kvfree(c->pkt);
	c->pkt = NULL;
	if (!park) {
		xa_destroy(&c->qos2_in);
		c->n_qos2_in = 0;
	}
	/* The daemon sends them again to the next connection, if it still holds any. */
	xa_destroy(&c->out_ids);

	kernel_sock_shutdown(c->sock, SHUT_RDWR);
	sockfd_put(c->sock);

	if (park) {
		kmqtt_stat_inc(KMQTT_STAT_SESSIONS_PARKED);
		if (!test_bit(KMQTT_CONN_TAKEN_OVER, &c->flags))
			kmqtt_session_parked_event(c);
		kmqtt_conn_park(c);
	}

	/* [MQTT-3.1.2-8]: the will goes out unless the client said DISCONNECT. */
	if (c->will && c->close_reason != KMQTT_CLOSE_CLIENT_DISCONNECT &&
	    c->close_reason != KMQTT_CLOSE_SHUTDOWN)
		kmqtt_conn_publish_will(c);

	if (!park) {
		mutex_lock(&kmqtt_conns_lock);
		xa_erase(&kmqtt_conns, c->id);
		hash_del(&c->id_node);
		mutex_unlock(&kmqtt_conns_lock);
	}

	kmqtt_stat_inc(KMQTT_STAT_CONNS_CLOSED);
	kmqtt_stat_dec(KMQTT_STAT_CONNS_CURRENT);
	kmqtt_nl_conn_closed(c);
	pr_debug("closed %s (%s): reason %u%s\n", c->client_id, c->peer, c->close_reason,
		 park ? ", session parked" : "");

	kmqtt_conn_put(c);	/* the work's reference */
	if (!park)
		kmqtt_conn_put(c);	/* the open reference */
}

/* ---- TX ---- */

static struct kmqtt_tx *kmqtt_tx_alloc(gfp_t gfp)
{
	return kmem_cache_zalloc(kmqtt_tx_cache, gfp);
}

/* Queue a control packet; on failure the connection is closed (it would desync). */
static void kmqtt_send_ack(struct kmqtt_conn *c, u8 type, u16 pid);

static void kmqtt_send_ctl(struct kmqtt_conn *c, const u8 *pkt, int len)
{
	struct kmqtt_tx *t = kmqtt_tx_alloc(GFP_KERNEL_ACCOUNT);

	if (t && len > sizeof(t->ctl)) {
		t->big = kmemdup(pkt, len, GFP_KERNEL_ACCOUNT);
		t->big_len = len;
		if (!t->big) {
			kmem_cache_free(kmqtt_tx_cache, t);
			t = NULL;
		}
	} else if (t) {
		memcpy(t->ctl, pkt, len);
		t->ctl_len = len;
	}
	if (!t) {
		kmqtt_stat_inc(KMQTT_STAT_NO_MEMORY);
		kmqtt_conn_close(c, KMQTT_CLOSE_SOCKET_ERROR);
		return;
	}
	spin_lock_bh(&c->tx_lock);
	if (test_bit(KMQTT_CONN_CLOSING, &c->flags)) {
		spin_unlock_bh(&c->tx_lock);
		kmqtt_tx_free(t);
		return;
	}
	/*
	 * Control packets overtake waiting PUBLISHes: a PUBREL must not wait behind
	 * messages that wait for the in-flight window it is about to open. Their own order
	 * (CONNACK first, acknowledgments in the order of the packets acknowledged
	 * [MQTT-4.6.0-2], SUBACK before the retained messages it triggers) is kept.
	 */
	list_add_tail(&t->node, &c->ctlq);
	spin_unlock_bh(&c->tx_lock);
	kmqtt_conn_queue(c, &c->tx_work);
}

/*
 * @direct: a message the daemon stored for the session, delivered on resume: it goes
 * ahead of the live ones held meanwhile, within the module's absolute queue bound.
 */
static int __kmqtt_conn_enqueue(struct kmqtt_conn *c, struct kmqtt_msg *m, u8 qos,
				bool direct)
{
	struct kmqtt_conn *to;
	struct kmqtt_tx *t;
	bool closing, hold;
	u32 max;

	spin_lock_bh(&c->tx_lock);
	if (test_bit(KMQTT_CONN_PARKED, &c->flags)) {
		to = c->taken_by;
		spin_unlock_bh(&c->tx_lock);
		/* Being taken up by a new connection: it gets the message (once, by seq). */
		if (to)
			return kmqtt_conn_enqueue(to, m, qos) > 0;
		if (!qos) {
			kmqtt_stat_inc(KMQTT_STAT_SESSION_QOS0_DROPPED);
			return 0;
		}
		return -EAGAIN;
	}
	/* A persistent connection that is closing keeps what comes: it will owe it. */
	closing = test_bit(KMQTT_CONN_CLOSING, &c->flags);
	if (closing && !c->persistent) {
		spin_unlock_bh(&c->tx_lock);
		return 0;
	}
	/* Overlapping subscriptions: one copy, at the highest QoS while it still waits. */
	if (c->last_seq == m->seq) {
		if (c->last_tx && qos > c->last_tx->qos)
			c->last_tx->qos = qos;
		spin_unlock_bh(&c->tx_lock);
		return 0;
	}
	max = direct ? KMQTT_MAX_TX_QUEUE : c->tx_queue_max;
	if (c->txq_len + c->held_len >= max) {
		spin_unlock_bh(&c->tx_lock);
		if (direct)
			return -ENOBUFS;
		if (qos == 0) {
			atomic64_inc(&c->qos0_dropped);
			kmqtt_stat_inc(KMQTT_STAT_QOS0_DROPPED);
		} else if (!closing) {
			/* A QoS 1/2 message is never dropped silently: the reader goes. */
			kmqtt_stat_inc(KMQTT_STAT_SLOW_READERS);
			kmqtt_conn_close(c, KMQTT_CLOSE_SLOW_READER);
		}
		return 0;
	}
	/* Under the spinlock and inside an RCU read section: no sleeping. */
	t = kmqtt_tx_alloc(GFP_ATOMIC | __GFP_NOWARN);
	if (!t) {
		spin_unlock_bh(&c->tx_lock);
		kmqtt_stat_inc(KMQTT_STAT_NO_MEMORY);
		if (qos)
			kmqtt_conn_close(c, KMQTT_CLOSE_SOCKET_ERROR);
		return 0;
	}
	refcount_inc(&m->ref);
	t->msg = m;
	t->qos = qos;
	hold = !direct && test_bit(KMQTT_CONN_HOLD, &c->flags);
	if (hold) {
		list_add_tail(&t->node, &c->held);
		c->held_len++;
	} else {
		list_add_tail(&t->node, &c->txq);
		c->txq_len++;
	}
	/*
	 * The fan-out's copies only: a stored message from the daemon (its own seq) queued
	 * between a live copy and the copy redirected from the parked session this
	 * connection is taking up must not hide the second one from the check above.
	 */
	if (!direct) {
		c->last_seq = m->seq;
		c->last_tx = t;
	}
	spin_unlock_bh(&c->tx_lock);
	if (!hold && !closing)
		kmqtt_conn_queue(c, &c->tx_work);
	return 1;
}

int kmqtt_conn_enqueue(struct kmqtt_conn *c, struct kmqtt_msg *m, u8 qos)
{
	return __kmqtt_conn_enqueue(c, m, qos, false);
}

int kmqtt_conn_enqueue_stored(struct kmqtt_conn *c, struct kmqtt_msg *m, u8 qos)
{
	return __kmqtt_conn_enqueue(c, m, qos, true);
}

bool kmqtt_conn_parked_deliver(struct kmqtt_conn *c, struct kmqtt_msg *m, u8 qos,
			       struct kmqtt_ack *ack)
{
	struct kmqtt_conn *to;
	struct kmqtt_tx *t;

	spin_lock_bh(&c->tx_lock);
	to = c->taken_by;
	spin_unlock_bh(&c->tx_lock);
	if (to)
		return kmqtt_conn_enqueue(to, m, qos) >= 0;
	t = kmqtt_tx_alloc(GFP_KERNEL_ACCOUNT);
	if (!t) {
		kmqtt_stat_inc(KMQTT_STAT_NO_MEMORY);
		kmqtt_stat_inc(KMQTT_STAT_SESSION_MSGS_REFUSED);
		return false;
	}
	refcount_inc(&m->ref);
	t->msg = m;
	t->qos = qos;
	if (kmqtt_session_punt(c, t, ack))
		return true;
	kmqtt_tx_free(t);
	return false;
}

/*
 * A message the session owed its client before, queued again (behind what is queued) with
 * its packet id and the DUP flag; or, @m NULL, a QoS 2 message the client had received
 * (PUBREC): its PUBREL is sent again and PUBCOMP awaited.
 */
int kmqtt_conn_enqueue_resend(struct kmqtt_conn *c, struct kmqtt_msg *m, u8 qos, u16 pid)
{
	struct kmqtt_tx *t = kmqtt_tx_alloc(GFP_KERNEL_ACCOUNT);

	if (!t) {
		kmqtt_stat_inc(KMQTT_STAT_NO_MEMORY);
		return -ENOMEM;
	}
	t->pid = pid;
	t->qos = qos;
	t->dup = true;
	spin_lock_bh(&c->tx_lock);
	if (test_bit(KMQTT_CONN_CLOSING, &c->flags) ||
	    c->txq_len + c->held_len >= KMQTT_MAX_TX_QUEUE) {
		spin_unlock_bh(&c->tx_lock);
		kmem_cache_free(kmqtt_tx_cache, t);
		return -ENOBUFS;
	}
	if (m) {
		refcount_inc(&m->ref);
		t->msg = m;
		list_add_tail(&t->node, &c->txq);
		c->txq_len++;
		c->n_dup_queued++;
	} else {
		t->released = true;
		t->inflight = true;
		list_add_tail(&t->node, &c->inflight);
		c->n_inflight++;
	}
	spin_unlock_bh(&c->tx_lock);
	/* Its id is the resend's own from now: the queue and in-flight checks keep it. */
	xa_erase(&c->out_ids, pid);
	if (m)
		kmqtt_conn_queue(c, &c->tx_work);
	else
		kmqtt_send_ack(c, MQTT_PUBREL, pid);
	return 0;
}

/* Let the live messages held while the daemon resumed the session go. */
static void kmqtt_conn_release_hold(struct kmqtt_conn *c)
{
	spin_lock_bh(&c->tx_lock);
	if (!test_and_clear_bit(KMQTT_CONN_HOLD, &c->flags)) {
		spin_unlock_bh(&c->tx_lock);
		return;
	}
	list_splice_tail_init(&c->held, &c->txq);
	c->txq_len += c->held_len;
	c->held_len = 0;
	spin_unlock_bh(&c->tx_lock);
	kmqtt_conn_queue(c, &c->tx_work);
}

/* A packet id not in flight on @c (a QoS 2 message may stay long); under tx_lock. */
static u16 kmqtt_next_pid(struct kmqtt_conn *c)
{
	struct kmqtt_tx *t;
	u16 pid;

again:
	pid = ++c->next_pid;
	if (!pid)
		goto again;
	list_for_each_entry(t, &c->inflight, node)
		if (t->pid == pid)
			goto again;
	/* Nor one of a resend the daemon has yet to deliver. */
	if (!xa_empty(&c->out_ids) && xa_load(&c->out_ids, pid))
		goto again;
	/* Nor one a resent message waiting in the queue will use (rare: after a resume). */
	if (c->n_dup_queued)
		list_for_each_entry(t, &c->txq, node)
			if (t->dup && t->pid == pid)
				goto again;
	return pid;
}

/*
 * Take the next item to send, or NULL. A QoS 1 PUBLISH waits while the in-flight
 * window is full; it gets its packet identifier here, when its bytes start to go out,
 * and joins the in-flight list at once: its PUBACK may be processed by rx_work on another
 * CPU before this send even returns.
 */
static struct kmqtt_tx *kmqtt_tx_next(struct kmqtt_conn *c)
{
	struct kmqtt_tx *t;

	spin_lock_bh(&c->tx_lock);
	t = c->tx_cur;
	if (!t) {
		t = list_first_entry_or_null(&c->ctlq, struct kmqtt_tx, node);
		if (!t)
			t = list_first_entry_or_null(&c->txq, struct kmqtt_tx, node);
		if (t && t->msg && t->qos && c->n_inflight >= c->inflight_max)
			t = NULL;
		if (t) {
			list_del(&t->node);
			if (t->msg) {
				c->txq_len--;
				if (c->last_tx == t)
					c->last_tx = NULL;
			}
			if (t->msg && t->qos) {
				if (!t->dup)
					t->pid = kmqtt_next_pid(c);
				else
					c->n_dup_queued--;
				list_add_tail(&t->node, &c->inflight);
				t->inflight = true;
				c->n_inflight++;
			}
			c->tx_cur = t;
			c->tx_off = 0;
		}
	}
	spin_unlock_bh(&c->tx_lock);
	return t;
}

/*
 * Build the iovec of @t into @iov (at most 4) with @head holding the PUBLISH fixed header
 * and topic length and @pid the packet identifier; returns the number of kvecs and sets
 * the total length.
 */
static int kmqtt_tx_iov(struct kmqtt_conn *c, struct kmqtt_tx *t, u8 *head, u8 *pid,
			struct kvec *iov, size_t *total)
{
	struct kmqtt_msg *m = t->msg;
	u32 remlen;
	int n = 0, hlen;

	if (!m) {
		iov[0].iov_base = t->big ? t->big : t->ctl;
		iov[0].iov_len = t->big ? t->big_len : t->ctl_len;
		*total = iov[0].iov_len;
		return 1;
	}
	/*
	 * MQTT 3.1.1 PUBLISH: fixed header, topic, packet id (QoS > 0), payload; the topic
	 * and payload are sent from the shared message. Retain is 0 on live forwarding
	 * [MQTT-3.3.1-9], 1 for a retained message sent on subscribe [MQTT-3.3.1-8]. The
	 * variable byte integer is the core codec's.
	 */
	remlen = 2 + m->topic_len + (t->qos ? 2 : 0) + m->payload_len;
	head[0] = MQTT_PUBLISH << 4 | t->dup << 3 | t->qos << 1 | m->retain;
	hlen = 1 + mqtt_varint_put(head + 1, remlen);
	put_unaligned_be16(m->topic_len, head + hlen);
	hlen += 2;
	iov[n].iov_base = head;
	iov[n++].iov_len = hlen;
	iov[n].iov_base = m->data;
	iov[n++].iov_len = m->topic_len;
	if (t->qos) {
		put_unaligned_be16(t->pid, pid);
		iov[n].iov_base = pid;
		iov[n++].iov_len = 2;
	}
	if (m->payload_len) {
		iov[n].iov_base = m->data + m->topic_len;
		iov[n++].iov_len = m->payload_len;
	}
	*total = hlen + remlen - 2;
	return n;
}

/* Drop the first @off bytes of the iovec (already sent by an earlier partial send). */
static int kmqtt_iov_skip(struct kvec *iov, int n, size_t off)
{
	int i = 0;

	while (i < n && off >= iov[i].iov_len)
		off -= iov[i++].iov_len;
	if (i < n) {
		iov[i].iov_base += off;
		iov[i].iov_len -= off;
	}
	memmove(iov, iov + i, (n - i) * sizeof(*iov));
	return n - i;
}

/*
 * Is there an item that can be sent right after the current one? Only then may the
 * current one go with MSG_MORE: corking data behind a full in-flight window would hold it
 * back until TCP's cork timer fires.
 */
static bool kmqtt_tx_more(struct kmqtt_conn *c)
{
	struct kmqtt_tx *t;
	bool more;

	spin_lock_bh(&c->tx_lock);
	t = list_first_entry_or_null(&c->ctlq, struct kmqtt_tx, node);
	if (!t)
		t = list_first_entry_or_null(&c->txq, struct kmqtt_tx, node);
	more = t && !(t->msg && t->qos && c->n_inflight >= c->inflight_max);
	spin_unlock_bh(&c->tx_lock);
	return more;
}

/* @t is sent completely: a QoS 1 PUBLISH stays in flight unless already acknowledged. */
static void kmqtt_tx_done(struct kmqtt_conn *c, struct kmqtt_tx *t)
{
	bool keep;

	spin_lock_bh(&c->tx_lock);
	c->tx_cur = NULL;
	keep = t->inflight;
	spin_unlock_bh(&c->tx_lock);
	if (!keep)
		kmqtt_tx_free(t);
}

static void kmqtt_conn_tx_work(struct work_struct *w)
{
	struct kmqtt_conn *c = container_of(w, struct kmqtt_conn, tx_work);
	struct msghdr msg = {};
	struct kvec iov[4];
	struct kmqtt_tx *t;
	int budget = KMQTT_TX_BUDGET;
	u8 head[1 + MQTT_VARINT_MAX_BYTES + 2], pid[2];
	size_t total;
	int n, ret;

	while (!test_bit(KMQTT_CONN_CLOSING, &c->flags) && budget--) {
		t = kmqtt_tx_next(c);
		if (!t)
			break;
		n = kmqtt_tx_iov(c, t, head, pid, iov, &total);
		n = kmqtt_iov_skip(iov, n, c->tx_off);
		msg.msg_flags = MSG_DONTWAIT | MSG_NOSIGNAL;
		if (budget && kmqtt_tx_more(c))
			msg.msg_flags |= MSG_MORE;
		ret = kernel_sendmsg(c->sock, &msg, iov, n, total - c->tx_off);
		if (ret == -EAGAIN)
			break;	/* write_space requeues us */
		if (ret < 0) {
			kmqtt_conn_close(c, KMQTT_CLOSE_SOCKET_ERROR);
			break;
		}
		c->tx_off += ret;
		atomic64_add(ret, &c->bytes_out);
		kmqtt_stat_add(KMQTT_STAT_BYTES_OUT, ret);
		if (c->tx_off < total)
			break;	/* partial: the socket is full, write_space requeues us */
		if (t->msg) {
			atomic64_inc(&c->msgs_out);
			kmqtt_stat_inc(KMQTT_STAT_MSGS_OUT);
		}
		kmqtt_tx_done(c, t);
	}
	if (budget < 0)
		kmqtt_conn_queue(c, &c->tx_work);
	kmqtt_conn_put(c);
}

/* Queue an acknowledgment (PUBACK, PUBREC, PUBREL, PUBCOMP) of @pid. */
static void kmqtt_send_ack(struct kmqtt_conn *c, u8 type, u16 pid)
{
	u8 ack[4];
	int len;

	len = mqtt_encode_ack(ack, sizeof(ack), c->level, type,
			      &(struct mqtt_ack){ .packet_id = pid });
	kmqtt_send_ctl(c, ack, len);
}

/* Values in conn->qos2_in: the PUBREC is waiting for the daemon, or it was sent. */
#define KMQTT_Q2_PENDING	xa_mk_value(1)
#define KMQTT_Q2_RECEIVED	xa_mk_value(2)

void kmqtt_conn_ack_late(struct kmqtt_conn *c, u8 qos, u16 pid)
{
	if (qos == 2) {
		xa_cmpxchg(&c->qos2_in, pid, KMQTT_Q2_PENDING, KMQTT_Q2_RECEIVED, GFP_KERNEL);
		kmqtt_send_ack(c, MQTT_PUBREC, pid);
	} else if (qos == 1) {
		kmqtt_send_ack(c, MQTT_PUBACK, pid);
	}
}

/*
 * An acknowledgment from the subscriber for the message @pid in flight: PUBACK of QoS 1,
 * PUBREC of QoS 2 (the message is released: PUBREL goes out, the window stays taken until
 * PUBCOMP), PUBCOMP of a released QoS 2 message. Others are ignored ([MQTT-4.3], ids may
 * be stale), except a repeated PUBREC, which gets its PUBREL again.
 */
static void kmqtt_ack_in(struct kmqtt_conn *c, u8 type, u16 pid)
{
	struct kmqtt_tx *t, *found = NULL;
	bool freeit = false, pubrel = false;

	spin_lock_bh(&c->tx_lock);
	list_for_each_entry(t, &c->inflight, node) {
		if (t->pid != pid)
			continue;
		if (type == MQTT_PUBREC && t->qos == 2) {
			t->released = true;
			pubrel = true;
			break;
		}
		if ((type == MQTT_PUBACK && t->qos == 1) ||
		    (type == MQTT_PUBCOMP && t->qos == 2 && t->released)) {
			found = t;
			list_del(&t->node);
			t->inflight = false;
			c->n_inflight--;
			/* Still being sent (a fast PUBACK): kmqtt_tx_done() frees it. */
			freeit = t != c->tx_cur;
		}
		break;
	}
	spin_unlock_bh(&c->tx_lock);
	if (pubrel)
		kmqtt_send_ack(c, MQTT_PUBREL, pid);	/* [MQTT-4.3.3-1] */
	if (freeit)
		kmqtt_tx_free(found);
	if (found)
		/* The window opened: send what waited for it. */
		kmqtt_conn_queue(c, &c->tx_work);
}

/* ---- RX ---- */

/*
 * A QoS 2 PUBLISH: forwarded once per packet id until the client's PUBREL
 * [MQTT-4.3.3-2]. Returns 1 if it is new (to be forwarded), 0 for a copy received again
 * (acknowledged again unless its PUBREC still waits for the daemon), or -errno.
 */
static int kmqtt_qos2_in(struct kmqtt_conn *c, u16 pid)
{
	void *old;

	old = xa_load(&c->qos2_in, pid);
	if (old) {
		kmqtt_stat_inc(KMQTT_STAT_QOS2_DUPLICATES);
		if (old == KMQTT_Q2_RECEIVED)
			kmqtt_send_ack(c, MQTT_PUBREC, pid);
		return 0;
	}
	if (c->n_qos2_in >= KMQTT_MAX_QOS2_IN) {
		kmqtt_stat_inc(KMQTT_STAT_QOS2_LIMIT);
		return -ENOSPC;
	}
	if (xa_err(xa_store(&c->qos2_in, pid, KMQTT_Q2_PENDING, GFP_KERNEL_ACCOUNT))) {
		kmqtt_stat_inc(KMQTT_STAT_NO_MEMORY);
		return -ENOMEM;
	}
	c->n_qos2_in++;
	kmqtt_stat_inc(KMQTT_STAT_QOS2_IN);
	return 1;
}

static void kmqtt_qos2_forget(struct kmqtt_conn *c, u16 pid)
{
	if (xa_erase(&c->qos2_in, pid))
		c->n_qos2_in--;
}

static int kmqtt_handle_publish(struct kmqtt_conn *c, const struct mqtt_publish *p)
{
	struct kmqtt_ack *ack = NULL, *a;
	int ret;

	c->msgs_in++;
	kmqtt_stat_inc(KMQTT_STAT_MSGS_IN);
	if (p->qos == 2) {
		ret = kmqtt_qos2_in(c, p->packet_id);
		if (ret <= 0)
			return ret;
	}
	if (c->acl && !kmqtt_acl_allows(c->acl, p->topic.s, p->topic.len, KMQTT_ACL_WRITE)) {
		/* 3.1.1 has no negative acknowledgment: drop, but acknowledge (as mosquitto). */
		kmqtt_stat_inc(KMQTT_STAT_ACL_DENIED);
		if (p->qos)
			kmqtt_conn_ack_late(c, p->qos, p->packet_id);
		return 0;
	}
	ret = kmqtt_publish(c, p, &ack);
	if (ret < 0 && p->qos) {
		/* Not taken: no acknowledgment, so the publisher will retry on a new connection. */
		if (ack) {
			WRITE_ONCE(ack->failed, true);
			kmqtt_ack_put(ack);
		}
		if (p->qos == 2)
			kmqtt_qos2_forget(c, p->packet_id);
		return -ENOMEM;
	}
	if (p->retain) {
		/*
		 * The daemon stores it; a QoS 1 PUBACK or QoS 2 PUBREC waits for its
		 * confirmation (retain.c) and is never sent for a message that was not stored.
		 */
		a = p->qos ? kmqtt_ack_get(&ack, c, p) : NULL;
		if (p->qos && !a)
			return -ENOMEM;
		if (!kmqtt_retain_punt(c, p, a) && a)
			WRITE_ONCE(a->failed, true);
	}
	if (!ack) {
		if (p->qos)
			kmqtt_conn_ack_late(c, p->qos, p->packet_id);
		return 0;
	}
	/*
	 * Handed to the daemon (store, parked sessions): the acknowledgment goes when it has
	 * confirmed every hand-over, from the last kmqtt_ack_put().
	 */
	if (READ_ONCE(ack->failed) && p->qos == 2)
		kmqtt_qos2_forget(c, p->packet_id);
	kmqtt_ack_put(ack);
	return 0;
}

static void kmqtt_handle_subscribe(struct kmqtt_conn *c, const struct mqtt_subscribe *s)
{
	u8 codes[MQTT_DEFAULT_MAX_SUBS];
	struct mqtt_packet pkt;
	struct mqtt_sub_entry e;
	struct mqtt_suback sa = { .packet_id = s->packet_id, .codes = codes };
	struct mqtt_iter it;
	u32 i;
	u8 *buf;
	int len;

	mqtt_sub_iter_init(&it, s);
	while (sa.count < ARRAY_SIZE(codes) && mqtt_sub_next(&it, &e)) {
		u8 qos = e.qos;
		bool wild = memchr(e.filter.s, '+', e.filter.len) ||
			    memchr(e.filter.s, '#', e.filter.len);

		/*
		 * A literal filter the ACL denies is refused; a wildcard filter is granted
		 * and each message is checked against the ACL when it is delivered.
		 */
		if (c->acl && !wild &&
		    !kmqtt_acl_allows(c->acl, e.filter.s, e.filter.len, KMQTT_ACL_READ)) {
			kmqtt_stat_inc(KMQTT_STAT_ACL_DENIED);
			codes[sa.count++] = MQTT_RC311_SUBACK_FAILURE;
			continue;
		}
		if (kmqtt_subscribe(c, e.filter.s, e.filter.len, qos))
			codes[sa.count++] = MQTT_RC311_SUBACK_FAILURE;
		else
			codes[sa.count++] = qos;
	}
	pkt.type = MQTT_SUBACK;
	pkt.suback = sa;
	len = mqtt_encoded_size(c->level, &pkt);
	buf = len > 0 ? kmalloc(len, GFP_KERNEL) : NULL;
	if (!buf) {
		kmqtt_conn_close(c, KMQTT_CLOSE_SOCKET_ERROR);
		return;
	}
	len = mqtt_encode_suback(buf, len, c->level, MQTT_SUBACK, &sa);
	kmqtt_send_ctl(c, buf, len);
	kfree(buf);

	/* Behind the SUBACK: the daemon sends the retained messages each grant matches. */
	mqtt_sub_iter_init(&it, s);
	for (i = 0; i < sa.count && mqtt_sub_next(&it, &e); i++)
		if (codes[i] != MQTT_RC311_SUBACK_FAILURE)
			kmqtt_retain_subscribed(c, e.filter.s, e.filter.len, codes[i]);
}

static void kmqtt_handle_unsubscribe(struct kmqtt_conn *c, const struct mqtt_unsubscribe *u)
{
	struct mqtt_suback ua = { .packet_id = u->packet_id };
	struct mqtt_iter it;
	struct mqtt_str f;
	u8 buf[8];
	int len;

	mqtt_unsub_iter_init(&it, u);
	while (mqtt_unsub_next(&it, &f))
		kmqtt_unsubscribe(c, f.s, f.len);
	len = mqtt_encode_suback(buf, sizeof(buf), c->level, MQTT_UNSUBACK, &ua);
	kmqtt_send_ctl(c, buf, len);
}

/* Act on one complete packet. Returns 0, or a close reason + 1 to stop. */
static int kmqtt_handle_packet(struct kmqtt_conn *c, const u8 *body)
{
	struct mqtt_packet pkt;
	u8 resp[2];
	int ret;

	ret = mqtt_decode(c->level, &c->fh, body, kmqtt_limits(), &pkt);
	if (ret < 0)
		goto violation;
	switch (pkt.type) {
	case MQTT_PUBLISH:
		ret = kmqtt_handle_publish(c, &pkt.publish);
		if (ret == -ENOSPC)
			return KMQTT_CLOSE_LIMIT + 1;
		if (ret)
			return KMQTT_CLOSE_SOCKET_ERROR + 1;
		return 0;
	case MQTT_PUBACK:
	case MQTT_PUBREC:
	case MQTT_PUBCOMP:
		kmqtt_ack_in(c, pkt.type, pkt.ack.packet_id);
		return 0;
	case MQTT_PUBREL:
		/* Released: forget the id, PUBCOMP even for an unknown one [MQTT-4.3.3-2]. */
		kmqtt_qos2_forget(c, pkt.ack.packet_id);
		kmqtt_send_ack(c, MQTT_PUBCOMP, pkt.ack.packet_id);
		return 0;
	case MQTT_SUBSCRIBE:
		kmqtt_handle_subscribe(c, &pkt.subscribe);
		return 0;
	case MQTT_UNSUBSCRIBE:
		kmqtt_handle_unsubscribe(c, &pkt.unsubscribe);
		return 0;
	case MQTT_PINGREQ:
		ret = mqtt_encode_ping(resp, sizeof(resp), MQTT_PINGRESP);
		kmqtt_send_ctl(c, resp, ret);
		return 0;
	case MQTT_DISCONNECT:
		return KMQTT_CLOSE_CLIENT_DISCONNECT + 1;
	default:
		/* CONNECT again [MQTT-3.1.0-2], or a server-to-client packet. */
		ret = -MQTT_E_BAD_TYPE;
		goto violation;
	}

violation:
	kmqtt_count_error(ret);
	kmqtt_stat_inc(KMQTT_STAT_PROTOCOL_ERRORS);
	pr_debug("%s (%s): protocol error %s\n", c->client_id, c->peer, mqtt_err_name(ret));
	return KMQTT_CLOSE_PROTOCOL + 1;
}

/*
 * Frame the bytes of @buf: the fixed header is parsed by the core codec; the packet is
 * assembled in c->small or, when larger, in a buffer of exactly its size (bounded by the
 * connection's maximum packet size). Returns 0, or a close reason + 1.
 */
static int kmqtt_rx_bytes(struct kmqtt_conn *c, const u8 *buf, u32 len, int *packets)
{
	u32 take;
	int ret;

	while (len) {
		if (!c->pkt) {
			c->hdr[c->hdr_have++] = *buf++;
			len--;
			ret = mqtt_fixed_header(c->hdr, c->hdr_have, c->level, c->max_packet,
						&c->fh);
			if (ret == 0)
				continue;
			c->hdr_have = 0;
			if (ret < 0) {
				kmqtt_count_error(ret);
				kmqtt_stat_inc(KMQTT_STAT_PROTOCOL_ERRORS);
				return KMQTT_CLOSE_PROTOCOL + 1;
			}
			c->pkt_total = c->fh.remlen;
			c->pkt_have = 0;
			if (c->pkt_total <= sizeof(c->small)) {
				c->pkt = c->small;
			} else {
				c->pkt = kvmalloc(c->pkt_total, GFP_KERNEL_ACCOUNT);
				if (!c->pkt) {
					kmqtt_stat_inc(KMQTT_STAT_NO_MEMORY);
					return KMQTT_CLOSE_SOCKET_ERROR + 1;
				}
			}
		}
		take = min(len, c->pkt_total - c->pkt_have);
		memcpy(c->pkt + c->pkt_have, buf, take);
		c->pkt_have += take;
		buf += take;
		len -= take;
		if (c->pkt_have < c->pkt_total)
			continue;
		ret = kmqtt_handle_packet(c, c->pkt);
		if (c->pkt != c->small)
			kvfree(c->pkt);
		c->pkt = NULL;
		(*packets)++;
		if (ret)
			return ret;
	}
	return 0;
}

/* TLS record content types (RFC 8446, 5.1). */
#define KMQTT_TLS_ALERT		21
#define KMQTT_TLS_DATA		23

/*
 * What a TLS record that is not application data means for the connection. Only the
 * first record of a recvmsg() call may be one: kTLS returns it alone.
 */
static int kmqtt_tls_record(struct kmqtt_conn *c, u8 type, int n)
{
	if (type == KMQTT_TLS_ALERT) {
		/* close_notify (level 1, description 0) or a fatal alert: the peer is done. */
		kmqtt_stat_inc(KMQTT_STAT_TLS_ALERTS);
		pr_debug("%s (%s): TLS alert %u/%u\n", c->client_id, c->peer,
			 n > 0 ? c->rbuf[0] : 0, n > 1 ? c->rbuf[1] : 0);
		return KMQTT_CLOSE_TLS_ALERT + 1;
	}
	/* Handshake (KeyUpdate, renegotiation) or anything else: kTLS cannot follow it. */
	kmqtt_stat_inc(KMQTT_STAT_TLS_UNEXPECTED_RECORDS);
	return KMQTT_CLOSE_TLS_ERROR + 1;
}

/*
 * kTLS's verdicts on a record it cannot accept: authentication failed (-EBADMSG), or a
 * header that is not TLS or too long (-EINVAL, -EMSGSIZE: kernels differ in which).
 */
static bool kmqtt_tls_bad_record(int err)
{
	return err == -EBADMSG || err == -EINVAL || err == -EMSGSIZE;
}

static void kmqtt_conn_rx_work(struct work_struct *w)
{
	struct kmqtt_conn *c = container_of(w, struct kmqtt_conn, rx_work);
	u8 cbuf[CMSG_SPACE(sizeof(u8))] __aligned(sizeof(size_t));
	struct msghdr msg = {};
	struct cmsghdr *cmsg;
	struct kvec iov;
	int packets = 0, ret = 0, n;

	while (!test_bit(KMQTT_CONN_CLOSING, &c->flags) && packets < KMQTT_RX_BUDGET) {
		iov.iov_base = c->rbuf;
		iov.iov_len = sizeof(c->rbuf);
		if (c->tls) {
			msg.msg_control = cbuf;
			msg.msg_controllen = sizeof(cbuf);
			memset(cbuf, 0, sizeof(cbuf));
		}
		n = kernel_recvmsg(c->sock, &msg, &iov, 1, iov.iov_len, MSG_DONTWAIT);
		if (n == -EAGAIN)
			break;
		if (n == 0) {
			ret = KMQTT_CLOSE_PEER_CLOSED + 1;
			break;
		}
		if (c->tls && kmqtt_tls_bad_record(n)) {
			kmqtt_stat_inc(KMQTT_STAT_TLS_DECRYPT_ERRORS);
			ret = KMQTT_CLOSE_TLS_ERROR + 1;
			break;
		}
		if (n < 0) {
			ret = KMQTT_CLOSE_SOCKET_ERROR + 1;
			break;
		}
		if (c->tls) {
			cmsg = (struct cmsghdr *)cbuf;
			if (cmsg->cmsg_level == SOL_TLS &&
			    cmsg->cmsg_type == TLS_GET_RECORD_TYPE &&
			    *(u8 *)CMSG_DATA(cmsg) != KMQTT_TLS_DATA) {
				ret = kmqtt_tls_record(c, *(u8 *)CMSG_DATA(cmsg), n);
				break;
			}
		}
		c->last_rx = jiffies;
		c->bytes_in += n;
		kmqtt_stat_add(KMQTT_STAT_BYTES_IN, n);
		ret = kmqtt_rx_bytes(c, c->rbuf, n, &packets);
		if (ret)
			break;
	}
	if (ret)
		kmqtt_conn_close(c, ret - 1);
	else if (packets >= KMQTT_RX_BUDGET)
		kmqtt_conn_queue(c, &c->rx_work);
	kmqtt_conn_put(c);
}

/* ---- keepalive ---- */

static void kmqtt_conn_ka_work(struct work_struct *w)
{
	struct kmqtt_conn *c = container_of(to_delayed_work(w), struct kmqtt_conn, ka_work);
	/* [MQTT-3.1.2-24]: one and a half times the keepalive without a packet. */
	unsigned long limit = msecs_to_jiffies(c->keepalive * 1500U);
	unsigned long deadline = READ_ONCE(c->last_rx) + limit;

	if (time_after_eq(jiffies, deadline)) {
		kmqtt_stat_inc(KMQTT_STAT_KEEPALIVE_TIMEOUTS);
		kmqtt_conn_close(c, KMQTT_CLOSE_KEEPALIVE);
	} else {
		kmqtt_conn_queue_ka(c, deadline - jiffies + 1);
	}
	kmqtt_conn_put(c);
}

/* ---- hand-off ---- */

static struct kmqtt_conn *kmqtt_conn_find_client(const char *client_id, u32 hash)
{
	struct kmqtt_conn *c;

	hash_for_each_possible(kmqtt_conns_by_client, c, id_node, hash)
		if (!strcmp(c->client_id, client_id) && !test_bit(KMQTT_CONN_CLOSING, &c->flags))
			return c;
	return NULL;
}

/* The parked session of @client_id, taken out of the client-id hash; under conns_lock. */
static struct kmqtt_conn *kmqtt_conn_unhash_parked(const char *client_id, u32 hash)
{
	struct kmqtt_conn *c;

	hash_for_each_possible(kmqtt_conns_by_client, c, id_node, hash) {
		if (!strcmp(c->client_id, client_id) && test_bit(KMQTT_CONN_PARKED, &c->flags)) {
			hash_del(&c->id_node);
			return c;
		}
	}
	return NULL;
}

/*
 * Session takeover [MQTT-3.1.4-2]: the open connection with this client id goes, and is
 * gone (parked, if persistent) before the new one is set up. Hand-overs are serialized
 * (the genetlink family has no parallel ops), so no other can come in between.
 */
static void kmqtt_conn_take_over(const char *client_id, u32 hash)
{
	struct kmqtt_conn *old = NULL, *c;

	/*
	 * Open, or closing but not parked yet (its client went away just before coming
	 * back): either way its close must be over before the session is looked for.
	 */
	mutex_lock(&kmqtt_conns_lock);
	hash_for_each_possible(kmqtt_conns_by_client, c, id_node, hash) {
		if (!strcmp(c->client_id, client_id) && !test_bit(KMQTT_CONN_PARKED, &c->flags) &&
		    kmqtt_conn_get(c)) {
			old = c;
			break;
		}
	}
	mutex_unlock(&kmqtt_conns_lock);
	if (!old)
		return;
	if (!test_bit(KMQTT_CONN_CLOSING, &old->flags)) {
		kmqtt_stat_inc(KMQTT_STAT_TAKEOVERS);
		/* Its session, if persistent, goes on in the new connection: keep it here. */
		set_bit(KMQTT_CONN_TAKEN_OVER, &old->flags);
		kmqtt_conn_close(old, KMQTT_CLOSE_TAKEOVER);
	}
	flush_work(&old->close_work);
	kmqtt_conn_put(old);
}

/*
 * The new persistent connection @c takes up the parked session @p: what @p still held
 * (in order, ahead of anything else), its QoS 2 ids, then its subscriptions. Messages the
 * fan-out finds at @p meanwhile go to @c (taken_by), where the seq check drops a copy
 * found at both. @c holds its live messages (KMQTT_CONN_HOLD) and has queued nothing yet.
 */
static void kmqtt_session_take_up(struct kmqtt_conn *c, struct kmqtt_conn *p)
{
	struct kmqtt_tx *t, *tmp;
	unsigned long idx;
	LIST_HEAD(owed);
	void *v;

	kref_get(&c->ref);
	spin_lock_bh(&p->tx_lock);
	p->taken_by = c;
	list_splice_init(&p->txq, &owed);
	p->txq_len = 0;
	spin_unlock_bh(&p->tx_lock);

	list_for_each_entry_safe(t, tmp, &owed, node) {
		list_del(&t->node);
		/* Owed again if this connection ends: numbered again then. */
		t->owed_seq = 0;
		t->again = false;
		spin_lock_bh(&c->tx_lock);
		if (t->released) {
			t->inflight = true;
			list_add_tail(&t->node, &c->inflight);
			c->n_inflight++;
		} else {
			list_add_tail(&t->node, &c->txq);
			c->txq_len++;
			if (t->dup)
				c->n_dup_queued++;
		}
		spin_unlock_bh(&c->tx_lock);
		if (t->released)
			kmqtt_send_ack(c, MQTT_PUBREL, t->pid);
	}
	c->max_store_id = READ_ONCE(p->max_store_id);
	xa_for_each(&p->qos2_in, idx, v) {
		if (!xa_err(xa_store(&c->qos2_in, idx, v, GFP_KERNEL_ACCOUNT)))
			c->n_qos2_in++;
	}
	kmqtt_subs_move(p, c);
	kmqtt_stat_inc(KMQTT_STAT_SESSIONS_RESUMED);
	kmqtt_session_discard(p);
}

/*
 * Each packet id of the nest @ids (KMQTT_A_PACKET_ID, validated) into @xa with the value
 * @v. Returns how many were stored; those that could not be are counted in @failed.
 */
static u32 kmqtt_ids_store(struct xarray *xa, const struct nlattr *ids, void *v, u32 *failed)
{
	const struct nlattr *a;
	u32 n = 0;
	int rem;

	nla_for_each_nested(a, ids, rem) {
		if (nla_type(a) != KMQTT_A_PACKET_ID)
			continue;
		if (!xa_err(xa_store(xa, nla_get_u16(a), v, GFP_KERNEL_ACCOUNT)))
			n++;
		else if (failed)
			(*failed)++;
	}
	return n;
}

/* A persistent session the daemon restored from its store (no parked one was here). */
static void kmqtt_session_restore(struct kmqtt_conn *c, const struct kmqtt_conn_params *p)
{
	struct nlattr *tb[KMQTT_SUB_A_MAX + 1];
	const struct nlattr *a;
	int rem;

	if (p->subs) {
		nla_for_each_nested(a, p->subs, rem) {
			if (nla_type(a) != KMQTT_A_SUB ||
			    nla_parse_nested(tb, KMQTT_SUB_A_MAX, (struct nlattr *)a, NULL, NULL) ||
			    !tb[KMQTT_SUB_A_FILTER] || !tb[KMQTT_SUB_A_QOS])
				continue;	/* validated by the policy before */
			if (kmqtt_subscribe(c, nla_data(tb[KMQTT_SUB_A_FILTER]),
					    nla_len(tb[KMQTT_SUB_A_FILTER]),
					    nla_get_u8(tb[KMQTT_SUB_A_QOS])))
				pr_warn_ratelimited("session %s: a stored subscription could not be restored\n",
						    c->client_id);
		}
	}
	if (p->qos2_ids)
		c->n_qos2_in += kmqtt_ids_store(&c->qos2_in, p->qos2_ids, xa_mk_value(2), NULL);
}

/* The daemon's resends keep their packet ids: none of those goes to a new message. */
static void kmqtt_conn_reserve_ids(struct kmqtt_conn *c, const struct nlattr *ids)
{
	u32 failed = 0;

	kmqtt_ids_store(&c->out_ids, ids, xa_mk_value(1), &failed);
	if (failed) {
		kmqtt_stat_add(KMQTT_STAT_NO_MEMORY, failed);
		pr_warn_ratelimited("session %s: %u resend packet id(s) could not be kept aside\n",
				    c->client_id, failed);
	}
}

/*
 * A TLS client is never carried in plaintext by mistake: the daemon says whether the
 * socket is TLS, and the socket must agree, with kTLS set up for both directions.
 */
static int kmqtt_conn_check_tls(struct sock *sk, bool tls, const char **why)
{
	const struct tcp_ulp_ops *ulp;
	struct tls_context *ctx;
	int err = 0;

	lock_sock(sk);
	ulp = inet_csk(sk)->icsk_ulp_ops;
	if (!tls) {
		if (ulp) {
			*why = "socket has an upper-layer protocol (kTLS?) but no TLS session";
			err = -EPROTO;
		}
	} else if (!ulp || strcmp(ulp->name, "tls")) {
		*why = "TLS session but the socket has no kernel TLS";
		err = -EPROTO;
	} else {
		ctx = tls_get_ctx(sk);
		if (!ctx || ctx->tx_conf == TLS_BASE || ctx->rx_conf == TLS_BASE) {
			*why = "kernel TLS is not set up for both sending and receiving";
			err = -EPROTO;
		}
	}
	release_sock(sk);
	return err;
}

int kmqtt_conn_new(const struct kmqtt_conn_params *p, u64 *id, bool *session_present,
		   const char **why)
{
	struct mqtt_connack ack = { .session_present = p->flags & KMQTT_CONN_F_SESSION_PRESENT };
	u32 hash = jhash(p->client_id, strlen(p->client_id), 0);
	struct kmqtt_conn *c, *parked;
	struct socket *sock;
	struct sockaddr_storage ss;
	struct sock *sk;
	u8 connack[4];
	u32 xid;
	int err, len;

	sock = sockfd_lookup(p->fd, &err);
	if (!sock) {
		*why = "not a socket";
		return err;
	}
	sk = sock->sk;
	if (sk->sk_protocol != IPPROTO_TCP || sock->type != SOCK_STREAM ||
	    (sk->sk_family != AF_INET && sk->sk_family != AF_INET6)) {
		*why = "not a TCP socket";
		err = -EPROTONOSUPPORT;
		goto put_sock;
	}
	/*
	 * CLOSE_WAIT: a fire-and-forget client (CONNECT, PUBLISH, DISCONNECT, FIN) may be
	 * done sending before the daemon hands it over; what it sent is still to be read.
	 */
	if (sk->sk_state != TCP_ESTABLISHED && sk->sk_state != TCP_CLOSE_WAIT) {
		*why = "socket is not connected";
		err = -ENOTCONN;
		goto put_sock;
	}
	if (READ_ONCE(sk->sk_user_data)) {
		*why = "socket is already in use by the kernel";
		err = -EBUSY;
		goto put_sock;
	}
	err = kmqtt_conn_check_tls(sk, !!p->tls, why);
	if (err)
		goto put_sock;

	kmqtt_conn_take_over(p->client_id, hash);
	c = kzalloc(sizeof(*c), GFP_KERNEL_ACCOUNT);
	if (!c) {
		err = -ENOMEM;
		goto put_sock;
	}
	kref_init(&c->ref);		/* the open reference */
	kref_get(&c->ref);		/* ours, until the set-up below is done */
	c->sock = sock;
	c->sk = sk;
	c->client_id = kstrdup(p->client_id, GFP_KERNEL_ACCOUNT);
	c->username = p->username ? kstrdup(p->username, GFP_KERNEL_ACCOUNT) : NULL;
	if (!c->client_id || (p->username && !c->username)) {
		err = -ENOMEM;
		goto free_conn;
	}
	c->level = p->level;
	c->keepalive = p->keepalive;
	c->max_packet = p->max_packet ?: KMQTT_DEF_MAX_PACKET;
	c->tx_queue_max = p->tx_queue_max ?: KMQTT_DEF_TX_QUEUE;
	c->inflight_max = p->inflight_max ?: KMQTT_DEF_INFLIGHT;
	c->acl = p->acl;
	c->tls = p->tls;
	c->will = p->will;
	c->persistent = !(p->flags & KMQTT_CONN_F_CLEAN_SESSION);
	xa_init(&c->qos2_in);
	xa_init(&c->out_ids);
	INIT_LIST_HEAD(&c->held);
	/* Nothing may overtake the CONNACK: live messages wait until it is queued. */
	if (c->persistent)
		set_bit(KMQTT_CONN_HOLD, &c->flags);
	c->connected_ms = kmqtt_uptime_ms();
	c->last_rx = jiffies;
	INIT_LIST_HEAD(&c->subs);
	INIT_LIST_HEAD(&c->ctlq);
	INIT_LIST_HEAD(&c->txq);
	INIT_LIST_HEAD(&c->inflight);
	spin_lock_init(&c->tx_lock);
	INIT_WORK(&c->rx_work, kmqtt_conn_rx_work);
	INIT_WORK(&c->tx_work, kmqtt_conn_tx_work);
	INIT_WORK(&c->close_work, kmqtt_conn_close_work);
	INIT_DELAYED_WORK(&c->ka_work, kmqtt_conn_ka_work);
	if (kernel_getpeername(sock, (struct sockaddr *)&ss) >= 0)
		snprintf(c->peer, sizeof(c->peer), "%pISpc", &ss);

	mutex_lock(&kmqtt_conns_lock);
	if (kmqtt_conns_stopping) {
		mutex_unlock(&kmqtt_conns_lock);
		*why = "module is being unloaded";
		err = -ESHUTDOWN;
		goto free_conn;
	}
	err = xa_alloc_cyclic(&kmqtt_conns, &xid, c, xa_limit_32b, &kmqtt_conn_next_id,
			      GFP_KERNEL);
	if (err < 0) {
		mutex_unlock(&kmqtt_conns_lock);
		goto free_conn;
	}
	c->id = xid;
	parked = kmqtt_conn_unhash_parked(c->client_id, hash);
	hash_add(kmqtt_conns_by_client, &c->id_node, hash);
	atomic_inc(&kmqtt_conns_open);
	kmqtt_stat_inc(KMQTT_STAT_CONNS_ACCEPTED);
	if (c->tls)
		kmqtt_stat_inc(KMQTT_STAT_TLS_CONNS);
	kmqtt_stat_inc(KMQTT_STAT_CONNS_CURRENT);
	mutex_unlock(&kmqtt_conns_lock);

	/*
	 * The session: a parked one is taken up (session present), or discarded by a clean
	 * connection [MQTT-3.1.2-6]; else the daemon's stored one is restored.
	 */
	if (parked && c->persistent) {
		kmqtt_session_take_up(c, parked);
		ack.session_present = true;
	} else if (parked) {
		kmqtt_stat_inc(KMQTT_STAT_SESSIONS_DISCARDED);
		kmqtt_session_discard(parked);
	} else if (c->persistent) {
		kmqtt_session_restore(c, p);
	}
	if (p->out_ids)
		kmqtt_conn_reserve_ids(c, p->out_ids);
	if (!c->persistent)
		ack.session_present = false;	/* [MQTT-3.2.2-1] */
	*session_present = ack.session_present;

	/* CONNACK first: nothing else may be sent before it. */
	len = mqtt_encode_connack(connack, sizeof(connack), c->level, &ack);
	kmqtt_send_ctl(c, connack, len);
	if (c->persistent && !(p->flags & KMQTT_CONN_F_HOLD))
		kmqtt_conn_release_hold(c);

	write_lock_bh(&sk->sk_callback_lock);
	c->saved_data_ready = sk->sk_data_ready;
	c->saved_write_space = sk->sk_write_space;
	c->saved_state_change = sk->sk_state_change;
	sk->sk_user_data = c;
	sk->sk_data_ready = kmqtt_data_ready;
	sk->sk_write_space = kmqtt_write_space;
	sk->sk_state_change = kmqtt_state_change;
	write_unlock_bh(&sk->sk_callback_lock);

	/* Latency first: batching is explicit, with MSG_MORE while more is queued. */
	tcp_sock_set_nodelay(sk);

	/* Packets the client pipelined after its CONNECT may already be waiting. */
	kmqtt_conn_queue(c, &c->rx_work);
	if (c->keepalive)
		kmqtt_conn_queue_ka(c, msecs_to_jiffies(c->keepalive * 1500U));
	*id = c->id;
	/* The client may be gone already; its close work ran or waits for this. */
	kmqtt_conn_put(c);
	return 0;

free_conn:
	kfree(c->client_id);
	kfree(c->username);
	kfree(c);
put_sock:
	sockfd_put(sock);
	return err;
}

int kmqtt_conn_kick(u64 id, const char *client_id)
{
	struct kmqtt_conn *c = NULL;

	mutex_lock(&kmqtt_conns_lock);
	if (client_id)
		c = kmqtt_conn_find_client(client_id, jhash(client_id, strlen(client_id), 0));
	else if (id <= U32_MAX)
		c = xa_load(&kmqtt_conns, id);
	if (c)
		kmqtt_conn_close(c, KMQTT_CLOSE_KICKED);
	mutex_unlock(&kmqtt_conns_lock);
	return c ? 0 : -ENOENT;
}

struct kmqtt_conn *kmqtt_conn_find(u64 id)
{
	struct kmqtt_conn *c = NULL;

	mutex_lock(&kmqtt_conns_lock);
	if (id <= U32_MAX)
		c = xa_load(&kmqtt_conns, id);
	if (c && (test_bit(KMQTT_CONN_CLOSING, &c->flags) || !kmqtt_conn_get(c)))
		c = NULL;
	mutex_unlock(&kmqtt_conns_lock);
	return c;
}

int kmqtt_conns_for_each(unsigned long *pos, kmqtt_conn_iter_fn fn, void *ctx)
{
	struct kmqtt_conn *c;
	unsigned long idx;
	int ret = 0;

	mutex_lock(&kmqtt_conns_lock);
	xa_for_each_start(&kmqtt_conns, idx, c, *pos) {
		/* A parked session is not a connection. */
		if (test_bit(KMQTT_CONN_PARKED, &c->flags)) {
			*pos = idx + 1;
			continue;
		}
		ret = fn(c, ctx);
		if (ret)
			break;
		*pos = idx + 1;
	}
	mutex_unlock(&kmqtt_conns_lock);
	return ret;
}

int kmqtt_conn_resumed(u64 id)
{
	struct kmqtt_conn *c = kmqtt_conn_find(id);

	if (!c)
		return -ENOENT;
	kmqtt_conn_release_hold(c);
	kmqtt_conn_put(c);
	return 0;
}

int kmqtt_session_add(const char *client_id, const struct kmqtt_conn_params *p,
		      u64 max_store_id)
{
	u32 hash = jhash(client_id, strlen(client_id), 0);
	struct kmqtt_conn *c, *o;
	u32 xid;
	int err;

	if (atomic_inc_return(&kmqtt_parked) > KMQTT_MAX_PARKED) {
		atomic_dec(&kmqtt_parked);
		return -ENOSPC;
	}
	err = -ENOMEM;
	c = kzalloc(sizeof(*c), GFP_KERNEL_ACCOUNT);
	if (!c)
		goto unpark;
	kref_init(&c->ref);		/* the open reference, kept while parked */
	c->client_id = kstrdup(client_id, GFP_KERNEL_ACCOUNT);
	if (!c->client_id)
		goto free;
	c->persistent = true;
	c->max_store_id = max_store_id;
	c->tx_queue_max = KMQTT_DEF_TX_QUEUE;
	c->inflight_max = KMQTT_DEF_INFLIGHT;
	c->connected_ms = kmqtt_uptime_ms();
	strscpy(c->peer, "(restored)", sizeof(c->peer));
	INIT_LIST_HEAD(&c->subs);
	INIT_LIST_HEAD(&c->ctlq);
	INIT_LIST_HEAD(&c->txq);
	INIT_LIST_HEAD(&c->held);
	INIT_LIST_HEAD(&c->inflight);
	spin_lock_init(&c->tx_lock);
	INIT_WORK(&c->rx_work, kmqtt_conn_rx_work);
	INIT_WORK(&c->tx_work, kmqtt_conn_tx_work);
	INIT_WORK(&c->close_work, kmqtt_conn_close_work);
	INIT_DELAYED_WORK(&c->ka_work, kmqtt_conn_ka_work);
	xa_init(&c->qos2_in);
	set_bit(KMQTT_CONN_CLOSING, &c->flags);
	set_bit(KMQTT_CONN_PARKED, &c->flags);

	mutex_lock(&kmqtt_conns_lock);
	err = -ESHUTDOWN;
	if (kmqtt_conns_stopping)
		goto unlock;
	err = -EEXIST;
	hash_for_each_possible(kmqtt_conns_by_client, o, id_node, hash) {
		if (strcmp(o->client_id, client_id))
			continue;
		if (!test_bit(KMQTT_CONN_PARKED, &o->flags) || !kmqtt_conn_get(o))
			goto unlock;
		mutex_unlock(&kmqtt_conns_lock);
		kmqtt_session_hand_back(o);
		kmqtt_conn_put(o);
		goto free;
	}
	err = xa_alloc_cyclic(&kmqtt_conns, &xid, c, xa_limit_32b, &kmqtt_conn_next_id,
			      GFP_KERNEL);
	if (err < 0)
		goto unlock;
	c->id = xid;
	hash_add(kmqtt_conns_by_client, &c->id_node, hash);
	atomic_inc(&kmqtt_conns_open);
	mutex_unlock(&kmqtt_conns_lock);
	/* In the tables, parked: the fan-out finds it as soon as it is subscribed. */
	kmqtt_session_restore(c, p);
	kmqtt_stat_inc(KMQTT_STAT_SESSIONS_PARKED);
	return 0;

unlock:
	mutex_unlock(&kmqtt_conns_lock);
free:
	kfree(c->client_id);
	kfree(c);
unpark:
	atomic_dec(&kmqtt_parked);
	return err;
}

int kmqtt_session_del(const char *client_id)
{
	struct kmqtt_conn *c;

	mutex_lock(&kmqtt_conns_lock);
	c = kmqtt_conn_unhash_parked(client_id, jhash(client_id, strlen(client_id), 0));
	mutex_unlock(&kmqtt_conns_lock);
	if (!c)
		return -ENOENT;
	kmqtt_stat_inc(KMQTT_STAT_SESSIONS_DISCARDED);
	kmqtt_session_discard(c);
	return 0;
}

/* The daemon went away: nobody will resume the held sessions, let their messages go. */
void kmqtt_conns_release_holds(void)
{
	struct kmqtt_conn *c;
	unsigned long idx;

	mutex_lock(&kmqtt_conns_lock);
	xa_for_each(&kmqtt_conns, idx, c)
		if (test_bit(KMQTT_CONN_HOLD, &c->flags) &&
		    !test_bit(KMQTT_CONN_CLOSING, &c->flags))
			kmqtt_conn_release_hold(c);
	mutex_unlock(&kmqtt_conns_lock);
}

void kmqtt_conn_stats(struct kmqtt_conn *c, u64 *cs)
{
	cs[KMQTT_CS_MSGS_IN] = READ_ONCE(c->msgs_in);
	cs[KMQTT_CS_BYTES_IN] = READ_ONCE(c->bytes_in);
	cs[KMQTT_CS_MSGS_OUT] = atomic64_read(&c->msgs_out);
	cs[KMQTT_CS_BYTES_OUT] = atomic64_read(&c->bytes_out);
	cs[KMQTT_CS_QOS0_DROPPED] = atomic64_read(&c->qos0_dropped);
	cs[KMQTT_CS_SUBSCRIPTIONS] = READ_ONCE(c->n_subs);
	cs[KMQTT_CS_TX_QUEUED] = READ_ONCE(c->txq_len);
	cs[KMQTT_CS_INFLIGHT] = READ_ONCE(c->n_inflight);
}

/* Module unload: close every connection and wait until all are gone. */
/* Module unload, first step: close every connection; persistent ones park. */
void kmqtt_conns_close_all(void)
{
	struct kmqtt_conn *c;
	unsigned long idx;

	mutex_lock(&kmqtt_conns_lock);
	kmqtt_conns_stopping = true;
	xa_for_each(&kmqtt_conns, idx, c)
		kmqtt_conn_close(c, KMQTT_CLOSE_SHUTDOWN);
	mutex_unlock(&kmqtt_conns_lock);
	/* Persistent ones park: the daemon is told their state and gets what they owed. */
	flush_workqueue(kmqtt_wq);
}

/* Module unload, last step: every parked session goes, and every connection. */
void kmqtt_conns_shutdown(void)
{
	struct kmqtt_conn *c;
	unsigned long idx;

	for (;;) {
		mutex_lock(&kmqtt_conns_lock);
		c = NULL;
		xa_for_each(&kmqtt_conns, idx, c) {
			if (test_bit(KMQTT_CONN_PARKED, &c->flags)) {
				if (!hlist_unhashed(&c->id_node))
					hash_del(&c->id_node);
				break;
			}
		}
		mutex_unlock(&kmqtt_conns_lock);
		if (!c)
			break;
		kmqtt_session_discard(c);
	}
	wait_event(kmqtt_conns_wq, !atomic_read(&kmqtt_conns_open));
	/* The frees are RCU callbacks: let them run before the module text goes. */
	rcu_barrier();
}

int __init kmqtt_conn_init(void)
{
	kmqtt_tx_cache = KMEM_CACHE(kmqtt_tx, SLAB_ACCOUNT);
	return kmqtt_tx_cache ? 0 : -ENOMEM;
}

void kmqtt_conn_exit(void)
{
	kmem_cache_destroy(kmqtt_tx_cache);
}

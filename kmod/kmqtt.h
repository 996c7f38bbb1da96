/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Declarations shared by the files of kmqtt.ko.
 *
 * Lifetimes: a struct kmqtt_conn is created by a KMQTT_CMD_CONN_NEW hand-off and holds
 * one reference for being open. Works, fan-out deliveries and netlink dumps take their
 * own references; the last kmqtt_conn_put() frees it after an RCU grace period, because
 * topic trie readers may still see it as a subscriber pointer. Closing (kmqtt_conn_close)
 * is idempotent and done from a work item, so it may be requested from any context.
 */
#ifndef KMQTT_H
#define KMQTT_H

#include <linux/kref.h>
#include <linux/list.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <uapi/linux/kmqtt.h>
#include "core/mqtt_codec.h"
#include "core/topic.h"

/* Defaults of the per-connection limits (KMQTT_A_LIMITS). */
#define KMQTT_DEF_MAX_PACKET	(256U * 1024)
#define KMQTT_DEF_TX_QUEUE	1000
#define KMQTT_DEF_INFLIGHT	32
#define KMQTT_MAX_TX_QUEUE	100000
#define KMQTT_MAX_INFLIGHT	65535

/* Module unload waits this long for the daemon to confirm what sessions still owed. */
#define KMQTT_UNLOAD_DRAIN	(5 * HZ)

/* RX: packets up to this size are assembled in the connection's own buffer. */
#define KMQTT_RX_SMALL		512
/* Budgets per work run, so that one busy connection cannot hog a worker. */
#define KMQTT_RX_BUDGET		64
#define KMQTT_TX_BUDGET		64
#define KMQTT_TX_INLINE		8	/* fixed header, packet id */

/* An immutable PUBLISH shared by every subscriber's queue. */
struct kmqtt_msg {
	refcount_t ref;
	u32 payload_len;
	u16 topic_len;
	u8 qos;
	bool retain;		/* sent with the retain flag: a retained message on subscribe */
	u64 seq;		/* per-publication, for overlapping-subscription dedup */
	u8 data[];		/* topic, then payload */
};

/* One packet queued for sending: a PUBLISH (msg) or a small control packet (ctl). */
struct kmqtt_tx {
	struct list_head node;
	struct kmqtt_msg *msg;	/* NULL: control packet in ctl[] */
	u16 pid;		/* QoS 1/2 packet identifier, assigned when sending starts */
	u8 qos;
	bool inflight;		/* on conn->inflight: sent or being sent, awaiting PUBACK */
	bool released;		/* QoS 2: PUBREC received, PUBREL sent, awaiting PUBCOMP */
	bool dup;		/* a resend: DUP flag, and pid was given (not assigned) */
	u64 owed_seq;		/* a parked session's: its number once handed over */
	bool again;		/* handed over before, not confirmed: taken back */
	u8 ctl_len;
	u8 ctl[8];		/* CONNACK, PUBACK, PUBREC/REL/COMP, PINGRESP, UNSUBACK */
	u8 *big;		/* a larger control packet (SUBACK), kfree'd with the item */
	u32 big_len;
};

/* The will of a connection (KMQTT_A_WILL), published if it ends abnormally. */
struct kmqtt_will {
	u32 payload_len;
	u16 topic_len;
	u8 qos;
	bool retain;
	u8 data[];		/* topic, then payload */
};

/*
 * The acknowledgment a QoS 1/2 publisher waits for (PUBACK/PUBREC) while the daemon has
 * not confirmed every hand-over of its message (retained store, parked sessions). One
 * reference per pending hand-over plus the publisher's own; the last put sends it,
 * unless a hand-over failed (then the publisher sends the message again).
 */
struct kmqtt_ack {
	refcount_t ref;
	bool failed;
	u8 qos;
	u16 pid;
	u64 conn_id;
};

struct kmqtt_acl;
struct genl_info;
struct sk_buff;

struct kmqtt_conn {
	struct kref ref;
	struct rcu_head rcu;
	u64 id;
	struct socket *sock;
	struct sock *sk;
	void (*saved_data_ready)(struct sock *sk);
	void (*saved_write_space)(struct sock *sk);
	void (*saved_state_change)(struct sock *sk);

	struct work_struct rx_work;
	struct work_struct tx_work;
	struct work_struct close_work;
	struct delayed_work ka_work;
	unsigned long flags;	/* KMQTT_CONN_* bits */
	u32 close_reason;

	/* Identity and session, fixed at hand-off. */
	bool persistent;	/* clean session 0: parked when the connection ends */
	u64 max_store_id;	/* highest stored message delivered (KMQTT_A_STORE_ID) */
	u64 store_refused;	/* a stored message refused: later ones wait for it */
	struct kmqtt_conn *taken_by;	/* parked, taken up by this one (a reference) */
	char *client_id;
	char *username;
	char peer[64];
	u8 level;
	u16 keepalive;
	u32 max_packet;
	u32 tx_queue_max;
	u32 inflight_max;
	struct kmqtt_acl *acl;
	struct kmqtt_tls *tls;	/* NULL: plain TCP */
	struct kmqtt_will *will;	/* NULL: none */
	u64 connected_ms;
	unsigned long last_rx;	/* jiffies */
	struct hlist_node id_node;	/* kmqtt_conns_by_client, under kmqtt_conns_lock */

	/* RX state, touched only by rx_work (and by close_work after it is cancelled). */
	u8 hdr[MQTT_MAX_HEADER_LEN];
	u8 hdr_have;
	struct mqtt_fixed_header fh;
	u8 *pkt;		/* small[] or a kvmalloc'ed buffer of pkt_total bytes */
	u32 pkt_total;
	u32 pkt_have;
	u8 small[KMQTT_RX_SMALL];
	u8 rbuf[1024];
	struct list_head subs;	/* struct kmqtt_sub, this connection's filters */
	u32 n_subs;
	/* QoS 2 packet ids received and forwarded, awaiting PUBREL; owned by rx_work. */
	struct xarray qos2_in;
	u32 n_qos2_in;
	/* Packet ids of resends the daemon still has for us: not for new messages. */
	struct xarray out_ids;

	/* TX state, under tx_lock. */
	spinlock_t tx_lock;
	struct list_head ctlq;	/* control packets waiting: sent before any PUBLISH */
	struct list_head txq;	/* PUBLISH waiting to be sent; parked: owed to the client */
	u32 txq_len;		/* items in txq */
	struct list_head held;	/* KMQTT_CONN_HOLD: live PUBLISH waiting for the resume */
	u32 held_len;
	struct kmqtt_tx *tx_cur;	/* being sent; off bytes already gone */
	u32 tx_off;
	struct list_head inflight;	/* QoS 1/2 sent, awaiting PUBACK or PUBCOMP */
	u32 n_inflight;
	u16 next_pid;
	u32 n_dup_queued;	/* resent items in txq, whose pid is given */
	u64 last_seq;		/* seq of the last msg queued, with last_tx */
	struct kmqtt_tx *last_tx;

	/* Per-connection statistics (KMQTT_CS_*). */
	u64 msgs_in;
	u64 bytes_in;
	atomic64_t msgs_out;
	atomic64_t bytes_out;
	atomic64_t qos0_dropped;
};

enum {
	KMQTT_CONN_CLOSING,	/* close requested: no new work, no new deliveries */
	KMQTT_CONN_CONNACKED,
	KMQTT_CONN_PARKED,	/* persistent session without a connection (CLOSING too) */
	KMQTT_CONN_HOLD,	/* live messages go to held until the daemon's resume */
	KMQTT_CONN_TAKEN_OVER,	/* closed by a new connection with its client id */
	KMQTT_CONN_DISCARDED,	/* parked session ended: takes nothing back any more */
};

/* main.c */
extern struct workqueue_struct *kmqtt_wq;
u64 kmqtt_uptime_ms(void);

/* netlink.c */
int __init kmqtt_netlink_init(void);
void kmqtt_netlink_exit(void);
void kmqtt_nl_conn_closed(struct kmqtt_conn *c);
u32 kmqtt_nl_daemon_portid(void);
bool kmqtt_nl_is_daemon(struct genl_info *info);
/* The kmqtt family's header for an event to the daemon, or NULL. */
void *kmqtt_nl_event_put(struct sk_buff *msg, u8 cmd);

/* conn.c */
struct kmqtt_conn_params {
	int fd;
	const char *client_id;
	const char *username;
	u8 level;
	u16 keepalive;
	u32 flags;
	u32 max_packet;
	u32 tx_queue_max;
	u32 inflight_max;
	struct kmqtt_acl *acl;	/* ownership passes to the connection */
	struct kmqtt_tls *tls;	/* NULL: plain TCP; ownership passes to the connection */
	struct kmqtt_will *will;	/* NULL: none; ownership passes to the connection */
	/* Persistent session state from the daemon's store (used if none is parked). */
	const struct nlattr *subs;	/* KMQTT_A_SUBS, validated */
	const struct nlattr *qos2_ids;	/* KMQTT_A_QOS2_IDS, validated */
	const struct nlattr *out_ids;	/* KMQTT_A_OUT_IDS, validated */
};

/*
 * What the daemon's TLS handshake established, kept for KMQTT_CMD_CONN_GET. One
 * allocation: the strings point into buf[]; the optional ones may be NULL.
 */
struct kmqtt_tls {
	const char *version;
	const char *cipher;
	const char *cert_cn;
	const char *cert_serial;
	const char *cert_issuer;
	char buf[];
};

int kmqtt_conn_new(const struct kmqtt_conn_params *p, u64 *id, bool *session_present,
		   const char **why);
void kmqtt_conn_close(struct kmqtt_conn *c, u32 reason);
void kmqtt_conn_put(struct kmqtt_conn *c);
bool kmqtt_conn_get(struct kmqtt_conn *c);
/* Close the connection with this id or client id. -ENOENT if none. */
int kmqtt_conn_kick(u64 id, const char *client_id);
void kmqtt_conns_close_all(void);
void kmqtt_conns_shutdown(void);
typedef int (*kmqtt_conn_iter_fn)(struct kmqtt_conn *c, void *ctx);
/* Calls @fn for each open connection with id >= *@pos, in id order; updates *@pos. */
int kmqtt_conns_for_each(unsigned long *pos, kmqtt_conn_iter_fn fn, void *ctx);
void kmqtt_conn_stats(struct kmqtt_conn *c, u64 *cs);
int __init kmqtt_conn_init(void);
void kmqtt_conn_exit(void);

/* broker.c: topic trie, fan-out, ACL */
int __init kmqtt_broker_init(void);
void kmqtt_broker_exit(void);
struct kmqtt_acl *kmqtt_acl_alloc(u32 n_rules);
int kmqtt_acl_add(struct kmqtt_acl *acl, const char *filter, u32 access);
void kmqtt_acl_free(struct kmqtt_acl *acl);
bool kmqtt_acl_allows(const struct kmqtt_acl *acl, const char *topic, u16 len, u32 access);
int kmqtt_subscribe(struct kmqtt_conn *c, const char *filter, u16 len, u8 qos);
int kmqtt_unsubscribe(struct kmqtt_conn *c, const char *filter, u16 len);
void kmqtt_unsubscribe_all(struct kmqtt_conn *c);
/* Subscribe @to to every filter of @from, then unsubscribe @from. */
void kmqtt_subs_move(struct kmqtt_conn *from, struct kmqtt_conn *to);
/* KMQTT_A_SUBS of @c into @msg, and its size. */
int kmqtt_subs_nla_put(struct sk_buff *msg, struct kmqtt_conn *c);
size_t kmqtt_subs_nla_size(struct kmqtt_conn *c);
/*
 * Deliver a PUBLISH to every matching subscriber. Returns deliveries queued. Hand-overs to
 * parked sessions take a reference on *@ack, allocated on first need for a QoS 1/2
 * publisher (@ack NULL: nobody waits, e.g. a will).
 */
int kmqtt_publish(struct kmqtt_conn *from, const struct mqtt_publish *p,
		  struct kmqtt_ack **ack);
/* The publisher's tracker, allocated with its own reference; NULL on no memory. */
struct kmqtt_ack *kmqtt_ack_get(struct kmqtt_ack **ack, struct kmqtt_conn *from,
				const struct mqtt_publish *p);
void kmqtt_ack_put(struct kmqtt_ack *ack);
const struct mqtt_limits *kmqtt_limits(void);
void kmqtt_count_error(int err);
u64 kmqtt_error_count(int idx);

/*
 * conn.c, for broker.c: queue a message. 1: queued; 0: not (closing, full, duplicate);
 * -EAGAIN: @c is a parked session: hand the message to the daemon (not under RCU).
 */
int kmqtt_conn_enqueue(struct kmqtt_conn *c, struct kmqtt_msg *m, u8 qos);
/* The same for a message the daemon stored for the session (KMQTT_CMD_DELIVER). */
int kmqtt_conn_enqueue_stored(struct kmqtt_conn *c, struct kmqtt_msg *m, u8 qos);
/* A parked session's hand-over after the fan-out; false if refused. */
bool kmqtt_conn_parked_deliver(struct kmqtt_conn *c, struct kmqtt_msg *m, u8 qos,
			       struct kmqtt_ack *ack);
/* Queue a resent PUBLISH (@dup, @pid) or a PUBREL to resume (@m NULL). */
int kmqtt_conn_enqueue_resend(struct kmqtt_conn *c, struct kmqtt_msg *m, u8 qos, u16 pid);
int kmqtt_conn_resumed(u64 id);
int kmqtt_session_del(const char *client_id);
int kmqtt_session_add(const char *client_id, const struct kmqtt_conn_params *p,
		      u64 max_store_id);
void kmqtt_conns_release_holds(void);
void kmqtt_msg_put(struct kmqtt_msg *m);
/* A message of one reference with a new seq, topic and payload to be filled in. */
struct kmqtt_msg *kmqtt_msg_new(u16 topic_len, u32 payload_len);
/* conn.c: the open connection with this id, with a reference; NULL if none. */
struct kmqtt_conn *kmqtt_conn_find(u64 id);
/*
 * conn.c: acknowledge the PUBLISH @pid of QoS @qos late (PUBACK for 1, PUBREC for 2); a
 * QoS 2 id is remembered until PUBREL from then on.
 */
void kmqtt_conn_ack_late(struct kmqtt_conn *c, u8 qos, u16 pid);

/* retain.c: the punt channel for retained messages */
bool kmqtt_retain_punt(struct kmqtt_conn *c, const struct mqtt_publish *p,
		       struct kmqtt_ack *ack);
/*
 * Hand the message @t of the parked session @c to the daemon: a new one (@ack: the
 * publisher's tracker, or NULL) or one the ended connection still owed its client (DUP
 * with its packet id; released: a PUBREL). True: the hand-over owns @t until the daemon
 * confirms it (then it is freed) or goes away (then @c takes it back with
 * kmqtt_session_take_back()). False: refused, @t is still the caller's.
 */
bool kmqtt_session_punt(struct kmqtt_conn *c, struct kmqtt_tx *t, struct kmqtt_ack *ack);
/* conn.c: a message the daemon did not confirm, back into the parked session. */
bool kmqtt_session_take_back(struct kmqtt_conn *c, struct kmqtt_tx *t);
void kmqtt_tx_free(struct kmqtt_tx *t);
/* retain.c: the next owed-message number, and the floor a daemon asks for. */
u64 kmqtt_owed_seq_next(void);
void kmqtt_owed_seq_floor(u64 seq);
/* The park snapshot of @c (subscriptions, QoS 2 ids); false if the daemon missed it. */
bool kmqtt_session_parked_event(struct kmqtt_conn *c);
int kmqtt_nl_session_resumed(struct sk_buff *skb, struct genl_info *info);
int kmqtt_nl_session_del(struct sk_buff *skb, struct genl_info *info);
int kmqtt_nl_session_add(struct sk_buff *skb, struct genl_info *info);
/* netlink.c: KMQTT_A_SUBS and KMQTT_A_QOS2_IDS of @info checked into @p. */
int kmqtt_nl_check_session(struct genl_info *info, struct kmqtt_conn_params *p);
void kmqtt_retain_subscribed(struct kmqtt_conn *c, const char *filter, u16 len, u8 qos);
int kmqtt_nl_retain_stored(struct sk_buff *skb, struct genl_info *info);
int kmqtt_nl_deliver(struct sk_buff *skb, struct genl_info *info);
void kmqtt_retain_daemon_gone(void);
/* Wait up to @timeout for the daemon to confirm every pending hand-over. */
void kmqtt_retain_drain(unsigned long timeout);
void kmqtt_retain_exit(void);

#endif /* KMQTT_H */

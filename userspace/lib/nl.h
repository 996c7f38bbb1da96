/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Talking to kmqtt.ko over its generic netlink family (libnl-genl-3).
 * Functions return 0 or a negative errno: -ENOENT when the module is not loaded,
 * -EPERM when the caller lacks CAP_NET_ADMIN, and what the module answered otherwise.
 */
#ifndef KMQ_NL_H
#define KMQ_NL_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/kmqtt.h>

struct nl_sock;
struct kmq_event;

/* Requests that get no answer in this time fail with -ETIMEDOUT. */
#define KMQ_NL_TIMEOUT_MS 5000

struct kmq_nl {
	struct nl_sock *sk;
	int family;
	char errmsg[128];	/* the kernel's extended-ack message for the last request */
	/*
	 * The daemon's registered socket also receives events (KMQTT_CMD_CONN_CLOSED), even
	 * between a request and its reply: they go to @on_event, set after kmq_nl_open().
	 */
	void (*on_event)(void *arg, const struct kmq_event *ev);
	void *event_arg;
	unsigned long overflows;	/* times the socket overflowed: events were lost */
};

struct kmq_status {
	char version[64];
	uint32_t abi;
	uint32_t state;
	uint64_t uptime_ms;
	uint32_t daemon_pid;
	uint32_t daemon_portid;
	uint64_t daemon_since_ms;
	uint64_t stats[KMQTT_STAT_MAX + 1];
	bool have_stat[KMQTT_STAT_MAX + 1];
};

/* One subscription of a persistent session (KMQTT_A_SUB). */
struct kmq_sub {
	const char *filter;	/* not NUL-terminated */
	uint16_t len;
	uint8_t qos;
};

/* An event from the module to the registered daemon. */
struct kmq_event {
	uint8_t cmd;		/* KMQTT_CMD_CONN_CLOSED, _RETAIN, _SUBSCRIBED, _SESSION_* */
	uint64_t conn_id;	/* 0 in SESSION_MSG */
	char client_id[KMQTT_MAX_CLIENT_ID + 1];
	uint32_t reason;	/* enum kmqtt_close_reason */
	/* RETAIN, SUBSCRIBED, SESSION_*; the pointers are valid during the callback only. */
	uint32_t punt_id;	/* RETAIN, SESSION_MSG */
	uint8_t qos;		/* RETAIN: the PUBLISH's; SUBSCRIBED: the granted QoS;
				   SESSION_MSG: the QoS to deliver it with */
	const char *topic;	/* RETAIN: topic name; SUBSCRIBED: filter (not NUL-terminated);
				   SESSION_MSG: topic name (NULL with KMQTT_MSG_F_PUBREL) */
	uint16_t topic_len;
	const uint8_t *payload;	/* RETAIN, SESSION_MSG */
	uint32_t payload_len;
	uint32_t flags;		/* SESSION_MSG: enum kmqtt_msg_flags */
	uint16_t packet_id;	/* SESSION_MSG: 0 when absent */
	uint64_t owed_seq;	/* SESSION_MSG: the hand-over's number (KMQTT_A_OWED_SEQ) */
	/* SESSION_PARKED: the complete state of the session. */
	const struct kmq_sub *subs;
	uint32_t n_subs;
	const uint16_t *qos2_ids;
	uint32_t n_qos2;
	uint64_t max_store_id;	/* the highest stored message delivered; 0: none */
};

/* The largest event: a retained message of KMQTT_MAX_RETAIN_SIZE and its attributes. */
#define KMQ_NL_EVENT_MAX	(KMQTT_MAX_RETAIN_SIZE + 64 * 1024)

/* KMQTT_CMD_CONN_NEW: an authenticated connection handed to the module. */
struct kmq_conn_new {
	int fd;
	const char *client_id;
	const char *username;	/* NULL: none */
	uint8_t level;
	uint16_t keepalive;
	uint32_t flags;		/* enum kmqtt_conn_flags */
	/* ACL: @n_acl rules; @n_acl < 0 sends no KMQTT_A_ACL (everything allowed). */
	int n_acl;
	const char *const *acl_filter;
	const uint32_t *acl_access;
	/* KMQTT_A_LIMITS: 0 leaves a limit out (the module's default). */
	uint32_t max_packet;
	uint32_t tx_queue;
	uint32_t inflight;
	/* KMQTT_A_TLS, sent when @tls_version is set (the socket carries kTLS both ways). */
	const char *tls_version;
	const char *tls_cipher;
	const char *cert_cn;		/* NULL: no client certificate */
	const char *cert_serial;
	const char *cert_issuer;
	/* KMQTT_A_WILL, sent when @will is set. */
	bool will;
	const char *will_topic;		/* not NUL-terminated */
	uint16_t will_topic_len;
	const void *will_payload;
	uint32_t will_payload_len;
	uint8_t will_qos;
	bool will_retain;
	/*
	 * A persistent session's stored state: KMQTT_A_SUBS when @subs is set (even with
	 * @n_subs 0), KMQTT_A_QOS2_IDS when @n_qos2 > 0, KMQTT_A_OUT_IDS (the packet ids of
	 * the resends it holds) when @n_out > 0.
	 */
	const struct kmq_sub *subs;
	uint32_t n_subs;
	const uint16_t *qos2_ids;
	uint32_t n_qos2;
	const uint16_t *out_ids;
	uint32_t n_out;
};

/* The TLS description of a connection (KMQTT_A_TLS); empty strings when absent. */
struct kmq_conn_tls {
	bool present;
	char version[KMQTT_MAX_TLS_VERSION + 1];
	char cipher[KMQTT_MAX_TLS_CIPHER + 1];
	char cert_cn[KMQTT_MAX_USERNAME + 1];
	char cert_serial[KMQTT_MAX_CERT_SERIAL + 1];
	char cert_issuer[KMQTT_MAX_CERT_ISSUER + 1];
};

/* One connection of a KMQTT_CMD_CONN_GET dump. */
struct kmq_conn_info {
	uint64_t id;
	char client_id[KMQTT_MAX_CLIENT_ID + 1];
	char username[KMQTT_MAX_USERNAME + 1];
	bool has_username;
	char peer[64];
	uint8_t level;
	uint16_t keepalive;
	uint64_t connected_ms;	/* module uptime at hand-off */
	uint64_t last_rx_ms;	/* module uptime of the last packet received */
	uint64_t stats[KMQTT_CS_MAX + 1];
	bool have_stat[KMQTT_CS_MAX + 1];
	struct kmq_conn_tls tls;
};

int kmq_nl_open(struct kmq_nl *nl);
void kmq_nl_close(struct kmq_nl *nl);
/*
 * @owed_seq: the highest KMQTT_A_OWED_SEQ the daemon stored (0: none); the module numbers
 * owed messages above it from then on.
 */
int kmq_nl_register(struct kmq_nl *nl, uint32_t pid, uint64_t owed_seq);
int kmq_nl_unregister(struct kmq_nl *nl);
int kmq_nl_status(struct kmq_nl *nl, struct kmq_status *st);

/*
 * Hand a connection over; its identifier in *@id and the reply's flags (enum
 * kmqtt_conn_flags: KMQTT_CONN_F_SESSION_PRESENT) in *@flags (@flags may be NULL).
 * Daemon socket only.
 */
/*
 * Daemon socket: park a stored session in a module that does not have it (after a
 * reload), so that messages for it are handed over before its client returns. -EEXIST:
 * the module has a connection or a parked session of that client id; a parked one first
 * hands over again the messages it holds (SESSION_MSG events).
 */
int kmq_nl_session_add(struct kmq_nl *nl, const char *client_id, const struct kmq_sub *subs,
		       uint32_t n_subs, const uint16_t *qos2_ids, uint32_t n_qos2);
int kmq_nl_conn_new(struct kmq_nl *nl, const struct kmq_conn_new *p, uint64_t *id,
		    uint32_t *flags);
/* Dump every connection to @fn; a non-zero return from @fn stops (and is returned). */
int kmq_nl_conn_dump(struct kmq_nl *nl, int (*fn)(const struct kmq_conn_info *c, void *arg),
		     void *arg);
/* Close a connection by identifier (@client_id NULL) or client identifier. -ENOENT: none. */
int kmq_nl_conn_del(struct kmq_nl *nl, uint64_t id, const char *client_id);
/* Protocol errors counted by the module: @fn per codec error name seen at least once. */
int kmq_nl_get_errors(struct kmq_nl *nl, int (*fn)(const char *name, uint64_t count, void *arg),
		      void *arg);
/*
 * Daemon socket: confirm that the retained message of KMQTT_CMD_RETAIN @punt_id is stored,
 * and queue a retained message to a connection. Both are sent without waiting for an
 * answer (the module counts refusals); 0 or a negative errno from sending.
 */
int kmq_nl_retain_stored(struct kmq_nl *nl, uint32_t punt_id);

/* One KMQTT_CMD_DELIVER. */
struct kmq_deliver {
	uint64_t conn_id;
	const char *topic;	/* not NUL-terminated; unused with KMQTT_MSG_F_PUBREL */
	uint16_t topic_len;
	const void *payload;
	uint32_t payload_len;
	uint8_t qos;
	uint32_t flags;		/* enum kmqtt_msg_flags */
	uint16_t packet_id;	/* 0: none */
	uint64_t store_id;	/* the stored message's id (KMQTT_A_STORE_ID); 0: none */
};

/*
 * Queue a message to a connection. With @wait false it is sent without NLM_F_ACK (the
 * module counts refusals) and 0 means sent; with @wait true the module's answer is
 * returned (-ENOENT, -ENOBUFS, ...), for session messages that must stay queued when
 * refused.
 */
int kmq_nl_deliver(struct kmq_nl *nl, const struct kmq_deliver *m, bool wait);
/*
 * Daemon socket: deliver @n messages (KMQTT_MAX_DELIVER_BATCH at most is sensible) without
 * waiting for each answer; @err[i] gets each one's result (0: queued). Stored messages
 * (store_id) are taken in order: after a refusal every later one is refused as well
 * (-EAGAIN), so the ones queued are a prefix. Returns 0, or a negative errno when the
 * answers could not all be read (then every @err[i] is that error).
 */
#define KMQTT_MAX_DELIVER_BATCH	64
int kmq_nl_deliver_batch(struct kmq_nl *nl, const struct kmq_deliver *m, unsigned int n,
			 int *err);
/* Release the messages held for a resumed session (KMQTT_CONN_F_HOLD). -ENOENT: gone. */
int kmq_nl_session_resumed(struct kmq_nl *nl, uint64_t conn_id);
/* Discard a parked session (expiry). -ENOENT if the module holds none. */
int kmq_nl_session_del(struct kmq_nl *nl, const char *client_id);
/*
 * Read the events waiting on the (daemon's) socket without blocking, passing each to
 * nl->on_event. Returns 0, or a negative errno. An overflow (events lost) increments
 * nl->overflows.
 */
int kmq_nl_read_events(struct kmq_nl *nl);

/* Stable names for counters and states, used in logs, human and JSON output. */
const char *kmq_stat_name(int stat);
const char *kmq_state_name(uint32_t state);
const char *kmq_conn_stat_name(int stat);
const char *kmq_close_reason_name(uint32_t reason);

/*
 * A socket on the generic netlink controller's "notify" group, which announces families
 * appearing and disappearing: how the daemon learns that kmqtt.ko was loaded or unloaded.
 */
int kmq_nl_ctrl_open(struct kmq_nl *nl);
enum kmq_family_event { KMQ_FAMILY_NONE, KMQ_FAMILY_NEW, KMQ_FAMILY_DEL, KMQ_FAMILY_RESYNC };
int kmq_nl_ctrl_read(struct kmq_nl *nl, enum kmq_family_event *ev);
int kmq_nl_fd(struct kmq_nl *nl);

#endif

/* SPDX-License-Identifier: GPL-2.0 OR MIT */
#ifndef KMQTTD_H
#define KMQTTD_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>
#include <openssl/types.h>
#include "conf.h"
#include "log.h"
#include "nl.h"
#include "mqtt_codec.h"

struct kmq_passwd;
struct kmq_acl;

/* Largest CONNECT read (or max_packet_size if smaller): bounds memory before auth. */
#define KMQTTD_CONNECT_MAX		(64U * 1024)
/* After an error CONNACK the socket is drained this long (and this much) before close. */
#define KMQTTD_LINGER_MS		2000
#define KMQTTD_LINGER_MAX_BYTES		(64U * 1024)
/* Connections accepted per listener event, so one flood cannot starve the loop. */
#define KMQTTD_ACCEPT_BATCH		64
/* A listener that ran out of descriptors or memory pauses this long. */
#define KMQTTD_ACCEPT_PAUSE_MS		100
/* The per-IP table (connection counts, connect-rate buckets) holds at most this many. */
#define KMQTTD_MAX_PEERS		65536
/* Receive buffer of the daemon's netlink socket, where the module's events queue. */
#define KMQTTD_NL_RCVBUF		(4 << 20)
/* The connection table is re-read from the module this often, to mend any drift. */
#define KMQTTD_RESYNC_MS		(5 * 60 * 1000)
/* Rate-limited log lines: at most this many per category and window. */
#define KMQTTD_LOG_BURST		10
#define KMQTTD_LOG_WINDOW_MS		10000
/* Client identifiers kmqttd assigns: prefix and random hex digits. */
#define KMQTTD_CLIENT_ID_PREFIX		"kmqtt-"
#define KMQTTD_CLIENT_ID_RANDOM		16

enum module_link {
	MODULE_ABSENT,		/* kmqtt.ko is not loaded */
	MODULE_REGISTERED,	/* we hold the daemon role */
};

/* What an epoll event points at: every registered object starts with a struct ev. */
enum ev_kind {
	EV_SIGNAL,
	EV_CTL_LISTEN,
	EV_CTL_CLIENT,
	EV_NL_CTRL,		/* generic netlink controller notifications */
	EV_NL_DAEMON,		/* the registered kmqtt socket: events from the module */
	EV_LISTENER,
	EV_PENDING,		/* a client in its TLS handshake or sending its CONNECT */
	EV_STORE,		/* the store's eventfd: writes completed */
};

struct ev {
	enum ev_kind kind;
	int fd;
};

/* Daemon counters (kmqttctl stats; names in stats.c, documented in kmqttctl.md). */
enum dstat {
	DS_ACCEPTED,
	DS_REFUSED_MAX_CONNECTIONS,
	DS_REFUSED_PER_IP,
	DS_REFUSED_RATE,
	DS_REFUSED_PEER_TABLE,
	DS_ACCEPT_ERRORS,
	DS_CONNECT_TIMEOUTS,
	DS_CONNECT_TOO_LARGE,
	DS_CONNECT_CLOSED,
	DS_CONNECT_INVALID,
	DS_UNSUPPORTED_VERSION,
	DS_CLIENT_ID_REJECTED,
	DS_CLIENT_IDS_ASSIGNED,
	DS_KEEPALIVE_REFUSED,
	DS_AUTH_FAILED,
	DS_ANONYMOUS_REFUSED,
	DS_ACL_REFUSED,
	DS_ACL_RULES_DROPPED,
	DS_WILL_REFUSED,
	DS_MODULE_UNAVAILABLE,
	DS_HANDOFF_REFUSED,
	DS_HANDOFF_UNKNOWN,
	DS_HANDED_OFF,
	DS_CONNS_CLOSED,
	DS_EVENTS_LOST,
	DS_RESYNCS,
	DS_TLS_HANDSHAKES,
	DS_TLS_HANDSHAKE_FAILED,
	DS_TLS_REVOKED,
	DS_TLS_NOT_OFFLOADED,
	DS_REVOKED_DISCONNECTS,
	DS_RETAINED_SET,		/* new retained topics */
	DS_RETAINED_REPLACED,
	DS_RETAINED_DELETED,		/* by an empty payload */
	DS_RETAINED_CONFIRMED,		/* RETAIN_STORED sent to the module */
	DS_RETAINED_STORE_ERRORS,	/* not kept or not stored: left unconfirmed */
	DS_RETAINED_SENT,		/* DELIVER sent on subscribe */
	DS_SESSIONS_PARKED,		/* SESSION_PARKED events */
	DS_SESSIONS_PRESENT,		/* persistent CONNECTs that found a stored session */
	DS_SESSIONS_CLEANED,		/* stored sessions forgotten by a clean CONNECT */
	DS_SESSIONS_EXPIRED,		/* persistent_client_expiration */
	DS_SESSIONS_RESTORED,		/* offline sessions parked in a reloaded module */
	DS_SESSION_MSGS_QUEUED,		/* SESSION_MSG kept for a session */
	DS_SESSION_MSGS_CONFIRMED,	/* ... confirmed to the module (RETAIN_STORED) */
	DS_SESSION_MSGS_DROPPED,	/* over a queue limit (new or oldest, per queue_overflow) */
	DS_SESSION_MSGS_DELIVERED,	/* queued messages delivered to a new connection */
	DS_SESSION_OWED_KNOWN,		/* owed messages handed over again, already queued */
	DS_SESSION_DELIVER_REFUSED,	/* ... refused by the module: kept for the next one */
	DS_SESSION_STORE_ERRORS,	/* not kept or not stored: left unconfirmed */
	__DS_MAX
};

/* Rate-limited logging state, one per category of message. */
struct ratelog {
	uint64_t window_start;
	unsigned int n;
	unsigned long suppressed;
};

enum rl_kind { RL_REFUSED, RL_INVALID, RL_AUTH, RL_MODULE, RL_WILL, RL_ACCEPT, RL_ACL, RL_TLS,
	       RL_STORE, RL_SESSION, __RL_MAX };

/* An IP address as 16 bytes (IPv4 as ::ffff:a.b.c.d), the key of the per-IP table. */
struct ip_key {
	uint8_t a[16];
};

struct peer;
struct pconn;
struct revocations;
struct kmqttd;
struct kmq_conn_tls;
struct hconn;
struct retained;
struct kmq_store;
struct sessions;

/* Pending connections in deadline order (each list has one timeout: append keeps it). */
struct pc_list {
	struct pconn *head, *tail;
};

struct listener {
	struct ev ev;
	char name[64];		/* "[::]:1883", "127.0.0.1:1883" */
	uint64_t paused_until;	/* 0: accepting */
	int conf_idx;		/* its entry in conf.listeners; -1: the loopback default */
	SSL_CTX *tls;		/* a reference; NULL: plain MQTT */
};

/* The password, ACL and TLS files in force (all re-read together by SIGHUP). */
struct auth {
	struct kmq_passwd *pw;	/* NULL: no password_file */
	struct kmq_acl *acl;	/* NULL: no acl_file (everything allowed) */
	SSL_CTX *tls[KMQ_CONF_MAX_LISTENERS];	/* by conf.listeners index; NULL: plain */
	struct revocations *rev;	/* revocation_file */
};

/* tls.c: the handshake, kernel TLS, the client certificate's identity. */
struct tls_secret {
	uint8_t secret[48];	/* the client's TLS 1.3 application traffic secret */
	uint8_t len;
};

struct tls_identity {
	bool has_cert;
	char version[KMQTT_MAX_TLS_VERSION + 1];
	char cipher[KMQTT_MAX_TLS_CIPHER + 1];
	char cn[KMQTT_MAX_USERNAME + 1];	/* "" if the subject has none */
	char serial[KMQTT_MAX_CERT_SERIAL + 1];
	char issuer[KMQTT_MAX_CERT_ISSUER + 1];
};

enum tls_step {
	TLS_DONE,		/* handshake done, kTLS on both ways */
	TLS_WANT_READ,
	TLS_WANT_WRITE,
	TLS_FAILED,		/* handshake failed (bad certificate, protocol, ...) */
	TLS_REVOKED,		/* the client certificate is in the CRL */
	TLS_NOT_OFFLOADED,	/* kernel TLS could not take both directions */
};

int tls_ctx_new(const struct kmq_listener *l, SSL_CTX **out, char *err, size_t errlen);
int tls_kernel_probe(char *err, size_t errlen);
SSL *tls_new(SSL_CTX *ctx, int fd, struct tls_secret *s);
enum tls_step tls_handshake(SSL *ssl, struct tls_identity *id, struct tls_secret *s,
			    char *why, size_t whylen);
void tls_serial_normalize(char *s);
bool tls_serial_valid(const char *s);
void tls_serial_of(const ASN1_INTEGER *ai, char *buf, size_t len);
/* Is (issuer, serial) in one of the CRLs of @ctx? For live sessions after a reload. */
bool tls_crl_revoked(SSL_CTX *ctx, const char *issuer, const char *serial);
void tls_set_revocations(const struct revocations *r);

/* revoke.c: kmqttctl revoke's persistent list, and closing revoked live sessions. */
int revocations_load(const char *path, struct revocations **out, char *err, size_t errlen);
void revocations_free(struct revocations *r);
bool revoked(const struct revocations *r, const char *serial, const char *cn);
/* Append to the file (durably) and to the list. 0, or -1 with a message in @err. */
int revoke_add(struct kmqttd *d, bool by_serial, const char *value, char *err, size_t errlen);
/* Close live sessions whose certificate is revoked (list or CRL). Returns how many. */
int revoke_sweep(struct kmqttd *d);

struct peers {
	struct peer **bucket;
	uint32_t mask;
	uint32_t n;
	uint64_t seed[2];
	struct hconn **conn;	/* handed-off connections by identifier */
	uint32_t conn_mask;
	uint32_t n_conns;
	uint64_t recent_closed[64];	/* ids closed before their hand-off reply was read */
	unsigned int recent_pos;
};

struct kmqttd {
	const char *conf_path;
	struct kmq_conf conf;
	struct auth auth;
	char *ctl_path;		/* the control socket actually bound */
	int epfd;
	struct ev sig;
	struct ev ctl;
	struct ev ctrl_ev;
	struct ev nl_ev;
	struct kmq_nl ctrl;	/* nlctrl notify group: module load/unload */
	struct kmq_nl nl;	/* kmqtt family; holds the daemon role */
	enum module_link link;
	struct listener listeners[2 * KMQ_CONF_MAX_LISTENERS];
	unsigned int n_listeners;
	struct pc_list pending;	/* reading their CONNECT */
	struct pc_list linger;	/* refused: draining before close */
	unsigned int n_pending;	/* both lists */
	struct peers peers;
	bool resync_needed;
	uint64_t last_resync_ms;
	uint64_t last_sweep_ms;
	uint64_t started_ms;
	uint64_t registered_ms;
	uint64_t n_registrations;
	uint64_t n_module_lost;
	uint64_t n_ctl_requests;
	uint64_t stats[__DS_MAX];
	uint64_t connect_errors[MQTT_E__END - MQTT_E_BASE];
	uint64_t closed[__KMQTT_CLOSE_MAX];
	struct ratelog rl[__RL_MAX];
	bool stop;
	struct retained *retained;	/* retained.c */
	struct kmq_store *store;	/* NULL: persistence off */
	struct ev store_ev;
	struct sessions *sessions;	/* session.c */
	uint64_t last_session_sweep_ms;	/* 0: not yet (the first runs at start-up) */
};

/*
 * The cookies of store writes: what to do when they are committed. Bits 62-63 the kind,
 * 32-61 the registration they belong to (a confirmation that completes after the module
 * was reloaded, whose punt ids start again, is dropped), 0-31 the punt id.
 */
enum store_cookie_kind { SC_RETAINED, SC_SESSION_MSG, SC_NONE };

static inline uint64_t store_cookie(const struct kmqttd *d, enum store_cookie_kind k,
				    uint32_t punt_id)
{
	return (uint64_t)k << 62 | (d->n_registrations & 0x3fffffffULL) << 32 | punt_id;
}

static inline bool store_cookie_current(const struct kmqttd *d, uint64_t c)
{
	return (c >> 32 & 0x3fffffffULL) == (d->n_registrations & 0x3fffffffULL);
}

uint64_t kmqttd_now_ms(void);
/* SIGHUP and kmqttctl reload: -1 (error in @err), or the revoked sessions closed. */
int kmqttd_reload(struct kmqttd *d, const char *who, char *err, size_t errlen);
int kmqttd_epoll_add(struct kmqttd *d, struct ev *ev, uint32_t events);
void kmqttd_epoll_del(struct kmqttd *d, struct ev *ev);

/* module.c */
int module_connect(struct kmqttd *d);
void module_disconnect(struct kmqttd *d, bool unregister);
int module_on_ctrl_event(struct kmqttd *d);
void module_on_events(struct kmqttd *d);
int module_resync(struct kmqttd *d);
const char *module_link_name(enum module_link l);

/* ctl.c */
int ctl_listen(struct kmqttd *d);
void ctl_close(struct kmqttd *d);
void ctl_on_accept(struct kmqttd *d);
void ctl_on_client(struct kmqttd *d, struct ev *ev);
void ctl_sweep(struct kmqttd *d);

/* listen.c */
int listen_open(struct kmqttd *d);
void listen_close(struct kmqttd *d);
void listen_on_accept(struct kmqttd *d, struct listener *l);
void listen_sweep(struct kmqttd *d, uint64_t now);
bool listen_conf_changed(const struct kmq_conf *a, const struct kmq_conf *b);
void listen_update_tls(struct kmqttd *d);
/* "a.b.c.d:port" or "[v6]:port" */
void sockaddr_name(const struct sockaddr_storage *ss, char *buf, size_t len);
/* The address alone, IPv4-mapped IPv6 shown as IPv4. */
void sockaddr_ip(const struct sockaddr_storage *ss, char *buf, size_t len);

/* connect.c */
void connect_start(struct kmqttd *d, int fd, struct peer *peer,
		   const struct sockaddr_storage *ss, const struct listener *l);
void connect_on_event(struct kmqttd *d, struct pconn *pc, uint32_t events);
/* Expire pending connections; returns ms until the next deadline (or -1: none). */
int connect_sweep(struct kmqttd *d, uint64_t now);
void connect_close_all(struct kmqttd *d);

/* auth.c */
int auth_load(const struct kmq_conf *c, struct auth *a, char *err, size_t errlen);
void auth_free(struct auth *a);
enum auth_verdict {
	AUTH_OK,		/* accepted; *verified says whether the user name was checked */
	AUTH_BAD_CREDENTIALS,	/* unknown user or wrong password: CONNACK 0x04 */
	AUTH_NOT_AUTHORIZED,	/* anonymous not allowed: CONNACK 0x05 */
	AUTH_ERROR,		/* the crypto library failed: CONNACK 0x03 */
};
enum auth_verdict auth_check(struct kmqttd *d, const struct mqtt_connect *c, bool *verified);

/* peers.c */
int peers_init(struct peers *p);
void peers_free(struct peers *p);
void ip_key_from_sockaddr(struct ip_key *k, const struct sockaddr_storage *ss);
/* The entry for @k, created if needed (NULL when the table is full or out of memory). */
struct peer *peer_get(struct kmqttd *d, const struct ip_key *k);
uint32_t peer_conns(const struct peer *p);
void peer_hold(struct peer *p);
void peer_put(struct kmqttd *d, struct peer *p);
/* Take one connect-rate token; false when the bucket is empty. */
bool peer_rate_take(struct kmqttd *d, struct peer *p, uint64_t now);
void peers_sweep(struct kmqttd *d, uint64_t now);
/* Handed-off connections, so that limits count them until CONN_CLOSED. */
void conn_track(struct kmqttd *d, uint64_t id, struct peer *p);
void conn_closed(struct kmqttd *d, uint64_t id);
void conns_forget_all(struct kmqttd *d);
/* Rebuild the table from a CONN_GET dump (module_resync). */
int conn_track_peer_string(struct kmqttd *d, uint64_t id, const char *peer);
uint32_t conns_tracked(const struct kmqttd *d);

/* retained.c */
struct json_object;
/* Open the store (persistence on) and load the retained messages; -1 with @err. */
int retained_init(struct kmqttd *d, char *err, size_t errlen);
int retained_start(struct kmqttd *d);
void retained_free(struct kmqttd *d);
void retained_on_store_event(struct kmqttd *d);
void retained_on_publish(struct kmqttd *d, const struct kmq_event *ev);
void retained_on_subscribe(struct kmqttd *d, const struct kmq_event *ev);
struct json_object *retained_json(struct kmqttd *d, const char *filter);
struct json_object *retained_store_json(struct kmqttd *d);

/* session.c: persistent sessions (clean session 0). */
struct kmq_store_opts;
/* What a CONNECT's hand-off needs from the sessions, and what it must do after. */
struct session_connect {
	char client_id[KMQTT_MAX_CLIENT_ID + 1];
	bool clean;
	bool present;		/* a stored session: KMQTT_CONN_F_SESSION_PRESENT */
	bool hold;		/* KMQTT_CONN_F_HOLD: deliver the queue, then SESSION_RESUMED */
	struct kmq_sub *subs;	/* KMQTT_A_SUBS (freed by session_connect_done) */
	uint16_t *out_ids;	/* KMQTT_A_OUT_IDS (likewise) */
};
int session_init(struct kmqttd *d);
/* The store's loaders for sessions (before kmq_store_open). */
void session_store_opts(struct kmqttd *d, struct kmq_store_opts *o);
void session_free(struct kmqttd *d);
/* Limits and policy from d->conf (start-up and reload). */
void session_apply_conf(struct kmqttd *d);
void session_on_parked(struct kmqttd *d, const struct kmq_event *ev);
void session_on_msg(struct kmqttd *d, const struct kmq_event *ev);
/* The highest owed-message number (KMQTT_A_OWED_SEQ) held for any session; 0: none. */
uint64_t session_owed_max(struct kmqttd *d);
/* A batch to each session whose stored queue is being delivered; true if more is to go. */
bool session_deliver_pending(struct kmqttd *d);
void session_on_conn_closed(struct kmqttd *d, const struct kmq_event *ev);
/* A session message's store write completed (cookie kind SC_SESSION_MSG or SC_NONE). */
void session_on_stored(struct kmqttd *d, uint64_t cookie, int err);
/* Fill @p's session attributes and flags for client @id before KMQTT_CMD_CONN_NEW. */
void session_prepare_connect(struct kmqttd *d, const char *id, bool clean,
			     struct kmq_conn_new *p, struct session_connect *sc);
/* After KMQTT_CMD_CONN_NEW: @ret its result, @conn_id and @flags its reply. */
void session_connect_done(struct kmqttd *d, struct session_connect *sc, int ret,
			  uint64_t conn_id, uint32_t flags);
/* Expiry, every minute and at start-up. */
void session_sweep(struct kmqttd *d, uint64_t now_ms);
/* The module went away: every session is offline. */
void session_on_module_lost(struct kmqttd *d);
/* Resynchronization: begin, one call per open connection, end (@ok: the dump was whole). */
void session_resync_begin(struct kmqttd *d);
void session_resync_conn(struct kmqttd *d, const char *client_id, uint64_t conn_id);
void session_resync_end(struct kmqttd *d, bool ok);
struct json_object *sessions_json(struct kmqttd *d);
unsigned int session_count(const struct kmqttd *d);

/* stats.c */
const char *dstat_name(enum dstat s);
void log_limited(struct kmqttd *d, enum rl_kind k, enum kmq_log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* @s (@len bytes) with control characters escaped, for log lines; returns @buf. */
const char *printable(const char *s, size_t len, char *buf, size_t cap);

#endif

/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * kmqttd's configuration file: the mosquitto.conf syntax (one "option value..." per line,
 * '#' comments), with the subset of options kmqttd implements documented in
 * docs/kmqttd.conf.md. Unknown options, bad values and repeated single-valued options are
 * errors that name the file and line.
 */
#ifndef KMQ_CONF_H
#define KMQ_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "log.h"

#define KMQ_CONF_DEFAULT "/etc/kmqtt/kmqttd.conf"
#define KMQ_CONF_MAX_LINE 4096

/* Limits of the options (see docs/kmqttd.conf.md). */
#define KMQ_CONF_MAX_LISTENERS		16
#define KMQ_CONF_DEFAULT_PORT		1883
#define KMQ_CONF_DEFAULT_CONNECT_TIMEOUT 10	/* seconds */
#define KMQ_CONF_MAX_CONNECT_TIMEOUT	3600
#define KMQ_CONF_MAX_CONNECT_RATE	1000000	/* connections per second and IP */
#define KMQ_CONF_MIN_PACKET_SIZE	20
/*
 * The module's ranges for KMQTT_LIM_A_TX_QUEUE and KMQTT_LIM_A_INFLIGHT (kmod/kmqtt.h:
 * KMQTT_MAX_TX_QUEUE, KMQTT_MAX_INFLIGHT; not in the uapi header yet).
 */
#define KMQ_CONF_MAX_QUEUED		100000
/* The module's default of max_queued_messages (kmod/kmqtt.h KMQTT_DEF_TX_QUEUE). */
#define KMQ_CONF_DEFAULT_QUEUED		1000
/* Persistent sessions' queues in kmqttd: all of them together, by default. */
#define KMQ_CONF_DEFAULT_QUEUED_BYTES_TOTAL	(256LL << 20)
#define KMQ_CONF_MIN_QUEUED_BYTES_TOTAL		1024LL
#define KMQ_CONF_MAX_INFLIGHT		65535

/* "unlimited" for max_connections, max_connections_per_ip and connect_rate_per_ip */
#define KMQ_UNLIMITED			(-1L)

#define KMQ_CONF_DEFAULT_REVOCATION_FILE "/var/lib/kmqtt/revoked"

/* TLS settings of one listener (mosquitto's per-listener options). */
struct kmq_tls_conf {
	char *cafile;		/* CA certificates (PEM) that client certificates chain to */
	char *certfile;		/* the server's certificate chain (PEM) */
	char *keyfile;		/* its private key (PEM) */
	char *crlfile;		/* revoked client certificates (PEM CRL), checked at handshake */
	char *ciphers;		/* TLS 1.2 cipher list (OpenSSL syntax); NULL: kmqtt's default */
	char *ciphersuites;	/* TLS 1.3 cipher suites; NULL: kmqtt's default */
	bool require_certificate;
	bool use_identity_as_username;
	int min_version;	/* TLS1_2_VERSION (0x0303) or TLS1_3_VERSION (0x0304) */
	unsigned int seen;	/* bit per TLS option given, to refuse repeats */
};

struct kmq_listener {
	uint16_t port;
	char *address;		/* numeric IPv4 or IPv6 address; NULL: every address */
	unsigned int line;	/* where it was configured, for error messages */
	bool tls;		/* certfile and keyfile given: a TLS listener */
	struct kmq_tls_conf t;
};

struct kmq_conf {
	char *control_socket;
	enum kmq_log_level log_level;
	struct kmq_listener listeners[KMQ_CONF_MAX_LISTENERS];
	unsigned int n_listeners;	/* 0: the loopback default (see kmqttd.conf.md) */
	bool allow_anonymous;
	char *password_file;	/* absolute (relative names are resolved at load) or NULL */
	char *acl_file;
	long max_connections;	/* KMQ_UNLIMITED or >= 1 */
	long max_connections_per_ip;
	long connect_rate_per_ip;	/* new connections per second and IP address */
	unsigned int connect_timeout;	/* seconds for the CONNECT to arrive */
	uint32_t max_packet_size;	/* 0: the module's default */
	uint16_t max_keepalive;		/* 0: any keepalive */
	uint32_t max_queued_messages;	/* 0: the module's default */
	uint32_t max_inflight_messages;	/* 0: the module's default */
	char *revocation_file;	/* kmqttctl revoke's persistent list */
	/* The persistent store (docs/kmqttd.conf.md, "Persistence"). */
	bool persistence;
	char *persistence_location;	/* a directory */
	char *persistence_file;		/* a file name in it */
	char *persistence_key_file;	/* NULL: payloads are stored in the clear */
	bool persistence_set_aside;	/* persistence_damaged set_aside */
	/* Persistent sessions (docs/kmqttd.conf.md, "Persistent sessions"). */
	uint64_t max_queued_bytes;	/* per client; 0: no limit */
	uint64_t max_queued_bytes_total;	/* every session's queue together */
	bool queue_drop_oldest;		/* queue_overflow drop_oldest (default drop_newest) */
	int64_t persistent_client_expiration;	/* seconds; 0: never */
};

#define KMQ_CONF_PERSISTENCE_LOCATION	"/var/lib/kmqtt/"
#define KMQ_CONF_PERSISTENCE_FILE	"kmqtt.db"

/* persistent_client_expiration: at most this many of its unit (100 years). */
#define KMQ_CONF_MAX_EXPIRATION_UNITS	876000

/* Defaults, used for any option the file does not set. */
void kmq_conf_init(struct kmq_conf *c);
/* 0 on success; -1 with a "FILE:LINE: message" (or "FILE: message") in @err. */
int kmq_conf_load(const char *path, struct kmq_conf *c, char *err, size_t errlen);
void kmq_conf_free(struct kmq_conf *c);
/* mosquitto's persistent_client_expiration syntax ("14d") in seconds; 0 or -1. */
int kmq_conf_parse_expiration(const char *s, int64_t *seconds);

/*
 * Reads a small text file line by line for the config, password and ACL parsers: calls
 * @fn for each line (without its "\n" and any "\r" before it) with its number. Lines
 * longer than KMQ_CONF_MAX_LINE and NUL bytes are errors. @fn returns 0 or -1 (having
 * written @err). Returns 0 or -1 with "FILE:LINE: message" or "FILE: message" in @err.
 */
int kmq_read_lines(const char *path, int (*fn)(void *ctx, char *line, unsigned int lineno),
		   void *ctx, char *err, size_t errlen);

#endif

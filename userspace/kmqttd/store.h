/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * kmqttd's persistent store: one SQLite database in WAL mode, written by one writer thread
 * with group commit, so that the event loop never waits for the disk.
 *
 * The event loop queues writes (kmq_store_retained_put(), ...); the writer takes every
 * write queued so far, commits them in one transaction (synchronous=FULL: on disk when the
 * commit returns), and reports each back through an eventfd that the loop watches
 * (kmq_store_fd()); kmq_store_reap() then calls the completion callback with each write's
 * cookie, in the order they were queued. Nothing is read back at run time: the daemon
 * keeps what it needs in memory and the store is read once, by kmq_store_open().
 *
 * Damage: a file that is not a database, is truncated or fails SQLite's quick_check, or
 * a record that does not decrypt, makes kmq_store_open() fail with a message naming the
 * file, unless @set_aside_damaged: then the file is renamed FILE.damaged-YYYYmmddTHHMMSS
 * (with its WAL) and a new, empty store is created, loudly logged. A store written by a
 * newer kmqttd (a schema version this one does not know) is always refused, never set
 * aside: it is not damaged, and a newer kmqttd can still read it.
 *
 * At-rest encryption: with a key, every stored payload is sealed with AES-256-GCM under a
 * random 96-bit nonce, with the record's kind and key (e.g. "retained" and its topic) as
 * additional data, so that records cannot be swapped. A session message's additional
 * data is its client id, sequence number, QoS, flags, packet id and topic. The store keeps a key check (a
 * known block sealed with the key): a wrong key is refused at open, and a store that has
 * one cannot be opened without the key.
 */
#ifndef KMQTTD_STORE_H
#define KMQTTD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The schema version this kmqttd writes (PRAGMA user_version); see store.c migrations. */
#define KMQ_STORE_SCHEMA_VERSION	3
#define KMQ_STORE_KEY_LEN		32

struct kmq_store;

struct kmq_session_rec;
struct kmq_session_msg_rec;

/* Called for each stored session and session message at open; 0, or -1 to fail it. */
typedef int (*kmq_store_session_fn)(void *ctx, const struct kmq_session_rec *r);
typedef int (*kmq_store_session_msg_fn)(void *ctx, const struct kmq_session_msg_rec *r);

struct kmq_store_opts {
	const char *path;		/* the database file */
	const char *key_file;		/* NULL: payloads stored in the clear */
	bool set_aside_damaged;
	/*
	 * Persistent sessions, loaded after the retained messages: every session, then
	 * every session message in sequence order. NULL: not loaded (still verified).
	 */
	kmq_store_session_fn load_session;
	kmq_store_session_msg_fn load_session_msg;
	void *session_ctx;
};

/* One subscription of a stored session. */
struct kmq_store_sub {
	const char *filter;	/* not NUL-terminated */
	uint16_t len;
	uint8_t qos;
};

/* A persistent session as stored: its subscriptions and QoS 2 ids replace the old ones. */
struct kmq_session_rec {
	const char *client_id;	/* NUL-terminated, 1..256 bytes */
	int64_t offline_since;	/* seconds since the epoch; 0: online */
	const struct kmq_store_sub *subs;
	uint32_t n_subs;
	const uint16_t *qos2_ids;
	uint32_t n_qos2;
};

/* One message queued for a session. */
struct kmq_session_msg_rec {
	const char *client_id;
	uint64_t seq;		/* the queue's order: increasing */
	const char *topic;	/* none (0 bytes) for a PUBREL entry */
	uint16_t topic_len;
	const uint8_t *payload;
	uint32_t payload_len;
	uint8_t qos;
	uint32_t flags;		/* enum kmqtt_msg_flags: DUP, PUBREL */
	uint64_t owed_seq;	/* the module's number of an owed message (0: none) */
	uint16_t packet_id;
};

/* One retained message as stored. */
struct kmq_retained_rec {
	const char *topic;
	uint16_t topic_len;
	const uint8_t *payload;
	uint32_t payload_len;
	uint8_t qos;
	int64_t stored_at;	/* seconds since the epoch */
};

/* Called for each stored record at open; return 0, or -1 to fail the open. */
typedef int (*kmq_store_load_fn)(void *ctx, const struct kmq_retained_rec *r);
/* A queued write is done: @err 0 when committed, else a negative errno. */
typedef void (*kmq_store_done_fn)(void *ctx, uint64_t cookie, int err);

enum kmq_store_open_result {
	KMQ_STORE_OPENED,	/* an existing store was read */
	KMQ_STORE_CREATED,	/* a new store */
	KMQ_STORE_SET_ASIDE,	/* the damaged one was set aside, a new one created */
};

/*
 * Open (creating if needed) the store, check it, migrate it to the current schema, give
 * every retained record to @load, and start the writer. Returns 0 with *@out and
 * *@result, or -1 with a message naming the file in @err. @load is called only once the
 * whole store was read and verified.
 */
int kmq_store_open(const struct kmq_store_opts *o, kmq_store_load_fn load, void *ctx,
		   struct kmq_store **out, enum kmq_store_open_result *result,
		   char *err, size_t errlen);
/* Commit what is queued, stop the writer, close. Completions not reaped are dropped. */
void kmq_store_close(struct kmq_store *s);
/* Readable when writes completed: then call kmq_store_reap(). */
int kmq_store_fd(const struct kmq_store *s);
void kmq_store_reap(struct kmq_store *s, kmq_store_done_fn done, void *ctx);

/*
 * Queue storing (replacing) the retained message of a topic, or deleting it when
 * @payload_len is 0. The data are copied. 0, or -ENOMEM.
 */
int kmq_store_retained_put(struct kmq_store *s, const struct kmq_retained_rec *r,
			   uint64_t cookie);

/* Queue storing (replacing) a session's state. 0 or -ENOMEM. */
int kmq_store_session_put(struct kmq_store *s, const struct kmq_session_rec *r,
			  uint64_t cookie);
/* Queue deleting a session and all its messages. */
int kmq_store_session_del(struct kmq_store *s, const char *client_id, uint64_t cookie);
/* Queue storing one session message. */
int kmq_store_session_msg_put(struct kmq_store *s, const struct kmq_session_msg_rec *r,
			      uint64_t cookie);
/* Queue deleting a session's messages with sequence numbers @from..@to (inclusive). */
int kmq_store_session_msg_del(struct kmq_store *s, const char *client_id, uint64_t from,
			      uint64_t to, uint64_t cookie);

struct kmq_store_stats {
	uint64_t writes;	/* writes committed */
	uint64_t batches;	/* transactions */
	uint64_t max_batch;	/* most writes in one transaction */
	uint64_t errors;	/* writes that failed */
	uint64_t queued;	/* writes waiting now */
	bool encrypted;
};

void kmq_store_get_stats(struct kmq_store *s, struct kmq_store_stats *st);

/*
 * Read a key file: 32 bytes, or 64 hexadecimal digits (and an optional newline). It must
 * be a regular file that neither group nor others may read or write. 0, or -1 with @err.
 */
int kmq_store_read_key(const char *path, uint8_t key[KMQ_STORE_KEY_LEN], char *err,
		       size_t errlen);

#endif

/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The persistent sessions kmqttd knows, by client id: their subscriptions and QoS 2 ids
 * (as the module last reported them), the ordered queue of messages kept for them, and
 * since when they are offline. Pure bookkeeping: no netlink, no store, no clock of its
 * own (session.c drives it; tests/unit/test_session.c tests it).
 *
 * Limits (mosquitto's semantics): a message over a session's message or byte limit, or
 * over the byte limit of all queues together, is dropped for that session: the new one
 * (drop_newest), or the oldest queued ones until it fits (drop_oldest; when dropping
 * every droppable one would not be enough, the new one is dropped and nothing else).
 * Entries a connection still owed its client (DUP and PUBREL) are never dropped: they
 * are queued whatever the limits, and drop_oldest passes over them.
 */
#ifndef KMQTTD_SESSTAB_H
#define KMQTTD_SESSTAB_H

#include <stdbool.h>
#include <stdint.h>
#include "store.h"

#define SESS_MAX_CLIENT_ID	256
/* enum kmqtt_msg_flags (linux/kmqtt.h) of queue entries. */
#define SESS_F_DUP		(1U << 9)
#define SESS_F_PUBREL		(1U << 10)

/* One queued message; topic then payload in @data. */
struct smsg {
	struct smsg *next;
	uint64_t seq;		/* increasing in queue order, the store's key */
	uint64_t owed_seq;	/* the module's number of an owed message; 0: none */
	uint32_t payload_len;
	uint16_t topic_len;
	uint16_t packet_id;	/* 0: none */
	uint32_t flags;		/* SESS_F_DUP, SESS_F_PUBREL */
	uint8_t qos;
	uint8_t data[];
};

static inline bool smsg_owed(const struct smsg *m)
{
	return m->flags & (SESS_F_DUP | SESS_F_PUBREL);
}

static inline uint64_t smsg_size(const struct smsg *m)
{
	return (uint64_t)m->topic_len + m->payload_len;
}

struct sess {
	struct sess *hnext;
	char client_id[SESS_MAX_CLIENT_ID + 1];
	struct kmq_store_sub *subs;	/* filters point into the same allocation */
	uint32_t n_subs;
	uint16_t *qos2;
	uint32_t n_qos2;
	struct smsg *head, *tail;
	uint32_t n_msgs;
	uint64_t bytes;		/* topics and payloads queued */
	int64_t offline_since;	/* seconds since the epoch; 0: online */
	uint64_t conn_id;	/* the connection while online (0: not known) */
	uint64_t owed_hi;	/* the highest hand-over number ever queued (owed_seq) */
	bool handoff;		/* a CONN_NEW for it is under way */
	bool delivering;	/* its queue is being delivered to a connection */
	bool pending;		/* ... and more of it is to go (session.c's pending list) */
	uint64_t resume_conn;	/* the resumed connection its held messages wait on, or 0 */
};

struct sess_limits {
	uint32_t max_msgs;	/* per session; 0: none */
	uint64_t max_bytes;	/* per session; 0: none */
	uint64_t max_total;	/* all queues together; 0: none */
	bool drop_oldest;	/* queue_overflow drop_oldest */
};

struct sesstab {
	struct sess **bucket;
	uint32_t mask;
	uint32_t n;
	uint64_t seed;
	uint64_t next_seq;
	uint64_t total_msgs;
	uint64_t total_bytes;
	struct sess_limits lim;
};

/* A message to queue (data are copied). */
struct smsg_in {
	const char *topic;
	uint16_t topic_len;
	const uint8_t *payload;
	uint32_t payload_len;
	uint8_t qos;
	uint32_t flags;
	uint16_t packet_id;
	uint64_t owed_seq;
	uint64_t seq;		/* 0: the next one; else (loading) this one */
};

enum sess_enq {
	SESS_ENQ_QUEUED,	/* queued (*@evicted may list what drop_oldest removed) */
	SESS_ENQ_DROPPED,	/* over a limit: not queued */
	SESS_ENQ_NOMEM,
};

int sesstab_init(struct sesstab *t, uint64_t seed);
void sesstab_free(struct sesstab *t);
struct sess *sess_find(struct sesstab *t, const char *client_id);
/* The session of @client_id, created (online, empty) if needed; NULL: no memory. */
struct sess *sess_get(struct sesstab *t, const char *client_id);
/* Remove and free a session and its queue. */
void sess_remove(struct sesstab *t, struct sess *s);
/* Replace the subscriptions and QoS 2 ids. 0 or -ENOMEM (the old ones are kept). */
int sess_set_state(struct sess *s, const struct kmq_store_sub *subs, uint32_t n_subs,
		   const uint16_t *qos2, uint32_t n_qos2);
/*
 * Queue @in at the tail, applying the limits. On SESS_ENQ_QUEUED *@queued is the new
 * entry; messages removed to make room (drop_oldest) are returned in *@evicted (a list
 * linked by next, to be freed with smsg_free_list()).
 */
enum sess_enq sess_enqueue(struct sesstab *t, struct sess *s, const struct smsg_in *in,
			   struct smsg **queued, struct smsg **evicted);
/* Unlink the queue's first entry (NULL when empty); put it back with sess_push_head(). */
struct smsg *sess_pop_head(struct sesstab *t, struct sess *s);
void sess_push_head(struct sesstab *t, struct sess *s, struct smsg *m);
void smsg_free_list(struct smsg *m);
/* Drop the whole queue. */
void sess_clear_queue(struct sesstab *t, struct sess *s);
/* Is an offline session expired at @now with @expiry seconds (0: never)? */
bool sess_expired(const struct sess *s, int64_t now, int64_t expiry);
/* Call @fn for each session; @fn may remove the session it is given. */
void sesstab_foreach(struct sesstab *t, void (*fn)(void *ctx, struct sess *s), void *ctx);

#endif

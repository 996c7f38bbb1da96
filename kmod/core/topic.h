/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * MQTT topic names, topic filters and the subscription trie.
 *
 * Validation (MQTT 3.1.1 §1.5.3, §4.7; MQTT 5.0 §1.5.4, §4.7, §4.8):
 *
 *   mqtt_utf8_valid()     every MQTT UTF-8 string (the codec uses it for all of them)
 *   topic_name_valid()    a PUBLISH topic name: no '+' or '#'
 *   topic_filter_valid()  a SUBSCRIBE/UNSUBSCRIBE filter: '#' last and alone in its level,
 *                         '+' alone in its level, "$share/<group>/<filter>" when
 *                         TOPIC_LIM_SHARED is set
 *
 * All return 0 or a negative enum topic_err (not an errno); topic_err_name() names it.
 * Empty levels are valid ("a//b", "/a", "a/"); the empty string is not.
 *
 * The trie (struct topic_trie) maps filters to subscriptions and matches a topic name
 * against all of them; the store (struct topic_store) maps topic names to a payload pointer
 * and enumerates the names that match a filter (retained messages). Both sit on the same
 * node tree (struct topic_tree): a node per level, children in a per-node open-addressed hash
 * table, '+' and '#' children of the trie in their own pointers.
 *
 * Concurrency: topic_match(), topic_collect() and topic_store_get() may run concurrently
 * with one writer, under rcu_read_lock() in the kernel. Every other function is a writer:
 * the caller serializes writers (a mutex; they allocate with GFP_KERNEL and may sleep).
 * Userspace uses the trie under its own lock. Nothing a reader may see is freed before a
 * grace period (kmq_free_rcu). topic_store_match() and topic_walk() are writer-side.
 * Callbacks must not modify the tree they are called from (in userspace, where frees are
 * immediate, that would be a use after free).
 *
 * Bounds: no recursion (walks backtrack through parent pointers), no allocation on the
 * match path, all allocation bounded by struct topic_limits and the optional memory cap.
 */
#ifndef KMQTT_CORE_TOPIC_H
#define KMQTT_CORE_TOPIC_H

#include "port.h"

/* MQTT strings carry a 16-bit length: no topic can be longer. */
#define TOPIC_MAX_LEN			65535
/* Hard ceiling on levels; struct topic_limits.max_levels may only lower it. */
#define TOPIC_MAX_LEVELS		1024
#define TOPIC_DEFAULT_MAX_LEN		1024
#define TOPIC_DEFAULT_MAX_LEVELS	32

enum topic_err {
	TOPIC_OK = 0,
	/* mqtt_utf8_valid(): [MQTT-1.5.3-1], [MQTT-1.5.3-2] / 5.0 [MQTT-1.5.4-1..2] */
	TOPIC_E_NUL = -1,		/* U+0000 */
	TOPIC_E_UTF8_SURROGATE = -2,	/* U+D800..U+DFFF */
	TOPIC_E_UTF8_OVERLONG = -3,	/* longer encoding than needed */
	TOPIC_E_UTF8_RANGE = -4,	/* above U+10FFFF */
	TOPIC_E_UTF8_TRUNCATED = -5,	/* string ends inside a sequence */
	TOPIC_E_UTF8_BAD_BYTE = -6,	/* bad lead byte or missing continuation byte */
	/* topic_name_valid() / topic_filter_valid() */
	TOPIC_E_EMPTY = -7,		/* zero length [MQTT-4.7.3-1] */
	TOPIC_E_TOO_LONG = -8,		/* longer than limits.max_topic_len */
	TOPIC_E_TOO_DEEP = -9,		/* more levels than limits.max_levels */
	TOPIC_E_WILDCARD_IN_NAME = -10,	/* '+' or '#' in a topic name [MQTT-3.3.2-2] */
	TOPIC_E_BAD_HASH = -11,		/* '#' not last or not alone [MQTT-4.7.1-2] */
	TOPIC_E_BAD_PLUS = -12,		/* '+' not alone in its level [MQTT-4.7.1-3] */
	TOPIC_E_BAD_SHARE = -13,	/* malformed $share/<group>/<filter> [MQTT-4.8.2-1..2] */
	/* trie and store */
	TOPIC_E_NOT_FOUND = -14,	/* no such subscription / stored name */
	TOPIC_E_NOMEM = -15,		/* allocation failed */
	TOPIC_E_MEM_LIMIT = -16,	/* tree would exceed its memory cap */
	TOPIC_E_INVAL = -17,		/* bad argument (QoS > 2, no-local on a shared sub, ...) */
	TOPIC_E_FULL = -18,		/* caller-provided collector arrays are full */
	TOPIC_E__MIN = -18,
};

const char *topic_err_name(int err);

/* The UTF-8 errors are -1..-6 and stay so: callers may test for the range. */
static inline bool topic_err_is_utf8(int err)
{
	return err < 0 && err >= TOPIC_E_UTF8_BAD_BYTE;
}

/* struct topic_limits.flags */
enum {
	/* Parse "$share/<group>/<filter>" as a shared subscription (MQTT 5.0 §4.8.2). */
	TOPIC_LIM_SHARED = 1U << 0,
};

struct topic_limits {
	u16 max_topic_len;	/* bytes, 1..TOPIC_MAX_LEN */
	u16 max_levels;		/* levels, 1..TOPIC_MAX_LEVELS */
	u8 flags;		/* TOPIC_LIM_* */
};

#define TOPIC_LIMITS_DEFAULT {					\
	.max_topic_len = TOPIC_DEFAULT_MAX_LEN,			\
	.max_levels = TOPIC_DEFAULT_MAX_LEVELS,			\
	.flags = TOPIC_LIM_SHARED,				\
}

int mqtt_utf8_valid(const char *s, u16 len);
int topic_name_valid(const char *s, u16 len, const struct topic_limits *lim);
int topic_filter_valid(const char *s, u16 len, const struct topic_limits *lim);

/*
 * Split a valid shared-subscription filter "$share/<group>/<filter>". Returns true and
 * fills the group and inner filter (pointing into @s) if @s is one; false otherwise.
 * Does not validate: call topic_filter_valid() with TOPIC_LIM_SHARED first.
 */
bool topic_share_split(const char *s, u16 len, const char **group, u16 *group_len,
		       const char **filter, u16 *filter_len);

/* ---- Node tree shared by the trie and the store ---- */

struct topic_node;

struct topic_tree {
	struct topic_node __rcu *root;	/* allocated with the first entry, freed with the last */
	struct topic_limits lim;
	u64 seed;		/* keys the level hash against chosen collisions */
	size_t mem_limit;	/* 0: no cap; else fail with TOPIC_E_MEM_LIMIT beyond it */
	/* Accounting, written only by the (serialized) writer. */
	size_t bytes;		/* bytes requested for nodes, tables, subscriptions */
	u64 nodes;		/* nodes, root included */
	u64 tables;		/* child/subscriber hash tables */
	u64 resizes;		/* hash table rebuilds */
	u64 nomem;		/* allocations that failed */
	u64 mem_limit_hits;	/* writes refused by mem_limit */
};

/*
 * Last-used time of a node, in whatever unit the caller chooses (e.g. seconds since the
 * epoch); 0 means never. Readers may set it concurrently (a plain racy store).
 */
void topic_node_set_used(struct topic_node *node, u64 when);
u64 topic_node_used(const struct topic_node *node);

/* Return 0 to continue, a negative value to stop the walk with that value. */
typedef int (*topic_walk_fn)(void *ctx, const char *path, u16 len, struct topic_node *node);

/*
 * Writer-side: visit every node below the root in pre-order with its path ("a/+/#"),
 * built in @buf of @buf_size bytes (at least lim.max_topic_len). @fn must not modify the
 * tree. Returns the number of nodes visited or @fn's negative value.
 */
int topic_walk(struct topic_tree *tree, char *buf, u16 buf_size, topic_walk_fn fn, void *ctx);

/* ---- Subscription trie ---- */

/* struct topic_sub_opts.flags */
enum {
	TOPIC_SUB_NO_LOCAL = 1U << 0,	/* 5.0: not delivered to the publishing subscriber */
	TOPIC_SUB_RAP = 1U << 1,	/* 5.0: retain as published */
};

struct topic_sub_opts {
	u32 sub_id;		/* 5.0 subscription identifier, 1..268435455; 0: none */
	u8 qos;			/* granted QoS, 0..2 */
	u8 flags;		/* TOPIC_SUB_* */
	u8 retain_handling;	/* 5.0: 0..2, kept for the caller */
};

struct topic_trie {
	struct topic_tree tree;
	u64 subs;		/* subscriptions, shared ones included */
	u64 shared_groups;	/* (group, filter) pairs */
};

/* What topic_match() reports, once per matching subscription (valid in the callback). */
struct topic_match {
	void *subscriber;
	const struct topic_sub_opts *opts;
	const char *group;	/* shared subscription group, or NULL */
	u16 group_len;
	struct topic_node *node;	/* the filter's node, for topic_node_set_used() */
};

/* Return 0 to continue, a negative value to stop the match with that value. */
typedef int (*topic_match_fn)(void *ctx, const struct topic_match *m);

void topic_trie_init(struct topic_trie *t, const struct topic_limits *lim, size_t mem_limit);
/* Frees everything (via RCU in the kernel). */
void topic_trie_destroy(struct topic_trie *t);

/*
 * Add or replace @subscriber's subscription to @filter. Returns 0 if it is new, 1 if an
 * existing one had its options replaced, or a negative enum topic_err. A shared filter
 * (TOPIC_LIM_SHARED) joins @subscriber to the (group, filter) group.
 */
int topic_subscribe(struct topic_trie *t, const char *filter, u16 len, void *subscriber,
		    const struct topic_sub_opts *opts);
/* Returns 0 or TOPIC_E_NOT_FOUND (or a validation error). Prunes emptied nodes. */
int topic_unsubscribe(struct topic_trie *t, const char *filter, u16 len, void *subscriber);

/*
 * Report every subscription matching topic name @topic: one callback per subscription,
 * except that each matching shared group reports exactly one member (round-robin).
 * Subscriptions of @publisher with TOPIC_SUB_NO_LOCAL are skipped (@publisher may be
 * NULL). Filters starting with '+' or '#' do not match names starting with '$'.
 * If @now is not 0 the matching filter nodes are stamped with it.
 * Returns the number of callbacks made, or the callback's negative value, or a negative
 * enum topic_err if @topic is longer or deeper than the trie's limits. @topic must be a
 * valid topic name (the result for others is defined but meaningless). No allocation.
 */
int topic_match(struct topic_trie *t, const char *topic, u16 len, const void *publisher,
		u64 now, topic_match_fn fn, void *ctx);

/*
 * Collecting helper: one delivery per subscriber, at the highest QoS of its matching
 * subscriptions, with all their subscription identifiers (MQTT 3.1.1 §3.3.5,
 * MQTT 5.0 §3.3.4). All storage is caller-provided and bounded.
 */
#define TOPIC_ID_END	0xffffffffU

struct topic_delivery {
	void *subscriber;
	u32 first_id;		/* index into collector ids[], TOPIC_ID_END: none */
	u32 last_id;
	u16 nsubs;		/* matching subscriptions merged into this delivery */
	u16 nids;
	u8 qos;			/* highest granted QoS */
	u8 flags;		/* OR of the merged TOPIC_SUB_* flags */
};

struct topic_id_link {
	u32 id;
	u32 next;		/* next index for the same delivery, TOPIC_ID_END */
};

struct topic_collector {
	struct topic_delivery *dlv;
	u32 dlv_cap;
	u32 ndlv;
	u32 *index;		/* open-addressed subscriber -> dlv index, 0 = empty */
	u32 index_mask;		/* index has index_mask + 1 slots, a power of two */
	struct topic_id_link *ids;
	u32 ids_cap;
	u32 nids;
	u32 dropped;		/* deliveries or identifiers that did not fit */
};

/*
 * @index_slots must be a power of two larger than @dlv_cap (2 * dlv_cap is good).
 * Returns 0 or TOPIC_E_INVAL.
 */
int topic_collector_init(struct topic_collector *c, struct topic_delivery *dlv, u32 dlv_cap,
			 u32 *index, u32 index_slots, struct topic_id_link *ids, u32 ids_cap);
/*
 * topic_match() into @c (reset first). Returns the number of deliveries, or
 * TOPIC_E_FULL if some did not fit (those that did are valid; c->dropped counts the rest).
 */
int topic_collect(struct topic_trie *t, const char *topic, u16 len, const void *publisher,
		  u64 now, struct topic_collector *c);

/*
 * Writer-side dump of every subscription: @fn gets the filter (without "$share/<group>/")
 * and the subscription, the group set for shared ones. Returns the number of callbacks or
 * @fn's negative value. For resynchronizing the daemon.
 */
typedef int (*topic_dump_fn)(void *ctx, const char *filter, u16 len, const struct topic_match *m);
int topic_trie_dump(struct topic_trie *t, char *buf, u16 buf_size, topic_dump_fn fn, void *ctx);

/* ---- Store of topic names (retained messages) ---- */

struct topic_store {
	struct topic_tree tree;
	u64 entries;
};

/* Called with each matching (name, payload); return 0 to continue, < 0 to stop. */
typedef int (*topic_store_fn)(void *ctx, const char *name, u16 len, void *payload,
			      struct topic_node *node);

void topic_store_init(struct topic_store *s, const struct topic_limits *lim, size_t mem_limit);
/* Frees the tree; @free_payload (may be NULL) is called on every stored payload. */
void topic_store_destroy(struct topic_store *s, void (*free_payload)(void *payload));
/*
 * Store @payload (not NULL) under topic name @name. Returns 0 if new, 1 if it replaced a
 * payload (returned in *@old if @old is not NULL), or a negative enum topic_err.
 */
int topic_store_set(struct topic_store *s, const char *name, u16 len, void *payload,
		    void **old);
/* Reader-safe lookup: the payload or NULL. */
void *topic_store_get(struct topic_store *s, const char *name, u16 len);
/* Remove @name; its payload is returned in *@old. 0 or TOPIC_E_NOT_FOUND. */
int topic_store_del(struct topic_store *s, const char *name, u16 len, void **old);
/*
 * Enumerate the stored names matching @filter (a valid, non-shared topic filter). The
 * name is built in @buf of @buf_size bytes (at least lim.max_topic_len). Returns the number
 * of callbacks made, or the callback's negative value, or a negative enum topic_err.
 */
int topic_store_match(struct topic_store *s, const char *filter, u16 len, char *buf,
		      u16 buf_size, topic_store_fn fn, void *ctx);

#endif /* KMQTT_CORE_TOPIC_H */

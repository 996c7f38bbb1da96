// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The table of persistent sessions (see sesstab.h): a chained hash keyed with random
 * bits (client ids are chosen by clients), each session with a singly linked queue.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "sesstab.h"

#define BUCKETS_MIN 1024

static uint64_t mix(uint64_t h)
{
	h ^= h >> 31;
	h *= 0x9e3779b97f4a7c15ULL;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return h;
}

static uint32_t hash(const struct sesstab *t, const char *id)
{
	uint64_t h = t->seed ^ 0xcbf29ce484222325ULL;

	for (; *id; id++)
		h = mix(h ^ (unsigned char)*id);
	return (uint32_t)mix(h);
}

int sesstab_init(struct sesstab *t, uint64_t seed)
{
	memset(t, 0, sizeof(*t));
	t->bucket = calloc(BUCKETS_MIN, sizeof(*t->bucket));
	if (!t->bucket)
		return -ENOMEM;
	t->mask = BUCKETS_MIN - 1;
	t->seed = seed;
	/*
	 * Queue ids are never reused, across restarts too (the module skips a delivery
	 * whose id is not above the highest it delivered): session.c starts them at the
	 * time in microseconds, and loading from the store goes above any stored one.
	 */
	t->next_seq = 1;
	return 0;
}

static void sess_free(struct sesstab *t, struct sess *s)
{
	sess_clear_queue(t, s);
	free(s->subs);
	free(s->qos2);
	free(s);
}

void sesstab_free(struct sesstab *t)
{
	if (!t->bucket)
		return;
	for (uint32_t i = 0; i <= t->mask; i++) {
		while (t->bucket[i]) {
			struct sess *s = t->bucket[i];

			t->bucket[i] = s->hnext;
			sess_free(t, s);
		}
	}
	free(t->bucket);
	t->bucket = NULL;
	t->n = 0;
}

struct sess *sess_find(struct sesstab *t, const char *client_id)
{
	struct sess *s = t->bucket[hash(t, client_id) & t->mask];

	while (s && strcmp(s->client_id, client_id))
		s = s->hnext;
	return s;
}

static void grow(struct sesstab *t)
{
	uint32_t nmask = 2 * (t->mask + 1) - 1;
	struct sess **nb = calloc((size_t)nmask + 1, sizeof(*nb));

	if (!nb)
		return;		/* longer chains, still correct */
	for (uint32_t i = 0; i <= t->mask; i++) {
		while (t->bucket[i]) {
			struct sess *s = t->bucket[i];
			uint32_t h;

			t->bucket[i] = s->hnext;
			h = hash(t, s->client_id) & nmask;
			s->hnext = nb[h];
			nb[h] = s;
		}
	}
	free(t->bucket);
	t->bucket = nb;
	t->mask = nmask;
}

struct sess *sess_get(struct sesstab *t, const char *client_id)
{
	struct sess *s = sess_find(t, client_id);
	size_t len = strlen(client_id);
	uint32_t h;

	if (s)
		return s;
	if (len < 1 || len > SESS_MAX_CLIENT_ID)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	memcpy(s->client_id, client_id, len + 1);
	if (t->n >= 2 * (t->mask + 1))
		grow(t);
	h = hash(t, client_id) & t->mask;
	s->hnext = t->bucket[h];
	t->bucket[h] = s;
	t->n++;
	return s;
}

void sess_remove(struct sesstab *t, struct sess *s)
{
	struct sess **p = &t->bucket[hash(t, s->client_id) & t->mask];

	for (; *p; p = &(*p)->hnext) {
		if (*p == s) {
			*p = s->hnext;
			t->n--;
			break;
		}
	}
	sess_free(t, s);
}

int sess_set_state(struct sess *s, const struct kmq_store_sub *subs, uint32_t n_subs,
		   const uint16_t *qos2, uint32_t n_qos2)
{
	struct kmq_store_sub *ns = NULL;
	uint16_t *nq = NULL;
	size_t strings = 0;
	char *p;

	for (uint32_t i = 0; i < n_subs; i++)
		strings += subs[i].len;
	if (n_subs) {
		ns = malloc(n_subs * sizeof(*ns) + strings);
		if (!ns)
			return -ENOMEM;
	}
	if (n_qos2) {
		nq = malloc(n_qos2 * sizeof(*nq));
		if (!nq) {
			free(ns);
			return -ENOMEM;
		}
		memcpy(nq, qos2, n_qos2 * sizeof(*nq));
	}
	p = (char *)(ns + n_subs);
	for (uint32_t i = 0; i < n_subs; i++) {
		memcpy(p, subs[i].filter, subs[i].len);
		ns[i] = (struct kmq_store_sub){ .filter = p, .len = subs[i].len, .qos = subs[i].qos };
		p += subs[i].len;
	}
	free(s->subs);
	free(s->qos2);
	s->subs = ns;
	s->n_subs = n_subs;
	s->qos2 = nq;
	s->n_qos2 = n_qos2;
	return 0;
}

static void account(struct sesstab *t, struct sess *s, const struct smsg *m, bool add)
{
	uint64_t sz = smsg_size(m);

	if (add) {
		s->n_msgs++;
		s->bytes += sz;
		t->total_msgs++;
		t->total_bytes += sz;
	} else {
		s->n_msgs--;
		s->bytes -= sz;
		t->total_msgs--;
		t->total_bytes -= sz;
	}
}

/* Would a message of @sz bytes be over a limit if the queue had @n msgs, @b bytes less? */
static bool over(const struct sesstab *t, const struct sess *s, uint64_t sz, uint32_t n,
		 uint64_t b)
{
	const struct sess_limits *l = &t->lim;

	return (l->max_msgs && s->n_msgs - n + 1 > l->max_msgs) ||
	       (l->max_bytes && s->bytes - b + sz > l->max_bytes) ||
	       (l->max_total && t->total_bytes - b + sz > l->max_total);
}

enum sess_enq sess_enqueue(struct sesstab *t, struct sess *s, const struct smsg_in *in,
			   struct smsg **queued, struct smsg **evicted)
{
	uint64_t sz = (uint64_t)in->topic_len + in->payload_len;
	bool owed = in->flags & (SESS_F_DUP | SESS_F_PUBREL);
	struct smsg *m, **ev_tail = evicted;

	*queued = NULL;
	*evicted = NULL;
	if (!owed && over(t, s, sz, 0, 0)) {
		struct smsg *prev = NULL, *next;
		uint32_t n = 0;
		uint64_t b = 0;

		if (!t->lim.drop_oldest)
			return SESS_ENQ_DROPPED;
		/* Would dropping every droppable entry make room? Else drop the new one. */
		for (m = s->head; m && over(t, s, sz, n, b); m = m->next) {
			if (!smsg_owed(m)) {
				n++;
				b += smsg_size(m);
			}
		}
		if (over(t, s, sz, n, b))
			return SESS_ENQ_DROPPED;
		/* Unlink the oldest droppable entries until it fits. */
		for (m = s->head; m && over(t, s, sz, 0, 0); m = next) {
			next = m->next;
			if (smsg_owed(m)) {
				prev = m;
				continue;
			}
			if (prev)
				prev->next = next;
			else
				s->head = next;
			if (s->tail == m)
				s->tail = prev;
			account(t, s, m, false);
			m->next = NULL;
			*ev_tail = m;
			ev_tail = &m->next;
		}
	}
	m = malloc(sizeof(*m) + sz);
	if (!m)
		return SESS_ENQ_NOMEM;
	m->next = NULL;
	m->seq = in->seq ? in->seq : t->next_seq;
	if (m->seq >= t->next_seq)
		t->next_seq = m->seq + 1;
	m->topic_len = in->topic_len;
	m->payload_len = in->payload_len;
	m->packet_id = in->packet_id;
	m->owed_seq = in->owed_seq;
	if (m->owed_seq > s->owed_hi)
		s->owed_hi = m->owed_seq;
	m->flags = in->flags;
	m->qos = in->qos;
	if (in->topic_len)
		memcpy(m->data, in->topic, in->topic_len);
	if (in->payload_len)
		memcpy(m->data + in->topic_len, in->payload, in->payload_len);
	if (s->tail)
		s->tail->next = m;
	else
		s->head = m;
	s->tail = m;
	account(t, s, m, true);
	*queued = m;
	return SESS_ENQ_QUEUED;
}

struct smsg *sess_pop_head(struct sesstab *t, struct sess *s)
{
	struct smsg *m = s->head;

	if (!m)
		return NULL;
	s->head = m->next;
	if (!s->head)
		s->tail = NULL;
	m->next = NULL;
	account(t, s, m, false);
	return m;
}

void sess_push_head(struct sesstab *t, struct sess *s, struct smsg *m)
{
	m->next = s->head;
	s->head = m;
	if (!s->tail)
		s->tail = m;
	account(t, s, m, true);
}

void smsg_free_list(struct smsg *m)
{
	while (m) {
		struct smsg *n = m->next;

		free(m);
		m = n;
	}
}

void sess_clear_queue(struct sesstab *t, struct sess *s)
{
	struct smsg *m;

	while ((m = sess_pop_head(t, s)))
		free(m);
}

bool sess_expired(const struct sess *s, int64_t now, int64_t expiry)
{
	return expiry > 0 && s->offline_since > 0 && !s->handoff &&
	       now - s->offline_since >= expiry;
}

void sesstab_foreach(struct sesstab *t, void (*fn)(void *ctx, struct sess *s), void *ctx)
{
	for (uint32_t i = 0; i <= t->mask; i++) {
		struct sess *s = t->bucket[i];

		while (s) {
			struct sess *next = s->hnext;

			fn(ctx, s);
			s = next;
		}
	}
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Persistent sessions (MQTT 3.1.1 clean session 0). The module keeps a parked session's
 * subscriptions in its trie while it lives; kmqttd is the durable store:
 *
 *  - KMQTT_CMD_SESSION_PARKED: a persistent connection ended; its subscriptions and QoS 2
 *    ids replace what was stored, and the session is offline from now.
 *  - KMQTT_CMD_SESSION_MSG: a message for a parked session (or one its connection still
 *    owed: DUP, PUBREL). It is queued (sesstab.c applies the limits), stored when
 *    persistence is on, and confirmed to the module (KMQTT_CMD_RETAIN_STORED) only once
 *    committed; a message dropped by a limit is confirmed at once (the publisher is
 *    acknowledged, as by mosquitto) and counted.
 *  - A persistent CONNECT with a stored session gets KMQTT_CONN_F_SESSION_PRESENT, the
 *    stored subscriptions and QoS 2 ids, and, when messages are queued, KMQTT_CONN_F_HOLD:
 *    after the hand-off the queue is delivered in order (KMQTT_CMD_DELIVER, waiting for
 *    each answer: a refusal keeps the rest for the next connection), removed from the
 *    store in one transaction, and the held live messages released (SESSION_RESUMED).
 *  - A clean CONNECT forgets the client id's session; persistent_client_expiration
 *    deletes sessions offline for longer (and the module's parked one).
 *
 * Everything is kept in memory too; the store is read once, at start-up.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <json-c/json.h>
#include "kmqttd.h"
#include "log.h"
#include "sesstab.h"
#include "store.h"

#define SESSION_SWEEP_MS	60000
#define SESSIONS_LIST_MAX	10000

struct sessions {
	struct sesstab t;
	/*
	 * Sessions whose queue is being delivered a batch at a time, between the event
	 * loop's other work, so that a client's CONNACK never waits for another's queue.
	 */
	struct sess **pend;
	uint32_t n_pend, cap_pend;
	bool resync_seen_init;
	/* Online sessions seen in the current resync dump, by pointer identity. */
	struct sess **seen;
	uint32_t n_seen, cap_seen;
};

static int64_t now_s(void)
{
	return (int64_t)time(NULL);
}

static const char *pid_of(const char *id, char *buf, size_t cap)
{
	return printable(id, strlen(id), buf, cap);
}

int session_init(struct kmqttd *d)
{
	struct timespec ts;
	uint64_t seed;

	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		return -errno;
	d->sessions = calloc(1, sizeof(*d->sessions));
	if (!d->sessions)
		return -ENOMEM;
	if (sesstab_init(&d->sessions->t, seed)) {
		free(d->sessions);
		d->sessions = NULL;
		return -ENOMEM;
	}
	/* Queue ids never go back, across restarts without a store too (see sesstab.c). */
	clock_gettime(CLOCK_REALTIME, &ts);
	d->sessions->t.next_seq = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	session_apply_conf(d);
	return 0;
}

void session_free(struct kmqttd *d)
{
	if (!d->sessions)
		return;
	sesstab_free(&d->sessions->t);
	free(d->sessions->pend);
	free(d->sessions->seen);
	free(d->sessions);
	d->sessions = NULL;
}

void session_apply_conf(struct kmqttd *d)
{
	struct sess_limits *l = &d->sessions->t.lim;

	l->max_msgs = d->conf.max_queued_messages ? d->conf.max_queued_messages :
		      KMQ_CONF_DEFAULT_QUEUED;
	l->max_bytes = d->conf.max_queued_bytes;
	l->max_total = d->conf.max_queued_bytes_total;
	l->drop_oldest = d->conf.queue_drop_oldest;
}

/* ---- loading ---- */

static int load_session(void *ctx, const struct kmq_session_rec *r)
{
	struct kmqttd *d = ctx;
	struct sess *s = sess_get(&d->sessions->t, r->client_id);

	if (!s || sess_set_state(s, r->subs, r->n_subs, r->qos2_ids, r->n_qos2))
		return -1;
	/*
	 * Stored as online: it was when kmqttd stopped. Offline from now until the resync
	 * at registration finds its connection (so it cannot expire early).
	 */
	s->offline_since = r->offline_since ? r->offline_since : now_s();
	return 0;
}

static int load_session_msg(void *ctx, const struct kmq_session_msg_rec *r)
{
	struct kmqttd *d = ctx;
	struct sesstab *t = &d->sessions->t;
	struct sess *s = sess_get(t, r->client_id);
	struct smsg_in in = { .topic = r->topic, .topic_len = r->topic_len, .payload = r->payload,
			      .payload_len = r->payload_len, .qos = r->qos, .flags = r->flags,
			      .packet_id = r->packet_id, .seq = r->seq, .owed_seq = r->owed_seq };
	struct sess_limits lim = t->lim;
	struct smsg *q, *ev;
	enum sess_enq e;

	if (!s)
		return -1;
	if (!s->offline_since)
		s->offline_since = now_s();
	/* What was stored is loaded whole, whatever the limits are now. */
	t->lim = (struct sess_limits){ 0 };
	e = sess_enqueue(t, s, &in, &q, &ev);
	t->lim = lim;
	return e == SESS_ENQ_QUEUED ? 0 : -1;
}

void session_store_opts(struct kmqttd *d, struct kmq_store_opts *o)
{
	o->load_session = load_session;
	o->load_session_msg = load_session_msg;
	o->session_ctx = d;
}

/* ---- store writes ---- */

static void store_error(struct kmqttd *d, const char *what, const char *id, int err)
{
	char pid[96];

	d->stats[DS_SESSION_STORE_ERRORS]++;
	log_limited(d, RL_SESSION, KMQ_LOG_ERR, "session of client %s: %s: %s",
		    pid_of(id, pid, sizeof(pid)), what, strerror(-err));
}

static void store_session(struct kmqttd *d, struct sess *s)
{
	struct kmq_session_rec r = { .client_id = s->client_id, .offline_since = s->offline_since,
				     .subs = s->subs, .n_subs = s->n_subs, .qos2_ids = s->qos2,
				     .n_qos2 = s->n_qos2 };
	int ret;

	if (!d->store)
		return;
	ret = kmq_store_session_put(d->store, &r, store_cookie(d, SC_NONE, 0));
	if (ret)
		store_error(d, "storing its state failed", s->client_id, ret);
}

static void store_msgs_del(struct kmqttd *d, struct sess *s, uint64_t from, uint64_t to)
{
	int ret;

	if (!d->store)
		return;
	ret = kmq_store_session_msg_del(d->store, s->client_id, from, to,
					store_cookie(d, SC_NONE, 0));
	if (ret)
		store_error(d, "removing queued messages failed", s->client_id, ret);
}

static void pend_del(struct sessions *ss, struct sess *s)
{
	for (uint32_t i = 0; s->pending && i < ss->n_pend; i++) {
		if (ss->pend[i] == s) {
			ss->pend[i] = ss->pend[--ss->n_pend];
			s->pending = false;
		}
	}
}

static void forget(struct kmqttd *d, struct sess *s)
{
	int ret;

	if (d->store) {
		ret = kmq_store_session_del(d->store, s->client_id, store_cookie(d, SC_NONE, 0));
		if (ret)
			store_error(d, "deleting it failed", s->client_id, ret);
	}
	pend_del(d->sessions, s);
	sess_remove(&d->sessions->t, s);
}

static void confirm(struct kmqttd *d, uint32_t punt_id)
{
	int ret;

	if (d->link != MODULE_REGISTERED)
		return;
	ret = kmq_nl_retain_stored(&d->nl, punt_id);
	if (ret)
		log_limited(d, RL_SESSION, KMQ_LOG_WARNING,
			    "confirming a session message to kmqtt.ko failed: %s", strerror(-ret));
	else
		d->stats[DS_SESSION_MSGS_CONFIRMED]++;
}

void session_on_stored(struct kmqttd *d, uint64_t cookie, int err)
{
	if (err) {
		/* A message not durable is not confirmed: its publisher gets no PUBACK. */
		d->stats[DS_SESSION_STORE_ERRORS]++;
		log_limited(d, RL_STORE, KMQ_LOG_ERR, "a session record could not be stored: %s",
			    strerror(-err));
		return;
	}
	if (cookie >> 62 == SC_SESSION_MSG && store_cookie_current(d, cookie))
		confirm(d, (uint32_t)cookie);
}

/* ---- delivery of a queue to a connection ---- */

/*
 * Deliver @s's queue to @conn_id in order, in batches sent without waiting for each
 * answer (the module takes stored messages in order: what it queued is a prefix of each
 * batch); stop at the first refusal (the rest stays queued, in the store too). Returns
 * the count delivered.
 */
static unsigned int deliver_queue(struct kmqttd *d, struct sess *s, uint64_t conn_id,
				  unsigned int batches, bool *more)
{
	struct sesstab *t = &d->sessions->t;
	struct smsg *done = NULL, **done_tail = &done, *m;
	struct smsg *batch[KMQTT_MAX_DELIVER_BATCH];
	struct kmq_deliver dm[KMQTT_MAX_DELIVER_BATCH];
	int err[KMQTT_MAX_DELIVER_BATCH];
	unsigned int n = 0, k, i;
	uint64_t last_seq = 0;
	char pid[96];
	int ret = 0;

	/* Events read meanwhile (answers are awaited) may append to the queue: fine. */
	s->delivering = true;
	while (!ret && d->link == MODULE_REGISTERED && batches--) {
		for (k = 0; k < KMQTT_MAX_DELIVER_BATCH && (m = sess_pop_head(t, s)); k++) {
			batch[k] = m;
			dm[k] = (struct kmq_deliver){
				.conn_id = conn_id, .topic = (const char *)m->data,
				.topic_len = m->topic_len, .payload = m->data + m->topic_len,
				.payload_len = m->payload_len, .qos = m->qos, .flags = m->flags,
				.packet_id = m->packet_id, .store_id = m->seq,
			};
			/* A DUP entry is resent with its packet id; a new one gets a fresh one. */
			if (!(m->flags & (KMQTT_MSG_F_DUP | KMQTT_MSG_F_PUBREL)))
				dm[k].packet_id = 0;
		}
		if (!k)
			break;
		kmq_nl_deliver_batch(&d->nl, dm, k, err);
		for (i = 0; i < k; i++) {
			m = batch[i];
			if (err[i] == -EACCES) {
				/*
				 * The client's ACL does not let it read this one (a session
				 * restored after a reload is parked without the ACL): not for it.
				 */
				d->stats[DS_SESSION_MSGS_DROPPED]++;
				store_msgs_del(d, s, m->seq, m->seq);
				smsg_free_list(m);
				continue;
			}
			if (err[i]) {
				ret = err[i];
				break;
			}
			last_seq = m->seq;
			*done_tail = m;
			done_tail = &m->next;
			n++;
		}
		/* Refused: this one and the rest of the batch go back, in order. */
		for (unsigned int j = k; ret && j-- > i;)
			sess_push_head(t, s, batch[j]);
	}
	s->delivering = false;
	if (more)
		*more = !ret && s->head && d->link == MODULE_REGISTERED;
	if (ret) {
		d->stats[DS_SESSION_DELIVER_REFUSED]++;
		log_limited(d, RL_SESSION, KMQ_LOG_WARNING,
			    "client %s: kmqtt.ko refused a queued message (%s): %u message(s) kept for its next connection",
			    pid_of(s->client_id, pid, sizeof(pid)), strerror(-ret), s->n_msgs);
	}
	if (n) {
		/* One transaction removes what was delivered (a prefix of the queue). */
		store_msgs_del(d, s, 0, last_seq);
		smsg_free_list(done);
		d->stats[DS_SESSION_MSGS_DELIVERED] += n;
	}
	return n;
}

/* Forget the queued messages of @s up to @max_seq: the module has had them. */
static void drop_delivered(struct kmqttd *d, struct sess *s, uint64_t max_seq)
{
	struct sesstab *t = &d->sessions->t;
	struct smsg *m, *done = NULL, **tail = &done;
	unsigned int n = 0;

	while ((m = sess_pop_head(t, s))) {
		if (m->seq > max_seq) {
			sess_push_head(t, s, m);
			break;
		}
		*tail = m;
		tail = &m->next;
		n++;
	}
	if (!n)
		return;
	store_msgs_del(d, s, 0, max_seq);
	smsg_free_list(done);
	log_debug("session %s: %u message(s) already delivered forgotten", s->client_id, n);
}

/* ---- events ---- */

void session_on_parked(struct kmqttd *d, const struct kmq_event *ev)
{
	struct kmq_store_sub subs[KMQTT_MAX_SESSION_SUBS];
	struct sess *s = sess_get(&d->sessions->t, ev->client_id);
	uint32_t n = ev->n_subs < KMQTT_MAX_SESSION_SUBS ? ev->n_subs : KMQTT_MAX_SESSION_SUBS;
	char pid[96];

	if (!s) {
		store_error(d, "cannot keep it", ev->client_id, -ENOMEM);
		return;
	}
	d->stats[DS_SESSIONS_PARKED]++;
	for (uint32_t i = 0; i < n; i++)
		subs[i] = (struct kmq_store_sub){ .filter = ev->subs[i].filter,
						  .len = ev->subs[i].len, .qos = ev->subs[i].qos };
	if (sess_set_state(s, subs, n, ev->qos2_ids, ev->n_qos2))
		store_error(d, "cannot keep its subscriptions", s->client_id, -ENOMEM);
	/*
	 * Queued messages up to the highest id the module delivered are stale: this kmqttd
	 * (or a killed one) delivered them and could not forget them yet. What the client
	 * is still owed follows as SESSION_MSGs.
	 */
	if (ev->max_store_id)
		drop_delivered(d, s, ev->max_store_id);
	/*
	 * During a hand-off of the same client id (a takeover), the module parks the old
	 * connection and moves the session to the new one at once: it stays online. So it
	 * does when an older connection than the one it has now is reported.
	 */
	if (!s->handoff && (s->offline_since || !s->conn_id || s->conn_id == ev->conn_id)) {
		s->offline_since = now_s();
		s->conn_id = 0;
	}
	store_session(d, s);
	log_debug("session of client %s parked: %u subscription(s), %u QoS 2 id(s)",
		  pid_of(s->client_id, pid, sizeof(pid)), s->n_subs, s->n_qos2);
}

static bool owed_queued(const struct sess *s, uint64_t owed_seq)
{
	for (const struct smsg *m = s->head; m; m = m->next)
		if (m->owed_seq == owed_seq)
			return true;
	return false;
}

static void owed_max_of(void *ctx, struct sess *s)
{
	uint64_t *max = ctx;

	if (s->owed_hi > *max)
		*max = s->owed_hi;
}

uint64_t session_owed_max(struct kmqttd *d)
{
	uint64_t max = 0;

	if (d->sessions)
		sesstab_foreach(&d->sessions->t, owed_max_of, &max);
	return max;
}

void session_on_msg(struct kmqttd *d, const struct kmq_event *ev)
{
	struct sesstab *t = &d->sessions->t;
	struct smsg_in in = { .topic = ev->topic, .topic_len = ev->topic_len,
			      .payload = ev->payload, .payload_len = ev->payload_len,
			      .qos = ev->qos, .flags = ev->flags & (KMQTT_MSG_F_DUP | KMQTT_MSG_F_PUBREL),
			      .packet_id = ev->packet_id, .owed_seq = ev->owed_seq };
	struct sess *s = sess_find(t, ev->client_id);
	struct smsg *q, *evicted;
	char pid[96];
	int ret;

	if (in.flags & KMQTT_MSG_F_PUBREL) {
		in.topic_len = 0;
		in.payload_len = 0;
	}
	if (!s) {
		/* Its SESSION_PARKED was lost, or came before this kmqttd started. */
		s = sess_get(t, ev->client_id);
		if (!s) {
			store_error(d, "cannot keep a message", ev->client_id, -ENOMEM);
			return;
		}
		s->offline_since = now_s();
		store_session(d, s);
	}
	/*
	 * A message the module hands over again (a kmqttd before this one died before
	 * confirming it) that this one loaded from the store: it is held, not queued twice.
	 */
	if ((ev->flags & KMQTT_MSG_F_AGAIN) && in.owed_seq && in.owed_seq <= s->owed_hi &&
	    owed_queued(s, in.owed_seq)) {
		d->stats[DS_SESSION_OWED_KNOWN]++;
		confirm(d, ev->punt_id);
		return;
	}
	switch (sess_enqueue(t, s, &in, &q, &evicted)) {
	case SESS_ENQ_NOMEM:
		/* Unconfirmed, as a store error: the publisher gets no PUBACK. */
		store_error(d, "cannot keep a message", s->client_id, -ENOMEM);
		return;
	case SESS_ENQ_DROPPED:
		d->stats[DS_SESSION_MSGS_DROPPED]++;
		log_limited(d, RL_SESSION, KMQ_LOG_NOTICE,
			    "client %s: queue full (%u messages, %llu bytes): new message dropped",
			    pid_of(s->client_id, pid, sizeof(pid)), s->n_msgs,
			    (unsigned long long)s->bytes);
		confirm(d, ev->punt_id);
		return;
	case SESS_ENQ_QUEUED:
		break;
	}
	d->stats[DS_SESSION_MSGS_QUEUED]++;
	if (evicted) {
		unsigned int n = 0;

		for (struct smsg *m = evicted; m; m = m->next) {
			store_msgs_del(d, s, m->seq, m->seq);
			n++;
		}
		smsg_free_list(evicted);
		d->stats[DS_SESSION_MSGS_DROPPED] += n;
		log_limited(d, RL_SESSION, KMQ_LOG_NOTICE,
			    "client %s: queue full: %u oldest message(s) dropped", pid_of(s->client_id,
			    pid, sizeof(pid)), n);
	}
	if (!d->store) {
		confirm(d, ev->punt_id);
	} else {
		struct kmq_session_msg_rec r = {
			.client_id = s->client_id, .seq = q->seq, .topic = (const char *)q->data,
			.topic_len = q->topic_len, .payload = q->data + q->topic_len,
			.payload_len = q->payload_len, .qos = q->qos, .flags = q->flags,
			.packet_id = q->packet_id, .owed_seq = q->owed_seq,
		};

		ret = kmq_store_session_msg_put(d->store, &r,
						store_cookie(d, SC_SESSION_MSG, ev->punt_id));
		if (ret) {
			store_error(d, "storing a message failed", s->client_id, ret);
			return;
		}
	}
	/*
	 * Online already (the module handed it over anyway): deliver it now, unless a
	 * delivery loop is running (it takes what is appended meanwhile).
	 */
	if (!s->offline_since && !s->handoff && !s->delivering && !s->pending && s->conn_id)
		deliver_queue(d, s, s->conn_id, UINT_MAX, NULL);
}

void session_on_conn_closed(struct kmqttd *d, const struct kmq_event *ev)
{
	struct sess *s = sess_find(&d->sessions->t, ev->client_id);

	/* The SESSION_PARKED that follows says more; this covers a session not parked. */
	if (!s || s->handoff || s->offline_since || s->conn_id != ev->conn_id)
		return;
	s->offline_since = now_s();
	s->conn_id = 0;
	store_session(d, s);
}

/* ---- CONNECT ---- */

static void session_deliver_step(struct kmqttd *d, struct sess *s);

void session_prepare_connect(struct kmqttd *d, const char *id, bool clean,
			     struct kmq_conn_new *p, struct session_connect *sc)
{
	struct sess *s;

	memset(sc, 0, sizeof(*sc));
	snprintf(sc->client_id, sizeof(sc->client_id), "%s", id);
	sc->clean = clean;
	if (clean)
		return;
	s = sess_find(&d->sessions->t, id);
	if (!s)
		return;
	s->handoff = true;
	sc->present = true;
	/* Messages queued, or a live connection whose owed messages may come to us. */
	sc->hold = s->n_msgs || !s->offline_since;
	p->flags |= KMQTT_CONN_F_SESSION_PRESENT | (sc->hold ? KMQTT_CONN_F_HOLD : 0);
	sc->subs = calloc(s->n_subs ? s->n_subs : 1, sizeof(*sc->subs));
	if (sc->subs) {
		for (uint32_t i = 0; i < s->n_subs; i++)
			sc->subs[i] = (struct kmq_sub){ .filter = s->subs[i].filter,
							.len = s->subs[i].len, .qos = s->subs[i].qos };
		p->subs = sc->subs;
		p->n_subs = s->n_subs;
	}
	p->qos2_ids = s->qos2;
	p->n_qos2 = s->n_qos2;
	/* The resends keep their packet ids: the module gives new messages other ones. */
	uint32_t n_out = 0;

	for (const struct smsg *m = s->head; m; m = m->next)
		n_out += smsg_owed(m) && m->packet_id;
	if (n_out > KMQTT_MAX_OUT_IDS)
		n_out = KMQTT_MAX_OUT_IDS;
	sc->out_ids = n_out ? calloc(n_out, sizeof(*sc->out_ids)) : NULL;
	if (sc->out_ids) {
		uint32_t i = 0;

		for (const struct smsg *m = s->head; m && i < n_out; m = m->next)
			if (smsg_owed(m) && m->packet_id)
				sc->out_ids[i++] = m->packet_id;
		p->out_ids = sc->out_ids;
		p->n_out = n_out;
	}
}

void session_connect_done(struct kmqttd *d, struct session_connect *sc, int ret,
			  uint64_t conn_id, uint32_t flags)
{
	struct sess *s = sess_find(&d->sessions->t, sc->client_id);
	char pid[96];

	free(sc->subs);
	sc->subs = NULL;
	free(sc->out_ids);
	sc->out_ids = NULL;
	if (s)
		s->handoff = false;
	if (ret)
		return;
	if (sc->clean) {
		/* The module discards its parked session; so do we. */
		if (s) {
			d->stats[DS_SESSIONS_CLEANED]++;
			log_info("client %s connected with a clean session: its stored session is discarded",
				 pid_of(sc->client_id, pid, sizeof(pid)));
			forget(d, s);
		}
		return;
	}
	if (sc->present || (flags & KMQTT_CONN_F_SESSION_PRESENT))
		d->stats[DS_SESSIONS_PRESENT]++;
	if (!s) {
		s = sess_get(&d->sessions->t, sc->client_id);
		if (!s) {
			store_error(d, "cannot keep it", sc->client_id, -ENOMEM);
			return;
		}
	}
	s->offline_since = 0;
	s->conn_id = conn_id;
	store_session(d, s);
	log_debug("client %s: persistent session %s (session present %s), %u queued message(s)",
		  pid_of(sc->client_id, pid, sizeof(pid)), sc->present ? "resumed" : "started",
		  flags & KMQTT_CONN_F_SESSION_PRESENT ? "1" : "0", s->n_msgs);
	if (!sc->hold)
		return;
	/* The stored queue goes first, a batch at a time; then the held live messages. */
	s->resume_conn = conn_id;
	session_deliver_step(d, s);
}

/* The queue delivered (or refused): the module lets the held live messages go. */
static void resume_done(struct kmqttd *d, struct sess *s)
{
	uint64_t conn_id = s->resume_conn;
	char pid[96];
	int r;

	s->resume_conn = 0;
	if (!conn_id)
		return;
	r = d->link == MODULE_REGISTERED ? kmq_nl_session_resumed(&d->nl, conn_id) : 0;
	if (r && r != -ENOENT)
		log_limited(d, RL_SESSION, KMQ_LOG_WARNING,
			    "releasing the held messages of client %s failed: %s",
			    pid_of(s->client_id, pid, sizeof(pid)), strerror(-r));
}

/*
 * One batch of @s's queue to its connection; if more is to go, @s stays on (or joins) the
 * pending list, served by session_deliver_pending() between the event loop's other work.
 */
static void session_deliver_step(struct kmqttd *d, struct sess *s)
{
	struct sessions *ss = d->sessions;
	bool more = false;

	if (s->conn_id && !s->offline_since)
		deliver_queue(d, s, s->conn_id, 1, &more);
	if (more && !s->pending) {
		if (ss->n_pend == ss->cap_pend) {
			uint32_t cap = ss->cap_pend ? 2 * ss->cap_pend : 64;
			struct sess **n = realloc(ss->pend, cap * sizeof(*n));

			if (!n) {
				/* No room to come back to it: all of it now. */
				deliver_queue(d, s, s->conn_id, UINT_MAX, NULL);
				resume_done(d, s);
				return;
			}
			ss->pend = n;
			ss->cap_pend = cap;
		}
		ss->pend[ss->n_pend++] = s;
		s->pending = true;
	} else if (!more) {
		pend_del(ss, s);
		resume_done(d, s);
	}
}

bool session_deliver_pending(struct kmqttd *d)
{
	struct sessions *ss = d->sessions;

	if (!ss || !ss->n_pend)
		return false;
	/* Each one a batch; one that finishes leaves the list (swapped with the last). */
	for (uint32_t i = ss->n_pend; i-- > 0;)
		if (i < ss->n_pend)
			session_deliver_step(d, ss->pend[i]);
	return ss->n_pend > 0;
}

/* ---- expiry ---- */

struct sweep_ctx {
	struct kmqttd *d;
	int64_t now;
	int64_t expiry;
	unsigned int n;
};

static void expire_one(void *ctx, struct sess *s)
{
	struct sweep_ctx *c = ctx;
	struct kmqttd *d = c->d;
	char pid[96];
	int ret;

	if (!sess_expired(s, c->now, c->expiry))
		return;
	if (d->link == MODULE_REGISTERED) {
		ret = kmq_nl_session_del(&d->nl, s->client_id);
		if (ret && ret != -ENOENT)
			log_limited(d, RL_SESSION, KMQ_LOG_WARNING,
				    "discarding the parked session of client %s in kmqtt.ko failed: %s",
				    pid_of(s->client_id, pid, sizeof(pid)), strerror(-ret));
	}
	log_info("session of client %s expired (offline for %lld s, %u message(s) queued)",
		 pid_of(s->client_id, pid, sizeof(pid)), (long long)(c->now - s->offline_since),
		 s->n_msgs);
	d->stats[DS_SESSIONS_EXPIRED]++;
	c->n++;
	forget(d, s);
}

void session_sweep(struct kmqttd *d, uint64_t now_ms)
{
	struct sweep_ctx c = { .d = d, .now = now_s(),
			       .expiry = d->conf.persistent_client_expiration };

	if (d->last_session_sweep_ms && now_ms - d->last_session_sweep_ms < SESSION_SWEEP_MS)
		return;
	d->last_session_sweep_ms = now_ms ? now_ms : 1;
	if (c.expiry <= 0)
		return;
	sesstab_foreach(&d->sessions->t, expire_one, &c);
}

/* ---- the module's comings and goings ---- */

static void go_offline(void *ctx, struct sess *s)
{
	struct kmqttd *d = ctx;

	if (s->offline_since)
		return;
	s->offline_since = now_s();
	s->conn_id = 0;
	store_session(d, s);
}

void session_on_module_lost(struct kmqttd *d)
{
	/* Unloading the module closed every connection. */
	sesstab_foreach(&d->sessions->t, go_offline, d);
}

void session_resync_begin(struct kmqttd *d)
{
	d->sessions->n_seen = 0;
	d->sessions->resync_seen_init = true;
}

void session_resync_conn(struct kmqttd *d, const char *client_id, uint64_t conn_id)
{
	struct sessions *ss = d->sessions;
	struct sess *s = sess_find(&ss->t, client_id);

	if (!s || s->handoff)
		return;
	/*
	 * Connections come only through kmqttd, and a clean one forgets the session: a
	 * live connection with a stored session's client id is that session's.
	 */
	if (s->offline_since || s->conn_id != conn_id) {
		s->offline_since = 0;
		s->conn_id = conn_id;
		store_session(d, s);
	}
	if (ss->n_seen == ss->cap_seen) {
		uint32_t cap = ss->cap_seen ? 2 * ss->cap_seen : 256;
		struct sess **n = realloc(ss->seen, cap * sizeof(*n));

		if (!n) {
			ss->resync_seen_init = false;	/* incomplete: mark nothing offline */
			return;
		}
		ss->seen = n;
		ss->cap_seen = cap;
	}
	ss->seen[ss->n_seen++] = s;
}

static int ptr_cmp(const void *a, const void *b)
{
	const void *x = *(void *const *)a, *y = *(void *const *)b;

	return x < y ? -1 : x > y;
}

struct unseen_ctx {
	struct kmqttd *d;
	struct sess **seen;
	uint32_t n;
};

static void offline_if_unseen(void *ctx, struct sess *s)
{
	struct unseen_ctx *c = ctx;

	if (s->offline_since || s->handoff ||
	    bsearch(&s, c->seen, c->n, sizeof(*c->seen), ptr_cmp))
		return;
	go_offline(c->d, s);
}

/*
 * An offline session the module may not have (it was reloaded, the machine rebooted):
 * park it there, so that what is published for it from now on is handed over and stored
 * rather than acknowledged for nobody. The module refuses one it has (-EEXIST). One that
 * has expired is left to the sweep (at start-up it runs right after this): parked, it
 * would be discarded again at once, and counted as restored.
 */
static void park_in_module(void *ctx, struct sess *s)
{
	struct kmqttd *d = ctx;
	struct kmq_sub subs[KMQTT_MAX_SESSION_SUBS];
	uint32_t n = s->n_subs < KMQTT_MAX_SESSION_SUBS ? s->n_subs : KMQTT_MAX_SESSION_SUBS;
	char pid[96];
	int ret;

	if (!s->offline_since || s->handoff || d->link != MODULE_REGISTERED ||
	    sess_expired(s, now_s(), d->conf.persistent_client_expiration))
		return;
	for (uint32_t i = 0; i < n; i++)
		subs[i] = (struct kmq_sub){ .filter = s->subs[i].filter, .len = s->subs[i].len,
					    .qos = s->subs[i].qos };
	ret = kmq_nl_session_add(&d->nl, s->client_id, subs, n, s->qos2, s->n_qos2);
	if (!ret) {
		d->stats[DS_SESSIONS_RESTORED]++;
		log_debug("session of client %s parked in kmqtt.ko (%u subscription(s))",
			  pid_of(s->client_id, pid, sizeof(pid)), n);
	} else if (ret != -EEXIST) {
		log_limited(d, RL_SESSION, KMQ_LOG_WARNING,
			    "cannot park the session of client %s in kmqtt.ko: %s",
			    pid_of(s->client_id, pid, sizeof(pid)), strerror(-ret));
	}
}

void session_resync_end(struct kmqttd *d, bool ok)
{
	struct sessions *ss = d->sessions;
	struct unseen_ctx c = { .d = d, .seen = ss->seen, .n = ss->n_seen };

	if (ok && ss->resync_seen_init) {
		if (c.n)
			qsort(c.seen, c.n, sizeof(*c.seen), ptr_cmp);
		sesstab_foreach(&ss->t, offline_if_unseen, &c);
	}
	ss->n_seen = 0;
	ss->resync_seen_init = false;
	if (ok)
		sesstab_foreach(&ss->t, park_in_module, d);
}

/* ---- kmqttctl sessions ---- */

unsigned int session_count(const struct kmqttd *d)
{
	return d->sessions ? d->sessions->t.n : 0;
}

struct list_ctx {
	struct sess **v;
	uint32_t n, cap;
};

static void collect(void *ctx, struct sess *s)
{
	struct list_ctx *l = ctx;

	if (l->n < l->cap)
		l->v[l->n++] = s;
}

static int by_client_id(const void *a, const void *b)
{
	return strcmp((*(struct sess *const *)a)->client_id, (*(struct sess *const *)b)->client_id);
}

/* kmqttctl sessions: {"daemon": {"sessions": [...], "count": N, ...}} */
json_object *sessions_json(struct kmqttd *d)
{
	struct sesstab *t = &d->sessions->t;
	int64_t exp = d->conf.persistent_client_expiration, now = now_s();
	json_object *o = json_object_new_object(), *dm = json_object_new_object();
	json_object *a = json_object_new_array();
	struct list_ctx l = { .cap = t->n < SESSIONS_LIST_MAX ? t->n : SESSIONS_LIST_MAX };

	l.v = calloc(l.cap ? l.cap : 1, sizeof(*l.v));
	if (!l.v) {
		json_object_put(a);
		json_object_put(dm);
		json_object_object_add(o, "error", json_object_new_string("out of memory"));
		return o;
	}
	sesstab_foreach(t, collect, &l);
	qsort(l.v, l.n, sizeof(*l.v), by_client_id);
	for (uint32_t i = 0; i < l.n; i++) {
		struct sess *s = l.v[i];
		json_object *e = json_object_new_object();
		bool online = !s->offline_since;

		json_object_object_add(e, "client_id", json_object_new_string(s->client_id));
		json_object_object_add(e, "state", json_object_new_string(online ? "online" : "offline"));
		json_object_object_add(e, "subscriptions", json_object_new_int64(s->n_subs));
		json_object_object_add(e, "queued_messages", json_object_new_int64(s->n_msgs));
		json_object_object_add(e, "queued_bytes", json_object_new_int64((int64_t)s->bytes));
		json_object_object_add(e, "offline_since",
				       online ? NULL : json_object_new_int64(s->offline_since));
		json_object_object_add(e, "expires_in", online || exp <= 0 ? NULL :
				       json_object_new_int64(s->offline_since + exp - now > 0 ?
							     s->offline_since + exp - now : 0));
		json_object_array_add(a, e);
	}
	json_object_object_add(dm, "persistence", json_object_new_boolean(d->store != NULL));
	json_object_object_add(dm, "expiration", exp > 0 ? json_object_new_int64(exp) : NULL);
	json_object_object_add(dm, "total", json_object_new_int64(t->n));
	json_object_object_add(dm, "queued_messages", json_object_new_int64((int64_t)t->total_msgs));
	json_object_object_add(dm, "queued_bytes", json_object_new_int64((int64_t)t->total_bytes));
	json_object_object_add(dm, "count", json_object_new_int64(l.n));
	json_object_object_add(dm, "truncated", json_object_new_boolean(l.n < t->n));
	json_object_object_add(dm, "sessions", a);
	json_object_object_add(o, "daemon", dm);
	free(l.v);
	return o;
}

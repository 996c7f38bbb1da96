// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Persistent sessions in kmqttd: the session table's queue, limits and overflow
 * policies and expiry (userspace/kmqttd/sesstab.c), the store's session tables
 * (userspace/kmqttd/store.c): migration from schema version 1, queue order across a
 * close and reopen, deletion, at-rest encryption; the options' syntax (lib/conf.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>
#include "conf.h"
#include "sesstab.h"
#include "store.h"

#define MARKER "kmqtt-unit-SESSION-payload-93d0"

struct fixture {
	char dir[64];
	char path[128];
	char key[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/kmqtt-session-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/kmqtt.db", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/key", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* ---- the session table ---- */

static enum sess_enq enq(struct sesstab *t, struct sess *s, const char *topic, const char *payload,
			 uint32_t flags, uint16_t pid, struct smsg **evicted)
{
	struct smsg_in in = { .topic = topic, .topic_len = (uint16_t)strlen(topic),
			      .payload = (const uint8_t *)payload,
			      .payload_len = (uint32_t)strlen(payload), .qos = 1, .flags = flags,
			      .packet_id = pid };
	struct smsg *q, *ev = NULL;
	enum sess_enq e = sess_enqueue(t, s, &in, &q, &ev);

	if (evicted)
		*evicted = ev;
	else
		smsg_free_list(ev);
	if (e == SESS_ENQ_QUEUED) {
		assert_non_null(q);
		assert_int_equal(q->topic_len, strlen(topic));
	}
	return e;
}

/* The queue's payloads, joined with ',' */
static void queue_str(const struct sess *s, char *buf, size_t cap)
{
	size_t o = 0;

	buf[0] = 0;
	for (const struct smsg *m = s->head; m; m = m->next)
		o += (size_t)snprintf(buf + o, cap - o, "%s%.*s", o ? "," : "", (int)m->payload_len,
				      (const char *)m->data + m->topic_len);
}

static void check_counts(const struct sesstab *t, const struct sess *s)
{
	uint32_t n = 0;
	uint64_t b = 0;
	const struct smsg *last = NULL;

	for (const struct smsg *m = s->head; m; m = m->next) {
		n++;
		b += smsg_size(m);
		if (last)
			assert_true(m->seq > last->seq);
		last = m;
	}
	assert_ptr_equal(s->tail, last);
	assert_int_equal(s->n_msgs, n);
	assert_int_equal(s->bytes, b);
	(void)t;
}

static void test_table_basics(void **state)
{
	struct sesstab t;
	struct sess *a, *b;
	char id[32], q[256];

	(void)state;
	assert_int_equal(sesstab_init(&t, 42), 0);
	a = sess_get(&t, "alpha");
	assert_non_null(a);
	assert_ptr_equal(sess_get(&t, "alpha"), a);
	assert_null(sess_find(&t, "beta"));
	/* Many sessions: the table grows and every one is still found. */
	for (int i = 0; i < 5000; i++) {
		snprintf(id, sizeof(id), "client-%d", i);
		assert_non_null(sess_get(&t, id));
	}
	assert_int_equal(t.n, 5001);
	for (int i = 0; i < 5000; i += 97) {
		snprintf(id, sizeof(id), "client-%d", i);
		b = sess_find(&t, id);
		assert_non_null(b);
		assert_string_equal(b->client_id, id);
	}
	assert_ptr_equal(sess_find(&t, "alpha"), a);
	/* Too long a client id is refused. */
	{
		char longid[SESS_MAX_CLIENT_ID + 2];

		memset(longid, 'x', sizeof(longid) - 1);
		longid[sizeof(longid) - 1] = 0;
		assert_null(sess_get(&t, longid));
	}
	assert_int_equal(enq(&t, a, "t/1", "one", 0, 0, NULL), SESS_ENQ_QUEUED);
	assert_int_equal(enq(&t, a, "t/2", "two", 0, 0, NULL), SESS_ENQ_QUEUED);
	assert_int_equal(t.total_msgs, 2);
	assert_int_equal(t.total_bytes, 12);
	/* Pop and push back restore the queue exactly. */
	{
		struct smsg *m = sess_pop_head(&t, a);

		assert_int_equal(t.total_msgs, 1);
		sess_push_head(&t, a, m);
	}
	queue_str(a, q, sizeof(q));
	assert_string_equal(q, "one,two");
	check_counts(&t, a);
	sess_remove(&t, a);
	assert_null(sess_find(&t, "alpha"));
	assert_int_equal(t.total_msgs, 0);
	assert_int_equal(t.total_bytes, 0);
	sesstab_free(&t);
}

static void test_state_replaced(void **state)
{
	struct kmq_store_sub subs[2] = { { "a/#", 3, 1 }, { "b/+", 3, 2 } };
	uint16_t ids[3] = { 7, 8, 9 };
	struct sesstab t;
	struct sess *s;

	(void)state;
	assert_int_equal(sesstab_init(&t, 1), 0);
	s = sess_get(&t, "c");
	assert_int_equal(sess_set_state(s, subs, 2, ids, 3), 0);
	assert_int_equal(s->n_subs, 2);
	assert_memory_equal(s->subs[1].filter, "b/+", 3);
	assert_int_equal(s->subs[1].qos, 2);
	assert_int_equal(s->qos2[2], 9);
	/* Wholesale: the next state replaces, not merges. */
	assert_int_equal(sess_set_state(s, subs, 1, NULL, 0), 0);
	assert_int_equal(s->n_subs, 1);
	assert_int_equal(s->n_qos2, 0);
	assert_memory_equal(s->subs[0].filter, "a/#", 3);
	sesstab_free(&t);
}

static void test_limit_drop_newest(void **state)
{
	struct sesstab t;
	struct sess *s, *o;
	char q[256];

	(void)state;
	assert_int_equal(sesstab_init(&t, 3), 0);
	t.lim = (struct sess_limits){ .max_msgs = 3 };
	s = sess_get(&t, "s");
	assert_int_equal(enq(&t, s, "t", "1", 0, 0, NULL), SESS_ENQ_QUEUED);
	assert_int_equal(enq(&t, s, "t", "2", 0, 0, NULL), SESS_ENQ_QUEUED);
	assert_int_equal(enq(&t, s, "t", "3", 0, 0, NULL), SESS_ENQ_QUEUED);
	assert_int_equal(enq(&t, s, "t", "4", 0, 0, NULL), SESS_ENQ_DROPPED);
	/* What an ended connection owed is never dropped, whatever the limits. */
	assert_int_equal(enq(&t, s, "t", "D", SESS_F_DUP, 5, NULL), SESS_ENQ_QUEUED);
	assert_int_equal(enq(&t, s, "", "", SESS_F_PUBREL, 6, NULL), SESS_ENQ_QUEUED);
	assert_int_equal(enq(&t, s, "t", "5", 0, 0, NULL), SESS_ENQ_DROPPED);
	queue_str(s, q, sizeof(q));
	assert_string_equal(q, "1,2,3,D,");
	check_counts(&t, s);

	/* Bytes per session (topic + payload). */
	t.lim = (struct sess_limits){ .max_bytes = 10 };
	o = sess_get(&t, "bytes");
	assert_int_equal(enq(&t, o, "ab", "cdef", 0, 0, NULL), SESS_ENQ_QUEUED);	/* 6 */
	assert_int_equal(enq(&t, o, "ab", "cde", 0, 0, NULL), SESS_ENQ_DROPPED);	/* 11 */
	assert_int_equal(enq(&t, o, "ab", "cd", 0, 0, NULL), SESS_ENQ_QUEUED);	/* 10 */
	assert_int_equal(o->bytes, 10);

	/* All queues together. */
	t.lim = (struct sess_limits){ .max_total = t.total_bytes + 4 };
	assert_int_equal(enq(&t, sess_get(&t, "x"), "x", "abc", 0, 0, NULL), SESS_ENQ_QUEUED);
	assert_int_equal(enq(&t, sess_get(&t, "y"), "y", "a", 0, 0, NULL), SESS_ENQ_DROPPED);
	sesstab_free(&t);
}

static void test_limit_drop_oldest(void **state)
{
	struct sesstab t;
	struct smsg *ev;
	struct sess *s, *o;
	char q[256];

	(void)state;
	assert_int_equal(sesstab_init(&t, 4), 0);
	t.lim = (struct sess_limits){ .max_msgs = 3, .drop_oldest = true };
	s = sess_get(&t, "s");
	assert_int_equal(enq(&t, s, "t", "D", SESS_F_DUP, 9, NULL), SESS_ENQ_QUEUED);
	assert_int_equal(enq(&t, s, "t", "1", 0, 0, NULL), SESS_ENQ_QUEUED);
	assert_int_equal(enq(&t, s, "t", "2", 0, 0, NULL), SESS_ENQ_QUEUED);
	assert_int_equal(enq(&t, s, "t", "3", 0, 0, &ev), SESS_ENQ_QUEUED);
	/* The oldest droppable one went; the owed DUP entry was passed over. */
	assert_non_null(ev);
	assert_null(ev->next);
	assert_memory_equal(ev->data + ev->topic_len, "1", 1);
	smsg_free_list(ev);
	assert_int_equal(enq(&t, s, "t", "4", 0, 0, &ev), SESS_ENQ_QUEUED);
	assert_memory_equal(ev->data + ev->topic_len, "2", 1);
	smsg_free_list(ev);
	queue_str(s, q, sizeof(q));
	assert_string_equal(q, "D,3,4");
	check_counts(&t, s);

	/* Several go when one is not enough (bytes). */
	t.lim = (struct sess_limits){ .max_bytes = 8, .drop_oldest = true };
	o = sess_get(&t, "bytes");
	assert_int_equal(enq(&t, o, "a", "b", 0, 0, NULL), SESS_ENQ_QUEUED);	/* 2 */
	assert_int_equal(enq(&t, o, "a", "c", 0, 0, NULL), SESS_ENQ_QUEUED);	/* 4 */
	assert_int_equal(enq(&t, o, "a", "d", 0, 0, NULL), SESS_ENQ_QUEUED);	/* 6 */
	assert_int_equal(enq(&t, o, "a", "efghi", 0, 0, &ev), SESS_ENQ_QUEUED);	/* 6 */
	assert_non_null(ev);
	assert_non_null(ev->next);
	assert_null(ev->next->next);
	smsg_free_list(ev);
	queue_str(o, q, sizeof(q));
	assert_string_equal(q, "d,efghi");
	check_counts(&t, o);
	/* Larger than the limit alone: dropped, and nothing else is. */
	assert_int_equal(enq(&t, o, "a", "0123456789", 0, 0, &ev), SESS_ENQ_DROPPED);
	assert_null(ev);
	queue_str(o, q, sizeof(q));
	assert_string_equal(q, "d,efghi");

	/* Only owed entries queued: nothing can make room, the new one is dropped. */
	t.lim = (struct sess_limits){ .max_msgs = 1, .drop_oldest = true };
	o = sess_get(&t, "owed");
	assert_int_equal(enq(&t, o, "t", "D", SESS_F_DUP, 1, NULL), SESS_ENQ_QUEUED);
	assert_int_equal(enq(&t, o, "t", "n", 0, 0, &ev), SESS_ENQ_DROPPED);
	assert_null(ev);
	assert_int_equal(o->n_msgs, 1);
	sesstab_free(&t);
}

static void test_expiry(void **state)
{
	struct sess s = { .offline_since = 1000 };
	int64_t v;

	(void)state;
	assert_false(sess_expired(&s, 1000 + 3599, 3600));
	assert_true(sess_expired(&s, 1000 + 3600, 3600));
	assert_false(sess_expired(&s, 1000 + 999999, 0));	/* never */
	s.offline_since = 0;					/* online */
	assert_false(sess_expired(&s, 1000 + 999999, 3600));
	s.offline_since = 1000;
	s.handoff = true;					/* connecting now */
	assert_false(sess_expired(&s, 1000 + 999999, 3600));

	/* mosquitto's syntax. */
	assert_int_equal(kmq_conf_parse_expiration("2h", &v), 0);
	assert_int_equal(v, 7200);
	assert_int_equal(kmq_conf_parse_expiration("14d", &v), 0);
	assert_int_equal(v, 14 * 86400);
	assert_int_equal(kmq_conf_parse_expiration("1w", &v), 0);
	assert_int_equal(v, 7 * 86400);
	assert_int_equal(kmq_conf_parse_expiration("2m", &v), 0);
	assert_int_equal(v, 60 * 86400);
	assert_int_equal(kmq_conf_parse_expiration("1y", &v), 0);
	assert_int_equal(v, 365 * 86400);
	assert_int_equal(kmq_conf_parse_expiration("10", &v), -1);
	assert_int_equal(kmq_conf_parse_expiration("0d", &v), -1);
	assert_int_equal(kmq_conf_parse_expiration("-1d", &v), -1);
	assert_int_equal(kmq_conf_parse_expiration("3s", &v), -1);
	assert_int_equal(kmq_conf_parse_expiration("d", &v), -1);
	assert_int_equal(kmq_conf_parse_expiration("1dd", &v), -1);
	assert_int_equal(kmq_conf_parse_expiration(" 1d", &v), -1);
}

static void test_conf_options(void **state)
{
	char path[] = "/tmp/kmqtt-test-sconf-XXXXXX", err[640];
	const char *text = "max_queued_bytes 1000\nmax_queued_bytes_total 2048\n"
			   "queue_overflow drop_oldest\npersistent_client_expiration 3d\n";
	struct kmq_conf c;
	FILE *f = fdopen(mkstemp(path), "w");

	(void)state;
	kmq_conf_init(&c);
	assert_int_equal(c.max_queued_bytes, 0);
	assert_int_equal(c.max_queued_bytes_total, 256ULL << 20);
	assert_false(c.queue_drop_oldest);
	assert_int_equal(c.persistent_client_expiration, 0);
	kmq_conf_free(&c);
	fwrite(text, 1, strlen(text), f);
	fclose(f);
	kmq_conf_init(&c);
	assert_int_equal(kmq_conf_load(path, &c, err, sizeof(err)), 0);
	assert_int_equal(c.max_queued_bytes, 1000);
	assert_int_equal(c.max_queued_bytes_total, 2048);
	assert_true(c.queue_drop_oldest);
	assert_int_equal(c.persistent_client_expiration, 3 * 86400);
	kmq_conf_free(&c);
	f = fopen(path, "w");
	fputs("# x\npersistent_client_expiration 5\n", f);
	fclose(f);
	kmq_conf_init(&c);
	assert_int_equal(kmq_conf_load(path, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2: persistent_client_expiration must be"));
	kmq_conf_free(&c);
	f = fopen(path, "w");
	fputs("queue_overflow drop_all\n", f);
	fclose(f);
	kmq_conf_init(&c);
	assert_int_equal(kmq_conf_load(path, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":1: queue_overflow must be drop_newest or drop_oldest"));
	kmq_conf_free(&c);
	f = fopen(path, "w");
	fputs("max_queued_bytes_total 10\n", f);
	fclose(f);
	kmq_conf_init(&c);
	assert_int_equal(kmq_conf_load(path, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":1: 'max_queued_bytes_total' must be a number of bytes"));
	kmq_conf_free(&c);
	unlink(path);
}

/* ---- the store ---- */

struct loaded {
	int n_sess, n_msg;
	char id[8][64];
	int64_t offline[8];
	uint32_t n_subs[8];
	char sub0[8][64];
	uint32_t n_qos2[8];
	uint16_t qos2_last[8];
	char msg_id[64][64];
	uint64_t seq[64];
	char topic[64][64];
	char payload[64][128];
	uint32_t flags[64];
	uint16_t pid[64];
	uint8_t qos[64];
	uint64_t owed[64];
};

static int load_sess(void *ctx, const struct kmq_session_rec *r)
{
	struct loaded *l = ctx;

	assert_true(l->n_sess < 8);
	snprintf(l->id[l->n_sess], 64, "%s", r->client_id);
	l->offline[l->n_sess] = r->offline_since;
	l->n_subs[l->n_sess] = r->n_subs;
	if (r->n_subs)
		snprintf(l->sub0[l->n_sess], 64, "%.*s/%u", r->subs[0].len, r->subs[0].filter,
			 r->subs[0].qos);
	l->n_qos2[l->n_sess] = r->n_qos2;
	if (r->n_qos2)
		l->qos2_last[l->n_sess] = r->qos2_ids[r->n_qos2 - 1];
	l->n_sess++;
	return 0;
}

static int load_msg(void *ctx, const struct kmq_session_msg_rec *r)
{
	struct loaded *l = ctx;
	int i = l->n_msg;

	assert_true(i < 64);
	snprintf(l->msg_id[i], 64, "%s", r->client_id);
	l->seq[i] = r->seq;
	snprintf(l->topic[i], 64, "%.*s", r->topic_len, r->topic);
	snprintf(l->payload[i], 128, "%.*s", (int)r->payload_len, (const char *)r->payload);
	l->flags[i] = r->flags;
	l->pid[i] = r->packet_id;
	l->qos[i] = r->qos;
	l->owed[i] = r->owed_seq;
	l->n_msg++;
	return 0;
}

static int open_store(struct fixture *f, bool key, struct loaded *l, struct kmq_store **s,
		      char *err)
{
	struct kmq_store_opts o = { .path = f->path, .key_file = key ? f->key : NULL,
				    .load_session = l ? load_sess : NULL,
				    .load_session_msg = l ? load_msg : NULL, .session_ctx = l };
	enum kmq_store_open_result res;

	if (l)
		memset(l, 0, sizeof(*l));
	return kmq_store_open(&o, NULL, NULL, s, &res, err, 1024);
}

static void done_cb(void *ctx, uint64_t cookie, int err)
{
	int *n = ctx;

	(void)cookie;
	assert_int_equal(err, 0);
	(*n)++;
}

static void wait_done(struct kmq_store *s, int n)
{
	struct pollfd p = { .fd = kmq_store_fd(s), .events = POLLIN };
	int got = 0;

	while (got < n) {
		assert_true(poll(&p, 1, 10000) == 1);
		kmq_store_reap(s, done_cb, &got);
	}
	assert_int_equal(got, n);
}

static void put_sess(struct kmq_store *s, const char *id, int64_t offline, const char *filter)
{
	struct kmq_store_sub sub = { .filter = filter, .len = (uint16_t)strlen(filter), .qos = 2 };
	uint16_t ids[2] = { 11, 65535 };
	struct kmq_session_rec r = { .client_id = id, .offline_since = offline, .subs = &sub,
				     .n_subs = 1, .qos2_ids = ids, .n_qos2 = 2 };

	assert_int_equal(kmq_store_session_put(s, &r, 0), 0);
}

static void put_msg(struct kmq_store *s, const char *id, uint64_t seq, const char *topic,
		    const char *payload, uint32_t flags, uint16_t pid)
{
	struct kmq_session_msg_rec r = { .client_id = id, .seq = seq, .topic = topic,
					 .topic_len = (uint16_t)strlen(topic),
					 .payload = (const uint8_t *)payload,
					 .payload_len = (uint32_t)strlen(payload), .qos = 2,
					 .flags = flags, .packet_id = pid };

	assert_int_equal(kmq_store_session_msg_put(s, &r, seq), 0);
}

static int64_t sql_int(const char *path, const char *q)
{
	sqlite3_stmt *st;
	sqlite3 *db;
	int64_t v;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void sql(const char *path, const char *q)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* A store as kmqttd with schema version 1 wrote it gains the session tables. */
static void test_migrate_from_v1(void **state)
{
	struct fixture *f = *state;
	struct kmq_store *s;
	struct loaded l;
	char err[1024];

	sql(f->path, "PRAGMA journal_mode = WAL;"
		     "CREATE TABLE meta(name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;"
		     "CREATE TABLE retained(topic BLOB PRIMARY KEY, qos INTEGER NOT NULL,"
		     " stored_at INTEGER NOT NULL, payload BLOB NOT NULL) WITHOUT ROWID;"
		     "INSERT INTO retained VALUES (CAST('r/1' AS BLOB), 1, 1700000000, CAST('kept' AS BLOB));"
		     "PRAGMA user_version = 1");
	assert_int_equal(open_store(f, false, &l, &s, err), 0);
	assert_int_equal(l.n_sess, 0);
	put_sess(s, "after-migration", 5, "x/#");
	kmq_store_close(s);
	assert_int_equal(sql_int(f->path, "PRAGMA user_version"), 3);
	assert_int_equal(KMQ_STORE_SCHEMA_VERSION, 3);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM retained"), 1);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM sessions"), 1);
	assert_int_equal(sql_int(f->path, "SELECT count(*) FROM session_msgs"), 0);
	assert_int_equal(open_store(f, false, &l, &s, err), 0);
	assert_int_equal(l.n_sess, 1);
	assert_string_equal(l.id[0], "after-migration");
	kmq_store_close(s);
}

/*
 * A version 2 store (no owed-message numbers) is migrated: its queued messages load with
 * none; a number stored from then on comes back after a reopen, encrypted or not.
 */
static void test_migrate_from_v2_owed_seq(void **state)
{
	struct fixture *f = *state;
	struct kmq_session_msg_rec r = { .client_id = "o", .seq = 2, .topic = "t/o",
					 .topic_len = 3, .payload = (const uint8_t *)"owed",
					 .payload_len = 4, .qos = 2, .flags = SESS_F_DUP,
					 .packet_id = 7, .owed_seq = 1765000000123456ULL };
	struct kmq_store *s;
	struct loaded l;
	char err[1024];

	sql(f->path, "PRAGMA journal_mode = WAL;"
		     "CREATE TABLE meta(name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;"
		     "CREATE TABLE retained(topic BLOB PRIMARY KEY, qos INTEGER NOT NULL,"
		     " stored_at INTEGER NOT NULL, payload BLOB NOT NULL) WITHOUT ROWID;"
		     "CREATE TABLE sessions(client_id BLOB PRIMARY KEY, offline_since INTEGER NOT NULL,"
		     " subs BLOB NOT NULL, qos2_ids BLOB NOT NULL) WITHOUT ROWID;"
		     "CREATE TABLE session_msgs(client_id BLOB NOT NULL, seq INTEGER NOT NULL,"
		     " qos INTEGER NOT NULL, flags INTEGER NOT NULL, packet_id INTEGER NOT NULL,"
		     " topic BLOB NOT NULL, payload BLOB NOT NULL, PRIMARY KEY(client_id, seq)) WITHOUT ROWID;"
		     "INSERT INTO sessions VALUES (CAST('o' AS BLOB), 5, x'', x'');"
		     "INSERT INTO session_msgs VALUES (CAST('o' AS BLOB), 1, 1, 0, 0,"
		     " CAST('t/v2' AS BLOB), CAST('old' AS BLOB));"
		     "PRAGMA user_version = 2");
	assert_int_equal(open_store(f, false, &l, &s, err), 0);
	assert_int_equal(sql_int(f->path, "PRAGMA user_version"), 3);
	assert_int_equal(l.n_msg, 1);
	assert_string_equal(l.payload[0], "old");
	assert_int_equal(l.owed[0], 0);
	assert_int_equal(kmq_store_session_msg_put(s, &r, 1), 0);
	wait_done(s, 1);
	kmq_store_close(s);
	assert_int_equal(open_store(f, false, &l, &s, err), 0);
	assert_int_equal(l.n_msg, 2);
	assert_int_equal(l.owed[0], 0);
	assert_string_equal(l.payload[1], "owed");
	assert_int_equal(l.owed[1], 1765000000123456ULL);
	assert_int_equal(l.pid[1], 7);
	kmq_store_close(s);
	/* A negative number is damage, not a message. */
	sql(f->path, "UPDATE session_msgs SET owed_seq = -1 WHERE seq = 1");
	assert_int_equal(open_store(f, false, &l, &s, err), -1);
	assert_non_null(strstr(err, "session message is malformed"));
}

/* The queue comes back in order, with every field, after a close and a reopen. */
static void test_queue_order_across_reopen(void **state)
{
	struct fixture *f = *state;
	struct kmq_store *s;
	struct loaded l;
	char err[1024], p[32];

	assert_int_equal(open_store(f, false, NULL, &s, err), 0);
	put_sess(s, "c1", 1700000100, "a/+/c");
	put_sess(s, "c2", 0, "z");
	/* Interleaved sessions, sequence numbers increasing across them (as kmqttd does). */
	put_msg(s, "c1", 1, "t/dup", "owed", SESS_F_DUP, 17);
	put_msg(s, "c1", 2, "", "", SESS_F_PUBREL, 18);
	for (uint64_t i = 3; i <= 20; i++) {
		snprintf(p, sizeof(p), "m%02llu", (unsigned long long)i);
		put_msg(s, i % 2 ? "c1" : "c2", i, "t/x", p, 0, 0);
	}
	/* Delivered ones go (a prefix), and one dropped in the middle. */
	assert_int_equal(kmq_store_session_msg_del(s, "c2", 0, 6, 0), 0);
	assert_int_equal(kmq_store_session_msg_del(s, "c1", 9, 9, 0), 0);
	wait_done(s, 2 + 20 + 2);
	kmq_store_close(s);

	assert_int_equal(open_store(f, false, &l, &s, err), 0);
	assert_int_equal(l.n_sess, 2);
	for (int i = 0; i < 2; i++) {
		if (!strcmp(l.id[i], "c1")) {
			assert_int_equal(l.offline[i], 1700000100);
			assert_string_equal(l.sub0[i], "a/+/c/2");
		} else {
			assert_string_equal(l.id[i], "c2");
			assert_int_equal(l.offline[i], 0);
		}
		assert_int_equal(l.n_qos2[i], 2);
		assert_int_equal(l.qos2_last[i], 65535);
	}
	/* 20 - c2's 4 and 6 - c1's 9 = 17, in sequence order. */
	assert_int_equal(l.n_msg, 17);
	for (int i = 1; i < l.n_msg; i++)
		assert_true(l.seq[i] > l.seq[i - 1]);
	assert_string_equal(l.msg_id[0], "c1");
	assert_int_equal(l.flags[0], SESS_F_DUP);
	assert_int_equal(l.pid[0], 17);
	assert_string_equal(l.topic[0], "t/dup");
	assert_string_equal(l.payload[0], "owed");
	assert_int_equal(l.flags[1], SESS_F_PUBREL);
	assert_int_equal(l.pid[1], 18);
	assert_string_equal(l.topic[1], "");
	assert_int_equal(l.qos[1], 2);
	assert_int_equal(l.seq[2], 3);
	assert_int_equal(l.seq[3], 5);
	assert_int_equal(l.seq[4], 7);
	assert_int_equal(l.seq[5], 8);	/* c2's first kept one */
	assert_string_equal(l.msg_id[5], "c2");
	assert_int_equal(l.seq[6], 10);	/* 9 was removed */
	assert_string_equal(l.payload[16], "m20");

	/* Deleting a session takes its messages along. */
	assert_int_equal(kmq_store_session_del(s, "c1", 0), 0);
	wait_done(s, 1);
	kmq_store_close(s);
	assert_int_equal(open_store(f, false, &l, &s, err), 0);
	assert_int_equal(l.n_sess, 1);
	assert_string_equal(l.id[0], "c2");
	assert_int_equal(l.n_msg, 7);
	for (int i = 0; i < l.n_msg; i++)
		assert_string_equal(l.msg_id[i], "c2");
	kmq_store_close(s);
}

/* A session message that does not make sense is damage, not loaded. */
static void test_malformed_refused(void **state)
{
	struct fixture *f = *state;
	struct kmq_store *s;
	struct loaded l;
	char err[1024];

	assert_int_equal(open_store(f, false, NULL, &s, err), 0);
	put_sess(s, "c", 1, "f");
	put_msg(s, "c", 1, "t", "p", 0, 0);
	kmq_store_close(s);
	sql(f->path, "UPDATE session_msgs SET qos = 0");
	assert_int_equal(open_store(f, false, &l, &s, err), -1);
	assert_non_null(strstr(err, "session message is malformed"));
	assert_int_equal(l.n_msg, 0);
	sql(f->path, "UPDATE session_msgs SET qos = 1; UPDATE sessions SET subs = x'0100'");
	assert_int_equal(open_store(f, false, &l, &s, err), -1);
	assert_non_null(strstr(err, "a session is malformed"));
}

static void write_key(struct fixture *f)
{
	static const char key[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
	int fd = open(f->key, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, key, strlen(key)), (ssize_t)strlen(key));
	close(fd);
}

static int count_in_file(const char *path, const char *needle)
{
	FILE *fp = fopen(path, "rb");
	size_t nl = strlen(needle), len;
	char *buf;
	int n = 0;

	if (!fp)
		return 0;
	fseek(fp, 0, SEEK_END);
	len = (size_t)ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc(len + 1);
	assert_int_equal(fread(buf, 1, len, fp), len);
	fclose(fp);
	for (size_t i = 0; i + nl <= len; i++)
		n += !memcmp(buf + i, needle, nl);
	free(buf);
	return n;
}

static int count_in_store(struct fixture *f, const char *needle)
{
	char p[160];
	int n = count_in_file(f->path, needle);

	snprintf(p, sizeof(p), "%s-wal", f->path);
	return n + count_in_file(p, needle);
}

static void test_encrypted(void **state)
{
	struct fixture *f = *state;
	struct kmq_store *s;
	struct loaded l;
	char err[1024];

	write_key(f);
	assert_int_equal(open_store(f, true, NULL, &s, err), 0);
	put_sess(s, "enc", 9, "sec/#");
	put_msg(s, "enc", 1, "sec/a", MARKER "-1", 0, 0);
	put_msg(s, "enc", 2, "sec/b", MARKER "-2", SESS_F_DUP, 3);
	put_msg(s, "enc", 3, "", "", SESS_F_PUBREL, 4);
	wait_done(s, 4);
	/* Committed: the payloads are in neither the WAL nor the database; topics are. */
	assert_int_equal(count_in_store(f, MARKER), 0);
	assert_true(count_in_store(f, "sec/a") > 0);
	kmq_store_close(s);
	assert_int_equal(count_in_store(f, MARKER), 0);

	assert_int_equal(open_store(f, true, &l, &s, err), 0);
	assert_int_equal(l.n_msg, 3);
	assert_string_equal(l.payload[0], MARKER "-1");
	assert_string_equal(l.payload[1], MARKER "-2");
	assert_int_equal(l.flags[2], SESS_F_PUBREL);
	kmq_store_close(s);

	/* Without the key the store is refused, as for retained messages. */
	assert_int_equal(open_store(f, false, &l, &s, err), -1);
	assert_non_null(strstr(err, "holds encrypted payloads"));

	/* Every field is bound to the payload: a changed packet id does not decrypt. */
	sql(f->path, "UPDATE session_msgs SET packet_id = 5 WHERE seq = 2");
	assert_int_equal(open_store(f, true, &l, &s, err), -1);
	assert_non_null(strstr(err, "does not decrypt"));
	assert_non_null(strstr(err, "'enc'"));
	assert_int_equal(l.n_msg, 0);	/* nothing loaded from a damaged store */
}

/* The counterpart: without a key the payload is found in the file. */
static void test_plain_finds_payload(void **state)
{
	struct fixture *f = *state;
	struct kmq_store *s;
	char err[1024];

	assert_int_equal(open_store(f, false, NULL, &s, err), 0);
	put_sess(s, "plain", 9, "p");
	put_msg(s, "plain", 1, "p", MARKER, 0, 0);
	kmq_store_close(s);
	assert_true(count_in_store(f, MARKER) > 0);
	/* And such a store is not mixed with encrypted records. */
	write_key(f);
	assert_int_equal(open_store(f, true, NULL, &s, err), -1);
	assert_non_null(strstr(err, "unencrypted payloads"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_basics),
		cmocka_unit_test(test_state_replaced),
		cmocka_unit_test(test_limit_drop_newest),
		cmocka_unit_test(test_limit_drop_oldest),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_conf_options),
		cmocka_unit_test_setup_teardown(test_migrate_from_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_from_v2_owed_seq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_order_across_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_encrypted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plain_finds_payload, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

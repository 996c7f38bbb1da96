// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kmqttd's persistent store (userspace/kmqttd/store.c): creation, migration, group
 * commit, damaged files and the set-aside option, at-rest encryption.
 */
#include <dirent.h>
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
#include "store.h"

#define MARKER "kmqtt-unit-PLAINTEXT-payload-6c1e"

struct fixture {
	char dir[64];
	char path[128];
	char key[128];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/kmqtt-store-XXXXXX");
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

/* ---- helpers ---- */

struct loaded {
	int n;
	char topic[8][64];
	char payload[8][256];
	uint8_t qos[8];
	int64_t at[8];
};

static int load_cb(void *ctx, const struct kmq_retained_rec *r)
{
	struct loaded *l = ctx;

	assert_true(l->n < 8);
	snprintf(l->topic[l->n], 64, "%.*s", r->topic_len, r->topic);
	snprintf(l->payload[l->n], 256, "%.*s", (int)r->payload_len, (const char *)r->payload);
	l->qos[l->n] = r->qos;
	l->at[l->n] = r->stored_at;
	l->n++;
	return 0;
}

static int count_cb(void *ctx, const struct kmq_retained_rec *r)
{
	(void)r;
	(*(int *)ctx)++;
	return 0;
}

static int open_store(struct fixture *f, bool key, bool aside, kmq_store_load_fn fn, void *ctx,
		      struct kmq_store **s, enum kmq_store_open_result *res, char *err)
{
	struct kmq_store_opts o = { .path = f->path, .key_file = key ? f->key : NULL,
				    .set_aside_damaged = aside };

	return kmq_store_open(&o, fn, ctx, s, res, err, 1024);
}

struct done {
	int n;
	int errors;
	uint64_t last;
};

static void done_cb(void *ctx, uint64_t cookie, int err)
{
	struct done *d = ctx;

	/* Completions come back in the order the writes were queued. */
	if (d->n)
		assert_true(cookie > d->last);
	d->last = cookie;
	d->n++;
	d->errors += err != 0;
}

static void wait_done(struct kmq_store *s, struct done *d, int n)
{
	struct pollfd p = { .fd = kmq_store_fd(s), .events = POLLIN };

	while (d->n < n) {
		assert_true(poll(&p, 1, 10000) == 1);
		kmq_store_reap(s, done_cb, d);
	}
	assert_int_equal(d->n, n);
}

static void put(struct kmq_store *s, const char *topic, const char *payload, uint8_t qos,
		uint64_t cookie)
{
	struct kmq_retained_rec r = { .topic = topic, .topic_len = (uint16_t)strlen(topic),
				      .payload = (const uint8_t *)payload,
				      .payload_len = (uint32_t)strlen(payload), .qos = qos,
				      .stored_at = 1700000000 + (int64_t)cookie };

	assert_int_equal(kmq_store_retained_put(s, &r, cookie), 0);
}

static void sql(const char *path, const char *q)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, q, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void write_key(struct fixture *f, const char *hex, mode_t mode)
{
	int fd = open(f->key, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, hex, strlen(hex)), (ssize_t)strlen(hex));
	close(fd);
	assert_int_equal(chmod(f->key, mode), 0);
}

static const char key1[] = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
static const char key2[] = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100\n";

/* Occurrences of @needle in @path (0 if the file is missing). */
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
	n += count_in_file(p, needle);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	return n + count_in_file(p, needle);
}

static bool set_aside_exists(struct fixture *f)
{
	DIR *d = opendir(f->dir);
	struct dirent *e;
	bool found = false;

	while ((e = readdir(d)))
		found |= !strncmp(e->d_name, "kmqtt.db.damaged-", 17) && !strchr(e->d_name + 17, '-');
	closedir(d);
	return found;
}

/* ---- tests ---- */

static void test_create_and_reopen(void **state)
{
	struct fixture *f = *state;
	enum kmq_store_open_result res;
	struct kmq_store *s;
	struct stat sb;
	char err[1024];
	int n = 0;

	assert_int_equal(open_store(f, false, false, count_cb, &n, &s, &res, err), 0);
	assert_int_equal(res, KMQ_STORE_CREATED);
	kmq_store_close(s);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(open_store(f, false, false, count_cb, &n, &s, &res, err), 0);
	assert_int_equal(res, KMQ_STORE_OPENED);
	assert_int_equal(n, 0);
	kmq_store_close(s);
}

static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	enum kmq_store_open_result res;
	struct loaded l = { 0 };
	struct done d = { 0 };
	struct kmq_store_stats st;
	struct kmq_store *s;
	char err[1024];

	assert_int_equal(open_store(f, false, false, NULL, NULL, &s, &res, err), 0);
	put(s, "a/b", "one", 1, 1);
	put(s, "a/b", "two", 0, 2);	/* replaces */
	put(s, "c", "gone", 1, 3);
	put(s, "c", "", 0, 4);		/* deletes */
	put(s, "$SYS/x", "dollar", 1, 5);
	wait_done(s, &d, 5);
	assert_int_equal(d.errors, 0);
	kmq_store_get_stats(s, &st);
	assert_int_equal(st.writes, 5);
	assert_int_equal(st.queued, 0);
	assert_false(st.encrypted);
	kmq_store_close(s);

	assert_int_equal(open_store(f, false, false, load_cb, &l, &s, &res, err), 0);
	assert_int_equal(l.n, 2);
	for (int i = 0; i < 2; i++) {
		if (!strcmp(l.topic[i], "a/b")) {
			assert_string_equal(l.payload[i], "two");
			assert_int_equal(l.qos[i], 0);
			assert_int_equal(l.at[i], 1700000002);
		} else {
			assert_string_equal(l.topic[i], "$SYS/x");
			assert_string_equal(l.payload[i], "dollar");
			assert_int_equal(l.qos[i], 1);
		}
	}
	kmq_store_close(s);
}

/* Writes queued while a transaction is held up share one commit. */
static void test_group_commit(void **state)
{
	struct fixture *f = *state;
	enum kmq_store_open_result res;
	struct kmq_store_stats st;
	struct done d = { 0 };
	struct kmq_store *s;
	sqlite3 *other;
	char err[1024], t[32];
	int n = 0;

	assert_int_equal(open_store(f, false, false, NULL, NULL, &s, &res, err), 0);
	/* Another connection holds the write lock: the writer waits in its BEGIN. */
	assert_int_equal(sqlite3_open(f->path, &other), SQLITE_OK);
	assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
	put(s, "first", "x", 0, 1);
	usleep(200 * 1000);
	for (int i = 2; i <= 100; i++) {
		snprintf(t, sizeof(t), "t/%d", i);
		put(s, t, "payload", 1, (uint64_t)i);
	}
	kmq_store_get_stats(s, &st);
	assert_true(st.queued >= 99);
	assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(other);
	wait_done(s, &d, 100);
	assert_int_equal(d.errors, 0);
	kmq_store_get_stats(s, &st);
	assert_int_equal(st.writes, 100);
	/* The first write's batch, then all 99 queued behind it in one. */
	assert_true(st.batches <= 2);
	assert_true(st.max_batch >= 99);
	kmq_store_close(s);
	assert_int_equal(open_store(f, false, false, count_cb, &n, &s, &res, err), 0);
	assert_int_equal(n, 100);
	kmq_store_close(s);
}

/* Writes still queued at close are committed. */
static void test_close_flushes(void **state)
{
	struct fixture *f = *state;
	enum kmq_store_open_result res;
	struct kmq_store *s;
	char err[1024], t[32];
	int n = 0;

	assert_int_equal(open_store(f, false, false, NULL, NULL, &s, &res, err), 0);
	for (int i = 0; i < 50; i++) {
		snprintf(t, sizeof(t), "q/%d", i);
		put(s, t, "p", 0, (uint64_t)i + 1);
	}
	kmq_store_close(s);
	assert_int_equal(open_store(f, false, false, count_cb, &n, &s, &res, err), 0);
	assert_int_equal(n, 50);
	kmq_store_close(s);
}

/* A bare SQLite file (version 0, no tables) is migrated to the current schema. */
static void test_migration(void **state)
{
	struct fixture *f = *state;
	enum kmq_store_open_result res;
	struct kmq_store *s;
	sqlite3_stmt *st;
	sqlite3 *db;
	char err[1024];

	sql(f->path, "PRAGMA journal_mode = WAL; CREATE TABLE t(x); DROP TABLE t");
	assert_int_equal(open_store(f, false, false, NULL, NULL, &s, &res, err), 0);
	assert_int_equal(res, KMQ_STORE_OPENED);
	kmq_store_close(s);
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), KMQ_STORE_SCHEMA_VERSION);
	sqlite3_finalize(st);
	assert_int_equal(sqlite3_exec(db, "SELECT count(*) FROM retained", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
}

static void test_newer_schema_refused(void **state)
{
	struct fixture *f = *state;
	enum kmq_store_open_result res;
	struct kmq_store *s;
	char err[1024];

	assert_int_equal(open_store(f, false, false, NULL, NULL, &s, &res, err), 0);
	kmq_store_close(s);
	sql(f->path, "PRAGMA user_version = 99");
	assert_int_equal(open_store(f, false, false, NULL, NULL, &s, &res, err), -1);
	assert_non_null(strstr(err, f->path));
	assert_non_null(strstr(err, "newer kmqttd (schema version 99"));
	/* Not damage: never set aside. */
	assert_int_equal(open_store(f, false, true, NULL, NULL, &s, &res, err), -1);
	assert_false(set_aside_exists(f));
}

static void test_not_a_kmqtt_store(void **state)
{
	struct fixture *f = *state;
	enum kmq_store_open_result res;
	struct kmq_store *s;
	char err[1024];

	sql(f->path, "CREATE TABLE other(x)");
	assert_int_equal(open_store(f, false, true, NULL, NULL, &s, &res, err), -1);
	assert_non_null(strstr(err, "not a kmqtt store"));
}

static void test_garbage(void **state)
{
	struct fixture *f = *state;
	enum kmq_store_open_result res;
	struct kmq_store *s;
	char err[1024], junk[8192];
	int fd, n = 0;

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (char)(i * 131 + 7);
	fd = open(f->path, O_WRONLY | O_CREAT, 0600);
	assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);
	assert_int_equal(open_store(f, false, false, NULL, NULL, &s, &res, err), -1);
	assert_non_null(strstr(err, f->path));
	assert_non_null(strstr(err, "not a database"));
	assert_non_null(strstr(err, "persistence_damaged set_aside"));
	assert_false(set_aside_exists(f));

	assert_int_equal(open_store(f, false, true, count_cb, &n, &s, &res, err), 0);
	assert_int_equal(res, KMQ_STORE_SET_ASIDE);
	assert_true(set_aside_exists(f));
	put(s, "after", "x", 0, 1);
	kmq_store_close(s);
	assert_int_equal(open_store(f, false, false, count_cb, &n, &s, &res, err), 0);
	assert_int_equal(n, 1);
	kmq_store_close(s);
}

static void test_empty_file(void **state)
{
	struct fixture *f = *state;
	enum kmq_store_open_result res;
	struct kmq_store *s;
	char err[1024];

	close(open(f->path, O_WRONLY | O_CREAT, 0600));
	assert_int_equal(open_store(f, false, false, NULL, NULL, &s, &res, err), -1);
	assert_non_null(strstr(err, "empty"));
	assert_int_equal(open_store(f, false, true, NULL, NULL, &s, &res, err), 0);
	assert_int_equal(res, KMQ_STORE_SET_ASIDE);
	kmq_store_close(s);
}

static void test_truncated(void **state)
{
	struct fixture *f = *state;
	enum kmq_store_open_result res;
	struct kmq_store *s;
	char err[1024], t[32], payload[2048];
	struct stat sb;

	memset(payload, 'p', sizeof(payload) - 1);
	payload[sizeof(payload) - 1] = 0;
	assert_int_equal(open_store(f, false, false, NULL, NULL, &s, &res, err), 0);
	for (int i = 0; i < 200; i++) {
		snprintf(t, sizeof(t), "big/%d", i);
		put(s, t, payload, 1, (uint64_t)i + 1);
	}
	kmq_store_close(s);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_true(sb.st_size > 100 * 1024);
	assert_int_equal(truncate(f->path, sb.st_size / 2), 0);
	assert_int_equal(open_store(f, false, false, NULL, NULL, &s, &res, err), -1);
	assert_non_null(strstr(err, f->path));
	assert_non_null(strstr(err, "set_aside"));
	assert_int_equal(open_store(f, false, true, NULL, NULL, &s, &res, err), 0);
	assert_int_equal(res, KMQ_STORE_SET_ASIDE);
	kmq_store_close(s);
}

static void test_encrypted_round_trip(void **state)
{
	struct fixture *f = *state;
	enum kmq_store_open_result res;
	struct kmq_store_stats st;
	struct loaded l = { 0 };
	struct done d = { 0 };
	struct kmq_store *s;
	char err[1024];

	write_key(f, key1, 0600);
	assert_int_equal(open_store(f, true, false, NULL, NULL, &s, &res, err), 0);
	put(s, "sec/a", MARKER "-a", 1, 1);
	put(s, "sec/b", MARKER "-b", 0, 2);
	put(s, "sec/b", MARKER "-c", 0, 3);
	put(s, "sec/d", MARKER "-d", 0, 4);
	put(s, "sec/d", "", 0, 5);
	wait_done(s, &d, 5);
	kmq_store_get_stats(s, &st);
	assert_true(st.encrypted);
	/* Committed: in the WAL now; the payload must not be there, nor in the database. */
	assert_int_equal(count_in_store(f, MARKER), 0);
	assert_true(count_in_store(f, "sec/a") > 0);
	kmq_store_close(s);
	assert_int_equal(count_in_store(f, MARKER), 0);

	assert_int_equal(open_store(f, true, false, load_cb, &l, &s, &res, err), 0);
	assert_int_equal(l.n, 2);
	for (int i = 0; i < 2; i++)
		assert_string_equal(l.payload[i], !strcmp(l.topic[i], "sec/a") ? MARKER "-a" :
				    MARKER "-c");
	kmq_store_close(s);
}

static void test_plain_store_keeps_payload(void **state)
{
	struct fixture *f = *state;
	enum kmq_store_open_result res;
	struct kmq_store *s;
	char err[1024];

	/* The counterpart of the test above: without a key the bytes are found. */
	assert_int_equal(open_store(f, false, false, NULL, NULL, &s, &res, err), 0);
	put(s, "plain", MARKER, 0, 1);
	kmq_store_close(s);
	assert_true(count_in_store(f, MARKER) > 0);
}

static void test_wrong_and_missing_key(void **state)
{
	struct fixture *f = *state;
	enum kmq_store_open_result res;
	struct kmq_store *s;
	char err[1024];

	write_key(f, key1, 0600);
	assert_int_equal(open_store(f, true, false, NULL, NULL, &s, &res, err), 0);
	put(s, "k", "v", 0, 1);
	kmq_store_close(s);

	write_key(f, key2, 0600);
	assert_int_equal(open_store(f, true, true, NULL, NULL, &s, &res, err), -1);
	assert_non_null(strstr(err, "wrong key"));
	assert_non_null(strstr(err, f->key));
	assert_false(set_aside_exists(f));

	assert_int_equal(open_store(f, false, true, NULL, NULL, &s, &res, err), -1);
	assert_non_null(strstr(err, "holds encrypted payloads"));
	assert_false(set_aside_exists(f));

	/* A plain store with records is not silently mixed with encrypted ones. */
	unlink(f->path);
	assert_int_equal(open_store(f, false, false, NULL, NULL, &s, &res, err), 0);
	put(s, "k", "v", 0, 1);
	kmq_store_close(s);
	assert_int_equal(open_store(f, true, false, NULL, NULL, &s, &res, err), -1);
	assert_non_null(strstr(err, "unencrypted payloads"));
}

/* The topic is the additional data: payloads moved between records do not open. */
static void test_swapped_records_refused(void **state)
{
	struct fixture *f = *state;
	enum kmq_store_open_result res;
	struct kmq_store *s;
	char err[1024];

	write_key(f, key1, 0600);
	assert_int_equal(open_store(f, true, false, NULL, NULL, &s, &res, err), 0);
	put(s, "x/1", "first", 0, 1);
	put(s, "x/2", "second", 0, 2);
	kmq_store_close(s);
	sql(f->path, "UPDATE retained SET payload = (SELECT payload FROM retained WHERE topic = "
		     "CAST('x/2' AS BLOB)) WHERE topic = CAST('x/1' AS BLOB)");
	assert_int_equal(open_store(f, true, false, NULL, NULL, &s, &res, err), -1);
	assert_non_null(strstr(err, "does not decrypt"));
	assert_non_null(strstr(err, "x/1"));
}

static void test_key_file_checks(void **state)
{
	struct fixture *f = *state;
	uint8_t key[KMQ_STORE_KEY_LEN];
	uint8_t raw[KMQ_STORE_KEY_LEN];
	char err[1024];
	int fd;

	write_key(f, key1, 0644);
	assert_int_equal(kmq_store_read_key(f->key, key, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "group or others"));
	write_key(f, key1, 0400);
	assert_int_equal(kmq_store_read_key(f->key, key, err, sizeof(err)), 0);
	assert_int_equal(key[0], 0x00);
	assert_int_equal(key[1], 0x11);
	assert_int_equal(key[31], 0xff);
	chmod(f->key, 0600);
	write_key(f, "not a key\n", 0600);
	assert_int_equal(kmq_store_read_key(f->key, key, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "32 random bytes or 64 hexadecimal"));
	/* 32 raw bytes. */
	for (int i = 0; i < KMQ_STORE_KEY_LEN; i++)
		raw[i] = (uint8_t)(i * 7 + 1);
	fd = open(f->key, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, raw, sizeof(raw)), (ssize_t)sizeof(raw));
	close(fd);
	assert_int_equal(kmq_store_read_key(f->key, key, err, sizeof(err)), 0);
	assert_memory_equal(key, raw, sizeof(raw));
	assert_int_equal(kmq_store_read_key("/nonexistent/key", key, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/key"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_and_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_flushes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_kmqtt_store, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_encrypted_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plain_store_keeps_payload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_and_missing_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_swapped_records_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_file_checks, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

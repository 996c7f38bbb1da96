// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The persistent store (see store.h). SQLite in WAL mode with synchronous=FULL: a commit
 * is on disk (WAL fsync'ed) when it returns, which is what lets the daemon confirm a
 * retained message to the module and so the publisher's PUBACK. FULL costs one fsync per
 * transaction; the group commit of the writer thread shares it among every write queued
 * meanwhile. secure_delete=ON zeroes freed content, so a replaced or deleted payload does
 * not linger in free pages.
 *
 * Threads: the event loop owns the queue's producer side and reaps completions; the
 * writer thread alone uses the database connection once kmq_store_open() returned.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sqlite3.h>
#include "log.h"
#include "store.h"

#define NONCE_LEN	12
#define TAG_LEN		16
#define BUSY_TIMEOUT_MS	60000

/* Additional data of the key check and of each kind of record. */
#define AAD_KEY_CHECK	"kmqtt-key-check"
#define AAD_RETAINED	"kmqtt-retained"
#define AAD_SESSION_MSG	"kmqtt-session-msg"

#define MAX_CLIENT_ID	256
#define MAX_TOPIC	1024
#define MAX_SUBS	1024
#define MAX_QOS2	1024
/* enum kmqtt_msg_flags that a session message may carry (DUP, PUBREL). */
#define SMSG_FLAGS	((1U << 9) | (1U << 10))
#define SMSG_F_PUBREL	(1U << 10)

/*
 * Schema migrations: migrations[i] takes the store from version i to i + 1. Append only;
 * never edit a step that was released.
 */
static const char *const migrations[KMQ_STORE_SCHEMA_VERSION] = {
	/* 0 -> 1: metadata (cipher, key check) and retained messages. */
	"CREATE TABLE meta(name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE retained(topic BLOB PRIMARY KEY, qos INTEGER NOT NULL,"
	" stored_at INTEGER NOT NULL, payload BLOB NOT NULL) WITHOUT ROWID;",
	/*
	 * 1 -> 2: persistent sessions. subs is a sequence of (QoS byte, 16-bit big-endian
	 * length, filter); qos2_ids a sequence of 16-bit big-endian packet ids.
	 */
	"CREATE TABLE sessions(client_id BLOB PRIMARY KEY, offline_since INTEGER NOT NULL,"
	" subs BLOB NOT NULL, qos2_ids BLOB NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE session_msgs(client_id BLOB NOT NULL, seq INTEGER NOT NULL,"
	" qos INTEGER NOT NULL, flags INTEGER NOT NULL, packet_id INTEGER NOT NULL,"
	" topic BLOB NOT NULL, payload BLOB NOT NULL, PRIMARY KEY(client_id, seq)) WITHOUT ROWID;",
	/*
	 * 2 -> 3: the module's number of a message an ended connection still owed
	 * (KMQTT_A_OWED_SEQ), so that one it hands over again is known to be stored.
	 */
	"ALTER TABLE session_msgs ADD COLUMN owed_seq INTEGER NOT NULL DEFAULT 0;",
};

enum op_kind { OP_RETAINED_PUT, OP_SESSION_PUT, OP_SESSION_DEL, OP_SMSG_PUT, OP_SMSG_DEL };

struct op {
	struct op *next;
	enum op_kind kind;
	uint64_t cookie;
	int err;
	uint8_t qos;
	int64_t stored_at;	/* retained: when; session: offline since */
	uint16_t topic_len;
	uint32_t payload_len;	/* retained and session message: payload; session: subs blob */
	uint16_t cid_len;	/* session ops: the client id's length */
	uint32_t aux_len;	/* session: the QoS 2 ids blob */
	uint32_t flags;
	uint16_t packet_id;
	uint64_t seq, seq_to;
	uint64_t owed_seq;
	/*
	 * retained: topic, payload; session: client id, subs blob, QoS 2 blob; session
	 * message: client id, topic, payload; deletes: client id.
	 */
	uint8_t data[];
};

/* Prepared statements of the writer. */
enum stmt { ST_RET_PUT, ST_RET_DEL, ST_SESS_PUT, ST_SESS_DEL, ST_SESS_DEL_MSGS, ST_SMSG_PUT,
	    ST_SMSG_DEL, __ST_MAX };

static const char *const stmt_sql[__ST_MAX] = {
	[ST_RET_PUT] = "INSERT OR REPLACE INTO retained(topic, qos, stored_at, payload) VALUES (?, ?, ?, ?)",
	[ST_RET_DEL] = "DELETE FROM retained WHERE topic = ?",
	[ST_SESS_PUT] = "INSERT OR REPLACE INTO sessions(client_id, offline_since, subs, qos2_ids) VALUES (?, ?, ?, ?)",
	[ST_SESS_DEL] = "DELETE FROM sessions WHERE client_id = ?",
	[ST_SESS_DEL_MSGS] = "DELETE FROM session_msgs WHERE client_id = ?",
	[ST_SMSG_PUT] = "INSERT OR REPLACE INTO session_msgs(client_id, seq, qos, flags, packet_id, topic, payload, owed_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
	[ST_SMSG_DEL] = "DELETE FROM session_msgs WHERE client_id = ? AND seq BETWEEN ? AND ?",
};

struct op_list {
	struct op *head, *tail;
};

struct kmq_store {
	sqlite3 *db;
	char *path;
	bool encrypted;
	uint8_t key[KMQ_STORE_KEY_LEN];
	int efd;
	pthread_t writer;
	bool started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct op_list queue;	/* under lock */
	struct op_list done;	/* under lock */
	bool stop;		/* under lock */
	struct kmq_store_stats st;	/* under lock */
	sqlite3_stmt *stmt[__ST_MAX];	/* writer only */
};

static void list_add(struct op_list *l, struct op *o)
{
	o->next = NULL;
	if (l->tail)
		l->tail->next = o;
	else
		l->head = o;
	l->tail = o;
}

static void list_splice(struct op_list *to, struct op_list *from)
{
	if (!from->head)
		return;
	if (to->tail)
		to->tail->next = from->head;
	else
		to->head = from->head;
	to->tail = from->tail;
	from->head = from->tail = NULL;
}

static void list_free(struct op_list *l)
{
	while (l->head) {
		struct op *o = l->head;

		l->head = o->next;
		free(o);
	}
	l->tail = NULL;
}

/* ---- encryption ---- */

/* Seal @len bytes of @in into @out (NONCE_LEN + len + TAG_LEN bytes). 0 or -1. */
static int seal(const uint8_t *key, const void *aad1, size_t aad1_len, const void *aad2,
		size_t aad2_len, const uint8_t *in, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n, ok;

	if (!c)
		return -1;
	ok = RAND_bytes(out, NONCE_LEN) == 1 &&
	     EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) == 1 &&
	     EVP_EncryptInit_ex(c, NULL, NULL, key, out) == 1 &&
	     EVP_EncryptUpdate(c, NULL, &n, aad1, (int)aad1_len) == 1 &&
	     (!aad2_len || EVP_EncryptUpdate(c, NULL, &n, aad2, (int)aad2_len) == 1) &&
	     (!len || EVP_EncryptUpdate(c, out + NONCE_LEN, &n, in, (int)len) == 1) &&
	     EVP_EncryptFinal_ex(c, out + NONCE_LEN + len, &n) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, TAG_LEN, out + NONCE_LEN + len) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

/* Open a sealed blob of @len bytes into @out (len - NONCE_LEN - TAG_LEN bytes). 0 or -1. */
static int unseal(const uint8_t *key, const void *aad1, size_t aad1_len, const void *aad2,
		  size_t aad2_len, const uint8_t *in, size_t len, uint8_t *out)
{
	EVP_CIPHER_CTX *c;
	size_t plen;
	int n, ok;

	if (len < NONCE_LEN + TAG_LEN)
		return -1;
	plen = len - NONCE_LEN - TAG_LEN;
	c = EVP_CIPHER_CTX_new();
	if (!c)
		return -1;
	ok = EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) == 1 &&
	     EVP_DecryptInit_ex(c, NULL, NULL, key, in) == 1 &&
	     EVP_DecryptUpdate(c, NULL, &n, aad1, (int)aad1_len) == 1 &&
	     (!aad2_len || EVP_DecryptUpdate(c, NULL, &n, aad2, (int)aad2_len) == 1) &&
	     (!plen || EVP_DecryptUpdate(c, out, &n, in + NONCE_LEN, (int)plen) == 1) &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, TAG_LEN,
				 (void *)(in + NONCE_LEN + plen)) == 1 &&
	     EVP_DecryptFinal_ex(c, out + plen, &n) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}


/*
 * The additional data of a session message: everything about it but its payload, so
 * that no field can be changed and no payload moved to another message.
 */
static size_t smsg_aad(uint8_t *buf, const char *cid, size_t cid_len, uint64_t seq, uint8_t qos,
		       uint32_t flags, uint16_t packet_id, const char *topic, uint16_t topic_len)
{
	size_t n = 0;

	memcpy(buf, cid, cid_len);
	n += cid_len;
	buf[n++] = 0;
	for (int i = 7; i >= 0; i--)
		buf[n++] = (uint8_t)(seq >> (8 * i));
	buf[n++] = qos;
	for (int i = 3; i >= 0; i--)
		buf[n++] = (uint8_t)(flags >> (8 * i));
	buf[n++] = (uint8_t)(packet_id >> 8);
	buf[n++] = (uint8_t)packet_id;
	if (topic_len)
		memcpy(buf + n, topic, topic_len);
	return n + topic_len;
}

#define SMSG_AAD_MAX	(MAX_CLIENT_ID + 1 + 8 + 1 + 4 + 2 + MAX_TOPIC)

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int kmq_store_read_key(const char *path, uint8_t key[KMQ_STORE_KEY_LEN], char *err,
		       size_t errlen)
{
	uint8_t buf[2 * KMQ_STORE_KEY_LEN + 3];
	struct stat sb;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		snprintf(err, errlen, "persistence_key_file %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "persistence_key_file %s: not a regular file", path);
		goto fail;
	}
	if (sb.st_mode & 077) {
		snprintf(err, errlen,
			 "persistence_key_file %s: group or others may access it (mode %04o); make it 0600 or 0400",
			 path, (unsigned int)(sb.st_mode & 07777));
		goto fail;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	fd = -1;
	if (n == KMQ_STORE_KEY_LEN) {
		memcpy(key, buf, KMQ_STORE_KEY_LEN);
		memset(buf, 0, sizeof(buf));
		return 0;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (n == 2 * KMQ_STORE_KEY_LEN) {
		int i;

		for (i = 0; i < KMQ_STORE_KEY_LEN; i++) {
			int hi = hexval(buf[2 * i]), lo = hexval(buf[2 * i + 1]);

			if (hi < 0 || lo < 0)
				break;
			key[i] = (uint8_t)(hi << 4 | lo);
		}
		if (i == KMQ_STORE_KEY_LEN) {
			memset(buf, 0, sizeof(buf));
			return 0;
		}
	}
	memset(buf, 0, sizeof(buf));
	snprintf(err, errlen,
		 "persistence_key_file %s: must hold 32 random bytes or 64 hexadecimal digits (e.g. from 'openssl rand -hex 32')",
		 path);
	return -1;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

/* ---- opening ---- */

/* Why an open failed: damage can be set aside, the rest cannot. */
enum open_fail { OPEN_OK, OPEN_DAMAGED, OPEN_FATAL };

static int exec(struct kmq_store *s, const char *sql)
{
	return sqlite3_exec(s->db, sql, NULL, NULL, NULL);
}

/* The integer result of a one-value query, or -1. */
static int64_t query_int(struct kmq_store *s, const char *sql, int *rc)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	*rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (*rc != SQLITE_OK)
		return -1;
	*rc = sqlite3_step(st);
	if (*rc == SQLITE_ROW) {
		v = sqlite3_column_int64(st, 0);
		*rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return v;
}

static bool is_damage(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT || rc == SQLITE_FORMAT;
}

static enum open_fail open_fail(struct kmq_store *s, int rc, const char *what, char *err,
				size_t errlen)
{
	snprintf(err, errlen, "persistence file %s: %s: %s", s->path, what,
		 s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
	return is_damage(rc) ? OPEN_DAMAGED : OPEN_FATAL;
}

static enum open_fail migrate(struct kmq_store *s, int64_t from, char *err, size_t errlen)
{
	char sql[64];
	int rc;

	for (int64_t v = from; v < KMQ_STORE_SCHEMA_VERSION; v++) {
		rc = exec(s, "BEGIN IMMEDIATE");
		if (rc == SQLITE_OK)
			rc = exec(s, migrations[v]);
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %lld", (long long)v + 1);
		if (rc == SQLITE_OK)
			rc = exec(s, sql);
		if (rc == SQLITE_OK)
			rc = exec(s, "COMMIT");
		if (rc != SQLITE_OK) {
			enum open_fail f = open_fail(s, rc, "schema migration failed", err, errlen);

			exec(s, "ROLLBACK");
			return f;
		}
		if (from)
			log_notice("persistence file %s: schema migrated to version %lld", s->path,
				   (long long)v + 1);
	}
	return OPEN_OK;
}

/* The key check: set it up in a new store, verify it in an existing one. */
static enum open_fail check_key(struct kmq_store *s, const char *key_file, char *err,
				size_t errlen)
{
	static const uint8_t known[32];
	uint8_t sealed[NONCE_LEN + sizeof(known) + TAG_LEN], out[sizeof(known)];
	sqlite3_stmt *st;
	bool have = false, ok = false;
	int64_t rows;
	int rc;

	rc = sqlite3_prepare_v2(s->db, "SELECT value FROM meta WHERE name = 'key_check'", -1, &st,
				NULL);
	if (rc != SQLITE_OK)
		return open_fail(s, rc, "reading", err, errlen);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		have = true;
		ok = s->encrypted &&
		     unseal(s->key, AAD_KEY_CHECK, sizeof(AAD_KEY_CHECK), NULL, 0,
			    sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), out) == 0 &&
		     !memcmp(out, known, sizeof(known));
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_OK)
		return open_fail(s, rc, "reading", err, errlen);
	if (have && !s->encrypted) {
		snprintf(err, errlen,
			 "persistence file %s holds encrypted payloads: persistence_key_file with its key is needed",
			 s->path);
		return OPEN_FATAL;
	}
	if (have && !ok) {
		snprintf(err, errlen, "persistence_key_file %s: wrong key for persistence file %s",
			 key_file, s->path);
		return OPEN_FATAL;
	}
	if (have || !s->encrypted)
		return OPEN_OK;
	rows = query_int(s, "SELECT (SELECT count(*) FROM retained) +"
			 " (SELECT count(*) FROM session_msgs)", &rc);
	if (rc != SQLITE_OK)
		return open_fail(s, rc, "reading", err, errlen);
	if (rows > 0) {
		snprintf(err, errlen,
			 "persistence file %s holds unencrypted payloads; it cannot be encrypted in place: remove persistence_key_file, or move the file away to start an encrypted store",
			 s->path);
		return OPEN_FATAL;
	}
	if (seal(s->key, AAD_KEY_CHECK, sizeof(AAD_KEY_CHECK), NULL, 0, known, sizeof(known),
		 sealed)) {
		snprintf(err, errlen, "persistence file %s: encryption failed", s->path);
		return OPEN_FATAL;
	}
	rc = sqlite3_prepare_v2(s->db,
				"INSERT INTO meta(name, value) VALUES ('key_check', ?), ('cipher', 'aes-256-gcm')",
				-1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_blob(st, 1, sealed, sizeof(sealed), SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_finalize(st);
	}
	if (rc != SQLITE_DONE)
		return open_fail(s, rc, "writing the key check", err, errlen);
	return OPEN_OK;
}

/*
 * Read every retained record; with @load NULL only verify them (so that @load is called
 * only for a store known to be whole).
 */
static enum open_fail load_retained(struct kmq_store *s, kmq_store_load_fn load, void *ctx,
				    char *err, size_t errlen)
{
	sqlite3_stmt *st;
	uint8_t *buf = NULL;
	size_t cap = 0;
	int rc;

	rc = sqlite3_prepare_v2(s->db, "SELECT topic, qos, stored_at, payload FROM retained", -1,
				&st, NULL);
	if (rc != SQLITE_OK)
		return open_fail(s, rc, "reading retained messages", err, errlen);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct kmq_retained_rec r = { 0 };
		const uint8_t *p = sqlite3_column_blob(st, 3);
		int tlen = sqlite3_column_bytes(st, 0);
		size_t plen = (size_t)sqlite3_column_bytes(st, 3);
		int64_t qos = sqlite3_column_int64(st, 1);

		r.topic = (const char *)sqlite3_column_blob(st, 0);
		if (tlen < 1 || tlen > 65535 || qos < 0 || qos > 2 || !plen) {
			snprintf(err, errlen, "persistence file %s: a retained message is malformed",
				 s->path);
			rc = SQLITE_CORRUPT;
			break;
		}
		r.topic_len = (uint16_t)tlen;
		r.qos = (uint8_t)qos;
		r.stored_at = sqlite3_column_int64(st, 2);
		r.payload = p;
		r.payload_len = (uint32_t)plen;
		if (s->encrypted) {
			if (plen < NONCE_LEN + TAG_LEN + 1)
				goto bad_seal;
			if (cap < plen) {
				free(buf);
				buf = malloc(plen);
				cap = buf ? plen : 0;
				if (!buf) {
					snprintf(err, errlen, "out of memory");
					rc = SQLITE_NOMEM;
					break;
				}
			}
			if (unseal(s->key, AAD_RETAINED, sizeof(AAD_RETAINED), r.topic, r.topic_len,
				   p, plen, buf))
				goto bad_seal;
			r.payload = buf;
			r.payload_len = (uint32_t)(plen - NONCE_LEN - TAG_LEN);
		}
		if (load && load(ctx, &r)) {
			snprintf(err, errlen, "persistence file %s: cannot load a retained message",
				 s->path);
			rc = SQLITE_NOMEM;
			break;
		}
		continue;
bad_seal:
		snprintf(err, errlen,
			 "persistence file %s: the retained message of '%.*s' does not decrypt (damaged or tampered with)",
			 s->path, tlen > 200 ? 200 : tlen, r.topic);
		rc = SQLITE_CORRUPT;
		break;
	}
	free(buf);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return OPEN_OK;
	if (rc == SQLITE_CORRUPT && err[0])
		return OPEN_DAMAGED;
	if (rc == SQLITE_NOMEM)
		return OPEN_FATAL;
	return open_fail(s, rc, "reading retained messages", err, errlen);
}

/* A client id column: 1..MAX_CLIENT_ID bytes without NUL, copied NUL-terminated. */
static bool column_client_id(sqlite3_stmt *st, int col, char *out)
{
	const void *p = sqlite3_column_blob(st, col);
	int n = sqlite3_column_bytes(st, col);

	if (!p || n < 1 || n > MAX_CLIENT_ID || memchr(p, 0, (size_t)n))
		return false;
	memcpy(out, p, (size_t)n);
	out[n] = 0;
	return true;
}

/* Parse a session's subs blob into @subs (MAX_SUBS entries). -1: malformed. */
static int parse_subs(const uint8_t *p, size_t len, struct kmq_store_sub *subs, uint32_t *n)
{
	size_t off = 0;

	*n = 0;
	while (off < len) {
		uint16_t l;

		if (len - off < 3 || *n == MAX_SUBS || p[off] > 2)
			return -1;
		l = (uint16_t)(p[off + 1] << 8 | p[off + 2]);
		if (l < 1 || l > MAX_TOPIC || len - off - 3 < l)
			return -1;
		subs[*n].qos = p[off];
		subs[*n].len = l;
		subs[*n].filter = (const char *)p + off + 3;
		(*n)++;
		off += 3 + (size_t)l;
	}
	return 0;
}

/*
 * Read every session and session message; call the loaders only when @call (the first
 * pass verifies everything, so that nothing is loaded from a store that is not whole).
 */
static enum open_fail load_sessions(struct kmq_store *s, const struct kmq_store_opts *o,
				    bool call, char *err, size_t errlen)
{
	struct kmq_store_sub *subs = malloc(MAX_SUBS * sizeof(*subs));
	uint16_t *qos2 = malloc(MAX_QOS2 * sizeof(*qos2));
	char cid[MAX_CLIENT_ID + 1];
	uint8_t *buf = NULL;
	size_t cap = 0;
	sqlite3_stmt *st = NULL;
	int rc;

	if (!subs || !qos2) {
		snprintf(err, errlen, "out of memory");
		rc = SQLITE_NOMEM;
		goto out;
	}
	rc = sqlite3_prepare_v2(s->db, "SELECT client_id, offline_since, subs, qos2_ids FROM sessions",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct kmq_session_rec r = { .client_id = cid, .subs = subs, .qos2_ids = qos2 };
		const uint8_t *q = sqlite3_column_blob(st, 3);
		size_t qlen = (size_t)sqlite3_column_bytes(st, 3);

		if (!column_client_id(st, 0, cid) ||
		    parse_subs(sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2), subs,
			       &r.n_subs) || qlen % 2 || qlen / 2 > MAX_QOS2) {
			snprintf(err, errlen, "persistence file %s: a session is malformed", s->path);
			rc = SQLITE_CORRUPT;
			goto out;
		}
		r.offline_since = sqlite3_column_int64(st, 1);
		r.n_qos2 = (uint32_t)(qlen / 2);
		for (uint32_t i = 0; i < r.n_qos2; i++)
			qos2[i] = (uint16_t)(q[2 * i] << 8 | q[2 * i + 1]);
		if (call && o->load_session && o->load_session(o->session_ctx, &r)) {
			snprintf(err, errlen, "persistence file %s: cannot load a session", s->path);
			rc = SQLITE_NOMEM;
			goto out;
		}
	}
	if (rc != SQLITE_DONE)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	rc = sqlite3_prepare_v2(s->db,
				"SELECT client_id, seq, qos, flags, packet_id, topic, payload, owed_seq FROM session_msgs ORDER BY seq",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct kmq_session_msg_rec r = { .client_id = cid };
		int64_t seq = sqlite3_column_int64(st, 1), qos = sqlite3_column_int64(st, 2);
		int64_t flags = sqlite3_column_int64(st, 3), pid = sqlite3_column_int64(st, 4);
		int64_t owed = sqlite3_column_int64(st, 7);
		int tlen = sqlite3_column_bytes(st, 5);
		const uint8_t *p = sqlite3_column_blob(st, 6);
		size_t plen = (size_t)sqlite3_column_bytes(st, 6);

		r.topic = (const char *)sqlite3_column_blob(st, 5);
		if (!column_client_id(st, 0, cid) || seq < 0 || qos < 1 || qos > 2 || flags < 0 ||
		    (flags & ~(int64_t)SMSG_FLAGS) || pid < 0 || pid > 65535 || tlen > MAX_TOPIC ||
		    owed < 0 ||
		    (tlen == 0) != !!(flags & SMSG_F_PUBREL)) {
			snprintf(err, errlen, "persistence file %s: a session message is malformed",
				 s->path);
			rc = SQLITE_CORRUPT;
			goto out;
		}
		r.seq = (uint64_t)seq;
		r.qos = (uint8_t)qos;
		r.flags = (uint32_t)flags;
		r.packet_id = (uint16_t)pid;
		r.owed_seq = (uint64_t)owed;
		r.topic_len = (uint16_t)tlen;
		r.payload = p;
		r.payload_len = (uint32_t)plen;
		if (s->encrypted) {
			uint8_t aad[SMSG_AAD_MAX];
			size_t alen = smsg_aad(aad, cid, strlen(cid), r.seq, r.qos, r.flags,
					       r.packet_id, r.topic, r.topic_len);

			if (plen < NONCE_LEN + TAG_LEN)
				goto bad_seal;
			if (cap < plen) {
				free(buf);
				buf = malloc(plen);
				cap = buf ? plen : 0;
				if (!buf) {
					snprintf(err, errlen, "out of memory");
					rc = SQLITE_NOMEM;
					goto out;
				}
			}
			if (unseal(s->key, AAD_SESSION_MSG, sizeof(AAD_SESSION_MSG), aad, alen, p,
				   plen, buf))
				goto bad_seal;
			r.payload = buf;
			r.payload_len = (uint32_t)(plen - NONCE_LEN - TAG_LEN);
		}
		if (call && o->load_session_msg && o->load_session_msg(o->session_ctx, &r)) {
			snprintf(err, errlen, "persistence file %s: cannot load a session message",
				 s->path);
			rc = SQLITE_NOMEM;
			goto out;
		}
		continue;
bad_seal:
		snprintf(err, errlen,
			 "persistence file %s: a message queued for client '%s' does not decrypt (damaged or tampered with)",
			 s->path, cid);
		rc = SQLITE_CORRUPT;
		goto out;
	}
out:
	sqlite3_finalize(st);
	free(buf);
	free(subs);
	free(qos2);
	if (rc == SQLITE_DONE)
		return OPEN_OK;
	if (rc == SQLITE_CORRUPT && err[0])
		return OPEN_DAMAGED;
	if (rc == SQLITE_NOMEM)
		return OPEN_FATAL;
	return open_fail(s, rc, "reading sessions", err, errlen);
}

static enum open_fail try_open(struct kmq_store *s, kmq_store_load_fn load, void *ctx,
			       const struct kmq_store_opts *o, bool *created, char *err,
			       size_t errlen)
{
	struct stat sb;
	char *wal;
	int64_t v;
	enum open_fail f;
	int rc;

	*created = stat(s->path, &sb) < 0;
	if (*created && errno != ENOENT) {
		snprintf(err, errlen, "persistence file %s: %s", s->path, strerror(errno));
		return OPEN_FATAL;
	}
	if (!*created && !S_ISREG(sb.st_mode)) {
		snprintf(err, errlen, "persistence file %s: not a regular file", s->path);
		return OPEN_FATAL;
	}
	if (!*created && sb.st_size == 0) {
		/* We never leave an empty file (the WAL switch writes page 1 at creation). */
		struct stat wb;
		bool wal_data;

		if (asprintf(&wal, "%s-wal", s->path) < 0)
			return OPEN_FATAL;
		wal_data = stat(wal, &wb) == 0 && wb.st_size > 0;
		free(wal);
		if (!wal_data) {
			snprintf(err, errlen, "persistence file %s: the file is empty (truncated)",
				 s->path);
			return OPEN_DAMAGED;
		}
	}
	if (access(s->path, R_OK | W_OK) < 0 && !*created) {
		snprintf(err, errlen, "persistence file %s: %s", s->path, strerror(errno));
		return OPEN_FATAL;
	}
	rc = sqlite3_open_v2(s->path, &s->db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
	if (rc != SQLITE_OK)
		return open_fail(s, rc, "cannot open", err, errlen);
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	/* The first read of the file: a file that is not a database fails here. */
	rc = exec(s, "PRAGMA journal_mode = WAL");
	if (rc != SQLITE_OK)
		return open_fail(s, rc, "not a usable database", err, errlen);
	/* Stored messages are the users' data: only we read them (the WAL follows suit). */
	if (*created && chmod(s->path, 0600) < 0) {
		snprintf(err, errlen, "persistence file %s: %s", s->path, strerror(errno));
		return OPEN_FATAL;
	}
	rc = exec(s, "PRAGMA synchronous = FULL; PRAGMA secure_delete = ON;"
		  " PRAGMA foreign_keys = ON");
	if (rc != SQLITE_OK)
		return open_fail(s, rc, "cannot set it up", err, errlen);
	v = query_int(s, "PRAGMA user_version", &rc);
	if (rc != SQLITE_OK)
		return open_fail(s, rc, "cannot read the schema version", err, errlen);
	if (v > KMQ_STORE_SCHEMA_VERSION) {
		snprintf(err, errlen,
			 "persistence file %s was written by a newer kmqttd (schema version %lld; this kmqttd knows up to %d): use that kmqttd, or another persistence_file",
			 s->path, (long long)v, KMQ_STORE_SCHEMA_VERSION);
		return OPEN_FATAL;
	}
	if (!*created) {
		sqlite3_stmt *st;
		const char *res = NULL;

		/* quick_check: every page and b-tree is whole (not index contents). */
		rc = sqlite3_prepare_v2(s->db, "PRAGMA quick_check(1)", -1, &st, NULL);
		if (rc == SQLITE_OK) {
			rc = sqlite3_step(st);
			if (rc == SQLITE_ROW)
				res = (const char *)sqlite3_column_text(st, 0);
			if (res && strcmp(res, "ok")) {
				snprintf(err, errlen, "persistence file %s is damaged: %s", s->path,
					 res);
				sqlite3_finalize(st);
				return OPEN_DAMAGED;
			}
			sqlite3_finalize(st);
			rc = res ? SQLITE_OK : rc;
		}
		if (rc != SQLITE_OK)
			return open_fail(s, rc, "integrity check failed", err, errlen);
		if (v == 0 && query_int(s, "SELECT count(*) FROM sqlite_schema", &rc) > 0) {
			snprintf(err, errlen,
				 "persistence file %s is an SQLite database but not a kmqtt store",
				 s->path);
			return OPEN_FATAL;
		}
	}
	f = migrate(s, v, err, errlen);
	if (f != OPEN_OK)
		return f;
	f = check_key(s, o->key_file, err, errlen);
	if (f != OPEN_OK)
		return f;
	f = load_retained(s, NULL, NULL, err, errlen);
	if (f == OPEN_OK)
		f = load_sessions(s, o, false, err, errlen);
	if (f == OPEN_OK && load)
		f = load_retained(s, load, ctx, err, errlen);
	if (f == OPEN_OK && (o->load_session || o->load_session_msg))
		f = load_sessions(s, o, true, err, errlen);
	return f;
}

static void close_db(struct kmq_store *s)
{
	for (int i = 0; i < __ST_MAX; i++) {
		sqlite3_finalize(s->stmt[i]);
		s->stmt[i] = NULL;
	}
	if (s->db)
		sqlite3_close_v2(s->db);
	s->db = NULL;
}

/* Rename the damaged file (and its WAL) out of the way. 0 or -1 with @err. */
static int set_aside(struct kmq_store *s, char **aside, char *err, size_t errlen)
{
	char stamp[32], *from = NULL, *to = NULL;
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (asprintf(aside, "%s.damaged-%s", s->path, stamp) < 0) {
		*aside = NULL;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (rename(s->path, *aside) < 0) {
		snprintf(err, errlen, "persistence file %s: cannot set it aside as %s: %s", s->path,
			 *aside, strerror(errno));
		return -1;
	}
	if (asprintf(&from, "%s-wal", s->path) >= 0 && asprintf(&to, "%s-wal", *aside) >= 0 &&
	    rename(from, to) < 0 && errno != ENOENT)
		log_warn("persistence file %s: cannot set its WAL aside: %s", s->path, strerror(errno));
	free(from);
	free(to);
	if (asprintf(&from, "%s-shm", s->path) >= 0) {
		unlink(from);
		free(from);
	}
	return 0;
}

/* ---- the writer ---- */

static int prepare(struct kmq_store *s)
{
	for (int i = 0; i < __ST_MAX; i++)
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i],
				       NULL) != SQLITE_OK)
			return -1;
	return 0;
}

static int rc_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_READONLY:
	case SQLITE_PERM:
		return -EROFS;
	default:
		return -EIO;
	}
}

static int apply_retained(struct kmq_store *s, struct op *o)
{
	const char *topic = (const char *)o->data;
	const uint8_t *payload = o->data + o->topic_len;
	uint8_t *sealed = NULL;
	sqlite3_stmt *st;
	int rc;

	if (!o->payload_len) {
		st = s->stmt[ST_RET_DEL];
		sqlite3_bind_blob(st, 1, topic, o->topic_len, SQLITE_STATIC);
	} else {
		size_t len = o->payload_len;

		if (s->encrypted) {
			sealed = malloc(NONCE_LEN + len + TAG_LEN);
			if (!sealed)
				return -ENOMEM;
			if (seal(s->key, AAD_RETAINED, sizeof(AAD_RETAINED), topic, o->topic_len,
				 payload, len, sealed)) {
				free(sealed);
				return -EIO;
			}
			payload = sealed;
			len += NONCE_LEN + TAG_LEN;
		}
		st = s->stmt[ST_RET_PUT];
		sqlite3_bind_blob(st, 1, topic, o->topic_len, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, o->qos);
		sqlite3_bind_int64(st, 3, o->stored_at);
		sqlite3_bind_blob64(st, 4, payload, len, SQLITE_STATIC);
	}
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	free(sealed);
	return rc == SQLITE_DONE ? 0 : rc_errno(rc);
}

static int step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? 0 : rc_errno(rc);
}

static int apply_session(struct kmq_store *s, struct op *o)
{
	const uint8_t *cid = o->data;
	sqlite3_stmt *st;
	int ret;

	switch (o->kind) {
	case OP_SESSION_PUT:
		st = s->stmt[ST_SESS_PUT];
		sqlite3_bind_blob(st, 1, cid, o->cid_len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, o->stored_at);
		sqlite3_bind_blob64(st, 3, cid + o->cid_len, o->payload_len, SQLITE_STATIC);
		sqlite3_bind_blob64(st, 4, cid + o->cid_len + o->payload_len, o->aux_len,
				    SQLITE_STATIC);
		return step_done(st);
	case OP_SESSION_DEL:
		st = s->stmt[ST_SESS_DEL_MSGS];
		sqlite3_bind_blob(st, 1, cid, o->cid_len, SQLITE_STATIC);
		ret = step_done(st);
		if (ret)
			return ret;
		st = s->stmt[ST_SESS_DEL];
		sqlite3_bind_blob(st, 1, cid, o->cid_len, SQLITE_STATIC);
		return step_done(st);
	case OP_SMSG_DEL:
		st = s->stmt[ST_SMSG_DEL];
		sqlite3_bind_blob(st, 1, cid, o->cid_len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (int64_t)o->seq);
		sqlite3_bind_int64(st, 3, (int64_t)o->seq_to);
		return step_done(st);
	default:
		break;
	}
	/* OP_SMSG_PUT */
	{
		const char *topic = (const char *)cid + o->cid_len;
		const uint8_t *payload = cid + o->cid_len + o->topic_len;
		static const uint8_t empty[1];
		uint8_t *sealed = NULL;
		size_t len = o->payload_len;

		if (s->encrypted) {
			uint8_t aad[SMSG_AAD_MAX];
			size_t alen = smsg_aad(aad, (const char *)cid, o->cid_len, o->seq, o->qos,
					       o->flags, o->packet_id, topic, o->topic_len);

			sealed = malloc(NONCE_LEN + len + TAG_LEN);
			if (!sealed)
				return -ENOMEM;
			if (seal(s->key, AAD_SESSION_MSG, sizeof(AAD_SESSION_MSG), aad, alen, payload,
				 len, sealed)) {
				free(sealed);
				return -EIO;
			}
			payload = sealed;
			len += NONCE_LEN + TAG_LEN;
		}
		st = s->stmt[ST_SMSG_PUT];
		sqlite3_bind_blob(st, 1, cid, o->cid_len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, (int64_t)o->seq);
		sqlite3_bind_int(st, 3, o->qos);
		sqlite3_bind_int64(st, 4, o->flags);
		sqlite3_bind_int(st, 5, o->packet_id);
		/* A non-NULL pointer: an empty topic or payload is an empty blob, not NULL. */
		sqlite3_bind_blob(st, 6, o->topic_len ? topic : (const char *)empty, o->topic_len,
				  SQLITE_STATIC);
		sqlite3_bind_blob64(st, 7, len ? payload : empty, len, SQLITE_STATIC);
		sqlite3_bind_int64(st, 8, (int64_t)o->owed_seq);
		ret = step_done(st);
		free(sealed);
		return ret;
	}
}

static int apply(struct kmq_store *s, struct op *o)
{
	return o->kind == OP_RETAINED_PUT ? apply_retained(s, o) : apply_session(s, o);
}

/* One transaction for the whole batch; if it cannot commit, every write in it failed. */
static void commit_batch(struct kmq_store *s, struct op_list *batch)
{
	struct op *o;
	int rc, err = 0;

	rc = exec(s, "BEGIN IMMEDIATE");
	if (rc != SQLITE_OK)
		err = rc_errno(rc);
	for (o = batch->head; o; o = o->next) {
		o->err = err ? err : apply(s, o);
		/* A write that failed alone (too big, ...) does not fail the others. */
	}
	if (!err) {
		rc = exec(s, "COMMIT");
		if (rc != SQLITE_OK) {
			err = rc_errno(rc);
			exec(s, "ROLLBACK");
			for (o = batch->head; o; o = o->next)
				o->err = err;
		}
	}
	if (err)
		log_err("persistence file %s: commit failed: %s", s->path, sqlite3_errmsg(s->db));
}

static void *writer_main(void *arg)
{
	struct kmq_store *s = arg;
	struct op_list batch;
	uint64_t n, errors, one = 1;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (!s->queue.head && !s->stop)
			pthread_cond_wait(&s->cond, &s->lock);
		if (!s->queue.head)
			break;
		/* Group commit: everything queued until now goes in one transaction. */
		batch = s->queue;
		s->queue.head = s->queue.tail = NULL;
		pthread_mutex_unlock(&s->lock);

		commit_batch(s, &batch);
		n = errors = 0;
		for (struct op *o = batch.head; o; o = o->next) {
			n++;
			errors += o->err != 0;
		}

		pthread_mutex_lock(&s->lock);
		s->st.batches++;
		s->st.writes += n - errors;
		s->st.errors += errors;
		s->st.queued -= n;
		if (n > s->st.max_batch)
			s->st.max_batch = n;
		list_splice(&s->done, &batch);
		if (write(s->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			log_err("store: cannot signal completions: %s", strerror(errno));
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* ---- API ---- */

static void store_free(struct kmq_store *s)
{
	close_db(s);
	if (s->efd >= 0)
		close(s->efd);
	list_free(&s->queue);
	list_free(&s->done);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	memset(s->key, 0, sizeof(s->key));
	free(s->path);
	free(s);
}

int kmq_store_open(const struct kmq_store_opts *o, kmq_store_load_fn load, void *ctx,
		   struct kmq_store **out, enum kmq_store_open_result *result,
		   char *err, size_t errlen)
{
	struct kmq_store *s;
	enum open_fail f;
	char *aside = NULL;
	sigset_t all, old;
	bool created;
	int ret;

	err[0] = 0;
	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->efd = -1;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->path = strdup(o->path);
	if (!s->path) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (o->key_file) {
		if (kmq_store_read_key(o->key_file, s->key, err, errlen))
			goto fail;
		s->encrypted = true;
	}
	*result = KMQ_STORE_OPENED;
	f = try_open(s, load, ctx, o, &created, err, errlen);
	if (f == OPEN_DAMAGED && o->set_aside_damaged) {
		close_db(s);
		if (set_aside(s, &aside, err, errlen)) {
			free(aside);
			goto fail;
		}
		log_err("%s", err);
		log_err("persistence file %s was DAMAGED and has been set aside as %s; starting with a NEW, EMPTY store: nothing stored before was restored",
			s->path, aside);
		free(aside);
		err[0] = 0;
		*result = KMQ_STORE_SET_ASIDE;
		f = try_open(s, load, ctx, o, &created, err, errlen);
	} else if (f == OPEN_DAMAGED) {
		size_t l = strlen(err);

		snprintf(err + l, errlen - l,
			 " (to keep the file aside and start with an empty store, set 'persistence_damaged set_aside')");
	}
	if (f != OPEN_OK)
		goto fail;
	if (created && *result == KMQ_STORE_OPENED)
		*result = KMQ_STORE_CREATED;
	if (prepare(s)) {
		snprintf(err, errlen, "persistence file %s: %s", s->path, sqlite3_errmsg(s->db));
		goto fail;
	}
	s->st.encrypted = s->encrypted;
	s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (s->efd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	/* The writer takes no signals: they are the event loop's (signalfd). */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&s->writer, NULL, writer_main, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		snprintf(err, errlen, "cannot start the store's writer thread");
		goto fail;
	}
	s->started = true;
	*out = s;
	return 0;
fail:
	store_free(s);
	return -1;
}

void kmq_store_close(struct kmq_store *s)
{
	if (!s)
		return;
	if (s->started) {
		pthread_mutex_lock(&s->lock);
		s->stop = true;
		pthread_cond_signal(&s->cond);
		pthread_mutex_unlock(&s->lock);
		pthread_join(s->writer, NULL);
	}
	store_free(s);
}

int kmq_store_fd(const struct kmq_store *s)
{
	return s->efd;
}

void kmq_store_reap(struct kmq_store *s, kmq_store_done_fn done, void *ctx)
{
	struct op_list l = { 0 };
	uint64_t v;

	if (read(s->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warn("store: reading its eventfd: %s", strerror(errno));
	pthread_mutex_lock(&s->lock);
	l = s->done;
	s->done.head = s->done.tail = NULL;
	pthread_mutex_unlock(&s->lock);
	for (struct op *o = l.head; o; o = o->next)
		done(ctx, o->cookie, o->err);
	list_free(&l);
}

int kmq_store_retained_put(struct kmq_store *s, const struct kmq_retained_rec *r,
			   uint64_t cookie)
{
	struct op *o = malloc(sizeof(*o) + r->topic_len + r->payload_len);

	if (!o)
		return -ENOMEM;
	o->kind = OP_RETAINED_PUT;
	o->cookie = cookie;
	o->err = 0;
	o->qos = r->qos;
	o->stored_at = r->stored_at;
	o->topic_len = r->topic_len;
	o->payload_len = r->payload_len;
	memcpy(o->data, r->topic, r->topic_len);
	if (r->payload_len)
		memcpy(o->data + r->topic_len, r->payload, r->payload_len);
	pthread_mutex_lock(&s->lock);
	list_add(&s->queue, o);
	s->st.queued++;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

static void enqueue(struct kmq_store *s, struct op *o)
{
	pthread_mutex_lock(&s->lock);
	list_add(&s->queue, o);
	s->st.queued++;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

static struct op *op_new(enum op_kind kind, uint64_t cookie, const char *client_id,
			 size_t extra)
{
	size_t cl = strlen(client_id);
	struct op *o;

	if (cl < 1 || cl > MAX_CLIENT_ID)
		return NULL;
	o = calloc(1, sizeof(*o) + cl + extra);
	if (!o)
		return NULL;
	o->kind = kind;
	o->cookie = cookie;
	o->cid_len = (uint16_t)cl;
	memcpy(o->data, client_id, cl);
	return o;
}

int kmq_store_session_put(struct kmq_store *s, const struct kmq_session_rec *r,
			  uint64_t cookie)
{
	size_t subs_len = 0;
	struct op *o;
	uint8_t *p;

	if (r->n_subs > MAX_SUBS || r->n_qos2 > MAX_QOS2)
		return -EINVAL;
	for (uint32_t i = 0; i < r->n_subs; i++)
		subs_len += 3 + (size_t)r->subs[i].len;
	o = op_new(OP_SESSION_PUT, cookie, r->client_id, subs_len + 2 * (size_t)r->n_qos2);
	if (!o)
		return -ENOMEM;
	o->stored_at = r->offline_since;
	o->payload_len = (uint32_t)subs_len;
	o->aux_len = 2 * r->n_qos2;
	p = o->data + o->cid_len;
	for (uint32_t i = 0; i < r->n_subs; i++) {
		*p++ = r->subs[i].qos;
		*p++ = (uint8_t)(r->subs[i].len >> 8);
		*p++ = (uint8_t)r->subs[i].len;
		memcpy(p, r->subs[i].filter, r->subs[i].len);
		p += r->subs[i].len;
	}
	for (uint32_t i = 0; i < r->n_qos2; i++) {
		*p++ = (uint8_t)(r->qos2_ids[i] >> 8);
		*p++ = (uint8_t)r->qos2_ids[i];
	}
	enqueue(s, o);
	return 0;
}

int kmq_store_session_del(struct kmq_store *s, const char *client_id, uint64_t cookie)
{
	struct op *o = op_new(OP_SESSION_DEL, cookie, client_id, 0);

	if (!o)
		return -ENOMEM;
	enqueue(s, o);
	return 0;
}

int kmq_store_session_msg_put(struct kmq_store *s, const struct kmq_session_msg_rec *r,
			      uint64_t cookie)
{
	struct op *o;

	if (r->topic_len > MAX_TOPIC || r->qos < 1 || r->qos > 2 || (r->flags & ~SMSG_FLAGS))
		return -EINVAL;
	o = op_new(OP_SMSG_PUT, cookie, r->client_id, (size_t)r->topic_len + r->payload_len);
	if (!o)
		return -ENOMEM;
	o->seq = r->seq;
	o->owed_seq = r->owed_seq;
	o->qos = r->qos;
	o->flags = r->flags;
	o->packet_id = r->packet_id;
	o->topic_len = r->topic_len;
	o->payload_len = r->payload_len;
	if (r->topic_len)
		memcpy(o->data + o->cid_len, r->topic, r->topic_len);
	if (r->payload_len)
		memcpy(o->data + o->cid_len + r->topic_len, r->payload, r->payload_len);
	enqueue(s, o);
	return 0;
}

int kmq_store_session_msg_del(struct kmq_store *s, const char *client_id, uint64_t from,
			      uint64_t to, uint64_t cookie)
{
	struct op *o = op_new(OP_SMSG_DEL, cookie, client_id, 0);

	if (!o)
		return -ENOMEM;
	o->seq = from;
	o->seq_to = to;
	enqueue(s, o);
	return 0;
}

void kmq_store_get_stats(struct kmq_store *s, struct kmq_store_stats *st)
{
	pthread_mutex_lock(&s->lock);
	*st = s->st;
	pthread_mutex_unlock(&s->lock);
}

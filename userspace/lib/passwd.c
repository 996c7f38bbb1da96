// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <linux/kmqtt.h>
#include "fileerr.h"
#include "conf.h"
#include "passwd.h"
#include "topic.h"

#define HASH_LEN 64		/* SHA-512 */

struct pw_entry {
	char *user;
	size_t user_len;
	unsigned int line;
	uint8_t type;		/* 6 or 7 */
	uint32_t iterations;	/* $7$ */
	uint8_t salt_len;
	uint8_t salt[KMQ_PASSWD_MAX_SALT];
	uint8_t hash[HASH_LEN];
};

struct kmq_passwd {
	struct pw_entry *e;
	size_t n, cap;
	uint32_t dummy_iterations;
};

struct load_ctx {
	const char *path;
	char *err;
	size_t errlen;
	struct kmq_passwd *pw;
};

#define fail(l, line, ...) kmq_file_err((l)->err, (l)->errlen, (l)->path, (line), __VA_ARGS__)

/* Strict base64 (RFC 4648, padded) into at most @cap bytes: the decoded length or -1. */
static int b64_decode(const char *s, size_t len, uint8_t *out, size_t cap)
{
	uint8_t tmp[3 * (KMQ_PASSWD_MAX_SALT + HASH_LEN) / 2 + 4];
	size_t pad = 0;
	int n;

	if (!len || len % 4 || len / 4 * 3 > sizeof(tmp))
		return -1;
	while (pad < 2 && s[len - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < len - pad; i++) {
		char c = s[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '+' || c == '/'))
			return -1;
	}
	n = EVP_DecodeBlock(tmp, (const unsigned char *)s, (int)len);
	if (n < 0 || (size_t)n < pad || (size_t)n - pad > cap)
		return -1;
	n -= (int)pad;
	memcpy(out, tmp, (size_t)n);
	return n;
}

static int user_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct pw_entry *x = a, *y = b;

	return user_cmp(x->user, x->user_len, y->user, y->user_len);
}

/* Parse "$6$SALT$HASH" or "$7$ITER$SALT$HASH" (already known to start with '$'). */
static int parse_hash(struct load_ctx *l, unsigned int line, struct pw_entry *e, char *h)
{
	char *f[4];
	int nf = 0, n;
	char *save = NULL, *tok;
	const char *u = e->user;

	if (strncmp(h, "$6$", 3) && strncmp(h, "$7$", 3)) {
		size_t tl = strcspn(h + 1, "$");

		return fail(l, line, "user '%s': unknown hash type '$%.*s$' (mosquitto_passwd writes $7$, older versions $6$)",
			    u, (int)(tl > 8 ? 8 : tl), h + 1);
	}
	e->type = (uint8_t)(h[1] - '0');
	/* No empty fields: strtok_r would merge "$$", so count the separators first. */
	for (const char *p = h + 3; *p; p++) {
		if (*p == '$' && (p[1] == '$' || p[1] == 0))
			return fail(l, line, "user '%s': empty field in the $%d$ hash", u, e->type);
	}
	if (h[3] == '$' || h[3] == 0)
		return fail(l, line, "user '%s': empty field in the $%d$ hash", u, e->type);
	for (tok = strtok_r(h + 3, "$", &save); tok; tok = strtok_r(NULL, "$", &save)) {
		if (nf == 4)
			return fail(l, line, "user '%s': too many fields in the $%d$ hash", u, e->type);
		f[nf++] = tok;
	}
	if (nf != (e->type == 7 ? 3 : 2))
		return fail(l, line, "user '%s': the $%d$ hash needs %s", u, e->type,
			    e->type == 7 ? "$7$ITERATIONS$SALT$HASH" : "$6$SALT$HASH");
	if (e->type == 7) {
		char *end;
		unsigned long it;

		errno = 0;
		it = strtoul(f[0], &end, 10);
		if (errno || *end || f[0][0] < '0' || f[0][0] > '9' || it < 1 ||
		    it > KMQ_PASSWD_MAX_ITERATIONS)
			return fail(l, line, "user '%s': iteration count '%s' is not an integer from 1 to %d",
				    u, f[0], KMQ_PASSWD_MAX_ITERATIONS);
		e->iterations = (uint32_t)it;
		f[0] = f[1];
		f[1] = f[2];
	}
	n = b64_decode(f[0], strlen(f[0]), e->salt, sizeof(e->salt));
	if (n <= 0)
		return fail(l, line, "user '%s': the salt is not base64 of 1 to %d bytes", u,
			    KMQ_PASSWD_MAX_SALT);
	e->salt_len = (uint8_t)n;
	n = b64_decode(f[1], strlen(f[1]), e->hash, sizeof(e->hash));
	if (n != HASH_LEN)
		return fail(l, line, "user '%s': the hash is not base64 of %d bytes (SHA-512)", u,
			    HASH_LEN);
	return 0;
}

static void trim(char **s, size_t *len)
{
	while (*len && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*len)--;
	}
	while (*len && ((*s)[*len - 1] == ' ' || (*s)[*len - 1] == '\t'))
		(*len)--;
}

static int load_line(void *ctx, char *line, unsigned int lineno)
{
	struct load_ctx *l = ctx;
	struct kmq_passwd *pw = l->pw;
	struct pw_entry *e;
	char *colon, *user = line, *hash;
	size_t ulen, hlen;

	line += strspn(line, " \t");
	if (*line == '#' || *line == 0)
		return 0;
	colon = strchr(line, ':');
	if (!colon)
		return fail(l, lineno, "expected 'user:password-hash', found no ':'");
	user = line;
	ulen = (size_t)(colon - line);
	trim(&user, &ulen);
	hash = colon + 1;
	hlen = strlen(hash);
	trim(&hash, &hlen);
	hash[hlen] = 0;
	if (!ulen)
		return fail(l, lineno, "empty user name");
	if (ulen > KMQTT_MAX_USERNAME)
		return fail(l, lineno, "user name longer than %d bytes", KMQTT_MAX_USERNAME);
	user[ulen] = 0;
	if (mqtt_utf8_valid(user, (uint16_t)ulen))
		return fail(l, lineno, "user name is not valid UTF-8 (MQTT user names are)");
	if (!hlen)
		return fail(l, lineno, "user '%s' has no password hash", user);
	if (hash[0] != '$')
		return fail(l, lineno, "user '%s': plaintext password refused (hash the file with mosquitto_passwd -U)",
			    user);
	if (pw->n == pw->cap) {
		size_t cap = pw->cap ? pw->cap * 2 : 16;
		struct pw_entry *ne = realloc(pw->e, cap * sizeof(*ne));

		if (!ne)
			return fail(l, lineno, "out of memory");
		pw->e = ne;
		pw->cap = cap;
	}
	e = &pw->e[pw->n];
	memset(e, 0, sizeof(*e));
	e->line = lineno;
	e->user_len = ulen;
	e->user = user;		/* parse_hash's messages use it; copied below */
	if (parse_hash(l, lineno, e, hash))
		return -1;
	e->user = strndup(user, ulen);
	if (!e->user)
		return fail(l, lineno, "out of memory");
	if (e->type == 7)
		pw->dummy_iterations = e->iterations;
	pw->n++;
	return 0;
}

void kmq_passwd_free(struct kmq_passwd *pw)
{
	if (!pw)
		return;
	for (size_t i = 0; i < pw->n; i++)
		free(pw->e[i].user);
	OPENSSL_cleanse(pw->e, pw->cap * sizeof(*pw->e));
	free(pw->e);
	free(pw);
}

int kmq_passwd_load(const char *path, struct kmq_passwd **out, char *err, size_t errlen)
{
	struct kmq_passwd *pw = calloc(1, sizeof(*pw));
	struct load_ctx l = { .path = path, .err = err, .errlen = errlen, .pw = pw };

	*out = NULL;
	if (!pw) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	pw->dummy_iterations = KMQ_PASSWD_DUMMY_ITERATIONS;
	if (kmq_read_lines(path, load_line, &l, err, errlen)) {
		kmq_passwd_free(pw);
		return -1;
	}
	if (pw->n)
		qsort(pw->e, pw->n, sizeof(*pw->e), entry_cmp);
	for (size_t i = 1; i < pw->n; i++) {
		const struct pw_entry *a = &pw->e[i - 1], *b = &pw->e[i];

		if (!entry_cmp(a, b)) {
			fail(&l, a->line > b->line ? a->line : b->line,
			     "user '%s' is already defined at line %u", a->user,
			     a->line < b->line ? a->line : b->line);
			kmq_passwd_free(pw);
			return -1;
		}
	}
	*out = pw;
	return 0;
}

size_t kmq_passwd_count(const struct kmq_passwd *pw)
{
	return pw ? pw->n : 0;
}

static const struct pw_entry *lookup(const struct kmq_passwd *pw, const char *user, size_t len)
{
	size_t lo = 0, hi = pw->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = user_cmp(user, len, pw->e[mid].user, pw->e[mid].user_len);

		if (!c)
			return &pw->e[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static int compute(const struct pw_entry *e, const void *pass, size_t pass_len, uint8_t *out)
{
	static const uint8_t empty;
	unsigned int len = HASH_LEN;
	EVP_MD_CTX *md;
	int ok;

	if (!pass)
		pass = &empty;
	if (pass_len > INT32_MAX)
		return -1;
	if (e->type == 7)
		return PKCS5_PBKDF2_HMAC(pass, (int)pass_len, e->salt, e->salt_len,
					 (int)e->iterations, EVP_sha512(), HASH_LEN, out) == 1 ? 0 : -1;
	md = EVP_MD_CTX_new();
	if (!md)
		return -1;
	ok = EVP_DigestInit_ex(md, EVP_sha512(), NULL) == 1 &&
	     EVP_DigestUpdate(md, pass, pass_len) == 1 &&
	     EVP_DigestUpdate(md, e->salt, e->salt_len) == 1 &&
	     EVP_DigestFinal_ex(md, out, &len) == 1 && len == HASH_LEN;
	EVP_MD_CTX_free(md);
	return ok ? 0 : -1;
}

enum kmq_passwd_result kmq_passwd_check(const struct kmq_passwd *pw, const char *user,
					size_t user_len, const void *pass, size_t pass_len)
{
	const struct pw_entry *e = lookup(pw, user, user_len);
	struct pw_entry dummy = {
		.type = 7, .iterations = pw->dummy_iterations, .salt_len = 12,
	};
	uint8_t out[HASH_LEN];
	bool same;

	/* Spend the same work on an unknown user as on a real one. */
	if (compute(e ? e : &dummy, pass, pass_len, out))
		return KMQ_PASSWD_ERROR;
	if (!e)
		return KMQ_PASSWD_NO_USER;
	same = CRYPTO_memcmp(out, e->hash, HASH_LEN) == 0;
	OPENSSL_cleanse(out, sizeof(out));
	return same && pass ? KMQ_PASSWD_OK : KMQ_PASSWD_MISMATCH;
}

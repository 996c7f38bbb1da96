/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * mosquitto_passwd's password files: one "user:HASH" per line, HASH being
 *
 *   $7$ITERATIONS$SALT$HASH   PBKDF2-HMAC-SHA512 (what mosquitto 2 writes)
 *   $6$SALT$HASH              SHA-512 of password then salt (mosquitto 1.x)
 *
 * with SALT and HASH in base64 (HASH: the 64 bytes of SHA-512). Lines starting with '#'
 * and blank lines are ignored; anything else, plaintext passwords included, is an error
 * that names the file and line.
 */
#ifndef KMQ_PASSWD_H
#define KMQ_PASSWD_H

#include <stddef.h>

/* User names longer than the module accepts (KMQTT_MAX_USERNAME) are refused. */
#define KMQ_PASSWD_MAX_SALT		64	/* bytes, decoded */
#define KMQ_PASSWD_MAX_ITERATIONS	10000000
/* Iterations of the dummy hash computed for unknown users (mosquitto_passwd's default). */
#define KMQ_PASSWD_DUMMY_ITERATIONS	101

struct kmq_passwd;

/* 0 and a new table in *@out, or -1 with "FILE:LINE: message" or "FILE: message" in @err. */
int kmq_passwd_load(const char *path, struct kmq_passwd **out, char *err, size_t errlen);
void kmq_passwd_free(struct kmq_passwd *pw);
size_t kmq_passwd_count(const struct kmq_passwd *pw);

enum kmq_passwd_result {
	KMQ_PASSWD_OK = 0,
	KMQ_PASSWD_NO_USER,		/* no such user */
	KMQ_PASSWD_MISMATCH,		/* wrong or missing password */
	KMQ_PASSWD_ERROR,		/* the crypto library failed */
};

/*
 * Check a CONNECT's user name (@user_len bytes, not NUL-terminated) and password (binary,
 * @pass NULL when the CONNECT carried none). The hash is compared in constant time; an
 * unknown user costs as much as a known one, so timing does not tell which names exist.
 */
enum kmq_passwd_result kmq_passwd_check(const struct kmq_passwd *pw, const char *user,
					size_t user_len, const void *pass, size_t pass_len);

#endif

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Password files: real files written by mosquitto_passwd at run time ($7$ PBKDF2-SHA512
 * and $6$ SHA-512), every way a line can be wrong, each error naming file:line.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "passwd.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/kmqtt-test-passwd-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/passwd", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return rmdir(dir);
}

/* mosquitto_passwd [-H sha512] [-c] -b FILE USER PASS, which must succeed. */
static void mosq_passwd(bool create, bool sha512, const char *user, const char *pass)
{
	pid_t pid = fork();
	int st;

	assert_true(pid >= 0);
	if (pid == 0) {
		const char *argv[10];
		int n = 0;

		argv[n++] = "mosquitto_passwd";
		if (sha512) {
			argv[n++] = "-H";
			argv[n++] = "sha512";
		}
		if (create)
			argv[n++] = "-c";
		argv[n++] = "-b";
		argv[n++] = path;
		argv[n++] = user;
		argv[n++] = pass;
		argv[n] = NULL;
		freopen("/dev/null", "w", stdout);
		execvp(argv[0], (char **)argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		fail_msg("mosquitto_passwd failed (status %d): it is installed by make deps", st);
}

static void write_file(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fwrite(text, 1, strlen(text), f);
	fclose(f);
}

static void append_file(const char *text)
{
	FILE *f = fopen(path, "a");

	assert_non_null(f);
	fwrite(text, 1, strlen(text), f);
	fclose(f);
}

static char *read_file(void)
{
	static char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return buf;
}

static struct kmq_passwd *load_ok(void)
{
	struct kmq_passwd *pw;
	char err[640] = "";

	if (kmq_passwd_load(path, &pw, err, sizeof(err)))
		fail_msg("load failed: %s", err);
	return pw;
}

static void expect_error(const char *text, unsigned int line, const char *msg)
{
	struct kmq_passwd *pw = (void *)1;
	char err[640] = "", want[700];

	write_file(text);
	assert_int_equal(kmq_passwd_load(path, &pw, err, sizeof(err)), -1);
	assert_null(pw);
	snprintf(want, sizeof(want), "%s:%u: %s", path, line, msg);
	if (strncmp(err, want, strlen(want)))
		fail_msg("got \"%s\", want prefix \"%s\"", err, want);
}

static enum kmq_passwd_result check(const struct kmq_passwd *pw, const char *user,
				    const char *pass)
{
	return kmq_passwd_check(pw, user, strlen(user), pass, pass ? strlen(pass) : 0);
}

static void test_pbkdf2_file_from_mosquitto_passwd(void **state)
{
	struct kmq_passwd *pw;

	(void)state;
	mosq_passwd(true, false, "alice", "secret");
	mosq_passwd(false, false, "bob", "hunter2");
	assert_non_null(strstr(read_file(), "alice:$7$"));
	pw = load_ok();
	assert_int_equal(kmq_passwd_count(pw), 2);
	assert_int_equal(check(pw, "alice", "secret"), KMQ_PASSWD_OK);
	assert_int_equal(check(pw, "bob", "hunter2"), KMQ_PASSWD_OK);
	kmq_passwd_free(pw);
}

static void test_wrong_password_is_mismatch(void **state)
{
	struct kmq_passwd *pw;

	(void)state;
	mosq_passwd(true, false, "alice", "secret");
	mosq_passwd(false, false, "bob", "hunter2");
	pw = load_ok();
	assert_int_equal(check(pw, "alice", "Secret"), KMQ_PASSWD_MISMATCH);
	assert_int_equal(check(pw, "alice", "secre"), KMQ_PASSWD_MISMATCH);
	assert_int_equal(check(pw, "alice", "secret "), KMQ_PASSWD_MISMATCH);
	assert_int_equal(check(pw, "alice", ""), KMQ_PASSWD_MISMATCH);
	/* Another user's password does not open this account. */
	assert_int_equal(check(pw, "alice", "hunter2"), KMQ_PASSWD_MISMATCH);
	assert_int_equal(check(pw, "bob", "secret"), KMQ_PASSWD_MISMATCH);
	kmq_passwd_free(pw);
}

static void test_missing_password_is_mismatch(void **state)
{
	struct kmq_passwd *pw;

	(void)state;
	mosq_passwd(true, false, "alice", "secret");
	pw = load_ok();
	assert_int_equal(check(pw, "alice", NULL), KMQ_PASSWD_MISMATCH);
	kmq_passwd_free(pw);
}

static void test_empty_password_matches_only_empty(void **state)
{
	struct kmq_passwd *pw;

	(void)state;
	mosq_passwd(true, false, "nopass", "");
	pw = load_ok();
	assert_int_equal(check(pw, "nopass", ""), KMQ_PASSWD_OK);
	/* A CONNECT without the password flag is not an empty password. */
	assert_int_equal(check(pw, "nopass", NULL), KMQ_PASSWD_MISMATCH);
	assert_int_equal(check(pw, "nopass", "x"), KMQ_PASSWD_MISMATCH);
	kmq_passwd_free(pw);
}

static void test_unknown_user(void **state)
{
	struct kmq_passwd *pw;

	(void)state;
	mosq_passwd(true, false, "alice", "secret");
	pw = load_ok();
	assert_int_equal(check(pw, "alic", "secret"), KMQ_PASSWD_NO_USER);
	assert_int_equal(check(pw, "alice2", "secret"), KMQ_PASSWD_NO_USER);
	assert_int_equal(check(pw, "Alice", "secret"), KMQ_PASSWD_NO_USER);
	assert_int_equal(check(pw, "", "secret"), KMQ_PASSWD_NO_USER);
	kmq_passwd_free(pw);
}

static void test_user_name_is_compared_by_length(void **state)
{
	struct kmq_passwd *pw;

	(void)state;
	mosq_passwd(true, false, "alice", "secret");
	pw = load_ok();
	/* "alice" followed by more bytes the caller did not count. */
	assert_int_equal(kmq_passwd_check(pw, "alicex", 5, "secret", 6), KMQ_PASSWD_OK);
	assert_int_equal(kmq_passwd_check(pw, "alice", 4, "secret", 6), KMQ_PASSWD_NO_USER);
	kmq_passwd_free(pw);
}

static void test_binary_password_with_nul(void **state)
{
	struct kmq_passwd *pw;

	(void)state;
	mosq_passwd(true, false, "alice", "ab");
	pw = load_ok();
	/* MQTT passwords are binary: "ab\0c" is not "ab". */
	assert_int_equal(kmq_passwd_check(pw, "alice", 5, "ab\0c", 4), KMQ_PASSWD_MISMATCH);
	assert_int_equal(kmq_passwd_check(pw, "alice", 5, "ab", 2), KMQ_PASSWD_OK);
	kmq_passwd_free(pw);
}

static void test_sha512_file_from_mosquitto_passwd(void **state)
{
	struct kmq_passwd *pw;

	(void)state;
	mosq_passwd(true, true, "carol", "c@rol");
	assert_non_null(strstr(read_file(), "carol:$6$"));
	pw = load_ok();
	assert_int_equal(check(pw, "carol", "c@rol"), KMQ_PASSWD_OK);
	assert_int_equal(check(pw, "carol", "carol"), KMQ_PASSWD_MISMATCH);
	kmq_passwd_free(pw);
}

static void test_mixed_hash_types(void **state)
{
	struct kmq_passwd *pw;

	(void)state;
	mosq_passwd(true, true, "old", "one");
	mosq_passwd(false, false, "new", "two");
	pw = load_ok();
	assert_int_equal(check(pw, "old", "one"), KMQ_PASSWD_OK);
	assert_int_equal(check(pw, "new", "two"), KMQ_PASSWD_OK);
	assert_int_equal(check(pw, "old", "two"), KMQ_PASSWD_MISMATCH);
	assert_int_equal(check(pw, "new", "one"), KMQ_PASSWD_MISMATCH);
	kmq_passwd_free(pw);
}

static void test_user_name_with_spaces(void **state)
{
	struct kmq_passwd *pw;

	(void)state;
	mosq_passwd(true, false, "a b", "pa ss");
	pw = load_ok();
	assert_int_equal(check(pw, "a b", "pa ss"), KMQ_PASSWD_OK);
	assert_int_equal(check(pw, "a", "pa ss"), KMQ_PASSWD_NO_USER);
	kmq_passwd_free(pw);
}

static void test_many_users_are_all_found(void **state)
{
	struct kmq_passwd *pw;
	char u[16], p[16];

	(void)state;
	for (int i = 0; i < 40; i++) {
		snprintf(u, sizeof(u), "user%02d", (i * 17) % 40);
		snprintf(p, sizeof(p), "pw%d", (i * 17) % 40);
		mosq_passwd(i == 0, false, u, p);
	}
	pw = load_ok();
	assert_int_equal(kmq_passwd_count(pw), 40);
	for (int i = 0; i < 40; i++) {
		snprintf(u, sizeof(u), "user%02d", i);
		snprintf(p, sizeof(p), "pw%d", i);
		assert_int_equal(check(pw, u, p), KMQ_PASSWD_OK);
		snprintf(p, sizeof(p), "pw%d", (i + 1) % 40);
		assert_int_equal(check(pw, u, p), KMQ_PASSWD_MISMATCH);
	}
	kmq_passwd_free(pw);
}

static void test_comments_blank_lines_crlf_and_blanks(void **state)
{
	struct kmq_passwd *pw;
	char line[512], *nl;

	(void)state;
	mosq_passwd(true, false, "alice", "secret");
	strcpy(line, read_file());
	nl = strchr(line, '\n');
	assert_non_null(nl);
	*nl = 0;
	write_file("# a comment\n\n   \n  # indented comment\r\n");
	append_file("  ");
	append_file(line);
	append_file("  \r\n");
	pw = load_ok();
	assert_int_equal(kmq_passwd_count(pw), 1);
	assert_int_equal(check(pw, "alice", "secret"), KMQ_PASSWD_OK);
	kmq_passwd_free(pw);
}

static void test_tampered_hash_does_not_match(void **state)
{
	struct kmq_passwd *pw;
	char *text, *p;

	(void)state;
	mosq_passwd(true, false, "alice", "secret");
	text = read_file();
	p = strrchr(text, '$') + 5;
	*p = *p == 'A' ? 'B' : 'A';
	write_file(text);
	pw = load_ok();
	assert_int_equal(check(pw, "alice", "secret"), KMQ_PASSWD_MISMATCH);
	kmq_passwd_free(pw);
}

static void test_tampered_iterations_do_not_match(void **state)
{
	struct kmq_passwd *pw;
	char *text, *p;

	(void)state;
	mosq_passwd(true, false, "alice", "secret");
	text = read_file();
	p = strstr(text, "$7$101$");
	assert_non_null(p);
	p[5] = '2';		/* 102 iterations */
	write_file(text);
	pw = load_ok();
	assert_int_equal(check(pw, "alice", "secret"), KMQ_PASSWD_MISMATCH);
	kmq_passwd_free(pw);
}

#define SALT "hpTBTpadn6DDcOKH"
#define HASH "Euu6V/gapONqvTvkzL/MPs1jzBa/4ewxjuu65Eq4uPco/K0XcVdo7dy1nAMHKThx4o4J61YN1v30v22GSdh/Bg=="

static void test_known_vector(void **state)
{
	struct kmq_passwd *pw;

	(void)state;
	/* Written by mosquitto_passwd 2.0.11 for alice/secret. */
	write_file("alice:$7$101$" SALT "$" HASH "\n");
	pw = load_ok();
	assert_int_equal(check(pw, "alice", "secret"), KMQ_PASSWD_OK);
	assert_int_equal(check(pw, "alice", "secreT"), KMQ_PASSWD_MISMATCH);
	kmq_passwd_free(pw);
}

static void test_plaintext_refused(void **state)
{
	(void)state;
	expect_error("# users\nbob:plain\n", 2,
		     "user 'bob': plaintext password refused (hash the file with mosquitto_passwd -U)");
}

static void test_no_colon(void **state)
{
	(void)state;
	expect_error("alice\n", 1, "expected 'user:password-hash', found no ':'");
}

static void test_empty_user_name(void **state)
{
	(void)state;
	expect_error(":$7$101$" SALT "$" HASH "\n", 1, "empty user name");
	expect_error("  :$7$101$" SALT "$" HASH "\n", 1, "empty user name");
}

static void test_no_hash(void **state)
{
	(void)state;
	expect_error("\nbob:\n", 2, "user 'bob' has no password hash");
	expect_error("bob:   \n", 1, "user 'bob' has no password hash");
}

static void test_unknown_hash_type(void **state)
{
	(void)state;
	expect_error("bob:$5$abc$def\n", 1, "user 'bob': unknown hash type '$5$'");
	expect_error("bob:$argon2id$v=19\n", 1, "user 'bob': unknown hash type '$argon2id$'");
	expect_error("bob:$\n", 1, "user 'bob': unknown hash type '$$'");
}

static void test_malformed_fields(void **state)
{
	(void)state;
	expect_error("bob:$7$$" SALT "$" HASH "\n", 1, "user 'bob': empty field in the $7$ hash");
	expect_error("bob:$7$101$" SALT "$\n", 1, "user 'bob': empty field in the $7$ hash");
	expect_error("bob:$7$\n", 1, "user 'bob': empty field in the $7$ hash");
	expect_error("bob:$7$101$" SALT "\n", 1,
		     "user 'bob': the $7$ hash needs $7$ITERATIONS$SALT$HASH");
	expect_error("bob:$6$" SALT "$" HASH "$x\n", 1,
		     "user 'bob': the $6$ hash needs $6$SALT$HASH");
	expect_error("bob:$7$1$2$3$4$5\n", 1, "user 'bob': too many fields in the $7$ hash");
}

static void test_bad_iterations(void **state)
{
	(void)state;
	expect_error("bob:$7$0$" SALT "$" HASH "\n", 1,
		     "user 'bob': iteration count '0' is not an integer from 1 to 10000000");
	expect_error("bob:$7$abc$" SALT "$" HASH "\n", 1, "user 'bob': iteration count 'abc'");
	expect_error("bob:$7$-5$" SALT "$" HASH "\n", 1, "user 'bob': iteration count '-5'");
	expect_error("bob:$7$10000001$" SALT "$" HASH "\n", 1,
		     "user 'bob': iteration count '10000001'");
	expect_error("bob:$7$99999999999999999999999$" SALT "$" HASH "\n", 1,
		     "user 'bob': iteration count");
}

static void test_bad_base64(void **state)
{
	(void)state;
	expect_error("bob:$7$101$hpTBTpadn6DDcOK$" HASH "\n", 1,
		     "user 'bob': the salt is not base64 of 1 to 64 bytes");
	expect_error("bob:$7$101$hpTB!padn6DDcOKH$" HASH "\n", 1, "user 'bob': the salt is not base64");
	expect_error("bob:$7$101$====$" HASH "\n", 1, "user 'bob': the salt is not base64");
	expect_error("bob:$7$101$" SALT "$Euu6V/gapONqvTvkzL/MPs1jzBa/4ewxjuu65Eq4uPc=\n", 1,
		     "user 'bob': the hash is not base64 of 64 bytes (SHA-512)");
	expect_error("bob:$7$101$" SALT "$" HASH "AAAA\n", 1, "user 'bob': the hash is not base64");
	expect_error("bob:$7$101$" SALT "$E=u6\n", 1, "user 'bob': the hash is not base64");
}

static void test_salt_too_long(void **state)
{
	char text[1024];

	(void)state;
	/* 66 bytes of salt (88 base64 characters). */
	snprintf(text, sizeof(text), "bob:$7$101$%s$%s\n",
		 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		 HASH);
	expect_error(text, 1, "user 'bob': the salt is not base64 of 1 to 64 bytes");
}

static void test_duplicate_user(void **state)
{
	(void)state;
	expect_error("bob:$7$101$" SALT "$" HASH "\nalice:$7$101$" SALT "$" HASH "\n"
		     "bob:$6$" SALT "$" HASH "\n", 3, "user 'bob' is already defined at line 1");
}

static void test_user_name_too_long(void **state)
{
	char text[1024];

	(void)state;
	snprintf(text, sizeof(text), "%0257d:$7$101$%s$%s\n", 0, SALT, HASH);
	expect_error(text, 1, "user name longer than 256 bytes");
}

static void test_user_name_not_utf8(void **state)
{
	(void)state;
	expect_error("b\xffob:$7$101$" SALT "$" HASH "\n", 1,
		     "user name is not valid UTF-8 (MQTT user names are)");
}

static void test_missing_file(void **state)
{
	struct kmq_passwd *pw;
	char err[640];

	(void)state;
	assert_int_equal(kmq_passwd_load("/nonexistent/passwd", &pw, err, sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/passwd: No such file or directory");
}

static void test_empty_file_has_no_users(void **state)
{
	struct kmq_passwd *pw;

	(void)state;
	write_file("# nobody\n");
	pw = load_ok();
	assert_int_equal(kmq_passwd_count(pw), 0);
	assert_int_equal(check(pw, "alice", "secret"), KMQ_PASSWD_NO_USER);
	kmq_passwd_free(pw);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pbkdf2_file_from_mosquitto_passwd),
		cmocka_unit_test(test_wrong_password_is_mismatch),
		cmocka_unit_test(test_missing_password_is_mismatch),
		cmocka_unit_test(test_empty_password_matches_only_empty),
		cmocka_unit_test(test_unknown_user),
		cmocka_unit_test(test_user_name_is_compared_by_length),
		cmocka_unit_test(test_binary_password_with_nul),
		cmocka_unit_test(test_sha512_file_from_mosquitto_passwd),
		cmocka_unit_test(test_mixed_hash_types),
		cmocka_unit_test(test_user_name_with_spaces),
		cmocka_unit_test(test_many_users_are_all_found),
		cmocka_unit_test(test_comments_blank_lines_crlf_and_blanks),
		cmocka_unit_test(test_tampered_hash_does_not_match),
		cmocka_unit_test(test_tampered_iterations_do_not_match),
		cmocka_unit_test(test_known_vector),
		cmocka_unit_test(test_plaintext_refused),
		cmocka_unit_test(test_no_colon),
		cmocka_unit_test(test_empty_user_name),
		cmocka_unit_test(test_no_hash),
		cmocka_unit_test(test_unknown_hash_type),
		cmocka_unit_test(test_malformed_fields),
		cmocka_unit_test(test_bad_iterations),
		cmocka_unit_test(test_bad_base64),
		cmocka_unit_test(test_salt_too_long),
		cmocka_unit_test(test_duplicate_user),
		cmocka_unit_test(test_user_name_too_long),
		cmocka_unit_test(test_user_name_not_utf8),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_empty_file_has_no_users),
	};

	return cmocka_run_group_tests_name("passwd", tests, setup, teardown);
}

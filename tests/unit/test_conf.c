// SPDX-License-Identifier: GPL-2.0 OR MIT
/* kmqttd configuration parser: every accepted form and every error names file:line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "conf.h"

static char path[64];

static int load(const char *text, struct kmq_conf *c, char *err, size_t errlen)
{
	FILE *f;
	int ret;

	strcpy(path, "/tmp/kmqtt-test-conf-XXXXXX");
	f = fdopen(mkstemp(path), "w");
	assert_non_null(f);
	fwrite(text, 1, strlen(text), f);
	fclose(f);
	kmq_conf_init(c);
	err[0] = 0;
	ret = kmq_conf_load(path, c, err, errlen);
	unlink(path);
	return ret;
}

/* Expect a load error whose message is "<path>:<line>: <msg...>". */
static void expect_error(const char *text, unsigned int line, const char *msg)
{
	struct kmq_conf c;
	char err[640], want[700];

	assert_int_equal(load(text, &c, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:%u: %s", path, line, msg);
	if (strncmp(err, want, strlen(want)))
		fail_msg("got \"%s\", want prefix \"%s\"", err, want);
	kmq_conf_free(&c);
}

static void test_defaults_and_comments(void **state)
{
	struct kmq_conf c;
	char err[640];

	(void)state;
	assert_int_equal(load("# a comment with many words in it, more than eight of them at all\n"
			      "   # indented comment\n\n\t\n", &c, err, sizeof(err)), 0);
	assert_string_equal(c.control_socket, "/run/kmqtt/kmqttd.sock");
	assert_int_equal(c.log_level, KMQ_LOG_INFO);
	kmq_conf_free(&c);
}

static void test_values_set(void **state)
{
	struct kmq_conf c;
	char err[640];

	(void)state;
	assert_int_equal(load("control_socket /tmp/x.sock\r\nlog_level  debug  \n", &c, err,
			      sizeof(err)), 0);
	assert_string_equal(c.control_socket, "/tmp/x.sock");
	assert_int_equal(c.log_level, KMQ_LOG_DEBUG);
	kmq_conf_free(&c);
}

static void test_no_final_newline(void **state)
{
	struct kmq_conf c;
	char err[640];

	(void)state;
	assert_int_equal(load("log_level error", &c, err, sizeof(err)), 0);
	assert_int_equal(c.log_level, KMQ_LOG_ERR);
	kmq_conf_free(&c);
}

static void test_unknown_option(void **state)
{
	(void)state;
	expect_error("log_level info\n\nfrobnicate 1\n", 3, "unknown option 'frobnicate'");
}

static void test_missing_value(void **state)
{
	(void)state;
	expect_error("log_level\n", 1, "'log_level' takes 1 value, got 0");
}

static void test_extra_value(void **state)
{
	(void)state;
	expect_error("control_socket /a /b\n", 1, "'control_socket' takes 1 value, got 2");
}

static void test_bad_log_level(void **state)
{
	(void)state;
	expect_error("log_level loud\n", 1, "log_level 'loud' is not one of");
}

static void test_relative_socket(void **state)
{
	(void)state;
	expect_error("control_socket run/k.sock\n", 1, "control_socket must be an absolute path");
}

static void test_socket_path_too_long(void **state)
{
	char text[300];

	(void)state;
	snprintf(text, sizeof(text), "control_socket /%0150d\n", 0);
	expect_error(text, 1, "control_socket path is longer than a UNIX socket allows");
}

static void test_repeated_option(void **state)
{
	(void)state;
	expect_error("log_level info\nlog_level debug\n", 2, "'log_level' is set more than once");
}

static void test_too_many_tokens(void **state)
{
	(void)state;
	expect_error("log_level a b c d e f g h i j\n", 1, "too many values for 'log_level'");
}

static void test_line_too_long(void **state)
{
	char *text = malloc(KMQ_CONF_MAX_LINE + 64);

	(void)state;
	memset(text, 'x', KMQ_CONF_MAX_LINE + 10);
	strcpy(text + KMQ_CONF_MAX_LINE + 10, "\n");
	expect_error(text, 1, "line longer than");
	free(text);
}

static void test_nul_byte(void **state)
{
	struct kmq_conf c;
	char err[640];
	FILE *f;

	(void)state;
	strcpy(path, "/tmp/kmqtt-test-conf-XXXXXX");
	f = fdopen(mkstemp(path), "w");
	fwrite("log_level info\nlog\0_level\n", 1, 27, f);
	fclose(f);
	kmq_conf_init(&c);
	assert_int_equal(kmq_conf_load(path, &c, err, sizeof(err)), -1);
	assert_non_null(strstr(err, ":2: NUL byte in line"));
	unlink(path);
	kmq_conf_free(&c);
}

static void test_missing_file(void **state)
{
	struct kmq_conf c;
	char err[640];

	(void)state;
	kmq_conf_init(&c);
	assert_int_equal(kmq_conf_load("/nonexistent/kmqttd.conf", &c, err, sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/kmqttd.conf: No such file or directory");
	kmq_conf_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_comments),
		cmocka_unit_test(test_values_set),
		cmocka_unit_test(test_no_final_newline),
		cmocka_unit_test(test_unknown_option),
		cmocka_unit_test(test_missing_value),
		cmocka_unit_test(test_extra_value),
		cmocka_unit_test(test_bad_log_level),
		cmocka_unit_test(test_relative_socket),
		cmocka_unit_test(test_socket_path_too_long),
		cmocka_unit_test(test_repeated_option),
		cmocka_unit_test(test_too_many_tokens),
		cmocka_unit_test(test_line_too_long),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_missing_file),
	};

	return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
}

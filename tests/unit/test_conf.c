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

static void test_broker_defaults(void **state)
{
	struct kmq_conf c;
	char err[640];

	(void)state;
	assert_int_equal(load("\n", &c, err, sizeof(err)), 0);
	assert_int_equal(c.n_listeners, 0);
	assert_false(c.allow_anonymous);
	assert_null(c.password_file);
	assert_null(c.acl_file);
	assert_int_equal(c.max_connections, KMQ_UNLIMITED);
	assert_int_equal(c.max_connections_per_ip, KMQ_UNLIMITED);
	assert_int_equal(c.connect_rate_per_ip, KMQ_UNLIMITED);
	assert_int_equal(c.connect_timeout, 10);
	assert_int_equal(c.max_packet_size, 0);
	assert_int_equal(c.max_keepalive, 0);
	assert_int_equal(c.max_queued_messages, 0);
	assert_int_equal(c.max_inflight_messages, 0);
	kmq_conf_free(&c);
}

static void test_broker_options_set(void **state)
{
	struct kmq_conf c;
	char err[640];

	(void)state;
	assert_int_equal(load("allow_anonymous true\n"
			      "password_file /etc/kmqtt/passwd\n"
			      "acl_file /etc/kmqtt/acl\n"
			      "max_connections 1000\n"
			      "max_connections_per_ip 10\n"
			      "connect_rate_per_ip 5\n"
			      "connect_timeout 3\n"
			      "max_packet_size 65536\n"
			      "max_keepalive 600\n"
			      "max_queued_messages 500\n"
			      "max_inflight_messages 20\n", &c, err, sizeof(err)), 0);
	assert_true(c.allow_anonymous);
	assert_string_equal(c.password_file, "/etc/kmqtt/passwd");
	assert_string_equal(c.acl_file, "/etc/kmqtt/acl");
	assert_int_equal(c.max_connections, 1000);
	assert_int_equal(c.max_connections_per_ip, 10);
	assert_int_equal(c.connect_rate_per_ip, 5);
	assert_int_equal(c.connect_timeout, 3);
	assert_int_equal(c.max_packet_size, 65536);
	assert_int_equal(c.max_keepalive, 600);
	assert_int_equal(c.max_queued_messages, 500);
	assert_int_equal(c.max_inflight_messages, 20);
	kmq_conf_free(&c);
}

static void test_unlimited_is_minus_one(void **state)
{
	struct kmq_conf c;
	char err[640];

	(void)state;
	assert_int_equal(load("max_connections -1\nmax_connections_per_ip -1\n"
			      "connect_rate_per_ip -1\n", &c, err, sizeof(err)), 0);
	assert_int_equal(c.max_connections, KMQ_UNLIMITED);
	assert_int_equal(c.max_connections_per_ip, KMQ_UNLIMITED);
	assert_int_equal(c.connect_rate_per_ip, KMQ_UNLIMITED);
	kmq_conf_free(&c);
}

static void test_relative_files_follow_the_config(void **state)
{
	struct kmq_conf c;
	char err[640];

	(void)state;
	assert_int_equal(load("password_file passwd\nacl_file sub/acl\n", &c, err, sizeof(err)), 0);
	/* load() writes the file in /tmp. */
	assert_string_equal(c.password_file, "/tmp/passwd");
	assert_string_equal(c.acl_file, "/tmp/sub/acl");
	kmq_conf_free(&c);
}

static void test_listeners(void **state)
{
	struct kmq_conf c;
	char err[640];

	(void)state;
	assert_int_equal(load("listener 1883\nlistener 8883 127.0.0.1\nlistener 8883 ::1\n"
			      "listener 1884 fe80::1:2\n", &c, err, sizeof(err)), 0);
	assert_int_equal(c.n_listeners, 4);
	assert_int_equal(c.listeners[0].port, 1883);
	assert_null(c.listeners[0].address);
	assert_int_equal(c.listeners[1].port, 8883);
	assert_string_equal(c.listeners[1].address, "127.0.0.1");
	assert_string_equal(c.listeners[2].address, "::1");
	assert_int_equal(c.listeners[2].line, 3);
	assert_string_equal(c.listeners[3].address, "fe80::1:2");
	kmq_conf_free(&c);
}

static void test_listener_errors(void **state)
{
	char text[2048];
	size_t n = 0;

	(void)state;
	expect_error("listener 0\n", 1, "'listener' must be an integer from 1 to 65535, got '0'");
	expect_error("listener 65536\n", 1, "'listener' must be an integer from 1 to 65535");
	expect_error("listener 1883x\n", 1, "'listener' must be an integer from 1 to 65535, got '1883x'");
	expect_error("listener\n", 1, "'listener' takes 1 to 2 values, got 0");
	expect_error("listener 1 2 3\n", 1, "'listener' takes 1 to 2 values, got 3");
	expect_error("listener 1883 localhost\n", 1,
		     "listener address 'localhost' is not a numeric IPv4 or IPv6 address");
	expect_error("listener 1883 1.2.3.256\n", 1, "listener address '1.2.3.256' is not");
	expect_error("listener 1883\n\nlistener 1883\n", 3,
		     "listener 1883 (all addresses) is already configured at line 1");
	expect_error("listener 1883 ::1\nlistener 1883 ::1\n", 2,
		     "listener 1883 ::1 is already configured at line 1");
	for (int i = 0; i <= KMQ_CONF_MAX_LISTENERS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "listener %d\n", 1000 + i);
	expect_error(text, KMQ_CONF_MAX_LISTENERS + 1, "more than 16 listeners");
}

static void test_allow_anonymous_values(void **state)
{
	(void)state;
	expect_error("allow_anonymous yes\n", 1, "allow_anonymous must be true or false, got 'yes'");
	expect_error("allow_anonymous TRUE\n", 1, "allow_anonymous must be true or false");
	expect_error("allow_anonymous true\nallow_anonymous false\n", 2,
		     "'allow_anonymous' is set more than once");
}

static void test_numeric_ranges(void **state)
{
	(void)state;
	expect_error("max_connections 0\n", 1,
		     "'max_connections' must be -1 (unlimited) or an integer from 1 to 2147483647, got '0'");
	expect_error("max_connections -2\n", 1, "'max_connections' must be -1 (unlimited)");
	expect_error("max_connections 1e3\n", 1, "'max_connections' must be -1 (unlimited)");
	expect_error("max_connections +5\n", 1, "'max_connections' must be -1 (unlimited)");
	expect_error("max_connections 99999999999999999999\n", 1, "'max_connections' must be");
	expect_error("max_connections_per_ip 0\n", 1, "'max_connections_per_ip' must be -1 (unlimited)");
	expect_error("connect_rate_per_ip 0\n", 1, "'connect_rate_per_ip' must be -1 (unlimited)");
	expect_error("connect_rate_per_ip 1000001\n", 1,
		     "'connect_rate_per_ip' must be -1 (unlimited) or an integer from 1 to 1000000");
	expect_error("connect_timeout 0\n", 1, "'connect_timeout' must be an integer from 1 to 3600, got '0'");
	expect_error("connect_timeout -1\n", 1, "'connect_timeout' must be an integer from 1 to 3600");
	expect_error("connect_timeout 3601\n", 1, "'connect_timeout' must be an integer from 1 to 3600");
	expect_error("max_packet_size 19\n", 1,
		     "'max_packet_size' must be an integer from 20 to 268435460, got '19'");
	expect_error("max_packet_size 268435461\n", 1, "'max_packet_size' must be an integer from 20");
	expect_error("max_keepalive 65536\n", 1, "'max_keepalive' must be an integer from 0 to 65535");
	expect_error("max_keepalive -1\n", 1, "'max_keepalive' must be an integer from 0 to 65535");
	expect_error("max_queued_messages 0\n", 1,
		     "'max_queued_messages' must be an integer from 1 to 100000, got '0'");
	expect_error("max_queued_messages 100001\n", 1, "'max_queued_messages' must be an integer");
	expect_error("max_inflight_messages 0\n", 1,
		     "'max_inflight_messages' must be an integer from 1 to 65535, got '0'");
	expect_error("max_inflight_messages 65536\n", 1, "'max_inflight_messages' must be an integer");
	expect_error("connect_timeout 5\nconnect_timeout 6\n", 2, "'connect_timeout' is set more than once");
}

static void test_range_edges_accepted(void **state)
{
	struct kmq_conf c;
	char err[640];

	(void)state;
	assert_int_equal(load("max_packet_size 268435460\nmax_keepalive 65535\n"
			      "max_queued_messages 100000\nmax_inflight_messages 65535\n"
			      "connect_timeout 3600\nconnect_rate_per_ip 1000000\n"
			      "max_connections 2147483647\n", &c, err, sizeof(err)), 0);
	assert_int_equal(c.max_packet_size, 268435460);
	assert_int_equal(c.max_keepalive, 65535);
	assert_int_equal(c.max_queued_messages, 100000);
	assert_int_equal(c.max_inflight_messages, 65535);
	assert_int_equal(c.connect_timeout, 3600);
	assert_int_equal(c.connect_rate_per_ip, 1000000);
	assert_int_equal(c.max_connections, 2147483647);
	kmq_conf_free(&c);
}

static void test_file_options_need_one_value(void **state)
{
	(void)state;
	expect_error("password_file\n", 1, "'password_file' takes 1 value, got 0");
	expect_error("acl_file a b\n", 1, "'acl_file' takes 1 value, got 2");
	expect_error("password_file /a\npassword_file /b\n", 2, "'password_file' is set more than once");
}

static void test_line_reader_strips_cr(void **state)
{
	struct kmq_conf c;
	char err[640];

	(void)state;
	assert_int_equal(load("acl_file /x/acl\r\n", &c, err, sizeof(err)), 0);
	assert_string_equal(c.acl_file, "/x/acl");
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
		cmocka_unit_test(test_broker_defaults),
		cmocka_unit_test(test_broker_options_set),
		cmocka_unit_test(test_unlimited_is_minus_one),
		cmocka_unit_test(test_relative_files_follow_the_config),
		cmocka_unit_test(test_listeners),
		cmocka_unit_test(test_listener_errors),
		cmocka_unit_test(test_allow_anonymous_values),
		cmocka_unit_test(test_numeric_ranges),
		cmocka_unit_test(test_range_edges_accepted),
		cmocka_unit_test(test_file_options_need_one_value),
		cmocka_unit_test(test_line_reader_strips_cr),
	};

	return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
}

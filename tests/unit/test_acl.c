// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * ACL files in mosquitto's format: parsing (each error names file:line), the rule list
 * built for one client (sections, %u/%c, unsafe names, ordering, the module's rule cap)
 * and its evaluation with the module's first-match semantics.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "acl.h"

#define R KMQTT_ACL_READ
#define W KMQTT_ACL_WRITE
#define RW KMQTT_ACL_READWRITE
#define DENY KMQTT_ACL_DENY

static char path[64];

static int write_file(const char *text)
{
	FILE *f;

	strcpy(path, "/tmp/kmqtt-test-acl-XXXXXX");
	f = fdopen(mkstemp(path), "w");
	if (!f)
		return -1;
	fwrite(text, 1, strlen(text), f);
	fclose(f);
	return 0;
}

static struct kmq_acl *load_ok(const char *text)
{
	struct kmq_acl *acl;
	char err[640] = "";

	assert_int_equal(write_file(text), 0);
	if (kmq_acl_load(path, &acl, err, sizeof(err)))
		fail_msg("load failed: %s", err);
	unlink(path);
	return acl;
}

static void expect_error(const char *text, unsigned int line, const char *msg)
{
	struct kmq_acl *acl = (void *)1;
	char err[640] = "", want[700];

	assert_int_equal(write_file(text), 0);
	assert_int_equal(kmq_acl_load(path, &acl, err, sizeof(err)), -1);
	unlink(path);
	assert_null(acl);
	snprintf(want, sizeof(want), "%s:%u: %s", path, line, msg);
	if (strncmp(err, want, strlen(want)))
		fail_msg("got \"%s\", want prefix \"%s\"", err, want);
}

static void rules_ok(const struct kmq_acl *acl, const char *user, const char *id,
		     struct kmq_acl_rules *r)
{
	char why[256] = "";

	if (kmq_acl_rules(acl, user, id, r, why, sizeof(why)))
		fail_msg("kmq_acl_rules failed: %s", why);
}

/* The rule list must be exactly "filter=access" pairs, in order (NULL-terminated). */
static void expect_rules(const struct kmq_acl_rules *r, ...)
{
	unsigned int i = 0;
	va_list ap;
	const char *f;

	va_start(ap, r);
	while ((f = va_arg(ap, const char *))) {
		uint32_t access = va_arg(ap, uint32_t);

		if (i >= r->n)
			fail_msg("rule %u missing: want %s %s", i, kmq_acl_access_name(access), f);
		if (strcmp(r->rule[i].filter, f) || r->rule[i].access != access)
			fail_msg("rule %u is %s %s, want %s %s", i,
				 kmq_acl_access_name(r->rule[i].access), r->rule[i].filter,
				 kmq_acl_access_name(access), f);
		i++;
	}
	va_end(ap);
	if (i != r->n)
		fail_msg("%u rules, want %u (extra: %s)", r->n, i, r->rule[i].filter);
}

static bool can(const struct kmq_acl_rules *r, const char *topic, uint32_t access)
{
	return kmq_acl_rules_allow(r, topic, access);
}

/* ---- parsing ---- */

static void test_anonymous_section_is_before_any_user(void **state)
{
	struct kmq_acl_rules r;
	struct kmq_acl *acl;

	(void)state;
	acl = load_ok("# anonymous clients\ntopic read public/#\n\nuser alice\ntopic alice/#\n");
	rules_ok(acl, NULL, "c1", &r);
	expect_rules(&r, "public/#", R, NULL);
	kmq_acl_rules_free(&r);
	rules_ok(acl, "alice", "c1", &r);
	expect_rules(&r, "alice/#", RW, NULL);
	kmq_acl_rules_free(&r);
	kmq_acl_free(acl);
}

static void test_user_without_section_gets_no_topic_rules(void **state)
{
	struct kmq_acl_rules r;
	struct kmq_acl *acl;

	(void)state;
	acl = load_ok("topic read public/#\nuser alice\ntopic alice/#\n");
	rules_ok(acl, "bob", "c1", &r);
	expect_rules(&r, NULL);
	assert_false(can(&r, "public/x", R));
	kmq_acl_rules_free(&r);
	kmq_acl_free(acl);
}

static void test_access_words(void **state)
{
	struct kmq_acl_rules r;
	struct kmq_acl *acl;

	(void)state;
	acl = load_ok("topic read a/#\ntopic write b/#\ntopic readwrite c/#\ntopic d/#\n"
		      "topic deny e/#\n");
	rules_ok(acl, NULL, "c1", &r);
	expect_rules(&r, "e/#", DENY, "a/#", R, "b/#", W, "c/#", RW, "d/#", RW, NULL);
	kmq_acl_rules_free(&r);
	kmq_acl_free(acl);
}

static void test_filter_is_rest_of_line_with_spaces(void **state)
{
	struct kmq_acl_rules r;
	struct kmq_acl *acl;

	(void)state;
	acl = load_ok("user  alice smith  \ntopic read   my topic/with spaces  \r\n"
		      "topic  one/word\t\n");
	rules_ok(acl, "alice smith", "c1", &r);
	expect_rules(&r, "my topic/with spaces", R, "one/word", RW, NULL);
	assert_true(can(&r, "my topic/with spaces", R));
	kmq_acl_rules_free(&r);
	kmq_acl_free(acl);
}

static void test_repeated_user_sections_merge(void **state)
{
	struct kmq_acl_rules r;
	struct kmq_acl *acl;

	(void)state;
	acl = load_ok("user bob\ntopic read x/#\nuser alice\ntopic a/#\nuser bob\n"
		      "topic write y/#\n");
	rules_ok(acl, "bob", "c1", &r);
	expect_rules(&r, "x/#", R, "y/#", W, NULL);
	kmq_acl_rules_free(&r);
	kmq_acl_free(acl);
}

static void test_many_users_found(void **state)
{
	char text[8192], name[32], want[32];
	struct kmq_acl_rules r;
	struct kmq_acl *acl;
	size_t n = 0;

	(void)state;
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "user u%d\ntopic t/%d\n",
				      (i * 37) % 100, (i * 37) % 100);
	acl = load_ok(text);
	for (int i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "u%d", i);
		snprintf(want, sizeof(want), "t/%d", i);
		rules_ok(acl, name, "c", &r);
		expect_rules(&r, want, RW, NULL);
		kmq_acl_rules_free(&r);
	}
	kmq_acl_free(acl);
}

static void test_unknown_keyword(void **state)
{
	(void)state;
	expect_error("topic a\n\ntopics read a\n", 3,
		     "unknown keyword 'topics' (topic, pattern or user)");
	expect_error("  bogus\n", 1, "unknown keyword 'bogus'");
}

static void test_rule_without_filter(void **state)
{
	(void)state;
	expect_error("topic\n", 1, "'topic' needs a topic filter");
	expect_error("pattern   \n", 1, "'pattern' needs a topic filter");
	expect_error("topic read\n", 1, "'topic read' needs a topic filter after the access");
	expect_error("pattern deny  \n", 1, "'pattern deny' needs a topic filter after the access");
}

static void test_unknown_access(void **state)
{
	(void)state;
	expect_error("topic rw a/b\n", 1, "unknown access 'rw' (read, write, readwrite or deny)");
	expect_error("topic Read a/b\n", 1, "unknown access 'Read'");
}

static void test_invalid_filters(void **state)
{
	char text[1200];

	(void)state;
	expect_error("topic read a/#/b\n", 1, "invalid topic filter 'a/#/b': ");
	expect_error("topic a+\n", 1, "invalid topic filter 'a+': ");
	expect_error("user x\ntopic write \xc3\x28\n", 2, "invalid topic filter");
	expect_error("pattern read a/%u#\n", 1, "invalid pattern filter 'a/%u#'");
	expect_error("pattern read %c/#/x\n", 1, "invalid pattern filter '%c/#/x'");
	snprintf(text, sizeof(text), "topic read %01025d\n", 0);
	expect_error(text, 1, "topic filter longer than 1024 bytes");
	snprintf(text, sizeof(text), "pattern read %01025d\n", 0);
	expect_error(text, 1, "pattern filter longer than 1024 bytes");
	expect_error("topic read a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t/u/v/w/x/y/z/1/2/3/4/5/6/7\n",
		     1, "invalid topic filter");
}

static void test_shared_prefix_is_literal(void **state)
{
	struct kmq_acl_rules r;
	struct kmq_acl *acl;

	(void)state;
	/* As in the module, "$share/..." in an ACL is a literal topic, not a share. */
	acl = load_ok("topic read $share/g/a\n");
	rules_ok(acl, NULL, "c", &r);
	expect_rules(&r, "$share/g/a", R, NULL);
	kmq_acl_rules_free(&r);
	kmq_acl_free(acl);
}

static void test_user_line_errors(void **state)
{
	char text[400];

	(void)state;
	expect_error("topic a\nuser\n", 2, "'user' needs a user name");
	expect_error("user   \t\n", 1, "'user' needs a user name");
	snprintf(text, sizeof(text), "user %0257d\n", 0);
	expect_error(text, 1, "user name longer than 256 bytes");
	expect_error("user a\xff\n", 1, "user name is not valid UTF-8");
}

static void test_nul_and_long_lines(void **state)
{
	char *text = malloc(5000);

	(void)state;
	memset(text, 'a', 4200);
	memcpy(text, "topic ", 6);
	strcpy(text + 4200, "\n");
	expect_error(text, 1, "line longer than 4096 bytes");
	free(text);
}

static void test_missing_file(void **state)
{
	struct kmq_acl *acl;
	char err[640];

	(void)state;
	assert_int_equal(kmq_acl_load("/nonexistent/acl", &acl, err, sizeof(err)), -1);
	assert_string_equal(err, "/nonexistent/acl: No such file or directory");
}

/* ---- rules for a client ---- */

static void test_patterns_apply_to_everyone(void **state)
{
	struct kmq_acl_rules r;
	struct kmq_acl *acl;

	(void)state;
	acl = load_ok("topic read anon/#\nuser alice\ntopic read a/#\n"
		      "pattern write devices/%c/#\npattern read users/%u/#\n");
	rules_ok(acl, "alice", "dev1", &r);
	expect_rules(&r, "a/#", R, "devices/dev1/#", W, "users/alice/#", R, NULL);
	kmq_acl_rules_free(&r);
	/* Anonymous: its section, and only the patterns without %u. */
	rules_ok(acl, NULL, "dev2", &r);
	expect_rules(&r, "anon/#", R, "devices/dev2/#", W, NULL);
	kmq_acl_rules_free(&r);
	kmq_acl_free(acl);
}

static void test_substitution_everywhere_and_literal_percent(void **state)
{
	struct kmq_acl_rules r;
	struct kmq_acl *acl;

	(void)state;
	acl = load_ok("pattern read %u-%c/x%u/%x/100%\n");
	rules_ok(acl, "bob", "c9", &r);
	expect_rules(&r, "bob-c9/xbob/%x/100%", R, NULL);
	kmq_acl_rules_free(&r);
	kmq_acl_free(acl);
}

static void test_percent_in_values_is_not_substituted_again(void **state)
{
	struct kmq_acl_rules r;
	struct kmq_acl *acl;

	(void)state;
	acl = load_ok("pattern read d/%c/%u\n");
	rules_ok(acl, "%c", "%u", &r);
	expect_rules(&r, "d/%u/%c", R, NULL);
	kmq_acl_rules_free(&r);
	kmq_acl_free(acl);
}

static void test_topic_rules_are_not_substituted(void **state)
{
	struct kmq_acl_rules r;
	struct kmq_acl *acl;

	(void)state;
	acl = load_ok("user bob\ntopic read x/%u\n");
	rules_ok(acl, "bob", "c", &r);
	expect_rules(&r, "x/%u", R, NULL);
	kmq_acl_rules_free(&r);
	kmq_acl_free(acl);
}

static void test_unsafe_values_drop_grant_patterns(void **state)
{
	static const char *const unsafe[] = { "+", "#", "a/b", "x+", "/", "a#" };
	struct kmq_acl_rules r;
	struct kmq_acl *acl;

	(void)state;
	acl = load_ok("pattern readwrite u/%u/#\npattern read c/%c\npattern read all/#\n");
	for (size_t i = 0; i < sizeof(unsafe) / sizeof(unsafe[0]); i++) {
		rules_ok(acl, unsafe[i], "ok", &r);
		expect_rules(&r, "c/ok", R, "all/#", R, NULL);
		assert_int_equal(r.dropped, 1);
		assert_false(can(&r, "u/x/y", R));
		kmq_acl_rules_free(&r);
		rules_ok(acl, "ok", unsafe[i], &r);
		expect_rules(&r, "u/ok/#", RW, "all/#", R, NULL);
		assert_int_equal(r.dropped, 1);
		kmq_acl_rules_free(&r);
	}
	kmq_acl_free(acl);
}

static void test_unsafe_value_only_matters_where_used(void **state)
{
	struct kmq_acl_rules r;
	struct kmq_acl *acl;

	(void)state;
	/* A client id with '/' does not disturb a pattern that uses only %u. */
	acl = load_ok("pattern read u/%u\n");
	rules_ok(acl, "bob", "site/dev1", &r);
	expect_rules(&r, "u/bob", R, NULL);
	assert_int_equal(r.dropped, 0);
	kmq_acl_rules_free(&r);
	kmq_acl_free(acl);
}

static void test_unsafe_value_widens_deny_patterns(void **state)
{
	struct kmq_acl_rules r;
	struct kmq_acl *acl;

	(void)state;
	acl = load_ok("pattern deny secret/%u\ntopic readwrite #\nuser #\ntopic readwrite #\n"
		      "user a/b\ntopic readwrite #\n");
	/* "#" as a user name: the deny grows to secret/#, which only takes access away. */
	rules_ok(acl, "#", "c", &r);
	expect_rules(&r, "secret/#", DENY, "#", RW, NULL);
	assert_false(can(&r, "secret/x/y", R));
	assert_true(can(&r, "public", W));
	kmq_acl_rules_free(&r);
	rules_ok(acl, "a/b", "c", &r);
	expect_rules(&r, "secret/a/b", DENY, "#", RW, NULL);
	assert_false(can(&r, "secret/a/b", W));
	kmq_acl_rules_free(&r);
	kmq_acl_free(acl);
}

static void test_deny_pattern_that_cannot_apply_refuses(void **state)
{
	struct kmq_acl_rules r;
	struct kmq_acl *acl;
	char why[256] = "";

	(void)state;
	acl = load_ok("pattern deny secret/%u\n");
	assert_int_equal(kmq_acl_rules(acl, "x#", "c", &r, why, sizeof(why)), -1);
	assert_string_equal(why, "deny pattern 'secret/%u' (line 1) cannot be applied to this client's name");
	kmq_acl_free(acl);
}

static void test_long_substitution_drops_grant_refuses_deny(void **state)
{
	char user[1100], why[256];
	struct kmq_acl_rules r;
	struct kmq_acl *acl;

	(void)state;
	memset(user, 'u', 1030);
	user[1030] = 0;
	acl = load_ok("pattern read p/%u\n");
	rules_ok(acl, user, "c", &r);
	expect_rules(&r, NULL);
	assert_int_equal(r.dropped, 1);
	kmq_acl_rules_free(&r);
	kmq_acl_free(acl);
	acl = load_ok("pattern deny p/%u\n");
	assert_int_equal(kmq_acl_rules(acl, user, "c", &r, why, sizeof(why)), -1);
	kmq_acl_free(acl);
}

static void test_deny_rules_come_first(void **state)
{
	struct kmq_acl_rules r;
	struct kmq_acl *acl;

	(void)state;
	acl = load_ok("user alice\ntopic readwrite a/#\ntopic deny a/secret/#\n"
		      "pattern deny private/%c/#\npattern readwrite private/#\n");
	rules_ok(acl, "alice", "c1", &r);
	expect_rules(&r, "a/secret/#", DENY, "private/c1/#", DENY, "a/#", RW, "private/#", RW,
		     NULL);
	assert_true(can(&r, "a/b", W));
	assert_false(can(&r, "a/secret/b", R));
	assert_false(can(&r, "a/secret", W));
	assert_false(can(&r, "private/c1/x", R));
	assert_true(can(&r, "private/c2/x", R));
	kmq_acl_rules_free(&r);
	kmq_acl_free(acl);
}

static void test_identical_filters_merge(void **state)
{
	struct kmq_acl_rules r;
	struct kmq_acl *acl;

	(void)state;
	acl = load_ok("user alice\ntopic read a/#\ntopic write a/#\ntopic deny x\ntopic deny x\n"
		      "pattern read %u/#\n");
	/* %u/# is alice/#, not a/#: nothing merges with it. */
	rules_ok(acl, "alice", "c", &r);
	expect_rules(&r, "x", DENY, "a/#", RW, "alice/#", R, NULL);
	kmq_acl_rules_free(&r);
	rules_ok(acl, "a", "c", &r);
	expect_rules(&r, "a/#", R, NULL);
	kmq_acl_rules_free(&r);
	kmq_acl_free(acl);
}

static void test_grant_identical_to_deny_is_dropped(void **state)
{
	struct kmq_acl_rules r;
	struct kmq_acl *acl;

	(void)state;
	acl = load_ok("topic readwrite a/b\ntopic deny a/b\ntopic read c\n");
	rules_ok(acl, NULL, "c", &r);
	expect_rules(&r, "a/b", DENY, "c", R, NULL);
	kmq_acl_rules_free(&r);
	kmq_acl_free(acl);
}

static void test_plain_names_take_every_matching_grant(void **state)
{
	struct kmq_acl_rules r;
	struct kmq_acl *acl;

	(void)state;
	acl = load_ok("user alice\ntopic read #\ntopic write cmd/dev1\npattern write cmd/%c\n"
		      "topic read +/status\ntopic write a/status\n");
	rules_ok(acl, "alice", "dev2", &r);
	expect_rules(&r, "cmd/dev1", RW, "a/status", RW, "cmd/dev2", RW, "#", R, "+/status", R,
		     NULL);
	/* mosquitto's answers: any matching grant grants. */
	assert_true(can(&r, "cmd/dev1", W));
	assert_true(can(&r, "cmd/dev1", R));
	assert_true(can(&r, "cmd/dev2", W));
	assert_false(can(&r, "cmd/dev3", W));
	assert_true(can(&r, "cmd/dev3", R));
	assert_true(can(&r, "a/status", W));
	assert_false(can(&r, "b/status", W));
	kmq_acl_rules_free(&r);
	kmq_acl_free(acl);
}

static void test_plain_name_widening_respects_dollar_topics(void **state)
{
	struct kmq_acl_rules r;
	struct kmq_acl *acl;

	(void)state;
	/* '#' does not match "$SYS/x" (MQTT 4.7.2): the plain rule keeps its own access. */
	acl = load_ok("topic write #\ntopic read $SYS/x\n");
	rules_ok(acl, NULL, "c", &r);
	expect_rules(&r, "$SYS/x", R, "#", W, NULL);
	assert_false(can(&r, "$SYS/x", W));
	assert_false(can(&r, "$SYS/y", R));
	kmq_acl_rules_free(&r);
	kmq_acl_free(acl);
}

static void test_wildcard_overlap_first_listed_decides(void **state)
{
	struct kmq_acl_rules r;
	struct kmq_acl *acl;

	(void)state;
	/* The documented gap: mosquitto would allow writing a/x; the module grants less. */
	acl = load_ok("topic read a/#\ntopic write +/x\n");
	rules_ok(acl, NULL, "c", &r);
	expect_rules(&r, "a/#", R, "+/x", W, NULL);
	assert_true(can(&r, "a/x", R));
	assert_false(can(&r, "a/x", W));
	assert_true(can(&r, "b/x", W));
	kmq_acl_rules_free(&r);
	kmq_acl_free(acl);
}

static void test_no_match_denies(void **state)
{
	struct kmq_acl_rules r;
	struct kmq_acl *acl;

	(void)state;
	acl = load_ok("topic read a\n");
	rules_ok(acl, NULL, "c", &r);
	assert_true(can(&r, "a", R));
	assert_false(can(&r, "a", W));
	assert_false(can(&r, "b", R));
	assert_false(can(&r, "a/b", R));
	assert_false(can(&r, "", R));
	assert_false(can(&r, "a/+", R));
	kmq_acl_rules_free(&r);
	kmq_acl_free(acl);
}

static void test_empty_acl_denies_everything(void **state)
{
	struct kmq_acl_rules r;
	struct kmq_acl *acl;

	(void)state;
	acl = load_ok("# nothing\n");
	rules_ok(acl, "alice", "c", &r);
	expect_rules(&r, NULL);
	assert_false(can(&r, "x", R));
	kmq_acl_rules_free(&r);
	kmq_acl_free(acl);
}

static void test_rule_cap(void **state)
{
	char text[8192], why[256] = "";
	struct kmq_acl_rules r;
	struct kmq_acl *acl;
	size_t n = 0;

	(void)state;
	for (int i = 0; i < KMQTT_MAX_ACL_RULES; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "topic read t/%d/#\n", i);
	acl = load_ok(text);
	rules_ok(acl, NULL, "c", &r);
	assert_int_equal(r.n, KMQTT_MAX_ACL_RULES);
	assert_true(can(&r, "t/63/x", R));
	kmq_acl_rules_free(&r);
	kmq_acl_free(acl);

	/* One more, from a pattern: too many for this client. */
	snprintf(text + n, sizeof(text) - n, "pattern read dev/%%c\n");
	acl = load_ok(text);
	assert_int_equal(kmq_acl_rules(acl, NULL, "c", &r, why, sizeof(why)), -1);
	assert_string_equal(why, "65 ACL rules apply to this client, the module takes at most 64");
	/* Merged duplicates do not count twice. */
	kmq_acl_free(acl);
	snprintf(text + n, sizeof(text) - n, "topic write t/0/#\n");
	acl = load_ok(text);
	rules_ok(acl, NULL, "c", &r);
	assert_int_equal(r.n, KMQTT_MAX_ACL_RULES);
	assert_true(can(&r, "t/0/x", W));
	kmq_acl_rules_free(&r);
	kmq_acl_free(acl);
}

static void test_evaluation_rejects_bad_topics(void **state)
{
	struct kmq_acl_rules r;
	struct kmq_acl *acl;
	char topic[1100];

	(void)state;
	acl = load_ok("topic readwrite #\n");
	rules_ok(acl, NULL, "c", &r);
	assert_true(can(&r, "a/b/c", W));
	assert_false(can(&r, "a/#", W));
	memset(topic, 'a', 1030);
	topic[1030] = 0;
	assert_false(can(&r, topic, W));
	kmq_acl_rules_free(&r);
	kmq_acl_free(acl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_anonymous_section_is_before_any_user),
		cmocka_unit_test(test_user_without_section_gets_no_topic_rules),
		cmocka_unit_test(test_access_words),
		cmocka_unit_test(test_filter_is_rest_of_line_with_spaces),
		cmocka_unit_test(test_repeated_user_sections_merge),
		cmocka_unit_test(test_many_users_found),
		cmocka_unit_test(test_unknown_keyword),
		cmocka_unit_test(test_rule_without_filter),
		cmocka_unit_test(test_unknown_access),
		cmocka_unit_test(test_invalid_filters),
		cmocka_unit_test(test_shared_prefix_is_literal),
		cmocka_unit_test(test_user_line_errors),
		cmocka_unit_test(test_nul_and_long_lines),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_patterns_apply_to_everyone),
		cmocka_unit_test(test_substitution_everywhere_and_literal_percent),
		cmocka_unit_test(test_percent_in_values_is_not_substituted_again),
		cmocka_unit_test(test_topic_rules_are_not_substituted),
		cmocka_unit_test(test_unsafe_values_drop_grant_patterns),
		cmocka_unit_test(test_unsafe_value_only_matters_where_used),
		cmocka_unit_test(test_unsafe_value_widens_deny_patterns),
		cmocka_unit_test(test_deny_pattern_that_cannot_apply_refuses),
		cmocka_unit_test(test_long_substitution_drops_grant_refuses_deny),
		cmocka_unit_test(test_deny_rules_come_first),
		cmocka_unit_test(test_identical_filters_merge),
		cmocka_unit_test(test_grant_identical_to_deny_is_dropped),
		cmocka_unit_test(test_plain_names_take_every_matching_grant),
		cmocka_unit_test(test_plain_name_widening_respects_dollar_topics),
		cmocka_unit_test(test_wildcard_overlap_first_listed_decides),
		cmocka_unit_test(test_no_match_denies),
		cmocka_unit_test(test_empty_acl_denies_everything),
		cmocka_unit_test(test_rule_cap),
		cmocka_unit_test(test_evaluation_rejects_bad_topics),
	};

	return cmocka_run_group_tests_name("acl", tests, NULL, NULL);
}

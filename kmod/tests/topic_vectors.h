/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Topic validation and matching vectors, shared by the host unit tests
 * (tests/unit/test_topic.c) and the KUnit suite. Static tables only.
 *
 * References are to MQTT 3.1.1 (OASIS Standard, 2014) and MQTT 5.0 (OASIS Standard, 2019).
 */
#ifndef KMQTT_TESTS_TOPIC_VECTORS_H
#define KMQTT_TESTS_TOPIC_VECTORS_H

#include "topic.h"

/* A string literal with its length, embedded NULs included. */
#define TV_STR(str)	.s = (str), .len = sizeof(str) - 1

struct topic_valid_vector {
	const char *s;
	u16 len;
	s8 name_err;	/* topic_name_valid() with TOPIC_LIMITS_DEFAULT */
	s8 filter_err;	/* topic_filter_valid() with TOPIC_LIMITS_DEFAULT */
	const char *why;
};

static const struct topic_valid_vector topic_valid_vectors[] = {
	/* §4.7.1.2 multi-level wildcard */
	{ TV_STR("sport/tennis/player1"), 0, 0, "plain name" },
	{ TV_STR("sport/tennis/player1/#"), TOPIC_E_WILDCARD_IN_NAME, 0, "4.7.1.2 '#' last" },
	{ TV_STR("sport/#"), TOPIC_E_WILDCARD_IN_NAME, 0, "4.7.1.2 sport/#" },
	{ TV_STR("#"), TOPIC_E_WILDCARD_IN_NAME, 0, "4.7.1.2 '#' alone" },
	{ TV_STR("sport/tennis#"), TOPIC_E_WILDCARD_IN_NAME, TOPIC_E_BAD_HASH,
	  "4.7.1.2 '#' not alone in its level" },
	{ TV_STR("sport/tennis/#/ranking"), TOPIC_E_WILDCARD_IN_NAME, TOPIC_E_BAD_HASH,
	  "4.7.1.2 '#' not last" },
	{ TV_STR("#/a"), TOPIC_E_WILDCARD_IN_NAME, TOPIC_E_BAD_HASH, "'#' first of two levels" },
	{ TV_STR("a/#/"), TOPIC_E_WILDCARD_IN_NAME, TOPIC_E_BAD_HASH, "'#' before empty level" },
	{ TV_STR("##"), TOPIC_E_WILDCARD_IN_NAME, TOPIC_E_BAD_HASH, "'##'" },
	{ TV_STR("#a"), TOPIC_E_WILDCARD_IN_NAME, TOPIC_E_BAD_HASH, "'#' then text" },
	{ TV_STR("#+"), TOPIC_E_WILDCARD_IN_NAME, TOPIC_E_BAD_HASH, "'#+'" },
	/* §4.7.1.3 single-level wildcard */
	{ TV_STR("+"), TOPIC_E_WILDCARD_IN_NAME, 0, "4.7.1.3 '+' alone" },
	{ TV_STR("+/tennis/#"), TOPIC_E_WILDCARD_IN_NAME, 0, "4.7.1.3 '+' with '#'" },
	{ TV_STR("sport+"), TOPIC_E_WILDCARD_IN_NAME, TOPIC_E_BAD_PLUS,
	  "4.7.1.3 '+' not alone in its level" },
	{ TV_STR("sport/+/player1"), TOPIC_E_WILDCARD_IN_NAME, 0, "4.7.1.3 '+' in the middle" },
	{ TV_STR("/finance"), 0, 0, "4.7.1.3 leading empty level" },
	{ TV_STR("+/+"), TOPIC_E_WILDCARD_IN_NAME, 0, "4.7.1.3 '+/+'" },
	{ TV_STR("/+"), TOPIC_E_WILDCARD_IN_NAME, 0, "4.7.1.3 '/+'" },
	{ TV_STR("++"), TOPIC_E_WILDCARD_IN_NAME, TOPIC_E_BAD_PLUS, "'++'" },
	{ TV_STR("a/+b"), TOPIC_E_WILDCARD_IN_NAME, TOPIC_E_BAD_PLUS, "'+' then text" },
	{ TV_STR("a/b+"), TOPIC_E_WILDCARD_IN_NAME, TOPIC_E_BAD_PLUS, "text then '+'" },
	{ TV_STR("+#"), TOPIC_E_WILDCARD_IN_NAME, TOPIC_E_BAD_PLUS, "'+#'" },
	/* §4.7.3 topic semantics */
	{ TV_STR(""), TOPIC_E_EMPTY, TOPIC_E_EMPTY, "4.7.3 at least one character" },
	{ TV_STR("/"), 0, 0, "4.7.3 two empty levels" },
	{ TV_STR("a//b"), 0, 0, "4.7.3 empty level in the middle" },
	{ TV_STR("a/"), 0, 0, "trailing empty level" },
	{ TV_STR("Accounts payable"), 0, 0, "4.7.3 spaces are allowed" },
	{ TV_STR("ACCOUNTS"), 0, 0, "case is kept" },
	/* §4.7.2 topics beginning with $ */
	{ TV_STR("$SYS/monitor/Clients"), 0, 0, "4.7.2 $SYS name" },
	{ TV_STR("$SYS/#"), TOPIC_E_WILDCARD_IN_NAME, 0, "4.7.2 $SYS/#" },
	{ TV_STR("$SYS/monitor/+"), TOPIC_E_WILDCARD_IN_NAME, 0, "4.7.2 $SYS/monitor/+" },
	/* §1.5.3 / 5.0 §1.5.4 UTF-8 */
	{ TV_STR("a\0b"), TOPIC_E_NUL, TOPIC_E_NUL, "1.5.3 U+0000" },
	{ TV_STR("caf\xc3\xa9"), 0, 0, "two-byte sequence" },
	{ TV_STR("\xf0\x9f\x98\x80/x"), 0, 0, "four-byte sequence" },
	{ TV_STR("\xed\x9f\xbf"), 0, 0, "U+D7FF, below the surrogates" },
	{ TV_STR("\xee\x80\x80"), 0, 0, "U+E000, above the surrogates" },
	{ TV_STR("\xef\xbf\xbf"), 0, 0, "U+FFFF non-character is only SHOULD NOT" },
	{ TV_STR("\xf4\x8f\xbf\xbf"), 0, 0, "U+10FFFF, the last code point" },
	{ TV_STR("\x01\x7f"), 0, 0, "controls are only SHOULD NOT" },
	{ TV_STR("\xed\xa0\x80"), TOPIC_E_UTF8_SURROGATE, TOPIC_E_UTF8_SURROGATE, "U+D800" },
	{ TV_STR("\xed\xbf\xbf"), TOPIC_E_UTF8_SURROGATE, TOPIC_E_UTF8_SURROGATE, "U+DFFF" },
	{ TV_STR("\xc0\x80"), TOPIC_E_UTF8_OVERLONG, TOPIC_E_UTF8_OVERLONG, "overlong NUL" },
	{ TV_STR("\xc1\xbf"), TOPIC_E_UTF8_OVERLONG, TOPIC_E_UTF8_OVERLONG, "overlong 2-byte" },
	{ TV_STR("\xe0\x80\xaf"), TOPIC_E_UTF8_OVERLONG, TOPIC_E_UTF8_OVERLONG, "overlong '/'" },
	{ TV_STR("\xf0\x8f\xbf\xbf"), TOPIC_E_UTF8_OVERLONG, TOPIC_E_UTF8_OVERLONG,
	  "overlong 4-byte" },
	{ TV_STR("\xf4\x90\x80\x80"), TOPIC_E_UTF8_RANGE, TOPIC_E_UTF8_RANGE, "U+110000" },
	{ TV_STR("\xf7\xbf\xbf\xbf"), TOPIC_E_UTF8_RANGE, TOPIC_E_UTF8_RANGE, "U+1FFFFF" },
	{ TV_STR("a\xe2\x82"), TOPIC_E_UTF8_TRUNCATED, TOPIC_E_UTF8_TRUNCATED, "cut sequence" },
	{ TV_STR("\xc3"), TOPIC_E_UTF8_TRUNCATED, TOPIC_E_UTF8_TRUNCATED, "lone lead byte" },
	{ TV_STR("\x80"), TOPIC_E_UTF8_BAD_BYTE, TOPIC_E_UTF8_BAD_BYTE, "stray continuation" },
	{ TV_STR("\xff"), TOPIC_E_UTF8_BAD_BYTE, TOPIC_E_UTF8_BAD_BYTE, "0xFF" },
	{ TV_STR("\xf8\x88\x80\x80\x80"), TOPIC_E_UTF8_BAD_BYTE, TOPIC_E_UTF8_BAD_BYTE,
	  "5-byte form" },
	{ TV_STR("\xe2\x28\xa1"), TOPIC_E_UTF8_BAD_BYTE, TOPIC_E_UTF8_BAD_BYTE,
	  "missing continuation" },
	/* 5.0 §4.8.2 shared subscriptions (TOPIC_LIM_SHARED is in the defaults) */
	{ TV_STR("$share/g/a/b"), 0, 0, "4.8.2 shared filter" },
	{ TV_STR("$share/g/#"), TOPIC_E_WILDCARD_IN_NAME, 0, "4.8.2 shared '#'" },
	{ TV_STR("$share/consumer1/sport/tennis/+"), TOPIC_E_WILDCARD_IN_NAME, 0,
	  "4.8.2 spec example" },
	{ TV_STR("$share/g//"), 0, 0, "shared filter of empty levels" },
	{ TV_STR("$share//a"), 0, TOPIC_E_BAD_SHARE, "4.8.2-1 empty ShareName" },
	{ TV_STR("$share/g"), 0, TOPIC_E_BAD_SHARE, "4.8.2-2 ShareName not followed by '/'" },
	{ TV_STR("$share/g/"), 0, TOPIC_E_BAD_SHARE, "4.8.2-2 no filter after ShareName" },
	{ TV_STR("$share/"), 0, TOPIC_E_BAD_SHARE, "4.8.2 nothing after $share/" },
	{ TV_STR("$share/g+/a"), TOPIC_E_WILDCARD_IN_NAME, TOPIC_E_BAD_SHARE,
	  "4.8.2-2 '+' in ShareName" },
	{ TV_STR("$share/#/a"), TOPIC_E_WILDCARD_IN_NAME, TOPIC_E_BAD_SHARE,
	  "4.8.2-2 '#' in ShareName" },
	{ TV_STR("$share/g/a#"), TOPIC_E_WILDCARD_IN_NAME, TOPIC_E_BAD_HASH,
	  "bad filter inside a share" },
	{ TV_STR("$share/g/+x"), TOPIC_E_WILDCARD_IN_NAME, TOPIC_E_BAD_PLUS,
	  "bad '+' inside a share" },
	{ TV_STR("$share"), 0, 0, "$share alone is an ordinary filter" },
	{ TV_STR("$sharex/g/a"), 0, 0, "not the $share/ prefix" },
	{ TV_STR("$SHARE/g+/a"), TOPIC_E_WILDCARD_IN_NAME, TOPIC_E_BAD_PLUS,
	  "the prefix is case-sensitive" },
};

struct topic_match_vector {
	const char *filter;
	const char *topic;
	bool match;
	const char *why;
};

static const struct topic_match_vector topic_match_vectors[] = {
	/* §4.7.1.2 */
	{ "sport/tennis/player1/#", "sport/tennis/player1", true, "4.7.1.2 parent level" },
	{ "sport/tennis/player1/#", "sport/tennis/player1/ranking", true, "4.7.1.2 one level" },
	{ "sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true,
	  "4.7.1.2 two levels" },
	{ "sport/tennis/player1/#", "sport/tennis/player2", false, "4.7.1.2 other player" },
	{ "sport/#", "sport", true, "4.7.1.2 sport/# matches sport" },
	{ "sport/#", "sports", false, "'#' needs the level separator" },
	{ "sport/#", "sport/", true, "'#' matches an empty level" },
	{ "#", "sport/tennis/player1", true, "'#' matches everything" },
	{ "#", "/", true, "'#' matches empty levels" },
	{ "#", "a", true, "'#' matches one level" },
	/* §4.7.1.3 */
	{ "sport/tennis/+", "sport/tennis/player1", true, "4.7.1.3 one level" },
	{ "sport/tennis/+", "sport/tennis/player2", true, "4.7.1.3 other level" },
	{ "sport/tennis/+", "sport/tennis/player1/ranking", false, "4.7.1.3 only one level" },
	{ "sport/+", "sport", false, "4.7.1.3 sport/+ does not match sport" },
	{ "sport/+", "sport/", true, "4.7.1.3 sport/+ matches sport/" },
	{ "+/+", "/finance", true, "4.7.1.3 +/+ matches /finance" },
	{ "/+", "/finance", true, "4.7.1.3 /+ matches /finance" },
	{ "+", "/finance", false, "4.7.1.3 + does not match /finance" },
	{ "+", "finance", true, "'+' matches one level" },
	{ "+/+/alarm", "x/y/alarm", true, "two '+' levels" },
	{ "+/+/alarm", "x/alarm", false, "two '+' need two levels" },
	{ "a/+/+", "a/b", false, "'+' needs its level" },
	{ "a/+/b", "a//b", true, "'+' matches an empty level" },
	{ "+/#", "/", true, "'+/#' matches two empty levels" },
	{ "/#", "/", true, "'/#' matches '/'" },
	{ "/#", "a", false, "'/#' needs an empty first level" },
	{ "a/+/#", "a/b", true, "'+' then '#' at the parent level" },
	{ "a/+/#", "a", false, "'+' cannot be skipped" },
	/* §4.7.2 */
	{ "#", "$SYS/monitor/Clients", false, "4.7.2-1 '#' does not match $SYS" },
	{ "+/monitor/Clients", "$SYS/monitor/Clients", false,
	  "4.7.2-1 '+' does not match $SYS" },
	{ "$SYS/#", "$SYS/monitor/Clients", true, "4.7.2 $SYS/#" },
	{ "$SYS/monitor/+", "$SYS/monitor/Clients", true, "4.7.2 $SYS/monitor/+" },
	{ "$SYS/#", "$SYS", true, "4.7.2 parent level of $SYS/#" },
	{ "+", "$SYS", false, "4.7.2 '+' and a lone $ level" },
	{ "+/#", "$x/y", false, "4.7.2 '+/#'" },
	{ "#", "$", false, "4.7.2 a bare '$'" },
	{ "a/+", "a/$b", true, "'$' matters only at the first level" },
	{ "#", "a/$b", true, "'$' deeper is an ordinary character" },
	/* §4.7.3 */
	{ "ACCOUNTS", "Accounts", false, "4.7.3 case-sensitive" },
	{ "Accounts payable", "Accounts payable", true, "4.7.3 spaces" },
	{ "a/b", "a/b", true, "exact" },
	{ "a/b", "a/b/", false, "a trailing empty level is a level" },
	{ "a//b", "a//b", true, "empty level exact" },
	{ "a//b", "a/b", false, "empty level is not skipped" },
	{ "/finance", "finance", false, "leading empty level" },
	{ "caf\xc3\xa9/+", "caf\xc3\xa9/cr\xc3\xa8me", true, "UTF-8 levels" },
	{ "$share", "$share", true, "$share alone is an ordinary filter" },
};

#endif /* KMQTT_TESTS_TOPIC_VECTORS_H */

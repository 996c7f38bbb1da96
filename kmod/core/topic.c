// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Topic validation, the subscription trie and the topic-name store. See topic.h for the
 * contract; the comments here are about how and why.
 */
#include "topic.h"

static const char *const topic_err_names[] = {
	[0] = "ok",
	[-TOPIC_E_NUL] = "nul-character",
	[-TOPIC_E_UTF8_SURROGATE] = "utf8-surrogate",
	[-TOPIC_E_UTF8_OVERLONG] = "utf8-overlong",
	[-TOPIC_E_UTF8_RANGE] = "utf8-out-of-range",
	[-TOPIC_E_UTF8_TRUNCATED] = "utf8-truncated",
	[-TOPIC_E_UTF8_BAD_BYTE] = "utf8-bad-byte",
	[-TOPIC_E_EMPTY] = "empty",
	[-TOPIC_E_TOO_LONG] = "too-long",
	[-TOPIC_E_TOO_DEEP] = "too-many-levels",
	[-TOPIC_E_WILDCARD_IN_NAME] = "wildcard-in-name",
	[-TOPIC_E_BAD_HASH] = "bad-multi-level-wildcard",
	[-TOPIC_E_BAD_PLUS] = "bad-single-level-wildcard",
	[-TOPIC_E_BAD_SHARE] = "bad-shared-subscription",
	[-TOPIC_E_NOT_FOUND] = "not-found",
	[-TOPIC_E_NOMEM] = "out-of-memory",
	[-TOPIC_E_MEM_LIMIT] = "memory-limit",
	[-TOPIC_E_INVAL] = "invalid-argument",
	[-TOPIC_E_FULL] = "collector-full",
};

const char *topic_err_name(int err)
{
	if (err > 0 || err < TOPIC_E__MIN)
		return "unknown";
	return topic_err_names[-err];
}

/*
 * Well-formed UTF-8 (RFC 3629) without U+0000, as MQTT requires of every string. The
 * "SHOULD NOT" code points (controls, non-characters) are the application's business.
 */
int mqtt_utf8_valid(const char *str, u16 len)
{
	const u8 *s = (const u8 *)str;
	u32 i = 0;

	while (i < len) {
		u32 c = s[i], need, cp, min, k;

		if (c < 0x80) {
			if (kmq_unlikely(!c))
				return TOPIC_E_NUL;
			i++;
			continue;
		}
		if (c < 0xc0)
			return TOPIC_E_UTF8_BAD_BYTE;	/* stray continuation byte */
		if (c < 0xe0) {
			need = 1;
			cp = c & 0x1f;
			min = 0x80;
		} else if (c < 0xf0) {
			need = 2;
			cp = c & 0x0f;
			min = 0x800;
		} else if (c < 0xf8) {
			need = 3;
			cp = c & 0x07;
			min = 0x10000;
		} else {
			return TOPIC_E_UTF8_BAD_BYTE;
		}
		for (k = 1; k <= need; k++) {
			if (i + k >= len)
				return TOPIC_E_UTF8_TRUNCATED;
			if ((s[i + k] & 0xc0) != 0x80)
				return TOPIC_E_UTF8_BAD_BYTE;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min)
			return TOPIC_E_UTF8_OVERLONG;
		if (cp >= 0xd800 && cp <= 0xdfff)
			return TOPIC_E_UTF8_SURROGATE;
		if (cp > 0x10ffff)
			return TOPIC_E_UTF8_RANGE;
		i += need + 1;
	}
	return 0;
}

static const char topic_share_prefix[] = "$share/";
#define TOPIC_SHARE_PREFIX_LEN	(sizeof(topic_share_prefix) - 1)

static bool topic_is_share(const char *s, u16 len)
{
	return len >= TOPIC_SHARE_PREFIX_LEN &&
	       !memcmp(s, topic_share_prefix, TOPIC_SHARE_PREFIX_LEN);
}

bool topic_share_split(const char *s, u16 len, const char **group, u16 *group_len,
		       const char **filter, u16 *filter_len)
{
	u16 i;

	if (!topic_is_share(s, len))
		return false;
	for (i = TOPIC_SHARE_PREFIX_LEN; i < len && s[i] != '/'; i++)
		;
	if (i >= len)
		return false;
	*group = s + TOPIC_SHARE_PREFIX_LEN;
	*group_len = i - TOPIC_SHARE_PREFIX_LEN;
	*filter = s + i + 1;
	*filter_len = len - i - 1;
	return true;
}

/*
 * The level structure of a name or filter whose length and encoding are already checked:
 * wildcards (only in filters) and the number of levels.
 */
static int topic_levels_valid(const char *s, u16 len, u16 max_levels, bool filter)
{
	u32 levels = 1, i;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '/') {
			if (++levels > max_levels)
				return TOPIC_E_TOO_DEEP;
		} else if (c == '+') {
			if (!filter)
				return TOPIC_E_WILDCARD_IN_NAME;
			if ((i > 0 && s[i - 1] != '/') || (i + 1 < len && s[i + 1] != '/'))
				return TOPIC_E_BAD_PLUS;
		} else if (c == '#') {
			if (!filter)
				return TOPIC_E_WILDCARD_IN_NAME;
			if ((i > 0 && s[i - 1] != '/') || i + 1 != len)
				return TOPIC_E_BAD_HASH;
		}
	}
	return 0;
}

static int topic_common_valid(const char *s, u16 len, const struct topic_limits *lim)
{
	if (!len)
		return TOPIC_E_EMPTY;
	if (len > lim->max_topic_len)
		return TOPIC_E_TOO_LONG;
	return mqtt_utf8_valid(s, len);
}

int topic_name_valid(const char *s, u16 len, const struct topic_limits *lim)
{
	int err = topic_common_valid(s, len, lim);

	if (err)
		return err;
	return topic_levels_valid(s, len, lim->max_levels, false);
}

int topic_filter_valid(const char *s, u16 len, const struct topic_limits *lim)
{
	const char *group, *inner;
	u16 group_len, inner_len, i;
	int err = topic_common_valid(s, len, lim);

	if (err)
		return err;
	if (!(lim->flags & TOPIC_LIM_SHARED) || !topic_is_share(s, len))
		return topic_levels_valid(s, len, lim->max_levels, true);

	if (!topic_share_split(s, len, &group, &group_len, &inner, &inner_len) ||
	    !group_len || !inner_len)
		return TOPIC_E_BAD_SHARE;
	for (i = 0; i < group_len; i++)
		if (group[i] == '+' || group[i] == '#')
			return TOPIC_E_BAD_SHARE;
	return topic_levels_valid(inner, inner_len, lim->max_levels, true);
}

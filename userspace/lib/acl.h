/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * mosquitto's ACL files, turned into the ordered rule list kmqtt.ko checks per connection.
 *
 *   # lines before any "user" apply to anonymous clients
 *   topic [read|write|readwrite|deny] FILTER
 *   user NAME
 *   topic [read|write|readwrite|deny] FILTER     (NAME's rules)
 *   pattern [read|write|readwrite|deny] FILTER   (every client; %u user name, %c client id)
 *
 * The access word may be left out (readwrite). FILTER and NAME are the rest of the line,
 * so they may contain spaces. Lines starting with '#' and blank lines are ignored;
 * anything else is an error that names the file and line.
 *
 * For one client, kmq_acl_rules() produces what goes into KMQTT_A_ACL: the client's
 * "topic" rules and every "pattern" with %u and %c replaced, ordered so that the module's
 * first-match evaluation gives mosquitto's answer where it can (see acl.c): deny rules
 * first, then rules whose filter is a plain topic name (which get the access of every
 * grant that matches them), then the wildcard grants in file order.
 */
#ifndef KMQ_ACL_H
#define KMQ_ACL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/kmqtt.h>

/* ACL filters are checked against the module's limits for them (kmod/broker.c). */
#define KMQ_ACL_MAX_FILTER_LEN		1024	/* TOPIC_DEFAULT_MAX_LEN */
#define KMQ_ACL_MAX_FILTER_LEVELS	32	/* TOPIC_DEFAULT_MAX_LEVELS */

struct kmq_acl;

struct kmq_acl_rule {
	char *filter;
	uint32_t access;	/* enum kmqtt_acl_access */
};

struct kmq_acl_rules {
	struct kmq_acl_rule rule[KMQTT_MAX_ACL_RULES];
	unsigned int n;
	unsigned int dropped;	/* pattern grants dropped: unsafe %u/%c value or too long */
};

/* 0 and a new ACL in *@out, or -1 with "FILE:LINE: message" or "FILE: message" in @err. */
int kmq_acl_load(const char *path, struct kmq_acl **out, char *err, size_t errlen);
void kmq_acl_free(struct kmq_acl *acl);

/*
 * The rules for a client with user name @username (NULL: anonymous, or a name that was
 * not verified) and client identifier @client_id. Returns 0 with @out filled (free it with
 * kmq_acl_rules_free()), or -1 with the reason in @why: more than KMQTT_MAX_ACL_RULES
 * rules, a deny pattern that cannot be applied to this client's name (refusing the client
 * is the only safe answer), or no memory.
 *
 * A grant pattern whose %u or %c value contains '+', '#' or '/' is dropped (counted in
 * @out->dropped): the value would widen the filter. A deny pattern keeps such a value when
 * the result is a valid filter: a wider deny only takes access away.
 */
int kmq_acl_rules(const struct kmq_acl *acl, const char *username, const char *client_id,
		  struct kmq_acl_rules *out, char *why, size_t whylen);
void kmq_acl_rules_free(struct kmq_acl_rules *r);

/*
 * The module's evaluation of a rule list, for tests and tools: the first rule whose
 * filter matches @topic decides; no match denies. @access is KMQTT_ACL_READ or _WRITE.
 */
bool kmq_acl_rules_allow(const struct kmq_acl_rules *r, const char *topic, uint32_t access);

const char *kmq_acl_access_name(uint32_t access);

#endif

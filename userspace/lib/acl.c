// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * mosquitto grants access when any matching rule grants it and no deny rule matches;
 * kmqtt.ko takes the first matching rule of an ordered list. kmq_acl_rules() bridges the
 * two for one client:
 *
 *   1. deny rules first: whatever else matches, a matching deny decides;
 *   2. grants whose filter has no wildcard (a plain topic name) next, each with the union
 *      of its own access and that of every other grant matching that name (found with
 *      the core's topic trie), so "topic read #" plus "topic write a/b" still lets the
 *      client both read and write a/b, as mosquitto would;
 *   3. the wildcard grants in file order (user rules, then patterns). Where two of them
 *      overlap on a topic no plain-name rule covers, the earlier one decides, which may
 *      grant less than mosquitto (never more). docs/kmqttd.conf.md says so.
 *
 * Identical filters are merged (a grant identical to a deny filter is dropped: it could
 * never decide).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "fileerr.h"
#include "acl.h"
#include "conf.h"
#include "topic.h"

struct acl_entry {
	char *filter;
	uint32_t access;
	unsigned int line;
	bool subst;		/* pattern using %u or %c */
	bool uses_user;		/* pattern using %u */
};

struct acl_section {
	char *user;		/* NULL: the anonymous section */
	unsigned int line;
	struct acl_entry *e;
	unsigned int n, cap;
};

struct kmq_acl {
	struct acl_section anon;
	struct acl_section patterns;
	struct acl_section *users;	/* sorted by name after loading, one per name */
	unsigned int n_users, cap_users;
};

static const struct topic_limits acl_limits = {
	.max_topic_len = KMQ_ACL_MAX_FILTER_LEN,
	.max_levels = KMQ_ACL_MAX_FILTER_LEVELS,
	.flags = 0,		/* "$share/..." is literal in an ACL, as in the module */
};

struct load_ctx {
	const char *path;
	char *err;
	size_t errlen;
	struct kmq_acl *acl;
	long cur_user;		/* index into users (it moves when it grows); -1: anonymous */
};

#define fail(l, line, ...) kmq_file_err((l)->err, (l)->errlen, (l)->path, (line), __VA_ARGS__)

const char *kmq_acl_access_name(uint32_t access)
{
	switch (access) {
	case KMQTT_ACL_DENY:
		return "deny";
	case KMQTT_ACL_READ:
		return "read";
	case KMQTT_ACL_WRITE:
		return "write";
	case KMQTT_ACL_READWRITE:
		return "readwrite";
	}
	return "?";
}

static int parse_access(const char *s, uint32_t *access)
{
	static const uint32_t values[] = { KMQTT_ACL_READ, KMQTT_ACL_WRITE, KMQTT_ACL_READWRITE,
					   KMQTT_ACL_DENY };

	for (size_t i = 0; i < ARRAY_SIZE(values); i++) {
		if (!strcmp(s, kmq_acl_access_name(values[i]))) {
			*access = values[i];
			return 0;
		}
	}
	return -1;
}

static int section_add(struct acl_section *s, char *filter, uint32_t access, unsigned int line,
		       bool subst, bool uses_user)
{
	if (s->n == s->cap) {
		unsigned int cap = s->cap ? s->cap * 2 : 8;
		struct acl_entry *e = realloc(s->e, cap * sizeof(*e));

		if (!e)
			return -1;
		s->e = e;
		s->cap = cap;
	}
	s->e[s->n++] = (struct acl_entry){ .filter = filter, .access = access, .line = line,
					   .subst = subst, .uses_user = uses_user };
	return 0;
}

static void section_free(struct acl_section *s)
{
	for (unsigned int i = 0; i < s->n; i++)
		free(s->e[i].filter);
	free(s->e);
	free(s->user);
}

static char *rstrip(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = 0;
	return s;
}

/*
 * %u and %c replaced by @user and @id (a '%' before anything else is literal, as in
 * mosquitto). Returns a malloc'ed string, or NULL when out of memory or longer than @max.
 */
static char *substitute(const char *pat, const char *user, const char *id, size_t max)
{
	size_t ul = strlen(user), il = strlen(id), n = 0;
	char *out = malloc(max + 1);

	if (!out)
		return NULL;
	for (const char *p = pat; *p; p++) {
		const char *v = NULL;
		size_t vl = 1;

		if (p[0] == '%' && p[1] == 'u') {
			v = user;
			vl = ul;
		} else if (p[0] == '%' && p[1] == 'c') {
			v = id;
			vl = il;
		}
		if (n + vl > max) {
			free(out);
			return NULL;
		}
		if (v) {
			memcpy(out + n, v, vl);
			p++;
		} else {
			out[n] = *p;
		}
		n += vl;
	}
	out[n] = 0;
	return out;
}

static bool has_placeholder(const char *s, char which)
{
	for (const char *p = strchr(s, '%'); p; p = strchr(p + 1, '%')) {
		if (p[1] == which)
			return true;
	}
	return false;
}

static int check_filter(struct load_ctx *l, unsigned int line, const char *kw, const char *f)
{
	size_t len = strlen(f);
	int err;

	if (len > KMQ_ACL_MAX_FILTER_LEN)
		return fail(l, line, "%s filter longer than %d bytes", kw, KMQ_ACL_MAX_FILTER_LEN);
	err = topic_filter_valid(f, (uint16_t)len, &acl_limits);
	if (err)
		return fail(l, line, "invalid %s filter '%s': %s", kw, f, topic_err_name(err));
	return 0;
}

static int parse_rule(struct load_ctx *l, unsigned int line, const char *kw, char *rest)
{
	bool pattern = !strcmp(kw, "pattern");
	uint32_t access = KMQTT_ACL_READWRITE;
	size_t wl = strcspn(rest, " \t");
	char *filter = rest, *copy;
	struct acl_section *s;

	if (!*rest)
		return fail(l, line, "'%s' needs a topic filter", kw);
	if (rest[wl]) {
		/* More than one word: the first is the access, the rest the filter. */
		rest[wl] = 0;
		if (parse_access(rest, &access))
			return fail(l, line, "unknown access '%s' (read, write, readwrite or deny)",
				    rest);
		filter = rest + wl + 1;
		filter += strspn(filter, " \t");
	} else if (!parse_access(rest, &access)) {
		return fail(l, line, "'%s %s' needs a topic filter after the access", kw, rest);
	}
	if (pattern) {
		/* Check the shape with a harmless value in place of %u and %c. */
		char *probe = substitute(filter, "u", "c", KMQ_ACL_MAX_FILTER_LEN);

		if (!probe)
			return fail(l, line, "pattern filter longer than %d bytes",
				    KMQ_ACL_MAX_FILTER_LEN);
		if (check_filter(l, line, kw, probe)) {
			free(probe);
			/* Name the pattern as written, not the probe. */
			return fail(l, line, "invalid pattern filter '%s'", filter);
		}
		free(probe);
	} else if (check_filter(l, line, kw, filter)) {
		return -1;
	}
	copy = strdup(filter);
	if (!copy)
		return fail(l, line, "out of memory");
	if (pattern)
		s = &l->acl->patterns;
	else if (l->cur_user < 0)
		s = &l->acl->anon;
	else
		s = &l->acl->users[l->cur_user];
	if (section_add(s, copy, access, line, pattern && (has_placeholder(filter, 'u') ||
							   has_placeholder(filter, 'c')),
			pattern && has_placeholder(filter, 'u'))) {
		free(copy);
		return fail(l, line, "out of memory");
	}
	return 0;
}

static int parse_user(struct load_ctx *l, unsigned int line, char *name)
{
	struct kmq_acl *acl = l->acl;
	size_t len = strlen(name);

	if (!len)
		return fail(l, line, "'user' needs a user name");
	if (len > KMQTT_MAX_USERNAME)
		return fail(l, line, "user name longer than %d bytes", KMQTT_MAX_USERNAME);
	if (mqtt_utf8_valid(name, (uint16_t)len))
		return fail(l, line, "user name is not valid UTF-8 (MQTT user names are)");
	if (acl->n_users == acl->cap_users) {
		unsigned int cap = acl->cap_users ? acl->cap_users * 2 : 8;
		struct acl_section *u = realloc(acl->users, cap * sizeof(*u));

		if (!u)
			return fail(l, line, "out of memory");
		acl->users = u;
		acl->cap_users = cap;
	}
	/* A name given again opens another section; they are merged after loading. */
	acl->users[acl->n_users] = (struct acl_section){ .user = strdup(name), .line = line };
	if (!acl->users[acl->n_users].user)
		return fail(l, line, "out of memory");
	l->cur_user = acl->n_users++;
	return 0;
}

static int load_line(void *ctx, char *line, unsigned int lineno)
{
	struct load_ctx *l = ctx;
	char *kw, *rest;
	size_t kl;

	line += strspn(line, " \t");
	if (*line == '#' || *line == 0)
		return 0;
	rstrip(line);
	kw = line;
	kl = strcspn(kw, " \t");
	rest = kw + kl;
	if (*rest) {
		*rest++ = 0;
		rest += strspn(rest, " \t");
	}
	if (!strcmp(kw, "topic") || !strcmp(kw, "pattern"))
		return parse_rule(l, lineno, kw, rest);
	if (!strcmp(kw, "user"))
		return parse_user(l, lineno, rest);
	return fail(l, lineno, "unknown keyword '%s' (topic, pattern or user)", kw);
}

static int user_cmp(const void *a, const void *b)
{
	const struct acl_section *x = a, *y = b;
	int c = strcmp(x->user, y->user);

	if (c)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* Sort the user sections by name and merge the ones with the same name, in file order. */
static int merge_users(struct kmq_acl *acl)
{
	unsigned int out = 0;

	if (!acl->n_users)
		return 0;
	qsort(acl->users, acl->n_users, sizeof(*acl->users), user_cmp);
	for (unsigned int i = 1; i < acl->n_users; i++) {
		struct acl_section *dst = &acl->users[out], *src = &acl->users[i];

		if (strcmp(dst->user, src->user)) {
			acl->users[++out] = *src;
			continue;
		}
		for (unsigned int j = 0; j < src->n; j++) {
			if (section_add(dst, src->e[j].filter, src->e[j].access, src->e[j].line,
					false, false))
				return -1;
			src->e[j].filter = NULL;
		}
		section_free(src);
	}
	acl->n_users = out + 1;
	return 0;
}

void kmq_acl_free(struct kmq_acl *acl)
{
	if (!acl)
		return;
	section_free(&acl->anon);
	section_free(&acl->patterns);
	for (unsigned int i = 0; i < acl->n_users; i++)
		section_free(&acl->users[i]);
	free(acl->users);
	free(acl);
}

int kmq_acl_load(const char *path, struct kmq_acl **out, char *err, size_t errlen)
{
	struct kmq_acl *acl = calloc(1, sizeof(*acl));
	struct load_ctx l = { .path = path, .err = err, .errlen = errlen, .acl = acl,
			      .cur_user = -1 };

	*out = NULL;
	if (!acl) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	if (kmq_read_lines(path, load_line, &l, err, errlen)) {
		kmq_acl_free(acl);
		return -1;
	}
	if (merge_users(acl)) {
		snprintf(err, errlen, "%s: out of memory", path);
		kmq_acl_free(acl);
		return -1;
	}
	*out = acl;
	return 0;
}

static const struct acl_section *find_user(const struct kmq_acl *acl, const char *user)
{
	unsigned int lo = 0, hi = acl->n_users;

	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		int c = strcmp(user, acl->users[mid].user);

		if (!c)
			return &acl->users[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* Rules being built: more than the module takes, so that the count can be reported. */
struct build {
	struct kmq_acl_rule *deny, *grant;
	unsigned int n_deny, n_grant, cap;
};

static int build_add(struct build *b, char *filter, uint32_t access)
{
	struct kmq_acl_rule **list = access == KMQTT_ACL_DENY ? &b->deny : &b->grant;
	unsigned int *n = access == KMQTT_ACL_DENY ? &b->n_deny : &b->n_grant;

	for (unsigned int i = 0; i < *n; i++) {
		if (!strcmp((*list)[i].filter, filter)) {
			(*list)[i].access |= access;
			free(filter);
			return 0;
		}
	}
	if (*n == b->cap) {
		/* Both lists grow together; cap bounds each. */
		unsigned int cap = b->cap * 2;
		struct kmq_acl_rule *d = realloc(b->deny, cap * sizeof(*d));

		if (!d)
			goto nomem;
		b->deny = d;
		d = realloc(b->grant, cap * sizeof(*d));
		if (!d)
			goto nomem;
		b->grant = d;
		b->cap = cap;
	}
	(*list)[(*n)++] = (struct kmq_acl_rule){ .filter = filter, .access = access };
	return 0;
nomem:
	free(filter);
	return -1;
}

static void build_free(struct build *b)
{
	for (unsigned int i = 0; i < b->n_deny; i++)
		free(b->deny[i].filter);
	for (unsigned int i = 0; i < b->n_grant; i++)
		free(b->grant[i].filter);
	free(b->deny);
	free(b->grant);
}

static int add_section(struct build *b, const struct acl_section *s)
{
	for (unsigned int i = 0; s && i < s->n; i++) {
		char *f = strdup(s->e[i].filter);

		if (!f || build_add(b, f, s->e[i].access))
			return -1;
	}
	return 0;
}

static int or_access(void *ctx, const struct topic_match *m)
{
	const struct build *b = ((void **)ctx)[0];
	uint32_t *acc = ((void **)ctx)[1];

	*acc |= b->grant[(uintptr_t)m->subscriber - 1].access;
	return 0;
}

static bool is_plain_name(const char *f)
{
	return !strpbrk(f, "+#");
}

/* Step 2 of the file comment: plain-name grants take every matching grant's access. */
static int widen_plain_names(struct build *b)
{
	struct topic_sub_opts opts = { 0 };
	struct topic_trie trie;
	uint32_t *acc;
	int ret = 0;

	acc = calloc(b->n_grant ? b->n_grant : 1, sizeof(*acc));
	if (!acc)
		return -1;
	topic_trie_init(&trie, &acl_limits, 0);
	for (unsigned int i = 0; i < b->n_grant && !ret; i++) {
		const char *f = b->grant[i].filter;

		if (topic_subscribe(&trie, f, (uint16_t)strlen(f), (void *)(uintptr_t)(i + 1),
				    &opts) < 0)
			ret = -1;
	}
	for (unsigned int i = 0; i < b->n_grant && !ret; i++) {
		const char *f = b->grant[i].filter;
		void *ctx[2] = { b, &acc[i] };

		acc[i] = b->grant[i].access;
		if (is_plain_name(f) &&
		    topic_match(&trie, f, (uint16_t)strlen(f), NULL, 0, or_access, ctx) < 0)
			ret = -1;
	}
	for (unsigned int i = 0; i < b->n_grant && !ret; i++)
		b->grant[i].access = acc[i];
	topic_trie_destroy(&trie);
	free(acc);
	return ret;
}

static int why_fail(char *why, size_t whylen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int why_fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -1;
}

static int add_patterns(struct build *b, const struct kmq_acl *acl, const char *user,
			const char *id, unsigned int *dropped, char *why, size_t whylen)
{
	bool user_unsafe = user && strpbrk(user, "+#/");
	bool id_unsafe = strpbrk(id, "+#/") != NULL;

	for (unsigned int i = 0; i < acl->patterns.n; i++) {
		const struct acl_entry *e = &acl->patterns.e[i];
		bool deny = e->access == KMQTT_ACL_DENY;
		bool unsafe;
		char *f;

		if (e->uses_user && !user)
			continue;	/* mosquitto: %u patterns skip anonymous clients */
		unsafe = e->subst && ((e->uses_user && user_unsafe) ||
				      (has_placeholder(e->filter, 'c') && id_unsafe));
		if (unsafe && !deny) {
			(*dropped)++;
			continue;
		}
		f = substitute(e->filter, user ? user : "", id, KMQ_ACL_MAX_FILTER_LEN);
		if (!f || topic_filter_valid(f, (uint16_t)strlen(f), &acl_limits)) {
			free(f);
			if (!deny) {
				(*dropped)++;
				continue;
			}
			return why_fail(why, whylen,
					"deny pattern '%s' (line %u) cannot be applied to this client's name",
					e->filter, e->line);
		}
		if (build_add(b, f, e->access))
			return why_fail(why, whylen, "out of memory");
	}
	return 0;
}

void kmq_acl_rules_free(struct kmq_acl_rules *r)
{
	for (unsigned int i = 0; i < r->n; i++)
		free(r->rule[i].filter);
	r->n = 0;
}

int kmq_acl_rules(const struct kmq_acl *acl, const char *username, const char *client_id,
		  struct kmq_acl_rules *out, char *why, size_t whylen)
{
	struct build b = { .cap = 16 };
	unsigned int total;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	b.deny = malloc(b.cap * sizeof(*b.deny));
	b.grant = malloc(b.cap * sizeof(*b.grant));
	if (!b.deny || !b.grant) {
		why_fail(why, whylen, "out of memory");
		goto out;
	}
	if (add_section(&b, username ? find_user(acl, username) : &acl->anon)) {
		why_fail(why, whylen, "out of memory");
		goto out;
	}
	if (add_patterns(&b, acl, username, client_id, &out->dropped, why, whylen))
		goto out;
	/* A grant identical to a deny can never decide. */
	for (unsigned int i = 0; i < b.n_grant;) {
		bool dead = false;

		for (unsigned int j = 0; j < b.n_deny && !dead; j++)
			dead = !strcmp(b.grant[i].filter, b.deny[j].filter);
		if (!dead) {
			i++;
			continue;
		}
		free(b.grant[i].filter);
		memmove(&b.grant[i], &b.grant[i + 1], (b.n_grant - i - 1) * sizeof(*b.grant));
		b.n_grant--;
	}
	total = b.n_deny + b.n_grant;
	if (total > KMQTT_MAX_ACL_RULES) {
		why_fail(why, whylen, "%u ACL rules apply to this client, the module takes at most %d",
			 total, KMQTT_MAX_ACL_RULES);
		goto out;
	}
	if (widen_plain_names(&b)) {
		why_fail(why, whylen, "out of memory");
		goto out;
	}
	for (unsigned int i = 0; i < b.n_deny; i++)
		out->rule[out->n++] = b.deny[i];
	for (unsigned int i = 0; i < b.n_grant; i++) {
		if (is_plain_name(b.grant[i].filter))
			out->rule[out->n++] = b.grant[i];
	}
	for (unsigned int i = 0; i < b.n_grant; i++) {
		if (!is_plain_name(b.grant[i].filter))
			out->rule[out->n++] = b.grant[i];
	}
	/* The filters belong to @out now. */
	b.n_deny = b.n_grant = 0;
	ret = 0;
out:
	build_free(&b);
	return ret;
}

static int first_rule(void *ctx, const struct topic_match *m)
{
	uintptr_t *first = ctx;

	if ((uintptr_t)m->subscriber < *first)
		*first = (uintptr_t)m->subscriber;
	return 0;
}

bool kmq_acl_rules_allow(const struct kmq_acl_rules *r, const char *topic, uint32_t access)
{
	struct topic_sub_opts opts = { 0 };
	uintptr_t first = UINTPTR_MAX;
	struct topic_trie trie;
	size_t len = strlen(topic);
	bool ok = true;

	if (!len || len > KMQ_ACL_MAX_FILTER_LEN ||
	    topic_name_valid(topic, (uint16_t)len, &acl_limits))
		return false;
	topic_trie_init(&trie, &acl_limits, 0);
	for (unsigned int i = 0; i < r->n && ok; i++)
		ok = topic_subscribe(&trie, r->rule[i].filter, (uint16_t)strlen(r->rule[i].filter),
				     (void *)(uintptr_t)(i + 1), &opts) >= 0;
	if (ok)
		ok = topic_match(&trie, topic, (uint16_t)len, NULL, 0, first_rule, &first) >= 0;
	topic_trie_destroy(&trie);
	if (!ok || first == UINTPTR_MAX)
		return false;
	return (r->rule[first - 1].access & access) == access;
}

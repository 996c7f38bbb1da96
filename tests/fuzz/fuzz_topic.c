// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer harness for kmod/core/topic.c.
 *
 * The input is a program of subscribe / unsubscribe / match / collect operations on a
 * trie and set / delete / match operations on a topic-name store. Every result is checked
 * against a model kept here: a flat list of subscriptions and names, validated and matched
 * by brute force, written independently of the trie (levels split into arrays, RFC 3629's
 * byte-range table for UTF-8). A memory cap taken from the input makes allocations fail,
 * and the model then expects the operation to have changed nothing. At the end everything
 * is removed again, the node and byte counters must be back at zero, and ASan checks that
 * nothing leaked.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "topic.h"

#define MAX_OPS		256
#define MAX_SUBS	96
#define MAX_NAMES	64
#define MAX_STR		48
#define MAX_LV		16
#define NSUBSCRIBERS	6
#define MAX_RESULTS	(MAX_SUBS + 8)

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "fuzz_topic: %s:%d: check failed: %s\n", \
			__FILE__, __LINE__, #cond);			\
		abort();						\
	}								\
} while (0)

struct input {
	const uint8_t *p;
	size_t n;
};

static uint8_t next(struct input *in)
{
	uint8_t b;

	if (!in->n)
		return 0;
	b = *in->p++;
	in->n--;
	return b;
}

struct str {
	char s[MAX_STR];
	u16 len;
};

/* ---- reference validation ---- */

static int utf8_ok(const uint8_t *s, size_t len)
{
	/* RFC 3629 §4: allowed ranges for the bytes after each lead byte. */
	size_t i = 0;

	while (i < len) {
		uint8_t c = s[i];
		uint8_t lo = 0x80, hi = 0xbf;
		int more;

		if (c == 0)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			more = 1;
		else if (c >= 0xe0 && c <= 0xef)
			more = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			more = 3;
		else
			return 0;
		if (c == 0xe0)
			lo = 0xa0;
		if (c == 0xed)
			hi = 0x9f;
		if (c == 0xf0)
			lo = 0x90;
		if (c == 0xf4)
			hi = 0x8f;
		if (i + more >= len)
			return 0;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return 0;
		for (int k = 2; k <= more; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return 0;
		i += more + 1;
	}
	return 1;
}

struct levels {
	int n;
	const char *s[MAX_STR + 1];
	int len[MAX_STR + 1];
};

static void split(const char *s, int len, struct levels *lv)
{
	int start = 0, i;

	lv->n = 0;
	for (i = 0; i <= len; i++) {
		if (i == len || s[i] == '/') {
			lv->s[lv->n] = s + start;
			lv->len[lv->n] = i - start;
			lv->n++;
			start = i + 1;
		}
	}
}

static int level_is(const struct levels *lv, int i, const char *w)
{
	return lv->len[i] == (int)strlen(w) && !memcmp(lv->s[i], w, lv->len[i]);
}

static int ref_levels_ok(const char *s, int len, int max_levels, int filter)
{
	struct levels lv;
	int i;

	split(s, len, &lv);
	if (lv.n > max_levels)
		return 0;
	for (i = 0; i < lv.n; i++) {
		int plus = memchr(lv.s[i], '+', lv.len[i]) != NULL;
		int hash = memchr(lv.s[i], '#', lv.len[i]) != NULL;

		if ((plus || hash) && !filter)
			return 0;
		if (plus && !level_is(&lv, i, "+"))
			return 0;
		if (hash && (!level_is(&lv, i, "#") || i != lv.n - 1))
			return 0;
	}
	return 1;
}

/* Shared filter: returns 1 and the group and inner filter if @s is one. */
static int ref_share(const char *s, int len, const char **g, int *glen, const char **f,
		     int *flen)
{
	const char *slash;

	if (len < 7 || memcmp(s, "$share/", 7))
		return 0;
	slash = memchr(s + 7, '/', len - 7);
	if (!slash)
		return -1;
	*g = s + 7;
	*glen = slash - *g;
	*f = slash + 1;
	*flen = len - (int)(*f - s);
	return 1;
}

static int ref_valid(const struct str *x, const struct topic_limits *lim, int filter)
{
	const char *g, *f;
	int glen, flen, sh;

	if (!x->len || x->len > lim->max_topic_len || !utf8_ok((const uint8_t *)x->s, x->len))
		return 0;
	if (!filter)
		return ref_levels_ok(x->s, x->len, lim->max_levels, 0);
	sh = (lim->flags & TOPIC_LIM_SHARED) ? ref_share(x->s, x->len, &g, &glen, &f, &flen) : 0;
	if (sh < 0)
		return 0;
	if (sh == 0)
		return ref_levels_ok(x->s, x->len, lim->max_levels, 1);
	if (!glen || memchr(g, '+', glen) || memchr(g, '#', glen) || !flen)
		return 0;
	return ref_levels_ok(f, flen, lim->max_levels, 1);
}

/* Brute-force matcher over level arrays. */
static int ref_match(const char *f, int flen, const char *t, int tlen)
{
	struct levels fl, tl;
	int i;

	if (t[0] == '$' && (f[0] == '+' || f[0] == '#'))
		return 0;
	split(f, flen, &fl);
	split(t, tlen, &tl);
	for (i = 0; i < fl.n; i++) {
		if (level_is(&fl, i, "#"))
			return 1;
		if (i >= tl.n)
			return 0;
		if (level_is(&fl, i, "+"))
			continue;
		if (fl.len[i] != tl.len[i] || memcmp(fl.s[i], tl.s[i], fl.len[i]))
			return 0;
	}
	return fl.n == tl.n;
}

/* ---- the model ---- */

struct msub {
	struct str filter;		/* as subscribed, "$share/..." included */
	const char *inner;
	int inner_len;
	const char *group;
	int group_len;
	int who;
	struct topic_sub_opts opts;
};

struct model {
	struct msub sub[MAX_SUBS];
	int nsub;
	struct str name[MAX_NAMES];
	int nname;
};

static char subscriber_ids[NSUBSCRIBERS];
static int payload_tags[MAX_NAMES];

static int who_of(const void *p)
{
	return (int)((const char *)p - subscriber_ids);
}

static void msub_split(struct msub *m, const struct topic_limits *lim)
{
	const char *g, *f;
	int glen, flen;

	m->group = NULL;
	m->group_len = 0;
	m->inner = m->filter.s;
	m->inner_len = m->filter.len;
	if ((lim->flags & TOPIC_LIM_SHARED) &&
	    ref_share(m->filter.s, m->filter.len, &g, &glen, &f, &flen) > 0) {
		m->group = g;
		m->group_len = glen;
		m->inner = f;
		m->inner_len = flen;
	}
}

static int model_find(struct model *m, const struct str *f, int who)
{
	int i;

	for (i = 0; i < m->nsub; i++)
		if (m->sub[i].who == who && m->sub[i].filter.len == f->len &&
		    !memcmp(m->sub[i].filter.s, f->s, f->len))
			return i;
	return -1;
}

static int name_find(struct model *m, const struct str *n)
{
	int i;

	for (i = 0; i < m->nname; i++)
		if (m->name[i].len == n->len && !memcmp(m->name[i].s, n->s, n->len))
			return i;
	return -1;
}

/* ---- generating strings from the input ---- */

static const char *const words[] = {
	"a", "b", "ab", "", "$s", "+", "#", "$share", "g", "c/d", "\xc3\xa9", "#+",
	"\xed\xa0\x80", "x+", "h", "$",
};

static void gen(struct input *in, struct str *x, int allow_wild)
{
	uint8_t mode = next(in);
	int levels, i;

	x->len = 0;
	if ((mode & 7) == 7) {
		/* Raw bytes: anything at all. */
		int n = next(in) % MAX_STR;

		for (i = 0; i < n; i++)
			x->s[x->len++] = next(in);
		return;
	}
	if ((mode & 0x18) == 0x18) {
		static const char *const pre[] = { "$share/g/", "$share/h/", "$share//",
						   "$share/g" };
		const char *p = pre[(mode >> 5) & 3];

		memcpy(x->s, p, strlen(p));
		x->len = strlen(p);
	}
	levels = 1 + (mode & 7) % 6;
	for (i = 0; i < levels; i++) {
		uint8_t w = next(in);
		const char *word = words[w % ARRAY_SIZE(words)];
		size_t wl = strlen(word);

		if (!allow_wild && (strchr(word, '+') || strchr(word, '#')))
			word = "c", wl = 1;
		if (x->len + wl + 1 > MAX_STR)
			break;
		if (i)
			x->s[x->len++] = '/';
		memcpy(x->s + x->len, word, wl);
		x->len += wl;
	}
}

/* ---- checks ---- */

struct results {
	int n;
	int who[MAX_RESULTS];
	struct topic_sub_opts opts[MAX_RESULTS];
	const char *group[MAX_RESULTS];
	int group_len[MAX_RESULTS];
};

static int record(void *ctx, const struct topic_match *m)
{
	struct results *r = ctx;

	CHECK(r->n < MAX_RESULTS);
	r->who[r->n] = who_of(m->subscriber);
	r->opts[r->n] = *m->opts;
	r->group[r->n] = m->group;
	r->group_len[r->n] = m->group_len;
	r->n++;
	return 0;
}

static int opts_eq(const struct topic_sub_opts *a, const struct topic_sub_opts *b)
{
	return a->qos == b->qos && a->flags == b->flags && a->sub_id == b->sub_id &&
	       a->retain_handling == b->retain_handling;
}

static void check_match(struct topic_trie *t, struct model *m, const struct str *topic,
			int publisher)
{
	const void *pub = publisher < NSUBSCRIBERS ? &subscriber_ids[publisher] : NULL;
	int used[MAX_RESULTS] = { 0 };
	int group_seen[MAX_SUBS] = { 0 };
	struct results r = { 0 };
	int i, j, ret, expect = 0;

	ret = topic_match(t, topic->s, topic->len, pub, 0, record, &r);
	CHECK(ret == r.n);
	for (i = 0; i < m->nsub; i++) {
		struct msub *s = &m->sub[i];

		if (!ref_match(s->inner, s->inner_len, topic->s, topic->len))
			continue;
		if (!s->group) {
			if ((s->opts.flags & TOPIC_SUB_NO_LOCAL) && pub == &subscriber_ids[s->who])
				continue;
			for (j = 0; j < r.n; j++)
				if (!used[j] && !r.group[j] && r.who[j] == s->who &&
				    opts_eq(&r.opts[j], &s->opts))
					break;
			CHECK(j < r.n);
			used[j] = 1;
			expect++;
			continue;
		}
		/* One report per (group, filter): find it once, check membership. */
		for (j = 0; j < i; j++)
			if (m->sub[j].group && m->sub[j].group_len == s->group_len &&
			    !memcmp(m->sub[j].group, s->group, s->group_len) &&
			    m->sub[j].inner_len == s->inner_len &&
			    !memcmp(m->sub[j].inner, s->inner, s->inner_len))
				break;
		if (j < i)
			continue;
		group_seen[i] = 1;
		expect++;
	}
	CHECK(expect == r.n);
	/* Every group report names a group that matched, with a member's options. */
	for (j = 0; j < r.n; j++) {
		int ok = 0;

		if (!r.group[j]) {
			CHECK(used[j]);
			continue;
		}
		for (i = 0; i < m->nsub && !ok; i++) {
			struct msub *s = &m->sub[i];

			ok = s->group && s->who == r.who[j] && s->group_len == r.group_len[j] &&
			     !memcmp(s->group, r.group[j], s->group_len) &&
			     ref_match(s->inner, s->inner_len, topic->s, topic->len) &&
			     opts_eq(&s->opts, &r.opts[j]);
		}
		CHECK(ok);
	}
	(void)group_seen;
}

static void check_collect(struct topic_trie *t, struct model *m, const struct str *topic)
{
	struct topic_delivery dlv[NSUBSCRIBERS];
	struct topic_id_link ids[MAX_SUBS];
	struct topic_collector c;
	u32 index[16];
	int i, ret, plain_subs = 0, total = 0, nid = 0;

	CHECK(!topic_collector_init(&c, dlv, NSUBSCRIBERS, index, 16, ids, MAX_SUBS));
	ret = topic_collect(t, topic->s, topic->len, NULL, 0, &c);
	CHECK(ret >= 0 && ret == (int)c.ndlv);
	for (i = 0; i < m->nsub; i++)
		if (!m->sub[i].group &&
		    ref_match(m->sub[i].inner, m->sub[i].inner_len, topic->s, topic->len))
			plain_subs++;
	for (i = 0; i < (int)c.ndlv; i++) {
		const struct topic_delivery *d = &dlv[i];
		int k, qos = -1, n = 0;
		u32 id;

		/* The merged QoS covers every plain subscription of that subscriber. */
		for (k = 0; k < m->nsub; k++) {
			struct msub *s = &m->sub[k];

			if (!s->group && &subscriber_ids[s->who] == d->subscriber &&
			    ref_match(s->inner, s->inner_len, topic->s, topic->len) &&
			    s->opts.qos > qos)
				qos = s->opts.qos;
		}
		CHECK(d->qos >= qos);
		for (id = d->first_id; id != TOPIC_ID_END; id = ids[id].next, n++)
			CHECK(ids[id].id);
		CHECK(n == d->nids);
		nid += n;
		CHECK(d->nids <= d->nsubs);
		total += d->nsubs;
	}
	CHECK(total >= plain_subs);
	CHECK(nid == (int)c.nids && !c.dropped);
}

struct name_results {
	int n;
	struct str name[MAX_NAMES];
};

static int record_name(void *ctx, const char *name, u16 len, void *payload,
		       struct topic_node *node)
{
	struct name_results *r = ctx;

	(void)node;
	CHECK(r->n < MAX_NAMES && len < MAX_STR);
	CHECK(payload);
	memcpy(r->name[r->n].s, name, len);
	r->name[r->n].len = len;
	r->n++;
	return 0;
}

static void check_store_match(struct topic_store *st, struct model *m, const struct str *f,
			      const struct topic_limits *lim)
{
	char buf[MAX_STR + 16];
	struct name_results r = { 0 };
	int i, j, ret, expect = 0;
	struct str nonshared = *f;
	struct topic_limits plain = *lim;

	plain.flags &= ~TOPIC_LIM_SHARED;
	ret = topic_store_match(st, f->s, f->len, buf, sizeof(buf), record_name, &r);
	if (!ref_valid(&nonshared, &plain, 1)) {
		CHECK(ret < 0);
		return;
	}
	CHECK(ret == r.n);
	for (i = 0; i < m->nname; i++) {
		if (!ref_match(f->s, f->len, m->name[i].s, m->name[i].len))
			continue;
		expect++;
		for (j = 0; j < r.n; j++)
			if (r.name[j].len == m->name[i].len &&
			    !memcmp(r.name[j].s, m->name[i].s, m->name[i].len))
				break;
		CHECK(j < r.n);
	}
	CHECK(expect == r.n);
}

static int count_dump(void *ctx, const char *filter, u16 len, const struct topic_match *m)
{
	(void)filter;
	(void)len;
	(void)m;
	++*(int *)ctx;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data, size };
	struct topic_limits lim;
	struct topic_store st;
	struct topic_trie t;
	static struct model m;
	char buf[MAX_STR + 16];
	uint8_t b0 = next(&in), b1 = next(&in);
	size_t cap;
	int op, i, ret, dumped;

	lim.max_topic_len = 8 + (b0 & 31);
	lim.max_levels = 1 + (b0 >> 5) * 2;
	lim.flags = (b1 & 1) ? TOPIC_LIM_SHARED : 0;
	/* A memory cap in a fraction of the inputs, to fail allocations on the way. */
	cap = (b1 & 6) == 6 ? 64 + (size_t)(b1 >> 3) * 96 : 0;
	memset(&m, 0, sizeof(m));
	topic_trie_init(&t, &lim, cap);
	topic_store_init(&st, &lim, cap);

	for (op = 0; op < MAX_OPS && in.n; op++) {
		uint8_t code = next(&in);
		struct str x;
		int who = next(&in) % NSUBSCRIBERS;
		struct topic_sub_opts o = { 0 };

		gen(&in, &x, (code & 7) != 2 && (code & 7) != 5 && (code & 7) != 6);
		switch (code & 7) {
		case 0:
		case 1: {
			int valid = ref_valid(&x, &lim, 1), idx;
			struct msub *s;

			o.qos = (code >> 3) % 3;
			o.flags = (code >> 5) & 3;
			o.sub_id = (code & 0x80) ? (u32)next(&in) * 1000 : 0;
			o.retain_handling = next(&in) % 3;
			ret = topic_subscribe(&t, x.s, x.len, &subscriber_ids[who], &o);
			if (!valid) {
				CHECK(ret < 0 && ret != TOPIC_E_MEM_LIMIT);
				break;
			}
			idx = model_find(&m, &x, who);
			if (ret == TOPIC_E_INVAL) {
				/* No Local on a shared subscription. */
				struct msub tmp = { .filter = x };

				msub_split(&tmp, &lim);
				CHECK(tmp.group && (o.flags & TOPIC_SUB_NO_LOCAL));
				break;
			}
			if (ret == TOPIC_E_MEM_LIMIT || ret == TOPIC_E_NOMEM) {
				CHECK(cap);
				break;
			}
			CHECK(ret == (idx >= 0 ? 1 : 0));
			if (idx < 0) {
				if (m.nsub == MAX_SUBS) {
					CHECK(!topic_unsubscribe(&t, x.s, x.len,
								 &subscriber_ids[who]));
					break;
				}
				idx = m.nsub++;
			}
			s = &m.sub[idx];
			s->filter = x;
			s->who = who;
			s->opts = o;
			msub_split(s, &lim);
			break;
		}
		case 3: {
			int idx = model_find(&m, &x, who);

			ret = topic_unsubscribe(&t, x.s, x.len, &subscriber_ids[who]);
			if (!ref_valid(&x, &lim, 1)) {
				CHECK(ret < 0 && ret != TOPIC_E_NOT_FOUND);
				break;
			}
			if (idx < 0) {
				CHECK(ret == TOPIC_E_NOT_FOUND);
				break;
			}
			CHECK(ret == 0);
			m.sub[idx] = m.sub[--m.nsub];
			for (i = 0; i < m.nsub; i++)
				msub_split(&m.sub[i], &lim);
			break;
		}
		case 2:
			if (ref_valid(&x, &lim, 0))
				check_match(&t, &m, &x, code >> 5);
			else
				topic_match(&t, x.s, x.len, NULL, 0, record,
					    &(struct results){ 0 });
			if (ref_valid(&x, &lim, 0) && (code & 0x80))
				check_collect(&t, &m, &x);
			break;
		case 4:
			check_store_match(&st, &m, &x, &lim);
			break;
		case 5: {
			int idx = name_find(&m, &x);
			void *old = NULL;

			ret = topic_store_set(&st, x.s, x.len, &payload_tags[0], &old);
			if (!ref_valid(&x, &lim, 0)) {
				CHECK(ret < 0);
				break;
			}
			if (ret == TOPIC_E_MEM_LIMIT) {
				CHECK(cap);
				break;
			}
			CHECK(ret == (idx >= 0));
			if (idx < 0) {
				if (m.nname == MAX_NAMES) {
					CHECK(!topic_store_del(&st, x.s, x.len, NULL));
					break;
				}
				m.name[m.nname++] = x;
			}
			break;
		}
		case 6: {
			int idx = name_find(&m, &x);
			void *got = topic_store_get(&st, x.s, x.len);

			ret = topic_store_del(&st, x.s, x.len, NULL);
			if (!ref_valid(&x, &lim, 0)) {
				CHECK(ret < 0 && !got);
				break;
			}
			CHECK(ret == (idx >= 0 ? 0 : TOPIC_E_NOT_FOUND));
			CHECK((got != NULL) == (idx >= 0));
			if (idx >= 0)
				m.name[idx] = m.name[--m.nname];
			break;
		}
		case 7:
			dumped = 0;
			ret = topic_trie_dump(&t, buf, sizeof(buf), count_dump, &dumped);
			CHECK(ret == dumped && ret == m.nsub);
			CHECK(t.subs == (u64)m.nsub && st.entries == (u64)m.nname);
			break;
		}
	}

	/* Remove what is left through the API: pruning must bring everything to zero. */
	for (i = 0; i < m.nsub; i++)
		CHECK(!topic_unsubscribe(&t, m.sub[i].filter.s, m.sub[i].filter.len,
					 &subscriber_ids[m.sub[i].who]));
	CHECK(!t.tree.nodes && !t.tree.bytes && !t.tree.tables && !t.subs);
	for (i = 0; i < m.nname; i++)
		CHECK(!topic_store_del(&st, m.name[i].s, m.name[i].len, NULL));
	CHECK(!st.tree.nodes && !st.tree.bytes && !st.entries);
	topic_trie_destroy(&t);
	topic_store_destroy(&st, NULL);
	return 0;
}

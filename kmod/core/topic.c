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

/*
 * The node tree.
 *
 * A node stands for one level. Its exact-level children live in a "set": NULL, a single
 * element, or (tagged with SET_TAB) an open-addressed, linearly probed table of element
 * pointers. The same sets hold a node's subscriptions (keyed by subscriber) and its shared
 * groups (keyed by group name). The '+' and '#' children of a filter node have their own
 * pointers, so matching needs one hashed lookup per level.
 *
 * RCU: readers follow root, children sets, table slots, plus/multi and data through
 * kmq_rcu_deref(). The writer initializes an object completely before publishing it with
 * kmq_rcu_assign(). A table is never resized in place: the writer fills a fresh table,
 * publishes it and frees the old one through RCU. Removing an element from a table leaves
 * a tombstone, so a reader's probe sequence is never cut short; every table keeps at least
 * a quarter of its slots NULL, so every probe ends. Unlinked nodes, subscriptions and
 * tables are freed through RCU.
 *
 * Walks never recurse: they go down through the sets and back up through parent pointers,
 * recomputing where they were (the level offset in the topic, or the slot of the child in
 * its parent's table).
 */
struct topic_node {
	struct topic_node *parent;	/* NULL for the root */
	void __rcu *children;		/* set of struct topic_node */
	struct topic_node __rcu *plus;	/* "+" child */
	struct topic_node __rcu *multi;	/* "#" child */
	void __rcu *data;		/* trie: set of struct topic_sub; store: payload */
	void __rcu *shares;		/* trie: set of struct topic_group */
	u64 last_used;
	u32 hkey;
	u16 len;
	kmq_rcu_head rcu;
	char level[];
};

struct topic_sub {
	void *subscriber;
	struct topic_sub_opts opts;
	kmq_rcu_head rcu;
};

/* Members of one (group, filter) shared subscription; hangs off the filter's node. */
struct topic_group {
	void __rcu *members;		/* set of struct topic_sub */
	u32 cursor;			/* round-robin slot, racy by design */
	u32 hkey;
	u16 len;
	kmq_rcu_head rcu;
	char name[];
};

struct topic_tab {
	u32 mask;
	u32 used;
	u32 tombs;
	kmq_rcu_head rcu;
	void __rcu *slot[];
};

enum set_kind {
	SET_NODES,
	SET_SUBS,
	SET_GROUPS,
};

#define SET_TAB			1UL
#define SET_TOMB		((void *)1)
#define SET_MIN_SLOTS		4U
/* 2^30 slots of 8 bytes: far beyond any memory cap, keeps the u32 arithmetic exact. */
#define SET_MAX_SLOTS		0x40000000U

static inline u64 topic_mix(u64 x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	x ^= x >> 33;
	return x;
}

static inline u32 topic_fold(u64 h)
{
	return (u32)(h ^ (h >> 32));
}

static u32 topic_hash_str(const char *s, u32 len, u64 seed)
{
	u64 h = seed ^ len, w;

	while (len >= sizeof(w)) {
		memcpy(&w, s, sizeof(w));
		h = topic_mix(h ^ w);
		s += sizeof(w);
		len -= sizeof(w);
	}
	w = 0;
	memcpy(&w, s, len);
	return topic_fold(topic_mix(h ^ w ^ 0x8000000000000000ULL));
}

static inline u32 topic_hash_ptr(const void *p, u64 seed)
{
	return topic_fold(topic_mix((unsigned long)p ^ seed));
}

static inline bool set_is_tab(const void *p)
{
	return (unsigned long)p & SET_TAB;
}

static inline struct topic_tab *set_tab(void *p)
{
	return (struct topic_tab *)((unsigned long)p & ~SET_TAB);
}

static inline void *set_tagged(struct topic_tab *tab)
{
	return (void *)((unsigned long)tab | SET_TAB);
}

static inline u32 set_slots_for(u32 n)
{
	u32 slots = SET_MIN_SLOTS;

	while (slots < 2 * n && slots < SET_MAX_SLOTS)
		slots <<= 1;
	return slots;
}

static u32 set_elem_hash(const struct topic_tree *tree, enum set_kind kind, const void *e)
{
	switch (kind) {
	case SET_SUBS:
		return topic_hash_ptr(((const struct topic_sub *)e)->subscriber, tree->seed);
	case SET_GROUPS:
		return ((const struct topic_group *)e)->hkey;
	default:
		return ((const struct topic_node *)e)->hkey;
	}
}

static inline bool set_elem_eq(enum set_kind kind, const void *e, const void *key, u16 len,
			       u32 h)
{
	const struct topic_node *n;
	const struct topic_group *g;

	switch (kind) {
	case SET_SUBS:
		return ((const struct topic_sub *)e)->subscriber == key;
	case SET_GROUPS:
		g = e;
		return g->hkey == h && g->len == len && !memcmp(g->name, key, len);
	default:
		n = e;
		return n->hkey == h && n->len == len && !memcmp(n->level, key, len);
	}
}

/* Reader-safe: the element of set value @p equal to @key, or NULL. */
static inline void *set_find(void *p, enum set_kind kind, const void *key, u16 len, u32 h)
{
	struct topic_tab *tab;
	void *e;
	u32 i;

	if (!p)
		return NULL;
	if (!set_is_tab(p))
		return set_elem_eq(kind, p, key, len, h) ? p : NULL;
	tab = set_tab(p);
	for (i = h & tab->mask;; i = (i + 1) & tab->mask) {
		e = kmq_rcu_deref(tab->slot[i]);
		if (!e)
			return NULL;
		if (e != SET_TOMB && set_elem_eq(kind, e, key, len, h))
			return e;
	}
}

/* Reader-safe iteration over set value @p; *@pos starts at 0. */
static inline void *set_next(void *p, u32 *pos)
{
	struct topic_tab *tab;
	void *e;

	if (!p)
		return NULL;
	if (!set_is_tab(p))
		return (*pos)++ ? NULL : p;
	tab = set_tab(p);
	while (*pos <= tab->mask) {
		e = kmq_rcu_deref(tab->slot[(*pos)++]);
		if (e && e != SET_TOMB)
			return e;
	}
	return NULL;
}

/* Writer: slot of element @e (present) in @tab. */
static u32 tab_slot_of(struct topic_tab *tab, const void *e, u32 h)
{
	u32 i;

	for (i = h & tab->mask; kmq_rcu_protected(tab->slot[i]) != e; i = (i + 1) & tab->mask)
		;
	return i;
}

/* Writer: the iteration position just after element @e of set value @p. */
static u32 set_pos_after(void *p, const void *e, u32 h)
{
	if (!set_is_tab(p))
		return 1;
	return tab_slot_of(set_tab(p), e, h) + 1;
}

static void *tree_alloc(struct topic_tree *tree, size_t size, bool large, int *err)
{
	void *p;

	if (tree->mem_limit && tree->bytes + size > tree->mem_limit) {
		tree->mem_limit_hits++;
		*err = TOPIC_E_MEM_LIMIT;
		return NULL;
	}
	p = large ? kmq_kvzalloc(size) : kmq_zalloc(size);
	if (!p) {
		tree->nomem++;
		*err = TOPIC_E_NOMEM;
		return NULL;
	}
	tree->bytes += size;
	return p;
}

static inline size_t tab_size(u32 slots)
{
	return sizeof(struct topic_tab) + (size_t)slots * sizeof(void *);
}

static struct topic_tab *tab_alloc(struct topic_tree *tree, u32 slots, int *err)
{
	struct topic_tab *tab = tree_alloc(tree, tab_size(slots), true, err);

	if (!tab)
		return NULL;
	tab->mask = slots - 1;
	tree->tables++;
	return tab;
}

static void tab_free(struct topic_tree *tree, struct topic_tab *tab)
{
	tree->bytes -= tab_size(tab->mask + 1);
	tree->tables--;
	kmq_kvfree_rcu(tab, rcu);
}

/* Writer: put @e into a slot of @tab, publishing it (the table may be visible). */
static void tab_insert(struct topic_tab *tab, void *e, u32 h)
{
	void *cur;
	u32 i;

	for (i = h & tab->mask;; i = (i + 1) & tab->mask) {
		cur = kmq_rcu_protected(tab->slot[i]);
		if (!cur || cur == SET_TOMB)
			break;
	}
	if (cur == SET_TOMB)
		tab->tombs--;
	tab->used++;
	kmq_rcu_assign(tab->slot[i], e);
}

/* Writer: replace the table of *@setp by a fresh one sized for @n elements. */
static int set_rebuild(struct topic_tree *tree, void __rcu **setp, enum set_kind kind, u32 n)
{
	struct topic_tab *old = set_tab(kmq_rcu_protected(*setp)), *tab;
	u32 pos = 0;
	int err;
	void *e;

	tab = tab_alloc(tree, set_slots_for(n), &err);
	if (!tab)
		return err;
	while ((e = set_next(set_tagged(old), &pos)))
		tab_insert(tab, e, set_elem_hash(tree, kind, e));
	kmq_rcu_assign(*setp, set_tagged(tab));
	tab_free(tree, old);
	tree->resizes++;
	return 0;
}

/* Writer: add @e (absent, hash @h) to the set at @setp. */
static int set_add(struct topic_tree *tree, void __rcu **setp, enum set_kind kind, void *e,
		   u32 h)
{
	void *p = kmq_rcu_protected(*setp);
	struct topic_tab *tab;
	int err;

	if (!p) {
		kmq_rcu_assign(*setp, e);
		return 0;
	}
	if (!set_is_tab(p)) {
		tab = tab_alloc(tree, SET_MIN_SLOTS, &err);
		if (!tab)
			return err;
		tab_insert(tab, p, set_elem_hash(tree, kind, p));
		tab_insert(tab, e, h);
		kmq_rcu_assign(*setp, set_tagged(tab));
		return 0;
	}
	tab = set_tab(p);
	if ((tab->used + tab->tombs + 1) * 4 > (tab->mask + 1) * 3) {
		if (tab->used + 1 > SET_MAX_SLOTS / 2)
			return TOPIC_E_NOMEM;
		err = set_rebuild(tree, setp, kind, tab->used + 1);
		if (err)
			return err;
		tab = set_tab(kmq_rcu_protected(*setp));
	}
	tab_insert(tab, e, h);
	return 0;
}

/* Writer: replace element @old by @e with the same key in place. */
static void set_replace(void __rcu **setp, void *old, void *e, u32 h)
{
	void *p = kmq_rcu_protected(*setp);
	struct topic_tab *tab;

	if (!set_is_tab(p)) {
		kmq_rcu_assign(*setp, e);
		return;
	}
	tab = set_tab(p);
	kmq_rcu_assign(tab->slot[tab_slot_of(tab, old, h)], e);
}

/*
 * Writer: remove @e (present). Never fails: shrinking the table is skipped when the
 * smaller table cannot be allocated.
 */
static void set_del(struct topic_tree *tree, void __rcu **setp, enum set_kind kind, void *e,
		    u32 h)
{
	void *p = kmq_rcu_protected(*setp), *last;
	struct topic_tab *tab;
	u32 pos = 0;

	if (!set_is_tab(p)) {
		kmq_rcu_assign(*setp, NULL);
		return;
	}
	tab = set_tab(p);
	kmq_rcu_assign(tab->slot[tab_slot_of(tab, e, h)], SET_TOMB);
	tab->used--;
	tab->tombs++;
	if (tab->used <= 1) {
		last = set_next(p, &pos);
		kmq_rcu_assign(*setp, last);
		tab_free(tree, tab);
		return;
	}
	if (tab->used * 8 < tab->mask + 1 && tab->mask + 1 > SET_MIN_SLOTS)
		set_rebuild(tree, setp, kind, tab->used);
}

static void set_free_table(struct topic_tree *tree, void *p)
{
	if (p && set_is_tab(p))
		tab_free(tree, set_tab(p));
}

static inline size_t node_size(u16 len)
{
	return sizeof(struct topic_node) + len;
}

static struct topic_node *node_alloc(struct topic_tree *tree, struct topic_node *parent,
				     const char *level, u16 len, u32 h, int *err)
{
	struct topic_node *n = tree_alloc(tree, node_size(len), false, err);

	if (!n)
		return NULL;
	n->parent = parent;
	n->hkey = h;
	n->len = len;
	memcpy(n->level, level, len);
	tree->nodes++;
	return n;
}

static void node_free(struct topic_tree *tree, struct topic_node *n)
{
	set_free_table(tree, kmq_rcu_protected(n->children));
	tree->bytes -= node_size(n->len);
	tree->nodes--;
	kmq_free_rcu(n, rcu);
}

static inline bool node_is_plus(const struct topic_node *n)
{
	return n->len == 1 && n->level[0] == '+';
}

static inline bool node_is_dollar(const struct topic_node *n)
{
	return n->len && n->level[0] == '$';
}

static bool node_is_empty(struct topic_node *n)
{
	return !kmq_rcu_protected(n->children) && !kmq_rcu_protected(n->plus) &&
	       !kmq_rcu_protected(n->multi) && !kmq_rcu_protected(n->data) &&
	       !kmq_rcu_protected(n->shares);
}

static inline u32 level_end(const char *s, u32 len, u32 pos)
{
	const char *slash = memchr(s + pos, '/', len - pos);

	return slash ? (u32)(slash - s) : len;
}

/*
 * The child of @n for level @level, creating it if @create. Reader-safe when !@create.
 * "+" and "#" are the wildcard children; stored names never contain them.
 */
static struct topic_node *node_child(struct topic_tree *tree, struct topic_node *n,
				     const char *level, u16 len, bool create, int *err)
{
	struct topic_node __rcu **wild = NULL;
	struct topic_node *c;
	u32 h = 0;

	if (len == 1 && level[0] == '+')
		wild = &n->plus;
	else if (len == 1 && level[0] == '#')
		wild = &n->multi;

	if (wild) {
		c = kmq_rcu_deref(*wild);
	} else {
		h = topic_hash_str(level, len, tree->seed);
		c = set_find(kmq_rcu_deref(n->children), SET_NODES, level, len, h);
	}
	if (c || !create)
		return c;

	c = node_alloc(tree, n, level, len, h, err);
	if (!c)
		return NULL;
	if (wild) {
		kmq_rcu_assign(*wild, c);
	} else {
		*err = set_add(tree, &n->children, SET_NODES, c, h);
		if (*err) {
			node_free(tree, c);
			return NULL;
		}
	}
	return c;
}

/* Writer: unlink and free empty nodes from @n upwards, the root included. */
static void tree_prune(struct topic_tree *tree, struct topic_node *n)
{
	struct topic_node *p;

	while (n && node_is_empty(n)) {
		p = n->parent;
		if (!p)
			kmq_rcu_assign(tree->root, NULL);
		else if (n == kmq_rcu_protected(p->plus))
			kmq_rcu_assign(p->plus, NULL);
		else if (n == kmq_rcu_protected(p->multi))
			kmq_rcu_assign(p->multi, NULL);
		else
			set_del(tree, &p->children, SET_NODES, n, n->hkey);
		node_free(tree, n);
		n = p;
	}
}

/*
 * The node of name or filter @s (already validated). With @create, missing nodes are
 * added, and on failure the ones just added are pruned again. Reader-safe when !@create.
 */
static struct topic_node *tree_path(struct topic_tree *tree, const char *s, u16 len,
				    bool create, int *err)
{
	struct topic_node *n = kmq_rcu_deref(tree->root), *c;
	u32 pos = 0, end;

	if (!n) {
		if (!create)
			return NULL;
		n = node_alloc(tree, NULL, "", 0, 0, err);
		if (!n)
			return NULL;
		kmq_rcu_assign(tree->root, n);
	}
	for (;;) {
		end = level_end(s, len, pos);
		c = node_child(tree, n, s + pos, end - pos, create, err);
		if (!c) {
			if (create)
				tree_prune(tree, n);
			return NULL;
		}
		n = c;
		if (end == len)
			return n;
		pos = end + 1;
	}
}

/*
 * Writer: the child of @n after @prev (NULL: the first) in walk order: exact children,
 * then "+", then "#". With @skip_dollar, levels starting with '$' are skipped.
 */
static struct topic_node *node_next_child(struct topic_node *n, struct topic_node *prev,
					  bool skip_dollar)
{
	struct topic_node *plus = kmq_rcu_protected(n->plus);
	struct topic_node *multi = kmq_rcu_protected(n->multi);
	void *p = kmq_rcu_protected(n->children);
	struct topic_node *c;
	u32 pos = 0;

	if (prev == multi && prev)
		return NULL;
	if (prev == plus && prev)
		return multi;
	if (prev)
		pos = set_pos_after(p, prev, prev->hkey);
	while ((c = set_next(p, &pos)))
		if (!skip_dollar || !node_is_dollar(c))
			return c;
	return plus ? plus : multi;
}

/* The path of the walk in a caller's buffer: push on the way down, pop on the way up. */
struct topic_path {
	char *buf;
	u32 size;
	u32 len;
};

static bool path_push(struct topic_path *path, const struct topic_node *c)
{
	u32 sep = c->parent->parent ? 1 : 0;

	if (path->len + sep + c->len > path->size)
		return false;
	if (sep)
		path->buf[path->len] = '/';
	memcpy(path->buf + path->len + sep, c->level, c->len);
	path->len += sep + c->len;
	return true;
}

static void path_pop(struct topic_path *path, const struct topic_node *c)
{
	path->len -= c->len + (c->parent->parent ? 1 : 0);
}

/*
 * Writer: the next node after @n in pre-order below @top (excluded), keeping @path in step;
 * NULL at the end. Nodes whose path would not fit in the buffer are skipped with their
 * subtree (they cannot exist within the limits the caller sized the buffer for).
 */
static struct topic_node *walk_next(struct topic_node *top, struct topic_node *n,
				    struct topic_path *path, bool skip_dollar)
{
	struct topic_node *prev = NULL, *c;

	for (;;) {
		c = node_next_child(n, prev, skip_dollar && !n->parent);
		if (c && path_push(path, c))
			return c;
		if (c) {
			prev = c;
			continue;
		}
		if (n == top)
			return NULL;
		path_pop(path, n);
		prev = n;
		n = n->parent;
	}
}

void topic_node_set_used(struct topic_node *node, u64 when)
{
	kmq_write_once(node->last_used, when);
}

u64 topic_node_used(const struct topic_node *node)
{
	return kmq_read_once(node->last_used);
}

int topic_walk(struct topic_tree *tree, char *buf, u16 buf_size, topic_walk_fn fn, void *ctx)
{
	struct topic_node *root = kmq_rcu_protected(tree->root), *n;
	struct topic_path path = { .buf = buf, .size = buf_size };
	int count = 0, ret;

	if (!root)
		return 0;
	for (n = walk_next(root, root, &path, false); n; n = walk_next(root, n, &path, false)) {
		ret = fn(ctx, buf, path.len, n);
		if (ret < 0)
			return ret;
		count++;
	}
	return count;
}

static void tree_init(struct topic_tree *tree, const struct topic_limits *lim, size_t mem_limit)
{
	memset(tree, 0, sizeof(*tree));
	tree->lim = *lim;
	if (!tree->lim.max_topic_len)
		tree->lim.max_topic_len = TOPIC_DEFAULT_MAX_LEN;
	if (!tree->lim.max_levels || tree->lim.max_levels > TOPIC_MAX_LEVELS)
		tree->lim.max_levels = TOPIC_MAX_LEVELS;
	tree->mem_limit = mem_limit;
	tree->seed = kmq_random_u64();
}

/*
 * Free every node in post-order without recursion. The next child of a parent is found
 * before the current child is freed; a parent's tables outlive its children.
 * @free_data releases a node's data (and shares).
 */
static void tree_destroy(struct topic_tree *tree,
			 void (*free_data)(struct topic_node *n, void *arg), void *arg)
{
	struct topic_node *n = kmq_rcu_protected(tree->root), *p, *next;

	if (!n)
		return;
	kmq_rcu_assign(tree->root, NULL);
	next = node_next_child(n, NULL, false);
	for (;;) {
		if (next) {
			n = next;
			next = node_next_child(n, NULL, false);
			continue;
		}
		p = n->parent;
		next = p ? node_next_child(p, n, false) : NULL;
		free_data(n, arg);
		node_free(tree, n);
		if (!p)
			return;
		n = p;
	}
}

/* ---- Subscription trie ---- */

#define TOPIC_SUB_ID_MAX	268435455U
#define TOPIC_SUB_FLAGS		(TOPIC_SUB_NO_LOCAL | TOPIC_SUB_RAP)

static void sub_free(struct topic_tree *tree, struct topic_sub *s)
{
	tree->bytes -= sizeof(*s);
	kmq_free_rcu(s, rcu);
}

static inline size_t group_size(u16 len)
{
	return sizeof(struct topic_group) + len;
}

static void group_free(struct topic_tree *tree, struct topic_group *g)
{
	tree->bytes -= group_size(g->len);
	kmq_free_rcu(g, rcu);
}

/* Free a set of subscriptions; returns how many there were. */
static u64 subs_free(struct topic_tree *tree, void *p)
{
	struct topic_sub *s;
	u32 pos = 0;
	u64 n = 0;

	while ((s = set_next(p, &pos))) {
		sub_free(tree, s);
		n++;
	}
	set_free_table(tree, p);
	return n;
}

static void trie_free_data(struct topic_node *n, void *arg)
{
	struct topic_trie *t = arg;
	struct topic_tree *tree = &t->tree;
	void *shares = kmq_rcu_protected(n->shares);
	struct topic_group *g;
	u32 pos = 0;

	t->subs -= subs_free(tree, kmq_rcu_protected(n->data));
	while ((g = set_next(shares, &pos))) {
		t->subs -= subs_free(tree, kmq_rcu_protected(g->members));
		group_free(tree, g);
		t->shared_groups--;
	}
	set_free_table(tree, shares);
}

void topic_trie_init(struct topic_trie *t, const struct topic_limits *lim, size_t mem_limit)
{
	memset(t, 0, sizeof(*t));
	tree_init(&t->tree, lim, mem_limit);
}

void topic_trie_destroy(struct topic_trie *t)
{
	tree_destroy(&t->tree, trie_free_data, t);
}

static bool sub_opts_valid(const struct topic_sub_opts *o)
{
	return o->qos <= 2 && o->retain_handling <= 2 && !(o->flags & ~TOPIC_SUB_FLAGS) &&
	       o->sub_id <= TOPIC_SUB_ID_MAX;
}

/* Writer: the group @name at node @n, created if @create. */
static struct topic_group *group_get(struct topic_trie *t, struct topic_node *n,
				     const char *name, u16 len, bool create, int *err)
{
	struct topic_tree *tree = &t->tree;
	u32 h = topic_hash_str(name, len, tree->seed);
	struct topic_group *g;

	g = set_find(kmq_rcu_protected(n->shares), SET_GROUPS, name, len, h);
	if (g || !create)
		return g;
	g = tree_alloc(tree, group_size(len), false, err);
	if (!g)
		return NULL;
	g->hkey = h;
	g->len = len;
	memcpy(g->name, name, len);
	*err = set_add(tree, &n->shares, SET_GROUPS, g, h);
	if (*err) {
		group_free(tree, g);
		return NULL;
	}
	t->shared_groups++;
	return g;
}

static void group_put_if_empty(struct topic_trie *t, struct topic_node *n, struct topic_group *g)
{
	if (kmq_rcu_protected(g->members))
		return;
	set_del(&t->tree, &n->shares, SET_GROUPS, g, g->hkey);
	group_free(&t->tree, g);
	t->shared_groups--;
}

int topic_subscribe(struct topic_trie *t, const char *filter, u16 len, void *subscriber,
		    const struct topic_sub_opts *opts)
{
	struct topic_tree *tree = &t->tree;
	const char *group = NULL, *inner = filter;
	u16 group_len = 0, inner_len = len;
	struct topic_group *g = NULL;
	struct topic_sub *old, *s;
	struct topic_node *n;
	void __rcu **setp;
	u32 h;
	int err;

	err = topic_filter_valid(filter, len, &tree->lim);
	if (err)
		return err;
	if (!sub_opts_valid(opts))
		return TOPIC_E_INVAL;
	if ((tree->lim.flags & TOPIC_LIM_SHARED) &&
	    topic_share_split(filter, len, &group, &group_len, &inner, &inner_len) &&
	    (opts->flags & TOPIC_SUB_NO_LOCAL))
		return TOPIC_E_INVAL;	/* [MQTT-3.8.3-4] */

	n = tree_path(tree, inner, inner_len, true, &err);
	if (!n)
		return err;
	if (group) {
		g = group_get(t, n, group, group_len, true, &err);
		if (!g)
			goto fail;
		setp = &g->members;
	} else {
		setp = &n->data;
	}

	s = tree_alloc(tree, sizeof(*s), false, &err);
	if (!s)
		goto fail;
	s->subscriber = subscriber;
	s->opts = *opts;
	h = topic_hash_ptr(subscriber, tree->seed);
	old = set_find(kmq_rcu_protected(*setp), SET_SUBS, subscriber, 0, h);
	if (old) {
		/* A new object, so that a reader sees either the old options or the new. */
		set_replace(setp, old, s, h);
		sub_free(tree, old);
		return 1;
	}
	err = set_add(tree, setp, SET_SUBS, s, h);
	if (err) {
		sub_free(tree, s);
		goto fail;
	}
	t->subs++;
	return 0;

fail:
	if (g)
		group_put_if_empty(t, n, g);
	tree_prune(tree, n);
	return err;
}

int topic_unsubscribe(struct topic_trie *t, const char *filter, u16 len, void *subscriber)
{
	struct topic_tree *tree = &t->tree;
	const char *group = NULL, *inner = filter;
	u16 group_len = 0, inner_len = len;
	struct topic_group *g = NULL;
	struct topic_node *n;
	struct topic_sub *s;
	void __rcu **setp;
	u32 h;
	int err;

	err = topic_filter_valid(filter, len, &tree->lim);
	if (err)
		return err;
	if (tree->lim.flags & TOPIC_LIM_SHARED)
		topic_share_split(filter, len, &group, &group_len, &inner, &inner_len);

	n = tree_path(tree, inner, inner_len, false, &err);
	if (!n)
		return TOPIC_E_NOT_FOUND;
	if (group) {
		g = group_get(t, n, group, group_len, false, &err);
		if (!g)
			return TOPIC_E_NOT_FOUND;
		setp = &g->members;
	} else {
		setp = &n->data;
	}
	h = topic_hash_ptr(subscriber, tree->seed);
	s = set_find(kmq_rcu_protected(*setp), SET_SUBS, subscriber, 0, h);
	if (!s)
		return TOPIC_E_NOT_FOUND;
	set_del(tree, setp, SET_SUBS, s, h);
	sub_free(tree, s);
	t->subs--;
	if (g)
		group_put_if_empty(t, n, g);
	tree_prune(tree, n);
	return 0;
}

/* One member of @g, round-robin over the slots of its member table. */
static struct topic_sub *group_pick(struct topic_group *g)
{
	void *p = kmq_rcu_deref(g->members);
	struct topic_tab *tab;
	u32 start, i, k;
	void *e;

	if (!p || !set_is_tab(p))
		return p;
	tab = set_tab(p);
	start = kmq_read_once(g->cursor);
	for (k = 0; k <= tab->mask; k++) {
		i = (start + k) & tab->mask;
		e = kmq_rcu_deref(tab->slot[i]);
		if (e && e != SET_TOMB) {
			kmq_write_once(g->cursor, i + 1);
			return e;
		}
	}
	return NULL;
}

struct match_run {
	const void *publisher;
	u64 now;
	topic_match_fn fn;
	void *ctx;
	int count;
};

/* Report the subscriptions of filter node @n, which matches. */
static int match_node(struct match_run *run, struct topic_node *n)
{
	void *subs = kmq_rcu_deref(n->data), *shares = kmq_rcu_deref(n->shares);
	struct topic_match m = { .node = n };
	struct topic_group *g;
	struct topic_sub *s;
	u32 pos = 0;
	int ret;

	if (run->now && (subs || shares))
		topic_node_set_used(n, run->now);
	while ((s = set_next(subs, &pos))) {
		if ((s->opts.flags & TOPIC_SUB_NO_LOCAL) && s->subscriber == run->publisher)
			continue;
		m.subscriber = s->subscriber;
		m.opts = &s->opts;
		ret = run->fn(run->ctx, &m);
		if (ret < 0)
			return ret;
		run->count++;
	}
	pos = 0;
	while ((g = set_next(shares, &pos))) {
		s = group_pick(g);
		if (!s)
			continue;
		m.subscriber = s->subscriber;
		m.opts = &s->opts;
		m.group = g->name;
		m.group_len = g->len;
		ret = run->fn(run->ctx, &m);
		if (ret < 0)
			return ret;
		run->count++;
	}
	return 0;
}

/*
 * Depth-first over the filter nodes matching @topic. At node n the levels before pos are
 * matched (pos == len + 1: all of them). From n the walk goes down to the exact child,
 * else to the '+' child; going back up from an exact child it tries the parent's '+'
 * child, from a '+' child it goes further up. The '#' child of every node on the way
 * matches at once (also when all levels are used: "sport/#" matches "sport").
 */
int topic_match(struct topic_trie *t, const char *topic, u16 len, const void *publisher,
		u64 now, topic_match_fn fn, void *ctx)
{
	struct match_run run = { publisher, now, fn, ctx, 0 };
	struct topic_tree *tree = &t->tree;
	struct topic_node *root, *n, *c;
	u32 pos = 0, end, start;
	void *children;
	bool dollar;
	int ret;

	if (!len)
		return TOPIC_E_EMPTY;
	if (len > tree->lim.max_topic_len)
		return TOPIC_E_TOO_LONG;
	root = kmq_rcu_deref(tree->root);
	if (!root)
		return 0;
	/* [MQTT-4.7.2-1]: no '+' or '#' at the first level for "$..." names. */
	dollar = topic[0] == '$';
	n = root;
	for (;;) {
		c = (n == root && dollar) ? NULL : kmq_rcu_deref(n->multi);
		if (c) {
			ret = match_node(&run, c);
			if (ret < 0)
				return ret;
		}
		if (pos > len) {
			ret = match_node(&run, n);
			if (ret < 0)
				return ret;
		} else {
			end = level_end(topic, len, pos);
			children = kmq_rcu_deref(n->children);
			c = NULL;
			if (children)
				c = set_find(children, SET_NODES, topic + pos, end - pos,
					     topic_hash_str(topic + pos, end - pos, tree->seed));
			if (!c && !(n == root && dollar))
				c = kmq_rcu_deref(n->plus);
			if (c) {
				n = c;
				pos = end + 1;
				continue;
			}
		}
		/* Back up to the nearest ancestor with an untried '+' child. */
		for (;;) {
			if (n == root)
				return run.count;
			start = pos - 1;
			while (start && topic[start - 1] != '/')
				start--;
			c = n->parent;
			if (!node_is_plus(n) && !(c == root && dollar)) {
				n = kmq_rcu_deref(c->plus);
				if (n)
					break;
			}
			n = c;
			pos = start;
		}
	}
}

static u32 collect_slot(const void *subscriber, u32 mask)
{
	return topic_hash_ptr(subscriber, 0) & mask;
}

int topic_collector_init(struct topic_collector *c, struct topic_delivery *dlv, u32 dlv_cap,
			 u32 *index, u32 index_slots, struct topic_id_link *ids, u32 ids_cap)
{
	if (!index_slots || (index_slots & (index_slots - 1)) || index_slots <= dlv_cap ||
	    dlv_cap >= TOPIC_ID_END || ids_cap >= TOPIC_ID_END)
		return TOPIC_E_INVAL;
	memset(c, 0, sizeof(*c));
	c->dlv = dlv;
	c->dlv_cap = dlv_cap;
	c->index = index;
	c->index_mask = index_slots - 1;
	c->ids = ids;
	c->ids_cap = ids_cap;
	return 0;
}

static int collect_one(void *ctx, const struct topic_match *m)
{
	struct topic_collector *c = ctx;
	struct topic_delivery *d;
	u32 i = collect_slot(m->subscriber, c->index_mask);

	for (; c->index[i]; i = (i + 1) & c->index_mask) {
		d = &c->dlv[c->index[i] - 1];
		if (d->subscriber == m->subscriber)
			goto merge;
	}
	if (c->ndlv == c->dlv_cap) {
		c->dropped++;
		return 0;
	}
	d = &c->dlv[c->ndlv++];
	c->index[i] = c->ndlv;
	d->subscriber = m->subscriber;
	d->first_id = TOPIC_ID_END;
	d->last_id = TOPIC_ID_END;
	d->nsubs = 0;
	d->nids = 0;
	d->qos = 0;
	d->flags = 0;
merge:
	if (d->nsubs < 0xffff)
		d->nsubs++;
	if (m->opts->qos > d->qos)
		d->qos = m->opts->qos;
	d->flags |= m->opts->flags;
	if (!m->opts->sub_id)
		return 0;
	if (c->nids == c->ids_cap || d->nids == 0xffff) {
		c->dropped++;
		return 0;
	}
	c->ids[c->nids].id = m->opts->sub_id;
	c->ids[c->nids].next = TOPIC_ID_END;
	if (d->last_id == TOPIC_ID_END)
		d->first_id = c->nids;
	else
		c->ids[d->last_id].next = c->nids;
	d->last_id = c->nids++;
	d->nids++;
	return 0;
}

int topic_collect(struct topic_trie *t, const char *topic, u16 len, const void *publisher,
		  u64 now, struct topic_collector *c)
{
	int ret;

	memset(c->index, 0, ((size_t)c->index_mask + 1) * sizeof(*c->index));
	c->ndlv = 0;
	c->nids = 0;
	c->dropped = 0;
	ret = topic_match(t, topic, len, publisher, now, collect_one, c);
	if (ret < 0)
		return ret;
	return c->dropped ? TOPIC_E_FULL : (int)c->ndlv;
}

struct dump_run {
	topic_dump_fn fn;
	void *ctx;
	int count;
};

static int dump_set(struct dump_run *run, const char *path, u16 len, struct topic_node *n,
		    void *subs, const struct topic_group *g)
{
	struct topic_match m = { .node = n };
	struct topic_sub *s;
	u32 pos = 0;
	int ret;

	if (g) {
		m.group = g->name;
		m.group_len = g->len;
	}
	while ((s = set_next(subs, &pos))) {
		m.subscriber = s->subscriber;
		m.opts = &s->opts;
		ret = run->fn(run->ctx, path, len, &m);
		if (ret < 0)
			return ret;
		run->count++;
	}
	return 0;
}

static int dump_node(void *ctx, const char *path, u16 len, struct topic_node *n)
{
	void *shares = kmq_rcu_protected(n->shares);
	struct topic_group *g;
	u32 pos = 0;
	int ret;

	ret = dump_set(ctx, path, len, n, kmq_rcu_protected(n->data), NULL);
	while (!ret && (g = set_next(shares, &pos)))
		ret = dump_set(ctx, path, len, n, kmq_rcu_protected(g->members), g);
	return ret;
}

int topic_trie_dump(struct topic_trie *t, char *buf, u16 buf_size, topic_dump_fn fn, void *ctx)
{
	struct dump_run run = { fn, ctx, 0 };
	int ret = topic_walk(&t->tree, buf, buf_size, dump_node, &run);

	return ret < 0 ? ret : run.count;
}

/* ---- Store of topic names ---- */

static void store_free_data(struct topic_node *n, void *arg)
{
	void (*free_payload)(void *payload) = arg;
	void *payload = kmq_rcu_protected(n->data);

	if (payload && free_payload)
		free_payload(payload);
}

void topic_store_init(struct topic_store *s, const struct topic_limits *lim, size_t mem_limit)
{
	memset(s, 0, sizeof(*s));
	tree_init(&s->tree, lim, mem_limit);
	s->tree.lim.flags &= ~TOPIC_LIM_SHARED;
}

void topic_store_destroy(struct topic_store *s, void (*free_payload)(void *payload))
{
	tree_destroy(&s->tree, store_free_data, free_payload);
	s->entries = 0;
}

int topic_store_set(struct topic_store *s, const char *name, u16 len, void *payload,
		    void **old)
{
	struct topic_node *n;
	void *prev;
	int err;

	if (!payload)
		return TOPIC_E_INVAL;
	err = topic_name_valid(name, len, &s->tree.lim);
	if (err)
		return err;
	n = tree_path(&s->tree, name, len, true, &err);
	if (!n)
		return err;
	prev = kmq_rcu_protected(n->data);
	kmq_rcu_assign(n->data, payload);
	if (old)
		*old = prev;
	if (prev)
		return 1;
	s->entries++;
	return 0;
}

void *topic_store_get(struct topic_store *s, const char *name, u16 len)
{
	struct topic_node *n;
	int err;

	if (!len || len > s->tree.lim.max_topic_len)
		return NULL;
	n = tree_path(&s->tree, name, len, false, &err);
	return n ? kmq_rcu_deref(n->data) : NULL;
}

int topic_store_del(struct topic_store *s, const char *name, u16 len, void **old)
{
	struct topic_node *n;
	void *prev;
	int err;

	err = topic_name_valid(name, len, &s->tree.lim);
	if (err)
		return err;
	n = tree_path(&s->tree, name, len, false, &err);
	prev = n ? kmq_rcu_protected(n->data) : NULL;
	if (!prev)
		return TOPIC_E_NOT_FOUND;
	kmq_rcu_assign(n->data, NULL);
	if (old)
		*old = prev;
	s->entries--;
	tree_prune(&s->tree, n);
	return 0;
}

struct store_run {
	topic_store_fn fn;
	void *ctx;
	struct topic_path path;
	int count;
};

static int store_emit(struct store_run *run, struct topic_node *n)
{
	void *payload = kmq_rcu_protected(n->data);
	int ret;

	if (!payload)
		return 0;
	ret = run->fn(run->ctx, run->path.buf, run->path.len, payload, n);
	if (ret < 0)
		return ret;
	run->count++;
	return 0;
}

/* "#" at node @n: @n itself (unless it is the root) and everything below it. */
static int store_emit_subtree(struct store_run *run, struct topic_node *n)
{
	u32 base = run->path.len;
	struct topic_node *c;
	int ret;

	if (n->parent) {
		ret = store_emit(run, n);
		if (ret < 0)
			return ret;
	}
	for (c = walk_next(n, n, &run->path, true); c; c = walk_next(n, c, &run->path, true)) {
		ret = store_emit(run, c);
		if (ret < 0)
			return ret;
	}
	run->path.len = base;
	return 0;
}

/*
 * Depth-first over the stored names matching @filter: the mirror image of topic_match().
 * A '+' level tries every child of the node in turn; going back up from a child reached
 * through '+' continues with its next sibling.
 */
int topic_store_match(struct topic_store *s, const char *filter, u16 len, char *buf,
		      u16 buf_size, topic_store_fn fn, void *ctx)
{
	struct store_run run = { fn, ctx, { buf, buf_size, 0 }, 0 };
	struct topic_node *root, *n, *c;
	u32 pos = 0, end, start;
	bool plus;
	int ret;

	ret = topic_filter_valid(filter, len, &s->tree.lim);
	if (ret)
		return ret;
	if (buf_size < s->tree.lim.max_topic_len)
		return TOPIC_E_INVAL;
	root = kmq_rcu_protected(s->tree.root);
	if (!root)
		return 0;
	n = root;
	for (;;) {
		if (pos > len) {
			ret = store_emit(&run, n);
			if (ret < 0)
				return ret;
			c = NULL;
		} else {
			end = level_end(filter, len, pos);
			if (end - pos == 1 && filter[pos] == '#') {
				ret = store_emit_subtree(&run, n);
				if (ret < 0)
					return ret;
				c = NULL;
			} else if (end - pos == 1 && filter[pos] == '+') {
				c = node_next_child(n, NULL, !n->parent);
			} else {
				c = node_child(&s->tree, n, filter + pos, end - pos, false, &ret);
			}
			if (c && path_push(&run.path, c)) {
				n = c;
				pos = end + 1;
				continue;
			}
		}
		/* Back up to the nearest ancestor reached through '+' with a next sibling. */
		for (;;) {
			if (n == root)
				return run.count;
			start = pos - 1;
			while (start && filter[start - 1] != '/')
				start--;
			plus = pos - 1 - start == 1 && filter[start] == '+';
			path_pop(&run.path, n);
			c = plus ? node_next_child(n->parent, n, !n->parent->parent) : NULL;
			if (c && path_push(&run.path, c)) {
				n = c;
				break;
			}
			n = n->parent;
			pos = start;
		}
	}
}

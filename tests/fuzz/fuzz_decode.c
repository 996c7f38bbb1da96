// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * libFuzzer harness for the MQTT codec.
 *
 * Input: byte 0 seeds the chunk sizes, byte 1 picks the framer's level (bits 0-1: unknown,
 * 3.1, 3.1.1, 5.0), the limits (bit 2: small ones) and shared subscriptions (bit 3: off);
 * the rest is a byte stream. The stream is fed to the framer in pseudo-random chunks; each
 * packet it assembles is checked against decoding the same bytes in one piece, decoded at
 * every level, and every packet that decodes is re-encoded (into exactly-sized buffers,
 * and into too-small ones that must be refused untouched) and decoded again to the same
 * fields. A CONNECT switches the framer to its level, as the daemon and kernel do.
 */
#include <stdlib.h>
#include <string.h>

#include "mqtt_codec.h"

#define CHECK(x)	do { if (!(x)) __builtin_trap(); } while (0)

static const struct mqtt_limits tight = {
	.max_packet_size = 128,
	.max_subs = 2,
	.max_props = 3,
	.max_user_props = 1,
	.max_client_id_len = 8,
	.topic = { .max_topic_len = 16, .max_levels = 4, .flags = TOPIC_LIM_SHARED },
};

#define FRAME_CAP	(MQTT_DEFAULT_MAX_PACKET_SIZE)
#define MAX_LIST	MQTT_DEFAULT_MAX_SUBS

static u8 frame[FRAME_CAP];

static bool str_eq(struct mqtt_str a, struct mqtt_str b)
{
	return a.len == b.len && (!a.len || !memcmp(a.s, b.s, a.len));
}

static bool bin_eq(struct mqtt_bin a, struct mqtt_bin b)
{
	return a.len == b.len && (!a.len || !memcmp(a.p, b.p, a.len));
}

static bool props_eq(const struct mqtt_props *a, const struct mqtt_props *b)
{
	return a->len == b->len && (!a->len || !memcmp(a->p, b->p, a->len)) &&
	       a->present == b->present && a->count == b->count && a->n_user == b->n_user &&
	       a->n_sub_id == b->n_sub_id;
}

struct lists {
	struct mqtt_sub_entry entries[MAX_LIST];
	struct mqtt_str filters[MAX_LIST];
	u32 n;
};

/* Walk a decoded packet's lists (and property blocks) into @l. */
static void walk(const struct mqtt_packet *pkt, struct lists *l)
{
	struct mqtt_iter it;
	struct mqtt_prop prop;
	const struct mqtt_props *pr = NULL;
	u32 n = 0;

	l->n = 0;
	if (pkt->type == MQTT_SUBSCRIBE) {
		mqtt_sub_iter_init(&it, &pkt->subscribe);
		while (l->n < MAX_LIST && mqtt_sub_next(&it, &l->entries[l->n]))
			l->n++;
		CHECK(l->n == pkt->subscribe.count);
		pr = &pkt->subscribe.props;
	} else if (pkt->type == MQTT_UNSUBSCRIBE) {
		mqtt_unsub_iter_init(&it, &pkt->unsubscribe);
		while (l->n < MAX_LIST && mqtt_unsub_next(&it, &l->filters[l->n]))
			l->n++;
		CHECK(l->n == pkt->unsubscribe.count);
		pr = &pkt->unsubscribe.props;
	} else if (pkt->type == MQTT_PUBLISH) {
		pr = &pkt->publish.props;
	} else if (pkt->type == MQTT_CONNECT) {
		pr = &pkt->connect.props;
	}
	if (!pr)
		return;
	/* A validated block iterates cleanly to exactly its count, and lookups agree. */
	mqtt_prop_iter_init(&it, pr);
	while (mqtt_prop_next(&it, &prop) > 0) {
		u32 v;

		CHECK(mqtt_props_has(pr, prop.id));
		if (prop.type <= MQTT_PT_VARINT)
			CHECK(!mqtt_prop_get_int(pr, prop.id, &v));
		n++;
	}
	CHECK(n == pr->count);
}

static bool packet_eq(const struct mqtt_packet *a, const struct lists *la,
		      const struct mqtt_packet *b, const struct lists *lb)
{
	u32 i;

	if (a->type != b->type)
		return false;
	switch (a->type) {
	case MQTT_CONNECT: {
		const struct mqtt_connect *x = &a->connect, *y = &b->connect;

		return x->level == y->level && x->clean_start == y->clean_start &&
		       x->will == y->will && x->will_qos == y->will_qos &&
		       x->will_retain == y->will_retain && x->has_username == y->has_username &&
		       x->has_password == y->has_password && x->keep_alive == y->keep_alive &&
		       props_eq(&x->props, &y->props) && str_eq(x->client_id, y->client_id) &&
		       props_eq(&x->will_props, &y->will_props) &&
		       str_eq(x->will_topic, y->will_topic) &&
		       bin_eq(x->will_payload, y->will_payload) &&
		       str_eq(x->username, y->username) && bin_eq(x->password, y->password);
	}
	case MQTT_CONNACK:
		return a->connack.session_present == b->connack.session_present &&
		       a->connack.reason == b->connack.reason &&
		       props_eq(&a->connack.props, &b->connack.props);
	case MQTT_PUBLISH: {
		const struct mqtt_publish *x = &a->publish, *y = &b->publish;

		return x->dup == y->dup && x->qos == y->qos && x->retain == y->retain &&
		       x->packet_id == y->packet_id && str_eq(x->topic, y->topic) &&
		       props_eq(&x->props, &y->props) && x->payload_len == y->payload_len &&
		       (!x->payload_len || !memcmp(x->payload, y->payload, x->payload_len));
	}
	case MQTT_PUBACK:
	case MQTT_PUBREC:
	case MQTT_PUBREL:
	case MQTT_PUBCOMP:
		return a->ack.packet_id == b->ack.packet_id && a->ack.reason == b->ack.reason &&
		       props_eq(&a->ack.props, &b->ack.props);
	case MQTT_SUBSCRIBE:
		if (a->subscribe.packet_id != b->subscribe.packet_id || la->n != lb->n ||
		    !props_eq(&a->subscribe.props, &b->subscribe.props))
			return false;
		for (i = 0; i < la->n; i++) {
			const struct mqtt_sub_entry *x = &la->entries[i], *y = &lb->entries[i];

			if (!str_eq(x->filter, y->filter) || x->qos != y->qos ||
			    x->no_local != y->no_local ||
			    x->retain_as_published != y->retain_as_published ||
			    x->retain_handling != y->retain_handling)
				return false;
		}
		return true;
	case MQTT_SUBACK:
	case MQTT_UNSUBACK:
		return a->suback.packet_id == b->suback.packet_id &&
		       a->suback.count == b->suback.count &&
		       (!a->suback.count ||
			!memcmp(a->suback.codes, b->suback.codes, a->suback.count)) &&
		       props_eq(&a->suback.props, &b->suback.props);
	case MQTT_UNSUBSCRIBE:
		if (a->unsubscribe.packet_id != b->unsubscribe.packet_id || la->n != lb->n ||
		    !props_eq(&a->unsubscribe.props, &b->unsubscribe.props))
			return false;
		for (i = 0; i < la->n; i++)
			if (!str_eq(la->filters[i], lb->filters[i]))
				return false;
		return true;
	case MQTT_DISCONNECT:
		return a->disconnect.reason == b->disconnect.reason &&
		       props_eq(&a->disconnect.props, &b->disconnect.props);
	case MQTT_AUTH:
		return a->auth.reason == b->auth.reason && props_eq(&a->auth.props, &b->auth.props);
	default:
		return true;
	}
}

static u32 rng_next(u32 *s)
{
	*s = *s * 1103515245 + 12345;
	return *s >> 16;
}

/* Re-encode a decoded packet and decode the result: same fields, same or smaller size. */
static void reencode(u8 level, const struct mqtt_packet *dec, u32 orig_len,
		     const struct mqtt_limits *lim, u32 *rng)
{
	static struct lists la, lb;
	struct mqtt_packet in = *dec, again;
	u8 *out, *small;
	int size, n, cap;

	walk(dec, &la);
	if (dec->type == MQTT_SUBSCRIBE)
		in.subscribe.entries = la.entries;
	if (dec->type == MQTT_UNSUBSCRIBE)
		in.unsubscribe.filters = la.filters;
	size = mqtt_encoded_size(level, &in);
	CHECK(size > 0 && (u32)size <= orig_len);
	out = malloc(size);
	CHECK(out);
	n = mqtt_encode(out, size, level, &in);
	CHECK(n == size);
	CHECK(mqtt_decode_buf(level, out, n, lim, &again) == n);
	walk(&again, &lb);
	CHECK(packet_eq(dec, &la, &again, &lb));

	/* A buffer one byte short (or any smaller) is refused without a write past it. */
	cap = rng_next(rng) % size;
	small = malloc(cap ? cap : 1);
	CHECK(small);
	CHECK(mqtt_encode(small, cap, level, &in) == -ENOSPC);
	free(small);
	if (dec->type == MQTT_PUBLISH) {
		int head = mqtt_encode_publish_head(out, size, level, &in.publish);

		CHECK(head == size - (int)in.publish.payload_len);
	}
	free(out);
}

static void check_err(int err)
{
	CHECK(err < 0);
	CHECK(strcmp(mqtt_err_name(err), "unknown"));
	CHECK(mqtt_err_reason(err) >= 0x80);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static const u8 level_of[] = { MQTT_LEVEL_UNKNOWN, MQTT_LEVEL_31, MQTT_LEVEL_311,
				       MQTT_LEVEL_5 };
	static const u8 all_levels[] = { MQTT_LEVEL_UNKNOWN, MQTT_LEVEL_31, MQTT_LEVEL_311,
					 MQTT_LEVEL_5 };
	struct mqtt_limits lim = MQTT_LIMITS_DEFAULT;
	struct mqtt_framer f;
	u32 rng, off = 0, start = 0, len;
	u8 level;

	if (size < 2 || size > 1U << 20)
		return 0;
	rng = data[0];
	level = level_of[data[1] & 3];
	if (data[1] & 4)
		lim = tight;
	if (data[1] & 8)
		lim.topic.flags &= ~TOPIC_LIM_SHARED;
	data += 2;
	len = size - 2;

	mqtt_framer_init(&f, frame, sizeof(frame), level, lim.max_packet_size);
	while (off < len) {
		const struct mqtt_fixed_header *fh;
		struct mqtt_packet pkt, whole;
		u32 chunk, used, i, plen;
		int ret, one;

		chunk = rng_next(&rng) % 4 ? 1 + rng_next(&rng) % 16 : 1 + rng_next(&rng) % 4096;
		if (chunk > len - off)
			chunk = len - off;
		ret = mqtt_framer_feed(&f, data + off, chunk, &used);
		CHECK(used <= chunk);
		off += used;
		if (ret < 0) {
			/* The header alone decided: one-piece parsing agrees. */
			check_err(ret);
			CHECK(mqtt_decode_buf(f.level, data + start, len - start, &lim, &whole) ==
			      ret);
			return 0;
		}
		if (!ret) {
			CHECK(used == chunk);
			continue;
		}
		CHECK(mqtt_framer_packet(&f, &fh) == frame);
		plen = fh->hdr_len + fh->remlen;
		CHECK(off - start == plen);
		CHECK(!memcmp(frame, data + start, plen));

		/* Split invariance: the framed packet decodes as the bytes in place do. */
		ret = mqtt_decode(f.level, fh, frame + fh->hdr_len, &lim, &pkt);
		one = mqtt_decode_buf(f.level, data + start, plen, &lim, &whole);
		CHECK(one == (ret ? ret : (int)plen));
		if (ret) {
			check_err(ret);
		} else {
			static struct lists la, lb;

			walk(&pkt, &la);
			walk(&whole, &lb);
			CHECK(packet_eq(&pkt, &la, &whole, &lb));
		}

		/* Every level, with a re-encoding round trip wherever it decodes. */
		for (i = 0; i < sizeof(all_levels); i++) {
			struct mqtt_packet any;
			int r = mqtt_decode(all_levels[i], fh, frame + fh->hdr_len, &lim, &any);

			if (r) {
				check_err(r);
				continue;
			}
			reencode(any.type == MQTT_CONNECT ? any.connect.level : all_levels[i], &any,
				 plen, &lim, &rng);
		}
		if (!ret && pkt.type == MQTT_CONNECT)
			mqtt_framer_set_level(&f, pkt.connect.level);
		start = off;
	}
	return 0;
}

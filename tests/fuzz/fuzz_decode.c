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
#include "../common/packet_eq.h"

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

/* A decoded packet's lists and property block iterate cleanly to exactly their counts. */
static void walk(const struct mqtt_packet *pkt)
{
	struct mqtt_iter it;
	struct mqtt_prop prop;
	const struct mqtt_props *pr = NULL;
	u32 n = 0;

	if (pkt->type == MQTT_SUBSCRIBE) {
		struct mqtt_sub_entry e;

		mqtt_sub_iter_init(&it, &pkt->subscribe);
		while (mqtt_sub_next(&it, &e))
			n++;
		CHECK(n == pkt->subscribe.count);
		pr = &pkt->subscribe.props;
	} else if (pkt->type == MQTT_UNSUBSCRIBE) {
		struct mqtt_str filter;

		mqtt_unsub_iter_init(&it, &pkt->unsubscribe);
		while (mqtt_unsub_next(&it, &filter))
			n++;
		CHECK(n == pkt->unsubscribe.count);
		pr = &pkt->unsubscribe.props;
	} else if (pkt->type == MQTT_PUBLISH) {
		pr = &pkt->publish.props;
	} else if (pkt->type == MQTT_CONNECT) {
		pr = &pkt->connect.props;
	}
	if (!pr)
		return;
	/* A validated block iterates cleanly to exactly its count, and lookups agree. */
	n = 0;
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

/* The encoder's input for a decoded packet: its lists become arrays (of at most MAX_LIST). */
static void to_encoder_input(const struct mqtt_packet *dec, struct mqtt_packet *in)
{
	static struct mqtt_sub_entry entries[MAX_LIST];
	static struct mqtt_str filters[MAX_LIST];
	struct mqtt_iter it;
	u32 n = 0;

	*in = *dec;
	if (dec->type == MQTT_SUBSCRIBE) {
		CHECK(dec->subscribe.count <= MAX_LIST);
		mqtt_sub_iter_init(&it, &dec->subscribe);
		while (n < MAX_LIST && mqtt_sub_next(&it, &entries[n]))
			n++;
		in->subscribe.entries = entries;
	} else if (dec->type == MQTT_UNSUBSCRIBE) {
		CHECK(dec->unsubscribe.count <= MAX_LIST);
		mqtt_unsub_iter_init(&it, &dec->unsubscribe);
		while (n < MAX_LIST && mqtt_unsub_next(&it, &filters[n]))
			n++;
		in->unsubscribe.filters = filters;
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
	struct mqtt_packet in, again;
	u8 *out, *small;
	int size, n, cap;

	walk(dec);
	to_encoder_input(dec, &in);
	size = mqtt_encoded_size(level, &in);
	CHECK(size > 0 && (u32)size <= orig_len);
	out = malloc(size);
	CHECK(out);
	n = mqtt_encode(out, size, level, &in);
	CHECK(n == size);
	CHECK(mqtt_decode_buf(level, out, n, lim, &again) == n);
	walk(&again);
	CHECK(packet_eq(dec, &again));
	/* The arrays the encoder read hold what the decoded lists do. */
	CHECK(packet_eq(&in, dec));

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
			walk(&pkt);
			walk(&whole);
			CHECK(packet_eq(&pkt, &whole));
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

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * MQTT codec unit tests: every vector of kmod/tests/codec_vectors.h decoded in one piece,
 * at every split point through the framer and re-encoded; round trips of every packet
 * type at every level; properties, reason codes, errors, varints, the framer and the
 * encoders' bounds. Vector-driven cases are named "<kind>:<vector name>".
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "mqtt_codec.h"
#include "../../kmod/tests/codec_vectors.h"
#include "../common/packet_eq.h"

#define BUF_SIZE	8192
static const u8 levels[] = { MQTT_LEVEL_31, MQTT_LEVEL_311, MQTT_LEVEL_5 };

static const struct mqtt_limits *vector_limits(const struct codec_vector *v)
{
	static const struct mqtt_limits def = MQTT_LIMITS_DEFAULT;

	return v->tight ? &codec_tight_limits : &def;
}

/* ---- Encoder input from decoded packets ---- */

/* The entries of a SUBSCRIBE, from the encoder's array or the decoder's list. */
static u32 sub_entries(const struct mqtt_subscribe *s, struct mqtt_sub_entry *out, u32 max)
{
	struct mqtt_iter it;
	u32 n = 0;

	if (s->entries) {
		for (n = 0; n < s->count && n < max; n++)
			out[n] = s->entries[n];
		return n;
	}
	mqtt_sub_iter_init(&it, s);
	while (n < max && mqtt_sub_next(&it, &out[n]))
		n++;
	return n;
}

static u32 unsub_filters(const struct mqtt_unsubscribe *u, struct mqtt_str *out, u32 max)
{
	struct mqtt_iter it;
	u32 n = 0;

	if (u->filters) {
		for (n = 0; n < u->count && n < max; n++)
			out[n] = u->filters[n];
		return n;
	}
	mqtt_unsub_iter_init(&it, u);
	while (n < max && mqtt_unsub_next(&it, &out[n]))
		n++;
	return n;
}

#define MAX_LIST 64

/* Encoder input equivalent to a decoded packet: lists become arrays. */
struct enc_input {
	struct mqtt_packet pkt;
	struct mqtt_sub_entry entries[MAX_LIST];
	struct mqtt_str filters[MAX_LIST];
};

static void to_encoder_input(const struct mqtt_packet *dec, struct enc_input *in)
{
	in->pkt = *dec;
	if (dec->type == MQTT_SUBSCRIBE) {
		assert_true(dec->subscribe.count <= MAX_LIST);
		sub_entries(&dec->subscribe, in->entries, MAX_LIST);
		in->pkt.subscribe.entries = in->entries;
	} else if (dec->type == MQTT_UNSUBSCRIBE) {
		assert_true(dec->unsubscribe.count <= MAX_LIST);
		unsub_filters(&dec->unsubscribe, in->filters, MAX_LIST);
		in->pkt.unsubscribe.filters = in->filters;
	}
}

/* ---- Vector-driven cases ---- */

/* vector:<name> — decoding in one piece gives the expected type or error. */
static void test_vector_decode(void **state)
{
	const struct codec_vector *v = *state;
	struct mqtt_packet pkt;
	int ret = mqtt_decode_buf(v->level, v->data, v->len, vector_limits(v), &pkt);

	if (v->err) {
		if (ret != v->err)
			print_error("%s: got %d (%s), want %s\n", v->name, ret, mqtt_err_name(ret),
				    mqtt_err_name(v->err));
		assert_int_equal(ret, v->err);
		return;
	}
	if (ret != (int)v->len)
		print_error("%s: got %d (%s), want %u\n", v->name, ret, mqtt_err_name(ret), v->len);
	assert_int_equal(ret, v->len);
	assert_int_equal(pkt.type, v->type);
}

/* Outcome of framing @v's bytes split at @k and decoding what the framer assembled. */
static void check_split(const struct codec_vector *v, u32 k, int want,
			const struct mqtt_packet *base)
{
	const struct mqtt_limits *lim = vector_limits(v);
	const struct mqtt_fixed_header *fh;
	struct mqtt_framer f;
	struct mqtt_packet pkt;
	u8 buf[BUF_SIZE];
	u32 used, off = 0;
	int ret;

	mqtt_framer_init(&f, buf, sizeof(buf), v->level, lim->max_packet_size);
	ret = mqtt_framer_feed(&f, v->data, k, &used);
	off = used;
	if (ret == 0) {
		assert_int_equal(used, k);
		ret = mqtt_framer_feed(&f, v->data + k, v->len - k, &used);
		off += used;
	}
	if (ret < 0) {
		if (ret != want)
			print_error("%s split at %u: framer %s, want %s\n", v->name, k,
				    mqtt_err_name(ret), mqtt_err_name(want));
		assert_int_equal(ret, want);
		return;
	}
	/* Only a packet that runs past its data stays incomplete (none of the vectors). */
	assert_int_equal(ret, 1);
	assert_int_equal(off, v->len);
	assert_non_null(mqtt_framer_packet(&f, &fh));
	ret = mqtt_decode(v->level, fh, buf + fh->hdr_len, lim, &pkt);
	if (ret != (want < 0 ? want : 0))
		print_error("%s split at %u: decode %s, want %s\n", v->name, k,
			    mqtt_err_name(ret), mqtt_err_name(want));
	assert_int_equal(ret, want < 0 ? want : 0);
	if (!ret)
		assert_true(packet_eq(&pkt, base));
}

/* split:<name> — any split of the stream, and byte-by-byte, gives the one-piece result. */
static void test_vector_split(void **state)
{
	const struct codec_vector *v = *state;
	const struct mqtt_limits *lim = vector_limits(v);
	struct mqtt_packet base, pkt;
	const struct mqtt_fixed_header *fh;
	struct mqtt_framer f;
	u8 buf[BUF_SIZE];
	int want, ret = 0;
	u32 k, used;

	want = mqtt_decode_buf(v->level, v->data, v->len, lim, &base);
	if (want > 0)
		want = 1;
	for (k = 0; k <= v->len; k++)
		check_split(v, k, want, &base);

	mqtt_framer_init(&f, buf, sizeof(buf), v->level, lim->max_packet_size);
	for (k = 0; k < v->len; k++) {
		ret = mqtt_framer_feed(&f, v->data + k, 1, &used);
		assert_int_equal(used, 1);
		if (ret)
			break;
	}
	if (ret < 0) {
		assert_int_equal(ret, want);
		return;
	}
	assert_int_equal(ret, 1);
	assert_int_equal(k, v->len - 1);
	mqtt_framer_packet(&f, &fh);
	ret = mqtt_decode(v->level, fh, buf + fh->hdr_len, lim, &pkt);
	assert_int_equal(ret, want < 0 ? want : 0);
	if (!ret)
		assert_true(packet_eq(&pkt, &base));
}

/* reencode:<name> — a decoded valid packet encodes to a packet that decodes the same. */
static void test_vector_reencode(void **state)
{
	const struct codec_vector *v = *state;
	const struct mqtt_limits *lim = vector_limits(v);
	struct mqtt_packet dec, again;
	struct enc_input in;
	u8 buf[BUF_SIZE];
	int n, size;

	assert_int_equal(mqtt_decode_buf(v->level, v->data, v->len, lim, &dec), v->len);
	to_encoder_input(&dec, &in);
	size = mqtt_encoded_size(v->level, &in.pkt);
	n = mqtt_encode(buf, sizeof(buf), v->level, &in.pkt);
	assert_int_equal(n, size);
	assert_true(n > 0 && (u32)n <= v->len);	/* never longer: shortest forms */
	assert_int_equal(mqtt_decode_buf(v->level, buf, n, lim, &again), n);
	assert_true(packet_eq(&dec, &again));
}

/* remlen:<name> — mqtt_fixed_header() on the spec's examples and on prefixes. */
static void test_hdr_vector(void **state)
{
	const struct codec_hdr_vector *v = *state;
	struct mqtt_fixed_header fh;
	int ret = mqtt_fixed_header(v->bytes, v->len, v->level, 0, &fh);

	assert_int_equal(ret, v->ret);
	if (ret > 0) {
		assert_int_equal(fh.remlen, v->remlen);
		assert_int_equal(fh.hdr_len, ret);
		assert_int_equal(fh.type, v->bytes[0] >> 4);
	}
}

/* ---- Round trips of built packets ---- */

struct sample {
	struct mqtt_packet pkt;
	u8 props[256];
	u8 props2[256];
	struct mqtt_sub_entry entries[4];
	struct mqtt_str filters[4];
	u8 codes[4];
};

#define S(lit)		((struct mqtt_str){ lit, sizeof(lit) - 1 })
#define BIN(lit)	((struct mqtt_bin){ (const u8 *)(lit), sizeof(lit) - 1 })

static void roundtrip(u8 level, const struct mqtt_packet *pkt)
{
	u8 buf[BUF_SIZE], canary[BUF_SIZE];
	struct mqtt_packet dec;
	struct mqtt_limits lim = MQTT_LIMITS_DEFAULT;
	int n, size, c;

	size = mqtt_encoded_size(level, pkt);
	assert_true(size > 0);
	n = mqtt_encode(buf, sizeof(buf), level, pkt);
	assert_int_equal(n, size);
	assert_int_equal(mqtt_decode_buf(level, buf, n, &lim, &dec), n);
	if (!packet_eq(pkt, &dec))
		print_error("round trip of type %u at level %u differs\n", pkt->type, level);
	assert_true(packet_eq(pkt, &dec));

	/* Every smaller buffer: -ENOSPC and not a byte written. */
	for (c = 0; c < size; c++) {
		memset(canary, 0xa5, sizeof(canary));
		assert_int_equal(mqtt_encode(canary, c, level, pkt), -ENOSPC);
		assert_int_equal(canary[0], 0xa5);
		assert_int_equal(canary[c], 0xa5);
	}
	/* Exactly the right size: nothing past it. */
	memset(canary, 0xa5, sizeof(canary));
	assert_int_equal(mqtt_encode(canary, size, level, pkt), size);
	assert_int_equal(canary[size], 0xa5);
	assert_memory_equal(canary, buf, size);
}

static void build_props(u8 *buf, u32 cap, struct mqtt_props *out,
			void (*fill)(struct mqtt_prop_builder *b))
{
	struct mqtt_prop_builder b;

	mqtt_pb_init(&b, buf, cap);
	fill(&b);
	assert_int_equal(mqtt_pb_done(&b, out), 0);
}

static void fill_connect_props(struct mqtt_prop_builder *b)
{
	mqtt_pb_int(b, MQTT_PROP_SESSION_EXPIRY, 3600);
	mqtt_pb_int(b, MQTT_PROP_RECEIVE_MAX, 10);
	mqtt_pb_int(b, MQTT_PROP_MAX_PACKET_SIZE, 65536);
	mqtt_pb_int(b, MQTT_PROP_TOPIC_ALIAS_MAX, 8);
	mqtt_pb_int(b, MQTT_PROP_REQUEST_PROBLEM_INFO, 1);
	mqtt_pb_str(b, MQTT_PROP_AUTH_METHOD, "PLAIN", 5);
	mqtt_pb_bin(b, MQTT_PROP_AUTH_DATA, (const u8 *)"\0\1", 2);
	mqtt_pb_user(b, "k", 1, "v", 1);
	mqtt_pb_user(b, "k", 1, "v2", 2);
}

static void fill_will_props(struct mqtt_prop_builder *b)
{
	mqtt_pb_int(b, MQTT_PROP_WILL_DELAY, 5);
	mqtt_pb_int(b, MQTT_PROP_PAYLOAD_FORMAT, 1);
	mqtt_pb_str(b, MQTT_PROP_CONTENT_TYPE, "text/plain", 10);
	mqtt_pb_str(b, MQTT_PROP_RESPONSE_TOPIC, "reply/1", 7);
	mqtt_pb_bin(b, MQTT_PROP_CORRELATION_DATA, (const u8 *)"xyz", 3);
}

static void test_roundtrip_connect(void **state)
{
	unsigned int i, variant;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(levels); i++) {
		for (variant = 0; variant < 3; variant++) {
			struct sample s = { .pkt.type = MQTT_CONNECT };
			struct mqtt_connect *c = &s.pkt.connect;

			c->level = levels[i];
			c->keep_alive = variant == 2 ? 0 : 30;
			c->clean_start = variant != 1;
			c->client_id = S("client-1");
			if (variant == 0) {
				c->will = true;
				c->will_qos = 1;
				c->will_retain = true;
				c->will_topic = S("will/t");
				c->will_payload = BIN("bye");
				c->has_username = true;
				c->username = S("user");
				c->has_password = true;
				c->password = BIN("\0\1\2");
			}
			if (variant == 1) {
				c->will = true;
				c->will_qos = 2;
				c->will_topic = S("w");
				c->will_payload = BIN("");
			}
			if (variant == 2 && levels[i] != MQTT_LEVEL_31)
				c->client_id = S("");
			if (variant == 2 && levels[i] == MQTT_LEVEL_5) {
				c->has_password = true;		/* 5.0: password alone is fine */
				c->password = BIN("token");
			}
			if (levels[i] == MQTT_LEVEL_5 && variant == 0) {
				build_props(s.props, sizeof(s.props), &c->props, fill_connect_props);
				build_props(s.props2, sizeof(s.props2), &c->will_props,
					    fill_will_props);
			}
			roundtrip(MQTT_LEVEL_UNKNOWN, &s.pkt);
			roundtrip(levels[i], &s.pkt);
		}
	}
}

static void fill_connack_props(struct mqtt_prop_builder *b)
{
	mqtt_pb_int(b, MQTT_PROP_MAX_QOS, 1);
	mqtt_pb_int(b, MQTT_PROP_RETAIN_AVAILABLE, 0);
	mqtt_pb_str(b, MQTT_PROP_ASSIGNED_CLIENT_ID, "gen-1", 5);
	mqtt_pb_int(b, MQTT_PROP_TOPIC_ALIAS_MAX, 10);
	mqtt_pb_int(b, MQTT_PROP_SERVER_KEEP_ALIVE, 60);
	mqtt_pb_int(b, MQTT_PROP_WILDCARD_SUB_AVAILABLE, 1);
	mqtt_pb_int(b, MQTT_PROP_SUB_ID_AVAILABLE, 1);
	mqtt_pb_int(b, MQTT_PROP_SHARED_SUB_AVAILABLE, 0);
	mqtt_pb_str(b, MQTT_PROP_RESPONSE_INFO, "resp", 4);
	mqtt_pb_str(b, MQTT_PROP_REASON_STRING, "welcome", 7);
}

static void test_roundtrip_connack(void **state)
{
	unsigned int i, variant;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(levels); i++) {
		for (variant = 0; variant < 2; variant++) {
			struct sample s = { .pkt.type = MQTT_CONNACK };
			struct mqtt_connack *c = &s.pkt.connack;

			if (variant == 0) {
				c->session_present = true;
				if (levels[i] == MQTT_LEVEL_5)
					build_props(s.props, sizeof(s.props), &c->props,
						    fill_connack_props);
			} else {
				c->reason = levels[i] == MQTT_LEVEL_5 ?
					    MQTT_RC_NOT_AUTHORIZED : MQTT_RC311_NOT_AUTHORIZED;
			}
			roundtrip(levels[i], &s.pkt);
		}
	}
}

static void fill_publish_props(struct mqtt_prop_builder *b)
{
	mqtt_pb_int(b, MQTT_PROP_MESSAGE_EXPIRY, 60);
	mqtt_pb_int(b, MQTT_PROP_TOPIC_ALIAS, 3);
	mqtt_pb_int(b, MQTT_PROP_SUB_ID, 1);
	mqtt_pb_int(b, MQTT_PROP_SUB_ID, 300);
	mqtt_pb_int(b, MQTT_PROP_SUB_ID, MQTT_VARINT_MAX);
	mqtt_pb_user(b, "a", 1, "b", 1);
}

static void test_roundtrip_publish(void **state)
{
	static const u8 payload[] = "twenty-one degrees";
	unsigned int i, qos;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(levels); i++) {
		for (qos = 0; qos <= 2; qos++) {
			struct sample s = { .pkt.type = MQTT_PUBLISH };
			struct mqtt_publish *p = &s.pkt.publish;

			p->qos = qos;
			p->dup = qos > 0;
			p->retain = qos == 1;
			p->packet_id = qos ? 0xbeef : 0;
			p->topic = S("sensors/temp");
			p->payload = payload;
			p->payload_len = qos == 2 ? 0 : sizeof(payload);
			if (levels[i] == MQTT_LEVEL_5) {
				build_props(s.props, sizeof(s.props), &p->props, fill_publish_props);
				if (qos == 1)
					p->topic = S("");	/* topic from the alias */
			}
			roundtrip(levels[i], &s.pkt);
		}
	}
}

static void fill_reason_string(struct mqtt_prop_builder *b)
{
	mqtt_pb_str(b, MQTT_PROP_REASON_STRING, "because", 7);
	mqtt_pb_user(b, "x", 1, "y", 1);
}

static void test_roundtrip_acks(void **state)
{
	static const u8 types[] = { MQTT_PUBACK, MQTT_PUBREC, MQTT_PUBREL, MQTT_PUBCOMP };
	unsigned int i, t, variant;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(levels); i++) {
		for (t = 0; t < ARRAY_SIZE(types); t++) {
			for (variant = 0; variant < 3; variant++) {
				struct sample s = { .pkt.type = types[t] };
				struct mqtt_ack *a = &s.pkt.ack;
				bool rel = types[t] == MQTT_PUBREL || types[t] == MQTT_PUBCOMP;

				a->packet_id = 0x1234 + variant;
				if (levels[i] == MQTT_LEVEL_5 && variant > 0)
					a->reason = rel ? MQTT_RC_PACKET_ID_NOT_FOUND :
						    MQTT_RC_NO_MATCHING_SUBSCRIBERS;
				if (levels[i] == MQTT_LEVEL_5 && variant == 2)
					build_props(s.props, sizeof(s.props), &a->props,
						    fill_reason_string);
				roundtrip(levels[i], &s.pkt);
			}
		}
	}
}

static void fill_sub_props(struct mqtt_prop_builder *b)
{
	mqtt_pb_int(b, MQTT_PROP_SUB_ID, 77);
	mqtt_pb_user(b, "u", 1, "v", 1);
}

static void test_roundtrip_subscribe(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(levels); i++) {
		struct sample s = { .pkt.type = MQTT_SUBSCRIBE };
		struct mqtt_subscribe *sub = &s.pkt.subscribe;
		bool v5 = levels[i] == MQTT_LEVEL_5;

		sub->packet_id = 7;
		s.entries[0] = (struct mqtt_sub_entry){ S("a/+/c"), 0, false, false, 0 };
		s.entries[1] = (struct mqtt_sub_entry){ S("d/#"), 1, v5, v5, v5 ? 2 : 0 };
		s.entries[2] = (struct mqtt_sub_entry){ S("e"), 2, false, v5, v5 ? 1 : 0 };
		s.entries[3] = (struct mqtt_sub_entry){ S("$share/g/f/#"), 1, false, false, 0 };
		sub->entries = s.entries;
		sub->count = 4;
		if (v5)
			build_props(s.props, sizeof(s.props), &sub->props, fill_sub_props);
		roundtrip(levels[i], &s.pkt);
	}
}

static void test_roundtrip_suback(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(levels); i++) {
		struct sample s = { .pkt.type = MQTT_SUBACK };
		struct mqtt_suback *sa = &s.pkt.suback;

		sa->packet_id = 7;
		s.codes[0] = 0;
		s.codes[1] = 2;
		s.codes[2] = levels[i] == MQTT_LEVEL_5 ? MQTT_RC_QUOTA_EXCEEDED :
			     MQTT_RC311_SUBACK_FAILURE;
		sa->codes = s.codes;
		sa->count = 3;
		if (levels[i] == MQTT_LEVEL_5)
			build_props(s.props, sizeof(s.props), &sa->props, fill_reason_string);
		roundtrip(levels[i], &s.pkt);
	}
}

static void test_roundtrip_unsubscribe(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(levels); i++) {
		struct sample s = { .pkt.type = MQTT_UNSUBSCRIBE };
		struct mqtt_unsubscribe *u = &s.pkt.unsubscribe;

		u->packet_id = 9;
		s.filters[0] = S("a/+/c");
		s.filters[1] = S("#");
		u->filters = s.filters;
		u->count = 2;
		if (levels[i] == MQTT_LEVEL_5) {
			struct mqtt_prop_builder b;

			mqtt_pb_init(&b, s.props, sizeof(s.props));
			mqtt_pb_user(&b, "k", 1, "v", 1);
			assert_int_equal(mqtt_pb_done(&b, &u->props), 0);
		}
		roundtrip(levels[i], &s.pkt);
	}
}

static void test_roundtrip_unsuback(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(levels); i++) {
		struct sample s = { .pkt.type = MQTT_UNSUBACK };
		struct mqtt_suback *ua = &s.pkt.suback;

		ua->packet_id = 9;
		if (levels[i] == MQTT_LEVEL_5) {
			s.codes[0] = MQTT_RC_SUCCESS;
			s.codes[1] = MQTT_RC_NO_SUBSCRIPTION_EXISTED;
			ua->codes = s.codes;
			ua->count = 2;
			build_props(s.props, sizeof(s.props), &ua->props, fill_reason_string);
		}
		roundtrip(levels[i], &s.pkt);
	}
}

static void test_roundtrip_ping(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(levels); i++) {
		struct sample s = { .pkt.type = MQTT_PINGREQ };

		roundtrip(levels[i], &s.pkt);
		s.pkt.type = MQTT_PINGRESP;
		roundtrip(levels[i], &s.pkt);
	}
}

static void fill_disconnect_props(struct mqtt_prop_builder *b)
{
	mqtt_pb_int(b, MQTT_PROP_SESSION_EXPIRY, 0);
	mqtt_pb_str(b, MQTT_PROP_SERVER_REFERENCE, "other:1883", 10);
	mqtt_pb_str(b, MQTT_PROP_REASON_STRING, "moving", 6);
}

static void test_roundtrip_disconnect(void **state)
{
	unsigned int i, variant;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(levels); i++) {
		for (variant = 0; variant < 3; variant++) {
			struct sample s = { .pkt.type = MQTT_DISCONNECT };

			if (levels[i] == MQTT_LEVEL_5 && variant > 0)
				s.pkt.disconnect.reason = variant == 1 ?
					MQTT_RC_DISCONNECT_WITH_WILL : MQTT_RC_SERVER_MOVED;
			if (levels[i] == MQTT_LEVEL_5 && variant == 2)
				build_props(s.props, sizeof(s.props), &s.pkt.disconnect.props,
					    fill_disconnect_props);
			roundtrip(levels[i], &s.pkt);
		}
	}
}

static void fill_auth_props(struct mqtt_prop_builder *b)
{
	mqtt_pb_str(b, MQTT_PROP_AUTH_METHOD, "SCRAM-SHA-1", 11);
	mqtt_pb_bin(b, MQTT_PROP_AUTH_DATA, (const u8 *)"nonce", 5);
}

static void test_roundtrip_auth(void **state)
{
	struct sample s = { .pkt.type = MQTT_AUTH };
	u8 buf[16];

	(void)state;
	roundtrip(MQTT_LEVEL_5, &s.pkt);
	s.pkt.auth.reason = MQTT_RC_REAUTHENTICATE;
	roundtrip(MQTT_LEVEL_5, &s.pkt);
	/* unlike DISCONNECT, a reason code alone still carries a property length */
	assert_int_equal(mqtt_encode_auth(buf, sizeof(buf), &s.pkt.auth), 4);
	assert_int_equal(buf[1], 2);
	assert_int_equal(buf[3], 0);
	build_props(s.props, sizeof(s.props), &s.pkt.auth.props, fill_auth_props);
	s.pkt.auth.reason = MQTT_RC_CONTINUE_AUTH;
	roundtrip(MQTT_LEVEL_5, &s.pkt);
}

/* ---- Encoders ---- */

/* The 5.0 acknowledgements use their shortest form (§3.4.2.1). */
static void test_encode_shortest_ack_forms(void **state)
{
	struct mqtt_ack a = { .packet_id = 1 };
	struct mqtt_disconnect d = { 0 };
	u8 buf[64];

	(void)state;
	assert_int_equal(mqtt_encode_ack(buf, sizeof(buf), MQTT_LEVEL_5, MQTT_PUBACK, &a), 4);
	a.reason = MQTT_RC_NO_MATCHING_SUBSCRIBERS;
	assert_int_equal(mqtt_encode_ack(buf, sizeof(buf), MQTT_LEVEL_5, MQTT_PUBACK, &a), 5);
	assert_int_equal(buf[1], 3);
	assert_int_equal(mqtt_encode_ack(buf, sizeof(buf), MQTT_LEVEL_311, MQTT_PUBACK, &a), 4);
	assert_int_equal(mqtt_encode_ack(buf, sizeof(buf), MQTT_LEVEL_311, MQTT_PUBREL, &a), 4);
	assert_int_equal(buf[0], 0x62);
	assert_int_equal(mqtt_encode_disconnect(buf, sizeof(buf), MQTT_LEVEL_5, NULL), 2);
	assert_int_equal(mqtt_encode_disconnect(buf, sizeof(buf), MQTT_LEVEL_5, &d), 2);
	d.reason = MQTT_RC_SERVER_SHUTTING_DOWN;
	assert_int_equal(mqtt_encode_disconnect(buf, sizeof(buf), MQTT_LEVEL_5, &d), 3);
	assert_int_equal(mqtt_encode_disconnect(buf, sizeof(buf), MQTT_LEVEL_311, &d), 2);
	assert_int_equal(buf[1], 0);
}

static void test_encode_rejects_unencodable(void **state)
{
	struct mqtt_packet pkt = { .type = MQTT_PUBLISH };
	struct mqtt_ack a = { .packet_id = 1 };
	struct mqtt_connect c = { .level = 6, .client_id = S("c") };
	struct mqtt_subscribe sub = { .packet_id = 1 };
	struct mqtt_sub_entry e = { S("a"), 3, false, false, 0 };
	struct mqtt_suback sa = { .packet_id = 1 };
	u8 buf[64];

	(void)state;
	pkt.publish.topic = S("a");
	pkt.publish.qos = 3;
	assert_int_equal(mqtt_encode(buf, sizeof(buf), MQTT_LEVEL_311, &pkt), -EINVAL);
	assert_int_equal(mqtt_encoded_size(MQTT_LEVEL_311, &pkt), -EINVAL);
	pkt.publish.qos = 0;
	pkt.publish.payload_len = MQTT_VARINT_MAX;	/* never read: too big to frame */
	assert_int_equal(mqtt_encoded_size(MQTT_LEVEL_311, &pkt), -EMSGSIZE);
	assert_int_equal(mqtt_encode_publish_head(buf, sizeof(buf), MQTT_LEVEL_311, &pkt.publish),
			 -EMSGSIZE);
	assert_int_equal(mqtt_encode_ack(buf, sizeof(buf), MQTT_LEVEL_311, MQTT_SUBACK, &a),
			 -EINVAL);
	assert_int_equal(mqtt_encode_connect(buf, sizeof(buf), &c), -EINVAL);
	c.level = MQTT_LEVEL_311;
	c.will = true;
	c.will_qos = 3;
	assert_int_equal(mqtt_encode_connect(buf, sizeof(buf), &c), -EINVAL);
	assert_int_equal(mqtt_encode_subscribe(buf, sizeof(buf), MQTT_LEVEL_311, &sub), -EINVAL);
	sub.entries = &e;
	sub.count = 1;
	assert_int_equal(mqtt_encode_subscribe(buf, sizeof(buf), MQTT_LEVEL_311, &sub), -EINVAL);
	e.qos = 0;
	e.retain_handling = 3;
	assert_int_equal(mqtt_encode_subscribe(buf, sizeof(buf), MQTT_LEVEL_5, &sub), -EINVAL);
	assert_int_equal(mqtt_encode_suback(buf, sizeof(buf), MQTT_LEVEL_311, MQTT_SUBACK, &sa),
			 -EINVAL);
	assert_int_equal(mqtt_encode_suback(buf, sizeof(buf), MQTT_LEVEL_311, MQTT_UNSUBACK, &sa),
			 4);
	assert_int_equal(mqtt_encode_suback(buf, sizeof(buf), MQTT_LEVEL_5, MQTT_UNSUBACK, &sa),
			 -EINVAL);
	assert_int_equal(mqtt_encode_ping(buf, sizeof(buf), MQTT_CONNECT), -EINVAL);
	pkt.type = 0;
	assert_int_equal(mqtt_encode(buf, sizeof(buf), MQTT_LEVEL_311, &pkt), -EINVAL);
	assert_int_equal(mqtt_encoded_size(MQTT_LEVEL_311, &pkt), -EINVAL);
}

/*
 * The two-part PUBLISH: head in one buffer, payload sent from its own; together they are
 * the one-piece encoding, here with a payload that needs a 3-byte remaining length.
 */
static void test_encode_publish_head_and_payload(void **state)
{
	enum { PAYLOAD = 300000 };
	struct mqtt_limits lim = MQTT_LIMITS_DEFAULT;
	struct mqtt_packet pkt = { .type = MQTT_PUBLISH }, dec;
	u8 *payload = malloc(PAYLOAD), *whole = malloc(PAYLOAD + 64), head[64];
	unsigned int i;
	int n, h, size;

	(void)state;
	assert_non_null(payload);
	assert_non_null(whole);
	for (i = 0; i < PAYLOAD; i++)
		payload[i] = i * 7;
	for (i = 0; i < ARRAY_SIZE(levels); i++) {
		pkt.publish = (struct mqtt_publish){ .qos = 1, .packet_id = 5, .topic = S("big/t"),
						      .payload = payload, .payload_len = PAYLOAD };
		size = mqtt_encoded_size(levels[i], &pkt);
		n = mqtt_encode_publish(whole, PAYLOAD + 64, levels[i], &pkt.publish);
		assert_int_equal(n, size);
		h = mqtt_encode_publish_head(head, sizeof(head), levels[i], &pkt.publish);
		assert_int_equal(h, size - PAYLOAD);
		assert_memory_equal(head, whole, h);
		assert_memory_equal(whole + h, payload, PAYLOAD);
		assert_int_equal(mqtt_encode_publish_head(head, h - 1, levels[i], &pkt.publish),
				 -ENOSPC);
		lim.max_packet_size = PAYLOAD + 64;
		assert_int_equal(mqtt_decode_buf(levels[i], whole, n, &lim, &dec), n);
		assert_true(packet_eq(&pkt, &dec));
		assert_ptr_equal(dec.publish.payload, whole + h);
	}
	free(payload);
	free(whole);
}

/* ---- Variable byte integers and the fixed header ---- */

static void test_varint_boundaries(void **state)
{
	static const u32 values[] = { 0, 127, 128, 16383, 16384, 2097151, 2097152, 268435455 };
	static const u8 sizes[] = { 1, 1, 2, 2, 3, 3, 4, 4 };
	unsigned int i;
	u8 buf[8];
	u32 v;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(values); i++) {
		assert_int_equal(mqtt_varint_size(values[i]), sizes[i]);
		assert_int_equal(mqtt_varint_put(buf, values[i]), sizes[i]);
		assert_int_equal(mqtt_varint_get(buf, sizes[i], true, &v), sizes[i]);
		assert_int_equal(v, values[i]);
		/* every proper prefix needs more */
		assert_int_equal(mqtt_varint_get(buf, sizes[i] - 1, true, &v), 0);
	}
	assert_int_equal(mqtt_varint_size(268435456), 0);
	buf[0] = 0x80;
	buf[1] = 0x00;
	assert_int_equal(mqtt_varint_get(buf, 2, true, &v), -MQTT_E_BAD_VARINT);
	assert_int_equal(mqtt_varint_get(buf, 2, false, &v), 2);
	assert_int_equal(v, 0);
	memset(buf, 0xff, 5);
	assert_int_equal(mqtt_varint_get(buf, 5, false, &v), -MQTT_E_BAD_VARINT);
}

/* The size limit includes the fixed header: 5.0 Maximum Packet Size semantics. */
static void test_fixed_header_limit_counts_header(void **state)
{
	static const u8 hdr[] = { 0x30, 0x7e };		/* 2 + 126 = 128 bytes */
	static const u8 hdr2[] = { 0x30, 0x7f };	/* 129 bytes */
	struct mqtt_fixed_header fh;

	(void)state;
	assert_int_equal(mqtt_fixed_header(hdr, 2, 4, 128, &fh), 2);
	assert_int_equal(mqtt_fixed_header(hdr2, 2, 4, 128, &fh), -MQTT_E_PACKET_TOO_LARGE);
	assert_int_equal(fh.remlen, 127);	/* filled for the caller's log */
	assert_int_equal(mqtt_fixed_header(hdr2, 2, 4, 0, &fh), 2);
	assert_int_equal(mqtt_fixed_header(hdr2, 2, 4, 1, &fh), -MQTT_E_PACKET_TOO_LARGE);
}

/*
 * The daemon's CONNECT read: two bytes, then one at a time until the header is complete,
 * then exactly the body. The pipelined packet behind it is never touched.
 */
static void test_fixed_header_exact_connect_read(void **state)
{
	u8 stream[512], *cid;
	struct mqtt_connect c = { .level = MQTT_LEVEL_311, .clean_start = true };
	struct mqtt_publish p = { .topic = S("a"), .payload = (const u8 *)"x", .payload_len = 1 };
	struct mqtt_fixed_header fh;
	struct mqtt_packet pkt;
	u32 have = 2;
	int n, clen, hdr;

	(void)state;
	cid = malloc(200);
	assert_non_null(cid);
	memset(cid, 'c', 200);
	c.client_id = (struct mqtt_str){ (const char *)cid, 200 };	/* 2-byte remlen */
	clen = mqtt_encode_connect(stream, sizeof(stream), &c);
	assert_true(clen > 200);
	n = mqtt_encode_publish(stream + clen, sizeof(stream) - clen, MQTT_LEVEL_311, &p);
	assert_true(n > 0);
	while ((hdr = mqtt_fixed_header(stream, have, MQTT_LEVEL_UNKNOWN, 4096, &fh)) == 0)
		have++;
	assert_int_equal(hdr, 3);
	assert_int_equal(have, 3);
	assert_int_equal(have + fh.remlen, clen);
	assert_int_equal(mqtt_decode(MQTT_LEVEL_UNKNOWN, &fh, stream + hdr, NULL, &pkt), 0);
	assert_int_equal(pkt.type, MQTT_CONNECT);
	assert_int_equal(pkt.connect.client_id.len, 200);
	free(cid);
}

/* ---- Framer ---- */

static void test_framer_stops_at_packet_end(void **state)
{
	static const u8 stream[] = { 0xc0, 0x00, 0x30, 0x03, 0, 1, 'a', 0xe0, 0x00 };
	static const u8 types[] = { MQTT_PINGREQ, MQTT_PUBLISH, MQTT_DISCONNECT };
	static const u32 lens[] = { 2, 5, 2 };
	const struct mqtt_fixed_header *fh;
	struct mqtt_framer f;
	u8 buf[64];
	u32 off = 0, used, i;

	(void)state;
	mqtt_framer_init(&f, buf, sizeof(buf), MQTT_LEVEL_311, 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(mqtt_framer_feed(&f, stream + off, sizeof(stream) - off, &used), 1);
		assert_int_equal(used, lens[i]);
		assert_ptr_equal(mqtt_framer_packet(&f, &fh), buf);
		assert_int_equal(fh->type, types[i]);
		off += used;
	}
	assert_int_equal(off, sizeof(stream));
	assert_int_equal(mqtt_framer_feed(&f, stream, 0, &used), 0);
	assert_null(mqtt_framer_packet(&f, &fh));
}

static void test_framer_error_is_sticky(void **state)
{
	static const u8 bad[] = { 0x00, 0x00 };
	static const u8 good[] = { 0xc0, 0x00 };
	struct mqtt_framer f;
	u8 buf[64];
	u32 used;

	(void)state;
	mqtt_framer_init(&f, buf, sizeof(buf), MQTT_LEVEL_311, 0);
	assert_int_equal(mqtt_framer_feed(&f, bad, 2, &used), -MQTT_E_BAD_TYPE);
	assert_int_equal(used, 1);	/* the first byte told */
	assert_int_equal(mqtt_framer_feed(&f, good, 2, &used), -MQTT_E_BAD_TYPE);
	assert_int_equal(used, 0);
}

static void test_framer_packet_larger_than_buffer(void **state)
{
	static const u8 pub[] = { 0x30, 0x12, 0, 1, 'a', 'x', 'x', 'x', 'x', 'x', 'x', 'x',
				  'x', 'x', 'x', 'x', 'x', 'x', 'x', 'x' };
	struct mqtt_framer f;
	u8 buf[16], small[1];
	u32 used;

	(void)state;
	mqtt_framer_init(&f, buf, sizeof(buf), MQTT_LEVEL_311, 1024);
	assert_int_equal(f.max_packet, sizeof(buf));
	assert_int_equal(mqtt_framer_feed(&f, pub, sizeof(pub), &used),
			 -MQTT_E_PACKET_TOO_LARGE);
	assert_int_equal(used, 2);
	/* a buffer too small even for a header fails cleanly */
	mqtt_framer_init(&f, small, sizeof(small), MQTT_LEVEL_311, 0);
	assert_int_equal(mqtt_framer_feed(&f, pub, sizeof(pub), &used),
			 -MQTT_E_PACKET_TOO_LARGE);
}

static void test_framer_limit_below_buffer(void **state)
{
	static const u8 pub[] = { 0x30, 0x05, 0, 1, 'a', 'x', 'x' };
	struct mqtt_framer f;
	u8 buf[64];
	u32 used;

	(void)state;
	mqtt_framer_init(&f, buf, sizeof(buf), MQTT_LEVEL_311, 6);
	assert_int_equal(mqtt_framer_feed(&f, pub, sizeof(pub), &used),
			 -MQTT_E_PACKET_TOO_LARGE);
	mqtt_framer_init(&f, buf, sizeof(buf), MQTT_LEVEL_311, 7);
	assert_int_equal(mqtt_framer_feed(&f, pub, sizeof(pub), &used), 1);
}

/* Before CONNECT the level is unknown; after it, 5.0 framing rules apply. */
static void test_framer_level_switch(void **state)
{
	static const u8 connect5[] = { 0x10, 0x0e, 0, 4, 'M', 'Q', 'T', 'T', 5, 0x02, 0, 60,
				       0x00, 0, 1, 'c' };
	static const u8 ping_long[] = { 0xc0, 0x80, 0x00 };
	const struct mqtt_fixed_header *fh;
	struct mqtt_packet pkt;
	struct mqtt_framer f;
	u8 buf[64];
	u32 used;

	(void)state;
	mqtt_framer_init(&f, buf, sizeof(buf), MQTT_LEVEL_UNKNOWN, 0);
	assert_int_equal(mqtt_framer_feed(&f, connect5, sizeof(connect5), &used), 1);
	mqtt_framer_packet(&f, &fh);
	assert_int_equal(mqtt_decode(f.level, fh, buf + fh->hdr_len, NULL, &pkt), 0);
	mqtt_framer_set_level(&f, pkt.connect.level);
	assert_int_equal(mqtt_framer_feed(&f, ping_long, sizeof(ping_long), &used),
			 -MQTT_E_REMLEN_NOT_MINIMAL);
}

/* A stream of every valid vector of a level, in pseudo-random chunks. */
static void test_framer_random_chunks_stream(void **state)
{
	static u8 stream[65536];
	unsigned int li, i, round;

	(void)state;
	for (li = 0; li < ARRAY_SIZE(levels); li++) {
		const struct codec_vector *seq[ARRAY_SIZE(codec_vectors)];
		u32 n = 0, len = 0, seed = 12345 + li;

		for (i = 0; i < ARRAY_SIZE(codec_vectors); i++) {
			const struct codec_vector *v = &codec_vectors[i];
			struct mqtt_packet pkt;

			/* this level's packets, and the CONNECTs that frame at it */
			if (v->err || v->tight ||
			    (v->level != levels[li] && v->level != MQTT_LEVEL_UNKNOWN) ||
			    mqtt_decode_buf(levels[li], v->data, v->len, NULL, &pkt) != (int)v->len)
				continue;
			memcpy(stream + len, v->data, v->len);
			len += v->len;
			seq[n++] = v;
		}
		assert_true(n > 10);
		for (round = 0; round < 50; round++) {
			struct mqtt_framer f;
			u8 buf[BUF_SIZE];
			u32 off = 0, got = 0;

			mqtt_framer_init(&f, buf, sizeof(buf), levels[li], 0);
			while (off < len) {
				u32 chunk, used;
				int ret;

				seed = seed * 1103515245 + 12345;
				chunk = 1 + (seed >> 16) % (round < 25 ? 8 : 64);
				if (chunk > len - off)
					chunk = len - off;
				while (chunk) {
					const struct mqtt_fixed_header *fh;
					struct mqtt_packet a, b;

					ret = mqtt_framer_feed(&f, stream + off, chunk, &used);
					assert_true(ret >= 0);
					off += used;
					chunk -= used;
					if (!ret)
						break;
					assert_true(got < n);
					mqtt_framer_packet(&f, &fh);
					assert_int_equal(fh->hdr_len + fh->remlen, seq[got]->len);
					assert_int_equal(mqtt_decode(levels[li], fh, buf + fh->hdr_len,
								     NULL, &a), 0);
					assert_int_equal(mqtt_decode_buf(levels[li], seq[got]->data,
									 seq[got]->len, NULL, &b),
							 seq[got]->len);
					assert_true(packet_eq(&a, &b));
					got++;
				}
			}
			assert_int_equal(got, n);
		}
	}
}

/* ---- Decoded fields ---- */

static const struct codec_vector *find_vector(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(codec_vectors); i++)
		if (!strcmp(codec_vectors[i].name, name))
			return &codec_vectors[i];
	fail_msg("no vector %s", name);
	return NULL;
}

static void decode_vector(const char *name, struct mqtt_packet *pkt)
{
	const struct codec_vector *v = find_vector(name);

	assert_int_equal(mqtt_decode_buf(v->level, v->data, v->len, vector_limits(v), pkt),
			 v->len);
}

static void test_fields_connect(void **state)
{
	struct mqtt_packet pkt;
	struct mqtt_str s;
	u32 val;

	(void)state;
	decode_vector("connect-311-will", &pkt);
	assert_int_equal(pkt.connect.level, 4);
	assert_true(pkt.connect.clean_start && pkt.connect.will && pkt.connect.will_retain);
	assert_int_equal(pkt.connect.will_qos, 1);
	assert_int_equal(pkt.connect.keep_alive, 60);
	assert_true(str_eq(pkt.connect.client_id, S("c")));
	assert_true(str_eq(pkt.connect.will_topic, S("w/t")));
	assert_true(bin_eq(pkt.connect.will_payload, BIN("bye")));
	assert_false(pkt.connect.has_username || pkt.connect.has_password);

	decode_vector("connect-311-empty-client-id-left-to-caller", &pkt);
	assert_int_equal(pkt.connect.client_id.len, 0);
	assert_false(pkt.connect.clean_start);

	decode_vector("connect-5-props", &pkt);
	assert_int_equal(pkt.connect.props.count, 5);
	assert_int_equal(pkt.connect.props.n_user, 2);
	assert_int_equal(mqtt_prop_get_int(&pkt.connect.props, MQTT_PROP_SESSION_EXPIRY, &val), 0);
	assert_int_equal(val, 60);
	assert_int_equal(mqtt_prop_get_int(&pkt.connect.props, MQTT_PROP_RECEIVE_MAX, &val), 0);
	assert_int_equal(val, 10);
	assert_int_equal(mqtt_prop_get_int(&pkt.connect.props, MQTT_PROP_MAX_PACKET_SIZE, &val),
			 0);
	assert_int_equal(val, 1024);
	assert_int_equal(mqtt_prop_get_int(&pkt.connect.props, MQTT_PROP_TOPIC_ALIAS_MAX, &val),
			 -ENOENT);
	assert_int_equal(mqtt_prop_get_str(&pkt.connect.props, MQTT_PROP_USER, &s), 0);
	assert_true(str_eq(s, S("k")));

	decode_vector("connect-5-will-props", &pkt);
	assert_int_equal(pkt.connect.will_props.count, 6);
	assert_int_equal(mqtt_prop_get_int(&pkt.connect.will_props, MQTT_PROP_WILL_DELAY, &val),
			 0);
	assert_int_equal(val, 5);
	assert_int_equal(mqtt_prop_get_str(&pkt.connect.will_props, MQTT_PROP_RESPONSE_TOPIC, &s),
			 0);
	assert_true(str_eq(s, S("r/1")));
	assert_true(bin_eq(pkt.connect.will_payload, BIN("bye")));
}

static void test_fields_publish(void **state)
{
	struct mqtt_packet pkt;
	struct mqtt_bin b;
	u32 val;

	(void)state;
	decode_vector("publish-311-qos1", &pkt);
	assert_int_equal(pkt.publish.qos, 1);
	assert_int_equal(pkt.publish.packet_id, 10);
	assert_true(str_eq(pkt.publish.topic, S("a/b")));
	assert_int_equal(pkt.publish.payload_len, 2);
	assert_memory_equal(pkt.publish.payload, "hi", 2);

	decode_vector("publish-311-qos2-dup-retain", &pkt);
	assert_true(pkt.publish.dup && pkt.publish.retain);
	assert_int_equal(pkt.publish.qos, 2);
	assert_int_equal(pkt.publish.payload_len, 0);

	decode_vector("publish-5-topic-alias-empty-topic", &pkt);
	assert_int_equal(pkt.publish.topic.len, 0);
	assert_int_equal(mqtt_prop_get_int(&pkt.publish.props, MQTT_PROP_TOPIC_ALIAS, &val), 0);
	assert_int_equal(val, 1);

	/* The caller learns that a PUBLISH carried subscription identifiers. */
	decode_vector("publish-5-subscription-ids-repeat", &pkt);
	assert_int_equal(pkt.publish.props.n_sub_id, 2);

	decode_vector("publish-5-qos1-props", &pkt);
	assert_int_equal(mqtt_prop_get_bin(&pkt.publish.props, MQTT_PROP_CORRELATION_DATA, &b), 0);
	assert_true(bin_eq(b, BIN("\1\2\3")));
	assert_int_equal(mqtt_prop_get_bin(&pkt.publish.props, MQTT_PROP_AUTH_DATA, &b), -ENOENT);
	assert_int_equal(pkt.publish.payload_len, 2);
}

static void test_fields_subscribe(void **state)
{
	struct mqtt_packet pkt;
	struct mqtt_sub_entry e;
	struct mqtt_iter it;
	u32 val;

	(void)state;
	decode_vector("subscribe-5-options", &pkt);
	assert_int_equal(pkt.subscribe.count, 2);
	mqtt_sub_iter_init(&it, &pkt.subscribe);
	assert_true(mqtt_sub_next(&it, &e));
	assert_true(str_eq(e.filter, S("a")));
	assert_int_equal(e.qos, 2);
	assert_true(e.no_local && e.retain_as_published);
	assert_int_equal(e.retain_handling, 2);
	assert_true(mqtt_sub_next(&it, &e));
	assert_true(str_eq(e.filter, S("b")));
	assert_int_equal(e.qos, 1);
	assert_false(e.no_local || e.retain_as_published);
	assert_int_equal(e.retain_handling, 1);
	assert_false(mqtt_sub_next(&it, &e));

	decode_vector("subscribe-5-subscription-id", &pkt);
	assert_int_equal(mqtt_prop_get_int(&pkt.subscribe.props, MQTT_PROP_SUB_ID, &val), 0);
	assert_int_equal(val, MQTT_VARINT_MAX);

	decode_vector("suback-5", &pkt);
	assert_int_equal(pkt.suback.count, 3);
	assert_int_equal(pkt.suback.codes[1], MQTT_RC_SUB_IDS_NOT_SUPPORTED);
}

static void test_fields_unsubscribe(void **state)
{
	struct mqtt_packet pkt;
	struct mqtt_iter it;
	struct mqtt_str f;

	(void)state;
	decode_vector("unsubscribe-311", &pkt);
	assert_int_equal(pkt.unsubscribe.count, 2);
	mqtt_unsub_iter_init(&it, &pkt.unsubscribe);
	assert_true(mqtt_unsub_next(&it, &f));
	assert_true(str_eq(f, S("a/b")));
	assert_true(mqtt_unsub_next(&it, &f));
	assert_true(str_eq(f, S("#")));
	assert_false(mqtt_unsub_next(&it, &f));
}

static void test_fields_reason_defaults(void **state)
{
	struct mqtt_packet pkt;

	(void)state;
	decode_vector("puback-5-short-form", &pkt);
	assert_int_equal(pkt.ack.reason, MQTT_RC_SUCCESS);
	assert_int_equal(pkt.ack.packet_id, 1);
	decode_vector("puback-5-reason-only", &pkt);
	assert_int_equal(pkt.ack.reason, MQTT_RC_NO_MATCHING_SUBSCRIBERS);
	decode_vector("disconnect-5-empty", &pkt);
	assert_int_equal(pkt.disconnect.reason, MQTT_RC_SUCCESS);
	decode_vector("disconnect-5-reason-only", &pkt);
	assert_int_equal(pkt.disconnect.reason, MQTT_RC_DISCONNECT_WITH_WILL);
	decode_vector("auth-5-continue", &pkt);
	assert_int_equal(pkt.auth.reason, MQTT_RC_CONTINUE_AUTH);
	assert_true(mqtt_props_has(&pkt.auth.props, MQTT_PROP_AUTH_METHOD));
}

/* ---- Properties ---- */

/* §2.2.2.2: where each property may appear (bit 0: will properties). */
#define W	(1U << MQTT_PROPS_WILL)
#define T(x)	(1U << MQTT_##x)
static const struct {
	u8 id;
	u16 where;
} spec_props[] = {
	{ 0x01, T(PUBLISH) | W }, { 0x02, T(PUBLISH) | W }, { 0x03, T(PUBLISH) | W },
	{ 0x08, T(PUBLISH) | W }, { 0x09, T(PUBLISH) | W },
	{ 0x0b, T(PUBLISH) | T(SUBSCRIBE) },
	{ 0x11, T(CONNECT) | T(CONNACK) | T(DISCONNECT) },
	{ 0x12, T(CONNACK) }, { 0x13, T(CONNACK) },
	{ 0x15, T(CONNECT) | T(CONNACK) | T(AUTH) }, { 0x16, T(CONNECT) | T(CONNACK) | T(AUTH) },
	{ 0x17, T(CONNECT) }, { 0x18, W }, { 0x19, T(CONNECT) }, { 0x1a, T(CONNACK) },
	{ 0x1c, T(CONNACK) | T(DISCONNECT) },
	{ 0x1f, T(CONNACK) | T(PUBACK) | T(PUBREC) | T(PUBREL) | T(PUBCOMP) | T(SUBACK) |
		T(UNSUBACK) | T(DISCONNECT) | T(AUTH) },
	{ 0x21, T(CONNECT) | T(CONNACK) }, { 0x22, T(CONNECT) | T(CONNACK) },
	{ 0x23, T(PUBLISH) }, { 0x24, T(CONNACK) }, { 0x25, T(CONNACK) },
	{ 0x26, 0xfffe | W }, { 0x27, T(CONNECT) | T(CONNACK) },
	{ 0x28, T(CONNACK) }, { 0x29, T(CONNACK) }, { 0x2a, T(CONNACK) },
};

/* A valid value of property @id. */
static void add_valid(struct mqtt_prop_builder *b, u8 id)
{
	switch (mqtt_prop_type(id)) {
	case MQTT_PT_STRING:
		mqtt_pb_str(b, id, "a/b", 3);
		break;
	case MQTT_PT_BINARY:
		mqtt_pb_bin(b, id, (const u8 *)"\xff", 1);
		break;
	case MQTT_PT_PAIR:
		mqtt_pb_user(b, "k", 1, "v", 1);
		break;
	default:
		mqtt_pb_int(b, id, 1);
	}
}

static void test_props_allowed_per_packet(void **state)
{
	unsigned int i, type;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(spec_props); i++) {
		for (type = 0; type <= MQTT_AUTH; type++) {
			struct mqtt_prop_builder b;
			struct mqtt_props pr;
			u8 buf[32];
			int want = 0, ret;

			if (!((spec_props[i].where >> type) & 1))
				want = -MQTT_E_PROPERTY_NOT_ALLOWED;
			else if (spec_props[i].id == MQTT_PROP_AUTH_DATA &&
				 (type == MQTT_CONNECT || type == MQTT_AUTH))
				want = -MQTT_E_AUTH_DATA_NO_METHOD;
			mqtt_pb_init(&b, buf, sizeof(buf));
			add_valid(&b, spec_props[i].id);
			assert_int_equal(mqtt_pb_done(&b, &pr), 0);
			ret = mqtt_props_parse(type, pr.p, pr.len, NULL, &pr);
			if (ret != want)
				print_error("property 0x%02x in type %u: %s\n", spec_props[i].id, type,
					    mqtt_err_name(ret));
			assert_int_equal(ret, want);
		}
	}
	/* every other identifier is unknown */
	for (i = 0; i < 256; i++) {
		bool known = false;
		unsigned int j;

		for (j = 0; j < ARRAY_SIZE(spec_props); j++)
			known |= spec_props[j].id == i;
		assert_int_equal(mqtt_prop_type(i) != MQTT_PT_NONE, known);
	}
}

static void test_props_duplicates(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(spec_props); i++) {
		u8 id = spec_props[i].id, type, buf[64];
		struct mqtt_prop_builder b;
		struct mqtt_props pr;
		int want;

		for (type = 0; !((spec_props[i].where >> type) & 1); type++)
			;
		if (id == MQTT_PROP_AUTH_DATA)
			type = MQTT_CONNACK;
		mqtt_pb_init(&b, buf, sizeof(buf));
		add_valid(&b, id);
		add_valid(&b, id);
		assert_int_equal(mqtt_pb_done(&b, &pr), 0);
		want = id == MQTT_PROP_USER || (id == MQTT_PROP_SUB_ID && type == MQTT_PUBLISH) ?
		       0 : -MQTT_E_DUP_PROPERTY;
		assert_int_equal(mqtt_props_parse(type, pr.p, pr.len, NULL, &pr), want);
	}
	/* a subscription identifier may repeat in a PUBLISH only */
	{
		static const u8 two_ids[] = { 0x0b, 1, 0x0b, 2 };
		struct mqtt_props pr;

		assert_int_equal(mqtt_props_parse(MQTT_PUBLISH, two_ids, 4, NULL, &pr), 0);
		assert_int_equal(pr.n_sub_id, 2);
		assert_int_equal(mqtt_props_parse(MQTT_SUBSCRIBE, two_ids, 4, NULL, &pr),
				 -MQTT_E_DUP_PROPERTY);
	}
}

static void test_props_value_ranges(void **state)
{
	static const struct {
		u8 type, id;
		u32 val;
		int want;
	} cases[] = {
		{ MQTT_PUBLISH, MQTT_PROP_PAYLOAD_FORMAT, 1, 0 },
		{ MQTT_PUBLISH, MQTT_PROP_PAYLOAD_FORMAT, 2, -MQTT_E_PROPERTY_VALUE },
		{ MQTT_CONNECT, MQTT_PROP_REQUEST_PROBLEM_INFO, 2, -MQTT_E_PROPERTY_VALUE },
		{ MQTT_CONNECT, MQTT_PROP_REQUEST_RESPONSE_INFO, 255, -MQTT_E_PROPERTY_VALUE },
		{ MQTT_CONNACK, MQTT_PROP_MAX_QOS, 0, 0 },
		{ MQTT_CONNACK, MQTT_PROP_MAX_QOS, 2, -MQTT_E_PROPERTY_VALUE },
		{ MQTT_CONNACK, MQTT_PROP_RETAIN_AVAILABLE, 2, -MQTT_E_PROPERTY_VALUE },
		{ MQTT_CONNACK, MQTT_PROP_WILDCARD_SUB_AVAILABLE, 2, -MQTT_E_PROPERTY_VALUE },
		{ MQTT_CONNACK, MQTT_PROP_SUB_ID_AVAILABLE, 2, -MQTT_E_PROPERTY_VALUE },
		{ MQTT_CONNACK, MQTT_PROP_SHARED_SUB_AVAILABLE, 2, -MQTT_E_PROPERTY_VALUE },
		{ MQTT_CONNECT, MQTT_PROP_RECEIVE_MAX, 0, -MQTT_E_PROPERTY_VALUE },
		{ MQTT_CONNACK, MQTT_PROP_RECEIVE_MAX, 65535, 0 },
		{ MQTT_CONNECT, MQTT_PROP_MAX_PACKET_SIZE, 0, -MQTT_E_PROPERTY_VALUE },
		{ MQTT_CONNECT, MQTT_PROP_MAX_PACKET_SIZE, 0xffffffff, 0 },
		{ MQTT_SUBSCRIBE, MQTT_PROP_SUB_ID, 0, -MQTT_E_PROPERTY_VALUE },
		{ MQTT_SUBSCRIBE, MQTT_PROP_SUB_ID, MQTT_VARINT_MAX, 0 },
		{ MQTT_PUBLISH, MQTT_PROP_TOPIC_ALIAS, 0, -MQTT_E_TOPIC_ALIAS },
		{ MQTT_PUBLISH, MQTT_PROP_TOPIC_ALIAS, 65535, 0 },
		{ MQTT_CONNECT, MQTT_PROP_SESSION_EXPIRY, 0xffffffff, 0 },
		{ MQTT_CONNECT, MQTT_PROP_TOPIC_ALIAS_MAX, 0, 0 },
	};
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		struct mqtt_prop_builder b;
		struct mqtt_props pr;
		u8 buf[16];
		int ret;

		mqtt_pb_init(&b, buf, sizeof(buf));
		mqtt_pb_int(&b, cases[i].id, cases[i].val);
		assert_int_equal(mqtt_pb_done(&b, &pr), 0);
		ret = mqtt_props_parse(cases[i].type, pr.p, pr.len, NULL, &pr);
		if (ret != cases[i].want)
			print_error("case %u: property 0x%02x = %u: %s\n", i, cases[i].id,
				    cases[i].val, mqtt_err_name(ret));
		assert_int_equal(ret, cases[i].want);
	}
}

static void test_props_builder_errors(void **state)
{
	struct mqtt_prop_builder b;
	struct mqtt_props pr;
	u8 buf[8];

	(void)state;
	mqtt_pb_init(&b, buf, sizeof(buf));
	mqtt_pb_str(&b, MQTT_PROP_SESSION_EXPIRY, "x", 1);	/* a U32 property */
	assert_int_equal(mqtt_pb_done(&b, &pr), -EINVAL);

	mqtt_pb_init(&b, buf, sizeof(buf));
	mqtt_pb_int(&b, MQTT_PROP_MAX_QOS, 256);
	assert_int_equal(mqtt_pb_done(&b, &pr), -EINVAL);
	mqtt_pb_init(&b, buf, sizeof(buf));
	mqtt_pb_int(&b, MQTT_PROP_RECEIVE_MAX, 65536);
	assert_int_equal(mqtt_pb_done(&b, &pr), -EINVAL);
	mqtt_pb_init(&b, buf, sizeof(buf));
	mqtt_pb_int(&b, MQTT_PROP_SUB_ID, MQTT_VARINT_MAX + 1);
	assert_int_equal(mqtt_pb_done(&b, &pr), -EINVAL);
	mqtt_pb_init(&b, buf, sizeof(buf));
	mqtt_pb_int(&b, 0x05, 1);				/* not a property */
	assert_int_equal(mqtt_pb_done(&b, &pr), -EINVAL);
	mqtt_pb_init(&b, buf, sizeof(buf));
	mqtt_pb_bin(&b, MQTT_PROP_CONTENT_TYPE, (const u8 *)"x", 1);	/* string, not binary */
	assert_int_equal(mqtt_pb_done(&b, &pr), -EINVAL);

	/* out of room: the first error sticks, nothing is written past the buffer */
	mqtt_pb_init(&b, buf, sizeof(buf));
	mqtt_pb_int(&b, MQTT_PROP_SESSION_EXPIRY, 1);		/* 5 bytes */
	mqtt_pb_int(&b, MQTT_PROP_SESSION_EXPIRY, 1);		/* 10 > 8 */
	mqtt_pb_int(&b, MQTT_PROP_MAX_QOS, 1);			/* would fit, but sticky */
	assert_int_equal(b.len, 5);
	assert_int_equal(mqtt_pb_done(&b, &pr), -ENOSPC);
	assert_null(pr.p);
}

static void test_props_iterator(void **state)
{
	static const u8 block[] = { 0x26, 0, 1, 'k', 0, 1, 'v', 0x0b, 0x80, 0x01,
				    0x09, 0, 2, 1, 2, 0x24, 1 };
	static const u8 broken[] = { 0x02, 0, 0 };
	struct mqtt_props pr;
	struct mqtt_prop p;
	struct mqtt_iter it;

	(void)state;
	pr = (struct mqtt_props){ .p = block, .len = sizeof(block) };
	mqtt_prop_iter_init(&it, &pr);
	assert_int_equal(mqtt_prop_next(&it, &p), 1);
	assert_int_equal(p.id, MQTT_PROP_USER);
	assert_int_equal(p.type, MQTT_PT_PAIR);
	assert_true(str_eq(p.str, S("k")) && str_eq(p.str2, S("v")));
	assert_int_equal(mqtt_prop_next(&it, &p), 1);
	assert_int_equal(p.id, MQTT_PROP_SUB_ID);
	assert_int_equal(p.val, 128);
	assert_int_equal(mqtt_prop_next(&it, &p), 1);
	assert_true(bin_eq(p.bin, BIN("\1\2")));
	assert_int_equal(mqtt_prop_next(&it, &p), 1);
	assert_int_equal(p.val, 1);
	assert_int_equal(mqtt_prop_next(&it, &p), 0);
	/* an unvalidated block that ends inside a value */
	pr = (struct mqtt_props){ .p = broken, .len = sizeof(broken) };
	mqtt_prop_iter_init(&it, &pr);
	assert_int_equal(mqtt_prop_next(&it, &p), -MQTT_E_PROPERTY_LENGTH);
	assert_int_equal(mqtt_prop_next(&it, &p), 0);
}

/* ---- Reason codes and errors ---- */

static void test_reason_codes_per_packet(void **state)
{
	static const u8 connack[] = { 0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
				      0x88, 0x89, 0x8a, 0x8c, 0x90, 0x95, 0x97, 0x99, 0x9a,
				      0x9b, 0x9c, 0x9d, 0x9f };
	static const u8 puback[] = { 0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99 };
	static const u8 pubrel[] = { 0x00, 0x92 };
	static const u8 suback[] = { 0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97,
				     0x9e, 0xa1, 0xa2 };
	static const u8 unsuback[] = { 0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91 };
	static const u8 disconnect[] = { 0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b,
					 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97,
					 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0,
					 0xa1, 0xa2 };
	static const u8 auth[] = { 0x00, 0x18, 0x19 };
	static const struct {
		u8 type;
		const u8 *codes;
		unsigned int n;
	} spec[] = {
		{ MQTT_CONNACK, connack, sizeof(connack) },
		{ MQTT_PUBACK, puback, sizeof(puback) },
		{ MQTT_PUBREC, puback, sizeof(puback) },
		{ MQTT_PUBREL, pubrel, sizeof(pubrel) },
		{ MQTT_PUBCOMP, pubrel, sizeof(pubrel) },
		{ MQTT_SUBACK, suback, sizeof(suback) },
		{ MQTT_UNSUBACK, unsuback, sizeof(unsuback) },
		{ MQTT_DISCONNECT, disconnect, sizeof(disconnect) },
		{ MQTT_AUTH, auth, sizeof(auth) },
		{ MQTT_CONNECT, NULL, 0 },
		{ MQTT_PUBLISH, NULL, 0 },
		{ MQTT_SUBSCRIBE, NULL, 0 },
		{ MQTT_PINGREQ, NULL, 0 },
	};
	unsigned int i, code, j;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(spec); i++) {
		for (code = 0; code < 256; code++) {
			bool want = false;

			for (j = 0; j < spec[i].n; j++)
				want |= spec[i].codes[j] == code;
			if (mqtt_reason_valid(spec[i].type, code) != want)
				print_error("reason 0x%02x in type %u\n", code, spec[i].type);
			assert_int_equal(mqtt_reason_valid(spec[i].type, code), want);
		}
	}
	assert_false(mqtt_reason_valid(16, 0));
}

static void test_error_names_and_reasons(void **state)
{
	int e, f;

	(void)state;
	for (e = MQTT_E_BASE; e < MQTT_E__END; e++) {
		const char *name = mqtt_err_name(-e);
		u8 rc = mqtt_err_reason(-e);

		assert_string_not_equal(name, "unknown");
		assert_null(strchr(name, ' '));
		assert_string_equal(mqtt_err_name(e), name);
		for (f = MQTT_E_BASE; f < e; f++)
			assert_string_not_equal(mqtt_err_name(-f), name);
		/* every error can be sent in a DISCONNECT or (for CONNECT) a CONNACK */
		assert_true(rc >= 0x80);
		assert_true(mqtt_reason_valid(MQTT_DISCONNECT, rc) ||
			    mqtt_reason_valid(MQTT_CONNACK, rc));
		if (e == MQTT_E_BAD_LEVEL)
			assert_int_equal(mqtt_err_connack(-e), MQTT_RC311_BAD_PROTOCOL_VERSION);
		else if (e == MQTT_E_CLIENT_ID)
			assert_int_equal(mqtt_err_connack(-e), MQTT_RC311_ID_REJECTED);
		else
			assert_int_equal(mqtt_err_connack(-e), MQTT_RC311_NONE);
	}
	assert_int_equal(mqtt_err_reason(-MQTT_E_PACKET_TOO_LARGE), MQTT_RC_PACKET_TOO_LARGE);
	assert_int_equal(mqtt_err_reason(-MQTT_E_BAD_LEVEL), MQTT_RC_UNSUPPORTED_VERSION);
	assert_int_equal(mqtt_err_reason(-MQTT_E_CLIENT_ID), MQTT_RC_CLIENT_ID_INVALID);
	assert_int_equal(mqtt_err_reason(-MQTT_E_TOPIC_ALIAS), MQTT_RC_TOPIC_ALIAS_INVALID);
	assert_int_equal(mqtt_err_reason(-MQTT_E_BAD_TOPIC), MQTT_RC_TOPIC_NAME_INVALID);
	assert_int_equal(mqtt_err_reason(-MQTT_E_DUP_PROPERTY), MQTT_RC_PROTOCOL_ERROR);
	assert_int_equal(mqtt_err_reason(-MQTT_E_TRUNCATED), MQTT_RC_MALFORMED);
	assert_int_equal(mqtt_err_reason(0), MQTT_RC_SUCCESS);
	assert_int_equal(mqtt_err_reason(-ENOSPC), MQTT_RC_UNSPECIFIED);
	assert_string_equal(mqtt_err_name(0), "ok");
	assert_string_equal(mqtt_err_name(-ENOSPC), "no-space");
	assert_string_equal(mqtt_err_name(-EINVAL), "invalid-argument");
	assert_string_equal(mqtt_err_name(-EMSGSIZE), "message-too-long");
	assert_string_equal(mqtt_err_name(-MQTT_E__END), "unknown");
	assert_string_equal(mqtt_err_name(-1000000), "unknown");
	/* errno values and codec errors never collide */
	assert_true(MQTT_E_BASE > EHWPOISON);
	assert_int_equal(mqtt_err_connack(-ENOSPC), MQTT_RC311_NONE);
}

/* ---- Limits ---- */

static void test_limits_null_means_defaults(void **state)
{
	const struct codec_vector *v = find_vector("subscribe-311-two-filters");
	struct mqtt_packet a, b;
	struct mqtt_limits lim = MQTT_LIMITS_DEFAULT;

	(void)state;
	assert_int_equal(mqtt_decode_buf(v->level, v->data, v->len, NULL, &a), v->len);
	assert_int_equal(mqtt_decode_buf(v->level, v->data, v->len, &lim, &b), v->len);
	assert_true(packet_eq(&a, &b));
	lim.max_subs = 1;
	assert_int_equal(mqtt_decode_buf(v->level, v->data, v->len, &lim, &b),
			 -MQTT_E_TOO_MANY_TOPICS);
}

/* Without TOPIC_LIM_SHARED, "$share/..." is an ordinary filter and no-local is allowed. */
static void test_limits_shared_off(void **state)
{
	const struct codec_vector *v = find_vector("subscribe-5-shared-no-local");
	struct mqtt_limits lim = MQTT_LIMITS_DEFAULT;
	struct mqtt_packet pkt;

	(void)state;
	lim.topic.flags &= ~TOPIC_LIM_SHARED;
	assert_int_equal(mqtt_decode_buf(v->level, v->data, v->len, &lim, &pkt), v->len);
}

/* The decoder reads nothing past the body it is given (run under ASan). */
static void test_decode_reads_only_its_body(void **state)
{
	unsigned int i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(codec_vectors); i++) {
		const struct codec_vector *v = &codec_vectors[i];
		struct mqtt_packet pkt;
		u8 *copy = malloc(v->len);
		u32 k;

		assert_non_null(copy);
		memcpy(copy, v->data, v->len);
		/* every truncation is incomplete (0) or an error, never a packet */
		for (k = 0; k < v->len; k++)
			assert_true(mqtt_decode_buf(v->level, copy, k, vector_limits(v), &pkt) <= 0);
		free(copy);
	}
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_roundtrip_connect),
		cmocka_unit_test(test_roundtrip_connack),
		cmocka_unit_test(test_roundtrip_publish),
		cmocka_unit_test(test_roundtrip_acks),
		cmocka_unit_test(test_roundtrip_subscribe),
		cmocka_unit_test(test_roundtrip_suback),
		cmocka_unit_test(test_roundtrip_unsubscribe),
		cmocka_unit_test(test_roundtrip_unsuback),
		cmocka_unit_test(test_roundtrip_ping),
		cmocka_unit_test(test_roundtrip_disconnect),
		cmocka_unit_test(test_roundtrip_auth),
		cmocka_unit_test(test_encode_shortest_ack_forms),
		cmocka_unit_test(test_encode_rejects_unencodable),
		cmocka_unit_test(test_encode_publish_head_and_payload),
		cmocka_unit_test(test_varint_boundaries),
		cmocka_unit_test(test_fixed_header_limit_counts_header),
		cmocka_unit_test(test_fixed_header_exact_connect_read),
		cmocka_unit_test(test_framer_stops_at_packet_end),
		cmocka_unit_test(test_framer_error_is_sticky),
		cmocka_unit_test(test_framer_packet_larger_than_buffer),
		cmocka_unit_test(test_framer_limit_below_buffer),
		cmocka_unit_test(test_framer_level_switch),
		cmocka_unit_test(test_framer_random_chunks_stream),
		cmocka_unit_test(test_fields_connect),
		cmocka_unit_test(test_fields_publish),
		cmocka_unit_test(test_fields_subscribe),
		cmocka_unit_test(test_fields_unsubscribe),
		cmocka_unit_test(test_fields_reason_defaults),
		cmocka_unit_test(test_props_allowed_per_packet),
		cmocka_unit_test(test_props_duplicates),
		cmocka_unit_test(test_props_value_ranges),
		cmocka_unit_test(test_props_builder_errors),
		cmocka_unit_test(test_props_iterator),
		cmocka_unit_test(test_reason_codes_per_packet),
		cmocka_unit_test(test_error_names_and_reasons),
		cmocka_unit_test(test_limits_null_means_defaults),
		cmocka_unit_test(test_limits_shared_off),
		cmocka_unit_test(test_decode_reads_only_its_body),
	};
	enum { NV = ARRAY_SIZE(codec_vectors), NH = ARRAY_SIZE(codec_hdr_vectors) };
	static struct CMUnitTest tests[ARRAY_SIZE(fixed) + 3 * NV + NH];
	static char names[3 * NV + NH][96];
	unsigned int i, n = 0, k = 0;

	for (i = 0; i < ARRAY_SIZE(fixed); i++)
		tests[n++] = fixed[i];
	for (i = 0; i < NH; i++) {
		snprintf(names[k], sizeof(names[k]), "remlen:%s", codec_hdr_vectors[i].name);
		tests[n++] = (struct CMUnitTest){ names[k++], test_hdr_vector, NULL, NULL,
						  (void *)&codec_hdr_vectors[i] };
	}
	for (i = 0; i < NV; i++) {
		snprintf(names[k], sizeof(names[k]), "vector:%s", codec_vectors[i].name);
		tests[n++] = (struct CMUnitTest){ names[k++], test_vector_decode, NULL, NULL,
						  (void *)&codec_vectors[i] };
		snprintf(names[k], sizeof(names[k]), "split:%s", codec_vectors[i].name);
		tests[n++] = (struct CMUnitTest){ names[k++], test_vector_split, NULL, NULL,
						  (void *)&codec_vectors[i] };
		if (codec_vectors[i].err)
			continue;
		snprintf(names[k], sizeof(names[k]), "reencode:%s", codec_vectors[i].name);
		tests[n++] = (struct CMUnitTest){ names[k++], test_vector_reencode, NULL, NULL,
						  (void *)&codec_vectors[i] };
	}
	return _cmocka_run_group_tests("codec", tests, n, NULL, NULL);
}

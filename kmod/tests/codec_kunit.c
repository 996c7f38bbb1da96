// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * KUnit suite kmqtt_codec: the MQTT codec in the kernel, on the vectors the host unit tests
 * use (codec_vectors.h), under KASAN, lockdep and kmemleak in the debug test kernel.
 *
 * Every packet is decoded from, and encoded into, a heap buffer of exactly its size, so
 * that KASAN reports a read or write one byte past it; the decoder also runs with
 * preemption off (it is called from the receive path, which may not sleep).
 *
 * The codec is compiled into this test module from its source, so kmqtt_test.ko does not
 * depend on kmqtt.ko.
 */
#include "../core/mqtt_codec.c"

#include <kunit/test.h>
#include <linux/module.h>
#include <linux/preempt.h>

#include "codec_vectors.h"

/* The framer's buffer: larger than every vector, as in the host tests. */
#define FRAMER_BUF_SIZE	8192

static const struct mqtt_limits codec_default_limits = MQTT_LIMITS_DEFAULT;

static const struct mqtt_limits *vector_limits(const struct codec_vector *v)
{
	return v->tight ? &codec_tight_limits : &codec_default_limits;
}

static void vector_desc(const struct codec_vector *v, char *desc)
{
	strscpy(desc, v->name, KUNIT_PARAM_DESC_SIZE);
}

static void hdr_vector_desc(const struct codec_hdr_vector *v, char *desc)
{
	strscpy(desc, v->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(codec_vectors, codec_vectors, vector_desc);
KUNIT_ARRAY_PARAM(codec_hdr_vectors, codec_hdr_vectors, hdr_vector_desc);

/* Only the vectors of valid packets, for the encoder. */
static const void *codec_valid_vectors_gen_params(const void *prev, char *desc)
{
	const struct codec_vector *v = prev ? (const struct codec_vector *)prev + 1 : codec_vectors;

	for (; v < codec_vectors + ARRAY_SIZE(codec_vectors); v++) {
		if (!v->err) {
			vector_desc(v, desc);
			return v;
		}
	}
	return NULL;
}

/* A heap copy of exactly @len bytes (at least one, so that kmalloc returns a real object). */
static u8 *exact_copy(struct kunit *test, const u8 *data, u32 len)
{
	u8 *p = kunit_kmalloc(test, len ?: 1, GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, p);
	memcpy(p, data, len);
	return p;
}

/*
 * Decode the first @len bytes of @v from an exact-size copy; returns what mqtt_decode_buf()
 * returned. The decoded packet points into the copy, which lives as long as the test.
 */
static int decode_exact(struct kunit *test, const struct codec_vector *v, u32 len,
			struct mqtt_packet *pkt)
{
	u8 *copy = exact_copy(test, v->data, len);

	return mqtt_decode_buf(v->level, copy, len, vector_limits(v), pkt);
}

/*
 * A decoded packet as encoder input: the decoder leaves SUBSCRIBE and UNSUBSCRIBE lists in
 * the packet, the encoder takes arrays.
 */
static void to_encoder_input(struct kunit *test, const struct mqtt_packet *dec,
			     struct mqtt_packet *in)
{
	struct mqtt_iter it;
	u32 n = 0;

	*in = *dec;
	if (dec->type == MQTT_SUBSCRIBE) {
		struct mqtt_sub_entry *e;

		e = kunit_kcalloc(test, dec->subscribe.count ?: 1, sizeof(*e), GFP_KERNEL);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, e);
		mqtt_sub_iter_init(&it, &dec->subscribe);
		while (n < dec->subscribe.count && mqtt_sub_next(&it, &e[n]))
			n++;
		KUNIT_ASSERT_EQ(test, n, dec->subscribe.count);
		in->subscribe.entries = e;
	} else if (dec->type == MQTT_UNSUBSCRIBE) {
		struct mqtt_str *f;

		f = kunit_kcalloc(test, dec->unsubscribe.count ?: 1, sizeof(*f), GFP_KERNEL);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, f);
		mqtt_unsub_iter_init(&it, &dec->unsubscribe);
		while (n < dec->unsubscribe.count && mqtt_unsub_next(&it, &f[n]))
			n++;
		KUNIT_ASSERT_EQ(test, n, dec->unsubscribe.count);
		in->unsubscribe.filters = f;
	}
}

/*
 * Encode a decoded packet into a buffer of exactly mqtt_encoded_size() bytes and return
 * the encoding (a test-managed allocation). With @all_caps, every smaller buffer must
 * give -ENOSPC (each one exact too, so KASAN sees a write past it).
 */
static u8 *encode_exact(struct kunit *test, u8 level, const struct mqtt_packet *dec,
			bool all_caps, int *len)
{
	struct mqtt_packet in;
	int size, n, cap;
	u8 *buf;

	to_encoder_input(test, dec, &in);
	size = mqtt_encoded_size(level, &in);
	KUNIT_ASSERT_GT_MSG(test, size, 0, "mqtt_encoded_size: %s", mqtt_err_name(size));
	for (cap = 0; all_caps && cap < size; cap++) {
		buf = kunit_kmalloc(test, cap ?: 1, GFP_KERNEL);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
		KUNIT_EXPECT_EQ_MSG(test, mqtt_encode(buf, cap, level, &in), -ENOSPC,
				    "buffer of %d bytes for a %d-byte packet", cap, size);
		kunit_kfree(test, buf);
	}
	buf = kunit_kmalloc(test, size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	n = mqtt_encode(buf, size, level, &in);
	KUNIT_ASSERT_EQ_MSG(test, n, size, "mqtt_encode: %s", mqtt_err_name(n));
	*len = n;
	return buf;
}

/* remlen: mqtt_fixed_header() on the spec's remaining-length examples and on prefixes. */
static void codec_remlen(struct kunit *test)
{
	const struct codec_hdr_vector *v = test->param_value;
	struct mqtt_fixed_header fh;
	u8 *copy = exact_copy(test, v->bytes, v->len);
	int ret = mqtt_fixed_header(copy, v->len, v->level, 0, &fh);

	KUNIT_ASSERT_EQ_MSG(test, ret, v->ret, "got %s, want %s", mqtt_err_name(ret),
			    mqtt_err_name(v->ret));
	if (ret > 0) {
		KUNIT_EXPECT_EQ(test, fh.remlen, v->remlen);
		KUNIT_EXPECT_EQ(test, fh.hdr_len, ret);
		KUNIT_EXPECT_EQ(test, fh.type, v->bytes[0] >> 4);
	}
}

/* vector: decoding in one piece gives the expected type or error. */
static void codec_vector(struct kunit *test)
{
	const struct codec_vector *v = test->param_value;
	struct mqtt_packet pkt;
	int ret = decode_exact(test, v, v->len, &pkt);
	int want = v->err ?: (int)v->len;

	KUNIT_ASSERT_EQ_MSG(test, ret, want, "got %d (%s), want %d (%s)", ret,
			    mqtt_err_name(ret), want, mqtt_err_name(want));
	if (!v->err)
		KUNIT_EXPECT_EQ(test, pkt.type, v->type);
}

/*
 * truncated: every proper prefix is incomplete (0) or an error, never a packet, and
 * decoding it reads nothing past it.
 */
static void codec_truncated(struct kunit *test)
{
	const struct codec_vector *v = test->param_value;
	struct mqtt_packet pkt;
	u32 k;
	int ret;

	for (k = 0; k < v->len; k++) {
		u8 *copy = exact_copy(test, v->data, k);

		ret = mqtt_decode_buf(v->level, copy, k, vector_limits(v), &pkt);
		KUNIT_EXPECT_LE_MSG(test, ret, 0, "prefix of %u bytes decoded as %d", k, ret);
		kunit_kfree(test, copy);
	}
}

/* Frame @v split at @k, decode what the framer assembled and compare with @want. */
static void check_split(struct kunit *test, const struct codec_vector *v, u32 k, int want,
			const u8 *want_enc, int want_enc_len, u8 *buf)
{
	const struct mqtt_limits *lim = vector_limits(v);
	const struct mqtt_fixed_header *fh;
	struct mqtt_framer f;
	struct mqtt_packet pkt;
	u32 used, off;
	int ret, n;
	u8 *enc;

	mqtt_framer_init(&f, buf, FRAMER_BUF_SIZE, v->level, lim->max_packet_size);
	ret = mqtt_framer_feed(&f, v->data, k, &used);
	off = used;
	if (ret == 0) {
		KUNIT_ASSERT_EQ(test, used, k);
		ret = mqtt_framer_feed(&f, v->data + k, v->len - k, &used);
		off += used;
	}
	if (ret < 0) {
		KUNIT_ASSERT_EQ_MSG(test, ret, want, "split at %u: framer %s, want %s", k,
				    mqtt_err_name(ret), mqtt_err_name(want));
		return;
	}
	KUNIT_ASSERT_EQ_MSG(test, ret, 1, "split at %u: no packet", k);
	KUNIT_ASSERT_EQ(test, off, v->len);
	KUNIT_ASSERT_NOT_NULL(test, mqtt_framer_packet(&f, &fh));
	KUNIT_ASSERT_EQ(test, fh->hdr_len + fh->remlen, v->len);
	KUNIT_ASSERT_EQ(test, memcmp(buf, v->data, v->len), 0);
	ret = mqtt_decode(v->level, fh, buf + fh->hdr_len, lim, &pkt);
	KUNIT_ASSERT_EQ_MSG(test, ret, want < 0 ? want : 0, "split at %u: decode %s, want %s",
			    k, mqtt_err_name(ret), mqtt_err_name(want));
	if (ret)
		return;
	/* Same packet: it encodes to the same bytes as the one decoded in one piece. */
	enc = encode_exact(test, v->level, &pkt, false, &n);
	KUNIT_EXPECT_EQ(test, n, want_enc_len);
	if (n == want_enc_len)
		KUNIT_EXPECT_EQ_MSG(test, memcmp(enc, want_enc, n), 0, "split at %u", k);
	kunit_kfree(test, enc);
}

/* split: any split of the stream, and byte by byte, gives the one-piece result. */
static void codec_split(struct kunit *test)
{
	const struct codec_vector *v = test->param_value;
	const struct mqtt_limits *lim = vector_limits(v);
	const struct mqtt_fixed_header *fh;
	struct mqtt_packet base, pkt;
	struct mqtt_framer f;
	u8 *buf, *enc = NULL;
	int want, ret = 0, enc_len = 0;
	u32 k, used;

	buf = kunit_kmalloc(test, FRAMER_BUF_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	want = decode_exact(test, v, v->len, &base);
	if (want > 0) {
		enc = encode_exact(test, v->level, &base, false, &enc_len);
		want = 1;
	}
	for (k = 0; k <= v->len; k++)
		check_split(test, v, k, want, enc, enc_len, buf);

	mqtt_framer_init(&f, buf, FRAMER_BUF_SIZE, v->level, lim->max_packet_size);
	for (k = 0; k < v->len; k++) {
		ret = mqtt_framer_feed(&f, v->data + k, 1, &used);
		KUNIT_ASSERT_EQ(test, used, 1);
		if (ret)
			break;
	}
	if (ret < 0) {
		KUNIT_ASSERT_EQ_MSG(test, ret, want, "byte by byte: framer %s, want %s",
				    mqtt_err_name(ret), mqtt_err_name(want));
		return;
	}
	KUNIT_ASSERT_EQ(test, ret, 1);
	KUNIT_ASSERT_EQ(test, k, v->len - 1);
	KUNIT_ASSERT_NOT_NULL(test, mqtt_framer_packet(&f, &fh));
	ret = mqtt_decode(v->level, fh, buf + fh->hdr_len, lim, &pkt);
	KUNIT_ASSERT_EQ_MSG(test, ret, want < 0 ? want : 0, "byte by byte: decode %s",
			    mqtt_err_name(ret));
}

/*
 * reencode: a decoded valid packet encodes, in the shortest forms, to a packet that
 * decodes and encodes to the same bytes again.
 */
static void codec_reencode(struct kunit *test)
{
	const struct codec_vector *v = test->param_value;
	struct mqtt_packet dec, again;
	int n, n2, ret;
	u8 *enc, *enc2;

	ret = decode_exact(test, v, v->len, &dec);
	KUNIT_ASSERT_EQ_MSG(test, ret, (int)v->len, "decode: %s", mqtt_err_name(ret));
	enc = encode_exact(test, v->level, &dec, true, &n);
	KUNIT_EXPECT_LE(test, (u32)n, v->len);
	ret = mqtt_decode_buf(v->level, enc, n, vector_limits(v), &again);
	KUNIT_ASSERT_EQ_MSG(test, ret, n, "decoding the encoding: %s", mqtt_err_name(ret));
	KUNIT_EXPECT_EQ(test, again.type, dec.type);
	enc2 = encode_exact(test, v->level, &again, false, &n2);
	KUNIT_ASSERT_EQ(test, n2, n);
	KUNIT_EXPECT_EQ(test, memcmp(enc, enc2, n), 0);
}

/*
 * Every vector decoded with preemption disabled: with CONFIG_DEBUG_ATOMIC_SLEEP a decoder
 * that could sleep (an allocation, a mutex) is reported in the kernel log.
 */
static void codec_decode_atomic(struct kunit *test)
{
	struct mqtt_packet *pkt = kunit_kmalloc(test, sizeof(*pkt), GFP_KERNEL);
	unsigned int i, bad = 0;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, pkt);
	for (i = 0; i < ARRAY_SIZE(codec_vectors); i++) {
		const struct codec_vector *v = &codec_vectors[i];
		int want = v->err ?: (int)v->len;
		int ret;

		preempt_disable();
		ret = mqtt_decode_buf(v->level, v->data, v->len, vector_limits(v), pkt);
		preempt_enable();
		if (ret != want) {
			kunit_err(test, "%s: got %s, want %s\n", v->name, mqtt_err_name(ret),
				  mqtt_err_name(want));
			bad++;
		}
	}
	KUNIT_EXPECT_EQ(test, bad, 0);
}

/* Cases are named without the codec_ prefix: "kmqtt_codec.split" reads better. */
#define CODEC_CASE(fn, gen)	{ .run_case = codec_##fn, .name = #fn, .generate_params = gen }

static struct kunit_case codec_cases[] = {
	CODEC_CASE(remlen, codec_hdr_vectors_gen_params),
	CODEC_CASE(vector, codec_vectors_gen_params),
	CODEC_CASE(truncated, codec_vectors_gen_params),
	CODEC_CASE(split, codec_vectors_gen_params),
	CODEC_CASE(reencode, codec_valid_vectors_gen_params),
	CODEC_CASE(decode_atomic, NULL),
	{}
};

static struct kunit_suite codec_suite = {
	.name = "kmqtt_codec",
	.test_cases = codec_cases,
};

kunit_test_suite(codec_suite);

MODULE_DESCRIPTION("KUnit tests of kmqtt's MQTT codec and topic trie");
MODULE_LICENSE("GPL");

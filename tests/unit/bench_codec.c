// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * MQTT codec microbenchmark: PUBLISH decode and encode rates (packets/s) for payloads of
 * 16, 64, 256 and 1024 bytes at 3.1.1 and 5.0, and the rate of framing a stream of such
 * packets delivered in 1448-byte segments (a TCP MSS) and decoding each one. The 5.0
 * packets carry a payload format indicator, a message expiry and a user property.
 * Prints one line per figure and a final "BENCH {json}" line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mqtt_codec.h"

#define MIN_SECONDS	0.25
#define SEGMENT		1448
#define STREAM_PACKETS	256

static const u32 payloads[] = { 16, 64, 256, 1024 };
static const u8 levels[] = { MQTT_LEVEL_311, MQTT_LEVEL_5 };

static volatile u64 sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct sample {
	struct mqtt_publish pub;
	u8 props[64];
	u8 payload[1024];
	u8 wire[2048];
	int len;
};

static void make_sample(struct sample *s, u8 level, u32 payload_len)
{
	static const char topic[] = "site/17/building/3/floor/2/sensor/temperature";
	struct mqtt_prop_builder b;

	memset(s, 0, sizeof(*s));
	memset(s->payload, 'p', sizeof(s->payload));
	s->pub.qos = 1;
	s->pub.packet_id = 42;
	s->pub.topic = (struct mqtt_str){ topic, sizeof(topic) - 1 };
	s->pub.payload = s->payload;
	s->pub.payload_len = payload_len;
	if (level == MQTT_LEVEL_5) {
		mqtt_pb_init(&b, s->props, sizeof(s->props));
		mqtt_pb_int(&b, MQTT_PROP_PAYLOAD_FORMAT, 1);
		mqtt_pb_int(&b, MQTT_PROP_MESSAGE_EXPIRY, 3600);
		mqtt_pb_user(&b, "unit", 4, "celsius", 7);
		if (mqtt_pb_done(&b, &s->pub.props))
			abort();
	}
	s->len = mqtt_encode_publish(s->wire, sizeof(s->wire), level, &s->pub);
	if (s->len <= 0)
		abort();
}

/* Runs @fn until MIN_SECONDS have passed; returns calls per second. */
static double rate(void (*fn)(const struct sample *s, u8 level), const struct sample *s,
		   u8 level)
{
	u64 n = 0, batch = 1024, i;
	double t0 = now(), t;

	do {
		for (i = 0; i < batch; i++)
			fn(s, level);
		n += batch;
		t = now() - t0;
	} while (t < MIN_SECONDS);
	return n / t;
}

static void decode_one(const struct sample *s, u8 level)
{
	struct mqtt_packet pkt;

	if (mqtt_decode_buf(level, s->wire, s->len, NULL, &pkt) != s->len)
		abort();
	sink += pkt.publish.payload_len;
}

static void encode_one(const struct sample *s, u8 level)
{
	u8 out[2048];

	if (mqtt_encode_publish(out, sizeof(out), level, &s->pub) != s->len)
		abort();
	sink += out[s->len - 1];
}

static void encode_head_one(const struct sample *s, u8 level)
{
	u8 out[128];

	if (mqtt_encode_publish_head(out, sizeof(out), level, &s->pub) <= 0)
		abort();
	sink += out[0];
}

/* A stream of STREAM_PACKETS copies, cut into SEGMENT-byte reads. Rate in packets/s. */
static double frame_rate(const struct sample *s, u8 level)
{
	u32 total = s->len * STREAM_PACKETS, rounds = 0;
	u8 *stream = malloc(total), buf[2048];
	double t0 = now(), t;
	u32 i;

	if (!stream)
		abort();
	for (i = 0; i < STREAM_PACKETS; i++)
		memcpy(stream + i * s->len, s->wire, s->len);
	do {
		struct mqtt_framer f;
		u32 off = 0, got = 0;

		mqtt_framer_init(&f, buf, sizeof(buf), level, 0);
		while (off < total) {
			u32 seg = total - off < SEGMENT ? total - off : SEGMENT, used;

			while (seg) {
				const struct mqtt_fixed_header *fh;
				struct mqtt_packet pkt;
				int ret = mqtt_framer_feed(&f, stream + off, seg, &used);

				off += used;
				seg -= used;
				if (ret < 0)
					abort();
				if (!ret)
					break;
				mqtt_framer_packet(&f, &fh);
				if (mqtt_decode(level, fh, buf + fh->hdr_len, NULL, &pkt))
					abort();
				sink += pkt.publish.payload_len;
				got++;
			}
		}
		if (got != STREAM_PACKETS)
			abort();
		rounds++;
		t = now() - t0;
	} while (t < MIN_SECONDS);
	free(stream);
	return (double)rounds * STREAM_PACKETS / t;
}

int main(void)
{
	static const char *const names[] = { "decode", "encode", "encode_head", "frame_decode" };
	double r[ARRAY_SIZE(names)][ARRAY_SIZE(levels)][ARRAY_SIZE(payloads)];
	unsigned int l, p, k;
	struct sample s;

	for (l = 0; l < ARRAY_SIZE(levels); l++) {
		for (p = 0; p < ARRAY_SIZE(payloads); p++) {
			make_sample(&s, levels[l], payloads[p]);
			r[0][l][p] = rate(decode_one, &s, levels[l]);
			r[1][l][p] = rate(encode_one, &s, levels[l]);
			r[2][l][p] = rate(encode_head_one, &s, levels[l]);
			r[3][l][p] = frame_rate(&s, levels[l]);
			printf("publish %-5s payload %4u B (%4d B on the wire): decode %6.2f M/s, "
			       "encode %6.2f M/s, encode head %6.2f M/s, frame+decode %6.2f M/s\n",
			       levels[l] == MQTT_LEVEL_5 ? "5.0" : "3.1.1", payloads[p], s.len,
			       r[0][l][p] / 1e6, r[1][l][p] / 1e6, r[2][l][p] / 1e6,
			       r[3][l][p] / 1e6);
		}
	}
	printf("BENCH {\"bench\":\"codec\",\"unit\":\"packets_per_s\"");
	for (k = 0; k < ARRAY_SIZE(names); k++) {
		printf(",\"publish_%s\":{", names[k]);
		for (l = 0; l < ARRAY_SIZE(levels); l++) {
			printf("%s\"%s\":{", l ? "," : "", levels[l] == MQTT_LEVEL_5 ? "v5" : "v311");
			for (p = 0; p < ARRAY_SIZE(payloads); p++)
				printf("%s\"%u\":%.0f", p ? "," : "", payloads[p], r[k][l][p]);
			printf("}");
		}
		printf("}");
	}
	printf("}\n");
	return sink == 0;
}

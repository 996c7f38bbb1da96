// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * MQTT 3.1/3.1.1/5.0 codec. See mqtt_codec.h for the contract; the comments here are
 * about how and why. Spec references: [MQTT-x.y.z-n] are the normative statements of
 * MQTT 3.1.1 and 5.0 (5.0 numbering where both have one).
 */
#include "mqtt_codec.h"

static const struct mqtt_limits mqtt_default_limits = MQTT_LIMITS_DEFAULT;

#define MQTT_T(type)	(1U << MQTT_##type)
#define MQTT_T_WILL	MQTT_T(PROPS_WILL)

/* ---- Errors ---- */

struct mqtt_err_info {
	const char *name;
	u8 reason;		/* 5.0 reason code */
	s8 rc311;		/* 3.1.1 CONNACK return code or MQTT_RC311_NONE */
};

#define MQTT_ERR(e, n, r, c) \
	[MQTT_E_##e - MQTT_E_BASE] = { .name = n, .reason = MQTT_RC_##r, .rc311 = c }
#define MQTT_ERR_NONE		MQTT_RC311_NONE

static const struct mqtt_err_info mqtt_errs[MQTT_E__END - MQTT_E_BASE] = {
	MQTT_ERR(BAD_TYPE, "bad-type", MALFORMED, MQTT_ERR_NONE),
	MQTT_ERR(RESERVED_FLAGS, "reserved-flags", MALFORMED, MQTT_ERR_NONE),
	MQTT_ERR(REMLEN_TOO_LONG, "remlen-too-long", MALFORMED, MQTT_ERR_NONE),
	MQTT_ERR(REMLEN_NOT_MINIMAL, "remlen-not-minimal", MALFORMED, MQTT_ERR_NONE),
	MQTT_ERR(PACKET_TOO_LARGE, "packet-too-large", PACKET_TOO_LARGE, MQTT_ERR_NONE),
	MQTT_ERR(TRUNCATED, "truncated", MALFORMED, MQTT_ERR_NONE),
	MQTT_ERR(TRAILING, "trailing-bytes", MALFORMED, MQTT_ERR_NONE),
	MQTT_ERR(BAD_VARINT, "bad-varint", MALFORMED, MQTT_ERR_NONE),
	MQTT_ERR(NOT_CONNECT, "not-connect", PROTOCOL_ERROR, MQTT_ERR_NONE),
	/*
	 * A wrong protocol name may be answered with "unsupported version" [MQTT-3.1.2-1],
	 * but the level of such a packet says nothing about the CONNACK format to use.
	 */
	MQTT_ERR(BAD_PROTOCOL, "bad-protocol-name", UNSUPPORTED_VERSION, MQTT_ERR_NONE),
	MQTT_ERR(BAD_LEVEL, "unsupported-level", UNSUPPORTED_VERSION,
		 MQTT_RC311_BAD_PROTOCOL_VERSION),
	MQTT_ERR(CONNECT_RESERVED, "connect-reserved-flag", MALFORMED, MQTT_ERR_NONE),
	MQTT_ERR(WILL_FLAGS, "will-flags", MALFORMED, MQTT_ERR_NONE),
	MQTT_ERR(PASSWORD_NO_USER, "password-without-username", MALFORMED, MQTT_ERR_NONE),
	MQTT_ERR(CLIENT_ID, "client-id-rejected", CLIENT_ID_INVALID, MQTT_RC311_ID_REJECTED),
	MQTT_ERR(BAD_UTF8, "bad-utf8", MALFORMED, MQTT_ERR_NONE),
	MQTT_ERR(BAD_TOPIC, "bad-topic-name", TOPIC_NAME_INVALID, MQTT_ERR_NONE),
	MQTT_ERR(BAD_TOPIC_FILTER, "bad-topic-filter", TOPIC_FILTER_INVALID, MQTT_ERR_NONE),
	MQTT_ERR(TOPIC_LIMIT, "topic-limit", QUOTA_EXCEEDED, MQTT_ERR_NONE),
	MQTT_ERR(EMPTY_TOPIC, "empty-topic-without-alias", PROTOCOL_ERROR, MQTT_ERR_NONE),
	MQTT_ERR(TOPIC_ALIAS, "topic-alias-zero", TOPIC_ALIAS_INVALID, MQTT_ERR_NONE),
	MQTT_ERR(BAD_QOS, "bad-qos", MALFORMED, MQTT_ERR_NONE),
	MQTT_ERR(DUP_QOS0, "dup-with-qos0", MALFORMED, MQTT_ERR_NONE),
	MQTT_ERR(ZERO_PACKET_ID, "zero-packet-id", PROTOCOL_ERROR, MQTT_ERR_NONE),
	MQTT_ERR(BAD_REASON, "bad-reason-code", PROTOCOL_ERROR, MQTT_ERR_NONE),
	MQTT_ERR(CONNACK_FLAGS, "connack-flags", MALFORMED, MQTT_ERR_NONE),
	MQTT_ERR(NO_TOPICS, "no-topic-filters", PROTOCOL_ERROR, MQTT_ERR_NONE),
	MQTT_ERR(TOO_MANY_TOPICS, "too-many-topic-filters", QUOTA_EXCEEDED, MQTT_ERR_NONE),
	MQTT_ERR(SUB_OPTIONS, "subscription-options-reserved", MALFORMED, MQTT_ERR_NONE),
	MQTT_ERR(RETAIN_HANDLING, "retain-handling-3", PROTOCOL_ERROR, MQTT_ERR_NONE),
	MQTT_ERR(SHARED_NO_LOCAL, "shared-subscription-no-local", PROTOCOL_ERROR,
		 MQTT_ERR_NONE),
	MQTT_ERR(BAD_PROPERTY, "unknown-property", MALFORMED, MQTT_ERR_NONE),
	MQTT_ERR(PROPERTY_NOT_ALLOWED, "property-not-allowed", MALFORMED, MQTT_ERR_NONE),
	MQTT_ERR(DUP_PROPERTY, "duplicate-property", PROTOCOL_ERROR, MQTT_ERR_NONE),
	MQTT_ERR(PROPERTY_VALUE, "bad-property-value", PROTOCOL_ERROR, MQTT_ERR_NONE),
	MQTT_ERR(PROPERTY_LENGTH, "bad-property-length", MALFORMED, MQTT_ERR_NONE),
	MQTT_ERR(TOO_MANY_PROPS, "too-many-properties", QUOTA_EXCEEDED, MQTT_ERR_NONE),
	MQTT_ERR(TOO_MANY_USER_PROPS, "too-many-user-properties", QUOTA_EXCEEDED,
		 MQTT_ERR_NONE),
	MQTT_ERR(AUTH_DATA_NO_METHOD, "auth-data-without-method", PROTOCOL_ERROR,
		 MQTT_ERR_NONE),
};

static const struct mqtt_err_info *mqtt_err_info(int err)
{
	if (err < 0)
		err = -err;
	if (err < MQTT_E_BASE || err >= MQTT_E__END)
		return NULL;
	return &mqtt_errs[err - MQTT_E_BASE];
}

const char *mqtt_err_name(int err)
{
	const struct mqtt_err_info *info = mqtt_err_info(err);

	if (info)
		return info->name;
	switch (err < 0 ? -err : err) {
	case 0:
		return "ok";
	case ENOSPC:
		return "no-space";
	case EINVAL:
		return "invalid-argument";
	case EMSGSIZE:
		return "message-too-long";
	case ENOENT:
		return "not-found";
	}
	return "unknown";
}

u8 mqtt_err_reason(int err)
{
	const struct mqtt_err_info *info = mqtt_err_info(err);

	if (!err)
		return MQTT_RC_SUCCESS;
	return info ? info->reason : MQTT_RC_UNSPECIFIED;
}

int mqtt_err_connack(int err)
{
	const struct mqtt_err_info *info = mqtt_err_info(err);

	return info ? info->rc311 : MQTT_RC311_NONE;
}

/* Packet types in which each 5.0 reason code may appear (§2.4 and each packet's table). */
#define MQTT_RC_ACKS	(MQTT_T(PUBACK) | MQTT_T(PUBREC))
#define MQTT_RC_MOST	(MQTT_T(CONNACK) | MQTT_RC_ACKS | MQTT_T(SUBACK) | \
			 MQTT_T(UNSUBACK) | MQTT_T(DISCONNECT))
#define MQTT_RC_CD	(MQTT_T(CONNACK) | MQTT_T(DISCONNECT))

static const u16 mqtt_reason_types[256] = {
	[0x00] = MQTT_RC_MOST | MQTT_T(PUBREL) | MQTT_T(PUBCOMP) | MQTT_T(AUTH),
	[0x01] = MQTT_T(SUBACK),
	[0x02] = MQTT_T(SUBACK),
	[0x04] = MQTT_T(DISCONNECT),
	[0x10] = MQTT_RC_ACKS,
	[0x11] = MQTT_T(UNSUBACK),
	[0x18] = MQTT_T(AUTH),
	[0x19] = MQTT_T(AUTH),
	[0x80] = MQTT_RC_MOST,
	[0x81] = MQTT_RC_CD,
	[0x82] = MQTT_RC_CD,
	[0x83] = MQTT_RC_MOST,
	[0x84] = MQTT_T(CONNACK),
	[0x85] = MQTT_T(CONNACK),
	[0x86] = MQTT_T(CONNACK),
	[0x87] = MQTT_RC_MOST,
	[0x88] = MQTT_T(CONNACK),
	[0x89] = MQTT_RC_CD,
	[0x8a] = MQTT_T(CONNACK),
	[0x8b] = MQTT_T(DISCONNECT),
	[0x8c] = MQTT_T(CONNACK),
	[0x8d] = MQTT_T(DISCONNECT),
	[0x8e] = MQTT_T(DISCONNECT),
	[0x8f] = MQTT_T(SUBACK) | MQTT_T(UNSUBACK) | MQTT_T(DISCONNECT),
	[0x90] = MQTT_RC_CD | MQTT_RC_ACKS,
	[0x91] = MQTT_RC_ACKS | MQTT_T(SUBACK) | MQTT_T(UNSUBACK),
	[0x92] = MQTT_T(PUBREL) | MQTT_T(PUBCOMP),
	[0x93] = MQTT_T(DISCONNECT),
	[0x94] = MQTT_T(DISCONNECT),
	[0x95] = MQTT_RC_CD,
	[0x96] = MQTT_T(DISCONNECT),
	[0x97] = MQTT_RC_CD | MQTT_RC_ACKS | MQTT_T(SUBACK),
	[0x98] = MQTT_T(DISCONNECT),
	[0x99] = MQTT_RC_CD | MQTT_RC_ACKS,
	[0x9a] = MQTT_RC_CD,
	[0x9b] = MQTT_RC_CD,
	[0x9c] = MQTT_RC_CD,
	[0x9d] = MQTT_RC_CD,
	[0x9e] = MQTT_T(SUBACK) | MQTT_T(DISCONNECT),
	[0x9f] = MQTT_RC_CD,
	[0xa0] = MQTT_T(DISCONNECT),
	[0xa1] = MQTT_T(SUBACK) | MQTT_T(DISCONNECT),
	[0xa2] = MQTT_T(SUBACK) | MQTT_T(DISCONNECT),
};

bool mqtt_reason_valid(u8 type, u8 code)
{
	return type < 16 && (mqtt_reason_types[code] >> type) & 1;
}

/* ---- Variable byte integers ---- */

u8 mqtt_varint_size(u32 v)
{
	if (v < 128)
		return 1;
	if (v < 16384)
		return 2;
	if (v < 2097152)
		return 3;
	if (v <= MQTT_VARINT_MAX)
		return 4;
	return 0;
}

u8 mqtt_varint_put(u8 *p, u32 v)
{
	u8 n = 0;

	do {
		u8 b = v & 0x7f;

		v >>= 7;
		p[n++] = v ? b | 0x80 : b;
	} while (v);
	return n;
}

/* Bytes used (1..4), 0 if more are needed, -1 if a fourth byte still continues. */
static int mqtt_varint_read(const u8 *p, u32 len, u32 *v)
{
	u32 val = 0, i;

	for (i = 0; i < MQTT_VARINT_MAX_BYTES; i++) {
		if (i >= len)
			return 0;
		val |= (u32)(p[i] & 0x7f) << (7 * i);
		if (!(p[i] & 0x80)) {
			*v = val;
			return i + 1;
		}
	}
	return -1;
}

int mqtt_varint_get(const u8 *p, u32 len, bool minimal, u32 *v)
{
	int n = mqtt_varint_read(p, len, v);

	if (n < 0 || (n > 0 && minimal && n != mqtt_varint_size(*v)))
		return -MQTT_E_BAD_VARINT;
	return n;
}

/* ---- Fixed header and framing ---- */

static int mqtt_check_flags(u8 level, u8 type, u8 flags)
{
	u8 qos;

	switch (type) {
	case 0:
		return -MQTT_E_BAD_TYPE;
	case MQTT_PUBLISH:
		qos = (flags >> 1) & 3;
		if (qos == 3)
			return -MQTT_E_BAD_QOS;		/* [MQTT-3.3.1-4] */
		if ((flags & 0x8) && !qos)
			return -MQTT_E_DUP_QOS0;	/* [MQTT-3.3.1-2] */
		return 0;
	case MQTT_PUBREL:
	case MQTT_SUBSCRIBE:
	case MQTT_UNSUBSCRIBE:
		/* [MQTT-3.6.1-1], [MQTT-3.8.1-1], [MQTT-3.10.1-1]; 3.1 also allows DUP. */
		if (flags == 0x2 || (level == MQTT_LEVEL_31 && flags == 0xa))
			return 0;
		return -MQTT_E_RESERVED_FLAGS;
	case MQTT_AUTH:
		if (level != MQTT_LEVEL_5 && level != MQTT_LEVEL_UNKNOWN)
			return -MQTT_E_BAD_TYPE;
		return flags ? -MQTT_E_RESERVED_FLAGS : 0;
	default:
		return flags ? -MQTT_E_RESERVED_FLAGS : 0;
	}
}

int mqtt_fixed_header(const u8 *buf, u32 len, u8 level, u32 max_packet,
		      struct mqtt_fixed_header *fh)
{
	u32 remlen;
	int n, err;

	if (!len)
		return 0;
	err = mqtt_check_flags(level, buf[0] >> 4, buf[0] & 0xf);
	if (err)
		return err;
	n = mqtt_varint_read(buf + 1, len - 1, &remlen);
	if (n < 0)
		return -MQTT_E_REMLEN_TOO_LONG;
	if (!n)
		return 0;
	fh->type = buf[0] >> 4;
	fh->flags = buf[0] & 0xf;
	fh->hdr_len = 1 + n;
	fh->remlen = remlen;
	if (level == MQTT_LEVEL_5 && n != mqtt_varint_size(remlen))
		return -MQTT_E_REMLEN_NOT_MINIMAL;
	if (!max_packet)
		max_packet = MQTT_MAX_PACKET_SIZE;
	if (max_packet < fh->hdr_len || remlen > max_packet - fh->hdr_len)
		return -MQTT_E_PACKET_TOO_LARGE;
	return fh->hdr_len;
}

void mqtt_framer_init(struct mqtt_framer *f, u8 *buf, u32 cap, u8 level, u32 max_packet)
{
	memset(f, 0, sizeof(*f));
	f->buf = buf;
	f->cap = cap;
	f->max_packet = max_packet && max_packet < cap ? max_packet : cap;
	f->level = level;
}

void mqtt_framer_set_level(struct mqtt_framer *f, u8 level)
{
	f->level = level;
}

int mqtt_framer_feed(struct mqtt_framer *f, const u8 *data, u32 len, u32 *consumed)
{
	u32 used = 0, take;
	int n;

	*consumed = 0;
	if (f->err)
		return f->err;
	if (f->ready) {
		f->ready = false;
		f->have = 0;
		f->total = 0;
	}
	/* The header a byte at a time: its length is known only at its last byte. */
	while (!f->total) {
		if (used == len) {
			*consumed = used;
			return 0;
		}
		if (f->have >= f->cap) {
			f->err = -MQTT_E_PACKET_TOO_LARGE;
			*consumed = used;
			return f->err;
		}
		f->buf[f->have++] = data[used++];
		n = mqtt_fixed_header(f->buf, f->have, f->level, f->max_packet, &f->fh);
		if (n < 0) {
			f->err = n;
			*consumed = used;
			return n;
		}
		if (n)
			f->total = n + f->fh.remlen;
	}
	take = f->total - f->have;
	if (take > len - used)
		take = len - used;
	memcpy(f->buf + f->have, data + used, take);
	f->have += take;
	*consumed = used + take;
	if (f->have < f->total)
		return 0;
	f->ready = true;
	return 1;
}

const u8 *mqtt_framer_packet(const struct mqtt_framer *f, const struct mqtt_fixed_header **fh)
{
	if (!f->ready)
		return NULL;
	if (fh)
		*fh = &f->fh;
	return f->buf;
}

/* ---- Reading fields ---- */

struct mqtt_rd {
	const u8 *p;
	const u8 *end;
};

/* @len bytes from @p, which may be NULL when @len is 0 (no arithmetic on NULL). */
static void mqtt_rd_init(struct mqtt_rd *r, const u8 *p, u32 len)
{
	r->p = p;
	r->end = len ? p + len : p;
}

static u32 mqtt_rd_left(const struct mqtt_rd *r)
{
	return r->end - r->p;
}

static int mqtt_rd_u8(struct mqtt_rd *r, u8 *v)
{
	if (r->p >= r->end)
		return -MQTT_E_TRUNCATED;
	*v = *r->p++;
	return 0;
}

static int mqtt_rd_u16(struct mqtt_rd *r, u16 *v)
{
	if (mqtt_rd_left(r) < 2)
		return -MQTT_E_TRUNCATED;
	*v = get_unaligned_be16(r->p);
	r->p += 2;
	return 0;
}

/* A packet identifier, which is never 0 where one is present [MQTT-2.3.1-1]. */
static int mqtt_rd_packet_id(struct mqtt_rd *r, u16 *v)
{
	int err = mqtt_rd_u16(r, v);

	if (!err && !*v)
		return -MQTT_E_ZERO_PACKET_ID;
	return err;
}

/* Two-byte length and that many bytes. */
static int mqtt_rd_bin(struct mqtt_rd *r, struct mqtt_bin *b)
{
	int err = mqtt_rd_u16(r, &b->len);

	if (err)
		return err;
	if (mqtt_rd_left(r) < b->len)
		return -MQTT_E_TRUNCATED;
	b->p = r->p;
	r->p += b->len;
	return 0;
}

/* The same, not yet validated as UTF-8 (topics, protocol name). */
static int mqtt_rd_raw_str(struct mqtt_rd *r, struct mqtt_str *s)
{
	struct mqtt_bin b;
	int err = mqtt_rd_bin(r, &b);

	if (err)
		return err;
	s->s = (const char *)b.p;
	s->len = b.len;
	return 0;
}

static int mqtt_rd_str(struct mqtt_rd *r, struct mqtt_str *s)
{
	int err = mqtt_rd_raw_str(r, s);

	if (err)
		return err;
	return mqtt_utf8_valid(s->s, s->len) ? -MQTT_E_BAD_UTF8 : 0;
}

/* enum topic_err from the topic validators to ours. */
static int mqtt_topic_err(int terr, bool filter)
{
	if (!terr)
		return 0;
	if (topic_err_is_utf8(terr))
		return -MQTT_E_BAD_UTF8;
	if (terr == TOPIC_E_TOO_LONG || terr == TOPIC_E_TOO_DEEP)
		return -MQTT_E_TOPIC_LIMIT;
	return filter ? -MQTT_E_BAD_TOPIC_FILTER : -MQTT_E_BAD_TOPIC;
}

static int mqtt_topic_name(const struct mqtt_str *t, const struct mqtt_limits *lim)
{
	return mqtt_topic_err(topic_name_valid(t->s, t->len, &lim->topic), false);
}

/* ---- 5.0 properties ---- */

struct mqtt_prop_info {
	u8 type;		/* enum mqtt_prop_type */
	u16 where;		/* packet types (bit MQTT_PROPS_WILL: will properties) */
};

#define MQTT_P_PUB	(MQTT_T(PUBLISH) | MQTT_T_WILL)
#define MQTT_P_REASON	(MQTT_T(CONNACK) | MQTT_T(PUBACK) | MQTT_T(PUBREC) | MQTT_T(PUBREL) | \
			 MQTT_T(PUBCOMP) | MQTT_T(SUBACK) | MQTT_T(UNSUBACK) |		\
			 MQTT_T(DISCONNECT) | MQTT_T(AUTH))
#define MQTT_P_AUTH	(MQTT_T(CONNECT) | MQTT_T(CONNACK) | MQTT_T(AUTH))
#define MQTT_P_CC	(MQTT_T(CONNECT) | MQTT_T(CONNACK))
#define MQTT_P_ALL	(0xfffe | MQTT_T_WILL)

/* §2.2.2.2: type and packets of every property. */
static const struct mqtt_prop_info mqtt_prop_infos[MQTT_PROP__MAX + 1] = {
	[MQTT_PROP_PAYLOAD_FORMAT] = { MQTT_PT_BYTE, MQTT_P_PUB },
	[MQTT_PROP_MESSAGE_EXPIRY] = { MQTT_PT_U32, MQTT_P_PUB },
	[MQTT_PROP_CONTENT_TYPE] = { MQTT_PT_STRING, MQTT_P_PUB },
	[MQTT_PROP_RESPONSE_TOPIC] = { MQTT_PT_STRING, MQTT_P_PUB },
	[MQTT_PROP_CORRELATION_DATA] = { MQTT_PT_BINARY, MQTT_P_PUB },
	[MQTT_PROP_SUB_ID] = { MQTT_PT_VARINT, MQTT_T(PUBLISH) | MQTT_T(SUBSCRIBE) },
	[MQTT_PROP_SESSION_EXPIRY] = { MQTT_PT_U32, MQTT_P_CC | MQTT_T(DISCONNECT) },
	[MQTT_PROP_ASSIGNED_CLIENT_ID] = { MQTT_PT_STRING, MQTT_T(CONNACK) },
	[MQTT_PROP_SERVER_KEEP_ALIVE] = { MQTT_PT_U16, MQTT_T(CONNACK) },
	[MQTT_PROP_AUTH_METHOD] = { MQTT_PT_STRING, MQTT_P_AUTH },
	[MQTT_PROP_AUTH_DATA] = { MQTT_PT_BINARY, MQTT_P_AUTH },
	[MQTT_PROP_REQUEST_PROBLEM_INFO] = { MQTT_PT_BYTE, MQTT_T(CONNECT) },
	[MQTT_PROP_WILL_DELAY] = { MQTT_PT_U32, MQTT_T_WILL },
	[MQTT_PROP_REQUEST_RESPONSE_INFO] = { MQTT_PT_BYTE, MQTT_T(CONNECT) },
	[MQTT_PROP_RESPONSE_INFO] = { MQTT_PT_STRING, MQTT_T(CONNACK) },
	[MQTT_PROP_SERVER_REFERENCE] = { MQTT_PT_STRING, MQTT_T(CONNACK) | MQTT_T(DISCONNECT) },
	[MQTT_PROP_REASON_STRING] = { MQTT_PT_STRING, MQTT_P_REASON },
	[MQTT_PROP_RECEIVE_MAX] = { MQTT_PT_U16, MQTT_P_CC },
	[MQTT_PROP_TOPIC_ALIAS_MAX] = { MQTT_PT_U16, MQTT_P_CC },
	[MQTT_PROP_TOPIC_ALIAS] = { MQTT_PT_U16, MQTT_T(PUBLISH) },
	[MQTT_PROP_MAX_QOS] = { MQTT_PT_BYTE, MQTT_T(CONNACK) },
	[MQTT_PROP_RETAIN_AVAILABLE] = { MQTT_PT_BYTE, MQTT_T(CONNACK) },
	[MQTT_PROP_USER] = { MQTT_PT_PAIR, MQTT_P_ALL },
	[MQTT_PROP_MAX_PACKET_SIZE] = { MQTT_PT_U32, MQTT_P_CC },
	[MQTT_PROP_WILDCARD_SUB_AVAILABLE] = { MQTT_PT_BYTE, MQTT_T(CONNACK) },
	[MQTT_PROP_SUB_ID_AVAILABLE] = { MQTT_PT_BYTE, MQTT_T(CONNACK) },
	[MQTT_PROP_SHARED_SUB_AVAILABLE] = { MQTT_PT_BYTE, MQTT_T(CONNACK) },
};

u8 mqtt_prop_type(u8 id)
{
	return id <= MQTT_PROP__MAX ? mqtt_prop_infos[id].type : MQTT_PT_NONE;
}

/*
 * One property's identifier and value, bounds-checked but not otherwise validated.
 * Errors: -MQTT_E_BAD_PROPERTY (unknown identifier), -MQTT_E_BAD_VARINT,
 * -MQTT_E_PROPERTY_LENGTH (the value runs past the block).
 */
static int mqtt_prop_read(struct mqtt_rd *r, struct mqtt_prop *prop)
{
	u32 id;
	int n, err = 0;

	n = mqtt_varint_get(r->p, mqtt_rd_left(r), true, &id);
	if (n <= 0)
		return n ? n : -MQTT_E_PROPERTY_LENGTH;
	r->p += n;
	if (id > MQTT_PROP__MAX || !mqtt_prop_infos[id].type)
		return -MQTT_E_BAD_PROPERTY;
	prop->id = id;
	prop->type = mqtt_prop_infos[id].type;
	switch (prop->type) {
	case MQTT_PT_BYTE:
		if (mqtt_rd_left(r) < 1)
			return -MQTT_E_PROPERTY_LENGTH;
		prop->val = *r->p++;
		return 0;
	case MQTT_PT_U16:
		if (mqtt_rd_left(r) < 2)
			return -MQTT_E_PROPERTY_LENGTH;
		prop->val = get_unaligned_be16(r->p);
		r->p += 2;
		return 0;
	case MQTT_PT_U32:
		if (mqtt_rd_left(r) < 4)
			return -MQTT_E_PROPERTY_LENGTH;
		prop->val = get_unaligned_be32(r->p);
		r->p += 4;
		return 0;
	case MQTT_PT_VARINT:
		n = mqtt_varint_get(r->p, mqtt_rd_left(r), true, &prop->val);
		if (n <= 0)
			return n ? n : -MQTT_E_PROPERTY_LENGTH;
		r->p += n;
		return 0;
	case MQTT_PT_BINARY:
		err = mqtt_rd_bin(r, &prop->bin);
		break;
	case MQTT_PT_PAIR:
		err = mqtt_rd_raw_str(r, &prop->str);
		if (!err)
			err = mqtt_rd_raw_str(r, &prop->str2);
		break;
	default:
		err = mqtt_rd_raw_str(r, &prop->str);
		break;
	}
	return err ? -MQTT_E_PROPERTY_LENGTH : 0;
}

/* Range and content of one property's value. */
static int mqtt_prop_check(const struct mqtt_prop *prop, const struct mqtt_limits *lim)
{
	switch (prop->id) {
	case MQTT_PROP_PAYLOAD_FORMAT:
	case MQTT_PROP_REQUEST_PROBLEM_INFO:
	case MQTT_PROP_REQUEST_RESPONSE_INFO:
	case MQTT_PROP_MAX_QOS:
	case MQTT_PROP_RETAIN_AVAILABLE:
	case MQTT_PROP_WILDCARD_SUB_AVAILABLE:
	case MQTT_PROP_SUB_ID_AVAILABLE:
	case MQTT_PROP_SHARED_SUB_AVAILABLE:
		return prop->val > 1 ? -MQTT_E_PROPERTY_VALUE : 0;
	case MQTT_PROP_RECEIVE_MAX:		/* [MQTT-3.1.2-?]: 0 is a Protocol Error */
	case MQTT_PROP_MAX_PACKET_SIZE:
	case MQTT_PROP_SUB_ID:			/* 1..268435455 */
		return prop->val ? 0 : -MQTT_E_PROPERTY_VALUE;
	case MQTT_PROP_TOPIC_ALIAS:
		return prop->val ? 0 : -MQTT_E_TOPIC_ALIAS;
	case MQTT_PROP_RESPONSE_TOPIC:		/* a topic name [MQTT-3.3.2-14] */
		return mqtt_topic_name(&prop->str, lim);
	case MQTT_PROP_USER:
		if (mqtt_utf8_valid(prop->str.s, prop->str.len) ||
		    mqtt_utf8_valid(prop->str2.s, prop->str2.len))
			return -MQTT_E_BAD_UTF8;
		return 0;
	default:
		if (prop->type == MQTT_PT_STRING)
			return mqtt_utf8_valid(prop->str.s, prop->str.len) ? -MQTT_E_BAD_UTF8 : 0;
		return 0;
	}
}

int mqtt_props_parse(u8 type, const u8 *p, u32 len, const struct mqtt_limits *lim,
		     struct mqtt_props *out)
{
	struct mqtt_prop prop;
	struct mqtt_rd r;
	int err;

	if (!lim)
		lim = &mqtt_default_limits;
	memset(out, 0, sizeof(*out));
	if (type > MQTT_AUTH)
		return -EINVAL;
	mqtt_rd_init(&r, p, len);
	out->p = p;
	out->len = len;
	while (r.p < r.end) {
		u64 bit;

		err = mqtt_prop_read(&r, &prop);
		if (err)
			return err;
		if (!((mqtt_prop_infos[prop.id].where >> type) & 1))
			return -MQTT_E_PROPERTY_NOT_ALLOWED;
		bit = 1ULL << prop.id;
		if (prop.id == MQTT_PROP_USER) {
			if (++out->n_user > lim->max_user_props)
				return -MQTT_E_TOO_MANY_USER_PROPS;
		} else if (prop.id == MQTT_PROP_SUB_ID && type == MQTT_PUBLISH) {
			/* One per matching subscription in a PUBLISH [MQTT-3.3.4-4]. */
			out->n_sub_id++;
		} else if (out->present & bit) {
			return -MQTT_E_DUP_PROPERTY;
		} else if (prop.id == MQTT_PROP_SUB_ID) {
			out->n_sub_id++;
		}
		out->present |= bit;
		if (++out->count > lim->max_props)
			return -MQTT_E_TOO_MANY_PROPS;
		err = mqtt_prop_check(&prop, lim);
		if (err)
			return err;
	}
	/* [MQTT-3.1.2-?] / §3.15.2.2: authentication data needs its method. */
	if ((type == MQTT_CONNECT || type == MQTT_AUTH) &&
	    mqtt_props_has(out, MQTT_PROP_AUTH_DATA) && !mqtt_props_has(out, MQTT_PROP_AUTH_METHOD))
		return -MQTT_E_AUTH_DATA_NO_METHOD;
	return 0;
}

/* A property block with its length prefix, inside a packet. */
static int mqtt_rd_props(struct mqtt_rd *r, u8 type, const struct mqtt_limits *lim,
			 struct mqtt_props *out)
{
	u32 len;
	int n, err;

	n = mqtt_varint_get(r->p, mqtt_rd_left(r), true, &len);
	if (n <= 0)
		return n ? n : -MQTT_E_TRUNCATED;
	r->p += n;
	if (len > mqtt_rd_left(r))
		return -MQTT_E_PROPERTY_LENGTH;
	err = mqtt_props_parse(type, r->p, len, lim, out);
	r->p += len;
	return err;
}

void mqtt_prop_iter_init(struct mqtt_iter *it, const struct mqtt_props *pr)
{
	it->p = pr->p;
	it->end = pr->len ? pr->p + pr->len : pr->p;
}

int mqtt_prop_next(struct mqtt_iter *it, struct mqtt_prop *prop)
{
	struct mqtt_rd r = { it->p, it->end };
	int err;

	if (!it->p || it->p >= it->end)
		return 0;
	memset(prop, 0, sizeof(*prop));
	err = mqtt_prop_read(&r, prop);
	if (err) {
		it->p = it->end;
		return err;
	}
	it->p = r.p;
	return 1;
}

static int mqtt_prop_find(const struct mqtt_props *pr, u8 id, struct mqtt_prop *prop)
{
	struct mqtt_iter it;

	if (!mqtt_props_has(pr, id))
		return -ENOENT;
	mqtt_prop_iter_init(&it, pr);
	while (mqtt_prop_next(&it, prop) > 0)
		if (prop->id == id)
			return 0;
	return -ENOENT;
}

int mqtt_prop_get_int(const struct mqtt_props *pr, u8 id, u32 *val)
{
	struct mqtt_prop prop;
	int err = mqtt_prop_find(pr, id, &prop);

	if (!err)
		*val = prop.val;
	return err;
}

int mqtt_prop_get_str(const struct mqtt_props *pr, u8 id, struct mqtt_str *val)
{
	struct mqtt_prop prop;
	int err = mqtt_prop_find(pr, id, &prop);

	if (!err)
		*val = prop.str;
	return err;
}

int mqtt_prop_get_bin(const struct mqtt_props *pr, u8 id, struct mqtt_bin *val)
{
	struct mqtt_prop prop;
	int err = mqtt_prop_find(pr, id, &prop);

	if (!err)
		*val = prop.bin;
	return err;
}

/* ---- Decoding packets ---- */

static const char mqtt_name_mqtt[] = "MQTT";
static const char mqtt_name_mqisdp[] = "MQIsdp";

static bool mqtt_str_is(const struct mqtt_str *s, const char *lit, u16 len)
{
	return s->len == len && !memcmp(s->s, lit, len);
}

static int mqtt_decode_will(struct mqtt_rd *r, const struct mqtt_limits *lim,
			    struct mqtt_connect *c)
{
	int err;

	if (c->level == MQTT_LEVEL_5) {
		err = mqtt_rd_props(r, MQTT_PROPS_WILL, lim, &c->will_props);
		if (err)
			return err;
	}
	err = mqtt_rd_raw_str(r, &c->will_topic);
	if (err)
		return err;
	err = mqtt_topic_name(&c->will_topic, lim);
	if (err)
		return err;
	return mqtt_rd_bin(r, &c->will_payload);
}

static int mqtt_decode_connect(const struct mqtt_fixed_header *fh, struct mqtt_rd *r,
			       const struct mqtt_limits *lim, struct mqtt_connect *c)
{
	struct mqtt_str name;
	u8 flags;
	int err;

	err = mqtt_rd_raw_str(r, &name);
	if (err)
		return err;
	err = mqtt_rd_u8(r, &c->level);
	if (err)
		return err;
	/* [MQTT-3.1.2-1], [MQTT-3.1.2-2]: the name must match the level. */
	if (mqtt_str_is(&name, mqtt_name_mqtt, sizeof(mqtt_name_mqtt) - 1)) {
		if (c->level != MQTT_LEVEL_311 && c->level != MQTT_LEVEL_5)
			return -MQTT_E_BAD_LEVEL;
	} else if (mqtt_str_is(&name, mqtt_name_mqisdp, sizeof(mqtt_name_mqisdp) - 1)) {
		if (c->level != MQTT_LEVEL_31)
			return -MQTT_E_BAD_LEVEL;
	} else {
		return -MQTT_E_BAD_PROTOCOL;
	}
	if (c->level == MQTT_LEVEL_5 && fh->hdr_len != 1 + mqtt_varint_size(fh->remlen))
		return -MQTT_E_REMLEN_NOT_MINIMAL;

	err = mqtt_rd_u8(r, &flags);
	if (err)
		return err;
	if (flags & 0x01)
		return -MQTT_E_CONNECT_RESERVED;	/* [MQTT-3.1.2-3] */
	c->clean_start = flags & 0x02;
	c->will = flags & 0x04;
	c->will_qos = (flags >> 3) & 3;
	c->will_retain = flags & 0x20;
	c->has_password = flags & 0x40;
	c->has_username = flags & 0x80;
	if (!c->will && (c->will_qos || c->will_retain))
		return -MQTT_E_WILL_FLAGS;		/* [MQTT-3.1.2-11], [MQTT-3.1.2-13] */
	if (c->will_qos == 3)
		return -MQTT_E_BAD_QOS;			/* [MQTT-3.1.2-12] */
	if (c->has_password && !c->has_username && c->level != MQTT_LEVEL_5)
		return -MQTT_E_PASSWORD_NO_USER;	/* 3.1.1 [MQTT-3.1.2-22] */
	err = mqtt_rd_u16(r, &c->keep_alive);
	if (err)
		return err;
	if (c->level == MQTT_LEVEL_5) {
		err = mqtt_rd_props(r, MQTT_CONNECT, lim, &c->props);
		if (err)
			return err;
	}

	err = mqtt_rd_str(r, &c->client_id);
	if (err)
		return err;
	if (c->client_id.len > lim->max_client_id_len ||
	    (c->level == MQTT_LEVEL_31 &&
	     (!c->client_id.len || c->client_id.len > MQTT_31_MAX_CLIENT_ID)))
		return -MQTT_E_CLIENT_ID;
	if (c->will) {
		err = mqtt_decode_will(r, lim, c);
		if (err)
			return err;
	}
	if (c->has_username) {
		err = mqtt_rd_str(r, &c->username);
		if (err)
			return err;
	}
	if (c->has_password) {
		err = mqtt_rd_bin(r, &c->password);
		if (err)
			return err;
	}
	return 0;
}

static int mqtt_decode_connack(u8 level, struct mqtt_rd *r, const struct mqtt_limits *lim,
			       struct mqtt_connack *c)
{
	u8 flags;
	int err;

	err = mqtt_rd_u8(r, &flags);
	if (!err)
		err = mqtt_rd_u8(r, &c->reason);
	if (err)
		return err;
	if (flags & 0xfe)
		return -MQTT_E_CONNACK_FLAGS;		/* [MQTT-3.2.2-1] */
	c->session_present = flags & 1;
	if (level != MQTT_LEVEL_5) {
		if (c->reason > MQTT_RC311_NOT_AUTHORIZED)
			return -MQTT_E_BAD_REASON;
		/* [MQTT-3.2.2-4] */
		return c->session_present && c->reason ? -MQTT_E_CONNACK_FLAGS : 0;
	}
	if (!mqtt_reason_valid(MQTT_CONNACK, c->reason))
		return -MQTT_E_BAD_REASON;
	if (c->session_present && c->reason)
		return -MQTT_E_CONNACK_FLAGS;		/* [MQTT-3.2.2-6] */
	return mqtt_rd_props(r, MQTT_CONNACK, lim, &c->props);
}

static int mqtt_decode_publish(u8 level, u8 flags, struct mqtt_rd *r,
			       const struct mqtt_limits *lim, struct mqtt_publish *p)
{
	int err;

	p->dup = flags & 0x8;
	p->qos = (flags >> 1) & 3;
	p->retain = flags & 1;
	err = mqtt_rd_raw_str(r, &p->topic);
	if (err)
		return err;
	if (p->qos) {
		err = mqtt_rd_packet_id(r, &p->packet_id);
		if (err)
			return err;
	}
	if (level == MQTT_LEVEL_5) {
		err = mqtt_rd_props(r, MQTT_PUBLISH, lim, &p->props);
		if (err)
			return err;
		/* An empty name takes the topic from its alias (§3.3.2.1). */
		if (!p->topic.len && !mqtt_props_has(&p->props, MQTT_PROP_TOPIC_ALIAS))
			return -MQTT_E_EMPTY_TOPIC;
	}
	if (p->topic.len || level != MQTT_LEVEL_5) {
		err = mqtt_topic_name(&p->topic, lim);
		if (err)
			return err;
	}
	p->payload = r->p;
	p->payload_len = mqtt_rd_left(r);
	r->p = r->end;
	return 0;
}

/* PUBACK, PUBREC, PUBREL, PUBCOMP. */
static int mqtt_decode_ack(u8 level, u8 type, struct mqtt_rd *r, const struct mqtt_limits *lim,
			   struct mqtt_ack *a)
{
	int err = mqtt_rd_packet_id(r, &a->packet_id);

	if (err || level != MQTT_LEVEL_5)
		return err;
	/* 5.0: reason code and properties may be omitted (§3.4.2.1). */
	if (!mqtt_rd_left(r))
		return 0;
	mqtt_rd_u8(r, &a->reason);
	if (!mqtt_reason_valid(type, a->reason))
		return -MQTT_E_BAD_REASON;
	if (!mqtt_rd_left(r))
		return 0;
	return mqtt_rd_props(r, type, lim, &a->props);
}

/* One SUBSCRIBE entry's options (§3.8.3.1). */
static int mqtt_sub_options(u8 level, u8 opts, const struct mqtt_str *filter,
			    const struct mqtt_limits *lim)
{
	const char *group, *inner;
	u16 group_len, inner_len;

	if (opts & (level == MQTT_LEVEL_5 ? 0xc0 : 0xfc))
		return -MQTT_E_SUB_OPTIONS;		/* [MQTT-3.8.3-4], 5.0 [MQTT-3.8.3-5] */
	if ((opts & 3) == 3)
		return -MQTT_E_BAD_QOS;
	if (((opts >> 4) & 3) == 3)
		return -MQTT_E_RETAIN_HANDLING;
	/* 5.0 [MQTT-3.8.3-4]: no local on a shared subscription. */
	if ((opts & 0x04) && (lim->topic.flags & TOPIC_LIM_SHARED) &&
	    topic_share_split(filter->s, filter->len, &group, &group_len, &inner, &inner_len))
		return -MQTT_E_SHARED_NO_LOCAL;
	return 0;
}

static int mqtt_decode_subscribe(u8 level, struct mqtt_rd *r, const struct mqtt_limits *lim,
				 struct mqtt_subscribe *s)
{
	int err = mqtt_rd_packet_id(r, &s->packet_id);

	if (!err && level == MQTT_LEVEL_5)
		err = mqtt_rd_props(r, MQTT_SUBSCRIBE, lim, &s->props);
	if (err)
		return err;
	s->list = r->p;
	s->list_len = mqtt_rd_left(r);
	while (mqtt_rd_left(r)) {
		struct mqtt_str filter;
		u8 opts;

		if (++s->count > lim->max_subs)
			return -MQTT_E_TOO_MANY_TOPICS;
		err = mqtt_rd_raw_str(r, &filter);
		if (!err)
			err = mqtt_rd_u8(r, &opts);
		if (err)
			return err;
		err = mqtt_topic_err(topic_filter_valid(filter.s, filter.len, &lim->topic), true);
		if (!err)
			err = mqtt_sub_options(level, opts, &filter, lim);
		if (err)
			return err;
	}
	return s->count ? 0 : -MQTT_E_NO_TOPICS;	/* [MQTT-3.8.3-3] */
}

static int mqtt_decode_unsubscribe(u8 level, struct mqtt_rd *r,
				   const struct mqtt_limits *lim, struct mqtt_unsubscribe *u)
{
	int err = mqtt_rd_packet_id(r, &u->packet_id);

	if (!err && level == MQTT_LEVEL_5)
		err = mqtt_rd_props(r, MQTT_UNSUBSCRIBE, lim, &u->props);
	if (err)
		return err;
	u->list = r->p;
	u->list_len = mqtt_rd_left(r);
	while (mqtt_rd_left(r)) {
		struct mqtt_str filter;

		if (++u->count > lim->max_subs)
			return -MQTT_E_TOO_MANY_TOPICS;
		err = mqtt_rd_raw_str(r, &filter);
		if (err)
			return err;
		err = mqtt_topic_err(topic_filter_valid(filter.s, filter.len, &lim->topic), true);
		if (err)
			return err;
	}
	return u->count ? 0 : -MQTT_E_NO_TOPICS;	/* [MQTT-3.10.3-2] */
}

/* SUBACK, and UNSUBACK (codes only in 5.0). */
static int mqtt_decode_suback(u8 level, u8 type, struct mqtt_rd *r,
			      const struct mqtt_limits *lim, struct mqtt_suback *s)
{
	u32 i;
	int err = mqtt_rd_packet_id(r, &s->packet_id);

	if (!err && level == MQTT_LEVEL_5)
		err = mqtt_rd_props(r, type, lim, &s->props);
	if (err)
		return err;
	if (type == MQTT_UNSUBACK && level != MQTT_LEVEL_5)
		return 0;
	s->codes = r->p;
	s->count = mqtt_rd_left(r);
	r->p = r->end;
	if (!s->count)
		return -MQTT_E_NO_TOPICS;
	for (i = 0; i < s->count; i++) {
		u8 c = s->codes[i];

		if (level == MQTT_LEVEL_5 ? !mqtt_reason_valid(type, c) :
		    c > 2 && c != MQTT_RC311_SUBACK_FAILURE)
			return -MQTT_E_BAD_REASON;
	}
	return 0;
}

/* DISCONNECT and AUTH: 5.0 reason code and properties, both optional. */
static int mqtt_decode_reason(u8 type, struct mqtt_rd *r, const struct mqtt_limits *lim,
			      u8 *reason, struct mqtt_props *props)
{
	if (!mqtt_rd_left(r))
		return 0;
	mqtt_rd_u8(r, reason);
	if (!mqtt_reason_valid(type, *reason))
		return -MQTT_E_BAD_REASON;
	/* DISCONNECT may stop after its reason code (§3.14.2.2.1), AUTH may not. */
	if (!mqtt_rd_left(r) && type == MQTT_DISCONNECT)
		return 0;
	return mqtt_rd_props(r, type, lim, props);
}

int mqtt_decode(u8 level, const struct mqtt_fixed_header *fh, const u8 *body,
		const struct mqtt_limits *lim, struct mqtt_packet *pkt)
{
	struct mqtt_rd r;
	int err;

	if (!lim)
		lim = &mqtt_default_limits;
	memset(pkt, 0, sizeof(*pkt));
	pkt->type = fh->type;
	mqtt_rd_init(&r, body, fh->remlen);
	err = mqtt_check_flags(level, fh->type, fh->flags);
	if (err)
		return err;
	if (lim->max_packet_size && (u64)fh->hdr_len + fh->remlen > lim->max_packet_size)
		return -MQTT_E_PACKET_TOO_LARGE;
	if (fh->type == MQTT_CONNECT) {
		err = mqtt_decode_connect(fh, &r, lim, &pkt->connect);
		goto out;
	}
	if (level == MQTT_LEVEL_UNKNOWN)
		return -MQTT_E_NOT_CONNECT;
	if (level != MQTT_LEVEL_31 && level != MQTT_LEVEL_311 && level != MQTT_LEVEL_5)
		return -MQTT_E_BAD_LEVEL;
	if (level == MQTT_LEVEL_5 && fh->hdr_len != 1 + mqtt_varint_size(fh->remlen))
		return -MQTT_E_REMLEN_NOT_MINIMAL;

	switch (fh->type) {
	case MQTT_CONNACK:
		err = mqtt_decode_connack(level, &r, lim, &pkt->connack);
		break;
	case MQTT_PUBLISH:
		err = mqtt_decode_publish(level, fh->flags, &r, lim, &pkt->publish);
		break;
	case MQTT_PUBACK:
	case MQTT_PUBREC:
	case MQTT_PUBREL:
	case MQTT_PUBCOMP:
		err = mqtt_decode_ack(level, fh->type, &r, lim, &pkt->ack);
		break;
	case MQTT_SUBSCRIBE:
		err = mqtt_decode_subscribe(level, &r, lim, &pkt->subscribe);
		break;
	case MQTT_SUBACK:
	case MQTT_UNSUBACK:
		err = mqtt_decode_suback(level, fh->type, &r, lim, &pkt->suback);
		break;
	case MQTT_UNSUBSCRIBE:
		err = mqtt_decode_unsubscribe(level, &r, lim, &pkt->unsubscribe);
		break;
	case MQTT_DISCONNECT:
		if (level == MQTT_LEVEL_5)
			err = mqtt_decode_reason(MQTT_DISCONNECT, &r, lim,
						 &pkt->disconnect.reason, &pkt->disconnect.props);
		break;
	case MQTT_AUTH:
		err = mqtt_decode_reason(MQTT_AUTH, &r, lim, &pkt->auth.reason, &pkt->auth.props);
		break;
	default:		/* PINGREQ, PINGRESP: no body */
		break;
	}
out:
	if (!err && r.p != r.end)
		err = -MQTT_E_TRAILING;
	return err;
}

int mqtt_decode_buf(u8 level, const u8 *buf, u32 len, const struct mqtt_limits *lim,
		    struct mqtt_packet *pkt)
{
	struct mqtt_fixed_header fh;
	int n, err;

	if (!lim)
		lim = &mqtt_default_limits;
	n = mqtt_fixed_header(buf, len, level, lim->max_packet_size, &fh);
	if (n <= 0)
		return n;
	if (len - n < fh.remlen)
		return 0;
	err = mqtt_decode(level, &fh, buf + n, lim, pkt);
	return err ? err : n + (int)fh.remlen;
}

void mqtt_sub_iter_init(struct mqtt_iter *it, const struct mqtt_subscribe *s)
{
	it->p = s->list;
	it->end = s->list_len ? s->list + s->list_len : s->list;
}

bool mqtt_sub_next(struct mqtt_iter *it, struct mqtt_sub_entry *e)
{
	struct mqtt_rd r = { it->p, it->end };
	u8 opts;

	if (!it->p || mqtt_rd_raw_str(&r, &e->filter) || mqtt_rd_u8(&r, &opts)) {
		it->p = it->end;
		return false;
	}
	it->p = r.p;
	e->qos = opts & 3;
	e->no_local = opts & 0x04;
	e->retain_as_published = opts & 0x08;
	e->retain_handling = (opts >> 4) & 3;
	return true;
}

void mqtt_unsub_iter_init(struct mqtt_iter *it, const struct mqtt_unsubscribe *u)
{
	it->p = u->list;
	it->end = u->list_len ? u->list + u->list_len : u->list;
}

bool mqtt_unsub_next(struct mqtt_iter *it, struct mqtt_str *filter)
{
	struct mqtt_rd r = { it->p, it->end };

	if (!it->p || mqtt_rd_raw_str(&r, filter)) {
		it->p = it->end;
		return false;
	}
	it->p = r.p;
	return true;
}

/* ---- Property builder ---- */

void mqtt_pb_init(struct mqtt_prop_builder *b, u8 *buf, u32 cap)
{
	memset(b, 0, sizeof(*b));
	b->buf = buf;
	b->cap = cap;
}

/* Room for @need more bytes after checking that @id has @type. */
static u8 *mqtt_pb_reserve(struct mqtt_prop_builder *b, u8 id, u8 type, u32 need)
{
	u8 *p;

	if (b->err)
		return NULL;
	if (mqtt_prop_type(id) != type) {
		b->err = -EINVAL;
		return NULL;
	}
	if (need + 1 > b->cap - b->len) {
		b->err = -ENOSPC;
		return NULL;
	}
	p = b->buf + b->len;
	*p++ = id;		/* identifiers are < 128: one varint byte */
	b->len += need + 1;
	b->present |= 1ULL << id;
	b->count++;
	if (id == MQTT_PROP_USER)
		b->n_user++;
	if (id == MQTT_PROP_SUB_ID)
		b->n_sub_id++;
	return p;
}

void mqtt_pb_int(struct mqtt_prop_builder *b, u8 id, u32 val)
{
	u8 type = mqtt_prop_type(id);
	u32 need;
	u8 *p;

	switch (type) {
	case MQTT_PT_BYTE:
		need = val > 0xff ? 0 : 1;
		break;
	case MQTT_PT_U16:
		need = val > 0xffff ? 0 : 2;
		break;
	case MQTT_PT_U32:
		need = 4;
		break;
	case MQTT_PT_VARINT:
		need = mqtt_varint_size(val);
		break;
	default:
		need = 0;
		break;
	}
	if (!need) {
		if (!b->err)
			b->err = -EINVAL;
		return;
	}
	p = mqtt_pb_reserve(b, id, type, need);
	if (!p)
		return;
	if (type == MQTT_PT_BYTE)
		*p = val;
	else if (type == MQTT_PT_U16)
		put_unaligned_be16(val, p);
	else if (type == MQTT_PT_U32)
		put_unaligned_be32(val, p);
	else
		mqtt_varint_put(p, val);
}

static u8 *mqtt_put_bytes(u8 *p, const void *s, u16 len)
{
	put_unaligned_be16(len, p);
	if (len)
		memcpy(p + 2, s, len);
	return p + 2 + len;
}

void mqtt_pb_str(struct mqtt_prop_builder *b, u8 id, const char *s, u16 len)
{
	u8 *p = mqtt_pb_reserve(b, id, MQTT_PT_STRING, 2 + (u32)len);

	if (p)
		mqtt_put_bytes(p, s, len);
}

void mqtt_pb_bin(struct mqtt_prop_builder *b, u8 id, const u8 *data, u16 len)
{
	u8 *p = mqtt_pb_reserve(b, id, MQTT_PT_BINARY, 2 + (u32)len);

	if (p)
		mqtt_put_bytes(p, data, len);
}

void mqtt_pb_user(struct mqtt_prop_builder *b, const char *name, u16 name_len,
		  const char *value, u16 value_len)
{
	u8 *p = mqtt_pb_reserve(b, MQTT_PROP_USER, MQTT_PT_PAIR, 4 + (u32)name_len + value_len);

	if (p)
		mqtt_put_bytes(mqtt_put_bytes(p, name, name_len), value, value_len);
}

int mqtt_pb_done(struct mqtt_prop_builder *b, struct mqtt_props *out)
{
	memset(out, 0, sizeof(*out));
	if (b->err)
		return b->err;
	out->p = b->buf;
	out->len = b->len;
	out->present = b->present;
	out->count = b->count;
	out->n_user = b->n_user;
	out->n_sub_id = b->n_sub_id;
	return 0;
}

/* ---- Encoding ---- */

/*
 * Each packet is measured first (remaining length in a u64, so that no sum can wrap),
 * then written without further checks once the total is known to fit.
 */

static u64 mqtt_props_size(u8 level, const struct mqtt_props *pr)
{
	if (level != MQTT_LEVEL_5)
		return 0;
	return mqtt_varint_size(pr->len) + (u64)pr->len;
}

static u8 *mqtt_put_props(u8 *p, u8 level, const struct mqtt_props *pr)
{
	if (level != MQTT_LEVEL_5)
		return p;
	p += mqtt_varint_put(p, pr->len);
	if (pr->len)
		memcpy(p, pr->p, pr->len);
	return p + pr->len;
}

/*
 * Write the fixed header of a packet with @remlen bytes of body, of which the last
 * @tail (a PUBLISH payload sent separately) are not written here. Returns the bytes to
 * be written, or an error; *@pp points past the header.
 */
static int mqtt_put_header(u8 *buf, u32 cap, u8 first, u64 remlen, u32 tail, u8 **pp)
{
	u64 total;

	if (remlen > MQTT_VARINT_MAX)
		return -EMSGSIZE;
	total = 1 + mqtt_varint_size(remlen) + remlen - tail;
	if (total > cap)
		return -ENOSPC;
	buf[0] = first;
	*pp = buf + 1 + mqtt_varint_put(buf + 1, remlen);
	return total;
}

static int mqtt_connect_remlen(const struct mqtt_connect *c, u64 *rl)
{
	u8 level = c->level;
	u64 n;

	if (level == MQTT_LEVEL_31)
		n = 2 + sizeof(mqtt_name_mqisdp) - 1;
	else if (level == MQTT_LEVEL_311 || level == MQTT_LEVEL_5)
		n = 2 + sizeof(mqtt_name_mqtt) - 1;
	else
		return -EINVAL;
	if (c->will && c->will_qos > 2)
		return -EINVAL;
	/* level, flags, keep alive, properties, client identifier */
	n += 1 + 1 + 2 + mqtt_props_size(level, &c->props) + 2 + c->client_id.len;
	if (c->will)
		n += mqtt_props_size(level, &c->will_props) + 2 + c->will_topic.len +
		     2 + c->will_payload.len;
	if (c->has_username)
		n += 2 + c->username.len;
	if (c->has_password)
		n += 2 + c->password.len;
	*rl = n;
	return 0;
}

int mqtt_encode_connect(u8 *buf, u32 cap, const struct mqtt_connect *c)
{
	u8 level = c->level, flags = 0, *p;
	u64 rl;
	int total, err = mqtt_connect_remlen(c, &rl);

	if (err)
		return err;
	total = mqtt_put_header(buf, cap, MQTT_CONNECT << 4, rl, 0, &p);
	if (total < 0)
		return total;
	if (level == MQTT_LEVEL_31)
		p = mqtt_put_bytes(p, mqtt_name_mqisdp, sizeof(mqtt_name_mqisdp) - 1);
	else
		p = mqtt_put_bytes(p, mqtt_name_mqtt, sizeof(mqtt_name_mqtt) - 1);
	*p++ = level;
	if (c->clean_start)
		flags |= 0x02;
	if (c->will)
		flags |= 0x04 | c->will_qos << 3 | (c->will_retain ? 0x20 : 0);
	if (c->has_password)
		flags |= 0x40;
	if (c->has_username)
		flags |= 0x80;
	*p++ = flags;
	put_unaligned_be16(c->keep_alive, p);
	p = mqtt_put_props(p + 2, level, &c->props);
	p = mqtt_put_bytes(p, c->client_id.s, c->client_id.len);
	if (c->will) {
		p = mqtt_put_props(p, level, &c->will_props);
		p = mqtt_put_bytes(p, c->will_topic.s, c->will_topic.len);
		p = mqtt_put_bytes(p, c->will_payload.p, c->will_payload.len);
	}
	if (c->has_username)
		p = mqtt_put_bytes(p, c->username.s, c->username.len);
	if (c->has_password)
		mqtt_put_bytes(p, c->password.p, c->password.len);
	return total;
}

static u64 mqtt_connack_remlen(u8 level, const struct mqtt_connack *c)
{
	return 2 + mqtt_props_size(level, &c->props);
}

int mqtt_encode_connack(u8 *buf, u32 cap, u8 level, const struct mqtt_connack *c)
{
	u8 *p;
	int total = mqtt_put_header(buf, cap, MQTT_CONNACK << 4, mqtt_connack_remlen(level, c),
				    0, &p);

	if (total < 0)
		return total;
	*p++ = c->session_present ? 1 : 0;
	*p++ = c->reason;
	mqtt_put_props(p, level, &c->props);
	return total;
}

static int mqtt_publish_remlen(u8 level, const struct mqtt_publish *pub, u64 *rl)
{
	if (pub->qos > 2)
		return -EINVAL;
	*rl = 2 + (u64)pub->topic.len + (pub->qos ? 2 : 0) + mqtt_props_size(level, &pub->props) +
	      pub->payload_len;
	return 0;
}

static int mqtt_publish_put(u8 *buf, u32 cap, u8 level, const struct mqtt_publish *pub,
			    bool payload)
{
	u8 first = MQTT_PUBLISH << 4 | pub->qos << 1, *p;
	u64 rl;
	int total = mqtt_publish_remlen(level, pub, &rl);

	if (total)
		return total;
	if (pub->dup)
		first |= 0x08;
	if (pub->retain)
		first |= 0x01;
	total = mqtt_put_header(buf, cap, first, rl, payload ? 0 : pub->payload_len, &p);
	if (total < 0)
		return total;
	p = mqtt_put_bytes(p, pub->topic.s, pub->topic.len);
	if (pub->qos) {
		put_unaligned_be16(pub->packet_id, p);
		p += 2;
	}
	p = mqtt_put_props(p, level, &pub->props);
	if (payload && pub->payload_len)
		memcpy(p, pub->payload, pub->payload_len);
	return total;
}

int mqtt_encode_publish(u8 *buf, u32 cap, u8 level, const struct mqtt_publish *pub)
{
	return mqtt_publish_put(buf, cap, level, pub, true);
}

int mqtt_encode_publish_head(u8 *buf, u32 cap, u8 level, const struct mqtt_publish *pub)
{
	return mqtt_publish_put(buf, cap, level, pub, false);
}

static int mqtt_ack_remlen(u8 level, u8 type, const struct mqtt_ack *a, u64 *rl)
{
	if (type < MQTT_PUBACK || type > MQTT_PUBCOMP)
		return -EINVAL;
	if (level != MQTT_LEVEL_5)
		*rl = 2;
	else if (a->props.len)
		*rl = 3 + mqtt_props_size(level, &a->props);
	else
		*rl = a->reason ? 3 : 2;
	return 0;
}

int mqtt_encode_ack(u8 *buf, u32 cap, u8 level, u8 type, const struct mqtt_ack *a)
{
	u8 *p;
	u64 rl;
	int total, err = mqtt_ack_remlen(level, type, a, &rl);

	if (err)
		return err;
	total = mqtt_put_header(buf, cap, type << 4 | (type == MQTT_PUBREL ? 2 : 0), rl, 0, &p);
	if (total < 0)
		return total;
	put_unaligned_be16(a->packet_id, p);
	if (rl > 2)
		p[2] = a->reason;
	if (rl > 3)
		mqtt_put_props(p + 3, level, &a->props);
	return total;
}

static int mqtt_subscribe_remlen(u8 level, const struct mqtt_subscribe *s, u64 *rl)
{
	u64 n = 2 + mqtt_props_size(level, &s->props);
	u32 i;

	if (!s->count || !s->entries)
		return -EINVAL;
	for (i = 0; i < s->count; i++) {
		const struct mqtt_sub_entry *e = &s->entries[i];

		if (e->qos > 2 || e->retain_handling > 2)
			return -EINVAL;
		n += 2 + e->filter.len + 1;
	}
	*rl = n;
	return 0;
}

int mqtt_encode_subscribe(u8 *buf, u32 cap, u8 level, const struct mqtt_subscribe *s)
{
	u8 *p;
	u64 rl;
	u32 i;
	int total, err = mqtt_subscribe_remlen(level, s, &rl);

	if (err)
		return err;
	total = mqtt_put_header(buf, cap, MQTT_SUBSCRIBE << 4 | 2, rl, 0, &p);
	if (total < 0)
		return total;
	put_unaligned_be16(s->packet_id, p);
	p = mqtt_put_props(p + 2, level, &s->props);
	for (i = 0; i < s->count; i++) {
		const struct mqtt_sub_entry *e = &s->entries[i];
		u8 opts = e->qos;

		if (level == MQTT_LEVEL_5)
			opts |= (e->no_local ? 0x04 : 0) | (e->retain_as_published ? 0x08 : 0) |
				e->retain_handling << 4;
		p = mqtt_put_bytes(p, e->filter.s, e->filter.len);
		*p++ = opts;
	}
	return total;
}

static int mqtt_suback_remlen(u8 level, u8 type, const struct mqtt_suback *s, u64 *rl)
{
	bool codes = type == MQTT_SUBACK || level == MQTT_LEVEL_5;

	if (type != MQTT_SUBACK && type != MQTT_UNSUBACK)
		return -EINVAL;
	if (codes && (!s->count || !s->codes))
		return -EINVAL;
	*rl = 2 + mqtt_props_size(level, &s->props) + (codes ? s->count : 0);
	return 0;
}

int mqtt_encode_suback(u8 *buf, u32 cap, u8 level, u8 type, const struct mqtt_suback *s)
{
	u8 *p;
	u64 rl;
	int total, err = mqtt_suback_remlen(level, type, s, &rl);

	if (err)
		return err;
	total = mqtt_put_header(buf, cap, type << 4, rl, 0, &p);
	if (total < 0)
		return total;
	put_unaligned_be16(s->packet_id, p);
	p = mqtt_put_props(p + 2, level, &s->props);
	if (type == MQTT_SUBACK || level == MQTT_LEVEL_5)
		memcpy(p, s->codes, s->count);
	return total;
}

static int mqtt_unsubscribe_remlen(u8 level, const struct mqtt_unsubscribe *u, u64 *rl)
{
	u64 n = 2 + mqtt_props_size(level, &u->props);
	u32 i;

	if (!u->count || !u->filters)
		return -EINVAL;
	for (i = 0; i < u->count; i++)
		n += 2 + u->filters[i].len;
	*rl = n;
	return 0;
}

int mqtt_encode_unsubscribe(u8 *buf, u32 cap, u8 level, const struct mqtt_unsubscribe *u)
{
	u8 *p;
	u64 rl;
	u32 i;
	int total, err = mqtt_unsubscribe_remlen(level, u, &rl);

	if (err)
		return err;
	total = mqtt_put_header(buf, cap, MQTT_UNSUBSCRIBE << 4 | 2, rl, 0, &p);
	if (total < 0)
		return total;
	put_unaligned_be16(u->packet_id, p);
	p = mqtt_put_props(p + 2, level, &u->props);
	for (i = 0; i < u->count; i++)
		p = mqtt_put_bytes(p, u->filters[i].s, u->filters[i].len);
	return total;
}

int mqtt_encode_ping(u8 *buf, u32 cap, u8 type)
{
	u8 *p;

	if (type != MQTT_PINGREQ && type != MQTT_PINGRESP)
		return -EINVAL;
	return mqtt_put_header(buf, cap, type << 4, 0, 0, &p);
}

/* DISCONNECT and AUTH bodies: nothing, a reason code, or a reason code and properties. */
static u64 mqtt_reason_remlen(u8 level, u8 type, u8 reason, const struct mqtt_props *props)
{
	if (level != MQTT_LEVEL_5)
		return 0;
	if (props->len || (reason && type == MQTT_AUTH))
		return 1 + mqtt_props_size(level, props);
	return reason ? 1 : 0;
}

static int mqtt_reason_put(u8 *buf, u32 cap, u8 level, u8 type, u8 reason,
			   const struct mqtt_props *props)
{
	u64 rl = mqtt_reason_remlen(level, type, reason, props);
	u8 *p;
	int total = mqtt_put_header(buf, cap, type << 4, rl, 0, &p);

	if (total < 0)
		return total;
	if (rl)
		*p++ = reason;
	if (rl > 1)
		mqtt_put_props(p, level, props);
	return total;
}

int mqtt_encode_disconnect(u8 *buf, u32 cap, u8 level, const struct mqtt_disconnect *d)
{
	static const struct mqtt_disconnect normal;

	if (!d)
		d = &normal;
	return mqtt_reason_put(buf, cap, level, MQTT_DISCONNECT, d->reason, &d->props);
}

int mqtt_encode_auth(u8 *buf, u32 cap, const struct mqtt_auth *a)
{
	return mqtt_reason_put(buf, cap, MQTT_LEVEL_5, MQTT_AUTH, a->reason, &a->props);
}

int mqtt_encode(u8 *buf, u32 cap, u8 level, const struct mqtt_packet *pkt)
{
	switch (pkt->type) {
	case MQTT_CONNECT:
		return mqtt_encode_connect(buf, cap, &pkt->connect);
	case MQTT_CONNACK:
		return mqtt_encode_connack(buf, cap, level, &pkt->connack);
	case MQTT_PUBLISH:
		return mqtt_encode_publish(buf, cap, level, &pkt->publish);
	case MQTT_PUBACK:
	case MQTT_PUBREC:
	case MQTT_PUBREL:
	case MQTT_PUBCOMP:
		return mqtt_encode_ack(buf, cap, level, pkt->type, &pkt->ack);
	case MQTT_SUBSCRIBE:
		return mqtt_encode_subscribe(buf, cap, level, &pkt->subscribe);
	case MQTT_SUBACK:
	case MQTT_UNSUBACK:
		return mqtt_encode_suback(buf, cap, level, pkt->type, &pkt->suback);
	case MQTT_UNSUBSCRIBE:
		return mqtt_encode_unsubscribe(buf, cap, level, &pkt->unsubscribe);
	case MQTT_PINGREQ:
	case MQTT_PINGRESP:
		return mqtt_encode_ping(buf, cap, pkt->type);
	case MQTT_DISCONNECT:
		return mqtt_encode_disconnect(buf, cap, level, &pkt->disconnect);
	case MQTT_AUTH:
		return mqtt_encode_auth(buf, cap, &pkt->auth);
	}
	return -EINVAL;
}

int mqtt_encoded_size(u8 level, const struct mqtt_packet *pkt)
{
	u64 rl = 0;
	int err = 0;

	switch (pkt->type) {
	case MQTT_CONNECT:
		err = mqtt_connect_remlen(&pkt->connect, &rl);
		break;
	case MQTT_CONNACK:
		rl = mqtt_connack_remlen(level, &pkt->connack);
		break;
	case MQTT_PUBLISH:
		err = mqtt_publish_remlen(level, &pkt->publish, &rl);
		break;
	case MQTT_PUBACK:
	case MQTT_PUBREC:
	case MQTT_PUBREL:
	case MQTT_PUBCOMP:
		err = mqtt_ack_remlen(level, pkt->type, &pkt->ack, &rl);
		break;
	case MQTT_SUBSCRIBE:
		err = mqtt_subscribe_remlen(level, &pkt->subscribe, &rl);
		break;
	case MQTT_SUBACK:
	case MQTT_UNSUBACK:
		err = mqtt_suback_remlen(level, pkt->type, &pkt->suback, &rl);
		break;
	case MQTT_UNSUBSCRIBE:
		err = mqtt_unsubscribe_remlen(level, &pkt->unsubscribe, &rl);
		break;
	case MQTT_PINGREQ:
	case MQTT_PINGRESP:
		break;
	case MQTT_DISCONNECT:
		rl = mqtt_reason_remlen(level, MQTT_DISCONNECT, pkt->disconnect.reason,
					&pkt->disconnect.props);
		break;
	case MQTT_AUTH:
		rl = mqtt_reason_remlen(MQTT_LEVEL_5, MQTT_AUTH, pkt->auth.reason,
					&pkt->auth.props);
		break;
	default:
		return -EINVAL;
	}
	if (err)
		return err;
	if (rl > MQTT_VARINT_MAX)
		return -EMSGSIZE;
	return 1 + mqtt_varint_size(rl) + rl;
}

/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * MQTT 3.1 ("MQIsdp", level 3), 3.1.1 (level 4) and 5.0 (level 5) packet codec.
 *
 * Three layers, all allocation-free and without recursion:
 *
 *   framing    mqtt_fixed_header() reads the fixed header from any prefix of a stream;
 *              struct mqtt_framer assembles whole packets from arbitrary chunks into a
 *              caller-provided bounded buffer.
 *   decoding   mqtt_decode() validates a whole packet body against the spec and the
 *              caller's struct mqtt_limits and fills a struct mqtt_packet whose strings,
 *              property blocks and topic lists point into the packet buffer (zero-copy).
 *              Lists (SUBSCRIBE, UNSUBSCRIBE, properties) are checked completely before
 *              mqtt_decode() returns and walked afterwards with iterators, so their length
 *              is bounded only by the packet size and the limits.
 *   encoding   mqtt_encode_*() write a packet into a caller buffer and return its length,
 *              -ENOSPC if it does not fit, -EINVAL/-EMSGSIZE if it cannot be encoded.
 *              A PUBLISH can be written without its payload, which the caller then sends
 *              from wherever it lives.
 *
 * Return values: decoding functions return 0 or a positive count on success and a negative
 * enum mqtt_err (-MQTT_E_*) on failure. The MQTT_E_* values start at MQTT_E_BASE, above
 * every errno value, so -ENOSPC from an encoder can never be mistaken for one of them.
 * mqtt_err_name() names both, mqtt_err_reason() gives the MQTT 5.0 reason code to send in
 * CONNACK/DISCONNECT, mqtt_err_connack() the MQTT 3.1/3.1.1 CONNACK return code.
 *
 * Topic names and filters are validated by topic_name_valid() and topic_filter_valid()
 * (topic.h), every other MQTT string by mqtt_utf8_valid() (topic.h).
 *
 * What the codec does not decide (it exposes what the caller needs): the order of packets
 * (CONNECT first and once, which side may send which packet), an empty client identifier,
 * topic alias ranges against the negotiated maximum, whether a client may send
 * Subscription Identifiers in a PUBLISH (struct mqtt_props.n_sub_id says whether it did),
 * payload format checks.
 */
#ifndef KMQTT_CORE_MQTT_CODEC_H
#define KMQTT_CORE_MQTT_CODEC_H

#include "port.h"
#include "topic.h"

/* Protocol levels. MQTT_LEVEL_UNKNOWN: no CONNECT seen yet (only CONNECT decodes). */
enum {
	MQTT_LEVEL_UNKNOWN = 0,
	MQTT_LEVEL_31 = 3,
	MQTT_LEVEL_311 = 4,
	MQTT_LEVEL_5 = 5,
};

/* Control packet types (the fixed header's upper nibble). */
enum mqtt_type {
	MQTT_CONNECT = 1,
	MQTT_CONNACK = 2,
	MQTT_PUBLISH = 3,
	MQTT_PUBACK = 4,
	MQTT_PUBREC = 5,
	MQTT_PUBREL = 6,
	MQTT_PUBCOMP = 7,
	MQTT_SUBSCRIBE = 8,
	MQTT_SUBACK = 9,
	MQTT_UNSUBSCRIBE = 10,
	MQTT_UNSUBACK = 11,
	MQTT_PINGREQ = 12,
	MQTT_PINGRESP = 13,
	MQTT_DISCONNECT = 14,
	MQTT_AUTH = 15,		/* 5.0 only */
};

/* Variable byte integers (the remaining length, 5.0 property lengths and some values). */
#define MQTT_VARINT_MAX		268435455U	/* 0xff 0xff 0xff 0x7f */
#define MQTT_VARINT_MAX_BYTES	4
#define MQTT_MAX_HEADER_LEN	(1 + MQTT_VARINT_MAX_BYTES)
/* The largest packet the protocol can express, fixed header included. */
#define MQTT_MAX_PACKET_SIZE	(MQTT_VARINT_MAX + MQTT_MAX_HEADER_LEN)
/* MQTT 3.1 (MQIsdp) client identifiers are 1..23 bytes. */
#define MQTT_31_MAX_CLIENT_ID	23

/* Defaults of struct mqtt_limits (MQTT_LIMITS_DEFAULT). */
#define MQTT_DEFAULT_MAX_PACKET_SIZE	(256U * 1024)
#define MQTT_DEFAULT_MAX_SUBS		128
#define MQTT_DEFAULT_MAX_PROPS		64
#define MQTT_DEFAULT_MAX_USER_PROPS	32
#define MQTT_DEFAULT_MAX_CLIENT_ID	256

/*
 * Decode errors. Each has a stable short name (mqtt_err_name()), an MQTT 5.0 reason code
 * (mqtt_err_reason()) and, for CONNECT, possibly an MQTT 3.1.1 return code
 * (mqtt_err_connack()). Functions return them negated.
 */
enum mqtt_err {
	MQTT_E_BASE = 256,
	/* Fixed header and framing */
	MQTT_E_BAD_TYPE = MQTT_E_BASE,	/* type 0, or AUTH below 5.0 */
	MQTT_E_RESERVED_FLAGS,		/* fixed-header flag bits wrong for the type */
	MQTT_E_REMLEN_TOO_LONG,		/* remaining length continues past 4 bytes */
	MQTT_E_REMLEN_NOT_MINIMAL,	/* 5.0: over-long remaining length [MQTT-1.5.5-1] */
	MQTT_E_PACKET_TOO_LARGE,	/* larger than the configured maximum packet size */
	/* Structure */
	MQTT_E_TRUNCATED,		/* a field runs past the end of the packet */
	MQTT_E_TRAILING,		/* bytes left after the last field */
	MQTT_E_BAD_VARINT,		/* 5.0: over-long or non-minimal variable byte integer */
	MQTT_E_NOT_CONNECT,		/* not a CONNECT before the protocol level is known */
	/* CONNECT */
	MQTT_E_BAD_PROTOCOL,		/* protocol name is neither "MQTT" nor "MQIsdp" */
	MQTT_E_BAD_LEVEL,		/* unsupported level, or level not matching the name */
	MQTT_E_CONNECT_RESERVED,	/* reserved connect flag set [MQTT-3.1.2-3] */
	MQTT_E_WILL_FLAGS,		/* will QoS/retain without will [MQTT-3.1.2-11,13] */
	MQTT_E_PASSWORD_NO_USER,	/* 3.1/3.1.1: password without user name */
	MQTT_E_CLIENT_ID,		/* client identifier rejected (length) */
	/* Strings and topics */
	MQTT_E_BAD_UTF8,		/* ill-formed UTF-8, U+0000 or a surrogate */
	MQTT_E_BAD_TOPIC,		/* invalid topic name (wildcard, empty, ...) */
	MQTT_E_BAD_TOPIC_FILTER,	/* invalid topic filter */
	MQTT_E_TOPIC_LIMIT,		/* topic longer or deeper than struct topic_limits */
	MQTT_E_EMPTY_TOPIC,		/* 5.0: empty topic name without a topic alias */
	MQTT_E_TOPIC_ALIAS,		/* 5.0: topic alias 0 [MQTT-3.3.2-8] */
	/* PUBLISH and acknowledgements */
	MQTT_E_BAD_QOS,			/* QoS 3 (PUBLISH, will, subscription) */
	MQTT_E_DUP_QOS0,		/* DUP set on a QoS 0 PUBLISH [MQTT-3.3.1-2] */
	MQTT_E_ZERO_PACKET_ID,		/* packet identifier 0 where one is required */
	MQTT_E_BAD_REASON,		/* reason/return code not valid for the packet type */
	MQTT_E_CONNACK_FLAGS,		/* CONNACK reserved flags, or session present on error */
	/* SUBSCRIBE / UNSUBSCRIBE */
	MQTT_E_NO_TOPICS,		/* no topic filter [MQTT-3.8.3-3], [MQTT-3.10.3-2] */
	MQTT_E_TOO_MANY_TOPICS,		/* more filters than limits.max_subs */
	MQTT_E_SUB_OPTIONS,		/* reserved subscription option bits set */
	MQTT_E_RETAIN_HANDLING,		/* 5.0: retain handling 3 */
	MQTT_E_SHARED_NO_LOCAL,		/* 5.0: no local on a shared subscription */
	/* 5.0 properties */
	MQTT_E_BAD_PROPERTY,		/* unknown property identifier */
	MQTT_E_PROPERTY_NOT_ALLOWED,	/* property not allowed in this packet */
	MQTT_E_DUP_PROPERTY,		/* property given more than once */
	MQTT_E_PROPERTY_VALUE,		/* value out of range (receive maximum 0, ...) */
	MQTT_E_PROPERTY_LENGTH,		/* property length past the packet end */
	MQTT_E_TOO_MANY_PROPS,		/* more than limits.max_props */
	MQTT_E_TOO_MANY_USER_PROPS,	/* more than limits.max_user_props */
	MQTT_E_AUTH_DATA_NO_METHOD,	/* authentication data without a method */
	MQTT_E__END
};

/* MQTT 5.0 reason codes (§2.4). */
enum {
	MQTT_RC_SUCCESS = 0x00,			/* also Normal disconnection, Granted QoS 0 */
	MQTT_RC_GRANTED_QOS1 = 0x01,
	MQTT_RC_GRANTED_QOS2 = 0x02,
	MQTT_RC_DISCONNECT_WITH_WILL = 0x04,
	MQTT_RC_NO_MATCHING_SUBSCRIBERS = 0x10,
	MQTT_RC_NO_SUBSCRIPTION_EXISTED = 0x11,
	MQTT_RC_CONTINUE_AUTH = 0x18,
	MQTT_RC_REAUTHENTICATE = 0x19,
	MQTT_RC_UNSPECIFIED = 0x80,
	MQTT_RC_MALFORMED = 0x81,
	MQTT_RC_PROTOCOL_ERROR = 0x82,
	MQTT_RC_IMPL_SPECIFIC = 0x83,
	MQTT_RC_UNSUPPORTED_VERSION = 0x84,
	MQTT_RC_CLIENT_ID_INVALID = 0x85,
	MQTT_RC_BAD_USER_OR_PASSWORD = 0x86,
	MQTT_RC_NOT_AUTHORIZED = 0x87,
	MQTT_RC_SERVER_UNAVAILABLE = 0x88,
	MQTT_RC_SERVER_BUSY = 0x89,
	MQTT_RC_BANNED = 0x8a,
	MQTT_RC_SERVER_SHUTTING_DOWN = 0x8b,
	MQTT_RC_BAD_AUTH_METHOD = 0x8c,
	MQTT_RC_KEEP_ALIVE_TIMEOUT = 0x8d,
	MQTT_RC_SESSION_TAKEN_OVER = 0x8e,
	MQTT_RC_TOPIC_FILTER_INVALID = 0x8f,
	MQTT_RC_TOPIC_NAME_INVALID = 0x90,
	MQTT_RC_PACKET_ID_IN_USE = 0x91,
	MQTT_RC_PACKET_ID_NOT_FOUND = 0x92,
	MQTT_RC_RECEIVE_MAX_EXCEEDED = 0x93,
	MQTT_RC_TOPIC_ALIAS_INVALID = 0x94,
	MQTT_RC_PACKET_TOO_LARGE = 0x95,
	MQTT_RC_MESSAGE_RATE_TOO_HIGH = 0x96,
	MQTT_RC_QUOTA_EXCEEDED = 0x97,
	MQTT_RC_ADMIN_ACTION = 0x98,
	MQTT_RC_PAYLOAD_FORMAT_INVALID = 0x99,
	MQTT_RC_RETAIN_NOT_SUPPORTED = 0x9a,
	MQTT_RC_QOS_NOT_SUPPORTED = 0x9b,
	MQTT_RC_USE_ANOTHER_SERVER = 0x9c,
	MQTT_RC_SERVER_MOVED = 0x9d,
	MQTT_RC_SHARED_SUBS_NOT_SUPPORTED = 0x9e,
	MQTT_RC_CONNECTION_RATE_EXCEEDED = 0x9f,
	MQTT_RC_MAX_CONNECT_TIME = 0xa0,
	MQTT_RC_SUB_IDS_NOT_SUPPORTED = 0xa1,
	MQTT_RC_WILDCARD_SUBS_NOT_SUPPORTED = 0xa2,
};

/* MQTT 3.1/3.1.1 CONNACK return codes and the SUBACK failure code. */
enum {
	MQTT_RC311_ACCEPTED = 0x00,
	MQTT_RC311_BAD_PROTOCOL_VERSION = 0x01,
	MQTT_RC311_ID_REJECTED = 0x02,
	MQTT_RC311_SERVER_UNAVAILABLE = 0x03,
	MQTT_RC311_BAD_USER_OR_PASSWORD = 0x04,
	MQTT_RC311_NOT_AUTHORIZED = 0x05,
	MQTT_RC311_SUBACK_FAILURE = 0x80,
	/* mqtt_err_connack(): no CONNACK for this error, just close. */
	MQTT_RC311_NONE = -1,
};

/* MQTT 5.0 property identifiers (§2.2.2.2). */
enum {
	MQTT_PROP_PAYLOAD_FORMAT = 0x01,
	MQTT_PROP_MESSAGE_EXPIRY = 0x02,
	MQTT_PROP_CONTENT_TYPE = 0x03,
	MQTT_PROP_RESPONSE_TOPIC = 0x08,
	MQTT_PROP_CORRELATION_DATA = 0x09,
	MQTT_PROP_SUB_ID = 0x0b,
	MQTT_PROP_SESSION_EXPIRY = 0x11,
	MQTT_PROP_ASSIGNED_CLIENT_ID = 0x12,
	MQTT_PROP_SERVER_KEEP_ALIVE = 0x13,
	MQTT_PROP_AUTH_METHOD = 0x15,
	MQTT_PROP_AUTH_DATA = 0x16,
	MQTT_PROP_REQUEST_PROBLEM_INFO = 0x17,
	MQTT_PROP_WILL_DELAY = 0x18,
	MQTT_PROP_REQUEST_RESPONSE_INFO = 0x19,
	MQTT_PROP_RESPONSE_INFO = 0x1a,
	MQTT_PROP_SERVER_REFERENCE = 0x1c,
	MQTT_PROP_REASON_STRING = 0x1f,
	MQTT_PROP_RECEIVE_MAX = 0x21,
	MQTT_PROP_TOPIC_ALIAS_MAX = 0x22,
	MQTT_PROP_TOPIC_ALIAS = 0x23,
	MQTT_PROP_MAX_QOS = 0x24,
	MQTT_PROP_RETAIN_AVAILABLE = 0x25,
	MQTT_PROP_USER = 0x26,
	MQTT_PROP_MAX_PACKET_SIZE = 0x27,
	MQTT_PROP_WILDCARD_SUB_AVAILABLE = 0x28,
	MQTT_PROP_SUB_ID_AVAILABLE = 0x29,
	MQTT_PROP_SHARED_SUB_AVAILABLE = 0x2a,
	MQTT_PROP__MAX = MQTT_PROP_SHARED_SUB_AVAILABLE,
};

/* Property value types. */
enum mqtt_prop_type {
	MQTT_PT_NONE = 0,	/* not a property identifier */
	MQTT_PT_BYTE,
	MQTT_PT_U16,
	MQTT_PT_U32,
	MQTT_PT_VARINT,
	MQTT_PT_STRING,
	MQTT_PT_BINARY,
	MQTT_PT_PAIR,
};

/* Pseudo packet type naming the will properties of a CONNECT in mqtt_props_parse(). */
#define MQTT_PROPS_WILL		0

/* Limits the decoder enforces. MQTT_LIMITS_DEFAULT gives the defaults above. */
struct mqtt_limits {
	u32 max_packet_size;	/* whole packet, fixed header included; 0: the protocol's */
	u32 max_subs;		/* topic filters per SUBSCRIBE / UNSUBSCRIBE */
	u16 max_props;		/* properties per property block */
	u16 max_user_props;	/* user properties per property block */
	u16 max_client_id_len;	/* bytes (3.1 is further capped at MQTT_31_MAX_CLIENT_ID) */
	struct topic_limits topic;	/* topic names and filters, see topic.h */
};

#define MQTT_LIMITS_DEFAULT {					\
	.max_packet_size = MQTT_DEFAULT_MAX_PACKET_SIZE,	\
	.max_subs = MQTT_DEFAULT_MAX_SUBS,			\
	.max_props = MQTT_DEFAULT_MAX_PROPS,			\
	.max_user_props = MQTT_DEFAULT_MAX_USER_PROPS,		\
	.max_client_id_len = MQTT_DEFAULT_MAX_CLIENT_ID,	\
	.topic = TOPIC_LIMITS_DEFAULT,				\
}

/* A UTF-8 string (validated by the decoder) and binary data, both inside the packet. */
struct mqtt_str {
	const char *s;
	u16 len;
};

struct mqtt_bin {
	const u8 *p;
	u16 len;
};

/*
 * A 5.0 property block: the properties without their length prefix. The decoder checks
 * it completely and fills the summary fields; encoders use only @p and @len (empty below
 * level 5, where they are ignored).
 */
struct mqtt_props {
	const u8 *p;
	u32 len;
	u64 present;		/* bit n set: property n is in the block */
	u16 count;		/* properties */
	u16 n_user;		/* user properties */
	u16 n_sub_id;		/* subscription identifiers */
};

/* One property, as the iterator returns it. */
struct mqtt_prop {
	u8 id;			/* MQTT_PROP_* */
	u8 type;		/* enum mqtt_prop_type */
	u32 val;		/* BYTE, U16, U32, VARINT */
	struct mqtt_str str;	/* STRING, PAIR name */
	struct mqtt_str str2;	/* PAIR value */
	struct mqtt_bin bin;	/* BINARY */
};

/* Iterator over a validated list (properties, subscriptions, unsubscriptions). */
struct mqtt_iter {
	const u8 *p;
	const u8 *end;
};

struct mqtt_fixed_header {
	u8 type;		/* enum mqtt_type */
	u8 flags;		/* low nibble of the first byte */
	u8 hdr_len;		/* 2..5: first byte + remaining length bytes */
	u32 remlen;		/* remaining length: the body that follows the header */
};

struct mqtt_connect {
	u8 level;		/* MQTT_LEVEL_31, _311 or _5 (selects the protocol name) */
	bool clean_start;	/* Clean Session (3.1, 3.1.1), Clean Start (5.0) */
	bool will;
	u8 will_qos;
	bool will_retain;
	bool has_username;
	bool has_password;
	u16 keep_alive;		/* seconds */
	struct mqtt_props props;
	struct mqtt_str client_id;	/* may be empty (3.1.1, 5.0): the caller decides */
	struct mqtt_props will_props;
	struct mqtt_str will_topic;
	struct mqtt_bin will_payload;
	struct mqtt_str username;
	struct mqtt_bin password;
};

struct mqtt_connack {
	bool session_present;
	u8 reason;		/* 5.0 reason code, or 3.1/3.1.1 return code */
	struct mqtt_props props;
};

struct mqtt_publish {
	bool dup;
	u8 qos;
	bool retain;
	u16 packet_id;		/* 0 for QoS 0 */
	struct mqtt_str topic;	/* 5.0: may be empty if props carry a topic alias */
	struct mqtt_props props;
	const u8 *payload;
	u32 payload_len;
};

/* PUBACK, PUBREC, PUBREL, PUBCOMP. */
struct mqtt_ack {
	u16 packet_id;
	u8 reason;		/* 5.0 only; 0 below */
	struct mqtt_props props;
};

struct mqtt_sub_entry {
	struct mqtt_str filter;
	u8 qos;			/* maximum QoS requested */
	bool no_local;		/* 5.0 */
	bool retain_as_published;	/* 5.0 */
	u8 retain_handling;	/* 5.0: 0..2 */
};

struct mqtt_subscribe {
	u16 packet_id;
	struct mqtt_props props;
	u32 count;		/* topic filters */
	/* Decoder output: the validated list, walked with mqtt_sub_iter_init()/next(). */
	const u8 *list;
	u32 list_len;
	/* Encoder input: @count entries (the decoder sets it to NULL). */
	const struct mqtt_sub_entry *entries;
};

/* SUBACK and UNSUBACK (whose codes exist only in 5.0). */
struct mqtt_suback {
	u16 packet_id;
	struct mqtt_props props;
	const u8 *codes;	/* reason/return codes, one per topic filter */
	u32 count;
};

struct mqtt_unsubscribe {
	u16 packet_id;
	struct mqtt_props props;
	u32 count;
	const u8 *list;		/* decoder output, see mqtt_unsub_iter_init()/next() */
	u32 list_len;
	const struct mqtt_str *filters;	/* encoder input: @count filters */
};

/* DISCONNECT and AUTH (5.0 carries a reason code and properties; 3.1.x nothing). */
struct mqtt_disconnect {
	u8 reason;
	struct mqtt_props props;
};

struct mqtt_auth {
	u8 reason;
	struct mqtt_props props;
};

struct mqtt_packet {
	u8 type;		/* enum mqtt_type */
	union {
		struct mqtt_connect connect;
		struct mqtt_connack connack;
		struct mqtt_publish publish;
		struct mqtt_ack ack;
		struct mqtt_subscribe subscribe;
		struct mqtt_suback suback;
		struct mqtt_unsubscribe unsubscribe;
		struct mqtt_disconnect disconnect;
		struct mqtt_auth auth;
	};
};

/* ---- Errors ---- */

/* Stable short name of -MQTT_E_* or -errno (either sign), "unknown" for others. */
const char *mqtt_err_name(int err);
/* MQTT 5.0 reason code for a CONNACK or DISCONNECT answering the error. */
u8 mqtt_err_reason(int err);
/* MQTT 3.1/3.1.1 CONNACK return code for a CONNECT error, or MQTT_RC311_NONE. */
int mqtt_err_connack(int err);
/* Whether @code is a valid 5.0 reason code in a packet of @type. */
bool mqtt_reason_valid(u8 type, u8 code);

/* ---- Variable byte integers ---- */

/* Bytes needed to encode @v (1..4), or 0 if @v > MQTT_VARINT_MAX. */
u8 mqtt_varint_size(u32 v);
/* Write @v (<= MQTT_VARINT_MAX) at @p, which has room for mqtt_varint_size(v). */
u8 mqtt_varint_put(u8 *p, u32 v);
/*
 * Read a variable byte integer from @len bytes at @p. Returns the bytes used (1..4), 0 if
 * @len bytes are a proper prefix of one, or -MQTT_E_BAD_VARINT if it continues past four
 * bytes or (when @minimal) uses more bytes than needed.
 */
int mqtt_varint_get(const u8 *p, u32 len, bool minimal, u32 *v);

/* ---- Framing ---- */

/*
 * Parse the fixed header from the first @len bytes of a packet. Returns the header length
 * (2..5) with @fh filled, 0 if the bytes are a proper prefix of a header (read at least
 * one more byte), or a negative error: -MQTT_E_BAD_TYPE and -MQTT_E_RESERVED_FLAGS are
 * reported from the first byte alone, -MQTT_E_REMLEN_TOO_LONG as soon as the fifth byte
 * arrives, -MQTT_E_REMLEN_NOT_MINIMAL at level 5 (3.1 and 3.1.1 do not forbid over-long
 * encodings; mqtt_decode() rejects them for a 5.0 CONNECT), -MQTT_E_PACKET_TOO_LARGE if
 * header and body exceed @max_packet (0: MQTT_MAX_PACKET_SIZE); @fh is filled then too.
 *
 * Reading exactly one packet from a stream: read 2 bytes, then one at a time while this
 * returns 0, then exactly fh->remlen bytes.
 */
int mqtt_fixed_header(const u8 *buf, u32 len, u8 level, u32 max_packet,
		      struct mqtt_fixed_header *fh);

/*
 * Assembles packets from a byte stream split at arbitrary points. The whole packet
 * (header and body) is copied into @buf; packets larger than the buffer or the limit fail
 * with -MQTT_E_PACKET_TOO_LARGE. Errors are sticky: the stream cannot be resynchronized.
 */
struct mqtt_framer {
	u8 *buf;
	u32 cap;
	u32 max_packet;		/* effective limit: min(cap, max_packet argument) */
	u32 have;		/* bytes of the current packet in @buf */
	u32 total;		/* its full length once the header is known, else 0 */
	struct mqtt_fixed_header fh;
	u8 level;
	bool ready;		/* @buf holds a complete packet */
	int err;		/* sticky error, 0 if none */
};

void mqtt_framer_init(struct mqtt_framer *f, u8 *buf, u32 cap, u8 level, u32 max_packet);
/* The level the stream uses from now on (after its CONNECT). */
void mqtt_framer_set_level(struct mqtt_framer *f, u8 level);
/*
 * Take bytes from @data until a packet is complete. Sets *@consumed to the bytes taken
 * (never beyond the end of the packet) and returns 1 if a packet is ready, 0 if all @len
 * bytes were taken and more are needed, or a negative error. A ready packet stays in the
 * buffer until the next call, which starts the next packet.
 */
int mqtt_framer_feed(struct mqtt_framer *f, const u8 *data, u32 len, u32 *consumed);
/* The ready packet: its header and body (f->buf + fh->hdr_len). NULL if none is ready. */
const u8 *mqtt_framer_packet(const struct mqtt_framer *f, const struct mqtt_fixed_header **fh);

/* ---- Decoding ---- */

/*
 * Decode the body (@fh->remlen bytes at @body) of a packet whose header is @fh, for a
 * connection at protocol @level (MQTT_LEVEL_UNKNOWN: only a CONNECT is accepted; a
 * CONNECT is decoded whatever @level is, and carries its own). @lim NULL: defaults.
 * Returns 0 and fills @pkt, whose pointers refer into @body, or a negative error.
 */
int mqtt_decode(u8 level, const struct mqtt_fixed_header *fh, const u8 *body,
		const struct mqtt_limits *lim, struct mqtt_packet *pkt);
/*
 * Parse the header and decode the packet at the start of @buf (@len bytes). Returns the
 * packet's total length, 0 if @buf holds only part of it, or a negative error.
 */
int mqtt_decode_buf(u8 level, const u8 *buf, u32 len, const struct mqtt_limits *lim,
		    struct mqtt_packet *pkt);

/*
 * Validate a 5.0 property block of a packet of @type (MQTT_PROPS_WILL: CONNECT will
 * properties) and fill @out. Returns 0 or a negative error.
 */
int mqtt_props_parse(u8 type, const u8 *p, u32 len, const struct mqtt_limits *lim,
		     struct mqtt_props *out);

/* Type of property @id, MQTT_PT_NONE if @id is not one. */
u8 mqtt_prop_type(u8 id);
static inline bool mqtt_props_has(const struct mqtt_props *pr, u8 id)
{
	return id <= MQTT_PROP__MAX && (pr->present >> id) & 1;
}

/* First value of integer property @id: 0, or -ENOENT if absent. */
int mqtt_prop_get_int(const struct mqtt_props *pr, u8 id, u32 *val);
/* First value of string property @id: 0, or -ENOENT if absent. */
int mqtt_prop_get_str(const struct mqtt_props *pr, u8 id, struct mqtt_str *val);
/* First value of binary property @id: 0, or -ENOENT if absent. */
int mqtt_prop_get_bin(const struct mqtt_props *pr, u8 id, struct mqtt_bin *val);

void mqtt_prop_iter_init(struct mqtt_iter *it, const struct mqtt_props *pr);
/* 1 and @prop filled, 0 at the end, negative if the block is malformed. */
int mqtt_prop_next(struct mqtt_iter *it, struct mqtt_prop *prop);

void mqtt_sub_iter_init(struct mqtt_iter *it, const struct mqtt_subscribe *s);
/* The next topic filter and options of a decoded SUBSCRIBE; false at the end. */
bool mqtt_sub_next(struct mqtt_iter *it, struct mqtt_sub_entry *e);
void mqtt_unsub_iter_init(struct mqtt_iter *it, const struct mqtt_unsubscribe *u);
/* The next topic filter of a decoded UNSUBSCRIBE; false at the end. */
bool mqtt_unsub_next(struct mqtt_iter *it, struct mqtt_str *filter);

/* ---- Encoding ---- */

/*
 * Builds a 5.0 property block for the encoders. The first failure (-ENOSPC, -EINVAL for
 * an identifier of another type or a value out of range of its type) sticks and is
 * returned by mqtt_pb_done(), which fills @out (summary fields included).
 */
struct mqtt_prop_builder {
	u8 *buf;
	u32 cap;
	u32 len;
	int err;
	u64 present;
	u16 count;
	u16 n_user;
	u16 n_sub_id;
};

void mqtt_pb_init(struct mqtt_prop_builder *b, u8 *buf, u32 cap);
/* BYTE, U16, U32 or VARINT property. */
void mqtt_pb_int(struct mqtt_prop_builder *b, u8 id, u32 val);
void mqtt_pb_str(struct mqtt_prop_builder *b, u8 id, const char *s, u16 len);
void mqtt_pb_bin(struct mqtt_prop_builder *b, u8 id, const u8 *p, u16 len);
void mqtt_pb_user(struct mqtt_prop_builder *b, const char *name, u16 name_len,
		  const char *value, u16 value_len);
int mqtt_pb_done(struct mqtt_prop_builder *b, struct mqtt_props *out);

/*
 * Each encoder writes one packet at @buf (room for @cap bytes) and returns its length, or
 * -ENOSPC (nothing useful written), -EINVAL (a field no packet can carry: QoS 3, a
 * non-PUBLISH-ack type, ...) or -EMSGSIZE (remaining length over MQTT_VARINT_MAX). They
 * do not re-validate what the decoder checks (UTF-8, topics, reason codes): callers
 * encode what they decided to send. Properties are written only at level 5.
 */
int mqtt_encode_connect(u8 *buf, u32 cap, const struct mqtt_connect *c);
/* @c->reason is a 5.0 reason code at level 5, a return code below. */
int mqtt_encode_connack(u8 *buf, u32 cap, u8 level, const struct mqtt_connack *c);
int mqtt_encode_publish(u8 *buf, u32 cap, u8 level, const struct mqtt_publish *p);
/*
 * Everything of a PUBLISH up to its payload; the remaining length counts
 * @p->payload_len bytes, which the caller sends right after.
 */
int mqtt_encode_publish_head(u8 *buf, u32 cap, u8 level, const struct mqtt_publish *p);
/* @type: MQTT_PUBACK, MQTT_PUBREC, MQTT_PUBREL or MQTT_PUBCOMP. Shortest 5.0 form. */
int mqtt_encode_ack(u8 *buf, u32 cap, u8 level, u8 type, const struct mqtt_ack *a);
int mqtt_encode_subscribe(u8 *buf, u32 cap, u8 level, const struct mqtt_subscribe *s);
/* @type: MQTT_SUBACK or MQTT_UNSUBACK (whose codes are written only at level 5). */
int mqtt_encode_suback(u8 *buf, u32 cap, u8 level, u8 type, const struct mqtt_suback *s);
int mqtt_encode_unsubscribe(u8 *buf, u32 cap, u8 level, const struct mqtt_unsubscribe *u);
/* MQTT_PINGREQ or MQTT_PINGRESP. */
int mqtt_encode_ping(u8 *buf, u32 cap, u8 type);
/* @d may be NULL (normal disconnection); shortest 5.0 form. */
int mqtt_encode_disconnect(u8 *buf, u32 cap, u8 level, const struct mqtt_disconnect *d);
int mqtt_encode_auth(u8 *buf, u32 cap, const struct mqtt_auth *a);
/* Any packet, dispatching on @pkt->type. */
int mqtt_encode(u8 *buf, u32 cap, u8 level, const struct mqtt_packet *pkt);
/*
 * The length mqtt_encode() would return (a PUBLISH with its payload), or -EINVAL /
 * -EMSGSIZE. The head of a PUBLISH is this minus payload_len.
 */
int mqtt_encoded_size(u8 level, const struct mqtt_packet *pkt);

#endif /* KMQTT_CORE_MQTT_CODEC_H */

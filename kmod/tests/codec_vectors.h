/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * MQTT packets, valid and malformed, each with the result the codec must give. Shared by
 * the host unit tests (tests/unit/test_codec.c) and the KUnit suite, so: static const
 * tables, no libc. Each vector is named after the rule it pins and holds a whole packet as
 * it appears on the wire: first byte, remaining length, then the body, with the bytes of
 * strings written as characters.
 */
#ifndef KMQTT_TESTS_CODEC_VECTORS_H
#define KMQTT_TESTS_CODEC_VECTORS_H

#include "../core/mqtt_codec.h"

struct codec_vector {
	const char *name;
	u8 level;		/* connection level to decode at (0: before CONNECT) */
	u8 type;		/* expected packet type */
	bool tight;		/* decode with codec_tight_limits instead of the defaults */
	int err;		/* 0, or the -MQTT_E_* mqtt_decode_buf() must return */
	const u8 *data;
	u32 len;
};

#define CV(n, lvl, t, e, bytes) {					\
	.name = n, .level = lvl, .type = t, .err = e,			\
	.data = bytes, .len = sizeof(bytes),				\
}

#define CV_TIGHT(n, lvl, t, e, bytes) {					\
	.name = n, .level = lvl, .type = t, .err = e, .tight = true,	\
	.data = bytes, .len = sizeof(bytes),				\
}

/* Small limits, to hit each one with a small packet. */
static const struct mqtt_limits codec_tight_limits = {
	.max_packet_size = 128,
	.max_subs = 2,
	.max_props = 3,
	.max_user_props = 1,
	.max_client_id_len = 8,
	.topic = { .max_topic_len = 16, .max_levels = 4, .flags = TOPIC_LIM_SHARED },
};

/* ---- fixed header ---- */

static const u8 cv_type_0_reserved[] = {
	0x00, 0x00,
};

static const u8 cv_auth_below_5_is_bad_type[] = {
	0xf0, 0x00,
};

static const u8 cv_connect_flags_reserved[] = {
	0x11, 0x00,
};

static const u8 cv_connack_flags_reserved[] = {
	0x28, 0x02, 0x00, 0x00,
};

static const u8 cv_puback_flags_reserved[] = {
	0x42, 0x02, 0x00, 0x01,
};

static const u8 cv_pubrel_flags_must_be_0010[] = {
	0x60, 0x02, 0x00, 0x01,
};

static const u8 cv_pubrel_31_dup_allowed[] = {
	'j', 0x02, 0x00, 0x01,
};

static const u8 cv_pubrel_311_dup_reserved[] = {
	'j', 0x02, 0x00, 0x01,
};

static const u8 cv_subscribe_flags_must_be_0010[] = {
	0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x00,
};

static const u8 cv_unsubscribe_flags_must_be_0010[] = {
	0xa0, 0x05, 0x00, 0x01, 0x00, 0x01, 'a',
};

static const u8 cv_pingreq_flags_reserved[] = {
	0xc1, 0x00,
};

static const u8 cv_disconnect_flags_reserved[] = {
	0xe8, 0x00,
};

static const u8 cv_publish_qos3[] = {
	0x36, 0x05, 0x00, 0x01, 'a', 0x00, 0x01,
};

static const u8 cv_publish_dup_with_qos0[] = {
	0x38, 0x03, 0x00, 0x01, 'a',
};

static const u8 cv_remlen_5_bytes[] = {
	0x30, 0xff, 0xff, 0xff, 0xff, 0x01,
};

static const u8 cv_remlen_non_minimal_allowed_311[] = {
	0xc0, 0x80, 0x00,
};

static const u8 cv_remlen_non_minimal_rejected_5[] = {
	0xc0, 0x80, 0x00,
};

static const u8 cv_packet_too_large_by_header[] = {
	0x30, 0xff, 0xff, 0x7f,
};

static const u8 cv_packet_over_tight_limit[] = {
	0x30, 0x7f,
};

static const u8 cv_publish_before_connect[] = {
	0x30, 0x03, 0x00, 0x01, 'a',
};

/* ---- CONNECT ---- */

static const u8 cv_connect_311_minimal[] = {
	0x10, 0x0d, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x01, 'c',
};

static const u8 cv_connect_31_mqisdp[] = {
	0x10, 0x0f, 0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p', 0x03, 0x02, 0x00, 0x3c, 0x00, 0x01,
	'c',
};

static const u8 cv_connect_5_minimal[] = {
	0x10, 0x0e, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3c, 0x00, 0x00, 0x01, 'c',
};

static const u8 cv_connect_5_remlen_non_minimal[] = {
	0x10, 0x8e, 0x00, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3c, 0x00, 0x00, 0x01,
	'c',
};

static const u8 cv_connect_311_remlen_non_minimal_ok[] = {
	0x10, 0x8d, 0x00, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x01, 'c',
};

static const u8 cv_connect_connected_level_ignored[] = {
	0x10, 0x0e, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3c, 0x00, 0x00, 0x01, 'c',
};

static const u8 cv_connect_bad_protocol_name[] = {
	0x10, 0x0d, 0x00, 0x04, 'M', 'Q', 'T', 'X', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x01, 'c',
};

static const u8 cv_connect_unsupported_level_6[] = {
	0x10, 0x0d, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x06, 0x02, 0x00, 0x3c, 0x00, 0x01, 'c',
};

static const u8 cv_connect_mqtt_name_level_3[] = {
	0x10, 0x0d, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x03, 0x02, 0x00, 0x3c, 0x00, 0x01, 'c',
};

static const u8 cv_connect_mqisdp_name_level_4[] = {
	0x10, 0x0f, 0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x01,
	'c',
};

static const u8 cv_connect_reserved_flag[] = {
	0x10, 0x0d, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x03, 0x00, 0x3c, 0x00, 0x01, 'c',
};

static const u8 cv_connect_will_qos_without_will[] = {
	0x10, 0x0d, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x0a, 0x00, 0x3c, 0x00, 0x01, 'c',
};

static const u8 cv_connect_will_retain_without_will[] = {
	0x10, 0x0d, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x22, 0x00, 0x3c, 0x00, 0x01, 'c',
};

static const u8 cv_connect_will_qos3[] = {
	0x10, 0x13, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x1e, 0x00, 0x3c, 0x00, 0x01, 'c', 0x00,
	0x01, 'w', 0x00, 0x01, 'x',
};

static const u8 cv_connect_311_password_without_username[] = {
	0x10, 0x10, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x42, 0x00, 0x3c, 0x00, 0x01, 'c', 0x00,
	0x01, 'p',
};

static const u8 cv_connect_31_password_without_username[] = {
	0x10, 0x12, 0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p', 0x03, 0x42, 0x00, 0x3c, 0x00, 0x01,
	'c', 0x00, 0x01, 'p',
};

static const u8 cv_connect_5_password_without_username_ok[] = {
	0x10, 0x11, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x42, 0x00, 0x3c, 0x00, 0x00, 0x01, 'c',
	0x00, 0x01, 'p',
};

static const u8 cv_connect_31_empty_client_id[] = {
	0x10, 0x0e, 0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p', 0x03, 0x02, 0x00, 0x3c, 0x00, 0x00,
};

static const u8 cv_connect_31_client_id_24_bytes[] = {
	0x10, 0x26, 0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p', 0x03, 0x02, 0x00, 0x3c, 0x00, 0x18,
	'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r',
	's', 't', 'u', 'v', 'w', 'x',
};

static const u8 cv_connect_31_client_id_23_bytes[] = {
	0x10, 0x25, 0x00, 0x06, 'M', 'Q', 'I', 's', 'd', 'p', 0x03, 0x02, 0x00, 0x3c, 0x00, 0x17,
	'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'q', 'r',
	's', 't', 'u', 'v', 'w',
};

static const u8 cv_connect_311_empty_client_id_left_to_caller[] = {
	0x10, 0x0c, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x00, 0x00, 0x3c, 0x00, 0x00,
};

static const u8 cv_connect_client_id_over_limit[] = {
	0x10, 0x15, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x09, '1', '2',
	'3', '4', '5', '6', '7', '8', '9',
};

static const u8 cv_connect_client_id_overlong_utf8[] = {
	0x10, 0x0e, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x02, 0xc0, 0x80,
};

static const u8 cv_connect_client_id_nul[] = {
	0x10, 0x0e, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x02, 'a', 0x00,
};

static const u8 cv_connect_client_id_surrogate[] = {
	0x10, 0x0f, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x03, 0xed, 0xa0,
	0x80,
};

static const u8 cv_connect_client_id_truncated_sequence[] = {
	0x10, 0x0f, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x03, 'a', 0xe2,
	0x82,
};

static const u8 cv_connect_client_id_4_byte_utf8_ok[] = {
	0x10, 0x10, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x04, 0xf0, 0x9f,
	0x98, 0x80,
};

static const u8 cv_connect_311_will[] = {
	0x10, 0x17, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x2e, 0x00, 0x3c, 0x00, 0x01, 'c', 0x00,
	0x03, 'w', '/', 't', 0x00, 0x03, 'b', 'y', 'e',
};

static const u8 cv_connect_will_topic_wildcard[] = {
	0x10, 0x15, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x06, 0x00, 0x3c, 0x00, 0x01, 'c', 0x00,
	0x03, 'w', '/', '#', 0x00, 0x01, 'x',
};

static const u8 cv_connect_311_user_password[] = {
	0x10, 0x14, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0xc2, 0x00, 0x3c, 0x00, 0x01, 'c', 0x00,
	0x01, 'u', 0x00, 0x02, 0x00, 0xff,
};

static const u8 cv_connect_username_bad_utf8[] = {
	0x10, 0x10, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x82, 0x00, 0x3c, 0x00, 0x01, 'c', 0x00,
	0x01, 0xff,
};

static const u8 cv_connect_trailing_bytes[] = {
	0x10, 0x0e, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x01, 'c', 0x00,
};

static const u8 cv_connect_client_id_truncated[] = {
	0x10, 0x0d, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3c, 0x00, 0x05, 'c',
};

static const u8 cv_connect_missing_keep_alive[] = {
	0x10, 0x09, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00,
};

static const u8 cv_connect_user_flag_without_username[] = {
	0x10, 0x0d, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x82, 0x00, 0x3c, 0x00, 0x01, 'c',
};

static const u8 cv_connect_5_props[] = {
	0x10, 0x29, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3c, 0x1b, 0x11, 0x00, 0x00,
	0x00, 0x3c, 0x21, 0x00, 0x0a, 0x27, 0x00, 0x00, 0x04, 0x00, 0x26, 0x00, 0x01, 'k', 0x00,
	0x01, 'v', 0x26, 0x00, 0x01, 'k', 0x00, 0x01, 'w', 0x00, 0x01, 'c',
};

static const u8 cv_connect_5_receive_max_0[] = {
	0x10, 0x11, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3c, 0x03, 0x21, 0x00, 0x00,
	0x00, 0x01, 'c',
};

static const u8 cv_connect_5_max_packet_size_0[] = {
	0x10, 0x13, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3c, 0x05, 0x27, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x01, 'c',
};

static const u8 cv_connect_5_request_problem_info_2[] = {
	0x10, 0x10, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3c, 0x02, 0x17, 0x02, 0x00,
	0x01, 'c',
};

static const u8 cv_connect_5_request_response_info_2[] = {
	0x10, 0x10, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3c, 0x02, 0x19, 0x02, 0x00,
	0x01, 'c',
};

static const u8 cv_connect_5_duplicate_session_expiry[] = {
	0x10, 0x18, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3c, 0x0a, 0x11, 0x00, 0x00,
	0x00, 0x01, 0x11, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 'c',
};

static const u8 cv_connect_5_topic_alias_not_allowed[] = {
	0x10, 0x11, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3c, 0x03, 0x23, 0x00, 0x01,
	0x00, 0x01, 'c',
};

static const u8 cv_connect_5_will_delay_not_allowed_in_connect[] = {
	0x10, 0x13, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3c, 0x05, 0x18, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x01, 'c',
};

static const u8 cv_connect_5_unknown_property[] = {
	0x10, 0x10, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3c, 0x02, 0x05, 0x00, 0x00,
	0x01, 'c',
};

static const u8 cv_connect_5_property_id_non_minimal[] = {
	0x10, 0x14, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3c, 0x06, 0x91, 0x00, 0x00,
	0x00, 0x00, 0x01, 0x00, 0x01, 'c',
};

static const u8 cv_connect_5_props_length_past_end[] = {
	0x10, 0x10, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3c, 0x20, 0x11, 0x00, 0x00,
	0x00, 0x01,
};

static const u8 cv_connect_5_property_value_past_block[] = {
	0x10, 0x13, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3c, 0x03, 0x11, 0x00, 0x00,
	0x00, 0x01, 0x00, 0x01, 'c',
};

static const u8 cv_connect_5_auth_data_without_method[] = {
	0x10, 0x13, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3c, 0x05, 0x16, 0x00, 0x02,
	0x01, 0x02, 0x00, 0x01, 'c',
};

static const u8 cv_connect_5_auth_method_and_data[] = {
	0x10, 0x1b, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3c, 0x0d, 0x15, 0x00, 0x05,
	'S', 'C', 'R', 'A', 'M', 0x16, 0x00, 0x02, 0x01, 0x02, 0x00, 0x01, 'c',
};

static const u8 cv_connect_5_user_property_bad_utf8[] = {
	0x10, 0x16, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3c, 0x08, 0x26, 0x00, 0x01,
	'k', 0x00, 0x02, 0xc1, 0x81, 0x00, 0x01, 'c',
};

static const u8 cv_connect_5_will_props[] = {
	0x10, 0x37, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x0e, 0x00, 0x3c, 0x00, 0x00, 0x01, 'c',
	0x1e, 0x18, 0x00, 0x00, 0x00, 0x05, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x1e, 0x03, 0x00,
	0x03, 't', 'x', 't', 0x08, 0x00, 0x03, 'r', '/', '1', 0x09, 0x00, 0x03, 0x01, 0x02, 0x03,
	0x00, 0x03, 'w', '/', 't', 0x00, 0x03, 'b', 'y', 'e',
};

static const u8 cv_connect_5_will_response_topic_wildcard[] = {
	0x10, 0x1b, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x06, 0x00, 0x3c, 0x00, 0x00, 0x01, 'c',
	0x06, 0x08, 0x00, 0x03, 'r', '/', '+', 0x00, 0x01, 'w', 0x00, 0x01, 'x',
};

static const u8 cv_connect_5_will_session_expiry_not_allowed[] = {
	0x10, 0x1a, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x06, 0x00, 0x3c, 0x00, 0x00, 0x01, 'c',
	0x05, 0x11, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 'w', 0x00, 0x01, 'x',
};

static const u8 cv_connect_5_too_many_user_props[] = {
	0x10, 0x1c, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3c, 0x0e, 0x26, 0x00, 0x01,
	'a', 0x00, 0x01, 0x31, 0x26, 0x00, 0x01, 'b', 0x00, 0x01, 0x32, 0x00, 0x01, 'c',
};

static const u8 cv_connect_5_too_many_props[] = {
	0x10, 0x1b, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3c, 0x0d, 0x11, 0x00, 0x00,
	0x00, 0x01, 0x21, 0x00, 0x01, 0x22, 0x00, 0x01, 0x17, 0x01, 0x00, 0x01, 'c',
};

/* ---- CONNACK ---- */

static const u8 cv_connack_311[] = {
	0x20, 0x02, 0x00, 0x00,
};

static const u8 cv_connack_311_session_present[] = {
	0x20, 0x02, 0x01, 0x00,
};

static const u8 cv_connack_311_refused[] = {
	0x20, 0x02, 0x00, 0x05,
};

static const u8 cv_connack_reserved_flags[] = {
	0x20, 0x02, 0x02, 0x00,
};

static const u8 cv_connack_311_return_code_6[] = {
	0x20, 0x02, 0x00, 0x06,
};

static const u8 cv_connack_311_session_present_on_refusal[] = {
	0x20, 0x02, 0x01, 0x05,
};

static const u8 cv_connack_311_trailing[] = {
	0x20, 0x03, 0x00, 0x00, 0x00,
};

static const u8 cv_connack_5[] = {
	0x20, 0x03, 0x00, 0x00, 0x00,
};

static const u8 cv_connack_5_props[] = {
	0x20, 0x28, 0x01, 0x00, 0x25, 0x24, 0x01, 0x25, 0x00, 0x12, 0x00, 0x02, 'i', 'd', 0x22,
	0x00, 0x10, 0x13, 0x00, 0x1e, 0x28, 0x00, 0x29, 0x01, 0x2a, 0x00, 0x21, 0x00, 0x14, 0x1a,
	0x00, 0x01, 'r', 0x1c, 0x00, 0x01, 's', 0x1f, 0x00, 0x02, 'o', 'k',
};

static const u8 cv_connack_5_refused_reason[] = {
	0x20, 0x03, 0x00, 0x87, 0x00,
};

static const u8 cv_connack_5_max_qos_2[] = {
	0x20, 0x05, 0x00, 0x00, 0x02, 0x24, 0x02,
};

static const u8 cv_connack_5_retain_available_2[] = {
	0x20, 0x05, 0x00, 0x00, 0x02, 0x25, 0x02,
};

static const u8 cv_connack_5_bad_reason[] = {
	0x20, 0x03, 0x00, 0x04, 0x00,
};

static const u8 cv_connack_5_session_present_on_refusal[] = {
	0x20, 0x03, 0x01, 0x80, 0x00,
};

static const u8 cv_connack_5_missing_properties[] = {
	0x20, 0x02, 0x00, 0x00,
};

static const u8 cv_connack_5_will_delay_not_allowed[] = {
	0x20, 0x08, 0x00, 0x00, 0x05, 0x18, 0x00, 0x00, 0x00, 0x01,
};

/* ---- PUBLISH ---- */

static const u8 cv_publish_311_qos0[] = {
	0x30, 0x07, 0x00, 0x03, 'a', '/', 'b', 'h', 'i',
};

static const u8 cv_publish_311_qos1[] = {
	0x32, 0x09, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0a, 'h', 'i',
};

static const u8 cv_publish_311_qos2_dup_retain[] = {
	0x3d, 0x05, 0x00, 0x01, 'a', 0x00, 0x07,
};

static const u8 cv_publish_31_qos1[] = {
	0x32, 0x06, 0x00, 0x01, 'a', 0x00, 0x01, 'x',
};

static const u8 cv_publish_311_empty_payload[] = {
	0x31, 0x05, 0x00, 0x03, 'a', '/', 'b',
};

static const u8 cv_publish_311_zero_packet_id[] = {
	0x32, 0x05, 0x00, 0x01, 'a', 0x00, 0x00,
};

static const u8 cv_publish_311_missing_packet_id[] = {
	0x32, 0x04, 0x00, 0x01, 'a', 0x00,
};

static const u8 cv_publish_topic_plus_wildcard[] = {
	0x30, 0x06, 0x00, 0x03, 'a', '/', '+', 'x',
};

static const u8 cv_publish_topic_hash_wildcard[] = {
	0x30, 0x03, 0x00, 0x01, 0x23,
};

static const u8 cv_publish_311_empty_topic[] = {
	0x30, 0x03, 0x00, 0x00, 'x',
};

static const u8 cv_publish_topic_bad_utf8[] = {
	0x30, 0x05, 0x00, 0x02, 'a', 0x80, 'x',
};

static const u8 cv_publish_topic_nul[] = {
	0x30, 0x05, 0x00, 0x02, 'a', 0x00, 'x',
};

static const u8 cv_publish_topic_truncated[] = {
	0x30, 0x05, 0x00, 0x0a, 'a', '/', 'b',
};

static const u8 cv_publish_topic_too_deep[] = {
	0x30, 0x0b, 0x00, 0x09, 'a', '/', 'b', '/', 'c', '/', 'd', '/', 'e',
};

static const u8 cv_publish_topic_too_long[] = {
	0x30, 0x13, 0x00, 0x11, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm',
	'n', 'o', 'p', 'q',
};

static const u8 cv_publish_5_qos0[] = {
	0x30, 0x08, 0x00, 0x03, 'a', '/', 'b', 0x00, 'h', 'i',
};

static const u8 cv_publish_5_qos1_props[] = {
	0x32, 0x2a, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0a, 0x20, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00,
	0x1e, 0x03, 0x00, 0x03, 't', 'x', 't', 0x08, 0x00, 0x03, 'r', '/', '1', 0x09, 0x00, 0x03,
	0x01, 0x02, 0x03, 0x26, 0x00, 0x01, 'k', 0x00, 0x01, 'v', 'h', 'i',
};

static const u8 cv_publish_5_topic_alias_empty_topic[] = {
	0x30, 0x07, 0x00, 0x00, 0x03, 0x23, 0x00, 0x01, 'x',
};

static const u8 cv_publish_5_topic_alias_and_topic[] = {
	0x30, 0x08, 0x00, 0x01, 'a', 0x03, 0x23, 0x00, 0x01, 'x',
};

static const u8 cv_publish_5_empty_topic_without_alias[] = {
	0x30, 0x04, 0x00, 0x00, 0x00, 'x',
};

static const u8 cv_publish_5_topic_alias_0[] = {
	0x30, 0x07, 0x00, 0x01, 'a', 0x03, 0x23, 0x00, 0x00,
};

static const u8 cv_publish_5_duplicate_topic_alias[] = {
	0x30, 0x0a, 0x00, 0x01, 'a', 0x06, 0x23, 0x00, 0x01, 0x23, 0x00, 0x02,
};

static const u8 cv_publish_5_subscription_ids_repeat[] = {
	0x30, 0x09, 0x00, 0x01, 'a', 0x05, 0x0b, 0x01, 0x0b, 0x80, 0x01,
};

static const u8 cv_publish_5_subscription_id_0[] = {
	0x30, 0x06, 0x00, 0x01, 'a', 0x02, 0x0b, 0x00,
};

static const u8 cv_publish_5_subscription_id_5_bytes[] = {
	0x30, 0x0a, 0x00, 0x01, 'a', 0x06, 0x0b, 0xff, 0xff, 0xff, 0xff, 0x01,
};

static const u8 cv_publish_5_payload_format_2[] = {
	0x30, 0x06, 0x00, 0x01, 'a', 0x02, 0x01, 0x02,
};

static const u8 cv_publish_5_duplicate_message_expiry[] = {
	0x30, 0x0e, 0x00, 0x01, 'a', 0x0a, 0x02, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00,
	0x01,
};

static const u8 cv_publish_5_duplicate_content_type[] = {
	0x30, 0x0c, 0x00, 0x01, 'a', 0x08, 0x03, 0x00, 0x01, 'a', 0x03, 0x00, 0x01, 'b',
};

static const u8 cv_publish_5_response_topic_wildcard[] = {
	0x30, 0x0a, 0x00, 0x01, 'a', 0x06, 0x08, 0x00, 0x03, 'r', '/', '#',
};

static const u8 cv_publish_5_content_type_bad_utf8[] = {
	0x30, 0x0a, 0x00, 0x01, 'a', 0x06, 0x03, 0x00, 0x03, 0xe0, 0x80, 0x80,
};

static const u8 cv_publish_5_session_expiry_not_allowed[] = {
	0x30, 0x09, 0x00, 0x01, 'a', 0x05, 0x11, 0x00, 0x00, 0x00, 0x01,
};

static const u8 cv_publish_5_missing_properties[] = {
	0x30, 0x03, 0x00, 0x01, 'a',
};

static const u8 cv_publish_5_correlation_data_truncated[] = {
	0x30, 0x08, 0x00, 0x01, 'a', 0x04, 0x09, 0x00, 0x09, 0x01,
};

/* ---- PUBACK, PUBREC, PUBREL, PUBCOMP ---- */

static const u8 cv_puback_311[] = {
	0x40, 0x02, 0x00, 0x01,
};

static const u8 cv_pubrec_311[] = {
	0x50, 0x02, 0x00, 0x01,
};

static const u8 cv_pubrel_311[] = {
	'b', 0x02, 0x00, 0x01,
};

static const u8 cv_pubcomp_311[] = {
	'p', 0x02, 0x00, 0x01,
};

static const u8 cv_puback_zero_packet_id[] = {
	0x40, 0x02, 0x00, 0x00,
};

static const u8 cv_pubcomp_zero_packet_id[] = {
	'p', 0x02, 0x00, 0x00,
};

static const u8 cv_puback_311_trailing[] = {
	0x40, 0x03, 0x00, 0x01, 0x00,
};

static const u8 cv_puback_truncated[] = {
	0x40, 0x01, 0x00,
};

static const u8 cv_puback_5_short_form[] = {
	0x40, 0x02, 0x00, 0x01,
};

static const u8 cv_puback_5_reason_only[] = {
	0x40, 0x03, 0x00, 0x01, 0x10,
};

static const u8 cv_puback_5_reason_empty_props[] = {
	0x40, 0x04, 0x00, 0x01, 0x10, 0x00,
};

static const u8 cv_puback_5_reason_string[] = {
	0x40, 0x11, 0x00, 0x01, 0x80, 0x0d, 0x1f, 0x00, 0x03, 'b', 'a', 'd', 0x26, 0x00, 0x01, 'k',
	0x00, 0x01, 'v',
};

static const u8 cv_puback_5_reason_0x92_invalid[] = {
	0x40, 0x03, 0x00, 0x01, 0x92,
};

static const u8 cv_pubrec_5_reason_0x10[] = {
	0x50, 0x03, 0x00, 0x01, 0x10,
};

static const u8 cv_pubrel_5_reason_0x92[] = {
	'b', 0x03, 0x00, 0x01, 0x92,
};

static const u8 cv_pubrel_5_reason_0x10_invalid[] = {
	'b', 0x03, 0x00, 0x01, 0x10,
};

static const u8 cv_pubcomp_5_reason_0x80_invalid[] = {
	'p', 0x03, 0x00, 0x01, 0x80,
};

static const u8 cv_puback_5_topic_alias_not_allowed[] = {
	0x40, 0x07, 0x00, 0x01, 0x00, 0x03, 0x23, 0x00, 0x01,
};

static const u8 cv_puback_5_props_past_end[] = {
	0x40, 0x04, 0x00, 0x01, 0x00, 0x05,
};

static const u8 cv_puback_5_duplicate_reason_string[] = {
	0x40, 0x0c, 0x00, 0x01, 0x80, 0x08, 0x1f, 0x00, 0x01, 'a', 0x1f, 0x00, 0x01, 'b',
};

/* ---- SUBSCRIBE ---- */

static const u8 cv_subscribe_311[] = {
	0x82, 0x08, 0x00, 0x01, 0x00, 0x03, 'a', '/', '#', 0x01,
};

static const u8 cv_subscribe_311_two_filters[] = {
	0x82, 0x0c, 0x00, 0x02, 0x00, 0x03, 'a', '/', '+', 0x00, 0x00, 0x01, 'b', 0x02,
};

static const u8 cv_subscribe_31[] = {
	0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x01,
};

static const u8 cv_subscribe_zero_packet_id[] = {
	0x82, 0x06, 0x00, 0x00, 0x00, 0x01, 'a', 0x00,
};

static const u8 cv_subscribe_no_filters[] = {
	0x82, 0x02, 0x00, 0x01,
};

static const u8 cv_subscribe_5_no_filters[] = {
	0x82, 0x03, 0x00, 0x01, 0x00,
};

static const u8 cv_subscribe_qos3[] = {
	0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x03,
};

static const u8 cv_subscribe_311_reserved_option_bits[] = {
	0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x04,
};

static const u8 cv_subscribe_filter_hash_not_last[] = {
	0x82, 0x0a, 0x00, 0x01, 0x00, 0x05, 'a', '/', '#', '/', 'b', 0x00,
};

static const u8 cv_subscribe_filter_plus_not_alone[] = {
	0x82, 0x07, 0x00, 0x01, 0x00, 0x02, 'a', '+', 0x00,
};

static const u8 cv_subscribe_empty_filter[] = {
	0x82, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00,
};

static const u8 cv_subscribe_filter_bad_utf8[] = {
	0x82, 0x0a, 0x00, 0x01, 0x00, 0x05, 0xf8, 0x88, 0x80, 0x80, 0x80, 0x00,
};

static const u8 cv_subscribe_missing_options[] = {
	0x82, 0x05, 0x00, 0x01, 0x00, 0x01, 'a',
};

static const u8 cv_subscribe_too_many_filters[] = {
	0x82, 0x0e, 0x00, 0x01, 0x00, 0x01, 'a', 0x00, 0x00, 0x01, 'b', 0x00, 0x00, 0x01, 'c', 0x00,
};

static const u8 cv_subscribe_5_options[] = {
	0x82, 0x0b, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', '.', 0x00, 0x01, 'b', 0x11,
};

static const u8 cv_subscribe_5_reserved_option_bits[] = {
	0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', 0x40,
};

static const u8 cv_subscribe_5_retain_handling_3[] = {
	0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', '0',
};

static const u8 cv_subscribe_5_shared[] = {
	0x82, 0x12, 0x00, 0x01, 0x00, 0x00, 0x0c, '$', 's', 'h', 'a', 'r', 'e', '/', 'g', '/', 'a',
	'/', '#', 0x01,
};

static const u8 cv_subscribe_5_shared_no_local[] = {
	0x82, 0x10, 0x00, 0x01, 0x00, 0x00, 0x0a, '$', 's', 'h', 'a', 'r', 'e', '/', 'g', '/', 'a',
	0x04,
};

static const u8 cv_subscribe_5_shared_empty_group[] = {
	0x82, 0x0f, 0x00, 0x01, 0x00, 0x00, 0x09, '$', 's', 'h', 'a', 'r', 'e', '/', '/', 'a', 0x00,
};

static const u8 cv_subscribe_5_subscription_id[] = {
	0x82, 0x13, 0x00, 0x01, 0x0c, 0x0b, 0xff, 0xff, 0xff, 0x7f, 0x26, 0x00, 0x01, 'k', 0x00,
	0x01, 'v', 0x00, 0x01, 'a', 0x00,
};

static const u8 cv_subscribe_5_two_subscription_ids[] = {
	0x82, 0x0b, 0x00, 0x01, 0x04, 0x0b, 0x01, 0x0b, 0x02, 0x00, 0x01, 'a', 0x00,
};

static const u8 cv_subscribe_5_subscription_id_0[] = {
	0x82, 0x09, 0x00, 0x01, 0x02, 0x0b, 0x00, 0x00, 0x01, 'a', 0x00,
};

static const u8 cv_subscribe_5_subscription_id_non_minimal[] = {
	0x82, 0x0a, 0x00, 0x01, 0x03, 0x0b, 0x81, 0x00, 0x00, 0x01, 'a', 0x00,
};

static const u8 cv_subscribe_5_reason_string_not_allowed[] = {
	0x82, 0x0b, 0x00, 0x01, 0x04, 0x1f, 0x00, 0x01, 'r', 0x00, 0x01, 'a', 0x00,
};

/* ---- SUBACK ---- */

static const u8 cv_suback_311[] = {
	0x90, 0x04, 0x00, 0x01, 0x01, 0x80,
};

static const u8 cv_suback_311_return_code_3[] = {
	0x90, 0x03, 0x00, 0x01, 0x03,
};

static const u8 cv_suback_311_no_codes[] = {
	0x90, 0x02, 0x00, 0x01,
};

static const u8 cv_suback_5[] = {
	0x90, 0x06, 0x00, 0x01, 0x00, 0x02, 0xa1, 0x8f,
};

static const u8 cv_suback_5_reason_0x04_invalid[] = {
	0x90, 0x04, 0x00, 0x01, 0x00, 0x04,
};

/* ---- UNSUBSCRIBE ---- */

static const u8 cv_unsubscribe_311[] = {
	0xa2, 0x0a, 0x00, 0x01, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x01, 0x23,
};

static const u8 cv_unsubscribe_no_filters[] = {
	0xa2, 0x02, 0x00, 0x01,
};

static const u8 cv_unsubscribe_zero_packet_id[] = {
	0xa2, 0x05, 0x00, 0x00, 0x00, 0x01, 'a',
};

static const u8 cv_unsubscribe_bad_filter[] = {
	0xa2, 0x07, 0x00, 0x01, 0x00, 0x03, '#', '/', 'a',
};

static const u8 cv_unsubscribe_too_many_filters[] = {
	0xa2, 0x0b, 0x00, 0x01, 0x00, 0x01, 'a', 0x00, 0x01, 'b', 0x00, 0x01, 'c',
};

static const u8 cv_unsubscribe_5[] = {
	0xa2, 0x0d, 0x00, 0x01, 0x07, 0x26, 0x00, 0x01, 'k', 0x00, 0x01, 'v', 0x00, 0x01, 'a',
};

static const u8 cv_unsubscribe_5_subscription_id_not_allowed[] = {
	0xa2, 0x08, 0x00, 0x01, 0x02, 0x0b, 0x01, 0x00, 0x01, 'a',
};

/* ---- UNSUBACK ---- */

static const u8 cv_unsuback_311[] = {
	0xb0, 0x02, 0x00, 0x01,
};

static const u8 cv_unsuback_311_trailing[] = {
	0xb0, 0x03, 0x00, 0x01, 0x00,
};

static const u8 cv_unsuback_5[] = {
	0xb0, 0x05, 0x00, 0x01, 0x00, 0x00, 0x11,
};

static const u8 cv_unsuback_5_no_codes[] = {
	0xb0, 0x03, 0x00, 0x01, 0x00,
};

static const u8 cv_unsuback_5_reason_0x01_invalid[] = {
	0xb0, 0x04, 0x00, 0x01, 0x00, 0x01,
};

/* ---- PINGREQ, PINGRESP ---- */

static const u8 cv_pingreq[] = {
	0xc0, 0x00,
};

static const u8 cv_pingresp[] = {
	0xd0, 0x00,
};

static const u8 cv_pingreq_with_body[] = {
	0xc0, 0x01, 0x00,
};

/* ---- DISCONNECT ---- */

static const u8 cv_disconnect_311[] = {
	0xe0, 0x00,
};

static const u8 cv_disconnect_311_with_body[] = {
	0xe0, 0x01, 0x00,
};

static const u8 cv_disconnect_5_empty[] = {
	0xe0, 0x00,
};

static const u8 cv_disconnect_5_reason_only[] = {
	0xe0, 0x01, 0x04,
};

static const u8 cv_disconnect_5_props[] = {
	0xe0, 0x11, 0x00, 0x0f, 0x11, 0x00, 0x00, 0x00, 0x3c, 0x1f, 0x00, 0x03, 'b', 'y', 'e', 0x1c,
	0x00, 0x01, 's',
};

static const u8 cv_disconnect_5_reason_0x01_invalid[] = {
	0xe0, 0x01, 0x01,
};

static const u8 cv_disconnect_5_receive_max_not_allowed[] = {
	0xe0, 0x05, 0x00, 0x03, 0x21, 0x00, 0x01,
};

/* ---- AUTH ---- */

static const u8 cv_auth_5_empty[] = {
	0xf0, 0x00,
};

static const u8 cv_auth_5_continue[] = {
	0xf0, 0x10, 0x18, 0x0e, 0x15, 0x00, 0x05, 'S', 'C', 'R', 'A', 'M', 0x16, 0x00, 0x03, 0x01,
	0x02, 0x03,
};

static const u8 cv_auth_5_reason_without_properties[] = {
	0xf0, 0x01, 0x18,
};

static const u8 cv_auth_5_reason_0x01_invalid[] = {
	0xf0, 0x02, 0x01, 0x00,
};

static const u8 cv_auth_5_data_without_method[] = {
	0xf0, 0x06, 0x19, 0x04, 0x16, 0x00, 0x01, 0x01,
};

static const u8 cv_auth_5_user_props_ok[] = {
	0xf0, 0x09, 0x00, 0x07, 0x26, 0x00, 0x01, 'k', 0x00, 0x01, 'v',
};

static const struct codec_vector codec_vectors[] = {
	/* fixed header */
	CV("type-0-reserved", 4, 0, -MQTT_E_BAD_TYPE, cv_type_0_reserved),
	CV("auth-below-5-is-bad-type", 4, MQTT_AUTH, -MQTT_E_BAD_TYPE, cv_auth_below_5_is_bad_type),
	CV("connect-flags-reserved", 0, MQTT_CONNECT, -MQTT_E_RESERVED_FLAGS,
	   cv_connect_flags_reserved),
	CV("connack-flags-reserved", 4, MQTT_CONNACK, -MQTT_E_RESERVED_FLAGS,
	   cv_connack_flags_reserved),
	CV("puback-flags-reserved", 4, MQTT_PUBACK, -MQTT_E_RESERVED_FLAGS,
	   cv_puback_flags_reserved),
	CV("pubrel-flags-must-be-0010", 4, MQTT_PUBREL, -MQTT_E_RESERVED_FLAGS,
	   cv_pubrel_flags_must_be_0010),
	CV("pubrel-31-dup-allowed", 3, MQTT_PUBREL, 0, cv_pubrel_31_dup_allowed),
	CV("pubrel-311-dup-reserved", 4, MQTT_PUBREL, -MQTT_E_RESERVED_FLAGS,
	   cv_pubrel_311_dup_reserved),
	CV("subscribe-flags-must-be-0010", 4, MQTT_SUBSCRIBE, -MQTT_E_RESERVED_FLAGS,
	   cv_subscribe_flags_must_be_0010),
	CV("unsubscribe-flags-must-be-0010", 4, MQTT_UNSUBSCRIBE, -MQTT_E_RESERVED_FLAGS,
	   cv_unsubscribe_flags_must_be_0010),
	CV("pingreq-flags-reserved", 4, MQTT_PINGREQ, -MQTT_E_RESERVED_FLAGS,
	   cv_pingreq_flags_reserved),
	CV("disconnect-flags-reserved", 5, MQTT_DISCONNECT, -MQTT_E_RESERVED_FLAGS,
	   cv_disconnect_flags_reserved),
	CV("publish-qos3", 4, MQTT_PUBLISH, -MQTT_E_BAD_QOS, cv_publish_qos3),
	CV("publish-dup-with-qos0", 4, MQTT_PUBLISH, -MQTT_E_DUP_QOS0, cv_publish_dup_with_qos0),
	CV("remlen-5-bytes", 4, MQTT_PUBLISH, -MQTT_E_REMLEN_TOO_LONG, cv_remlen_5_bytes),
	CV("remlen-non-minimal-allowed-311", 4, MQTT_PINGREQ, 0, cv_remlen_non_minimal_allowed_311),
	CV("remlen-non-minimal-rejected-5", 5, MQTT_PINGREQ, -MQTT_E_REMLEN_NOT_MINIMAL,
	   cv_remlen_non_minimal_rejected_5),
	CV("packet-too-large-by-header", 4, MQTT_PUBLISH, -MQTT_E_PACKET_TOO_LARGE,
	   cv_packet_too_large_by_header),
	CV_TIGHT("packet-over-tight-limit", 4, MQTT_PUBLISH, -MQTT_E_PACKET_TOO_LARGE,
		 cv_packet_over_tight_limit),
	CV("publish-before-connect", 0, MQTT_PUBLISH, -MQTT_E_NOT_CONNECT,
	   cv_publish_before_connect),
	/* CONNECT */
	CV("connect-311-minimal", 0, MQTT_CONNECT, 0, cv_connect_311_minimal),
	CV("connect-31-mqisdp", 0, MQTT_CONNECT, 0, cv_connect_31_mqisdp),
	CV("connect-5-minimal", 0, MQTT_CONNECT, 0, cv_connect_5_minimal),
	CV("connect-5-remlen-non-minimal", 0, MQTT_CONNECT, -MQTT_E_REMLEN_NOT_MINIMAL,
	   cv_connect_5_remlen_non_minimal),
	CV("connect-311-remlen-non-minimal-ok", 0, MQTT_CONNECT, 0,
	   cv_connect_311_remlen_non_minimal_ok),
	CV("connect-connected-level-ignored", 4, MQTT_CONNECT, 0,
	   cv_connect_connected_level_ignored),
	CV("connect-bad-protocol-name", 0, MQTT_CONNECT, -MQTT_E_BAD_PROTOCOL,
	   cv_connect_bad_protocol_name),
	CV("connect-unsupported-level-6", 0, MQTT_CONNECT, -MQTT_E_BAD_LEVEL,
	   cv_connect_unsupported_level_6),
	CV("connect-mqtt-name-level-3", 0, MQTT_CONNECT, -MQTT_E_BAD_LEVEL,
	   cv_connect_mqtt_name_level_3),
	CV("connect-mqisdp-name-level-4", 0, MQTT_CONNECT, -MQTT_E_BAD_LEVEL,
	   cv_connect_mqisdp_name_level_4),
	CV("connect-reserved-flag", 0, MQTT_CONNECT, -MQTT_E_CONNECT_RESERVED,
	   cv_connect_reserved_flag),
	CV("connect-will-qos-without-will", 0, MQTT_CONNECT, -MQTT_E_WILL_FLAGS,
	   cv_connect_will_qos_without_will),
	CV("connect-will-retain-without-will", 0, MQTT_CONNECT, -MQTT_E_WILL_FLAGS,
	   cv_connect_will_retain_without_will),
	CV("connect-will-qos3", 0, MQTT_CONNECT, -MQTT_E_BAD_QOS, cv_connect_will_qos3),
	CV("connect-311-password-without-username", 0, MQTT_CONNECT, -MQTT_E_PASSWORD_NO_USER,
	   cv_connect_311_password_without_username),
	CV("connect-31-password-without-username", 0, MQTT_CONNECT, -MQTT_E_PASSWORD_NO_USER,
	   cv_connect_31_password_without_username),
	CV("connect-5-password-without-username-ok", 0, MQTT_CONNECT, 0,
	   cv_connect_5_password_without_username_ok),
	CV("connect-31-empty-client-id", 0, MQTT_CONNECT, -MQTT_E_CLIENT_ID,
	   cv_connect_31_empty_client_id),
	CV("connect-31-client-id-24-bytes", 0, MQTT_CONNECT, -MQTT_E_CLIENT_ID,
	   cv_connect_31_client_id_24_bytes),
	CV("connect-31-client-id-23-bytes", 0, MQTT_CONNECT, 0, cv_connect_31_client_id_23_bytes),
	CV("connect-311-empty-client-id-left-to-caller", 0, MQTT_CONNECT, 0,
	   cv_connect_311_empty_client_id_left_to_caller),
	CV_TIGHT("connect-client-id-over-limit", 0, MQTT_CONNECT, -MQTT_E_CLIENT_ID,
		 cv_connect_client_id_over_limit),
	CV("connect-client-id-overlong-utf8", 0, MQTT_CONNECT, -MQTT_E_BAD_UTF8,
	   cv_connect_client_id_overlong_utf8),
	CV("connect-client-id-nul", 0, MQTT_CONNECT, -MQTT_E_BAD_UTF8, cv_connect_client_id_nul),
	CV("connect-client-id-surrogate", 0, MQTT_CONNECT, -MQTT_E_BAD_UTF8,
	   cv_connect_client_id_surrogate),
	CV("connect-client-id-truncated-sequence", 0, MQTT_CONNECT, -MQTT_E_BAD_UTF8,
	   cv_connect_client_id_truncated_sequence),
	CV("connect-client-id-4-byte-utf8-ok", 0, MQTT_CONNECT, 0,
	   cv_connect_client_id_4_byte_utf8_ok),
	CV("connect-311-will", 0, MQTT_CONNECT, 0, cv_connect_311_will),
	CV("connect-will-topic-wildcard", 0, MQTT_CONNECT, -MQTT_E_BAD_TOPIC,
	   cv_connect_will_topic_wildcard),
	CV("connect-311-user-password", 0, MQTT_CONNECT, 0, cv_connect_311_user_password),
	CV("connect-username-bad-utf8", 0, MQTT_CONNECT, -MQTT_E_BAD_UTF8,
	   cv_connect_username_bad_utf8),
	CV("connect-trailing-bytes", 0, MQTT_CONNECT, -MQTT_E_TRAILING, cv_connect_trailing_bytes),
	CV("connect-client-id-truncated", 0, MQTT_CONNECT, -MQTT_E_TRUNCATED,
	   cv_connect_client_id_truncated),
	CV("connect-missing-keep-alive", 0, MQTT_CONNECT, -MQTT_E_TRUNCATED,
	   cv_connect_missing_keep_alive),
	CV("connect-user-flag-without-username", 0, MQTT_CONNECT, -MQTT_E_TRUNCATED,
	   cv_connect_user_flag_without_username),
	CV("connect-5-props", 0, MQTT_CONNECT, 0, cv_connect_5_props),
	CV("connect-5-receive-max-0", 0, MQTT_CONNECT, -MQTT_E_PROPERTY_VALUE,
	   cv_connect_5_receive_max_0),
	CV("connect-5-max-packet-size-0", 0, MQTT_CONNECT, -MQTT_E_PROPERTY_VALUE,
	   cv_connect_5_max_packet_size_0),
	CV("connect-5-request-problem-info-2", 0, MQTT_CONNECT, -MQTT_E_PROPERTY_VALUE,
	   cv_connect_5_request_problem_info_2),
	CV("connect-5-request-response-info-2", 0, MQTT_CONNECT, -MQTT_E_PROPERTY_VALUE,
	   cv_connect_5_request_response_info_2),
	CV("connect-5-duplicate-session-expiry", 0, MQTT_CONNECT, -MQTT_E_DUP_PROPERTY,
	   cv_connect_5_duplicate_session_expiry),
	CV("connect-5-topic-alias-not-allowed", 0, MQTT_CONNECT, -MQTT_E_PROPERTY_NOT_ALLOWED,
	   cv_connect_5_topic_alias_not_allowed),
	CV("connect-5-will-delay-not-allowed-in-connect", 0, MQTT_CONNECT,
	   -MQTT_E_PROPERTY_NOT_ALLOWED, cv_connect_5_will_delay_not_allowed_in_connect),
	CV("connect-5-unknown-property", 0, MQTT_CONNECT, -MQTT_E_BAD_PROPERTY,
	   cv_connect_5_unknown_property),
	CV("connect-5-property-id-non-minimal", 0, MQTT_CONNECT, -MQTT_E_BAD_VARINT,
	   cv_connect_5_property_id_non_minimal),
	CV("connect-5-props-length-past-end", 0, MQTT_CONNECT, -MQTT_E_PROPERTY_LENGTH,
	   cv_connect_5_props_length_past_end),
	CV("connect-5-property-value-past-block", 0, MQTT_CONNECT, -MQTT_E_PROPERTY_LENGTH,
	   cv_connect_5_property_value_past_block),
	CV("connect-5-auth-data-without-method", 0, MQTT_CONNECT, -MQTT_E_AUTH_DATA_NO_METHOD,
	   cv_connect_5_auth_data_without_method),
	CV("connect-5-auth-method-and-data", 0, MQTT_CONNECT, 0, cv_connect_5_auth_method_and_data),
	CV("connect-5-user-property-bad-utf8", 0, MQTT_CONNECT, -MQTT_E_BAD_UTF8,
	   cv_connect_5_user_property_bad_utf8),
	CV("connect-5-will-props", 0, MQTT_CONNECT, 0, cv_connect_5_will_props),
	CV("connect-5-will-response-topic-wildcard", 0, MQTT_CONNECT, -MQTT_E_BAD_TOPIC,
	   cv_connect_5_will_response_topic_wildcard),
	CV("connect-5-will-session-expiry-not-allowed", 0, MQTT_CONNECT,
	   -MQTT_E_PROPERTY_NOT_ALLOWED, cv_connect_5_will_session_expiry_not_allowed),
	CV_TIGHT("connect-5-too-many-user-props", 0, MQTT_CONNECT, -MQTT_E_TOO_MANY_USER_PROPS,
		 cv_connect_5_too_many_user_props),
	CV_TIGHT("connect-5-too-many-props", 0, MQTT_CONNECT, -MQTT_E_TOO_MANY_PROPS,
		 cv_connect_5_too_many_props),
	/* CONNACK */
	CV("connack-311", 4, MQTT_CONNACK, 0, cv_connack_311),
	CV("connack-311-session-present", 4, MQTT_CONNACK, 0, cv_connack_311_session_present),
	CV("connack-311-refused", 4, MQTT_CONNACK, 0, cv_connack_311_refused),
	CV("connack-reserved-flags", 4, MQTT_CONNACK, -MQTT_E_CONNACK_FLAGS,
	   cv_connack_reserved_flags),
	CV("connack-311-return-code-6", 4, MQTT_CONNACK, -MQTT_E_BAD_REASON,
	   cv_connack_311_return_code_6),
	CV("connack-311-session-present-on-refusal", 4, MQTT_CONNACK, -MQTT_E_CONNACK_FLAGS,
	   cv_connack_311_session_present_on_refusal),
	CV("connack-311-trailing", 4, MQTT_CONNACK, -MQTT_E_TRAILING, cv_connack_311_trailing),
	CV("connack-5", 5, MQTT_CONNACK, 0, cv_connack_5),
	CV("connack-5-props", 5, MQTT_CONNACK, 0, cv_connack_5_props),
	CV("connack-5-refused-reason", 5, MQTT_CONNACK, 0, cv_connack_5_refused_reason),
	CV("connack-5-max-qos-2", 5, MQTT_CONNACK, -MQTT_E_PROPERTY_VALUE, cv_connack_5_max_qos_2),
	CV("connack-5-retain-available-2", 5, MQTT_CONNACK, -MQTT_E_PROPERTY_VALUE,
	   cv_connack_5_retain_available_2),
	CV("connack-5-bad-reason", 5, MQTT_CONNACK, -MQTT_E_BAD_REASON, cv_connack_5_bad_reason),
	CV("connack-5-session-present-on-refusal", 5, MQTT_CONNACK, -MQTT_E_CONNACK_FLAGS,
	   cv_connack_5_session_present_on_refusal),
	CV("connack-5-missing-properties", 5, MQTT_CONNACK, -MQTT_E_TRUNCATED,
	   cv_connack_5_missing_properties),
	CV("connack-5-will-delay-not-allowed", 5, MQTT_CONNACK, -MQTT_E_PROPERTY_NOT_ALLOWED,
	   cv_connack_5_will_delay_not_allowed),
	/* PUBLISH */
	CV("publish-311-qos0", 4, MQTT_PUBLISH, 0, cv_publish_311_qos0),
	CV("publish-311-qos1", 4, MQTT_PUBLISH, 0, cv_publish_311_qos1),
	CV("publish-311-qos2-dup-retain", 4, MQTT_PUBLISH, 0, cv_publish_311_qos2_dup_retain),
	CV("publish-31-qos1", 3, MQTT_PUBLISH, 0, cv_publish_31_qos1),
	CV("publish-311-empty-payload", 4, MQTT_PUBLISH, 0, cv_publish_311_empty_payload),
	CV("publish-311-zero-packet-id", 4, MQTT_PUBLISH, -MQTT_E_ZERO_PACKET_ID,
	   cv_publish_311_zero_packet_id),
	CV("publish-311-missing-packet-id", 4, MQTT_PUBLISH, -MQTT_E_TRUNCATED,
	   cv_publish_311_missing_packet_id),
	CV("publish-topic-plus-wildcard", 4, MQTT_PUBLISH, -MQTT_E_BAD_TOPIC,
	   cv_publish_topic_plus_wildcard),
	CV("publish-topic-hash-wildcard", 4, MQTT_PUBLISH, -MQTT_E_BAD_TOPIC,
	   cv_publish_topic_hash_wildcard),
	CV("publish-311-empty-topic", 4, MQTT_PUBLISH, -MQTT_E_BAD_TOPIC,
	   cv_publish_311_empty_topic),
	CV("publish-topic-bad-utf8", 4, MQTT_PUBLISH, -MQTT_E_BAD_UTF8, cv_publish_topic_bad_utf8),
	CV("publish-topic-nul", 4, MQTT_PUBLISH, -MQTT_E_BAD_UTF8, cv_publish_topic_nul),
	CV("publish-topic-truncated", 4, MQTT_PUBLISH, -MQTT_E_TRUNCATED,
	   cv_publish_topic_truncated),
	CV_TIGHT("publish-topic-too-deep", 4, MQTT_PUBLISH, -MQTT_E_TOPIC_LIMIT,
		 cv_publish_topic_too_deep),
	CV_TIGHT("publish-topic-too-long", 4, MQTT_PUBLISH, -MQTT_E_TOPIC_LIMIT,
		 cv_publish_topic_too_long),
	CV("publish-5-qos0", 5, MQTT_PUBLISH, 0, cv_publish_5_qos0),
	CV("publish-5-qos1-props", 5, MQTT_PUBLISH, 0, cv_publish_5_qos1_props),
	CV("publish-5-topic-alias-empty-topic", 5, MQTT_PUBLISH, 0,
	   cv_publish_5_topic_alias_empty_topic),
	CV("publish-5-topic-alias-and-topic", 5, MQTT_PUBLISH, 0,
	   cv_publish_5_topic_alias_and_topic),
	CV("publish-5-empty-topic-without-alias", 5, MQTT_PUBLISH, -MQTT_E_EMPTY_TOPIC,
	   cv_publish_5_empty_topic_without_alias),
	CV("publish-5-topic-alias-0", 5, MQTT_PUBLISH, -MQTT_E_TOPIC_ALIAS,
	   cv_publish_5_topic_alias_0),
	CV("publish-5-duplicate-topic-alias", 5, MQTT_PUBLISH, -MQTT_E_DUP_PROPERTY,
	   cv_publish_5_duplicate_topic_alias),
	CV("publish-5-subscription-ids-repeat", 5, MQTT_PUBLISH, 0,
	   cv_publish_5_subscription_ids_repeat),
	CV("publish-5-subscription-id-0", 5, MQTT_PUBLISH, -MQTT_E_PROPERTY_VALUE,
	   cv_publish_5_subscription_id_0),
	CV("publish-5-subscription-id-5-bytes", 5, MQTT_PUBLISH, -MQTT_E_BAD_VARINT,
	   cv_publish_5_subscription_id_5_bytes),
	CV("publish-5-payload-format-2", 5, MQTT_PUBLISH, -MQTT_E_PROPERTY_VALUE,
	   cv_publish_5_payload_format_2),
	CV("publish-5-duplicate-message-expiry", 5, MQTT_PUBLISH, -MQTT_E_DUP_PROPERTY,
	   cv_publish_5_duplicate_message_expiry),
	CV("publish-5-duplicate-content-type", 5, MQTT_PUBLISH, -MQTT_E_DUP_PROPERTY,
	   cv_publish_5_duplicate_content_type),
	CV("publish-5-response-topic-wildcard", 5, MQTT_PUBLISH, -MQTT_E_BAD_TOPIC,
	   cv_publish_5_response_topic_wildcard),
	CV("publish-5-content-type-bad-utf8", 5, MQTT_PUBLISH, -MQTT_E_BAD_UTF8,
	   cv_publish_5_content_type_bad_utf8),
	CV("publish-5-session-expiry-not-allowed", 5, MQTT_PUBLISH, -MQTT_E_PROPERTY_NOT_ALLOWED,
	   cv_publish_5_session_expiry_not_allowed),
	CV("publish-5-missing-properties", 5, MQTT_PUBLISH, -MQTT_E_TRUNCATED,
	   cv_publish_5_missing_properties),
	CV("publish-5-correlation-data-truncated", 5, MQTT_PUBLISH, -MQTT_E_PROPERTY_LENGTH,
	   cv_publish_5_correlation_data_truncated),
	/* PUBACK, PUBREC, PUBREL, PUBCOMP */
	CV("puback-311", 4, MQTT_PUBACK, 0, cv_puback_311),
	CV("pubrec-311", 4, MQTT_PUBREC, 0, cv_pubrec_311),
	CV("pubrel-311", 4, MQTT_PUBREL, 0, cv_pubrel_311),
	CV("pubcomp-311", 4, MQTT_PUBCOMP, 0, cv_pubcomp_311),
	CV("puback-zero-packet-id", 4, MQTT_PUBACK, -MQTT_E_ZERO_PACKET_ID,
	   cv_puback_zero_packet_id),
	CV("pubcomp-zero-packet-id", 5, MQTT_PUBCOMP, -MQTT_E_ZERO_PACKET_ID,
	   cv_pubcomp_zero_packet_id),
	CV("puback-311-trailing", 4, MQTT_PUBACK, -MQTT_E_TRAILING, cv_puback_311_trailing),
	CV("puback-truncated", 4, MQTT_PUBACK, -MQTT_E_TRUNCATED, cv_puback_truncated),
	CV("puback-5-short-form", 5, MQTT_PUBACK, 0, cv_puback_5_short_form),
	CV("puback-5-reason-only", 5, MQTT_PUBACK, 0, cv_puback_5_reason_only),
	CV("puback-5-reason-empty-props", 5, MQTT_PUBACK, 0, cv_puback_5_reason_empty_props),
	CV("puback-5-reason-string", 5, MQTT_PUBACK, 0, cv_puback_5_reason_string),
	CV("puback-5-reason-0x92-invalid", 5, MQTT_PUBACK, -MQTT_E_BAD_REASON,
	   cv_puback_5_reason_0x92_invalid),
	CV("pubrec-5-reason-0x10", 5, MQTT_PUBREC, 0, cv_pubrec_5_reason_0x10),
	CV("pubrel-5-reason-0x92", 5, MQTT_PUBREL, 0, cv_pubrel_5_reason_0x92),
	CV("pubrel-5-reason-0x10-invalid", 5, MQTT_PUBREL, -MQTT_E_BAD_REASON,
	   cv_pubrel_5_reason_0x10_invalid),
	CV("pubcomp-5-reason-0x80-invalid", 5, MQTT_PUBCOMP, -MQTT_E_BAD_REASON,
	   cv_pubcomp_5_reason_0x80_invalid),
	CV("puback-5-topic-alias-not-allowed", 5, MQTT_PUBACK, -MQTT_E_PROPERTY_NOT_ALLOWED,
	   cv_puback_5_topic_alias_not_allowed),
	CV("puback-5-props-past-end", 5, MQTT_PUBACK, -MQTT_E_PROPERTY_LENGTH,
	   cv_puback_5_props_past_end),
	CV("puback-5-duplicate-reason-string", 5, MQTT_PUBACK, -MQTT_E_DUP_PROPERTY,
	   cv_puback_5_duplicate_reason_string),
	/* SUBSCRIBE */
	CV("subscribe-311", 4, MQTT_SUBSCRIBE, 0, cv_subscribe_311),
	CV("subscribe-311-two-filters", 4, MQTT_SUBSCRIBE, 0, cv_subscribe_311_two_filters),
	CV("subscribe-31", 3, MQTT_SUBSCRIBE, 0, cv_subscribe_31),
	CV("subscribe-zero-packet-id", 4, MQTT_SUBSCRIBE, -MQTT_E_ZERO_PACKET_ID,
	   cv_subscribe_zero_packet_id),
	CV("subscribe-no-filters", 4, MQTT_SUBSCRIBE, -MQTT_E_NO_TOPICS, cv_subscribe_no_filters),
	CV("subscribe-5-no-filters", 5, MQTT_SUBSCRIBE, -MQTT_E_NO_TOPICS,
	   cv_subscribe_5_no_filters),
	CV("subscribe-qos3", 4, MQTT_SUBSCRIBE, -MQTT_E_BAD_QOS, cv_subscribe_qos3),
	CV("subscribe-311-reserved-option-bits", 4, MQTT_SUBSCRIBE, -MQTT_E_SUB_OPTIONS,
	   cv_subscribe_311_reserved_option_bits),
	CV("subscribe-filter-hash-not-last", 4, MQTT_SUBSCRIBE, -MQTT_E_BAD_TOPIC_FILTER,
	   cv_subscribe_filter_hash_not_last),
	CV("subscribe-filter-plus-not-alone", 4, MQTT_SUBSCRIBE, -MQTT_E_BAD_TOPIC_FILTER,
	   cv_subscribe_filter_plus_not_alone),
	CV("subscribe-empty-filter", 4, MQTT_SUBSCRIBE, -MQTT_E_BAD_TOPIC_FILTER,
	   cv_subscribe_empty_filter),
	CV("subscribe-filter-bad-utf8", 4, MQTT_SUBSCRIBE, -MQTT_E_BAD_UTF8,
	   cv_subscribe_filter_bad_utf8),
	CV("subscribe-missing-options", 4, MQTT_SUBSCRIBE, -MQTT_E_TRUNCATED,
	   cv_subscribe_missing_options),
	CV_TIGHT("subscribe-too-many-filters", 4, MQTT_SUBSCRIBE, -MQTT_E_TOO_MANY_TOPICS,
		 cv_subscribe_too_many_filters),
	CV("subscribe-5-options", 5, MQTT_SUBSCRIBE, 0, cv_subscribe_5_options),
	CV("subscribe-5-reserved-option-bits", 5, MQTT_SUBSCRIBE, -MQTT_E_SUB_OPTIONS,
	   cv_subscribe_5_reserved_option_bits),
	CV("subscribe-5-retain-handling-3", 5, MQTT_SUBSCRIBE, -MQTT_E_RETAIN_HANDLING,
	   cv_subscribe_5_retain_handling_3),
	CV("subscribe-5-shared", 5, MQTT_SUBSCRIBE, 0, cv_subscribe_5_shared),
	CV("subscribe-5-shared-no-local", 5, MQTT_SUBSCRIBE, -MQTT_E_SHARED_NO_LOCAL,
	   cv_subscribe_5_shared_no_local),
	CV("subscribe-5-shared-empty-group", 5, MQTT_SUBSCRIBE, -MQTT_E_BAD_TOPIC_FILTER,
	   cv_subscribe_5_shared_empty_group),
	CV("subscribe-5-subscription-id", 5, MQTT_SUBSCRIBE, 0, cv_subscribe_5_subscription_id),
	CV("subscribe-5-two-subscription-ids", 5, MQTT_SUBSCRIBE, -MQTT_E_DUP_PROPERTY,
	   cv_subscribe_5_two_subscription_ids),
	CV("subscribe-5-subscription-id-0", 5, MQTT_SUBSCRIBE, -MQTT_E_PROPERTY_VALUE,
	   cv_subscribe_5_subscription_id_0),
	CV("subscribe-5-subscription-id-non-minimal", 5, MQTT_SUBSCRIBE, -MQTT_E_BAD_VARINT,
	   cv_subscribe_5_subscription_id_non_minimal),
	CV("subscribe-5-reason-string-not-allowed", 5, MQTT_SUBSCRIBE, -MQTT_E_PROPERTY_NOT_ALLOWED,
	   cv_subscribe_5_reason_string_not_allowed),
	/* SUBACK */
	CV("suback-311", 4, MQTT_SUBACK, 0, cv_suback_311),
	CV("suback-311-return-code-3", 4, MQTT_SUBACK, -MQTT_E_BAD_REASON,
	   cv_suback_311_return_code_3),
	CV("suback-311-no-codes", 4, MQTT_SUBACK, -MQTT_E_NO_TOPICS, cv_suback_311_no_codes),
	CV("suback-5", 5, MQTT_SUBACK, 0, cv_suback_5),
	CV("suback-5-reason-0x04-invalid", 5, MQTT_SUBACK, -MQTT_E_BAD_REASON,
	   cv_suback_5_reason_0x04_invalid),
	/* UNSUBSCRIBE */
	CV("unsubscribe-311", 4, MQTT_UNSUBSCRIBE, 0, cv_unsubscribe_311),
	CV("unsubscribe-no-filters", 4, MQTT_UNSUBSCRIBE, -MQTT_E_NO_TOPICS,
	   cv_unsubscribe_no_filters),
	CV("unsubscribe-zero-packet-id", 4, MQTT_UNSUBSCRIBE, -MQTT_E_ZERO_PACKET_ID,
	   cv_unsubscribe_zero_packet_id),
	CV("unsubscribe-bad-filter", 4, MQTT_UNSUBSCRIBE, -MQTT_E_BAD_TOPIC_FILTER,
	   cv_unsubscribe_bad_filter),
	CV_TIGHT("unsubscribe-too-many-filters", 4, MQTT_UNSUBSCRIBE, -MQTT_E_TOO_MANY_TOPICS,
		 cv_unsubscribe_too_many_filters),
	CV("unsubscribe-5", 5, MQTT_UNSUBSCRIBE, 0, cv_unsubscribe_5),
	CV("unsubscribe-5-subscription-id-not-allowed", 5, MQTT_UNSUBSCRIBE,
	   -MQTT_E_PROPERTY_NOT_ALLOWED, cv_unsubscribe_5_subscription_id_not_allowed),
	/* UNSUBACK */
	CV("unsuback-311", 4, MQTT_UNSUBACK, 0, cv_unsuback_311),
	CV("unsuback-311-trailing", 4, MQTT_UNSUBACK, -MQTT_E_TRAILING, cv_unsuback_311_trailing),
	CV("unsuback-5", 5, MQTT_UNSUBACK, 0, cv_unsuback_5),
	CV("unsuback-5-no-codes", 5, MQTT_UNSUBACK, -MQTT_E_NO_TOPICS, cv_unsuback_5_no_codes),
	CV("unsuback-5-reason-0x01-invalid", 5, MQTT_UNSUBACK, -MQTT_E_BAD_REASON,
	   cv_unsuback_5_reason_0x01_invalid),
	/* PINGREQ, PINGRESP */
	CV("pingreq", 4, MQTT_PINGREQ, 0, cv_pingreq),
	CV("pingresp", 5, MQTT_PINGRESP, 0, cv_pingresp),
	CV("pingreq-with-body", 4, MQTT_PINGREQ, -MQTT_E_TRAILING, cv_pingreq_with_body),
	/* DISCONNECT */
	CV("disconnect-311", 4, MQTT_DISCONNECT, 0, cv_disconnect_311),
	CV("disconnect-311-with-body", 4, MQTT_DISCONNECT, -MQTT_E_TRAILING,
	   cv_disconnect_311_with_body),
	CV("disconnect-5-empty", 5, MQTT_DISCONNECT, 0, cv_disconnect_5_empty),
	CV("disconnect-5-reason-only", 5, MQTT_DISCONNECT, 0, cv_disconnect_5_reason_only),
	CV("disconnect-5-props", 5, MQTT_DISCONNECT, 0, cv_disconnect_5_props),
	CV("disconnect-5-reason-0x01-invalid", 5, MQTT_DISCONNECT, -MQTT_E_BAD_REASON,
	   cv_disconnect_5_reason_0x01_invalid),
	CV("disconnect-5-receive-max-not-allowed", 5, MQTT_DISCONNECT, -MQTT_E_PROPERTY_NOT_ALLOWED,
	   cv_disconnect_5_receive_max_not_allowed),
	/* AUTH */
	CV("auth-5-empty", 5, MQTT_AUTH, 0, cv_auth_5_empty),
	CV("auth-5-continue", 5, MQTT_AUTH, 0, cv_auth_5_continue),
	CV("auth-5-reason-without-properties", 5, MQTT_AUTH, -MQTT_E_TRUNCATED,
	   cv_auth_5_reason_without_properties),
	CV("auth-5-reason-0x01-invalid", 5, MQTT_AUTH, -MQTT_E_BAD_REASON,
	   cv_auth_5_reason_0x01_invalid),
	CV("auth-5-data-without-method", 5, MQTT_AUTH, -MQTT_E_AUTH_DATA_NO_METHOD,
	   cv_auth_5_data_without_method),
	CV("auth-5-user-props-ok", 5, MQTT_AUTH, 0, cv_auth_5_user_props_ok),
};

/* mqtt_fixed_header() on the first @len bytes of @bytes, at @level, without size limit. */
struct codec_hdr_vector {
	const char *name;
	u8 bytes[6];
	u8 len;
	u8 level;
	int ret;		/* header length, 0 (need more) or -MQTT_E_* */
	u32 remlen;
};

/* The remaining-length examples of MQTT 3.1.1 §2.2.3 / 5.0 §1.5.5 and their edges. */
static const struct codec_hdr_vector codec_hdr_vectors[] = {
	{ "remlen-0", { 0x30, 0x00 }, 2, 4, 2, 0 },
	{ "remlen-127", { 0x30, 0x7f }, 2, 4, 2, 127 },
	{ "remlen-128", { 0x30, 0x80, 0x01 }, 3, 4, 3, 128 },
	{ "remlen-16383", { 0x30, 0xff, 0x7f }, 3, 4, 3, 16383 },
	{ "remlen-16384", { 0x30, 0x80, 0x80, 0x01 }, 4, 4, 4, 16384 },
	{ "remlen-2097151", { 0x30, 0xff, 0xff, 0x7f }, 4, 4, 4, 2097151 },
	{ "remlen-2097152", { 0x30, 0x80, 0x80, 0x80, 0x01 }, 5, 4, 5, 2097152 },
	{ "remlen-268435455", { 0x30, 0xff, 0xff, 0xff, 0x7f }, 5, 5, 5, 268435455 },
	{ "remlen-5-bytes-invalid", { 0x30, 0xff, 0xff, 0xff, 0xff, 0x01 }, 6, 4,
	  -MQTT_E_REMLEN_TOO_LONG, 0 },
	{ "remlen-4-continuations-invalid-at-5th-byte", { 0x30, 0x80, 0x80, 0x80, 0x80 }, 5, 4,
	  -MQTT_E_REMLEN_TOO_LONG, 0 },
	{ "header-empty-needs-more", { 0x30 }, 0, 4, 0, 0 },
	{ "header-first-byte-needs-more", { 0x30 }, 1, 4, 0, 0 },
	{ "header-1-continuation-needs-more", { 0x30, 0x80 }, 2, 4, 0, 0 },
	{ "header-3-continuations-need-more", { 0x30, 0xff, 0xff, 0xff }, 4, 4, 0, 0 },
	{ "header-bad-flags-from-first-byte", { 0x80 }, 1, 4, -MQTT_E_RESERVED_FLAGS, 0 },
	{ "header-type-0-from-first-byte", { 0x00 }, 1, 4, -MQTT_E_BAD_TYPE, 0 },
	{ "remlen-non-minimal-ok-311", { 0xc0, 0x80, 0x00 }, 3, 4, 3, 0 },
	{ "remlen-non-minimal-ok-unknown-level", { 0x10, 0xff, 0x80, 0x00 }, 4, 0, 4, 127 },
	{ "remlen-non-minimal-rejected-5", { 0x30, 0x80, 0x80, 0x00 }, 4, 5,
	  -MQTT_E_REMLEN_NOT_MINIMAL, 0 },
	{ "auth-at-unknown-level", { 0xf0, 0x00 }, 2, 0, 2, 0 },
	{ "auth-at-311", { 0xf0, 0x00 }, 2, 4, -MQTT_E_BAD_TYPE, 0 },
};

#endif /* KMQTT_TESTS_CODEC_VECTORS_H */

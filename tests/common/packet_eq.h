/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Comparing two MQTT packets by content, shared by the cmocka codec tests and the decode
 * fuzzer. Either side may be decoder output (SUBSCRIBE/UNSUBSCRIBE lists walked with the
 * codec's iterators) or encoder input (the @entries/@filters arrays); the lists are
 * compared entry by entry in lock-step, with no cap on their length.
 */
#ifndef KMQTT_TESTS_PACKET_EQ_H
#define KMQTT_TESTS_PACKET_EQ_H

#include <string.h>

#include "mqtt_codec.h"

static inline bool str_eq(struct mqtt_str a, struct mqtt_str b)
{
	return a.len == b.len && (!a.len || !memcmp(a.s, b.s, a.len));
}

static inline bool bin_eq(struct mqtt_bin a, struct mqtt_bin b)
{
	return a.len == b.len && (!a.len || !memcmp(a.p, b.p, a.len));
}

static inline bool props_eq(const struct mqtt_props *a, const struct mqtt_props *b)
{
	return a->len == b->len && (!a->len || !memcmp(a->p, b->p, a->len)) &&
	       a->present == b->present && a->count == b->count && a->n_user == b->n_user &&
	       a->n_sub_id == b->n_sub_id;
}

/* A cursor over a SUBSCRIBE's entries or an UNSUBSCRIBE's filters, array or list. */
struct pkt_eq_cursor {
	const struct mqtt_packet *pkt;
	struct mqtt_iter it;
	u32 i;
};

static inline void pkt_eq_cursor_init(struct pkt_eq_cursor *c, const struct mqtt_packet *pkt)
{
	c->pkt = pkt;
	c->i = 0;
	if (pkt->type == MQTT_SUBSCRIBE)
		mqtt_sub_iter_init(&c->it, &pkt->subscribe);
	else
		mqtt_unsub_iter_init(&c->it, &pkt->unsubscribe);
}

/* The next entry; an UNSUBSCRIBE's filter comes with all options zero. */
static inline bool pkt_eq_cursor_next(struct pkt_eq_cursor *c, struct mqtt_sub_entry *e)
{
	const struct mqtt_subscribe *s = &c->pkt->subscribe;
	const struct mqtt_unsubscribe *u = &c->pkt->unsubscribe;

	memset(e, 0, sizeof(*e));
	if (c->pkt->type == MQTT_UNSUBSCRIBE) {
		if (!u->filters)
			return mqtt_unsub_next(&c->it, &e->filter);
		if (c->i >= u->count)
			return false;
		e->filter = u->filters[c->i++];
		return true;
	}
	if (!s->entries)
		return mqtt_sub_next(&c->it, e);
	if (c->i >= s->count)
		return false;
	*e = s->entries[c->i++];
	return true;
}

/*
 * The lists of two SUBSCRIBEs or two UNSUBSCRIBEs: the same entries in the same order,
 * exactly @count of them on each side (@count already found equal).
 */
static inline bool pkt_eq_lists(const struct mqtt_packet *a, const struct mqtt_packet *b,
				u32 count)
{
	struct pkt_eq_cursor ca, cb;
	struct mqtt_sub_entry x, y;
	bool gx, gy;
	u32 n = 0;

	pkt_eq_cursor_init(&ca, a);
	pkt_eq_cursor_init(&cb, b);
	for (;;) {
		gx = pkt_eq_cursor_next(&ca, &x);
		gy = pkt_eq_cursor_next(&cb, &y);
		if (gx != gy)
			return false;
		if (!gx)
			return n == count;
		if (!str_eq(x.filter, y.filter) || x.qos != y.qos || x.no_local != y.no_local ||
		    x.retain_as_published != y.retain_as_published ||
		    x.retain_handling != y.retain_handling)
			return false;
		n++;
	}
}

static inline bool packet_eq(const struct mqtt_packet *a, const struct mqtt_packet *b)
{
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
		return a->subscribe.packet_id == b->subscribe.packet_id &&
		       a->subscribe.count == b->subscribe.count &&
		       props_eq(&a->subscribe.props, &b->subscribe.props) &&
		       pkt_eq_lists(a, b, a->subscribe.count);
	case MQTT_SUBACK:
	case MQTT_UNSUBACK:
		return a->suback.packet_id == b->suback.packet_id &&
		       a->suback.count == b->suback.count &&
		       (!a->suback.count ||
			!memcmp(a->suback.codes, b->suback.codes, a->suback.count)) &&
		       props_eq(&a->suback.props, &b->suback.props);
	case MQTT_UNSUBSCRIBE:
		return a->unsubscribe.packet_id == b->unsubscribe.packet_id &&
		       a->unsubscribe.count == b->unsubscribe.count &&
		       props_eq(&a->unsubscribe.props, &b->unsubscribe.props) &&
		       pkt_eq_lists(a, b, a->unsubscribe.count);
	case MQTT_DISCONNECT:
		return a->disconnect.reason == b->disconnect.reason &&
		       props_eq(&a->disconnect.props, &b->disconnect.props);
	case MQTT_AUTH:
		return a->auth.reason == b->auth.reason && props_eq(&a->auth.props, &b->auth.props);
	default:
		return true;
	}
}

#endif /* KMQTT_TESTS_PACKET_EQ_H */

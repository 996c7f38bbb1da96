// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <netlink/netlink.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/family.h>
#include <linux/genetlink.h>
#include "nl.h"

static const char *const stat_names[KMQTT_STAT_MAX + 1] = {
	[KMQTT_STAT_DAEMON_REGISTERED] = "daemon_registered",
	[KMQTT_STAT_DAEMON_REFUSED] = "daemon_refused",
	[KMQTT_STAT_DAEMON_UNREGISTERED] = "daemon_unregistered",
	[KMQTT_STAT_DAEMON_LOST] = "daemon_lost",
	[KMQTT_STAT_NL_REQUESTS] = "netlink_requests",
	[KMQTT_STAT_CONNS_ACCEPTED] = "conns_accepted",
	[KMQTT_STAT_CONNS_REFUSED] = "conns_refused",
	[KMQTT_STAT_CONNS_CLOSED] = "conns_closed",
	[KMQTT_STAT_CONNS_CURRENT] = "conns_current",
	[KMQTT_STAT_MSGS_IN] = "msgs_in",
	[KMQTT_STAT_MSGS_OUT] = "msgs_out",
	[KMQTT_STAT_BYTES_IN] = "bytes_in",
	[KMQTT_STAT_BYTES_OUT] = "bytes_out",
	[KMQTT_STAT_QOS0_DROPPED] = "qos0_dropped",
	[KMQTT_STAT_NO_MEMORY] = "no_memory",
	[KMQTT_STAT_PROTOCOL_ERRORS] = "protocol_errors",
	[KMQTT_STAT_KEEPALIVE_TIMEOUTS] = "keepalive_timeouts",
	[KMQTT_STAT_ACL_DENIED] = "acl_denied",
	[KMQTT_STAT_UNSUPPORTED] = "unsupported_refused",
	[KMQTT_STAT_RETAIN_NOT_STORED] = "retain_not_stored",
	[KMQTT_STAT_TAKEOVERS] = "takeovers",
	[KMQTT_STAT_SLOW_READERS] = "slow_readers",
	[KMQTT_STAT_EVENTS_LOST] = "events_lost",
	[KMQTT_STAT_SUBSCRIPTIONS] = "subscriptions",
	[KMQTT_STAT_TLS_CONNS] = "tls_conns",
	[KMQTT_STAT_TLS_ALERTS] = "tls_alerts",
	[KMQTT_STAT_TLS_UNEXPECTED_RECORDS] = "tls_unexpected_records",
	[KMQTT_STAT_TLS_DECRYPT_ERRORS] = "tls_decrypt_errors",
	[KMQTT_STAT_RETAIN_PUNTED] = "retain_punted",
	[KMQTT_STAT_RETAIN_STORED] = "retain_stored",
	[KMQTT_STAT_RETAIN_PENDING] = "retain_pending",
	[KMQTT_STAT_RETAIN_DELIVERED] = "retain_delivered",
	[KMQTT_STAT_DELIVER_REFUSED] = "deliver_refused",
	[KMQTT_STAT_WILLS_PUBLISHED] = "wills_published",
	[KMQTT_STAT_WILLS_DENIED] = "wills_denied",
	[KMQTT_STAT_QOS2_IN] = "qos2_in",
	[KMQTT_STAT_QOS2_DUPLICATES] = "qos2_duplicates",
	[KMQTT_STAT_QOS2_LIMIT] = "qos2_limit",
	[KMQTT_STAT_SESSIONS_PARKED] = "sessions_parked",
	[KMQTT_STAT_SESSIONS_RESUMED] = "sessions_resumed",
	[KMQTT_STAT_SESSIONS_DISCARDED] = "sessions_discarded",
	[KMQTT_STAT_SESSION_MSGS_PUNTED] = "session_msgs_punted",
	[KMQTT_STAT_SESSION_MSGS_STORED] = "session_msgs_stored",
	[KMQTT_STAT_SESSION_MSGS_REFUSED] = "session_msgs_refused",
	[KMQTT_STAT_SESSION_QOS0_DROPPED] = "session_qos0_dropped",
	[KMQTT_STAT_SESSION_MSGS_TAKEN_BACK] = "session_msgs_taken_back",
};

const char *kmq_stat_name(int stat)
{
	if (stat < 0 || stat > KMQTT_STAT_MAX || !stat_names[stat])
		return NULL;
	return stat_names[stat];
}

static const char *const conn_stat_names[KMQTT_CS_MAX + 1] = {
	[KMQTT_CS_MSGS_IN] = "msgs_in",
	[KMQTT_CS_MSGS_OUT] = "msgs_out",
	[KMQTT_CS_BYTES_IN] = "bytes_in",
	[KMQTT_CS_BYTES_OUT] = "bytes_out",
	[KMQTT_CS_QOS0_DROPPED] = "qos0_dropped",
	[KMQTT_CS_SUBSCRIPTIONS] = "subscriptions",
	[KMQTT_CS_TX_QUEUED] = "tx_queued",
	[KMQTT_CS_INFLIGHT] = "inflight",
};

const char *kmq_conn_stat_name(int stat)
{
	if (stat < 0 || stat > KMQTT_CS_MAX || !conn_stat_names[stat])
		return NULL;
	return conn_stat_names[stat];
}

static const char *const close_reason_names[__KMQTT_CLOSE_MAX] = {
	[KMQTT_CLOSE_CLIENT_DISCONNECT] = "client_disconnect",
	[KMQTT_CLOSE_PEER_CLOSED] = "peer_closed",
	[KMQTT_CLOSE_SOCKET_ERROR] = "socket_error",
	[KMQTT_CLOSE_KEEPALIVE] = "keepalive",
	[KMQTT_CLOSE_PROTOCOL] = "protocol_error",
	[KMQTT_CLOSE_TAKEOVER] = "takeover",
	[KMQTT_CLOSE_KICKED] = "kicked",
	[KMQTT_CLOSE_ACL] = "acl_denied",
	[KMQTT_CLOSE_UNSUPPORTED] = "unsupported",
	[KMQTT_CLOSE_SLOW_READER] = "slow_reader",
	[KMQTT_CLOSE_SHUTDOWN] = "shutdown",
	[KMQTT_CLOSE_TLS_ALERT] = "tls_alert",
	[KMQTT_CLOSE_TLS_ERROR] = "tls_error",
	[KMQTT_CLOSE_LIMIT] = "limit",
};

const char *kmq_close_reason_name(uint32_t reason)
{
	if (reason >= __KMQTT_CLOSE_MAX || !close_reason_names[reason])
		return "unknown";
	return close_reason_names[reason];
}

const char *kmq_state_name(uint32_t state)
{
	switch (state) {
	case KMQTT_STATE_NO_DAEMON:
		return "no-daemon";
	case KMQTT_STATE_RUNNING:
		return "running";
	case KMQTT_STATE_STOPPING:
		return "stopping";
	}
	return "unknown";
}

int kmq_nl_fd(struct kmq_nl *nl)
{
	return nl_socket_get_fd(nl->sk);
}

void kmq_nl_close(struct kmq_nl *nl)
{
	if (nl->sk)
		nl_socket_free(nl->sk);
	nl->sk = NULL;
	nl->family = 0;
}

int kmq_nl_open(struct kmq_nl *nl)
{
	struct timeval tv = { .tv_sec = KMQ_NL_TIMEOUT_MS / 1000,
			      .tv_usec = KMQ_NL_TIMEOUT_MS % 1000 * 1000 };
	int one = 1;
	int ret;

	memset(nl, 0, sizeof(*nl));
	nl->sk = nl_socket_alloc();
	if (!nl->sk)
		return -ENOMEM;
	ret = genl_connect(nl->sk);
	if (ret < 0) {
		kmq_nl_close(nl);
		return -EIO;
	}
	/* Ask for the kernel's extended-ack messages, without the echoed request. */
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	/* A reply that never comes (lost in an overflow) must not hang the caller. */
	setsockopt(nl_socket_get_fd(nl->sk), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* Events carry retained messages: read each whole, whatever its size. */
	nl_socket_enable_msg_peek(nl->sk);
	nl->family = genl_ctrl_resolve(nl->sk, KMQTT_GENL_NAME);
	if (nl->family < 0) {
		kmq_nl_close(nl);
		return -ENOENT;
	}
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * The payload of a RETAIN event: its KMQTT_A_PAYLOAD attributes in order. One chunk is
 * used in place; more are joined in *@joined (to be freed). -1: out of memory or too large.
 */
static int event_payload(struct nlmsghdr *nlh, struct kmq_event *ev, uint8_t **joined)
{
	struct nlattr *a;
	size_t total = 0, off = 0;
	int rem, n = 0;

	*joined = NULL;
	nlmsg_for_each_attr(a, nlh, GENL_HDRLEN, rem) {
		if (nla_type(a) != KMQTT_A_PAYLOAD)
			continue;
		total += (size_t)nla_len(a);
		ev->payload = nla_data(a);
		n++;
	}
	ev->payload_len = (uint32_t)total;
	if (n <= 1)
		return 0;
	if (total > KMQTT_MAX_RETAIN_SIZE)
		return -1;
	*joined = malloc(total);
	if (!*joined)
		return -1;
	nlmsg_for_each_attr(a, nlh, GENL_HDRLEN, rem) {
		if (nla_type(a) != KMQTT_A_PAYLOAD)
			continue;
		memcpy(*joined + off, nla_data(a), (size_t)nla_len(a));
		off += (size_t)nla_len(a);
	}
	ev->payload = *joined;
	return 0;
}

/* A SESSION_PARKED's KMQTT_A_SUBS, into *@out (to be freed). -1: malformed or no memory. */
static int event_subs(struct nlattr *nest, struct kmq_event *ev, struct kmq_sub **out)
{
	struct nlattr *a, *tb[KMQTT_SUB_A_MAX + 1];
	uint32_t n = 0;
	int rem;

	*out = NULL;
	nla_for_each_nested(a, nest, rem)
		n += nla_type(a) == KMQTT_A_SUB;
	if (n > KMQTT_MAX_SESSION_SUBS)
		return -1;
	if (!n)
		return 0;
	*out = calloc(n, sizeof(**out));
	if (!*out)
		return -1;
	n = 0;
	nla_for_each_nested(a, nest, rem) {
		if (nla_type(a) != KMQTT_A_SUB)
			continue;
		if (nla_parse_nested(tb, KMQTT_SUB_A_MAX, a, NULL) < 0 || !tb[KMQTT_SUB_A_FILTER] ||
		    !tb[KMQTT_SUB_A_QOS] || nla_len(tb[KMQTT_SUB_A_QOS]) < 1 ||
		    nla_len(tb[KMQTT_SUB_A_FILTER]) < 1 ||
		    nla_len(tb[KMQTT_SUB_A_FILTER]) > KMQTT_MAX_TOPIC ||
		    nla_get_u8(tb[KMQTT_SUB_A_QOS]) > 2)
			return -1;
		(*out)[n].filter = nla_data(tb[KMQTT_SUB_A_FILTER]);
		(*out)[n].len = (uint16_t)nla_len(tb[KMQTT_SUB_A_FILTER]);
		(*out)[n].qos = nla_get_u8(tb[KMQTT_SUB_A_QOS]);
		n++;
	}
	ev->subs = *out;
	ev->n_subs = n;
	return 0;
}

/* A SESSION_PARKED's KMQTT_A_QOS2_IDS, into *@out (to be freed). -1: malformed. */
static int event_qos2(struct nlattr *nest, struct kmq_event *ev, uint16_t **out)
{
	struct nlattr *a;
	uint32_t n = 0;
	int rem;

	*out = NULL;
	nla_for_each_nested(a, nest, rem)
		n += nla_type(a) == KMQTT_A_PACKET_ID;
	if (n > KMQTT_MAX_QOS2_IN)
		return -1;
	if (!n)
		return 0;
	*out = calloc(n, sizeof(**out));
	if (!*out)
		return -1;
	n = 0;
	nla_for_each_nested(a, nest, rem) {
		if (nla_type(a) != KMQTT_A_PACKET_ID)
			continue;
		if (nla_len(a) < 2 || !nla_get_u16(a))
			return -1;
		(*out)[n++] = nla_get_u16(a);
	}
	ev->qos2_ids = *out;
	ev->n_qos2 = n;
	return 0;
}

/* SESSION_MSG: the message an event hands over for a parked session. -1: malformed. */
static int event_session_msg(struct nlmsghdr *nlh, struct nlattr **tb, struct kmq_event *ev,
			     uint8_t **joined)
{
	if (!tb[KMQTT_A_PUNT_ID] || !tb[KMQTT_A_QOS] || !tb[KMQTT_A_CLIENT_ID])
		return -1;
	ev->punt_id = nla_get_u32(tb[KMQTT_A_PUNT_ID]);
	ev->qos = nla_get_u8(tb[KMQTT_A_QOS]);
	if (tb[KMQTT_A_FLAGS])
		ev->flags = nla_get_u32(tb[KMQTT_A_FLAGS]);
	if (tb[KMQTT_A_PACKET_ID] && nla_len(tb[KMQTT_A_PACKET_ID]) >= 2)
		ev->packet_id = nla_get_u16(tb[KMQTT_A_PACKET_ID]);
	if (ev->qos < 1 || ev->qos > 2 ||
	    (ev->flags & ~(uint32_t)(__KMQTT_MSG_F_ALL | KMQTT_MSG_F_AGAIN)))
		return -1;
	if (ev->flags & KMQTT_MSG_F_PUBREL)
		return ev->packet_id ? 0 : -1;
	if (!tb[KMQTT_A_TOPIC] || nla_len(tb[KMQTT_A_TOPIC]) < 1 ||
	    nla_len(tb[KMQTT_A_TOPIC]) > KMQTT_MAX_TOPIC ||
	    ((ev->flags & KMQTT_MSG_F_DUP) && !ev->packet_id))
		return -1;
	ev->topic = nla_data(tb[KMQTT_A_TOPIC]);
	ev->topic_len = (uint16_t)nla_len(tb[KMQTT_A_TOPIC]);
	return event_payload(nlh, ev, joined);
}

/* An unsolicited message from the module: parse it and hand it to nl->on_event. */
static void dispatch_event(struct kmq_nl *nl, struct nlmsghdr *nlh)
{
	struct nlattr *tb[KMQTT_A_MAX + 1];
	struct genlmsghdr *g;
	struct kmq_event ev = { 0 };
	uint8_t *joined = NULL;
	struct kmq_sub *subs = NULL;
	uint16_t *qos2 = NULL;

	if (nlh->nlmsg_type != nl->family || !genlmsg_valid_hdr(nlh, 0))
		return;
	g = nlmsg_data(nlh);
	if ((g->cmd != KMQTT_CMD_CONN_CLOSED && g->cmd != KMQTT_CMD_RETAIN &&
	     g->cmd != KMQTT_CMD_SUBSCRIBED && g->cmd != KMQTT_CMD_SESSION_PARKED &&
	     g->cmd != KMQTT_CMD_SESSION_MSG) ||
	    genlmsg_parse(nlh, 0, tb, KMQTT_A_MAX, NULL) < 0 ||
	    (!tb[KMQTT_A_CONN_ID] && g->cmd != KMQTT_CMD_SESSION_MSG))
		return;
	ev.cmd = g->cmd;
	if (tb[KMQTT_A_CONN_ID])
		ev.conn_id = nla_get_u64(tb[KMQTT_A_CONN_ID]);
	if (tb[KMQTT_A_CLIENT_ID])
		snprintf(ev.client_id, sizeof(ev.client_id), "%s",
			 nla_get_string(tb[KMQTT_A_CLIENT_ID]));
	if (tb[KMQTT_A_CLOSE_REASON])
		ev.reason = nla_get_u32(tb[KMQTT_A_CLOSE_REASON]);
	if (g->cmd == KMQTT_CMD_SESSION_MSG) {
		if (tb[KMQTT_A_OWED_SEQ] && nla_len(tb[KMQTT_A_OWED_SEQ]) >= 8)
			ev.owed_seq = nla_get_u64(tb[KMQTT_A_OWED_SEQ]);
		if (event_session_msg(nlh, tb, &ev, &joined)) {
			/* Unconfirmed: the module counts it as refused after the daemon left. */
			nl->overflows++;
			free(joined);
			return;
		}
	} else if (g->cmd == KMQTT_CMD_SESSION_PARKED) {
		if (tb[KMQTT_A_STORE_ID] && nla_len(tb[KMQTT_A_STORE_ID]) >= 8)
			ev.max_store_id = nla_get_u64(tb[KMQTT_A_STORE_ID]);
		if (!tb[KMQTT_A_CLIENT_ID] || !ev.client_id[0] ||
		    (tb[KMQTT_A_SUBS] && event_subs(tb[KMQTT_A_SUBS], &ev, &subs)) ||
		    (tb[KMQTT_A_QOS2_IDS] && event_qos2(tb[KMQTT_A_QOS2_IDS], &ev, &qos2))) {
			nl->overflows++;
			free(subs);
			free(qos2);
			return;
		}
	} else if (g->cmd != KMQTT_CMD_CONN_CLOSED) {
		if (!tb[KMQTT_A_TOPIC] || !tb[KMQTT_A_QOS] || nla_len(tb[KMQTT_A_TOPIC]) < 1 ||
		    nla_len(tb[KMQTT_A_TOPIC]) > KMQTT_MAX_TOPIC ||
		    (g->cmd == KMQTT_CMD_RETAIN && !tb[KMQTT_A_PUNT_ID]))
			return;
		ev.topic = nla_data(tb[KMQTT_A_TOPIC]);
		ev.topic_len = (uint16_t)nla_len(tb[KMQTT_A_TOPIC]);
		ev.qos = nla_get_u8(tb[KMQTT_A_QOS]);
		if (g->cmd == KMQTT_CMD_RETAIN) {
			ev.punt_id = nla_get_u32(tb[KMQTT_A_PUNT_ID]);
			if (event_payload(nlh, &ev, &joined)) {
				/* Unconfirmed: the module counts it as pending, then not stored. */
				nl->overflows++;
				return;
			}
		}
	}
	if (nl->on_event)
		nl->on_event(nl->event_arg, &ev);
	free(joined);
	free(subs);
	free(qos2);
}

/* Request/response plumbing: keeps the exact errno the kernel answered. */
struct nl_req {
	struct kmq_nl *nl;
	int err;
	uint32_t seq;
	int (*parse)(struct nl_msg *msg, void *arg);
	void *arg;
	int stop;		/* a dump callback's non-zero return */
};

/*
 * Only the answer to this request is processed: events (sequence number 0, from the
 * kernel) go to the event handler, stale replies to an earlier request that timed out
 * are skipped.
 */
static int on_seq(struct nl_msg *msg, void *arg)
{
	struct nl_req *req = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);

	if (h->nlmsg_seq == req->seq)
		return NL_OK;
	if (h->nlmsg_seq == 0)
		dispatch_event(req->nl, h);
	return NL_SKIP;
}

static int on_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct nl_req *req = arg;

	const struct nlmsghdr *h = (const void *)((const char *)e - NLMSG_HDRLEN);
	const struct nlattr *a;
	int rem;

	(void)nla;
	req->err = e->error;
	/* With NETLINK_CAP_ACK the extended-ack TLVs follow the bare nlmsgerr. */
	if ((h->nlmsg_flags & NLM_F_ACK_TLVS) && (h->nlmsg_flags & NLM_F_CAPPED) &&
	    h->nlmsg_len > NLMSG_HDRLEN + sizeof(*e)) {
		a = (const void *)((const char *)e + NLA_ALIGN(sizeof(*e)));
		rem = (int)(h->nlmsg_len - NLMSG_HDRLEN - NLA_ALIGN(sizeof(*e)));
		for (; nla_ok(a, rem); a = nla_next(a, &rem)) {
			if (nla_type(a) == NLMSGERR_ATTR_MSG && nla_len(a) > 0)
				snprintf(req->nl->errmsg, sizeof(req->nl->errmsg), "%.*s",
					 nla_len(a), (const char *)nla_data(a));
		}
	}
	return NL_STOP;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	struct nl_req *req = arg;

	(void)msg;
	req->err = 0;
	return NL_STOP;
}

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct nl_req *req = arg;

	if (req->parse && !req->stop) {
		req->stop = req->parse(msg, req->arg);
		/* Keep reading to the end of a dump, so the socket holds no leftovers. */
	}
	return NL_OK;
}

static int nl_request(struct kmq_nl *nl, struct nl_msg *msg,
		      int (*parse)(struct nl_msg *, void *), void *arg)
{
	struct nl_req req = { .nl = nl, .err = 1, .parse = parse, .arg = arg };
	uint64_t deadline = now_ms() + KMQ_NL_TIMEOUT_MS;
	struct nl_cb *cb;
	int ret;

	nl->errmsg[0] = 0;
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_complete_msg(nl->sk, msg);
	req.seq = nlmsg_hdr(msg)->nlmsg_seq;
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, &req);
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, on_seq, &req);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, &req);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_ack, &req);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &req);
	ret = nl_send(nl->sk, msg);
	nlmsg_free(msg);
	if (ret < 0) {
		nl_cb_put(cb);
		return -EIO;
	}
	while (req.err > 0) {
		ret = nl_recvmsgs(nl->sk, cb);
		if (req.err <= 0)
			break;
		if (ret == -NLE_NOMEM) {
			/* ENOBUFS: the socket overflowed and events were lost; keep waiting. */
			nl->overflows++;
		} else if (ret == -NLE_AGAIN) {
			req.err = -ETIMEDOUT;
		} else if (ret < 0) {
			req.err = ret == -NLE_PERM ? -EPERM : -EIO;
		} else if (now_ms() > deadline) {
			req.err = -ETIMEDOUT;
		}
	}
	nl_cb_put(cb);
	if (!req.err && req.stop)
		return req.stop;
	return req.err;
}

static struct nl_msg *nl_new_flags(struct kmq_nl *nl, uint8_t cmd, int flags, size_t size)
{
	struct nl_msg *msg = size ? nlmsg_alloc_size(size) : nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, flags, cmd,
			 KMQTT_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static struct nl_msg *nl_new(struct kmq_nl *nl, uint8_t cmd)
{
	return nl_new_flags(nl, cmd, NLM_F_REQUEST | NLM_F_ACK, 0);
}

int kmq_nl_register(struct kmq_nl *nl, uint32_t pid, uint64_t owed_seq)
{
	struct nl_msg *msg = nl_new(nl, KMQTT_CMD_DAEMON_REGISTER);

	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, KMQTT_A_ABI_VERSION, KMQTT_ABI_VERSION) ||
	    nla_put_u32(msg, KMQTT_A_DAEMON_PID, pid) ||
	    (owed_seq && nla_put_u64(msg, KMQTT_A_OWED_SEQ, owed_seq))) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return nl_request(nl, msg, NULL, NULL);
}

int kmq_nl_unregister(struct kmq_nl *nl)
{
	struct nl_msg *msg = nl_new(nl, KMQTT_CMD_DAEMON_UNREGISTER);

	if (!msg)
		return -ENOMEM;
	return nl_request(nl, msg, NULL, NULL);
}

static int parse_status(struct nl_msg *msg, void *arg)
{
	struct kmq_status *st = arg;
	struct nlattr *tb[KMQTT_A_MAX + 1];
	struct nlattr *s;
	int rem;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, KMQTT_A_MAX, NULL) < 0)
		return 0;
	if (tb[KMQTT_A_VERSION])
		snprintf(st->version, sizeof(st->version), "%s", nla_get_string(tb[KMQTT_A_VERSION]));
	if (tb[KMQTT_A_ABI_VERSION])
		st->abi = nla_get_u32(tb[KMQTT_A_ABI_VERSION]);
	if (tb[KMQTT_A_STATE])
		st->state = nla_get_u32(tb[KMQTT_A_STATE]);
	if (tb[KMQTT_A_UPTIME_MS])
		st->uptime_ms = nla_get_u64(tb[KMQTT_A_UPTIME_MS]);
	if (tb[KMQTT_A_DAEMON_PID])
		st->daemon_pid = nla_get_u32(tb[KMQTT_A_DAEMON_PID]);
	if (tb[KMQTT_A_DAEMON_PORTID])
		st->daemon_portid = nla_get_u32(tb[KMQTT_A_DAEMON_PORTID]);
	if (tb[KMQTT_A_DAEMON_SINCE_MS])
		st->daemon_since_ms = nla_get_u64(tb[KMQTT_A_DAEMON_SINCE_MS]);
	if (tb[KMQTT_A_STATS]) {
		nla_for_each_nested(s, tb[KMQTT_A_STATS], rem) {
			int t = nla_type(s);

			/* Counters this kmqttctl does not know are ignored (uapi rule). */
			if (t > KMQTT_STAT_PAD && t <= KMQTT_STAT_MAX && nla_len(s) == 8) {
				st->stats[t] = nla_get_u64(s);
				st->have_stat[t] = true;
			}
		}
	}
	return 0;
}

int kmq_nl_status(struct kmq_nl *nl, struct kmq_status *st)
{
	struct nl_msg *msg = nl_new(nl, KMQTT_CMD_GET_STATUS);

	memset(st, 0, sizeof(*st));
	if (!msg)
		return -ENOMEM;
	return nl_request(nl, msg, parse_status, st);
}

int kmq_nl_ctrl_open(struct kmq_nl *nl)
{
	int grp;

	memset(nl, 0, sizeof(*nl));
	nl->sk = nl_socket_alloc();
	if (!nl->sk)
		return -ENOMEM;
	if (genl_connect(nl->sk) < 0)
		goto fail;
	grp = genl_ctrl_resolve_grp(nl->sk, "nlctrl", "notify");
	if (grp < 0)
		goto fail;
	nl_socket_disable_seq_check(nl->sk);
	if (nl_socket_add_membership(nl->sk, grp) < 0)
		goto fail;
	nl_socket_set_nonblocking(nl->sk);
	return 0;
fail:
	kmq_nl_close(nl);
	return -EIO;
}

static void parse_ctrl(struct nlmsghdr *nlh, enum kmq_family_event *ev)
{
	struct genlmsghdr *g = nlmsg_data(nlh);
	struct nlattr *tb[CTRL_ATTR_MAX + 1];

	if (nlh->nlmsg_type != GENL_ID_CTRL ||
	    genlmsg_parse(nlh, 0, tb, CTRL_ATTR_MAX, NULL) < 0 || !tb[CTRL_ATTR_FAMILY_NAME] ||
	    strcmp(nla_get_string(tb[CTRL_ATTR_FAMILY_NAME]), KMQTT_GENL_NAME))
		return;
	if (g->cmd == CTRL_CMD_NEWFAMILY)
		*ev = KMQ_FAMILY_NEW;
	else if (g->cmd == CTRL_CMD_DELFAMILY)
		*ev = KMQ_FAMILY_DEL;
}

/*
 * Drain the notify socket. *ev is the last kmqtt event seen (a quick unload and reload
 * shows up as NEW after DEL, which is what the caller needs to act on). When the socket
 * overflowed, events were lost and *ev is KMQ_FAMILY_RESYNC.
 */
int kmq_nl_ctrl_read(struct kmq_nl *nl, enum kmq_family_event *ev)
{
	static char buf[32768];
	int fd = nl_socket_get_fd(nl->sk);
	bool lost = false;

	*ev = KMQ_FAMILY_NONE;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		int len = (int)n;
		struct nlmsghdr *nlh;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				lost = true;
				continue;
			}
			if (errno == EAGAIN)
				break;
			return -errno;
		}
		for (nlh = (struct nlmsghdr *)buf; nlmsg_ok(nlh, len); nlh = nlmsg_next(nlh, &len))
			parse_ctrl(nlh, ev);
	}
	if (lost)
		*ev = KMQ_FAMILY_RESYNC;
	return 0;
}

struct conn_new_reply {
	uint64_t id;
	uint32_t flags;
};

static int parse_conn_new(struct nl_msg *msg, void *arg)
{
	struct conn_new_reply *r = arg;
	struct nlattr *tb[KMQTT_A_MAX + 1];

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, KMQTT_A_MAX, NULL) < 0)
		return 0;
	if (tb[KMQTT_A_CONN_ID])
		r->id = nla_get_u64(tb[KMQTT_A_CONN_ID]);
	if (tb[KMQTT_A_FLAGS] && nla_len(tb[KMQTT_A_FLAGS]) >= 4)
		r->flags = nla_get_u32(tb[KMQTT_A_FLAGS]);
	return 0;
}

/* A list of packet ids as a nest of KMQTT_A_PACKET_ID (nothing when @n is 0). */
static int put_ids(struct nl_msg *msg, int type, const uint16_t *ids, uint32_t n)
{
	struct nlattr *nest;

	if (!n)
		return 0;
	nest = nla_nest_start(msg, type);
	if (!nest)
		return -1;
	for (uint32_t i = 0; i < n; i++)
		if (nla_put_u16(msg, KMQTT_A_PACKET_ID, ids[i]))
			return -1;
	nla_nest_end(msg, nest);
	return 0;
}

static int put_session(struct nl_msg *msg, const struct kmq_conn_new *p)
{
	struct nlattr *nest, *sub;

	if (p->subs) {
		nest = nla_nest_start(msg, KMQTT_A_SUBS);
		if (!nest)
			return -1;
		for (uint32_t i = 0; i < p->n_subs; i++) {
			sub = nla_nest_start(msg, KMQTT_A_SUB);
			if (!sub || nla_put(msg, KMQTT_SUB_A_FILTER, p->subs[i].len, p->subs[i].filter) ||
			    nla_put_u8(msg, KMQTT_SUB_A_QOS, p->subs[i].qos))
				return -1;
			nla_nest_end(msg, sub);
		}
		nla_nest_end(msg, nest);
	}
	if (put_ids(msg, KMQTT_A_QOS2_IDS, p->qos2_ids, p->n_qos2) ||
	    put_ids(msg, KMQTT_A_OUT_IDS, p->out_ids, p->n_out))
		return -1;
	return 0;
}

int kmq_nl_session_add(struct kmq_nl *nl, const char *client_id, const struct kmq_sub *subs,
		       uint32_t n_subs, const uint16_t *qos2_ids, uint32_t n_qos2)
{
	struct kmq_conn_new p = { .client_id = client_id, .subs = subs, .n_subs = n_subs,
				  .qos2_ids = qos2_ids, .n_qos2 = n_qos2 };
	size_t size = 1024 + strlen(client_id) + 4 * (size_t)n_qos2;
	struct nl_msg *msg;

	for (uint32_t i = 0; i < n_subs; i++)
		size += subs[i].len + 32;
	msg = nl_new_flags(nl, KMQTT_CMD_SESSION_ADD, NLM_F_REQUEST | NLM_F_ACK, size);
	if (!msg)
		return -ENOMEM;
	if (nla_put_string(msg, KMQTT_A_CLIENT_ID, client_id) || put_session(msg, &p)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return nl_request(nl, msg, NULL, NULL);
}

int kmq_nl_conn_new(struct kmq_nl *nl, const struct kmq_conn_new *p, uint64_t *id,
		    uint32_t *flags)
{
	size_t size = 1024 + strlen(p->client_id) + (p->username ? strlen(p->username) : 0);
	struct conn_new_reply reply = { 0 };
	struct nlattr *acl, *rule, *lim;
	struct nl_msg *msg;
	int ret;

	for (int i = 0; i < p->n_acl; i++)
		size += strlen(p->acl_filter[i]) + 32;
	if (p->tls_version)
		size += KMQTT_MAX_TLS_VERSION + KMQTT_MAX_TLS_CIPHER + KMQTT_MAX_USERNAME +
			KMQTT_MAX_CERT_SERIAL + KMQTT_MAX_CERT_ISSUER + 64;
	if (p->will)
		size += p->will_topic_len + p->will_payload_len + 64;
	for (uint32_t i = 0; p->subs && i < p->n_subs; i++)
		size += p->subs[i].len + 32;
	size += (size_t)p->n_qos2 * 8 + 16;
	size += (size_t)p->n_out * 8 + 16;
	msg = nl_new_flags(nl, KMQTT_CMD_CONN_NEW, NLM_F_REQUEST | NLM_F_ACK, size);
	if (!msg)
		return -ENOMEM;
	*id = 0;
	if (flags)
		*flags = 0;
	if (nla_put_u32(msg, KMQTT_A_CONN_FD, (uint32_t)p->fd) ||
	    nla_put_string(msg, KMQTT_A_CLIENT_ID, p->client_id) ||
	    (p->username && nla_put_string(msg, KMQTT_A_USERNAME, p->username)) ||
	    nla_put_u8(msg, KMQTT_A_PROTO_LEVEL, p->level) ||
	    nla_put_u16(msg, KMQTT_A_KEEPALIVE, p->keepalive) ||
	    (p->flags && nla_put_u32(msg, KMQTT_A_FLAGS, p->flags)))
		goto nospace;
	if (p->n_acl >= 0) {
		acl = nla_nest_start(msg, KMQTT_A_ACL);
		if (!acl)
			goto nospace;
		for (int i = 0; i < p->n_acl; i++) {
			rule = nla_nest_start(msg, KMQTT_ACL_A_RULE);
			if (!rule || nla_put_string(msg, KMQTT_ACL_A_FILTER, p->acl_filter[i]) ||
			    nla_put_u32(msg, KMQTT_ACL_A_ACCESS, p->acl_access[i]))
				goto nospace;
			nla_nest_end(msg, rule);
		}
		nla_nest_end(msg, acl);
	}
	if (p->max_packet || p->tx_queue || p->inflight) {
		lim = nla_nest_start(msg, KMQTT_A_LIMITS);
		if (!lim ||
		    (p->max_packet && nla_put_u32(msg, KMQTT_LIM_A_MAX_PACKET, p->max_packet)) ||
		    (p->tx_queue && nla_put_u32(msg, KMQTT_LIM_A_TX_QUEUE, p->tx_queue)) ||
		    (p->inflight && nla_put_u32(msg, KMQTT_LIM_A_INFLIGHT, p->inflight)))
			goto nospace;
		nla_nest_end(msg, lim);
	}
	if (p->tls_version) {
		struct nlattr *tls = nla_nest_start(msg, KMQTT_A_TLS);

		if (!tls || nla_put_string(msg, KMQTT_TLS_A_VERSION, p->tls_version) ||
		    nla_put_string(msg, KMQTT_TLS_A_CIPHER, p->tls_cipher) ||
		    (p->cert_cn && nla_put_string(msg, KMQTT_TLS_A_CERT_CN, p->cert_cn)) ||
		    (p->cert_serial && nla_put_string(msg, KMQTT_TLS_A_CERT_SERIAL, p->cert_serial)) ||
		    (p->cert_issuer && nla_put_string(msg, KMQTT_TLS_A_CERT_ISSUER, p->cert_issuer)))
			goto nospace;
		nla_nest_end(msg, tls);
	}
	if (p->will) {
		struct nlattr *will = nla_nest_start(msg, KMQTT_A_WILL);

		if (!will || nla_put(msg, KMQTT_WILL_A_TOPIC, p->will_topic_len, p->will_topic) ||
		    (p->will_payload_len &&
		     nla_put(msg, KMQTT_WILL_A_PAYLOAD, p->will_payload_len, p->will_payload)) ||
		    nla_put_u8(msg, KMQTT_WILL_A_QOS, p->will_qos) ||
		    (p->will_retain && nla_put_flag(msg, KMQTT_WILL_A_RETAIN)))
			goto nospace;
		nla_nest_end(msg, will);
	}
	if (put_session(msg, p))
		goto nospace;
	ret = nl_request(nl, msg, parse_conn_new, &reply);
	*id = reply.id;
	if (flags)
		*flags = reply.flags;
	return ret;
nospace:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

struct dump_ctx {
	int (*fn)(const struct kmq_conn_info *c, void *arg);
	void *arg;
};

static void parse_conn_tls(struct nlattr *nest, struct kmq_conn_tls *t)
{
	struct nlattr *tb[KMQTT_TLS_A_MAX + 1];
	static const struct {
		int attr;
		size_t off, len;
	} f[] = {
#define F(a, m) { a, offsetof(struct kmq_conn_tls, m), sizeof(((struct kmq_conn_tls *)0)->m) }
		F(KMQTT_TLS_A_VERSION, version),
		F(KMQTT_TLS_A_CIPHER, cipher),
		F(KMQTT_TLS_A_CERT_CN, cert_cn),
		F(KMQTT_TLS_A_CERT_SERIAL, cert_serial),
		F(KMQTT_TLS_A_CERT_ISSUER, cert_issuer),
#undef F
	};

	if (nla_parse_nested(tb, KMQTT_TLS_A_MAX, nest, NULL) < 0)
		return;
	t->present = true;
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (tb[f[i].attr])
			snprintf((char *)t + f[i].off, f[i].len, "%s", nla_get_string(tb[f[i].attr]));
}

static int parse_conn(struct nl_msg *msg, void *arg)
{
	struct dump_ctx *d = arg;
	struct nlattr *tb[KMQTT_A_MAX + 1];
	struct kmq_conn_info c;
	struct nlattr *s;
	int rem;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, KMQTT_A_MAX, NULL) < 0 || !tb[KMQTT_A_CONN_ID])
		return 0;
	memset(&c, 0, sizeof(c));
	c.id = nla_get_u64(tb[KMQTT_A_CONN_ID]);
	if (tb[KMQTT_A_CLIENT_ID])
		snprintf(c.client_id, sizeof(c.client_id), "%s", nla_get_string(tb[KMQTT_A_CLIENT_ID]));
	if (tb[KMQTT_A_USERNAME]) {
		snprintf(c.username, sizeof(c.username), "%s", nla_get_string(tb[KMQTT_A_USERNAME]));
		c.has_username = true;
	}
	if (tb[KMQTT_A_PEER])
		snprintf(c.peer, sizeof(c.peer), "%s", nla_get_string(tb[KMQTT_A_PEER]));
	if (tb[KMQTT_A_PROTO_LEVEL])
		c.level = nla_get_u8(tb[KMQTT_A_PROTO_LEVEL]);
	if (tb[KMQTT_A_KEEPALIVE])
		c.keepalive = nla_get_u16(tb[KMQTT_A_KEEPALIVE]);
	if (tb[KMQTT_A_CONNECTED_MS])
		c.connected_ms = nla_get_u64(tb[KMQTT_A_CONNECTED_MS]);
	if (tb[KMQTT_A_LAST_RX_MS])
		c.last_rx_ms = nla_get_u64(tb[KMQTT_A_LAST_RX_MS]);
	if (tb[KMQTT_A_CONN_STATS]) {
		nla_for_each_nested(s, tb[KMQTT_A_CONN_STATS], rem) {
			int t = nla_type(s);

			/* Statistics this program does not know are ignored (uapi rule). */
			if (t > KMQTT_CS_PAD && t <= KMQTT_CS_MAX && nla_len(s) == 8) {
				c.stats[t] = nla_get_u64(s);
				c.have_stat[t] = true;
			}
		}
	}
	if (tb[KMQTT_A_TLS])
		parse_conn_tls(tb[KMQTT_A_TLS], &c.tls);
	return d->fn(&c, d->arg);
}

int kmq_nl_conn_dump(struct kmq_nl *nl, int (*fn)(const struct kmq_conn_info *c, void *arg),
		     void *arg)
{
	struct nl_msg *msg = nl_new_flags(nl, KMQTT_CMD_CONN_GET, NLM_F_REQUEST | NLM_F_DUMP, 0);
	struct dump_ctx d = { .fn = fn, .arg = arg };

	if (!msg)
		return -ENOMEM;
	return nl_request(nl, msg, parse_conn, &d);
}

int kmq_nl_conn_del(struct kmq_nl *nl, uint64_t id, const char *client_id)
{
	struct nl_msg *msg = nl_new(nl, KMQTT_CMD_CONN_DEL);

	if (!msg)
		return -ENOMEM;
	if (client_id ? nla_put_string(msg, KMQTT_A_CLIENT_ID, client_id) :
	    nla_put_u64(msg, KMQTT_A_CONN_ID, id)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return nl_request(nl, msg, NULL, NULL);
}

struct errors_ctx {
	int (*fn)(const char *name, uint64_t count, void *arg);
	void *arg;
};

static int parse_errors(struct nl_msg *msg, void *arg)
{
	struct errors_ctx *e = arg;
	struct nlattr *et[__KMQTT_ERR_A_MAX];
	struct nlattr *a;
	int rem, ret;

	nlmsg_for_each_attr(a, nlmsg_hdr(msg), GENL_HDRLEN, rem) {
		if (nla_type(a) != KMQTT_A_ERROR ||
		    nla_parse_nested(et, __KMQTT_ERR_A_MAX - 1, a, NULL) < 0 ||
		    !et[KMQTT_ERR_A_NAME] || !et[KMQTT_ERR_A_COUNT] ||
		    nla_len(et[KMQTT_ERR_A_COUNT]) != 8)
			continue;
		ret = e->fn(nla_get_string(et[KMQTT_ERR_A_NAME]), nla_get_u64(et[KMQTT_ERR_A_COUNT]),
			    e->arg);
		if (ret)
			return ret;
	}
	return 0;
}

int kmq_nl_get_errors(struct kmq_nl *nl, int (*fn)(const char *name, uint64_t count, void *arg),
		      void *arg)
{
	struct nl_msg *msg = nl_new(nl, KMQTT_CMD_GET_ERRORS);
	struct errors_ctx e = { .fn = fn, .arg = arg };

	if (!msg)
		return -ENOMEM;
	return nl_request(nl, msg, parse_errors, &e);
}

int kmq_nl_retain_stored(struct kmq_nl *nl, uint32_t punt_id)
{
	struct nl_msg *msg = nl_new_flags(nl, KMQTT_CMD_RETAIN_STORED, NLM_F_REQUEST, 0);
	int ret;

	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, KMQTT_A_PUNT_ID, punt_id)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	nl_complete_msg(nl->sk, msg);
	ret = nl_send(nl->sk, msg);
	nlmsg_free(msg);
	return ret < 0 ? -EIO : 0;
}

/* A KMQTT_CMD_DELIVER of @m, or NULL with *@err set. */
static struct nl_msg *deliver_msg(struct kmq_nl *nl, const struct kmq_deliver *m, int flags,
				  int *err)
{
	bool pubrel = m->flags & KMQTT_MSG_F_PUBREL;
	uint32_t payload_len = pubrel ? 0 : m->payload_len;
	size_t chunks = (payload_len + KMQTT_PAYLOAD_CHUNK - 1) / KMQTT_PAYLOAD_CHUNK;
	size_t size = 256 + m->topic_len + chunks * (KMQTT_PAYLOAD_CHUNK + 8);
	const uint8_t *p = m->payload;
	struct nl_msg *msg;

	*err = -EMSGSIZE;
	if ((size_t)m->topic_len + payload_len > KMQTT_MAX_RETAIN_SIZE)
		return NULL;
	msg = nl_new_flags(nl, KMQTT_CMD_DELIVER, flags, size);
	if (!msg) {
		*err = -ENOMEM;
		return NULL;
	}
	if (nla_put_u64(msg, KMQTT_A_CONN_ID, m->conn_id) ||
	    (!pubrel && nla_put(msg, KMQTT_A_TOPIC, m->topic_len, m->topic)) ||
	    nla_put_u8(msg, KMQTT_A_QOS, m->qos) ||
	    (m->flags && nla_put_u32(msg, KMQTT_A_FLAGS, m->flags)) ||
	    (m->packet_id && nla_put_u16(msg, KMQTT_A_PACKET_ID, m->packet_id)) ||
	    (m->store_id && nla_put_u64(msg, KMQTT_A_STORE_ID, m->store_id)))
		goto nospace;
	while (payload_len) {
		uint32_t n = payload_len < KMQTT_PAYLOAD_CHUNK ? payload_len : KMQTT_PAYLOAD_CHUNK;

		if (nla_put(msg, KMQTT_A_PAYLOAD, (int)n, p))
			goto nospace;
		p += n;
		payload_len -= n;
	}
	return msg;
nospace:
	nlmsg_free(msg);
	return NULL;
}

int kmq_nl_deliver(struct kmq_nl *nl, const struct kmq_deliver *m, bool wait)
{
	struct nl_msg *msg;
	int ret;

	msg = deliver_msg(nl, m, NLM_F_REQUEST | (wait ? NLM_F_ACK : 0), &ret);
	if (!msg)
		return ret;
	if (wait)
		return nl_request(nl, msg, NULL, NULL);
	nl_complete_msg(nl->sk, msg);
	ret = nl_send(nl->sk, msg);
	nlmsg_free(msg);
	return ret < 0 ? -EIO : 0;
}

/* The answers to a batch of deliveries: per sequence number, until the last one's. */
struct nl_batch {
	struct kmq_nl *nl;
	uint32_t first, n;
	int *err;
	bool done;
};

static int batch_seq(struct nl_msg *msg, void *arg)
{
	struct nl_batch *b = arg;
	struct nlmsghdr *h = nlmsg_hdr(msg);

	if (h->nlmsg_seq - b->first < b->n)
		return NL_OK;
	if (h->nlmsg_seq == 0)
		dispatch_event(b->nl, h);
	return NL_SKIP;
}

static int batch_error(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct nl_batch *b = arg;
	uint32_t i = e->msg.nlmsg_seq - b->first;

	(void)nla;
	if (i < b->n) {
		b->err[i] = e->error;
		if (i == b->n - 1)
			b->done = true;
	}
	return NL_SKIP;
}

static int batch_ack(struct nl_msg *msg, void *arg)
{
	struct nl_batch *b = arg;

	if (nlmsg_hdr(msg)->nlmsg_seq == b->first + b->n - 1)
		b->done = true;
	return NL_SKIP;
}

int kmq_nl_deliver_batch(struct kmq_nl *nl, const struct kmq_deliver *m, unsigned int n,
			 int *err)
{
	struct nl_batch b = { .nl = nl, .err = err };
	uint64_t deadline = now_ms() + KMQ_NL_TIMEOUT_MS;
	struct nl_msg *msg;
	struct nl_cb *cb;
	unsigned int i;
	int ret = 0;

	if (!n)
		return 0;
	for (i = 0; i < n; i++)
		err[i] = -EIO;
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return -ENOMEM;
	/*
	 * Each is processed by the module as it is sent; only refusals are answered, and the
	 * last one is acknowledged either way: once its answer is read, all are known.
	 */
	for (i = 0; i < n; i++) {
		msg = deliver_msg(nl, &m[i], NLM_F_REQUEST | (i == n - 1 ? NLM_F_ACK : 0), &ret);
		if (!msg)
			break;
		nl_complete_msg(nl->sk, msg);
		if (!i)
			b.first = nlmsg_hdr(msg)->nlmsg_seq;
		ret = nl_send(nl->sk, msg);
		nlmsg_free(msg);
		if (ret < 0) {
			ret = -EIO;
			break;
		}
		err[i] = 0;
		b.n = i + 1;
	}
	if (b.n < n) {
		/*
		 * Stopped early: what was sent is not known, so none counts as delivered (a
		 * message the module took is recognised by its store id when sent again).
		 */
		for (i = 0; i < n; i++)
			err[i] = ret ? ret : -EIO;
		nl_cb_put(cb);
		return ret ? ret : -EIO;
	}
	nl_cb_set(cb, NL_CB_SEQ_CHECK, NL_CB_CUSTOM, batch_seq, &b);
	nl_cb_err(cb, NL_CB_CUSTOM, batch_error, &b);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, batch_ack, &b);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, batch_ack, &b);
	while (!b.done) {
		ret = nl_recvmsgs(nl->sk, cb);
		if (ret == -NLE_NOMEM) {
			nl->overflows++;
		} else if (ret < 0 && ret != -NLE_AGAIN) {
			break;
		} else if (now_ms() > deadline) {
			break;
		}
	}
	nl_cb_put(cb);
	if (!b.done) {
		for (i = 0; i < n; i++)
			err[i] = -ETIMEDOUT;
		return -ETIMEDOUT;
	}
	return 0;
}

int kmq_nl_session_resumed(struct kmq_nl *nl, uint64_t conn_id)
{
	struct nl_msg *msg = nl_new(nl, KMQTT_CMD_SESSION_RESUMED);

	if (!msg)
		return -ENOMEM;
	if (nla_put_u64(msg, KMQTT_A_CONN_ID, conn_id)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return nl_request(nl, msg, NULL, NULL);
}

int kmq_nl_session_del(struct kmq_nl *nl, const char *client_id)
{
	struct nl_msg *msg = nl_new(nl, KMQTT_CMD_SESSION_DEL);

	if (!msg)
		return -ENOMEM;
	if (nla_put_string(msg, KMQTT_A_CLIENT_ID, client_id)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	return nl_request(nl, msg, NULL, NULL);
}

int kmq_nl_read_events(struct kmq_nl *nl)
{
	static char *buf;
	int fd = nl_socket_get_fd(nl->sk);

	if (!buf) {
		buf = malloc(KMQ_NL_EVENT_MAX);
		if (!buf)
			return -ENOMEM;
	}
	for (;;) {
		ssize_t n = recv(fd, buf, KMQ_NL_EVENT_MAX, MSG_DONTWAIT | MSG_TRUNC);
		int len = (int)n;
		struct nlmsghdr *nlh;

		if (n > KMQ_NL_EVENT_MAX) {
			/* Larger than any event the module sends: not ours to parse. */
			nl->overflows++;
			continue;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				nl->overflows++;
				continue;
			}
			if (errno == EAGAIN)
				return 0;
			return -errno;
		}
		if (n == 0)
			return 0;
		for (nlh = (struct nlmsghdr *)buf; nlmsg_ok(nlh, len); nlh = nlmsg_next(nlh, &len)) {
			/* Replies to requests that timed out are stale: only events count. */
			if (nlh->nlmsg_seq == 0)
				dispatch_event(nl, nlh);
		}
	}
}

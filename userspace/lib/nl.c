// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <string.h>
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
};

const char *kmq_stat_name(int stat)
{
	if (stat < 0 || stat > KMQTT_STAT_MAX || !stat_names[stat])
		return NULL;
	return stat_names[stat];
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
	nl->family = genl_ctrl_resolve(nl->sk, KMQTT_GENL_NAME);
	if (nl->family < 0) {
		kmq_nl_close(nl);
		return -ENOENT;
	}
	return 0;
}

/* Request/response plumbing: keeps the exact errno the kernel answered. */
struct nl_req {
	struct kmq_nl *nl;
	int err;
	int (*parse)(struct nl_msg *msg, void *arg);
	void *arg;
};

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

	if (req->parse)
		return req->parse(msg, req->arg);
	return NL_OK;
}

static int nl_request(struct kmq_nl *nl, struct nl_msg *msg,
		      int (*parse)(struct nl_msg *, void *), void *arg)
{
	struct nl_req req = { .nl = nl, .err = 1, .parse = parse, .arg = arg };
	struct nl_cb *cb;
	int ret;

	nl->errmsg[0] = 0;
	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, &req);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, &req);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, &req);
	ret = nl_send_auto(nl->sk, msg);
	nlmsg_free(msg);
	if (ret < 0) {
		nl_cb_put(cb);
		return -EIO;
	}
	while (req.err > 0) {
		ret = nl_recvmsgs(nl->sk, cb);
		if (ret < 0 && req.err > 0) {
			req.err = ret == -NLE_PERM ? -EPERM : -EIO;
			break;
		}
	}
	nl_cb_put(cb);
	return req.err;
}

static struct nl_msg *nl_new(struct kmq_nl *nl, uint8_t cmd)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, NLM_F_REQUEST | NLM_F_ACK,
			 cmd, KMQTT_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

int kmq_nl_register(struct kmq_nl *nl, uint32_t pid)
{
	struct nl_msg *msg = nl_new(nl, KMQTT_CMD_DAEMON_REGISTER);

	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, KMQTT_A_ABI_VERSION, KMQTT_ABI_VERSION) ||
	    nla_put_u32(msg, KMQTT_A_DAEMON_PID, pid)) {
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
		return NL_SKIP;
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
	return NL_OK;
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

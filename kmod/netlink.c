// SPDX-License-Identifier: GPL-2.0
/*
 * The "kmqtt" generic netlink family: the only way into the module from userspace.
 * Every command is admin-only; see uapi/linux/kmqtt.h for the ABI.
 *
 * Locking: kmqtt_daemon is protected by kmqtt_daemon_lock. The netlink release notifier
 * is a blocking notifier, so it may take the mutex too.
 */
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/netlink.h>
#include <linux/notifier.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <uapi/linux/kmqtt.h>
#include "kmqtt.h"
#include "stats.h"

/* The registered daemon, bound to the netlink port that registered it. */
struct kmqtt_daemon {
	u32 portid;	/* 0: no daemon */
	u32 pid;
	u64 since_ms;
};

static DEFINE_MUTEX(kmqtt_daemon_lock);
static struct kmqtt_daemon kmqtt_daemon;
static bool kmqtt_stopping;

static const struct nla_policy kmqtt_acl_rule_policy[KMQTT_ACL_A_MAX + 1] = {
	[KMQTT_ACL_A_FILTER] = { .type = NLA_NUL_STRING, .len = TOPIC_DEFAULT_MAX_LEN },
	[KMQTT_ACL_A_ACCESS] = NLA_POLICY_MAX(NLA_U32, KMQTT_ACL_READWRITE),
};

static const struct nla_policy kmqtt_acl_policy[KMQTT_ACL_A_MAX + 1] = {
	[KMQTT_ACL_A_RULE] = NLA_POLICY_NESTED(kmqtt_acl_rule_policy),
};

static struct netlink_range_validation kmqtt_max_packet_range = {
	.max = MQTT_MAX_PACKET_SIZE,
};

static struct netlink_range_validation kmqtt_tx_queue_range = {
	.max = KMQTT_MAX_TX_QUEUE,
};

static struct netlink_range_validation kmqtt_inflight_range = {
	.max = KMQTT_MAX_INFLIGHT,
};

static const struct nla_policy kmqtt_limits_policy[KMQTT_LIM_A_MAX + 1] = {
	[KMQTT_LIM_A_MAX_PACKET] = NLA_POLICY_FULL_RANGE(NLA_U32, &kmqtt_max_packet_range),
	[KMQTT_LIM_A_TX_QUEUE] = NLA_POLICY_FULL_RANGE(NLA_U32, &kmqtt_tx_queue_range),
	[KMQTT_LIM_A_INFLIGHT] = NLA_POLICY_FULL_RANGE(NLA_U32, &kmqtt_inflight_range),
};

static const struct nla_policy kmqtt_tls_policy[KMQTT_TLS_A_MAX + 1] = {
	[KMQTT_TLS_A_VERSION] = { .type = NLA_NUL_STRING, .len = KMQTT_MAX_TLS_VERSION },
	[KMQTT_TLS_A_CIPHER] = { .type = NLA_NUL_STRING, .len = KMQTT_MAX_TLS_CIPHER },
	[KMQTT_TLS_A_CERT_CN] = { .type = NLA_NUL_STRING, .len = KMQTT_MAX_USERNAME },
	[KMQTT_TLS_A_CERT_SERIAL] = { .type = NLA_NUL_STRING, .len = KMQTT_MAX_CERT_SERIAL },
	[KMQTT_TLS_A_CERT_ISSUER] = { .type = NLA_NUL_STRING, .len = KMQTT_MAX_CERT_ISSUER },
};

static const struct nla_policy kmqtt_will_policy[KMQTT_WILL_A_MAX + 1] = {
	[KMQTT_WILL_A_TOPIC] = NLA_POLICY_RANGE(NLA_BINARY, 1, KMQTT_MAX_TOPIC),
	[KMQTT_WILL_A_PAYLOAD] = { .type = NLA_BINARY, .len = KMQTT_MAX_WILL_PAYLOAD },
	[KMQTT_WILL_A_QOS] = NLA_POLICY_MAX(NLA_U8, 2),
	[KMQTT_WILL_A_RETAIN] = { .type = NLA_FLAG },
};

static const struct nla_policy kmqtt_sub_policy[KMQTT_SUB_A_MAX + 1] = {
	[KMQTT_SUB_A_FILTER] = NLA_POLICY_RANGE(NLA_BINARY, 1, KMQTT_MAX_TOPIC),
	[KMQTT_SUB_A_QOS] = NLA_POLICY_MAX(NLA_U8, 2),
};

static const struct nla_policy kmqtt_qos2_ids_policy[KMQTT_A_MAX + 1] = {
	[KMQTT_A_PACKET_ID] = NLA_POLICY_MIN(NLA_U16, 1),
};

static const struct nla_policy kmqtt_policy[KMQTT_A_MAX + 1] = {
	[KMQTT_A_VERSION] = { .type = NLA_NUL_STRING },
	[KMQTT_A_ABI_VERSION] = { .type = NLA_U32 },
	[KMQTT_A_STATE] = NLA_POLICY_MAX(NLA_U32, KMQTT_STATE_STOPPING),
	[KMQTT_A_UPTIME_MS] = { .type = NLA_U64 },
	[KMQTT_A_DAEMON_PID] = { .type = NLA_U32 },
	[KMQTT_A_DAEMON_PORTID] = { .type = NLA_U32 },
	[KMQTT_A_DAEMON_SINCE_MS] = { .type = NLA_U64 },
	/* The union of every command's flags; each command rejects the others'. */
	[KMQTT_A_FLAGS] = NLA_POLICY_MASK(NLA_U32, __KMQTT_CONN_F_ALL | __KMQTT_MSG_F_ALL),
	[KMQTT_A_STATS] = { .type = NLA_NESTED },
	[KMQTT_A_CONN_FD] = { .type = NLA_U32 },
	[KMQTT_A_CONN_ID] = { .type = NLA_U64 },
	[KMQTT_A_CLIENT_ID] = { .type = NLA_NUL_STRING, .len = KMQTT_MAX_CLIENT_ID },
	[KMQTT_A_USERNAME] = { .type = NLA_NUL_STRING, .len = KMQTT_MAX_USERNAME },
	[KMQTT_A_PROTO_LEVEL] = NLA_POLICY_RANGE(NLA_U8, MQTT_LEVEL_31, MQTT_LEVEL_311),
	[KMQTT_A_KEEPALIVE] = { .type = NLA_U16 },
	[KMQTT_A_ACL] = NLA_POLICY_NESTED(kmqtt_acl_policy),
	[KMQTT_A_LIMITS] = NLA_POLICY_NESTED(kmqtt_limits_policy),
	[KMQTT_A_PEER] = { .type = NLA_NUL_STRING },
	[KMQTT_A_CONNECTED_MS] = { .type = NLA_U64 },
	[KMQTT_A_LAST_RX_MS] = { .type = NLA_U64 },
	[KMQTT_A_CONN_STATS] = { .type = NLA_NESTED },
	[KMQTT_A_CLOSE_REASON] = NLA_POLICY_MAX(NLA_U32, __KMQTT_CLOSE_MAX - 1),
	[KMQTT_A_ERROR] = { .type = NLA_NESTED },
	[KMQTT_A_TLS] = NLA_POLICY_NESTED(kmqtt_tls_policy),
	[KMQTT_A_PUNT_ID] = { .type = NLA_U32 },
	[KMQTT_A_TOPIC] = NLA_POLICY_RANGE(NLA_BINARY, 1, KMQTT_MAX_TOPIC),
	[KMQTT_A_QOS] = NLA_POLICY_MAX(NLA_U8, 2),
	[KMQTT_A_PAYLOAD] = { .type = NLA_BINARY, .len = KMQTT_PAYLOAD_CHUNK },
	[KMQTT_A_WILL] = NLA_POLICY_NESTED(kmqtt_will_policy),
	[KMQTT_A_SUBS] = NLA_POLICY_NESTED_ARRAY(kmqtt_sub_policy),
	[KMQTT_A_QOS2_IDS] = NLA_POLICY_NESTED(kmqtt_qos2_ids_policy),
	[KMQTT_A_OUT_IDS] = NLA_POLICY_NESTED(kmqtt_qos2_ids_policy),
	[KMQTT_A_PACKET_ID] = NLA_POLICY_MIN(NLA_U16, 1),
	[KMQTT_A_STORE_ID] = { .type = NLA_U64 },
	[KMQTT_A_OWED_SEQ] = { .type = NLA_U64 },
};

static int kmqtt_nl_daemon_register(struct sk_buff *skb, struct genl_info *info)
{
	u32 abi, pid;
	int ret = 0;

	kmqtt_stat_inc(KMQTT_STAT_NL_REQUESTS);
	if (GENL_REQ_ATTR_CHECK(info, KMQTT_A_ABI_VERSION) ||
	    GENL_REQ_ATTR_CHECK(info, KMQTT_A_DAEMON_PID))
		return -EINVAL;

	abi = nla_get_u32(info->attrs[KMQTT_A_ABI_VERSION]);
	pid = nla_get_u32(info->attrs[KMQTT_A_DAEMON_PID]);
	if (info->attrs[KMQTT_A_FLAGS] &&
	    nla_get_u32(info->attrs[KMQTT_A_FLAGS]) & ~__KMQTT_REGISTER_F_ALL) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KMQTT_A_FLAGS],
				    "kmqtt: unknown registration flags");
		kmqtt_stat_inc(KMQTT_STAT_DAEMON_REFUSED);
		return -EINVAL;
	}
	if (abi != KMQTT_ABI_VERSION) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KMQTT_A_ABI_VERSION],
				    "kmqtt: daemon and module ABI versions differ");
		pr_warn("refused daemon pid %u: ABI %u, module speaks %u\n",
			pid, abi, KMQTT_ABI_VERSION);
		kmqtt_stat_inc(KMQTT_STAT_DAEMON_REFUSED);
		return -EPROTO;
	}

	mutex_lock(&kmqtt_daemon_lock);
	if (kmqtt_stopping) {
		NL_SET_ERR_MSG_MOD(info->extack, "module is being unloaded");
		ret = -ESHUTDOWN;
	} else if (kmqtt_daemon.portid && kmqtt_daemon.portid != info->snd_portid) {
		NL_SET_ERR_MSG_MOD(info->extack, "another daemon is registered");
		pr_warn("refused daemon pid %u: daemon pid %u is registered\n",
			pid, kmqtt_daemon.pid);
		ret = -EBUSY;
	} else {
		kmqtt_daemon.portid = info->snd_portid;
		kmqtt_daemon.pid = pid;
		kmqtt_daemon.since_ms = kmqtt_uptime_ms();
	}
	mutex_unlock(&kmqtt_daemon_lock);

	if (ret) {
		kmqtt_stat_inc(KMQTT_STAT_DAEMON_REFUSED);
		return ret;
	}
	if (info->attrs[KMQTT_A_OWED_SEQ])
		kmqtt_owed_seq_floor(nla_get_u64(info->attrs[KMQTT_A_OWED_SEQ]));
	kmqtt_stat_inc(KMQTT_STAT_DAEMON_REGISTERED);
	pr_info("daemon registered (pid %u, netlink port %u)\n", pid, info->snd_portid);
	return 0;
}

static int kmqtt_nl_daemon_unregister(struct sk_buff *skb, struct genl_info *info)
{
	u32 pid = 0;
	int ret = -ENOENT;

	kmqtt_stat_inc(KMQTT_STAT_NL_REQUESTS);
	mutex_lock(&kmqtt_daemon_lock);
	if (kmqtt_daemon.portid && kmqtt_daemon.portid == info->snd_portid) {
		pid = kmqtt_daemon.pid;
		memset(&kmqtt_daemon, 0, sizeof(kmqtt_daemon));
		ret = 0;
	}
	mutex_unlock(&kmqtt_daemon_lock);

	if (ret) {
		NL_SET_ERR_MSG_MOD(info->extack, "sender is not the registered daemon");
		return ret;
	}
	kmqtt_retain_daemon_gone();
	kmqtt_stat_inc(KMQTT_STAT_DAEMON_UNREGISTERED);
	pr_info("daemon unregistered (pid %u)\n", pid);
	return 0;
}

static int kmqtt_nl_put_stats(struct sk_buff *msg)
{
	struct nlattr *nest;
	int s;

	nest = nla_nest_start(msg, KMQTT_A_STATS);
	if (!nest)
		return -EMSGSIZE;
	for (s = KMQTT_STAT_PAD + 1; s <= KMQTT_STAT_MAX; s++) {
		if (nla_put_u64_64bit(msg, s, kmqtt_stat_read(s), KMQTT_STAT_PAD)) {
			nla_nest_cancel(msg, nest);
			return -EMSGSIZE;
		}
	}
	nla_nest_end(msg, nest);
	return 0;
}

static int kmqtt_nl_get_status(struct sk_buff *skb, struct genl_info *info);
static int kmqtt_nl_conn_new(struct sk_buff *skb, struct genl_info *info);
static int kmqtt_nl_conn_del(struct sk_buff *skb, struct genl_info *info);
static int kmqtt_nl_conn_dump(struct sk_buff *skb, struct netlink_callback *cb);
static int kmqtt_nl_get_errors(struct sk_buff *skb, struct genl_info *info);

static const struct genl_small_ops kmqtt_genl_ops[] = {
	{
		.cmd = KMQTT_CMD_DAEMON_REGISTER,
		.doit = kmqtt_nl_daemon_register,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = KMQTT_CMD_DAEMON_UNREGISTER,
		.doit = kmqtt_nl_daemon_unregister,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = KMQTT_CMD_GET_STATUS,
		.doit = kmqtt_nl_get_status,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = KMQTT_CMD_CONN_NEW,
		.doit = kmqtt_nl_conn_new,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = KMQTT_CMD_CONN_GET,
		.dumpit = kmqtt_nl_conn_dump,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = KMQTT_CMD_CONN_DEL,
		.doit = kmqtt_nl_conn_del,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = KMQTT_CMD_GET_ERRORS,
		.doit = kmqtt_nl_get_errors,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = KMQTT_CMD_RETAIN_STORED,
		.doit = kmqtt_nl_retain_stored,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = KMQTT_CMD_DELIVER,
		.doit = kmqtt_nl_deliver,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = KMQTT_CMD_SESSION_RESUMED,
		.doit = kmqtt_nl_session_resumed,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = KMQTT_CMD_SESSION_DEL,
		.doit = kmqtt_nl_session_del,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = KMQTT_CMD_SESSION_ADD,
		.doit = kmqtt_nl_session_add,
		.flags = GENL_ADMIN_PERM,
	},
};

static struct genl_family kmqtt_genl_family __ro_after_init = {
	.name = KMQTT_GENL_NAME,
	.version = KMQTT_GENL_VERSION,
	.maxattr = KMQTT_A_MAX,
	.policy = kmqtt_policy,
	.netnsok = false,
	.module = THIS_MODULE,
	.small_ops = kmqtt_genl_ops,
	.n_small_ops = ARRAY_SIZE(kmqtt_genl_ops),
};

static int kmqtt_nl_get_status(struct sk_buff *skb, struct genl_info *info)
{
	struct kmqtt_daemon d;
	struct sk_buff *msg;
	bool stopping;
	void *hdr;
	u32 state;

	kmqtt_stat_inc(KMQTT_STAT_NL_REQUESTS);
	mutex_lock(&kmqtt_daemon_lock);
	d = kmqtt_daemon;
	stopping = kmqtt_stopping;
	mutex_unlock(&kmqtt_daemon_lock);

	if (stopping)
		state = KMQTT_STATE_STOPPING;
	else if (d.portid)
		state = KMQTT_STATE_RUNNING;
	else
		state = KMQTT_STATE_NO_DAEMON;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &kmqtt_genl_family, 0, KMQTT_CMD_GET_STATUS);
	if (!hdr)
		goto nospace;
	if (nla_put_string(msg, KMQTT_A_VERSION, KMQTT_VERSION) ||
	    nla_put_u32(msg, KMQTT_A_ABI_VERSION, KMQTT_ABI_VERSION) ||
	    nla_put_u32(msg, KMQTT_A_STATE, state) ||
	    nla_put_u64_64bit(msg, KMQTT_A_UPTIME_MS, kmqtt_uptime_ms(), KMQTT_A_PAD) ||
	    nla_put_u32(msg, KMQTT_A_DAEMON_PID, d.pid) ||
	    nla_put_u32(msg, KMQTT_A_DAEMON_PORTID, d.portid) ||
	    nla_put_u64_64bit(msg, KMQTT_A_DAEMON_SINCE_MS, d.since_ms, KMQTT_A_PAD) ||
	    kmqtt_nl_put_stats(msg))
		goto nospace;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

nospace:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

u32 kmqtt_nl_daemon_portid(void)
{
	u32 portid;

	mutex_lock(&kmqtt_daemon_lock);
	portid = kmqtt_daemon.portid;
	mutex_unlock(&kmqtt_daemon_lock);
	return portid;
}

void *kmqtt_nl_event_put(struct sk_buff *msg, u8 cmd)
{
	return genlmsg_put(msg, 0, 0, &kmqtt_genl_family, 0, cmd);
}

bool kmqtt_nl_is_daemon(struct genl_info *info)
{
	bool ret;

	mutex_lock(&kmqtt_daemon_lock);
	ret = kmqtt_daemon.portid && kmqtt_daemon.portid == info->snd_portid;
	mutex_unlock(&kmqtt_daemon_lock);
	return ret;
}

static struct kmqtt_acl *kmqtt_nl_parse_acl(struct nlattr *nest, struct netlink_ext_ack *extack,
					    int *err)
{
	struct nlattr *tb[KMQTT_ACL_A_MAX + 1];
	struct kmqtt_acl *acl;
	struct nlattr *rule;
	int rem, n = 0;

	nla_for_each_nested(rule, nest, rem)
		n++;
	if (n > KMQTT_MAX_ACL_RULES) {
		NL_SET_ERR_MSG_ATTR(extack, nest, "kmqtt: too many ACL rules");
		*err = -E2BIG;
		return NULL;
	}
	acl = kmqtt_acl_alloc(n);
	if (!acl) {
		*err = -ENOMEM;
		return NULL;
	}
	nla_for_each_nested(rule, nest, rem) {
		*err = nla_parse_nested(tb, KMQTT_ACL_A_MAX, rule, kmqtt_acl_rule_policy, extack);
		if (*err)
			goto fail;
		if (!tb[KMQTT_ACL_A_FILTER] || !tb[KMQTT_ACL_A_ACCESS]) {
			NL_SET_ERR_MSG_ATTR(extack, rule, "kmqtt: ACL rule without filter/access");
			*err = -EINVAL;
			goto fail;
		}
		if (kmqtt_acl_add(acl, nla_data(tb[KMQTT_ACL_A_FILTER]),
				  nla_get_u32(tb[KMQTT_ACL_A_ACCESS]))) {
			NL_SET_ERR_MSG_ATTR(extack, tb[KMQTT_ACL_A_FILTER],
					    "kmqtt: invalid ACL topic filter");
			*err = -EINVAL;
			goto fail;
		}
	}
	return acl;
fail:
	kmqtt_acl_free(acl);
	return NULL;
}

/* The TLS session's description, in one allocation (struct kmqtt_tls). */
static struct kmqtt_tls *kmqtt_nl_parse_tls(struct nlattr *nest, struct netlink_ext_ack *extack,
					    int *err)
{
	struct nlattr *tb[KMQTT_TLS_A_MAX + 1];
	const char **field[KMQTT_TLS_A_MAX + 1];
	struct kmqtt_tls *tls;
	size_t size = 0;
	char *p;
	int a;

	*err = nla_parse_nested(tb, KMQTT_TLS_A_MAX, nest, kmqtt_tls_policy, extack);
	if (*err)
		return NULL;
	if (!tb[KMQTT_TLS_A_VERSION] || !tb[KMQTT_TLS_A_CIPHER]) {
		NL_SET_ERR_MSG_ATTR(extack, nest, "kmqtt: TLS without version or cipher");
		*err = -EINVAL;
		return NULL;
	}
	for (a = KMQTT_TLS_A_VERSION; a <= KMQTT_TLS_A_MAX; a++)
		if (tb[a])
			size += nla_len(tb[a]);
	tls = kzalloc(struct_size(tls, buf, size), GFP_KERNEL_ACCOUNT);
	if (!tls) {
		*err = -ENOMEM;
		return NULL;
	}
	field[KMQTT_TLS_A_VERSION] = &tls->version;
	field[KMQTT_TLS_A_CIPHER] = &tls->cipher;
	field[KMQTT_TLS_A_CERT_CN] = &tls->cert_cn;
	field[KMQTT_TLS_A_CERT_SERIAL] = &tls->cert_serial;
	field[KMQTT_TLS_A_CERT_ISSUER] = &tls->cert_issuer;
	p = tls->buf;
	for (a = KMQTT_TLS_A_VERSION; a <= KMQTT_TLS_A_MAX; a++) {
		if (!tb[a])
			continue;
		/* NLA_NUL_STRING: terminated within its length. */
		memcpy(p, nla_data(tb[a]), nla_len(tb[a]));
		*field[a] = p;
		p += nla_len(tb[a]);
	}
	return tls;
}

/* The will message, in one allocation (struct kmqtt_will). */
static struct kmqtt_will *kmqtt_nl_parse_will(struct nlattr *nest,
					      struct netlink_ext_ack *extack, int *err)
{
	struct nlattr *tb[KMQTT_WILL_A_MAX + 1];
	struct nlattr *topic, *payload;
	struct kmqtt_will *w;
	u32 plen;

	*err = nla_parse_nested(tb, KMQTT_WILL_A_MAX, nest, kmqtt_will_policy, extack);
	if (*err)
		return NULL;
	*err = -EINVAL;
	topic = tb[KMQTT_WILL_A_TOPIC];
	payload = tb[KMQTT_WILL_A_PAYLOAD];
	if (!topic || !tb[KMQTT_WILL_A_QOS]) {
		NL_SET_ERR_MSG_ATTR(extack, nest, "kmqtt: will without topic or QoS");
		return NULL;
	}
	if (topic_name_valid(nla_data(topic), nla_len(topic), &kmqtt_limits()->topic)) {
		NL_SET_ERR_MSG_ATTR(extack, topic, "kmqtt: invalid will topic");
		return NULL;
	}
	plen = payload ? nla_len(payload) : 0;
	w = kmalloc(struct_size(w, data, nla_len(topic) + plen), GFP_KERNEL_ACCOUNT);
	if (!w) {
		*err = -ENOMEM;
		return NULL;
	}
	w->topic_len = nla_len(topic);
	w->payload_len = plen;
	w->qos = nla_get_u8(tb[KMQTT_WILL_A_QOS]);
	w->retain = nla_get_flag(tb[KMQTT_WILL_A_RETAIN]);
	memcpy(w->data, nla_data(topic), w->topic_len);
	if (plen)
		memcpy(w->data + w->topic_len, nla_data(payload), plen);
	*err = 0;
	return w;
}

static int kmqtt_nl_put_tls(struct sk_buff *skb, const struct kmqtt_tls *tls)
{
	struct nlattr *nest = nla_nest_start(skb, KMQTT_A_TLS);

	if (!nest ||
	    nla_put_string(skb, KMQTT_TLS_A_VERSION, tls->version) ||
	    nla_put_string(skb, KMQTT_TLS_A_CIPHER, tls->cipher) ||
	    (tls->cert_cn && nla_put_string(skb, KMQTT_TLS_A_CERT_CN, tls->cert_cn)) ||
	    (tls->cert_serial && nla_put_string(skb, KMQTT_TLS_A_CERT_SERIAL, tls->cert_serial)) ||
	    (tls->cert_issuer && nla_put_string(skb, KMQTT_TLS_A_CERT_ISSUER, tls->cert_issuer)))
		return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

/* A nest of packet ids (KMQTT_A_QOS2_IDS, KMQTT_A_OUT_IDS): at most @max of them. */
static int kmqtt_nl_check_ids(struct genl_info *info, const struct nlattr *ids, u32 max)
{
	const struct nlattr *a;
	u32 n = 0;
	int rem;

	if (!ids)
		return 0;
	nla_for_each_nested(a, ids, rem) {
		if (nla_type(a) != KMQTT_A_PACKET_ID || ++n > max) {
			NL_SET_ERR_MSG_ATTR(info->extack, a, "kmqtt: bad or too many packet ids");
			return -EINVAL;
		}
	}
	return 0;
}

/* The stored session of a persistent hand-off: counts and topic filters checked. */
int kmqtt_nl_check_session(struct genl_info *info, struct kmqtt_conn_params *p)
{
	struct nlattr *tb[KMQTT_SUB_A_MAX + 1];
	const struct nlattr *a;
	u32 n = 0;
	int rem;

	p->subs = info->attrs[KMQTT_A_SUBS];
	p->qos2_ids = info->attrs[KMQTT_A_QOS2_IDS];
	p->out_ids = info->attrs[KMQTT_A_OUT_IDS];
	if ((p->subs || p->qos2_ids || p->out_ids) && (p->flags & KMQTT_CONN_F_CLEAN_SESSION)) {
		NL_SET_ERR_MSG_MOD(info->extack, "kmqtt: a clean session has no stored state");
		return -EINVAL;
	}
	if (p->subs) {
		nla_for_each_nested(a, p->subs, rem) {
			if (nla_type(a) != KMQTT_A_SUB || ++n > KMQTT_MAX_SESSION_SUBS ||
			    nla_parse_nested(tb, KMQTT_SUB_A_MAX, (struct nlattr *)a,
					     kmqtt_sub_policy, info->extack) ||
			    !tb[KMQTT_SUB_A_FILTER] || !tb[KMQTT_SUB_A_QOS] ||
			    topic_filter_valid(nla_data(tb[KMQTT_SUB_A_FILTER]),
					       nla_len(tb[KMQTT_SUB_A_FILTER]),
					       &kmqtt_limits()->topic)) {
				NL_SET_ERR_MSG_ATTR(info->extack, a,
						    "kmqtt: bad stored subscription");
				return -EINVAL;
			}
		}
	}
	if (kmqtt_nl_check_ids(info, p->qos2_ids, KMQTT_MAX_QOS2_IN) ||
	    kmqtt_nl_check_ids(info, p->out_ids, KMQTT_MAX_OUT_IDS))
		return -EINVAL;
	return 0;
}

static int kmqtt_nl_conn_new(struct sk_buff *skb, struct genl_info *info)
{
	struct kmqtt_conn_params p = {};
	struct nlattr *lim[KMQTT_LIM_A_MAX + 1] = {};
	const char *why = NULL;
	struct sk_buff *msg;
	bool present = false;
	void *hdr;
	u64 id;
	int err;

	kmqtt_stat_inc(KMQTT_STAT_NL_REQUESTS);
	if (!kmqtt_nl_is_daemon(info)) {
		NL_SET_ERR_MSG_MOD(info->extack, "only the daemon hands connections over");
		return -EPERM;
	}
	if (GENL_REQ_ATTR_CHECK(info, KMQTT_A_CONN_FD) ||
	    GENL_REQ_ATTR_CHECK(info, KMQTT_A_CLIENT_ID) ||
	    GENL_REQ_ATTR_CHECK(info, KMQTT_A_PROTO_LEVEL) ||
	    GENL_REQ_ATTR_CHECK(info, KMQTT_A_KEEPALIVE))
		return -EINVAL;
	p.fd = nla_get_u32(info->attrs[KMQTT_A_CONN_FD]);
	p.client_id = nla_data(info->attrs[KMQTT_A_CLIENT_ID]);
	if (!p.client_id[0]) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KMQTT_A_CLIENT_ID],
				    "kmqtt: empty client id");
		return -EINVAL;
	}
	if (info->attrs[KMQTT_A_USERNAME])
		p.username = nla_data(info->attrs[KMQTT_A_USERNAME]);
	p.level = nla_get_u8(info->attrs[KMQTT_A_PROTO_LEVEL]);
	p.keepalive = nla_get_u16(info->attrs[KMQTT_A_KEEPALIVE]);
	if (info->attrs[KMQTT_A_FLAGS])
		p.flags = nla_get_u32(info->attrs[KMQTT_A_FLAGS]);
	if (p.flags & ~__KMQTT_CONN_F_ALL) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[KMQTT_A_FLAGS],
				    "kmqtt: unknown connection flags");
		return -EINVAL;
	}
	err = kmqtt_nl_check_session(info, &p);
	if (err)
		return err;
	if (info->attrs[KMQTT_A_LIMITS]) {
		err = nla_parse_nested(lim, KMQTT_LIM_A_MAX, info->attrs[KMQTT_A_LIMITS],
				       kmqtt_limits_policy, info->extack);
		if (err)
			return err;
		if (lim[KMQTT_LIM_A_MAX_PACKET])
			p.max_packet = nla_get_u32(lim[KMQTT_LIM_A_MAX_PACKET]);
		if (lim[KMQTT_LIM_A_TX_QUEUE])
			p.tx_queue_max = nla_get_u32(lim[KMQTT_LIM_A_TX_QUEUE]);
		if (lim[KMQTT_LIM_A_INFLIGHT])
			p.inflight_max = nla_get_u32(lim[KMQTT_LIM_A_INFLIGHT]);
	}
	if (info->attrs[KMQTT_A_ACL]) {
		p.acl = kmqtt_nl_parse_acl(info->attrs[KMQTT_A_ACL], info->extack, &err);
		if (!p.acl)
			goto refused;
	}
	if (info->attrs[KMQTT_A_TLS]) {
		p.tls = kmqtt_nl_parse_tls(info->attrs[KMQTT_A_TLS], info->extack, &err);
		if (!p.tls)
			goto refused;
	}
	if (info->attrs[KMQTT_A_WILL]) {
		p.will = kmqtt_nl_parse_will(info->attrs[KMQTT_A_WILL], info->extack, &err);
		if (!p.will)
			goto refused;
	}

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg) {
		err = -ENOMEM;
		goto refused;
	}
	err = kmqtt_conn_new(&p, &id, &present, &why);
	if (err) {
		nlmsg_free(msg);
		if (why && info->extack)
			info->extack->_msg = why;	/* a string literal of conn.c */
		goto refused;
	}
	/* The connection owns the ACL, the TLS description and the will now, reply or not. */
	hdr = genlmsg_put_reply(msg, info, &kmqtt_genl_family, 0, KMQTT_CMD_CONN_NEW);
	if (!hdr || nla_put_u64_64bit(msg, KMQTT_A_CONN_ID, id, KMQTT_A_PAD) ||
	    nla_put_u32(msg, KMQTT_A_FLAGS, present ? KMQTT_CONN_F_SESSION_PRESENT : 0)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

refused:
	kmqtt_acl_free(p.acl);
	kfree(p.tls);
	kfree(p.will);
	kmqtt_stat_inc(KMQTT_STAT_CONNS_REFUSED);
	if (why)
		pr_info("refused connection of %s: %s\n", p.client_id, why);
	return err;
}

static int kmqtt_nl_conn_del(struct sk_buff *skb, struct genl_info *info)
{
	int err;

	kmqtt_stat_inc(KMQTT_STAT_NL_REQUESTS);
	if (info->attrs[KMQTT_A_CONN_ID])
		err = kmqtt_conn_kick(nla_get_u64(info->attrs[KMQTT_A_CONN_ID]), NULL);
	else if (info->attrs[KMQTT_A_CLIENT_ID])
		err = kmqtt_conn_kick(0, nla_data(info->attrs[KMQTT_A_CLIENT_ID]));
	else
		return GENL_REQ_ATTR_CHECK(info, KMQTT_A_CLIENT_ID);
	if (err)
		NL_SET_ERR_MSG_MOD(info->extack, "no such connection");
	return err;
}

struct kmqtt_dump_ctx {
	struct sk_buff *skb;
	struct netlink_callback *cb;
};

static int kmqtt_nl_fill_conn(struct kmqtt_conn *c, void *arg)
{
	struct kmqtt_dump_ctx *d = arg;
	struct sk_buff *skb = d->skb;
	u64 cs[KMQTT_CS_MAX + 1] = {};
	struct nlattr *nest;
	void *hdr;
	int s;

	hdr = genlmsg_put(skb, NETLINK_CB(d->cb->skb).portid, d->cb->nlh->nlmsg_seq,
			  &kmqtt_genl_family, NLM_F_MULTI, KMQTT_CMD_CONN_GET);
	if (!hdr)
		return -EMSGSIZE;
	kmqtt_conn_stats(c, cs);
	if (nla_put_u64_64bit(skb, KMQTT_A_CONN_ID, c->id, KMQTT_A_PAD) ||
	    nla_put_string(skb, KMQTT_A_CLIENT_ID, c->client_id) ||
	    (c->username && nla_put_string(skb, KMQTT_A_USERNAME, c->username)) ||
	    nla_put_string(skb, KMQTT_A_PEER, c->peer) ||
	    nla_put_u8(skb, KMQTT_A_PROTO_LEVEL, c->level) ||
	    nla_put_u16(skb, KMQTT_A_KEEPALIVE, c->keepalive) ||
	    nla_put_u64_64bit(skb, KMQTT_A_CONNECTED_MS, c->connected_ms, KMQTT_A_PAD) ||
	    nla_put_u64_64bit(skb, KMQTT_A_LAST_RX_MS, kmqtt_uptime_ms() -
			      jiffies_to_msecs(jiffies - READ_ONCE(c->last_rx)), KMQTT_A_PAD) ||
	    (c->tls && kmqtt_nl_put_tls(skb, c->tls)))
		goto cancel;
	nest = nla_nest_start(skb, KMQTT_A_CONN_STATS);
	if (!nest)
		goto cancel;
	for (s = KMQTT_CS_PAD + 1; s <= KMQTT_CS_MAX; s++)
		if (nla_put_u64_64bit(skb, s, cs[s], KMQTT_CS_PAD))
			goto cancel;
	nla_nest_end(skb, nest);
	genlmsg_end(skb, hdr);
	return 0;
cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

static int kmqtt_nl_conn_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct kmqtt_dump_ctx d = { .skb = skb, .cb = cb };
	unsigned long pos = cb->args[0];

	if (cb->args[1])	/* done */
		return 0;
	if (!pos) {
		kmqtt_stat_inc(KMQTT_STAT_NL_REQUESTS);
		pos = 1;
	}
	if (!kmqtt_conns_for_each(&pos, kmqtt_nl_fill_conn, &d))
		cb->args[1] = 1;
	cb->args[0] = pos;
	return skb->len;
}

static int kmqtt_nl_get_errors(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *nest;
	struct sk_buff *msg;
	void *hdr;
	int i;

	kmqtt_stat_inc(KMQTT_STAT_NL_REQUESTS);
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &kmqtt_genl_family, 0, KMQTT_CMD_GET_ERRORS);
	if (!hdr)
		goto nospace;
	for (i = 0; i < MQTT_E__END - MQTT_E_BASE; i++) {
		u64 n = kmqtt_error_count(i);

		if (!n)
			continue;
		nest = nla_nest_start(msg, KMQTT_A_ERROR);
		if (!nest ||
		    nla_put_string(msg, KMQTT_ERR_A_NAME, mqtt_err_name(-(MQTT_E_BASE + i))) ||
		    nla_put_u64_64bit(msg, KMQTT_ERR_A_COUNT, n, KMQTT_ERR_A_PAD))
			goto nospace;
		nla_nest_end(msg, nest);
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
nospace:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

/* Tell the daemon a connection ended; counted as lost if it cannot hear it. */
void kmqtt_nl_conn_closed(struct kmqtt_conn *c)
{
	struct sk_buff *msg;
	u32 portid;
	void *hdr;

	mutex_lock(&kmqtt_daemon_lock);
	portid = kmqtt_daemon.portid;
	mutex_unlock(&kmqtt_daemon_lock);
	if (!portid)
		goto lost;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		goto lost;
	hdr = genlmsg_put(msg, 0, 0, &kmqtt_genl_family, 0, KMQTT_CMD_CONN_CLOSED);
	if (!hdr || nla_put_u64_64bit(msg, KMQTT_A_CONN_ID, c->id, KMQTT_A_PAD) ||
	    nla_put_string(msg, KMQTT_A_CLIENT_ID, c->client_id) ||
	    nla_put_u32(msg, KMQTT_A_CLOSE_REASON, c->close_reason)) {
		nlmsg_free(msg);
		goto lost;
	}
	genlmsg_end(msg, hdr);
	if (genlmsg_unicast(&init_net, msg, portid))
		goto lost;
	return;
lost:
	kmqtt_stat_inc(KMQTT_STAT_EVENTS_LOST);
}

/* Release the daemon role when the daemon's netlink socket goes away. */
static int kmqtt_nl_release(struct notifier_block *nb, unsigned long state, void *ptr)
{
	struct netlink_notify *n = ptr;
	u32 pid = 0;

	if (state != NETLINK_URELEASE || n->protocol != NETLINK_GENERIC ||
	    !net_eq(n->net, &init_net) || !n->portid)
		return NOTIFY_DONE;

	mutex_lock(&kmqtt_daemon_lock);
	if (kmqtt_daemon.portid == n->portid) {
		pid = kmqtt_daemon.pid;
		memset(&kmqtt_daemon, 0, sizeof(kmqtt_daemon));
	}
	mutex_unlock(&kmqtt_daemon_lock);

	if (pid) {
		kmqtt_retain_daemon_gone();
		kmqtt_stat_inc(KMQTT_STAT_DAEMON_LOST);
		pr_warn("daemon (pid %u) went away without unregistering\n", pid);
	}
	return NOTIFY_DONE;
}

static struct notifier_block kmqtt_nl_notifier = {
	.notifier_call = kmqtt_nl_release,
};

int __init kmqtt_netlink_init(void)
{
	int ret;

	ret = netlink_register_notifier(&kmqtt_nl_notifier);
	if (ret)
		return ret;
	ret = genl_register_family(&kmqtt_genl_family);
	if (ret)
		netlink_unregister_notifier(&kmqtt_nl_notifier);
	return ret;
}

void kmqtt_netlink_exit(void)
{
	mutex_lock(&kmqtt_daemon_lock);
	kmqtt_stopping = true;
	mutex_unlock(&kmqtt_daemon_lock);
	genl_unregister_family(&kmqtt_genl_family);
	netlink_unregister_notifier(&kmqtt_nl_notifier);
}

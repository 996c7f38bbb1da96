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

static const struct nla_policy kmqtt_policy[KMQTT_A_MAX + 1] = {
	[KMQTT_A_VERSION] = { .type = NLA_NUL_STRING },
	[KMQTT_A_ABI_VERSION] = { .type = NLA_U32 },
	[KMQTT_A_STATE] = NLA_POLICY_MAX(NLA_U32, KMQTT_STATE_STOPPING),
	[KMQTT_A_UPTIME_MS] = { .type = NLA_U64 },
	[KMQTT_A_DAEMON_PID] = { .type = NLA_U32 },
	[KMQTT_A_DAEMON_PORTID] = { .type = NLA_U32 },
	[KMQTT_A_DAEMON_SINCE_MS] = { .type = NLA_U64 },
	[KMQTT_A_FLAGS] = NLA_POLICY_MASK(NLA_U32, __KMQTT_REGISTER_F_ALL),
	[KMQTT_A_STATS] = { .type = NLA_NESTED },
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

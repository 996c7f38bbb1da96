// SPDX-License-Identifier: GPL-2.0
/*
 * kmqtt — an MQTT broker whose fast path runs in the kernel.
 *
 * Module entry and exit. kmqttd authenticates devices in userspace and hands their
 * sockets to this module over the generic netlink family defined in uapi/linux/kmqtt.h.
 */
#include <linux/module.h>
#include <net/genetlink.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <uapi/linux/kmqtt.h>
#include "kmqtt.h"

static u64 kmqtt_loaded_ns;

u64 kmqtt_uptime_ms(void)
{
	return div_u64(ktime_get_boottime_ns() - kmqtt_loaded_ns, NSEC_PER_MSEC);
}

static int __init kmqtt_init(void)
{
	int ret;

	kmqtt_loaded_ns = ktime_get_boottime_ns();
	ret = kmqtt_netlink_init();
	if (ret) {
		pr_err("cannot register the generic netlink family: %d\n", ret);
		return ret;
	}
	pr_info("kmqtt %s loaded\n", KMQTT_VERSION);
	return 0;
}

static void __exit kmqtt_exit(void)
{
	kmqtt_netlink_exit();
	pr_info("kmqtt %s unloaded\n", KMQTT_VERSION);
}

module_init(kmqtt_init);
module_exit(kmqtt_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmqtt: in-kernel MQTT broker fast path");
MODULE_AUTHOR("The kmqtt developers");
MODULE_VERSION(KMQTT_VERSION);
MODULE_ALIAS_GENL_FAMILY(KMQTT_GENL_NAME);

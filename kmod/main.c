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
#include <linux/workqueue.h>
#include <uapi/linux/kmqtt.h>
#include "kmqtt.h"

static u64 kmqtt_loaded_ns;
struct workqueue_struct *kmqtt_wq;

u64 kmqtt_uptime_ms(void)
{
	return div_u64(ktime_get_boottime_ns() - kmqtt_loaded_ns, NSEC_PER_MSEC);
}

static int __init kmqtt_init(void)
{
	int ret;

	kmqtt_loaded_ns = ktime_get_boottime_ns();
	kmqtt_owed_seq_floor(div_u64(ktime_get_real_ns(), NSEC_PER_USEC));
	/* Connections' works run on any CPU: fan-out and sends spread over all cores. */
	kmqtt_wq = alloc_workqueue("kmqtt", WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!kmqtt_wq)
		return -ENOMEM;
	ret = kmqtt_conn_init();
	if (ret)
		goto err_wq;
	ret = kmqtt_broker_init();
	if (ret)
		goto err_conn;
	ret = kmqtt_netlink_init();
	if (ret) {
		pr_err("cannot register the generic netlink family: %d\n", ret);
		goto err_broker;
	}
	pr_info("kmqtt %s loaded\n", KMQTT_VERSION);
	return 0;

err_broker:
	kmqtt_broker_exit();
err_conn:
	kmqtt_conn_exit();
err_wq:
	destroy_workqueue(kmqtt_wq);
	return ret;
}

static void __exit kmqtt_exit(void)
{
	/*
	 * Close every connection first, while the daemon can still be told about it and
	 * take what the persistent ones still owed their clients; give it a moment to
	 * confirm. What it did not confirm then is not stored (counted, logged).
	 */
	kmqtt_conns_close_all();
	kmqtt_retain_drain(KMQTT_UNLOAD_DRAIN);
	kmqtt_retain_exit();
	kmqtt_conns_shutdown();
	kmqtt_netlink_exit();
	kmqtt_broker_exit();
	kmqtt_conn_exit();
	destroy_workqueue(kmqtt_wq);
	pr_info("kmqtt %s unloaded\n", KMQTT_VERSION);
}

module_init(kmqtt_init);
module_exit(kmqtt_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("kmqtt: in-kernel MQTT broker fast path");
MODULE_AUTHOR("The kmqtt developers");
MODULE_VERSION(KMQTT_VERSION);
MODULE_ALIAS_GENL_FAMILY(KMQTT_GENL_NAME);

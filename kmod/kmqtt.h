/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Declarations shared by the files of kmqtt.ko.
 */
#ifndef KMQTT_H
#define KMQTT_H

#include <linux/types.h>

/* main.c */
u64 kmqtt_uptime_ms(void);

/* netlink.c */
int __init kmqtt_netlink_init(void);
void kmqtt_netlink_exit(void);

#endif /* KMQTT_H */

/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Talking to kmqtt.ko over its generic netlink family (libnl-genl-3).
 * Functions return 0 or a negative errno: -ENOENT when the module is not loaded,
 * -EPERM when the caller lacks CAP_NET_ADMIN, and what the module answered otherwise.
 */
#ifndef KMQ_NL_H
#define KMQ_NL_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/kmqtt.h>

struct nl_sock;

struct kmq_nl {
	struct nl_sock *sk;
	int family;
	char errmsg[128];	/* the kernel's extended-ack message for the last request */
};

struct kmq_status {
	char version[64];
	uint32_t abi;
	uint32_t state;
	uint64_t uptime_ms;
	uint32_t daemon_pid;
	uint32_t daemon_portid;
	uint64_t daemon_since_ms;
	uint64_t stats[KMQTT_STAT_MAX + 1];
	bool have_stat[KMQTT_STAT_MAX + 1];
};

int kmq_nl_open(struct kmq_nl *nl);
void kmq_nl_close(struct kmq_nl *nl);
int kmq_nl_register(struct kmq_nl *nl, uint32_t pid);
int kmq_nl_unregister(struct kmq_nl *nl);
int kmq_nl_status(struct kmq_nl *nl, struct kmq_status *st);

/* Stable names for counters and states, used in logs, human and JSON output. */
const char *kmq_stat_name(int stat);
const char *kmq_state_name(uint32_t state);

/*
 * A socket on the generic netlink controller's "notify" group, which announces families
 * appearing and disappearing: how the daemon learns that kmqtt.ko was loaded or unloaded.
 */
int kmq_nl_ctrl_open(struct kmq_nl *nl);
enum kmq_family_event { KMQ_FAMILY_NONE, KMQ_FAMILY_NEW, KMQ_FAMILY_DEL, KMQ_FAMILY_RESYNC };
int kmq_nl_ctrl_read(struct kmq_nl *nl, enum kmq_family_event *ev);
int kmq_nl_fd(struct kmq_nl *nl);

#endif

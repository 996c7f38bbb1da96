/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Module-wide counters. Each is a per-CPU u64 bumped without locks on the path that
 * counts it and summed when read, so that counting costs nothing measurable on the
 * hot path. The names and meanings are the uapi's enum kmqtt_stat. Gauges are counted
 * up and down on possibly different CPUs; their sum is still right.
 */
#ifndef KMQTT_STATS_H
#define KMQTT_STATS_H

#include <linux/percpu.h>
#include <uapi/linux/kmqtt.h>

struct kmqtt_stats {
	u64 v[__KMQTT_STAT_MAX];
};

DECLARE_PER_CPU(struct kmqtt_stats, kmqtt_stats);

static inline void kmqtt_stat_inc(enum kmqtt_stat s)
{
	this_cpu_inc(kmqtt_stats.v[s]);
}

static inline void kmqtt_stat_dec(enum kmqtt_stat s)
{
	this_cpu_dec(kmqtt_stats.v[s]);
}

static inline void kmqtt_stat_add(enum kmqtt_stat s, u64 n)
{
	this_cpu_add(kmqtt_stats.v[s], n);
}

u64 kmqtt_stat_read(enum kmqtt_stat s);

#endif /* KMQTT_STATS_H */

// SPDX-License-Identifier: GPL-2.0
#include <linux/cpumask.h>
#include "stats.h"

DEFINE_PER_CPU(struct kmqtt_stats, kmqtt_stats);

/*
 * Sum one counter over all CPUs. The sum is not a snapshot across counters, and on a
 * 32-bit machine a single CPU's value may be read torn; both are acceptable for
 * monotonically growing statistics.
 */
u64 kmqtt_stat_read(enum kmqtt_stat s)
{
	u64 sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += READ_ONCE(per_cpu(kmqtt_stats, cpu).v[s]);
	return sum;
}

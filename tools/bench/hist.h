/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Log-linear latency histogram in the manner of HdrHistogram: values below 2^HIST_SUB_BITS
 * are counted exactly, above that every power of two is cut into 2^HIST_SUB_BITS linear
 * buckets, so a bucket is never wider than 1/128 of its value (0.8 %). Values are
 * nanoseconds up to 2^HIST_MAX_BITS (~18 minutes); larger ones land in the last bucket.
 * Fixed memory (HIST_BUCKETS counters), no allocation, owned by one thread at a time.
 */
#ifndef KMQTT_BENCH_HIST_H
#define KMQTT_BENCH_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS	7
#define HIST_MAX_BITS	40
#define HIST_BUCKETS	(((HIST_MAX_BITS - 1 - HIST_SUB_BITS) << HIST_SUB_BITS) + \
			 (2 << HIST_SUB_BITS))

struct hist {
	uint64_t count;
	uint64_t sum;		/* for the mean */
	uint64_t min;
	uint64_t max;
	uint64_t b[HIST_BUCKETS];
};

void hist_reset(struct hist *h);
void hist_record(struct hist *h, uint64_t v);
void hist_merge(struct hist *dst, const struct hist *src);
/* The value at quantile @q (0..1): the upper end of its bucket, capped at the maximum. */
uint64_t hist_quantile(const struct hist *h, double q);
/* Lowest and highest value bucket @i holds. */
uint64_t hist_bucket_low(unsigned int i);
uint64_t hist_bucket_high(unsigned int i);
unsigned int hist_index(uint64_t v);

#endif

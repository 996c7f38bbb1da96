// SPDX-License-Identifier: GPL-2.0 OR MIT
/* Log-linear histogram, see hist.h. */
#include <string.h>
#include "hist.h"

void hist_reset(struct hist *h)
{
	memset(h, 0, sizeof(*h));
}

/*
 * v < 2^(S+1): bucket v. Otherwise with e = msb(v) - S, v >> e lies in [2^S, 2^(S+1)) and
 * the bucket is (e << S) + (v >> e): the octave picks the block, the top S+1 bits the slot.
 */
unsigned int hist_index(uint64_t v)
{
	unsigned int msb, e;

	if (v < (2u << HIST_SUB_BITS))
		return (unsigned int)v;
	msb = 63 - (unsigned int)__builtin_clzll(v);
	if (msb >= HIST_MAX_BITS)
		return HIST_BUCKETS - 1;
	e = msb - HIST_SUB_BITS;
	return (e << HIST_SUB_BITS) + (unsigned int)(v >> e);
}

uint64_t hist_bucket_low(unsigned int i)
{
	unsigned int e;

	if (i < (2u << HIST_SUB_BITS))
		return i;
	e = (i >> HIST_SUB_BITS) - 1;
	return (uint64_t)(i - (e << HIST_SUB_BITS)) << e;
}

uint64_t hist_bucket_high(unsigned int i)
{
	unsigned int e;

	if (i < (2u << HIST_SUB_BITS))
		return i;
	e = (i >> HIST_SUB_BITS) - 1;
	return ((uint64_t)(i - (e << HIST_SUB_BITS) + 1) << e) - 1;
}

void hist_record(struct hist *h, uint64_t v)
{
	if (!h->count || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->count++;
	h->sum += v;
	h->b[hist_index(v)]++;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	unsigned int i;

	if (!src->count)
		return;
	if (!dst->count || src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->count += src->count;
	dst->sum += src->sum;
	for (i = 0; i < HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
}

uint64_t hist_quantile(const struct hist *h, double q)
{
	uint64_t want, seen = 0, v;
	unsigned int i;

	if (!h->count)
		return 0;
	if (q <= 0)
		return h->min;
	want = (uint64_t)(q * (double)h->count + 0.5);
	if (want < 1)
		want = 1;
	if (want > h->count)
		want = h->count;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= want)
			break;
	}
	v = hist_bucket_high(i < HIST_BUCKETS ? i : HIST_BUCKETS - 1);
	if (v > h->max)
		v = h->max;
	if (v < h->min)
		v = h->min;
	return v;
}

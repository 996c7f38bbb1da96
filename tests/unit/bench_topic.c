// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Topic trie benchmark: a smart-city trie of a million devices.
 *
 *   meter/<id>/kwh           1,000,000 ids under one parent, one subscriber each
 *   city/<district>/traffic/#  500 districts x 100 subscribers
 *   +/+/alarm                1,000 subscribers
 *
 * Reports the subscribe rate, matches per second for typical topics, the bytes per
 * subscription from the trie's own accounting (and the process RSS growth, which adds
 * malloc's overhead), the unsubscribe rate, and a final "BENCH {json}" line.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "topic.h"

#define METERS		1000000
#define DISTRICTS	500
#define PER_DISTRICT	100
#define ALARMS		1000
#define MATCH_ROUNDS	200000

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static long rss_bytes(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return rss * sysconf(_SC_PAGESIZE);
}

static u64 rng = 88172645463325252ULL;

static u32 rnd(u32 n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (u32)(rng % n);
}

/* Subscribers are opaque to the trie: distinct addresses that are never dereferenced. */
static char *who_base;

static void *who(u32 i)
{
	return who_base + i;
}

static int count_cb(void *ctx, const struct topic_match *m)
{
	(void)m;
	++*(u64 *)ctx;
	return 0;
}

static int do_sub(struct topic_trie *t, const char *f, void *w, u8 qos)
{
	struct topic_sub_opts o = { .qos = qos };
	int ret = topic_subscribe(t, f, strlen(f), w, &o);

	if (ret) {
		fprintf(stderr, "bench_topic: subscribe %s: %s\n", f, topic_err_name(ret));
		exit(1);
	}
	return ret;
}

struct run {
	const char *name;
	double per_s;
	double deliveries;
};

static void bench_match(struct topic_trie *t, struct run *r, int kind)
{
	u64 hits = 0;
	char topic[64];
	double t0, dt;
	int i;

	t0 = now_s();
	for (i = 0; i < MATCH_ROUNDS; i++) {
		int len = 0;

		switch (kind) {
		case 0:
			len = snprintf(topic, sizeof(topic), "meter/%u/kwh", rnd(METERS));
			break;
		case 1:
			len = snprintf(topic, sizeof(topic), "city/d%u/traffic/sensor%u",
				       rnd(DISTRICTS), rnd(64));
			break;
		case 2:
			len = snprintf(topic, sizeof(topic), "meter/%u/alarm", rnd(METERS));
			break;
		default:
			len = snprintf(topic, sizeof(topic), "parking/%u/free", rnd(METERS));
			break;
		}
		if (topic_match(t, topic, len, NULL, 0, count_cb, &hits) < 0) {
			fprintf(stderr, "bench_topic: match %s failed\n", topic);
			exit(1);
		}
	}
	dt = now_s() - t0;
	r->per_s = MATCH_ROUNDS / dt;
	r->deliveries = (double)hits / MATCH_ROUNDS;
}

int main(void)
{
	static const char *const names[] = {
		"meter_kwh", "district_traffic", "meter_alarm", "miss",
	};
	struct topic_limits lim = TOPIC_LIMITS_DEFAULT;
	const u32 total = METERS + DISTRICTS * PER_DISTRICT + ALARMS;
	struct topic_delivery dlv[256];
	struct topic_id_link ids[16];
	struct topic_collector c;
	struct topic_trie t;
	struct run runs[4];
	char f[64];
	double t0, sub_s, unsub_s, collect_s;
	long rss0, rss1;
	size_t bytes;
	u64 nodes, tables;
	u32 index[512];
	int i, d, k;

	who_base = malloc(total);
	if (!who_base)
		return 1;
	topic_trie_init(&t, &lim, 0);
	rss0 = rss_bytes();

	t0 = now_s();
	for (i = 0; i < METERS; i++) {
		snprintf(f, sizeof(f), "meter/%d/kwh", i);
		do_sub(&t, f, who(i), 1);
	}
	for (d = 0; d < DISTRICTS; d++) {
		snprintf(f, sizeof(f), "city/d%d/traffic/#", d);
		for (k = 0; k < PER_DISTRICT; k++)
			do_sub(&t, f, who(METERS + d * PER_DISTRICT + k), 0);
	}
	for (k = 0; k < ALARMS; k++)
		do_sub(&t, "+/+/alarm", who(METERS + DISTRICTS * PER_DISTRICT + k), 2);
	sub_s = now_s() - t0;
	rss1 = rss_bytes();
	bytes = t.tree.bytes;
	nodes = t.tree.nodes;
	tables = t.tree.tables;

	for (k = 0; k < 4; k++) {
		runs[k].name = names[k];
		bench_match(&t, &runs[k], k);
	}

	topic_collector_init(&c, dlv, 256, index, 512, ids, 16);
	t0 = now_s();
	for (i = 0; i < MATCH_ROUNDS; i++) {
		snprintf(f, sizeof(f), "city/d%u/traffic/s", rnd(DISTRICTS));
		if (topic_collect(&t, f, strlen(f), NULL, 0, &c) != PER_DISTRICT)
			return 1;
	}
	collect_s = now_s() - t0;

	t0 = now_s();
	for (i = 0; i < METERS; i++) {
		snprintf(f, sizeof(f), "meter/%d/kwh", i);
		if (topic_unsubscribe(&t, f, strlen(f), who(i)))
			return 1;
	}
	for (d = 0; d < DISTRICTS; d++) {
		snprintf(f, sizeof(f), "city/d%d/traffic/#", d);
		for (k = 0; k < PER_DISTRICT; k++)
			if (topic_unsubscribe(&t, f, strlen(f),
					      who(METERS + d * PER_DISTRICT + k)))
				return 1;
	}
	for (k = 0; k < ALARMS; k++)
		if (topic_unsubscribe(&t, "+/+/alarm", 9,
				      who(METERS + DISTRICTS * PER_DISTRICT + k)))
			return 1;
	unsub_s = now_s() - t0;
	if (t.tree.nodes || t.tree.bytes || t.subs) {
		fprintf(stderr, "bench_topic: trie not empty after unsubscribing all\n");
		return 1;
	}

	printf("topic trie: %u subscriptions (%d meter ids under one parent, %d districts x %d, %d on +/+/alarm)\n",
	       total, METERS, DISTRICTS, PER_DISTRICT, ALARMS);
	printf("  subscribe:    %.0f subscriptions/s (%.2f s)\n", total / sub_s, sub_s);
	printf("  memory:       %zu bytes accounted = %.1f bytes/subscription; %llu nodes, %llu tables\n",
	       bytes, (double)bytes / total, (unsigned long long)nodes,
	       (unsigned long long)tables);
	printf("                RSS grew %.1f MiB = %.1f bytes/subscription (malloc overhead included)\n",
	       (rss1 - rss0) / 1048576.0, (double)(rss1 - rss0) / total);
	for (k = 0; k < 4; k++)
		printf("  match %-17s %10.0f matches/s, %6.1f deliveries/match\n", runs[k].name,
		       runs[k].per_s, runs[k].deliveries);
	printf("  collect district_traffic %7.0f collects/s (100 subscribers merged)\n",
	       MATCH_ROUNDS / collect_s);
	printf("  unsubscribe:  %.0f unsubscriptions/s, trie empty afterwards\n", total / unsub_s);
	printf("BENCH {\"bench\":\"topic\",\"subscriptions\":%u,\"subscribe_per_s\":%.0f,"
	       "\"bytes_per_sub\":%.1f,\"rss_bytes_per_sub\":%.1f,\"nodes\":%llu,",
	       total, total / sub_s, (double)bytes / total, (double)(rss1 - rss0) / total,
	       (unsigned long long)nodes);
	for (k = 0; k < 4; k++)
		printf("\"match_%s_per_s\":%.0f,", runs[k].name, runs[k].per_s);
	printf("\"collect_district_traffic_per_s\":%.0f,\"unsubscribe_per_s\":%.0f}\n",
	       MATCH_ROUNDS / collect_s, total / unsub_s);
	topic_trie_destroy(&t);
	free(who_base);
	return 0;
}

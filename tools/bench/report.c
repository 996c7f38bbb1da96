// SPDX-License-Identifier: GPL-2.0 OR MIT
/* kmqtt-bench results: the JSON document (contract in kmqtt-bench.c) and the human summary. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "bench.h"

#define CDF_POINTS_MAX	200

void step_totals(struct step_result *r, uint32_t nclass)
{
	struct stats_cls *t = &r->tot;
	uint32_t i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < nclass; i++) {
		const struct stats_cls *c = &r->st.c[i];

		t->sent += c->sent;
		t->unsent += c->unsent;
		t->expected += c->expected;
		t->offered_exp += c->offered_exp;
		t->delivered += c->delivered;
		t->delivered_by_end += c->delivered_by_end;
		t->dup += c->dup;
		t->ooo += c->ooo;
		hist_merge(&t->lat, &c->lat);
	}
	r->lost = t->expected > t->delivered ? t->expected - t->delivered : 0;
}

/* Duplicates of QoS 2 messages: exactly once was broken, an error whatever the rate. */
static uint64_t qos2_dups(const struct scenario *s, const struct step_result *r)
{
	uint64_t n = 0;
	uint32_t i;

	for (i = 0; i < s->nclass; i++)
		if (s->cls[i].qos == 2)
			n += r->st.c[i].dup;
	return n;
}

static double per_s(uint64_t n, double d)
{
	return d > 0 ? (double)n / d : 0;
}

static double us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void json_latency(FILE *f, const struct hist *h)
{
	fprintf(f, "{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f,"
		"\"mean\":%.1f,\"min\":%.1f,\"count\":%llu}",
		us(hist_quantile(h, 0.50)), us(hist_quantile(h, 0.90)),
		us(hist_quantile(h, 0.99)), us(hist_quantile(h, 0.999)), us(h->max),
		h->count ? us(h->sum / h->count) : 0.0, us(h->min),
		(unsigned long long)h->count);
}

/*
 * At most CDF_POINTS_MAX points [latency_us, fraction]: a bucket is written when its
 * cumulative fraction reaches the next of 160 even steps or of the tail marks
 * 1 - 10^-x (x = 2, 2.25, ..., 6), and the last bucket always (fraction 1).
 */
static void json_cdf(FILE *f, const struct hist *h)
{
	double targets[CDF_POINTS_MAX];
	unsigned int nt = 0, ti = 0, i, last = 0, pts = 0;
	uint64_t cum = 0;
	double x;

	fputc('[', f);
	if (!h->count) {
		fputc(']', f);
		return;
	}
	for (i = 1; i <= 160; i++)
		targets[nt++] = i / 160.0;
	for (x = 2.0; x <= 6.0; x += 0.25)
		targets[nt++] = 1.0 - pow(10, -x);
	/* sort (insertion: small) */
	for (i = 1; i < nt; i++) {
		double v = targets[i];
		unsigned int j = i;

		while (j && targets[j - 1] > v) {
			targets[j] = targets[j - 1];
			j--;
		}
		targets[j] = v;
	}
	for (i = 0; i < HIST_BUCKETS; i++)
		if (h->b[i])
			last = i;
	for (i = 0; i <= last; i++) {
		double frac;
		uint64_t v;
		bool take = false;

		if (!h->b[i])
			continue;
		cum += h->b[i];
		frac = (double)cum / (double)h->count;
		while (ti < nt && frac >= targets[ti]) {
			take = true;
			ti++;
		}
		if (!take && i != last)
			continue;
		v = hist_bucket_high(i);
		if (v > h->max)
			v = h->max;
		fprintf(f, "%s[%.1f,%.6f]", pts++ ? "," : "", us(v), i == last ? 1.0 : frac);
	}
	fputc(']', f);
}

static void json_cpu(FILE *f, const struct step_result *r)
{
	fprintf(f, "\"gen_cpu_s\":{\"user\":%.3f,\"sys\":%.3f},\"gen_cpu_pct\":%.1f",
		r->cpu_user, r->cpu_sys,
		r->duration > 0 ? (r->cpu_user + r->cpu_sys) / r->duration * 100 : 0.0);
}

void report_json(FILE *f, const struct scenario *s, const struct step_result *best,
		 const struct step_result *steps, uint32_t nsteps, double max_rate,
		 uint32_t conns, double connect_s, uint64_t rss_kb)
{
	const struct stats_cls *t = &best->tot;
	const struct stats *st = &best->st;
	uint32_t i;

	fprintf(f, "{\"tool\":\"kmqtt-bench\",\"version\":%d,\"scenario\":", BENCH_VERSION);
	json_str(f, s->name);
	fputs(",\"target\":", f);
	json_str(f, O.label);
	fprintf(f, ",\"mode\":\"%s\"", O.search ? "search" : "fixed");
	fprintf(f, ",\"params\":{\"n\":%u,\"qos\":%d,\"size\":%u,\"rate\":%.3f,"
		"\"duration_s\":%.3f,\"threads\":%d,\"tls\":%s,\"raw\":%s,\"warmup_s\":%.3f,"
		"\"inflight\":%u,\"keepalive\":%u,\"tick_us\":%u",
		O.n, O.qos < 0 ? 0 : O.qos, O.size, O.rate, O.search ? O.step : O.duration,
		O.threads, O.tls ? "true" : "false", O.raw ? "true" : "false", O.warmup,
		O.inflight, O.keepalive, O.tick_us);
	if (s->offline)
		fprintf(f, ",\"messages\":%u,\"drain_s\":%.3f", O.messages, O.drain);
	fputc('}', f);
	fprintf(f, ",\"connections\":%u,\"connect_s\":%.3f", conns, connect_s);
	fprintf(f, ",\"offered_per_s\":%.3f,\"sent\":%llu,\"expected\":%llu,\"delivered\":%llu,"
		"\"lost\":%llu,\"duplicates\":%llu,\"out_of_order\":%llu,\"late\":%llu,"
		"\"max_lateness_us\":%.0f,\"duration_s\":%.3f,\"delivered_per_s\":%.3f",
		best->offered, (unsigned long long)t->sent, (unsigned long long)t->expected,
		(unsigned long long)t->delivered, (unsigned long long)best->lost,
		(unsigned long long)t->dup, (unsigned long long)t->ooo,
		(unsigned long long)st->late, us(st->max_late_ns), best->duration,
		per_s(t->delivered, best->duration));
	fprintf(f, ",\"expected_per_s\":%.3f,\"offered_expected\":%llu,\"unsent\":%llu,"
		"\"delivered_by_end\":%llu,\"stale\":%llu,\"foreign\":%llu,\"bad_acks\":%llu,"
		"\"disconnects\":%llu,\"msgs_out\":%llu,\"msgs_in\":%llu,\"bytes_out\":%llu,"
		"\"bytes_in\":%llu,\"ok\":%s,\"backlog_mid\":%llu,\"backlog_end\":%llu,"
		"\"gen_rss_kb\":%llu,\"qos2_duplicates\":%llu",
		per_s(t->expected, best->duration), (unsigned long long)t->offered_exp,
		(unsigned long long)t->unsent, (unsigned long long)t->delivered_by_end,
		(unsigned long long)st->stale, (unsigned long long)st->foreign,
		(unsigned long long)st->bad_ack, (unsigned long long)st->disconnects,
		(unsigned long long)st->msgs_out, (unsigned long long)st->msgs_in,
		(unsigned long long)st->bytes_out, (unsigned long long)st->bytes_in,
		best->ok ? "true" : "false", (unsigned long long)best->backlog_mid,
		(unsigned long long)best->backlog_end, (unsigned long long)rss_kb,
		(unsigned long long)qos2_dups(s, best));
	fputs(",\"latency_us\":", f);
	json_latency(f, &t->lat);
	fputs(",\"latency_cdf\":", f);
	json_cdf(f, &t->lat);
	fputc(',', f);
	json_cpu(f, best);
	if (O.search && s->traffic) {
		fprintf(f, ",\"search\":{\"max_rate\":%.3f,\"steps\":[", max_rate);
		for (i = 0; i < nsteps; i++) {
			const struct step_result *r = &steps[i];

			fprintf(f, "%s{\"offered\":%.3f,\"delivered_per_s\":%.3f,\"ok\":%s,"
				"\"expected_per_s\":%.3f,\"delivered_by_end\":%llu,"
				"\"offered_expected\":%llu,\"lost\":%llu,\"unsent\":%llu,"
				"\"late\":%llu,\"p99_us\":%.1f,\"duration_s\":%.3f,"
				"\"backlog_mid\":%llu,\"backlog_end\":%llu,\"growing\":%s,"
				"\"qos2_duplicates\":%llu,",
				i ? "," : "", r->offered, per_s(r->tot.delivered, r->duration),
				r->ok ? "true" : "false", per_s(r->tot.expected, r->duration),
				(unsigned long long)r->tot.delivered_by_end,
				(unsigned long long)r->tot.offered_exp,
				(unsigned long long)r->lost, (unsigned long long)r->tot.unsent,
				(unsigned long long)r->st.late,
				us(hist_quantile(&r->tot.lat, 0.99)), r->duration,
				(unsigned long long)r->backlog_mid,
				(unsigned long long)r->backlog_end, r->growing ? "true" : "false",
				(unsigned long long)qos2_dups(s, r));
			json_cpu(f, r);
			fputc('}', f);
		}
		fputs("]}", f);
	}
	if (!s->traffic)
		fprintf(f, ",\"idle\":{\"connections\":%u,\"connect_s\":%.3f,\"pings\":%llu,"
			"\"pongs\":%llu,\"lost\":%llu}", conns, connect_s,
			(unsigned long long)st->pings, (unsigned long long)st->pongs,
			(unsigned long long)st->disconnects);
	if (s->offline)
		fprintf(f, ",\"offline\":{\"messages\":%llu,\"stored\":%llu,\"stored_s\":%.3f,"
			"\"stored_per_s\":%.3f,\"unacked\":%llu,\"resumed\":%llu,\"resume_s\":%.3f,"
			"\"drained_s\":%.3f,\"drained_per_s\":%.3f,\"sessions_present\":%llu,"
			"\"sessions_lost\":%llu,\"sessions_stale\":%llu}",
			(unsigned long long)s->npub * O.messages, (unsigned long long)st->acked,
			best->stored_s, per_s(st->acked, best->stored_s),
			(unsigned long long)(t->sent - (st->acked < t->sent ? st->acked : t->sent)),
			(unsigned long long)best->resumed, best->resume_s, best->drained_s,
			per_s(t->delivered, best->drained_s),
			(unsigned long long)st->sess_present, (unsigned long long)st->sess_absent,
			(unsigned long long)st->sess_stale);
	if (!strcmp(s->name, "city")) {
		fputs(",\"classes\":{", f);
		for (i = 0; i < s->nclass; i++) {
			const struct class_info *ci = &s->cls[i];
			const struct stats_cls *c = &st->c[i];
			double scale = s->base_rate > 0 ? best->offered / s->base_rate : 0;

			fprintf(f, "%s\"%s\":{\"sent\":%llu,\"expected\":%llu,\"delivered\":%llu,"
				"\"lost\":%llu,\"unsent\":%llu,\"duplicates\":%llu,"
				"\"out_of_order\":%llu,\"delivered_per_s\":%.3f,"
				"\"offered_per_s\":%.3f,\"qos\":%u,\"publishers\":%u,"
				"\"subscribers\":%u,\"size_min\":%u,\"size_max\":%u,"
				"\"latency_us\":",
				i ? "," : "", ci->name, (unsigned long long)c->sent,
				(unsigned long long)c->expected, (unsigned long long)c->delivered,
				(unsigned long long)(c->expected > c->delivered ?
						     c->expected - c->delivered : 0),
				(unsigned long long)c->unsent, (unsigned long long)c->dup,
				(unsigned long long)c->ooo, per_s(c->delivered, best->duration),
				ci->rate * scale, ci->qos, ci->pubs, ci->subs, ci->size_min,
				ci->size_max);
			json_latency(f, &c->lat);
			fputc('}', f);
		}
		fputc('}', f);
	}
	fputs("}\n", f);
}

void report_human(FILE *f, const struct scenario *s, const struct step_result *r,
		  const char *what)
{
	const struct stats_cls *t = &r->tot;
	const struct hist *h = &t->lat;
	uint32_t i;

	if (s->offline) {
		fprintf(f, "# %s: stored %llu of %llu messages in %.3f s (%.0f msg/s); subscribers "
			"back in %.3f s (%llu of %u), drained %llu in %.3f s (%.0f msg/s)\n", what,
			(unsigned long long)r->st.acked, (unsigned long long)s->npub * O.messages,
			r->stored_s, per_s(r->st.acked, r->stored_s), r->resume_s,
			(unsigned long long)r->resumed, s->nsub, (unsigned long long)t->delivered,
			r->drained_s, per_s(t->delivered, r->drained_s));
		fprintf(f, "#   sent %llu, expected %llu, delivered %llu, lost %llu, dup %llu, "
			"reordered %llu; sessions present %llu, lost %llu, stale %llu%s\n",
			(unsigned long long)t->sent, (unsigned long long)t->expected,
			(unsigned long long)t->delivered, (unsigned long long)r->lost,
			(unsigned long long)t->dup, (unsigned long long)t->ooo,
			(unsigned long long)r->st.sess_present,
			(unsigned long long)r->st.sess_absent, (unsigned long long)r->st.sess_stale,
			r->ok ? " [ok]" : " [incomplete]");
		if (r->st.sess_absent)
			fprintf(f, "kmqtt-bench: ERROR: %llu persistent sessions not present on "
				"return (CONNACK session present 0)\n",
				(unsigned long long)r->st.sess_absent);
		if (r->st.sess_stale)
			fprintf(f, "kmqtt-bench: ERROR: %llu sessions survived a clean session "
				"CONNECT\n", (unsigned long long)r->st.sess_stale);
	} else {
		fprintf(f, "# %s: offered %.0f msg/s for %.1f s: sent %llu, expected %llu, "
			"delivered %llu (%.0f/s), lost %llu, dup %llu, reordered %llu, unsent "
			"%llu%s\n", what, r->offered, r->duration, (unsigned long long)t->sent,
			(unsigned long long)t->expected, (unsigned long long)t->delivered,
			per_s(t->delivered, r->duration), (unsigned long long)r->lost,
			(unsigned long long)t->dup, (unsigned long long)t->ooo,
			(unsigned long long)t->unsent,
			s->traffic ? (r->ok ? " [ok]" : " [behind]") : "");
	}
	fprintf(f, "#   late %llu (max %.2f ms), stale %llu, foreign %llu, bad acks %llu, lost "
		"connections %llu\n", (unsigned long long)r->st.late,
		(double)r->st.max_late_ns / 1e6, (unsigned long long)r->st.stale,
		(unsigned long long)r->st.foreign, (unsigned long long)r->st.bad_ack,
		(unsigned long long)r->st.disconnects);
	if (qos2_dups(s, r))
		fprintf(f, "kmqtt-bench: ERROR: %llu duplicate deliveries of QoS 2 messages "
			"(exactly once broken)\n", (unsigned long long)qos2_dups(s, r));
	fprintf(f, "#   latency us: p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f  "
		"mean %.1f\n", us(hist_quantile(h, 0.5)), us(hist_quantile(h, 0.9)),
		us(hist_quantile(h, 0.99)), us(hist_quantile(h, 0.999)), us(h->max),
		h->count ? us(h->sum / h->count) : 0.0);
	fprintf(f, "#   generator CPU: user %.2f s, sys %.2f s = %.1f%% of one CPU\n",
		r->cpu_user, r->cpu_sys,
		r->duration > 0 ? (r->cpu_user + r->cpu_sys) / r->duration * 100 : 0.0);
	if (strcmp(s->name, "city"))
		return;
	for (i = 0; i < s->nclass; i++) {
		const struct stats_cls *c = &r->st.c[i];

		fprintf(f, "#   %-9s sent %8llu delivered %8llu (%8.1f/s) lost %llu  "
			"p50 %.1f us  p99 %.1f us\n", s->cls[i].name,
			(unsigned long long)c->sent, (unsigned long long)c->delivered,
			per_s(c->delivered, r->duration),
			(unsigned long long)(c->expected > c->delivered ?
					     c->expected - c->delivered : 0),
			us(hist_quantile(&c->lat, 0.5)), us(hist_quantile(&c->lat, 0.99)));
	}
}

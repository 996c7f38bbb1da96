/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * kmqtt-bench internals shared by its files (see kmqtt-bench.c for the tool's contract):
 *
 *   kmqtt-bench.c  options, the run (fixed rate, search, idle), orchestration of the workers
 *   scenario.c     the scenarios as a list of clients (publishers, subscribers, idle)
 *   worker.c       one thread: its connections, its epoll, pacing, sending, receiving
 *   report.c       merged results: the JSON document and the human summary
 *   hist.c         the latency histogram
 *
 * Threads share nothing but struct ctl (written by the main thread, read by workers) and
 * struct live (one per worker, written by it, read by the main thread); both are accessed
 * with __atomic builtins. Everything else a worker owns alone; the main thread reads a
 * worker's collected struct stats only after the worker has published it (live.collected).
 */
#ifndef KMQTT_BENCH_H
#define KMQTT_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <openssl/ssl.h>
#include "mqtt_codec.h"
#include "hist.h"

#define BENCH_VERSION		1
#define NCLASS_MAX		6	/* city's classes; other scenarios use class 0 */

/*
 * Every payload starts with this header (host byte order: the same process reads it).
 * The rest of the payload is filler. @epoch is the measurement step the message was sent
 * in, PF_MEASURED says it was scheduled inside the step's measurement window.
 */
#define PAYLOAD_MAGIC		0x424d514bu	/* "KQMB" */
#define PF_MEASURED		0x01
struct payload_hdr {
	uint32_t magic;
	uint32_t pub;		/* publisher id */
	uint32_t seq;		/* per publisher, from 0, never reset */
	uint16_t epoch;
	uint8_t flags;
	uint8_t cls;		/* traffic class (city), 0 otherwise */
	uint64_t ts;		/* CLOCK_MONOTONIC ns when the frame was built for sending */
};
#define PAYLOAD_HDR		((uint32_t)sizeof(struct payload_hdr))

enum role { ROLE_PUB, ROLE_SUB, ROLE_IDLE };

/* One connection of the scenario. */
struct client {
	uint8_t role;
	uint8_t qos;		/* publish QoS (PUB), subscription QoS (SUB, IDLE) */
	uint8_t cls;
	uint16_t keepalive;	/* seconds, 0: none */
	char *topic;		/* PUB: topic name; SUB, IDLE: filter (IDLE: NULL for none) */
	char *key;		/* --raw: the relay key (see kmqtt-bench.c) */
	/* ROLE_PUB */
	uint32_t pub_id;
	double rate;		/* messages/s at scale 1 */
	double phase;		/* 0..1: where in its period this publisher's messages fall */
	uint32_t burst;		/* messages sent together each period (1: evenly paced) */
	uint32_t size_min, size_max;	/* payload bytes */
	uint32_t fan;		/* subscribers that receive each message */
	/* ROLE_SUB: it receives the publishers with ids in [src_lo, src_hi) */
	uint32_t src_lo, src_hi;
	/*
	 * ROLE_SUB of the offline scenario: a persistent session (clean session 0) under the
	 * fixed identifier @client_id. Set-up purges any session of that name (a clean
	 * session 1 CONNECT, DISCONNECT), then CONNECT with clean session 0, SUBSCRIBE,
	 * DISCONNECT: the subscriber is then "parked" (offline) until ctl.resume, when it
	 * connects again with clean session 0 and no SUBSCRIBE.
	 */
	bool persistent;
	char *client_id;	/* NULL: <prefix><pid>-<thread>-<n> */
};

struct class_info {
	const char *name;
	uint32_t pubs, subs;
	uint8_t qos;
	uint32_t size_min, size_max;
	double rate;		/* messages/s of the class at scale 1 */
};

struct scenario {
	const char *name;
	struct client *cl;
	uint32_t ncl, cap;
	uint32_t npub;
	uint32_t nclass;
	struct class_info cls[NCLASS_MAX];
	double base_rate;	/* sum of the publishers' rates at scale 1 */
	uint32_t max_payload;
	bool traffic;		/* false: idle */
	bool offline;		/* the offline scenario: count-driven, see kmqtt-bench.c */
	uint32_t nsub;
};

/* Options (kmqtt-bench.c fills it; everyone reads it). */
struct opts {
	const char *host, *port, *user, *pass;
	bool tls, insecure, raw, search, idle_sub;
	const char *cafile, *cert, *key;
	uint32_t n;
	uint32_t messages;	/* offline: messages per publisher */
	int qos;		/* -1: not given */
	uint32_t size;
	double rate;		/* 0: not given */
	double duration, warmup, step, drain;
	bool duration_set;
	int threads;
	const char *label, *json, *ready_file, *scenario;
	double progress;
	uint16_t keepalive;
	uint32_t inflight;
	uint32_t tick_us;
	uint32_t connect_burst;
	double connect_timeout;
	double factor, ok_ratio, max_loss, max_growth, max_rate;
	uint32_t bisect, max_steps;
	uint32_t max_packet;
	const char *bind;
	const char *client_prefix;
	bool verbose;
};
extern struct opts O;

/* Where to connect (resolved once). */
extern struct sockaddr_storage target_addr;
extern socklen_t target_len;
extern struct sockaddr_storage *bind_addrs;
extern uint32_t n_bind_addrs;
extern SSL_CTX *tls_ctx;

/* Per traffic class figures of one worker for one step. */
struct stats_cls {
	uint64_t sent;		/* measured messages sent */
	uint64_t unsent;	/* measured messages due but not sent (back-pressure) */
	uint64_t expected;	/* deliveries the sent measured messages imply */
	uint64_t offered_exp;	/* deliveries the schedule implies (sent or not) */
	uint64_t delivered;	/* distinct measured messages received */
	uint64_t delivered_by_end;	/* ... of them received before the window closed */
	uint64_t dup;
	uint64_t ooo;
	struct hist lat;	/* ns, measured deliveries */
};

struct stats {
	uint64_t late;		/* measured messages sent > LATE_NS behind schedule */
	uint64_t max_late_ns;
	uint64_t stale;		/* messages of an earlier step */
	uint64_t foreign;	/* PUBLISH without our header, from an unknown publisher */
	uint64_t bad_ack;	/* PUBACK/PUBREC/PUBCOMP/PUBREL that fits no message */
	uint64_t pings, pongs;
	uint64_t disconnects;
	uint64_t msgs_out, msgs_in, bytes_out, bytes_in;
	/* offline */
	uint64_t acked;		/* QoS 1/2 PUBLISHes completed (PUBACK, PUBCOMP) */
	uint64_t last_ack_ns, last_rx_ns;	/* the last completion, measured delivery */
	uint64_t sess_present;	/* resumed sessions: CONNACK session present 1 */
	uint64_t sess_absent;	/* ... session present 0: the session was lost (error) */
	uint64_t sess_stale;	/* a session survived the purge (session present 1 on the
				 * first clean session 0 CONNECT: error) */
	struct stats_cls c[NCLASS_MAX];
};

#define LATE_NS		1000000ULL

/* What a worker shows the main thread at any time (relaxed atomics). */
struct live {
	uint64_t ready;		/* connections ready (CONNACK/SUBACK or relay OK) */
	uint64_t sent, recv;	/* all messages, all steps */
	uint64_t expected, delivered;	/* current step, measured */
	uint64_t finalized;	/* step whose sending is over */
	uint64_t collected;	/* step whose stats sit in the worker's result */
	uint64_t lost_conns;	/* connections that went away after being ready */
	uint64_t pings, pongs;
	uint64_t resumed;	/* offline: parked subscribers connected again */
	uint64_t acked, last_ack_ns, last_rx_ns;	/* offline: see struct stats */
};

/* Control block: written by the main thread, read by the workers. */
struct ctl {
	uint32_t epoch;		/* bumped (release) to start a step */
	uint64_t origin;	/* schedule origin of the step (ns) */
	uint64_t meas_start, meas_end;
	double scale;		/* publisher rate multiplier */
	uint64_t count;		/* != 0: each publisher sends this many messages, all due
				 * at the origin (closed loop: the window paces them) */
	uint32_t resume;	/* offline: set to 1 to connect the parked subscribers */
	uint32_t collect;	/* step whose stats the workers should publish */
	int stop;
	int fatal;
	char fatal_msg[512];
};
extern struct ctl ctl;

uint64_t now_ns(void);
void fatal_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warnx_limited(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* scenario.c */
int scenario_build(struct scenario *s, const char *name, const struct opts *o);
void scenario_free(struct scenario *s);

/* worker.c */
struct worker;
struct worker *worker_new(int idx, struct client **cl, uint32_t n, uint32_t max_payload);
int worker_start(struct worker *w);
void worker_wake(struct worker *w);
void worker_join(struct worker *w);
void worker_free(struct worker *w);
void worker_live(struct worker *w, struct live *out);
const struct stats *worker_result(struct worker *w);
void stats_merge(struct stats *dst, const struct stats *src);

/* report.c */
struct step_result {
	double offered;		/* messages/s */
	double duration;
	struct stats st;	/* merged over the workers */
	struct stats_cls tot;	/* merged over the classes */
	double cpu_user, cpu_sys;
	bool ok;
	bool growing;		/* the backlog grew during the window */
	uint64_t lost;
	uint64_t backlog_mid, backlog_end;
	/* offline: publishing until the last completion, and the parked subscribers'
	 * return until the last delivery; resume_s: until all were connected again */
	double stored_s, drained_s, resume_s;
	uint64_t resumed;
};
void step_totals(struct step_result *r, uint32_t nclass);
void report_json(FILE *f, const struct scenario *s, const struct step_result *best,
		 const struct step_result *steps, uint32_t nsteps, double max_rate,
		 uint32_t conns, double connect_s, uint64_t rss_kb);
void report_human(FILE *f, const struct scenario *s, const struct step_result *r,
		  const char *what);

#endif

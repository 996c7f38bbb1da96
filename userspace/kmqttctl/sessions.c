// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kmqttctl sessions: the persistent sessions (clean session 0) kmqttd keeps, one line
 * each: client id, online or offline, subscriptions, queued messages and bytes, since
 * when it is offline and when it expires (persistent_client_expiration).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "ctl.h"
#include "kmqttctl.h"
#include "nl.h"
#include <linux/kmqtt.h>

/*
 * kmqttd learns a session's subscriptions when it parks; while the client is connected
 * the module has them: an online session's count comes from its connection.
 */
static int live_subs(const struct kmq_conn_info *c, void *arg)
{
	json_object *a = json_object_object_get(arg, "sessions");
	size_t n = a ? json_object_array_length(a) : 0;

	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(a, i);

		if (strcmp(json_object_get_string(json_object_object_get(s, "state")), "online") ||
		    strcmp(json_object_get_string(json_object_object_get(s, "client_id")),
			   c->client_id))
			continue;
		json_object_object_add(s, "subscriptions",
				       json_object_new_int64((int64_t)c->stats[KMQTT_CS_SUBSCRIPTIONS]));
	}
	return 0;
}

static void fill_live_subs(json_object *d)
{
	struct kmq_nl nl;

	if (kmq_nl_open(&nl))
		return;		/* not root, or no module: kmqttd's figures stand */
	kmq_nl_conn_dump(&nl, live_subs, d);
	kmq_nl_close(&nl);
}

/* "3d04h", "5h12m", "7m30s", "12s". */
static const char *duration(int64_t s, char *buf, size_t cap)
{
	if (s >= 86400)
		snprintf(buf, cap, "%" PRId64 "d%02" PRId64 "h", s / 86400, s % 86400 / 3600);
	else if (s >= 3600)
		snprintf(buf, cap, "%" PRId64 "h%02" PRId64 "m", s / 3600, s % 3600 / 60);
	else if (s >= 60)
		snprintf(buf, cap, "%" PRId64 "m%02" PRId64 "s", s / 60, s % 60);
	else
		snprintf(buf, cap, "%" PRId64 "s", s);
	return buf;
}

static void print_human(json_object *d)
{
	json_object *a = json_object_object_get(d, "sessions");
	size_t n = a ? json_object_array_length(a) : 0;
	char since[32], exp[32], id[4 * KMQTT_MAX_CLIENT_ID + 8];

	printf("%-7s %5s %8s %12s  %-20s %10s  %s\n", "STATE", "SUBS", "QUEUED", "BYTES",
	       "OFFLINE SINCE (UTC)", "EXPIRES IN", "CLIENT ID");
	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(a, i), *v;

		strcpy(since, "-");
		strcpy(exp, "-");
		if (json_object_object_get_ex(s, "offline_since", &v) && v) {
			time_t t = (time_t)json_object_get_int64(v);
			struct tm tm;

			gmtime_r(&t, &tm);
			strftime(since, sizeof(since), "%Y-%m-%d %H:%M:%S", &tm);
			strcpy(exp, "never");
		}
		if (json_object_object_get_ex(s, "expires_in", &v) && v)
			duration(json_object_get_int64(v), exp, sizeof(exp));
		printf("%-7s %5" PRId64 " %8" PRId64 " %12" PRId64 "  %-20s %10s  %s\n",
		       json_object_get_string(json_object_object_get(s, "state")),
		       json_object_get_int64(json_object_object_get(s, "subscriptions")),
		       json_object_get_int64(json_object_object_get(s, "queued_messages")),
		       json_object_get_int64(json_object_object_get(s, "queued_bytes")), since, exp,
		       term_safe(json_object_get_string(json_object_object_get(s, "client_id")), id,
				 sizeof(id)));
	}
	printf("%" PRId64 " persistent sessions, %" PRId64 " queued messages (%" PRId64
	       " bytes)%s\n", json_object_get_int64(json_object_object_get(d, "total")),
	       json_object_get_int64(json_object_object_get(d, "queued_messages")),
	       json_object_get_int64(json_object_object_get(d, "queued_bytes")),
	       json_object_get_boolean(json_object_object_get(d, "truncated")) ?
	       "; list cut short" : "");
}

int cmd_sessions(const struct ctl_opts *o, int argc, char **argv)
{
	json_object *d, *v;
	int err;

	(void)argv;
	if (argc > 1) {
		fprintf(stderr, "kmqttctl: sessions takes no arguments\n");
		return EXIT_USAGE;
	}
	d = ctl_daemon_json(o->socket, "sessions", &err);
	if (!err && !json_object_object_get_ex(d, "error", &v))
		fill_live_subs(d);
	if (o->json) {
		json_object *root = json_object_new_object();

		json_object_object_add(root, "daemon", d);
		printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
							      JSON_C_TO_STRING_SPACED));
		json_object_put(root);
	} else if (json_object_object_get_ex(d, "error", &v)) {
		fprintf(stderr, "kmqttctl: kmqttd: %s (%s)\n", json_object_get_string(v), o->socket);
		json_object_put(d);
	} else {
		print_human(d);
		json_object_put(d);
	}
	if (err)
		return err == -EACCES || err == -EPERM ? EXIT_FAIL : EXIT_NOT_RUNNING;
	return EXIT_OK;
}

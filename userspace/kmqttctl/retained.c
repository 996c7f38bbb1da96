// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kmqttctl retained [FILTER]: the retained messages kmqttd holds whose topics match
 * FILTER (default "#", which, as for subscribers, leaves out topics starting with '$'):
 * topic, QoS, payload size and when it was stored. Payloads are not shown.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <json-c/json.h>
#include "ctl.h"
#include "kmqttctl.h"
#include <linux/kmqtt.h>
#include "topic.h"

static void print_human(json_object *d)
{
	json_object *a = json_object_object_get(d, "retained");
	char when[32], topic[4 * KMQTT_MAX_TOPIC + 8];
	size_t n = a ? json_object_array_length(a) : 0;

	printf("%-20s %3s %10s  %s\n", "STORED (UTC)", "QOS", "SIZE", "TOPIC");
	for (size_t i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(a, i);
		time_t t = (time_t)json_object_get_int64(json_object_object_get(r, "stored_at"));
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
		printf("%-20s %3d %10" PRId64 "  %s\n", when,
		       json_object_get_int(json_object_object_get(r, "qos")),
		       json_object_get_int64(json_object_object_get(r, "size")),
		       term_safe(json_object_get_string(json_object_object_get(r, "topic")), topic,
				 sizeof(topic)));
	}
	printf("%zu matching of %" PRId64 " retained messages (%" PRId64 " payload bytes)%s\n", n,
	       json_object_get_int64(json_object_object_get(d, "total")),
	       json_object_get_int64(json_object_object_get(d, "total_bytes")),
	       json_object_get_boolean(json_object_object_get(d, "truncated")) ?
	       "; list cut short" : "");
}

int cmd_retained(const struct ctl_opts *o, int argc, char **argv)
{
	const struct topic_limits lim = { .max_topic_len = KMQTT_MAX_TOPIC,
					  .max_levels = TOPIC_DEFAULT_MAX_LEVELS };
	const char *filter = argc > 1 ? argv[1] : "#";
	char req[KMQ_CTL_MAX_REQUEST + 1];
	json_object *d, *v;
	size_t len = strlen(filter);
	int err;

	if (argc > 2) {
		fprintf(stderr, "kmqttctl: retained takes at most one FILTER\n");
		return EXIT_USAGE;
	}
	if (len > KMQTT_MAX_TOPIC || topic_filter_valid(filter, (uint16_t)len, &lim)) {
		fprintf(stderr, "kmqttctl: '%s' is not a valid topic filter\n", filter);
		return EXIT_USAGE;
	}
	snprintf(req, sizeof(req), "retained %s", filter);
	d = ctl_daemon_json(o->socket, req, &err);
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

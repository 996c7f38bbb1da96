// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "ctl.h"
#include "kmqttctl.h"
#include "nl.h"

static json_object *module_json(int err, const struct kmq_status *st)
{
	json_object *m = json_object_new_object();
	json_object *c;

	json_object_object_add(m, "loaded", json_object_new_boolean(err != -ENOENT));
	if (err) {
		json_object_object_add(m, "error", json_object_new_string(nl_errstr(err)));
		return m;
	}
	json_object_object_add(m, "version", json_object_new_string(st->version));
	json_object_object_add(m, "abi", json_object_new_int((int)st->abi));
	json_object_object_add(m, "state", json_object_new_string(kmq_state_name(st->state)));
	json_object_object_add(m, "uptime_ms", json_object_new_int64((int64_t)st->uptime_ms));
	json_object_object_add(m, "daemon_pid", json_object_new_int((int)st->daemon_pid));
	json_object_object_add(m, "daemon_since_ms", json_object_new_int64((int64_t)st->daemon_since_ms));
	c = json_object_new_object();
	for (int s = 0; s <= KMQTT_STAT_MAX; s++) {
		if (st->have_stat[s] && kmq_stat_name(s))
			json_object_object_add(c, kmq_stat_name(s), json_object_new_int64((int64_t)st->stats[s]));
	}
	json_object_object_add(m, "counters", c);
	return m;
}

static void print_human(json_object *m, json_object *d, const char *sock)
{
	json_object *v, *c;

	if (json_object_object_get_ex(m, "error", &v)) {
		printf("kmqtt.ko: %s\n", json_object_get_string(v));
	} else {
		printf("kmqtt.ko: %s, version %s (ABI %d), up %.1f s\n",
		       json_object_get_string(json_object_object_get(m, "state")),
		       json_object_get_string(json_object_object_get(m, "version")),
		       json_object_get_int(json_object_object_get(m, "abi")),
		       json_object_get_int64(json_object_object_get(m, "uptime_ms")) / 1000.0);
		if (json_object_get_int(json_object_object_get(m, "daemon_pid")))
			printf("  daemon pid %d registered at %.1f s\n",
			       json_object_get_int(json_object_object_get(m, "daemon_pid")),
			       json_object_get_int64(json_object_object_get(m, "daemon_since_ms")) / 1000.0);
		else
			printf("  no daemon registered: new connections are not accepted\n");
		c = json_object_object_get(m, "counters");
		json_object_object_foreach(c, key, val)
			printf("  %-24s %" PRId64 "\n", key, json_object_get_int64(val));
	}
	if (json_object_object_get_ex(d, "error", &v)) {
		printf("kmqttd: %s (%s)\n", json_object_get_string(v), sock);
		return;
	}
	printf("kmqttd: running, version %s, pid %d, up %.1f s, config %s\n",
	       json_object_get_string(json_object_object_get(d, "version")),
	       json_object_get_int(json_object_object_get(d, "pid")),
	       json_object_get_int64(json_object_object_get(d, "uptime_ms")) / 1000.0,
	       json_object_object_get(d, "config") ?
	       json_object_get_string(json_object_object_get(d, "config")) : "(defaults)");
	printf("  kmqtt.ko link: %s\n", json_object_get_string(json_object_object_get(d, "module")));
	if (json_object_object_get_ex(d, "listeners", &v) && json_object_is_type(v, json_type_array)) {
		printf("  MQTT listeners:");
		for (size_t i = 0; i < json_object_array_length(v); i++)
			printf(" %s", json_object_get_string(json_object_array_get_idx(v, i)));
		printf("%s\n", json_object_array_length(v) ? "" : " none");
		printf("  clients: %d connecting, %" PRId64 " handed to kmqtt.ko\n",
		       json_object_get_int(json_object_object_get(d, "connecting")),
		       json_object_get_int64(json_object_object_get(d, "connections")));
	}
	json_object_object_foreach(d, key, val) {
		if (strcmp(key, "module_registrations") && strcmp(key, "module_lost") &&
		    strcmp(key, "ctl_requests"))
			continue;
		printf("  %-24s %" PRId64 "\n", key, json_object_get_int64(val));
	}
}

int cmd_status(const struct ctl_opts *o, int argc, char **argv)
{
	struct kmq_status st;
	struct kmq_nl nl;
	json_object *m, *d;
	int merr, derr, rc = EXIT_OK;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "kmqttctl: status takes no arguments\n");
		return EXIT_USAGE;
	}
	merr = kmq_nl_open(&nl);
	if (!merr) {
		merr = kmq_nl_status(&nl, &st);
		kmq_nl_close(&nl);
	}
	m = module_json(merr, &st);

	d = ctl_daemon_json(o->socket, "status", &derr);

	if (merr == -EPERM || derr == -EACCES || derr == -EPERM)
		rc = EXIT_FAIL;
	else if (merr || derr || st.state != KMQTT_STATE_RUNNING)
		rc = EXIT_NOT_RUNNING;

	ctl_emit(o, m, d, print_human);
	if (merr == -EPERM)
		fprintf(stderr, "kmqttctl: permission denied talking to kmqtt.ko: run as root (CAP_NET_ADMIN)\n");
	return rc;
}

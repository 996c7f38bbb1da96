// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kmqttctl stats: the module's counters (GET_STATUS), its protocol errors by codec error
 * (GET_ERRORS) and the daemon's counters (control socket "stats").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "ctl.h"
#include "kmqttctl.h"
#include "nl.h"

static int add_error(const char *name, uint64_t count, void *arg)
{
	json_object_object_add(arg, name, json_object_new_int64((int64_t)count));
	return 0;
}

static json_object *module_json(int *errp)
{
	json_object *m = json_object_new_object();
	json_object *c, *e;
	struct kmq_status st;
	struct kmq_nl nl;
	int err;

	err = kmq_nl_open(&nl);
	if (!err) {
		err = kmq_nl_status(&nl, &st);
		if (!err) {
			e = json_object_new_object();
			err = kmq_nl_get_errors(&nl, add_error, e);
			if (err)
				json_object_put(e);
		}
		kmq_nl_close(&nl);
	}
	*errp = err;
	json_object_object_add(m, "loaded", json_object_new_boolean(err != -ENOENT));
	if (err) {
		json_object_object_add(m, "error", json_object_new_string(nl_errstr(err)));
		return m;
	}
	json_object_object_add(m, "state", json_object_new_string(kmq_state_name(st.state)));
	c = json_object_new_object();
	for (int s = 0; s <= KMQTT_STAT_MAX; s++) {
		if (st.have_stat[s] && kmq_stat_name(s))
			json_object_object_add(c, kmq_stat_name(s), json_object_new_int64((int64_t)st.stats[s]));
	}
	json_object_object_add(m, "counters", c);
	json_object_object_add(m, "errors", e);
	return m;
}

static void print_counters(const char *title, json_object *c, bool skip_zero)
{
	bool any = false;

	printf("%s\n", title);
	if (!c)
		return;
	json_object_object_foreach(c, key, val) {
		if (skip_zero && !json_object_get_int64(val))
			continue;
		printf("  %-34s %" PRId64 "\n", key, json_object_get_int64(val));
		any = true;
	}
	if (!any)
		printf("  (none)\n");
}

static void print_human(json_object *m, json_object *d, const char *sock)
{
	json_object *v;

	if (json_object_object_get_ex(m, "error", &v)) {
		printf("kmqtt.ko: %s\n", json_object_get_string(v));
	} else {
		print_counters("kmqtt.ko counters:", json_object_object_get(m, "counters"), false);
		print_counters("kmqtt.ko protocol errors (closes by codec error):",
			       json_object_object_get(m, "errors"), true);
	}
	if (json_object_object_get_ex(d, "error", &v)) {
		printf("kmqttd: %s (%s)\n", json_object_get_string(v), sock);
		return;
	}
	printf("kmqttd: %d clients reading their CONNECT, %" PRId64 " connections handed off\n",
	       json_object_get_int(json_object_object_get(d, "connecting")),
	       json_object_get_int64(json_object_object_get(d, "connections")));
	print_counters("kmqttd counters:", json_object_object_get(d, "counters"), false);
	print_counters("kmqttd invalid CONNECTs by codec error:",
		       json_object_object_get(d, "connect_errors"), true);
	print_counters("kmqttd connection closes reported by kmqtt.ko, by reason:",
		       json_object_object_get(d, "closed"), true);
}

int cmd_stats(const struct ctl_opts *o, int argc, char **argv)
{
	json_object *m, *d;
	int merr, derr, rc = EXIT_OK;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "kmqttctl: stats takes no arguments\n");
		return EXIT_USAGE;
	}
	m = module_json(&merr);
	d = ctl_daemon_json(o->socket, "stats", &derr);
	if (merr == -EPERM || derr == -EACCES || derr == -EPERM)
		rc = EXIT_FAIL;
	else if (merr || derr)
		rc = EXIT_NOT_RUNNING;
	ctl_emit(o, m, d, print_human);
	return rc;
}

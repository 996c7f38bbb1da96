// SPDX-License-Identifier: GPL-2.0 OR MIT
/* kmqttctl kick CLIENTID: close a client's connection (KMQTT_CMD_CONN_DEL). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>
#include "kmqttctl.h"
#include "nl.h"

static void print_json(const char *key, const char *val)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, key, json_object_new_string(val));
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
						      JSON_C_TO_STRING_SPACED));
	json_object_put(o);
}

int cmd_kick(const struct ctl_opts *o, int argc, char **argv)
{
	char safe[300], msg[400];
	struct kmq_nl nl;
	int err;

	if (argc != 2 || !argv[1][0]) {
		fprintf(stderr, "Usage: kmqttctl kick CLIENTID\n");
		return EXIT_USAGE;
	}
	term_safe(argv[1], safe, sizeof(safe));
	if (strlen(argv[1]) > KMQTT_MAX_CLIENT_ID) {
		err = -ENOENT;
		goto nosuch;
	}
	err = kmq_nl_open(&nl);
	if (!err) {
		err = kmq_nl_conn_del(&nl, 0, argv[1]);
		kmq_nl_close(&nl);
		if (err == -ENOENT)
			goto nosuch;
	}
	if (err) {
		if (o->json)
			print_json("error", nl_errstr(err));
		else
			fprintf(stderr, "kmqttctl: %s\n", nl_errstr(err));
		return nl_exit(err);
	}
	if (o->json)
		print_json("kicked", argv[1]);
	else
		printf("kicked client %s\n", safe);
	return EXIT_OK;
nosuch:
	snprintf(msg, sizeof(msg), "no client '%s' is connected", safe);
	if (o->json)
		print_json("error", msg);
	else
		fprintf(stderr, "kmqttctl: %s\n", msg);
	return EXIT_FAIL;
}

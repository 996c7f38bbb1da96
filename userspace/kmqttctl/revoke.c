// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kmqttctl revoke --serial HEX | --cn NAME, and kmqttctl reload: requests to kmqttd, which
 * persists the revocation, closes the live sessions of that identity and refuses it from
 * then on; reload re-reads the configuration and every file it names (as SIGHUP).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "ctl.h"
#include "kmqttctl.h"

/* Send @req; print the reply (-j) or @human's line. Returns the exit status. */
static int request(const struct ctl_opts *o, const char *name, const char *req,
		   void (*human)(json_object *r))
{
	json_object *r, *e;
	char *reply = NULL;
	int err = kmq_ctl_request(o->socket, req, &reply);

	if (err) {
		fprintf(stderr, "kmqttctl: %s: %s\n", name, ctl_errstr(err));
		return err == -ENOENT || err == -ECONNREFUSED ? EXIT_NOT_RUNNING : EXIT_FAIL;
	}
	r = json_tokener_parse(reply);
	free(reply);
	if (!r) {
		fprintf(stderr, "kmqttctl: %s: %s\n", name, ctl_errstr(-EBADMSG));
		return EXIT_FAIL;
	}
	if (json_object_object_get_ex(r, "error", &e)) {
		if (o->json)
			printf("%s\n", json_object_to_json_string_ext(r, JSON_C_TO_STRING_PRETTY));
		else
			fprintf(stderr, "kmqttctl: %s: %s\n", name, json_object_get_string(e));
		json_object_put(r);
		return EXIT_FAIL;
	}
	if (o->json)
		printf("%s\n", json_object_to_json_string_ext(r, JSON_C_TO_STRING_PRETTY |
							      JSON_C_TO_STRING_SPACED));
	else
		human(r);
	json_object_put(r);
	return EXIT_OK;
}

static const char *str(json_object *r, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(r, key, &v) ? json_object_get_string(v) : "";
}

static int num(json_object *r, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(r, key, &v) ? json_object_get_int(v) : 0;
}

static void revoke_human(json_object *r)
{
	printf("revoked %s %s (kept in %s); %d live session%s closed\n",
	       !strcmp(str(r, "by"), "cn") ? "common name" : "serial", str(r, "revoked"),
	       str(r, "file"), num(r, "closed"), num(r, "closed") == 1 ? "" : "s");
	if (*str(r, "warning"))
		printf("warning: %s\n", str(r, "warning"));
}

int cmd_revoke(const struct ctl_opts *o, int argc, char **argv)
{
	char req[KMQ_CTL_MAX_REQUEST];

	if (argc != 3 || (strcmp(argv[1], "--serial") && strcmp(argv[1], "--cn")) || !*argv[2] ||
	    strlen(argv[2]) > 256 || strchr(argv[2], '\n')) {
		fprintf(stderr, "Usage: kmqttctl revoke --serial HEX | --cn NAME\n");
		return EXIT_USAGE;
	}
	snprintf(req, sizeof(req), "revoke %s %s", !strcmp(argv[1], "--cn") ? "cn" : "serial",
		 argv[2]);
	return request(o, "revoke", req, revoke_human);
}

static void reload_human(json_object *r)
{
	printf("kmqttd re-read %s; %d revoked session%s closed\n", str(r, "reloaded"),
	       num(r, "closed"), num(r, "closed") == 1 ? "" : "s");
}

int cmd_reload(const struct ctl_opts *o, int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "kmqttctl: reload takes no arguments\n");
		return EXIT_USAGE;
	}
	return request(o, "reload", "reload", reload_human);
}

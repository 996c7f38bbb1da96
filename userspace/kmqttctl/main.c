// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kmqttctl — the operator's tool: talks generic netlink to kmqtt.ko and the control
 * socket to kmqttd. Human output by default, JSON with -j.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>
#include "ctl.h"
#include "kmqttctl.h"
#include "nl.h"

static const struct {
	const char *name;
	int (*run)(const struct ctl_opts *o, int argc, char **argv);
	const char *help;
} commands[] = {
	{ "status", cmd_status, "module and daemon state, versions and counters" },
	{ "clients", cmd_clients, "connected MQTT clients" },
	{ "kick", cmd_kick, "kick CLIENTID: disconnect a client" },
	{ "stats", cmd_stats, "module, protocol-error and daemon counters" },
	{ "revoke", cmd_revoke, "revoke --serial HEX | --cn NAME: revoke a client certificate" },
	{ "reload", cmd_reload, "re-read kmqttd's configuration and files (as SIGHUP)" },
	{ "retained", cmd_retained, "retained [FILTER]: retained messages (default filter #)" },
	{ "sessions", cmd_sessions, "persistent sessions kmqttd keeps (clean session 0)" },
};

const char *ctl_errstr(int err)
{
	switch (err) {
	case -ENOENT:
	case -ECONNREFUSED:
		return "kmqttd is not running";
	case -EACCES:
	case -EPERM:
		return "permission denied on the control socket (run as root)";
	case -ETIMEDOUT:
		return "kmqttd did not answer within 5 s";
	case -EBADMSG:
		return "kmqttd sent a reply this kmqttctl does not understand";
	}
	return strerror(-err);
}

/*
 * Ask kmqttd for @cmd and return its "daemon" object with "running": true, or an object
 * {"running": false, "error": "..."} (and the error in *errp) when it cannot answer.
 */
json_object *ctl_daemon_json(const char *sock, const char *cmd, int *errp)
{
	json_object *d = NULL, *parsed;
	char *reply = NULL;
	int err;

	err = kmq_ctl_request(sock, cmd, &reply);
	if (!err) {
		parsed = json_tokener_parse(reply);
		if (parsed && json_object_object_get_ex(parsed, "daemon", &d) &&
		    json_object_is_type(d, json_type_object))
			d = json_object_get(d);
		else
			d = NULL;
		if (!d)
			err = -EBADMSG;
		json_object_put(parsed);
	}
	free(reply);
	*errp = err;
	if (!d) {
		d = json_object_new_object();
		json_object_object_add(d, "running", json_object_new_boolean(false));
		json_object_object_add(d, "error", json_object_new_string(ctl_errstr(err)));
	} else {
		json_object_object_add(d, "running", json_object_new_boolean(true));
	}
	return d;
}

const char *nl_errstr(int err)
{
	switch (err) {
	case -ENOENT:
		return "kmqtt.ko is not loaded";
	case -EPERM:
		return "permission denied (CAP_NET_ADMIN needed)";
	case -ETIMEDOUT:
		return "kmqtt.ko did not answer";
	}
	return strerror(-err);
}

int nl_exit(int err)
{
	return err == -ENOENT ? EXIT_NOT_RUNNING : EXIT_FAIL;
}

const char *term_safe(const char *s, char *buf, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (; *s && o + 5 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f) {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		} else {
			buf[o++] = (char)c;
		}
	}
	buf[o] = 0;
	return buf;
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: kmqttctl [-j] [-s SOCKET] COMMAND [ARGS]\n"
		"  -j         JSON output\n"
		"  -s SOCKET  kmqttd control socket (default $KMQTT_CTL_SOCKET or "
		KMQ_CTL_SOCKET_DEFAULT ")\n"
		"  -V         print the version\n"
		"Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "Exit status: 0 ok, 1 error, 2 usage, 3 module or daemon not running.\n");
}

int main(int argc, char **argv)
{
	struct ctl_opts o = { .socket = getenv("KMQTT_CTL_SOCKET") };
	int opt;

	if (!o.socket || !*o.socket)
		o.socket = KMQ_CTL_SOCKET_DEFAULT;
	while ((opt = getopt(argc, argv, "+js:Vh")) != -1) {
		switch (opt) {
		case 'j':
			o.json = true;
			break;
		case 's':
			o.socket = optarg;
			break;
		case 'V':
			printf("kmqttctl %s (netlink ABI %d)\n", KMQTT_VERSION, KMQTT_ABI_VERSION);
			return EXIT_OK;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind == argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[optind], commands[i].name))
			return commands[i].run(&o, argc - optind, argv + optind);
	}
	fprintf(stderr, "kmqttctl: unknown command '%s' (see kmqttctl -h)\n", argv[optind]);
	return EXIT_USAGE;
}

void ctl_emit(const struct ctl_opts *o, json_object *m, json_object *d,
	      void (*human)(json_object *m, json_object *d, const char *sock))
{
	if (o->json) {
		json_object *root = json_object_new_object();

		json_object_object_add(root, "module", m);
		json_object_object_add(root, "daemon", d);
		printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
							      JSON_C_TO_STRING_SPACED));
		json_object_put(root);
	} else {
		human(m, d, o->socket);
		json_object_put(m);
		json_object_put(d);
	}
}

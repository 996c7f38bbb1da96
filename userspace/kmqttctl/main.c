// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kmqttctl — the operator's tool: talks generic netlink to kmqtt.ko and the control
 * socket to kmqttd. Human output by default, JSON with -j.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ctl.h"
#include "kmqttctl.h"
#include "nl.h"

static const struct {
	const char *name;
	int (*run)(const struct ctl_opts *o, int argc, char **argv);
	const char *help;
} commands[] = {
	{ "status", cmd_status, "module and daemon state, versions and counters" },
};

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

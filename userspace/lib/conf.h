/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * kmqttd's configuration file: the mosquitto.conf syntax (one "option value..." per line,
 * '#' comments), with the subset of options kmqttd implements documented in
 * docs/kmqttd.conf.md. Unknown options, bad values and repeated single-valued options are
 * errors that name the file and line.
 */
#ifndef KMQ_CONF_H
#define KMQ_CONF_H

#include <stddef.h>
#include "log.h"

#define KMQ_CONF_DEFAULT "/etc/kmqtt/kmqttd.conf"
#define KMQ_CONF_MAX_LINE 4096

struct kmq_conf {
	char *control_socket;
	enum kmq_log_level log_level;
};

/* Defaults, used for any option the file does not set. */
void kmq_conf_init(struct kmq_conf *c);
/* 0 on success; -1 with a "FILE:LINE: message" (or "FILE: message") in @err. */
int kmq_conf_load(const char *path, struct kmq_conf *c, char *err, size_t errlen);
void kmq_conf_free(struct kmq_conf *c);

#endif

/* SPDX-License-Identifier: GPL-2.0 OR MIT */
#ifndef KMQTTD_H
#define KMQTTD_H

#include <stdbool.h>
#include <stdint.h>
#include "conf.h"
#include "nl.h"

enum module_link {
	MODULE_ABSENT,		/* kmqtt.ko is not loaded */
	MODULE_REGISTERED,	/* we hold the daemon role */
};

struct kmqttd {
	const char *conf_path;
	struct kmq_conf conf;
	char *ctl_path;		/* the control socket actually bound */
	int epfd;
	int sigfd;
	int ctl_fd;
	struct kmq_nl ctrl;	/* nlctrl notify group: module load/unload */
	struct kmq_nl nl;	/* kmqtt family; holds the daemon role */
	enum module_link link;
	uint64_t started_ms;
	uint64_t registered_ms;
	uint64_t n_registrations;
	uint64_t n_module_lost;
	uint64_t n_ctl_requests;
	bool stop;
};

uint64_t kmqttd_now_ms(void);

/* module.c */
int module_connect(struct kmqttd *d);
void module_disconnect(struct kmqttd *d, bool unregister);
int module_on_ctrl_event(struct kmqttd *d);
const char *module_link_name(enum module_link l);

/* ctl.c */
int ctl_listen(struct kmqttd *d);
void ctl_close(struct kmqttd *d);
void ctl_on_accept(struct kmqttd *d);
void ctl_on_client(struct kmqttd *d, int fd);
void ctl_sweep(struct kmqttd *d);

#endif

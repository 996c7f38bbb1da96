// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The daemon's link to kmqtt.ko: register as the daemon when the module is there, notice
 * when it goes away (nlctrl DELFAMILY) and register again when it comes back.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include "kmqttd.h"
#include "log.h"

const char *module_link_name(enum module_link l)
{
	return l == MODULE_REGISTERED ? "registered" : "absent";
}

/*
 * Returns 0 when registered or when the module is simply absent (we wait for it), and a
 * negative errno for conditions the daemon cannot run with (another daemon, ABI
 * mismatch, no privilege).
 */
int module_connect(struct kmqttd *d)
{
	int ret;

	if (d->link == MODULE_REGISTERED)
		return 0;
	ret = kmq_nl_open(&d->nl);
	if (ret == -ENOENT) {
		log_notice("kmqtt.ko is not loaded; waiting for it (modprobe kmqtt)");
		return 0;
	}
	if (ret) {
		log_err("cannot open generic netlink: %s", strerror(-ret));
		return ret;
	}
	ret = kmq_nl_register(&d->nl, (uint32_t)getpid());
	if (ret) {
		switch (ret) {
		case -EPERM:
			log_err("kmqtt.ko refused registration: CAP_NET_ADMIN is needed");
			break;
		case -EBUSY:
			log_err("kmqtt.ko refused registration: another kmqttd is registered%s%s",
				d->nl.errmsg[0] ? ": " : "", d->nl.errmsg);
			break;
		case -EPROTO:
			log_err("kmqtt.ko speaks another ABI than this kmqttd (ABI %d): install matching versions",
				KMQTT_ABI_VERSION);
			break;
		case -ENOENT:
		case -ESHUTDOWN:
			/* The module went away between resolve and register. */
			kmq_nl_close(&d->nl);
			log_notice("kmqtt.ko is going away; waiting for it to come back");
			return 0;
		default:
			log_err("registration with kmqtt.ko failed: %s%s%s", strerror(-ret),
				d->nl.errmsg[0] ? ": " : "", d->nl.errmsg);
		}
		kmq_nl_close(&d->nl);
		return ret;
	}
	d->link = MODULE_REGISTERED;
	d->registered_ms = kmqttd_now_ms();
	d->n_registrations++;
	log_info("registered with kmqtt.ko");
	return 0;
}

void module_disconnect(struct kmqttd *d, bool unregister)
{
	if (d->link != MODULE_REGISTERED)
		return;
	if (unregister) {
		int ret = kmq_nl_unregister(&d->nl);

		if (ret)
			log_warn("unregistering from kmqtt.ko failed: %s", strerror(-ret));
	}
	kmq_nl_close(&d->nl);
	d->link = MODULE_ABSENT;
}

int module_on_ctrl_event(struct kmqttd *d)
{
	enum kmq_family_event ev;
	int ret;

	ret = kmq_nl_ctrl_read(&d->ctrl, &ev);
	if (ret)
		log_warn("reading generic netlink notifications failed: %s", strerror(-ret));
	switch (ev) {
	case KMQ_FAMILY_DEL:
		if (d->link == MODULE_REGISTERED) {
			d->n_module_lost++;
			log_warn("kmqtt.ko was unloaded; waiting for it to come back");
			module_disconnect(d, false);
		}
		return 0;
	case KMQ_FAMILY_NEW:
		if (d->link == MODULE_REGISTERED) {
			/* Unloaded and loaded again between two reads: our port is stale. */
			d->n_module_lost++;
			module_disconnect(d, false);
		}
		log_info("kmqtt.ko appeared");
		return module_connect(d);
	case KMQ_FAMILY_RESYNC:
		/* Notifications were lost: find out where the module stands. */
		log_warn("generic netlink notifications overflowed; re-checking kmqtt.ko");
		if (d->link == MODULE_REGISTERED) {
			struct kmq_status st;

			if (!kmq_nl_status(&d->nl, &st) && st.daemon_pid == (uint32_t)getpid())
				return 0;
			d->n_module_lost++;
			module_disconnect(d, false);
		}
		return module_connect(d);
	case KMQ_FAMILY_NONE:
		break;
	}
	return 0;
}

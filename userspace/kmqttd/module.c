// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The daemon's link to kmqtt.ko: register as the daemon when the module is there, notice
 * when it goes away (nlctrl DELFAMILY) and register again when it comes back; hear the
 * module's events (CONN_CLOSED) on the registered socket, and keep the table of handed-off
 * connections (peers.c) in step with the module's own.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "kmqttd.h"
#include "log.h"

static void on_event(void *arg, const struct kmq_event *ev)
{
	struct kmqttd *d = arg;
	char id[96];

	if (ev->cmd == KMQTT_CMD_RETAIN) {
		retained_on_publish(d, ev);
		return;
	}
	if (ev->cmd == KMQTT_CMD_SUBSCRIBED) {
		retained_on_subscribe(d, ev);
		return;
	}
	if (ev->cmd == KMQTT_CMD_SESSION_PARKED) {
		session_on_parked(d, ev);
		return;
	}
	if (ev->cmd == KMQTT_CMD_SESSION_MSG) {
		session_on_msg(d, ev);
		return;
	}
	if (ev->cmd != KMQTT_CMD_CONN_CLOSED)
		return;
	d->stats[DS_CONNS_CLOSED]++;
	if (ev->reason < __KMQTT_CLOSE_MAX)
		d->closed[ev->reason]++;
	conn_closed(d, ev->conn_id);
	session_on_conn_closed(d, ev);
	log_debug("connection %llu (client %s) closed: %s", (unsigned long long)ev->conn_id,
		  printable(ev->client_id, strlen(ev->client_id), id, sizeof(id)),
		  kmq_close_reason_name(ev->reason));
}

static int resync_one(const struct kmq_conn_info *c, void *arg)
{
	struct kmqttd *d = arg;

	if (conn_track_peer_string(d, c->id, c->peer))
		log_debug("connection %llu: cannot track peer '%s'", (unsigned long long)c->id,
			  c->peer);
	session_resync_conn(d, c->client_id, c->id);
	return 0;
}

/*
 * Rebuild the table of handed-off connections from a dump. The dump runs on a socket of
 * its own: events keep queueing on the daemon socket meanwhile and are applied after it,
 * so a connection that closes during the dump is removed, not kept.
 */
int module_resync(struct kmqttd *d)
{
	struct kmq_nl nl;
	int ret;

	d->resync_needed = false;
	d->last_resync_ms = kmqttd_now_ms();
	if (d->link != MODULE_REGISTERED)
		return 0;
	ret = kmq_nl_open(&nl);
	if (ret) {
		d->resync_needed = true;
		return ret;
	}
	conns_forget_all(d);
	session_resync_begin(d);
	ret = kmq_nl_conn_dump(&nl, resync_one, d);
	kmq_nl_close(&nl);
	session_resync_end(d, ret == 0);
	d->stats[DS_RESYNCS]++;
	if (ret) {
		log_warn("reading the module's connections failed: %s", strerror(-ret));
		d->resync_needed = true;
		return ret;
	}
	log_debug("resynchronized: the module has %u connections", conns_tracked(d));
	return 0;
}

void module_on_events(struct kmqttd *d)
{
	unsigned long lost;
	int ret;

	if (d->link != MODULE_REGISTERED)
		return;
	lost = d->nl.overflows;
	ret = kmq_nl_read_events(&d->nl);
	if (ret)
		log_warn("reading events from kmqtt.ko failed: %s", strerror(-ret));
	if (d->nl.overflows != lost) {
		d->stats[DS_EVENTS_LOST] += d->nl.overflows - lost;
		log_warn("events from kmqtt.ko were lost (socket overflow); resynchronizing");
		d->resync_needed = true;
	}
}

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
	ret = kmq_nl_register(&d->nl, (uint32_t)getpid(), session_owed_max(d));
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
	d->nl.on_event = on_event;
	d->nl.event_arg = d;
	/*
	 * A mass disconnect sends one CONN_CLOSED per connection: room for many, so that
	 * overflows (handled, but by a resync) stay rare. FORCE needs CAP_NET_ADMIN, which
	 * registration needs anyway.
	 */
	if (setsockopt(kmq_nl_fd(&d->nl), SOL_SOCKET, SO_RCVBUFFORCE, &(int){ KMQTTD_NL_RCVBUF },
		       sizeof(int)) < 0)
		setsockopt(kmq_nl_fd(&d->nl), SOL_SOCKET, SO_RCVBUF, &(int){ KMQTTD_NL_RCVBUF },
			   sizeof(int));
	/* A retained message to deliver is one netlink message of up to 1 MiB. */
	if (setsockopt(kmq_nl_fd(&d->nl), SOL_SOCKET, SO_SNDBUFFORCE, &(int){ KMQTTD_NL_RCVBUF },
		       sizeof(int)) < 0)
		setsockopt(kmq_nl_fd(&d->nl), SOL_SOCKET, SO_SNDBUF, &(int){ KMQTTD_NL_RCVBUF },
			   sizeof(int));
	d->nl_ev = (struct ev){ .kind = EV_NL_DAEMON, .fd = kmq_nl_fd(&d->nl) };
	if (kmqttd_epoll_add(d, &d->nl_ev, EPOLLIN) < 0) {
		ret = -errno;
		log_err("cannot watch the kmqtt.ko socket: %s", strerror(errno));
		kmq_nl_unregister(&d->nl);
		kmq_nl_close(&d->nl);
		return ret;
	}
	d->link = MODULE_REGISTERED;
	d->registered_ms = kmqttd_now_ms();
	d->n_registrations++;
	log_info("registered with kmqtt.ko");
	/* The module may hold connections from before this daemon started. */
	module_resync(d);
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
	kmqttd_epoll_del(d, &d->nl_ev);
	kmq_nl_close(&d->nl);
	d->link = MODULE_ABSENT;
	/* Without the module there are no handed-off connections (unload closes them). */
	conns_forget_all(d);
	/* The module went away (not our own exit: its connections live on then). */
	if (!unregister)
		session_on_module_lost(d);
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

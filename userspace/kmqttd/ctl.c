// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The control socket kmqttctl talks to (protocol in lib/ctl.h). Requests are answered
 * from the event loop; a client gets CTL_CLIENT_TIMEOUT_MS to send its request and at most
 * CTL_MAX_CLIENTS are served at once, so a stuck client cannot wedge the daemon.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <json-c/json.h>
#include "ctl.h"
#include "kmqttd.h"
#include "log.h"

#define CTL_MAX_CLIENTS 16
#define CTL_CLIENT_TIMEOUT_MS 5000

/* Slots stay put (epoll events point at them); fd -1 marks a free one. */
static struct ctl_client {
	struct ev ev;
	uint64_t since_ms;
} clients[CTL_MAX_CLIENTS];
static unsigned int n_clients;

static int mkdir_parent(const char *path)
{
	char *copy = strdup(path);
	char *dir;
	int ret = 0;

	if (!copy)
		return -ENOMEM;
	dir = dirname(copy);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		ret = -errno;
	free(copy);
	return ret;
}

int ctl_listen(struct kmqttd *d)
{
	const char *path = d->conf.control_socket;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, ret;
	char *reply;

	for (unsigned int i = 0; i < CTL_MAX_CLIENTS; i++)
		clients[i].ev = (struct ev){ .kind = EV_CTL_CLIENT, .fd = -1 };

	/* A socket that answers belongs to a running daemon: never steal it. */
	ret = kmq_ctl_request(path, "status", &reply);
	if (ret == 0) {
		free(reply);
		log_err("another kmqttd is running (its control socket %s answers)", path);
		return -EADDRINUSE;
	}
	ret = mkdir_parent(path);
	if (ret) {
		log_err("cannot create the directory of %s: %s", path, strerror(-ret));
		return ret;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		log_err("cannot remove stale control socket %s: %s", path, strerror(errno));
		return -errno;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || chmod(path, 0600) < 0 ||
	    listen(fd, 16) < 0) {
		ret = -errno;
		log_err("cannot listen on control socket %s: %s", path, strerror(errno));
		close(fd);
		return ret;
	}
	d->ctl = (struct ev){ .kind = EV_CTL_LISTEN, .fd = fd };
	if (kmqttd_epoll_add(d, &d->ctl, EPOLLIN) < 0) {
		ret = -errno;
		close(fd);
		d->ctl.fd = -1;
		unlink(path);
		return ret;
	}
	d->ctl_path = strdup(path);
	log_info("control socket %s", path);
	return 0;
}

static void client_drop(struct kmqttd *d, struct ctl_client *c)
{
	kmqttd_epoll_del(d, &c->ev);
	close(c->ev.fd);
	c->ev.fd = -1;
	n_clients--;
}

void ctl_close(struct kmqttd *d)
{
	for (unsigned int i = 0; i < CTL_MAX_CLIENTS; i++) {
		if (clients[i].ev.fd >= 0)
			client_drop(d, &clients[i]);
	}
	if (d->ctl.fd >= 0) {
		close(d->ctl.fd);
		d->ctl.fd = -1;
	}
	if (d->ctl_path) {
		unlink(d->ctl_path);
		free(d->ctl_path);
		d->ctl_path = NULL;
	}
}

void ctl_on_accept(struct kmqttd *d)
{
	int fd;

	while ((fd = accept4(d->ctl.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		struct ctl_client *c = NULL;

		for (unsigned int i = 0; i < CTL_MAX_CLIENTS && !c; i++) {
			if (clients[i].ev.fd < 0)
				c = &clients[i];
		}
		if (!c) {
			log_warn("control socket: %d clients already, refusing one", CTL_MAX_CLIENTS);
			close(fd);
			continue;
		}
		c->ev.fd = fd;
		if (kmqttd_epoll_add(d, &c->ev, EPOLLIN) < 0) {
			close(fd);
			c->ev.fd = -1;
			continue;
		}
		c->since_ms = kmqttd_now_ms();
		n_clients++;
	}
}

void ctl_sweep(struct kmqttd *d)
{
	uint64_t now = kmqttd_now_ms();

	for (unsigned int i = 0; i < CTL_MAX_CLIENTS; i++) {
		if (clients[i].ev.fd >= 0 && now - clients[i].since_ms > CTL_CLIENT_TIMEOUT_MS)
			client_drop(d, &clients[i]);
	}
}

static json_object *listeners_json(struct kmqttd *d)
{
	json_object *a = json_object_new_array();

	for (unsigned int i = 0; i < d->n_listeners; i++)
		json_object_array_add(a, json_object_new_string(d->listeners[i].name));
	return a;
}

static json_object *status_json(struct kmqttd *d)
{
	json_object *o = json_object_new_object();
	json_object *dm = json_object_new_object();
	uint64_t now = kmqttd_now_ms();

	json_object_object_add(dm, "version", json_object_new_string(KMQTT_VERSION));
	json_object_object_add(dm, "pid", json_object_new_int(getpid()));
	json_object_object_add(dm, "uptime_ms", json_object_new_int64((int64_t)(now - d->started_ms)));
	json_object_object_add(dm, "config", d->conf_path ? json_object_new_string(d->conf_path) : NULL);
	json_object_object_add(dm, "module", json_object_new_string(module_link_name(d->link)));
	json_object_object_add(dm, "registered_for_ms", d->link == MODULE_REGISTERED ?
			       json_object_new_int64((int64_t)(now - d->registered_ms)) : NULL);
	json_object_object_add(dm, "module_registrations", json_object_new_int64((int64_t)d->n_registrations));
	json_object_object_add(dm, "module_lost", json_object_new_int64((int64_t)d->n_module_lost));
	json_object_object_add(dm, "ctl_requests", json_object_new_int64((int64_t)d->n_ctl_requests));
	json_object_object_add(dm, "listeners", listeners_json(d));
	json_object_object_add(dm, "connecting", json_object_new_int((int)d->n_pending));
	json_object_object_add(dm, "connections", json_object_new_int64(conns_tracked(d)));
	json_object_object_add(dm, "store", retained_store_json(d));
	json_object_object_add(o, "daemon", dm);
	return o;
}

static json_object *stats_json(struct kmqttd *d)
{
	json_object *o = json_object_new_object();
	json_object *dm = json_object_new_object();
	json_object *c = json_object_new_object();
	json_object *e = json_object_new_object();
	json_object *cl = json_object_new_object();

	for (int i = 0; i < __DS_MAX; i++)
		json_object_object_add(c, dstat_name(i), json_object_new_int64((int64_t)d->stats[i]));
	for (int i = 0; i < MQTT_E__END - MQTT_E_BASE; i++) {
		if (d->connect_errors[i])
			json_object_object_add(e, mqtt_err_name(MQTT_E_BASE + i),
					       json_object_new_int64((int64_t)d->connect_errors[i]));
	}
	for (int i = 0; i < __KMQTT_CLOSE_MAX; i++)
		json_object_object_add(cl, kmq_close_reason_name((uint32_t)i),
				       json_object_new_int64((int64_t)d->closed[i]));
	json_object_object_add(dm, "pid", json_object_new_int(getpid()));
	json_object_object_add(dm, "module", json_object_new_string(module_link_name(d->link)));
	json_object_object_add(dm, "connecting", json_object_new_int((int)d->n_pending));
	json_object_object_add(dm, "connections", json_object_new_int64(conns_tracked(d)));
	json_object_object_add(dm, "counters", c);
	json_object_object_add(dm, "connect_errors", e);
	json_object_object_add(dm, "closed", cl);
	json_object_object_add(o, "daemon", dm);
	return o;
}

static json_object *error_json(const char *msg)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(msg));
	return o;
}

/* "revoke serial HEX" or "revoke cn NAME" (the name is the rest of the request). */
static json_object *revoke_json(struct kmqttd *d, char *args)
{
	char err[512];
	char *kind, *value, *save = NULL;
	bool by_serial;
	json_object *o;
	int closed;

	kind = strtok_r(args, " ", &save);
	value = save;
	if (!kind || !value || !*value || (strcmp(kind, "serial") && strcmp(kind, "cn")))
		return error_json("usage: revoke serial HEX | revoke cn NAME");
	value[strcspn(value, "\n")] = 0;
	by_serial = !strcmp(kind, "serial");
	if (revoke_add(d, by_serial, value, err, sizeof(err)))
		return error_json(err);
	closed = revoke_sweep(d);
	o = json_object_new_object();
	json_object_object_add(o, "revoked", json_object_new_string(value));
	json_object_object_add(o, "by", json_object_new_string(kind));
	json_object_object_add(o, "file", json_object_new_string(d->conf.revocation_file));
	json_object_object_add(o, "closed", json_object_new_int(closed < 0 ? 0 : closed));
	if (d->link != MODULE_REGISTERED)
		json_object_object_add(o, "warning",
				       json_object_new_string("kmqtt.ko is not loaded: no live session to close"));
	return o;
}

static json_object *reload_json(struct kmqttd *d)
{
	char err[640];
	json_object *o;
	int closed = kmqttd_reload(d, "kmqttctl reload", err, sizeof(err));

	if (closed < 0)
		return error_json(err);
	o = json_object_new_object();
	json_object_object_add(o, "reloaded", json_object_new_string(d->conf_path));
	json_object_object_add(o, "closed", json_object_new_int(closed));
	return o;
}

static json_object *handle(struct kmqttd *d, char *req)
{
	char *save = NULL;
	char *cmd = strtok_r(req, " \t\n", &save);
	json_object *o;

	if (cmd && !strcmp(cmd, "status"))
		return status_json(d);
	if (cmd && !strcmp(cmd, "stats"))
		return stats_json(d);
	if (cmd && !strcmp(cmd, "revoke"))
		return revoke_json(d, save);
	if (cmd && !strcmp(cmd, "reload"))
		return reload_json(d);
	if (cmd && !strcmp(cmd, "sessions"))
		return sessions_json(d);
	if (cmd && !strcmp(cmd, "retained")) {
		/* The rest of the request is the filter: topics may hold spaces. */
		return retained_json(d, save && *save ? save : "#");
	}
	o = json_object_new_object();
	json_object_object_add(o, "error", json_object_new_string(cmd ? "unknown command" : "empty request"));
	if (cmd)
		json_object_object_add(o, "command", json_object_new_string(cmd));
	return o;
}

void ctl_on_client(struct kmqttd *d, struct ev *ev)
{
	struct ctl_client *c = (struct ctl_client *)ev;
	char req[KMQ_CTL_MAX_REQUEST + 1];
	int fd = ev->fd;
	json_object *o;
	const char *s;
	ssize_t n;

	n = recv(fd, req, sizeof(req) - 1, MSG_TRUNC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || (size_t)n > sizeof(req) - 1) {
		client_drop(d, c);
		return;
	}
	req[n] = 0;
	d->n_ctl_requests++;
	o = handle(d, req);
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	if (send(fd, s, strlen(s), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		log_debug("control client went away before the reply: %s", strerror(errno));
	json_object_put(o);
	client_drop(d, c);
}

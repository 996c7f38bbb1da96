// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kmqttd — the kmqtt daemon: owns configuration, authentication and everything durable,
 * and drives kmqtt.ko over generic netlink. One thread, one epoll loop.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include "kmqttd.h"
#include "log.h"
#include "passwd.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: kmqttd [-c FILE] [-t] [-v] [-V]\n"
		"  -c FILE  configuration file (default " KMQ_CONF_DEFAULT ")\n"
		"  -t       check the configuration and exit\n"
		"  -v       log debug messages\n"
		"  -V       print the version and exit\n");
}

uint64_t kmqttd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* The configuration and the files it names; -1 with the error in @err. */
static int load_all(const char *path, bool explicit, struct kmq_conf *c, struct auth *a,
		    char *err, size_t errlen)
{
	kmq_conf_init(c);
	memset(a, 0, sizeof(*a));
	if ((path && (explicit || access(path, F_OK) == 0) &&
	     kmq_conf_load(path, c, err, errlen)) ||
	    auth_load(c, a, err, errlen)) {
		kmq_conf_free(c);
		return -1;
	}
	return 0;
}

int kmqttd_reload(struct kmqttd *d, const char *who, char *err, size_t errlen)
{
	struct kmq_conf c;
	struct auth a;
	bool listeners_changed;
	int closed;

	if (!d->conf_path) {
		snprintf(err, errlen, "no configuration file to re-read");
		log_info("%s: %s", who, err);
		return -1;
	}
	/* All or nothing: a bad config or a bad password/ACL/TLS file keeps everything. */
	if (load_all(d->conf_path, true, &c, &a, err, errlen)) {
		log_err("%s: %s", who, err);
		log_err("%s: keeping the running configuration and files", who);
		return -1;
	}
	listeners_changed = listen_conf_changed(&c, &d->conf);
	if (strcmp(c.control_socket, d->conf.control_socket))
		log_notice("%s: control_socket changes take effect at restart", who);
	if (listeners_changed)
		log_notice("%s: listener changes take effect at restart (TLS listeners keep their files until then)",
			   who);
	kmq_log_set_level(c.log_level);
	free(c.control_socket);
	c.control_socket = d->conf.control_socket;
	d->conf.control_socket = NULL;
	kmq_conf_free(&d->conf);
	d->conf = c;
	auth_free(&d->auth);
	d->auth = a;
	if (!listeners_changed)
		listen_update_tls(d);
	tls_set_revocations(d->auth.rev);
	session_apply_conf(d);
	log_info("%s: configuration %s re-read", who, d->conf_path);
	/* Sessions whose certificate became revoked (CRL or list) go now. */
	closed = revoke_sweep(d);
	return closed < 0 ? 0 : closed;
}

int kmqttd_epoll_add(struct kmqttd *d, struct ev *ev, uint32_t events)
{
	struct epoll_event e = { .events = events, .data.ptr = ev };

	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, ev->fd, &e);
}

void kmqttd_epoll_del(struct kmqttd *d, struct ev *ev)
{
	epoll_ctl(d->epfd, EPOLL_CTL_DEL, ev->fd, NULL);
}

static void raise_fd_limit(void)
{
	struct rlimit rl;

	/* Every client is a descriptor until it is handed off. */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int setup(struct kmqttd *d)
{
	sigset_t mask;
	int ret;

	raise_fd_limit();
	ret = peers_init(&d->peers);
	if (ret)
		return ret;
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epfd < 0)
		return -errno;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->sig = (struct ev){ .kind = EV_SIGNAL,
			      .fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC) };
	if (d->sig.fd < 0 || kmqttd_epoll_add(d, &d->sig, EPOLLIN) < 0)
		return -errno;
	ret = retained_start(d);
	if (ret)
		return ret;
	ret = ctl_listen(d);
	if (ret)
		return ret;
	/* Listen for the module's comings and goings before looking for it: no gap. */
	ret = kmq_nl_ctrl_open(&d->ctrl);
	if (ret) {
		log_err("cannot subscribe to generic netlink notifications");
		return ret;
	}
	d->ctrl_ev = (struct ev){ .kind = EV_NL_CTRL, .fd = kmq_nl_fd(&d->ctrl) };
	if (kmqttd_epoll_add(d, &d->ctrl_ev, EPOLLIN) < 0)
		return -errno;
	ret = module_connect(d);
	if (ret)
		return ret;
	for (unsigned int i = 0; i < d->conf.n_listeners; i++) {
		char err[256];

		if (!d->conf.listeners[i].tls)
			continue;
		/* Without kernel TLS no TLS client could be handed over: say so at start. */
		if (tls_kernel_probe(err, sizeof(err))) {
			log_err("listener %u is TLS but %s", d->conf.listeners[i].port, err);
			return -EPROTONOSUPPORT;
		}
		break;
	}
	tls_set_revocations(d->auth.rev);
	if (d->conf.password_file)
		log_info("password file %s: %zu users", d->conf.password_file,
			 kmq_passwd_count(d->auth.pw));
	if (d->conf.acl_file)
		log_info("ACL file %s loaded", d->conf.acl_file);
	if (!d->conf.allow_anonymous && !d->conf.password_file)
		log_warn("allow_anonymous is false and there is no password_file: no client can connect");
	return listen_open(d);
}

static void on_signal(struct kmqttd *d)
{
	struct signalfd_siginfo si;

	while (read(d->sig.fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			char err[640];

			kmqttd_reload(d, "SIGHUP", err, sizeof(err));
		} else {
			log_info("%s: shutting down", strsignal((int)si.ssi_signo));
			d->stop = true;
		}
	}
}

static int dispatch(struct kmqttd *d, struct ev *ev, uint32_t events)
{
	switch (ev->kind) {
	case EV_SIGNAL:
		on_signal(d);
		break;
	case EV_CTL_LISTEN:
		ctl_on_accept(d);
		break;
	case EV_CTL_CLIENT:
		ctl_on_client(d, ev);
		break;
	case EV_NL_CTRL:
		return module_on_ctrl_event(d);
	case EV_NL_DAEMON:
		module_on_events(d);
		break;
	case EV_LISTENER:
		listen_on_accept(d, (struct listener *)ev);
		break;
	case EV_PENDING:
		connect_on_event(d, (struct pconn *)ev, events);
		break;
	case EV_STORE:
		retained_on_store_event(d);
		break;
	}
	return 0;
}

/* Timers: CONNECT deadlines, paused listeners, idle peers, resync. Returns the wait. */
static int timers(struct kmqttd *d)
{
	uint64_t now = kmqttd_now_ms();
	int wait;

	ctl_sweep(d);
	listen_sweep(d, now);
	if (now - d->last_sweep_ms >= 1000) {
		peers_sweep(d, now);
		d->last_sweep_ms = now;
	}
	if (d->link == MODULE_REGISTERED &&
	    (d->resync_needed || now - d->last_resync_ms >= KMQTTD_RESYNC_MS))
		module_resync(d);
	/* Expired persistent sessions: at start-up (after registering), then every minute. */
	session_sweep(d, now);
	wait = connect_sweep(d, now);
	for (unsigned int i = 0; i < d->n_listeners; i++) {
		if (d->listeners[i].paused_until && (wait < 0 || wait > KMQTTD_ACCEPT_PAUSE_MS))
			wait = KMQTTD_ACCEPT_PAUSE_MS;
	}
	return wait < 0 || wait > 1000 ? 1000 : wait;
}

static int run(struct kmqttd *d)
{
	struct epoll_event evs[64];
	int wait = 0;

	while (!d->stop) {
		int n = epoll_wait(d->epfd, evs, 64, wait);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_err("epoll_wait: %s", strerror(errno));
			return -errno;
		}
		/*
		 * An object is freed only by its own handler or by timers(), so no event of
		 * this batch can point at freed memory.
		 */
		for (int i = 0; i < n && !d->stop; i++) {
			int ret = dispatch(d, evs[i].data.ptr, evs[i].events);

			if (ret)
				return ret;
		}
		wait = timers(d);
		/* Stored queues on their way to returning clients go on between events. */
		if (session_deliver_pending(d))
			wait = 0;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct kmqttd d = { .epfd = -1, .sig.fd = -1, .ctl.fd = -1 };
	const char *conf_path = KMQ_CONF_DEFAULT;
	bool explicit = false, test = false, verbose = false;
	char err[1024];
	int opt, ret;

	while ((opt = getopt(argc, argv, "c:tvVh")) != -1) {
		switch (opt) {
		case 'c':
			conf_path = optarg;
			explicit = true;
			break;
		case 't':
			test = true;
			break;
		case 'v':
			verbose = true;
			break;
		case 'V':
			printf("kmqttd %s (netlink ABI %d)\n", KMQTT_VERSION, KMQTT_ABI_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (load_all(conf_path, explicit, &d.conf, &d.auth, err, sizeof(err))) {
		fprintf(stderr, "kmqttd: %s\n", err);
		return 2;
	}
	if (explicit || access(conf_path, F_OK) == 0)
		d.conf_path = conf_path;
	if (test) {
		printf("kmqttd: %s: configuration OK", d.conf_path ? d.conf_path : "(defaults)");
		if (d.conf.password_file)
			printf(", %zu users in %s", kmq_passwd_count(d.auth.pw), d.conf.password_file);
		if (d.conf.acl_file)
			printf(", ACL %s", d.conf.acl_file);
		printf("\n");
		auth_free(&d.auth);
		kmq_conf_free(&d.conf);
		return 0;
	}
	kmq_log_init("kmqttd", verbose ? KMQ_LOG_DEBUG : d.conf.log_level);
	d.started_ms = kmqttd_now_ms();
	log_info("kmqttd %s starting (config %s)", KMQTT_VERSION, d.conf_path ? d.conf_path : "defaults");
	if (session_init(&d)) {
		log_err("out of memory");
		auth_free(&d.auth);
		kmq_conf_free(&d.conf);
		return 1;
	}
	/* The store before anything else: a damaged one stops the start (exit status 2). */
	if (retained_init(&d, err, sizeof(err))) {
		log_err("%s", err);
		retained_free(&d);
		session_free(&d);
		auth_free(&d.auth);
		kmq_conf_free(&d.conf);
		return 2;
	}

	ret = setup(&d);
	if (!ret)
		ret = run(&d);
	/* Clients still sending their CONNECT are dropped; handed-off ones stay up. */
	connect_close_all(&d);
	listen_close(&d);
	module_disconnect(&d, true);
	kmq_nl_close(&d.ctrl);
	ctl_close(&d);
	if (d.sig.fd >= 0)
		close(d.sig.fd);
	if (d.epfd >= 0)
		close(d.epfd);
	peers_free(&d.peers);
	retained_free(&d);
	session_free(&d);
	auth_free(&d.auth);
	kmq_conf_free(&d.conf);
	log_info("stopped");
	return ret ? 1 : 0;
}

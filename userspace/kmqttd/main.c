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
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>
#include "kmqttd.h"
#include "log.h"

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

static int load_conf(const char *path, bool explicit, struct kmq_conf *c)
{
	char err[640];

	kmq_conf_init(c);
	if (!path)
		return 0;
	if (!explicit && access(path, F_OK) < 0 && errno == ENOENT)
		return 0;
	if (kmq_conf_load(path, c, err, sizeof(err))) {
		fprintf(stderr, "kmqttd: %s\n", err);
		kmq_conf_free(c);
		return -1;
	}
	return 0;
}

static void reload(struct kmqttd *d)
{
	struct kmq_conf c;

	if (!d->conf_path) {
		log_info("SIGHUP: no configuration file to re-read");
		return;
	}
	if (load_conf(d->conf_path, true, &c)) {
		log_err("SIGHUP: keeping the running configuration");
		return;
	}
	if (strcmp(c.control_socket, d->conf.control_socket))
		log_notice("SIGHUP: control_socket changes take effect at restart");
	kmq_log_set_level(c.log_level);
	free(c.control_socket);
	c.control_socket = d->conf.control_socket;
	d->conf = c;
	log_info("SIGHUP: configuration %s re-read", d->conf_path);
}

static int add_fd(struct kmqttd *d, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int setup(struct kmqttd *d)
{
	sigset_t mask;
	int ret;

	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epfd < 0)
		return -errno;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sigfd < 0 || add_fd(d, d->sigfd) < 0)
		return -errno;
	ret = ctl_listen(d);
	if (ret)
		return ret;
	/* Listen for the module's comings and goings before looking for it: no gap. */
	ret = kmq_nl_ctrl_open(&d->ctrl);
	if (ret) {
		log_err("cannot subscribe to generic netlink notifications");
		return ret;
	}
	if (add_fd(d, kmq_nl_fd(&d->ctrl)) < 0)
		return -errno;
	return module_connect(d);
}

static void on_signal(struct kmqttd *d)
{
	struct signalfd_siginfo si;

	while (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			reload(d);
		} else {
			log_info("%s: shutting down", strsignal((int)si.ssi_signo));
			d->stop = true;
		}
	}
}

static int run(struct kmqttd *d)
{
	struct epoll_event evs[32];

	while (!d->stop) {
		int n = epoll_wait(d->epfd, evs, 32, 1000);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_err("epoll_wait: %s", strerror(errno));
			return -errno;
		}
		for (int i = 0; i < n && !d->stop; i++) {
			int fd = evs[i].data.fd;

			if (fd == d->sigfd)
				on_signal(d);
			else if (fd == d->ctl_fd)
				ctl_on_accept(d);
			else if (d->ctrl.sk && fd == kmq_nl_fd(&d->ctrl)) {
				int ret = module_on_ctrl_event(d);

				if (ret)
					return ret;
			} else {
				ctl_on_client(d, fd);
			}
		}
		ctl_sweep(d);
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct kmqttd d = { .epfd = -1, .sigfd = -1, .ctl_fd = -1 };
	const char *conf_path = KMQ_CONF_DEFAULT;
	bool explicit = false, test = false, verbose = false;
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
	if (load_conf(conf_path, explicit, &d.conf))
		return 2;
	if (explicit || access(conf_path, F_OK) == 0)
		d.conf_path = conf_path;
	if (test) {
		printf("kmqttd: %s: configuration OK\n", d.conf_path ? d.conf_path : "(defaults)");
		kmq_conf_free(&d.conf);
		return 0;
	}
	kmq_log_init("kmqttd", verbose ? KMQ_LOG_DEBUG : d.conf.log_level);
	d.started_ms = kmqttd_now_ms();
	log_info("kmqttd %s starting (config %s)", KMQTT_VERSION, d.conf_path ? d.conf_path : "defaults");

	ret = setup(&d);
	if (!ret)
		ret = run(&d);
	module_disconnect(&d, true);
	kmq_nl_close(&d.ctrl);
	ctl_close(&d);
	if (d.sigfd >= 0)
		close(d.sigfd);
	if (d.epfd >= 0)
		close(d.epfd);
	kmq_conf_free(&d.conf);
	log_info("stopped");
	return ret ? 1 : 0;
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "ctl.h"

#define CTL_TIMEOUT_MS 5000

int kmq_ctl_request(const char *path, const char *req, char **reply)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct pollfd pfd;
	ssize_t n;
	char *buf;
	int fd, ret;

	*reply = NULL;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	if (strlen(req) > KMQ_CTL_MAX_REQUEST)
		return -E2BIG;
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    send(fd, req, strlen(req), MSG_NOSIGNAL) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	pfd = (struct pollfd){ .fd = fd, .events = POLLIN };
	ret = poll(&pfd, 1, CTL_TIMEOUT_MS);
	if (ret <= 0) {
		close(fd);
		return ret == 0 ? -ETIMEDOUT : -errno;
	}
	n = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
	if (n <= 0 || (size_t)n > KMQ_CTL_MAX_REPLY) {
		ret = n == 0 ? -ECONNRESET : n < 0 ? -errno : -EMSGSIZE;
		close(fd);
		return ret;
	}
	buf = malloc((size_t)n + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	n = recv(fd, buf, (size_t)n, 0);
	ret = n < 0 ? -errno : 0;
	close(fd);
	if (ret) {
		free(buf);
		return ret;
	}
	buf[n] = 0;
	*reply = buf;
	return 0;
}

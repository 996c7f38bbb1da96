/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * kmqttctl <-> kmqttd control protocol: a SOCK_SEQPACKET UNIX socket, mode 0600, one
 * request message (a command word and arguments separated by spaces) and one reply
 * message (a JSON object; {"error": "..."} on failure).
 */
#ifndef KMQ_CTL_H
#define KMQ_CTL_H

#include <stddef.h>

#define KMQ_CTL_SOCKET_DEFAULT "/run/kmqtt/kmqttd.sock"
#define KMQ_CTL_MAX_REQUEST 4096
#define KMQ_CTL_MAX_REPLY (4u << 20)

/*
 * Send @req and return the reply in a malloc'ed NUL-terminated buffer via @reply.
 * Returns 0, or a negative errno: -ENOENT/-ECONNREFUSED (daemon not running), -EACCES
 * (not allowed to use the socket), -ETIMEDOUT.
 */
int kmq_ctl_request(const char *path, const char *req, char **reply);

#endif

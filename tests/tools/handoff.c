// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * kmqtt-handoff — a minimal stand-in for kmqttd's accept path, to test kmqtt.ko's
 * connection engine on its own: it registers as the daemon, listens on 127.0.0.1:PORT,
 * reads each client's CONNECT exactly (with the core codec), performs no
 * authentication, and hands the socket over with KMQTT_CMD_CONN_NEW. Never use it in
 * production; it exists for tests/vm/test-engine.sh.
 *
 *   kmqtt-handoff PORT [ACL_FILTER:ACCESS ...]   (ACCESS: r, w, rw, deny)
 *
 * KMQTT_HANDOFF_OUT_IDS=ID,ID,...: a client whose id begins with "outids-" is handed
 * over as a persistent session with those packet ids in KMQTT_A_OUT_IDS (resends a
 * daemon would hold for it), to test that new messages get other ids.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <netlink/netlink.h>
#include <netlink/genl/genl.h>
#include <linux/kmqtt.h>
#include "mqtt_codec.h"
#include "nl.h"

static int read_exact(int fd, uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = read(fd, buf, len);

		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int on_reply(struct nl_msg *msg, void *arg)
{
	(void)msg;
	(void)arg;
	return NL_OK;
}

static int handoff(struct kmq_nl *nl, int fd, char **acl, int nacl)
{
	struct mqtt_fixed_header fh;
	struct mqtt_packet pkt;
	uint8_t buf[4096];
	char id[KMQTT_MAX_CLIENT_ID + 1];
	struct nl_msg *msg;
	struct nlattr *nest, *rule;
	int hl = 0, ret;

	do {
		if (hl == MQTT_MAX_HEADER_LEN || read_exact(fd, buf + hl, 1))
			return -1;
		hl++;
		ret = mqtt_fixed_header(buf, (uint32_t)hl, MQTT_LEVEL_UNKNOWN, sizeof(buf), &fh);
	} while (ret == 0);
	if (ret < 0 || read_exact(fd, buf + hl, fh.remlen))
		return -1;
	if (mqtt_decode(MQTT_LEVEL_UNKNOWN, &fh, buf + hl, NULL, &pkt) || pkt.type != MQTT_CONNECT)
		return -1;
	static unsigned int n_assigned;

	/* An empty client id gets a unique one, as a broker must [MQTT-3.1.3-6]. */
	if (pkt.connect.client_id.len)
		snprintf(id, sizeof(id), "%.*s", (int)pkt.connect.client_id.len,
			 pkt.connect.client_id.s);
	else
		snprintf(id, sizeof(id), "handoff-%u", ++n_assigned);
	msg = nlmsg_alloc();
	genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, NLM_F_REQUEST | NLM_F_ACK,
		    KMQTT_CMD_CONN_NEW, KMQTT_GENL_VERSION);
	nla_put_u32(msg, KMQTT_A_CONN_FD, (uint32_t)fd);
	nla_put_string(msg, KMQTT_A_CLIENT_ID, id);
	nla_put_u8(msg, KMQTT_A_PROTO_LEVEL, pkt.connect.level);
	nla_put_u16(msg, KMQTT_A_KEEPALIVE, pkt.connect.keep_alive);
	/*
	 * Every session is clean here: this stand-in stores nothing, so it could not take
	 * the hand-overs of a parked persistent session (and their publishers would wait).
	 * Except the "outids-" test sessions, which must end clean (reconnect clean).
	 */
	const char *out_ids = getenv("KMQTT_HANDOFF_OUT_IDS");

	if (out_ids && !strncmp(id, "outids-", 7) && !pkt.connect.clean_start) {
		char *list = strdup(out_ids), *tok, *save = NULL;

		nla_put_u32(msg, KMQTT_A_FLAGS, 0);
		nest = nla_nest_start(msg, KMQTT_A_OUT_IDS);
		for (tok = list ? strtok_r(list, ",", &save) : NULL; tok;
		     tok = strtok_r(NULL, ",", &save))
			nla_put_u16(msg, KMQTT_A_PACKET_ID, (uint16_t)atoi(tok));
		nla_nest_end(msg, nest);
		free(list);
	} else {
		nla_put_u32(msg, KMQTT_A_FLAGS, KMQTT_CONN_F_CLEAN_SESSION);
	}
	if (nacl) {
		nest = nla_nest_start(msg, KMQTT_A_ACL);
		for (int i = 0; i < nacl; i++) {
			char *colon = strrchr(acl[i], ':');
			uint32_t access = !strcmp(colon + 1, "r") ? KMQTT_ACL_READ :
					  !strcmp(colon + 1, "w") ? KMQTT_ACL_WRITE :
					  !strcmp(colon + 1, "rw") ? KMQTT_ACL_READWRITE : KMQTT_ACL_DENY;

			rule = nla_nest_start(msg, KMQTT_ACL_A_RULE);
			*colon = 0;
			nla_put_string(msg, KMQTT_ACL_A_FILTER, acl[i]);
			*colon = ':';
			nla_put_u32(msg, KMQTT_ACL_A_ACCESS, access);
			nla_nest_end(msg, rule);
		}
		nla_nest_end(msg, nest);
	}
	ret = nl_send_auto(nl->sk, msg);
	nlmsg_free(msg);
	if (ret >= 0)
		ret = nl_wait_for_ack(nl->sk);
	if (ret < 0)
		fprintf(stderr, "handoff: CONN_NEW for %s failed: %s\n", id, nl_geterror(ret));
	return ret;
}

int main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct kmq_nl nl;
	int lfd, one = 1;

	if (argc < 2) {
		fprintf(stderr, "usage: kmqtt-handoff PORT [FILTER:r|w|rw|deny ...]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (kmq_nl_open(&nl) || kmq_nl_register(&nl, (uint32_t)getpid(), 0)) {
		fprintf(stderr, "handoff: cannot register with kmqtt.ko\n");
		return 1;
	}
	/*
	 * As kmqttd does: the module's CONN_CLOSED events queue on this socket between our
	 * requests, and libnl's 32 KiB default overflows (ENOBUFS, which libnl reports as
	 * "Out of memory") when a slow debug kernel closes many test connections at once.
	 */
	if (setsockopt(nl_socket_get_fd(nl.sk), SOL_SOCKET, SO_RCVBUFFORCE, &(int){ 4 << 20 },
		       sizeof(int)))
		setsockopt(nl_socket_get_fd(nl.sk), SOL_SOCKET, SO_RCVBUF, &(int){ 4 << 20 },
			   sizeof(int));
	nl_socket_modify_cb(nl.sk, NL_CB_VALID, NL_CB_CUSTOM, on_reply, NULL);
	nl_socket_disable_seq_check(nl.sk);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	sin.sin_port = htons((uint16_t)atoi(argv[1]));
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) || listen(lfd, 1024)) {
		perror("handoff: listen");
		return 1;
	}
	fprintf(stderr, "handoff: listening on 127.0.0.1:%s\n", argv[1]);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);

		if (fd < 0)
			continue;
		handoff(&nl, fd, argv + 2, argc - 2);
		close(fd);
	}
}

// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * nlprobe — drives kmqtt.ko's generic netlink family with well-formed and malformed
 * requests and checks each answer. Run as root inside the test VM with the module loaded
 * and no daemon registered. Prints one TAP line per case; exits 1 if any failed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <netlink/netlink.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>
#include <linux/kmqtt.h>
#include "nl.h"

static int failed;

static void check(const char *name, int got, int want)
{
	if (got == want) {
		printf("ok - netlink: %s\n", name);
	} else {
		printf("not ok - netlink: %s: got %d (%s), want %d (%s)\n", name, got,
		       strerror(-got), want, strerror(-want));
		failed = 1;
	}
}

static int on_err(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	(void)nla;
	*(int *)arg = e->error;
	return NL_STOP;
}

static int on_ack(struct nl_msg *m, void *arg)
{
	(void)m;
	*(int *)arg = 0;
	return NL_STOP;
}

/* attrs: pairs of (type, u32 value); a negative type means "put as a 1-byte attribute". */
static int request(struct kmq_nl *nl, int cmd, const int *attrs, int n)
{
	struct nl_msg *msg = nlmsg_alloc();
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int err = 1;

	genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0, NLM_F_REQUEST | NLM_F_ACK,
		    (uint8_t)cmd, KMQTT_GENL_VERSION);
	for (int i = 0; i < n; i += 2) {
		if (attrs[i] < 0)
			nla_put_u8(msg, -attrs[i], (uint8_t)attrs[i + 1]);
		else
			nla_put_u32(msg, attrs[i], (uint32_t)attrs[i + 1]);
	}
	nl_cb_err(cb, NL_CB_CUSTOM, on_err, &err);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, &err);
	nl_send_auto(nl->sk, msg);
	nlmsg_free(msg);
	while (err > 0)
		if (nl_recvmsgs(nl->sk, cb) < 0 && err > 0)
			err = -EIO;
	nl_cb_put(cb);
	return err;
}

int main(void)
{
	struct kmq_nl a, b;
	struct kmq_status st;
	int pid = (int)getpid();

	if (kmq_nl_open(&a) || kmq_nl_open(&b)) {
		printf("not ok - netlink: kmqtt family not found\n");
		return 1;
	}
	check("register with a foreign ABI version is refused (EPROTO)",
	      request(&a, KMQTT_CMD_DAEMON_REGISTER,
		      (int[]){ KMQTT_A_ABI_VERSION, 999, KMQTT_A_DAEMON_PID, pid }, 4), -EPROTO);
	check("register without ABI version is refused (EINVAL)",
	      request(&a, KMQTT_CMD_DAEMON_REGISTER, (int[]){ KMQTT_A_DAEMON_PID, pid }, 2), -EINVAL);
	check("register with an unknown flag bit is refused (EINVAL)",
	      request(&a, KMQTT_CMD_DAEMON_REGISTER,
		      (int[]){ KMQTT_A_ABI_VERSION, KMQTT_ABI_VERSION, KMQTT_A_DAEMON_PID, pid,
			       KMQTT_A_FLAGS, 1 }, 6), -EINVAL);
	check("unknown attribute type is refused (EINVAL)",
	      request(&a, KMQTT_CMD_DAEMON_REGISTER,
		      (int[]){ KMQTT_A_ABI_VERSION, KMQTT_ABI_VERSION, KMQTT_A_DAEMON_PID, pid,
			       KMQTT_A_MAX + 7, 1 }, 6), -EINVAL);
	check("attribute of the wrong size is refused (EINVAL)",
	      request(&a, KMQTT_CMD_GET_STATUS, (int[]){ -KMQTT_A_ABI_VERSION, 1 }, 2), -EINVAL);
	check("unknown command is refused (EOPNOTSUPP)",
	      request(&a, KMQTT_CMD_MAX + 1, NULL, 0), -EOPNOTSUPP);
	check("unregister by a socket that is not the daemon (ENOENT)",
	      request(&a, KMQTT_CMD_DAEMON_UNREGISTER, NULL, 0), -ENOENT);
	check("first daemon registers", kmq_nl_register(&a, (uint32_t)pid, 0), 0);
	check("status reports the daemon's pid",
	      kmq_nl_status(&b, &st) || st.daemon_pid != (uint32_t)pid ||
	      st.state != KMQTT_STATE_RUNNING, 0);
	check("a retained confirmation from a socket that is not the daemon is refused (EPERM)",
	      request(&b, KMQTT_CMD_RETAIN_STORED, (int[]){ KMQTT_A_PUNT_ID, 1 }, 2), -EPERM);
	check("a retained delivery from a socket that is not the daemon is refused (EPERM)",
	      request(&b, KMQTT_CMD_DELIVER, (int[]){ KMQTT_A_PUNT_ID, 1 }, 2), -EPERM);
	check("the daemon confirming an unknown retained hand-over gets ENOENT",
	      request(&a, KMQTT_CMD_RETAIN_STORED, (int[]){ KMQTT_A_PUNT_ID, 12345 }, 2), -ENOENT);
	check("a retained delivery without its attributes is refused (EINVAL)",
	      request(&a, KMQTT_CMD_DELIVER, (int[]){ KMQTT_A_PUNT_ID, 1 }, 2), -EINVAL);
	check("second daemon is refused while the first is alive (EBUSY)",
	      kmq_nl_register(&b, (uint32_t)pid + 1, 0), -EBUSY);
	check("the refusal carries an extended-ack message",
	      strstr(b.errmsg, "another daemon") ? 0 : -EBADMSG, 0);
	kmq_nl_close(&a);
	check("closing the daemon's socket releases the role",
	      kmq_nl_status(&b, &st) || st.daemon_pid != 0 || st.state != KMQTT_STATE_NO_DAEMON, 0);
	check("a new daemon can register after that", kmq_nl_register(&b, (uint32_t)pid, 0), 0);
	check("the daemon unregisters cleanly", kmq_nl_unregister(&b), 0);
	kmq_nl_close(&b);
	return failed;
}

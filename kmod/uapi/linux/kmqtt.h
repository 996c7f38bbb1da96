/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * kmqtt — the generic netlink ABI between kmqtt.ko, kmqttd and kmqttctl.
 *
 * Family name: KMQTT_GENL_NAME ("kmqtt"), family version KMQTT_GENL_VERSION.
 * Every command requires CAP_NET_ADMIN (GENL_ADMIN_PERM). Attributes are validated
 * strictly: unknown attributes, wrong lengths and unknown flag bits are rejected with
 * -EINVAL and an extended ack message saying which attribute was wrong. The family lives
 * in the initial network namespace only.
 *
 * KMQTT_ABI_VERSION is bumped whenever a command or attribute changes meaning; the daemon
 * sends its own in KMQTT_CMD_DAEMON_REGISTER and the module refuses a mismatch, so a
 * daemon never drives a module it does not understand.
 *
 * KMQTT_CMD_DAEMON_REGISTER
 * -------------------------
 *
 * Sent by kmqttd once at start-up (and again whenever the family reappears after the
 * module was reloaded). Binds the daemon role to the sending netlink socket's port id:
 * events for the daemon are unicast to that port, and when that socket is closed (the
 * daemon exits or is killed) the role is released by the kernel automatically, so a
 * restarted daemon can register again. A second daemon is refused with -EBUSY while the
 * first one's socket is open.
 *
 *    KMQTT_A_ABI_VERSION: NLA_U32, must equal KMQTT_ABI_VERSION (-EPROTO otherwise)
 *    KMQTT_A_DAEMON_PID: NLA_U32, the daemon's process id, reported by GET_STATUS
 *    KMQTT_A_FLAGS: NLA_U32, optional, 0 or a combination of enum kmqtt_register_flags
 *
 * KMQTT_CMD_DAEMON_UNREGISTER
 * ---------------------------
 *
 * Releases the daemon role held by the sending socket (clean shut-down). No attributes.
 * -ENOENT if the sender does not hold the role.
 *
 * KMQTT_CMD_GET_STATUS
 * --------------------
 *
 * May be called by anyone with CAP_NET_ADMIN (kmqttctl). No request attributes. The reply
 * carries:
 *
 *    KMQTT_A_VERSION: NLA_NUL_STRING, the module's version
 *    KMQTT_A_ABI_VERSION: NLA_U32
 *    KMQTT_A_STATE: NLA_U32, enum kmqtt_state
 *    KMQTT_A_UPTIME_MS: NLA_U64, milliseconds since the module was loaded
 *    KMQTT_A_DAEMON_PID: NLA_U32, 0 when no daemon is registered
 *    KMQTT_A_DAEMON_PORTID: NLA_U32, 0 when no daemon is registered
 *    KMQTT_A_DAEMON_SINCE_MS: NLA_U64, module uptime at which the daemon registered
 *    KMQTT_A_STATS: NLA_NESTED
 *        KMQTT_STAT_*: NLA_U64 each, see enum kmqtt_stat; counters only ever grow
 *
 * Userspace must ignore attributes and statistics it does not know, so that a newer
 * module can add counters without breaking an older kmqttctl.
 *
 * Events to the daemon
 * --------------------
 *
 * None in this ABI version yet. When the module is unloaded, the generic netlink
 * controller announces CTRL_CMD_DELFAMILY for "kmqtt" on its "notify" multicast group;
 * the daemon listens there to learn that the module went away and CTRL_CMD_NEWFAMILY to
 * learn that it is back.
 */
#ifndef _UAPI_LINUX_KMQTT_H
#define _UAPI_LINUX_KMQTT_H

#define KMQTT_GENL_NAME		"kmqtt"
#define KMQTT_GENL_VERSION	1
#define KMQTT_ABI_VERSION	1

enum kmqtt_cmd {
	KMQTT_CMD_UNSPEC,
	KMQTT_CMD_DAEMON_REGISTER,
	KMQTT_CMD_DAEMON_UNREGISTER,
	KMQTT_CMD_GET_STATUS,
	__KMQTT_CMD_MAX
};

#define KMQTT_CMD_MAX (__KMQTT_CMD_MAX - 1)

enum kmqtt_attr {
	KMQTT_A_UNSPEC,
	KMQTT_A_PAD,
	KMQTT_A_VERSION,
	KMQTT_A_ABI_VERSION,
	KMQTT_A_STATE,
	KMQTT_A_UPTIME_MS,
	KMQTT_A_DAEMON_PID,
	KMQTT_A_DAEMON_PORTID,
	KMQTT_A_DAEMON_SINCE_MS,
	KMQTT_A_FLAGS,
	KMQTT_A_STATS,
	__KMQTT_A_MAX
};

#define KMQTT_A_MAX (__KMQTT_A_MAX - 1)

/* No flags are defined yet in ABI 1; any set bit is rejected. */
enum kmqtt_register_flags {
	__KMQTT_REGISTER_F_ALL = 0
};

enum kmqtt_state {
	KMQTT_STATE_NO_DAEMON,	/* loaded, no daemon registered: no new connections */
	KMQTT_STATE_RUNNING,	/* a daemon is registered */
	KMQTT_STATE_STOPPING,	/* module exit in progress */
};

enum kmqtt_stat {
	KMQTT_STAT_UNSPEC,
	KMQTT_STAT_PAD,
	KMQTT_STAT_DAEMON_REGISTERED,	/* successful DAEMON_REGISTER */
	KMQTT_STAT_DAEMON_REFUSED,	/* DAEMON_REGISTER refused: busy or ABI mismatch */
	KMQTT_STAT_DAEMON_UNREGISTERED,	/* clean DAEMON_UNREGISTER */
	KMQTT_STAT_DAEMON_LOST,		/* daemon socket closed while holding the role */
	KMQTT_STAT_NL_REQUESTS,		/* netlink requests handled (all commands) */
	__KMQTT_STAT_MAX
};

#define KMQTT_STAT_MAX (__KMQTT_STAT_MAX - 1)

#endif /* _UAPI_LINUX_KMQTT_H */

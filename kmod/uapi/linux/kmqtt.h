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
 *    KMQTT_A_OWED_SEQ: NLA_U64, optional: the highest KMQTT_A_OWED_SEQ the daemon holds
 *                      in its store (see "Persistent sessions"); the module numbers
 *                      the session messages it hands over from then on above it
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
 *        KMQTT_STAT_*: NLA_U64 each, see enum kmqtt_stat; counters only ever grow,
 *                      except the gauges marked so in the enum
 *
 * Userspace must ignore attributes and statistics it does not know, so that a newer
 * module can add counters without breaking an older kmqttctl.
 *
 * KMQTT_CMD_CONN_NEW
 * ------------------
 *
 * Daemon only (the sender must hold the daemon role, -EPERM otherwise). Hands an
 * authenticated MQTT connection to the module. The daemon has read the CONNECT packet and
 * nothing after it; the module sends the CONNACK (return code 0) and owns the socket from
 * then on; the daemon closes its own descriptor after the reply. If a connection with the
 * same client identifier exists it is closed first (session takeover, reason
 * KMQTT_CLOSE_TAKEOVER).
 *
 *    KMQTT_A_CONN_FD: NLA_U32, the socket's descriptor in the sender's process; it must
 *                     be a connected TCP socket (-ENOTSOCK, -EPROTONOSUPPORT, -ENOTCONN)
 *    KMQTT_A_CLIENT_ID: NLA_NUL_STRING, 1..KMQTT_MAX_CLIENT_ID bytes
 *    KMQTT_A_USERNAME: NLA_NUL_STRING, optional, at most KMQTT_MAX_USERNAME bytes
 *    KMQTT_A_PROTO_LEVEL: NLA_U8, 3 (MQTT 3.1) or 4 (MQTT 3.1.1)
 *    KMQTT_A_KEEPALIVE: NLA_U16, seconds, 0 = none
 *    KMQTT_A_FLAGS: NLA_U32, optional, enum kmqtt_conn_flags
 *    KMQTT_A_ACL: NLA_NESTED, optional; absent means every topic may be read and written.
 *        KMQTT_A_ACL_RULE: NLA_NESTED, repeated up to KMQTT_MAX_ACL_RULES times, checked
 *                          in order, first match decides; no match denies
 *            KMQTT_ACL_A_FILTER: NLA_NUL_STRING, a topic filter (%u/%c already replaced),
 *                                at most 1024 bytes and 32 levels; "$share/" is literal
 *            KMQTT_ACL_A_ACCESS: NLA_U32, enum kmqtt_acl_access
 *    KMQTT_A_LIMITS: NLA_NESTED, optional; every limit absent or 0 takes the default
 *        KMQTT_LIM_A_MAX_PACKET: NLA_U32, largest packet accepted from the client
 *        KMQTT_LIM_A_TX_QUEUE: NLA_U32, messages queued to the client at most
 *        KMQTT_LIM_A_INFLIGHT: NLA_U32, QoS 1 messages awaiting PUBACK at most
 *    KMQTT_A_TLS: NLA_NESTED, required exactly when the socket carries TLS. The daemon
 *                 did the handshake and set up kernel TLS (the "tls" ULP) for sending AND
 *                 receiving; the module then reads and writes records through it. A
 *                 socket with the "tls" ULP but without this attribute, with this
 *                 attribute but no "tls" ULP, or with kTLS set up in one direction only,
 *                 is refused (-EPROTO): a TLS client is never carried in plaintext.
 *        KMQTT_TLS_A_VERSION: NLA_NUL_STRING, e.g. "TLSv1.3" (at most 15 bytes)
 *        KMQTT_TLS_A_CIPHER: NLA_NUL_STRING, the cipher suite's name (at most 63 bytes)
 *        KMQTT_TLS_A_CERT_CN: NLA_NUL_STRING, optional: the client certificate's
 *                             subject common name (at most KMQTT_MAX_USERNAME bytes)
 *        KMQTT_TLS_A_CERT_SERIAL: NLA_NUL_STRING, optional: its serial number in
 *                                 upper-case hexadecimal (at most 64 bytes)
 *        KMQTT_TLS_A_CERT_ISSUER: NLA_NUL_STRING, optional: its issuer as a one-line
 *                                 RFC 2253 name (at most 512 bytes)
 *    The module keeps these for KMQTT_CMD_CONN_GET (the daemon finds the sessions of a
 *    revoked certificate there); it never reads the certificate itself.
 *    KMQTT_A_WILL: NLA_NESTED, optional: the CONNECT's will message. The module publishes
 *                  it when the connection ends other than by a DISCONNECT from the client
 *                  (keepalive timeout, peer closed or reset, socket error, protocol
 *                  violation, limit exceeded, session takeover, KMQTT_CMD_CONN_DEL, TLS
 *                  alert or error), as if the client had published it: the ACL must allow
 *                  writing the topic (else KMQTT_STAT_WILLS_DENIED), a retained will is
 *                  handed to the daemon like any retained PUBLISH. A will is not
 *                  published when the module is unloaded (KMQTT_CLOSE_SHUTDOWN).
 *        KMQTT_WILL_A_TOPIC: NLA_BINARY, a valid topic name, 1..KMQTT_MAX_TOPIC bytes
 *        KMQTT_WILL_A_PAYLOAD: NLA_BINARY, optional (empty payload), at most 65535 bytes
 *        KMQTT_WILL_A_QOS: NLA_U8, 0, 1 or 2
 *        KMQTT_WILL_A_RETAIN: NLA_FLAG
 *    KMQTT_A_SUBS: NLA_NESTED, optional, for a persistent session (no
 *                  KMQTT_CONN_F_CLEAN_SESSION): the session's subscriptions as the daemon
 *                  stored them, used only when the module holds no parked session for this
 *                  client id (see "Persistent sessions"); at most KMQTT_MAX_SESSION_SUBS
 *        KMQTT_A_SUB: NLA_NESTED, repeated
 *            KMQTT_SUB_A_FILTER: NLA_BINARY, a valid topic filter, 1..KMQTT_MAX_TOPIC bytes
 *            KMQTT_SUB_A_QOS: NLA_U8, 0..2
 *    KMQTT_A_QOS2_IDS: NLA_NESTED, optional, likewise: the QoS 2 packet ids the client
 *                      sent and has not released yet
 *        KMQTT_A_PACKET_ID: NLA_U16, 1..65535, repeated, at most KMQTT_MAX_QOS2_IN
 *    KMQTT_A_OUT_IDS: NLA_NESTED, optional, for a persistent session: the packet ids of
 *                     the messages the daemon holds for it that were sent before (it
 *                     delivers them with KMQTT_MSG_F_DUP or KMQTT_MSG_F_PUBREL and their
 *                     id). No new message to the client gets one of these ids until the
 *                     message that has it is delivered [MQTT-2.3.1-2]: a client that kept
 *                     the id of a QoS 2 message it received would take a new message
 *                     with that id for a resend of the old one, and drop it.
 *        KMQTT_A_PACKET_ID: NLA_U16, 1..65535, repeated, at most KMQTT_MAX_OUT_IDS
 *
 * Reply: KMQTT_A_CONN_ID: NLA_U64, the connection's identifier; KMQTT_A_FLAGS: NLA_U32,
 * KMQTT_CONN_F_SESSION_PRESENT if the CONNACK said so (the module sets it when it resumed
 * a parked session, whatever the daemon asked).
 *
 * QoS 2 is carried by the module for the life of the connection. A QoS 2 PUBLISH from the
 * client is forwarded once and answered with PUBREC; its packet identifier is remembered
 * until the client's PUBREL (answered with PUBCOMP), and a PUBLISH with a remembered
 * identifier is acknowledged again without being forwarded again (exactly once). At most
 * KMQTT_MAX_QOS2_IN identifiers may await PUBREL per connection: one more closes it
 * (KMQTT_CLOSE_LIMIT). To a subscriber granted QoS 2 the module sends PUBLISH, answers its
 * PUBREC with PUBREL and frees the message at PUBCOMP; QoS 2 messages share the in-flight
 * window (KMQTT_LIM_A_INFLIGHT) with QoS 1.
 *
 * KMQTT_CMD_CONN_GET
 * ------------------
 *
 * Dump: one message per connection (resumable: the dump continues after the last
 * connection identifier sent). Each carries
 *    KMQTT_A_CONN_ID, KMQTT_A_CLIENT_ID, KMQTT_A_USERNAME (if any), KMQTT_A_PEER
 *    (NLA_NUL_STRING "address:port"), KMQTT_A_PROTO_LEVEL, KMQTT_A_KEEPALIVE,
 *    KMQTT_A_CONNECTED_MS (NLA_U64, module uptime at hand-off), KMQTT_A_LAST_RX_MS,
 *    KMQTT_A_CONN_STATS: NLA_NESTED of NLA_U64 KMQTT_CS_* (enum kmqtt_conn_stat)
 *    KMQTT_A_TLS: as given to KMQTT_CMD_CONN_NEW, for TLS connections
 *
 * TLS connections: application data records are MQTT; an alert record (close_notify or
 * any other) closes the connection (KMQTT_CLOSE_TLS_ALERT); any other record type (a
 * TLS 1.3 KeyUpdate or NewSessionTicket, a TLS 1.2 renegotiation) or a record that fails
 * to decrypt closes it too (KMQTT_CLOSE_TLS_ERROR). Each case has its counter.
 *
 * KMQTT_CMD_CONN_DEL
 * ------------------
 *
 * Closes a connection (kmqttctl kick): KMQTT_A_CONN_ID or KMQTT_A_CLIENT_ID. -ENOENT if
 * there is no such connection. The close is reported as KMQTT_CLOSE_KICKED.
 *
 * KMQTT_CMD_GET_ERRORS
 * --------------------
 *
 * Protocol violations counted by the module, by codec error: the reply carries one
 * KMQTT_A_ERROR nest per error seen at least once, with KMQTT_ERR_A_NAME (NLA_NUL_STRING,
 * the codec's stable name) and KMQTT_ERR_A_COUNT (NLA_U64).
 *
 * Events to the daemon
 * --------------------
 *
 * KMQTT_CMD_CONN_CLOSED is unicast to the registered daemon when a handed-off connection
 * ends: KMQTT_A_CONN_ID, KMQTT_A_CLIENT_ID, KMQTT_A_CLOSE_REASON (NLA_U32, enum
 * kmqtt_close_reason). Events are dropped (and counted in KMQTT_STAT_EVENTS_LOST) while no
 * daemon is registered or its socket is full; a restarted daemon resynchronizes with
 * KMQTT_CMD_CONN_GET.
 *
 * Retained messages (the punt channel)
 * ------------------------------------
 *
 * The module forwards every PUBLISH to the current subscribers itself (with the retain
 * flag cleared [MQTT-3.3.1-9]); a PUBLISH with the retain flag is also handed to the
 * daemon, which stores, replaces or (empty payload) deletes the topic's retained message.
 *
 * KMQTT_CMD_RETAIN (event, module to daemon) carries one retained PUBLISH:
 *    KMQTT_A_PUNT_ID: NLA_U32, names this hand-over in KMQTT_CMD_RETAIN_STORED
 *    KMQTT_A_CONN_ID, KMQTT_A_CLIENT_ID: the publishing connection
 *    KMQTT_A_TOPIC: NLA_BINARY, the topic name (not NUL-terminated), 1..KMQTT_MAX_TOPIC
 *                   bytes
 *    KMQTT_A_QOS: NLA_U8, the PUBLISH's QoS (0, 1 or 2)
 *    KMQTT_A_PAYLOAD: NLA_BINARY, repeated, each at most KMQTT_PAYLOAD_CHUNK bytes: the
 *                     payload is their concatenation in order; none for an empty payload
 * The whole message (topic and payload) is at most KMQTT_MAX_RETAIN_SIZE bytes. While a
 * hand-over waits for the daemon's answer it counts in KMQTT_STAT_RETAIN_PENDING; at most
 * KMQTT_MAX_RETAIN_PENDING of them and KMQTT_MAX_RETAIN_PENDING_BYTES bytes may wait.
 * A retained PUBLISH that cannot be handed over (no daemon, its socket full, a limit
 * reached, too large) is not stored and counted in KMQTT_STAT_RETAIN_NOT_STORED; so are
 * the waiting ones when the daemon goes away. The PUBACK of a QoS 1 (the PUBREC of a QoS 2)
 * retained PUBLISH is sent only when the daemon confirmed the store: it is never sent for
 * one not stored (the publisher sends it again after reconnecting). A retained will is
 * handed over the same way, with the connection id of the connection that ended.
 *
 * KMQTT_CMD_RETAIN_STORED (daemon only) confirms that the daemon holds the retained
 * message (durably, when its persistence is on) or deleted it, or holds the session
 * message of a KMQTT_CMD_SESSION_MSG:
 *    KMQTT_A_PUNT_ID: NLA_U32, from KMQTT_CMD_RETAIN or KMQTT_CMD_SESSION_MSG
 * The module then sends the QoS 1 PUBACK (QoS 2 PUBREC), if the connection is still
 * open. -ENOENT for an unknown or already confirmed id. The daemon must answer every
 * KMQTT_CMD_RETAIN.
 *
 * KMQTT_CMD_SUBSCRIBED (event, module to daemon) is sent for each subscription granted by
 * a SUBSCRIBE, after its SUBACK was queued, so that the daemon can send the retained
 * messages that match it:
 *    KMQTT_A_CONN_ID, KMQTT_A_CLIENT_ID
 *    KMQTT_A_TOPIC: NLA_BINARY, the topic filter as subscribed
 *    KMQTT_A_QOS: NLA_U8, the granted QoS
 * A lost event (no daemon, its socket full) is counted in KMQTT_STAT_EVENTS_LOST.
 *
 * KMQTT_CMD_DELIVER (daemon only) queues one retained message to one connection, behind
 * whatever is queued to it already (so after the SUBACK), with the retain flag set:
 *    KMQTT_A_CONN_ID: NLA_U64
 *    KMQTT_A_TOPIC: NLA_BINARY, a valid topic name, 1..KMQTT_MAX_TOPIC bytes
 *    KMQTT_A_QOS: NLA_U8, 0, 1 or 2: the smaller of the message's and the subscription's
 *    KMQTT_A_PAYLOAD: as in KMQTT_CMD_RETAIN
 *    KMQTT_A_FLAGS: NLA_U32, optional, enum kmqtt_msg_flags: RETAIN (a retained message on
 *                   subscribe), DUP (sent before: with its KMQTT_A_PACKET_ID), PUBREL (a
 *                   QoS 2 message released before: only PUBREL with KMQTT_A_PACKET_ID is
 *                   sent, then PUBCOMP awaited; no topic or payload)
 *    KMQTT_A_PACKET_ID: NLA_U16, optional: resend with this packet id [MQTT-4.4.0-1]
 *    KMQTT_A_STORE_ID: NLA_U64, optional: the daemon's id of a stored session message,
 *                      increasing in queue order and never reused. The module remembers
 *                      the highest one delivered to the session and ignores (answers 0
 *                      without queueing) a delivery of one not above it: a message the
 *                      daemon delivered but could not delete before it was killed is not
 *                      delivered twice. KMQTT_CMD_SESSION_PARKED reports that highest id.
 *                      Stored messages are taken in order: once one is refused for lack
 *                      of room or memory, every later one (higher id) is refused with
 *                      -EAGAIN until that one is delivered, so a daemon that sends a
 *                      batch without waiting for each answer finds a queued prefix.
 * QoS 1 and 2 deliveries take the connection's normal in-flight path (packet identifier,
 * PUBACK, or PUBREC/PUBREL/PUBCOMP). The connection's ACL must allow reading the topic.
 * Errors: -ENOENT (no such open connection), -EACCES (the ACL denies it), -EMSGSIZE
 * (topic and payload larger than KMQTT_MAX_RETAIN_SIZE), -EINVAL (not a valid topic
 * name, QoS above 2), -ENOBUFS (the connection is closing or its queue is full).
 * Each refusal is counted in KMQTT_STAT_DELIVER_REFUSED. The daemon sends retained
 * deliveries without NLM_F_ACK and never waits for them; a session's stored messages it
 * sends with NLM_F_ACK, one at a time, and keeps those refused for the next connection.
 * Stored messages go ahead of the live ones held by KMQTT_CONN_F_HOLD and are bounded by
 * KMQTT_MAX_TX_QUEUE rather than the connection's queue limit.
 *
 * Persistent sessions
 * -------------------
 *
 * A connection handed over without KMQTT_CONN_F_CLEAN_SESSION is persistent. When it ends
 * (for any reason, module unload included) the module keeps it "parked": its
 * subscriptions stay in the topic trie, and the module unicasts to the daemon
 *
 * KMQTT_CMD_SESSION_PARKED (event): KMQTT_A_CLIENT_ID, KMQTT_A_CONN_ID (the connection
 * that ended), KMQTT_A_SUBS and KMQTT_A_QOS2_IDS as in KMQTT_CMD_CONN_NEW (the complete
 * state: the daemon replaces what it stored), KMQTT_A_STORE_ID (NLA_U64, the highest
 * stored message id delivered to the session, if any: the daemon's copies up to it are
 * stale, what the client was still owed follows), followed by one KMQTT_CMD_SESSION_MSG per
 * message the connection still owed the client, in order: the ones sent and not
 * acknowledged first (KMQTT_MSG_F_DUP and their KMQTT_A_PACKET_ID; a QoS 2 message whose
 * PUBREC came as KMQTT_MSG_F_PUBREL with its packet id and no topic), then the queued
 * QoS 1 and 2 ones (QoS 0 ones are dropped, as a disconnected client's).
 *
 * Every message published to a parked session's subscriptions after that is handed over
 * as a KMQTT_CMD_SESSION_MSG too, at the subscription's QoS (QoS 0 ones are not: counted
 * in KMQTT_STAT_SESSION_QOS0_DROPPED), and the publisher's PUBACK (PUBREC) waits until
 * the daemon confirmed every such hand-over of the message (and the store of a retained
 * one): a message acknowledged to its publisher is held by every party responsible for it.
 *
 * KMQTT_CMD_SESSION_MSG (event):
 *    KMQTT_A_PUNT_ID: NLA_U32, to be confirmed with KMQTT_CMD_RETAIN_STORED
 *    KMQTT_A_CLIENT_ID: the session
 *    KMQTT_A_TOPIC, KMQTT_A_PAYLOAD: as in KMQTT_CMD_RETAIN (absent with KMQTT_MSG_F_PUBREL)
 *    KMQTT_A_QOS: NLA_U8, 1 or 2: the QoS to deliver it with
 *    KMQTT_A_FLAGS: NLA_U32, enum kmqtt_msg_flags (DUP, PUBREL; AGAIN: this message was
 *                   handed over before, to a daemon that went away without confirming
 *                   it, which may have stored it: look its KMQTT_A_OWED_SEQ up)
 *    KMQTT_A_PACKET_ID: NLA_U16, optional: the packet id it was sent with
 *    KMQTT_A_OWED_SEQ: NLA_U64, the hand-over's number, unique for as long as the daemon
 *                      holds any (never below what it said at KMQTT_CMD_DAEMON_REGISTER;
 *                      a message handed over again keeps its number). The daemon stores
 *                      it with the message and must not queue a number it holds twice:
 *                      it confirms such a copy (KMQTT_MSG_F_AGAIN) at once.
 * Hand-overs share the limits of retained ones (KMQTT_MAX_RETAIN_PENDING...); one that
 * cannot be made (no daemon, limits) is counted in KMQTT_STAT_SESSION_MSGS_REFUSED: a new
 * message then gets no PUBACK (PUBREC) from the module, a message the ended connection
 * still owed stays with the parked session in the module's memory and goes to the client
 * first when it comes back (or to the daemon with KMQTT_CMD_SESSION_ADD, below).
 *
 * The module keeps every message it handed over for a session until the daemon confirmed
 * it (KMQTT_CMD_RETAIN_STORED). When the daemon goes away first, the parked session takes
 * back every message not confirmed, in hand-over order (KMQTT_STAT_SESSION_MSGS_TAKEN_BACK),
 * and the publishers waiting for those are acknowledged: the session holds the message
 * as an online subscriber's queue would. The daemon may have committed some of them
 * before it died; it recognises them by their KMQTT_A_OWED_SEQ when they come again.
 *
 * When a persistent connection with the same client id is handed over, the module moves
 * the parked session to it (subscriptions, QoS 2 ids, messages it still holds) and sets
 * the CONNACK's session present flag; without a parked session it subscribes the new
 * connection to KMQTT_A_SUBS. A clean connection with that client id discards the parked
 * session. The daemon then sends the messages it stored with KMQTT_CMD_DELIVER; with
 * KMQTT_CONN_F_HOLD on the hand-off, messages published to the new connection meanwhile
 * wait (in its queue limit) until
 *
 * KMQTT_CMD_SESSION_RESUMED (daemon only): KMQTT_A_CONN_ID. -ENOENT if the connection is
 * gone. Held messages are also released if the daemon goes away.
 *
 * KMQTT_CMD_SESSION_DEL (daemon only): KMQTT_A_CLIENT_ID: discards a parked session
 * (expiry). -ENOENT if there is none (an open connection is not touched).
 *
 * KMQTT_CMD_SESSION_ADD (daemon only) parks a session the daemon stored, after the
 * module was (re)loaded, so that messages for it are handed over before its client comes
 * back: KMQTT_A_CLIENT_ID, KMQTT_A_SUBS, KMQTT_A_QOS2_IDS as in KMQTT_CMD_CONN_NEW,
 * KMQTT_A_STORE_ID (optional, the highest stored message id delivered). -EEXIST if a
 * connection or a parked session of that client id exists. Such a session has no ACL
 * until its client connects (the daemon's delivery is checked against the client's).
 * If it is a parked session that holds messages (the daemon was away when it was parked,
 * or died before confirming them), the module first hands them over, in order, as
 * KMQTT_CMD_SESSION_MSG; then answers -EEXIST.
 *
 * At most KMQTT_MAX_PARKED sessions are parked; beyond that a persistent connection that
 * ends is discarded like a clean one (KMQTT_STAT_SESSIONS_DISCARDED).
 *
 * When the module is unloaded, the generic netlink controller announces
 * CTRL_CMD_DELFAMILY for "kmqtt" on its "notify" multicast group; the daemon listens there
 * to learn that the module went away and CTRL_CMD_NEWFAMILY to learn that it is back.
 * Unloading the module closes every connection.
 */
#ifndef _UAPI_LINUX_KMQTT_H
#define _UAPI_LINUX_KMQTT_H

#define KMQTT_GENL_NAME		"kmqtt"
#define KMQTT_GENL_VERSION	1
#define KMQTT_ABI_VERSION	5

enum kmqtt_cmd {
	KMQTT_CMD_UNSPEC,
	KMQTT_CMD_DAEMON_REGISTER,
	KMQTT_CMD_DAEMON_UNREGISTER,
	KMQTT_CMD_GET_STATUS,
	KMQTT_CMD_CONN_NEW,
	KMQTT_CMD_CONN_GET,
	KMQTT_CMD_CONN_DEL,
	KMQTT_CMD_CONN_CLOSED,
	KMQTT_CMD_GET_ERRORS,
	KMQTT_CMD_RETAIN,
	KMQTT_CMD_RETAIN_STORED,
	KMQTT_CMD_SUBSCRIBED,
	KMQTT_CMD_DELIVER,
	KMQTT_CMD_SESSION_PARKED,
	KMQTT_CMD_SESSION_MSG,
	KMQTT_CMD_SESSION_RESUMED,
	KMQTT_CMD_SESSION_DEL,
	KMQTT_CMD_SESSION_ADD,
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
	KMQTT_A_CONN_FD,
	KMQTT_A_CONN_ID,
	KMQTT_A_CLIENT_ID,
	KMQTT_A_USERNAME,
	KMQTT_A_PROTO_LEVEL,
	KMQTT_A_KEEPALIVE,
	KMQTT_A_ACL,
	KMQTT_A_LIMITS,
	KMQTT_A_PEER,
	KMQTT_A_CONNECTED_MS,
	KMQTT_A_LAST_RX_MS,
	KMQTT_A_CONN_STATS,
	KMQTT_A_CLOSE_REASON,
	KMQTT_A_ERROR,
	KMQTT_A_TLS,
	KMQTT_A_PUNT_ID,
	KMQTT_A_TOPIC,
	KMQTT_A_QOS,
	KMQTT_A_PAYLOAD,
	KMQTT_A_WILL,
	KMQTT_A_SUBS,
	KMQTT_A_SUB,
	KMQTT_A_QOS2_IDS,
	KMQTT_A_PACKET_ID,
	KMQTT_A_STORE_ID,
	KMQTT_A_OWED_SEQ,
	KMQTT_A_OUT_IDS,
	__KMQTT_A_MAX
};

#define KMQTT_A_MAX (__KMQTT_A_MAX - 1)

/* No flags are defined yet in ABI 1; any set bit is rejected. */
enum kmqtt_register_flags {
	__KMQTT_REGISTER_F_ALL = 0
};

#define KMQTT_MAX_CLIENT_ID	256
#define KMQTT_MAX_USERNAME	256
#define KMQTT_MAX_ACL_RULES	64
/* Topic names and filters of the punt channel: the module's topic length limit. */
#define KMQTT_MAX_TOPIC		1024
/* Retained messages: see "Retained messages" above. */
#define KMQTT_PAYLOAD_CHUNK		65000
#define KMQTT_MAX_RETAIN_SIZE		(1024U * 1024)
#define KMQTT_MAX_RETAIN_PENDING	4096
#define KMQTT_MAX_RETAIN_PENDING_BYTES	(16U * 1024 * 1024)
/* QoS 2 packet identifiers awaiting PUBREL, per connection. */
#define KMQTT_MAX_QOS2_IN		1024
/* Packet ids of resends a session's daemon holds, per KMQTT_CMD_CONN_NEW. */
#define KMQTT_MAX_OUT_IDS		4096
#define KMQTT_MAX_WILL_PAYLOAD		65535
/* Persistent sessions: see "Persistent sessions" above. */
#define KMQTT_MAX_SESSION_SUBS		1024
#define KMQTT_MAX_PARKED		100000

enum kmqtt_conn_flags {
	KMQTT_CONN_F_CLEAN_SESSION = 1U << 0,
	KMQTT_CONN_F_SESSION_PRESENT = 1U << 1,	/* CONNACK session-present flag */
	KMQTT_CONN_F_HOLD = 1U << 2,	/* hold live messages until SESSION_RESUMED */
	__KMQTT_CONN_F_ALL = KMQTT_CONN_F_CLEAN_SESSION | KMQTT_CONN_F_SESSION_PRESENT |
			     KMQTT_CONN_F_HOLD
};

/* KMQTT_A_FLAGS of KMQTT_CMD_DELIVER and KMQTT_CMD_SESSION_MSG. */
enum kmqtt_msg_flags {
	KMQTT_MSG_F_RETAIN = 1U << 8,
	KMQTT_MSG_F_DUP = 1U << 9,
	KMQTT_MSG_F_PUBREL = 1U << 10,
	__KMQTT_MSG_F_ALL = KMQTT_MSG_F_RETAIN | KMQTT_MSG_F_DUP | KMQTT_MSG_F_PUBREL,
	/* KMQTT_CMD_SESSION_MSG only: handed over before, not confirmed (see there). */
	KMQTT_MSG_F_AGAIN = 1U << 11,
};

enum kmqtt_acl_access {
	KMQTT_ACL_DENY = 0,
	KMQTT_ACL_READ = 1U << 0,
	KMQTT_ACL_WRITE = 1U << 1,
	KMQTT_ACL_READWRITE = KMQTT_ACL_READ | KMQTT_ACL_WRITE,
};

enum kmqtt_acl_attr {
	KMQTT_ACL_A_UNSPEC,
	KMQTT_ACL_A_RULE,
	KMQTT_ACL_A_FILTER,
	KMQTT_ACL_A_ACCESS,
	__KMQTT_ACL_A_MAX
};

#define KMQTT_ACL_A_MAX (__KMQTT_ACL_A_MAX - 1)

enum kmqtt_limit_attr {
	KMQTT_LIM_A_UNSPEC,
	KMQTT_LIM_A_MAX_PACKET,
	KMQTT_LIM_A_TX_QUEUE,
	KMQTT_LIM_A_INFLIGHT,
	__KMQTT_LIM_A_MAX
};

#define KMQTT_LIM_A_MAX (__KMQTT_LIM_A_MAX - 1)

enum kmqtt_tls_attr {
	KMQTT_TLS_A_UNSPEC,
	KMQTT_TLS_A_VERSION,
	KMQTT_TLS_A_CIPHER,
	KMQTT_TLS_A_CERT_CN,
	KMQTT_TLS_A_CERT_SERIAL,
	KMQTT_TLS_A_CERT_ISSUER,
	__KMQTT_TLS_A_MAX
};

#define KMQTT_TLS_A_MAX (__KMQTT_TLS_A_MAX - 1)

enum kmqtt_will_attr {
	KMQTT_WILL_A_UNSPEC,
	KMQTT_WILL_A_TOPIC,
	KMQTT_WILL_A_PAYLOAD,
	KMQTT_WILL_A_QOS,
	KMQTT_WILL_A_RETAIN,
	__KMQTT_WILL_A_MAX
};

#define KMQTT_WILL_A_MAX (__KMQTT_WILL_A_MAX - 1)

enum kmqtt_sub_attr {
	KMQTT_SUB_A_UNSPEC,
	KMQTT_SUB_A_FILTER,
	KMQTT_SUB_A_QOS,
	__KMQTT_SUB_A_MAX
};

#define KMQTT_SUB_A_MAX (__KMQTT_SUB_A_MAX - 1)
#define KMQTT_MAX_TLS_VERSION	15
#define KMQTT_MAX_TLS_CIPHER	63
#define KMQTT_MAX_CERT_SERIAL	64
#define KMQTT_MAX_CERT_ISSUER	512

enum kmqtt_err_attr {
	KMQTT_ERR_A_UNSPEC,
	KMQTT_ERR_A_NAME,
	KMQTT_ERR_A_COUNT,
	KMQTT_ERR_A_PAD,
	__KMQTT_ERR_A_MAX
};

#define KMQTT_ERR_A_MAX (__KMQTT_ERR_A_MAX - 1)

enum kmqtt_close_reason {
	KMQTT_CLOSE_CLIENT_DISCONNECT,	/* DISCONNECT received */
	KMQTT_CLOSE_PEER_CLOSED,	/* TCP closed or reset without DISCONNECT */
	KMQTT_CLOSE_SOCKET_ERROR,
	KMQTT_CLOSE_KEEPALIVE,		/* nothing received for 1.5 x keepalive */
	KMQTT_CLOSE_PROTOCOL,		/* malformed packet or protocol violation */
	KMQTT_CLOSE_TAKEOVER,		/* a new connection with the same client id */
	KMQTT_CLOSE_KICKED,		/* KMQTT_CMD_CONN_DEL */
	KMQTT_CLOSE_ACL,		/* reserved: a denied PUBLISH is dropped and acked */
	KMQTT_CLOSE_UNSUPPORTED,	/* reserved: needs a feature the module lacks */
	KMQTT_CLOSE_SLOW_READER,	/* QoS 1 queue full: the client does not read */
	KMQTT_CLOSE_SHUTDOWN,		/* module unload */
	KMQTT_CLOSE_TLS_ALERT,		/* TLS alert received (close_notify or fatal) */
	KMQTT_CLOSE_TLS_ERROR,		/* undecryptable or unexpected TLS record */
	KMQTT_CLOSE_LIMIT,		/* KMQTT_MAX_QOS2_IN QoS 2 ids awaiting PUBREL */
	__KMQTT_CLOSE_MAX
};

enum kmqtt_conn_stat {
	KMQTT_CS_UNSPEC,
	KMQTT_CS_PAD,
	KMQTT_CS_MSGS_IN,
	KMQTT_CS_MSGS_OUT,
	KMQTT_CS_BYTES_IN,
	KMQTT_CS_BYTES_OUT,
	KMQTT_CS_QOS0_DROPPED,	/* queue full */
	KMQTT_CS_SUBSCRIPTIONS,
	KMQTT_CS_TX_QUEUED,	/* messages waiting to be sent now */
	KMQTT_CS_INFLIGHT,	/* QoS 1/2 messages awaiting PUBACK or PUBCOMP now */
	__KMQTT_CS_MAX
};

#define KMQTT_CS_MAX (__KMQTT_CS_MAX - 1)

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
	KMQTT_STAT_CONNS_ACCEPTED,	/* connections handed over by the daemon */
	KMQTT_STAT_CONNS_REFUSED,	/* hand-overs refused (bad socket, limits, memory) */
	KMQTT_STAT_CONNS_CLOSED,	/* connections closed, for any reason */
	KMQTT_STAT_CONNS_CURRENT,	/* gauge: connections open now */
	KMQTT_STAT_MSGS_IN,		/* PUBLISH received */
	KMQTT_STAT_MSGS_OUT,		/* PUBLISH sent to subscribers */
	KMQTT_STAT_BYTES_IN,
	KMQTT_STAT_BYTES_OUT,
	KMQTT_STAT_QOS0_DROPPED,	/* QoS 0 messages dropped: subscriber queue full */
	KMQTT_STAT_NO_MEMORY,		/* allocation failures on the data path */
	KMQTT_STAT_PROTOCOL_ERRORS,	/* closes for malformed packets (see GET_ERRORS) */
	KMQTT_STAT_KEEPALIVE_TIMEOUTS,
	KMQTT_STAT_ACL_DENIED,		/* PUBLISH or SUBSCRIBE refused by the ACL */
	KMQTT_STAT_UNSUPPORTED,		/* reserved (was: QoS 2 refused) */
	KMQTT_STAT_RETAIN_NOT_STORED,	/* retained PUBLISH forwarded live but not stored */
	KMQTT_STAT_TAKEOVERS,
	KMQTT_STAT_SLOW_READERS,	/* closes because a QoS 1 queue was full */
	KMQTT_STAT_EVENTS_LOST,		/* events not delivered to the daemon */
	KMQTT_STAT_SUBSCRIPTIONS,	/* gauge: subscriptions in the topic trie */
	KMQTT_STAT_TLS_CONNS,		/* connections handed over with kernel TLS */
	KMQTT_STAT_TLS_ALERTS,		/* TLS alerts received: the connection closes */
	KMQTT_STAT_TLS_UNEXPECTED_RECORDS,	/* non-data TLS records (KeyUpdate, ...) */
	KMQTT_STAT_TLS_DECRYPT_ERRORS,	/* records that failed to decrypt or are not TLS */
	KMQTT_STAT_RETAIN_PUNTED,	/* retained PUBLISH handed to the daemon */
	KMQTT_STAT_RETAIN_STORED,	/* ... and confirmed by it (RETAIN_STORED) */
	KMQTT_STAT_RETAIN_PENDING,	/* gauge: handed over, not confirmed yet */
	KMQTT_STAT_RETAIN_DELIVERED,	/* retained messages queued by KMQTT_CMD_DELIVER */
	KMQTT_STAT_DELIVER_REFUSED,	/* KMQTT_CMD_DELIVER refused (see its errors) */
	KMQTT_STAT_WILLS_PUBLISHED,	/* wills published on an abnormal close */
	KMQTT_STAT_WILLS_DENIED,	/* wills not published: the ACL denies the topic */
	KMQTT_STAT_QOS2_IN,		/* QoS 2 PUBLISH received and forwarded */
	KMQTT_STAT_QOS2_DUPLICATES,	/* ... received again before PUBREL: not forwarded */
	KMQTT_STAT_QOS2_LIMIT,		/* closes: too many QoS 2 ids awaiting PUBREL */
	KMQTT_STAT_SESSIONS_PARKED,	/* gauge: persistent sessions without a connection */
	KMQTT_STAT_SESSIONS_RESUMED,	/* parked sessions taken up by a new connection */
	KMQTT_STAT_SESSIONS_DISCARDED,	/* parked sessions ended: clean connect, expiry, limit */
	KMQTT_STAT_SESSION_MSGS_PUNTED,	/* messages handed to the daemon for a session */
	KMQTT_STAT_SESSION_MSGS_STORED,	/* ... and confirmed by it */
	KMQTT_STAT_SESSION_MSGS_REFUSED,	/* ... that could not be handed over */
	KMQTT_STAT_SESSION_QOS0_DROPPED,	/* QoS 0 messages not kept for a parked session */
	KMQTT_STAT_SESSION_MSGS_TAKEN_BACK,	/* hand-overs not confirmed: kept again */
	__KMQTT_STAT_MAX
};

#define KMQTT_STAT_MAX (__KMQTT_STAT_MAX - 1)

#endif /* _UAPI_LINUX_KMQTT_H */

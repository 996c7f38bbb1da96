// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The daemon's counters and its rate-limited log lines: a flood of refused or broken
 * connections must be counted in full but logged only a few lines per window, with the
 * number of lines left out.
 */
#include <stdarg.h>
#include <stdio.h>
#include "kmqttd.h"

static const char *const dstat_names[__DS_MAX] = {
	[DS_ACCEPTED] = "accepted",
	[DS_REFUSED_MAX_CONNECTIONS] = "refused_max_connections",
	[DS_REFUSED_PER_IP] = "refused_max_connections_per_ip",
	[DS_REFUSED_RATE] = "refused_connect_rate",
	[DS_REFUSED_PEER_TABLE] = "refused_peer_table_full",
	[DS_ACCEPT_ERRORS] = "accept_errors",
	[DS_CONNECT_TIMEOUTS] = "connect_timeouts",
	[DS_CONNECT_TOO_LARGE] = "connect_too_large",
	[DS_CONNECT_CLOSED] = "connect_closed_early",
	[DS_CONNECT_INVALID] = "connect_invalid",
	[DS_UNSUPPORTED_VERSION] = "unsupported_protocol_version",
	[DS_CLIENT_ID_REJECTED] = "client_id_rejected",
	[DS_CLIENT_IDS_ASSIGNED] = "client_ids_assigned",
	[DS_KEEPALIVE_REFUSED] = "keepalive_refused",
	[DS_AUTH_FAILED] = "auth_failed",
	[DS_ANONYMOUS_REFUSED] = "anonymous_refused",
	[DS_ACL_REFUSED] = "acl_refused",
	[DS_ACL_RULES_DROPPED] = "acl_rules_dropped",
	[DS_WILL_REFUSED] = "will_refused",
	[DS_MODULE_UNAVAILABLE] = "module_unavailable",
	[DS_HANDOFF_REFUSED] = "handoff_refused",
	[DS_HANDOFF_UNKNOWN] = "handoff_unknown",
	[DS_HANDED_OFF] = "handed_off",
	[DS_CONNS_CLOSED] = "conns_closed",
	[DS_EVENTS_LOST] = "events_lost",
	[DS_RESYNCS] = "resyncs",
	[DS_TLS_HANDSHAKES] = "tls_handshakes",
	[DS_TLS_HANDSHAKE_FAILED] = "tls_handshake_failed",
	[DS_TLS_REVOKED] = "tls_revoked",
	[DS_TLS_NOT_OFFLOADED] = "tls_not_offloaded",
	[DS_REVOKED_DISCONNECTS] = "revoked_disconnects",
	[DS_RETAINED_SET] = "retained_set",
	[DS_RETAINED_REPLACED] = "retained_replaced",
	[DS_RETAINED_DELETED] = "retained_deleted",
	[DS_RETAINED_CONFIRMED] = "retained_confirmed",
	[DS_RETAINED_STORE_ERRORS] = "retained_store_errors",
	[DS_RETAINED_SENT] = "retained_sent",
	[DS_SESSIONS_PARKED] = "sessions_parked",
	[DS_SESSIONS_PRESENT] = "sessions_present",
	[DS_SESSIONS_CLEANED] = "sessions_cleaned",
	[DS_SESSIONS_EXPIRED] = "sessions_expired",
	[DS_SESSIONS_RESTORED] = "sessions_restored",
	[DS_SESSION_MSGS_QUEUED] = "session_msgs_queued",
	[DS_SESSION_MSGS_CONFIRMED] = "session_msgs_confirmed",
	[DS_SESSION_MSGS_DROPPED] = "session_msgs_dropped",
	[DS_SESSION_MSGS_DELIVERED] = "session_msgs_delivered",
	[DS_SESSION_OWED_KNOWN] = "session_owed_known",
	[DS_SESSION_DELIVER_REFUSED] = "session_deliver_refused",
	[DS_SESSION_STORE_ERRORS] = "session_store_errors",
};

const char *dstat_name(enum dstat s)
{
	return s < __DS_MAX ? dstat_names[s] : NULL;
}

void log_limited(struct kmqttd *d, enum rl_kind k, enum kmq_log_level lvl, const char *fmt, ...)
{
	struct ratelog *rl = &d->rl[k];
	uint64_t now = kmqttd_now_ms();
	char buf[768];
	va_list ap;

	if (now - rl->window_start >= KMQTTD_LOG_WINDOW_MS) {
		if (rl->suppressed)
			kmq_log(lvl, "(%lu similar messages suppressed in %d s)", rl->suppressed,
				KMQTTD_LOG_WINDOW_MS / 1000);
		rl->window_start = now;
		rl->n = 0;
		rl->suppressed = 0;
	}
	if (rl->n >= KMQTTD_LOG_BURST) {
		rl->suppressed++;
		return;
	}
	rl->n++;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	kmq_log(lvl, "%s", buf);
}

const char *printable(const char *s, size_t len, char *buf, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < len && o + 5 < cap; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 15];
		} else {
			buf[o++] = (char)c;
		}
	}
	buf[o] = 0;
	return buf;
}

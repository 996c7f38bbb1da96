#!/usr/bin/env bash
# Regenerates the malformed-packet corpus for kmqtt-mqtt-raw (tests/tools/mqtt-raw.c) in
# this directory. Each file is named after the MQTT 3.1.1 rule it breaks; the suffix says
# what kmqtt-mqtt-raw does with it and what it expects (see README.md):
#   NAME.bin        sent after a valid CONNECT/CONNACK: the broker must close at once
#   NAME.eof.bin    same, then we half-close: the broker must close at once
#   NAME.stall.bin  same, then silence: the keepalive timer must close it
#   NAME.first.bin  sent instead of the CONNECT: the broker must close at once
set -eu
cd "$(dirname "$0")"

hex() { printf '%s' "$1" | tr -d ' \n'; }
# s TEXT: a UTF-8 string field (2-byte length + bytes), as hex
s() { printf '%04x' ${#1}; printf '%s' "$1" | xxd -p | tr -d '\n'; }
# sx HEX: a string field whose bytes are given as hex
sx() { local h; h=$(hex "$1"); printf '%04x%s' $((${#h} / 2)) "$h"; }
# raw TEXT: bytes without a length, as hex
raw() { printf '%s' "$1" | xxd -p | tr -d '\n'; }
# varint N: the remaining-length encoding of N
varint() {
	local n=$1 b out=
	while :; do
		b=$((n & 127)); n=$((n >> 7))
		[ $n -gt 0 ] && b=$((b | 128))
		out=$out$(printf '%02x' $b)
		[ $n -gt 0 ] || break
	done
	printf '%s' "$out"
}
# pkt FIRST-BYTE-HEX BODY-HEX: a packet with a correct remaining length
pkt() { local b; b=$(hex "$2"); printf '%s%s%s' "$1" "$(varint $((${#b} / 2)))" "$b"; }
# put FILE HEX...: write the bytes
put() { local f=$1; shift; printf '%s' "$*" | tr -d ' ' | xxd -r -p >"$f"; }

rm -f -- *.bin

# --- fixed header: reserved flags and types [MQTT-2.2.2-2], remaining length [MQTT-2.2.3]
put MQTT-2.2.2-2_pingreq-flags-set.bin c100
put MQTT-2.2.2-2_puback-flags-set.bin 41020001
put MQTT-3.6.1-1_pubrel-flags-0000.bin 60020001
put MQTT-3.8.1-1_subscribe-flags-0000.bin "$(pkt 80 "0001 $(s a/b) 00")"
put MQTT-3.10.1-1_unsubscribe-flags-0000.bin "$(pkt a0 "0001 $(s a/b)")"
put MQTT-2.2.1_packet-type-0-reserved.bin 0000
put MQTT-2.2.1_packet-type-15-reserved.bin f000
put MQTT-2.2.3_remaining-length-5-bytes.bin "30 ffffffff01 $(s a) $(raw payload)"
put MQTT-3.12.1_pingreq-remaining-length-1.bin c00100

# --- packet size: the broker's max_packet_size (256 KiB in the test configs) and the
# protocol's own maximum; the body is never sent in full, the header alone must do
put max-packet-size_publish-over-256KiB.bin "30 $(varint 262144) $(s big) $(printf 'x%.0s' {1..1000} | xxd -p | tr -d '\n')"
put max-packet-size_publish-remaining-length-268435455.bin "30 ffffff7f $(s big) $(raw xxxxxxxx)"

# --- PUBLISH
put MQTT-3.3.2-2_publish-topic-plus-wildcard.bin "$(pkt 30 "$(s a/+/b) $(raw payload)")"
put MQTT-3.3.2-2_publish-topic-hash-wildcard.bin "$(pkt 30 "$(s a/#) $(raw payload)")"
put MQTT-1.5.3-2_publish-topic-nul.bin "$(pkt 30 "$(sx 610062) $(raw payload)")"
put MQTT-1.5.3-1_publish-topic-invalid-utf8.bin "$(pkt 30 "$(sx 61ff62) $(raw payload)")"
put MQTT-1.5.3-1_publish-topic-overlong-utf8.bin "$(pkt 30 "$(sx 61c0af) $(raw payload)")"
put MQTT-1.5.3-1_publish-topic-utf16-surrogate.bin "$(pkt 30 "$(sx 61eda080) $(raw payload)")"
put MQTT-4.7.3-1_publish-topic-empty.bin "$(pkt 30 "0000 $(raw payload)")"
put MQTT-3.3.1-4_publish-qos3.bin "$(pkt 36 "$(s a) 0001 $(raw payload)")"
put MQTT-3.3.1-2_publish-qos0-dup.bin "$(pkt 38 "$(s a) $(raw payload)")"
put MQTT-2.3.1-1_publish-qos1-packet-id-0.bin "$(pkt 32 "$(s a) 0000 $(raw payload)")"
put MQTT-1.5.3_publish-topic-longer-than-packet.bin 30050010616263
put MQTT-3.3.2-1_publish-no-topic.bin 300100

# --- SUBSCRIBE / UNSUBSCRIBE
put MQTT-2.3.1-1_subscribe-packet-id-0.bin "$(pkt 82 "0000 $(s a) 00")"
put MQTT-2.3.1-1_unsubscribe-packet-id-0.bin "$(pkt a2 "0000 $(s a)")"
put MQTT-3.8.3-3_subscribe-no-filters.bin 82020001
put MQTT-3.10.3-2_unsubscribe-no-filters.bin a2020001
put MQTT-3.8.3-4_subscribe-reserved-option-bits.bin "$(pkt 82 "0001 $(s a) 04")"
put MQTT-3.8.3-4_subscribe-qos3.bin "$(pkt 82 "0001 $(s a) 03")"
put MQTT-3.8.3-1_subscribe-missing-qos-byte.bin "$(pkt 82 "0001 $(s a)")"
put MQTT-4.7.1-2_subscribe-hash-not-last.bin "$(pkt 82 "0001 $(s a/#/b) 00")"
put MQTT-4.7.1-2_subscribe-hash-inside-level.bin "$(pkt 82 "0001 $(s a/b#) 00")"
put MQTT-4.7.1-3_subscribe-plus-inside-level.bin "$(pkt 82 "0001 $(s a/b+) 00")"
put MQTT-4.7.3-1_subscribe-filter-empty.bin "$(pkt 82 "0001 0000 00")"
put MQTT-1.5.3-1_subscribe-filter-invalid-utf8.bin "$(pkt 82 "0001 $(sx 61fe) 00")"
put MQTT-1.5.3-2_subscribe-filter-nul.bin "$(pkt 82 "0001 $(sx 610062) 00")"
put MQTT-1.5.3_subscribe-filter-longer-than-packet.bin 8206000100106162
put MQTT-1.5.3-1_unsubscribe-filter-invalid-utf8.bin "$(pkt a2 "0001 $(sx 61c0af)")"

# --- packets a client must not send [MQTT-3.1.0-2], [MQTT-4.8.0-1]
put MQTT-3.1.0-2_second-connect.bin "$(pkt 10 "$(s MQTT) 04 02 003c $(s second-connect)")"
put MQTT-4.8.0-1_connack-from-client.bin 20020000
put MQTT-4.8.0-1_suback-from-client.bin 9003000100
put MQTT-4.8.0-1_unsuback-from-client.bin b0020001
put MQTT-4.8.0-1_pingresp-from-client.bin d000

# --- not MQTT at all
put garbage_http-request.bin "$(raw $'GET / HTTP/1.1\r\nHost: broker\r\n\r\n')"
put garbage_tls-client-hello.bin "16030100 2f 0100002b 0303 $(printf '%064x' 0 | tr 0 a) 00 0002 c02f 0100"

# --- truncated packets, then our half-close
put truncated_fixed-header-only.eof.bin 30
put truncated_remaining-length.eof.bin 30ff
put truncated_publish-body.eof.bin "300a $(s a/b) 6162"
put truncated_subscribe-filter.eof.bin "8208 0001 0003 61"

# --- a packet that never completes: only the keepalive timer ends it [MQTT-3.1.2-24]
put MQTT-3.1.2-24_publish-body-never-sent.stall.bin "3064 $(s a/b) $(raw abc)"
put MQTT-3.1.2-24_remaining-length-never-finished.stall.bin 308080

# --- instead of a valid CONNECT (the daemon's side of the broker)
put MQTT-3.1.0-1_publish-before-connect.first.bin "$(pkt 30 "$(s a) $(raw payload)")"
put MQTT-3.1.0-1_subscribe-before-connect.first.bin "$(pkt 82 "0001 $(s a) 00")"
put MQTT-3.1.0-1_pingreq-before-connect.first.bin c000
put MQTT-2.2.2-2_connect-flags-set.first.bin "$(pkt 11 "$(s MQTT) 04 02 003c $(s flags)")"
put MQTT-3.1.2-3_connect-reserved-flag.first.bin "$(pkt 10 "$(s MQTT) 04 03 003c $(s reserved)")"
put MQTT-3.1.2-2_connect-protocol-level-6.first.bin "$(pkt 10 "$(s MQTT) 06 02 003c $(s level6)")"
put MQTT-3.1.2-13_connect-will-qos-without-will.first.bin "$(pkt 10 "$(s MQTT) 04 0a 003c $(s willqos)")"
put MQTT-3.1.2-14_connect-will-qos3.first.bin "$(pkt 10 "$(s MQTT) 04 1e 003c $(s willqos3) $(s w) $(s x)")"
put MQTT-3.1.2-22_connect-password-without-username.first.bin "$(pkt 10 "$(s MQTT) 04 42 003c $(s nouser) $(s secret)")"
put MQTT-1.5.3-1_connect-client-id-invalid-utf8.first.bin "$(pkt 10 "$(s MQTT) 04 02 003c $(sx 61ff)")"
put MQTT-1.5.3-2_connect-client-id-nul.first.bin "$(pkt 10 "$(s MQTT) 04 02 003c $(sx 610062)")"
put max-packet-size_connect-remaining-length-268435455.first.bin "10 ffffff7f $(s MQTT) 04 02 003c"
put garbage_http-request-instead-of-connect.first.bin "$(raw $'GET / HTTP/1.1\r\nHost: broker\r\n\r\n')"

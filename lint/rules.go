// Package lint checks decoded WebSocket traffic against the rules of RFC
// 6455, RFC 7692 and the opening handshake: each anomaly the decoder
// reports (wsparse.Anomalies), a few connection-level checks and the
// health package's verdicts on heartbeats (Linter.Health) become
// findings of a rule with a stable ID, a severity and a location.
package lint

import (
	"fmt"
	"strings"

	"github.com/wsdump/wsdump/wsparse"
)

// Severity ranks findings. The order matters: --fail-on picks a floor.
type Severity int

const (
	Info Severity = iota
	Warning
	Error
	// None is above every severity: --fail-on none never fails.
	None
)

var severityNames = [...]string{"info", "warning", "error", "none"}

func (s Severity) String() string { return severityNames[s] }

// ParseSeverity reads error, warning, info or none.
func ParseSeverity(s string) (Severity, error) {
	for i, n := range severityNames {
		if strings.EqualFold(s, n) {
			return Severity(i), nil
		}
	}
	return 0, fmt.Errorf("severity must be error, warning, info or none, not %q", s)
}

// Rule is one check. IDs never change meaning; new rules get new IDs.
type Rule struct {
	ID       string
	Name     string
	Severity Severity
	On       string // what it is found on: frame, message, handshake, connection
	Ref      string // where the rule comes from
	Summary  string
	Anomaly  string // the wsparse anomaly name it reports; "" for connection checks
}

// Title is "WS005 client-frame-unmasked".
func (r *Rule) Title() string { return r.ID + " " + r.Name }

// Severities, chosen so that the default --fail-on error fails a build
// only on what an endpoint did wrong:
//   - error: a peer broke a MUST of RFC 6455 / RFC 7692 (framing, masking,
//     close payloads, UTF-8, the handshake's headers);
//   - warning: legal but suspect, or a limit a hostile peer may be aiming
//     at (refused upgrades, connections ended without a Close, HTTP that
//     does not parse, decompression bombs);
//   - info: what the capture lost or wsdump cut (gaps, truncation at
//     --max-payload/--max-message, the window of a connection caught
//     mid-stream), which says nothing about the endpoints.
var Rules = []Rule{
	{"WS001", "reserved-opcode", Error, "frame", "RFC 6455 §5.2", "opcode 0x3-0x7 or 0xB-0xF", "reserved_opcode"},
	{"WS002", "rsv-without-extension", Error, "frame", "RFC 6455 §5.2", "RSV bit set that no negotiated extension defines", "rsv_without_extension"},
	{"WS003", "control-frame-too-long", Error, "frame", "RFC 6455 §5.5", "control frame payload over 125 bytes", "control_too_long"},
	{"WS004", "control-frame-fragmented", Error, "frame", "RFC 6455 §5.5", "control frame without FIN", "control_fragmented"},
	{"WS005", "client-frame-unmasked", Error, "frame", "RFC 6455 §5.1", "client-to-server frame not masked", "client_frame_unmasked"},
	{"WS006", "server-frame-masked", Error, "frame", "RFC 6455 §5.1", "server-to-client frame masked", "server_frame_masked"},
	{"WS007", "non-minimal-length", Error, "frame", "RFC 6455 §5.2", "payload length not in its shortest encoding", "non_minimal_length"},
	{"WS008", "length-msb-set", Error, "frame", "RFC 6455 §5.2", "64-bit payload length with the top bit set", "length_msb_set"},
	{"WS009", "orphan-continuation", Error, "frame", "RFC 6455 §5.4", "continuation frame with no message to continue", "orphan_continuation"},
	{"WS010", "interrupted-message", Error, "frame", "RFC 6455 §5.4", "new data frame while a fragmented message is open", "interrupted_message"},
	{"WS011", "rsv1-on-continuation", Error, "frame", "RFC 7692 §6.1", "RSV1 on a continuation frame", "rsv1_on_continuation"},
	{"WS012", "rsv1-on-control", Error, "frame", "RFC 7692 §6.1", "RSV1 on a control frame", "rsv1_on_control"},
	{"WS013", "close-code-invalid", Error, "frame", "RFC 6455 §7.4", "close code that must not be sent", "close_code_invalid"},
	{"WS014", "close-payload-one-byte", Error, "frame", "RFC 6455 §5.5.1", "close payload of one byte", "close_payload_one_byte"},
	{"WS015", "close-reason-invalid-utf8", Error, "frame", "RFC 6455 §5.5.1", "close reason is not UTF-8", "close_reason_invalid_utf8"},
	{"WS016", "data-after-close", Error, "frame", "RFC 6455 §5.5.1", "frame sent after this side's Close", "data_after_close"},

	{"WS101", "text-invalid-utf8", Error, "message", "RFC 6455 §8.1", "text message that is not UTF-8", "invalid_utf8"},
	{"WS102", "inflate-failed", Error, "message", "RFC 7692 §7.2.2", "compressed message that does not inflate", "inflate_failed"},
	{"WS103", "inflate-limit", Warning, "message", "--max-message", "inflated size reached the message limit (decompression bomb?)", "inflate_limit"},
	{"WS104", "inflate-ratio", Warning, "message", "--max-inflate-ratio", "inflation stopped at the bound on inflated bytes per byte of the connection (decompression bomb?)", "inflate_ratio"},

	{"WS201", "upgrade-refused", Warning, "handshake", "RFC 6455 §4.2.2", "the server answered the upgrade with a status other than 101", "upgrade_refused"},
	{"WS202", "accept-mismatch", Error, "handshake", "RFC 6455 §4.2.2", "Sec-WebSocket-Accept does not match the key", "accept_mismatch"},
	{"WS203", "accept-missing", Error, "handshake", "RFC 6455 §4.2.2", "101 without Sec-WebSocket-Accept", "accept_missing"},
	{"WS204", "key-missing", Error, "handshake", "RFC 6455 §4.1", "upgrade request without Sec-WebSocket-Key", "key_missing"},
	{"WS205", "key-invalid", Error, "handshake", "RFC 6455 §4.1", "Sec-WebSocket-Key is not 16 bytes in base64", "key_invalid"},
	{"WS206", "version-not-13", Error, "handshake", "RFC 6455 §4.1", "Sec-WebSocket-Version is not 13", "version_not_13"},
	{"WS207", "method-not-get", Error, "handshake", "RFC 6455 §4.1", "upgrade request method is not GET", "method_not_get"},
	{"WS208", "connection-not-upgrade", Error, "handshake", "RFC 6455 §4.1, §4.2.2", "Connection header lacks Upgrade", "connection_not_upgrade"},
	{"WS209", "subprotocol-not-offered", Error, "handshake", "RFC 6455 §4.1", "server chose a subprotocol the client did not offer", "subprotocol_not_offered"},
	{"WS210", "extension-not-offered", Error, "handshake", "RFC 6455 §9.1", "server accepted an extension the client did not offer", "extension_not_offered"},
	{"WS211", "http-malformed", Warning, "handshake", "RFC 9112", "HTTP message that could not be parsed", "http_malformed"},
	{"WS212", "http-header-too-long", Warning, "handshake", "--max-http-header", "HTTP head over the limit: its fields past the limit are unknown (what follows is still decoded)", "http_header_too_long"},
	{"WS213", "unexpected-response", Warning, "handshake", "RFC 9112", "HTTP response with no request pending", "unexpected_response"},
	{"WS214", "pending-limit", Warning, "handshake", "--max-pending", "client sent more than the limit before the upgrade was answered", "pending_limit"},
	{"WS215", "deflate-params-invalid", Error, "handshake", "RFC 7692 §7", "permessage-deflate parameters that are unknown, repeated, out of range (window bits 8-15) or not allowed by the offer", "deflate_params_invalid"},
	{"WS216", "http-nonconforming", Warning, "handshake", "RFC 9112 §3, §5", "HTTP head that breaks RFC 9112 syntax, read as a lenient server would (tabs or extra spaces in the request line, a space in the target, a field line without a colon)", "http_nonconforming"},
	{"WS217", "upgrade-not-requested", Warning, "handshake", "RFC 9110 §7.8", "the server switched to websocket (101) on a request that did not ask for it (no Upgrade: websocket): believed, what follows decoded as frames", "upgrade_not_requested"},
	{"WS218", "upgrade-request-body", Warning, "handshake", "RFC 9112 §6", "the upgrade request has a body (Content-Length, chunked): passed over as its body, as node, nginx and tshark do (counted in skipped_bytes); a Go server (gorilla, coder) reads it as frames", "upgrade_request_body"},
	{"WS219", "upgrade-not-websocket", Error, "handshake", "RFC 6455 §4.1, §4.2.2", "101 whose Upgrade field names another protocol than websocket, or none: a client fails the connection (what follows is searched for frames)", "upgrade_not_websocket"},

	{"WS301", "close-unanswered", Warning, "connection", "RFC 6455 §5.5.1", "one side sent Close, the other never answered", ""},
	{"WS302", "fin-without-close", Warning, "connection", "RFC 6455 §7.1.1", "TCP FIN without a closing handshake", ""},
	{"WS303", "rst-without-close", Warning, "connection", "RFC 6455 §7.1.1", "TCP RST without a closing handshake", ""},
	{"WS304", "open-at-end", Info, "connection", "capture", "connection still open when the capture ended", ""},
	{"WS305", "no-handshake", Info, "connection", "capture", "no handshake in the capture: recognised by its framing", ""},
	{"WS306", "capture-lost-bytes", Info, "connection", "capture", "the capture lost bytes of this connection", ""},
	{"WS307", "retransmission-conflict", Warning, "connection", "RFC 9293 §3.10.7.4", "a retransmitted segment carried other bytes than the first copy (the first was decoded)", "retransmission_conflict"},
	{"WS308", "connection-resumed", Info, "connection", "--max-connections, 65 536 fallback sessions", "the connection was ended early to stay under the connection limit and went on (or a SockJS or Engine.IO session, at the 65 536 sessions held at once): decoded afresh from there", "connection_resumed"},
	{"WS309", "tls-not-decrypted", Info, "connection", "--keylog", "a TLS connection that was not decrypted (no key log, no key for its client random, a wrong key, a suite not supported): a WebSocket in it is not checked", ""},
	{"WS310", "tcp-data-discarded", Warning, "connection", "RFC 9293 §3.10.7.4, §3.5.3", "a side sent bytes past its FIN, or on a RST, which the receiver drops (not decoded)", "tcp_data_discarded"},
	{"WS311", "late-segment", Warning, "connection", "RFC 9293 §3.10.7.4", "bytes of a hole came after wsdump passed over it (2 s after it when the receiver acknowledged past it or said nothing, 120 s of capture time waiting for its retransmission, 10 s live): a receiver reads them in order, wsdump did not decode them (counted as skipped, not lost); a sender may delay a segment so", "late_segment"},
	{"WS312", "seq-space-mixed", Warning, "connection", "RFC 9293 §3.4, RFC 7323 §2.3", "segments of another sequence space came on the connection's 4-tuple (another connection's, in the same tenant or told apart only by MPLS labels, outer addresses or the capture interface): not decoded (counted as skipped), the jump to them not counted as lost", "seq_space_mixed"},

	{"WS313", "seq-space-jump", Info, "connection", "RFC 9293 §3.4, RFC 7323 §2.3", "a side's sequence numbers jumped past a largest TCP window while its old space stopped and its peer acknowledged the new one: a capture gap of more than 1 GiB (rotated files missing), the jump counted as lost and the side decoded after it", "seq_space_jump"},
	{"WS314", "tls-decryption-stopped", Info, "connection", "--keylog", "a wss connection whose decryption stopped partway (a renegotiation to keys the key log lacks, a wrong key, bytes lost that the record layer cannot resync past): the rest of the conversation is hidden and not checked", ""},
	{"WS315", "tcp-urgent-data", Warning, "connection", "RFC 9293 §3.8.5, RFC 6093", "a side sent segments with the TCP URG flag: wsdump (as tshark) decodes the urgent byte in the stream, a receiver without SO_OOBINLINE (node and Go servers on Linux or Windows) takes it out of the stream, so the server may frame what follows otherwise than shown (a byte hidden from wsdump's view); the detail counts the segments", ""},

	{"WS401", "payload-incomplete", Info, "frame", "capture", "the capture lost or ended inside this frame's payload", "payload_incomplete"},
	{"WS402", "payload-truncated", Info, "frame", "--max-payload", "payload over the limit: only its head is kept", "payload_truncated"},
	{"WS403", "message-incomplete", Info, "message", "capture", "fragmented message never finished", "message_incomplete"},
	{"WS404", "message-truncated", Info, "message", "--max-message", "message over the limit: only its head is kept", "message_truncated"},
	{"WS405", "inflate-context-unknown", Info, "message", "capture", "compressed message refers to a window the capture does not hold", "inflate_context_unknown"},
	{"WS406", "request-incomplete", Info, "handshake", "capture", "the upgrade request was lost; the 101 was seen", "request_incomplete"},
	{"WS407", "capture-truncated", Info, "message", "capture", "the capture lost bytes of this message: only those before the loss are kept", "capture_truncated"},
	{"WS408", "answer-before-request", Info, "handshake", "capture", "the capture has the 101 before its request (a tap, packet broker or capture queues that timestamp the two directions apart): wsdump read the request first", "answer_before_request"},

	{"WS501", "h2-connect-without-setting", Error, "handshake", "RFC 8441 §3, §4", "extended CONNECT before the server sent SETTINGS_ENABLE_CONNECT_PROTOCOL=1", "h2_connect_without_setting"},
	{"WS502", "h2-protocol-not-connect", Error, "handshake", "RFC 8441 §4", ":protocol on a request whose method is not CONNECT", "h2_protocol_not_connect"},
	{"WS503", "h2-pseudo-header-missing", Error, "handshake", "RFC 8441 §4", "extended CONNECT without :scheme or :path", "h2_pseudo_header_missing"},
	{"WS504", "h2-forbidden-header", Error, "handshake", "RFC 8441 §5, RFC 9113 §8.2.2", "Sec-WebSocket-Key, Sec-WebSocket-Accept, Upgrade or Connection over HTTP/2", "h2_forbidden_header"},
	{"WS505", "h2-data-after-refusal", Warning, "connection", "RFC 8441 §5", "DATA on a stream whose extended CONNECT was refused (not 2xx): not decoded as WebSocket", "h2_data_after_refusal"},
	{"WS506", "h2-stream-reset", Warning, "connection", "RFC 9113 §6.4", "the WebSocket's stream was ended by RST_STREAM (its error code in the detail)", "h2_stream_reset"},
	{"WS507", "h2-malformed", Warning, "connection", "RFC 9113, RFC 7541", "HTTP/2 framing or HPACK wsdump could not follow (or bytes lost): the rest of that side is not decoded", "h2_malformed"},
	{"WS508", "h2-streams-over-limit", Info, "connection", "wsdump (1 000 streams followed at once)", "streams opened while 1 000 were open on the HTTP/2 connection: not followed, their DATA counted as skipped (a WebSocket among them is not shown)", "h2_streams_over_limit"},
	{"WS509", "h2-tls-renegotiation", Error, "connection", "RFC 9113 §9.2.1", "the TLS 1.2 session under the HTTP/2 connection renegotiated after the connection preface, which HTTP/2 forbids (a connection error of type PROTOCOL_ERROR): an endpoint that goes on is misconfigured; on each WebSocket stream of the connection", ""},

	{"WS601", "fallback-framing", Warning, "message", "SockJS 0.3 \"Framing\", Engine.IO protocol, RFC 9112 §7.1", "a SockJS or Engine.IO HTTP fallback body, chunk or frame that breaks its framing: its bytes were not decoded", "fallback_framing"},
	{"WS602", "fallback-session-reused", Warning, "message", "SockJS 0.3 \"Session URLs\", Engine.IO protocol", "a SockJS session id or Engine.IO sid opened twice", "fallback_session_reused"},
	{"WS603", "fallback-poll-timeout", Warning, "connection", "Engine.IO protocol \"Heartbeat\"", "an Engine.IO long poll left unanswered longer than pingInterval + pingTimeout: the server should have pinged", "fallback_poll_timeout"},

	{"WS701", "stomp-heartbeat-missed", Warning, "connection", "STOMP 1.2 \"Heart-beating\"", "a negotiated heart-beat direction went quiet longer than 1.5 intervals (no EOL nor frame): its missed beats, the longest gap, and whether it was still quiet at the end (open at capture end: the peer stopped beating, the connection left open)", ""},
	{"WS702", "stomp-heartbeat-never-sent", Warning, "connection", "STOMP 1.2 \"Heart-beating\"", "a heart-beat direction negotiated in CONNECTED that sent no beat nor frame for 1.5 intervals from then on", ""},
	{"WS703", "ping-unanswered", Warning, "connection", "RFC 6455 §5.5.2, §5.5.3", "the last pings of a side (two or more in a row, each sent long enough before the end to be answered) got no Pong: the peer stopped answering, or never did", ""},
	{"WS704", "engineio-heartbeat-missed", Warning, "connection", "Engine.IO protocol \"Heartbeat\"", "on a WebSocket, Engine.IO pings (or the pongs that answer them) went missing for longer than 1.5 pingIntervals (the detail says when a gap passed pingInterval + pingTimeout, where the peer gives up)", ""},

	{"WS705", "heartbeat-timers-doubled", Warning, "connection", "application", "a heartbeat sent by two timers or more of one period on one connection (beats in pairs, at a steady offset): the wire does not say whose; a timer not cleared when the client reconnected (setInterval started again in the connect callback) gives it, and so do two senders sharing the connection (tabs of one SharedWorker socket); each timer is judged on its own", ""},
	{"WS706", "heartbeat-missed", Warning, "connection", "application", "a heartbeat whose interval was declared with --heartbeat-interval (WebSocket pings, unsolicited pongs, --heartbeat-text's texts, and an application heartbeat found by itself, such as a STOMP SEND to ping, whose own period is the declared one within a twentieth) went quiet longer than the interval × --tolerance: its missed beats and the longest gap (without the flag the interval is inferred and not linted)", ""},

	{"WS707", "reconnect-storm", Warning, "connection", "--storm-attempts, --storm-window", "a client's reconnect group (client IP, Host, base URL: wsdump conns) that health marks as a storm: --storm-attempts attempts of its retry loop (retries and the attempts they retried) started within --storm-window (default 5 in 10s)", ""},
	{"WS708", "reconnect-not-recovered", Warning, "connection", "application", "a client's reconnect group whose attempts after its last WebSocket (or all of them, 2 or more, when none worked) got no WebSocket up to the capture's end; an attempt got a WebSocket when it was upgraded (101, 2xx over HTTP/2), whatever it carried and however it ended, and a group with a WebSocket open at the capture's end has one; groups of bare TCP connects with no HTTP request are WS709's; attempts in flight at the capture's end (unanswered, their connection not closed by a FIN or RST, started (a connect: its last SYN sent) at most 10s before it, no attempt after) are not counted", ""},
	{"WS709", "reconnect-never-connected", Warning, "connection", "application", "a client's TCP connects to one server, 2 or more, none accepted up to the capture's end (refused: SYN answered by RST, or never answered; or accepted and closed by the server, its FIN or RST, before any byte) and none reaching HTTP: a client whose server was down or not listening from the start; nothing on the wire says it was a WebSocket client, so it is a warning, as WS708, not an error", ""},

	{"WS999", "unknown-anomaly", Warning, "any", "wsdump", "an anomaly this version of lint has no rule for", ""},
}

var (
	byAnomaly = map[string]*Rule{}
	byName    = map[string]*Rule{}
)

func init() {
	for i := range Rules {
		r := &Rules[i]
		byName[r.Name] = r
		if r.Anomaly != "" {
			byAnomaly[r.Anomaly] = r
		}
	}
}

// RuleForAnomaly returns the rule reporting a wsparse anomaly name, or the
// unknown-anomaly rule.
func RuleForAnomaly(name string) *Rule {
	if r := byAnomaly[name]; r != nil {
		return r
	}
	return byName["unknown-anomaly"]
}

func rule(name string) *Rule { return byName[name] }

// AnomalyNames lists every anomaly name the decoder defines.
func AnomalyNames() []string {
	var names []string
	for i := 0; i < 64; i++ {
		if n := wsparse.AnomalyName(1 << i); n != "unknown" {
			names = append(names, n)
		}
	}
	return names
}

package wsparse

import "strings"

// Anomalies is a set of broken rules and decoding troubles. Each bit has a
// stable snake_case name, used in JSON output and by lint rules.
type Anomalies uint64

const (
	// Frame header rules (RFC 6455 §5.2, §5.5).
	AnomReservedOpcode    Anomalies = 1 << iota // opcode 0x3-0x7 or 0xB-0xF
	AnomRSVWithoutExt                           // RSV bit set without a negotiated extension that defines it
	AnomControlTooLong                          // control frame payload over 125 bytes
	AnomControlFragmented                       // control frame without FIN
	AnomClientUnmasked                          // client-to-server frame without mask (§5.1)
	AnomServerMasked                            // server-to-client frame with mask (§5.1)
	AnomNonMinimalLength                        // length not in its shortest encoding
	AnomLengthMSBSet                            // 64-bit length with the top bit set
	// Fragmentation (RFC 6455 §5.4).
	AnomOrphanContinuation // continuation frame with no message to continue
	AnomInterruptedMessage // a new data frame while a fragmented message is open
	AnomRSV1OnContinuation // RFC 7692 §6.1: RSV1 only on the first frame of a message
	AnomRSV1OnControl      // RFC 7692 §6.1: never on control frames
	// Close frames (RFC 6455 §5.5.1, §7.4).
	AnomCloseCodeInvalid    // a code that must not be sent
	AnomClosePayloadOneByte // a 1-byte close payload
	AnomCloseReasonBadUTF8  // close reason is not UTF-8
	AnomDataAfterClose      // a frame after this side's Close
	// Messages.
	AnomInvalidUTF8       // text message that is not UTF-8 (§8.1)
	AnomMessageIncomplete // fragmented message never finished
	// Limits and capture troubles.
	AnomPayloadTruncated  // payload longer than the configured limit: only the head is kept
	AnomMessageTruncated  // message longer than the configured limit: only the head is kept
	AnomPayloadIncomplete // the capture ended (or lost bytes) inside this frame
	// Handshake (RFC 6455 §4).
	AnomUpgradeRefused           // the server did not answer 101
	AnomAcceptMismatch           // Sec-WebSocket-Accept does not match the key (§4.2.2)
	AnomAcceptMissing            // 101 without Sec-WebSocket-Accept
	AnomKeyMissing               // request without Sec-WebSocket-Key
	AnomKeyInvalid               // key is not 16 bytes in base64 (§4.1)
	AnomVersionNot13             // Sec-WebSocket-Version is not 13 (§4.1)
	AnomMethodNotGet             // upgrade request method is not GET (§4.1)
	AnomMissingConnectionUpgrade // Connection header lacks "Upgrade" (§4.1, §4.2.2)
	AnomSubprotocolNotOffered    // server chose a subprotocol the client did not offer (§4.1)
	AnomExtensionNotOffered      // server accepted an extension the client did not offer (§9.1)
	AnomHTTPHeaderTooLong        // HTTP header block over the limit: parsing stopped
	AnomHTTPMalformed            // HTTP message that could not be parsed
	AnomUnexpectedResponse       // a response with no request pending
	// permessage-deflate (RFC 7692).
	AnomInflateFailed    // the compressed message does not inflate
	AnomInflateNoContext // the window is unknown (earlier bytes lost): not inflated
	AnomInflateLimit     // inflated size over the message limit: cut there
	// Capture troubles in the handshake.
	AnomRequestIncomplete // the upgrade request was lost or cut short; the 101 was seen
	// Limits.
	AnomPendingLimit // the client sent more than the pending limit before the upgrade was answered: its side is no longer decoded
	// TCP trouble seen by the reassembly.
	AnomRetransmitConflict // a retransmitted segment carried other bytes than the first copy (which was kept)
	// Cut messages and deflate bounds.
	AnomCaptureTruncated     // the capture lost bytes of the message (a gap, a snap length, its end): only what came before is kept
	AnomInflateRatio         // more inflated bytes per captured byte than the ratio bound: inflation stopped
	AnomDeflateParamsInvalid // permessage-deflate parameters that break RFC 7692 §7
	AnomResumed              // the connection was ended early (connection limit) and went on: decoded afresh from there; or a fallback session ended early (fbjoin.MaxSessions) came back
	AnomHTTPNonconforming    // HTTP head that breaks RFC 9112 syntax, read leniently (tabs or extra spaces in the request line, a field line without a colon)
	// WebSockets over HTTP/2 (RFC 8441).
	AnomH2ConnectWithoutSetting // extended CONNECT before the server sent SETTINGS_ENABLE_CONNECT_PROTOCOL=1 (§3, §4)
	AnomH2ProtocolNotConnect    // :protocol on a request whose method is not CONNECT (§4)
	AnomH2PseudoMissing         // extended CONNECT without :scheme or :path (§4)
	AnomH2ForbiddenHeader       // Sec-WebSocket-Key, Sec-WebSocket-Accept, Upgrade or Connection over HTTP/2 (§5, RFC 9113 §8.2.2)
	AnomH2DataAfterRefusal      // DATA on a stream whose CONNECT was refused (non-2xx): not decoded
	AnomH2StreamReset           // the stream was ended by RST_STREAM (Summary.StreamEnd has the error code)
	AnomH2Malformed             // HTTP/2 framing or HPACK broken (or bytes lost): the connection's bytes from there are not decoded
	// HTTP fallback transports (SockJS, Engine.IO polling).
	AnomFallbackFraming       // an HTTP fallback transport (SockJS, Engine.IO polling) body, chunk or frame that breaks its framing
	AnomFallbackSessionReused // a SockJS session or Engine.IO sid opened twice (two o frames, two open packets)
	AnomFallbackPollTimeout   // an Engine.IO poll left unanswered longer than pingInterval + pingTimeout
	// WebSockets over HTTP/2: a bound of wsdump's.
	AnomH2StreamsOverLimit // streams opened while as many as are followed at once were open: not followed, their DATA skipped (HTTP2Counts.NotFollowed)
	// TCP trouble seen by the reassembly.
	AnomTCPDataDiscarded // bytes a side sent past its FIN, or on a RST, which the receiver drops: not decoded, counted as skipped
	// Handshakes that servers accept or make although RFC 6455 and RFC
	// 9110 do not have them.
	AnomUpgradeNotRequested // a 101 to websocket answered a request that did not ask for it (RFC 9110 §7.8): believed, its frames decoded
	AnomUpgradeRequestBody  // the upgrade request has a body (Content-Length, chunked): passed over as RFC 9112 §6 frames it (node, nginx, tshark), counted as skipped; a Go server reads it as frames
	AnomUpgradeNotWebSocket // a 101 answered the upgrade request naming another protocol, or none (RFC 6455 §4.1): both sides searched for frames
	AnomLateSegment         // bytes of a hole came after it was passed over (lost_bytes): not decoded, counted as skipped
	AnomAnswerBeforeRequest // the capture has the 101 before its request (taps and queues that timestamp the two directions apart): decoded in the connection's order
	AnomSeqSpaceMixed       // segments of another sequence space on the connection's 4-tuple (another connection's, mixed in): not decoded, counted as skipped
	AnomSeqSpaceJump        // a side's numbers jumped past a largest TCP window (a capture gap of more than 1 GiB): the new space taken on as the side's, the jump counted as lost
	anomCount               = iota
)

var anomalyNames = [...]string{
	"reserved_opcode",
	"rsv_without_extension",
	"control_too_long",
	"control_fragmented",
	"client_frame_unmasked",
	"server_frame_masked",
	"non_minimal_length",
	"length_msb_set",
	"orphan_continuation",
	"interrupted_message",
	"rsv1_on_continuation",
	"rsv1_on_control",
	"close_code_invalid",
	"close_payload_one_byte",
	"close_reason_invalid_utf8",
	"data_after_close",
	"invalid_utf8",
	"message_incomplete",
	"payload_truncated",
	"message_truncated",
	"payload_incomplete",
	"upgrade_refused",
	"accept_mismatch",
	"accept_missing",
	"key_missing",
	"key_invalid",
	"version_not_13",
	"method_not_get",
	"connection_not_upgrade",
	"subprotocol_not_offered",
	"extension_not_offered",
	"http_header_too_long",
	"http_malformed",
	"unexpected_response",
	"inflate_failed",
	"inflate_context_unknown",
	"inflate_limit",
	"request_incomplete",
	"pending_limit",
	"retransmission_conflict",
	"capture_truncated",
	"inflate_ratio",
	"deflate_params_invalid",
	"connection_resumed",
	"http_nonconforming",
	"h2_connect_without_setting",
	"h2_protocol_not_connect",
	"h2_pseudo_header_missing",
	"h2_forbidden_header",
	"h2_data_after_refusal",
	"h2_stream_reset",
	"h2_malformed",
	"fallback_framing",
	"fallback_session_reused",
	"fallback_poll_timeout",
	"h2_streams_over_limit",
	"tcp_data_discarded",
	"upgrade_not_requested",
	"upgrade_request_body",
	"upgrade_not_websocket",
	"late_segment",
	"answer_before_request",
	"seq_space_mixed",
	"seq_space_jump",
}

var _ = [1]struct{}{}[len(anomalyNames)-anomCount] // names and bits stay in step

// AnomalyName returns the stable name of a single anomaly bit.
func AnomalyName(a Anomalies) string {
	for i := 0; i < anomCount; i++ {
		if a == 1<<i {
			return anomalyNames[i]
		}
	}
	return "unknown"
}

// AnomalyByName returns the bit for a stable name, or 0.
func AnomalyByName(name string) Anomalies {
	for i, n := range anomalyNames {
		if n == name {
			return 1 << i
		}
	}
	return 0
}

// Names returns the names of the set's anomalies in bit order.
func (a Anomalies) Names() []string {
	var out []string
	a.Each(func(name string) { out = append(out, name) })
	return out
}

// Each calls f with the name of each anomaly in the set, in bit order,
// without allocating.
func (a Anomalies) Each(f func(name string)) {
	for i := 0; a != 0 && i < anomCount; i++ {
		if a&(1<<i) != 0 {
			f(anomalyNames[i])
			a &^= 1 << i
		}
	}
}

func (a Anomalies) String() string { return strings.Join(a.Names(), ",") }

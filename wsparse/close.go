package wsparse

import (
	"encoding/binary"
	"unicode/utf8"
)

// ParseClose decodes a Close frame payload (RFC 6455 §5.5.1): an optional
// 2-byte status code followed by a UTF-8 reason. It returns the anomalies the
// payload carries.
func ParseClose(p []byte) (code uint16, hasCode bool, reason string, a Anomalies) {
	switch len(p) {
	case 0:
		return 0, false, "", 0
	case 1:
		return 0, false, "", AnomClosePayloadOneByte
	}
	code = binary.BigEndian.Uint16(p)
	if !ValidCloseCode(code) {
		a |= AnomCloseCodeInvalid
	}
	if !utf8.Valid(p[2:]) {
		a |= AnomCloseReasonBadUTF8
	}
	return code, true, string(p[2:]), a
}

// ValidCloseCode reports whether an endpoint may send code in a Close frame
// (RFC 6455 §7.4.1, §7.4.2 and the IANA registry: 1012-1014 are registered).
// 1004 is reserved; 1005, 1006 and 1015 must never be sent on the wire.
func ValidCloseCode(code uint16) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// CloseCodeName returns the registered name of a close code, or "".
func CloseCodeName(code uint16) string {
	switch code {
	case 1000:
		return "normal closure"
	case 1001:
		return "going away"
	case 1002:
		return "protocol error"
	case 1003:
		return "unsupported data"
	case 1005:
		return "no status received"
	case 1006:
		return "abnormal closure"
	case 1007:
		return "invalid payload data"
	case 1008:
		return "policy violation"
	case 1009:
		return "message too big"
	case 1010:
		return "mandatory extension"
	case 1011:
		return "internal error"
	case 1012:
		return "service restart"
	case 1013:
		return "try again later"
	case 1014:
		return "bad gateway"
	case 1015:
		return "TLS handshake"
	}
	return ""
}

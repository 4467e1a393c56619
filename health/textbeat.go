package health

import "github.com/wsdump/wsdump/wsparse"

// Text heartbeats (Options.HeartbeatText): the matching, which a caller
// can take over to do it where the messages are decoded.

// IsTextBeat reports whether m is a text heartbeat (Options.HeartbeatText
// matches the whole message, which was not cut).
func (t *Tracker) IsTextBeat(m *wsparse.Message) bool {
	return t.text != nil && m.Opcode == wsparse.OpText && uint64(len(m.Data)) == m.Len && !m.LenUnknown && t.text.Match(m.Data)
}

// SplitText hands the matching of text heartbeats to the caller, who can
// do it where the messages are decoded (in parallel: the function is safe
// for concurrent use) and pass the beats to Beat with KindText. Message
// then no longer reads the messages' data. It returns nil when no text
// heartbeats are looked for.
func (t *Tracker) SplitText() func(*wsparse.Message) bool {
	t.split = true
	if t.text == nil {
		return nil
	}
	return t.IsTextBeat
}

// TextMatcher is SplitText for a caller that also knows the application
// texts inside each message (a STOMP frame in a SockJS array, its
// destination): the returned function reports whether
// Options.HeartbeatText matches the whole message or one of inner.
func (t *Tracker) TextMatcher() func(m *wsparse.Message, inner []string) bool {
	t.split = true
	if t.text == nil {
		return nil
	}
	return func(m *wsparse.Message, inner []string) bool {
		if t.IsTextBeat(m) {
			return true
		}
		if m.Opcode != wsparse.OpText || uint64(len(m.Data)) != m.Len || m.LenUnknown {
			return false
		}
		for _, s := range inner {
			if s != "" && t.text.MatchString(s) {
				return true
			}
		}
		return false
	}
}

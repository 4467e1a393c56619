package appproto

import "strconv"

// EndOf tells whether a is an application protocol's word on the end of
// its session, as a user asks "why did it die?" of a connection whose
// WebSocket Close (if any) says nothing: a STOMP ERROR frame (the server
// MUST close the connection after it, STOMP 1.2 § ERROR; stompjs calls
// its error callback) or a SockJS close frame c[code,"reason"] (the
// server's close of the session, sockjs-client's onclose). text says it
// in a few words (`STOMP ERROR "Bad CONNECT"`, `SockJS close 3000 "Go
// away!"`); failed is true when the session failed: every STOMP ERROR, a
// SockJS close with a code other than 1000 and 1001 (as for a WebSocket
// Close).
func EndOf(a *App) (text string, failed, ok bool) {
	switch {
	case a.Protocol == STOMP && a.Type == "ERROR":
		text = "STOMP ERROR"
		for _, f := range a.AllFields() {
			if f.Key == "message" {
				text += " " + quote(f.Value)
				break
			}
		}
		return text, true, true
	case a.Protocol == SockJS && a.Type == "c":
		text = "SockJS close"
		var code string
		for _, f := range a.AllFields() {
			switch f.Key {
			case "code":
				code = f.Value
				if _, err := strconv.Atoi(code); err == nil {
					text += " " + code
				} else {
					text += " " + quote(code) // any JSON value, of any length
				}
			case "reason":
				text += " " + quote(f.Value)
			}
		}
		n, err := strconv.Atoi(code)
		return text, err != nil || n != 1000 && n != 1001, true
	}
	return "", false, false
}

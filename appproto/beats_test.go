package appproto

import "testing"

// TestBeatsOnly: a session told that only heartbeats are read skips the
// decoding of protocols without any (JSON, JSON-RPC), still chooses the
// protocol, and still finds every heartbeat of the others.
func TestBeatsOnly(t *testing.T) {
	s := New(nil, ModeAuto)
	s.BeatsOnly()
	if apps := run(s, c2s(`{"type":"chat","text":"hi"}`), s2c(`{"jsonrpc":"2.0","id":1,"result":0}`)); len(apps) != 0 {
		t.Errorf("JSON with BeatsOnly: got %q, want nothing", short(apps))
	}
	if p := s.Protocol(); p != JSON {
		t.Errorf("protocol %q, want %q", p, JSON)
	}

	msgs := []msg{c2s("CONNECT\naccept-version:1.2\nheart-beat:1000,1000\n\n\x00"),
		s2c("CONNECTED\nversion:1.2\nheart-beat:1000,1000\n\n\x00"), c2s("\n"), s2c("\n")}
	full, light := New(hsProto("v12.stomp"), ModeAuto), New(hsProto("v12.stomp"), ModeAuto)
	light.BeatsOnly()
	beats := func(apps []App) (n int) {
		for _, a := range apps {
			if a.Heartbeat {
				n++
			}
		}
		return n
	}
	if got, want := beats(run(light, msgs...)), beats(run(full, msgs...)); got != want || want != 2 {
		t.Errorf("STOMP with BeatsOnly: %d heartbeats, without: %d (want 2)", got, want)
	}
	if light.Keepalive() != full.Keepalive() {
		t.Errorf("keepalive %+v, want %+v", light.Keepalive(), full.Keepalive())
	}
}

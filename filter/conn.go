package filter

import (
	"strconv"
	"strings"
	"time"

	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/wsparse"
)

// ConnEnv is the environment of a connection of the conns view: the conn
// record's fields, and its health under conn. (conn.heartbeat.missed,
// conn.ping.unanswered), which exist only here, once the connection ended;
// files name the inputs by number (health.Report.Files): its file field.
func ConnEnv(c *health.Conn, origin time.Time, files []string) Env {
	conn, stream := wsparse.SplitID(c.ID)
	env := Env{"type": "conn", "conn": conn, "stream": int(stream), "client": c.Client.String(), "server": c.Server.String(),
		"host": c.Host, "uri": c.URI, "subprotocol": c.Subprotocol, "extensions": c.Extensions,
		"status": c.Status, "end": string(c.Close.End), "duration": c.Duration().Seconds(),
		"handshake_seen": !c.Midstream, "ts": c.End.UTC().Format("2006-01-02T15:04:05.000000000Z"),
		"anomalies": append([]string{}, c.Anomalies.Names()...)}
	if !origin.IsZero() {
		env["time"] = c.Start.Sub(origin).Seconds()
	}
	encapFields(env, c.Encap)
	if i := int(c.Input); i < len(files) {
		env["file"] = files[i]
	}
	if cf := c.Close.First(); cf != nil && cf.HasCode {
		env["close_code"], env["close_reason"] = int(cf.Code), cf.Reason
	}
	for d, name := range []string{"c2s", "s2c"} {
		st := c.Stats[d]
		env[name] = map[string]any{"frames": st.Frames, "messages": st.Messages, "control_frames": st.ControlFrames,
			"payload_bytes": int(st.PayloadBytes), "wire_bytes": int(st.WireBytes), "lost_bytes": int(st.LostBytes)}
	}
	env[connField] = HealthOf(c)
	return env
}

// Health is a connection's health as its conn.* fields read it
// (conn.heartbeat.missed): the conns view's, and, by their connection,
// frames' and messages' of the main view, which a first pass keeps for
// every connection of the capture (a shared zero value for the many that
// have none), so it is small. Expressions read it by the expr tags;
// Env.Lookup by the same names.
type Health struct {
	Heartbeat HeartbeatHealth `expr:"heartbeat"`
	Ping      PingHealth      `expr:"ping"`
	Clean     bool            `expr:"clean"`
	Initiator string          `expr:"initiator"`
}

// HeartbeatHealth sums a connection's heartbeat series, every kind and
// direction; Kinds names them ([] for none, never nil).
type HeartbeatHealth struct {
	Count  int      `expr:"count"`
	Missed int      `expr:"missed"`
	Kinds  []string `expr:"kinds"`
}

// PingHealth sums a connection's pings of both directions.
type PingHealth struct {
	Pings      int `expr:"pings"`
	Answered   int `expr:"answered"`
	Unanswered int `expr:"unanswered"`
}

// noKinds is the Kinds of a connection without heartbeats.
var noKinds = []string{}

// HealthOf returns c's health fields.
func HealthOf(c *health.Conn) *Health {
	h := &Health{Heartbeat: HeartbeatHealth{Kinds: noKinds}, Clean: c.Close.Clean, Initiator: c.Close.Initiator}
	if len(c.Heartbeats) > 0 {
		h.Heartbeat.Kinds = make([]string, 0, len(c.Heartbeats))
	}
	for _, s := range c.Heartbeats {
		h.Heartbeat.Count += s.Count
		h.Heartbeat.Missed += s.Missed
		h.Heartbeat.Kinds = append(h.Heartbeat.Kinds, s.Kind)
	}
	for _, p := range c.Ping {
		h.Ping.Pings += p.Pings
		h.Ping.Answered += p.Answered
		h.Ping.Unanswered += p.Unanswered
	}
	return h
}

// IsZero reports whether h says nothing: no heartbeat, no ping, not
// closed cleanly, no initiator.
func (h *Health) IsZero() bool {
	return h.Heartbeat.Count == 0 && h.Heartbeat.Missed == 0 && len(h.Heartbeat.Kinds) == 0 &&
		h.Ping == (PingHealth{}) && !h.Clean && h.Initiator == ""
}

// lookup returns the field at the dotted path parts (heartbeat.missed),
// nil when there is none; a group (heartbeat, ping) as a map of its
// fields, and the whole (no parts) as a map of the groups. A field is
// read from the struct: -T fields -e conn.heartbeat.missed looks it up
// for every row, with no map made for it.
func (h *Health) lookup(parts []string) any {
	switch len(parts) {
	case 0:
		return map[string]any{"heartbeat": h.lookup([]string{"heartbeat"}), "ping": h.lookup([]string{"ping"}),
			"clean": h.Clean, "initiator": h.Initiator}
	case 1:
		switch parts[0] {
		case "heartbeat":
			return map[string]any{"count": h.Heartbeat.Count, "missed": h.Heartbeat.Missed, "kinds": h.Heartbeat.Kinds}
		case "ping":
			return map[string]any{"pings": h.Ping.Pings, "answered": h.Ping.Answered, "unanswered": h.Ping.Unanswered}
		case "clean":
			return h.Clean
		case "initiator":
			return h.Initiator
		}
	case 2:
		switch parts[0] {
		case "heartbeat":
			switch parts[1] {
			case "count":
				return h.Heartbeat.Count
			case "missed":
				return h.Heartbeat.Missed
			case "kinds":
				return h.Heartbeat.Kinds
			}
		case "ping":
			switch parts[1] {
			case "pings":
				return h.Ping.Pings
			case "answered":
				return h.Ping.Answered
			case "unanswered":
				return h.Ping.Unanswered
			}
		}
	}
	return nil
}

// encapFields sets a record's encapsulation fields from its connection's
// (wsparse.Conn.Encap, "vlan:10/vxlan:100"): encap, "" for a plain one;
// vlan, its first (outer) VLAN id, and vni, its first VXLAN, VXLAN-GPE or
// GENEVE network identifier, each absent (nil) when it has none.
func encapFields(env Env, encap string) {
	env["encap"] = encap
	for encap != "" {
		var word string
		word, encap, _ = strings.Cut(encap, "/")
		name, id, ok := strings.Cut(word, ":")
		if !ok {
			continue
		}
		key := ""
		switch name {
		case "vlan":
			key = "vlan"
		case "vxlan", "vxlan-gpe", "geneve":
			key = "vni"
		default:
			continue
		}
		if _, set := env[key]; set {
			continue
		}
		if n, err := strconv.Atoi(id); err == nil {
			env[key] = n
		}
	}
}

package filter

import (
	"time"

	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/wsparse"
)

// ConnEnv is the environment of a connection of the conns view: the conn
// record's fields, and its health under conn. (conn.heartbeat.missed,
// conn.ping.unanswered), which exist only here, once the connection ended.
func ConnEnv(c *health.Conn, origin time.Time) Env {
	conn, stream := wsparse.SplitID(c.ID)
	env := Env{"type": "conn", "conn": conn, "stream": int(stream), "client": c.Client.String(), "server": c.Server.String(),
		"host": c.Host, "uri": c.URI, "subprotocol": c.Subprotocol, "extensions": c.Extensions,
		"status": c.Status, "end": string(c.Close.End), "duration": c.Duration().Seconds(),
		"handshake_seen": !c.Midstream, "ts": c.End.UTC().Format("2006-01-02T15:04:05.000000000Z"),
		"anomalies": append([]string{}, c.Anomalies.Names()...)}
	if !origin.IsZero() {
		env["time"] = c.Start.Sub(origin).Seconds()
	}
	if cf := c.Close.First(); cf != nil && cf.HasCode {
		env["close_code"], env["close_reason"] = int(cf.Code), cf.Reason
	}
	for d, name := range []string{"c2s", "s2c"} {
		st := c.Stats[d]
		env[name] = map[string]any{"frames": st.Frames, "messages": st.Messages, "control_frames": st.ControlFrames,
			"payload_bytes": int(st.PayloadBytes), "wire_bytes": int(st.WireBytes), "lost_bytes": int(st.LostBytes)}
	}
	hb := map[string]any{"count": 0, "missed": 0, "kinds": []string{}}
	var kinds []string
	for _, s := range c.Heartbeats {
		hb["count"] = hb["count"].(int) + s.Count
		hb["missed"] = hb["missed"].(int) + s.Missed
		kinds = append(kinds, s.Kind)
	}
	if kinds != nil {
		hb["kinds"] = kinds
	}
	ping := map[string]any{"pings": 0, "answered": 0, "unanswered": 0}
	for _, p := range c.Ping {
		ping["pings"] = ping["pings"].(int) + p.Pings
		ping["answered"] = ping["answered"].(int) + p.Answered
		ping["unanswered"] = ping["unanswered"].(int) + p.Unanswered
	}
	env["conn_"] = map[string]any{"heartbeat": hb, "ping": ping, "clean": c.Close.Clean, "initiator": c.Close.Initiator}
	return env
}

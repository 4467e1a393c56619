package main

import (
	"strings"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/report"
	"github.com/wsdump/wsdump/wsparse"
)

// appDecoder decodes what rides on each connection's messages (STOMP,
// SockJS, Socket.IO, MQTT, GraphQL, JSON-RPC) on its way from the
// reassembly to a sink: exporters that show application messages get
// them, and heartbeats go to the health tracker.
type appDecoder struct {
	next     wsparse.Sink
	apps     report.AppWriter // next, if it shows application messages
	beats    health.BeatSink  // next, if it tracks heartbeats
	mode     string
	sessions map[*wsparse.Conn]*appproto.Session
	// text, when set, says which messages are text heartbeats: the
	// tracker's matching, done here (in a worker) rather than in it, on
	// the message and the application texts inside it.
	text func(*wsparse.Message, []string) bool
}

func newAppDecoder(next wsparse.Sink, mode string) *appDecoder {
	d := &appDecoder{next: next, mode: mode, sessions: map[*wsparse.Conn]*appproto.Session{}}
	d.apps, _ = next.(report.AppWriter)
	d.beats, _ = next.(health.BeatSink)
	if t, ok := next.(*health.Tracker); ok {
		d.text = t.TextMatcher()
	}
	return d
}

func (d *appDecoder) Handshake(c *wsparse.Conn, h *wsparse.Handshake) {
	if h.Upgraded() {
		d.sessions[c] = d.session(h)
	}
	d.next.Handshake(c, h)
}

// session starts decoding a connection; without an exporter of
// application messages, only heartbeats are looked for.
func (d *appDecoder) session(h *wsparse.Handshake) *appproto.Session {
	s := appproto.New(h, d.mode)
	if d.apps == nil {
		s.BeatsOnly()
	}
	return s
}

func (d *appDecoder) Frame(c *wsparse.Conn, f *wsparse.Frame) { d.next.Frame(c, f) }

func (d *appDecoder) Message(c *wsparse.Conn, m *wsparse.Message) {
	if m.Fallback != nil && !m.Fallback.Joined {
		d.next.Message(c, m) // a fallback session's piece: decoded once joined
		return
	}
	s := d.sessions[c]
	if s == nil {
		// Recognised without a handshake: the decoder sniffs the content.
		s = d.session(nil)
		d.sessions[c] = s
	}
	apps := s.Message(m)
	if d.beats != nil {
		// --heartbeat-text overrides: a message it names is not also
		// looked at as an application heartbeat.
		if d.text != nil && d.text(m, appproto.InnerTexts(m, apps)) {
			d.beats.Beat(health.Beat{Conn: c.ID, Dir: m.Dir, TS: m.TS, Kind: health.KindText})
		} else if sh, ok := appproto.ShapeOf(m, apps); ok {
			d.beats.Beat(health.Beat{Conn: c.ID, Dir: m.Dir, TS: m.TS, Kind: health.KindApp, Proto: sh.Proto, Key: sh.Key})
		}
		for i := range apps {
			if apps[i].Heartbeat {
				d.beats.Beat(health.Beat{Conn: c.ID, Dir: m.Dir, TS: m.TS, Kind: apps[i].Protocol})
			}
		}
	}
	if d.apps != nil {
		d.apps.MessageApps(c, m, apps)
		return
	}
	d.next.Message(c, m)
}

func (d *appDecoder) End(c *wsparse.Conn, s *wsparse.Summary) {
	if sess := d.sessions[c]; sess != nil && d.beats != nil {
		if ka := sess.Keepalive(); ka.Source != "" {
			kind := keepaliveKind(ka.Source)
			// Both directions, an interval of 0 included: it says that
			// direction agreed to send no beats.
			for dir, iv := range ka.Interval {
				d.beats.Negotiated(health.Negotiated{Conn: c.ID, Dir: wsparse.Dir(dir), Kind: kind, Interval: iv, Timeout: ka.Timeout})
			}
		}
	}
	delete(d.sessions, c)
	d.next.End(c, s)
}

// keepaliveKind names the beats a negotiated keepalive is about, as the
// decoders name their protocols: "stomp heart-beat" -> stomp, "engine.io
// open" -> engineio.
func keepaliveKind(source string) string {
	first, _, _ := strings.Cut(source, " ")
	return strings.ReplaceAll(first, ".", "")
}

// appExporter is an exporter with application decoding in front of it.
type appExporter struct {
	report.Exporter
	dec *appDecoder
}

func newAppExporter(exp report.Exporter, mode string) report.Exporter {
	if mode == "" {
		mode = appproto.ModeAuto
	}
	if mode == appproto.ModeNone {
		return exp
	}
	return &appExporter{Exporter: exp, dec: newAppDecoder(exp, mode)}
}

func (a *appExporter) Handshake(c *wsparse.Conn, h *wsparse.Handshake) { a.dec.Handshake(c, h) }
func (a *appExporter) Message(c *wsparse.Conn, m *wsparse.Message)     { a.dec.Message(c, m) }
func (a *appExporter) End(c *wsparse.Conn, s *wsparse.Summary)         { a.dec.End(c, s) }

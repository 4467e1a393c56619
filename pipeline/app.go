// Package pipeline builds wsdump's decoding chains: the reassembly (one
// goroutine, or -j workers merged in order), the fallback-session joiner,
// application decoding, filters, and the sinks at the end. Every stage is
// a record.Sink; what a stage must know of the stages after it is given
// as options by the code that builds the chain.
package pipeline

import (
	"strings"
	"time"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/report"
	"github.com/wsdump/wsdump/wsparse"
)

// AppOptions is what the application decoding stage is told of the
// stages after it by the code that builds the chain.
type AppOptions struct {
	Mode  string // appproto mode ("" auto; appproto.ModeNone: no stage)
	Apps  bool   // they show application messages: a Message carries its Apps
	Beats bool   // they track heartbeats: Beat and Negotiated records
	// ProtocolBeats: of the heartbeats, only the protocols' own (STOMP
	// heart-beats and frames, SockJS "h", Engine.IO ping/pong, ...) and
	// their negotiations, not the application messages that may be beats
	// (health.KindApp), whose shapes are looked for in every message:
	// lint judges only the protocols' (looking was a tenth of its CPU).
	ProtocolBeats bool
	// ProtocolShapes, with ProtocolBeats: the application messages that
	// may be beats are looked for in the messages of STOMP, Socket.IO
	// and SockJS only, not in plain texts and JSON (lint: the seed's
	// stompClient.send("ping") is one, at the cost of a look at each
	// message's protocols on plain traffic).
	ProtocolShapes bool
	// Text, when set, says which messages are text heartbeats: the
	// tracker's matching (health.Tracker.TextMatcher), done here (in a
	// worker) rather than in it, on the message and the application
	// texts inside it.
	Text func(*wsparse.Message, []string) bool
	// DataUnused: the stages after read no message data (a tracker whose
	// text heartbeats are matched here): with -j it need not leave the
	// workers.
	DataUnused bool
}

// TrackerApps is the application decoding a health tracker wants: beats,
// its text heartbeats matched in the stage (unless mode is none).
func TrackerApps(t *health.Tracker, mode string) AppOptions {
	o := AppOptions{Mode: mode, Beats: true}
	if mode != appproto.ModeNone {
		o.Text = t.TextMatcher()
		o.DataUnused = t.Forwards() == nil
	}
	return o
}

// Tracker feeds a health tracker records: the four wsparse kinds, and
// the heartbeats application decoding found.
func Tracker(t *health.Tracker) record.Sink {
	return record.Func(func(r *record.Record) {
		switch r.Kind {
		case record.Beat:
			t.Beat(r.Beat)
		case record.Negotiated:
			t.Negotiated(r.Negotiated)
		default:
			record.ToWS(t, r)
		}
	})
}

// appDecoder decodes what rides on each connection's messages (STOMP,
// SockJS, Socket.IO, MQTT, GraphQL, JSON-RPC) on its way from the
// reassembly to a sink: a Message record carries its application messages
// (opts.Apps), and heartbeats become Beat and Negotiated records
// (opts.Beats), put before the record they were found in.
type appDecoder struct {
	next     record.Sink
	opts     AppOptions
	sessions map[*wsparse.Conn]*appproto.Session
	// shared[n] is the session of every connection whose session looked
	// at n messages and chose nothing (appproto.Session.Sniffed): an open
	// connection that sent a message of no protocol holds no session of
	// its own (32 bytes, 3 MB for 100 000).
	shared []*appproto.Session
	rec    record.Record // the records it makes, reused
	// scratch holds the members of the JSON objects its sessions borrow
	// (appproto.Session.BorrowBodies), one message's at a time.
	scratch appproto.Scratch
	shapes  []appproto.Shape // a message's heartbeat shapes (appproto.Shapes)
	// alive: per connection and direction, the last STOMP frame passed on
	// as a sign of life (health.KindSTOMPFrame), four an interval at most.
	alive map[*wsparse.Conn]*[2]time.Time
}

// Apps returns the application decoding stage in front of next.
func Apps(next record.Sink, opts AppOptions) record.Sink { return newAppDecoder(next, opts) }

func newAppDecoder(next record.Sink, opts AppOptions) *appDecoder {
	if opts.Mode == "" {
		opts.Mode = appproto.ModeAuto
	}
	return &appDecoder{next: next, opts: opts, sessions: map[*wsparse.Conn]*appproto.Session{}}
}

// Put decodes a Message record's application messages and passes every
// record on.
func (d *appDecoder) Put(r *record.Record) {
	switch r.Kind {
	case record.Handshake:
		if r.Handshake.Upgraded() {
			// A session the handshake chose nothing for is made at the
			// first message, as one without a handshake: an open
			// connection that has sent no whole message holds none (32
			// bytes and a map entry, 6 MB for 100 000).
			if s := d.session(r.Handshake); !s.Blank() {
				d.sessions[r.Conn] = s
			} else {
				delete(d.sessions, r.Conn)
			}
		}
	case record.Message:
		d.message(r)
		return
	case record.End:
		d.end(r.Conn)
	}
	d.next.Put(r)
}

func (d *appDecoder) put(r record.Record) {
	d.rec = r
	d.next.Put(&d.rec)
}

// session starts decoding a connection; without an exporter of
// application messages, only heartbeats are looked for.
func (d *appDecoder) session(h *wsparse.Handshake) *appproto.Session {
	s := appproto.New(h, d.opts.Mode)
	if !d.opts.Apps {
		s.BeatsOnly()
	}
	s.LazyFields()   // its readers (report, filter) use NumFields and FieldAt
	s.BorrowBodies() // they read a record's Apps during its Put (record.Record); -j's workers rebase them
	return s
}

func (d *appDecoder) message(r *record.Record) {
	c, m := r.Conn, r.Message
	if m.Fallback != nil && !m.Fallback.Joined {
		d.next.Put(r) // a fallback session's piece: decoded once joined
		return
	}
	held := d.sessions[c]
	s := held
	if s == nil {
		// Recognised without a handshake: the decoder sniffs the content.
		s = d.session(nil)
	} else if n, ok := s.Sniffed(); ok && !s.Final() && n < len(d.shared) && d.shared[n] == s {
		own := *s // a shared session that this message may change
		s = &own
	}
	apps := s.MessageIn(&d.scratch, m)
	if s = d.share(s); s != held {
		d.sessions[c] = s
	}
	if d.opts.Beats {
		// --heartbeat-text overrides: a message it names is not also
		// looked at as an application heartbeat.
		if d.opts.Text != nil && d.opts.Text(m, appproto.InnerTexts(m, apps)) {
			d.beat(c, health.Beat{Conn: c.ID, Dir: m.Dir, TS: m.TS, Kind: health.KindText})
		} else if !d.opts.ProtocolBeats || d.opts.ProtocolShapes && shapesOf(apps) {
			d.shapes = appproto.Shapes(d.shapes[:0], m, apps)
			for _, sh := range d.shapes {
				d.beat(c, health.Beat{Conn: c.ID, Dir: m.Dir, TS: m.TS, Kind: health.KindApp, Proto: sh.Proto, Key: sh.Key})
			}
		}
		d.stompAlive(c, m, s, apps)
		for i := range apps {
			if apps[i].Heartbeat {
				b := health.Beat{Conn: c.ID, Dir: m.Dir, TS: m.TS, Kind: apps[i].Protocol}
				if b.Kind == appproto.EngineIO {
					b.Key = apps[i].Type // ping or pong: the side that pings asks (health)
				}
				d.beat(c, b)
			} else if text, failed, ok := appproto.EndOf(&apps[i]); ok && m.Dir == wsparse.ServerToClient &&
				(m.Fallback == nil || apps[i].Protocol != appproto.SockJS) { // a fallback's c frame is its Close already
				d.beat(c, health.Beat{Conn: c.ID, Dir: m.Dir, TS: m.TS, Kind: health.KindAppEnd, Key: text, Failed: failed})
			}
		}
	}
	if d.opts.Apps {
		d.put(record.Record{Kind: record.Message, Conn: c, Message: m, Apps: apps, Decoded: true})
		return
	}
	d.next.Put(r)
}

// share returns the shared session equal to s if s holds nothing of its
// connection (see shared), else s.
func (d *appDecoder) share(s *appproto.Session) *appproto.Session {
	n, ok := s.Sniffed()
	if !ok {
		return s
	}
	for len(d.shared) <= n {
		d.shared = append(d.shared, nil)
	}
	if d.shared[n] == nil {
		d.shared[n] = s
	}
	return d.shared[n]
}

// stompAlive passes a message with STOMP frames on as a sign of life of
// its direction when that direction's heart-beats were negotiated, at
// most one every quarter interval: a gap between signs is then measured
// at most a quarter interval long, not enough to make a gap on time late
// (over 1.5 intervals, health.Options.Tolerance).
func (d *appDecoder) stompAlive(c *wsparse.Conn, m *wsparse.Message, s *appproto.Session, apps []appproto.App) {
	frame := false
	for i := range apps {
		if apps[i].Protocol == appproto.STOMP && !apps[i].Heartbeat {
			frame = true
			break
		}
	}
	if !frame {
		return
	}
	ka := s.Keepalive()
	iv := ka.Interval[m.Dir&1]
	if ka.Source != "stomp heart-beat" || iv <= 0 {
		return
	}
	if d.alive == nil {
		d.alive = map[*wsparse.Conn]*[2]time.Time{}
	}
	last := d.alive[c]
	if last == nil {
		last = new([2]time.Time)
		d.alive[c] = last
	}
	if t := &last[m.Dir&1]; t.IsZero() || m.TS.Sub(*t) >= iv/4 || m.TS.Before(*t) {
		*t = m.TS
		d.beat(c, health.Beat{Conn: c.ID, Dir: m.Dir, TS: m.TS, Kind: health.KindSTOMPFrame})
	}
}

// shapesOf reports whether a message's application messages are of a
// protocol whose messages ProtocolShapes looks for beats in.
func shapesOf(apps []appproto.App) bool {
	for i := range apps {
		switch apps[i].Protocol {
		case appproto.STOMP, appproto.SocketIO, appproto.SockJS:
			return true
		}
	}
	return false
}

func (d *appDecoder) beat(c *wsparse.Conn, b health.Beat) {
	d.put(record.Record{Kind: record.Beat, Conn: c, Beat: b})
}

func (d *appDecoder) end(c *wsparse.Conn) {
	if sess := d.sessions[c]; sess != nil && d.opts.Beats {
		if ka := sess.Keepalive(); ka.Source != "" {
			kind := keepaliveKind(ka.Source)
			// Both directions, an interval of 0 included: it says that
			// direction agreed to send no beats.
			for dir, iv := range ka.Interval {
				d.put(record.Record{Kind: record.Negotiated, Conn: c,
					Negotiated: health.Negotiated{Conn: c.ID, Dir: wsparse.Dir(dir), Kind: kind, Interval: iv, Timeout: ka.Timeout, At: ka.At}})
			}
		}
	}
	delete(d.sessions, c)
	delete(d.alive, c)
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

// AppExporter puts application decoding (mode) in front of exp, which
// shows application messages (and, with beats, tracks heartbeats).
func AppExporter(exp report.Exporter, mode string, beats bool) report.Exporter {
	if mode == "" {
		mode = appproto.ModeAuto
	}
	if mode == appproto.ModeNone {
		return exp
	}
	return &appExporter{Exporter: exp, dec: newAppDecoder(exp, AppOptions{Mode: mode, Apps: true, Beats: beats})}
}

func (a *appExporter) Put(r *record.Record) { a.dec.Put(r) }

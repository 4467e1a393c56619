package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/pipeline"
	"github.com/wsdump/wsdump/report"
	"github.com/wsdump/wsdump/wsparse"
)

// fallbackExpect is what the SockJS fallback generator
// (testdata/gen/fallback-sockjs.js) recorded of a session.
type fallbackExpect struct {
	Transport string `json:"transport"`
	SessionID string `json:"session_id"`
	Heartbeat struct {
		Key      string  `json:"key"`
		Dir      string  `json:"dir"`
		Interval float64 `json:"interval"`
	} `json:"heartbeat"`
	StompHeartBeat struct {
		EOLInterval float64 `json:"eol_c2s_interval"`
	} `json:"stomp_heart_beat"`
	End struct {
		SockJSClose struct {
			Code   uint16 `json:"code"`
			Reason string `json:"reason"`
		} `json:"sockjs_close"`
	} `json:"end"`
	Summary struct {
		HTTPRequests  int            `json:"http_requests"`
		ByKind        map[string]int `json:"requests_by_kind"`
		TCPConns      int            `json:"tcp_connections"`
		Messages      map[string]int `json:"messages"`
		SendPing      int            `json:"send_ping"`
		StompEOL      int            `json:"stomp_eol_c2s"`
		SockJSH       int            `json:"sockjs_h_s2c"`
		StompReceived int            `json:"stomp_messages_received"`
	} `json:"summary"`
}

// fallbackReport runs the conns pipeline (fallback decoding, the join
// after the merge, application decoding, the health tracker) on jobs
// workers.
func fallbackReport(t *testing.T, file string, jobs int) *health.Report {
	t.Helper()
	src, err := capture.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	tr := health.New(nil, health.Options{})
	var in pipeline.Input
	if k := keylogFor(file); k != "" {
		in.KeyLogs = []string{k} // https: the same decoding once decrypted
	}
	keys, err := in.Keys(io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	asm := pipeline.NewApps(pipeline.Tracker(tr), pipeline.TrackerApps(tr, appproto.ModeAuto), in.Options(wsparse.Config{EndAll: true}, keys), jobs)
	if err := pipeline.Feed(src, asm, pipeline.FeedOptions{Name: file, Keys: keys}); err != nil {
		t.Fatal(err)
	}
	asm.Finish()
	return tr.Report()
}

// eioExpect is what the Engine.IO fallback generators
// (testdata/gen/fallback-engineio*.js) recorded of a session.
type eioExpect struct {
	Version int    `json:"engineio_version"`
	Sid     string `json:"sid"`
	Summary struct {
		ByKind      map[string]int `json:"requests_by_kind"`
		TCPConns    int            `json:"tcp_connections"`
		Messages    map[string]int `json:"messages"`
		ServerPings int            `json:"server_pings"`
		ClientPongs int            `json:"client_pongs"`
		ClientPings int            `json:"client_pings"`
		ServerPongs int            `json:"server_pongs"`
		Status      int            `json:"status_beats_c2s"`
		News        int            `json:"news_s2c"`
		Upgraded    *float64       `json:"upgraded"`
	} `json:"summary"`
}

// TestFallbackEngineIOCaptures checks each real Engine.IO capture (v4 and
// v3, polling only and polling then upgrade) against its generator's
// record: one conversation over all its TCP connections (the WebSocket
// joined by sid), its polling requests, the messages each way, the
// Engine.IO pings and pongs and the Socket.IO "status" and "news" beats
// judged as on a WebSocket, and the client's close.
func TestFallbackEngineIOCaptures(t *testing.T) {
	var files []string
	for _, n := range []string{"polling", "upgrade", "v3-polling", "v3-upgrade", "polling-browser", "v3-polling-browser"} {
		files = append(files, filepath.Join("..", "..", "testdata", "pcaps", "gen__engineio-"+n+".expect.json"))
	}
	for _, f := range files {
		base := strings.TrimSuffix(f, ".expect.json")
		t.Run(filepath.Base(base), func(t *testing.T) {
			var want eioExpect
			readExpect(t, f, &want)
			c := oneSession(t, fallbackReport(t, base+".pcap", 2), want.Sid)
			t.Logf("conn %d %s %s (%d conns, %d requests): %s; %s", c.ID, c.URI, c.Transport, len(c.HTTPConns), c.HTTPRequests, report.CloseText(c), report.Glance(c))
			polls := want.Summary.ByKind["polling GET"] + want.Summary.ByKind["polling POST"]
			conns := want.Summary.TCPConns
			transport := "polling"
			if want.Summary.Upgraded != nil {
				transport = "polling+websocket"
				if want.Summary.ByKind["websocket GET"] == 0 {
					conns++ // the generator did not see the WebSocket's request (ws 7)
				}
			}
			// (a browser's generator does not see its TCP connections: 0)
			if c.Transport != transport || c.HTTPRequests != polls || want.Summary.TCPConns > 0 && len(c.HTTPConns) != conns {
				t.Errorf("%s, %d requests, %d conns; the generator: %s, %d polling requests, %d conns", c.Transport, c.HTTPRequests, len(c.HTTPConns), transport, polls, conns)
			}
			if got := [2]int{c.Stats[0].Messages, c.Stats[1].Messages}; got != [2]int{want.Summary.Messages["c2s"], want.Summary.Messages["s2c"]} {
				t.Errorf("messages c2s/s2c %v, the generator: %v", got, want.Summary.Messages)
			}
			beats := map[string]int{}
			for _, s := range c.Heartbeats {
				beats[s.Kind+" "+s.Proto+" "+s.Key+" "+s.Dir.String()] = s.Count
				if s.Missed != 0 {
					t.Errorf("%s %s %s: %d missed", s.Kind, s.Key, s.Dir, s.Missed)
				}
			}
			pings, pongs := "engineio   s2c", "engineio   c2s"
			np, nq := want.Summary.ServerPings, want.Summary.ClientPongs
			if want.Version == 3 { // the client pings in v3
				pings, pongs = pongs, pings
				np, nq = want.Summary.ClientPings, want.Summary.ServerPongs
			}
			for k, n := range map[string]int{pings: np, pongs: nq,
				health.KindApp + " socketio status c2s": want.Summary.Status,
				health.KindApp + " socketio news s2c":   want.Summary.News} {
				if beats[k] != n {
					t.Errorf("beats %q: %d, the generator: %d (all: %v)", k, beats[k], n, beats)
				}
			}
			if text := report.CloseText(c); !strings.HasPrefix(text, "client close") {
				t.Errorf("close %q, the client closed", text)
			}
		})
	}
}

// TestFallbackSockJSCaptures checks each real SockJS fallback capture
// (xhr-streaming, xhr-polling, eventsource: stompjs over sockjs-client
// against the npm sockjs server) against its generator's record: the
// session is one conversation, over its TCP connections and requests,
// whose heartbeats are judged as on a WebSocket (the seed's SEND ping, the
// STOMP EOL heart-beats, SockJS h), closed by the server's c[1000,...].
// Each message against the manifest: TestMessagesMatchManifest.
func TestFallbackSockJSCaptures(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "pcaps", "gen__sockjs-*.expect.json"))
	if len(files) < 3 {
		t.Fatalf("%d gen__sockjs-* captures, want 3", len(files))
	}
	for _, f := range files {
		base := strings.TrimSuffix(f, ".expect.json")
		t.Run(filepath.Base(base), func(t *testing.T) {
			var want fallbackExpect
			readExpect(t, f, &want)
			c := oneSession(t, fallbackReport(t, base+".pcap", 1), want.SessionID)
			t.Logf("conn %d %s: %s; %s", c.ID, c.URI, report.CloseText(c), report.Glance(c))
			if !strings.Contains(c.URI, "/"+want.SessionID+"/") {
				t.Errorf("URI %q is not session %s's", c.URI, want.SessionID)
			}
			if got := [2]int{c.Stats[0].Messages, c.Stats[1].Messages}; got != [2]int{want.Summary.Messages["c2s"], want.Summary.Messages["s2c"]} {
				t.Errorf("messages c2s/s2c %v, the generator: %v", got, want.Summary.Messages)
			}
			beats := map[string]int{}
			for _, s := range c.Heartbeats {
				beats[s.Kind+" "+s.Proto+" "+s.Key+" "+s.Dir.String()] = s.Count
				if s.Kind == health.KindApp && s.Key == want.Heartbeat.Key {
					iv := secs(want.Heartbeat.Interval)
					if (s.Interval-iv).Abs() > iv/40 || s.Missed != 0 { // a browser's timers run up to 2.5% early
						t.Errorf("%s: every %v, %d missed; the generator: every %v", s.Key, s.Interval, s.Missed, iv)
					}
				}
			}
			for k, n := range map[string]int{
				health.KindApp + " stomp " + want.Heartbeat.Key + " " + want.Heartbeat.Dir: want.Summary.SendPing,
				"stomp   c2s":  want.Summary.StompEOL,
				"sockjs   s2c": want.Summary.SockJSH,
			} {
				if beats[k] != n {
					t.Errorf("beats %q: %d, the generator sent %d (all: %v)", k, beats[k], n, beats)
				}
			}
			cl := want.End.SockJSClose
			if text := report.CloseText(c); !strings.HasPrefix(text, fmt.Sprintf("server %d", cl.Code)) || !strings.Contains(text, fmt.Sprintf("%q", cl.Reason)) {
				t.Errorf("close %q, the server closed with %d %q", text, cl.Code, cl.Reason)
			}
		})
	}
}

// TestFallbackJobs: the join happens after the -j merge, so every view
// is the same on one worker as on two (conns, the main view in jsonl).
func TestFallbackJobs(t *testing.T) {
	for _, name := range []string{"gen__sockjs-xhr-polling", "gen__app-socketio-upgrade"} {
		file := filepath.Join("..", "..", "testdata", "pcaps", name+".pcap")
		var outs [2]string
		for j := 1; j <= 2; j++ {
			jsonl, errs, code := runWsdump(t, nil, "-r", file, "--format", "jsonl", "-j", fmt.Sprint(j))
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			conns, errs, code := runConnsCmd(t, "-r", file, "--format", "jsonl", "-j", fmt.Sprint(j))
			if code != 0 {
				t.Fatalf("conns exit %d: %s", code, errs)
			}
			outs[j-1] = jsonl + conns
		}
		if outs[0] != outs[1] {
			t.Errorf("%s: -j 1 and -j 2 differ", name)
		}
		if !strings.Contains(outs[0], `"transport":"`) {
			t.Errorf("%s: no message carried by a fallback transport", name)
		}
	}
}

// TestFallbackAppManifest decodes the application messages of the SockJS
// fallback captures (SockJS frames, STOMP inside) and compares them with
// the generator's .app.tsv, per direction, in order.
func TestFallbackAppManifest(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "pcaps", "gen__sockjs-*.app.tsv"))
	eio, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "pcaps", "gen__engineio-*.app.tsv"))
	files = append(files, eio...)
	if len(files) < 7 {
		t.Fatalf("%d SockJS and Engine.IO fallback app manifests, want 7", len(files))
	}
	for _, m := range files {
		base := strings.TrimSuffix(m, ".app.tsv")
		t.Run(filepath.Base(base), func(t *testing.T) {
			want := readAppManifest(t, m)
			got := map[string][]string{}
			for _, c := range readAppConns(t, base+".pcap") {
				if len(c.msgs) == 0 {
					continue
				}
				s := appproto.New(c.hs, appproto.ModeAuto)
				for i := range c.msgs {
					for _, a := range s.Message(&c.msgs[i]) {
						got[c.msgs[i].Dir.String()] = append(got[c.msgs[i].Dir.String()], appLine(a))
					}
				}
			}
			compareByDir(t, "app message", got, want)
		})
	}
}

// oneSession returns the capture's one conversation (its session joined
// over HTTP requests, or upgraded), failing unless there is exactly one.
func oneSession(t *testing.T, r *health.Report, id string) *health.Conn {
	t.Helper()
	var sess []*health.Conn
	for _, c := range r.Conns {
		if c.Upgraded() {
			sess = append(sess, c)
		}
	}
	if len(sess) != 1 {
		t.Fatalf("%d conversations, want the one session %s", len(sess), id)
	}
	return sess[0]
}

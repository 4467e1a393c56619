package main

// -Y (display filter), -T fields -e NAME (field extraction) and the BPF
// filter of -r F tcp port 80: the flags and their glue to filter, report
// and capture.

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/filter"
	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/pipeline"
	"github.com/wsdump/wsdump/reassembly"
	"github.com/wsdump/wsdump/report"
	"github.com/wsdump/wsdump/tlsdec"
	"github.com/wsdump/wsdump/wsparse"
)

// fieldsFlags are -T, -e and -E (tshark's names).
type fieldsFlags struct {
	T      string
	Fields []string
	E      []string
	header bool
}

func addFieldsFlags(f *pflag.FlagSet, fl *fieldsFlags) {
	f.StringVarP(&fl.T, "T", "T", "", "output `fields`: tab-separated values of the -e fields, one line per record (tshark's -T fields)")
	f.StringArrayVarP(&fl.Fields, "field", "e", nil, "with -T fields: a field to print, by its jsonl `NAME` (app.type, close_code; repeatable)")
	f.StringArrayVarP(&fl.E, "E", "E", nil, "with -T fields: header=y prints the field names first")
}

// validate checks -T, -e and -E; it reports whether -T fields was given.
func (fl *fieldsFlags) validate() (bool, error) {
	switch fl.T {
	case "":
		if len(fl.Fields) > 0 || len(fl.E) > 0 {
			return false, usageErr("-e and -E go with -T fields")
		}
		return false, nil
	case "fields":
	case "json", "ek", "jsonraw":
		return false, usageErr("-T %s: wsdump writes JSON with --format jsonl", fl.T)
	case "text", "tabs":
		return false, usageErr("-T %s: the table is the default output (drop -T)", fl.T)
	default:
		return false, usageErr("-T takes fields (with -e NAME), not %q", fl.T)
	}
	if len(fl.Fields) == 0 {
		return false, usageErr("-T fields needs at least one -e NAME (%s)", strings.Join(fieldNames(), ", "))
	}
	known := map[string]bool{}
	for _, n := range filter.Fields() {
		known[n] = true
	}
	for _, n := range fl.Fields {
		top, _, _ := strings.Cut(n, ".")
		if !known[top] {
			return false, usageErr("-e %s: no such field (%s)", n, strings.Join(fieldNames(), ", "))
		}
	}
	for _, e := range fl.E {
		switch strings.ToLower(e) {
		case "header=y":
			fl.header = true
		case "header=n":
			fl.header = false
		default:
			return false, usageErr("-E %s: only header=y and header=n are supported", e)
		}
	}
	return true, nil
}

// usesConn reports whether a field is conn.* (health: a first pass).
func (fl *fieldsFlags) usesConn() bool {
	for _, n := range fl.Fields {
		if strings.HasPrefix(n, "conn.") {
			return true
		}
	}
	return false
}

func fieldNames() []string {
	n := filter.Fields()
	sort.Strings(n)
	return n
}

// fieldsExporter writes one line per frame (per message with --messages)
// of the -e fields. Handshakes and connection ends have no line.
type fieldsExporter struct {
	bw       *bufio.Writer
	fw       *report.FieldsWriter
	names    []string
	messages bool
	env      *filter.Filter // builds the environments; it filters nothing
	hs       map[*wsparse.Conn]*wsparse.Handshake
}

func newFieldsExporter(w io.Writer, fl *fieldsFlags, messages bool) *fieldsExporter {
	bw := bufio.NewWriter(w)
	return &fieldsExporter{bw: bw, fw: report.NewFieldsWriter(bw, fl.Fields, fl.header), names: fl.Fields,
		messages: messages, env: filter.New(nil, filter.Spec{}), hs: map[*wsparse.Conn]*wsparse.Handshake{}}
}

func (e *fieldsExporter) row(envs ...filter.Env) {
	vals := make([]any, len(e.names))
	for i, n := range e.names {
		if len(envs) == 1 || !strings.HasPrefix(n, "app.") {
			vals[i] = envs[0].Lookup(n)
			continue
		}
		// Several application messages in one message: their values,
		// comma-joined (tshark's habit for repeated fields).
		var parts []string
		for _, env := range envs {
			parts = append(parts, report.FieldValue(env.Lookup(n)))
		}
		vals[i] = report.EscapedField(strings.Join(parts, ","))
	}
	e.fw.Row(vals)
}

func (e *fieldsExporter) Handshake(c *wsparse.Conn, h *wsparse.Handshake) {
	e.hs[c] = &wsparse.Handshake{Host: h.Host, URI: h.URI, Subprotocol: h.Subprotocol}
}

func (e *fieldsExporter) Frame(c *wsparse.Conn, f *wsparse.Frame) {
	if !e.messages {
		e.row(e.env.FrameEnv(c, f, e.hs[c]))
	}
}

func (e *fieldsExporter) Message(c *wsparse.Conn, m *wsparse.Message) {
	if e.messages {
		e.row(e.env.MessageEnv(c, m, e.hs[c], nil))
	}
}

func (e *fieldsExporter) MessageApps(c *wsparse.Conn, m *wsparse.Message, apps []appproto.App) {
	if !e.messages {
		return
	}
	if len(apps) == 0 {
		e.Message(c, m)
		return
	}
	envs := make([]filter.Env, len(apps))
	for i := range apps {
		envs[i] = e.env.MessageEnv(c, m, e.hs[c], &apps[i])
	}
	e.row(envs...)
}

func (e *fieldsExporter) End(c *wsparse.Conn, s *wsparse.Summary) { delete(e.hs, c) }
func (e *fieldsExporter) SetOrigin(t time.Time)                   { e.env.SetOrigin(t) }
func (e *fieldsExporter) Flush() error                            { return e.bw.Flush() }
func (e *fieldsExporter) Close() error                            { return e.bw.Flush() }

// connEnv is the environment of a connection of the conns view: the conn
// record's fields, and its health under conn. (conn.heartbeat.missed,
// conn.ping.unanswered), which exist only here, once the connection ended.
func connEnv(c *health.Conn, origin time.Time) filter.Env {
	conn, stream := wsparse.SplitID(c.ID)
	env := filter.Env{"type": "conn", "conn": conn, "stream": int(stream), "client": c.Client.String(), "server": c.Server.String(),
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

// selectConns keeps the connections of rep for which x is true.
func selectConns(rep *health.Report, x *filter.Expr, origin time.Time) {
	if x == nil {
		return
	}
	kept := rep.Conns[:0]
	for _, c := range rep.Conns {
		if x.Match(connEnv(c, origin)) {
			kept = append(kept, c)
		}
	}
	rep.Conns = kept
}

// bpfSource passes the packets of a file that the trailing BPF filter
// selects (-r F tcp port 80) and says on stderr how many it dropped.
type bpfSource struct {
	capture.Source
	m             *capture.Matcher
	expr          string
	stderr        io.Writer
	seen, dropped int
}

func newBPFSource(src capture.Source, args []string, stderr io.Writer) (capture.Source, error) {
	f, err := capture.ParseFilter(args...)
	if err != nil {
		return nil, usageErr("capture filter: %v", err)
	}
	m, err := capture.NewMatcher(f)
	if err != nil {
		return nil, usageErr("capture filter: %v", err)
	}
	return &bpfSource{Source: src, m: m, expr: strings.Join(args, " "), stderr: stderr}, nil
}

func (s *bpfSource) Next() (capture.Packet, error) {
	for {
		p, err := s.Source.Next()
		if err != nil {
			return p, err
		}
		s.seen++
		if ip, ok := reassembly.NetworkPayload(uint32(p.Link), p.Data); ok && s.m.Match(ip) {
			return p, nil
		}
		s.dropped++
	}
}

func (s *bpfSource) Secrets() []capture.Secrets { return secretsOf(s.Source) }

func (s *bpfSource) Close() error {
	fmt.Fprintf(s.stderr, "wsdump: capture filter %q: %d of %d packets dropped\n", s.expr, s.dropped, s.seen)
	return s.Source.Close()
}

// writeConnFields writes one line of the -e fields per connection.
func writeConnFields(w io.Writer, rep *health.Report, fl *fieldsFlags, origin time.Time) error {
	bw := bufio.NewWriter(w)
	fw := report.NewFieldsWriter(bw, fl.Fields, fl.header)
	for _, c := range rep.Conns {
		env := connEnv(c, origin)
		vals := make([]any, len(fl.Fields))
		for i, n := range fl.Fields {
			vals[i] = env.Lookup(n)
		}
		fw.Row(vals)
	}
	return bw.Flush()
}

// connHealthPass reads the capture once through the health tracker, with
// conns' defaults, and returns each connection's conn.* fields: a -Y that
// reads conn.heartbeat.missed selects frames and messages by their
// connection's health, known only at its end. The second pass, the real
// one, holds nothing: the first keeps a few fields per connection.
func connHealthPass(o *decodeOptions, keys *tlsdec.KeyLog) (func(int) map[string]any, error) {
	if len(o.Reads) == 1 && o.Reads[0] == "-" {
		return nil, usageErr("conn.* (the connection's health, known at its end) needs a file, read twice, not standard input")
	}
	src, err := o.openInputs(o.Ctx, o.Reads, o.In, io.Discard)
	if err != nil {
		return nil, inputErr(err)
	}
	if len(o.BPF) > 0 {
		if src, err = newBPFSource(src, o.BPF, io.Discard); err != nil {
			return nil, err
		}
	}
	defer src.Close()
	tr := health.New(nil, health.Options{})
	asm := pipeline.NewApps(pipeline.Tracker(tr), pipeline.TrackerApps(tr, o.Decode), o.options(wsparse.Config{EndAll: true}, keys), o.Jobs)
	err = feed(src, asm, o.ReadFile, keys, func(time.Time) {})
	asm.Finish()
	if err != nil {
		return nil, readError(err)
	}
	byID := map[int]map[string]any{}
	for _, c := range tr.Report().Conns {
		byID[c.ID], _ = connEnv(c, time.Time{})["conn_"].(map[string]any)
	}
	return func(id int) map[string]any { return byID[id] }, nil
}

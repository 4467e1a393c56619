package report

import (
	"bufio"
	"io"
	"strings"
	"time"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/filter"
	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// FieldsExporter writes one line per frame (per message with --messages)
// of the -e fields. Handshakes and connection ends have no line.
type FieldsExporter struct {
	bw       *bufio.Writer
	fw       *FieldsWriter
	names    []string
	messages bool
	env      *filter.Filter // builds the environments; it filters nothing
	spec     filter.Spec    // env's: ConnHealth and Files
	// hs: each open connection's handshake fields, when a -e field is one
	// (host, uri, subprotocol); else nothing is kept per connection.
	hs   map[*wsparse.Conn]uint32 // numbers in hst
	hst  filter.HandshakeTable
	vals []any // a row's values, reused
}

// NewFieldsExporter returns the -T fields exporter of the fields names
// (their names first with header), one line per frame, or per message
// with messages.
func NewFieldsExporter(w io.Writer, names []string, header, messages bool) *FieldsExporter {
	bw := bufio.NewWriter(w)
	e := &FieldsExporter{bw: bw, fw: NewFieldsWriter(bw, names, header), names: names,
		messages: messages, hs: map[*wsparse.Conn]uint32{}}
	e.SetConnHealth(nil)
	return e
}

// SetConnHealth gives frames and messages their connection's conn.*
// fields (filter.Spec.ConnHealth). The environments hold only the fields
// the row prints (filter.Filter.Only): a frame's payload is not copied
// into each for nothing.
func (e *FieldsExporter) SetConnHealth(h func(conn int) *filter.Health) {
	e.spec.ConnHealth = h
	e.env = filter.New(nil, e.spec)
	e.env.Only(e.names)
}

// SetFiles names the inputs by number for the file field
// (filter.Spec.Files).
func (e *FieldsExporter) SetFiles(files []string) {
	e.spec.Files = files
	e.SetConnHealth(e.spec.ConnHealth)
}

// Put writes the rows of frames or messages (one per application message
// when they were looked for).
func (e *FieldsExporter) Put(r *record.Record) {
	if r.Kind == record.Message && r.Decoded {
		e.MessageApps(r.Conn, r.Message, r.Apps)
		return
	}
	record.ToWS(e, r)
}

func (e *FieldsExporter) row(envs ...filter.Env) {
	if e.vals == nil {
		e.vals = make([]any, len(e.names))
	}
	vals := e.vals
	for i, n := range e.names {
		if len(envs) == 1 || !strings.HasPrefix(n, "app.") {
			vals[i] = envs[0].Lookup(n)
			continue
		}
		// Several application messages in one message: their values,
		// comma-joined (tshark's habit for repeated fields).
		var parts []string
		for _, env := range envs {
			parts = append(parts, FieldValue(env.Lookup(n)))
		}
		vals[i] = EscapedField(strings.Join(parts, ","))
	}
	e.fw.Row(vals)
}

func (e *FieldsExporter) Handshake(c *wsparse.Conn, h *wsparse.Handshake) {
	if e.env.UsesHandshake() {
		// A later handshake of the connection (a fallback session's
		// upgrade) replaces the first, as the copy it kept did.
		if n, ok := e.hs[c]; ok {
			e.hst.Release(n)
		}
		e.hs[c] = e.hst.Add(h)
	}
}

// fields returns c's handshake fields, nil when none are kept.
func (e *FieldsExporter) fields(c *wsparse.Conn) *filter.HandshakeFields {
	return e.hst.Get(e.hs[c])
}

func (e *FieldsExporter) Frame(c *wsparse.Conn, f *wsparse.Frame) {
	if !e.messages {
		e.row(e.env.FrameEnvOnce(c, f, e.fields(c)))
	}
}

func (e *FieldsExporter) Message(c *wsparse.Conn, m *wsparse.Message) {
	if e.messages {
		e.row(e.env.MessageEnvOnce(c, m, e.fields(c), nil))
	}
}

func (e *FieldsExporter) MessageApps(c *wsparse.Conn, m *wsparse.Message, apps []appproto.App) {
	if !e.messages {
		return
	}
	if len(apps) == 0 {
		e.Message(c, m)
		return
	}
	envs := make([]filter.Env, len(apps))
	for i := range apps {
		envs[i] = e.env.MessageEnv(c, m, e.fields(c), &apps[i])
	}
	e.row(envs...)
}

func (e *FieldsExporter) End(c *wsparse.Conn, s *wsparse.Summary) {
	if n, ok := e.hs[c]; ok {
		e.hst.Release(n)
		delete(e.hs, c)
	}
}
func (e *FieldsExporter) SetOrigin(t time.Time) { e.env.SetOrigin(t) }
func (e *FieldsExporter) Flush() error          { return e.bw.Flush() }
func (e *FieldsExporter) Close() error          { return e.bw.Flush() }

// WriteConnFields writes one line of the fields names per connection of
// rep (their names first with header).
func WriteConnFields(w io.Writer, rep *health.Report, names []string, header bool, origin time.Time) error {
	bw := bufio.NewWriter(w)
	fw := NewFieldsWriter(bw, names, header)
	for i := range rep.Len() {
		env := filter.ConnEnv(rep.Conn(i), origin, rep.Files)
		vals := make([]any, len(names))
		for i, n := range names {
			vals[i] = env.Lookup(n)
		}
		fw.Row(vals)
	}
	return bw.Flush()
}

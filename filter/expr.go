package filter

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
	"github.com/expr-lang/expr/vm/runtime"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/wsparse"
)

// Env is the environment of an expression for one record: its fields by
// their jsonl names. A field the record does not have is absent (nil).
type Env map[string]any

// Expr is a compiled -Y expression (github.com/expr-lang/expr), evaluated
// per record. A comparison with an absent field is false, whatever the
// operator (!= included); any other failure on a record (contains on an
// absent field) makes the record not match: never an error per record.
type Expr struct {
	Source string
	// UsesConn: the expression reads conn.* (the connection's health),
	// which Spec.ConnHealth supplies to frames and messages.
	UsesConn bool
	names    map[string]bool // the top-level names it reads
	prog     *vm.Program
}

// Uses reports whether the expression reads the field name (top level:
// "text", "app"), so that a record's text is not copied for nothing. An
// expression that reads $env reads every field ($env.app.type).
func (e *Expr) Uses(name string) bool { return e.names[name] || e.names["$env"] }

// connField is what "conn" means when it is followed by a dot: the
// connection's health (conn.heartbeat.missed), not its number.
const connField = "conn_"

// sampleEnv declares every field with its type, so that an unknown name or
// a comparison of a string with a number fails at compile time, with its
// column.
var sampleEnv = map[string]any{
	// every record
	"type": "", "conn": 0, "stream": 0, "ts": "", "time": 0.0, "client": "", "server": "", "anomalies": []string{},
	"host": "", "uri": "", "subprotocol": "", "encap": "", "vlan": 0, "vni": 0, "file": "",
	// frames and messages
	"src": "", "dst": "", "dir": "", "index": 0, "fin": false, "rsv": 0, "opcode": 0, "opcode_name": "",
	"masked": false, "mask_key": "", "len": 0, "header_len": 0, "close_code": 0, "close_reason": "",
	"text": "", "frames": 0, "compressed": false, "wire_len": 0, "transport": "",
	"app": map[string]any{},
	// handshakes
	"method": "", "origin": "", "user_agent": "", "status": 0, "extensions": "",
	// connections
	"end": "", "duration": 0.0, "handshake_seen": false, "confidence": "",
	"c2s": map[string]any{}, "s2c": map[string]any{},
	connField: (*Health)(nil),
}

// Fields are the names a record may have, for -T fields -e and hints.
func Fields() []string {
	names := make([]string, 0, len(sampleEnv))
	for k := range sampleEnv {
		if k != connField {
			names = append(names, k)
		}
	}
	return names
}

// tsharkFields maps Wireshark display filter fields to wsdump's.
var tsharkFields = map[string]string{
	"websocket.payload": "text", "websocket.payload.text": "text", "websocket.payload.text_unmasked": "text",
	"websocket.opcode": "opcode", "websocket.fin": "fin", "websocket.rsv": "rsv", "websocket.mask": "masked",
	"websocket.masking_key": "mask_key", "websocket.payload_length": "len", "websocket.payload_length_ext_16": "len",
	"websocket.payload_length_ext_64": "len", "websocket.payload.close.status_code": "close_code",
	"websocket.payload.close.reason": "close_reason", "websocket": `type == "frame"`,
	"tcp.stream": "conn (numbered from 1: tcp.stream + 1)", "http.request.uri": "uri", "http.host": "host",
}

var quoted = regexp.MustCompile(`"(\\.|[^"\\])*"|'(\\.|[^'\\])*'`)

// tsharkOps maps Wireshark's word operators that expr does not know.
var tsharkOps = map[string]string{"eq": "==", "ne": "!=", "gt": ">", "lt": "<", "ge": ">=", "le": "<=", "~": "matches", "===": "==", "!==": "!="}

var tsharkOp = regexp.MustCompile(`\s(eq|ne|gt|lt|ge|le|~|===|!==)\s`)

// blankQuoted replaces the string literals of src with spaces, keeping
// the byte offsets, so that their text is not taken for names.
func blankQuoted(src string) string {
	return quoted.ReplaceAllStringFunc(src, func(q string) string { return strings.Repeat(" ", len(q)) })
}

var tsharkName = regexp.MustCompile(`\b(websocket|tcp|udp|ip|ipv6|http|frame|eth)(\.[A-Za-z0-9_]+)*\b`)

// tsharkHint explains a Wireshark field name in src, with its column.
func tsharkHint(src string) error {
	loc := tsharkName.FindStringIndex(blankQuoted(src))
	if loc == nil {
		return nil
	}
	name := src[loc[0]:loc[1]]
	col := utf8.RuneCountInString(src[:loc[0]]) + 1
	if to, ok := tsharkFields[name]; ok && strings.Contains(to, " ==") {
		return fmt.Errorf("column %d: %q is a Wireshark protocol; wsdump's records say %s", col, name, to)
	} else if ok {
		return fmt.Errorf("column %d: %q is a Wireshark field; wsdump's is %s (e.g. %s)", col, name, to,
			strings.Replace(src, name, strings.Fields(to)[0], 1))
	}
	return fmt.Errorf("column %d: %q is a Wireshark field; wsdump's fields are the jsonl names (%s, ...; see the README's filter section); packets are selected with a trailing BPF filter (wsdump -r F tcp port 80)", col, name, "opcode, len, dir, text, close_code, anomalies, app.type")
}

// CompileExpr compiles a -Y expression. Errors give the column.
func CompileExpr(src string) (*Expr, error) {
	patch := &nilSafe{names: map[string]bool{}}
	prog, err := expr.Compile(src, expr.Env(sampleEnv), expr.AsBool(), expr.Patch(patch),
		expr.Function("__cmp", cmp), expr.DisableBuiltin("type"))
	if err != nil {
		if herr := tsharkHint(src); herr != nil {
			return nil, herr
		}
		if fe, ok := err.(*file.Error); ok {
			if loc := tsharkOp.FindStringSubmatchIndex(blankQuoted(src)); loc != nil {
				op := src[loc[2]:loc[3]]
				return nil, fmt.Errorf("column %d: %q is Wireshark's; wsdump's is %s", utf8.RuneCountInString(src[:loc[2]])+1, op, tsharkOps[op])
			}
			if m := healthField.FindStringSubmatch(fe.Message); m != nil {
				fe.Message = fmt.Sprintf("conn.* has no field %q; the connection's health is %s", m[1], strings.Join(HealthFields(), ", "))
			}
			if strings.Contains(fe.Message, "not callable") && strings.Contains(src, "len(") {
				fe.Message += " (len is the record's length field; anomalies != [] tests for anomalies)"
			}
			return nil, fmt.Errorf("column %d: %s%s", fe.Column+1, fe.Message, fe.Snippet)
		}
		return nil, err
	}
	return &Expr{Source: src, prog: prog, UsesConn: patch.conn, names: patch.names}, nil
}

// healthField finds the checker's message on a conn.* name that Health
// does not have.
var healthField = regexp.MustCompile(`type filter\.(?:Heartbeat|Ping)?Health has no field (\S+)`)

// HealthFields are the conn.* names, dotted, as the README lists them.
func HealthFields() []string {
	return []string{"conn.heartbeat.count", "conn.heartbeat.missed", "conn.heartbeat.kinds", "conn.ping.pings",
		"conn.ping.answered", "conn.ping.unanswered", "conn.clean", "conn.initiator"}
}

// Match evaluates the expression on env.
func (e *Expr) Match(env Env) bool { return e.match(new(vm.VM), env) }

// match evaluates the expression on env in m, a machine of the caller's
// that it reuses, stack and all (a filter's: one per record otherwise).
func (e *Expr) match(m *vm.VM, env Env) bool {
	out, err := m.Run(e.prog, map[string]any(env))
	b, _ := out.(bool)
	return err == nil && b
}

// nilSafe turns the comparisons into __cmp calls, false when a side is
// absent, and "conn." into the connection's health.
type nilSafe struct {
	conn  bool
	names map[string]bool
}

var cmpOps = map[string]int{"==": 0, "!=": 1, "<": 2, ">": 3, "<=": 4, ">=": 5}

func (p *nilSafe) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		p.names[n.Value] = true
	case *ast.MemberNode:
		if id, ok := n.Node.(*ast.IdentifierNode); ok && id.Value == "conn" {
			ast.Patch(&n.Node, &ast.IdentifierNode{Value: connField})
			p.conn = true
		}
	case *ast.BinaryNode:
		op, ok := cmpOps[n.Operator]
		if !ok {
			return
		}
		_, lnil := n.Left.(*ast.NilNode)
		_, rnil := n.Right.(*ast.NilNode)
		if lnil || rnil {
			return // "close_code == nil" asks for absence
		}
		ast.Patch(node, &ast.CallNode{
			Callee:    &ast.IdentifierNode{Value: "__cmp"},
			Arguments: []ast.Node{&ast.IntegerNode{Value: op}, n.Left, n.Right},
		})
	}
}

// cmp compares two values; an absent one (nil) makes it false.
func cmp(p ...any) (v any, err error) {
	a, b := p[1], p[2]
	if a == nil || b == nil {
		return false, nil
	}
	defer func() {
		if r := recover(); r != nil {
			v, err = false, nil
		}
	}()
	switch p[0].(int) {
	case 0:
		return runtime.Equal(a, b), nil
	case 1:
		return !runtime.Equal(a, b), nil
	case 2:
		return runtime.Less(a, b), nil
	case 3:
		return runtime.More(a, b), nil
	case 4:
		return runtime.LessOrEqual(a, b), nil
	default:
		return runtime.MoreOrEqual(a, b), nil
	}
}

// Lookup returns a field by its dotted name (app.type, c2s.frames), nil
// when the record does not have it.
func (e Env) Lookup(name string) any {
	var v any = map[string]any(e)
	if strings.HasPrefix(name, "conn.") {
		name = connField + name[len("conn"):]
	}
	parts := strings.Split(name, ".")
	for i, part := range parts {
		switch m := v.(type) {
		case map[string]any:
			v = m[part]
		case *Health:
			return m.lookup(parts[i:])
		default:
			return nil
		}
	}
	if h, ok := v.(*Health); ok {
		return h.lookup(nil)
	}
	return v
}

func anomalies(a wsparse.Anomalies) []string {
	n := a.Names()
	if n == nil {
		n = []string{}
	}
	return n
}

func rfc3339(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

func (f *Filter) common(env Env, kind string, c *wsparse.Conn, ts time.Time, h *HandshakeFields) {
	env["type"] = kind
	// A WebSocket in an HTTP/2 stream (RFC 8441): its connection's
	// number and its stream; 0 for any other.
	conn, stream := wsparse.SplitID(c.ID)
	env["conn"], env["stream"] = conn, int(stream)
	if f.uses("ts") {
		env["ts"] = rfc3339(ts)
	}
	if !f.origin.IsZero() && f.uses("time") {
		env["time"] = ts.Sub(f.origin).Seconds()
	}
	if cl := c.Client(); cl.IsValid() && (f.uses("client") || f.uses("server")) {
		env["client"] = cl.String()
		env["server"] = c.Server().String()
	}
	if h != nil {
		env["host"], env["uri"], env["subprotocol"] = h.Host(), h.URI(), h.Subprotocol()
	}
	if f.uses("encap") { // vlan and vni too (needEncap)
		encapFields(env, c.Encap())
	}
	if i := c.Input(); i < len(f.spec.Files) && f.uses("file") {
		env["file"] = f.spec.Files[i]
	}
	if f.spec.ConnHealth != nil && kind != "conn" && f.uses(connField) {
		if hl := f.spec.ConnHealth(c.ID); hl != nil {
			env[connField] = hl
		}
	}
}

// FrameEnv is a frame's environment. h is its connection's handshake, if
// seen (host, uri, subprotocol). It holds the fields the filter's
// expression or the -e fields read (Only), or every field.
func (f *Filter) FrameEnv(c *wsparse.Conn, fr *wsparse.Frame, h *HandshakeFields) Env {
	return f.frameEnv(make(Env, 24), c, fr, h)
}

// scratch returns the filter's own environment, emptied: one map for
// every record it matches (Match does not keep it), not one per record.
func (f *Filter) scratch() Env {
	if f.env == nil {
		f.env = make(Env, 24)
	}
	clear(f.env)
	return f.env
}

// FrameEnvOnce is FrameEnv in a map of the filter's own, emptied and
// filled again by the next FrameEnvOnce or MessageEnvOnce: for a caller
// done with the environment before it asks for another (-T fields).
func (f *Filter) FrameEnvOnce(c *wsparse.Conn, fr *wsparse.Frame, h *HandshakeFields) Env {
	return f.frameEnv(f.scratch(), c, fr, h)
}

// MessageEnvOnce is MessageEnv in the map of FrameEnvOnce.
func (f *Filter) MessageEnvOnce(c *wsparse.Conn, m *wsparse.Message, h *HandshakeFields, app *appproto.App) Env {
	return f.messageEnv(f.scratch(), c, m, h, app)
}

// frameEnv fills env, empty, as a frame's environment.
func (f *Filter) frameEnv(env Env, c *wsparse.Conn, fr *wsparse.Frame, h *HandshakeFields) Env {
	f.common(env, "frame", c, fr.TS, h)
	env["dir"] = fr.Dir.String()
	if f.uses("src") || f.uses("dst") {
		env["src"], env["dst"] = c.Addr[srcSide(c, fr.Dir)].String(), c.Addr[1-srcSide(c, fr.Dir)].String()
	}
	env["index"], env["fin"], env["rsv"] = fr.Index, fr.Fin, int(fr.RSV)
	env["opcode"], env["opcode_name"] = int(fr.Opcode), fr.Opcode.String()
	env["masked"] = fr.Masked
	if fr.Masked && f.uses("mask_key") {
		env["mask_key"] = fmt.Sprintf("%x", fr.MaskKey[:])
	}
	env["len"], env["header_len"] = int(fr.Length), fr.Size
	if f.uses("text") {
		env["text"] = string(fr.Payload)
	}
	if fr.HasCloseCode {
		env["close_code"], env["close_reason"] = int(fr.CloseCode), fr.CloseReason
	}
	if f.uses("anomalies") {
		env["anomalies"] = anomalies(fr.Anomalies)
	}
	return env
}

func srcSide(c *wsparse.Conn, d wsparse.Dir) int {
	if c.Addr[0] == c.Client() {
		return int(d)
	}
	return 1 - int(d)
}

// MessageEnv is a message's environment with one of its application
// messages (nil: none).
func (f *Filter) MessageEnv(c *wsparse.Conn, m *wsparse.Message, h *HandshakeFields, app *appproto.App) Env {
	return f.messageEnv(make(Env, 24), c, m, h, app)
}

// messageEnv fills env, empty, as a message's environment.
func (f *Filter) messageEnv(env Env, c *wsparse.Conn, m *wsparse.Message, h *HandshakeFields, app *appproto.App) Env {
	f.common(env, "message", c, m.TS, h)
	env["dir"], env["index"] = m.Dir.String(), m.Index
	env["opcode"], env["opcode_name"] = int(m.Opcode), m.Opcode.String()
	env["frames"], env["compressed"] = m.Frames, m.Compressed
	if !m.LenUnknown {
		env["len"] = int(m.Len)
	}
	if m.Compressed {
		env["wire_len"] = int(m.WireLen)
	}
	if m.Fallback != nil {
		env["transport"] = m.Fallback.Transport
	}
	if f.uses("text") {
		env["text"] = string(m.Data)
	}
	if f.uses("anomalies") {
		env["anomalies"] = anomalies(m.Anomalies)
	}
	if app != nil && f.uses("app") {
		a := map[string]any{"protocol": app.Protocol, "type": app.Type, "key": app.Key, "summary": app.Summary,
			"heartbeat": app.Heartbeat, "body": string(app.Body), "anomalies": app.Anomalies}
		for i := range app.NumFields() {
			fl := app.FieldAt(i)
			k := strings.ReplaceAll(strings.ToLower(fl.Key), "-", "_")
			if _, dup := a[k]; !dup {
				a[k] = fl.Value
			}
		}
		env["app"] = a
	}
	return env
}

// HandshakeEnv is a handshake's environment.
func (f *Filter) HandshakeEnv(c *wsparse.Conn, h *wsparse.Handshake) Env {
	env := Env{}
	hf := FieldsOf(h)
	f.common(env, "handshake", c, h.TS, &hf)
	env["method"], env["origin"], env["user_agent"] = h.Method, h.Origin, h.UserAgent
	env["status"], env["extensions"] = h.Status, h.Extensions
	env["anomalies"] = anomalies(h.Anomalies)
	return env
}

// SummaryEnv is a connection's environment at its end (the conn record);
// health, when the view computes it, fills conn.heartbeat etc.
func (f *Filter) SummaryEnv(c *wsparse.Conn, s *wsparse.Summary, health *Health) Env {
	env := Env{}
	var hf *HandshakeFields
	if s.Handshake != nil {
		v := FieldsOf(s.Handshake)
		hf = &v
	}
	f.common(env, "conn", c, s.Last, hf)
	if s.Handshake != nil {
		env["status"], env["extensions"] = s.Handshake.Status, s.Handshake.Extensions
	}
	env["end"], env["duration"] = string(s.End), s.Duration().Seconds()
	env["handshake_seen"], env["confidence"] = s.Handshake != nil, fmt.Sprint(s.Confidence)
	for d, name := range []string{"c2s", "s2c"} {
		st := s.Stats[d]
		env[name] = map[string]any{"frames": st.Frames, "messages": st.Messages, "control_frames": st.ControlFrames,
			"payload_bytes": int(st.PayloadBytes), "wire_bytes": int(st.WireBytes), "lost_bytes": int(st.LostBytes)}
	}
	env["close_code"] = closeCode(s)
	env["anomalies"] = anomalies(s.Anomalies)
	if health != nil {
		env[connField] = health
	}
	return env
}

// closeCode is the code of the first Close sent (nil: none with a code).
func closeCode(s *wsparse.Summary) any {
	for _, d := range []wsparse.Dir{s.Initiator, 1 - s.Initiator} {
		if cl := s.Close[d]; cl.Sent && cl.HasCode {
			return int(cl.Code)
		}
	}
	return nil
}

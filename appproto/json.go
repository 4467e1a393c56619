package appproto

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// Plain JSON messages get a compact one-line preview; JSON-RPC 2.0
// (https://www.jsonrpc.org/specification) requests, notifications,
// responses and errors, alone or in batches, are decoded and responses are
// matched to their request by id, in either direction.

// maxPending bounds the JSON-RPC requests waiting for a response; past it
// the oldest is forgotten.
const maxPending = 4096

type rpcRequest struct {
	method string
	ts     time.Time
}

type jsonDecoder struct {
	pending map[string]rpcRequest // by direction + raw id
	order   []string              // insertion order, for eviction
	quiet   bool                  // chosen by sniffing: other messages pass undecoded
}

func newJSON() *jsonDecoder { return &jsonDecoder{pending: map[string]rpcRequest{}} }

func (d *jsonDecoder) decode(s *Session, m *wsparse.Message, out []App) []App {
	b := bytes.TrimSpace(m.Data)
	if m.Opcode != wsparse.OpText || !json.Valid(b) {
		if d.quiet {
			return out
		}
		a := App{Protocol: JSON, Type: "invalid", Key: "-", Summary: "JSON invalid " + quote(string(b)),
			Anomalies: []string{"json_invalid"}}
		if m.Opcode != wsparse.OpText {
			a.Summary = "binary message"
			a.Anomalies = []string{"json_binary_frame"}
		}
		return append(out, a)
	}
	var members []Field
	var rpc bool
	if b[0] == '{' {
		// One scan for both the JSON-RPC check and the fields.
		var raw map[string]json.RawMessage
		var obj bool
		members, raw, obj = jsonObject(b)
		_, rpc = raw["jsonrpc"]
		rpc = rpc && obj
	} else {
		rpc = isRPC(b)
	}
	if rpc {
		if b[0] == '[' {
			var batch []json.RawMessage
			_ = json.Unmarshal(b, &batch)
			for _, e := range batch {
				out = append(out, d.rpc(m, e, true))
			}
			return out
		}
		return append(out, d.rpc(m, b, false))
	}
	a := App{Protocol: JSON, Key: "-", Body: clone(b)}
	switch b[0] {
	case '{':
		a.Type = "object"
		for _, f := range members {
			a.Fields = append(a.Fields, Field{f.Key, compactJSON([]byte(f.Value))})
		}
	case '[':
		a.Type = "array"
	case '"':
		a.Type = "string"
	default:
		a.Type = "scalar"
	}
	a.Summary = "JSON " + preview(compactJSON(b))
	return append(out, a)
}

// isRPC reports whether a JSON message is JSON-RPC: an object with a
// "jsonrpc" member (rpc checks that it is "2.0"), or an array whose first
// element is one.
func isRPC(b []byte) bool {
	if b[0] == '[' {
		var batch []json.RawMessage
		if json.Unmarshal(b, &batch) != nil || len(batch) == 0 {
			return false
		}
		b = batch[0]
	}
	return jsonHasKey(b, "jsonrpc")
}

func (d *jsonDecoder) rpc(m *wsparse.Message, b []byte, batch bool) App {
	a := App{Protocol: JSONRPC, Key: "-"}
	_, raw, ok := jsonObject(b)
	if !ok {
		a.Type = "invalid"
		a.Summary = "JSON-RPC invalid " + quote(compactJSON(b))
		a.Anomalies = []string{"jsonrpc_invalid"}
		return a
	}
	if jsonString(raw["jsonrpc"]) != "2.0" {
		a.Anomalies = append(a.Anomalies, "jsonrpc_bad_version")
	}
	id, hasID := raw["id"]
	idKey := ""
	if hasID && string(id) != "null" {
		idKey = jsonString(id)
	}
	method, hasMethod := raw["method"]
	dir := byte('0' + m.Dir&1)
	switch {
	case hasMethod:
		name := jsonString(method)
		if idKey != "" || hasID {
			a.Type = "request"
			if idKey != "" {
				d.remember(string(dir)+compactJSON(id), rpcRequest{name, m.TS})
			}
		} else {
			a.Type = "notification"
		}
		a.Key = keyOf("id", idKey, "method", name)
		a.Body = clone(raw["params"])
		a.Fields = []Field{{"method", name}}
		if idKey != "" {
			a.Fields = append(a.Fields, Field{"id", idKey})
		}
		a.Summary = "RPC " + a.Type + " " + preview(name)
		if idKey != "" {
			a.Summary += " id=" + preview(idKey)
		}
		if len(a.Body) > 0 {
			a.Summary += " " + preview(compactJSON(a.Body))
		}
	default:
		res, isResult := raw["result"]
		errv, isErr := raw["error"]
		if isErr {
			a.Type = "error"
			a.Body = clone(errv)
		} else {
			a.Type = "response"
			a.Body = clone(res)
			if !isResult {
				a.Anomalies = append(a.Anomalies, "jsonrpc_no_result")
			}
		}
		other := byte('0' + (m.Dir & 1) ^ 1)
		req, matched := d.take(string(other) + compactJSON(id))
		a.Key = keyOf("id", idKey, "method", req.method)
		a.Fields = []Field{{"id", idKey}}
		a.Summary = "RPC " + a.Type
		if idKey != "" {
			a.Summary += " id=" + preview(idKey)
		}
		if matched {
			a.Latency = m.TS.Sub(req.ts)
			a.Fields = append(a.Fields, Field{"method", req.method}, Field{"latency_ms", formatMS(a.Latency)})
			a.Summary += " " + preview(req.method) + " " + formatMS(a.Latency) + " ms"
		} else if idKey != "" {
			a.Anomalies = append(a.Anomalies, "jsonrpc_unmatched_response")
		}
		if len(a.Body) > 0 {
			a.Summary += " " + preview(compactJSON(a.Body))
		}
	}
	if batch {
		a.Fields = append(a.Fields, Field{"batch", "true"})
	}
	return a
}

func (d *jsonDecoder) remember(k string, r rpcRequest) {
	if _, dup := d.pending[k]; !dup {
		d.order = append(d.order, k)
	}
	d.pending[k] = r
	for len(d.pending) > maxPending && len(d.order) > 0 {
		delete(d.pending, d.order[0])
		d.order = d.order[1:]
	}
}

func (d *jsonDecoder) take(k string) (rpcRequest, bool) {
	r, ok := d.pending[k]
	if ok {
		delete(d.pending, k)
		if len(d.order) > 2*maxPending {
			d.compact()
		}
	}
	return r, ok
}

// compact drops answered ids from the eviction order.
func (d *jsonDecoder) compact() {
	keep := d.order[:0]
	for _, k := range d.order {
		if _, ok := d.pending[k]; ok {
			keep = append(keep, k)
		}
	}
	d.order = keep
}

// formatMS renders a duration in milliseconds with three decimals.
func formatMS(t time.Duration) string {
	return trimFloat(float64(t.Microseconds()) / 1000)
}

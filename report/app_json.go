package report

import (
	"strconv"
	"time"

	"github.com/wsdump/wsdump/appproto"
)

// AppJSON renders an App as the "app" object of a jsonl message record:
//
//	{"protocol":"stomp","type":"SEND","key":"destination=/a","summary":"STOMP SEND /a 2 B",
//	 "fields":{"command":"SEND","destination":"/a",...},"body_len":2,
//	 "heartbeat":true,"latency_ms":1.5,"anomalies":["..."]}
//
// fields keep their order; a key that repeats (STOMP repeated headers, MQTT
// SUBSCRIBE topics) becomes an array of its values. heartbeat, latency_ms
// and anomalies appear only when set. The body itself is left to the
// message record's data.
func AppJSON(a appproto.App) []byte {
	size := 96 + len(a.Protocol) + len(a.Type) + len(a.Key) + len(a.Summary) + 8*len(a.Anomalies)
	for _, f := range a.Fields {
		size += len(f.Key) + len(f.Value) + 6
	}
	for _, s := range a.Anomalies {
		size += len(s)
	}
	return AppendAppJSON(make([]byte, 0, size+size/8), a) // room for some escapes
}

// AppendAppJSON appends what AppJSON returns to b. Its strings are written
// as json.Marshal writes them (jsonMarshal), unlike the rest of a jsonl
// record (jsonTerminal): the golden files hold both.
func AppendAppJSON(b []byte, a appproto.App) []byte {
	b = append(b, `{"protocol":`...)
	b = appendJSONString(b, a.Protocol)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, a.Type)
	b = append(b, `,"key":`...)
	b = appendJSONString(b, a.Key)
	b = append(b, `,"summary":`...)
	b = appendJSONString(b, a.Summary)
	b = append(b, `,"fields":{`...)
	var seen map[string]bool // keys done, when there are too many fields to look back
	if len(a.Fields) > 16 {
		seen = map[string]bool{}
	}
	first := true
	for i, f := range a.Fields {
		if repeated(a.Fields, i, seen) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendJSONString(b, f.Key)
		b = append(b, ':')
		more := false
		for _, g := range a.Fields[i+1:] {
			if g.Key == f.Key {
				more = true
				break
			}
		}
		if !more {
			b = appendJSONString(b, f.Value)
			continue
		}
		b = append(b, '[')
		b = appendJSONString(b, f.Value)
		for _, g := range a.Fields[i+1:] {
			if g.Key == f.Key {
				b = append(b, ',')
				b = appendJSONString(b, g.Value)
			}
		}
		b = append(b, ']')
	}
	b = append(b, `},"body_len":`...)
	b = strconv.AppendInt(b, int64(len(a.Body)), 10)
	if a.Heartbeat {
		b = append(b, `,"heartbeat":true`...)
	}
	if a.Latency > 0 {
		b = append(b, `,"latency_ms":`...)
		b = append(b, formatMS(a.Latency)...)
	}
	if len(a.Anomalies) > 0 {
		b = append(b, `,"anomalies":[`...)
		for i, s := range a.Anomalies {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, s)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// repeated reports whether fields[i]'s key came before it: from seen, which
// it keeps, when it is not nil, else by looking back.
func repeated(fields []appproto.Field, i int, seen map[string]bool) bool {
	k := fields[i].Key
	if seen != nil {
		if seen[k] {
			return true
		}
		seen[k] = true
		return false
	}
	for _, f := range fields[:i] {
		if f.Key == k {
			return true
		}
	}
	return false
}

// formatMS is appproto's rendering of a latency (milliseconds, three
// decimals), the one its summaries and fields use.
func formatMS(d time.Duration) string { return appproto.FormatMS(d) }

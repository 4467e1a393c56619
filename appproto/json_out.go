package appproto

import (
	"encoding/json"
	"strconv"
)

// MarshalJSON renders an App as the "app" object of a jsonl message record:
//
//	{"protocol":"stomp","type":"SEND","key":"destination=/a","summary":"STOMP SEND /a 2 B",
//	 "fields":{"command":"SEND","destination":"/a",...},"body_len":2,
//	 "heartbeat":true,"latency_ms":1.5,"anomalies":["..."]}
//
// fields keep their order; a key that repeats (STOMP repeated headers, MQTT
// SUBSCRIBE topics) becomes an array of its values. heartbeat, latency_ms
// and anomalies appear only when set. The body itself is left to the
// message record's data.
func (a App) MarshalJSON() ([]byte, error) {
	b := []byte(`{"protocol":`)
	b = appendJSONString(b, a.Protocol)
	b = append(b, `,"type":`...)
	b = appendJSONString(b, a.Type)
	b = append(b, `,"key":`...)
	b = appendJSONString(b, a.Key)
	b = append(b, `,"summary":`...)
	b = appendJSONString(b, a.Summary)
	b = append(b, `,"fields":{`...)
	done := map[string]bool{}
	first := true
	for i, f := range a.Fields {
		if done[f.Key] {
			continue
		}
		done[f.Key] = true
		var vals []string
		for _, g := range a.Fields[i:] {
			if g.Key == f.Key {
				vals = append(vals, g.Value)
			}
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendJSONString(b, f.Key)
		b = append(b, ':')
		if len(vals) == 1 {
			b = appendJSONString(b, vals[0])
			continue
		}
		b = append(b, '[')
		for j, v := range vals {
			if j > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, v)
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
	return append(b, '}'), nil
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // never fails for a string; invalid UTF-8 becomes U+FFFD
	return append(b, q...)
}

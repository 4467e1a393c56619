package httpfb

import (
	"bytes"
	"encoding/base64"
	"unicode/utf16"
	"unicode/utf8"
)

// Packet is one Engine.IO packet of a polling payload.
type Packet struct {
	Data   []byte // the packet as a WebSocket message would carry it: type digit and data; binary: the bytes
	Binary bool
}

// Payload splits an Engine.IO polling payload into packets: v4 separates
// them with the record separator 0x1e and sends binary packets as 'b' and
// base64; v3 prefixes each with its length in characters and a colon
// (binary: 'b' + type digit + base64). bad counts the bytes that could
// not be decoded.
func Payload(p []byte, version int) (pk []Packet, bad int) {
	if len(p) == 0 {
		return nil, 0
	}
	if version == 3 && len(p) > 0 && p[0] != 0 && p[0] != 1 {
		return payloadV3(p)
	}
	if version == 3 {
		return payloadV3Binary(p)
	}
	recs := bytes.Split(p, []byte{0x1e})
	nonEmpty := 0
	for _, rec := range recs {
		if len(rec) > 0 {
			nonEmpty++
		}
	}
	bad = len(recs) - 1 - max(nonEmpty-1, 0) // separators with no packet on one side
	for _, rec := range recs {
		if len(rec) == 0 {
			continue
		}
		if rec[0] == 'b' {
			d, err := base64.StdEncoding.DecodeString(string(rec[1:]))
			if err != nil {
				bad += len(rec)
				continue
			}
			pk = append(pk, Packet{Data: d, Binary: true})
			continue
		}
		if rec[0] < '0' || rec[0] > '6' {
			bad += len(rec)
			continue
		}
		pk = append(pk, Packet{Data: rec})
	}
	return pk, bad
}

// payloadV3 splits "len:packet" records; len counts UTF-16 code units.
func payloadV3(p []byte) (pk []Packet, bad int) {
	for len(p) > 0 {
		i := bytes.IndexByte(p, ':')
		if i <= 0 || i > 10 {
			return pk, bad + len(p)
		}
		n := 0
		for _, ch := range p[:i] {
			if ch < '0' || ch > '9' {
				return pk, bad + len(p)
			}
			n = n*10 + int(ch-'0')
		}
		pre := i + 1 // the "n:" prefix: not decoded with a packet that breaks
		p = p[i+1:]
		// Walk n UTF-16 units.
		j, units := 0, 0
		for units < n && j < len(p) {
			r, size := utf8.DecodeRune(p[j:])
			j += size
			units += len(utf16.Encode([]rune{r}))
		}
		if units != n || n == 0 {
			return pk, bad + pre + len(p)
		}
		rec := p[:j]
		p = p[j:]
		if rec[0] == 'b' && len(rec) > 1 {
			d, err := base64.StdEncoding.DecodeString(string(rec[2:]))
			if err != nil {
				bad += pre + len(rec)
				continue
			}
			pk = append(pk, Packet{Data: append([]byte{rec[1] - '0'}, d...), Binary: true})
			continue
		}
		if rec[0] < '0' || rec[0] > '6' {
			bad += pre + len(rec)
			continue
		}
		pk = append(pk, Packet{Data: rec})
	}
	return pk, bad
}

// payloadV3Binary splits a v3 binary payload (XHR2 clients): per packet a
// byte 0 (text) or 1 (binary), its length in bytes as decimal digit bytes
// (0-9), 0xff, then the packet (a binary one with its type byte first, as
// v3 sends it on a WebSocket).
func payloadV3Binary(p []byte) (pk []Packet, bad int) {
	for len(p) > 0 {
		if p[0] > 1 {
			return pk, bad + len(p)
		}
		bin := p[0] == 1
		i, n := 1, 0
		for i < len(p) && p[i] != 0xff {
			if p[i] > 9 || i > 10 {
				return pk, bad + len(p)
			}
			n = n*10 + int(p[i])
			i++
		}
		if i == 1 || i == len(p) || n == 0 || len(p)-i-1 < n {
			return pk, bad + len(p)
		}
		rec := p[i+1 : i+1+n]
		p = p[i+1+n:]
		if !bin && (rec[0] < '0' || rec[0] > '6') {
			bad += len(rec)
			continue
		}
		pk = append(pk, Packet{Data: rec, Binary: bin})
	}
	return pk, bad
}

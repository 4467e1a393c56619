package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/tlsdec"
)

// tlsRecordSpan is one TLS record of a direction: its bytes in the TCP
// stream and, decrypted, in the plaintext.
type tlsRecordSpan struct {
	w0, w1 int // TCP stream offsets
	p0, p1 int // plaintext offsets (p0 == p1: none)
}

// wssMessageSpan is a data message's place in a direction's plaintext.
type wssMessageSpan struct {
	p0, p1 int
	key    string // "opcode len sha256", as readManifest has it
}

// wssSpans decrypts a single-connection wss capture with its key log and
// maps each direction's records and messages: offsets of each packet's
// payload in its direction's stream (pktOff), records, messages.
func wssSpans(t *testing.T, pkts []rawPacket, keys *tlsdec.KeyLog) (pktOff []int, recs [2][]tlsRecordSpan, msgs [2][]wssMessageSpan) {
	t.Helper()
	var plain [2][]byte
	c := tlsdec.NewConn(keys, func(side int, p []byte, ts time.Time) { plain[side] = append(plain[side], p...) })
	var off, need, have [2]int // stream offset, current record's size, bytes of it seen
	var hdr [2][]byte
	pktOff = make([]int, len(pkts))
	for i, p := range pkts {
		if p.dir < 0 || p.payload == 0 {
			continue
		}
		d, b := p.dir, p.bytes
		pktOff[i] = off[d]
		for len(b) > 0 {
			if need[d] == 0 { // in a header
				n := min(5-len(hdr[d]), len(b))
				hdr[d] = append(hdr[d], b[:n]...)
				c.Feed(d, b[:n], p.ts)
				b, off[d] = b[n:], off[d]+n
				if len(hdr[d]) == 5 {
					need[d], have[d] = int(hdr[d][3])<<8|int(hdr[d][4]), 0
					recs[d] = append(recs[d], tlsRecordSpan{w0: off[d] - 5, p0: len(plain[d])})
					hdr[d] = hdr[d][:0]
				}
				continue
			}
			n := min(need[d]-have[d], len(b))
			c.Feed(d, b[:n], p.ts)
			b, off[d], have[d] = b[n:], off[d]+n, have[d]+n
			if have[d] == need[d] {
				need[d] = 0
				r := &recs[d][len(recs[d])-1]
				r.w1, r.p1 = off[d], len(plain[d])
			}
		}
	}
	if in := c.Info(); !in.Decrypted {
		t.Fatalf("reference decryption: %+v", in)
	}
	for d := range plain {
		msgs[d] = wsMessagesIn(t, plain[d], d == 0)
	}
	return pktOff, recs, msgs
}

// wsMessagesIn lists the data messages of one direction's plaintext: an
// HTTP head, then WebSocket frames.
func wsMessagesIn(t *testing.T, b []byte, masked bool) []wssMessageSpan {
	t.Helper()
	i := bytes.Index(b, []byte("\r\n\r\n"))
	if i < 0 {
		t.Fatal("no HTTP head in the plaintext")
	}
	pos := i + 4
	var out []wssMessageSpan
	var cur *wssMessageSpan
	var op int
	var data []byte
	flush := func() {
		if cur != nil {
			s := sha256.Sum256(data)
			cur.key = strings.Join([]string{string(rune('0' + op)), itoa(len(data)), hex.EncodeToString(s[:])}, " ")
			out = append(out, *cur)
		}
		cur, data = nil, nil
	}
	for pos+2 <= len(b) {
		start := pos
		fop, n := int(b[pos]&0x0f), int(b[pos+1]&0x7f)
		pos += 2
		switch n {
		case 126:
			n, pos = int(b[pos])<<8|int(b[pos+1]), pos+2
		case 127:
			n = 0
			for _, x := range b[pos : pos+8] {
				n = n<<8 | int(x)
			}
			pos += 8
		}
		var mask []byte
		if masked {
			mask, pos = b[pos:pos+4], pos+4
		}
		payload := append([]byte(nil), b[pos:pos+n]...)
		for j := range payload {
			if mask != nil {
				payload[j] ^= mask[j&3]
			}
		}
		pos += n
		switch {
		case fop == 1 || fop == 2:
			flush()
			cur, op, data = &wssMessageSpan{p0: start}, fop, payload
			cur.p1 = pos
		case fop == 0 && cur != nil:
			cur.p1, data = pos, append(data, payload...)
		}
	}
	flush()
	return out
}

// TestWssSegmentLoss drops each data segment of real wss captures in turn,
// after the HTTP upgrade, and checks the messages against the generators'
// manifests: every message none of whose TLS records the segment touched
// comes out whole, and none that was not sent. A lost segment costs the
// records it touched, found again by their headers and sequence numbers
// (tlsdec/resync.go); until session 36 the side's decryption ended at any
// gap past a record's end, and its later messages were lost: over all
// drops, 250 of 284 untouched messages came out on gen__wss-go-tls13, 322
// of 356 on the TLS 1.2 GCM capture, 358 of 392 on ChaCha20, 47 of 53 on
// each node capture (all of them now). CBC suites still end the side:
// only the messages before the cut are expected there. The two captures
// whose server renegotiates TLS 1.2 twice lose a side's bytes behind the
// hole while the other's renegotiation messages go on: until session 38's
// review 122 of 169 untouched messages came out on the -full one (now
// all, on both).
func TestWssSegmentLoss(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"gen__wss-go-tls13", "gen__wss-go-tls12-aes128gcm", "gen__wss-go-tls12-chacha20",
		"gen__wss-node-tls13", "gen__wss-node-tls13-chacha20", "gen__wss-go-tls12-aes128cbc-sha",
		"gen__wss-node-tls12-reneg", "gen__wss-node-tls12-reneg-full"} {
		t.Run(name, func(t *testing.T) {
			base := filepath.Join("..", "..", "testdata", "pcaps", name)
			f, err := os.Open(base + ".keys")
			if err != nil {
				t.Fatal(err)
			}
			keys, err := tlsdec.ParseKeyLog(f)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
			cbc := strings.Contains(name, "cbc")
			pkts := readCapture(t, base+".pcap")
			pktOff, recs, msgs := wssSpans(t, pkts, keys)
			want := readManifest(t, base+".messages.tsv")
			dirs := []string{"c2s", "s2c"}
			for d := range msgs {
				var keys []string
				for _, m := range msgs[d] {
					keys = append(keys, m.key)
				}
				if strings.Join(keys, "\n") != strings.Join(want[dirs[d]], "\n") {
					t.Fatalf("%s: the plaintext's messages are not the manifest's:\n%v\n%v", dirs[d], keys, want[dirs[d]])
				}
			}
			drops, expected, found := 0, 0, 0
			for i, p := range pkts {
				if p.dir < 0 || p.payload == 0 {
					continue
				}
				d, w0, w1 := p.dir, pktOff[i], pktOff[i]+p.payload
				// The plaintext of the records the segment touches.
				p0, p1, app := -1, -1, true
				for _, r := range recs[d] {
					if r.w1 > w0 && r.w0 < w1 {
						if p0 < 0 {
							p0 = r.p0
						}
						p1, app = r.p1, app && r.p1 > r.p0
					}
				}
				if p0 < 0 || !app || len(msgs[d]) == 0 || p0 < msgs[d][0].p0 {
					continue // the handshakes, or records that are not application data
				}
				drops++
				kept := append(append([]rawPacket(nil), pkts[:i]...), pkts[i+1:]...)
				out, errs, code := runWsdump(t, captureBytes(t, kept, 0), "-r", "-", "--keylog", base+".keys", "--format", "jsonl")
				if code != 0 {
					t.Fatalf("packet %d dropped: exit %d: %s", i, code, errs)
				}
				got := map[string]int{}
				for _, r := range parseJSONLType(t, out, "message") {
					if r.Type != "message" {
						continue
					}
					data, sum := r.dataSHA256(t)
					k := r.Dir + " " + itoa(r.Opcode) + " " + itoa(len(data)) + " " + sum
					if len(r.Anomalies) > 0 {
						k += " " + strings.Join(r.Anomalies, ",") // said to be incomplete
					}
					got[k]++
				}
				touched := map[string]int{}
				for dd := range msgs {
					for _, m := range msgs[dd] {
						if dd == d && m.p1 > p0 && (m.p0 < p1 || cbc) {
							touched[dirs[dd]+" "+m.key]++
							continue // touched (CBC: or after the cut)
						}
						expected++
						if k := dirs[dd] + " " + m.key; got[k] > 0 {
							got[k]--
							found++
						} else {
							t.Errorf("packet %d (%s, stream bytes %d-%d, plaintext %d-%d) dropped: message %s at %d-%d missing",
								i, dirs[d], w0, w1, p0, p1, k, m.p0, m.p1)
						}
					}
				}
				for k, n := range got {
					if n > touched[k] && !strings.Contains(k, "incomplete") && !strings.Contains(k, "truncated") {
						t.Errorf("packet %d dropped: message %.80s that was not sent", i, k)
					}
				}
			}
			t.Logf("%s: %d segments dropped in turn: %d of %d untouched messages found", name, drops, found, expected)
			if drops == 0 {
				t.Error("no segment dropped")
			}
		})
	}
}

// TestWssEarlyDataUnanswered: a capture that ends before the server
// answered a client's 0-RTT early data: the reassembler's end of the
// connection passes on what the TLS layer held, and the TLS record says so.
func TestWssEarlyDataUnanswered(t *testing.T) {
	base := filepath.Join("..", "..", "testdata", "pcaps", "gen__wss-openssl-0rtt")
	pkts := readCapture(t, base+".pcap")
	last := -1
	for i, p := range pkts {
		if p.dir == 0 && p.payload > 0 && bytes.HasPrefix(p.bytes, []byte{0x16, 3, 1}) {
			last = i // the last ClientHello: the resumed session's, with early data
		}
	}
	cut := len(pkts)
	for i := last + 1; i < len(pkts); i++ {
		if pkts[i].dir == 1 && pkts[i].payload > 0 {
			cut = i
			break
		}
	}
	if last < 0 || cut == len(pkts) {
		t.Fatalf("no 0-RTT ClientHello (%d) or server answer (%d)", last, cut)
	}
	out, errs, code := runWsdump(t, captureBytes(t, pkts[:cut], 0), "-r", "-", "--keylog", base+".keys", "--format", "jsonl")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	// The early data is the upgrade request: its handshake record, with
	// no response, carries the TLS layer's word.
	hs := parseJSONLType(t, out, "handshake")
	if len(hs) != 1 || !strings.Contains(out, `"uri":"/chat"`) ||
		!strings.Contains(out, `"error":"the server's answer to the client's 0-RTT early data was not seen: 154 bytes passed on as sent"`) {
		t.Errorf("%d handshakes:\n%s", len(hs), out)
	}
}

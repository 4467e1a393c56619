package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"math/rand"
	"os"
	"strconv"
	"strings"
	"testing"
)

// wireMessage is a data message as it sits in a direction's byte stream:
// its first frame's start to its last frame's end, and the SHA-256 of its
// payload.
type wireMessage struct {
	start, end uint32
	sum        string
}

// messagesOnWire groups the frames on the wire into messages: a text or
// binary frame starts one, continuations extend it, control frames do not
// count.
func messagesOnWire(t *testing.T, wire [2][]wireFrame) [2][]wireMessage {
	t.Helper()
	var out [2][]wireMessage
	for dir := range wire {
		var cur *wireMessage
		var data []byte
		flush := func() {
			if cur != nil {
				s := sha256.Sum256(data)
				cur.sum = hex.EncodeToString(s[:])
				out[dir] = append(out[dir], *cur)
			}
			cur, data = nil, nil
		}
		for _, f := range wire[dir] {
			parts := strings.SplitN(f.key, "/", 3)
			op, _ := strconv.Atoi(parts[0])
			payload, err := base64.StdEncoding.DecodeString(parts[2])
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case op == 1 || op == 2:
				flush()
				cur = &wireMessage{start: f.start, end: f.end}
				data = payload
			case op == 0 && cur != nil:
				cur.end = f.end
				data = append(data, payload...)
			}
		}
		flush()
	}
	return out
}

// TestLossLargeFragments drops 5% of the data segments of a real
// gorilla/websocket capture whose large messages go out as 256 KiB
// fragments (each spanning about four loopback segments), and counts the
// messages none of whose bytes were lost that come out whole. The search
// for frame boundaries after a gap must reach past a whole fragment and
// must never stop decoding a direction.
func TestLossLargeFragments(t *testing.T) {
	t.Parallel() // decodes of captures of its own
	const name = "gen__gorilla-big.pcap"
	pkts, wire := loadLossFixture(t, name)
	msgs := messagesOnWire(t, wire)
	want := readManifest(t, "../../testdata/pcaps/gen__gorilla-big.messages.tsv")
	for dir, d := range []string{"c2s", "s2c"} {
		if len(msgs[dir]) != len(want[d]) {
			t.Fatalf("%s: %d messages on the wire, manifest has %d", d, len(msgs[dir]), len(want[d]))
		}
	}
	untouched, found, gaps := 0, 0, 0
	for seed := int64(1); seed <= 10; seed++ {
		rng := rand.New(rand.NewSource(seed))
		var kept []rawPacket
		var lost [2][][2]uint32
		for i, p := range pkts {
			// The handshake's segments are kept: that is another test.
			if p.payload > 0 && i > 8 && rng.Float64() < 0.05 {
				lost[p.dir] = append(lost[p.dir], [2]uint32{p.seq, p.seq + uint32(p.payload)})
				gaps++
				continue
			}
			kept = append(kept, p)
		}
		out, errs, code := runWsdump(t, captureBytes(t, kept, 0), "-r", "-", "--format", "jsonl")
		if code != 0 {
			t.Fatalf("seed %d: exit %d: %s", seed, code, errs)
		}
		got := [2]map[string]int{{}, {}}
		for _, r := range parseJSONLType(t, out, "message") {
			if r.Type != "message" {
				continue
			}
			_, sum := r.dataSHA256(t)
			d := 0
			if r.Dir == "s2c" {
				d = 1
			}
			got[d][sum]++
		}
		for dir := range msgs {
			for _, m := range msgs[dir] {
				if touchedBy(lost)(dir, wireFrame{start: m.start, end: m.end}) {
					continue
				}
				untouched++
				if got[dir][m.sum] > 0 {
					got[dir][m.sum]--
					found++
				} else if os.Getenv("RESYNC_DEBUG") != "" {
					t.Logf("seed %d dir %d: lost untouched message at %d-%d (%d bytes); gaps %v", seed, dir, m.start, m.end, m.end-m.start, lost[dir])
				}
			}
		}
	}
	pct := 100 * float64(found) / float64(max(untouched, 1))
	t.Logf("%s, 5%% loss, 10 seeds (%d segments dropped): %d of %d untouched messages recovered (%.2f%%)", name, gaps, found, untouched, pct)
	if pct < 99 {
		t.Errorf("only %.2f%% of untouched messages recovered", pct)
	}
}

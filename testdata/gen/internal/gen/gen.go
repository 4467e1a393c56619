// Package gen holds helpers shared by the Go traffic generators: a seeded
// PRNG for deterministic payloads and the messages.tsv manifest writer.
package gen

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"sync"
)

// Rand is splitmix64; the same seed always yields the same payloads.
type Rand struct {
	s      uint64
	seq    int      // record counter for JSONText / StructBinary
	bodies [][]byte // StructBinary's fixed record bodies, made on first use
}

func NewRand(seed uint64) *Rand { return &Rand{s: seed} }

func (r *Rand) Uint64() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;-_!?"

// Text returns n printable ASCII bytes.
func (r *Rand) Text(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.Uint64()%uint64(len(alphabet))]
	}
	return b
}

// Binary returns n arbitrary bytes.
func (r *Rand) Binary(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint64())
	}
	return b
}

func (r *Rand) intn(n int) int { return int(r.Uint64() % uint64(n)) }

var (
	users  = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"}
	events = []string{"login", "logout", "click", "view", "purchase", "scroll", "search", "error"}
	words  = strings.Fields("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor " +
		"incididunt ut labore et dolore magna aliqua websocket frame deflate window")
)

// record returns one JSON-ish event record. Records share their keys and
// draw values from small vocabularies: compressible, and later messages find
// matches in earlier ones when a permessage-deflate context is kept.
func (r *Rand) record() string {
	seq := r.seq
	r.seq++
	var note []string
	for i, n := 0, 2+r.intn(6); i < n; i++ {
		note = append(note, words[r.intn(len(words))])
	}
	return fmt.Sprintf(`{"seq":%d,"user":%q,"event":%q,"ts":%d,"path":"/api/v1/items/%d","ok":%t,"latency_ms":%d.%02d,"note":%q}`,
		seq, users[r.intn(len(users))], events[r.intn(len(events))], 1700000000000+seq*37+r.intn(30),
		r.intn(500), r.intn(10) != 0, r.intn(250), r.intn(100), strings.Join(note, " "))
}

// JSONText returns exactly n bytes of ASCII: a JSON array of records padded
// with spaces (cut, for tiny n).
func (r *Rand) JSONText(n int) []byte {
	var b strings.Builder
	b.WriteString("[")
	for {
		rec := r.record()
		if b.Len() > 1 {
			rec = ",\n" + rec
		}
		if b.Len()+len(rec)+1 > n {
			break
		}
		b.WriteString(rec)
	}
	b.WriteString("]")
	s := b.String()
	if len(s) > n {
		return []byte(s[:n])
	}
	return []byte(s + strings.Repeat(" ", n-len(s)))
}

// StructBinary returns n bytes of 32-byte binary records: magic, sequence
// number, timestamp, a type from a small set, 2 random bytes and one of 8
// fixed 16-byte bodies.
func (r *Rand) StructBinary(n int) []byte {
	if r.bodies == nil {
		for i := 0; i < 8; i++ {
			r.bodies = append(r.bodies, r.Binary(16))
		}
	}
	b := make([]byte, (n+31)/32*32)
	for off := 0; off < len(b); off += 32 {
		seq := r.seq
		r.seq++
		copy(b[off:], "WSDR")
		binary.BigEndian.PutUint32(b[off+4:], uint32(seq))
		binary.BigEndian.PutUint32(b[off+8:], uint32(1700000000+seq*3))
		binary.BigEndian.PutUint16(b[off+12:], uint16(1+r.intn(5)))
		binary.BigEndian.PutUint16(b[off+14:], uint16(r.Uint64()))
		copy(b[off+16:], r.bodies[r.intn(len(r.bodies))])
	}
	return b[:n]
}

// Manifest records every data message sent, in send order.
type Manifest struct {
	mu    sync.Mutex
	lines []string
}

func (m *Manifest) Add(dir string, opcode int, payload []byte) {
	sum := sha256.Sum256(payload)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.lines = append(m.lines, fmt.Sprintf("%s\t%d\t%d\t%s\n", dir, opcode, len(payload), hex.EncodeToString(sum[:])))
}

func (m *Manifest) Write(path string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := "dir\topcode\tlen\tsha256\n"
	for _, l := range m.lines {
		out += l
	}
	return os.WriteFile(path, []byte(out), 0o644)
}

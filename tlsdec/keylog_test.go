package tlsdec

import (
	"bufio"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
)

// zeros is an endless reader of zero bytes (--keylog /dev/zero) that
// counts what was read and, so that a parse that never stops still ends
// the test, fails past stop bytes.
type zeros struct{ n, stop int }

func (z *zeros) Read(p []byte) (int, error) {
	if z.n >= z.stop {
		return 0, errors.New("read past any bound")
	}
	clear(p)
	z.n += len(p)
	return len(p), nil
}

// TestKeyLogEndless: an input without newlines ends the parse with an
// error once a line is over the bound, having read little more than it.
func TestKeyLogEndless(t *testing.T) {
	z := &zeros{stop: 256 << 20}
	_, err := ParseKeyLog(z)
	t.Logf("read %d bytes: %v", z.n, err)
	if err == nil || !strings.Contains(err.Error(), "without a newline") || !strings.Contains(err.Error(), "not an NSS key log") {
		t.Errorf("error %v", err)
	}
	if z.n > 2<<20 {
		t.Errorf("read %d bytes", z.n)
	}
}

// TestKeyLogTooBig: a key log over the total bound (lowered here) ends with
// an error; lines up to the bound were read.
func TestKeyLogTooBig(t *testing.T) {
	defer func(n int) { keyLogBytes = n }(keyLogBytes)
	keyLogBytes = 1 << 20
	line := "CLIENT_RANDOM " + strings.Repeat("ab", 32) + " " + strings.Repeat("11", 48) + "\n"
	k, err := ParseKeyLog(io.MultiReader(strings.NewReader(line), &zeros{stop: 64 << 20}))
	if !errors.Is(err, ErrKeyLogLimit) || k.Len() != 1 {
		t.Errorf("%v, %d entries", err, k.Len())
	}
	k, err = ParseKeyLog(strings.NewReader(strings.Repeat("# a comment line\n", 70000)))
	if err == nil || !strings.Contains(err.Error(), "more than 1048576 bytes") {
		t.Errorf("error %v", err)
	}
}

// writeKeyLog writes n CLIENT_RANDOM lines with random client randoms and
// secrets (as bench/memgen does) and returns one client random and its
// master secret.
func writeKeyLog(w io.Writer, n int) (cr, ms string) {
	rng := rand.New(rand.NewPCG(1, 2))
	bw := bufio.NewWriter(w)
	var b [80]byte
	for range n {
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		cr, ms = hex.EncodeToString(b[:32]), hex.EncodeToString(b[32:])
		fmt.Fprintf(bw, "CLIENT_RANDOM %s %s\n", cr, ms)
	}
	bw.Flush()
	return cr, ms
}

// TestKeyLogMemory: a key log's secrets are held in about the size of the
// binary records (82 bytes a line), not a map of strings and *Secrets.
func TestKeyLogMemory(t *testing.T) {
	const n = 200000
	pr, pw := io.Pipe()
	var cr, ms string
	go func() { cr, ms = writeKeyLog(pw, n); pw.Close() }()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	k, err := ParseKeyLog(pr)
	runtime.GC()
	runtime.ReadMemStats(&after)
	if err != nil || k.Len() != n || k.Malformed != 0 {
		t.Fatalf("%v: %d entries, %d malformed", err, k.Len(), k.Malformed)
	}
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%.1f bytes per line (%d lines)", per, n)
	if per > 120 {
		t.Errorf("%.1f bytes per key log line", per)
	}
	s := k.Lookup([32]byte(h(cr)))
	if s == nil || hex.EncodeToString(s.MasterSecret) != ms {
		t.Errorf("last line: %+v", s)
	}
	runtime.KeepAlive(k)
}

// TestKeyLogFork: a fork sees its parent's secrets and its own, and
// merging into it leaves the parent alone.
func TestKeyLogFork(t *testing.T) {
	a, b := strings.Repeat("ab", 32), strings.Repeat("cd", 32)
	parent, _ := ParseKeyLog(strings.NewReader("CLIENT_RANDOM " + a + " " + strings.Repeat("11", 48) + "\n"))
	fork := parent.Fork()
	o, _ := ParseKeyLog(strings.NewReader("CLIENT_RANDOM " + a + " " + strings.Repeat("22", 48) + "\nCLIENT_RANDOM " + b + " " + strings.Repeat("33", 48) + "\n"))
	fork.Merge(o)
	if fork.Len() != 2 || parent.Len() != 1 {
		t.Errorf("Len: fork %d, parent %d", fork.Len(), parent.Len())
	}
	if s := fork.Lookup([32]byte(h(a))); s.MasterSecret[0] != 0x22 {
		t.Errorf("fork: %x", s.MasterSecret)
	}
	if s := parent.Lookup([32]byte(h(a))); s.MasterSecret[0] != 0x11 || parent.Lookup([32]byte(h(b))) != nil {
		t.Errorf("parent changed: %x", s.MasterSecret)
	}
	if got := fork.String(); strings.Count(got, "\n") != 2 || !strings.Contains(got, strings.Repeat("22", 48)) {
		t.Errorf("String:\n%s", got)
	}
}

// TestKeyLogOneLineBytes: a key log of one line (a pcapng Decryption
// Secrets Block per TLS connection) allocates a few KiB, not a whole chunk
// of records and a table of 1 024 slots: 8 000 such blocks, a 2.3 MB
// capture, allocated 5.2 GB.
func TestKeyLogOneLineBytes(t *testing.T) {
	line := "CLIENT_RANDOM " + strings.Repeat("ab", 32) + " " + strings.Repeat("11", 48) + "\n"
	least := ^uint64(0)
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		k, err := ParseKeyLog(strings.NewReader(line))
		runtime.ReadMemStats(&after)
		if err != nil || k.Len() != 1 {
			t.Fatalf("%v: %d entries", err, k.Len())
		}
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	t.Logf("%d bytes allocated to parse a key log of one line", least)
	if least > 16<<10 {
		t.Errorf("%d bytes allocated to parse a key log of one line, want <= 16 KiB", least)
	}
}

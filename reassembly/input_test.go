package reassembly

import (
	"testing"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// TestConnInput: a connection is numbered with the input of the packet
// that opened it (SetInput before its SYN), kept whatever the inputs of
// its later packets; -j 1 and -j 2 give every record of it the same.
// crowd(3): the three connections open one after the other (3 packets
// each), then all go on, their packets said to come from another input.
func TestConnInput(t *testing.T) {
	pkts := crowd(3)
	for _, jobs := range []int{1, 2} {
		got, _ := inputsByConn(pkts, Options{}, jobs, func(j int) int {
			in := 5
			if j < 9 {
				in = 2 * (j / 3) // conn 1 opens in input 0, 2 in 2, 3 in 4
			}
			return in
		})
		if len(got) != 3 {
			t.Fatalf("-j %d: %d connections", jobs, len(got))
		}
		for k := 1; k <= 3; k++ {
			if want := 2 * (k - 1); len(got[k]) != 1 || !got[k][want] {
				t.Errorf("-j %d: conn %d: records with inputs %v, want %d", jobs, k, got[k], want)
			}
		}
	}
}

// TestConnInputResumed: a connection evicted (a tomb) and going on in a
// later input keeps the input it was first seen in, -j 1 and -j 2 alike.
// crowd(30) with room for 10: the connections all open (3 packets each)
// in input 0, then are evicted and resumed while the packets say input 1
// (those whose tombs were dropped come back as new connections, of input 1).
func TestConnInputResumed(t *testing.T) {
	const n = 30
	pkts := crowd(n)
	for _, jobs := range []int{1, 2} {
		got, st := inputsByConn(pkts, Options{MaxConnections: 10}, jobs, func(j int) int {
			return min(j/(3*n), 1)
		})
		if st.Evicted == 0 {
			t.Fatalf("-j %d: nothing evicted", jobs)
		}
		kept := 0 // connections that kept their numbers; the others (their tombs dropped) are new ones
		for k := 1; k <= n; k++ {
			if got[k] == nil {
				continue
			}
			kept++
			if len(got[k]) != 1 || !got[k][0] {
				t.Errorf("-j %d: conn %d: records with inputs %v, want 0", jobs, k, got[k])
			}
		}
		if kept < 2*n/3 {
			t.Errorf("-j %d: %d connections kept their numbers", jobs, kept)
		}
	}
}

// TestConnInputMax: the 24-bit boundary of a connection's input, cheaply
// (no 16 777 216 files: the assembler is told the numbers). Connections
// opened in inputs MaxInput-1, MaxInput (the 16 777 216th) and past it
// hold MaxInput-1, MaxInput and MaxInput, not a number wrapped into the
// packet index above it; evicted and resumed in input 0 they keep
// MaxInput (the tomb's copy); -j 1 and -j 2 alike.
func TestConnInputMax(t *testing.T) {
	const n = 30
	pkts := crowd(n)
	for _, jobs := range []int{1, 2} {
		opened := []int{wsparse.MaxInput - 1, wsparse.MaxInput, wsparse.MaxInput + 1, 1 << 40}
		got, st := inputsByConn(pkts, Options{MaxConnections: 10}, jobs, func(j int) int {
			if c := j / 3; j < 3*n {
				return opened[c%len(opened)]
			}
			return 0 // the connections go on in input 0
		})
		if st.Evicted == 0 {
			t.Fatalf("-j %d: nothing evicted", jobs)
		}
		kept := 0
		for k := 1; k <= n; k++ {
			if got[k] == nil {
				continue
			}
			kept++
			want := min(opened[(k-1)%len(opened)], wsparse.MaxInput)
			if len(got[k]) != 1 || !got[k][want] {
				t.Errorf("-j %d: conn %d: records with inputs %v, want %d", jobs, k, got[k], want)
			}
		}
		if kept < 2*n/3 {
			t.Errorf("-j %d: %d connections kept their numbers", jobs, kept)
		}
	}
}

// inputsByConn decodes pkts with -j jobs, telling the decoder before each
// packet (j its index) the input input(j) says it came from, and returns
// the inputs of each connection's records, by connection number.
func inputsByConn(pkts []synth.Packet, opts Options, jobs int, input func(j int) int) (map[int]map[int]bool, Stats) {
	got := map[int]map[int]bool{}
	sink := record.Func(func(r *record.Record) {
		if got[r.Conn.ID] == nil {
			got[r.Conn.ID] = map[int]bool{}
		}
		got[r.Conn.ID][r.Conn.Input()] = true
	})
	var d interface {
		decoder
		SetInput(int)
	}
	if jobs == 1 {
		d = New(sink, opts)
	} else {
		d = NewParallel(sink, opts, jobs)
	}
	for j, p := range pkts {
		d.SetInput(input(j))
		d.Packet(1, p.Data, p.TS, len(p.Data))
	}
	d.Finish()
	return got, d.Stats()
}

package reassembly

import (
	"testing"

	"github.com/wsdump/wsdump/record"
)

// TestConnInput: a connection is numbered with the input of the packet
// that opened it (SetInput before its SYN), kept whatever the inputs of
// its later packets; -j 1 and -j 2 give every record of it the same.
// crowd(3): the three connections open one after the other (3 packets
// each), then all go on, their packets said to come from another input.
func TestConnInput(t *testing.T) {
	pkts := crowd(3)
	for _, jobs := range []int{1, 2} {
		got := map[int]map[int]bool{} // conn -> inputs of its records
		var d interface {
			decoder
			SetInput(int)
		}
		sink := record.Func(func(r *record.Record) {
			if got[r.Conn.ID] == nil {
				got[r.Conn.ID] = map[int]bool{}
			}
			got[r.Conn.ID][r.Conn.Input()] = true
		})
		if jobs == 1 {
			d = New(sink, Options{})
		} else {
			d = NewParallel(sink, Options{}, jobs)
		}
		for j, p := range pkts {
			in := 5
			if j < 9 {
				in = 2 * (j / 3) // conn 1 opens in input 0, 2 in 2, 3 in 4
			}
			d.SetInput(in)
			d.Packet(1, p.Data, p.TS, len(p.Data))
		}
		d.Finish()
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

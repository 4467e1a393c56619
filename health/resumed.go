package health

import (
	"reflect"

	"github.com/wsdump/wsdump/wsparse"
)

// A connection ended early to stay under --max-connections that went on
// keeps its number, and each piece ends with a record of its own (the
// second marked connection_resumed). Its row in conns is the whole
// connection: from the start of its first piece, the counts of every
// piece summed. Before, the last piece's End replaced the row, and the
// frames of the pieces before were in no row.

// endedBefore returns a copy of the row of connection id as its piece
// before left it when s is the End of a piece that went on (connection_resumed) and
// one ended before it; nil otherwise. It makes the row a result (st.c),
// so the End that follows updates it in place. A fallback session's
// conversation resumed under a request's connection is another
// conversation, not a piece of the same one: nil.
func (st *connState) endedBefore(id int, s *wsparse.Summary) *Conn {
	if s.Anomalies&wsparse.AnomResumed == 0 || s.Fallback != nil {
		return nil
	}
	if st.c == nil {
		if _, ok := st.head.unpackEnd(); !ok && st.end == nil {
			return nil
		}
	}
	x := st.conn(id)
	if !x.Ended {
		return nil
	}
	prev := *x
	return &prev
}

// addResumed makes x, set from a later piece's End, the whole
// connection's: prev is the row as the pieces before left it.
func addResumed(x, prev *Conn) {
	for d := range x.Stats {
		addDirStats(&x.Stats[d], &prev.Stats[d])
	}
	x.Anomalies |= prev.Anomalies
	if !prev.Start.IsZero() && prev.Start.Before(x.Start) {
		x.Start = prev.Start
	}
	if prev.End.After(x.End) {
		x.End = prev.End
	}
	x.Midstream = prev.Midstream // a later piece has no handshake of its own
}

// addDirStats adds every count of b to a's (all of DirStats' fields are
// counts: TestAddDirStats checks each).
func addDirStats(a, b *wsparse.DirStats) {
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	for i := range va.NumField() {
		f := va.Field(i)
		switch f.Kind() {
		case reflect.Int:
			f.SetInt(f.Int() + vb.Field(i).Int())
		case reflect.Uint64:
			f.SetUint(f.Uint() + vb.Field(i).Uint())
		}
	}
}

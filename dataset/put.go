package dataset

import "github.com/wsdump/wsdump/record"

// Put writes a record: a Message with its application messages when they
// were looked for (Decoded); heartbeats go to the connections' health; TLS
// connections are in no dataset.
func (w *Writer) Put(r *record.Record) {
	switch r.Kind {
	case record.Message:
		if r.Decoded {
			w.MessageApps(r.Conn, r.Message, r.Apps)
			return
		}
	case record.Beat:
		w.Beat(r.Beat)
		return
	case record.Negotiated:
		w.Negotiated(r.Negotiated)
		return
	}
	record.ToWS(w, r)
}

package report

import "github.com/wsdump/wsdump/record"

// The exporters' record entry points: each passes a record to the method
// for its kind; a Message whose application messages were looked for
// (Decoded) goes to MessageApps.

func (e *csvExporter) Put(r *record.Record) {
	switch r.Kind {
	case record.Message:
		if r.Decoded {
			e.MessageApps(r.Conn, r.Message, r.Apps)
			return
		}
	case record.TLS:
		e.TLSConn(r.Conn, r.TLS.TS, r.TLS.Client, r.TLS.Server, r.TLS.Info)
		return
	}
	record.ToWS(e, r)
}

func (j *jsonl) Put(r *record.Record) {
	switch r.Kind {
	case record.Message:
		if r.Decoded {
			j.MessageApps(r.Conn, r.Message, r.Apps)
			return
		}
	case record.TLS:
		j.TLSConn(r.Conn, r.TLS.TS, r.TLS.Client, r.TLS.Server, r.TLS.Info)
		return
	}
	record.ToWS(j, r)
}

func (t *table) Put(r *record.Record) {
	switch r.Kind {
	case record.Message:
		if r.Decoded {
			t.MessageApps(r.Conn, r.Message, r.Apps)
			return
		}
	case record.TLS:
		t.TLSConn(r.Conn, r.TLS.TS, r.TLS.Client, r.TLS.Server, r.TLS.Info)
		return
	}
	record.ToWS(t, r)
}

// Put counts the activity of the four wsparse kinds.
func (a *Activity) Put(r *record.Record) { record.ToWS(a, r) }

// Put writes the messages of the four wsparse kinds of record.
func (e *FileExporter) Put(r *record.Record) { record.ToWS(e, r) }

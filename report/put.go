package report

import (
	"net/netip"
	"time"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// The exporters' record entry points: each passes a record to the method
// for its kind; a Message whose application messages were looked for
// (Decoded) goes to MessageApps.

// view is what the three record views (table, jsonl, csv) do per kind.
type view interface {
	wsparse.Sink
	MessageApps(c *wsparse.Conn, m *wsparse.Message, apps []appproto.App)
	TLSConn(c *wsparse.Conn, ts time.Time, client, server netip.AddrPort, info *wsparse.TLSInfo)
}

// putView passes r to v's method for its kind.
func putView(v view, r *record.Record) {
	switch r.Kind {
	case record.Message:
		if r.Decoded {
			v.MessageApps(r.Conn, r.Message, r.Apps)
			return
		}
	case record.TLS:
		v.TLSConn(r.Conn, r.TLS.TS, r.TLS.Client, r.TLS.Server, r.TLS.Info)
		return
	}
	record.ToWS(v, r)
}

func (e *csvExporter) Put(r *record.Record) { putView(e, r) }
func (j *jsonl) Put(r *record.Record)       { putView(j, r) }
func (t *table) Put(r *record.Record)       { putView(t, r) }

// Put counts the activity of the four wsparse kinds.
func (a *Activity) Put(r *record.Record) { record.ToWS(a, r) }

// Put writes the messages of the four wsparse kinds of record.
func (e *FileExporter) Put(r *record.Record) { record.ToWS(e, r) }

package main

import "github.com/wsdump/wsdump/record"

// The record entry points of the command's sinks: each passes a record to
// the method for its kind.

// Put notes what each connection was; TLS connections say why they
// showed nothing.
func (c *census) Put(r *record.Record) {
	if r.Kind == record.TLS {
		c.TLSConn(r.Conn, r.TLS.Server, r.TLS.Info)
		return
	}
	record.ToWS(c, r)
}

// Put counts the records the exporter is given (not the heartbeats, which
// are no output of their own) and passes them on.
func (e *countingExporter) Put(r *record.Record) {
	switch r.Kind {
	case record.Beat, record.Negotiated:
	default:
		e.n++
	}
	e.Exporter.Put(r)
}

// Put writes the rows of frames or messages (one per application message
// when they were looked for).
func (e *fieldsExporter) Put(r *record.Record) {
	if r.Kind == record.Message && r.Decoded {
		e.MessageApps(r.Conn, r.Message, r.Apps)
		return
	}
	record.ToWS(e, r)
}

// Put follows the conversation, nested application messages unwrapped.
func (t *transcript) Put(r *record.Record) {
	if r.Kind == record.Message && r.Decoded {
		t.MessageApps(r.Conn, r.Message, r.Apps)
		return
	}
	record.ToWS(t, r)
}

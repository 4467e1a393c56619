package main

import "github.com/wsdump/wsdump/record"

// The record entry points of the command's sinks: each passes a record to
// the method for its kind.

// Put passes records on, counting frames (or messages) for -c.
func (s *liveSink) Put(r *record.Record) {
	switch r.Kind {
	case record.Handshake:
		if s.full() {
			return
		}
	case record.Frame:
		s.lastDropped = s.full()
		if s.lastDropped {
			return
		}
		if !s.messages {
			defer func() { s.n++ }()
		}
	case record.Message:
		if s.messages && s.full() || !s.messages && s.lastDropped {
			return
		}
		if s.messages {
			defer func() { s.n++ }()
		}
	case record.End:
	default:
		s.Exporter.Put(r)
		return
	}
	s.dirty = true
	s.Exporter.Put(r)
}

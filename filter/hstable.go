package filter

import "github.com/wsdump/wsdump/wsparse"

// HandshakeTable keeps the handshake fields of the open connections that
// an environment needs them for (host, uri, subprotocol), shared: a
// connection holds a number (4 bytes) of an entry of the distinct texts,
// each counted and let go with the last connection that holds it. Most of
// a capture's connections ask one server for the same path, so 100 000 of
// them open at once hold a few entries, not 100 000 copies; URIs that
// differ (a token in the query) cost an entry each while open, no more.
type HandshakeTable struct {
	entries []tableEntry // by number - 1
	free    []uint32     // numbers let go, for reuse
	byText  map[string]uint32
	buf     []byte // scratch for the lookup
}

type tableEntry struct {
	hf   HandshakeFields
	refs uint32
}

// Add returns the number of h's fields, held once more.
func (t *HandshakeTable) Add(h *wsparse.Handshake) uint32 {
	t.buf = append(append(append(t.buf[:0], h.Host...), h.URI...), h.Subprotocol...)
	if n, ok := t.byText[string(t.buf)]; ok {
		if e := &t.entries[n-1]; e.hf.hostN == len(h.Host) && e.hf.uriN == len(h.URI) {
			e.refs++
			return n
		}
		// The same text cut otherwise (host "a", uri "b/" and host
		// "ab", uri "/"): an entry of its own, not shared.
		return t.put(HandshakeFields{all: string(t.buf), hostN: len(h.Host), uriN: len(h.URI)}, false)
	}
	return t.put(HandshakeFields{all: string(t.buf), hostN: len(h.Host), uriN: len(h.URI)}, true)
}

func (t *HandshakeTable) put(hf HandshakeFields, shared bool) uint32 {
	var n uint32
	if k := len(t.free); k > 0 {
		n = t.free[k-1]
		t.free = t.free[:k-1]
		t.entries[n-1] = tableEntry{hf: hf, refs: 1}
	} else {
		t.entries = append(t.entries, tableEntry{hf: hf, refs: 1})
		n = uint32(len(t.entries))
	}
	if shared {
		if t.byText == nil {
			t.byText = map[string]uint32{}
		}
		t.byText[hf.all] = n
	}
	return n
}

// Get returns the fields of number n, nil for 0 (none).
func (t *HandshakeTable) Get(n uint32) *HandshakeFields {
	if n == 0 {
		return nil
	}
	return &t.entries[n-1].hf
}

// Release lets number n go once; the last release frees its entry.
func (t *HandshakeTable) Release(n uint32) {
	if n == 0 {
		return
	}
	e := &t.entries[n-1]
	if e.refs--; e.refs > 0 {
		return
	}
	if m, ok := t.byText[e.hf.all]; ok && m == n {
		delete(t.byText, e.hf.all)
	}
	*e = tableEntry{}
	t.free = append(t.free, n)
}

// Len is the number of entries held.
func (t *HandshakeTable) Len() int { return len(t.entries) - len(t.free) }

package report

import (
	"bytes"
	"fmt"
	"io"

	"github.com/wsdump/wsdump/internal/text"
	"github.com/wsdump/wsdump/reassembly"
	"github.com/wsdump/wsdump/wsparse"
)

// Limits are the bounds in force, as the limit notices name them (the
// flags' values, defaults applied).
type Limits struct {
	Connections, Reorder, ReorderTotal, HTTPHeader, Pending, InflateRatio, Sniff int
	PendingTotal                                                                 int // --max-pending-total
	SniffTotal                                                                   int // --max-sniff-total
	HeaderTotal                                                                  int // --max-http-header-total
	H2Streams                                                                    int // HTTP/2 streams followed at once per connection
	FallbackSessions                                                             int // fallback sessions held at once
	// Name, when set, is the capture the notices are about, after
	// "wsdump: " (lint and diff read several, each on its own).
	Name string
}

// WriteLimitNotices writes a notice for each limit the capture ran into
// that no record shows (wsdump writes them on stderr).
func WriteLimitNotices(w io.Writer, st reassembly.Stats, l Limits) {
	if l.Name != "" {
		w = NameNotices(w, l.Name)
	}
	if st.Packets > 0 && st.NotIP == st.Packets {
		fmt.Fprintf(w, "wsdump: none of the %s carries IPv4 or IPv6 as its link type says: wrong link type?\n", text.Plural(int(st.Packets), "packet"))
	}
	if st.TooDeep > 0 {
		n := int(st.TooDeep)
		fmt.Fprintf(w, "wsdump: %s inside more than %d tunnels (IP in IP, GRE, VXLAN, GENEVE, MPLS...) %s not opened: any TCP in %s, WebSocket or not, is not decoded\n",
			text.Plural(n, "IP packet"), reassembly.MaxTunnelDepth, were(n), them(n))
	}
	if st.FragmentsLost > 0 {
		n := int(st.FragmentsLost)
		fmt.Fprintf(w, "wsdump: %s of %d not reassembled (%s datagram incomplete at the end or 30 s after its first, past 4 MiB held, cut by the snap length, or malformed): any TCP bytes in %s, a tunnel's too, count as lost on %s\n",
			text.Plural(n, "IP fragment"), st.Fragments, their(n), them(n), theirConns(n))
	}
	if st.FragmentConflicts > 0 {
		n := int(st.FragmentConflicts)
		fmt.Fprintf(w, "wsdump: %s overlapped earlier fragments of %s datagram with other bytes: the first copy was kept\n", text.Plural(n, "IP fragment"), their(n))
	}
	if st.Urgent > 0 {
		unshown := ""
		if st.UrgentUnshown > 0 {
			unshown = fmt.Sprintf("; %d of them on connections without a WebSocket conn record to show them: another protocol, HTTP/2, TLS not decrypted", st.UrgentUnshown)
		}
		fmt.Fprintf(w, "wsdump: %s carried the URG flag (urgent data): decoded with the urgent byte in the stream, as tshark does; a receiver without SO_OOBINLINE (node and Go servers) takes that byte out, and may frame what follows otherwise (urgent_segments in conns, lint WS315%s)\n", text.Plural(st.Urgent, "TCP segment"), unshown)
	}
	if st.Malformed > 0 {
		n, they := int(st.Malformed), "they"
		if n == 1 {
			they = "it"
		}
		fmt.Fprintf(w, "wsdump: %s skipped, with an IP or TCP header that does not parse: the bytes %s carried count as lost on %s where a later segment of the same side (data or FIN) shows the gap\n", text.Plural(n, "packet"), they, theirConns(n))
	}
	if st.Cut > 0 {
		fmt.Fprintf(w, "wsdump: %d of %s %s cut short by the capture's snap length: %s missing bytes count as lost\n", st.Cut, text.Plural(int(st.Packets), "packet"), were(int(st.Cut)), their(int(st.Cut)))
	}
	if st.Parked > 0 {
		fmt.Fprintf(w, "wsdump: %s, a WebSocket connection was set aside to stay under --max-connections %d, its decoding state kept\n",
			text.Plural(st.Parked, "time"), l.Connections)
	}
	if st.Evicted > 0 {
		fmt.Fprintf(w, "wsdump: %s ended early to stay under --max-connections %d (finished and half-open first, then those not WebSocket, each least recently active first)\n",
			text.Plural(st.Evicted, "connection"), l.Connections)
	}
	if st.Resumed > 0 {
		fmt.Fprintf(w, "wsdump: %s, a connection ended early went on: decoded afresh under its number (connection_resumed)\n", text.Plural(st.Resumed, "time"))
	}
	if st.ResumedUnframed > 0 {
		fmt.Fprintf(w, "wsdump: in %s of connections ended early that went on, searched for WebSocket frames piece by piece (before and after the resume), none was found: frames that no piece alone could show (one a side, of a connection caught mid-stream) are in no record, and another protocol's bytes are counted here too; a larger --max-connections keeps such connections whole\n",
			text.Plural(int(st.ResumedUnframed), "byte"))
	}
	if st.Lanes > 0 {
		fmt.Fprintf(w, "wsdump: %s opened on the addresses and ports of another still open in another tenant (VLAN id, VXLAN, VXLAN-GPE or GENEVE VNI, GRE key), with other sequence numbers: each is a connection of its own (tshark 4.0 takes the SYN for port reuse, and mixes the two)\n",
			text.Plural(st.Lanes, "connection"))
	}
	if st.LanesFull > 0 {
		fmt.Fprintf(w, "wsdump: %s, a connection opened in another tenant on the addresses and ports of one still open found no lane (255 tenants at once on them, or --max-connections %d 4-tuples split): it ended the first, as port reuse does, and the packets of both went to it, mixed as tshark 4.0 mixes them\n",
			text.Plural(st.LanesFull, "time"), l.Connections)
	}
	if st.Clock != nil {
		writeClockJumps(w, st.Clock)
	}
	if st.EncapsFull > 0 {
		fmt.Fprintf(w, "wsdump: %s came in an encapsulation past the 65 536 distinct ones named: encap \"…\" (which ones depends on the order connections were read in: -j, --per-file)\n",
			text.Plural(st.EncapsFull, "connection"))
	}
	if st.PageLimitFlushes > 0 {
		fmt.Fprintf(w, "wsdump: %s, out-of-order bytes over --max-reorder %d or --max-reorder-total %d were given up on: the missing bytes count as lost\n",
			text.Plural(st.PageLimitFlushes, "time"), l.Reorder, l.ReorderTotal)
	}
	if st.HeldCopyLimit > 0 {
		fmt.Fprintf(w, "wsdump: %s past a hole %s not copied, or not whole, as %d MiB of such copies were held (each -j worker) or %d ranges on a side: a later segment over %s bytes with others is compared only where it repeats or covers one whole (retransmission_conflict), and the later copy is decoded\n",
			text.Plural(st.HeldCopyLimit, "segment"), were(st.HeldCopyLimit), reassembly.MaxHeldCopies>>20, reassembly.MaxHeldRanges, their(st.HeldCopyLimit))
	}
	if st.HTTPHeaderLimit > 0 {
		fmt.Fprintf(w, "wsdump: %s longer than --max-http-header %d bytes: the rest of each head was skipped (anomaly http_header_too_long)\n",
			text.Plural(st.HTTPHeaderLimit, "HTTP head"), l.HTTPHeader)
	}
	if st.HTTPHeaderTotalLimit > 0 {
		fmt.Fprintf(w, "wsdump: %s %s cut while the connections held --max-http-header-total %d bytes of unfinished heads together (divided among the -j workers): the rest of each head was skipped (anomaly http_header_too_long)\n",
			text.Plural(st.HTTPHeaderTotalLimit, "HTTP head"), were(st.HTTPHeaderTotalLimit), l.HeaderTotal)
	}
	if st.PendingLimit > 0 {
		fmt.Fprintf(w, "wsdump: %s sent more than --max-pending %d bytes before the upgrade was answered: bytes dropped (anomaly pending_limit)\n",
			text.Plural(st.PendingLimit, "client"), l.Pending)
	}
	if st.PendingTotalLimit > 0 {
		fmt.Fprintf(w, "wsdump: %s sent bytes before the upgrade was answered while the connections held --max-pending-total %d bytes of them together (divided among the -j workers): bytes dropped (anomaly pending_limit)\n",
			text.Plural(st.PendingTotalLimit, "client"), l.PendingTotal)
	}
	if st.EarlyTotalLimit > 0 {
		conns := fmt.Sprintf("%d TLS connections'", st.EarlyTotalLimit)
		if st.EarlyTotalLimit == 1 {
			conns = "1 TLS connection's"
		}
		fmt.Fprintf(w, "wsdump: %s 0-RTT early data was passed on before the server accepted it, as the connections held --max-pending-total %d bytes together (divided among the -j workers): one the server rejected shows it, and then the request sent again (its tls error says so)\n",
			conns, l.PendingTotal)
	}
	if st.HeldStartTotalLimit > 0 {
		if st.HeldStartTotalLimit == 1 {
			fmt.Fprintf(w, "wsdump: 1 connection whose first bytes after a loss at its start were held while TLS record headers were searched for in them was passed to the WebSocket decoder undecided, as the connections held --max-pending-total %d bytes together (divided among the -j workers): if it is TLS, it is not listed as TLS\n",
				l.PendingTotal)
		} else {
			fmt.Fprintf(w, "wsdump: %d connections whose first bytes after a loss at their start were held while TLS record headers were searched for in them were passed to the WebSocket decoder undecided, as the connections held --max-pending-total %d bytes together (divided among the -j workers): a TLS connection among them is not listed as TLS\n",
				st.HeldStartTotalLimit, l.PendingTotal)
		}
	}
	if st.RenegGuessTotalLimit > 0 {
		fmt.Fprintf(w, "wsdump: %s whose ClientHello was not captured %s not searched for in the key log, or not to the end, as %d key log lines had been tried for such renegotiations (divided among the -j workers): each side ended at its ChangeCipherSpec (its tls stop_error says so)\n",
			text.Plural(st.RenegGuessTotalLimit, "TLS renegotiation"), were(st.RenegGuessTotalLimit), reassembly.DefaultMaxRenegGuessesTotal)
	}
	if st.InflateRatioLimit > 0 {
		fmt.Fprintf(w, "wsdump: %s stopped inflating at --max-inflate-ratio %d bytes per byte of %s connection (anomaly inflate_ratio): a decompression bomb?\n",
			text.Plural(st.InflateRatioLimit, "compressed message"), l.InflateRatio, their(st.InflateRatioLimit))
	}
	if st.H2StreamLimit > 0 {
		if st.H2StreamLimit == 1 {
			fmt.Fprintf(w, "wsdump: 1 HTTP/2 stream was opened while %d were open on its connection: not followed, its DATA skipped (a WebSocket in it is not shown)\n", l.H2Streams)
		} else {
			fmt.Fprintf(w, "wsdump: %d HTTP/2 streams were opened while %d were open on their connection: not followed, their DATA skipped (a WebSocket among them is not shown)\n",
				st.H2StreamLimit, l.H2Streams)
		}
	}
	if st.FallbackDropped > 0 || st.FallbackDroppedRequests > 0 {
		reqs, verb := "", were(st.FallbackDropped)
		if st.FallbackDroppedRequests > 0 {
			reqs, verb = fmt.Sprintf(" and %s", text.Plural(st.FallbackDroppedRequests, "HTTP request")), "were"
		}
		fmt.Fprintf(w, "wsdump: %s (%s)%s of fallback sessions past the %d held at once %s not decoded\n",
			text.Plural(st.FallbackDropped, "SockJS / Engine.IO message"), text.Plural(st.FallbackDroppedBytes, "byte"), reqs, l.FallbackSessions, verb)
	}
	if st.FallbackEndedEarly > 0 {
		fmt.Fprintf(w, "wsdump: %s ended early to stay under the %d held at once (not closed; those with every connection ended first, then the least recently active): a later request of one starts a new conversation (connection_resumed)\n",
			text.Plural(st.FallbackEndedEarly, "SockJS / Engine.IO session"), l.FallbackSessions)
	}
	if st.FallbackBytesAfterEnd > 0 {
		are := "are"
		if st.FallbackBytesAfterEnd == 1 {
			are = "is"
		}
		fmt.Fprintf(w, "wsdump: %s lost or passed over on HTTP connections that outlived the fallback sessions they carried (ended to stay under the %d held at once) %s counted in no session\n",
			text.Plural(st.FallbackBytesAfterEnd, "byte"), l.FallbackSessions, are)
	}
	if st.SniffLimit > 0 {
		fmt.Fprintf(w, "wsdump: %s, --max-sniff %d bytes were searched for WebSocket frames without finding any: those bytes were skipped\n",
			text.Plural(st.SniffLimit, "time"), l.Sniff)
	}
	if st.SniffTotalLimit > 0 {
		each := "each"
		if st.SniffTotalLimit == 1 {
			each = "it"
		}
		fmt.Fprintf(w, "wsdump: %s %s searched for WebSocket frames while the searches kept --max-sniff-total %d bytes together (divided among the -j workers): %s kept only its last %d bytes, and frames that left them before the search ended count in skipped_bytes\n",
			text.Plural(st.SniffTotalLimit, "direction"), were(st.SniffTotalLimit), l.SniffTotal, each, wsparse.SniffWindowMin)
	}
}

// were is the verb of a count of n: "was" for 1, "were" else.
func were(n int) string {
	if n == 1 {
		return "was"
	}
	return "were"
}

// their is the possessive of a count of n: "its" for 1, "their" else.
func their(n int) string {
	if n == 1 {
		return "its"
	}
	return "their"
}

// them is the object pronoun of a count of n: "it" for 1, "them" else.
func them(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// theirConns is the connections a count of n things are on: "its
// connection" for 1, "their connections" else.
func theirConns(n int) string {
	if n == 1 {
		return "its connection"
	}
	return "their connections"
}

// WriteNoWebSocket says what a capture held when no view's record came of
// it (no filter asked for less): an empty output is not left to mean
// "nothing there" or "not read".
func WriteNoWebSocket(w io.Writer, st reassembly.Stats) {
	if st.Packets == 0 {
		fmt.Fprintln(w, "wsdump: no WebSocket: the capture has no packet")
		return
	}
	fmt.Fprintf(w, "wsdump: no WebSocket in %s: %s", text.Plural(int(st.Packets), "packet"), text.Plural(st.Connections, "TCP connection"))
	if st.NotTCP > 0 {
		fmt.Fprintf(w, ", %s not TCP (UDP and others: WebSockets over HTTP/3, RFC 9220, are not decoded)", text.Plural(int(st.NotTCP), "IP packet"))
	}
	if st.TooDeep > 0 {
		fmt.Fprintf(w, ", %s inside more than %d tunnels, not opened", text.Plural(int(st.TooDeep), "IP packet"), reassembly.MaxTunnelDepth)
	}
	fmt.Fprintln(w)
}

// prefixWriter names the capture in each notice: "wsdump: NAME: ...",
// each line that starts "wsdump: " and does not name it already.
type prefixWriter struct {
	w       io.Writer
	name    string
	midLine bool // the last Write ended inside a line
}

// NameNotices is w with name in each notice written to it ("wsdump:
// NAME: ..."), unless it names it already: a --per-file run's notices,
// each file's connections numbered on their own.
func NameNotices(w io.Writer, name string) io.Writer { return &prefixWriter{w: w, name: name} }

func (p *prefixWriter) Write(b []byte) (int, error) {
	const head = "wsdump: "
	named := head + p.name + ": "
	out := make([]byte, 0, len(b)+len(p.name)+2)
	for rest := b; len(rest) > 0; {
		line := rest
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line = rest[:i+1]
		}
		rest = rest[len(line):]
		if !p.midLine && bytes.HasPrefix(line, []byte(head)) && !bytes.HasPrefix(line, []byte(named)) {
			out = append(append(out, named...), line[len(head):]...)
		} else {
			out = append(out, line...)
		}
		p.midLine = line[len(line)-1] != '\n'
	}
	if _, err := p.w.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

// WriteDatasetNotice says what a run of --format parquet added to the
// datasets in dir: files rows in files files, told apart from earlier
// runs' by the part id.
func WriteDatasetNotice(w io.Writer, dir string, rows int64, files int, id string) {
	if files == 0 {
		fmt.Fprintf(w, "wsdump: no record: nothing written to %s\n", dir)
		return
	}
	fmt.Fprintf(w, "wsdump: wrote %s in %s to %s\n", text.Plural(int(rows), "row"), text.Plural(files, "file"), dir)
	fmt.Fprintf(w, "wsdump: part id %s: the files are named part-%s.parquet (part-%s-2.parquet and on: a date's later files)\n", id, id, id)
}

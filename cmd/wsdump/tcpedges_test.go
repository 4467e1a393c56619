package main

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/google/gopacket/layers"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// TestTCPEdgesAgreeWithTshark: TCP that real stacks (or an attacker) send
// and tidy captures rarely hold, one connection each, decoded as tshark
// (-o tcp.reassemble_out_of_order:TRUE) decodes them: data in the SYN and
// the SYN-ACK (TCP Fast Open), streams across the wrap of the sequence
// space (a retransmission, one joined with the head's tail, the bytes after
// the wrap first), a Close frame on the FIN, keep-alive and zero-window
// probes, a simultaneous open, a first packet that is the SYN-ACK, a SYN
// again with another ISN, the urgent pointer on frame bytes, a segment
// injected with a bad checksum before the real one (tshark checks no
// checksum by default, so both decode the first copy; wsdump flags
// retransmission_conflict), a TCP option with a bad length, a frame on a
// RST and one after the FIN (neither decodes those; wsdump counts them,
// tcp_data_discarded), keep-alives after a FIN (neither decodes nor
// counts their byte at the FIN's number), IPv4 options and IPv6 extension headers. One
// differs, on purpose: a frame sent at the FIN's own sequence number.
// tshark's reassembly takes no account of the FIN's number and decodes
// it; the receiver drops it (RFC 9293 §3.10.7.4), and so does wsdump.
// TestSequenceWrap, TestDataAfterFinOrRst and TestTCPOptionBadLength
// (reassembly) check the counts.
func TestTCPEdgesAgreeWithTshark(t *testing.T) {
	var convs []*synth.Conv
	conv := func() *synth.Conv {
		c := synth.New(fmt.Sprintf("192.0.2.1:%d", 40001+len(convs)), "192.0.2.2:80").At(time.Duration(len(convs)) * time.Second)
		convs = append(convs, c)
		return c
	}
	text := func(fromClient bool, s string) []byte { return synth.WSFrame(fromClient, wsparse.OpText, []byte(s)) }
	talk := func(c *synth.Conv) *synth.Conv {
		return c.Frame(true, wsparse.OpText, []byte("from the client")).Frame(false, wsparse.OpText, []byte("from the server"))
	}
	end := func(c *synth.Conv) {
		c.Frame(true, wsparse.OpClose, []byte{3, 0xe8}).Frame(false, wsparse.OpClose, []byte{3, 0xe8}).Fin(true).Fin(false)
	}
	req, resp := []byte(synth.UpgradeRequest+"\r\n"), []byte(synth.UpgradeResponse+"\r\n")
	data := func() *layers.TCP { return &layers.TCP{ACK: true, PSH: true} }
	ack := func() *layers.TCP { return &layers.TCP{ACK: true} }

	// TCP Fast Open: the request in the SYN; then the 101 in the SYN-ACK.
	c := conv().Flagged(true, 0, &layers.TCP{SYN: true}, req).Flagged(false, 0, &layers.TCP{SYN: true, ACK: true}, nil)
	end(talk(c.Flagged(true, 0, ack(), nil).Send(false, resp)))
	c = conv().Flagged(true, 0, &layers.TCP{SYN: true}, req).Flagged(false, 0, &layers.TCP{SYN: true, ACK: true}, resp)
	end(talk(c.Flagged(true, 0, ack(), nil)))

	// Across the wrap.
	c = conv().ISNBeforeWrap(5).Open().Upgrade()
	f := text(true, "across the wrap")
	end(talk(c.Send(true, f).Retransmit(true, len(f), f)))
	c = conv().ISNBeforeWrap(5).Open().Upgrade()
	end(talk(c.Send(true, f).Retransmit(true, len(f)+10, append(slices.Clone(req[len(req)-10:]), f...))))
	c = conv().ISNBeforeWrap(5).Open().Upgrade()
	c.DropNext = 1
	end(talk(c.Segment(true, f[:5]).Segment(true, f[5:]).Retransmit(true, len(f), f[:5])))

	// A Close frame on the FIN.
	c = talk(conv().Open().Upgrade()).Frame(false, wsparse.OpClose, []byte{3, 0xe8})
	c.Flagged(true, 0, &layers.TCP{FIN: true, ACK: true, PSH: true}, synth.WSFrame(true, wsparse.OpClose, []byte{3, 0xe8})).Fin(false)

	// Keep-alives: a byte of garbage below the window, each way, and none;
	// a zero-window probe (a frame's first byte, twice), then the frame.
	c = talk(conv().Open().Upgrade()).Wait(time.Second)
	c.Flagged(true, 1, ack(), []byte{0}).Flagged(false, 1, ack(), []byte{0}).Flagged(true, 1, ack(), nil)
	f = text(true, "after the window opened")
	c.Flagged(true, 0, ack(), f[:1]).Wait(time.Second).Flagged(true, 1, ack(), f[:1]).Flagged(true, 1, data(), f)
	end(talk(c))

	// A simultaneous open: SYN each way, then SYN-ACK each way.
	c = conv().Flagged(true, 0, &layers.TCP{SYN: true}, nil).Flagged(false, 0, &layers.TCP{SYN: true}, nil)
	c.Flagged(true, 1, &layers.TCP{SYN: true, ACK: true}, nil).Flagged(false, 1, &layers.TCP{SYN: true, ACK: true}, nil)
	end(talk(c.Upgrade()))

	// The client's SYN not captured: the first packet is the SYN-ACK.
	c = conv()
	end(talk(c.Open().Upgrade()))
	c.Packets = c.Packets[1:]

	// A SYN, then another with a new ISN before any SYN-ACK: tshark and
	// wsdump both count two connections, the second answered.
	c = conv().ISN(700000, 5000).Syn().Wait(time.Second).ISN(900000, 5000)
	end(talk(c.Open().Upgrade()))

	// The urgent pointer on frame bytes (a receiver without SO_OOBINLINE
	// takes the byte before it out of the stream; tshark and wsdump
	// both leave it in).
	c = conv().Open().Upgrade()
	c.Flagged(true, 0, &layers.TCP{ACK: true, PSH: true, URG: true, Urgent: 1}, text(true, "urgent"))
	f = text(false, "urgent too")
	end(talk(c.Flagged(false, 0, &layers.TCP{ACK: true, PSH: true, URG: true, Urgent: uint16(len(f))}, f)))

	// A segment injected with a bad checksum, then the real one.
	c = talk(conv().Open().Upgrade())
	real := text(false, "the real text!")
	c.Flagged(false, 0, data(), text(false, "injected text!"))
	c.Packets[len(c.Packets)-1].Data[14+20+16] ^= 0xff
	end(talk(c.Flagged(false, len(real), data(), real)))

	// Segments past a hole, then a later one over them with other bytes:
	// Linux keeps the first copy unless the later starts before it, or at
	// its start and goes on past it, and so do tshark and wsdump
	// (retransmission_conflict; gopacket alone kept the later copy).
	var held *synth.Conv
	ofo := func(first, later []byte, segs ...[3]int) {
		held = conv()
		c := talk(held.Open().Upgrade()).Skip(false, uint32(len(first)))
		for _, sg := range segs {
			b := first
			if sg[2] == 1 {
				b = later
			}
			c.Retransmit(false, len(first)-sg[0], b[sg[0]:sg[1]])
		}
		end(talk(c))
	}
	f, g := text(false, "0123456789abcdefghij"), text(false, "0123456789ABCDEFGHIJ")
	ofo(f, g, [3]int{2, 22, 0}, [3]int{2, 22, 1}, [3]int{0, 2, 0})  // the same range
	ofo(f, g, [3]int{2, 22, 0}, [3]int{10, 16, 1}, [3]int{0, 2, 0}) // inside
	ofo(f, g, [3]int{2, 16, 0}, [3]int{10, 22, 1}, [3]int{0, 2, 0}) // goes on past
	ofo(f, g, [3]int{10, 22, 0}, [3]int{2, 16, 1}, [3]int{0, 2, 0}) // starts before
	ofo(f, g, [3]int{2, 16, 0}, [3]int{2, 22, 1}, [3]int{0, 2, 0})  // the same start, longer (below)
	sameStart := held
	ofo(f, g, [3]int{2, 10, 0}, [3]int{6, 16, 1}, [3]int{10, 22, 0}, [3]int{0, 2, 0})  // from the start of a piece of a later one
	ofo(f, g, [3]int{10, 16, 0}, [3]int{2, 16, 0}, [3]int{10, 22, 1}, [3]int{0, 2, 0}) // over one replaced by the same bytes
	ofo(f, g, [3]int{2, 10, 0}, [3]int{10, 16, 0}, [3]int{10, 22, 1}, [3]int{0, 2, 0}) // from the start of one coalesced
	ofo(f, g, [3]int{10, 22, 0}, [3]int{0, 16, 1})                                     // in order, over held bytes

	// A TCP option whose length is 0.
	c = conv().Open().Upgrade()
	c.Flagged(true, 0, &layers.TCP{ACK: true, PSH: true, Options: []layers.TCPOption{{OptionType: layers.TCPOptionKindTimestamps, OptionData: []byte{1, 2}}}}, text(true, "bad option"))
	c.Packets[len(c.Packets)-1].Data[14+20+21] = 0
	end(talk(c))

	// A frame on a RST; a frame after the FIN.
	c = talk(conv().Open().Upgrade())
	c.Flagged(false, 0, &layers.TCP{RST: true, ACK: true}, text(false, "on the rst"))
	c = talk(conv().Open().Upgrade()).Fin(true)
	c.Flagged(true, 0, data(), text(true, "after the fin")).Frame(false, wsparse.OpText, []byte("still")).Fin(false)

	// Keep-alives after the client's FIN (a byte of garbage at the FIN's
	// number, and none), the server's frames going on (a half-close).
	c = talk(conv().Open().Upgrade()).Fin(true)
	c.Flagged(true, 1, ack(), []byte{0x81}).Flagged(true, 1, ack(), nil).Frame(false, wsparse.OpText, []byte("half closed")).Fin(false)

	// A frame at the FIN's own number: tshark decodes it.
	atFin := conv()
	c = talk(atFin.Open().Upgrade()).Fin(true)
	c.Flagged(true, 1, data(), text(true, "at the fin")).Frame(false, wsparse.OpText, []byte("still")).Fin(false)

	// IPv4 options and IPv6 extension headers on every packet.
	c = conv()
	end(talk(c.Open().Upgrade()))
	for i := range c.Packets {
		c.Packets[i].Data = synth.WithIPv4Options(c.Packets[i].Data)
	}
	c = synth.New("[2001:db8::1]:40000", "[2001:db8::2]:80").At(time.Duration(len(convs)) * time.Second)
	convs = append(convs, c)
	end(talk(c.Open().Upgrade()))
	for i := range c.Packets {
		c.Packets[i].Data = synth.WithIPv6Extensions(c.Packets[i].Data)
	}

	path := writeSynth(t, 0, convs...)
	got, want := framesBoth(t, path)
	client := atFin.Client
	kept, extra := want[:0:0], 0
	for _, w := range want {
		if w.src == client && string(w.payload) == "at the fin" {
			extra++
			continue
		}
		kept = append(kept, w)
	}
	if extra != 1 {
		t.Errorf("tshark decodes the frame at the FIN's number %d times, want once (it is why the capture holds it)", extra)
	}
	// The same start, longer: Linux replaces the held segment with it
	// (tcp_data_queue_ofo), as wsdump does; tshark keeps the held bytes,
	// as Windows does.
	linux := 0
	for i, w := range kept {
		if w.dst == sameStart.Client && string(w.payload) == "0123456789abcdEFGHIJ" {
			kept[i].payload = []byte("0123456789ABCDEFGHIJ")
			linux++
		}
	}
	if linux != 1 {
		t.Errorf("tshark keeps the held bytes under a later segment of the same start %d times, want once", linux)
	}
	if n := len(convs); len(streamsOf(kept)) != n {
		t.Errorf("tshark has frames on %d connections, want %d", len(streamsOf(kept)), n)
	}
	t.Logf("%d frames compared", compareFrames(t, kept, got))
}

// streamsOf returns the connections frames are on.
func streamsOf(frames []oracleFrame) map[[2]netip.AddrPort]bool {
	m := map[[2]netip.AddrPort]bool{}
	for _, f := range frames {
		m[endpointPair(f.src, f.dst)] = true
	}
	return m
}

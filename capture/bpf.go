package capture

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/net/bpf"
)

// The pure-Go build cannot compile tcpdump's whole filter language (that is
// libpcap's job), so wsdump compiles the part people use to pick out
// WebSocket traffic: host and port tests on TCP, joined with and/or. The
// result is a classic BPF program the kernel runs before copying a packet,
// so unwanted traffic costs no socket buffer and no wakeups.

// FilterHelp says which filter expressions wsdump compiles; error messages
// quote it.
const FilterHelp = `supported filters: [tcp] [src|dst] port N, [src|dst] host IP, tcp, ` +
	`joined with and/or, with or only between host and port tests ` +
	`(e.g. "host 10.0.0.1 and (port 80 or port 443)")`

// Filter is a conjunction of clauses, each a disjunction of host and port
// tests, on TCP over IPv4 or IPv6. The zero Filter accepts every packet;
// any other Filter accepts TCP only.
type Filter struct {
	TCP     bool     // accept TCP only (implied when there are clauses)
	Clauses []Clause // all must hold
}

// Clause holds when any of its tests does.
type Clause []FilterTest

// FilterTest is one host or port test.
type FilterTest struct {
	Kind TestKind
	Dir  TestDir
	Addr netip.Addr // KindHost (unmapped: IPv4-mapped IPv6 becomes IPv4)
	Port uint16     // KindPort
}

// TestKind says what a FilterTest looks at.
type TestKind uint8

// FilterTest kinds.
const (
	KindHost TestKind = iota + 1
	KindPort
)

// TestDir restricts a FilterTest to the source or destination side.
type TestDir uint8

// FilterTest directions, as tcpdump's src and dst qualifiers.
const (
	DirEither TestDir = iota
	DirSrc
	DirDst
)

// IsZero reports whether f accepts every packet.
func (f Filter) IsZero() bool { return !f.TCP && len(f.Clauses) == 0 }

// And returns the filter that accepts what both f and g accept.
func (f Filter) And(g Filter) Filter {
	return Filter{TCP: f.TCP || g.TCP, Clauses: append(append([]Clause(nil), f.Clauses...), g.Clauses...)}
}

// String gives f in tcpdump syntax; ParseFilter reads it back.
func (f Filter) String() string {
	if f.IsZero() {
		return ""
	}
	parts := []string{"tcp"}
	for _, c := range f.Clauses {
		tests := make([]string, len(c))
		for i, t := range c {
			tests[i] = t.String()
		}
		s := strings.Join(tests, " or ")
		if len(c) > 1 {
			s = "(" + s + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " and ")
}

func (t FilterTest) String() string {
	var s string
	switch t.Dir {
	case DirSrc:
		s = "src "
	case DirDst:
		s = "dst "
	}
	if t.Kind == KindHost {
		return s + "host " + t.Addr.String()
	}
	return s + "port " + strconv.Itoa(int(t.Port))
}

// ParseFilter parses a tcpdump-style expression of the supported subset
// (FilterHelp). Arguments are joined with spaces, as tcpdump does, so
// ParseFilter("tcp", "port", "80") and ParseFilter("tcp port 80") agree.
// As in tcpdump, and and or have the same precedence and group from the
// left: "port 80 or port 443 and host A" is "(port 80 or port 443) and
// host A".
func ParseFilter(args ...string) (Filter, error) {
	expr := strings.Join(args, " ")
	p := &filterParser{expr: expr, toks: tokenize(expr)}
	if len(p.toks) == 0 {
		return Filter{}, nil
	}
	n, err := p.parseExpr()
	if err == nil && p.pos < len(p.toks) {
		err = p.errorf("unexpected %q", p.toks[p.pos])
	}
	if err != nil {
		return Filter{}, err
	}
	clauses, err := n.cnf()
	if err != nil {
		return Filter{}, p.errorf("%v", err)
	}
	return Filter{TCP: true, Clauses: clauses}, nil
}

// tokenize splits on white space and around parentheses.
func tokenize(s string) []string {
	s = strings.NewReplacer("(", " ( ", ")", " ) ").Replace(s)
	return strings.Fields(s)
}

// filterNode is the parse tree: a test, "tcp", or an and/or of two nodes.
type filterNode struct {
	op          string // "test", "tcp", "and", "or"
	test        FilterTest
	left, right *filterNode
}

// cnf flattens n to clauses, refusing an or over anything but tests.
func (n *filterNode) cnf() ([]Clause, error) {
	switch n.op {
	case "test":
		return []Clause{{n.test}}, nil
	case "tcp":
		return nil, nil
	}
	l, err := n.left.cnf()
	if err != nil {
		return nil, err
	}
	r, err := n.right.cnf()
	if err != nil {
		return nil, err
	}
	if n.op == "and" {
		return append(l, r...), nil
	}
	if len(l) != 1 || len(r) != 1 {
		return nil, errors.New("or joins only host and port tests (write \"A and (B or C)\", not \"(A and B) or C\")")
	}
	return []Clause{append(append(Clause(nil), l[0]...), r[0]...)}, nil
}

type filterParser struct {
	expr string
	toks []string
	pos  int
	last *FilterTest // the previous test, for tcpdump's "port 80 or 443"
}

func (p *filterParser) errorf(format string, args ...any) error {
	return fmt.Errorf("filter %q: %s; %s", p.expr, fmt.Sprintf(format, args...), FilterHelp)
}

func (p *filterParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *filterParser) next() string {
	t := p.peek()
	if t != "" {
		p.pos++
	}
	return t
}

// parseExpr reads term {(and|or) term}, grouping from the left.
func (p *filterParser) parseExpr() (*filterNode, error) {
	n, err := p.parseTerm()
	if err != nil {
		return nil, err
	}
	for {
		var op string
		switch p.peek() {
		case "and", "&&":
			op = "and"
		case "or", "||":
			op = "or"
		default:
			return n, nil
		}
		p.next()
		r, err := p.parseTerm()
		if err != nil {
			return nil, err
		}
		n = &filterNode{op: op, left: n, right: r}
	}
}

func (p *filterParser) parseTerm() (*filterNode, error) {
	tok := p.next()
	switch tok {
	case "":
		return nil, p.errorf("expression ends too early")
	case "(":
		n, err := p.parseExpr()
		if err != nil {
			return nil, err
		}
		if p.next() != ")" {
			return nil, p.errorf("missing )")
		}
		return n, nil
	case "tcp":
		switch p.peek() {
		case "port", "src", "dst":
			return p.parseTest(p.next())
		}
		return &filterNode{op: "tcp"}, nil
	case "src", "dst", "host", "port":
		return p.parseTest(tok)
	}
	// tcpdump's shorthand: a bare value repeats the previous test's kind.
	if p.last != nil && p.pos >= 2 && (p.toks[p.pos-2] == "or" || p.toks[p.pos-2] == "||") {
		t := *p.last
		if err := p.setValue(&t, tok); err == nil {
			return &filterNode{op: "test", test: t}, nil
		}
	}
	return nil, p.errorf("unsupported %q", tok)
}

// parseTest reads [src|dst] (host ADDR | port N), tok being its first word.
func (p *filterParser) parseTest(tok string) (*filterNode, error) {
	var t FilterTest
	switch tok {
	case "src", "dst":
		t.Dir = DirSrc
		if tok == "dst" {
			t.Dir = DirDst
		}
		tok = p.next()
	}
	switch tok {
	case "host":
		t.Kind = KindHost
	case "port":
		t.Kind = KindPort
	case "":
		return nil, p.errorf("expression ends too early")
	default:
		return nil, p.errorf("unsupported %q (want host or port)", tok)
	}
	val := p.next()
	if val == "" {
		return nil, p.errorf("%s needs a value", tok)
	}
	if err := p.setValue(&t, val); err != nil {
		return nil, p.errorf("%v", err)
	}
	p.last = &t
	return &filterNode{op: "test", test: t}, nil
}

func (p *filterParser) setValue(t *FilterTest, val string) error {
	if t.Kind == KindPort {
		n, err := strconv.ParseUint(val, 10, 16)
		if err != nil {
			return fmt.Errorf("port %q is not a number from 0 to 65535", val)
		}
		t.Port = uint16(n)
		return nil
	}
	a, err := netip.ParseAddr(val)
	if err != nil || a.Zone() != "" {
		return fmt.Errorf("host %q is not an IPv4 or IPv6 address (names are not resolved)", val)
	}
	t.Addr = a.Unmap()
	return nil
}

// CompileFilter compiles f to a classic BPF program over packets of the
// given layout: LinkEthernet (with or without one 802.1Q or 802.1ad tag) or
// LinkRaw (the packet starts at the IP header, as on SOCK_DGRAM packet
// sockets). An accepted packet is kept whole, up to MaxCaptureLength bytes.
// Other link types (SLL, NFLOG, PPP, ...) are refused: a file of any link
// type is filtered by a Matcher, on the IP packet its link layer holds.
func CompileFilter(f Filter, link LinkType) ([]bpf.Instruction, error) {
	p := &bpfProg{}
	accept := bpf.RetConstant{Val: MaxCaptureLength}
	if f.IsZero() {
		return []bpf.Instruction{accept}, nil
	}
	type path struct {
		label, base int
		v6          bool
	}
	var paths []path
	// dispatch jumps to the IPv4 or IPv6 code for an IP header at base.
	dispatch := func(base int) {
		v4, v6 := p.newLabel(), p.newLabel()
		p.farIf(etherTypeIPv4, v4)
		p.farIf(etherTypeIPv6, v6)
		p.emit(bpf.RetConstant{Val: 0})
		paths = append(paths, path{v4, base, false}, path{v6, base, true})
	}
	switch link {
	case LinkEthernet:
		vlan := p.newLabel()
		p.emit(bpf.LoadAbsolute{Off: 12, Size: 2})
		p.farIf(etherTypeVLAN, vlan)
		p.farIf(etherTypeQinQ, vlan)
		dispatch(14)
		p.mark(vlan)
		p.emit(bpf.LoadAbsolute{Off: 16, Size: 2})
		dispatch(18)
	case LinkRaw:
		p.emit(bpf.LoadAbsolute{Off: 0, Size: 1})
		p.emit(bpf.ALUOpConstant{Op: bpf.ALUOpShiftRight, Val: 4})
		v4, v6 := p.newLabel(), p.newLabel()
		p.farIf(4, v4)
		p.farIf(6, v6)
		p.emit(bpf.RetConstant{Val: 0})
		paths = append(paths, path{v4, 0, false}, path{v6, 0, true})
	default:
		return nil, fmt.Errorf("capture: cannot compile a filter for link type %s", link)
	}
	for _, pt := range paths {
		p.mark(pt.label)
		base := uint32(pt.base)
		// The protocol must be TCP (IPv6 extension headers are not walked,
		// as in tcpdump's "tcp").
		if pt.v6 {
			p.emit(bpf.LoadAbsolute{Off: base + 6, Size: 1})
		} else {
			p.emit(bpf.LoadAbsolute{Off: base + 9, Size: 1})
		}
		p.emit(bpf.JumpIf{Cond: bpf.JumpEqual, Val: ipProtoTCP, SkipTrue: 1})
		p.emit(bpf.RetConstant{Val: 0})
		for _, c := range f.Clauses {
			// A test that holds jumps past the clause's reject, so every
			// conditional jump stays within one clause.
			holds := p.newLabel()
			for _, t := range c {
				p.test(t, base, pt.v6, holds)
			}
			p.emit(bpf.RetConstant{Val: 0})
			p.mark(holds)
		}
		p.emit(accept)
	}
	return p.resolve()
}

// Header fields the filter reads.
const (
	etherTypeIPv4 = 0x0800
	etherTypeIPv6 = 0x86dd
	etherTypeVLAN = 0x8100 // 802.1Q
	etherTypeQinQ = 0x88a8 // 802.1ad
	ipProtoTCP    = 6
	ipv4FragMask  = 0x1fff // fragment offset: only the first fragment has the TCP header
	maxBPFInsns   = 4096   // BPF_MAXINSNS in the kernel
)

// test emits code that jumps to holds when t holds, else falls through.
func (p *bpfProg) test(t FilterTest, base uint32, v6 bool, holds int) {
	var offs []uint32 // source, destination
	switch t.Kind {
	case KindHost:
		if t.Addr.Is6() != v6 {
			return // never holds on this path
		}
		if v6 {
			offs = []uint32{base + 8, base + 24}
		} else {
			offs = []uint32{base + 12, base + 16}
		}
	case KindPort:
		if v6 {
			offs = []uint32{base + 40, base + 42}
		} else {
			offs = []uint32{0, 2} // after the IPv4 header, indexed by X
		}
	}
	switch t.Dir {
	case DirSrc:
		offs = offs[:1]
	case DirDst:
		offs = offs[1:]
	}
	switch {
	case t.Kind == KindPort && !v6:
		fails := p.newLabel()
		p.emit(bpf.LoadAbsolute{Off: base + 6, Size: 2})
		p.jumpIf(bpf.JumpBitsSet, ipv4FragMask, fails, -1)
		p.emit(bpf.LoadMemShift{Off: base}) // X = IPv4 header length
		for _, off := range offs {
			p.emit(bpf.LoadIndirect{Off: base + off, Size: 2})
			p.jumpIf(bpf.JumpEqual, uint32(t.Port), holds, -1)
		}
		p.mark(fails)
	case t.Kind == KindPort:
		for _, off := range offs {
			p.emit(bpf.LoadAbsolute{Off: off, Size: 2})
			p.jumpIf(bpf.JumpEqual, uint32(t.Port), holds, -1)
		}
	case !v6:
		a := t.Addr.As4()
		for _, off := range offs {
			p.emit(bpf.LoadAbsolute{Off: off, Size: 4})
			p.jumpIf(bpf.JumpEqual, binary.BigEndian.Uint32(a[:]), holds, -1)
		}
	default:
		a := t.Addr.As16()
		for _, off := range offs {
			fails := p.newLabel()
			for w := 0; w < 4; w++ {
				p.emit(bpf.LoadAbsolute{Off: off + uint32(4*w), Size: 4})
				word := binary.BigEndian.Uint32(a[4*w:])
				if w < 3 {
					p.jumpIf(bpf.JumpEqual, word, -1, fails)
				} else {
					p.jumpIf(bpf.JumpEqual, word, holds, -1)
				}
			}
			p.mark(fails)
		}
	}
}

// bpfProg assembles instructions with symbolic forward jump targets.
type bpfProg struct {
	ins    []bpf.Instruction
	jumps  []bpfJump
	labels []int // label -> instruction index, -1 until marked
}

// bpfJump is a conditional jump (or, with far, an unconditional one) whose
// targets are labels; -1 means the next instruction.
type bpfJump struct {
	at     int
	far    bool
	tl, fl int
}

func (p *bpfProg) emit(i bpf.Instruction) { p.ins = append(p.ins, i) }

func (p *bpfProg) newLabel() int {
	p.labels = append(p.labels, -1)
	return len(p.labels) - 1
}

func (p *bpfProg) mark(l int) { p.labels[l] = len(p.ins) }

func (p *bpfProg) jumpIf(cond bpf.JumpTest, val uint32, tl, fl int) {
	p.jumps = append(p.jumps, bpfJump{at: len(p.ins), tl: tl, fl: fl})
	p.emit(bpf.JumpIf{Cond: cond, Val: val})
}

// farIf jumps to l when A == val, however far l is: conditional jumps reach
// 255 instructions, ja reaches any.
func (p *bpfProg) farIf(val uint32, l int) {
	p.emit(bpf.JumpIf{Cond: bpf.JumpEqual, Val: val, SkipFalse: 1})
	p.jumps = append(p.jumps, bpfJump{at: len(p.ins), far: true, tl: l})
	p.emit(bpf.Jump{})
}

func (p *bpfProg) resolve() ([]bpf.Instruction, error) {
	if len(p.ins) > maxBPFInsns {
		return nil, fmt.Errorf("capture: filter too long (%d BPF instructions, the kernel takes %d)", len(p.ins), maxBPFInsns)
	}
	skip := func(at, l int) (int, error) {
		if l < 0 {
			return 0, nil
		}
		if p.labels[l] < 0 {
			return 0, errors.New("capture: internal error: unmarked BPF label")
		}
		return p.labels[l] - at - 1, nil
	}
	for _, j := range p.jumps {
		t, err := skip(j.at, j.tl)
		if err != nil {
			return nil, err
		}
		if j.far {
			p.ins[j.at] = bpf.Jump{Skip: uint32(t)}
			continue
		}
		f, err := skip(j.at, j.fl)
		if err != nil {
			return nil, err
		}
		if t > 255 || f > 255 {
			return nil, errors.New("capture: filter too long: too many tests joined with or")
		}
		ji := p.ins[j.at].(bpf.JumpIf)
		ji.SkipTrue, ji.SkipFalse = uint8(t), uint8(f)
		p.ins[j.at] = ji
	}
	return p.ins, nil
}

// AndAny is f and any of the values of the primitive kind ("host" or
// "port"), as the repeatable --host and --port flags give them; an error
// names the flag. No value leaves f as it is.
func (f Filter) AndAny(kind, flag string, values []string) (Filter, error) {
	var clause Clause
	for _, v := range values {
		g, err := ParseFilter(kind, v)
		if err != nil || len(g.Clauses) != 1 || len(g.Clauses[0]) != 1 {
			if err == nil {
				err = fmt.Errorf("one value per %s", flag)
			}
			return f, fmt.Errorf("%s %q: %w", flag, v, err)
		}
		clause = append(clause, g.Clauses[0][0])
	}
	if len(clause) == 0 {
		return f, nil
	}
	return f.And(Filter{TCP: true, Clauses: []Clause{clause}}), nil
}

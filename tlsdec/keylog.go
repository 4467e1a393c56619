package tlsdec

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"slices"
	"strings"
)

// Secrets are what a key log holds for one client random.
type Secrets struct {
	MasterSecret []byte // CLIENT_RANDOM: the TLS 1.2 (and earlier) master secret, 48 bytes

	// TLS 1.3 traffic secrets (RFC 8446 §7.1), as long as the suite's hash.
	ClientHandshake []byte // CLIENT_HANDSHAKE_TRAFFIC_SECRET
	ServerHandshake []byte // SERVER_HANDSHAKE_TRAFFIC_SECRET
	ClientTraffic0  []byte // CLIENT_TRAFFIC_SECRET_0
	ServerTraffic0  []byte // SERVER_TRAFFIC_SECRET_0
	ClientEarly     []byte // CLIENT_EARLY_TRAFFIC_SECRET: 0-RTT early data
}

// KeyLog maps client randoms to secrets. The zero value is not usable; make
// one with NewKeyLog or ParseKeyLog.
//
// A key log may hold millions of lines (a browser's SSLKEYLOGFILE over
// weeks): each (client random, label) is one fixed-size record, 82 bytes,
// in chunks that never move once full (the last one grows by doubling up
// to chunkRecords), found through an open-addressing table of
// record numbers. A million CLIENT_RANDOM lines take about 90 MB, where a
// map of *Secrets took 800 MB, and parsing allocates nothing per line.
type KeyLog struct {
	parent  *KeyLog    // Fork: consulted after k's own records; never changed through k
	chunks  [][]record // records in the order first seen; a later line for the same key overwrites its secret
	n       int        // records
	table   []uint32   // record number + 1 at hash(client random, label), linear probing; 0 is empty
	randoms int        // distinct client randoms among the records (and not in parent)

	// Malformed counts lines that are neither blank, comments, lines with
	// an unknown label, nor well-formed entries.
	Malformed int
}

// record is one secret: a key log line that parsed.
type record struct {
	cr    [32]byte
	label uint8 // labelMaster...
	n     uint8 // secret length: 32 or 48
	sec   [48]byte
}

const (
	labelMaster      = iota // CLIENT_RANDOM
	labelClientHS           // CLIENT_HANDSHAKE_TRAFFIC_SECRET
	labelServerHS           // SERVER_HANDSHAKE_TRAFFIC_SECRET
	labelClientApp          // CLIENT_TRAFFIC_SECRET_0
	labelServerApp          // SERVER_TRAFFIC_SECRET_0
	labelClientEarly        // CLIENT_EARLY_TRAFFIC_SECRET
	numLabels
)

var labelNames = [numLabels]string{"CLIENT_RANDOM", "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
	"SERVER_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0",
	"CLIENT_EARLY_TRAFFIC_SECRET"}

// chunkRecords records per chunk (656 KiB): the store grows without
// copying what it holds.
const chunkRecords = 8192

// NewKeyLog returns an empty key log.
func NewKeyLog() *KeyLog { return &KeyLog{} }

// Fork returns an empty key log that sees k's secrets too: merging into the
// fork leaves k as it is. Workers each fork one key log instead of each
// copying it.
func (k *KeyLog) Fork() *KeyLog { return &KeyLog{parent: k} }

// Len is the number of client randoms with at least one secret.
func (k *KeyLog) Len() int {
	if k == nil {
		return 0
	}
	return k.randoms + k.parent.Len()
}

func (k *KeyLog) rec(i int) *record { return &k.chunks[i/chunkRecords][i%chunkRecords] }

var keySeed = maphash.MakeSeed()

// hashCR hashes a client random; slot mixes in the label.
func hashCR(cr *[32]byte) uint64 { return maphash.Bytes(keySeed, cr[:]) }

func slot(h uint64, label uint8, mask int) int {
	h ^= uint64(label+1) * 0x9e3779b97f4a7c15
	h ^= h >> 29
	return int(h) & mask
}

// find returns the record number of (cr, label), or -1.
func (k *KeyLog) find(cr *[32]byte, label uint8, h uint64) int {
	if len(k.table) == 0 {
		return -1
	}
	mask := len(k.table) - 1
	for i := slot(h, label, mask); ; i = (i + 1) & mask {
		r := k.table[i]
		if r == 0 {
			return -1
		}
		if e := k.rec(int(r - 1)); e.label == label && e.cr == *cr {
			return int(r - 1)
		}
	}
}

// has reports whether k (or its parent) holds any secret for cr.
func (k *KeyLog) has(cr *[32]byte, h uint64) bool {
	for ; k != nil; k = k.parent {
		for l := range uint8(numLabels) {
			if k.find(cr, l, h) >= 0 {
				return true
			}
		}
	}
	return false
}

// put stores a secret, replacing an earlier one for the same client random
// and label.
func (k *KeyLog) put(cr *[32]byte, label uint8, sec []byte) {
	h := hashCR(cr)
	if i := k.find(cr, label, h); i >= 0 {
		e := k.rec(i)
		e.n = uint8(copy(e.sec[:], sec))
		return
	}
	if !k.has(cr, h) {
		k.randoms++
	}
	if 2*(k.n+1) > len(k.table) {
		k.rehash(max(16, 2*len(k.table)))
	}
	if k.n%chunkRecords == 0 {
		k.chunks = append(k.chunks, nil)
	}
	if c := &k.chunks[len(k.chunks)-1]; len(*c) == cap(*c) {
		// The last chunk doubles up to chunkRecords: a key log of one
		// line (what a pcapng Decryption Secrets Block often holds) took
		// 656 KiB.
		grown := make([]record, len(*c), min(max(16, 2*cap(*c)), chunkRecords))
		copy(grown, *c)
		*c = grown
	}
	c := &k.chunks[len(k.chunks)-1]
	*c = (*c)[:len(*c)+1]
	e := k.rec(k.n)
	e.cr, e.label, e.n = *cr, label, uint8(copy(e.sec[:], sec))
	k.n++
	k.insert(k.n-1, h)
}

func (k *KeyLog) insert(i int, h uint64) {
	mask := len(k.table) - 1
	j := slot(h, k.rec(i).label, mask)
	for k.table[j] != 0 {
		j = (j + 1) & mask
	}
	k.table[j] = uint32(i + 1)
}

func (k *KeyLog) rehash(size int) {
	k.table = make([]uint32, size)
	for i := range k.n {
		k.insert(i, hashCR(&k.rec(i).cr))
	}
}

// Lookup returns the secrets logged for a client random, or nil. The
// Secrets are the caller's: a copy.
func (k *KeyLog) Lookup(clientRandom [32]byte) *Secrets {
	if k == nil {
		return nil
	}
	s := k.parent.Lookup(clientRandom)
	h := hashCR(&clientRandom)
	for l := range uint8(numLabels) {
		if i := k.find(&clientRandom, l, h); i >= 0 {
			if s == nil {
				s = &Secrets{}
			}
			e := k.rec(i)
			*s.field(l) = bytes.Clone(e.sec[:e.n])
		}
	}
	return s
}

func (s *Secrets) field(label uint8) *[]byte {
	switch label {
	case labelMaster:
		return &s.MasterSecret
	case labelClientHS:
		return &s.ClientHandshake
	case labelServerHS:
		return &s.ServerHandshake
	case labelClientApp:
		return &s.ClientTraffic0
	case labelClientEarly:
		return &s.ClientEarly
	default:
		return &s.ServerTraffic0
	}
}

// Merge adds the entries of o to k; o's secrets win where both have one.
func (k *KeyLog) Merge(o *KeyLog) {
	if o == nil {
		return
	}
	k.mergeRecords(o)
	k.Malformed += o.Malformed
}

func (k *KeyLog) mergeRecords(o *KeyLog) {
	if o.parent != nil {
		k.mergeRecords(o.parent)
	}
	for i := range o.n {
		e := o.rec(i)
		k.put(&e.cr, e.label, e.sec[:e.n])
	}
}

// Key log bounds. NSS lines are under 250 bytes: a longer line is counted
// as malformed and skipped, and a "line" of a mebibyte or a file of a
// gibibyte is not a key log (--keylog /dev/zero, a capture given by
// mistake) and ends the parse with an error rather than reading forever.
const (
	maxKeyLogLine  = 4096
	MaxKeyLogRun   = 1 << 20 // bytes without a newline
	MaxKeyLogBytes = 1 << 30 // bytes in one key log
)

// keyLogBytes is MaxKeyLogBytes; tests lower it.
var keyLogBytes = MaxKeyLogBytes

// ErrKeyLogLimit is wrapped by the errors of a key log over a bound.
var ErrKeyLogLimit = errors.New("not an NSS key log")

// ParseKeyLog reads a key log in the NSS format
// (https://firefox-source-docs.mozilla.org/security/nss/legacy/key_log_format/):
// "LABEL <client random, 64 hex digits> <secret, hex>" per line. Blank lines,
// "#" comments and labels not used for decryption (EXPORTER_SECRET,
// EARLY_EXPORTER_SECRET, ...) are skipped; other lines that do not
// parse are counted in Malformed. The error is a read error, or one that
// wraps ErrKeyLogLimit for an input over MaxKeyLogRun bytes without a
// newline or over MaxKeyLogBytes in all; the secrets read before it are
// returned with it.
func ParseKeyLog(r io.Reader) (*KeyLog, error) {
	k := NewKeyLog()
	br := bufio.NewReaderSize(r, maxKeyLogLine)
	total := 0
	for lineNo := 1; ; lineNo++ {
		line, err := br.ReadSlice('\n')
		total += len(line)
		if errors.Is(err, bufio.ErrBufferFull) {
			k.Malformed++
			run := len(line)
			for errors.Is(err, bufio.ErrBufferFull) { // skip the rest of the line
				line, err = br.ReadSlice('\n')
				run += len(line)
				total += len(line)
				if run > MaxKeyLogRun {
					return k, fmt.Errorf("line %d: more than %d bytes without a newline: %w", lineNo, MaxKeyLogRun, ErrKeyLogLimit)
				}
			}
			line = nil
		}
		if total > keyLogBytes {
			return k, fmt.Errorf("more than %d bytes: %w", keyLogBytes, ErrKeyLogLimit)
		}
		if len(line) > 0 {
			k.addLine(line)
		}
		if err == io.EOF {
			return k, nil
		}
		if err != nil {
			return k, fmt.Errorf("reading key log: %w", err)
		}
	}
}

// addLine parses one line without allocating.
func (k *KeyLog) addLine(line []byte) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] == '#' {
		return
	}
	var f [4][]byte
	nf := 0
	for len(line) > 0 && nf < len(f) {
		i := 0
		for i < len(line) && !isSpace(line[i]) {
			i++
		}
		f[nf], nf = line[:i], nf+1
		for i < len(line) && isSpace(line[i]) {
			i++
		}
		line = line[i:]
	}
	label := uint8(numLabels)
	for l, name := range labelNames {
		if string(f[0]) == name {
			label = uint8(l)
		}
	}
	if label == numLabels {
		if nf != 3 || !isLabel(f[0]) {
			k.Malformed++
		}
		return
	}
	if nf != 3 || len(f[1]) != 64 {
		k.Malformed++
		return
	}
	var cr [32]byte
	if _, err := hex.Decode(cr[:], f[1]); err != nil {
		k.Malformed++
		return
	}
	n := len(f[2])
	if n != 96 && (n != 64 || label == labelMaster) {
		k.Malformed++ // CLIENT_RANDOM: 48 bytes; traffic secrets: 32 or 48
		return
	}
	var sec [48]byte
	if _, err := hex.Decode(sec[:], f[2]); err != nil {
		k.Malformed++
		return
	}
	k.put(&cr, label, sec[:n/2])
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r' || c == '\n'
}

// isLabel: upper-case letters, digits and underscores, as NSS labels are.
func isLabel(b []byte) bool {
	for _, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return len(b) > 0
}

// pcapng Decryption Secrets Block (draft-ietf-opsawg-pcapng §4.7).
const (
	BlockTypeDSB   = 0x0000000A
	SecretsTypeTLS = 0x544c534b // "TLSK": an NSS key log
)

// ErrNotTLSSecrets is returned by ParseDSB for a Decryption Secrets Block
// that holds another kind of secret (WireGuard, ZigBee, ...).
var ErrNotTLSSecrets = errors.New("decryption secrets are not a TLS key log")

// ParseDSB parses the body of a pcapng Decryption Secrets Block (what
// follows the block type and length, up to the trailing length; options
// after the secrets are ignored), in the byte order of its section. TLS key
// logs (secrets type "TLSK", what `editcap --inject-secrets tls,FILE`
// writes) are returned as a KeyLog; other secrets types give
// ErrNotTLSSecrets.
func ParseDSB(body []byte, order binary.ByteOrder) (*KeyLog, error) {
	if len(body) < 8 {
		return nil, fmt.Errorf("decryption secrets block: %d bytes, need 8", len(body))
	}
	typ, n := order.Uint32(body), order.Uint32(body[4:])
	if uint64(n) > uint64(len(body)-8) {
		return nil, fmt.Errorf("decryption secrets block: secrets length %d past the block (%d bytes)", n, len(body)-8)
	}
	if typ != SecretsTypeTLS {
		return nil, fmt.Errorf("%w (type %#08x)", ErrNotTLSSecrets, typ)
	}
	return ParseKeyLog(bytes.NewReader(body[8 : 8+n]))
}

// String writes the key log back in the NSS format, sorted by client random.
func (k *KeyLog) String() string {
	var crs [][32]byte
	for p := k; p != nil; p = p.parent {
		for i := range p.n {
			crs = append(crs, p.rec(i).cr)
		}
	}
	slices.SortFunc(crs, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	crs = slices.Compact(crs)
	var b strings.Builder
	for _, cr := range crs {
		s := k.Lookup(cr)
		for l := range uint8(numLabels) {
			if sec := *s.field(l); sec != nil {
				fmt.Fprintf(&b, "%s %x %x\n", labelNames[l], cr, sec)
			}
		}
	}
	return b.String()
}

// mastersNear calls f with the client random and master secret of the
// CLIENT_RANDOM lines among at most max lines of any label (a line of
// another label costs a look, not a try, but a key log of a million TLS
// 1.3 lines looked through on each search cost 1.7 ms a connection): in
// each key log (k's own, then its parent's), those after cr's line first,
// in the order first seen (a renegotiation's line is written after its
// connection's), then those before it. It stops at the first f that
// returns true, and reports whether one did and the lines looked at.
func (k *KeyLog) mastersNear(cr *[32]byte, max int, f func(cr *[32]byte, master []byte) bool) (bool, int) {
	seen := 0
	for ; k != nil && seen < max; k = k.parent {
		start := 0
		if i := k.find(cr, labelMaster, hashCR(cr)); i >= 0 {
			start = i + 1
		}
		for j := 0; j < k.n && seen < max; j++ {
			e := k.rec((start + j) % k.n)
			seen++
			if e.label == labelMaster && f(&e.cr, e.sec[:e.n]) {
				return true, seen
			}
		}
	}
	return false, seen
}

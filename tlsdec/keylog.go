package tlsdec

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
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
}

// KeyLog maps client randoms to secrets. The zero value is not usable; make
// one with NewKeyLog or ParseKeyLog.
type KeyLog struct {
	m map[[32]byte]*Secrets

	// Malformed counts lines that are neither blank, comments, lines with
	// an unknown label, nor well-formed entries.
	Malformed int
}

// NewKeyLog returns an empty key log.
func NewKeyLog() *KeyLog { return &KeyLog{m: map[[32]byte]*Secrets{}} }

// Len is the number of client randoms with at least one secret.
func (k *KeyLog) Len() int {
	if k == nil {
		return 0
	}
	return len(k.m)
}

// Lookup returns the secrets logged for a client random, or nil.
func (k *KeyLog) Lookup(clientRandom [32]byte) *Secrets {
	if k == nil {
		return nil
	}
	return k.m[clientRandom]
}

// Merge adds the entries of o to k; o's secrets win where both have one.
func (k *KeyLog) Merge(o *KeyLog) {
	if o == nil {
		return
	}
	for cr, s := range o.m {
		d := k.entry(cr)
		if s.MasterSecret != nil {
			d.MasterSecret = s.MasterSecret
		}
		if s.ClientHandshake != nil {
			d.ClientHandshake = s.ClientHandshake
		}
		if s.ServerHandshake != nil {
			d.ServerHandshake = s.ServerHandshake
		}
		if s.ClientTraffic0 != nil {
			d.ClientTraffic0 = s.ClientTraffic0
		}
		if s.ServerTraffic0 != nil {
			d.ServerTraffic0 = s.ServerTraffic0
		}
	}
	k.Malformed += o.Malformed
}

func (k *KeyLog) entry(cr [32]byte) *Secrets {
	s := k.m[cr]
	if s == nil {
		s = &Secrets{}
		k.m[cr] = s
	}
	return s
}

// maxKeyLogLine bounds one line; NSS lines are under 250 bytes.
const maxKeyLogLine = 4096

// ParseKeyLog reads a key log in the NSS format
// (https://firefox-source-docs.mozilla.org/security/nss/legacy/key_log_format/):
// "LABEL <client random, 64 hex digits> <secret, hex>" per line. Blank lines,
// "#" comments and labels not used for decryption (EXPORTER_SECRET,
// CLIENT_EARLY_TRAFFIC_SECRET, ...) are skipped; other lines that do not
// parse are counted in Malformed. The error is only ever a read error.
func ParseKeyLog(r io.Reader) (*KeyLog, error) {
	k := NewKeyLog()
	br := bufio.NewReaderSize(r, maxKeyLogLine)
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			k.Malformed++
			for errors.Is(err, bufio.ErrBufferFull) { // skip the rest of the line
				_, err = br.ReadSlice('\n')
			}
			line = nil
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

func (k *KeyLog) addLine(line []byte) {
	line = bytes.TrimSpace(line)
	if len(line) == 0 || line[0] == '#' {
		return
	}
	f := bytes.Fields(line)
	var dst func(*Secrets) *[]byte
	want := 0 // secret length; 0: 32 or 48
	switch string(f[0]) {
	case "CLIENT_RANDOM":
		dst, want = func(s *Secrets) *[]byte { return &s.MasterSecret }, 48
	case "CLIENT_HANDSHAKE_TRAFFIC_SECRET":
		dst = func(s *Secrets) *[]byte { return &s.ClientHandshake }
	case "SERVER_HANDSHAKE_TRAFFIC_SECRET":
		dst = func(s *Secrets) *[]byte { return &s.ServerHandshake }
	case "CLIENT_TRAFFIC_SECRET_0":
		dst = func(s *Secrets) *[]byte { return &s.ClientTraffic0 }
	case "SERVER_TRAFFIC_SECRET_0":
		dst = func(s *Secrets) *[]byte { return &s.ServerTraffic0 }
	default:
		if len(f) != 3 || !isLabel(f[0]) {
			k.Malformed++
		}
		return
	}
	if len(f) != 3 || len(f[1]) != 64 {
		k.Malformed++
		return
	}
	var cr [32]byte
	if _, err := hex.Decode(cr[:], f[1]); err != nil {
		k.Malformed++
		return
	}
	sec := make([]byte, hex.DecodedLen(len(f[2])))
	if _, err := hex.Decode(sec, f[2]); err != nil || len(f[2])%2 != 0 {
		k.Malformed++
		return
	}
	if want != 0 && len(sec) != want || want == 0 && len(sec) != 32 && len(sec) != 48 {
		k.Malformed++
		return
	}
	*dst(k.entry(cr)) = sec
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
	crs := make([][32]byte, 0, len(k.m))
	for cr := range k.m {
		crs = append(crs, cr)
	}
	slices.SortFunc(crs, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	var b strings.Builder
	for _, cr := range crs {
		s := k.m[cr]
		for _, l := range []struct {
			label  string
			secret []byte
		}{{"CLIENT_RANDOM", s.MasterSecret}, {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", s.ClientHandshake},
			{"SERVER_HANDSHAKE_TRAFFIC_SECRET", s.ServerHandshake}, {"CLIENT_TRAFFIC_SECRET_0", s.ClientTraffic0},
			{"SERVER_TRAFFIC_SECRET_0", s.ServerTraffic0}} {
			if l.secret != nil {
				fmt.Fprintf(&b, "%s %x %x\n", l.label, cr, l.secret)
			}
		}
	}
	return b.String()
}

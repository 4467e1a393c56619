package wsparse

import (
	"bytes"
	"math"
	"testing"
)

func TestParseHeaderLengths(t *testing.T) {
	for _, n := range []uint64{0, 1, 125, 126, 127, 65535, 65536, 1 << 32, math.MaxInt64} {
		for _, masked := range []bool{false, true} {
			h := Header{Fin: true, Opcode: OpBinary, Length: n, Masked: masked, MaskKey: [4]byte{1, 2, 3, 4}}
			b := AppendHeader(nil, h)
			wantSize := 2
			switch {
			case n > 65535:
				wantSize += 8
			case n > 125:
				wantSize += 2
			}
			if masked {
				wantSize += 4
			}
			if len(b) != wantSize {
				t.Fatalf("len %d masked %v: header size %d, want %d", n, masked, len(b), wantSize)
			}
			// Every shorter prefix needs more bytes.
			for i := 0; i < len(b); i++ {
				if _, k := ParseHeader(b[:i]); k != 0 {
					t.Fatalf("len %d: prefix %d parsed as %d bytes", n, i, k)
				}
			}
			got, k := ParseHeader(append(b, 0xAA))
			if k != wantSize || got.Length != n || got.Masked != masked || got.Size != wantSize {
				t.Fatalf("len %d: parsed %+v (%d bytes)", n, got, k)
			}
			if masked && got.MaskKey != h.MaskKey {
				t.Fatalf("mask key %x", got.MaskKey)
			}
			if r := got.Rules(); r != 0 {
				t.Fatalf("len %d: minimal encoding flagged %s", n, r)
			}
		}
	}
}

func TestHeaderRules(t *testing.T) {
	cases := []struct {
		name string
		raw  []byte
		want Anomalies
	}{
		{"text 5", []byte{0x81, 0x05}, 0},
		{"all fields", []byte{0xF1, 0x85, 1, 2, 3, 4}, 0}, // RSV is checked by the connection
		{"reserved 3", []byte{0x83, 0x00}, AnomReservedOpcode},
		{"reserved 7", []byte{0x87, 0x00}, AnomReservedOpcode},
		{"reserved B", []byte{0x8B, 0x00}, AnomReservedOpcode},
		{"reserved F fragmented", []byte{0x0F, 0x00}, AnomReservedOpcode | AnomControlFragmented},
		{"ping 125", []byte{0x89, 125}, 0},
		{"ping 126", []byte{0x89, 126, 0, 126}, AnomControlTooLong},
		{"close 126 non-minimal", []byte{0x88, 126, 0, 125}, AnomNonMinimalLength},
		{"pong fragmented", []byte{0x0A, 0x00}, AnomControlFragmented},
		{"16-bit 0", []byte{0x82, 126, 0, 0}, AnomNonMinimalLength},
		{"16-bit 125", []byte{0x82, 126, 0, 125}, AnomNonMinimalLength},
		{"16-bit 126", []byte{0x82, 126, 0, 126}, 0},
		{"64-bit 65535", []byte{0x82, 127, 0, 0, 0, 0, 0, 0, 0xff, 0xff}, AnomNonMinimalLength},
		{"64-bit 65536", []byte{0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0}, 0},
		{"64-bit msb", []byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}, AnomLengthMSBSet},
		{"64-bit max", []byte{0x82, 127, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, AnomLengthMSBSet},
		{"close big 64", []byte{0x08, 127, 0x80, 0, 0, 0, 0, 0, 0, 1}, AnomControlTooLong | AnomControlFragmented | AnomLengthMSBSet},
	}
	for _, tc := range cases {
		h, n := ParseHeader(tc.raw)
		if n != len(tc.raw) {
			t.Errorf("%s: parsed %d bytes of %d", tc.name, n, len(tc.raw))
			continue
		}
		if got := h.Rules(); got != tc.want {
			t.Errorf("%s: rules %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestHeaderFields(t *testing.T) {
	h, n := ParseHeader([]byte{0xB2, 0x83, 9, 8, 7, 6})
	want := Header{Fin: true, RSV: 3, Opcode: OpBinary, Masked: true, Len7: 3, Length: 3, MaskKey: [4]byte{9, 8, 7, 6}, Size: 6}
	if n != 6 || h != want {
		t.Fatalf("got %+v (%d), want %+v", h, n, want)
	}
	for rsv := uint8(0); rsv < 8; rsv++ {
		for op := Opcode(0); op < 16; op++ {
			b := AppendHeader(nil, Header{Fin: op&1 == 0, RSV: rsv, Opcode: op, Length: 7})
			g, _ := ParseHeader(b)
			if g.RSV != rsv || g.Opcode != op || g.Fin != (op&1 == 0) {
				t.Fatalf("rsv %d op %d: round trip %+v", rsv, op, g)
			}
		}
	}
}

func TestParseHeaderAllocs(t *testing.T) {
	b := AppendHeader(nil, Header{Fin: true, Opcode: OpText, Masked: true, Length: 70000})
	if a := testing.AllocsPerRun(100, func() { ParseHeader(b) }); a != 0 {
		t.Fatalf("ParseHeader allocates %v times", a)
	}
}

func referenceMask(key [4]byte, pos int, b []byte) {
	for i := range b {
		b[i] ^= key[(pos+i)%4]
	}
}

func TestUnmaskMatchesReference(t *testing.T) {
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	src := make([]byte, 300)
	for i := range src {
		src[i] = byte(i*7 + 3)
	}
	for size := 0; size <= 130; size++ {
		for off := 0; off < 8; off++ {
			for phase := 0; phase < 4; phase++ {
				got := append([]byte(nil), src[off:off+size]...)
				want := append([]byte(nil), got...)
				next := Unmask(key, phase, got)
				referenceMask(key, phase, want)
				if !bytes.Equal(got, want) {
					t.Fatalf("size %d off %d phase %d: mismatch", size, off, phase)
				}
				if next != (phase+size)%4 {
					t.Fatalf("size %d phase %d: next phase %d", size, phase, next)
				}
			}
		}
	}
}

func TestUnmaskPieceByPiece(t *testing.T) {
	key := [4]byte{0xde, 0xad, 0xbe, 0xef}
	src := make([]byte, 1000)
	for i := range src {
		src[i] = byte(i)
	}
	want := append([]byte(nil), src...)
	referenceMask(key, 0, want)
	for step := 1; step < 70; step++ {
		got := append([]byte(nil), src...)
		phase := 0
		for i := 0; i < len(got); i += step {
			phase = Unmask(key, phase, got[i:min(i+step, len(got))])
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("step %d: mismatch", step)
		}
	}
}

func BenchmarkUnmask(b *testing.B) {
	for _, size := range []int{16, 1024, 64 << 10} {
		b.Run(itoa(size), func(b *testing.B) {
			buf := make([]byte, size)
			key := [4]byte{1, 2, 3, 4}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				Unmask(key, i&3, buf)
			}
		})
	}
}

func BenchmarkParseHeader(b *testing.B) {
	hdr := AppendHeader(nil, Header{Fin: true, Opcode: OpText, Masked: true, Length: 300})
	b.ReportAllocs()
	b.SetBytes(int64(len(hdr)))
	for i := 0; i < b.N; i++ {
		ParseHeader(hdr)
	}
}

func itoa(n int) string {
	if n >= 1<<10 && n%(1<<10) == 0 {
		return itoa(n>>10) + "KiB"
	}
	s := ""
	for {
		s = string(rune('0'+n%10)) + s
		if n /= 10; n == 0 {
			return s
		}
	}
}

package capture

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeSource hands out packets named by their Data, reusing one buffer as
// a file reader does: Data is valid only until the next call to Next.
type fakeSource struct {
	ts      []int // packet times in seconds, in file order
	name    string
	err     error // returned after the packets (nil: io.EOF)
	i       int
	buf     []byte
	closed  bool
	onClose func()
}

func (f *fakeSource) Secrets() []Secrets { return nil }
func (f *fakeSource) Input() string      { return "" }

func (f *fakeSource) Next() (Packet, error) {
	if f.i == len(f.ts) {
		if f.err != nil {
			return Packet{}, f.err
		}
		return Packet{}, io.EOF
	}
	f.buf = strconv.AppendInt(append(f.buf[:0], f.name...), int64(f.i), 10)
	p := Packet{Timestamp: time.Unix(int64(f.ts[f.i]), 0), Data: f.buf, Link: LinkType(len(f.name))}
	f.i++
	return p, nil
}

func (f *fakeSource) Close() error {
	if !f.closed && f.onClose != nil {
		f.onClose()
	}
	f.closed = true
	return nil
}

func TestMerge(t *testing.T) {
	errCut := errors.New("file is truncated")
	for _, tc := range []struct {
		name  string
		files [][]int
		errs  []error
		want  string // packets as file letter + index in that file
		fail  string // the failed files
		// With MergeInputs: the most inputs open at once (0: not checked).
		wantOpen int
	}{
		{name: "one file", files: [][]int{{1, 2, 3}}, want: "a0 a1 a2"},
		{name: "rotation", files: [][]int{{1, 2}, {3, 4}, {5}}, want: "a0 a1 b0 b1 c0", wantOpen: 1},
		{name: "rotation, a packet on the cut", files: [][]int{{1, 2, 3}, {3, 4}, {4}}, want: "a0 a1 a2 b0 b1 c0", wantOpen: 1},
		{name: "rotation given out of name order", files: [][]int{{3, 4}, {1, 2}}, want: "b0 b1 a0 a1"},
		{name: "interleaved", files: [][]int{{1, 3, 5}, {2, 4, 6}}, want: "a0 b0 a1 b1 a2 b2", wantOpen: 2},
		{name: "equal times: file order", files: [][]int{{1, 2, 2}, {2, 2, 3}}, want: "a0 a1 a2 b0 b1 b2"},
		{name: "equal times, later file first", files: [][]int{{2}, {1, 2}, {2}}, want: "b0 a0 b1 c0"},
		{name: "out of order within a file: kept", files: [][]int{{1, 5, 2}, {3, 4}}, want: "a0 b0 b1 a1 a2"},
		{name: "empty file", files: [][]int{{}, {1}, {}}, want: "b0"},
		// pcapng times reach years 1 to 9999, past Unix nanoseconds' 1678
		// to 2262: before, 2300 wrapped to before 2024, and 1019 to after.
		{name: "far dates: 2300 after 2024", files: [][]int{{1e10, 1e10 + 1}, {1.7e9}}, want: "b0 a0 a1"},
		{name: "far dates: 1019 before 2024", files: [][]int{{1.7e9}, {-3e10}}, want: "b0 a0"},
		{name: "far dates: 9999 and year 1 around 2024", files: [][]int{{253402300799}, {1.7e9}, {-62135596799}}, want: "c0 b0 a0"},
		{name: "no files", files: nil, want: ""},
		{name: "truncated in the middle", files: [][]int{{1, 2}, {3}, {4, 5}}, errs: []error{nil, errCut, nil},
			want: "a0 a1 b0 c0 c1", fail: "b"},
		{name: "two fail", files: [][]int{{1}, {2}, {3}}, errs: []error{errCut, nil, errCut},
			want: "a0 b0 c0", fail: "a c"},
	} {
		for _, lazy := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/lazy=%v", tc.name, lazy), func(t *testing.T) {
				var srcs []Source
				var fakes []*fakeSource
				var names []string
				var inputs []Input
				open, maxOpen := 0, 0
				for i, ts := range tc.files {
					f := &fakeSource{ts: ts, name: string(rune('a' + i))}
					if tc.errs != nil {
						f.err = tc.errs[i]
					}
					fakes = append(fakes, f)
					srcs = append(srcs, f)
					names = append(names, f.name)
					inputs = append(inputs, Input{Name: f.name, Open: func(bool) (Source, error) {
						// A fresh reader of the same file each time.
						g := &fakeSource{ts: f.ts, name: f.name, err: f.err, onClose: func() { open-- }}
						fakes = append(fakes, g)
						if open++; open > maxOpen {
							maxOpen = open
						}
						return g, nil
					}})
				}
				var reported []string
				onError := func(name string, err error) {
					if !errors.Is(err, errCut) {
						t.Errorf("%s: reported %v", name, err)
					}
					reported = append(reported, name)
				}
				m := Merge(srcs, names, onError)
				if lazy {
					m = MergeInputs(inputs, onError)
				}
				var got []string
				for {
					p, err := m.Next()
					if err == io.EOF {
						if tc.fail != "" {
							t.Errorf("io.EOF, want an error for %s", tc.fail)
						}
						break
					}
					if err != nil {
						var me *MergeError
						if !errors.As(err, &me) || strings.Join(me.Names, " ") != tc.fail || !errors.Is(err, errCut) {
							t.Errorf("error %v, want a MergeError for %q", err, tc.fail)
						}
						break
					}
					got = append(got, string(p.Data))
					if int(p.Link) != 1 {
						t.Errorf("packet %s: link %d", p.Data, p.Link)
					}
				}
				if s := strings.Join(got, " "); s != tc.want {
					t.Errorf("merged %q, want %q", s, tc.want)
				}
				if s := strings.Join(reported, " "); s != tc.fail {
					t.Errorf("reported %q, want %q", s, tc.fail)
				}
				if err := m.Close(); err != nil {
					t.Fatal(err)
				}
				for _, f := range fakes {
					if !f.closed && (!lazy || f.onClose != nil) {
						t.Errorf("%s not closed", f.name)
					}
				}
				if lazy && tc.wantOpen > 0 && maxOpen != tc.wantOpen {
					t.Errorf("%d inputs open at once, want %d", maxOpen, tc.wantOpen)
				}
			})
		}
	}
}

// TestMergeFiles merges real readers: a classic pcap and a gzip-compressed
// pcapng with other link types, with the secrets of the pcapng file.
func TestMergeFiles(t *testing.T) {
	a := classicFile(le, false, uint32(LinkEthernet), 65535,
		rec{sec: 10, data: []byte("a0")}, rec{sec: 12, data: []byte("a1")})
	ng := &ngFile{}
	secret := []byte("CLIENT_RANDOM x y\n")
	dsb := le.AppendUint32(nil, 0x544c534b)
	dsb = le.AppendUint32(dsb, uint32(len(secret)))
	ng.shb(le).idb(uint16(LinkRaw), 0).block(blockSecrets, append(dsb, secret...)).
		epb(rec{ts: 11_000_000, data: []byte("b0")}).epb(rec{ts: 13_000_000, data: []byte("b1")})
	srcs := []Source{mustReader(t, a), mustReader(t, gzipped(ng.b))}
	m := Merge(srcs, []string{"a", "b"}, nil)
	var got []string
	for {
		p, err := m.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s/%s", p.Data, p.Link))
	}
	if s := strings.Join(got, " "); s != "a0/ETHERNET b0/RAW a1/ETHERNET b1/RAW" {
		t.Errorf("merged %s", s)
	}
	if s := m.Secrets(); len(s) != 1 {
		t.Errorf("secrets %v", s)
	}
}

func mustReader(t *testing.T, file []byte) Source {
	t.Helper()
	src, err := NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// BenchmarkMerge merges 20 interleaved sources: the cost per packet of
// the merge itself (allocations included).
func BenchmarkMerge(b *testing.B) {
	const files, per = 20, 1000
	b.ReportAllocs()
	for b.Loop() {
		var srcs []Source
		var names []string
		for f := range files {
			ts := make([]int, per)
			for i := range ts {
				ts[i] = i*files + f
			}
			srcs = append(srcs, &fakeSource{ts: ts, name: "f"})
			names = append(names, "f")
		}
		m := Merge(srcs, names, nil)
		for {
			if _, err := m.Next(); err != nil {
				break
			}
		}
	}
}

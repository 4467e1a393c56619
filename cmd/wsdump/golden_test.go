package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// fixtures returns every capture in testdata/pcaps.
func fixtures(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pat := range []string{"*.pcap", "*.pcapng", "*.pcap.gz", "*.pcapng.gz"} {
		m, err := filepath.Glob(filepath.Join("..", "..", "testdata", "pcaps", pat))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatal("no fixtures in testdata/pcaps")
	}
	slices.Sort(files)
	return files
}

// runWsdump runs the command in-process and returns stdout, stderr and the
// exit status.
func runWsdump(t *testing.T, stdin []byte, args ...string) (string, string, int) {
	t.Helper()
	var out *bytes.Buffer
	select {
	case out = <-outBuffers:
		out.Reset()
	default:
		out = new(bytes.Buffer)
	}
	defer func() {
		select {
		case outBuffers <- out:
		default:
		}
	}()
	var errb bytes.Buffer
	code := Main(args, bytes.NewReader(stdin), out, &errb)
	return out.String(), errb.String(), code
}

// outBuffers are runWsdump's standard outputs, used again once copied out:
// growing a new one to each run's output (megabytes for the loss tests'
// thousands of runs) was 2.6 s of the package's CPU, clearing memory.
// Main is done writing when it returns (TestHostileCaptures counts the
// goroutines it leaves: none). A few are kept in a channel, not a
// sync.Pool: the pool is emptied by every other collection, and its
// buffers grew again (1.5 s of CPU); four cover the runs in flight at
// once (-parallel is one per core).
var outBuffers = make(chan *bytes.Buffer, 4)

// longBase64 matches payload and data fields too long to keep in a golden
// file verbatim: they are replaced by their hash, which still catches any
// change. shrink does what longBase64.ReplaceAllStringFunc would, by hand:
// the regular expression took 6 s of the suite on the 15 MB of
// gen__gorilla-big's jsonl (TestShrinkMatchesRegexp holds them equal).
var longBase64 = regexp.MustCompile(`"(payload|data)":"([A-Za-z0-9+/=]{200,})"`)

func shrink(s string) string {
	var b strings.Builder
	last := 0 // s[:last] is written
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '"')
		if j < 0 {
			break
		}
		i += j
		var key string
		for _, k := range []string{"payload", "data"} {
			if strings.HasPrefix(s[i+1:], k+`":"`) {
				key = k
			}
		}
		if key == "" {
			i++
			continue
		}
		start := i + len(key) + 4 // past "key":"
		end := start
		for end < len(s) && isBase64Char(s[end]) {
			end++
		}
		if end-start < 200 || end == len(s) || s[end] != '"' {
			i++
			continue
		}
		sum := sha256.Sum256([]byte(s[start:end]))
		b.WriteString(s[last:i])
		b.WriteString(`"` + key + `":"sha256-of-base64:` + hex.EncodeToString(sum[:12]) + `"`)
		i, last = end+1, end+1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func isBase64Char(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '='
}

// shrinkRegexp is shrink by the regular expression.
func shrinkRegexp(s string) string {
	return longBase64.ReplaceAllStringFunc(s, func(m string) string {
		sub := longBase64.FindStringSubmatch(m)
		sum := sha256.Sum256([]byte(sub[2]))
		return `"` + sub[1] + `":"sha256-of-base64:` + hex.EncodeToString(sum[:12]) + `"`
	})
}

// TestShrinkMatchesRegexp: shrink gives what the regular expression gives,
// on edge cases and on a fixture's output.
func TestShrinkMatchesRegexp(t *testing.T) {
	long := strings.Repeat("QUJD", 50) // 200 characters
	cases := []string{
		"",
		`{"payload":"` + long + `"}`,
		`{"payload":"` + long[1:] + `"}`,
		`{"data":"` + long + `=","payload":"` + long + long + `"} {"data":"` + long + `x"}`,
		`{"payload":"` + long,
		`"payload":"payload":"` + long + `"`,
		`{"x":"data":"` + long + `"}"data":"` + long + `"`,
		`"data":"` + long + `"data":"` + long + `"`,
		`{"payloads":"` + long + `","pay` + `load":"` + long + "\"\n",
	}
	out, _, _ := runWsdump(t, nil, "-r", filepath.Join("..", "..", "testdata", "pcaps", "gen__ws-node-basic.pcap"), "--format", "jsonl")
	cases = append(cases, out)
	for i, c := range cases {
		if got, want := shrink(c), shrinkRegexp(c); got != want {
			t.Errorf("case %d: shrink %.300q, regexp %.300q", i, got, want)
		}
	}
	if shrink(out) == out {
		t.Errorf("gen__ws-node-basic: nothing shrunk")
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	for _, f := range fixtures(t) {
		name := filepath.Base(f)
		for _, view := range []struct {
			ext  string
			args []string
		}{
			{"jsonl", []string{"--format", "jsonl"}},
			{"table", nil},
			{"messages", []string{"--messages"}},
		} {
			t.Run(name+"/"+view.ext, func(t *testing.T) {
				t.Parallel() // Main holds no state between runs
				out, errs, code := runShared(t, goldenArgs(f, view.args...)...)
				if code != 0 {
					t.Fatalf("exit %d: %s", code, errs)
				}
				got := []byte(shrink(out))
				golden := filepath.Join("testdata", "golden", strings.TrimSuffix(name, filepath.Ext(name))+"."+view.ext)
				if *update {
					if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, got, 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./cmd/wsdump -run TestGolden -update)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("output differs from %s (run with -update to accept):\n%s", golden, firstDiff(string(want), string(got)))
				}
			})
		}
	}
}

// firstDiff shows the first differing line.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + itoa(i+1) + ":\nwant: " + w + "\n got: " + g
		}
	}
	return "(no line differs)"
}

func itoa(i int) string { return fmtInt(i) }

func fmtInt(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return fmtInt(i/10) + string(rune('0'+i%10))
}

// keylogFor returns the key log recorded beside a capture (NAME.keys), or "".
func keylogFor(capture string) string {
	ext := filepath.Ext(capture)
	k := strings.TrimSuffix(capture, ext) + ".keys"
	if _, err := os.Stat(k); err != nil {
		return ""
	}
	return k
}

// keylogArgs returns --keylog for a capture that has one beside it.
func keylogArgs(capture string) []string {
	if k := keylogFor(capture); k != "" {
		return []string{"--keylog", k}
	}
	return nil
}

// goldenArgs are the arguments of TestGolden's run of a view of a capture:
// with one worker, so that TestJobsIdentical holds -j 4 to the same run
// (runShared), and the files do not change with the machine's cores.
func goldenArgs(capture string, view ...string) []string {
	return append(append(append([]string{"-r", capture}, view...), keylogArgs(capture)...), "-j", "1")
}

// sharedRuns holds the runs of runShared, by their arguments.
var sharedRuns sync.Map // string -> *sharedRun

type sharedRun struct {
	once      sync.Once
	out, errs string
	code      int
}

// runShared is runWsdump without standard input, run once per test process
// for the same arguments: TestGolden, TestJobsIdentical, TestDeterministic
// and the manifest and oracle tests share the run of each fixture.
func runShared(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	v, _ := sharedRuns.LoadOrStore(strings.Join(args, "\x00"), &sharedRun{})
	r := v.(*sharedRun)
	r.once.Do(func() { r.out, r.errs, r.code = runWsdump(t, nil, args...) })
	return r.out, r.errs, r.code
}

// TestDeterministic checks that two runs give byte-identical output: the
// first is TestGolden's (-j 1), the second has the default workers, one
// per core.
func TestDeterministic(t *testing.T) {
	for _, f := range fixtures(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			args := goldenArgs(f, "--format", "jsonl")
			a, _, _ := runShared(t, args...)
			b, _, _ := runWsdump(t, nil, args[:len(args)-2]...)
			if a != b {
				t.Errorf("%s: two runs differ", filepath.Base(f))
			}
		})
	}
}

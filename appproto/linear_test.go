package appproto

import (
	"runtime"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/wsparse"
)

// Issue 17: application decoding is linear in the bytes it reads, whatever
// the message shape. The benchmarks (BenchmarkDecode*) show the cost per
// byte; these tests check the work itself, which a timing cannot.

// jsonMembers is an object of n members "k<key(i)>":i.
func jsonMembers(n int, key func(i int) int) string {
	var sb strings.Builder
	sb.WriteByte('{')
	for i := 0; i < n; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`"k` + itoa(key(i)) + `":` + itoa(i))
	}
	sb.WriteByte('}')
	return sb.String()
}

// memberShapes are the key patterns of the tests and benchmarks: all keys
// distinct, each key twice (k0..k(n/2-1), then again), one key n times.
var memberShapes = []struct {
	name string
	key  func(n int) func(i int) int
}{
	{"distinct", func(n int) func(int) int { return func(i int) int { return i } }},
	{"pairs", func(n int) func(int) int { return func(i int) int { return i % max(1, n/2) } }},
	{"same", func(n int) func(int) int { return func(int) int { return 0 } }},
}

// TestJSONMembersAllocsFlat: decoding a JSON object takes as many
// allocations with 50 000 members as with 100 (the fields, their text,
// the body, the summary): the members found by the scanner are kept in a
// buffer reused across messages, not in a slice that doubles for every
// message (12 more allocations at 50 000 members).
func TestJSONMembersAllocsFlat(t *testing.T) {
	d := newJSON()
	allocs := map[int]float64{}
	for _, n := range []int{100, 50000} {
		m := conversation(wsparse.OpText, []byte(jsonMembers(n, func(i int) int { return i })))[0]
		d.decode(nil, &m, nil) // the first large object grows the shared buffer
		allocs[n] = testing.AllocsPerRun(10, func() { d.decode(nil, &m, nil) })
		t.Logf("%d members: %v allocations", n, allocs[n])
	}
	if allocs[50000] > allocs[100] {
		t.Errorf("50 000 members: %v allocations, 100 members: %v", allocs[50000], allocs[100])
	}
}

// deepJSON is n nested objects and arrays, {"a":[{"a":[...1...]}]}.
func deepJSON(n int) string {
	var open, shut strings.Builder
	for i := 0; i < n; i++ {
		if i%2 == 0 {
			open.WriteString(`{"a":`)
			shut.WriteString(`}`)
		} else {
			open.WriteString(`[`)
			shut.WriteString(`]`)
		}
	}
	s := shut.String()
	r := []byte(s)
	for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
		r[i], r[j] = r[j], r[i]
	}
	return open.String() + "1" + string(r)
}

// TestJSONDeepNesting: 10 000 nested levels (encoding/json's limit) decode
// as an object, in allocations that do not grow with the depth; one more
// level is invalid, as json.Valid says.
func TestJSONDeepNesting(t *testing.T) {
	d := newJSON()
	allocs := map[int]float64{}
	for _, n := range []int{100, maxJSONDepth, maxJSONDepth + 1} {
		m := conversation(wsparse.OpText, []byte(deepJSON(n)))[0]
		apps := d.decode(nil, &m, nil)
		want := "object"
		if n > maxJSONDepth {
			want = "invalid"
		}
		if len(apps) != 1 || apps[0].Type != want {
			t.Fatalf("%d levels: %v", n, short(apps))
		}
		allocs[n] = testing.AllocsPerRun(10, func() { d.decode(nil, &m, nil) })
		t.Logf("%d levels: %s, %v allocations", n, apps[0].Type, allocs[n])
	}
	if allocs[maxJSONDepth] > allocs[100] {
		t.Errorf("%d levels: %v allocations, 100 levels: %v", maxJSONDepth, allocs[maxJSONDepth], allocs[100])
	}
}

// TestMemberBufShared: the spare member buffers are shared by sessions on
// several goroutines (the decoding workers); each must still see its own
// members (go test -race checks the handing over).
func TestMemberBufShared(t *testing.T) {
	done := make(chan string)
	for g := 0; g < 4; g++ {
		go func() {
			n := 100 + 300*g
			data := jsonMembers(n, func(i int) int { return i*10 + g })
			for r := 0; r < 20; r++ {
				apps := run(New(nil, ModeAuto), s2c(data))
				if len(apps) != 1 || len(apps[0].Fields) != n || apps[0].Fields[n-1].Key != "k"+itoa((n-1)*10+g) {
					done <- "goroutine " + itoa(g) + ": wrong fields"
					return
				}
			}
			done <- ""
		}()
	}
	for g := 0; g < 4; g++ {
		if msg := <-done; msg != "" {
			t.Error(msg)
		}
	}
}

// TestJSONObjectCopiedOnce (issue 17): decoding a 1 MB JSON object
// allocates about its size once: the Body, of which the Fields are
// strings, not a second copy of the text for the fields.
func TestJSONObjectCopiedOnce(t *testing.T) {
	var sb strings.Builder
	sb.WriteString(`{"n":1,"items":[`)
	for sb.Len() < 1<<20 {
		sb.WriteString(benchChat + ",")
	}
	sb.WriteString(benchChat + `]}`)
	m := conversation(wsparse.OpText, []byte(sb.String()))[0]
	d := newJSON()
	d.decode(nil, &m, nil)
	const runs = 10
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		if apps := d.decode(nil, &m, nil); len(apps) != 1 || len(apps[0].Fields) != 2 {
			t.Fatalf("%v", short(apps))
		}
	}
	runtime.ReadMemStats(&after)
	per := float64(after.TotalAlloc-before.TotalAlloc) / runs / float64(len(m.Data))
	t.Logf("%d bytes: %.2f bytes allocated per byte", len(m.Data), per)
	if per > 1.5 {
		t.Errorf("decoding allocates %.2f bytes per byte of the object, more than 1.5", per)
	}
}

package pipeline

import (
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// TestAppObjectBytes (issue 17): the application stage decodes a JSON
// object of 2000 small members ("k<i>":i, 12 bytes each) into its Body
// and, per member, no more than 16 bytes more. A Field of two strings
// (32 bytes, with pointers the collector follows) per member was more
// than the member's own text; the pipeline's sessions now leave the
// members where they lie in the Body (appproto's LazyFields, 8 bytes).
func TestAppObjectBytes(t *testing.T) {
	const members = 2000
	var sb strings.Builder
	sb.WriteByte('{')
	for i := range members {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`"k` + strconv.Itoa(i) + `":` + strconv.Itoa(i))
	}
	data := []byte(sb.String() + "}")
	apps := 0
	d := newAppDecoder(record.Func(func(r *record.Record) { apps += len(r.Apps) }), AppOptions{Apps: true})
	c := new(wsparse.Conn)
	m := wsparse.Message{Opcode: wsparse.OpText, Data: data, Len: uint64(len(data)), Frames: 1}
	put := func() { d.Put(&record.Record{Kind: record.Message, Conn: c, Message: &m}) }
	put() // the session, the shared buffers
	const runs = 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		put()
	}
	runtime.ReadMemStats(&after)
	if apps != runs+1 {
		t.Fatalf("%d apps for %d messages", apps, runs+1)
	}
	perMember := (float64(after.TotalAlloc-before.TotalAlloc)/runs - float64(len(data))) / members
	t.Logf("%d members, %d bytes: %.1f bytes allocated per member besides the Body", members, len(data), perMember)
	if perMember > 16 {
		t.Errorf("%.1f bytes allocated per member besides the Body, more than 16", perMember)
	}
}

package pipeline

import (
	"fmt"
	"testing"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/reassembly"
	"github.com/wsdump/wsdump/record"
)

// TestAppsKeptWithOwn: a sink that keeps a Message record's Apps past
// its Put copies them as appproto.Session.BorrowBodies says (App.Own),
// and with -j 2 as with -j 1 the Apps it kept still say what they said
// during the Put: an App that a -j worker rebased onto its chunk (its
// Body in the chunk's data, its members in the chunk's arena, both reused
// once the merger is done with the chunk) is copied by Own too.
func TestAppsKeptWithOwn(t *testing.T) {
	const path = "../testdata/pcaps/gen__ws-node-chatty-mtu.pcap" // 1 542 JSON objects
	show := func(a *appproto.App) (s string) {
		defer func() {
			if r := recover(); r != nil {
				s = fmt.Sprint("panic: ", r)
			}
		}()
		return fmt.Sprintf("%s %s %q %v", a.Protocol, a.Type, a.Body, a.AllFields())
	}
	for _, jobs := range []int{1, 2} {
		src, err := capture.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		var seen []string       // each App as it was during its Put
		var kept []appproto.App // and as the sink kept it
		keep := record.Func(func(r *record.Record) {
			for i := range r.Apps {
				seen = append(seen, show(&r.Apps[i]))
				a := r.Apps[i]
				a.Own()
				kept = append(kept, a)
			}
		})
		asm := NewApps(keep, AppOptions{Apps: true}, reassembly.Options{}, jobs)
		if err := Feed(src, asm, FeedOptions{}); err != nil {
			t.Fatal(err)
		}
		asm.Finish()
		src.Close()
		if len(seen) < 1000 {
			t.Fatalf("-j %d: only %d Apps", jobs, len(seen))
		}
		bad := 0
		for i := range kept {
			if got := show(&kept[i]); got != seen[i] {
				if bad == 0 {
					t.Errorf("-j %d: App %d kept (Own) as\n%.300s\nwas during its Put\n%.300s", jobs, i, got, seen[i])
				}
				bad++
			}
		}
		if bad > 0 {
			t.Errorf("-j %d: %d of %d kept Apps changed after their Put", jobs, bad, len(seen))
		}
	}
}

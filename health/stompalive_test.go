package health

import (
	"testing"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// TestSTOMPFramesAlive: STOMP heart-beats negotiated at 10 s each way; the
// server sends EOLs only when it has nothing else to send (Spring's
// broker), so between its EOLs at 10, 20 and 70 s its frames (KindSTOMPFrame)
// are the signs of life: a gap is late only between signs. Frames at 25,
// 35, 45, 55 and 65 s leave none late (the 50 s gap was 4 missed); a frame
// at 40 s alone splits it in two late gaps; the trailing gap after 70 s
// is split too. Frames count as no beats and are no series of their own.
func TestSTOMPFramesAlive(t *testing.T) {
	for _, tc := range []struct {
		frames []int // s
		end    int   // s
		missed int
		gaps   int
	}{
		{nil, 75, 4, 1},
		{[]int{25, 35, 45, 55, 65}, 75, 0, 0},
		{[]int{40}, 75, 3, 2},                          // 20-40 s (1 missed), 40-70 s (2)
		{[]int{25, 35, 45, 55, 65}, 100, 3, 1},         // trailing 70-100 s
		{[]int{25, 35, 45, 55, 65, 80, 90}, 100, 0, 0}, // split by frames
	} {
		tr := New(nil, Options{})
		v := newConv(tr, 1, "10.0.0.1:5000", 101, "/ws", 0)
		for _, s := range []int{10, 20, 70} {
			tr.Beat(Beat{Conn: 1, Dir: wsparse.ServerToClient, TS: at(s * 1000), Kind: "stomp"})
		}
		for _, s := range tc.frames {
			tr.Beat(Beat{Conn: 1, Dir: wsparse.ServerToClient, TS: at(s * 1000), Kind: KindSTOMPFrame})
		}
		for d := range 2 {
			tr.Negotiated(Negotiated{Conn: 1, Dir: wsparse.Dir(d), Kind: "stomp", Interval: 10 * time.Second})
		}
		end := tc.end * 1000
		c := v.end(end+10, wsparse.EndClean, [2]wsparse.CloseInfo{closed(end, 1000, ""), closed(end+1, 1000, "")}, wsparse.ClientToServer, 0)
		if len(c.Heartbeats) != 1 {
			t.Fatalf("frames %v: %d series, want the EOLs' alone", tc.frames, len(c.Heartbeats))
		}
		s := c.Heartbeats[0]
		if s.Kind != "stomp" || s.Count != 3 || s.Missed != tc.missed || len(s.Gaps) != tc.gaps {
			t.Errorf("frames %v, end %d s: %s count %d, missed %d in %d gaps %v; want 3, %d in %d", tc.frames, tc.end,
				s.Kind, s.Count, s.Missed, len(s.Gaps), s.Gaps, tc.missed, tc.gaps)
		}
	}
}

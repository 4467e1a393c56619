package tlsdec

import (
	"fmt"
	"testing"
	"time"
)

// TestHelloLost: the first record of one side or both lost (the
// ClientHello, the ServerHello's flight), told as a gap before anything
// of the side, TLS 1.2 and 1.3, the rest fed whole or cut at every few
// bytes: nothing is decrypted, every byte captured is counted, and the
// error says which side lost how many bytes (HelloLost), whichever side
// comes first. Until then the side's later bytes were not followed
// (a gap before the handshake's end) and the error said another thing.
func TestHelloLost(t *testing.T) {
	for _, id := range []uint16{0xc02f, 0x1301} {
		for _, lose := range [][2]bool{{true, true}, {true, false}, {false, true}} {
			for _, serverFirst := range []bool{false, true} {
				s := newSession(id, false)
				s.exchange([]int{40, 3000}, s.handshake())
				var lost [2]int
				var total [2]int64
				var evs [2][]event
				for _, ev := range s.evs {
					total[ev.side] += int64(len(ev.data))
					if lose[ev.side] && len(evs[ev.side]) == 0 && lost[ev.side] == 0 {
						lost[ev.side] = len(ev.data)
						continue
					}
					evs[ev.side] = append(evs[ev.side], ev)
				}
				order := append(append([]event(nil), evs[0]...), evs[1]...)
				if serverFirst {
					order = append(append([]event(nil), evs[1]...), evs[0]...)
				}
				want := HelloLost + ": lost with the first bytes of "
				switch lose {
				case [2]bool{true, true}:
					want += fmt.Sprintf("side 0 (%d) and side 1 (%d), records counted", lost[0], lost[1])
				case [2]bool{true, false}:
					want += fmt.Sprintf("side 0 (%d), records counted", lost[0])
				default:
					want += fmt.Sprintf("side 1 (%d), records counted", lost[1])
				}
				for _, split := range []int{0, 3} {
					t.Run(fmt.Sprintf("%04x/%v/serverFirst=%v/split%d", id, lose, serverFirst, split), func(t *testing.T) {
						var out int
						c := NewConn(newSession(id, false).keys(), func(int, []byte, time.Time) { out++ })
						told := [2]bool{}
						for _, ev := range order {
							if !told[ev.side] && lost[ev.side] > 0 {
								c.Gap(ev.side, lost[ev.side], time.Time{})
								told[ev.side] = true
							}
							b := ev.data
							for split > 0 && len(b) > split {
								c.Feed(ev.side, b[:split], time.Time{})
								b = b[split:]
							}
							c.Feed(ev.side, b, time.Time{})
						}
						c.End(time.Time{})
						in := c.Info()
						if out != 0 || in.Decrypted || in.Error != want || c.NotRecords() {
							t.Errorf("%d plaintexts out, decrypted %v, error %q, want %q", out, in.Decrypted, in.Error, want)
						}
						if got := [2]int64{in.Bytes[0] + int64(lost[0]), in.Bytes[1] + int64(lost[1])}; got != total {
							t.Errorf("bytes counted and lost %v, want %v", got, total)
						}
					})
				}
			}
		}
	}
}

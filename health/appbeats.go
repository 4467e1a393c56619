package health

import (
	"cmp"
	"slices"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// Application heartbeats found by themselves. The application decoders
// hand every small message of a recognisable shape to Beat with KindApp,
// its protocol and its key (STOMP command and destination, Socket.IO event,
// JSON type/op/event/method, or the whole short text); Report keeps, per
// direction and key, the series that keep a rhythm:
//
//   - a period of at least minAppInterval,
//   - at most maxAppTimers interleaved timers (series.go), on which at
//     least 5 in 6 of the beats fall, and at least MinAppBeats beats
//     (messages at the same instant count once),
//   - intervals within an RMS twentieth of the period (or of a whole
//     number of periods, where beats are missing),
//   - at least MinAppBeats-1 intervals of one period, and at least as many
//     as of several,
//   - and no more beats missing between the first and last beat than
//     intervals of one period, but for one outage (fitTimers keeps only
//     such fits).
//
// Request and response chatter, streams of data and bursts of a few
// messages fail one of these; a heartbeat that stops (the trailing gap)
// does not, and its missed beats are reported.

// KindApp is the kind of an application heartbeat series (see Series.Proto
// and Series.Key).
const KindApp = "app"

const (
	// MinAppBeats is the fewest beats of one key that can make an
	// application heartbeat.
	MinAppBeats    = 4
	minAppInterval = 500 * time.Millisecond
	maxAppTimers   = 4
	// maxAppJitter: the intervals keep to the period (or a whole number of
	// periods) within an RMS 1/maxAppJitter of it.
	maxAppJitter = 20
	// maxAppKeys bounds the keys followed per connection and direction,
	// maxAppKeysTotal over the tracker: messages of further keys are not
	// looked at (a chat of short texts has a key per message).
	maxAppKeys      = 64
	maxAppKeysTotal = 1 << 16
)

type appKey struct {
	dir        wsparse.Dir
	proto, key string
}

type appState struct {
	series map[appKey]*beatSeries
	keys   [2]int
}

func (t *Tracker) addApp(st *connState, b Beat) {
	bst := st.beatsOf()
	if bst.app == nil {
		bst.app = &appState{series: map[appKey]*beatSeries{}}
	}
	a := bst.app
	k := appKey{b.Dir & 1, b.Proto, b.Key}
	bs := a.series[k]
	if bs == nil {
		if a.keys[k.dir] == maxAppKeys || t.appKeys == maxAppKeysTotal {
			return
		}
		a.keys[k.dir]++
		t.appKeys++
		bs = &beatSeries{}
		a.series[k] = bs
	}
	if t.kept < maxBeatsKept {
		t.kept++
		bs.add(b.TS)
		return
	}
	if bs.extra == 0 || b.TS.After(bs.last) {
		bs.last = b.TS
	}
	bs.extra++
}

// appSeries returns the application heartbeats of a connection, by
// direction, protocol and key.
func (st *connState) appSeries(stop time.Time, o Options) []*Series {
	if st.beats == nil || st.beats.app == nil {
		return nil
	}
	app := st.beats.app
	keys := make([]appKey, 0, len(app.series))
	for k, bs := range app.series {
		if bs.kept() >= MinAppBeats {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b appKey) int {
		return cmp.Or(cmp.Compare(a.dir, b.dir), cmp.Compare(a.proto, b.proto), cmp.Compare(a.key, b.key))
	})
	// The interval is the series' own: --heartbeat-interval is for the
	// series the user named.
	o.HeartbeatInterval = 0
	var out []*Series
	for _, k := range keys {
		bs := app.series[k]
		beats := bs.times()
		slices.SortFunc(beats, func(a, b time.Time) int { return a.Compare(b) })
		beats = slices.CompactFunc(beats, func(a, b time.Time) bool { return a.Equal(b) })
		if !appRhythm(beats, o) {
			continue
		}
		s := buildSeries(seriesKey{k.dir, KindApp}, bs, Negotiated{}, false, nil, stop, o)
		if s.Interval <= 0 {
			continue
		}
		s.Proto, s.Key = k.proto, k.key
		out = append(out, s)
	}
	return out
}

// appRhythm reports whether sorted, distinct beats keep the rhythm of a
// heartbeat (see the rules at the top of the file).
func appRhythm(beats []time.Time, o Options) bool {
	if len(beats) < MinAppBeats {
		return false
	}
	f, ok := fitTimersStats(beats, o.Tolerance)
	if !ok || f.period < minAppInterval || f.ntimers > maxAppTimers {
		return false
	}
	on := len(beats) - f.extra
	return 5*f.extra <= on && on >= MinAppBeats && maxAppJitter*f.resid <= f.period &&
		f.onTime >= MinAppBeats-1 && 2*f.onTime >= f.steps
}

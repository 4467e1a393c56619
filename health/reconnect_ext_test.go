package health_test

import (
	"testing"
	"time"

	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/reassembly"
	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/wsparse"
)

// This test is outside package health: reassembly imports record, which
// imports health.

// trackerSink feeds a tracker the four wsparse kinds.
func trackerSink(tr *health.Tracker) record.Sink { return record.Adapt(tr) }

// TestReconnectSynthCapture decodes the user's loop from packets
// (synth.SockJSReconnect: SYN then RST for the refused connects), with
// Config.EndAll as wsdump conns sets it, on one and on two workers.
func TestReconnectSynthCapture(t *testing.T) {
	pkts := synth.SockJSReconnect(5, 3*time.Second, 18500*time.Millisecond)
	for _, jobs := range []int{1, 2} {
		tr := health.New(nil, health.Options{})
		opts := reassembly.Options{Decoder: wsparse.Config{EndAll: true}}
		var d interface {
			Packet(uint32, []byte, time.Time, int)
			Finish()
		}
		if jobs == 1 {
			d = reassembly.New(trackerSink(tr), opts)
		} else {
			d = reassembly.NewParallel(trackerSink(tr), opts, jobs)
		}
		for _, p := range pkts {
			d.Packet(1, p.Data, p.TS, len(p.Data))
		}
		d.Finish()
		r := tr.Report()
		if len(r.Conns) != 2 || len(r.Groups) != 1 {
			t.Fatalf("-j %d: %d conns, %d groups", jobs, len(r.Conns), len(r.Groups))
		}
		g := r.Groups[0]
		if got, want := health.Timeline(g), " 2[1]:error 3[]:conn_refused+3.0s 4[]:conn_refused+3.0s 5[]:conn_refused+3.0s 6[]:conn_refused+3.0s 7[]:conn_refused+3.0s 9[8]:ok+3.5s"; got != want {
			t.Errorf("-j %d: timeline\n%s\nwant\n%s", jobs, got, want)
		}
		if g.Host+g.Path != "h/stomp" || g.Refused != 5 || g.Backoff != "fixed" || health.Dur(g.BackoffInterval) != "3.0s" || health.Dur(g.Outage) != "18.5s" {
			t.Errorf("-j %d: group %s%s: %d refused, backoff %s %v, outage %v", jobs, g.Host, g.Path, g.Refused, g.Backoff, g.BackoffInterval, g.Outage)
		}
	}
}

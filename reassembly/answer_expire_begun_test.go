package reassembly

import (
	"strings"
	"testing"
	"time"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// TestAnswerHeldRequestBegun: a 101 captured before its request, whose
// request head begins within the second (its first 20 bytes at 0.6 s) and
// ends 0.8 s later, after a flush past the 101's second: the request
// began, so the 101 waits for its end as it waited for the server's more
// bytes before session 37 (ExpireAnswers believed it at the flush as it
// stood, request_incomplete, and read the rest of the request and the
// client's frame as frames). -j 1 and -j 2 alike.
func TestAnswerHeldRequestBegun(t *testing.T) {
	held := synth.New("192.0.2.1:40001", "192.0.2.2:80").Open()
	held.Send(false, []byte(synth.UpgradeResponse+"\r\n"))
	req := []byte(synth.UpgradeRequest + "\r\n")
	held.At(600*time.Millisecond).Segment(true, req[:20])
	held.At(1400*time.Millisecond).Segment(true, req[20:])
	held.Frame(true, wsparse.OpText, []byte("from the client")).Frame(false, wsparse.OpText, []byte("from the server"))
	l, _ := sameRecords(t, held.Packets, Options{})
	wantReadAfterRequest(t, 1, strings.Join(l.lines, "\n"))
}

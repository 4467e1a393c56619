package h2

import (
	"testing"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// TestStreamsOverBoundCounted: streams opened while DefaultMaxStreams are
// open are not followed, and each is counted on the HTTP/2 connection
// (LimitHits.H2Streams, a notice on stderr): a WebSocket behind 1 000
// CONNECTs left open was missed with no trace but the streams count.
func TestStreamsOverBoundCounted(t *testing.T) {
	const extra = 3
	client, server := streamsConversation(DefaultMaxStreams+extra, "/s")
	parent := wsparse.NewConn(1, cli, srv, wsparse.Config{}, nopSink{})
	c := NewConn(parent, 0, Config{}, nopSink{})
	c.Feed(1, server[:15], epoch) // the server's SETTINGS first
	c.Feed(0, client, epoch)
	c.Feed(1, server[15:], epoch.Add(time.Millisecond))
	c.End(epoch)
	if got := parent.LimitHits().H2Streams; got != extra || c.WebSockets() != DefaultMaxStreams {
		t.Errorf("%d streams counted over the bound, %d WebSockets; want %d, %d", got, c.WebSockets(), extra, DefaultMaxStreams)
	}
}

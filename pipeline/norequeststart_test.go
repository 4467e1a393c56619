package pipeline

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// TestConnsStartWithoutRequest: a connection whose 101 the capture has
// without its request (a capture started after it, or filtered to the
// servers' packets: README's `src port 47020` example) starts at its first
// byte, not at the zero time: conns showed START -9223372036.855 and DUR
// 9223372037s, and its JSON first_ts null with a duration of 292 years.
func TestConnsStartWithoutRequest(t *testing.T) {
	c := synth.New("192.0.2.1:40001", "192.0.2.2:80").Open()
	c.Send(false, []byte(synth.UpgradeResponse+"\r\n")).Frame(false, wsparse.OpText, []byte("hello"))
	c.Frame(false, wsparse.OpText, []byte("again"))
	path := filepath.Join(t.TempDir(), "noreq.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := synth.WritePcap(f, 0, c.Packets...); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, jobs := range []int{1, 2} {
		out, _ := connsJSONL(t, path, jobs)
		line, _, _ := strings.Cut(out, "\n")
		if !strings.Contains(line, `"status":101`) || strings.Contains(line, `"first_ts":null`) || !strings.Contains(line, `"duration":0.00`) {
			t.Errorf("-j %d: want the connection from its first byte, a few ms long:\n%s", jobs, line)
		}
	}
}

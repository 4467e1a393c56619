package h2

import (
	"bytes"
	"fmt"
	"testing"

	"golang.org/x/net/http2/hpack"

	"github.com/wsdump/wsdump/internal/synth"
	"github.com/wsdump/wsdump/wsparse"
)

// TestTableSizeBeforeFirstBlock: a SETTINGS_HEADER_TABLE_SIZE that arrives
// before the peer's first header block (the usual order: SETTINGS come
// first) lets the peer's encoder grow its table; the decoder made for that
// first block must allow it, not fall back to 4 096 and lose the table.
func TestTableSizeBeforeFirstBlock(t *testing.T) {
	h := synth.NewH2()
	var blk bytes.Buffer
	enc := hpack.NewEncoder(&blk)
	enc.SetMaxDynamicTableSizeLimit(65536)
	enc.SetMaxDynamicTableSize(65536) // a size update opens the block
	enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
	chunks := []chunk{
		{true, h.Preface()},
		{true, h.Settings(true, 0x1, 65536)},
		{false, h.ConnectProtocol()},
		{true, h.Headers(true, 1, false, synth.ExtendedConnect("/a")...)},
		{false, frame(frameHeaders, flagEndHeaders, 1, blk.Bytes())},
		{false, h.Data(false, 1, false, synth.WSFrame(false, wsparse.OpText, []byte("hi")))},
	}
	s := decode(chunks)["1/1"]
	if s == nil {
		t.Fatal("no stream 1/1")
	}
	if got := fmt.Sprintf("messages=%d anomalies=%s", s.Stats[1].Messages, s.Anomalies); got != "messages=1 anomalies=" {
		t.Errorf("stream 1/1: %s, want messages=1 anomalies=", got)
	}
}

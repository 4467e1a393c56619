package report

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/wsdump/wsdump/wsparse"
)

// ExportEntry is one line of index.jsonl (wsdump export).
type ExportEntry struct {
	Conn       int      `json:"conn"`
	Stream     uint32   `json:"stream,omitempty"` // HTTP/2 stream (RFC 8441)
	Encap      string   `json:"encap,omitempty"`  // what carried the connection (jsonl's encap)
	Dir        string   `json:"dir"`
	Index      int      `json:"index"`
	TS         string   `json:"ts"`
	Opcode     int      `json:"opcode"`
	OpcodeName string   `json:"opcode_name"`
	Len        *uint64  `json:"len"` // null: compressed, not inflated to its end
	Kept       *int     `json:"kept,omitempty"`
	Compressed bool     `json:"compressed,omitempty"`
	File       string   `json:"file"`
	SHA256     string   `json:"sha256"`
	Anomalies  []string `json:"anomalies"`
}

// FileExporter is a sink that writes each data message to its own file
// under a directory, and index.jsonl there with one ExportEntry a file
// (wsdump export).
type FileExporter struct {
	dir  string
	idx  *os.File
	buf  *bufio.Writer // index.jsonl's: a write for each message was a system call each
	enc  *json.Encoder
	st   *Stabilizer
	made map[int]bool // connections (Conn.ID) whose directory is made, until their End
	n    int
	err  error
}

// NewFileExporter creates dir (if missing) and its index.jsonl; stable: the
// index times count from the first packet (SetOrigin).
func NewFileExporter(dir string, stable bool) (*FileExporter, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	idx, err := os.Create(filepath.Join(dir, "index.jsonl"))
	if err != nil {
		return nil, err
	}
	buf := bufio.NewWriterSize(idx, 64<<10)
	e := &FileExporter{dir: dir, idx: idx, buf: buf, enc: json.NewEncoder(buf), st: NewStabilizer(stable), made: map[int]bool{}}
	e.enc.SetEscapeHTML(false)
	return e, nil
}

// Close closes the index; the error is the first write's that failed, or
// the close's.
func (e *FileExporter) Close() error {
	ferr := e.buf.Flush()
	cerr := e.idx.Close()
	return errors.Join(e.err, ferr, cerr)
}

// Count is the number of messages written.
func (e *FileExporter) Count() int { return e.n }

func (e *FileExporter) Handshake(*wsparse.Conn, *wsparse.Handshake) {}
func (e *FileExporter) Frame(*wsparse.Conn, *wsparse.Frame)         {}

// End forgets that the connection's directory is made: nothing is kept
// for a connection that ended (100 000 open connections, issue 16). A
// connection that goes on after it was ended early (its number kept) finds
// its directory there.
func (e *FileExporter) End(c *wsparse.Conn, _ *wsparse.Summary) { delete(e.made, c.ID) }

func (e *FileExporter) Message(c *wsparse.Conn, m *wsparse.Message) {
	if e.err != nil {
		return
	}
	conn, stream := wsparse.SplitID(c.ID)
	sub := fmt.Sprintf("conn-%04d", conn)
	if stream != 0 {
		sub += fmt.Sprintf("-stream-%d", stream) // a WebSocket in an HTTP/2 stream
	}
	ext := ".bin"
	if m.Opcode == wsparse.OpText {
		ext = ".txt"
	}
	rel := filepath.ToSlash(filepath.Join(sub, fmt.Sprintf("%06d-%s%s", m.Index, m.Dir, ext)))
	if !e.made[c.ID] {
		// Mkdir, one system call, where MkdirAll looks at the path and
		// its parent first; MkdirAll when Mkdir fails (the directory is
		// there, or MkdirAll says why not, as before).
		path := filepath.Join(e.dir, sub)
		if os.Mkdir(path, 0o755) != nil {
			if e.err = os.MkdirAll(path, 0o755); e.err != nil {
				return
			}
		}
		e.made[c.ID] = true
	}
	if e.err = os.WriteFile(filepath.Join(e.dir, filepath.FromSlash(rel)), m.Data, 0o644); e.err != nil {
		return
	}
	sum := sha256.Sum256(m.Data)
	ent := ExportEntry{Conn: conn, Stream: stream, Encap: c.Encap(), Dir: m.Dir.String(), Index: m.Index,
		TS:     e.st.Time(m.TS).UTC().Format("2006-01-02T15:04:05.000000000Z07:00"),
		Opcode: int(m.Opcode), OpcodeName: m.Opcode.String(), Compressed: m.Compressed,
		File: rel, SHA256: hex.EncodeToString(sum[:]), Anomalies: m.Anomalies.Names()}
	if ent.Anomalies == nil {
		ent.Anomalies = []string{}
	}
	if !m.LenUnknown {
		n := m.Len
		ent.Len = &n
	}
	if uint64(len(m.Data)) != m.Len || m.LenUnknown {
		k := len(m.Data)
		ent.Kept = &k
	}
	e.err = e.enc.Encode(ent)
	e.n++
}

// SetOrigin lets --stable count from the first packet.
func (e *FileExporter) SetOrigin(t time.Time) { e.st.SetOrigin(t) }

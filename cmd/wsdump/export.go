package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/wsdump/wsdump/record"
	"github.com/wsdump/wsdump/report"
	"github.com/wsdump/wsdump/wsparse"
)

const exportExamples = `  # Every message to its own file, and an index
  wsdump export -r session.pcap -o out/

  # Only the text the server sent on connection 2
  wsdump export -r session.pcap -o out/ --conn 2 --dir s2c --opcode text

  # Check the files against the index
  cd out && jq -r '"\(.sha256)  \(.file)"' index.jsonl | sha256sum -c`

type exportOptions struct {
	captureInput
	Out io.Writer

	Reads  []string
	Output string
	Stable bool
	Filter filterFlags
}

func newExportCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	o := &exportOptions{captureInput: captureInput{In: stdin, Err: stderr}, Out: stdout}
	cmd := &cobra.Command{
		Use:   "export -r FILE -o DIR [flags]",
		Short: "Write each message to its own file, with an index",
		Long: `export writes every data message (fragments joined, compressed messages
inflated) to DIR/conn-NNNN/NNNNNN-DIR.txt (text) or .bin (binary), numbered
per connection and direction as in the other views, and DIR/index.jsonl
with one line per file: conn, dir, index, ts, opcode, opcode_name, len
(message bytes), kept (bytes in the file, when fewer), compressed, file
(relative to DIR), sha256 (of the file), anomalies. Files are written as
sent: nothing is escaped. Existing files of the same names are replaced.

The output directory is -o (--dir is the direction filter, as everywhere).` + "\n" + filterHelp,
		Example:       exportExamples,
		Args:          readArgs(&o.Reads),
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Ctx = cmd.Context()
			return runExport(o)
		},
	}
	cmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageErr("%v", err) })
	f := cmd.Flags()
	addInputFlags(f, &o.inputFlags)
	addReadFlag(f, &o.Reads)
	f.StringVarP(&o.Output, "output", "o", "", "directory to write to (created if missing)")
	f.BoolVar(&o.Stable, "stable", false, "index times relative to the first packet (from the Unix epoch)")
	addFilterFlags(f, &o.Filter, true)
	cmd.MarkFlagDirname("output")
	addCompletions(cmd)
	return cmd
}

// exportEntry is one line of index.jsonl.
type exportEntry struct {
	Conn       int      `json:"conn"`
	Stream     uint32   `json:"stream,omitempty"` // HTTP/2 stream (RFC 8441)
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

func runExport(o *exportOptions) error {
	if len(o.Reads) == 0 {
		return usageErr("no input: give a capture file with -r FILE (or -r - for standard input)")
	}
	if o.Output == "" {
		return usageErr("give the output directory with -o DIR")
	}
	spec, err := o.Filter.spec(true)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.Output, 0o755); err != nil {
		return outputErr(fmt.Errorf("-o: %w", err))
	}
	idx, err := os.Create(filepath.Join(o.Output, "index.jsonl"))
	if err != nil {
		return outputErr(fmt.Errorf("-o: %w", err))
	}
	e := &exporter{dir: o.Output, enc: json.NewEncoder(idx), st: report.NewStabilizer(o.Stable), made: map[string]bool{}}
	e.enc.SetEscapeHTML(false)
	_, derr := o.decodeInto(o.Reads, spec, record.Adapt(e), e.SetOrigin, false)
	cerr := idx.Close()
	if err := errors.Join(e.err, cerr); err != nil {
		return outputErr(err)
	}
	if derr == nil {
		fmt.Fprintf(o.Err, "wsdump: %d messages written to %s\n", e.n, o.Output)
	}
	return derr
}

// exporter is a sink that writes messages to files.
type exporter struct {
	dir  string
	enc  *json.Encoder
	st   *report.Stabilizer
	made map[string]bool
	n    int
	err  error
}

func (e *exporter) Handshake(*wsparse.Conn, *wsparse.Handshake) {}
func (e *exporter) Frame(*wsparse.Conn, *wsparse.Frame)         {}
func (e *exporter) End(*wsparse.Conn, *wsparse.Summary)         {}

func (e *exporter) Message(c *wsparse.Conn, m *wsparse.Message) {
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
	if !e.made[sub] {
		if e.err = os.MkdirAll(filepath.Join(e.dir, sub), 0o755); e.err != nil {
			return
		}
		e.made[sub] = true
	}
	if e.err = os.WriteFile(filepath.Join(e.dir, filepath.FromSlash(rel)), m.Data, 0o644); e.err != nil {
		return
	}
	sum := sha256.Sum256(m.Data)
	ent := exportEntry{Conn: conn, Stream: stream, Dir: m.Dir.String(), Index: m.Index,
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
func (e *exporter) SetOrigin(t time.Time) { e.st.SetOrigin(t) }

// Package dataset writes wsdump's records as Parquet datasets, for DuckDB,
// Spark, Trino or ClickHouse: one dataset per record kind under a
// directory, Hive-partitioned by the date (UTC) of each record,
//
//	DIR/messages/date=2026-12-04/part-<id>.parquet
//
// with the jsonl field names as column names (rows.go). A run writes new
// files only, named by its part id (the capture's first packet time and 32
// random bits): appending more captures, or the same one again, never
// rewrites or replaces a file. Each file is written as a hidden
// .part-<id>.parquet.tmp (readers skip names starting with a dot) and
// linked to its name when complete; an existing name is an error, never
// overwritten.
package dataset

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/health"
	"github.com/wsdump/wsdump/report"
	"github.com/wsdump/wsdump/wsparse"
)

// The datasets, in the order the README lists them.
var Datasets = []string{"handshakes", "frames", "messages", "conns", "heartbeats", "reconnect_groups"}

// Row groups: a file's row group ends at RowGroupRows rows or once the
// rows written into it carry RowGroupBytes of payload, whichever comes
// first. The writer holds an open row group in memory (encoded and
// compressed) until it ends, per open file: the bytes bound keeps the
// frames and messages of a capture of big messages within a few tens of
// MiB, the rows bound is DuckDB's own row group size (122 880), which its
// scans split their work by.
const (
	RowGroupRows  = 122880
	RowGroupBytes = 16 << 20
	// FileRowGroups ends a file after that many row groups; the date's
	// next record starts its next file (part-<id>-2.parquet, ...). The
	// writer keeps each row group's metadata (column chunks, page
	// indexes: tens of KB) for the file's footer until the file ends, so
	// one file for a whole capture grew the heap with the capture (several
	// MB on 2.9 GB). 16 groups (of up to 16 MiB of payload: 256 MiB of it
	// a file) hold ~1.5 MiB of it for the frames and the messages at
	// most; 64 held ~5 MiB, and the 2.9 GB capture's live heap climbed
	// over its first files as the 182 MB capture's never did.
	FileRowGroups = 16
	// maxOpen bounds the files open per dataset (one per date the
	// records fall on): past it the least recently written is finished,
	// and a later record of its date starts a new file.
	maxOpen = 4
	// pageBuffer is the size of the pages the columns are cut into
	// (before compression) in the datasets of payloads (frames,
	// messages). parquet-go ends a page after a chunk of 64 rows that
	// takes it past that size, and a chunk never spans two Write calls
	// (one per batch): with batches of 1 MiB and 256 KiB pages, the pages
	// came to ~400 KB, up to 1 MiB and more, and each payload column kept
	// buffers (values, encoded page, compressed page, parquet-go's pools of
	// sizes on the way) for the biggest. Batches of batchBytes with
	// 384 KiB pages make pages of the same size (the 182 MB load
	// capture's files 1% smaller) and the biggest under ~640 KiB.
	// zstdWindow is their codec's window (a page is compressed on its
	// own). smallPage is the others': parquet-go buffers a
	// page of each column of an open file whatever its rows (a conns
	// file with one row, ~60 columns, held 6.7 MiB at 256 KiB pages, 2.2
	// at 64 KiB), and their rows are a few hundred bytes.
	pageBuffer = 384 << 10
	zstdWindow = 256 << 10
	smallPage  = 64 << 10
	// HeldBytes bounds what the open row groups of all datasets hold
	// together besides their payloads, each row counted at its dataset's
	// cost (rowCost): past it the biggest open row group ends. 100 000
	// open connections hold their handshakes, frames and messages in the
	// open row groups at the end of the input, then their conns rows
	// come all at once; a capture of a few thousand connections and big
	// messages, whose row groups end at RowGroupBytes, stays under it
	// (ws-bench-200mb.pcap: 2.3 MiB at most).
	HeldBytes = 4 << 20
)

// rowCost is the heap a row of a dataset takes in an open row group, its
// payload aside, measured on distinct addresses (the dataset's dictionary
// columns grow with each): 250 to 360 bytes a handshake, 240 to 475 a
// conn, 60 to 150 a frame, 40 to 80 a message. Every row counted at 384
// under 16 MiB let the conns and cut messages rows of 100 000 open
// connections, coming at the end of the input when the live heap is at
// its highest, hold 28 MiB.
func rowCost(name string) int {
	switch name {
	case "frames", "messages":
		return 128
	default:
		return 384
	}
}

// Options configures a Writer.
type Options struct {
	Dir string // the dataset root; created if missing
	// ID names this run's files (part-<ID>.parquet); empty: the first
	// packet's time and 32 random bits (SetOrigin), or the time of the
	// first record.
	ID     string
	Health health.Options // the heartbeats and reconnect groups
	// Files name the inputs by number (wsparse.Conn.Input), for the conns'
	// file column (null when nil: standard input).
	Files []string
	// EndsAll says that every connection with a handshake has its End,
	// with its decoder's summary, before Close: nothing between the
	// decoder and the Writer drops one (no filter). An open connection's
	// heartbeat state then waits for its End (health's HeadsAtEnd): 8
	// bytes, not ~140 (14 MB on 100 000 open connections).
	EndsAll bool
	// RowGroupRows, RowGroupBytes and FileRowGroups override the
	// constants (tests).
	RowGroupRows  int
	RowGroupBytes int
	FileRowGroups int
	HeldBytes     int
}

// Writer is a record.Sink and a report.Exporter (see put.go) that writes
// the datasets. Handshakes,
// frames, messages and conns are written as they come; heartbeats and
// reconnect groups, known at the end, by Close. It is not safe for
// concurrent use.
type Writer struct {
	opts    Options
	id      string
	origin  time.Time
	tr      *health.Tracker
	err     error
	app     []byte
	closed  bool
	written []string // files completed, relative to Dir
	rows    int64
	mu      sync.Mutex // err, written and rows: the tables' goroutines set them
	held    int        // rowCost of the rows in the open row groups of every table (caller's side)
	tables  []cutter
	pages   pagePool   // the open row groups' pages past pageMem, in temporary files
	small   *zstdCodec // the codec of the datasets of smallPage pages, shared

	handshakes *table[handshakeRow]
	frames     *table[frameRow]
	messages   *table[messageRow]
	conns      *table[connRow]
	heartbeats *table[heartbeatRow]
	groups     *table[groupRow]
}

// New makes the dataset root (its parents included) and returns a Writer
// into it. Nothing else is written before the first record.
func New(o Options) (*Writer, error) {
	if o.Dir == "" {
		return nil, errors.New("no directory for the Parquet datasets")
	}
	if o.RowGroupRows <= 0 {
		o.RowGroupRows = RowGroupRows
	}
	if o.RowGroupBytes <= 0 {
		o.RowGroupBytes = RowGroupBytes
	}
	if o.FileRowGroups <= 0 {
		o.FileRowGroups = FileRowGroups
	}
	if o.HeldBytes <= 0 {
		o.HeldBytes = HeldBytes
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, err
	}
	w := &Writer{opts: o, id: o.ID, tr: health.New(nil, o.Health)}
	// The heartbeats and reconnect groups are all that is read of the
	// tracker: each connection's heartbeats are measured at its end and
	// it is kept packed (a few hundred bytes), not with every beat's
	// time. Kept whole, the ended connections grew the live heap with the
	// capture (~23 of the 111 MiB live at the end of a 2.9 GB capture).
	w.tr.FinishAtEnd()
	w.tr.AwaitCaptureEnd() // CaptureEnd
	if o.EndsAll {
		w.tr.HeadsAtEnd()
	}
	w.handshakes = newTable[handshakeRow](w, "handshakes")
	w.frames = newTable[frameRow](w, "frames")
	w.messages = newTable[messageRow](w, "messages")
	w.conns = newTable[connRow](w, "conns")
	w.heartbeats = newTable[heartbeatRow](w, "heartbeats")
	w.groups = newTable[groupRow](w, "reconnect_groups")
	w.tables = []cutter{w.handshakes, w.frames, w.messages, w.conns, w.heartbeats, w.groups}
	for _, t := range w.tables {
		t.start()
	}
	return w, nil
}

// SetOrigin is given the first packet's time: the part id starts with it.
func (w *Writer) SetOrigin(t time.Time) {
	if w.origin.IsZero() {
		w.origin = t
	}
}

// ID returns the part id of this run's files ("" before the first record).
func (w *Writer) ID() string { return w.id }

// Files lists the files written so far, relative to the root.
func (w *Writer) Files() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.written)
}

// Rows is the number of rows written so far.
func (w *Writer) Rows() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rows
}

func (w *Writer) partID() string {
	if w.id == "" {
		t := w.origin
		if t.IsZero() {
			t = time.Now()
		}
		var b [4]byte
		rand.Read(b[:])
		w.id = t.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
	}
	return w.id
}

func (w *Writer) Handshake(c *wsparse.Conn, h *wsparse.Handshake) {
	w.tr.Handshake(c, h)
	r := handshakeOf(w.partID(), c, h)
	w.handshakes.add(r.TS, &r, 0)
}

func (w *Writer) Frame(c *wsparse.Conn, f *wsparse.Frame) {
	w.tr.Frame(c, f)
	r := frameOf(w.partID(), c, f)
	r.Payload = w.frames.keep(r.Payload)
	w.frames.add(r.TS, &r, len(r.Payload))
}

func (w *Writer) Message(c *wsparse.Conn, m *wsparse.Message) { w.MessageApps(c, m, nil) }

// MessageApps writes a message with its application messages: the "app"
// column holds the JSON array jsonl writes.
func (w *Writer) MessageApps(c *wsparse.Conn, m *wsparse.Message, apps []appproto.App) {
	w.tr.Message(c, m)
	var app []byte
	if len(apps) > 0 {
		app = append(w.app[:0], '[')
		for i := range apps {
			if i > 0 {
				app = append(app, ',')
			}
			app = report.AppendAppJSON(app, apps[i])
		}
		app = append(app, ']')
		w.app = app
	}
	r := messageOf(w.partID(), c, m, app)
	r.Data = w.messages.keep(r.Data)
	w.messages.add(r.TS, &r, len(r.Data))
}

// End writes a WebSocket connection's conn row, and an HTTP/2
// connection's that did not follow some of its streams or its framing
// (jsonl's conn record for it, with http2); the other connections that
// never showed WebSocket (wsparse.Config.EndAll) only feed the reconnect
// groups.
func (w *Writer) End(c *wsparse.Conn, s *wsparse.Summary) {
	w.tr.End(c, s)
	if s.End == wsparse.EndNotWebSocket && !s.H2NotFollowed() {
		return
	}
	r := connOf(w.partID(), c, s)
	if i := c.Input(); i < len(w.opts.Files) {
		r.File = &w.opts.Files[i]
	}
	w.conns.add(r.TS, &r, 0)
}

// Beat and Negotiated take the application protocols' heartbeats (Beat
// and Negotiated records).
func (w *Writer) Beat(b health.Beat)             { w.tr.Beat(b) }
func (w *Writer) Negotiated(n health.Negotiated) { w.tr.Negotiated(n) }

// TLSConn: a TLS connection that showed no WebSocket is in no dataset.
func (w *Writer) TLSConn(*wsparse.Conn, time.Time, netip.AddrPort, netip.AddrPort, *wsparse.TLSInfo) {
}

// Flush does nothing: a row group is written when it is full, a file
// when it is complete.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// CaptureEnd tells the writer the input's last packet's time, before
// Close: a connection still open then is judged to it, as conns judges
// it (health.Tracker.CaptureEnd). Without it, to its own end.
func (w *Writer) CaptureEnd(ts time.Time) { w.tr.CaptureEnd(ts) }

// CaptureEndOf is CaptureEnd for a capture whose clock jumped
// (health.Tracker.CaptureEndOf).
func (w *Writer) CaptureEndOf(endOf func(time.Time) time.Time) { w.tr.CaptureEndOf(endOf) }

// Close writes the heartbeats and reconnect groups, then completes every
// file. After an error the files of this run are removed, the complete
// ones included, so that a failed run leaves nothing half there.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if !w.failed() {
		// One connection's result at a time (ReportEach), not all of them
		// at once.
		rep := w.tr.ReportEach()
		for i := range rep.Len() {
			c := rep.Conn(i)
			for _, s := range c.Heartbeats {
				r := heartbeatOf(w.partID(), c, s)
				w.heartbeats.add(r.FirstTS, &r, 0)
			}
			rep.Release(i)
		}
		o := w.opts.Health
		if o.StormWindow <= 0 {
			o.StormWindow = 10 * time.Second
		}
		for i, g := range rep.Groups {
			r := groupOf(w.partID(), i+1, g, o)
			w.groups.add(r.FirstTS, &r, 0)
		}
	}
	w.handshakes.wait()
	w.frames.wait()
	w.messages.wait()
	w.conns.wait()
	w.heartbeats.wait()
	w.groups.wait()
	w.pages.close()
	if w.err != nil {
		for _, f := range w.written {
			os.Remove(filepath.Join(w.opts.Dir, f))
		}
		w.written = nil
	}
	return w.err
}

func (w *Writer) fail(err error) {
	w.mu.Lock()
	if w.err == nil && err != nil {
		w.err = err
	}
	w.mu.Unlock()
}

func (w *Writer) failed() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err != nil
}

func (w *Writer) addRows(n int64) {
	w.mu.Lock()
	w.rows += n
	w.mu.Unlock()
}

// table is one dataset. Rows are handed, in batches, to a goroutine
// that writes its files (encoding and compressing them while the capture
// decodes), through a channel of a few batches: what waits is bounded.
// Where each row group ends is decided on the caller's side, as the rows
// are added (the same in every run, whatever the goroutines' timing),
// and carried by the rows (item.end).
type table[T any] struct {
	w    *Writer
	name string
	// The caller's side.
	batch  []item[T]
	arena  []byte // the batch's payloads, copied: its last chunk
	kept   int    // bytes of payload kept in the batch
	ch     chan batchBufs[T]
	free   chan batchBufs[T] // batches written, to reuse
	done   chan struct{}
	groups map[string]*group // the open row group of each open file, by date
	clock  uint64
	cost   int // rowCost of a row
	page   int // page buffer size
	// The goroutine's side.
	open  map[string]*part[T]
	files map[string]int // files started per date
	tick  uint64
	zstd  *zstdCodec
}

type item[T any] struct {
	date string
	row  T
	cut  bool // no row: the open row group of date ends (HeldBytes)
	end  bool // the row group ends after this row (or cut)
}

type batchBufs[T any] struct {
	items []item[T]
	arena []byte
}

// A batch is sent when it has batchRows rows or batchBytes of payload
// (see pageBuffer: a batch is one Write of each open file's rows).
// Its arena starts at arenaMin bytes and doubles, a new chunk each time
// (the rows before keep theirs), up to batchBytes: what 512 rows of small
// payloads use, not a megabyte each (6 MB of arenas idle on 100 000 open
// connections).
const (
	batchRows  = 512
	batchBytes = 256 << 10
	arenaMin   = 16 << 10
)

type part[T any] struct {
	f          *os.File
	tmp, final string // paths, relative to the root
	pw         *parquet.GenericWriter[T]
	pending    []T    // rows of the batch being written, not yet handed to pw
	rows       int    // in the open row group
	groups     int    // row groups written
	used       uint64 // tick of the last row
}

func newTable[T any](w *Writer, name string) *table[T] {
	page := smallPage
	if name == "frames" || name == "messages" {
		page = pageBuffer
	}
	return &table[T]{w: w, name: name, open: map[string]*part[T]{}, files: map[string]int{}, groups: map[string]*group{},
		ch: make(chan batchBufs[T], 2), free: make(chan batchBufs[T], 3), done: make(chan struct{}),
		cost: rowCost(name), page: page, zstd: w.codec(page)}
}

// codec returns the zstd codec of a dataset of pages of the given size:
// its own for the payloads' (frames and messages compress side by side,
// in their goroutines), one for the others (rows of a few hundred bytes,
// a page now and then), whose encoders' buffers (up to a few hundred KiB
// each) were held six times over.
func (w *Writer) codec(page int) *zstdCodec {
	if page != smallPage {
		return newZstdCodec(zstdWindow)
	}
	if w.small == nil {
		w.small = newZstdCodec(page)
	}
	return w.small
}

func (t *table[T]) start() { go t.run() }

// date is the partition of a record at t: its date in UTC, Hive's name for
// null without a time.
func date(t *time.Time) string {
	if t == nil {
		return "__HIVE_DEFAULT_PARTITION__"
	}
	return t.Format("2006-01-02")
}

// keep copies b (a payload the decoder reuses) into the batch's arena.
func (t *table[T]) keep(b []byte) []byte {
	if len(b) > cap(t.arena)-len(t.arena) {
		if t.kept > 0 && t.kept+len(b) > batchBytes {
			t.send() // does not fit: the batch goes now
			return t.keep(b)
		}
		if len(b) > batchBytes {
			return append([]byte{}, b...) // bigger than an arena: its own
		}
		t.arena = make([]byte, 0, min(batchBytes, max(arenaMin, 2*cap(t.arena), len(b))))
	}
	n := len(t.arena)
	t.arena = append(t.arena, b...)
	t.kept += len(b)
	return t.arena[n:len(t.arena):len(t.arena)]
}

// add queues one row, dated by at; size is its payload bytes (kept with
// keep: rows hold no buffer of the caller's).
func (t *table[T]) add(at *time.Time, row *T, size int) {
	d := date(at)
	g := t.group(d)
	g.rows++
	g.bytes += size
	t.w.held += t.cost
	o := &t.w.opts
	end := g.rows >= o.RowGroupRows || g.bytes >= o.RowGroupBytes
	if end {
		t.ended(d, g)
	}
	t.batch = append(t.batch, item[T]{date: d, row: *row, end: end})
	if t.w.held > o.HeldBytes {
		t.w.cutBiggest()
	}
	if len(t.batch) >= batchRows || t.kept >= batchBytes {
		t.send()
	}
}

func (t *table[T]) send() {
	if len(t.batch) > 0 {
		t.ch <- batchBufs[T]{t.batch, t.arena}
	}
	t.batch, t.arena, t.kept = nil, nil, 0
	select {
	case f := <-t.free:
		t.batch, t.arena = f.items[:0], f.arena[:0]
	default:
	}
}

// wait sends what is queued and waits for the goroutine to complete the
// files.
func (t *table[T]) wait() {
	t.send()
	close(t.ch)
	<-t.done
}

func (t *table[T]) run() {
	defer close(t.done)
	for b := range t.ch {
		t.write(b.items)
		clear(b.items) // no reference kept
		select {
		case t.free <- batchBufs[T]{b.items[:0], b.arena[:0]}:
		default:
		}
	}
	for _, d := range slices.Sorted(maps.Keys(t.open)) {
		t.finish(d)
	}
}

// write writes a batch's rows into their files, ending row groups where
// the rows say.
func (t *table[T]) write(batch []item[T]) {
	w := t.w
	if w.failed() {
		return
	}
	for i := range batch {
		it := &batch[i]
		p := t.open[it.date]
		if it.cut && p == nil {
			continue
		}
		if p == nil {
			if p = t.create(it.date); p == nil {
				return
			}
		}
		if !it.cut {
			t.tick++
			p.used = t.tick
			p.pending = append(p.pending, it.row)
			w.addRows(1)
			p.rows++
		}
		if it.end && p.rows > 0 {
			t.put(p)
			if err := p.pw.Flush(); err != nil {
				w.fail(fmt.Errorf("%s: %w", p.tmp, err))
			}
			p.rows = 0
			if p.groups++; p.groups >= w.opts.FileRowGroups {
				t.finish(it.date)
			}
		}
	}
	for _, p := range t.open {
		t.put(p)
	}
}

// put hands a file's pending rows to its writer.
func (t *table[T]) put(p *part[T]) {
	if len(p.pending) == 0 {
		return
	}
	if _, err := p.pw.Write(p.pending); err != nil {
		t.w.fail(fmt.Errorf("%s: %w", p.tmp, err))
	}
	clear(p.pending)
	p.pending = p.pending[:0]
}

// create starts the next file of date d, finishing the least recently
// written one past maxOpen.
func (t *table[T]) create(d string) *part[T] {
	w := t.w
	if len(t.open) >= maxOpen {
		var lru string
		for k, p := range t.open {
			if lru == "" || p.used < t.open[lru].used {
				lru = k
			}
		}
		t.finish(lru)
	}
	dir := filepath.Join(t.name, "date="+d)
	if err := os.MkdirAll(filepath.Join(w.opts.Dir, dir), 0o755); err != nil {
		w.fail(err)
		return nil
	}
	t.files[d]++
	name := "part-" + w.partID()
	if n := t.files[d]; n > 1 {
		name += "-" + strconv.Itoa(n)
	}
	p := &part[T]{tmp: filepath.Join(dir, "."+name+".parquet.tmp"), final: filepath.Join(dir, name+".parquet")}
	if _, err := os.Stat(filepath.Join(w.opts.Dir, p.final)); err == nil {
		w.fail(fmt.Errorf("%s exists: a run never replaces a file", filepath.Join(w.opts.Dir, p.final)))
		return nil
	}
	f, err := os.OpenFile(filepath.Join(w.opts.Dir, p.tmp), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		w.fail(err)
		return nil
	}
	p.f = f
	p.pw = parquet.NewGenericWriter[T](f,
		parquet.Compression(t.zstd),
		parquet.PageBufferSize(t.page),
		parquet.ColumnPageBuffers(&w.pages),
		parquet.CreatedBy("wsdump", "", ""),
		parquet.KeyValueMetadata("wsdump.capture", w.partID()),
		parquet.KeyValueMetadata("wsdump.dataset", t.name),
		parquet.WriteBufferSize(min(t.page, 256<<10)),
		// No min/max of the payloads: finding them compares every
		// payload, and the footer would hold a copy of two of them.
		parquet.SkipPageBounds("payload"),
		parquet.SkipPageBounds("data"),
		parquet.SkipPageBounds("app"),
	)
	t.open[d] = p
	return p
}

// finish completes the open file of date d and gives it its name.
func (t *table[T]) finish(d string) {
	w := t.w
	p := t.open[d]
	delete(t.open, d)
	t.put(p)
	err := p.pw.Close()
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	tmp, final := filepath.Join(w.opts.Dir, p.tmp), filepath.Join(w.opts.Dir, p.final)
	if err == nil && !w.failed() {
		// A link never replaces a file (unlike a rename).
		if err = os.Link(tmp, final); errors.Is(err, fs.ErrExist) {
			err = fmt.Errorf("%s exists: a run never replaces a file", final)
		} else if err != nil {
			if _, serr := os.Lstat(final); serr == nil {
				err = fmt.Errorf("%s exists: a run never replaces a file", final)
			} else {
				err = os.Rename(tmp, final) // a file system without links
			}
		}
		if err == nil {
			w.mu.Lock()
			w.written = append(w.written, p.final)
			w.mu.Unlock()
		}
	}
	w.fail(err)
	os.Remove(tmp)
}

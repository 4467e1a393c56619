package dataset

// Where the row groups end, decided on the caller's side as the rows are
// added (table.add): at RowGroupRows rows or RowGroupBytes of payload in
// a file's open row group, and, past HeldBytes of rows held by the open
// row groups of all tables together (each row at its dataset's rowCost),
// for the biggest of them.

// group is the caller's count of an open file's open row group: the
// goroutine's part as it will be once the rows queued are written (the
// same bounds, the same least recently written file finished past
// maxOpen).
type group struct {
	rows   int    // in the open row group
	bytes  int    // of payload in the open row group
	groups int    // row groups ended in the file
	used   uint64 // clock of the last row
}

// cutter is a table for the bound on what the tables hold together
// (HeldBytes): its biggest open row group, which cut ends.
type cutter interface {
	start()
	biggest() (date string, held int)
	cut(date string)
}

// group returns date d's open row group, as the goroutine will have it:
// a new file past maxOpen finishes the least recently written one.
func (t *table[T]) group(d string) *group {
	t.clock++
	g := t.groups[d]
	if g == nil {
		if len(t.groups) >= maxOpen {
			var lru string
			for k, x := range t.groups {
				if lru == "" || x.used < t.groups[lru].used {
					lru = k
				}
			}
			t.w.held -= t.groups[lru].rows * t.cost
			delete(t.groups, lru)
		}
		g = new(group)
		t.groups[d] = g
	}
	g.used = t.clock
	return g
}

// ended counts the end of date d's open row group, and of its file after
// FileRowGroups of them.
func (t *table[T]) ended(d string, g *group) {
	t.w.held -= g.rows * t.cost
	g.rows, g.bytes = 0, 0
	if g.groups++; g.groups >= t.w.opts.FileRowGroups {
		delete(t.groups, d)
	}
}

// biggest returns the open row group that holds the most (its rows at
// the table's rowCost), the first date among equals.
func (t *table[T]) biggest() (string, int) {
	var d string
	n := 0
	for k, g := range t.groups {
		if h := g.rows * t.cost; h > n || h == n && n > 0 && k < d {
			d, n = k, h
		}
	}
	return d, n
}

// cut ends date d's open row group.
func (t *table[T]) cut(d string) {
	t.ended(d, t.groups[d])
	t.batch = append(t.batch, item[T]{date: d, cut: true, end: true})
	if len(t.batch) >= batchRows {
		t.send()
	}
}

// cutBiggest ends the biggest open row group of all tables (the first
// table's, of the first date, among equals).
func (w *Writer) cutBiggest() {
	var big cutter
	var d string
	n := 0
	for _, t := range w.tables {
		if k, m := t.biggest(); m > n {
			big, d, n = t, k, m
		}
	}
	if big != nil {
		big.cut(d)
	}
}

package report

import (
	"strings"
	"testing"
)

// TestWriteDatasetNotice: the notice names a run's files, a date's later
// files (a file ends after 64 row groups, or when a fifth date opens)
// included.
func TestWriteDatasetNotice(t *testing.T) {
	var b strings.Builder
	WriteDatasetNotice(&b, "out", 10, 3, "20261206T000000Z-0a0b0c0d")
	for _, want := range []string{"wrote 10 rows in 3 files to out", "part-20261206T000000Z-0a0b0c0d.parquet", "part-20261206T000000Z-0a0b0c0d-2.parquet"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("notice %q: no %q", b.String(), want)
		}
	}
}

package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/report"
)

var errUnread = errors.New("unreadable")

// TestRunPerFileOrder: the parts come out in file order with their label
// whatever order the workers finish in; an unreadable file is said and
// counted, and the others are read.
func TestRunPerFileOrder(t *testing.T) {
	l := capture.InputList{Files: []string{"a", "b", "c"}, Errs: []error{errors.New("missing")}}
	var out, errw bytes.Buffer
	err := RunPerFile(l, PerFile{Jobs: 3, Label: report.LabelJSON, Out: &out, Err: &errw,
		Run: func(f string, out, errw io.Writer) error {
			fmt.Fprintf(out, "{\"n\":1}\n{}\n")
			if f == "b" {
				return errUnread
			}
			return nil
		},
		Unread: func(err error) bool { return err == errUnread }})
	var ue *UnreadError
	if !errors.As(err, &ue) || ue.Unread != 2 || ue.Inputs != 4 {
		t.Fatalf("err %v, want 2 of 4 inputs unread", err)
	}
	want := `{"file":"a","n":1}
{"file":"a"}
{"file":"b","n":1}
{"file":"b"}
{"file":"c","n":1}
{"file":"c"}
`
	if out.String() != want {
		t.Errorf("output:\n%s\nwant:\n%s", out.String(), want)
	}
	if errw.String() != "wsdump: unreadable\n" {
		t.Errorf("stderr %q", errw.String())
	}
}

// TestRunPerFileStops: an error that is not an unreadable input stops the
// run with that error.
func TestRunPerFileStops(t *testing.T) {
	stop := errors.New("interrupted")
	var out bytes.Buffer
	err := RunPerFile(capture.InputList{Files: []string{"a", "b"}}, PerFile{Jobs: 1, Label: report.LabelHeader, Out: &out, Err: io.Discard,
		Run: func(f string, out, errw io.Writer) error {
			fmt.Fprintln(out, "part", f)
			return stop
		},
		Unread: func(err error) bool { return false }})
	if err != stop {
		t.Fatalf("err %v, want %v", err, stop)
	}
	if out.String() != "==> a <==\npart a\n" {
		t.Errorf("output %q", out.String())
	}
}

// TestEachFileNotesInOrder: every file is done once, and the notices come
// out in file order.
func TestEachFileNotesInOrder(t *testing.T) {
	files := []string{"a", "b", "c", "d"}
	done := make([]int, len(files))
	var errw bytes.Buffer
	EachFile(files, 2, &errw, func(i int, f string, errw io.Writer) {
		done[i]++
		fmt.Fprintln(errw, "note", f)
	})
	if errw.String() != "note a\nnote b\nnote c\nnote d\n" {
		t.Errorf("notes %q", errw.String())
	}
	for i, n := range done {
		if n != 1 {
			t.Errorf("file %d done %d times", i, n)
		}
	}
}

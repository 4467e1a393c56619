package main

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/pipeline"
)

// TestExitErrMapping: the errors of the pipeline's runs map to the exit
// statuses of --help, with their messages unchanged.
func TestExitErrMapping(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
		msg  string
	}{
		{nil, exitOK, ""},
		{pipeline.Usagef("--time must be rel or abs"), exitUsage, "wsdump: --time must be rel or abs\n"},
		{&pipeline.WriteError{Err: errors.New("disk full")}, exitOutput, "wsdump: writing output: disk full\n"},
		{&pipeline.FindingsError{Msg: "lint: findings"}, exitFindings, "wsdump: lint: findings\n"},
		{&pipeline.DiffError{Msg: "diff: 2 differences"}, exitDiffer, "wsdump: diff: 2 differences\n"},
		{capture.ErrInterrupted, exitInterrupted, "wsdump: " + capture.ErrInterrupted.Error() + "\n"},
		{fmt.Errorf("x.pcap: not a capture"), exitInput, "wsdump: x.pcap: not a capture\n"},
	} {
		var errs bytes.Buffer
		if code := exitCode(exitErr(tc.err), &errs); code != tc.code || errs.String() != tc.msg {
			t.Errorf("%v: exit %d %q, want %d %q", tc.err, code, errs.String(), tc.code, tc.msg)
		}
	}
}

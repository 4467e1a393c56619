package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/pipeline"
)

// Exit statuses, documented in --help.
const (
	exitOK    = 0 // success, anomalies included
	exitUsage = 1 // bad flags or arguments
	exitInput = 2 // unreadable input

	exitFindings = 3 // lint: findings at or above --fail-on
	exitDiffer   = 4 // diff: the captures differ
	exitOutput   = 5 // the output could not be written (whatever else happened)

	exitInterrupted = 130 // SIGINT or SIGTERM while reading a file (128 + SIGINT, as shells report it)
)

// exitError carries the exit status an error maps to.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, args ...any) error {
	return &exitError{exitUsage, fmt.Errorf(format, args...)}
}

// inputErr gives err exit status 2, unless it has its own (a usage error
// found while opening the inputs).
func inputErr(err error) error {
	if ee, ok := err.(*exitError); ok {
		return ee
	}
	if err == capture.ErrInterrupted {
		return errInterrupted
	}
	return &exitError{exitInput, err}
}

// outputErr is a failed write of the output (standard output, export's
// files).
func outputErr(err error) error {
	return &exitError{exitOutput, fmt.Errorf("writing output: %w", err)}
}

// errInterrupted ends a reading stopped by SIGINT or SIGTERM (the context
// the command runs with is done): what was read has been written, with
// its summaries.
// A source reading until the context ends (capture.Interruptible) returns
// capture.ErrInterrupted; inputErr turns it into errInterrupted.
var errInterrupted = &exitError{exitInterrupted, capture.ErrInterrupted}

// exitCode maps an error to the process exit status and prints it, in the
// one place that does so.
func exitCode(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	printErr(err, stderr)
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	// Errors cobra raises itself are about flags and arguments.
	return exitUsage
}

// printErr writes err on stderr, prefixed with "wsdump: ".
func printErr(err error, stderr io.Writer) {
	msg := err.Error()
	if !strings.HasPrefix(msg, "wsdump: ") {
		msg = "wsdump: " + msg
	}
	fmt.Fprintln(stderr, msg)
}

// exitErr gives the error of a command's run (package pipeline) its exit
// status: a pipeline.UsageError 1, a pipeline.WriteError 5, a
// pipeline.FindingsError 3, a pipeline.DiffError 4, capture.ErrInterrupted
// 130, any other error 2 (unreadable input).
func exitErr(err error) error {
	var ue *pipeline.UsageError
	var we *pipeline.WriteError
	var fe *pipeline.FindingsError
	var de *pipeline.DiffError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ue):
		return &exitError{exitUsage, err}
	case errors.As(err, &we):
		return outputErr(we.Err)
	case errors.As(err, &fe):
		return &exitError{exitFindings, err}
	case errors.As(err, &de):
		return &exitError{exitDiffer, err}
	}
	return inputErr(err)
}

package main

import (
	"strings"

	"github.com/spf13/pflag"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/pipeline"
)

// The input flags (pipeline.Input) are those of every command that reads
// a capture (the main view, conns, lint, follow, diff, export): how the
// capture is read and decoded, not what is shown of it. A new one is added
// to pipeline.Input and registered here, once.
func addInputFlags(f *pflag.FlagSet, in *pipeline.Input) {
	f.StringArrayVar(&in.KeyLogs, "keylog", nil, "decrypt TLS (wss) with the secrets in this NSS key log `FILE` (SSLKEYLOGFILE; repeatable); pcapng files' own secrets are used too")
	f.Var(&portList{&in.WSPorts}, "ws-port", "decode TCP `PORT` as WebSocket even without a handshake (repeatable)")
	addJobsFlag(f, &in.Jobs)
	addLimitFlags(f, &in.Limits)
	f.Var(newLimit(&in.MaxPayload, 16<<20), "max-payload", "bytes of each frame payload kept for output")
	f.Var(newLimit(&in.MaxMessage, 16<<20), "max-message", "bytes of each message kept (and inflated) for output")
	f.BoolVar(&in.NoSniff, "no-sniff", false, "do not look for WebSocket framing in connections without a handshake")
	f.BoolVar(&in.NoFallback, "no-fallback", false, "do not decode SockJS and Engine.IO sessions carried by HTTP (xhr-streaming, polling, ...): WebSocket connections alone")
}

// addDecodeFlag registers --decode, for the commands that decode the
// application protocols over WebSocket (the main view, conns).
func addDecodeFlag(f *pflag.FlagSet, mode *string) {
	f.StringVar(mode, "decode", appproto.ModeAuto, "application protocol over WebSocket: "+strings.Join(appproto.Modes, ", ")+" (auto picks from the subprotocol, the URL, then the content)")
}

// captureArgs joins -r files and positional arguments.
func captureArgs(reads, args []string) []string {
	return append(append([]string(nil), reads...), args...)
}

// addJobsFlag registers -j.
func addJobsFlag(f *pflag.FlagSet, jobs *int) {
	f.IntVarP(jobs, "jobs", "j", 0, "decode connections on `N` workers (0: one per core); the output is the same for every N")
}

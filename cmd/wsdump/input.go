package main

import (
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/wsdump/wsdump/appproto"
	"github.com/wsdump/wsdump/pipeline"
	"github.com/wsdump/wsdump/reassembly"
	"github.com/wsdump/wsdump/tlsdec"
	"github.com/wsdump/wsdump/wsparse"
)

// inputFlags are the flags of every command that reads a capture (the main
// view, conns, lint, follow, diff, export): how the capture is read and
// decoded, not what is shown of it. A new one is added here, once:
// addInputFlags registers them all, open, loadKeys and options apply them.
type inputFlags struct {
	KeyLogs    []string
	WSPorts    []uint16
	Jobs       int // -j
	Limits     limitFlags
	MaxPayload int // bytes kept of each frame payload
	MaxMessage int // bytes kept (and inflated) of each message
	NoSniff    bool
	PerFile    bool // --per-file, where the command has it
	NoFallback bool
}

// addInputFlags registers the input flags.
func addInputFlags(f *pflag.FlagSet, in *inputFlags) {
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

// checkDecode checks --decode, the empty value meaning auto.
func checkDecode(mode *string) error {
	if *mode == "" {
		*mode = appproto.ModeAuto
	}
	if !appproto.ValidMode(*mode) {
		return usageErr("--decode must be one of %s, not %q", strings.Join(appproto.Modes, ", "), *mode)
	}
	return nil
}

// options turns the input flags into reassembly options around the
// decoder configuration dec and the secrets keys.
func (in *inputFlags) options(dec wsparse.Config, keys *tlsdec.KeyLog) reassembly.Options {
	dec.MaxPayload, dec.MaxMessage, dec.NoSniff = in.MaxPayload, in.MaxMessage, in.NoSniff
	dec.Fallback = !in.NoFallback // SockJS and Engine.IO HTTP fallback sessions (httpfb, fbjoin)
	opts := reassembly.Options{Decoder: dec, WSPorts: in.WSPorts, Keys: keys}
	in.Limits.Apply(&opts)
	return opts
}

// loadKeys reads the --keylog files. Lines that are not secrets are
// counted and reported on stderr, not fatal: key logs are often
// concatenated from several programs.
func (in *inputFlags) loadKeys(stderr io.Writer) (*tlsdec.KeyLog, error) {
	keys, err := pipeline.LoadKeys(in.KeyLogs, stderr)
	if err != nil {
		return nil, inputErr(err)
	}
	return keys, nil
}

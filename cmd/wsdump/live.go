package main

import (
	"github.com/spf13/pflag"

	"github.com/wsdump/wsdump/pipeline"
)

const liveExamples = `  # Live, on one interface, with a tcpdump-style filter
  sudo wsdump -i eth0 tcp port 8080

  # All interfaces, two ports, JSON lines; also save the packets
  sudo wsdump -i any --port 80 --port 443 --format jsonl -w session.pcapng

  # Stop after 100 frames or one minute, whichever comes first
  sudo wsdump -i lo -c 100 --duration 1m host 127.0.0.1 and port 3000`

// addLiveFlags registers the root command's live-capture flags.
func addLiveFlags(f *pflag.FlagSet, l *pipeline.LiveOptions) {
	f.StringVarP(&l.Interface, "interface", "i", "", "capture live on `IFACE` (\"any\" for all; see wsdump interfaces); trailing arguments are a filter, e.g. tcp port 8080")
	f.StringArrayVar(&l.Hosts, "host", nil, "keep TCP to or from `IP` (repeatable: any of them); with -r, a PATTERN may also match the handshake's Host header (glob or substring)")
	f.StringArrayVar(&l.Ports, "port", nil, "live: keep TCP to or from `PORT` (repeatable: any of them)")
	f.IntVarP(&l.Count, "count", "c", 0, "stop after `N` frames (messages with --messages)")
	f.DurationVar(&l.Duration, "duration", 0, "live: stop after this long (e.g. 30s, 5m)")
	f.StringVarP(&l.WriteFile, "write", "w", "", "live: also write the packets to `FILE` (pcapng), to re-read with -r")
	f.BoolVar(&l.Promisc, "promisc", false, "live: put the interface in promiscuous mode")
	f.BoolVarP(&l.List, "list-interfaces", "D", false, "list the interfaces live capture can use, and exit")
}

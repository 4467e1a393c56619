package pipeline

import (
	"fmt"
	"io"
	"strings"

	"github.com/wsdump/wsdump/capture"
	"github.com/wsdump/wsdump/reassembly"

	"github.com/wsdump/wsdump/internal/text"
)

// BPFSource passes the packets of a file that the trailing BPF filter
// selects (-r F tcp port 80) and says on stderr how many it dropped.
type BPFSource struct {
	capture.Source
	m             *capture.Matcher
	expr          string
	stderr        io.Writer
	seen, dropped int
}

// NewBPFSource returns src behind the capture filter of args (the words
// of tcp port 80); the error is a filter that does not parse.
func NewBPFSource(src capture.Source, args []string, stderr io.Writer) (capture.Source, error) {
	f, err := capture.ParseFilter(args...)
	if err != nil {
		return nil, fmt.Errorf("capture filter: %v", err)
	}
	m, err := capture.NewMatcher(f)
	if err != nil {
		return nil, fmt.Errorf("capture filter: %v", err)
	}
	return &BPFSource{Source: src, m: m, expr: strings.Join(args, " "), stderr: stderr}, nil
}

func (s *BPFSource) Next() (capture.Packet, error) {
	for {
		p, err := s.Source.Next()
		if err != nil {
			return p, err
		}
		s.seen++
		if ip, ok := reassembly.NetworkPayload(uint32(p.Link), p.Data); ok && s.m.Match(ip) {
			return p, nil
		}
		s.dropped++
	}
}

func (s *BPFSource) Close() error {
	fmt.Fprintf(s.stderr, "wsdump: capture filter %q: %d of %s dropped\n", s.expr, s.dropped, text.Plural(s.seen, "packet"))
	return s.Source.Close()
}

package report

import "github.com/wsdump/wsdump/internal/text"

// Escape returns p made safe for a terminal, at most width display
// characters: text (when isText is true and p reads as text) with control
// characters, terminal escapes and bidirectional controls escaped, else
// hex. Commands that write their own views (diff, follow) use it for
// anything that came from the traffic. The rule is internal/text's
// (AppendEscaped), shared with lint.
func Escape(p []byte, width int, isText bool) string {
	return string(text.AppendEscaped(nil, p, width, isText))
}

// HexPreview returns p as hex, cut to width characters.
func HexPreview(p []byte, width int) string {
	return string(text.AppendHexPreview(nil, p, width))
}

// MostlyText reports whether p reads better as text than as hex.
func MostlyText(p []byte) bool { return text.MostlyPrintable(p) }

// The report's short names for internal/text's escaping (the one rule for
// a terminal cell: see text.AppendEscaped).

func appendEscaped(b []byte, p []byte, width int, isText bool) []byte {
	return text.AppendEscaped(b, p, width, isText)
}

func appendEscapedExact(b []byte, p []byte, width int) []byte {
	return text.AppendEscapedExact(b, p, width)
}

func escapeAll(s string) string   { return text.EscapeAll(s) }
func escapeExact(s string) string { return text.EscapeExact(s) }
func unsafeRune(r rune) bool      { return text.UnsafeRune(r) }

func appendHexPreview(b []byte, p []byte, width int) []byte {
	return text.AppendHexPreview(b, p, width)
}

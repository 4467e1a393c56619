package report

// Escape returns p made safe for a terminal, at most width display
// characters: text (when text is true and p reads as text) with control
// characters, terminal escapes and bidirectional controls escaped, else
// hex. Commands that write their own views (lint, diff, follow) use it for
// anything that came from the traffic.
func Escape(p []byte, width int, text bool) string {
	return string(appendEscaped(nil, p, width, text))
}

// HexPreview returns p as hex, cut to width characters.
func HexPreview(p []byte, width int) string {
	return string(appendHexPreview(nil, p, width))
}

// MostlyText reports whether p reads better as text than as hex.
func MostlyText(p []byte) bool { return mostlyPrintable(p) }

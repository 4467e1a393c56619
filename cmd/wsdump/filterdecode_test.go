package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestFilterSelectsNotDecodes (issue 15): a filter selects records, it
// never changes how one is decoded. For each filter flag, every record of
// the filtered output (jsonl, frames and --messages) is byte-identical to
// a record of the unfiltered output: application messages (JSON-RPC,
// STOMP) decoded, compressed messages inflated, as without the filter.
func TestFilterSelectsNotDecodes(t *testing.T) {
	const dir = "../../testdata/pcaps/"
	captures := []struct {
		name     string
		base     []string // decoding flags, given with and without the filter
		grep     string   // a --grep that selects some application messages
		deflated bool     // compressed messages must pass
	}{
		{"gen__app-jsonrpc.pcap", nil, `"method"`, false},
		{"gen__app-stomp-rabbitmq-deflate.pcap", nil, `SEND`, true},
		{"gen__app-stomp-rabbitmq-deflate.pcap", []string{"--decode", "stomp"}, `SEND`, true},
	}
	for _, c := range captures {
		for _, view := range [][]string{nil, {"--messages"}} {
			args := append(append([]string{"-r", dir + c.name, "--format", "jsonl"}, c.base...), view...)
			full := runLines(t, args)
			all := map[string]int{}
			for _, l := range full {
				all[l]++
			}
			for _, filter := range [][]string{
				{"--conn", "1"},
				{"--dir", "c2s"},
				{"--dir", "s2c"},
				{"--opcode", "text"},
				{"--host", "127.0.0.1"},
				{"--path", "/"},
				{"--grep", c.grep},
				{"--since", "0.005"},
				{"--until", "0.2"},
				{"-c", "5"},
			} {
				name := strings.Join(append(append(append([]string{c.name}, c.base...), view...), filter...), " ")
				t.Run(name, func(t *testing.T) {
					got := runLines(t, append(append([]string(nil), args...), filter...))
					left := map[string]int{}
					for k, v := range all {
						left[k] = v
					}
					apps, deflated := 0, 0
					for _, l := range got {
						if left[l] == 0 {
							t.Errorf("record not in the unfiltered output:\n%s\nunfiltered records of the same type and index:\n%s", l, sameRecord(full, l))
							continue
						}
						left[l]--
						var r struct {
							Type       string
							App        []json.RawMessage
							Compressed bool
						}
						if err := json.Unmarshal([]byte(l), &r); err != nil {
							t.Fatal(err)
						}
						if r.Type == "message" && len(r.App) > 0 {
							apps++
						}
						if r.Type == "message" && r.Compressed {
							deflated++
						}
					}
					t.Logf("%d of %d records, %d messages with app, %d compressed", len(got), len(full), apps, deflated)
					if apps == 0 {
						t.Errorf("no message with application messages passed")
					}
					if c.deflated && deflated == 0 {
						t.Errorf("no compressed message passed")
					}
				})
			}
		}
	}
}

// runLines runs wsdump and returns its output lines.
func runLines(t *testing.T, args []string) []string {
	t.Helper()
	out, errs, code := runWsdump(t, nil, args...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, errs)
	}
	return strings.Split(strings.TrimSuffix(out, "\n"), "\n")
}

// sameRecord returns the lines of full with the type, dir and index of l.
func sameRecord(full []string, l string) string {
	key := func(s string) [3]string {
		var r struct {
			Type, Dir string
			Index     int
		}
		json.Unmarshal([]byte(s), &r)
		return [3]string{r.Type, r.Dir, itoa(r.Index)}
	}
	k := key(l)
	var b strings.Builder
	for _, s := range full {
		if key(s) == k {
			b.WriteString(s + "\n")
		}
	}
	return b.String()
}

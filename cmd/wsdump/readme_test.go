package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// readmeExample is one `$ wsdump ...` command shown in the README, with
// the output lines shown under it.
type readmeExample struct {
	line int
	args []string
	want []string
}

// readmeExamples finds the README's examples that run on the committed
// captures: a line `$ wsdump ARGS` in a code block, every file argument
// under testdata/, and the lines under it up to the next `$` line or the
// end of the block.
func readmeExamples(t *testing.T) []readmeExample {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var out []readmeExample
	var cur *readmeExample
	inBlock := false
	for i, l := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(l, "```"):
			inBlock = !inBlock
			cur = nil
		case !inBlock:
		case strings.HasPrefix(l, "$ "):
			cur = nil
			args, ok := shellWords(strings.TrimPrefix(l, "$ "))
			if !ok || len(args) < 2 || args[0] != "wsdump" {
				continue
			}
			local := true
			for _, a := range args[1:] {
				if (strings.Contains(a, ".pcap") || strings.HasSuffix(a, ".keys") || strings.HasPrefix(a, "testdata/pcaps/")) && !strings.HasPrefix(a, "testdata/") {
					local = false
				}
			}
			if local {
				out = append(out, readmeExample{line: i + 1, args: args[1:]})
				cur = &out[len(out)-1]
			}
		case cur != nil && strings.TrimSpace(l) != "":
			cur.want = append(cur.want, l)
		}
	}
	return out
}

// shellWords splits a command line as the README writes them: words
// separated by spaces, single-quoted words kept whole, a trailing `#`
// comment dropped. ok is false for anything more (pipes, redirections).
func shellWords(s string) (words []string, ok bool) {
	var w strings.Builder
	inWord, quoted := false, false
	for _, r := range s {
		switch {
		case quoted && r == '\'':
			quoted = false
		case quoted:
			w.WriteRune(r)
		case r == '\'':
			quoted, inWord = true, true
		case r == ' ':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case r == '#' && !inWord:
			return words, true
		case r == '|' || r == '>' || r == '<' || r == '$' || r == '"':
			return nil, false
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		return nil, false
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, true
}

// TestReadmeExamples runs every README example on a committed capture and
// checks that each output line the README shows is printed, in that order
// (the README may leave lines out, never change one): the examples are
// what the command prints today.
func TestReadmeExamples(t *testing.T) {
	examples := readmeExamples(t)
	if len(examples) < 15 {
		t.Fatalf("%d README examples found, want at least 15", len(examples))
	}
	// Run from the repository's root, the files named as the README names
	// them: the output is the README's byte for byte (a table pads its
	// columns to the names, a notice quotes them).
	t.Chdir(filepath.Join("..", ".."))
	for _, ex := range examples {
		// Files an example writes (-o DIR of --format parquet) go to a
		// temporary directory, named as in the README in the output.
		args := slices.Clone(ex.args)
		tmp := t.TempDir()
		for i := 1; i < len(args); i++ {
			if (args[i-1] == "-o" || args[i-1] == "--output") && args[i] != "wide" && args[i] != "-" {
				args[i] = filepath.Join(tmp, args[i])
			}
		}
		stdout, stderr, code := runWsdump(t, nil, args...)
		out := strings.ReplaceAll(stdout+stderr, tmp+string(filepath.Separator), "")
		got := strings.Split(out, "\n")
		k := 0
		for _, w := range ex.want {
			if strings.TrimSpace(w) == "..." || strings.TrimSpace(w) == "…" {
				continue
			}
			for k < len(got) && got[k] != w {
				k++
			}
			if k == len(got) {
				t.Errorf("README.md:%d: wsdump %s (exit %d): the README's line\n%s\nis not in the output (in order):\n%s",
					ex.line, strings.Join(ex.args, " "), code, w, stdout+stderr)
				break
			}
			k++
		}
	}
}

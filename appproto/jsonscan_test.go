package appproto

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

// TestScanObject holds the scanning jsonObject to the json.Decoder one on
// random valid JSON: nested values, escapes, invalid UTF-8 in strings,
// duplicate keys, whitespace anywhere.
func TestScanObject(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ws := func() string { return []string{"", "", "", " ", "\n\t", "\r\n  "}[rng.IntN(6)] }
	str := func() string {
		parts := []string{"a", "id", "jsonrpc", "k", `\"`, `\\`, `\u00e9`, `\n`, "é", "\xff", "漢", `\/`, " ", "x y"}
		var sb strings.Builder
		sb.WriteByte('"')
		for n := rng.IntN(4); n >= 0; n-- {
			sb.WriteString(parts[rng.IntN(len(parts))])
		}
		sb.WriteByte('"')
		return sb.String()
	}
	var value func(depth int) string
	value = func(depth int) string {
		switch k := rng.IntN(8); {
		case k < 2 && depth < 4:
			var sb strings.Builder
			sb.WriteString("{" + ws())
			for n := rng.IntN(5); n > 0; n-- {
				sb.WriteString(str() + ws() + ":" + ws() + value(depth+1) + ws())
				if n > 1 {
					sb.WriteString("," + ws())
				}
			}
			return sb.String() + "}"
		case k < 3 && depth < 4:
			var sb strings.Builder
			sb.WriteString("[" + ws())
			for n := rng.IntN(4); n > 0; n-- {
				sb.WriteString(value(depth+1) + ws())
				if n > 1 {
					sb.WriteString("," + ws())
				}
			}
			return sb.String() + "]"
		case k < 5:
			return str()
		case k < 6:
			return []string{"0", "-1.5e3", "12345678901234567890", "0.0"}[rng.IntN(4)]
		default:
			return []string{"true", "false", "null"}[rng.IntN(3)]
		}
	}
	objects := 0
	for i := 0; i < 20000; i++ {
		doc := ws() + value(0) + ws()
		if !json.Valid([]byte(doc)) {
			t.Fatalf("generator made invalid JSON: %q", doc)
		}
		m1, r1, ok1 := scanObject([]byte(doc))
		m2, r2, ok2 := decodeObject([]byte(doc))
		if ok1 != ok2 || !reflect.DeepEqual(m1, m2) || !reflect.DeepEqual(r1, r2) {
			t.Fatalf("%q:\nscan:    %v %q %q\ndecoder: %v %q %q", doc, ok1, m1, r1, ok2, m2, r2)
		}
		if ok1 {
			objects++
		}
	}
	if objects < 2000 {
		t.Fatalf("only %d objects generated", objects)
	}
}

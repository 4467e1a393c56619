package appproto

// The JSON scanner as it was before its bytes were read eight at a time
// (jsonscan.go): the reference the equivalence tests and FuzzScanMatchesRef
// hold the scanner to, accepting and rejecting the same input and finding
// the same members, with the same plain and compact flags.

// refJsonValid is json.Valid without its allocations.
func refJsonValid(b []byte) bool {
	var spaced bool
	i := refValidValue(b, refSkipSpace(b, 0), 0, &spaced)
	return i >= 0 && refSkipSpace(b, i) == len(b)
}

// refParseJSON reports whether b is one valid JSON value, with optional space
// around it, as json.Valid does. When b is a valid object, it also returns
// its top-level members (duplicates included, in order), held in mb until
// the next refParseJSON or mb.release; when b is invalid, the members mean
// nothing.
func refParseJSON(b []byte, mb *memberBuf) ([]jsonMember, bool) {
	members := mb.small[:0]
	if mb.big != nil {
		members = (*mb.big)[:0]
	}
	i := refSkipSpace(b, 0)
	var spaced bool
	if i < len(b) && b[i] == '{' {
		i, members = refValidObject(b, i, 0, members, mb, &spaced)
	} else {
		i = refValidValue(b, i, 0, &spaced)
	}
	return members, i >= 0 && refSkipSpace(b, i) == len(b)
}

// refValidValue returns the index after the valid JSON value at b[i], or -1.
// depth is the number of arrays and objects around it. It sets *spaced
// when the value holds space outside its strings.
func refValidValue(b []byte, i, depth int, spaced *bool) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return refValidString(b, i)
	case '{':
		i, _ = refValidObject(b, i, depth, nil, nil, spaced)
		return i
	case '[':
		return refValidArray(b, i, depth, spaced)
	case 't':
		return refValidLiteral(b, i, "true")
	case 'f':
		return refValidLiteral(b, i, "false")
	case 'n':
		return refValidLiteral(b, i, "null")
	}
	return refValidNumber(b, i)
}

// refValidObject is refValidValue for the object at b[i]; with mb, it appends
// the object's members to members, growing it with mb.
func refValidObject(b []byte, i, depth int, members []jsonMember, mb *memberBuf, spaced *bool) (int, []jsonMember) {
	if depth >= maxJSONDepth {
		return -1, members
	}
	i = refSkipSpaceIn(b, i+1, spaced)
	if i < len(b) && b[i] == '}' {
		return i + 1, members
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return -1, members
		}
		var key jsonSpan
		plain := false
		if mb != nil {
			key.start = i
			key.end, plain = refValidKey(b, i)
		} else {
			key = jsonSpan{i, refValidString(b, i)}
		}
		if key.end < 0 {
			return -1, members
		}
		i = refSkipSpaceIn(b, key.end, spaced)
		if i >= len(b) || b[i] != ':' {
			return -1, members
		}
		value := jsonSpan{start: refSkipSpaceIn(b, i+1, spaced)}
		if mb != nil {
			// the value's own space, apart from the space around it
			// (*spaced lends itself: a flag of this frame's would move
			// to the heap, the functions being recursive)
			outer := *spaced
			*spaced = false
			if value.end = refValidValue(b, value.start, depth+1, spaced); value.end < 0 {
				return -1, members
			}
			inner := *spaced
			*spaced = outer || inner
			if len(members) == cap(members) {
				members = mb.grow(members)
			}
			members = append(members, jsonMember{key, value, plain, !inner})
		} else if value.end = refValidValue(b, value.start, depth+1, spaced); value.end < 0 {
			return -1, members
		}
		i = refSkipSpaceIn(b, value.end, spaced)
		if i >= len(b) {
			return -1, members
		}
		switch b[i] {
		case '}':
			return i + 1, members
		case ',':
			i = refSkipSpaceIn(b, i+1, spaced)
		default:
			return -1, members
		}
	}
}

// refValidArray is refValidValue for the array at b[i].
func refValidArray(b []byte, i, depth int, spaced *bool) int {
	if depth >= maxJSONDepth {
		return -1
	}
	i = refSkipSpaceIn(b, i+1, spaced)
	if i < len(b) && b[i] == ']' {
		return i + 1
	}
	for {
		if i = refValidValue(b, i, depth+1, spaced); i < 0 {
			return -1
		}
		i = refSkipSpaceIn(b, i, spaced)
		if i >= len(b) {
			return -1
		}
		switch b[i] {
		case ']':
			return i + 1
		case ',':
			i = refSkipSpaceIn(b, i+1, spaced)
		default:
			return -1
		}
	}
}

// refStringPlain marks the bytes that stand for themselves in a JSON string:
// all but control characters, the quote and the backslash.
var refStringPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// refValidString returns the index after the valid JSON string at b[i], or -1.
func refValidString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		if refStringPlain[b[i]] {
			continue
		}
		switch b[i] {
		case '"':
			return i + 1
		case '\\':
			i++
			if i >= len(b) {
				return -1
			}
			switch b[i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(b)-i <= 4 || !refIsHex(b[i+1]) || !refIsHex(b[i+2]) || !refIsHex(b[i+3]) || !refIsHex(b[i+4]) {
					return -1
				}
				i += 4
			default:
				return -1
			}
		default:
			return -1 // a control character
		}
	}
	return -1
}

// refKeyPlain marks the bytes of a plain key (plainASCII): printable ASCII
// but the quote and the backslash.
var refKeyPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// refValidKey is refValidString for an object's key, and reports whether the
// key is plain, in the same pass for a plain key (the others are scanned
// again by refValidString).
func refValidKey(b []byte, i int) (int, bool) {
	for j := i + 1; j < len(b); j++ {
		if !refKeyPlain[b[j]] {
			if b[j] == '"' {
				return j + 1, true
			}
			break
		}
	}
	return refValidString(b, i), false
}

func refIsHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// refValidNumber returns the index after the valid JSON number at b[i], or -1.
func refValidNumber(b []byte, i int) int {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && '1' <= b[i] && b[i] <= '9':
		i = refSkipDigits(b, i+1)
	default:
		return -1
	}
	if i < len(b) && b[i] == '.' {
		j := refSkipDigits(b, i+1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		j := refSkipDigits(b, i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

func refSkipDigits(b []byte, i int) int {
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	return i
}

// refValidLiteral returns the index after lit at b[i], or -1.
func refValidLiteral(b []byte, i int, lit string) int {
	if len(b)-i >= len(lit) && string(b[i:i+len(lit)]) == lit {
		return i + len(lit)
	}
	return -1
}

// refSkipSpaceIn is refSkipSpace inside a value: it sets *spaced when it skips
// any.
func refSkipSpaceIn(b []byte, i int, spaced *bool) int {
	if i < len(b) && isJSONSpace(b[i]) {
		*spaced = true
		return refSkipSpace(b, i+1)
	}
	return i
}

func refSkipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

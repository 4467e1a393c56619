package diff

// openTable maps the ID of an open connection (unique among them, as
// every view keys by it) to its place: open addressing with linear
// probing, 12 bytes a slot filled up to 7/8. A map[*wsparse.Conn]int32
// took ~26 bytes an entry, and every connection is open at the end of a
// capture of 100 000 open connections (issue 16).
type openTable struct {
	keys []uint64 // ID+1; 0: an empty slot
	ords []int32
	n    int
	bits uint
}

func (t *openTable) home(key uint64) int {
	return int((key * 0x9e3779b97f4a7c15) >> (64 - t.bits)) // Fibonacci hashing
}

// find returns key's slot, or the empty slot where it would go.
func (t *openTable) find(key uint64) int {
	mask := len(t.keys) - 1
	i := t.home(key)
	for t.keys[i] != 0 && t.keys[i] != key {
		i = (i + 1) & mask
	}
	return i
}

// get returns the place of the connection id.
func (t *openTable) get(id int) (int32, bool) {
	if t.n == 0 {
		return 0, false
	}
	i := t.find(uint64(id) + 1)
	return t.ords[i], t.keys[i] != 0
}

// put adds the connection id, not in t, at ord.
func (t *openTable) put(id int, ord int32) {
	if (t.n+1)*8 > len(t.keys)*7 {
		t.grow()
	}
	key := uint64(id) + 1
	i := t.find(key)
	t.keys[i], t.ords[i] = key, ord
	t.n++
}

func (t *openTable) grow() {
	keys, ords := t.keys, t.ords
	t.bits = max(t.bits+1, 6)
	t.keys, t.ords = make([]uint64, 1<<t.bits), make([]int32, 1<<t.bits)
	for i, k := range keys {
		if k != 0 {
			j := t.find(k)
			t.keys[j], t.ords[j] = k, ords[i]
		}
	}
}

// del removes the connection id, shifting back the entries after it that
// may move closer to their home slot (no tombstones).
func (t *openTable) del(id int) {
	if t.n == 0 {
		return
	}
	i := t.find(uint64(id) + 1)
	if t.keys[i] == 0 {
		return
	}
	t.n--
	mask := len(t.keys) - 1
	for {
		t.keys[i] = 0
		j := i
		for {
			j = (j + 1) & mask
			if t.keys[j] == 0 {
				return
			}
			// The entry at j stays unless its home is outside (i, j]
			// cyclically: then it moves to i.
			h := t.home(t.keys[j])
			if i <= j && (h <= i || h > j) || i > j && h <= i && h > j {
				break
			}
		}
		t.keys[i], t.ords[i] = t.keys[j], t.ords[j]
		i = j
	}
}

package health

import (
	"math/rand"
	"net/netip"
	"reflect"
	"testing"
	"time"
)

// fillRandom sets every exported field of v, recursively, to a random
// non-zero value (times in UTC or local, packable), so that a field added
// to Conn later is filled too.
func fillRandom(rng *rand.Rand, v reflect.Value, path string, t *testing.T) {
	switch v.Type() {
	case reflect.TypeOf(time.Time{}):
		ts := time.Unix(0, rng.Int63n(4e18)-1e18) // 1938 .. 2096
		if rng.Intn(2) == 0 {
			ts = ts.UTC()
		}
		v.Set(reflect.ValueOf(ts))
		return
	case reflect.TypeOf(netip.AddrPort{}):
		var a netip.AddrPort
		if rng.Intn(2) == 0 {
			a = netip.AddrPortFrom(netip.AddrFrom4([4]byte{byte(rng.Intn(255) + 1), 2, 3, 4}), uint16(rng.Intn(65535)+1))
		} else {
			var b [16]byte
			rng.Read(b[:])
			b[0] = 0x20
			a = netip.AddrPortFrom(netip.AddrFrom16(b), uint16(rng.Intn(65535)+1))
		}
		v.Set(reflect.ValueOf(a))
		return
	}
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		x := rng.Int63() >> uint(rng.Intn(63))
		if rng.Intn(2) == 0 {
			x = -x - 1
		}
		v.SetInt(x)
		if v.Int() == 0 {
			v.SetInt(-1)
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(rng.Uint64()>>uint(rng.Intn(64)) | 1)
	case reflect.String:
		b := make([]byte, rng.Intn(300)+1)
		rng.Read(b)
		v.SetString(string(b))
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fillRandom(rng, v.Field(i), path+"."+v.Type().Field(i).Name, t)
			}
		}
	case reflect.Array:
		for i := range v.Len() {
			fillRandom(rng, v.Index(i), path, t)
		}
	case reflect.Slice:
		n := rng.Intn(4) + 1
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fillRandom(rng, s.Index(i), path, t)
		}
		v.Set(s)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fillRandom(rng, p.Elem(), path, t)
		v.Set(p)
	default:
		t.Fatalf("%s: a %s field the test does not fill", path, v.Kind())
	}
}

// TestPackConnEveryField: a result with every exported field (found by
// reflection) set to random values comes back from packConn the same.
func TestPackConnEveryField(t *testing.T) {
	rng := rand.New(rand.NewSource(21))
	for k := range 500 {
		c := &Conn{}
		fillRandom(rng, reflect.ValueOf(c).Elem(), "Conn", t)
		b, ok := packConn(nil, c)
		if !ok {
			t.Fatalf("case %d does not pack", k)
		}
		if got := unpackConn(c.ID, string(b)); !reflect.DeepEqual(got, c) {
			t.Fatalf("case %d: got\n%+v\nwant\n%+v", k, got, c)
		}
	}
}

package health

import (
	"reflect"
	"testing"

	"github.com/wsdump/wsdump/wsparse"
)

// TestAddDirStats: every field of wsparse.DirStats is a count that
// addDirStats sums (a field added later that is not would fail here).
func TestAddDirStats(t *testing.T) {
	var a, b wsparse.DirStats
	va, vb := reflect.ValueOf(&a).Elem(), reflect.ValueOf(&b).Elem()
	for i := range va.NumField() {
		switch va.Field(i).Kind() {
		case reflect.Int:
			va.Field(i).SetInt(int64(i + 1))
			vb.Field(i).SetInt(100)
		case reflect.Uint64:
			va.Field(i).SetUint(uint64(i + 1))
			vb.Field(i).SetUint(100)
		default:
			t.Fatalf("DirStats.%s is a %s, not a count", va.Type().Field(i).Name, va.Field(i).Kind())
		}
	}
	addDirStats(&a, &b)
	for i := range va.NumField() {
		f := va.Field(i)
		got := f.Int
		if f.Kind() == reflect.Uint64 {
			got = func() int64 { return int64(f.Uint()) }
		}
		if got() != int64(i+101) {
			t.Errorf("DirStats.%s: %d, want %d", va.Type().Field(i).Name, got(), i+101)
		}
	}
}

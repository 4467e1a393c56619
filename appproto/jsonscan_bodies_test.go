//go:build linux

package appproto

import (
	"encoding/binary"
	"os"
	"runtime"
	"syscall"
	"testing"
)

// loadBodies reads the message bodies of a capture from the file named by
// WSDUMP_JSON_BODIES: each a 4-byte little-endian length, then the bytes
// (bench/README.md, section 23, writes one from jsonl's data field). The
// benchmarks that use it skip without it.
func loadBodies(b *testing.B) [][]byte {
	name := os.Getenv("WSDUMP_JSON_BODIES")
	if name == "" {
		b.Skip("WSDUMP_JSON_BODIES not set")
	}
	data, err := os.ReadFile(name)
	if err != nil {
		b.Fatal(err)
	}
	var out [][]byte
	for len(data) >= 4 {
		n := int(binary.LittleEndian.Uint32(data))
		if 4+n > len(data) {
			b.Fatalf("%s: cut at a body of %d bytes", name, n)
		}
		out = append(out, data[4:4+n:4+n])
		data = data[4+n:]
	}
	return out
}

// threadCPU is the CPU time of the calling thread, in ns: a figure the
// other processes on a loaded machine disturb less than the wall time.
func threadCPU() int64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(1, &ru) // RUSAGE_THREAD (Linux: hence the build line)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// hot is how many times the body benchmarks scan each body in a row: as
// in a run, where the scan reads a message just inflated, the bytes are
// in the cache for all but the first, and the figures depend less on the
// memory traffic of other processes.
const hot = 4

// BenchmarkScanBodies runs parseJSON over real message bodies, each hot
// times in a row, all of them per op. cpu-ns/op is the thread's CPU time,
// which the other processes on a loaded machine disturb less than the
// wall time.
func BenchmarkScanBodies(b *testing.B) {
	bodies := loadBodies(b)
	total := 0
	for _, body := range bodies {
		total += len(body)
	}
	for _, s := range []struct {
		name  string
		parse func([]byte, *memberBuf) ([]jsonMember, bool)
	}{{"new", parseJSON}, {"ref", refParseJSON}} {
		b.Run(s.name, func(b *testing.B) {
			b.SetBytes(int64(hot * total))
			var mb memberBuf
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			cpu := threadCPU()
			for b.Loop() {
				for _, body := range bodies {
					for range hot {
						s.parse(body, &mb)
					}
				}
			}
			b.ReportMetric(float64(threadCPU()-cpu)/float64(b.N), "cpu-ns/op")
			mb.release()
		})
	}
}

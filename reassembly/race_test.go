//go:build race

package reassembly

// raceEnabled: built with -race, where sync.Pool drops items at random and
// allocation counts mean nothing.
const raceEnabled = true

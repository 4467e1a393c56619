//go:build race

package health

// raceEnabled: built with -race, where sync.Pool drops items at random and
// allocation counts mean nothing.
const raceEnabled = true

//go:build race

package wsparse

// raceEnabled: built with -race, where sync.Pool drops items at random and
// allocation counts mean nothing.
const raceEnabled = true

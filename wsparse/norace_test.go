//go:build !race

package wsparse

const raceEnabled = false

//go:build !race

package scenarios_test

// raceEnabled builds the Caddy under test with the race detector too.
const raceEnabled = false

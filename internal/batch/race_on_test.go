//go:build race

package batch

// raceEnabled: the race detector allocates for synchronisation (the
// decoders' sync.Pools among others), so allocation counts do not hold.
const raceEnabled = true

package sim

import (
	"hash/fnv"
	"math/rand/v2"
)

// splitmix64 is the finaliser of Steele, Lea and Flood's SplitMix64; it
// spreads a 64-bit value over all bits so close inputs give unrelated seeds.
func splitmix64(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
	x = (x ^ (x >> 27)) * 0x94D049BB133111EB
	return x ^ (x >> 31)
}

// StreamSeed returns the two 64-bit words that seed the random stream of the
// component called name in a run with the given seed. It depends only on
// (seed, name), so adding or removing components never perturbs the streams
// of the others.
func StreamSeed(seed uint64, name string) (uint64, uint64) {
	h := fnv.New64a()
	_, _ = h.Write([]byte(name))
	n := h.Sum64()
	a := splitmix64(seed ^ splitmix64(n))
	b := splitmix64(a ^ n ^ 0xD1B54A32D192ED03)
	return a, b
}

// NewRNG returns the deterministic random stream of (seed, name): a PCG
// generator from math/rand/v2, whose algorithm is fixed by the Go
// specification of that package, so streams are identical on every machine.
func NewRNG(seed uint64, name string) *rand.Rand {
	a, b := StreamSeed(seed, name)
	return rand.New(rand.NewPCG(a, b))
}

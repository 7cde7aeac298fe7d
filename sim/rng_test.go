package sim

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// TestStreamSeedPinned pins StreamSeed and the first outputs of NewRNG to
// the values of the current implementation: every recorded run depends on
// them, so a change must be deliberate.
func TestStreamSeedPinned(t *testing.T) {
	tests := []struct {
		seed         uint64
		name         string
		a, b         uint64
		first, secnd uint64
	}{
		{0, "", 0x21fa69a58f3d62f5, 0x8ebc9c2858f7870c, 0x343acb7fd3add4b2, 0xc468db39f8b21cf5},
		{42, "host0.core1", 0x6c7ee6ea519fa98b, 0x7e075d415e0580aa, 0x12eb2c7524db80ab, 0x4c4dfba6472f68b4},
		{1, "a", 0x75eecb75f99fed61, 0xedb3734e6c699792, 0x0febd2d7fb537058, 0x2543c813642f88c2},
		{^uint64(0), "µ", 0x6618c0a8d092a525, 0xd93de7bc67ab018e, 0xf1222806055ec4d4, 0xaa979d22e1660045},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d/%s", tc.seed, tc.name), func(t *testing.T) {
			a, b := StreamSeed(tc.seed, tc.name)
			require.Equal(t, tc.a, a)
			require.Equal(t, tc.b, b)
			r := NewRNG(tc.seed, tc.name)
			require.Equal(t, tc.first, r.Uint64())
			require.Equal(t, tc.secnd, r.Uint64())
		})
	}
}

// TestSplitMix64Reference checks the finaliser against the published
// SplitMix64 outputs for seed 0 (state advanced by the golden gamma).
func TestSplitMix64Reference(t *testing.T) {
	const gamma = 0x9E3779B97F4A7C15
	want := []uint64{0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f, 0xf88bb8a8724c81ec}
	var state uint64
	for i, w := range want {
		require.Equal(t, w, splitmix64(state), "output %d", i)
		state += gamma
	}
}

func TestNewRNGDeterministic(t *testing.T) {
	for _, c := range []struct {
		seed uint64
		name string
	}{{0, ""}, {7, "host0.core3.l1d"}, {1 << 63, "nic"}} {
		r1, r2 := NewRNG(c.seed, c.name), NewRNG(c.seed, c.name)
		a, b := StreamSeed(c.seed, c.name)
		ref := rand.New(rand.NewPCG(a, b))
		for i := range 1000 {
			v := r1.Uint64()
			require.Equal(t, v, r2.Uint64(), "draw %d", i)
			require.Equal(t, v, ref.Uint64(), "draw %d: NewRNG is PCG seeded with StreamSeed", i)
		}
	}
}

func TestNewRNGDistinctStreams(t *testing.T) {
	type key struct {
		seed uint64
		name string
	}
	keys := []key{
		{0, ""}, {1, ""}, {0, "a"}, {1, "a"}, {0, "b"},
		{42, "core0"}, {42, "core1"}, {43, "core0"}, {43, "core1"},
		{42, "ab"}, {42, "ba"}, {42, "a.b"}, {42, "a b"},
		{42, "host0.core1"}, {42, "host0.core10"}, {42, "host1.core0"},
		{1 << 63, "x"}, {1<<63 | 1, "x"}, {^uint64(0), "x"},
	}
	type firstDraws [4]uint64
	seen := map[firstDraws]key{}
	words := map[uint64]key{}
	for _, k := range keys {
		r := NewRNG(k.seed, k.name)
		var d firstDraws
		for i := range d {
			d[i] = r.Uint64()
		}
		prev, dup := seen[d]
		require.False(t, dup, "%v and %v give the same stream", k, prev)
		seen[d] = k

		a, b := StreamSeed(k.seed, k.name)
		require.NotEqual(t, a, b)
		for _, w := range []uint64{a, b} {
			prev, dup := words[w]
			require.False(t, dup, "%v and %v share a seed word", k, prev)
			words[w] = k
		}
	}

	// Many neighbouring names and seeds: all first draws differ.
	first := map[uint64]string{}
	for seed := range uint64(20) {
		for i := range 500 {
			name := fmt.Sprintf("host%d.core%d", i/8, i%8)
			v := NewRNG(seed, name).Uint64()
			prev, dup := first[v]
			require.False(t, dup, "seed %d %s collides with %s", seed, name, prev)
			first[v] = fmt.Sprintf("%d/%s", seed, name)
		}
	}
}

// TestStreamSeedBitBalance checks that seeds of neighbouring components are
// spread over all bits: each bit of the first seed word is set in roughly
// half of 4096 neighbouring streams.
func TestStreamSeedBitBalance(t *testing.T) {
	const n = 4096
	var ones [2][64]int
	for i := range n {
		a, b := StreamSeed(uint64(i/64), fmt.Sprintf("c%d", i%64))
		for bit := range 64 {
			ones[0][bit] += int(a >> bit & 1)
			ones[1][bit] += int(b >> bit & 1)
		}
	}
	for w := range ones {
		for bit, c := range ones[w] {
			// 6 standard deviations of Binomial(4096, 1/2) is 192.
			require.InDelta(t, n/2, c, 192, "word %d bit %d", w, bit)
		}
	}
}

func TestStreamSeedProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s1 := rapid.Uint64().Draw(t, "s1")
		n1 := rapid.String().Draw(t, "n1")
		s2 := rapid.Uint64().Draw(t, "s2")
		n2 := rapid.String().Draw(t, "n2")
		a1, b1 := StreamSeed(s1, n1)
		a2, b2 := StreamSeed(s2, n2)
		if s1 == s2 && n1 == n2 {
			require.Equal(t, a1, a2)
			require.Equal(t, b1, b2)
		} else {
			require.False(t, a1 == a2 && b1 == b2, "(%d,%q) and (%d,%q) share a stream", s1, n1, s2, n2)
		}
	})
}

func TestScopeRNG(t *testing.T) {
	env := NewEnv(42)
	s := env.Scope("host0").Child("core1")
	r1 := s.RNG()
	r2 := s.RNG()
	ref := NewRNG(42, "host0.core1")
	for range 100 {
		v := ref.Uint64()
		require.Equal(t, v, r1.Uint64(), "the scope's stream is (run seed, full name)")
		require.Equal(t, v, r2.Uint64(), "each RNG call starts the stream afresh")
	}
	require.Equal(t, uint64(0x12eb2c7524db80ab), NewEnv(42).Scope("host0.core1").RNG().Uint64())
	require.NotEqual(t, NewEnv(43).Scope("host0").Child("core1").RNG().Uint64(), uint64(0x12eb2c7524db80ab))
}

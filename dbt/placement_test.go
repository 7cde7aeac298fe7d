package dbt

import (
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// TestScatterIsAPermutation: two different host pages never share a frame,
// a page keeps its offset and its bits above the shuffled window, and the
// same seed places every page in the same frame.
func TestScatterIsAPermutation(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		shift := rapid.SampledFrom([]uint{12, 14, 16}).Draw(t, "shift")
		seed := rapid.Uint64().Draw(t, "seed")
		s, again := newScatter(shift, seed), newScatter(shift, seed)
		a := rapid.Uint64Range(0, 1<<44-1).Draw(t, "a")
		b := rapid.Uint64Range(0, 1<<44-1).Draw(t, "b")
		pa, pb := s.addr(a), s.addr(b)
		if a>>shift != b>>shift {
			require.NotEqual(t, pa>>shift, pb>>shift, "pages %#x and %#x share a frame", a>>shift, b>>shift)
		} else {
			require.Equal(t, pa>>shift, pb>>shift, "one page, two frames")
		}
		mask := uint64(1)<<shift - 1
		require.Equal(t, a&mask, pa&mask, "the offset in the page moved")
		window := uint64(1)<<(shift+scatterBits) - 1
		require.Equal(t, a&^window, pa&^window, "a page left its window")
		require.Equal(t, pa, again.addr(a), "one seed, two placements")
	})
}

// TestScatterColours: the point of scattering. Contiguous pages give every
// page colour of a physically indexed cache the same number of pages, so a
// footprint as large as the cache fits it exactly; scattered pages, like
// frames drawn at random, pile up on some colours. 128 pages over 16
// colours (a 512 KiB 8-way cache of 4 KiB pages) are drawn for several
// seeds: the heaviest colour must hold more than the 8 a way can keep, as
// a random draw all but always does (every colour at 8 exactly has
// probability 128!/(8!^16 16^128)), and the mean number of pages beyond
// their colour's 8 ways lies near that of frames drawn at random: each
// colour's count is Binomial(128, 1/16), so the mean is
// 16 E[(X-8)+] = 17.30 (summed by hand over the binomial's terms). Over
// 64 seeds the sample mean's spread is about 0.6.
func TestScatterColours(t *testing.T) {
	const pages, colours, ways = 128, 16, 8
	total := 0
	const seeds = 64
	for seed := uint64(1); seed <= seeds; seed++ {
		s := newScatter(12, seed)
		var n [colours]int
		for p := uint64(0); p < pages; p++ {
			n[s.frame(0x10000+p)%colours]++
		}
		heaviest := 0
		for _, c := range n {
			heaviest = max(heaviest, c)
			total += max(c-ways, 0)
		}
		require.Greater(t, heaviest, ways, "seed %d: colours %v", seed, n)
	}
	mean := float64(total) / seeds
	require.InDelta(t, 17.30, mean, 2.5, "pages beyond their colour's ways, mean over %d seeds", seeds)
}

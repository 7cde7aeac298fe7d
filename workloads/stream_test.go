package workloads

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func baseCfg(p Pattern) StreamConfig {
	return StreamConfig{Pattern: p, Footprint: 1 << 20, WriteFraction: 0.25, ZipfS: 1.2, Stride: 4096, AccessSize: 8, LineSize: 128}
}

func TestStreamStaysInFootprintAndAligned(t *testing.T) {
	for _, p := range []Pattern{Uniform, Zipf, Sequential, Strided} {
		t.Run(p.String(), func(t *testing.T) {
			s, err := NewStream(baseCfg(p), rand.New(rand.NewPCG(1, 2)))
			require.NoError(t, err)
			writes := 0
			for range 100000 {
				off, w := s.Next()
				require.Less(t, off, uint64(1<<20))
				require.Zero(t, off%8)
				if w {
					writes++
				}
			}
			require.InDelta(t, 0.25, float64(writes)/100000, 0.01)
		})
	}
}

func TestSequentialAndStridedOrder(t *testing.T) {
	cfg := baseCfg(Sequential)
	cfg.Footprint = 256
	s, err := NewStream(cfg, rand.New(rand.NewPCG(1, 2)))
	require.NoError(t, err)
	var got []uint64
	for range 34 {
		off, _ := s.Next()
		got = append(got, off)
	}
	require.Equal(t, uint64(0), got[0])
	require.Equal(t, uint64(248), got[31])
	require.Equal(t, uint64(0), got[32])
	require.Equal(t, uint64(8), got[33])

	cfg = baseCfg(Strided)
	cfg.Footprint = 512
	cfg.Stride = 128
	s, err = NewStream(cfg, rand.New(rand.NewPCG(1, 2)))
	require.NoError(t, err)
	got = got[:0]
	for range 6 {
		off, _ := s.Next()
		got = append(got, off)
	}
	require.Equal(t, []uint64{0, 128, 256, 384, 8, 136}, got)
}

func TestStridedCoversFootprint(t *testing.T) {
	cfg := baseCfg(Strided)
	cfg.Footprint = 4096
	cfg.Stride = 512
	s, err := NewStream(cfg, rand.New(rand.NewPCG(1, 2)))
	require.NoError(t, err)
	seen := map[uint64]bool{}
	for range 4096 / 8 {
		off, _ := s.Next()
		seen[off] = true
	}
	require.Len(t, seen, 4096/8)
}

func TestZipfIsSkewedAndScattered(t *testing.T) {
	s, err := NewStream(baseCfg(Zipf), rand.New(rand.NewPCG(7, 7)))
	require.NoError(t, err)
	lineHits := map[uint64]int{}
	const n = 200000
	for range n {
		off, _ := s.Next()
		lineHits[off/128]++
	}
	// The hottest line gets a large share; many of the 8192 lines are never hit.
	best := 0
	for _, c := range lineHits {
		best = max(best, c)
	}
	require.Greater(t, best, n/20)
	require.Less(t, len(lineHits), 8192)
	// Rank 0 and rank 1 are not neighbours after the permutation.
	m := permMultiplier(8192)
	require.Greater(t, (1*m)%8192, uint64(16))
}

func TestStreamDeterministic(t *testing.T) {
	a, _ := NewStream(baseCfg(Zipf), rand.New(rand.NewPCG(3, 4)))
	b, _ := NewStream(baseCfg(Zipf), rand.New(rand.NewPCG(3, 4)))
	for range 1000 {
		oa, wa := a.Next()
		ob, wb := b.Next()
		require.Equal(t, oa, ob)
		require.Equal(t, wa, wb)
	}
}

func TestStreamConfigErrors(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*StreamConfig)
		want   string
	}{
		{"access size", func(c *StreamConfig) { c.AccessSize = 3 }, "access size 3"},
		{"write fraction", func(c *StreamConfig) { c.WriteFraction = 1.5 }, "write fraction 1.5"},
		{"zipf s", func(c *StreamConfig) { c.Pattern = Zipf; c.ZipfS = 1 }, "zipf exponent 1"},
		{"stride", func(c *StreamConfig) { c.Pattern = Strided; c.Stride = 12 }, "stride 12"},
		{"footprint", func(c *StreamConfig) { c.Footprint = 100 }, "footprint 100"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := baseCfg(Uniform)
			tc.mutate(&cfg)
			_, err := NewStream(cfg, rand.New(rand.NewPCG(1, 1)))
			require.ErrorContains(t, err, tc.want)
		})
	}
	_, err := ParsePattern("zipff")
	require.ErrorContains(t, err, `"zipff"`)
	p, err := ParsePattern("strided")
	require.NoError(t, err)
	require.Equal(t, Strided, p)
}

func BenchmarkStreamZipf(b *testing.B) {
	s, _ := NewStream(baseCfg(Zipf), rand.New(rand.NewPCG(1, 2)))
	b.ReportAllocs()
	for b.Loop() {
		s.Next()
	}
}

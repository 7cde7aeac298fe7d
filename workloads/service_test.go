package workloads

import (
	"testing"

	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat"

	"github.com/twinsim/twinsim/sim"
)

// TestServiceDraws: each distribution has the configured mean, and the
// coefficient of variation it promises (0, 1, 1), over many draws.
func TestServiceDraws(t *testing.T) {
	for _, tt := range []struct {
		dist ServiceDist
		cv   float64
	}{{Constant, 0}, {Exponential, 1}, {Lognormal, 1}} {
		c := ServiceConfig{Dist: tt.dist, Mean: 20 * sim.Microsecond, Ops: 4, ResponseBytes: 100}
		require.NoError(t, c.Validate())
		rng := sim.NewRNG(3, "service")
		xs := make([]float64, 200000)
		for i := range xs {
			xs[i] = float64(c.Draw(rng))
		}
		mean, std := stat.MeanStdDev(xs, nil)
		require.InDelta(t, float64(c.Mean), mean, 0.02*float64(c.Mean), tt.dist.String())
		require.InDelta(t, tt.cv, std/mean, 0.05, tt.dist.String())
	}
	_, err := ParseServiceDist("pareto")
	require.ErrorContains(t, err, "constant, exponential, lognormal")
	d, err := ParseServiceDist("lognormal")
	require.NoError(t, err)
	require.Equal(t, Lognormal, d)
}

func TestParseCases(t *testing.T) {
	cs, err := ParseCases("# comment\n\nsieve-1000 sieve 1000\ncrc32 crc32\n")
	require.NoError(t, err)
	require.Equal(t, []Case{{"sieve-1000", "sieve", []string{"1000"}}, {"crc32", "crc32", []string{}}}, cs)
	require.Equal(t, "sieve 1000", cs[0].Command())
	_, err = ParseCases("lonely\n")
	require.ErrorContains(t, err, "cases.txt:1")
	_, err = ParseCases("# nothing\n")
	require.Error(t, err)
}

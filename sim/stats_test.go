package sim

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat"
	"pgregory.net/rapid"
)

func TestCounter(t *testing.T) {
	var c Counter
	require.Zero(t, c.Value())
	c.Inc()
	require.Equal(t, uint64(1), c.Value())
	c.Inc()
	c.Add(40)
	require.Equal(t, uint64(42), c.Value())
	c.Add(0)
	require.Equal(t, uint64(42), c.Value())
	c.Add(1 << 60)
	require.Equal(t, uint64(1<<60+42), c.Value())
}

// histRef holds the exact statistics of a sample set, computed
// independently of Histogram.
type histRef struct {
	count    uint64
	sum      *big.Int
	min, max uint64
	sorted   []float64
}

func newHistRef(samples []uint64) histRef {
	r := histRef{count: uint64(len(samples)), sum: new(big.Int)}
	if len(samples) > 0 {
		r.min, r.max = slices.Min(samples), slices.Max(samples)
	}
	for _, v := range samples {
		r.sum.Add(r.sum, new(big.Int).SetUint64(v))
		r.sorted = append(r.sorted, float64(v))
	}
	slices.Sort(r.sorted)
	return r
}

// requireHistExact checks count, sum, min, max and mean of h against ref.
func requireHistExact(t require.TestingT, ref histRef, h *Histogram) {
	require.Equal(t, ref.count, h.Count(), "count")
	require.Equal(t, ref.min, h.Min(), "min")
	require.Equal(t, ref.max, h.Max(), "max")
	sum, ok := h.SumUint64()
	require.Equal(t, ref.sum.IsUint64(), ok, "SumUint64 ok")
	if ok {
		require.Equal(t, ref.sum.Uint64(), sum, "SumUint64")
	}
	wantSum, _ := new(big.Float).SetInt(ref.sum).Float64()
	requireRelClose(t, wantSum, h.Sum(), 1e-15, "sum")
	if ref.count > 0 {
		mean, _ := new(big.Float).Quo(new(big.Float).SetInt(ref.sum), new(big.Float).SetUint64(ref.count)).Float64()
		requireRelClose(t, mean, h.Mean(), 1e-15, "mean")
	}
}

func requireRelClose(t require.TestingT, want, got, tol float64, msg string) {
	if want == 0 {
		require.Zero(t, got, msg)
		return
	}
	require.LessOrEqual(t, math.Abs(got-want)/math.Abs(want), tol, "%s: got %v, want %v", msg, got, want)
}

func TestHistogramExact(t *testing.T) {
	tests := []struct {
		name    string
		samples []uint64
	}{
		{"one zero", []uint64{0}},
		{"one", []uint64{1}},
		{"small", []uint64{3, 1, 4, 1, 5, 9, 2, 6}},
		{"around 128 and 256", []uint64{127, 128, 129, 255, 256, 257, 511, 512}},
		{"powers of two", []uint64{1, 2, 4, 8, 1 << 10, 1 << 20, 1 << 40, 1 << 62}},
		{"2^53+1 is exact", []uint64{1<<53 + 1, 1<<53 + 1}},
		{"max", []uint64{math.MaxUint64}},
		{"max twice", []uint64{math.MaxUint64, math.MaxUint64}},
		{"mixed huge", []uint64{0, math.MaxUint64, 1 << 63, 12345}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var h Histogram
			for _, v := range tc.samples {
				h.Record(v)
			}
			requireHistExact(t, newHistRef(tc.samples), &h)
			if slices.Min(tc.samples) == slices.Max(tc.samples) {
				// One distinct value: every quantile is that value exactly.
				for _, q := range []float64{0, 0.5, 0.99, 1} {
					require.Equal(t, float64(tc.samples[0]), h.Quantile(q))
				}
			}
		})
	}
}

func TestHistogramEmpty(t *testing.T) {
	var h Histogram
	require.Zero(t, h.Count())
	require.Zero(t, h.Sum())
	require.Zero(t, h.Min())
	require.Zero(t, h.Max())
	require.Zero(t, h.Mean())
	sum, ok := h.SumUint64()
	require.True(t, ok)
	require.Zero(t, sum)
	for _, q := range []float64{0, 0.5, 0.9, 0.99, 0.999, 1} {
		require.Zero(t, h.Quantile(q), "q=%v", q)
	}
	// Merging an empty histogram into an empty one keeps it empty.
	var o Histogram
	h.Merge(&o)
	require.Zero(t, h.Count())
	require.Zero(t, h.Min())
}

// TestHistogramMinMax checks min tracking when the first sample is larger
// than a later zero, and when zero comes first.
func TestHistogramMinMax(t *testing.T) {
	tests := []struct {
		samples      []uint64
		wantMin, max uint64
	}{
		{[]uint64{5, 0, 7}, 0, 7},
		{[]uint64{0, 5, 7}, 0, 7},
		{[]uint64{7, 5, 6}, 5, 7},
		{[]uint64{math.MaxUint64, 1}, 1, math.MaxUint64},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.samples), func(t *testing.T) {
			var h Histogram
			for _, v := range tc.samples {
				h.Record(v)
			}
			require.Equal(t, tc.wantMin, h.Min())
			require.Equal(t, tc.max, h.Max())
		})
	}
}

func TestHistogramSumBeyond64Bits(t *testing.T) {
	var h Histogram
	h.Record(math.MaxUint64)
	s, ok := h.SumUint64()
	require.True(t, ok)
	require.Equal(t, uint64(math.MaxUint64), s)
	h.Record(1)
	_, ok = h.SumUint64()
	require.False(t, ok, "2^64 does not fit")
	require.Equal(t, 0x1p64, h.Sum())
	h.Record(math.MaxUint64)
	h.Record(math.MaxUint64)
	_, ok = h.SumUint64()
	require.False(t, ok)
	// 3·(2^64-1) + 1 = 3·2^64 - 2
	require.Equal(t, 3*0x1p64, h.Sum())
	require.Equal(t, 3*0x1p64/4, h.Mean())

	// Many large samples: the sum is exact in 128 bits, independent of
	// order, and its float64 is correctly rounded up to a few ulps.
	var a, b Histogram
	want := new(big.Int)
	rng := rand.New(rand.NewPCG(7, 8))
	var samples []uint64
	for range 10_000 {
		v := rng.Uint64()
		samples = append(samples, v)
		want.Add(want, new(big.Int).SetUint64(v))
		a.Record(v)
	}
	slices.Reverse(samples)
	for _, v := range samples {
		b.Record(v)
	}
	wantF, _ := new(big.Float).SetInt(want).Float64()
	requireRelClose(t, wantF, a.Sum(), 1e-15, "sum")
	require.Equal(t, a.Sum(), b.Sum(), "the sum does not depend on order")

	// Merge carries into the high word.
	var m1, m2 Histogram
	m1.Record(1 << 63)
	m2.Record(1 << 63)
	m1.Merge(&m2)
	_, ok = m1.SumUint64()
	require.False(t, ok)
	require.Equal(t, 0x1p64, m1.Sum())
	m1.Merge(&h) // high words add too
	require.Equal(t, 4*0x1p64, m1.Sum())
}

// distribution draws n samples from a fixed-seed generator.
type distribution struct {
	name string
	draw func(r *rand.Rand) uint64
}

var distributions = []distribution{
	{"uniform", func(r *rand.Rand) uint64 { return r.Uint64N(1_000_000) }},
	{"uniform wide", func(r *rand.Rand) uint64 { return r.Uint64() }},
	{"exponential", func(r *rand.Rand) uint64 { return uint64(r.ExpFloat64() * 50_000) }},
	{"lognormal heavy tail", func(r *rand.Rand) uint64 { return uint64(math.Exp(r.NormFloat64()*2.5 + 9)) }},
	{"small integers", func(r *rand.Rand) uint64 { return r.Uint64N(128) }},
	{"bytes", func(r *rand.Rand) uint64 { return r.Uint64N(256) }},
	{"near 2^63", func(r *rand.Rand) uint64 { return 1<<63 - 1<<50 + r.Uint64N(1<<51) }},
	{"bimodal", func(r *rand.Rand) uint64 {
		if r.IntN(10) == 0 {
			return 1_000_000 + r.Uint64N(1000)
		}
		return 100 + r.Uint64N(50)
	}},
}

// quantileTolerance is the documented bound: the bucket midpoint is within
// 1/256 of any value in the bucket (well inside 1 %).
const quantileTolerance = 1.0 / 256

var testQuantiles = []float64{0, 0.001, 0.25, 0.5, 0.9, 0.99, 0.999, 1}

func TestHistogramQuantilesMatchGonum(t *testing.T) {
	for di, d := range distributions {
		for _, n := range []int{1, 7, 1000, 50_000} {
			t.Run(fmt.Sprintf("%s/n=%d", d.name, n), func(t *testing.T) {
				rng := rand.New(rand.NewPCG(uint64(di)+1, uint64(n)))
				samples := make([]uint64, n)
				var h Histogram
				for i := range samples {
					samples[i] = d.draw(rng)
					h.Record(samples[i])
				}
				ref := newHistRef(samples)
				requireHistExact(t, ref, &h)
				for _, q := range testQuantiles {
					want := stat.Quantile(q, stat.Empirical, ref.sorted, nil)
					got := h.Quantile(q)
					if want < 256 {
						require.Equal(t, want, got, "q=%v: values below 256 are exact", q)
					} else {
						requireRelClose(t, want, got, quantileTolerance, fmt.Sprintf("q=%v", q))
						require.LessOrEqual(t, math.Abs(got-want)/want, 0.01, "q=%v within 1%%", q)
					}
					require.GreaterOrEqual(t, got, float64(h.Min()))
					require.LessOrEqual(t, got, float64(h.Max()))
				}
			})
		}
	}
}

func TestHistogramQuantileProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		gen := rapid.OneOf(
			rapid.Uint64Range(0, 300),
			rapid.Uint64Range(0, 1<<20),
			rapid.Uint64(),
			rapid.Custom(func(t *rapid.T) uint64 {
				return uint64(1) << rapid.IntRange(0, 63).Draw(t, "shift")
			}),
		)
		samples := rapid.SliceOfN(gen, 1, 200).Draw(t, "samples")
		var h Histogram
		for _, v := range samples {
			h.Record(v)
		}
		ref := newHistRef(samples)
		requireHistExact(t, ref, &h)
		q := rapid.Float64Range(0, 1).Draw(t, "q")
		for _, q := range append([]float64{q}, testQuantiles...) {
			want := stat.Quantile(q, stat.Empirical, ref.sorted, nil)
			got := h.Quantile(q)
			if want < 256 {
				require.Equal(t, want, got, "q=%v", q)
			} else {
				requireRelClose(t, want, got, quantileTolerance, fmt.Sprintf("q=%v", q))
			}
		}
	})
}

// TestHistogramQuantileRanks pins the rank rule (smallest sample whose rank
// is at least ⌈q·n⌉) on exact small values.
func TestHistogramQuantileRanks(t *testing.T) {
	var h Histogram
	for _, v := range []uint64{10, 20, 30, 40} {
		h.Record(v)
	}
	tests := []struct {
		q    float64
		want float64
	}{
		{0, 10}, {0.1, 10}, {0.25, 10}, {0.2501, 20}, {0.5, 20}, {0.51, 30},
		{0.75, 30}, {0.76, 40}, {0.99, 40}, {1, 40},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, h.Quantile(tc.q), "q=%v", tc.q)
	}
}

func TestHistogramMerge(t *testing.T) {
	for di, d := range distributions {
		t.Run(d.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(100+uint64(di), 5))
			var all, a, b Histogram
			var samples []uint64
			for i := range 5000 {
				v := d.draw(rng)
				if i%3 == 0 {
					v /= 1000 // a gets smaller values, so b has the larger bucket slice
					a.Record(v)
				} else {
					b.Record(v)
				}
				all.Record(v)
				samples = append(samples, v)
			}
			ref := newHistRef(samples)
			for _, order := range []string{"a+b", "b+a", "empty+a+b"} {
				var m Histogram
				switch order {
				case "a+b":
					m = cloneHist(&a)
					m.Merge(&b)
				case "b+a":
					m = cloneHist(&b)
					m.Merge(&a)
				default:
					m.Merge(&a)
					m.Merge(&b)
					m.Merge(&Histogram{})
				}
				requireHistExact(t, ref, &m)
				requireSameHist(t, &all, &m)
			}
		})
	}
}

func cloneHist(h *Histogram) Histogram {
	c := *h
	c.counts = slices.Clone(h.counts)
	return c
}

func requireSameHist(t require.TestingT, want, got *Histogram) {
	require.Equal(t, want.Count(), got.Count())
	require.Equal(t, want.Min(), got.Min())
	require.Equal(t, want.Max(), got.Max())
	ws, wok := want.SumUint64()
	gs, gok := got.SumUint64()
	require.Equal(t, wok, gok)
	require.Equal(t, ws, gs)
	require.Equal(t, want.Sum(), got.Sum())
	require.Equal(t, want.Mean(), got.Mean())
	for _, q := range testQuantiles {
		require.Equal(t, want.Quantile(q), got.Quantile(q), "q=%v", q)
	}
}

func TestHistogramMergeProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		gen := rapid.OneOf(rapid.Uint64Range(0, 1000), rapid.Uint64())
		parts := rapid.SliceOfN(rapid.SliceOf(gen), 0, 4).Draw(t, "parts")
		var all, merged Histogram
		for _, p := range parts {
			var h Histogram
			for _, v := range p {
				h.Record(v)
				all.Record(v)
			}
			merged.Merge(&h)
		}
		requireSameHist(t, &all, &merged)
	})
}

func TestHistogramMergeDoesNotChangeSource(t *testing.T) {
	var a, b Histogram
	a.Record(5)
	b.Record(1 << 40)
	b.Record(3)
	a.Merge(&b)
	require.Equal(t, uint64(2), b.Count())
	require.Equal(t, uint64(3), b.Min())
	require.Equal(t, uint64(1<<40), b.Max())
	require.Equal(t, uint64(3), a.Count())
	require.Equal(t, uint64(3), a.Min())
	a.Record(1 << 41)
	require.Equal(t, uint64(1<<40), b.Max())
	require.Equal(t, uint64(2), b.Count())
}

func TestHistogramRecordDoesNotAllocate(t *testing.T) {
	var h Histogram
	h.Record(math.MaxUint64) // grows to the largest bucket
	vals := []uint64{0, 1, 127, 128, 1000, 1 << 30, 1 << 62, math.MaxUint64}
	allocs := testing.AllocsPerRun(100, func() {
		for _, v := range vals {
			h.Record(v)
		}
	})
	require.Zero(t, allocs)
	require.Equal(t, uint64(1+101*len(vals)), h.Count())
}

func TestHistogramBuckets(t *testing.T) {
	// Every bucket's bounds map back to it, and buckets tile the uint64 range.
	last := histIndex(math.MaxUint64)
	var next uint64
	for i := 0; i <= last; i++ {
		lo, hi := histBounds(i)
		require.Equal(t, next, lo, "bucket %d starts where %d ended", i, i-1)
		require.LessOrEqual(t, lo, hi)
		require.Equal(t, i, histIndex(lo))
		require.Equal(t, i, histIndex(hi))
		if i < 256 {
			require.Equal(t, lo, hi, "values below 256 have a bucket each")
		} else {
			require.LessOrEqual(t, float64(hi-lo)/2/float64(lo), quantileTolerance)
		}
		next = hi + 1
	}
	require.Zero(t, next, "the last bucket ends at 2^64-1")
}

func TestSeries(t *testing.T) {
	s := NewStats()
	ts := s.Series("host0", "load", "load over time", "cpu", "mem")
	require.Equal(t, []string{"cpu", "mem"}, ts.Columns())
	require.Zero(t, ts.Len())

	vals := []float64{0.5, 1.5}
	ts.Append(10, vals...)
	vals[0] = 99 // the row keeps its own copy
	ts.Append(20, 2, math.NaN())
	require.Equal(t, 2, ts.Len())

	tm, row := ts.Row(0)
	require.Equal(t, Time(10), tm)
	require.Equal(t, []float64{0.5, 1.5}, row)
	tm, row = ts.Row(1)
	require.Equal(t, Time(20), tm)
	require.Equal(t, 2.0, row[0])
	require.True(t, math.IsNaN(row[1]))

	require.PanicsWithValue(t, "sim: series row has 1 values for 2 columns", func() { ts.Append(30, 1) })
	require.PanicsWithValue(t, "sim: series row has 3 values for 2 columns", func() { ts.Append(30, 1, 2, 3) })
	require.Panics(t, func() { ts.Append(30) })
	require.Equal(t, 2, ts.Len(), "rejected rows are not added")

	// The registry copies the column names.
	cols := []string{"a"}
	ts2 := s.Series("host0", "other", "", cols...)
	cols[0] = "changed"
	require.Equal(t, []string{"a"}, ts2.Columns())

	// No columns: rows carry only a time.
	ts3 := s.Series("host0", "ticks", "")
	ts3.Append(5)
	require.Equal(t, 1, ts3.Len())
	require.Panics(t, func() { ts3.Append(6, 1) })
}

func TestStatsRegistrationPanics(t *testing.T) {
	register := map[string]func(s *Stats, path, name string){
		"counter":   func(s *Stats, path, name string) { s.Counter(path, name, "") },
		"histogram": func(s *Stats, path, name string) { s.Histogram(path, name, "ps", "") },
		"value":     func(s *Stats, path, name string) { s.Value(path, name, "", func() float64 { return 1 }) },
		"series":    func(s *Stats, path, name string) { s.Series(path, name, "", "x") },
	}
	kinds := []string{"counter", "histogram", "value", "series"}
	for _, first := range kinds {
		for _, second := range kinds {
			t.Run("duplicate "+first+" then "+second, func(t *testing.T) {
				s := NewStats()
				register[first](s, "a.b", "x")
				require.PanicsWithValue(t, "sim: statistic a.b.x registered twice", func() { register[second](s, "a.b", "x") })
				// Same name elsewhere, or another name here, is fine.
				require.NotPanics(t, func() { register[second](s, "a", "x") })
				require.NotPanics(t, func() { register[second](s, "a.b.x", "x") })
				require.NotPanics(t, func() { register[second](s, "a.b", "y") })
				require.NotPanics(t, func() { register[second](s, "", "x") })
			})
		}
	}
	for _, kind := range kinds {
		for _, name := range []string{"", "a.b", ".", "a,b", "a\nb", `a"b`, "x."} {
			t.Run(fmt.Sprintf("invalid %s %q", kind, name), func(t *testing.T) {
				s := NewStats()
				require.PanicsWithValue(t, fmt.Sprintf("sim: invalid statistic name %q", name), func() { register[kind](s, "p", name) })
			})
		}
		for _, name := range []string{"x", "p99", "a_b", "a-b", "a b", "µs"} {
			t.Run(fmt.Sprintf("valid %s %q", kind, name), func(t *testing.T) {
				require.NotPanics(t, func() { register[kind](NewStats(), "p", name) })
			})
		}
	}
	t.Run("nil value function", func(t *testing.T) {
		require.PanicsWithValue(t, "sim: derived statistic a.x has a nil function", func() { NewStats().Value("a", "x", "", nil) })
	})
}

func TestStatsLookup(t *testing.T) {
	s := NewStats()
	c := s.Counter("host0.nic", "packets", "")
	c.Add(1<<53 + 2)
	gauge := 0.25
	s.Value("host0.nic", "util", "", func() float64 { return gauge })
	h := s.Histogram("host0.nic", "lat", "ps", "")
	for _, v := range []uint64{10, 20, 30, 40, 1000} {
		h.Record(v)
	}
	huge := s.Histogram("host0", "big", "ps", "")
	huge.Record(math.MaxUint64)
	huge.Record(math.MaxUint64)
	s.Series("host0.nic", "trace", "", "x")
	s.Counter("", "top", "").Inc()
	// 1000 samples whose quantiles all differ: ranks 1-500 are 10, 501-900
	// 20, 901-990 30, 991-999 40 and 1000 is 50.
	tiers := s.Histogram("q", "tiers", "cycles", "")
	for rank := 1; rank <= 1000; rank++ {
		switch {
		case rank <= 500:
			tiers.Record(10)
		case rank <= 900:
			tiers.Record(20)
		case rank <= 990:
			tiers.Record(30)
		case rank <= 999:
			tiers.Record(40)
		default:
			tiers.Record(50)
		}
	}

	tests := []struct {
		path, name string
		want       float64
		ok         bool
	}{
		{"host0.nic", "packets", 1<<53 + 2, true},
		{"host0.nic", "util", 0.25, true},
		{"host0.nic", "lat.count", 5, true},
		{"host0.nic", "lat.sum", 1100, true},
		{"host0.nic", "lat.min", 10, true},
		{"host0.nic", "lat.max", 1000, true},
		{"host0.nic", "lat.mean", 220, true},
		{"host0.nic", "lat.p50", 30, true},
		{"host0.nic", "lat.p90", 1000, true},
		{"host0.nic", "lat.p99", 1000, true},
		{"host0.nic", "lat.p999", 1000, true},
		{"host0", "big.sum", 2 * float64(math.MaxUint64), true},
		{"host0", "big.count", 2, true},
		{"", "top", 1, true},
		{"q", "tiers.p50", 10, true},
		{"q", "tiers.p90", 20, true},
		{"q", "tiers.p99", 30, true},
		{"q", "tiers.p999", 40, true},
		{"q", "tiers.max", 50, true},
		{"q", "tiers.min", 10, true},
		{"q", "tiers.count", 1000, true},
		{"q", "tiers.sum", 500*10 + 400*20 + 90*30 + 9*40 + 50, true},
		{"q", "tiers.mean", (500*10 + 400*20 + 90*30 + 9*40 + 50) / 1000.0, true},
		// Missing.
		{"host0.nic", "lat", 0, false},           // a histogram needs a field
		{"host0.nic", "lat.p42", 0, false},       // no such field
		{"host0.nic", "lat.unit", 0, false},      // not a number
		{"host0.nic", "lat.p99.x", 0, false},     // field with a tail
		{"host0.nic", "packets.count", 0, false}, // counters have no fields
		{"host0.nic", "util.p99", 0, false},
		{"host0.nic", "trace", 0, false}, // series are not scalars
		{"host0.nic", "trace.x", 0, false},
		{"host0.nic", "nope", 0, false},
		{"host0", "packets", 0, false},      // wrong path
		{"host0.nic.packets", "", 0, false}, // not a path split
		{"host0", "nic.packets", 0, false},  // name is not split at a dot
		{"", "host0.nic.packets", 0, false},
		{"", "", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.path+"/"+tc.name, func(t *testing.T) {
			v, ok := s.Lookup(tc.path, tc.name)
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.want, v)
		})
	}

	// Lookup reads current values.
	gauge = 0.75
	c.Inc()
	h.Record(5000)
	v, ok := s.Lookup("host0.nic", "util")
	require.True(t, ok)
	require.Equal(t, 0.75, v)
	v, _ = s.Lookup("host0.nic", "packets")
	require.Equal(t, float64(1<<53+3), v)
	v, _ = s.Lookup("host0.nic", "lat.max")
	require.Equal(t, 5000.0, v)
}

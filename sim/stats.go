package sim

import (
	"fmt"
	"math"
	"math/bits"
	"sort"
	"strings"
)

// Counter is a monotonically increasing event count. The zero value is ready.
type Counter struct{ v uint64 }

// Inc adds one.
func (c *Counter) Inc() { c.v++ }

// Add adds n.
func (c *Counter) Add(n uint64) { c.v += n }

// Value returns the count.
func (c *Counter) Value() uint64 { return c.v }

// Histogram records non-negative integer samples (latencies in ps or cycles,
// sizes in bytes) in logarithmic buckets. Count, sum, min and max are exact
// (the sum is kept as a 128-bit integer, so it cannot overflow and does not
// depend on the order of Record and Merge calls); quantiles are within 0.4 %
// relative error of the sample at that rank: values below 256 have a bucket
// each, larger values keep their top 8 significant bits. Recording does not
// allocate once the bucket slice has grown to the largest value seen.
type Histogram struct {
	counts       []uint64
	n            uint64
	sumHi, sumLo uint64 // the exact sum, sumHi·2^64 + sumLo
	min, max     uint64
}

const histExact = 128 // values below this have a bucket of their own

func histIndex(v uint64) int {
	if v < histExact {
		return int(v)
	}
	shift := bits.Len64(v) - 8
	return histExact + shift*128 + int(v>>uint(shift)) - 128
}

// histBounds returns the smallest and largest value that map to bucket i.
func histBounds(i int) (lo, hi uint64) {
	if i < histExact {
		return uint64(i), uint64(i)
	}
	j := i - histExact
	shift := uint(j / 128)
	m := uint64(128 + j%128)
	lo = m << shift
	return lo, lo + (uint64(1) << shift) - 1
}

// Record adds one sample.
func (h *Histogram) Record(v uint64) {
	i := histIndex(v)
	if i >= len(h.counts) {
		h.grow(i + 1 + i/4)
	}
	h.counts[i]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	var carry uint64
	h.sumLo, carry = bits.Add64(h.sumLo, v, 0)
	h.sumHi += carry
}

// grow extends the bucket slice to n buckets, keeping the counts.
func (h *Histogram) grow(n int) {
	grown := make([]uint64, n)
	copy(grown, h.counts)
	h.counts = grown
}

// Count returns the number of samples.
func (h *Histogram) Count() uint64 { return h.n }

// Sum returns the sum of the samples as a float64: exact up to 2^53, the
// nearest float64 up to 2^64, and within a few ulps above that.
func (h *Histogram) Sum() float64 {
	if h.sumHi == 0 {
		return float64(h.sumLo)
	}
	return float64(h.sumHi)*0x1p64 + float64(h.sumLo)
}

// SumUint64 returns the exact sum of the samples; ok is false when it does
// not fit in 64 bits.
func (h *Histogram) SumUint64() (sum uint64, ok bool) { return h.sumLo, h.sumHi == 0 }

// Min returns the smallest sample, or 0 if there are none.
func (h *Histogram) Min() uint64 { return h.min }

// Max returns the largest sample, or 0 if there are none.
func (h *Histogram) Max() uint64 { return h.max }

// Mean returns the arithmetic mean, or 0 if there are no samples.
func (h *Histogram) Mean() float64 {
	if h.n == 0 {
		return 0
	}
	return h.Sum() / float64(h.n)
}

// Quantile returns an estimate of the q-quantile (0 ≤ q ≤ 1) defined as the
// smallest sample whose rank is at least ⌈q·n⌉ (gonum's stat.Empirical).
// It returns 0 when there are no samples.
func (h *Histogram) Quantile(q float64) float64 {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	if rank < 1 {
		rank = 1
	}
	var cum uint64
	for i, c := range h.counts {
		cum += c
		if cum >= rank {
			lo, hi := histBounds(i)
			lo = max(lo, h.min)
			hi = min(hi, h.max)
			return (float64(lo) + float64(hi)) / 2
		}
	}
	return float64(h.max)
}

// Merge adds every sample of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	if len(o.counts) > len(h.counts) {
		h.grow(len(o.counts))
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	var carry uint64
	h.sumLo, carry = bits.Add64(h.sumLo, o.sumLo, 0)
	h.sumHi += o.sumHi + carry
}

// Series is a time series: rows of a fixed set of named columns, each row
// stamped with the simulated time it was taken. It is exported as a CSV file.
type Series struct {
	cols []string
	rows []seriesRow
}

type seriesRow struct {
	t    Time
	vals []float64
}

// Columns returns the column names (without the leading time column).
func (s *Series) Columns() []string { return s.cols }

// Len returns the number of rows.
func (s *Series) Len() int { return len(s.rows) }

// Append adds a row taken at time t. It panics if the number of values does
// not match the columns, which is a twinsim bug.
func (s *Series) Append(t Time, vals ...float64) {
	if len(vals) != len(s.cols) {
		panic(fmt.Sprintf("sim: series row has %d values for %d columns", len(vals), len(s.cols)))
	}
	s.rows = append(s.rows, seriesRow{t: t, vals: append([]float64(nil), vals...)})
}

// Row returns the time and values of row i.
func (s *Series) Row(i int) (Time, []float64) { return s.rows[i].t, s.rows[i].vals }

type statKind int

const (
	kindCounter statKind = iota
	kindHistogram
	kindValue
	kindSeries
)

type statEntry struct {
	path, name, doc, unit string
	kind                  statKind
	counter               *Counter
	hist                  *Histogram
	value                 func() float64
	series                *Series
}

// Stats is the statistics registry of one run, keyed by component path
// ("host0.core1.l2") and statistic name ("misses").
type Stats struct {
	entries map[statKey]*statEntry
}

type statKey struct{ path, name string }

// NewStats returns an empty registry.
func NewStats() *Stats { return &Stats{entries: map[statKey]*statEntry{}} }

func (s *Stats) add(e *statEntry) {
	if strings.ContainsAny(e.name, ".,\n\"") || e.name == "" {
		panic(fmt.Sprintf("sim: invalid statistic name %q", e.name))
	}
	key := statKey{e.path, e.name}
	if _, dup := s.entries[key]; dup {
		panic(fmt.Sprintf("sim: statistic %s.%s registered twice", e.path, e.name))
	}
	s.entries[key] = e
}

// Counter registers and returns a counter.
func (s *Stats) Counter(path, name, doc string) *Counter {
	c := &Counter{}
	s.add(&statEntry{path: path, name: name, doc: doc, kind: kindCounter, counter: c})
	return c
}

// Histogram registers and returns a histogram whose samples are in unit
// (such as "ps", "cycles" or "bytes").
func (s *Stats) Histogram(path, name, unit, doc string) *Histogram {
	h := &Histogram{}
	s.add(&statEntry{path: path, name: name, unit: unit, doc: doc, kind: kindHistogram, hist: h})
	return h
}

// Value registers a derived statistic computed by f when statistics are
// exported (a ratio, a gauge, a configured constant).
func (s *Stats) Value(path, name, doc string, f func() float64) {
	if f == nil {
		panic(fmt.Sprintf("sim: derived statistic %s.%s has a nil function", path, name))
	}
	s.add(&statEntry{path: path, name: name, doc: doc, kind: kindValue, value: f})
}

// Series registers and returns a time series with the given columns.
func (s *Stats) Series(path, name, doc string, cols ...string) *Series {
	ts := &Series{cols: append([]string(nil), cols...)}
	s.add(&statEntry{path: path, name: name, doc: doc, kind: kindSeries, series: ts})
	return ts
}

// sorted returns the entries ordered by (path, name).
func (s *Stats) sorted() []*statEntry {
	out := make([]*statEntry, 0, len(s.entries))
	for _, e := range s.entries {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].path != out[j].path {
			return out[i].path < out[j].path
		}
		return out[i].name < out[j].name
	})
	return out
}

// Lookup returns the current value of the scalar statistic at path.name:
// a counter's count, a derived value, or a histogram field given as
// "name.count", "name.mean", "name.p99" and so on. ok is false if there is
// no such statistic.
func (s *Stats) Lookup(path, name string) (v float64, ok bool) {
	if e, found := s.entries[statKey{path, name}]; found {
		switch e.kind {
		case kindCounter:
			return float64(e.counter.Value()), true
		case kindValue:
			return e.value(), true
		}
		return 0, false
	}
	base, field, cut := strings.Cut(name, ".")
	if !cut {
		return 0, false
	}
	e, found := s.entries[statKey{path, base}]
	if !found || e.kind != kindHistogram {
		return 0, false
	}
	for _, f := range histFields(e.hist) {
		if f.name == field {
			return f.num.float(), true
		}
	}
	return 0, false
}

type histField struct {
	name string
	num  statNum
}

// histFields returns the exported fields of h: count, min, max and (when it
// fits 64 bits) sum as integers, the mean and quantiles as float64.
func histFields(h *Histogram) []histField {
	sum := floatNum(h.Sum())
	if s, ok := h.SumUint64(); ok {
		sum = intNum(s)
	}
	return []histField{
		{"count", intNum(h.Count())},
		{"sum", sum},
		{"min", intNum(h.Min())},
		{"max", intNum(h.Max())},
		{"mean", floatNum(h.Mean())},
		{"p50", floatNum(h.Quantile(0.5))},
		{"p90", floatNum(h.Quantile(0.9))},
		{"p99", floatNum(h.Quantile(0.99))},
		{"p999", floatNum(h.Quantile(0.999))},
	}
}

// statNum is a statistic's value as exported: integers stay integers (so
// that counts above 2^53 are written exactly), other values are float64.
type statNum struct {
	u     uint64
	f     float64
	isInt bool
}

func intNum(u uint64) statNum    { return statNum{u: u, isInt: true} }
func floatNum(f float64) statNum { return statNum{f: f} }

func (v statNum) float() float64 {
	if v.isInt {
		return float64(v.u)
	}
	return v.f
}

package configs

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRangeValues(t *testing.T) {
	tests := []struct {
		name string
		path string
		r    Range
		want []string
	}{
		{"int step", "cache.l2.ways", Range{Start: int64(2), Stop: int64(8), Step: int64(2)}, []string{"2", "4", "6", "8"}},
		{"int step stops before an overshoot", "cache.l2.ways", Range{Start: int64(1), Stop: int64(8), Step: int64(3)}, []string{"1", "4", "7"}},
		{"int count rounds", "tlb.walk_latency", Range{Start: int64(0), Stop: int64(10), Count: 4}, []string{"0", "3", "7", "10"}},
		{"int log", "cache.l2.ways", Range{Start: int64(1), Stop: int64(16), Count: 5, Log: true}, []string{"1", "2", "4", "8", "16"}},
		{"descending count", "cache.l2.ways", Range{Start: int64(16), Stop: int64(1), Count: 5, Log: true}, []string{"16", "8", "4", "2", "1"}},
		{"single value step", "cache.l2.ways", Range{Start: int64(4), Stop: int64(4), Step: int64(1)}, []string{"4"}},
		{"int array element", "vm[0].cores[0]", Range{Start: int64(0), Stop: int64(1), Step: int64(1)}, []string{"0", "1"}},
		// 0.1 + 2×0.2 is 0.5000000000000001 in float64; the values are
		// rounded to 12 significant digits.
		{"float step rounds", "vm[0].workload.write_fraction", Range{Start: 0.1, Stop: 0.9, Step: 0.2}, []string{"0.1", "0.3", "0.5", "0.7", "0.9"}},
		{"float count", "hypervisor.store_fraction", Range{Start: 0.0, Stop: 1.0, Count: 3}, []string{"0.0", "0.5", "1.0"}},
		{"float from integer bounds", "vm[0].workload.write_fraction", Range{Start: int64(0), Stop: int64(1), Count: 5}, []string{"0.0", "0.25", "0.5", "0.75", "1.0"}},
		{"float log", "vm[0].workload.zipf_s", Range{Start: 1.1, Stop: 8.8, Count: 4, Log: true}, []string{"1.1", "2.2", "4.4", "8.8"}},
		{"size log", "cache.l2.size", Range{Start: "64KiB", Stop: "4MiB", Count: 7, Log: true},
			[]string{`"64KiB"`, `"128KiB"`, `"256KiB"`, `"512KiB"`, `"1MiB"`, `"2MiB"`, `"4MiB"`}},
		{"size step", "backup.log_size", Range{Start: "16KiB", Stop: "64KiB", Step: "16KiB"}, []string{`"16KiB"`, `"32KiB"`, `"48KiB"`, `"64KiB"`}},
		{"size from byte counts", "backup.log_size", Range{Start: int64(1024), Stop: int64(4096), Step: int64(1024)},
			[]string{`"1KiB"`, `"2KiB"`, `"3KiB"`, `"4KiB"`}},
		{"size count rounds to bytes", "hypervisor.footprint", Range{Start: "4KiB", Stop: "5KiB", Count: 4}, []string{`"4KiB"`, `"4437B"`, `"4779B"`, `"5KiB"`}},
		{"duration log", "backup.interval", Range{Start: "250us", Stop: "8ms", Count: 6, Log: true},
			[]string{`"250us"`, `"500us"`, `"1ms"`, `"2ms"`, `"4ms"`, `"8ms"`}},
		{"duration count", "backup.interval", Range{Start: "250us", Stop: "1ms", Count: 4}, []string{`"250us"`, `"500us"`, `"750us"`, `"1ms"`}},
		{"duration step mixed units", "backup.suspend", Range{Start: "0s", Stop: "1.5us", Step: "500ns"}, []string{`"0s"`, `"500ns"`, `"1us"`, `"1500ns"`}},
		{"frequency", "host.freq", Range{Start: "1GHz", Stop: "3GHz", Count: 3}, []string{`"1GHz"`, `"2GHz"`, `"3GHz"`}},
		{"frequency step", "host.freq", Range{Start: "500MHz", Stop: "1.5GHz", Step: "250MHz"}, []string{`"500MHz"`, `"750MHz"`, `"1GHz"`, `"1.25GHz"`, `"1.5GHz"`}},
		{"bandwidth in bits", "dram.bandwidth", Range{Start: "8Gb/s", Stop: "32Gb/s", Count: 3, Log: true}, []string{`"1GB/s"`, `"2GB/s"`, `"4GB/s"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := RangeValues(tc.path, tc.r)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestRangeValuesErrors(t *testing.T) {
	tests := []struct {
		name string
		path string
		r    Range
		want string
	}{
		{"duplicate after rounding", "cache.l2.ways", Range{Start: int64(1), Stop: int64(2), Count: 4}, "cache.l2.ways: the range gives 1 twice"},
		{"duplicate sizes", "cache.l2.size", Range{Start: "1KiB", Stop: "1KiB", Count: 2}, `cache.l2.size: the range gives "1KiB" twice`},
		{"stop below start", "cache.l2.ways", Range{Start: int64(8), Stop: int64(2), Step: int64(2)}, "cache.l2.ways: a range with a step needs start <= stop and a positive step"},
		{"zero step", "cache.l2.ways", Range{Start: int64(1), Stop: int64(2), Step: int64(0)}, "a positive step"},
		{"negative step", "vm[0].workload.write_fraction", Range{Start: 0.1, Stop: 0.5, Step: -0.1}, "a positive step"},
		{"step and count", "cache.l2.ways", Range{Start: int64(1), Stop: int64(8), Step: int64(1), Count: 8}, "cache.l2.ways: a range takes step or count, not both"},
		{"log with step", "cache.l2.ways", Range{Start: int64(1), Stop: int64(8), Step: int64(1), Log: true}, "cache.l2.ways: a log range takes count, not step"},
		{"log from zero", "tlb.walk_latency", Range{Start: int64(0), Stop: int64(100), Count: 3, Log: true}, "tlb.walk_latency: a log range needs positive start and stop"},
		{"log from negative", "vm[0].workload.write_fraction", Range{Start: -0.5, Stop: 0.5, Count: 3, Log: true}, "a log range needs positive start and stop"},
		{"log from zero duration", "backup.suspend", Range{Start: "0s", Stop: "1ms", Count: 3, Log: true}, "backup.suspend: a log range needs positive start and stop"},
		{"neither step nor count", "cache.l2.ways", Range{Start: int64(1), Stop: int64(8)}, "cache.l2.ways: a range needs a positive step, or a count of at least 2"},
		{"count of one", "cache.l2.ways", Range{Start: int64(1), Stop: int64(8), Count: 1}, "a count of at least 2"},
		{"too many values", "run.seed", Range{Start: int64(0), Stop: int64(1000000), Step: int64(1)}, "run.seed: the range has 1000001 values; at most 100000"},
		{"count too large", "run.seed", Range{Start: int64(0), Stop: int64(1000000), Count: 200000}, "run.seed: count 200000 is too large"},
		{"non-numeric key", "backup.overflow", Range{Start: int64(1), Stop: int64(2), Step: int64(1)}, "backup.overflow: a range needs a numeric key; its values are string"},
		{"boolean key", "backup.batch", Range{Start: int64(0), Stop: int64(1), Step: int64(1)}, "backup.batch: a range needs a numeric key; its values are bool"},
		{"table key", "cache.l2", Range{Start: int64(0), Stop: int64(1), Step: int64(1)}, "cache.l2: a range needs a numeric key; its values are struct"},
		{"unknown key", "cache.l2.wayz", Range{Start: int64(1), Stop: int64(2), Step: int64(1)}, `cache.l2.wayz: unknown key "wayz" in cache.l2`},
		{"unknown top-level key", "cach.l2.ways", Range{Start: int64(1), Stop: int64(2), Step: int64(1)}, `cach.l2.ways: unknown key "cach" in the top level`},
		{"key below a value", "cache.l2.ways.x", Range{Start: int64(1), Stop: int64(2), Step: int64(1)}, `cache.l2.ways.x: cache.l2.ways has no key "x"`},
		{"index on a table", "cache[0].l2", Range{Start: int64(1), Stop: int64(2), Step: int64(1)}, "cache[0].l2: cache is not an array"},
		{"not a key path", "cache..ways", Range{Start: int64(1), Stop: int64(2), Step: int64(1)}, "cache..ways: not a key path"},
		{"float bound for an integer key", "cache.l2.ways", Range{Start: 1.5, Stop: int64(8), Step: int64(1)}, "cache.l2.ways: range start: 1.5 is not an integer"},
		{"string bound for an integer key", "cache.l2.ways", Range{Start: int64(1), Stop: "8", Step: int64(1)}, `cache.l2.ways: range stop: "8" is not an integer`},
		{"bad step", "cache.l2.ways", Range{Start: int64(1), Stop: int64(8), Step: "x"}, `cache.l2.ways: range step: "x" is not an integer`},
		{"bad size", "cache.l2.size", Range{Start: "64KB/s", Stop: "1MiB", Count: 3}, `cache.l2.size: range start: "64KB/s" is not a size`},
		{"negative byte count", "cache.l2.size", Range{Start: int64(-1), Stop: "1MiB", Count: 3}, "cache.l2.size: range start: -1 is negative"},
		{"bare duration has no unit", "backup.interval", Range{Start: int64(1), Stop: int64(5), Step: int64(1)}, "backup.interval: range start: 1 is not allowed; must be a string with a unit"},
		{"bare frequency has no unit", "host.freq", Range{Start: "1GHz", Stop: int64(3000000000), Count: 3}, "host.freq: range stop: 3000000000 is not allowed; must be a string with a unit"},
		{"bare bandwidth has no unit", "dram.bandwidth", Range{Start: int64(1000), Stop: "1GB/s", Count: 3}, "dram.bandwidth: range start: 1000 is not allowed; must be a string with a unit"},
		{"bad duration", "backup.interval", Range{Start: "1 fortnight", Stop: "1ms", Count: 3}, `backup.interval: range start: "1 fortnight" is not a valid duration`},
		{"nan float", "vm[0].workload.write_fraction", Range{Start: math.NaN(), Stop: 0.9, Step: 0.2}, "vm[0].workload.write_fraction: range start: nan is not allowed; must be a finite number"},
		{"infinite float", "vm[0].workload.write_fraction", Range{Start: 0.1, Stop: math.Inf(1), Count: 3}, "vm[0].workload.write_fraction: range stop: inf is not allowed; must be a finite number"},
		{"nan step", "vm[0].workload.write_fraction", Range{Start: 0.1, Stop: 0.9, Step: math.NaN()}, "range step: nan is not allowed"},
		{"missing bound", "cache.l2.ways", Range{Stop: int64(8), Step: int64(1)}, "cache.l2.ways: range start:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := RangeValues(tc.path, tc.r)
			require.ErrorContains(t, err, tc.want)
			require.Nil(t, got)
		})
	}
}

// TestFormatValueRoundTrips checks that an override built with FormatValue
// sets exactly the decoded value.
func TestFormatValueRoundTrips(t *testing.T) {
	tests := []struct {
		raw  any
		want string
		key  string
		got  func(Config) any
	}{
		{"strided", `"strided"`, "vm[0].workload.pattern", func(c Config) any { return string(c.VMs[0].Workload.Pattern) }},
		{`a "quoted" \ name`, `"a \"quoted\" \\ name"`, "", nil},
		{int64(-3), "-3", "", nil},
		{int64(16), "16", "cache.l2.ways", func(c Config) any { return int64(c.Cache.L2.Ways) }},
		{0.55, "0.55", "vm[0].workload.write_fraction", func(c Config) any { return c.VMs[0].Workload.WriteFraction }},
		{1.0, "1.0", "vm[0].workload.write_fraction", func(c Config) any { return c.VMs[0].Workload.WriteFraction }},
		{false, "false", "backup.batch", func(c Config) any { return c.Backup.Batch }},
		{[]any{int64(1)}, "[1]", "vm[1].cores", func(c Config) any { return []any{int64(c.VMs[1].Cores[0])} }},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, FormatValue(tc.raw))
		if tc.key == "" {
			continue
		}
		cfg, err := Parse(nil, "test", []string{tc.key + "=" + FormatValue(tc.raw)})
		require.NoError(t, err, tc.key)
		require.Equal(t, tc.raw, tc.got(cfg), tc.key)
	}
}

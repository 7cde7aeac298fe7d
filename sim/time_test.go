package sim

import (
	"fmt"
	"math"
	"math/bits"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func TestTimeString(t *testing.T) {
	tests := []struct {
		t    Time
		want string
	}{
		{0, "0s"},
		{1, "1ps"},
		{7, "7ps"},
		{999, "999ps"},
		{1500, "1500ps"},
		{Nanosecond, "1ns"},
		{1001 * Nanosecond, "1001ns"},
		{1500 * Nanosecond, "1500ns"},
		{Microsecond, "1us"},
		{100 * Microsecond, "100us"},
		{25 * Millisecond, "25ms"},
		{1500 * Millisecond, "1500ms"},
		{2 * Second, "2s"},
		{3600 * Second, "3600s"},
		{Second + 1, "1000000000001ps"},
		{MaxTime, "18446744073709551615ps"},
		{18446744 * Second, "18446744s"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			require.Equal(t, tc.want, tc.t.String())
		})
	}
}

func TestTimeSecondsMicros(t *testing.T) {
	tests := []struct {
		t       Time
		seconds float64
		micros  float64
	}{
		{0, 0, 0},
		{1500 * Nanosecond, 1.5e-6, 1.5},
		{2 * Second, 2, 2e6},
		{250 * Picosecond, 2.5e-10, 2.5e-4},
	}
	for _, tc := range tests {
		t.Run(tc.t.String(), func(t *testing.T) {
			require.Equal(t, tc.seconds, tc.t.Seconds())
			require.Equal(t, tc.micros, tc.t.Micros())
		})
	}
}

func TestParseTimeValid(t *testing.T) {
	tests := []struct {
		in   string
		want Time
	}{
		{"25ms", 25 * Millisecond},
		{"100us", 100 * Microsecond},
		{"100µs", 100 * Microsecond}, // U+00B5 MICRO SIGN
		{"100μs", 100 * Microsecond}, // U+03BC GREEK SMALL LETTER MU
		{"25 µs", 25 * Microsecond},
		{"1.5ns", 1500},
		{"300ps", 300},
		{"2s", 2 * Second},
		{"0s", 0},
		{"0ps", 0},
		{"0.000ns", 0},
		{" 7 ns ", 7 * Nanosecond},
		{"1.001ns", 1001}, // 1000.9999999999999 in floating point
		{"0.1ns", 100},
		{".5ns", 500},
		{"1.ns", 1000},
		{"007ps", 7},
		{"2.5e3ns", 2500 * Nanosecond},
		{"2.5E3ns", 2500 * Nanosecond},
		{"1e3ps", 1000},
		{"1e+3ps", 1000},
		{"1e-3us", 1000},
		{"1E-3us", 1000},
		{"1.5e+2ps", 150},
		{"15e-1ns", 1500},
		{"0.0001e4ps", 1},
		{"100000e-5ps", 1},
		{"1e0005ps", 100000},
		{"0.000001ms", 1000},
		{"0e99999999s", 0},
		{"1e-12s", 1},
		{"18446744073709551615ps", MaxTime},
		{"18446744.073709551615s", MaxTime},
		{"18446744s", 18446744 * Second},
		{"1" + zeros(30) + "e-30ps", 1},
		// Long mantissas with exponents at the parser's limits.
		{"1" + zeros(10000) + "e-10000ps", 1},
		{"1" + zeros(10001) + "e-10001ps", 1},
		{"0.0" + zeros(10000) + "1e10003ps", 10},
	}
	for _, tc := range tests {
		t.Run(shortName(tc.in), func(t *testing.T) {
			got, err := ParseTime(tc.in)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

// shortName shortens very long inputs for subtest names.
func shortName(s string) string {
	if len(s) > 40 {
		return fmt.Sprintf("%s…%s(%d bytes)", s[:15], s[len(s)-15:], len(s))
	}
	return s
}

func zeros(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '0'
	}
	return string(b)
}

func TestParseTimeInvalid(t *testing.T) {
	const (
		noUnit   = "has no unit"
		syntax   = "is not a non-negative number"
		notWhole = "is not a whole number of picoseconds"
		overflow = "overflows 2^64 ps"
	)
	tests := []struct {
		in      string
		wantErr string
	}{
		{"", noUnit},
		{"25", noUnit},
		{"1e3", noUnit},
		{"2.5GHz", noUnit},
		{"5 minutes", syntax},
		{"5 min", noUnit},
		{"ms", syntax},
		{"s", syntax},
		{" ns", syntax},
		{"-1ns", syntax},
		{"-0s", syntax},
		{"- 1ns", syntax},
		{"1..5ns", syntax},
		{"1.5.5ns", syntax},
		{".ns", syntax},
		{"e3ns", syntax},
		{"1e", "has no unit"},
		{"1ens", syntax},
		{"1e+ns", syntax},
		{"1e-ns", syntax},
		{"1e--3ns", syntax},
		{"1e3.5ns", syntax},
		{"0x10ns", syntax},
		{"1_000ns", syntax},
		{"1 000ns", syntax},
		{"abcs", syntax},
		{"5 m s", syntax},
		{"1ks", syntax},
		{"NaNs", syntax},
		{"Infs", syntax},
		{"1.0001ps", notWhole},
		{"1.5ps", notWhole},
		{"0.5ps", notWhole},
		{"1e-13s", notWhole},
		{"1e-1ps", notWhole},
		{"1.0000000000001s", notWhole},
		{"1e-99999ps", notWhole},
		{"1e-99999999999ps", notWhole},
		{"18446744073709551616ps", overflow},
		{"18446744.073709551616s", overflow},
		{"18446745s", overflow},
		{"1e20s", overflow},
		{"1e60ps", overflow},
		{"1e99999s", overflow},
		{"1e99999999999s", overflow},
		{"99999999999999999999999999999999999999999999999999999999999999ps", overflow},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseTime(tc.in)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.wantErr)
			require.Contains(t, err.Error(), fmt.Sprintf("%q", tc.in), "the error quotes the input")
			require.Zero(t, got)
		})
	}
}

// TestParseTimeRejectsDoubleSignExponent: an exponent has at most one sign.
func TestParseTimeRejectsDoubleSignExponent(t *testing.T) {
	for _, in := range []string{"1e+-3ns", "1e+-3s", "1e-+3ns", "1e--3ns"} {
		_, err := ParseTime(in)
		require.Error(t, err, in)
	}
	_, err := ParseFreq("1e+-3Hz")
	require.Error(t, err)
}

func TestParseTimeStringRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		v := Time(rapid.Uint64().Draw(t, "ps"))
		got, err := ParseTime(v.String())
		require.NoError(t, err)
		require.Equal(t, v, got)
	})
}

// TestParseTimeDecimalSeconds writes an arbitrary number of picoseconds as
// seconds with twelve decimals (and as other forms): ParseTime must recover it
// exactly, which floating point would not.
func TestParseTimeDecimalSeconds(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		v := rapid.Uint64().Draw(t, "ps")
		s := fmt.Sprintf("%d.%012ds", v/1e12, v%1e12)
		got, err := ParseTime(s)
		require.NoError(t, err, s)
		require.Equal(t, Time(v), got, s)

		ns := fmt.Sprintf("%d.%03dns", v/1000, v%1000)
		got, err = ParseTime(ns)
		require.NoError(t, err, ns)
		require.Equal(t, Time(v), got, ns)

		k := rapid.IntRange(0, 30).Draw(t, "k")
		e := fmt.Sprintf("%d%se-%dps", v, zeros(k), k)
		got, err = ParseTime(e)
		require.NoError(t, err, e)
		require.Equal(t, Time(v), got, e)
	})
}

var (
	f2_5GHz = Freq(2_500_000_000)
	f3_7GHz = Freq(3_700_000_000)
)

func TestFreqCyclesToTimeKnown(t *testing.T) {
	tests := []struct {
		f    Freq
		n    uint64
		want Time
	}{
		{GHz, 0, 0},
		{GHz, 1, 1000},
		{GHz, 1_000_000, Millisecond},
		{f2_5GHz, 0, 0},
		{f2_5GHz, 1, 400},
		{f2_5GHz, 3, 1200},
		{f2_5GHz, 2_500_000_000, Second},
		{f3_7GHz, 1, 271}, // 270.27 rounded up
		{f3_7GHz, 2, 541}, // 540.54
		{f3_7GHz, 3, 811}, // 810.81
		{f3_7GHz, 37, 10_000},
		{f3_7GHz, 3_700_000_000, Second},
		{3 * GHz, 1, 334},
		{3 * GHz, 3, 1000},
		{Hz, 1, Second},
		{Hz, 18_446_744, 18_446_744 * Second},
		{7 * Hz, 1, 142_857_142_858},
		{999_999_999_999, 1, 2},
		{999_999_999_999, 999_999_999_999, Second},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%v/%d", tc.f, tc.n), func(t *testing.T) {
			got := tc.f.CyclesToTime(tc.n)
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.n, tc.f.Cycles(got))
		})
	}
}

func TestFreqCyclesKnown(t *testing.T) {
	tests := []struct {
		f    Freq
		t    Time
		want uint64
	}{
		{GHz, 0, 0},
		{GHz, 999, 0},
		{GHz, 1000, 1},
		{GHz, 1999, 1},
		{f2_5GHz, 399, 0},
		{f2_5GHz, 400, 1},
		{f2_5GHz, 1199, 2},
		{f2_5GHz, 1200, 3},
		{f3_7GHz, 270, 0},
		{f3_7GHz, 271, 1},
		{f3_7GHz, 10_000, 37},
		{f3_7GHz, Second, 3_700_000_000},
		{Hz, MaxTime, 18_446_744},
		{f3_7GHz, MaxTime, 68_252_953_072_725_340}, // ⌊(2^64-1)·3.7e9/1e12⌋
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%v/%d", tc.f, tc.t), func(t *testing.T) {
			require.Equal(t, tc.want, tc.f.Cycles(tc.t))
		})
	}
}

// maxCycles returns the largest n for which f.CyclesToTime(n) fits in a
// Time: ⌈n·10^12/f⌉ ≤ MaxTime, that is n ≤ ⌊MaxTime·f/10^12⌋.
func maxCycles(f Freq) uint64 {
	hi, lo := bits.Mul64(uint64(MaxTime), uint64(f))
	q, _ := bits.Div64(hi, lo, uint64(Second))
	return q
}

func TestFreqCyclesRoundTripExhaustive(t *testing.T) {
	for _, f := range []Freq{GHz, f2_5GHz, f3_7GHz, 3 * GHz, 7 * Hz, 999_999_999_999} {
		t.Run(f.String(), func(t *testing.T) {
			prev := f.CyclesToTime(0)
			require.Zero(t, prev)
			for n := uint64(1); n <= 100_000; n++ {
				tm := f.CyclesToTime(n)
				if f.Cycles(tm) != n {
					t.Fatalf("%v: Cycles(CyclesToTime(%d) = %d) = %d", f, n, tm, f.Cycles(tm))
				}
				if tm <= prev {
					t.Fatalf("%v: CyclesToTime(%d) = %d not after CyclesToTime(%d) = %d", f, n, tm, n-1, prev)
				}
				// The edge is the first picosecond at which cycle n is complete.
				if f.Cycles(tm-1) != n-1 {
					t.Fatalf("%v: Cycles(CyclesToTime(%d)-1) = %d, want %d", f, n, f.Cycles(tm-1), n-1)
				}
				prev = tm
			}
		})
	}
}

func TestFreqCyclesRoundTripProperty(t *testing.T) {
	for _, f := range []Freq{GHz, f2_5GHz, f3_7GHz} {
		t.Run(f.String(), func(t *testing.T) {
			rapid.Check(t, func(t *rapid.T) {
				n := rapid.Uint64Range(0, maxCycles(f)).Draw(t, "n")
				tm := f.CyclesToTime(n)
				require.Equal(t, n, f.Cycles(tm))
				if n > 0 {
					require.Equal(t, n-1, f.Cycles(tm-1))
				}
			})
		})
	}
	t.Run("any", func(t *testing.T) {
		rapid.Check(t, func(t *rapid.T) {
			f := Freq(rapid.Uint64Range(1, 999_999_999_999).Draw(t, "f"))
			n := rapid.Uint64Range(0, maxCycles(f)).Draw(t, "n")
			tm := f.CyclesToTime(n)
			require.Equal(t, n, f.Cycles(tm))
			if n > 0 {
				require.Equal(t, n-1, f.Cycles(tm-1))
			}
		})
	})
}

func TestFreqCyclesToTimePanics(t *testing.T) {
	require.PanicsWithValue(t, "sim: CyclesToTime on a zero frequency", func() { Freq(0).CyclesToTime(1) })
	// (maxCycles+1)·10^12 / 2^64 is exactly 10^9 here: the edge of the check.
	require.PanicsWithValue(t, "sim: 18446744073709552 cycles at 1000000000 Hz overflow simulated time",
		func() { GHz.CyclesToTime(maxCycles(GHz) + 1) })
	require.Panics(t, func() { GHz.CyclesToTime(math.MaxUint64) })
	require.NotPanics(t, func() { GHz.CyclesToTime(maxCycles(GHz)) })
	require.Equal(t, Time(maxCycles(GHz))*1000, GHz.CyclesToTime(maxCycles(GHz)))
	require.Equal(t, 18_446_744*Second, Hz.CyclesToTime(maxCycles(Hz)))
	require.Panics(t, func() { Hz.CyclesToTime(maxCycles(Hz) + 1) })
}

// TestFreqCyclesToTimeOverflowByRounding: when ⌊n·10^12/f⌋ is 2^64-1 and the
// division leaves a remainder, the true result ⌈n·10^12/f⌉ = 2^64 does not
// fit, so the conversion panics rather than wrapping to 0. Link and DRAM
// share the arithmetic (MulDivCeil).
func TestFreqCyclesToTimeOverflowByRounding(t *testing.T) {
	tests := []struct {
		f Freq
		n uint64
	}{
		{1_269_000_000, 23_408_918_229_537_421},
		{3_497_000_000, 64_508_264_025_762_302},
		{999_999_999_999, 18_446_744_073_691_104_871},
	}
	for _, tc := range tests {
		require.Equal(t, tc.n-1, maxCycles(tc.f))
		require.Panics(t, func() { tc.f.CyclesToTime(tc.n) }, "%v cycles at %v", tc.n, tc.f)
	}
	env := NewEnv(1)
	l, err := NewLink(env.Scope("l"), 0, 1_269_000_000)
	require.NoError(t, err)
	require.Panics(t, func() { l.SerialisationTime(23_408_918_229_537_421) })
}

func TestFreqNextEdge(t *testing.T) {
	tests := []struct {
		f    Freq
		t    Time
		want Time
	}{
		{GHz, 0, 0},
		{GHz, 1, 1000},
		{GHz, 999, 1000},
		{GHz, 1000, 1000},
		{GHz, 1001, 2000},
		{f2_5GHz, 0, 0},
		{f2_5GHz, 1, 400},
		{f2_5GHz, 400, 400},
		{f2_5GHz, 401, 800},
		{f2_5GHz, 1199, 1200},
		{f3_7GHz, 1, 271},
		{f3_7GHz, 270, 271},
		{f3_7GHz, 271, 271},
		{f3_7GHz, 272, 541},
		{f3_7GHz, 9_999, 10_000},
		{f3_7GHz, 10_000, 10_000},
		{f3_7GHz, 10_001, 10_271},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%v/%d", tc.f, tc.t), func(t *testing.T) {
			require.Equal(t, tc.want, tc.f.NextEdge(tc.t))
		})
	}
}

func TestFreqNextEdgeProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		f := Freq(rapid.Uint64Range(1, 999_999_999_999).Draw(t, "f"))
		limit := f.CyclesToTime(maxCycles(f))
		tm := Time(rapid.Uint64Range(0, uint64(limit)).Draw(t, "t"))
		e := f.NextEdge(tm)
		require.GreaterOrEqual(t, e, tm)
		n := f.Cycles(e)
		require.Equal(t, e, f.CyclesToTime(n), "NextEdge returns an edge")
		if n > 0 {
			require.Less(t, f.CyclesToTime(n-1), tm, "no edge in [t, NextEdge(t))")
		}
	})
}

func TestParseFreqValid(t *testing.T) {
	tests := []struct {
		in   string
		want Freq
	}{
		{"2.5GHz", f2_5GHz},
		{"3.7GHz", f3_7GHz},
		{"3.7 GHz", f3_7GHz},
		{" 1GHz ", GHz},
		{"800MHz", 800 * MHz},
		{"0.8GHz", 800 * MHz},
		{"100Hz", 100},
		{"1Hz", 1},
		{"1kHz", KHz},
		{"1KHz", KHz},
		{"1.5kHz", 1500},
		{"2.5e9Hz", f2_5GHz},
		{"1e-9GHz", 1},
		{"1e+3MHz", GHz},
		{"999.999999999GHz", 999_999_999_999},
		{"999999999999Hz", 999_999_999_999},
		{"3.700000000GHz", f3_7GHz},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseFreq(tc.in)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestParseFreqInvalid(t *testing.T) {
	const (
		noUnit   = "has no unit"
		positive = "is not a positive number"
		rng      = "is out of range"
		notWhole = "is not a whole number of hertz"
	)
	tests := []struct {
		in      string
		wantErr string
	}{
		{"", noUnit},
		{"2.5", noUnit},
		{"2.5G", noUnit},
		{"2.5ghz", noUnit},
		{"10ns", noUnit},
		{"GHz", positive},
		{"Hz", positive},
		{"0Hz", positive},
		{"0GHz", positive},
		{"0.0e5MHz", positive},
		{"-1GHz", positive},
		{"1THz", positive},
		{"1..5GHz", positive},
		{"abcHz", positive},
		{"1e12Hz", rng},
		{"1000GHz", rng},
		{"1e99999GHz", rng},
		{"18446744073709551616Hz", rng},
		{"0.5Hz", notWhole},
		{"1.0000000001GHz", notWhole},
		{"1e-10GHz", notWhole},
		{"1e-99999Hz", notWhole},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseFreq(tc.in)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.wantErr)
			require.Zero(t, got)
		})
	}
}

func TestFreqString(t *testing.T) {
	tests := []struct {
		f    Freq
		want string
	}{
		{0, "0Hz"},
		{1, "1Hz"},
		{999, "999Hz"},
		{KHz, "1kHz"},
		{1500, "1.5kHz"},
		{999_999, "999.999kHz"},
		{MHz, "1MHz"},
		{800 * MHz, "800MHz"},
		{1_234_567, "1.234567MHz"},
		{GHz, "1GHz"},
		{f2_5GHz, "2.5GHz"},
		{f3_7GHz, "3.7GHz"},
		{3 * GHz, "3GHz"},
		{999_999_999_999, "999.999999999GHz"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			require.Equal(t, tc.want, tc.f.String())
		})
	}
}

func TestParseFreqStringRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		f := Freq(rapid.Uint64Range(1, 999_999_999_999).Draw(t, "f"))
		got, err := ParseFreq(f.String())
		require.NoError(t, err, f.String())
		require.Equal(t, f, got)
	})
}

// TestBytesTime: exact ceiling division, beyond where bytes·10^12 fits in
// 64 bits.
func TestBytesTime(t *testing.T) {
	require.Equal(t, Time(1000), BytesTime(1, 1e9))
	require.Equal(t, Time(1), BytesTime(1, 1e12))
	require.Equal(t, Time(2), BytesTime(3, 2e12), "rounded up")
	require.Equal(t, Time(536870912)*100, BytesTime(512<<20, 10e9), "512 MiB at 10 GB/s: 53.7 ms")
	require.Panics(t, func() { BytesTime(1<<63, 1) })
}

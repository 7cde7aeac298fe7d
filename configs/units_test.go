package configs

import (
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/twinsim/twinsim/sim"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Size
		err  string
	}{
		{in: "128", want: 128},
		{in: "0", want: 0},
		{in: "100B", want: 100},
		{in: "32KiB", want: 32 * KiB},
		{in: "32 KiB", want: 32 * KiB},
		{in: "8MiB", want: 8 * MiB},
		{in: "64GiB", want: 64 * GiB},
		{in: "1TiB", want: TiB},
		{in: "1.5KiB", want: 1536},
		{in: "32KB", want: 32000},
		{in: "32kB", want: 32000},
		{in: "8MB", want: 8_000_000},
		{in: "2GB", want: 2_000_000_000},
		{in: "1TB", want: 1_000_000_000_000},
		{in: "15EiB", want: 15 * EiB},
		{in: "1.3KiB", err: `"1.3KiB" is not a whole number of bytes`},
		{in: "1.5", err: `"1.5" is not a whole number of bytes`},
		{in: "16EiB", err: `"16EiB" overflows 2^64 bytes`},
		{in: "eight", err: `"eight" is not a size; must be ` + sizeSyntax},
		{in: "32kib", err: `"32kib" is not a size; must be ` + sizeSyntax},
		{in: "-1KiB", err: `"-1KiB" is not a size; must be ` + sizeSyntax},
		{in: ".5KiB", err: `".5KiB" is not a size; must be ` + sizeSyntax},
		{in: "1e3B", err: `"1e3B" is not a size; must be ` + sizeSyntax},
		{in: "", err: `"" is not a size; must be ` + sizeSyntax},
		{in: "KiB", err: `"KiB" is not a size; must be ` + sizeSyntax},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSize(tc.in)
			if tc.err != "" {
				require.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestSizeString(t *testing.T) {
	for _, tc := range []struct {
		in   Size
		want string
	}{
		{0, "0B"}, {100, "100B"}, {1023, "1023B"}, {KiB, "1KiB"}, {32 * KiB, "32KiB"},
		{1536, "1536B"}, {8 * MiB, "8MiB"}, {64 * GiB, "64GiB"}, {TiB, "1TiB"}, {3 * EiB, "3EiB"},
		{32000, "32000B"}, {MiB + KiB, "1025KiB"},
	} {
		require.Equal(t, tc.want, tc.in.String())
		text, err := tc.in.MarshalText()
		require.NoError(t, err)
		require.Equal(t, tc.want, string(text))
	}
}

func TestSizeUnmarshalTOML(t *testing.T) {
	for _, tc := range []struct {
		name string
		raw  any
		want Size
		err  string
	}{
		{name: "integer", raw: int64(4096), want: 4 * KiB},
		{name: "string", raw: "4KiB", want: 4 * KiB},
		{name: "negative", raw: int64(-5), err: "-5 is not allowed; must be a non-negative byte count"},
		{name: "bool", raw: true, err: "true has type boolean; must be " + sizeSyntax},
		{name: "float", raw: 1.5, err: "1.5 has type float; must be " + sizeSyntax},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s Size
			err := s.UnmarshalTOML(tc.raw)
			if tc.err != "" {
				require.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, s)
		})
	}
}

func TestDuration(t *testing.T) {
	for _, tc := range []struct {
		raw  any
		want sim.Time
		text string
		err  string
	}{
		{raw: "25ms", want: 25 * sim.Millisecond, text: "25ms"},
		{raw: "100us", want: 100 * sim.Microsecond, text: "100us"},
		{raw: "60ns", want: 60 * sim.Nanosecond, text: "60ns"},
		{raw: "1.5ns", want: 1500, text: "1500ps"},
		{raw: "0s", want: 0, text: "0s"},
		{raw: "25", err: `"25" is not a valid duration: duration "25" has no unit; use ps, ns, us, ms or s`},
		{raw: int64(25), err: "25 has type integer; must be " + durationSyntax},
	} {
		var d Duration
		err := d.UnmarshalTOML(tc.raw)
		if tc.err != "" {
			require.EqualError(t, err, tc.err)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tc.want, d.Time())
		require.Equal(t, tc.text, d.String())
		text, err := d.MarshalText()
		require.NoError(t, err)
		require.Equal(t, tc.text, string(text))
	}
}

func TestFrequency(t *testing.T) {
	for _, tc := range []struct {
		raw  any
		want sim.Freq
		text string
		err  string
	}{
		{raw: "3GHz", want: 3 * sim.GHz, text: "3GHz"},
		{raw: "2.5GHz", want: 2_500_000_000, text: "2.5GHz"},
		{raw: "800MHz", want: 800 * sim.MHz, text: "800MHz"},
		{raw: "3", err: `"3" is not a valid frequency: frequency "3" has no unit; use Hz, kHz, MHz or GHz`},
		{raw: int64(3), err: "3 has type integer; must be " + frequencySyntax},
	} {
		var f Frequency
		err := f.UnmarshalTOML(tc.raw)
		if tc.err != "" {
			require.EqualError(t, err, tc.err)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tc.want, f.Freq())
		require.Equal(t, tc.text, f.String())
	}
}

func TestBandwidth(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Bandwidth
		text string
		err  string
	}{
		{in: "12.8GB/s", want: 12_800_000_000, text: "12.8GB/s"},
		{in: "800MB/s", want: 800_000_000, text: "800MB/s"},
		{in: "10Gb/s", want: 1_250_000_000, text: "1.25GB/s"},
		{in: "1TB/s", want: 1_000_000_000_000, text: "1TB/s"},
		{in: "100 MB/s", want: 100_000_000, text: "100MB/s"},
		{in: "1kB/s", want: 1000, text: "1KB/s"},
		{in: "1.000001GB/s", want: 1_000_001_000, text: "1.000001GB/s"},
		{in: "0B/s", want: 0, text: "0B/s"},
		{in: "999B/s", want: 999, text: "999B/s"},
		{in: "8b/s", want: 1, text: "1B/s"},
		{in: "1b/s", err: `"1b/s" is not a whole number of bytes per second`},
		{in: "12.8GB", err: `"12.8GB" is not a bandwidth; must be ` + bandwidthSyntax},
		{in: "fastGB/s", err: `"fastGB/s" is not a bandwidth; must be ` + bandwidthSyntax},
		{in: "99999999PB/s", err: `"99999999PB/s" overflows 2^64 bytes per second`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseBandwidth(tc.in)
			if tc.err != "" {
				require.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.text, got.String())
		})
	}
	var b Bandwidth
	require.EqualError(t, b.UnmarshalTOML(int64(5)), "5 has type integer; must be "+bandwidthSyntax)
}

// TestUnitsRoundTripProperty: every value's human form parses back to it.
func TestUnitsRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		s := Size(rapid.Uint64().Draw(rt, "size"))
		got, err := ParseSize(s.String())
		require.NoError(rt, err)
		require.Equal(rt, s, got)

		b := Bandwidth(rapid.Uint64().Draw(rt, "bandwidth"))
		gotB, err := ParseBandwidth(b.String())
		require.NoError(rt, err)
		require.Equal(rt, b, gotB)

		d := Duration(rapid.Uint64().Draw(rt, "duration"))
		var gotD Duration
		require.NoError(rt, gotD.UnmarshalText([]byte(d.String())))
		require.Equal(rt, d, gotD)

		f := Frequency(rapid.Uint64Range(1, 999_999_999_999).Draw(rt, "freq"))
		var gotF Frequency
		require.NoError(rt, gotF.UnmarshalText([]byte(f.String())))
		require.Equal(rt, f, gotF)
	})
}

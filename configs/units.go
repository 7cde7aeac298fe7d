package configs

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/twinsim/twinsim/sim"
)

// Size is a number of bytes. In TOML it is an integer (bytes) or a string
// such as "128", "32KiB", "8MiB" or "64GiB" (binary units), or "32KB"
// (decimal units). It marshals to the largest binary unit that represents it
// exactly, such as "32KiB" or "100B".
type Size uint64

// Binary units of Size.
const (
	Byte Size = 1
	KiB       = 1024 * Byte
	MiB       = 1024 * KiB
	GiB       = 1024 * MiB
	TiB       = 1024 * GiB
	PiB       = 1024 * TiB
	EiB       = 1024 * PiB
)

// sizeUnits lists the accepted suffixes; "B" is last because every other
// suffix also ends in B.
var sizeUnits = []struct {
	suffix string
	mult   uint64
}{
	{"KiB", uint64(KiB)}, {"MiB", uint64(MiB)}, {"GiB", uint64(GiB)}, {"TiB", uint64(TiB)},
	{"PiB", uint64(PiB)}, {"EiB", uint64(EiB)},
	{"kB", 1e3}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12}, {"PB", 1e15}, {"EB", 1e18},
	{"B", 1},
}

const sizeSyntax = `a byte count such as 128 or a string such as "32KiB" ` +
	`(units B, KiB, MiB, GiB, TiB, PiB, EiB, or decimal KB, MB, GB, TB, PB, EB)`

// ParseSize parses a size such as "128", "32KiB", "1.5MiB" or "8MB". The
// result must be a whole number of bytes.
func ParseSize(s string) (Size, error) {
	str := strings.TrimSpace(s)
	num, mult := str, uint64(1)
	for _, u := range sizeUnits {
		if n, ok := strings.CutSuffix(str, u.suffix); ok {
			num, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	v, err := exactDecimal(num, mult, 1)
	switch {
	case errors.Is(err, errNotNumber):
		return 0, fmt.Errorf("%s is not a size; must be %s", tomlString(s), sizeSyntax)
	case errors.Is(err, errNotWhole):
		return 0, fmt.Errorf("%s is not a whole number of bytes", tomlString(s))
	case errors.Is(err, errOverflow):
		return 0, fmt.Errorf("%s overflows 2^64 bytes", tomlString(s))
	}
	return Size(v), nil
}

// String formats s with the largest binary unit that represents it exactly,
// such as "32KiB", "1GiB" or "100B".
func (s Size) String() string {
	for _, u := range []struct {
		suffix string
		unit   Size
	}{{"EiB", EiB}, {"PiB", PiB}, {"TiB", TiB}, {"GiB", GiB}, {"MiB", MiB}, {"KiB", KiB}} {
		if s != 0 && s%u.unit == 0 {
			return strconv.FormatUint(uint64(s/u.unit), 10) + u.suffix
		}
	}
	return strconv.FormatUint(uint64(s), 10) + "B"
}

// MarshalText implements encoding.TextMarshaler with String's format.
func (s Size) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseSize.
func (s *Size) UnmarshalText(b []byte) error {
	v, err := ParseSize(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// UnmarshalTOML implements toml.Unmarshaler: a TOML integer is a byte count
// and a string is parsed by ParseSize.
func (s *Size) UnmarshalTOML(raw any) error {
	switch v := raw.(type) {
	case int64:
		if v < 0 {
			return fmt.Errorf("%d is not allowed; must be a non-negative byte count", v)
		}
		*s = Size(v)
		return nil
	case string:
		return s.UnmarshalText([]byte(v))
	}
	return typeError(raw, sizeSyntax)
}

// Duration is a span of simulated time (sim.Time, picoseconds). In TOML it is
// a string such as "25ms", "100us", "60ns" or "1.5s", parsed by
// sim.ParseTime, and it marshals with sim.Time.String.
type Duration sim.Time

const durationSyntax = `a string with a unit ps, ns, us, ms or s, such as "25ms"`

// Time returns d as simulated time.
func (d Duration) Time() sim.Time { return sim.Time(d) }

// String formats d as sim.Time does, such as "25ms".
func (d Duration) String() string { return sim.Time(d).String() }

// MarshalText implements encoding.TextMarshaler with String's format.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with sim.ParseTime.
func (d *Duration) UnmarshalText(b []byte) error {
	t, err := sim.ParseTime(string(b))
	if err != nil {
		return fmt.Errorf("%s is not a valid duration: %v", tomlString(string(b)), err)
	}
	*d = Duration(t)
	return nil
}

// UnmarshalTOML implements toml.Unmarshaler; only strings are accepted, since
// a bare number would have no unit.
func (d *Duration) UnmarshalTOML(raw any) error {
	if s, ok := raw.(string); ok {
		return d.UnmarshalText([]byte(s))
	}
	return typeError(raw, durationSyntax)
}

// Frequency is a clock frequency (sim.Freq, hertz). In TOML it is a string
// such as "3GHz" or "800MHz", parsed by sim.ParseFreq, and it marshals with
// sim.Freq.String.
type Frequency sim.Freq

const frequencySyntax = `a string with a unit Hz, kHz, MHz or GHz, such as "3GHz"`

// Freq returns f as a sim.Freq.
func (f Frequency) Freq() sim.Freq { return sim.Freq(f) }

// String formats f as sim.Freq does, such as "3GHz".
func (f Frequency) String() string { return sim.Freq(f).String() }

// MarshalText implements encoding.TextMarshaler with String's format.
func (f Frequency) MarshalText() ([]byte, error) { return []byte(f.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with sim.ParseFreq.
func (f *Frequency) UnmarshalText(b []byte) error {
	v, err := sim.ParseFreq(string(b))
	if err != nil {
		return fmt.Errorf("%s is not a valid frequency: %v", tomlString(string(b)), err)
	}
	*f = Frequency(v)
	return nil
}

// UnmarshalTOML implements toml.Unmarshaler; only strings are accepted.
func (f *Frequency) UnmarshalTOML(raw any) error {
	if s, ok := raw.(string); ok {
		return f.UnmarshalText([]byte(s))
	}
	return typeError(raw, frequencySyntax)
}

// Bandwidth is a transfer rate in bytes per second. In TOML it is a string
// with a decimal unit: bytes ("800MB/s", "12.8GB/s") or bits, with a
// lowercase b ("10Gb/s" is 1.25GB/s). It marshals in bytes with the largest
// decimal unit not above it, such as "12.8GB/s".
type Bandwidth uint64

var bandwidthUnits = []struct {
	suffix string
	mult   uint64
	bits   bool
}{
	{"kB/s", 1e3, false}, {"KB/s", 1e3, false}, {"MB/s", 1e6, false}, {"GB/s", 1e9, false},
	{"TB/s", 1e12, false}, {"PB/s", 1e15, false}, {"B/s", 1, false},
	{"kb/s", 1e3, true}, {"Kb/s", 1e3, true}, {"Mb/s", 1e6, true}, {"Gb/s", 1e9, true},
	{"Tb/s", 1e12, true}, {"Pb/s", 1e15, true}, {"b/s", 1, true},
}

const bandwidthSyntax = `a string with a unit B/s, KB/s, MB/s, GB/s, TB/s, PB/s (bytes) ` +
	`or b/s, Kb/s, Mb/s, Gb/s, Tb/s, Pb/s (bits), such as "12.8GB/s"`

// ParseBandwidth parses a rate such as "12.8GB/s", "800MB/s" or "10Gb/s".
// Units are decimal; a lowercase b counts bits. The result must be a whole
// number of bytes per second.
func ParseBandwidth(s string) (Bandwidth, error) {
	str := strings.TrimSpace(s)
	for _, u := range bandwidthUnits {
		num, ok := strings.CutSuffix(str, u.suffix)
		if !ok {
			continue
		}
		div := uint64(1)
		if u.bits {
			div = 8
		}
		v, err := exactDecimal(strings.TrimSpace(num), u.mult, div)
		switch {
		case errors.Is(err, errNotNumber):
			return 0, fmt.Errorf("%s is not a bandwidth; must be %s", tomlString(s), bandwidthSyntax)
		case errors.Is(err, errNotWhole):
			return 0, fmt.Errorf("%s is not a whole number of bytes per second", tomlString(s))
		case errors.Is(err, errOverflow):
			return 0, fmt.Errorf("%s overflows 2^64 bytes per second", tomlString(s))
		}
		return Bandwidth(v), nil
	}
	return 0, fmt.Errorf("%s is not a bandwidth; must be %s", tomlString(s), bandwidthSyntax)
}

// String formats b in bytes per second with the largest decimal unit not
// above it, such as "12.8GB/s", "800MB/s" or "0B/s". It is exact.
func (b Bandwidth) String() string {
	v := uint64(b)
	for _, u := range []struct {
		suffix string
		unit   uint64
		digits int
	}{{"PB/s", 1e15, 15}, {"TB/s", 1e12, 12}, {"GB/s", 1e9, 9}, {"MB/s", 1e6, 6}, {"KB/s", 1e3, 3}} {
		if v < u.unit {
			continue
		}
		s := strconv.FormatUint(v/u.unit, 10)
		if r := v % u.unit; r != 0 {
			frac := strconv.FormatUint(r, 10)
			frac = strings.Repeat("0", u.digits-len(frac)) + frac
			s += "." + strings.TrimRight(frac, "0")
		}
		return s + u.suffix
	}
	return strconv.FormatUint(v, 10) + "B/s"
}

// MarshalText implements encoding.TextMarshaler with String's format.
func (b Bandwidth) MarshalText() ([]byte, error) { return []byte(b.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseBandwidth.
func (b *Bandwidth) UnmarshalText(text []byte) error {
	v, err := ParseBandwidth(string(text))
	if err != nil {
		return err
	}
	*b = v
	return nil
}

// UnmarshalTOML implements toml.Unmarshaler; only strings are accepted, since
// a bare number would not say bytes or bits.
func (b *Bandwidth) UnmarshalTOML(raw any) error {
	if s, ok := raw.(string); ok {
		return b.UnmarshalText([]byte(s))
	}
	return typeError(raw, bandwidthSyntax)
}

var (
	errNotNumber = errors.New("not a number")
	errNotWhole  = errors.New("not a whole number")
	errOverflow  = errors.New("overflows uint64")
)

// exactDecimal returns num × mult / div exactly, where num is a plain
// non-negative decimal ("12", "12.8"); big.Rat keeps it free of rounding.
func exactDecimal(num string, mult, div uint64) (uint64, error) {
	whole, frac, dot := strings.Cut(num, ".")
	if !allDigits(whole) || (dot && !allDigits(frac)) {
		return 0, errNotNumber
	}
	r, ok := new(big.Rat).SetString(num)
	if !ok {
		return 0, errNotNumber
	}
	r.Mul(r, new(big.Rat).SetFrac(new(big.Int).SetUint64(mult), new(big.Int).SetUint64(div)))
	if !r.IsInt() {
		return 0, errNotWhole
	}
	if !r.Num().IsUint64() {
		return 0, errOverflow
	}
	return r.Num().Uint64(), nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// typeError reports a TOML value of the wrong type.
func typeError(raw any, want string) error {
	return fmt.Errorf("%s has type %s; must be %s", formatRaw(raw), tomlType(raw), want)
}

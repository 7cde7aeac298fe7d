package sim

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
	"strconv"
	"strings"
)

// Time is simulated time in picoseconds. 2^64 ps is about 213 days.
type Time uint64

// Units of simulated time.
const (
	Picosecond  Time = 1
	Nanosecond  Time = 1000 * Picosecond
	Microsecond Time = 1000 * Nanosecond
	Millisecond Time = 1000 * Microsecond
	Second      Time = 1000 * Millisecond
)

// MaxTime is the largest representable simulated time.
const MaxTime Time = math.MaxUint64

var timeUnits = []struct {
	suffix string
	unit   Time
}{
	{"s", Second}, {"ms", Millisecond}, {"us", Microsecond}, {"ns", Nanosecond}, {"ps", Picosecond},
}

// String formats t with the largest unit that represents it exactly, such as
// "25ms", "1500ns" or "7ps".
func (t Time) String() string {
	if t == 0 {
		return "0s"
	}
	for _, u := range timeUnits {
		if t%u.unit == 0 {
			return strconv.FormatUint(uint64(t/u.unit), 10) + u.suffix
		}
	}
	return strconv.FormatUint(uint64(t), 10) + "ps"
}

// Seconds returns t in seconds as a float, for reporting only.
func (t Time) Seconds() float64 { return float64(t) / float64(Second) }

// Micros returns t in microseconds as a float, for reporting only.
func (t Time) Micros() float64 { return float64(t) / float64(Microsecond) }

// ParseTime parses a duration such as "25ms", "100us", "1.5ns", "300ps" or
// "2s". "µs" is accepted for "us". The number is decimal, optionally with an
// exponent ("2.5e3ns"), and is converted exactly: the result must be a whole
// number of picoseconds.
func ParseTime(s string) (Time, error) {
	str := strings.TrimSpace(strings.NewReplacer("µs", "us", "μs", "us").Replace(s))
	for _, u := range []struct {
		suffix string
		unit   Time
	}{{"ps", Picosecond}, {"ns", Nanosecond}, {"us", Microsecond}, {"ms", Millisecond}, {"s", Second}} {
		num, ok := strings.CutSuffix(str, u.suffix)
		if !ok {
			continue
		}
		num = strings.TrimSpace(num)
		v, err := scaleDecimal(num, uint64(u.unit))
		switch err {
		case nil:
			return Time(v), nil
		case errOverflow:
			return 0, fmt.Errorf("duration %q overflows 2^64 ps", s)
		case errNotWhole:
			return 0, fmt.Errorf("duration %q is not a whole number of picoseconds", s)
		}
		return 0, fmt.Errorf("duration %q: %q is not a non-negative number", s, num)
	}
	return 0, fmt.Errorf("duration %q has no unit; use ps, ns, us, ms or s", s)
}

var (
	errSyntax    = errors.New("not a decimal number")
	errOverflow  = errors.New("overflows 64 bits")
	errNotWhole  = errors.New("not a whole number")
	bigTen       = big.NewInt(10)
	maxDecExpAbs = 10000 // exponents beyond this are over- or underflow for any uint64 result
)

// scaleDecimal returns num·unit computed exactly, where num is an unsigned
// decimal number: digits with an optional fraction and an optional exponent
// ("12", "1.5", ".25", "2e-3"). Floating point would turn "1.001ns" into
// 1000.9999999999999 ps.
func scaleDecimal(num string, unit uint64) (uint64, error) {
	mant, expStr, hasExp := strings.Cut(strings.ToLower(num), "e")
	intPart, frac, _ := strings.Cut(mant, ".")
	if intPart == "" && frac == "" || !allDigits(intPart) || !allDigits(frac) {
		return 0, errSyntax
	}
	exp := 0
	if hasExp {
		digits := expStr
		if strings.HasPrefix(digits, "+") || strings.HasPrefix(digits, "-") {
			digits = digits[1:]
		}
		if digits == "" || !allDigits(digits) {
			return 0, errSyntax
		}
		digits = strings.TrimLeft(digits, "0")
		if len(digits) > 5 {
			exp = maxDecExpAbs + 1
		} else if digits != "" {
			exp, _ = strconv.Atoi(digits)
		}
		if strings.HasPrefix(expStr, "-") {
			exp = -exp
		}
	}
	digits := strings.TrimLeft(intPart+frac, "0")
	if digits == "" || unit == 0 {
		return 0, nil
	}
	e10 := exp - len(frac)
	if e10 > maxDecExpAbs {
		return 0, errOverflow
	}
	if e10 < -maxDecExpAbs-len(digits) {
		return 0, errNotWhole
	}
	n, _ := new(big.Int).SetString(digits, 10)
	n.Mul(n, new(big.Int).SetUint64(unit))
	if e10 > 0 {
		if len(digits)+e10 > 60 { // more than 10^59 > 2^64
			return 0, errOverflow
		}
		n.Mul(n, new(big.Int).Exp(bigTen, big.NewInt(int64(e10)), nil))
	} else if e10 < 0 {
		var rem big.Int
		n.QuoRem(n, new(big.Int).Exp(bigTen, big.NewInt(int64(-e10)), nil), &rem)
		if rem.Sign() != 0 {
			return 0, errNotWhole
		}
	}
	if !n.IsUint64() {
		return 0, errOverflow
	}
	return n.Uint64(), nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Freq is a clock frequency in hertz.
type Freq uint64

// Common frequencies.
const (
	Hz  Freq = 1
	KHz Freq = 1000 * Hz
	MHz Freq = 1000 * KHz
	GHz Freq = 1000 * MHz
)

// CyclesToTime returns the time of the edge that ends cycle n counted from
// time 0, rounded up to the next whole picosecond. With Cycles it round-trips
// exactly: f.Cycles(f.CyclesToTime(n)) == n for every frequency below 1 THz.
func (f Freq) CyclesToTime(n uint64) Time {
	if f == 0 {
		panic("sim: CyclesToTime on a zero frequency")
	}
	q, ok := MulDivCeil(n, uint64(Second), uint64(f))
	if !ok {
		panic(fmt.Sprintf("sim: %d cycles at %d Hz overflow simulated time", n, uint64(f)))
	}
	return Time(q)
}

// BytesTime returns how long moving n bytes at bytesPerSec takes:
// ⌈n·10^12 / bytesPerSec⌉ ps, exact for any n (a 512 MiB image at 10 GB/s
// overflows 64-bit picosecond arithmetic done the obvious way).
func BytesTime(n, bytesPerSec uint64) Time {
	if bytesPerSec == 0 {
		panic("sim: BytesTime at zero bandwidth")
	}
	q, ok := MulDivCeil(n, uint64(Second), bytesPerSec)
	if !ok {
		panic(fmt.Sprintf("sim: %d bytes at %d bytes/s overflow simulated time", n, bytesPerSec))
	}
	return Time(q)
}

// MulDivCeil returns ⌈a·b/d⌉ computed exactly in 128 bits; ok is false when
// the result does not fit in 64 bits. It converts amounts to time without
// floating point: cycles at a frequency, bytes at a bandwidth. d must not be
// 0.
func MulDivCeil(a, b, d uint64) (q uint64, ok bool) {
	hi, lo := bits.Mul64(a, b)
	if hi >= d {
		return 0, false
	}
	q, r := bits.Div64(hi, lo, d)
	if r != 0 {
		if q == math.MaxUint64 {
			return 0, false
		}
		q++
	}
	return q, true
}

// Cycles returns the number of whole cycles of f completed by time t.
func (f Freq) Cycles(t Time) uint64 {
	hi, lo := bits.Mul64(uint64(t), uint64(f))
	q, _ := bits.Div64(hi, lo, uint64(Second))
	return q
}

// NextEdge returns the first clock edge at or after t.
func (f Freq) NextEdge(t Time) Time {
	n := f.Cycles(t)
	if e := f.CyclesToTime(n); e >= t {
		return e
	}
	return f.CyclesToTime(n + 1)
}

// String formats f such as "2.5GHz".
func (f Freq) String() string {
	switch {
	case f >= GHz:
		return strconv.FormatFloat(float64(f)/float64(GHz), 'f', -1, 64) + "GHz"
	case f >= MHz:
		return strconv.FormatFloat(float64(f)/float64(MHz), 'f', -1, 64) + "MHz"
	case f >= KHz:
		return strconv.FormatFloat(float64(f)/float64(KHz), 'f', -1, 64) + "kHz"
	}
	return strconv.FormatUint(uint64(f), 10) + "Hz"
}

// ParseFreq parses a frequency such as "2.5GHz", "800MHz" or "100Hz". The
// number is converted exactly and must be a whole number of hertz from 1Hz
// to 999.999999999GHz.
func ParseFreq(s string) (Freq, error) {
	str := strings.TrimSpace(s)
	for _, u := range []struct {
		suffix string
		unit   Freq
	}{{"GHz", GHz}, {"MHz", MHz}, {"kHz", KHz}, {"KHz", KHz}, {"Hz", Hz}} {
		num, ok := strings.CutSuffix(str, u.suffix)
		if !ok {
			continue
		}
		num = strings.TrimSpace(num)
		hz, err := scaleDecimal(num, uint64(u.unit))
		switch {
		case err == errSyntax || err == nil && hz == 0:
			return 0, fmt.Errorf("frequency %q: %q is not a positive number", s, num)
		case err == errOverflow || err == nil && hz >= 1e12:
			return 0, fmt.Errorf("frequency %q is out of range; must be at least 1Hz and below 1000GHz", s)
		case err == errNotWhole:
			return 0, fmt.Errorf("frequency %q is not a whole number of hertz", s)
		}
		return Freq(hz), nil
	}
	return 0, fmt.Errorf("frequency %q has no unit; use Hz, kHz, MHz or GHz", s)
}

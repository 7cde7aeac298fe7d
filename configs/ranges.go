package configs

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
)

// FormatValue writes a decoded TOML value (string, integer, float, boolean,
// array or inline table) in TOML syntax, so that "key.path=" + FormatValue(v)
// is an override that sets exactly v.
func FormatValue(raw any) string { return rawString(raw) }

// typeAt returns the Go type of the value at a dotted key path such as
// "cache.l2.size" or "vm[0].workload.footprint".
func typeAt(path string) (reflect.Type, error) {
	t := reflect.TypeOf(Config{})
	walked := ""
	for _, seg := range strings.Split(path, ".") {
		m := segmentRE.FindStringSubmatch(seg)
		if m == nil {
			return nil, fmt.Errorf("%s: not a key path; use dotted keys with [N] for array elements, such as vm[0].workload.pattern", path)
		}
		if t.Kind() != reflect.Struct || reflect.PointerTo(t).Implements(unmarshalerType) {
			return nil, fmt.Errorf("%s: %s has no key %q; it is a value, not a table", path, walked, m[1])
		}
		i, ok := field(t, m[1])
		if !ok {
			return nil, fmt.Errorf("%s: unknown key %q in %s", path, m[1], orRoot(walked))
		}
		t = t.Field(i).Type
		walked = joinPath(walked, m[1])
		for range indexRE.FindAllStringSubmatch(m[2], -1) {
			if t.Kind() != reflect.Slice {
				return nil, fmt.Errorf("%s: %s is not an array", path, walked)
			}
			t = t.Elem()
		}
	}
	return t, nil
}

func orRoot(p string) string {
	if p == "" {
		return "the top level"
	}
	return p
}

// Range is a numeric sweep range over one key: Start to Stop inclusive,
// either Step apart or Count points spaced linearly or, with Log,
// geometrically. Start, Stop and Step are TOML values in the key's own
// syntax: plain numbers, or strings with units for sizes ("64KiB", or a
// byte count), durations ("250us"), frequencies ("2GHz") and bandwidths
// ("10Gb/s"); as in a configuration, a duration, frequency or bandwidth
// needs its unit.
type Range struct {
	Start, Stop, Step any
	Count             int
	Log               bool
}

// RangeValues expands r for the key at path into override values (in
// FormatValue syntax), in order from Start to Stop. Integer-valued keys
// (counts, sizes, durations, frequencies, bandwidths) are rounded to whole
// units; a range that yields the same value twice is an error.
func RangeValues(path string, r Range) ([]string, error) {
	t, err := typeAt(path)
	if err != nil {
		return nil, err
	}
	num, format, err := numericKind(t)
	if err != nil {
		return nil, fmt.Errorf("%s: a range needs a numeric key; %w", path, err)
	}
	start, err := num(r.Start)
	if err != nil {
		return nil, fmt.Errorf("%s: range start: %w", path, err)
	}
	stop, err := num(r.Stop)
	if err != nil {
		return nil, fmt.Errorf("%s: range stop: %w", path, err)
	}
	var xs []float64
	switch {
	case r.Step != nil && r.Count != 0:
		return nil, fmt.Errorf("%s: a range takes step or count, not both", path)
	case r.Step != nil:
		if r.Log {
			return nil, fmt.Errorf("%s: a log range takes count, not step", path)
		}
		step, err := num(r.Step)
		if err != nil {
			return nil, fmt.Errorf("%s: range step: %w", path, err)
		}
		if step <= 0 || stop < start {
			return nil, fmt.Errorf("%s: a range with a step needs start <= stop and a positive step", path)
		}
		n := math.Floor((stop-start)/step*(1+1e-12)) + 1
		if n > 100000 {
			return nil, fmt.Errorf("%s: the range has %.0f values; at most 100000", path, n)
		}
		for i := 0; i < int(n); i++ {
			xs = append(xs, start+float64(i)*step)
		}
	case r.Count >= 2:
		if r.Count > 100000 {
			return nil, fmt.Errorf("%s: count %d is too large; at most 100000", path, r.Count)
		}
		if r.Log && (start <= 0 || stop <= 0) {
			return nil, fmt.Errorf("%s: a log range needs positive start and stop", path)
		}
		for i := 0; i < r.Count; i++ {
			f := float64(i) / float64(r.Count-1)
			if r.Log {
				xs = append(xs, start*math.Pow(stop/start, f))
			} else {
				xs = append(xs, start+(stop-start)*f)
			}
		}
		xs[len(xs)-1] = stop
	default:
		return nil, fmt.Errorf("%s: a range needs a positive step, or a count of at least 2", path)
	}
	out := make([]string, 0, len(xs))
	seen := map[string]bool{}
	for _, x := range xs {
		s, err := format(x)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if seen[s] {
			return nil, fmt.Errorf("%s: the range gives %s twice; use fewer points or a wider range", path, s)
		}
		seen[s] = true
		out = append(out, s)
	}
	return out, nil
}

// numericKind returns how to read a range bound for a key of type t and
// how to write a generated value back.
func numericKind(t reflect.Type) (num func(any) (float64, error), format func(float64) (string, error), err error) {
	whole := func(x float64) (uint64, error) {
		if x < 0 || x > math.MaxUint64/2 {
			return 0, fmt.Errorf("value %g is out of range", x)
		}
		return uint64(math.Round(x)), nil
	}
	// unit reads bounds with parse; only a size also takes a bare integer
	// (bytes), as in a configuration: a bare duration, frequency or
	// bandwidth would have no unit.
	unit := func(parse func(string) (uint64, error), str func(uint64) string, syntax string) {
		num = func(raw any) (float64, error) {
			switch v := raw.(type) {
			case string:
				u, err := parse(v)
				return float64(u), err
			case int64:
				if t != reflect.TypeOf(Size(0)) {
					break
				}
				if v < 0 {
					return 0, fmt.Errorf("%d is negative", v)
				}
				return float64(v), nil
			}
			return 0, fmt.Errorf("%s is not allowed; must be %s", FormatValue(raw), syntax)
		}
		format = func(x float64) (string, error) {
			u, err := whole(x)
			if err != nil {
				return "", err
			}
			return FormatValue(str(u)), nil
		}
	}
	switch t {
	case reflect.TypeOf(Size(0)):
		unit(func(s string) (uint64, error) { v, err := ParseSize(s); return uint64(v), err },
			func(u uint64) string { return Size(u).String() }, sizeSyntax)
		return num, format, nil
	case reflect.TypeOf(Duration(0)):
		unit(func(s string) (uint64, error) {
			var d Duration
			err := d.UnmarshalText([]byte(s))
			return uint64(d), err
		},
			func(u uint64) string { return Duration(u).String() }, durationSyntax)
		return num, format, nil
	case reflect.TypeOf(Frequency(0)):
		unit(func(s string) (uint64, error) {
			var f Frequency
			err := f.UnmarshalText([]byte(s))
			return uint64(f), err
		},
			func(u uint64) string { return Frequency(u).String() }, frequencySyntax)
		return num, format, nil
	case reflect.TypeOf(Bandwidth(0)):
		unit(func(s string) (uint64, error) { v, err := ParseBandwidth(s); return uint64(v), err },
			func(u uint64) string { return Bandwidth(u).String() }, bandwidthSyntax)
		return num, format, nil
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int64, reflect.Uint64:
		num = func(raw any) (float64, error) {
			if v, ok := raw.(int64); ok {
				return float64(v), nil
			}
			return 0, fmt.Errorf("%s is not an integer", FormatValue(raw))
		}
		format = func(x float64) (string, error) {
			if x < math.MinInt64/2 || x > math.MaxInt64/2 {
				return "", fmt.Errorf("value %g is out of range", x)
			}
			return strconv.FormatInt(int64(math.Round(x)), 10), nil
		}
		return num, format, nil
	case reflect.Float64:
		num = func(raw any) (float64, error) {
			switch v := raw.(type) {
			case float64:
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return 0, fmt.Errorf("%s is not allowed; must be a finite number", FormatValue(raw))
				}
				return v, nil
			case int64:
				return float64(v), nil
			}
			return 0, fmt.Errorf("%s is not a number", FormatValue(raw))
		}
		format = func(x float64) (string, error) { return tomlFloat(roundSig(x)), nil }
		return num, format, nil
	}
	return nil, nil, fmt.Errorf("its values are %s", t.Kind())
}

// roundSig rounds x to 12 significant digits, so that 0.1+0.2 prints as
// 0.3 in a generated range.
func roundSig(x float64) float64 {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(x, 'g', 12, 64), 64)
	return v
}

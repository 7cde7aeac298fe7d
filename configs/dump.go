package configs

import (
	"bytes"
	"encoding"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
)

const dumpHeader = `# twinsim configuration. Every key is optional: a missing key takes the default
# shown beside it, and a key this file does not list is an error. Ranges are inclusive.
# Sizes: bytes or B, KiB, MiB, GiB, TiB (or decimal KB, MB, GB, TB).
# Durations: ps, ns, us, ms, s. Frequencies: Hz, kHz, MHz, GHz.
# Bandwidths: B/s, KB/s, MB/s, GB/s, TB/s (decimal; a lowercase b counts bits, as in 10Gb/s).
# Override any key on the command line: --set cache.l2.ways=4 --set vm[1].workload.pattern=strided
`

// Dump writes c as TOML: tables in schema order, every key with a comment
// giving its doc, what is allowed and its default, and values in human form
// ("32KiB", "1ms", "12.8GB/s"). The output is byte-deterministic and Parse
// reads it back to c when c is valid.
func Dump(w io.Writer, c Config) error {
	var b bytes.Buffer
	b.WriteString(dumpHeader)
	dumpTable(&b, reflect.ValueOf(c), reflect.ValueOf(Default()), "")
	_, err := w.Write(b.Bytes())
	return err
}

// dumpTable writes the keys of struct v (defaults in def, a value of the same
// type), then its sub-tables and arrays of tables.
func dumpTable(b *bytes.Buffer, v, def reflect.Value, path string) {
	t := v.Type()
	for i := range t.NumField() {
		sf, f := t.Field(i), v.Field(i)
		if isTable(f) || isTableArray(f) {
			continue
		}
		fmt.Fprintf(b, "# %s%s\n", sf.Tag.Get("doc"), annotation(sf, def.Field(i)))
		fmt.Fprintf(b, "%s = %s\n", keyName(sf), tomlValue(f))
	}
	for i := range t.NumField() {
		sf, f := t.Field(i), v.Field(i)
		p := joinPath(path, keyName(sf))
		switch {
		case isTable(f):
			fmt.Fprintf(b, "\n# %s\n[%s]\n", sf.Tag.Get("doc"), p)
			dumpTable(b, f, def.Field(i), p)
		case isTableArray(f):
			fmt.Fprintf(b, "\n# %s\n", sf.Tag.Get("doc"))
			for j := range f.Len() {
				if j > 0 {
					b.WriteString("\n")
				}
				fmt.Fprintf(b, "[[%s]]\n", p)
				dumpTable(b, f.Index(j), elemDefault(f.Type().Elem()), p)
			}
		}
	}
}

func isTable(f reflect.Value) bool {
	return f.Kind() == reflect.Struct
}

func isTableArray(f reflect.Value) bool {
	return f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct
}

// annotation returns " (allowed: ...; default: ...)" for a key.
func annotation(sf reflect.StructField, def reflect.Value) string {
	var allowed []string
	if r := sf.Tag.Get("range"); r != "" {
		allowed = append(allowed, r)
	}
	if e := sf.Tag.Get("enum"); e != "" {
		allowed = append(allowed, "one of "+strings.ReplaceAll(e, ",", ", "))
	}
	if r := sf.Tag.Get("rule"); r != "" {
		allowed = append(allowed, r)
	}
	var parts []string
	if len(allowed) > 0 {
		parts = append(parts, "allowed: "+strings.Join(allowed, ", "))
	}
	parts = append(parts, "default: "+tomlValue(def))
	return " (" + strings.Join(parts, "; ") + ")"
}

// tomlValue formats a typed value as TOML; unit types become strings in
// human form.
func tomlValue(f reflect.Value) string {
	if m, ok := f.Interface().(encoding.TextMarshaler); ok {
		text, err := m.MarshalText()
		if err != nil {
			return tomlString(err.Error())
		}
		return tomlString(string(text))
	}
	switch f.Kind() {
	case reflect.String:
		return tomlString(f.String())
	case reflect.Bool:
		return strconv.FormatBool(f.Bool())
	case reflect.Int, reflect.Int64:
		return strconv.FormatInt(f.Int(), 10)
	case reflect.Uint64:
		return strconv.FormatUint(f.Uint(), 10)
	case reflect.Float64:
		return tomlFloat(f.Float())
	case reflect.Slice:
		parts := make([]string, f.Len())
		for i := range parts {
			parts[i] = tomlValue(f.Index(i))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return tomlString(fmt.Sprint(f.Interface()))
}

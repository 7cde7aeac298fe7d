package configs

import (
	"errors"
	"fmt"
	"math"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
)

// FieldError reports one bad configuration value: where it came from, its key
// path and what is wrong with it and what is allowed.
type FieldError struct {
	// Source is the file path, "embedded:NAME.toml", or "--set KEY=VALUE"
	// for an override; empty in errors from Validate.
	Source string
	// Path is the key path, such as "cache.l2.ways" or
	// "vm[1].workload.pattern"; "" for the whole file.
	Path string
	// Msg says what is wrong and what is allowed, such as
	// "0 is not allowed; must be 1..64".
	Msg string
}

// Error formats e as "SOURCE: PATH: MSG".
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.Source != "" {
		b.WriteString(e.Source + ": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// joinErrors returns nil for no errors, the error itself for one, and
// errors.Join for several (one per line).
func joinErrors(errs []*FieldError) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	list := make([]error, len(errs))
	for i, e := range errs {
		list[i] = e
	}
	return errors.Join(list...)
}

// Parse decodes a TOML configuration strictly onto Default(), applies the
// overrides in sets (each "key.path=value", in order) and validates the
// result. source names data in error messages (usually its file path).
//
// Keys missing from data keep their defaults; keys missing from a [[vm]]
// table take DefaultVM's; any [[vm]] table replaces the default VM list. An
// unknown key, a value of the wrong type or a value that fails Validate is an
// error naming the key path, the value and what is allowed; all such errors
// are reported, one per line, in a deterministic order.
//
// An override's value is parsed as a TOML value ("4", "true", "[0, 1]",
// "{size = \"1MiB\"}"); text that is not valid TOML, or a non-string where
// the key wants a plain string, is taken as a string, so backup.overflow=drop
// and run.duration=5ms work unquoted. Paths are dotted keys with [N] to pick
// an array element: vm[1].workload.pattern=strided. vm[N] with N equal to the
// number of VMs appends a DefaultVM.
func Parse(data []byte, source string, sets []string) (Config, error) {
	var tree map[string]any
	if _, err := toml.Decode(string(data), &tree); err != nil {
		return Config{}, syntaxError(source, err)
	}
	cfg := Default()
	d := &decoder{}
	d.table(tree, reflect.ValueOf(&cfg).Elem(), "")
	for _, e := range d.errs {
		e.Source = source
	}
	if len(d.errs) > 0 {
		return Config{}, joinErrors(d.errs)
	}

	type override struct{ path, source string }
	var applied []override
	for _, s := range sets {
		before := len(d.errs)
		path := d.set(&cfg, s)
		for _, e := range d.errs[before:] {
			e.Source = "--set " + s
		}
		if len(d.errs) == before {
			applied = append(applied, override{path, "--set " + s})
		}
	}
	if len(d.errs) > 0 {
		return Config{}, joinErrors(d.errs)
	}

	errs := cfg.validate()
	for _, e := range errs {
		e.Source = source
		// Blame the last override that set this key or a table holding it.
		for _, o := range applied {
			if e.Path == o.path || strings.HasPrefix(e.Path, o.path+".") || strings.HasPrefix(e.Path, o.path+"[") {
				e.Source = o.source
			}
		}
	}
	if len(errs) > 0 {
		return Config{}, joinErrors(errs)
	}
	return cfg, nil
}

// Load reads a configuration and applies overrides as Parse does. pathOrName
// is an existing file's path, or else the name of an embedded configuration
// with or without ".toml" (see Embedded); "" means the embedded "default".
// DefaultRun is the embedded configuration `twinsim run` runs without one:
// the one machine — guest programs in checkpointed VMs on the cycle-level
// cores, on the network. ("default" is every key at its default value.)
const DefaultRun = "machine"

func Load(pathOrName string, sets []string) (Config, error) {
	if pathOrName == "" {
		pathOrName = "default"
	}
	if info, err := os.Stat(pathOrName); err == nil && !info.IsDir() {
		data, err := os.ReadFile(pathOrName)
		if err != nil {
			return Config{}, fmt.Errorf("config %s: %w", pathOrName, err)
		}
		return Parse(data, pathOrName, sets)
	}
	name := strings.TrimSuffix(pathOrName, ".toml")
	data, err := EmbeddedFile(name)
	if err != nil {
		return Config{}, fmt.Errorf("config %q: no such file and no embedded configuration of that name (embedded: %s)",
			pathOrName, strings.Join(Embedded(), ", "))
	}
	return Parse(data, "embedded:"+name+".toml", sets)
}

// syntaxError wraps a TOML parse error with the source and line.
func syntaxError(source string, err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return &tomlSyntaxError{fmt.Sprintf("%s:%d: invalid TOML: %s", source, pe.Position.Line, pe.Message), err}
	}
	return &tomlSyntaxError{fmt.Sprintf("%s: invalid TOML: %v", source, err), err}
}

type tomlSyntaxError struct {
	msg string
	err error
}

func (e *tomlSyntaxError) Error() string { return e.msg }
func (e *tomlSyntaxError) Unwrap() error { return e.err }

// decoder walks a decoded TOML tree against the schema's Go types by
// reflection, assigning values and collecting errors with key paths.
type decoder struct {
	errs []*FieldError
}

func (d *decoder) fail(path, format string, args ...any) {
	d.errs = append(d.errs, &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)})
}

var unmarshalerType = reflect.TypeFor[toml.Unmarshaler]()

// keyName returns a struct field's TOML key.
func keyName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	return name
}

// field returns the index of the field of struct type t with TOML key key.
func field(t reflect.Type, key string) (int, bool) {
	for i := range t.NumField() {
		if keyName(t.Field(i)) == key {
			return i, true
		}
	}
	return 0, false
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// table decodes m onto the struct v, keys in sorted order.
func (d *decoder) table(m map[string]any, v reflect.Value, path string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		i, ok := field(v.Type(), k)
		if !ok {
			d.unknown(v.Type(), path, k)
			continue
		}
		d.value(m[k], v.Field(i), v.Type().Field(i), joinPath(path, k))
	}
}

// unknown reports key as not a field of struct type t, listing the allowed
// keys and suggesting the closest one.
func (d *decoder) unknown(t reflect.Type, path, key string) {
	allowed := make([]string, 0, t.NumField())
	for i := range t.NumField() {
		allowed = append(allowed, keyName(t.Field(i)))
	}
	sort.Strings(allowed)
	where := "at top level"
	if path != "" {
		where = "in " + path
	}
	msg := fmt.Sprintf("unknown key (allowed keys %s: %s", where, strings.Join(allowed, ", "))
	if s := suggest(key, allowed); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	d.fail(joinPath(path, key), "%s)", msg)
}

// suggest returns the allowed key nearest to key when exactly one is close.
func suggest(key string, allowed []string) string {
	best, bestDist, ties := "", math.MaxInt, 0
	for _, a := range allowed {
		dist := editDistance(strings.ToLower(key), a)
		switch {
		case dist < bestDist:
			best, bestDist, ties = a, dist, 1
		case dist == bestDist:
			ties++
		}
	}
	limit := 2
	if len(key) <= 3 {
		limit = 1
	}
	if ties != 1 || bestDist > limit {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// expected describes what a field of type t accepts, for type errors.
func expected(t reflect.Type, sf reflect.StructField) string {
	switch t.Kind() {
	case reflect.Struct:
		return "a table"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Struct {
			return "an array of tables"
		}
		return "an array of " + strings.TrimPrefix(strings.TrimPrefix(expected(t.Elem(), reflect.StructField{}), "an "), "a ") + "s"
	case reflect.String:
		if enum := sf.Tag.Get("enum"); enum != "" {
			return "a string, one of " + strings.ReplaceAll(enum, ",", ", ")
		}
		return "a string"
	case reflect.Bool:
		return "a boolean (true or false)"
	case reflect.Int, reflect.Int64, reflect.Uint64:
		return "an integer"
	case reflect.Float64:
		return "a number"
	}
	return t.String()
}

// elemDefault returns the value an array element starts from before its
// table is decoded onto it.
func elemDefault(t reflect.Type) reflect.Value {
	switch t {
	case reflect.TypeFor[VMConfig]():
		return reflect.ValueOf(DefaultVM())
	case reflect.TypeFor[ClientConfig]():
		return reflect.ValueOf(DefaultClient())
	case reflect.TypeFor[FaultConfig]():
		return reflect.ValueOf(DefaultFault())
	}
	return reflect.Zero(t)
}

// value decodes raw onto v, the field described by sf, at path.
func (d *decoder) value(raw any, v reflect.Value, sf reflect.StructField, path string) {
	if v.Addr().Type().Implements(unmarshalerType) {
		if err := v.Addr().Interface().(toml.Unmarshaler).UnmarshalTOML(raw); err != nil {
			d.fail(path, "%v", err)
		}
		return
	}
	bad := func() { d.fail(path, "%v", typeError(raw, expected(v.Type(), sf))) }
	switch v.Kind() {
	case reflect.Struct:
		m, ok := raw.(map[string]any)
		if !ok {
			bad()
			return
		}
		d.table(m, v, path)
	case reflect.Slice:
		elems, ok := asArray(raw)
		if !ok {
			bad()
			return
		}
		out := reflect.MakeSlice(v.Type(), len(elems), len(elems))
		for i, e := range elems {
			out.Index(i).Set(elemDefault(v.Type().Elem()))
			d.value(e, out.Index(i), sf, fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(out)
	case reflect.String:
		s, ok := raw.(string)
		if !ok {
			bad()
			return
		}
		v.SetString(s)
	case reflect.Bool:
		b, ok := raw.(bool)
		if !ok {
			bad()
			return
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		i, ok := raw.(int64)
		if !ok {
			bad()
			return
		}
		if v.OverflowInt(i) {
			d.fail(path, "%d is not allowed; it overflows %s", i, v.Type())
			return
		}
		v.SetInt(i)
	case reflect.Uint64:
		i, ok := raw.(int64)
		if !ok {
			bad()
			return
		}
		if i < 0 {
			if r := sf.Tag.Get("range"); r != "" {
				d.fail(path, "%d is not allowed; must be %s", i, r)
			} else {
				d.fail(path, "%d is not allowed; must be a non-negative integer", i)
			}
			return
		}
		v.SetUint(uint64(i))
	case reflect.Float64:
		switch f := raw.(type) {
		case float64:
			v.SetFloat(f)
		case int64:
			v.SetFloat(float64(f))
		default:
			bad()
		}
	default:
		d.fail(path, "internal error: field type %s is not supported by the decoder", v.Type())
	}
}

// asArray returns the elements of a TOML array or array of tables.
func asArray(raw any) ([]any, bool) {
	switch a := raw.(type) {
	case []any:
		return a, true
	case []map[string]any:
		out := make([]any, len(a))
		for i, m := range a {
			out[i] = m
		}
		return out, true
	}
	return nil, false
}

var (
	segmentRE = regexp.MustCompile(`^([A-Za-z0-9_-]+)((?:\[[0-9]+\])*)$`)
	indexRE   = regexp.MustCompile(`\[([0-9]+)\]`)
)

// set applies one "key.path=value" override to cfg and returns the
// canonical key path it set ("" when it failed).
func (d *decoder) set(cfg *Config, s string) string {
	key, text, ok := strings.Cut(s, "=")
	key = strings.TrimSpace(key)
	if !ok || key == "" {
		d.fail("", "an override must be key.path=value, such as cache.l2.ways=4")
		return ""
	}
	raw := parseValue(strings.TrimSpace(text))

	v := reflect.ValueOf(cfg).Elem()
	var sf reflect.StructField
	path := ""
	for _, seg := range strings.Split(key, ".") {
		m := segmentRE.FindStringSubmatch(seg)
		if m == nil {
			d.fail(key, "not a key path; use dotted keys with [N] for array elements, such as vm[0].workload.pattern")
			return ""
		}
		if v.Kind() != reflect.Struct || v.Addr().Type().Implements(unmarshalerType) {
			d.fail(path, "has no key %q; it is a value, not a table", m[1])
			return ""
		}
		i, found := field(v.Type(), m[1])
		if !found {
			d.unknown(v.Type(), path, m[1])
			return ""
		}
		sf = v.Type().Field(i)
		v = v.Field(i)
		path = joinPath(path, m[1])
		for _, idx := range indexRE.FindAllStringSubmatch(m[2], -1) {
			if v.Kind() != reflect.Slice {
				d.fail(path, "has no element [%s]; it is not an array", idx[1])
				return ""
			}
			n, err := strconv.Atoi(idx[1])
			switch {
			case err != nil || n > v.Len():
				d.fail(fmt.Sprintf("%s[%s]", path, idx[1]),
					"index out of range; %s has %d elements (index %d appends one)", path, v.Len(), v.Len())
				return ""
			case n == v.Len():
				v.Set(reflect.Append(v, elemDefault(v.Type().Elem())))
			}
			v = v.Index(n)
			path = fmt.Sprintf("%s[%d]", path, n)
		}
	}
	// A plain string key takes the text as written, so run.name=true names
	// the run "true".
	if v.Kind() == reflect.String && !v.Addr().Type().Implements(unmarshalerType) {
		switch raw.(type) {
		case bool, int64, float64, time.Time:
			raw = strings.TrimSpace(text)
		}
	}
	d.value(raw, v, sf, path)
	return path
}

// parseValue parses text as a TOML value, or returns it as a string when it
// is not one.
func parseValue(text string) any {
	var m map[string]any
	if _, err := toml.Decode("v = "+text, &m); err == nil && len(m) == 1 {
		if v, ok := m["v"]; ok {
			return v
		}
	}
	return text
}

// tomlType names the TOML type of a decoded value.
func tomlType(raw any) string {
	switch raw.(type) {
	case string:
		return "string"
	case int64:
		return "integer"
	case float64:
		return "float"
	case bool:
		return "boolean"
	case time.Time:
		return "datetime"
	case []any:
		return "array"
	case []map[string]any:
		return "array of tables"
	case map[string]any:
		return "table"
	}
	return fmt.Sprintf("%T", raw)
}

// formatRaw writes a decoded TOML value in TOML syntax for messages,
// shortened to about 60 characters.
func formatRaw(raw any) string {
	s := rawString(raw)
	if len(s) > 60 {
		cut := 57
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return s
}

func rawString(raw any) string {
	switch v := raw.(type) {
	case string:
		return tomlString(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return tomlFloat(v)
	case bool:
		return strconv.FormatBool(v)
	case time.Time:
		return v.Format(time.RFC3339Nano)
	case []map[string]any:
		a, _ := asArray(v)
		return rawString(a)
	case []any:
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = rawString(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = tomlKey(k) + " = " + rawString(v[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return fmt.Sprint(raw)
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

var bareKeyRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// tomlKey writes k bare when TOML allows it, quoted otherwise.
func tomlKey(k string) string {
	if bareKeyRE.MatchString(k) {
		return k
	}
	return tomlString(k)
}

// tomlFloat formats f as a TOML float that parses back to exactly f.
func tomlFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "nan"
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".en") {
		s += ".0"
	}
	return s
}

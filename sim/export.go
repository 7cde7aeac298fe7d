package sim

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// WriteJSON writes every counter, derived value and histogram as one JSON
// object nested by component path: "host0.core1.l2" becomes
// {"host0":{"core1":{"l2":{...}}}} and each statistic is a member of its
// component's object. Counters are integers, derived values numbers (null
// when NaN or infinite), histograms objects with the members unit, count,
// sum, min, max, mean, p50, p90, p99 and p999. Time series are not included
// (see SeriesList). The output is indented, with keys sorted, and depends only
// on the registered statistics and their values, so equal runs give equal
// bytes. A statistic with the same name as a child component of its own
// component is an error, as is a component path with an empty element.
func (s *Stats) WriteJSON(w io.Writer) error {
	root := &jsonNode{}
	for _, e := range s.sorted() {
		if e.kind == kindSeries {
			continue
		}
		n := root
		if e.path != "" {
			for _, part := range strings.Split(e.path, ".") {
				if part == "" {
					return fmt.Errorf("stats.json: component path %q of statistic %q has an empty element", e.path, e.name)
				}
				n = n.child(part)
			}
		}
		if n.stats == nil {
			n.stats = map[string]any{}
		}
		n.stats[e.name] = jsonStat(e)
		if n.first == "" {
			n.first = fullName(e.path, e.name)
		}
	}
	tree, err := root.tree("")
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(tree); err != nil {
		return fmt.Errorf("stats.json: %w", err)
	}
	return nil
}

// jsonNode is one component in the stats.json tree.
type jsonNode struct {
	children map[string]*jsonNode
	stats    map[string]any
	first    string // full name of the first statistic stored directly here
}

func (n *jsonNode) child(name string) *jsonNode {
	if n.children == nil {
		n.children = map[string]*jsonNode{}
	}
	c, ok := n.children[name]
	if !ok {
		c = &jsonNode{}
		n.children[name] = c
	}
	return c
}

// example returns the full name of some statistic at or below n (the same
// one every time), for error messages.
func (n *jsonNode) example(path string) string {
	if n.first != "" {
		return n.first
	}
	names := make([]string, 0, len(n.children))
	for name := range n.children {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if ex := n.children[name].example(fullName(path, name)); ex != "" {
			return ex
		}
	}
	return ""
}

// tree converts n (the component at path) to maps that encoding/json writes
// with sorted keys.
func (n *jsonNode) tree(path string) (map[string]any, error) {
	out := make(map[string]any, len(n.stats)+len(n.children))
	for name, v := range n.stats {
		out[name] = v
	}
	names := make([]string, 0, len(n.children))
	for name := range n.children {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		c := n.children[name]
		cpath := fullName(path, name)
		if _, clash := n.stats[name]; clash {
			return nil, fmt.Errorf("stats.json: statistic %q of component %q has the same name as component %q (which has statistic %q)",
				name, path, cpath, c.example(cpath))
		}
		sub, err := c.tree(cpath)
		if err != nil {
			return nil, err
		}
		out[name] = sub
	}
	return out, nil
}

func fullName(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// json returns v's JSON form: an integer, a number, or nil (null) for NaN
// and infinities, which JSON cannot represent.
func (v statNum) json() any {
	switch {
	case v.isInt:
		return json.Number(strconv.FormatUint(v.u, 10))
	case math.IsNaN(v.f) || math.IsInf(v.f, 0):
		return nil
	}
	return v.f
}

// text returns v's CSV form.
func (v statNum) text() string {
	if v.isInt {
		return strconv.FormatUint(v.u, 10)
	}
	return strconv.FormatFloat(v.f, 'g', -1, 64)
}

// jsonStat returns the JSON value of a counter, derived value or histogram.
func jsonStat(e *statEntry) any {
	switch e.kind {
	case kindCounter:
		return intNum(e.counter.Value()).json()
	case kindValue:
		return floatNum(e.value()).json()
	case kindHistogram:
		obj := map[string]any{"unit": e.unit}
		for _, f := range histFields(e.hist) {
			obj[f.name] = f.num.json()
		}
		return obj
	}
	panic(fmt.Sprintf("sim: statistic %s of kind %d has no JSON form", fullName(e.path, e.name), e.kind))
}

// WriteCSV writes every counter, derived value and histogram as one flat CSV
// table with the header "path,name,value" and rows sorted by (path, name). A
// histogram becomes the rows name.count, name.sum, name.min, name.max,
// name.mean, name.p50, name.p90, name.p99 and name.p999, which sort among
// the other rows by their full names. Integers are written
// as integers, other values with strconv's shortest 'g' format (NaN, +Inf and
// -Inf as such). Time series are not included (see SeriesList).
func (s *Stats) WriteCSV(w io.Writer) error {
	type row struct{ path, name, value string }
	var rows []row
	for _, e := range s.sorted() {
		switch e.kind {
		case kindCounter:
			rows = append(rows, row{e.path, e.name, intNum(e.counter.Value()).text()})
		case kindValue:
			rows = append(rows, row{e.path, e.name, floatNum(e.value()).text()})
		case kindHistogram:
			for _, f := range histFields(e.hist) {
				rows = append(rows, row{e.path, e.name + "." + f.name, f.num.text()})
			}
		}
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].path != rows[j].path {
			return rows[i].path < rows[j].path
		}
		return rows[i].name < rows[j].name
	})
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"path", "name", "value"}); err != nil {
		return err
	}
	for _, r := range rows {
		if err := cw.Write([]string{r.path, r.name, r.value}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// NamedSeries is a registered time series with the component path and name
// it was registered under.
type NamedSeries struct {
	Path, Name string
	Series     *Series
}

// SeriesList returns every registered time series, sorted by (Path, Name).
func (s *Stats) SeriesList() []NamedSeries {
	var out []NamedSeries
	for _, e := range s.sorted() {
		if e.kind == kindSeries {
			out = append(out, NamedSeries{Path: e.path, Name: e.name, Series: e.series})
		}
	}
	return out
}

// WriteCSV writes the series as CSV: the header "time_ps" followed by the
// column names, then one line per row in the order the rows were appended,
// the time in integer picoseconds and the values in strconv's shortest 'g'
// format.
func (ts *Series) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	rec := make([]string, 1+len(ts.cols))
	rec[0] = "time_ps"
	copy(rec[1:], ts.cols)
	if err := cw.Write(rec); err != nil {
		return err
	}
	for _, r := range ts.rows {
		rec[0] = strconv.FormatUint(uint64(r.t), 10)
		for i, v := range r.vals {
			rec[1+i] = strconv.FormatFloat(v, 'g', -1, 64)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

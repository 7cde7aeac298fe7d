package figures

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
)

var nanValue = math.NaN()

// Figure is a plot of one sweep's results.
type Figure struct {
	Name    string // short name used on the command line and in file names: "f3"
	Title   string
	Caption string // one paragraph for index.md: what is shown and what to look for
	Sweep   string // embedded sweep that produces the data
	Cols    int    // panels per row (1 when 0)
	Panels  []Panel
}

// Panel is one plot of a figure.
type Panel struct {
	Title  string
	Where  map[string]string // only summary rows with these axis values
	X      XAxis
	Y      YAxis
	Series []Series
}

// XAxis takes x values from one sweep axis, or (Key empty) from what the
// panel's series measure: quantile metrics or the time of a trace.
type XAxis struct {
	Key   string                              // the sweep axis; "" for quantile and trace panels
	Scale float64                             // without Key: x = the measured value × Scale (1 when 0)
	Label string                              // axis label, with its unit
	Value func(label string) (float64, error) // converts an axis value as written ("250us") to x; nil parses a plain number
	Log   bool
	Tick  func(label string) string // tick label for an axis value; nil writes it as the sweep does
}

// YAxis describes the y axis.
type YAxis struct {
	Label string
	Log   bool
	Base2 bool                 // log ticks at powers of two (bytes)
	Scale float64              // y = metric × Scale (1 when 0)
	Ticks func(float64) string // tick label format; nil for plain numbers
	// Value, if set, turns a point's metric into its y (after Scale),
	// knowing its x axis value: a rate from a time, say.
	Value func(xLabel string, metric float64) float64
}

// Series is one line, or one line per value of an axis when By is set.
type Series struct {
	Label  string // legend text; with By, "%s" is replaced by the axis value
	Metric string
	By     string   // an axis whose values each make a line
	Only   []string // with By: only these values (all when empty)
	Dashed bool     // a reference line
	// RelativeTo, if set, divides each point by the metric of the point
	// whose axis values are the same except these (a baseline such as
	// {"host.page_size": "4KiB"}): a slowdown rather than a value.
	RelativeTo map[string]string

	// Quantiles, if set, draws a distribution instead: for the one summary
	// row that matches the panel's Where, Match and By value, a point per
	// quantile at x = its metric, y = its fraction (a CDF).
	Quantiles []Quantile
	// Trace, if set, draws a time series each run writes: for the summary
	// row that matches, the first seed's run's file, x = its time.
	Trace *Trace
	// Match keeps only the summary rows with these axis values (with
	// Quantiles or Trace, it must leave exactly one per line).
	Match map[string]string
	// Reference, if set, draws measurements made outside twinsim instead
	// of a metric: at each x value of the panel's rows, the y it returns
	// (none: no point there).
	Reference func(xLabel string) (float64, bool)
}

// Quantile is one point of a distribution: Metric is the value below which
// a fraction Q of the samples lie.
type Quantile struct {
	Metric string
	Q      float64
}

// Trace is a column of a time-series CSV in a run's directory (a file such
// as series-host0.buffered.occupancy.csv, whose first column is time_ps).
type Trace struct {
	File, Column string
}

// line is one drawn line: its legend label and its points.
type line struct {
	label   string
	dashed  bool
	noMarks bool // a dense trace: no point markers or error bars
	pts     []point
}

type point struct {
	x, y, ci float64
	n        int
	xLabel   string
}

// check reports a figure specification that does not fit the summary.
func (f *Figure) check(s *Summary) error {
	for pi, p := range f.Panels {
		for k := range p.Where {
			if !s.hasAxis(k) {
				return fmt.Errorf("figure %s panel %d: the sweep has no axis %q", f.Name, pi+1, k)
			}
		}
		if p.X.Key != "" && !s.hasAxis(p.X.Key) {
			return fmt.Errorf("figure %s panel %d: the sweep has no axis %q for x", f.Name, pi+1, p.X.Key)
		}
		for _, se := range p.Series {
			measured := se.Quantiles != nil || se.Trace != nil
			if measured != (p.X.Key == "") {
				return fmt.Errorf("figure %s panel %d: series %q: quantile and trace series need a panel without an x axis key, and only they", f.Name, pi+1, se.Label)
			}
			for k := range se.Match {
				if !s.hasAxis(k) {
					return fmt.Errorf("figure %s panel %d: the sweep has no axis %q", f.Name, pi+1, k)
				}
			}
			for _, q := range se.Quantiles {
				if !s.hasMetric(q.Metric) {
					return fmt.Errorf("figure %s panel %d: the sweep reports no metric %q", f.Name, pi+1, q.Metric)
				}
			}
			if se.Trace != nil && s.points == nil {
				return fmt.Errorf("figure %s panel %d: a trace needs the sweep's run directories", f.Name, pi+1)
			}
			if measured {
				continue
			}
			if !s.hasMetric(se.Metric) {
				return fmt.Errorf("figure %s panel %d: the sweep reports no metric %q", f.Name, pi+1, se.Metric)
			}
			if se.By != "" && !s.hasAxis(se.By) {
				return fmt.Errorf("figure %s panel %d: the sweep has no axis %q for series", f.Name, pi+1, se.By)
			}
		}
	}
	return nil
}

// lines extracts the panel's lines from the summary, each sorted by x.
func (p *Panel) lines(s *Summary) ([]line, error) {
	scale := p.Y.Scale
	if scale == 0 {
		scale = 1
	}
	var out []line
	for _, se := range p.Series {
		byVals := []string{""}
		if se.By != "" {
			byVals = s.values(se.By)
			if len(se.Only) > 0 {
				byVals = se.Only
			}
		}
		for _, bv := range byVals {
			l := line{label: se.Label, dashed: se.Dashed}
			if se.By != "" {
				l.label = fmt.Sprintf(se.Label, bv)
			}
			if se.Quantiles != nil || se.Trace != nil {
				ml, err := p.measured(s, se, bv, l, scale)
				if err != nil {
					return nil, err
				}
				out = append(out, ml)
				continue
			}
			for _, r := range s.Rows {
				if !matches(r, p.Where) || !matches(r, se.Match) || se.By != "" && r.Labels[se.By] != bv {
					continue
				}
				xl := r.Labels[p.X.Key]
				x, err := p.X.value(xl)
				if err != nil {
					return nil, fmt.Errorf("x value %q of %s: %w", xl, p.X.Key, err)
				}
				if math.IsNaN(x) {
					continue // not this panel's (the x axis does not place it)
				}
				y, ci := r.Mean[se.Metric]*scale, r.CI95[se.Metric]*scale
				if se.Reference != nil {
					v, ok := se.Reference(xl)
					if !ok {
						continue
					}
					y, ci = v, nanValue
				} else if p.Y.Value != nil {
					if y0 := y; y0 != 0 {
						y = p.Y.Value(xl, y0)
						ci *= y / y0
					}
				}
				if se.RelativeTo != nil {
					ref, ok := s.row(r, se.RelativeTo)
					if !ok {
						return nil, fmt.Errorf("series %q: no baseline point for %v with %v", se.Label, r.Labels, se.RelativeTo)
					}
					base := ref.Mean[se.Metric] * scale
					y, ci = y/base, ci/base
				}
				if math.IsNaN(y) || p.Y.Log && y <= 0 || p.X.Log && x <= 0 {
					continue // nothing to draw on this scale
				}
				l.pts = append(l.pts, point{x: x, y: y, ci: ci, n: r.N, xLabel: xl})
			}
			sort.SliceStable(l.pts, func(i, j int) bool { return l.pts[i].x < l.pts[j].x })
			if len(l.pts) > 0 {
				out = append(out, l)
			}
		}
	}
	return out, nil
}

// measured builds a quantile or trace line for the row matching the panel,
// the series and the By value bv.
func (p *Panel) measured(s *Summary, se Series, bv string, l line, yScale float64) (line, error) {
	var rows []SummaryRow
	for _, r := range s.Rows {
		if matches(r, p.Where) && matches(r, se.Match) && (se.By == "" || r.Labels[se.By] == bv) {
			rows = append(rows, r)
		}
	}
	if len(rows) != 1 {
		return l, fmt.Errorf("series %q: %d summary rows match %v %v; want exactly one", l.label, len(rows), p.Where, se.Match)
	}
	r := rows[0]
	xScale := p.X.Scale
	if xScale == 0 {
		xScale = 1
	}
	if se.Trace == nil {
		for _, q := range se.Quantiles {
			l.pts = append(l.pts, point{x: r.Mean[q.Metric] * xScale, y: q.Q * yScale, ci: nanValue, n: r.N, xLabel: q.Metric})
		}
		sort.SliceStable(l.pts, func(i, j int) bool { return l.pts[i].x < l.pts[j].x })
		return l, nil
	}
	dir, ok := s.pointDir(r.Labels)
	if !ok {
		return l, fmt.Errorf("series %q: no run directory for %v", l.label, r.Labels)
	}
	ts, err := readTrace(filepath.Join(dir, se.Trace.File), se.Trace.Column)
	if err != nil {
		return l, fmt.Errorf("series %q: %w", l.label, err)
	}
	l.noMarks = true
	for _, tv := range ts {
		l.pts = append(l.pts, point{x: tv[0] * xScale, y: tv[1] * yScale, ci: nanValue, n: 1})
	}
	return l, nil
}

// readTrace reads the time_ps column and column col of a time-series CSV.
func readTrace(path, col string) ([][2]float64, error) {
	recs, err := readCSV(path)
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 || recs[0][0] != "time_ps" {
		return nil, fmt.Errorf("%s: not a time series (want a time_ps column first)", path)
	}
	c := slices.Index(recs[0], col)
	if c < 0 {
		return nil, fmt.Errorf("%s: no column %q (has %s)", path, col, strings.Join(recs[0], ", "))
	}
	out := make([][2]float64, 0, len(recs)-1)
	for i, rec := range recs[1:] {
		t, err1 := strconv.ParseFloat(rec[0], 64)
		v, err2 := strconv.ParseFloat(rec[c], 64)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%s: line %d: not numbers", path, i+2)
		}
		out = append(out, [2]float64{t, v})
	}
	return out, nil
}

// row returns the summary row with r's axis values except those in with.
func (s *Summary) row(r SummaryRow, with map[string]string) (SummaryRow, bool) {
next:
	for _, o := range s.Rows {
		for _, ax := range s.Axes {
			want := r.Labels[ax]
			if v, ok := with[ax]; ok {
				want = v
			}
			if o.Labels[ax] != want {
				continue next
			}
		}
		return o, true
	}
	return SummaryRow{}, false
}

func matches(r SummaryRow, where map[string]string) bool {
	for k, v := range where {
		if r.Labels[k] != v {
			return false
		}
	}
	return true
}

func (x XAxis) value(label string) (float64, error) {
	if x.Value != nil {
		return x.Value(label)
	}
	return strconv.ParseFloat(label, 64)
}

// dataCSV returns the numbers a figure plots: one row per drawn point.
func (f *Figure) dataCSV(s *Summary) ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"panel", "series", "x_label", "x", "y", "ci95", "n"})
	for _, p := range f.Panels {
		lines, err := p.lines(s)
		if err != nil {
			return nil, err
		}
		for _, l := range lines {
			for _, pt := range l.pts {
				ci := ""
				if !math.IsNaN(pt.ci) {
					ci = strconv.FormatFloat(pt.ci, 'g', 10, 64)
				}
				w.Write([]string{p.Title, l.label, pt.xLabel, strconv.FormatFloat(pt.x, 'g', 10, 64),
					strconv.FormatFloat(pt.y, 'g', 10, 64), ci, strconv.Itoa(pt.n)})
			}
		}
	}
	w.Flush()
	return b.Bytes(), w.Error()
}

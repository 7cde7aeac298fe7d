package figures

import (
	"encoding/csv"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Summary is a sweep's summary.csv: one row per combination of axis
// values, with each metric's mean and 95 % confidence half-width over
// seeds.
type Summary struct {
	Axes    []string // axis keys, in column order
	Metrics []string // metric names
	Rows    []SummaryRow
	source  string
	points  []pointRun // the sweep's run directories, when known (SetPoints)
}

// pointRun is one run of the sweep: its axis values, seed and directory.
type pointRun struct {
	labels map[string]string
	seed   uint64
	dir    string
}

// SetPoints tells the summary where the sweep's runs are: for each, its
// axis values (keyed as the summary's axes), seed and directory. Trace
// series read their time series from there.
func (s *Summary) SetPoints(labels []map[string]string, seeds []uint64, dirs []string) {
	s.points = s.points[:0]
	for i := range labels {
		s.points = append(s.points, pointRun{labels[i], seeds[i], dirs[i]})
	}
}

// pointDir returns the directory of the lowest-seeded run with the given
// axis values.
func (s *Summary) pointDir(labels map[string]string) (string, bool) {
	best, found := pointRun{}, false
	for _, p := range s.points {
		if matches(SummaryRow{Labels: p.labels}, labels) && (!found || p.seed < best.seed) {
			best, found = p, true
		}
	}
	return best.dir, found
}

// SummaryRow is one combination of axis values.
type SummaryRow struct {
	Labels map[string]string // axis key → value as written
	N      int               // successful points
	Mean   map[string]float64
	CI95   map[string]float64 // NaN when undefined (fewer than two seeds)
}

// ReadSummary reads path, a summary.csv written by a sweep.
func ReadSummary(path string) (*Summary, error) {
	recs, err := readCSV(path)
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s: empty file", path)
	}
	head := recs[0]
	s := &Summary{source: path}
	nCol := -1
	for i, h := range head {
		if h == "n" {
			nCol = i
			break
		}
		s.Axes = append(s.Axes, h)
	}
	if nCol < 0 || nCol+2 > len(head) || head[nCol+1] != "failed" || (len(head)-nCol-2)%3 != 0 {
		return nil, fmt.Errorf("%s: not a sweep summary (want axis columns, n, failed, then metric .mean/.std/.ci95 triples)", path)
	}
	for i := nCol + 2; i < len(head); i += 3 {
		m, ok := strings.CutSuffix(head[i], ".mean")
		if !ok || head[i+1] != m+".std" || head[i+2] != m+".ci95" {
			return nil, fmt.Errorf("%s: column %d: want %s.mean, .std, .ci95", path, i+1, m)
		}
		s.Metrics = append(s.Metrics, m)
	}
	for li, rec := range recs[1:] {
		r := SummaryRow{Labels: map[string]string{}, Mean: map[string]float64{}, CI95: map[string]float64{}}
		for i, a := range s.Axes {
			r.Labels[a] = rec[i]
		}
		if r.N, err = strconv.Atoi(rec[nCol]); err != nil {
			return nil, fmt.Errorf("%s: line %d: n %q is not an integer", path, li+2, rec[nCol])
		}
		for mi, m := range s.Metrics {
			c := nCol + 2 + 3*mi
			r.Mean[m] = parseCell(rec[c])
			r.CI95[m] = parseCell(rec[c+2])
		}
		s.Rows = append(s.Rows, r)
	}
	return s, nil
}

// parseCell reads a number; an empty cell (undefined) is NaN.
func parseCell(s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nanValue
	}
	return v
}

// values returns the distinct values of axis key in row order.
func (s *Summary) values(key string) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range s.Rows {
		v := r.Labels[key]
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

func (s *Summary) hasAxis(key string) bool {
	for _, a := range s.Axes {
		if a == key {
			return true
		}
	}
	return false
}

func (s *Summary) hasMetric(m string) bool {
	for _, x := range s.Metrics {
		if x == m {
			return true
		}
	}
	return false
}

// readCSV reads every record of the CSV file at path.
func readCSV(path string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return recs, nil
}

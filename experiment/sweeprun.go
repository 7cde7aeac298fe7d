package experiment

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Files of a sweep directory.
const (
	sweepTextFile = "sweep.toml"    // the sweep file as given
	sweepMetaFile = "sweep.json"    // its identity and point count
	resultsFile   = "results.csv"   // one row per point
	summaryFile   = "summary.csv"   // per combination of axis values, over seeds
	pointsDir     = "points"        // one run directory per point
	errorFile     = "error.txt"     // in the directory of a failed point
	oversFile     = "overrides.txt" // in the directory of a failed point: its overrides
)

// Shard selects the points of slice K of N (1-based): those whose index i
// has i mod N == K-1.
type Shard struct{ K, N int }

// ParseShard parses "k/n".
func ParseShard(s string) (Shard, error) {
	ks, ns, ok := strings.Cut(s, "/")
	k, err1 := strconv.Atoi(ks)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || n < 1 || k < 1 || k > n {
		return Shard{}, fmt.Errorf("shard %q is not allowed; must be k/n with 1 <= k <= n, such as 2/8", s)
	}
	return Shard{k, n}, nil
}

func (sh Shard) all() bool { return sh.N <= 1 }

func (sh Shard) has(i int) bool { return sh.all() || i%sh.N == sh.K-1 }

// Progress receives sweep progress; a progress bar implements it.
type Progress interface {
	// Start announces the number of points to run (points already done are
	// not counted).
	Start(total int)
	// Done reports one finished point and whether it failed.
	Done(failed bool)
	// Finish ends the display.
	Finish()
}

// SweepOptions control how a sweep runs; none of them changes its results.
type SweepOptions struct {
	Out      string // sweep directory
	Jobs     int    // parallel runs; 0 means the number of CPUs
	Shard    Shard  // zero value: every point
	Resume   bool   // complete an interrupted sweep in Out
	Progress Progress
}

// SweepReport says what a sweep did.
type SweepReport struct {
	Points  int // points in this shard
	Ran     int // points run now
	Skipped int // points already complete in Out
	Failed  int // points (run now or before) that failed
	Summary bool
}

// sweepMeta is sweep.json: the sweep's identity and everything needed to
// enumerate its points again without the original files (merge).
type sweepMeta struct {
	Name     string   `json:"name"`
	ID       string   `json:"sweep_id"`
	Quick    bool     `json:"quick"`
	Points   int      `json:"points"`
	Shard    string   `json:"shard,omitempty"`
	Source   string   `json:"source"`
	BaseName string   `json:"base_source"`
	Base     string   `json:"base_toml"`
	Extra    []string `json:"extra_sets,omitempty"`
}

// RunSweep runs the points of s (or of one shard) that are not already in
// opt.Out, in parallel, each in its own engine, and writes each point's run
// directory atomically under Out/points/. It then writes Out/results.csv
// (the shard's points) and, when the directory holds every point of the
// sweep, Out/summary.csv. A point that fails is recorded, not fatal:
// SweepReport.Failed counts them.
func RunSweep(s *Sweep, opt SweepOptions) (SweepReport, error) {
	var rep SweepReport
	if opt.Out == "" {
		return rep, fmt.Errorf("sweep %s: no output directory", s.Name)
	}
	pts := s.Points()
	// The source is recorded by file name only, so that shards launched
	// from different directories merge into the bytes of one run.
	meta := sweepMeta{Name: s.Name, ID: s.ID(), Quick: s.quick, Points: len(pts), Source: filepath.Base(s.source),
		BaseName: s.baseName, Base: string(s.base), Extra: s.extra}
	if !opt.Shard.all() {
		meta.Shard = fmt.Sprintf("%d/%d", opt.Shard.K, opt.Shard.N)
	}
	if err := prepareSweepDir(opt.Out, s, meta, opt.Resume); err != nil {
		return rep, err
	}
	var todo []Point
	for _, p := range pts {
		if !opt.Shard.has(p.Index) {
			continue
		}
		rep.Points++
		if _, err := os.Stat(filepath.Join(opt.Out, pointsDir, p.Name)); err == nil {
			rep.Skipped++
			continue
		}
		todo = append(todo, p)
	}
	jobs := opt.Jobs
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	jobs = min(jobs, max(len(todo), 1))
	if opt.Progress != nil {
		opt.Progress.Start(len(todo))
	}
	work := make(chan Point)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				failed, err := runPoint(opt.Out, p)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				rep.Ran++
				if opt.Progress != nil {
					opt.Progress.Done(failed)
				}
				mu.Unlock()
			}
		}()
	}
	for _, p := range todo {
		mu.Lock()
		stop := firstErr != nil
		mu.Unlock()
		if stop {
			break
		}
		work <- p
	}
	close(work)
	wg.Wait()
	if opt.Progress != nil {
		opt.Progress.Finish()
	}
	if firstErr != nil {
		return rep, firstErr
	}
	complete, failed, err := writeResults(opt.Out, s, pts, opt.Shard)
	rep.Failed, rep.Summary = failed, complete
	return rep, err
}

// prepareSweepDir creates out, or checks that it holds this sweep, and
// removes temporary directories left by an interrupted run.
func prepareSweepDir(out string, s *Sweep, meta sweepMeta, resume bool) error {
	if err := os.MkdirAll(filepath.Join(out, pointsDir), 0o755); err != nil {
		return err
	}
	old, err := readSweepMeta(out)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return err
	case old.ID != meta.ID:
		return fmt.Errorf("%s holds results of another sweep (%s, id %s); use another output directory", out, old.Name, old.ID)
	case !resume:
		return fmt.Errorf("%s already holds results of sweep %s; pass --resume to complete it, or use another output directory", out, s.Name)
	case old.Shard != meta.Shard:
		return fmt.Errorf("%s holds shard %q of sweep %s, not %q", out, old.Shard, s.Name, meta.Shard)
	}
	if err := removeTemps(out); err != nil {
		return err
	}
	if err := WriteFileAtomic(filepath.Join(out, sweepTextFile), s.text); err != nil {
		return err
	}
	return writeSweepMeta(out, meta)
}

// removeTemps removes what an interrupted run left half written: every
// dot entry under out/points/ (temporary point directories), and in out the
// temporary files of WriteFileAtomic for the sweep's own files (out may be
// a directory that also holds other dot files).
func removeTemps(out string) error {
	entries, err := os.ReadDir(filepath.Join(out, pointsDir))
	if err != nil {
		return err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			if err := os.RemoveAll(filepath.Join(out, pointsDir, e.Name())); err != nil {
				return err
			}
		}
	}
	entries, err = os.ReadDir(out)
	if err != nil {
		return err
	}
	for _, e := range entries {
		for _, f := range []string{sweepTextFile, sweepMetaFile, resultsFile, summaryFile} {
			if strings.HasPrefix(e.Name(), "."+f+".tmp-") && e.Type().IsRegular() {
				if err := os.Remove(filepath.Join(out, e.Name())); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func readSweepMeta(dir string) (sweepMeta, error) {
	var m sweepMeta
	data, err := os.ReadFile(filepath.Join(dir, sweepMetaFile))
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("%s: %w", filepath.Join(dir, sweepMetaFile), err)
	}
	return m, nil
}

func writeSweepMeta(dir string, m sweepMeta) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(dir, sweepMetaFile), append(data, '\n'))
}

// PointDir returns the run directory of point p of a sweep written to out.
func PointDir(out string, p Point) string { return filepath.Join(out, pointsDir, p.Name) }

// runPoint runs one point and writes its directory. A failure of the point
// itself (an invalid combination, a run error, a twinsim panic) is written
// as the point's result and reported as failed; only a failure to write
// files is an error.
func runPoint(out string, p Point) (failed bool, err error) {
	root := filepath.Join(out, pointsDir)
	if p.Err != nil {
		return true, writeFailedPoint(root, p, p.Err.Error())
	}
	res, runErr := runRecovered(p)
	if runErr != nil {
		return true, writeFailedPoint(root, p, runErr.Error())
	}
	if res.Name() != p.Name {
		panic(fmt.Sprintf("experiment: point %d is named %s but its run %s", p.Index, p.Name, res.Name()))
	}
	_, err = res.WriteDir(root)
	return false, err
}

func runRecovered(p Point) (res *Result, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error (a twinsim bug; please report it with this point's overrides): %v\n%s", r, debug.Stack())
		}
	}()
	return Run(p.Config, Options{})
}

// writeFailedPoint writes a failed point's directory: its overrides and the
// error.
func writeFailedPoint(root string, p Point, msg string) error {
	tmp, err := os.MkdirTemp(root, "."+p.Name+".tmp-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.WriteFile(filepath.Join(tmp, oversFile), []byte(strings.Join(p.Sets, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(tmp, errorFile), []byte(strings.TrimRight(msg, "\n")+"\n"), 0o644); err != nil {
		return err
	}
	return publishDir(tmp, filepath.Join(root, p.Name))
}

// pointResult is what a finished point left in its directory.
type pointResult struct {
	present bool
	failed  bool
	err     string
	stats   map[string]string // "path.name" → value as written in stats.csv
}

func readPoint(dir string) (pointResult, error) {
	if _, err := os.Stat(dir); err != nil {
		return pointResult{}, nil
	}
	if msg, err := os.ReadFile(filepath.Join(dir, errorFile)); err == nil {
		return pointResult{present: true, failed: true, err: strings.TrimSpace(string(msg))}, nil
	}
	f, err := os.Open(filepath.Join(dir, "stats.csv"))
	if err != nil {
		return pointResult{}, fmt.Errorf("point %s is incomplete: %w", dir, err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return pointResult{}, fmt.Errorf("%s/stats.csv: %w", dir, err)
	}
	if len(rows) == 0 || len(rows[0]) != 3 {
		return pointResult{}, fmt.Errorf("%s/stats.csv: no path,name,value header", dir)
	}
	r := pointResult{present: true, stats: make(map[string]string, len(rows))}
	for _, row := range rows[1:] {
		r.stats[row[0]+"."+row[1]] = row[2]
	}
	return r, nil
}

// writeResults writes results.csv for the shard's points and, when the
// directory holds every point, summary.csv. It returns whether the sweep is
// complete and how many of the shard's points failed.
func writeResults(out string, s *Sweep, pts []Point, sh Shard) (complete bool, failed int, err error) {
	results := make([]pointResult, len(pts))
	complete = true
	for i, p := range pts {
		r, err := readPoint(filepath.Join(out, pointsDir, p.Name))
		if err != nil {
			return false, 0, err
		}
		results[i] = r
		if !r.present {
			complete = false
		}
		if sh.has(p.Index) && r.failed {
			failed++
		}
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	head := []string{"point"}
	for _, ax := range s.Axes {
		head = append(head, ax.Key)
	}
	head = append(head, "seed", "status")
	head = append(head, s.Metrics...)
	head = append(head, "error")
	w.Write(head)
	for i, p := range pts {
		r := results[i]
		if !sh.has(p.Index) || !r.present {
			continue
		}
		row := []string{strconv.Itoa(p.Index)}
		row = append(row, p.Labels...)
		row = append(row, strconv.FormatUint(p.Seed, 10))
		if r.failed {
			row = append(row, "failed")
			for range s.Metrics {
				row = append(row, "")
			}
			row = append(row, firstLine(r.err))
		} else {
			row = append(row, "ok")
			for _, m := range s.Metrics {
				row = append(row, metricValue(r.stats, m))
			}
			row = append(row, "")
		}
		w.Write(row)
	}
	w.Flush()
	if err := WriteFileAtomic(filepath.Join(out, resultsFile), b.Bytes()); err != nil {
		return false, 0, err
	}
	if complete {
		if err := WriteFileAtomic(filepath.Join(out, summaryFile), summarize(s, pts, results)); err != nil {
			return false, 0, err
		}
	}
	return complete, failed, nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// metricValue finds metric m in a point's stats.csv map: "a.b.c.name" with
// the histogram-field forms "a.b.hist.p99" stored under the same key.
func metricValue(stats map[string]string, m string) string {
	if v, ok := stats[m]; ok {
		return v
	}
	return ""
}

// summarize aggregates the successful points of each combination of axis
// values over their seeds: n, and per metric the mean, the sample standard
// deviation and the half-width of the 95 % confidence interval of the mean
// (Student's t), empty when undefined.
func summarize(s *Sweep, pts []Point, results []pointResult) []byte {
	type group struct {
		labels []string
		vals   [][]float64 // per metric
		n      int
		failed int
	}
	var order []string
	groups := map[string]*group{}
	for i, p := range pts {
		key := strings.Join(p.Labels, "\x00")
		g, ok := groups[key]
		if !ok {
			g = &group{labels: p.Labels, vals: make([][]float64, len(s.Metrics))}
			groups[key] = g
			order = append(order, key)
		}
		r := results[i]
		if r.failed {
			g.failed++
			continue
		}
		g.n++
		for mi, m := range s.Metrics {
			if v, err := strconv.ParseFloat(metricValue(r.stats, m), 64); err == nil {
				g.vals[mi] = append(g.vals[mi], v)
			}
		}
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	head := []string{}
	for _, ax := range s.Axes {
		head = append(head, ax.Key)
	}
	head = append(head, "n", "failed")
	for _, m := range s.Metrics {
		head = append(head, m+".mean", m+".std", m+".ci95")
	}
	w.Write(head)
	for _, key := range order {
		g := groups[key]
		row := append([]string(nil), g.labels...)
		row = append(row, strconv.Itoa(g.n), strconv.Itoa(g.failed))
		for mi := range s.Metrics {
			mean, sd, ci := meanCI(g.vals[mi])
			row = append(row, fmtFloat(mean), fmtFloat(sd), fmtFloat(ci))
		}
		w.Write(row)
	}
	w.Flush()
	return b.Bytes()
}

// meanCI returns the mean, sample standard deviation and 95 % confidence
// half-width of xs; NaN where undefined (no samples; one sample for the
// deviation and the interval).
func meanCI(xs []float64) (mean, sd, ci float64) {
	switch len(xs) {
	case 0:
		return math.NaN(), math.NaN(), math.NaN()
	case 1:
		return xs[0], math.NaN(), math.NaN()
	}
	mean, sd = stat.MeanStdDev(xs, nil)
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(len(xs) - 1)}.Quantile(0.975)
	return mean, sd, t * sd / math.Sqrt(float64(len(xs)))
}

func fmtFloat(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'g', 10, 64)
}

// MergeSweeps joins sweep directories (shards of one sweep, or partial
// runs) into out: the point directories are copied, and results.csv and
// summary.csv are written as an unsharded run of the whole sweep writes
// them. Every point must be present in some input.
func MergeSweeps(out string, inputs []string) (SweepReport, error) {
	var rep SweepReport
	if len(inputs) == 0 {
		return rep, fmt.Errorf("merge: no input directories")
	}
	var text []byte
	var meta sweepMeta
	for i, in := range inputs {
		m, err := readSweepMeta(in)
		if err != nil {
			return rep, fmt.Errorf("merge: %s is not a sweep directory: %w", in, err)
		}
		t, err := os.ReadFile(filepath.Join(in, sweepTextFile))
		if err != nil {
			return rep, fmt.Errorf("merge: %w", err)
		}
		if i == 0 {
			text, meta = t, m
		} else if m.ID != meta.ID || !bytes.Equal(t, text) {
			return rep, fmt.Errorf("merge: %s holds sweep %s (id %s) but %s holds %s (id %s)", in, m.Name, m.ID, inputs[0], meta.Name, meta.ID)
		}
	}
	// The sweep is parsed again from the copies in the input, its base
	// included, so merging needs none of the original files.
	s, err := parseSweep(text, meta.Source, meta.Quick, func(string) ([]byte, string, error) {
		return []byte(meta.Base), meta.BaseName, nil
	})
	if err != nil {
		return rep, fmt.Errorf("merge: %w", err)
	}
	if err := s.withExtra(meta.Extra); err != nil {
		return rep, fmt.Errorf("merge: %w", err)
	}
	if s.ID() != meta.ID {
		return rep, fmt.Errorf("merge: %s: sweep id %s does not match its sweep.toml (%s)", inputs[0], meta.ID, s.ID())
	}
	pts := s.Points()
	meta.Shard = ""
	if old, err := readSweepMeta(out); err == nil && old.ID != meta.ID {
		return rep, fmt.Errorf("merge: %s holds results of another sweep (%s, id %s)", out, old.Name, old.ID)
	}
	// Find every point's source before writing anything, so that a merge
	// with a shard missing leaves out as it was.
	src := make([]string, len(pts))
	var missing []string
	for i, p := range pts {
		rep.Points++
		if _, err := os.Stat(filepath.Join(out, pointsDir, p.Name)); err == nil {
			rep.Skipped++
			continue
		}
		for _, in := range inputs {
			if _, err := os.Stat(filepath.Join(in, pointsDir, p.Name)); err == nil {
				src[i] = filepath.Join(in, pointsDir, p.Name)
				break
			}
		}
		if src[i] == "" {
			missing = append(missing, fmt.Sprintf("%d (%s)", p.Index, p.Name))
		}
	}
	if len(missing) > 0 {
		// In point order, and not thousands of them for a missing shard.
		list := strings.Join(missing[:min(len(missing), 20)], ", ")
		if len(missing) > 20 {
			list += fmt.Sprintf(", and %d more", len(missing)-20)
		}
		return rep, fmt.Errorf("merge: %d of %d points are in none of the inputs (is a shard missing?): %s", len(missing), len(pts), list)
	}
	if err := os.MkdirAll(filepath.Join(out, pointsDir), 0o755); err != nil {
		return rep, err
	}
	if err := removeTemps(out); err != nil {
		return rep, err
	}
	for i, p := range pts {
		if src[i] == "" {
			continue
		}
		if err := copyDir(src[i], filepath.Join(out, pointsDir, p.Name)); err != nil {
			return rep, fmt.Errorf("merge: %w", err)
		}
		rep.Ran++
	}
	if err := WriteFileAtomic(filepath.Join(out, sweepTextFile), text); err != nil {
		return rep, err
	}
	if err := writeSweepMeta(out, meta); err != nil {
		return rep, err
	}
	complete, failed, err := writeResults(out, s, pts, Shard{})
	rep.Failed, rep.Summary = failed, complete
	return rep, err
}

// copyDir copies the regular files of src into a new directory dst,
// atomically (temporary directory and rename).
func copyDir(src, dst string) error {
	tmp, err := os.MkdirTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	entries, err := os.ReadDir(src)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		if err := copyFile(filepath.Join(src, e.Name()), filepath.Join(tmp, e.Name())); err != nil {
			return err
		}
	}
	return publishDir(tmp, dst)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

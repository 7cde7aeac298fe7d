package figures

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/twinsim/twinsim/experiment"
)

// Options control Generate.
type Options struct {
	Out  string // output directory: figures, their CSVs, index.md and sweeps/
	Full bool   // the sweeps' full variants and print resolution; quick variants otherwise
	Jobs int    // parallel sweep points; 0 means every CPU
	// Progress, if not nil, returns a progress display for a sweep.
	Progress func(label string) experiment.Progress
	// Log, if not nil, receives one line per sweep and figure.
	Log func(format string, args ...any)
}

// Output names the files written for one figure.
type Output struct {
	Figure         *Figure
	PNG, SVG, CSV  string
	SweepDir       string
	SweepCommand   string
	FigureCommand  string
	Points, Reused int
	sweepRel       string // SweepDir relative to the output directory, for index.md
}

// Generate makes the named figures (all of them when names is empty): it
// runs the sweep behind each — reusing the points already complete in
// Out/sweeps/ — renders the figure to Out/<name>.png, .svg and .csv, and
// writes Out/index.md listing every figure in Out with its caption and the
// commands that reproduce it. Files are written atomically.
func Generate(names []string, opt Options) ([]Output, error) {
	if len(names) == 0 {
		names = Names()
	}
	var figs []*Figure
	for _, n := range names {
		f, err := Lookup(n)
		if err != nil {
			return nil, err
		}
		figs = append(figs, f)
	}
	if err := os.MkdirAll(opt.Out, 0o755); err != nil {
		return nil, err
	}
	size := Small
	variant := "quick"
	if opt.Full {
		size, variant = Full, "full"
	}
	var outs []Output
	for _, f := range figs {
		s, err := experiment.LoadSweep(f.Sweep, !opt.Full, nil)
		if err != nil {
			return nil, fmt.Errorf("figure %s: %w", f.Name, err)
		}
		// Keyed by the sweep's identity, so that an edited sweep gets fresh
		// results rather than a clash with the old ones.
		dir := filepath.Join(opt.Out, "sweeps", f.Sweep+"-"+variant+"-"+s.ID()[:8])
		var prog experiment.Progress
		if opt.Progress != nil {
			prog = opt.Progress(f.Name + " " + f.Sweep)
		}
		rep, err := experiment.RunSweep(s, experiment.SweepOptions{Out: dir, Jobs: opt.Jobs, Resume: true, Progress: prog})
		if err != nil {
			return nil, fmt.Errorf("figure %s: sweep %s: %w", f.Name, f.Sweep, err)
		}
		if rep.Failed > 0 {
			return nil, fmt.Errorf("figure %s: %d points of sweep %s failed; see %s", f.Name, rep.Failed, f.Sweep,
				filepath.Join(dir, "results.csv"))
		}
		if opt.Log != nil {
			opt.Log("%s: sweep %s, %d points (%d run now)", f.Name, f.Sweep, rep.Points, rep.Ran)
		}
		sum, err := ReadSummary(filepath.Join(dir, "summary.csv"))
		if err != nil {
			return nil, fmt.Errorf("figure %s: %w", f.Name, err)
		}
		var labels []map[string]string
		var seeds []uint64
		var dirs []string
		for _, pt := range s.Points() {
			m := map[string]string{}
			for i, ax := range s.Axes {
				m[ax.Key] = pt.Labels[i]
			}
			labels, seeds = append(labels, m), append(seeds, pt.Seed)
			dirs = append(dirs, experiment.PointDir(dir, pt))
		}
		sum.SetPoints(labels, seeds, dirs)
		r, err := Render(f, sum, size)
		if err != nil {
			return nil, err
		}
		o := Output{Figure: f, SweepDir: dir, Points: rep.Points, Reused: rep.Skipped,
			PNG: f.Name + ".png", SVG: f.Name + ".svg", CSV: f.Name + ".csv",
			sweepRel: filepath.ToSlash(filepath.Join("sweeps", filepath.Base(dir)))}
		quick := " --quick"
		full := ""
		if opt.Full {
			quick, full = "", " --full"
		}
		o.SweepCommand = fmt.Sprintf("twinsim sweep %s%s -o %s", f.Sweep, quick, dir)
		o.FigureCommand = fmt.Sprintf("twinsim figures %s%s -o %s", f.Name, full, opt.Out)
		for name, data := range map[string][]byte{o.PNG: r.PNG, o.SVG: r.SVG, o.CSV: r.CSV} {
			if err := experiment.WriteFileAtomic(filepath.Join(opt.Out, name), data); err != nil {
				return nil, err
			}
		}
		if err := experiment.WriteFileAtomic(filepath.Join(opt.Out, f.Name+".md"), entry(o)); err != nil {
			return nil, err
		}
		if opt.Log != nil {
			opt.Log("%s: %s, %s, %s", f.Name, filepath.Join(opt.Out, o.PNG), o.SVG, o.CSV)
		}
		outs = append(outs, o)
	}
	return outs, writeIndex(opt.Out)
}

// entry is a figure's section of index.md, kept beside the figure so that
// the index lists every figure in the directory, however many runs made
// them.
func entry(o Output) []byte {
	var b bytes.Buffer
	f := o.Figure
	fmt.Fprintf(&b, "## %s\n\n", f.Title)
	fmt.Fprintf(&b, "![%s](%s)\n\n", f.Name, o.PNG)
	fmt.Fprintf(&b, "%s\n\n", f.Caption)
	fmt.Fprintf(&b, "Files: [%s](%s), [%s](%s), data [%s](%s) (the plotted numbers); sweep results in [%s](%s/summary.csv) (%d points).\n\n",
		o.PNG, o.PNG, o.SVG, o.SVG, o.CSV, o.CSV, o.sweepRel, o.sweepRel, o.Points)
	fmt.Fprintf(&b, "Reproduce: `%s` (or only the data: `%s`).\n", o.FigureCommand, o.SweepCommand)
	return b.Bytes()
}

// writeIndex joins the figure sections in dir into index.md, in figure-name
// order.
func writeIndex(dir string) error {
	var b bytes.Buffer
	b.WriteString("# twinsim figures\n\n")
	b.WriteString("Each figure is a sweep (configs/sweeps) drawn with gonum/plot; the CSV beside each image holds the plotted numbers. ")
	b.WriteString("`twinsim figures` makes the quick variants; `twinsim figures --full` the publication ones.\n\n")
	n := 0
	for _, name := range Names() {
		data, err := os.ReadFile(filepath.Join(dir, name+".md"))
		if err != nil {
			continue
		}
		b.Write(data)
		b.WriteString("\n")
		n++
	}
	if n == 0 {
		return fmt.Errorf("no figure in %s", dir)
	}
	return experiment.WriteFileAtomic(filepath.Join(dir, "index.md"), append(bytes.TrimRight(b.Bytes(), "\n"), '\n'))
}

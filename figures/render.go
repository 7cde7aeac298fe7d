package figures

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"sort"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Size is the drawing size of one panel and the PNG resolution.
type Size struct {
	PanelWidth, PanelHeight vg.Length
	DPI                     int
}

// Small is the default size: readable on screen, quick to write.
var Small = Size{PanelWidth: 4.5 * vg.Inch, PanelHeight: 3.4 * vg.Inch, DPI: 110}

// Full is publication size: the same layout at print resolution.
var Full = Size{PanelWidth: 4.5 * vg.Inch, PanelHeight: 3.4 * vg.Inch, DPI: 300}

// Rendered is a figure drawn in memory.
type Rendered struct {
	PNG, SVG, CSV []byte
}

// Render draws f from the sweep summary s.
func Render(f *Figure, s *Summary, size Size) (*Rendered, error) {
	if err := f.check(s); err != nil {
		return nil, err
	}
	cols := max(f.Cols, 1)
	rows := (len(f.Panels) + cols - 1) / cols
	grid := make([][]*plot.Plot, rows)
	for r := range grid {
		grid[r] = make([]*plot.Plot, cols)
	}
	// A label keeps its colour in every panel. When every panel draws the
	// series of the fullest one, or some of them (a line with no data in a
	// panel is left out), one legend below the panels serves them all;
	// otherwise each panel carries its own.
	colour := map[string]int{}
	for i := range f.Panels {
		lines, err := f.Panels[i].lines(s)
		if err != nil {
			return nil, fmt.Errorf("figure %s panel %d: %w", f.Name, i+1, err)
		}
		for _, l := range lines {
			if _, ok := colour[l.label]; !ok {
				colour[l.label] = len(colour)
			}
		}
	}
	var keys []legendEntry
	perPanel := make([][]legendEntry, len(f.Panels))
	fullest := 0
	for i := range f.Panels {
		p, entries, err := f.panelPlot(&f.Panels[i], s, colour)
		if err != nil {
			return nil, fmt.Errorf("figure %s panel %d: %w", f.Name, i+1, err)
		}
		perPanel[i] = entries
		if len(entries) > len(perPanel[fullest]) {
			fullest = i
		}
		grid[i/cols][i%cols] = p
	}
	shared := true
	for _, entries := range perPanel {
		shared = shared && subsequence(entries, perPanel[fullest])
	}
	if shared {
		keys = perPanel[fullest]
	} else {
		for i, entries := range perPanel {
			pl := grid[i/cols][i%cols]
			pl.Legend.Top, pl.Legend.Left = true, true
			pl.Legend.TextStyle.Font.Size = vg.Points(8)
			pl.Legend.XOffs = vg.Points(50) // clear of the y axis labels
			for _, e := range entries {
				pl.Legend.Add(e.label, e.thumbs...)
			}
		}
	}
	legendCols := 4 // a strip of up to four columns; two on a figure one panel wide
	if cols == 1 {
		legendCols = 2
	}
	legendRows := (len(keys) + legendCols - 1) / legendCols
	titleH := 0.35 * vg.Inch
	legendH := vg.Length(0)
	if legendRows > 0 {
		legendH = vg.Length(legendRows)*vg.Points(14) + vg.Points(10)
	}
	w, h := size.PanelWidth*vg.Length(cols), size.PanelHeight*vg.Length(rows)+titleH+legendH

	draw1 := func(c vg.CanvasSizer) {
		dc := draw.New(c)
		// Figure title above the panels.
		sty := plot.New().Title.TextStyle
		sty.Font.Size = vg.Points(14)
		sty.XAlign, sty.YAlign = draw.XCenter, draw.YCenter
		dc.FillText(sty, vg.Point{X: w / 2, Y: h - titleH/2}, f.Title)
		dc.Max.Y -= titleH
		// The legend: a strip of columns at the bottom.
		ncol := vg.Length(min(len(keys), legendCols))
		colW := min((w-vg.Inch)/ncol, 2.2*vg.Inch)
		left := (w - colW*ncol) / 2
		for i, k := range keys {
			r, c := i/legendCols, i%legendCols
			lg := plot.NewLegend()
			lg.Left, lg.Top = true, true
			lg.TextStyle.Font.Size = vg.Points(10)
			lg.Add(k.label, k.thumbs...)
			cell := draw.Canvas{Canvas: dc.Canvas, Rectangle: vg.Rectangle{
				Min: vg.Point{X: left + colW*vg.Length(c), Y: dc.Min.Y + legendH - vg.Points(14)*vg.Length(r+1) - vg.Points(4)},
				Max: vg.Point{X: left + colW*vg.Length(c+1), Y: dc.Min.Y + legendH - vg.Points(14)*vg.Length(r) - vg.Points(4)},
			}}
			lg.Draw(cell)
		}
		dc.Min.Y += legendH
		// Panel titles go in the padding above each tile, so that they line
		// up however the panels' axes differ.
		panelTitleH := vg.Points(20)
		tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 6, PadY: panelTitleH + vg.Millimeter*3,
			PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 6, PadTop: panelTitleH, PadBottom: vg.Millimeter * 2}
		tsty := plot.New().Title.TextStyle
		tsty.Font.Size = vg.Points(12)
		tsty.XAlign, tsty.YAlign = draw.XCenter, draw.YCenter
		for r := range grid {
			for c := range grid[r] {
				if grid[r][c] == nil {
					continue
				}
				tile := tiles.At(dc, c, r)
				grid[r][c].Draw(tile)
				dc.FillText(tsty, vg.Point{X: (tile.Min.X + tile.Max.X) / 2, Y: tile.Max.Y + panelTitleH/2}, f.Panels[r*cols+c].Title)
			}
		}
	}
	out := &Rendered{}
	img := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(size.DPI), vgimg.UseBackgroundColor(color.White))
	draw1(img)
	var pb bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&pb); err != nil {
		return nil, fmt.Errorf("figure %s: png: %w", f.Name, err)
	}
	out.PNG = pb.Bytes()
	svg := vgsvg.New(w, h)
	draw1(svg)
	var sb bytes.Buffer
	if _, err := svg.WriteTo(&sb); err != nil {
		return nil, fmt.Errorf("figure %s: svg: %w", f.Name, err)
	}
	out.SVG = sb.Bytes()
	var err error
	if out.CSV, err = f.dataCSV(s); err != nil {
		return nil, err
	}
	return out, nil
}

// subsequence reports whether a's labels appear in b in the same order.
func subsequence(a, b []legendEntry) bool {
	j := 0
	for _, e := range a {
		for j < len(b) && b[j].label != e.label {
			j++
		}
		if j == len(b) {
			return false
		}
		j++
	}
	return true
}

// legendEntry is one line's legend label and thumbnails.
type legendEntry struct {
	label  string
	thumbs []plot.Thumbnailer
}

// panelPlot builds one panel: a line with points per series, error bars
// for the 95 % confidence intervals, log axes where asked. It returns the
// legend entries of its lines.
func (f *Figure) panelPlot(p *Panel, s *Summary, colour map[string]int) (*plot.Plot, []legendEntry, error) {
	lines, err := p.lines(s)
	if err != nil {
		return nil, nil, err
	}
	if len(lines) == 0 {
		return nil, nil, fmt.Errorf("no data: no summary row matches %v", p.Where)
	}
	var legend []legendEntry
	pl := plot.New()
	pl.X.Label.Text = p.X.Label
	pl.Y.Label.Text = p.Y.Label
	pl.Add(plotter.NewGrid())
	ymin, ymax := math.Inf(1), math.Inf(-1)
	xticks := map[float64]string{}
	for _, l := range lines {
		i := colour[l.label]
		xys := make(plotter.XYs, len(l.pts))
		errs := make(plotter.YErrors, len(l.pts))
		for j, pt := range l.pts {
			xys[j].X, xys[j].Y = pt.x, pt.y
			ci := pt.ci
			if math.IsNaN(ci) {
				ci = 0
			}
			lo := ci
			if p.Y.Log && pt.y-ci <= 0 {
				lo = pt.y * 0.5 // keep the bar on a log axis
			}
			errs[j].Low, errs[j].High = lo, ci
			ymin = min(ymin, pt.y-lo)
			ymax = max(ymax, pt.y+ci)
			xticks[pt.x] = pt.xLabel
		}
		ln, sc, err := plotter.NewLinePoints(xys)
		if err != nil {
			return nil, nil, err
		}
		col := plotutil.Color(i)
		ln.Color = col
		ln.Width = vg.Points(1.5)
		if l.dashed {
			ln.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		}
		sc.Color = col
		sc.Shape = plotutil.Shape(i)
		sc.Radius = vg.Points(2.5)
		eb, err := plotter.NewYErrorBars(struct {
			plotter.XYs
			plotter.YErrors
		}{xys, errs})
		if err != nil {
			return nil, nil, err
		}
		eb.Color = col
		if l.noMarks {
			pl.Add(ln)
			legend = append(legend, legendEntry{l.label, []plot.Thumbnailer{ln}})
			continue
		}
		pl.Add(ln, sc, eb)
		legend = append(legend, legendEntry{l.label, []plot.Thumbnailer{ln, sc}})
	}
	if p.X.Log {
		pl.X.Scale = plot.LogScale{}
	}
	if p.X.Key == "" { // a measured x: ordinary ticks
		xticks = nil
		if p.X.Log {
			pl.X.Tick.Marker = labelTicks{log: true, format: trimFloat}
		}
	}
	// The x ticks are the swept values, labelled as the sweep writes them.
	var xt plot.ConstantTicks
	for x, lab := range xticks {
		if p.X.Tick != nil {
			lab = p.X.Tick(lab)
		}
		xt = append(xt, plot.Tick{Value: x, Label: lab})
	}
	sort.Slice(xt, func(i, j int) bool { return xt[i].Value < xt[j].Value })
	if xticks != nil {
		pl.X.Tick.Marker = xt
	}
	pad := 0.08
	if p.Y.Log {
		pl.Y.Scale = plot.LogScale{}
		r := ymax / ymin
		pl.Y.Min, pl.Y.Max = ymin/math.Pow(r, pad), ymax*math.Pow(r, pad)
	} else {
		pl.Y.Min = math.Min(0, ymin)
		pl.Y.Max = ymax + (ymax-pl.Y.Min)*pad
	}
	fmtY := p.Y.Ticks
	if fmtY == nil {
		fmtY = trimFloat
	}
	pl.Y.Tick.Marker = labelTicks{log: p.Y.Log, base2: p.Y.Base2, format: fmtY}
	return pl, legend, nil
}

// labelTicks are gonum's default (or log) ticks with labels in a chosen
// format, such as bytes with binary units; base2 puts log ticks at powers
// of two instead of ten.
type labelTicks struct {
	log, base2 bool
	format     func(float64) string
}

func (t labelTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	switch {
	case t.log && t.base2:
		k0, k1 := int(math.Floor(math.Log2(lo))), int(math.Ceil(math.Log2(hi)))
		step := max(1, (k1-k0+5)/6) // at most about six labels
		for k := k0; k <= k1; k++ {
			v := math.Ldexp(1, k)
			if v < lo || v > hi {
				continue
			}
			tk := plot.Tick{Value: v}
			if k%step == 0 {
				tk.Label = "x"
			}
			ticks = append(ticks, tk)
		}
	case t.log:
		ticks = plot.LogTicks{}.Ticks(lo, hi)
		if hi/lo < 30 { // a decade or so: label the 2s and 5s too
			for i := range ticks {
				m := ticks[i].Value / math.Pow10(int(math.Floor(math.Log10(ticks[i].Value)+1e-9)))
				if math.Abs(m-2) < 1e-9 || math.Abs(m-5) < 1e-9 {
					ticks[i].Label = "x"
				}
			}
		}
	default:
		ticks = plot.DefaultTicks{}.Ticks(lo, hi)
	}
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = t.format(ticks[i].Value)
		}
	}
	return ticks
}

func trimFloat(v float64) string {
	return fmt.Sprint(float32(v))
}

// Bytes formats a byte count with a binary unit: "512 B", "64 KiB", "1.5 MiB".
func Bytes(v float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for math.Abs(v) >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return fmt.Sprint(float32(v)) + " " + units[i]
}

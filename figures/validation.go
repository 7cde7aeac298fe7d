package figures

import (
	"bytes"
	_ "embed"
	"encoding/csv"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// nativeEpyc is what the memval kernels measured natively on the machine
// configs/validate-epyc.toml describes (scripts/measure-native.sh).
//
//go:embed reference/native-epyc.csv
var nativeEpyc []byte

// publishedAM62x is what TI publishes for the machine
// configs/validate-am62x.toml describes.
//
//go:embed reference/published-am62x.csv
var publishedAM62x []byte

// reference is a table of measurements by kernel and argument.
type reference map[string]float64

func loadReference(data []byte) (reference, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.Comment = '#'
	rows, err := r.ReadAll()
	if err != nil {
		return nil, err
	}
	out := reference{}
	for _, row := range rows[1:] {
		v, err := strconv.ParseFloat(row[2], 64)
		if err != nil {
			return nil, fmt.Errorf("reference %v: %w", row, err)
		}
		switch row[3] {
		case "MB/s":
			v /= 1000 // the figures draw GB/s
		case "ns", "GB/s", "GHz":
		default:
			return nil, fmt.Errorf("reference %v: unit %q is not ns, GHz, GB/s or MB/s", row, row[3])
		}
		out[row[0]+" "+row[1]] = v
	}
	return out, nil
}

// any returns the value of kernel's row whatever its argument (a table
// with one row for it).
func (r reference) any(kernel string) (float64, bool) {
	for k, v := range r {
		if strings.HasPrefix(k, kernel+" ") {
			return v, true
		}
	}
	return 0, false
}

// memvalArgs splits a memval command ("memval lat 8192 100000") into its
// kernel and arguments.
func memvalArgs(label string) (kernel string, args []int64, ok bool) {
	f := strings.Fields(label)
	if len(f) < 3 || f[0] != "memval" {
		return "", nil, false
	}
	for _, a := range f[2:] {
		n, err := strconv.ParseInt(a, 10, 64)
		if err != nil {
			return "", nil, false
		}
		args = append(args, n)
	}
	return f[1], args, true
}

// machine is what a validation figure knows of the machine its sweep's
// configuration describes: its measurements, its clock (which converts ROI
// cycles to time), how many copies of a bandwidth kernel its sweep runs at
// once (their bandwidths add up; they run the same kernel on identical
// cores, so the first copy's time stands for each), and the names its
// measurements give the kernels (prefix: bandwidth kernels, whose
// measurements are array-size-free rates).
type machine struct {
	ref     reference
	freqGHz float64
	copies  float64
	names   map[string]string // memval kernel → reference kernel
	prefix  map[string]bool   // reference kernels looked up whatever their argument
}

func newMachine(data []byte, freqGHz, copies float64, names map[string]string, prefix ...string) machine {
	ref, err := loadReference(data)
	if err != nil {
		panic(fmt.Sprintf("figures: validation reference: %v", err))
	}
	m := machine{ref: ref, freqGHz: freqGHz, copies: copies, names: names, prefix: map[string]bool{}}
	for _, p := range prefix {
		m.prefix[p] = true
	}
	return m
}

// y converts a memval command's ROI cycles to what the kernel reports: ns
// per load (lat, stride), GB/s (copy, triad: bytes read and written, as
// STREAM counts them, times the copies), ns per one-way transfer (c2c).
func (m machine) y(label string, cycles float64) float64 {
	k, a, ok := memvalArgs(label)
	if !ok || cycles == 0 {
		return math.NaN()
	}
	ns := cycles / m.freqGHz
	switch k {
	case "lat":
		return ns / float64(a[1])
	case "stride":
		return ns / float64(a[2])
	case "copy":
		return m.copies * 2 * float64(a[0]*a[1]) / ns
	case "triad":
		return m.copies * 3 * float64(a[0]*a[1]) / ns
	case "c2c":
		return ns / float64(2*a[0])
	}
	return math.NaN()
}

// measured is the measurement of the same kernel, keyed by its reference
// name and first argument (footprint), or by the name alone for a prefix
// kernel.
func (m machine) measured(label string) (float64, bool) {
	k, a, ok := memvalArgs(label)
	if !ok {
		return 0, false
	}
	name, ok := m.names[k]
	if !ok {
		return 0, false
	}
	if m.prefix[name] {
		return m.ref.any(name)
	}
	v, ok := m.ref[fmt.Sprintf("%s %d", name, a[0])]
	return v, ok
}

// series is a validation panel's pair: twinsim, and the measurement (what
// says where it comes from).
func (m machine) series(what string) []Series {
	return []Series{
		{Label: "twinsim", Metric: "host0.core0.roi.cycles"},
		{Label: "measured (" + what + ")", Metric: "host0.core0.roi.cycles", Reference: m.measured, Dashed: true},
	}
}

// xFor places a memval command on a panel's x axis only if it runs kernel:
// the footprint in KiB for lat and stride, the kernel's position for the
// others.
func xFor(kernels ...string) func(string) (float64, error) {
	return func(label string) (float64, error) {
		k, a, ok := memvalArgs(label)
		if !ok {
			return 0, fmt.Errorf("not a memval command: %q", label)
		}
		for i, want := range kernels {
			if k != want {
				continue
			}
			if k == "lat" || k == "stride" {
				return float64(a[0]) / 1024, nil
			}
			return float64(i + 1), nil
		}
		return math.NaN(), nil
	}
}

// latTick labels every other power of two of a lat command's footprint.
func latTick(label string) string {
	_, a, ok := memvalArgs(label)
	if !ok {
		return ""
	}
	e := math.Log2(float64(a[0]))
	if e != math.Trunc(e) || int(e)%2 != 1 {
		return ""
	}
	if a[0] >= 1<<20 {
		return strconv.FormatInt(a[0]>>20, 10) + "M"
	}
	return strconv.FormatInt(a[0]>>10, 10) + "K"
}

// strideTick labels a stride command by its footprint as lmbench's size
// labels give it (50, 31K, ...: K = 1024 bytes), every other one of the
// series TI reports (50, 31K, 62K, 125K, ...) so that the labels do not
// collide.
func strideTick(label string) string {
	_, a, ok := memvalArgs(label)
	switch {
	case !ok:
		return ""
	case a[0] < 1024:
		return strconv.FormatInt(a[0], 10)
	}
	switch k := a[0] >> 10; k {
	case 31, 125, 500:
		return strconv.FormatInt(k, 10) + "K"
	}
	return ""
}

// f10 is the validation against the machine twinsim was developed on.
func f10() *Figure {
	m := newMachine(nativeEpyc, 3.14, 1, map[string]string{"lat": "lat", "copy": "copy", "triad": "triad", "c2c": "c2c"},
		"copy", "triad", "c2c")
	return &Figure{
		Name:  "f10",
		Title: "F10  Validation: twinsim against the machine it is configured like",
		Caption: "The memval kernels (workloads/src/memval.c) measured natively on a 2-vCPU virtual machine on an AMD " +
			"EPYC (Zen 3, 3.14 GHz; built without vectorisation, median of five runs: scripts/measure-native.sh) and run " +
			"by twinsim configured like it (configs/validate-epyc.toml: AMD's published Zen 3 core, geometry and " +
			"latencies, 4/12/46 cycles, pages scattered as Linux leaves them; calibrated from the measurements are the " +
			"L3 share the guest gets (11 MiB, at the 8 MiB point), DRAM latency (the 32 MiB point) and the interconnect " +
			"hop (the transfer)). Left: ns per dependent load over a footprint (a random walk of 64-byte nodes); middle: " +
			"STREAM copy and triad bandwidth, single core; right: the one-way cache-line transfer between the two cores " +
			"(each spinning until the other hands it the line). The CSV beside the figure holds both values of every " +
			"point; the README's validation table gives the error.",
		Sweep: "f10-validation",
		Cols:  3,
		Panels: []Panel{
			m.latencyPanel("load latency by footprint", "lat", latTick, "native"),
			m.streamPanel("STREAM bandwidth, one core", "native"),
			{Title: "cache-line transfer between cores", X: XAxis{Key: "exec.command", Label: "", Value: xFor("c2c"),
				Tick: func(string) string { return "c2c" }}, Y: YAxis{Label: "ns one way", Value: m.y}, Series: m.series("native")},
		},
	}
}

// f11 is the validation against a published machine.
func f11() *Figure {
	m := newMachine(publishedAM62x, 1.4, 4, map[string]string{"stride": "lat_mem_rd", "copy": "stream-4t-copy", "triad": "stream-4t-triad"},
		"stream-4t-copy", "stream-4t-triad")
	return &Figure{
		Name:  "f11",
		Title: "F11  Validation: twinsim against a published machine (TI AM62x, 4x Cortex-A53)",
		Caption: "TI's published lmbench results for the AM62x starter kit (lat_mem_rd with a 128-byte stride, and " +
			"lmbench's STREAM with four processes of 16 MiB each; sources in figures/reference/published-am62x.csv) " +
			"beside twinsim configured like the board (configs/validate-am62x.toml: four in-order dual-issue cores at " +
			"1.4 GHz, 32 KiB 4-way L1Ds with 3-cycle loads and write streaming, a shared 512 KiB 16-way L2, one " +
			"3.2 GB/s DDR4 channel; the L1 and L2 prefetchers' degrees and distances and the L2's replacement calibrated on the " +
			"latency curve, the L2's latency and DRAM's assumed). Left: ns per dependent load along the stride; right: " +
			"the four copies' STREAM copy and triad bandwidth together (memval copy and triad over arrays of a third " +
			"of 16 MiB each, one copy per core). The CSV beside the figure holds both values of every point; the " +
			"README's validation table gives the error.",
		Sweep: "f11-am62x",
		Cols:  2,
		Panels: []Panel{
			m.latencyPanel("lat_mem_rd, stride 128 bytes", "stride", strideTick, "TI"),
			m.streamPanel("STREAM bandwidth, four cores", "TI"),
		},
	}
}

// latencyPanel draws a latency kernel's ns per load against its footprint
// beside what measured it.
func (m machine) latencyPanel(title, kernel string, tick func(string) string, what string) Panel {
	return Panel{Title: title, X: XAxis{Key: "exec.command", Label: "footprint (bytes)", Value: xFor(kernel), Log: true, Tick: tick},
		Y: YAxis{Label: "ns per load", Log: true, Value: m.y}, Series: m.series(what)}
}

// streamPanel draws the copy and triad kernels' bandwidth beside what
// measured them.
func (m machine) streamPanel(title, what string) Panel {
	return Panel{Title: title, X: XAxis{Key: "exec.command", Label: "kernel (1 copy, 2 triad)", Value: xFor("copy", "triad"),
		Tick: kernelTick}, Y: YAxis{Label: "GB/s", Value: m.y}, Series: m.series(what)}
}

// kernelTick labels a memval command by its kernel.
func kernelTick(label string) string {
	k, _, _ := memvalArgs(label)
	return k
}

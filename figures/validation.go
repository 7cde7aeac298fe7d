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

// validateFreqGHz is the clock of configs/validate-epyc.toml, which
// converts its ROI cycles to time.
const validateFreqGHz = 3.14

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
		out[row[0]+" "+row[1]] = v
	}
	return out, nil
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

// memvalY converts a memval command's ROI cycles to what the kernel
// reports: ns per load (lat), GB/s (copy, triad: bytes read and written,
// as STREAM counts them), ns per one-way transfer (c2c).
func memvalY(label string, cycles float64) float64 {
	k, a, ok := memvalArgs(label)
	if !ok || cycles == 0 {
		return math.NaN()
	}
	ns := cycles / validateFreqGHz
	switch k {
	case "lat":
		return ns / float64(a[1])
	case "copy":
		return 2 * float64(a[0]*a[1]) / ns
	case "triad":
		return 3 * float64(a[0]*a[1]) / ns
	case "c2c":
		return ns / float64(2*a[0])
	}
	return math.NaN()
}

// memvalRef is the native measurement of the same kernel: the reference
// table is keyed by kernel and first argument (footprint, array size).
func memvalRef(ref reference) func(string) (float64, bool) {
	return func(label string) (float64, bool) {
		k, a, ok := memvalArgs(label)
		if !ok {
			return 0, false
		}
		key := fmt.Sprintf("%s %d", k, a[0])
		switch k {
		case "copy", "triad":
			// Measured over larger arrays (beyond every cache) than the
			// simulation needs: the bandwidth is the array-size-free rate.
			for rk, v := range ref {
				if strings.HasPrefix(rk, k+" ") {
					return v, true
				}
			}
			return 0, false
		case "c2c":
			for rk, v := range ref {
				if strings.HasPrefix(rk, "c2c ") {
					return v, true
				}
			}
			return 0, false
		}
		v, ok := ref[key]
		return v, ok
	}
}

// xFor places a memval command on a panel's x axis only if it runs kernel:
// the footprint for lat, the kernel's position for the others.
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
			if k == "lat" {
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

// f10 is the validation against a real machine.
func f10() *Figure {
	ref, err := loadReference(nativeEpyc)
	if err != nil {
		panic(fmt.Sprintf("figures: reference/native-epyc.csv: %v", err))
	}
	rs := memvalRef(ref)
	model := func(what string) []Series {
		return []Series{
			{Label: "twinsim", Metric: "host0.core0.roi.cycles"},
			{Label: "measured (" + what + ")", Metric: "host0.core0.roi.cycles", Reference: rs, Dashed: true},
		}
	}
	y := func(label string) YAxis { return YAxis{Label: label, Value: memvalY} }
	return &Figure{
		Name:  "f10",
		Title: "F10  Validation: twinsim against the machine it is configured like",
		Caption: "The memval kernels (workloads/src/memval.c) measured natively on a 2-vCPU virtual machine on an AMD " +
			"EPYC (Zen 3, 3.14 GHz; built without vectorisation, median of five runs: scripts/measure-native.sh) and run " +
			"by twinsim configured like it (configs/validate-epyc.toml: AMD's published Zen 3 geometry and latencies, " +
			"4/12/46 cycles; calibrated from the measurements are the L3 share the guest gets (8 MiB), DRAM latency " +
			"(from the 32 MiB point) and the interconnect hop (from the transfer). Left: ns per dependent load over a " +
			"footprint (a random walk of 64-byte nodes); middle: STREAM copy and triad bandwidth, single core; right: " +
			"the one-way cache-line transfer between the two cores (each spinning until the other hands it the line). " +
			"The CSV beside the figure holds both values of every point; the README's validation table gives the error.",
		Sweep: "f10-validation",
		Cols:  3,
		Panels: []Panel{
			{Title: "load latency by footprint", X: XAxis{Key: "exec.command", Label: "footprint (bytes)", Value: xFor("lat"), Log: true,
				Tick: latTick},
				Y: YAxis{Label: "ns per load", Log: true, Value: memvalY}, Series: model("native")},
			{Title: "STREAM bandwidth, one core", X: XAxis{Key: "exec.command", Label: "kernel (1 copy, 2 triad)", Value: xFor("copy", "triad"),
				Tick: func(l string) string { k, _, _ := memvalArgs(l); return k }}, Y: y("GB/s"), Series: model("native")},
			{Title: "cache-line transfer between cores", X: XAxis{Key: "exec.command", Label: "", Value: xFor("c2c"),
				Tick: func(string) string { return "c2c" }}, Y: y("ns one way"), Series: model("native")},
		},
	}
}

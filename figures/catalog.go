package figures

import (
	"fmt"
	"sort"
	"strings"

	"github.com/twinsim/twinsim/configs"
	"github.com/twinsim/twinsim/sim"
)

// durationMs reads a duration axis value ("250us") in milliseconds.
func durationMs(label string) (float64, error) {
	t, err := sim.ParseTime(label)
	if err != nil {
		return 0, err
	}
	return float64(t) / float64(sim.Millisecond), nil
}

// sizeKiB reads a size axis value ("64KiB") in KiB.
func sizeKiB(label string) (float64, error) {
	s, err := configs.ParseSize(label)
	if err != nil {
		return 0, err
	}
	return float64(s) / 1024, nil
}

// shortSize writes a size axis value compactly: "64KiB" as "64K".
func shortSize(label string) string { return strings.TrimSuffix(strings.TrimSuffix(label, "iB"), "B") }

func percent(v float64) string { return trimFloat(v) + "%" }

// f3 is PATENTS.md F3: bytes a backup moves per checkpoint, by method.
func f3() *Figure {
	f := &Figure{
		Name:  "f3",
		Title: "F3  Bytes replicated per checkpoint vs checkpoint interval",
		Caption: "Mean bytes the backup must copy to the secondary per checkpoint, for the cache " +
			"image-modification line log (128-byte lines) and page dirty tracking at 4 KiB and 64 KiB, with a " +
			"full-image copy (256 MiB, dashed) for reference; one panel per write pattern of the backed-up VM " +
			"(64 MiB footprint, 30 % stores, a log large enough that no checkpoint is brought forward). Error " +
			"bars: 95 % confidence intervals over seeds. For uniform, Zipf and strided writes page tracking moves " +
			"one to two orders of magnitude more than the line log, and 64 KiB pages saturate at the footprint as " +
			"the interval grows. Sequential writes dirty every line of each page they touch, so there the three " +
			"methods move the same bytes.",
		Sweep: "f3-bytes-vs-interval",
		Cols:  2,
	}
	for _, pat := range []string{"uniform", "zipf", "sequential", "strided"} {
		f.Panels = append(f.Panels, Panel{
			Title: "write pattern: " + pat,
			Where: map[string]string{"vm[0].workload.pattern": pat},
			X:     XAxis{Key: "backup.interval", Label: "checkpoint interval", Value: durationMs, Log: true},
			Y:     YAxis{Label: "bytes per checkpoint", Log: true, Base2: true, Ticks: Bytes},
			Series: []Series{
				{Label: "line log (IMF)", Metric: "host0.backup.mean_bytes_line_log"},
				{Label: "page dirty 4 KiB", Metric: "host0.backup.mean_bytes_page_4k"},
				{Label: "page dirty 64 KiB", Metric: "host0.backup.mean_bytes_page_64k"},
				{Label: "full copy", Metric: "host0.backup.mean_bytes_full_copy", Dashed: true},
			},
		})
	}
	return f
}

// f4 is PATENTS.md F4: the modification log against cache size and
// interval, and where its entries come from.
func f4() *Figure {
	x := XAxis{Key: "cache.l2.size", Label: "L2 size (bytes; the level with the flags)", Value: sizeKiB, Log: true, Tick: shortSize}
	return &Figure{
		Name:  "f4",
		Title: "F4  Modification log vs cache size and checkpoint interval",
		Caption: "Flags live in a write-back L2 beneath a write-through L1; the backed-up VM writes a " +
			"Zipf-distributed 16 MiB footprint. Left: log entries per checkpoint. A flagged line is logged when it " +
			"is evicted or when the checkpoint scans the cache, so with a small L2 a hot line is evicted, refetched, " +
			"flagged and logged again within one epoch; a larger L2 keeps it, and the count falls towards the " +
			"distinct lines written (clearest at 4 ms; a 250 us epoch writes few lines twice). Middle: checkpoint " +
			"scan time (1 cycle per row of the flag-holding level at 3 GHz) as a share of the interval, linear in " +
			"the cache size. Right: share of entries logged at eviction rather than by the scan; it falls from " +
			"nearly all to none once the L2 holds an epoch's written lines, later for longer intervals. Error " +
			"bars: 95 % confidence intervals over seeds.",
		Sweep: "f4-log-vs-cache",
		Cols:  3,
		Panels: []Panel{
			{
				Title:  "log entries per checkpoint",
				X:      x,
				Y:      YAxis{Label: "entries / checkpoint", Log: true},
				Series: []Series{{Label: "interval %s", Metric: "host0.backup.mean_log_entries", By: "backup.interval"}},
			},
			{
				Title:  "checkpoint scan time / interval",
				X:      x,
				Y:      YAxis{Label: "scan time (% of interval)", Log: true, Scale: 100, Ticks: percent},
				Series: []Series{{Label: "interval %s", Metric: "host0.backup.scan_share", By: "backup.interval"}},
			},
			{
				Title:  "entries logged at eviction",
				X:      x,
				Y:      YAxis{Label: "logged at eviction (%)", Scale: 100, Ticks: percent},
				Series: []Series{{Label: "interval %s", Metric: "host0.backup.evict_share", By: "backup.interval"}},
			},
		},
	}
}

// catalog lists every figure by name.
func catalog() map[string]*Figure {
	out := map[string]*Figure{}
	for _, f := range []*Figure{f3(), f4()} {
		out[f.Name] = f
	}
	return out
}

// Names returns the names of every defined figure, sorted.
func Names() []string {
	var names []string
	for n := range catalog() {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Lookup returns the figure called name ("f3"; case-insensitive).
func Lookup(name string) (*Figure, error) {
	f, ok := catalog()[strings.ToLower(name)]
	if !ok {
		return nil, fmt.Errorf("no figure %q; the figures are %s", name, strings.Join(Names(), ", "))
	}
	return f, nil
}

package figures

import (
	"fmt"
	"math"
	"sort"
	"strconv"
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

// chaseFootprint reads the footprint of a ubench chase command ("ubench
// chase 65536 100000") in KiB.
func chaseFootprint(label string) (float64, error) {
	v, err := commandNumber(label, "ubench", "chase")
	return v / 1024, err
}

// commandNumber reads the number a workload command ("PROG MODE NUMBER
// COUNT", such as "ubench chase 65536 100000") gives its mode.
func commandNumber(label, prog, mode string) (float64, error) {
	f := strings.Fields(label)
	if len(f) != 4 || f[1] != mode {
		return 0, fmt.Errorf("%q is not a %s %s command", label, prog, mode)
	}
	v, err := strconv.ParseFloat(f[2], 64)
	if err != nil {
		return 0, fmt.Errorf("%q: %w", label, err)
	}
	return v, nil
}

// chaseTick writes a chase command's footprint compactly ("4K", "1M"),
// at powers of four only, so that the labels do not overlap.
func chaseTick(label string) string {
	kib, err := chaseFootprint(label)
	if err != nil {
		return label
	}
	if e := math.Log2(kib * 1024); e != math.Trunc(e) || int(e)%2 != 0 {
		return ""
	}
	if kib >= 1024 {
		return trimFloat(kib/1024) + "M"
	}
	return trimFloat(kib) + "K"
}

// f0 is the validation figure: lmbench lat_mem_rd through the timing mode.
func f0() *Figure {
	return &Figure{
		Name:  "f0",
		Title: "F0  Load latency vs footprint (lat_mem_rd)",
		Caption: "Validation of the cycle-level core and the cache model: cycles per dependent load when ubench's " +
			"chase kernel walks a random cyclic permutation of 128-byte nodes over a footprint (after a warm-up pass; " +
			"100,000 loads in its region of interest), on the in-order core at 3 GHz with 4 KiB host pages and a " +
			"1024-entry TLB (4 MiB reach). Default hierarchy: 32 KiB L1 (2 cycles), 512 KiB L2 (12), 8 MiB L3 (40); " +
			"larger one: the same L1, 2 MiB L2 (16), 32 MiB L3 (60); DRAM 60 ns, 12.8 GB/s per channel. The curve " +
			"steps at each cache size to the sum of the latencies of the levels visited — 2, 14 and 54 cycles " +
			"(2, 18, 78 for the larger hierarchy) — and to 300–340 cycles from DRAM: 180 cycles of DRAM latency, 30 of " +
			"line transfer and, once the footprint exceeds the TLB's reach, a page walk (30 cycles and three " +
			"page-table reads through the caches, which miss more often as the footprint, and so the table, grows). " +
			"Footprints near a level's capacity fall between steps: conflict misses in its sets and page walks.",
		Sweep: "f0-latency",
		Cols:  1,
		Panels: []Panel{{
			Title:  "dependent loads over a footprint, two hierarchies",
			X:      XAxis{Key: "exec.command", Label: "footprint (bytes)", Value: chaseFootprint, Log: true, Tick: chaseTick},
			Y:      YAxis{Label: "cycles per load", Log: true, Scale: 1e-5},
			Series: []Series{{Label: "L2 %s (and its L3)", Metric: "host0.core0.roi.cycles", By: "cache.l2.size"}},
		}},
	}
}

// mixPercent reads the share of a mixpages mix command ("mixpages mix 25
// 200000") in percent.
func mixPercent(label string) (float64, error) { return commandNumber(label, "mixpages", "mix") }

// f1 is PATENTS.md F1: the fault behaviour detector's trigger threshold.
func f1() *Figure {
	f := &Figure{
		Name:  "f1",
		Title: "F1  Cycles and faults vs the regeneration threshold",
		Caption: "Three programs whose accesses reach mixed 64 KiB host pages (a static binary's shared text and data " +
			"page: sieve; sixteen alternately read-write and read-only 4 KiB mappings; a kernel making 20 % of its " +
			"accesses to a page beside a read-only one), on the in-order core at 3 GHz. Top: total cycles; bottom: " +
			"accesses that faulted into the firmware (400 cycles each). adaptive is the patent family's mechanism " +
			"(each block's faults counted; at the threshold the block is translated again, 300 cycles per guest " +
			"instruction, with its loads and stores through inline page-table walks); selective regenerates only the " +
			"instructions that faulted. Dashed: never (threshold infinity: every access faults), always-walk " +
			"(threshold 0: every access walks) and permissive (QEMU linux-user: the union of the protections, no " +
			"faults, but the guest faults Linux would deliver are missed). A low threshold regenerates blocks that " +
			"would have faulted a few times only, paying translation; a high one pays faults on hot blocks before " +
			"regenerating them: adaptive's cycles are lowest at 16 for all three programs, the default of " +
			"translator.regen_threshold. Where nearly every access of the hot code goes to a mixed page (sieve, the " +
			"side-by-side mappings) walking everything from the start is cheaper still, since it saves the faults " +
			"before regeneration and the second translation; where a fifth of the accesses do, adaptive beats it by 14 %.",
		Sweep: "f1-threshold",
		Cols:  3,
	}
	x := XAxis{Key: "translator.regen_threshold", Label: "regeneration threshold (faults per block)", Log: true}
	for _, row := range []struct {
		what, label, metric string
		baselines           []string
	}{
		{"cycles", "cycles", "host0.core0.cycles", []string{"never", "always-walk", "permissive"}},
		{"faults", "faults on mixed host pages", "host0.core0.mixed_page_accesses", []string{"never", "always-walk"}},
	} {
		for _, w := range []struct{ cmd, title string }{
			{"sieve 200000", "sieve"}, {"mixpages sidebyside", "side-by-side mappings"}, {"mixpages mix 20 200000", "20 % mixed accesses"},
		} {
			f.Panels = append(f.Panels, Panel{
				Title: w.title + ": " + row.what,
				Where: map[string]string{"exec.command": w.cmd},
				X:     x,
				Y:     YAxis{Label: row.label, Log: true},
				Series: []Series{
					{Label: "%s", Metric: row.metric, By: "translator.strategy", Only: []string{"adaptive", "selective"}},
					{Label: "%s", Metric: row.metric, By: "translator.strategy", Only: row.baselines, Dashed: true},
				},
			})
		}
	}
	return f
}

// f2 is PATENTS.md F2: slowdown against the share of accesses to mixed
// host pages.
func f2() *Figure {
	f := &Figure{
		Name:  "f2",
		Title: "F2  Slowdown vs share of accesses to mixed host pages",
		Caption: "mixpages' mix kernel: 200,000 iterations of a load and a store, a given share of them to a 4 KiB page " +
			"whose host page also holds a read-only page, the rest to a region of its own; cycles of its loop on the " +
			"in-order core, divided by the same loop's with 4 KiB host pages (nothing is mixed). never faults into " +
			"the firmware on every mixed access, so its slowdown grows with the share; always-walk pays an inline " +
			"page-table walk on every access whatever the share; adaptive and selective (threshold 16) fault a few " +
			"times and then walk only in the blocks that need it; permissive never slows down but misses the guest's " +
			"own faults (none in this kernel). With 16 KiB host pages the read-only page still shares a host page " +
			"with the accessed one, so the picture is the same as with 64 KiB.",
		Sweep: "f2-mixed-share",
		Cols:  2,
	}
	for _, page := range []string{"16KiB", "64KiB"} {
		f.Panels = append(f.Panels, Panel{
			Title: "host pages " + shortSize(page),
			Where: map[string]string{"host.page_size": page},
			X: XAxis{Key: "exec.command", Label: "accesses to the mixed page (%)", Value: mixPercent,
				Tick: func(label string) string { return strings.Fields(label)[2] }},
			Y: YAxis{Label: "slowdown vs 4 KiB host pages", Log: true},
			Series: []Series{{Label: "%s", Metric: "host0.core0.roi.cycles", By: "translator.strategy",
				RelativeTo: map[string]string{"host.page_size": "4KiB", "translator.strategy": "never"}}},
		})
	}
	return f
}

// methodSeries are the bytes per checkpoint of each backup method.
func methodSeries() []Series {
	return []Series{
		{Label: "line log (IMF)", Metric: "host0.backup.mean_bytes_line_log"},
		{Label: "page dirty 4 KiB", Metric: "host0.backup.mean_bytes_page_4k"},
		{Label: "page dirty 64 KiB", Metric: "host0.backup.mean_bytes_page_64k"},
		{Label: "full copy", Metric: "host0.backup.mean_bytes_full_copy", Dashed: true},
	}
}

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
			Title:  "write pattern: " + pat,
			Where:  map[string]string{"vm[0].workload.pattern": pat},
			X:      XAxis{Key: "backup.interval", Label: "checkpoint interval", Value: durationMs, Log: true},
			Y:      YAxis{Label: "bytes per checkpoint", Log: true, Base2: true, Ticks: Bytes},
			Series: methodSeries(),
		})
	}
	return f
}

// programOrder is the order of the real programs on F3p's and F4p's x
// axis: dense writers first, then sparse ones.
var programOrder = []string{"sieve", "qsort", "crc32", "malloc", "matmul", "recursion", "printf", "interp"}

// programAxis places a program (a sweep's vm[0].program value) on a
// categorical x axis.
var programAxis = XAxis{Key: "vm[0].program", Label: "guest program (first 20 ms on the in-order core)",
	Value: func(label string) (float64, error) {
		for i, p := range programOrder {
			if p == label {
				return float64(i), nil
			}
		}
		return 0, fmt.Errorf("program %q has no place on the axis (%s)", label, strings.Join(programOrder, ", "))
	},
	Tick: func(label string) string {
		if len(label) > 6 {
			return label[:5] + "." // "recursion" as "recur.": the labels must not run together
		}
		return label
	}}

// f3p is F3 on real programs: bytes per checkpoint, by method, for the
// committed workloads run in a backed-up VM.
func f3p() *Figure {
	return &Figure{
		Name:  "f3p",
		Title: "F3p  Bytes replicated per checkpoint by real programs",
		Caption: "F3 on the one machine: each committed workload runs in a backed-up program VM through the " +
			"binary translator on the in-order core, checkpointed every 1 ms over its first 20 ms; mean bytes per " +
			"checkpoint for the image-modification line log (128-byte lines), page dirty tracking at 4 KiB and " +
			"64 KiB, and a full copy of the 256 MiB image (dashed). Programs that write densely (sieve, qsort and " +
			"crc32 fill arrays) dirty whole pages, so page tracking moves no more than 1.5 times the line log; " +
			"programs that write sparsely (recursion's stack, printf's buffers, interp's heap and stack) move 2.5 " +
			"to 10 times more at 4 KiB pages and 10 to 100 times more at 64 KiB pages — the amplification the " +
			"synthetic patterns of F3 show, measured on real code.",
		Sweep: "f3-programs",
		Cols:  1,
		Panels: []Panel{{
			Title:  "bytes per checkpoint, by method",
			X:      programAxis,
			Y:      YAxis{Label: "bytes per checkpoint", Log: true, Base2: true, Ticks: Bytes},
			Series: methodSeries(),
		}},
	}
}

// f4p is F4 on real programs: the modification log's entries per
// checkpoint and where they come from.
func f4p() *Figure {
	return &Figure{
		Name:  "f4p",
		Title: "F4p  Modification log of real programs",
		Caption: "F4 on the one machine, from F3p's runs (the default hierarchy: write-back L1 of 32 KiB, L2 of " +
			"512 KiB, L3 of 8 MiB, the flags in the level a store reaches first). Left: log entries per " +
			"checkpoint. Right: share of entries logged when a flagged line was evicted rather than by the " +
			"checkpoint's scan: the programs streaming through arrays larger than the L1 (sieve, qsort, crc32, " +
			"malloc) log mostly at eviction, those whose writes stay in a few hot lines (recursion, printf, " +
			"interp) mostly at the scan.",
		Sweep: "f3-programs",
		Cols:  2,
		Panels: []Panel{
			{
				Title:  "log entries per checkpoint",
				X:      programAxis,
				Y:      YAxis{Label: "entries / checkpoint", Log: true},
				Series: []Series{{Label: "entries", Metric: "host0.backup.mean_log_entries"}},
			},
			{
				Title:  "entries logged at eviction",
				X:      programAxis,
				Y:      YAxis{Label: "logged at eviction (%)", Scale: 100, Ticks: percent},
				Series: []Series{{Label: "at eviction", Metric: "host0.backup.evict_share"}},
			},
		},
	}
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

// latencyCDF is a client's latency distribution as quantile points, from
// its minimum to its maximum.
func latencyCDF(client string) []Quantile {
	p := "clients." + client + "."
	return []Quantile{{p + "latency.min", 0}, {p + "latency_p10", 0.1}, {p + "latency_p25", 0.25},
		{p + "latency.p50", 0.5}, {p + "latency_p75", 0.75}, {p + "latency.p90", 0.9}, {p + "latency_p95", 0.95},
		{p + "latency.p99", 0.99}, {p + "latency.p999", 0.999}, {p + "latency.max", 1}}
}

// outputModes are F5's four ways of handling a protected VM's output.
var outputModes = []struct {
	label string
	match map[string]string
}{
	{"no checkpointing", map[string]string{"backup.enabled": "false"}},
	{"software buffering (hypervisor)", map[string]string{"backup.enabled": "true", "nic.buffering": "software"}},
	{"NIC buffer, FIFO", map[string]string{"backup.enabled": "true", "nic.buffering": "nic", "nic.scheduler": "fifo"}},
	{"NIC buffer, priority", map[string]string{"backup.enabled": "true", "nic.buffering": "nic", "nic.scheduler": "strict-priority"}},
}

// f5 is PATENTS.md F5: client latency with output commit.
func f5() *Figure {
	f := &Figure{
		Name:  "f5",
		Title: "F5  Client latency with output commit",
		Caption: "The ha-nic scenario: two protected web VMs checkpointed every 25 ms (Remus's 40 Hz) or 5 ms, " +
			"with a 100 us suspend and line-log replication over 10 Gb/s, beside an unprotected web VM and a bulk " +
			"VM that sends 1500-byte packets as fast as its ring drains, all through one 10 Gb/s port; open-loop " +
			"clients send 8,000, 8,000 and 4,000 requests a second. Each line is a latency distribution (y: share " +
			"of requests answered within x). Every checkpointing mode holds a protected VM's response until its " +
			"epoch's checkpoint is acknowledged, so its distribution spans an epoch (half an interval plus the " +
			"commit delay on average). Beyond that, the NIC's buffer sent in FIFO order queues each released " +
			"epoch behind the bulk VM's packets already waiting at the port (about a ring of them), and software " +
			"buffering also goes out behind them after the hypervisor's per-packet exits, copies and releases; " +
			"priority (steps 506-514) sends the released packets first, the lowest of the three, which shows most " +
			"at 5 ms epochs where the wait for the epoch is shorter. Right: the unprotected VM's client, whose " +
			"responses queue behind the bulk traffic whatever the mode.",
		Sweep: "f5-latency-cdf",
		Cols:  3,
	}
	for _, c := range []struct{ client, title, interval string }{
		{"c-web0", "protected VM (web0), 25 ms epochs", "25ms"},
		{"c-web0", "protected VM (web0), 5 ms epochs", "5ms"},
		{"c-plain", "unprotected VM (plain), 25 ms epochs", "25ms"},
	} {
		p := Panel{Title: c.title, Where: map[string]string{"backup.interval": c.interval},
			X: XAxis{Label: "request latency (ms)", Scale: 1 / float64(sim.Millisecond)},
			Y: YAxis{Label: "requests answered (%)", Scale: 100, Ticks: percent}}
		for _, m := range outputModes {
			p.Series = append(p.Series, Series{Label: m.label, Quantiles: latencyCDF(c.client), Match: m.match})
		}
		f.Panels = append(f.Panels, p)
	}
	return f
}

// f6 is PATENTS.md F6: the checkpoint buffer's occupancy and overflow.
func f6() *Figure {
	x := XAxis{Key: "nic.buffer", Label: "checkpoint buffer capacity", Value: sizeKiB, Log: true, Tick: shortSize}
	return &Figure{
		Name:  "f6",
		Title: "F6  Checkpoint buffer occupancy and overflow",
		Caption: "The ha-nic scenario (16,000 requests a second to the protected VMs, 1 KiB responses) at three " +
			"checkpoint intervals. Left: the output the NIC holds for commit over the first 250 ms, with a 2 MiB " +
			"buffer that never fills (the peak in each 100 us sample): it ramps through each epoch and falls when " +
			"the epoch's checkpoint is acknowledged, a commit delay after it ends; the peak grows with the " +
			"interval. Middle: overflow against the buffer's capacity, as the share of time the protected VFs' " +
			"rings are stopped (backpressure: a full buffer refuses the next packet, and the ring stops draining " +
			"until a commit makes room); each interval needs a buffer about the output of an epoch and its commit " +
			"delay, and the overflow grows as the capacity falls below it. Right: the protected VM's client's " +
			"99th-percentile latency of the requests answered: once the buffer overflows, responses wait in the " +
			"VM's stopped transmit ring for a later epoch's room, and requests arriving meanwhile overflow its " +
			"receive ring and go unanswered (the run's clients.*.unanswered and host0.nic.rx_no_buffer).",
		Sweep: "f6-buffer",
		Cols:  3,
		Panels: []Panel{
			{
				Title: "held output over time (2 MiB buffer)",
				X:     XAxis{Label: "time (ms)", Scale: 1 / float64(sim.Millisecond)},
				Y:     YAxis{Label: "held (KiB)", Scale: 1.0 / 1024},
				Series: []Series{{Label: "interval %s", By: "backup.interval", Match: map[string]string{"nic.buffer": "2MiB"},
					Trace: &Trace{File: "series-host0.buffered.occupancy.csv", Column: "nic_peak_bytes"}}},
			},
			{
				Title:  "overflow: protected rings stopped",
				X:      x,
				Y:      YAxis{Label: "time stopped (%)", Scale: 100, Ticks: percent},
				Series: []Series{{Label: "interval %s", Metric: "host0.nic.backpressure_share", By: "backup.interval"}},
			},
			{
				Title:  "protected client's p99 latency",
				X:      x,
				Y:      YAxis{Label: "p99 latency (ms)", Scale: 1 / float64(sim.Millisecond), Log: true},
				Series: []Series{{Label: "interval %s", Metric: "clients.c-web0.latency.p99", By: "backup.interval"}},
			},
		},
	}
}

// hertz reads a checkpoint interval axis value ("25ms") as a frequency.
func hertz(label string) (float64, error) {
	ms, err := durationMs(label)
	return 1000 / ms, err
}

// f7 is PATENTS.md F7: throughput and latency against checkpoint frequency.
func f7() *Figure {
	x := XAxis{Key: "backup.interval", Label: "checkpoints a second (Hz)", Value: hertz,
		Tick: func(label string) string { hz, _ := hertz(label); return trimFloat(math.Round(hz)) }}
	modes := []struct {
		label  string
		match  map[string]string
		dashed bool
	}{
		{"no checkpointing", map[string]string{"backup.enabled": "false"}, true},
		{"NIC buffer, priority", map[string]string{"backup.enabled": "true", "nic.buffering": "nic"}, false},
		// Dashed: it runs along the NIC buffer's line, which shows through.
		{"software buffering", map[string]string{"nic.buffering": "software"}, true},
		{"pauses only (output not held)", map[string]string{"backup.enabled": "true", "nic.buffering": "none"}, false},
	}
	series := func(metric string) []Series {
		var out []Series
		for _, m := range modes {
			out = append(out, Series{Label: m.label, Metric: metric, Match: m.match, Dashed: m.dashed})
		}
		return out
	}
	return &Figure{
		Name:  "f7",
		Title: "F7  Throughput and latency vs checkpoint frequency",
		Caption: "The ha-nic scenario at 10, 20, 30 and 40 checkpoints a second, measured after a 100 ms warm-up " +
			"over a whole number of epochs. Left: throughput of web1's closed-loop client (256 requests in flight). " +
			"With output held for commit, a request's response leaves only when its epoch's checkpoint is " +
			"acknowledged, so the client gets its 256 responses once an epoch: throughput is 256 times the " +
			"frequency, rising with it yet a tenth to a third of the unbuffered rate — the Remus effect of network " +
			"buffering. The NIC's buffer and software buffering coincide (the per-packet exits and copies cost " +
			"little next to the epoch; F5 shows where they differ). Without output held (pauses only) the pauses " +
			"barely dent throughput. Middle: mean latency of web0's open-loop client (8,000 requests a second): " +
			"half an interval plus the commit delay when output is held. Right: share of time the protected VMs " +
			"spend paused for checkpoints (suspend, cache scan, copy of the modified lines), which grows with the " +
			"frequency: the cost that bounds how often one can checkpoint. It is highest when output is not held, " +
			"because the VMs then serve more requests and dirty more lines per epoch.",
		Sweep: "f7-frequency",
		Cols:  3,
		Panels: []Panel{
			{Title: "closed-loop throughput", X: x, Y: YAxis{Label: "responses / s", Log: true}, Series: series("clients.c-web1.throughput")},
			{Title: "open-loop mean latency", X: x, Y: YAxis{Label: "mean latency (ms)", Scale: 1 / float64(sim.Millisecond)},
				Series: series("clients.c-web0.latency.mean")},
			{Title: "time paused for checkpoints", X: x, Y: YAxis{Label: "paused (% of time)", Scale: 100, Ticks: percent},
				Series: series("host0.backup.pause_share")},
		},
	}
}

// f8 is PATENTS.md F8: host failover with output commit.
func f8() *Figure {
	x := XAxis{Key: "backup.interval", Label: "checkpoint interval", Value: durationMs, Log: true}
	held := map[string]string{"nic.buffering": "nic"}
	ms := 1 / float64(sim.Millisecond)
	return &Figure{
		Name:  "f8",
		Title: "F8  Host failover with output commit",
		Caption: "configs/failover.toml: a protected kvserver VM answering two open-loop kv clients (6,000 requests a " +
			"second) is checkpointed to the secondary host; the primary crashes at a time drawn from [80, 120) ms. " +
			"Top left: the failover's timeline after the crash, by checkpoint interval (output held by the NIC). The " +
			"secondary suspects the primary three 20 ms heartbeat intervals after the last heartbeat it heard — 40 " +
			"to 60 ms after the crash, whatever the interval — claims the VM at the witness, and has it running " +
			"from the last checkpoint it applied " +
			"5 ms later (ha.activation); its first answer follows within a millisecond. The work rolled back (the " +
			"crash's time less the checkpoint's) is under one interval and its commit delay. Top right and bottom " +
			"left: the responses c0 received in each millisecond and the longest of their latencies, for the first " +
			"seed: about an interval and a commit delay before the crash; nothing from the crash until the " +
			"secondary runs; then answers to new requests at once (unprotected), and from 200 ms after the crash " +
			"(c0's timeout) a burst of answers to the requests sent again, 200 ms late. Bottom right: what the " +
			"clients saw that the surviving copy had lost — responses reflecting " +
			"state of epochs the secondary never received (failover.lost_output) and answers disagreeing with " +
			"the client's record of the store (kv mismatches): none when the NIC holds output until its checkpoint " +
			"commits, some when it does not.",
		Sweep: "f8-failover",
		Cols:  2,
		Panels: []Panel{
			{
				Title: "failover timeline (after the crash)",
				Where: held,
				X:     x,
				Y:     YAxis{Label: "time after the crash (ms)", Scale: ms},
				Series: []Series{
					{Label: "secondary suspects the primary", Metric: "failover.detection_ps"},
					{Label: "VM running on the secondary", Metric: "failover.activation_ps"},
					{Label: "first response from the secondary", Metric: "failover.first_frame_after_ps", Dashed: true},
					{Label: "work rolled back (before the crash)", Metric: "failover.rollback_ps"},
				},
			},
			{
				Title: "c0's responses per ms, around the crash",
				X:     XAxis{Label: "time (ms)", Scale: ms},
				Y:     YAxis{Label: "responses"},
				Series: []Series{{Label: "interval %s", By: "backup.interval", Match: held,
					Trace: &Trace{File: "series-clients.c0.window.csv", Column: "responses"}}},
			},
			{
				Title: "c0's longest latency per ms, around the crash",
				X:     XAxis{Label: "time (ms)", Scale: ms},
				Y:     YAxis{Label: "longest latency (ms)", Scale: ms},
				Series: []Series{{Label: "interval %s", By: "backup.interval", Match: held,
					Trace: &Trace{File: "series-clients.c0.window.csv", Column: "max_latency_ps"}}},
			},
			{
				Title: "output of lost state seen by clients",
				X:     x,
				Y:     YAxis{Label: "frames or answers"},
				Series: []Series{
					{Label: "responses of lost state, output held", Metric: "failover.lost_output", Match: held},
					{Label: "responses of lost state, not held", Metric: "failover.lost_output", Match: map[string]string{"nic.buffering": "none"}},
					{Label: "kv mismatches (c0), not held", Metric: "clients.c0.kv.mismatches", Match: map[string]string{"nic.buffering": "none"}, Dashed: true},
				},
			},
		},
	}
}

// recoveryPolicies are F9's x axis: each recovery.policy value of the
// f9-recovery sweep (restart's is only its number of attempts), and its
// name.
var recoveryPolicies = []struct{ label, name string }{
	{`["none", "none", "none"]`, "rollback"},
	{`["drop-request"]`, "drop"},
	{`["pad-allocator"]`, "pad"},
	{`["more-memory"]`, "memory"},
	{`["drop-request", "pad-allocator", "more-memory", "reorder-inputs", "flush"]`, "escalate"},
	{`["flush", "flush", "flush"]`, "restart"},
}

// policyAxis places a recovery policy on a categorical x axis.
var policyAxis = XAxis{Key: "recovery.policy", Label: "recovery",
	Value: func(label string) (float64, error) {
		for i, p := range recoveryPolicies {
			if p.label == label {
				return float64(i), nil
			}
		}
		return 0, fmt.Errorf("policy %s has no place on F9's axis", label)
	},
	Tick: func(label string) string {
		for _, p := range recoveryPolicies {
			if p.label == label {
				return p.name
			}
		}
		return label
	},
}

// f9 is PATENTS.md F9: recovery from application failures.
func f9() *Figure {
	bugs := []Series{{Label: "%s", By: "client[1].kv.poison_kind"}}
	series := func(metric string) []Series {
		s := bugs[0]
		s.Metric = metric
		return []Series{s}
	}
	return &Figure{
		Name:  "f9",
		Title: "F9  Recovery from application failures",
		Caption: "configs/app-failure.toml with one of kvserver's bugs switched on — overflow (a PUT with a long key " +
			"overwrites the heap block after its 24-byte copy: SIGSEGV), null (a GET of a rare missing key " +
			"dereferences NULL), leak (each 777-byte PUT leaks 64 KiB under a 10 MiB limit, until a mapping is " +
			"refused) — and a client sending the requests that trigger it. Each failure is recovered by: plain " +
			"rollback (restore the newest checkpoint before the request being served arrived and re-execute the " +
			"logged inputs, three times, unchanged); one environment change before re-executing — drop (leave " +
			"that request out), pad (set the allocator's padding), memory (double the memory limit); escalate " +
			"(drop, then adding pad, memory, reordering of concurrent inputs and a cache flush, one more per " +
			"attempt); or restart (start the program afresh). Left: share of the failures recovered (an attempt " +
			"that runs 20 ms without the failure coming back). Plain rollback never recovers: the failure comes " +
			"back deterministically. Dropping the request recovers the overflow and the NULL dereference, padding " +
			"only the overflow, more memory only the leak; escalating recovers all three. Middle (log scale; no " +
			"point where nothing was recovered): mean time from the failure to the recovering attempt's VM " +
			"running — the restore (5 ms, assumed) and fetching the image from the secondary, once per attempt " +
			"(three for the leak when escalating). Right: restarting recovers every crash as fast here — kvserver " +
			"has no start-up work to redo — but loses the store: the client's reads of keys written before find " +
			"them gone, which rollback never does.",
		Sweep: "f9-recovery",
		Cols:  3,
		Panels: []Panel{
			{Title: "failures recovered", X: policyAxis, Y: YAxis{Label: "recovered (%)", Scale: 100, Ticks: percent},
				Series: series("recovery.success_rate")},
			{Title: "recovery time", X: policyAxis, Y: YAxis{Label: "failure to recovered VM (ms)", Scale: 1 / float64(sim.Millisecond), Log: true},
				Series: series("recovery.recovery_time.mean")},
			{Title: "state lost (client c0)", X: policyAxis, Y: YAxis{Label: "answers disagreeing with the record"},
				Series: series("clients.c0.kv.mismatches")},
		},
	}
}

// catalog lists every figure by name.
func catalog() map[string]*Figure {
	out := map[string]*Figure{}
	for _, f := range []*Figure{f0(), f1(), f2(), f3(), f3p(), f4(), f4p(), f5(), f6(), f7(), f8(), f9(), f10(), f11()} {
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
	// In figure order: by number, then suffix (f3 before f3p, f9 before f10).
	num := func(n string) (int, string) {
		i := 1
		for i < len(n) && n[i] >= '0' && n[i] <= '9' {
			i++
		}
		v, _ := strconv.Atoi(n[1:i])
		return v, n[i:]
	}
	sort.Slice(names, func(i, j int) bool {
		a, as := num(names[i])
		b, bs := num(names[j])
		return a < b || a == b && as < bs
	})
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

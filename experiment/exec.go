package experiment

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/twinsim/twinsim/configs"
	"github.com/twinsim/twinsim/dbt"
	"github.com/twinsim/twinsim/sim"
)

// execHost is the exec scenario: copies of a guest program, each on its own
// timing core of host0 without a VM, sharing the L3 and DRAM — the machine
// of the other scenarios (NewHost, programRunner) with bare guests. Each
// core runs ahead of the event engine by at most host.quantum and then
// yields to the others (bound-weave, as in ZSim), so contention in the
// shared levels is charged within a quantum of the time it happened. The
// cores take turns to run first in a quantum, in a fixed rotation, so
// results do not depend on the host and no core is always first to the
// shared levels.
type execHost struct {
	cfg      configs.Config
	scope    sim.Scope
	command  []string
	programs []*programVM // by core
	runner   *programRunner
}

func buildExecHost(env *sim.Env, cfg configs.Config) (*execHost, error) {
	h := &execHost{cfg: cfg, scope: env.Scope("host0"), command: strings.Fields(cfg.Exec.Command)}
	hw, err := NewHost(h.scope, cfg, cfg.Host.Cores, nil)
	if err != nil {
		return nil, err
	}
	// Copy c runs on core c; the cores beyond the copies take their
	// threads, core k the copy k mod copies.
	for c, tc := range hw.Cores[:cfg.Exec.Copies] {
		pv, err := loadBare(tc, cfg.Exec.Command)
		if err != nil {
			return nil, err
		}
		pv.copy = c
		for k := c + cfg.Exec.Copies; k < len(hw.Cores); k += cfg.Exec.Copies {
			pv.extra = append(pv.extra, hw.Cores[k])
		}
		if err := pv.boot(cfg, tc, nil); err != nil {
			return nil, err
		}
		h.programs = append(h.programs, pv)
	}
	h.runner = newProgramRunner(h.scope, cfg, h.programs)
	for _, pv := range h.programs {
		for _, x := range pv.extra {
			registerTiming(x.Scope, x, sim.Freq(cfg.Host.Freq), func() uint64 { return pv.m.GuestInstsOn(x.Timing) })
		}
	}
	h.runner.stopWhenDone = true
	return h, nil
}

// FindProgram resolves a program named in exec.command: a path (with a
// slash) from the working directory, or the bare name of a committed
// workload, found in workloads/bin of the working directory or the nearest
// directory above it that has one.
func FindProgram(name string) (string, error) {
	check := func(p string) (string, error) {
		info, err := os.Stat(p)
		switch {
		case err != nil:
			return "", err
		case info.IsDir():
			return "", fmt.Errorf("%s is a directory, not a program", p)
		}
		return p, nil
	}
	if strings.ContainsRune(name, '/') {
		return check(name)
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "workloads", "bin", name)
		if _, err := os.Stat(p); err == nil {
			return check(p)
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", fmt.Errorf("no program %q: not a path, and no workloads/bin/%s in the working directory or above it", name, name)
		}
		dir = up
	}
}

// registerTiming publishes a timing core's statistics under s: cycles,
// instructions, IPC, branch prediction, loads and stores, TLB walks and
// the CPI stack; guestInsts counts the guest instructions it completed.
func registerTiming(s sim.Scope, tc *TimedCore, f sim.Freq, guestInsts func() uint64) {
	tm := tc.Timing
	st := tm.Stats()
	s.Value("cycles", "core cycles until the program exited (or the run ended)", func() float64 { return float64(tm.Finish()) })
	s.Value("guest_instructions", "guest (RV64) instructions completed", func() float64 { return float64(guestInsts()) })
	s.Value("host_instructions", "host instructions executed (translated code)", func() float64 { return float64(st.Insts) })
	s.Value("ipc", "host instructions per cycle", func() float64 { return ratio(st.Insts, tm.Finish()) })
	s.Value("guest_ipc", "guest instructions per cycle", func() float64 { return ratio(guestInsts(), tm.Finish()) })
	s.Value("seconds", "the program's simulated run time, in seconds", func() float64 { return f.CyclesToTime(tm.Finish()).Seconds() })
	s.Value("branches", "conditional branches", func() float64 { return float64(st.Branches) })
	s.Value("mispredicts", "mispredicted conditional branches", func() float64 { return float64(st.Mispredicts) })
	s.Value("predictor_accuracy", "conditional branches predicted correctly, as a fraction", func() float64 {
		return 1 - ratio(st.Mispredicts, st.Branches)
	})
	s.Value("indirect_jumps", "block exits through a register (BTB, RAS)", func() float64 { return float64(st.IndirectJumps) })
	s.Value("jump_mispredicts", "mispredicted exits through a register", func() float64 { return float64(st.JumpMispredict) })
	s.Value("loads", "loads timed", func() float64 { return float64(st.Loads) })
	s.Value("stores", "stores timed", func() float64 { return float64(st.Stores) })
	s.Value("firmware_cycles", "cycles in firmware: translation, system calls, faults", func() float64 { return float64(st.FirmwareCycles) })
	s.Value("fetch_stall_cycles", "instruction fetch cycles beyond an L1I hit", func() float64 { return float64(st.FetchCycles) })
	s.Value("dtlb_walks", "data TLB misses", func() float64 { return float64(tc.Data.Walks) })
	s.Value("itlb_walks", "instruction TLB misses", func() float64 { return float64(tc.Fetch.Walks) })
	cpi := s.Child("cpi")
	for _, row := range st.CPIRows() {
		cpi.Value(statName(row), "cycles per host instruction lost to "+row+" (base: issuing)", func() float64 {
			tm.Finish()
			return st.CPIStack()[row]
		})
	}
}

// registerTranslator publishes a guest's translator statistics under s:
// translations, the page-size manager's work and the regions of interest.
func registerTranslator(s sim.Scope, stats func() dbt.Stats) {
	for _, v := range []struct {
		name, doc string
		get       func(dbt.Stats) uint64
	}{
		{"blocks_translated", "guest blocks translated", func(d dbt.Stats) uint64 { return d.BlocksTranslated }},
		{"mixed_page_accesses", "accesses to mixed host pages completed by the firmware", func(d dbt.Stats) uint64 { return d.MixedAccesses }},
		{"regenerations", "blocks retranslated with inline page-table walks after faulting on mixed host pages",
			func(d dbt.Stats) uint64 { return d.Regenerations }},
		{"walked_blocks", "blocks translated with inline page-table walks", func(d dbt.Stats) uint64 { return d.WalkedBlocks }},
		{"missed_guest_faults", "permissive: accesses the guest's own 4 KiB protection would have refused",
			func(d dbt.Stats) uint64 { return d.MissedFaults }},
		{"redirected_pages", "guest pages of mixed host pages with frames of their own (redirection page mapper), at the end",
			func(d dbt.Stats) uint64 { return d.RedirectedPages }},
		{"redirect_frames", "frames the redirection page mapper handed out", func(d dbt.Stats) uint64 { return d.RedirectFrames }},
		{"inline_walks", "inline page-table walks executed", func(d dbt.Stats) uint64 { return d.Walks }},
		{"walked_mixed_accesses", "accesses to mixed host pages completed by an inline walk", func(d dbt.Stats) uint64 { return d.WalkedAccesses }},
		{"mixed_host_pages", "host pages holding guest pages that differ in protection, at the end", func(d dbt.Stats) uint64 { return d.MixedHostPages }},
		{"uniform_host_pages", "host pages whose guest pages share one protection, at the end", func(d dbt.Stats) uint64 { return d.UniformHostPages }},
	} {
		s.Value(v.name, v.doc, func() float64 { return float64(v.get(stats())) })
	}
	roi := s.Child("roi")
	roi.Value("regions", "regions of interest the program marked (dbt.SysROI)", func() float64 { return float64(stats().ROIs) })
	roi.Value("cycles", "cycles inside the regions of interest", func() float64 { return float64(stats().ROICycles) })
	roi.Value("guest_instructions", "guest instructions inside the regions of interest", func() float64 {
		return float64(stats().ROIGuestInsts)
	})
	roi.Value("host_instructions", "host instructions inside the regions of interest", func() float64 {
		return float64(stats().ROIHostInsts)
	})
}

// statName is a CPI-stack row as a statistic name ("dcache.l2" is
// "dcache_l2": a dot would be a level of the hierarchy).
func statName(row string) string { return strings.ReplaceAll(row, ".", "_") }

func ratio(a, b uint64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (h *execHost) failure() error { return h.runner.failure() }

func (h *execHost) start() { h.runner.start() }

// endTime is when the last program exited, or limit if one is still
// running.
func (h *execHost) endTime(limit sim.Time) sim.Time {
	var end sim.Time
	for _, pv := range h.programs {
		if !pv.exited {
			return limit
		}
		end = max(end, pv.endTime)
	}
	return end
}

// files are each core's standard output and error.
func (h *execHost) files() []outFile { return programFiles(h.programs) }

func (h *execHost) stat(path, name string) float64 { return lookupValue(h.scope.Env(), path, name) }

// summary prints each core's program result, cycles, IPC, CPI stack and
// miss rates.
func (h *execHost) summary(w io.Writer, r *Result) {
	cfg := h.cfg
	summaryHeader(w, r)
	fmt.Fprintf(w, "%s on %d %s core(s), %d-wide, %s\n", strings.Join(h.command, " "), len(h.programs), cfg.Core.Model,
		cfg.Core.Width, cfg.Host.Freq)
	for _, c := range h.programs {
		name := c.tc.Scope.Name()
		status := "still running at the end of run.duration"
		if c.exited {
			status = fmt.Sprintf("exited with status %d at %s", c.res.ExitCode, fmtTime(float64(c.endTime)))
		}
		fmt.Fprintf(w, "\n%s: %s\n", name, status)
		fmt.Fprintf(w, "  %.0f guest instructions, %.0f host instructions, %.0f cycles: host IPC %.3f, guest IPC %.3f\n",
			h.stat(name, "guest_instructions"), h.stat(name, "host_instructions"), h.stat(name, "cycles"),
			h.stat(name, "ipc"), h.stat(name, "guest_ipc"))
		fmt.Fprintf(w, "  branch predictor accuracy %.2f%%; %.0f data and %.0f instruction TLB walks\n",
			100*h.stat(name, "predictor_accuracy"), h.stat(name, "dtlb_walks"), h.stat(name, "itlb_walks"))
		fmt.Fprintf(w, "  CPI stack:")
		for _, row := range c.tc.Timing.Stats().CPIRows() {
			if v := h.stat(name+".cpi", statName(row)); v >= 0.0005 {
				fmt.Fprintf(w, " %s %.3f", row, v)
			}
		}
		fmt.Fprintln(w)
		fmt.Fprintf(w, "  miss rates:")
		for _, lv := range append(append([]string(nil), c.tc.Levels...), c.tc.FetchLevel) {
			if lv != "" {
				fmt.Fprintf(w, " %s %.2f%%", lv[strings.LastIndexByte(lv, '.')+1:], 100*h.stat(lv, "miss_rate"))
			}
		}
		fmt.Fprintln(w)
	}
	if len(h.programs) > 0 {
		out := h.programs[0].stdout.String()
		if lines := strings.Split(strings.TrimRight(out, "\n"), "\n"); len(lines) > 10 {
			out = strings.Join(lines[:10], "\n") + fmt.Sprintf("\n... (%d more lines in core0.stdout)\n", len(lines)-10)
		}
		fmt.Fprintf(w, "\ncore0's standard output:\n%s", out)
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

const workloadBin = "../../workloads/bin"

func TestExecPassesThroughOutputAndStatus(t *testing.T) {
	out, errs, code := runProcess(t, "exec", filepath.Join(workloadBin, "sieve"), "1000")
	require.Equal(t, 0, code, errs)
	want, err := os.ReadFile("../../workloads/expected/sieve-1000.out")
	require.NoError(t, err)
	require.Equal(t, string(want), out)
	require.Empty(t, errs)

	// The guest's own non-zero status, silently.
	_, errs, code = runProcess(t, "exec", filepath.Join(workloadBin, "faults"), "exit", "42")
	require.Equal(t, 42, code)
	require.Empty(t, errs)

	// Guest arguments that look like flags are the guest's.
	out, _, code = runProcess(t, "exec", filepath.Join(workloadBin, "faults"), "--stats")
	require.Equal(t, 2, code)
	require.Equal(t, "faults: --stats\n", out)
}

func TestExecSignals(t *testing.T) {
	for _, tc := range []struct {
		arg    string
		code   int
		signal string
	}{
		{"null", 139, "SIGSEGV (Segmentation fault): load from 0x10 at pc 0x"},
		{"text", 139, "SIGSEGV (Segmentation fault): store to 0x"},
		{"illegal", 132, "SIGILL (Illegal instruction): illegal instruction 0x0 at pc 0x"},
		{"ebreak", 133, "SIGTRAP"},
	} {
		out, errs, code := runProcess(t, "exec", filepath.Join(workloadBin, "faults"), tc.arg)
		require.Equal(t, tc.code, code, tc.arg)
		require.Equal(t, "faults: "+tc.arg+"\n", out)
		require.Contains(t, errs, "twinsim: guest killed by "+tc.signal)
	}
}

func TestExecStats(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s", "stats.json")
	_, errs, code := runProcess(t, "exec", "--stats", path, "--set", "host.page_size=4KiB", filepath.Join(workloadBin, "recursion"))
	require.Equal(t, 0, code, errs)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var st map[string]any
	require.NoError(t, json.Unmarshal(data, &st))
	require.Greater(t, st["guest_instructions"].(float64), 1e6)
	require.Greater(t, st["host_instructions"].(float64), st["guest_instructions"].(float64))
	require.Positive(t, st["blocks_translated"].(float64))
	require.Positive(t, st["chain_hits"].(float64))
	require.Equal(t, 4096.0, st["host_page_size"].(float64))
	require.Zero(t, st["mixed_page_accesses"].(float64))
	sys := st["syscalls"].(map[string]any)
	require.Equal(t, 1.0, sys["exit_group"])
	require.Positive(t, sys["write"].(float64))
}

// runExecStats runs twinsim exec with args (flags, then program and its
// arguments) and --stats, requires success, and decodes the statistics
// into v. It returns the guest's output.
func runExecStats(t *testing.T, v any, args ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "stats.json")
	out, errs, code := runProcess(t, append([]string{"exec", "--stats", path}, args...)...)
	require.Equal(t, 0, code, errs)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, v))
	return out
}

func TestExecErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"exec", "../../dbt/testdata/hello-dynamic"}, 1, "a dynamically linked executable"},
		{[]string{"exec", "../../workloads"}, 1, "is a directory, not a program"},
		{[]string{"exec", "no-such-file"}, 1, "no such file"},
		{[]string{"exec", "exec_test.go"}, 1, "not an ELF file"},
		{[]string{"exec", "--mode", "ooo", filepath.Join(workloadBin, "sieve")}, 2, `--mode "ooo" is not available; use functional or timing`},
		{[]string{"exec", "--set", "host.page_size=8KiB", filepath.Join(workloadBin, "sieve")}, 1, "host.page_size"},
		{[]string{"exec"}, 2, "requires at least 1 arg"},
	} {
		_, errs, code := runProcess(t, tc.args...)
		require.Equal(t, tc.code, code, "%v: %s", tc.args, errs)
		require.Contains(t, errs, tc.want, "%v", tc.args)
	}
	// A truncated ELF.
	data, err := os.ReadFile(filepath.Join(workloadBin, "sieve"))
	require.NoError(t, err)
	trunc := filepath.Join(t.TempDir(), "trunc")
	require.NoError(t, os.WriteFile(trunc, data[:4096], 0o755))
	_, errs, code := runProcess(t, "exec", trunc)
	require.Equal(t, 1, code)
	require.Contains(t, errs, "truncated ELF file")
}

func TestExecTimingMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.json")
	out, errs, code := runProcess(t, "exec", "--mode", "timing", "--stats", path, filepath.Join(workloadBin, "sieve"), "1000")
	require.Equal(t, 0, code, errs)
	want, err := os.ReadFile("../../workloads/expected/sieve-1000.out")
	require.NoError(t, err)
	require.Equal(t, string(want), out, "timing mode changes no architectural result")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var st struct {
		Timing struct {
			Insts    uint64  `json:"host_instructions_timed"`
			Cycles   uint64  `json:"cycles"`
			Firmware uint64  `json:"firmware_cycles"`
			IPC      float64 `json:"host_ipc"`
		} `json:"timing"`
		HostInsts uint64 `json:"host_instructions"`
	}
	require.NoError(t, json.Unmarshal(data, &st))
	require.Positive(t, st.Timing.Cycles)
	require.InDelta(t, float64(st.Timing.Insts)/float64(st.Timing.Cycles), st.Timing.IPC, 1e-9)
	// Every executed instruction is timed once; faulting ones (accesses to
	// mixed host pages the firmware completes) are timed but not retired.
	require.GreaterOrEqual(t, st.Timing.Insts, st.HostInsts)
	require.Less(t, float64(st.Timing.Insts), 1.05*float64(st.HostInsts))
	// A short run is mostly translation; outside the firmware the 2-wide
	// core retires between a third of an instruction and two a cycle.
	ipc := float64(st.Timing.Insts) / float64(st.Timing.Cycles-st.Timing.Firmware)
	require.Greater(t, ipc, 0.3)
	require.LessOrEqual(t, ipc, 2.0)
	require.Positive(t, st.Timing.Firmware)
}

// roiRun is what the validation tests read from --stats: the region of
// interest ubench marks around the loop it measures, and the core's
// branch counts.
type roiRun struct {
	ROI struct {
		Cycles    float64 `json:"cycles"`
		HostInsts float64 `json:"host_instructions"`
	} `json:"roi"`
	Timing struct {
		Mispredicts float64 `json:"mispredicts"`
	} `json:"timing"`
}

// runROI runs ubench in timing mode with the settings sets.
func runROI(t *testing.T, sets []string, args ...string) roiRun {
	t.Helper()
	var st roiRun
	cmd := []string{"--mode", "timing"}
	for _, s := range sets {
		cmd = append(cmd, "--set", s)
	}
	runExecStats(t, &st, append(append(cmd, filepath.Join(workloadBin, "ubench")), args...)...)
	require.Positive(t, st.ROI.Cycles, "ubench marks its loop")
	return st
}

// TestTimingLatencyCurve is lmbench's lat_mem_rd through the timing mode:
// after a warm-up pass, dependent loads over a footprint take the latency
// of the level that holds it — the default hierarchy's 2 (L1), 2+12 (L2)
// and 2+12+40 (L3) cycles — and from DRAM those plus 60 ns (180 cycles at
// 3 GHz) and the line's transfer (128 B at 12.8 GB/s, 30 cycles), plus,
// for most loads once the footprint passes the 4 MiB the 1024-entry TLB of
// 4 KiB pages maps, a page walk: 30 cycles and three page-table reads
// through the caches (about 45 cycles at 32 MiB; more at 256 MiB, whose
// page table no longer stays in the L2).
func TestTimingLatencyCurve(t *testing.T) {
	const loads = 100000
	sets := []string{"host.page_size=4KiB", "tlb.entries=1024"}
	for _, tc := range []struct {
		model     string
		footprint string
		want, tol float64
	}{
		{"in-order", "4096", 2, 0.05},
		{"in-order", "16384", 2, 0.05},
		{"in-order", "131072", 14, 0.1},
		{"in-order", "262144", 14, 0.1},
		{"in-order", "2097152", 54, 0.5},
		{"in-order", "4194304", 54, 0.5},
		{"in-order", "33554432", 305, 5},
		{"in-order", "268435456", 334, 8},
		{"out-of-order", "16384", 2, 0.05},
		{"out-of-order", "131072", 14, 0.1},
		{"out-of-order", "2097152", 54, 0.5},
		{"out-of-order", "33554432", 305, 5},
	} {
		st := runROI(t, append(sets, "core.model="+tc.model), "chase", tc.footprint, strconv.Itoa(loads))
		require.InDelta(t, tc.want, st.ROI.Cycles/loads, tc.tol, "%s, %s bytes", tc.model, tc.footprint)
	}
}

// TestTimingValidation checks the microbenchmarks whose timing is known
// analytically, through twinsim exec's statistics.
func TestTimingValidation(t *testing.T) {
	cpi := func(st roiRun) float64 { return st.ROI.Cycles / st.ROI.HostInsts }
	// Dependent adds: one a cycle on a 1-wide core; the loop's own
	// instructions fill the same single slot, so CPI 1.
	require.InDelta(t, 1.0, cpi(runROI(t, []string{"core.width=1", "core.alu_units=1"}, "depchain", "5000")), 0.02)
	// Independent adds on a 2-wide core: two a cycle.
	require.InDelta(t, 0.5, cpi(runROI(t, []string{"core.width=2", "core.alu_units=2"}, "indep", "5000")), 0.03)
	// On the out-of-order core, 4-wide with 3 ALUs: three a cycle.
	require.InDelta(t, 1/3.0, cpi(runROI(t, []string{"core.model=out-of-order", "core.width=4", "core.alu_units=3"}, "indep", "5000")), 0.02)

	// Alternating branches: global history (gshare) learns them, a
	// bimodal counter mispredicts about half; each miss costs the pipeline
	// depth (7 cycles).
	const branches = 100000
	gs := runROI(t, []string{"core.predictor=gshare"}, "branch", "alternate", strconv.Itoa(branches))
	bim := runROI(t, []string{"core.predictor=bimodal"}, "branch", "alternate", strconv.Itoa(branches))
	require.Less(t, gs.Timing.Mispredicts, 0.01*branches)
	require.Greater(t, bim.Timing.Mispredicts, 0.4*branches)
	require.InDelta(t, 7*(bim.Timing.Mispredicts-gs.Timing.Mispredicts), bim.ROI.Cycles-gs.ROI.Cycles,
		0.1*7*bim.Timing.Mispredicts)

	// Streaming 16 MiB on the out-of-order core straight from one DRAM
	// channel (no L2 or L3): bounded by the channel's configured bandwidth
	// while the transfer dominates the latency.
	for _, bw := range []float64{0.5e9, 1e9, 2e9} {
		const bytes = 16 << 20
		st := runROI(t, []string{"core.model=out-of-order", "core.width=4", "core.alu_units=3", "core.mem_ports=2",
			"dram.channels=1", fmt.Sprintf("dram.bandwidth=%.0fB/s", bw), "cache.l2.enabled=false", "cache.l3.enabled=false",
			"host.page_size=4KiB", "tlb.entries=1024"}, "stream", strconv.Itoa(bytes), "1")
		got := bytes / (st.ROI.Cycles / 3e9)
		require.InDelta(t, bw, got, 0.05*bw, "%.1f GB/s configured", bw/1e9)
	}
}

func TestTimingFirmwareCosts(t *testing.T) {
	run := func(page string) (cycles, firmware float64) {
		var st struct {
			Timing struct {
				Cycles   float64 `json:"cycles"`
				Firmware float64 `json:"firmware_cycles"`
			} `json:"timing"`
			Mixed float64 `json:"mixed_page_accesses"`
		}
		runExecStats(t, &st, "--mode", "timing", "--set", "host.page_size="+page, "--set", "translator.strategy=never",
			filepath.Join(workloadBin, "sieve"), "100000")
		if page == "4KiB" {
			require.Zero(t, st.Mixed)
		}
		return st.Timing.Cycles, st.Timing.Firmware
	}
	c4, f4 := run("4KiB")
	c64, f64 := run("64KiB")
	// Translation and system calls cost firmware time either way; with
	// 64 KiB host pages the faults on the page text and data share add
	// the default 400 cycles each.
	require.Positive(t, f4)
	require.Greater(t, f64, f4)
	require.InDelta(t, c64-c4, f64-f4, 0.05*(f64-f4)+1000)
}

func TestTimingPredictorChoice(t *testing.T) {
	mispredicts := func(pred string) float64 {
		var st struct {
			Timing struct {
				Mispredicts float64 `json:"mispredicts"`
			} `json:"timing"`
		}
		runExecStats(t, &st, "--mode", "timing", "--set", "core.predictor="+pred, filepath.Join(workloadBin, "ubench"), "branch", "loop8", "100000")
		return st.Timing.Mispredicts
	}
	// Seven taken, one not: a 2-bit counter misses the eighth; TAGE's long
	// histories learn the period.
	bim, tage := mispredicts("bimodal"), mispredicts("tage")
	require.Greater(t, bim, 10000.0)
	require.Less(t, tage, bim/10)
}

// TestExecThreadsOnCores: a pthread work queue run in timing mode with its
// threads on 1, 2 and 4 cores prints what qemu-riscv64 prints, and with
// more cores every core works and the run takes fewer cycles.
func TestExecThreadsOnCores(t *testing.T) {
	want, err := os.ReadFile("../../workloads/expected/threads-queue.out")
	require.NoError(t, err)
	var cycles []uint64
	for _, n := range []int{1, 2, 4} {
		var st struct {
			Threads uint64                  `json:"threads"`
			Timing  struct{ Cycles uint64 } `json:"timing"`
			Cores   []struct {
				Cycles uint64 `json:"cycles"`
				Insts  uint64 `json:"host_instructions_timed"`
			} `json:"cores"`
		}
		out := runExecStats(t, &st, "--mode", "timing", "--cores", strconv.Itoa(n), filepath.Join(workloadBin, "threads"), "queue", "4", "300")
		require.Equal(t, string(want), out, "%d cores", n)
		require.Equal(t, uint64(5), st.Threads, "main and four workers")
		end := st.Timing.Cycles
		if n > 1 {
			require.Len(t, st.Cores, n)
			for i, c := range st.Cores {
				require.Positive(t, c.Insts, "core %d ran threads", i)
				end = max(end, c.Cycles)
			}
		}
		cycles = append(cycles, end)
	}
	require.Less(t, cycles[2], cycles[0], "four cores finish sooner than one")
	_, errs, code := runProcess(t, "exec", "--cores", "2", filepath.Join(workloadBin, "threads"), "misc")
	require.Equal(t, 2, code)
	require.Contains(t, errs, "--cores 2 needs --mode timing")
	_, errs, code = runProcess(t, "exec", "--mode", "timing", "--cores", "0", filepath.Join(workloadBin, "threads"), "misc")
	require.Equal(t, 2, code)
	require.Contains(t, errs, "--cores 0 is not allowed")
	_, errs, code = runProcess(t, "exec", filepath.Join(workloadBin, "threads"), "deadlock")
	require.Equal(t, 1, code)
	require.Contains(t, errs, "deadlock: all 2 threads of the guest wait for ever")
}

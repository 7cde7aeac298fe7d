package dbt

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/twinsim/twinsim/workloads"

	"github.com/twinsim/twinsim/cpu"
	"github.com/twinsim/twinsim/sim"
)

func runWorkload(t *testing.T, name string, args ...string) (Result, string, string, Stats) {
	t.Helper()
	return runWorkloadOn(t, 64<<10, name, args...)
}

// runWorkloadOn runs a workload with the given host page size.
func runWorkloadOn(t *testing.T, hostPage uint64, name string, args ...string) (Result, string, string, Stats) {
	t.Helper()
	prog, err := LoadProgram(readWorkload(t, name))
	require.NoError(t, err)
	var out, errb bytes.Buffer
	path := filepath.Join(workloadsDir, name)
	p, err := NewProcess(prog, ProcessConfig{Path: path, Argv: append([]string{path}, args...), Seed: 1, Stdout: &out, Stderr: &errb})
	require.NoError(t, err)
	defer p.Close()
	m, err := NewMachine(p, MachineConfig{HostPageSize: hostPage}, &errb)
	require.NoError(t, err)
	res, err := m.Run()
	require.NoError(t, err)
	return res, out.String(), errb.String(), m.Stats()
}

// diffCase is one line of workloads/cases.txt.
type diffCase struct {
	id, prog string
	args     []string
}

func readCases(t *testing.T) []diffCase { return readCaseFile(t, "../workloads/cases.txt") }

// readCaseFile reads a case list of workloads (cases.txt, threadcases.txt).
func readCaseFile(t *testing.T, path string) []diffCase {
	t.Helper()
	cs, err := workloads.ReadCases(path)
	require.NoError(t, err)
	var out []diffCase
	for _, c := range cs {
		out = append(out, diffCase{id: c.ID, prog: c.Program, args: c.Args})
	}
	require.NotEmpty(t, out)
	return out
}

// TestDifferentialAgainstQemu runs every case of workloads/cases.txt and
// compares its standard output and exit status with what qemu-riscv64
// does: with the recorded expectations (workloads/expected, made by
// qemu-riscv64 with `make workloads`) always, and with qemu-riscv64 itself
// when it is installed.
func TestDifferentialAgainstQemu(t *testing.T) {
	qemu, _ := exec.LookPath("qemu-riscv64")
	for _, c := range readCases(t) {
		t.Run(c.id, func(t *testing.T) {
			// With 4 KiB host pages every host page is uniform; with 64 KiB
			// ones text and data share a page and the firmware completes
			// those accesses. Both must behave exactly as Linux does.
			res4k, out4k, _, st4k := runWorkloadOn(t, 4<<10, c.prog, c.args...)
			require.Zero(t, st4k.MixedAccesses, "no mixed pages with 4 KiB host pages")
			res, out, errs, st := runWorkload(t, c.prog, c.args...)
			require.Equal(t, res4k, res)
			require.Equal(t, out4k, out)
			require.Equal(t, st4k.GuestInsts, st.GuestInsts, "the same instructions, whatever the host page size")
			wantOut, err := os.ReadFile(filepath.Join("../workloads/expected", c.id+".out"))
			require.NoError(t, err)
			wantStatus, err := os.ReadFile(filepath.Join("../workloads/expected", c.id+".status"))
			require.NoError(t, err)
			require.Equal(t, string(wantOut), out, "stdout")
			require.Equal(t, strings.TrimSpace(string(wantStatus)), strconv.Itoa(res.ExitCode), "exit status (stderr: %s)", errs)
			require.Positive(t, st.GuestInsts)
			if res.Signal != 0 {
				require.Contains(t, errs, "twinsim: guest killed by "+signalNames[res.Signal])
				require.Contains(t, errs, " at pc 0x")
			}
			if qemu == "" {
				return
			}
			qout, status := runQemu(t, qemu, c)
			require.Equal(t, qout, out, "stdout against qemu-riscv64")
			require.Equal(t, status, res.ExitCode, "exit status against qemu-riscv64")
		})
	}
}

// runQemu runs case c under qemu-riscv64 and returns its standard output
// and exit status as a shell reports it (128 + the signal for a killed
// program).
func runQemu(t *testing.T, qemu string, c diffCase) (string, int) {
	t.Helper()
	cmd := exec.Command(qemu, append([]string{filepath.Join(workloadsDir, c.prog)}, c.args...)...)
	var qout bytes.Buffer
	cmd.Stdout = &qout
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return qout.String(), 128 + int(ws.Signal())
		}
		return qout.String(), ee.ExitCode()
	default:
		require.NoError(t, err)
	}
	return qout.String(), 0
}

// TestTimingMatchesFunctional runs every case of workloads/cases.txt in
// timing mode on both core models: the standard output, exit status and
// instruction counts are functional mode's (the timing model only
// observes), and every executed instruction is timed.
func TestTimingMatchesFunctional(t *testing.T) {
	for _, c := range readCases(t) {
		t.Run(c.id, func(t *testing.T) {
			t.Parallel() // interp alone runs 667 million instructions on each model
			res, out, _, st := runWorkload(t, c.prog, c.args...)
			for _, model := range []string{"in-order", "out-of-order"} {
				tres, tout, tst, tm := runTimedOn(t, model, MachineConfig{HostPageSize: 64 << 10, TranslateCycles: 300,
					SyscallCycles: 2000, FaultCycles: 400}, c.prog, c.args...)
				width := uint64(cpu.DefaultInOrderConfig().Width)
				if model == "out-of-order" {
					width = uint64(cpu.DefaultOutOfOrderConfig().Width)
				}
				require.Equal(t, res, tres, model)
				require.Equal(t, out, tout, model)
				require.Equal(t, st.GuestInsts, tst.GuestInsts, model)
				require.Equal(t, st.HostInsts, tst.HostInsts, model)
				// Faulting instructions are timed when they first issue but
				// not retired.
				require.GreaterOrEqual(t, tm.Stats().Insts, tst.HostInsts, model)
				require.LessOrEqual(t, tm.Stats().Insts, tst.HostInsts+tst.Faults+tst.MixedAccesses, model)
				require.Greater(t, tm.Finish(), tst.HostInsts/width, model)
			}
		})
	}
}

func TestSelfModifyingCodeIsRetranslated(t *testing.T) {
	res, out, _, st := runWorkload(t, "jit")
	require.Zero(t, res.ExitCode)
	require.Contains(t, out, "patched in place 50 times, acc 4900")
	// Each W^X round unmaps the old code's protection (invalidating its
	// blocks); each in-place patch faults on the write-protected code page.
	require.Positive(t, st.Invalidations)
	require.Positive(t, st.Faults)
}

func TestChaining(t *testing.T) {
	_, _, _, st := runWorkload(t, "recursion")
	require.Greater(t, st.ChainHits, 10*st.Dispatches, "most block transitions follow links")
	require.Greater(t, st.HostInsts, st.GuestInsts, "jalr and branch exits add host instructions")
	require.Less(t, st.HostInsts, 2*st.GuestInsts)
}

func TestStrictSyscalls(t *testing.T) {
	prog, err := LoadProgram(readWorkload(t, "sieve"))
	require.NoError(t, err)
	p, err := NewProcess(prog, ProcessConfig{Path: "sieve", Argv: []string{"sieve", "100"}, Strict: true})
	require.NoError(t, err)
	// Every call sieve makes is supported, so strict mode changes nothing.
	m, err := NewMachine(p, MachineConfig{}, nil)
	require.NoError(t, err)
	res, err := m.Run()
	require.NoError(t, err)
	require.Zero(t, res.ExitCode)
	_, err = NewMachine(p, MachineConfig{HostPageSize: 8 << 10}, nil)
	require.ErrorContains(t, err, "host page size 8192 is not supported")
}

func TestMixedHostPages(t *testing.T) {
	// glibc's static layout puts text and data in one 64 KiB page: with
	// 64 KiB host pages the firmware completes the accesses to it.
	_, _, _, st := runWorkloadOn(t, 64<<10, "recursion")
	require.Positive(t, st.MixedAccesses)
	_, _, _, st16 := runWorkloadOn(t, 16<<10, "recursion")
	require.Positive(t, st16.MixedAccesses)
	require.LessOrEqual(t, st16.MixedAccesses, st.MixedAccesses, "smaller host pages are mixed less often")
}

// BenchmarkGuestMIPS runs the interp workload (a bytecode interpreter: a
// loop of loads, arithmetic and an indirect jump) and reports guest
// instructions per second.
func BenchmarkGuestMIPS(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(workloadsDir, "interp"))
	require.NoError(b, err)
	prog, err := LoadProgram(data)
	require.NoError(b, err)
	var insts uint64
	for b.Loop() {
		p, err := NewProcess(prog, ProcessConfig{Path: "interp", Argv: []string{"interp"}, Stdout: io.Discard})
		require.NoError(b, err)
		m, err := NewMachine(p, MachineConfig{}, nil)
		require.NoError(b, err)
		res, err := m.Run()
		require.NoError(b, err)
		require.Zero(b, res.ExitCode)
		insts += m.Stats().GuestInsts
	}
	b.ReportMetric(float64(insts)/b.Elapsed().Seconds()/1e6, "guest-MIPS")
}

func TestGuestClockFollowsInstructions(t *testing.T) {
	prog, err := LoadProgram(readWorkload(t, "recursion"))
	require.NoError(t, err)
	p, err := NewProcess(prog, ProcessConfig{Path: "recursion", Argv: []string{"recursion"}})
	require.NoError(t, err)
	m, err := NewMachine(p, MachineConfig{Freq: 2 * sim.GHz}, nil)
	require.NoError(t, err)
	_, err = m.Run()
	require.NoError(t, err)
	// One host instruction a cycle at 2 GHz.
	require.Equal(t, sim.Time(m.Stats().HostInsts)*500*sim.Picosecond, p.now())
	require.Equal(t, uint64(200), m.core.TimerDiv, "a 10 MHz timer beside a 2 GHz clock")
	_, err = NewMachine(p, MachineConfig{Freq: sim.MHz}, nil)
	require.ErrorContains(t, err, "below the 10 MHz")
}

// runTimed runs a workload in timing mode on the default core of model
// (in-order or out-of-order) with a gshare predictor; it must exit 0.
func runTimed(t *testing.T, model, name string, args ...string) (string, Stats, *cpu.TimingStats) {
	t.Helper()
	res, out, st, tm := runTimedOn(t, model, MachineConfig{}, name, args...)
	require.Zero(t, res.ExitCode)
	return out, st, tm.Stats()
}

// runTimedOn runs a workload in timing mode with mc (its Timing set to
// model's default core with a gshare predictor).
func runTimedOn(t *testing.T, model string, mc MachineConfig, name string, args ...string) (Result, string, Stats, cpu.Timing) {
	t.Helper()
	prog, err := LoadProgram(readWorkload(t, name))
	require.NoError(t, err)
	var out bytes.Buffer
	path := filepath.Join(workloadsDir, name) // as runWorkloadOn, so startup is the same
	p, err := NewProcess(prog, ProcessConfig{Path: path, Argv: append([]string{path}, args...), Seed: 1, Stdout: &out})
	require.NoError(t, err)
	defer p.Close()
	pred, err := cpu.NewPredictor("gshare")
	require.NoError(t, err)
	cfg := cpu.DefaultInOrderConfig()
	if model == "out-of-order" {
		cfg = cpu.DefaultOutOfOrderConfig()
	}
	if mc.Timing, err = cpu.NewTiming(model, cfg, pred); err != nil {
		t.Fatal(err)
	}
	m, err := NewMachine(p, mc, nil)
	require.NoError(t, err)
	res, err := m.Run()
	require.NoError(t, err)
	mc.Timing.Finish()
	return res, out.String(), m.Stats(), mc.Timing
}

func TestTimingModeMicrobenchmarks(t *testing.T) {
	for _, model := range []string{"in-order", "out-of-order"} {
		// The same architectural results as functional mode.
		out, st, tm := runTimed(t, model, "ubench", "depchain", "20000")
		_, fout, _, fst := runWorkloadOn(t, 64<<10, "ubench", "depchain", "20000")
		require.Equal(t, fout, out)
		require.Equal(t, fst.GuestInsts, st.GuestInsts)
		require.Equal(t, fst.HostInsts, tm.Insts)
		// 64 dependent adds per iteration dominate: about one instruction a
		// cycle even on a wide core.
		require.InDelta(t, 1.0, float64(tm.Insts)/float64(tm.Cycles), 0.1, model)

		_, _, tm = runTimed(t, model, "ubench", "indep", "20000")
		ipc := float64(tm.Insts) / float64(tm.Cycles)
		if model == "in-order" {
			require.InDelta(t, 2.0, ipc, 0.1, "four independent chains fill both issue slots")
		} else {
			require.InDelta(t, 3.0, ipc, 0.15, "four independent chains on three ALUs")
		}

		// A branch gshare learns (alternation) against an unpredictable one.
		_, _, alt := runTimed(t, model, "ubench", "branch", "alternate", "200000")
		_, _, rnd := runTimed(t, model, "ubench", "branch", "random", "200000")
		require.Less(t, alt.Mispredicts, uint64(2000))
		require.Greater(t, rnd.Mispredicts, uint64(90000), "about half of 200000 random branches")
		require.Greater(t, rnd.Cycles, alt.Cycles+90000*5, model)
	}
}

package dbt

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/twinsim/twinsim/cpu"
	"github.com/twinsim/twinsim/memory"
	"github.com/twinsim/twinsim/workloads"
)

// readThreadCases reads workloads/threadcases.txt.
func readThreadCases(t *testing.T) []diffCase { return readCaseFile(t, "../workloads/threadcases.txt") }

// runThreaded runs c with mc (its Cores, if any, are fresh in-order timing
// models) and returns its result, output and statistics.
func runThreaded(t *testing.T, c diffCase, mc MachineConfig) (Result, string, Stats) {
	t.Helper()
	prog, err := LoadProgram(readWorkload(t, c.prog))
	require.NoError(t, err)
	var out, errb bytes.Buffer
	path := filepath.Join(workloadsDir, c.prog)
	p, err := NewProcess(prog, ProcessConfig{Path: path, Argv: append([]string{path}, c.args...), Seed: 1, Stdout: &out, Stderr: &errb})
	require.NoError(t, err)
	defer p.Close()
	m, err := NewMachine(p, mc, &errb)
	require.NoError(t, err)
	res, err := m.Run()
	require.NoError(t, err, "stderr: %s", errb.String())
	return res, out.String(), m.Stats()
}

func timingCores(t *testing.T, n int) []cpu.Timing {
	t.Helper()
	var out []cpu.Timing
	for range n {
		pred, err := cpu.NewPredictor("gshare")
		require.NoError(t, err)
		tm, err := cpu.NewTiming("in-order", cpu.DefaultInOrderConfig(), pred)
		require.NoError(t, err)
		out = append(out, tm)
	}
	return out
}

func wantCase(t *testing.T, id string) (string, int) {
	t.Helper()
	out, status, err := workloads.ReadExpected("../workloads/expected", id)
	require.NoError(t, err)
	return out, status
}

// TestThreadsAgainstQemu runs every multithreaded case — a pthread work
// queue, a parallel reduction, a condvar ping-pong, an LR/SC counter,
// and TLS, timed waits, semaphores and rwlocks — in functional mode at
// 4 KiB and 64 KiB host pages and in timing mode with its threads on 1, 2
// and 4 cores: output and exit status are qemu-riscv64's every time
// (recorded, and live when qemu-riscv64 is installed).
func TestThreadsAgainstQemu(t *testing.T) {
	qemu, _ := exec.LookPath("qemu-riscv64")
	for _, c := range readThreadCases(t) {
		t.Run(c.id, func(t *testing.T) {
			wantOut, wantStatus := wantCase(t, c.id)
			for _, mc := range []MachineConfig{{HostPageSize: 4 << 10}, {HostPageSize: 64 << 10},
				{Cores: timingCores(t, 1)}, {Cores: timingCores(t, 2)}, {Cores: timingCores(t, 4)}} {
				res, out, st := runThreaded(t, c, mc)
				require.Equal(t, wantOut, out, "%d cores", len(mc.Cores))
				require.Equal(t, wantStatus, res.ExitCode)
				require.Greater(t, st.Threads, uint64(1), "it made threads")
			}
			if qemu == "" {
				return
			}
			qout, status := runQemu(t, qemu, c)
			require.Equal(t, qout, wantOut, "the recorded expectation is qemu-riscv64's")
			require.Equal(t, status, wantStatus)
		})
	}
}

// TestThreadsOnCoresRunInParallel: the reduction's four threads on four
// timing cores finish sooner than on one, and every core ran some.
func TestThreadsOnCoresRunInParallel(t *testing.T) {
	c := diffCase{id: "reduce", prog: "threads", args: []string{"reduce", "4", "200000"}}
	one := timingCores(t, 1)
	_, _, _ = runThreaded(t, c, MachineConfig{Cores: one})
	four := timingCores(t, 4)
	_, _, _ = runThreaded(t, c, MachineConfig{Cores: four})
	c1 := one[0].Finish()
	var c4 uint64
	for _, tm := range four {
		require.Positive(t, tm.Stats().Insts)
		c4 = max(c4, tm.Finish())
	}
	require.Less(t, float64(c4), 0.6*float64(c1), "four cores: %d cycles, one: %d", c4, c1)
}

// TestThreadsDeadlockIsReported: a thread waiting on a condition nobody
// signals, joined by main, is a deadlock Run reports instead of hanging.
func TestThreadsDeadlockIsReported(t *testing.T) {
	prog, err := LoadProgram(readWorkload(t, "threads"))
	require.NoError(t, err)
	var out bytes.Buffer
	p, err := NewProcess(prog, ProcessConfig{Argv: []string{"threads", "deadlock"}, Stdout: &out})
	require.NoError(t, err)
	m, err := NewMachine(p, MachineConfig{}, &out)
	require.NoError(t, err)
	_, err = m.Run()
	var be *BlockedForeverError
	require.ErrorAs(t, err, &be)
	require.Equal(t, "futex", be.Call)
	require.Equal(t, 2, be.Threads)
	require.Contains(t, err.Error(), "deadlock: all 2 threads")
}

// TestThreadsResumeFromSnapshot: a multithreaded guest stopped in the
// middle, snapshotted with every thread's registers and waits, its image
// copied to a fresh host and resumed there ends as the uninterrupted run
// does.
func TestThreadsResumeFromSnapshot(t *testing.T) {
	withThreads := 0
	defer func() { require.Positive(t, withThreads, "some snapshots caught several threads") }()
	for _, c := range readThreadCases(t) {
		t.Run(c.id, func(t *testing.T) {
			wantOut, wantStatus := wantCase(t, c.id)
			full := newImageRun(t, 64<<10, c)
			_, err := full.m.Run()
			require.NoError(t, err)
			half := full.m.now() / 2
			for _, at := range []uint64{half / 4, half} {
				r := newImageRun(t, 64<<10, c)
				res, exited, err := r.m.RunUntil(max(at, 1))
				require.NoError(t, err)
				out := r.out.String()
				if !exited {
					snap, err := r.m.Snapshot()
					require.NoError(t, err)
					if len(snap.Threads) > 0 {
						withThreads++
					}
					phys, err := memory.NewPhysical(512 << 20)
					require.NoError(t, err)
					r.phys.Copy(phys, testImageBase, testImageBase, testImageSize)
					mem, err := NewImageBacking(phys, testImageBase, testImageSize)
					require.NoError(t, err)
					var o, e bytes.Buffer
					o.WriteString(out)
					m, err := Resume(r.prog, snap, ProcessConfig{Argv: append([]string{c.prog}, c.args...), Stdout: &o, Stderr: &e,
						Backing: mem}, imageConfig(64<<10), &e)
					require.NoError(t, err)
					res, err = m.Run()
					require.NoError(t, err, "stderr: %s", e.String())
					out = o.String()
				}
				require.Equal(t, wantOut, out, "stopped at %d", at)
				require.Equal(t, wantStatus, res.ExitCode)
			}
		})
	}
}

package experiment

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/twinsim/twinsim/configs"
)

// execCfg returns the exec scenario running command.
func execCfg(t *testing.T, command string, sets ...string) configs.Config {
	t.Helper()
	base := []string{"run.scenario=exec", `exec.command="` + command + `"`, "run.duration=2s"}
	cfg, err := configs.Load("default", append(base, sets...))
	require.NoError(t, err)
	return cfg
}

// runStat reads a statistic of a finished run.
func runStat(t *testing.T, r *Result, path, name string) float64 {
	t.Helper()
	v, ok := r.Env.Stats.Lookup(path, name)
	require.True(t, ok, "%s.%s", path, name)
	return v
}

func TestExecScenarioRunsTheProgram(t *testing.T) {
	dir := runTo(t, execCfg(t, "sieve 1000", "exec.copies=2"), t.TempDir())
	want, err := os.ReadFile("../workloads/expected/sieve-1000.out")
	require.NoError(t, err)
	for _, core := range []string{"core0", "core1"} {
		got, err := os.ReadFile(filepath.Join(dir, core+".stdout"))
		require.NoError(t, err)
		require.Equal(t, string(want), string(got), core)
	}
	stats, err := os.ReadFile(filepath.Join(dir, "stats.csv"))
	require.NoError(t, err)
	for _, want := range []string{"host0.core1,cycles,", "host0.core0.cpi,dcache_l2,", "host0.core0,exited,1", "host0.l3,miss_rate,",
		"host0.core0.l1i,miss_rate,", "host0.core0.itlb,"} {
		require.Contains(t, string(stats), want)
	}
}

// TestExecScenarioDeterministic: the same configuration gives the same
// bytes, and on one core the quantum at which the core yields to the
// engine changes nothing (there is nobody to share with).
func TestExecScenarioDeterministic(t *testing.T) {
	cfg := execCfg(t, "ubench stream 1048576 2", "exec.copies=2")
	a, b := runTo(t, cfg, t.TempDir()), runTo(t, cfg, t.TempDir())
	for _, f := range []string{"stats.json", "stats.csv", "core0.stdout", "core1.stdout"} {
		da, err := os.ReadFile(filepath.Join(a, f))
		require.NoError(t, err)
		db, err := os.ReadFile(filepath.Join(b, f))
		require.NoError(t, err)
		require.Equal(t, string(da), string(db), f)
	}
	var cycles []float64
	for _, q := range []string{"10ns", "1us", "1ms"} {
		r, err := Run(execCfg(t, "ubench chase 1048576 20000", "host.quantum="+q), Options{})
		require.NoError(t, err)
		cycles = append(cycles, runStat(t, r, "host0.core0", "cycles"))
	}
	require.Equal(t, cycles[0], cycles[1])
	require.Equal(t, cycles[0], cycles[2])
}

// TestExecScenarioSharesDRAMBandwidth: copies of a bandwidth-bound stream
// share one DRAM channel, so each takes about as many times longer as
// there are copies.
func TestExecScenarioSharesDRAMBandwidth(t *testing.T) {
	roi := func(copies string) []float64 {
		r, err := Run(execCfg(t, "ubench stream 4194304 1", "exec.copies="+copies, "host.cores=4", "core.model=out-of-order",
			"core.width=4", "core.alu_units=3", "core.mem_ports=2", "dram.channels=1", "dram.bandwidth=1GB/s",
			"cache.l2.enabled=false", "cache.l3.enabled=false", "host.page_size=4KiB", "tlb.entries=1024"), Options{})
		require.NoError(t, err)
		var out []float64
		for i := range r.Config.Exec.Copies {
			out = append(out, runStat(t, r, "host0.core"+string(rune('0'+i))+".roi", "cycles"))
		}
		return out
	}
	one := roi("1")
	// 4 MiB at 1 GB/s is 4.19 ms, 12.6 million cycles at 3 GHz.
	require.InDelta(t, 4194304/1e9*3e9, one[0], 0.05*4194304/1e9*3e9)
	for _, n := range []int{2, 4} {
		for i, c := range roi(string(rune('0' + n))) {
			require.InDelta(t, float64(n)*one[0], c, 0.1*float64(n)*one[0], "%d copies, core %d", n, i)
		}
	}
}

func TestExecScenarioErrors(t *testing.T) {
	for _, tc := range []struct {
		command, want string
	}{
		{"no-such-program", `exec.command: no program "no-such-program"`},
		{"./no/such/file", "exec.command: stat ./no/such/file: no such file or directory"},
		{"../workloads", "exec.command: ../workloads is a directory, not a program"},
		{"./exec_test.go", "exec.command: ./exec_test.go: not an ELF file"},
	} {
		_, err := Run(execCfg(t, tc.command), Options{})
		require.ErrorContains(t, err, tc.want, tc.command)
	}
	// A guest that fails is a result, not an error.
	r, err := Run(execCfg(t, "faults null"), Options{})
	require.NoError(t, err)
	require.Equal(t, 139.0, runStat(t, r, "host0.core0", "exit_code"))
	var summary bytes.Buffer
	r.WriteSummary(&summary)
	require.Contains(t, summary.String(), "host0.core0: exited with status 139")
	// A program still running when run.duration ends says so.
	r, err = Run(execCfg(t, "sieve", "run.duration=100us"), Options{})
	require.NoError(t, err)
	require.Zero(t, runStat(t, r, "host0.core0", "exited"))
	summary.Reset()
	r.WriteSummary(&summary)
	require.Contains(t, summary.String(), "still running at the end of run.duration")
}

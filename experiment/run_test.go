package experiment

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/twinsim/twinsim/configs"
)

// small returns the default scenario shortened so tests run quickly.
func small(t *testing.T, sets ...string) configs.Config {
	t.Helper()
	base := []string{"run.duration=3ms", "backup.interval=500us"}
	cfg, err := configs.Load("default", append(base, sets...))
	require.NoError(t, err)
	return cfg
}

func runTo(t *testing.T, cfg configs.Config, root string) string {
	t.Helper()
	res, err := Run(cfg, Options{})
	require.NoError(t, err)
	dir, err := res.WriteDir(root)
	require.NoError(t, err)
	return dir
}

func TestRunWritesEveryFile(t *testing.T) {
	dir := runTo(t, small(t), t.TempDir())
	for _, f := range []string{"config.toml", "stats.json", "stats.csv", "meta.json", "series-host0.backup.per_checkpoint.csv"} {
		info, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err, f)
		require.Positive(t, info.Size(), f)
	}
	// No temporary leftovers beside the run directory.
	entries, err := os.ReadDir(filepath.Dir(dir))
	require.NoError(t, err)
	require.Len(t, entries, 1)
}

func TestSameSeedSameBytes(t *testing.T) {
	a := runTo(t, small(t), t.TempDir())
	b := runTo(t, small(t), t.TempDir())
	require.Equal(t, filepath.Base(a), filepath.Base(b))
	for _, f := range []string{"config.toml", "stats.json", "stats.csv", "series-host0.backup.per_checkpoint.csv"} {
		da, err := os.ReadFile(filepath.Join(a, f))
		require.NoError(t, err)
		db, err := os.ReadFile(filepath.Join(b, f))
		require.NoError(t, err)
		require.Equal(t, string(da), string(db), f)
	}
	// A different seed changes the results.
	c := runTo(t, small(t, "run.seed=2"), t.TempDir())
	sa, _ := os.ReadFile(filepath.Join(a, "stats.json"))
	sc, _ := os.ReadFile(filepath.Join(c, "stats.json"))
	require.NotEqual(t, string(sa), string(sc))
}

func TestBackupScenarioResults(t *testing.T) {
	// Small caches and a large footprint, so that flagged lines are also
	// evicted (and logged) between checkpoints.
	res, err := Run(small(t, "cache.l3.size=1MiB", "cache.l2.size=64KiB", "vm[0].workload.footprint=64MiB"), Options{})
	require.NoError(t, err)
	st := res.Env.Stats
	get := func(path, name string) float64 {
		v, ok := st.Lookup(path, name)
		require.True(t, ok, "%s.%s", path, name)
		return v
	}
	n := get("host0.backup", "checkpoints")
	require.Equal(t, 6.0, n) // 3 ms at 500 us: at 0.5, 1, ..., 3 ms
	require.Zero(t, get("host0.backup", "image_mismatches"))
	require.Zero(t, get("host0.backup", "foreign_entries"))
	line := get("host0.backup", "mean_bytes_line_log")
	small4k := get("host0.backup", "mean_bytes_page_4k")
	large := get("host0.backup", "mean_bytes_page_64k")
	full := get("host0.backup", "mean_bytes_full_copy")
	require.Positive(t, line)
	require.Less(t, line, small4k)
	require.LessOrEqual(t, small4k, large)
	require.Less(t, large, full)
	require.Equal(t, float64(256<<20), full)
	// Both logging paths are used: evictions and checkpoint scans.
	require.Positive(t, get("host0.imlog", "evict_entries"))
	require.Positive(t, get("host0.imlog", "scan_entries"))
	// Hypervisor stores happened and set no flags of their own.
	require.Positive(t, get("host0.core0.vcpu", "hypervisor_stores"))
}

func TestDropPolicyIsReportedAsDataLoss(t *testing.T) {
	cfg := small(t, "backup.overflow=drop", "backup.log_size=2KiB", "backup.dedup_window=0")
	res, err := Run(cfg, Options{})
	require.NoError(t, err)
	dropped, _ := res.Env.Stats.Lookup("host0.imlog", "dropped")
	require.Positive(t, dropped)
	mism, _ := res.Env.Stats.Lookup("host0.backup", "image_mismatches")
	require.Positive(t, mism, "lost log entries must show up as a backup image that differs")
	var sb strings.Builder
	res.WriteSummary(&sb)
	require.Contains(t, sb.String(), "DIFFERED")
}

func TestInterruptAndStallPoliciesKeepTheImageExact(t *testing.T) {
	for _, policy := range []string{"interrupt-checkpoint", "stall"} {
		t.Run(policy, func(t *testing.T) {
			cfg := small(t, "backup.overflow="+policy, "backup.log_size=2KiB", "backup.guard_entries=32")
			res, err := Run(cfg, Options{})
			require.NoError(t, err)
			ov, _ := res.Env.Stats.Lookup("host0.imlog", "overflows")
			require.Positive(t, ov)
			mism, _ := res.Env.Stats.Lookup("host0.backup", "image_mismatches")
			require.Zero(t, mism)
			dropped, _ := res.Env.Stats.Lookup("host0.imlog", "dropped")
			require.Zero(t, dropped)
		})
	}
}

func TestTraceIsWritten(t *testing.T) {
	res, err := Run(small(t, "run.duration=1ms"), Options{Trace: true})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "t", "trace.json")
	require.NoError(t, res.WriteTrace(path))
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Contains(t, string(data), `"name":"checkpoint"`)

	res, err = Run(small(t, "run.duration=1ms"), Options{})
	require.NoError(t, err)
	require.Error(t, res.WriteTrace(path))
}

func TestRewritingARunReplacesIt(t *testing.T) {
	root := t.TempDir()
	a := runTo(t, small(t), root)
	b := runTo(t, small(t), root)
	require.Equal(t, a, b)
	entries, err := os.ReadDir(root)
	require.NoError(t, err)
	require.Len(t, entries, 1)
}

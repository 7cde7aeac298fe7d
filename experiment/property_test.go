package experiment

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/twinsim/twinsim/configs"
)

// TestBackupImageEqualsPrimaryProperty draws random hierarchies, logs and
// workloads and checks that after every checkpoint the backup image built
// from the logged lines alone equals the primary image, that nothing outside
// the backed-up images was logged, and that the line log never moves more
// than 4 KiB page tracking would.
func TestBackupImageEqualsPrimaryProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		patterns := []string{"uniform", "zipf", "sequential", "strided"}
		sets := []string{
			"run.duration=1500us",
			fmt.Sprintf("run.seed=%d", rapid.IntRange(1, 1000).Draw(rt, "seed")),
			fmt.Sprintf("backup.interval=%dus", rapid.IntRange(100, 700).Draw(rt, "interval_us")),
			"cache.l1.write_policy=" + rapid.SampledFrom([]string{"write-back", "write-through"}).Draw(rt, "l1_policy"),
			"cache.l1.size=" + rapid.SampledFrom([]string{"4KiB", "8KiB", "32KiB"}).Draw(rt, "l1_size"),
			"cache.l2.size=" + rapid.SampledFrom([]string{"32KiB", "128KiB"}).Draw(rt, "l2_size"),
			"cache.l3.enabled=" + rapid.SampledFrom([]string{"true", "false"}).Draw(rt, "l3"),
			"cache.l1.replacement=" + rapid.SampledFrom([]string{"lru", "plru", "random"}).Draw(rt, "repl"),
			"backup.log_size=" + rapid.SampledFrom([]string{"4KiB", "16KiB", "1MiB"}).Draw(rt, "log_size"),
			fmt.Sprintf("backup.dedup_window=%d", rapid.IntRange(0, 16).Draw(rt, "dedup")),
			fmt.Sprintf("backup.batch=%t", rapid.Bool().Draw(rt, "batch")),
			"backup.overflow=" + rapid.SampledFrom([]string{"stall", "interrupt-checkpoint"}).Draw(rt, "overflow"),
			fmt.Sprintf("backup.thread_ids=%t", rapid.Bool().Draw(rt, "thread_ids")),
			fmt.Sprintf("hypervisor.store_fraction=%g", rapid.SampledFrom([]float64{0, 0.05, 0.3}).Draw(rt, "hyp")),
			"vm[0].workload.pattern=" + rapid.SampledFrom(patterns).Draw(rt, "p0"),
			"vm[1].workload.pattern=" + rapid.SampledFrom(patterns).Draw(rt, "p1"),
			"vm[0].workload.footprint=" + rapid.SampledFrom([]string{"64KiB", "1MiB", "4MiB"}).Draw(rt, "f0"),
			fmt.Sprintf("vm[0].workload.write_fraction=%g", rapid.SampledFrom([]float64{0.05, 0.5, 1}).Draw(rt, "w0")),
			fmt.Sprintf("vm[1].backed_up=%t", rapid.Bool().Draw(rt, "vm1_backed")),
		}
		cfg, err := configs.Load("default", sets)
		require.NoError(rt, err)
		res, err := Run(cfg, Options{})
		require.NoError(rt, err)
		get := func(path, name string) float64 {
			v, ok := res.Env.Stats.Lookup(path, name)
			require.True(rt, ok, "%s.%s", path, name)
			return v
		}
		require.Positive(rt, get("host0.backup", "checkpoints"))
		require.Zero(rt, get("host0.backup", "image_mismatches"))
		require.Zero(rt, get("host0.backup", "foreign_entries"))
		require.Zero(rt, get("host0.imlog", "dropped"))
		require.LessOrEqual(rt, get("host0.backup", "bytes_line_log"), get("host0.backup", "bytes_page_4k"))
		require.LessOrEqual(rt, get("host0.backup", "bytes_page_4k"), get("host0.backup", "bytes_page_64k"))
	})
}

func TestConfigsDefaultIsTheRunDefault(t *testing.T) {
	cfg, err := configs.Load("", nil)
	require.NoError(t, err)
	require.Equal(t, configs.Default(), cfg)
}

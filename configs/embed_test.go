package configs

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEmbeddedNames(t *testing.T) {
	require.Equal(t, []string{"app-failure", "backup-overflow", "backup-wt-l1", "default", "exec-ooo", "failover", "ha-nic", "machine", "pagesize-64k", "program-backup", "remus-40hz", "validate-am62x", "validate-epyc"}, Embedded())
	_, err := EmbeddedFile("nonesuch")
	require.EqualError(t, err, `no embedded configuration "nonesuch" (embedded: app-failure, backup-overflow, backup-wt-l1, default, exec-ooo, failover, ha-nic, machine, pagesize-64k, program-backup, remus-40hz, validate-am62x, validate-epyc)`)
	a, err := EmbeddedFile("default")
	require.NoError(t, err)
	b, err := EmbeddedFile("default.toml")
	require.NoError(t, err)
	require.Equal(t, a, b)
}

func TestEveryEmbeddedFileParses(t *testing.T) {
	for _, name := range Embedded() {
		data, err := EmbeddedFile(name)
		require.NoError(t, err)
		cfg, err := Parse(data, name+".toml", nil)
		require.NoError(t, err, name)
		require.NoError(t, cfg.Validate(), name)
		if name != "default" {
			require.Equal(t, name, cfg.Run.Name, "each example names its runs after itself")
		}
	}
}

func TestDefaultFileIsDefault(t *testing.T) {
	data, err := EmbeddedFile("default")
	require.NoError(t, err)
	cfg, err := Parse(data, "default.toml", nil)
	require.NoError(t, err)
	require.Equal(t, Default(), cfg)
}

func TestExamplesSayWhatTheyShow(t *testing.T) {
	ov, err := Load("backup-overflow", nil)
	require.NoError(t, err)
	require.Equal(t, OverflowDrop, ov.Backup.Overflow)
	require.Equal(t, 4*KiB, ov.Backup.LogSize)
	require.Equal(t, []string{"writer", "bystander"}, []string{ov.VMs[0].Name, ov.VMs[1].Name})
	require.Equal(t, DefaultVM().Workload.ZipfS, ov.VMs[0].Workload.ZipfS, "missing VM keys take DefaultVM's")

	wt, err := Load("backup-wt-l1", nil)
	require.NoError(t, err)
	require.Equal(t, 4, wt.Host.Cores)
	require.Equal(t, WriteThrough, wt.Cache.L1.WritePolicy)
	require.Equal(t, WriteBack, wt.Cache.L2.WritePolicy)
	require.Equal(t, WriteBack, wt.Cache.L3.WritePolicy)
	var patterns []Pattern
	for _, vm := range wt.VMs {
		patterns = append(patterns, vm.Workload.Pattern)
	}
	require.Equal(t, []Pattern{PatternSequential, PatternStrided, PatternUniform}, patterns)

	remus, err := Load("remus-40hz", nil)
	require.NoError(t, err)
	require.Equal(t, Duration(25e9), remus.Backup.Interval)
}

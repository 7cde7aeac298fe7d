package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func execute(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := newRootCmd(&out, &errb)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), errb.String(), err
}

func TestRunWritesResultsAndSummary(t *testing.T) {
	dir := t.TempDir()
	trace := filepath.Join(dir, "trace.json")
	out, _, err := execute(t, "run", "-o", dir, "--trace", trace,
		"--set", "run.duration=20ms", "--set", "backup.interval=1ms")
	require.NoError(t, err)
	// Without a configuration, the machine runs.
	require.Contains(t, out, "vm kv (backed up, host0.core0): kvserver 7000")
	require.Contains(t, out, "bytes to replicate per checkpoint")
	require.Contains(t, out, "page dirty tracking, 4 KiB")
	require.Contains(t, out, "backup image check: equal to the primary's")
	require.Contains(t, out, "results: "+dir)
	matches, err := filepath.Glob(filepath.Join(dir, "machine-s1-*", "stats.json"))
	require.NoError(t, err)
	require.Len(t, matches, 1)
	for _, vm := range []string{"kv", "compute", "kvc"} {
		_, err = os.Stat(filepath.Join(filepath.Dir(matches[0]), "vm-"+vm+".stdout"))
		require.NoError(t, err)
	}
	_, err = os.Stat(trace)
	require.NoError(t, err)
	// The embedded default (every key at its default) is the backup demo.
	out, _, err = execute(t, "run", "default", "-o", dir, "--set", "run.duration=2ms", "--set", "backup.interval=500us")
	require.NoError(t, err)
	require.Contains(t, out, "image-modification line log")
}

func TestSeedFlagChangesRunName(t *testing.T) {
	dir := t.TempDir()
	_, _, err := execute(t, "run", "-q", "-o", dir, "--seed", "7", "--set", "run.duration=1ms")
	require.NoError(t, err)
	matches, _ := filepath.Glob(filepath.Join(dir, "machine-s7-*"))
	require.Len(t, matches, 1)
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, body, want string
	}{
		{"misspelt", "[cache.l2]\nwayz = 4\n", "cache.l2.wayz"},
		{"wrong type", "[cache.l2]\nways = \"eight\"\n", "cache.l2.ways"},
		{"out of range", "[cache.l2]\nways = 0\n", "cache.l2.ways: 0 is not allowed; must be 1..64"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".toml")
			require.NoError(t, os.WriteFile(path, []byte(tc.body), 0o644))
			_, errOut, err := execute(t, "config", "validate", path)
			require.Error(t, err)
			require.Contains(t, errOut, tc.want)
			_, _, err = execute(t, "run", "-o", dir, path)
			require.ErrorContains(t, err, tc.want)
		})
	}
	_, _, err := execute(t, "run", "-o", dir, "--set", "cache.l2.ways=0")
	require.ErrorContains(t, err, "cache.l2.ways: 0 is not allowed")
}

func TestConfigDumpListWrite(t *testing.T) {
	out, _, err := execute(t, "config", "dump", "--set", "cache.l2.ways=16")
	require.NoError(t, err)
	require.Contains(t, out, "ways = 16")
	require.Contains(t, out, "#")

	out, _, err = execute(t, "config", "list")
	require.NoError(t, err)
	require.Contains(t, out, "default")

	path := filepath.Join(t.TempDir(), "mine.toml")
	_, _, err = execute(t, "config", "write", "default", path)
	require.NoError(t, err)
	out, _, err = execute(t, "config", "validate", path)
	require.NoError(t, err)
	require.Contains(t, out, "ok")
}

func TestUnknownFlagIsUsageError(t *testing.T) {
	_, _, err := execute(t, "run", "--no-such-flag")
	var ue usageError
	require.ErrorAs(t, err, &ue)
}

// TestCPUProfile: --cpuprofile writes a profile (gzip-compressed protocol
// buffers, as go tool pprof reads them) of the command, and a file that
// cannot be created is an error naming the flag.
func TestCPUProfile(t *testing.T) {
	prof := filepath.Join(t.TempDir(), "cpu.prof")
	_, _, err := execute(t, "exec", "--mode", "functional", "--cpuprofile", prof, filepath.Join(workloadBin, "sieve"), "100000")
	require.NoError(t, err)
	data, err := os.ReadFile(prof)
	require.NoError(t, err)
	require.Greater(t, len(data), 2)
	require.Equal(t, []byte{0x1f, 0x8b}, data[:2], "a gzip stream")
	_, _, err = execute(t, "version", "--cpuprofile", filepath.Join(t.TempDir(), "no", "such", "dir", "cpu.prof"))
	require.ErrorContains(t, err, "--cpuprofile: ")
}

package main

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/twinsim/twinsim/configs"
)

// TestMain lets the test binary act as the twinsim command: with
// TWINSIM_TEST_MAIN=1 it runs main with its arguments and exits, so that
// tests can run, kill and resume a real process.
func TestMain(m *testing.M) {
	if os.Getenv("TWINSIM_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// command returns the twinsim command with args, as a process.
func command(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe, args...)
	cmd.Env = append(os.Environ(), "TWINSIM_TEST_MAIN=1")
	return cmd
}

// runProcess runs twinsim with args in a process and returns its output
// and exit status.
func runProcess(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := command(t, args...)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), errb.String(), ee.ExitCode()
	}
	require.NoError(t, err)
	return out.String(), errb.String(), 0
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte(body), 0o644))
	return path
}

// sweepDirFiles returns the files of a sweep directory by relative path,
// without the points' meta.json (wall time and host, by design).
func sweepDirFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "meta.json" {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		files[rel] = string(data)
		return err
	}))
	return files
}

func requireSameSweep(t *testing.T, want, got string) {
	t.Helper()
	w, g := sweepDirFiles(t, want), sweepDirFiles(t, got)
	require.Contains(t, w, "results.csv")
	require.Contains(t, w, "summary.csv")
	var wk, gk []string
	for k := range w {
		wk = append(wk, k)
	}
	for k := range g {
		gk = append(gk, k)
	}
	require.ElementsMatch(t, wk, gk)
	for k := range w {
		require.Equal(t, w[k], g[k], k)
	}
}

// donePoints counts the finished point directories under out/points.
func donePoints(dir string) int {
	entries, _ := os.ReadDir(filepath.Join(dir, "points"))
	n := 0
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			n++
		}
	}
	return n
}

// TestSweepKilledAndResumed kills a sweep process (SIGKILL, so nothing
// of it runs after) once two points are done, completes it with --resume,
// and checks the result against an uninterrupted run byte for byte.
func TestSweepKilledAndResumed(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "kill.toml", `
[sweep]
name = "kill"
seeds = 2
set = ["run.duration=5ms", "backup.interval=1ms"]
[axes]
"vm[0].workload.write_fraction" = [0.1, 0.3, 0.5, 0.7]
`)
	ref := filepath.Join(dir, "ref")
	_, _, err := execute(t, "sweep", file, "-o", ref, "-j", "2")
	require.NoError(t, err)
	require.Equal(t, 8, donePoints(ref))

	out := filepath.Join(dir, "out")
	cmd := command(t, "sweep", file, "-o", out, "-j", "1")
	require.NoError(t, cmd.Start())
	deadline := time.Now().Add(time.Minute)
	for donePoints(out) < 2 {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatal("no two points done after a minute")
		}
		time.Sleep(5 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Kill())
	err = cmd.Wait()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	ws := ee.Sys().(syscall.WaitStatus)
	require.True(t, ws.Signaled() && ws.Signal() == syscall.SIGKILL, "the sweep was killed, not finished: %v", err)
	done := donePoints(out)
	require.Less(t, done, 8, "the kill came before the end")
	t.Logf("killed with %d of 8 points done", done)
	_, err = os.Stat(filepath.Join(out, "results.csv"))
	require.ErrorIs(t, err, os.ErrNotExist)

	// Without --resume the directory is refused.
	_, stderr, code := runProcess(t, "sweep", file, "-o", out, "-j", "1")
	require.Equal(t, 1, code)
	require.Contains(t, stderr, "already holds results of sweep kill; pass --resume")

	stdout, stderr, code := runProcess(t, "sweep", file, "-o", out, "-j", "1", "--resume")
	require.Equal(t, 0, code, stderr)
	m := regexp.MustCompile(`^8 points: (\d+) run now, (\d+) already done, 0 failed`).FindStringSubmatch(stdout)
	require.NotNil(t, m, stdout)
	ran, _ := strconv.Atoi(m[1])
	skipped, _ := strconv.Atoi(m[2])
	require.Equal(t, done, skipped)
	require.Equal(t, 8-done, ran)
	requireSameSweep(t, ref, out)
}

const failingSweep = `
[sweep]
name = "fails"
set = ["run.duration=2ms", "backup.interval=1ms"]
metrics = ["host0.backup.checkpoints"]
[axes]
"vm[0].memory" = ["256MiB", "32MiB"]
"vm[0].workload.footprint" = ["16MiB", "64MiB"]
`

func TestSweepExitStatus(t *testing.T) {
	dir := t.TempDir()
	fails := writeFile(t, dir, "fails.toml", failingSweep)
	used := filepath.Join(dir, "used")
	stdout, stderr, code := runProcess(t, "sweep", fails, "-o", used)
	require.Equal(t, 3, code, "a failed point is exit status 3")
	require.Contains(t, stdout, "4 points: 4 run now, 0 already done, 1 failed")
	require.Contains(t, stdout, "summary: "+used+"/summary.csv")
	require.Contains(t, stderr, "twinsim: 1 of 4 points failed; their errors are in results.csv")

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"bad shard", []string{"sweep", fails, "-o", dir + "/a", "--shard", "4/3"}, 2, `shard "4/3" is not allowed; must be k/n`},
		{"shard not k/n", []string{"sweep", fails, "-o", dir + "/a", "--shard", "2"}, 2, `shard "2" is not allowed`},
		{"seed", []string{"sweep", fails, "-o", dir + "/a", "--seed", "3"}, 2, "a sweep sets its seeds in its file (sweep.seeds); --seed does not apply"},
		{"negative jobs", []string{"sweep", fails, "-o", dir + "/a", "-j", "-1"}, 2, "-j -1 is not allowed"},
		{"no -o", []string{"sweep", fails}, 2, "-o OUT is required"},
		{"no file", []string{"sweep", "-o", dir + "/a"}, 2, "accepts 1 arg(s), received 0"},
		{"two files", []string{"sweep", fails, fails, "-o", dir + "/a"}, 2, "accepts 1 arg(s), received 2"},
		{"list with -o", []string{"sweep", "--list", "-o", dir + "/a"}, 2, "--list takes no -o"},
		{"unknown flag", []string{"sweep", fails, "-o", dir + "/a", "--shards", "1/2"}, 2, "unknown flag: --shards"},
		{"merge without -o", []string{"merge", used}, 2, "-o OUT is required"},
		{"merge without inputs", []string{"merge", "-o", dir + "/m"}, 2, "requires at least 1 arg(s)"},
		{"no such sweep", []string{"sweep", "nope", "-o", dir + "/a"}, 1, `sweep "nope": no such file, and no embedded sweep "nope"`},
		{"used directory", []string{"sweep", fails, "-o", used}, 1, "already holds results of sweep fails; pass --resume"},
		{"resumed with failures", []string{"sweep", fails, "-o", used, "--resume"}, 3, "1 of 4 points failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := runProcess(t, tc.args...)
			require.Equal(t, tc.code, code, stderr)
			require.Contains(t, stderr, tc.want)
		})
	}
	_, err := os.Stat(filepath.Join(dir, "a"))
	require.ErrorIs(t, err, os.ErrNotExist, "a usage error writes nothing")
}

func TestSweepList(t *testing.T) {
	out, _, err := execute(t, "sweep", "--list")
	require.NoError(t, err)
	require.Equal(t, strings.Join(configs.EmbeddedSweeps(), "\n")+"\n", out)
	require.Contains(t, out, "example\n")
}

func TestSweepShardsMergedByCLI(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "small.toml", `
[sweep]
name = "small"
seeds = 2
set = ["run.duration=2ms", "backup.interval=500us"]
[axes]
"vm[0].workload.write_fraction" = [0.1, 0.5]
`)
	ref := filepath.Join(dir, "ref")
	out, _, err := execute(t, "sweep", file, "-o", ref, "-j", "2")
	require.NoError(t, err)
	require.Contains(t, out, "4 points: 4 run now, 0 already done, 0 failed")

	var shards []string
	for _, k := range []string{"1", "2"} {
		sd := filepath.Join(dir, "shard"+k)
		shards = append(shards, sd)
		out, _, err := execute(t, "sweep", file, "-o", sd, "-j", "1", "--shard", k+"/2")
		require.NoError(t, err)
		require.Contains(t, out, "2 points: 2 run now, 0 already done, 0 failed")
		require.Contains(t, out, "summary: not written; the directory does not hold every point")
	}
	merged := filepath.Join(dir, "merged")
	out, _, err = execute(t, append(append([]string{"merge"}, shards...), "-o", merged)...)
	require.NoError(t, err)
	require.Contains(t, out, "merged 2 inputs: 4 points: 0 run now, 4 already done, 0 failed")
	require.Contains(t, out, "summary: "+merged+"/summary.csv")
	requireSameSweep(t, ref, merged)

	_, _, err = execute(t, "merge", shards[0], "-o", filepath.Join(dir, "partial"))
	require.ErrorContains(t, err, "merge: 2 of 4 points are in none of the inputs")
}

func TestSweepQuickAndSet(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "q.toml", `
[sweep]
name = "q"
seeds = 2
set = ["run.duration=5ms"]
metrics = ["host0.backup.checkpoints"]
[sweep.quick]
seeds = [9]
set = ["run.duration=2ms"]
[axes]
"backup.interval" = ["1ms"]
`)
	out := filepath.Join(dir, "quick")
	_, _, err := execute(t, "sweep", file, "-o", out, "--quick")
	require.NoError(t, err)
	results, err := os.ReadFile(filepath.Join(out, "results.csv"))
	require.NoError(t, err)
	require.Equal(t, "point,backup.interval,seed,status,host0.backup.checkpoints,error\n0,1ms,9,ok,2,\n", string(results))

	// --set applies after the file's set, and makes another sweep.
	_, _, err = execute(t, "sweep", file, "-o", out, "--quick", "--resume", "--set", "run.duration=3ms")
	require.ErrorContains(t, err, "holds results of another sweep")
	out = filepath.Join(dir, "set")
	_, _, err = execute(t, "sweep", file, "-o", out, "--quick", "--set", "run.duration=3ms")
	require.NoError(t, err)
	results, err = os.ReadFile(filepath.Join(out, "results.csv"))
	require.NoError(t, err)
	require.Equal(t, "point,backup.interval,seed,status,host0.backup.checkpoints,error\n0,1ms,9,ok,3,\n", string(results))
}

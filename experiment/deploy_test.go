package experiment

// Tests of the cluster launchers in deploy/: the shard each Slurm array
// task and each Kubernetes Indexed Job pod runs (deploy/shard.sh, the
// Slurm script and the Job's inline command, executed as the schedulers
// would), and an end-to-end run of the shards with the real twinsim binary
// whose merge must equal an unsharded run.

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// deployRoot returns the repository root (tests run in experiment/).
func deployRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(root, "deploy", "shard.sh"))
	require.NoError(t, err, "deploy/shard.sh is missing")
	return root
}

// deployNeed skips the test when a shell it runs is not installed.
func deployNeed(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: %v", tool, err)
		}
	}
}

// deployExec runs a command in dir with only PATH and the given variables
// in its environment (so that the SLURM_* variables of a test run inside a
// Slurm job do not leak in). It returns stdout, stderr and the exit code.
func deployExec(t *testing.T, dir string, vars map[string]string, name string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		code = exitErr.ExitCode()
	default:
		require.NoError(t, err, "running %s", name)
	}
	return out.String(), errOut.String(), code
}

// deployShardSh runs deploy/shard.sh with the scheduler's variables and
// returns its k/n, failing the test when it fails.
func deployShardSh(t *testing.T, root string, vars map[string]string) string {
	t.Helper()
	out, errOut, code := deployExec(t, root, vars, "sh", "deploy/shard.sh")
	require.Equal(t, 0, code, "shard.sh with %v: %s", vars, errOut)
	return strings.TrimSpace(out)
}

// deployStub writes a fake twinsim that prints its arguments one a line.
func deployStub(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "twinsim-stub")
	require.NoError(t, os.WriteFile(path, []byte("#!/bin/sh\nprintf 'ARG %s\\n' \"$@\"\n"), 0o755))
	return path
}

// deployStubArgs returns the arguments the stub printed.
func deployStubArgs(out string) []string {
	var args []string
	for _, line := range strings.Split(out, "\n") {
		if a, ok := strings.CutPrefix(line, "ARG "); ok {
			args = append(args, a)
		}
	}
	return args
}

// deployFlag returns the value after flag in args.
func deployFlag(t *testing.T, args []string, flag string) string {
	t.Helper()
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			return args[i+1]
		}
	}
	require.Failf(t, "flag missing", "%s is not among the arguments %q", flag, args)
	return ""
}

// deployCheckShards checks that the k/n strings of the tasks of one job
// parse, all have n = want, name every k in 1..n exactly once, and that
// their Shards select every point index exactly once, for numbers of
// points below, at and above n.
func deployCheckShards(t *testing.T, shards []string, want int) {
	t.Helper()
	require.Len(t, shards, want)
	seen := map[int]int{}
	var parsed []Shard
	for _, s := range shards {
		sh, err := ParseShard(s)
		require.NoError(t, err)
		require.Equal(t, want, sh.N, "shard %s", s)
		seen[sh.K]++
		parsed = append(parsed, sh)
	}
	for k := 1; k <= want; k++ {
		require.Equal(t, 1, seen[k], "shard %d/%d is run by %d tasks (shards %q)", k, want, seen[k], shards)
	}
	for _, points := range []int{0, 1, want - 1, want, want + 1, 3*want + 2, 97} {
		for i := range points {
			n := 0
			for _, sh := range parsed {
				if sh.has(i) {
					n++
				}
			}
			require.Equal(t, 1, n, "point %d of %d is in %d of the shards %q", i, points, n, shards)
		}
	}
}

// deployK8sJob holds the fields of deploy/k8s/*-job.yaml that the tests
// read.
type deployK8sJob struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	Metadata   struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		CompletionMode       string `yaml:"completionMode"`
		Completions          *int   `yaml:"completions"`
		Parallelism          *int   `yaml:"parallelism"`
		BackoffLimitPerIndex *int   `yaml:"backoffLimitPerIndex"`
		Template             struct {
			Spec struct {
				RestartPolicy string `yaml:"restartPolicy"`
				Containers    []struct {
					Name    string   `yaml:"name"`
					Image   string   `yaml:"image"`
					Command []string `yaml:"command"`
					Args    []string `yaml:"args"`
					Env     []struct {
						Name  string `yaml:"name"`
						Value string `yaml:"value"`
					} `yaml:"env"`
					Resources struct {
						Requests map[string]string `yaml:"requests"`
					} `yaml:"resources"`
					VolumeMounts []struct {
						Name      string `yaml:"name"`
						MountPath string `yaml:"mountPath"`
					} `yaml:"volumeMounts"`
				} `yaml:"containers"`
				Volumes []struct {
					Name                  string `yaml:"name"`
					PersistentVolumeClaim *struct {
						ClaimName string `yaml:"claimName"`
					} `yaml:"persistentVolumeClaim"`
				} `yaml:"volumes"`
			} `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

// env returns the value of the first container's variable name.
func (j *deployK8sJob) env(t *testing.T, name string) string {
	t.Helper()
	for _, e := range j.Spec.Template.Spec.Containers[0].Env {
		if e.Name == name {
			return e.Value
		}
	}
	require.Failf(t, "variable missing", "job %s sets no %s", j.Metadata.Name, name)
	return ""
}

// script returns the first container's shell script (command sh -c).
func (j *deployK8sJob) script(t *testing.T) string {
	t.Helper()
	c := j.Spec.Template.Spec.Containers[0]
	require.Equal(t, []string{"/bin/sh", "-c"}, c.Command, "job %s", j.Metadata.Name)
	require.Len(t, c.Args, 1, "job %s", j.Metadata.Name)
	return c.Args[0]
}

// deployLoadJob parses deploy/k8s/FILE (one document) and checks what every
// twinsim Job needs: the shared claim of pvc.yaml mounted, a container.
func deployLoadJob(t *testing.T, root, file string) *deployK8sJob {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "deploy", "k8s", file))
	require.NoError(t, err)
	var j deployK8sJob
	require.NoError(t, yaml.Unmarshal(data, &j), file)
	require.Equal(t, "batch/v1", j.APIVersion, file)
	require.Equal(t, "Job", j.Kind, file)
	require.NotEmpty(t, j.Metadata.Name, file)
	require.Len(t, j.Spec.Template.Spec.Containers, 1, file)
	c := j.Spec.Template.Spec.Containers[0]
	require.NotEmpty(t, c.Image, file)
	require.NotEmpty(t, c.Resources.Requests["cpu"], "%s: no CPU request", file)
	require.NotEmpty(t, c.Resources.Requests["memory"], "%s: no memory request", file)
	require.Equal(t, "Never", j.Spec.Template.Spec.RestartPolicy, file)

	pvcData, err := os.ReadFile(filepath.Join(root, "deploy", "k8s", "pvc.yaml"))
	require.NoError(t, err)
	var pvc struct {
		Kind     string `yaml:"kind"`
		Metadata struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
		Spec struct {
			AccessModes []string `yaml:"accessModes"`
		} `yaml:"spec"`
	}
	require.NoError(t, yaml.Unmarshal(pvcData, &pvc), "pvc.yaml")
	require.Equal(t, "PersistentVolumeClaim", pvc.Kind)
	require.Contains(t, pvc.Spec.AccessModes, "ReadWriteMany", "pods on several nodes share the claim")
	var claimVolume string
	for _, v := range j.Spec.Template.Spec.Volumes {
		if v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == pvc.Metadata.Name {
			claimVolume = v.Name
		}
	}
	require.NotEmpty(t, claimVolume, "%s mounts no volume of claim %s", file, pvc.Metadata.Name)
	mounted := false
	for _, m := range c.VolumeMounts {
		if m.Name == claimVolume && strings.HasPrefix(j.env(t, "OUT"), m.MountPath+"/") {
			mounted = true
		}
	}
	require.True(t, mounted, "%s: OUT=%s is not on the claim's mount", file, j.env(t, "OUT"))
	return &j
}

// deployJobs loads the sweep and merge Jobs and checks that they agree.
func deployJobs(t *testing.T, root string) (sweep, merge *deployK8sJob) {
	t.Helper()
	sweep = deployLoadJob(t, root, "sweep-job.yaml")
	merge = deployLoadJob(t, root, "merge-job.yaml")
	require.Equal(t, "Indexed", sweep.Spec.CompletionMode)
	require.NotNil(t, sweep.Spec.Completions)
	require.Equal(t, strconv.Itoa(*sweep.Spec.Completions), sweep.env(t, "SHARD_COUNT"),
		"sweep-job.yaml: SHARD_COUNT must equal spec.completions")
	require.NotNil(t, sweep.Spec.Parallelism)
	require.LessOrEqual(t, *sweep.Spec.Parallelism, *sweep.Spec.Completions)
	require.NotNil(t, sweep.Spec.BackoffLimitPerIndex)
	require.Equal(t, sweep.env(t, "SHARD_COUNT"), merge.env(t, "SHARD_COUNT"), "merge-job.yaml: SHARD_COUNT")
	require.Equal(t, sweep.env(t, "OUT"), merge.env(t, "OUT"), "merge-job.yaml: OUT")
	return sweep, merge
}

// TestDeployShardArithmetic checks the shard each task of a Slurm job array
// and each pod of a Kubernetes Indexed Job runs, by executing deploy/shard.sh,
// deploy/slurm/sweep.sbatch and the Job's command with a stub twinsim.
func TestDeployShardArithmetic(t *testing.T) {
	deployNeed(t, "sh", "bash")
	root := deployRoot(t)
	stub := deployStub(t)

	t.Run("slurm", func(t *testing.T) {
		for _, c := range []struct {
			min, count, step int
			noCount, noMax   bool
		}{
			{min: 1, count: 1, step: 1},
			{min: 0, count: 1, step: 1},
			{min: 1, count: 3, step: 1},
			{min: 0, count: 3, step: 1},
			{min: 0, count: 8, step: 1},
			{min: 1, count: 8, step: 1, noCount: true},
			{min: 0, count: 5, step: 1, noMax: true},
			{min: 7, count: 4, step: 1},
			{min: 0, count: 6, step: 2},
			{min: 1, count: 5, step: 3, noCount: true},
		} {
			t.Run(fmt.Sprintf("min%d_count%d_step%d", c.min, c.count, c.step), func(t *testing.T) {
				var fromSh, fromSbatch []string
				for i := range c.count {
					id := c.min + i*c.step
					vars := map[string]string{
						"SLURM_JOB_ID":           strconv.Itoa(1000 + i),
						"SLURM_ARRAY_JOB_ID":     "1000",
						"SLURM_ARRAY_TASK_ID":    strconv.Itoa(id),
						"SLURM_ARRAY_TASK_MIN":   strconv.Itoa(c.min),
						"SLURM_ARRAY_TASK_MAX":   strconv.Itoa(c.min + (c.count-1)*c.step),
						"SLURM_ARRAY_TASK_STEP":  strconv.Itoa(c.step),
						"SLURM_ARRAY_TASK_COUNT": strconv.Itoa(c.count),
						"SLURM_CPUS_PER_TASK":    "3",
						"SLURM_SUBMIT_DIR":       root,
					}
					if c.step == 1 {
						delete(vars, "SLURM_ARRAY_TASK_STEP") // the default
					}
					if c.noCount {
						delete(vars, "SLURM_ARRAY_TASK_COUNT")
					}
					if c.noMax {
						delete(vars, "SLURM_ARRAY_TASK_MAX")
					}
					shard := deployShardSh(t, root, vars)
					fromSh = append(fromSh, shard)

					vars["TWINSIM"], vars["SWEEP"], vars["OUT"] = stub, "example", "/shared/out"
					out, errOut, code := deployExec(t, root, vars, "bash", "deploy/slurm/sweep.sbatch")
					require.Equal(t, 0, code, "sweep.sbatch: %s", errOut)
					args := deployStubArgs(out)
					require.Equal(t, []string{"sweep", "example"}, args[:2])
					require.Contains(t, args, "--resume")
					require.Equal(t, "3", deployFlag(t, args, "-j"), "-j is SLURM_CPUS_PER_TASK")
					s := deployFlag(t, args, "--shard")
					fromSbatch = append(fromSbatch, s)
					k, n, _ := strings.Cut(s, "/")
					require.Equal(t, "/shared/out/shard-"+k+"-of-"+n, deployFlag(t, args, "-o"))
				}
				require.Equal(t, fromSh, fromSbatch, "sweep.sbatch runs the shard that shard.sh prints")
				deployCheckShards(t, fromSh, c.count)
			})
		}
	})

	t.Run("slurm-explicit", func(t *testing.T) {
		// Rerunning chosen shards: SHARD_COUNT=8 sbatch --array=3,5.
		var got []string
		for _, id := range []int{3, 5} {
			got = append(got, deployShardSh(t, root, map[string]string{
				"SLURM_ARRAY_TASK_ID": strconv.Itoa(id), "SLURM_ARRAY_TASK_MIN": "3",
				"SLURM_ARRAY_TASK_MAX": "5", "SLURM_ARRAY_TASK_COUNT": "2", "SHARD_COUNT": "8",
			}))
		}
		require.Equal(t, []string{"3/8", "5/8"}, got)
	})

	t.Run("k8s", func(t *testing.T) {
		sweepJob, _ := deployJobs(t, root)
		script := sweepJob.script(t)
		for _, completions := range []int{1, 2, 3, 8, *sweepJob.Spec.Completions} {
			var fromSh, fromJob []string
			for index := range completions {
				vars := map[string]string{
					"JOB_COMPLETION_INDEX": strconv.Itoa(index),
					"SHARD_COUNT":          strconv.Itoa(completions),
				}
				fromSh = append(fromSh, deployShardSh(t, root, vars))

				out := t.TempDir()
				vars["TWINSIM"], vars["SWEEP"], vars["OUT"], vars["JOBS"] = stub, "example", out, "4"
				stdout, errOut, code := deployExec(t, root, vars, "sh", "-c", script)
				require.Equal(t, 0, code, "sweep-job.yaml command: %s", errOut)
				args := deployStubArgs(stdout)
				require.Equal(t, []string{"sweep", "example"}, args[:2])
				require.Contains(t, args, "--resume")
				require.Equal(t, "4", deployFlag(t, args, "-j"))
				s := deployFlag(t, args, "--shard")
				fromJob = append(fromJob, s)
				k, n, _ := strings.Cut(s, "/")
				require.Equal(t, filepath.Join(out, "shard-"+k+"-of-"+n), deployFlag(t, args, "-o"))
			}
			require.Equal(t, fromSh, fromJob, "sweep-job.yaml runs the shard that shard.sh prints")
			deployCheckShards(t, fromSh, completions)
		}
		// An index past SHARD_COUNT (completions changed, SHARD_COUNT not).
		_, errOut, code := deployExec(t, root, map[string]string{"JOB_COMPLETION_INDEX": "3", "SHARD_COUNT": "3",
			"TWINSIM": stub, "SWEEP": "example", "OUT": t.TempDir(), "JOBS": "1"}, "sh", "-c", script)
		require.Equal(t, 2, code)
		require.Contains(t, errOut, "SHARD_COUNT")
	})

	t.Run("errors", func(t *testing.T) {
		for _, c := range []struct {
			vars map[string]string
			msg  string
		}{
			{map[string]string{}, "not a Slurm array task"},
			{map[string]string{"SLURM_ARRAY_TASK_ID": "2"}, "SLURM_ARRAY_TASK_MIN is not"},
			{map[string]string{"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_MIN": "1"}, "neither SLURM_ARRAY_TASK_COUNT"},
			// --array=1,4,9: a list, not a range.
			{map[string]string{"SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_MAX": "9",
				"SLURM_ARRAY_TASK_COUNT": "3"}, "use one range"},
			{map[string]string{"SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "3"}, "out of range"},
			{map[string]string{"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_STEP": "2",
				"SLURM_ARRAY_TASK_COUNT": "1"}, "out of range"},
			{map[string]string{"SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "3"}, "not a non-negative integer"},
			{map[string]string{"JOB_COMPLETION_INDEX": "0"}, "SHARD_COUNT is not"},
			{map[string]string{"JOB_COMPLETION_INDEX": "4", "SHARD_COUNT": "4"}, "out of range"},
			{map[string]string{"JOB_COMPLETION_INDEX": "0", "SHARD_COUNT": "0"}, "at least 1"},
		} {
			out, errOut, code := deployExec(t, root, c.vars, "sh", "deploy/shard.sh")
			require.Equal(t, 2, code, "shard.sh with %v printed %q", c.vars, out)
			require.Empty(t, out)
			require.Contains(t, errOut, c.msg, "shard.sh with %v", c.vars)
		}
		// The Slurm script names a missing variable.
		array := map[string]string{"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_MIN": "1", "SLURM_ARRAY_TASK_COUNT": "1"}
		for _, c := range []struct {
			set map[string]string
			msg string
		}{
			{map[string]string{"OUT": "/o", "TWINSIM": stub}, "SWEEP is not set"},
			{map[string]string{"SWEEP": "example", "TWINSIM": stub}, "OUT is not set"},
			{map[string]string{"SWEEP": "example", "OUT": "/o", "TWINSIM": filepath.Join(t.TempDir(), "none")}, "not found"},
		} {
			vars := map[string]string{}
			for k, v := range array {
				vars[k] = v
			}
			for k, v := range c.set {
				vars[k] = v
			}
			_, errOut, code := deployExec(t, root, vars, "bash", "deploy/slurm/sweep.sbatch")
			require.Equal(t, 2, code)
			require.Contains(t, errOut, c.msg)
		}
	})
}

// deployBuild builds cmd/twinsim into a temporary directory.
func deployBuild(t *testing.T, root string) string {
	t.Helper()
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		var lookErr error
		if gobin, lookErr = exec.LookPath("go"); lookErr != nil {
			t.Skipf("the go tool is not available to build twinsim: %v", lookErr)
		}
	}
	bin := filepath.Join(t.TempDir(), "twinsim")
	cmd := exec.Command(gobin, "build", "-o", bin, "./cmd/twinsim")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build ./cmd/twinsim:\n%s", out)
	return bin
}

// deployTree returns the regular files under dir (slash-separated, relative)
// and their contents, leaving out each point's meta.json (wall time, host).
func deployTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		if d.Name() == "meta.json" {
			files[filepath.ToSlash(rel)] = "(not compared)"
			return nil
		}
		data, err := os.ReadFile(path)
		files[filepath.ToSlash(rel)] = string(data)
		return err
	})
	require.NoError(t, err)
	return files
}

// deployCompare checks that a merged directory is what the unsharded run
// wrote: results.csv and summary.csv byte for byte, and every other file
// too but the points' meta.json.
func deployCompare(t *testing.T, full, merged string) {
	t.Helper()
	for _, f := range []string{"results.csv", "summary.csv"} {
		want, err := os.ReadFile(filepath.Join(full, f))
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(merged, f))
		require.NoError(t, err)
		require.Equal(t, string(want), string(got), "%s of the merged shards differs from an unsharded run", f)
	}
	want, got := deployTree(t, full), deployTree(t, merged)
	var wantNames, gotNames []string
	for name := range want {
		wantNames = append(wantNames, name)
	}
	for name := range got {
		gotNames = append(gotNames, name)
	}
	sort.Strings(wantNames)
	sort.Strings(gotNames)
	require.Equal(t, wantNames, gotNames)
	for _, name := range wantNames {
		require.Equal(t, want[name], got[name], "%s of the merged shards differs from an unsharded run", name)
	}
}

// deploySweepText is the sweep of the end-to-end test: 2 × 2 axis values
// × 2 seeds = 8 points, a few milliseconds each.
const deploySweepText = `[sweep]
name = "deploy-test"
base = "default"
seeds = 2
set = ["run.duration=2ms"]

[axes]
"backup.interval" = ["500us", "1ms"]
"vm[0].workload.write_fraction" = [0.1, 0.5]
`

// TestDeployEndToEnd runs a small sweep's shards with the real twinsim the
// way Slurm (deploy/slurm/sweep.sbatch as an array task) and Kubernetes
// (the Indexed Job's command, then the merge Job's) would, including a
// requeued Slurm task that resumes, and checks that the merged output is
// byte for byte an unsharded run's.
func TestDeployEndToEnd(t *testing.T) {
	deployNeed(t, "sh", "bash")
	root := deployRoot(t)
	bin := deployBuild(t, root)
	work := t.TempDir()
	sweepFile := filepath.Join(work, "deploy-test.toml")
	require.NoError(t, os.WriteFile(sweepFile, []byte(deploySweepText), 0o644))

	s, err := LoadSweep(sweepFile, false, nil)
	require.NoError(t, err)
	points := len(s.Points())
	require.Equal(t, 8, points)

	full := filepath.Join(work, "full")
	out, errOut, code := deployExec(t, root, nil, bin, "sweep", sweepFile, "-o", full, "-j", "2")
	require.Equal(t, 0, code, "unsharded sweep: %s%s", out, errOut)

	// shardPoints checks a shard directory holds exactly its shard's points.
	shardPoints := func(t *testing.T, dir, shard string) int {
		sh, err := ParseShard(shard)
		require.NoError(t, err)
		entries, err := os.ReadDir(filepath.Join(dir, pointsDir))
		require.NoError(t, err)
		var got, want []string
		for _, e := range entries {
			got = append(got, e.Name())
		}
		for _, p := range s.Points() {
			if sh.has(p.Index) {
				want = append(want, p.Name)
			}
		}
		sort.Strings(got)
		sort.Strings(want)
		require.Equal(t, want, got, "points of shard %s in %s", shard, dir)
		return len(got)
	}

	t.Run("slurm", func(t *testing.T) {
		const n = 3 // sbatch --array=0-2: an array that starts at 0
		shardRoot := filepath.Join(work, "slurm")
		task := func(id int) (string, string, int) {
			return deployExec(t, root, map[string]string{
				"SLURM_JOB_ID":           strconv.Itoa(5000 + id),
				"SLURM_ARRAY_JOB_ID":     "5000",
				"SLURM_ARRAY_TASK_ID":    strconv.Itoa(id),
				"SLURM_ARRAY_TASK_MIN":   "0",
				"SLURM_ARRAY_TASK_MAX":   strconv.Itoa(n - 1),
				"SLURM_ARRAY_TASK_STEP":  "1",
				"SLURM_ARRAY_TASK_COUNT": strconv.Itoa(n),
				"SLURM_CPUS_PER_TASK":    "1",
				"SLURM_SUBMIT_DIR":       root,
				"TWINSIM":                bin,
				"SWEEP":                  sweepFile,
				"OUT":                    shardRoot,
			}, "bash", "deploy/slurm/sweep.sbatch")
		}
		total := 0
		var dirs []string
		for id := range n {
			out, errOut, code := task(id)
			require.Equal(t, 0, code, "task %d: %s%s", id, out, errOut)
			dir := filepath.Join(shardRoot, fmt.Sprintf("shard-%d-of-%d", id+1, n))
			total += shardPoints(t, dir, fmt.Sprintf("%d/%d", id+1, n))
			dirs = append(dirs, dir)
		}
		require.Equal(t, points, total)

		// A requeued task: shard 2 lost one point and left a temporary
		// directory, as when killed mid-write; rerun, it runs only that one.
		pts, err := os.ReadDir(filepath.Join(dirs[1], pointsDir))
		require.NoError(t, err)
		require.NoError(t, os.RemoveAll(filepath.Join(dirs[1], pointsDir, pts[0].Name())))
		require.NoError(t, os.Mkdir(filepath.Join(dirs[1], pointsDir, "."+pts[0].Name()+".tmp-1"), 0o755))
		out, errOut, code := task(1)
		require.Equal(t, 0, code, "requeued task: %s%s", out, errOut)
		require.Contains(t, out, fmt.Sprintf("%d points: 1 run now, %d already done", len(pts), len(pts)-1))
		shardPoints(t, dirs[1], fmt.Sprintf("2/%d", n))

		merged := filepath.Join(shardRoot, "merged")
		out, errOut, code = deployExec(t, root, nil, bin, append(append([]string{"merge"}, dirs...), "-o", merged)...)
		require.Equal(t, 0, code, "merge: %s%s", out, errOut)
		deployCompare(t, full, merged)
	})

	t.Run("k8s", func(t *testing.T) {
		sweepJob, mergeJob := deployJobs(t, root)
		const n = 4
		shardRoot := filepath.Join(work, "k8s")
		total := 0
		for index := range n {
			out, errOut, code := deployExec(t, root, map[string]string{
				"JOB_COMPLETION_INDEX": strconv.Itoa(index),
				"SHARD_COUNT":          strconv.Itoa(n),
				"TWINSIM":              bin,
				"SWEEP":                sweepFile,
				"OUT":                  shardRoot,
				"SWEEP_ARGS":           "",
				"JOBS":                 "1",
			}, "sh", "-c", sweepJob.script(t))
			require.Equal(t, 0, code, "pod %d: %s%s", index, out, errOut)
			total += shardPoints(t, filepath.Join(shardRoot, fmt.Sprintf("shard-%d-of-%d", index+1, n)), fmt.Sprintf("%d/%d", index+1, n))
		}
		require.Equal(t, points, total)
		out, errOut, code := deployExec(t, root, map[string]string{
			"SHARD_COUNT": strconv.Itoa(n), "TWINSIM": bin, "OUT": shardRoot,
		}, "sh", "-c", mergeJob.script(t))
		require.Equal(t, 0, code, "merge job: %s%s", out, errOut)
		deployCompare(t, full, filepath.Join(shardRoot, "merged"))
	})
}

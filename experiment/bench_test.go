package experiment

import (
	"testing"
	"time"

	"github.com/twinsim/twinsim/configs"
)

// BenchmarkBackupScenario runs the default scenario for 5 ms of simulated
// time per iteration and reports memory operations simulated per wall second.
func BenchmarkBackupScenario(b *testing.B) {
	cfg, err := configs.Load("default", []string{"run.duration=5ms"})
	if err != nil {
		b.Fatal(err)
	}
	var ops float64
	for b.Loop() {
		res, err := Run(cfg, Options{})
		if err != nil {
			b.Fatal(err)
		}
		for c := range cfg.Host.Cores {
			v, _ := res.Env.Stats.Lookup("host0.core"+string(rune('0'+c))+".vcpu", "ops")
			ops += v
		}
	}
	b.ReportMetric(ops/b.Elapsed().Seconds()/1e6, "Mops/s")
}

// BenchmarkSweepScaling runs a sweep of 8 points with one job and with
// two, each into a fresh directory, and reports the speed-up of two jobs
// over one (speedup-2v1; 2 is ideal on two idle cores) and the points per
// wall second of each. "cpu-bound" keeps each VM's footprint at 1 MiB, so
// a point is mostly simulation; "default-footprint" keeps the default
// scenario's 16 MiB footprints, so each point also fills about 50 MiB of
// fresh simulated memory (64 KiB frames) and checkpoints compare and copy
// it, which two jobs in one process share less well than two processes.
func BenchmarkSweepScaling(b *testing.B) {
	for _, bc := range []struct{ name, set string }{
		{"cpu-bound", `"run.duration=4ms", "backup.interval=1ms", "vm[0].workload.footprint=1MiB", "vm[1].workload.footprint=1MiB"`},
		{"default-footprint", `"run.duration=10ms", "backup.interval=1ms"`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := ParseSweep([]byte(`
[sweep]
name = "bench-scaling"
seeds = 2
set = [`+bc.set+`]
metrics = ["host0.backup.checkpoints", "host0.backup.mean_bytes_line_log"]

[axes]
"vm[0].workload.write_fraction" = [0.1, 0.5]
"vm[0].workload.pattern" = ["uniform", "zipf"]
`), "bench-scaling.toml", "", false)
			if err != nil {
				b.Fatal(err)
			}
			n := len(s.Points())
			var wall [3]time.Duration // by jobs
			for b.Loop() {
				for _, jobs := range []int{1, 2} {
					dir := b.TempDir()
					begin := time.Now()
					rep, err := RunSweep(s, SweepOptions{Out: dir, Jobs: jobs})
					if err != nil || rep.Ran != n || rep.Failed != 0 {
						b.Fatalf("jobs %d: %+v, %v", jobs, rep, err)
					}
					wall[jobs] += time.Since(begin)
				}
			}
			b.ReportMetric(wall[1].Seconds()/wall[2].Seconds(), "speedup-2v1")
			b.ReportMetric(float64(n*b.N)/wall[1].Seconds(), "points/s-j1")
			b.ReportMetric(float64(n*b.N)/wall[2].Seconds(), "points/s-j2")
		})
	}
}

// BenchmarkHANICSecond runs the embedded ha-nic scenario for one simulated
// second per iteration — two hosts (the primary's four VMs and the
// secondary applying 40 checkpoints), three clients sending 20,000
// requests a second and a bulk VM — and reports the wall seconds per
// simulated second (the target is at most 10) and the events per wall
// second.
func BenchmarkHANICSecond(b *testing.B) {
	cfg, err := configs.Load("ha-nic", []string{"run.duration=1s"})
	if err != nil {
		b.Fatal(err)
	}
	var events, reqs float64
	for b.Loop() {
		res, err := Run(cfg, Options{})
		if err != nil {
			b.Fatal(err)
		}
		events += float64(res.Env.Engine.Handled())
		for _, c := range cfg.Clients {
			v, _ := res.Env.Stats.Lookup("clients."+c.Name, "responses")
			reqs += v
		}
	}
	n := float64(b.N)
	b.ReportMetric(b.Elapsed().Seconds()/n, "wall-s/sim-s")
	b.ReportMetric(events/b.Elapsed().Seconds()/1e6, "Mevents/s")
	b.ReportMetric(reqs/n, "responses/sim-s")
}

// BenchmarkProgramVMSpeed runs the same guest program (sieve over a
// million numbers) on one timing core twice per iteration: in a backed-up
// program VM of the backup scenario (image backing, the cache
// controller's flags and log, checkpoints every millisecond with the
// replica check) and in the exec scenario (the bare core). It reports the
// guest MIPS of each and their ratio, vm/exec (the target: at least 0.5).
func BenchmarkProgramVMSpeed(b *testing.B) {
	vmCfg, err := configs.Load("program-backup", []string{`vm[0].program="sieve 1000000"`, "run.duration=1s"})
	if err != nil {
		b.Fatal(err)
	}
	execCfg, err := configs.Load("default", []string{"run.scenario=exec", `exec.command="sieve 1000000"`, "run.duration=1s"})
	if err != nil {
		b.Fatal(err)
	}
	var vmWall, execWall time.Duration
	var vmInsts, execInsts float64
	for b.Loop() {
		start := time.Now()
		r, err := Run(vmCfg, Options{})
		if err != nil {
			b.Fatal(err)
		}
		vmWall += time.Since(start)
		v, _ := r.Env.Stats.Lookup("host0.vm.prog", "guest_instructions")
		vmInsts += v
		if ck, _ := r.Env.Stats.Lookup("host0.backup", "checkpoints"); ck == 0 {
			b.Fatal("the program VM was never checkpointed")
		}
		start = time.Now()
		r, err = Run(execCfg, Options{})
		if err != nil {
			b.Fatal(err)
		}
		execWall += time.Since(start)
		v, _ = r.Env.Stats.Lookup("host0.core0", "guest_instructions")
		execInsts += v
	}
	vm, ex := vmInsts/vmWall.Seconds()/1e6, execInsts/execWall.Seconds()/1e6
	b.ReportMetric(vm, "vm-MIPS")
	b.ReportMetric(ex, "exec-MIPS")
	b.ReportMetric(vm/ex, "vm/exec")
}

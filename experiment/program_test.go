package experiment

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/twinsim/twinsim/configs"
	"github.com/twinsim/twinsim/dbt"
	"github.com/twinsim/twinsim/memory"
	"github.com/twinsim/twinsim/sim"
	"github.com/twinsim/twinsim/workloads"
)

// diffCase is a differential test case of workloads/cases.txt: its
// expected output and status are qemu-riscv64's.
type diffCase struct {
	id, command string
}

func readCases(t *testing.T) []diffCase {
	t.Helper()
	cs, err := workloads.ReadCases("../workloads/cases.txt")
	require.NoError(t, err)
	var out []diffCase
	for _, c := range cs {
		out = append(out, diffCase{id: c.ID, command: c.Command()})
	}
	return out
}

func expected(t *testing.T, id string) (string, int) {
	t.Helper()
	out, status, err := workloads.ReadExpected("../workloads/expected", id)
	require.NoError(t, err)
	return out, status
}

// programHost returns a backup-scenario configuration with one program VM
// per command, each on its own core, backed up by the line log every
// interval.
func programHost(t *testing.T, commands []string, interval string, sets ...string) configs.Config {
	t.Helper()
	base := []string{"run.duration=10s", "backup.interval=" + interval, fmt.Sprintf("host.cores=%d", len(commands)),
		"host.memory=4GiB"}
	cfg, err := configs.Load("default", append(base, sets...))
	require.NoError(t, err)
	cfg.VMs = nil
	for i, c := range commands {
		vm := configs.DefaultVM()
		vm.Name, vm.Role, vm.Program, vm.Cores, vm.Memory = fmt.Sprintf("vm%d", i), "program", c, []int{i}, 128*configs.MiB
		cfg.VMs = append(cfg.VMs, vm)
	}
	require.NoError(t, cfg.Validate())
	return cfg
}

// sampleReplica draws, by reservoir sampling, one of the checkpoints of
// pv the secondary applies among those keep accepts, keeping a copy of
// the secondary's image as it held it.
func sampleReplica(t *testing.T, h *backupHost, pv *programVM, rng *rand.Rand, keep func(capturedState) bool) *replicaSample {
	sm := &replicaSample{}
	pv.onApplied = func(c capturedState) {
		if c.snap == nil || !keep(c) {
			return
		}
		if sm.seen++; rng.IntN(sm.seen) != 0 {
			return
		}
		img, err := memory.NewPhysical(h.replica.Size())
		require.NoError(t, err)
		h.replica.Copy(img, pv.vm.Base, pv.vm.Base, pv.vm.Size)
		sm.state, sm.image = c, img
	}
	return sm
}

// replicaSample is a checkpoint the secondary applied, drawn at random
// (reservoir sampling over a VM's checkpoints): the state it carried and
// a copy of the secondary's image as it held it.
type replicaSample struct {
	state capturedState
	image *memory.Physical
	seen  int
}

// TestProgramVMsMatchQemu runs every committed workload in a program VM,
// eight VMs to a host sharing its L3 and DRAM, every other one backed up
// by the line log, at 64 KiB and 4 KiB host pages: each one's output and
// exit status are qemu-riscv64's, and the backup image equals the
// primary's after every checkpoint. Then the strong property: each
// backed-up VM, resumed on a fresh host from the secondary's image and
// state at a checkpoint drawn at random, runs to the same output, exit
// status and instruction count as it did uninterrupted.
func TestProgramVMsMatchQemu(t *testing.T) {
	cases := readCases(t)
	for _, hp := range []string{"64KiB", "4KiB"} {
		for lo := 0; lo < len(cases); lo += 8 {
			group := cases[lo:min(lo+8, len(cases))]
			t.Run(fmt.Sprintf("%s/%s", hp, group[0].id), func(t *testing.T) {
				t.Parallel()
				var commands []string
				for _, c := range group {
					commands = append(commands, c.command)
				}
				rng := rand.New(rand.NewPCG(uint64(lo), 7))
				interval := sim.Time(200+rng.IntN(800)) * sim.Microsecond
				cfg := programHost(t, commands, interval.String(), "host.page_size="+hp)
				for i := range cfg.VMs {
					cfg.VMs[i].BackedUp = i%2 == 0
				}
				samples := make([]*replicaSample, len(group))
				r, err := run(cfg, Options{}, func(s scenario) {
					h := s.(*backupHost)
					for i, pv := range h.programs {
						if !pv.backedUp() {
							continue
						}
						samples[i] = sampleReplica(t, h, pv, rng, func(capturedState) bool { return true })
					}
				})
				require.NoError(t, err)
				h := r.scen.(*backupHost)
				for i, c := range group {
					pv := h.programs[i]
					want, status := expected(t, c.id)
					require.True(t, pv.exited, c.id)
					require.Equal(t, want, pv.stdout.String(), c.id)
					require.Equal(t, status, pv.res.ExitCode, "%s: %s", c.id, pv.stderr.String())
					if pv.backedUp() && pv.endTime > interval+sim.Millisecond {
						require.NotNil(t, samples[i].image, "%s ran past its first checkpoint", c.id)
					}
					if sm := samples[i]; sm != nil && sm.image != nil {
						out, code, insts := resumeReplica(t, hp, pv, sm)
						require.Equal(t, want, out, "%s resumed at checkpoint %d", c.id, sm.state.epoch)
						require.Equal(t, status, code, "%s resumed at checkpoint %d", c.id, sm.state.epoch)
						require.Equal(t, pv.m.Stats().GuestInsts, insts, "%s resumed at checkpoint %d", c.id, sm.state.epoch)
					}
				}
				require.Positive(t, runStat(t, r, "host0.backup", "checkpoints"))
				require.Zero(t, runStat(t, r, "host0.backup", "image_mismatches"))
				require.Zero(t, runStat(t, r, "host0.backup", "foreign_entries"))
			})
		}
	}
}

// resumeReplica resumes pv on a fresh host (functional mode) from the
// sampled checkpoint and runs it to its end: its whole output (before the
// checkpoint, then after), exit status and guest instructions.
func resumeReplica(t *testing.T, hostPage string, pv *programVM, sm *replicaSample) (string, int, uint64) {
	t.Helper()
	base, size := pv.mem.Image()
	mem, err := dbt.NewImageBacking(sm.image, base, size)
	require.NoError(t, err)
	var out, errs bytes.Buffer
	out.WriteString(pv.stdout.String()[:sm.state.stdout])
	pc := pv.processConfig(0, mem)
	pc.Stdout, pc.Stderr = &out, &errs
	page, err := configs.ParseSize(hostPage)
	require.NoError(t, err)
	m, err := dbt.Resume(pv.prog, sm.state.snap, pc, dbt.MachineConfig{HostPageSize: uint64(page)}, &errs)
	require.NoError(t, err)
	res, err := m.Run()
	require.NoError(t, err)
	return out.String(), res.ExitCode, m.Stats().GuestInsts
}

// TestTimeSlicedProgramVMs: program VMs sharing a core run in turns of
// hypervisor.timeslice, each paying the switch, and still produce
// qemu-riscv64's output; the backed-up ones' images stay equal to the
// backup's.
func TestTimeSlicedProgramVMs(t *testing.T) {
	ids := []string{"recursion", "fpops", "printf", "intops"}
	var commands []string
	for _, id := range ids {
		commands = append(commands, id)
	}
	cfg := programHost(t, commands, "200us", "hypervisor.timeslice=50us")
	for i := range cfg.VMs {
		cfg.VMs[i].Cores = []int{i % 2} // two VMs on each of two cores
		cfg.VMs[i].BackedUp = i < 2
	}
	r, err := Run(cfg, Options{})
	require.NoError(t, err)
	h := r.scen.(*backupHost)
	for i, id := range ids {
		want, status := expected(t, id)
		pv := h.programs[i]
		require.True(t, pv.exited, id)
		require.Equal(t, want, pv.stdout.String(), id)
		require.Equal(t, status, pv.res.ExitCode, id)
	}
	for _, core := range []string{"host0.core0", "host0.core1"} {
		require.GreaterOrEqual(t, runStat(t, r, core, "vm_switches"), 4.0, core)
	}
	require.Zero(t, runStat(t, r, "host0.backup", "image_mismatches"))
	require.Positive(t, runStat(t, r, "host0.backup", "checkpoints"))
}

// TestThreadedProgramVMsMatchQemu runs the multithreaded cases
// (workloads/threadcases.txt) in backed-up program VMs — their threads
// taking turns on the VM's core, checkpointed with every thread's state —
// and on the exec scenario's cores (host.cores 4, one copy: a core per
// thread). Each prints what qemu-riscv64 prints; the backup image matches
// the primary at every checkpoint; a replica resumed from a checkpoint the
// secondary applied, threads and all, ends with the same output.
func TestThreadedProgramVMsMatchQemu(t *testing.T) {
	cs, err := workloads.ReadCases("../workloads/threadcases.txt")
	require.NoError(t, err)
	var commands []string
	for _, c := range cs {
		commands = append(commands, c.Command())
	}
	cfg := programHost(t, commands, "300us")
	rng := rand.New(rand.NewPCG(3, 7))
	samples := make([]*replicaSample, len(cs))
	r, err := run(cfg, Options{}, func(s scenario) {
		h := s.(*backupHost)
		for i, pv := range h.programs {
			samples[i] = sampleReplica(t, h, pv, rng, func(c capturedState) bool { return len(c.snap.Threads) > 0 })
		}
	})
	require.NoError(t, err)
	h := r.scen.(*backupHost)
	resumed := 0
	for i, c := range cs {
		pv := h.programs[i]
		want, status := expected(t, c.ID)
		require.True(t, pv.exited, c.ID)
		require.Equal(t, want, pv.stdout.String(), c.ID)
		require.Equal(t, status, pv.res.ExitCode, "%s: %s", c.ID, pv.stderr.String())
		if sm := samples[i]; sm.image != nil {
			out, code, _ := resumeReplica(t, "64KiB", pv, sm)
			require.Equal(t, want, out, "%s resumed at checkpoint %d", c.ID, sm.state.epoch)
			require.Equal(t, status, code)
			resumed++
		}
	}
	require.Positive(t, resumed, "some checkpoints caught several threads")
	require.Zero(t, runStat(t, r, "host0.backup", "image_mismatches"))

	for _, c := range cs {
		r, err := Run(execCfg(t, c.Command(), "host.cores=4"), Options{})
		require.NoError(t, err)
		h := r.scen.(*execHost)
		want, status := expected(t, c.ID)
		require.Equal(t, want, h.programs[0].stdout.String(), c.ID)
		require.Equal(t, status, h.programs[0].res.ExitCode, c.ID)
		if c.ID == "threads-reduce" {
			for k := range 4 {
				require.Positive(t, runStat(t, r, fmt.Sprintf("host0.core%d", k), "guest_instructions"), "core %d ran a thread", k)
			}
		}
	}
}

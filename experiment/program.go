package experiment

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/twinsim/twinsim/configs"
	"github.com/twinsim/twinsim/cpu"
	"github.com/twinsim/twinsim/dbt"
	"github.com/twinsim/twinsim/hypervisor"
	"github.com/twinsim/twinsim/memory"
	"github.com/twinsim/twinsim/sim"
)

// programVM is a VM that runs a guest program (role "program"): the
// binary translator runs it on a timing core of its host, with the
// guest's memory in the VM's image (dbt.Backing), so that its stores go
// through the core's caches as the VM's — setting image-modification
// flags when the VM is backed up — and its checkpoints carry its
// architectural and process state (dbt.Snapshot) besides the memory.
type programVM struct {
	vm       *hypervisor.VM
	name     string
	scope    sim.Scope // host0.vm.NAME
	path     string
	argv     []string
	prog     *dbt.Program
	proc     *dbt.Process
	mem      *dbt.Backing
	tc       *TimedCore
	m        *dbt.Machine
	backedUp bool
	backup   *hypervisor.Backup // what checkpoints it; nil if it is not backed up

	stdout, stderr bytes.Buffer
	res            dbt.Result
	exited         bool
	endTime        sim.Time // when the program exited

	// Checkpoints: the state captured at each checkpoint until the
	// secondary has applied it, and the state the secondary holds.
	pending []capturedState
	held    *capturedState
	states  uint64 // checkpoints that carried this VM's state
	// onApplied, if set, is told of each state the secondary applies, as
	// it is applied (the replica's image holds its memory then).
	onApplied func(capturedState)
}

// capturedState is a program VM's state as a checkpoint carried it: the
// guest's snapshot (nil once it has exited), how much output it had
// produced, and how it ended if it had.
type capturedState struct {
	epoch          uint64
	snap           *dbt.Snapshot
	stdout, stderr int
	exited         bool
	res            dbt.Result
}

// loadProgramVM loads vc's program into vm's image in mem. The image holds
// the guest's memory, below the VF's rings if the VM has a virtual
// function in the ha-nic scenario.
func loadProgramVM(env *sim.Env, cfg configs.Config, mem *memory.Physical, vm *hypervisor.VM, vc configs.VMConfig) (*programVM, error) {
	key := fmt.Sprintf("vm %s: program", vc.Name)
	pv := &programVM{vm: vm, name: vc.Name, scope: env.Scope("host0.vm." + vc.Name), argv: strings.Fields(vc.Program),
		backedUp: vm.BackedUp}
	var err error
	if pv.path, err = FindProgram(pv.argv[0]); err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	data, err := os.ReadFile(pv.path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	if pv.prog, err = dbt.LoadProgram(data); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", key, pv.path, err)
	}
	size := vm.Size
	if cfg.Run.Scenario == "ha-nic" && vc.VF {
		size -= min(size, configs.RingBytes(cfg))
	}
	size &^= dbt.ChunkSize - 1
	if pv.mem, err = dbt.NewImageBacking(mem, vm.Base, size); err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	if pv.proc, err = dbt.NewProcess(pv.prog, pv.processConfig(sim.NewRNG(env.Seed, pv.scope.Name()+".guest").Uint64(),
		pv.mem)); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", key, pv.path, err)
	}
	return pv, nil
}

// processConfig is the guest's process configuration: its program,
// arguments and streams, seed and backing.
func (pv *programVM) processConfig(seed uint64, mem *dbt.Backing) dbt.ProcessConfig {
	return dbt.ProcessConfig{Path: pv.path, Argv: pv.argv, Seed: seed, Stdout: &pv.stdout, Stderr: &pv.stderr, Backing: mem}
}

// firmwareBase keeps the translator memory of each VM's guest (code
// cache, software TLB, redirection pool, page table) apart in the caches:
// above every host's physical memory, 2^45 bytes a VM.
func firmwareBase(vm *hypervisor.VM) uint64 { return 1<<50 | uint64(vm.ID)<<45 }

// boot puts the VM on core tc: the translator runs the guest on the
// core's timing model, the core's ports carry the VM's id, map guest
// addresses to the image and — for a backed-up VM — tell backup of its
// stores (page dirty tracking) and have every checkpoint capture its
// state.
func (pv *programVM) boot(cfg configs.Config, tc *TimedCore, backup *hypervisor.Backup) error {
	mc, err := tc.MachineConfig(cfg)
	if err != nil {
		return err
	}
	mc.FirmwareBase = firmwareBase(pv.vm)
	if pv.m, err = dbt.NewMachine(pv.proc, mc, &pv.stderr); err != nil {
		return fmt.Errorf("vm %s: %w", pv.name, err)
	}
	pv.tc = tc
	for _, p := range []*cpu.PortTiming{tc.Data, tc.Fetch} {
		p.VM, p.Map, p.PageTableBase = pv.vm.ID, pv.m, mc.FirmwareBase|cpu.DefaultPageTableBase
	}
	if pv.backedUp && backup != nil {
		pv.backup = backup
		tc.Data.Tracker = backup
		backup.AddState(pv)
	}
	registerTiming(tc.Scope, tc, sim.Freq(cfg.Host.Freq), func() uint64 { return pv.m.Stats().GuestInsts })
	pv.register()
	return nil
}

// register publishes the VM's statistics under host0.vm.NAME.
func (pv *programVM) register() {
	s := pv.scope
	s.Value("exited", "1 if the program exited before the run ended", func() float64 { return b2f(pv.exited) })
	s.Value("exit_code", "the program's exit status (128 + signal if killed)", func() float64 { return float64(pv.res.ExitCode) })
	s.Value("guest_instructions", "guest (RV64) instructions completed", func() float64 { return float64(pv.m.Stats().GuestInsts) })
	s.Value("end_time_ps", "simulated time at which the program exited", func() float64 { return float64(pv.endTime) })
	s.Value("image_bytes", "bytes of the VM's image holding the guest's memory, now", func() float64 {
		return float64(pv.mem.UsedBytes())
	})
	s.Value("stdout_bytes", "bytes the program wrote to its standard output", func() float64 { return float64(pv.stdout.Len()) })
	s.Value("checkpoint_states", "checkpoints that carried the VM's architectural and process state", func() float64 {
		return float64(pv.states)
	})
	registerTranslator(s, func() dbt.Stats { return pv.m.Stats() })
}

// CaptureState implements hypervisor.StateSource: the guest's snapshot at
// the checkpoint that ends epoch (the runner stops every backed-up guest
// between blocks before a checkpoint).
func (pv *programVM) CaptureState(epoch uint64) uint64 {
	c := capturedState{epoch: epoch, stdout: pv.stdout.Len(), stderr: pv.stderr.Len(), exited: pv.exited, res: pv.res}
	if !pv.exited {
		snap, err := pv.m.Snapshot()
		if err != nil {
			panic(fmt.Sprintf("experiment: vm %s: %v", pv.name, err)) // a guest between blocks always has one
		}
		c.snap = snap
	}
	pv.pending = append(pv.pending, c)
	pv.states++
	if c.snap == nil {
		return 0
	}
	return c.snap.Bytes()
}

// StateApplied implements hypervisor.StateSource: the secondary holds the
// state of epoch now.
func (pv *programVM) StateApplied(epoch uint64) {
	for len(pv.pending) > 0 && pv.pending[0].epoch <= epoch {
		if pv.pending[0].epoch == epoch {
			c := pv.pending[0]
			pv.held = &c
			if pv.onApplied != nil {
				pv.onApplied(c)
			}
		}
		pv.pending = pv.pending[1:]
	}
}

// programRunner runs a host's program VMs, each on its core, a quantum at
// a time (host.quantum) in a fixed rotation of which goes first, as the
// exec scenario runs its cores. When the host runs nothing but programs,
// the run ends once the last has exited. A backed-up VM stops at each checkpoint
// and does not run while paused: its core idles (the CPI stack's idle
// row) until the VM resumes.
type programRunner struct {
	scope   sim.Scope
	freq    sim.Freq
	quantum sim.Time
	vms     []*programVM
	id      sim.HandlerID
	quanta  int
	err     error
	// stopWhenDone ends the run when the last program has exited: the
	// host runs nothing else.
	stopWhenDone bool
}

func newProgramRunner(host sim.Scope, cfg configs.Config, vms []*programVM) *programRunner {
	return &programRunner{scope: host, freq: sim.Freq(cfg.Host.Freq), quantum: sim.Time(cfg.Host.Quantum), vms: vms}
}

func (r *programRunner) start() {
	r.id = r.scope.Engine().Register(r)
	r.scope.Engine().Schedule(sim.Event{Time: 0, Handler: r.id})
}

// Handle runs one quantum from the event's time.
func (r *programRunner) Handle(ev sim.Event) {
	limit := ev.Time + r.quantum
	running := false
	n := len(r.vms)
	for k := range n {
		pv := r.vms[(r.quanta+k)%n]
		if pv.exited {
			continue
		}
		running = true
		from, stop := ev.Time, limit
		if b := pv.backup; b != nil {
			from = max(from, b.PausedUntil())
			stop = min(stop, b.NextCheckpoint())
		}
		if stop <= from {
			continue
		}
		tm := pv.tc.Timing
		if at := r.freq.Cycles(from); tm.Now() < at {
			tm.Idle(at - tm.Now()) // paused, or waiting for its turn
		}
		res, exited, err := pv.m.RunUntil(max(1, r.freq.Cycles(stop)))
		if err != nil {
			r.err = fmt.Errorf("vm %s: %w", pv.name, err)
			r.scope.Engine().Stop()
			return
		}
		if exited {
			pv.exited, pv.res = true, res
			pv.endTime = max(r.freq.CyclesToTime(tm.Now()), ev.Time)
		}
	}
	r.quanta++
	switch {
	case running:
		r.scope.Engine().Schedule(sim.Event{Time: limit, Handler: r.id})
	case r.stopWhenDone:
		r.scope.Engine().Stop()
	}
}

// failure is a failure of the simulation itself (an unsupported system
// call in strict mode), not of a guest.
func (r *programRunner) failure() error { return r.err }

// programFiles are each program VM's standard output and error.
func programFiles(vms []*programVM) []outFile {
	var out []outFile
	for _, pv := range vms {
		out = append(out, outFile{"vm-" + pv.name + ".stdout", pv.stdout.Bytes()},
			outFile{"vm-" + pv.name + ".stderr", pv.stderr.Bytes()})
	}
	return out
}

// programSummary prints each program VM's result.
func programSummary(w io.Writer, env *sim.Env, vms []*programVM) {
	if len(vms) == 0 {
		return
	}
	fmt.Fprintln(w)
	for _, pv := range vms {
		status := "still running at the end of run.duration"
		if pv.exited {
			status = fmt.Sprintf("exited with status %d at %s", pv.res.ExitCode, fmtTime(float64(pv.endTime)))
		}
		sum := sha256.Sum256(pv.stdout.Bytes())
		prot := "not backed up"
		if pv.backedUp {
			prot = "backed up"
		}
		fmt.Fprintf(w, "vm %s (%s, %s): %s %s\n", pv.name, prot, pv.tc.Scope.Name(), strings.Join(pv.argv, " "), status)
		fmt.Fprintf(w, "  %d guest instructions, guest IPC %.3f; %s of output (sha256 %x...) in vm-%s.stdout\n",
			pv.m.Stats().GuestInsts, lookupValue(env, pv.tc.Scope.Name(), "guest_ipc"), fmtBytes(float64(pv.stdout.Len())),
			sum[:6], pv.name)
	}
}

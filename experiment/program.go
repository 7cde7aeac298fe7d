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
	vm      *hypervisor.VM // nil: a guest on a bare core (the exec scenario)
	name    string
	outName string    // its output files' name: vm-NAME, or coreN
	scope   sim.Scope // host0.vm.NAME, or the core's
	path    string
	argv    []string
	prog    *dbt.Program
	proc    *dbt.Process
	mem     *dbt.Backing
	core    int // the index of the core it runs on
	tc      *TimedCore
	// extra are further cores its threads run on (the exec scenario's
	// cores beyond the copies); copy is a bare guest's index among them.
	extra []*TimedCore
	copy  int
	// tidOn is the guest thread each of its cores ran last (their ports
	// carry its id); markThread, if set, is told of each thread id its
	// cores run (a backed-up VM's threads are backed up).
	tidOn      map[*TimedCore]int
	markThread func(tid int)
	m          *dbt.Machine
	backup     *hypervisor.Backup // what checkpoints it; nil if it is not backed up
	firmware   uint64             // its translator memory's base (firmwareBase)
	skipped    bool               // passed over by its core's scheduler while it could not run
	dev        *vfDriver          // its virtual function's driver, or nil
	woken      bool               // blocked in a system call, and woken by its VF's interrupt

	stdout, stderr bytes.Buffer
	res            dbt.Result
	exited         bool
	endTime        sim.Time // when the program exited

	// Checkpoints: the state captured at each checkpoint until the
	// secondary has applied it.
	pending []capturedState
	states  uint64 // checkpoints that carried this VM's state
	// onApplied, if set, is told of each state the secondary applies, as
	// it is applied (the replica's image holds its memory then).
	onApplied func(capturedState)
	// keepApplied: the secondary keeps the last state it applied
	// (applied), from which failover activates the VM; before the first
	// checkpoint it holds the guest as loaded.
	keepApplied bool
	applied     *capturedState
	// halted: the VM's host has crashed, its copy has been fenced, or it
	// has failed (haltWhy says which); it runs no more.
	halted bool
	// onKept, if set, is told of each state the secondary applies (the
	// recovery keeps some to roll back to).
	onKept func(capturedState)
	// startedAt is when the copy began running (0: the VM as booted).
	startedAt sim.Time
	haltWhy   string // why it was halted
}

// noEpoch is the epoch of the state a program VM is loaded in, before
// the first checkpoint.
const noEpoch = ^uint64(0)

// capturedState is a program VM's state as a checkpoint carried it: the
// guest's snapshot (nil once it has exited), how much output it had
// produced, and how it ended if it had.
type capturedState struct {
	epoch          uint64
	taken          sim.Time // when the checkpoint was taken
	inputs         uint64   // datagrams its VF's driver had delivered to the guest by then
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
	size := vm.Size
	if cfg.Run.Scenario == "ha-nic" && vc.VF {
		size -= min(size, configs.RingBytes(cfg))
	}
	size &^= dbt.ChunkSize - 1
	backing, err := dbt.NewImageBacking(mem, vm.Base, size)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	backing.SetLimit(uint64(vc.MemoryLimit))
	pv, err := loadGuest(env.Scope("host0.vm."+vc.Name), vc.Program, key, backing)
	if err != nil {
		return nil, err
	}
	pv.vm, pv.name, pv.outName, pv.core = vm, vc.Name, "vm-"+vc.Name, vc.Cores[0]
	return pv, nil
}

// loadBare loads command to run on core tc without a VM (the exec
// scenario): its memory an identity backing of its own, its statistics
// under the core's scope.
func loadBare(tc *TimedCore, command string) (*programVM, error) {
	pv, err := loadGuest(tc.Scope, command, "exec.command", nil)
	if err != nil {
		return nil, err
	}
	pv.name, pv.outName, pv.core = tc.Scope.Name(), tc.Scope.Name()[strings.LastIndexByte(tc.Scope.Name(), '.')+1:], tc.Index
	return pv, nil
}

// loadGuest loads command (a program and its arguments) into a process on
// mem (nil: an identity backing of its own), with the random stream of
// scope; key names the configuration key in errors.
func loadGuest(scope sim.Scope, command, key string, mem *dbt.Backing) (*programVM, error) {
	pv := &programVM{scope: scope, argv: strings.Fields(command), mem: mem}
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
	// Each guest gets its own random bytes (AT_RANDOM, getrandom), from a
	// stream named after its scope.
	if pv.proc, err = dbt.NewProcess(pv.prog, pv.processConfig(sim.NewRNG(scope.Env().Seed, scope.Name()+".guest").Uint64(),
		mem)); err != nil {
		return nil, fmt.Errorf("%s: %s: %w", key, pv.path, err)
	}
	pv.mem = pv.proc.AS.Backing()
	return pv, nil
}

// processConfig is the guest's process configuration: its program,
// arguments and streams, seed and backing.
func (pv *programVM) processConfig(seed uint64, mem *dbt.Backing) dbt.ProcessConfig {
	return dbt.ProcessConfig{Path: pv.path, Argv: pv.argv, Seed: seed, Stdout: &pv.stdout, Stderr: &pv.stderr, Backing: mem}
}

// firmwareBase keeps the translator memory of each VM's guest (code
// cache, software TLB, redirection pool, page table) apart in the caches:
// above every host's physical memory, 2^45 bytes for each of the 65535
// VM ids. A guest without a VM keeps the translator's own addresses.
func firmwareBase(vm *hypervisor.VM) uint64 {
	if vm == nil {
		return 0
	}
	return 1<<62 | uint64(vm.ID)<<45
}

// label names the guest in messages: "vm NAME", or its core's name.
func (pv *programVM) label() string {
	if pv.vm == nil {
		return pv.name
	}
	return "vm " + pv.name
}

// backedUp reports whether the guest runs in a backed-up VM.
func (pv *programVM) backedUp() bool { return pv.vm != nil && pv.vm.BackedUp }

// vmID is the owner id the VM's accesses carry in the cache rows (1 for a
// guest without a VM).
func (pv *programVM) vmID() uint16 {
	if pv.vm == nil {
		return 1
	}
	return pv.vm.ID
}

// boot puts the VM on core tc: the translator runs the guest on the
// core's timing model, the core's ports carry the VM's id, map guest
// addresses to the image and — for a backed-up VM — tell backup of its
// stores (page dirty tracking) and have every checkpoint capture its
// state.
func (pv *programVM) boot(cfg configs.Config, tc *TimedCore, backup *hypervisor.Backup) error {
	mc, err := pv.machineConfig(cfg, tc, firmwareBase(pv.vm))
	if err != nil {
		return err
	}
	if pv.vm == nil && pv.copy > 0 {
		// Copies of a bare guest apart in the caches: each its own
		// guest addresses and translator memory.
		mc.GuestBase, mc.FirmwareBase = uint64(pv.copy)<<48, 1<<62|uint64(pv.copy)<<45
	}
	if pv.m, err = dbt.NewMachine(pv.proc, mc, &pv.stderr); err != nil {
		return fmt.Errorf("%s: %w", pv.label(), err)
	}
	pv.tc, pv.firmware = tc, mc.FirmwareBase
	if pv.backedUp() && backup != nil {
		pv.backup = backup
		backup.AddState(pv)
		if cfg.HA.Failover && cfg.Run.Scenario == "ha-nic" {
			// The secondary's image starts as a copy of the loaded one.
			snap, err := pv.m.Snapshot()
			if err != nil {
				return fmt.Errorf("%s: %w", pv.label(), err)
			}
			pv.keepApplied, pv.applied = true, &capturedState{epoch: noEpoch, snap: snap}
		}
	}
	pv.register()
	return nil
}

// machineConfig is how the translator runs pv on core tc (and pv.extra)
// with its translator memory at firmware: run by the host's scheduler, its
// threads on those cores, each core's ports carrying the id of the guest
// thread it runs (the thread variant of the image-modification flags).
func (pv *programVM) machineConfig(cfg configs.Config, tc *TimedCore, firmware uint64) (dbt.MachineConfig, error) {
	mc, err := tc.MachineConfig(cfg)
	if err != nil {
		return mc, err
	}
	mc.FirmwareBase = firmware
	if len(pv.extra) > 0 {
		mc.Cores = []cpu.Timing{tc.Timing}
		for _, x := range pv.extra {
			mc.Cores = append(mc.Cores, x.Timing)
		}
	}
	cores := append([]*TimedCore{tc}, pv.extra...)
	pv.tidOn = map[*TimedCore]int{}
	mc.OnThread = func(tm cpu.Timing, tid int) {
		for _, c := range cores {
			if c.Timing == tm {
				c.Data.Thread, c.Fetch.Thread = uint16(tid), uint16(tid)
				pv.tidOn[c] = tid
			}
		}
		if pv.markThread != nil {
			pv.markThread(tid)
		}
	}
	mc.Scheduled = true // the runner waits out a timeout, and may run another VM meanwhile
	return mc, nil
}

// bind makes the core's ports the VM's: its id in the cache rows, its
// addresses mapped to its image and translator memory, its page table,
// and page dirty tracking of its stores if it is backed up.
func (pv *programVM) bind() {
	for _, c := range append([]*TimedCore{pv.tc}, pv.extra...) {
		for _, p := range []*cpu.PortTiming{c.Data, c.Fetch} {
			p.VM, p.Map, p.PageTableBase = pv.vmID(), pv.m, pv.firmware|cpu.DefaultPageTableBase
			if tid, ok := pv.tidOn[c]; ok {
				p.Thread = uint16(tid)
			}
		}
	}
	pv.tc.Data.Tracker = nil
	if pv.backup != nil {
		pv.tc.Data.Tracker = pv.backup
	}
}

// register publishes the guest's statistics: a VM's under host0.vm.NAME,
// a bare guest's under its core's scope (beside the core's).
func (pv *programVM) register() {
	s := pv.scope
	s.Value("exited", "1 if the program exited before the run ended", func() float64 { return b2f(pv.exited) })
	s.Value("exit_code", "the program's exit status (128 + signal if killed)", func() float64 { return float64(pv.res.ExitCode) })
	s.Value("end_time_ps", "simulated time at which the program exited", func() float64 { return float64(pv.endTime) })
	registerTranslator(s, func() dbt.Stats { return pv.m.Stats() })
	if pv.vm == nil {
		return
	}
	s.Value("guest_instructions", "guest (RV64) instructions completed", func() float64 { return float64(pv.m.Stats().GuestInsts) })
	s.Value("image_bytes", "bytes of the VM's image holding the guest's memory, now", func() float64 {
		return float64(pv.mem.UsedBytes())
	})
	s.Value("stdout_bytes", "bytes the program wrote to its standard output", func() float64 { return float64(pv.stdout.Len()) })
	s.Value("checkpoint_states", "checkpoints that carried the VM's architectural and process state", func() float64 {
		return float64(pv.states)
	})
}

// CaptureState implements hypervisor.StateSource: the guest's snapshot at
// the checkpoint that ends epoch (the runner stops every backed-up guest
// between blocks before a checkpoint).
func (pv *programVM) CaptureState(epoch uint64) uint64 {
	if pv.halted {
		return 0 // a copy that failed or was stopped: nothing to carry
	}
	c := capturedState{epoch: epoch, taken: pv.scope.Engine().Now(), stdout: pv.stdout.Len(), stderr: pv.stderr.Len(), exited: pv.exited, res: pv.res}
	if pv.dev != nil {
		c.inputs = pv.dev.delivered
	}
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
		if c := pv.pending[0]; c.epoch == epoch {
			if pv.onApplied != nil {
				pv.onApplied(c)
			}
			if pv.keepApplied {
				pv.applied = &c
			}
			if pv.onKept != nil {
				pv.onKept(c)
			}
		}
		pv.pending = pv.pending[1:]
	}
}

// programRunner runs a host's program VMs on their cores, a quantum at a
// time (host.quantum), the cores in a fixed rotation of which goes first,
// as the exec scenario runs its cores. A core shared by several program
// VMs runs them in turn, each for hypervisor.timeslice, paying
// hypervisor.switch_cycles and its TLBs at each switch. A backed-up VM
// stops at each checkpoint and does not run while paused; a core with
// nothing to run idles (the CPI stack's idle row). When the host runs
// nothing but programs, the run ends once the last has exited.
type programRunner struct {
	scope     sim.Scope
	freq      sim.Freq
	quantum   sim.Time
	timeslice sim.Time
	switchCyc uint64
	cores     []*coreSched
	id        sim.HandlerID
	quanta    int
	err       error
	// stopWhenDone ends the run when the last program has exited: the
	// host runs nothing else.
	stopWhenDone bool
	halted       bool // the host has crashed
	idle         bool // every VM has exited or stopped: no quantum is scheduled
	// pending, if set, says whether the VMs may yet be put back or taken
	// over (a recovery or a failover under way), so that the run does not
	// end meanwhile.
	pending func() bool
	// after, if set, looks at each VM after each stretch it runs (the
	// recovery's failure detector).
	after    func(pv *programVM, now sim.Time)
	switches *sim.Counter
}

// coreSched is one core's share of the runner: the VMs it runs, the one
// it runs now and until when.
type coreSched struct {
	tc       *TimedCore
	vms      []*programVM
	cur      int        // index in vms of the VM running, or -1
	last     *programVM // the VM whose state the core holds
	sliceEnd sim.Time
	switches *sim.Counter
	retired  uint64 // guest instructions of VMs replaced on the core
}

func newProgramRunner(host sim.Scope, cfg configs.Config, vms []*programVM) *programRunner {
	r := &programRunner{scope: host, freq: sim.Freq(cfg.Host.Freq), quantum: sim.Time(cfg.Host.Quantum),
		timeslice: sim.Time(cfg.Hypervisor.Timeslice), switchCyc: cfg.Hypervisor.SwitchCycles}
	byCore := map[*TimedCore]*coreSched{}
	for _, pv := range vms {
		cs := byCore[pv.tc]
		if cs == nil {
			cs = &coreSched{tc: pv.tc, cur: -1,
				switches: pv.tc.Scope.Counter("vm_switches", "switches of the core from one program VM to another")}
			byCore[pv.tc] = cs
			r.cores = append(r.cores, cs)
			registerTiming(pv.tc.Scope, pv.tc, r.freq, cs.guestInsts)
		}
		cs.vms = append(cs.vms, pv)
	}
	return r
}

// guestInsts is the guest instructions the core's VMs have completed.
func (cs *coreSched) guestInsts() uint64 {
	n := cs.retired
	for _, pv := range cs.vms {
		if len(pv.extra) > 0 {
			n += pv.m.GuestInstsOn(cs.tc.Timing) // its other threads' are on their cores
			continue
		}
		n += pv.m.Stats().GuestInsts
	}
	return n
}

// halt stops the VM for good at t, for the reason why: its host has
// crashed, its copy has been fenced, or it has failed.
func (pv *programVM) halt(t sim.Time, why string) {
	if !pv.halted && !pv.exited {
		pv.halted, pv.endTime, pv.haltWhy = true, t, why
	}
}

// runnable reports whether pv can run at t: it has not exited, is not
// paused for a checkpoint and has not reached its next one, and does not
// wait in a system call (or its VF's interrupt or its timeout has come).
func (pv *programVM) runnable(t sim.Time) bool {
	b := pv.backup
	if pv.exited || pv.halted || b != nil && (t < b.PausedUntil() || t >= b.NextCheckpoint()) {
		return false
	}
	blocked, deadline := pv.m.Blocked()
	return !blocked || pv.woken || t >= deadline
}

// pick returns the VM the core runs at t — the one running, until its
// slice ends or it cannot run, then the next that can, round robin — or
// nil if none can. A VM passed over because it could not run (paused)
// takes the core as soon as it can (wake-up preemption, as Xen's credit
// scheduler boosts a waking vCPU), so that pauses falling at slice
// boundaries cannot starve it.
func (cs *coreSched) pick(t sim.Time, slice sim.Time) *programVM {
	n := len(cs.vms)
	if cs.cur >= 0 && t < cs.sliceEnd && cs.vms[cs.cur].runnable(t) {
		for i, pv := range cs.vms {
			if i != cs.cur && pv.skipped && pv.runnable(t) {
				pv.skipped = false
				cs.cur, cs.sliceEnd = i, t+slice
				return pv
			}
		}
		return cs.vms[cs.cur]
	}
	for k := 1; k <= n; k++ {
		i := (cs.cur + k + n) % n
		pv := cs.vms[i]
		if pv.runnable(t) {
			pv.skipped = false
			cs.cur, cs.sliceEnd = i, t+slice
			if n == 1 {
				cs.sliceEnd = sim.MaxTime // alone on its core: no turns to take
			}
			return pv
		}
		pv.skipped = !pv.exited
	}
	cs.cur = -1
	return nil
}

// start runs the first quantum now.
func (r *programRunner) start() {
	r.id = r.scope.Engine().Register(r)
	r.scope.Engine().Schedule(sim.Event{Time: r.scope.Engine().Now(), Handler: r.id})
}

// Handle runs one quantum from the event's time on every core.
func (r *programRunner) Handle(ev sim.Event) {
	if r.halted {
		return
	}
	limit := ev.Time + r.quantum
	running := false
	n := len(r.cores)
	for k := range n {
		cs := r.cores[(r.quanta+k)%n]
		if r.runCore(cs, ev.Time, limit) {
			running = true
		}
		if r.err != nil {
			r.scope.Engine().Stop()
			return
		}
	}
	r.quanta++
	switch {
	case running:
		r.scope.Engine().Schedule(sim.Event{Time: limit, Handler: r.id})
	case r.stopWhenDone && (r.pending == nil || !r.pending()):
		r.scope.Engine().Stop()
	default:
		r.idle = true // until a VM is put back (replace)
	}
}

// runCore runs core cs's VMs from t to limit and reports whether any of
// them has not exited.
func (r *programRunner) runCore(cs *coreSched, t, limit sim.Time) bool {
	tm := cs.tc.Timing
	for t < limit {
		pv := cs.pick(t, r.timeslice)
		if pv == nil {
			break // all exited or paused: the core idles
		}
		stop := min(limit, cs.sliceEnd)
		if pv.backup != nil {
			stop = min(stop, pv.backup.NextCheckpoint())
		}
		if at := r.freq.Cycles(r.freq.NextEdge(t)); tm.Now() < at {
			tm.Idle(at - tm.Now()) // paused, waiting, or nothing to run
		}
		if cs.last != pv {
			if cs.last != nil {
				// A world switch: the hypervisor's work, and TLBs without VM
				// tags emptied.
				tm.Firmware(r.switchCyc)
				cs.tc.Data.TLB.Flush()
				cs.tc.Fetch.TLB.Flush()
				cs.switches.Inc()
			}
			pv.bind()
			cs.last = pv
		}
		if pv.woken {
			pv.woken = false
			tm.Firmware(pv.dev.costs.irq) // the guest kernel takes the interrupt
		}
		res, exited, err := pv.m.RunUntil(max(1, r.freq.Cycles(stop)))
		if err != nil {
			r.err = fmt.Errorf("%s: %w", pv.label(), err)
			return false
		}
		now := r.freq.CyclesToTime(tm.Now())
		if exited {
			pv.exited, pv.res = true, res
			pv.endTime = max(r.freq.CyclesToTime(tm.Finish()), t) // when its last instruction completed
		}
		if r.after != nil {
			r.after(pv, now)
		}
		blocked, _ := pv.m.Blocked()
		if blocked && pv.dev != nil && !pv.halted {
			// It waits: its VF's next completion interrupts (at once if
			// some came meanwhile).
			pv.dev.adapter.EnableIRQ(pv.dev.vf)
		}
		if exited || blocked {
			t = max(t, now) // the rest of the time is another VM's
		} else {
			t = max(t, now, stop) // it ran to stop (within the cycle stop rounds down to)
		}
	}
	for _, pv := range cs.vms {
		if !pv.exited && !pv.halted {
			return true
		}
	}
	return false
}

// failure is a failure of the simulation itself (an unsupported system
// call in strict mode), not of a guest.
func (r *programRunner) failure() error { return r.err }

// replace puts cp in old's place on its core (a VM restored from a
// checkpoint); the core binds it without a world switch.
func (r *programRunner) replace(old, cp *programVM) {
	if r.idle {
		r.idle = false
		r.scope.Engine().Schedule(sim.Event{Time: r.scope.Engine().Now(), Handler: r.id})
	}
	for _, cs := range r.cores {
		for i, pv := range cs.vms {
			if pv == old {
				cs.vms[i] = cp
				cs.retired += old.m.Stats().GuestInsts
				if cs.last == old {
					cs.last = nil
				}
			}
		}
	}
}

// programFiles are each program VM's standard output and error.
func programFiles(vms []*programVM) []outFile {
	var out []outFile
	for _, pv := range vms {
		out = append(out, outFile{pv.outName + ".stdout", pv.stdout.Bytes()},
			outFile{pv.outName + ".stderr", pv.stderr.Bytes()})
	}
	return out
}

// programSummary prints each program VM's result.
func programSummary(w io.Writer, env *sim.Env, vms []*programVM) {
	if len(vms) == 0 {
		return
	}
	fmt.Fprintln(w)
	sharing := map[*TimedCore]int{}
	for _, pv := range vms {
		sharing[pv.tc]++
	}
	for _, pv := range vms {
		status := "still running at the end of run.duration"
		switch {
		case pv.exited:
			status = fmt.Sprintf("exited with status %d at %s", pv.res.ExitCode, fmtTime(float64(pv.endTime)))
		case pv.halted:
			status = fmt.Sprintf("stopped at %s: %s", fmtTime(float64(pv.endTime)), pv.haltWhy)
		}
		sum := sha256.Sum256(pv.stdout.Bytes())
		prot := "not backed up"
		if pv.backedUp() {
			prot = "backed up"
		}
		core := pv.tc.Scope.Name()
		if n := sharing[pv.tc]; n > 1 {
			core = fmt.Sprintf("%s, time-sliced with %d other VM(s), %.0f switches", core, n-1, lookupValue(env, core, "vm_switches"))
		}
		if pv.backedUp() && pv.backup == nil {
			prot = "activated from its backup, unprotected"
		}
		fmt.Fprintf(w, "vm %s (%s, %s): %s %s\n", pv.name, prot, core, strings.Join(pv.argv, " "), status)
		fmt.Fprintf(w, "  %d guest instructions; %s of output (sha256 %x...) in %s.stdout\n",
			pv.m.Stats().GuestInsts, fmtBytes(float64(pv.stdout.Len())), sum[:6], pv.outName)
		if d := pv.dev; d != nil && d.sent.Value()+d.received.Value() > 0 {
			fmt.Fprintf(w, "  network: %d datagrams received, %d sent, %d malformed frames dropped\n",
				d.received.Value(), d.sent.Value(), d.malformed.Value())
		}
	}
}

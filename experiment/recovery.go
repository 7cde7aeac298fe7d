package experiment

import (
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/twinsim/twinsim/configs"
	"github.com/twinsim/twinsim/dbt"
	"github.com/twinsim/twinsim/memory"
	"github.com/twinsim/twinsim/sim"
)

// recovery recovers backed-up program VMs from application failures by
// rollback and re-execution in a changed environment (patent family 4):
//
//   - the secondary keeps the last recovery.keep checkpoints it applied —
//     each VM's image and state — and the VM's driver logs every datagram
//     it hands the guest;
//   - after each stretch a VM runs, the hypervisor looks for a failure: the
//     guest killed by SIGSEGV, SIGBUS, SIGABRT, SIGILL or SIGFPE, an exit
//     status of recovery.exit_statuses, a mapping refused for want of
//     memory (its image or vm.memory_limit), or no system call for
//     recovery.watchdog while it could run;
//   - on a failure it stops the VM, drops the output the adapter holds for
//     it (that execution's), and after recovery.restore and the time to
//     fetch the image from the secondary it restores the VM — image and
//     state — from the newest kept checkpoint taken before the input the VM
//     was serving arrived, applies the policy's next environment change,
//     and re-executes: the driver hands the restored guest the logged
//     inputs since that checkpoint before anything new;
//   - a failure within recovery.window of an attempt starts the next one
//     with the next change; after the last, the recovery gives up and the
//     VM stays down.
//
// With recovery.mode = "restart" the program starts afresh in its image
// instead (its state lost), for comparison.
type recovery struct {
	s     *haNIC
	cfg   configs.RecoveryConfig
	scope sim.Scope
	eng   *sim.Engine
	*calls
	vms      []*rvm
	byPV     map[*programVM]*rvm
	timeline []mark

	failures, attempts, recovered, gaveUp, replayed, dropped, discarded *sim.Counter
	recoveryTime                                                        *sim.Histogram
}

// rvm is the recovery's view of one VM.
type rvm struct {
	name  string
	orig  *programVM // the VM as booted
	pv    *programVM // the copy running now
	dev   *vfDriver
	base  uint64 // the guest part of the image
	size  uint64
	kept  []kept  // oldest first
	log   []input // the inputs delivered from the oldest kept checkpoint's on
	first uint64  // the driver's count of the first entry of log
	limit uint64  // its memory limit now
	// The failure being recovered from: attempts made, when it began, and
	// whether a copy is being restored.
	attempt   int
	episode   sim.Time
	restoring bool
	given     bool // gave up: the VM stays down
	// The watchdog: system calls seen and when the count last moved.
	syscalls uint64
	progress sim.Time
	noMemory bool
	copies   int
	outcome  string
	served   uint64 // the Seq of the input being served at the last failure
	// replayEnd is the Seq of the last input the running attempt
	// re-executes (those after it arrived since the failure).
	replayEnd uint64
	// committed counts the inputs delivered before the newest checkpoint
	// the secondary applied: answers to them may have left, so a
	// re-execution must meet them as they came.
	committed uint64
	byInput   bool     // the failure being recovered was triggered by an input
	changes   []string // the running attempt's
}

// input returns the logged input numbered seq.
func (rv *rvm) input(seq uint64) (input, bool) {
	if seq <= rv.first || seq-rv.first > uint64(len(rv.log)) {
		return input{}, false
	}
	return rv.log[seq-rv.first-1], true
}

// kept is a checkpoint the secondary keeps: the VM's state, and a copy of
// its image's guest part as the secondary held it.
type kept struct {
	st    capturedState
	image *memory.Physical
}

// input is a datagram the driver handed the guest, and when.
type input struct {
	at sim.Time
	dg dbt.Datagram
}

// failSignals are the signals whose death is a failure.
var failSignals = []int{4, 6, 7, 8, 11} // SIGILL, SIGABRT, SIGBUS, SIGFPE, SIGSEGV

var signalNames = map[int]string{4: "SIGILL", 6: "SIGABRT", 7: "SIGBUS", 8: "SIGFPE", 11: "SIGSEGV"}

// newRecovery watches s's backed-up program VMs with virtual functions.
func newRecovery(s *haNIC) (*recovery, error) {
	cfg := s.cfg.Recovery
	if !cfg.Enabled || s.backup == nil {
		return nil, nil
	}
	scope := s.scope.Env().Scope("recovery")
	rc := &recovery{s: s, cfg: cfg, scope: scope, eng: scope.Engine(), calls: newCalls(scope.Engine()), byPV: map[*programVM]*rvm{}}
	rc.failures = scope.Counter("failures", "application failures: a failure of a recovered VM within recovery.window counts with the first")
	rc.attempts = scope.Counter("attempts", "restorations (or restarts) of a failed VM")
	rc.recovered = scope.Counter("recovered", "failures recovered from: an attempt's VM ran recovery.window without failing")
	rc.gaveUp = scope.Counter("gave_up", "failures given up on after the policy's last change")
	rc.replayed = scope.Counter("replayed_inputs", "logged inputs handed again to restored guests")
	rc.dropped = scope.Counter("dropped_inputs", "inputs left out of re-executions (drop-request)")
	rc.discarded = scope.Counter("discarded_output", "packets of failed executions dropped before they were sent")
	rc.recoveryTime = scope.Histogram("recovery_time", "ps", "time from a failure to its recovering attempt's VM running")
	scope.Value("success_rate", "share of the failures settled by the end that were recovered (recovered / (recovered + gave_up); 0 with none settled)", func() float64 {
		settled := rc.recovered.Value() + rc.gaveUp.Value()
		if settled == 0 {
			return 0
		}
		return float64(rc.recovered.Value()) / float64(settled)
	})
	for _, pv := range s.programs {
		if pv.backup == nil || pv.dev == nil {
			continue
		}
		base, size := pv.mem.Image()
		rv := &rvm{name: pv.name, orig: pv, pv: pv, dev: pv.dev, base: base, size: size, limit: pv.mem.Limit(), outcome: "no failure"}
		rc.vms = append(rc.vms, rv)
		rc.byPV[pv] = rv
		rc.watch(rv, pv)
		pv.dev.onInput = func(dg dbt.Datagram, at sim.Time) { rv.log = append(rv.log, input{at, dg}) }
	}
	s.runner.after = rc.check
	s.runner.pending = func() bool {
		for _, rv := range rc.vms {
			if rv.restoring {
				return true
			}
		}
		return false
	}
	return rc, nil
}

// watch hooks copy pv of rv: the checkpoints the secondary applies, and
// the memory it is refused.
func (rc *recovery) watch(rv *rvm, pv *programVM) {
	pv.onKept = func(c capturedState) {
		if rv.pv == pv { // a replaced copy's late checkpoints are of an abandoned execution
			rc.keep(rv, c)
		}
	}
	pv.mem.OnNoMemory = func() {
		if rv.pv == pv {
			rv.noMemory = true
		}
	}
}

// start keeps the VMs as loaded: the secondary's first image.
func (rc *recovery) start() {
	for _, rv := range rc.vms {
		snap, err := rv.pv.m.Snapshot()
		if err != nil {
			panic(fmt.Sprintf("experiment: vm %s: %v", rv.name, err)) // a guest not yet run has one
		}
		rc.keep(rv, capturedState{epoch: noEpoch, snap: snap})
	}
}

func (rc *recovery) note(format string, args ...any) {
	rc.timeline = append(rc.timeline, mark{rc.eng.Now(), fmt.Sprintf(format, args...)})
}

// keep adds a checkpoint the secondary applied to rv's kept ones, dropping
// the oldest beyond recovery.keep and the inputs only it needed.
func (rc *recovery) keep(rv *rvm, c capturedState) {
	if c.snap == nil {
		return // the guest had exited: nothing to restore
	}
	var img *memory.Physical
	if len(rv.kept) >= rc.cfg.Keep {
		img = rv.kept[0].image // reused: Copy clears what the new image lacks
		rv.kept = rv.kept[1:]
	} else {
		var err error
		if img, err = memory.NewPhysical(rc.s.replica.Size()); err != nil {
			panic(fmt.Sprintf("experiment: %v", err)) // the replica's size is valid
		}
	}
	rc.s.replica.Copy(img, rv.base, rv.base, rv.size)
	rv.kept = append(rv.kept, kept{st: c, image: img})
	rv.committed = c.inputs // the output of what came before may be released from now on
	if drop := rv.kept[0].st.inputs; drop > rv.first {
		rv.log = rv.log[min(drop-rv.first, uint64(len(rv.log))):]
		rv.first = drop
	}
}

// check looks at VM pv after a stretch it ran, at now.
func (rc *recovery) check(pv *programVM, now sim.Time) {
	rv := rc.byPV[pv]
	if rv == nil || rv.pv != pv || rv.restoring || rv.given {
		return
	}
	switch {
	case pv.exited && slices.Contains(failSignals, pv.res.Signal):
		rc.fail(rv, "killed by "+signalNames[pv.res.Signal], now, true)
	case pv.exited && slices.Contains(rc.cfg.ExitStatuses, pv.res.ExitCode):
		rc.fail(rv, fmt.Sprintf("exited with status %d", pv.res.ExitCode), now, true)
	case rv.noMemory:
		rc.fail(rv, fmt.Sprintf("out of memory (its limit is %s)", fmtBytes(float64(rv.limit))), now, false)
	case pv.exited:
	default:
		if n := pv.m.Syscalls(); n != rv.syscalls {
			rv.syscalls, rv.progress = n, now
		} else if now-rv.progress >= sim.Time(rc.cfg.Watchdog) {
			rc.fail(rv, fmt.Sprintf("hung (no system call for %s)", sim.Time(rc.cfg.Watchdog)), now, false)
		}
	}
}

// fail: rv's VM has failed at now; byInput says the failure is one an
// input triggers (a crash or an exit), not one the state grows into (out
// of memory, a hang).
func (rc *recovery) fail(rv *rvm, why string, now sim.Time, byInput bool) {
	pv := rv.pv
	pv.halt(now, "it failed: "+why)
	rv.noMemory = false
	// The VF forgets the failed execution: its held output is dropped, and
	// so are the doorbells its driver rang that have not arrived.
	rv.dev.replay = nil
	rv.dev.stop()
	n := rc.s.adapter.ResetVF(rv.dev.vf)
	rc.discarded.Add(uint64(n))
	// A failure of an attempt within the window is the old one coming back
	// — and the next change is tried — unless an input that arrived since
	// the first failure triggered it: then it is a new one. (A failure the
	// state grows into, such as running out of memory, always comes back.)
	served := rv.dev.lastRead
	again := rv.episode != 0 && now-pv.startedAt < sim.Time(rc.cfg.Window) && (!byInput || served <= rv.replayEnd)
	if again {
		rv.attempt++
	} else {
		if rv.episode != 0 {
			rc.settle(rv, pv)
		}
		rv.attempt, rv.episode = 0, now
		rc.failures.Inc()
	}
	rc.note("vm %s fails: %s; %d packets of the failed execution dropped", rv.name, why, n)
	if rv.attempt >= len(rc.cfg.Policy) {
		rv.given, rv.outcome = true, fmt.Sprintf("gave up after %d attempts", rv.attempt)
		rc.gaveUp.Inc()
		rc.note("vm %s: the policy's %d attempts are spent; the recovery gives up and the VM stays down", rv.name, len(rc.cfg.Policy))
		return
	}
	// Each attempt keeps the changes of the ones before and adds the next.
	changes := rc.cfg.Policy[:rv.attempt+1]
	if rc.cfg.Mode == "restart" {
		changes = []string{"restart"}
	}
	// The newest checkpoint taken before the input being served (the one
	// the guest read last) arrived, so that the re-execution sees it again.
	point := now
	if in, ok := rv.input(rv.dev.lastRead); ok {
		point = min(point, in.at)
	}
	rv.served, rv.byInput = rv.dev.lastRead, byInput
	k := rv.kept[0]
	for _, c := range rv.kept {
		if c.st.taken < point {
			k = c
		}
	}
	// The kept image is the secondary's to reuse meanwhile: the restore
	// takes a copy.
	img, err := memory.NewPhysical(rc.s.replica.Size())
	if err != nil {
		panic(fmt.Sprintf("experiment: %v", err)) // the replica's size is valid
	}
	k.image.Copy(img, rv.base, rv.base, rv.size)
	k.image = img
	// The restore: recovery.restore, then fetching the used image from
	// the secondary over the replication link.
	delay := sim.Time(rc.cfg.Restore) + sim.BytesTime(k.image.TouchedBytes(), uint64(rc.s.cfg.HA.LinkBandwidth))
	if slices.Contains(changes, "flush") {
		lines := rc.s.ctl.Flush(now)
		delay += sim.Freq(rc.s.cfg.Host.Freq).CyclesToTime(uint64(lines)) // a line written back or dropped a cycle (assumed)
	}
	rv.restoring = true
	rc.at(now+delay, func() { rc.restore(rv, k, changes) })
}

// restore brings rv's VM back from kept checkpoint k with changes applied.
func (rc *recovery) restore(rv *rvm, k kept, changes []string) {
	s, now := rc.s, rc.eng.Now()
	rv.restoring = false
	rc.attempts.Inc()
	old := rv.pv
	rv.copies++
	var cp *programVM
	var err error
	var replay []input
	restart := changes[0] == "restart"
	if restart {
		cp, err = rc.restart(rv)
	} else {
		// The image's guest part as the secondary kept it, on the primary
		// now, and on the secondary once it has applied the checkpoints
		// still on their way (the failed execution's).
		k.image.Copy(s.mem, rv.base, rv.base, rv.size)
		rc.resyncReplica(rv)
		// The kept checkpoints after k are of the execution abandoned.
		rv.kept = slices.DeleteFunc(rv.kept, func(c kept) bool { return c.st.taken > k.st.taken })
		rv.committed = min(rv.committed, k.st.inputs)
		cp, err = rc.resume(rv, k.st)
		since := k.st.inputs - min(k.st.inputs, rv.first)
		replay = append(replay, rv.log[min(since, uint64(len(rv.log))):]...)
		rv.log = rv.log[:min(since, uint64(len(rv.log)))]
		rv.dev.delivered = k.st.inputs
	}
	if err != nil {
		panic(fmt.Sprintf("experiment: restoring vm %s: %v", rv.name, err))
	}
	var did []string
	for _, ch := range changes {
		if d := rc.apply(rv, cp, ch, &replay); !slices.Contains(did, d) {
			did = append(did, d)
		}
	}
	what := strings.Join(did, "; ")
	rv.dev.reset() // the VF's rings posted anew for the restored guest
	rv.dev.replay, rv.dev.replayAt = rv.dev.replay[:0], rv.dev.replayAt[:0]
	for _, in := range replay {
		rv.dev.replay, rv.dev.replayAt = append(rv.dev.replay, in.dg), append(rv.dev.replayAt, in.at)
	}
	rv.replayEnd = rv.dev.delivered + uint64(len(replay))
	rv.dev.lastRead = 0 // the copy has read nothing yet
	rc.replayed.Add(uint64(len(replay)))
	s.backup.ReplaceState(old, cp)
	s.runner.replace(old, cp)
	for i, pv := range s.programs {
		if pv == old {
			s.programs[i] = cp
		}
	}
	delete(rc.byPV, old)
	rc.byPV[cp] = rv
	rv.pv = cp
	rv.syscalls, rv.progress = cp.m.Syscalls(), now
	cp.startedAt = now
	if blocked, _ := cp.m.Blocked(); blocked && len(replay) > 0 {
		cp.woken = true
	}
	from := "as loaded"
	if k.st.epoch != noEpoch {
		from = fmt.Sprintf("from checkpoint %d (taken at %s)", k.st.epoch+1, fmtTime(float64(k.st.taken)))
	}
	if restart {
		from = "afresh: its state is lost"
	}
	rc.note("vm %s restarts %s, attempt %d: %s; %d logged inputs replayed", rv.name, from, rv.attempt+1, what, len(replay))
	rv.changes = changes
	episode := rv.episode
	rc.at(now+sim.Time(rc.cfg.Window), func() {
		if rv.pv == cp && !cp.halted && !cp.exited && !rv.given && rv.episode == episode {
			rc.settle(rv, cp)
			rc.note("vm %s has run %s without failing: recovered", rv.name, sim.Time(rc.cfg.Window))
		}
	})
}

// settle counts the failure rv's copy cp is recovering from as recovered:
// cp ran its window without the failure coming back (or a new failure
// came, on an input that arrived since).
func (rc *recovery) settle(rv *rvm, cp *programVM) {
	rc.recovered.Inc()
	rc.recoveryTime.Record(uint64(cp.startedAt - rv.episode))
	var changes []string
	for _, c := range rv.changes {
		if !slices.Contains(changes, c) {
			changes = append(changes, c)
		}
	}
	rv.outcome = fmt.Sprintf("recovered by attempt %d (%s) %s after the failure", rv.attempt+1, strings.Join(changes, " + "),
		fmtTime(float64(cp.startedAt-rv.episode)))
	rv.episode = 0
}

// apply makes change to the restored copy's environment, and says what
// it did.
func (rc *recovery) apply(rv *rvm, cp *programVM, change string, replay *[]input) string {
	switch change {
	case "drop-request":
		// A crash while serving the input means no answer to it left; any
		// other failure may have come after its answer, which may have
		// left once its epoch committed.
		if !rv.byInput && rv.served <= rv.committed {
			return "drop-request: the input being served may have been answered (nothing left out)"
		}
		for i, in := range *replay {
			if in.dg.Seq == rv.served {
				*replay = slices.Delete(*replay, i, i+1)
				rc.dropped.Inc()
				return "the input being served at the failure left out"
			}
		}
		return "drop-request: the input being served arrived before the checkpoint (nothing left out)"
	case "reorder-inputs":
		// Only inputs none of whose answers can have left.
		i := 0
		for i < len(*replay) && (*replay)[i].dg.Seq <= rv.committed {
			i++
		}
		return fmt.Sprintf("%d runs of concurrent inputs reversed", reorder((*replay)[i:], sim.Time(rc.cfg.ReorderWindow)))
	case "more-memory":
		rv.limit = min(uint64(float64(rv.limit)*rc.cfg.MemoryFactor), rv.size)
		cp.mem.SetLimit(rv.limit)
		return "memory limit raised to " + fmtBytes(float64(cp.mem.Limit()))
	case "pad-allocator":
		addr, ok := cp.prog.Symbol("twinsim_alloc_pad")
		if !ok {
			return "pad-allocator: the program has no twinsim_alloc_pad (nothing changed)"
		}
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(rc.cfg.PadBytes))
		if err := cp.m.WriteGuest(addr, b[:]); err != nil {
			return "pad-allocator: " + err.Error()
		}
		return fmt.Sprintf("allocator padding set to %s", rc.cfg.PadBytes)
	case "flush":
		return "caches flushed, code translated afresh"
	case "restart":
		return "restarted"
	}
	return "no change (plain rollback)"
}

// reorder reverses each run of inputs delivered within window of the one
// before it, and returns how many runs of more than one it reversed.
func reorder(in []input, window sim.Time) int {
	runs := 0
	for i := 0; i < len(in); {
		j := i + 1
		for j < len(in) && in[j].at-in[j-1].at <= window {
			j++
		}
		if j-i > 1 {
			slices.Reverse(in[i:j])
			runs++
		}
		i = j
	}
	return runs
}

// resume makes the copy of rv's VM that runs from state st, over the image
// in the primary's memory, on the VM's core, with its driver.
func (rc *recovery) resume(rv *rvm, st capturedState) (*programVM, error) {
	cp, backing, err := rc.newCopy(rv)
	if err != nil {
		return nil, err
	}
	cp.stdout.Write(rv.pv.stdout.Bytes()[:min(st.stdout, rv.pv.stdout.Len())])
	cp.stderr.Write(rv.pv.stderr.Bytes()[:min(st.stderr, rv.pv.stderr.Len())])
	cp.markThread = rv.pv.markThread // the same host: its threads are backed up as the VM's were
	mc, err := cp.machineConfig(rc.s.cfg, cp.tc, cp.firmware)
	if err != nil {
		return nil, err
	}
	pc := cp.processConfig(0, backing)
	pc.Net = rv.dev
	if cp.m, err = dbt.Resume(cp.prog, st.snap, pc, mc, &cp.stderr); err != nil {
		return nil, err
	}
	rc.finishCopy(rv, cp)
	return cp, nil
}

// restart makes the copy of rv's VM that starts its program afresh in the
// image, cleared, and resynchronises the secondary's image with it.
func (rc *recovery) restart(rv *rvm) (*programVM, error) {
	s := rc.s
	s.mem.Zero(rv.base, rv.size)
	cp, backing, err := rc.newCopy(rv)
	if err != nil {
		return nil, err
	}
	seed := sim.NewRNG(s.scope.Env().Seed, fmt.Sprintf("%s.restart%d", cp.scope.Name(), rv.copies)).Uint64()
	pc := cp.processConfig(seed, backing)
	pc.Net = rv.dev
	if cp.proc, err = dbt.NewProcess(cp.prog, pc); err != nil {
		return nil, err
	}
	mc, err := cp.tc.MachineConfig(s.cfg)
	if err != nil {
		return nil, err
	}
	mc.FirmwareBase, mc.Scheduled = cp.firmware, true
	if cp.m, err = dbt.NewMachine(cp.proc, mc, &cp.stderr); err != nil {
		return nil, err
	}
	rc.resyncReplica(rv)
	rv.log, rv.first, rv.dev.delivered = nil, 0, 0
	rv.kept = nil
	rc.finishCopy(rv, cp)
	snap, err := cp.m.Snapshot()
	if err != nil {
		return nil, err
	}
	rc.keep(rv, capturedState{epoch: noEpoch, snap: snap, taken: rc.eng.Now()})
	return cp, nil
}

// resyncReplica has the secondary's image of rv's VM take the guest part
// of the primary's as it is now, once it has applied the checkpoints still
// on their way (those of the failed execution).
func (rc *recovery) resyncReplica(rv *rvm) {
	s := rc.s
	img, err := memory.NewPhysical(s.mem.Size())
	if err != nil {
		panic(fmt.Sprintf("experiment: %v", err)) // the primary's size is valid
	}
	s.mem.Copy(img, rv.base, rv.base, rv.size)
	s.backup.AtSecondary(func() { img.Copy(s.replica, rv.base, rv.base, rv.size) })
}

// newCopy returns a copy of rv's VM, not yet running, with a backing over
// the guest part of its image in the primary's memory.
func (rc *recovery) newCopy(rv *rvm) (*programVM, *dbt.Backing, error) {
	o := rv.orig
	backing, err := dbt.NewImageBacking(rc.s.mem, rv.base, rv.size)
	if err != nil {
		return nil, nil, err
	}
	backing.SetLimit(rv.limit)
	cp := &programVM{vm: o.vm, name: o.name, outName: o.outName, scope: o.scope.Child(fmt.Sprintf("copy%d", rv.copies)),
		path: o.path, argv: o.argv, prog: o.prog, core: o.core, tc: o.tc, firmware: o.firmware, backup: o.backup, dev: rv.dev, mem: backing}
	return cp, backing, nil
}

// finishCopy gives the copy its driver and statistics and watches it.
func (rc *recovery) finishCopy(rv *rvm, cp *programVM) {
	rv.dev.pv = cp
	cp.register()
	rc.watch(rv, cp)
}

// summary prints each watched VM's outcome and the timeline.
func (rc *recovery) summary(w io.Writer) {
	fmt.Fprintf(w, "\nrecovery (%s, policy %s):\n", rc.cfg.Mode, strings.Join(rc.cfg.Policy, ", "))
	for _, rv := range rc.vms {
		fmt.Fprintf(w, "  vm %s: %s\n", rv.name, rv.outcome)
	}
	for _, m := range rc.timeline {
		fmt.Fprintf(w, "  %10s  %s\n", fmtTime(float64(m.at)), m.what)
	}
	fmt.Fprintf(w, "recovery: %d failures, %d attempts, %d recovered, %d given up; %d inputs replayed, %d left out, %d packets of failed executions dropped\n",
		rc.failures.Value(), rc.attempts.Value(), rc.recovered.Value(), rc.gaveUp.Value(), rc.replayed.Value(), rc.dropped.Value(), rc.discarded.Value())
}

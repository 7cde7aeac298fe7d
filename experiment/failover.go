package experiment

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/twinsim/twinsim/cache"
	"github.com/twinsim/twinsim/configs"
	"github.com/twinsim/twinsim/dbt"
	"github.com/twinsim/twinsim/hypervisor"
	"github.com/twinsim/twinsim/nic"
	"github.com/twinsim/twinsim/sim"
)

// failover injects the configured faults into the ha-nic scenario and,
// with ha.failover, runs the pair's high availability (patent family 2):
//
//   - the two hosts exchange heartbeats over the replication path
//     (hypervisor.Monitor) and suspect each other after ha.misses silent
//     intervals;
//   - a host that suspects its peer claims the protected VMs at the
//     witness, the switch's management plane, over its own port
//     (ha.fencing = "witness"); the first claim wins, the switch then
//     forwards the VMs' frames only from the winner's port, and a host
//     that loses — or hears nothing within ha.claim_timeout — stops its
//     copy;
//   - the secondary, winning, activates the VMs ha.activation after it has
//     applied every checkpoint it received in full: each program VM is
//     resumed on host1's core of the same number from the last state the
//     secondary applied (never a partly received checkpoint), over the
//     backup image, with a virtual function of host1's adapter and the
//     same MAC; they run unprotected from then on;
//   - the primary, winning (its peer failed), releases the output it holds
//     and runs its VMs on unprotected.
//
// Its checks are independent of the mechanism: every frame of a protected
// VM the switch forwards from the primary must reflect state the
// activated copy holds (lost_output), and once a copy runs on host1 no
// frame of the VM may come from host0 (two_copies).
type failover struct {
	s     *haNIC
	cfg   configs.Config
	scope sim.Scope
	eng   *sim.Engine
	id    sim.HandlerID
	link  *hypervisor.LinkTransport // nil: ha.transport = "network"

	mon     [2]*hypervisor.Monitor // nil without ha.failover
	witness *hypervisor.Witness
	// The primary's backed-up program VMs, their MACs and VFs.
	protected []*programVM
	macs      []uint64
	vfs       []int

	dead      [2]bool // crashed
	resigned  bool    // the primary stopped its copy (lost its claim, or its switch)
	claimed   [2]bool
	activated bool
	host1     *Host
	copies    []*programVM // the VMs running on host1
	runner1   *programRunner
	drivers1  map[int]*vfDriver
	// activatedEpochs is how many epochs the activated copy holds (the
	// state it resumed from ends epoch activatedEpochs-1).
	activatedEpochs uint64
	// byEpoch counts the protected VMs' frames forwarded from host0 by
	// the epoch they were produced in (Packet.Stamp).
	byEpoch     []uint64
	resumedFrom sim.Time // when the checkpoint the copies resumed from was taken (0: as loaded)

	timeline []mark
	calls    map[uint64]func()
	seq      uint64

	faultAt, suspectAt, activeAt, firstFrame sim.Time
	lostOutput, twoCopies, stale             *sim.Counter
}

// mark is one entry of the run's timeline.
type mark struct {
	at   sim.Time
	what string
}

// newFailover prepares the faults of s's configuration and, with
// ha.failover, the pair's heartbeats and witness. It returns nil when
// there is neither.
func newFailover(s *haNIC, link *hypervisor.LinkTransport) (*failover, error) {
	cfg := s.cfg
	if len(cfg.Faults) == 0 && !cfg.HA.Failover {
		return nil, nil
	}
	scope := s.scope.Env().Scope("failover")
	f := &failover{s: s, cfg: cfg, scope: scope, eng: scope.Engine(), link: link, calls: map[uint64]func(){},
		faultAt: sim.MaxTime, suspectAt: sim.MaxTime, activeAt: sim.MaxTime, firstFrame: sim.MaxTime}
	f.id = f.eng.Register(f)
	f.lostOutput = scope.Counter("lost_output", "frames of a protected VM forwarded to the network that reflect state the activated copy does not hold (must be 0)")
	f.stale = scope.Counter("stale_states", "VMs activated from a state other than the one of the checkpoint the backup image holds (must be 0)")
	f.twoCopies = scope.Counter("two_copies", "frames of a protected VM forwarded from host0 after a copy began running on host1 (must be 0 with fencing)")
	for _, v := range []struct {
		name, doc string
		t         *sim.Time
	}{
		{"fault_ps", "when the first fault happened (-1: none)", &f.faultAt},
		{"suspected_ps", "when a host first suspected its peer (-1: never)", &f.suspectAt},
		{"activated_ps", "when the protected VMs began running on host1 (-1: never)", &f.activeAt},
		{"first_frame_ps", "when host1's copies first sent a frame through the switch (-1: never)", &f.firstFrame},
	} {
		scope.Value(v.name, v.doc, func() float64 {
			if *v.t == sim.MaxTime {
				return -1
			}
			return float64(*v.t)
		})
	}
	since := func(name, doc string, t *sim.Time) {
		scope.Value(name, doc, func() float64 {
			if *t == sim.MaxTime || f.faultAt == sim.MaxTime {
				return -1
			}
			return float64(*t - f.faultAt)
		})
	}
	since("detection_ps", "time from the first fault to a host's suspecting its peer (-1: none)", &f.suspectAt)
	since("activation_ps", "time from the first fault to the protected VMs' running on host1 (-1: none)", &f.activeAt)
	since("first_frame_after_ps", "time from the first fault to host1's first frame through the switch (-1: none)", &f.firstFrame)
	scope.Value("rollback_ps", "time from the checkpoint the activated copy resumed from to the first fault: the guests' work lost (-1: no activation)", func() float64 {
		if !f.activated || f.faultAt == sim.MaxTime {
			return -1
		}
		return float64(f.faultAt - f.resumedFrom)
	})
	scope.Value("activated_epochs", "epochs the activated copy holds: it resumed from the checkpoint that ended the last of them", func() float64 {
		return float64(f.activatedEpochs)
	})
	for _, pv := range s.programs {
		if pv.backup != nil {
			f.protected = append(f.protected, pv)
			f.macs = append(f.macs, pv.dev.mac)
			f.vfs = append(f.vfs, pv.dev.vf)
		}
	}
	s.sw.OnForward = f.forwarded
	if cfg.HA.Failover {
		hb := hypervisor.HeartbeatConfig{Interval: sim.Time(cfg.HA.Heartbeat), Misses: cfg.HA.Misses, Bytes: uint64(cfg.HA.AckBytes)}
		tr := s.backup.Transport()
		var err error
		if f.mon[0], err = hypervisor.NewMonitor(scope.Child("host0"), hb, tr.ToSecondary); err != nil {
			return nil, err
		}
		if f.mon[1], err = hypervisor.NewMonitor(scope.Child("host1"), hb, tr.ToPrimary); err != nil {
			return nil, err
		}
		hypervisor.Pair(f.mon[0], f.mon[1])
		f.mon[0].OnSuspect = func(at sim.Time) { f.suspect(0, at) }
		f.mon[1].OnSuspect = func(at sim.Time) { f.suspect(1, at) }
		if cfg.HA.Fencing == "witness" {
			f.witness = hypervisor.NewWitness(scope.Child("witness"))
			for _, mac := range f.macs {
				s.sw.Guard(mac)
			}
		}
	}
	return f, nil
}

// start draws the faults' instants and schedules them, and starts the
// heartbeats.
func (f *failover) start() {
	for i, fc := range f.cfg.Faults {
		at := sim.Time(fc.At)
		if at == 0 {
			rng := sim.NewRNG(f.scope.Env().Seed, fmt.Sprintf("faults.%d", i))
			at = sim.Time(fc.After) + sim.Time(rng.Uint64N(uint64(fc.Within)))
		}
		f.at(at, func() { f.inject(fc) })
	}
	if f.mon[0] != nil {
		f.mon[0].Start()
		f.mon[1].Start()
	}
}

// at calls fn at time t.
func (f *failover) at(t sim.Time, fn func()) {
	f.seq++
	f.calls[f.seq] = fn
	f.eng.Schedule(sim.Event{Time: t, Handler: f.id, Arg: f.seq})
}

// Handle implements sim.Handler: a call falls due.
func (f *failover) Handle(ev sim.Event) {
	fn := f.calls[ev.Arg]
	delete(f.calls, ev.Arg)
	fn()
}

func (f *failover) note(format string, args ...any) {
	f.timeline = append(f.timeline, mark{f.eng.Now(), fmt.Sprintf(format, args...)})
}

// hostIndex is the host a fault names.
func hostIndex(fc configs.FaultConfig) int {
	if fc.Host == "secondary" {
		return 1
	}
	return 0
}

// inject makes fault fc happen now.
func (f *failover) inject(fc configs.FaultConfig) {
	f.faultAt = min(f.faultAt, f.eng.Now())
	h := hostIndex(fc)
	switch fc.Kind {
	case "host-crash":
		f.note("fault: host%d crashes", h)
		f.crash(h)
	case "link-loss":
		f.note("fault: the replication link is cut%s", forTime(fc.Duration))
		f.link.Cut()
		if fc.Duration > 0 {
			f.at(f.eng.Now()+sim.Time(fc.Duration), func() {
				f.note("the replication link is back")
				f.link.Restore()
			})
		}
	case "partition":
		f.note("fault: host%d's adapter loses the switch%s", h, forTime(fc.Duration))
		f.s.sw.SetUp(f.s.ports[h], false)
		if f.mon[h] != nil && !f.dead[h] {
			// The host sees its carrier drop; if it is the primary and the
			// link stays down as long as its peer would take to suspect
			// it, it stops its copy and its heartbeats, so that the
			// secondary takes over.
			f.at(f.eng.Now()+sim.Time(f.cfg.HA.Misses)*sim.Time(f.cfg.HA.Heartbeat), func() {
				if h == 0 && !f.portUp(0) && !f.dead[0] && !f.resigned && !f.claimed[0] {
					f.note("host0 has had no link to the switch for %s: it stops its copies and its heartbeats",
						sim.Time(f.cfg.HA.Misses)*sim.Time(f.cfg.HA.Heartbeat))
					f.resign()
					f.mon[0].Stop()
				}
			})
		}
		if fc.Duration > 0 {
			f.at(f.eng.Now()+sim.Time(fc.Duration), func() {
				f.note("host%d's adapter has the switch again", h)
				f.s.sw.SetUp(f.s.ports[h], true)
			})
		}
	}
}

func forTime(d configs.Duration) string {
	if d == 0 {
		return " for good"
	}
	return " for " + sim.Time(d).String()
}

func (f *failover) portUp(h int) bool {
	return f.s.sw.PortUp(f.s.ports[h])
}

// crash stops host h for good: its cores, the VMs on them, its adapter
// with the output it holds, its heartbeats and what it was sending.
func (f *failover) crash(h int) {
	if f.dead[h] {
		return
	}
	f.dead[h] = true
	if f.mon[h] != nil {
		f.mon[h].Stop()
	}
	if f.link != nil {
		f.link.SenderFailed(h == 0)
	}
	if h == 1 {
		f.s.second.Fail()
		if f.activated {
			f.runner1.halted = true
			for _, pv := range f.copies {
				pv.halt(f.eng.Now())
			}
		}
		if f.link != nil && !f.activated {
			f.link.Cut() // nothing reaches a dead secondary, or comes from it
		}
		return
	}
	s := f.s
	s.adapter.Fail()
	if s.backup != nil {
		s.backup.Stop()
	}
	if r := s.runner; r != nil {
		r.halted = true
	}
	for _, pv := range s.programs {
		pv.halt(f.eng.Now())
	}
	for _, v := range s.vcpus {
		v.Halt()
	}
	for _, v := range s.net {
		v.Halt()
	}
}

// suspect: host h has heard nothing from its peer for ha.misses
// heartbeats.
func (f *failover) suspect(h int, at sim.Time) {
	f.suspectAt = min(f.suspectAt, at)
	f.note("host%d suspects host%d has failed (no heartbeat for %s)", h, 1-h, sim.Time(f.cfg.HA.Misses)*sim.Time(f.cfg.HA.Heartbeat))
	if h == 0 && f.resigned {
		return
	}
	f.claim(h)
}

// claim: host h claims the protected VMs.
func (f *failover) claim(h int) {
	f.claimed[h] = true
	if f.witness == nil {
		f.note("host%d takes the protected VMs (ha.fencing = \"none\": no witness asked)", h)
		f.won(h)
		return
	}
	oneWay := sim.Time(f.cfg.NIC.Latency) + sim.Time(f.cfg.Network.SwitchLatency)
	answered := false
	f.note("host%d claims the protected VMs at the witness", h)
	f.at(f.eng.Now()+oneWay, func() {
		if f.dead[h] || !f.portUp(h) {
			return // the claim never reaches the witness
		}
		granted := f.witness.Claim("host0", h)
		if granted && h == 1 {
			// The witness moves the VMs' MACs at once: from now on the
			// switch takes their frames from host1's port only.
			for _, mac := range f.macs {
				if err := f.s.sw.Move(mac, f.s.ports[1]); err != nil {
					panic(err) // the port exists
				}
			}
		}
		f.at(f.eng.Now()+oneWay, func() {
			if f.dead[h] || !f.portUp(h) {
				return
			}
			answered = true
			if granted {
				f.note("the witness grants host%d the protected VMs", h)
				f.won(h)
			} else {
				f.note("the witness refuses host%d: host%d holds the protected VMs", h, 1-h)
				f.lost(h)
			}
		})
	})
	f.at(f.eng.Now()+sim.Time(f.cfg.HA.ClaimTimeout), func() {
		if !answered && !f.dead[h] {
			f.note("host%d's claim has no answer within %s", h, sim.Time(f.cfg.HA.ClaimTimeout))
			f.lost(h)
		}
	})
}

// won: host h holds the protected VMs.
func (f *failover) won(h int) {
	if h == 0 {
		f.unprotect()
		return
	}
	start := max(f.eng.Now(), f.s.backup.ApplyingUntil()) + sim.Time(f.cfg.HA.Activation)
	f.at(start, f.activate)
}

// lost: host h must not run the protected VMs.
func (f *failover) lost(h int) {
	if h == 0 {
		f.resign()
		return
	}
	f.note("host1 stays passive")
	f.mon[1].Stop()
}

// unprotect: the primary runs its VMs on without a backup, releasing the
// output it holds.
func (f *failover) unprotect() {
	s := f.s
	f.note("host0 runs the protected VMs on unprotected, releasing the output it held")
	s.backup.Stop()
	f.mon[0].Stop()
	for i := range s.check.protected {
		s.check.protected[i] = false // no secondary to hold their state any more
	}
	for _, vf := range s.ckptVFs {
		s.adapter.Unprotect(vf)
	}
}

// resign: the primary stops its copies of the protected VMs; the output
// they hold is never released.
func (f *failover) resign() {
	if f.resigned {
		return
	}
	f.resigned = true
	f.note("host0 stops its copies of the protected VMs (fenced); the output they held is never sent")
	f.s.backup.Stop()
	for _, pv := range f.protected {
		pv.halt(f.eng.Now())
	}
}

// activate resumes the protected VMs on host1 from the last checkpoint
// the secondary applied.
func (f *failover) activate() {
	if f.dead[1] || f.activated {
		return
	}
	s, cfg := f.s, f.cfg
	env := s.scope.Env()
	var err error
	if f.host1, err = NewHost(env.Scope("host1"), cfg, cfg.Host.Cores, nil); err != nil {
		panic(fmt.Sprintf("experiment: host1: %v", err)) // host0 was built from the same configuration
	}
	dma, err := cache.NewPort(sim.Freq(cfg.Host.Freq), []*cache.Cache{f.host1.L3}, f.host1.DRAM, nil)
	if err != nil {
		panic(fmt.Sprintf("experiment: host1 dma: %v", err))
	}
	mem := &dmaPath{port: dma, mem: s.replica, vms: s.vms, latency: sim.Time(cfg.NIC.DMALatency), line: uint64(cfg.Cache.LineSize)}
	f.drivers1 = map[int]*vfDriver{}
	f.activatedEpochs = s.backup.Backed()
	for i, pv := range f.protected {
		st := pv.applied
		if want := f.activatedEpochs - 1; st.epoch != want { // noEpoch when no checkpoint was applied
			f.stale.Inc()
		}
		f.resumedFrom = st.taken
		if st.exited {
			f.note("vm %s had exited by the checkpoint host1 holds: nothing to activate", pv.name)
			continue
		}
		cp, err := f.resume(pv, st, mem, f.macs[i])
		if err != nil {
			panic(fmt.Sprintf("experiment: activating vm %s on host1: %v", pv.name, err))
		}
		f.copies = append(f.copies, cp)
	}
	s.second.OnInterrupt = func(vf int, _ sim.Time) {
		if d := f.drivers1[vf]; d != nil {
			d.interrupt()
		}
	}
	if f.witness == nil {
		for _, mac := range f.macs {
			if err := s.sw.Move(mac, s.ports[1]); err != nil {
				panic(err)
			}
		}
	}
	f.activated, f.activeAt = true, f.eng.Now()
	// Frames host0 sent before now must reflect epochs the copies hold.
	for e := f.activatedEpochs; e < uint64(len(f.byEpoch)); e++ {
		f.lostOutput.Add(f.byEpoch[e])
	}
	epoch := "as loaded (no checkpoint had been applied)"
	if f.activatedEpochs > 0 {
		epoch = fmt.Sprintf("from checkpoint %d", f.activatedEpochs)
	}
	f.note("host1 runs the protected VMs %s; their MACs are on host1's port", epoch)
	if len(f.copies) > 0 {
		f.runner1 = newProgramRunner(env.Scope("host1"), cfg, f.copies)
		for _, vf := range sortedKeys(f.drivers1) {
			f.drivers1[vf].start()
		}
		f.runner1.start()
	}
}

// resume makes the copy of pv that runs on host1 from state st: the
// guest resumed over the backup image, on the core of the same number,
// with a virtual function of host1's adapter with pv's MAC.
func (f *failover) resume(pv *programVM, st *capturedState, dma nic.HostMemory, mac uint64) (*programVM, error) {
	cfg, s := f.cfg, f.s
	tc := f.host1.Cores[pv.core]
	cp := &programVM{vm: pv.vm, name: pv.name, outName: pv.outName, scope: s.scope.Env().Scope("host1.vm." + pv.name),
		path: pv.path, argv: pv.argv, prog: pv.prog, core: pv.core, tc: tc, firmware: pv.firmware}
	if st.snap != nil {
		cp.stdout.Write(pv.stdout.Bytes()[:st.stdout])
		cp.stderr.Write(pv.stderr.Bytes()[:st.stderr])
	}
	base, size := pv.mem.Image()
	backing, err := dbt.NewImageBacking(s.replica, base, size)
	if err != nil {
		return nil, err
	}
	cp.mem = backing
	vf, err := s.second.AddVF(mac, false)
	if err != nil {
		return nil, err
	}
	d, err := newVFDriver(cfg, cp, s.second, vf, mac, dma, s.replica)
	if err != nil {
		return nil, err
	}
	f.drivers1[vf] = d
	mc, err := tc.MachineConfig(cfg)
	if err != nil {
		return nil, err
	}
	mc.FirmwareBase, mc.Scheduled = pv.firmware, true
	pc := cp.processConfig(0, backing)
	pc.Net = d
	// host1's core has idled until now; the guest's clock reads the
	// core's from here on (it jumps over the time it did not run).
	now := sim.Freq(cfg.Host.Freq).Cycles(f.eng.Now())
	tc.Timing.Idle(now - min(now, tc.Timing.Now()))
	if cp.m, err = dbt.Resume(pv.prog, st.snap, pc, mc, &cp.stderr); err != nil {
		return nil, err
	}
	cp.register()
	return cp, nil
}

// forwarded checks each frame the switch forwards: a protected VM's frame
// from host0 must reflect state the activated copy holds, and none may
// come from host0 once a copy runs on host1.
func (f *failover) forwarded(p nic.Packet, in int) {
	if in < 0 {
		return
	}
	for i, mac := range f.macs {
		if p.Src != mac {
			continue
		}
		if in == f.s.ports[1] {
			if f.firstFrame == sim.MaxTime {
				f.firstFrame = f.eng.Now()
				f.note("host1's copy of vm %s sends its first frame", f.protected[i].name)
			}
			return
		}
		if f.activated {
			f.twoCopies.Inc()
			if p.Stamp >= f.activatedEpochs {
				f.lostOutput.Inc()
			}
			return
		}
		for uint64(len(f.byEpoch)) <= p.Stamp {
			f.byEpoch = append(f.byEpoch, 0)
		}
		f.byEpoch[p.Stamp]++
		return
	}
}

// summary prints the timeline and the checks.
func (f *failover) summary(w io.Writer) {
	fmt.Fprintln(w, "\ntimeline:")
	for _, m := range f.timeline {
		fmt.Fprintf(w, "  %10s  %s\n", fmtTime(float64(m.at)), m.what)
	}
	if f.faultAt != sim.MaxTime && f.activeAt != sim.MaxTime {
		fmt.Fprintf(w, "failover: detected %s after the fault, VMs running on host1 %s after it", fmtTime(float64(f.suspectAt-f.faultAt)),
			fmtTime(float64(f.activeAt-f.faultAt)))
		if f.firstFrame != sim.MaxTime {
			fmt.Fprintf(w, ", their first frame %s after it", fmtTime(float64(f.firstFrame-f.faultAt)))
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "failover checks: %d frames reflecting state the surviving copy lost; %d frames from host0 after the activation on host1\n",
		f.lostOutput.Value(), f.twoCopies.Value())
}

// timelineCSV is the timeline as a CSV file.
func (f *failover) timelineCSV() []byte {
	var b bytes.Buffer
	b.WriteString("time_ps,event\n")
	for _, m := range f.timeline {
		fmt.Fprintf(&b, "%d,%q\n", uint64(m.at), strings.ReplaceAll(m.what, `"`, `'`))
	}
	return b.Bytes()
}

// copyOf returns the copy of pv running on host1, or nil.
func (f *failover) copyOf(pv *programVM) *programVM {
	for _, c := range f.copies {
		if c.name == pv.name {
			return c
		}
	}
	return nil
}

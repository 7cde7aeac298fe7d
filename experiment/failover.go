package experiment

import (
	"fmt"
	"io"
	"slices"

	"github.com/twinsim/twinsim/cache"
	"github.com/twinsim/twinsim/configs"
	"github.com/twinsim/twinsim/dbt"
	"github.com/twinsim/twinsim/hypervisor"
	"github.com/twinsim/twinsim/memory"
	"github.com/twinsim/twinsim/nic"
	"github.com/twinsim/twinsim/sim"
)

// failover injects the configured faults into the ha-nic scenario and,
// with ha.failover, runs the high availability of the protected VMs
// (patent family 2) over a chain of protection terms: in term 0 host0 runs
// them and host1 holds their backup; with ha.after_failover = "spare",
// host1 re-protects them onto host2 once it runs them (term 1). In each
// term:
//
//   - the two hosts exchange heartbeats over the replication path
//     (hypervisor.Monitor) and suspect each other after ha.misses silent
//     intervals;
//   - a host that suspects its peer claims the term's VMs at the witness,
//     the switch's management plane, over its own port (ha.fencing =
//     "witness"); the first claim wins, the switch then forwards the VMs'
//     frames only from the winner's port, and a host that loses — or hears
//     nothing within ha.claim_timeout — stops its copy;
//   - the secondary, winning, activates the VMs ha.activation after it has
//     applied every checkpoint it received in full: each program VM is
//     resumed on the secondary's core of the same number from the last
//     state the secondary applied (never a partly received checkpoint),
//     over its backup image, with a virtual function of its adapter and
//     the same MAC;
//   - the primary, winning (its peer failed), releases the output it holds
//     and runs its VMs on unprotected.
//
// Its checks are independent of the mechanism: every frame of a protected
// VM the switch forwards from a copy that is later replaced must reflect
// state the activated copy holds (lost_output), and once a copy runs on a
// new host no frame of the VM may come from the old one (two_copies).
type failover struct {
	s     *haNIC
	cfg   configs.Config
	scope sim.Scope
	eng   *sim.Engine
	*calls

	hosts   []*foHost // host0, host1 and, with a spare, host2
	terms   []*term   // the protection terms begun so far
	witness *hypervisor.Witness
	macs    []uint64 // the protected VMs' MACs
	// active is the host whose copies of the protected VMs send now.
	active *foHost

	timeline []mark

	// The first failover's moments, and the state it resumed from.
	faultAt, suspectAt, activeAt, firstFrame sim.Time
	activated                                bool
	activatedEpochs                          uint64
	resumedFrom                              sim.Time // when that checkpoint was taken (0: as loaded)
	lostOutput, twoCopies                    *sim.Counter
}

// foHost is one host of the chain.
type foHost struct {
	n       int
	scope   sim.Scope // hostN
	adapter *nic.Adapter
	port    int    // its switch port
	epochs  uint64 // the epochs the copies it activated hold
	sent    bool   // its copies have sent a frame
	mem     *memory.Physical
	dead    bool
	hw      *Host             // built when it activates the VMs (host0's is the scenario's)
	ctl     *cache.Controller // its image-modification log, when it protects VMs it activated
	runner  *programRunner
	vms     []*programVM // the protected VMs' copies it runs (host0: the originals)
	drivers map[int]*vfDriver
}

// term is one protection term: a primary running the protected VMs, the
// secondary holding their backup.
type term struct {
	n        int
	pri, sec *foHost
	backup   *hypervisor.Backup
	link     *hypervisor.LinkTransport // nil: term 0 over the network transport
	mon      [2]*hypervisor.Monitor    // the primary's, the secondary's; nil without ha.failover
	vms      []*programVM              // the protected VMs on the primary
	vfs      []int                     // their VFs on the primary's adapter
	check    *commitCheck
	claimed  [2]bool
	resigned bool
	// ready: the secondary holds a whole image (term 0: from the start;
	// a spare once the primary's image has reached it).
	ready bool
	// byEpoch counts the protected VMs' frames forwarded from the
	// primary by the epoch they were produced in (Packet.Stamp).
	byEpoch []uint64
}

// group names a term's VMs at the witness.
func (t *term) group() string { return fmt.Sprintf("term%d", t.n) }

// side is the host of a term: 0 the primary, 1 the secondary.
func (t *term) side(i int) *foHost {
	if i == 0 {
		return t.pri
	}
	return t.sec
}

// newFailover prepares the faults of s's configuration and, with
// ha.failover, the first term's heartbeats and the witness. It returns nil
// when there is neither.
func newFailover(s *haNIC, link *hypervisor.LinkTransport) (*failover, error) {
	cfg := s.cfg
	if len(cfg.Faults) == 0 && !cfg.HA.Failover {
		return nil, nil
	}
	env := s.scope.Env()
	scope := env.Scope("failover")
	f := &failover{s: s, cfg: cfg, scope: scope, eng: scope.Engine(), calls: newCalls(scope.Engine()),
		faultAt: sim.MaxTime, suspectAt: sim.MaxTime, activeAt: sim.MaxTime, firstFrame: sim.MaxTime}
	f.stats()
	h0 := &foHost{n: 0, scope: s.scope, adapter: s.adapter, port: s.ports[0], mem: s.mem, runner: s.runner}
	h1 := &foHost{n: 1, scope: env.Scope("host1"), adapter: s.second, port: s.ports[1], mem: s.replica}
	f.hosts = []*foHost{h0, h1}
	f.active = h0
	if cfg.HA.Failover && cfg.HA.AfterFailover == "spare" {
		a, err := nic.New(env.Scope("host2.nic"), s.nicCfg)
		if err != nil {
			return nil, err
		}
		if _, err := a.AddPF(macHost + 2); err != nil {
			return nil, err
		}
		h2 := &foHost{n: 2, scope: env.Scope("host2"), adapter: a}
		a.Deliver = func(p nic.Packet, _ sim.Time) { s.sw.ReceiveOn(h2.port, p) }
		if h2.port, err = s.sw.AddPort(uint64(cfg.NIC.Bandwidth), sim.Time(cfg.NIC.Latency),
			func(p nic.Packet, _ sim.Time) { a.Receive(p) }, macHost+2); err != nil {
			return nil, err
		}
		f.hosts = append(f.hosts, h2)
	}
	t := &term{n: 0, pri: h0, sec: h1, backup: s.backup, link: link, check: s.check, ready: true}
	for _, pv := range s.programs {
		if pv.backup != nil {
			t.vms = append(t.vms, pv)
			t.vfs = append(t.vfs, pv.dev.vf)
			f.macs = append(f.macs, pv.dev.mac)
		}
	}
	h0.vms = t.vms
	f.terms = []*term{t}
	s.sw.OnForward = f.forwarded
	if cfg.HA.Failover {
		if err := f.watch(t, s.backup.Transport()); err != nil {
			return nil, err
		}
		if s.runner != nil {
			// A host running nothing but programs does not end the run while
			// a secondary may still take its VMs over.
			s.runner.pending = func() bool {
				for _, t := range f.terms {
					if t.sec.hw == nil && !t.sec.dead && !t.mon[1].Stopped() {
						return true
					}
				}
				return false
			}
		}
		if cfg.HA.Fencing == "witness" {
			f.witness = hypervisor.NewWitness(scope.Child("witness"))
			for _, mac := range f.macs {
				s.sw.Guard(mac)
			}
		}
	}
	return f, nil
}

// stats registers the failover's statistics.
func (f *failover) stats() {
	scope := f.scope
	f.lostOutput = scope.Counter("lost_output", "frames of a protected VM forwarded to the network that reflect state the copy activated in its place does not hold (must be 0)")
	f.twoCopies = scope.Counter("two_copies", "frames of a protected VM forwarded from a host after a copy began running on another (must be 0 with fencing)")
	for _, v := range []struct {
		name, doc string
		t         *sim.Time
	}{
		{"fault_ps", "when the first host fault (crash, link loss or partition) happened (-1: none)", &f.faultAt},
		{"suspected_ps", "when a host first suspected its peer (-1: never)", &f.suspectAt},
		{"activated_ps", "when the protected VMs first began running on another host (-1: never)", &f.activeAt},
		{"first_frame_ps", "when the first activated copies first sent a frame through the switch (-1: never)", &f.firstFrame},
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
	since("detection_ps", "time from the first host fault to a host's suspecting its peer (-1: none)", &f.suspectAt)
	since("activation_ps", "time from the first host fault to the protected VMs' running on another host (-1: none)", &f.activeAt)
	since("first_frame_after_ps", "time from the first host fault to the activated copies' first frame through the switch (-1: none)", &f.firstFrame)
	scope.Value("rollback_ps", "time from the checkpoint the first activated copies resumed from to the first host fault: the guests' work lost (-1: no activation)", func() float64 {
		if !f.activated || f.faultAt == sim.MaxTime {
			return -1
		}
		return float64(f.faultAt - f.resumedFrom)
	})
	scope.Value("activated_epochs", "epochs the first activated copies hold: they resumed from the checkpoint that ended the last of them", func() float64 {
		return float64(f.activatedEpochs)
	})
	scope.Value("failovers", "times the protected VMs were activated on another host", func() float64 {
		n := 0
		for _, h := range f.hosts[1:] {
			if h.hw != nil {
				n++
			}
		}
		return float64(n)
	})
}

// watch gives term t its heartbeats over tr (a dedicated link's control
// lanes).
func (f *failover) watch(t *term, tr hypervisor.Transport) error {
	if lt, ok := tr.(*hypervisor.LinkTransport); ok {
		tr = lt.Control()
	}
	hb := hypervisor.HeartbeatConfig{Interval: sim.Time(f.cfg.HA.Heartbeat), Misses: f.cfg.HA.Misses, Bytes: uint64(f.cfg.HA.AckBytes)}
	scope := f.scope.Child(t.group())
	var err error
	if t.mon[0], err = hypervisor.NewMonitor(scope.Child(fmt.Sprintf("host%d", t.pri.n)), hb, tr.ToSecondary); err != nil {
		return err
	}
	if t.mon[1], err = hypervisor.NewMonitor(scope.Child(fmt.Sprintf("host%d", t.sec.n)), hb, tr.ToPrimary); err != nil {
		return err
	}
	hypervisor.Pair(t.mon[0], t.mon[1])
	t.mon[0].OnSuspect = func(at sim.Time) { f.suspect(t, 0, at) }
	t.mon[1].OnSuspect = func(at sim.Time) { f.suspect(t, 1, at) }
	return nil
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
	if t := f.terms[0]; t.mon[0] != nil {
		t.mon[0].Start()
		t.mon[1].Start()
	}
}

func (f *failover) note(format string, args ...any) {
	f.timeline = append(f.timeline, mark{f.eng.Now(), fmt.Sprintf(format, args...)})
}

// faultHost is the host a fault names.
func (f *failover) faultHost(fc configs.FaultConfig) *foHost {
	switch fc.Host {
	case "secondary":
		return f.hosts[1]
	case "spare":
		return f.hosts[2]
	}
	return f.hosts[0]
}

// current is the latest term, whose link a link-loss cuts.
func (f *failover) current() *term { return f.terms[len(f.terms)-1] }

// inject makes fault fc happen now.
func (f *failover) inject(fc configs.FaultConfig) {
	if fc.Kind == "host-crash" || fc.Kind == "link-loss" || fc.Kind == "partition" {
		f.faultAt = min(f.faultAt, f.eng.Now()) // the failover's measures start at the first host fault
	}
	h := f.faultHost(fc)
	switch fc.Kind {
	case "host-crash":
		f.note("fault: host%d crashes", h.n)
		f.crash(h)
	case "link-loss":
		t := f.current()
		f.note("fault: the replication link from host%d to host%d is cut%s", t.pri.n, t.sec.n, forTime(fc.Duration))
		t.link.Cut()
		if fc.Duration > 0 {
			f.at(f.eng.Now()+sim.Time(fc.Duration), func() {
				f.note("the replication link from host%d to host%d is back: a whole-image checkpoint resynchronises host%d", t.pri.n, t.sec.n, t.sec.n)
				t.link.Restore()
				t.backup.Resync()
			})
		}
	case "app-crash":
		for _, pv := range f.s.programs {
			if pv.name == fc.VM && !pv.exited && !pv.halted {
				f.note("fault: vm %s's guest is killed by signal %d", pv.name, fc.Signal)
				pv.exited, pv.res, pv.endTime = true, pv.m.Kill(fc.Signal), f.eng.Now()
				if f.s.rec != nil {
					f.s.rec.check(pv, f.eng.Now())
				}
			}
		}
	case "nic-reset":
		if !h.adapter.Reset() {
			f.note("fault: host%d's adapter is told to reset, but it is resetting or dead already", h.n)
			break
		}
		f.note("fault: host%d's adapter resets (for %s)", h.n, sim.Time(fc.Duration))
		f.at(f.eng.Now()+sim.Time(fc.Duration), func() {
			if h.dead {
				return
			}
			h.adapter.Restart()
			f.note("host%d's adapter is back; its VMs' drivers post their rings anew", h.n)
			drivers := h.drivers
			if h.n == 0 {
				drivers = f.s.drivers
				for _, v := range f.s.net {
					v.Reset()
				}
			}
			for _, vf := range sortedKeys(drivers) {
				if !drivers[vf].pv.halted {
					drivers[vf].reset()
				}
			}
		})
	case "partition":
		f.note("fault: host%d's adapter loses the switch%s", h.n, forTime(fc.Duration))
		f.s.sw.SetUp(h.port, false)
		if f.cfg.HA.Failover {
			// The host sees its carrier drop; if it runs protected VMs and
			// the link stays down as long as its peer would take to
			// suspect it, it stops its copies and its heartbeats, so that
			// the secondary takes over.
			wait := sim.Time(f.cfg.HA.Misses) * sim.Time(f.cfg.HA.Heartbeat)
			f.at(f.eng.Now()+wait, func() {
				for _, t := range f.terms {
					if t.pri == h && !h.dead && !f.s.sw.PortUp(h.port) && !t.resigned && !t.claimed[0] && t.mon[0] != nil {
						f.note("host%d has had no link to the switch for %s: it stops its copies and its heartbeats", h.n, wait)
						f.resign(t)
						t.mon[0].Stop()
					}
				}
			})
		}
		if fc.Duration > 0 {
			f.at(f.eng.Now()+sim.Time(fc.Duration), func() {
				f.note("host%d's adapter has the switch again", h.n)
				f.s.sw.SetUp(h.port, true)
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

// crash stops host h for good: its cores, the VMs on them, its adapter
// with the output it holds, its heartbeats and what it was sending.
func (f *failover) crash(h *foHost) {
	if h.dead {
		return
	}
	h.dead = true
	h.adapter.Fail()
	if h.runner != nil {
		h.runner.halted = true
	}
	for _, pv := range h.vms {
		pv.halt(f.eng.Now(), "its host crashed")
	}
	for _, t := range f.terms {
		switch h {
		case t.pri:
			if t.mon[0] != nil {
				t.mon[0].Stop()
			}
			if t.link != nil {
				t.link.SenderFailed(true)
			}
			t.backup.Stop()
		case t.sec:
			if t.mon[1] != nil {
				t.mon[1].Stop()
			}
			if t.link != nil {
				t.link.SenderFailed(false)
				t.link.Cut() // nothing reaches a dead secondary, or comes from it
			}
		}
	}
	if h.n != 0 {
		return
	}
	s := f.s
	for _, pv := range s.programs {
		pv.halt(f.eng.Now(), "its host crashed")
	}
	for _, v := range s.vcpus {
		v.Halt()
	}
	for _, v := range s.net {
		v.Halt()
	}
}

// suspect: a host of term t (side 0 the primary, 1 the secondary) has
// heard nothing from its peer for ha.misses heartbeats.
func (f *failover) suspect(t *term, side int, at sim.Time) {
	f.suspectAt = min(f.suspectAt, at)
	h, peer := t.side(side), t.side(1-side)
	f.note("host%d suspects host%d has failed (no heartbeat for %s)", h.n, peer.n, sim.Time(f.cfg.HA.Misses)*sim.Time(f.cfg.HA.Heartbeat))
	if side == 0 && t.resigned {
		return
	}
	if side == 1 && !t.ready {
		// It could not take over: claiming would only fence the primary.
		f.note("host%d has not yet received the whole image of the protected VMs: it does not claim them", h.n)
		t.mon[1].Stop()
		return
	}
	f.claim(t, side)
}

// claim: a host of term t claims the term's VMs.
func (f *failover) claim(t *term, side int) {
	h := t.side(side)
	t.claimed[side] = true
	if f.witness == nil {
		f.note("host%d takes the protected VMs (ha.fencing = \"none\": no witness asked)", h.n)
		f.won(t, side)
		return
	}
	oneWay := sim.Time(f.cfg.NIC.Latency) + sim.Time(f.cfg.Network.SwitchLatency)
	answered, gaveUp := false, false
	f.note("host%d claims the protected VMs at the witness", h.n)
	f.at(f.eng.Now()+oneWay, func() {
		if h.dead || !f.s.sw.PortUp(h.port) {
			return // the claim never reaches the witness
		}
		granted := f.witness.Claim(t.group(), h.n)
		if granted && side == 1 {
			// The witness moves the VMs' MACs at once: from now on the
			// switch takes their frames from the winner's port only.
			f.move(h)
		}
		f.at(f.eng.Now()+oneWay, func() {
			if h.dead || !f.s.sw.PortUp(h.port) || gaveUp {
				return // lost on the way back, or too late: the host has stopped waiting
			}
			answered = true
			if granted {
				f.note("the witness grants host%d the protected VMs", h.n)
				f.won(t, side)
			} else {
				f.note("the witness refuses host%d: host%d holds the protected VMs", h.n, t.side(1-side).n)
				f.lost(t, side)
			}
		})
	})
	f.at(f.eng.Now()+sim.Time(f.cfg.HA.ClaimTimeout), func() {
		if !answered && !h.dead {
			gaveUp = true
			f.note("host%d's claim has no answer within %s", h.n, sim.Time(f.cfg.HA.ClaimTimeout))
			f.lost(t, side)
		}
	})
}

// move puts the protected VMs' MACs on h's port.
func (f *failover) move(h *foHost) {
	for _, mac := range f.macs {
		if err := f.s.sw.Move(mac, h.port); err != nil {
			panic(err) // the port exists
		}
	}
}

// won: a host of term t holds the term's VMs.
func (f *failover) won(t *term, side int) {
	if side == 0 {
		f.unprotect(t)
		return
	}
	start := max(f.eng.Now(), t.backup.ApplyingUntil()) + sim.Time(f.cfg.HA.Activation)
	f.at(start, func() { f.activate(t) })
}

// lost: a host of term t must not run the term's VMs.
func (f *failover) lost(t *term, side int) {
	if side == 0 {
		f.resign(t)
		return
	}
	f.note("host%d stays passive", t.sec.n)
	t.mon[1].Stop()
}

// unprotect: term t's primary runs its VMs on without a backup, releasing
// the output it holds.
func (f *failover) unprotect(t *term) {
	f.note("host%d runs the protected VMs on unprotected, releasing the output it held", t.pri.n)
	t.backup.Stop()
	t.mon[0].Stop()
	for i := range t.check.protected {
		t.check.protected[i] = false // no secondary to hold their state any more
	}
	for _, vf := range t.vfs {
		t.pri.adapter.Unprotect(vf)
	}
}

// resign: term t's primary stops its copies of the VMs; the output they
// hold is never released.
func (f *failover) resign(t *term) {
	if t.resigned {
		return
	}
	t.resigned = true
	f.note("host%d stops its copies of the protected VMs (fenced); the output they held is never sent", t.pri.n)
	t.backup.Stop()
	for _, pv := range t.vms {
		pv.halt(f.eng.Now(), "its copy was fenced")
	}
}

// activate resumes term t's VMs on its secondary from the last checkpoint
// the secondary applied, and — with a spare after it — protects them
// there.
func (f *failover) activate(t *term) {
	h := t.sec
	if h.dead || h.hw != nil {
		return
	}
	s, cfg := f.s, f.cfg
	epochs := t.backup.Backed()
	t.backup.TakeOver()
	var next *foHost
	if cfg.HA.AfterFailover == "spare" && h.n+1 < len(f.hosts) && !f.hosts[h.n+1].dead {
		next = f.hosts[h.n+1]
	}
	var err error
	if next != nil {
		// The VMs' stores on h set image-modification flags: h checkpoints
		// them to the spare.
		if h.ctl, err = newLogController(h.scope, cfg, h.mem, s.layout); err != nil {
			panic(fmt.Sprintf("experiment: host%d: %v", h.n, err)) // host0's was built from the same configuration
		}
	}
	if h.hw, err = NewHost(h.scope, cfg, cfg.Host.Cores, h.ctl); err != nil {
		panic(fmt.Sprintf("experiment: host%d: %v", h.n, err))
	}
	dma, err := h.hw.DevicePort(sim.Freq(cfg.Host.Freq), h.ctl)
	if err != nil {
		panic(fmt.Sprintf("experiment: host%d dma: %v", h.n, err))
	}
	mem := &dmaPath{port: dma, mem: h.mem, vms: s.vms, latency: sim.Time(cfg.NIC.DMALatency), line: uint64(cfg.Cache.LineSize)}
	h.drivers = map[int]*vfDriver{}
	var copies []*programVM
	var vfs []int
	for i, pv := range t.vms {
		st := pv.applied
		if st == nil || st.exited {
			f.note("vm %s had exited by the checkpoint host%d holds: nothing to activate", pv.name, h.n)
			continue
		}
		cp, vf, err := f.resume(h, pv, st, mem, f.macs[i], next != nil && cfg.NIC.Buffering == "nic")
		if err != nil {
			panic(fmt.Sprintf("experiment: activating vm %s on host%d: %v", pv.name, h.n, err))
		}
		if t.n == 0 {
			f.resumedFrom = st.taken
		}
		copies = append(copies, cp)
		vfs = append(vfs, vf)
	}
	h.vms = copies
	h.adapter.OnInterrupt = func(vf int, _ sim.Time) {
		if d := h.drivers[vf]; d != nil {
			d.interrupt()
		}
	}
	if f.witness == nil {
		f.move(h) // the activated host announces the MACs
	}
	prev := f.active
	f.active = h
	h.epochs = epochs
	if !f.activated {
		f.activated, f.activeAt, f.activatedEpochs = true, f.eng.Now(), epochs
	}
	// Frames the replaced copies sent must reflect epochs the new ones hold.
	for e := epochs; e < uint64(len(t.byEpoch)); e++ {
		f.lostOutput.Add(t.byEpoch[e])
	}
	from := "as loaded (no checkpoint had been applied)"
	if epochs > 0 {
		from = fmt.Sprintf("from checkpoint %d", epochs)
	}
	f.note("host%d runs the protected VMs %s; their MACs are on host%d's port (host%d's copies are replaced)", h.n, from, h.n, prev.n)
	if len(copies) == 0 {
		return
	}
	h.runner = newProgramRunner(h.scope, cfg, copies)
	if next != nil {
		if err := f.protect(h, next, copies, vfs, mem); err != nil {
			panic(fmt.Sprintf("experiment: protecting the VMs on host%d: %v", h.n, err))
		}
	}
	for _, vf := range sortedKeys(h.drivers) {
		h.drivers[vf].start()
	}
	h.runner.start()
}

// protect begins a term in which h runs vms (on its adapter's VFs vfs)
// and next holds their backup: next's memory receives their whole images
// over a dedicated link first — the copy's output held from now until the
// first checkpoint after that commits — then a checkpoint every interval,
// as on host0.
func (f *failover) protect(h, next *foHost, vms []*programVM, vfs []int, dma *dmaPath) error {
	s, cfg := f.s, f.cfg
	var err error
	if next.mem, err = memory.NewPhysical(s.mem.Size()); err != nil {
		return err
	}
	link, err := hypervisor.NewLinkTransport(f.s.scope.Env().Scope(fmt.Sprintf("replication.host%d", h.n)),
		sim.Time(cfg.HA.LinkLatency), uint64(cfg.HA.LinkBandwidth))
	if err != nil {
		return err
	}
	bc, err := backupConfig(cfg, link, h.hw, h.ctl)
	if err != nil {
		return err
	}
	var vmList []*hypervisor.VM
	for _, pv := range vms {
		vmList = append(vmList, pv.vm)
	}
	b, err := hypervisor.NewBackup(h.scope.Child("backup"), bc, sim.Freq(cfg.Host.Freq), h.ctl, h.mem, next.mem, vmList)
	if err != nil {
		return err
	}
	dma.backup = b
	t := &term{n: len(f.terms), pri: h, sec: next, backup: b, link: link, vms: vms, vfs: vfs}
	t.check = &commitCheck{backup: b, protected: make([]bool, len(s.vms)), checked: s.check.checked, violations: s.check.violations}
	for _, pv := range vms {
		t.check.protected[pv.dev.mac-macVM-1] = true
	}
	h.adapter.OnTransmit = t.check.frame
	b.OnEpoch = func(e uint64) {
		for _, vf := range vfs {
			if err := h.adapter.StartEpoch(vf, e); err != nil {
				panic(fmt.Sprintf("experiment: %v", err)) // epochs only increase
			}
		}
	}
	b.OnCommit = func(e uint64) {
		for _, vf := range vfs {
			h.adapter.Commit(vf, e)
		}
	}
	// The copies' state as of now is what the spare holds once the image
	// has arrived; their checkpoints carry theirs from then on.
	images := uint64(0)
	snaps := make([]*capturedState, len(vms))
	for i, pv := range vms {
		pv.backup, pv.keepApplied = b, true
		b.AddState(pv)
		snap, err := pv.m.Snapshot()
		if err != nil {
			return err
		}
		snaps[i] = &capturedState{epoch: noEpoch, snap: snap, taken: f.eng.Now(), stdout: pv.stdout.Len(), stderr: pv.stderr.Len()}
		images += pv.vm.Size
	}
	f.note("host%d copies the protected VMs' images (%s) to host%d, holding their output until it is protected", h.n, fmtBytes(float64(images)), next.n)
	link.ToSecondary(f.eng.Now(), images, func() {
		t.ready = true
		for i, pv := range vms {
			if pv.applied == nil {
				pv.applied = snaps[i]
			}
		}
		f.note("host%d holds the protected VMs' images: they are protected again", next.n)
	})
	f.terms = append(f.terms, t)
	if cfg.HA.Failover {
		if err := f.watch(t, link); err != nil {
			return err
		}
		t.mon[0].Start()
		t.mon[1].Start()
	}
	b.Start()
	return nil
}

// resume makes the copy of pv that runs on h from state st: the guest
// resumed over h's backup image, on h's core of the same number, with a
// virtual function of h's adapter with pv's MAC (whose output the adapter
// holds for commit if ckpt). It returns the copy and its VF.
func (f *failover) resume(h *foHost, pv *programVM, st *capturedState, dma nic.HostMemory, mac uint64, ckpt bool) (*programVM, int, error) {
	cfg, s := f.cfg, f.s
	tc := h.hw.Cores[pv.core]
	cp := &programVM{vm: pv.vm, name: pv.name, outName: pv.outName, scope: s.scope.Env().Scope(h.scope.Name() + ".vm." + pv.name),
		path: pv.path, argv: pv.argv, prog: pv.prog, core: pv.core, tc: tc, firmware: pv.firmware}
	cp.stdout.Write(pv.stdout.Bytes()[:st.stdout])
	cp.stderr.Write(pv.stderr.Bytes()[:st.stderr])
	base, size := pv.mem.Image()
	backing, err := dbt.NewImageBacking(h.mem, base, size)
	if err != nil {
		return nil, 0, err
	}
	backing.SetLimit(pv.mem.Limit())
	cp.mem = backing
	vf, err := h.adapter.AddVF(mac, ckpt)
	if err != nil {
		return nil, 0, err
	}
	d, err := newVFDriver(cfg, cp, h.adapter, vf, mac, dma, h.mem)
	if err != nil {
		return nil, 0, err
	}
	h.drivers[vf] = d
	mc, err := cp.machineConfig(cfg, tc, pv.firmware)
	if err != nil {
		return nil, 0, err
	}
	pc := cp.processConfig(0, backing)
	pc.Net = d
	// The host's core has idled until now; the guest's clock reads the
	// core's from here on (it jumps over the time it did not run).
	now := sim.Freq(cfg.Host.Freq).Cycles(f.eng.Now())
	tc.Timing.Idle(now - min(now, tc.Timing.Now()))
	if cp.m, err = dbt.Resume(pv.prog, st.snap, pc, mc, &cp.stderr); err != nil {
		return nil, 0, err
	}
	cp.register()
	return cp, vf, nil
}

// forwarded checks each frame the switch forwards: a protected VM's frame
// from a copy that is later replaced must reflect state its replacement
// holds, and none may come from a replaced copy.
func (f *failover) forwarded(p nic.Packet, in int) {
	if in < 0 || !slices.Contains(f.macs, p.Src) {
		return
	}
	if in == f.active.port {
		if h := f.active; h.n != 0 && !h.sent {
			h.sent = true
			f.firstFrame = min(f.firstFrame, f.eng.Now())
			f.note("host%d's copies send their first frame", h.n)
		}
		for _, t := range f.terms {
			if t.pri == f.active {
				for uint64(len(t.byEpoch)) <= p.Stamp {
					t.byEpoch = append(t.byEpoch, 0)
				}
				t.byEpoch[p.Stamp]++
			}
		}
		return
	}
	for _, t := range f.terms {
		if t.pri.port == in && t.sec.hw != nil { // a copy that has been replaced
			f.twoCopies.Inc()
			if p.Stamp >= t.sec.epochs {
				f.lostOutput.Inc()
			}
		}
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
	fmt.Fprintf(w, "failover checks: %d frames reflecting state a surviving copy lost; %d frames from a copy after its replacement began running\n",
		f.lostOutput.Value(), f.twoCopies.Value())
	for _, t := range f.terms[1:] {
		bp := t.pri.scope.Child("backup").Name()
		st := func(name string) float64 { return lookupValue(f.scope.Env(), bp, name) }
		check := "equal to host" + fmt.Sprint(t.pri.n) + "'s as of each"
		if st("image_mismatches") > 0 {
			check = fmt.Sprintf("DIFFERED after %.0f", st("image_mismatches"))
		}
		fmt.Fprintf(w, "re-protection, host%d to host%d: %.0f checkpoints, mean pause %s, %s replicated per checkpoint (mean); host%d's image %s of the %.0f acknowledged\n",
			t.pri.n, t.sec.n, st("checkpoints"), fmtTime(st("pause.mean")), fmtBytes(st("ckpt_replicated_bytes.mean")), t.sec.n, check, st("commits"))
	}
}

// copies returns the copies of the protected VMs that hosts other than
// host0 ran, host by host.
func (f *failover) copies() []*programVM {
	var out []*programVM
	for _, h := range f.hosts[1:] {
		out = append(out, h.vms...)
	}
	return out
}

// copyOf returns the last copy of pv that ran on another host, or nil.
func (f *failover) copyOf(pv *programVM) *programVM {
	var last *programVM
	for _, c := range f.copies() {
		if c.name == pv.name {
			last = c
		}
	}
	return last
}

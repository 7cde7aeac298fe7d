package nic

import (
	"fmt"

	"github.com/twinsim/twinsim/sim"
)

// Overflow is what the checkpoint buffer does with a packet it has no
// room for.
type Overflow uint8

// Overflow policies.
const (
	// Backpressure refuses the packet: the VF's transmit ring stops
	// draining (Send returns false) until the buffer has room again
	// (Adapter.OnRoom).
	Backpressure Overflow = iota
	// Spill writes the packet to host memory over DMA and reads it back
	// when it is released, paying the DMA's bandwidth and latency.
	Spill
	// Drop discards the packet, counted as data loss.
	Drop
)

var overflowNames = [...]string{Backpressure: "backpressure", Spill: "spill", Drop: "drop"}

func (o Overflow) String() string { return enumName(overflowNames[:], "Overflow", o) }

// ParseOverflow returns the policy named name.
func ParseOverflow(name string) (Overflow, error) {
	return parseEnum[Overflow](overflowNames[:], "overflow policy", name)
}

// Config describes an adapter and its port.
type Config struct {
	MTU uint32 // largest payload, bytes
	// The checkpoint packet buffer: its capacity and overflow policy; a
	// spill goes over a DMA path of SpillBytesPerSec and SpillLatency.
	BufferBytes      uint64
	BufferPackets    int
	Overflow         Overflow
	SpillBytesPerSec uint64
	SpillLatency     sim.Time
	// The transmit scheduler; DRR shares the wire between released
	// checkpoint packets and other packets by Quantum[0] : Quantum[1]
	// bytes a round.
	Scheduler Scheduler
	Quantum   [2]uint64
	// The wire from the port.
	WireBytesPerSec uint64
	WireLatency     sim.Time
	// Interrupt coalescing: a VF's interrupt fires at CoalescePackets
	// completions (transmit or receive), or CoalesceTime after the first
	// one that has not fired yet (0: at once).
	CoalescePackets int
	CoalesceTime    sim.Time
}

// Validate names the first value out of range.
func (c Config) Validate() error {
	maxFrame := uint64(c.MTU) + HeaderBytes + FCSBytes
	switch {
	case c.MTU < 46 || c.MTU > 9000:
		return fmt.Errorf("mtu %d is not allowed; must be 46..9000 bytes", c.MTU)
	case c.BufferBytes < maxFrame:
		return fmt.Errorf("buffer of %d bytes is smaller than one frame of the MTU (%d bytes)", c.BufferBytes, maxFrame)
	case c.BufferPackets < 1:
		return fmt.Errorf("buffer of %d packets is not allowed; must hold at least 1", c.BufferPackets)
	case c.Overflow > Drop:
		return fmt.Errorf("unknown overflow policy %d", c.Overflow)
	case c.Overflow == Spill && c.SpillBytesPerSec == 0:
		return fmt.Errorf("spill needs a DMA bandwidth")
	case c.Scheduler > DRR:
		return fmt.Errorf("unknown scheduler %d", c.Scheduler)
	case c.Scheduler == DRR && (c.Quantum[0] == 0 || c.Quantum[1] == 0):
		return fmt.Errorf("drr needs a quantum for each priority")
	case c.WireBytesPerSec == 0:
		return fmt.Errorf("the wire needs a bandwidth")
	case c.CoalescePackets < 1:
		return fmt.Errorf("interrupt coalescing of %d packets is not allowed; must be at least 1", c.CoalescePackets)
	}
	return nil
}

// vf is one virtual function.
type vf struct {
	mac  uint64
	ckpt bool // its VM checkpoints (the HAC configuration)
	// epoch is the VM's current epoch; committed is one more than the
	// last epoch whose checkpoint has committed (0: none).
	epoch, committed uint64
	held             queue // packets awaiting commit, in send order
	blocked          bool  // backpressure: refusing packets until there is room
	blockedAt        sim.Time

	// Rings in guest memory (mem is nil without them).
	mem    HostMemory
	tx, rx ring
	// Transmit descriptors fetched, in ring order; readyCount of them have
	// arrived, inFlight are still being read.
	fetched              queue
	fetchInFlight        bool
	inFlight, readyCount int
	rxInFlight           queue    // packets being written into receive buffers
	rxLast               sim.Time // when the last of them completes
	// The VF's interrupt: completions not yet signalled, whether the
	// coalescing timer runs (and its generation), whether the driver has
	// it masked.
	irqPending          int
	irqArmed, irqMasked bool
	irqGen              uint64
	payload             bool   // packets carry their payload's bytes (CarryPayload)
	gen                 uint32 // ResetVF calls: its events from before are stale
}

// Event kinds.
const (
	evTxDone = iota
	evDeliver
	evSpillReady
	evTxFetched
	evRxDone
	evIRQ
)

// Adapter is the SR-IOV adapter of one host: its virtual functions, the
// checkpoint packet buffer, the transmit scheduler and the port's wire.
// It runs on the event engine of its scope; Send, StartEpoch and Commit
// act at the engine's current time.
//
// Statistics under its scope: packets and bytes sent, held, released,
// spilled and dropped; backpressure refusals; output-commit violations;
// histograms of how long packets were held and of their latency from Send
// to arrival at the far end of the wire; the buffer's peak occupancy.
type Adapter struct {
	name   string
	cfg    Config
	engine *sim.Engine
	id     sim.HandlerID
	vfs    []*vf
	sched  scheduler
	wire   *sim.Link
	dma    *sim.Link

	occBytes   uint64 // checkpoint-buffer memory in use
	occPackets int
	txBusy     bool
	txFromBuf  bool   // the frame on the wire came from the buffer
	txBytes    uint64 // its frame bytes
	txPkt      Packet // and the packet
	inflight   queue  // frames on the wire, in order
	// Released packets waiting behind a spilled one being read back from
	// host memory (so that no VF's packets overtake each other), in
	// order; readBack is when the last of them is ready.
	spillReady queue
	readBack   sim.Time

	// Deliver, if set, receives each packet when its last byte arrives at
	// the far end of the wire.
	Deliver func(p Packet, at sim.Time)
	// OnTransmit, if set, sees each packet as its first bit leaves the
	// port (for checks made outside the adapter).
	OnTransmit func(p Packet)
	// OnRoom, if set, is told when a VF refused by backpressure may send
	// again.
	OnRoom func(vf int)
	// OnInterrupt, if set, receives each VF's interrupts; the interrupt
	// stays masked until the driver calls EnableIRQ.
	OnInterrupt func(vf int, at sim.Time)
	// OnReceive, if set, receives the frames for functions without rings
	// (the physical function, which host software drives) when they
	// arrive.
	OnReceive func(vf int, p Packet)

	byMAC map[uint64]int
	// DMA buffers: the transfers copy at once, so one of each serves all.
	scratch [descBatch * DescBytes]byte
	hdr     [PacketHeaderLen]byte
	desc    [DescBytes]byte

	sent, sentBytes, held, released, spilled, dropped, droppedBytes *sim.Counter
	refused, violations                                             *sim.Counter
	rxPackets, rxUnknown, rxNoBuffer, txCompletions, interrupts     *sim.Counter
	rxTooLong, lostInFailure, lostInReset, resets, discarded        *sim.Counter
	failed                                                          bool   // Fail: the host crashed
	resetting                                                       bool   // Reset until Restart
	gen                                                             uint32 // resets so far: events of earlier ones are stale
	holdTime, latency, irqEvents                                    *sim.Histogram
	peakBytes                                                       uint64
	windowPeak                                                      uint64 // since the last TakePeak
	stalledPS                                                       uint64 // backpressure: VF time spent refusing, ended stalls
}

// New returns an adapter with no VFs, with statistics under scope.
func New(scope sim.Scope, cfg Config) (*Adapter, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", scope.Name(), err)
	}
	wire, err := sim.NewLink(scope.Child("wire"), cfg.WireLatency, cfg.WireBytesPerSec)
	if err != nil {
		return nil, err
	}
	a := &Adapter{name: scope.Name(), cfg: cfg, engine: scope.Engine(), wire: wire, byMAC: map[uint64]int{},
		sched: scheduler{kind: cfg.Scheduler, quantum: cfg.Quantum}}
	if cfg.Overflow == Spill {
		if a.dma, err = sim.NewLink(scope.Child("spill_dma"), cfg.SpillLatency, cfg.SpillBytesPerSec); err != nil {
			return nil, err
		}
	}
	a.id = a.engine.Register(a)
	a.sent = scope.Counter("tx_packets", "packets put on the wire")
	a.sentBytes = scope.Counter("tx_bytes", "frame bytes put on the wire")
	a.held = scope.Counter("held_packets", "packets of checkpointing VFs held until their epoch commits")
	a.released = scope.Counter("released_packets", "held packets released by commit notices")
	a.spilled = scope.Counter("spilled_packets", "held packets spilled to host memory (buffer full, spill)")
	a.dropped = scope.Counter("dropped_packets", "packets dropped because the buffer was full (drop): data loss")
	a.droppedBytes = scope.Counter("dropped_bytes", "payload bytes dropped (drop)")
	a.refused = scope.Counter("backpressure_refusals", "packets refused because the buffer was full (backpressure)")
	a.violations = scope.Counter("output_commit_violations", "packets sent before their epoch's checkpoint committed (a bug if not 0)")
	a.rxPackets = scope.Counter("rx_packets", "frames received into a VF's receive buffer")
	a.rxUnknown = scope.Counter("rx_unknown", "frames received for a MAC no VF has")
	a.rxNoBuffer = scope.Counter("rx_no_buffer", "frames dropped because the VF had no receive buffer posted")
	a.rxTooLong = scope.Counter("rx_too_long", "frames dropped because they were longer than the VF's receive buffers")
	a.lostInReset = scope.Counter("lost_in_reset", "frames held for commit, waiting to be sent, on the wire or being received when the adapter was reset (lost)")
	a.resets = scope.Counter("resets", "times the adapter was reset")
	a.discarded = scope.Counter("discarded_packets", "packets held for commit that were dropped because the execution producing them failed (application-failure recovery)")
	a.lostInFailure = scope.Counter("lost_in_failure", "frames held for commit, waiting to be sent or on the wire when the host failed (lost with it)")
	a.txCompletions = scope.Counter("tx_completions", "transmit descriptors completed")
	a.interrupts = scope.Counter("interrupts", "interrupts raised to drivers")
	a.irqEvents = scope.Histogram("completions_per_interrupt", "completions", "completions signalled by one interrupt (coalescing)")
	a.holdTime = scope.Histogram("hold_time", "ps", "time a held packet waited for its commit")
	a.latency = scope.Histogram("latency", "ps", "time from Send to the last byte's arrival at the far end of the wire")
	scope.Value("peak_buffer_bytes", "most checkpoint-buffer memory in use at once", func() float64 { return float64(a.peakBytes) })
	scope.Value("backpressure_share", "share of the checkpointing VFs' time spent refusing packets (backpressure)", func() float64 {
		now := a.engine.Now()
		stalled, n := float64(a.stalledPS), 0
		for _, v := range a.vfs {
			if v.ckpt {
				n++
				if v.blocked {
					stalled += float64(now - v.blockedAt)
				}
			}
		}
		if n == 0 || now == 0 {
			return 0
		}
		return stalled / (float64(n) * float64(now))
	})
	scope.Value("buffer_bytes", "checkpoint-buffer memory in use", func() float64 { return float64(a.occBytes) })
	return a, nil
}

// Name returns the adapter's scope name, under which its statistics are.
func (a *Adapter) Name() string { return a.name }

// AddPF adds the physical function, which the host (the hypervisor) uses:
// it does not checkpoint, and it has no rings, so frames for it go to
// OnReceive. It returns its number.
func (a *Adapter) AddPF(mac uint64) (int, error) { return a.AddVF(mac, false) }

// AddVF adds a virtual function with MAC mac whose VM checkpoints or not,
// and returns its number.
func (a *Adapter) AddVF(mac uint64, checkpointing bool) (int, error) {
	if n, ok := a.byMAC[mac]; ok {
		return 0, fmt.Errorf("MAC %#x is already vf %d's", mac, n)
	}
	a.vfs = append(a.vfs, &vf{mac: mac, ckpt: checkpointing})
	a.byMAC[mac] = len(a.vfs) - 1
	return len(a.vfs) - 1, nil
}

// Buffered returns the bytes and packets in the checkpoint buffer's
// memory (held or released and not yet sent; spilled ones are in host
// memory).
func (a *Adapter) Buffered() (bytes uint64, packets int) { return a.occBytes, a.occPackets }

// StartEpoch makes epoch the current one of VF n's VM: its packets from
// now on belong to it. Epochs only increase.
func (a *Adapter) StartEpoch(n int, epoch uint64) error {
	v := a.vfs[n]
	if epoch < v.epoch {
		return fmt.Errorf("vf %d: epoch %d after epoch %d", n, epoch, v.epoch)
	}
	v.epoch = epoch
	return nil
}

// fits reports whether the buffer has room for a frame of size bytes.
func (a *Adapter) fits(size uint64) bool {
	return a.occBytes+size <= a.cfg.BufferBytes && a.occPackets < a.cfg.BufferPackets
}

// Send hands packet p to VF n now. A packet of a non-checkpointing VF is
// ready at once; one of a checkpointing VF is held, tagged with the VF's
// epoch, until that epoch commits. It reports false when backpressure
// refuses the packet: the VF takes none until OnRoom says so.
func (a *Adapter) Send(n int, p Packet) bool {
	if a.failed || a.resetting {
		return true // into a dead or resetting adapter: lost
	}
	v := a.vfs[n]
	p.VF, p.Sent = n, a.engine.Now()
	if !v.ckpt {
		a.sched.push(p, low)
		a.kick()
		return true
	}
	if v.blocked {
		a.refused.Inc()
		return false
	}
	p.Epoch = v.epoch
	p.fromRing = false // its descriptor completes as it is taken (txReady), not when it is sent
	size := p.FrameBytes()
	if !a.fits(size) {
		switch a.cfg.Overflow {
		case Backpressure:
			v.blocked, v.blockedAt = true, a.engine.Now()
			a.refused.Inc()
			return false
		case Drop:
			a.dropped.Inc()
			a.droppedBytes.Add(uint64(p.Bytes))
			return true
		}
		p.spilled = true
		a.spilled.Inc()
		a.dma.Send(a.engine.Now(), size) // written out to host memory
	} else {
		a.take(size)
	}
	a.held.Inc()
	v.held.push(p)
	return true
}

func (a *Adapter) take(size uint64) {
	a.occBytes += size
	a.occPackets++
	a.peakBytes = max(a.peakBytes, a.occBytes)
	a.windowPeak = max(a.windowPeak, a.occBytes)
}

// TakePeak returns the most checkpoint-buffer memory in use since the last
// call (or the start), and starts a new window at the present occupancy.
func (a *Adapter) TakePeak() uint64 {
	p := max(a.windowPeak, a.occBytes)
	a.windowPeak = a.occBytes
	return p
}

// Commit is the notice that the checkpoint of VF n's epoch has committed
// (step 418): the packets of that epoch and earlier are released at the
// high priority (422, 506); spilled ones once read back from host memory,
// straight into the transmit path (they do not take buffer memory again).
func (a *Adapter) Commit(n int, epoch uint64) {
	if a.failed {
		return
	}
	if a.resetting {
		v := a.vfs[n]
		v.committed = max(v.committed, epoch+1) // nothing is held
		return
	}
	v := a.vfs[n]
	v.committed = max(v.committed, epoch+1)
	now := a.engine.Now()
	for v.held.len() > 0 && v.held.front().Epoch < v.committed {
		p := v.held.pop()
		a.released.Inc()
		a.holdTime.Record(uint64(now - p.Sent))
		if p.spilled || a.spillReady.len() > 0 {
			// A spilled packet is read back over DMA; packets released after
			// it wait behind it.
			ready := max(now, a.readBack)
			if p.spilled {
				ready = max(ready, a.dma.Send(now, p.FrameBytes()))
			}
			a.readBack = ready
			a.spillReady.push(p)
			a.schedule(ready, evSpillReady, 0)
			continue
		}
		a.sched.push(p, high)
	}
	a.kick()
}

// kick starts the next frame if the wire is free.
func (a *Adapter) kick() {
	if a.txBusy || a.sched.empty() {
		return
	}
	p, prio := a.sched.pop()
	if v := a.vfs[p.VF]; v.ckpt && p.Epoch >= v.committed {
		a.violations.Inc()
	}
	if a.OnTransmit != nil {
		a.OnTransmit(p)
	}
	now := a.engine.Now()
	arrival := a.wire.Send(now, p.WireBytes())
	a.txBusy, a.txFromBuf, a.txBytes, a.txPkt = true, prio == high && !p.spilled, p.FrameBytes(), p
	a.sent.Inc()
	a.sentBytes.Add(p.FrameBytes())
	a.inflight.push(p)
	a.schedule(a.wire.FreeAt(), evTxDone, 0)
	a.schedule(arrival, evDeliver, 0)
}

// Handle implements sim.Handler.
func (a *Adapter) Handle(ev sim.Event) {
	if a.failed || a.resetting || ev.Kind>>8 != a.gen&0xffffff {
		return // the host crashed or the adapter was reset: nothing it started completes
	}
	switch ev.Kind & 0xff {
	case evTxDone:
		a.txBusy = false
		if a.txFromBuf {
			a.occBytes -= a.txBytes
			a.occPackets--
			a.unblock()
		}
		if p := a.txPkt; p.fromRing {
			a.completeTx(p.VF, p.desc) // sent: the descriptor is free again
		}
		a.kick()
	case evDeliver:
		p := a.inflight.pop()
		a.latency.Record(uint64(ev.Time - p.Sent))
		if a.Deliver != nil {
			a.Deliver(p, ev.Time)
		}
	case evSpillReady:
		a.sched.push(a.spillReady.pop(), high)
		a.kick()
	case evTxFetched:
		n := int(ev.Arg & 0xffffffff)
		v := a.vfs[n]
		if uint32(ev.Arg>>32) != v.gen {
			return // fetched before the VF was reset
		}
		v.readyCount++
		if v.inFlight--; v.inFlight == 0 {
			v.fetchInFlight = false
		}
		a.txReady(n)
	case evRxDone:
		if n := int(ev.Arg & 0xffffffff); uint32(ev.Arg>>32) == a.vfs[n].gen {
			a.rxDone(n)
		}
	case evIRQ:
		n := int(ev.Arg & 0xffff)
		if v := a.vfs[n]; v.irqArmed && v.irqGen == ev.Arg>>16 {
			a.fire(n)
		}
	}
}

// unblock lets the VFs that backpressure stopped send again once a frame
// of the MTU fits.
func (a *Adapter) unblock() {
	if !a.fits(uint64(a.cfg.MTU) + HeaderBytes + FCSBytes) {
		return
	}
	for n, v := range a.vfs {
		if v.blocked {
			v.blocked = false
			a.stalledPS += uint64(a.engine.Now() - v.blockedAt)
			if v.mem != nil {
				a.txReady(n)
			}
			if a.OnRoom != nil {
				a.OnRoom(n)
			}
		}
	}
}

// schedule schedules an event of kind for the adapter, tagged with the
// present reset generation.
func (a *Adapter) schedule(t sim.Time, kind uint32, arg uint64) {
	a.engine.Schedule(sim.Event{Time: t, Handler: a.id, Kind: kind | (a.gen&0xffffff)<<8, Arg: arg})
}

// pendingFrames counts the frames the adapter holds for commit, has
// fetched, queued or on the wire.
func (a *Adapter) pendingFrames() int {
	n := a.sched.q[0].len() + a.sched.q[1].len() + a.spillReady.len() + a.inflight.len()
	for _, v := range a.vfs {
		n += v.held.len() + v.fetched.len()
	}
	return n
}

// Reset resets the adapter now, as its driver or firmware does after an
// error: the frames it holds for commit, has fetched, queued, on the wire
// or being received are lost (lost_in_reset), every VF's rings are
// forgotten (head and tail 0, no buffer posted) and its interrupt masked,
// and until Restart it neither sends nor receives. The VFs' epochs
// survive. Each VF's driver must then post its rings again. It reports
// false, doing nothing, if the adapter has failed or is resetting already.
func (a *Adapter) Reset() bool {
	if a.failed || a.resetting {
		return false
	}
	n := a.pendingFrames()
	for _, v := range a.vfs {
		n += v.rxInFlight.len()
	}
	a.lostInReset.Add(uint64(n))
	a.resets.Inc()
	a.resetting = true
	a.gen++
	a.sched.q[0], a.sched.q[1], a.sched.prio = queue{}, queue{}, queue{}
	a.sched.deficit, a.sched.started = [2]uint64{}, false
	a.spillReady, a.inflight = queue{}, queue{}
	a.txBusy, a.occBytes, a.occPackets, a.readBack = false, 0, 0, 0
	for _, v := range a.vfs {
		v.held, v.fetched, v.rxInFlight = queue{}, queue{}, queue{}
		v.blocked, v.fetchInFlight, v.inFlight, v.readyCount = false, false, 0, 0
		v.tx.head, v.tx.tail, v.rx.head, v.rx.tail = 0, 0, 0, 0
		v.irqPending, v.irqArmed, v.irqMasked = 0, false, true
		v.irqGen++
	}
	return true
}

// Restart ends a reset: the adapter sends and receives again, from empty
// rings.
func (a *Adapter) Restart() { a.resetting = false }

// Resetting reports whether the adapter is in a reset.
func (a *Adapter) Resetting() bool { return a.resetting }

// Fail stops the adapter for good, as its host crashes: the frames it
// holds for commit, has fetched or queued, or has on the wire are lost
// (counted in lost_in_failure), nothing it started completes, and it
// neither sends nor receives from now on.
func (a *Adapter) Fail() {
	if a.failed {
		return
	}
	a.failed = true
	a.lostInFailure.Add(uint64(a.pendingFrames()))
}

// ResetVF resets virtual function n now, as a hypervisor does for a VM it
// rolls back: the packets it holds for commit — the failed execution's —
// are dropped and never sent (counted in discarded_packets), with the
// descriptors it has fetched and the receives in progress; its rings are
// forgotten (head and tail 0, no buffer posted) and its interrupt masked,
// until its driver posts them anew. Packets already released to the
// transmit scheduler were committed and still go out. It returns the held
// packets it dropped.
func (a *Adapter) ResetVF(n int) int {
	v := a.vfs[n]
	k := v.held.len()
	for v.held.len() > 0 {
		p := v.held.pop()
		if !p.spilled {
			a.occBytes -= p.FrameBytes()
			a.occPackets--
		}
	}
	a.discarded.Add(uint64(k))
	v.held, v.fetched, v.rxInFlight = queue{}, queue{}, queue{}
	v.blocked, v.fetchInFlight, v.inFlight, v.readyCount = false, false, 0, 0
	v.tx.head, v.tx.tail, v.rx.head, v.rx.tail = 0, 0, 0, 0
	v.irqPending, v.irqArmed, v.irqMasked = 0, false, true
	v.irqGen++
	v.gen++
	a.unblock()
	return k
}

// Failed reports whether the adapter has failed (Fail).
func (a *Adapter) Failed() bool { return a.failed }

// Unprotect makes VF n's VM one that does not checkpoint, as when its
// backup is lost and it runs on unprotected: every packet it holds is
// released now, as if its epoch had committed, and its packets are sent
// at once from now on.
func (a *Adapter) Unprotect(n int) {
	v := a.vfs[n]
	if !v.ckpt || a.failed {
		return
	}
	if a.resetting { // nothing is held
		v.ckpt = false
		return
	}
	a.Commit(n, v.epoch)
	v.ckpt = false
}

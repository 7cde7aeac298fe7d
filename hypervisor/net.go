package hypervisor

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"

	"github.com/twinsim/twinsim/cache"
	"github.com/twinsim/twinsim/memory"
	"github.com/twinsim/twinsim/nic"
	"github.com/twinsim/twinsim/sim"
	"github.com/twinsim/twinsim/workloads"
)

// Role is what a network VM's vCPU does.
type Role uint8

// Network VM roles.
const (
	// Service answers each request it receives with a response, after
	// the service's compute time and memory operations.
	Service Role = iota
	// Bulk sends packets to one destination as fast as its rate (or its
	// transmit ring) allows: competing traffic.
	Bulk
)

// NetConfig is how a network VM's vCPU and its driver run.
type NetConfig struct {
	Core    int      // core index; also the thread id carried by cache rows
	Quantum sim.Time // longest the vCPU runs between synchronisations
	Role    Role
	Service workloads.ServiceConfig // Service
	// Bulk: destination MAC, payload bytes per packet, and the time
	// between packets (0: as fast as the ring allows).
	BulkDst   uint64
	BulkBytes uint32
	BulkGap   sim.Time
	// The driver's costs, in core cycles: taking an interrupt, handling
	// one packet (either way), ringing a doorbell.
	IRQCycles, PacketCycles, DoorbellCycles uint64
}

// Validate checks the configuration.
func (c NetConfig) Validate() error {
	switch {
	case c.Quantum == 0:
		return fmt.Errorf("quantum must be positive")
	case c.Role == Service:
		return c.Service.Validate()
	case c.Role == Bulk && c.BulkBytes == 0:
		return fmt.Errorf("bulk packets need a size")
	case c.Role > Bulk:
		return fmt.Errorf("unknown role %d", c.Role)
	}
	return nil
}

// phases of a network vCPU
const (
	phIdle     = iota // waiting for an interrupt
	phPoll            // look for completions and received requests
	phServe           // computing and touching memory for a request
	phRespond         // putting the response on the transmit ring
	phDoorbell        // ring the transmit doorbell, then poll
	phWaitTx          // the transmit ring is full: waiting for completions
)

// NetVCPU runs a network VM on one core: a guest driver over its VF's
// descriptor rings in the VM's memory, and the VM's work (a
// request/response service or a bulk sender). The driver reads and writes
// descriptors and packet headers with loads and stores through the core's
// caches, so the rings cost cache misses and the stores dirty the image as a
// guest's do. It runs as a chain of events, one per stretch of work that ends
// at a device access (a doorbell), a wait for an interrupt, its quantum or
// the VM's next checkpoint; it does not run while its VM is paused.
//
// With software buffering (SetSoftBuffer), a checkpointing VM's responses
// do not go to the VF: each is a VM exit into the hypervisor, which copies
// the packet into its own memory and holds it until its epoch commits.
type NetVCPU struct {
	owed   sim.Time // contention fed back by the weave, not yet waited (Delay)
	cfg    NetConfig
	scope  sim.Scope
	eng    *sim.Engine
	id     sim.HandlerID
	freq   sim.Freq
	vm     *VM
	halted bool // Halt: its host has crashed
	stream *workloads.Stream
	mmu    *memory.MMU
	port   *cache.Port
	mem    *memory.Physical
	backup *Backup // nil unless the VM is backed up
	rng    *rand.Rand
	soft   *SoftBuffer

	adapter *nic.Adapter
	vf      int
	mac     uint64
	tx, rx  nic.RingConfig

	phase     int
	scheduled bool
	until     sim.Time // when the last stretch ended
	// A response (or bulk packet) is ready but found the transmit ring
	// full: after the interrupt the vCPU posts it before anything else.
	txPending      bool
	txTail, txDone uint32 // posted and completed transmit descriptors
	rxNext         uint32 // next receive descriptor to read
	// The request being served: its client, tag, memory operations left
	// and the compute time between them.
	req      nic.Packet
	reqStart sim.Time
	opsLeft  int
	opGap    sim.Time
	posted   int      // bulk: packets posted since the last doorbell
	nextBulk sim.Time // bulk: when the next packet may start, at its rate
	paced    sim.Time // bulk: idle time waiting for nextBulk in this stretch
	seq      uint64
	hdr      [nic.PacketHeaderLen]byte
	desc     [nic.DescBytes]byte

	requests, responses, bulkSent, ringFull, busy *sim.Counter
	serviceTime                                   *sim.Histogram
}

// Function is the virtual function a network vCPU drives: the adapter,
// the VF's index and MAC, and its transmit and receive rings in the VM's
// image.
type Function struct {
	Adapter *nic.Adapter
	VF      int
	MAC     uint64
	TX, RX  nic.RingConfig
}

// Delay makes the core wait d more before it goes on: the queueing its
// accesses met at shared levels and DRAM, found when they were replayed in
// time order (the cache weave).
func (v *NetVCPU) Delay(d sim.Time) { v.owed += d }

// NewNetVCPU builds the vCPU of network VM c.VM on core c, driving
// function f.
func NewNetVCPU(scope sim.Scope, cfg NetConfig, c Core, f Function) (*NetVCPU, error) {
	freq, vm, stream, mmu, port, mem, backup := c.Freq, c.VM, c.Stream, c.MMU, c.Port, c.Mem, c.Backup
	adapter, vf, mac, tx, rx := f.Adapter, f.VF, f.MAC, f.TX, f.RX
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", scope.Name(), err)
	}
	for _, r := range []nic.RingConfig{tx, rx} {
		if !vm.Contains(r.Desc) || !vm.Contains(r.Bufs+uint64(r.Entries)*r.BufBytes-1) {
			return nil, fmt.Errorf("%s: rings are not inside vm %s's image", scope.Name(), vm.Name)
		}
	}
	v := &NetVCPU{cfg: cfg, scope: scope, eng: scope.Engine(), freq: freq, vm: vm, stream: stream, mmu: mmu,
		port: port, mem: mem, rng: scope.RNG(), adapter: adapter, vf: vf, mac: mac, tx: tx, rx: rx}
	if backup != nil && vm.BackedUp {
		v.backup = backup
	}
	v.id = v.eng.Register(v)
	v.requests = scope.Counter("requests", "requests received")
	v.responses = scope.Counter("responses", "responses sent")
	v.bulkSent = scope.Counter("bulk_packets", "bulk packets sent")
	v.ringFull = scope.Counter("tx_ring_full", "packets that found the transmit ring full (each waited for room)")
	v.busy = scope.Counter("busy_ps", "simulated time spent running")
	v.serviceTime = scope.Histogram("service_time", "ps", "time from taking a request off the ring to posting its response")
	return v, nil
}

// SetSoftBuffer routes the VM's responses through the hypervisor's
// software buffer instead of its VF.
func (v *NetVCPU) SetSoftBuffer(s *SoftBuffer) { v.soft = s }

// Interrupt is the VF's interrupt (nic.Adapter.OnInterrupt for this VF).
// The vCPU takes it no earlier than the end of its last stretch.
func (v *NetVCPU) Interrupt(at sim.Time) {
	if v.phase == phIdle || v.phase == phWaitTx {
		v.phase = v.afterWait()
		v.busyUntil(max(at, v.until) + v.freq.CyclesToTime(v.cfg.IRQCycles))
	}
}

// afterWait is where the vCPU carries on after a doorbell or an interrupt:
// posting what is ready to send (a bulk sender always has a packet), or
// polling its rings.
func (v *NetVCPU) afterWait() int {
	if v.txPending || v.cfg.Role == Bulk {
		return phRespond
	}
	return phPoll
}

// Start posts every receive buffer and begins: a service waits for
// requests, a bulk sender starts sending.
func (v *NetVCPU) Start() {
	t := v.eng.Now()
	for i := range v.rx.Entries {
		v.postRx(i)
		t = v.store(t, v.rx.DescAddr(i), nil, nic.DescBytes)
	}
	v.adapter.PostRx(v.vf, v.rx.Entries)
	if v.cfg.Role == Bulk {
		v.phase = phRespond
		v.busyUntil(t)
		return
	}
	v.phase = phIdle
	v.adapter.EnableIRQ(v.vf)
}

// Halt stops the vCPU for good: its host has crashed.
func (v *NetVCPU) Halt() { v.halted = true }

// Reset is the driver's recovery after its adapter was reset and
// restarted: what it was serving or sending is forgotten (the clients send
// again), and it posts its rings anew from their first descriptors, as at
// Start.
func (v *NetVCPU) Reset() {
	if v.halted {
		return
	}
	v.txPending, v.txTail, v.txDone, v.rxNext, v.posted, v.opsLeft = false, 0, 0, 0, 0, 0
	v.Start()
}

// busyUntil schedules the vCPU's next stretch at t.
func (v *NetVCPU) busyUntil(t sim.Time) {
	if v.scheduled {
		return
	}
	v.scheduled = true
	v.eng.Schedule(sim.Event{Time: t, Handler: v.id})
}

// Handle runs the vCPU from ev.Time until it must wait.
func (v *NetVCPU) Handle(ev sim.Event) {
	v.scheduled = false
	if v.halted {
		return
	}
	now := ev.Time
	if b := v.backup; b != nil && now < b.PausedUntil() {
		v.busyUntil(b.PausedUntil())
		return
	}
	t := now + v.owed
	v.owed = 0
	v.paced = 0
	if v.phase == phDoorbell {
		v.adapter.Doorbell(v.vf, v.txTail)
		v.posted = 0
		v.phase = v.afterWait()
	}
	limit := now + v.cfg.Quantum
	if v.backup != nil {
		limit = min(limit, v.backup.NextCheckpoint())
	}
	for t < limit {
		switch v.phase {
		case phPoll:
			t = v.poll(t)
		case phServe:
			t = v.serve(t, limit)
		case phRespond:
			t = v.respond(t)
		}
		if v.phase == phIdle || v.phase == phWaitTx {
			v.endStretch(now, t)
			v.adapter.EnableIRQ(v.vf) // may interrupt at once, rescheduling us
			return
		}
		if v.phase == phDoorbell {
			break
		}
	}
	v.endStretch(now, t)
	v.busyUntil(t)
}

// endStretch accounts the stretch run from now to t.
func (v *NetVCPU) endStretch(now, t sim.Time) {
	v.busy.Add(uint64(t - now - v.paced))
	v.until = t
}

// load and store are the guest's accesses at host physical pa.
func (v *NetVCPU) load(t sim.Time, pa uint64) sim.Time {
	return v.port.Access(t, cache.Access{Addr: pa, Mode: cache.Guest, VM: v.vm.ID, Thread: uint16(v.cfg.Core)})
}

// store writes data at pa (functionally and through the caches, one access
// per line) and covers n bytes of timing.
func (v *NetVCPU) store(t sim.Time, pa uint64, data []byte, n uint64) sim.Time {
	if len(data) > 0 {
		v.mem.Write(pa, data)
	}
	if v.backup != nil {
		v.backup.NoteWrite(pa, n)
	}
	line := v.port.Levels()[0].Config().LineSize
	done := t
	for a := pa &^ (line - 1); a < pa+n; a += line {
		done = max(done, v.port.Access(t, cache.Access{Addr: a, Write: true, Mode: cache.Guest, VM: v.vm.ID, Thread: uint16(v.cfg.Core)}))
	}
	return done
}

func (v *NetVCPU) postRx(i uint32) {
	nic.EncodeDesc(v.desc[:], v.rx.BufAddr(i), uint32(v.rx.BufBytes), 0)
	v.mem.Write(v.rx.DescAddr(i), v.desc[:])
	if v.backup != nil {
		v.backup.NoteWrite(v.rx.DescAddr(i), nic.DescBytes)
	}
}

// poll reclaims completed transmit descriptors and takes the next request
// off the receive ring; with none, the vCPU goes idle.
func (v *NetVCPU) poll(t sim.Time) sim.Time {
	t = v.reclaim(t)
	t = v.load(t, v.rx.DescAddr(v.rxNext))
	v.mem.Read(v.rx.DescAddr(v.rxNext), v.desc[:])
	buf, n, flags := nic.DecodeDesc(v.desc[:])
	if flags&nic.FlagDone == 0 {
		v.phase = phIdle
		return t
	}
	t = v.load(t, buf)
	v.mem.Read(buf, v.hdr[:])
	v.req = nic.DecodeHeader(v.hdr[:])
	v.req.Bytes = n
	// Give the buffer back: the descriptor is rewritten and posted again.
	v.postRx(v.rxNext)
	t = v.store(t, v.rx.DescAddr(v.rxNext), nil, nic.DescBytes)
	v.rxNext++
	v.adapter.PostRx(v.vf, v.rxNext+v.rx.Entries)
	t += v.freq.CyclesToTime(v.cfg.PacketCycles)
	v.requests.Inc()
	v.opsLeft = v.cfg.Service.Ops
	v.opGap = v.cfg.Service.Draw(v.rng) / sim.Time(v.opsLeft+1)
	v.reqStart = t
	v.phase = phServe
	return t
}

// reclaim reads transmit descriptors the adapter has completed.
func (v *NetVCPU) reclaim(t sim.Time) sim.Time {
	for v.txDone != v.txTail {
		a := v.tx.DescAddr(v.txDone)
		t = v.load(t, a)
		v.mem.Read(a, v.desc[:])
		if _, _, f := nic.DecodeDesc(v.desc[:]); f&nic.FlagDone == 0 {
			break
		}
		v.txDone++
	}
	return t
}

// serve runs the request's memory operations, computing between them,
// until they are done or limit is reached.
func (v *NetVCPU) serve(t, limit sim.Time) sim.Time {
	for v.opsLeft > 0 && t < limit {
		t += v.opGap
		pa, write, walk := nextAccess(v.stream, v.mmu, v.scope)
		t += v.freq.CyclesToTime(walk)
		if write {
			v.seq++
			var w [8]byte
			binary.LittleEndian.PutUint64(w[:], storeValue(v.seq, v.cfg.Core))
			t = v.store(t, pa&^7, w[:], 8)
		} else {
			t = v.load(t, pa)
		}
		v.opsLeft--
	}
	if v.opsLeft == 0 && t < limit {
		t += v.opGap
		v.phase = phRespond
	}
	return t
}

// respond puts the response (or the next bulk packet) on the transmit ring
// and has the doorbell rung; with a full ring the vCPU waits for
// completions. Under software buffering a checkpointing VM's response goes
// to the hypervisor instead.
func (v *NetVCPU) respond(t sim.Time) sim.Time {
	p := nic.Packet{Src: v.mac}
	if v.backup != nil {
		p.Stamp = v.backup.Epoch() // the epoch whose state this output reflects
	}
	if v.cfg.Role == Bulk {
		if t < v.nextBulk {
			v.paced += v.nextBulk - t
			return v.nextBulk // paced at its rate: idle until then
		}
		v.seq++
		p.Dst, p.Bytes, p.Tag, p.ID = v.cfg.BulkDst, v.cfg.BulkBytes, v.seq, v.seq
	} else {
		p.Dst, p.Bytes, p.Tag, p.ID = v.req.Src, v.cfg.Service.ResponseBytes, v.req.Tag, v.req.ID
	}
	if v.soft != nil {
		nic.EncodeHeader(v.hdr[:], &p)
		t = v.store(t, v.tx.BufAddr(0), v.hdr[:], uint64(nic.PacketHeaderLen)+uint64(p.Bytes))
		t = v.soft.Capture(t, v, p, v.tx.BufAddr(0))
		v.finish(t)
		v.phase = phPoll
		return t
	}
	t = v.reclaim(t)
	if v.txTail-v.txDone == v.tx.Entries {
		if !v.txPending {
			v.ringFull.Inc()
		}
		v.txPending = true
		v.phase = phWaitTx
		if v.posted > 0 { // ring for what was posted first
			v.phase = phDoorbell
		}
		return t
	}
	v.txPending = false
	nic.EncodeHeader(v.hdr[:], &p)
	i := v.txTail
	t = v.store(t, v.tx.BufAddr(i), v.hdr[:], uint64(nic.PacketHeaderLen)+uint64(p.Bytes))
	nic.EncodeDesc(v.desc[:], v.tx.BufAddr(i), p.Bytes, 0)
	t = v.store(t, v.tx.DescAddr(i), v.desc[:], nic.DescBytes)
	v.txTail++
	v.posted++
	v.nextBulk = max(v.nextBulk, t) + v.cfg.BulkGap
	t += v.freq.CyclesToTime(v.cfg.PacketCycles)
	v.finish(t)
	if v.cfg.Role == Bulk && v.cfg.BulkGap == 0 && v.posted < bulkBatch && v.txTail-v.txDone < v.tx.Entries {
		return t // post more before ringing, as a driver with more to send does
	}
	v.phase = phDoorbell
	return t + v.freq.CyclesToTime(v.cfg.DoorbellCycles)
}

// bulkBatch is how many packets a saturating bulk sender posts per doorbell.
const bulkBatch = 16

func (v *NetVCPU) finish(t sim.Time) {
	if v.cfg.Role == Bulk {
		v.bulkSent.Inc()
		return
	}
	v.responses.Inc()
	v.serviceTime.Record(uint64(t - v.reqStart))
}

package hypervisor

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"

	"github.com/twinsim/twinsim/cache"
	"github.com/twinsim/twinsim/memory"
	"github.com/twinsim/twinsim/sim"
	"github.com/twinsim/twinsim/workloads"
)

// HypervisorStores describes privilege-mode stores the hypervisor makes on
// every core, interleaved with the guest's accesses, into its own memory.
type HypervisorStores struct {
	Fraction float64 // share of a core's memory operations that are hypervisor stores
	Base     uint64  // host physical base of hypervisor memory
	Size     uint64  // bytes of hypervisor memory the stores touch
}

// VCPUConfig is how a vCPU runs its synthetic workload.
type VCPUConfig struct {
	Core       int      // core index; also the thread id carried by cache rows
	Quantum    sim.Time // longest the core runs ahead of the engine
	GapCycles  uint64   // compute cycles between memory operations
	AccessSize uint64   // bytes per access
	Hyp        HypervisorStores
}

// VCPU runs one VM's synthetic access stream on one core. The core is a
// simple blocking in-order model: every memory operation waits for its
// translation and cache access, then GapCycles of compute follow. It runs
// ahead of the engine for up to a quantum (never past the next checkpoint of
// a backed-up VM) and then synchronises, in the bound-then-weave style.
type VCPU struct {
	owed    sim.Time // contention fed back by the weave, not yet waited (Delay)
	cfg     VCPUConfig
	scope   sim.Scope
	eng     *sim.Engine
	id      sim.HandlerID
	freq    sim.Freq
	vm      *VM
	halted  bool // Halt: its host has crashed
	vmIndex int  // index in backup.VMs(), or -1
	stream  *workloads.Stream
	mmu     *memory.MMU
	port    *cache.Port
	mem     *memory.Physical
	backup  *Backup // nil when the VM is not backed up or backup is off
	rng     *rand.Rand
	gap     sim.Time
	hypN    uint64 // hypervisor store slots (Size / 8)
	buf     [1024]byte
	seq     uint64

	ops, loads, stores, hypStores *sim.Counter
	busy                          *sim.Counter
}

// Core is what a synthetic vCPU runs on and with: the core's clock, its
// VM, the access stream it draws from, the MMU and cache port of the
// core, the host's memory and the checkpoint controller (nil when there
// is none).
type Core struct {
	Freq   sim.Freq
	VM     *VM
	Stream *workloads.Stream
	MMU    *memory.MMU
	Port   *cache.Port
	Mem    *memory.Physical
	Backup *Backup
}

// NewVCPU builds a vCPU for c.VM on core c.
func NewVCPU(scope sim.Scope, cfg VCPUConfig, c Core) (*VCPU, error) {
	freq, vm, stream, mmu, port, mem, backup := c.Freq, c.VM, c.Stream, c.MMU, c.Port, c.Mem, c.Backup
	if cfg.AccessSize == 0 || cfg.AccessSize > 1024 || cfg.AccessSize&(cfg.AccessSize-1) != 0 {
		return nil, fmt.Errorf("%s: access size %d must be a power of two up to 1024", scope.Name(), cfg.AccessSize)
	}
	if cfg.Quantum == 0 {
		return nil, fmt.Errorf("%s: quantum must be positive", scope.Name())
	}
	if cfg.Hyp.Fraction > 0 && cfg.Hyp.Size < 8 {
		return nil, fmt.Errorf("%s: hypervisor store region of %d bytes is too small", scope.Name(), cfg.Hyp.Size)
	}
	v := &VCPU{cfg: cfg, scope: scope, eng: scope.Engine(), freq: freq, vm: vm, vmIndex: -1,
		stream: stream, mmu: mmu, port: port, mem: mem, rng: scope.RNG(),
		gap: freq.CyclesToTime(cfg.GapCycles), hypN: cfg.Hyp.Size / 8}
	if backup != nil && vm.BackedUp {
		for i, b := range backup.VMs() {
			if b == vm {
				v.vmIndex = i
				v.backup = backup
			}
		}
	}
	v.id = v.eng.Register(v)
	v.ops = scope.Counter("ops", "memory operations issued")
	v.loads = scope.Counter("loads", "guest loads")
	v.stores = scope.Counter("stores", "guest stores")
	v.hypStores = scope.Counter("hypervisor_stores", "privilege-mode stores by the hypervisor on this core")
	v.busy = scope.Counter("busy_ps", "simulated time spent running")
	return v, nil
}

// Start schedules the vCPU's first run at now.
func (v *VCPU) Start() { v.eng.After(0, v.id, 0, 0) }

// Delay makes the core wait d more before its next operation: the
// queueing its accesses met at shared levels and DRAM, found when they
// were replayed in time order (the cache weave).
func (v *VCPU) Delay(d sim.Time) { v.owed += d }

// Halt stops the vCPU for good: its host has crashed.
func (v *VCPU) Halt() { v.halted = true }

// Handle runs the core ahead from ev.Time until its quantum ends or the next
// checkpoint of its VM is reached.
func (v *VCPU) Handle(ev sim.Event) {
	if v.halted {
		return
	}
	now := ev.Time
	b := v.backup
	if b != nil && now < b.PausedUntil() {
		v.eng.Schedule(sim.Event{Time: b.PausedUntil(), Handler: v.id})
		return
	}
	end := now + v.cfg.Quantum
	t := now + v.owed
	v.owed = 0
	for t < v.limit(end) {
		t = v.step(t) + v.gap
	}
	v.busy.Add(uint64(t - now))
	if tr := v.scope.Tracer(); tr != nil && t > now {
		tr.Span(v.scope.Name(), "vcpu", v.vm.Name, now, t-now)
	}
	v.eng.Schedule(sim.Event{Time: t, Handler: v.id})
}

// limit is how far the core may run: the end of its quantum or, for a
// backed-up VM, the next checkpoint — which a log interrupt can bring
// forward while the core runs, so it is read again after every operation.
func (v *VCPU) limit(end sim.Time) sim.Time {
	if v.backup != nil {
		return min(end, v.backup.NextCheckpoint())
	}
	return end
}

// step issues one memory operation at time t and returns when it completes.
func (v *VCPU) step(t sim.Time) sim.Time {
	v.ops.Inc()
	v.seq++
	if v.cfg.Hyp.Fraction > 0 && v.rng.Float64() < v.cfg.Hyp.Fraction {
		pa := v.cfg.Hyp.Base + v.rng.Uint64N(v.hypN)*8
		v.mem.WriteU64(pa, v.seq)
		v.hypStores.Inc()
		return v.port.Access(t, cache.Access{Addr: pa, Write: true, Mode: cache.Hypervisor, VM: v.vm.ID, Thread: uint16(v.cfg.Core)})
	}
	pa, write, walk := nextAccess(v.stream, v.mmu, v.scope)
	t += v.freq.CyclesToTime(walk)
	if write {
		v.stores.Inc()
		v.writeValue(pa)
		if v.backup != nil {
			v.backup.NoteStore(v.vmIndex, pa)
		}
	} else {
		v.loads.Inc()
	}
	return v.port.Access(t, cache.Access{Addr: pa, Write: write, Mode: cache.Guest, VM: v.vm.ID, Thread: uint16(v.cfg.Core)})
}

// writeValue stores a value unique to this store into functional memory, so
// that a backup image missing the store differs from the primary.
func (v *VCPU) writeValue(pa uint64) {
	val := storeValue(v.seq, v.cfg.Core)
	if v.cfg.AccessSize == 8 {
		v.mem.WriteU64(pa, val)
		return
	}
	p := v.buf[:v.cfg.AccessSize]
	for i := 0; i < len(p); i += 8 {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], val+uint64(i))
		copy(p[i:], w[:])
	}
	v.mem.Write(pa, p)
}

// nextAccess takes the next access of a synthetic stream and translates it
// through the vCPU's MMU: its host physical address, whether it is a store,
// and the page-walk cycles it cost.
func nextAccess(stream *workloads.Stream, mmu *memory.MMU, scope sim.Scope) (pa uint64, write bool, walk uint64) {
	off, write := stream.Next()
	kind := memory.Read
	if write {
		kind = memory.Write
	}
	pa, walk, fault := mmu.Translate(off, kind)
	if fault != nil {
		// The stream stays inside the VM's mapped image by construction.
		panic(fmt.Sprintf("hypervisor: %s: synthetic access faulted: %v", scope.Name(), fault))
	}
	return pa, write, walk
}

// storeValue is the value a vCPU's seq-th store writes: unique to it, so
// that a backup image missing the store differs from the primary.
func storeValue(seq uint64, core int) uint64 { return seq*0x9E3779B97F4A7C15 ^ uint64(core) }

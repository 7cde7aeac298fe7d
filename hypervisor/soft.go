package hypervisor

import (
	"fmt"

	"github.com/twinsim/twinsim/cache"
	"github.com/twinsim/twinsim/nic"
	"github.com/twinsim/twinsim/sim"
)

// SoftConfig is the cost of buffering output in the hypervisor, as Remus
// does: each packet a checkpointing VM sends is a VM exit and a copy into
// hypervisor memory; after its epoch commits the hypervisor hands it to the
// adapter, one at a time.
type SoftConfig struct {
	ExitCycles    uint64 // VM exit and return, per packet, on the VM's core
	PacketCycles  uint64 // the hypervisor's per-packet handling at capture
	ReleaseCycles uint64 // per packet at release, on the hypervisor's thread
	Base, Size    uint64 // hypervisor memory the copies go to
	MTU           uint32 // largest payload: Size must hold one packet of it
}

// SoftBuffer is the software-buffering baseline of output commit: the
// hypervisor holds checkpointing VMs' packets in its memory and releases
// them through the adapter's physical function (which does not
// checkpoint) once their epoch's checkpoint is acknowledged.
//
// Statistics under its scope: packets captured and released, the hold-time
// histogram, the most frame bytes held at once (counted as the adapter
// counts its buffer), and output-commit violations against its own epoch
// record (a twinsim bug if not 0).
type SoftBuffer struct {
	cfg     SoftConfig
	eng     *sim.Engine
	id      sim.HandlerID
	freq    sim.Freq
	backup  *Backup
	adapter *nic.Adapter
	pf      int    // the adapter function the released packets leave by
	slot    uint64 // next copy destination, cycling through the region

	held, out   sim.FIFO[softPacket]
	committed   uint64 // epochs below are committed
	releaseFree sim.Time
	heldBytes   uint64
	peak        uint64
	windowPeak  uint64

	captured, released, violations *sim.Counter
	holdTime                       *sim.Histogram
}

type softPacket struct {
	p     nic.Packet
	epoch uint64
	at    sim.Time
}

// NewSoftBuffer returns a software buffer whose packets leave through
// function pf of adapter (the hypervisor's physical function) and whose
// epochs are backup's.
func NewSoftBuffer(scope sim.Scope, cfg SoftConfig, freq sim.Freq, backup *Backup, adapter *nic.Adapter, pf int) (*SoftBuffer, error) {
	if need := uint64(cfg.MTU) + nic.PacketHeaderLen; cfg.Size < need {
		return nil, fmt.Errorf("%s: software buffer region of %d bytes cannot hold one packet of the MTU (%d bytes with its header)",
			scope.Name(), cfg.Size, need)
	}
	s := &SoftBuffer{cfg: cfg, eng: scope.Engine(), freq: freq, backup: backup, adapter: adapter, pf: pf}
	s.id = s.eng.Register(s)
	s.captured = scope.Counter("captured_packets", "packets the hypervisor copied into its buffer")
	s.released = scope.Counter("released_packets", "packets released after their epoch committed")
	s.violations = scope.Counter("output_commit_violations", "packets released before their epoch committed (a bug if not 0)")
	s.holdTime = scope.Histogram("hold_time", "ps", "time a packet waited in the hypervisor for its commit")
	scope.Value("peak_buffer_bytes", "most frame bytes held at once", func() float64 { return float64(s.peak) })
	return s, nil
}

// TakePeak returns the most frame bytes held since the last call, and
// starts a new window at the bytes held now.
func (s *SoftBuffer) TakePeak() uint64 {
	p := max(s.windowPeak, s.heldBytes)
	s.windowPeak = s.heldBytes
	return p
}

// Capture takes packet p, whose header and payload vCPU v wrote at buf, at
// time t on v's core: the VM exit, the hypervisor's handling and the copy
// (loads of the guest's buffer, stores into hypervisor memory in privilege
// mode). It returns when the VM resumes.
func (s *SoftBuffer) Capture(t sim.Time, v *NetVCPU, p nic.Packet, buf uint64) sim.Time {
	t += s.freq.CyclesToTime(s.cfg.ExitCycles + s.cfg.PacketCycles)
	n := uint64(nic.PacketHeaderLen) + uint64(p.Bytes)
	line := v.port.Levels()[0].Config().LineSize
	if s.slot+n > s.cfg.Size {
		s.slot = 0
	}
	dst := s.cfg.Base + s.slot
	s.slot += (n + line - 1) &^ (line - 1)
	for off := uint64(0); off < n; off += line {
		t = v.load(t, buf+off)
		t = v.port.Access(t, cache.Access{Addr: dst + off, Write: true, Mode: cache.Hypervisor, VM: v.vm.ID, Thread: uint16(v.cfg.Core)})
	}
	s.held.Push(softPacket{p: p, epoch: s.backup.Epoch(), at: t})
	s.captured.Inc()
	s.heldBytes += p.FrameBytes()
	s.peak = max(s.peak, s.heldBytes)
	s.windowPeak = max(s.windowPeak, s.heldBytes)
	return t
}

// Commit is the notice that the checkpoint ending epoch committed: the
// packets of that epoch and earlier are released, each after the
// hypervisor's release work.
func (s *SoftBuffer) Commit(epoch uint64) {
	s.committed = max(s.committed, epoch+1)
	now := s.eng.Now()
	for s.held.Len() > 0 && s.held.Front().epoch < s.committed {
		sp := s.held.Pop()
		s.holdTime.Record(uint64(now - min(now, sp.at)))
		s.releaseFree = max(now, s.releaseFree) + s.freq.CyclesToTime(s.cfg.ReleaseCycles)
		s.out.Push(sp)
		s.eng.Schedule(sim.Event{Time: s.releaseFree, Handler: s.id})
	}
}

// Handle implements sim.Handler: the next released packet goes to its VF.
func (s *SoftBuffer) Handle(sim.Event) {
	sp := s.out.Pop()
	if sp.epoch >= s.committed {
		s.violations.Inc()
	}
	s.released.Inc()
	s.heldBytes -= sp.p.FrameBytes()
	s.adapter.Send(s.pf, sp.p)
}

package nic

import "github.com/twinsim/twinsim/sim"

// Ethernet framing, in bytes.
const (
	HeaderBytes   = 14 // destination and source MAC, EtherType
	FCSBytes      = 4  // frame check sequence
	MinFrameBytes = 64 // the shortest frame, header and FCS included
	PreambleBytes = 8  // preamble and start-of-frame delimiter
	GapBytes      = 12 // inter-frame gap
)

// Packet is one Ethernet frame a VM sends.
type Packet struct {
	ID    uint64   // the sender's identifier
	VF    int      // the virtual function that sent it
	Dst   uint64   // destination MAC
	Src   uint64   // source MAC
	Bytes uint32   // payload bytes (at most the MTU)
	Sent  sim.Time // when the VM handed it to its VF
	Epoch uint64   // a checkpointing VF's epoch when it was sent
	Tag   uint64   // the sender's own datum (a request number, say)
	// Stamp is a second datum of the sender's, which the adapter carries
	// without reading: a checkpointing VM's vCPU puts there the epoch it
	// produced the packet in, so that receivers can check output commit
	// independently of the adapter's own epoch tag.
	Stamp uint64
	// Data is the payload's bytes when the sender has real ones (a guest
	// program's datagram, a client's request to it; len(Data) == Bytes),
	// nil for synthetic traffic, whose payload is only a size.
	Data []byte

	desc     uint32 // the ring descriptor it came from or went into
	fromRing bool   // its transmit descriptor completes when it is sent
	spilled  bool   // held in host memory, not in the buffer (spill)
}

// FrameBytes is the frame's length: the payload with the header and FCS,
// padded to the minimum.
func (p *Packet) FrameBytes() uint64 {
	return max(uint64(p.Bytes)+HeaderBytes+FCSBytes, MinFrameBytes)
}

// WireBytes is what the frame occupies on the wire: the frame with its
// preamble and the gap after it.
func (p *Packet) WireBytes() uint64 { return p.FrameBytes() + PreambleBytes + GapBytes }

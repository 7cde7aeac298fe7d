package nic

import (
	"encoding/binary"
	"fmt"

	"github.com/twinsim/twinsim/sim"
)

// Descriptor and packet layout in guest memory.
//
// A descriptor is DescBytes: the buffer's host physical address (8 bytes),
// the frame payload length (4) and flags (4). A buffer starts with the
// packet header the driver writes and the adapter reads back (or the
// adapter writes, on receive): destination MAC, source MAC, tag, ID and
// stamp, 8 bytes each; the payload follows.
const (
	DescBytes       = 16
	PacketHeaderLen = 40

	// FlagDone is set by the adapter when it has finished with a descriptor:
	// a transmit descriptor's packet is taken (buffered or sent), a receive
	// descriptor's buffer holds a packet.
	FlagDone = 1
)

// HostMemory is the adapter's DMA path into host memory. Both calls move
// data at once and return when the transfer of n bytes (at least the data's
// length), started at now, is complete: DMA crosses the I/O bus and goes
// through the memory system as a device's accesses do.
type HostMemory interface {
	DMARead(now sim.Time, addr uint64, buf []byte, n uint64) sim.Time
	DMAWrite(now sim.Time, addr uint64, data []byte, n uint64) sim.Time
}

// RingConfig places a VF's transmit or receive ring in guest memory: Entries
// descriptors at Desc, and one buffer of BufBytes per descriptor from Bufs.
type RingConfig struct {
	Desc, Bufs uint64 // host physical addresses
	Entries    uint32
	BufBytes   uint64
}

// Bytes is the memory the ring and its buffers occupy.
func (r RingConfig) Bytes() uint64 { return uint64(r.Entries) * (DescBytes + r.BufBytes) }

// DescAddr is the address of descriptor i (a free-running index).
func (r RingConfig) DescAddr(i uint32) uint64 { return r.Desc + uint64(i%r.Entries)*DescBytes }

// BufAddr is the address of descriptor i's buffer.
func (r RingConfig) BufAddr(i uint32) uint64 { return r.Bufs + uint64(i%r.Entries)*r.BufBytes }

// ring is a descriptor ring's state: head is the next descriptor the
// adapter takes, tail one past the last the driver posted (free-running).
type ring struct {
	RingConfig
	head, tail uint32
}

// descBatch is how many transmit descriptors the adapter fetches in one DMA.
const descBatch = 8

// EncodeHeader writes p's header (PacketHeaderLen bytes) into b.
func EncodeHeader(b []byte, p *Packet) {
	binary.LittleEndian.PutUint64(b[0:], p.Dst)
	binary.LittleEndian.PutUint64(b[8:], p.Src)
	binary.LittleEndian.PutUint64(b[16:], p.Tag)
	binary.LittleEndian.PutUint64(b[24:], p.ID)
	binary.LittleEndian.PutUint64(b[32:], p.Stamp)
}

// DecodeHeader reads a header written by EncodeHeader.
func DecodeHeader(b []byte) Packet {
	return Packet{Dst: binary.LittleEndian.Uint64(b[0:]), Src: binary.LittleEndian.Uint64(b[8:]),
		Tag: binary.LittleEndian.Uint64(b[16:]), ID: binary.LittleEndian.Uint64(b[24:]),
		Stamp: binary.LittleEndian.Uint64(b[32:])}
}

// EncodeDesc writes a descriptor into b.
func EncodeDesc(b []byte, buf uint64, length, flags uint32) {
	binary.LittleEndian.PutUint64(b[0:], buf)
	binary.LittleEndian.PutUint32(b[8:], length)
	binary.LittleEndian.PutUint32(b[12:], flags)
}

// DecodeDesc reads a descriptor.
func DecodeDesc(b []byte) (buf uint64, length, flags uint32) {
	return binary.LittleEndian.Uint64(b[0:]), binary.LittleEndian.Uint32(b[8:]), binary.LittleEndian.Uint32(b[12:])
}

// AttachRings gives VF n transmit and receive rings in guest memory,
// reached through mem. The driver posts transmit descriptors with Doorbell
// and receive buffers with PostRx.
func (a *Adapter) AttachRings(n int, mem HostMemory, tx, rx RingConfig) error {
	v := a.vfs[n]
	for _, r := range []struct {
		name string
		c    RingConfig
	}{{"tx", tx}, {"rx", rx}} {
		switch {
		case r.c.Entries == 0 || r.c.Entries&(r.c.Entries-1) != 0:
			return fmt.Errorf("vf %d: %s ring of %d entries; must be a power of two", n, r.name, r.c.Entries)
		case r.c.BufBytes < uint64(a.cfg.MTU)+PacketHeaderLen:
			return fmt.Errorf("vf %d: %s buffers of %d bytes cannot hold the MTU (%d) and the %d-byte header",
				n, r.name, r.c.BufBytes, a.cfg.MTU, PacketHeaderLen)
		}
	}
	v.mem, v.tx.RingConfig, v.rx.RingConfig = mem, tx, rx
	return nil
}

// CarryPayload makes VF n's transmit path read each packet's payload
// bytes from its buffer into Packet.Data (a driver whose packets have real
// contents: a guest program's sockets). Received packets' Data is always
// written into the receive buffer after the header.
func (a *Adapter) CarryPayload(n int) { a.vfs[n].payload = true }

// Doorbell tells the adapter that VF n's driver has posted transmit
// descriptors up to tail (exclusive, free-running).
func (a *Adapter) Doorbell(n int, tail uint32) {
	if a.failed || a.resetting {
		return
	}
	v := a.vfs[n]
	if v.mem == nil {
		panic(fmt.Sprintf("nic: doorbell on vf %d, which has no rings", n))
	}
	v.tx.tail = tail
	a.fetch(n)
}

// PostRx tells the adapter that VF n's driver has posted receive buffers up
// to tail.
func (a *Adapter) PostRx(n int, tail uint32) {
	if !a.failed && !a.resetting {
		a.vfs[n].rx.tail = tail
	}
}

// fetch reads the next batch of VF n's posted transmit descriptors and their
// packets over DMA, unless a batch is in flight.
func (a *Adapter) fetch(n int) {
	v := a.vfs[n]
	if v.fetchInFlight || v.fetched.len() > 0 || v.tx.head == v.tx.tail {
		return
	}
	now := a.engine.Now()
	k := min(v.tx.tail-v.tx.head, descBatch)
	if v.tx.head%v.tx.Entries+k > v.tx.Entries { // do not wrap in one read
		k = v.tx.Entries - v.tx.head%v.tx.Entries
	}
	descs := a.scratch[:k*DescBytes]
	t := v.mem.DMARead(now, v.tx.DescAddr(v.tx.head), descs, uint64(len(descs)))
	ready := t
	for i := range k {
		buf, length, _ := DecodeDesc(descs[i*DescBytes:])
		hdr := a.hdr[:]
		if v.payload {
			// The payload's bytes too: a frame of its own for each packet.
			hdr = make([]byte, PacketHeaderLen+uint64(min(length, a.cfg.MTU)))
		}
		done := v.mem.DMARead(t, buf, hdr, uint64(PacketHeaderLen)+uint64(length))
		p := DecodeHeader(hdr)
		p.Bytes, p.desc, p.fromRing = length, v.tx.head+i, true
		if v.payload {
			p.Bytes = uint32(len(hdr) - PacketHeaderLen)
			p.Data = hdr[PacketHeaderLen:]
		}
		v.fetched.push(p)
		ready = max(ready, done) // packets become ready in ring order
		a.schedule(ready, evTxFetched, uint64(n)|uint64(v.gen)<<32)
	}
	v.tx.head += k
	v.fetchInFlight = true
	v.inFlight = int(k)
}

// txReady hands VF n's fetched packets to the adapter in order, stopping at
// one that backpressure refuses.
func (a *Adapter) txReady(n int) {
	v := a.vfs[n]
	for v.readyCount > 0 && !v.blocked {
		p := *v.fetched.front()
		if !a.Send(n, p) {
			return // the ring stops draining until OnRoom
		}
		v.fetched.pop()
		v.readyCount--
		if v.ckpt {
			a.completeTx(n, p.desc) // taken into the checkpoint buffer (or dropped)
		}
	}
	if v.fetched.len() == 0 && !v.fetchInFlight {
		a.fetch(n)
	}
}

// completeTx writes back transmit descriptor i of VF n as done and notes the
// completion for the VF's interrupt.
func (a *Adapter) completeTx(n int, i uint32) {
	v := a.vfs[n]
	a.writeBack(v, v.tx.DescAddr(i), v.tx.BufAddr(i), 0)
	a.txCompletions.Inc()
	a.note(n)
}

// writeBack marks a descriptor done with length, over DMA.
func (a *Adapter) writeBack(v *vf, desc, buf uint64, length uint32) {
	d := a.desc[:]
	EncodeDesc(d, buf, length, FlagDone)
	v.mem.DMAWrite(a.engine.Now(), desc, d, DescBytes)
}

// Receive takes a frame arriving from the wire now: it is written into the
// next posted receive buffer of the VF with its destination MAC.
func (a *Adapter) Receive(p Packet) {
	if a.failed || a.resetting {
		return
	}
	n, ok := a.byMAC[p.Dst]
	if !ok {
		a.rxUnknown.Inc()
		return
	}
	v := a.vfs[n]
	if v.mem == nil && a.OnReceive != nil {
		a.rxPackets.Inc()
		a.OnReceive(n, p)
		return
	}
	if v.mem == nil || v.rx.head == v.rx.tail {
		a.rxNoBuffer.Inc()
		return
	}
	if uint64(len(p.Data)) > v.rx.BufBytes-PacketHeaderLen {
		a.rxTooLong.Inc() // longer than the buffers the driver posted
		return
	}
	i := v.rx.head
	v.rx.head++
	hdr := a.hdr[:]
	if p.Data != nil {
		hdr = make([]byte, PacketHeaderLen+len(p.Data))
		copy(hdr[PacketHeaderLen:], p.Data)
	}
	EncodeHeader(hdr, &p)
	done := v.mem.DMAWrite(a.engine.Now(), v.rx.BufAddr(i), hdr, uint64(PacketHeaderLen)+uint64(p.Bytes))
	done = max(done, v.rxLast) // descriptors complete in order
	v.rxLast = done
	p.desc = i
	v.rxInFlight.push(p)
	a.rxPackets.Inc()
	a.schedule(done, evRxDone, uint64(n)|uint64(v.gen)<<32)
}

// rxDone completes VF n's oldest receive in flight: its descriptor is
// written back and the driver's interrupt noted.
func (a *Adapter) rxDone(n int) {
	v := a.vfs[n]
	p := v.rxInFlight.pop()
	a.writeBack(v, v.rx.DescAddr(p.desc), v.rx.BufAddr(p.desc), p.Bytes)
	a.note(n)
}

// note counts a completion towards VF n's interrupt: the interrupt fires at
// CoalescePackets completions, or CoalesceTime after the first, whichever
// comes first, unless the driver has it masked.
func (a *Adapter) note(n int) {
	v := a.vfs[n]
	v.irqPending++
	a.armOrFire(n)
}

func (a *Adapter) armOrFire(n int) {
	v := a.vfs[n]
	switch {
	case v.irqMasked || v.irqPending == 0:
	case v.irqPending >= a.cfg.CoalescePackets || a.cfg.CoalesceTime == 0:
		a.fire(n)
	case !v.irqArmed:
		v.irqArmed = true
		v.irqGen++
		a.schedule(a.engine.Now()+a.cfg.CoalesceTime, evIRQ, v.irqGen<<16|uint64(n))
	}
}

// fire raises VF n's interrupt, which masks it until the driver enables it.
func (a *Adapter) fire(n int) {
	v := a.vfs[n]
	v.irqArmed, v.irqMasked = false, true
	v.irqGen++
	a.irqEvents.Record(uint64(v.irqPending))
	v.irqPending = 0
	a.interrupts.Inc()
	if a.OnInterrupt != nil {
		a.OnInterrupt(n, a.engine.Now())
	}
}

// EnableIRQ unmasks VF n's interrupt: the driver has polled its rings dry.
// Completions that arrived meanwhile raise it again (after coalescing).
func (a *Adapter) EnableIRQ(n int) {
	if a.failed || a.resetting {
		return
	}
	a.vfs[n].irqMasked = false
	a.armOrFire(n)
}

package nic

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/twinsim/twinsim/memory"
	"github.com/twinsim/twinsim/sim"
)

// flatMemory is DMA with a fixed latency per transfer over functional
// memory, counting the bytes moved.
type flatMemory struct {
	mem           *memory.Physical
	latency       sim.Time
	read, written uint64
}

func (m *flatMemory) DMARead(now sim.Time, addr uint64, buf []byte, n uint64) sim.Time {
	m.mem.Read(addr, buf)
	m.read += n
	return now + m.latency
}

func (m *flatMemory) DMAWrite(now sim.Time, addr uint64, data []byte, n uint64) sim.Time {
	m.mem.Write(addr, data)
	m.written += n
	return now + m.latency
}

// driver plays a VM's network driver over a VF's rings.
type driver struct {
	a          *Adapter
	vf         int
	mem        *memory.Physical
	tx, rx     RingConfig
	txTail     uint32
	txClean    uint32 // next transmit descriptor to check for completion
	rxNext     uint32 // next receive descriptor to read
	irqs       int
	got        []Packet
	completed  int
	autoEnable bool
}

func newDriver(t *testing.T, a *Adapter, vf int, mem *memory.Physical, base uint64, entries uint32) *driver {
	buf := uint64(2048)
	tx := RingConfig{Desc: base, Bufs: base + uint64(entries)*DescBytes, Entries: entries, BufBytes: buf}
	rx := RingConfig{Desc: base + tx.Bytes(), Bufs: base + tx.Bytes() + uint64(entries)*DescBytes, Entries: entries, BufBytes: buf}
	d := &driver{a: a, vf: vf, mem: mem, tx: tx, rx: rx, autoEnable: true}
	require.NoError(t, a.AttachRings(vf, &flatMemory{mem: mem, latency: 500 * sim.Nanosecond}, tx, rx))
	return d
}

// send posts one packet and rings the doorbell; false if the ring is full.
func (d *driver) send(p Packet) bool {
	if d.txTail-d.txClean == d.tx.Entries {
		return false
	}
	var hdr [PacketHeaderLen]byte
	EncodeHeader(hdr[:], &p)
	d.mem.Write(d.tx.BufAddr(d.txTail), hdr[:])
	var desc [DescBytes]byte
	EncodeDesc(desc[:], d.tx.BufAddr(d.txTail), p.Bytes, 0)
	d.mem.Write(d.tx.DescAddr(d.txTail), desc[:])
	d.txTail++
	d.a.Doorbell(d.vf, d.txTail)
	return true
}

// postRx posts every receive buffer that is free.
func (d *driver) postRx() {
	tail := d.rxNext + d.rx.Entries
	for i := d.rxNext; i != tail; i++ {
		var desc [DescBytes]byte
		EncodeDesc(desc[:], d.rx.BufAddr(i), uint32(d.rx.BufBytes), 0)
		d.mem.Write(d.rx.DescAddr(i), desc[:])
	}
	d.a.PostRx(d.vf, tail)
}

// interrupt reads completed descriptors from memory, as a driver does.
func (d *driver) interrupt(int, sim.Time) {
	d.irqs++
	var desc [DescBytes]byte
	for d.txClean != d.txTail {
		d.mem.Read(d.tx.DescAddr(d.txClean), desc[:])
		if _, _, f := DecodeDesc(desc[:]); f&FlagDone == 0 {
			break
		}
		d.txClean++
		d.completed++
	}
	for {
		d.mem.Read(d.rx.DescAddr(d.rxNext), desc[:])
		buf, n, f := DecodeDesc(desc[:])
		if f&FlagDone == 0 {
			break
		}
		var hdr [PacketHeaderLen]byte
		d.mem.Read(buf, hdr[:])
		p := DecodeHeader(hdr[:])
		p.Bytes = n
		d.got = append(d.got, p)
		EncodeDesc(desc[:], buf, 0, 0) // consumed
		d.mem.Write(d.rx.DescAddr(d.rxNext), desc[:])
		d.rxNext++
	}
	d.postRx()
	if d.autoEnable {
		d.a.EnableIRQ(d.vf)
	}
}

func TestRingsTransmitFromGuestMemory(t *testing.T) {
	cfg := testConfig()
	cfg.CoalescePackets, cfg.CoalesceTime = 4, 20*sim.Microsecond
	env, a, got := newAdapter(t, cfg)
	mem, err := memory.NewPhysical(1 << 24)
	require.NoError(t, err)
	vf := mustVF(t, a, 0xa, false)
	d := newDriver(t, a, vf, mem, 1<<20, 16)
	a.OnInterrupt = d.interrupt
	for i := range 10 {
		require.True(t, d.send(Packet{Dst: 0xbeef, Src: 0xa, Tag: uint64(100 + i), ID: uint64(i), Bytes: 1000}))
	}
	env.Engine.Run()
	require.Len(t, *got, 10)
	for i, g := range *got {
		require.Equal(t, uint64(100+i), g.p.Tag, "header read back from guest memory")
		require.Equal(t, uint64(0xbeef), g.p.Dst)
		require.Equal(t, uint32(1000), g.p.Bytes)
	}
	require.Equal(t, 10, d.completed, "every descriptor written back done")
	// Ten completions at four per interrupt: 4, 4, then 2 after the timer.
	require.Equal(t, 3, d.irqs)
	require.Equal(t, 3.0, stat(t, env, "interrupts"))

	// A full ring refuses the driver until completions free it.
	for d.send(Packet{Dst: 0xbeef, Bytes: 64}) {
	}
	require.Equal(t, d.tx.Entries, d.txTail-d.txClean)
	env.Engine.Run()
	require.Zero(t, d.txTail-d.txClean, "all sent and cleaned")
}

func TestRingsReceiveIntoGuestMemory(t *testing.T) {
	cfg := testConfig()
	cfg.CoalescePackets, cfg.CoalesceTime = 4, sim.Millisecond
	env, a, _ := newAdapter(t, cfg)
	mem, err := memory.NewPhysical(1 << 24)
	require.NoError(t, err)
	vf := mustVF(t, a, 0xa, false)
	d := newDriver(t, a, vf, mem, 1<<20, 4)
	a.OnInterrupt = d.interrupt
	a.Receive(Packet{Dst: 0xa, Tag: 7, Bytes: 100})
	require.Equal(t, 1.0, stat(t, env, "rx_no_buffer"), "no buffer posted yet")
	d.postRx()
	d.autoEnable = false // the driver leaves its interrupt masked
	for i := range 6 {
		a.Receive(Packet{Dst: 0xa, Src: 0x5, Tag: uint64(i), Bytes: 100})
	}
	a.Receive(Packet{Dst: 0x77, Bytes: 100})
	env.Engine.Run()
	require.Equal(t, 1.0, stat(t, env, "rx_unknown"))
	require.Equal(t, 3.0, stat(t, env, "rx_no_buffer"), "four buffers for six frames, and the first")
	require.Equal(t, 1, d.irqs, "four completions make one interrupt")
	require.Len(t, d.got, 4)
	for i, p := range d.got {
		require.Equal(t, uint64(i), p.Tag)
		require.Equal(t, uint64(0x5), p.Src)
		require.Equal(t, uint32(100), p.Bytes)
	}
	// The driver enables the interrupt: nothing new, so none fires.
	a.EnableIRQ(vf)
	env.Engine.Run()
	require.Equal(t, 1, d.irqs)
}

// TestRingBackpressure: a checkpointing VF whose buffer is full stops
// draining its ring; the descriptors complete only as the commit makes
// room, and nothing leaves before it.
func TestRingBackpressure(t *testing.T) {
	cfg := testConfig()
	cfg.BufferBytes, cfg.BufferPackets = 4*1518, 64
	env, a, got := newAdapter(t, cfg)
	mem, err := memory.NewPhysical(1 << 24)
	require.NoError(t, err)
	vf := mustVF(t, a, 0xa, true)
	d := newDriver(t, a, vf, mem, 1<<20, 16)
	a.OnInterrupt = d.interrupt
	for range 10 {
		require.True(t, d.send(Packet{Dst: 0xbeef, Bytes: 1500}))
	}
	env.Engine.RunUntil(sim.Millisecond)
	require.Equal(t, 4.0, stat(t, env, "held_packets"))
	require.Equal(t, 4, d.completed, "four fit in the buffer; the ring stopped")
	require.Empty(t, *got)
	require.Equal(t, 1.0, stat(t, env, "backpressure_refusals"))
	require.InDelta(t, 1.0, stat(t, env, "backpressure_share"), 0.01, "stopped from the fifth packet, microseconds in")
	require.NoError(t, a.StartEpoch(vf, 1))
	a.Commit(vf, 0)
	env.Engine.RunUntil(2 * sim.Millisecond)
	require.Len(t, *got, 4, "epoch 0's four went out")
	require.Equal(t, 8, d.completed, "then four more were taken, in epoch 1")
	require.NoError(t, a.StartEpoch(vf, 2))
	a.Commit(vf, 1)
	env.Engine.RunUntil(3 * sim.Millisecond)
	require.Len(t, *got, 8)
	require.NoError(t, a.StartEpoch(vf, 3))
	a.Commit(vf, 2)
	env.Engine.Run()
	require.Len(t, *got, 10)
	require.Zero(t, stat(t, env, "output_commit_violations"))
}

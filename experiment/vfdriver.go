package experiment

import (
	"slices"

	"github.com/twinsim/twinsim/cache"
	"github.com/twinsim/twinsim/dbt"
	"github.com/twinsim/twinsim/memory"
	"github.com/twinsim/twinsim/nic"
	"github.com/twinsim/twinsim/sim"
)

// Addresses on twinsim's network: VM i (from 0) is 10.0.0.(i+1) at MAC
// macVM+i+1, client j is 10.0.1.(j+1) at macClient+j+1 — a static
// mapping, so no ARP crosses the wire.
const (
	ipVMs     = 0x0a000000
	ipClients = 0x0a000100
)

// macOf returns the MAC of IPv4 address ip, and false if no host has it.
func macOf(ip uint32) (uint64, bool) {
	switch x := uint64(ip & 0xff); {
	case x == 0:
		return 0, false
	case ip&^0xff == ipVMs:
		return macVM + x, true
	case ip&^0xff == ipClients:
		return macClient + x, true
	}
	return 0, false
}

// vfDriver is the paravirtual driver of a program VM's virtual function,
// under the guest's sockets (dbt.NetDevice): it builds each datagram's
// frame into the VF's transmit ring in the VM's image, posts its
// descriptor and rings the doorbell at the core's time, and takes frames
// off the receive ring. Its loads and stores go through the core's caches
// as the VM's, so the rings cost misses and dirty the image as a guest
// kernel's do, and their time — with the driver's per-packet, doorbell and
// interrupt costs ([nic]) — is firmware time on the core. The VF's
// interrupt wakes the VM when it waits in a system call.
type vfDriver struct {
	pv      *programVM
	adapter *nic.Adapter
	vf      int
	mac     uint64
	ip      uint32
	mtu     int
	mem     *memory.Physical
	tx, rx  nic.RingConfig
	freq    sim.Freq
	line    uint64
	costs   struct{ irq, packet, doorbell uint64 }

	txTail, txDone, rxNext uint32
	hdr                    [nic.PacketHeaderLen]byte
	desc                   [nic.DescBytes]byte
	buf                    []byte
	eng                    *sim.Engine
	bell                   sim.HandlerID

	sent, received, malformed, noRoute, ringFull, wakeups *sim.Counter

	// delivered counts the datagrams handed to the guest; onInput, if set,
	// sees each (the recovery's input log); replay holds logged ones to
	// hand to a restored guest before what the ring holds.
	delivered uint64
	onInput   func(dg dbt.Datagram, arrived sim.Time)
	replay    []dbt.Datagram
	replayAt  []sim.Time // when each of replay first arrived
	lastRead  uint64     // the Seq of the datagram the guest read last: the request it serves
	gen       uint32     // resets and stops so far: the doorbells of earlier ones are stale
}

// Addr implements dbt.NetDevice.
func (d *vfDriver) Addr() uint32 { return d.ip }

// MaxPayload implements dbt.NetDevice.
func (d *vfDriver) MaxPayload() int { return d.mtu - nic.UDPOverhead }

// now is the core's time.
func (d *vfDriver) now() sim.Time { return d.freq.CyclesToTime(d.pv.tc.Timing.Now()) }

// touch reads or writes [pa, pa+n) through the core's data caches as the
// VM, a line a cycle, and charges the core the time until the last is
// done.
func (d *vfDriver) touch(pa, n uint64, write bool) {
	tm := d.pv.tc.Timing
	start := d.now()
	done := start
	step := d.freq.CyclesToTime(1)
	at := start
	for l := pa &^ (d.line - 1); l < pa+n; l += d.line {
		done = max(done, d.pv.tc.Data.Port.Access(at, cache.Access{Addr: l, Write: write, Mode: cache.Guest,
			VM: d.pv.vm.ID, Thread: d.pv.tc.Data.Thread}))
		at += step
	}
	if write && d.pv.backup != nil {
		d.pv.backup.NoteWrite(pa, n)
	}
	tm.Firmware(d.freq.Cycles(done - start))
}

// store writes data at pa, functionally and through the caches.
func (d *vfDriver) store(pa uint64, data []byte) {
	d.mem.Write(pa, data)
	d.touch(pa, uint64(len(data)), true)
}

// load reads len(buf) bytes at pa, functionally and through the caches.
func (d *vfDriver) load(pa uint64, buf []byte) {
	d.touch(pa, uint64(len(buf)), false)
	d.mem.Read(pa, buf)
}

// start posts every receive buffer (its stores go through the caches, as
// every store into the image must for the checkpoints to see it) and
// enables the VF's interrupt.
func (d *vfDriver) start() {
	for i := range d.rx.Entries {
		nic.EncodeDesc(d.desc[:], d.rx.BufAddr(i), uint32(d.rx.BufBytes), 0)
		d.store(d.rx.DescAddr(i), d.desc[:])
	}
	d.adapter.PostRx(d.vf, d.rx.Entries)
	d.adapter.EnableIRQ(d.vf)
}

// reset is the driver's recovery after its adapter was reset and
// restarted: it forgets what it had posted and posts its rings anew, from
// their first descriptors.
func (d *vfDriver) reset() {
	d.gen++
	d.txTail, d.txDone, d.rxNext = 0, 0, 0
	d.start()
}

// reclaim reads the transmit descriptors the adapter has completed.
func (d *vfDriver) reclaim() {
	for d.txDone != d.txTail {
		d.load(d.tx.DescAddr(d.txDone), d.desc[:])
		if _, _, f := nic.DecodeDesc(d.desc[:]); f&nic.FlagDone == 0 {
			return
		}
		d.txDone++
	}
}

// Send implements dbt.NetDevice.
func (d *vfDriver) Send(dg dbt.Datagram) bool {
	d.reclaim()
	if d.txTail-d.txDone == d.tx.Entries {
		d.ringFull.Inc()
		d.adapter.EnableIRQ(d.vf) // a completion wakes the sender
		return false
	}
	mac, ok := macOf(dg.Dst)
	if !ok {
		d.noRoute.Inc() // no host has the address: the datagram is lost, as without an ARP answer
		return true
	}
	p := nic.Packet{Dst: mac, Src: d.mac}
	if b := d.pv.backup; b != nil {
		p.Stamp = b.Epoch() // the epoch whose state this output reflects
	}
	payload := nic.Datagram{Src: dg.Src, Dst: dg.Dst, SPort: dg.SPort, DPort: dg.DPort, Data: dg.Data}
	n := nic.UDPOverhead + len(dg.Data)
	if need := nic.PacketHeaderLen + n; cap(d.buf) < need {
		d.buf = make([]byte, need)
	} else {
		d.buf = d.buf[:need]
	}
	nic.EncodeHeader(d.buf, &p)
	payload.EncodeInto(d.buf[nic.PacketHeaderLen:])
	i := d.txTail
	d.store(d.tx.BufAddr(i), d.buf)
	nic.EncodeDesc(d.desc[:], d.tx.BufAddr(i), uint32(n), 0)
	d.store(d.tx.DescAddr(i), d.desc[:])
	d.txTail++
	tm := d.pv.tc.Timing
	tm.Firmware(d.costs.packet + d.costs.doorbell)
	// The doorbell reaches the adapter at the core's time, not before.
	d.eng.Schedule(sim.Event{Time: max(d.now(), d.eng.Now()), Handler: d.bell, Arg: uint64(d.txTail) | uint64(d.gen)<<32})
	d.sent.Inc()
	return true
}

// Handle implements sim.Handler: a doorbell arrives — unless the driver
// has been reset or stopped since it rang.
func (d *vfDriver) Handle(ev sim.Event) {
	if uint32(ev.Arg>>32) == d.gen {
		d.adapter.Doorbell(d.vf, uint32(ev.Arg))
	}
}

// stop forgets what the driver was doing: the doorbells it has rung and
// that have not reached the adapter are never delivered (its VM failed;
// the VF is reset, and the driver starts again with reset).
func (d *vfDriver) stop() { d.gen++ }

// Receive implements dbt.NetDevice.
func (d *vfDriver) Receive() (dbt.Datagram, bool) {
	if len(d.replay) > 0 {
		dg, at := d.replay[0], d.replayAt[0]
		d.replay, d.replayAt = d.replay[1:], d.replayAt[1:]
		d.pv.tc.Timing.Firmware(d.costs.packet)
		return d.deliver(dg, at), true
	}
	for {
		a := d.rx.DescAddr(d.rxNext)
		d.load(a, d.desc[:])
		buf, length, flags := nic.DecodeDesc(d.desc[:])
		if flags&nic.FlagDone == 0 {
			return dbt.Datagram{}, false
		}
		frame := make([]byte, nic.PacketHeaderLen+int(min(uint64(length), d.rx.BufBytes-nic.PacketHeaderLen)))
		d.load(buf, frame)
		// Give the buffer back: the descriptor rewritten and posted again.
		nic.EncodeDesc(d.desc[:], d.rx.BufAddr(d.rxNext), uint32(d.rx.BufBytes), 0)
		d.store(a, d.desc[:])
		d.rxNext++
		d.adapter.PostRx(d.vf, d.rxNext+d.rx.Entries)
		d.pv.tc.Timing.Firmware(d.costs.packet)
		dg, err := nic.DecodeDatagram(frame[nic.PacketHeaderLen:])
		if err != nil || dg.Dst != d.ip {
			d.malformed.Inc() // dropped, as the guest's kernel drops it
			continue
		}
		d.received.Inc()
		return d.deliver(dbt.Datagram{Src: dg.Src, Dst: dg.Dst, SPort: dg.SPort, DPort: dg.DPort, Data: dg.Data}, d.eng.Now()), true
	}
}

// deliver numbers a datagram handed to the guest (Datagram.Seq: the count
// delivered so far), logs it with the time it arrived, and returns it.
func (d *vfDriver) deliver(dg dbt.Datagram, at sim.Time) dbt.Datagram {
	d.delivered++
	dg.Seq = d.delivered
	if d.onInput != nil {
		d.onInput(dg, at)
	}
	return dg
}

// Read implements dbt.Reader: the guest has taken datagram dg off its
// socket's queue.
func (d *vfDriver) Read(dg dbt.Datagram) { d.lastRead = dg.Seq }

// interrupt is the VF's interrupt: a VM waiting in a system call wakes
// (and pays for taking the interrupt when it runs).
func (d *vfDriver) interrupt() {
	if d.pv.halted {
		return
	}
	if blocked, _ := d.pv.m.Blocked(); blocked && !d.pv.woken {
		d.pv.woken = true
		d.wakeups.Inc()
	}
}

// sortedKeys returns m's keys in order (a deterministic walk of a map).
func sortedKeys[V any](m map[int]V) []int {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

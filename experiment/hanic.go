package experiment

import (
	"fmt"
	"io"

	"github.com/twinsim/twinsim/cache"
	"github.com/twinsim/twinsim/configs"
	"github.com/twinsim/twinsim/hypervisor"
	"github.com/twinsim/twinsim/memory"
	"github.com/twinsim/twinsim/nic"
	"github.com/twinsim/twinsim/sim"
	"github.com/twinsim/twinsim/workloads"
)

// haNIC is the checkpoint-HA scenario with network output commit (patent
// family 2): the primary host of the backup scenario, whose VMs also have
// virtual functions of an SR-IOV adapter, a switch joining it to external
// client hosts and bulk sinks, and the secondary host that receives each
// checkpoint over the replication link, applies it to the backup image and
// acknowledges it — the acknowledgement being the adapter's commit notice.
type haNIC struct {
	*backupHost
	adapter *nic.Adapter // the primary's
	pf      int          // its physical function
	second  *nic.Adapter // the secondary's
	sw      *nic.Switch
	soft    *hypervisor.SoftBuffer
	clients []*nic.Client
	net     []*hypervisor.NetVCPU
	ckptVFs []int             // VFs whose packets the adapter holds
	drivers map[int]*vfDriver // program VMs' VF drivers, by VF
	ports   [2]int            // the switch ports of host0's and host1's adapters
	check   *commitCheck      // nil without backup
	fo      *failover         // nil without faults or failover
	rec     *recovery         // nil without recovery
	nicCfg  nic.Config        // every host's adapter's
}

// commitCheck is the end-to-end output-commit check, independent of the
// adapter's and the software buffer's own bookkeeping: every frame of a
// backed-up VM leaving the primary's port carries in Packet.Stamp the
// epoch its vCPU produced it in, and the secondary's backup image must
// already hold that epoch's state (Backup.Backed), or a failover at that
// moment would lose state a client may see the effects of.
type commitCheck struct {
	backup              *hypervisor.Backup
	protected           []bool // by VM index: backed up
	checked, violations *sim.Counter
}

func (c *commitCheck) frame(p nic.Packet) {
	i := p.Src - macVM - 1
	if p.Src <= macVM || i >= uint64(len(c.protected)) || !c.protected[i] {
		return
	}
	c.checked.Inc()
	if p.Stamp >= c.backup.Backed() {
		c.violations.Inc()
	}
}

// MAC addresses: hosts' physical functions (0 and 1), VMs, clients and
// bulk sinks, each numbered from 1.
const (
	macHost   = 0x02_00_00_03_00_00
	macVM     = 0x02_00_00_00_00_00
	macClient = 0x02_00_00_01_00_00
	macSink   = 0x02_00_00_02_00_00
)

func buildHANIC(env *sim.Env, cfg configs.Config) (*haNIC, error) {
	var transport hypervisor.Transport
	var overNet *netTransport
	var link *hypervisor.LinkTransport
	if cfg.HA.Transport == "network" {
		overNet = &netTransport{eng: env.Engine, mtu: uint64(cfg.NIC.MTU), pending: map[uint64]*netMessage{}}
		overNet.id = env.Engine.Register(overNet)
		transport = overNet
	} else {
		lt, err := hypervisor.NewLinkTransport(env.Scope("replication"), sim.Time(cfg.HA.LinkLatency), uint64(cfg.HA.LinkBandwidth))
		if err != nil {
			return nil, fmt.Errorf("ha: %w", err)
		}
		transport, link = lt, lt
	}
	h, err := buildBackupHost(env, cfg, transport)
	if err != nil {
		return nil, err
	}
	s := &haNIC{backupHost: h}
	n := cfg.NIC
	sched, err := nic.ParseScheduler(n.Scheduler)
	if err != nil {
		return nil, fmt.Errorf("nic.scheduler: %w", err)
	}
	overflow, err := nic.ParseOverflow(n.Overflow)
	if err != nil {
		return nil, fmt.Errorf("nic.overflow: %w", err)
	}
	ncfg := nic.Config{
		MTU: uint32(n.MTU), BufferBytes: uint64(n.Buffer), BufferPackets: n.BufferPackets, Overflow: overflow,
		SpillBytesPerSec: uint64(n.SpillBandwidth), SpillLatency: sim.Time(n.SpillLatency),
		Scheduler: sched, Quantum: [2]uint64{uint64(n.QuantumHigh), uint64(n.QuantumLow)},
		WireBytesPerSec: uint64(n.Bandwidth), WireLatency: sim.Time(n.Latency),
		CoalescePackets: n.CoalescePackets, CoalesceTime: sim.Time(n.CoalesceTime)}
	s.nicCfg = ncfg
	if s.adapter, err = nic.New(h.scope.Child("nic"), ncfg); err != nil {
		return nil, fmt.Errorf("nic: %w", err)
	}
	// The secondary host's adapter: its physical function receives the
	// checkpoints when they go over the network.
	if s.second, err = nic.New(env.Scope("host1.nic"), ncfg); err != nil {
		return nil, fmt.Errorf("nic: %w", err)
	}
	if s.pf, err = s.adapter.AddPF(macHost); err != nil {
		return nil, err
	}
	pf1, err := s.second.AddPF(macHost + 1)
	if err != nil {
		return nil, err
	}
	if overNet != nil {
		overNet.primary, overNet.secondary = end{s.adapter, s.pf, macHost}, end{s.second, pf1, macHost + 1}
		s.adapter.OnReceive = func(_ int, p nic.Packet) { overNet.receive(p) }
		s.second.OnReceive = func(_ int, p nic.Packet) { overNet.receive(p) }
	}
	if n.Buffering == "software" && h.backup != nil {
		s.soft, err = hypervisor.NewSoftBuffer(h.scope.Child("softbuf"), hypervisor.SoftConfig{
			ExitCycles: cfg.HA.SoftExitCycles, PacketCycles: cfg.HA.SoftPacketCycles, ReleaseCycles: cfg.HA.SoftReleaseCycles,
			Base: h.layout.hypBase, Size: h.layout.hypSize, MTU: uint32(n.MTU)}, sim.Freq(cfg.Host.Freq), h.backup, s.adapter, s.pf)
		if err != nil {
			return nil, err
		}
	}

	s.sw = nic.NewSwitch(env.Scope("network.switch"), sim.Time(cfg.Network.SwitchLatency))
	s.second.Deliver = func(p nic.Packet, _ sim.Time) { s.sw.ReceiveOn(s.ports[1], p) }
	s.adapter.Deliver = func(p nic.Packet, _ sim.Time) { s.sw.ReceiveOn(s.ports[0], p) }
	if h.backup != nil {
		scope := env.Scope("network.output_commit")
		check := &commitCheck{backup: h.backup,
			checked:    scope.Counter("checked", "frames of backed-up VMs checked as they left the primary's port"),
			violations: scope.Counter("violations", "of those, frames that left before the secondary held the state of the epoch they were produced in (0 unless output is not held: nic.buffering = \"none\")")}
		for _, vm := range h.vms {
			check.protected = append(check.protected, vm.BackedUp)
		}
		s.adapter.OnTransmit = check.frame
		s.check = check
	}
	if s.ports[1], err = s.sw.AddPort(uint64(n.Bandwidth), sim.Time(n.Latency), func(p nic.Packet, _ sim.Time) { s.second.Receive(p) },
		macHost+1); err != nil {
		return nil, err
	}
	dma, err := h.hw.DevicePort(sim.Freq(cfg.Host.Freq), h.ctl)
	if err != nil {
		return nil, fmt.Errorf("nic dma: %w", err)
	}
	mem := &dmaPath{port: dma, mem: h.mem, backup: h.backup, vms: h.vms, latency: sim.Time(n.DMALatency),
		line: uint64(cfg.Cache.LineSize)}

	byVF := map[int]*hypervisor.NetVCPU{}
	vmMACs := []uint64{macHost}
	serverMAC := map[string]uint64{}
	sinks := 0
	for i, vc := range cfg.VMs {
		if !vc.VF {
			continue
		}
		vm := h.vms[i]
		mac := uint64(macVM + i + 1)
		ckpt := vm.BackedUp && n.Buffering == "nic"
		vf, err := s.adapter.AddVF(mac, ckpt)
		if err != nil {
			return nil, err
		}
		vmMACs = append(vmMACs, mac)
		if ckpt {
			s.ckptVFs = append(s.ckptVFs, vf)
		}
		if vc.Role == "program" {
			if err := s.attachProgram(h.programFor(vm), vf, mac, mem); err != nil {
				return nil, err
			}
			continue
		}
		nc, network := h.net[i]
		if !network {
			continue // a memory VM: a VF it does not use
		}
		tx, rx := rings(cfg, vm)
		if err := s.adapter.AttachRings(vf, mem, tx, rx); err != nil {
			return nil, fmt.Errorf("vm %s: %w", vc.Name, err)
		}
		nCfg := hypervisor.NetConfig{Core: nc.core, Quantum: sim.Time(cfg.Host.Quantum),
			IRQCycles: n.IRQCycles, PacketCycles: n.PacketCycles, DoorbellCycles: n.DoorbellCycles}
		if vc.Role == "bulk" {
			sinks++
			sinkMAC := uint64(macSink + sinks)
			sink := nic.NewSink(env.Scope("network.sink_"+vc.Name), sim.Time(cfg.Network.Warmup))
			if _, err := s.sw.AddPort(uint64(cfg.Network.ClientBandwidth), sim.Time(cfg.Network.ClientLatency), sink.Receive, sinkMAC); err != nil {
				return nil, err
			}
			nCfg.Role, nCfg.BulkDst, nCfg.BulkBytes = hypervisor.Bulk, sinkMAC, uint32(vc.Bulk.PacketBytes)
			if r := uint64(vc.Bulk.Rate); r > 0 {
				nCfg.BulkGap = sim.BytesTime(uint64(vc.Bulk.PacketBytes), r)
			}
		} else {
			dist, err := workloads.ParseServiceDist(vc.Service.Dist)
			if err != nil {
				return nil, fmt.Errorf("vm %s: service.dist: %w", vc.Name, err)
			}
			nCfg.Service = workloads.ServiceConfig{Dist: dist, Mean: sim.Time(vc.Service.Time), Ops: vc.Service.Ops,
				ResponseBytes: uint32(vc.Service.ResponseBytes)}
			serverMAC[vc.Name] = mac
		}
		backup := h.backup
		if !vm.BackedUp {
			backup = nil
		}
		v, err := hypervisor.NewNetVCPU(nc.scope, nCfg,
			hypervisor.Core{Freq: sim.Freq(cfg.Host.Freq), VM: vm, Stream: nc.stream, MMU: nc.mmu, Port: nc.port, Mem: h.mem, Backup: backup},
			hypervisor.Function{Adapter: s.adapter, VF: vf, MAC: mac, TX: tx, RX: rx})
		if err != nil {
			return nil, err
		}
		h.hw.Cores[nc.core].OnContention = v.Delay
		if s.soft != nil && vm.BackedUp {
			v.SetSoftBuffer(s.soft)
		}
		byVF[vf] = v
		s.net = append(s.net, v)
	}
	s.adapter.OnInterrupt = func(vf int, at sim.Time) {
		if v := byVF[vf]; v != nil {
			v.Interrupt(at)
		}
		if d := s.drivers[vf]; d != nil {
			d.interrupt()
		}
	}
	if s.ports[0], err = s.sw.AddPort(uint64(n.Bandwidth), sim.Time(n.Latency), func(p nic.Packet, _ sim.Time) { s.adapter.Receive(p) },
		vmMACs...); err != nil {
		return nil, err
	}

	for j, cc := range cfg.Clients {
		scope := env.Scope("clients." + cc.Name)
		up, err := s.sw.Uplink(scope.Child("uplink"), uint64(cfg.Network.ClientBandwidth), sim.Time(cfg.Network.ClientLatency))
		if err != nil {
			return nil, err
		}
		ccfg := nic.ClientConfig{MAC: uint64(macClient + j + 1), Server: serverMAC[cc.VM],
			RequestBytes: uint32(cc.RequestBytes), OpenLoop: cc.Mode == "open", Rate: cc.Rate, Outstanding: cc.Outstanding,
			Warmup: sim.Time(cfg.Network.Warmup), Timeout: sim.Time(cc.Timeout), Retries: cc.Retries}
		if cc.Protocol == "kv" {
			vi := vmIndex(cfg, cc.VM)
			ccfg.Server = uint64(macVM + vi + 1)
			k := cc.KV
			if ccfg.Payload, err = workloads.NewKVMix(scope, workloads.KVMixConfig{Keys: k.Keys, GetFraction: k.GetFraction,
				Poison: k.Poison, PoisonKind: k.PoisonKind,
				PutFraction: k.PutFraction, ValueBytes: int(k.ValueBytes), Client: ipClients + uint32(j+1),
				Server: ipVMs + uint32(vi+1), ClientPort: uint16(40000 + j), ServerPort: uint16(cc.Port), Prefix: cc.Name}); err != nil {
				return nil, err
			}
		}
		c, err := nic.NewClient(scope, ccfg, up)
		if err != nil {
			return nil, err
		}
		if _, err := s.sw.AddPort(uint64(cfg.Network.ClientBandwidth), sim.Time(cfg.Network.ClientLatency), c.Receive, c.MAC()); err != nil {
			return nil, err
		}
		s.clients = append(s.clients, c)
	}

	if b := h.backup; b != nil {
		b.OnEpoch = func(e uint64) {
			for _, vf := range s.ckptVFs {
				if err := s.adapter.StartEpoch(vf, e); err != nil {
					panic(fmt.Sprintf("experiment: %v", err)) // epochs only increase
				}
			}
		}
		b.OnCommit = func(e uint64) {
			for _, vf := range s.ckptVFs {
				s.adapter.Commit(vf, e)
			}
			if s.soft != nil {
				s.soft.Commit(e)
			}
		}
	}
	if cfg.Output.Series {
		s.sampler(env.Scope("host0.buffered"), sim.Time(cfg.Output.Sample))
		if len(cfg.Faults) > 0 {
			s.clientSampler(sim.Time(cfg.Output.Sample))
		}
	}
	if h.runner != nil && len(s.clients) > 0 {
		h.runner.stopWhenDone = false // the clients run to the end
	}
	if s.fo, err = newFailover(s, link); err != nil {
		return nil, err
	}
	if s.rec, err = newRecovery(s); err != nil {
		return nil, err
	}
	return s, nil
}

// vmIndex returns the index of the VM named name.
func vmIndex(cfg configs.Config, name string) int {
	for i, vc := range cfg.VMs {
		if vc.Name == name {
			return i
		}
	}
	panic(fmt.Sprintf("experiment: no vm %q (the configuration was validated)", name))
}

// programFor returns the program VM of vm.
func (h *backupHost) programFor(vm *hypervisor.VM) *programVM {
	for _, pv := range h.programs {
		if pv.vm == vm {
			return pv
		}
	}
	panic(fmt.Sprintf("experiment: vm %s runs no program", vm.Name))
}

// attachProgram gives program VM pv virtual function vf (MAC mac): its
// rings at the top of its image, and a driver under its guest's sockets.
func (s *haNIC) attachProgram(pv *programVM, vf int, mac uint64, mem nic.HostMemory) error {
	d, err := newVFDriver(s.cfg, pv, s.adapter, vf, mac, mem, s.mem)
	if err != nil {
		return err
	}
	pv.proc.SetNet(d)
	if s.drivers == nil {
		s.drivers = map[int]*vfDriver{}
	}
	s.drivers[vf] = d
	return nil
}

// newVFDriver attaches program VM pv's rings, at the top of its image in
// phys, to virtual function vf (MAC mac) of adapter, whose DMA goes
// through dma, and returns the driver that runs them under the guest's
// sockets.
func newVFDriver(cfg configs.Config, pv *programVM, adapter *nic.Adapter, vf int, mac uint64, dma nic.HostMemory,
	phys *memory.Physical) (*vfDriver, error) {
	tx, rx := rings(cfg, pv.vm)
	if err := adapter.AttachRings(vf, dma, tx, rx); err != nil {
		return nil, fmt.Errorf("vm %s: %w", pv.name, err)
	}
	adapter.CarryPayload(vf)
	vi := int(mac - macVM - 1)
	scope := pv.scope.Child("net")
	d := &vfDriver{pv: pv, adapter: adapter, vf: vf, mac: mac, ip: ipVMs + uint32(vi+1), mtu: int(cfg.NIC.MTU),
		mem: phys, tx: tx, rx: rx, freq: sim.Freq(cfg.Host.Freq), line: uint64(cfg.Cache.LineSize), eng: scope.Engine(),
		sent:      scope.Counter("sent", "datagrams the guest sent through its virtual function"),
		received:  scope.Counter("received", "datagrams delivered to the guest's sockets"),
		malformed: scope.Counter("malformed", "frames received that were not IPv4/UDP for the VM's address (dropped)"),
		noRoute:   scope.Counter("no_route", "datagrams sent to an address no host has (lost)"),
		ringFull:  scope.Counter("tx_ring_full", "sends that found the transmit ring full (the guest waited)"),
		wakeups:   scope.Counter("wakeups", "times the VF's interrupt woke the guest from a system call")}
	d.costs.irq, d.costs.packet, d.costs.doorbell = cfg.NIC.IRQCycles, cfg.NIC.PacketCycles, cfg.NIC.DoorbellCycles
	d.bell = d.eng.Register(d)
	pv.dev = d
	return d, nil
}

// sampler records the output held for commit — in the adapter's buffer, or
// the hypervisor's with software buffering — every period: the peak since
// the previous row, as a time series.
func (s *haNIC) sampler(scope sim.Scope, period sim.Time) {
	series := scope.Series("occupancy", "output held for commit, sampled", "nic_peak_bytes", "nic_bytes", "nic_packets", "software_peak_bytes")
	eng := scope.Engine()
	var id sim.HandlerID
	id = eng.Register(sim.HandlerFunc(func(ev sim.Event) {
		bytes, packets := s.adapter.Buffered()
		var soft uint64
		if s.soft != nil {
			soft = s.soft.TakePeak()
		}
		series.Append(ev.Time, float64(s.adapter.TakePeak()), float64(bytes), float64(packets), float64(soft))
		eng.Schedule(sim.Event{Time: ev.Time + period, Handler: id})
	}))
	eng.Schedule(sim.Event{Time: period, Handler: id})
}

// clientSampler records each client's responses every period, as a time
// series under the client's scope (window): how many arrived since the
// previous row, their mean and their longest latency — what a client sees
// around a failure.
func (s *haNIC) clientSampler(period sim.Time) {
	series := make([]*sim.Series, len(s.clients))
	for i, c := range s.clients {
		series[i] = s.scope.Env().Scope("clients."+s.cfg.Clients[i].Name).Series("window",
			"responses received in each sampling period", "responses", "mean_latency_ps", "max_latency_ps")
		c.TakeWindow()
	}
	eng := s.scope.Engine()
	var id sim.HandlerID
	id = eng.Register(sim.HandlerFunc(func(ev sim.Event) {
		for i, c := range s.clients {
			n, mean, longest := c.TakeWindow()
			series[i].Append(ev.Time, float64(n), float64(mean), float64(longest))
		}
		eng.Schedule(sim.Event{Time: ev.Time + period, Handler: id})
	}))
	eng.Schedule(sim.Event{Time: period, Handler: id})
}

// netTransport carries checkpoints and acknowledgements between the hosts'
// physical functions through their adapters and the switch (ha.transport
// = "network"): the state shares the primary's port with the VMs' traffic,
// at the low priority, cut into frames of the MTU.
type netTransport struct {
	eng                *sim.Engine
	id                 sim.HandlerID
	mtu                uint64
	primary, secondary end
	seq                uint64
	pending            map[uint64]*netMessage
}

// end is one host's side: its adapter, physical function and MAC.
type end struct {
	a   *nic.Adapter
	pf  int
	mac uint64
}

// netMessage is a message in flight: its route, size and frames still to
// arrive, and what to do when the last has.
type netMessage struct {
	from, to end
	bytes    uint64
	left     uint64
	arrived  func()
}

func (t *netTransport) send(from, to end, at sim.Time, bytes uint64, arrived func()) {
	t.seq++
	frames := max((bytes+t.mtu-1)/t.mtu, 1)
	t.pending[t.seq] = &netMessage{from: from, to: to, bytes: bytes, left: frames, arrived: arrived}
	t.eng.Schedule(sim.Event{Time: at, Handler: t.id, Arg: t.seq})
}

// ToSecondary implements hypervisor.Transport.
func (t *netTransport) ToSecondary(at sim.Time, bytes uint64, arrived func()) {
	t.send(t.primary, t.secondary, at, bytes, arrived)
}

// ToPrimary implements hypervisor.Transport.
func (t *netTransport) ToPrimary(at sim.Time, bytes uint64, arrived func()) {
	t.send(t.secondary, t.primary, at, bytes, arrived)
}

// Handle implements sim.Handler: a message's time to leave has come; its
// frames go to the sending adapter's physical function.
func (t *netTransport) Handle(ev sim.Event) {
	m := t.pending[ev.Arg]
	for left := m.bytes; ; left -= min(left, t.mtu) {
		p := nic.Packet{Dst: m.to.mac, Src: m.from.mac, Bytes: uint32(max(min(left, t.mtu), 1)), ID: ev.Arg}
		m.from.a.Send(m.from.pf, p)
		if left <= t.mtu {
			break
		}
	}
}

// receive takes a frame arriving at a physical function.
func (t *netTransport) receive(p nic.Packet) {
	m, ok := t.pending[p.ID]
	if !ok {
		return
	}
	if m.left--; m.left == 0 {
		delete(t.pending, p.ID)
		m.arrived()
	}
}

// rings places a VF's transmit and receive rings, descriptors then
// buffers, at the top of its VM's image.
func rings(cfg configs.Config, vm *hypervisor.VM) (tx, rx nic.RingConfig) {
	entries := uint32(cfg.NIC.RingEntries)
	buf := configs.RingBufBytes(cfg)
	base := vm.Base + vm.Size - configs.RingBytes(cfg)
	one := uint64(entries) * (nic.DescBytes + buf)
	tx = nic.RingConfig{Desc: base, Bufs: base + uint64(entries)*nic.DescBytes, Entries: entries, BufBytes: buf}
	rx = nic.RingConfig{Desc: base + one, Bufs: base + one + uint64(entries)*nic.DescBytes, Entries: entries, BufBytes: buf}
	return tx, rx
}

// dmaPath is the adapter's DMA: across the I/O bus (latency each way) and
// through the shared L3, line by line, as the VM whose image it touches (so
// that writes into a backed-up image set image-modification flags and mark
// the dirty-page trackers, as the checkpoint must see them).
type dmaPath struct {
	port    *cache.Port
	mem     *memory.Physical
	backup  *hypervisor.Backup
	vms     []*hypervisor.VM
	latency sim.Time
	line    uint64
}

func (d *dmaPath) owner(addr uint64) uint16 {
	for _, vm := range d.vms {
		if vm.Contains(addr) {
			return vm.ID
		}
	}
	return 0
}

func (d *dmaPath) access(at sim.Time, addr, n uint64, write bool) sim.Time {
	a := cache.Access{Write: write, Mode: cache.Guest, VM: d.owner(addr)}
	done := at
	for l := addr &^ (d.line - 1); l < addr+n; l += d.line {
		a.Addr = l
		done = max(done, d.port.Access(at, a))
	}
	return done
}

// DMARead implements nic.HostMemory.
func (d *dmaPath) DMARead(now sim.Time, addr uint64, buf []byte, n uint64) sim.Time {
	d.mem.Read(addr, buf)
	return d.access(now+d.latency, addr, n, false) + d.latency
}

// DMAWrite implements nic.HostMemory: a posted write.
func (d *dmaPath) DMAWrite(now sim.Time, addr uint64, data []byte, n uint64) sim.Time {
	d.mem.Write(addr, data)
	if d.backup != nil {
		d.backup.NoteWrite(addr, n)
	}
	return d.access(now+d.latency, addr, n, true)
}

func (s *haNIC) start() {
	for _, vf := range sortedKeys(s.drivers) {
		s.drivers[vf].start()
	}
	s.backupHost.start()
	for _, v := range s.net {
		v.Start()
	}
	for _, c := range s.clients {
		c.Start()
	}
	if s.fo != nil {
		s.fo.start()
	}
	if s.rec != nil {
		s.rec.start()
	}
}

// files are each program VM's output — the copy's on host1 for a VM that
// failed over: its output up to the checkpoint it resumed from, then its
// own — and the failover timeline.
func (s *haNIC) files() []outFile {
	if s.fo == nil && s.rec == nil {
		return s.backupHost.files()
	}
	var vms []*programVM
	var lines [][]mark
	for _, pv := range s.programs {
		if s.fo != nil {
			if c := s.fo.copyOf(pv); c != nil {
				pv = c
			}
		}
		vms = append(vms, pv)
	}
	if s.fo != nil {
		lines = append(lines, s.fo.timeline)
	}
	if s.rec != nil {
		lines = append(lines, s.rec.timeline)
	}
	return append(programFiles(vms), outFile{"timeline.csv", timelineCSV(lines...)})
}

// summary prints each client's latency percentiles and throughput, the
// checkpoint buffer's statistics and the checkpoints'.
func (s *haNIC) summary(w io.Writer, r *Result) {
	cfg := s.cfg
	summaryHeader(w, r)
	secs := r.SimTime.Seconds()
	mode := cfg.NIC.Buffering
	if s.backup == nil {
		mode = "no checkpointing"
	}
	fmt.Fprintf(w, "output commit: %s buffering, scheduler %s\n", mode, cfg.NIC.Scheduler)
	programSummary(w, r.Env, s.programs)
	if s.fo != nil {
		programSummary(w, r.Env, s.fo.copies())
		s.fo.summary(w)
	}
	if s.rec != nil {
		s.rec.summary(w)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%-12s %-8s %10s %10s %10s %10s %10s %10s %10s\n", "client", "vm", "req/s", "resp/s", "mean", "p50", "p99", "p999", "unanswered")
	for i := range s.clients {
		p := "clients." + cfg.Clients[i].Name
		fmt.Fprintf(w, "%-12s %-8s %10.0f %10.0f %10s %10s %10s %10s %10.0f\n", cfg.Clients[i].Name, cfg.Clients[i].VM,
			s.stat(p, "request_rate"), s.stat(p, "throughput"), fmtTime(s.stat(p, "latency.mean")),
			fmtTime(s.stat(p, "latency.p50")), fmtTime(s.stat(p, "latency.p99")), fmtTime(s.stat(p, "latency.p999")),
			s.stat(p, "unanswered"))
	}
	for _, cc := range cfg.Clients {
		p := "clients." + cc.Name
		if cc.Protocol == "kv" {
			fmt.Fprintf(w, "kv client %s: %.0f answers checked against its record, %.0f mismatches, %.0f unchecked; %.0f retransmissions, %.0f requests lost, %.0f duplicate answers\n",
				cc.Name, s.stat(p+".kv", "checked"), s.stat(p+".kv", "mismatches"), s.stat(p+".kv", "unchecked"),
				s.stat(p, "retransmissions"), s.stat(p, "lost"), s.stat(p, "duplicates"))
		} else if r := s.stat(p, "retransmissions"); r > 0 {
			fmt.Fprintf(w, "client %s: %.0f retransmissions, %.0f requests lost, %.0f duplicate answers\n", cc.Name, r, s.stat(p, "lost"), s.stat(p, "duplicates"))
		}
	}
	if wu := sim.Time(cfg.Network.Warmup); wu > 0 {
		fmt.Fprintf(w, "(rates and latency from the warm-up at %v on; unanswered: in flight at the end, or lost)\n", wu)
	}
	for _, vc := range cfg.VMs {
		if vc.Role == "bulk" {
			fmt.Fprintf(w, "bulk vm %s: %.2f Gb/s delivered to its sink\n", vc.Name,
				8*s.stat("network.sink_"+vc.Name, "goodput")/1e9)
		}
	}
	np := s.adapter.Name()
	fmt.Fprintf(w, "\nadapter: %.0f frames sent (%.2f Gb/s of frames), %.0f received, %.0f interrupts (%.1f completions each)\n",
		s.stat(np, "tx_packets"), 8*s.stat(np, "tx_bytes")/secs/1e9, s.stat(np, "rx_packets"), s.stat(np, "interrupts"),
		s.stat(np, "completions_per_interrupt.mean"))
	if lost := s.stat(np, "rx_no_buffer"); lost > 0 {
		fmt.Fprintf(w, "adapter: %.0f received frames dropped for want of a posted receive buffer (nic.ring_entries)\n", lost)
	}
	if s.backup != nil && cfg.NIC.Buffering == "nic" {
		fmt.Fprintf(w, "checkpoint buffer: %.0f packets held, %.0f released, mean hold %s, peak %s of %s; %s overflow: %.0f refused, %.0f spilled, %.0f dropped\n",
			s.stat(np, "held_packets"), s.stat(np, "released_packets"), fmtTime(s.stat(np, "hold_time.mean")),
			fmtBytes(s.stat(np, "peak_buffer_bytes")), fmtBytes(float64(cfg.NIC.Buffer)), cfg.NIC.Overflow,
			s.stat(np, "backpressure_refusals"), s.stat(np, "spilled_packets"), s.stat(np, "dropped_packets"))
	}
	if s.soft != nil {
		sp := s.scope.Child("softbuf").Name()
		fmt.Fprintf(w, "hypervisor buffer: %.0f packets captured, %.0f released, mean hold %s, peak %s\n",
			s.stat(sp, "captured_packets"), s.stat(sp, "released_packets"), fmtTime(s.stat(sp, "hold_time.mean")),
			fmtBytes(s.stat(sp, "peak_buffer_bytes")))
	}
	if s.backup == nil {
		return
	}
	oc := "network.output_commit"
	fmt.Fprintf(w, "output commit check: %.0f of %.0f frames of backed-up VMs left the port before the secondary held the state they reflect",
		s.stat(oc, "violations"), s.stat(oc, "checked"))
	if cfg.NIC.Buffering == "none" {
		fmt.Fprint(w, " (nic.buffering = \"none\" holds nothing)")
	}
	fmt.Fprintln(w)
	bp := s.scope.Child("backup").Name()
	n := s.stat(bp, "checkpoints")
	fmt.Fprintf(w, "\ncheckpoints: %.0f at an interval of %v, mean pause %s; %s: %s replicated per checkpoint (mean) over the %s transport, committed %s after the checkpoint (mean, %.0f acknowledged)\n",
		n, sim.Time(cfg.Backup.Interval), fmtTime(s.stat(bp, "pause.mean")), cfg.HA.Method,
		fmtBytes(s.stat(bp, "ckpt_replicated_bytes.mean")), cfg.HA.Transport, fmtTime(s.stat(bp, "commit_delay.mean")), s.stat(bp, "commits"))
	pauseBreakdown(w, s.scope.Env(), bp, cfg)
	if len(s.programs) > 0 {
		bytesByMethod(w, s.scope.Env(), bp)
		fmt.Fprintln(w)
	}
	if d := s.stat(bp, "deferred_checkpoints"); d > 0 {
		fmt.Fprintf(w, "checkpoints: %.0f deferred because %d awaited their acknowledgement (ha.max_in_flight; ended deferrals lasted %s on average): replication is slower than the checkpoints\n",
			d, cfg.HA.MaxInFlight, fmtTime(s.stat(bp, "deferral.mean")))
	}
	switch {
	case !cfg.HA.Verify:
		fmt.Fprintln(w, "backup image check: off (ha.verify = false)")
	case s.stat(bp, "image_mismatches") == 0:
		fmt.Fprintf(w, "backup image check: equal to the primary's as of each of the %.0f acknowledged checkpoints\n", s.stat(bp, "commits"))
	default:
		fmt.Fprintf(w, "backup image check: DIFFERED after %.0f checkpoints\n", s.stat(bp, "image_mismatches"))
	}
}

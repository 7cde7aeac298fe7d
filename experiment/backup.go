package experiment

import (
	"fmt"
	"io"

	"github.com/twinsim/twinsim/cache"
	"github.com/twinsim/twinsim/configs"
	"github.com/twinsim/twinsim/dbt"
	"github.com/twinsim/twinsim/hypervisor"
	"github.com/twinsim/twinsim/memory"
	"github.com/twinsim/twinsim/sim"
	"github.com/twinsim/twinsim/workloads"
)

// backupHost is the VM-backup scenario (patent family 3): one host whose
// cores run VMs' synthetic workloads through private L1/L2 caches, a shared
// L3 and DRAM, with the cache controller's image-modification log and the
// hypervisor's checkpoint controller replicating backed-up VMs to a second
// host's memory.
type backupHost struct {
	cfg     configs.Config
	scope   sim.Scope
	mem     *memory.Physical
	replica *memory.Physical
	ctl     *cache.Controller
	vms     []*hypervisor.VM
	vcpus   []*hypervisor.VCPU
	backup  *hypervisor.Backup // nil when backup is disabled
	layout  layout
	hw      *Host
	// net holds the core of each service or bulk VM (by VM index), for
	// the ha-nic scenario to run a network vCPU on.
	net map[int]netCore
	// The VMs that run guest programs, in VM order, and what runs them.
	programs []*programVM
	runner   *programRunner
}

// netCore is what a network VM's vCPU runs on.
type netCore struct {
	core   int
	scope  sim.Scope
	port   *cache.Port
	mmu    *memory.MMU
	stream *workloads.Stream
}

// layout is where things live in host physical memory.
type layout struct {
	hypBase, hypSize uint64
	logBase, logSize uint64
}

func cacheConfig(l configs.CacheLevel, lineSize uint64, trackThread bool) (cache.Config, error) {
	repl, err := cache.ParseReplacement(string(l.Replacement))
	if err != nil {
		return cache.Config{}, err
	}
	wp, err := cache.ParseWritePolicy(string(l.WritePolicy))
	if err != nil {
		return cache.Config{}, err
	}
	return cache.Config{Size: uint64(l.Size), LineSize: lineSize, Ways: l.Ways, Replacement: repl,
		WritePolicy: wp, Latency: l.Latency, TrackThread: trackThread, Inclusive: l.Inclusive,
		Banks: l.Banks, BankCycles: l.BankCycles, MSHRs: l.MSHRs, WriteBuffer: l.WriteBuffer,
		PrefetchDegree: l.PrefetchDegree, PrefetchDistance: l.PrefetchDistance, PrefetchStreams: l.PrefetchStreams, WriteStreaming: l.WriteStreaming}, nil
}

// newDRAM builds the DRAM timing model of [dram].
func newDRAM(scope sim.Scope, d configs.DRAMConfig) (*memory.DRAM, error) {
	dram, err := memory.NewDRAM(scope, memory.DRAMConfig{Latency: sim.Time(d.Latency), Channels: d.Channels,
		BytesPerSec: uint64(d.Bandwidth), InterleaveBytes: uint64(d.Interleave)})
	if err != nil {
		return nil, fmt.Errorf("dram: %w", err)
	}
	return dram, nil
}

// newLevel builds one cache level of [cache], naming key in errors.
func newLevel(scope sim.Scope, l configs.CacheLevel, key string, lineSize uint64, trackThread bool) (*cache.Cache, error) {
	cc, err := cacheConfig(l, lineSize, trackThread)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	c, err := cache.New(scope, cc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	return c, nil
}

func alignUp(x, a uint64) uint64 { return (x + a - 1) / a * a }

// buildBackupHost builds the primary host. With a transport (the ha-nic
// scenario) checkpoints travel over it to the secondary host, which
// applies and acknowledges them; without, they are applied at once.
func buildBackupHost(env *sim.Env, cfg configs.Config, transport hypervisor.Transport) (*backupHost, error) {
	host := env.Scope("host0")
	h := &backupHost{cfg: cfg, scope: host, net: map[int]netCore{}}
	pageSize := uint64(cfg.Host.PageSize)
	lineSize := uint64(cfg.Cache.LineSize)
	freq := sim.Freq(cfg.Host.Freq)
	memSize := uint64(cfg.Host.Memory)

	// Layout: VM images from 0, then hypervisor memory, then the log.
	var next uint64
	for i, vc := range cfg.VMs {
		if vc.Role == "program" {
			next = alignUp(next, dbt.ChunkSize) // the image backing's frames
		}
		vm, err := hypervisor.NewVM(uint16(i+1), vc.Name, vc.BackedUp && cfg.Backup.Enabled, next, uint64(vc.Memory), pageSize)
		if err != nil {
			return nil, err
		}
		h.vms = append(h.vms, vm)
		next += uint64(vc.Memory)
	}
	h.layout.hypBase = alignUp(next, pageSize)
	h.layout.hypSize = uint64(cfg.Hypervisor.Footprint)
	h.layout.logBase = alignUp(h.layout.hypBase+h.layout.hypSize, pageSize)
	h.layout.logSize = uint64(cfg.Backup.LogSize)
	if end := h.layout.logBase + h.layout.logSize; end > memSize {
		return nil, fmt.Errorf("host.memory: %d bytes cannot hold the VM images, hypervisor memory and log (%d bytes needed)", memSize, end)
	}

	var err error
	if h.mem, err = memory.NewPhysical(memSize); err != nil {
		return nil, fmt.Errorf("host.memory: %w", err)
	}
	if h.replica, err = memory.NewPhysical(memSize); err != nil {
		return nil, fmt.Errorf("host.memory: %w", err)
	}
	if h.ctl, err = newLogController(host, cfg, h.mem, h.layout); err != nil {
		return nil, err
	}

	// Program VMs' guests are loaded into their images before the backup
	// image is first synchronised.
	for i, vc := range cfg.VMs {
		if vc.Role != "program" {
			continue
		}
		pv, err := loadProgramVM(env, cfg, h.mem, h.vms[i], vc)
		if err != nil {
			return nil, err
		}
		h.programs = append(h.programs, pv)
	}
	hw, err := NewHost(host, cfg, cfg.Host.Cores, h.ctl)
	if err != nil {
		return nil, err
	}
	h.hw = hw
	if cfg.Backup.Enabled {
		bc, err := backupConfig(cfg, transport, hw, h.ctl)
		if err != nil {
			return nil, err
		}
		if h.backup, err = hypervisor.NewBackup(host.Child("backup"), bc, freq, h.ctl, h.mem, h.replica, h.vms); err != nil {
			return nil, err
		}
	}

	// One vCPU per core that runs a VM: a program on the core's timing
	// model, or a synthetic stream through its data side.
	vmOfCore := map[int]int{}
	for i, vc := range cfg.VMs {
		for _, c := range vc.Cores {
			vmOfCore[c] = i
		}
	}
	for _, pv := range h.programs {
		c := pv.core
		if cfg.Backup.ThreadIDs && pv.vm.BackedUp {
			// Its guest threads' ids tag its stores (the thread variant).
			pv.markThread = func(tid int) { h.ctl.SetThreadBackedUp(uint16(tid), true) }
		}
		if err := pv.boot(cfg, hw.Cores[c], h.backup); err != nil {
			return nil, err
		}
	}
	for c, tc := range hw.Cores {
		vi, runs := vmOfCore[c]
		if !runs || cfg.VMs[vi].Role == "program" {
			continue
		}
		vm, vc := h.vms[vi], cfg.VMs[vi]
		if cfg.Backup.ThreadIDs && vm.BackedUp {
			h.ctl.SetThreadBackedUp(uint16(c), true)
		}
		core, port := tc.Scope, tc.Data.Port
		mmu := memory.NewMMU(core.Child("mmu"), vm.PT, tc.Data.TLB, cfg.TLB.WalkLatency)
		w := vc.Workload
		pattern, err := workloads.ParsePattern(string(w.Pattern))
		if err != nil {
			return nil, fmt.Errorf("vm %s: workload.pattern: %w", vc.Name, err)
		}
		vscope := core.Child("vcpu")
		stream, err := workloads.NewStream(workloads.StreamConfig{
			Pattern: pattern, Footprint: uint64(w.Footprint), WriteFraction: w.WriteFraction, ZipfS: w.ZipfS,
			Stride: uint64(w.Stride), AccessSize: uint64(w.AccessSize), LineSize: lineSize,
		}, sim.NewRNG(env.Seed, vscope.Name()+".stream"))
		if err != nil {
			return nil, fmt.Errorf("vm %s: workload: %w", vc.Name, err)
		}
		if vc.Role != "memory" {
			h.net[vi] = netCore{core: c, scope: vscope, port: port, mmu: mmu, stream: stream}
			continue
		}
		v, err := hypervisor.NewVCPU(vscope, hypervisor.VCPUConfig{
			Core: c, Quantum: sim.Time(cfg.Host.Quantum), GapCycles: w.GapCycles, AccessSize: uint64(w.AccessSize),
			Hyp: hypervisor.HypervisorStores{Fraction: cfg.Hypervisor.StoreFraction, Base: h.layout.hypBase, Size: h.layout.hypSize},
		}, hypervisor.Core{Freq: freq, VM: vm, Stream: stream, MMU: mmu, Port: port, Mem: h.mem, Backup: h.backup})
		if err != nil {
			return nil, err
		}
		tc.OnContention = v.Delay
		h.vcpus = append(h.vcpus, v)
	}
	if len(h.programs) > 0 {
		h.runner = newProgramRunner(host, cfg, h.programs)
		h.runner.stopWhenDone = len(h.vcpus) == 0 && len(h.net) == 0
	}
	return h, nil
}

// newLogController builds the image-modification log of the host whose
// memory is mem, at the log's place in lay ([backup]).
func newLogController(host sim.Scope, cfg configs.Config, mem *memory.Physical, lay layout) (*cache.Controller, error) {
	overflow, err := cache.ParseOverflowPolicy(string(cfg.Backup.Overflow))
	if err != nil {
		return nil, fmt.Errorf("backup.overflow: %w", err)
	}
	ctl, err := cache.NewController(host.Child("imlog"), mem, cache.LogConfig{
		Base: lay.logBase, Size: lay.logSize, LineSize: uint64(cfg.Cache.LineSize),
		DedupWindow: cfg.Backup.DedupWindow, Batch: cfg.Backup.Batch, Overflow: overflow,
		GuardEntries: cfg.Backup.GuardEntries, ScanCyclesPerLine: cfg.Backup.ScanCyclesPerLine,
		TrackThread: cfg.Backup.ThreadIDs})
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	return ctl, nil
}

// backupConfig is the checkpoint policy of [backup] and, with a transport
// (the ha-nic scenario), [ha]'s replication over it, the hypervisor
// reading the state to send through hw's shared L3 and DRAM.
func backupConfig(cfg configs.Config, transport hypervisor.Transport, hw *Host, ctl *cache.Controller) (hypervisor.BackupConfig, error) {
	bc := hypervisor.BackupConfig{
		Interval: sim.Time(cfg.Backup.Interval), Suspend: sim.Time(cfg.Backup.Suspend),
		DrainCyclesPerEntry: cfg.Backup.DrainCyclesPerEntry, LineSize: uint64(cfg.Cache.LineSize), Verify: true,
	}
	if transport == nil {
		return bc, nil
	}
	// Checkpoints travel to the secondary host's memory.
	var err error
	if bc.Method, err = hypervisor.ParseMethod(cfg.HA.Method); err != nil {
		return bc, fmt.Errorf("ha.method: %w", err)
	}
	bc.Verify = cfg.HA.Verify
	if hw.L3 != nil {
		if bc.Reader, err = hw.DevicePort(sim.Freq(cfg.Host.Freq), ctl); err != nil {
			return bc, fmt.Errorf("backup: %w", err)
		}
	}
	bc.Link = &hypervisor.ReplicationConfig{CopyBytesPerSec: uint64(cfg.HA.CopyBandwidth), Transport: transport,
		ApplyBytesPerSec: uint64(cfg.HA.ApplyBandwidth), AckBytes: uint64(cfg.HA.AckBytes), MaxInFlight: cfg.HA.MaxInFlight}
	return bc, nil
}

func (h *backupHost) files() []outFile { return programFiles(h.programs) }

func (h *backupHost) failure() error {
	if h.runner != nil {
		return h.runner.failure()
	}
	return nil
}

func (h *backupHost) start() {
	for _, v := range h.vcpus {
		v.Start()
	}
	if h.runner != nil {
		h.runner.start()
	}
	if h.backup != nil {
		h.backup.Start()
	}
}

func (h *backupHost) stat(path, name string) float64 { return lookupValue(h.scope.Env(), path, name) }

// summary prints the bytes-per-checkpoint comparison and the log's health.
func (h *backupHost) summary(w io.Writer, r *Result) {
	cfg := h.cfg
	summaryHeader(w, r)
	programSummary(w, r.Env, h.programs)
	if h.backup == nil {
		fmt.Fprintln(w, "backup is disabled: no checkpoints were taken")
		return
	}
	bp := h.scope.Child("backup").Name()
	lg := h.ctl.Name()
	n := h.stat(bp, "checkpoints")
	fmt.Fprintf(w, "checkpoints: %.0f every %v (%.0f brought forward by log interrupts), mean pause %s\n",
		n, sim.Time(cfg.Backup.Interval), h.stat(bp, "early_checkpoints"), fmtTime(h.stat(bp, "pause.mean")))
	pauseBreakdown(w, h.scope.Env(), bp, cfg)
	bytesByMethod(w, h.scope.Env(), bp)
	entries := h.stat(lg, "entries")
	evict, scan := h.stat(lg, "evict_entries"), h.stat(lg, "scan_entries")
	share := 0.0
	if evict+scan > 0 {
		share = 100 * evict / (evict + scan)
	}
	fmt.Fprintf(w, "\nmodification log: %.0f entries (%.1f%% at eviction, %.1f%% at checkpoint scans), %s written, %.0f duplicates filtered\n",
		entries, share, 100-share, fmtBytes(h.stat(lg, "log_bytes")), h.stat(lg, "dedup_filtered"))
	fmt.Fprintf(w, "log overflows: %.0f (policy %s), entries dropped: %.0f\n",
		h.stat(lg, "overflows"), cfg.Backup.Overflow, h.stat(lg, "dropped"))
	mism := h.stat(bp, "image_mismatches")
	if mism == 0 {
		fmt.Fprintf(w, "backup image check: equal to the primary after all %.0f checkpoints\n", n)
	} else {
		fmt.Fprintf(w, "backup image check: DIFFERED from the primary after %.0f of %.0f checkpoints (log entries were lost)\n", mism, n)
	}
}

// bytesByMethod prints the bytes each method would replicate per
// checkpoint, beside the line log's.
func bytesByMethod(w io.Writer, env *sim.Env, bp string) {
	line := lookupValue(env, bp, "mean_bytes_line_log")
	fmt.Fprintf(w, "\n%-42s %12s %12s\n", "bytes to replicate per checkpoint (mean)", "bytes", "vs line log")
	for _, m := range []struct{ label, stat string }{
		{"image-modification line log", "mean_bytes_line_log"},
		{"page dirty tracking, 4 KiB", "mean_bytes_page_4k"},
		{"page dirty tracking, 64 KiB", "mean_bytes_page_64k"},
		{"full image copy", "mean_bytes_full_copy"},
	} {
		v := lookupValue(env, bp, m.stat)
		ratio := "-"
		if line > 0 {
			ratio = fmt.Sprintf("%.1fx", v/line)
		}
		fmt.Fprintf(w, "  %-40s %12s %12s\n", m.label, fmtBytes(v), ratio)
	}
}

// pauseBreakdown prints the mean checkpoint pause part by part, the
// program VMs' state and, with replication, the transfer.
func pauseBreakdown(w io.Writer, env *sim.Env, bp string, cfg configs.Config) {
	st := func(name string) float64 { return lookupValue(env, bp, name) }
	fmt.Fprintf(w, "pause (mean) %s: suspend %s + cache scan %s + log drain %s + copy %s",
		fmtTime(st("pause.mean")), fmtTime(float64(cfg.Backup.Suspend)), fmtTime(st("pause_scan.mean")),
		fmtTime(st("pause_drain.mean")), fmtTime(st("pause_copy.mean")))
	if n := st("transfer.count"); n > 0 {
		fmt.Fprintf(w, "; then transfer %s", fmtTime(st("transfer.mean")))
	}
	fmt.Fprintln(w)
	if s := st("ckpt_state_bytes.mean"); s > 0 {
		fmt.Fprintf(w, "program VMs' architectural and process state: %s per checkpoint (mean)\n", fmtBytes(s))
	}
}

func fmtBytes(v float64) string {
	switch {
	case v >= 1<<30:
		return fmt.Sprintf("%.2f GiB", v/(1<<30))
	case v >= 1<<20:
		return fmt.Sprintf("%.2f MiB", v/(1<<20))
	case v >= 1<<10:
		return fmt.Sprintf("%.1f KiB", v/(1<<10))
	}
	return fmt.Sprintf("%.0f B", v)
}

func fmtTime(ps float64) string {
	switch {
	case ps >= 1e9:
		return fmt.Sprintf("%.2fms", ps/1e9)
	case ps >= 1e6:
		return fmt.Sprintf("%.1fus", ps/1e6)
	}
	return fmt.Sprintf("%.0fns", ps/1e3)
}

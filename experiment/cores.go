package experiment

import (
	"fmt"
	"math/bits"

	"github.com/twinsim/twinsim/cache"
	"github.com/twinsim/twinsim/configs"
	"github.com/twinsim/twinsim/cpu"
	"github.com/twinsim/twinsim/dbt"
	"github.com/twinsim/twinsim/memory"
	"github.com/twinsim/twinsim/sim"
)

// TimedCore is one core of the timing mode: its timing model, whose loads
// and stores go through the data side (L1, L2, L3, DRAM and the data TLB)
// and whose instruction fetch goes through the instruction side (L1I, the
// same L2, L3 and DRAM, and the instruction TLB).
type TimedCore struct {
	Scope        sim.Scope // host0.coreN
	Index        int       // N
	Timing       cpu.Timing
	Data, Fetch  *cpu.PortTiming
	Levels       []string // the data side's cache levels, closest first (host0.core0.l1, ...)
	FetchLevel   string   // the L1I, or "" if it is disabled
	lineSize     uint64
	firmwareCost firmwareCost
	// OnContention, if set, takes the delays the weave feeds back to the
	// core (a synthetic vCPU keeps its own clock); otherwise the timing
	// model stalls for them.
	OnContention func(sim.Time)
	freq         sim.Freq
}

// contention is the weave's feedback to the core: d of queueing at the
// shared levels and DRAM.
func (tc *TimedCore) contention(d sim.Time) {
	if tc.OnContention != nil {
		tc.OnContention(d)
		return
	}
	tc.Timing.Stall(tc.freq.Cycles(d + tc.freq.CyclesToTime(1) - 1))
}

// firmwareCost is what the firmware charges, in cycles ([core]).
type firmwareCost struct{ translate, syscall, fault uint64 }

// CoreTimingConfig converts [core] into the timing model's configuration.
func CoreTimingConfig(k configs.CoreConfig) cpu.Config {
	return cpu.Config{Width: k.Width, Depth: k.PipelineDepth, ALU: k.ALU, Mul: k.Mul, Div: k.Div, FPAdd: k.FPAdd,
		FPMul: k.FPMul, FPDiv: k.FPDiv, Load: k.Load, ALUUnits: k.ALUUnits, MulUnits: k.MulUnits,
		DivUnits: k.DivUnits, FPUnits: k.FPUnits, FPDivUnits: k.FPDivUnits, MemPorts: k.MemPorts,
		ROB: k.ROB, LoadQueue: k.LoadQueue, StoreQueue: k.StoreQueue, RenameRegs: k.RenameRegs,
		IssueQueue: k.IssueQueue, IssueWidth: k.IssueWidth, PerfectDisambiguation: k.MemDependence == "perfect"}
}

// Host is the processor side of one simulated host, built from [host],
// [core], [cache], [tlb] and [dram]: cores with private L1, L1I and L2
// caches and data and instruction TLBs, one shared L3 and DRAM. With a
// cache controller (the image-modification log) every level a store
// writes registers with it, so that flagged lines are logged on
// eviction and scanned at checkpoints; the L1I, which stores never write,
// does not.
type Host struct {
	Scope sim.Scope // host0
	DRAM  *memory.DRAM
	L3    *cache.Cache // nil when [cache.l3] is disabled
	Cores []*TimedCore
	// Dir keeps the private levels coherent (nil: cache.coherence.protocol
	// is none); Weave orders the shared levels' accesses in time (nil:
	// host.contention is call-order).
	Dir   *cache.Directory
	Weave *cache.Weave
}

// DevicePort returns a path for a device or the hypervisor's own copies
// through the shared L3 (if there is one) to DRAM: coherent with the cores' caches, its
// accesses replayed in time order with theirs (nobody's clock is delayed
// by them: a device's timing is its own).
func (h *Host) DevicePort(freq sim.Freq, ctl *cache.Controller) (*cache.Port, error) {
	var levels []*cache.Cache
	if h.L3 != nil {
		levels = append(levels, h.L3)
	}
	p, err := cache.NewPort(freq, levels, h.DRAM, ctl)
	if err != nil {
		return nil, err
	}
	if err := p.Attach(h.Dir, nil, h.Weave, -1); err != nil {
		return nil, err
	}
	return p, nil
}

// directoryConfig is [cache.coherence]'s directory for n cores: entries
// 0 means twice the lines of every core's private levels, rounded up to
// the ways times a power of two.
func directoryConfig(cfg configs.Config, n int) cache.DirectoryConfig {
	co := cfg.Cache.Coherence
	entries := co.DirectoryEntries
	if entries == 0 {
		var lines uint64
		for _, l := range []configs.CacheLevel{cfg.Cache.L1, cfg.Cache.L1I, cfg.Cache.L2} {
			if l.Enabled {
				lines += uint64(l.Size) / uint64(cfg.Cache.LineSize)
			}
		}
		sets := max(2*lines*uint64(n)/uint64(co.DirectoryWays), 1)
		entries = int(uint64(1)<<bits.Len64(sets-1)) * co.DirectoryWays
	}
	return cache.DirectoryConfig{Entries: entries, Ways: co.DirectoryWays, Latency: co.DirectoryLatency,
		HopCycles: co.HopLatency}
}

// NewHost builds host scope's processor side with n cores; ctl may be nil
// (no image-modification log).
func NewHost(scope sim.Scope, cfg configs.Config, n int, ctl *cache.Controller) (*Host, error) {
	h := &Host{Scope: scope}
	lineSize := uint64(cfg.Cache.LineSize)
	freq := sim.Freq(cfg.Host.Freq)
	threads := ctl != nil && cfg.Backup.ThreadIDs
	var err error
	if h.DRAM, err = newDRAM(scope.Child("dram"), cfg.DRAM); err != nil {
		return nil, err
	}
	// level builds one cache level; logged levels join the controller.
	level := func(s sim.Scope, key string, l configs.CacheLevel, logged bool) (*cache.Cache, error) {
		if !l.Enabled {
			return nil, nil
		}
		c, err := newLevel(s, l, key, lineSize, threads)
		if err != nil {
			return nil, err
		}
		if logged && ctl != nil {
			ctl.AddCache(c)
		}
		return c, nil
	}
	if h.L3, err = level(scope.Child("l3"), "cache.l3", cfg.Cache.L3, true); err != nil {
		return nil, err
	}
	if cfg.Cache.Coherence.Protocol == "mesi" {
		if h.Dir, err = cache.NewDirectory(scope.Child("directory"), directoryConfig(cfg, n), lineSize); err != nil {
			return nil, fmt.Errorf("cache.coherence: %w", err)
		}
	}
	if cfg.Host.Contention == "time-order" {
		if h.Weave, err = cache.NewWeave(scope.Child("weave"), sim.Time(cfg.Host.Quantum)); err != nil {
			return nil, fmt.Errorf("host.contention: %w", err)
		}
	}
	for c := range n {
		core := scope.Child(fmt.Sprintf("core%d", c))
		l1, err := level(core.Child("l1"), "cache.l1", cfg.Cache.L1, true)
		if err != nil {
			return nil, err
		}
		l1i, err := level(core.Child("l1i"), "cache.l1i", cfg.Cache.L1I, false)
		if err != nil {
			return nil, err
		}
		l2, err := level(core.Child("l2"), "cache.l2", cfg.Cache.L2, true)
		if err != nil {
			return nil, err
		}
		tc := &TimedCore{Scope: core, Index: c, lineSize: lineSize, freq: freq, firmwareCost: firmwareCost{cfg.Core.TranslateCycles,
			cfg.Core.SyscallCycles, cfg.Core.FaultCycles}}
		var agent *cache.Agent
		if h.Dir != nil {
			var own []*cache.Cache
			for _, l := range []*cache.Cache{l1, l1i, l2} {
				if l != nil {
					own = append(own, l)
				}
			}
			if agent, err = h.Dir.NewAgent(own...); err != nil {
				return nil, err
			}
		}
		weaveID := -1
		if h.Weave != nil {
			weaveID = h.Weave.NewAgent(tc.contention)
		}
		side := func(first *cache.Cache, tlbName string) (*cpu.PortTiming, error) {
			var levels []*cache.Cache
			for _, l := range []*cache.Cache{first, l2, h.L3} {
				if l != nil {
					levels = append(levels, l)
				}
			}
			port, err := cache.NewPort(freq, levels, h.DRAM, ctl)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", core.Name(), err)
			}
			if err := port.Attach(h.Dir, agent, h.Weave, weaveID); err != nil {
				return nil, fmt.Errorf("%s: %w", core.Name(), err)
			}
			tlb, err := memory.NewTLB(core.Child(tlbName), cfg.TLB.Entries, cfg.TLB.Ways, uint64(cfg.Host.PageSize))
			if err != nil {
				return nil, fmt.Errorf("tlb: %w", err)
			}
			return &cpu.PortTiming{Port: port, Freq: freq, VM: 1, Thread: uint16(c), TLB: tlb,
				WalkCycles: cfg.TLB.WalkLatency, WalkLevels: cfg.TLB.WalkLevels}, nil
		}
		if tc.Data, err = side(l1, "dtlb"); err != nil {
			return nil, err
		}
		if tc.Fetch, err = side(l1i, "itlb"); err != nil {
			return nil, err
		}
		tc.Fetch.Walker = tc.Data.Port // the walker reads the page table through the data side
		for _, l := range tc.Data.Port.Levels() {
			tc.Levels = append(tc.Levels, l.Name())
		}
		if l1i != nil {
			tc.FetchLevel = l1i.Name()
		}
		pred, err := cpu.NewPredictor(cfg.Core.Predictor)
		if err != nil {
			return nil, fmt.Errorf("core.predictor: %w", err)
		}
		if tc.Timing, err = cpu.NewTiming(cfg.Core.Model, CoreTimingConfig(cfg.Core), pred); err != nil {
			return nil, fmt.Errorf("core: %w", err)
		}
		tc.Timing.SetMemory(tc.Data)
		tc.Timing.SetFetch(tc.Fetch, lineSize)
		h.Cores = append(h.Cores, tc)
	}
	return h, nil
}

// NewTimedCores builds n cores of host0 without an image-modification log
// (NewHost), as the exec scenario and `twinsim exec` run programs on.
func NewTimedCores(env *sim.Env, cfg configs.Config, n int) ([]*TimedCore, error) {
	h, err := NewHost(env.Scope("host0"), cfg, n, nil)
	if err != nil {
		return nil, err
	}
	return h.Cores, nil
}

// MachineConfig returns the translator's configuration for running a guest
// on this core: cfg's host page size, clock and [translator], the core's
// timing model and the firmware costs of [core].
func (tc *TimedCore) MachineConfig(cfg configs.Config) (dbt.MachineConfig, error) {
	mc, err := FunctionalMachineConfig(cfg)
	mc.Timing = tc.Timing
	mc.TranslateCycles, mc.SyscallCycles, mc.FaultCycles = tc.firmwareCost.translate, tc.firmwareCost.syscall, tc.firmwareCost.fault
	return mc, err
}

// FunctionalMachineConfig returns the translator's configuration for
// functional mode: cfg's host page size, clock and [translator].
func FunctionalMachineConfig(cfg configs.Config) (dbt.MachineConfig, error) {
	st, err := dbt.ParseStrategy(cfg.Translator.Strategy)
	if err != nil {
		return dbt.MachineConfig{}, fmt.Errorf("translator.strategy: %w", err)
	}
	return dbt.MachineConfig{HostPageSize: uint64(cfg.Host.PageSize), Freq: sim.Freq(cfg.Host.Freq), Strategy: st,
		RegenThreshold: cfg.Translator.RegenThreshold, ScatterPages: cfg.Host.PagePlacement == "scattered", ScatterSeed: cfg.Run.Seed}, nil
}

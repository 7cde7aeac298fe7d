package experiment

import (
	"fmt"

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
	Timing       cpu.Timing
	Data, Fetch  *cpu.PortTiming
	Levels       []string // the data side's cache levels, closest first (host0.core0.l1, ...)
	FetchLevel   string   // the L1I, or "" if it is disabled
	lineSize     uint64
	firmwareCost firmwareCost
}

// firmwareCost is what the firmware charges, in cycles ([core]).
type firmwareCost struct{ translate, syscall, fault uint64 }

// CoreTimingConfig converts [core] into the timing model's configuration.
func CoreTimingConfig(k configs.CoreConfig) cpu.Config {
	return cpu.Config{Width: k.Width, Depth: k.PipelineDepth, ALU: k.ALU, Mul: k.Mul, Div: k.Div, FPAdd: k.FPAdd,
		FPMul: k.FPMul, FPDiv: k.FPDiv, Load: k.Load, ALUUnits: k.ALUUnits, MulUnits: k.MulUnits,
		DivUnits: k.DivUnits, FPUnits: k.FPUnits, FPDivUnits: k.FPDivUnits, MemPorts: k.MemPorts,
		ROB: k.ROB, LoadQueue: k.LoadQueue, StoreQueue: k.StoreQueue, RenameRegs: k.RenameRegs}
}

// NewTimedCores builds n cores of host0 as cfg describes them ([core],
// [cache], [tlb], [dram], host.freq and host.page_size): private L1, L1I
// and L2 each, one shared L3 and DRAM, statistics under host0.coreN and
// host0.
func NewTimedCores(env *sim.Env, cfg configs.Config, n int) ([]*TimedCore, error) {
	host := env.Scope("host0")
	lineSize := uint64(cfg.Cache.LineSize)
	freq := sim.Freq(cfg.Host.Freq)
	dram, err := newDRAM(host.Child("dram"), cfg.DRAM)
	if err != nil {
		return nil, err
	}
	var l3 *cache.Cache
	if cfg.Cache.L3.Enabled {
		if l3, err = newLevel(host.Child("l3"), cfg.Cache.L3, "cache.l3", lineSize, false); err != nil {
			return nil, err
		}
	}
	var cores []*TimedCore
	for c := range n {
		scope := host.Child(fmt.Sprintf("core%d", c))
		level := func(name string, l configs.CacheLevel) (*cache.Cache, error) {
			if !l.Enabled {
				return nil, nil
			}
			return newLevel(scope.Child(name), l, "cache."+name, lineSize, false)
		}
		l1, err := level("l1", cfg.Cache.L1)
		if err != nil {
			return nil, err
		}
		l1i, err := level("l1i", cfg.Cache.L1I)
		if err != nil {
			return nil, err
		}
		l2, err := level("l2", cfg.Cache.L2)
		if err != nil {
			return nil, err
		}
		side := func(first *cache.Cache, tlbName string) (*cpu.PortTiming, error) {
			var levels []*cache.Cache
			for _, l := range []*cache.Cache{first, l2, l3} {
				if l != nil {
					levels = append(levels, l)
				}
			}
			port, err := cache.NewPort(freq, levels, dram, nil)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", scope.Name(), err)
			}
			tlb, err := memory.NewTLB(scope.Child(tlbName), cfg.TLB.Entries, cfg.TLB.Ways, uint64(cfg.Host.PageSize))
			if err != nil {
				return nil, fmt.Errorf("tlb: %w", err)
			}
			return &cpu.PortTiming{Port: port, Freq: freq, VM: 1, TLB: tlb, WalkCycles: cfg.TLB.WalkLatency,
				WalkLevels: cfg.TLB.WalkLevels}, nil
		}
		tc := &TimedCore{Scope: scope, lineSize: lineSize, firmwareCost: firmwareCost{cfg.Core.TranslateCycles,
			cfg.Core.SyscallCycles, cfg.Core.FaultCycles}}
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
		cores = append(cores, tc)
	}
	return cores, nil
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
		RegenThreshold: cfg.Translator.RegenThreshold}, nil
}

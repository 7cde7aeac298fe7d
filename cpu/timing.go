package cpu

import (
	"fmt"

	"github.com/twinsim/twinsim/cache"
	"github.com/twinsim/twinsim/memory"
	"github.com/twinsim/twinsim/sim"
)

// MemoryTiming gives the timing model the latency of data accesses.
type MemoryTiming interface {
	// Access performs a load or store of the line holding addr issued at
	// cycle and returns its latency in cycles (for a store, the time its
	// write is accepted).
	Access(addr uint64, write bool, cycle uint64) uint64
}

// PortTiming times data accesses through a cache hierarchy (a cache.Port
// with its levels and DRAM), converting between cycles at Freq and the
// hierarchy's picoseconds.
type PortTiming struct {
	Port *cache.Port
	Freq sim.Freq
	VM   uint16 // owner recorded in the cache rows
	// TLB, if set, is the data TLB: a miss costs WalkCycles (the page walk)
	// before the cache access. Guest memory is identity-mapped, so the
	// entries only stand for the walks saved.
	TLB        *memory.TLB
	WalkCycles uint64
	// Walks counts TLB misses; WalkTotal the cycles they cost.
	Walks, WalkTotal uint64
}

// Access implements MemoryTiming.
func (p *PortTiming) Access(addr uint64, write bool, cycle uint64) uint64 {
	var walk uint64
	if p.TLB != nil {
		if _, hit := p.TLB.Lookup(addr); !hit {
			walk = p.WalkCycles
			p.Walks++
			p.WalkTotal += walk
			p.TLB.Insert(addr, memory.PTE{PA: addr &^ (p.TLB.PageSize() - 1), Perm: memory.PermRead | memory.PermWrite})
		}
	}
	now := p.Freq.CyclesToTime(cycle + walk)
	done := p.Port.Access(now, cache.Access{Addr: addr, Write: write, Mode: cache.Guest, VM: p.VM})
	return walk + max(1, p.Freq.Cycles(done-now+p.Freq.CyclesToTime(1)-1))
}

// InOrderConfig is an in-order core's timing: how many instructions issue
// per cycle, the latency of each functional-unit class in cycles, and the
// cost of a mispredicted branch.
type InOrderConfig struct {
	Width             int    `toml:"width"`              // instructions issued per cycle, 1..4
	ALU               uint64 `toml:"alu"`                // integer arithmetic, logic, shifts, moves
	Mul               uint64 `toml:"mul"`                // integer multiply (pipelined)
	Div               uint64 `toml:"div"`                // integer divide and remainder (not pipelined)
	FPAdd             uint64 `toml:"fp_add"`             // FP add, subtract, conversions, compares, min/max, sign injection
	FPMul             uint64 `toml:"fp_mul"`             // FP multiply and fused multiply-add
	FPDiv             uint64 `toml:"fp_div"`             // FP divide and square root (not pipelined)
	Load              uint64 `toml:"load"`               // load-to-use latency of an L1 hit
	MemPorts          int    `toml:"mem_ports"`          // loads and stores issued per cycle
	MispredictPenalty uint64 `toml:"mispredict_penalty"` // cycles lost when a conditional branch is mispredicted
}

// DefaultInOrderConfig is a 2-wide in-order core in the style of an Arm
// Cortex-A53 or SiFive U74.
func DefaultInOrderConfig() InOrderConfig {
	return InOrderConfig{Width: 2, ALU: 1, Mul: 3, Div: 20, FPAdd: 4, FPMul: 5, FPDiv: 20, Load: 2, MemPorts: 1,
		MispredictPenalty: 7}
}

// Validate names the first value out of range.
func (c InOrderConfig) Validate() error {
	switch {
	case c.Width < 1 || c.Width > 4:
		return fmt.Errorf("width %d is not allowed; must be 1..4", c.Width)
	case c.MemPorts < 1 || c.MemPorts > c.Width:
		return fmt.Errorf("mem_ports %d is not allowed; must be 1..width (%d)", c.MemPorts, c.Width)
	case c.ALU < 1 || c.Mul < 1 || c.Div < 1 || c.FPAdd < 1 || c.FPMul < 1 || c.FPDiv < 1 || c.Load < 1:
		return fmt.Errorf("every latency must be at least 1 cycle")
	case c.MispredictPenalty > 1000:
		return fmt.Errorf("mispredict_penalty %d is not allowed; must be 0..1000", c.MispredictPenalty)
	}
	return nil
}

// unit classes
const (
	uALU = iota
	uMul
	uDiv
	uFPAdd
	uFPMul
	uFPDiv
	uLoad
	uStore
	uBranch
	uNone // exits and firmware calls: a slot, no result
)

// noReg marks an unused operand slot in the scoreboard.
const noReg = 0xff

// InOrder is the timing model of an in-order core: a scoreboard of register
// ready times, an issue width, functional-unit latencies (dividers not
// pipelined), memory ports, and a conditional-branch predictor whose
// mispredictions stall the front end. The functional core drives it one
// executed host instruction at a time (Core.SetTimer), so the timing
// follows exactly the path the program took.
//
// Statistics: Cycles (call Finish first), Insts, and the cycles lost to
// each cause — Dependence (waiting for an operand; MemoryStall the part
// waiting for loads), Structural (a busy divider or memory port),
// Mispredict and FirmwareCycles; the rest is base time (CPIStack).
type InOrder struct {
	cfg   InOrderConfig
	pred  Predictor
	ready [NumRegs + 32]uint64 // cycle each register's value is available; F registers after X
	// fromMem[r] says r's value comes from a load, so waiting for it is
	// memory time in the CPI stack.
	fromMem [NumRegs + 32]bool
	cycle   uint64       // the cycle instructions are issuing in
	slots   int          // instructions issued in cycle
	memOps  int          // memory operations issued in cycle
	div     uint64       // integer divider free from this cycle
	fdiv    uint64       // FP divider free from this cycle
	last    uint64       // latest result-ready cycle, for Finish
	mem     MemoryTiming // nil: every load takes cfg.Load

	Insts, Cycles                      uint64
	Dependence, Structural, Mispredict uint64
	Branches, Mispredicts              uint64
	// MemoryCycles is the latency loads took beyond an L1 hit (cfg.Load),
	// summed; Loads and Stores count the accesses timed.
	MemoryCycles, Loads, Stores uint64
	// FirmwareCycles were spent in firmware (see Firmware).
	FirmwareCycles uint64
	// MemoryStall is the part of Dependence spent waiting for loads.
	MemoryStall uint64
}

// CPIStack divides the cycles (after Finish) among their causes, in
// cycles per instruction: base (issuing, including full issue groups),
// waiting for loads (memory), waiting for other results (dependence),
// busy units or ports (structural), mispredicted branches and firmware.
// The parts add up to Cycles / Insts.
func (t *InOrder) CPIStack() map[string]float64 {
	if t.Insts == 0 {
		return map[string]float64{}
	}
	n := float64(t.Insts)
	lost := t.Dependence + t.Structural + t.Mispredict + t.FirmwareCycles
	base := float64(0)
	if t.Cycles > lost {
		base = float64(t.Cycles - lost)
	}
	return map[string]float64{
		"base": base / n, "memory": float64(t.MemoryStall) / n, "dependence": float64(t.Dependence-t.MemoryStall) / n,
		"structural": float64(t.Structural) / n, "branch": float64(t.Mispredict) / n, "firmware": float64(t.FirmwareCycles) / n,
	}
}

// SetMemory makes loads and stores take the latency m reports (nil: every
// load hits, taking cfg.Load).
func (t *InOrder) SetMemory(m MemoryTiming) { t.mem = m }

// NewInOrder returns an idle in-order timing model with predictor pred
// for conditional branches.
func NewInOrder(cfg InOrderConfig, pred Predictor) (*InOrder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("in-order core: %w", err)
	}
	if pred == nil {
		return nil, fmt.Errorf("in-order core: no branch predictor")
	}
	return &InOrder{cfg: cfg, pred: pred}, nil
}

// Predictor returns the branch predictor.
func (t *InOrder) Predictor() Predictor { return t.pred }

// operands returns in's unit class, its source registers and its
// destination (scoreboard indices; F registers are NumRegs + n).
func operands(in *Inst) (unit int, s1, s2, s3, d uint8) {
	s1, s2, s3, d = noReg, noReg, noReg, noReg
	x := func(r uint8) uint8 {
		if r == 0 {
			return noReg // x0 is always ready and never written
		}
		return r
	}
	f := func(r uint8) uint8 { return NumRegs + r&31 }
	switch op := in.Op; {
	case op >= Add && op <= Remuw:
		unit, s1, s2, d = uALU, x(in.Rs1), x(in.Rs2), x(in.Rd)
		switch op {
		case Mul, Mulh, Mulhsu, Mulhu, Mulw:
			unit = uMul
		case Div, Divu, Rem, Remu, Divw, Divuw, Remw, Remuw:
			unit = uDiv
		}
	case op >= Addi && op <= Li:
		unit, s1, d = uALU, x(in.Rs1), x(in.Rd)
		if op == Li {
			s1 = noReg
		}
	case op >= Lb && op <= Lwu:
		unit, s1, d = uLoad, x(in.Rs1), x(in.Rd)
	case op >= Sb && op <= Sd:
		unit, s1, s2 = uStore, x(in.Rs1), x(in.Rs2)
	case op >= LrW && op <= AmoMaxuD:
		unit, s1, s2, d = uLoad, x(in.Rs1), x(in.Rs2), x(in.Rd)
	case op >= Beq && op <= Bgeu:
		unit, s1, s2 = uBranch, x(in.Rs1), x(in.Rs2)
	case op == LeaveReg:
		unit, s1 = uBranch, x(in.Rs1)
	case op == Flw || op == Fld:
		unit, s1, d = uLoad, x(in.Rs1), f(in.Rd)
	case op == Fsw || op == Fsd:
		unit, s1, s2 = uStore, x(in.Rs1), f(in.Rs2)
	case op == FmvXW || op == FmvXD:
		unit, s1, d = uALU, f(in.Rs1), x(in.Rd)
	case op == FmvWX || op == FmvDX:
		unit, s1, d = uALU, x(in.Rs1), f(in.Rd)
	case op >= CsrRW && op <= CsrRC:
		unit, s1, d = uALU, x(in.Rs1), x(in.Rd)
	case op == Fp:
		fop, _, rs3, _ := fpFields(in.Imm)
		unit, s1, s2, d = uFPAdd, f(in.Rs1), f(in.Rs2), f(in.Rd)
		switch fop {
		case FMul:
			unit = uFPMul
		case FMadd, FMsub, FNmsub, FNmadd:
			unit, s3 = uFPMul, f(rs3)
		case FDiv, FSqrt:
			unit = uFPDiv
		case FEq, FLt, FLe, FClass, FCvtW, FCvtWU, FCvtL, FCvtLU:
			d = x(in.Rd)
		case FCvtFromW, FCvtFromWU, FCvtFromL, FCvtFromLU:
			s1, s2 = x(in.Rs1), noReg
		}
		if fop == FSqrt || fop >= FClass { // one source
			s2 = noReg
		}
	default:
		unit = uNone
	}
	return unit, s1, s2, s3, d
}

func (t *InOrder) latency(unit int) uint64 {
	switch unit {
	case uMul:
		return t.cfg.Mul
	case uDiv:
		return t.cfg.Div
	case uFPAdd:
		return t.cfg.FPAdd
	case uFPMul:
		return t.cfg.FPMul
	case uFPDiv:
		return t.cfg.FPDiv
	case uLoad:
		return t.cfg.Load
	}
	return t.cfg.ALU
}

// step issues one executed instruction; x holds the registers as the
// instruction reads them (for its effective address).
func (t *InOrder) step(in *Inst, x *[NumRegs]uint64) {
	t.Insts++
	unit, s1, s2, s3, d := operands(in)
	// The issue cycle: the next free slot, then operands, then units.
	slot := t.cycle
	if t.slots >= t.cfg.Width {
		slot++ // the issue group is full: the next cycle (base time)
	}
	dep, from := slot, uint8(noReg)
	for _, s := range [3]uint8{s1, s2, s3} {
		if s != noReg && t.ready[s] > dep {
			dep, from = t.ready[s], s
		}
	}
	issue := dep
	switch unit {
	case uDiv:
		issue = max(issue, t.div)
	case uFPDiv:
		issue = max(issue, t.fdiv)
	case uLoad, uStore:
		if issue == t.cycle && t.memOps >= t.cfg.MemPorts {
			issue++
		}
	}
	// Cycles in which nothing issues before this instruction: from the
	// slot it could have had up to its issue cycle, except the current
	// cycle when something already issued in it (that cycle is base time).
	empty := issue - slot
	if slot == t.cycle && t.slots > 0 && empty > 0 {
		empty--
	}
	if empty > 0 {
		structural := min(issue-dep, empty)
		t.Structural += structural
		t.Dependence += empty - structural
		if from != noReg && t.fromMem[from] {
			t.MemoryStall += empty - structural
		}
	}
	if issue != t.cycle {
		t.cycle, t.slots, t.memOps = issue, 0, 0
	}
	t.slots++
	lat := t.latency(unit)
	switch unit {
	case uDiv:
		t.div = issue + lat
	case uFPDiv:
		t.fdiv = issue + lat
	case uLoad, uStore:
		t.memOps++
		if t.mem != nil {
			va := x[in.Rs1]
			if in.Op < LrW || in.Op > AmoMaxuD {
				va += uint64(in.Imm)
			}
			if unit == uLoad {
				t.Loads++
				lat = max(lat, t.mem.Access(va, in.Op >= LrW && in.Op <= AmoMaxuD && in.Op != LrW && in.Op != LrD, issue))
				t.MemoryCycles += lat - t.cfg.Load
			} else {
				t.Stores++
				t.mem.Access(va, true, issue) // a store buffer hides its latency
			}
		}
	}
	if d != noReg {
		t.ready[d] = issue + lat
		t.fromMem[d] = unit == uLoad
	}
	t.last = max(t.last, issue+lat)
}

// branch records the outcome of the conditional branch just issued at pc
// (any stable identifier of the static branch): a misprediction stops
// issue until the branch resolves and the penalty has passed.
func (t *InOrder) branch(pc uint64, taken bool) {
	t.Branches++
	if t.pred.Predict(pc) != taken {
		t.Mispredicts++
		// The branch resolves a cycle after issue (base time); the penalty
		// is the refill after it.
		resume := t.cycle + 1 + t.cfg.MispredictPenalty
		t.Mispredict += t.cfg.MispredictPenalty
		t.cycle, t.slots, t.memOps = resume, 0, 0
	}
	t.pred.Update(pc, taken)
}

// Firmware charges cycles the core spends in firmware (translating,
// emulating a system call, handling a fault): nothing issues meanwhile.
func (t *InOrder) Firmware(cycles uint64) {
	if cycles == 0 {
		return
	}
	if t.slots > 0 {
		t.cycle++ // the cycle in progress ends first: it is base time
	}
	t.cycle += cycles
	t.slots, t.memOps = 0, 0
	t.FirmwareCycles += cycles
}

// Now returns the cycle instructions are issuing in.
func (t *InOrder) Now() uint64 { return t.cycle }

// Finish returns the cycles taken so far: until the last result is ready.
func (t *InOrder) Finish() uint64 {
	t.Cycles = max(t.cycle+1, t.last)
	return t.Cycles
}

// NewPredictor returns a conditional-branch predictor by its configuration
// name — "bimodal", "gshare", "tage" or "always-taken" — with its default
// sizes.
func NewPredictor(name string) (Predictor, error) {
	switch name {
	case "bimodal":
		return NewBimodal(DefaultBimodalConfig())
	case "gshare":
		return NewGshare(DefaultGshareConfig())
	case "tage":
		return NewTAGE(DefaultTAGEConfig())
	case "always-taken":
		return NewStatic(StaticConfig{Rule: AlwaysTaken})
	}
	return nil, fmt.Errorf("unknown branch predictor %q; must be one of bimodal, gshare, tage, always-taken", name)
}

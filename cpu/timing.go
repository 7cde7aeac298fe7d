package cpu

import (
	"fmt"
	"math"
	"math/bits"
	"strings"

	"github.com/twinsim/twinsim/cache"
	"github.com/twinsim/twinsim/memory"
	"github.com/twinsim/twinsim/sim"
)

// Timing is a cycle-level core model. The functional core drives it one
// executed host instruction at a time (Core.SetTimer), so the timing
// follows exactly the path the program took; the two models are
// InOrder and OutOfOrder.
type Timing interface {
	// Firmware charges cycles the core spends in firmware (translating,
	// emulating a system call, handling a fault): the pipeline drains and
	// nothing else runs meanwhile.
	Firmware(cycles uint64)
	// Now returns the cycle the front end has reached: the core's notion
	// of the present (the guest's clocks read it).
	Now() uint64
	// Finish returns the cycles taken so far, until the last instruction
	// completes, and records them in Stats.
	Finish() uint64
	// Stats returns the model's counts (Cycles as of the last Finish).
	Stats() *TimingStats
	// SetMemory makes loads and stores take the latency m reports (nil:
	// every load hits, taking the load latency).
	SetMemory(m MemoryTiming)
	// SetFetch makes instruction fetch go through m, one access per line
	// of lineBytes (nil: fetch always hits); fetch is a line a cycle.
	SetFetch(m MemoryTiming, lineBytes uint64)
	// Predictor returns the conditional-branch predictor.
	Predictor() Predictor
	// Idle lets cycles pass in which the core runs none of the guest's
	// instructions (its VM is paused for a checkpoint, or another VM has
	// the core): the pipeline drains and the front end resumes after
	// them, charged to the CPI stack's idle row.
	Idle(cycles uint64)
	// FirmwareWrite writes n bytes at addr through the data memory, as the
	// firmware does when it emits translated code (which instruction
	// fetch then finds in the shared levels), in the hypervisor's
	// privilege mode when the memory tells modes apart
	// (FirmwareMemory). Its time is part of the firmware's cost.
	FirmwareWrite(addr, n uint64)
	// Stall stops the core for cycles at its present, charged to the CPI
	// stack's contention row: the delay its accesses met at shared levels
	// and DRAM, found when they were replayed in time order (the weave).
	Stall(cycles uint64)
	// GuestAccess reads or writes n bytes at addr through the data
	// memory on the guest's behalf, as the firmware does when it completes
	// a system call's transfer into guest memory: in the guest's mode, so
	// that a store sets the image-modification flag of every line it
	// touches. The firmware issues a line a cycle and goes on when the
	// last access is done: firmware time.
	GuestAccess(addr, n uint64, write bool)

	// step times one instruction at host address pc; x holds the
	// registers as the instruction reads them.
	step(in *Inst, x *[NumRegs]uint64, pc uint64)
	// branch records the outcome of the conditional branch just stepped.
	branch(pc uint64, taken bool)
	// leave records a block exit just stepped (Leave or LeaveReg) that
	// goes to guest address target.
	leave(in *Inst, x *[NumRegs]uint64, pc, target uint64)
}

// Config is a core's timing: the model, issue width and pipeline depth,
// functional-unit latencies and counts, and (out of order) the window
// sizes. Latencies are in cycles.
type Config struct {
	Width int    // instructions fetched, issued and retired per cycle, 1..8
	Depth uint64 // front-end stages between fetch and execute: what a mispredicted branch or jump costs
	// Functional-unit latencies.
	ALU   uint64 // integer arithmetic, logic, shifts, moves, branches
	Mul   uint64 // integer multiply (pipelined)
	Div   uint64 // integer divide and remainder (not pipelined)
	FPAdd uint64 // FP add, subtract, conversions, compares, min/max, sign injection
	FPMul uint64 // FP multiply and fused multiply-add
	FPDiv uint64 // FP divide and square root (not pipelined)
	Load  uint64 // load-to-use latency of an L1 hit
	// Functional-unit counts: how many instructions of each class can
	// start per cycle (dividers: how many divisions can be in progress).
	ALUUnits, MulUnits, DivUnits, FPUnits, FPDivUnits, MemPorts int
	// Out of order only: reorder buffer and load queue entries, and
	// physical registers beyond the architectural ones.
	ROB, LoadQueue, RenameRegs int
	// StoreQueue is the store queue (out of order) or store buffer (in
	// order): stores in it until they have written the cache.
	StoreQueue int
	// Out of order only: IssueQueue is the scheduler's entries (an
	// instruction holds one from dispatch until it issues); IssueWidth how
	// many instructions issue to the units per cycle, all classes
	// together; PerfectDisambiguation makes every load know the addresses
	// of the older stores (the idealisation), where otherwise a load
	// predicted independent (store sets) issues past an older store whose
	// address is unknown and is replayed if they overlap.
	IssueQueue, IssueWidth int
	PerfectDisambiguation  bool
}

// DefaultInOrderConfig is a 2-wide in-order core in the style of an Arm
// Cortex-A53 or SiFive U74.
func DefaultInOrderConfig() Config {
	return Config{Width: 2, Depth: 7, ALU: 1, Mul: 3, Div: 20, FPAdd: 4, FPMul: 5, FPDiv: 20, Load: 2,
		ALUUnits: 2, MulUnits: 1, DivUnits: 1, FPUnits: 2, FPDivUnits: 1, MemPorts: 1,
		ROB: 128, LoadQueue: 48, StoreQueue: 32, RenameRegs: 128}
}

// DefaultOutOfOrderConfig is a 4-wide out-of-order core with a 128-entry
// reorder buffer, in the style of ZSim's Westmere model.
func DefaultOutOfOrderConfig() Config {
	return Config{Width: 4, Depth: 14, ALU: 1, Mul: 3, Div: 20, FPAdd: 3, FPMul: 5, FPDiv: 20, Load: 4,
		ALUUnits: 3, MulUnits: 1, DivUnits: 1, FPUnits: 2, FPDivUnits: 1, MemPorts: 2,
		ROB: 128, LoadQueue: 48, StoreQueue: 32, RenameRegs: 128, IssueQueue: 36, IssueWidth: 6}
}

// Validate names the first value out of range by its [core] key.
func (c Config) Validate(outOfOrder bool) error {
	lat := []struct {
		key string
		v   uint64
	}{{"alu_latency", c.ALU}, {"mul_latency", c.Mul}, {"div_latency", c.Div}, {"fp_add_latency", c.FPAdd},
		{"fp_mul_latency", c.FPMul}, {"fp_div_latency", c.FPDiv}, {"load_latency", c.Load}}
	units := []struct {
		key string
		v   int
	}{{"alu_units", c.ALUUnits}, {"mul_units", c.MulUnits}, {"div_units", c.DivUnits}, {"fp_units", c.FPUnits},
		{"fp_div_units", c.FPDivUnits}, {"mem_ports", c.MemPorts}}
	switch {
	case c.Width < 1 || c.Width > 8:
		return fmt.Errorf("width %d is not allowed; must be 1..8", c.Width)
	case c.Depth > 1000:
		return fmt.Errorf("pipeline_depth %d is not allowed; must be 0..1000", c.Depth)
	}
	for _, l := range lat {
		if l.v < 1 || l.v > 1000 {
			return fmt.Errorf("%s %d is not allowed; must be 1..1000 cycles", l.key, l.v)
		}
	}
	for _, u := range units {
		if u.v < 1 || u.v > 8 {
			return fmt.Errorf("%s %d is not allowed; must be 1..8", u.key, u.v)
		}
	}
	for _, w := range []struct {
		key string
		v   int
	}{{"store_queue", c.StoreQueue}, {"rob_size", c.ROB}, {"load_queue", c.LoadQueue}, {"rename_regs", c.RenameRegs},
		{"issue_queue", c.IssueQueue}} {
		if w.key == "store_queue" || outOfOrder {
			if w.v < c.Width || w.v > 4096 {
				return fmt.Errorf("%s %d is not allowed; must be width (%d)..4096", w.key, w.v, c.Width)
			}
		}
	}
	if outOfOrder && (c.IssueWidth < 1 || c.IssueWidth > 16) {
		return fmt.Errorf("issue_width %d is not allowed; must be 1..16", c.IssueWidth)
	}
	return nil
}

// latency returns the latency of unit class u.
func (c *Config) latency(u int) uint64 {
	switch u {
	case uMul:
		return c.Mul
	case uDiv:
		return c.Div
	case uFPAdd:
		return c.FPAdd
	case uFPMul:
		return c.FPMul
	case uFPDiv:
		return c.FPDiv
	case uLoad:
		return c.Load
	}
	return c.ALU
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

// pool returns the pool of units class u starts on, and how many cycles
// it occupies one: pipelined classes share the ALU, multiply, FP and
// memory-port pools for a cycle; dividers are busy for their whole
// latency; exits use none (-1).
func (c *Config) pool(u int) (p int, occupancy uint64) {
	switch u {
	case uALU, uBranch:
		return poolALU, 1
	case uMul:
		return poolMul, 1
	case uFPAdd, uFPMul:
		return poolFP, 1
	case uLoad, uStore:
		return poolMem, 1
	case uDiv:
		return poolDiv, c.Div
	case uFPDiv:
		return poolFPDiv, c.FPDiv
	}
	return -1, 0
}

const (
	poolALU = iota
	poolMul
	poolFP
	poolMem
	poolDiv
	poolFPDiv
	numPools
)

// noReg marks an unused operand slot in the scoreboard.
const noReg = 0xff

// Causes of lost cycles, the rows of the CPI stack. Memory sources follow
// causeMem: causeMem+i is the i-th name of MemoryTiming.Sources.
const (
	causeBase       = iota // issuing or retiring; pipeline fill
	causeDependence        // waiting for a result that is not a load's
	causeStructural        // a busy unit or port, a full window
	causeBranch            // a mispredicted branch or block exit
	causeFirmware          // translating, system calls, faults
	causeICache            // instruction fetch beyond an L1I hit
	causeITLB              // instruction TLB walks
	causeDTLB              // data TLB walks
	causeIdle              // running no guest: its VM paused or descheduled (Idle)
	causeMSHR              // loads that waited for a free MSHR
	causeContention        // queueing at shared levels and DRAM, fed back by the weave (Stall)
	causeReplay            // a load that overtook an older store to its address, and what was squashed after it
	causeMem               // loads, by the level that served them
	maxSources      = 8
	numCauses       = causeMem + maxSources
)

var causeNames = [causeMem]string{"base", "dependence", "structural", "branch", "firmware", "icache", "itlb", "dtlb", "idle",
	"mshr", "contention", "replay"}

// Latency is how long a memory access took and where it was served.
type Latency struct {
	Cycles uint64 // total, page walk included
	Walk   uint64 // cycles of a TLB miss's page walk
	MSHR   uint64 // cycles it waited for a free MSHR
	Source uint8  // index into Sources of the level that supplied the line
}

// MemoryTiming gives a timing model the latency of memory accesses.
type MemoryTiming interface {
	// Access performs a load or store of the line holding addr issued at
	// cycle and returns its latency (for a store, the time its write is
	// accepted).
	Access(addr uint64, write bool, cycle uint64) Latency
	// Sources names where an access can be served from, closest first
	// ("l1", "l2", "l3", "dram", and "remote" — another core's caches —
	// under a directory); at most 8.
	Sources() []string
	// HitCycles is the latency of an access served by the closest level.
	HitCycles() uint64
}

// PortTiming times accesses through a cache hierarchy (a cache.Port with
// its levels and DRAM), converting between cycles at Freq and the
// hierarchy's picoseconds.
type PortTiming struct {
	Port   *cache.Port
	Freq   sim.Freq
	VM     uint16 // owner recorded in the cache rows
	Thread uint16 // thread id recorded in the cache rows (the core's)
	// TLB, if set, is the port's TLB. A miss walks the host page table:
	// WalkCycles of the walker's own, then WalkLevels dependent reads of
	// page-table entries through Walker (the data side; nil: Port), one
	// per level of a radix table at PageTableBase. Guest memory is
	// identity-mapped, so the entries only stand for the walks saved.
	TLB           *memory.TLB
	WalkCycles    uint64
	WalkLevels    int
	Walker        *cache.Port
	PageTableBase uint64
	// Map, if set, gives the host address of each access (the
	// translator's redirection of pages in mixed host pages); the TLB
	// translates the address as issued, the caches see the mapped one.
	Map AddressMap
	// Tracker, if set, is told of every store in the guest's mode.
	Tracker WriteTracker
	// Walks counts TLB misses; WalkTotal the cycles they cost.
	Walks, WalkTotal uint64
	names            []string
	line             uint64 // the first level's line size (Tracker's unit)
}

// AddressMap gives the host address behind an address a core issues, and
// false when nothing is mapped there (the access faults in the MMU and
// never reaches the caches).
type AddressMap interface {
	HostAddress(va uint64) (uint64, bool)
}

// WriteTracker is told of every store a port passes to the caches in the
// guest's mode, at its host address: page dirty tracking of the kind
// Intel's page-modification logging does in the MMU.
type WriteTracker interface {
	NoteWrite(pa, n uint64)
}

// FirmwareMemory is a MemoryTiming that also takes the firmware's own
// accesses, made in the hypervisor's privilege mode: they set no
// image-modification flag and reach no WriteTracker.
type FirmwareMemory interface {
	FirmwareAccess(addr uint64, write bool, cycle uint64) Latency
}

// DefaultPageTableBase is where PortTiming's host page table lives when
// PageTableBase is 0: above the guest's addresses and the code cache.
const DefaultPageTableBase = 1 << 44

// walk returns the cycles a page walk for addr takes, started at now.
func (p *PortTiming) walk(addr uint64, now sim.Time) uint64 {
	w := p.Walker
	if w == nil {
		w = p.Port
	}
	base := p.PageTableBase
	if base == 0 {
		base = DefaultPageTableBase
	}
	shift := uint(bits.TrailingZeros64(p.TLB.PageSize()))
	t := now + p.Freq.CyclesToTime(p.WalkCycles)
	for l := range p.WalkLevels {
		// Level l is indexed by the address bits above the 9 bits per
		// level below it; its entries are 8 bytes, so neighbouring pages'
		// entries share cache lines.
		index := addr >> (shift + 9*uint(p.WalkLevels-1-l))
		t = w.Access(t, cache.Access{Addr: base + uint64(l)<<40 + index*8, Mode: cache.Hypervisor, VM: p.VM})
	}
	return p.Freq.Cycles(t - now + p.Freq.CyclesToTime(1)/2)
}

// Access implements MemoryTiming: an access in the guest's mode.
func (p *PortTiming) Access(addr uint64, write bool, cycle uint64) Latency {
	return p.access(addr, write, cycle, cache.Guest)
}

// FirmwareAccess implements FirmwareMemory: an access in the hypervisor's
// mode.
func (p *PortTiming) FirmwareAccess(addr uint64, write bool, cycle uint64) Latency {
	return p.access(addr, write, cycle, cache.Hypervisor)
}

func (p *PortTiming) access(addr uint64, write bool, cycle uint64, mode cache.Mode) Latency {
	var walk uint64
	if p.TLB != nil {
		if _, hit := p.TLB.Lookup(addr); !hit {
			walk = p.walk(addr, p.Freq.CyclesToTime(cycle))
			p.Walks++
			p.WalkTotal += walk
			p.TLB.Insert(addr, memory.PTE{PA: addr &^ (p.TLB.PageSize() - 1), Perm: memory.PermRead | memory.PermWrite})
		}
	}
	now := p.Freq.CyclesToTime(cycle + walk)
	if p.Map != nil {
		pa, ok := p.Map.HostAddress(addr)
		if !ok {
			// A fault in the MMU: the firmware takes it; the caches see
			// nothing.
			return Latency{Cycles: max(walk, 1), Walk: walk}
		}
		addr = pa
	}
	if write && mode == cache.Guest && p.Tracker != nil {
		if p.line == 0 {
			p.line = 64
			if lv := p.Port.Levels(); len(lv) > 0 {
				p.line = lv[0].Config().LineSize
			}
		}
		p.Tracker.NoteWrite(addr&^(p.line-1), p.line)
	}
	done := p.Port.Access(now, cache.Access{Addr: addr, Write: write, Mode: mode, VM: p.VM, Thread: p.Thread})
	// To the nearest cycle: a time converted from whole cycles is rounded
	// up to the picosecond, so it may exceed them by a fraction.
	return Latency{Cycles: walk + max(1, p.Freq.Cycles(done-now+p.Freq.CyclesToTime(1)/2)), Walk: walk,
		MSHR: p.Freq.Cycles(p.Port.MSHRWait()), Source: uint8(min(p.Port.Served(), maxSources-1))}
}

// Sources implements MemoryTiming: the levels' names without the scope
// ("host0.core0.l1" is "l1"), then "dram".
func (p *PortTiming) Sources() []string {
	if p.names == nil {
		for _, c := range p.Port.Levels() {
			n := c.Name()
			p.names = append(p.names, n[strings.LastIndexByte(n, '.')+1:])
		}
		p.names = append(p.names, "dram")
		if p.Port.Coherent() {
			p.names = append(p.names, "remote")
		}
	}
	return p.names
}

// HitCycles implements MemoryTiming.
func (p *PortTiming) HitCycles() uint64 {
	if lv := p.Port.Levels(); len(lv) > 0 {
		return lv[0].Config().Latency
	}
	return 1
}

// TimingStats are a timing model's counts.
type TimingStats struct {
	Insts  uint64 // host instructions timed
	Cycles uint64 // as of the last Finish
	// Conditional branches and their mispredictions; block exits through
	// a register (predicted by the BTB, returns by the RAS) and theirs.
	Branches, Mispredicts         uint64
	IndirectJumps, JumpMispredict uint64
	Loads, Stores                 uint64
	// MemoryCycles is the latency loads took beyond an L1 hit, summed.
	MemoryCycles uint64
	// FirmwareCycles were spent in firmware (see Timing.Firmware).
	FirmwareCycles uint64
	// Fetches counts instruction-fetch line accesses; FetchCycles their
	// cycles beyond an L1I hit.
	Fetches, FetchCycles uint64
	// Lost holds the cycles lost to each cause (see CPIStack).
	Lost    [numCauses]uint64
	sources []string
	// tail is what the last Finish counted after the last instruction
	// was issued (in order) or retired (out of order), charged to
	// tailCause; it is recomputed by every Finish.
	tail      uint64
	tailCause uint8
}

// CPIStack divides the cycles (after Finish) among their causes, in
// cycles per instruction. "base" is issuing and retiring (a cycle in which
// at least one instruction issues, in order, or retires, out of order);
// the other rows are cycles in which nothing did, charged to what held the
// oldest instruction back: "dependence" on a result other than a load's,
// "structural" (a busy unit or port), "branch" (a mispredicted branch or
// block exit and the refill after it), "firmware", "icache" and "itlb"
// (instruction fetch), "dtlb" (a load's page walk), "mshr" (a load that
// waited for a free MSHR), "contention" (queueing at shared levels and
// DRAM, fed back by the weave), "replay" (out of order: a load that issued
// before an older store to its address, and the refetch after it) and "dcache.<level>" (a load served by that
// level — "remote" is another core's caches — its latency beyond the issue
// slot). The rows add up to Cycles / Insts.
func (s *TimingStats) CPIStack() map[string]float64 {
	out := map[string]float64{}
	if s.Insts == 0 {
		return out
	}
	n := float64(s.Insts)
	lost := s.Lost
	lost[s.tailCause] += s.tail
	var sum uint64
	for c := 1; c < causeMem+len(s.sources); c++ {
		sum += lost[c]
		out[s.causeName(c)] = float64(lost[c]) / n
	}
	out["base"] = float64(s.Cycles-min(s.Cycles, sum)) / n
	return out
}

// CPIRows returns the names of the CPI stack's rows, in a fixed order.
func (s *TimingStats) CPIRows() []string {
	var out []string
	for c := range causeMem + len(s.sources) {
		out = append(out, s.causeName(c))
	}
	return out
}

func (s *TimingStats) causeName(c int) string {
	if c < causeMem {
		return causeNames[c]
	}
	return "dcache." + s.sources[c-causeMem]
}

// frontEnd is what both core models share: instruction fetch through the
// I-side hierarchy, the direction predictor for conditional branches, and
// the BTB and return-address stack for block exits through a register.
type frontEnd struct {
	cfg       Config
	pred      Predictor
	btb       *BTB
	ras       *RAS
	mem, imem MemoryTiming
	memHit    uint64 // cycles of a load served by the data side's closest level
	lineShift uint
	fetchLine uint64 // line number of the last fetch + 1; 0: none yet
	stats     TimingStats
}

func newFrontEnd(cfg Config, pred Predictor) (frontEnd, error) {
	if pred == nil {
		return frontEnd{}, fmt.Errorf("no branch predictor")
	}
	btb, err := NewBTB(DefaultBTBConfig())
	if err != nil {
		return frontEnd{}, err
	}
	ras, err := NewRAS(DefaultRASConfig())
	if err != nil {
		return frontEnd{}, err
	}
	return frontEnd{cfg: cfg, pred: pred, btb: btb, ras: ras, stats: TimingStats{sources: []string{"l1"}}}, nil
}

// SetMemory makes loads and stores take the latency m reports (nil: every
// load hits, taking the load latency).
func (f *frontEnd) SetMemory(m MemoryTiming) {
	f.mem = m
	f.stats.sources = []string{"l1"} // without a memory every load hits
	f.memHit = f.cfg.Load
	if m != nil {
		f.stats.sources = m.Sources()[:min(len(m.Sources()), maxSources)]
		f.memHit = m.HitCycles()
	}
}

// SetFetch makes instruction fetch go through m, one access per line of
// lineBytes (nil: fetch always hits). Fetch delivers a line a cycle: an
// access that takes longer (an L1I slower than one cycle, a miss, a TLB
// walk) stalls the front end for the rest.
func (f *frontEnd) SetFetch(m MemoryTiming, lineBytes uint64) {
	f.imem, f.fetchLine = m, 0
	if m != nil {
		f.lineShift = uint(bits.TrailingZeros64(max(lineBytes, 8)))
	}
}

// Predictor returns the conditional-branch predictor.
func (f *frontEnd) Predictor() Predictor { return f.pred }

// writeLines writes the lines of [addr, addr+n) through the data memory
// at cycle, as the firmware (in the hypervisor's mode, when the memory
// tells modes apart).
func (f *frontEnd) writeLines(addr, n, cycle uint64) {
	if f.mem == nil || n == 0 {
		return
	}
	fw, ok := f.mem.(FirmwareMemory)
	size := f.lineBytes()
	for line := addr &^ (size - 1); line < addr+n; line += size {
		if ok {
			fw.FirmwareAccess(line, true, cycle)
		} else {
			f.mem.Access(line, true, cycle)
		}
	}
}

// guestLines reads or writes the lines of [addr, addr+n) through the data
// memory in the guest's mode, a line a cycle from cycle, and returns the
// cycles until the last is done.
func (f *frontEnd) guestLines(addr, n uint64, write bool, cycle uint64) uint64 {
	if f.mem == nil || n == 0 {
		return 0
	}
	size := f.lineBytes()
	var done, i uint64
	for line := addr &^ (size - 1); line < addr+n; line += size {
		done = max(done, i+f.mem.Access(line, write, cycle+i).Cycles)
		i++
	}
	return done
}

// lineBytes is the cache line size the front end was given (SetFetch), at
// least 8 bytes.
func (f *frontEnd) lineBytes() uint64 { return uint64(1) << max(f.lineShift, 3) }

// storeTail writes the second line of a store of in at addr that crosses
// a line boundary (the first is the caller's), at cycle, and returns its
// latency (0 if the store stays in one line).
func (f *frontEnd) storeTail(in *Inst, addr, cycle uint64) uint64 {
	size, line := accessBytes[in.Op], f.lineBytes()
	if f.mem == nil || size <= 1 || addr&(line-1)+size <= line {
		return 0
	}
	return f.mem.Access((addr|(line-1))+1, true, cycle).Cycles
}

// accessBytes is the bytes a load or store operation accesses.
var accessBytes = [numOps]uint64{Lb: 1, Lh: 2, Lw: 4, Ld: 8, Lbu: 1, Lhu: 2, Lwu: 4, Sb: 1, Sh: 2, Sw: 4, Sd: 8,
	Flw: 4, Fld: 8, Fsw: 4, Fsd: 8, LrW: 4, LrD: 8, ScW: 4, ScD: 8, AmoSwapW: 4, AmoAddW: 4, AmoXorW: 4, AmoAndW: 4,
	AmoOrW: 4, AmoMinW: 4, AmoMaxW: 4, AmoMinuW: 4, AmoMaxuW: 4, AmoSwapD: 8, AmoAddD: 8, AmoXorD: 8, AmoAndD: 8,
	AmoOrD: 8, AmoMinD: 8, AmoMaxD: 8, AmoMinuD: 8, AmoMaxuD: 8}

// Stats implements Timing.
func (f *frontEnd) Stats() *TimingStats { return &f.stats }

// fetch returns the cycles instruction fetch at pc stalls the front end at
// cycle and their cause (icache or itlb): non-zero only when pc starts a
// new line that misses the L1I or its TLB.
func (f *frontEnd) fetch(pc, cycle uint64) (stall uint64, cause int) {
	line := pc>>f.lineShift + 1
	if f.imem == nil || line == f.fetchLine {
		return 0, 0
	}
	f.fetchLine = line
	f.stats.Fetches++
	l := f.imem.Access(pc, false, cycle)
	if l.Cycles <= 1 {
		return 0, 0
	}
	stall = l.Cycles - 1
	f.stats.FetchCycles += stall
	if l.Walk*2 >= stall {
		return stall, causeITLB
	}
	return stall, causeICache
}

// countLoad records a load's latency beyond the closest level's.
func (f *frontEnd) countLoad(l Latency) {
	f.stats.MemoryCycles += l.Cycles - min(l.Cycles, f.memHit)
}

// loadCause is the CPI-stack row of a load that took l: its page walk or
// its wait for an MSHR if that was most of it, else the level that served
// it.
func loadCause(l Latency) uint8 {
	switch {
	case l.Walk*2 >= l.Cycles:
		return causeDTLB
	case l.MSHR*2 >= l.Cycles:
		return causeMSHR
	}
	return causeMem + l.Source
}

// predictConditional predicts and trains the conditional branch at pc and
// reports a misprediction.
func (f *frontEnd) predictConditional(pc uint64, taken bool) bool {
	f.stats.Branches++
	miss := f.pred.Predict(pc) != taken
	if miss {
		f.stats.Mispredicts++
	}
	f.pred.Update(pc, taken)
	return miss
}

// Hints the translator leaves on block exits (Leave, LeaveReg) for the
// return-address stack: a call links register Rd (non-zero); a return has
// Rs2 = ExitReturn.
const ExitReturn = 1

// predictExit predicts the block exit in at pc going to target and reports
// a misprediction. A direct exit's target is in the instruction; one
// through a register is predicted by the RAS when it returns and by the
// BTB otherwise. A call pushes its link.
func (f *frontEnd) predictExit(in *Inst, x *[NumRegs]uint64, pc, target uint64) bool {
	miss := false
	if in.Op == LeaveReg {
		f.stats.IndirectJumps++
		var pred uint64
		ok := false
		if in.Rs2 == ExitReturn {
			pred, ok = f.ras.Pop()
		}
		if !ok {
			pred, ok = f.btb.Lookup(pc)
		}
		miss = !ok || pred != target
		if miss {
			f.stats.JumpMispredict++
			f.btb.Update(pc, target)
		}
	}
	if in.Rd != 0 {
		f.ras.Push(x[in.Rd])
	}
	return miss
}

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
	case op == Walk:
		unit, s1, d = uLoad, x(in.Rs1), x(in.Rd)
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

// effAddr is the address a memory instruction accesses (for Walk, the
// software TLB entry it probes).
func effAddr(in *Inst, x *[NumRegs]uint64) uint64 {
	if in.Op == Walk {
		return SoftTLBBase + (x[in.Rs1]&255)*16
	}
	va := x[in.Rs1]
	if in.Op < LrW || in.Op > AmoMaxuD {
		va += uint64(in.Imm)
	}
	return va
}

// isAtomicWrite says whether a load-class instruction also writes memory
// (an AMO or SC).
func isAtomicWrite(op Op) bool { return op >= LrW && op <= AmoMaxuD && op != LrW && op != LrD }

// calendarSize is how many cycles a calendar remembers: reservations
// further apart than this from the newest are forgotten.
const calendarSize = 1024

// calendar counts, per cycle, how many operations occupy a pool of
// identical pipelined units, so an operation finds the first cycle from a
// given one with a unit free. Cycles may be reserved in any order (out-of-order
// issue) within the window it remembers.
type calendar struct {
	units int
	tag   [calendarSize]uint64 // cycle + 1 the slot counts; 0 empty
	used  [calendarSize]uint8
}

// full reports whether every unit is taken in cycle at. A slot holding a
// later cycle means at is long gone: nothing is recorded for it.
func (c *calendar) full(at uint64) bool {
	i := at % calendarSize
	return c.tag[i] == at+1 && int(c.used[i]) >= c.units
}

// take occupies a unit in cycle at.
func (c *calendar) take(at uint64) {
	i := at % calendarSize
	switch {
	case c.tag[i] == at+1:
		c.used[i]++
	case c.tag[i] < at+1:
		c.tag[i], c.used[i] = at+1, 1
	}
}

// reserve takes a unit for n consecutive cycles starting at the first
// cycle from at where one is free for all of them, and returns that cycle.
func (c *calendar) reserve(at, n uint64) uint64 {
	at = c.first(at, n)
	for k := range n {
		c.take(at + k)
	}
	return at
}

// first returns the first cycle from at where a unit is free for n
// consecutive cycles, without taking it.
func (c *calendar) first(at, n uint64) uint64 {
next:
	for {
		for k := range n {
			if c.full(at + k) {
				at += k + 1
				continue next
			}
		}
		return at
	}
}

// maxSpans is how many busy stretches a non-pipelined unit remembers.
const maxSpans = 64

// span is a stretch [start, end) a non-pipelined unit is busy.
type span struct{ start, end uint64 }

// spans are the busy stretches of a pool of non-pipelined units (the
// dividers), oldest first per unit, so that an operation takes the first
// gap long enough on any unit: out of order, a younger division whose
// operands are ready runs before an older one still waiting for its own.
type spans struct {
	units [][]span
	floor []uint64 // per unit: before this, stretches were forgotten (taken as busy)
}

// reserve occupies a unit for n cycles from the first cycle at or after
// at where one is free that long, and returns that cycle.
func (b *spans) reserve(at, n uint64) uint64 {
	best, bu, bi := b.first(at, n)
	ss := b.units[bu]
	if len(ss) == maxSpans { // forget the oldest stretch
		b.floor[bu] = max(b.floor[bu], ss[0].end)
		copy(ss, ss[1:])
		ss = ss[:len(ss)-1]
		bi = max(bi-1, 0)
	}
	ss = append(ss, span{})
	copy(ss[bi+1:], ss[bi:])
	ss[bi] = span{best, best + n}
	b.units[bu] = ss
	return best
}

// first returns the first cycle at or after at where a unit is free for n
// cycles, the unit, and where the stretch would go in its list.
func (b *spans) first(at, n uint64) (best uint64, bu, bi int) {
	best = math.MaxUint64
	for u, ss := range b.units {
		start, i := max(at, b.floor[u]), 0
		for ; i < len(ss); i++ {
			if start+n <= ss[i].start {
				break
			}
			start = max(start, ss[i].end)
		}
		if start < best {
			best, bu, bi = start, u, i
		}
	}
	return best, bu, bi
}

// units are the functional units both models reserve: a calendar per
// pipelined pool, busy stretches for the dividers.
type units struct {
	pools     [poolDiv]calendar
	div, fdiv spans
}

// reserveUnit reserves a unit for class u from cycle at and returns the
// cycle it starts (at itself for exits, which need none).
func (t *units) reserveUnit(cfg *Config, u int, at uint64) uint64 {
	start := t.firstUnit(cfg, u, at)
	t.takeUnit(cfg, u, start)
	return start
}

// takeUnit occupies a unit for class u from cycle at, which firstUnit
// found free.
func (t *units) takeUnit(cfg *Config, u int, at uint64) {
	p, n := cfg.pool(u)
	switch {
	case p < 0:
	case p == poolDiv:
		t.div.reserve(at, n)
	case p == poolFPDiv:
		t.fdiv.reserve(at, n)
	default:
		for k := range n {
			t.pools[p].take(at + k)
		}
	}
}

// firstUnit returns the first cycle from at where a unit for class u is
// free, without reserving it.
func (t *units) firstUnit(cfg *Config, u int, at uint64) uint64 {
	p, n := cfg.pool(u)
	switch {
	case p < 0:
		return at
	case p == poolDiv:
		c, _, _ := t.div.first(at, n)
		return c
	case p == poolFPDiv:
		c, _, _ := t.fdiv.first(at, n)
		return c
	}
	return t.pools[p].first(at, n)
}

// newModel validates cfg for a model (outOfOrder checks its windows too)
// and builds the front end and units both models share; errors name the
// model.
func newModel(name string, outOfOrder bool, cfg Config, pred Predictor) (frontEnd, units, error) {
	if err := cfg.Validate(outOfOrder); err != nil {
		return frontEnd{}, units{}, fmt.Errorf("%s core: %w", name, err)
	}
	f, err := newFrontEnd(cfg, pred)
	if err != nil {
		return frontEnd{}, units{}, fmt.Errorf("%s core: %w", name, err)
	}
	var u units
	for i, n := range [poolDiv]int{cfg.ALUUnits, cfg.MulUnits, cfg.FPUnits, cfg.MemPorts} {
		u.pools[i].units = n
	}
	u.div = spans{units: make([][]span, cfg.DivUnits), floor: make([]uint64, cfg.DivUnits)}
	u.fdiv = spans{units: make([][]span, cfg.FPDivUnits), floor: make([]uint64, cfg.FPDivUnits)}
	return f, u, nil
}

// NewTiming returns a timing model by its configuration name, "in-order"
// or "out-of-order", with predictor pred.
func NewTiming(model string, cfg Config, pred Predictor) (Timing, error) {
	switch model {
	case "in-order":
		return NewInOrder(cfg, pred)
	case "out-of-order":
		return NewOutOfOrder(cfg, pred)
	}
	return nil, fmt.Errorf("unknown core model %q; must be in-order or out-of-order", model)
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

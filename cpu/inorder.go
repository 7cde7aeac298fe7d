package cpu

// InOrder is the timing model of an in-order core: instructions issue in
// program order, up to Width a cycle, each once its operands are ready (a
// scoreboard of register ready times) and a unit of its class is free
// (counts per class; dividers not pipelined; a store needs a free entry
// in the store buffer, StoreQueue entries). Loads and stores go through
// the data memory (SetMemory), instruction fetch through the instruction
// memory (SetFetch); a mispredicted branch or block exit stops issue until
// it resolves and the front end (Depth stages) has refilled.
type InOrder struct {
	frontEnd
	ready [NumRegs + 32]uint64 // cycle each register's value is available; F registers after X
	// cause[r] is the CPI-stack row charged for waiting on r: the level
	// that served the load producing it, or dependence.
	cause [NumRegs + 32]uint8
	cycle uint64 // the cycle instructions are issuing in
	slots int    // instructions issued in cycle
	units
	last      uint64 // latest result-ready cycle, for Finish
	lastCause uint8  // the CPI-stack row of the instruction whose result is last
	// sb holds when each store-buffer entry is written to the cache: a
	// store waits for a free entry.
	sb ring
}

// NewInOrder returns an idle in-order timing model with predictor pred
// for conditional branches.
func NewInOrder(cfg Config, pred Predictor) (*InOrder, error) {
	f, u, err := newModel("in-order", false, cfg, pred)
	if err != nil {
		return nil, err
	}
	return &InOrder{frontEnd: f, units: u, sb: ring{at: make([]uint64, cfg.StoreQueue)}}, nil
}

// stallFront loses cycles before the next instruction can issue (a
// refill, a fetch miss, firmware), charged to cause.
func (t *InOrder) stallFront(cycles uint64, cause int) {
	if cycles == 0 {
		return
	}
	if t.slots > 0 {
		t.cycle++ // the cycle in progress ends first: it is base time
	}
	t.cycle += cycles
	t.slots = 0
	t.stats.Lost[cause] += cycles
}

func (t *InOrder) step(in *Inst, x *[NumRegs]uint64, pc uint64) {
	t.stats.Insts++
	if stall, cause := t.fetch(pc, t.cycle); stall > 0 {
		t.stallFront(stall, cause)
	}
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
	lat := t.cfg.latency(unit)
	issue := dep
	if unit == uStore {
		issue = max(issue, t.sb.free())
	}
	issue = t.reserveUnit(&t.cfg, unit, issue)
	// Cycles in which nothing issues before this instruction: from the
	// slot it could have had up to its issue cycle, except the current
	// cycle when something already issued in it (that cycle is base time).
	if empty := issue - slot; empty > 0 {
		if slot == t.cycle && t.slots > 0 {
			empty--
		}
		structural := min(issue-dep, empty)
		t.stats.Lost[causeStructural] += structural
		if from != noReg {
			t.stats.Lost[t.cause[from]] += empty - structural
		}
	}
	if issue != t.cycle {
		t.cycle, t.slots = issue, 0
	}
	t.slots++
	c := uint8(causeDependence)
	switch {
	case unit == uLoad:
		t.stats.Loads++
		c = causeMem
		if t.mem != nil {
			l := t.mem.Access(effAddr(in, x), isAtomicWrite(in.Op), issue)
			t.countLoad(l)
			lat = max(lat, l.Cycles)
			c = loadCause(l)
		}
	case unit == uStore:
		// The store buffer hides a store's latency until it is full.
		t.stats.Stores++
		done := issue + 1
		if t.mem != nil {
			addr := effAddr(in, x)
			done = issue + max(t.mem.Access(addr, true, issue).Cycles, t.storeTail(in, addr, issue))
		}
		t.sb.put(done)
	}
	if d != noReg {
		t.ready[d] = issue + lat
		t.cause[d] = c
	}
	if issue+lat > t.last {
		t.last, t.lastCause = issue+lat, c
	}
}

// branch records the outcome of the conditional branch just issued at pc:
// a misprediction stops issue until the branch resolves (the cycle after
// it issued, base time) and the front end has refilled.
func (t *InOrder) branch(pc uint64, taken bool) {
	if t.predictConditional(pc, taken) {
		t.stallFront(t.cfg.Depth, causeBranch)
	}
}

func (t *InOrder) leave(in *Inst, x *[NumRegs]uint64, pc, target uint64) {
	if t.predictExit(in, x, pc, target) {
		t.stallFront(t.cfg.Depth, causeBranch)
	}
}

// FirmwareWrite implements Timing.
func (t *InOrder) FirmwareWrite(addr, n uint64) { t.writeLines(addr, n, t.cycle) }

// GuestAccess implements Timing.
func (t *InOrder) GuestAccess(addr, n uint64, write bool) {
	t.Firmware(t.guestLines(addr, n, write, t.cycle))
}

// Firmware implements Timing.
func (t *InOrder) Firmware(cycles uint64) {
	t.stallFront(cycles, causeFirmware)
	t.stats.FirmwareCycles += cycles
	t.fetchLine = 0 // the firmware's own code has been through the L1I
}

// Stall implements Timing.
func (t *InOrder) Stall(cycles uint64) { t.stallFront(cycles, causeContention) }

// Idle implements Timing.
func (t *InOrder) Idle(cycles uint64) {
	t.stallFront(cycles, causeIdle)
	t.fetchLine = 0
}

// Now implements Timing: the cycle instructions are issuing in.
func (t *InOrder) Now() uint64 { return t.cycle }

// Finish implements Timing: the cycles until the last result is ready
// (the wait after the last issue is charged to that result's cause).
func (t *InOrder) Finish() uint64 {
	t.stats.Cycles = max(t.cycle+1, t.last)
	t.stats.tail, t.stats.tailCause = t.stats.Cycles-(t.cycle+1), t.lastCause
	return t.stats.Cycles
}

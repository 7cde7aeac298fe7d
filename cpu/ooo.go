package cpu

// OutOfOrder is the timing model of an out-of-order core in the style of
// ZSim's OOO model: for each instruction, in program order, it computes
// the cycle it is dispatched (fetch bandwidth, front-end redirects and
// fetch misses, a free reorder-buffer entry, load or store queue entry
// and rename register), the cycle it executes (operands ready, a free
// unit of its class), the cycle it completes (its latency; a load's
// through the data memory, or forwarded from an older store still in
// flight) and the cycle it retires (in order, Width a cycle). Wrong-path
// instructions are not executed: a mispredicted branch or block exit
// stops dispatch until it completes and the front end (Depth stages) has
// refilled. Stores write the data memory when they retire.
//
// Its CPI stack charges every cycle in which nothing retires to what held
// back the oldest instruction: the last constraint that delayed it
// (operands — following a chain of dependent instructions back to the
// load that missed —, a unit, a full window, a front-end redirect, a
// fetch miss or firmware).
type OutOfOrder struct {
	frontEnd
	ready [NumRegs + 32]uint64
	cause [NumRegs + 32]uint8

	fe      uint64 // cycle the front end dispatches in
	feSlots int    // instructions dispatched in fe
	feCause uint8  // why fe last jumped ahead; charged to the next instruction only

	// Rings of the retire cycles of the youngest entries of each window:
	// the entry an instruction takes was freed when its previous holder
	// retired.
	rob, lq, sq, regs ring

	units

	retire     uint64 // cycle of the latest retirement
	retSlots   int    // instructions retired in retire
	retiredAny bool
	lastDone   uint64 // completion cycle of the instruction just stepped
	tail       uint64 // cycles after the last retirement charged by Finish
	fwd        [fwdSize]fwdEntry
}

// fwdSize is the number of recent stores remembered for store-to-load
// forwarding, by 8-byte word (direct mapped).
const fwdSize = 64

type fwdEntry struct {
	word   uint64 // address / 8 + 1; 0 empty
	ready  uint64 // cycle the store's data is available
	commit uint64 // cycle it retires and writes the cache
}

// ring is a circular buffer of retire cycles.
type ring struct {
	at []uint64
	i  int
}

// free returns the cycle the oldest entry frees: when the instruction
// that took it retires (0: never taken).
func (r *ring) free() uint64 { return r.at[r.i] }

// put records the retire cycle of the instruction taking the oldest
// entry, which becomes the youngest.
func (r *ring) put(retire uint64) {
	r.at[r.i] = retire
	if r.i++; r.i == len(r.at) {
		r.i = 0
	}
}

// NewOutOfOrder returns an idle out-of-order timing model with predictor
// pred for conditional branches.
func NewOutOfOrder(cfg Config, pred Predictor) (*OutOfOrder, error) {
	f, u, err := newModel("out-of-order", true, cfg, pred)
	if err != nil {
		return nil, err
	}
	return &OutOfOrder{frontEnd: f, units: u, rob: ring{at: make([]uint64, cfg.ROB)}, lq: ring{at: make([]uint64, cfg.LoadQueue)},
		sq: ring{at: make([]uint64, cfg.StoreQueue)}, regs: ring{at: make([]uint64, cfg.RenameRegs)}}, nil
}

// redirect stops dispatch until cycle, charging the instruction that
// dispatches then to cause.
func (t *OutOfOrder) redirect(cycle uint64, cause uint8) {
	if cycle > t.fe {
		t.fe, t.feSlots, t.feCause = cycle, 0, cause
	}
}

// isMemCause says whether waiting on a value delayed by cause is charged
// to cause (a load's miss or walk) rather than to dependence.
func isMemCause(c uint8) bool { return c >= causeDTLB }

func (t *OutOfOrder) step(in *Inst, x *[NumRegs]uint64, pc uint64) {
	t.stats.Insts++
	// Dispatch: a front-end slot (after a fetch miss), then a free entry
	// in each window the instruction needs.
	if t.feSlots >= t.cfg.Width {
		t.fe, t.feSlots, t.feCause = t.fe+1, 0, causeBase
	}
	if stall, cause := t.fetch(pc, t.fe); stall > 0 {
		t.redirect(t.fe+stall+min(uint64(t.feSlots), 1), uint8(cause))
	}
	unit, s1, s2, s3, d := operands(in)
	disp, why := t.fe, t.feCause
	t.feCause = causeBase
	window := func(r *ring) {
		if f := r.free(); f > disp {
			disp, why = f, causeStructural
		}
	}
	window(&t.rob)
	switch unit {
	case uLoad:
		window(&t.lq)
	case uStore:
		window(&t.sq)
	}
	if d != noReg {
		window(&t.regs)
	}
	if disp > t.fe {
		t.fe, t.feSlots = disp, 0
	}
	t.feSlots++

	// Execute: operands, then a unit.
	exec := disp + 1
	for _, s := range [3]uint8{s1, s2, s3} {
		if s != noReg && t.ready[s] > exec {
			exec, why = t.ready[s], t.cause[s]
		}
	}
	lat := t.cfg.latency(unit)
	start := exec
	switch unit {
	case uDiv:
		start = t.div.reserve(exec, lat)
	case uFPDiv:
		start = t.fdiv.reserve(exec, lat)
	case uNone:
	default:
		start = t.pools[pool(unit)].reserve(exec)
	}
	if start > exec {
		why = causeStructural
	}
	waited := start - disp - 1
	exec = start
	var addr uint64
	switch unit {
	case uLoad:
		t.stats.Loads++
		addr = effAddr(in, x)
		w := addr>>3 + 1
		if e := &t.fwd[w%fwdSize]; e.word == w && e.commit > exec {
			// Forwarded from an older store that has not written the cache.
			exec = max(exec, e.ready)
		} else if t.mem != nil {
			l := t.mem.Access(addr, isAtomicWrite(in.Op), exec)
			if l.Cycles > lat {
				t.stats.MemoryCycles += l.Cycles - lat
				lat = l.Cycles
			}
			if lat >= waited {
				why = loadCause(l)
			}
		} else if lat >= waited {
			why = causeMem
		}
	case uStore:
		t.stats.Stores++
		addr = effAddr(in, x)
	}
	done := exec + lat
	t.lastDone = done

	// Retire in order, Width a cycle; a cycle in which nothing retires is
	// lost to why.
	r := max(done, t.retire)
	if r == t.retire && t.retiredAny && t.retSlots >= t.cfg.Width {
		r++
	}
	if !t.retiredAny {
		t.stats.Lost[why] += r
		t.retire, t.retSlots, t.retiredAny = r, 0, true
	} else if r > t.retire {
		t.stats.Lost[why] += r - t.retire - 1
		t.retire, t.retSlots = r, 0
	}
	t.retSlots++

	t.rob.put(r)
	switch unit {
	case uLoad:
		t.lq.put(r)
	case uStore:
		// The entry is held until the store has written the cache, so
		// stores that miss hold the queue and bound how far the core runs
		// ahead of the memory.
		free := r
		if t.mem != nil {
			free += t.mem.Access(addr, true, r).Cycles
		}
		t.sq.put(free)
		w := addr>>3 + 1
		t.fwd[w%fwdSize] = fwdEntry{word: w, ready: done, commit: r}
	}
	if d != noReg {
		t.regs.put(r)
		t.ready[d] = done
		if isMemCause(why) {
			t.cause[d] = why
		} else {
			t.cause[d] = causeDependence
		}
	}
}

// branch implements Timing: a misprediction redirects the front end when
// the branch completes, after the refill.
func (t *OutOfOrder) branch(pc uint64, taken bool) {
	if t.predictConditional(pc, taken) {
		t.redirect(t.lastDone+t.cfg.Depth, causeBranch)
	}
}

func (t *OutOfOrder) leave(in *Inst, x *[NumRegs]uint64, pc, target uint64) {
	if t.predictExit(in, x, pc, target) {
		t.redirect(t.lastDone+t.cfg.Depth, causeBranch)
	}
}

// FirmwareWrite implements Timing.
func (t *OutOfOrder) FirmwareWrite(addr, n uint64) { t.writeLines(addr, n, t.fe) }

// Firmware implements Timing: the pipeline drains (every instruction
// retires), the firmware runs, and dispatch resumes after it.
func (t *OutOfOrder) Firmware(cycles uint64) {
	start := t.fe
	if t.retiredAny {
		start = max(start, t.retire+1)
	}
	t.redirect(start+cycles, causeFirmware)
	t.stats.FirmwareCycles += cycles
	t.fetchLine = 0
}

// Now implements Timing: the cycle the front end is dispatching in.
func (t *OutOfOrder) Now() uint64 { return t.fe }

// Finish implements Timing: the cycles until the last instruction retired
// or, after a last stretch of firmware, until it ended.
func (t *OutOfOrder) Finish() uint64 {
	end := t.fe
	if t.retiredAny {
		end = max(end, t.retire+1)
	}
	if tail := end - min(end, t.retire+1); tail > t.tail && t.retiredAny {
		t.stats.Lost[t.feCause] += tail - t.tail
		t.tail = tail
	}
	t.stats.Cycles = end
	return end
}

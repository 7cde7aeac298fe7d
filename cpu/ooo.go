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
	// The front end's lost stretches since the last instruction was
	// dispatched (a mispredict's refill, a fetch miss, firmware), in
	// order, the first from segStart: the retire stage charges each to its
	// cause for the part of a stall it covers.
	segStart uint64
	segs     [4]segment
	nsegs    int

	// Rings of when the youngest entries of each window free: the entry
	// an instruction takes was freed when its previous holder retired (a
	// store: when it had written the cache).
	rob, lq, sq, regs ring

	units

	retire     uint64 // cycle of the latest retirement
	retSlots   int    // instructions retired in retire
	retiredAny bool
	lastDone   uint64 // completion cycle of the instruction just stepped
	fwd        [fwdSize]fwdEntry
}

// segment is a stretch of front-end time lost to cause, up to end.
type segment struct {
	end   uint64
	cause uint8
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

// redirect stops dispatch until cycle, a stretch lost to cause.
func (t *OutOfOrder) redirect(cycle uint64, cause uint8) {
	if cycle <= t.fe {
		return
	}
	switch {
	case t.nsegs == 0:
		t.segStart = t.fe
		fallthrough
	case t.nsegs < len(t.segs):
		t.segs[t.nsegs] = segment{cycle, cause}
		t.nsegs++
	default:
		t.segs[t.nsegs-1].end = cycle // extremely rare: the last stretch grows
	}
	t.fe, t.feSlots = cycle, 0
}

// isMemCause says whether waiting on a value delayed by cause is charged
// to cause (a load's miss or walk) rather than to dependence.
func isMemCause(c uint8) bool { return c >= causeDTLB }

func (t *OutOfOrder) step(in *Inst, x *[NumRegs]uint64, pc uint64) {
	t.stats.Insts++
	// Dispatch: a front-end slot (after a fetch miss), then a free entry
	// in each window the instruction needs.
	if t.feSlots >= t.cfg.Width {
		t.fe, t.feSlots = t.fe+1, 0
	}
	if stall, cause := t.fetch(pc, t.fe); stall > 0 {
		t.redirect(t.fe+stall+min(uint64(t.feSlots), 1), uint8(cause))
	}
	unit, s1, s2, s3, d := operands(in)
	// why is the last constraint that delayed the instruction before it
	// executes: the front end, a full window, an operand, a unit.
	disp, why := t.fe, uint8(causeBase)
	// The front end's stretches before this instruction: nothing redirects
	// it again until the step is over, so they are read in place.
	segs := t.segs[:t.nsegs]
	t.nsegs = 0
	if len(segs) > 0 {
		why = segs[len(segs)-1].cause
	}
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
	if start := t.reserveUnit(&t.cfg, unit, exec); start > exec {
		exec, why = start, causeStructural
	}
	// Complete: the latency, charged to latCause (a load's level).
	lat := t.cfg.latency(unit)
	latCause := uint8(causeDependence)
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
			t.countLoad(l)
			lat = max(lat, l.Cycles)
			latCause = loadCause(l)
		} else {
			latCause = causeMem
		}
	case uStore:
		t.stats.Stores++
		addr = effAddr(in, x)
	}
	done := exec + lat
	t.lastDone = done

	// Retire in order, Width a cycle. The cycles before it in which
	// nothing retired are lost: from execution on to the latency's cause,
	// before it to the front end's stretches they overlap and the rest to
	// why.
	r := max(done, t.retire)
	if r == t.retire && t.retiredAny && t.retSlots >= t.cfg.Width {
		r++
	}
	gapStart := uint64(0)
	if t.retiredAny {
		gapStart = t.retire + 1
	}
	if r > gapStart {
		// The latency's part beyond the unit's usual one (a miss) is
		// latCause's. When the front end held the instruction back last,
		// the rest of the stall is its stretches', in order, up to their
		// lengths, and what remains is the pipeline's own latency (base
		// time, as when it fills). Otherwise the front end's stretches
		// are charged for the part of the stall they overlap, and the
		// rest to why.
		mid := max(exec, gapStart)
		miss := min(r-mid, lat-min(lat, t.cfg.latency(unit)))
		t.stats.Lost[latCause] += miss
		rest := r - gapStart - miss
		from := t.segStart
		if len(segs) > 0 && why == segs[len(segs)-1].cause {
			for _, sg := range segs {
				c := min(rest, sg.end-from)
				t.stats.Lost[sg.cause] += c
				rest -= c
				from = sg.end
			}
		} else {
			for _, sg := range segs {
				if lo, hi := max(from, gapStart), min(sg.end, mid); hi > lo {
					t.stats.Lost[sg.cause] += hi - lo
					rest -= hi - lo
				}
				from = sg.end
			}
			t.stats.Lost[why] += rest
		}
	}
	if r > t.retire || !t.retiredAny {
		t.retire, t.retSlots, t.retiredAny = r, 0, true
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
			free += max(t.mem.Access(addr, true, r).Cycles, t.storeTail(in, addr, r))
		}
		t.sq.put(free)
		w := addr>>3 + 1
		t.fwd[w%fwdSize] = fwdEntry{word: w, ready: done, commit: r}
	}
	if d != noReg {
		// Consumers waiting on a load that missed, or on a result a miss
		// delayed, are charged to that miss.
		t.regs.put(r)
		t.ready[d] = done
		switch {
		case unit == uLoad && isMemCause(latCause):
			t.cause[d] = latCause
		case isMemCause(why):
			t.cause[d] = why
		default:
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

// GuestAccess implements Timing.
func (t *OutOfOrder) GuestAccess(addr, n uint64, write bool) {
	t.Firmware(t.guestLines(addr, n, write, t.fe))
}

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

// Idle implements Timing: as Firmware, charged to the idle row.
func (t *OutOfOrder) Idle(cycles uint64) {
	start := t.fe
	if t.retiredAny {
		start = max(start, t.retire+1)
	}
	t.redirect(start+cycles, causeIdle)
	t.fetchLine = 0
}

// Now implements Timing: the cycle the front end is dispatching in.
func (t *OutOfOrder) Now() uint64 { return t.fe }

// Finish implements Timing: the cycles until the last instruction retired
// or, after a last stretch of firmware, until it ended.
func (t *OutOfOrder) Finish() uint64 {
	end, from := t.fe, uint64(0)
	if t.retiredAny {
		from = t.retire + 1
		end = max(end, from)
	}
	t.stats.tail, t.stats.tailCause = end-from, causeBase
	if t.nsegs > 0 {
		t.stats.tailCause = t.segs[t.nsegs-1].cause
	}
	t.stats.Cycles = end
	return end
}

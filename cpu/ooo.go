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
// A finite issue queue (an entry from dispatch until issue) and an issue
// width shared by all classes bound how far issue runs ahead. Loads are
// disambiguated by a store-set predictor: a load issues as soon as its
// operands are ready unless it has conflicted with a store before; one
// that overtakes an older store to its address before the store's
// address is known is replayed (counted in Violations; its refetch is the
// CPI stack's replay row).
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

	// iq counts the instructions in the issue queue by the cycle they
	// issue in (an entry frees when its instruction issues).
	iq    issueQueue
	issue calendar // issue slots per cycle, all classes together
	sets  storeSets
	// Violations counts loads that issued before an older store to their
	// address had computed it, and were replayed.
	Violations uint64
}

// storeSets is a store-set memory-dependence predictor (Chrysos and Emer,
// ISCA 1998): loads and stores that have conflicted share a set; a load
// in a set waits for the address of the last store of its set dispatched
// before it, other loads issue as soon as their operands are ready.
type storeSets struct {
	ssit [ssitSize]uint16     // by instruction address: set id + 1, 0 none
	lfst [numStoreSets]uint64 // per set: cycle the last dispatched store's address was known
	next uint16
}

const (
	ssitSize     = 4096
	numStoreSets = 256
)

func ssitIndex(pc uint64) int { return int(pc>>2) % ssitSize }

// join puts the load at lpc and the store at spc in one set.
func (s *storeSets) join(lpc, spc uint64) {
	l, st := &s.ssit[ssitIndex(lpc)], &s.ssit[ssitIndex(spc)]
	switch {
	case *l == 0 && *st == 0:
		s.next = s.next%numStoreSets + 1
		*l, *st = s.next, s.next
	case *l == 0:
		*l = *st
	default:
		*st = *l
	}
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
	addr   uint64 // cycle its address is known (it issues)
	pc     uint64
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
	t := &OutOfOrder{frontEnd: f, units: u, rob: ring{at: make([]uint64, cfg.ROB)}, lq: ring{at: make([]uint64, cfg.LoadQueue)},
		sq: ring{at: make([]uint64, cfg.StoreQueue)}, regs: ring{at: make([]uint64, cfg.RenameRegs)},
		iq: issueQueue{cap: cfg.IssueQueue}}
	t.issue.units = cfg.IssueWidth
	return t, nil
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
	// The issue queue: entries of instructions issued by now are free;
	// when none is, dispatch waits for the first to issue.
	if f := t.iq.admit(disp); f > disp {
		disp, why = f, causeStructural
	}
	if disp > t.fe {
		t.fe, t.feSlots = disp, 0
	}
	t.feSlots++

	// Execute: operands; a load predicted to depend on an older store
	// waits for its address; then an issue slot and a unit together.
	exec := disp + 1
	for _, s := range [3]uint8{s1, s2, s3} {
		if s != noReg && t.ready[s] > exec {
			exec, why = t.ready[s], t.cause[s]
		}
	}
	set := t.sets.ssit[ssitIndex(pc)]
	if unit == uLoad && set != 0 && !t.cfg.PerfectDisambiguation {
		if a := t.sets.lfst[set-1]; a > exec {
			exec, why = a, causeDependence
		}
	}
	for {
		start := t.issue.first(exec, 1)
		start = t.firstUnit(&t.cfg, unit, start)
		if start == exec {
			break
		}
		exec, why = start, causeStructural
	}
	t.issue.take(exec)
	t.takeUnit(&t.cfg, unit, exec)
	t.iq.add(exec)
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
			// An older store that has not written the cache. When its
			// address was known by now, the load takes its data
			// (forwarding); otherwise the load issued past it, read stale
			// data, and is replayed when the store's address resolves:
			// what came after it is squashed and refetched.
			if e.addr > exec && !t.cfg.PerfectDisambiguation {
				t.Violations++
				t.sets.join(pc, e.pc)
				t.redirect(e.addr+t.cfg.Depth, causeReplay)
			}
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
		// Its line is fetched for ownership once its address is known (at
		// execution: an RFO does not wait for retirement); its data is
		// written when it retires and the line is there.
		free := r
		if t.mem != nil {
			free = max(r, exec+max(t.mem.Access(addr, true, exec).Cycles, t.storeTail(in, addr, exec)))
		}
		t.sq.put(free)
		w := addr>>3 + 1
		// Its address is known once its base register is (the address
		// and the data are separate micro-operations).
		at := disp + 1
		if s1 != noReg {
			at = max(at, t.ready[s1])
		}
		t.fwd[w%fwdSize] = fwdEntry{word: w, ready: done, commit: r, addr: at, pc: pc}
		if set != 0 {
			t.sets.lfst[set-1] = at
		}
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

// issueQueue counts the entries of an issue queue by the cycle their
// instructions issue in, on a calendar that advances with dispatch (whose
// cycle never goes back), so that admitting and adding an entry cost
// O(1) amortised. Issue cycles beyond the calendar wait in a short list.
type issueQueue struct {
	cap   int
	n     int    // entries held
	floor uint64 // every entry issues after this cycle
	at    [iqCalendar]uint16
	far   []uint64 // issue cycles at or beyond floor + iqCalendar
}

const iqCalendar = 4096

// admit returns the cycle from disp at which an entry is free: entries
// whose instructions issued by then have left.
func (q *issueQueue) admit(disp uint64) uint64 {
	q.advance(disp)
	if q.n < q.cap {
		return disp
	}
	for c := disp + 1; ; c++ { // the first to issue frees its entry
		if c >= q.floor+iqCalendar {
			q.advance(c)
			continue
		}
		if q.at[c%iqCalendar] > 0 {
			q.advance(c)
			return c
		}
	}
}

// advance lets the entries issued by cycle leave.
func (q *issueQueue) advance(cycle uint64) {
	for q.floor < cycle && q.n > 0 {
		q.floor++
		i := q.floor % iqCalendar
		q.n -= int(q.at[i])
		q.at[i] = 0
		if len(q.far) > 0 { // an entry beyond the calendar comes within it
			keep := q.far[:0]
			for _, f := range q.far {
				if f < q.floor+iqCalendar {
					if f > q.floor {
						q.at[f%iqCalendar]++
					} else {
						q.n--
					}
					continue
				}
				keep = append(keep, f)
			}
			q.far = keep
		}
	}
	q.floor = max(q.floor, cycle)
}

// add enters an instruction issuing at cycle (after the last admit).
func (q *issueQueue) add(cycle uint64) {
	q.n++
	if cycle >= q.floor+iqCalendar {
		q.far = append(q.far, cycle)
		return
	}
	q.at[cycle%iqCalendar]++
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
func (t *OutOfOrder) Idle(cycles uint64) { t.drain(cycles, causeIdle) }

// Stall implements Timing: dispatch stops for cycles (what is in flight
// goes on), charged to the contention row.
func (t *OutOfOrder) Stall(cycles uint64) {
	t.redirect(t.fe+cycles, causeContention)
	t.fetchLine = 0
}

// drain lets the pipeline drain and then loses cycles to cause before
// dispatch resumes.
func (t *OutOfOrder) drain(cycles uint64, cause uint8) {
	start := t.fe
	if t.retiredAny {
		start = max(start, t.retire+1)
	}
	t.redirect(start+cycles, cause)
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

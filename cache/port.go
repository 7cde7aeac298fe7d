package cache

import (
	"fmt"
	"math/bits"

	"github.com/twinsim/twinsim/memory"
	"github.com/twinsim/twinsim/sim"
)

// Access is one memory operation as the cache hierarchy sees it.
type Access struct {
	Addr   uint64 // physical address
	Write  bool
	Mode   Mode   // privilege mode of the issuing core
	VM     uint16 // VM on whose behalf it is made (owner recorded in the row)
	Thread uint16 // issuing thread (recorded when TrackThread)
}

// Port is one core's path through the hierarchy: its levels from the
// closest (L1) outwards, then DRAM. Ports of different cores may share
// levels (an L3) and the DRAM. Access does not allocate.
//
// Under a Directory (Attach), the leading levels that belong to the port's
// Agent are its private levels and the rest are shared; a miss in every
// private level, and a store to a line the core may not write, consult the
// directory first. Under a Weave, accesses to shared banks and DRAM are
// timed as if the core were alone on the machine and the delay other
// cores cause is fed back later, found in time order.
type Port struct {
	freq     sim.Freq
	levels   []*Cache
	dram     *memory.DRAM
	ctl      *Controller // nil: no flags are ever set
	lineSize uint64
	stall    uint64 // log stall cycles charged to the access in progress
	served   int    // level that supplied the line in the last access; len(levels): DRAM; len(levels)+1: another core
	// wait is the time the access in progress waited for write-back
	// buffer entries; mshrWait for MSHRs.
	wait, mshrWait sim.Time
	held           [maxLevels]int // MSHR taken at each level by the access in progress, or -1

	dir     *Directory
	agent   *Agent // nil: a device (or no directory)
	private int    // levels[:private] are the agent's own
	weave   *Weave
	weaveID int // the port's agent in the weave, or -1
	// moved is set when an ownership request took a flagged copy from
	// another core: the flag and its thread go to the writer's row.
	moved       bool
	movedThread uint16
	// pfHit is the level where the access in progress used a prefetched
	// line (-1: none); prefetching says a prefetch is being fetched
	// (nobody waits for its DRAM read).
	pfHit       int
	prefetching bool
	prefetchers bool // some level prefetches
	firstWB     int  // the first write-back level: where a store looks first
	// streams says some level has write streaming (and the port has no
	// modification log); ws is its state per level.
	streams bool
	ws      [maxLevels]wstream
}

// maxLevels is the deepest hierarchy a Port supports.
const maxLevels = 8

// NewPort builds a port over levels (closest first; may be empty) and dram.
// ctl may be nil, in which case no image-modification flag is ever set. All
// levels must have the same line size.
func NewPort(freq sim.Freq, levels []*Cache, dram *memory.DRAM, ctl *Controller) (*Port, error) {
	if freq == 0 {
		return nil, fmt.Errorf("cache port: zero core frequency")
	}
	if dram == nil {
		return nil, fmt.Errorf("cache port: no DRAM below the hierarchy")
	}
	if len(levels) > maxLevels {
		return nil, fmt.Errorf("cache port: %d levels; at most %d", len(levels), maxLevels)
	}
	p := &Port{freq: freq, levels: append([]*Cache(nil), levels...), dram: dram, ctl: ctl, weaveID: -1}
	for i := range p.held {
		p.held[i] = -1
	}
	for i, c := range levels {
		if i == 0 {
			p.lineSize = c.cfg.LineSize
		} else if c.cfg.LineSize != p.lineSize {
			return nil, fmt.Errorf("cache port: %s has %d-byte lines but %s has %d-byte lines",
				c.Name(), c.cfg.LineSize, levels[0].Name(), p.lineSize)
		}
		for _, d := range levels[:i] {
			if d == c {
				return nil, fmt.Errorf("cache port: %s appears twice in the hierarchy", c.Name())
			}
		}
	}
	for i, c := range levels {
		if !c.cfg.Inclusive {
			continue
		}
	next:
		for _, u := range levels[:i] {
			for _, a := range c.above {
				if a == u {
					continue next
				}
			}
			c.above = append(c.above, u)
		}
	}
	if len(levels) == 0 {
		p.lineSize = 64
		if ctl != nil {
			p.lineSize = ctl.cfg.LineSize
		}
	}
	if ctl != nil {
		if ctl.cfg.LineSize != p.lineSize {
			return nil, fmt.Errorf("cache port: %s logs %d-byte lines but the hierarchy has %d-byte lines",
				ctl.Name(), ctl.cfg.LineSize, p.lineSize)
		}
		if err := ctl.attachDRAM(dram); err != nil {
			return nil, err
		}
		for _, c := range levels {
			if c.wb {
				c.holdsIMF = true // stores stop at the first write-back level
				break
			}
		}
	}
	p.private = len(levels)
	p.firstWB = len(levels)
	for i, c := range levels {
		p.prefetchers = p.prefetchers || c.pf != nil
		if c.wb && p.firstWB == len(levels) {
			p.firstWB = i
		}
		p.streams = p.streams || c.cfg.WriteStreaming > 0 && ctl == nil
	}
	return p, nil
}

// Attach places the port under directory dir as agent ag (nil: a device,
// which is never a sharer; dir nil: no coherence) and under weave w as
// weave agent id (w nil: shared resources are reserved at once, in call
// order). The port's leading levels that are ag's caches are its private
// levels; MSHRs are only kept there.
func (p *Port) Attach(dir *Directory, ag *Agent, w *Weave, id int) error {
	p.dir, p.agent, p.weave, p.weaveID = dir, ag, w, id
	p.private = 0
	if ag != nil {
	levels:
		for _, c := range p.levels {
			for _, o := range ag.caches {
				if o == c {
					p.private++
					continue levels
				}
			}
			break
		}
	}
	if dir == nil {
		p.private = len(p.levels)
		if ag != nil {
			return fmt.Errorf("cache port: an agent without a directory")
		}
	} else if dir.lineShift != uint(bits.TrailingZeros64(p.lineSize)) {
		return fmt.Errorf("cache port: %s tracks lines of %d bytes but the hierarchy has %d-byte lines",
			dir.name, uint64(1)<<dir.lineShift, p.lineSize)
	}
	for _, c := range p.levels[p.private:] {
		if c.mshr != nil {
			return fmt.Errorf("cache port: %s is shared; MSHRs are modelled in private levels only", c.Name())
		}
	}
	if w != nil {
		if err := w.AttachDRAM(p.dram); err != nil {
			return err
		}
		for _, c := range p.levels[p.private:] {
			w.AttachCache(c)
		}
		if p.ctl != nil {
			p.ctl.weave = w
		}
	}
	return nil
}

// Levels returns the port's cache levels, closest first.
func (p *Port) Levels() []*Cache { return p.levels }

// Access performs a at time now and returns when it completes: the hit
// latencies of the levels visited, a coherence action, DRAM if every level
// missed, any wait for an MSHR or a write-back buffer entry, and any
// cycles the core stalled because the modification log was full.
func (p *Port) Access(now sim.Time, a Access) sim.Time {
	p.stall, p.wait, p.mshrWait, p.moved, p.pfHit = 0, 0, 0, false, -1
	line := a.Addr &^ (p.lineSize - 1)
	var done sim.Time
	from := 0 // the first level the access looked in
	if a.Write {
		done = p.write(now, line, &a)
		from = p.firstWB
	} else {
		if p.streams {
			p.loadEndsStream(line)
		}
		hit, cyc, excl := p.probe(now, 0, line, false)
		p.served = hit
		done = p.arrive(now, cyc, hit, line)
		p.release(done)
		p.fill(0, hit, line, &a, now, done, excl)
	}
	done += p.wait
	if p.stall > 0 {
		done += p.freq.CyclesToTime(p.stall)
	}
	if p.prefetchers {
		served, mshrWait := p.served, p.mshrWait
		p.prefetch(from, p.served, p.pfHit, line, now, a.VM)
		p.served, p.mshrWait, p.stall, p.wait = served, mshrWait, 0, 0
	}
	return done
}

// prefetch trains the stream prefetchers of the levels a request missed in
// (from up to the one that served it, served) or found a prefetched line
// in (pfHit), and fetches what they ask for. A prefetch fetched into a
// level is a request to the levels below it, whose prefetchers it trains in
// turn, as a lower level's prefetcher sees every request from above.
func (p *Port) prefetch(from, served, pfHit int, line uint64, now sim.Time, owner uint16) {
	for i := from; i < len(p.levels) && i <= served; i++ {
		c := p.levels[i]
		if c.pf == nil || i == served && pfHit != i {
			continue
		}
		next, stride := c.train(line)
		if stride == 0 {
			continue
		}
		step := int64(p.lineSize) * stride
		for k := 0; k < c.cfg.PrefetchDegree; k++ {
			pl := uint64(int64(next) + int64(k)*step)
			if pl>>12 != line>>12 {
				break // a stream stops at its page
			}
			p.prefetchLine(i, pl, now, owner)
		}
	}
}

// prefetchLine fetches line into level i at now unless it is there, taking
// one of the level's MSHRs (none free: it is dropped).
func (p *Port) prefetchLine(i int, line uint64, now sim.Time, owner uint16) {
	c := p.levels[i]
	if c.find(line) >= 0 {
		return
	}
	k := -1
	if c.mshr != nil {
		if k = c.freeMSHR(now); k < 0 {
			c.droppedPF.Inc()
			return
		}
	}
	was := p.prefetching
	p.prefetching, p.pfHit = true, -1
	hit, cyc, excl := p.probe(now, i+1, line, false)
	pfHit := p.pfHit
	p.served = hit
	done := p.arrive(now, cyc, hit, line)
	p.release(done)
	if k >= 0 {
		c.mshr[k] = done
	}
	p.fill(i, hit, line, &Access{VM: owner}, now, done, excl)
	if r := c.find(line); r >= 0 {
		c.rows[r].flags |= fPrefetched
	}
	c.prefetches.Inc()
	p.prefetch(i+1, hit, pfHit, line, now, owner)
	p.prefetching = was
}

// Served returns where the last Access found its line: an index into
// Levels, len(Levels) for DRAM, or len(Levels)+1 for another core's
// private levels.
func (p *Port) Served() int { return p.served }

// MSHRWait returns how long the last Access waited for MSHRs.
func (p *Port) MSHRWait() sim.Time { return p.mshrWait }

// Coherent reports whether the port is under a directory.
func (p *Port) Coherent() bool { return p.dir != nil }

// Remote is the Served value of a line another core supplied.
func (p *Port) Remote() int { return len(p.levels) + 1 }

// ceil returns d in whole cycles, rounded up.
func (p *Port) ceil(d sim.Time) uint64 { return p.freq.Cycles(d + p.freq.CyclesToTime(1) - 1) }

// probe looks line up in levels from, from+1, ... until one hits, counting
// hits and misses, and returns the level that hit (len(levels) if none,
// len(levels)+1 if another core supplied it), the cycles from now until it
// answered, and whether the core may hold the line writable (under a
// directory). Misses in private levels take MSHRs; a hit on a line whose
// fill is still on its way completes when the fill arrives; leaving the
// private levels consults the directory (for a store: ownership).
func (p *Port) probe(now sim.Time, from int, line uint64, write bool) (hit int, cycles uint64, excl bool) {
	for i := from; i <= len(p.levels); i++ {
		if i == p.private && p.dir != nil {
			at := now + p.freq.CyclesToTime(cycles)
			var c uint64
			var remote bool
			if write {
				c, remote = p.dir.own(p, line, at)
				excl = true
			} else {
				c, remote, excl = p.dir.read(p, line, at)
			}
			cycles += c
			if remote {
				return p.Remote(), cycles, excl
			}
		}
		if i == len(p.levels) {
			break
		}
		c := p.levels[i]
		if c.bankBusy != nil {
			at := now + p.freq.CyclesToTime(cycles)
			if start := c.bank(line, at, p.freq, p.weaveID); start > at {
				cycles = p.freq.Cycles(start - now + p.freq.CyclesToTime(1) - 1) // the next cycle edge
			}
		}
		cycles += c.cfg.Latency
		if r := c.find(line); r >= 0 {
			c.touch(r)
			if write {
				c.writeHits.Inc()
			} else {
				c.readHits.Inc()
			}
			rw := &c.rows[r]
			if at := now + p.freq.CyclesToTime(cycles); rw.ready > at {
				// Its fill is on its way. In a shared level the fill may be
				// another core's, ahead in simulated time: this access
				// would have fetched the line itself by then.
				c.mshrMerges.Inc()
				wait := rw.ready - at
				if i >= p.private {
					wait = min(wait, p.drainTime(len(p.levels)))
				}
				cycles += p.ceil(wait)
			}
			if i < p.private {
				excl = rw.flags&fExcl != 0
			}
			if rw.flags&fPrefetched != 0 {
				rw.flags &^= fPrefetched // used: by a demand access, or a prefetch into a level above
				c.usefulPrefetches.Inc()
				p.pfHit = i
			}
			return i, cycles, excl
		}
		if write {
			c.writeMisses.Inc()
		} else {
			c.readMisses.Inc()
		}
		if c.mshr != nil && i < p.private {
			at := now + p.freq.CyclesToTime(cycles)
			k, start := c.takeMSHR(at)
			p.held[i] = k
			if start > at {
				p.mshrWait += start - at
				cycles += p.ceil(start - at)
			}
		}
	}
	return len(p.levels), cycles, excl
}

// release frees, at done, the MSHRs the access in progress holds.
func (p *Port) release(done sim.Time) {
	for i, k := range p.held[:len(p.levels)] {
		if k >= 0 {
			p.levels[i].mshr[k] = done
			p.held[i] = -1
		}
	}
}

// arrive returns when data found at level hit (len(levels): DRAM; another
// core: the cycles include the transfer) after cycles reaches the core.
func (p *Port) arrive(now sim.Time, cycles uint64, hit int, line uint64) sim.Time {
	t := now + p.freq.CyclesToTime(cycles)
	if hit == len(p.levels) {
		t = p.dramAccess(t, line, false, false)
	}
	return t
}

// dramAccess moves a line to or from DRAM at t and returns when it is
// done; a posted write is one nobody waits for.
func (p *Port) dramAccess(t sim.Time, line uint64, write, posted bool) sim.Time {
	if p.weave != nil {
		return p.weave.dramAccess(p.weaveID, t, line, p.lineSize, write, posted || p.prefetching)
	}
	return p.dram.Access(t, line, p.lineSize, write)
}

// fill installs line, clean, in levels [from, to) — to is the level that
// supplied it; a line from another core fills only private levels — its
// fill arriving at ready, writable in private levels when excl.
func (p *Port) fill(from, to int, line uint64, a *Access, now, ready sim.Time, excl bool) {
	to = min(to, len(p.levels))
	if to > p.private && p.served == p.Remote() {
		to = p.private
	}
	for i := from; i < to; i++ {
		p.install(i, line, a.VM, now, ready, excl)
	}
}

// install puts line into level i (it must not be present), evicting the
// victim, and returns the row index.
func (p *Port) install(i int, line uint64, owner uint16, now, ready sim.Time, excl bool) int {
	c := p.levels[i]
	r := c.victim(line)
	p.evict(i, r, now, max(now, ready))
	_, tag := c.split(line)
	f := fValid
	if excl && i < p.private && p.dir != nil {
		f |= fExcl
	}
	c.rows[r] = row{tag: tag, owner: owner, flags: f, ready: ready}
	c.touch(r)
	return r
}

// evict removes row r of level i at now: a flagged line's address is
// logged and its flag cleared (step 440), a dirty line is written to the
// level below when it leaves, as the fill replacing it arrives (through
// the level's write-back buffer, which may make the access wait), and the
// directory is told when the core no longer holds the line.
func (p *Port) evict(i, r int, now, leave sim.Time) {
	c := p.levels[i]
	old := &c.rows[r]
	if old.flags&fValid == 0 {
		return
	}
	c.evictions.Inc()
	addr := c.addrOf(r)
	for _, u := range c.above {
		// Back-invalidation: a copy above goes too; its flag is logged as
		// at its own eviction, and newer data above makes this line dirty.
		if ur := u.find(addr); ur >= 0 {
			up := &u.rows[ur]
			c.backInvalidations.Inc()
			if up.flags&fIMF != 0 {
				u.flaggedEvictions.Inc()
				p.stall += p.ctl.logLine(addr, up.thread, srcEvict, now)
			}
			if up.flags&fDirty != 0 {
				old.flags |= fDirty
			}
			up.flags = 0
		}
	}
	if len(c.above) > 0 && p.dir != nil && i >= p.private {
		p.dir.drop(addr) // no private copy is left
	}
	if old.flags&fIMF != 0 {
		c.flaggedEvictions.Inc()
		old.flags &^= fIMF
		p.stall += p.ctl.logLine(addr, old.thread, srcEvict, now)
	}
	if old.flags&fDirty != 0 {
		c.writebacks.Inc()
		if c.wbuf != nil {
			p.wait += c.takeWriteBuffer(leave, p.drainTime(i+1)) - leave
		}
		p.writeBack(i+1, addr, old.owner, leave)
	}
	old.flags = 0
	if p.dir != nil && p.agent != nil && i < p.private {
		p.dir.leave(p.agent, addr)
	}
}

// drainTime is how long a victim written to level i (len(levels): DRAM)
// occupies the write-back buffer above it: that level's latency, or a
// DRAM transfer and its latency.
func (p *Port) drainTime(i int) sim.Time {
	if i < len(p.levels) {
		return p.freq.CyclesToTime(p.levels[i].cfg.Latency)
	}
	return p.dram.TransferTime(p.lineSize) + p.dram.Config().Latency
}

// writeBack delivers a dirty line evicted from above to level i: a
// write-back level takes it (allocating a row, without fetching, since the
// whole line arrives), a write-through level passes it on, and below the
// last level it is a posted DRAM write.
func (p *Port) writeBack(i int, line uint64, owner uint16, now sim.Time) {
	for ; i < len(p.levels); i++ {
		c := p.levels[i]
		if !c.wb {
			continue
		}
		r := c.find(line)
		if r < 0 {
			r = p.install(i, line, owner, now, now, false)
		}
		c.rows[r].flags |= fDirty
		return
	}
	p.dramAccess(now, line, true, true)
}

// write performs a store: write-through levels pass it on (updating a row
// they hold), the first write-back level absorbs it — allocating the line
// on a miss, and asking the directory for ownership when the core may not
// write it — and marks the row dirty and, for a backed-up VM in guest
// mode, flagged (steps 420–430).
func (p *Port) write(now sim.Time, line uint64, a *Access) sim.Time {
	var cycles uint64
	for i, c := range p.levels {
		if !c.wb {
			cycles += c.cfg.Latency
			if r := c.find(line); r >= 0 {
				c.touch(r)
				c.writeHits.Inc()
			} else {
				c.writeMisses.Inc()
			}
			continue
		}
		stream := p.streams && c.cfg.WriteStreaming > 0
		if stream {
			if done, ok := p.streamStore(i, now+p.freq.CyclesToTime(cycles), line, a); ok {
				p.served = i
				return done
			}
		}
		hit, cyc, excl := p.probe(now+p.freq.CyclesToTime(cycles), i, line, true)
		p.served = hit
		cycles += cyc
		done := now + p.freq.CyclesToTime(cycles)
		r := -1
		if hit != i {
			// Write-allocate: fetch the line from below, fill the levels
			// between, then install it here.
			done = p.arrive(now, cycles, hit, line)
			p.release(done)
			p.fill(i+1, hit, line, a, now, done, excl)
			if r = c.find(line); r < 0 { // another core's data: a shared level may hold the line
				r = p.install(i, line, a.VM, now, done, excl)
			}
		} else {
			r = c.find(line)
		}
		if stream {
			p.watchStore(i, line, a, hit != i, now, done)
		}
		if p.dir != nil && i < p.private {
			if !excl {
				// An upgrade from S: every other copy is invalidated.
				cyc, _ := p.dir.own(p, line, done)
				done += p.freq.CyclesToTime(cyc)
				p.agent.setExcl(line)
			}
			if c.rows[r].flags&fDirty == 0 {
				p.claimShared(line) // E or S to M
			}
		}
		if p.moved {
			p.takeFlag(c, r, done)
		}
		p.mark(c, r, a)
		return done
	}
	// No write-back level: the store goes to memory, after any copy held
	// by a core is invalidated.
	p.served = len(p.levels)
	if p.dir != nil && p.private == len(p.levels) {
		cyc, _ := p.dir.own(p, line, now+p.freq.CyclesToTime(cycles))
		cycles += cyc
		if p.moved && p.ctl != nil {
			p.stall += p.ctl.logLine(line, p.movedThread, srcEvict, now)
		}
	}
	return p.dramAccess(now+p.freq.CyclesToTime(cycles), line, true, false)
}

// claimShared takes the flag a shared level's row holds for line (a
// device's write flagged it there) for a core about to own the line: the
// flag goes with the line to the writer's row.
func (p *Port) claimShared(line uint64) {
	if p.agent == nil {
		return
	}
	for _, c := range p.levels[p.private:] {
		if r := c.find(line); r >= 0 && c.rows[r].flags&fIMF != 0 {
			c.rows[r].flags &^= fIMF
			p.moved, p.movedThread = true, c.rows[r].thread
			p.dir.flagMoves.Inc()
		}
	}
}

// takeFlag gives row r of c the flag an ownership request took from
// another core's copy: the row keeps it if c holds flags, else the address
// is logged now, as at an eviction, so that it is not lost.
func (p *Port) takeFlag(c *Cache, r int, now sim.Time) {
	rw := &c.rows[r]
	if !c.holdsIMF {
		if p.ctl != nil {
			p.stall += p.ctl.logLine(c.addrOf(r), p.movedThread, srcEvict, now)
		}
		return
	}
	rw.flags |= fIMF
	rw.thread = p.movedThread
}

// mark records a store in row r of write-back level c.
func (p *Port) mark(c *Cache, r int, a *Access) {
	rw := &c.rows[r]
	rw.flags |= fDirty
	rw.owner = a.VM
	if c.cfg.TrackThread {
		rw.thread = a.Thread
	}
	if p.ctl != nil && p.ctl.flags(a) && rw.flags&fIMF == 0 {
		rw.flags |= fIMF
		p.ctl.flagSets.Inc()
	}
}

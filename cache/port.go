package cache

import (
	"fmt"

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
type Port struct {
	freq     sim.Freq
	levels   []*Cache
	dram     *memory.DRAM
	ctl      *Controller // nil: no flags are ever set
	lineSize uint64
	stall    uint64 // log stall cycles charged to the access in progress
	served   int    // level that supplied the line in the last access; len(levels): DRAM
}

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
	p := &Port{freq: freq, levels: append([]*Cache(nil), levels...), dram: dram, ctl: ctl}
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
	return p, nil
}

// Levels returns the port's cache levels, closest first.
func (p *Port) Levels() []*Cache { return p.levels }

// Access performs a at time now and returns when it completes: the hit
// latencies of the levels visited, DRAM if every level missed, and any
// cycles the core stalled because the modification log was full.
func (p *Port) Access(now sim.Time, a Access) sim.Time {
	p.stall = 0
	line := a.Addr &^ (p.lineSize - 1)
	var done sim.Time
	if a.Write {
		done = p.write(now, line, &a)
	} else {
		hit, cyc := p.probe(now, 0, line, false)
		p.served = hit
		done = p.arrive(now, cyc, hit, line)
		p.fill(0, hit, line, &a, now)
	}
	if p.stall > 0 {
		done += p.freq.CyclesToTime(p.stall)
	}
	return done
}

// Served returns where the last Access found its line: an index into
// Levels, or len(Levels) for DRAM.
func (p *Port) Served() int { return p.served }

// probe looks line up in levels from, from+1, ... until one hits, counting
// hits and misses, and returns the level that hit (len(levels) if none) and
// the cycles from now until the last level visited answered: the hit
// latencies of the levels visited, and the wait for a busy bank in a banked
// level.
func (p *Port) probe(now sim.Time, from int, line uint64, write bool) (hit int, cycles uint64) {
	for i := from; i < len(p.levels); i++ {
		c := p.levels[i]
		if c.bankBusy != nil {
			at := now + p.freq.CyclesToTime(cycles)
			if start := c.bank(line, at, p.freq); start > at {
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
			return i, cycles
		}
		if write {
			c.writeMisses.Inc()
		} else {
			c.readMisses.Inc()
		}
	}
	return len(p.levels), cycles
}

// arrive returns when data found at level hit (len(levels): DRAM) after
// cycles of cache latency reaches the core.
func (p *Port) arrive(now sim.Time, cycles uint64, hit int, line uint64) sim.Time {
	t := now + p.freq.CyclesToTime(cycles)
	if hit == len(p.levels) {
		t = p.dram.Access(t, line, p.lineSize, false)
	}
	return t
}

// fill installs line, clean, in levels [from, to), evicting as needed.
func (p *Port) fill(from, to int, line uint64, a *Access, now sim.Time) {
	for i := from; i < to; i++ {
		p.install(i, line, a.VM, now)
	}
}

// install puts line into level i (it must not be present), evicting the
// victim, and returns the row index.
func (p *Port) install(i int, line uint64, owner uint16, now sim.Time) int {
	c := p.levels[i]
	r := c.victim(line)
	p.evict(i, r, now)
	_, tag := c.split(line)
	c.rows[r] = row{tag: tag, owner: owner, flags: fValid}
	c.touch(r)
	return r
}

// evict removes row r of level i: a flagged line's address is logged and
// its flag cleared (step 440), a dirty line is written to the level below.
func (p *Port) evict(i, r int, now sim.Time) {
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
	if old.flags&fIMF != 0 {
		c.flaggedEvictions.Inc()
		old.flags &^= fIMF
		p.stall += p.ctl.logLine(addr, old.thread, srcEvict, now)
	}
	if old.flags&fDirty != 0 {
		c.writebacks.Inc()
		p.writeBack(i+1, addr, old.owner, now)
	}
	old.flags = 0
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
			r = p.install(i, line, owner, now)
		}
		c.rows[r].flags |= fDirty
		return
	}
	p.dram.Access(now, line, p.lineSize, true)
}

// write performs a store: write-through levels pass it on (updating a row
// they hold), the first write-back level absorbs it — allocating the line
// on a miss — and marks the row dirty and, for a backed-up VM in guest
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
		hit, cyc := p.probe(now+p.freq.CyclesToTime(cycles), i, line, true)
		p.served = hit
		cycles += cyc
		done := now + p.freq.CyclesToTime(cycles)
		r := -1
		if hit != i {
			// Write-allocate: fetch the line from below, fill the levels
			// between, then install it here.
			done = p.arrive(now, cycles, hit, line)
			p.fill(i+1, hit, line, a, now)
			r = p.install(i, line, a.VM, now)
		} else {
			r = c.find(line)
		}
		p.mark(c, r, a)
		return done
	}
	// No write-back level: the store goes to memory.
	p.served = len(p.levels)
	return p.dram.Access(now+p.freq.CyclesToTime(cycles), line, p.lineSize, true)
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

package cache

import (
	"fmt"
	"math/bits"

	"github.com/twinsim/twinsim/sim"
)

// DirectoryConfig is the timing and size of a coherence directory.
type DirectoryConfig struct {
	// Entries and Ways size the directory (a sparse directory: evicting
	// an entry invalidates the line in every private cache holding it).
	Entries, Ways int
	// Latency is the cycles to consult the directory on a coherence
	// action; a plain miss consults it beside the shared level's lookup
	// and pays nothing extra.
	Latency uint64
	// HopCycles is one traversal of the interconnect between the
	// directory and a core (uncontended).
	HopCycles uint64
}

// Validate reports the first field out of range.
func (c DirectoryConfig) Validate() error {
	switch {
	case c.Ways < 1 || c.Ways > 64:
		return fmt.Errorf("directory ways %d is not allowed; must be 1..64", c.Ways)
	case c.Entries < c.Ways || c.Entries%c.Ways != 0:
		return fmt.Errorf("directory entries %d is not a positive multiple of its ways (%d)", c.Entries, c.Ways)
	}
	if sets := c.Entries / c.Ways; sets&(sets-1) != 0 {
		return fmt.Errorf("directory entries %d give %d sets, which is not a power of two", c.Entries, sets)
	}
	return nil
}

// MaxAgents is how many cores a Directory tracks.
const MaxAgents = 64

// Agent is one core's private caches (its L1, L1I and L2, as many Ports as
// it has) as the directory sees them: one sharer.
type Agent struct {
	id     int
	caches []*Cache
	snoop  uint64 // cycles for its private levels to supply a line: the deepest's latency
}

// ID returns the agent's sharer index.
func (a *Agent) ID() int { return a.id }

// holds reports whether any of the agent's caches holds line.
func (a *Agent) holds(line uint64) bool {
	for _, c := range a.caches {
		if c.find(line) >= 0 {
			return true
		}
	}
	return false
}

// setExcl marks every row of the agent holding line writable (E/M).
func (a *Agent) setExcl(line uint64) {
	for _, c := range a.caches {
		if r := c.find(line); r >= 0 {
			c.rows[r].flags |= fExcl
		}
	}
}

// dirEntry is the directory's state of one line: which agents hold it, and
// the one that may write it (MESI E or M), if any.
type dirEntry struct {
	line    uint64 // line address + 1; 0: free
	sharers uint64
	owner   int8 // -1: none
	stamp   uint64
}

// Directory keeps the MESI state of the lines a host's cores hold in their
// private levels: for each line, the cores holding it (sharers) and the one
// allowed to write it (its rows carry fExcl: E when clean, M when dirty).
// A read miss in a core's private levels asks the directory: when another
// core owns the line, the owner is downgraded to S — its dirty data is
// written to the shared level — and supplies the line (a cache-to-cache
// transfer: directory latency, a hop to the owner, the owner's private
// lookup and a hop back); when no other core holds it the reader gets it
// exclusive (E). A store to a line the core holds without fExcl, or misses,
// asks for ownership: every other copy is invalidated (a round trip of
// hops, in parallel) and a dirty one supplies the data. A device (DMA) asks
// the same way without becoming a sharer. Evictions from private levels
// tell the directory; a directory entry that is evicted invalidates the
// line in every private cache (a recall).
//
// The image-modification flag moves with the line: when a core's copy is
// invalidated because another core (or a device) writes the line, its flag
// and thread id go to the writer's row, so a line modified by several cores
// within an epoch is still flagged in exactly one row and logged once. A
// read downgrade leaves the flag where it is (the S row keeps it). Only a
// recall, an eviction or a checkpoint scan logs a flag.
type Directory struct {
	cfg       DirectoryConfig
	name      string
	entries   []dirEntry
	setMask   uint64
	lineShift uint
	clock     uint64
	agents    []*Agent

	reads, owns, transfers, invalidations, downgrades, recalls, flagMoves *sim.Counter
}

// NewDirectory returns an empty directory for lines of lineSize bytes.
func NewDirectory(scope sim.Scope, cfg DirectoryConfig, lineSize uint64) (*Directory, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", scope.Name(), err)
	}
	if lineSize == 0 || lineSize&(lineSize-1) != 0 {
		return nil, fmt.Errorf("%s: line size %d is not a power of two", scope.Name(), lineSize)
	}
	d := &Directory{cfg: cfg, name: scope.Name(), entries: make([]dirEntry, cfg.Entries),
		setMask: uint64(cfg.Entries/cfg.Ways) - 1, lineShift: uint(bits.TrailingZeros64(lineSize))}
	d.reads = scope.Counter("read_requests", "private-level read misses that consulted the directory")
	d.owns = scope.Counter("ownership_requests", "stores that asked for ownership (a miss or an upgrade from S)")
	d.transfers = scope.Counter("transfers", "lines another core's private levels supplied (cache-to-cache)")
	d.invalidations = scope.Counter("invalidations", "private copies invalidated for another core's or a device's write")
	d.downgrades = scope.Counter("downgrades", "exclusive copies downgraded to shared for another core's or a device's read")
	d.recalls = scope.Counter("recalls", "lines invalidated in private caches because their directory entry was evicted")
	d.flagMoves = scope.Counter("flag_moves", "image-modification flags that moved with a line to another core's row")
	return d, nil
}

// Name returns the directory's hierarchical name.
func (d *Directory) Name() string { return d.name }

// NewAgent registers a core whose private levels are caches.
func (d *Directory) NewAgent(caches ...*Cache) (*Agent, error) {
	if len(d.agents) == MaxAgents {
		return nil, fmt.Errorf("%s: more than %d cores", d.name, MaxAgents)
	}
	a := &Agent{id: len(d.agents), caches: caches}
	for _, c := range caches {
		a.snoop = max(a.snoop, c.cfg.Latency)
	}
	d.agents = append(d.agents, a)
	return a, nil
}

// find returns the entry index of line, or -1.
func (d *Directory) find(line uint64) int {
	set := int((line >> d.lineShift) & d.setMask)
	base := set * d.cfg.Ways
	for i := base; i < base+d.cfg.Ways; i++ {
		if d.entries[i].line == line+1 {
			return i
		}
	}
	return -1
}

// entry returns line's entry, allocating one (and recalling its victim
// through p) when absent.
func (d *Directory) entry(p *Port, line uint64, now sim.Time) *dirEntry {
	d.clock++
	if i := d.find(line); i >= 0 {
		d.entries[i].stamp = d.clock
		return &d.entries[i]
	}
	set := int((line >> d.lineShift) & d.setMask)
	base := set * d.cfg.Ways
	v := base
	for i := base; i < base+d.cfg.Ways; i++ {
		if d.entries[i].line == 0 {
			v = i
			break
		}
		if d.entries[i].stamp < d.entries[v].stamp {
			v = i
		}
	}
	if e := &d.entries[v]; e.line != 0 {
		d.recall(p, e, now)
	}
	d.entries[v] = dirEntry{line: line + 1, owner: -1, stamp: d.clock}
	return &d.entries[v]
}

// recall invalidates e's line in every sharer: flagged copies are logged
// as at an eviction, dirty ones written to the shared level below p's
// private levels.
func (d *Directory) recall(p *Port, e *dirEntry, now sim.Time) {
	line := e.line - 1
	for s := e.sharers; s != 0; s &= s - 1 {
		held, dirty, flag, thread, owner := d.invalidate(d.agents[bits.TrailingZeros64(s)], line)
		if !held {
			continue
		}
		d.recalls.Inc()
		if flag && p.ctl != nil {
			p.stall += p.ctl.logLine(line, thread, srcEvict, now)
		}
		if dirty {
			p.writeBack(p.private, line, owner, now)
		}
	}
	e.line = 0
}

// writeAround invalidates every core's copy of line, which a core's
// write-streaming store is writing below the private levels in full (so
// a dirty copy's data is superseded, not written back), and forgets it.
func (d *Directory) writeAround(line uint64) {
	i := d.find(line)
	if i < 0 {
		return
	}
	e := &d.entries[i]
	for s := e.sharers; s != 0; s &= s - 1 {
		if held, _, _, _, _ := d.invalidate(d.agents[bits.TrailingZeros64(s)], line); held {
			d.invalidations.Inc()
		}
	}
	e.line = 0
}

// invalidate removes line from every cache of a, reporting whether it held
// it and its dirty bit, flag, thread and owner VM.
func (d *Directory) invalidate(a *Agent, line uint64) (held, dirty, flag bool, thread, owner uint16) {
	for _, c := range a.caches {
		r := c.find(line)
		if r < 0 {
			continue
		}
		rw := &c.rows[r]
		held = true
		dirty = dirty || rw.flags&fDirty != 0
		if rw.flags&fIMF != 0 {
			flag, thread = true, rw.thread
		}
		owner = rw.owner
		rw.flags = 0
	}
	return held, dirty, flag, thread, owner
}

// downgrade takes write permission from a's copies of line: dirty data is
// cleaned (the caller writes it below). It reports whether a held the
// line, whether it was dirty, and the owner VM.
func (d *Directory) downgrade(a *Agent, line uint64) (held, dirty bool, owner uint16) {
	for _, c := range a.caches {
		r := c.find(line)
		if r < 0 {
			continue
		}
		rw := &c.rows[r]
		held = true
		if rw.flags&fDirty != 0 {
			dirty, owner = true, rw.owner
		}
		rw.flags &^= fExcl | fDirty
	}
	return held, dirty, owner
}

// read handles a read miss of p's agent (nil: a device) in its private
// levels at now: it returns the cycles of the coherence action, whether
// another core supplied the line, and whether the reader may hold it
// exclusive.
func (d *Directory) read(p *Port, line uint64, now sim.Time) (cycles uint64, remote, excl bool) {
	d.reads.Inc()
	var e *dirEntry
	if p.agent != nil {
		e = d.entry(p, line, now)
	} else if i := d.find(line); i >= 0 {
		e = &d.entries[i]
	} else {
		return 0, false, false // no core holds it
	}
	if e.owner >= 0 && (p.agent == nil || int(e.owner) != p.agent.id) {
		o := d.agents[e.owner]
		held, dirty, vm := d.downgrade(o, line)
		e.owner = -1
		if held {
			d.downgrades.Inc()
			d.transfers.Inc()
			if dirty {
				p.writeBack(p.private, line, vm, now)
			}
			cycles, remote = d.cfg.Latency+2*d.cfg.HopCycles+o.snoop, true
		}
	}
	if p.agent == nil {
		return cycles, remote, false
	}
	me := uint64(1) << p.agent.id
	if e.sharers&^me == 0 {
		e.owner, excl = int8(p.agent.id), true
	}
	e.sharers |= me
	return cycles, remote, excl
}

// own gives p's agent (nil: a device) the only copy of line at now, for a
// store: every other copy is invalidated. It returns the cycles of the
// coherence action and whether another core's dirty copy supplied the data;
// a flag found on an invalidated copy is left in p.moved for the writer's
// row.
func (d *Directory) own(p *Port, line uint64, now sim.Time) (cycles uint64, remote bool) {
	d.owns.Inc()
	var e *dirEntry
	if p.agent != nil {
		e = d.entry(p, line, now)
	} else if i := d.find(line); i >= 0 {
		e = &d.entries[i]
	} else {
		return 0, false
	}
	var me uint64
	if p.agent != nil {
		me = uint64(1) << p.agent.id
	}
	var snoop uint64
	any := false
	for s := e.sharers &^ me; s != 0; s &= s - 1 {
		o := d.agents[bits.TrailingZeros64(s)]
		held, dirty, flag, thread, _ := d.invalidate(o, line)
		if !held {
			continue
		}
		any = true
		d.invalidations.Inc()
		if flag {
			d.flagMoves.Inc()
			p.moved, p.movedThread = true, thread
		}
		if dirty {
			remote, snoop = true, o.snoop
			d.transfers.Inc()
		}
	}
	if any {
		cycles = d.cfg.Latency + 2*d.cfg.HopCycles + snoop
	}
	if p.agent == nil {
		e.line = 0 // no core holds it any more
		return cycles, remote
	}
	e.sharers, e.owner = me, int8(p.agent.id)
	return cycles, remote
}

// leave tells the directory that a's caches may no longer hold line (a
// row was evicted): if none does, a stops being a sharer.
func (d *Directory) leave(a *Agent, line uint64) {
	if a.holds(line) {
		return
	}
	i := d.find(line)
	if i < 0 {
		return
	}
	e := &d.entries[i]
	e.sharers &^= 1 << a.id
	if int(e.owner) == a.id {
		e.owner = -1
	}
	if e.sharers == 0 {
		e.line = 0
	}
}

// drop forgets line: a shared inclusive level evicted it, invalidating
// every private copy.
func (d *Directory) drop(line uint64) {
	if i := d.find(line); i >= 0 {
		d.entries[i].line = 0
	}
}

// Check verifies the directory's invariants against the caches, for tests:
// every private copy's core is a sharer of the line's entry; at most one
// core holds a line writable, and then no other core holds it; and at most
// one row in the host (private or shared levels, among extra) carries the
// line's image-modification flag.
func (d *Directory) Check(extra ...*Cache) error {
	type state struct {
		holders, excl uint64
		flags         int
	}
	lines := map[uint64]*state{}
	get := func(l uint64) *state {
		s := lines[l]
		if s == nil {
			s = &state{}
			lines[l] = s
		}
		return s
	}
	for _, a := range d.agents {
		for _, c := range a.caches {
			for i := range c.rows {
				rw := &c.rows[i]
				if rw.flags&fValid == 0 {
					continue
				}
				s := get(c.addrOf(i))
				s.holders |= 1 << a.id
				if rw.flags&fExcl != 0 {
					s.excl |= 1 << a.id
				}
				if rw.flags&fIMF != 0 {
					s.flags++
				}
			}
		}
	}
	for _, c := range extra {
		for i := range c.rows {
			if c.rows[i].flags&(fValid|fIMF) == fValid|fIMF {
				get(c.addrOf(i)).flags++
			}
		}
	}
	for l, s := range lines {
		if s.holders != 0 {
			i := d.find(l)
			if i < 0 || d.entries[i].sharers&s.holders != s.holders {
				return fmt.Errorf("%s: line %#x is held by cores %b but the directory lists %b", d.name, l, s.holders,
					func() uint64 {
						if i < 0 {
							return 0
						}
						return d.entries[i].sharers
					}())
			}
		}
		if s.excl != 0 && (s.excl&(s.excl-1) != 0 || s.holders != s.excl) {
			return fmt.Errorf("%s: line %#x is writable in cores %b while cores %b hold it", d.name, l, s.excl, s.holders)
		}
		if s.flags > 1 {
			return fmt.Errorf("%s: line %#x is flagged in %d rows", d.name, l, s.flags)
		}
	}
	return nil
}

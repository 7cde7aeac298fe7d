package cache

import (
	"fmt"
	"math/bits"
	"math/rand/v2"

	"github.com/twinsim/twinsim/sim"
)

// Config is the immutable description of one cache level.
type Config struct {
	Size        uint64 // capacity in bytes: Ways × LineSize × a power of two
	LineSize    uint64 // bytes per line, a power of two from 8
	Ways        int    // lines per set, 1..64
	Replacement Replacement
	WritePolicy WritePolicy
	Latency     uint64 // hit latency in core cycles
	TrackThread bool   // rows also record the id of the thread that last wrote them
	// Inclusive levels hold every line of the levels above them in the
	// Ports through them: evicting a line invalidates it above.
	Inclusive bool
	// Banks, if not 0, splits the level into independent banks by line
	// address; each access occupies its bank for BankCycles, and an access
	// that finds its bank busy waits (a reservation timestamp per bank, so
	// cores sharing the level contend).
	Banks      int
	BankCycles uint64
	// MSHRs, if not 0, is how many misses the level can have outstanding
	// (miss status holding registers): a miss that finds them all busy
	// waits for the first to free. A second miss to a line whose fill is
	// on its way takes no register; it completes when the fill arrives.
	// Private levels only (a Port's levels before its coherence point).
	MSHRs int
	// WriteBuffer, if not 0, is how many dirty victims the level can hold
	// while they are written to the level below; a fill whose victim finds
	// the buffer full waits for an entry.
	WriteBuffer int
	// PrefetchDegree, if not 0, turns on a stream prefetcher at this
	// level: a demand miss that continues a run of misses with one stride
	// (up to 8 lines, either direction) within a 4 KiB page fetches the next
	// PrefetchDegree lines of the run, PrefetchDistance strides ahead, into
	// this level (each
	// taking an MSHR if the level has them; none free: the prefetch is
	// dropped). PrefetchStreams runs are tracked (LRU).
	PrefetchDegree, PrefetchDistance, PrefetchStreams int
	// WriteStreaming, if not 0, is the threshold of the level's
	// write-streaming (read-allocate) mode: after that many consecutive
	// store misses whose whole line the core wrote before the fill
	// arrived, store misses stop allocating here and their lines are
	// written to the level below without being read (stream.go). Only
	// in ports without a modification log.
	WriteStreaming int
}

// MaxWays is the largest associativity a Cache supports.
const MaxWays = 64

// Validate reports the first field that is out of range.
func (c Config) Validate() error {
	switch {
	case c.LineSize < 8 || c.LineSize&(c.LineSize-1) != 0:
		return fmt.Errorf("line size %d is not a power of two of at least 8 bytes", c.LineSize)
	case c.Ways < 1 || c.Ways > MaxWays:
		return fmt.Errorf("ways %d is not allowed; must be 1..%d", c.Ways, MaxWays)
	case c.Size == 0 || c.Size%(uint64(c.Ways)*c.LineSize) != 0:
		return fmt.Errorf("size %d is not a positive multiple of ways × line size (%d × %d)", c.Size, c.Ways, c.LineSize)
	case c.Replacement > Random:
		return fmt.Errorf("unknown replacement policy %d", c.Replacement)
	case c.WritePolicy > WriteThrough:
		return fmt.Errorf("unknown write policy %d", c.WritePolicy)
	case c.Banks < 0 || c.Banks > 256:
		return fmt.Errorf("banks %d is not allowed; must be 0..256", c.Banks)
	case c.Banks > 0 && c.BankCycles == 0:
		return fmt.Errorf("bank cycles must be at least 1 when the level has banks")
	case c.MSHRs < 0 || c.MSHRs > 256:
		return fmt.Errorf("mshrs %d is not allowed; must be 0..256", c.MSHRs)
	case c.WriteBuffer < 0 || c.WriteBuffer > 256:
		return fmt.Errorf("write buffer %d is not allowed; must be 0..256", c.WriteBuffer)
	case c.PrefetchDegree < 0 || c.PrefetchDegree > 16:
		return fmt.Errorf("prefetch degree %d is not allowed; must be 0..16", c.PrefetchDegree)
	case c.PrefetchDegree > 0 && (c.PrefetchDistance < 1 || c.PrefetchDistance > 64):
		return fmt.Errorf("prefetch distance %d is not allowed; must be 1..64", c.PrefetchDistance)
	case c.PrefetchDegree > 0 && (c.PrefetchStreams < 1 || c.PrefetchStreams > 64):
		return fmt.Errorf("prefetch streams %d is not allowed; must be 1..64", c.PrefetchStreams)
	case c.WriteStreaming < 0 || c.WriteStreaming > 1024:
		return fmt.Errorf("write-streaming threshold %d is not allowed; must be 0..1024", c.WriteStreaming)
	}
	if sets := c.Size / (uint64(c.Ways) * c.LineSize); sets&(sets-1) != 0 {
		return fmt.Errorf("size %d gives %d sets, which is not a power of two", c.Size, sets)
	}
	return nil
}

// row flag bits
const (
	fValid uint8 = 1 << iota
	fDirty
	fIMF
	// fExcl: the core holding this row may write the line without asking
	// the directory (MESI's E or M state; S without it). Only rows of
	// private levels under a Directory carry it.
	fExcl
	fPrefetched // filled by the prefetcher and not yet used by a demand access
)

// row is one cache line's state. The data lives in physical memory (see the
// package documentation).
type row struct {
	tag    uint64
	stamp  uint64   // LRU: the level's access count at the last use
	ready  sim.Time // when the line's fill arrives: before it, an access waits for it
	owner  uint16   // VM that last filled or wrote the line
	thread uint16   // thread that last wrote the line (TrackThread)
	flags  uint8
}

// Row is the visible state of one cache row, for inspection and tests.
type Row struct {
	Addr  uint64 // line address
	Valid bool
	Dirty bool
	IMF   bool // image-modification flag
	// Exclusive: under a Directory, the core may write without asking
	// (MESI E or M; a valid row without it is S).
	Exclusive bool
	Owner     uint16
	Thread    uint16
}

// Cache is one set-associative level of a hierarchy. It is driven by Ports
// (several Ports may share one Cache, as cores share an L3) and scanned by
// a Controller. Lookups and fills do not allocate.
//
// Statistics under its scope: "read_hits", "read_misses", "write_hits",
// "write_misses", "evictions" (valid lines replaced), "writebacks" (dirty
// lines written to the level below), "flagged_evictions" (evicted lines
// whose image-modification flag was set), the derived "miss_rate", for an
// inclusive level "back_invalidations" (lines it removed above) and for a
// banked one "bank_wait_ps" (time accesses waited for a busy bank).
type Cache struct {
	cfg       Config
	name      string
	rows      []row
	plru      []uint64 // per set: tree bits (PLRU)
	ways      int
	treeWays  int // ways rounded up to a power of two (PLRU)
	setMask   uint64
	lineShift uint
	setShift  uint
	clock     uint64
	rng       *rand.Rand
	wb        bool
	holdsIMF  bool       // the first write-back level of some Port with a controller: the only rows stores flag
	above     []*Cache   // Inclusive: the levels above this one in every Port through it
	bankBusy  []sim.Time // Banks: when each bank is free
	bankRes   int        // Banks under a Weave: the resource index of bank 0
	weave     *Weave     // Banks: resolves bank contention in time order (nil: at once)
	mshr      []sim.Time // MSHRs: when each register frees
	wbuf      []sim.Time // WriteBuffer: when each entry frees
	wbufStart []sim.Time // WriteBuffer: when each entry's latest stretch began

	readHits, readMisses, writeHits, writeMisses *sim.Counter
	evictions, writebacks, flaggedEvictions      *sim.Counter
	backInvalidations                            *sim.Counter // Inclusive only
	bankWait                                     *sim.Counter // Banks only
	mshrMerges, mshrWait, wbufWait               *sim.Counter // MSHRs, WriteBuffer only
	pf                                           *prefetcher
	prefetches, usefulPrefetches, droppedPF      *sim.Counter
	streamedLines, streamingEntries              *sim.Counter // WriteStreaming only
}

// prefetcher is a level's stream prefetcher: the runs of misses it
// follows, one per 4 KiB page.
type prefetcher struct {
	streams []pfStream
	clock   uint64
}

type pfStream struct {
	page   uint64 // page number + 1; 0: free
	last   int64  // line number of the last request
	stride int64  // lines between the last two requests
	conf   uint8
	stamp  uint64
}

// New returns an empty cache level with statistics under scope.
func New(scope sim.Scope, cfg Config) (*Cache, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", scope.Name(), err)
	}
	sets := cfg.Size / (uint64(cfg.Ways) * cfg.LineSize)
	c := &Cache{
		cfg:       cfg,
		name:      scope.Name(),
		rows:      make([]row, sets*uint64(cfg.Ways)),
		ways:      cfg.Ways,
		treeWays:  1 << bits.Len(uint(cfg.Ways-1)),
		setMask:   sets - 1,
		lineShift: uint(bits.TrailingZeros64(cfg.LineSize)),
		setShift:  uint(bits.TrailingZeros64(sets)),
		wb:        cfg.WritePolicy == WriteBack,
	}
	if cfg.Replacement == PLRU {
		c.plru = make([]uint64, sets)
	}
	if cfg.Replacement == Random {
		c.rng = scope.RNG()
	}
	c.readHits = scope.Counter("read_hits", "loads that hit")
	c.readMisses = scope.Counter("read_misses", "loads that missed")
	c.writeHits = scope.Counter("write_hits", "stores that hit")
	c.writeMisses = scope.Counter("write_misses", "stores that missed")
	c.evictions = scope.Counter("evictions", "valid lines replaced")
	c.writebacks = scope.Counter("writebacks", "dirty lines written to the level below")
	c.flaggedEvictions = scope.Counter("flagged_evictions", "evicted lines whose image-modification flag was set")
	if cfg.Banks > 0 {
		c.bankBusy = make([]sim.Time, cfg.Banks)
		c.bankWait = scope.Counter("bank_wait_ps", "picoseconds accesses waited for a busy bank")
	}
	if cfg.MSHRs > 0 {
		c.mshr = make([]sim.Time, cfg.MSHRs)
		c.mshrWait = scope.Counter("mshr_full_ps", "picoseconds misses waited for a free MSHR")
	}
	c.mshrMerges = scope.Counter("mshr_merges", "accesses to a line whose fill was still on its way (secondary misses), completed when it arrived")
	if cfg.WriteBuffer > 0 {
		c.wbuf = make([]sim.Time, cfg.WriteBuffer)
		c.wbufStart = make([]sim.Time, cfg.WriteBuffer)
		c.wbufWait = scope.Counter("write_buffer_full_ps", "picoseconds fills waited for a free write-back buffer entry")
	}
	if cfg.PrefetchDegree > 0 {
		c.pf = &prefetcher{streams: make([]pfStream, cfg.PrefetchStreams)}
		c.prefetches = scope.Counter("prefetches", "lines the stream prefetcher fetched into the level")
		c.usefulPrefetches = scope.Counter("useful_prefetches", "prefetched lines a demand access used")
		c.droppedPF = scope.Counter("dropped_prefetches", "prefetches dropped for want of a free MSHR")
	}
	if cfg.WriteStreaming > 0 {
		c.streamedLines = scope.Counter("streamed_lines", "lines stores wrote to the level below without allocating them here (write-streaming mode)")
		c.streamingEntries = scope.Counter("streaming_entries", "times a core's stores put the level in write-streaming mode")
	}
	if cfg.Inclusive {
		c.backInvalidations = scope.Counter("back_invalidations", "lines invalidated above because this inclusive level evicted them")
	}
	scope.Value("miss_rate", "misses over accesses", func() float64 {
		miss := c.readMisses.Value() + c.writeMisses.Value()
		all := miss + c.readHits.Value() + c.writeHits.Value()
		if all == 0 {
			return 0
		}
		return float64(miss) / float64(all)
	})
	return c, nil
}

// Name returns the level's hierarchical name.
func (c *Cache) Name() string { return c.name }

// Config returns the configuration the level was built with.
func (c *Cache) Config() Config { return c.cfg }

// Lines returns the number of rows.
func (c *Cache) Lines() int { return len(c.rows) }

// Sets returns the number of sets.
func (c *Cache) Sets() int { return int(c.setMask + 1) }

// LineAddr returns the address of the line that holds addr.
func (c *Cache) LineAddr(addr uint64) uint64 { return addr &^ (c.cfg.LineSize - 1) }

func (c *Cache) split(addr uint64) (set uint64, tag uint64) {
	l := addr >> c.lineShift
	return l & c.setMask, l >> c.setShift
}

// addrOf returns the line address held by row index i.
func (c *Cache) addrOf(i int) uint64 {
	set := uint64(i / c.ways)
	return (c.rows[i].tag<<c.setShift | set) << c.lineShift
}

// find returns the row index holding addr, or -1, without touching the
// replacement state.
func (c *Cache) find(addr uint64) int {
	set, tag := c.split(addr)
	base := int(set) * c.ways
	rs := c.rows[base : base+c.ways]
	for w := range rs {
		if rs[w].flags&fValid != 0 && rs[w].tag == tag {
			return base + w
		}
	}
	return -1
}

// bank returns when an access to line arriving at t can start in its
// bank, and reserves the bank from then. Under a Shared, the reservation
// is recorded for the weave (made in time order later) and the access
// starts after agent's own earlier accesses to the bank: agent is whose
// clock the weave's further delay is fed back to.
func (c *Cache) bank(line uint64, t sim.Time, freq sim.Freq, agent int) sim.Time {
	b := int((line >> c.lineShift) % uint64(len(c.bankBusy)))
	if c.weave != nil {
		occ := freq.CyclesToTime(c.cfg.BankCycles)
		return c.weave.record(agent, c.bankRes+b, t, occ, occ, false, false)
	}
	start := max(t, c.bankBusy[b])
	c.bankBusy[b] = start + freq.CyclesToTime(c.cfg.BankCycles)
	c.bankWait.Add(uint64(start - t))
	return start
}

// reserveBank is the weave's reservation of bank b for an access
// reaching it at t: it starts when the bank is free.
func (c *Cache) reserveBank(b int, t, busy sim.Time) sim.Time {
	start := max(t, c.bankBusy[b])
	c.bankBusy[b] = start + busy
	c.bankWait.Add(uint64(start - t))
	return start
}

// takeMSHR claims the register that frees first for a miss detected at t
// and returns its index and when the miss may proceed (t, or when that
// register frees if all are busy). The caller sets when it frees again
// (holdMSHR) once the fill's arrival is known.
func (c *Cache) takeMSHR(t sim.Time) (int, sim.Time) {
	best := 0
	for i, f := range c.mshr {
		if f <= t {
			return i, t
		}
		if f < c.mshr[best] {
			best = i
		}
	}
	c.mshrWait.Add(uint64(c.mshr[best] - t))
	return best, c.mshr[best]
}

// freeMSHR returns a register free at t, or -1.
func (c *Cache) freeMSHR(t sim.Time) int {
	for i, f := range c.mshr {
		if f <= t {
			return i
		}
	}
	return -1
}

// takeWriteBuffer claims an entry for a dirty victim leaving at t that is
// written below in drain, and returns when it could leave (t unless the
// buffer was full). An entry holds its latest stretch [start, end): a
// victim fits before a stretch that starts after it has drained (victims
// leave when their fills arrive, which need not be in call order).
func (c *Cache) takeWriteBuffer(t, drain sim.Time) sim.Time {
	best, bestStart := 0, sim.MaxTime
	for i := range c.wbuf {
		start, end := c.wbufStart[i], c.wbuf[i]
		at := max(t, end)
		if t+drain <= start {
			at = t // it drains before the entry's stretch begins
		}
		if at < bestStart {
			best, bestStart = i, at
		}
	}
	if bestStart >= c.wbuf[best] || bestStart+drain > c.wbufStart[best] {
		c.wbufStart[best], c.wbuf[best] = bestStart, bestStart+drain
	}
	if bestStart > t {
		c.wbufWait.Add(uint64(bestStart - t))
	}
	return bestStart
}

// touch records a use of row i for the replacement policy.
func (c *Cache) touch(i int) {
	switch c.cfg.Replacement {
	case LRU:
		c.clock++
		c.rows[i].stamp = c.clock
	case PLRU:
		set, w := i/c.ways, i%c.ways
		// Point every node on the path away from way w.
		bitsv := c.plru[set]
		node := 0
		for half := c.treeWays >> 1; half > 0; half >>= 1 {
			if w&half != 0 {
				bitsv &^= 1 << node // the LRU side is now the left (0) half
				node = 2*node + 2
			} else {
				bitsv |= 1 << node
				node = 2*node + 1
			}
		}
		c.plru[set] = bitsv
	}
}

// victim returns the row index to replace in addr's set: an invalid row if
// there is one, otherwise the policy's choice.
func (c *Cache) victim(addr uint64) int {
	set, _ := c.split(addr)
	base := int(set) * c.ways
	rs := c.rows[base : base+c.ways]
	for w := range rs {
		if rs[w].flags&fValid == 0 {
			return base + w
		}
	}
	switch c.cfg.Replacement {
	case LRU:
		best := 0
		for w := 1; w < len(rs); w++ {
			if rs[w].stamp < rs[best].stamp {
				best = w
			}
		}
		return base + best
	case PLRU:
		// Follow the tree bits towards the pseudo-least-recently-used way;
		// when ways is not a power of two, a half that holds no real way
		// is never chosen.
		bitsv := c.plru[set]
		node, w := 0, 0
		for half := c.treeWays >> 1; half > 0; half >>= 1 {
			right := bitsv&(1<<node) != 0
			if right && w+half >= c.ways {
				right = false
			}
			if right {
				w += half
				node = 2*node + 2
			} else {
				node = 2*node + 1
			}
		}
		return base + w
	}
	return base + c.rng.IntN(c.ways)
}

// Probe returns the state of the row holding addr, if any, without
// changing it.
func (c *Cache) Probe(addr uint64) (Row, bool) {
	i := c.find(addr)
	if i < 0 {
		return Row{}, false
	}
	return c.rowAt(i), true
}

func (c *Cache) rowAt(i int) Row {
	r := &c.rows[i]
	return Row{Addr: c.addrOf(i), Valid: r.flags&fValid != 0, Dirty: r.flags&fDirty != 0,
		IMF: r.flags&fIMF != 0, Exclusive: r.flags&fExcl != 0, Owner: r.owner, Thread: r.thread}
}

// Rows calls fn for every valid row in index order.
func (c *Cache) Rows(fn func(Row)) {
	for i := range c.rows {
		if c.rows[i].flags&fValid != 0 {
			fn(c.rowAt(i))
		}
	}
}

// HoldsFlags reports whether stores can set image-modification flags in
// this level: it is the first write-back level of a Port that has a
// controller. Levels below it only ever receive unflagged write-backs.
func (c *Cache) HoldsFlags() bool { return c.holdsIMF }

// FlaggedLines returns the number of rows whose image-modification flag is
// set.
func (c *Cache) FlaggedLines() int {
	n := 0
	for i := range c.rows {
		if c.rows[i].flags&fIMF != 0 {
			n++
		}
	}
	return n
}

// train records a request that missed this level (or used a prefetched
// line) on line and returns the first line to prefetch and the stride in
// lines (0: none), once two requests in a row in one page have continued a
// run of the same stride (up to maxStride lines, either direction).
func (c *Cache) train(line uint64) (from uint64, stride int64) {
	pf := c.pf
	pf.clock++
	n := int64(line >> c.lineShift)
	page := line>>12 + 1
	victim := 0
	for i := range pf.streams {
		s := &pf.streams[i]
		if s.page == page {
			d := n - s.last
			switch {
			case d == 0 || d > maxStride || d < -maxStride:
				s.conf = 0
			case d == s.stride:
				s.conf = min(s.conf+1, 3)
			default:
				s.stride, s.conf = d, 1
			}
			s.last, s.stamp = n, pf.clock
			if s.conf >= 2 {
				if next := n + int64(c.cfg.PrefetchDistance)*s.stride; next >= 0 {
					return uint64(next) << c.lineShift, s.stride
				}
			}
			return 0, 0
		}
		if s.stamp < pf.streams[victim].stamp {
			victim = i
		}
	}
	pf.streams[victim] = pfStream{page: page, last: n, stamp: pf.clock}
	return 0, 0
}

// maxStride is the longest stride, in lines, a stream prefetcher follows.
const maxStride = 8

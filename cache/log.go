package cache

import (
	"fmt"

	"github.com/twinsim/twinsim/memory"
	"github.com/twinsim/twinsim/sim"
)

// EntryBytes is the size of one modification-log entry: a line address in
// bits 0..47 and, when thread ids are tracked, the thread id in bits 48..63.
const EntryBytes = 8

const (
	entryAddrBits = 48
	entryAddrMask = 1<<entryAddrBits - 1
)

// LogConfig describes the modification log and the controller's costs.
type LogConfig struct {
	Base              uint64 // initial address register: where the circular buffer starts in physical memory
	Size              uint64 // size register: bytes of the buffer, a multiple of LineSize
	LineSize          uint64 // cache line size: logged addresses are line aligned; a batch is one line of entries
	DedupWindow       int    // an address equal to one of the last DedupWindow logged is not logged again; 0 disables
	Batch             bool   // collect a line's worth of entries and write them with one memory write
	Overflow          OverflowPolicy
	GuardEntries      int    // InterruptCheckpoint: free entries at which the interrupt is raised
	ScanCyclesPerLine uint64 // checkpoint scan cost per row examined, in cycles
	TrackThread       bool   // entries carry the id of the thread that set the flag
}

// Registers is the programmer-visible state of the log: the four registers
// of the circular buffer. Next and Wrap are absolute physical addresses in
// [Initial, Initial+Size). The controller writes entries at Next and
// advances it, wrapping from the end of the buffer to Initial; Wrap is the
// oldest entry not yet consumed by the hypervisor, which the controller
// never overtakes. The log is empty when Next == Wrap and full when one
// more entry would make them equal, so it holds Size/8 - 1 entries.
type Registers struct {
	Initial, Size, Next, Wrap uint64
}

// log entry sources
const (
	srcEvict = iota
	srcScan
)

// Controller is the image-modification logic shared by a host's caches: it
// decides which stores set a row's flag and owns the modification log that
// flagged lines' addresses are appended to. A host has one Controller; every
// write-back level that may hold flags is attached to it with AddCache.
//
// Statistics under its scope: "entries" appended (of which "evict_entries"
// at eviction, step 440, and "scan_entries" at checkpoint scans),
// "dedup_filtered", "log_writes" and "log_bytes" (memory writes the log
// made), "overflows" (appends that found the log full), "dropped" (entries
// lost under the drop policy), "stall_cycles" (cycles cores waited for a
// drain), "interrupts", "flag_sets" (step 430), "exempt_hypervisor" and
// "exempt_not_backed_up" (stores that set no flag because of their mode or
// VM, step 425), "scans", "scan_lines", "scan_cycles" and "drained".
type Controller struct {
	cfg    LogConfig
	name   string
	tracer *sim.Tracer
	mem    *memory.Physical
	dram   *memory.DRAM // nil until a Port attaches one: log writes then cost no DRAM time
	weave  *Weave       // set when a Port under a Weave attaches: log writes are replayed in time order
	caches []*Cache

	vmMask     [1 << 16 / 64]uint64
	threadMask [1 << 16 / 64]uint64

	reg      Registers
	capacity uint64   // entries the ring holds
	batch    []uint64 // entries collected for the next batched write
	perLine  int
	dedup    []uint64 // ring of recent addresses
	dedupLen int
	dedupPos int
	armed    bool     // the guard-band interrupt may be raised
	now      sim.Time // time of the latest append or scan, for posted log writes

	// OnFull is called when an entry must be appended to a full log under
	// the Stall and InterruptCheckpoint policies. It must consume entries
	// (with Drain) and returns the cycles the waiting core is stalled.
	OnFull func(now sim.Time) (stallCycles uint64)
	// OnInterrupt is called under the InterruptCheckpoint policy when the
	// free entries fall to GuardEntries; it is raised again only after the
	// next Drain.
	OnInterrupt func(now sim.Time)

	entries, srcCount                       [2]*sim.Counter
	dedupFiltered, logWrites, logBytes      *sim.Counter
	overflows, dropped, stallCycles, intr   *sim.Counter
	flagSets, exemptHyp, exemptNotBacked    *sim.Counter
	scans, scanLines, scanCycles, drainedCt *sim.Counter
	total                                   *sim.Counter
}

// NewController returns a controller whose log lives in mem, empty (Next =
// Wrap = Base), with no VM backed up.
func NewController(scope sim.Scope, mem *memory.Physical, cfg LogConfig) (*Controller, error) {
	switch {
	case mem == nil:
		return nil, fmt.Errorf("%s: no physical memory for the log", scope.Name())
	case cfg.LineSize < EntryBytes || cfg.LineSize&(cfg.LineSize-1) != 0:
		return nil, fmt.Errorf("%s: line size %d is not a power of two of at least %d bytes", scope.Name(), cfg.LineSize, EntryBytes)
	case cfg.Size == 0 || cfg.Size%cfg.LineSize != 0:
		return nil, fmt.Errorf("%s: log size %d is not a positive multiple of the line size %d", scope.Name(), cfg.Size, cfg.LineSize)
	case cfg.Size < 2*EntryBytes:
		return nil, fmt.Errorf("%s: log size %d holds no entry; it must be at least %d bytes", scope.Name(), cfg.Size, 2*EntryBytes)
	case cfg.Base%cfg.LineSize != 0:
		return nil, fmt.Errorf("%s: log base %#x is not aligned to the line size %d", scope.Name(), cfg.Base, cfg.LineSize)
	case !mem.Contains(cfg.Base, cfg.Size):
		return nil, fmt.Errorf("%s: log [%#x, +%#x) lies outside physical memory of %d bytes", scope.Name(), cfg.Base, cfg.Size, mem.Size())
	case mem.Size() > 1<<entryAddrBits:
		return nil, fmt.Errorf("%s: physical memory of %d bytes needs more than the %d address bits of a log entry", scope.Name(), mem.Size(), entryAddrBits)
	case cfg.DedupWindow < 0:
		return nil, fmt.Errorf("%s: dedup window %d is negative", scope.Name(), cfg.DedupWindow)
	case cfg.Overflow > Drop:
		return nil, fmt.Errorf("%s: unknown overflow policy %d", scope.Name(), cfg.Overflow)
	}
	c := &Controller{cfg: cfg, name: scope.Name(), tracer: scope.Tracer(), mem: mem,
		reg:      Registers{Initial: cfg.Base, Size: cfg.Size, Next: cfg.Base, Wrap: cfg.Base},
		capacity: cfg.Size/EntryBytes - 1, perLine: int(cfg.LineSize / EntryBytes),
		dedup: make([]uint64, cfg.DedupWindow), armed: true}
	if cfg.GuardEntries < 0 || uint64(cfg.GuardEntries) >= c.capacity {
		return nil, fmt.Errorf("%s: guard entries %d is not allowed; must be 0..%d for a log of %d bytes",
			scope.Name(), cfg.GuardEntries, c.capacity-1, cfg.Size)
	}
	if cfg.Batch {
		c.batch = make([]uint64, 0, c.perLine)
	}
	c.total = scope.Counter("entries", "addresses appended to the modification log")
	c.srcCount[srcEvict] = scope.Counter("evict_entries", "addresses logged when a flagged line was evicted (step 440)")
	c.srcCount[srcScan] = scope.Counter("scan_entries", "addresses logged by checkpoint scans (step 440, periodic)")
	c.dedupFiltered = scope.Counter("dedup_filtered", "addresses not logged because the de-duplication window held them")
	c.logWrites = scope.Counter("log_writes", "memory writes made by the log")
	c.logBytes = scope.Counter("log_bytes", "bytes written to the log")
	c.overflows = scope.Counter("overflows", "appends that found the log full")
	c.dropped = scope.Counter("dropped", "addresses lost because the log was full (drop policy): data loss")
	c.stallCycles = scope.Counter("stall_cycles", "cycles cores waited for the hypervisor to drain a full log")
	c.intr = scope.Counter("interrupts", "guard-band interrupts raised (interrupt-checkpoint policy)")
	c.flagSets = scope.Counter("flag_sets", "stores that set an image-modification flag that was clear (step 430)")
	c.exemptHyp = scope.Counter("exempt_hypervisor", "stores in hypervisor privilege mode, which set no flag")
	c.exemptNotBacked = scope.Counter("exempt_not_backed_up", "guest stores by VMs (or threads) not backed up, which set no flag")
	c.scans = scope.Counter("scans", "checkpoint scans")
	c.scanLines = scope.Counter("scan_lines", "rows examined by checkpoint scans")
	c.scanCycles = scope.Counter("scan_cycles", "cycles spent scanning")
	c.drainedCt = scope.Counter("drained", "entries consumed by the hypervisor")
	return c, nil
}

// Name returns the controller's hierarchical name.
func (c *Controller) Name() string { return c.name }

// LogCounts are the log's counts since it was built.
type LogCounts struct {
	Evict, Scan uint64 // entries logged at eviction and by checkpoint scans
	Bytes       uint64 // bytes written to the log
	Overflows   uint64 // appends that found the log full
	Dropped     uint64 // addresses lost to a full log (drop policy)
}

// Counts returns the log's counts so far.
func (c *Controller) Counts() LogCounts {
	return LogCounts{Evict: c.srcCount[srcEvict].Value(), Scan: c.srcCount[srcScan].Value(), Bytes: c.logBytes.Value(),
		Overflows: c.overflows.Value(), Dropped: c.dropped.Value()}
}

// Config returns the configuration the controller was built with.
func (c *Controller) Config() LogConfig { return c.cfg }

// Registers returns the log's four registers.
func (c *Controller) Registers() Registers { return c.reg }

// Capacity returns the number of entries the log holds.
func (c *Controller) Capacity() uint64 { return c.capacity }

// Len returns the entries appended and not yet consumed, including those
// waiting in the batch buffer.
func (c *Controller) Len() uint64 {
	used := (c.reg.Next - c.reg.Wrap + c.reg.Size) % c.reg.Size / EntryBytes
	return used + uint64(len(c.batch))
}

// DataLoss reports whether any address was dropped, which leaves the backup
// image stale.
func (c *Controller) DataLoss() bool { return c.dropped.Value() > 0 }

// AddCache attaches a level whose rows may carry flags: checkpoint scans
// examine it. Attach each level once, shared levels included.
func (c *Controller) AddCache(cc *Cache) {
	for _, x := range c.caches {
		if x == cc {
			panic(fmt.Sprintf("cache: %s attached to %s twice", cc.Name(), c.name))
		}
	}
	c.caches = append(c.caches, cc)
}

// SetBackedUp marks whether VM id's image is backed up: only its guest-mode
// stores set flags (step 425).
func (c *Controller) SetBackedUp(id uint16, on bool) { setBit(&c.vmMask, id, on) }

// BackedUp reports whether VM id is marked backed up.
func (c *Controller) BackedUp(id uint16) bool { return getBit(&c.vmMask, id) }

// SetThreadBackedUp marks thread id as backed up. With TrackThread on, a
// guest store sets the flag only when both its VM and its thread are backed
// up (the thread-level variant of the family).
func (c *Controller) SetThreadBackedUp(id uint16, on bool) { setBit(&c.threadMask, id, on) }

func setBit(m *[1 << 16 / 64]uint64, id uint16, on bool) {
	if on {
		m[id/64] |= 1 << (id % 64)
	} else {
		m[id/64] &^= 1 << (id % 64)
	}
}

func getBit(m *[1 << 16 / 64]uint64, id uint16) bool { return m[id/64]&(1<<(id%64)) != 0 }

// Check reports a configuration that cannot work: a policy whose hook is
// missing.
func (c *Controller) Check() error {
	switch {
	case c.cfg.Overflow != Drop && c.OnFull == nil:
		return fmt.Errorf("%s: overflow policy %s needs an OnFull drain hook", c.name, c.cfg.Overflow)
	case c.cfg.Overflow == InterruptCheckpoint && c.OnInterrupt == nil:
		return fmt.Errorf("%s: overflow policy %s needs an OnInterrupt hook", c.name, c.cfg.Overflow)
	}
	return nil
}

// attachDRAM makes log writes occupy d's bandwidth. The first Port built
// with this controller attaches its DRAM.
func (c *Controller) attachDRAM(d *memory.DRAM) error {
	if c.dram != nil && c.dram != d {
		return fmt.Errorf("%s: ports of one controller must share one DRAM", c.name)
	}
	c.dram = d
	return nil
}

// flags reports whether a store made as a sets the image-modification flag,
// counting the exemptions (steps 425 and 430).
func (c *Controller) flags(a *Access) bool {
	if a.Mode != Guest {
		c.exemptHyp.Inc()
		return false
	}
	if !getBit(&c.vmMask, a.VM) || c.cfg.TrackThread && !getBit(&c.threadMask, a.Thread) {
		c.exemptNotBacked.Inc()
		return false
	}
	return true
}

// logLine appends the address of a flagged line (step 440) and returns the
// cycles the core must stall for it.
func (c *Controller) logLine(addr uint64, thread uint16, src int, now sim.Time) (stall uint64) {
	c.now = now
	if c.inDedup(addr) {
		c.dedupFiltered.Inc()
		return 0
	}
	if c.Len() >= c.capacity {
		c.overflows.Inc()
		if c.cfg.Overflow == Drop {
			c.dropped.Inc()
			if c.tracer != nil {
				c.tracer.Instant(c.name, "imlog", "dropped", now)
			}
			return 0
		}
		stall = c.OnFull(now)
		c.stallCycles.Add(stall)
		if c.tracer != nil {
			c.tracer.Instant(c.name, "imlog", "full", now, sim.TraceArg{Key: "stall_cycles", Value: float64(stall)})
		}
		if c.Len() >= c.capacity {
			panic(fmt.Sprintf("cache: %s: OnFull returned with the log still full", c.name))
		}
	}
	e := addr & entryAddrMask
	if c.cfg.TrackThread {
		e |= uint64(thread) << entryAddrBits
	}
	if c.cfg.Batch {
		c.batch = append(c.batch, e)
		if len(c.batch) == c.perLine {
			c.flushBatch()
		}
	} else {
		c.mem.WriteU64(c.reg.Next, e)
		c.posted(c.reg.Next, EntryBytes)
		c.advance(EntryBytes)
	}
	c.total.Inc()
	c.srcCount[src].Inc()
	c.remember(addr)
	if c.cfg.Overflow == InterruptCheckpoint && c.armed && c.capacity-c.Len() <= uint64(c.cfg.GuardEntries) {
		c.armed = false
		c.intr.Inc()
		if c.tracer != nil {
			c.tracer.Instant(c.name, "imlog", "interrupt", now)
		}
		c.OnInterrupt(now)
	}
	return stall
}

// flushBatch writes the batch buffer to the ring: one memory write, or two
// when the batch wraps around the end of the buffer.
func (c *Controller) flushBatch() {
	n := uint64(len(c.batch))
	if n == 0 {
		return
	}
	end := c.reg.Initial + c.reg.Size
	first := min(n, (end-c.reg.Next)/EntryBytes)
	for i, e := range c.batch {
		c.mem.WriteU64(c.reg.Next+uint64(i)*EntryBytes, e)
		if uint64(i+1) == first {
			break
		}
	}
	c.posted(c.reg.Next, first*EntryBytes)
	c.advance(first * EntryBytes)
	if rest := n - first; rest > 0 {
		for i, e := range c.batch[first:] {
			c.mem.WriteU64(c.reg.Next+uint64(i)*EntryBytes, e)
		}
		c.posted(c.reg.Next, rest*EntryBytes)
		c.advance(rest * EntryBytes)
	}
	c.batch = c.batch[:0]
}

// posted counts a log memory write of n bytes at addr and reserves DRAM for
// it without delaying anyone.
func (c *Controller) posted(addr, n uint64) {
	c.logWrites.Inc()
	c.logBytes.Add(n)
	switch {
	case c.weave != nil:
		c.weave.record(-1, c.dram.Channel(addr), c.now, c.dram.TransferTime(n), sim.Time(n), true, true)
	case c.dram != nil:
		c.dram.Access(c.now, addr, n, true)
	}
}

// advance moves the next-available pointer on by n bytes, wrapping.
func (c *Controller) advance(n uint64) {
	c.reg.Next += n
	if c.reg.Next >= c.reg.Initial+c.reg.Size {
		c.reg.Next -= c.reg.Size
	}
}

func (c *Controller) inDedup(addr uint64) bool {
	for i := 0; i < c.dedupLen; i++ {
		if c.dedup[i] == addr {
			return true
		}
	}
	return false
}

func (c *Controller) remember(addr uint64) {
	if len(c.dedup) == 0 {
		return
	}
	c.dedup[c.dedupPos] = addr
	c.dedupPos++
	if c.dedupPos == len(c.dedup) {
		c.dedupPos = 0
	}
	c.dedupLen = min(c.dedupLen+1, len(c.dedup))
}

// Drain is the hypervisor consuming the log: it writes out a partial batch,
// reads every unconsumed entry from simulated memory in order, calls fn
// with its line address and thread id (0 unless TrackThread), and moves the
// wrap pointer up to the next-available pointer. It also empties the
// de-duplication window, so that a line modified again after the entries
// were consumed is logged again. It returns the number of entries consumed.
func (c *Controller) Drain(fn func(addr uint64, thread uint16)) int {
	c.flushBatch()
	n := 0
	for p := c.reg.Wrap; p != c.reg.Next; {
		e := c.mem.ReadU64(p)
		fn(e&entryAddrMask, uint16(e>>entryAddrBits))
		n++
		p += EntryBytes
		if p == c.reg.Initial+c.reg.Size {
			p = c.reg.Initial
		}
	}
	c.reg.Wrap = c.reg.Next
	c.dedupLen, c.dedupPos = 0, 0
	c.armed = true
	c.drainedCt.Add(uint64(n))
	return n
}

// Flush empties every attached level now, as a flush of the caches does:
// each valid row is invalidated, a flagged one first logged as at eviction
// (step 440), so that no modification escapes the log. It returns the rows
// invalidated; dirty data is not modelled beyond the flags (the caches hold
// tags), so the caller charges the write-backs' time.
func (c *Controller) Flush(now sim.Time) (lines int) {
	c.now = now
	for _, cc := range c.caches {
		for i := range cc.rows {
			r := &cc.rows[i]
			if r.flags&fValid == 0 {
				continue
			}
			if r.flags&fIMF != 0 {
				c.logLine(cc.addrOf(i), r.thread, srcEvict, now)
			}
			r.flags = 0
			lines++
		}
	}
	return lines
}

// Scan is the checkpoint part of step 440: it examines every row of every
// attached level that can hold flags (see Cache.HoldsFlags), in order, appends the address of each flagged
// row to the log and clears its flag (dirty bits and data are unchanged).
// It returns the rows examined, the addresses found flagged, and the scan
// cost: ScanCyclesPerLine per row examined.
func (c *Controller) Scan(now sim.Time) (lines, flagged int, cycles uint64) {
	c.now = now
	for _, cc := range c.caches {
		if !cc.holdsIMF {
			continue
		}
		lines += len(cc.rows)
		for i := range cc.rows {
			r := &cc.rows[i]
			if r.flags&fIMF == 0 {
				continue
			}
			r.flags &^= fIMF
			flagged++
			c.logLine(cc.addrOf(i), r.thread, srcScan, now)
		}
	}
	cycles = uint64(lines) * c.cfg.ScanCyclesPerLine
	c.scans.Inc()
	c.scanLines.Add(uint64(lines))
	c.scanCycles.Add(cycles)
	return lines, flagged, cycles
}

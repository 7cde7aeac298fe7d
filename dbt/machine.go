package dbt

import (
	"fmt"
	"io"
	"sort"

	"github.com/twinsim/twinsim/cpu"
	"github.com/twinsim/twinsim/memory"
	"github.com/twinsim/twinsim/sim"
)

// Stats are a guest run's counts.
type Stats struct {
	GuestInsts       uint64 // guest instructions completed
	HostInsts        uint64 // host instructions executed
	BlocksTranslated uint64
	ChainHits        uint64 // block transitions that followed a cached link
	Dispatches       uint64 // block transitions through the lookup table
	CacheFlushes     uint64 // whole code-cache flushes (fence.i)
	Invalidations    uint64 // blocks discarded because their code changed
	Faults           uint64 // memory faults taken by the firmware (code-page writes included)
	MixedAccesses    uint64 // accesses to mixed host pages the firmware completed at 4 KiB granularity
	TLBMisses        uint64
	Regenerations    uint64 // blocks discarded and translated again with inline walks
	WalkedBlocks     uint64 // blocks translated with inline walks (regenerated or always-walk)
	Walks            uint64 // inline page-table walks executed
	WalkedAccesses   uint64 // accesses after a walk that the MMU refused (mixed host pages), completed by the walk
	MissedFaults     uint64 // Permissive: accesses the guest's 4 KiB protection would have refused but the union allowed
	RedirectedPages  uint64 // guest pages the redirection page mapper gives frames of their own, now
	RedirectFrames   uint64 // frames it has handed out
	MixedHostPages   uint64 // host pages holding guest pages that differ in protection, now
	UniformHostPages uint64 // host pages whose guest pages share one protection, now
	// The regions of interest the guest marked (SysROI), summed: how many,
	// and their cycles (host instructions in functional mode), guest and
	// host instructions.
	ROIs, ROICycles, ROIGuestInsts, ROIHostInsts uint64
	// Threads is how many threads the process has had, the main one
	// included.
	Threads uint64
}

// SysROI is twinsim's region-of-interest system call: a guest calls it
// with a0 = ROIBegin before the code it wants measured and ROIEnd after,
// and the machine adds the cycles and instructions between them to its
// ROI statistics (like gem5's m5_reset_stats / m5_dump_stats). It costs no
// firmware time and returns 0, or -EINVAL for an unknown a0, a begin
// inside a region or an end outside one. Linux and qemu-riscv64 fail it
// with ENOSYS and do nothing else, so a program marked this way runs
// unchanged elsewhere.
const SysROI = 4000

// SysROI's operations.
const (
	ROIBegin = 1
	ROIEnd   = 2
)

// MachineConfig is how the host runs the guest.
type MachineConfig struct {
	// HostPageSize is the host MMU's page size: 4 KiB, 16 KiB or 64 KiB
	// (the default). A host page whose guest pages all share one
	// protection is mapped directly; an access to any other (mixed) host
	// page faults into the firmware, which checks the guest's own 4 KiB
	// protection and completes the access.
	HostPageSize uint64
	// Freq is the host core's clock. In functional mode a host instruction
	// takes one cycle: the guest's clocks (clock_gettime, the time CSR) read
	// the time the instructions executed so far would take. 1 GHz when 0.
	Freq sim.Freq
	// Timing, if set, runs a timing model (in-order or out-of-order)
	// beside the functional core (timing mode): cycles follow the executed
	// instructions through the core's pipeline, caches and predictors, and
	// the guest's clocks read those cycles.
	Timing cpu.Timing
	// Firmware costs charged to the timing model, in cycles.
	TranslateCycles uint64 // per guest instruction translated
	SyscallCycles   uint64 // per system call emulated
	FaultCycles     uint64 // per access to a mixed host page the firmware completes
	// Strategy is how accesses to mixed host pages are handled (Never
	// when zero); Adaptive and Selective regenerate a block once it has
	// taken RegenThreshold faults on them (at least 1).
	Strategy       Strategy
	RegenThreshold int
	// Scheduled says a scheduler runs the machine among others (a core
	// shared by VMs): a call that waits for a timeout returns to it
	// (Blocked) instead of letting the guest's clock jump, which would
	// take the core's time from the others.
	Scheduled bool
	// GuestBase relocates a guest without a VM image (an identity
	// backing) for the caches: host address GuestBase | a for guest
	// address a (and its redirected frames), so that several such guests
	// on one host do not share cache lines. A multiple of 2^46, below
	// 2^62; 0 leaves the addresses as they are.
	GuestBase uint64
	// ScatterPages places such a guest's host pages at frames drawn by a
	// permutation seeded with ScatterSeed (as a long-running kernel's
	// allocator leaves them) instead of contiguously; it changes only
	// which cache sets and DRAM channels its lines use. A guest in a VM
	// image keeps the image's frames.
	ScatterPages bool
	ScatterSeed  uint64
	// Cores, if set, are the timing cores the process's threads run on:
	// the n-th thread created (the main thread is the 0th) on
	// Cores[n % len(Cores)], threads sharing a core taking turns of
	// Timeslice cycles. Timing is then Cores[0]. Nil: every thread on
	// Timing (or, in functional mode, each with a clock of its own).
	Cores []cpu.Timing
	// OnThread, if set, is told which thread runs on timing core tm each
	// time that changes (the core's ports record its id in the caches).
	OnThread func(tm cpu.Timing, tid int)
	// Timeslice is how long a thread runs before another thread of the
	// same core (or, in functional mode, of the process) takes its turn:
	// cycles, or host instructions in functional mode. 100,000 when 0.
	Timeslice uint64
	// FirmwareBase relocates the translator's own memory — the code
	// cache, the software TLB of inline walks and the redirection pool,
	// all above GuestSpaceTop — for the caches: host address
	// FirmwareBase | a for firmware address a. It keeps several guests on
	// one host apart. 0 leaves the addresses as they are; otherwise it
	// must be a multiple of 2^45.
	FirmwareBase uint64
}

// Strategy is how the translator handles guest accesses to mixed host
// pages (PATENTS.md family 1).
type Strategy uint8

// Strategies.
const (
	// Never lets every access to a mixed host page fault into the
	// firmware (a threshold of infinity). The zero value.
	Never Strategy = iota
	// Adaptive counts each block's faults on mixed host pages (the memory
	// fault behaviour detector) and, at RegenThreshold, discards the block
	// and translates it again with every load and store through an inline
	// page-table walk (regeneration) — the patent family's mechanism.
	Adaptive
	// Selective is Adaptive regenerating only the guest instructions that
	// faulted: the block's other loads and stores keep their direct
	// accesses, and an instruction that starts faulting later brings a
	// further regeneration.
	Selective
	// AlwaysWalk translates every block with inline walks from the start
	// (a threshold of 0; QEMU softmmu-like).
	AlwaysWalk
	// Refuse rejects a guest layout that makes a host page mixed, with an
	// error (as FEX does on hosts whose pages are larger than the
	// guest's).
	Refuse
	// Permissive maps a mixed host page directly with the union of its
	// guest pages' protections, as QEMU's linux-user mode does: no fault,
	// but an access the guest's own 4 KiB page would refuse is allowed —
	// each one counted as a missed guest fault (Stats.MissedFaults).
	Permissive
)

var strategyNames = [...]string{Never: "never", Adaptive: "adaptive", Selective: "selective", AlwaysWalk: "always-walk",
	Refuse: "refuse", Permissive: "permissive"}

// String returns the strategy's configuration name.
func (s Strategy) String() string {
	if int(s) < len(strategyNames) {
		return strategyNames[s]
	}
	return fmt.Sprintf("Strategy(%d)", uint8(s))
}

// ParseStrategy returns the strategy named name.
func ParseStrategy(name string) (Strategy, error) {
	for i, n := range strategyNames {
		if n == name {
			return Strategy(i), nil
		}
	}
	return 0, fmt.Errorf("unknown page-size strategy %q; must be one of adaptive, selective, never, always-walk, refuse, permissive", name)
}

// Machine runs a guest process on a functional host core through the
// translator: it translates guest blocks on first execution, keeps them in
// a code cache indexed by guest address with direct links between blocks,
// emulates system calls, and turns faults into guest signals.
//
// Self-modifying code: a guest page that blocks were translated from is
// write-protected in the core's view; a store to it exits to the firmware,
// which discards those blocks, lifts the protection and restarts the store.
type Machine struct {
	cfg    MachineConfig
	proc   *Process
	core   *cpu.Core
	mem    *guestMem
	view4k pageView
	blocks map[uint64]*Block
	pages  map[uint64][]*Block // guest page → blocks with code on it
	stats  Stats
	diag   io.Writer

	// Where Run continues: the guest pc, and the exit of the block that
	// led there (linked to pc's block once it is looked up).
	pc       uint64
	prev     *Block
	prevIdx  int
	started  bool
	exited   bool
	result   Result
	codeNext uint64 // host address for the next translated block
	roiOpen  bool
	pending  *PendingCall      // a system call that blocked
	refused  error             // Refuse: the first layout that made a host page mixed
	layout   []LayoutSample    // host pages by class after each change of the guest's layout
	redirect *redirector       // the redirection page mapper
	scatter  *scatter          // where an identity-backed guest's host pages lie (nil: contiguous)
	faultsOf map[uint64]uint64 // discarded blocks: fault counts → blocks (FaultsPerBlock)
	roiStart [3]uint64         // cycles, guest and host instructions at the open ROIBegin

	threads  []*Thread    // every thread, in creation order: the main thread first
	cur      *Thread      // the thread whose state core, pc, prev, pending and the process hold
	cores    []cpu.Timing // where threads are placed (MachineConfig.Cores)
	rot      int          // runThreads' rotation
	futexSeq uint64
	yield    bool // a thread was created: the running one gives way to the scheduler
}

// CodeCacheBase is the host address of the code cache, above every guest
// address: translated blocks are laid out from here, each instruction one
// 8-byte word, and instruction fetch reads them there.
const CodeCacheBase = 1 << 40

// guestMem is the host MMU's view of guest memory, at the host page size.
// A host page is mapped only when it is uniform: every guest page in it is
// mapped with the same protection. Pages holding translated code are
// read-only (so that stores to them reach the firmware).
type guestMem struct {
	as         *AddressSpace
	shift      uint
	permissive bool                 // mixed host pages are mapped with the union of their protections
	missed     uint64               // permissive: accesses the guest's pages would have refused
	code       map[uint64]bool      // guest pages with translated code
	class      map[uint64]hostClass // host page number → classification, cached
}

type hostClass struct {
	uniform bool
	perm    memory.Perm // uniform: the pages' protection
	union   memory.Perm // every mapped page's protection, together
	code    bool
}

func (g *guestMem) PageShift() uint { return g.shift }

func (g *guestMem) classify(hp uint64) hostClass {
	if c, ok := g.class[hp]; ok {
		return c
	}
	c := hostClass{uniform: true}
	base := hp << g.shift
	for va := base; va < base+1<<g.shift; va += GuestPageSize {
		pte, ok := g.as.pt.Lookup(va)
		switch {
		case !ok:
			c.uniform = false
		case va == base:
			c.perm = pte.Perm
		case pte.Perm != c.perm:
			c.uniform = false
		}
		if ok {
			c.union |= pte.Perm
		}
		if g.code[va] {
			c.code = true
		}
	}
	g.class[hp] = c
	return c
}

// Checked implements cpu.CheckedMemory: under the permissive strategy a
// mixed host page is checked on every access.
func (g *guestMem) Checked(base uint64) bool {
	return g.permissive && !g.classify(base>>g.shift).uniform
}

// Check implements cpu.CheckedMemory: it counts an access the guest's own
// pages would have refused (any of the 4 KiB pages its bytes touch).
func (g *guestMem) Check(va, n uint64, write bool) {
	for p := pageDown(va); p < va+max(n, 1); p += GuestPageSize {
		if pte, ok := g.as.pt.Lookup(p); !ok || !allows(pte.Perm, false, false, write) {
			g.missed++
			return
		}
	}
}

// forget drops the cached classification of the host pages over
// [start, end).
func (g *guestMem) forget(start, end uint64) {
	end = min(end, GuestSpaceTop)
	if start >= end {
		return
	}
	first, last := start>>g.shift, (end-1)>>g.shift
	if last-first >= uint64(len(g.class)) {
		for hp := range g.class {
			if hp >= first && hp <= last {
				delete(g.class, hp)
			}
		}
		return
	}
	for hp := first; hp <= last; hp++ {
		delete(g.class, hp)
	}
}

// allows reports whether an access may use a page of permission perm;
// pages holding translated code take no stores unless codeOK.
func allows(perm memory.Perm, code, codeOK, write bool) bool {
	if write {
		return perm&memory.PermWrite != 0 && (!code || codeOK)
	}
	return perm&memory.PermRead != 0
}

func (g *guestMem) Translate(va uint64, write bool) []byte {
	c := g.classify(va >> g.shift)
	perm := c.perm
	if !c.uniform {
		if !g.permissive {
			return nil
		}
		perm = c.union
	}
	if !allows(perm, c.code, false, write) {
		return nil
	}
	return g.as.mem.Bytes(va&^(1<<g.shift-1), 1<<g.shift)
}

// pageView is the firmware's view for completing an access the host MMU
// refused: 4 KiB guest pages with the guest's protections, translated code
// read-only.
// With codeOK it also writes pages holding translated code (the firmware
// completing a store whose translations it has just discarded).
type pageView struct {
	g      *guestMem
	codeOK bool
}

func (v pageView) PageShift() uint { return 12 }

func (v pageView) Translate(va uint64, write bool) []byte {
	pte, ok := v.g.as.pt.Lookup(va)
	if !ok || !allows(pte.Perm, v.g.code[va], v.codeOK, write) {
		return nil
	}
	return v.g.as.mem.Bytes(va, GuestPageSize)
}

// NewMachine prepares proc to run; diag receives the one-line diagnostic
// of a fatal guest signal.
func NewMachine(proc *Process, cfg MachineConfig, diag io.Writer) (*Machine, error) {
	if cfg.HostPageSize == 0 {
		cfg.HostPageSize = 64 << 10
	}
	switch cfg.HostPageSize {
	case 4 << 10, 16 << 10, 64 << 10:
	default:
		return nil, fmt.Errorf("host page size %d is not supported; use 4 KiB, 16 KiB or 64 KiB", cfg.HostPageSize)
	}
	shift := uint(12)
	for 1<<shift < cfg.HostPageSize {
		shift++
	}
	m := &Machine{cfg: cfg, proc: proc, codeNext: CodeCacheBase, mem: &guestMem{as: proc.AS, shift: shift, code: map[uint64]bool{}, class: map[uint64]hostClass{}},
		blocks: map[uint64]*Block{}, pages: map[uint64][]*Block{}, diag: diag}
	m.mem.permissive = cfg.Strategy == Permissive
	if cfg.GuestBase%(1<<46) != 0 || cfg.GuestBase >= 1<<62 {
		return nil, fmt.Errorf("guest base %#x is not a multiple of 2^46 below 2^62", cfg.GuestBase)
	}
	if cfg.FirmwareBase%(1<<45) != 0 {
		return nil, fmt.Errorf("firmware base %#x is not a multiple of 2^45", cfg.FirmwareBase)
	}
	m.redirect = newRedirector(shift)
	if cfg.ScatterPages {
		m.scatter = newScatter(shift, cfg.ScatterSeed)
	}
	if mem := proc.AS.mem; mem.InImage() {
		// In a VM image the mapper's frame for a guest page is the page's
		// own frame of the image: the guest's bytes stay where the
		// checkpoint controller finds them.
		m.redirect.place = mem.pa
	}
	m.view4k = pageView{g: m.mem}
	if cfg.Freq == 0 {
		cfg.Freq = sim.GHz
	}
	if cfg.Freq < 10*sim.MHz {
		return nil, fmt.Errorf("host clock %v is below the 10 MHz of the guest's timer", cfg.Freq)
	}
	if cfg.Timeslice == 0 {
		cfg.Timeslice = 100_000
	}
	m.cores = cfg.Cores
	if len(m.cores) > 0 {
		cfg.Timing = m.cores[0]
	} else if cfg.Timing != nil {
		m.cores = []cpu.Timing{cfg.Timing}
	}
	m.cfg = cfg
	m.core = m.newCore(cfg.Timing)
	main := &Thread{TID: GuestPID, core: m.core, timing: cfg.Timing, prevIdx: -1}
	m.threads, m.cur = []*Thread{main}, main
	if cfg.OnThread != nil && cfg.Timing != nil {
		cfg.OnThread(cfg.Timing, main.TID)
	}
	if cfg.Timing != nil {
		// The firmware's writes into guest memory go through the caches
		// as the guest's, on the core of the thread that made the call.
		proc.AS.mem.OnWrite = func(va, n uint64) { m.cfg.Timing.GuestAccess(va, n, true) }
	}
	if proc.cfg.Now == nil {
		proc.cfg.Now = func() sim.Time { return cfg.Freq.CyclesToTime(m.cycles()) }
	}
	proc.AS.OnChange = func(start, end uint64) {
		m.mem.forget(start, end)
		m.flushTLBs()
		m.invalidate(start, end)
		m.layoutChanged(start, end)
	}
	proc.cfg.OnCodeChange = func(start, end uint64) { m.invalidate(start, end) }
	if m.layoutChanged(0, GuestSpaceTop); m.refused != nil {
		return nil, m.refused
	}
	return m, nil
}

// cycles is the guest's clock in cycles: the timing model's (one an
// instruction in functional mode), from where a resumed run's snapshot
// stood.
func (m *Machine) cycles() uint64 { return m.core.ClockBase + m.now() }

// now is where RunUntil's limit is measured: the timing model's cycles,
// or in functional mode the host instructions executed.
func (m *Machine) now() uint64 {
	if tm := m.cfg.Timing; tm != nil {
		return tm.Now()
	}
	return m.core.Retired
}

// Stats returns the run's counts so far.
func (m *Machine) Stats() Stats {
	s := m.stats
	for _, t := range m.threads {
		c := t.core
		s.GuestInsts += c.GuestRetired
		s.ChainHits += c.Chained
		s.HostInsts += c.Retired
		s.TLBMisses += c.TLBMisses
		s.Walks += c.Walks
		s.WalkedAccesses += c.Walked
	}
	s.Threads = uint64(len(m.threads))
	s.MissedFaults = m.mem.missed
	s.RedirectedPages, s.RedirectFrames = uint64(m.redirect.Pages()), m.redirect.Allocated
	if n := len(m.layout); n > 0 {
		s.MixedHostPages, s.UniformHostPages = m.layout[n-1].Mixed, m.layout[n-1].Uniform
	}
	return s
}

// invalidate discards every block with code in [start, end).
func (m *Machine) invalidate(start, end uint64) {
	end = min(end, GuestSpaceTop)
	if start >= end {
		m.flushTLBs()
		return
	}
	// Visit the pages with code in the range: by address for a small range,
	// through the code-page table for a large one (a guest may name all of
	// its address space).
	var pages []uint64
	if (end-pageDown(start))/GuestPageSize > uint64(len(m.pages)) {
		for p := range m.pages {
			if p >= pageDown(start) && p < end {
				pages = append(pages, p)
			}
		}
	} else {
		for p := pageDown(start); p < end; p += GuestPageSize {
			if _, ok := m.pages[p]; ok {
				pages = append(pages, p)
			}
		}
	}
	for _, p := range pages {
		bs := m.pages[p]
		for _, b := range bs {
			if !b.Dead {
				m.discard(b)
				m.stats.Invalidations++
			}
		}
		delete(m.pages, p)
		delete(m.mem.code, p)
		m.mem.forget(p, p+GuestPageSize)
	}
	m.flushTLBs()
}

// flushAll discards the whole code cache.
func (m *Machine) flushAll() {
	for _, b := range m.blocks {
		m.discard(b)
	}
	m.blocks = map[uint64]*Block{}
	m.pages = map[uint64][]*Block{}
	m.mem.code = map[uint64]bool{}
	m.mem.class = map[uint64]hostClass{}
	m.flushTLBs()
	m.stats.CacheFlushes++
	m.codeNext = CodeCacheBase // the code cache is reused from its start
}

// fetch reads a guest instruction for the translator: it must be on
// executable pages (both halves of a 4-byte instruction that straddles a
// page boundary).
func (m *Machine) fetch(pc uint64) (uint32, bool) {
	if pc&1 != 0 {
		return 0, false
	}
	exec := func(va uint64) bool {
		pte, ok := m.proc.AS.pt.Lookup(va)
		return ok && pte.Perm&memory.PermExec != 0
	}
	if !exec(pc) {
		return 0, false
	}
	half := func(va uint64) uint32 {
		var b [2]byte
		m.proc.AS.mem.Read(va, b[:])
		return uint32(b[0]) | uint32(b[1])<<8
	}
	lo := half(pc)
	if lo&3 != 3 {
		return lo, true
	}
	if pc+2 >= GuestSpaceTop || !exec(pc+2) {
		return 0, false
	}
	return lo | half(pc+2)<<16, true
}

func (m *Machine) lookup(pc uint64) *Block {
	if b, ok := m.blocks[pc]; ok {
		return b
	}
	b := translate(m.fetch, pc, m.cfg.Strategy == AlwaysWalk, nil)
	m.install(b)
	return b
}

// install puts a newly translated block into the code cache — its host
// address, its entry by guest address, the write protection of the guest
// pages its code came from — and charges the timing model the firmware's
// translation of it.
func (m *Machine) install(b *Block) {
	b.Addr = m.codeNext
	m.codeNext += (uint64(len(b.Code))*8 + 63) &^ 63 // blocks start on 64-byte boundaries
	m.stats.BlocksTranslated++
	if b.Walked || b.WalkPCs != nil {
		m.stats.WalkedBlocks++
	}
	m.blocks[b.PC] = b
	for p := pageDown(b.PC); p < max(b.End, b.PC+1); p += GuestPageSize {
		m.pages[p] = append(m.pages[p], b)
		if !m.mem.code[p] {
			m.mem.code[p] = true
			m.mem.forget(p, p+GuestPageSize)
			m.flushTLBs() // drop a cached writable translation of the page
		}
	}
	if tm := m.cfg.Timing; tm != nil {
		// The emitted code goes out through the data side as the
		// translator produces it: its stores are issued from the start of
		// the translation and their fills arrive while it goes on.
		tm.FirmwareWrite(b.Addr, uint64(len(b.Code))*8)
		tm.Firmware(uint64(b.Insts) * m.cfg.TranslateCycles)
	}
}

// Signal numbers a guest can die of.
const (
	SIGILL  = 4
	SIGTRAP = 5
	SIGBUS  = 7
	SIGSEGV = 11
)

var signalNames = map[int]string{1: "SIGHUP (Hangup)", 2: "SIGINT (Interrupt)", 3: "SIGQUIT (Quit)",
	SIGILL: "SIGILL (Illegal instruction)", SIGTRAP: "SIGTRAP (Trace/breakpoint trap)", 6: "SIGABRT (Aborted)",
	SIGBUS: "SIGBUS (Bus error)", 8: "SIGFPE (Floating point exception)", 9: "SIGKILL (Killed)", 10: "SIGUSR1",
	SIGSEGV: "SIGSEGV (Segmentation fault)", 12: "SIGUSR2", 13: "SIGPIPE (Broken pipe)", 14: "SIGALRM (Alarm clock)",
	15: "SIGTERM (Terminated)"}

// signalName names sig for diagnostics.
func signalName(sig int) string {
	if n, ok := signalNames[sig]; ok {
		return n
	}
	return fmt.Sprintf("signal %d", sig)
}

// Result is how a guest run ended.
type Result struct {
	ExitCode int // the guest's exit status, or 128 + signal as a shell reports a killed process
	Signal   int // the fatal signal, 0 if the guest exited
}

// Run runs the guest until it exits or dies of a signal. An error is a
// failure of the simulation itself (an unsupported system call in strict
// mode), not of the guest.
func (m *Machine) Run() (Result, error) {
	res, exited, err := m.RunUntil(0)
	if err == nil && !exited {
		m.save()
		for _, t := range m.threads {
			if t.pending != nil && !t.exited {
				return res, fmt.Errorf("the guest waits in system call %s at guest pc %#x for its network device, which Run cannot wake (use RunUntil)",
					SyscallName(t.pending.Num), t.pending.PC)
			}
		}
		return res, fmt.Errorf("the guest stopped without exiting")
	}
	return res, err
}

// WriteGuest writes buf into the guest's data at va, as the firmware does
// on the guest's behalf (the hypervisor changing a restored guest's
// environment before it runs again): the pages must be mapped writable.
// It does not look for translated code there, so it is not for code.
func (m *Machine) WriteGuest(va uint64, buf []byte) error {
	if e := m.proc.AS.Write(va, buf); e != 0 {
		return fmt.Errorf("writing %d bytes at guest address %#x: %v", len(buf), va, e)
	}
	return nil
}

// Kill ends the guest now by signal sig with its default action, as an
// external kill does (a fault injected into the application): it has died
// with status 128 + sig.
func (m *Machine) Kill(sig int) Result {
	if !m.exited {
		m.exited, m.pending = true, nil
		m.result = Result{ExitCode: 128 + sig, Signal: sig}
	}
	return m.result
}

// Exited reports whether the guest has exited or died.
func (m *Machine) Exited() bool { return m.exited }

// RunUntil runs the guest until its timing model's Now reaches cycle (in
// functional mode: until the core has executed cycle host instructions;
// 0: no limit) or it exits, and reports whether it exited. It stops
// between blocks, so it may pass cycle by a block; a later call continues
// where it stopped.
func (m *Machine) RunUntil(cycle uint64) (res Result, exited bool, err error) {
	if m.exited {
		return m.result, true, nil
	}
	if m.threaded() {
		return m.runThreads(cycle)
	}
	if m.cfg.Timing == nil {
		m.core.StopAt = cycle
	} else {
		m.core.StopCycle = cycle
	}
	if m.pending != nil {
		// A call that blocked: try it again.
		if done, res, exited, err := m.complete(false); !done || exited || err != nil {
			m.exited, m.result = exited, res
			return res, exited, err
		}
	}
	res, exited, err = m.run(cycle)
	m.exited, m.result = exited, res
	if err == nil && !exited && m.threaded() {
		return m.runThreads(cycle) // it created a thread: they take turns from now on
	}
	return res, exited, err
}

// PendingCall is a system call the guest made that has not completed: it
// waits (Machine.Blocked).
type PendingCall struct {
	Num      uint64
	Args     [6]uint64
	PC, Next uint64 // the ecall's guest address and the one after it
}

// Blocked reports whether the guest waits in a system call — for a
// datagram, room to send, or a timeout — and until when at the latest
// (sim.MaxTime: until something wakes it). RunUntil tries the call again.
func (m *Machine) Blocked() (bool, sim.Time) {
	if m.threaded() {
		return m.threadBlocked()
	}
	if m.pending == nil {
		return false, 0
	}
	return true, m.proc.Deadline()
}

// BlockedForeverError is a guest waiting in a system call that nothing can
// complete: a receive with no network device, say.
type BlockedForeverError struct {
	Call string
	PC   uint64
	// Threads is how many threads wait (0 or 1: a single-threaded guest).
	Threads int
}

func (e *BlockedForeverError) Error() string {
	if e.Threads > 1 {
		return fmt.Sprintf("deadlock: all %d threads of the guest wait for ever (the first in system call %s at guest pc %#x) with no timeout, and nothing outside the process can wake them",
			e.Threads, e.Call, e.PC)
	}
	return fmt.Sprintf("the guest waits for ever in system call %s at guest pc %#x: nothing can wake it (no network device)", e.Call, e.PC)
}

// complete runs the pending system call (first: its first attempt) and
// reports whether it completed; if not, the guest is blocked. Without a
// network device nothing but a timeout can complete a blocked call, so the
// guest's clock jumps to it.
func (m *Machine) complete(first bool) (done bool, res Result, exited bool, err error) {
	c := m.pending
	for {
		ret, ok, err := m.threadCall(c, first)
		if !ok {
			ret, err = m.proc.syscall(c.Num, c.Args, c.PC, first)
		} else if first {
			m.proc.syscalls++
			m.proc.calls[SyscallName(c.Num)]++
		} else {
			m.proc.syscalls++
		}
		first = false
		if err == errBlocked {
			deadline := m.proc.Deadline()
			switch {
			case m.threaded():
				return false, Result{}, false, nil // another thread, or its timeout, wakes it
			case m.proc.cfg.Net == nil && deadline == sim.MaxTime:
				m.pending = nil
				return false, Result{}, false, &BlockedForeverError{Call: SyscallName(c.Num), PC: c.PC}
			case m.proc.cfg.Net != nil || m.cfg.Scheduled:
				return false, Result{}, false, nil // the scheduler wakes it
			}
			m.advanceClock(deadline)
			continue
		}
		m.pending = nil
		m.proc.deadline = 0
		if err != nil {
			return false, Result{}, false, err
		}
		if m.proc.Exited {
			if m.proc.signal != 0 {
				return false, Result{ExitCode: m.proc.ExitCode, Signal: m.proc.signal}, true, nil
			}
			return false, Result{ExitCode: m.proc.ExitCode}, true, nil
		}
		if m.cur.exited {
			return false, Result{}, false, nil // the thread is gone; others go on
		}
		m.core.X[10] = ret
		m.pc = c.Next
		return true, Result{}, false, nil
	}
}

// advanceClock lets the guest's clock reach t: the timing model idles, or
// in functional mode the clock jumps.
func (m *Machine) advanceClock(t sim.Time) {
	at := m.cfg.Freq.Cycles(t)
	if m.cfg.Freq.CyclesToTime(at) < t {
		at++ // the cycle that reaches t
	}
	now := m.cycles()
	if at <= now {
		return
	}
	if tm := m.cfg.Timing; tm != nil {
		tm.Idle(at - now)
		return
	}
	m.core.ClockBase += at - now
}

func (m *Machine) run(cycle uint64) (Result, bool, error) {
	x := &m.core.X
	m.begin()
	for {
		if m.refused != nil {
			return Result{}, false, m.refused
		}
		if cycle != 0 && m.now() >= cycle || m.yield {
			m.yield = false
			return Result{}, false, nil
		}
		pc := m.pc
		// The core follows every valid link itself (RunBlock), so an exit
		// that reaches here has none: look the target up and link it.
		b := m.lookup(pc)
		m.stats.Dispatches++
		if prev := m.prev; prev != nil && !prev.Dead {
			if prev.Next == nil {
				prev.Next = make([]*cpu.Block, len(prev.Code))
			}
			prev.Next[m.prevIdx] = &b.Block
		}
		m.prev = nil
		ex, hb := m.core.RunBlock(&b.Block, 0)
		b = hb.Meta.(*Block)
		// A refused access on a mixed host page is completed by the
		// firmware at the guest's granularity; the block then resumes.
		for ex.Kind == cpu.ExitFault && m.mem.shift > 12 && !ex.Misaligned {
			i := ex.Index
			em := m.core.Emulate(b.Code[i], m.view4k)
			if em.Kind != cpu.ExitJump {
				ex = cpu.Exit{Kind: cpu.ExitFault, Index: i, Addr: em.Addr, Write: em.Write, Misaligned: em.Misaligned}
				break
			}
			m.stats.MixedAccesses++
			if tm := m.cfg.Timing; tm != nil {
				tm.Firmware(m.cfg.FaultCycles)
			}
			// The detector: at the threshold a block is regenerated, unless
			// that cannot help — it walks already, or (selective) none of its
			// faulting instructions is a load or store a walk can precede.
			regen := !b.Walked && (m.cfg.Strategy == Adaptive || m.cfg.Strategy == Selective)
			if m.cfg.Strategy == Selective && isWalkable(b.Code[i].Op) && !b.WalkPCs[b.GuestPC[i]] {
				if b.faultPCs == nil {
					b.faultPCs = map[uint64]bool{}
				}
				b.faultPCs[b.GuestPC[i]] = true
			}
			if m.cfg.Strategy == Selective && len(b.faultPCs) == 0 {
				regen = false
			}
			if b.Faults++; regen && b.Faults >= max(m.cfg.RegenThreshold, 1) {
				m.regenerate(b)
			}
			ex, hb = m.core.RunBlock(&b.Block, i+1)
			b = hb.Meta.(*Block)
		}
		i := ex.Index
		switch ex.Kind {
		case cpu.ExitJump: // the core counted the block's instructions
			m.prev, m.prevIdx = b, i
			m.pc = ex.PC
		case cpu.ExitSyscall:
			m.core.GuestRetired += uint64(b.Retire[i])
			if x[17] == SysROI {
				x[10] = m.roi(x[10])
				m.pc = ex.Next
				continue
			}
			if tm := m.cfg.Timing; tm != nil {
				tm.Firmware(m.cfg.SyscallCycles)
			}
			m.pending = &PendingCall{Num: x[17], Args: [6]uint64{x[10], x[11], x[12], x[13], x[14], x[15]}, PC: ex.PC, Next: ex.Next}
			if done, res, exited, err := m.complete(true); !done || exited || err != nil {
				return res, exited, err
			}
		case cpu.ExitFenceI:
			m.core.GuestRetired += uint64(b.Retire[i])
			m.flushAll()
			m.pc = ex.Next
		case cpu.ExitIllegal:
			m.core.GuestRetired += uint64(b.Done[i])
			gpc := b.GuestPC[i]
			if b.Code[i].Op == cpu.Illegal && b.Code[i].Rd == 1 {
				return m.die(SIGSEGV, "instruction fetch from %#x", gpc), true, nil
			}
			word, _ := m.fetch(gpc)
			in := Decode(word)
			what := fmt.Sprintf("illegal instruction %#x", word)
			switch {
			case b.Code[i].Op == cpu.Fp:
				what = fmt.Sprintf("%q (%#x) with a reserved rounding mode in frm", in.StringAt(gpc), word)
			case in.Op != OpIllegal:
				what = fmt.Sprintf("unsupported instruction %q (%#x)", in.StringAt(gpc), word)
			}
			return m.die(SIGILL, "%s at pc %#x", what, gpc), true, nil
		case cpu.ExitBreak:
			m.core.GuestRetired += uint64(b.Done[i])
			return m.die(SIGTRAP, "ebreak at pc %#x", ex.PC), true, nil
		case cpu.ExitFault:
			m.core.GuestRetired += uint64(b.Done[i])
			m.stats.Faults++
			gpc := b.GuestPC[i]
			if ex.Write && !ex.Misaligned && m.writesCode(ex.Addr) {
				// A store into translated code (of this block too, perhaps):
				// discard the translations of the pages it touches, complete
				// the store, and continue after it from the dispatcher, so
				// that what it wrote is translated afresh.
				lo, hi := pageDown(ex.Addr), pageDown(ex.Addr+7)+GuestPageSize
				m.invalidate(lo, hi)
				if em := m.core.Emulate(b.Code[i], pageView{g: m.mem, codeOK: true}); em.Kind == cpu.ExitJump {
					m.core.GuestRetired++
					word, _ := m.fetch(gpc)
					m.pc = gpc + uint64(Decode(word).Len)
					continue
				}
			}
			kind := "load from"
			if ex.Write {
				kind = "store to"
			}
			if ex.Misaligned {
				return m.die(SIGBUS, "misaligned atomic access to %#x at pc %#x", ex.Addr, gpc), true, nil
			}
			return m.die(SIGSEGV, "%s %#x at pc %#x", kind, ex.Addr, gpc), true, nil
		}
	}
}

// LayoutSample counts the host pages holding mapped guest pages, by
// class, after a change of the guest's layout (program load, mmap,
// munmap, mprotect, brk, mremap).
type LayoutSample struct {
	Time           sim.Time // the guest's clock
	GuestInsts     uint64
	Mixed, Uniform uint64
}

// Layout returns the host pages by class after every change of the
// guest's layout so far, oldest first.
func (m *Machine) Layout() []LayoutSample { return m.layout }

// layoutChanged follows a change of the guest's layout over [start, end):
// it counts the mixed and uniform host pages, brings the redirection page
// mapper up to date and, under Refuse, records an error if a host page the
// change touched is mixed.
func (m *Machine) layoutChanged(start, end uint64) {
	var s LayoutSample
	var redirected []uint64
	size := uint64(1) << m.mem.shift
	lo, hi := start&^(size-1), (min(end, GuestSpaceTop)+size-1)&^(size-1) // the host pages the change touched
	last, mixed := uint64(1<<64-1), false
	m.proc.AS.pt.Range(func(va uint64, _ memory.PTE) bool {
		if hp := va >> m.mem.shift; hp != last { // pages come in address order
			last = hp
			mixed = !m.mem.classify(hp).uniform
			if mixed {
				s.Mixed++
			} else {
				s.Uniform++
			}
			if mixed && m.cfg.Strategy == Refuse && m.refused == nil && va >= lo && va < hi {
				m.refused = fmt.Errorf("page-size strategy refuse: the guest's layout makes the %d KiB host page at %#x mixed "+
					"(its 4 KiB guest pages differ in protection or some are unmapped); use a smaller host.page_size or another strategy",
					size>>10, hp<<m.mem.shift)
			}
		}
		if mixed {
			redirected = append(redirected, va)
		}
		return true
	})
	m.redirect.update(redirected)
	s.Time, s.GuestInsts = m.proc.now(), m.Stats().GuestInsts
	m.layout = append(m.layout, s)
}

// HostAddress implements cpu.AddressMap for the timing model's data side
// (cpu.PortTiming.Map): the host address of a guest address va — its frame
// in the VM image (false if it has none: the access faults), or on an
// identity backing its frame from the redirection page mapper if its host
// page is mixed, else va (a direct mapping), moved to its scattered frame
// with MachineConfig.ScatterPages; the translator's own
// addresses relocated by MachineConfig.FirmwareBase.
func (m *Machine) HostAddress(va uint64) (uint64, bool) {
	switch {
	case va >= GuestSpaceTop && (va < CodeCacheBase || va >= 1<<44):
		return 0, false // neither the guest's nor the translator's: a wild access, which faults
	case va >= GuestSpaceTop:
		return m.cfg.FirmwareBase | va, true
	case m.proc.AS.mem.InImage():
		return m.proc.AS.mem.PA(va)
	}
	a := m.redirect.HostAddr(va)
	if m.scatter != nil {
		a = m.scatter.addr(a)
	}
	return m.cfg.GuestBase | a, true
}

// regenerate discards b, whose accesses to mixed host pages have faulted
// often enough, and translates its guest code again with every load and
// store through an inline page-table walk. The run continues in b where
// it is; later entries take the new block.
func (m *Machine) regenerate(b *Block) {
	if b.Dead {
		return
	}
	m.discard(b)
	var nb *Block
	if m.cfg.Strategy == Selective {
		walk := map[uint64]bool{}
		for pc := range b.WalkPCs {
			walk[pc] = true
		}
		for pc := range b.faultPCs {
			walk[pc] = true
		}
		nb = translate(m.fetch, b.PC, false, walk)
	} else {
		nb = translate(m.fetch, b.PC, true, nil)
	}
	m.install(nb)
	m.stats.Regenerations++
}

// discard takes b out of the code cache, keeping its fault count for
// FaultsPerBlock.
func (m *Machine) discard(b *Block) {
	b.Dead = true
	delete(m.blocks, b.PC)
	if m.faultsOf == nil {
		m.faultsOf = map[uint64]uint64{}
	}
	m.faultsOf[uint64(b.Faults)]++
}

// FaultsPerBlock returns how many translated blocks (live and discarded)
// took each number of faults on mixed host pages, by count.
func (m *Machine) FaultsPerBlock() map[uint64]uint64 {
	out := map[uint64]uint64{}
	for k, v := range m.faultsOf {
		out[k] += v
	}
	for _, b := range m.blocks {
		out[uint64(b.Faults)]++
	}
	return out
}

// roi handles SysROI's operation op and returns the guest's a0.
func (m *Machine) roi(op uint64) uint64 {
	st := m.Stats()
	cycles := st.HostInsts
	if tm := m.cfg.Timing; tm != nil {
		cycles = tm.Now()
	}
	now := [3]uint64{cycles, st.GuestInsts, st.HostInsts}
	switch {
	case op == ROIBegin && !m.roiOpen:
		m.roiOpen, m.roiStart = true, now
	case op == ROIEnd && m.roiOpen:
		m.roiOpen = false
		m.stats.ROIs++
		m.stats.ROICycles += now[0] - m.roiStart[0]
		m.stats.ROIGuestInsts += now[1] - m.roiStart[1]
		m.stats.ROIHostInsts += now[2] - m.roiStart[2]
	default:
		return neg(EINVAL)
	}
	return 0
}

// writesCode reports whether a store at addr (of up to 8 bytes) touches a
// page with translated code that the guest may write.
func (m *Machine) writesCode(addr uint64) bool {
	for _, p := range [2]uint64{pageDown(addr), pageDown(addr + 7)} {
		if m.mem.code[p] {
			if pte, ok := m.proc.AS.pt.Lookup(p); ok && pte.Perm&memory.PermWrite != 0 {
				return true
			}
		}
	}
	return false
}

// die reports a fatal guest signal.
func (m *Machine) die(sig int, format string, args ...any) Result {
	if m.diag != nil {
		fmt.Fprintf(m.diag, "twinsim: guest killed by %s: %s\n", signalName(sig), fmt.Sprintf(format, args...))
	}
	return Result{ExitCode: 128 + sig, Signal: sig}
}

// SyscallCounts returns the system calls made, by name, sorted by name.
func (m *Machine) SyscallCounts() []NameCount {
	var out []NameCount
	for _, n := range m.proc.CallNames() {
		out = append(out, NameCount{n, m.proc.calls[n]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Syscalls returns the system calls the guest has entered (Process.Syscalls).
func (m *Machine) Syscalls() uint64 { return m.proc.syscalls }

// NameCount is a name and a count.
type NameCount struct {
	Name  string
	Count uint64
}

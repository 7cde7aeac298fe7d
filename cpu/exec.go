package cpu

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
)

// Memory is what the core's MMU translates guest-relative addresses
// through. The core caches translations in a software TLB of tlbSize
// entries per access kind and asks Memory only on a miss.
type Memory interface {
	// PageShift returns log2 of the translation granule (12 for the guest's
	// 4 KiB pages, 16 for 64 KiB host pages).
	PageShift() uint
	// Translate returns the bytes of the page holding va (exactly one
	// granule long) if an access of the given kind may be made to it, or
	// nil: the access faults.
	Translate(va uint64, write bool) []byte
}

// CheckedMemory is a Memory some of whose pages the core must not keep in
// its TLB: for those, Translate is asked on every access and Check is told
// the exact address (so a permissive host mapping can count the accesses
// the guest's own pages would have refused).
type CheckedMemory interface {
	Memory
	// Checked reports whether the page at base (as given to Translate) is
	// checked on every access.
	Checked(base uint64) bool
	// Check is called once for each instruction's access of n bytes from
	// va that reaches a checked page Translate allowed.
	Check(va, n uint64, write bool)
}

const tlbSize = 256 // entries per access kind, direct mapped

type tlbEntry struct {
	tag  uint64 // page number + 1; 0 is empty
	page []byte
}

// Core is the functional model of one host core: its registers, its MMU's
// software TLB and the load reservation of LR/SC. Run executes host code.
type Core struct {
	X    [NumRegs]uint64
	F    [32]uint64 // floating-point registers, raw bits (singles NaN-boxed)
	FCSR uint32     // frm in bits 7..5, fflags in bits 4..0

	mem       Memory
	checked   CheckedMemory // mem, if it has checked pages
	checkAt   uint64        // Retired when checked last called Check
	shift     uint
	pageMask  uint64
	tlbR      [tlbSize]tlbEntry
	tlbW      [tlbSize]tlbEntry
	resv      uint64 // reserved address + 1; 0 when no reservation
	resvVal   uint64 // the value LR read: SC fails if memory no longer holds it (another hart stored there)
	Retired   uint64 // host instructions executed
	TLBMisses uint64
	TimerDiv  uint64 // instructions per tick of the time CSR; 100 (1 GHz beside 10 MHz) when 0
	// ClockBase is added to the cycle and time CSRs' cycles: the clock of
	// a run resumed from a snapshot goes on from where it stood.
	ClockBase uint64

	GuestRetired uint64 // guest instructions of blocks left (RunBlock)
	timer        Timing // timing model fed every executed instruction; nil in functional mode
	Chained      uint64 // block transitions made through links, without the firmware
	StopAt       uint64 // RunBlock stops chaining once Retired reaches it; 0 is treated as no limit
	// StopCycle, in timing mode, stops chaining once the timing model's
	// Now reaches it; 0 is treated as no limit.
	StopCycle uint64
	tmp       Block // RunAt's block

	// walkMem translates the access after a Walk instruction where the
	// MMU refuses it; walkAt is the Retired count of that access.
	walkMem Memory
	walkAt  uint64
	// Walks counts Walk instructions executed; Walked the accesses after
	// them that the MMU refused and walkMem completed.
	Walks, Walked uint64

	bypass bool    // Emulate: translate through the alternate memory and its TLB
	one    [2]Inst // Emulate's instruction and the exit after it
	// The TLB of Emulate's memory view, kept between calls: the firmware
	// completes accesses to the same few pages again and again.
	altMem Memory
	altR   [altTLBSize]tlbEntry
	altW   [altTLBSize]tlbEntry
}

const altTLBSize = 64

// Emulate executes the single memory instruction in with its accesses
// translated by mem instead of the core's MMU — the firmware completing an
// access the MMU refused, at another granularity or with other rules. The
// registers change as the instruction defines; a fault in mem is reported
// as from Run (Index 0).
func (c *Core) Emulate(in Inst, mem Memory) Exit {
	if mem != c.altMem {
		c.altMem = mem
		c.altR = [altTLBSize]tlbEntry{}
		c.altW = [altTLBSize]tlbEntry{}
	}
	saved, shift, mask, timer := c.mem, c.shift, c.pageMask, c.timer
	c.mem, c.shift, c.pageMask, c.bypass = mem, mem.PageShift(), 1<<mem.PageShift()-1, true
	c.timer = nil // the instruction was timed when it first issued
	c.one[0], c.one[1] = in, Inst{Op: Leave}
	ex := c.RunAt(c.one[:], 0)
	c.mem, c.shift, c.pageMask, c.bypass, c.timer = saved, shift, mask, false, timer
	if ex.Kind == ExitJump {
		c.Retired-- // the exit that ended the emulation is not an instruction
	}
	return ex
}

// NewCore returns a core whose memory accesses go through mem.
func NewCore(mem Memory) *Core {
	s := mem.PageShift()
	checked, _ := mem.(CheckedMemory)
	return &Core{mem: mem, checked: checked, shift: s, pageMask: 1<<s - 1}
}

// SetWalkMemory sets the memory that translates an access following a
// Walk instruction when the core's MMU refuses it (the firmware's view of
// the guest page table).
func (c *Core) SetWalkMemory(m Memory) { c.walkMem = m }

// walked performs the access f (a load or store of the instruction after a
// Walk) through walkMem, as Emulate does.
func (c *Core) walked(f func() bool) bool {
	if c.walkMem != c.altMem {
		c.altMem = c.walkMem
		c.altR = [altTLBSize]tlbEntry{}
		c.altW = [altTLBSize]tlbEntry{}
	}
	saved, shift, mask := c.mem, c.shift, c.pageMask
	c.mem, c.shift, c.pageMask, c.bypass = c.walkMem, c.walkMem.PageShift(), 1<<c.walkMem.PageShift()-1, true
	ok := f()
	c.mem, c.shift, c.pageMask, c.bypass = saved, shift, mask, false
	if ok {
		c.Walked++
	}
	return ok
}

// Reservation returns the load reservation of LR/SC: the reserved address
// plus one (0 when there is none) and the value LR read.
func (c *Core) Reservation() (addr, value uint64) { return c.resv, c.resvVal }

// SetReservation restores a load reservation Reservation returned.
func (c *Core) SetReservation(addr, value uint64) { c.resv, c.resvVal = addr, value }

// SetTimer attaches a timing model that sees every instruction the core
// executes (nil detaches it: functional mode).
func (c *Core) SetTimer(t Timing) { c.timer = t }

// FlushTLB drops every cached translation, as after a change of mappings or
// protections.
func (c *Core) FlushTLB() {
	c.tlbR = [tlbSize]tlbEntry{}
	c.tlbW = [tlbSize]tlbEntry{}
	c.altR = [altTLBSize]tlbEntry{}
	c.altW = [altTLBSize]tlbEntry{}
	c.resv = 0
}

// ExitKind says why Run returned.
type ExitKind uint8

// Exit kinds.
const (
	ExitJump    ExitKind = iota // the block ended; continue at PC
	ExitSyscall                 // an ecall at PC; resume at Next
	ExitBreak                   // an ebreak at PC
	ExitFenceI                  // a fence.i at PC; resume at Next
	ExitIllegal                 // an illegal instruction at PC
	ExitFault                   // a memory access to Addr faulted; the instruction is at index Index
)

// Exit describes how Run left the code.
type Exit struct {
	Kind       ExitKind
	PC         uint64 // guest address: where to continue, or of the instruction that exited
	Next       uint64 // for ExitSyscall and ExitFenceI: where to resume
	Index      int    // index of the host instruction that exited
	Addr       uint64 // ExitFault: the guest address
	Write      bool   // ExitFault: the access was a store (or an atomic)
	Misaligned bool   // ExitFault: a misaligned atomic access
}

// translate returns the page for va, filling the TLB on a miss.
// translate returns the page holding va for an access of n bytes from va
// (n only matters to a checked page), or nil if the access faults.
func (c *Core) translate(va, n uint64, write bool) []byte {
	vpn := va >> c.shift
	var e *tlbEntry
	switch {
	case c.bypass && write:
		e = &c.altW[vpn&(altTLBSize-1)]
	case c.bypass:
		e = &c.altR[vpn&(altTLBSize-1)]
	case write:
		e = &c.tlbW[vpn&(tlbSize-1)]
	default:
		e = &c.tlbR[vpn&(tlbSize-1)]
	}
	if e.tag == vpn+1 {
		return e.page
	}
	c.TLBMisses++
	p := c.mem.Translate(va&^c.pageMask, write)
	if p != nil && c.checked != nil && !c.bypass && c.checked.Checked(va&^c.pageMask) {
		if c.checkAt != c.Retired { // one check an instruction, however many bytes or steps it takes
			c.checkAt = c.Retired
			c.checked.Check(va, n, write)
		}
		return p // not cached: the next access is checked too
	}
	if p == nil {
		// Refusals are cached too: a page that faults keeps faulting until
		// the next FlushTLB, so the firmware path need not ask again.
		e.tag, e.page = vpn+1, nil
		return nil
	}
	if uint64(len(p)) != c.pageMask+1 {
		panic(fmt.Sprintf("cpu: Memory.Translate returned %d bytes for a %d-byte page", len(p), c.pageMask+1))
	}
	e.tag, e.page = vpn+1, p
	return p
}

// load reads size bytes (1, 2, 4 or 8) at va, little-endian; ok is false
// when a byte of it is not readable.
func (c *Core) load(va uint64, size uint64) (v uint64, ok bool) {
	off := va & c.pageMask
	if off+size <= c.pageMask+1 {
		p := c.translate(va, size, false)
		if p == nil {
			return c.refusedLoad(va, size)
		}
		switch size {
		case 8:
			return binary.LittleEndian.Uint64(p[off:]), true
		case 4:
			return uint64(binary.LittleEndian.Uint32(p[off:])), true
		case 2:
			return uint64(binary.LittleEndian.Uint16(p[off:])), true
		}
		return uint64(p[off]), true
	}
	// Crossing a page boundary: byte by byte.
	for i := range size {
		p := c.translate(va+i, size-i, false)
		if p == nil {
			return c.refusedLoad(va, size)
		}
		v |= uint64(p[(va+i)&c.pageMask]) << (8 * i)
	}
	return v, true
}

// store writes the low size bytes of v at va; ok is false (and nothing is
// written) when a byte of it is not writable.
func (c *Core) store(va, v, size uint64) bool {
	off := va & c.pageMask
	if off+size <= c.pageMask+1 {
		p := c.translate(va, size, true)
		if p == nil {
			return c.refusedStore(va, v, size)
		}
		switch size {
		case 8:
			binary.LittleEndian.PutUint64(p[off:], v)
		case 4:
			binary.LittleEndian.PutUint32(p[off:], uint32(v))
		case 2:
			binary.LittleEndian.PutUint16(p[off:], uint16(v))
		default:
			p[off] = byte(v)
		}
		return true
	}
	for i := range size {
		if c.translate(va+i, size-i, true) == nil {
			return c.refusedStore(va, v, size)
		}
	}
	for i := range size {
		c.translate(va+i, size-i, true)[(va+i)&c.pageMask] = byte(v >> (8 * i))
	}
	return true
}

// refusedLoad is load's answer when the MMU refuses a byte: after a Walk,
// the walk memory completes the access; otherwise it faults.
func (c *Core) refusedLoad(va, size uint64) (v uint64, ok bool) {
	if c.walkAt != c.Retired || c.bypass || c.walkMem == nil {
		return 0, false
	}
	c.walked(func() bool { v, ok = c.load(va, size); return ok })
	return v, ok
}

// refusedStore is store's answer when the MMU refuses a byte, as
// refusedLoad.
func (c *Core) refusedStore(va, v, size uint64) bool {
	if c.walkAt != c.Retired || c.bypass || c.walkMem == nil {
		return false
	}
	return c.walked(func() bool { return c.store(va, v, size) })
}

func sext32(v uint64) uint64 { return uint64(int64(int32(v))) }

// mulh returns the high 64 bits of the signed product a·b.
func mulh(a, b int64) uint64 {
	hi, _ := bits.Mul64(uint64(a), uint64(b))
	if a < 0 {
		hi -= uint64(b)
	}
	if b < 0 {
		hi -= uint64(a)
	}
	return hi
}

// mulhsu returns the high 64 bits of signed a times unsigned b.
func mulhsu(a int64, b uint64) uint64 {
	hi, _ := bits.Mul64(uint64(a), b)
	if a < 0 {
		hi -= b
	}
	return hi
}

func div(a, b int64) uint64 {
	switch {
	case b == 0:
		return math.MaxUint64
	case a == math.MinInt64 && b == -1:
		return uint64(a)
	}
	return uint64(a / b)
}

func rem(a, b int64) uint64 {
	switch {
	case b == 0:
		return uint64(a)
	case a == math.MinInt64 && b == -1:
		return 0
	}
	return uint64(a % b)
}

func divu(a, b uint64) uint64 {
	if b == 0 {
		return math.MaxUint64
	}
	return a / b
}

func remu(a, b uint64) uint64 {
	if b == 0 {
		return a
	}
	return a % b
}

func divw(a, b int32) uint64 {
	switch {
	case b == 0:
		return math.MaxUint64
	case a == math.MinInt32 && b == -1:
		return sext32(uint64(uint32(a)))
	}
	return uint64(int64(a / b))
}

func remw(a, b int32) uint64 {
	switch {
	case b == 0:
		return uint64(int64(a))
	case a == math.MinInt32 && b == -1:
		return 0
	}
	return uint64(int64(a % b))
}

// Run executes code from index 0 until an instruction leaves it and
// returns why. X0 is kept zero. A fault leaves every register as it was
// before the faulting instruction, so the guest state is precise.
func (c *Core) Run(code []Inst) Exit { return c.RunAt(code, 0) }

// RunAt is Run starting at index start, as when the firmware resumes a
// block after completing a faulting access on its behalf.
func (c *Core) RunAt(code []Inst, start int) Exit {
	c.tmp = Block{Code: code}
	ex, _ := c.RunBlock(&c.tmp, start)
	return ex
}

// Block is host code with what the core needs to chain through it: the
// guest instructions each exit completes and, per exit, the block it leads
// to once the firmware has linked them.
type Block struct {
	Code []Inst
	// Retire[i] counts the guest instructions completed when the block is
	// left at index i; nil when guest instructions are not counted.
	Retire []uint16
	// Next[i] is the block a Leave or LeaveReg at index i last led to;
	// followed only while it is not Dead and starts at the exit's target.
	Next []*Block
	PC   uint64 // guest address of the block's first instruction
	// Addr is the host address of the code (each instruction one 8-byte
	// word), where the timing model fetches it from.
	Addr uint64
	Dead bool // discarded by the firmware: never entered through a link
	Meta any  // the firmware's own record of the block
}

// The timing model's hooks, kept out of RunBlock so that its functional
// path stays small.

//go:noinline
func (c *Core) timeStep(in *Inst, b *Block, i int) { c.timer.step(in, &c.X, b.Addr+uint64(i)*8) }

//go:noinline
func (c *Core) timeBranch(b *Block, i int, taken bool) { c.timer.branch(b.Addr+uint64(i)*8, taken) }

// timeLeave times the block exit at index i of b to pc and reports
// whether the timing model has reached StopCycle.
//
//go:noinline
func (c *Core) timeLeave(in *Inst, b *Block, i int, pc uint64) bool {
	c.timer.leave(in, &c.X, b.Addr+uint64(i)*8, pc)
	return c.StopCycle != 0 && c.timer.Now() >= c.StopCycle
}

// RunBlock executes b from index start. An exit to a guest address whose
// block is linked continues there without returning (chaining), until an
// exit has no valid link, an instruction needs the firmware, or Retired
// reaches StopAt. It returns the exit and the block it left from; the
// guest instructions of blocks left through Leave and LeaveReg are added
// to GuestRetired.
func (c *Core) RunBlock(b *Block, start int) (Exit, *Block) {
	x := &c.X
	code := b.Code
	i := start
	timed := c.timer != nil
	for {
		in := &code[i]
		c.Retired++
		i++
		if timed {
			c.timeStep(in, b, i-1)
		}
		switch in.Op {
		case Nop, Fence:
		case Add:
			x[in.Rd] = x[in.Rs1] + x[in.Rs2]
		case Sub:
			x[in.Rd] = x[in.Rs1] - x[in.Rs2]
		case Sll:
			x[in.Rd] = x[in.Rs1] << (x[in.Rs2] & 63)
		case Slt:
			x[in.Rd] = b2u(int64(x[in.Rs1]) < int64(x[in.Rs2]))
		case Sltu:
			x[in.Rd] = b2u(x[in.Rs1] < x[in.Rs2])
		case Xor:
			x[in.Rd] = x[in.Rs1] ^ x[in.Rs2]
		case Srl:
			x[in.Rd] = x[in.Rs1] >> (x[in.Rs2] & 63)
		case Sra:
			x[in.Rd] = uint64(int64(x[in.Rs1]) >> (x[in.Rs2] & 63))
		case Or:
			x[in.Rd] = x[in.Rs1] | x[in.Rs2]
		case And:
			x[in.Rd] = x[in.Rs1] & x[in.Rs2]
		case Mul:
			x[in.Rd] = x[in.Rs1] * x[in.Rs2]
		case Mulh:
			x[in.Rd] = mulh(int64(x[in.Rs1]), int64(x[in.Rs2]))
		case Mulhsu:
			x[in.Rd] = mulhsu(int64(x[in.Rs1]), x[in.Rs2])
		case Mulhu:
			x[in.Rd], _ = bits.Mul64(x[in.Rs1], x[in.Rs2])
		case Div:
			x[in.Rd] = div(int64(x[in.Rs1]), int64(x[in.Rs2]))
		case Divu:
			x[in.Rd] = divu(x[in.Rs1], x[in.Rs2])
		case Rem:
			x[in.Rd] = rem(int64(x[in.Rs1]), int64(x[in.Rs2]))
		case Remu:
			x[in.Rd] = remu(x[in.Rs1], x[in.Rs2])
		case Addw:
			x[in.Rd] = sext32(x[in.Rs1] + x[in.Rs2])
		case Subw:
			x[in.Rd] = sext32(x[in.Rs1] - x[in.Rs2])
		case Sllw:
			x[in.Rd] = sext32(uint64(uint32(x[in.Rs1]) << (x[in.Rs2] & 31)))
		case Srlw:
			x[in.Rd] = sext32(uint64(uint32(x[in.Rs1]) >> (x[in.Rs2] & 31)))
		case Sraw:
			x[in.Rd] = uint64(int64(int32(x[in.Rs1]) >> (x[in.Rs2] & 31)))
		case Mulw:
			x[in.Rd] = sext32(x[in.Rs1] * x[in.Rs2])
		case Divw:
			x[in.Rd] = divw(int32(x[in.Rs1]), int32(x[in.Rs2]))
		case Divuw:
			x[in.Rd] = sext32(divu(uint64(uint32(x[in.Rs1])), uint64(uint32(x[in.Rs2]))))
		case Remw:
			x[in.Rd] = remw(int32(x[in.Rs1]), int32(x[in.Rs2]))
		case Remuw:
			x[in.Rd] = sext32(remu(uint64(uint32(x[in.Rs1])), uint64(uint32(x[in.Rs2]))))
		case Addi:
			x[in.Rd] = x[in.Rs1] + uint64(in.Imm)
		case Slti:
			x[in.Rd] = b2u(int64(x[in.Rs1]) < in.Imm)
		case Sltiu:
			x[in.Rd] = b2u(x[in.Rs1] < uint64(in.Imm))
		case Xori:
			x[in.Rd] = x[in.Rs1] ^ uint64(in.Imm)
		case Ori:
			x[in.Rd] = x[in.Rs1] | uint64(in.Imm)
		case Andi:
			x[in.Rd] = x[in.Rs1] & uint64(in.Imm)
		case Slli:
			x[in.Rd] = x[in.Rs1] << (in.Imm & 63)
		case Srli:
			x[in.Rd] = x[in.Rs1] >> (in.Imm & 63)
		case Srai:
			x[in.Rd] = uint64(int64(x[in.Rs1]) >> (in.Imm & 63))
		case Addiw:
			x[in.Rd] = sext32(x[in.Rs1] + uint64(in.Imm))
		case Slliw:
			x[in.Rd] = sext32(uint64(uint32(x[in.Rs1]) << (in.Imm & 31)))
		case Srliw:
			x[in.Rd] = sext32(uint64(uint32(x[in.Rs1]) >> (in.Imm & 31)))
		case Sraiw:
			x[in.Rd] = uint64(int64(int32(x[in.Rs1]) >> (in.Imm & 31)))
		case Li:
			x[in.Rd] = uint64(in.Imm)
		case Lb, Lh, Lw, Ld, Lbu, Lhu, Lwu:
			va := x[in.Rs1] + uint64(in.Imm)
			v, ok := c.load(va, loadSize[in.Op])
			if !ok {
				c.Retired--
				return Exit{Kind: ExitFault, Index: i - 1, Addr: va}, b
			}
			switch in.Op {
			case Lb:
				v = uint64(int64(int8(v)))
			case Lh:
				v = uint64(int64(int16(v)))
			case Lw:
				v = sext32(v)
			}
			x[in.Rd] = v
		case Sb, Sh, Sw, Sd:
			va := x[in.Rs1] + uint64(in.Imm)
			if !c.store(va, x[in.Rs2], storeSize[in.Op]) {
				c.Retired--
				return Exit{Kind: ExitFault, Index: i - 1, Addr: va, Write: true}, b
			}
		case LrW, LrD, ScW, ScD, AmoSwapW, AmoAddW, AmoXorW, AmoAndW, AmoOrW, AmoMinW, AmoMaxW, AmoMinuW, AmoMaxuW,
			AmoSwapD, AmoAddD, AmoXorD, AmoAndD, AmoOrD, AmoMinD, AmoMaxD, AmoMinuD, AmoMaxuD:
			if ex, ok := c.atomic(in, i-1); !ok {
				c.Retired--
				return ex, b
			}
		case Beq:
			taken := x[in.Rs1] == x[in.Rs2]
			if timed {
				c.timeBranch(b, i-1, taken)
			}
			if taken {
				i = int(in.Imm)
			}
		case Bne:
			taken := x[in.Rs1] != x[in.Rs2]
			if timed {
				c.timeBranch(b, i-1, taken)
			}
			if taken {
				i = int(in.Imm)
			}
		case Blt:
			taken := int64(x[in.Rs1]) < int64(x[in.Rs2])
			if timed {
				c.timeBranch(b, i-1, taken)
			}
			if taken {
				i = int(in.Imm)
			}
		case Bge:
			taken := int64(x[in.Rs1]) >= int64(x[in.Rs2])
			if timed {
				c.timeBranch(b, i-1, taken)
			}
			if taken {
				i = int(in.Imm)
			}
		case Bltu:
			taken := x[in.Rs1] < x[in.Rs2]
			if timed {
				c.timeBranch(b, i-1, taken)
			}
			if taken {
				i = int(in.Imm)
			}
		case Bgeu:
			taken := x[in.Rs1] >= x[in.Rs2]
			if timed {
				c.timeBranch(b, i-1, taken)
			}
			if taken {
				i = int(in.Imm)
			}
		case Jmp:
			i = int(in.Imm)
		case Leave, LeaveReg:
			pc := uint64(in.Imm)
			if in.Op == LeaveReg {
				pc = (x[in.Rs1] + uint64(in.Imm)) &^ 1
			}
			x[0] = 0
			if b.Retire != nil {
				c.GuestRetired += uint64(b.Retire[i-1])
			}
			if timed && c.timeLeave(in, b, i-1, pc) {
				return Exit{Kind: ExitJump, PC: pc, Index: i - 1}, b
			}
			if b.Next != nil && (c.StopAt == 0 || c.Retired < c.StopAt) {
				if n := b.Next[i-1]; n != nil && !n.Dead && n.PC == pc {
					b, code, i = n, n.Code, 0
					c.Chained++
					continue
				}
			}
			return Exit{Kind: ExitJump, PC: pc, Index: i - 1}, b
		case Ecall:
			x[0] = 0
			return Exit{Kind: ExitSyscall, PC: uint64(in.Imm), Next: uint64(in.Imm) + uint64(in.Rs2), Index: i - 1}, b
		case FenceI:
			x[0] = 0
			return Exit{Kind: ExitFenceI, PC: uint64(in.Imm), Next: uint64(in.Imm) + uint64(in.Rs2), Index: i - 1}, b
		case Ebreak:
			x[0] = 0
			return Exit{Kind: ExitBreak, PC: uint64(in.Imm), Index: i - 1}, b
		case Illegal:
			x[0] = 0
			c.Retired--
			return Exit{Kind: ExitIllegal, PC: uint64(in.Imm), Index: i - 1}, b
		case Flw, Fld:
			va := x[in.Rs1] + uint64(in.Imm)
			size := uint64(8)
			if in.Op == Flw {
				size = 4
			}
			v, ok := c.load(va, size)
			if !ok {
				c.Retired--
				return Exit{Kind: ExitFault, Index: i - 1, Addr: va}, b
			}
			if size == 4 {
				v |= 0xffffffff00000000
			}
			c.F[in.Rd&31] = v
		case Fsw, Fsd:
			va := x[in.Rs1] + uint64(in.Imm)
			size := uint64(8)
			if in.Op == Fsw {
				size = 4
			}
			if !c.store(va, c.F[in.Rs2&31], size) {
				c.Retired--
				return Exit{Kind: ExitFault, Index: i - 1, Addr: va, Write: true}, b
			}
		case FmvXW:
			x[in.Rd] = sext32(c.F[in.Rs1&31])
		case FmvWX:
			c.F[in.Rd&31] = x[in.Rs1]&0xffffffff | 0xffffffff00000000
		case FmvXD:
			x[in.Rd] = c.F[in.Rs1&31]
		case FmvDX:
			c.F[in.Rd&31] = x[in.Rs1]
		case Walk:
			x[in.Rd] = x[in.Rs1]
			x[0] = 0
			c.walkAt = c.Retired + 1
			c.Walks++
		case Fp:
			if !c.fp(in) {
				x[0] = 0
				c.Retired--
				return Exit{Kind: ExitIllegal, Index: i - 1}, b
			}
		case CsrRW, CsrRS, CsrRC:
			old := c.csr(in.Imm)
			src := x[in.Rs1]
			switch in.Op {
			case CsrRW:
				c.setCSR(in.Imm, src)
			case CsrRS:
				if in.Rs1 != 0 {
					c.setCSR(in.Imm, old|src)
				}
			case CsrRC:
				if in.Rs1 != 0 {
					c.setCSR(in.Imm, old&^src)
				}
			}
			x[in.Rd] = old
		default:
			panic(fmt.Sprintf("cpu: unknown host operation %v at index %d", in.Op, i-1))
		}
		// A write to x0 is discarded. Checking the destination only when it
		// is zero keeps the common path one compare.
		if in.Rd == 0 {
			x[0] = 0
		}
	}
}

// csr reads a CSR. instret counts host instructions retired; cycle counts
// the timing model's cycles (one an instruction in functional mode); time
// ticks once per TimerDiv cycles (a 10 MHz timer beside a core clocked at
// TimerDiv × 10 MHz).
func (c *Core) csr(n int64) uint64 {
	switch n {
	case CSRFflags:
		return uint64(c.FCSR & 0x1f)
	case CSRFrm:
		return uint64(c.FCSR >> 5 & 7)
	case CSRFcsr:
		return uint64(c.FCSR & 0xff)
	case CSRInstret:
		return c.Retired
	case CSRCycle, CSRTime:
		cycles := c.Retired // functional mode: an instruction a cycle
		if c.timer != nil {
			cycles = c.timer.Now()
		}
		cycles += c.ClockBase
		if n == CSRCycle {
			return cycles
		}
		if c.TimerDiv == 0 {
			return cycles / 100
		}
		return cycles / c.TimerDiv
	}
	panic(fmt.Sprintf("cpu: unknown CSR %#x", n))
}

func (c *Core) setCSR(n int64, v uint64) {
	switch n {
	case CSRFflags:
		c.FCSR = c.FCSR&^0x1f | uint32(v&0x1f)
	case CSRFrm:
		c.FCSR = c.FCSR&^0xe0 | uint32(v&7)<<5
	case CSRFcsr:
		c.FCSR = uint32(v & 0xff)
	default:
		panic(fmt.Sprintf("cpu: CSR %#x is read-only", n))
	}
}

var loadSize = [numOps]uint64{Lb: 1, Lh: 2, Lw: 4, Ld: 8, Lbu: 1, Lhu: 2, Lwu: 4}
var storeSize = [numOps]uint64{Sb: 1, Sh: 2, Sw: 4, Sd: 8}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// atomic performs an LR, SC or AMO at X[Rs1]; it fails (ok false) with a
// fault exit, changing nothing, when the address is misaligned or not
// accessible.
func (c *Core) atomic(in *Inst, idx int) (Exit, bool) {
	x := &c.X
	va := x[in.Rs1]
	size := uint64(8)
	if in.Op == LrW || in.Op == ScW || in.Op >= AmoSwapW && in.Op <= AmoMaxuW {
		size = 4
	}
	if va&(size-1) != 0 {
		return Exit{Kind: ExitFault, Index: idx, Addr: va, Write: in.Op != LrW && in.Op != LrD, Misaligned: true}, false
	}
	switch in.Op {
	case LrW, LrD:
		v, ok := c.load(va, size)
		if !ok {
			return Exit{Kind: ExitFault, Index: idx, Addr: va}, false
		}
		if size == 4 {
			v = sext32(v)
		}
		c.resv, c.resvVal = va+1, v
		x[in.Rd] = v
		return Exit{}, true
	case ScW, ScD:
		// The reservation holds while memory holds what LR read: threads
		// on other cores store to the same memory, and a store of theirs
		// that changed the word breaks it (as qemu decides SC, by
		// comparing values).
		cur, ok := c.load(va, size)
		if size == 4 {
			cur = sext32(cur)
		}
		if c.resv != va+1 || ok && cur != c.resvVal {
			c.resv = 0
			x[in.Rd] = 1
			return Exit{}, true
		}
		if !c.store(va, x[in.Rs2], size) {
			return Exit{Kind: ExitFault, Index: idx, Addr: va, Write: true}, false
		}
		c.resv = 0
		x[in.Rd] = 0
		return Exit{}, true
	}
	// An AMO needs write permission even to read.
	if c.translate(va, size, true) == nil {
		return Exit{Kind: ExitFault, Index: idx, Addr: va, Write: true}, false
	}
	old, _ := c.load(va, size)
	src := x[in.Rs2]
	if size == 4 {
		old = sext32(old)
		src = sext32(src)
	}
	var v uint64
	switch in.Op {
	case AmoSwapW, AmoSwapD:
		v = src
	case AmoAddW, AmoAddD:
		v = old + src
	case AmoXorW, AmoXorD:
		v = old ^ src
	case AmoAndW, AmoAndD:
		v = old & src
	case AmoOrW, AmoOrD:
		v = old | src
	case AmoMinW, AmoMinD:
		v = uint64(min(int64(old), int64(src)))
	case AmoMaxW, AmoMaxD:
		v = uint64(max(int64(old), int64(src)))
	case AmoMinuW, AmoMinuD:
		if size == 4 {
			v = uint64(min(uint32(old), uint32(src)))
		} else {
			v = min(old, src)
		}
	case AmoMaxuW, AmoMaxuD:
		if size == 4 {
			v = uint64(max(uint32(old), uint32(src)))
		} else {
			v = max(old, src)
		}
	}
	c.store(va, v, size)
	x[in.Rd] = old
	return Exit{}, true
}

package cpu

import (
	"math"
	"math/big"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// pageMem is a Memory of 4 KiB pages with read and write permission.
type pageMem struct {
	pages map[uint64][]byte
	ro    map[uint64]bool
	calls int
}

func newPageMem() *pageMem { return &pageMem{pages: map[uint64][]byte{}, ro: map[uint64]bool{}} }

func (m *pageMem) PageShift() uint { return 12 }

func (m *pageMem) Translate(va uint64, write bool) []byte {
	m.calls++
	p, ok := m.pages[va]
	if !ok || write && m.ro[va] {
		return nil
	}
	return p
}

func (m *pageMem) mapPage(va uint64, readOnly bool) {
	m.pages[va] = make([]byte, 4096)
	m.ro[va] = readOnly
}

func run(t *testing.T, c *Core, code ...Inst) Exit {
	t.Helper()
	return c.Run(code)
}

func leave() Inst { return Inst{Op: Leave, Imm: 0x1000} }

func TestArithmetic(t *testing.T) {
	c := NewCore(newPageMem())
	c.X[1], c.X[2] = 7, math.MaxUint64 // -1
	for _, tc := range []struct {
		in   Inst
		want uint64
	}{
		{Inst{Op: Add, Rd: 3, Rs1: 1, Rs2: 2}, 6},
		{Inst{Op: Sub, Rd: 3, Rs1: 1, Rs2: 2}, 8},
		{Inst{Op: Sll, Rd: 3, Rs1: 1, Rs2: 1}, 7 << 7},
		{Inst{Op: Slt, Rd: 3, Rs1: 2, Rs2: 1}, 1},
		{Inst{Op: Sltu, Rd: 3, Rs1: 2, Rs2: 1}, 0},
		{Inst{Op: Sra, Rd: 3, Rs1: 2, Rs2: 1}, math.MaxUint64},
		{Inst{Op: Srl, Rd: 3, Rs1: 2, Rs2: 1}, math.MaxUint64 >> 7},
		{Inst{Op: Mul, Rd: 3, Rs1: 1, Rs2: 2}, uint64(-7 & math.MaxUint64)},
		{Inst{Op: Mulh, Rd: 3, Rs1: 1, Rs2: 2}, math.MaxUint64},
		{Inst{Op: Mulhu, Rd: 3, Rs1: 1, Rs2: 2}, 6},
		{Inst{Op: Mulhsu, Rd: 3, Rs1: 2, Rs2: 1}, math.MaxUint64},
		{Inst{Op: Div, Rd: 3, Rs1: 1, Rs2: 0}, math.MaxUint64},
		{Inst{Op: Divu, Rd: 3, Rs1: 1, Rs2: 0}, math.MaxUint64},
		{Inst{Op: Rem, Rd: 3, Rs1: 1, Rs2: 0}, 7},
		{Inst{Op: Remu, Rd: 3, Rs1: 1, Rs2: 0}, 7},
		{Inst{Op: Div, Rd: 3, Rs1: 1, Rs2: 2}, uint64(-7 & math.MaxUint64)},
		{Inst{Op: Addw, Rd: 3, Rs1: 1, Rs2: 2}, 6},
		{Inst{Op: Addiw, Rd: 3, Rs1: 0, Imm: 0x7fffffff}, 0x7fffffff},
		{Inst{Op: Slliw, Rd: 3, Rs1: 1, Imm: 29}, 0xffffffffe0000000},
		{Inst{Op: Srliw, Rd: 3, Rs1: 2, Imm: 4}, 0x0fffffff},
		{Inst{Op: Sraiw, Rd: 3, Rs1: 2, Imm: 4}, math.MaxUint64},
		{Inst{Op: Divw, Rd: 3, Rs1: 1, Rs2: 0}, math.MaxUint64},
		{Inst{Op: Divuw, Rd: 3, Rs1: 2, Rs2: 1}, 0x24924924},
		{Inst{Op: Remw, Rd: 3, Rs1: 2, Rs2: 1}, math.MaxUint64},
		{Inst{Op: Remuw, Rd: 3, Rs1: 1, Rs2: 0}, 7},
		{Inst{Op: Mulw, Rd: 3, Rs1: 2, Rs2: 2}, 1},
		{Inst{Op: Sltiu, Rd: 3, Rs1: 1, Imm: -1}, 1},
		{Inst{Op: Slti, Rd: 3, Rs1: 1, Imm: -1}, 0},
		{Inst{Op: Xori, Rd: 3, Rs1: 1, Imm: -1}, ^uint64(7)},
		{Inst{Op: Andi, Rd: 3, Rs1: 2, Imm: 0x7f0}, 0x7f0},
		{Inst{Op: Srai, Rd: 3, Rs1: 2, Imm: 63}, math.MaxUint64},
		{Inst{Op: Li, Rd: 3, Imm: math.MinInt64}, 1 << 63},
	} {
		c.X[3] = 0xdead
		ex := run(t, c, tc.in, leave())
		require.Equal(t, ExitJump, ex.Kind)
		require.Equal(t, tc.want, c.X[3], "%v", tc.in)
	}
	// Overflow cases.
	c.X[4], c.X[5] = 1<<63, math.MaxUint64
	run(t, c, Inst{Op: Div, Rd: 6, Rs1: 4, Rs2: 5}, leave())
	require.Equal(t, uint64(1<<63), c.X[6])
	run(t, c, Inst{Op: Rem, Rd: 6, Rs1: 4, Rs2: 5}, leave())
	require.Zero(t, c.X[6])
	c.X[4] = 0xffffffff80000000
	run(t, c, Inst{Op: Divw, Rd: 6, Rs1: 4, Rs2: 5}, leave())
	require.Equal(t, uint64(0xffffffff80000000), c.X[6])
	run(t, c, Inst{Op: Remw, Rd: 6, Rs1: 4, Rs2: 5}, leave())
	require.Zero(t, c.X[6])
	// x0 stays zero.
	run(t, c, Inst{Op: Addi, Rd: 0, Rs1: 1, Imm: 5}, Inst{Op: Add, Rd: 7, Rs1: 0, Rs2: 0}, leave())
	require.Zero(t, c.X[0])
	require.Zero(t, c.X[7])
}

func TestMulhProperty(t *testing.T) {
	c := NewCore(newPageMem())
	rapid.Check(t, func(rt *rapid.T) {
		a, b := rapid.Uint64().Draw(rt, "a"), rapid.Uint64().Draw(rt, "b")
		c.X[1], c.X[2] = a, b
		c.Run([]Inst{{Op: Mulh, Rd: 3, Rs1: 1, Rs2: 2}, {Op: Mulhsu, Rd: 4, Rs1: 1, Rs2: 2}, {Op: Mulhu, Rd: 5, Rs1: 1, Rs2: 2}, leave()})
		hi := func(x, y *big.Int) uint64 {
			p := new(big.Int).Mul(x, y)
			p.Rsh(p, 64)
			return new(big.Int).And(p, new(big.Int).SetUint64(math.MaxUint64)).Uint64()
		}
		sa, sb := big.NewInt(int64(a)), big.NewInt(int64(b))
		ua, ub := new(big.Int).SetUint64(a), new(big.Int).SetUint64(b)
		require.Equal(rt, hi(sa, sb), c.X[3])
		require.Equal(rt, hi(sa, ub), c.X[4])
		require.Equal(rt, hi(ua, ub), c.X[5])
	})
}

func TestLoadsStores(t *testing.T) {
	m := newPageMem()
	m.mapPage(0x10000, false)
	m.mapPage(0x11000, false)
	m.mapPage(0x20000, true)
	c := NewCore(m)
	c.X[1] = 0x10ff0
	c.X[2] = 0x8182838485868788
	ex := run(t, c,
		Inst{Op: Sd, Rs1: 1, Rs2: 2, Imm: 0},
		Inst{Op: Lb, Rd: 3, Rs1: 1, Imm: 0},
		Inst{Op: Lbu, Rd: 4, Rs1: 1, Imm: 0},
		Inst{Op: Lh, Rd: 5, Rs1: 1, Imm: 0},
		Inst{Op: Lhu, Rd: 6, Rs1: 1, Imm: 0},
		Inst{Op: Lw, Rd: 7, Rs1: 1, Imm: 4},
		Inst{Op: Lwu, Rd: 8, Rs1: 1, Imm: 4},
		Inst{Op: Sd, Rs1: 1, Rs2: 2, Imm: 12}, // crosses into the next page
		Inst{Op: Ld, Rd: 9, Rs1: 1, Imm: 12},
		leave())
	require.Equal(t, ExitJump, ex.Kind)
	require.Equal(t, uint64(0xffffffffffffff88), c.X[3])
	require.Equal(t, uint64(0x88), c.X[4])
	require.Equal(t, uint64(0xffffffffffff8788), c.X[5])
	require.Equal(t, uint64(0x8788), c.X[6])
	require.Equal(t, uint64(0xffffffff81828384), c.X[7])
	require.Equal(t, uint64(0x81828384), c.X[8])
	require.Equal(t, c.X[2], c.X[9])
	require.Equal(t, byte(0x81), m.pages[0x11000][3], "the high bytes landed in the next page")

	// A store to a read-only page faults precisely: nothing written, the
	// registers as before, the index of the store.
	c.X[10] = 0x20008
	before := c.X
	ex = run(t, c, Inst{Op: Addi, Rd: 11, Rs1: 0, Imm: 1}, Inst{Op: Sw, Rs1: 10, Rs2: 2, Imm: -8}, leave())
	require.Equal(t, Exit{Kind: ExitFault, Index: 1, Addr: 0x20000, Write: true}, ex)
	require.Equal(t, uint64(1), c.X[11])
	c.X[11] = before[11]
	require.Equal(t, before, c.X)
	// A page-crossing store that faults on its second page writes nothing.
	c.X[12] = 0x11ffc
	ex = run(t, c, Inst{Op: Sd, Rs1: 12, Rs2: 2}, leave())
	require.Equal(t, ExitFault, ex.Kind)
	require.Zero(t, m.pages[0x11000][0xffc])
	// Loads from an unmapped page fault and leave rd.
	c.X[13] = 77
	ex = run(t, c, Inst{Op: Ld, Rd: 13, Rs1: 0, Imm: 0x5000}, leave())
	require.Equal(t, Exit{Kind: ExitFault, Index: 0, Addr: 0x5000}, ex)
	require.Equal(t, uint64(77), c.X[13])
}

func TestTLBCachesAndFlushes(t *testing.T) {
	m := newPageMem()
	m.mapPage(0x10000, false)
	c := NewCore(m)
	c.X[1] = 0x10000
	for range 10 {
		run(t, c, Inst{Op: Ld, Rd: 2, Rs1: 1}, leave())
	}
	require.Equal(t, 1, m.calls)
	require.Equal(t, uint64(1), c.TLBMisses)
	// Unmapping needs a flush to take effect.
	delete(m.pages, 0x10000)
	require.Equal(t, ExitJump, run(t, c, Inst{Op: Ld, Rd: 2, Rs1: 1}, leave()).Kind)
	c.FlushTLB()
	require.Equal(t, ExitFault, run(t, c, Inst{Op: Ld, Rd: 2, Rs1: 1}, leave()).Kind)
}

func TestAtomics(t *testing.T) {
	m := newPageMem()
	m.mapPage(0x10000, false)
	m.mapPage(0x20000, true)
	c := NewCore(m)
	c.X[1] = 0x10000
	c.X[2] = 5
	c.X[3] = math.MaxUint64 // -1
	run(t, c, Inst{Op: Sd, Rs1: 1, Rs2: 2}, leave())
	run(t, c, Inst{Op: AmoAddD, Rd: 4, Rs1: 1, Rs2: 2}, leave())
	require.Equal(t, uint64(5), c.X[4])
	run(t, c, Inst{Op: AmoMinD, Rd: 4, Rs1: 1, Rs2: 3}, Inst{Op: Ld, Rd: 5, Rs1: 1}, leave())
	require.Equal(t, uint64(10), c.X[4])
	require.Equal(t, uint64(math.MaxUint64), c.X[5], "min(10, -1) stored")
	run(t, c, Inst{Op: AmoMaxuW, Rd: 4, Rs1: 1, Rs2: 2}, Inst{Op: Lwu, Rd: 5, Rs1: 1}, leave())
	require.Equal(t, uint64(math.MaxUint64), c.X[4], "the old word, sign-extended")
	require.Equal(t, uint64(0xffffffff), c.X[5], "maxu of 0xffffffff and 5")
	// LR/SC: success, then failure without a reservation.
	run(t, c, Inst{Op: LrD, Rd: 6, Rs1: 1}, Inst{Op: ScD, Rd: 7, Rs1: 1, Rs2: 2}, leave())
	require.Zero(t, c.X[7])
	run(t, c, Inst{Op: ScD, Rd: 7, Rs1: 1, Rs2: 3}, Inst{Op: Ld, Rd: 8, Rs1: 1}, leave())
	require.Equal(t, uint64(1), c.X[7])
	require.Equal(t, uint64(5), c.X[8], "a failed SC writes nothing")
	// Misaligned and read-only atomics fault.
	c.X[9] = 0x10004
	ex := run(t, c, Inst{Op: AmoAddD, Rd: 4, Rs1: 9, Rs2: 2}, leave())
	require.True(t, ex.Misaligned)
	require.Equal(t, ExitFault, ex.Kind)
	c.X[9] = 0x20000
	ex = run(t, c, Inst{Op: AmoOrW, Rd: 4, Rs1: 9, Rs2: 2}, leave())
	require.Equal(t, Exit{Kind: ExitFault, Addr: 0x20000, Write: true}, ex)
}

// TestSCFailsAfterAnotherHartStores: two cores share memory (threads). A
// store by core b to the word core a holds a reservation on breaks it: a's
// SC fails and writes nothing. A store of the very value a read leaves it
// (the reservation is decided by value, as qemu-riscv64 decides it).
func TestSCFailsAfterAnotherHartStores(t *testing.T) {
	m := newPageMem()
	m.mapPage(0x10000, false)
	a, b := NewCore(m), NewCore(m)
	a.X[1], b.X[1] = 0x10000, 0x10000
	a.X[2], b.X[2], b.X[3] = 7, 9, 0
	run(t, a, Inst{Op: LrD, Rd: 6, Rs1: 1}, leave())
	run(t, b, Inst{Op: Sd, Rs1: 1, Rs2: 2}, leave()) // b stores 9
	run(t, a, Inst{Op: ScD, Rd: 7, Rs1: 1, Rs2: 2}, Inst{Op: Ld, Rd: 8, Rs1: 1}, leave())
	require.Equal(t, uint64(1), a.X[7], "the reservation was broken")
	require.Equal(t, uint64(9), a.X[8], "the failed SC wrote nothing")
	// Uncontended, it succeeds.
	run(t, a, Inst{Op: LrD, Rd: 6, Rs1: 1}, Inst{Op: ScD, Rd: 7, Rs1: 1, Rs2: 2}, Inst{Op: Ld, Rd: 8, Rs1: 1}, leave())
	require.Zero(t, a.X[7])
	require.Equal(t, uint64(7), a.X[8])
	// b's SC after a's LR, then a's SC: b's succeeded first (it held its
	// own reservation), so a's fails.
	run(t, b, Inst{Op: LrD, Rd: 6, Rs1: 1}, leave())
	run(t, a, Inst{Op: LrD, Rd: 6, Rs1: 1}, leave())
	run(t, b, Inst{Op: ScD, Rd: 7, Rs1: 1, Rs2: 2}, leave()) // 9
	run(t, a, Inst{Op: ScD, Rd: 7, Rs1: 1, Rs2: 3}, leave())
	require.Zero(t, b.X[7])
	require.Equal(t, uint64(1), a.X[7])
}

func TestBranchesAndExits(t *testing.T) {
	c := NewCore(newPageMem())
	// Sum 1..100 in a loop: x1 = counter, x2 = sum.
	code := []Inst{
		{Op: Li, Rd: 1, Imm: 100},
		{Op: Li, Rd: 2, Imm: 0},
		{Op: Add, Rd: 2, Rs1: 2, Rs2: 1}, // 2: loop
		{Op: Addi, Rd: 1, Rs1: 1, Imm: -1},
		{Op: Bne, Rs1: 1, Rs2: 0, Imm: 2},
		{Op: Leave, Imm: 0x4000},
	}
	ex := c.Run(code)
	require.Equal(t, Exit{Kind: ExitJump, PC: 0x4000, Index: 5}, ex)
	require.Equal(t, uint64(5050), c.X[2])
	require.Equal(t, uint64(2+3*100+1), c.Retired)

	c.X[5] = 0x1235
	require.Equal(t, uint64(0x1240), c.Run([]Inst{{Op: LeaveReg, Rs1: 5, Imm: 11}}).PC, "the low bit is cleared")
	require.Equal(t, Exit{Kind: ExitSyscall, PC: 0x100, Next: 0x104}, c.Run([]Inst{{Op: Ecall, Rs2: 4, Imm: 0x100}}))
	require.Equal(t, Exit{Kind: ExitFenceI, PC: 0x100, Next: 0x102}, c.Run([]Inst{{Op: FenceI, Rs2: 2, Imm: 0x100}}))
	require.Equal(t, ExitIllegal, c.Run([]Inst{{Op: Illegal, Imm: 0x100}}).Kind)
	require.Equal(t, ExitBreak, c.Run([]Inst{{Op: Ebreak, Imm: 0x100}}).Kind)
	for _, op := range []Op{Beq, Bne, Blt, Bge, Bltu, Bgeu} {
		c.X[1], c.X[2] = math.MaxUint64, 1 // -1 and 1
		ex := c.Run([]Inst{{Op: op, Rs1: 1, Rs2: 2, Imm: 2}, {Op: Leave, Imm: 1}, {Op: Leave, Imm: 2}})
		taken := map[Op]bool{Beq: false, Bne: true, Blt: true, Bge: false, Bltu: false, Bgeu: true}[op]
		require.Equal(t, taken, ex.PC == 2, "%v", op)
	}
}

func TestEncodeDecodeProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		in := Inst{Op: Op(rapid.IntRange(0, int(numOps)-1).Draw(rt, "op")),
			Rd: uint8(rapid.IntRange(0, 63).Draw(rt, "rd")), Rs1: uint8(rapid.IntRange(0, 63).Draw(rt, "rs1")),
			Rs2: uint8(rapid.IntRange(0, 63).Draw(rt, "rs2")), Imm: int64(rapid.Int32().Draw(rt, "imm"))}
		if in.Op == Li {
			in.Imm = rapid.Int64().Draw(rt, "imm64")
		}
		words := Encode(nil, in)
		require.Len(rt, words, in.Words())
		got, n, err := DecodeWord(words)
		require.NoError(rt, err)
		require.Equal(rt, len(words), n)
		require.Equal(rt, in, got)
		require.NotEmpty(rt, in.String())
	})
}

func TestDecodeWordErrors(t *testing.T) {
	_, _, err := DecodeWord(nil)
	require.Error(t, err)
	_, _, err = DecodeWord([]uint64{uint64(numOps)})
	require.ErrorContains(t, err, "unknown host operation")
	_, _, err = DecodeWord([]uint64{1 << 30})
	require.ErrorContains(t, err, "reserved bits")
	_, _, err = DecodeWord([]uint64{uint64(Add) | wideBit, 5})
	require.ErrorContains(t, err, "malformed wide")
	_, _, err = DecodeWord([]uint64{uint64(Li) | wideBit})
	require.ErrorContains(t, err, "malformed wide")
	require.Panics(t, func() { Encode(nil, Inst{Op: Addi, Imm: 1 << 40}) })
	require.Panics(t, func() { Encode(nil, Inst{Op: Add, Rd: 64}) })
}

// BenchmarkCoreLoop measures host instructions per second on a loop of
// arithmetic, a load and a store per iteration; it must not allocate.
func BenchmarkCoreLoop(b *testing.B) {
	m := newPageMem()
	m.mapPage(0x10000, false)
	c := NewCore(m)
	const iters = 1000
	code := []Inst{
		{Op: Li, Rd: 1, Imm: iters},
		{Op: Li, Rd: 3, Imm: 0x10000},
		{Op: Ld, Rd: 4, Rs1: 3, Imm: 8}, // 2: loop
		{Op: Add, Rd: 2, Rs1: 2, Rs2: 1},
		{Op: Xor, Rd: 4, Rs1: 4, Rs2: 2},
		{Op: Sd, Rs1: 3, Rs2: 4, Imm: 8},
		{Op: Addi, Rd: 1, Rs1: 1, Imm: -1},
		{Op: Bne, Rs1: 1, Rs2: 0, Imm: 2},
		{Op: Leave, Imm: 0x4000},
	}
	b.ReportAllocs()
	start := c.Retired
	for b.Loop() {
		c.Run(code)
	}
	b.ReportMetric(float64(c.Retired-start)/b.Elapsed().Seconds()/1e6, "Minst/s")
}

func TestRunBlockChains(t *testing.T) {
	c := NewCore(newPageMem())
	// a: x1 += 1, leave to 0x200; b: x1 += 10, leave to 0x100 (back to a).
	a := &Block{PC: 0x100, Code: []Inst{{Op: Addi, Rd: 1, Rs1: 1, Imm: 1}, {Op: Leave, Imm: 0x200}}, Retire: []uint16{1, 1}}
	b := &Block{PC: 0x200, Code: []Inst{{Op: Addi, Rd: 1, Rs1: 1, Imm: 10}, {Op: Leave, Imm: 0x100}}, Retire: []uint16{1, 1}}
	// Unlinked: one block, then back to the firmware.
	ex, from := c.RunBlock(a, 0)
	require.Equal(t, a, from)
	require.Equal(t, uint64(0x200), ex.PC)
	require.Equal(t, uint64(1), c.GuestRetired)
	// Linked both ways: runs until the budget stops it.
	a.Next = []*Block{nil, b}
	b.Next = []*Block{nil, a}
	c.StopAt = c.Retired + 40
	ex, from = c.RunBlock(a, 0)
	require.Equal(t, ExitJump, ex.Kind)
	require.GreaterOrEqual(t, c.Retired, c.StopAt)
	require.Equal(t, uint64(20), c.Chained+1, "20 blocks of two instructions")
	require.Equal(t, uint64(1+10*1+10*10), c.X[1])
	require.Equal(t, uint64(21), c.GuestRetired)
	require.Equal(t, b, from)
	// A dead successor, or one that starts elsewhere, is not entered.
	c.StopAt = 0
	b.Dead = true
	ex, from = c.RunBlock(a, 0)
	require.Equal(t, a, from)
	require.Equal(t, uint64(0x200), ex.PC)
	b.Dead = false
	b.PC = 0x300
	_, from = c.RunBlock(a, 0)
	require.Equal(t, a, from)
}

// TestWalkCompletesRefusedAccess: the access right after a Walk goes
// through the walk memory where the MMU refuses it; without the Walk it
// faults.
func TestWalkCompletesRefusedAccess(t *testing.T) {
	m := newPageMem()
	m.mapPage(0x10000, true) // the MMU refuses stores
	w := newPageMem()
	w.pages[0x10000] = m.pages[0x10000] // the same bytes, writable
	w.ro[0x10000] = false
	c := NewCore(m)
	c.SetWalkMemory(w)
	c.X[1], c.X[2] = 0x10000, 0xabcd
	ex := c.Run([]Inst{{Op: Walk, Rd: 35, Rs1: 34}, {Op: Sd, Rs1: 1, Rs2: 2, Imm: 8}, {Op: Leave}})
	require.Equal(t, ExitJump, ex.Kind)
	v, ok := c.load(0x10008, 8)
	require.True(t, ok)
	require.Equal(t, uint64(0xabcd), v)
	require.Equal(t, uint64(1), c.Walks)
	require.Equal(t, uint64(1), c.Walked)
	// The walk covers only the next instruction.
	ex = c.Run([]Inst{{Op: Walk, Rd: 35, Rs1: 34}, {Op: Addi, Rd: 3, Rs1: 0, Imm: 1}, {Op: Sd, Rs1: 1, Rs2: 2}, {Op: Leave}})
	require.Equal(t, ExitFault, ex.Kind)
	require.Equal(t, 2, ex.Index)
	require.Equal(t, uint64(1), c.Walked)
	// A walk memory that refuses too: a fault, not counted as walked.
	w.ro[0x10000] = true
	c.FlushTLB()
	ex = c.Run([]Inst{{Op: Walk, Rd: 35, Rs1: 34}, {Op: Sd, Rs1: 1, Rs2: 2}, {Op: Leave}})
	require.Equal(t, ExitFault, ex.Kind)
	require.Equal(t, uint64(1), c.Walked)
	require.Equal(t, "walk x35, x34", Inst{Op: Walk, Rd: 35, Rs1: 34}.String())
}

// checkedMem is a pageMem whose pages are all checked on every access.
type checkedMem struct {
	*pageMem
	checks int
}

func (m *checkedMem) Checked(base uint64) bool       { return true }
func (m *checkedMem) Check(va, n uint64, write bool) { m.checks++ }

// TestCheckedMemory: a checked page is never kept in the TLB, so its
// memory sees every access.
func TestCheckedMemory(t *testing.T) {
	m := &checkedMem{pageMem: newPageMem()}
	m.mapPage(0x10000, false)
	c := NewCore(m)
	c.X[1] = 0x10000
	ex := c.Run(append(repeat(10, Inst{Op: Ld, Rd: 2, Rs1: 1}, Inst{Op: Sd, Rs1: 1, Rs2: 2, Imm: 8}), Inst{Op: Leave}))
	require.Equal(t, ExitJump, ex.Kind)
	require.Equal(t, 20, m.checks)
	require.Equal(t, 20, m.calls)
}

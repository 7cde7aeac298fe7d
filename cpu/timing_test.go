package cpu

import (
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/twinsim/twinsim/cache"
	"github.com/twinsim/twinsim/memory"
	"github.com/twinsim/twinsim/sim"
)

// models are the two timing models, each with its default configuration.
var models = []struct {
	name string
	cfg  func() Config
}{
	{"in-order", DefaultInOrderConfig},
	{"out-of-order", DefaultOutOfOrderConfig},
}

func timedCore(t testing.TB, model string, cfg Config, pred Predictor) (*Core, Timing) {
	t.Helper()
	if pred == nil {
		var err error
		pred, err = NewBimodal(DefaultBimodalConfig())
		require.NoError(t, err)
	}
	tm, err := NewTiming(model, cfg, pred)
	require.NoError(t, err)
	m := newPageMem()
	m.mapPage(0x10000, false)
	binary.LittleEndian.PutUint64(m.pages[0x10000], 0x10000) // a pointer to itself, for chasing
	c := NewCore(m)
	c.SetTimer(tm)
	return c, tm
}

// cpi runs code (a Leave is appended) and returns cycles per instruction.
func cpi(c *Core, tm Timing, code []Inst) float64 {
	ex := c.Run(append(code, Inst{Op: Leave}))
	if ex.Kind != ExitJump || tm.Stats().Insts != uint64(len(code)+1) {
		panic(fmt.Sprintf("the code did not run to its end: %+v after %d instructions", ex, tm.Stats().Insts))
	}
	return float64(tm.Finish()) / float64(tm.Stats().Insts)
}

// repeat returns n copies of the instructions.
func repeat(n int, ins ...Inst) []Inst {
	var out []Inst
	for range n {
		out = append(out, ins...)
	}
	return out
}

// fixedMem answers every access after lat cycles from its second source
// (a miss), with hit cycles for its first.
type fixedMem struct {
	lat, hit uint64
	wlat     uint64 // if not 0, stores take this long instead
	accesses int
}

func (m *fixedMem) Access(addr uint64, write bool, cycle uint64) Latency {
	m.accesses++
	if write && m.wlat != 0 {
		return Latency{Cycles: m.wlat}
	}
	return Latency{Cycles: m.lat, Source: 1}
}
func (m *fixedMem) Sources() []string { return []string{"l1", "dram"} }
func (m *fixedMem) HitCycles() uint64 { return m.hit }

func TestThroughput(t *testing.T) {
	const n = 4000
	dep := Inst{Op: Add, Rd: 1, Rs1: 1, Rs2: 2}
	indep := []Inst{{Op: Add, Rd: 3, Rs1: 3, Rs2: 2}, {Op: Add, Rd: 4, Rs1: 4, Rs2: 2},
		{Op: Add, Rd: 5, Rs1: 5, Rs2: 2}, {Op: Add, Rd: 6, Rs1: 6, Rs2: 2}}
	for _, m := range models {
		for _, tc := range []struct {
			name  string
			width int
			code  []Inst
			cpi   float64
		}{
			{"dependent adds, 1-wide", 1, repeat(n, dep), 1},
			{"dependent adds, 2-wide", 2, repeat(n, dep), 1},
			{"independent adds, 1-wide", 1, repeat(n/4, indep...), 1},
			{"independent adds, 2-wide", 2, repeat(n/4, indep...), 0.5},
			{"independent adds, 4-wide", 4, repeat(n/4, indep...), 0.25},
		} {
			t.Run(m.name+"/"+tc.name, func(t *testing.T) {
				cfg := m.cfg()
				cfg.Width, cfg.ALUUnits, cfg.MulUnits, cfg.FPUnits, cfg.MemPorts = tc.width, tc.width, 1, 1, 1
				c, tm := timedCore(t, m.name, cfg, nil)
				require.InDelta(t, tc.cpi, cpi(c, tm, tc.code), 0.01*tc.cpi+0.005)
			})
		}
	}
}

func TestLatencies(t *testing.T) {
	for _, m := range models {
		cfg := m.cfg()
		cfg.Width = 1
		cfg.ALUUnits, cfg.MulUnits, cfg.FPUnits, cfg.MemPorts = 1, 1, 1, 1
		cases := []struct {
			name string
			in   Inst
			cpi  float64
		}{
			{"dependent multiplies", Inst{Op: Mul, Rd: 1, Rs1: 1, Rs2: 2}, float64(cfg.Mul)},
			{"dependent divides", Inst{Op: Div, Rd: 1, Rs1: 1, Rs2: 2}, float64(cfg.Div)},
			{"independent divides (not pipelined)", Inst{Op: Div, Rd: 3, Rs1: 1, Rs2: 2}, float64(cfg.Div)},
			{"independent multiplies (pipelined)", Inst{Op: Mul, Rd: 3, Rs1: 1, Rs2: 2}, 1},
			{"pointer chasing loads", Inst{Op: Ld, Rd: 1, Rs1: 1}, float64(cfg.Load)},
			{"dependent FP adds", Inst{Op: Fp, Rd: 1, Rs1: 1, Rs2: 2, Imm: FpImm(FAdd, true, 0, RNE)}, float64(cfg.FPAdd)},
			{"dependent FMAs through the addend", Inst{Op: Fp, Rd: 1, Rs1: 2, Rs2: 3, Imm: FpImm(FMadd, true, 1, RNE)}, float64(cfg.FPMul)},
		}
		for _, tc := range cases {
			t.Run(m.name+"/"+tc.name, func(t *testing.T) {
				c, tm := timedCore(t, m.name, cfg, nil)
				c.X[1] = 0x10000 // the pointer chase reads its own address
				c.X[2] = 3
				require.InDelta(t, tc.cpi, cpi(c, tm, repeat(500, tc.in)), 0.02*tc.cpi+0.01)
			})
		}
	}
}

func TestUnitCounts(t *testing.T) {
	muls := repeat(1000, Inst{Op: Mul, Rd: 3, Rs1: 1, Rs2: 2}, Inst{Op: Mul, Rd: 4, Rs1: 1, Rs2: 2})
	divs := repeat(100, Inst{Op: Div, Rd: 3, Rs1: 1, Rs2: 2}, Inst{Op: Div, Rd: 4, Rs1: 1, Rs2: 2})
	for _, m := range models {
		for _, units := range []int{1, 2} {
			cfg := m.cfg()
			cfg.Width, cfg.MulUnits, cfg.DivUnits = 4, units, units
			c, tm := timedCore(t, m.name, cfg, nil)
			require.InDelta(t, 1/float64(units), cpi(c, tm, muls), 0.02, "%s: %d multipliers", m.name, units)
			c, tm = timedCore(t, m.name, cfg, nil)
			require.InDelta(t, float64(cfg.Div)/float64(units), cpi(c, tm, divs), 0.5, "%s: %d dividers", m.name, units)
		}
	}
}

func TestMemoryPorts(t *testing.T) {
	for _, m := range models {
		cfg := m.cfg()
		cfg.Width, cfg.MemPorts = 2, 1
		c, tm := timedCore(t, m.name, cfg, nil)
		c.X[1] = 0x10000
		// Independent loads: one port, so one a cycle even on a 2-wide core.
		require.InDelta(t, 1.0, cpi(c, tm, repeat(400, Inst{Op: Ld, Rd: 3, Rs1: 1}, Inst{Op: Ld, Rd: 4, Rs1: 1})), 0.03, m.name)
		if m.name == "in-order" {
			// No cycle goes empty — each issues one load — so the CPI stack
			// shows the lost slots as base time, not as structural stalls.
			require.Zero(t, tm.Stats().Lost[causeStructural])
			require.InDelta(t, 1.0, tm.Stats().CPIStack()["base"], 0.02)
		}
	}
}

// loop alternates a branch taken / not taken 2000 times: gshare learns
// it, bimodal mispredicts about half of the time.
var alternating = []Inst{
	{Op: Li, Rd: 1, Imm: 2000},
	{Op: Andi, Rd: 2, Rs1: 1, Imm: 1}, // 1: loop
	{Op: Beq, Rs1: 2, Rs2: 0, Imm: 4},
	{Op: Addi, Rd: 3, Rs1: 3, Imm: 1},
	{Op: Addi, Rd: 1, Rs1: 1, Imm: -1}, // 4
	{Op: Bne, Rs1: 1, Rs2: 0, Imm: 1},
	{Op: Leave},
}

func TestBranchPrediction(t *testing.T) {
	for _, m := range models {
		run := func(pred Predictor) *TimingStats {
			c, tm := timedCore(t, m.name, m.cfg(), pred)
			c.Run(alternating)
			tm.Finish()
			return tm.Stats()
		}
		bim, err := NewBimodal(DefaultBimodalConfig())
		require.NoError(t, err)
		gs, err := NewGshare(DefaultGshareConfig())
		require.NoError(t, err)
		b, g := run(bim), run(gs)
		depth := m.cfg().Depth
		require.Equal(t, uint64(4000), b.Branches)
		require.Greater(t, b.Mispredicts, uint64(800))
		require.Less(t, g.Mispredicts, uint64(50))
		require.Greater(t, b.Cycles, g.Cycles+800*depth, m.name)
		if m.name == "in-order" {
			require.Equal(t, b.Lost[causeBranch], b.Mispredicts*depth)
		} else {
			// The refill and the branch's own latency before it.
			require.GreaterOrEqual(t, b.Lost[causeBranch], b.Mispredicts*(depth-2))
		}
	}
}

// TestOutOfOrderOverlapsMisses: a load that misses, an add that needs it
// and eight independent adds. The in-order core stalls at the add every
// iteration; the out-of-order core keeps dispatching and overlaps the
// misses of as many iterations as its reorder buffer holds.
func TestOutOfOrderOverlapsMisses(t *testing.T) {
	iter := []Inst{{Op: Ld, Rd: 3, Rs1: 1}, {Op: Add, Rd: 4, Rs1: 3, Rs2: 4}}
	for r := 5; r < 13; r++ {
		iter = append(iter, Inst{Op: Addi, Rd: uint8(r), Rs1: uint8(r), Imm: 1})
	}
	const n, lat = 300, 200
	run := func(model string, rob int, iq ...int) float64 {
		cfg := DefaultOutOfOrderConfig()
		if model == "in-order" {
			cfg = DefaultInOrderConfig()
			cfg.Width, cfg.ALUUnits = 4, 3
		}
		cfg.ROB = rob
		cfg.IssueQueue = 4096 // only the ROB limits, unless iq is given
		if len(iq) > 0 {
			cfg.IssueQueue = iq[0]
		}
		cfg.LoadQueue, cfg.RenameRegs = 4096, 4096 // only the ROB limits
		c, tm := timedCore(t, model, cfg, nil)
		c.X[1] = 0x10000
		mem := &fixedMem{lat: lat, hit: cfg.Load}
		tm.(interface{ SetMemory(MemoryTiming) }).SetMemory(mem)
		c.Run(append(repeat(n, iter...), Inst{Op: Leave}))
		return float64(tm.Finish()) / n
	}
	inorder := run("in-order", 0)
	require.InDelta(t, lat+1, inorder, 10, "in-order: one miss at a time")
	// ROB-limited: rob/10 iterations in flight, each waiting lat cycles.
	for _, rob := range []int{32, 64, 128} {
		per := run("out-of-order", rob)
		require.InDelta(t, float64(lat)*10/float64(rob), per, 0.25*float64(lat)*10/float64(rob), "rob %d", rob)
	}
	// With a window larger than the miss needs, the three ALUs bound it
	// (nine ALU instructions an iteration).
	require.InDelta(t, 3.0, run("out-of-order", 1024), 0.2)
	// With a 36-entry issue queue, each iteration's add waits lat cycles
	// in it for the load: 36 iterations in flight, lat/36 cycles each.
	require.InDelta(t, float64(lat)/36, run("out-of-order", 1024, 36), 0.2*float64(lat)/36)
}

// TestOutOfOrderIssueWidth: twelve independent adds a cycle's worth on six
// ALUs: the issue width, not the units, bounds them.
func TestOutOfOrderIssueWidth(t *testing.T) {
	cfg := DefaultOutOfOrderConfig()
	cfg.Width, cfg.ALUUnits, cfg.IssueWidth = 8, 8, 2
	c, tm := timedCore(t, "out-of-order", cfg, nil)
	var body []Inst
	for r := 1; r < 9; r++ {
		body = append(body, Inst{Op: Addi, Rd: uint8(r), Rs1: uint8(r), Imm: 1})
	}
	require.InDelta(t, 0.5, cpi(c, tm, repeat(200, body...)), 0.02, "two a cycle")
}

// TestStoreSetsReplayOnceThenWait: a store whose address comes late (a
// divide computes it) and a load of the same word right behind it, whose
// address is ready at once. The first time, the load issues past the
// store and is replayed; the predictor then puts them in one set and the
// load waits for the store's address: one violation in 50 iterations.
// Perfect disambiguation never replays.
func TestStoreSetsReplayOnceThenWait(t *testing.T) {
	loop := []Inst{
		{Op: Li, Rd: 7, Imm: 50},
		{Op: Div, Rd: 5, Rs1: 1, Rs2: 6}, // 1: x5 = x1 / 1, the store's base, late
		{Op: Sd, Rs1: 5, Rs2: 2},
		{Op: Ld, Rd: 3, Rs1: 1},
		{Op: Add, Rd: 4, Rs1: 3, Rs2: 4},
		{Op: Addi, Rd: 7, Rs1: 7, Imm: -1},
		{Op: Bne, Rs1: 7, Rs2: 0, Imm: 1},
		{Op: Leave},
	}
	run := func(perfect bool) (*OutOfOrder, float64) {
		cfg := DefaultOutOfOrderConfig()
		cfg.PerfectDisambiguation = perfect
		c, tm := timedCore(t, "out-of-order", cfg, nil)
		c.X[1], c.X[6] = 0x10000, 1
		c.Run(loop)
		return tm.(*OutOfOrder), float64(tm.Finish())
	}
	pred, _ := run(false)
	require.Equal(t, uint64(1), pred.Violations)
	require.Positive(t, pred.Stats().Lost[causeReplay])
	perfect, _ := run(true)
	require.Zero(t, perfect.Violations)
	require.Zero(t, perfect.Stats().Lost[causeReplay])
}

func TestOutOfOrderStoreForwarding(t *testing.T) {
	cfg := DefaultOutOfOrderConfig()
	c, tm := timedCore(t, "out-of-order", cfg, nil)
	c.X[1] = 0x10000
	mem := &fixedMem{lat: 300, hit: cfg.Load, wlat: 1}
	tm.(*OutOfOrder).SetMemory(mem)
	// Store then reload the same word: the load takes the store's data
	// instead of going to memory (where it would miss).
	per := cpi(c, tm, repeat(100, Inst{Op: Sd, Rs1: 1, Rs2: 2}, Inst{Op: Ld, Rd: 2, Rs1: 1}, Inst{Op: Addi, Rd: 2, Rs1: 2, Imm: 1}))
	require.Less(t, per*3, float64(cfg.Load+cfg.ALU+2), "store → load → add chains through forwarding")
	require.Equal(t, 100, mem.accesses, "only the stores reach memory")
}

// TestStoreBufferBackpressure: stores that each take 100 cycles to write
// the cache, with a store buffer (queue) of 8: once it is full, one store
// completes every 100/8 cycles.
func TestStoreBufferBackpressure(t *testing.T) {
	for _, m := range models {
		cfg := m.cfg()
		cfg.StoreQueue = 8
		c, tm := timedCore(t, m.name, cfg, nil)
		c.X[1] = 0x10000
		tm.SetMemory(&fixedMem{lat: 100, hit: cfg.Load})
		require.InDelta(t, 100.0/8, cpi(c, tm, repeat(2000, Inst{Op: Sd, Rs1: 1, Rs2: 2})), 0.5, m.name)
	}
}

func TestFetchMisses(t *testing.T) {
	for _, m := range models {
		cfg := m.cfg()
		cfg.Width, cfg.ALUUnits = 1, 1
		c, tm := timedCore(t, m.name, cfg, nil)
		imem := &fixedMem{lat: 21, hit: 1}
		tm.(interface {
			SetFetch(MemoryTiming, uint64)
		}).SetFetch(imem, 64)
		// 800 independent adds in straight-line code: 100 lines of 8
		// instructions, each line's fetch missing for 20 cycles.
		per := cpi(c, tm, repeat(800, Inst{Op: Addi, Rd: 3, Rs1: 4, Imm: 1}))
		require.Equal(t, 101, imem.accesses, "%s: one fetch per line", m.name) // the Leave starts line 101
		require.InDelta(t, 1+20.0/8, per, 0.1, m.name)
		require.InDelta(t, 20.0/8, tm.Stats().CPIStack()["icache"], 0.1, m.name)
	}
}

func TestReturnAddressStack(t *testing.T) {
	for _, m := range models {
		c, tm := timedCore(t, m.name, m.cfg(), nil)
		_ = c
		x := &[NumRegs]uint64{}
		call := Inst{Op: Leave, Rd: 1}
		ret := Inst{Op: LeaveReg, Rs1: 32, Rs2: ExitReturn}
		jump := Inst{Op: LeaveReg, Rs1: 32}
		// Calls from two sites to one function: the returns alternate
		// between two targets, which the RAS predicts and the BTB cannot.
		for i := range 100 {
			x[1] = uint64(0x1000 + 0x100*(i%2))
			tm.leave(&call, x, 0x400, 0x9000)
			tm.leave(&ret, x, 0x9100, x[1])
		}
		st := tm.Stats()
		require.Equal(t, uint64(100), st.IndirectJumps)
		require.Zero(t, st.JumpMispredict, m.name)
		// The same alternation through a plain indirect jump: the BTB
		// holds one target, so every change mispredicts.
		for i := range 100 {
			tm.leave(&jump, x, 0x500, uint64(0x1000+0x100*(i%2)))
		}
		require.Equal(t, uint64(100), st.JumpMispredict, m.name)
	}
}

// TestCPIStackAddsUp: for random instruction mixes on both models, with
// memory and fetch misses, the CPI stack's rows add up to the CPI.
func TestCPIStackAddsUp(t *testing.T) {
	ops := []Inst{
		{Op: Add, Rd: 3, Rs1: 3, Rs2: 4}, {Op: Addi, Rd: 4, Rs1: 5, Imm: 1}, {Op: Mul, Rd: 5, Rs1: 3, Rs2: 4},
		{Op: Div, Rd: 6, Rs1: 5, Rs2: 2}, {Op: Ld, Rd: 3, Rs1: 1}, {Op: Ld, Rd: 7, Rs1: 1, Imm: 8},
		{Op: Sd, Rs1: 1, Rs2: 3, Imm: 8}, {Op: Fp, Rd: 1, Rs1: 1, Rs2: 2, Imm: FpImm(FAdd, true, 0, RNE)},
		{Op: Fp, Rd: 2, Rs1: 1, Rs2: 2, Imm: FpImm(FDiv, true, 0, RNE)},
	}
	rapid.Check(t, func(rt *rapid.T) {
		m := models[rapid.IntRange(0, 1).Draw(rt, "model")]
		cfg := m.cfg()
		cfg.Width = rapid.IntRange(1, 4).Draw(rt, "width")
		cfg.ALUUnits, cfg.MulUnits, cfg.DivUnits, cfg.FPUnits, cfg.FPDivUnits, cfg.MemPorts = cfg.Width, 1, 1, 1, 1, 1
		cfg.ROB = max(cfg.Width, rapid.IntRange(4, 200).Draw(rt, "rob"))
		c, tm := timedCore(t, m.name, cfg, nil)
		c.X[1], c.X[2] = 0x10000, 3
		tm.(interface{ SetMemory(MemoryTiming) }).SetMemory(&fixedMem{lat: rapid.Uint64Range(1, 300).Draw(rt, "lat"), hit: cfg.Load})
		tm.(interface {
			SetFetch(MemoryTiming, uint64)
		}).SetFetch(&fixedMem{lat: rapid.Uint64Range(1, 30).Draw(rt, "ilat"), hit: 1}, 64)
		code := rapid.SliceOfN(rapid.SampledFrom(ops), 1, 300).Draw(rt, "code")
		if rapid.Bool().Draw(rt, "firmware") {
			tm.Firmware(rapid.Uint64Range(1, 1000).Draw(rt, "fw"))
		}
		c.Run(append(code, Inst{Op: Leave}))
		cycles := tm.Finish()
		var sum float64
		for _, v := range tm.Stats().CPIStack() {
			require.GreaterOrEqual(rt, v, 0.0)
			sum += v
		}
		require.InDelta(rt, float64(cycles)/float64(tm.Stats().Insts), sum, 1e-9)
	})
}

func TestTimingConfigErrors(t *testing.T) {
	bim, err := NewBimodal(DefaultBimodalConfig())
	require.NoError(t, err)
	for _, tc := range []struct {
		model string
		mod   func(*Config)
		want  string
	}{
		{"in-order", func(c *Config) { c.Width = 0 }, "width 0"},
		{"in-order", func(c *Config) { c.Width = 9 }, "width 9"},
		{"in-order", func(c *Config) { c.MemPorts = 9 }, "mem_ports 9"},
		{"in-order", func(c *Config) { c.Div = 0 }, "div_latency 0"},
		{"in-order", func(c *Config) { c.Depth = 5000 }, "pipeline_depth"},
		{"out-of-order", func(c *Config) { c.ROB = 2 }, "rob_size 2 is not allowed; must be width (4)"},
		{"out-of-order", func(c *Config) { c.StoreQueue = 0 }, "store_queue 0"},
		{"in-order", func(c *Config) {}, "unknown core model"},
	} {
		cfg := DefaultOutOfOrderConfig()
		tc.mod(&cfg)
		model := tc.model
		if tc.want == "unknown core model" {
			model = "vliw"
		}
		_, err := NewTiming(model, cfg, bim)
		require.ErrorContains(t, err, tc.want)
	}
	_, err = NewInOrder(DefaultInOrderConfig(), nil)
	require.ErrorContains(t, err, "no branch predictor")
	// The in-order core does not check the out-of-order windows.
	cfg := DefaultInOrderConfig()
	cfg.ROB = 0
	_, err = NewInOrder(cfg, bim)
	require.NoError(t, err)
}

// hierarchy returns data and instruction sides of a default-sized
// hierarchy (32 KiB L1D and L1I, 512 KiB L2, 8 MiB L3, DRAM) with their
// TLBs, as the timing mode builds it.
func hierarchy(tb testing.TB) (data, fetch *PortTiming) {
	env := sim.NewEnv(1)
	level := func(name string, size uint64, ways int, lat uint64) *cache.Cache {
		c, err := cache.New(env.Scope(name), cache.Config{Size: size, LineSize: 128, Ways: ways, Latency: lat})
		require.NoError(tb, err)
		return c
	}
	dram, err := memory.NewDRAM(env.Scope("dram"), memory.DRAMConfig{Latency: 60 * sim.Nanosecond, Channels: 2,
		BytesPerSec: 12_800_000_000, InterleaveBytes: 4096})
	require.NoError(tb, err)
	l2, l3 := level("l2", 512<<10, 8, 12), level("l3", 8<<20, 16, 40)
	side := func(l1 *cache.Cache, tlbName string) *PortTiming {
		p, err := cache.NewPort(3*sim.GHz, []*cache.Cache{l1, l2, l3}, dram, nil)
		require.NoError(tb, err)
		tlb, err := memory.NewTLB(env.Scope(tlbName), 64, 4, 64<<10)
		require.NoError(tb, err)
		return &PortTiming{Port: p, Freq: 3 * sim.GHz, TLB: tlb, WalkCycles: 30}
	}
	return side(level("l1", 32<<10, 8, 2), "dtlb"), side(level("l1i", 32<<10, 8, 1), "itlb")
}

// BenchmarkTiming is the timing mode's inner loop: the functional core
// with each timing model, its loads and stores through the cache
// hierarchy and TLB, and fetch through the L1I. It must not allocate.
func BenchmarkTiming(b *testing.B) {
	const iters = 1000
	code := []Inst{
		{Op: Li, Rd: 1, Imm: iters},
		{Op: Li, Rd: 3, Imm: 0x10000},
		{Op: Ld, Rd: 4, Rs1: 3, Imm: 8}, // 2: loop
		{Op: Add, Rd: 2, Rs1: 2, Rs2: 1},
		{Op: Xor, Rd: 4, Rs1: 4, Rs2: 2},
		{Op: Sd, Rs1: 3, Rs2: 4, Imm: 8},
		{Op: Andi, Rd: 5, Rs1: 1, Imm: 3},
		{Op: Beq, Rs1: 5, Rs2: 0, Imm: 8},
		{Op: Addi, Rd: 6, Rs1: 6, Imm: 1},
		{Op: Addi, Rd: 1, Rs1: 1, Imm: -1}, // 8
		{Op: Bne, Rs1: 1, Rs2: 0, Imm: 2},
		{Op: Leave, Imm: 0x4000},
	}
	for _, m := range models {
		b.Run(m.name, func(b *testing.B) {
			c, tm := timedCore(b, m.name, m.cfg(), nil)
			data, fetch := hierarchy(b)
			tm.SetMemory(data)
			tm.SetFetch(fetch, 128)
			blk := Block{Code: code, Addr: 1 << 40}
			b.ReportAllocs()
			start := c.Retired
			for b.Loop() {
				c.RunBlock(&blk, 0)
			}
			b.ReportMetric(float64(c.Retired-start)/b.Elapsed().Seconds()/1e6, "Minst/s")
		})
	}
}

// TestStallsChargedToTheirCause: a stretch of firmware, a fetch miss or a
// mispredicted branch followed by a load (which hits) or an add is charged
// to the firmware, the I-cache or the branch, not to the instruction
// after it; a Finish in the middle of a run changes nothing.
func TestStallsChargedToTheirCause(t *testing.T) {
	for _, m := range models {
		for _, first := range []Inst{{Op: Add, Rd: 3, Rs1: 2, Rs2: 2}, {Op: Ld, Rd: 3, Rs1: 1}} {
			c, tm := timedCore(t, m.name, m.cfg(), nil)
			c.X[1] = 0x10000
			c.Run([]Inst{{Op: Add, Rd: 4, Rs1: 2, Rs2: 2}, {Op: Leave}})
			tm.Firmware(1000)
			c.Run([]Inst{first, {Op: Leave}})
			tm.Finish()
			require.InDelta(t, 1000, tm.Stats().Lost[causeFirmware], 5, "%s: firmware then %v", m.name, first.Op)
		}

		c, tm := timedCore(t, m.name, m.cfg(), nil)
		tm.SetFetch(&fixedMem{lat: 21, hit: 1}, 64)
		c.Run([]Inst{{Op: Add, Rd: 4, Rs1: 2, Rs2: 2}, {Op: Leave}})
		tm.Firmware(1000)
		c.Run([]Inst{{Op: Add, Rd: 4, Rs1: 2, Rs2: 2}, {Op: Leave}})
		tm.Finish()
		st := tm.Stats()
		require.InDelta(t, 1000, st.Lost[causeFirmware], 5, "%s: firmware then a fetch miss", m.name)
		require.LessOrEqual(t, st.Lost[causeICache], st.FetchCycles, m.name)

		pred, err := NewStatic(StaticConfig{Rule: AlwaysTaken})
		require.NoError(t, err)
		c, tm = timedCore(t, m.name, m.cfg(), pred)
		c.X[1], c.X[5] = 0x10000, 1
		c.Run([]Inst{{Op: Beq, Rs1: 0, Rs2: 5, Imm: 2}, {Op: Ld, Rd: 3, Rs1: 1}, {Op: Leave}}) // mispredicted
		tm.Finish()
		// Out of order the refill starts when the branch resolves, while
		// the front end had run on a cycle or two: it loses the rest.
		require.GreaterOrEqual(t, tm.Stats().Lost[causeBranch], m.cfg().Depth-2, "%s: a mispredict, then a load", m.name)

		// Finish between stretches of work: the same stack as at the end.
		run := func(finishEarly bool) map[string]float64 {
			c, tm := timedCore(t, m.name, m.cfg(), nil)
			code := append(repeat(50, Inst{Op: Add, Rd: 1, Rs1: 1, Rs2: 2}), Inst{Op: Leave})
			for range 3 {
				c.Run(code)
				tm.Firmware(1000)
				if finishEarly {
					tm.Finish()
				}
			}
			c.Run(code)
			tm.Finish()
			return tm.Stats().CPIStack()
		}
		require.Equal(t, run(false), run(true), m.name)
	}
}

// aliasMap maps two addresses onto one.
type aliasMap struct{ from, to uint64 }

func (m aliasMap) HostAddress(va uint64) (uint64, bool) {
	if va == m.from {
		return m.to, true
	}
	return va, true
}

// TestPortTimingMap: the caches see the mapped address, so an access whose
// address maps onto a line just fetched hits it.
func TestPortTimingMap(t *testing.T) {
	data, _ := hierarchy(t)
	data.Access(0x9000, false, 0)
	require.Equal(t, 3, data.Port.Served(), "cold: from DRAM")
	require.Equal(t, 3, func() int { data.Access(0x5000, false, 1000); return data.Port.Served() }())
	data.Map = aliasMap{from: 0x7000, to: 0x9000}
	data.Access(0x7000, false, 2000)
	require.Equal(t, 0, data.Port.Served(), "0x7000 is 0x9000's line")
}

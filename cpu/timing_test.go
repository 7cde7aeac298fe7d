package cpu

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func timedCore(t *testing.T, cfg InOrderConfig, pred Predictor) (*Core, *InOrder) {
	t.Helper()
	if pred == nil {
		var err error
		pred, err = NewBimodal(DefaultBimodalConfig())
		require.NoError(t, err)
	}
	tm, err := NewInOrder(cfg, pred)
	require.NoError(t, err)
	m := newPageMem()
	m.mapPage(0x10000, false)
	c := NewCore(m)
	c.SetTimer(tm)
	return c, tm
}

// repeat returns n copies of the instructions.
func repeat(n int, ins ...Inst) []Inst {
	var out []Inst
	for range n {
		out = append(out, ins...)
	}
	return out
}

func TestInOrderThroughput(t *testing.T) {
	const n = 4000
	dep := Inst{Op: Add, Rd: 1, Rs1: 1, Rs2: 2}
	indep := []Inst{{Op: Add, Rd: 3, Rs1: 3, Rs2: 2}, {Op: Add, Rd: 4, Rs1: 4, Rs2: 2},
		{Op: Add, Rd: 5, Rs1: 5, Rs2: 2}, {Op: Add, Rd: 6, Rs1: 6, Rs2: 2}}
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
		t.Run(tc.name, func(t *testing.T) {
			cfg := DefaultInOrderConfig()
			cfg.Width, cfg.MemPorts = tc.width, 1
			c, tm := timedCore(t, cfg, nil)
			c.Run(append(tc.code, Inst{Op: Leave}))
			cpi := float64(tm.Finish()) / float64(tm.Insts)
			require.InDelta(t, tc.cpi, cpi, 0.01*tc.cpi+0.002)
		})
	}
}

func TestInOrderLatencies(t *testing.T) {
	cfg := DefaultInOrderConfig()
	cfg.Width = 1
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
		t.Run(tc.name, func(t *testing.T) {
			c, tm := timedCore(t, cfg, nil)
			c.X[1] = 0x10000 // the pointer chase reads 0 and stays on the page
			c.X[2] = 3
			c.Run(append(repeat(500, tc.in), Inst{Op: Leave}))
			cpi := float64(tm.Finish()) / float64(tm.Insts)
			require.InDelta(t, tc.cpi, cpi, 0.02*tc.cpi+0.01)
		})
	}
}

func TestInOrderMemoryPorts(t *testing.T) {
	cfg := DefaultInOrderConfig()
	cfg.Width, cfg.MemPorts = 2, 1
	c, tm := timedCore(t, cfg, nil)
	c.X[1] = 0x10000
	// Independent loads: one port, so one a cycle even on a 2-wide core.
	c.Run(append(repeat(400, Inst{Op: Ld, Rd: 3, Rs1: 1}, Inst{Op: Ld, Rd: 4, Rs1: 1}), Inst{Op: Leave}))
	require.InDelta(t, 1.0, float64(tm.Finish())/float64(tm.Insts), 0.02)
	// No cycle goes empty — each issues one load — so the CPI stack shows
	// the lost slots as base time, not as structural stalls.
	require.Zero(t, tm.Structural)
	require.InDelta(t, 1.0, tm.CPIStack()["base"], 0.02)
}

func TestInOrderBranchPrediction(t *testing.T) {
	// A loop whose body branch alternates taken / not taken: gshare learns
	// it, bimodal mispredicts about half of the time; each misprediction
	// costs the penalty.
	body := []Inst{
		{Op: Li, Rd: 1, Imm: 2000},
		{Op: Andi, Rd: 2, Rs1: 1, Imm: 1}, // 1: loop
		{Op: Beq, Rs1: 2, Rs2: 0, Imm: 4},
		{Op: Addi, Rd: 3, Rs1: 3, Imm: 1},
		{Op: Addi, Rd: 1, Rs1: 1, Imm: -1}, // 4
		{Op: Bne, Rs1: 1, Rs2: 0, Imm: 1},
		{Op: Leave},
	}
	run := func(pred Predictor) *InOrder {
		c, tm := timedCore(t, DefaultInOrderConfig(), pred)
		c.Run(body)
		tm.Finish()
		return tm
	}
	bim, err := NewBimodal(DefaultBimodalConfig())
	require.NoError(t, err)
	gs, err := NewGshare(DefaultGshareConfig())
	require.NoError(t, err)
	b, g := run(bim), run(gs)
	require.Equal(t, uint64(4000), b.Branches)
	require.Greater(t, b.Mispredicts, uint64(800))
	require.Less(t, g.Mispredicts, uint64(50))
	require.Greater(t, b.Cycles, g.Cycles+800*DefaultInOrderConfig().MispredictPenalty)
	require.Equal(t, b.Mispredict, b.Mispredicts*DefaultInOrderConfig().MispredictPenalty)
}

func TestInOrderConfigErrors(t *testing.T) {
	bim, err := NewBimodal(DefaultBimodalConfig())
	require.NoError(t, err)
	for _, tc := range []struct {
		mod  func(*InOrderConfig)
		want string
	}{
		{func(c *InOrderConfig) { c.Width = 5 }, "width 5"},
		{func(c *InOrderConfig) { c.MemPorts = 3 }, "mem_ports 3"},
		{func(c *InOrderConfig) { c.Div = 0 }, "at least 1 cycle"},
		{func(c *InOrderConfig) { c.MispredictPenalty = 5000 }, "mispredict_penalty"},
	} {
		cfg := DefaultInOrderConfig()
		tc.mod(&cfg)
		_, err := NewInOrder(cfg, bim)
		require.ErrorContains(t, err, tc.want)
	}
	_, err = NewInOrder(DefaultInOrderConfig(), nil)
	require.ErrorContains(t, err, "no branch predictor")
}

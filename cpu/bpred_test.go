package cpu

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// branchEvent is one resolved conditional branch of a trace.
type branchEvent struct {
	pc    uint64
	taken bool
}

// anyPC makes score measure every branch of a trace.
const anyPC = math.MaxUint64

// score feeds trace through p (Predict, then Update) and returns the
// fraction of correct predictions among the events from warm on at pc
// (anyPC: all of them).
func score(p Predictor, trace []branchEvent, warm int, pc uint64) float64 {
	var right, all int
	for i, e := range trace {
		pred := p.Predict(e.pc)
		if i >= warm && (pc == anyPC || e.pc == pc) {
			all++
			if pred == e.taken {
				right++
			}
		}
		p.Update(e.pc, e.taken)
	}
	return float64(right) / float64(all)
}

// patternTrace repeats pattern ('T' taken, 'N' not) at pc for n branches.
func patternTrace(pc uint64, pattern string, n int) []branchEvent {
	tr := make([]branchEvent, n)
	for i := range tr {
		tr[i] = branchEvent{pc, pattern[i%len(pattern)] == 'T'}
	}
	return tr
}

const (
	corrA = 0x1000 // random outcome
	corrB = 0x3000 // copies corrA's outcome, corrDistance branches later
	// corrDistance is how many branches after corrA corrB comes; the ones
	// between are always taken, so only corrA's outcome varies.
	corrDistance = 20
)

// correlatedTrace is n iterations of: corrA (random), corrDistance-1
// always-taken branches at distinct pcs, corrB (= corrA).
func correlatedTrace(seed uint64, n int) []branchEvent {
	rng := rand.New(rand.NewPCG(seed, 1))
	tr := make([]branchEvent, 0, n*(corrDistance+1))
	for range n {
		a := rng.IntN(2) == 1
		tr = append(tr, branchEvent{corrA, a})
		for k := range corrDistance - 1 {
			tr = append(tr, branchEvent{0x2000 + 8*uint64(k), true})
		}
		tr = append(tr, branchEvent{corrB, a})
	}
	return tr
}

// randomTrace mixes npc branch sites, each with its own bias, chosen at
// random.
func randomTrace(seed uint64, npc, n int) []branchEvent {
	rng := rand.New(rand.NewPCG(seed, 2))
	bias := make([]float64, npc)
	for i := range bias {
		bias[i] = rng.Float64()
	}
	tr := make([]branchEvent, n)
	for i := range tr {
		k := rng.IntN(npc)
		tr[i] = branchEvent{0x40000 + 8*uint64(k), rng.Float64() < bias[k]}
	}
	return tr
}

func mustBimodal(t testing.TB, cfg BimodalConfig) *Bimodal {
	t.Helper()
	p, err := NewBimodal(cfg)
	require.NoError(t, err)
	return p
}

func mustGshare(t testing.TB, cfg GshareConfig) *Gshare {
	t.Helper()
	p, err := NewGshare(cfg)
	require.NoError(t, err)
	return p
}

func mustTAGE(t testing.TB, cfg TAGEConfig) *TAGE {
	t.Helper()
	p, err := NewTAGE(cfg)
	require.NoError(t, err)
	return p
}

func mustStatic(t testing.TB, r StaticRule) *Static {
	t.Helper()
	p, err := NewStatic(StaticConfig{Rule: r})
	require.NoError(t, err)
	return p
}

// shortGshare has a 4-branch history: too short for period-24 patterns.
var shortGshare = GshareConfig{Entries: 16 << 10, HistoryBits: 4}

// predictorMakers builds a fresh instance of each predictor the pattern
// tests compare, by the name they report under.
func predictorMakers(t testing.TB) map[string]func() Predictor {
	return map[string]func() Predictor{
		"always-taken": func() Predictor { return mustStatic(t, AlwaysTaken) },
		"bimodal":      func() Predictor { return mustBimodal(t, DefaultBimodalConfig()) },
		"gshare":       func() Predictor { return mustGshare(t, DefaultGshareConfig()) },
		"gshare-h4":    func() Predictor { return mustGshare(t, shortGshare) },
		"tage":         func() Predictor { return mustTAGE(t, DefaultTAGEConfig()) },
	}
}

func TestCounter2Saturates(t *testing.T) {
	for _, tc := range []struct {
		from  uint8
		taken bool
		want  uint8
	}{
		{0, false, 0}, {0, true, 1}, {1, true, 2}, {2, true, 3}, {3, true, 3},
		{3, false, 2}, {2, false, 1}, {1, false, 0},
	} {
		require.Equal(t, tc.want, counter2(tc.from, tc.taken), "from %d taken %v", tc.from, tc.taken)
	}
}

// TestBimodalHysteresis checks that a long run saturates the counter, so
// one contrary outcome does not flip the prediction and two do.
func TestBimodalHysteresis(t *testing.T) {
	for _, taken := range []bool{true, false} {
		b := mustBimodal(t, DefaultBimodalConfig())
		const pc = 0x1230
		for range 100 {
			b.Update(pc, taken)
		}
		want := uint8(0)
		if taken {
			want = 3
		}
		require.Equal(t, want, b.ctr[pcIndex(pc)&b.mask])
		b.Update(pc, !taken)
		require.Equal(t, taken, b.Predict(pc), "one contrary outcome after a run of %v", taken)
		b.Update(pc, !taken)
		require.Equal(t, !taken, b.Predict(pc), "two contrary outcomes after a run of %v", taken)
	}
}

func TestBimodalLearnsBias(t *testing.T) {
	for _, tc := range []struct {
		bias    float64 // probability of taken
		want    bool    // the learnt direction
		minAcc  float64 // accuracy after warm-up
		pc      uint64
		entries int
	}{
		{0.95, true, 0.92, 0x1000, 4096},
		{0.90, true, 0.86, 0x1008, 4096},
		{0.05, false, 0.92, 0x2000, 4096},
		{0.10, false, 0.86, 0x2008, 16},
	} {
		rng := rand.New(rand.NewPCG(7, uint64(tc.pc)))
		tr := make([]branchEvent, 20000)
		for i := range tr {
			tr[i] = branchEvent{tc.pc, rng.Float64() < tc.bias}
		}
		b := mustBimodal(t, BimodalConfig{Entries: tc.entries})
		acc := score(b, tr, 1000, anyPC)
		require.GreaterOrEqual(t, acc, tc.minAcc, "bias %.2f", tc.bias)
		require.Equal(t, tc.want, b.Predict(tc.pc), "bias %.2f", tc.bias)
	}
}

// period24 is a pattern whose shortest period is 24 (checked below) and in
// which several 4-branch windows are followed by both outcomes.
const period24 = "TTNTNNNTTTNTTNNTNTTTNNTN"

// TestPatternAccuracy runs each predictor over each pattern and checks the
// accuracy after warm-up against bounds; it logs the whole table.
func TestPatternAccuracy(t *testing.T) {
	for p := 1; p < len(period24); p++ {
		if len(period24)%p == 0 {
			require.NotEqual(t, period24, strings.Repeat(period24[:p], len(period24)/p), "period24 repeats every %d", p)
		}
	}
	type bounds struct{ lo, hi float64 }
	for _, tc := range []struct {
		name  string
		trace []branchEvent
		warm  int
		pc    uint64 // measured branch
		want  map[string]bounds
	}{
		{"loop-8", patternTrace(0x1000, "TTTTTTTN", 8000), 2000, anyPC, map[string]bounds{
			"always-taken": {0.874, 0.876}, "bimodal": {0.87, 0.88}, "gshare": {0.95, 1}, "tage": {0.95, 1},
		}},
		{"alternating", patternTrace(0x1000, "TN", 8000), 2000, anyPC, map[string]bounds{
			"bimodal": {0, 0.6}, "gshare": {0.99, 1}, "gshare-h4": {0.99, 1}, "tage": {0.99, 1},
		}},
		{"period-24", patternTrace(0x1000, period24, 24*600), 24 * 300, anyPC, map[string]bounds{
			"gshare": {0.99, 1}, "gshare-h4": {0, 0.85}, "tage": {0.99, 1},
		}},
		{"correlated-20", correlatedTrace(3, 2000), 1000 * (corrDistance + 1), corrB, map[string]bounds{
			"bimodal": {0, 0.6}, "gshare": {0, 0.6}, "gshare-h4": {0, 0.6}, "tage": {0.98, 1},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			acc := map[string]float64{}
			for name, mk := range predictorMakers(t) {
				acc[name] = score(mk(), tc.trace, tc.warm, tc.pc)
			}
			t.Logf("%-14s always-taken %.4f  bimodal %.4f  gshare %.4f  gshare-h4 %.4f  tage %.4f", tc.name,
				acc["always-taken"], acc["bimodal"], acc["gshare"], acc["gshare-h4"], acc["tage"])
			for name, b := range tc.want {
				require.GreaterOrEqual(t, acc[name], b.lo, name)
				require.LessOrEqual(t, acc[name], b.hi, name)
			}
		})
	}
}

// TestTAGEBeatsShortHistory asserts the ordering, with margins, on the two
// patterns that need a long history.
func TestTAGEBeatsShortHistory(t *testing.T) {
	for _, tc := range []struct {
		name   string
		trace  []branchEvent
		warm   int
		pc     uint64
		rival  GshareConfig
		margin float64
	}{
		{"period-24 vs gshare-h4", patternTrace(0x1000, period24, 24*600), 24 * 300, anyPC, shortGshare, 0.15},
		{"correlated-20 vs gshare-h14", correlatedTrace(5, 2000), 1000 * (corrDistance + 1), corrB, DefaultGshareConfig(), 0.35},
	} {
		tage := score(mustTAGE(t, DefaultTAGEConfig()), tc.trace, tc.warm, tc.pc)
		gs := score(mustGshare(t, tc.rival), tc.trace, tc.warm, tc.pc)
		require.GreaterOrEqual(t, tage-gs, tc.margin, "%s: tage %.4f gshare %.4f", tc.name, tage, gs)
	}
}

func TestStatic(t *testing.T) {
	for _, tc := range []struct {
		rule       StaticRule
		pc, target uint64
		want       bool // PredictTarget
		wantNoTgt  bool // Predict
	}{
		{AlwaysTaken, 0x100, 0x200, true, true},
		{AlwaysTaken, 0x200, 0x100, true, true},
		{NeverTaken, 0x200, 0x100, false, false},
		{BackwardTaken, 0x200, 0x100, true, false},
		{BackwardTaken, 0x200, 0x200, true, false},
		{BackwardTaken, 0x100, 0x200, false, false},
	} {
		s := mustStatic(t, tc.rule)
		require.Equal(t, tc.rule.String(), s.Name())
		require.Equal(t, tc.want, s.PredictTarget(tc.pc, tc.target), "%v %#x→%#x", tc.rule, tc.pc, tc.target)
		s.Update(tc.pc, !tc.want)
		require.Equal(t, tc.wantNoTgt, s.Predict(tc.pc), "%v %#x", tc.rule, tc.pc)
		s.Update(tc.pc, tc.wantNoTgt)
		require.Equal(t, PredictorStats{Lookups: 2, Updates: 2, Mispredicts: 1}, s.Stats(), "%v", tc.rule)
	}
}

func TestStaticRuleText(t *testing.T) {
	for _, r := range []StaticRule{AlwaysTaken, NeverTaken, BackwardTaken} {
		b, err := r.MarshalText()
		require.NoError(t, err)
		var got StaticRule
		require.NoError(t, got.UnmarshalText(b))
		require.Equal(t, r, got)
	}
	var r StaticRule
	require.ErrorContains(t, r.UnmarshalText([]byte("sometimes")), `unknown static rule "sometimes"`)
	_, err := StaticRule(9).MarshalText()
	require.Error(t, err)
	require.Equal(t, "StaticRule(9)", StaticRule(9).String())
}

// TestPredictorStats checks each predictor's counts against counts kept
// outside, and that Update alone counts the mispredictions Predict would
// have had.
func TestPredictorStats(t *testing.T) {
	tr := append(randomTrace(11, 40, 5000), correlatedTrace(12, 200)...)
	for name, mk := range predictorMakers(t) {
		p, q, r := mk(), mk(), mk()
		var miss uint64
		for _, e := range tr {
			if p.Predict(e.pc) != e.taken {
				miss++
			}
			p.Update(e.pc, e.taken)
			q.Update(e.pc, e.taken)
			r.Predict(e.pc + 8) // another branch's prediction must not leak into this update
			r.Update(e.pc, e.taken)
		}
		n := uint64(len(tr))
		require.Equal(t, PredictorStats{Lookups: n, Updates: n, Mispredicts: miss}, p.Stats(), name)
		require.Equal(t, PredictorStats{Updates: n, Mispredicts: miss}, q.Stats(), name)
		require.Equal(t, PredictorStats{Lookups: n, Updates: n, Mispredicts: miss}, r.Stats(), name)
		require.InDelta(t, 1-float64(miss)/float64(n), p.Stats().Accuracy(), 1e-12, name)
		require.Less(t, miss, n/2, name) // every predictor beats a coin on this trace
	}
	require.Equal(t, 1.0, PredictorStats{}.Accuracy())
	require.Equal(t, 0.25, PredictorStats{Updates: 4, Mispredicts: 1}.MispredictRate())
}

func TestDeterminism(t *testing.T) {
	tr := append(randomTrace(21, 300, 30000), correlatedTrace(22, 500)...)
	for name, mk := range predictorMakers(t) {
		run := func() []bool {
			p := mk()
			out := make([]bool, len(tr))
			for i, e := range tr {
				out[i] = p.Predict(e.pc)
				p.Update(e.pc, e.taken)
			}
			return out
		}
		require.Equal(t, run(), run(), name)
	}
}

func TestTAGEHistoryLengths(t *testing.T) {
	for _, tc := range []struct {
		tables, lo, hi int
		want           []int
	}{
		{4, 4, 128, []int{4, 13, 40, 128}},
		{1, 5, 50, []int{50}},
		{2, 3, 30, []int{3, 30}},
		{4, 1, 4, []int{1, 2, 3, 4}},
		{5, 2, 7, []int{2, 3, 4, 5, 7}},
		{8, 5, 640, []int{5, 10, 20, 40, 80, 160, 320, 640}},
	} {
		cfg := DefaultTAGEConfig()
		cfg.Tables, cfg.MinHistory, cfg.MaxHistory = tc.tables, tc.lo, tc.hi
		require.NoError(t, cfg.Validate())
		require.Equal(t, tc.want, cfg.HistoryLengths())
	}
}

// TestFoldedHistory checks the incremental folds against folding the
// history buffer directly: bit k of the history (0 = newest) at k mod clen.
func TestFoldedHistory(t *testing.T) {
	cfg := DefaultTAGEConfig()
	cfg.Tables, cfg.MinHistory, cfg.MaxHistory, cfg.TableEntries, cfg.TagBits = 6, 3, 200, 1<<11, 9
	tg := mustTAGE(t, cfg)
	rng := rand.New(rand.NewPCG(1, 1))
	for range 1000 {
		tg.push(rng.Uint64(), rng.IntN(2) == 1)
		for i := range cfg.Tables {
			b := tg.banks[i]
			for _, f := range []foldedHistory{b.idx, b.tag[0], b.tag[1]} {
				var want uint32
				for k := range f.olen {
					want ^= uint32(tg.hist[(tg.ptr+k)&tg.histMask]) << (uint(k) % uint(f.clen))
				}
				require.Equal(t, want, f.comp, "table %d olen %d clen %d", i, f.olen, f.clen)
			}
		}
	}
}

// TestTAGEUsefulReset checks that the usefulness bits are cleared high
// then low, once per period.
func TestTAGEUsefulReset(t *testing.T) {
	cfg := DefaultTAGEConfig()
	cfg.UsefulResetPeriod = 256
	tg := mustTAGE(t, cfg)
	for i := range tg.tables {
		tg.tables[i].u = 3
	}
	for range 255 {
		tg.Update(0x40, true)
	}
	require.Equal(t, uint8(3), tg.tables[0].u)
	tg.Update(0x40, true)
	require.Equal(t, uint8(1), tg.tables[0].u)
	for range 256 {
		tg.Update(0x40, true)
	}
	require.Equal(t, uint8(0), tg.tables[0].u)
}

// TestTAGEProvider checks the provider's use and training: a newly
// allocated weak provider defers to the alternate prediction while
// USE_ALT_ON_NA is non-negative, that counter learns which of the two was
// right, usefulness follows the provider when it disagrees with the
// alternate, and the provider's counter moves towards the outcome.
func TestTAGEProvider(t *testing.T) {
	const pc = 0x4480
	for _, tc := range []struct {
		ctr        int8
		u          uint8
		useAlt     int8
		want       bool // prediction; the base (alternate) says not taken
		taken      bool // outcome given to Update
		wantUseAlt int8
		wantU      uint8
		wantCtr    int8
	}{
		{0, 0, 0, false, true, -1, 1, 1},   // weak new: alternate used, and it was wrong
		{0, 0, -1, true, true, -2, 1, 1},   // USE_ALT_ON_NA negative: the provider
		{0, 0, 3, false, false, 4, 0, -1},  // alternate right
		{-1, 0, 0, false, true, 0, 0, 0},   // both say not taken: no training
		{1, 0, 0, true, false, 0, 0, 0},    // not weak: the provider, no training
		{0, 1, 0, true, true, 0, 2, 1},     // useful: the provider, no training
		{2, 1, 0, true, false, 0, 0, 1},    // provider wrong: less useful
		{3, 3, 0, true, true, 0, 3, 3},     // usefulness and counter saturate
		{0, 0, 7, false, false, 7, 0, -1},  // USE_ALT_ON_NA saturates
		{0, 0, -8, true, true, -8, 1, 1},   // USE_ALT_ON_NA saturates
		{-4, 0, 0, false, false, 0, 0, -4}, // counter saturates
	} {
		tg := mustTAGE(t, DefaultTAGEConfig())
		tg.lookup(pc)
		top := tg.cfg.Tables - 1
		e := &tg.tables[tg.look.idx[top]]
		*e = tageEntry{tag: tg.look.tag[top], ctr: tc.ctr, u: tc.u}
		tg.base[tg.look.baseIdx] = 0
		tg.useAlt = tc.useAlt
		require.Equal(t, tc.want, tg.Predict(pc), "%+v", tc)
		require.Equal(t, top, tg.look.provider)
		tg.Update(pc, tc.taken)
		require.Equal(t, tc.wantUseAlt, tg.useAlt, "%+v", tc)
		require.Equal(t, tc.wantU, e.u, "%+v", tc)
		require.Equal(t, tc.wantCtr, e.ctr, "%+v", tc)
	}
}

// TestTAGEAllocation checks that empty entries never match and that a
// misprediction allocates one weak entry, in the direction of the outcome,
// in a component longer than the provider.
func TestTAGEAllocation(t *testing.T) {
	tg := mustTAGE(t, DefaultTAGEConfig())
	for pc := uint64(0); pc < 80000; pc += 8 {
		tg.lookup(pc)
		require.Equal(t, -1, tg.look.provider, "pc %#x matched an empty entry", pc)
	}
	for _, taken := range []bool{false, true} {
		tg := mustTAGE(t, DefaultTAGEConfig())
		const pc = 0x7700
		tg.lookup(pc)
		tg.base[tg.look.baseIdx] = 1 // weakly not taken
		if !taken {
			tg.base[tg.look.baseIdx] = 2
		}
		require.Equal(t, !taken, tg.Predict(pc))
		look := tg.look
		tg.Update(pc, taken)
		var got []tageEntry
		for j := range tg.cfg.Tables {
			if e := tg.tables[look.idx[j]]; e.tag == look.tag[j] {
				got = append(got, e)
			}
		}
		want := tageEntry{ctr: -1}
		if taken {
			want.ctr = 0
		}
		require.Len(t, got, 1, "taken %v", taken)
		want.tag = got[0].tag
		require.Equal(t, want, got[0], "taken %v", taken)
	}
}

func TestConfigErrors(t *testing.T) {
	tage := func(f func(*TAGEConfig)) error {
		c := DefaultTAGEConfig()
		f(&c)
		_, err := NewTAGE(c)
		return err
	}
	for _, tc := range []struct {
		name string
		err  error
		want string // "" means no error
	}{
		{"bimodal default", func() error { _, err := NewBimodal(DefaultBimodalConfig()); return err }(), ""},
		{"bimodal zero", func() error { _, err := NewBimodal(BimodalConfig{}); return err }(), "bimodal predictor: entries 0 is not a power of two in [16, 16777216]"},
		{"bimodal 1000", func() error { _, err := NewBimodal(BimodalConfig{Entries: 1000}); return err }(), "entries 1000 is not a power of two"},
		{"bimodal 8", func() error { _, err := NewBimodal(BimodalConfig{Entries: 8}); return err }(), "entries 8 is not a power of two in [16,"},
		{"bimodal huge", func() error { _, err := NewBimodal(BimodalConfig{Entries: 1 << 25}); return err }(), "entries 33554432"},
		{"gshare default", func() error { _, err := NewGshare(DefaultGshareConfig()); return err }(), ""},
		{"gshare entries", func() error { _, err := NewGshare(GshareConfig{Entries: 3, HistoryBits: 1}); return err }(), "gshare predictor: entries 3"},
		{"gshare history 0", func() error { _, err := NewGshare(GshareConfig{Entries: 1024, HistoryBits: 0}); return err }(), "history_bits 0 is not in [1, 10]"},
		{"gshare history long", func() error { _, err := NewGshare(GshareConfig{Entries: 1024, HistoryBits: 11}); return err }(), "history_bits 11 is not in [1, 10]"},
		{"tage default", tage(func(*TAGEConfig) {}), ""},
		{"tage base", tage(func(c *TAGEConfig) { c.BaseEntries = 100 }), "tage predictor: base_entries 100"},
		{"tage tables 0", tage(func(c *TAGEConfig) { c.Tables = 0 }), "tables 0 is not in [1, 12]"},
		{"tage tables 13", tage(func(c *TAGEConfig) { c.Tables = 13 }), "tables 13 is not in [1, 12]"},
		{"tage table entries", tage(func(c *TAGEConfig) { c.TableEntries = 1 << 21 }), "table_entries 2097152 is not a power of two in [16, 1048576]"},
		{"tage tag bits", tage(func(c *TAGEConfig) { c.TagBits = 16 }), "tag_bits 16 is not in [4, 15]"},
		{"tage min history", tage(func(c *TAGEConfig) { c.MinHistory = 0 }), "min_history 0 is not in [1, 1024]"},
		{"tage max history short", tage(func(c *TAGEConfig) { c.MinHistory, c.MaxHistory = 10, 12 }), "max_history 12 is not in [13, 1024]"},
		{"tage max history long", tage(func(c *TAGEConfig) { c.MaxHistory = 1025 }), "max_history 1025 is not in [7, 1024]"},
		{"tage reset period", tage(func(c *TAGEConfig) { c.UsefulResetPeriod = 1000 }), "useful_reset_period 1000 is not a power of two"},
		{"static bad rule", func() error { _, err := NewStatic(StaticConfig{Rule: 3}); return err }(), "static predictor: rule 3 is not a known static rule"},
		{"btb default", func() error { _, err := NewBTB(DefaultBTBConfig()); return err }(), ""},
		{"btb 3 ways", func() error { _, err := NewBTB(BTBConfig{Entries: 48, Ways: 3}); return err }(), ""},
		{"btb ways 0", func() error { _, err := NewBTB(BTBConfig{Entries: 64, Ways: 0}); return err }(), "btb: ways 0 is not in [1, 64]"},
		{"btb ways 65", func() error { _, err := NewBTB(BTBConfig{Entries: 1 << 10, Ways: 65}); return err }(), "ways 65 is not in [1, 64]"},
		{"btb sets", func() error { _, err := NewBTB(BTBConfig{Entries: 96, Ways: 4}); return err }(), "entries 96 is not ways (4) × a power of two"},
		{"btb fewer than ways", func() error { _, err := NewBTB(BTBConfig{Entries: 2, Ways: 4}); return err }(), "entries 2 is not ways (4)"},
		{"btb huge", func() error { _, err := NewBTB(BTBConfig{Entries: 1 << 21, Ways: 1}); return err }(), "at most 1048576"},
		{"ras default", func() error { _, err := NewRAS(DefaultRASConfig()); return err }(), ""},
		{"ras 0", func() error { _, err := NewRAS(RASConfig{}); return err }(), "ras: depth 0 is not in [1, 1024]"},
		{"ras deep", func() error { _, err := NewRAS(RASConfig{Depth: 1025}); return err }(), "depth 1025 is not in [1, 1024]"},
	} {
		if tc.want == "" {
			require.NoError(t, tc.err, tc.name)
		} else {
			require.ErrorContains(t, tc.err, tc.want, tc.name)
		}
	}
}

// btbSetMates returns n pcs that share the BTB set of 0x1000.
func btbSetMates(b *BTB, n int) []uint64 {
	var pcs []uint64
	for pc := uint64(0x1000); len(pcs) < n; pc += 8 {
		if pcIndex(pc)&b.setMask == pcIndex(0x1000)&b.setMask {
			pcs = append(pcs, pc)
		}
	}
	return pcs
}

func TestBTB(t *testing.T) {
	type step struct {
		update bool // Update(pc, target), else Lookup(pc) wanting target, ok
		pc     int  // index into the set mates
		target uint64
		ok     bool
	}
	for _, tc := range []struct {
		name  string
		cfg   BTBConfig
		steps []step
		want  BTBStats
	}{
		{"hit and miss", BTBConfig{Entries: 16, Ways: 2}, []step{
			{false, 0, 0, false},
			{true, 0, 0xa0, false},
			{false, 0, 0xa0, true},
			{false, 1, 0, false},
			{true, 0, 0xa0, false}, // same target: no misprediction
			{true, 0, 0xa8, false}, // new target
			{false, 0, 0xa8, true},
		}, BTBStats{Lookups: 4, Hits: 2, Updates: 3, Mispredicts: 2}},
		{"lru replacement", BTBConfig{Entries: 16, Ways: 2}, []step{
			{true, 0, 0xa0, false},
			{true, 1, 0xb0, false},
			{false, 0, 0xa0, true}, // 0 becomes most recently used
			{true, 2, 0xc0, false}, // evicts 1
			{false, 1, 0, false},
			{false, 0, 0xa0, true},
			{false, 2, 0xc0, true},
			{true, 1, 0xb0, false}, // evicts 0 (2 was used after it)
			{false, 0, 0, false},
			{false, 2, 0xc0, true},
		}, BTBStats{Lookups: 6, Hits: 4, Updates: 4, Mispredicts: 4, Evictions: 2}},
		{"update refreshes lru", BTBConfig{Entries: 16, Ways: 2}, []step{
			{true, 0, 0xa0, false},
			{true, 1, 0xb0, false},
			{true, 0, 0xa0, false}, // 0 becomes most recently used
			{true, 2, 0xc0, false}, // evicts 1
			{false, 0, 0xa0, true},
			{false, 1, 0, false},
		}, BTBStats{Lookups: 2, Hits: 1, Updates: 4, Mispredicts: 3, Evictions: 1}},
		{"direct mapped", BTBConfig{Entries: 16, Ways: 1}, []step{
			{true, 0, 0xa0, false},
			{true, 1, 0xb0, false},
			{false, 0, 0, false},
			{false, 1, 0xb0, true},
		}, BTBStats{Lookups: 2, Hits: 1, Updates: 2, Mispredicts: 2, Evictions: 1}},
		{"three ways", BTBConfig{Entries: 48, Ways: 3}, []step{
			{true, 0, 0xa0, false},
			{true, 1, 0xb0, false},
			{true, 2, 0xc0, false},
			{false, 0, 0xa0, true},
			{true, 3, 0xd0, false}, // evicts 1
			{false, 1, 0, false},
			{false, 2, 0xc0, true},
			{false, 3, 0xd0, true},
		}, BTBStats{Lookups: 4, Hits: 3, Updates: 4, Mispredicts: 4, Evictions: 1}},
	} {
		b, err := NewBTB(tc.cfg)
		require.NoError(t, err)
		pcs := btbSetMates(b, 4)
		for i, s := range tc.steps {
			if s.update {
				b.Update(pcs[s.pc], s.target)
				continue
			}
			got, ok := b.Lookup(pcs[s.pc])
			require.Equal(t, s.ok, ok, "%s step %d", tc.name, i)
			require.Equal(t, s.target, got, "%s step %d", tc.name, i)
		}
		require.Equal(t, tc.want, b.Stats(), tc.name)
	}
}

func TestBTBFlushAndCapacity(t *testing.T) {
	b, err := NewBTB(BTBConfig{Entries: 64, Ways: 4})
	require.NoError(t, err)
	// 64 consecutive branches fill the BTB exactly: pcIndex spreads them
	// evenly over the sets.
	for i := range uint64(64) {
		b.Update(0x8000+8*i, i)
	}
	for i := range uint64(64) {
		got, ok := b.Lookup(0x8000 + 8*i)
		require.True(t, ok, "branch %d", i)
		require.Equal(t, i, got)
	}
	require.Zero(t, b.Stats().Evictions)
	b.Flush()
	_, ok := b.Lookup(0x8000)
	require.False(t, ok)
}

func TestRAS(t *testing.T) {
	type step struct {
		push uint64 // Push(push) if nonzero, else Pop wanting pop, ok
		pop  uint64
		ok   bool
	}
	for _, tc := range []struct {
		name  string
		depth int
		steps []step
		want  RASStats
	}{
		{"lifo", 4, []step{{1, 0, false}, {2, 0, false}, {3, 0, false}, {0, 3, true}, {4, 0, false}, {0, 4, true}, {0, 2, true}, {0, 1, true}},
			RASStats{Pushes: 4, Pops: 4}},
		{"underflow", 2, []step{{0, 0, false}, {7, 0, false}, {0, 7, true}, {0, 0, false}, {8, 0, false}, {0, 8, true}},
			RASStats{Pushes: 2, Pops: 4, Underflows: 2}},
		{"overflow wraps", 4, []step{{1, 0, false}, {2, 0, false}, {3, 0, false}, {4, 0, false}, {5, 0, false}, {6, 0, false},
			{0, 6, true}, {0, 5, true}, {0, 4, true}, {0, 3, true}, {0, 0, false}},
			RASStats{Pushes: 6, Pops: 5, Overflows: 2, Underflows: 1}},
		{"depth 1", 1, []step{{1, 0, false}, {2, 0, false}, {0, 2, true}, {0, 0, false}},
			RASStats{Pushes: 2, Pops: 2, Overflows: 1, Underflows: 1}},
	} {
		r, err := NewRAS(RASConfig{Depth: tc.depth})
		require.NoError(t, err)
		for i, s := range tc.steps {
			if s.push != 0 {
				r.Push(s.push)
				continue
			}
			got, ok := r.Pop()
			require.Equal(t, s.ok, ok, "%s step %d", tc.name, i)
			require.Equal(t, s.pop, got, "%s step %d", tc.name, i)
		}
		require.Equal(t, tc.want, r.Stats(), tc.name)
		require.Zero(t, r.Len(), tc.name)
	}
}

// genPredictor draws a predictor of any kind with a valid random
// configuration kept small enough for quick checks.
func genPredictor(t *rapid.T) Predictor {
	var p Predictor
	var err error
	switch rapid.IntRange(0, 3).Draw(t, "kind") {
	case 0:
		p, err = NewStatic(StaticConfig{Rule: StaticRule(rapid.IntRange(0, 2).Draw(t, "rule"))})
	case 1:
		p, err = NewBimodal(BimodalConfig{Entries: 1 << rapid.IntRange(4, 12).Draw(t, "log_entries")})
	case 2:
		log := rapid.IntRange(4, 14).Draw(t, "log_entries")
		p, err = NewGshare(GshareConfig{Entries: 1 << log, HistoryBits: rapid.IntRange(1, log).Draw(t, "history_bits")})
	default:
		tables := rapid.IntRange(1, MaxTAGETables).Draw(t, "tables")
		lo := rapid.IntRange(1, 20).Draw(t, "min_history")
		cfg := TAGEConfig{
			BaseEntries:       1 << rapid.IntRange(4, 12).Draw(t, "log_base_entries"),
			Tables:            tables,
			TableEntries:      1 << rapid.IntRange(4, 10).Draw(t, "log_table_entries"),
			TagBits:           rapid.IntRange(4, 15).Draw(t, "tag_bits"),
			MinHistory:        lo,
			MaxHistory:        rapid.IntRange(lo+tables-1, 300).Draw(t, "max_history"),
			UsefulResetPeriod: 1 << rapid.IntRange(8, 12).Draw(t, "log_useful_reset_period"),
		}
		l := cfg.HistoryLengths()
		if tables > 1 {
			require.Equal(t, cfg.MinHistory, l[0])
		}
		require.Equal(t, cfg.MaxHistory, l[len(l)-1])
		for i := 1; i < len(l); i++ {
			require.Greater(t, l[i], l[i-1], "lengths %v", l)
		}
		p, err = NewTAGE(cfg)
	}
	require.NoError(t, err)
	return p
}

// TestPredictorProperties: on random streams no predictor panics or
// allocates, TAGE's counters stay in range, and a dynamic predictor (or
// always-taken) converges to 100 % on an always-taken branch.
func TestPredictorProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := genPredictor(t)
		pcs := rapid.SliceOfN(rapid.Uint64(), 1, 16).Draw(t, "pcs")
		seed := rapid.Uint64().Draw(t, "seed")
		rng := rand.New(rand.NewPCG(seed, 3))
		tr := make([]branchEvent, rapid.IntRange(200, 3000).Draw(t, "n"))
		targets := make([]uint64, len(tr))
		for i := range tr {
			tr[i] = branchEvent{pcs[rng.IntN(len(pcs))], rng.IntN(2) == 1}
			targets[i] = rng.Uint64()
		}
		tp, withTarget := p.(TargetPredictor)
		allocs := testing.AllocsPerRun(1, func() {
			for i, e := range tr {
				if withTarget && i%2 == 0 {
					tp.PredictTarget(e.pc, targets[i])
				} else {
					p.Predict(e.pc)
				}
				p.Update(e.pc, e.taken)
			}
		})
		require.Zero(t, allocs)
		if tg, ok := p.(*TAGE); ok {
			for _, e := range tg.tables {
				require.True(t, e.ctr >= -4 && e.ctr <= 3 && e.u <= 3, "entry %+v", e)
			}
		}
		if s, ok := p.(*Static); ok && s.rule != AlwaysTaken {
			return
		}
		pc := pcs[0]
		const n = 700 // > the longest history drawn, then time to train
		for i := range n {
			if pred := p.Predict(pc); i >= n-100 {
				require.True(t, pred, "%s at %#x, branch %d", p.Name(), pc, i)
			}
			p.Update(pc, true)
		}
	})
}

// TestBTBModel compares a BTB with a list-per-set LRU model.
func TestBTBModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ways := rapid.IntRange(1, 8).Draw(t, "ways")
		sets := 1 << rapid.IntRange(0, 3).Draw(t, "log_sets")
		b, err := NewBTB(BTBConfig{Entries: ways * sets, Ways: ways})
		require.NoError(t, err)
		type ent struct{ pc, target uint64 }
		model := make([][]ent, sets) // most recently used last
		find := func(pc uint64) (int, int) {
			s := int(pcIndex(pc) & uint64(sets-1))
			for i, e := range model[s] {
				if e.pc == pc {
					return s, i
				}
			}
			return s, -1
		}
		pcs := rapid.SliceOfN(rapid.Uint64(), 1, 3*ways*sets).Draw(t, "pcs")
		ops := rapid.IntRange(1, 300).Draw(t, "ops")
		for range ops {
			pc := rapid.SampledFrom(pcs).Draw(t, "pc")
			s, i := find(pc)
			if rapid.Bool().Draw(t, "update") {
				tgt := rapid.Uint64().Draw(t, "target")
				b.Update(pc, tgt)
				if i >= 0 {
					model[s] = append(append(model[s][:i:i], model[s][i+1:]...), ent{pc, tgt})
				} else if len(model[s]) < ways {
					model[s] = append(model[s], ent{pc, tgt})
				} else {
					model[s] = append(model[s][1:], ent{pc, tgt})
				}
				continue
			}
			got, ok := b.Lookup(pc)
			require.Equal(t, i >= 0, ok, "lookup %#x", pc)
			if ok {
				require.Equal(t, model[s][i].target, got)
				e := model[s][i]
				model[s] = append(append(model[s][:i:i], model[s][i+1:]...), e)
			}
		}
	})
}

// TestRASModel compares a RAS with a slice that drops its oldest address
// beyond the depth.
func TestRASModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		depth := rapid.IntRange(1, 12).Draw(t, "depth")
		r, err := NewRAS(RASConfig{Depth: depth})
		require.NoError(t, err)
		var model []uint64
		for range rapid.IntRange(1, 200).Draw(t, "ops") {
			if rapid.Bool().Draw(t, "push") {
				v := rapid.Uint64().Draw(t, "ret")
				r.Push(v)
				model = append(model, v)
				if len(model) > depth {
					model = model[1:]
				}
			} else {
				got, ok := r.Pop()
				require.Equal(t, len(model) > 0, ok)
				if ok {
					require.Equal(t, model[len(model)-1], got)
					model = model[:len(model)-1]
				}
			}
			require.Equal(t, len(model), r.Len())
		}
	})
}

// benchTrace is a synthetic program: 64 branch sites visited in order,
// each a loop back edge, a biased branch or a copy of an earlier outcome.
func benchTrace() []branchEvent {
	rng := rand.New(rand.NewPCG(42, 42))
	tr := make([]branchEvent, 0, 1<<16)
	var last [64]bool
	for iter := 0; len(tr) < cap(tr); iter++ {
		for k := range 64 {
			var taken bool
			switch k % 4 {
			case 0:
				taken = iter%(k/4+2) != 0
			case 1:
				taken = rng.Float64() < 0.9
			case 2:
				taken = last[(k+37)%64]
			default:
				taken = rng.IntN(2) == 1
			}
			last[k] = taken
			tr = append(tr, branchEvent{0x10000 + 24*uint64(k), taken})
		}
	}
	return tr
}

// benchPredictor reports ns per prediction (one Predict and its Update per
// op) and the misprediction rate on benchTrace.
func benchPredictor(b *testing.B, p Predictor) {
	tr := benchTrace()
	mask := len(tr) - 1
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e := tr[i&mask]
		p.Predict(e.pc)
		p.Update(e.pc, e.taken)
	}
	b.ReportMetric(100*p.Stats().MispredictRate(), "mispredict-%")
}

func BenchmarkBimodal(b *testing.B) { benchPredictor(b, mustBimodal(b, DefaultBimodalConfig())) }

func BenchmarkGshare(b *testing.B) { benchPredictor(b, mustGshare(b, DefaultGshareConfig())) }

func BenchmarkTAGE(b *testing.B) { benchPredictor(b, mustTAGE(b, DefaultTAGEConfig())) }

func BenchmarkBTB(b *testing.B) {
	btb, err := NewBTB(DefaultBTBConfig())
	require.NoError(b, err)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		pc := uint64(i&8191) * 8
		if _, ok := btb.Lookup(pc); !ok {
			btb.Update(pc, pc+64)
		}
	}
}

func BenchmarkRAS(b *testing.B) {
	r, err := NewRAS(DefaultRASConfig())
	require.NoError(b, err)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r.Push(uint64(i))
		r.Pop()
	}
}

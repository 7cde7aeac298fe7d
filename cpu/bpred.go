// Branch prediction front end for the timing mode.
//
// Modelled: conditional-branch direction predictors (Static, Bimodal,
// Gshare and a "lite" TAGE after Seznec & Michaud, JILP 2006), a
// set-associative LRU branch target buffer (BTB) and a fixed-depth
// return-address stack (RAS). Each component counts its own lookups and
// mispredictions in plain uint64 fields, and no prediction, update, push or
// pop allocates.
//
// Not modelled: predictor state is updated in program order at resolution,
// immediately after the prediction (no wrong-path history update, no
// speculative global history or its repair after a misprediction, no
// update delay between prediction and resolution); the RAS is not
// checkpointed or repaired either. Indirect branches are predicted by the
// BTB alone (no indirect predictor such as ITTAGE). Tables are plain arrays
// without banking or port conflicts, and predictions take no time here: the
// timing model charges the latencies.
//
// A pc may be a byte address (host instructions are 8-byte words, so its
// low three bits are zero) or a dense instruction index: tables index with
// pc ^ pc>>3, which spreads both forms over consecutive entries.

package cpu

import (
	"fmt"
	"math"
	"math/bits"
)

// Predictor predicts the direction of conditional branches. The timing
// model calls Predict when it fetches a branch and Update, with the same
// pc, when the branch resolves; Update also advances any global history.
type Predictor interface {
	// Predict reports whether the branch at pc is predicted taken. It
	// does not change the prediction state.
	Predict(pc uint64) bool
	// Update trains the predictor with the outcome of the branch at pc and
	// shifts the outcome into any global history. It counts a
	// misprediction when the outcome differs from what Predict(pc) returns
	// in the current state, so the counts are right whether or not the
	// caller predicted the branch first.
	Update(pc uint64, taken bool)
	// Name is a short lower-case name of the algorithm, such as "gshare".
	Name() string
	// Stats returns the counts so far.
	Stats() PredictorStats
}

// TargetPredictor is a Predictor whose prediction depends on the branch
// target as well as its address (the static backward-taken rule). A front
// end that knows the target of a direct branch at decode calls
// PredictTarget instead of Predict; it can find out whether a predictor
// needs targets once, by a type assertion when it is built.
type TargetPredictor interface {
	Predictor
	// PredictTarget reports whether the branch at pc to target is
	// predicted taken.
	PredictTarget(pc, target uint64) bool
}

// PredictorStats counts a direction predictor's work. Stats returns a
// snapshot; the difference of two snapshots counts an interval.
type PredictorStats struct {
	Lookups     uint64 // Predict (or PredictTarget) calls
	Updates     uint64 // Update calls: resolved conditional branches
	Mispredicts uint64 // updates whose outcome differed from the prediction
}

// MispredictRate is Mispredicts / Updates, or 0 before the first update.
func (s PredictorStats) MispredictRate() float64 {
	if s.Updates == 0 {
		return 0
	}
	return float64(s.Mispredicts) / float64(s.Updates)
}

// Accuracy is the fraction of updates whose outcome was predicted:
// 1 - MispredictRate (so 1 before the first update).
func (s PredictorStats) Accuracy() float64 { return 1 - s.MispredictRate() }

// Table size limits shared by the table-based predictors.
const (
	MinPredictorEntries = 16      // smallest counter table
	MaxPredictorEntries = 1 << 24 // largest counter table
)

var (
	_ TargetPredictor = (*Static)(nil)
	_ Predictor       = (*Bimodal)(nil)
	_ Predictor       = (*Gshare)(nil)
	_ Predictor       = (*TAGE)(nil)
)

// pcIndex mixes a pc into table-index bits (see the file comment). It is
// a bijection, so distinct pcs differ in some bit.
func pcIndex(pc uint64) uint64 { return pc ^ pc>>3 }

// checkPow2Key reports a key whose value is not a power of two in [lo, hi].
func checkPow2Key(key string, v, lo, hi int) error {
	if v <= 0 || bits.OnesCount(uint(v)) != 1 || v < lo || v > hi {
		return fmt.Errorf("%s %d is not a power of two in [%d, %d]", key, v, lo, hi)
	}
	return nil
}

// checkRangeKey reports a key whose value is not in [lo, hi].
func checkRangeKey(key string, v, lo, hi int) error {
	if v < lo || v > hi {
		return fmt.Errorf("%s %d is not in [%d, %d]", key, v, lo, hi)
	}
	return nil
}

// counter2 moves a 2-bit saturating counter (0..3, taken from 2) one step
// towards the outcome.
func counter2(c uint8, taken bool) uint8 {
	if taken {
		if c < 3 {
			c++
		}
	} else if c > 0 {
		c--
	}
	return c
}

// counter2Init is the reset value of 2-bit counters: weakly taken, because
// most conditional branches (loop back edges) are taken.
const counter2Init = 2

// ---------------------------------------------------------------- Static

// StaticRule is a fixed direction-prediction rule.
type StaticRule uint8

// Static rules.
const (
	AlwaysTaken   StaticRule = iota // every branch taken
	NeverTaken                      // every branch not taken
	BackwardTaken                   // backward taken, forward not taken (BTFN)
)

var staticNames = [...]string{AlwaysTaken: "always-taken", NeverTaken: "never-taken", BackwardTaken: "btfn"}

// String returns the rule's TOML name: "always-taken", "never-taken" or
// "btfn".
func (r StaticRule) String() string {
	if int(r) < len(staticNames) {
		return staticNames[r]
	}
	return fmt.Sprintf("StaticRule(%d)", uint8(r))
}

// MarshalText implements encoding.TextMarshaler with String.
func (r StaticRule) MarshalText() ([]byte, error) {
	if int(r) >= len(staticNames) {
		return nil, fmt.Errorf("unknown static rule %d", uint8(r))
	}
	return []byte(r.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler for the names String
// returns.
func (r *StaticRule) UnmarshalText(b []byte) error {
	for i, n := range staticNames {
		if string(b) == n {
			*r = StaticRule(i)
			return nil
		}
	}
	return fmt.Errorf("unknown static rule %q; want always-taken, never-taken or btfn", b)
}

// StaticConfig configures a Static predictor.
type StaticConfig struct {
	Rule StaticRule `toml:"rule"`
}

// Validate reports an unknown rule.
func (c StaticConfig) Validate() error {
	if int(c.Rule) >= len(staticNames) {
		return fmt.Errorf("rule %d is not a known static rule", uint8(c.Rule))
	}
	return nil
}

// Static predicts by a fixed rule, as a baseline. BackwardTaken needs the
// target: use PredictTarget; Predict, which has no target, treats the
// branch as forward and predicts not taken.
type Static struct {
	rule StaticRule
	// the last prediction, which Update compares the outcome with
	lastPC   uint64
	lastPred bool
	lastOK   bool
	stats    PredictorStats
}

// NewStatic returns a static predictor with the given rule.
func NewStatic(cfg StaticConfig) (*Static, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("static predictor: %w", err)
	}
	return &Static{rule: cfg.Rule}, nil
}

func (s *Static) remember(pc uint64, p bool) bool {
	s.stats.Lookups++
	s.lastPC, s.lastPred, s.lastOK = pc, p, true
	return p
}

// Predict returns the rule's prediction for a branch whose target is
// unknown (BackwardTaken: not taken).
func (s *Static) Predict(pc uint64) bool { return s.remember(pc, s.rule == AlwaysTaken) }

// PredictTarget returns the rule's prediction for the branch at pc to
// target. A branch to itself counts as backward.
func (s *Static) PredictTarget(pc, target uint64) bool {
	switch s.rule {
	case AlwaysTaken:
		return s.remember(pc, true)
	case NeverTaken:
		return s.remember(pc, false)
	}
	return s.remember(pc, target <= pc)
}

// Update counts a misprediction when taken differs from the last
// prediction for pc; a static predictor learns nothing.
func (s *Static) Update(pc uint64, taken bool) {
	p := s.rule == AlwaysTaken
	if s.lastOK && s.lastPC == pc {
		p = s.lastPred
	}
	s.lastOK = false
	s.stats.Updates++
	if p != taken {
		s.stats.Mispredicts++
	}
}

// Name returns the rule's name, such as "btfn".
func (s *Static) Name() string { return s.rule.String() }

// Stats returns the counts so far.
func (s *Static) Stats() PredictorStats { return s.stats }

// --------------------------------------------------------------- Bimodal

// BimodalConfig configures a Bimodal predictor.
type BimodalConfig struct {
	// Entries is the number of 2-bit counters, a power of two in
	// [MinPredictorEntries, MaxPredictorEntries]. Default 4096 (1 KiB).
	Entries int `toml:"entries"`
}

// DefaultBimodalConfig returns 4096 counters.
func DefaultBimodalConfig() BimodalConfig { return BimodalConfig{Entries: 4096} }

// Validate reports the first field that is out of range, by its TOML key.
func (c BimodalConfig) Validate() error {
	return checkPow2Key("entries", c.Entries, MinPredictorEntries, MaxPredictorEntries)
}

// Bimodal is a table of 2-bit saturating counters indexed by pc bits
// (Smith 1981). Counters start weakly taken.
type Bimodal struct {
	ctr   []uint8
	mask  uint64
	stats PredictorStats
}

// NewBimodal returns a bimodal predictor.
func NewBimodal(cfg BimodalConfig) (*Bimodal, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("bimodal predictor: %w", err)
	}
	b := &Bimodal{ctr: make([]uint8, cfg.Entries), mask: uint64(cfg.Entries - 1)}
	for i := range b.ctr {
		b.ctr[i] = counter2Init
	}
	return b, nil
}

// Predict reports whether pc's counter is in a taken state.
func (b *Bimodal) Predict(pc uint64) bool {
	b.stats.Lookups++
	return b.ctr[pcIndex(pc)&b.mask] >= 2
}

// Update moves pc's counter towards the outcome.
func (b *Bimodal) Update(pc uint64, taken bool) {
	c := &b.ctr[pcIndex(pc)&b.mask]
	b.stats.Updates++
	if (*c >= 2) != taken {
		b.stats.Mispredicts++
	}
	*c = counter2(*c, taken)
}

// Name returns "bimodal".
func (b *Bimodal) Name() string { return "bimodal" }

// Stats returns the counts so far.
func (b *Bimodal) Stats() PredictorStats { return b.stats }

// ---------------------------------------------------------------- Gshare

// GshareConfig configures a Gshare predictor.
type GshareConfig struct {
	// Entries is the number of 2-bit counters, a power of two in
	// [MinPredictorEntries, MaxPredictorEntries]. Default 16 Ki (4 KiB).
	Entries int `toml:"entries"`
	// HistoryBits is the length of the global history in branches, from 1
	// to log2(Entries) (a longer history would not reach the index).
	// Default 14, the full index width of the default table.
	HistoryBits int `toml:"history_bits"`
}

// DefaultGshareConfig returns 16 Ki counters and 14 bits of history.
func DefaultGshareConfig() GshareConfig { return GshareConfig{Entries: 16 << 10, HistoryBits: 14} }

// Validate reports the first field that is out of range, by its TOML key.
func (c GshareConfig) Validate() error {
	if err := checkPow2Key("entries", c.Entries, MinPredictorEntries, MaxPredictorEntries); err != nil {
		return err
	}
	return checkRangeKey("history_bits", c.HistoryBits, 1, bits.TrailingZeros(uint(c.Entries)))
}

// Gshare XORs the global history of branch outcomes into the pc to index a
// table of 2-bit counters (McFarling 1993). Counters start weakly taken.
type Gshare struct {
	ctr      []uint8
	mask     uint64
	hist     uint64
	histMask uint64
	stats    PredictorStats
}

// NewGshare returns a gshare predictor with an all-not-taken history.
func NewGshare(cfg GshareConfig) (*Gshare, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("gshare predictor: %w", err)
	}
	g := &Gshare{ctr: make([]uint8, cfg.Entries), mask: uint64(cfg.Entries - 1), histMask: 1<<cfg.HistoryBits - 1}
	for i := range g.ctr {
		g.ctr[i] = counter2Init
	}
	return g, nil
}

// Predict reports whether the counter for pc under the current history is
// in a taken state.
func (g *Gshare) Predict(pc uint64) bool {
	g.stats.Lookups++
	return g.ctr[(pcIndex(pc)^g.hist)&g.mask] >= 2
}

// Update moves the counter towards the outcome and shifts the outcome into
// the global history.
func (g *Gshare) Update(pc uint64, taken bool) {
	c := &g.ctr[(pcIndex(pc)^g.hist)&g.mask]
	g.stats.Updates++
	if (*c >= 2) != taken {
		g.stats.Mispredicts++
	}
	*c = counter2(*c, taken)
	g.hist <<= 1
	if taken {
		g.hist |= 1
	}
	g.hist &= g.histMask
}

// Name returns "gshare".
func (g *Gshare) Name() string { return "gshare" }

// Stats returns the counts so far.
func (g *Gshare) Stats() PredictorStats { return g.stats }

// ------------------------------------------------------------------ TAGE

// TAGE limits.
const (
	MaxTAGETables  = 12   // tagged components
	MaxTAGEHistory = 1024 // longest global history, in branches
)

// TAGEConfig configures a TAGE predictor. The defaults come to about
// 8.5 KiB of state: 1 KiB of base counters and 4 × 1024 tagged entries of
// 15 bits (10-bit tag, 3-bit counter, 2-bit usefulness).
type TAGEConfig struct {
	// BaseEntries is the number of 2-bit counters in the bimodal base
	// predictor, a power of two in [MinPredictorEntries,
	// MaxPredictorEntries]. Default 4096.
	BaseEntries int `toml:"base_entries"`
	// Tables is the number of tagged components, 1..MaxTAGETables.
	// Default 4.
	Tables int `toml:"tables"`
	// TableEntries is the number of entries in each tagged component, a
	// power of two in [16, 1 Mi]. Default 1024.
	TableEntries int `toml:"table_entries"`
	// TagBits is the width of the partial tags, 4..15. Default 10.
	TagBits int `toml:"tag_bits"`
	// MinHistory and MaxHistory are the history lengths (in branches) of
	// the shortest and the longest tagged component; the others follow a
	// geometric series between them. 1 <= MinHistory, MinHistory +
	// Tables - 1 <= MaxHistory <= MaxTAGEHistory. Defaults 4 and 128,
	// giving lengths 4, 13, 40, 128.
	MinHistory int `toml:"min_history"`
	MaxHistory int `toml:"max_history"`
	// UsefulResetPeriod is how many updates pass between the periodic
	// clearings of one bit of every usefulness counter (the high bit, then
	// the low bit, in turn), a power of two in [256, 2^30]. Default 2^18,
	// as in Seznec & Michaud.
	UsefulResetPeriod int `toml:"useful_reset_period"`
}

// DefaultTAGEConfig returns the defaults documented on TAGEConfig.
func DefaultTAGEConfig() TAGEConfig {
	return TAGEConfig{BaseEntries: 4096, Tables: 4, TableEntries: 1024, TagBits: 10,
		MinHistory: 4, MaxHistory: 128, UsefulResetPeriod: 1 << 18}
}

// Validate reports the first field that is out of range, by its TOML key.
func (c TAGEConfig) Validate() error {
	for _, err := range []error{
		checkPow2Key("base_entries", c.BaseEntries, MinPredictorEntries, MaxPredictorEntries),
		checkRangeKey("tables", c.Tables, 1, MaxTAGETables),
		checkPow2Key("table_entries", c.TableEntries, 16, 1<<20),
		checkRangeKey("tag_bits", c.TagBits, 4, 15),
		checkRangeKey("min_history", c.MinHistory, 1, MaxTAGEHistory),
		checkPow2Key("useful_reset_period", c.UsefulResetPeriod, 256, 1<<30),
	} {
		if err != nil {
			return err
		}
	}
	if lo := c.MinHistory + c.Tables - 1; c.MaxHistory < lo || c.MaxHistory > MaxTAGEHistory {
		return fmt.Errorf("max_history %d is not in [%d, %d] (min_history + tables - 1 gives the lower bound)",
			c.MaxHistory, lo, MaxTAGEHistory)
	}
	return nil
}

// HistoryLengths returns the history length of each tagged component,
// shortest first: round(MinHistory·r^i) with r chosen so the last is
// MaxHistory, raised where needed so that each is longer than the one
// before; a single component uses MaxHistory. The configuration must be
// valid.
func (c TAGEConfig) HistoryLengths() []int {
	l := make([]int, c.Tables)
	for i := range l {
		if c.Tables == 1 {
			l[i] = c.MaxHistory
			continue
		}
		r := float64(i) / float64(c.Tables-1)
		l[i] = int(math.Round(float64(c.MinHistory) * math.Pow(float64(c.MaxHistory)/float64(c.MinHistory), r)))
		if i > 0 && l[i] <= l[i-1] {
			l[i] = l[i-1] + 1
		}
	}
	return l
}

// tageEntry is one entry of a tagged component.
type tageEntry struct {
	tag uint16 // partial tag with tageValid set; 0 while never allocated
	ctr int8   // 3-bit signed counter, -4..3; taken when >= 0
	u   uint8  // 2-bit usefulness, 0..3
}

// tageValid marks an allocated entry, so an empty entry never matches.
const tageValid = 1 << 15

// tagePathBits is the length of the path history.
const tagePathBits = 16

// foldedHistory is a global history of olen bits folded by XOR into clen bits,
// kept up to date one branch at a time (a circular shift register, as in
// Michaud's PPM-like predictor): bit k of the history (0 = newest) sits at
// bit k mod clen.
type foldedHistory struct {
	comp     uint32
	mask     uint32 // clen ones
	clen     uint8
	outpoint uint8 // olen mod clen
	olen     int
}

func newFoldedHistory(olen int, clen uint) foldedHistory {
	return foldedHistory{mask: 1<<clen - 1, clen: uint8(clen), outpoint: uint8(uint(olen) % clen), olen: olen}
}

// push shifts in the newest bit and drops the bit that left the window.
// (The shift counts are masked so that the compiler needs no range check.)
func (f *foldedHistory) push(in, out uint32) {
	c := f.comp<<1 | in
	c ^= out << (f.outpoint & 31)
	c ^= c >> (f.clen & 31)
	f.comp = c & f.mask
}

// tageBank is one tagged component's fixed parameters and folded
// histories.
type tageBank struct {
	length   int    // history length in branches
	first    uint32 // index of its first entry in TAGE.tables
	pcShift  uint8  // extra pc bits folded into its index
	pathMask uint64 // the path history bits hashed into its index
	idx      foldedHistory
	tag      [2]foldedHistory // TagBits and TagBits-1 wide
}

// tageLookup is what a lookup found, kept for the Update that follows.
type tageLookup struct {
	pc       uint64
	valid    bool
	idx      [MaxTAGETables]uint32 // entry index into tables, per component
	tag      [MaxTAGETables]uint16
	baseIdx  uint32
	provider int // longest matching component, -1 for the base
	alt      int // next longest matching component, -1 for the base
	provPred bool
	altPred  bool
	newEntry bool // the provider is weak and not yet useful
	pred     bool
}

// TAGE is a "lite" TAGE predictor (Seznec & Michaud, "A case for (partially)
// TAgged GEometric history length branch prediction", JILP 2006): a bimodal
// base predictor and Tables tagged components indexed with geometrically
// longer global histories. The longest matching component provides the
// prediction, unless its entry is newly allocated and weak and the
// USE_ALT_ON_NA counter says the alternate prediction (next longest match,
// else the base) is then better. On a misprediction, one entry is
// allocated in a longer component whose entry at that index is not useful
// (the shorter of the first two candidates with probability 2/3; if there
// is none, the candidates' usefulness is decremented instead). Usefulness
// rises when the provider is right and the alternate wrong, and falls in
// the opposite case; every UsefulResetPeriod updates the high and the low
// usefulness bits are cleared in turn.
//
// Simplified against the paper and the CBP TAGE code: one tag width for
// all components; 2-bit base counters without shared hysteresis; only the
// provider (or the base) counter is trained, never the alternate; at most
// one entry allocated per misprediction; indices hash pc, folded global
// history and a 16-bit path history with XORs and shifts rather than the
// paper's F function; no loop predictor or statistical corrector.
// Random choices come from a fixed-seed xorshift generator, so runs are
// deterministic.
type TAGE struct {
	cfg        TAGEConfig
	base       []uint8
	baseMask   uint64
	tables     []tageEntry // Tables × TableEntries
	logEntries uint
	tableMask  uint64
	tagMask    uint64
	banks      [MaxTAGETables]tageBank
	hist       []uint8 // circular buffer of outcomes; hist[ptr] is the newest
	histMask   int
	ptr        int
	path       uint64
	useAlt     int8 // USE_ALT_ON_NA, -8..7
	ticks      int
	clearLow   bool // which usefulness bit the next reset clears
	rng        uint64
	look       tageLookup
	stats      PredictorStats
}

// NewTAGE returns a TAGE predictor with empty tagged components, weakly
// taken base counters and an all-not-taken history.
func NewTAGE(cfg TAGEConfig) (*TAGE, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("tage predictor: %w", err)
	}
	histSize := 1
	for histSize <= cfg.MaxHistory {
		histSize <<= 1
	}
	t := &TAGE{
		cfg:        cfg,
		base:       make([]uint8, cfg.BaseEntries),
		baseMask:   uint64(cfg.BaseEntries - 1),
		tables:     make([]tageEntry, cfg.Tables*cfg.TableEntries),
		logEntries: uint(bits.TrailingZeros(uint(cfg.TableEntries))),
		tableMask:  uint64(cfg.TableEntries - 1),
		tagMask:    1<<cfg.TagBits - 1,
		hist:       make([]uint8, histSize),
		histMask:   histSize - 1,
		rng:        0x9e3779b97f4a7c15,
	}
	for i := range t.base {
		t.base[i] = counter2Init
	}
	for i, l := range cfg.HistoryLengths() {
		t.banks[i] = tageBank{
			length:   l,
			first:    uint32(i * cfg.TableEntries),
			pcShift:  uint8(t.logEntries) + uint8(i),
			pathMask: 1<<min(l, tagePathBits) - 1,
			idx:      newFoldedHistory(l, t.logEntries),
			tag:      [2]foldedHistory{newFoldedHistory(l, uint(cfg.TagBits)), newFoldedHistory(l, uint(cfg.TagBits-1))},
		}
	}
	return t, nil
}

// next returns the next value of the allocation's xorshift generator.
func (t *TAGE) next() uint64 {
	t.rng ^= t.rng << 13
	t.rng ^= t.rng >> 7
	t.rng ^= t.rng << 17
	return t.rng
}

// lookup fills t.look for pc under the current history.
func (t *TAGE) lookup(pc uint64) {
	l := &t.look
	h := pcIndex(pc)
	l.pc, l.valid = pc, true
	l.baseIdx = uint32(h & t.baseMask)
	l.provider, l.alt = -1, -1
	for i := t.cfg.Tables - 1; i >= 0; i-- {
		b := &t.banks[i]
		p := t.path & b.pathMask
		idx := (h ^ h>>(b.pcShift&63) ^ uint64(b.idx.comp) ^ p ^ p>>(t.logEntries&63)) & t.tableMask
		tag := uint16((h^uint64(b.tag[0].comp)^uint64(b.tag[1].comp)<<1)&t.tagMask) | tageValid
		l.idx[i] = b.first + uint32(idx)
		l.tag[i] = tag
		if t.tables[l.idx[i]].tag == tag {
			if l.provider < 0 {
				l.provider = i
			} else if l.alt < 0 {
				l.alt = i
			}
		}
	}
	basePred := t.base[l.baseIdx] >= 2
	l.altPred = basePred
	if l.alt >= 0 {
		l.altPred = t.tables[l.idx[l.alt]].ctr >= 0
	}
	if l.provider < 0 {
		l.provPred, l.newEntry, l.pred = basePred, false, basePred
		return
	}
	e := t.tables[l.idx[l.provider]]
	l.provPred = e.ctr >= 0
	l.newEntry = (e.ctr == 0 || e.ctr == -1) && e.u == 0
	l.pred = l.provPred
	if l.newEntry && t.useAlt >= 0 {
		l.pred = l.altPred
	}
}

// Predict returns the prediction of the longest matching component (or
// the alternate, see TAGE) for pc under the current history.
func (t *TAGE) Predict(pc uint64) bool {
	t.stats.Lookups++
	t.lookup(pc)
	return t.look.pred
}

// Update trains the provider, allocates on a misprediction, ages the
// usefulness counters when due and shifts the outcome into the histories.
// It reuses the table lookup of a Predict for the same pc.
func (t *TAGE) Update(pc uint64, taken bool) {
	l := &t.look
	if !l.valid || l.pc != pc {
		t.lookup(pc)
	}
	t.stats.Updates++
	if l.pred != taken {
		t.stats.Mispredicts++
		if l.provider < t.cfg.Tables-1 {
			t.allocate(l.provider+1, taken)
		}
	}
	if l.provider >= 0 {
		e := &t.tables[l.idx[l.provider]]
		if l.provPred != l.altPred {
			if l.newEntry {
				if l.altPred == taken {
					t.useAlt = min(t.useAlt+1, 7)
				} else {
					t.useAlt = max(t.useAlt-1, -8)
				}
			}
			if l.provPred == taken {
				e.u = min(e.u+1, 3)
			} else if e.u > 0 {
				e.u--
			}
		}
		if taken {
			e.ctr = min(e.ctr+1, 3)
		} else {
			e.ctr = max(e.ctr-1, -4)
		}
	} else {
		t.base[l.baseIdx] = counter2(t.base[l.baseIdx], taken)
	}
	t.ticks++
	if t.ticks == t.cfg.UsefulResetPeriod {
		t.ticks = 0
		t.ageUseful()
	}
	t.push(pc, taken)
	l.valid = false
}

// allocate claims one entry in a component from first up for the branch
// that t.look describes, or makes the candidates less useful if none is
// free.
func (t *TAGE) allocate(first int, taken bool) {
	l := &t.look
	c0, c1 := -1, -1
	for j := first; j < t.cfg.Tables; j++ {
		if t.tables[l.idx[j]].u == 0 {
			if c0 < 0 {
				c0 = j
			} else {
				c1 = j
				break
			}
		}
	}
	if c0 < 0 {
		for j := first; j < t.cfg.Tables; j++ {
			if e := &t.tables[l.idx[j]]; e.u > 0 {
				e.u--
			}
		}
		return
	}
	if c1 >= 0 && t.next()%3 == 0 {
		c0 = c1
	}
	e := &t.tables[l.idx[c0]]
	e.tag, e.u, e.ctr = l.tag[c0], 0, -1
	if taken {
		e.ctr = 0
	}
}

// ageUseful clears the high usefulness bit of every entry, or the low one,
// alternately.
func (t *TAGE) ageUseful() {
	var keep uint8 = 1
	if t.clearLow {
		keep = 2
	}
	for i := range t.tables {
		t.tables[i].u &= keep
	}
	t.clearLow = !t.clearLow
}

// push shifts an outcome into the global, folded and path histories.
func (t *TAGE) push(pc uint64, taken bool) {
	var in uint8
	if taken {
		in = 1
	}
	t.ptr = (t.ptr - 1) & t.histMask
	t.hist[t.ptr] = in
	for i := range t.banks[:t.cfg.Tables] {
		b := &t.banks[i]
		out := uint32(t.hist[(t.ptr+b.length)&t.histMask])
		b.idx.push(uint32(in), out)
		b.tag[0].push(uint32(in), out)
		b.tag[1].push(uint32(in), out)
	}
	t.path = (t.path<<1 | pcIndex(pc)&1) & (1<<tagePathBits - 1)
}

// Name returns "tage".
func (t *TAGE) Name() string { return "tage" }

// Stats returns the counts so far.
func (t *TAGE) Stats() PredictorStats { return t.stats }

// ------------------------------------------------------------------- BTB

// MaxBTBWays is the largest associativity of a BTB.
const MaxBTBWays = 64

// BTBConfig configures a BTB.
type BTBConfig struct {
	// Entries is the total number of targets held: Ways × a power of two,
	// at most 1 Mi. Default 4096.
	Entries int `toml:"entries"`
	// Ways is the associativity, 1..MaxBTBWays. Default 4.
	Ways int `toml:"ways"`
}

// DefaultBTBConfig returns 4096 entries in 4 ways.
func DefaultBTBConfig() BTBConfig { return BTBConfig{Entries: 4096, Ways: 4} }

// Validate reports the first field that is out of range, by its TOML key.
func (c BTBConfig) Validate() error {
	if err := checkRangeKey("ways", c.Ways, 1, MaxBTBWays); err != nil {
		return err
	}
	if c.Entries < c.Ways || c.Entries > 1<<20 || c.Entries%c.Ways != 0 || bits.OnesCount(uint(c.Entries/c.Ways)) != 1 {
		return fmt.Errorf("entries %d is not ways (%d) × a power of two, at most %d", c.Entries, c.Ways, 1<<20)
	}
	return nil
}

// BTBStats counts a BTB's work.
type BTBStats struct {
	Lookups     uint64 // Lookup calls
	Hits        uint64 // lookups that found a target
	Updates     uint64 // Update calls
	Mispredicts uint64 // updates that found no target or a different one
	Evictions   uint64 // valid entries replaced
}

// btbEntry is one BTB entry; stamp 0 marks it invalid.
type btbEntry struct {
	pc, target, stamp uint64
}

// BTB is a set-associative branch target buffer with LRU replacement. It
// holds full pcs as tags, so it never returns another branch's target
// (real BTBs use partial tags and sometimes do).
type BTB struct {
	entries []btbEntry
	ways    int
	setMask uint64
	clock   uint64
	stats   BTBStats
}

// NewBTB returns an empty BTB.
func NewBTB(cfg BTBConfig) (*BTB, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("btb: %w", err)
	}
	return &BTB{entries: make([]btbEntry, cfg.Entries), ways: cfg.Ways, setMask: uint64(cfg.Entries/cfg.Ways - 1)}, nil
}

// set returns the ways of pc's set.
func (b *BTB) set(pc uint64) []btbEntry {
	s := int(pcIndex(pc)&b.setMask) * b.ways
	return b.entries[s : s+b.ways]
}

// Lookup returns the target last recorded for the branch at pc, and marks
// it most recently used.
func (b *BTB) Lookup(pc uint64) (target uint64, ok bool) {
	b.stats.Lookups++
	set := b.set(pc)
	for i := range set {
		if e := &set[i]; e.stamp != 0 && e.pc == pc {
			b.stats.Hits++
			b.clock++
			e.stamp = b.clock
			return e.target, true
		}
	}
	return 0, false
}

// Update records target for the branch at pc, replacing the least
// recently used entry of its set if pc is not there.
func (b *BTB) Update(pc, target uint64) {
	b.stats.Updates++
	b.clock++
	set := b.set(pc)
	victim := 0
	for i := range set {
		e := &set[i]
		if e.stamp != 0 && e.pc == pc {
			if e.target != target {
				b.stats.Mispredicts++
			}
			e.target, e.stamp = target, b.clock
			return
		}
		if e.stamp < set[victim].stamp {
			victim = i
		}
	}
	b.stats.Mispredicts++
	if set[victim].stamp != 0 {
		b.stats.Evictions++
	}
	set[victim] = btbEntry{pc: pc, target: target, stamp: b.clock}
}

// Flush invalidates every entry, as when translated code is discarded.
func (b *BTB) Flush() {
	clear(b.entries)
}

// Stats returns the counts so far.
func (b *BTB) Stats() BTBStats { return b.stats }

// ------------------------------------------------------------------- RAS

// MaxRASDepth is the deepest return-address stack.
const MaxRASDepth = 1024

// RASConfig configures a RAS.
type RASConfig struct {
	// Depth is the number of return addresses held, 1..MaxRASDepth.
	// Default 16.
	Depth int `toml:"depth"`
}

// DefaultRASConfig returns a depth of 16.
func DefaultRASConfig() RASConfig { return RASConfig{Depth: 16} }

// Validate reports a depth out of range.
func (c RASConfig) Validate() error { return checkRangeKey("depth", c.Depth, 1, MaxRASDepth) }

// RASStats counts a RAS's work.
type RASStats struct {
	Pushes     uint64 // Push calls
	Pops       uint64 // Pop calls
	Overflows  uint64 // pushes that overwrote the oldest address
	Underflows uint64 // pops of an empty stack
}

// RAS is a circular return-address stack of fixed depth: a push onto a
// full stack overwrites the oldest address, and a pop of an empty stack
// returns not ok.
type RAS struct {
	buf   []uint64
	top   int // index of the next push
	n     int // addresses held
	stats RASStats
}

// NewRAS returns an empty return-address stack.
func NewRAS(cfg RASConfig) (*RAS, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("ras: %w", err)
	}
	return &RAS{buf: make([]uint64, cfg.Depth)}, nil
}

// Push records the return address of a call.
func (r *RAS) Push(ret uint64) {
	r.stats.Pushes++
	r.buf[r.top] = ret
	if r.top++; r.top == len(r.buf) {
		r.top = 0
	}
	if r.n == len(r.buf) {
		r.stats.Overflows++
	} else {
		r.n++
	}
}

// Pop returns the most recently pushed address still held, or ok false if
// the stack is empty.
func (r *RAS) Pop() (ret uint64, ok bool) {
	r.stats.Pops++
	if r.n == 0 {
		r.stats.Underflows++
		return 0, false
	}
	if r.top == 0 {
		r.top = len(r.buf)
	}
	r.top--
	r.n--
	return r.buf[r.top], true
}

// Len returns the number of addresses held.
func (r *RAS) Len() int { return r.n }

// Stats returns the counts so far.
func (r *RAS) Stats() RASStats { return r.stats }

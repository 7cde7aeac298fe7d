package sim

import (
	"testing"
)

// The two workload shapes below are those of shared/tools/enginecmp (README,
// "Workload definitions"), so twinsim's ns/event can be set beside Akita's:
// the run is bounded by capping the events scheduled in total (initial ones
// included), heap1000 handler i starts at time i and draws its delays from its
// own xorshift64 stream seeded (i+1)·0x9E3779B97F4A7C15.

const (
	benchHeapHandlers = 1000
	benchMaxDelay     = 1000
	benchSeedStride   = 0x9E3779B97F4A7C15
)

// benchXorshift64 is Marsaglia's xorshift64 with shifts (13, 7, 17).
type benchXorshift64 uint64

func (x *benchXorshift64) next() uint64 {
	s := uint64(*x)
	s ^= s << 13
	s ^= s >> 7
	s ^= s << 17
	*x = benchXorshift64(s)
	return s
}

// delay draws the next heap1000 delay, uniform in [1, benchMaxDelay] ps.
func (x *benchXorshift64) delay() Time { return Time(1 + x.next()%benchMaxDelay) }

func benchSeed(i int) benchXorshift64 { return benchXorshift64(uint64(i+1) * benchSeedStride) }

// chainWorkload is one handler that, handling an event at t, schedules the
// next at t+1 while the budget lasts.
type chainWorkload struct {
	eng        *Engine
	id         HandlerID
	toSchedule uint64
	handled    uint64
}

func (w *chainWorkload) Handle(ev Event) {
	w.handled++
	if w.toSchedule == 0 {
		return
	}
	w.toSchedule--
	w.eng.Schedule(Event{Time: ev.Time + 1, Handler: w.id})
}

// newChain returns an engine with the chain handler registered and its first
// event (time 0) scheduled; n ≥ 1 events will be handled in all.
func newChain(n uint64) (*Engine, *chainWorkload) {
	eng := NewEngine()
	w := &chainWorkload{eng: eng, toSchedule: n - 1}
	w.id = eng.Register(w)
	eng.Schedule(Event{Time: 0, Handler: w.id})
	return eng, w
}

// heapBudget is shared by the heap1000 handlers.
type heapBudget struct {
	toSchedule uint64
	handled    uint64
}

type heapWorkload struct {
	eng    *Engine
	id     HandlerID
	rng    benchXorshift64
	budget *heapBudget
}

func (h *heapWorkload) Handle(ev Event) {
	h.budget.handled++
	if h.budget.toSchedule == 0 {
		return
	}
	h.budget.toSchedule--
	h.eng.Schedule(Event{Time: ev.Time + h.rng.delay(), Handler: h.id})
}

// newHeap1000 returns an engine with the 1000 heap1000 handlers registered
// and their initial events scheduled in handler order; m ≥ 1000 events will
// be handled in all.
func newHeap1000(m uint64) (*Engine, *heapBudget, []*heapWorkload) {
	eng := NewEngine()
	budget := &heapBudget{toSchedule: m - benchHeapHandlers}
	hs := make([]*heapWorkload, benchHeapHandlers)
	for i := range hs {
		hs[i] = &heapWorkload{eng: eng, rng: benchSeed(i), budget: budget}
		hs[i].id = eng.Register(hs[i])
	}
	for i, h := range hs {
		eng.Schedule(Event{Time: Time(i), Handler: h.id})
	}
	return eng, budget, hs
}

// BenchmarkEngineChain measures the fixed per-event cost (schedule, pop,
// dispatch) with one event in the queue; b.N events are handled.
func BenchmarkEngineChain(b *testing.B) {
	n := uint64(b.N)
	eng, w := newChain(n)
	b.ReportAllocs()
	b.ResetTimer()
	eng.Run()
	b.StopTimer()
	if w.handled != n || eng.Now() != Time(n-1) {
		b.Fatalf("chain handled %d events ending at %v, want %d ending at %dps", w.handled, eng.Now(), n, n-1)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/event")
}

// BenchmarkEngineHeap1000 measures the per-event cost with 1000 events in
// the queue; max(b.N, 1000) events are handled.
func BenchmarkEngineHeap1000(b *testing.B) {
	m := uint64(max(b.N, benchHeapHandlers))
	eng, budget, _ := newHeap1000(m)
	b.ReportAllocs()
	b.ResetTimer()
	eng.Run()
	b.StopTimer()
	if budget.handled != m {
		b.Fatalf("heap1000 handled %d events, want %d", budget.handled, m)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(m), "ns/event")
}

package sim

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// recorder is a handler that logs every event it receives and runs an
// optional action for it.
type recorder struct {
	eng    *Engine
	log    []Event
	action func(ev Event)
}

func (r *recorder) Handle(ev Event) {
	if now := r.eng.Now(); now != ev.Time {
		panic(fmt.Sprintf("clock reads %v while handling an event at %v", now, ev.Time))
	}
	r.log = append(r.log, ev)
	if r.action != nil {
		r.action(ev)
	}
}

func (r *recorder) args() []uint64 {
	out := make([]uint64, len(r.log))
	for i, ev := range r.log {
		out[i] = ev.Arg
	}
	return out
}

func newRecorder() (*Engine, *recorder, HandlerID) {
	eng := NewEngine()
	r := &recorder{eng: eng}
	return eng, r, eng.Register(r)
}

func TestEngineRegisterIDs(t *testing.T) {
	eng := NewEngine()
	for i := range 5 {
		id := eng.Register(HandlerFunc(func(Event) {}))
		require.Equal(t, HandlerID(i), id)
	}
}

func TestHandlerFunc(t *testing.T) {
	var got []Event
	var h Handler = HandlerFunc(func(ev Event) { got = append(got, ev) })
	ev := Event{Time: 42, Handler: 3, Kind: 7, Arg: 1 << 40}
	h.Handle(ev)
	require.Equal(t, []Event{ev}, got)

	eng := NewEngine()
	id := eng.Register(HandlerFunc(func(ev Event) { got = append(got, ev) }))
	eng.Schedule(Event{Time: 5, Handler: id, Kind: 9, Arg: 11})
	eng.Run()
	require.Equal(t, Event{Time: 5, Handler: id, Kind: 9, Arg: 11}, got[1])
}

// TestEngineOrder checks dispatch order for events scheduled before Run.
func TestEngineOrder(t *testing.T) {
	tests := []struct {
		name  string
		times []Time // event i has Arg i
		want  []uint64
	}{
		{"empty", nil, []uint64{}},
		{"single", []Time{5}, []uint64{0}},
		{"ascending", []Time{1, 2, 3}, []uint64{0, 1, 2}},
		{"descending", []Time{3, 2, 1}, []uint64{2, 1, 0}},
		{"all equal", []Time{7, 7, 7, 7, 7, 7, 7}, []uint64{0, 1, 2, 3, 4, 5, 6}},
		{"zero time", []Time{0, 0, 1, 0}, []uint64{0, 1, 3, 2}},
		{"ties interleaved", []Time{5, 1, 5, 1, 5, 1}, []uint64{1, 3, 5, 0, 2, 4}},
		{"max time", []Time{MaxTime, 0, MaxTime, 1}, []uint64{1, 3, 0, 2}},
		// More than four children at several levels of the 4-ary heap.
		{"wide ties", []Time{9, 3, 9, 3, 9, 3, 9, 3, 9, 3, 9, 3, 9, 3, 9, 3, 9, 3, 9, 3, 1},
			[]uint64{20, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			eng, r, id := newRecorder()
			for i, tm := range tc.times {
				eng.Schedule(Event{Time: tm, Handler: id, Kind: uint32(i) + 100, Arg: uint64(i)})
			}
			require.Equal(t, len(tc.times), eng.Pending())
			eng.Run()
			require.Equal(t, tc.want, r.args())
			for _, ev := range r.log {
				require.Equal(t, tc.times[ev.Arg], ev.Time)
				require.Equal(t, uint32(ev.Arg)+100, ev.Kind)
				require.Equal(t, id, ev.Handler)
			}
			require.Equal(t, uint64(len(tc.times)), eng.Handled())
			require.Zero(t, eng.Pending())
		})
	}
}

// TestEngineOrderFromHandlers checks events scheduled by handlers, in
// particular at the handler's own time, where the first scheduled event
// takes over the root slot of the one being handled.
func TestEngineOrderFromHandlers(t *testing.T) {
	type child struct {
		delay Time
		arg   uint64
	}
	tests := []struct {
		name     string
		initial  []Time              // event i has Arg i
		children map[uint64][]child  // scheduled when the event with that Arg runs
		want     []uint64            // args in dispatch order
		wantTime map[uint64]Time     // optional: time of some args
		probe    map[uint64][2]int64 // Arg -> {Pending, NextTime or -1} seen before scheduling
	}{
		{
			name:     "children at now run after earlier ties",
			initial:  []Time{10, 10, 10},
			children: map[uint64][]child{0: {{0, 10}, {0, 11}}},
			want:     []uint64{0, 1, 2, 10, 11},
		},
		{
			name:     "child at now before a later event",
			initial:  []Time{10, 20},
			children: map[uint64][]child{0: {{0, 10}}},
			want:     []uint64{0, 10, 1},
		},
		{
			name:     "child ties with an event scheduled earlier",
			initial:  []Time{10, 15},
			children: map[uint64][]child{0: {{5, 10}}},
			want:     []uint64{0, 1, 10},
			wantTime: map[uint64]Time{10: 15},
		},
		{
			name:     "first child later than the queue sifts down",
			initial:  []Time{1, 2, 3, 4, 5, 6},
			children: map[uint64][]child{0: {{100, 10}, {0, 11}}},
			want:     []uint64{0, 11, 1, 2, 3, 4, 5, 10},
		},
		{
			name:    "chain of zero-delay children",
			initial: []Time{3, 3},
			children: map[uint64][]child{
				0:  {{0, 10}},
				10: {{0, 20}, {0, 21}},
				20: {{0, 30}},
				1:  {{0, 11}},
			},
			want: []uint64{0, 1, 10, 11, 20, 21, 30},
		},
		{
			name:     "handler schedules nothing then queue continues",
			initial:  []Time{1, 1, 2},
			children: map[uint64][]child{1: {{0, 10}, {1, 11}, {0, 12}}},
			want:     []uint64{0, 1, 10, 12, 2, 11},
		},
		{
			name:     "only event reschedules itself",
			initial:  []Time{0},
			children: map[uint64][]child{0: {{1, 1}}, 1: {{1, 2}}, 2: {{0, 3}}},
			want:     []uint64{0, 1, 2, 3},
			wantTime: map[uint64]Time{3: 2},
			probe:    map[uint64][2]int64{0: {0, -1}, 1: {0, -1}, 2: {0, -1}, 3: {0, -1}},
		},
		{
			name:     "probes see the queue without the handled event",
			initial:  []Time{4, 4, 9},
			children: map[uint64][]child{0: {{0, 10}}, 1: {{2, 11}}},
			want:     []uint64{0, 1, 10, 11, 2},
			probe:    map[uint64][2]int64{0: {2, 4}, 1: {2, 4}, 10: {2, 6}, 11: {1, 9}, 2: {0, -1}},
		},
	}
	for _, tc := range tests {
		for _, withProbe := range []bool{false, true} {
			if !withProbe && tc.probe != nil {
				continue
			}
			t.Run(fmt.Sprintf("%s/probe=%v", tc.name, withProbe), func(t *testing.T) {
				eng, r, id := newRecorder()
				r.action = func(ev Event) {
					if withProbe {
						pending := eng.Pending()
						next, ok := eng.NextTime()
						if want, ok2 := tc.probe[ev.Arg]; ok2 {
							require.Equal(t, int(want[0]), pending, "Pending in handler for %d", ev.Arg)
							if want[1] < 0 {
								require.False(t, ok)
							} else {
								require.True(t, ok)
								require.Equal(t, Time(want[1]), next, "NextTime in handler for %d", ev.Arg)
							}
						}
						require.Equal(t, pending, eng.Pending(), "NextTime does not change Pending")
					}
					for _, c := range tc.children[ev.Arg] {
						eng.Schedule(Event{Time: ev.Time + c.delay, Handler: id, Arg: c.arg})
					}
				}
				for i, tm := range tc.initial {
					eng.Schedule(Event{Time: tm, Handler: id, Arg: uint64(i)})
				}
				eng.Run()
				require.Equal(t, tc.want, r.args())
				for _, ev := range r.log {
					if want, ok := tc.wantTime[ev.Arg]; ok {
						require.Equal(t, want, ev.Time, "time of %d", ev.Arg)
					}
				}
				require.Equal(t, uint64(len(tc.want)), eng.Handled())
				require.Zero(t, eng.Pending())
			})
		}
	}
}

// refEvent is an event of the reference model.
type refEvent struct {
	t    Time
	seq  uint64
	h    HandlerID
	kind uint32
	arg  uint64
}

// refQueue is the obviously correct reference for the engine's queue: a
// slice searched linearly for the smallest (time, seq).
type refQueue struct {
	q   []refEvent
	seq uint64
	now Time
}

func (r *refQueue) push(t Time, h HandlerID, kind uint32, arg uint64) {
	r.seq++
	r.q = append(r.q, refEvent{t, r.seq, h, kind, arg})
}

func (r *refQueue) minIndex() int {
	best := -1
	for i, e := range r.q {
		if best < 0 || e.t < r.q[best].t || e.t == r.q[best].t && e.seq < r.q[best].seq {
			best = i
		}
	}
	return best
}

func (r *refQueue) pop() refEvent {
	i := r.minIndex()
	e := r.q[i]
	r.q = append(r.q[:i], r.q[i+1:]...)
	return e
}

// engineScript is a randomly drawn workload: initial events, and for each
// event (by creation index, which is also its Arg) the delays of the events
// its handler schedules and whether it probes Pending/NextTime first.
type engineScript struct {
	initial  []Time
	children [][]Time
	probe    []bool
	handlers int
}

const scriptMaxEvents = 300

func drawScript(t *rapid.T) engineScript {
	// Few distinct times and many zero delays, so that ties are common.
	delay := rapid.SampledFrom([]Time{0, 0, 0, 1, 1, 2, 3, 5, 8, 1000})
	s := engineScript{
		initial:  rapid.SliceOfN(rapid.Custom(func(t *rapid.T) Time { return Time(rapid.Uint64Range(0, 12).Draw(t, "t")) }), 0, 40).Draw(t, "initial"),
		handlers: rapid.IntRange(1, 3).Draw(t, "handlers"),
	}
	n := rapid.IntRange(0, scriptMaxEvents).Draw(t, "scripted")
	s.children = make([][]Time, n)
	s.probe = make([]bool, n)
	for i := range n {
		s.children[i] = rapid.SliceOfN(delay, 0, 3).Draw(t, fmt.Sprintf("children%d", i))
		s.probe[i] = rapid.Bool().Draw(t, fmt.Sprintf("probe%d", i))
	}
	return s
}

type dispatched struct {
	t    Time
	h    HandlerID
	kind uint32
	arg  uint64
}

// runScriptEngine runs s on the engine in the given RunUntil segments
// (MaxTime for Run) and returns the dispatch log and the clock after each
// segment.
func runScriptEngine(t require.TestingT, s engineScript, limits []Time) ([]dispatched, []Time, *Engine) {
	eng := NewEngine()
	var log []dispatched
	next := uint64(len(s.initial)) // creation index of the next event
	ids := make([]HandlerID, s.handlers)
	h := HandlerFunc(func(ev Event) {
		require.Equal(t, ev.Time, eng.Now())
		log = append(log, dispatched{ev.Time, ev.Handler, ev.Kind, ev.Arg})
		if ev.Arg >= uint64(len(s.children)) {
			return
		}
		if s.probe[ev.Arg] {
			_ = eng.Pending()
			_, _ = eng.NextTime()
		}
		for _, d := range s.children[ev.Arg] {
			eng.Schedule(Event{Time: ev.Time + d, Handler: ids[next%uint64(len(ids))], Kind: uint32(next * 7), Arg: next})
			next++
		}
	})
	for i := range ids {
		ids[i] = eng.Register(h)
	}
	for i, tm := range s.initial {
		eng.Schedule(Event{Time: tm, Handler: ids[i%len(ids)], Kind: uint32(i * 7), Arg: uint64(i)})
	}
	var nows []Time
	for _, l := range limits {
		if l == MaxTime {
			eng.Run()
		} else {
			eng.RunUntil(l)
		}
		nows = append(nows, eng.Now())
	}
	return log, nows, eng
}

// runScriptRef runs s on the reference queue in the same RunUntil segments
// and returns the dispatch log and the clock after each segment.
func runScriptRef(s engineScript, handlers int, limits []Time) ([]dispatched, []Time, *refQueue) {
	r := &refQueue{}
	for i, tm := range s.initial {
		r.push(tm, HandlerID(i%handlers), uint32(i*7), uint64(i))
	}
	next := uint64(len(s.initial))
	var log []dispatched
	var nows []Time
	for _, l := range limits {
		for len(r.q) > 0 && r.q[r.minIndex()].t <= l {
			e := r.pop()
			r.now = e.t
			log = append(log, dispatched{e.t, e.h, e.kind, e.arg})
			if e.arg < uint64(len(s.children)) {
				for _, d := range s.children[e.arg] {
					r.push(e.t+d, HandlerID(next%uint64(handlers)), uint32(next*7), next)
					next++
				}
			}
		}
		if l != MaxTime && l > r.now {
			r.now = l
		}
		nows = append(nows, r.now)
	}
	return log, nows, r
}

// TestEngineMatchesReferenceProperty compares the engine's dispatch order
// with a reference sort by (time, scheduling order) for random schedules in
// which handlers schedule events, many at their own time.
func TestEngineMatchesReferenceProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := drawScript(t)
		limits := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) Time { return Time(rapid.Uint64Range(0, 40).Draw(t, "limit")) }), 0, 4).Draw(t, "limits")
		sort.Slice(limits, func(i, j int) bool { return limits[i] < limits[j] })
		limits = append(limits, MaxTime)

		got, gotNows, eng := runScriptEngine(t, s, limits)
		want, wantNows, _ := runScriptRef(s, s.handlers, limits)
		require.Equal(t, want, got)
		require.Equal(t, wantNows, gotNows)
		require.Equal(t, uint64(len(want)), eng.Handled())
		require.Zero(t, eng.Pending())
		_, ok := eng.NextTime()
		require.False(t, ok)
	})
}

// TestEngineMatchesReferenceRandom is a deterministic complement to the
// property test with larger workloads: deeper heaps, more ties, and events
// fanning out from handlers.
func TestEngineMatchesReferenceRandom(t *testing.T) {
	for seed := range uint64(60) {
		rng := rand.New(rand.NewPCG(seed, 99))
		maxT := 1 + rng.Uint64N(50)
		s := engineScript{handlers: 1 + rng.IntN(3)}
		for range rng.IntN(400) {
			s.initial = append(s.initial, Time(rng.Uint64N(maxT)))
		}
		n := 2000
		s.children = make([][]Time, n)
		s.probe = make([]bool, n)
		for i := range n {
			for range rng.IntN(3) { // on average one child: the queue stays busy
				s.children[i] = append(s.children[i], Time(rng.Uint64N(1+rng.Uint64N(maxT))))
			}
			s.probe[i] = rng.IntN(4) == 0
		}
		limits := []Time{Time(rng.Uint64N(maxT)), Time(maxT + rng.Uint64N(5*maxT)), MaxTime}
		sort.Slice(limits, func(i, j int) bool { return limits[i] < limits[j] })
		got, gotNows, eng := runScriptEngine(t, s, limits)
		want, wantNows, _ := runScriptRef(s, s.handlers, limits)
		require.Equal(t, len(want), len(got), "seed %d", seed)
		require.Equal(t, want, got, "seed %d", seed)
		require.Equal(t, wantNows, gotNows, "seed %d", seed)
		require.Equal(t, uint64(len(want)), eng.Handled())
	}
}

// TestEngineProbesMatchReferenceProperty checks Pending and NextTime from
// inside handlers, before and after each scheduled child, against the
// reference queue.
func TestEngineProbesMatchReferenceProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := drawScript(t)
		eng := NewEngine()
		ref := &refQueue{}
		var next uint64
		var id HandlerID
		check := func(where string, ev Event) {
			require.Equal(t, len(ref.q), eng.Pending(), "Pending %s of event %d", where, ev.Arg)
			nt, ok := eng.NextTime()
			if len(ref.q) == 0 {
				require.False(t, ok, "NextTime %s of event %d", where, ev.Arg)
			} else {
				require.True(t, ok)
				require.Equal(t, ref.q[ref.minIndex()].t, nt, "NextTime %s of event %d", where, ev.Arg)
			}
		}
		id = eng.Register(HandlerFunc(func(ev Event) {
			want := ref.pop()
			require.Equal(t, want.arg, ev.Arg)
			require.Equal(t, want.t, ev.Time)
			if ev.Arg >= uint64(len(s.children)) {
				return
			}
			if s.probe[ev.Arg] {
				check("before scheduling", ev)
			}
			for _, d := range s.children[ev.Arg] {
				eng.Schedule(Event{Time: ev.Time + d, Handler: id, Arg: next})
				ref.push(ev.Time+d, id, 0, next)
				next++
				if s.probe[ev.Arg] {
					check("after scheduling", ev)
				}
			}
		}))
		for _, tm := range s.initial {
			eng.Schedule(Event{Time: tm, Handler: id, Arg: next})
			ref.push(tm, id, 0, next)
			next++
		}
		eng.Run()
		require.Empty(t, ref.q)
		require.Equal(t, next, eng.Handled())
	})
}

// TestEngineRunUntilSplitProperty checks that RunUntil(t1); RunUntil(t2)
// dispatches exactly what RunUntil(t2) does and leaves the same state.
func TestEngineRunUntilSplitProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := drawScript(t)
		t1 := Time(rapid.Uint64Range(0, 30).Draw(t, "t1"))
		t2 := t1 + Time(rapid.Uint64Range(0, 30).Draw(t, "dt"))

		split, splitNows, a := runScriptEngine(t, s, []Time{t1, t2})
		whole, wholeNows, b := runScriptEngine(t, s, []Time{t2})
		require.Equal(t, whole, split)
		require.Equal(t, t1, splitNows[0])
		require.Equal(t, t2, splitNows[1])
		require.Equal(t, []Time{t2}, wholeNows)
		require.Equal(t, b.Pending(), a.Pending())
		require.Equal(t, b.Handled(), a.Handled())
		at, aok := a.NextTime()
		bt, bok := b.NextTime()
		require.Equal(t, bok, aok)
		require.Equal(t, bt, at)
		if aok {
			require.Greater(t, at, t2, "nothing at or before the limit is left")
		}
		for _, d := range split {
			require.LessOrEqual(t, d.t, t2)
		}
		// The rest runs identically too.
		a.Run()
		b.Run()
		require.Equal(t, b.Handled(), a.Handled())
		require.Equal(t, b.Now(), a.Now())
	})
}

func TestEngineRunUntil(t *testing.T) {
	eng, r, id := newRecorder()
	for i, tm := range []Time{5, 10, 10, 15, 20} {
		eng.Schedule(Event{Time: tm, Handler: id, Arg: uint64(i)})
	}
	steps := []struct {
		limit       Time
		wantArgs    []uint64 // cumulative
		wantNow     Time
		wantPending int
		wantNext    Time
	}{
		{0, []uint64{}, 0, 5, 5},
		{4, []uint64{}, 4, 5, 5},
		{5, []uint64{0}, 5, 4, 10},
		{10, []uint64{0, 1, 2}, 10, 2, 15},
		{12, []uint64{0, 1, 2}, 12, 2, 15},
		{12, []uint64{0, 1, 2}, 12, 2, 15},
		{3, []uint64{0, 1, 2}, 12, 2, 15}, // a limit in the past does nothing
		{19, []uint64{0, 1, 2, 3}, 19, 1, 20},
		{100, []uint64{0, 1, 2, 3, 4}, 100, 0, 0},
	}
	for _, st := range steps {
		eng.RunUntil(st.limit)
		require.Equal(t, st.wantArgs, r.args(), "after RunUntil(%d)", st.limit)
		require.Equal(t, st.wantNow, eng.Now(), "after RunUntil(%d)", st.limit)
		require.Equal(t, st.wantPending, eng.Pending(), "after RunUntil(%d)", st.limit)
		next, ok := eng.NextTime()
		require.Equal(t, st.wantPending > 0, ok)
		require.Equal(t, st.wantNext, next)
		require.Equal(t, uint64(len(st.wantArgs)), eng.Handled())
	}
	// Scheduling at now after RunUntil is allowed and runs next.
	eng.Schedule(Event{Time: 100, Handler: id, Arg: 9})
	eng.RunUntil(100)
	require.Equal(t, []uint64{0, 1, 2, 3, 4, 9}, r.args())
}

func TestEngineRunLeavesClockAtLastEvent(t *testing.T) {
	eng, _, id := newRecorder()
	eng.Run()
	require.Zero(t, eng.Now(), "Run on an empty queue leaves the clock")
	eng.Schedule(Event{Time: 70, Handler: id})
	eng.Schedule(Event{Time: 30, Handler: id})
	eng.Run()
	require.Equal(t, Time(70), eng.Now())
	eng.RunUntil(MaxTime)
	require.Equal(t, Time(70), eng.Now(), "RunUntil(MaxTime) does not move the clock to MaxTime")
	eng.Schedule(Event{Time: MaxTime, Handler: id})
	eng.Run()
	require.Equal(t, MaxTime, eng.Now())
	require.Equal(t, uint64(3), eng.Handled())
}

func TestEngineStop(t *testing.T) {
	tests := []struct {
		name     string
		run      func(e *Engine)
		stopAt   uint64 // Arg of the event whose handler calls Stop
		wantArgs []uint64
		wantNow  Time
		wantRest []uint64 // dispatched by a second Run
	}{
		{"Run", (*Engine).Run, 2, []uint64{0, 1, 2}, 20, []uint64{102, 3, 4, 5}},
		{"RunUntil stops before the limit", func(e *Engine) { e.RunUntil(1000) }, 1, []uint64{0, 1}, 10, []uint64{101, 2, 3, 4, 5}},
		{"Stop at equal times", (*Engine).Run, 3, []uint64{0, 1, 2, 3}, 30, []uint64{4, 103, 5}},
		{"Stop on the last event", (*Engine).Run, 5, []uint64{0, 1, 2, 3, 4, 5}, 40, []uint64{105}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			eng, r, id := newRecorder()
			r.action = func(ev Event) {
				if ev.Arg == tc.stopAt {
					eng.Stop()
					// Scheduling after Stop still queues the event.
					eng.Schedule(Event{Time: ev.Time, Handler: id, Arg: 100 + ev.Arg})
				}
			}
			for i, tm := range []Time{0, 10, 20, 30, 30, 40} {
				eng.Schedule(Event{Time: tm, Handler: id, Arg: uint64(i)})
			}
			tc.run(eng)
			require.Equal(t, tc.wantArgs, r.args())
			require.Equal(t, tc.wantNow, eng.Now())
			require.Equal(t, 6-len(tc.wantArgs)+1, eng.Pending())
			next, ok := eng.NextTime()
			require.True(t, ok)
			require.Equal(t, tc.wantNow, next)

			// A new Run continues where Stop left off.
			eng.Run()
			require.Equal(t, append(append([]uint64{}, tc.wantArgs...), tc.wantRest...), r.args())
			require.Equal(t, uint64(7), eng.Handled())
		})
	}
}

func TestEngineStopBeforeRunIsCleared(t *testing.T) {
	eng, r, id := newRecorder()
	eng.Schedule(Event{Time: 1, Handler: id, Arg: 1})
	eng.Schedule(Event{Time: 2, Handler: id, Arg: 2})
	eng.Stop()
	eng.Run()
	require.Equal(t, []uint64{1, 2}, r.args())
}

func TestEngineSchedulePastPanics(t *testing.T) {
	eng, r, id := newRecorder()
	eng.Schedule(Event{Time: 100, Handler: id})
	eng.Run()
	require.Equal(t, Time(100), eng.Now())
	require.PanicsWithValue(t, "sim: event for handler 0 scheduled at 99ps, before now (100ps)", func() {
		eng.Schedule(Event{Time: 99, Handler: id})
	})
	require.Panics(t, func() { eng.Schedule(Event{Time: 0, Handler: id}) })
	require.Zero(t, eng.Pending(), "a rejected event is not queued")
	require.NotPanics(t, func() { eng.Schedule(Event{Time: 100, Handler: id}) })
	require.Equal(t, 1, eng.Pending())

	// From inside a handler.
	var recovered any
	r.action = func(ev Event) {
		func() {
			defer func() { recovered = recover() }()
			eng.Schedule(Event{Time: ev.Time - 1, Handler: id, Arg: 7})
		}()
	}
	eng.Run()
	require.Equal(t, "sim: event for handler 0 scheduled at 99ps, before now (100ps)", recovered)
	require.Zero(t, eng.Pending())
	require.Equal(t, uint64(2), eng.Handled())

	// RunUntil moves the clock too.
	eng.RunUntil(Millisecond)
	require.Panics(t, func() { eng.Schedule(Event{Time: Millisecond - 1, Handler: id}) })
	require.Panics(t, func() { eng.After(MaxTime, id, 0, 0) }, "now+d wrapping around is in the past")
}

func TestEngineUnregisteredHandlerPanics(t *testing.T) {
	eng := NewEngine()
	require.PanicsWithValue(t, "sim: event for unregistered handler 0", func() {
		eng.Schedule(Event{Time: 1, Handler: 0})
	})
	id := eng.Register(HandlerFunc(func(Event) {}))
	require.Equal(t, HandlerID(0), id)
	require.NotPanics(t, func() { eng.Schedule(Event{Time: 1, Handler: 0}) })
	require.PanicsWithValue(t, "sim: event for unregistered handler 1", func() {
		eng.Schedule(Event{Time: 1, Handler: 1})
	})
	require.Panics(t, func() { eng.Schedule(Event{Time: 1, Handler: ^HandlerID(0)}) })
	require.Equal(t, 1, eng.Pending())
}

func TestEngineAfter(t *testing.T) {
	eng, r, id := newRecorder()
	eng.After(5, id, 1, 10)
	r.action = func(ev Event) {
		if ev.Arg == 10 {
			eng.After(0, id, 2, 20)
			eng.After(7, id, 3, 30)
		}
	}
	eng.Run()
	require.Equal(t, []Event{
		{Time: 5, Handler: id, Kind: 1, Arg: 10},
		{Time: 5, Handler: id, Kind: 2, Arg: 20},
		{Time: 12, Handler: id, Kind: 3, Arg: 30},
	}, r.log)
}

func TestEnginePendingHandledNextTime(t *testing.T) {
	eng, r, id := newRecorder()
	require.Zero(t, eng.Pending())
	require.Zero(t, eng.Handled())
	require.Zero(t, eng.Now())
	tm, ok := eng.NextTime()
	require.False(t, ok)
	require.Zero(t, tm)

	eng.Schedule(Event{Time: 8, Handler: id, Arg: 0})
	eng.Schedule(Event{Time: 3, Handler: id, Arg: 1})
	require.Equal(t, 2, eng.Pending())
	tm, ok = eng.NextTime()
	require.True(t, ok)
	require.Equal(t, Time(3), tm)

	type seen struct {
		pending int
		handled uint64
	}
	var inside []seen
	r.action = func(ev Event) {
		inside = append(inside, seen{eng.Pending(), eng.Handled()})
		if ev.Arg == 1 {
			eng.Schedule(Event{Time: 4, Handler: id, Arg: 2})
			inside = append(inside, seen{eng.Pending(), eng.Handled()})
		}
	}
	eng.Run()
	require.Equal(t, []seen{{1, 1}, {2, 1}, {1, 2}, {0, 3}}, inside)
	require.Equal(t, []uint64{1, 2, 0}, r.args())
	require.Equal(t, uint64(3), eng.Handled())
}

// TestEngineHandlerPanic checks that a panicking handler leaves the engine
// usable: the event it was handling is gone, and scheduling and running go
// on in order.
func TestEngineHandlerPanic(t *testing.T) {
	for _, scheduleAfterPanic := range []bool{false, true} {
		t.Run(fmt.Sprintf("schedule=%v", scheduleAfterPanic), func(t *testing.T) {
			eng, r, id := newRecorder()
			r.action = func(ev Event) {
				if ev.Arg == 1 {
					panic("boom")
				}
			}
			for i, tm := range []Time{1, 2, 3, 4} {
				eng.Schedule(Event{Time: tm, Handler: id, Arg: uint64(i)})
			}
			require.PanicsWithValue(t, "boom", eng.Run)
			require.Equal(t, Time(2), eng.Now())
			require.Equal(t, 2, eng.Pending(), "the panicking event is not pending")
			want := []uint64{0, 1, 2, 3}
			if scheduleAfterPanic {
				eng.Schedule(Event{Time: 2, Handler: id, Arg: 9})
				require.Equal(t, 3, eng.Pending())
				want = []uint64{0, 1, 9, 2, 3}
			}
			wantNext := Time(3)
			if scheduleAfterPanic {
				wantNext = 2
			}
			next, ok := eng.NextTime()
			require.True(t, ok)
			require.Equal(t, wantNext, next)
			eng.Run()
			require.Equal(t, want, r.args())
			require.Zero(t, eng.Pending())
		})
	}
}

// TestEngineRunAfterHandlerPanic runs again straight after a handler
// panicked, with no other call in between: the event that panicked must not
// be dispatched a second time.
func TestEngineRunAfterHandlerPanic(t *testing.T) {
	tests := []struct {
		name string
		run  func(e *Engine)
		want []uint64
		now  Time
	}{
		{"Run", (*Engine).Run, []uint64{0, 1, 2, 3}, 4},
		{"RunUntil", func(e *Engine) { e.RunUntil(3) }, []uint64{0, 1, 2}, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			eng, r, id := newRecorder()
			panicked := false
			r.action = func(ev Event) {
				if ev.Arg == 1 && !panicked {
					panicked = true
					panic("boom")
				}
			}
			for i, tm := range []Time{1, 2, 3, 4} {
				eng.Schedule(Event{Time: tm, Handler: id, Arg: uint64(i)})
			}
			require.Panics(t, func() { eng.RunUntil(100) })
			tc.run(eng)
			require.Equal(t, tc.want, r.args())
			require.Equal(t, tc.now, eng.Now())
		})
	}
}

// TestEngineNestedRunUntil checks a handler that runs the engine itself.
func TestEngineNestedRunUntil(t *testing.T) {
	eng, r, id := newRecorder()
	r.action = func(ev Event) {
		if ev.Arg == 0 {
			eng.Schedule(Event{Time: 2, Handler: id, Arg: 5})
			eng.RunUntil(4)
			require.Equal(t, Time(4), eng.Now())
		}
	}
	for i, tm := range []Time{1, 3, 10} {
		eng.Schedule(Event{Time: tm, Handler: id, Arg: uint64(i)})
	}
	eng.Run()
	require.Equal(t, []uint64{0, 5, 1, 2}, r.args())
	require.Equal(t, Time(10), eng.Now())
	require.Equal(t, uint64(4), eng.Handled())

	// Without scheduling first: the handled event is still at the root.
	eng, r, id = newRecorder()
	nested := 0
	r.action = func(ev Event) {
		if ev.Arg == 0 {
			nested++
			if nested > 1 {
				panic("event 0 dispatched twice")
			}
			eng.RunUntil(4)
			eng.Schedule(Event{Time: 4, Handler: id, Arg: 6})
		}
	}
	for i, tm := range []Time{1, 3, 10} {
		eng.Schedule(Event{Time: tm, Handler: id, Arg: uint64(i)})
	}
	eng.Run()
	require.Equal(t, []uint64{0, 1, 6, 2}, r.args())
	require.Equal(t, 1, nested)
}

// allocHandler reschedules each event it handles while its budget lasts,
// sometimes two events, one of them at the same time.
type allocHandler struct {
	eng    *Engine
	id     HandlerID
	budget int
	count  int
}

func (h *allocHandler) Handle(ev Event) {
	h.count++
	if h.budget <= 0 {
		return
	}
	h.budget--
	h.eng.Schedule(Event{Time: ev.Time + Time(ev.Arg%17), Handler: h.id, Kind: ev.Kind + 1, Arg: ev.Arg*31 + 7})
	if ev.Arg%3 == 0 && h.budget > 0 {
		h.budget--
		h.eng.Schedule(Event{Time: ev.Time, Handler: h.id, Kind: ev.Kind, Arg: ev.Arg + 1})
	}
}

func TestEngineZeroAllocsPerEvent(t *testing.T) {
	eng := NewEngine()
	h := &allocHandler{eng: eng}
	h.id = eng.Register(h)
	fn := eng.Register(HandlerFunc(func(Event) {}))
	const width = 500
	round := func() {
		h.budget = 2000
		for i := range width {
			eng.Schedule(Event{Time: eng.Now() + Time(i%50), Handler: h.id, Arg: uint64(i)})
			eng.Schedule(Event{Time: eng.Now() + Time(i%7), Handler: fn, Arg: uint64(i)})
		}
		eng.Run()
	}
	round() // warm up: the heap grows to its peak size
	before := h.count
	allocs := testing.AllocsPerRun(20, round)
	require.Zero(t, allocs, "Schedule and dispatch allocate once warmed up")
	// AllocsPerRun runs round once more as its own warm-up.
	require.Equal(t, before+21*(width+2000), h.count, "every round handled its events")
	require.Zero(t, eng.Pending())
}

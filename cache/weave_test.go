package cache

import (
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/twinsim/twinsim/sim"
)

// TestWeaveOrdersByTimeNotByCall: agent 1 reaches the DRAM channel at
// 100 ns but is recorded first; agent 0 reaches it at 95 ns, recorded
// second. In time order agent 0 goes first (no wait) and agent 1 waits the
// 5 ns until agent 0's 10 ns transfer ends, which is fed back to agent 1
// only. (In call order agent 0 would have waited 10 ns behind a later
// access.)
func TestWeaveOrdersByTimeNotByCall(t *testing.T) {
	env := sim.NewEnv(1)
	w, err := NewWeave(env.Scope("weave"), sim.Microsecond)
	require.NoError(t, err)
	dram := newTestDRAM(t, env)
	require.NoError(t, w.AttachDRAM(dram))
	var fed [2]sim.Time
	a0 := w.NewAgent(func(d sim.Time) { fed[0] += d })
	a1 := w.NewAgent(func(d sim.Time) { fed[1] += d })
	ns := sim.Nanosecond
	require.Equal(t, 160*ns, w.dramAccess(a1, 100*ns, 0, testLine, false, false), "bound phase: uncontended")
	require.Equal(t, 155*ns, w.dramAccess(a0, 95*ns, 0, testLine, false, false))
	require.Equal(t, 2, w.Pending())
	env.Engine.Run()
	require.Zero(t, w.Pending())
	require.Equal(t, [2]sim.Time{0, 5 * ns}, fed)
	require.Equal(t, uint64(5*ns), stat(t, env, "weave", "feedback_ps"))
	require.Equal(t, uint64(1), stat(t, env, "weave", "delayed"))
}

// TestWeaveLeavesLaterAccessesForTheNextReplay: an access after the
// replay's horizon stays pending, and an access recorded later with an
// earlier time is replayed before it.
func TestWeaveLeavesLaterAccessesForTheNextReplay(t *testing.T) {
	env := sim.NewEnv(1)
	w, err := NewWeave(env.Scope("weave"), sim.Microsecond)
	require.NoError(t, err)
	require.NoError(t, w.AttachDRAM(newTestDRAM(t, env)))
	var got []sim.Time
	w.trace = func(_ int, arrival, _ sim.Time, _ int, _ sim.Time) { got = append(got, arrival) }
	a := w.NewAgent(nil)
	ns := sim.Nanosecond
	w.dramAccess(a, 1500*ns, 0, testLine, false, false)
	w.dramAccess(a, 200*ns, 0, testLine, false, false)
	w.replay(sim.Microsecond, true)
	require.Equal(t, []sim.Time{200 * ns}, got)
	require.Equal(t, 1, w.Pending())
	w.dramAccess(-1, 1200*ns, 0, testLine, true, true)
	w.replay(2*sim.Microsecond, true)
	require.Equal(t, []sim.Time{200 * ns, 1200 * ns, 1500 * ns}, got)
}

// TestWeaveNeverQueuesBehindALaterAccessProperty: agents record accesses to
// DRAM channels and L3 banks out of order (each within a window ahead of
// its clock, as an out-of-order core does), replays run at increasing
// horizons, and delays are fed back to the agents' clocks. Whatever the
// call order, an access that waited at a resource only ever waited for
// accesses that reached it no later than it did; every access is replayed
// once; the delays fed back are what the agents' accesses were owed, at
// most their waits.
func TestWeaveNeverQueuesBehindALaterAccessProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		env := sim.NewEnv(1)
		w, err := NewWeave(env.Scope("weave"), sim.Microsecond)
		require.NoError(rt, err)
		dram := newTestDRAM(rt, env)
		require.NoError(rt, w.AttachDRAM(dram))
		l3, err := New(env.Scope("l3"), Config{Size: 64 * testLine, LineSize: testLine, Ways: 4, Latency: 10,
			Banks: 2, BankCycles: 4})
		require.NoError(rt, err)
		w.AttachCache(l3)
		nAgents := rapid.IntRange(1, 4).Draw(rt, "agents")
		clock := make([]sim.Time, nAgents)
		fed := make([]sim.Time, nAgents)
		for i := range nAgents {
			w.NewAgent(func(d sim.Time) { fed[i] += d; clock[i] += d })
		}
		type use struct {
			arrival, start sim.Time
			agent          int
		}
		uses := map[int][]use{}
		var waited [4]sim.Time
		w.trace = func(res int, arrival, start sim.Time, agent int, owed sim.Time) {
			uses[res] = append(uses[res], use{arrival, start, agent})
			if agent >= 0 {
				waited[agent] += owed
				require.LessOrEqual(rt, owed, start-arrival, "owed at most the wait")
			}
		}
		recorded := 0
		horizon := sim.Time(0)
		for range rapid.IntRange(1, 6).Draw(rt, "replays") {
			for range rapid.IntRange(0, 40).Draw(rt, "accesses") {
				a := rapid.IntRange(-1, nAgents-1).Draw(rt, "agent")
				base := horizon
				if a >= 0 {
					base = max(base, clock[a])
					clock[a] = base + sim.Time(rapid.IntRange(0, 20).Draw(rt, "advance"))*sim.Nanosecond
				}
				at := base + sim.Time(rapid.IntRange(0, 300).Draw(rt, "ahead"))*sim.Nanosecond
				line := uint64(rapid.IntRange(0, 7).Draw(rt, "line")) * testLine
				if rapid.Bool().Draw(rt, "bank") {
					l3.bank(line, at, sim.GHz, a)
				} else {
					w.dramAccess(a, at, line, testLine, a < 0, a < 0)
				}
				recorded++
			}
			horizon += sim.Time(rapid.IntRange(1, 500).Draw(rt, "step")) * sim.Nanosecond
			w.replay(horizon, true)
		}
		w.Finish()
		n := 0
		for res, us := range uses {
			n += len(us)
			sort.SliceStable(us, func(i, j int) bool { return us[i].start < us[j].start })
			for i, x := range us {
				if x.start == x.arrival {
					continue
				}
				for _, y := range us[:i] {
					if y.start >= x.arrival && y.arrival > x.arrival {
						rt.Fatalf("resource %d: an access arriving at %d waited until %d behind one arriving later, at %d",
							res, x.arrival, x.start, y.arrival)
					}
				}
			}
		}
		require.Equal(rt, recorded, n, "every access replayed once")
		for i := range nAgents {
			require.Equal(rt, waited[i], fed[i], "agent %d", i)
		}
	})
}

// TestWeaveOwesOnlyWhatOthersCause: one agent's back-to-back accesses
// queue behind each other already in the bound phase (10 ns transfers: the
// k-th completes at 60 + 10k ns) and the replay owes it nothing; a second
// agent whose accesses arrive first in time makes it wait, and that wait is
// owed.
func TestWeaveOwesOnlyWhatOthersCause(t *testing.T) {
	env := sim.NewEnv(1)
	w, err := NewWeave(env.Scope("weave"), sim.Microsecond)
	require.NoError(t, err)
	require.NoError(t, w.AttachDRAM(newTestDRAM(t, env)))
	var fed [2]sim.Time
	a := w.NewAgent(func(d sim.Time) { fed[0] += d })
	b := w.NewAgent(func(d sim.Time) { fed[1] += d })
	ns := sim.Nanosecond
	for k := range 5 {
		require.Equal(t, sim.Time(60+10*k)*ns, w.dramAccess(a, 0, 0, testLine, false, false))
	}
	w.replay(sim.Microsecond, true)
	require.Zero(t, fed[0], "its own queue was foreseen")
	w.dramAccess(a, 2000*ns, 0, testLine, false, false)
	w.dramAccess(b, 1995*ns, 0, testLine, false, false)
	w.dramAccess(b, 1995*ns, 0, testLine, false, false) // b's second waits for b's first: foreseen
	w.replay(3*sim.Microsecond, true)
	require.Equal(t, [2]sim.Time{15 * ns, 0}, fed, "a waits for both of b's transfers (1995..2015)")
}

// TestTimelineFillsGapsProperty: reservations made out of time order take
// the first gap at or after their time that is long enough; the stretches
// kept never overlap and stay in order.
func TestTimelineFillsGapsProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		var tl timeline
		for range rapid.IntRange(1, 100).Draw(rt, "n") {
			at := sim.Time(rapid.IntRange(0, 1000).Draw(rt, "at"))
			d := sim.Time(rapid.IntRange(1, 30).Draw(rt, "d"))
			before := append([]interval(nil), tl.iv...)
			start := tl.reserve(at, d, 0)
			require.GreaterOrEqual(rt, start, at)
			// No earlier start fits among the stretches kept before.
			for s := at; s < start; s++ {
				fits := true
				for _, iv := range before {
					if s < iv.end && iv.start < s+d {
						fits = false
						break
					}
				}
				require.False(rt, fits, "a gap at %d was free for %d", s, d)
			}
			for i := 1; i < len(tl.iv); i++ {
				require.LessOrEqual(rt, tl.iv[i-1].end, tl.iv[i].start, "stretches overlap: %v", tl.iv)
			}
		}
	})
}

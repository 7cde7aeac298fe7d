package cache

import (
	"fmt"

	"github.com/twinsim/twinsim/memory"
	"github.com/twinsim/twinsim/sim"
)

// Weave resolves contention at a host's shared memory resources — the banks
// of its shared cache levels and its DRAM channels — in simulated-time
// order, in the two phases of ZSim's bound–weave scheme:
//
//   - Bound phase. Cores run ahead of the event engine (a quantum at a
//     time, one after another) and time each access to a shared resource
//     as if the core were alone on the machine: it queues behind its own
//     earlier accesses (a private copy of each resource's reservation, so
//     one core's bandwidth limits are exact) but sees no other core's. Each
//     such access is recorded: when it reached the resource in its core's
//     timeline, when it started there in the bound phase, how long it
//     occupies it, and whose clock it belongs to (an agent).
//   - Weave phase. Periodically, at engine time H, every recorded access
//     that happened before H is replayed through the resources' real
//     queues in timestamp order, across all agents, so an access only ever
//     waits for accesses that reached the same resource earlier in
//     simulated time — never behind one that happens later, whatever order
//     the cores ran in or an out-of-order core issued in. The part of its
//     wait the bound phase did not foresee (other agents' accesses) is the
//     delay it was owed; an agent's later accesses in the same replay are
//     shifted by the delays before them (a delayed miss delays what follows
//     it), and at the end of the replay each agent's total is fed back to
//     its clock (Agent's sink: a timing core stalls that long, charged to
//     the CPI stack's contention row).
//
// Accesses recorded after H — everything happens at or after the engine's
// time, since cores only run ahead of it — wait for the next weave. Agent
// -1 is nobody's clock: posted write-backs, log writes and device DMA
// occupy the resources in time order but feed nothing back.
//
// What it does not model: the feedback is applied to the core's clock at
// the end of the weave, not to the individual instructions that depended
// on the delayed access (ZSim's simplification); in the bound phase an
// out-of-order core's own accesses queue in the order it issues them,
// which for a load issued after a younger one can be a little pessimistic
// (the replay itself is in time order, and a bound-phase wait the replay
// does not confirm is not charged twice); links between the levels and the
// directory's own occupancy are uncontended.
type Weave struct {
	eng       *sim.Engine
	id        sim.HandlerID
	interval  sim.Time
	scheduled bool
	dram      *memory.DRAM
	res       []resource
	agents    []agentState
	shadow    [][]timeline // per agent, per resource: the agent's own reservations (bound phase)
	horizon   sim.Time     // the last replay's: no record comes earlier any more
	// pending holds the records made since the last replay, in call
	// order; queues[a+1] holds agent a's records not yet replayed (a = -1:
	// devices), a min-heap in the order the replays take them. An agent's
	// order never changes once made (see order), so what a replay leaves
	// stays where it is: a backlog far ahead of the engine (a firmware call
	// that zeroes megabytes) costs a replay nothing until its time comes.
	pending []rec
	queues  []minHeap[rec] // each on before
	waiting int            // records in queues
	seq     uint64         // call order of the next record
	heap    minHeap[int]   // indices of non-empty queues, on byKey
	byKey   func(a, b *int) bool
	// trace, if set (tests), sees every replayed access: its resource,
	// when it reached it and when it started there.
	trace func(res int, arrival, start sim.Time, agent int, owed sim.Time)

	woven, delayed, fed *sim.Counter
}

// resource is one shared resource: a DRAM channel (cache nil) or a bank of
// a shared cache level.
type resource struct {
	cache *Cache
	index int // DRAM channel or bank
}

type agentState struct {
	sink    func(sim.Time)
	applied sim.Time // delay fed back so far
	skew    sim.Time // delay owed in the replay under way
	credit  sim.Time // bound-phase waits the replays did not confirm, not yet set against a delay
}

// rec is one recorded access.
type rec struct {
	at      sim.Time // when it reached the resource, in its agent's timeline
	bstart  sim.Time // when it started there in the bound phase
	busy    sim.Time // bank: occupancy; DRAM: bytes moved
	applied sim.Time // its agent's applied delay when it was recorded
	res     int32
	agent   int32
	seq     uint64 // call order, for ties
	write   bool
	posted  bool // in its agent's timeline, but nobody waits for it: no feedback
}

// order is r's place among its agent's records: its time in the agent's
// timeline less the delay fed back before it was made. Every record of an
// agent shifts by the same delay fed back since, so the order holds
// whatever is fed back later.
func (r *rec) order() int64 { return int64(r.at) - int64(r.applied) }

// before reports whether a comes before b in their agent's queue.
func before(a, b *rec) bool {
	oa, ob := a.order(), b.order()
	return oa < ob || oa == ob && a.seq < b.seq
}

// NewWeave returns a weave for the shared resources of one host, replayed
// every interval of engine time while accesses are pending.
func NewWeave(scope sim.Scope, interval sim.Time) (*Weave, error) {
	if interval == 0 {
		return nil, fmt.Errorf("%s: weave interval must be positive", scope.Name())
	}
	w := &Weave{eng: scope.Engine(), interval: interval, queues: make([]minHeap[rec], 1),
		woven:   scope.Counter("accesses", "accesses to shared levels and DRAM replayed in time order"),
		delayed: scope.Counter("delayed", "replayed accesses that waited for an earlier one"),
		fed:     scope.Counter("feedback_ps", "picoseconds of contention fed back to the agents' clocks")}
	w.byKey = func(i, j *int) bool {
		a, b := w.key(&w.queues[*i]), w.key(&w.queues[*j])
		return a < b || a == b && *i < *j
	}
	w.id = w.eng.Register(w)
	scope.Env().AtEnd(w.Finish)
	return w, nil
}

// AttachDRAM makes d's channels resources of the weave. Call once, before
// any access.
func (w *Weave) AttachDRAM(d *memory.DRAM) error {
	if w.dram != nil && w.dram != d {
		return fmt.Errorf("weave: one DRAM per host")
	}
	if w.dram == d {
		return nil
	}
	if len(w.res) > 0 {
		return fmt.Errorf("weave: attach the DRAM before any cache")
	}
	w.dram = d
	for ch := range d.Config().Channels {
		w.res = append(w.res, resource{index: ch})
	}
	return nil
}

// AttachCache makes c's banks resources of the weave (a level without
// banks has none).
func (w *Weave) AttachCache(c *Cache) {
	if c.bankBusy == nil || c.weave == w {
		return
	}
	c.weave, c.bankRes = w, len(w.res)
	for b := range c.bankBusy {
		w.res = append(w.res, resource{cache: c, index: b})
	}
}

// NewAgent returns the id of a new agent whose owed delays are passed to
// sink at the end of each replay.
func (w *Weave) NewAgent(sink func(sim.Time)) int {
	w.agents = append(w.agents, agentState{sink: sink})
	w.shadow = append(w.shadow, nil)
	for len(w.queues) < len(w.agents)+1 {
		w.queues = append(w.queues, minHeap[rec]{})
	}
	return len(w.agents) - 1
}

// record notes an access of agent (or -1) reaching resource r at t and
// occupying it for occ, and returns when it starts in the bound phase:
// after the agent's own earlier accesses there. A posted one (a
// write-back) is in the agent's timeline but delays nobody.
func (w *Weave) record(agent, r int, t, occ, busy sim.Time, write, posted bool) sim.Time {
	var applied sim.Time
	start := t
	if agent >= 0 {
		applied = w.agents[agent].applied
		sh := w.shadow[agent]
		if len(sh) < len(w.res) {
			sh = append(sh, make([]timeline, len(w.res)-len(sh))...)
			w.shadow[agent] = sh
		}
		start = sh[r].reserve(t, occ, w.horizon)
	}
	w.pending = append(w.pending, rec{at: t, bstart: start, busy: busy, applied: applied, res: int32(r), agent: int32(agent),
		seq: w.seq, write: write, posted: posted})
	w.seq++
	if !w.scheduled {
		w.scheduled = true
		w.eng.Schedule(sim.Event{Time: w.eng.Now() + w.interval, Handler: w.id})
	}
	return start
}

// dramAccess records a DRAM access of n bytes at line by agent, reaching
// the DRAM at t, and returns when it completes in the bound phase.
func (w *Weave) dramAccess(agent int, t sim.Time, line, n uint64, write, posted bool) sim.Time {
	xfer := w.dram.TransferTime(n)
	return w.record(agent, w.dram.Channel(line), t, xfer, sim.Time(n), write, posted) + xfer + w.dram.Config().Latency
}

// Handle implements sim.Handler: a replay of everything before now.
func (w *Weave) Handle(ev sim.Event) {
	w.scheduled = false
	w.replay(ev.Time, true)
	if w.Pending() > 0 {
		w.scheduled = true
		w.eng.Schedule(sim.Event{Time: ev.Time + w.interval, Handler: w.id})
	}
}

// Finish replays everything still pending (the run is over), feeding the
// delays back, so that the resources' statistics are complete.
func (w *Weave) Finish() { w.replay(sim.MaxTime, true) }

// Pending returns the number of recorded accesses not yet replayed.
func (w *Weave) Pending() int { return len(w.pending) + w.waiting }

// replay weaves the pending accesses that happen before horizon.
func (w *Weave) replay(horizon sim.Time, feed bool) {
	if horizon != sim.MaxTime {
		w.horizon = max(w.horizon, horizon)
	}
	if w.Pending() == 0 {
		return
	}
	for _, r := range w.pending {
		w.queues[r.agent+1].push(r, before)
	}
	w.waiting += len(w.pending)
	w.pending = w.pending[:0]
	w.heap.reset()
	for i := range w.queues {
		if w.queues[i].len() > 0 {
			w.heap.push(i, w.byKey)
		}
	}
	for w.heap.len() > 0 {
		qu := &w.queues[*w.heap.top()]
		t := w.key(qu)
		if t >= horizon {
			break
		}
		r := qu.top()
		start := w.reserve(r, t)
		// What the bound phase did not foresee: the start beyond the one
		// it gave the access, in the same (shifted) timeline — net of any
		// wait the bound phase charged that the replay did not confirm (an
		// out-of-order core's own accesses queued in issue order).
		var owed sim.Time
		if r.agent >= 0 && !r.posted {
			a := &w.agents[r.agent]
			expect := r.bstart + (t - r.at)
			switch {
			case start > expect:
				owed = start - expect
				c := min(owed, a.credit)
				a.credit -= c
				owed -= c
				a.skew += owed
			case start < expect:
				a.credit += expect - start
			}
		}
		if w.trace != nil {
			w.trace(int(r.res), t, start, int(r.agent), owed)
		}
		w.woven.Inc()
		if start > t {
			w.delayed.Inc()
		}
		qu.pop(before)
		w.waiting--
		if qu.len() == 0 {
			w.heap.pop(w.byKey)
		} else {
			w.heap.down(0, w.byKey)
		}
	}
	for i := range w.agents {
		a := &w.agents[i]
		if a.skew == 0 {
			continue
		}
		a.applied += a.skew
		w.fed.Add(uint64(a.skew))
		if feed && a.sink != nil {
			a.sink(a.skew)
		}
		a.skew = 0
	}
}

// key is when queue qu's next access reaches its resource in the replay:
// its time shifted by the delay fed back to its agent since it was made,
// and by what the replay under way owes the agent.
func (w *Weave) key(qu *minHeap[rec]) sim.Time {
	r := qu.top()
	t := r.at
	if r.agent >= 0 {
		a := &w.agents[r.agent]
		t += a.applied - r.applied + a.skew
	}
	return t
}

// reserve occupies r's resource from t, or when it frees, and returns the
// start.
func (w *Weave) reserve(r *rec, t sim.Time) sim.Time {
	res := w.res[r.res]
	if res.cache != nil {
		return res.cache.reserveBank(res.index, t, r.busy)
	}
	return w.dram.Reserve(t, res.index, uint64(r.busy), r.write)
}

// timeline is one agent's reservations of one resource in the bound phase:
// stretches [start, end) in time order. An access takes the first gap from
// its time long enough for it, so an access made later in call order but
// earlier in time (a load issued after a younger one, a read before a
// write-back that leaves when a fill arrives) does not queue behind it.
type timeline struct{ iv []interval }

type interval struct{ start, end sim.Time }

// maxIntervals bounds a timeline: beyond it the oldest stretch is
// forgotten (an access that early could then overlap it in the bound
// phase; the replay still queues it correctly).
const maxIntervals = 64

// reserve occupies d from the first gap at or after t and returns its
// start; stretches that end before floor (no access comes earlier any
// more) are forgotten.
func (tl *timeline) reserve(t, d, floor sim.Time) sim.Time {
	k := 0
	for k < len(tl.iv) && tl.iv[k].end <= floor {
		k++
	}
	if k > 0 {
		tl.iv = append(tl.iv[:0], tl.iv[k:]...)
	}
	start, i := t, 0
	for ; i < len(tl.iv); i++ {
		if start+d <= tl.iv[i].start {
			break
		}
		start = max(start, tl.iv[i].end)
	}
	if len(tl.iv) == maxIntervals { // forget the oldest stretch
		tl.iv = append(tl.iv[:0], tl.iv[1:]...)
		i = max(i-1, 0)
	}
	tl.iv = append(tl.iv, interval{})
	copy(tl.iv[i+1:], tl.iv[i:])
	tl.iv[i] = interval{start, start + d}
	return start
}

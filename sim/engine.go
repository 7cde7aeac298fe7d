package sim

import (
	"fmt"
	"math/bits"
)

// Handler receives the events scheduled for it. Handlers are registered once
// with Engine.Register; events carry the handler's small integer ID, so
// scheduling and dispatch never allocate.
type Handler interface {
	// Handle processes ev; the engine's clock reads ev.Time during the call.
	Handle(ev Event)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ev Event)

// Handle calls f(ev).
func (f HandlerFunc) Handle(ev Event) { f(ev) }

// HandlerID identifies a registered handler.
type HandlerID uint32

// Event is a value: when it fires, which handler receives it, and two words
// the handler interprets (an event kind and an argument such as an index).
type Event struct {
	Time    Time
	Handler HandlerID
	Kind    uint32
	Arg     uint64
}

// entry is an event in the queue; seq breaks ties between equal times so that
// they run in scheduling order. 32 bytes, so two share a cache line.
type entry struct {
	t    Time
	seq  uint64
	h    HandlerID
	kind uint32
	arg  uint64
}

// before reports whether a runs before b: (t, seq) compared as one 128-bit
// number. The subtract-with-borrow chain has no branch to mispredict, which
// matters because queue order is close to random.
func (a *entry) before(b *entry) bool {
	_, borrow := bits.Sub64(a.seq, b.seq, 0)
	_, borrow = bits.Sub64(uint64(a.t), uint64(b.t), borrow)
	return borrow != 0
}

// Engine is the serial discrete-event engine: a 4-ary min-heap of event
// values ordered by (time, scheduling sequence number). Schedule and the
// dispatch loop do not allocate once the queue has grown to its peak size.
//
// While an event is being handled it stays at the root of the heap with
// rootFree set, and the first event its handler schedules takes over the
// root slot with one sift-down, instead of a sift-down to remove the handled
// event and a sift-up to add the new one. Most handlers schedule one event,
// so this halves the heap work per event.
type Engine struct {
	heap     []entry
	handlers []Handler
	now      Time
	seq      uint64
	handled  uint64
	stopped  bool
	rootFree bool // heap[0] has been dispatched and may be overwritten
}

// NewEngine returns an engine at time 0 with an empty queue.
func NewEngine() *Engine { return &Engine{heap: make([]entry, 0, 64)} }

// Register adds h and returns the ID that events use to reach it.
func (e *Engine) Register(h Handler) HandlerID {
	e.handlers = append(e.handlers, h)
	return HandlerID(len(e.handlers) - 1)
}

// Now returns the current simulated time.
func (e *Engine) Now() Time { return e.now }

// Pending returns the number of events in the queue, not counting the one
// being handled.
func (e *Engine) Pending() int {
	if e.rootFree {
		return len(e.heap) - 1
	}
	return len(e.heap)
}

// Handled returns the number of events dispatched so far.
func (e *Engine) Handled() uint64 { return e.handled }

// NextTime returns the time of the earliest pending event; ok is false when
// the queue is empty.
func (e *Engine) NextTime() (t Time, ok bool) {
	e.settle()
	if len(e.heap) == 0 {
		return 0, false
	}
	return e.heap[0].t, true
}

// settle removes the already dispatched root, if any.
func (e *Engine) settle() {
	if e.rootFree {
		e.rootFree = false
		e.pop()
	}
}

// Schedule queues ev. Scheduling in the past or for an unregistered handler
// is a twinsim bug and panics.
func (e *Engine) Schedule(ev Event) {
	if ev.Time < e.now {
		panic(fmt.Sprintf("sim: event for handler %d scheduled at %v, before now (%v)", ev.Handler, ev.Time, e.now))
	}
	if int(ev.Handler) >= len(e.handlers) {
		panic(fmt.Sprintf("sim: event for unregistered handler %d", ev.Handler))
	}
	e.seq++
	x := entry{t: ev.Time, seq: e.seq, h: ev.Handler, kind: ev.Kind, arg: ev.Arg}
	if e.rootFree {
		// ev.Time >= now = the handled root's time, so ev may start at the root.
		e.rootFree = false
		e.down(x)
		return
	}
	e.heap = append(e.heap, x)
	e.up(len(e.heap) - 1)
}

// After queues an event for handler h, d after now.
func (e *Engine) After(d Time, h HandlerID, kind uint32, arg uint64) {
	e.Schedule(Event{Time: e.now + d, Handler: h, Kind: kind, Arg: arg})
}

// Stop makes Run or RunUntil return after the event being handled.
func (e *Engine) Stop() { e.stopped = true }

// Run dispatches events in order until the queue is empty or Stop is called.
func (e *Engine) Run() { e.RunUntil(MaxTime) }

// RunUntil dispatches every event at or before limit, in order, unless Stop
// is called first. If it was not stopped the clock then reads limit (or the
// last event's time, for MaxTime), so that RunUntil(t1); RunUntil(t2) runs
// exactly the events of RunUntil(t2).
func (e *Engine) RunUntil(limit Time) {
	e.stopped = false
	e.settle() // in case a handler called RunUntil, or panicked
	for len(e.heap) > 0 && !e.stopped {
		top := &e.heap[0]
		if top.t > limit {
			break
		}
		ev := Event{Time: top.t, Handler: top.h, Kind: top.kind, Arg: top.arg}
		e.now = ev.Time
		e.handled++
		e.rootFree = true
		e.handlers[ev.Handler].Handle(ev)
		e.settle()
	}
	if !e.stopped && limit != MaxTime && limit > e.now {
		e.now = limit
	}
}

// up moves heap[i] towards the root to its place.
func (e *Engine) up(i int) {
	h := e.heap
	x := h[i]
	for i > 0 {
		p := (i - 1) / 4
		if !x.before(&h[p]) {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = x
}

// pop removes the root.
func (e *Engine) pop() {
	n := len(e.heap) - 1
	x := e.heap[n]
	e.heap = e.heap[:n]
	if n > 0 {
		e.down(x)
	}
}

// down puts x at the root, whose old content is discarded, and moves it down
// to its place. The heap must not be empty.
func (e *Engine) down(x entry) {
	h := e.heap
	n := len(h)
	i := 0
	for {
		c := 4*i + 1
		if c+3 < n {
			// Four children: a branch-free tournament for the earliest.
			g := (*[4]entry)(h[c : c+4])
			a := earlier(g, 0, 1)
			b := earlier(g, 2, 3)
			c += earlier(g, a, b)
		} else if c < n {
			best := c
			for j := c + 1; j < n; j++ {
				if h[j].before(&h[best]) {
					best = j
				}
			}
			c = best
		} else {
			break
		}
		if !h[c].before(&x) {
			break
		}
		h[i] = h[c]
		i = c
	}
	h[i] = x
}

// earlier returns whichever of i and j indexes the earlier entry of g,
// without a branch.
func earlier(g *[4]entry, i, j int) int {
	i, j = i&3, j&3 // in range: lets the compiler drop the bounds checks
	_, borrow := bits.Sub64(g[j].seq, g[i].seq, 0)
	_, borrow = bits.Sub64(uint64(g[j].t), uint64(g[i].t), borrow)
	return i ^ ((i ^ j) & -int(borrow))
}

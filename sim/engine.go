package sim

import "fmt"

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
// they run in scheduling order.
type entry struct {
	t    Time
	seq  uint64
	h    HandlerID
	kind uint32
	arg  uint64
}

func (a *entry) before(b *entry) bool {
	return a.t < b.t || (a.t == b.t && a.seq < b.seq)
}

// Engine is the serial discrete-event engine: a 4-ary min-heap of event
// values ordered by (time, scheduling sequence number). Schedule and the
// dispatch loop do not allocate once the queue has grown to its peak size.
type Engine struct {
	heap     []entry
	handlers []Handler
	now      Time
	seq      uint64
	handled  uint64
	stopped  bool
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

// Pending returns the number of events in the queue.
func (e *Engine) Pending() int { return len(e.heap) }

// Handled returns the number of events dispatched so far.
func (e *Engine) Handled() uint64 { return e.handled }

// NextTime returns the time of the earliest pending event; ok is false when
// the queue is empty.
func (e *Engine) NextTime() (t Time, ok bool) {
	if len(e.heap) == 0 {
		return 0, false
	}
	return e.heap[0].t, true
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
	e.heap = append(e.heap, entry{t: ev.Time, seq: e.seq, h: ev.Handler, kind: ev.Kind, arg: ev.Arg})
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
	for len(e.heap) > 0 && !e.stopped {
		top := &e.heap[0]
		if top.t > limit {
			break
		}
		ev := Event{Time: top.t, Handler: top.h, Kind: top.kind, Arg: top.arg}
		e.pop()
		e.now = ev.Time
		e.handled++
		e.handlers[ev.Handler].Handle(ev)
	}
	if !e.stopped && limit != MaxTime && limit > e.now {
		e.now = limit
	}
}

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

func (e *Engine) pop() {
	h := e.heap
	n := len(h) - 1
	x := h[n]
	h = h[:n]
	e.heap = h
	if n == 0 {
		return
	}
	i := 0
	for {
		c := 4*i + 1
		if c >= n {
			break
		}
		best := c
		end := min(c+4, n)
		for j := c + 1; j < end; j++ {
			if h[j].before(&h[best]) {
				best = j
			}
		}
		if !h[best].before(&x) {
			break
		}
		h[i] = h[best]
		i = best
	}
	h[i] = x
}

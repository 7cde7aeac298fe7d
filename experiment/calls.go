package experiment

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/twinsim/twinsim/sim"
)

// calls runs functions at simulated times: the failure and recovery
// machinery's own events, which are few.
type calls struct {
	eng *sim.Engine
	id  sim.HandlerID
	fns map[uint64]func()
	seq uint64
}

func newCalls(eng *sim.Engine) *calls {
	c := &calls{eng: eng, fns: map[uint64]func(){}}
	c.id = eng.Register(c)
	return c
}

// at calls fn at time t (not before now).
func (c *calls) at(t sim.Time, fn func()) {
	c.seq++
	c.fns[c.seq] = fn
	c.eng.Schedule(sim.Event{Time: max(t, c.eng.Now()), Handler: c.id, Arg: c.seq})
}

// Handle implements sim.Handler: a call falls due.
func (c *calls) Handle(ev sim.Event) {
	fn := c.fns[ev.Arg]
	delete(c.fns, ev.Arg)
	fn()
}

// mark is one entry of a run's timeline.
type mark struct {
	at   sim.Time
	what string
}

// timelineCSV writes timelines as one CSV file, in time order.
func timelineCSV(lines ...[]mark) []byte {
	var all []mark
	for _, l := range lines {
		all = append(all, l...)
	}
	slices.SortStableFunc(all, func(a, b mark) int {
		switch {
		case a.at < b.at:
			return -1
		case a.at > b.at:
			return 1
		}
		return 0
	})
	var b bytes.Buffer
	b.WriteString("time_ps,event\n")
	for _, m := range all {
		fmt.Fprintf(&b, "%d,%q\n", uint64(m.at), strings.ReplaceAll(m.what, `"`, `'`))
	}
	return b.Bytes()
}

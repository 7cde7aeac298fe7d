package sim

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Tracer collects Chrome/Perfetto trace events ("Trace Event Format", JSON
// object form) for component activity. A nil *Tracer means tracing is off;
// components check for nil before building any trace data, so tracing costs
// one branch when it is off.
type Tracer struct {
	tracks map[string]int // component name -> thread id
	names  []string       // thread id -> component name
	events []traceEvent
}

type traceEvent struct {
	name, cat string
	ph        byte // 'X' complete, 'i' instant, 'C' counter
	tid       int
	ts, dur   Time
	args      []TraceArg
}

// TraceArg is one key/value shown with a trace event.
type TraceArg struct {
	Key   string
	Value float64
}

// NewTracer returns an empty tracer.
func NewTracer() *Tracer { return &Tracer{tracks: map[string]int{}} }

func (t *Tracer) track(component string) int {
	if id, ok := t.tracks[component]; ok {
		return id
	}
	id := len(t.names) + 1
	t.tracks[component] = id
	t.names = append(t.names, component)
	return id
}

// Span records that component was busy with name (category cat) from start
// for dur.
func (t *Tracer) Span(component, cat, name string, start, dur Time, args ...TraceArg) {
	t.events = append(t.events, traceEvent{name: name, cat: cat, ph: 'X', tid: t.track(component), ts: start, dur: dur, args: args})
}

// Instant records a point event of component at time at.
func (t *Tracer) Instant(component, cat, name string, at Time, args ...TraceArg) {
	t.events = append(t.events, traceEvent{name: name, cat: cat, ph: 'i', tid: t.track(component), ts: at, args: args})
}

// Counter records the values of a counter track of component at time at.
func (t *Tracer) Counter(component, name string, at Time, args ...TraceArg) {
	t.events = append(t.events, traceEvent{name: name, ph: 'C', tid: t.track(component), ts: at, args: args})
}

// Len returns the number of recorded events.
func (t *Tracer) Len() int { return len(t.events) }

// micros formats ps as microseconds with full picosecond precision.
func micros(ps Time) string {
	whole := uint64(ps / Microsecond)
	frac := uint64(ps % Microsecond)
	if frac == 0 {
		return strconv.FormatUint(whole, 10)
	}
	s := fmt.Sprintf("%d.%06d", whole, frac)
	return strings.TrimRight(s, "0")
}

// traceNumber formats v as a JSON number, or null for NaN and infinities,
// which JSON cannot represent.
func traceNumber(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "null"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// WriteJSON writes the trace in Chrome's JSON object format, loadable by
// chrome://tracing and ui.perfetto.dev. Events are sorted by time (stably),
// so output is deterministic.
func (t *Tracer) WriteJSON(w io.Writer) error {
	bw := bufio.NewWriter(w)
	evs := make([]int, len(t.events))
	for i := range evs {
		evs[i] = i
	}
	sort.SliceStable(evs, func(a, b int) bool { return t.events[evs[a]].ts < t.events[evs[b]].ts })
	bw.WriteString(`{"displayTimeUnit":"ns","traceEvents":[` + "\n")
	first := true
	sep := func() {
		if !first {
			bw.WriteString(",\n")
		}
		first = false
	}
	for tid, name := range t.names {
		sep()
		n, _ := json.Marshal(name)
		fmt.Fprintf(bw, `{"ph":"M","pid":1,"tid":%d,"name":"thread_name","args":{"name":%s}}`, tid+1, n)
	}
	for _, i := range evs {
		ev := &t.events[i]
		sep()
		name, _ := json.Marshal(ev.name)
		fmt.Fprintf(bw, `{"ph":"%c","pid":1,"tid":%d,"ts":%s,"name":%s`, ev.ph, ev.tid, micros(ev.ts), name)
		if ev.cat != "" {
			cat, _ := json.Marshal(ev.cat)
			fmt.Fprintf(bw, `,"cat":%s`, cat)
		}
		switch ev.ph {
		case 'X':
			fmt.Fprintf(bw, `,"dur":%s`, micros(ev.dur))
		case 'i':
			bw.WriteString(`,"s":"t"`)
		}
		if len(ev.args) > 0 {
			bw.WriteString(`,"args":{`)
			for k, a := range ev.args {
				if k > 0 {
					bw.WriteByte(',')
				}
				key, _ := json.Marshal(a.Key)
				fmt.Fprintf(bw, `%s:%s`, key, traceNumber(a.Value))
			}
			bw.WriteByte('}')
		}
		bw.WriteByte('}')
	}
	bw.WriteString("\n]}\n")
	return bw.Flush()
}

package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// traceFile is the JSON object form of a Chrome trace, as a reader sees it.
type traceFile struct {
	DisplayTimeUnit string       `json:"displayTimeUnit"`
	TraceEvents     []traceEntry `json:"traceEvents"`
}

type traceEntry struct {
	Ph   string         `json:"ph"`
	Pid  int            `json:"pid"`
	Tid  int            `json:"tid"`
	Ts   *json.Number   `json:"ts"`
	Dur  *json.Number   `json:"dur"`
	Name string         `json:"name"`
	Cat  *string        `json:"cat"`
	S    string         `json:"s"`
	Args map[string]any `json:"args"`
}

func parseTrace(t require.TestingT, data []byte) traceFile {
	var f traceFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	require.NoError(t, dec.Decode(&f), "trace is valid JSON:\n%s", data)
	return f
}

// psOf converts a ts or dur in microseconds back to picoseconds exactly.
func psOf(t require.TestingT, n *json.Number) Time {
	require.NotNil(t, n)
	v, err := ParseTime(n.String() + "us")
	require.NoError(t, err)
	return v
}

func TestTracerWriteJSONExact(t *testing.T) {
	tr := NewTracer()
	tr.Span("cpu0", "exec", "add", 1500, 2000, TraceArg{"ops", 3})
	tr.Instant("cpu1", "irq", "tick", 500)
	tr.Counter("cpu0", "queue", Microsecond, TraceArg{"depth", 3}, TraceArg{"bad", math.NaN()})
	tr.Span("cpu1", "", "idle", 500, 1000)
	require.Equal(t, 4, tr.Len())

	var buf bytes.Buffer
	require.NoError(t, tr.WriteJSON(&buf))
	want := `{"displayTimeUnit":"ns","traceEvents":[
{"ph":"M","pid":1,"tid":1,"name":"thread_name","args":{"name":"cpu0"}},
{"ph":"M","pid":1,"tid":2,"name":"thread_name","args":{"name":"cpu1"}},
{"ph":"i","pid":1,"tid":2,"ts":0.0005,"name":"tick","cat":"irq","s":"t"},
{"ph":"X","pid":1,"tid":2,"ts":0.0005,"name":"idle","dur":0.001},
{"ph":"X","pid":1,"tid":1,"ts":0.0015,"name":"add","cat":"exec","dur":0.002,"args":{"ops":3}},
{"ph":"C","pid":1,"tid":1,"ts":1,"name":"queue","args":{"depth":3,"bad":null}}
]}
`
	require.Equal(t, want, buf.String())

	f := parseTrace(t, buf.Bytes())
	require.Equal(t, "ns", f.DisplayTimeUnit)
	require.Len(t, f.TraceEvents, 6)
	ev := f.TraceEvents[5]
	require.Equal(t, "C", ev.Ph)
	require.Nil(t, ev.Args["bad"], "NaN is written as null")
	require.Equal(t, json.Number("3"), ev.Args["depth"])
	require.Nil(t, ev.Cat, "counters have no category")
	require.Nil(t, f.TraceEvents[3].Cat, "an empty category is left out")
}

func TestTracerWriteJSONEvents(t *testing.T) {
	tr := NewTracer()
	tr.Counter("mem", "bw", 3*Microsecond+7, TraceArg{"rd", 1.5}, TraceArg{"wr", math.Inf(1)}, TraceArg{"x", math.Inf(-1)})
	tr.Span("host0.core1", "cache", "miss", 2*Microsecond, 1, TraceArg{"addr", 4096})
	tr.Instant("host0.core0", "irq", "timer", 0)
	tr.Span("host0.core1", "cache", "hit", 2*Microsecond, 0)
	tr.Instant(`we"ird\name`, "c<at>", "n&me", 1)
	tr.Span("mem", "dram", "refresh", MaxTime-5, 5)

	var buf bytes.Buffer
	require.NoError(t, tr.WriteJSON(&buf))
	f := parseTrace(t, buf.Bytes())

	// Thread names first, in order of first use, with tids from 1.
	wantThreads := []string{"mem", "host0.core1", "host0.core0", `we"ird\name`}
	for i, name := range wantThreads {
		ev := f.TraceEvents[i]
		require.Equal(t, "M", ev.Ph)
		require.Equal(t, "thread_name", ev.Name)
		require.Equal(t, 1, ev.Pid)
		require.Equal(t, i+1, ev.Tid)
		require.Equal(t, name, ev.Args["name"])
		require.Nil(t, ev.Ts)
	}

	type want struct {
		ph, name, cat string
		tid           int
		ts            Time
		dur           Time // for spans
		args          map[string]any
	}
	wants := []want{
		{"i", "timer", "irq", 3, 0, 0, nil},
		{"i", "n&me", "c<at>", 4, 1, 0, nil},
		{"X", "miss", "cache", 2, 2 * Microsecond, 1, map[string]any{"addr": json.Number("4096")}},
		{"X", "hit", "cache", 2, 2 * Microsecond, 0, nil},
		{"C", "bw", "", 1, 3*Microsecond + 7, 0, map[string]any{"rd": json.Number("1.5"), "wr": nil, "x": nil}},
		{"X", "refresh", "dram", 1, MaxTime - 5, 5, nil},
	}
	evs := f.TraceEvents[len(wantThreads):]
	require.Len(t, evs, len(wants))
	for i, w := range wants {
		ev := evs[i]
		require.Equal(t, w.ph, ev.Ph, "event %d", i)
		require.Equal(t, w.name, ev.Name, "event %d", i)
		require.Equal(t, 1, ev.Pid)
		require.Equal(t, w.tid, ev.Tid, "event %d", i)
		require.Equal(t, w.ts, psOf(t, ev.Ts), "event %d", i)
		if w.cat == "" {
			require.Nil(t, ev.Cat)
		} else {
			require.NotNil(t, ev.Cat)
			require.Equal(t, w.cat, *ev.Cat)
		}
		switch w.ph {
		case "X":
			require.Equal(t, w.dur, psOf(t, ev.Dur), "event %d", i)
			require.Empty(t, ev.S)
		case "i":
			require.Nil(t, ev.Dur)
			require.Equal(t, "t", ev.S, "instant events are thread-scoped")
		default:
			require.Nil(t, ev.Dur)
			require.Empty(t, ev.S)
		}
		require.Equal(t, w.args, ev.Args, "event %d", i)
	}
	require.Contains(t, buf.String(), `"ts":18446744073709.55161,"name":"refresh"`)
}

func TestTracerEmpty(t *testing.T) {
	tr := NewTracer()
	require.Zero(t, tr.Len())
	var buf bytes.Buffer
	require.NoError(t, tr.WriteJSON(&buf))
	f := parseTrace(t, buf.Bytes())
	require.Equal(t, "ns", f.DisplayTimeUnit)
	require.Empty(t, f.TraceEvents)
}

func TestTracerWriteError(t *testing.T) {
	tr := NewTracer()
	tr.Instant("a", "b", "c", 1)
	require.ErrorIs(t, tr.WriteJSON(failWriter{}), errWrite)
}

func TestMicros(t *testing.T) {
	tests := []struct {
		ps   Time
		want string
	}{
		{0, "0"},
		{1, "0.000001"},
		{10, "0.00001"},
		{1500, "0.0015"},
		{999_999, "0.999999"},
		{Microsecond, "1"},
		{Microsecond + 1, "1.000001"},
		{1_500_000, "1.5"},
		{1_234_567_890, "1234.56789"},
		{Second, "1000000"},
		{MaxTime, "18446744073709.551615"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			require.Equal(t, tc.want, micros(tc.ps))
			back, err := ParseTime(tc.want + "us")
			require.NoError(t, err)
			require.Equal(t, tc.ps, back, "exact to the picosecond")
		})
	}
}

func TestMicrosProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ps := Time(rapid.Uint64().Draw(t, "ps"))
		s := micros(ps)
		back, err := ParseTime(s + "us")
		require.NoError(t, err)
		require.Equal(t, ps, back)
		require.False(t, strings.HasSuffix(s, "0") && strings.Contains(s, "."), "no trailing zeros: %s", s)
		require.False(t, strings.HasSuffix(s, "."), s)
	})
}

func TestTraceNumber(t *testing.T) {
	tests := []struct {
		v    float64
		want string
	}{
		{0, "0"},
		{3, "3"},
		{-2.5, "-2.5"},
		{0.1, "0.1"},
		{1e21, "1e+21"},
		{1e-7, "1e-07"},
		{math.MaxFloat64, "1.7976931348623157e+308"},
		{math.NaN(), "null"},
		{math.Inf(1), "null"},
		{math.Inf(-1), "null"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			got := traceNumber(tc.v)
			require.Equal(t, tc.want, got)
			var v any
			require.NoError(t, json.Unmarshal([]byte(got), &v), "valid JSON")
		})
	}
}

// TestTracerSortedProperty records random events out of order: the output
// is sorted by ts, equal times keep recording order, and nothing is lost.
func TestTracerSortedProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		tr := NewTracer()
		n := rapid.IntRange(0, 60).Draw(t, "n")
		type rec struct {
			ts   Time
			comp string
		}
		var recs []rec
		comps := map[string]bool{}
		for i := range n {
			ts := Time(rapid.SampledFrom([]uint64{0, 1, 999, 1000, 1500, 1_000_000, 1_000_001}).Draw(t, "ts"))
			comp := rapid.SampledFrom([]string{"a", "b", "c.d"}).Draw(t, "comp")
			comps[comp] = true
			name := fmt.Sprintf("e%d", i)
			arg := TraceArg{"i", float64(i)}
			switch rapid.IntRange(0, 2).Draw(t, "kind") {
			case 0:
				tr.Span(comp, "cat", name, ts, Time(i), arg)
			case 1:
				tr.Instant(comp, "cat", name, ts, arg)
			default:
				tr.Counter(comp, name, ts, arg)
			}
			recs = append(recs, rec{ts, comp})
		}
		require.Equal(t, n, tr.Len())
		var buf bytes.Buffer
		require.NoError(t, tr.WriteJSON(&buf))
		f := parseTrace(t, buf.Bytes())
		require.Len(t, f.TraceEvents, len(comps)+n)
		tids := map[int]string{}
		for _, ev := range f.TraceEvents[:len(comps)] {
			require.Equal(t, "M", ev.Ph)
			tids[ev.Tid] = ev.Args["name"].(string)
		}
		prevTs, prevIdx := Time(0), -1
		for _, ev := range f.TraceEvents[len(comps):] {
			var idx int
			_, err := fmt.Sscanf(ev.Name, "e%d", &idx)
			require.NoError(t, err)
			require.Equal(t, json.Number(fmt.Sprint(idx)), ev.Args["i"])
			ts := psOf(t, ev.Ts)
			require.Equal(t, recs[idx].ts, ts)
			require.Equal(t, recs[idx].comp, tids[ev.Tid])
			require.GreaterOrEqual(t, ts, prevTs, "sorted by ts")
			if ts == prevTs {
				require.Greater(t, idx, prevIdx, "equal times keep recording order")
			}
			prevTs, prevIdx = ts, idx
		}
	})
}

package sim

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// exampleStat is one statistic of exampleStats, registered by reg.
type exampleStat struct {
	key string
	reg func(s *Stats)
}

// exampleStats returns the statistics used by the export tests, each as a
// function registering it (with its value), so they can be registered in any
// order.
func exampleStats() []exampleStat {
	return []exampleStat{
		{"events", func(s *Stats) { s.Counter("", "events", "all events").Add(3) }},
		{"misses", func(s *Stats) { s.Counter("host0.core1.l2", "misses", "").Add(5) }},
		{"hits", func(s *Stats) { s.Counter("host0.core1.l2", "hits", "").Add(1<<60 + 1) }},
		{"ipc", func(s *Stats) { s.Value("host0.core1", "ipc", "", func() float64 { return 1.5 }) }},
		{"resets", func(s *Stats) { s.Counter("host0", "resets", "") }},
		{"inf", func(s *Stats) { s.Value("host0", "inf", "", func() float64 { return math.Inf(1) }) }},
		{"lat", func(s *Stats) {
			h := s.Histogram("host0.link", "lat", "ps", "")
			for _, v := range []uint64{30, 10, 20} {
				h.Record(v)
			}
		}},
		{"ratio", func(s *Stats) { s.Value("host0.link", "ratio", "", func() float64 { return math.NaN() }) }},
		{"load", func(s *Stats) { s.Series("host0", "load", "", "x").Append(5, 1) }},
	}
}

func buildExample(order []int) *Stats {
	s := NewStats()
	ex := exampleStats()
	for _, i := range order {
		ex[i].reg(s)
	}
	return s
}

func identity(n int) []int {
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	return order
}

const exampleJSON = `{
  "events": 3,
  "host0": {
    "core1": {
      "ipc": 1.5,
      "l2": {
        "hits": 1152921504606846977,
        "misses": 5
      }
    },
    "inf": null,
    "link": {
      "lat": {
        "count": 3,
        "max": 30,
        "mean": 20,
        "min": 10,
        "p50": 20,
        "p90": 30,
        "p99": 30,
        "p999": 30,
        "sum": 60,
        "unit": "ps"
      },
      "ratio": null
    },
    "resets": 0
  }
}
`

const exampleCSV = `path,name,value
,events,3
host0,inf,+Inf
host0,resets,0
host0.core1,ipc,1.5
host0.core1.l2,hits,1152921504606846977
host0.core1.l2,misses,5
host0.link,lat.count,3
host0.link,lat.max,30
host0.link,lat.mean,20
host0.link,lat.min,10
host0.link,lat.p50,20
host0.link,lat.p90,30
host0.link,lat.p99,30
host0.link,lat.p999,30
host0.link,lat.sum,60
host0.link,ratio,NaN
`

func TestWriteJSONExample(t *testing.T) {
	s := buildExample(identity(len(exampleStats())))
	var buf bytes.Buffer
	require.NoError(t, s.WriteJSON(&buf))
	require.Equal(t, exampleJSON, buf.String())

	// It is valid JSON with the integers exact.
	dec := json.NewDecoder(bytes.NewReader(buf.Bytes()))
	dec.UseNumber()
	var tree map[string]any
	require.NoError(t, dec.Decode(&tree))
	l2 := tree["host0"].(map[string]any)["core1"].(map[string]any)["l2"].(map[string]any)
	require.Equal(t, json.Number("1152921504606846977"), l2["hits"])
	require.Nil(t, tree["host0"].(map[string]any)["inf"])
	_, hasLoad := tree["host0"].(map[string]any)["load"]
	require.False(t, hasLoad, "series are not in stats.json")
}

func TestWriteCSVExample(t *testing.T) {
	s := buildExample(identity(len(exampleStats())))
	var buf bytes.Buffer
	require.NoError(t, s.WriteCSV(&buf))
	require.Equal(t, exampleCSV, buf.String())
}

// TestExportIndependentOfRegistrationOrder builds the same registry in many
// orders: both exports must be byte-identical.
func TestExportIndependentOfRegistrationOrder(t *testing.T) {
	n := len(exampleStats())
	orders := [][]int{identity(n)}
	rev := identity(n)
	slices.Reverse(rev)
	orders = append(orders, rev)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		o := identity(n)
		rng.Shuffle(n, func(i, j int) { o[i], o[j] = o[j], o[i] })
		orders = append(orders, o)
	}
	for _, o := range orders {
		s := buildExample(o)
		var j, c bytes.Buffer
		require.NoError(t, s.WriteJSON(&j))
		require.NoError(t, s.WriteCSV(&c))
		require.Equal(t, exampleJSON, j.String(), "order %v", o)
		require.Equal(t, exampleCSV, c.String(), "order %v", o)
	}

	// A larger registry with many components and names that sort closely.
	build := func(seed uint64) (string, string) {
		type reg struct{ path, name string }
		var regs []reg
		for _, p := range []string{"", "a", "a.b", "a-b", "a.b.c", "ab", "b", "a.a"} {
			for _, nm := range []string{"x", "x-y", "x_y", "xa", "y", "A", "z9"} {
				regs = append(regs, reg{p, nm})
			}
		}
		rng := rand.New(rand.NewPCG(seed, 0))
		rng.Shuffle(len(regs), func(i, j int) { regs[i], regs[j] = regs[j], regs[i] })
		s := NewStats()
		for _, r := range regs {
			v := uint64(len(r.path)*100 + len(r.name))
			switch len(r.name) % 3 {
			case 0:
				s.Counter(r.path, r.name, "").Add(v)
			case 1:
				h := s.Histogram(r.path, r.name, "B", "")
				h.Record(v)
				h.Record(v * 1000)
			default:
				s.Value(r.path, r.name, "", func() float64 { return float64(v) / 7 })
			}
		}
		var j, c bytes.Buffer
		require.NoError(t, s.WriteJSON(&j))
		require.NoError(t, s.WriteCSV(&c))
		return j.String(), c.String()
	}
	j0, c0 := build(0)
	for seed := uint64(1); seed < 10; seed++ {
		j, c := build(seed)
		require.Equal(t, j0, j)
		require.Equal(t, c0, c)
	}
	var parsed map[string]any
	require.NoError(t, json.Unmarshal([]byte(j0), &parsed))
	require.Len(t, parsed, 7+4, "7 root statistics and the components a, a-b, ab and b")
	require.Len(t, parsed["a"], 7+2, "7 statistics and the components a.a and a.b")
}

func TestWriteJSONNumbers(t *testing.T) {
	tests := []struct {
		name string
		reg  func(s *Stats)
		want string // a line of the output
	}{
		{"counter 2^60+1", func(s *Stats) { s.Counter("c", "n", "").Add(1<<60 + 1) }, `"n": 1152921504606846977`},
		{"counter max", func(s *Stats) { s.Counter("c", "n", "").Add(math.MaxUint64) }, `"n": 18446744073709551615`},
		{"counter zero", func(s *Stats) { s.Counter("c", "n", "") }, `"n": 0`},
		{"value NaN", func(s *Stats) { s.Value("c", "n", "", func() float64 { return math.NaN() }) }, `"n": null`},
		{"value +Inf", func(s *Stats) { s.Value("c", "n", "", func() float64 { return math.Inf(1) }) }, `"n": null`},
		{"value -Inf", func(s *Stats) { s.Value("c", "n", "", func() float64 { return math.Inf(-1) }) }, `"n": null`},
		{"value fraction", func(s *Stats) { s.Value("c", "n", "", func() float64 { return 0.1 }) }, `"n": 0.1`},
		{"value negative", func(s *Stats) { s.Value("c", "n", "", func() float64 { return -2.5 }) }, `"n": -2.5`},
		{"value huge", func(s *Stats) { s.Value("c", "n", "", func() float64 { return 1e300 }) }, `"n": 1e+300`},
		{"histogram min exact", func(s *Stats) { s.Histogram("c", "n", "ps", "").Record(1<<60 + 1) }, `"min": 1152921504606846977`},
		{"histogram max exact", func(s *Stats) { s.Histogram("c", "n", "ps", "").Record(math.MaxUint64) }, `"max": 18446744073709551615`},
		{"histogram sum exact", func(s *Stats) {
			h := s.Histogram("c", "n", "ps", "")
			h.Record(1<<62 + 1)
			h.Record(1<<62 + 2)
		}, `"sum": 9223372036854775811`},
		{"histogram sum beyond 2^64 is a float", func(s *Stats) {
			h := s.Histogram("c", "n", "ps", "")
			h.Record(math.MaxUint64)
			h.Record(math.MaxUint64)
		}, `"sum": 36893488147419103000`},
		{"histogram empty", func(s *Stats) { s.Histogram("c", "n", "ps", "") }, `"p999": 0`},
		{"histogram unit not escaped", func(s *Stats) { s.Histogram("c", "n", "<ps>&", "") }, `"unit": "<ps>&"`},
		{"histogram unit quoted", func(s *Stats) { s.Histogram("c", "n", `a"b`, "") }, `"unit": "a\"b"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewStats()
			tc.reg(s)
			var buf bytes.Buffer
			require.NoError(t, s.WriteJSON(&buf))
			lines := strings.Split(buf.String(), "\n")
			found := false
			for _, l := range lines {
				if strings.TrimSuffix(strings.TrimSpace(l), ",") == tc.want {
					found = true
				}
			}
			require.True(t, found, "want line %s in\n%s", tc.want, buf.String())
			var v any
			require.NoError(t, json.Unmarshal(buf.Bytes(), &v), "valid JSON")
		})
	}
}

func TestWriteJSONEmpty(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, NewStats().WriteJSON(&buf))
	require.Equal(t, "{}\n", buf.String())

	// Only series: still an empty object.
	s := NewStats()
	s.Series("a", "b", "", "x")
	buf.Reset()
	require.NoError(t, s.WriteJSON(&buf))
	require.Equal(t, "{}\n", buf.String())
	buf.Reset()
	require.NoError(t, s.WriteCSV(&buf))
	require.Equal(t, "path,name,value\n", buf.String())
}

func TestWriteJSONErrors(t *testing.T) {
	tests := []struct {
		name    string
		reg     func(s *Stats)
		wantErr []string
	}{
		{
			"statistic collides with child component",
			func(s *Stats) {
				s.Counter("a", "b", "")
				s.Counter("a.b", "c", "")
			},
			[]string{`statistic "b" of component "a"`, `component "a.b"`, `statistic "a.b.c"`},
		},
		{
			"collision found whatever the registration order",
			func(s *Stats) {
				s.Histogram("x.y.z", "deep", "ps", "")
				s.Value("x", "y", "", func() float64 { return 1 })
			},
			[]string{`statistic "y" of component "x"`, `component "x.y"`, `statistic "x.y.z.deep"`},
		},
		{
			"root statistic collides with top-level component",
			func(s *Stats) {
				s.Counter("host0", "n", "")
				s.Counter("", "host0", "")
			},
			[]string{`statistic "host0" of component ""`, `component "host0"`},
		},
		{"empty path element in the middle", func(s *Stats) { s.Counter("a..b", "n", "") }, []string{`component path "a..b"`, `statistic "n"`, "empty element"}},
		{"leading dot", func(s *Stats) { s.Counter(".a", "n", "") }, []string{`".a"`, "empty element"}},
		{"trailing dot", func(s *Stats) { s.Counter("a.", "n", "") }, []string{`"a."`, "empty element"}},
		{"lone dot", func(s *Stats) { s.Counter(".", "n", "") }, []string{`"."`, "empty element"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := NewStats()
			s.Counter("ok", "fine", "")
			tc.reg(s)
			var buf bytes.Buffer
			err := s.WriteJSON(&buf)
			require.Error(t, err)
			for _, w := range tc.wantErr {
				require.Contains(t, err.Error(), w)
			}
			require.Zero(t, buf.Len(), "nothing is written on error")
		})
	}

	// A series may share a component's name: it is not in stats.json.
	s := NewStats()
	s.Series("a", "b", "", "x")
	s.Counter("a.b", "c", "")
	require.NoError(t, s.WriteJSON(&bytes.Buffer{}))
}

// failWriter fails every write.
type failWriter struct{}

var errWrite = errors.New("disk full")

func (failWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestExportWriteErrors(t *testing.T) {
	s := buildExample(identity(len(exampleStats())))
	require.ErrorIs(t, s.WriteJSON(failWriter{}), errWrite)
	require.ErrorIs(t, s.WriteCSV(failWriter{}), errWrite)
	ts := s.SeriesList()[0].Series
	require.ErrorIs(t, ts.WriteCSV(failWriter{}), errWrite)
	require.ErrorIs(t, NewStats().WriteCSV(failWriter{}), errWrite, "even the header alone")
}

func TestWriteCSVRows(t *testing.T) {
	s := NewStats()
	s.Counter("p", "ab", "").Add(1)
	s.Counter("p", "a-b", "").Add(2)
	h := s.Histogram("p", "a", "ps", "")
	h.Record(1<<60 + 1)
	s.Value("p", "a_b", "", func() float64 { return 0.1 })
	s.Value("p", "neg", "", func() float64 { return math.Inf(-1) })
	s.Value("p", "tiny", "", func() float64 { return 1e-7 })
	s.Value("p", "big", "", func() float64 { return 1e21 })
	s.Counter("p,q", "n", "").Add(4)
	s.Counter("p.q", "n", "").Add(5)
	s.Series("p", "zz", "", "x").Append(1, 2)

	var buf bytes.Buffer
	require.NoError(t, s.WriteCSV(&buf))
	recs, err := csv.NewReader(&buf).ReadAll()
	require.NoError(t, err)
	want := [][]string{
		{"path", "name", "value"},
		{"p", "a-b", "2"},
		{"p", "a.count", "1"},
		{"p", "a.max", "1152921504606846977"},
		{"p", "a.mean", "1.152921504606847e+18"},
		{"p", "a.min", "1152921504606846977"},
		{"p", "a.p50", "1.152921504606847e+18"},
		{"p", "a.p90", "1.152921504606847e+18"},
		{"p", "a.p99", "1.152921504606847e+18"},
		{"p", "a.p999", "1.152921504606847e+18"},
		{"p", "a.sum", "1152921504606846977"},
		{"p", "a_b", "0.1"},
		{"p", "ab", "1"},
		{"p", "big", "1e+21"},
		{"p", "neg", "-Inf"},
		{"p", "tiny", "1e-07"},
		{"p,q", "n", "4"},
		{"p.q", "n", "5"},
	}
	require.Equal(t, want, recs)
	require.True(t, slices.IsSortedFunc(recs[1:], func(a, b []string) int {
		if c := strings.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return strings.Compare(a[1], b[1])
	}))
}

func TestWriteCSVQuoting(t *testing.T) {
	s := NewStats()
	s.Counter(`a,"b`, "n", "").Inc()
	var buf bytes.Buffer
	require.NoError(t, s.WriteCSV(&buf))
	require.Equal(t, "path,name,value\n\"a,\"\"b\",n,1\n", buf.String())
}

func TestSeriesWriteCSV(t *testing.T) {
	tests := []struct {
		name string
		cols []string
		rows [][]float64 // first value is the time
		want string
	}{
		{"empty", []string{"x", "y"}, nil, "time_ps,x,y\n"},
		{"no columns", nil, [][]float64{{5}, {7}}, "time_ps\n5\n7\n"},
		{
			"values",
			[]string{"x", "y,z"},
			[][]float64{{0, 1, 0.5}, {1500, math.NaN(), 1e21}, {3, -0.25, 1e-7}, {2, math.Inf(1), 1 << 60}},
			"time_ps,x,\"y,z\"\n0,1,0.5\n1500,NaN,1e+21\n3,-0.25,1e-07\n2,+Inf,1.152921504606847e+18\n",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := NewStats().Series("s", "n", "", tc.cols...)
			for _, r := range tc.rows {
				ts.Append(Time(r[0]), r[1:]...)
			}
			var buf bytes.Buffer
			require.NoError(t, ts.WriteCSV(&buf))
			require.Equal(t, tc.want, buf.String())
		})
	}

	ts := NewStats().Series("s", "n", "", "v")
	ts.Append(MaxTime, 1)
	var buf bytes.Buffer
	require.NoError(t, ts.WriteCSV(&buf))
	require.Equal(t, "time_ps,v\n18446744073709551615,1\n", buf.String(), "times are exact integers")
}

func TestSeriesList(t *testing.T) {
	s := NewStats()
	b := s.Series("b", "x", "", "c")
	a2 := s.Series("a", "z", "", "c")
	a1 := s.Series("a", "y", "", "c")
	s.Counter("a", "a", "")
	s.Histogram("a", "h", "ps", "")
	root := s.Series("", "r", "")
	got := s.SeriesList()
	require.Equal(t, []NamedSeries{
		{Path: "", Name: "r", Series: root},
		{Path: "a", Name: "y", Series: a1},
		{Path: "a", Name: "z", Series: a2},
		{Path: "b", Name: "x", Series: b},
	}, got)
	for i, ns := range got {
		require.Same(t, []*Series{root, a1, a2, b}[i], ns.Series)
	}
	require.Empty(t, NewStats().SeriesList())
}

func TestStatNumForms(t *testing.T) {
	tests := []struct {
		num      statNum
		wantJSON any
		wantText string
	}{
		{intNum(0), json.Number("0"), "0"},
		{intNum(math.MaxUint64), json.Number("18446744073709551615"), "18446744073709551615"},
		{floatNum(0.5), 0.5, "0.5"},
		{floatNum(math.NaN()), nil, "NaN"},
		{floatNum(math.Inf(1)), nil, "+Inf"},
		{floatNum(math.Inf(-1)), nil, "-Inf"},
		{floatNum(123456789012345680000), 123456789012345680000.0, "1.2345678901234568e+20"},
	}
	for _, tc := range tests {
		t.Run(tc.wantText, func(t *testing.T) {
			require.Equal(t, tc.wantJSON, tc.num.json())
			require.Equal(t, tc.wantText, tc.num.text())
		})
	}
	require.Equal(t, float64(1<<60), intNum(1<<60+1).float())
	require.Equal(t, 2.5, floatNum(2.5).float())
}

func ExampleStats_WriteJSON() {
	s := NewStats()
	s.Counter("host0.nic", "packets", "packets received").Add(3)
	s.Value("host0", "ipc", "instructions per cycle", func() float64 { return 1.25 })
	var buf bytes.Buffer
	if err := s.WriteJSON(&buf); err != nil {
		panic(err)
	}
	fmt.Print(buf.String())
	// Output:
	// {
	//   "host0": {
	//     "ipc": 1.25,
	//     "nic": {
	//       "packets": 3
	//     }
	//   }
	// }
}

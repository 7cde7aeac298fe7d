package experiment

import (
	"encoding/csv"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/twinsim/twinsim/configs"
	"github.com/twinsim/twinsim/sim"
)

// parseTestSweep parses a sweep file's text with dir as its directory.
func parseTestSweep(t *testing.T, body string) (*Sweep, error) {
	t.Helper()
	return ParseSweep([]byte(body), "test.toml", t.TempDir(), false)
}

func mustSweep(t *testing.T, body string) *Sweep {
	t.Helper()
	s, err := parseTestSweep(t, body)
	require.NoError(t, err)
	return s
}

func axisKeys(s *Sweep) []string {
	var out []string
	for _, ax := range s.Axes {
		out = append(out, ax.Key)
	}
	return out
}

func TestParseSweep(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		check func(t *testing.T, s *Sweep)
	}{
		{"axes in file order with list values", `
[sweep]
name = "order"
set = ["host.cores=4"]
[axes]
"vm[0].workload.write_fraction" = [0.5, 0.1]
"backup.interval" = ["1ms", "250us"]
"vm[1].workload.pattern" = ["strided", "uniform"]
"vm[0].cores" = [[0], [0, 2]]
"vm[1].workload" = [{gap_cycles = 4}, {gap_cycles = 8, stride = "8KiB"}]
`, func(t *testing.T, s *Sweep) {
			require.Equal(t, []string{"vm[0].workload.write_fraction", "backup.interval", "vm[1].workload.pattern", "vm[0].cores", "vm[1].workload"}, axisKeys(s))
			require.Equal(t, []string{"0.5", "0.1"}, s.Axes[0].Values)
			require.Equal(t, []string{`"1ms"`, `"250us"`}, s.Axes[1].Values)
			require.Equal(t, []string{"1ms", "250us"}, s.Axes[1].Labels)
			require.Equal(t, []string{"strided", "uniform"}, s.Axes[2].Labels)
			require.Equal(t, []string{"[0]", "[0, 2]"}, s.Axes[3].Labels)
			require.Equal(t, []string{`{gap_cycles = 4}`, `{gap_cycles = 8, stride = "8KiB"}`}, s.Axes[4].Labels)
			last := s.Points()[len(s.Points())-1]
			require.Equal(t, []int{0, 2}, last.Config.VMs[0].Cores)
			require.Equal(t, uint64(8), last.Config.VMs[1].Workload.GapCycles)
			require.Equal(t, configs.Pattern("uniform"), last.Config.VMs[1].Workload.Pattern, "a table value sets only its keys")
			require.Equal(t, []uint64{1}, s.Seeds)
			require.Equal(t, DefaultMetrics, s.Metrics)
			require.Equal(t, "order", s.Name)
		}},
		{"ranges: linear step, count and log, with units", `
[sweep]
name = "ranges"
[axes]
"vm[0].workload.write_fraction" = { start = 0.1, stop = 0.5, step = 0.2 }
"cache.l2.size" = { start = "64KiB", stop = "1MiB", count = 5, log = true }
"backup.interval" = { start = "250us", stop = "1ms", count = 4 }
"cache.l2.ways" = { start = 2, stop = 8, count = 3, log = true }
`, func(t *testing.T, s *Sweep) {
			require.Equal(t, []string{"vm[0].workload.write_fraction", "cache.l2.size", "backup.interval", "cache.l2.ways"}, axisKeys(s))
			require.Equal(t, []string{"0.1", "0.3", "0.5"}, s.Axes[0].Labels)
			require.Equal(t, []string{"64KiB", "128KiB", "256KiB", "512KiB", "1MiB"}, s.Axes[1].Labels)
			require.Equal(t, []string{`"64KiB"`, `"128KiB"`, `"256KiB"`, `"512KiB"`, `"1MiB"`}, s.Axes[1].Values)
			require.Equal(t, []string{"250us", "500us", "750us", "1ms"}, s.Axes[2].Labels)
			require.Equal(t, []string{"2", "4", "8"}, s.Axes[3].Labels)
			require.Len(t, s.Points(), 3*5*4*3)
		}},
		{"range as a table", `
[sweep]
name = "table"
[axes."backup.interval"]
start = "1ms"
stop = "3ms"
step = "1ms"
`, func(t *testing.T, s *Sweep) {
			require.Equal(t, []string{"1ms", "2ms", "3ms"}, s.Axes[0].Labels)
		}},
		{"seeds as a count", `
[sweep]
name = "seeds"
seeds = 3
[axes]
"cache.l2.ways" = [4]
`, func(t *testing.T, s *Sweep) {
			require.Equal(t, []uint64{1, 2, 3}, s.Seeds)
			require.Len(t, s.Points(), 3)
		}},
		{"seeds as a list", `
[sweep]
name = "seeds"
seeds = [7, 42, 0]
[axes]
"cache.l2.ways" = [4]
`, func(t *testing.T, s *Sweep) {
			require.Equal(t, []uint64{7, 42, 0}, s.Seeds)
			var got []uint64
			for _, p := range s.Points() {
				got = append(got, p.Config.Run.Seed)
			}
			require.Equal(t, []uint64{7, 42, 0}, got)
		}},
		{"set and metrics", `
[sweep]
name = "set"
set = ["run.duration=3ms", "vm[0].workload.pattern=strided"]
metrics = ["host0.backup.checkpoints", "host0.backup.pause.p99", "host0.core0.vcpu.ops"]
[axes]
"cache.l2.ways" = [4]
`, func(t *testing.T, s *Sweep) {
			require.Equal(t, []string{"host0.backup.checkpoints", "host0.backup.pause.p99", "host0.core0.vcpu.ops"}, s.Metrics)
			p := s.Points()[0]
			require.Equal(t, configs.Duration(3*sim.Millisecond), p.Config.Run.Duration)
			require.Equal(t, configs.Pattern("strided"), p.Config.VMs[0].Workload.Pattern)
			require.Equal(t, 4, p.Config.Cache.L2.Ways)
			require.Equal(t, []string{"run.duration=3ms", "vm[0].workload.pattern=strided", "cache.l2.ways=4", "run.seed=1"}, p.Sets)
		}},
		{"inline scenario", `
[sweep]
name = "inline"
[scenario.run]
name = "inline-base"
duration = "2ms"
[scenario.cache.l2]
ways = 4
[[scenario.vm]]
name = "only"
cores = [1]
[scenario.vm.workload]
pattern = "sequential"
[axes]
"backup.interval" = ["500us", "1ms"]
`, func(t *testing.T, s *Sweep) {
			for _, p := range s.Points() {
				require.NoError(t, p.Err)
				require.Equal(t, "inline-base", p.Config.Run.Name)
				require.Equal(t, 4, p.Config.Cache.L2.Ways)
				require.Len(t, p.Config.VMs, 1)
				require.Equal(t, "only", p.Config.VMs[0].Name)
				require.Equal(t, []int{1}, p.Config.VMs[0].Cores)
				require.Equal(t, configs.Pattern("sequential"), p.Config.VMs[0].Workload.Pattern)
				require.True(t, strings.HasPrefix(p.Name, "inline-base-s1-"), p.Name)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.check(t, mustSweep(t, tc.body))
		})
	}
}

func TestSweepQuickVariant(t *testing.T) {
	body := `
[sweep]
name = "quick"
seeds = 2
set = ["run.duration=3ms"]
[sweep.quick]
seeds = [9]
set = ["run.duration=1ms"]
[axes]
"cache.l2.ways" = [4, 8]
`
	full, err := ParseSweep([]byte(body), "q.toml", "", false)
	require.NoError(t, err)
	quick, err := ParseSweep([]byte(body), "q.toml", "", true)
	require.NoError(t, err)
	require.False(t, full.Quick())
	require.True(t, quick.Quick())
	require.Equal(t, []uint64{1, 2}, full.Seeds)
	require.Equal(t, []uint64{9}, quick.Seeds)
	require.Len(t, full.Points(), 4)
	require.Len(t, quick.Points(), 2)
	require.Equal(t, configs.Duration(3*sim.Millisecond), full.Points()[0].Config.Run.Duration)
	require.Equal(t, configs.Duration(1*sim.Millisecond), quick.Points()[0].Config.Run.Duration)
	require.NotEqual(t, full.ID(), quick.ID(), "resuming must not mix the variants")

	// Without [sweep.quick], --quick runs the full points but is still
	// another sweep.
	plain := strings.Replace(body, "[sweep.quick]\nseeds = [9]\nset = [\"run.duration=1ms\"]\n", "", 1)
	pf, err := ParseSweep([]byte(plain), "q.toml", "", false)
	require.NoError(t, err)
	pq, err := ParseSweep([]byte(plain), "q.toml", "", true)
	require.NoError(t, err)
	require.Equal(t, pf.Seeds, pq.Seeds)
	require.Equal(t, pf.Points()[0].Name, pq.Points()[0].Name)
	require.NotEqual(t, pf.ID(), pq.ID())
}

func TestLoadSweepBaseBesideTheFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sub")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "base.toml"), []byte("[run]\nname = \"relbase\"\nduration = \"2ms\"\n"), 0o644))
	path := filepath.Join(dir, "sweep.toml")
	require.NoError(t, os.WriteFile(path, []byte(`
[sweep]
name = "rel"
base = "base.toml"
[axes]
"cache.l2.ways" = [4, 8]
`), 0o644))
	s, err := LoadSweep(path, false, nil)
	require.NoError(t, err)
	for _, p := range s.Points() {
		require.Equal(t, "relbase", p.Config.Run.Name)
		require.Equal(t, configs.Duration(2*sim.Millisecond), p.Config.Run.Duration)
	}
	id := s.ID()

	// The base's text is part of the sweep's identity.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "base.toml"), []byte("[run]\nname = \"relbase\"\nduration = \"3ms\"\n"), 0o644))
	s2, err := LoadSweep(path, false, nil)
	require.NoError(t, err)
	require.NotEqual(t, id, s2.ID())

	// --set overrides apply after the file's and change the identity too.
	s3, err := LoadSweep(path, false, []string{"run.duration=1ms"})
	require.NoError(t, err)
	require.Equal(t, configs.Duration(sim.Millisecond), s3.Points()[0].Config.Run.Duration)
	require.NotEqual(t, s2.ID(), s3.ID())
	_, err = LoadSweep(path, false, []string{"cache.l2.wayz=1"})
	require.ErrorContains(t, err, "base scenario with --set")
	require.ErrorContains(t, err, "cache.l2.wayz")

	// An embedded configuration is found when no file has the name.
	require.NoError(t, os.WriteFile(path, []byte("[sweep]\nname = \"emb\"\nbase = \"backup-overflow\"\n[axes]\n\"cache.l2.ways\" = [4]\n"), 0o644))
	_, err = LoadSweep(path, false, nil)
	require.NoError(t, err)

	require.NoError(t, os.WriteFile(path, []byte("[sweep]\nname = \"rel\"\nbase = \"nope.toml\"\n[axes]\n\"cache.l2.ways\" = [4]\n"), 0o644))
	_, err = LoadSweep(path, false, nil)
	require.ErrorContains(t, err, path+": sweep.base: \"nope.toml\" is neither a file beside the sweep nor an embedded configuration")

	_, err = LoadSweep(filepath.Join(dir, "missing.toml"), false, nil)
	require.ErrorContains(t, err, "no embedded sweep")
}

func TestEmbeddedSweepsParse(t *testing.T) {
	for _, name := range configs.EmbeddedSweeps() {
		for _, quick := range []bool{false, true} {
			s, err := LoadSweep(name, quick, nil)
			require.NoError(t, err, name)
			require.Equal(t, name, s.Name, "a sweep's name is its file's name")
			for _, p := range s.Points() {
				require.NoError(t, p.Err, "%s point %d", name, p.Index)
			}
		}
	}
	s, err := LoadSweep("example", false, nil)
	require.NoError(t, err)
	require.Len(t, s.Points(), 12)
	require.Equal(t, []string{"backup.interval", "vm[0].workload.write_fraction"}, axisKeys(s))
}

// TestSweepPoints checks the enumeration order (first axis slowest, a zip
// group as one axis at its first member's place, the seed fastest), that
// each point's configuration has its values, and the names.
func TestSweepPoints(t *testing.T) {
	body := `
[sweep]
name = "order"
seeds = [5, 6]
zip = [["backup.interval", "backup.log_size"]]
[axes]
"vm[0].workload.pattern" = ["uniform", "zipf"]
"backup.interval" = ["500us", "1ms", "2ms"]
"cache.l2.ways" = [4, 8]
"backup.log_size" = ["32KiB", "64KiB", "128KiB"]
`
	s := mustSweep(t, body)
	type want struct {
		labels []string
		seed   uint64
	}
	var wants []want
	intervals, logs := []string{"500us", "1ms", "2ms"}, []string{"32KiB", "64KiB", "128KiB"}
	for _, pat := range []string{"uniform", "zipf"} {
		for z := range intervals {
			for _, ways := range []string{"4", "8"} {
				for _, seed := range []uint64{5, 6} {
					wants = append(wants, want{[]string{pat, intervals[z], ways, logs[z]}, seed})
				}
			}
		}
	}
	pts := s.Points()
	require.Len(t, pts, len(wants))
	nameRE := regexp.MustCompile(`^backup-demo-s[56]-[0-9a-f]{8}$`)
	names := map[string]bool{}
	for i, p := range pts {
		require.Equal(t, i, p.Index)
		require.Equal(t, wants[i].labels, p.Labels, "point %d", i)
		require.Equal(t, wants[i].seed, p.Seed, "point %d", i)
		require.NoError(t, p.Err)
		c := p.Config
		require.Equal(t, configs.Pattern(p.Labels[0]), c.VMs[0].Workload.Pattern)
		require.Equal(t, p.Labels[1], c.Backup.Interval.String())
		require.Equal(t, p.Labels[2], strconv.Itoa(c.Cache.L2.Ways))
		require.Equal(t, p.Labels[3], c.Backup.LogSize.String())
		require.Equal(t, p.Seed, c.Run.Seed)
		require.Regexp(t, nameRE, p.Name)
		require.False(t, names[p.Name], "point %d has the name of another: %s", i, p.Name)
		names[p.Name] = true
	}

	// Names are a function of the configuration only: the same sweep
	// parsed again, or with its axes listed in another order, names its
	// points alike.
	again := mustSweep(t, body)
	for i := range pts {
		require.Equal(t, pts[i].Name, again.Points()[i].Name)
	}
	reordered := mustSweep(t, strings.Replace(body, `"cache.l2.ways" = [4, 8]`+"\n", "", 1)+`"cache.l2.ways" = [4, 8]`+"\n")
	require.Equal(t, []string{"vm[0].workload.pattern", "backup.interval", "backup.log_size", "cache.l2.ways"}, axisKeys(reordered))
	for _, p := range reordered.Points() {
		require.True(t, names[p.Name], p.Name)
	}
}

func TestParseSweepErrors(t *testing.T) {
	const head = "[sweep]\nname = \"bad\"\n"
	const axis = "[axes]\n\"cache.l2.ways\" = [4, 8]\n"
	tests := []struct {
		name string
		body string
		want []string
	}{
		{"unknown axis key", head + "[axes]\n\"cache.l2.wayz\" = [4]\n",
			[]string{`test.toml: axes."cache.l2.wayz": `, `cache.l2.wayz: unknown key`, `did you mean "ways"?`}},
		{"unknown top-level axis key", head + "[axes]\n\"cach.l2.ways\" = [4]\n", []string{`axes."cach.l2.ways": `, `unknown key`}},
		{"out-of-range axis value", head + "[axes]\n\"cache.l2.ways\" = [8, 0]\n",
			[]string{`axes."cache.l2.ways": `, "cache.l2.ways: 0 is not allowed; must be 1..64"}},
		{"wrong type of axis value", head + "[axes]\n\"cache.l2.ways\" = [\"eight\"]\n", []string{`axes."cache.l2.ways": `, "cache.l2.ways"}},
		{"range value out of range", head + "[axes]\n\"cache.l2.ways\" = { start = 0, stop = 4, step = 2 }\n",
			[]string{`axes."cache.l2.ways": `, "cache.l2.ways: 0 is not allowed"}},
		{"empty axis", head + "[axes]\n\"backup.interval\" = []\n", []string{`axes."backup.interval": the axis has no values`}},
		{"axis not a list", head + "[axes]\n\"cache.l2.ways\" = 4\n", []string{`axes."cache.l2.ways": 4 is not allowed; an axis is a list of values or a range table`}},
		{"axis an array of tables", head + "[[axes.\"vm[0]\"]]\nname = \"a\"\n", []string{`axes."vm[0]": an axis is a list of values or a range table, not a list of tables`}},
		{"no axes", head, []string{"test.toml: axes: no axis"}},
		{"unquoted key path", head + "[axes]\ncache.l2.ways = [4, 8]\n",
			[]string{"axes.cache.l2.ways: not an axis; quote a key path", `"cache.l2.ways" = [...]`}},
		{"unquoted key path beside a quoted one", head + "[axes]\n\"backup.interval\" = [\"1ms\"]\ncache.l2.ways = [4, 8]\n",
			[]string{"axes.cache.l2.ways: not an axis"}},
		{"table header for a key path", head + "[axes.cache]\nl2 = { ways = [4, 8] }\n", []string{`axes.cache: unknown range key "l2"`, "quoted as one key"}},
		{"seed axis", head + "[axes]\n\"run.seed\" = [1, 2]\n", []string{`axes."run.seed": vary seeds with sweep.seeds`}},
		{"duplicate value", head + "[axes]\n\"cache.l2.ways\" = [4, 8, 4]\n", []string{`axes."cache.l2.ways": value 4 is listed twice`}},
		{"duplicate value spelt twice", head + "[axes]\n\"backup.interval\" = [\"1ms\", \"500us\", \"1000us\"]\n",
			[]string{`axes."backup.interval": values "1ms" and "1000us" are the same value`}},
		{"duplicate string value", head + "[axes]\n\"vm[0].workload.pattern\" = [\"zipf\", \"zipf\"]\n", []string{`axes."vm[0].workload.pattern": value "zipf" is listed twice`}},
		{"two axes set one key", head + "[axes]\n\"backup.interval\" = [\"1ms\", \"2ms\"]\n\"backup\" = [{interval = \"1ms\"}]\n",
			[]string{"test.toml: axes: points 0 (backup.interval=1ms, backup={interval = \"1ms\"}, seed 1) and 1 (backup.interval=2ms", "are the same configuration"}},
		{"range without stop", head + "[axes]\n\"cache.l2.ways\" = { start = 1, step = 1 }\n", []string{`axes."cache.l2.ways": a range needs start and stop`}},
		{"range with an unknown key", head + "[axes]\n\"cache.l2.ways\" = { start = 1, stop = 4, steps = 1 }\n", []string{`axes."cache.l2.ways": unknown range key "steps"`}},
		{"range count not an integer", head + "[axes]\n\"cache.l2.ways\" = { start = 1, stop = 4, count = 2.5 }\n", []string{`axes."cache.l2.ways": count 2.5 is not allowed; must be an integer 2..100000`}},
		{"range count of one", head + "[axes]\n\"cache.l2.ways\" = { start = 1, stop = 4, count = 1 }\n", []string{`axes."cache.l2.ways": count 1 is not allowed`}},
		{"range log not a boolean", head + "[axes]\n\"cache.l2.ways\" = { start = 1, stop = 4, count = 3, log = \"yes\" }\n", []string{`axes."cache.l2.ways": log "yes" is not allowed`}},
		{"too many points", head + "seeds = 10000\n[axes]\n\"tlb.walk_latency\" = { start = 0, stop = 100, step = 1 }\n",
			[]string{"test.toml: the sweep has more than 1000000 points (axes times seeds)"}},
		{"range on a string key", head + "[axes]\n\"backup.overflow\" = { start = 1, stop = 2, step = 1 }\n", []string{`axes."backup.overflow": backup.overflow: a range needs a numeric key`}},
		{"range step and count", head + "[axes]\n\"cache.l2.ways\" = { start = 1, stop = 4, step = 1, count = 4 }\n", []string{`axes."cache.l2.ways": cache.l2.ways: a range takes step or count, not both`}},
		{"log range from zero", head + "[axes]\n\"tlb.walk_latency\" = { start = 0, stop = 100, count = 3, log = true }\n", []string{`axes."tlb.walk_latency": tlb.walk_latency: a log range needs positive start and stop`}},
		{"range with nan", head + "[axes]\n\"vm[0].workload.write_fraction\" = { start = nan, stop = 0.9, step = 0.2 }\n",
			[]string{`axes."vm[0].workload.write_fraction": vm[0].workload.write_fraction: range start: nan is not allowed; must be a finite number`}},
		{"range duplicates", head + "[axes]\n\"cache.l2.ways\" = { start = 1, stop = 2, count = 3 }\n", []string{`axes."cache.l2.ways": cache.l2.ways: the range gives`, "twice"}},
		{"unknown key in sweep", head + "sedes = 3\n" + axis, []string{"test.toml: sweep.sedes: unknown key (allowed in [sweep]: name, base, seeds"}},
		{"unknown key in sweep.quick", head + "[sweep.quick]\nseeds = 1\nsett = []\n" + axis, []string{"sweep.quick.sett: unknown key"}},
		{"unknown top-level table", head + axis + "[axis]\nx = 1\n", []string{"test.toml: axis: unknown key", "top-level tables: sweep, scenario, axes"}},
		{"seeds zero", head + "seeds = 0\n" + axis, []string{"sweep.seeds: 0 is not allowed; must be a count 1..10000 or a list of seeds"}},
		{"seeds too many", head + "seeds = 10001\n" + axis, []string{"sweep.seeds: 10001 is not allowed"}},
		{"seeds negative", head + "seeds = [1, -2]\n" + axis, []string{"sweep.seeds: -2 is not allowed; seeds are integers 0..9223372036854775807"}},
		{"seeds a string", head + "seeds = \"3\"\n" + axis, []string{`sweep.seeds: "3" is not allowed; must be a count or a list of seeds`}},
		{"seeds fractional", head + "seeds = [1.5]\n" + axis, []string{"sweep.seeds: 1.5 is not allowed"}},
		{"seeds empty", head + "seeds = []\n" + axis, []string{"sweep.seeds: the list is empty"}},
		{"seeds repeated", head + "seeds = [3, 1, 3]\n" + axis, []string{"sweep.seeds: seed 3 is listed twice"}},
		{"quick seeds", head + "[sweep.quick]\nseeds = 0\n" + axis, nil}, // checked only with --quick, below
		{"zip names a non-axis", head + "zip = [[\"cache.l2.ways\", \"cache.l2.size\"]]\n" + axis, []string{`sweep.zip[0]: "cache.l2.size" is not an axis`}},
		{"zip unequal lengths", head + "zip = [[\"cache.l2.ways\", \"backup.interval\"]]\n" + axis + "\"backup.interval\" = [\"1ms\", \"2ms\", \"3ms\"]\n",
			[]string{`sweep.zip[0]: axes of a zip group need equal lengths; "backup.interval" has 3 values, the group 2`}},
		{"zip of one axis", head + "zip = [[\"cache.l2.ways\"]]\n" + axis, []string{"sweep.zip[0]: a zip group needs at least two axes"}},
		{"axis in two zips", head + "zip = [[\"cache.l2.ways\", \"backup.interval\"], [\"backup.interval\", \"tlb.ways\"]]\n" + axis +
			"\"backup.interval\" = [\"1ms\", \"2ms\"]\n\"tlb.ways\" = [2, 4]\n", []string{`sweep.zip[1]: "backup.interval" is in two zip groups`}},
		{"unknown metric", head + "metrics = [\"host0.backup.checkpoints\", \"host0.backup.nope\", \"host9.x\"]\n" + axis,
			[]string{"sweep.metrics: no such statistic: host0.backup.nope, host9.x"}},
		{"unknown histogram field", head + "metrics = [\"host0.backup.pause.p42\"]\n" + axis, []string{"sweep.metrics: no such statistic: host0.backup.pause.p42"}},
		{"metric twice", head + "metrics = [\"host0.backup.checkpoints\", \"host0.backup.checkpoints\"]\n" + axis, []string{`sweep.metrics: "host0.backup.checkpoints" is listed twice`}},
		{"no metrics", head + "metrics = []\n" + axis, []string{"sweep.metrics: is empty"}},
		{"no name", "[sweep]\n" + axis, []string{`sweep.name: "" is not allowed; must be 1..60 characters`}},
		{"bad name", "[sweep]\nname = \"My Sweep\"\n" + axis, []string{`sweep.name: "My Sweep" is not allowed`}},
		{"base and scenario", head + "base = \"default\"\n[scenario.run]\nname = \"x\"\n" + axis, []string{"sweep.base: give either sweep.base or a [scenario] table, not both"}},
		{"unknown base", head + "base = \"nope\"\n" + axis, []string{`sweep.base: "nope" is neither a file beside the sweep nor an embedded configuration`}},
		{"bad scenario key", head + "[scenario.cache.l2]\nwayz = 4\n" + axis, []string{"test.toml: base scenario: ", "cache.l2.wayz: unknown key"}},
		{"bad set", head + "set = [\"cache.l2.ways=0\"]\n" + axis, []string{"test.toml: base scenario: ", "--set cache.l2.ways=0: cache.l2.ways: 0 is not allowed"}},
		{"toml syntax", head + "seeds = \n" + axis, []string{"test.toml: "}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseTestSweep(t, tc.body)
			if tc.want == nil {
				require.NoError(t, err)
				_, err = ParseSweep([]byte(tc.body), "test.toml", "", true)
				require.ErrorContains(t, err, "sweep.seeds: 0 is not allowed")
				return
			}
			require.Error(t, err)
			for _, w := range tc.want {
				require.ErrorContains(t, err, w)
			}
		})
	}
}

func TestParseShard(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Shard
	}{{"1/1", Shard{1, 1}}, {"2/3", Shard{2, 3}}, {"8/8", Shard{8, 8}}} {
		got, err := ParseShard(tc.in)
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got)
	}
	for _, in := range []string{"", "1", "0/3", "4/3", "1/0", "-1/3", "a/b", "1/3/5", "1/ 3", "3/3x"} {
		_, err := ParseShard(in)
		require.ErrorContains(t, err, fmt.Sprintf("shard %q is not allowed; must be k/n with 1 <= k <= n", in))
	}
	// The shards of n split the points: each in exactly one.
	for n := 1; n <= 4; n++ {
		for i := range 11 {
			in := 0
			for k := 1; k <= n; k++ {
				if (Shard{k, n}).has(i) {
					in++
				}
			}
			require.Equal(t, 1, in, "point %d with %d shards", i, n)
		}
	}
}

func TestMeanCI(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		xs             []float64
		mean, sd, ci95 float64
	}{
		{nil, nan, nan, nan},
		{[]float64{4}, 4, nan, nan},
		// t(0.975, 2 dof) = 4.302652729...; sd of 1, 2, 3 is 1.
		{[]float64{1, 2, 3}, 2, 1, 4.302652729749464 / math.Sqrt(3)},
		// t(0.975, 1 dof) = 12.7062047...; sd of 10, 12 is √2, n is 2.
		{[]float64{10, 12}, 11, math.Sqrt2, 12.706204736174698}, // t × √2 / √2
		{[]float64{5, 5, 5, 5}, 5, 0, 0},
	}
	for _, tc := range tests {
		mean, sd, ci := meanCI(tc.xs)
		for _, c := range []struct{ got, want float64 }{{mean, tc.mean}, {sd, tc.sd}, {ci, tc.ci95}} {
			if math.IsNaN(c.want) {
				require.True(t, math.IsNaN(c.got), "%v: got %v, want NaN", tc.xs, c.got)
				continue
			}
			require.InDelta(t, c.want, c.got, 1e-9, "%v", tc.xs)
		}
	}
	require.Equal(t, "", fmtFloat(nan))
	require.Equal(t, "0.3333333333", fmtFloat(1.0/3))
	require.Equal(t, "1.2e+10", fmtFloat(1.2e10))
}

// sweepFiles returns every file of a sweep directory by relative path,
// except the points' meta.json (wall time and host, by design).
func sweepFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "meta.json" {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		files[rel] = string(data)
		return err
	})
	require.NoError(t, err)
	return files
}

// requireSameFiles checks that two sweep directories hold the same files
// with the same bytes.
func requireSameFiles(t *testing.T, want, got string) {
	t.Helper()
	w, g := sweepFiles(t, want), sweepFiles(t, got)
	var wk, gk []string
	for k := range w {
		wk = append(wk, k)
	}
	for k := range g {
		gk = append(gk, k)
	}
	require.ElementsMatch(t, wk, gk, "files of %s and %s", want, got)
	for k := range w {
		require.Equal(t, w[k], g[k], k)
	}
}

func readCSVFile(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	return rows
}

func csvColumn(t *testing.T, head []string, name string) int {
	t.Helper()
	for i, h := range head {
		if h == name {
			return i
		}
	}
	t.Fatalf("no column %q in %v", name, head)
	return -1
}

// smallSweep is a sweep of 8 points of 2 ms of simulated time each.
const smallSweep = `
[sweep]
name = "small"
seeds = 2
set = ["run.duration=2ms", "backup.interval=500us"]
metrics = ["host0.backup.checkpoints", "host0.backup.mean_bytes_line_log", "host0.backup.pause.p99"]

[axes]
"vm[0].workload.write_fraction" = [0.1, 0.5]
"vm[0].workload.pattern" = ["uniform", "zipf"]
`

// TestRunSweepReproducible runs one small sweep, and checks that running
// it with more jobs, completing it after an interruption, and running it in
// shards then merging them all give the same files, byte for byte.
func TestRunSweepReproducible(t *testing.T) {
	s := mustSweep(t, smallSweep)
	pts := s.Points()
	require.Len(t, pts, 8)
	ref := t.TempDir()
	rep, err := RunSweep(s, SweepOptions{Out: ref, Jobs: 1})
	require.NoError(t, err)
	require.Equal(t, SweepReport{Points: 8, Ran: 8, Summary: true}, rep)
	for _, p := range pts {
		for _, f := range []string{"config.toml", "stats.csv", "stats.json", "meta.json"} {
			_, err := os.Stat(filepath.Join(ref, "points", p.Name, f))
			require.NoError(t, err)
		}
	}
	results := readCSVFile(t, filepath.Join(ref, "results.csv"))
	require.Equal(t, []string{"point", "vm[0].workload.write_fraction", "vm[0].workload.pattern", "seed", "status",
		"host0.backup.checkpoints", "host0.backup.mean_bytes_line_log", "host0.backup.pause.p99", "error"}, results[0])
	require.Len(t, results, 9)
	for i, row := range results[1:] {
		require.Equal(t, strconv.Itoa(i), row[0])
		require.Equal(t, pts[i].Labels, row[1:3])
		require.Equal(t, strconv.FormatUint(pts[i].Seed, 10), row[3])
		require.Equal(t, "ok", row[4])
		require.Equal(t, "4", row[5], "2 ms at 500 us") // checkpoints
		require.NotEmpty(t, row[6])
		require.NotEmpty(t, row[7])
		require.Empty(t, row[8])
		// The row's numbers are the point's stats.csv values.
		stats := readCSVFile(t, filepath.Join(ref, "points", pts[i].Name, "stats.csv"))
		found := 0
		for _, st := range stats {
			if st[0] == "host0.backup" && st[1] == "mean_bytes_line_log" {
				require.Equal(t, st[2], row[6])
				found++
			}
			if st[0] == "host0.backup" && st[1] == "pause.p99" {
				require.Equal(t, st[2], row[7])
				found++
			}
		}
		require.Equal(t, 2, found)
	}

	t.Run("jobs", func(t *testing.T) {
		out := t.TempDir()
		rep, err := RunSweep(s, SweepOptions{Out: out, Jobs: 2})
		require.NoError(t, err)
		require.Equal(t, SweepReport{Points: 8, Ran: 8, Summary: true}, rep)
		requireSameFiles(t, ref, out)
	})

	t.Run("summary", func(t *testing.T) {
		rows := readCSVFile(t, filepath.Join(ref, "summary.csv"))
		require.Len(t, rows, 5) // four combinations
		head := rows[0]
		require.Equal(t, []string{"vm[0].workload.write_fraction", "vm[0].workload.pattern", "n", "failed",
			"host0.backup.checkpoints.mean", "host0.backup.checkpoints.std", "host0.backup.checkpoints.ci95"}, head[:7])
		m := "host0.backup.mean_bytes_line_log"
		varied := 0 // groups whose seeds gave different results
		for g, row := range rows[1:] {
			// The group's points are 2g and 2g+1 (the seeds vary fastest).
			require.Equal(t, pts[2*g].Labels, row[:2])
			require.Equal(t, "2", row[csvColumn(t, head, "n")])
			require.Equal(t, "0", row[csvColumn(t, head, "failed")])
			var xs []float64
			for _, r := range results[1+2*g : 3+2*g] {
				v, err := strconv.ParseFloat(r[6], 64)
				require.NoError(t, err)
				xs = append(xs, v)
			}
			mean, sd := stat.MeanStdDev(xs, nil)
			ci := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: 1}.Quantile(0.975) * sd / math.Sqrt(2)
			for _, c := range []struct {
				col  string
				want float64
			}{{m + ".mean", mean}, {m + ".std", sd}, {m + ".ci95", ci}} {
				got, err := strconv.ParseFloat(row[csvColumn(t, head, c.col)], 64)
				require.NoError(t, err, c.col)
				require.InDelta(t, c.want, got, 1e-9*math.Abs(c.want)+1e-12, "group %d %s", g, c.col)
			}
			if sd > 0 {
				varied++
			}
			// Every point checkpoints 4 times: no spread.
			require.Equal(t, []string{"4", "0", "0"}, row[4:7])
		}
		require.GreaterOrEqual(t, varied, 3, "the seeds give different results")
	})

	t.Run("resume", func(t *testing.T) {
		out := t.TempDir()
		_, err := RunSweep(s, SweepOptions{Out: out, Jobs: 2})
		require.NoError(t, err)
		keptMeta, err := os.ReadFile(filepath.Join(out, "points", pts[1].Name, "meta.json"))
		require.NoError(t, err)
		// An interrupted run: three points missing, one half written,
		// and an atomic write of results.csv cut short.
		for _, i := range []int{0, 4, 7} {
			require.NoError(t, os.RemoveAll(filepath.Join(out, "points", pts[i].Name)))
		}
		stale := filepath.Join(out, "points", "."+pts[4].Name+".tmp-12345")
		require.NoError(t, os.MkdirAll(stale, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(stale, "stats.csv"), []byte("path,name,value\n"), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join(out, ".results.csv.tmp-999"), []byte("point,"), 0o644))
		require.NoError(t, os.Remove(filepath.Join(out, "summary.csv")))

		_, err = RunSweep(s, SweepOptions{Out: out, Jobs: 2})
		require.ErrorContains(t, err, out+" already holds results of sweep small; pass --resume")

		var prog recordProgress
		rep, err := RunSweep(s, SweepOptions{Out: out, Jobs: 2, Resume: true, Progress: &prog})
		require.NoError(t, err)
		require.Equal(t, SweepReport{Points: 8, Ran: 3, Skipped: 5, Summary: true}, rep)
		require.Equal(t, recordProgress{total: 3, done: 3, finished: true}, prog)
		requireSameFiles(t, ref, out) // the temporary entries are gone too
		meta, err := os.ReadFile(filepath.Join(out, "points", pts[1].Name, "meta.json"))
		require.NoError(t, err)
		require.Equal(t, string(keptMeta), string(meta), "a complete point is not run again")

		// Resuming a complete sweep runs nothing.
		rep, err = RunSweep(s, SweepOptions{Out: out, Jobs: 2, Resume: true})
		require.NoError(t, err)
		require.Equal(t, SweepReport{Points: 8, Skipped: 8, Summary: true}, rep)

		// Another sweep, or another variant of this one, is refused.
		other := mustSweep(t, strings.Replace(smallSweep, "seeds = 2", "seeds = 3", 1))
		_, err = RunSweep(other, SweepOptions{Out: out, Resume: true})
		require.ErrorContains(t, err, out+" holds results of another sweep (small, id "+s.ID()+"); use another output directory")
		quick, err := ParseSweep([]byte(smallSweep), "test.toml", "", true)
		require.NoError(t, err)
		_, err = RunSweep(quick, SweepOptions{Out: out, Resume: true})
		require.ErrorContains(t, err, "holds results of another sweep")
		requireSameFiles(t, ref, out)
	})

	t.Run("shards and merge", func(t *testing.T) {
		root := t.TempDir()
		var dirs []string
		for k := 1; k <= 3; k++ {
			dir := filepath.Join(root, fmt.Sprintf("shard%d", k))
			dirs = append(dirs, dir)
			rep, err := RunSweep(s, SweepOptions{Out: dir, Jobs: 2, Shard: Shard{k, 3}})
			require.NoError(t, err)
			want := []int{3, 3, 2}[k-1] // points k-1, k+2, k+5 of 0..7
			require.Equal(t, SweepReport{Points: want, Ran: want}, rep, "shard %d", k)
			_, err = os.Stat(filepath.Join(dir, "summary.csv"))
			require.ErrorIs(t, err, os.ErrNotExist, "a shard has no summary")
			rows := readCSVFile(t, filepath.Join(dir, "results.csv"))
			require.Len(t, rows, want+1)
			for j, row := range rows[1:] {
				require.Equal(t, strconv.Itoa(k-1+3*j), row[0])
				require.Equal(t, results[k+3*j], row, "a shard's row is the unsharded run's")
			}
		}
		// A shard's directory holds only that shard.
		_, err := RunSweep(s, SweepOptions{Out: dirs[0], Shard: Shard{2, 3}, Resume: true})
		require.ErrorContains(t, err, `holds shard "1/3" of sweep small, not "2/3"`)

		// Merging with a shard missing names the missing points and
		// writes nothing.
		partial := filepath.Join(root, "partial")
		_, err = MergeSweeps(partial, []string{dirs[0], dirs[2]})
		require.ErrorContains(t, err, fmt.Sprintf("merge: 3 of 8 points are in none of the inputs (is a shard missing?): 1 (%s), 4 (%s), 7 (%s)",
			pts[1].Name, pts[4].Name, pts[7].Name))
		_, err = os.Stat(partial)
		require.ErrorIs(t, err, os.ErrNotExist)

		merged := filepath.Join(root, "merged")
		rep, err := MergeSweeps(merged, dirs)
		require.NoError(t, err)
		require.Equal(t, SweepReport{Points: 8, Ran: 8, Summary: true}, rep)
		requireSameFiles(t, ref, merged)

		// Merging again into the result copies nothing more.
		rep, err = MergeSweeps(merged, dirs)
		require.NoError(t, err)
		require.Equal(t, SweepReport{Points: 8, Skipped: 8, Summary: true}, rep)
		requireSameFiles(t, ref, merged)

		// A shard of another sweep is refused, and so is an output
		// directory that holds another sweep.
		otherDir := filepath.Join(root, "other")
		other := mustSweep(t, strings.Replace(smallSweep, "[0.1, 0.5]", "[0.1]", 1))
		_, err = RunSweep(other, SweepOptions{Out: otherDir, Shard: Shard{1, 3}})
		require.NoError(t, err)
		_, err = MergeSweeps(filepath.Join(root, "mixed"), []string{dirs[0], otherDir})
		require.ErrorContains(t, err, fmt.Sprintf("merge: %s holds sweep small (id %s) but %s holds small (id %s)", otherDir, other.ID(), dirs[0], s.ID()))
		_, err = MergeSweeps(otherDir, dirs)
		require.ErrorContains(t, err, "merge: "+otherDir+" holds results of another sweep")
		_, err = MergeSweeps(filepath.Join(root, "none"), []string{filepath.Join(root, "nope")})
		require.ErrorContains(t, err, "is not a sweep directory")
		_, err = MergeSweeps(filepath.Join(root, "none"), nil)
		require.ErrorContains(t, err, "no input directories")
	})
}

type recordProgress struct {
	total, done, failed int
	finished            bool
}

func (p *recordProgress) Start(total int) { p.total = total }
func (p *recordProgress) Done(failed bool) {
	p.done++
	if failed {
		p.failed++
	}
}
func (p *recordProgress) Finish() { p.finished = true }

// TestRunSweepFailedPoint checks that a combination valid value by value
// but invalid together (a workload footprint larger than its VM's memory)
// is recorded as a failed point and does not stop the sweep.
func TestRunSweepFailedPoint(t *testing.T) {
	s := mustSweep(t, `
[sweep]
name = "fails"
set = ["run.duration=2ms", "backup.interval=1ms"]
metrics = ["host0.backup.checkpoints"]
[axes]
"vm[0].memory" = ["256MiB", "32MiB"]
"vm[0].workload.footprint" = ["16MiB", "64MiB"]
`)
	pts := s.Points()
	require.Len(t, pts, 4)
	for i, p := range pts {
		if i == 3 {
			require.ErrorContains(t, p.Err, "vm[0].workload.footprint: 64MiB is not allowed; must be 4KiB..vm.memory (32MiB)")
			require.Regexp(t, `^invalid-s1-[0-9a-f]{8}$`, p.Name)
			continue
		}
		require.NoError(t, p.Err, "point %d", i)
	}

	out := t.TempDir()
	var prog recordProgress
	rep, err := RunSweep(s, SweepOptions{Out: out, Jobs: 2, Progress: &prog})
	require.NoError(t, err)
	require.Equal(t, SweepReport{Points: 4, Ran: 4, Failed: 1, Summary: true}, rep)
	require.Equal(t, recordProgress{total: 4, done: 4, failed: 1, finished: true}, prog)

	rows := readCSVFile(t, filepath.Join(out, "results.csv"))
	require.Len(t, rows, 5)
	for _, row := range rows[1:3] {
		require.Equal(t, "ok", row[4])
		require.Equal(t, "2", row[5])
	}
	require.Equal(t, []string{"3", "32MiB", "64MiB", "1", "failed", ""}, rows[4][:6])
	require.Contains(t, rows[4][6], "vm[0].workload.footprint: 64MiB is not allowed")
	dir := filepath.Join(out, "points", pts[3].Name)
	msg, err := os.ReadFile(filepath.Join(dir, "error.txt"))
	require.NoError(t, err)
	require.Contains(t, string(msg), "vm[0].workload.footprint")
	overs, err := os.ReadFile(filepath.Join(dir, "overrides.txt"))
	require.NoError(t, err)
	require.Equal(t, "run.duration=2ms\nbackup.interval=1ms\nvm[0].memory=\"32MiB\"\nvm[0].workload.footprint=\"64MiB\"\nrun.seed=1\n", string(overs))

	sum := readCSVFile(t, filepath.Join(out, "summary.csv"))
	require.Equal(t, []string{"vm[0].memory", "vm[0].workload.footprint", "n", "failed",
		"host0.backup.checkpoints.mean", "host0.backup.checkpoints.std", "host0.backup.checkpoints.ci95"}, sum[0])
	require.Equal(t, []string{"256MiB", "16MiB", "1", "0", "2", "", ""}, sum[1])
	require.Equal(t, []string{"32MiB", "64MiB", "0", "1", "", "", ""}, sum[4])

	// A failed point counts on resume too, without running again.
	rep, err = RunSweep(s, SweepOptions{Out: out, Resume: true})
	require.NoError(t, err)
	require.Equal(t, SweepReport{Points: 4, Skipped: 4, Failed: 1, Summary: true}, rep)
}

func TestRunSweepNeedsAnOutputDirectory(t *testing.T) {
	s := mustSweep(t, smallSweep)
	_, err := RunSweep(s, SweepOptions{})
	require.ErrorContains(t, err, "sweep small: no output directory")
}

// FuzzParseSweep: ParseSweep never panics, and a sweep it accepts has
// values on every axis and points with distinct names whose labels match
// the axes.
func FuzzParseSweep(f *testing.F) {
	data, err := configs.EmbeddedSweepFile("example")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(smallSweep))
	f.Add([]byte("[sweep]\nname = \"z\"\nseeds = [3, 1]\nzip = [[\"cache.l2.ways\", \"tlb.ways\"]]\n[axes]\n" +
		"\"cache.l2.ways\" = { start = 2, stop = 8, count = 3, log = true }\n\"tlb.ways\" = [1, 2, 4]\n"))
	f.Add([]byte("[sweep]\nname = \"r\"\n[axes]\n\"vm[0].workload.write_fraction\" = { start = 0.1, stop = 0.9, step = 0.4 }\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSweep(data, "fuzz.toml", "", false)
		if err != nil {
			return
		}
		names := map[string]bool{}
		for _, ax := range s.Axes {
			if len(ax.Values) == 0 || len(ax.Labels) != len(ax.Values) {
				t.Fatalf("axis %s: %d values, %d labels", ax.Key, len(ax.Values), len(ax.Labels))
			}
		}
		for _, p := range s.Points() {
			if len(p.Labels) != len(s.Axes) || names[p.Name] {
				t.Fatalf("point %d: labels %v, name %s", p.Index, p.Labels, p.Name)
			}
			names[p.Name] = true
		}
	})
}

// TestZippedAxesMayRepeatValues: an axis in a zip group may list a value
// twice, since its points are the group's tuples; a tuple listed twice is
// still one configuration twice.
func TestZippedAxesMayRepeatValues(t *testing.T) {
	sweep := func(b string) string {
		return "[sweep]\nname = \"z\"\nbase = \"default\"\nzip = [[\"backup.interval\", \"backup.suspend\"]]\n[axes]\n" +
			"\"backup.interval\" = [\"1ms\", \"1ms\", \"2ms\"]\n\"backup.suspend\" = " + b + "\n"
	}
	s, err := ParseSweep([]byte(sweep(`["10us", "20us", "10us"]`)), "z.toml", "", false)
	require.NoError(t, err)
	require.Len(t, s.Points(), 3)
	_, err = ParseSweep([]byte(sweep(`["10us", "10us", "20us"]`)), "z.toml", "", false)
	require.ErrorContains(t, err, "are the same configuration")
}

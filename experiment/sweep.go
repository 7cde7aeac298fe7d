package experiment

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/twinsim/twinsim/configs"
	"github.com/twinsim/twinsim/sim"
)

// Sweep is a parsed sweep file: a base scenario, the axes that vary, the
// seeds each point runs with and the statistics reported per point.
//
// The file format (see configs/sweeps/*.toml):
//
//	[sweep]
//	name = "f4-log-vs-cache"      # names the output; 1..60 of a-z 0-9 _ -
//	base = "default"              # an embedded configuration or a path relative to this file
//	seeds = 3                     # seeds 1..3, or a list such as [1, 7, 42]
//	set = ["run.duration=20ms"]   # overrides applied to the base before the axes
//	metrics = ["host0.backup.mean_bytes_line_log"]  # optional; the scenario's defaults otherwise
//	zip = [["a.key", "b.key"]]    # optional: axes that vary together (same length)
//
//	[sweep.quick]                 # optional smaller variant (--quick, figures without --full)
//	seeds = 1
//	set = ["run.duration=5ms"]
//
//	[scenario]                    # optional inline base configuration instead of base
//	...
//
//	[axes]                        # key path = values, in file order
//	"backup.interval" = ["250us", "1ms"]
//	"cache.l2.size" = { start = "64KiB", stop = "4MiB", count = 7, log = true }
//	"vm[0].workload.write_fraction" = { start = 0.1, stop = 0.9, step = 0.2 }
//
// Points are the cross product of the axes (zip groups count as one axis)
// times the seeds, enumerated with the first axis varying slowest and the
// seed fastest; a sweep has at most 1,000,000 points, and no two of them
// may be the same configuration.
type Sweep struct {
	Name    string
	Axes    []Axis
	Seeds   []uint64
	Metrics []string
	Zip     [][]string

	source   string   // where the sweep came from, for messages
	base     []byte   // the base configuration's TOML
	baseName string   // its source name
	sets     []string // overrides before the axes
	text     []byte   // the sweep file as read
	quick    bool
	extra    []string // command-line overrides after the file's set
	points   []Point  // enumerated once; see Points
}

// Axis is one varying configuration key and its values, each as override
// text (configs.FormatValue syntax) and as plain text for result files.
type Axis struct {
	Key    string
	Values []string // override values
	Labels []string // the same values as written in results
}

// Point is one run of a sweep.
type Point struct {
	Index  int
	Labels []string // one per axis
	Seed   uint64
	Sets   []string // every override, base sets first
	Config configs.Config
	Err    error  // the point's configuration is invalid
	Name   string // run directory name under points/
}

type sweepFile struct {
	Sweep struct {
		Name    string     `toml:"name"`
		Base    string     `toml:"base"`
		Seeds   any        `toml:"seeds"`
		Set     []string   `toml:"set"`
		Metrics []string   `toml:"metrics"`
		Zip     [][]string `toml:"zip"`
		Quick   *struct {
			Seeds any      `toml:"seeds"`
			Set   []string `toml:"set"`
		} `toml:"quick"`
	} `toml:"sweep"`
	Scenario map[string]any `toml:"scenario"`
	Axes     map[string]any `toml:"axes"`
}

// LoadSweep reads a sweep file, or an embedded sweep by name (see
// configs.EmbeddedSweeps). With quick, the file's [sweep.quick] seeds and
// set replace the full ones. extra overrides (the command line's --set)
// apply after the file's set and are part of the sweep's identity.
func LoadSweep(pathOrName string, quick bool, extra []string) (*Sweep, error) {
	s, err := loadSweep(pathOrName, quick)
	if err != nil {
		return nil, err
	}
	if err := s.withExtra(extra); err != nil {
		return nil, err
	}
	return s, nil
}

// withExtra applies command-line overrides after the file's set and
// enumerates the points again.
func (s *Sweep) withExtra(extra []string) error {
	if len(extra) == 0 {
		return nil
	}
	s.sets = append(append([]string(nil), s.sets...), extra...)
	s.extra = extra
	if _, err := configs.Parse(s.base, s.baseName, s.sets); err != nil {
		return fmt.Errorf("%s: base scenario with --set: %w", s.source, err)
	}
	return s.enumerate()
}

func loadSweep(pathOrName string, quick bool) (*Sweep, error) {
	if info, err := os.Stat(pathOrName); err == nil && !info.IsDir() {
		data, err := os.ReadFile(pathOrName)
		if err != nil {
			return nil, fmt.Errorf("sweep %s: %w", pathOrName, err)
		}
		return ParseSweep(data, pathOrName, filepath.Dir(pathOrName), quick)
	}
	data, err := configs.EmbeddedSweepFile(pathOrName)
	if err != nil {
		return nil, fmt.Errorf("sweep %q: no such file, and %w", pathOrName, err)
	}
	return ParseSweep(data, "embedded:sweeps/"+strings.TrimSuffix(filepath.Base(pathOrName), ".toml")+".toml", "", quick)
}

// ParseSweep parses a sweep file's text. source names it in messages; dir
// is where a relative base path is looked up ("" for embedded sweeps, whose
// base must be an embedded configuration).
func ParseSweep(data []byte, source, dir string, quick bool) (*Sweep, error) {
	return parseSweep(data, source, quick, func(name string) ([]byte, string, error) {
		path := name
		if dir != "" && !filepath.IsAbs(path) {
			path = filepath.Join(dir, name)
		}
		if info, err := os.Stat(path); dir != "" && err == nil && !info.IsDir() {
			b, err := os.ReadFile(path)
			return b, path, err
		}
		if b, err := configs.EmbeddedFile(name); err == nil {
			return b, "embedded:" + strings.TrimSuffix(name, ".toml") + ".toml", nil
		}
		return nil, "", fmt.Errorf("%q is neither a file beside the sweep nor an embedded configuration (embedded: %s)",
			name, strings.Join(configs.Embedded(), ", "))
	})
}

// parseSweep parses a sweep, reading a base given by name with readBase.
func parseSweep(data []byte, source string, quick bool, readBase func(name string) ([]byte, string, error)) (*Sweep, error) {
	var f sweepFile
	md, err := toml.Decode(string(data), &f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	fail := func(key, format string, args ...any) error {
		return fmt.Errorf("%s: %s: %s", source, key, fmt.Sprintf(format, args...))
	}
	for _, k := range md.Undecoded() {
		if len(k) >= 1 && (k[0] == "scenario" || k[0] == "axes") {
			continue // checked below: the scenario by configs, the axes one by one
		}
		return nil, fail(k.String(), "unknown key (allowed in [sweep]: name, base, seeds, set, metrics, zip, quick; top-level tables: sweep, scenario, axes)")
	}
	s := &Sweep{Name: f.Sweep.Name, source: source, text: data, quick: quick, Metrics: f.Sweep.Metrics, Zip: f.Sweep.Zip}
	if !validName(s.Name) {
		return nil, fail("sweep.name", "%q is not allowed; must be 1..60 characters from a-z, 0-9, _ and -", s.Name)
	}

	// The base configuration.
	switch {
	case f.Scenario != nil && f.Sweep.Base != "":
		return nil, fail("sweep.base", "give either sweep.base or a [scenario] table, not both")
	case f.Scenario != nil:
		var b bytes.Buffer
		if err := toml.NewEncoder(&b).Encode(f.Scenario); err != nil {
			return nil, fail("scenario", "%v", err)
		}
		s.base, s.baseName = b.Bytes(), source+" [scenario]"
	default:
		name := f.Sweep.Base
		if name == "" {
			name = "default"
		}
		if s.base, s.baseName, err = readBase(name); err != nil {
			return nil, fail("sweep.base", "%v", err)
		}
	}

	seeds, set := f.Sweep.Seeds, f.Sweep.Set
	if quick && f.Sweep.Quick != nil {
		if f.Sweep.Quick.Seeds != nil {
			seeds = f.Sweep.Quick.Seeds
		}
		if f.Sweep.Quick.Set != nil {
			set = f.Sweep.Quick.Set
		}
	}
	if s.Seeds, err = parseSeeds(seeds); err != nil {
		return nil, fail("sweep.seeds", "%v", err)
	}
	s.sets = set
	if _, err := configs.Parse(s.base, s.baseName, s.sets); err != nil {
		return nil, fmt.Errorf("%s: base scenario: %w", source, err)
	}

	// Axes, in file order.
	seen := map[string]bool{}
	for _, k := range md.Keys() {
		if len(k) != 2 || k[0] != "axes" {
			continue
		}
		key := k[1]
		ax, err := s.parseAxis(key, f.Axes[key])
		if err != nil {
			return nil, fail("axes."+tomlKeyOf(key), "%v", err)
		}
		seen[key] = true
		s.Axes = append(s.Axes, ax)
	}
	// An unquoted key path in [axes] (cache.l2.ways = [4, 8]) is nested
	// tables to TOML, not an axis; say so rather than drop it.
	for _, k := range md.Keys() {
		if len(k) > 2 && k[0] == "axes" && !seen[k[1]] {
			return nil, fail("axes."+strings.Join(k[1:], "."), "not an axis; quote a key path in [axes] as one key, such as %q = [...]",
				strings.Join(k[1:], "."))
		}
	}
	if len(s.Axes) == 0 {
		return nil, fail("axes", "no axis; a sweep needs at least one key to vary")
	}

	inZip := map[string]bool{}
	for gi, g := range s.Zip {
		if len(g) < 2 {
			return nil, fail(fmt.Sprintf("sweep.zip[%d]", gi), "a zip group needs at least two axes")
		}
		n := -1
		for _, key := range g {
			if !seen[key] {
				return nil, fail(fmt.Sprintf("sweep.zip[%d]", gi), "%q is not an axis", key)
			}
			if inZip[key] {
				return nil, fail(fmt.Sprintf("sweep.zip[%d]", gi), "%q is in two zip groups", key)
			}
			inZip[key] = true
			l := len(s.axis(key).Values)
			if n >= 0 && l != n {
				return nil, fail(fmt.Sprintf("sweep.zip[%d]", gi), "axes of a zip group need equal lengths; %q has %d values, the group %d", key, l, n)
			}
			n = l
		}
	}
	if s.Metrics == nil {
		s.Metrics = DefaultMetrics
		if cfg, err := configs.Parse(s.base, s.baseName, s.sets); err == nil && cfg.Run.Scenario == "exec" {
			s.Metrics = ExecDefaultMetrics
		}
	}
	if len(s.Metrics) == 0 {
		return nil, fail("sweep.metrics", "is empty; list statistics such as host0.backup.mean_bytes_line_log, or leave it out for the defaults")
	}
	if err := checkMetrics(s.base, s.baseName, s.sets, s.Metrics); err != nil {
		return nil, fail("sweep.metrics", "%v", err)
	}
	if err := s.enumerate(); err != nil {
		return nil, err
	}
	return s, nil
}

func tomlKeyOf(k string) string {
	if validName(k) {
		return k
	}
	return strconv.Quote(k)
}

func validName(s string) bool {
	if len(s) < 1 || len(s) > 60 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func parseSeeds(raw any) ([]uint64, error) {
	switch v := raw.(type) {
	case nil:
		return []uint64{1}, nil
	case int64:
		if v < 1 || v > 10000 {
			return nil, fmt.Errorf("%d is not allowed; must be a count 1..10000 or a list of seeds", v)
		}
		out := make([]uint64, v)
		for i := range out {
			out[i] = uint64(i + 1)
		}
		return out, nil
	case []any:
		if len(v) == 0 {
			return nil, fmt.Errorf("the list is empty")
		}
		seen := map[int64]bool{}
		var out []uint64
		for _, e := range v {
			n, ok := e.(int64)
			if !ok || n < 0 {
				return nil, fmt.Errorf("%s is not allowed; seeds are integers 0..9223372036854775807", configs.FormatValue(e))
			}
			if seen[n] {
				return nil, fmt.Errorf("seed %d is listed twice", n)
			}
			seen[n] = true
			out = append(out, uint64(n))
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s is not allowed; must be a count or a list of seeds", configs.FormatValue(raw))
}

// parseAxis reads one axis: a list of values or a range table. Every value
// must be valid on its own over the base scenario.
// zipped reports whether axis key is in a zip group.
func (s *Sweep) zipped(key string) bool {
	for _, g := range s.Zip {
		if slices.Contains(g, key) {
			return true
		}
	}
	return false
}

func (s *Sweep) parseAxis(key string, raw any) (Axis, error) {
	if key == "run.seed" {
		return Axis{}, fmt.Errorf("vary seeds with sweep.seeds, not as an axis")
	}
	ax := Axis{Key: key}
	switch v := raw.(type) {
	case []any:
		if len(v) == 0 {
			return ax, fmt.Errorf("the axis has no values")
		}
		for _, e := range v {
			ax.Values = append(ax.Values, configs.FormatValue(e))
		}
	case []map[string]any:
		return ax, fmt.Errorf("an axis is a list of values or a range table, not a list of tables")
	case map[string]any:
		var r configs.Range
		for k, val := range v {
			switch k {
			case "start":
				r.Start = val
			case "stop":
				r.Stop = val
			case "step":
				r.Step = val
			case "count":
				n, ok := val.(int64)
				if !ok || n < 2 || n > 100000 {
					return ax, fmt.Errorf("count %s is not allowed; must be an integer 2..100000", configs.FormatValue(val))
				}
				r.Count = int(n)
			case "log":
				b, ok := val.(bool)
				if !ok {
					return ax, fmt.Errorf("log %s is not allowed; must be true or false", configs.FormatValue(val))
				}
				r.Log = b
			default:
				return ax, fmt.Errorf("unknown range key %q (allowed: start, stop, step, count, log; "+
					"a key path in [axes] is quoted as one key, such as \"cache.l2.size\")", k)
			}
		}
		if r.Start == nil || r.Stop == nil {
			return ax, fmt.Errorf("a range needs start and stop")
		}
		vals, err := configs.RangeValues(key, r)
		if err != nil {
			return ax, err
		}
		ax.Values = vals
	default:
		return ax, fmt.Errorf("%s is not allowed; an axis is a list of values or a range table", configs.FormatValue(raw))
	}
	if len(ax.Values) == 0 {
		return ax, fmt.Errorf("the axis has no values")
	}
	// Two spellings of one value ("1ms" and "1000us") would be one point
	// twice, so values are compared by the configuration they give.
	seen := map[string]string{}
	for _, val := range ax.Values {
		cfg, err := configs.Parse(s.base, s.baseName, append(append([]string(nil), s.sets...), key+"="+val))
		if err != nil {
			return ax, err
		}
		var b bytes.Buffer
		if err := configs.Dump(&b, cfg); err != nil {
			return ax, err
		}
		if prev, dup := seen[b.String()]; dup && !s.zipped(key) {
			// (A zipped axis may repeat a value: its points are its group's
			// tuples, which the point check keeps distinct.)
			if prev == val {
				return ax, fmt.Errorf("value %s is listed twice", val)
			}
			return ax, fmt.Errorf("values %s and %s are the same value", prev, val)
		}
		seen[b.String()] = val
		ax.Labels = append(ax.Labels, label(val))
	}
	return ax, nil
}

// label is an override value as written in result files: strings without
// their quotes.
func label(val string) string {
	if u, err := strconv.Unquote(val); err == nil && strings.HasPrefix(val, `"`) {
		return u
	}
	return val
}

func (s *Sweep) axis(key string) *Axis {
	for i := range s.Axes {
		if s.Axes[i].Key == key {
			return &s.Axes[i]
		}
	}
	return nil
}

// ID returns a stable identity of the sweep: a hash of the twinsim
// version, its file text, its base configuration's text, command-line
// overrides and whether it is the quick variant. Resuming and merging check
// it, so results of two versions are never mixed.
func (s *Sweep) ID() string {
	h := sha256.New()
	h.Write([]byte(Version + "\x00"))
	h.Write(s.text)
	h.Write([]byte{0})
	h.Write(s.base)
	for _, e := range s.extra {
		h.Write([]byte("\x00" + e))
	}
	if s.quick {
		h.Write([]byte("\x00quick"))
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Quick reports whether the sweep is the quick variant.
func (s *Sweep) Quick() bool { return s.quick }

// Text returns the sweep file as read.
func (s *Sweep) Text() []byte { return s.text }

// Points returns every point: the axes' combinations (zip groups moving
// together), first axis slowest, times the seeds. A point whose
// combination is invalid carries the error and still has a name. The
// slice is the sweep's own; callers must not modify it.
func (s *Sweep) Points() []Point { return s.points }

// enumerate builds s.points and checks that no two points are the same
// run, which would share a directory (two axes that set one key, say).
func (s *Sweep) enumerate() error {
	// A typo such as two axes of count = 100000 must be an error, not an
	// hour of enumeration.
	dims := s.dims()
	total := len(s.Seeds)
	for _, d := range dims {
		if total *= len(s.Axes[d[0]].Values); total > maxPoints {
			return fmt.Errorf("%s: the sweep has more than %d points (axes times seeds); split it or use fewer values", s.source, maxPoints)
		}
	}
	s.points = s.cross(dims)
	byName := make(map[string]int, len(s.points))
	for _, p := range s.points {
		if j, dup := byName[p.Name]; dup {
			q := s.points[j]
			return fmt.Errorf("%s: axes: points %d (%s) and %d (%s) are the same configuration; "+
				"an axis repeats a value or two axes set the same key", s.source, q.Index, pointLabel(s, q), p.Index, pointLabel(s, p))
		}
		byName[p.Name] = p.Index
	}
	return nil
}

// maxPoints bounds the points of one sweep.
const maxPoints = 1_000_000

// pointLabel describes a point by its axis values and seed, for messages.
func pointLabel(s *Sweep, p Point) string {
	var parts []string
	for i, ax := range s.Axes {
		parts = append(parts, ax.Key+"="+p.Labels[i])
	}
	return strings.Join(append(parts, "seed "+strconv.FormatUint(p.Seed, 10)), ", ")
}

// dims returns the dimensions of the cross product, in axis order: each
// a list of axis indices, one axis or a zip group (placed where its first
// axis is).
func (s *Sweep) dims() [][]int {
	grouped := map[string]int{}
	for gi, g := range s.Zip {
		for _, k := range g {
			grouped[k] = gi
		}
	}
	var dims [][]int
	placed := map[int]bool{}
	for i, ax := range s.Axes {
		gi, ok := grouped[ax.Key]
		if !ok {
			dims = append(dims, []int{i})
			continue
		}
		if placed[gi] {
			continue
		}
		placed[gi] = true
		var d []int
		for j, ax2 := range s.Axes {
			if g2, ok := grouped[ax2.Key]; ok && g2 == gi {
				d = append(d, j)
			}
		}
		dims = append(dims, d)
	}
	return dims
}

// cross enumerates the points over dims.
func (s *Sweep) cross(dims [][]int) []Point {
	var pts []Point
	idx := make([]int, len(dims))
	for {
		choice := make([]int, len(s.Axes))
		for di, d := range dims {
			for _, a := range d {
				choice[a] = idx[di]
			}
		}
		for _, seed := range s.Seeds {
			p := Point{Index: len(pts), Seed: seed}
			p.Sets = append(p.Sets, s.sets...)
			for a, ax := range s.Axes {
				p.Labels = append(p.Labels, ax.Labels[choice[a]])
				p.Sets = append(p.Sets, ax.Key+"="+ax.Values[choice[a]])
			}
			p.Sets = append(p.Sets, "run.seed="+strconv.FormatUint(seed, 10))
			p.Config, p.Err = configs.Parse(s.base, s.baseName, p.Sets)
			p.Name = pointName(p)
			pts = append(pts, p)
		}
		// Odometer over the dimensions, last fastest.
		d := len(dims) - 1
		for ; d >= 0; d-- {
			idx[d]++
			if idx[d] < len(s.Axes[dims[d][0]].Values) {
				break
			}
			idx[d] = 0
		}
		if d < 0 {
			return pts
		}
	}
}

// pointName is the run directory name of a point: as `twinsim run` names
// it (scenario, seed, hash of the effective configuration), or for an
// invalid combination "invalid-<hash of its overrides>".
func pointName(p Point) string {
	if p.Err != nil {
		sum := sha256.Sum256([]byte(strings.Join(p.Sets, "\n")))
		return "invalid-s" + strconv.FormatUint(p.Seed, 10) + "-" + hex.EncodeToString(sum[:4])
	}
	var b bytes.Buffer
	if err := configs.Dump(&b, p.Config); err != nil {
		panic(fmt.Sprintf("experiment: dumping a valid configuration: %v", err))
	}
	return runName(p.Config, b.Bytes())
}

// runName names a run directory: scenario, seed and the first 8 hex digits
// of the SHA-256 of the effective configuration's TOML.
func runName(cfg configs.Config, cfgTOML []byte) string {
	sum := sha256.Sum256(cfgTOML)
	return fmt.Sprintf("%s-s%d-%s", cfg.Run.Name, cfg.Run.Seed, hex.EncodeToString(sum[:4]))
}

// ExecDefaultMetrics are the statistics a sweep of the exec scenario
// reports when its file lists none: core 0's cycles, instructions, IPC and
// region of interest.
var ExecDefaultMetrics = []string{
	"host0.core0.cycles",
	"host0.core0.guest_instructions",
	"host0.core0.ipc",
	"host0.core0.exited",
	"host0.core0.exit_code",
	"host0.core0.roi.cycles",
	"host0.core0.roi.guest_instructions",
}

// DefaultMetrics are the statistics a sweep reports when its file lists
// none: the backup scenario's headline numbers.
var DefaultMetrics = []string{
	"host0.backup.checkpoints",
	"host0.backup.mean_bytes_line_log",
	"host0.backup.mean_bytes_page_4k",
	"host0.backup.mean_bytes_page_64k",
	"host0.backup.mean_bytes_full_copy",
	"host0.backup.mean_log_entries",
	"host0.backup.evict_share",
	"host0.backup.pause.mean",
	"host0.backup.image_mismatches",
	"host0.imlog.overflows",
	"host0.imlog.dropped",
}

// lookupStat resolves a metric "component.path.name" — where name may be a
// histogram field such as "pause.p99" — in st.
func lookupStat(st *sim.Stats, metric string) (float64, bool) {
	parts := strings.Split(metric, ".")
	for cut := len(parts) - 1; cut >= 1; cut-- {
		if v, ok := st.Lookup(strings.Join(parts[:cut], "."), strings.Join(parts[cut:], ".")); ok {
			return v, true
		}
	}
	return 0, false
}

// checkMetrics builds the base scenario (without running it) and checks
// that every metric names a statistic it registers.
func checkMetrics(base []byte, baseName string, sets, metrics []string) error {
	cfg, err := configs.Parse(base, baseName, sets)
	if err != nil {
		return err
	}
	env := sim.NewEnv(uint64(cfg.Run.Seed))
	if _, err := buildScenario(env, cfg); err != nil {
		return err
	}
	var bad []string
	seen := map[string]bool{}
	for _, m := range metrics {
		if seen[m] {
			return fmt.Errorf("%q is listed twice", m)
		}
		seen[m] = true
		if _, ok := lookupStat(env.Stats, m); !ok {
			bad = append(bad, m)
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return fmt.Errorf("no such statistic: %s (stats.csv of a run lists them as path,name)", strings.Join(bad, ", "))
	}
	return nil
}

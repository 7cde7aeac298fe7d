package configs

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const cacheL2Keys = "bank_cycles, banks, enabled, inclusive, latency, mshrs, prefetch_degree, prefetch_distance, prefetch_streams, replacement, size, ways, write_buffer, write_policy, write_streaming"

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, toml, err string
	}{
		{"misspelt key", "[cache.l2]\nwayz = 4",
			`t.toml: cache.l2.wayz: unknown key (allowed keys in cache.l2: ` + cacheL2Keys + `; did you mean "ways"?)`},
		{"capitalised key", "[cache.l2]\nWays = 4",
			`t.toml: cache.l2.Ways: unknown key (allowed keys in cache.l2: ` + cacheL2Keys + `; did you mean "ways"?)`},
		{"unknown key without suggestion", "[cache.l2]\ncolour = 4",
			`t.toml: cache.l2.colour: unknown key (allowed keys in cache.l2: ` + cacheL2Keys + `)`},
		{"ambiguous suggestion", "[cache.l4]\nsize = 4",
			`t.toml: cache.l4: unknown key (allowed keys in cache: coherence, l1, l1i, l2, l3, line_size)`},
		{"unknown top-level table", "[hots]\ncores = 4",
			`t.toml: hots: unknown key (allowed keys at top level: backup, cache, client, core, dram, exec, fault, ha, host, hypervisor, network, nic, output, recovery, run, tlb, translator, vm; did you mean "host"?)`},
		{"unknown key in vm", "[[vm]]\nname = \"a\"\ncore = [0]",
			`t.toml: vm[0].core: unknown key (allowed keys in vm[0]: backed_up, bulk, cores, memory, memory_limit, name, program, role, service, vf, workload; did you mean "cores"?)`},
		{"string for integer", "[cache.l2]\nways = \"eight\"",
			`t.toml: cache.l2.ways: "eight" has type string; must be an integer`},
		{"float for integer", "[cache.l2]\nways = 8.0",
			`t.toml: cache.l2.ways: 8.0 has type float; must be an integer`},
		{"integer for boolean", "[cache.l2]\nenabled = 1",
			`t.toml: cache.l2.enabled: 1 has type integer; must be a boolean (true or false)`},
		{"integer for enum", "[cache.l2]\nreplacement = 1",
			`t.toml: cache.l2.replacement: 1 has type integer; must be a string, one of lru, plru, random`},
		{"integer for duration", "[run]\nduration = 20",
			`t.toml: run.duration: 20 has type integer; must be ` + durationSyntax},
		{"bad size string", "[cache.l2]\nsize = \"big\"",
			`t.toml: cache.l2.size: "big" is not a size; must be ` + sizeSyntax},
		{"negative size", "[host]\nmemory = -1",
			`t.toml: host.memory: -1 is not allowed; must be a non-negative byte count`},
		{"negative uint", "[run]\nseed = -1",
			`t.toml: run.seed: -1 is not allowed; must be 0..9223372036854775807`},
		{"value for table", "run = 1",
			`t.toml: run: 1 has type integer; must be a table`},
		{"table for vm array", "[vm]\nname = \"a\"",
			`t.toml: vm: {name = "a"} has type table; must be an array of tables`},
		{"string in cores", "[[vm]]\nname = \"a\"\ncores = [0, \"one\"]",
			`t.toml: vm[0].cores[1]: "one" has type string; must be an integer`},
		{"table for scalar", "[tlb.ways]\nx = 1",
			`t.toml: tlb.ways: {x = 1} has type table; must be an integer`},
		{"datetime", "[run]\nname = 2024-01-02T03:04:05Z",
			`t.toml: run.name: 2024-01-02T03:04:05Z has type datetime; must be a string`},
		{"long value is shortened", "[run]\nname = [" + strings.Repeat("1, ", 40) + "1]",
			`t.toml: run.name: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,... has type array; must be a string`},
		{"out of range", "[cache.l2]\nways = 0",
			`t.toml: cache.l2.ways: 0 is not allowed; must be 1..64`},
		{"out of range size", "[host]\nmemory = \"8MiB\"",
			`t.toml: host.memory: 8MiB is not allowed; must be 16MiB..1TiB`},
		{"out of range in array", "[[vm]]\nname = \"a\"\n[vm.workload]\npattern = \"zipf\"\n[[vm]]\nname = \"b\"\ncores = [1]\n[vm.workload]\npattern = \"zipff\"",
			`t.toml: vm[1].workload.pattern: "zipff" is not allowed; must be one of uniform, zipf, sequential, strided`},
		{"several errors, sorted by key", "[cache.l2]\nwayz = 4\nways = \"x\"\nsize = true",
			"t.toml: cache.l2.size: true has type boolean; must be " + sizeSyntax + "\n" +
				`t.toml: cache.l2.ways: "x" has type string; must be an integer` + "\n" +
				`t.toml: cache.l2.wayz: unknown key (allowed keys in cache.l2: ` + cacheL2Keys + `; did you mean "ways"?)`},
		{"syntax error names the line", "[run]\nname = \"x\"\nseed = = 3",
			`t.toml:3: invalid TOML: expected value but found '=' instead`},
		{"duplicate key", "[run]\nseed = 1\nseed = 2",
			`t.toml:3: invalid TOML: Key 'run.seed' has already been defined.`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.toml), "t.toml", nil)
			require.EqualError(t, err, tc.err)
		})
	}
}

func TestParseFieldErrorFields(t *testing.T) {
	_, err := Parse([]byte("[cache.l2]\nways = 0"), "t.toml", nil)
	var fe *FieldError
	require.ErrorAs(t, err, &fe)
	require.Equal(t, FieldError{Source: "t.toml", Path: "cache.l2.ways", Msg: "0 is not allowed; must be 1..64"}, *fe)
}

func TestParseAppliesFileOntoDefaults(t *testing.T) {
	cfg, err := Parse([]byte("[cache.l2]\nways = 4\nsize = 262144\n[backup]\noverflow = \"drop\"\n"), "t.toml", nil)
	require.NoError(t, err)
	want := Default()
	want.Cache.L2.Ways = 4
	want.Cache.L2.Size = 256 * KiB
	want.Backup.Overflow = OverflowDrop
	require.Equal(t, want, cfg)
}

func TestParseVMDefaults(t *testing.T) {
	cfg, err := Parse([]byte("[[vm]]\nname = \"x\"\ncores = [0]\n"), "t.toml", nil)
	require.NoError(t, err)
	want := DefaultVM()
	want.Name = "x"
	require.Equal(t, []VMConfig{want}, cfg.VMs)

	cfg, err = Parse([]byte("[[vm]]\nname = \"a\"\n[vm.workload]\nstride = \"64B\"\n[[vm]]\nname = \"b\"\nbacked_up = false\ncores = [1]\n"), "t.toml", nil)
	require.NoError(t, err)
	require.Len(t, cfg.VMs, 2)
	require.Equal(t, Size(64), cfg.VMs[0].Workload.Stride)
	require.Equal(t, Size(4*KiB), cfg.VMs[1].Workload.Stride, "elements do not share defaults")
	require.False(t, cfg.VMs[1].BackedUp)
	require.Equal(t, []int{1}, cfg.VMs[1].Cores)

	// Inline arrays of tables work too.
	cfg, err = Parse([]byte("vm = [{name = \"a\"}, {name = \"b\", cores = [1]}]\n"), "t.toml", nil)
	require.NoError(t, err)
	require.Equal(t, "b", cfg.VMs[1].Name)
	require.Equal(t, []int{1}, cfg.VMs[1].Cores)

	// Decoding does not modify the defaults of later calls.
	require.Equal(t, []int{0}, DefaultVM().Cores)
	require.Len(t, Default().VMs, 2)
}

func TestParseEmptyVMList(t *testing.T) {
	_, err := Parse([]byte("vm = []\n"), "t.toml", nil)
	require.EqualError(t, err, "t.toml: vm: no [[vm]] table; at least one VM is required")
}

func TestSetOverrides(t *testing.T) {
	for _, tc := range []struct {
		sets []string
		want func(*Config)
	}{
		{[]string{"cache.l2.ways=4"}, func(c *Config) { c.Cache.L2.Ways = 4 }},
		{[]string{" cache.l2.ways = 4 "}, func(c *Config) { c.Cache.L2.Ways = 4 }},
		{[]string{"backup.overflow=drop"}, func(c *Config) { c.Backup.Overflow = OverflowDrop }},
		{[]string{`backup.overflow="stall"`}, func(c *Config) { c.Backup.Overflow = OverflowStall }},
		{[]string{"run.duration=5ms"}, func(c *Config) { c.Run.Duration = Duration(5_000_000_000) }},
		{[]string{"run.name=2024"}, func(c *Config) { c.Run.Name = "2024" }},
		{[]string{"run.name=true"}, func(c *Config) { c.Run.Name = "true" }},
		{[]string{"run.seed=42"}, func(c *Config) { c.Run.Seed = 42 }},
		{[]string{"host.cores=4", "vm[0].cores=[0,2]"}, func(c *Config) { c.Host.Cores = 4; c.VMs[0].Cores = []int{0, 2} }},
		{[]string{"host.cores=4", "vm[1].cores[1]=3"}, func(c *Config) { c.Host.Cores = 4; c.VMs[1].Cores = []int{1, 3} }},
		{[]string{"cache.l1.size=64KiB"}, func(c *Config) { c.Cache.L1.Size = 64 * KiB }},
		{[]string{"cache.l1.size=65536"}, func(c *Config) { c.Cache.L1.Size = 64 * KiB }},
		{[]string{"dram.bandwidth=10Gb/s"}, func(c *Config) { c.DRAM.Bandwidth = 1_250_000_000 }},
		{[]string{"host.freq=2.5GHz"}, func(c *Config) { c.Host.Freq = 2_500_000_000 }},
		{[]string{"hypervisor.store_fraction=0"}, func(c *Config) { c.Hypervisor.StoreFraction = 0 }},
		{[]string{"vm[1].workload.pattern=strided"}, func(c *Config) { c.VMs[1].Workload.Pattern = PatternStrided }},
		{[]string{"vm[1].backed_up=true"}, func(c *Config) { c.VMs[1].BackedUp = true }},
		{[]string{`cache.l2={size="1MiB", ways=16}`}, func(c *Config) { c.Cache.L2.Size = MiB; c.Cache.L2.Ways = 16 }},
		{[]string{`vm[0]={memory="1GiB"}`}, func(c *Config) { c.VMs[0].Memory = GiB }},
		{[]string{"host.cores=3", "vm[2].name=third", "vm[2].cores=[2]"}, func(c *Config) {
			c.Host.Cores = 3
			v := DefaultVM()
			v.Name, v.Cores = "third", []int{2}
			c.VMs = append(c.VMs, v)
		}},
		{[]string{`vm=[{name="solo"}]`}, func(c *Config) {
			v := DefaultVM()
			v.Name = "solo"
			c.VMs = []VMConfig{v}
		}},
		{[]string{"cache.l2.ways=4", "cache.l2.ways=16"}, func(c *Config) { c.Cache.L2.Ways = 16 }},
	} {
		t.Run(strings.Join(tc.sets, " "), func(t *testing.T) {
			got, err := Parse(nil, "t.toml", tc.sets)
			require.NoError(t, err)
			want := Default()
			tc.want(&want)
			require.Equal(t, want, got)
		})
	}
}

func TestSetOverridesFileValues(t *testing.T) {
	cfg, err := Parse([]byte("[cache.l2]\nways = 4\n"), "t.toml", []string{"cache.l2.ways=2"})
	require.NoError(t, err)
	require.Equal(t, 2, cfg.Cache.L2.Ways)
}

func TestSetErrors(t *testing.T) {
	for _, tc := range []struct {
		sets []string
		err  string
	}{
		{[]string{"cache.l2.wayz=4"},
			`--set cache.l2.wayz=4: cache.l2.wayz: unknown key (allowed keys in cache.l2: ` + cacheL2Keys + `; did you mean "ways"?)`},
		{[]string{"cach.l2.ways=4"},
			`--set cach.l2.ways=4: cach: unknown key (allowed keys at top level: backup, cache, client, core, dram, exec, fault, ha, host, hypervisor, network, nic, output, recovery, run, tlb, translator, vm; did you mean "cache"?)`},
		{[]string{"cache.l2.ways=eight"},
			`--set cache.l2.ways=eight: cache.l2.ways: "eight" has type string; must be an integer`},
		{[]string{"cache.l2.ways=0"},
			`--set cache.l2.ways=0: cache.l2.ways: 0 is not allowed; must be 1..64`},
		{[]string{"vm[1].workload.pattern=zipff"},
			`--set vm[1].workload.pattern=zipff: vm[1].workload.pattern: "zipff" is not allowed; must be one of uniform, zipf, sequential, strided`},
		{[]string{"vm[5].name=x"},
			`--set vm[5].name=x: vm[5]: index out of range; vm has 2 elements (index 2 appends one)`},
		{[]string{"run[0].name=x"},
			`--set run[0].name=x: run: has no element [0]; it is not an array`},
		{[]string{"run.seed.x=1"},
			`--set run.seed.x=1: run.seed: has no key "x"; it is a value, not a table`},
		{[]string{"cache..ways=1"},
			`--set cache..ways=1: cache..ways: not a key path; use dotted keys with [N] for array elements, such as vm[0].workload.pattern`},
		{[]string{"cache.l2.ways"},
			`--set cache.l2.ways: an override must be key.path=value, such as cache.l2.ways=4`},
		{[]string{"=4"},
			`--set =4: an override must be key.path=value, such as cache.l2.ways=4`},
		{[]string{"run.duration=5"},
			`--set run.duration=5: run.duration: 5 has type integer; must be ` + durationSyntax},
		{[]string{"cache.l2=4"},
			`--set cache.l2=4: cache.l2: 4 has type integer; must be a table`},
		{[]string{"cache.l2.ways=1", "tlb.wayz=2"},
			`--set tlb.wayz=2: tlb.wayz: unknown key (allowed keys in tlb: entries, walk_latency, walk_levels, ways; did you mean "ways"?)`},
		// A cross-field rule broken by an override names the override.
		{[]string{"cache.l3.write_policy=write-through"},
			`--set cache.l3.write_policy=write-through: cache.l3.write_policy: "write-through" is not allowed; the last enabled level must be write-back (image-modification flags live in write-back levels)`},
		{[]string{"cache.l2={ways=7}"},
			`--set cache.l2={ways=7}: cache.l2.size: 512KiB is not allowed; must be ways × line_size × a power of two (7 × 128B × 2^k)`},
		// One that breaks a rule on another key names the file.
		{[]string{"host.cores=1"},
			`t.toml: vm[1].cores[0]: 1 is not allowed; must be 0..0 (host.cores - 1)`},
	} {
		t.Run(strings.Join(tc.sets, " "), func(t *testing.T) {
			_, err := Parse(nil, "t.toml", tc.sets)
			require.EqualError(t, err, tc.err)
		})
	}
}

// TestEveryEnumValue sets every allowed value of every enum key and checks
// that each parses and a misspelt one is refused with the list.
func TestEveryEnumValue(t *testing.T) {
	type enumKey struct{ path, tag string }
	var keys []enumKey
	var walk func(t reflect.Type, path string)
	walk = func(t reflect.Type, path string) {
		for i := range t.NumField() {
			f := t.Field(i)
			p := joinPath(path, keyName(f))
			switch {
			case f.Type.Kind() == reflect.Struct:
				walk(f.Type, p)
			case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
				walk(f.Type.Elem(), p+"[0]")
			case f.Tag.Get("enum") != "":
				keys = append(keys, enumKey{p, f.Tag.Get("enum")})
			}
		}
	}
	walk(reflect.TypeFor[Config](), "")
	var paths []string
	for _, k := range keys {
		paths = append(paths, k.path)
	}
	require.Equal(t, []string{"run.scenario", "host.page_size", "host.page_placement", "host.contention", "core.model", "core.mem_dependence", "core.predictor", "translator.strategy", "cache.l1.replacement",
		"cache.l1.write_policy", "cache.l1i.replacement", "cache.l1i.write_policy", "cache.l2.replacement", "cache.l2.write_policy", "cache.l3.replacement", "cache.l3.write_policy",
		"cache.coherence.protocol", "backup.overflow", "vm[0].workload.pattern", "vm[0].role", "vm[0].service.dist", "nic.buffering", "nic.scheduler",
		"nic.overflow", "ha.method", "ha.transport", "ha.fencing", "ha.after_failover", "client[0].mode", "client[0].protocol", "client[0].kv.poison_kind", "fault[0].kind", "fault[0].host", "recovery.mode"}, paths)

	for _, k := range keys {
		for _, v := range strings.Split(k.tag, ",") {
			sets := []string{k.path + "=" + v}
			if k.path == "cache.l3.write_policy" && v == "write-through" {
				sets = append(sets, "cache.l3.enabled=false") // only the last level must be write-back
			}
			if k.path == "run.scenario" && v == "exec" {
				sets = append(sets, `exec.command="prog"`)
			}
			if k.path == "vm[0].role" && v != "memory" {
				sets = append(sets, "run.scenario=ha-nic") // network VMs run only there
			}
			if k.path == "client[0].protocol" && v == "kv" {
				// a kv client's server is a program VM with a virtual function
				sets = append(sets, "run.scenario=ha-nic", `vm[0].role="program"`, `vm[0].program="kvserver 7000"`, `client[0].vm="protected"`)
			}
			if strings.HasPrefix(k.path, "fault[0].") {
				sets = append(sets, "run.scenario=ha-nic", "fault[0].at=1ms") // faults are injected there, at a time
			}
			if k.path == "fault[0].kind" && v == "app-crash" {
				sets = append(sets, `vm[0].role="program"`, `vm[0].program="kvserver 7000"`, `fault[0].vm="protected"`)
			}
			if k.path == "fault[0].kind" && v == "nic-reset" {
				sets = append(sets, "fault[0].duration=1ms") // the time the reset takes
			}
			if k.path == "fault[0].host" && v == "spare" {
				// a spare host exists when failover re-protects onto it
				sets = append(sets, `vm[0].role="program"`, `vm[0].program="kvserver 7000"`, "vm[1].backed_up=false",
					"ha.failover=true", `ha.after_failover="spare"`)
			}
			if k.path == "vm[0].role" && v == "program" {
				sets = append(sets, `vm[0].program="sieve"`)
			}
			cfg, err := Parse(nil, "t.toml", sets)
			require.NoError(t, err, sets)
			got, err := lookup(cfg, k.path)
			require.NoError(t, err)
			require.Equal(t, tomlString(v), tomlValue(got), k.path)
		}
		bogus, shown := "bogus", `"bogus"`
		if k.path == "host.page_size" {
			bogus, shown = "8KiB", "8KiB"
		}
		sets := []string{k.path + "=" + bogus}
		if strings.HasPrefix(k.path, "fault[0].") {
			sets = append([]string{"run.scenario=ha-nic", "fault[0].at=1ms"}, sets...)
		}
		_, err := Parse(nil, "t.toml", sets)
		require.EqualError(t, err, "--set "+k.path+"="+bogus+": "+k.path+": "+shown+" is not allowed; must be one of "+
			strings.ReplaceAll(k.tag, ",", ", "))
	}
}

// lookup returns the value at a key path with single-digit indices.
func lookup(cfg Config, path string) (reflect.Value, error) {
	v := reflect.ValueOf(&cfg).Elem()
	for _, seg := range strings.Split(path, ".") {
		name, idx, indexed := strings.Cut(strings.TrimSuffix(seg, "]"), "[")
		i, ok := field(v.Type(), name)
		if !ok {
			return v, errors.New("no key " + name)
		}
		v = v.Field(i)
		if indexed {
			v = v.Index(int(idx[0] - '0'))
		}
	}
	return v, nil
}

func TestLoad(t *testing.T) {
	def, err := Load("", nil)
	require.NoError(t, err)
	require.Equal(t, Default(), def)

	for _, name := range []string{"default", "default.toml"} {
		cfg, err := Load(name, []string{"cache.l2.ways=4"})
		require.NoError(t, err)
		require.Equal(t, 4, cfg.Cache.L2.Ways)
	}

	path := filepath.Join(t.TempDir(), "mine.toml")
	require.NoError(t, os.WriteFile(path, []byte("[run]\nname = \"mine\"\n[tlb]\nways = 0\n"), 0o644))
	_, err = Load(path, nil)
	require.EqualError(t, err, path+": tlb.ways: 0 is not allowed; must be 1..64")
	require.NoError(t, os.WriteFile(path, []byte("[run]\nname = \"mine\"\n"), 0o644))
	cfg, err := Load(path, nil)
	require.NoError(t, err)
	require.Equal(t, "mine", cfg.Run.Name)

	_, err = Load("nonesuch", nil)
	require.EqualError(t, err, `config "nonesuch": no such file and no embedded configuration of that name (embedded: `+
		strings.Join(Embedded(), ", ")+")")
	_, err = Load(t.TempDir(), nil)
	require.ErrorContains(t, err, "no such file and no embedded configuration")

	_, err = Load("backup-overflow", []string{"backup.log_size=100"})
	require.EqualError(t, err, "--set backup.log_size=100: backup.log_size: 100B is not allowed; must be 1KiB..1GiB")
}

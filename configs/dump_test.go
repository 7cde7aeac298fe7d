package configs

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func dump(t require.TestingT, c Config) []byte {
	var b bytes.Buffer
	require.NoError(t, Dump(&b, c))
	return b.Bytes()
}

func TestDumpRoundTrip(t *testing.T) {
	for _, name := range Embedded() {
		t.Run(name, func(t *testing.T) {
			cfg, err := Load(name, nil)
			require.NoError(t, err)
			out := dump(t, cfg)
			again, err := Parse(out, "dump", nil)
			require.NoError(t, err)
			require.Equal(t, cfg, again)
			require.Equal(t, out, dump(t, again), "byte-deterministic")
		})
	}
}

func TestDumpFormat(t *testing.T) {
	c := Default()
	c.Cache.L2.Ways = 16
	c.Cache.L2.Size = MiB
	c.DRAM.Bandwidth = 1_250_000_000
	c.Hypervisor.StoreFraction = 0
	out := string(dump(t, c))
	for _, want := range []string{
		"\n# level 2 cache, private per core\n[cache.l2]\n",
		"\n# associativity: lines per set (allowed: 1..64; default: 8)\nways = 16\n",
		"\n# capacity (allowed: 1KiB..1GiB, ways × line_size × a power of two; default: \"512KiB\")\nsize = \"1MiB\"\n",
		"\nbandwidth = \"1.25GB/s\"\n",
		"\nstore_fraction = 0.0\n",
		"\n# replacement policy (allowed: one of lru, plru, random; default: \"lru\")\nreplacement = \"lru\"\n",
		"\n[[vm]]\n# VM name, unique (allowed: 1..40 characters from a-z, 0-9, _ and -; default: \"protected\")\nname = \"protected\"\n",
		"\ncores = [1]\n",
		"\n[vm.workload]\n",
		"\nduration = \"20ms\"\n",
		"\nfreq = \"3GHz\"\n",
	} {
		require.Contains(t, out, want)
	}
	// Tables come in schema order.
	var headers []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "[") {
			headers = append(headers, line)
		}
	}
	require.Equal(t, []string{"[run]", "[host]", "[tlb]", "[core]", "[translator]", "[cache]", "[cache.l1]", "[cache.l1i]", "[cache.l2]", "[cache.l3]", "[cache.coherence]",
		"[dram]", "[backup]", "[hypervisor]", "[[vm]]", "[vm.workload]", "[vm.service]", "[vm.bulk]",
		"[[vm]]", "[vm.workload]", "[vm.service]", "[vm.bulk]", "[exec]", "[nic]", "[ha]", "[network]", "[recovery]", "[output]"}, headers)
}

// TestEveryFieldDocumented: every key has a TOML name and a one-line doc,
// and every range and enum tag parses for its field's type.
func TestEveryFieldDocumented(t *testing.T) {
	n := 0
	var walk func(t2 reflect.Type, path string)
	walk = func(t2 reflect.Type, path string) {
		for i := range t2.NumField() {
			f := t2.Field(i)
			p := joinPath(path, keyName(f))
			n++
			require.NotEmpty(t, keyName(f), "%s.%s has no toml tag", t2, f.Name)
			doc := f.Tag.Get("doc")
			require.NotEmpty(t, doc, "%s has no doc tag", p)
			require.NotContains(t, doc, "\n", p)
			if r := f.Tag.Get("range"); r != "" {
				lo, hi, ok := strings.Cut(r, "..")
				require.True(t, ok, p)
				for _, b := range []string{lo, hi} {
					_, err := bound(f.Type, b)
					require.NoError(t, err, "%s: range bound %q", p, b)
				}
			}
			if e := f.Tag.Get("enum"); e != "" {
				for _, o := range strings.Split(e, ",") {
					_, err := bound(f.Type, o)
					require.NoError(t, err, "%s: enum value %q", p, o)
				}
			}
			switch {
			case f.Type.Kind() == reflect.Struct:
				walk(f.Type, p)
			case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
				walk(f.Type.Elem(), p)
			}
		}
	}
	walk(reflect.TypeFor[Config](), "")
	require.Equal(t, 258, n, "number of keys and tables in the schema")
}

// TestDumpParseProperty: random valid values survive Dump→Parse exactly.
func TestDumpParseProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		c := Default()
		c.Run.Name = rapid.StringMatching(`[a-z0-9_-]{1,40}`).Draw(rt, "name")
		c.Run.Seed = rapid.Uint64Range(0, 1<<63-1).Draw(rt, "seed")
		c.Run.Duration = Duration(rapid.Uint64Range(1e6, 3600e12).Draw(rt, "duration"))
		c.Host.Cores = rapid.IntRange(2, 64).Draw(rt, "cores")
		c.Host.Freq = Frequency(rapid.Uint64Range(100e6, 10e9).Draw(rt, "freq"))
		c.Cache.LineSize = Size(1) << rapid.IntRange(4, 10).Draw(rt, "line_log2")
		ways := rapid.IntRange(1, 64).Draw(rt, "l2_ways")
		c.Cache.L2.Ways = ways
		c.Cache.L2.Size = Size(ways) * c.Cache.LineSize << rapid.IntRange(0, 8).Draw(rt, "l2_sets_log2")
		for c.Cache.L2.Size < KiB {
			c.Cache.L2.Size <<= 1
		}
		c.Cache.L1 = CacheLevel{Enabled: true, Size: KiB << 6, Ways: 1, Latency: 1,
			Replacement: rapid.SampledFrom([]Replacement{ReplaceLRU, ReplacePLRU, ReplaceRandom}).Draw(rt, "l1_repl"),
			WritePolicy: rapid.SampledFrom([]WritePolicy{WriteBack, WriteThrough}).Draw(rt, "l1_wp")}
		c.DRAM.Bandwidth = Bandwidth(rapid.Uint64Range(100e6, 1e12).Draw(rt, "bandwidth"))
		c.DRAM.Interleave = Size(4*KiB) << rapid.IntRange(0, 10).Draw(rt, "interleave")
		c.Backup.Interval = Duration(rapid.Uint64Range(1e6, 10e12).Draw(rt, "interval"))
		c.Backup.Overflow = rapid.SampledFrom([]OverflowPolicy{OverflowStall, OverflowInterruptCheckpoint, OverflowDrop}).Draw(rt, "overflow")
		c.Backup.GuardEntries = rapid.IntRange(0, int(c.Backup.LogSize/8)-1).Draw(rt, "guard")
		c.Hypervisor.StoreFraction = rapid.Float64Range(0, 1).Draw(rt, "store_fraction")
		c.VMs[0].Workload.WriteFraction = rapid.Float64Range(0, 1).Draw(rt, "write_fraction")
		c.VMs[0].Workload.ZipfS = rapid.Float64Range(1.0001, 10).Draw(rt, "zipf_s")
		c.VMs[1].Workload.Pattern = rapid.SampledFrom([]Pattern{PatternUniform, PatternZipf, PatternSequential, PatternStrided}).Draw(rt, "pattern")
		c.VMs[1].Cores = []int{rapid.IntRange(1, c.Host.Cores-1).Draw(rt, "vm1_core")}
		require.NoError(rt, c.Validate())

		out := dump(rt, c)
		got, err := Parse(out, "dump", nil)
		require.NoError(rt, err, "%s", out)
		require.Equal(rt, c, got)
	})
}

func ExampleDump() {
	cfg, err := Parse([]byte("[run]\nname = \"demo\"\n"), "demo.toml", []string{"vm[1].name=other"})
	if err != nil {
		fmt.Println(err)
		return
	}
	var b bytes.Buffer
	_ = Dump(&b, cfg)
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(line, "name =") {
			fmt.Println(line)
		}
	}
	// Output:
	// name = "demo"
	// name = "protected"
	// name = "other"
}

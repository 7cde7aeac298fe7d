package cache

import (
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/twinsim/twinsim/memory"
	"github.com/twinsim/twinsim/sim"
)

const testLine = 128

// tb is what the helpers need from *testing.T and *rapid.T.
type tb interface {
	require.TestingT
	Helper()
}

func newTestCache(t tb, env *sim.Env, name string, size uint64, ways int, repl Replacement, wp WritePolicy, lat uint64) *Cache {
	t.Helper()
	c, err := New(env.Scope(name), Config{Size: size, LineSize: testLine, Ways: ways, Replacement: repl, WritePolicy: wp, Latency: lat})
	require.NoError(t, err)
	return c
}

func newTestDRAM(t tb, env *sim.Env) *memory.DRAM {
	t.Helper()
	d, err := memory.NewDRAM(env.Scope("dram"), memory.DRAMConfig{Latency: 50 * sim.Nanosecond, Channels: 1,
		BytesPerSec: 12_800_000_000, InterleaveBytes: 4096})
	require.NoError(t, err)
	return d
}

func stat(t tb, env *sim.Env, path, name string) uint64 {
	t.Helper()
	v, ok := env.Stats.Lookup(path, name)
	require.True(t, ok, "%s.%s", path, name)
	return uint64(v)
}

func TestConfigValidate(t *testing.T) {
	good := Config{Size: 32 << 10, LineSize: 128, Ways: 8, Latency: 2}
	require.NoError(t, good.Validate())
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		want string
	}{
		{"line not power of two", func(c *Config) { c.LineSize = 96 }, "line size 96"},
		{"line too small", func(c *Config) { c.LineSize = 4 }, "line size 4"},
		{"zero ways", func(c *Config) { c.Ways = 0 }, "ways 0 is not allowed; must be 1..64"},
		{"too many ways", func(c *Config) { c.Ways = 65 }, "ways 65"},
		{"size not multiple", func(c *Config) { c.Size = 1000 }, "size 1000"},
		{"sets not power of two", func(c *Config) { c.Size = 3 * 8 * 128 }, "3 sets"},
		{"bad policy", func(c *Config) { c.Replacement = 7 }, "replacement"},
		{"bad write policy", func(c *Config) { c.WritePolicy = 9 }, "write policy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.mod(&c)
			require.ErrorContains(t, c.Validate(), tc.want)
		})
	}
	_, err := New(sim.NewEnv(1).Scope("host0.l1"), Config{Size: 1000, LineSize: 128, Ways: 8})
	require.ErrorContains(t, err, "host0.l1: size 1000")
}

func TestParseEnums(t *testing.T) {
	r, err := ParseReplacement("plru")
	require.NoError(t, err)
	require.Equal(t, PLRU, r)
	require.Equal(t, "plru", r.String())
	_, err = ParseReplacement("fifo")
	require.EqualError(t, err, `unknown replacement policy "fifo"; must be one of lru, plru, random`)
	w, err := ParseWritePolicy("write-through")
	require.NoError(t, err)
	require.Equal(t, WriteThrough, w)
	_, err = ParseWritePolicy("writeback")
	require.ErrorContains(t, err, "write-back, write-through")
	o, err := ParseOverflowPolicy("interrupt-checkpoint")
	require.NoError(t, err)
	require.Equal(t, InterruptCheckpoint, o)
	require.Equal(t, "drop", Drop.String())
	_, err = ParseOverflowPolicy("spill")
	require.ErrorContains(t, err, "stall, interrupt-checkpoint, drop")
	require.Equal(t, "hypervisor", Hypervisor.String())
	require.Equal(t, "Mode(7)", Mode(7).String())
}

func TestGeometry(t *testing.T) {
	env := sim.NewEnv(1)
	c := newTestCache(t, env, "c", 32<<10, 8, LRU, WriteBack, 2)
	require.Equal(t, 256, c.Lines())
	require.Equal(t, 32, c.Sets())
	require.Equal(t, uint64(0x1280), c.LineAddr(0x12ff))
	// Row addresses reconstruct from tag and set.
	p, err := NewPort(sim.GHz, []*Cache{c}, newTestDRAM(t, env), nil)
	require.NoError(t, err)
	for _, a := range []uint64{0, 0x80, 0x1000, 0xdead_be80, 1 << 40} {
		p.Access(0, Access{Addr: a + 5})
		r, ok := c.Probe(a)
		require.True(t, ok)
		require.Equal(t, a, r.Addr)
	}
}

// runSet touches the given lines (indices of lines mapping to set 0) in
// order in a one-set cache and returns which were still present at the end.
func lruReference(ways int, seq []int) map[int]bool {
	var order []int // least recent first
	for _, x := range seq {
		for i, y := range order {
			if y == x {
				order = append(order[:i], order[i+1:]...)
				break
			}
		}
		if len(order) == ways {
			order = order[1:]
		}
		order = append(order, x)
	}
	in := map[int]bool{}
	for _, x := range order {
		in[x] = true
	}
	return in
}

func TestLRUMatchesReferenceProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		ways := rapid.IntRange(1, 16).Draw(rt, "ways")
		seq := rapid.SliceOfN(rapid.IntRange(0, 2*ways), 1, 200).Draw(rt, "seq")
		env := sim.NewEnv(1)
		c, err := New(env.Scope("c"), Config{Size: uint64(ways) * testLine, LineSize: testLine, Ways: ways, Replacement: LRU, Latency: 1})
		require.NoError(rt, err)
		p, err := NewPort(sim.GHz, []*Cache{c}, newTestDRAM(rt, env), nil)
		require.NoError(rt, err)
		for _, x := range seq {
			p.Access(0, Access{Addr: uint64(x) * testLine})
		}
		want := lruReference(ways, seq)
		for x := 0; x <= 2*ways; x++ {
			_, ok := c.Probe(uint64(x) * testLine)
			require.Equal(rt, want[x], ok, "line %d", x)
		}
	})
}

func TestPLRU(t *testing.T) {
	// Four ways: fill 0..3, touch 0 and 2; the tree then points at 1 or 3,
	// never at the recently used 0 or 2, and the next fill replaces line 1
	// (tree bits: root → left half since 2 was used last, left node → 1).
	env := sim.NewEnv(1)
	c := newTestCache(t, env, "c", 4*testLine, 4, PLRU, WriteBack, 1)
	p, err := NewPort(sim.GHz, []*Cache{c}, newTestDRAM(t, env), nil)
	require.NoError(t, err)
	for _, x := range []uint64{0, 1, 2, 3, 0, 2} {
		p.Access(0, Access{Addr: x * testLine})
	}
	p.Access(0, Access{Addr: 4 * testLine})
	_, has1 := c.Probe(1 * testLine)
	require.False(t, has1)
	for _, x := range []uint64{0, 2, 3, 4} {
		_, ok := c.Probe(x * testLine)
		require.True(t, ok, "line %d", x)
	}
}

func TestPLRUNonPowerOfTwoWaysProperty(t *testing.T) {
	// With 3, 5, 6 or 7 ways the tree has leaves that are not real ways;
	// the victim must always be a real way and never the line just used.
	rapid.Check(t, func(rt *rapid.T) {
		ways := rapid.SampledFrom([]int{3, 5, 6, 7, 12}).Draw(rt, "ways")
		seq := rapid.SliceOfN(rapid.IntRange(0, 3*ways), 1, 300).Draw(rt, "seq")
		env := sim.NewEnv(1)
		c, err := New(env.Scope("c"), Config{Size: uint64(ways) * testLine, LineSize: testLine, Ways: ways, Replacement: PLRU, Latency: 1})
		require.NoError(rt, err)
		p, err := NewPort(sim.GHz, []*Cache{c}, newTestDRAM(rt, env), nil)
		require.NoError(rt, err)
		for i, x := range seq {
			p.Access(0, Access{Addr: uint64(x) * testLine})
			_, ok := c.Probe(uint64(x) * testLine)
			require.True(rt, ok)
			if i > 0 && seq[i-1] != x {
				_, ok := c.Probe(uint64(seq[i-1]) * testLine)
				require.True(rt, ok, "the line used just before must survive one fill")
			}
		}
		n := 0
		c.Rows(func(Row) { n++ })
		require.LessOrEqual(rt, n, ways)
	})
}

func TestRandomReplacementIsDeterministicPerSeed(t *testing.T) {
	survivors := func(seed uint64) []uint64 {
		env := sim.NewEnv(seed)
		c := newTestCache(t, env, "host0.l1", 8*testLine, 8, Random, WriteBack, 1)
		p, err := NewPort(sim.GHz, []*Cache{c}, newTestDRAM(t, env), nil)
		require.NoError(t, err)
		for x := uint64(0); x < 64; x++ {
			p.Access(0, Access{Addr: x * testLine})
		}
		var out []uint64
		c.Rows(func(r Row) { out = append(out, r.Addr/testLine) })
		return out
	}
	a, b := survivors(1), survivors(1)
	require.Equal(t, a, b)
	require.Len(t, a, 8)
	require.NotEqual(t, a, survivors(2))
}

func TestLatencies(t *testing.T) {
	env := sim.NewEnv(1)
	l1 := newTestCache(t, env, "l1", 4<<10, 2, LRU, WriteBack, 2)
	l2 := newTestCache(t, env, "l2", 16<<10, 4, LRU, WriteBack, 10)
	dram := newTestDRAM(t, env)
	p, err := NewPort(sim.GHz, []*Cache{l1, l2}, dram, nil)
	require.NoError(t, err)
	// Cold miss: 2 + 10 cycles at 1 GHz, then DRAM: 128 B at 12.8 GB/s = 10 ns
	// of transfer plus 50 ns of latency.
	done := p.Access(0, Access{Addr: 0x1000})
	require.Equal(t, 12*sim.Nanosecond+10*sim.Nanosecond+50*sim.Nanosecond, done)
	// L1 hit.
	require.Equal(t, 1000*sim.Nanosecond+2*sim.Nanosecond, p.Access(1000*sim.Nanosecond, Access{Addr: 0x1008}))
	// L2 hit after the line leaves L1 (L1 has 16 sets of 2 ways; 3 lines
	// 2 KiB apart share a set).
	p.Access(2000*sim.Nanosecond, Access{Addr: 0x1000 + 2048})
	p.Access(2000*sim.Nanosecond, Access{Addr: 0x1000 + 4096})
	_, inL1 := l1.Probe(0x1000)
	require.False(t, inL1)
	require.Equal(t, 3000*sim.Nanosecond+12*sim.Nanosecond, p.Access(3000*sim.Nanosecond, Access{Addr: 0x1000}))
	require.Equal(t, uint64(1), stat(t, env, "l1", "read_hits"))
	require.Equal(t, uint64(4), stat(t, env, "l1", "read_misses"))
	require.Equal(t, uint64(1), stat(t, env, "l2", "read_hits"))
	require.Equal(t, uint64(3), stat(t, env, "l2", "read_misses"))
	require.Equal(t, uint64(3), stat(t, env, "dram", "reads"))
}

func TestNewPortErrors(t *testing.T) {
	env := sim.NewEnv(1)
	a := newTestCache(t, env, "a", 4<<10, 2, LRU, WriteBack, 1)
	b, err := New(env.Scope("b"), Config{Size: 4 << 10, LineSize: 64, Ways: 2, Latency: 1})
	require.NoError(t, err)
	dram := newTestDRAM(t, env)
	_, err = NewPort(sim.GHz, []*Cache{a, b}, dram, nil)
	require.ErrorContains(t, err, "b has 64-byte lines but a has 128-byte lines")
	_, err = NewPort(sim.GHz, []*Cache{a, a}, dram, nil)
	require.ErrorContains(t, err, "a appears twice")
	_, err = NewPort(sim.GHz, []*Cache{a}, nil, nil)
	require.ErrorContains(t, err, "no DRAM")
	_, err = NewPort(0, []*Cache{a}, dram, nil)
	require.ErrorContains(t, err, "zero core frequency")
}

func TestWriteBackAndWriteThrough(t *testing.T) {
	env := sim.NewEnv(1)
	l1 := newTestCache(t, env, "l1", 256, 1, LRU, WriteThrough, 1) // 2 sets of 1 way
	l2 := newTestCache(t, env, "l2", 1024, 1, LRU, WriteBack, 5)   // 8 sets of 1 way
	dram := newTestDRAM(t, env)
	p, err := NewPort(sim.GHz, []*Cache{l1, l2}, dram, nil)
	require.NoError(t, err)
	// A store misses the write-through L1 without allocating and is absorbed
	// by L2 (write-allocate), which fetches the line from DRAM.
	p.Access(0, Access{Addr: 0, Write: true, VM: 3})
	_, inL1 := l1.Probe(0)
	require.False(t, inL1)
	r, ok := l2.Probe(0)
	require.True(t, ok)
	require.True(t, r.Dirty)
	require.Equal(t, uint16(3), r.Owner)
	require.Equal(t, uint64(1), stat(t, env, "dram", "reads"))
	// A load fills L1 clean; a store that hits it leaves it clean.
	p.Access(0, Access{Addr: 0})
	p.Access(0, Access{Addr: 0, Write: true})
	r, ok = l1.Probe(0)
	require.True(t, ok)
	require.False(t, r.Dirty)
	require.Equal(t, uint64(1), stat(t, env, "l1", "write_hits"))
	// Evicting the dirty L2 line (1 KiB apart share an L2 set) writes it to
	// DRAM.
	p.Access(0, Access{Addr: 1024})
	require.Equal(t, uint64(1), stat(t, env, "l2", "writebacks"))
	require.Equal(t, uint64(1), stat(t, env, "dram", "writes"))
	// A clean eviction writes nothing.
	p.Access(0, Access{Addr: 2048})
	require.Equal(t, uint64(2), stat(t, env, "l2", "evictions"))
	require.Equal(t, uint64(1), stat(t, env, "dram", "writes"))
}

func TestDirtyVictimGoesToTheNextWriteBackLevel(t *testing.T) {
	env := sim.NewEnv(1)
	l1 := newTestCache(t, env, "l1", 128, 1, LRU, WriteBack, 1)
	l2 := newTestCache(t, env, "l2", 1024, 2, LRU, WriteBack, 5)
	p, err := NewPort(sim.GHz, []*Cache{l1, l2}, newTestDRAM(t, env), nil)
	require.NoError(t, err)
	p.Access(0, Access{Addr: 0, Write: true})
	r, _ := l2.Probe(0)
	require.False(t, r.Dirty, "L1 absorbs the store; L2 holds the line clean")
	p.Access(0, Access{Addr: 128}) // evicts line 0 from the one-line L1
	r, ok := l2.Probe(0)
	require.True(t, ok)
	require.True(t, r.Dirty)
	require.Equal(t, uint64(0), stat(t, env, "dram", "writes"))
}

func TestNoCacheGoesToDRAM(t *testing.T) {
	env := sim.NewEnv(1)
	p, err := NewPort(sim.GHz, nil, newTestDRAM(t, env), nil)
	require.NoError(t, err)
	// Without levels or a controller the transfer unit is 64 bytes: 5 ns at
	// 12.8 GB/s, plus 50 ns of latency.
	require.Equal(t, 55*sim.Nanosecond, p.Access(0, Access{Addr: 64}))
	p.Access(sim.Microsecond, Access{Addr: 64, Write: true})
	require.Equal(t, uint64(1), stat(t, env, "dram", "writes"))
}

func TestMissRate(t *testing.T) {
	env := sim.NewEnv(1)
	c := newTestCache(t, env, "c", 1024, 2, LRU, WriteBack, 1)
	p, err := NewPort(sim.GHz, []*Cache{c}, newTestDRAM(t, env), nil)
	require.NoError(t, err)
	for range 3 {
		p.Access(0, Access{Addr: 0})
	}
	p.Access(0, Access{Addr: 0, Write: true})
	v, _ := env.Stats.Lookup("c", "miss_rate")
	require.InDelta(t, 0.25, v, 1e-12)
}

// TestInclusiveBackInvalidation: an inclusive L2 smaller than the L1 above
// it evicts a line the L1 still holds; the L1 loses it too (and its dirty
// data goes down with the L2's victim), which a non-inclusive L2 does not
// do.
func TestInclusiveBackInvalidation(t *testing.T) {
	for _, inclusive := range []bool{false, true} {
		env := sim.NewEnv(1)
		l1 := newTestCache(t, env, "l1", 4*testLine, 4, LRU, WriteBack, 1)
		l2, err := New(env.Scope("l2"), Config{Size: 2 * testLine, LineSize: testLine, Ways: 2, Replacement: LRU,
			WritePolicy: WriteBack, Latency: 10, Inclusive: inclusive})
		require.NoError(t, err)
		p, err := NewPort(sim.GHz, []*Cache{l1, l2}, newTestDRAM(t, env), nil)
		require.NoError(t, err)
		a, b, c := uint64(0), uint64(testLine), uint64(2*testLine)
		p.Access(0, Access{Addr: a, Write: true})
		p.Access(0, Access{Addr: b})
		p.Access(0, Access{Addr: c}) // the L2 evicts a
		p.Access(0, Access{Addr: a})
		if inclusive {
			require.Equal(t, 2, p.Served(), "a left both levels: it comes from DRAM")
			require.Equal(t, uint64(2), stat(t, env, "l2", "back_invalidations"))
			require.Positive(t, stat(t, env, "dram", "writes"), "a's dirty data went to DRAM with the L2's victim")
		} else {
			require.Equal(t, 0, p.Served(), "a is still in the L1")
			_, ok := env.Stats.Lookup("l2", "back_invalidations")
			require.False(t, ok)
		}
	}
}

// TestBankContention: two cores' ports share a banked L3; accesses to one
// bank at the same time are served one after the other, accesses to
// different banks in parallel.
func TestBankContention(t *testing.T) {
	env := sim.NewEnv(1)
	l3, err := New(env.Scope("l3"), Config{Size: 64 * testLine, LineSize: testLine, Ways: 4, Latency: 10,
		Banks: 4, BankCycles: 3})
	require.NoError(t, err)
	dram := newTestDRAM(t, env)
	p0, err := NewPort(sim.GHz, []*Cache{l3}, dram, nil)
	require.NoError(t, err)
	p1, err := NewPort(sim.GHz, []*Cache{l3}, dram, nil)
	require.NoError(t, err)
	for _, a := range []uint64{0, testLine, 4 * testLine} {
		p0.Access(0, Access{Addr: a}) // fill
	}
	before := stat(t, env, "l3", "bank_wait_ps")
	now := sim.Time(sim.Microsecond)
	require.Equal(t, now+10*sim.Nanosecond, p0.Access(now, Access{Addr: 0}))
	require.Equal(t, now+13*sim.Nanosecond, p1.Access(now, Access{Addr: 4 * testLine}), "same bank: waits 3 cycles")
	require.Equal(t, now+10*sim.Nanosecond, p1.Access(now, Access{Addr: testLine}), "another bank: no wait")
	require.Equal(t, uint64(3*sim.Nanosecond), stat(t, env, "l3", "bank_wait_ps")-before)
	_, err = New(env.Scope("bad"), Config{Size: 64 * testLine, LineSize: testLine, Ways: 4, Latency: 10, Banks: 4})
	require.ErrorContains(t, err, "bank cycles must be at least 1")
}

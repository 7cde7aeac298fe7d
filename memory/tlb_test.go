package memory

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/twinsim/twinsim/sim"
)

func newTLB(t testing.TB, env *sim.Env, entries, ways int, pageSize uint64) *TLB {
	t.Helper()
	tlb, err := NewTLB(env.Scope("tlb"), entries, ways, pageSize)
	require.NoError(t, err)
	return tlb
}

func stat(t testing.TB, env *sim.Env, path, name string) float64 {
	t.Helper()
	v, ok := env.Stats.Lookup(path, name)
	require.True(t, ok, "statistic %s.%s", path, name)
	return v
}

func TestNewTLBErrors(t *testing.T) {
	tests := []struct {
		entries, ways int
		pageSize      uint64
		want          string
	}{
		{16, 0, 4 * kib, "tlb tlb: ways 0 must be at least 1"},
		{0, 4, 4 * kib, "tlb tlb: entries 0 is not a positive multiple of ways 4"},
		{18, 4, 4 * kib, "tlb tlb: entries 18 is not a positive multiple of ways 4"},
		{12, 4, 4 * kib, "tlb tlb: 12 entries / 4 ways gives 3 sets, not a power of two"},
		{16, 4, 8 * kib / 3, "tlb tlb: page size 2730 is not a power of two between 4 KiB and 1 GiB"},
	}
	for _, tt := range tests {
		_, err := NewTLB(sim.NewEnv(1).Scope("tlb"), tt.entries, tt.ways, tt.pageSize)
		require.EqualError(t, err, tt.want)
	}
	tlb := newTLB(t, sim.NewEnv(1), 12, 12, 64*kib) // fully associative, 12 is fine
	require.Equal(t, 12, tlb.Entries())
	require.Equal(t, 12, tlb.Ways())
	require.Equal(t, 64*kib, tlb.PageSize())
}

// TestTLBLRU replays insert/lookup sequences on a 2-set, 2-way TLB of 4 KiB
// pages (even pages map to set 0, odd to set 1) and checks which pages stay.
func TestTLBLRU(t *testing.T) {
	type op struct {
		insert bool
		page   uint64
	}
	ins := func(p uint64) op { return op{true, p} }
	look := func(p uint64) op { return op{false, p} }
	tests := []struct {
		name      string
		ops       []op
		resident  []uint64
		evictions float64
	}{
		{"fill one set", []op{ins(0), ins(2)}, []uint64{0, 2}, 0},
		{"evict oldest", []op{ins(0), ins(2), ins(4)}, []uint64{2, 4}, 1},
		{"hit refreshes", []op{ins(0), ins(2), look(0), ins(4)}, []uint64{0, 4}, 1},
		{"miss does not refresh", []op{ins(0), ins(2), look(6), ins(4)}, []uint64{2, 4}, 1},
		{"reinsert refreshes", []op{ins(0), ins(2), ins(0), ins(4)}, []uint64{0, 4}, 1},
		{"sets are independent", []op{ins(0), ins(1), ins(2), ins(3), ins(5)}, []uint64{0, 2, 3, 5}, 1},
		{"chain of evictions", []op{ins(0), ins(2), ins(4), ins(6), look(4), ins(8)}, []uint64{4, 8}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := sim.NewEnv(1)
			tlb := newTLB(t, env, 4, 2, 4*kib)
			for _, o := range tt.ops {
				if o.insert {
					tlb.Insert(o.page<<12, PTE{PA: (o.page + 100) << 12, Perm: rw})
				} else {
					tlb.Lookup(o.page << 12)
				}
			}
			var got []uint64
			for p := uint64(0); p < 16; p++ {
				if tlb.Contains(p << 12) {
					got = append(got, p)
				}
			}
			require.Equal(t, tt.resident, got)
			require.Equal(t, tt.evictions, stat(t, env, "tlb", "evictions"))
			for _, p := range tt.resident {
				pte, hit := tlb.Lookup(p<<12 | 0xabc)
				require.True(t, hit)
				require.Equal(t, PTE{PA: (p + 100) << 12, Perm: rw}, pte)
			}
		})
	}
}

func TestTLBStatsAndFlush(t *testing.T) {
	env := sim.NewEnv(1)
	tlb := newTLB(t, env, 8, 4, 16*kib)
	require.Zero(t, stat(t, env, "tlb", "hit_rate"))
	tlb.Insert(0x4000, PTE{PA: 0x8000, Perm: PermRead})
	tlb.Insert(0x8000, PTE{PA: 0xc000, Perm: PermRead})
	pte, hit := tlb.Lookup(0x7fff)
	require.True(t, hit)
	require.Equal(t, uint64(0x8000), pte.PA)
	_, hit = tlb.Lookup(0x10000)
	require.False(t, hit)
	_, hit = tlb.Lookup(0x8000)
	require.True(t, hit)
	_, hit = tlb.Lookup(0xc000)
	require.False(t, hit)
	require.Equal(t, 2.0, stat(t, env, "tlb", "hits"))
	require.Equal(t, 2.0, stat(t, env, "tlb", "misses"))
	require.Equal(t, 0.5, stat(t, env, "tlb", "hit_rate"))

	tlb.FlushPage(0x4000 + 5)
	require.False(t, tlb.Contains(0x4000))
	require.True(t, tlb.Contains(0x8000))
	tlb.FlushPage(0x40000) // not cached: no effect
	require.True(t, tlb.Contains(0x8000))

	tlb.Insert(0x4000, PTE{PA: 0x8000, Perm: PermRead})
	tlb.Flush()
	require.False(t, tlb.Contains(0x4000))
	require.False(t, tlb.Contains(0x8000))
	require.Equal(t, 1.0, stat(t, env, "tlb", "flushes"))
	_, hit = tlb.Lookup(0x8000)
	require.False(t, hit)
	require.Equal(t, 3.0, stat(t, env, "tlb", "misses"))
	require.Equal(t, 0.4, stat(t, env, "tlb", "hit_rate"))
}

func TestTLBAllocFree(t *testing.T) {
	tlb := newTLB(t, sim.NewEnv(1), 64, 4, 4*kib)
	va := uint64(0)
	allocs := testing.AllocsPerRun(1000, func() {
		va += 4 * kib
		tlb.Insert(va, PTE{PA: va, Perm: rw})
		tlb.Lookup(va)
		tlb.Lookup(va + 64*4*kib)
	})
	require.Zero(t, allocs)
}

// TestTLBMatchesLRUModel checks the TLB against per-set recency lists.
func TestTLBMatchesLRUModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		ways := rapid.SampledFrom([]int{1, 2, 4}).Draw(rt, "ways")
		sets := rapid.SampledFrom([]int{1, 2, 4}).Draw(rt, "sets")
		env := sim.NewEnv(1)
		tlb := newTLB(t, env, ways*sets, ways, 4*kib)
		lists := make([][]uint64, sets) // most recent last
		touch := func(vpn uint64) {
			s := vpn % uint64(sets)
			l := lists[s]
			if i := slices.Index(l, vpn); i >= 0 {
				l = slices.Delete(l, i, i+1)
			}
			lists[s] = append(l, vpn)
		}
		for range rapid.IntRange(1, 100).Draw(rt, "steps") {
			vpn := rapid.Uint64Range(0, 3*uint64(ways*sets)).Draw(rt, "vpn")
			s := vpn % uint64(sets)
			if rapid.Bool().Draw(rt, "insert") {
				tlb.Insert(vpn<<12, PTE{PA: vpn << 13})
				touch(vpn)
				if len(lists[s]) > ways {
					lists[s] = lists[s][1:]
				}
			} else {
				pte, hit := tlb.Lookup(vpn << 12)
				want := slices.Contains(lists[s], vpn)
				require.Equal(rt, want, hit, "vpn %d", vpn)
				if hit {
					require.Equal(rt, vpn<<13, pte.PA)
					touch(vpn)
				}
			}
		}
		for s, l := range lists {
			for _, vpn := range l {
				require.True(rt, tlb.Contains(vpn<<12), "set %d vpn %d", s, vpn)
			}
		}
	})
}

package memory

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func TestNewDirtyTrackerErrors(t *testing.T) {
	tests := []struct {
		base, size, page uint64
		want             string
	}{
		{0, mib, 3000, "dirty tracker page size 3000 is not a power of two"},
		{0, mib, 0, "dirty tracker page size 0 is not a power of two"},
		{0, 0, 4096, "dirty tracker size 0 is not a positive multiple of the page size 4096"},
		{0, 6 * kib, 4096, "dirty tracker size 6144 is not a positive multiple of the page size 4096"},
		{0x800, mib, 4096, "dirty tracker base 0x800 is not aligned to the page size 4096"},
		{^uint64(0) &^ 4095, 8192, 4096, "dirty tracker range [0xfffffffffffff000, +0x2000) wraps around the address space"},
	}
	for _, tt := range tests {
		_, err := NewDirtyTracker(tt.base, tt.size, tt.page)
		require.EqualError(t, err, tt.want)
	}
}

// TestDirtyTrackerGranularity marks the same writes at 4 KiB and 64 KiB
// granularity: the headline comparison of patent family 3.
func TestDirtyTrackerGranularity(t *testing.T) {
	const base = 16 * mib
	writes := []uint64{
		base, base + 8, base + 4095, // one 4 KiB page
		base + 4096,               // the next 4 KiB page, same 64 KiB page
		base + 64*kib + 100,       // second 64 KiB page
		base + 3*mib + 5,          // far away
		base + 4*mib - 1,          // last byte of the range
		base - 1, base + 4*mib, 0, // outside
	}
	tests := []struct {
		page    uint64
		count   int
		pages   []uint64
		outside uint64
	}{
		{4 * kib, 5, []uint64{base, base + 4096, base + 64*kib, base + 3*mib, base + 4*mib - 4096}, 3},
		{64 * kib, 4, []uint64{base, base + 64*kib, base + 3*mib, base + 4*mib - 64*kib}, 3},
		// POWER cache lines: base and base+8 share a line.
		{128, 6, []uint64{base, base + 3968, base + 4096, base + 64*kib, base + 3*mib, base + 4*mib - 128}, 3},
	}
	for _, tt := range tests {
		d, err := NewDirtyTracker(base, 4*mib, tt.page)
		require.NoError(t, err)
		require.Equal(t, tt.page, d.PageSize())
		require.Equal(t, uint64(base), d.Base())
		require.Equal(t, 4*mib, d.Size())
		for _, a := range writes {
			d.Mark(a)
		}
		require.Equal(t, tt.count, d.Count(), "page %d", tt.page)
		require.Equal(t, uint64(tt.count)*tt.page, d.Bytes())
		require.Equal(t, tt.outside, d.Outside())
		var got []uint64
		d.Pages(func(pb uint64) { got = append(got, pb) })
		require.Equal(t, tt.pages, got)
		require.True(t, d.IsDirty(base+4095))
		require.False(t, d.IsDirty(base+2*mib))
		require.False(t, d.IsDirty(base-1))

		d.Reset()
		require.Zero(t, d.Count())
		require.Zero(t, d.Bytes())
		require.False(t, d.IsDirty(base))
		require.Equal(t, tt.outside, d.Outside(), "Reset keeps the outside count")
		d.Pages(func(uint64) { t.Fatal("no dirty pages after Reset") })
		d.Mark(base + 2*mib)
		require.Equal(t, 1, d.Count())
	}
}

func TestDirtyTrackerMarkAllocFree(t *testing.T) {
	d, err := NewDirtyTracker(0, gib, 4*kib)
	require.NoError(t, err)
	a := uint64(0)
	allocs := testing.AllocsPerRun(1000, func() {
		a += 4 * kib * 17
		d.Mark(a % gib)
		d.Mark(gib + a) // outside
	})
	require.Zero(t, allocs)
}

// TestDirtyTrackerModel checks Count, Bytes and Pages against a set of page
// numbers.
func TestDirtyTrackerModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		page := rapid.SampledFrom([]uint64{64, 4 * kib, 64 * kib}).Draw(rt, "page")
		npages := rapid.Uint64Range(1, 300).Draw(rt, "npages")
		base := rapid.Uint64Range(0, 1000).Draw(rt, "basePage") * page
		d, err := NewDirtyTracker(base, npages*page, page)
		require.NoError(rt, err)
		set := map[uint64]bool{}
		var outside uint64
		for range rapid.IntRange(0, 200).Draw(rt, "marks") {
			a := rapid.Uint64Range(0, base+(npages+2)*page).Draw(rt, "addr")
			d.Mark(a)
			if a < base || a >= base+npages*page {
				outside++
			} else {
				set[(a-base)/page*page+base] = true
			}
		}
		want := make([]uint64, 0, len(set))
		for pb := range set {
			want = append(want, pb)
		}
		slices.Sort(want)
		var got []uint64
		d.Pages(func(pb uint64) { got = append(got, pb) })
		require.Equal(rt, len(want), d.Count())
		require.Equal(rt, uint64(len(want))*page, d.Bytes())
		require.Equal(rt, outside, d.Outside())
		if len(want) == 0 {
			require.Empty(rt, got)
		} else {
			require.Equal(rt, want, got)
		}
	})
}

func BenchmarkDirtyTrackerMark(b *testing.B) {
	d, err := NewDirtyTracker(0, 64*gib, 4*kib)
	require.NoError(b, err)
	b.ReportAllocs()
	a := uint64(0)
	for b.Loop() {
		a += 4*kib*7 + 64
		d.Mark(a & (64*gib - 1))
	}
	if allocs := testing.AllocsPerRun(100, func() { d.Mark(12345) }); allocs != 0 {
		b.Fatalf("Mark allocates %.0f times", allocs)
	}
}

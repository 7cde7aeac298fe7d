package memory

import (
	"errors"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

const (
	rw   = PermRead | PermWrite
	rx   = PermRead | PermExec
	rwx  = PermRead | PermWrite | PermExec
	rwxu = rwx | PermUser
)

func TestPermString(t *testing.T) {
	tests := []struct {
		p    Perm
		want string
	}{
		{0, "----"},
		{PermRead, "r---"},
		{rw, "rw--"},
		{rx, "r-x-"},
		{rwx, "rwx-"},
		{rwxu, "rwxu"},
		{PermWrite | PermUser, "-w-u"},
		{Perm(0x30) | PermRead, "r---+0x30"},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, tt.p.String())
	}
}

func TestPermAllows(t *testing.T) {
	tests := []struct {
		p                  Perm
		read, write, fetch bool
	}{
		{0, false, false, false},
		{PermUser, false, false, false},
		{PermRead, true, false, false},
		{PermWrite, false, true, false},
		{rx, true, false, true},
		{rwxu, true, true, true},
	}
	for _, tt := range tests {
		require.Equal(t, tt.read, tt.p.Allows(Read), "%s read", tt.p)
		require.Equal(t, tt.write, tt.p.Allows(Write), "%s write", tt.p)
		require.Equal(t, tt.fetch, tt.p.Allows(Exec), "%s exec", tt.p)
	}
	require.False(t, rwxu.Allows(AccessKind(9)))
}

func TestKindAndReasonStrings(t *testing.T) {
	require.Equal(t, "read", Read.String())
	require.Equal(t, "write", Write.String())
	require.Equal(t, "exec", Exec.String())
	require.Equal(t, "AccessKind(7)", AccessKind(7).String())
	require.Equal(t, "not mapped", NotMapped.String())
	require.Equal(t, "protection", Protection.String())
	require.Equal(t, "FaultReason(5)", FaultReason(5).String())
}

func TestFaultError(t *testing.T) {
	var err error = &Fault{VA: 0x10000, Kind: Write, Reason: Protection, Perm: rx}
	require.EqualError(t, err, "write fault at 0x10000: protection (page r-x-)")
	err = &Fault{VA: 0xdead000, Kind: Exec, Reason: NotMapped}
	require.EqualError(t, err, "exec fault at 0xdead000: not mapped")
	var f *Fault
	require.True(t, errors.As(err, &f))
	require.Equal(t, uint64(0xdead000), f.VA)
}

func TestNewPageTableSizes(t *testing.T) {
	for _, ok := range []uint64{4 * kib, 16 * kib, 64 * kib, 2 * mib, gib} {
		pt, err := NewPageTable(ok)
		require.NoError(t, err)
		require.Equal(t, ok, pt.PageSize())
		require.Zero(t, pt.Len())
	}
	for _, bad := range []uint64{0, 1, 2 * kib, 12 * kib, 4*kib + 1, 2 * gib} {
		_, err := NewPageTable(bad)
		require.Error(t, err)
		require.Contains(t, err.Error(), "page size "+strconv.FormatUint(bad, 10)+" ")
	}
}

func newPT(t testing.TB, pageSize uint64) *PageTable {
	t.Helper()
	pt, err := NewPageTable(pageSize)
	require.NoError(t, err)
	return pt
}

func TestPageTableTranslate(t *testing.T) {
	for _, ps := range []uint64{4 * kib, 16 * kib, 64 * kib} {
		pt := newPT(t, ps)
		// Three pages: text (r-x), data (rw-), and a guard page with no access,
		// plus one page at the top of the address space.
		top := ^uint64(0) &^ (ps - 1)
		require.NoError(t, pt.Map(0x400000, 0x10*ps, rx|PermUser))
		require.NoError(t, pt.Map(0x400000+ps, 0x20*ps, rw|PermUser))
		require.NoError(t, pt.Map(0x400000+2*ps, 0x30*ps, 0))
		require.NoError(t, pt.Map(top, 0x40*ps, PermRead))
		require.Equal(t, 4, pt.Len())

		tests := []struct {
			va     uint64
			kind   AccessKind
			wantPA uint64
			reason FaultReason // checked when fault
			fault  bool
			perm   Perm
		}{
			{0x400000, Exec, 0x10 * ps, 0, false, 0},
			{0x400000 + 123, Read, 0x10*ps + 123, 0, false, 0},
			{0x400000 + ps - 1, Write, 0, Protection, true, rx | PermUser},
			{0x400000 + ps, Write, 0x20 * ps, 0, false, 0},
			{0x400000 + ps + 8, Read, 0x20*ps + 8, 0, false, 0},
			{0x400000 + 2*ps - 4, Exec, 0, Protection, true, rw | PermUser},
			{0x400000 + 2*ps, Read, 0, Protection, true, 0},
			{0x400000 + 2*ps, Write, 0, Protection, true, 0},
			{0x400000 + 2*ps, Exec, 0, Protection, true, 0},
			{0x400000 + 3*ps, Read, 0, NotMapped, true, 0},
			{0x400000 - 1, Write, 0, NotMapped, true, 0},
			{0, Exec, 0, NotMapped, true, 0},
			{^uint64(0), Read, 0x40*ps + ps - 1, 0, false, 0},
			{^uint64(0), Write, 0, Protection, true, PermRead},
		}
		for _, tt := range tests {
			pa, f := pt.Translate(tt.va, tt.kind)
			if !tt.fault {
				require.Nil(t, f, "page %d va %#x %s", ps, tt.va, tt.kind)
				require.Equal(t, tt.wantPA, pa, "page %d va %#x", ps, tt.va)
				continue
			}
			require.NotNil(t, f, "page %d va %#x %s", ps, tt.va, tt.kind)
			require.Equal(t, Fault{VA: tt.va, Kind: tt.kind, Reason: tt.reason, Perm: tt.perm}, *f)
			require.Zero(t, pa)
		}
	}
}

func TestPageTableMapErrors(t *testing.T) {
	pt := newPT(t, 16*kib)
	tests := []struct {
		va, pa uint64
		perm   Perm
		want   string
	}{
		{0x1000, 0, rw, "map: virtual address 0x1000 is not aligned to the 16384-byte page size"},
		{0x4000, 0x2000, rw, "map: physical address 0x2000 is not aligned to the 16384-byte page size"},
		{0x4000, 0x4000, Perm(0x80), "map: permissions 0x80 have bits other than read, write, exec and user"},
	}
	for _, tt := range tests {
		require.EqualError(t, pt.Map(tt.va, tt.pa, tt.perm), tt.want)
	}
	require.Zero(t, pt.Len())
	require.EqualError(t, pt.Protect(0x8000, rw), "protect: virtual address 0x8000 is not mapped")
	require.EqualError(t, pt.Protect(0x8001, rw), "protect: virtual address 0x8001 is not aligned to the 16384-byte page size")
}

func TestPageTableRemapProtectUnmap(t *testing.T) {
	for _, ps := range []uint64{4 * kib, 16 * kib, 64 * kib, gib} {
		pt := newPT(t, ps)
		require.NoError(t, pt.Map(5*ps, 7*ps, PermRead))
		require.NoError(t, pt.Map(5*ps, 9*ps, rw)) // remap replaces
		require.Equal(t, 1, pt.Len())
		pte, ok := pt.Lookup(5*ps + 3)
		require.True(t, ok)
		require.Equal(t, PTE{PA: 9 * ps, Perm: rw}, pte)

		require.NoError(t, pt.Protect(5*ps, rx))
		pte, _ = pt.Lookup(5 * ps)
		require.Equal(t, PTE{PA: 9 * ps, Perm: rx}, pte)

		require.False(t, pt.Unmap(6*ps))
		require.True(t, pt.Unmap(5*ps+ps-1), "unmap takes any address in the page")
		require.False(t, pt.Unmap(5*ps))
		require.Zero(t, pt.Len())
		_, ok = pt.Lookup(5 * ps)
		require.False(t, ok)
		// Nodes left empty were freed; the table is usable again.
		require.Equal(t, 0, pt.root.used)
		require.NoError(t, pt.Map(5*ps, 1*ps, PermRead))
		pa, f := pt.Translate(5*ps+1, Read)
		require.Nil(t, f)
		require.Equal(t, ps+1, pa)
	}
}

func TestPageTableRangeOrder(t *testing.T) {
	pt := newPT(t, 4*kib)
	vas := []uint64{0xffff_ffff_ffff_f000, 0x1000, 0x7fff_0000_0000, 0, 0x200000, 0x1ff000, 0x8000_0000_0000}
	for i, va := range vas {
		require.NoError(t, pt.Map(va, uint64(i+1)<<12, PermRead))
	}
	var got []uint64
	pt.Range(func(va uint64, pte PTE) bool {
		got = append(got, va)
		idx := slices.Index(vas, va)
		require.Equal(t, PTE{PA: uint64(idx+1) << 12, Perm: PermRead}, pte)
		return true
	})
	want := slices.Clone(vas)
	slices.Sort(want)
	require.Equal(t, want, got)

	got = got[:0]
	pt.Range(func(va uint64, _ PTE) bool {
		got = append(got, va)
		return len(got) < 3
	})
	require.Equal(t, want[:3], got, "Range stops when fn returns false")
}

func TestPageTableLookupAllocFree(t *testing.T) {
	pt := newPT(t, 4*kib)
	require.NoError(t, pt.Map(0x7000, 0x9000, rw))
	allocs := testing.AllocsPerRun(100, func() {
		_, _ = pt.Lookup(0x7123)
		_, _ = pt.Translate(0x7123, Write)
	})
	require.Zero(t, allocs)
}

// TestPageTableModel checks the radix table against a map from virtual page
// to entry over random maps, remaps, protects and unmaps.
func TestPageTableModel(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		ps := rapid.SampledFrom([]uint64{4 * kib, 16 * kib, 64 * kib}).Draw(rt, "pageSize")
		pt := newPT(t, ps)
		model := map[uint64]PTE{}
		// A few clusters of pages, far apart, so nodes are shared and freed.
		vaGen := rapid.Custom(func(t *rapid.T) uint64 {
			hi := rapid.SampledFrom([]uint64{0, 1 << 30, 1 << 47, ^uint64(0) &^ (1<<32 - 1)}).Draw(t, "cluster")
			return hi + rapid.Uint64Range(0, 600).Draw(t, "page")*ps
		})
		for range rapid.IntRange(1, 60).Draw(rt, "steps") {
			va := vaGen.Draw(rt, "va")
			switch rapid.IntRange(0, 3).Draw(rt, "op") {
			case 0, 1:
				pte := PTE{PA: rapid.Uint64Range(0, 1<<20).Draw(rt, "ppn") * ps, Perm: Perm(rapid.IntRange(0, 15).Draw(rt, "perm"))}
				require.NoError(rt, pt.Map(va, pte.PA, pte.Perm))
				model[va] = pte
			case 2:
				_, had := model[va]
				require.Equal(rt, had, pt.Unmap(va))
				delete(model, va)
			case 3:
				perm := Perm(rapid.IntRange(0, 15).Draw(rt, "perm"))
				err := pt.Protect(va, perm)
				if pte, had := model[va]; had {
					require.NoError(rt, err)
					pte.Perm = perm
					model[va] = pte
				} else {
					require.Error(rt, err)
				}
			}
			got, ok := pt.Lookup(va + ps/2)
			want, had := model[va]
			require.Equal(rt, had, ok)
			require.Equal(rt, want, got)
		}
		require.Equal(rt, len(model), pt.Len())
		var keys []uint64
		pt.Range(func(va uint64, pte PTE) bool {
			require.Equal(rt, model[va], pte)
			keys = append(keys, va)
			return true
		})
		require.Len(rt, keys, len(model))
		require.True(rt, slices.IsSorted(keys))
	})
}

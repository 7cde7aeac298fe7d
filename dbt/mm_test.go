package dbt

import (
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/twinsim/twinsim/memory"
)

// tb is what the helpers need from *testing.T and *rapid.T.
type tb interface {
	require.TestingT
	Helper()
}

func newAS(t tb) *AddressSpace {
	t.Helper()
	as, err := NewAddressSpace()
	require.NoError(t, err)
	return as
}

func TestLoadProgramMapsSegments(t *testing.T) {
	as := newAS(t)
	p, err := LoadProgram(readWorkload(t, "sieve"))
	require.NoError(t, err)
	var changes int
	as.OnChange = func(start, end uint64) { changes++ }
	require.NoError(t, as.LoadProgram(p))
	require.Positive(t, changes)
	text, data := p.Segments[0], p.Segments[1]
	perm, ok := as.Lookup(text.Vaddr)
	require.True(t, ok)
	require.Equal(t, PermR|PermX, perm)
	perm, ok = as.Lookup(data.Vaddr + data.Memsz - 1)
	require.True(t, ok)
	require.Equal(t, PermR|PermW, perm)
	// The ELF header is at the start of the text segment, and .bss is zero.
	var magic [4]byte
	require.Zero(t, as.Read(text.Vaddr, magic[:]))
	require.Equal(t, "\x7fELF", string(magic[:]))
	var b [8]byte
	require.Zero(t, as.Read(data.Vaddr+data.Memsz-8, b[:]))
	require.Equal(t, [8]byte{}, b)
	// Text is not writable on the guest's behalf.
	require.Equal(t, EFAULT, as.Write(text.Vaddr, []byte{1}))
	// The page below the text is not mapped.
	require.Equal(t, EFAULT, as.Read(text.Vaddr-1, b[:1]))
	require.Equal(t, p.Brk(), as.Brk(0))
}

func TestBrk(t *testing.T) {
	as := newAS(t)
	p, err := LoadProgram(readWorkload(t, "recursion"))
	require.NoError(t, err)
	require.NoError(t, as.LoadProgram(p))
	base := as.Brk(0)
	require.Equal(t, base, as.Brk(base-1), "below the initial break: unchanged")
	require.Equal(t, base+10000, as.Brk(base+10000))
	require.Zero(t, as.Write(base+9999, []byte{7}))
	require.Equal(t, EFAULT, as.Write(pageUp(base+10000), []byte{7}), "the page after the break is not mapped")
	perm, _ := as.Lookup(base)
	require.Equal(t, PermR|PermW, perm)
	// Shrinking unmaps and zeroes; growing again reads zeros.
	require.Equal(t, base+10, as.Brk(base+10))
	require.Equal(t, EFAULT, as.Write(base+9999, []byte{7}))
	require.Equal(t, base+20000, as.Brk(base+20000))
	var got [1]byte
	require.Zero(t, as.Read(base+9999, got[:]))
	require.Zero(t, got[0])
	// A mapping in the way stops the break.
	_, e := as.Mmap(pageUp(base+20000)+GuestPageSize, GuestPageSize, PermR, MapPrivate|MapAnonymous|MapFixed, "anon")
	require.Zero(t, e)
	require.Equal(t, base+20000, as.Brk(base+1<<20))
}

func TestMmapPlacementAndErrors(t *testing.T) {
	as := newAS(t)
	a, e := as.Mmap(0, 10000, PermR|PermW, MapPrivate|MapAnonymous, "anon")
	require.Zero(t, e)
	require.Equal(t, uint64(MmapTop-3*GuestPageSize), a, "top-down, rounded to pages")
	b, e := as.Mmap(0, GuestPageSize, PermR, MapPrivate|MapAnonymous, "anon")
	require.Zero(t, e)
	require.Equal(t, a-GuestPageSize, b)
	// A free hint is honoured; a taken one is not.
	h, e := as.Mmap(0x100000000, GuestPageSize, PermR, MapPrivate|MapAnonymous, "anon")
	require.Zero(t, e)
	require.Equal(t, uint64(0x100000000), h)
	h2, e := as.Mmap(0x100000000, GuestPageSize, PermR, MapPrivate|MapAnonymous, "anon")
	require.Zero(t, e)
	require.NotEqual(t, h, h2)
	// MAP_FIXED_NOREPLACE over a mapping fails; MAP_FIXED replaces.
	_, e = as.Mmap(h, GuestPageSize, PermR, MapPrivate|MapAnonymous|MapFixedNoReplace, "anon")
	require.Equal(t, EEXIST, e)
	require.Zero(t, as.Write(a, []byte{9}))
	f, e := as.Mmap(a, GuestPageSize, PermR|PermW, MapPrivate|MapAnonymous|MapFixed, "anon")
	require.Zero(t, e)
	require.Equal(t, a, f)
	var got [1]byte
	require.Zero(t, as.Read(a, got[:]))
	require.Zero(t, got[0], "a fixed mapping replaces the old bytes with zeros")

	for _, tc := range []struct {
		addr, length uint64
		prot         Perm
		flags        uint64
		want         Errno
	}{
		{0, 0, PermR, MapPrivate | MapAnonymous, EINVAL},
		{0, 4096, PermR, MapAnonymous, EINVAL},                           // neither shared nor private
		{0, 4096, 8, MapPrivate | MapAnonymous, EINVAL},                  // unknown protection bit
		{0, 4096, PermR, MapPrivate | MapAnonymous | 0x80000000, EINVAL}, // unknown flag
		{123, 4096, PermR, MapPrivate | MapAnonymous | MapFixed, EINVAL},
		{0, 4096, PermR, MapPrivate | MapAnonymous | MapFixed, ENOMEM}, // page zero
		{GuestSpaceTop - 4096, 8192, PermR, MapPrivate | MapAnonymous | MapFixed, ENOMEM},
		{0, GuestSpaceTop + 1, PermR, MapPrivate | MapAnonymous, EINVAL},
	} {
		_, e := as.Mmap(tc.addr, tc.length, tc.prot, tc.flags, "anon")
		require.Equal(t, tc.want, e, "%+v", tc)
	}
}

func TestMprotectSplitsAndMerges(t *testing.T) {
	as := newAS(t)
	a, e := as.Mmap(0, 4*GuestPageSize, PermR|PermW, MapPrivate|MapAnonymous, "anon")
	require.Zero(t, e)
	require.Len(t, as.Areas(), 1)
	// Read-only guard in the middle: three areas.
	require.Zero(t, as.Mprotect(a+GuestPageSize, GuestPageSize, PermR))
	areas := as.Areas()
	require.Len(t, areas, 3)
	require.Equal(t, PermR, areas[1].Perm)
	require.Equal(t, EFAULT, as.Write(a+GuestPageSize+5, []byte{1}))
	require.Zero(t, as.Write(a+2*GuestPageSize, []byte{1}))
	pte, ok := as.PageTable().Lookup(a + GuestPageSize)
	require.True(t, ok)
	require.Equal(t, memory.PermRead|memory.PermUser, pte.Perm)
	// Back to read-write: one area again.
	require.Zero(t, as.Mprotect(a+GuestPageSize, GuestPageSize, PermR|PermW))
	require.Len(t, as.Areas(), 1)
	// Write implies read in the page table.
	require.Zero(t, as.Mprotect(a, GuestPageSize, PermW))
	pte, _ = as.PageTable().Lookup(a)
	require.Equal(t, memory.PermRead|memory.PermWrite|memory.PermUser, pte.Perm)
	// A range with a hole is ENOMEM and changes nothing.
	require.Zero(t, as.Munmap(a+3*GuestPageSize, GuestPageSize))
	require.Equal(t, ENOMEM, as.Mprotect(a, 4*GuestPageSize, PermR))
	perm, _ := as.Lookup(a + GuestPageSize)
	require.Equal(t, PermR|PermW, perm)
	require.Equal(t, EINVAL, as.Mprotect(a+1, GuestPageSize, PermR))
	require.Zero(t, as.Mprotect(a, 0, PermR), "an empty range is fine")
}

func TestMunmap(t *testing.T) {
	as := newAS(t)
	a, _ := as.Mmap(0, 3*GuestPageSize, PermR|PermW, MapPrivate|MapAnonymous, "anon")
	require.Zero(t, as.Write(a+GuestPageSize, []byte{5}))
	require.Zero(t, as.Munmap(a+GuestPageSize, 1))
	require.Len(t, as.Areas(), 2)
	require.Equal(t, EFAULT, as.Read(a+GuestPageSize, make([]byte, 1)))
	require.Zero(t, as.Munmap(0x200000000, GuestPageSize), "unmapping nothing is fine")
	require.Equal(t, EINVAL, as.Munmap(a+1, GuestPageSize))
	require.Equal(t, EINVAL, as.Munmap(a, 0))
	require.Zero(t, as.Memory().TouchedBytes()%memory.FrameSize)
}

func TestMremap(t *testing.T) {
	as := newAS(t)
	a, _ := as.Mmap(0, 2*GuestPageSize, PermR|PermW, MapPrivate|MapAnonymous, "anon")
	require.Zero(t, as.Write(a+100, []byte("hello")))
	// Shrink in place.
	got, e := as.Mremap(a, 2*GuestPageSize, GuestPageSize, 0, 0)
	require.Zero(t, e)
	require.Equal(t, a, got)
	// Grow: the page above is free below MmapTop? a is just below MmapTop, so
	// the space above is free and it grows in place.
	got, e = as.Mremap(a, GuestPageSize, 3*GuestPageSize, 0, 0)
	require.Zero(t, e)
	require.Equal(t, a, got)
	// Block the way, then grow with MAYMOVE: moves, carrying the bytes.
	_, e = as.Mmap(a+3*GuestPageSize, GuestPageSize, PermR, MapPrivate|MapAnonymous|MapFixed, "anon")
	require.Zero(t, e)
	_, e = as.Mremap(a, 3*GuestPageSize, 5*GuestPageSize, 0, 0)
	require.Equal(t, ENOMEM, e)
	moved, e := as.Mremap(a, 3*GuestPageSize, 5*GuestPageSize, MremapMaymove, 0)
	require.Zero(t, e)
	require.NotEqual(t, a, moved)
	buf := make([]byte, 5)
	require.Zero(t, as.Read(moved+100, buf))
	require.Equal(t, "hello", string(buf))
	require.Equal(t, EFAULT, as.Read(a+100, buf), "the old place is unmapped")
	// Fixed destination.
	fixed, e := as.Mremap(moved, 5*GuestPageSize, GuestPageSize, MremapMaymove|MremapFixed, 0x300000000)
	require.Zero(t, e)
	require.Equal(t, uint64(0x300000000), fixed)
	require.Zero(t, as.Read(fixed+100, buf))
	require.Equal(t, "hello", string(buf))
	_, e = as.Mremap(0x500000000, GuestPageSize, 2*GuestPageSize, MremapMaymove, 0)
	require.Equal(t, EFAULT, e)
	_, e = as.Mremap(fixed, GuestPageSize, GuestPageSize, MremapFixed, 0x400000000)
	require.Equal(t, EINVAL, e, "FIXED needs MAYMOVE")
}

func TestReadString(t *testing.T) {
	as := newAS(t)
	a, _ := as.Mmap(0, GuestPageSize, PermR|PermW, MapPrivate|MapAnonymous, "anon")
	require.Zero(t, as.Write(a+GuestPageSize-4, []byte("abc\x00")))
	s, e := as.ReadString(a+GuestPageSize-4, 100)
	require.Zero(t, e)
	require.Equal(t, "abc", s)
	require.Zero(t, as.Write(a+GuestPageSize-3, []byte("xyz")))
	_, e = as.ReadString(a+GuestPageSize-3, 100)
	require.Equal(t, EFAULT, e, "runs off the mapping")
	_, e = as.ReadString(a+GuestPageSize-4, 2)
	require.Equal(t, ERANGE, e)
}

func TestStackMapping(t *testing.T) {
	as := newAS(t)
	sp, img, err := BuildStack(StackSpec{Top: StackTop, Argv: []string{"x"}, ExecFn: "x"})
	require.NoError(t, err)
	require.NoError(t, as.MapStack(sp, img))
	var w [8]byte
	require.Zero(t, as.Read(sp, w[:]))
	require.Equal(t, byte(1), w[0], "argc")
	perm, ok := as.Lookup(GuestSpaceTop - StackSize)
	require.True(t, ok)
	require.Equal(t, PermR|PermW, perm)
}

// TestAreasMatchPageTableProperty applies random mmap, munmap, mprotect and
// brk calls and checks after each that the areas are sorted, disjoint and
// merged, and that every page's page-table entry agrees with its area.
func TestAreasMatchPageTableProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		as := newAS(rt)
		const base = 0x10000000
		page := func(label string) uint64 {
			return base + uint64(rapid.IntRange(0, 63).Draw(rt, label))*GuestPageSize
		}
		perms := []Perm{PermR, PermR | PermW, PermR | PermX, PermR | PermW | PermX, 0}
		for range rapid.IntRange(1, 40).Draw(rt, "ops") {
			switch rapid.IntRange(0, 2).Draw(rt, "op") {
			case 0:
				n := uint64(rapid.IntRange(1, 8).Draw(rt, "n")) * GuestPageSize
				as.Mmap(page("at"), n, rapid.SampledFrom(perms).Draw(rt, "perm"), MapPrivate|MapAnonymous|MapFixed, "anon")
			case 1:
				as.Munmap(page("at"), uint64(rapid.IntRange(1, 8).Draw(rt, "n"))*GuestPageSize)
			case 2:
				as.Mprotect(page("at"), uint64(rapid.IntRange(1, 8).Draw(rt, "n"))*GuestPageSize, rapid.SampledFrom(perms).Draw(rt, "perm"))
			}
			areas := as.Areas()
			for i := 1; i < len(areas); i++ {
				require.LessOrEqual(rt, areas[i-1].End, areas[i].Start)
				if areas[i-1].End == areas[i].Start {
					require.False(rt, areas[i-1].Perm == areas[i].Perm && areas[i-1].Name == areas[i].Name, "unmerged neighbours")
				}
			}
			for va := uint64(base); va < base+72*GuestPageSize; va += GuestPageSize {
				perm, inArea := as.Lookup(va)
				pte, inPT := as.PageTable().Lookup(va)
				require.Equal(rt, inArea, inPT, "page %#x", va)
				if inArea {
					require.Equal(rt, hostPerm(perm), pte.Perm, "page %#x", va)
					require.Equal(rt, va, pte.PA)
				}
			}
		}
	})
}

func TestHostileLengths(t *testing.T) {
	as := newAS(t)
	a, e := as.Mmap(0, 2*GuestPageSize, PermR|PermW, MapPrivate|MapAnonymous, "anon")
	require.Zero(t, e)
	// Empty accesses anywhere succeed without touching memory.
	require.Zero(t, as.Read(1<<40, nil))
	require.Zero(t, as.Write(1<<40, nil))
	// Lengths that round past 2^64 are errors, and change nothing.
	_, e = as.Mremap(a, 2*GuestPageSize, ^uint64(0), 0, 0)
	require.Equal(t, EINVAL, e)
	require.Equal(t, ENOMEM, as.Mprotect(a, ^uint64(0), PermR))
	perm, ok := as.Lookup(a)
	require.True(t, ok)
	require.Equal(t, PermR|PermW, perm)
	// Growing a large sparse mapping copies only what was touched.
	big, e := as.Mmap(0, 1<<30, PermR|PermW, MapPrivate|MapAnonymous, "anon")
	require.Zero(t, e)
	require.Zero(t, as.Write(big+(1<<29), []byte{7}))
	_, e = as.Mmap(big+(1<<30), GuestPageSize, PermR, MapPrivate|MapAnonymous|MapFixed, "anon") // in the way
	require.Zero(t, e)
	moved, e := as.Mremap(big, 1<<30, 2<<30, MremapMaymove, 0)
	require.Zero(t, e)
	var b [1]byte
	require.Zero(t, as.Read(moved+(1<<29), b[:]))
	require.Equal(t, byte(7), b[0])
	require.Less(t, as.Memory().TouchedBytes(), uint64(1<<20), "sparse: no gigabyte copy")
}

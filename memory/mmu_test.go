package memory

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/twinsim/twinsim/sim"
)

const walkCycles = 30

// newMMU returns an MMU over a page table with pageSize pages: page 1 is r-x,
// page 2 rw-, page 3 r--, mapped to physical pages 11, 12 and 13.
func newMMU(t testing.TB, pageSize uint64, withTLB bool) (*sim.Env, *MMU) {
	t.Helper()
	env := sim.NewEnv(1)
	pt := newPT(t, pageSize)
	require.NoError(t, pt.Map(1*pageSize, 11*pageSize, rx))
	require.NoError(t, pt.Map(2*pageSize, 12*pageSize, rw))
	require.NoError(t, pt.Map(3*pageSize, 13*pageSize, PermRead))
	var tlb *TLB
	if withTLB {
		var err error
		tlb, err = NewTLB(env.Scope("tlb"), 16, 4, pageSize)
		require.NoError(t, err)
	}
	return env, NewMMU(env.Scope("mmu"), pt, tlb, walkCycles)
}

func TestMMUTranslateCycles(t *testing.T) {
	type step struct {
		va     uint64 // in pages of the table's size, plus an offset
		off    uint64
		kind   AccessKind
		pa     uint64 // page number of the expected physical address
		cycles uint64
		reason FaultReason
		fault  bool
	}
	tests := []struct {
		name    string
		withTLB bool
		steps   []step
		walks   float64
		faults  float64
	}{
		{"miss then hit", true, []step{
			{va: 2, off: 0x10, kind: Write, pa: 12, cycles: walkCycles},
			{va: 2, off: 0x18, kind: Read, pa: 12, cycles: 0},
			{va: 1, off: 0, kind: Exec, pa: 11, cycles: walkCycles},
			{va: 1, off: 4, kind: Exec, pa: 11, cycles: 0},
		}, 2, 0},
		{"no TLB walks every time", false, []step{
			{va: 2, off: 0x10, kind: Write, pa: 12, cycles: walkCycles},
			{va: 2, off: 0x18, kind: Read, pa: 12, cycles: walkCycles},
		}, 2, 0},
		{"not mapped walks and is not cached", true, []step{
			{va: 9, off: 1, kind: Read, cycles: walkCycles, reason: NotMapped, fault: true},
			{va: 9, off: 1, kind: Read, cycles: walkCycles, reason: NotMapped, fault: true},
		}, 2, 2},
		{"protection fault on a hit costs no walk", true, []step{
			{va: 3, off: 0, kind: Read, pa: 13, cycles: walkCycles},
			{va: 3, off: 8, kind: Write, cycles: 0, reason: Protection, fault: true},
			{va: 3, off: 8, kind: Exec, cycles: 0, reason: Protection, fault: true},
		}, 1, 2},
		{"protection fault on a miss fills the TLB", true, []step{
			{va: 1, off: 0, kind: Write, cycles: walkCycles, reason: Protection, fault: true},
			{va: 1, off: 0, kind: Read, pa: 11, cycles: 0},
		}, 1, 1},
	}
	for _, ps := range []uint64{4 * kib, 16 * kib, 64 * kib} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("%dKiB/%s", ps/kib, tt.name), func(t *testing.T) {
				env, m := newMMU(t, ps, tt.withTLB)
				for i, s := range tt.steps {
					va := s.va*ps + s.off
					pa, cycles, f := m.Translate(va, s.kind)
					require.Equal(t, s.cycles, cycles, "step %d", i)
					if s.fault {
						require.NotNil(t, f, "step %d", i)
						require.Equal(t, va, f.VA)
						require.Equal(t, s.kind, f.Kind)
						require.Equal(t, s.reason, f.Reason)
						require.Zero(t, pa)
						continue
					}
					require.Nil(t, f, "step %d", i)
					require.Equal(t, s.pa*ps+s.off, pa, "step %d", i)
				}
				require.Equal(t, float64(len(tt.steps)), stat(t, env, "mmu", "translations"))
				require.Equal(t, tt.walks, stat(t, env, "mmu", "walks"))
				require.Equal(t, tt.walks*walkCycles, stat(t, env, "mmu", "walk_cycles"))
				require.Equal(t, tt.faults, stat(t, env, "mmu", "faults"))
			})
		}
	}
}

func TestMMUInvalidate(t *testing.T) {
	env, m := newMMU(t, 4*kib, true)
	_, _, f := m.Translate(3*4*kib, Read)
	require.Nil(t, f)

	// The TLB holds the old permissions until the page is invalidated, as
	// hardware does.
	require.NoError(t, m.PageTable().Protect(3*4*kib, rw))
	_, cycles, f := m.Translate(3*4*kib, Write)
	require.NotNil(t, f)
	require.Equal(t, Protection, f.Reason)
	require.Equal(t, PermRead, f.Perm)
	require.Zero(t, cycles)

	m.Invalidate(3*4*kib + 100)
	pa, cycles, f := m.Translate(3*4*kib, Write)
	require.Nil(t, f)
	require.Equal(t, uint64(walkCycles), cycles)
	require.Equal(t, 13*4*kib, pa)

	// Remap and invalidate everything.
	require.NoError(t, m.PageTable().Map(3*4*kib, 40*4*kib, rw))
	m.InvalidateAll()
	pa, _, _ = m.Translate(3*4*kib+8, Read)
	require.Equal(t, 40*4*kib+8, pa)
	require.Equal(t, 1.0, stat(t, env, "mmu", "faults_protection"))
	require.Equal(t, 0.0, stat(t, env, "mmu", "faults_not_mapped"))
	require.Equal(t, 1.0, stat(t, env, "tlb", "flushes"))

	// Without a TLB, invalidation is a no-op.
	_, nt := newMMU(t, 4*kib, false)
	require.Nil(t, nt.TLB())
	nt.Invalidate(0)
	nt.InvalidateAll()
	require.Equal(t, uint64(walkCycles), nt.WalkCycles())
}

func TestNewMMUPanics(t *testing.T) {
	env := sim.NewEnv(1)
	pt := newPT(t, 64*kib)
	tlb := newTLB(t, env, 16, 4, 4*kib)
	require.PanicsWithValue(t, "memory: MMU mmu: TLB page size 4096 differs from page-table page size 65536",
		func() { NewMMU(env.Scope("mmu"), pt, tlb, 1) })
	require.PanicsWithValue(t, "memory: MMU mmu2 built without a page table",
		func() { NewMMU(env.Scope("mmu2"), nil, nil, 1) })
}

func TestMMUTranslateAllocFree(t *testing.T) {
	for _, withTLB := range []bool{true, false} {
		_, m := newMMU(t, 4*kib, withTLB)
		allocs := testing.AllocsPerRun(1000, func() {
			_, _, _ = m.Translate(2*4*kib+8, Write)
			_, _, _ = m.Translate(1*4*kib+8, Exec)
		})
		require.Zero(t, allocs, "withTLB=%v", withTLB)
	}
}

func BenchmarkMMUTranslateHit(b *testing.B) {
	_, m := newMMU(b, 4*kib, true)
	va := 2*4*kib + 8
	if _, cycles, f := m.Translate(va, Write); f != nil || cycles != walkCycles {
		b.Fatal("setup walk failed")
	}
	var sum uint64
	b.ReportAllocs()
	for b.Loop() {
		pa, _, _ := m.Translate(va, Write)
		sum += pa
	}
	if allocs := testing.AllocsPerRun(100, func() { m.Translate(va, Read) }); allocs != 0 {
		b.Fatalf("Translate allocates %.0f times", allocs)
	}
	_ = sum
}

func BenchmarkMMUTranslateWalk(b *testing.B) {
	_, m := newMMU(b, 4*kib, false)
	b.ReportAllocs()
	for b.Loop() {
		_, _, _ = m.Translate(2*4*kib+8, Write)
	}
}

package dbt

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/twinsim/twinsim/cpu"
)

// runWith runs a workload in functional mode with mc and returns its
// result, output and counts.
func runWith(t *testing.T, mc MachineConfig, name string, args ...string) (Result, string, Stats, *Machine) {
	t.Helper()
	prog, err := LoadProgram(readWorkload(t, name))
	require.NoError(t, err)
	var out bytes.Buffer
	path := filepath.Join(workloadsDir, name)
	p, err := NewProcess(prog, ProcessConfig{Path: path, Argv: append([]string{path}, args...), Seed: 1, Stdout: &out})
	require.NoError(t, err)
	defer p.Close()
	m, err := NewMachine(p, mc, nil)
	require.NoError(t, err)
	res, err := m.Run()
	require.NoError(t, err)
	return res, out.String(), m.Stats(), m
}

// TestStrategiesKeepGuestBehaviour runs every differential case with
// every strategy that runs it: the output, exit status (SIGSEGV exits
// included) and instructions are those with the firmware completing every
// access; with 4 KiB host pages nothing is mixed, so nothing faults or is
// regenerated.
func TestStrategiesKeepGuestBehaviour(t *testing.T) {
	for _, c := range readCases(t) {
		t.Run(c.id, func(t *testing.T) {
			t.Parallel()
			res, out, st, _ := runWith(t, MachineConfig{Strategy: Never}, c.prog, c.args...)
			for _, mc := range []MachineConfig{{Strategy: Adaptive, RegenThreshold: 1}, {Strategy: Adaptive, RegenThreshold: 16},
				{Strategy: Selective, RegenThreshold: 4}, {Strategy: AlwaysWalk}} {
				sres, sout, sst, _ := runWith(t, mc, c.prog, c.args...)
				require.Equal(t, res, sres, "%v", mc.Strategy)
				require.Equal(t, out, sout, "%v", mc.Strategy)
				require.Equal(t, st.GuestInsts, sst.GuestInsts, "%v", mc.Strategy)
			}
			for _, s := range []Strategy{Adaptive, AlwaysWalk, Refuse} {
				_, _, st4, _ := runWith(t, MachineConfig{HostPageSize: 4 << 10, Strategy: s, RegenThreshold: 1}, c.prog, c.args...)
				require.Zero(t, st4.MixedAccesses, "%v", s)
				require.Zero(t, st4.Regenerations, "%v", s)
				require.Zero(t, st4.WalkedAccesses, "%v", s)
			}
		})
	}
}

// TestFaultDetectorThreshold: under Adaptive a block is regenerated when
// its faults on mixed host pages reach the threshold, and never before.
func TestFaultDetectorThreshold(t *testing.T) {
	for _, th := range []int{1, 3, 16} {
		_, _, never, _ := runWith(t, MachineConfig{Strategy: Never}, "sieve", "100000")
		_, _, st, m := runWith(t, MachineConfig{Strategy: Adaptive, RegenThreshold: th}, "sieve", "100000")
		require.Positive(t, st.Regenerations)
		require.Equal(t, st.Regenerations, m.FaultsPerBlock()[uint64(th)], "every regenerated block had exactly %d faults", th)
		for n, blocks := range m.FaultsPerBlock() {
			if n > uint64(th) {
				t.Errorf("%d blocks took %d faults, over the threshold %d", blocks, n, th)
			}
		}
		require.Less(t, st.MixedAccesses, never.MixedAccesses/20, "walks take over the faulting accesses")
		require.Equal(t, never.MixedAccesses, st.MixedAccesses+st.WalkedAccesses, "each access to a mixed page either faults or is walked")
	}
	// Never: no regeneration however many faults.
	_, _, st, m := runWith(t, MachineConfig{Strategy: Never}, "sieve", "100000")
	require.Zero(t, st.Regenerations)
	require.Zero(t, st.Walks)
	var most uint64
	for n := range m.FaultsPerBlock() {
		most = max(most, n)
	}
	require.Greater(t, most, uint64(1000), "a hot block faults on every iteration")
}

// TestSelectiveWalksLess: regenerating only the faulting instructions
// executes fewer inline walks (and host instructions) than regenerating
// whole blocks, for the same accesses.
func TestSelectiveWalksLess(t *testing.T) {
	_, _, ad, _ := runWith(t, MachineConfig{Strategy: Adaptive, RegenThreshold: 16}, "qsort")
	_, _, se, _ := runWith(t, MachineConfig{Strategy: Selective, RegenThreshold: 16}, "qsort")
	require.Less(t, float64(se.Walks), 0.85*float64(ad.Walks))
	require.Less(t, se.HostInsts, ad.HostInsts)
	require.InDelta(t, float64(ad.MixedAccesses+ad.WalkedAccesses), float64(se.MixedAccesses+se.WalkedAccesses), 0)
	// Atomics are not walked: blocks whose faults are theirs are not
	// regenerated again and again.
	_, _, ad, _ = runWith(t, MachineConfig{Strategy: Adaptive, RegenThreshold: 1}, "intops")
	_, _, se, _ = runWith(t, MachineConfig{Strategy: Selective, RegenThreshold: 1}, "intops")
	require.Positive(t, ad.MixedAccesses, "the atomics still fault")
	require.Less(t, se.Regenerations, ad.Regenerations*3/2)
}

func TestRefuse(t *testing.T) {
	prog, err := LoadProgram(readWorkload(t, "sieve"))
	require.NoError(t, err)
	p, err := NewProcess(prog, ProcessConfig{Path: "sieve", Argv: []string{"sieve"}})
	require.NoError(t, err)
	_, err = NewMachine(p, MachineConfig{Strategy: Refuse}, nil)
	require.ErrorContains(t, err, "page-size strategy refuse: the guest's layout makes the 64 KiB host page at 0x70000 mixed")
	// (0x70000 holds the end of the text and the start of the data.)
	// With 4 KiB host pages the same program runs.
	res, out, _, _ := runWith(t, MachineConfig{HostPageSize: 4 << 10, Strategy: Refuse}, "sieve", "1000")
	require.Zero(t, res.ExitCode)
	require.Contains(t, out, "primes below 1000")
}

func TestParseStrategy(t *testing.T) {
	for _, s := range []Strategy{Never, Adaptive, Selective, AlwaysWalk, Refuse, Permissive} {
		got, err := ParseStrategy(s.String())
		require.NoError(t, err)
		require.Equal(t, s, got)
	}
	_, err := ParseStrategy("lenient")
	require.ErrorContains(t, err, `unknown page-size strategy "lenient"`)
}

// TestPermissive: mixed host pages are mapped with the union of their
// pages' protections, so nothing faults into the firmware, and the guest
// faults Linux would deliver are missed — counted, and the program goes
// on where it would have died.
func TestPermissive(t *testing.T) {
	res, out, st, _ := runWith(t, MachineConfig{Strategy: Permissive}, "mixpages", "guard", "4100")
	require.Zero(t, res.ExitCode, "the overflow into the guard page goes unnoticed")
	require.Contains(t, out, "guard ")
	require.Equal(t, uint64(8), st.MissedFaults, "four bytes written and read back in the guard page")
	require.Zero(t, st.MixedAccesses)

	res, out, st, _ = runWith(t, MachineConfig{Strategy: Permissive}, "mixpages", "roprot")
	require.Zero(t, res.ExitCode)
	require.Equal(t, 2, strings.Count(out, "roprot "), "it goes on after the write Linux refuses")
	require.Equal(t, uint64(1), st.MissedFaults)

	// An access that straddles into a refused page counts once, however
	// many bytes or steps it takes.
	prog, err := LoadProgram(readWorkload(t, "sieve"))
	require.NoError(t, err)
	p, err := NewProcess(prog, ProcessConfig{Path: "sieve", Argv: []string{"sieve"}})
	require.NoError(t, err)
	m, err := NewMachine(p, MachineConfig{Strategy: Permissive}, nil)
	require.NoError(t, err)
	addr, errno := p.AS.Mmap(0, 256<<10, PermR|PermW, MapPrivate|MapAnonymous, "test")
	require.Zero(t, errno)
	base := (addr + 64<<10 - 1) &^ (64<<10 - 1)
	require.Zero(t, p.AS.Mprotect(base+GuestPageSize, GuestPageSize, PermR))
	// Straddling into the read-only page; across into the next host page;
	// in the read-only page.
	m.core.X[5], m.core.X[6], m.core.X[8] = base+GuestPageSize-4, base+64<<10-4, base+GuestPageSize
	for _, in := range []cpu.Inst{{Op: cpu.Sd, Rs1: 5, Rs2: 6}, {Op: cpu.Ld, Rd: 7, Rs1: 5}, {Op: cpu.Sd, Rs1: 6, Rs2: 5},
		{Op: cpu.AmoAddD, Rd: 7, Rs1: 8, Rs2: 6}} {
		before := m.mem.missed
		ex := m.core.Run([]cpu.Inst{in, {Op: cpu.Leave}})
		require.Equal(t, cpu.ExitJump, ex.Kind, "%v", in)
		want := uint64(1)
		if in.Op == cpu.Ld || in.Rs1 == 6 {
			want = 0 // reading is allowed; the host-page crossing store touches only writable pages
		}
		require.Equal(t, want, m.mem.missed-before, "%v", in)
	}

	// Where the guest never breaks its own protection nothing is missed,
	// and the shared text/data page costs no firmware.
	res, _, st, _ = runWith(t, MachineConfig{Strategy: Permissive}, "sieve", "100000")
	require.Zero(t, res.ExitCode)
	require.Zero(t, st.MissedFaults)
	require.Zero(t, st.MixedAccesses)
	_, _, never, _ := runWith(t, MachineConfig{Strategy: Never}, "sieve", "100000")
	require.Positive(t, never.MixedAccesses)
}

// TestReclassification: W^X code generation toggles one page between
// read-write and read-execute inside a read-write region, so its host page
// turns mixed and uniform again, round after round — and is mapped
// directly again each time (the layout samples count it both ways).
func TestReclassification(t *testing.T) {
	_, _, st, m := runWith(t, MachineConfig{Strategy: Never}, "mixpages", "wx", "50")
	up, down := 0, 0
	l := m.Layout()
	require.Greater(t, len(l), 100, "two mprotects a round")
	for i := 1; i < len(l); i++ {
		switch {
		case l[i].Mixed > l[i-1].Mixed:
			up++
		case l[i].Mixed < l[i-1].Mixed:
			down++
		}
	}
	require.GreaterOrEqual(t, up, 50)
	require.GreaterOrEqual(t, down, 49)
	require.Positive(t, l[0].Mixed, "the text and data page from the start")
	require.Positive(t, l[0].Uniform)
	require.Positive(t, st.MixedAccesses)
	_, _, st4, m4 := runWith(t, MachineConfig{HostPageSize: 4 << 10}, "mixpages", "wx", "50")
	require.Zero(t, st4.MixedAccesses)
	for _, s := range m4.Layout() {
		require.Zero(t, s.Mixed)
	}
}

// TestTranslateHighAddresses: code mapped high in the guest's address space
// (as a JIT's mmap'd buffer is) exits to addresses beyond 32 bits.
func TestTranslateHighAddresses(t *testing.T) {
	const pc = 0x3ff77e4ff8 // near the end of a 4 KiB page, above 2^32
	fetch := func(at uint64) (uint32, bool) {
		switch at {
		case pc:
			return 0x00000013, true // addi x0, x0, 0
		case pc + 4:
			return 0x0080006f, true // jal x0, +8
		}
		return 0, false
	}
	b := translate(fetch, pc, false, nil)
	require.Equal(t, uint64(pc+8), b.End)
	last := b.Code[len(b.Code)-1]
	require.Equal(t, cpu.Leave, last.Op)
	require.Equal(t, int64(pc+12), last.Imm)
	in, n, err := cpu.DecodeWord(b.Words[len(b.Words)-2:])
	require.NoError(t, err)
	require.Equal(t, 2, n, "a wide exit")
	require.Equal(t, last, in)
}

// TestRefuseAtRuntime: under refuse, a mapping change that leaves a host
// page mixed stops the run with the error — also when it unmaps the start
// of a host page, leaving the pages above it mapped.
func TestRefuseAtRuntime(t *testing.T) {
	prog, err := LoadProgram(readWorkload(t, "sieve"))
	require.NoError(t, err)
	for _, change := range []func(as *AddressSpace, base uint64){
		func(as *AddressSpace, base uint64) { as.Munmap(base, GuestPageSize) },
		func(as *AddressSpace, base uint64) { as.Munmap(base+GuestPageSize, GuestPageSize) },
		func(as *AddressSpace, base uint64) { as.Mprotect(base+2*GuestPageSize, GuestPageSize, PermR) },
	} {
		p, err := NewProcess(prog, ProcessConfig{Path: "sieve", Argv: []string{"sieve"}})
		require.NoError(t, err)
		// The program's own layout is mixed at 64 KiB: start under never,
		// then switch to refuse for the changes that follow.
		m, err := NewMachine(p, MachineConfig{Strategy: Never}, nil)
		require.NoError(t, err)
		m.cfg.Strategy = Refuse
		addr, errno := p.AS.Mmap(0, 256<<10, PermR|PermW, MapPrivate|MapAnonymous, "test")
		require.Zero(t, errno)
		base := (addr + 64<<10 - 1) &^ (64<<10 - 1)
		require.NoError(t, m.refused, "whole host pages are uniform")
		change(p.AS, base)
		require.ErrorContains(t, m.refused, fmt.Sprintf("makes the 64 KiB host page at %#x mixed", base))
		_, err = m.Run()
		require.ErrorContains(t, err, "page-size strategy refuse")
	}
}

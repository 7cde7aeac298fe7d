package cache

import (
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/twinsim/twinsim/memory"
	"github.com/twinsim/twinsim/sim"
)

// coherentHost is n cores, each with a write-back L1 (which holds the
// flags) and L2, a shared L3 and DRAM, a directory, a modification log and
// a device port (DMA) on the L3.
type coherentHost struct {
	env   *sim.Env
	ctl   *Controller
	dir   *Directory
	l3    *Cache
	ports []*Port
	dma   *Port
	l1s   []*Cache
}

func newCoherentHost(t tb, n int, l1Size, l2Size uint64, trackThread bool) *coherentHost {
	t.Helper()
	env := sim.NewEnv(1)
	mem, err := memory.NewPhysical(4 << 20)
	require.NoError(t, err)
	ctl, err := NewController(env.Scope("imlog"), mem, LogConfig{Base: logBase, Size: 64 << 10, LineSize: testLine,
		TrackThread: trackThread})
	require.NoError(t, err)
	ctl.SetBackedUp(backedVM, true)
	for th := range uint16(8) {
		ctl.SetThreadBackedUp(th, true)
	}
	dram := newTestDRAM(t, env)
	l3, err := New(env.Scope("l3"), Config{Size: 256 * testLine, LineSize: testLine, Ways: 8, Latency: 30, TrackThread: trackThread})
	require.NoError(t, err)
	ctl.AddCache(l3)
	dir, err := NewDirectory(env.Scope("dir"), DirectoryConfig{Entries: 256, Ways: 8, Latency: 5, HopCycles: 10}, testLine)
	require.NoError(t, err)
	h := &coherentHost{env: env, ctl: ctl, dir: dir, l3: l3}
	for c := range n {
		l1, err := New(env.Scope("l1."+string(rune('a'+c))), Config{Size: l1Size, LineSize: testLine, Ways: 2, Latency: 2, TrackThread: trackThread})
		require.NoError(t, err)
		l2, err := New(env.Scope("l2."+string(rune('a'+c))), Config{Size: l2Size, LineSize: testLine, Ways: 4, Latency: 12, TrackThread: trackThread})
		require.NoError(t, err)
		ctl.AddCache(l1)
		ctl.AddCache(l2)
		ag, err := dir.NewAgent(l1, l2)
		require.NoError(t, err)
		p, err := NewPort(sim.GHz, []*Cache{l1, l2, l3}, dram, ctl)
		require.NoError(t, err)
		require.NoError(t, p.Attach(dir, ag, nil, -1))
		h.ports = append(h.ports, p)
		h.l1s = append(h.l1s, l1)
	}
	h.dma, err = NewPort(sim.GHz, []*Cache{l3}, dram, ctl)
	require.NoError(t, err)
	require.NoError(t, h.dma.Attach(dir, nil, nil, -1))
	return h
}

func (h *coherentHost) logged() map[uint64]int {
	out := map[uint64]int{}
	h.ctl.Drain(func(a uint64, _ uint16) { out[a]++ })
	return out
}

// TestCoherenceTransfersInvalidatesAndMovesTheFlag walks one line through
// MESI by hand: 1 GHz; L1 2, L2 12, L3 30 cycles; directory 5 cycles and
// 10-cycle hops.
func TestCoherenceTransfersInvalidatesAndMovesTheFlag(t *testing.T) {
	h := newCoherentHost(t, 2, 1<<10, 4<<10, true)
	a, b := h.ports[0], h.ports[1]
	ns := sim.Nanosecond
	x := uint64(0x1000)
	T := sim.Time(sim.Microsecond)
	// A writes x: misses everywhere (2+12+30 cycles, then DRAM: 10 ns
	// transfer + 50 ns): 104 ns; it holds x modified, flagged, thread 3.
	require.Equal(t, T+104*ns, a.Access(T, Access{Addr: x, Write: true, VM: backedVM, Thread: 3}))
	r, ok := h.l1s[0].Probe(x)
	require.True(t, ok)
	require.True(t, r.Exclusive && r.Dirty && r.IMF)
	// B reads x: misses its L1 and L2 (14 cycles); the directory sends it
	// to A (5 + 10 + A's L2 12 + 10): 51 ns, supplied by A.
	require.Equal(t, 2*T+51*ns, b.Access(2*T, Access{Addr: x}))
	require.Equal(t, b.Remote(), b.Served())
	r, _ = h.l1s[0].Probe(x)
	require.True(t, r.Valid && !r.Exclusive && !r.Dirty && r.IMF, "A keeps a clean shared copy and its flag: %+v", r)
	l3row, ok := h.l3.Probe(x)
	require.True(t, ok && l3row.Dirty, "A's dirty data went to the L3")
	// B writes x: an upgrade; A's copy is invalidated (5 + 2×10) and its
	// flag moves to B's row.
	require.Equal(t, 3*T+2*ns+25*ns, b.Access(3*T, Access{Addr: x, Write: true, VM: backedVM, Thread: 4}))
	_, ok = h.l1s[0].Probe(x)
	require.False(t, ok)
	r, _ = h.l1s[1].Probe(x)
	require.True(t, r.Exclusive && r.Dirty && r.IMF && r.Thread == 4)
	require.NoError(t, h.dir.Check(h.l3))
	require.Equal(t, uint64(1), stat(t, h.env, "dir", "transfers"))
	require.Equal(t, uint64(1), stat(t, h.env, "dir", "invalidations"))
	require.Equal(t, uint64(1), stat(t, h.env, "dir", "flag_moves"))
	// The checkpoint scan logs x once.
	h.ctl.Scan(4 * T)
	require.Equal(t, map[uint64]int{x: 1}, h.logged())
	// A device writes x: B's copy is invalidated and the flag goes to the
	// L3 row the device writes.
	h.dma.Access(5*T, Access{Addr: x, Write: true, VM: backedVM, Mode: Hypervisor})
	_, ok = h.l1s[1].Probe(x)
	require.False(t, ok)
	require.NoError(t, h.dir.Check(h.l3))
}

// TestCoherenceReadGetsExclusiveWhenAlone: a line no other core holds is
// granted E, and a store to it then needs no directory.
func TestCoherenceReadGetsExclusiveWhenAlone(t *testing.T) {
	h := newCoherentHost(t, 2, 1<<10, 4<<10, false)
	a := h.ports[0]
	a.Access(0, Access{Addr: 0x2000})
	r, _ := h.l1s[0].Probe(0x2000)
	require.True(t, r.Exclusive && !r.Dirty)
	T := sim.Time(sim.Microsecond)
	require.Equal(t, T+2*sim.Nanosecond, a.Access(T, Access{Addr: 0x2000, Write: true, VM: backedVM}))
	require.Equal(t, uint64(0), stat(t, h.env, "dir", "ownership_requests"))
	h.ports[1].Access(T, Access{Addr: 0x2000})
	r, _ = h.l1s[0].Probe(0x2000)
	require.False(t, r.Exclusive)
}

// TestCoherenceInvariantsProperty: cores and a device read and write
// random lines in random modes. After every access: every private copy's
// core is listed by the directory, at most one core can write a line and
// then alone holds it, and at most one row carries a line's flag. With
// caches that hold every line, each line written with a flag since the
// last scan is logged exactly once by the next scan, however often it
// moved between the cores.
func TestCoherenceInvariantsProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		n := rapid.IntRange(2, 4).Draw(rt, "cores")
		small := rapid.Bool().Draw(rt, "small")
		l1, l2 := uint64(64<<10), uint64(128<<10)
		if small {
			l1, l2 = 2*testLine, 4*testLine // evictions, write-backs, recalls
		}
		h := newCoherentHost(rt, n, l1, l2, true)
		written := map[uint64]bool{}
		now := sim.Time(0)
		for range rapid.IntRange(1, 200).Draw(rt, "ops") {
			who := rapid.IntRange(-1, n-1).Draw(rt, "who")
			line := uint64(rapid.IntRange(0, 15).Draw(rt, "line")) * testLine
			write := rapid.Bool().Draw(rt, "write")
			mode := Guest
			if rapid.IntRange(0, 4).Draw(rt, "mode") == 0 {
				mode = Hypervisor
			}
			p := h.dma
			if who >= 0 {
				p = h.ports[who]
			}
			now += sim.Time(rapid.IntRange(0, 200).Draw(rt, "gap")) * sim.Nanosecond
			p.Access(now, Access{Addr: line + 8, Write: write, VM: backedVM, Mode: mode, Thread: uint16(max(who, 0))})
			if write && mode == Guest {
				written[line] = true
			}
			if err := h.dir.Check(h.l3); err != nil {
				rt.Fatal(err)
			}
			if rapid.IntRange(0, 30).Draw(rt, "scan") == 0 {
				h.ctl.Scan(now)
				got := h.logged()
				if !small {
					for l := range written {
						require.Equal(rt, 1, got[l], "line %#x written since the last scan", l)
					}
					require.Len(rt, got, len(written))
				} else {
					for l := range written {
						require.GreaterOrEqual(rt, got[l], 1, "line %#x written since the last scan", l)
					}
				}
				written = map[uint64]bool{}
			}
		}
	})
}

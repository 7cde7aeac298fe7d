package cache

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/twinsim/twinsim/memory"
	"github.com/twinsim/twinsim/sim"
)

// benchPort is the default scenario's hierarchy: 32 KiB / 512 KiB / 8 MiB,
// write-back, 128-byte lines, with a controller whose stall hook drains.
func benchPort(b *testing.B) (*Port, *Controller) {
	env := sim.NewEnv(1)
	mem, err := memory.NewPhysical(1 << 30)
	require.NoError(b, err)
	ctl, err := NewController(env.Scope("imlog"), mem, LogConfig{Base: 1<<30 - 1<<20, Size: 1 << 20, LineSize: 128,
		DedupWindow: 8, Batch: true, Overflow: Stall, ScanCyclesPerLine: 1})
	require.NoError(b, err)
	ctl.OnFull = func(sim.Time) uint64 { ctl.Drain(func(uint64, uint16) {}); return 0 }
	ctl.SetBackedUp(1, true)
	var levels []*Cache
	for _, l := range []struct {
		name string
		size uint64
		ways int
		lat  uint64
	}{{"l1", 32 << 10, 8, 2}, {"l2", 512 << 10, 8, 12}, {"l3", 8 << 20, 16, 40}} {
		c, err := New(env.Scope(l.name), Config{Size: l.size, LineSize: 128, Ways: l.ways, Latency: l.lat})
		require.NoError(b, err)
		ctl.AddCache(c)
		levels = append(levels, c)
	}
	dram, err := memory.NewDRAM(env.Scope("dram"), memory.DRAMConfig{Latency: 60 * sim.Nanosecond, Channels: 2,
		BytesPerSec: 12_800_000_000, InterleaveBytes: 4096})
	require.NoError(b, err)
	p, err := NewPort(3*sim.GHz, levels, dram, ctl)
	require.NoError(b, err)
	return p, ctl
}

// BenchmarkPortAccess measures one access through a three-level hierarchy
// with flags and logging on, over a 16 MiB footprint with 30 % stores.
func BenchmarkPortAccess(b *testing.B) {
	p, _ := benchPort(b)
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 1 << 16
	addrs := make([]Access, n)
	for i := range addrs {
		addrs[i] = Access{Addr: rng.Uint64N(16<<20) &^ 7, Write: rng.Float64() < 0.3, VM: 1}
	}
	var t sim.Time
	for i := range 4 * n { // warm the caches and the histogram buckets
		t = p.Access(t, addrs[i%n])
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t = p.Access(t, addrs[i%n])
	}
}

// BenchmarkScan measures a checkpoint scan of the same hierarchy
// (73,984 rows) with flags set on a quarter of the L1 rows.
func BenchmarkScan(b *testing.B) {
	p, ctl := benchPort(b)
	b.ReportAllocs()
	for b.Loop() {
		for a := uint64(0); a < 8<<10; a += 128 {
			p.Access(0, Access{Addr: a, Write: true, VM: 1})
		}
		ctl.Scan(0)
		ctl.Drain(func(uint64, uint16) {})
	}
}

// BenchmarkWeaveBacklog is one replay while 200,000 accesses wait far
// beyond its horizon (a firmware call that zeroed 25 MB ahead of the
// engine) and each core makes 8 new ones in the quantum: the cost should
// be the new accesses', not the backlog's.
func BenchmarkWeaveBacklog(b *testing.B) {
	env := sim.NewEnv(1)
	w, err := NewWeave(env.Scope("weave"), sim.Microsecond)
	require.NoError(b, err)
	dram, err := memory.NewDRAM(env.Scope("dram"), memory.DRAMConfig{Latency: 60 * sim.Nanosecond, Channels: 2,
		BytesPerSec: 12_800_000_000, InterleaveBytes: 4096})
	require.NoError(b, err)
	require.NoError(b, w.AttachDRAM(dram))
	agents := []int{w.NewAgent(nil), w.NewAgent(nil)}
	far := sim.Time(sim.Second)
	for i := range 200_000 {
		w.dramAccess(agents[0], far+sim.Time(i)*sim.Nanosecond, uint64(i)*128, 128, true, true)
	}
	now := sim.Time(0)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, a := range agents {
			for k := range 8 {
				w.dramAccess(a, now+sim.Time(k)*10*sim.Nanosecond, uint64(k)*4096, 128, false, false)
			}
		}
		now += sim.Microsecond
		w.replay(now, false)
	}
	b.StopTimer()
	require.GreaterOrEqual(b, w.Pending(), 200_000, "the backlog stays beyond every horizon")
}

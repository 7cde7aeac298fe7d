package cache

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/twinsim/twinsim/memory"
	"github.com/twinsim/twinsim/sim"
)

// TestMSHRsLimitOutstandingMisses: with two MSHRs in the L1, a third miss
// issued at the same time waits for the first register to free; an access
// to a line whose fill is on its way takes no register and completes when
// the fill arrives. Times worked by hand: 1 GHz, L1 2 cycles, one DRAM
// channel moving 128 bytes in 10 ns with 50 ns latency.
func TestMSHRsLimitOutstandingMisses(t *testing.T) {
	env := sim.NewEnv(1)
	l1, err := New(env.Scope("l1"), Config{Size: 64 * testLine, LineSize: testLine, Ways: 4, Latency: 2, MSHRs: 2})
	require.NoError(t, err)
	p, err := NewPort(sim.GHz, []*Cache{l1}, newTestDRAM(t, env), nil)
	require.NoError(t, err)
	ns := sim.Nanosecond
	// A: misses at 2 ns, DRAM 2..12, data at 62 ns.
	require.Equal(t, 62*ns, p.Access(0, Access{Addr: 0}))
	// B: the channel is busy until 12 ns: data at 72 ns.
	require.Equal(t, 72*ns, p.Access(0, Access{Addr: testLine}))
	require.Zero(t, p.MSHRWait())
	// C: both registers are held (until 62 and 72 ns): it waits until 62.
	require.Equal(t, 122*ns, p.Access(0, Access{Addr: 2 * testLine}))
	require.Equal(t, 60*ns, p.MSHRWait())
	require.Equal(t, uint64(60*ns), stat(t, env, "l1", "mshr_full_ps"))
	// A again at 5 ns: present in the L1, but its fill arrives at 62 ns.
	require.Equal(t, 62*ns, p.Access(5*ns, Access{Addr: 0}))
	require.Equal(t, uint64(1), stat(t, env, "l1", "mshr_merges"))
	// After the fill, a plain hit.
	require.Equal(t, 202*ns, p.Access(200*ns, Access{Addr: 0}))
	require.Equal(t, uint64(1), stat(t, env, "l1", "mshr_merges"))
}

// TestWriteBufferFullDelaysTheFill: a one-entry write-back buffer holds a
// dirty victim for the L2's 10-cycle latency; a second dirty victim in that
// time waits for the entry, and the store that evicted it with it.
func TestWriteBufferFullDelaysTheFill(t *testing.T) {
	env := sim.NewEnv(1)
	l1, err := New(env.Scope("l1"), Config{Size: testLine, LineSize: testLine, Ways: 1, Latency: 1, WriteBuffer: 1})
	require.NoError(t, err)
	l2 := newTestCache(t, env, "l2", 16*testLine, 16, LRU, WriteBack, 10)
	p, err := NewPort(sim.GHz, []*Cache{l1, l2}, newTestDRAM(t, env), nil)
	require.NoError(t, err)
	x, y, z := uint64(0), uint64(testLine), uint64(2*testLine)
	for _, a := range []uint64{x, y, z} {
		p.Access(0, Access{Addr: a})
	}
	T := sim.Time(sim.Microsecond)
	ns := sim.Nanosecond
	require.Equal(t, T+11*ns, p.Access(T, Access{Addr: x, Write: true}), "L1 miss, L2 hit; the victim is clean")
	require.Equal(t, T+11*ns, p.Access(T, Access{Addr: y, Write: true}), "dirty x takes the buffer until T+10")
	require.Equal(t, T+21*ns, p.Access(T, Access{Addr: x, Write: true}), "dirty y waits 10 ns for the entry")
	require.Equal(t, uint64(10*ns), stat(t, env, "l1", "write_buffer_full_ps"))
}

func TestMSHRConfigErrors(t *testing.T) {
	require.ErrorContains(t, Config{Size: 1024, LineSize: 128, Ways: 1, Latency: 1, MSHRs: -1}.Validate(), "mshrs -1")
	require.ErrorContains(t, Config{Size: 1024, LineSize: 128, Ways: 1, Latency: 1, WriteBuffer: 300}.Validate(), "write buffer 300")
}

// TestStreamPrefetcher: a run of misses to consecutive lines of a page
// trains the L1's prefetcher (degree 2, distance 1): from the third miss on
// it fetches the next two lines ahead, so a sequential walk mostly hits
// lines it prefetched, and finishes sooner than without it. A constant
// stride of a few lines trains it too; a longer one does not.
func TestStreamPrefetcher(t *testing.T) {
	walk := func(degree int, stride uint64) (sim.Time, *sim.Env) {
		env := sim.NewEnv(1)
		l1, err := New(env.Scope("l1"), Config{Size: 64 * testLine, LineSize: testLine, Ways: 4, Latency: 2, MSHRs: 8,
			PrefetchDegree: degree, PrefetchDistance: 1, PrefetchStreams: 4})
		require.NoError(t, err)
		dram, err := memory.NewDRAM(env.Scope("dram"), memory.DRAMConfig{Latency: 50 * sim.Nanosecond, Channels: 1,
			BytesPerSec: 100_000_000_000, InterleaveBytes: 4096})
		require.NoError(t, err)
		p, err := NewPort(sim.GHz, []*Cache{l1}, dram, nil)
		require.NoError(t, err)
		t0 := sim.Time(0)
		for k := range uint64(32) {
			t0 = p.Access(t0, Access{Addr: (k * stride) % 4096})
		}
		return t0, env
	}
	off, _ := walk(0, testLine)
	on, env := walk(2, testLine)
	require.Less(t, float64(on), 0.5*float64(off), "sequential: %v with the prefetcher, %v without", on, off)
	require.GreaterOrEqual(t, stat(t, env, "l1", "useful_prefetches"), uint64(25))
	require.Less(t, stat(t, env, "l1", "read_misses"), uint64(8))
	_, env = walk(2, 5*testLine) // a stride of 5 lines is a run too
	require.Positive(t, stat(t, env, "l1", "useful_prefetches"))
	_, env = walk(2, 9*testLine) // 9 lines apart (and back when it wraps): too far
	require.Zero(t, stat(t, env, "l1", "prefetches"))
	require.ErrorContains(t, Config{Size: 1024, LineSize: 128, Ways: 1, Latency: 1, PrefetchDegree: 2}.Validate(), "prefetch distance 0")
}

package cache

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/twinsim/twinsim/sim"
)

// streamingPort is a core with a write-streaming L1 (threshold 3) over
// DRAM, and the DRAM's scope for its read and write counts.
func streamingPort(t *testing.T, threshold int) (*sim.Env, *Port, *Cache) {
	t.Helper()
	env := sim.NewEnv(1)
	l1, err := New(env.Scope("l1"), Config{Size: 64 * testLine, LineSize: testLine, Ways: 4, Latency: 2, WriteStreaming: threshold})
	require.NoError(t, err)
	p, err := NewPort(sim.GHz, []*Cache{l1}, newTestDRAM(t, env), nil)
	require.NoError(t, err)
	return env, p, l1
}

// fillLines stores every 8-byte word of lines [from, to) one nanosecond
// apart, as a memset does: each line is written in full long before its
// fill (60 ns) arrives.
func fillLines(p *Port, at sim.Time, from, to uint64) sim.Time {
	for l := from; l < to; l++ {
		for w := uint64(0); w < testLine; w += 8 {
			p.Access(at, Access{Addr: l*testLine + w, Write: true})
			at += sim.Nanosecond
		}
	}
	return at
}

// TestWriteStreamingStopsReadingLines: with threshold 3, lines 0..2 are
// written in full before their fills, so the miss on line 3 (allocated
// like them) switches the L1 to streaming, and lines 4..19 are written to
// DRAM without being read or allocated: 4 DRAM reads, 16 writes, counted by
// hand.
func TestWriteStreamingStopsReadingLines(t *testing.T) {
	env, p, l1 := streamingPort(t, 3)
	fillLines(p, 0, 0, 20)
	require.Equal(t, uint64(4), stat(t, env, "dram", "reads"), "only the lines before the mode began were read")
	require.Equal(t, uint64(16), stat(t, env, "dram", "writes"), "each streamed line is written once, whole")
	require.Equal(t, uint64(16), stat(t, env, "l1", "streamed_lines"))
	require.Equal(t, uint64(1), stat(t, env, "l1", "streaming_entries"))
	for l := uint64(0); l < 20; l++ {
		require.Equal(t, l < 4, l1.find(l*testLine) >= 0, "line %d allocated", l)
	}
	// A streamed store costs the L1's latency, not a fill.
	at := sim.Time(sim.Microsecond)
	require.Equal(t, at+2*sim.Nanosecond, p.Access(at, Access{Addr: 20 * testLine, Write: true}))
}

// TestWriteStreamingNeedsWholeLines: a core that writes half of each line
// never enters the mode (every miss is read), and with threshold 0 the
// mode is off.
func TestWriteStreamingNeedsWholeLines(t *testing.T) {
	env, p, _ := streamingPort(t, 3)
	at := sim.Time(0)
	for l := uint64(0); l < 10; l++ {
		for w := uint64(0); w < testLine/2; w += 8 {
			p.Access(at, Access{Addr: l*testLine + w, Write: true})
			at += sim.Nanosecond
		}
	}
	require.Equal(t, uint64(10), stat(t, env, "dram", "reads"))
	require.Equal(t, uint64(0), stat(t, env, "l1", "streamed_lines"))

	env, p, _ = streamingPort(t, 0)
	fillLines(p, 0, 0, 10)
	require.Equal(t, uint64(10), stat(t, env, "dram", "reads"))
	_, ok := env.Stats.Lookup("l1", "streamed_lines")
	require.False(t, ok, "no streaming statistics without the mode")
}

// TestWriteStreamingEnds: a load of the line being gathered ends the mode,
// and so does a line left part-written: the next store miss is read again.
func TestWriteStreamingEnds(t *testing.T) {
	env, p, _ := streamingPort(t, 3)
	at := fillLines(p, 0, 0, 6) // streaming from line 4
	require.Equal(t, uint64(4), stat(t, env, "dram", "reads"))
	p.Access(at, Access{Addr: 5 * testLine}) // a load of the line being gathered
	require.Equal(t, uint64(5), stat(t, env, "dram", "reads"), "the load reads line 5 from DRAM")
	fillLines(p, at+sim.Nanosecond, 6, 7)
	require.Equal(t, uint64(6), stat(t, env, "dram", "reads"), "line 6 is allocated: the mode has ended")

	env, p, _ = streamingPort(t, 3)
	at = fillLines(p, 0, 0, 5) // streaming; line 4 gathered in full
	p.Access(at, Access{Addr: 5 * testLine, Write: true})
	at += sim.Nanosecond                                  // line 5: one word only
	p.Access(at, Access{Addr: 6 * testLine, Write: true}) // leaves line 5 part-written
	require.Equal(t, uint64(5), stat(t, env, "dram", "reads"), "line 6 is read: the part-written line ended the mode")
	require.Equal(t, uint64(2), stat(t, env, "l1", "streamed_lines"))
}

// TestWriteStreamingIsCoherent: a line another core holds is invalidated
// when a streaming core writes it below the private levels, and the
// directory's invariants hold.
func TestWriteStreamingIsCoherent(t *testing.T) {
	env := sim.NewEnv(1)
	dram := newTestDRAM(t, env)
	l3, err := New(env.Scope("l3"), Config{Size: 256 * testLine, LineSize: testLine, Ways: 8, Latency: 30})
	require.NoError(t, err)
	dir, err := NewDirectory(env.Scope("dir"), DirectoryConfig{Entries: 256, Ways: 8, Latency: 5, HopCycles: 10}, testLine)
	require.NoError(t, err)
	var ports []*Port
	var l1s []*Cache
	for c := range 2 {
		l1, err := New(env.Scope("l1."+string(rune('a'+c))), Config{Size: 64 * testLine, LineSize: testLine, Ways: 4, Latency: 2, WriteStreaming: 3})
		require.NoError(t, err)
		ag, err := dir.NewAgent(l1)
		require.NoError(t, err)
		p, err := NewPort(sim.GHz, []*Cache{l1, l3}, dram, nil)
		require.NoError(t, err)
		require.NoError(t, p.Attach(dir, ag, nil, -1))
		ports, l1s = append(ports, p), append(l1s, l1)
	}
	a, b := ports[0], ports[1]
	victim := uint64(10 * testLine)
	b.Access(0, Access{Addr: victim})
	require.GreaterOrEqual(t, l1s[1].find(victim), 0)
	fillLines(a, sim.Microsecond, 0, 12) // streams from line 4: line 10 goes below a's L1
	require.Less(t, l1s[1].find(victim), 0, "b's copy was invalidated")
	require.Less(t, l1s[0].find(victim), 0, "a streamed the line: it did not allocate it")
	require.GreaterOrEqual(t, l3.find(victim), 0, "the L3 took the whole line")
	require.NoError(t, dir.Check())
	require.Positive(t, stat(t, env, "dir", "invalidations"))
}

// TestWriteStreamingNeverWithALog: a port whose stores are flagged for a
// modification log allocates every line (a streamed store would bypass
// the rows that carry the flags).
func TestWriteStreamingNeverWithALog(t *testing.T) {
	h := newCoherentHost(t, 1, 64*testLine, 256*testLine, false)
	for _, c := range h.ports[0].Levels() {
		c.cfg.WriteStreaming = 3
	}
	p, err := NewPort(sim.GHz, h.ports[0].Levels(), h.ports[0].dram, h.ctl)
	require.NoError(t, err)
	require.False(t, p.streams)
}

// TestWriteStreamingBelowFollowsAbove: a level below streams once it has
// received threshold whole lines from the streaming level above (the L2
// here at 2: lines 4 and 5 are allocated in it, lines 6.. pass to DRAM),
// and stops with it: after a part-written line ends the L1's stream, the
// L2 counts again from zero. Counted by hand.
func TestWriteStreamingBelowFollowsAbove(t *testing.T) {
	env := sim.NewEnv(1)
	l1, err := New(env.Scope("l1"), Config{Size: 64 * testLine, LineSize: testLine, Ways: 4, Latency: 2, WriteStreaming: 3})
	require.NoError(t, err)
	l2, err := New(env.Scope("l2"), Config{Size: 256 * testLine, LineSize: testLine, Ways: 8, Latency: 10, WriteStreaming: 2})
	require.NoError(t, err)
	p, err := NewPort(sim.GHz, []*Cache{l1, l2}, newTestDRAM(t, env), nil)
	require.NoError(t, err)
	at := fillLines(p, 0, 0, 10)
	require.Equal(t, uint64(6), stat(t, env, "l1", "streamed_lines"), "lines 4..9")
	require.GreaterOrEqual(t, l2.find(4*testLine), 0, "the L2 allocated line 4")
	require.GreaterOrEqual(t, l2.find(5*testLine), 0)
	require.Less(t, l2.find(6*testLine), 0, "from line 6 the L2 streams")
	require.Equal(t, uint64(4), stat(t, env, "l2", "streamed_lines"), "lines 6..9 went to DRAM")
	// Line 10 left part-written: both levels stop; the next streamed lines
	// (after 3 more whole lines in the L1) are allocated in the L2 again.
	p.Access(at, Access{Addr: 10 * testLine, Write: true})
	at = fillLines(p, at+sim.Nanosecond, 11, 16) // 11..14 allocated in the L1 (the miss on 14 restarts the mode), 15 streamed
	require.GreaterOrEqual(t, l2.find(15*testLine), 0, "the L2 counts from zero again: it allocates line 15")
}

package nic

import (
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/twinsim/twinsim/sim"
)

// gbps10 is 10 Gb/s in bytes per second.
const gbps10 = 1_250_000_000

func testConfig() Config {
	return Config{MTU: 1500, BufferBytes: 64 << 10, BufferPackets: 1024, Overflow: Backpressure,
		SpillBytesPerSec: 8_000_000_000, SpillLatency: 500 * sim.Nanosecond, Scheduler: StrictPriority,
		Quantum: [2]uint64{3000, 3000}, WireBytesPerSec: gbps10, WireLatency: sim.Microsecond,
		CoalescePackets: 1}
}

type delivery struct {
	p  Packet
	at sim.Time
}

// tb is what the helpers need from *testing.T and *rapid.T.
type tb interface {
	require.TestingT
	Helper()
}

func newAdapter(t tb, cfg Config) (*sim.Env, *Adapter, *[]delivery) {
	env := sim.NewEnv(1)
	a, err := New(env.Scope("host0.nic"), cfg)
	require.NoError(t, err)
	var got []delivery
	a.Deliver = func(p Packet, at sim.Time) { got = append(got, delivery{p, at}) }
	return env, a, &got
}

func stat(t tb, env *sim.Env, name string) float64 {
	v, ok := env.Stats.Lookup("host0.nic", name)
	require.True(t, ok, name)
	return v
}

func TestFraming(t *testing.T) {
	small, big := Packet{Bytes: 10}, Packet{Bytes: 1500}
	require.Equal(t, uint64(64), small.FrameBytes(), "padded to the minimum")
	require.Equal(t, uint64(84), small.WireBytes())
	require.Equal(t, uint64(1518), big.FrameBytes())
	require.Equal(t, uint64(1538), big.WireBytes())
}

func TestUncheckpointedGoesOutAtOnce(t *testing.T) {
	env, a, got := newAdapter(t, testConfig())
	vf := mustVF(t, a, 0xa, false)
	require.True(t, a.Send(vf, Packet{ID: 1, Bytes: 1500}))
	env.Engine.Run()
	require.Len(t, *got, 1)
	// 1538 bytes at 10 Gb/s is 1230.4 ns, then 1 us of wire.
	require.Equal(t, sim.Time(1230400+1000000), (*got)[0].at)
}

func TestOutputCommit(t *testing.T) {
	env, a, got := newAdapter(t, testConfig())
	vf := mustVF(t, a, 0xa, true)
	a.Send(vf, Packet{ID: 1, Bytes: 100})
	a.Send(vf, Packet{ID: 2, Bytes: 100})
	env.Engine.RunUntil(10 * sim.Microsecond)
	require.NoError(t, a.StartEpoch(vf, 1))
	a.Send(vf, Packet{ID: 3, Bytes: 100})
	env.Engine.RunUntil(1 * sim.Millisecond)
	require.Empty(t, *got, "held until epoch 0 commits")
	b, n := a.Buffered()
	require.Equal(t, 3, n)
	require.Equal(t, uint64(3*(100+18)), b)

	env.Engine.Schedule(sim.Event{Time: 2 * sim.Millisecond, Handler: env.Engine.Register(sim.HandlerFunc(func(sim.Event) {
		a.Commit(vf, 0)
	}))})
	env.Engine.RunUntil(5 * sim.Millisecond)
	require.Len(t, *got, 2, "epoch 0's packets, not epoch 1's")
	require.Equal(t, []uint64{1, 2}, []uint64{(*got)[0].p.ID, (*got)[1].p.ID})
	require.Greater(t, (*got)[0].at, 2*sim.Millisecond)
	a.Commit(vf, 1)
	env.Engine.Run()
	require.Len(t, *got, 3)
	require.Zero(t, stat(t, env, "output_commit_violations"))
	require.Equal(t, 3.0, stat(t, env, "released_packets"))
	_, n = a.Buffered()
	require.Zero(t, n)
	require.Error(t, a.StartEpoch(vf, 0), "epochs only increase")
}

// TestSchedulers: bulk packets of a non-checkpointing VF queue up, then a
// commit releases a batch of checkpoint packets: strict priority sends the
// batch next, FIFO after the bulk queued before it, DRR interleaved.
func TestSchedulers(t *testing.T) {
	order := func(s Scheduler) string {
		cfg := testConfig()
		cfg.Scheduler = s
		cfg.Quantum = [2]uint64{1538, 3 * 1538}
		env, a, got := newAdapter(t, cfg)
		bulk, ckpt := mustVF(t, a, 0xb, false), mustVF(t, a, 0xc, true)
		for i := range 4 {
			a.Send(ckpt, Packet{ID: uint64(10 + i), Bytes: 1500})
		}
		for i := range 8 {
			a.Send(bulk, Packet{ID: uint64(i), Bytes: 1500})
		}
		a.Commit(ckpt, 0)
		env.Engine.Run()
		out := ""
		for _, d := range *got {
			if d.p.ID >= 10 {
				out += "C"
			} else {
				out += "b"
			}
		}
		return out
	}
	// The first bulk packet is already on the wire when the commit comes.
	require.Equal(t, "bCCCCbbbbbbb", order(StrictPriority))
	require.Equal(t, "bbbbbbbbCCCC", order(FIFO))
	// Three bulk frames to one checkpoint frame a round (the bulk class
	// had its quantum when it sent the first).
	require.Equal(t, "bbbCbbbCbbCC", order(DRR))
}

func TestOverflowPolicies(t *testing.T) {
	small := testConfig()
	small.BufferBytes, small.BufferPackets = 3*1518, 100 // three full frames

	// Backpressure: the fourth packet is refused and the VF stays closed
	// until a released packet has left the buffer.
	env, a, got := newAdapter(t, small)
	vf := mustVF(t, a, 0xa, true)
	var rooms []int
	a.OnRoom = func(n int) { rooms = append(rooms, n) }
	for i := range 3 {
		require.True(t, a.Send(vf, Packet{ID: uint64(i), Bytes: 1500}))
	}
	require.False(t, a.Send(vf, Packet{ID: 3, Bytes: 1500}))
	require.False(t, a.Send(vf, Packet{ID: 4, Bytes: 64}), "closed until there is room")
	a.Commit(vf, 0)
	env.Engine.Run()
	require.Equal(t, []int{vf}, rooms)
	require.True(t, a.Send(vf, Packet{ID: 5, Bytes: 1500}))
	require.Equal(t, 2.0, stat(t, env, "backpressure_refusals"))
	require.Len(t, *got, 3)

	// Drop: refused packets are lost and counted.
	small.Overflow = Drop
	env, a, got = newAdapter(t, small)
	vf = mustVF(t, a, 0xa, true)
	for i := range 5 {
		require.True(t, a.Send(vf, Packet{ID: uint64(i), Bytes: 1500}))
	}
	a.Commit(vf, 0)
	env.Engine.Run()
	require.Len(t, *got, 3)
	require.Equal(t, 2.0, stat(t, env, "dropped_packets"))

	// Spill: nothing is lost; the spilled packets come back over DMA, so
	// they leave after the others.
	small.Overflow = Spill
	env, a, got = newAdapter(t, small)
	vf = mustVF(t, a, 0xa, true)
	for i := range 5 {
		require.True(t, a.Send(vf, Packet{ID: uint64(i), Bytes: 1500}))
	}
	a.Commit(vf, 0)
	env.Engine.Run()
	require.Len(t, *got, 5)
	require.Equal(t, 2.0, stat(t, env, "spilled_packets"))
	require.Zero(t, stat(t, env, "output_commit_violations"))
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		mod  func(*Config)
		want string
	}{
		{func(c *Config) { c.BufferBytes = 1000 }, "smaller than one frame of the MTU (1518 bytes)"},
		{func(c *Config) { c.MTU = 10 }, "mtu 10"},
		{func(c *Config) { c.BufferPackets = 0 }, "at least 1"},
		{func(c *Config) { c.Overflow, c.SpillBytesPerSec = Spill, 0 }, "spill needs a DMA bandwidth"},
		{func(c *Config) { c.Scheduler, c.Quantum = DRR, [2]uint64{0, 1} }, "drr needs a quantum"},
		{func(c *Config) { c.WireBytesPerSec = 0 }, "the wire needs a bandwidth"},
	} {
		cfg := testConfig()
		tc.mod(&cfg)
		_, err := New(sim.NewEnv(1).Scope("nic"), cfg)
		require.ErrorContains(t, err, tc.want)
	}
	for _, n := range []string{"strict-priority", "fifo", "drr"} {
		s, err := ParseScheduler(n)
		require.NoError(t, err)
		require.Equal(t, n, s.String())
	}
	for _, n := range []string{"backpressure", "spill", "drop"} {
		o, err := ParseOverflow(n)
		require.NoError(t, err)
		require.Equal(t, n, o.String())
	}
	_, err := ParseScheduler("lottery")
	require.Error(t, err)
}

// TestOutputCommitProperty: whatever the traffic, epochs, commit times,
// buffer size, overflow policy and scheduler, no packet of a
// checkpointing VF reaches the wire before its epoch's checkpoint has
// committed, each VF's packets leave in the order sent, and nothing is
// lost but what drop drops.
func TestOutputCommitProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		cfg := testConfig()
		cfg.BufferBytes = rapid.Uint64Range(1518, 64<<10).Draw(rt, "buffer")
		cfg.BufferPackets = rapid.IntRange(1, 64).Draw(rt, "packets")
		cfg.Overflow = Overflow(rapid.IntRange(0, 2).Draw(rt, "overflow"))
		cfg.Scheduler = Scheduler(rapid.IntRange(0, 2).Draw(rt, "scheduler"))
		env, a, got := newAdapter(rt, cfg)
		nvf := rapid.IntRange(1, 4).Draw(rt, "vfs")
		ckpt := make([]bool, nvf)
		for i := range nvf {
			ckpt[i] = rapid.Bool().Draw(rt, "ckpt")
			mustVF(rt, a, uint64(i), ckpt[i])
		}
		epoch := make([]uint64, nvf)
		commitAt := map[[2]uint64]sim.Time{} // (vf, epoch) → when it committed
		committed := make([]uint64, nvf)     // epochs below are committed
		accepted := map[uint64]bool{}
		sentIn := map[uint64]uint64{} // packet ID → the VF's epoch when it was sent (the test's own record)
		id := uint64(0)
		ops := rapid.IntRange(1, 200).Draw(rt, "ops")
		h := env.Engine.Register(sim.HandlerFunc(func(sim.Event) {}))
		for range ops {
			n := rapid.IntRange(0, nvf-1).Draw(rt, "vf")
			switch rapid.IntRange(0, 5).Draw(rt, "op") {
			case 0:
				if ckpt[n] {
					epoch[n]++
					require.NoError(rt, a.StartEpoch(n, epoch[n]))
				}
			case 1:
				if ckpt[n] && committed[n] < epoch[n] {
					commitAt[[2]uint64{uint64(n), committed[n]}] = env.Engine.Now()
					a.Commit(n, committed[n])
					committed[n]++
				}
			default:
				id++
				if a.Send(n, Packet{ID: id, Bytes: uint32(rapid.IntRange(1, 1500).Draw(rt, "bytes"))}) {
					accepted[id] = true
					sentIn[id] = epoch[n]
				}
			}
			env.Engine.Schedule(sim.Event{Time: env.Engine.Now() + sim.Time(rapid.IntRange(0, 3000).Draw(rt, "gap"))*sim.Nanosecond, Handler: h})
			env.Engine.RunUntil(env.Engine.Now() + sim.Microsecond)
		}
		// Commit everything at the end.
		for n := range nvf {
			if ckpt[n] {
				for e := committed[n]; e <= epoch[n]; e++ {
					commitAt[[2]uint64{uint64(n), e}] = env.Engine.Now()
				}
				a.Commit(n, epoch[n])
			}
		}
		env.Engine.Run()
		require.Zero(rt, stat(rt, env, "output_commit_violations"))
		last := map[int]uint64{}
		require.LessOrEqual(rt, stat(rt, env, "peak_buffer_bytes"), float64(cfg.BufferBytes), "occupancy within capacity")
		for _, d := range *got {
			if ckpt[d.p.VF] {
				e := sentIn[d.p.ID]
				require.Equal(rt, e, d.p.Epoch, "tagged with the epoch it was sent in")
				at, ok := commitAt[[2]uint64{uint64(d.p.VF), e}]
				require.True(rt, ok, "delivered before any commit of its epoch")
				// The frame's first bit left the port after the commit.
				left := d.at - cfg.WireLatency - sim.BytesTime(d.p.WireBytes(), cfg.WireBytesPerSec)
				require.GreaterOrEqual(rt, left, at, "packet %d left at %v, its epoch %d committed at %v", d.p.ID, left, e, at)
			}
			require.Greater(rt, d.p.ID, last[d.p.VF], "per-VF order")
			last[d.p.VF] = d.p.ID
			delete(accepted, d.p.ID)
		}
		if cfg.Overflow != Drop {
			require.Empty(rt, accepted, "every accepted packet left")
		} else {
			require.Equal(rt, float64(len(accepted)), stat(rt, env, "dropped_packets"))
		}
	})
}

func mustVF(t tb, a *Adapter, mac uint64, checkpointing bool) int {
	n, err := a.AddVF(mac, checkpointing)
	require.NoError(t, err)
	return n
}

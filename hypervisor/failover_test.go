package hypervisor

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/twinsim/twinsim/sim"
)

// monitorPair is two monitors exchanging heartbeats over a link transport
// (a: the primary's side), and when each suspected the other.
func monitorPair(t *testing.T, cfg HeartbeatConfig) (*sim.Env, *LinkTransport, Transport, [2]*Monitor, *[2]sim.Time) {
	env := sim.NewEnv(1)
	lt, err := NewLinkTransport(env.Scope("replication"), 10*sim.Microsecond, 1_250_000_000)
	require.NoError(t, err)
	ctl := lt.Control()
	a, err := NewMonitor(env.Scope("host0"), cfg, ctl.ToSecondary)
	require.NoError(t, err)
	b, err := NewMonitor(env.Scope("host1"), cfg, ctl.ToPrimary)
	require.NoError(t, err)
	Pair(a, b)
	at := [2]sim.Time{sim.MaxTime, sim.MaxTime}
	a.OnSuspect = func(t sim.Time) { at[0] = t }
	b.OnSuspect = func(t sim.Time) { at[1] = t }
	a.Start()
	b.Start()
	return env, lt, ctl, [2]*Monitor{a, b}, &at
}

// TestMonitorDetection: while heartbeats flow nobody is suspected; after
// the primary stops, the secondary suspects it Misses intervals after the
// last heartbeat it heard — by hand: heartbeats leave at 0, 1, 2 and 3 ms
// and arrive 10 us (and 51 ns on the wire) later; the primary dies at
// 3.5 ms; 3 ms of silence after 3.010051 ms is 6.010051 ms.
func TestMonitorDetection(t *testing.T) {
	cfg := HeartbeatConfig{Interval: sim.Millisecond, Misses: 3, Bytes: 64}
	env, _, _, m, at := monitorPair(t, cfg)
	env.Engine.RunUntil(3500 * sim.Microsecond)
	require.False(t, m[0].Suspected() || m[1].Suspected())
	m[0].Stop()
	env.Engine.RunUntil(20 * sim.Millisecond)
	require.Equal(t, 6*sim.Millisecond+10*sim.Microsecond+51*sim.Nanosecond+200, at[1])
	require.False(t, m[0].Suspected(), "a stopped monitor suspects nobody")
	require.Error(t, HeartbeatConfig{Interval: 0, Misses: 1, Bytes: 1}.Validate())
	require.Error(t, HeartbeatConfig{Interval: 1, Misses: 0, Bytes: 1}.Validate())
}

// TestLinkCut: a cut link loses what is on it and what is sent while it is
// down, so each side suspects the other; a restored link carries again.
func TestLinkCut(t *testing.T) {
	cfg := HeartbeatConfig{Interval: sim.Millisecond, Misses: 2, Bytes: 64}
	env, lt, ctl, m, at := monitorPair(t, cfg)
	env.Engine.RunUntil(2*sim.Millisecond + 5*sim.Microsecond) // the heartbeats sent at 2 ms are on the link
	lt.Cut()
	env.Engine.RunUntil(10 * sim.Millisecond)
	last := sim.Millisecond + 10*sim.Microsecond + 51*sim.Nanosecond + 200 // the heartbeats of 1 ms arrive
	require.Equal(t, [2]sim.Time{last + 2*sim.Millisecond, last + 2*sim.Millisecond}, *at)
	require.True(t, m[0].Suspected() && m[1].Suspected())
	lost, _ := env.Stats.Lookup("replication.control_to_secondary", "lost_messages")
	require.Equal(t, 9.0, lost, "the heartbeat cut at 2 ms and those of 3..10 ms: a monitor that suspects goes on sending")

	got := 0
	lt.Restore()
	lt.ToSecondary(env.Engine.Now(), 100, func() { got++ })
	// A heartbeat does not wait behind a bulk transfer on the data lane.
	lt.ToSecondary(env.Engine.Now(), 1<<30, func() {})
	beat := sim.MaxTime
	ctl.ToSecondary(env.Engine.Now(), 64, func() { beat = env.Engine.Now() })
	sent := env.Engine.Now()
	env.Engine.RunUntil(11 * sim.Millisecond)
	require.Equal(t, 1, got)
	require.Equal(t, sent+10*sim.Microsecond+51*sim.Nanosecond+200, beat)
}

// TestSenderFailed: a crashed sender's message whose last byte had not
// left is lost; one wholly on the wire arrives.
func TestSenderFailed(t *testing.T) {
	env := sim.NewEnv(1)
	lt, err := NewLinkTransport(env.Scope("replication"), 10*sim.Microsecond, 1_000_000_000) // 1 byte a ns
	require.NoError(t, err)
	var got []int
	lt.ToSecondary(0, 1000, func() { got = append(got, 1) })    // leaves by 1 us
	lt.ToSecondary(0, 100_000, func() { got = append(got, 2) }) // leaves by 101 us
	env.Engine.RunUntil(50 * sim.Microsecond)
	lt.SenderFailed(true)
	env.Engine.Run()
	require.Equal(t, []int{1}, got)
}

// TestWitness: the first claim wins for good; the winner's claims are
// granted again, the other's never.
func TestWitness(t *testing.T) {
	env := sim.NewEnv(1)
	w := NewWitness(env.Scope("witness"))
	require.True(t, w.Claim("g", 1))
	require.False(t, w.Claim("g", 0))
	require.True(t, w.Claim("g", 1))
	require.True(t, w.Claim("other", 0))
	v, _ := env.Stats.Lookup("witness", "claims_refused")
	require.Equal(t, 1.0, v)
}

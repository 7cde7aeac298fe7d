package nic

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/twinsim/twinsim/sim"
)

// TestAdapterFail: a crashed host's adapter loses what it holds for
// commit and what is on its way out, completes nothing it started, and
// neither sends nor receives afterwards.
func TestAdapterFail(t *testing.T) {
	env, a, got := newAdapter(t, testConfig())
	vf := mustVF(t, a, 0xa, true)
	free := mustVF(t, a, 0xb, false)
	for i := range 3 {
		require.True(t, a.Send(vf, Packet{ID: uint64(i), Bytes: 100})) // held: epoch 0 never commits
	}
	require.True(t, a.Send(free, Packet{ID: 9, Bytes: 1500})) // on the wire
	env.Engine.RunUntil(100 * sim.Nanosecond)
	a.Fail()
	require.True(t, a.Failed())
	a.Commit(vf, 0)
	require.True(t, a.Send(free, Packet{ID: 10, Bytes: 100}))
	a.Receive(Packet{Dst: 0xb, Bytes: 100})
	env.Engine.Run()
	require.Empty(t, *got)
	require.Equal(t, 4.0, stat(t, env, "lost_in_failure"))
	require.Zero(t, stat(t, env, "rx_packets"))
}

// TestAdapterUnprotect: a VF whose VM runs on without a backup releases
// what it held at once, and sends from then on without holding.
func TestAdapterUnprotect(t *testing.T) {
	env, a, got := newAdapter(t, testConfig())
	vf := mustVF(t, a, 0xa, true)
	require.True(t, a.Send(vf, Packet{ID: 1, Bytes: 100}))
	require.NoError(t, a.StartEpoch(vf, 3))
	require.True(t, a.Send(vf, Packet{ID: 2, Bytes: 100}))
	env.Engine.RunUntil(sim.Millisecond)
	require.Empty(t, *got)
	a.Unprotect(vf)
	require.True(t, a.Send(vf, Packet{ID: 3, Bytes: 100}))
	env.Engine.Run()
	require.Len(t, *got, 3)
	for i, d := range *got {
		require.Equal(t, uint64(i+1), d.p.ID, "in order")
	}
	require.Zero(t, stat(t, env, "output_commit_violations"))
}

// switchWithHosts is a switch with two host ports (0 and 1) and a client
// uplink, and what each port delivered.
func switchWithHosts(t *testing.T, vm uint64) (*sim.Env, *Switch, func(Packet), *[2][]Packet, *[]Packet) {
	env := sim.NewEnv(1)
	sw := NewSwitch(env.Scope("switch"), sim.Microsecond)
	var got [2][]Packet
	var client []Packet
	for h := range 2 {
		macs := []uint64{0x100 + uint64(h)}
		if h == 0 {
			macs = append(macs, vm)
		}
		_, err := sw.AddPort(gbps10, sim.Microsecond, func(p Packet, _ sim.Time) { got[h] = append(got[h], p) }, macs...)
		require.NoError(t, err)
	}
	_, err := sw.AddPort(gbps10, sim.Microsecond, func(p Packet, _ sim.Time) { client = append(client, p) }, 0xc)
	require.NoError(t, err)
	up, err := sw.Uplink(env.Scope("client.up"), gbps10, sim.Microsecond)
	require.NoError(t, err)
	return env, sw, up, &got, &client
}

// TestSwitchGuardAndMove: a guarded MAC's frames pass only from the port
// the table has it on; moving it sends its traffic to the new port and
// fences the old one.
func TestSwitchGuardAndMove(t *testing.T) {
	const vm = 0xa
	env, sw, up, got, client := switchWithHosts(t, vm)
	sw.Guard(vm)
	sw.ReceiveOn(0, Packet{ID: 1, Src: vm, Dst: 0xc, Bytes: 100})
	sw.ReceiveOn(1, Packet{ID: 2, Src: vm, Dst: 0xc, Bytes: 100}) // the other copy: fenced
	up(Packet{ID: 3, Src: 0xc, Dst: vm, Bytes: 100})
	env.Engine.Run()
	require.NoError(t, sw.Move(vm, 1))
	p, _ := sw.PortOf(vm)
	require.Equal(t, 1, p)
	sw.ReceiveOn(0, Packet{ID: 4, Src: vm, Dst: 0xc, Bytes: 100}) // fenced now
	sw.ReceiveOn(1, Packet{ID: 5, Src: vm, Dst: 0xc, Bytes: 100})
	up(Packet{ID: 6, Src: 0xc, Dst: vm, Bytes: 100})
	env.Engine.Run()
	ids := func(ps []Packet) (out []uint64) {
		for _, p := range ps {
			out = append(out, p.ID)
		}
		return out
	}
	require.Equal(t, []uint64{1, 5}, ids(*client))
	require.Equal(t, []uint64{3}, ids(got[0]))
	require.Equal(t, []uint64{6}, ids(got[1]))
	v, _ := env.Stats.Lookup("switch", "fenced")
	require.Equal(t, 2.0, v)
	require.Error(t, sw.Move(vm, 7))
}

// TestSwitchLearnsAndLinkDown: an unguarded MAC heard on another host's
// port moves there; a port without its link drops what comes in on it,
// what is forwarded to it and what is on its wire.
func TestSwitchLearnsAndLinkDown(t *testing.T) {
	const vm = 0xa
	env, sw, up, got, client := switchWithHosts(t, vm)
	sw.ReceiveOn(1, Packet{ID: 1, Src: vm, Dst: 0xc, Bytes: 100}) // the VM now speaks from port 1
	up(Packet{ID: 2, Src: 0xc, Dst: vm, Bytes: 100})
	env.Engine.Run()
	require.Len(t, *client, 1)
	require.Len(t, got[1], 1)
	require.Empty(t, got[0])
	up(Packet{ID: 3, Src: 0xc, Dst: vm, Bytes: 100})
	env.Engine.RunUntil(env.Engine.Now() + 2500*sim.Nanosecond) // forwarded, on port 1's wire
	sw.SetUp(1, false)
	require.False(t, sw.PortUp(1))
	sw.ReceiveOn(1, Packet{ID: 4, Src: vm, Dst: 0xc, Bytes: 100})
	up(Packet{ID: 5, Src: 0xc, Dst: vm, Bytes: 100})
	env.Engine.Run()
	require.Len(t, got[1], 1)
	require.Len(t, *client, 1)
	v, _ := env.Stats.Lookup("switch", "link_down_drops")
	require.Equal(t, 3.0, v)
	sw.SetUp(1, true)
	up(Packet{ID: 6, Src: 0xc, Dst: vm, Bytes: 100})
	env.Engine.Run()
	require.Len(t, got[1], 2)
}

// TestAdapterReset: a reset loses what the adapter holds and has in
// flight, forgets the rings (nothing started before completes, even after
// the restart), keeps the epochs, and after Restart the VF works again
// once its driver posts its rings anew.
func TestAdapterReset(t *testing.T) {
	env, a, got := newAdapter(t, testConfig())
	vf := mustVF(t, a, 0xa, true)
	free := mustVF(t, a, 0xb, false)
	require.True(t, a.Send(vf, Packet{ID: 1, Bytes: 100}))    // held
	require.True(t, a.Send(free, Packet{ID: 2, Bytes: 1500})) // on the wire
	env.Engine.RunUntil(100 * sim.Nanosecond)
	a.Reset()
	require.True(t, a.Resetting())
	require.True(t, a.Send(free, Packet{ID: 3, Bytes: 100})) // lost: resetting
	a.Commit(vf, 0)
	env.Engine.RunUntil(sim.Millisecond)
	require.Empty(t, *got)
	require.Equal(t, 2.0, stat(t, env, "lost_in_reset"))
	a.Restart()
	require.NoError(t, a.StartEpoch(vf, 1))
	require.True(t, a.Send(vf, Packet{ID: 4, Bytes: 100})) // held for epoch 1
	require.True(t, a.Send(free, Packet{ID: 5, Bytes: 100}))
	env.Engine.RunUntil(2 * sim.Millisecond)
	require.Len(t, *got, 1)
	require.Equal(t, uint64(5), (*got)[0].p.ID)
	a.Commit(vf, 1)
	env.Engine.Run()
	require.Len(t, *got, 2)
	require.Equal(t, uint64(4), (*got)[1].p.ID)
}

// TestAdapterResetVF: a VF's held packets are dropped, free their buffer
// memory and are never sent, even when their epoch commits; what it had
// fetched is forgotten; its rings start again empty.
func TestAdapterResetVF(t *testing.T) {
	env, a, got := newAdapter(t, testConfig())
	vf := mustVF(t, a, 0xa, true)
	for i := range 3 {
		require.True(t, a.Send(vf, Packet{ID: uint64(i), Bytes: 100}))
	}
	b, n := a.Buffered()
	require.Positive(t, b)
	require.Equal(t, 3, n)
	require.Equal(t, 3, a.ResetVF(vf))
	b, n = a.Buffered()
	require.Zero(t, b)
	require.Zero(t, n)
	a.Commit(vf, 0)
	env.Engine.Run()
	require.Empty(t, *got)
	require.Equal(t, 3.0, stat(t, env, "discarded_packets"))
	require.False(t, a.Reset() && a.Reset(), "a second reset while resetting does nothing")
}

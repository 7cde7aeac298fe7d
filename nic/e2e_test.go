package nic

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/twinsim/twinsim/sim"
)

// requestPath is a client, a switch and a VM answering through a VF of an
// adapter: the network path of the HA scenario.
type requestPath struct {
	env *sim.Env
	a   *Adapter
	c   *Client
	vf  int
}

const pathVM, pathClient = 0x10, 0x20

// newRequestPath builds the path; the VM answers each request after
// service with a 400-byte response, and the client sends requests
// requests at rate a second (open loop).
func newRequestPath(t tb, seed uint64, checkpointing bool, service sim.Time, rate float64, requests uint64) *requestPath {
	env := sim.NewEnv(seed)
	eng := env.Engine
	sw := NewSwitch(env.Scope("switch"), 2*sim.Microsecond)
	a, err := New(env.Scope("host0.nic"), testConfig())
	require.NoError(t, err)
	vf := mustVF(t, a, pathVM, checkpointing)
	a.Deliver = func(p Packet, _ sim.Time) { sw.Receive(p) }
	respond := eng.Register(sim.HandlerFunc(func(ev sim.Event) { a.Send(vf, Packet{Dst: pathClient, Bytes: 400, Tag: ev.Arg}) }))
	_, err = sw.AddPort(gbps10, sim.Microsecond, func(p Packet, at sim.Time) {
		eng.Schedule(sim.Event{Time: at + service, Handler: respond, Arg: p.Tag})
	}, pathVM)
	require.NoError(t, err)
	up, err := sw.Uplink(env.Scope("client.uplink"), gbps10, sim.Microsecond)
	require.NoError(t, err)
	c, err := NewClient(env.Scope("client"), ClientConfig{MAC: pathClient, Server: pathVM, RequestBytes: 100,
		OpenLoop: true, Rate: rate, Requests: requests}, up)
	require.NoError(t, err)
	_, err = sw.AddPort(gbps10, sim.Microsecond, c.Receive, pathClient)
	require.NoError(t, err)
	return &requestPath{env: env, a: a, c: c, vf: vf}
}

// epochs plays the checkpoint controller's part: epoch e ends every
// interval and its checkpoint commits ack later, while the client is not
// done.
func (r *requestPath) epochs(interval, ack sim.Time) {
	eng := r.env.Engine
	var epoch uint64
	var tick sim.HandlerID
	commit := eng.Register(sim.HandlerFunc(func(ev sim.Event) { r.a.Commit(r.vf, ev.Arg) }))
	tick = eng.Register(sim.HandlerFunc(func(ev sim.Event) {
		eng.Schedule(sim.Event{Time: ev.Time + ack, Handler: commit, Arg: epoch})
		epoch++
		if err := r.a.StartEpoch(r.vf, epoch); err != nil {
			panic(err)
		}
		if r.c.cfg.Requests == 0 || r.c.done.Value() < r.c.cfg.Requests {
			eng.Schedule(sim.Event{Time: ev.Time + interval, Handler: tick})
		}
	}))
	eng.Schedule(sim.Event{Time: interval, Handler: tick})
}

// TestRequestResponseThroughTheBuffer: an open-loop client sends requests
// through a switch to a VM that answers each after a service time through
// its VF. Without checkpointing the latency is the wires' and the service
// time; with epochs of interval I whose checkpoints commit A after they
// end, each response waits for its epoch's commit: on average I/2 + A
// more, at low load.
func TestRequestResponseThroughTheBuffer(t *testing.T) {
	const (
		service  = 20 * sim.Microsecond
		interval = sim.Millisecond
		ack      = 200 * sim.Microsecond
	)
	run := func(checkpointing bool) (meanPS float64, violations float64) {
		r := newRequestPath(t, 7, checkpointing, service, 2000, 4000)
		if checkpointing {
			r.epochs(interval, ack)
		}
		r.c.Start()
		r.env.Engine.RunUntil(3 * sim.Second)
		done, _ := r.env.Stats.Lookup("client", "responses")
		require.Equal(t, 4000.0, done)
		mean, _ := r.env.Stats.Lookup("client", "latency.mean")
		v, _ := r.env.Stats.Lookup("host0.nic", "output_commit_violations")
		return mean, v
	}
	base, _ := run(false)
	// Wires and switch both ways plus the service time: about 29 us.
	require.InDelta(t, float64(29*sim.Microsecond), base, float64(2*sim.Microsecond))
	held, violations := run(true)
	require.Zero(t, violations)
	added := held - base
	want := float64(interval/2 + ack)
	require.InDelta(t, want, added, 0.1*want, "interval/2 + acknowledgement")
}

func TestSwitchAndClosedLoopClient(t *testing.T) {
	env := sim.NewEnv(1)
	eng := env.Engine
	sw := NewSwitch(env.Scope("switch"), sim.Microsecond)
	const server, client = 0x1, 0x2
	// An echo server that answers at once.
	var echo func(Packet)
	_, err := sw.AddPort(gbps10, 0, func(p Packet, _ sim.Time) { echo(p) }, server)
	require.NoError(t, err)
	_, err = sw.AddPort(gbps10, 0, nil, server)
	require.ErrorContains(t, err, "already on port 0")
	back, err := sw.Uplink(env.Scope("server.uplink"), gbps10, 0)
	require.NoError(t, err)
	echo = func(p Packet) { p.Dst = client; back(p) }
	up, err := sw.Uplink(env.Scope("client.uplink"), gbps10, 0)
	require.NoError(t, err)
	c, err := NewClient(env.Scope("client"), ClientConfig{MAC: client, Server: server, RequestBytes: 64,
		Outstanding: 3, Requests: 30}, up)
	require.NoError(t, err)
	_, err = sw.AddPort(gbps10, 0, c.Receive, client)
	require.NoError(t, err)
	c.Start()
	require.Len(t, c.pending, 3, "three requests in flight")
	eng.Run()
	done, _ := env.Stats.Lookup("client", "responses")
	require.Equal(t, 30.0, done)
	require.Empty(t, c.pending)
	// A frame for nobody is counted and dropped.
	sw.Receive(Packet{Dst: 0x99, Bytes: 64})
	lost, _ := env.Stats.Lookup("switch", "unknown_destination")
	require.Equal(t, 1.0, lost)
	_, err = NewClient(env.Scope("bad"), ClientConfig{RequestBytes: 64, OpenLoop: true}, up)
	require.ErrorContains(t, err, "positive rate")
}

// TestWarmup: a client and a sink count only what arrives from the
// warm-up on, and their rates divide it by the time after the warm-up.
func TestWarmup(t *testing.T) {
	env := sim.NewEnv(1)
	eng := env.Engine
	const warmup = 10 * sim.Microsecond
	var c *Client
	// A server that answers each request 1 us after it is sent.
	answer := eng.Register(sim.HandlerFunc(func(ev sim.Event) {
		c.Receive(Packet{Tag: ev.Arg, Bytes: 100}, eng.Now())
	}))
	c, err := NewClient(env.Scope("client"), ClientConfig{MAC: 1, Server: 2, RequestBytes: 64, Outstanding: 1, Requests: 30,
		Warmup: warmup}, func(p Packet) {
		eng.Schedule(sim.Event{Time: eng.Now() + sim.Microsecond, Handler: answer, Arg: p.Tag})
	})
	require.NoError(t, err)
	sink := NewSink(env.Scope("sink"), warmup)
	stat := func(path, name string) float64 {
		v, ok := env.Stats.Lookup(path, name)
		require.True(t, ok, name)
		return v
	}
	require.Zero(t, stat("client", "throughput"), "nothing before the warm-up ends")
	c.Start()
	frame := eng.Register(sim.HandlerFunc(func(sim.Event) { sink.Receive(Packet{Bytes: 1000}, eng.Now()) }))
	for i := range 30 { // one frame a microsecond, from 0.5 us
		eng.Schedule(sim.Event{Time: sim.Time(i)*sim.Microsecond + 500*sim.Nanosecond, Handler: frame})
	}
	eng.Run()
	// Responses arrive at 1, 2, ..., 30 us: those at 10 us and later count.
	require.Equal(t, 30*sim.Microsecond, eng.Now())
	require.Equal(t, 30.0, stat("client", "requests"))
	require.Equal(t, 21.0, stat("client", "responses"))
	require.Equal(t, 21.0, stat("client", "latency.count"))
	require.InEpsilon(t, 21/(20e-6), stat("client", "throughput"), 1e-9)
	require.InEpsilon(t, 20/(20e-6), stat("client", "request_rate"), 1e-9, "sent at 10..29 us")
	require.Equal(t, 20.0, stat("sink", "frames"), "frames at 10.5 .. 29.5 us")
	require.InEpsilon(t, 20*1000/(20e-6), stat("sink", "goodput"), 1e-9)
}

// BenchmarkRequestResponse is the cost of one request and its response
// through a switch and a checkpointing VF whose epochs commit every
// millisecond (four events and two wire reservations each way, plus the
// epochs'), the path the HA scenario's clients drive at 20,000 requests a
// simulated second.
func BenchmarkRequestResponse(b *testing.B) {
	r := newRequestPath(b, 1, true, 20*sim.Microsecond, 20000, uint64(b.N))
	r.epochs(sim.Millisecond, 100*sim.Microsecond)
	b.ReportAllocs()
	b.ResetTimer()
	r.c.Start()
	r.env.Engine.Run()
	require.Equal(b, uint64(b.N), r.c.done.Value())
}

// TestRetransmission: a closed-loop client against a server that loses
// requests. Tag 2's first two copies are lost: it goes again after 10 us
// and 20 us more (backoff), answered 1 us after its third send. Tag 4 is
// answered twice (a duplicate). Tag 6 is never answered: after its last
// resend's timeout (10+20+40+80 us) it is lost and a new request takes its
// place, so the client still sends 10 requests in all.
func TestRetransmission(t *testing.T) {
	env := sim.NewEnv(1)
	eng := env.Engine
	var c *Client
	answer := eng.Register(sim.HandlerFunc(func(ev sim.Event) { c.Receive(Packet{Tag: ev.Arg, Bytes: 100}, eng.Now()) }))
	copies := map[uint64]int{}
	var sentAt []sim.Time
	c, err := NewClient(env.Scope("client"), ClientConfig{MAC: 1, Server: 2, RequestBytes: 64, Outstanding: 1, Requests: 10,
		Timeout: 10 * sim.Microsecond, Retries: 3}, func(p Packet) {
		copies[p.Tag]++
		if p.Tag == 2 {
			sentAt = append(sentAt, eng.Now())
		}
		switch {
		case p.Tag == 2 && copies[2] < 3, p.Tag == 6:
			return // lost
		case p.Tag == 4:
			eng.Schedule(sim.Event{Time: eng.Now() + 2*sim.Microsecond, Handler: answer, Arg: p.Tag})
		}
		eng.Schedule(sim.Event{Time: eng.Now() + sim.Microsecond, Handler: answer, Arg: p.Tag})
	})
	require.NoError(t, err)
	c.Start()
	eng.Run()
	stat := func(name string) float64 {
		v, ok := env.Stats.Lookup("client", name)
		require.True(t, ok, name)
		return v
	}
	require.Equal(t, []sim.Time{1 * sim.Microsecond, 11 * sim.Microsecond, 31 * sim.Microsecond}, sentAt, "backoff: 10 us, then 20 us")
	require.Equal(t, 10.0, stat("requests"))
	require.Equal(t, 9.0, stat("responses"))
	require.Equal(t, 2.0+3, stat("retransmissions"), "tag 2 twice, tag 6 three times")
	require.Equal(t, 1.0, stat("lost"))
	require.Equal(t, 1.0, stat("duplicates"))
	require.Equal(t, 4, copies[6], "the first send and three resends")
	require.Zero(t, stat("unanswered"))
	// Tag 2's latency runs from its first send: 31 us + 1 us - 1 us.
	require.Equal(t, float64(31*sim.Microsecond), stat("latency.max"))
}

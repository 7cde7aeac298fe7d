package hypervisor

import (
	"fmt"

	"github.com/twinsim/twinsim/sim"
)

// HeartbeatConfig is how two hosts of a protected pair watch each other.
type HeartbeatConfig struct {
	Interval sim.Time // time between heartbeats, and between checks
	Misses   int      // heartbeat intervals without one before the peer is suspected
	Bytes    uint64   // a heartbeat message
}

// Validate names the first value out of range.
func (c HeartbeatConfig) Validate() error {
	switch {
	case c.Interval <= 0:
		return fmt.Errorf("heartbeat interval %v must be positive", c.Interval)
	case c.Misses < 1:
		return fmt.Errorf("%d missed heartbeats: must be at least 1", c.Misses)
	case c.Bytes == 0:
		return fmt.Errorf("a heartbeat must have at least 1 byte")
	}
	return nil
}

// Monitor is one host's failure detector for its peer: every interval it
// sends a heartbeat (through send, over the replication path), and each
// heartbeat it hears re-arms a timer of Misses intervals; when the timer
// runs out it suspects the peer has failed and calls OnSuspect, once.
// Silence means a crashed peer as much as a cut path: the detector cannot
// tell them apart, which is why a suspicion is settled by a Witness
// before anyone acts on it.
type Monitor struct {
	cfg       HeartbeatConfig
	eng       *sim.Engine
	id        sim.HandlerID
	send      func(at sim.Time, bytes uint64, arrived func())
	peer      *Monitor
	timer     uint64 // generation of the live timeout
	stopped   bool
	suspected bool

	// OnSuspect is told when the peer is suspected.
	OnSuspect func(at sim.Time)

	sent, received *sim.Counter
	suspectAt      sim.Time
}

// event kinds of a monitor
const (
	evBeat    uint32 = iota // send a heartbeat
	evTimeout               // the timer of Misses intervals; Arg: its generation
)

// NewMonitor returns a stopped monitor with statistics under scope; send
// carries its heartbeats to the peer.
func NewMonitor(scope sim.Scope, cfg HeartbeatConfig, send func(at sim.Time, bytes uint64, arrived func())) (*Monitor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", scope.Name(), err)
	}
	m := &Monitor{cfg: cfg, eng: scope.Engine(), send: send, stopped: true, suspectAt: sim.MaxTime}
	m.id = m.eng.Register(m)
	m.sent = scope.Counter("heartbeats_sent", "heartbeats sent to the peer host")
	m.received = scope.Counter("heartbeats_received", "heartbeats received from the peer host")
	scope.Value("suspected_ps", "when the peer host was suspected of failure (-1: never)", func() float64 {
		if !m.suspected {
			return -1
		}
		return float64(m.suspectAt)
	})
	return m, nil
}

// Pair makes a and b each other's peers.
func Pair(a, b *Monitor) { a.peer, b.peer = b, a }

// Start sends the first heartbeat now and arms the timer.
func (m *Monitor) Start() {
	m.stopped = false
	m.arm()
	m.eng.Schedule(sim.Event{Time: m.eng.Now(), Handler: m.id, Kind: evBeat})
}

// arm (re)starts the timer: Misses intervals from now.
func (m *Monitor) arm() {
	m.timer++
	m.eng.Schedule(sim.Event{Time: m.eng.Now() + sim.Time(m.cfg.Misses)*m.cfg.Interval, Handler: m.id, Kind: evTimeout, Arg: m.timer})
}

// Stop ends the monitor: its host has failed or no longer has a peer.
func (m *Monitor) Stop() { m.stopped = true }

// Stopped reports whether the monitor has stopped (or never started).
func (m *Monitor) Stopped() bool { return m.stopped }

// Suspected reports whether the peer has been suspected.
func (m *Monitor) Suspected() bool { return m.suspected }

// Handle implements sim.Handler: a heartbeat is due, or the timer has
// run out.
func (m *Monitor) Handle(ev sim.Event) {
	if m.stopped {
		return
	}
	if ev.Kind == evTimeout {
		if ev.Arg == m.timer && !m.suspected {
			m.suspected, m.suspectAt = true, ev.Time
			if m.OnSuspect != nil {
				m.OnSuspect(ev.Time)
			}
		}
		return
	}
	m.sent.Inc()
	if p := m.peer; p != nil {
		m.send(ev.Time, m.cfg.Bytes, p.hear)
	}
	m.eng.Schedule(sim.Event{Time: ev.Time + m.cfg.Interval, Handler: m.id, Kind: evBeat})
}

// hear takes a heartbeat from the peer.
func (m *Monitor) hear() {
	if m.stopped || m.suspected {
		return
	}
	m.received.Inc()
	m.arm()
}

// Witness settles which copy of a protected group of VMs is the one that
// runs when the two hosts of a pair suspect each other: the first host to
// claim the group gets it, for good, and every claim by the other is
// refused. A host that is refused — or whose claim cannot reach the
// witness — must stop its copy (fence itself), so that at most one copy
// ever sends. In twinsim the witness is the switch's management plane:
// a claim travels over the claimer's own port.
type Witness struct {
	owner   map[string]int // group → host that won it
	granted *sim.Counter
	refused *sim.Counter
}

// NewWitness returns a witness with statistics under scope.
func NewWitness(scope sim.Scope) *Witness {
	return &Witness{owner: map[string]int{},
		granted: scope.Counter("claims_granted", "claims of a protected group the witness granted"),
		refused: scope.Counter("claims_refused", "claims refused because the other host had won the group")}
}

// Claim is host's claim of group, arriving at the witness now; it
// reports whether host holds the group.
func (w *Witness) Claim(group string, host int) bool {
	if h, ok := w.owner[group]; ok && h != host {
		w.refused.Inc()
		return false
	}
	w.owner[group] = host
	w.granted.Inc()
	return true
}

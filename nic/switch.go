package nic

import (
	"fmt"

	"github.com/twinsim/twinsim/sim"
)

// Switch is an output-queued Ethernet switch: a frame it receives is
// forwarded, after the switch's latency, onto the wire of the port its
// destination MAC is configured on (a static table: frames for an unknown
// MAC are counted and dropped), where frames for that port queue one
// behind another. Hosts and clients attach to ports with a function that
// receives the frames delivered to them.
//
// For failover the table can move a MAC to another port (Move: the
// announcement of a VM activated on another host), a port can lose its
// link (SetUp: frames to and from it are dropped), and a guarded MAC's
// frames are forwarded only when they come in on the port the table has
// it on (Guard: source-MAC port security, which fences a copy of a VM
// that has lost its claim). An unguarded MAC in the table that sends from
// another host's port moves there (learning), as in any Ethernet switch:
// two copies of a VM sending make it flap between their ports.
type Switch struct {
	engine  *sim.Engine
	id      sim.HandlerID
	scope   sim.Scope
	latency sim.Time
	ports   []*swPort
	table   map[uint64]int // MAC → port
	guarded map[uint64]bool

	// OnForward, if set, sees each frame the switch forwards and the
	// port it came in on (-1: a client's uplink), for checks made
	// outside the switch.
	OnForward func(p Packet, ingress int)

	forwarded, unknown, fenced, down, moves *sim.Counter
}

type swPort struct {
	wire    *sim.Link
	deliver func(Packet, sim.Time)
	onWire  queue // frames being delivered, in order
	down    bool
}

// NewSwitch returns a switch with no ports whose forwarding takes latency.
func NewSwitch(scope sim.Scope, latency sim.Time) *Switch {
	s := &Switch{engine: scope.Engine(), scope: scope, latency: latency, table: map[uint64]int{}}
	s.id = s.engine.Register(s)
	s.forwarded = scope.Counter("forwarded", "frames forwarded")
	s.unknown = scope.Counter("unknown_destination", "frames dropped for a destination no port has")
	s.fenced = scope.Counter("fenced", "frames of a guarded MAC dropped because they came in on a port the MAC is not on")
	s.down = scope.Counter("link_down_drops", "frames dropped because the port they came in on or were forwarded to had lost its link")
	s.moves = scope.Counter("moves", "MACs moved to another port (announcements, or learnt from a frame)")
	return s
}

// AddPort adds a port whose wire to the attached device has the given
// bandwidth and latency, delivering frames to deliver, with macs behind
// it in the forwarding table. It returns the port's number.
func (s *Switch) AddPort(bytesPerSec uint64, latency sim.Time, deliver func(Packet, sim.Time), macs ...uint64) (int, error) {
	n := len(s.ports)
	wire, err := sim.NewLink(s.scope.Child(fmt.Sprintf("port%d", n)), latency, bytesPerSec)
	if err != nil {
		return 0, err
	}
	s.ports = append(s.ports, &swPort{wire: wire, deliver: deliver})
	for _, m := range macs {
		if p, ok := s.table[m]; ok {
			return 0, fmt.Errorf("switch: MAC %#x is already on port %d", m, p)
		}
		s.table[m] = n
	}
	return n, nil
}

// Receive takes a frame arriving now from a client's uplink and forwards
// it.
func (s *Switch) Receive(p Packet) { s.ReceiveOn(-1, p) }

// ReceiveOn takes a frame arriving now on port in (-1: an uplink) and
// forwards it.
func (s *Switch) ReceiveOn(in int, p Packet) {
	if in >= 0 && s.ports[in].down {
		s.down.Inc()
		return
	}
	if s.guarded[p.Src] {
		if s.table[p.Src] != in {
			s.fenced.Inc()
			return
		}
	} else if n, ok := s.table[p.Src]; ok && in >= 0 && n != in {
		// Learning: a known MAC heard on another port has moved there.
		s.table[p.Src] = in
		s.moves.Inc()
	}
	n, ok := s.table[p.Dst]
	if !ok {
		s.unknown.Inc()
		return
	}
	port := s.ports[n]
	if port.down {
		s.down.Inc()
		return
	}
	s.forwarded.Inc()
	if s.OnForward != nil {
		s.OnForward(p, in)
	}
	arrival := port.wire.Send(s.engine.Now()+s.latency, p.WireBytes())
	port.onWire.push(p)
	s.engine.Schedule(sim.Event{Time: arrival, Handler: s.id, Arg: uint64(n)})
}

// Handle implements sim.Handler: a frame reaches the device on a port.
func (s *Switch) Handle(ev sim.Event) {
	port := s.ports[ev.Arg]
	p := port.onWire.pop()
	if port.down {
		s.down.Inc() // cut on the wire
		return
	}
	if port.deliver != nil {
		port.deliver(p, ev.Time)
	}
}

// Guard makes mac a guarded MAC: its frames are forwarded only when they
// come in on the port the table has it on.
func (s *Switch) Guard(mac uint64) {
	if s.guarded == nil {
		s.guarded = map[uint64]bool{}
	}
	s.guarded[mac] = true
}

// Move puts mac on port from now on: frames for it go there, and, if it
// is guarded, only frames from there are its.
func (s *Switch) Move(mac uint64, port int) error {
	if port < 0 || port >= len(s.ports) {
		return fmt.Errorf("switch: no port %d", port)
	}
	if s.table[mac] != port {
		s.moves.Inc()
	}
	s.table[mac] = port
	return nil
}

// PortOf returns the port mac is on, and false if it is on none.
func (s *Switch) PortOf(mac uint64) (int, bool) {
	n, ok := s.table[mac]
	return n, ok
}

// PortUp reports whether port has its link.
func (s *Switch) PortUp(port int) bool { return !s.ports[port].down }

// SetUp gives port its link (up) or takes it away: while it is down,
// frames coming in on it, forwarded to it or on its wire are dropped.
func (s *Switch) SetUp(port int, up bool) { s.ports[port].down = !up }

// uplink is the wire from a device (a client) into the switch.
type uplink struct {
	s      *Switch
	id     sim.HandlerID
	wire   *sim.Link
	onWire queue
}

// Uplink returns a function that sends a frame from a device into the
// switch over the device's own wire of the given bandwidth and latency,
// with statistics under scope.
func (s *Switch) Uplink(scope sim.Scope, bytesPerSec uint64, latency sim.Time) (func(Packet), error) {
	wire, err := sim.NewLink(scope, latency, bytesPerSec)
	if err != nil {
		return nil, err
	}
	u := &uplink{s: s, wire: wire}
	u.id = s.engine.Register(u)
	return func(p Packet) {
		arrival := u.wire.Send(s.engine.Now(), p.WireBytes())
		u.onWire.push(p)
		s.engine.Schedule(sim.Event{Time: arrival, Handler: u.id})
	}, nil
}

// Handle implements sim.Handler: a frame reaches the switch.
func (u *uplink) Handle(sim.Event) { u.s.Receive(u.onWire.pop()) }

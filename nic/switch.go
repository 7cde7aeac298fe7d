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
type Switch struct {
	engine  *sim.Engine
	id      sim.HandlerID
	scope   sim.Scope
	latency sim.Time
	ports   []*swPort
	table   map[uint64]int // MAC → port

	forwarded, unknown *sim.Counter
}

type swPort struct {
	wire    *sim.Link
	deliver func(Packet, sim.Time)
	onWire  queue // frames being delivered, in order
}

// NewSwitch returns a switch with no ports whose forwarding takes latency.
func NewSwitch(scope sim.Scope, latency sim.Time) *Switch {
	s := &Switch{engine: scope.Engine(), scope: scope, latency: latency, table: map[uint64]int{}}
	s.id = s.engine.Register(s)
	s.forwarded = scope.Counter("forwarded", "frames forwarded")
	s.unknown = scope.Counter("unknown_destination", "frames dropped for a destination no port has")
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

// Receive takes a frame arriving now and forwards it.
func (s *Switch) Receive(p Packet) {
	n, ok := s.table[p.Dst]
	if !ok {
		s.unknown.Inc()
		return
	}
	s.forwarded.Inc()
	port := s.ports[n]
	arrival := port.wire.Send(s.engine.Now()+s.latency, p.WireBytes())
	port.onWire.push(p)
	s.engine.Schedule(sim.Event{Time: arrival, Handler: s.id, Arg: uint64(n)})
}

// Handle implements sim.Handler: a frame reaches the device on a port.
func (s *Switch) Handle(ev sim.Event) {
	port := s.ports[ev.Arg]
	p := port.onWire.pop()
	if port.deliver != nil {
		port.deliver(p, ev.Time)
	}
}

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

package sim

import (
	"fmt"
)

// Link is a point-to-point, one-direction link with a propagation latency and
// a bandwidth. Messages are serialised one after another: a message sent while
// the link is still transmitting an earlier one waits for it (a reservation
// timestamp, so contention is charged without an event per message). A
// full-duplex connection is two Links.
//
// Statistics under the link's scope: "messages" and "bytes" sent, "busy_ps"
// (total serialisation time), the "queue_delay" histogram (ps each message
// waited for the link to be free) and "utilization" (busy_ps over the
// simulated time covered, see Utilization).
type Link struct {
	latency     Time
	bytesPerSec uint64
	busyUntil   Time // end of the last reserved serialisation
	clock       *Engine

	messages, bytes, busy *Counter
	queueDelay            *Histogram
}

// NewLink returns an idle link with the given propagation latency and
// bandwidth in bytes per second, registering its statistics under scope.
func NewLink(scope Scope, latency Time, bytesPerSec uint64) (*Link, error) {
	if scope.env == nil {
		return nil, fmt.Errorf("link %q: scope has no environment", scope.name)
	}
	if bytesPerSec == 0 {
		return nil, fmt.Errorf("link %q: bandwidth must be positive, got 0 bytes/s", scope.name)
	}
	l := &Link{
		latency:     latency,
		bytesPerSec: bytesPerSec,
		clock:       scope.env.Engine,
		messages:    scope.Counter("messages", "messages sent"),
		bytes:       scope.Counter("bytes", "bytes sent"),
		busy:        scope.Counter("busy_ps", "time spent serialising messages (ps)"),
		queueDelay:  scope.Histogram("queue_delay", "ps", "time a message waited for the link to be free"),
	}
	scope.Value("utilization", "fraction of simulated time spent serialising", l.Utilization)
	return l, nil
}

// Latency returns the propagation latency.
func (l *Link) Latency() Time { return l.latency }

// BytesPerSec returns the bandwidth.
func (l *Link) BytesPerSec() uint64 { return l.bytesPerSec }

// FreeAt returns the time at which the link finishes serialising every
// message sent so far.
func (l *Link) FreeAt() Time { return l.busyUntil }

// SerialisationTime returns how long the link takes to put bytes on the
// wire: ⌈bytes·10^12 / bytesPerSec⌉ ps.
func (l *Link) SerialisationTime(bytes uint64) Time { return BytesTime(bytes, l.bytesPerSec) }

// Send transmits a message of the given size offered at time now and returns
// the time its last byte arrives at the far end. Serialisation starts when
// the link is free, at max(now, FreeAt()), and takes SerialisationTime(bytes);
// the last byte arrives latency after serialisation ends. now need not be the
// engine's clock (a core running ahead may send at its local time), but
// messages are serialised in the order Send is called.
func (l *Link) Send(now Time, bytes uint64) (arrival Time) {
	start := max(now, l.busyUntil)
	ser := l.SerialisationTime(bytes)
	end := start + ser
	arrival = end + l.latency
	if end < start || arrival < end {
		panic(fmt.Sprintf("sim: link message of %d bytes sent at %v arrives after the end of simulated time", bytes, now))
	}
	l.busyUntil = end
	l.messages.Inc()
	l.bytes.Add(bytes)
	l.busy.Add(uint64(ser))
	l.queueDelay.Record(uint64(start - now))
	return arrival
}

// Utilization returns the fraction of simulated time the link spent
// serialising: busy_ps divided by max(engine clock, FreeAt()), or 0 before
// anything has happened.
func (l *Link) Utilization() float64 {
	horizon := l.busyUntil
	if l.clock != nil {
		horizon = max(horizon, l.clock.Now())
	}
	if horizon == 0 {
		return 0
	}
	return float64(l.busy.Value()) / float64(horizon)
}

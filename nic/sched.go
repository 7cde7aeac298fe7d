package nic

import (
	"fmt"
	"strings"
)

// Scheduler is how the transmit scheduler orders the packets ready to
// send (step 514).
type Scheduler uint8

// Transmit schedulers.
const (
	// StrictPriority sends released checkpoint packets (high priority)
	// before any packet of a non-checkpointing VF (low priority).
	StrictPriority Scheduler = iota
	// FIFO sends packets in the order they became ready, whatever their
	// priority: the no-priority baseline.
	FIFO
	// DRR shares the wire between the two priorities by deficit round
	// robin, in proportion to their quanta (Config.Quantum).
	DRR
)

var schedulerNames = [...]string{StrictPriority: "strict-priority", FIFO: "fifo", DRR: "drr"}

func (s Scheduler) String() string { return enumName(schedulerNames[:], "Scheduler", s) }

// ParseScheduler returns the scheduler named name.
func ParseScheduler(name string) (Scheduler, error) {
	return parseEnum[Scheduler](schedulerNames[:], "transmit scheduler", name)
}

// enumName is the name of v among names, or type(v) if it has none.
func enumName[T ~uint8](names []string, typ string, v T) string {
	if int(v) < len(names) {
		return names[v]
	}
	return fmt.Sprintf("%s(%d)", typ, uint8(v))
}

// parseEnum returns the value named name among names.
func parseEnum[T ~uint8](names []string, what, name string) (T, error) {
	for i, n := range names {
		if n == name {
			return T(i), nil
		}
	}
	return 0, fmt.Errorf("unknown %s %q; must be one of %s", what, name, strings.Join(names, ", "))
}

// queue is a FIFO of packets.
type queue struct {
	pkts []Packet
	head int
}

func (q *queue) len() int { return len(q.pkts) - q.head }

func (q *queue) push(p Packet) {
	if q.head > 0 && q.head >= len(q.pkts)/2 { // reuse the drained front
		n := copy(q.pkts, q.pkts[q.head:])
		q.pkts, q.head = q.pkts[:n], 0
	}
	q.pkts = append(q.pkts, p)
}

func (q *queue) front() *Packet { return &q.pkts[q.head] }

func (q *queue) pop() Packet {
	p := q.pkts[q.head]
	q.head++
	return p
}

// Priorities of ready packets.
const (
	high = 0 // released checkpoint packets (506)
	low  = 1 // packets of non-checkpointing VFs (512)
)

// scheduler holds the packets ready to send, by priority, and picks the
// next one.
type scheduler struct {
	kind    Scheduler
	q       [2]queue // by priority; FIFO uses q[0] alone
	prio    queue    // FIFO: each packet's priority (in ID), beside q[0]
	quantum [2]uint64
	deficit [2]uint64
	turn    int
	started bool // the class at turn has had its quantum this turn
}

func (s *scheduler) empty() bool { return s.q[0].len()+s.q[1].len() == 0 }

func (s *scheduler) push(p Packet, priority int) {
	if s.kind == FIFO {
		s.q[0].push(p)
		s.prio.push(Packet{ID: uint64(priority)})
		return
	}
	s.q[priority].push(p)
}

// pop returns the next packet to send and its priority; the scheduler must
// not be empty.
func (s *scheduler) pop() (Packet, int) {
	switch s.kind {
	case FIFO:
		return s.q[0].pop(), int(s.prio.pop().ID)
	case StrictPriority:
		if s.q[high].len() > 0 {
			return s.q[high].pop(), high
		}
		return s.q[low].pop(), low
	}
	// Deficit round robin: each turn of a class with packets adds its
	// quantum to its deficit, and it sends while its head fits in it.
	for {
		c := s.turn
		q := &s.q[c]
		if q.len() == 0 {
			s.deficit[c], s.turn, s.started = 0, 1-c, false // an idle class keeps no credit
			continue
		}
		if !s.started {
			s.deficit[c] += s.quantum[c]
			s.started = true
		}
		if size := q.front().WireBytes(); size <= s.deficit[c] {
			s.deficit[c] -= size
			return q.pop(), c
		}
		s.turn, s.started = 1-c, false
	}
}

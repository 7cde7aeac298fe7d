package nic

import (
	"fmt"
	"math/rand/v2"

	"github.com/twinsim/twinsim/sim"
)

// ClientConfig describes an external client host: it sends request
// packets to a server's MAC and records how long each takes until the
// server's response arrives.
type ClientConfig struct {
	MAC, Server  uint64
	RequestBytes uint32
	OpenLoop     bool    // true: requests arrive as a Poisson process of Rate a second
	Rate         float64 // open loop: requests a second
	Outstanding  int     // closed loop: requests in flight at all times
	Requests     uint64  // stop after this many (0: no limit)
	// Warmup: responses arriving before it are not counted (latency,
	// responses, throughput), nor requests sent before it (request_rate);
	// the rates are over the time after it.
	Warmup sim.Time
	// Payload, if set, gives requests real contents for a server that
	// reads them (a guest program), and tells which request a response
	// answers; RequestBytes is then unused.
	Payload Payload
}

// Payload makes a client's requests and reads its responses when the
// server is a real program.
type Payload interface {
	// Request returns the frame payload of the request tagged tag.
	Request(tag uint64) []byte
	// Response returns the tag of the request a frame payload answers,
	// or false if it answers none of the client's.
	Response(data []byte) (tag uint64, ok bool)
}

// Validate names the first value out of range.
func (c ClientConfig) Validate() error {
	switch {
	case c.RequestBytes == 0 && c.Payload == nil:
		return fmt.Errorf("request size must be positive")
	case c.OpenLoop && !(c.Rate > 0):
		return fmt.Errorf("an open-loop client needs a positive rate")
	case !c.OpenLoop && c.Outstanding < 1:
		return fmt.Errorf("a closed-loop client needs at least 1 outstanding request")
	}
	return nil
}

// Client is an external client host. Its requests carry their sequence
// number in Packet.Tag, and a response with the same Tag completes one —
// or, with a Payload, in their contents, and the Payload tells which
// request a response answers.
//
// Statistics under its scope: requests sent, responses received (from the
// warm-up on), request_rate and throughput (a second, from the warm-up
// on), the "latency" histogram (ps from sending a request to its
// response's arrival: p50, p99, p999), and the requests still unanswered (at the end of a run: in flight, or lost — a client does not
// retransmit).
type Client struct {
	cfg     ClientConfig
	engine  *sim.Engine
	id      sim.HandlerID
	rng     *rand.Rand
	send    func(Packet)
	pending map[uint64]sim.Time // tag → when sent
	next    uint64
	late    uint64 // requests sent from the warm-up on

	sent, done *sim.Counter
	latency    *sim.Histogram
}

// NewClient returns a client that sends its frames through send (to its
// switch port), with its random stream and statistics under scope.
func NewClient(scope sim.Scope, cfg ClientConfig, send func(Packet)) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", scope.Name(), err)
	}
	c := &Client{cfg: cfg, engine: scope.Engine(), rng: scope.RNG(), send: send, pending: map[uint64]sim.Time{}}
	c.id = c.engine.Register(c)
	c.sent = scope.Counter("requests", "requests sent")
	c.done = scope.Counter("responses", "responses received from the warm-up on")
	c.latency = scope.Histogram("latency", "ps", "time from a request to its response")
	// More points of the latency distribution than the histogram's own
	// (p50, p90, p99, p999), for CDF plots.
	for _, q := range []struct {
		name string
		q    float64
	}{{"p10", 0.1}, {"p25", 0.25}, {"p75", 0.75}, {"p95", 0.95}} {
		scope.Value("latency_"+q.name, "ps: the "+q.name+" of the latency", func() float64 { return c.latency.Quantile(q.q) })
	}
	scope.Value("request_rate", "requests sent a simulated second, from the warm-up on", func() float64 {
		return perSecond(c.late, c.engine.Now(), cfg.Warmup)
	})
	scope.Value("throughput", "responses a simulated second, from the warm-up on", func() float64 {
		return perSecond(c.done.Value(), c.engine.Now(), cfg.Warmup)
	})
	scope.Value("unanswered", "requests sent and not answered (at the end: in flight, or lost)", func() float64 {
		return float64(len(c.pending))
	})
	return c, nil
}

// perSecond is n events over the simulated time from warmup to now.
func perSecond(n uint64, now, warmup sim.Time) float64 {
	if now <= warmup {
		return 0
	}
	return float64(n) / (now - warmup).Seconds()
}

// Start begins sending: the first open-loop arrival, or the closed loop's
// outstanding requests.
func (c *Client) Start() {
	if c.cfg.OpenLoop {
		c.engine.Schedule(sim.Event{Time: c.engine.Now() + c.gap(), Handler: c.id})
		return
	}
	for range c.cfg.Outstanding {
		c.request()
	}
}

// gap draws an exponential inter-arrival time.
func (c *Client) gap() sim.Time {
	return sim.Time(c.rng.ExpFloat64() / c.cfg.Rate * float64(sim.Second))
}

func (c *Client) request() {
	if c.cfg.Requests != 0 && c.next >= c.cfg.Requests {
		return
	}
	c.next++
	c.pending[c.next] = c.engine.Now()
	c.sent.Inc()
	if c.engine.Now() >= c.cfg.Warmup {
		c.late++
	}
	p := Packet{ID: c.next, Dst: c.cfg.Server, Src: c.cfg.MAC, Bytes: c.cfg.RequestBytes, Tag: c.next, Sent: c.engine.Now()}
	if c.cfg.Payload != nil {
		p.Data = c.cfg.Payload.Request(c.next)
		p.Bytes = uint32(len(p.Data))
	}
	c.send(p)
}

// Handle implements sim.Handler: the next open-loop arrival.
func (c *Client) Handle(sim.Event) {
	c.request()
	if c.cfg.Requests == 0 || c.next < c.cfg.Requests {
		c.engine.Schedule(sim.Event{Time: c.engine.Now() + c.gap(), Handler: c.id})
	}
}

// Receive takes a response arriving at time at.
func (c *Client) Receive(p Packet, at sim.Time) {
	tag := p.Tag
	if c.cfg.Payload != nil {
		var ok bool
		if tag, ok = c.cfg.Payload.Response(p.Data); !ok {
			return
		}
	}
	sent, ok := c.pending[tag]
	if !ok {
		return // not ours, or a duplicate
	}
	delete(c.pending, tag)
	if at >= c.cfg.Warmup {
		c.done.Inc()
		c.latency.Record(uint64(at - sent))
	}
	if !c.cfg.OpenLoop {
		c.request()
	}
}

// SetPayload replaces the client's payload (before it starts).
func (c *Client) SetPayload(p Payload) { c.cfg.Payload = p }

// MAC returns the client's address.
func (c *Client) MAC() uint64 { return c.cfg.MAC }

// Sink is an external host that receives bulk traffic and counts it.
//
// Statistics under its scope: frames and payload bytes received from the
// warm-up on, and "goodput" (those bytes a simulated second after it).
type Sink struct {
	engine        *sim.Engine
	warmup        sim.Time
	frames, bytes *sim.Counter
}

// NewSink returns a sink with statistics under scope that counts frames
// arriving from warmup on.
func NewSink(scope sim.Scope, warmup sim.Time) *Sink {
	s := &Sink{engine: scope.Engine(), warmup: warmup}
	s.frames = scope.Counter("frames", "frames received from the warm-up on")
	s.bytes = scope.Counter("bytes", "payload bytes received from the warm-up on")
	scope.Value("goodput", "payload bytes received a simulated second, from the warm-up on", func() float64 {
		return perSecond(s.bytes.Value(), s.engine.Now(), s.warmup)
	})
	return s
}

// Receive takes a frame arriving at at.
func (s *Sink) Receive(p Packet, at sim.Time) {
	if at < s.warmup {
		return
	}
	s.frames.Inc()
	s.bytes.Add(uint64(p.Bytes))
}

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
	// Timeout, if positive, is how long the client waits for a response
	// before it sends the request again, doubling the wait each time
	// (exponential backoff, as TCP's retransmission timer does); after
	// Retries resends it counts the request lost (a closed-loop client
	// then sends a new one). 0: no retransmission.
	Timeout sim.Time
	Retries int
}

// Retrier is a Payload that is told when a request's timeout comes — it
// says whether to send the request again (the server may have applied an
// earlier copy, so an answer may reflect it) or to give it up — and when
// the client gives a request up (the server may apply it or not).
type Retrier interface {
	Retry(tag uint64) bool
	Lost(tag uint64)
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
	case c.Retries < 0 || c.Retries > 30:
		return fmt.Errorf("retries %d must be 0..30", c.Retries)
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
// on), the "latency" histogram (ps from a request's first send to its
// response's arrival: p50, p99, p999), retransmissions, lost requests
// (given up after the last resend), duplicates (answers to requests
// already answered or given up), and the requests unanswered at the end.
type Client struct {
	cfg     ClientConfig
	engine  *sim.Engine
	id      sim.HandlerID
	rng     *rand.Rand
	send    func(Packet)
	pending map[uint64]outstanding // tag → the request in flight (values: no allocation per request)
	next    uint64
	late    uint64 // requests sent from the warm-up on

	sent, done, resent, lost, dups *sim.Counter
	abandoned                      *sim.Counter
	latency                        *sim.Histogram
	// The responses since the last TakeWindow: how many, their summed
	// and their longest latency.
	winN        uint64
	winSum, win sim.Time
}

// outstanding is a request awaiting its response: when it was first sent,
// the packet (to send again), the sends so far and the live timer's
// generation.
type outstanding struct {
	first sim.Time
	p     Packet
	sends int
	gen   uint64
}

// event kinds of a client
const (
	evArrival uint32 = iota // the next open-loop request
	evTimeout               // a request's retransmission timer; Arg: tag<<8 | generation
)

// NewClient returns a client that sends its frames through send (to its
// switch port), with its random stream and statistics under scope.
func NewClient(scope sim.Scope, cfg ClientConfig, send func(Packet)) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", scope.Name(), err)
	}
	c := &Client{cfg: cfg, engine: scope.Engine(), rng: scope.RNG(), send: send, pending: map[uint64]outstanding{}}
	c.id = c.engine.Register(c)
	c.sent = scope.Counter("requests", "requests sent")
	c.done = scope.Counter("responses", "responses received from the warm-up on")
	c.resent = scope.Counter("retransmissions", "requests sent again after their timeout")
	c.lost = scope.Counter("lost", "requests given up after their last retransmission")
	c.dups = scope.Counter("duplicates", "responses to requests already answered (or given up)")
	c.abandoned = scope.Counter("abandoned", "unanswered requests the payload chose not to send again (a kv client's poison requests)")
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
	c.sent.Inc()
	if c.engine.Now() >= c.cfg.Warmup {
		c.late++
	}
	p := Packet{ID: c.next, Dst: c.cfg.Server, Src: c.cfg.MAC, Bytes: c.cfg.RequestBytes, Tag: c.next, Sent: c.engine.Now()}
	if c.cfg.Payload != nil {
		p.Data = c.cfg.Payload.Request(c.next)
		p.Bytes = uint32(len(p.Data))
	}
	c.transmit(c.next, outstanding{first: c.engine.Now(), p: p})
}

// transmit sends o's packet, records it and arms its retransmission
// timer.
func (c *Client) transmit(tag uint64, o outstanding) {
	o.sends++
	o.gen++
	c.pending[tag] = o
	c.send(o.p)
	if c.cfg.Timeout > 0 {
		wait := c.cfg.Timeout << min(o.sends-1, 30)
		c.engine.Schedule(sim.Event{Time: c.engine.Now() + wait, Handler: c.id, Kind: evTimeout, Arg: tag<<8 | o.gen&0xff})
	}
}

// Handle implements sim.Handler: the next open-loop arrival, or a
// request's timeout.
func (c *Client) Handle(ev sim.Event) {
	if ev.Kind == evTimeout {
		c.timeout(ev.Arg>>8, ev.Arg&0xff)
		return
	}
	c.request()
	if c.cfg.Requests == 0 || c.next < c.cfg.Requests {
		c.engine.Schedule(sim.Event{Time: c.engine.Now() + c.gap(), Handler: c.id})
	}
}

// timeout: the request tagged tag has had no response since its last
// send (unless the timer is stale): send it again, or give it up.
func (c *Client) timeout(tag, gen uint64) {
	o, ok := c.pending[tag]
	if !ok || o.gen&0xff != gen {
		return // answered, or a later send's timer is the live one
	}
	r, retrier := c.cfg.Payload.(Retrier)
	if abandon := retrier && o.sends <= c.cfg.Retries && !r.Retry(tag); abandon || o.sends > c.cfg.Retries {
		delete(c.pending, tag)
		if abandon {
			c.abandoned.Inc()
		} else {
			c.lost.Inc()
		}
		if retrier {
			r.Lost(tag)
		}
		if !c.cfg.OpenLoop {
			c.request()
		}
		return
	}
	c.resent.Inc()
	c.transmit(tag, o)
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
	o, ok := c.pending[tag]
	if !ok {
		if tag != 0 && tag <= c.next {
			c.dups.Inc() // answered already (a retransmission's second answer), or given up
		}
		return
	}
	delete(c.pending, tag)
	lat := at - o.first // from the first send: what the user waited
	c.winN++
	c.winSum += lat
	c.win = max(c.win, lat)
	if at >= c.cfg.Warmup {
		c.done.Inc()
		c.latency.Record(uint64(lat))
	}
	if !c.cfg.OpenLoop {
		c.request()
	}
}

// TakeWindow returns the responses received since the last call (or the
// start) — how many, their mean and their longest latency — and starts a
// new window.
func (c *Client) TakeWindow() (n uint64, mean, longest sim.Time) {
	n, longest = c.winN, c.win
	if n > 0 {
		mean = c.winSum / sim.Time(n)
	}
	c.winN, c.winSum, c.win = 0, 0, 0
	return n, mean, longest
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

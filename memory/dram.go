package memory

import (
	"fmt"

	"github.com/twinsim/twinsim/sim"
)

// DRAMConfig is the timing of a DRAM: a fixed access latency, a number of
// independent channels each with its own bandwidth, and how addresses are
// interleaved across channels.
type DRAMConfig struct {
	// Latency is added to every access after its data transfer (ps).
	Latency sim.Time `toml:"latency"`
	// Channels is the number of independent channels, at least 1.
	Channels int `toml:"channels"`
	// BytesPerSec is the bandwidth of each channel.
	BytesPerSec uint64 `toml:"bytes_per_sec"`
	// InterleaveBytes is how many consecutive bytes map to one channel
	// before the next channel takes over.
	InterleaveBytes uint64 `toml:"interleave_bytes"`
}

// Validate reports the first field that is out of range, by its TOML key.
func (c DRAMConfig) Validate() error {
	switch {
	case c.Channels < 1:
		return fmt.Errorf("channels %d must be at least 1", c.Channels)
	case c.BytesPerSec == 0:
		return fmt.Errorf("bytes_per_sec %d must be positive", c.BytesPerSec)
	case c.InterleaveBytes == 0:
		return fmt.Errorf("interleave_bytes %d must be positive", c.InterleaveBytes)
	}
	return nil
}

// DRAM is a timing model of main memory. Channel ch serves addresses with
// (addr / InterleaveBytes) % Channels == ch and keeps a reservation
// timestamp (busy-until). An access starts its transfer at
// max(now, busy-until), holds the channel for ⌈bytes·10¹²/BytesPerSec⌉ ps,
// and completes Latency after the transfer ends. Banks, rows and refresh are
// not modelled. Access is deterministic and does not allocate (once the
// queue-delay histogram has grown to the largest delay seen).
//
// Statistics under its scope: "reads", "writes", "bytes_read",
// "bytes_written", "busy_ps" (transfer time summed over channels),
// "queue_delay" (ps each access waited for its channel) and "utilization"
// (busy_ps / (channels × the latest completion time)).
type DRAM struct {
	cfg      DRAMConfig
	busy     []sim.Time // per channel: when its current reservation ends
	lastDone sim.Time

	reads, writes, bytesRead, bytesWritten, busyPS *sim.Counter
	queueDelay                                     *sim.Histogram
}

// NewDRAM returns an idle DRAM with timing cfg.
func NewDRAM(scope sim.Scope, cfg DRAMConfig) (*DRAM, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := &DRAM{
		cfg:          cfg,
		busy:         make([]sim.Time, cfg.Channels),
		reads:        scope.Counter("reads", "read accesses"),
		writes:       scope.Counter("writes", "write accesses"),
		bytesRead:    scope.Counter("bytes_read", "bytes read"),
		bytesWritten: scope.Counter("bytes_written", "bytes written"),
		busyPS:       scope.Counter("busy_ps", "picoseconds of data transfer, summed over channels"),
		queueDelay:   scope.Histogram("queue_delay", "ps", "time each access waited for its channel to be free"),
	}
	scope.Value("utilization", "busy_ps / (channels × latest completion time)", d.Utilization)
	return d, nil
}

// Config returns the timing the DRAM was built with.
func (d *DRAM) Config() DRAMConfig { return d.cfg }

// Channel returns the channel that serves addr.
func (d *DRAM) Channel(addr uint64) int {
	return int((addr / d.cfg.InterleaveBytes) % uint64(d.cfg.Channels))
}

// BusyUntil returns when channel ch finishes its reserved transfers.
func (d *DRAM) BusyUntil(ch int) sim.Time { return d.busy[ch] }

// TransferTime returns how long a channel is occupied moving n bytes:
// ⌈n·10¹²/BytesPerSec⌉ ps.
func (d *DRAM) TransferTime(n uint64) sim.Time {
	q, ok := sim.MulDivCeil(n, uint64(sim.Second), d.cfg.BytesPerSec)
	if !ok {
		panic(fmt.Sprintf("memory: DRAM transfer of %d bytes at %d B/s overflows simulated time", n, d.cfg.BytesPerSec))
	}
	return sim.Time(q)
}

// Access reserves the channel serving addr for a transfer of n bytes issued
// at now and returns when the access completes.
func (d *DRAM) Access(now sim.Time, addr, n uint64, write bool) (done sim.Time) {
	return d.Reserve(now, d.Channel(addr), n, write) + d.TransferTime(n) + d.cfg.Latency
}

// Reserve occupies channel ch for a transfer of n bytes that reaches it at
// now, from when the channel is free, and returns when the transfer
// starts. Callers that replay accesses in time order (a weave) call it
// directly; Access is Reserve and the completion time.
func (d *DRAM) Reserve(now sim.Time, ch int, n uint64, write bool) (start sim.Time) {
	start = max(now, d.busy[ch])
	xfer := d.TransferTime(n)
	d.busy[ch] = start + xfer
	d.lastDone = max(d.lastDone, start+xfer+d.cfg.Latency)
	if write {
		d.writes.Inc()
		d.bytesWritten.Add(n)
	} else {
		d.reads.Inc()
		d.bytesRead.Add(n)
	}
	d.busyPS.Add(uint64(xfer))
	d.queueDelay.Record(uint64(start - now))
	return start
}

// Utilization returns the fraction of channel time spent transferring data
// up to the latest completion time, or 0 before the first access.
func (d *DRAM) Utilization() float64 {
	if d.lastDone == 0 {
		return 0
	}
	return float64(d.busyPS.Value()) / (float64(d.cfg.Channels) * float64(d.lastDone))
}

package hypervisor

import (
	"fmt"
	"slices"

	"github.com/twinsim/twinsim/cache"
	"github.com/twinsim/twinsim/memory"
	"github.com/twinsim/twinsim/sim"
)

// BackupConfig is the checkpoint policy of the backup controller.
type BackupConfig struct {
	Interval            sim.Time // time from one checkpoint to the next
	Suspend             sim.Time // cost of pausing the backed-up VMs' vCPUs
	DrainCyclesPerEntry uint64   // hypervisor cycles to consume one log entry
	LineSize            uint64   // cache line size: bytes replicated per logged address
	Verify              bool     // compare backup and primary images after every checkpoint
}

// Validate checks the configuration.
func (c BackupConfig) Validate() error {
	switch {
	case c.Interval == 0:
		return fmt.Errorf("backup interval must be positive")
	case c.LineSize == 0 || c.LineSize&(c.LineSize-1) != 0:
		return fmt.Errorf("line size %d is not a power of two", c.LineSize)
	}
	return nil
}

// Baseline page sizes the controller measures beside the line log.
const (
	smallPage = 4 << 10
	largePage = 64 << 10
)

// checkpoint event kinds
const (
	evCheckpoint uint32 = iota
)

// Backup is the checkpoint controller for the backed-up VMs of one host.
// It owns the consumer side of the cache controller's modification log.
type Backup struct {
	cfg     BackupConfig
	scope   sim.Scope
	eng     *sim.Engine
	id      sim.HandlerID
	freq    sim.Freq
	ctl     *cache.Controller
	primary *memory.Physical
	replica *memory.Physical
	vms     []*VM // backed-up VMs only
	small   []*memory.DirtyTracker
	large   []*memory.DirtyTracker

	pending     []uint64 // line addresses drained from the log this epoch
	foreign     uint64   // logged addresses outside every backed-up image
	gen         uint64   // generation of the one live checkpoint event
	next        sim.Time // time of the next checkpoint
	pausedUntil sim.Time
	requested   bool // an early checkpoint is pending (log guard band)
	inCkpt      bool // a checkpoint is running: its own drain empties the log
	drainCycles uint64

	series *sim.Series

	checkpoints, early, mismatches    *sim.Counter
	stallDrains                       *sim.Counter
	bytesLine, bytesSmall, bytesLarge *sim.Counter
	bytesFull, foreignC               *sim.Counter
	logEntries, logEvict, scanCyc     *sim.Counter
	hLine, hSmall, hLarge, hPause     *sim.Histogram

	// deltas of the cache controller's log statistics between checkpoints
	last logCounters
}

type logCounters struct {
	evict, scan, bytes, overflows, dropped uint64
}

// Series columns, one row per checkpoint.
var seriesColumns = []string{
	"epoch", "pause_ps", "lines_scanned", "entries_evict", "entries_scan", "log_bytes",
	"unique_lines", "bytes_line_log", "bytes_page_4k", "bytes_page_64k", "bytes_full_copy",
	"scan_cycles", "drain_cycles", "overflows", "dropped", "image_mismatch",
}

// NewBackup builds the checkpoint controller. vms lists every VM on the host;
// those with BackedUp set are checkpointed: the controller marks them in ctl
// (and, if threads is non-nil, marks those thread ids in its thread mask),
// copies their images to replica, and installs the log-overflow hooks.
func NewBackup(scope sim.Scope, cfg BackupConfig, freq sim.Freq, ctl *cache.Controller,
	primary, replica *memory.Physical, vms []*VM) (*Backup, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", scope.Name(), err)
	}
	b := &Backup{cfg: cfg, scope: scope, eng: scope.Engine(), freq: freq, ctl: ctl, primary: primary, replica: replica}
	for _, vm := range vms {
		if !vm.BackedUp {
			continue
		}
		ctl.SetBackedUp(vm.ID, true)
		small, err := memory.NewDirtyTracker(vm.Base, vm.Size, smallPage)
		if err != nil {
			return nil, err
		}
		large, err := memory.NewDirtyTracker(vm.Base&^(largePage-1), alignUp(vm.Base+vm.Size, largePage)-vm.Base&^(largePage-1), largePage)
		if err != nil {
			return nil, err
		}
		b.vms = append(b.vms, vm)
		b.small = append(b.small, small)
		b.large = append(b.large, large)
		primary.Copy(replica, vm.Base, vm.Base, vm.Size) // the initial full synchronisation
	}
	ctl.OnFull = b.onFull
	ctl.OnInterrupt = b.onInterrupt
	if err := ctl.Check(); err != nil {
		return nil, fmt.Errorf("%s: %w", scope.Name(), err)
	}
	b.id = b.eng.Register(b)
	b.series = scope.Series("per_checkpoint", "one row per checkpoint", seriesColumns...)
	b.checkpoints = scope.Counter("checkpoints", "checkpoints taken")
	b.early = scope.Counter("early_checkpoints", "checkpoints brought forward by a log-overflow interrupt")
	b.mismatches = scope.Counter("image_mismatches", "checkpoints after which a backup image differed from its primary")
	b.stallDrains = scope.Counter("stall_drains", "log drains forced by a full log (stall policy)")
	b.bytesLine = scope.Counter("bytes_line_log", "bytes replicated by the image-modification line log")
	b.bytesSmall = scope.Counter("bytes_page_4k", "bytes 4 KiB page dirty tracking would replicate")
	b.bytesLarge = scope.Counter("bytes_page_64k", "bytes 64 KiB page dirty tracking would replicate")
	b.bytesFull = scope.Counter("bytes_full_copy", "bytes a full-image copy would replicate")
	b.foreignC = scope.Counter("foreign_entries", "logged addresses outside every backed-up image (must be 0)")
	b.logEntries = scope.Counter("log_entries", "modification-log entries written during the epochs checkpointed")
	b.logEvict = scope.Counter("log_entries_evict", "of those, entries written at eviction rather than by a checkpoint scan")
	b.scanCyc = scope.Counter("scan_cycles", "cycles the checkpoint scans cost")
	b.hLine = scope.Histogram("ckpt_bytes_line_log", "bytes", "line-log bytes per checkpoint")
	b.hSmall = scope.Histogram("ckpt_bytes_page_4k", "bytes", "4 KiB page-tracking bytes per checkpoint")
	b.hLarge = scope.Histogram("ckpt_bytes_page_64k", "bytes", "64 KiB page-tracking bytes per checkpoint")
	b.hPause = scope.Histogram("pause", "ps", "time the backed-up VMs are paused per checkpoint")
	perCkpt := func(c *sim.Counter) func() float64 {
		return func() float64 {
			if b.checkpoints.Value() == 0 {
				return 0
			}
			return float64(c.Value()) / float64(b.checkpoints.Value())
		}
	}
	scope.Value("mean_bytes_line_log", "mean line-log bytes per checkpoint", perCkpt(b.bytesLine))
	scope.Value("mean_bytes_page_4k", "mean 4 KiB page-tracking bytes per checkpoint", perCkpt(b.bytesSmall))
	scope.Value("mean_bytes_page_64k", "mean 64 KiB page-tracking bytes per checkpoint", perCkpt(b.bytesLarge))
	scope.Value("mean_bytes_full_copy", "mean full-copy bytes per checkpoint", perCkpt(b.bytesFull))
	scope.Value("mean_log_entries", "mean modification-log entries per checkpoint", perCkpt(b.logEntries))
	scope.Value("mean_scan_cycles", "mean checkpoint-scan cycles per checkpoint", perCkpt(b.scanCyc))
	scope.Value("scan_share", "time spent scanning the cache at checkpoints as a fraction of the time between checkpoints", func() float64 {
		if b.checkpoints.Value() == 0 {
			return 0
		}
		return float64(b.freq.CyclesToTime(b.scanCyc.Value())) / float64(b.checkpoints.Value()*uint64(b.cfg.Interval))
	})
	scope.Value("evict_share", "fraction of log entries written at eviction rather than by checkpoint scans", func() float64 {
		if b.logEntries.Value() == 0 {
			return 0
		}
		return float64(b.logEvict.Value()) / float64(b.logEntries.Value())
	})
	return b, nil
}

func alignUp(x, a uint64) uint64 { return (x + a - 1) &^ (a - 1) }

// Start schedules the first checkpoint one interval after now.
func (b *Backup) Start() {
	b.schedule(b.eng.Now() + b.cfg.Interval)
}

func (b *Backup) schedule(t sim.Time) {
	b.gen++
	b.next = t
	b.eng.Schedule(sim.Event{Time: t, Handler: b.id, Kind: evCheckpoint, Arg: b.gen})
}

// NextCheckpoint returns the time of the next checkpoint: backed-up vCPUs do
// not run past it.
func (b *Backup) NextCheckpoint() sim.Time { return b.next }

// PausedUntil returns the time the backed-up VMs resume after the last
// checkpoint.
func (b *Backup) PausedUntil() sim.Time { return b.pausedUntil }

// VMs returns the backed-up VMs.
func (b *Backup) VMs() []*VM { return b.vms }

// NoteStore records a guest-mode store by backed-up VM index i (in VMs()) at
// host physical address pa, for the page-tracking baselines.
func (b *Backup) NoteStore(i int, pa uint64) {
	b.small[i].Mark(pa)
	b.large[i].Mark(pa)
}

// drain consumes every pending log entry into the epoch's set and returns
// the hypervisor cycles it cost.
func (b *Backup) drain() uint64 {
	n := b.ctl.Drain(func(addr uint64, _ uint16) { b.pending = append(b.pending, addr) })
	return uint64(n) * b.cfg.DrainCyclesPerEntry
}

// onFull is the stall-policy hook: the writing core waits while the
// hypervisor empties the log.
func (b *Backup) onFull(now sim.Time) uint64 {
	b.stallDrains.Inc()
	c := b.drain()
	b.drainCycles += c
	return c
}

// onInterrupt is the interrupt-checkpoint hook: the log's guard band was
// reached, so the next checkpoint is brought forward to now.
func (b *Backup) onInterrupt(now sim.Time) {
	if b.requested || b.inCkpt {
		return
	}
	b.requested = true
	b.early.Inc()
	b.schedule(max(now, b.eng.Now()))
}

// Handle runs a checkpoint.
func (b *Backup) Handle(ev sim.Event) {
	if ev.Arg != b.gen {
		return // superseded by an early checkpoint
	}
	b.checkpoint(ev.Time)
}

func (b *Backup) lookup(name string) uint64 {
	v, ok := b.scope.Env().Stats.Lookup(b.ctl.Name(), name)
	if !ok {
		panic(fmt.Sprintf("hypervisor: cache controller has no statistic %q", name))
	}
	return uint64(v)
}

func (b *Backup) logCounters() logCounters {
	return logCounters{
		evict:     b.lookup("evict_entries"),
		scan:      b.lookup("scan_entries"),
		bytes:     b.lookup("log_bytes"),
		overflows: b.lookup("overflows"),
		dropped:   b.lookup("dropped"),
	}
}

// checkpoint pauses the backed-up VMs at t, collects modified state by the
// line log (and measures the baselines), replicates it and resumes the VMs.
func (b *Backup) checkpoint(t sim.Time) {
	b.inCkpt = true
	lines, _, scanCycles := b.ctl.Scan(t)
	drainCycles := b.drain() + b.drainCycles
	b.drainCycles = 0
	b.requested = false
	b.inCkpt = false

	// Replicate exactly the logged lines (deduplicated: the log may repeat
	// an address that was evicted, refetched and modified again).
	slices.Sort(b.pending)
	uniq := slices.Compact(b.pending)
	var lineBytes uint64
	for _, a := range uniq {
		if !b.inImage(a) {
			b.foreign++
			b.foreignC.Inc()
			continue
		}
		b.primary.Copy(b.replica, a, a, b.cfg.LineSize)
		lineBytes += b.cfg.LineSize
	}
	b.pending = b.pending[:0]

	var small, large, full uint64
	for i, vm := range b.vms {
		small += b.small[i].Bytes()
		large += b.large[i].Bytes()
		full += vm.Size
		b.small[i].Reset()
		b.large[i].Reset()
	}

	mismatch := 0.0
	if b.cfg.Verify {
		for _, vm := range b.vms {
			if eq, _ := b.primary.Equal(b.replica, vm.Base, vm.Size); !eq {
				mismatch = 1
			}
		}
		if mismatch != 0 {
			b.mismatches.Inc()
		}
	}

	pause := b.cfg.Suspend + b.freq.CyclesToTime(scanCycles+drainCycles)
	b.pausedUntil = t + pause
	b.checkpoints.Inc()
	b.bytesLine.Add(lineBytes)
	b.bytesSmall.Add(small)
	b.bytesLarge.Add(large)
	b.bytesFull.Add(full)
	b.hLine.Record(lineBytes)
	b.hSmall.Record(small)
	b.hLarge.Record(large)
	b.hPause.Record(uint64(pause))

	now := b.logCounters()
	d := logCounters{now.evict - b.last.evict, now.scan - b.last.scan, now.bytes - b.last.bytes,
		now.overflows - b.last.overflows, now.dropped - b.last.dropped}
	b.last = now
	b.logEntries.Add(d.evict + d.scan)
	b.logEvict.Add(d.evict)
	b.scanCyc.Add(scanCycles)
	b.series.Append(t, float64(b.checkpoints.Value()), float64(pause), float64(lines),
		float64(d.evict), float64(d.scan), float64(d.bytes), float64(len(uniq)),
		float64(lineBytes), float64(small), float64(large), float64(full),
		float64(scanCycles), float64(drainCycles), float64(d.overflows), float64(d.dropped), mismatch)
	if tr := b.scope.Tracer(); tr != nil {
		tr.Span(b.scope.Name(), "backup", "checkpoint", t, pause,
			sim.TraceArg{Key: "lines", Value: float64(len(uniq))},
			sim.TraceArg{Key: "bytes_line_log", Value: float64(lineBytes)},
			sim.TraceArg{Key: "bytes_page_4k", Value: float64(small)})
	}
	b.schedule(max(t+b.cfg.Interval, b.pausedUntil))
}

func (b *Backup) inImage(pa uint64) bool {
	for _, vm := range b.vms {
		if vm.Contains(pa) {
			return true
		}
	}
	return false
}

// Foreign returns the number of logged addresses that fell outside every
// backed-up image; the image-modification flag makes it 0.
func (b *Backup) Foreign() uint64 { return b.foreign }

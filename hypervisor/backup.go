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
	Verify              bool     // check the backup image against the primary after every checkpoint
	Method              Method   // what a checkpoint replicates
	// Link, if set, replicates each checkpoint over a link to the
	// secondary host, which applies it and acknowledges; without it a
	// checkpoint is applied to the backup image at once.
	Link *ReplicationConfig
	// Reader, if set, is the hypervisor's path to memory (the shared L3
	// and DRAM, contended by the cores that keep running) through which
	// a replicated checkpoint's lines and pages are read into the send
	// buffer, a line a cycle; the copy then takes as long as the reads or
	// as Link.CopyBytesPerSec allows, whichever is longer. A full-image
	// copy is timed by the bandwidth alone.
	Reader Reader
}

// Reader is a path to memory: an access issued at a time completes at the
// time it returns (cache.Port).
type Reader interface {
	Access(at sim.Time, a cache.Access) sim.Time
}

// ReplicationConfig is the path of checkpoint state to the secondary host
// and of its acknowledgement back.
type ReplicationConfig struct {
	// CopyBytesPerSec is how fast the paused primary copies the modified
	// state into its send buffer (part of the pause).
	CopyBytesPerSec uint64
	// Transport carries the state to the secondary and the
	// acknowledgement back.
	Transport Transport
	// ApplyBytesPerSec is how fast the secondary writes received state
	// into the backup image before it acknowledges.
	ApplyBytesPerSec uint64
	AckBytes         uint64 // the acknowledgement message
	// MaxInFlight is how many checkpoints may await their acknowledgement
	// at once (0 means 1). A checkpoint that falls due while that many do
	// is deferred (its epoch runs on) until the oldest is acknowledged, so
	// a replication path slower than the checkpoints cannot queue them
	// without bound.
	MaxInFlight int
}

// Transport carries messages between the primary and the secondary host.
// Each call sends a message of bytes starting at at (not before now) and
// calls arrived, on the engine, when its last byte has reached the other
// host; messages in one direction arrive in the order they were sent.
type Transport interface {
	ToSecondary(at sim.Time, bytes uint64, arrived func())
	ToPrimary(at sim.Time, bytes uint64, arrived func())
}

// LinkTransport is a dedicated replication link, one per direction, with
// a control lane beside each (Control) for small messages — heartbeats —
// that must not wait behind a bulk transfer, as a real link interleaves
// them between its frames. It can fail: Cut loses what is on it and
// everything sent until Restore, and SenderFailed loses what one side had
// not finished sending when its host crashed.
type LinkTransport struct {
	to, back, ctlTo, ctlBack linkDir
}

type linkDir struct {
	link    *sim.Link
	eng     *sim.Engine
	id      sim.HandlerID
	pending sim.FIFO[linkMsg]
	down    bool
	lost    *sim.Counter
}

// linkMsg is a message on a link: when its last byte leaves the sender,
// what to call when it arrives, and whether it is lost.
type linkMsg struct {
	departs sim.Time
	arrived func()
	lost    bool
}

// NewLinkTransport returns a dedicated link of the given one-way latency
// and bandwidth each way, with statistics under scope ("to_secondary",
// "to_primary", and the control lanes' "control_to_secondary",
// "control_to_primary").
func NewLinkTransport(scope sim.Scope, latency sim.Time, bytesPerSec uint64) (*LinkTransport, error) {
	t := &LinkTransport{}
	for _, d := range []struct {
		dir  *linkDir
		name string
	}{{&t.to, "to_secondary"}, {&t.back, "to_primary"}, {&t.ctlTo, "control_to_secondary"}, {&t.ctlBack, "control_to_primary"}} {
		l, err := sim.NewLink(scope.Child(d.name), latency, bytesPerSec)
		if err != nil {
			return nil, err
		}
		d.dir.link, d.dir.eng = l, scope.Engine()
		d.dir.id = d.dir.eng.Register(d.dir)
		d.dir.lost = scope.Child(d.name).Counter("lost_messages", "messages lost to a cut link or a crashed sender")
	}
	return t, nil
}

// Control returns the link's control lanes as a Transport.
func (t *LinkTransport) Control() Transport { return linkControl{t} }

type linkControl struct{ t *LinkTransport }

func (c linkControl) ToSecondary(at sim.Time, bytes uint64, arrived func()) {
	c.t.ctlTo.send(at, bytes, arrived)
}

func (c linkControl) ToPrimary(at sim.Time, bytes uint64, arrived func()) {
	c.t.ctlBack.send(at, bytes, arrived)
}

func (d *linkDir) send(at sim.Time, bytes uint64, arrived func()) {
	if d.down {
		d.lost.Inc()
		return
	}
	arrival := d.link.Send(at, bytes)
	d.pending.Push(linkMsg{departs: arrival - d.link.Latency(), arrived: arrived})
	d.eng.Schedule(sim.Event{Time: arrival, Handler: d.id})
}

// Handle implements sim.Handler: the oldest message has arrived.
func (d *linkDir) Handle(sim.Event) {
	if m := d.pending.Pop(); !m.lost {
		m.arrived()
	}
}

// loseFrom loses the messages whose last byte leaves at t or later.
func (d *linkDir) loseFrom(t sim.Time) {
	for i := range d.pending.Len() {
		if m := d.pending.At(i); !m.lost && m.departs >= t {
			m.lost = true
			d.lost.Inc()
		}
	}
}

// ToSecondary implements Transport.
func (t *LinkTransport) ToSecondary(at sim.Time, bytes uint64, arrived func()) {
	t.to.send(at, bytes, arrived)
}

// ToPrimary implements Transport.
func (t *LinkTransport) ToPrimary(at sim.Time, bytes uint64, arrived func()) {
	t.back.send(at, bytes, arrived)
}

// Cut takes the link down now: the messages on it are lost, and so is
// every message sent until Restore.
func (t *LinkTransport) Cut() {
	for _, d := range []*linkDir{&t.to, &t.back, &t.ctlTo, &t.ctlBack} {
		d.down = true
		d.loseFrom(0)
	}
}

// Restore brings a cut link back.
func (t *LinkTransport) Restore() {
	for _, d := range []*linkDir{&t.to, &t.back, &t.ctlTo, &t.ctlBack} {
		d.down = false
	}
}

// SenderFailed loses the messages from the primary (or, if not primary,
// from the secondary) whose last byte had not left it by now: its host
// has crashed.
func (t *LinkTransport) SenderFailed(primary bool) {
	dirs := []*linkDir{&t.back, &t.ctlBack}
	if primary {
		dirs = []*linkDir{&t.to, &t.ctlTo}
	}
	for _, d := range dirs {
		d.loseFrom(d.eng.Now() + 1)
	}
}

// Method is how a checkpoint collects the modified state it replicates.
type Method uint8

// Collection methods.
const (
	// LineLog replicates the cache lines at the addresses in the
	// image-modification log (patent family 3).
	LineLog Method = iota
	// Page4K and Page64K replicate the pages a dirty tracker marked
	// (PML style).
	Page4K
	Page64K
	// Full replicates the whole image. The link carries every byte;
	// the secondary's image changes only where the 4 KiB tracker saw
	// writes, so that is what is copied functionally.
	Full
)

var methodNames = [...]string{LineLog: "line-log", Page4K: "page-4k", Page64K: "page-64k", Full: "full"}

func (m Method) String() string {
	if int(m) < len(methodNames) {
		return methodNames[m]
	}
	return fmt.Sprintf("Method(%d)", uint8(m))
}

// ParseMethod returns the method named name.
func ParseMethod(name string) (Method, error) {
	for i, n := range methodNames {
		if n == name {
			return Method(i), nil
		}
	}
	return 0, fmt.Errorf("unknown checkpoint method %q; must be one of line-log, page-4k, page-64k, full", name)
}

// Validate checks the configuration.
func (c BackupConfig) Validate() error {
	switch {
	case c.Interval == 0:
		return fmt.Errorf("backup interval must be positive")
	case c.LineSize == 0 || c.LineSize&(c.LineSize-1) != 0:
		return fmt.Errorf("line size %d is not a power of two", c.LineSize)
	case c.Method > Full:
		return fmt.Errorf("unknown checkpoint method %d", c.Method)
	case c.Link != nil && (c.Link.Transport == nil || c.Link.CopyBytesPerSec == 0 || c.Link.ApplyBytesPerSec == 0):
		return fmt.Errorf("replication needs a transport and copy and apply bandwidths")
	case c.Link != nil && c.Link.MaxInFlight < 0:
		return fmt.Errorf("replication needs at least 1 checkpoint in flight, not %d", c.Link.MaxInFlight)
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
	evApplied           // a checkpoint is written into the backup image
	evLater             // AtSecondary's function falls due
)

// span is a range of host physical memory a checkpoint replicates.
type span struct{ addr, n uint64 }

// resyncMethod is a checkpoint's collection after a cut: the images whole.
const resyncMethod = Method(255)

// inFlight is a checkpoint on its way to the secondary: its epoch, when it
// was taken, the state it carries (spans, and their bytes in data), and
// with Verify the primary images' digests at that moment.
type inFlight struct {
	epoch  uint64
	taken  sim.Time
	spans  []span
	data   []byte
	hashes [][32]byte
}

// StateSource is state a checkpoint carries beside the memory it
// collects: the architectural and process state of VMs that run guest
// programs.
type StateSource interface {
	// CaptureState is called at the checkpoint that ends epoch, while the
	// backed-up VMs are paused, and returns the bytes the state adds to
	// the checkpoint.
	CaptureState(epoch uint64) uint64
	// StateApplied is called when the secondary host has applied the
	// checkpoint that ended epoch (its image holds that state now).
	StateApplied(epoch uint64)
}

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

	// Replication: the checkpoints being applied by the secondary, in
	// order, when it finishes applying the last, and spare buffers.
	flights   sim.FIFO[*inFlight]
	applyFree sim.Time
	spare     []*inFlight
	epoch     uint64 // the epoch running now
	backed    uint64 // epochs below are in the secondary's backup image
	unacked   int    // checkpoints sent and not yet acknowledged
	// A checkpoint deferred because MaxInFlight were unacknowledged, and
	// since when.
	deferred      bool
	deferredSince sim.Time
	// When the last checkpoint (or Start) was, and the time the epochs
	// ended so far took: an interval each, unless brought forward by the
	// log or deferred.
	lastCkpt, epochSpan sim.Time

	// OnEpoch, if set, is told at each checkpoint that epoch has begun
	// (the previous one ended); OnCommit that the checkpoint ending epoch
	// has been acknowledged by the secondary (committed).
	OnEpoch  func(epoch uint64)
	OnCommit func(epoch uint64)

	states []StateSource

	series *sim.Series

	checkpoints, early, mismatches    *sim.Counter
	stallDrains                       *sim.Counter
	bytesLine, bytesSmall, bytesLarge *sim.Counter
	bytesFull, foreignC               *sim.Counter
	logEntries, logEvict, scanCyc     *sim.Counter
	hLine, hSmall, hLarge, hPause     *sim.Histogram
	hState, hScan, hDrain, hCopy      *sim.Histogram
	hTransfer                         *sim.Histogram
	sentBytes, commits, deferrals     *sim.Counter
	hCommit, hSent, hDefer            *sim.Histogram

	// the cache controller's log counts at the last checkpoint
	last cache.LogCounts

	// stopped: the primary has crashed or runs on without a backup
	// (Stop); no checkpoint is taken and no acknowledgement reaches it.
	stopped bool
	later   []func() // AtSecondary's functions, in order
	// takenOver: the secondary has activated the VMs (TakeOver); it
	// applies no checkpoint still on its way.
	takenOver bool
	// resync: the next checkpoint carries the images whole (Resync).
	resync  bool
	resyncs *sim.Counter
}

// Series columns, one row per checkpoint.
var seriesColumns = []string{
	"epoch", "pause_ps", "lines_scanned", "entries_evict", "entries_scan", "log_bytes",
	"unique_lines", "bytes_line_log", "bytes_page_4k", "bytes_page_64k", "bytes_full_copy",
	"scan_cycles", "drain_cycles", "overflows", "dropped", "image_mismatch", "copy_ps", "state_bytes",
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
		if vm.Size%smallPage != 0 || vm.Base%smallPage != 0 {
			return nil, fmt.Errorf("%s: vm %s: image is not 4 KiB aligned", scope.Name(), vm.Name)
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
	b.sentBytes = scope.Counter("replicated_bytes", "bytes of checkpoint state sent to the secondary ("+cfg.Method.String()+")")
	b.commits = scope.Counter("commits", "checkpoints acknowledged by the secondary")
	b.resyncs = scope.Counter("resyncs", "whole-image checkpoints after the replication path came back from a cut")
	b.hSent = scope.Histogram("ckpt_replicated_bytes", "bytes", "checkpoint state sent per checkpoint")
	b.hCommit = scope.Histogram("commit_delay", "ps", "time from a checkpoint to its acknowledgement")
	b.deferrals = scope.Counter("deferred_checkpoints", "checkpoints put off because ha.max_in_flight checkpoints awaited their acknowledgement")
	b.hDefer = scope.Histogram("deferral", "ps", "how long a deferred checkpoint was put off")
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
	b.hState = scope.Histogram("ckpt_state_bytes", "bytes", "architectural and process state of program VMs per checkpoint")
	b.hScan = scope.Histogram("pause_scan", "ps", "part of the pause spent scanning the caches for flagged lines")
	b.hDrain = scope.Histogram("pause_drain", "ps", "part of the pause spent draining the modification log")
	b.hCopy = scope.Histogram("pause_copy", "ps", "part of the pause spent copying the modified state into the send buffer (replication only)")
	b.hTransfer = scope.Histogram("transfer", "ps", "time from sending a checkpoint to its last byte reaching the secondary (replication only)")
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
	scope.Value("scan_share", "time spent scanning the cache at checkpoints as a fraction of the epochs they ended", func() float64 {
		if b.epochSpan == 0 {
			return 0
		}
		return float64(b.freq.CyclesToTime(b.scanCyc.Value())) / float64(b.epochSpan)
	})
	scope.Value("pause_share", "fraction of the time so far the backed-up VMs were paused for checkpoints", func() float64 {
		if now := b.eng.Now(); now > 0 {
			return b.hPause.Sum() / float64(now)
		}
		return 0
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

// AddState adds s to the state every checkpoint carries.
func (b *Backup) AddState(s StateSource) { b.states = append(b.states, s) }

// ReplaceState puts s in old's place among the state sources (a VM
// restored from a checkpoint replaces the copy that failed).
func (b *Backup) ReplaceState(old, s StateSource) {
	for i, x := range b.states {
		if x == old {
			b.states[i] = s
			return
		}
	}
	b.states = append(b.states, s)
}

// Start schedules the first checkpoint one interval after now.
func (b *Backup) Start() {
	b.lastCkpt = b.eng.Now()
	b.schedule(b.lastCkpt + b.cfg.Interval)
}

func (b *Backup) schedule(t sim.Time) {
	b.gen++
	b.next = t
	b.eng.Schedule(sim.Event{Time: t, Handler: b.id, Kind: evCheckpoint, Arg: b.gen})
}

// NextCheckpoint returns the time of the next checkpoint: backed-up vCPUs do
// not run past it. While a checkpoint is deferred (see
// ReplicationConfig.MaxInFlight) its time is not known, and this is
// sim.MaxTime.
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
	if b.requested || b.inCkpt || b.deferred {
		return // a checkpoint is coming (a deferred one, at the acknowledgement)
	}
	b.requested = true
	b.early.Inc()
	b.schedule(max(now, b.eng.Now()))
}

// Handle runs a checkpoint, or a step of one's replication.
func (b *Backup) Handle(ev sim.Event) {
	switch ev.Kind {
	case evApplied:
		b.applied()
	case evLater:
		fn := b.later[0]
		b.later = b.later[1:]
		fn()
	default:
		if ev.Arg != b.gen || b.stopped {
			return // superseded by an early checkpoint
		}
		b.checkpoint(ev.Time)
	}
}

// checkpoint pauses the backed-up VMs at t, collects the modified state by
// the configured method (and measures the others), replicates it and
// resumes the VMs.
func (b *Backup) checkpoint(t sim.Time) {
	if l := b.cfg.Link; l != nil && b.unacked >= max(l.MaxInFlight, 1) {
		// Wait for the oldest acknowledgement (commit takes it from here).
		if !b.deferred {
			b.deferrals.Inc()
			b.deferred, b.deferredSince = true, t
		}
		b.next = sim.MaxTime
		return
	}
	b.inCkpt = true
	b.epochSpan += t - b.lastCkpt
	b.lastCkpt = t
	lines, _, scanCycles := b.ctl.Scan(t)
	drainCycles := b.drain() + b.drainCycles
	b.drainCycles = 0
	b.requested = false
	b.inCkpt = false

	// The logged lines, deduplicated: the log may repeat an address that
	// was evicted, refetched and modified again.
	slices.Sort(b.pending)
	uniq := slices.Compact(b.pending)
	var lineBytes uint64
	for _, a := range uniq {
		if !b.inImage(a) {
			b.foreign++
			b.foreignC.Inc()
			continue
		}
		lineBytes += b.cfg.LineSize
	}
	var small, large, full uint64
	for i, vm := range b.vms {
		small += b.small[i].Bytes()
		large += b.large[i].Bytes()
		full += vm.Size
	}
	f := b.collect(uniq, t)
	b.pending = b.pending[:0]
	for i := range b.vms {
		b.small[i].Reset()
		b.large[i].Reset()
	}

	var state uint64
	for _, s := range b.states {
		state += s.CaptureState(f.epoch)
	}
	// The pause, part by part: entering and leaving it, the cache scan,
	// the log drain and, when the checkpoint travels, the copy of the
	// modified state into the send buffer.
	scan, drain := b.freq.CyclesToTime(scanCycles), b.freq.CyclesToTime(drainCycles)
	pause := b.cfg.Suspend + scan + drain
	sent := f.bytes()
	if b.cfg.Method == Full {
		sent = full
	}
	sent += state
	resync := b.resync
	b.resync = false
	mismatch := 0.0
	var copied sim.Time
	if l := b.cfg.Link; l != nil {
		// Copy into the send buffer while paused (the whole image, for a
		// full copy), then stream it and let the secondary apply and
		// acknowledge it.
		copied = sim.BytesTime(sent, l.CopyBytesPerSec)
		if b.cfg.Reader != nil && b.cfg.Method != Full && !resync {
			copied = max(copied, b.read(t+pause, f.spans))
		}
		pause += copied
		wire := sent + 8*uint64(len(f.spans)) // each span's address
		if b.cfg.Method == Full {
			wire = sent
		}
		b.unacked++
		sendAt := t + pause
		l.Transport.ToSecondary(sendAt, wire, func() {
			if b.takenOver {
				return // the secondary runs the VMs now: it applies nothing more
			}
			b.hTransfer.Record(uint64(b.eng.Now() - sendAt))
			// The secondary applies checkpoints one after another.
			b.applyFree = max(b.eng.Now(), b.applyFree) + sim.BytesTime(sent, l.ApplyBytesPerSec)
			b.flights.Push(f)
			b.eng.Schedule(sim.Event{Time: b.applyFree, Handler: b.id, Kind: evApplied})
		})
	} else {
		mismatch = b.apply(f)
		b.commit(f.epoch, t)
		b.release(f)
	}
	b.pausedUntil = t + pause
	b.checkpoints.Inc()
	b.sentBytes.Add(sent)
	b.hSent.Record(sent)
	b.bytesLine.Add(lineBytes)
	b.bytesSmall.Add(small)
	b.bytesLarge.Add(large)
	b.bytesFull.Add(full)
	b.hLine.Record(lineBytes)
	b.hSmall.Record(small)
	b.hLarge.Record(large)
	b.hPause.Record(uint64(pause))
	b.hState.Record(state)
	b.hScan.Record(uint64(scan))
	b.hDrain.Record(uint64(drain))
	b.hCopy.Record(uint64(copied))

	now := b.ctl.Counts()
	d := cache.LogCounts{Evict: now.Evict - b.last.Evict, Scan: now.Scan - b.last.Scan, Bytes: now.Bytes - b.last.Bytes,
		Overflows: now.Overflows - b.last.Overflows, Dropped: now.Dropped - b.last.Dropped}
	b.last = now
	b.logEntries.Add(d.Evict + d.Scan)
	b.logEvict.Add(d.Evict)
	b.scanCyc.Add(scanCycles)
	b.series.Append(t, float64(b.checkpoints.Value()), float64(pause), float64(lines),
		float64(d.Evict), float64(d.Scan), float64(d.Bytes), float64(len(uniq)),
		float64(lineBytes), float64(small), float64(large), float64(full),
		float64(scanCycles), float64(drainCycles), float64(d.Overflows), float64(d.Dropped), mismatch,
		float64(copied), float64(state))
	if tr := b.scope.Tracer(); tr != nil {
		tr.Span(b.scope.Name(), "backup", "checkpoint", t, pause,
			sim.TraceArg{Key: "lines", Value: float64(len(uniq))},
			sim.TraceArg{Key: "bytes_line_log", Value: float64(lineBytes)},
			sim.TraceArg{Key: "bytes_page_4k", Value: float64(small)})
	}
	b.epoch++
	if b.OnEpoch != nil {
		b.OnEpoch(b.epoch)
	}
	b.schedule(max(t+b.cfg.Interval, b.pausedUntil))
}

// read reads the lines of spans through the Reader in the hypervisor's
// mode, a line a cycle from at, and returns how long until the last is
// done.
func (b *Backup) read(at sim.Time, spans []span) sim.Time {
	cycle, done := b.freq.CyclesToTime(1), at
	issue := at
	for _, sp := range spans {
		for a := sp.addr &^ (b.cfg.LineSize - 1); a < sp.addr+sp.n; a += b.cfg.LineSize {
			done = max(done, b.cfg.Reader.Access(issue, cache.Access{Addr: a, Mode: cache.Hypervisor}))
			issue += cycle
		}
	}
	return done - at
}

// collect gathers the checkpoint of the epoch ending at t: the spans of the
// configured method and, with a replication link, their bytes as they are
// now (the primary runs on while they travel).
func (b *Backup) collect(lines []uint64, t sim.Time) *inFlight {
	var f *inFlight
	if n := len(b.spare); n > 0 {
		f, b.spare = b.spare[n-1], b.spare[:n-1]
	} else {
		f = &inFlight{}
	}
	f.epoch, f.taken = b.epoch, t
	f.spans, f.data, f.hashes = f.spans[:0], f.data[:0], f.hashes[:0]
	method := b.cfg.Method
	if b.resync {
		method = resyncMethod
	}
	switch method {
	case resyncMethod:
		for _, vm := range b.vms {
			f.spans = append(f.spans, span{vm.Base, vm.Size})
		}
	case LineLog:
		for _, a := range lines {
			if b.inImage(a) {
				f.spans = append(f.spans, span{a, b.cfg.LineSize})
			}
		}
	case Page4K, Full:
		for i := range b.vms {
			b.small[i].Pages(func(pg uint64) { f.spans = append(f.spans, span{pg, smallPage}) })
		}
	case Page64K:
		for i, vm := range b.vms {
			b.large[i].Pages(func(pg uint64) {
				lo, hi := max(pg, vm.Base), min(pg+largePage, vm.Base+vm.Size)
				f.spans = append(f.spans, span{lo, hi - lo})
			})
		}
	}
	if b.cfg.Link != nil {
		for _, sp := range f.spans {
			n := len(f.data)
			f.data = slices.Grow(f.data, int(sp.n))[:n+int(sp.n)]
			b.primary.Read(sp.addr, f.data[n:])
		}
	}
	if b.cfg.Verify && b.cfg.Link != nil {
		for _, vm := range b.vms {
			f.hashes = append(f.hashes, b.primary.Digest(vm.Base, vm.Size))
		}
	}
	return f
}

func (f *inFlight) bytes() uint64 {
	var n uint64
	for _, sp := range f.spans {
		n += sp.n
	}
	return n
}

// apply writes checkpoint f into the backup image (which then holds its
// epoch: Backed) and, with Verify, checks
// the image against the primary as it was when f was taken — compared
// directly when applied at once, by digest when it travelled — and returns
// 1 on a mismatch.
func (b *Backup) apply(f *inFlight) float64 {
	b.backed = f.epoch + 1
	defer func() {
		for _, s := range b.states {
			s.StateApplied(f.epoch)
		}
	}()
	if b.cfg.Link == nil {
		for _, sp := range f.spans {
			b.primary.Copy(b.replica, sp.addr, sp.addr, sp.n)
		}
	} else {
		off := uint64(0)
		for _, sp := range f.spans {
			b.replica.Write(sp.addr, f.data[off:off+sp.n])
			off += sp.n
		}
	}
	if !b.cfg.Verify {
		return 0
	}
	for i, vm := range b.vms {
		var same bool
		if b.cfg.Link == nil {
			same, _ = b.primary.Equal(b.replica, vm.Base, vm.Size)
		} else {
			same = b.replica.Digest(vm.Base, vm.Size) == f.hashes[i]
		}
		if !same {
			b.mismatches.Inc()
			return 1
		}
	}
	return 0
}

// commit records that the checkpoint of epoch, taken at taken, has been
// acknowledged now.
func (b *Backup) commit(epoch uint64, taken sim.Time) {
	if b.stopped {
		return // nobody is there to take the acknowledgement, or to care
	}
	now := b.eng.Now()
	b.commits.Inc()
	b.hCommit.Record(uint64(now - taken))
	if b.OnCommit != nil {
		b.OnCommit(epoch)
	}
	if b.cfg.Link == nil {
		return
	}
	b.unacked--
	if b.deferred {
		b.deferred = false
		b.hDefer.Record(uint64(now - b.deferredSince))
		b.schedule(now)
	}
}

func (b *Backup) release(f *inFlight) { b.spare = append(b.spare, f) }

// applied: the secondary has written the oldest checkpoint in flight into
// the backup image; it acknowledges over the link.
func (b *Backup) applied() {
	f := b.flights.Pop()
	if b.takenOver {
		return
	}
	b.apply(f)
	epoch, taken := f.epoch, f.taken
	b.release(f)
	b.cfg.Link.Transport.ToPrimary(b.eng.Now(), b.cfg.Link.AckBytes, func() { b.commit(epoch, taken) })
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

// NoteWrite records a write of n bytes at host physical address pa — a
// guest store or a device's DMA — for the page-tracking methods, if it
// falls in a backed-up image.
func (b *Backup) NoteWrite(pa, n uint64) {
	for i, vm := range b.vms {
		if pa >= vm.Base+vm.Size || pa+n <= vm.Base {
			continue
		}
		lo, hi := max(pa, vm.Base), min(pa+n, vm.Base+vm.Size)
		for a := lo &^ (smallPage - 1); a < hi; a += smallPage {
			b.small[i].Mark(a)
		}
		for a := lo &^ (largePage - 1); a < hi; a += largePage {
			b.large[i].Mark(max(a, vm.Base))
		}
	}
}

// Epoch returns the epoch running now (the number of checkpoints taken).
func (b *Backup) Epoch() uint64 { return b.epoch }

// Stop ends checkpointing on the primary for good, now: its host has
// crashed, or its VMs run on without a backup. No checkpoint is taken
// from now on (NextCheckpoint is never), acknowledgements are no longer
// taken, and no epoch begins; the secondary still applies the
// checkpoints that reach it (Backed, ApplyingUntil).
func (b *Backup) Stop() {
	b.stopped = true
	b.gen++
	b.next = sim.MaxTime
	b.deferred = false
}

// AtSecondary has the secondary run fn in order with the checkpoints:
// once it has applied every checkpoint sent before now — a message of
// AckBytes follows them on the replication path — as when it restores its
// image from a kept checkpoint for a VM the primary rolled back. Without
// replication fn runs now.
func (b *Backup) AtSecondary(fn func()) {
	l := b.cfg.Link
	if l == nil {
		fn()
		return
	}
	l.Transport.ToSecondary(b.eng.Now(), l.AckBytes, func() {
		b.applyFree = max(b.eng.Now(), b.applyFree)
		b.later = append(b.later, fn)
		b.eng.Schedule(sim.Event{Time: b.applyFree, Handler: b.id, Kind: evLater})
	})
}

// Transport returns the replication path (nil without replication).
func (b *Backup) Transport() Transport {
	if b.cfg.Link == nil {
		return nil
	}
	return b.cfg.Link.Transport
}

// Resync is the replication path coming back after a cut: the
// checkpoints and acknowledgements it lost are written off, and a
// checkpoint taken now carries the backed-up images whole, so that the
// secondary's image is complete again before any output of the epochs
// since the cut is released.
func (b *Backup) Resync() {
	if b.stopped || b.takenOver || b.cfg.Link == nil {
		return
	}
	now := b.eng.Now()
	b.unacked, b.resync = 0, true
	if b.deferred {
		b.deferred = false
		b.hDefer.Record(uint64(now - b.deferredSince))
	}
	b.resyncs.Inc()
	b.schedule(max(now, b.pausedUntil))
}

// TakeOver records that the secondary has activated the backed-up VMs
// from the checkpoints it has applied: their images are live memory now,
// so a checkpoint still on its way from the old primary is never applied.
func (b *Backup) TakeOver() { b.takenOver = true }

// Stopped reports whether Stop was called.
func (b *Backup) Stopped() bool { return b.stopped }

// ApplyingUntil returns when the secondary finishes applying the
// checkpoints it has received.
func (b *Backup) ApplyingUntil() sim.Time { return b.applyFree }

// Backed returns how many epochs the secondary's backup image holds: the
// state of every epoch below it has been applied there (acknowledged or
// not). Output a VM produced in epoch e may only be seen outside once
// Backed() > e; a failover would lose it otherwise.
func (b *Backup) Backed() uint64 { return b.backed }

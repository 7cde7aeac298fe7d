package cache

import (
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/twinsim/twinsim/memory"
	"github.com/twinsim/twinsim/sim"
)

const (
	backedVM   = 1
	unbackedVM = 2
	logBase    = 1 << 20
)

// rig is a controller with a hierarchy in front of it.
type rig struct {
	env  *sim.Env
	mem  *memory.Physical
	ctl  *Controller
	port *Port
	l1   *Cache
	l2   *Cache
}

type rigOpts struct {
	log      LogConfig
	l1Policy WritePolicy
	l1Size   uint64
	l2Size   uint64
}

func newRig(t tb, o rigOpts) *rig {
	t.Helper()
	env := sim.NewEnv(1)
	mem, err := memory.NewPhysical(4 << 20)
	require.NoError(t, err)
	o.log.Base = logBase
	o.log.LineSize = testLine
	if o.log.Size == 0 {
		o.log.Size = 64 << 10
	}
	if o.l1Size == 0 {
		o.l1Size = 1 << 10
	}
	if o.l2Size == 0 {
		o.l2Size = 4 << 10
	}
	ctl, err := NewController(env.Scope("imlog"), mem, o.log)
	require.NoError(t, err)
	ctl.SetBackedUp(backedVM, true)
	l1, err := New(env.Scope("l1"), Config{Size: o.l1Size, LineSize: testLine, Ways: 2, WritePolicy: o.l1Policy, Latency: 1, TrackThread: o.log.TrackThread})
	require.NoError(t, err)
	l2, err := New(env.Scope("l2"), Config{Size: o.l2Size, LineSize: testLine, Ways: 4, Latency: 10, TrackThread: o.log.TrackThread})
	require.NoError(t, err)
	ctl.AddCache(l1)
	ctl.AddCache(l2)
	port, err := NewPort(sim.GHz, []*Cache{l1, l2}, newTestDRAM(t, env), ctl)
	require.NoError(t, err)
	return &rig{env: env, mem: mem, ctl: ctl, port: port, l1: l1, l2: l2}
}

func (r *rig) store(addr uint64, vm uint16, mode Mode) sim.Time {
	return r.port.Access(r.env.Engine.Now(), Access{Addr: addr, Write: true, VM: vm, Mode: mode})
}

func (r *rig) drain() []uint64 {
	var out []uint64
	r.ctl.Drain(func(a uint64, _ uint16) { out = append(out, a) })
	return out
}

func (r *rig) stat(t *testing.T, name string) uint64 { return stat(t, r.env, "imlog", name) }

func TestStep430GuestStoreOfBackedUpVMSetsTheFlag(t *testing.T) {
	r := newRig(t, rigOpts{})
	r.store(0x1000, backedVM, Guest)
	row, ok := r.l1.Probe(0x1000)
	require.True(t, ok)
	require.True(t, row.Dirty)
	require.True(t, row.IMF)
	require.Equal(t, uint16(backedVM), row.Owner)
	require.Equal(t, uint64(1), r.stat(t, "flag_sets"))
	// A second store to the flagged line sets nothing new.
	r.store(0x1008, backedVM, Guest)
	require.Equal(t, uint64(1), r.stat(t, "flag_sets"))
	// Loads never set flags.
	r.port.Access(0, Access{Addr: 0x2000, VM: backedVM})
	row, _ = r.l1.Probe(0x2000)
	require.False(t, row.IMF)
	require.False(t, row.Dirty)
}

func TestStep425Exemptions(t *testing.T) {
	r := newRig(t, rigOpts{})
	// Privilege mode: the hypervisor writing on behalf of a backed-up VM.
	r.store(0x1000, backedVM, Hypervisor)
	// A VM that is not backed up.
	r.store(0x2000, unbackedVM, Guest)
	for _, a := range []uint64{0x1000, 0x2000} {
		row, ok := r.l1.Probe(a)
		require.True(t, ok)
		require.True(t, row.Dirty, "the dirty bit follows normal rules")
		require.False(t, row.IMF)
	}
	require.Equal(t, uint64(1), r.r(t, "exempt_hypervisor"))
	require.Equal(t, uint64(1), r.r(t, "exempt_not_backed_up"))
	require.Zero(t, r.r(t, "flag_sets"))
	// Turning backup off for a VM stops new flags.
	r.ctl.SetBackedUp(backedVM, false)
	require.False(t, r.ctl.BackedUp(backedVM))
	r.store(0x3000, backedVM, Guest)
	row, _ := r.l1.Probe(0x3000)
	require.False(t, row.IMF)
	// Nothing flagged: a scan logs nothing.
	_, flagged, _ := r.ctl.Scan(0)
	require.Zero(t, flagged)
	require.Empty(t, r.drain())
}

func (r *rig) r(t *testing.T, name string) uint64 { return r.stat(t, name) }

func TestStep440EvictionLogsTheAddressOnly(t *testing.T) {
	r := newRig(t, rigOpts{})
	// L1: 1 KiB, 2 ways, 4 sets: lines 512 bytes apart share a set.
	r.store(0x1000, backedVM, Guest)
	r.port.Access(0, Access{Addr: 0x1200})
	r.port.Access(0, Access{Addr: 0x1400}) // evicts 0x1000 from L1
	_, inL1 := r.l1.Probe(0x1000)
	require.False(t, inL1)
	require.Equal(t, uint64(1), r.stat(t, "evict_entries"))
	require.Equal(t, uint64(1), stat(t, r.env, "l1", "flagged_evictions"))
	// Data follows normal write-back: L2 now holds the line dirty, without
	// a flag (the flag was cleared once the address was logged).
	row, ok := r.l2.Probe(0x1000)
	require.True(t, ok)
	require.True(t, row.Dirty)
	require.False(t, row.IMF)
	// The log holds the address, in simulated memory at the initial address.
	require.Equal(t, uint64(0x1000), r.mem.ReadU64(logBase))
	require.Equal(t, []uint64{0x1000}, r.drain())
	// A checkpoint scan finds nothing more.
	_, flagged, _ := r.ctl.Scan(0)
	require.Zero(t, flagged)
}

func TestCheckpointScanLogsAllFlaggedLinesAndClearsFlags(t *testing.T) {
	r := newRig(t, rigOpts{l1Policy: WriteThrough})
	addrs := []uint64{0x0, 0x80, 0x4000, 0x10080}
	for _, a := range addrs {
		r.store(a, backedVM, Guest)
	}
	r.store(0x8000, unbackedVM, Guest)
	// Flags live only in the write-back L2 beneath the write-through L1.
	require.Zero(t, r.l1.FlaggedLines())
	require.Equal(t, len(addrs), r.l2.FlaggedLines())
	lines, flagged, cycles := r.ctl.Scan(5 * sim.Microsecond)
	// Only the level that holds flags is scanned: 4 KiB / 128 B = 32 rows.
	require.Equal(t, 32, lines)
	require.Equal(t, len(addrs), flagged)
	require.Zero(t, cycles, "ScanCyclesPerLine is 0 in this rig")
	require.Zero(t, r.l2.FlaggedLines())
	for _, a := range addrs {
		row, _ := r.l2.Probe(a)
		require.True(t, row.Dirty, "a scan leaves dirty bits alone")
	}
	require.ElementsMatch(t, addrs, r.drain())
	require.Equal(t, uint64(len(addrs)), r.stat(t, "scan_entries"))
	require.Equal(t, uint64(32), r.stat(t, "scan_lines"))
}

// TestFlushLogsFlaggedLinesAndEmptiesTheLevels: a flush invalidates every
// valid row of every attached level, logging each flagged one as an
// eviction would, so no modification escapes the log.
func TestFlushLogsFlaggedLinesAndEmptiesTheLevels(t *testing.T) {
	r := newRig(t, rigOpts{})
	addrs := []uint64{0x0, 0x80, 0x4000}
	for _, a := range addrs {
		r.store(a, backedVM, Guest)
	}
	r.store(0x8000, unbackedVM, Guest)
	valid := 0
	for _, c := range []*Cache{r.l1, r.l2} {
		c.Rows(func(Row) { valid++ })
	}
	require.Equal(t, valid, r.ctl.Flush(sim.Microsecond))
	for _, c := range []*Cache{r.l1, r.l2} {
		n := 0
		c.Rows(func(Row) { n++ })
		require.Zero(t, n, c.Name())
	}
	require.ElementsMatch(t, addrs, r.drain())
	require.Equal(t, uint64(len(addrs)), r.stat(t, "evict_entries"))
}

func TestScanCostIsProportionalToRowsExamined(t *testing.T) {
	for _, tc := range []struct {
		l1Policy       WritePolicy
		l1Size, l2Size uint64
		rows           int
	}{
		// Stores stop at a write-back L1: only its rows can hold flags and
		// only they are scanned, whatever the size of L2.
		{WriteBack, 1 << 10, 2 << 10, 8},
		{WriteBack, 1 << 10, 8 << 10, 8},
		{WriteBack, 4 << 10, 8 << 10, 32},
		// Beneath a write-through L1 the flags, and the scan, are in L2.
		{WriteThrough, 1 << 10, 2 << 10, 16},
		{WriteThrough, 1 << 10, 8 << 10, 64},
	} {
		r := newRig(t, rigOpts{l1Policy: tc.l1Policy, l1Size: tc.l1Size, l2Size: tc.l2Size, log: LogConfig{ScanCyclesPerLine: 3}})
		require.Equal(t, tc.l1Policy == WriteBack, r.l1.HoldsFlags())
		require.Equal(t, tc.l1Policy == WriteThrough, r.l2.HoldsFlags())
		lines, _, cycles := r.ctl.Scan(0)
		require.Equal(t, tc.rows, lines, "%+v", tc)
		require.Equal(t, uint64(3*lines), cycles)
	}
}

func TestRegistersAcrossWrapAround(t *testing.T) {
	// 1 KiB of log: 128 slots, 127 entries. No de-duplication, no batching.
	r := newRig(t, rigOpts{log: LogConfig{Size: 1 << 10, Overflow: Drop}})
	reg := r.ctl.Registers()
	require.Equal(t, Registers{Initial: logBase, Size: 1 << 10, Next: logBase, Wrap: logBase}, reg)
	require.Equal(t, uint64(127), r.ctl.Capacity())
	// Flag 100 lines and scan: 100 entries.
	for i := uint64(0); i < 100; i++ {
		r.store(0x10000+i*testLine, backedVM, Guest)
	}
	r.ctl.Scan(0)
	reg = r.ctl.Registers()
	require.Equal(t, uint64(logBase+100*8), reg.Next)
	require.Equal(t, uint64(logBase), reg.Wrap)
	require.Equal(t, uint64(100), r.ctl.Len())
	require.Len(t, r.drain(), 100)
	reg = r.ctl.Registers()
	require.Equal(t, reg.Next, reg.Wrap)
	require.Zero(t, r.ctl.Len())
	// 60 more entries wrap: 28 slots remain before the end of the buffer.
	var want []uint64
	for i := uint64(0); i < 60; i++ {
		a := 0x20000 + i*testLine
		want = append(want, a)
		r.store(a, backedVM, Guest)
	}
	r.ctl.Scan(0)
	reg = r.ctl.Registers()
	require.Equal(t, uint64(logBase+32*8), reg.Next, "100+60 = 160 = 128 + 32")
	require.Equal(t, uint64(logBase+100*8), reg.Wrap)
	// The entries straddle the end of the buffer and come back in order.
	got := r.drain()
	require.ElementsMatch(t, want, got)
	require.Equal(t, want[0], r.mem.ReadU64(logBase+100*8))
	require.Equal(t, want[28], r.mem.ReadU64(logBase))
	require.Zero(t, r.stat(t, "overflows"))
}

func TestLogFullWithWrapAroundHoldsCapacityMinusNothing(t *testing.T) {
	// Fill exactly to capacity after a wrap: the controller never overtakes
	// the wrap pointer, the 128th entry is dropped.
	r := newRig(t, rigOpts{log: LogConfig{Size: 1 << 10, Overflow: Drop}})
	for i := uint64(0); i < 50; i++ {
		r.store(0x10000+i*testLine, backedVM, Guest)
	}
	r.ctl.Scan(0)
	r.drain()
	for i := uint64(0); i < 128; i++ {
		r.store(0x40000+i*testLine, backedVM, Guest)
	}
	r.ctl.Scan(0)
	require.Equal(t, uint64(127), r.ctl.Len())
	reg := r.ctl.Registers()
	require.Equal(t, reg.Wrap-8, reg.Next, "full: next is one slot behind wrap")
	require.Equal(t, uint64(1), r.stat(t, "overflows"))
	require.Equal(t, uint64(1), r.stat(t, "dropped"))
	require.True(t, r.ctl.DataLoss())
	require.Len(t, r.drain(), 127)
}

func TestStallPolicyDrainsAndChargesTheCore(t *testing.T) {
	r := newRig(t, rigOpts{log: LogConfig{Size: 1 << 10, Overflow: Stall}})
	var drained []uint64
	calls := 0
	r.ctl.OnFull = func(now sim.Time) uint64 {
		calls++
		r.ctl.Drain(func(a uint64, _ uint16) { drained = append(drained, a) })
		return 500
	}
	require.NoError(t, r.ctl.Check())
	// Each store to a new line of one L1 set evicts a flagged line once the
	// set is full: 2 ways, 4 sets, so stores 512 bytes apart.
	var worst sim.Time
	for i := uint64(0); i < 200; i++ {
		now := r.env.Engine.Now()
		done := r.store(i*512, backedVM, Guest)
		worst = max(worst, done-now)
	}
	require.Equal(t, 1, calls)
	require.Equal(t, uint64(1), r.stat(t, "overflows"))
	require.Equal(t, uint64(500), r.stat(t, "stall_cycles"))
	require.Zero(t, r.stat(t, "dropped"))
	require.GreaterOrEqual(t, worst, 500*sim.Nanosecond, "the stalled access is delayed by the drain")
	r.ctl.Scan(0)
	drained = append(drained, r.drain()...)
	require.Len(t, drained, 200)
}

func TestInterruptPolicyRaisesOnceAtTheGuardBand(t *testing.T) {
	r := newRig(t, rigOpts{log: LogConfig{Size: 1 << 10, Overflow: InterruptCheckpoint, GuardEntries: 27}})
	require.Error(t, r.ctl.Check())
	var at []uint64
	r.ctl.OnInterrupt = func(now sim.Time) { at = append(at, r.ctl.Len()) }
	r.ctl.OnFull = func(now sim.Time) uint64 { r.drain(); return 0 }
	require.NoError(t, r.ctl.Check())
	for i := uint64(0); i < 110; i++ {
		r.store(0x10000+i*testLine, backedVM, Guest)
	}
	r.ctl.Scan(0)
	require.Equal(t, []uint64{100}, at, "127 - 27 = 100 entries raise it, once")
	require.Equal(t, uint64(1), r.stat(t, "interrupts"))
	r.drain()
	// Re-armed by the drain; if the hypervisor ignores it the log stalls.
	for i := uint64(0); i < 200; i++ {
		r.store(0x40000+i*testLine, backedVM, Guest)
	}
	r.ctl.Scan(0)
	require.Equal(t, uint64(2), r.stat(t, "interrupts"))
	require.Equal(t, uint64(1), r.stat(t, "overflows"))
	require.Zero(t, r.stat(t, "dropped"))
}

func TestDropPolicyNeedsNoHook(t *testing.T) {
	r := newRig(t, rigOpts{log: LogConfig{Overflow: Drop}})
	require.NoError(t, r.ctl.Check())
	r = newRig(t, rigOpts{log: LogConfig{Overflow: Stall}})
	require.ErrorContains(t, r.ctl.Check(), "needs an OnFull drain hook")
}

func TestDeduplication(t *testing.T) {
	// The same line flagged, evicted, refetched and flagged again is logged
	// once while it is in the window; after a drain it is logged again.
	r := newRig(t, rigOpts{log: LogConfig{DedupWindow: 4}, l1Size: 256, l2Size: 512}) // L1: 1 set of 2, L2: 1 set of 4
	for range 3 {
		r.store(0, backedVM, Guest)
		r.port.Access(0, Access{Addr: 0x1000})
		r.port.Access(0, Access{Addr: 0x2000})
		r.port.Access(0, Access{Addr: 0x3000})
		r.port.Access(0, Access{Addr: 0x4000})
		r.port.Access(0, Access{Addr: 0x5000})
	}
	require.Equal(t, uint64(1), r.stat(t, "entries"))
	require.Equal(t, uint64(2), r.stat(t, "dedup_filtered"))
	require.Equal(t, []uint64{0}, r.drain())
	r.store(0, backedVM, Guest)
	r.ctl.Scan(0)
	require.Equal(t, []uint64{0}, r.drain())
	// Without a window every eviction is an entry.
	r = newRig(t, rigOpts{l1Size: 256, l2Size: 512})
	for range 3 {
		r.store(0, backedVM, Guest)
		for _, a := range []uint64{0x1000, 0x2000, 0x3000, 0x4000, 0x5000} {
			r.port.Access(0, Access{Addr: a})
		}
	}
	require.Equal(t, []uint64{0, 0, 0}, r.drain())
}

func TestBatchingWritesWholeLines(t *testing.T) {
	for _, batch := range []bool{false, true} {
		r := newRig(t, rigOpts{log: LogConfig{Batch: batch}})
		for i := uint64(0); i < 40; i++ {
			r.store(0x10000+i*testLine, backedVM, Guest)
		}
		r.ctl.Scan(0)
		if batch {
			// 16 entries per 128-byte line: two full lines written at once;
			// the last 8 wait in the buffer until the drain writes them.
			require.Equal(t, uint64(2), r.stat(t, "log_writes"))
			require.Equal(t, uint64(32*8), r.stat(t, "log_bytes"))
			require.Equal(t, uint64(40), r.ctl.Len())
		} else {
			require.Equal(t, uint64(40), r.stat(t, "log_writes"))
			require.Equal(t, uint64(40*8), r.stat(t, "log_bytes"))
		}
		got := r.drain()
		require.Len(t, got, 40)
		require.Equal(t, uint64(0x10000), got[0])
		require.Equal(t, uint64(40*8), r.stat(t, "log_bytes"))
		require.Positive(t, stat(t, r.env, "dram", "writes"), "log writes occupy DRAM")
	}
}

func TestBatchedWritesWrapAround(t *testing.T) {
	// 1 KiB log (127 entries) with 16-entry batches: drain after 100, then
	// 60 more wrap across the end inside one batch.
	r := newRig(t, rigOpts{log: LogConfig{Size: 1 << 10, Batch: true, Overflow: Drop}})
	for i := uint64(0); i < 100; i++ {
		r.store(0x10000+i*testLine, backedVM, Guest)
	}
	r.ctl.Scan(0)
	r.drain()
	var want []uint64
	for i := uint64(0); i < 60; i++ {
		a := 0x40000 + i*testLine
		want = append(want, a)
		r.store(a, backedVM, Guest)
	}
	r.ctl.Scan(0)
	// Evictions log some lines before the scan logs the rest, so the order
	// is not the store order; each line is there exactly once.
	got := r.drain()
	require.Len(t, got, len(want))
	require.ElementsMatch(t, want, got)
	require.Zero(t, r.stat(t, "dropped"))
}

func TestThreadIDs(t *testing.T) {
	r := newRig(t, rigOpts{log: LogConfig{TrackThread: true}})
	r.ctl.SetThreadBackedUp(7, true)
	r.port.Access(0, Access{Addr: 0x100, Write: true, VM: backedVM, Thread: 7})
	r.port.Access(0, Access{Addr: 0x200, Write: true, VM: backedVM, Thread: 8}) // thread not backed up
	row, _ := r.l1.Probe(0x100)
	require.True(t, row.IMF)
	require.Equal(t, uint16(7), row.Thread)
	row, _ = r.l1.Probe(0x200)
	require.False(t, row.IMF)
	r.ctl.Scan(0)
	var threads []uint16
	var addrs []uint64
	r.ctl.Drain(func(a uint64, th uint16) { addrs, threads = append(addrs, a), append(threads, th) })
	require.Equal(t, []uint64{0x100}, addrs)
	require.Equal(t, []uint16{7}, threads)
}

func TestNewControllerErrors(t *testing.T) {
	mem, err := memory.NewPhysical(1 << 20)
	require.NoError(t, err)
	env := sim.NewEnv(1)
	for i, tc := range []struct {
		cfg  LogConfig
		want string
	}{
		{LogConfig{Base: 0, Size: 4096, LineSize: 100}, "line size 100"},
		{LogConfig{Base: 0, Size: 1000, LineSize: 128}, "not a positive multiple of the line size"},
		{LogConfig{Base: 0, Size: 8, LineSize: 8}, "holds no entry"},
		{LogConfig{Base: 64, Size: 4096, LineSize: 128}, "not aligned"},
		{LogConfig{Base: 1 << 20, Size: 4096, LineSize: 128}, "outside physical memory"},
		{LogConfig{Base: 0, Size: 1024, LineSize: 128, GuardEntries: 127}, "guard entries 127 is not allowed; must be 0..126"},
		{LogConfig{Base: 0, Size: 1024, LineSize: 128, DedupWindow: -1}, "dedup window"},
	} {
		_, err := NewController(env.Scope("c"+string(rune('a'+i))), mem, tc.cfg)
		require.ErrorContains(t, err, tc.want)
	}
	_, err = NewController(env.Scope("x"), nil, LogConfig{Size: 1024, LineSize: 128})
	require.ErrorContains(t, err, "no physical memory")
}

// TestLoggedAddressesCoverEveryFlaggedStoreProperty checks the mechanism's
// invariant over random hierarchies and store sequences: after a scan and a
// drain, the drained addresses are exactly the lines stored to by a
// backed-up VM in guest mode since the previous drain (as a set), nothing
// else, no row is left flagged, and no write-through row is ever flagged.
func TestLoggedAddressesCoverEveryFlaggedStoreProperty(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		o := rigOpts{
			l1Policy: rapid.SampledFrom([]WritePolicy{WriteBack, WriteThrough}).Draw(rt, "l1"),
			l1Size:   rapid.SampledFrom([]uint64{256, 1 << 10}).Draw(rt, "l1size"),
			l2Size:   rapid.SampledFrom([]uint64{512, 4 << 10}).Draw(rt, "l2size"),
			log: LogConfig{
				Size:        rapid.SampledFrom([]uint64{1 << 10, 4 << 10}).Draw(rt, "logsize"),
				DedupWindow: rapid.IntRange(0, 8).Draw(rt, "dedup"),
				Batch:       rapid.Bool().Draw(rt, "batch"),
				Overflow:    Stall,
			},
		}
		r := newRig(rt, o)
		want := map[uint64]bool{}
		got := map[uint64]bool{}
		r.ctl.OnFull = func(sim.Time) uint64 {
			r.ctl.Drain(func(a uint64, _ uint16) { got[a] = true })
			return 1
		}
		epochs := rapid.IntRange(1, 4).Draw(rt, "epochs")
		for e := 0; e < epochs; e++ {
			ops := rapid.IntRange(0, 300).Draw(rt, "ops")
			for i := 0; i < ops; i++ {
				addr := uint64(rapid.IntRange(0, 511).Draw(rt, "line"))*testLine + 8
				write := rapid.Bool().Draw(rt, "write")
				vm := rapid.SampledFrom([]uint16{backedVM, unbackedVM}).Draw(rt, "vm")
				mode := rapid.SampledFrom([]Mode{Guest, Guest, Hypervisor}).Draw(rt, "mode")
				r.port.Access(0, Access{Addr: addr, Write: write, VM: vm, Mode: mode})
				if write && vm == backedVM && mode == Guest {
					want[addr-8] = true
				}
				if o.l1Policy == WriteThrough {
					require.Zero(rt, r.l1.FlaggedLines())
				}
			}
			r.ctl.Scan(0)
			r.ctl.Drain(func(a uint64, _ uint16) { got[a] = true })
			require.Equal(rt, want, got, "epoch %d", e)
			require.Zero(rt, r.l1.FlaggedLines()+r.l2.FlaggedLines())
			want, got = map[uint64]bool{}, map[uint64]bool{}
		}
	})
}

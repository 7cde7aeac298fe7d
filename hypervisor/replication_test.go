package hypervisor

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/twinsim/twinsim/cache"
	"github.com/twinsim/twinsim/sim"
)

// replicated returns a test host whose checkpoints travel over a dedicated
// link of bytesPerSec and 10 us each way, copied and applied at 100 GB/s.
func replicated(t *testing.T, method Method, bytesPerSec uint64, maxInFlight int) *testHost {
	t.Helper()
	return replicatedLog(t, method, bytesPerSec, maxInFlight, 64<<10, cache.Stall)
}

// replicatedLog is replicated with the given modification log.
func replicatedLog(t *testing.T, method Method, bytesPerSec uint64, maxInFlight int, logSize uint64, overflow cache.OverflowPolicy) *testHost {
	t.Helper()
	return newTestHostWith(t, logSize, overflow, func(host sim.Scope, bc *BackupConfig) {
		link, err := NewLinkTransport(host.Child("replication"), 10*sim.Microsecond, bytesPerSec)
		require.NoError(t, err)
		bc.Method = method
		bc.Link = &ReplicationConfig{CopyBytesPerSec: fast, Transport: link, ApplyBytesPerSec: fast, AckBytes: 64, MaxInFlight: maxInFlight}
	})
}

// fast is the copy and apply bandwidth of replicated hosts.
const fast = 100e9

// TestReplicationCommitsAfterTheSecondaryApplies: a checkpoint of three
// logged lines pauses the VM for the suspend, the scan, the drain and the
// copy; then travels, is applied and acknowledged, and only then commits —
// at the time these add up to, with the secondary already holding the
// epoch's state and the data.
func TestReplicationCommitsAfterTheSecondaryApplies(t *testing.T) {
	h := replicated(t, LineLog, 1e9, 1)
	for i, gpa := range []uint64{0, 4096, 8192} {
		h.store(h.protected, gpa, uint64(i+7), cache.Guest)
	}
	var commits []uint64
	var at []sim.Time
	h.backup.OnCommit = func(e uint64) {
		require.Greater(t, h.backup.Backed(), e, "the secondary holds the epoch before it is acknowledged")
		commits, at = append(commits, e), append(at, h.env.Engine.Now())
	}
	h.env.Engine.RunUntil(sim.Millisecond + 500*sim.Microsecond)
	require.Equal(t, []uint64{0}, commits)
	require.Equal(t, uint64(1), h.backup.Backed())
	require.Equal(t, uint64(8), h.replica.ReadU64(4096))

	bytes := uint64(3 * testLine)
	pause := h.backup.PausedUntil() - sim.Millisecond
	copyTime := sim.BytesTime(bytes, fast)
	require.Greater(t, pause, 10*sim.Microsecond+copyTime, "suspend, scan and drain, and the copy")
	want := sim.Millisecond + pause +
		sim.BytesTime(bytes+3*8, 1e9) + 10*sim.Microsecond + // the lines and their addresses
		sim.BytesTime(bytes, fast) + // applied
		sim.BytesTime(64, 1e9) + 10*sim.Microsecond // acknowledged
	require.Equal(t, want, at[0])
	require.Equal(t, float64(want-sim.Millisecond), h.stat("commit_delay.mean"))
}

// TestFullCopyPausesForTheWholeImage: a full-image checkpoint copies the
// whole image into the send buffer while the VM is paused, not only the
// pages it wrote.
func TestFullCopyPausesForTheWholeImage(t *testing.T) {
	h := replicated(t, Full, 10e9, 1)
	h.store(h.protected, 0, 1, cache.Guest)
	h.env.Engine.RunUntil(sim.Millisecond + sim.Microsecond)
	image := h.protected.Size
	require.Greater(t, h.backup.PausedUntil(), sim.Millisecond+10*sim.Microsecond+sim.BytesTime(image, fast))
	require.Equal(t, float64(image), h.stat("replicated_bytes"))
}

// TestSlowReplicationDefersCheckpoints: when the link cannot carry a
// checkpoint within an interval, the next checkpoint waits for the
// acknowledgement (ha.max_in_flight = 1) instead of queueing behind it,
// and is taken as soon as the acknowledgement arrives.
func TestSlowReplicationDefersCheckpoints(t *testing.T) {
	h := replicated(t, Full, 1e9, 1) // 4 MiB a checkpoint: 4.2 ms on the wire
	var commitAt []sim.Time
	h.backup.OnCommit = func(uint64) { commitAt = append(commitAt, h.env.Engine.Now()) }
	h.env.Engine.RunUntil(3 * sim.Millisecond)
	require.Equal(t, 1.0, h.stat("checkpoints"))
	require.Equal(t, 1.0, h.stat("deferred_checkpoints"))
	require.Equal(t, sim.MaxTime, h.backup.NextCheckpoint(), "no time while deferred")
	require.Empty(t, commitAt)

	// The first acknowledgement comes at about 5.3 ms: the second
	// checkpoint is taken then, and the third, due an interval later, is
	// deferred in its turn.
	h.env.Engine.RunUntil(7 * sim.Millisecond)
	require.Len(t, commitAt, 1)
	require.Equal(t, 2.0, h.stat("checkpoints"), "one more, taken at the first acknowledgement")
	require.Equal(t, float64(commitAt[0]-2*sim.Millisecond), h.stat("deferral.mean"), "deferred from when it fell due")
	require.Equal(t, 2.0, h.stat("deferred_checkpoints"))

	// With room for more in flight, none is deferred and they queue.
	q := replicated(t, Full, 1e9, 8)
	q.env.Engine.RunUntil(8 * sim.Millisecond)
	require.Zero(t, q.stat("deferred_checkpoints"))
	require.Greater(t, q.stat("checkpoints"), 2.0)
}

// TestLogInterruptWhileDeferred: a log-overflow interrupt while a
// checkpoint is deferred does not bring another forward (the deferred one
// runs at the acknowledgement); it is not counted as an early checkpoint.
func TestLogInterruptWhileDeferred(t *testing.T) {
	h := replicatedLog(t, Full, 1e9, 1, 4<<10, cache.InterruptCheckpoint)
	h.env.Engine.RunUntil(2*sim.Millisecond + sim.Microsecond) // the second checkpoint is deferred
	require.Equal(t, 1.0, h.stat("deferred_checkpoints"))
	for i := range uint64(2000) { // more lines than the 512-entry log holds
		h.store(h.protected, i*testLine*8, i, cache.Guest)
	}
	irq, ok := h.env.Stats.Lookup("host0.imlog", "interrupts")
	require.True(t, ok)
	require.Positive(t, irq, "the log raised its interrupt")
	require.Zero(t, h.stat("early_checkpoints"))
	require.Equal(t, 1.0, h.stat("checkpoints"))
	h.env.Engine.RunUntil(7 * sim.Millisecond)
	require.Equal(t, 2.0, h.stat("checkpoints"), "taken at the acknowledgement")
	require.Zero(t, h.stat("image_mismatches"))
}

func TestReplicationConfigErrors(t *testing.T) {
	link, err := NewLinkTransport(sim.NewEnv(1).Scope("r"), 0, 1e9)
	require.NoError(t, err)
	bc := BackupConfig{Interval: sim.Millisecond, LineSize: testLine,
		Link: &ReplicationConfig{CopyBytesPerSec: 1e9, Transport: link, ApplyBytesPerSec: 1e9, AckBytes: 64}}
	require.NoError(t, bc.Validate(), "0 in flight means 1")
	bc.Link.MaxInFlight = -1
	require.ErrorContains(t, bc.Validate(), "at least 1 checkpoint in flight")
	bc.Link.MaxInFlight, bc.Link.ApplyBytesPerSec = 1, 0
	require.ErrorContains(t, bc.Validate(), "copy and apply bandwidths")
}

package hypervisor

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/twinsim/twinsim/cache"
	"github.com/twinsim/twinsim/memory"
	"github.com/twinsim/twinsim/sim"
)

const (
	testLine = 128
	testPage = 64 << 10
)

// testHost is one core with a write-back L1 and L2, two VMs (the first backed
// up) and a small modification log.
type testHost struct {
	env              *sim.Env
	mem, replica     *memory.Physical
	ctl              *cache.Controller
	port             *cache.Port
	backup           *Backup
	protected, other *VM
}

func newTestHost(t *testing.T, logSize uint64, overflow cache.OverflowPolicy) *testHost {
	t.Helper()
	return newTestHostWith(t, logSize, overflow, func(sim.Scope, *BackupConfig) {})
}

// newTestHostWith is newTestHost with the checkpoint policy changed by mod,
// which is given the host's scope.
func newTestHostWith(t *testing.T, logSize uint64, overflow cache.OverflowPolicy, mod func(sim.Scope, *BackupConfig)) *testHost {
	t.Helper()
	env := sim.NewEnv(1)
	h := &testHost{env: env}
	var err error
	h.mem, err = memory.NewPhysical(16 << 20)
	require.NoError(t, err)
	h.replica, err = memory.NewPhysical(16 << 20)
	require.NoError(t, err)
	h.protected, err = NewVM(1, "protected", true, 0, 4<<20, testPage)
	require.NoError(t, err)
	h.other, err = NewVM(2, "other", false, 4<<20, 4<<20, testPage)
	require.NoError(t, err)
	host := env.Scope("host0")
	h.ctl, err = cache.NewController(host.Child("imlog"), h.mem, cache.LogConfig{
		Base: 12 << 20, Size: logSize, LineSize: testLine, Overflow: overflow, ScanCyclesPerLine: 1})
	require.NoError(t, err)
	l1, err := cache.New(host.Child("l1"), cache.Config{Size: 4 << 10, LineSize: testLine, Ways: 2, Latency: 1})
	require.NoError(t, err)
	l2, err := cache.New(host.Child("l2"), cache.Config{Size: 16 << 10, LineSize: testLine, Ways: 4, Latency: 10})
	require.NoError(t, err)
	h.ctl.AddCache(l1)
	h.ctl.AddCache(l2)
	dram, err := memory.NewDRAM(host.Child("dram"), memory.DRAMConfig{Latency: 50 * sim.Nanosecond, Channels: 1, BytesPerSec: 10e9, InterleaveBytes: 4096})
	require.NoError(t, err)
	h.port, err = cache.NewPort(sim.GHz, []*cache.Cache{l1, l2}, dram, h.ctl)
	require.NoError(t, err)
	bc := BackupConfig{Interval: sim.Millisecond, Suspend: 10 * sim.Microsecond,
		DrainCyclesPerEntry: 4, LineSize: testLine, Verify: true}
	mod(host, &bc)
	h.backup, err = NewBackup(host.Child("backup"), bc, sim.GHz, h.ctl, h.mem, h.replica, []*VM{h.protected, h.other})
	require.NoError(t, err)
	h.backup.Start()
	return h
}

// store writes v at guest-physical gpa of vm, in the given mode, through the
// cache, and tells the baseline trackers as a vCPU does.
func (h *testHost) store(vm *VM, gpa, v uint64, mode cache.Mode) {
	pa := vm.Base + gpa
	h.mem.WriteU64(pa, v)
	h.port.Access(h.env.Engine.Now(), cache.Access{Addr: pa, Write: true, Mode: mode, VM: vm.ID})
	if vm.BackedUp && mode == cache.Guest {
		h.backup.NoteStore(0, pa)
	}
}

func (h *testHost) stat(name string) float64 {
	v, ok := h.env.Stats.Lookup("host0.backup", name)
	if !ok {
		panic(name)
	}
	return v
}

func TestCheckpointReplicatesExactlyTheLoggedLines(t *testing.T) {
	h := newTestHost(t, 64<<10, cache.Stall)
	// Three lines in one 4 KiB page, one line in another 64 KiB page.
	for i, gpa := range []uint64{0, 128, 1000, 200 << 10} {
		h.store(h.protected, gpa, uint64(i+1), cache.Guest)
	}
	// The unprotected VM's store is not replicated.
	h.store(h.other, 0, 99, cache.Guest)
	h.env.Engine.RunUntil(sim.Millisecond)

	require.Equal(t, 1.0, h.stat("checkpoints"))
	require.Equal(t, float64(4*testLine), h.stat("bytes_line_log"))
	require.Equal(t, float64(2*4096), h.stat("bytes_page_4k"))
	require.Equal(t, float64(2*65536), h.stat("bytes_page_64k"))
	require.Equal(t, float64(4<<20), h.stat("bytes_full_copy"))
	require.Zero(t, h.stat("image_mismatches"))
	// Four entries: the other VM's store evicted line 0 from its L1 set
	// (logged at eviction), the checkpoint scan of the 32 rows of the
	// write-back L1 (the level that holds the flags, 1 cycle a row) found
	// the other three.
	require.Equal(t, 4.0, h.stat("mean_log_entries"))
	require.Equal(t, 0.25, h.stat("evict_share"))
	require.Equal(t, 32.0, h.stat("mean_scan_cycles"))
	require.Equal(t, uint64(4), h.replica.ReadU64(200<<10))
	require.Zero(t, h.replica.ReadU64(h.other.Base), "the VM that is not backed up is not replicated")
	// The VMs resume after the suspend plus scan and drain cycles.
	require.Greater(t, h.backup.PausedUntil(), sim.Millisecond+10*sim.Microsecond)
	require.Equal(t, 2*sim.Millisecond, h.backup.NextCheckpoint())
}

func TestHypervisorStoreIntoImageIsNotLogged(t *testing.T) {
	// A privilege-mode store never sets the flag (step 430), so a store the
	// hypervisor makes inside a backed-up image is not replicated: the
	// image check catches it. This is why hypervisor stores target
	// hypervisor memory in the scenarios.
	h := newTestHost(t, 64<<10, cache.Stall)
	h.store(h.protected, 4096, 7, cache.Hypervisor)
	h.env.Engine.RunUntil(sim.Millisecond)
	require.Zero(t, h.stat("bytes_line_log"))
	require.Equal(t, 1.0, h.stat("image_mismatches"))
}

func TestNextEpochLogsOnlyNewStores(t *testing.T) {
	h := newTestHost(t, 64<<10, cache.Stall)
	h.store(h.protected, 0, 1, cache.Guest)
	h.env.Engine.RunUntil(sim.Millisecond)
	h.env.Engine.RunUntil(h.backup.PausedUntil())
	h.store(h.protected, 4096, 2, cache.Guest)
	h.env.Engine.RunUntil(2 * sim.Millisecond)
	require.Equal(t, 2.0, h.stat("checkpoints"))
	require.Equal(t, float64(2*testLine), h.stat("bytes_line_log"))
	require.Zero(t, h.stat("image_mismatches"))
}

func TestStallPolicyDrainsIntoTheEpoch(t *testing.T) {
	// A 2 KiB log holds 255 entries; 4 KiB of L1 + 16 KiB of L2 hold 160
	// lines, so 600 distinct lines force evictions and a full log.
	h := newTestHost(t, 2<<10, cache.Stall)
	for i := uint64(0); i < 600; i++ {
		h.store(h.protected, i*testLine, i, cache.Guest)
	}
	h.env.Engine.RunUntil(sim.Millisecond)
	stalls, _ := h.env.Stats.Lookup("host0.backup", "stall_drains")
	require.Positive(t, stalls)
	require.Greater(t, h.stat("evict_share"), 0.5, "most of 600 lines leave 160 rows of cache before the checkpoint")
	require.Equal(t, float64(600*testLine), h.stat("bytes_line_log"))
	require.Zero(t, h.stat("image_mismatches"))
}

func TestDropPolicyLosesLinesAndIsDetected(t *testing.T) {
	h := newTestHost(t, 2<<10, cache.Drop)
	for i := uint64(0); i < 600; i++ {
		h.store(h.protected, i*testLine, i+1, cache.Guest)
	}
	h.env.Engine.RunUntil(sim.Millisecond)
	require.True(t, h.ctl.DataLoss())
	require.Less(t, h.stat("bytes_line_log"), float64(600*testLine))
	require.Equal(t, 1.0, h.stat("image_mismatches"))
}

func TestNewVMErrors(t *testing.T) {
	_, err := NewVM(0, "x", true, 0, testPage, testPage)
	require.ErrorContains(t, err, "id 0")
	_, err = NewVM(1, "x", true, 4096, testPage, testPage)
	require.ErrorContains(t, err, "not page aligned")
	vm, err := NewVM(3, "x", true, testPage, 2*testPage, testPage)
	require.NoError(t, err)
	require.True(t, vm.Contains(testPage))
	require.False(t, vm.Contains(3*testPage))
	pa, f := vm.PT.Translate(testPage+5, memory.Write)
	require.Nil(t, f)
	require.Equal(t, uint64(2*testPage+5), pa)
}

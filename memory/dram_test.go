package memory

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/twinsim/twinsim/sim"
)

// ddr is two channels of 25.6 GB/s (64 bytes take exactly 2500 ps), 50 ns
// latency, 4 KiB interleave.
var ddr = DRAMConfig{Latency: 50 * sim.Nanosecond, Channels: 2, BytesPerSec: 25_600_000_000, InterleaveBytes: 4096}

func newDRAM(t testing.TB, cfg DRAMConfig) (*sim.Env, *DRAM) {
	t.Helper()
	env := sim.NewEnv(1)
	d, err := NewDRAM(env.Scope("dram"), cfg)
	require.NoError(t, err)
	return env, d
}

func TestDRAMConfigValidate(t *testing.T) {
	tests := []struct {
		mod  func(c *DRAMConfig)
		want string
	}{
		{func(c *DRAMConfig) {}, ""},
		{func(c *DRAMConfig) { c.Latency = 0 }, ""},
		{func(c *DRAMConfig) { c.Channels = 0 }, "channels 0 must be at least 1"},
		{func(c *DRAMConfig) { c.Channels = -2 }, "channels -2 must be at least 1"},
		{func(c *DRAMConfig) { c.BytesPerSec = 0 }, "bytes_per_sec 0 must be positive"},
		{func(c *DRAMConfig) { c.InterleaveBytes = 0 }, "interleave_bytes 0 must be positive"},
	}
	for _, tt := range tests {
		c := ddr
		tt.mod(&c)
		err := c.Validate()
		_, nerr := NewDRAM(sim.NewEnv(1).Scope("dram"), c)
		if tt.want == "" {
			require.NoError(t, err)
			require.NoError(t, nerr)
			continue
		}
		require.EqualError(t, err, tt.want)
		require.EqualError(t, nerr, tt.want)
	}
}

func TestDRAMTiming(t *testing.T) {
	type acc struct {
		now   sim.Time
		addr  uint64
		bytes uint64
		done  sim.Time
	}
	slow := DRAMConfig{Latency: 0, Channels: 1, BytesPerSec: 3_000_000_000, InterleaveBytes: 64}
	tenG := DRAMConfig{Latency: 50 * sim.Nanosecond, Channels: 1, BytesPerSec: 10_000_000_000, InterleaveBytes: 64}
	tests := []struct {
		name string
		cfg  DRAMConfig
		accs []acc
	}{
		{"idle channel: transfer plus latency", ddr, []acc{{1000, 0, 64, 1000 + 2500 + 50000}}},
		{"zero bytes: latency alone", ddr, []acc{{7, 0, 0, 50007}}},
		{"back to back on one channel", ddr, []acc{
			{0, 0, 64, 52500}, {0, 64, 64, 55000}, {0, 128, 64, 57500}, {0, 4095, 64, 60000},
		}},
		{"channels proceed in parallel", ddr, []acc{
			{0, 0, 64, 52500}, {0, 4096, 64, 52500}, {0, 8192, 64, 55000}, {0, 3*4096 + 64, 64, 55000},
		}},
		{"arrival after the channel is free", ddr, []acc{{0, 0, 64, 52500}, {10000, 0, 64, 62500}}},
		{"arrival while the channel is busy", ddr, []acc{{0, 0, 6400, 300000}, {100000, 64, 64, 302500}}},
		{"serialisation rounds up", slow, []acc{{0, 0, 64, 21334}, {0, 0, 64, 42668}, {0, 64, 1, 42668 + 334}}},
		{"large transfer uses 128-bit arithmetic", tenG, []acc{{0, 0, 1 << 30, 107_374_182_400 + 50000}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, d := newDRAM(t, tt.cfg)
			for i, a := range tt.accs {
				require.Equal(t, a.done, d.Access(a.now, a.addr, a.bytes, i%2 == 1), "access %d", i)
			}
		})
	}
}

func TestDRAMBandwidthLimit(t *testing.T) {
	_, d := newDRAM(t, ddr)
	const n = 1000
	var done sim.Time
	for i := range uint64(n) {
		done = d.Access(0, i*64%4096, 64, false) // all on channel 0
	}
	transfer := done - ddr.Latency
	require.Equal(t, sim.Time(n*2500), transfer)
	// Achieved bandwidth equals the configured one exactly.
	require.Equal(t, ddr.BytesPerSec, uint64(n*64)*uint64(sim.Second)/uint64(transfer))
	require.Equal(t, sim.Time(n*2500), d.BusyUntil(0))
	require.Zero(t, d.BusyUntil(1))
}

func TestDRAMStats(t *testing.T) {
	env, d := newDRAM(t, ddr)
	require.Zero(t, stat(t, env, "dram", "utilization"))
	d.Access(0, 0, 64, false)      // ch0 [0, 2500), done 52500
	d.Access(0, 64, 128, true)     // ch0 [2500, 7500), waits 2500, done 57500
	d.Access(1000, 4096, 64, true) // ch1 [1000, 3500), done 53500
	require.Equal(t, 1.0, stat(t, env, "dram", "reads"))
	require.Equal(t, 2.0, stat(t, env, "dram", "writes"))
	require.Equal(t, 64.0, stat(t, env, "dram", "bytes_read"))
	require.Equal(t, 192.0, stat(t, env, "dram", "bytes_written"))
	require.Equal(t, 10000.0, stat(t, env, "dram", "busy_ps"))
	require.Equal(t, 3.0, stat(t, env, "dram", "queue_delay.count"))
	require.Equal(t, 2500.0, stat(t, env, "dram", "queue_delay.max"))
	require.Equal(t, 2500.0, stat(t, env, "dram", "queue_delay.sum"))
	require.InDelta(t, 10000.0/(2*57500.0), stat(t, env, "dram", "utilization"), 1e-12)
	require.Equal(t, 0, d.Channel(4095))
	require.Equal(t, 1, d.Channel(4096))
	require.Equal(t, 0, d.Channel(8192))
	require.Equal(t, ddr, d.Config())
	require.Equal(t, sim.Time(2500), d.TransferTime(64))
	require.PanicsWithValue(t, "memory: DRAM transfer of 18446744073709551615 bytes at 25600000000 B/s overflows simulated time",
		func() { d.TransferTime(^uint64(0)) })
}

func TestDRAMAccessAllocFree(t *testing.T) {
	_, d := newDRAM(t, ddr)
	now := sim.Time(0)
	d.Access(0, 0, 64, false)
	d.Access(0, 0, 64, false) // grow the histogram to a 2500 ps delay
	allocs := testing.AllocsPerRun(1000, func() {
		now = d.BusyUntil(0)
		d.Access(now, 0, 64, false)
		d.Access(now, 64, 64, true)
	})
	require.Zero(t, allocs)
}

func BenchmarkDRAMAccess(b *testing.B) {
	_, d := newDRAM(b, ddr)
	b.ReportAllocs()
	var now sim.Time
	for i := uint64(0); b.Loop(); i++ {
		now += 1000
		d.Access(now, i*64, 64, i%4 == 0)
	}
}

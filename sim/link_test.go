package sim

import (
	"math"
	"math/big"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

func TestNewLinkErrors(t *testing.T) {
	env := NewEnv(1)
	tests := []struct {
		name    string
		scope   Scope
		bps     uint64
		wantErr string
	}{
		{"zero bandwidth", env.Scope("host0").Child("nic"), 0, `link "host0.nic": bandwidth must be positive, got 0 bytes/s`},
		{"zero scope", Scope{}, 1e9, `link "": scope has no environment`},
		{"scope without env", Scope{name: "x"}, 1e9, `link "x": scope has no environment`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, err := NewLink(tc.scope, 5, tc.bps)
			require.EqualError(t, err, tc.wantErr)
			require.Nil(t, l)
		})
	}
	// A failed NewLink registers nothing, so the scope can still be used.
	_, ok := env.Stats.Lookup("host0.nic", "messages")
	require.False(t, ok)
	l, err := NewLink(env.Scope("host0").Child("nic"), 5, 1)
	require.NoError(t, err)
	require.NotNil(t, l)
	// A second link in the same scope is a duplicate registration.
	require.Panics(t, func() { _, _ = NewLink(env.Scope("host0").Child("nic"), 5, 1) })
}

func TestLinkAccessors(t *testing.T) {
	env := NewEnv(1)
	l, err := NewLink(env.Scope("l"), 123*Nanosecond, 25_000_000_000)
	require.NoError(t, err)
	require.Equal(t, 123*Nanosecond, l.Latency())
	require.Equal(t, uint64(25_000_000_000), l.BytesPerSec())
	require.Zero(t, l.FreeAt())
	require.Zero(t, l.Utilization())
}

func TestLinkSerialisationTime(t *testing.T) {
	tests := []struct {
		bps   uint64
		bytes uint64
		want  Time
	}{
		{1e9, 0, 0},
		{1e9, 1, 1000},
		{1e9, 64, 64_000},
		{25e9, 64, 2560},
		{25e9, 1, 40},
		{3e9, 1, 334}, // 333.33 rounded up
		{3e9, 2, 667}, // 666.67
		{3e9, 3, 1000},
		{3, 1, 333_333_333_334},
		{1, 1, Second},
		{1e12, 1, 1},
		{3e12, 1, 1}, // a third of a picosecond still takes one
		{3e12, 3, 1},
		{3e12, 4, 2},
		{7, 18_446_744, 2_635_249_142_857_142_858},
		{1e9, math.MaxUint64 / 1000, Time(math.MaxUint64/1000) * 1000},
	}
	env := NewEnv(1)
	for i, tc := range tests {
		l, err := NewLink(env.Scope("l").Child(string(rune('a'+i))), 0, tc.bps)
		require.NoError(t, err)
		require.Equal(t, tc.want, l.SerialisationTime(tc.bytes), "%d bytes at %d B/s", tc.bytes, tc.bps)
	}
}

func TestLinkSerialisationTimeProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		bps := rapid.OneOf(rapid.Uint64Range(1, 1000), rapid.Uint64Range(1, 1e13), rapid.Uint64Range(1, math.MaxUint64)).Draw(t, "bps")
		bytes := rapid.OneOf(rapid.Uint64Range(0, 1<<20), rapid.Uint64()).Draw(t, "bytes")
		// Reference: ⌈bytes·10^12/bps⌉ in big integers.
		num := new(big.Int).Mul(new(big.Int).SetUint64(bytes), big.NewInt(1e12))
		den := new(big.Int).SetUint64(bps)
		q, r := new(big.Int).QuoRem(num, den, new(big.Int))
		if r.Sign() != 0 {
			q.Add(q, big.NewInt(1))
		}
		l := &Link{bytesPerSec: bps}
		if new(big.Int).Rsh(num, 64).Cmp(den) >= 0 {
			require.Panics(t, func() { l.SerialisationTime(bytes) })
			return
		}
		if !q.IsUint64() {
			// ⌈bytes·10^12/bps⌉ = 2^64 exactly: the known wrap-around bug,
			// see TestFreqCyclesToTimeOverflowByRounding.
			return
		}
		require.Equal(t, Time(q.Uint64()), l.SerialisationTime(bytes))
	})
}

func TestLinkSend(t *testing.T) {
	env := NewEnv(1)
	l, err := NewLink(env.Scope("host0").Child("link"), 100*Nanosecond, 1e9) // 1 byte per ns
	require.NoError(t, err)
	steps := []struct {
		now         Time
		bytes       uint64
		wantArrival Time
		wantFreeAt  Time
	}{
		{0, 1000, 1_100_000, 1_000_000},                                           // idle: 0 + 1µs + 100ns
		{0, 500, 1_600_000, 1_500_000},                                            // back to back: waits 1µs
		{1_200_000, 0, 1_600_000, 1_500_000},                                      // empty message still queues, waits 300ns
		{5_000_000, 100, 5_200_000, 5_100_000},                                    // idle again
		{5_050_000, 1, 5_201_000, 5_101_000},                                      // waits 50ns
		{5_101_000, 3, 5_204_000, 5_104_000},                                      // offered exactly when free
		{4_000_000, 2, 5_206_000, 5_106_000},                                      // offered in the past of the link
		{Millisecond, 1_000_000, 2*Millisecond + 100*Nanosecond, 2 * Millisecond}, // 1ms of serialisation
	}
	var delays []uint64
	var wantBytes, wantBusy uint64
	for i, st := range steps {
		start := max(st.now, l.FreeAt())
		delays = append(delays, uint64(start-st.now))
		got := l.Send(st.now, st.bytes)
		require.Equal(t, st.wantArrival, got, "step %d", i)
		require.Equal(t, st.wantFreeAt, l.FreeAt(), "step %d", i)
		require.Equal(t, got, l.FreeAt()+l.Latency(), "step %d: arrival = end of serialisation + latency", i)
		wantBytes += st.bytes
		wantBusy += st.bytes * 1000
	}
	lookup := func(name string) float64 {
		v, ok := env.Stats.Lookup("host0.link", name)
		require.True(t, ok, name)
		return v
	}
	require.Equal(t, float64(len(steps)), lookup("messages"))
	require.Equal(t, float64(wantBytes), lookup("bytes"))
	require.Equal(t, float64(1_001_606), float64(wantBytes))
	require.Equal(t, float64(wantBusy), lookup("busy_ps"))
	require.Equal(t, float64(len(steps)), lookup("queue_delay.count"))
	require.Equal(t, []uint64{0, 1_000_000, 300_000, 0, 50_000, 0, 1_104_000, 0}, delays)
	require.Equal(t, float64(2_454_000), lookup("queue_delay.sum"))
	require.Equal(t, float64(1_104_000), lookup("queue_delay.max"))
	require.Equal(t, 0.0, lookup("queue_delay.min"))

	// Utilization: busy time over max(engine clock, FreeAt).
	require.Equal(t, float64(wantBusy)/float64(2*Millisecond), l.Utilization())
	require.Equal(t, l.Utilization(), lookup("utilization"))
	env.Engine.RunUntil(10 * Millisecond)
	require.Equal(t, float64(wantBusy)/float64(10*Millisecond), l.Utilization())
	require.Equal(t, l.Utilization(), lookup("utilization"))
}

func TestLinkUtilization(t *testing.T) {
	tests := []struct {
		name    string
		sends   [][2]uint64 // (now, bytes)
		clock   Time        // engine RunUntil before reading
		wantUtl float64
	}{
		{"nothing sent, time 0", nil, 0, 0},
		{"nothing sent, time passed", nil, Millisecond, 0},
		{"saturated", [][2]uint64{{0, 500}, {0, 500}}, 0, 1},
		{"saturated until the clock", [][2]uint64{{0, 1000}}, Microsecond, 1},
		{"half", [][2]uint64{{0, 500}}, Microsecond, 0.5},
		{"gap", [][2]uint64{{0, 250}, {750_000, 250}}, 0, 0.5},
		{"clock behind FreeAt", [][2]uint64{{0, 100}}, 50_000, 1},
		{"zero-byte message", [][2]uint64{{0, 0}}, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			env := NewEnv(1)
			l, err := NewLink(env.Scope("l"), 7*Nanosecond, 1e9)
			require.NoError(t, err)
			for _, s := range tc.sends {
				l.Send(Time(s[0]), s[1])
			}
			env.Engine.RunUntil(tc.clock)
			require.Equal(t, tc.wantUtl, l.Utilization())
		})
	}
	// Without an engine the horizon is FreeAt.
	l := &Link{bytesPerSec: 1e9, messages: &Counter{}, bytes: &Counter{}, busy: &Counter{}, queueDelay: &Histogram{}}
	l.Send(1000, 1)
	require.Equal(t, 0.5, l.Utilization())
}

func TestLinkSendProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		env := NewEnv(1)
		latency := Time(rapid.Uint64Range(0, 1e6).Draw(t, "latency"))
		bps := rapid.Uint64Range(1, 1e12).Draw(t, "bps")
		l, err := NewLink(env.Scope("l"), latency, bps)
		require.NoError(t, err)
		n := rapid.IntRange(1, 50).Draw(t, "n")
		var now, free, lastArrival Time
		var busy, bytesSent uint64
		delaySum := new(big.Int) // may exceed 2^64 when the link is slow
		for i := range n {
			now += Time(rapid.Uint64Range(0, 1e7).Draw(t, "dt"))
			b := rapid.Uint64Range(0, 1e5).Draw(t, "bytes")
			ser := l.SerialisationTime(b)
			start := max(now, free)
			arrival := l.Send(now, b)
			require.Equal(t, start+ser+latency, arrival, "message %d", i)
			require.GreaterOrEqual(t, arrival, lastArrival, "messages arrive in order")
			free = start + ser
			busy += uint64(ser)
			bytesSent += b
			delaySum.Add(delaySum, new(big.Int).SetUint64(uint64(start-now)))
			lastArrival = arrival
		}
		require.Equal(t, free, l.FreeAt())
		for name, want := range map[string]uint64{"messages": uint64(n), "bytes": bytesSent, "busy_ps": busy} {
			v, ok := env.Stats.Lookup("l", name)
			require.True(t, ok)
			require.Equal(t, float64(want), v, name)
		}
		v, ok := env.Stats.Lookup("l", "queue_delay.sum")
		require.True(t, ok)
		want, _ := new(big.Float).SetInt(delaySum).Float64()
		requireRelClose(t, want, v, 1e-15, "queue_delay.sum")
	})
}

func TestLinkSendOverflowPanics(t *testing.T) {
	env := NewEnv(1)
	l, err := NewLink(env.Scope("a"), MaxTime-10, 1e9)
	require.NoError(t, err)
	require.Panics(t, func() { l.Send(100, 0) }, "arrival beyond MaxTime")
	require.Zero(t, l.FreeAt(), "a rejected message does not reserve the link")
	v, _ := env.Stats.Lookup("a", "messages")
	require.Zero(t, v)

	l2, err := NewLink(env.Scope("b"), 0, 1e9)
	require.NoError(t, err)
	require.Panics(t, func() { l2.Send(MaxTime, 1) }, "end of serialisation beyond MaxTime")
	require.NotPanics(t, func() { l2.Send(MaxTime, 0) })
	require.Panics(t, func() { l2.SerialisationTime(math.MaxUint64) })
}

func TestScope(t *testing.T) {
	env := NewEnv(42)
	require.Equal(t, uint64(42), env.Seed)
	require.NotNil(t, env.Engine)
	require.NotNil(t, env.Stats)
	require.Nil(t, env.Tracer)

	host := env.Scope("host0")
	core := host.Child("core1")
	l2 := core.Child("l2")
	tests := []struct {
		s    Scope
		want string
	}{
		{host, "host0"},
		{core, "host0.core1"},
		{l2, "host0.core1.l2"},
		{env.Scope("").Child("top"), "top"},
		{env.Scope(""), ""},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, tc.s.Name())
		require.Same(t, env, tc.s.Env())
		require.Same(t, env.Engine, tc.s.Engine())
		require.Nil(t, tc.s.Tracer())
	}
	env.Tracer = NewTracer()
	require.Same(t, env.Tracer, l2.Tracer())

	// Statistics are registered under the scope's full name.
	l2.Counter("misses", "").Add(4)
	l2.Value("rate", "", func() float64 { return 0.5 })
	l2.Histogram("lat", "ps", "").Record(9)
	ts := l2.Series("occ", "", "a", "b")
	for name, want := range map[string]float64{"misses": 4, "rate": 0.5, "lat.max": 9} {
		v, ok := env.Stats.Lookup("host0.core1.l2", name)
		require.True(t, ok, name)
		require.Equal(t, want, v, name)
	}
	require.Equal(t, []NamedSeries{{Path: "host0.core1.l2", Name: "occ", Series: ts}}, env.Stats.SeriesList())
	require.Equal(t, []string{"a", "b"}, ts.Columns())
}

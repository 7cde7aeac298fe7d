package memory

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

const (
	kib = uint64(1) << 10
	mib = uint64(1) << 20
	gib = uint64(1) << 30
)

func newPhys(t testing.TB, size uint64) *Physical {
	t.Helper()
	p, err := NewPhysical(size)
	require.NoError(t, err)
	return p
}

// pattern returns n bytes 1, 2, 3, ... (mod 251, never zero).
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte((i+int(seed))%251) + 1
	}
	return b
}

func TestNewPhysicalSizes(t *testing.T) {
	tests := []struct {
		size    uint64
		wantErr string
	}{
		{64 * kib, ""},
		{64 * gib, ""},
		{MaxPhysicalSize, ""},
		{0, "size 0 is not a positive multiple of 64 KiB"},
		{4 * kib, "size 4096 is not a positive multiple of 64 KiB"},
		{64*kib + 1, "size 65537 is not a positive multiple of 64 KiB"},
		{MaxPhysicalSize + 64*kib, "exceeds the maximum"},
	}
	for _, tt := range tests {
		p, err := NewPhysical(tt.size)
		if tt.wantErr != "" {
			require.ErrorContains(t, err, tt.wantErr, "size %d", tt.size)
			require.Nil(t, p)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, tt.size, p.Size())
		require.Zero(t, p.TouchedBytes())
	}
}

func TestPhysicalContains(t *testing.T) {
	p := newPhys(t, 128*kib)
	tests := []struct {
		addr, n uint64
		want    bool
	}{
		{0, 0, true},
		{0, 128 * kib, true},
		{128 * kib, 0, true},
		{128*kib - 8, 8, true},
		{128*kib - 7, 8, false},
		{128 * kib, 1, false},
		{0, 128*kib + 1, false},
		{^uint64(0), 2, false}, // would wrap
		{1, ^uint64(0), false},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, p.Contains(tt.addr, tt.n), "Contains(%#x, %d)", tt.addr, tt.n)
	}
}

func TestPhysicalReadWriteAcrossFrames(t *testing.T) {
	tests := []struct {
		name string
		addr uint64
		n    int
	}{
		{"inside one frame", 100, 200},
		{"ends at frame end", FrameSize - 16, 16},
		{"crosses one boundary", FrameSize - 3, 10},
		{"spans three frames", FrameSize - 1, int(FrameSize) + 2},
		{"whole frame aligned", 2 * FrameSize, int(FrameSize)},
		{"last bytes of memory", 4*FrameSize - 5, 5},
		{"empty", 7, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newPhys(t, 4*FrameSize)
			data := pattern(tt.n, 7)
			p.Write(tt.addr, data)
			got := make([]byte, tt.n)
			p.Read(tt.addr, got)
			require.Equal(t, data, got)

			// The bytes either side stay zero.
			if tt.addr > 0 {
				var b [1]byte
				p.Read(tt.addr-1, b[:])
				require.Zero(t, b[0])
			}
			if end := tt.addr + uint64(tt.n); end < p.Size() {
				var b [1]byte
				p.Read(end, b[:])
				require.Zero(t, b[0])
			}
			first, last := tt.addr/FrameSize, (tt.addr+uint64(tt.n)-1)/FrameSize
			want := uint64(0)
			if tt.n > 0 {
				want = (last - first + 1) * FrameSize
			}
			require.Equal(t, want, p.TouchedBytes())
		})
	}
}

func TestPhysicalU64(t *testing.T) {
	p := newPhys(t, 2*FrameSize)
	tests := []struct {
		addr uint64
		v    uint64
	}{
		{0, 0x0123456789abcdef},
		{13, 0xfedcba9876543210},
		{FrameSize - 8, 0x1111111111111111},
		{FrameSize - 3, 0xa1a2a3a4a5a6a7a8}, // crosses the frame boundary
		{2*FrameSize - 8, 0xdeadbeefcafef00d},
	}
	for _, tt := range tests {
		p.WriteU64(tt.addr, tt.v)
		require.Equal(t, tt.v, p.ReadU64(tt.addr), "addr %#x", tt.addr)
		var b [8]byte
		p.Read(tt.addr, b[:])
		require.Equal(t, byte(tt.v), b[0], "little-endian low byte at %#x", tt.addr)
		require.Equal(t, byte(tt.v>>56), b[7], "little-endian high byte at %#x", tt.addr)
	}
}

func TestPhysicalZeroWritesAndReadsAllocateNothing(t *testing.T) {
	p := newPhys(t, 16*FrameSize)
	p.Write(3*FrameSize-10, make([]byte, 100))
	p.WriteU64(5*FrameSize, 0)
	require.Zero(t, p.TouchedBytes())

	buf := pattern(300, 1)
	p.Read(FrameSize-150, buf)
	require.Equal(t, make([]byte, 300), buf, "untouched memory reads as zeros")
	require.Zero(t, p.ReadU64(7*FrameSize-4))
	require.Zero(t, p.TouchedBytes())

	allocs := testing.AllocsPerRun(100, func() {
		p.Read(FrameSize-150, buf)
		_ = p.ReadU64(9 * FrameSize)
		_ = p.ReadU64(9*FrameSize - 4)
	})
	require.Zero(t, allocs)
}

func TestPhysicalOutOfRangePanics(t *testing.T) {
	p := newPhys(t, FrameSize)
	tests := []struct {
		name string
		fn   func()
	}{
		{"read past end", func() { p.Read(FrameSize-4, make([]byte, 8)) }},
		{"write past end", func() { p.Write(FrameSize, []byte{1}) }},
		{"ReadU64 past end", func() { p.ReadU64(FrameSize - 4) }},
		{"WriteU64 past end", func() { p.WriteU64(FrameSize-1, 1) }},
		{"hash past end", func() { p.Hash(0, FrameSize+1) }},
		{"equal past end", func() { p.Equal(p, 1, FrameSize) }},
		{"copy past end", func() { p.Copy(p, 0, 10, FrameSize) }},
	}
	for _, tt := range tests {
		msg := panicMessage(tt.fn)
		require.Contains(t, msg, "outside memory of size 0x10000", tt.name)
		require.Contains(t, msg, "twinsim bug", tt.name)
	}
}

func panicMessage(fn func()) (msg string) {
	defer func() { msg, _ = recover().(string) }()
	fn()
	return ""
}

func TestPhysicalEqual(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(a, b *Physical)
		addr, n   uint64
		wantEq    bool
		wantFirst uint64
	}{
		{"both untouched", func(a, b *Physical) {}, 0, 4 * FrameSize, true, 0},
		{"same data", func(a, b *Physical) {
			a.Write(FrameSize-5, pattern(20, 3))
			b.Write(FrameSize-5, pattern(20, 3))
		}, 0, 4 * FrameSize, true, 0},
		{"differs in a touched frame", func(a, b *Physical) {
			a.Write(100, pattern(50, 3))
			b.Write(100, pattern(50, 3))
			b.Write(130, []byte{0})
		}, 0, FrameSize, false, 130},
		{"touched vs untouched", func(a, b *Physical) {
			a.Write(2*FrameSize+77, []byte{9})
		}, 0, 4 * FrameSize, false, 2*FrameSize + 77},
		{"untouched vs touched", func(a, b *Physical) {
			b.Write(3*FrameSize+1, []byte{9})
		}, 0, 4 * FrameSize, false, 3*FrameSize + 1},
		{"touched zeros equal untouched", func(a, b *Physical) {
			a.Write(10, []byte{5})
			a.Write(10, []byte{0})
		}, 0, FrameSize, true, 0},
		{"difference outside the range", func(a, b *Physical) {
			a.Write(FrameSize, []byte{1})
		}, FrameSize + 1, FrameSize, true, 0},
		{"difference at range start after boundary", func(a, b *Physical) {
			a.Write(FrameSize, []byte{1, 2})
			b.Write(FrameSize, []byte{1, 3})
		}, FrameSize - 10, 20, false, FrameSize + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := newPhys(t, 4*FrameSize), newPhys(t, 4*FrameSize)
			tt.setup(a, b)
			ta, tb := a.TouchedBytes(), b.TouchedBytes()
			eq, first := a.Equal(b, tt.addr, tt.n)
			require.Equal(t, tt.wantEq, eq)
			require.Equal(t, tt.wantFirst, first)
			eq2, first2 := b.Equal(a, tt.addr, tt.n)
			require.Equal(t, eq, eq2, "symmetric")
			require.Equal(t, first, first2, "symmetric")
			require.Equal(t, ta, a.TouchedBytes(), "Equal allocates no frames")
			require.Equal(t, tb, b.TouchedBytes(), "Equal allocates no frames")
		})
	}
}

func TestPhysicalCopy(t *testing.T) {
	src := newPhys(t, 8*FrameSize)
	src.Write(FrameSize-100, pattern(300, 11)) // frames 0 and 1
	src.Write(5*FrameSize+3, pattern(10, 12))  // frame 5

	t.Run("to untouched destination", func(t *testing.T) {
		dst := newPhys(t, 8*FrameSize)
		dst.Copy(dst, 0, 0, 0) // no-op
		src.Copy(dst, 2*FrameSize+50, 0, 6*FrameSize-50)
		want := make([]byte, 6*FrameSize-50)
		src.Read(0, want)
		got := make([]byte, len(want))
		dst.Read(2*FrameSize+50, got)
		require.Equal(t, want, got)
		// Only the frames receiving non-zero bytes are allocated: source
		// frames 0-1 land in dst frames 2-3, source frame 5 in dst frame 7.
		require.Equal(t, 3*FrameSize, dst.TouchedBytes())
	})
	t.Run("zeros overwrite touched destination", func(t *testing.T) {
		dst := newPhys(t, 8*FrameSize)
		dst.Write(3*FrameSize, pattern(int(FrameSize), 5))
		src.Copy(dst, 3*FrameSize, 3*FrameSize, FrameSize) // source frame 3 untouched
		eq, _ := dst.Equal(src, 0, 8*FrameSize)
		require.False(t, eq, "dst lacks src's data elsewhere")
		eq, _ = dst.Equal(src, 3*FrameSize, FrameSize)
		require.True(t, eq)
		require.Zero(t, dst.ReadU64(3*FrameSize+FrameSize/2))
	})
	t.Run("whole memory", func(t *testing.T) {
		dst := newPhys(t, 8*FrameSize)
		src.Copy(dst, 0, 0, src.Size())
		eq, _ := dst.Equal(src, 0, src.Size())
		require.True(t, eq)
		require.Equal(t, src.Hash(0, src.Size()), dst.Hash(0, dst.Size()))
		require.Equal(t, src.TouchedBytes(), dst.TouchedBytes())
	})
	const fs = int64(FrameSize)
	for _, shift := range []int64{1, 7, -1, -7, fs - 1, -(fs - 1), fs + 9, -(fs + 9)} {
		t.Run(fmt.Sprintf("overlapping shift %d", shift), func(t *testing.T) {
			m := newPhys(t, 8*FrameSize)
			data := pattern(int(2*FrameSize+77), 9)
			at := uint64(2*FrameSize + 13)
			m.Write(at, data)
			to := uint64(int64(at) + shift)
			m.Copy(m, to, at, uint64(len(data)))
			got := make([]byte, len(data))
			m.Read(to, got)
			require.Equal(t, data, got, "shift %d", shift)
		})
	}
}

func TestPhysicalHash(t *testing.T) {
	p := newPhys(t, 4*FrameSize)
	p.Write(FrameSize-2, []byte{1, 2, 3, 4})
	tests := []struct{ addr, n uint64 }{
		{0, 0},
		{0, 4 * FrameSize},
		{FrameSize - 2, 4},
		{FrameSize - 100, 200},
		{2 * FrameSize, FrameSize}, // untouched only
	}
	for _, tt := range tests {
		buf := make([]byte, tt.n)
		p.Read(tt.addr, buf)
		require.Equal(t, sha256.Sum256(buf), p.Hash(tt.addr, tt.n), "Hash(%#x, %d)", tt.addr, tt.n)
	}
	require.Equal(t, sha256.Sum256(make([]byte, FrameSize)), p.Hash(3*FrameSize, FrameSize))
	require.Equal(t, FrameSize*2, p.TouchedBytes(), "hashing untouched frames allocates none")
}

// TestPhysicalSparseFootprint checks that a 64 GiB machine that touches
// 100 MiB costs about 100 MiB of host heap, and almost nothing untouched.
func TestPhysicalSparseFootprint(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 100 MiB")
	}
	var before, empty, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	p := newPhys(t, 64*gib)
	runtime.GC()
	runtime.ReadMemStats(&empty)
	require.LessOrEqual(t, empty.HeapAlloc-min(empty.HeapAlloc, before.HeapAlloc), 80*kib,
		"directory of an untouched 64 GiB memory")

	const touched = 100 * mib
	rng := rand.New(rand.NewPCG(1, 2))
	frames := 64 * gib / FrameSize
	seen := map[uint64]bool{}
	buf := pattern(int(FrameSize), 3)
	for uint64(len(seen))*FrameSize < touched {
		f := rng.Uint64N(frames)
		if seen[f] {
			continue
		}
		seen[f] = true
		p.Write(f*FrameSize, buf)
	}
	require.Equal(t, touched, p.TouchedBytes())
	seen = nil
	runtime.GC()
	runtime.ReadMemStats(&after)
	growth := after.HeapAlloc - min(after.HeapAlloc, before.HeapAlloc)
	t.Logf("heap growth %.1f MiB for %d MiB touched of 64 GiB", float64(growth)/float64(mib), touched/mib)
	require.GreaterOrEqual(t, growth, touched-mib, "the frames really are allocated")
	require.Less(t, growth, 110*mib)
	runtime.KeepAlive(p)
}

// TestPhysicalModel checks Physical against a map from address to byte over
// random writes, reads, word accesses, copies, hashes and comparisons.
func TestPhysicalModel(t *testing.T) {
	const size = 4 * FrameSize
	rapid.Check(t, func(rt *rapid.T) {
		p := newPhys(t, size)
		model := map[uint64]byte{}
		read := func(addr, n uint64) []byte {
			b := make([]byte, n)
			for i := range b {
				b[i] = model[addr+uint64(i)]
			}
			return b
		}
		// Addresses cluster around frame boundaries, where bugs live.
		addrGen := rapid.Custom(func(t *rapid.T) uint64 {
			if rapid.Bool().Draw(t, "near") {
				b := rapid.Uint64Range(0, 4).Draw(t, "boundary") * FrameSize
				d := rapid.Uint64Range(0, 32).Draw(t, "delta")
				if b >= 16 && rapid.Bool().Draw(t, "below") {
					return b - d
				}
				return min(b+d, size)
			}
			return rapid.Uint64Range(0, size).Draw(t, "addr")
		})
		lenGen := rapid.OneOf(rapid.Uint64Range(0, 64), rapid.Uint64Range(0, 2*FrameSize+100))
		rangeGen := func(t *rapid.T) (uint64, uint64) {
			a := addrGen.Draw(t, "addr")
			n := min(lenGen.Draw(t, "n"), size-a)
			return a, n
		}
		steps := rapid.IntRange(1, 40).Draw(rt, "steps")
		for range steps {
			switch rapid.IntRange(0, 5).Draw(rt, "op") {
			case 0: // write
				a, n := rangeGen(rt)
				data := make([]byte, n)
				for i := range data {
					data[i] = rapid.Byte().Draw(rt, "b")
					if i > 3 { // longer writes repeat their first bytes
						data[i] = data[i%4]
					}
				}
				p.Write(a, data)
				for i, b := range data {
					model[a+uint64(i)] = b
				}
			case 1: // read
				a, n := rangeGen(rt)
				got := make([]byte, n)
				p.Read(a, got)
				require.Equal(rt, read(a, n), got)
			case 2: // word write and read back
				a := min(addrGen.Draw(rt, "addr"), size-8)
				v := rapid.Uint64().Draw(rt, "v")
				p.WriteU64(a, v)
				for i := range uint64(8) {
					model[a+i] = byte(v >> (8 * i))
				}
				b := min(addrGen.Draw(rt, "addr2"), size-8)
				var want uint64
				for i := range uint64(8) {
					want |= uint64(model[b+i]) << (8 * i)
				}
				require.Equal(rt, want, p.ReadU64(b))
			case 3: // copy within p, possibly overlapping
				s, n := rangeGen(rt)
				d := min(addrGen.Draw(rt, "dst"), size-n)
				data := read(s, n)
				p.Copy(p, d, s, n)
				for i, b := range data {
					model[d+uint64(i)] = b
				}
			case 4: // hash
				a, n := rangeGen(rt)
				require.Equal(rt, sha256.Sum256(read(a, n)), p.Hash(a, n))
			case 5: // compare with a memory rebuilt from the model
				q := newPhys(t, size)
				for a, b := range model {
					q.Write(a, []byte{b})
				}
				a, n := rangeGen(rt)
				eq, first := p.Equal(q, a, n)
				require.True(rt, eq, "differs at %#x", first)
				if n > 0 {
					at := a + rapid.Uint64Range(0, n-1).Draw(rt, "flip")
					q.Write(at, []byte{^model[at]})
					eq, first = p.Equal(q, a, n)
					require.False(rt, eq)
					require.Equal(rt, at, first)
				}
			}
		}
		all := make([]byte, size)
		p.Read(0, all)
		require.True(rt, bytes.Equal(read(0, size), all))
	})
}

func BenchmarkPhysicalReadU64(b *testing.B) {
	p := newPhys(b, 64*mib)
	for a := uint64(0); a < p.Size(); a += 4 * kib {
		p.WriteU64(a, a)
	}
	mask := p.Size() - 1
	var sum uint64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sum += p.ReadU64(uint64(i*4104) & mask &^ 7)
	}
	if sum == 1 {
		b.Log(sum)
	}
	if allocs := testing.AllocsPerRun(100, func() { sum += p.ReadU64(4096) }); allocs != 0 {
		b.Fatalf("ReadU64 allocates %.0f times", allocs)
	}
}

func BenchmarkPhysicalWriteU64(b *testing.B) {
	p := newPhys(b, 64*mib)
	mask := p.Size() - 1
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p.WriteU64(uint64(i*4104)&mask&^7, uint64(i)|1)
	}
}

func TestZero(t *testing.T) {
	p, err := NewPhysical(4 * FrameSize)
	require.NoError(t, err)
	buf := make([]byte, 3*FrameSize)
	for i := range buf {
		buf[i] = byte(i%251 + 1)
	}
	p.Write(FrameSize/2, buf)
	require.Equal(t, 4*FrameSize, p.TouchedBytes())
	// Zero the middle: one and a half frames from 3/4 of the first frame.
	p.Zero(FrameSize*3/4, FrameSize*3/2+FrameSize/4)
	require.Equal(t, 3*FrameSize, p.TouchedBytes(), "the one frame covered entirely is released")
	got := make([]byte, 4*FrameSize)
	p.Read(0, got)
	for a := uint64(0); a < 4*FrameSize; a++ {
		var want byte
		if a >= FrameSize/2 && a < FrameSize/2+3*FrameSize && !(a >= FrameSize*3/4 && a < FrameSize*5/2) {
			want = byte((a-FrameSize/2)%251 + 1)
		}
		if got[a] != want {
			t.Fatalf("byte %#x = %d, want %d", a, got[a], want)
		}
	}
	p.Zero(0, 4*FrameSize)
	require.Zero(t, p.TouchedBytes())
	require.Panics(t, func() { p.Zero(3*FrameSize, 2*FrameSize) })
}

func TestBytes(t *testing.T) {
	p, err := NewPhysical(2 * FrameSize)
	require.NoError(t, err)
	b := p.Bytes(FrameSize+4096, 4096)
	require.Len(t, b, 4096)
	b[5] = 9
	require.Equal(t, uint64(9), p.ReadU64(FrameSize+4096+5)&0xff)
	p.WriteU64(FrameSize+4096+8, 0x0102)
	require.Equal(t, byte(2), b[8])
	require.Equal(t, FrameSize, p.TouchedBytes())
	require.Panics(t, func() { p.Bytes(100, 4096) })
	require.Panics(t, func() { p.Bytes(0, 3000) })
	require.Panics(t, func() { p.Bytes(0, 2*FrameSize) })
}

// TestPhysicalDigest: the digest follows contents, not allocation: a frame
// written and then zeroed digests as one never written, and any differing
// byte changes it.
func TestPhysicalDigest(t *testing.T) {
	a, b := newPhys(t, 4*FrameSize), newPhys(t, 4*FrameSize)
	a.Write(FrameSize-2, []byte{1, 2, 3, 4})
	b.Write(FrameSize-2, []byte{1, 2, 3, 4})
	b.Write(3*FrameSize+5, []byte{9})
	require.NotEqual(t, a.Digest(0, 4*FrameSize), b.Digest(0, 4*FrameSize))
	b.Write(3*FrameSize+5, []byte{0}) // allocated, but zero again
	require.Equal(t, a.Digest(0, 4*FrameSize), b.Digest(0, 4*FrameSize))
	require.Equal(t, a.Digest(FrameSize-100, 200), b.Digest(FrameSize-100, 200))
	b.Write(FrameSize+1, []byte{7})
	require.NotEqual(t, a.Digest(FrameSize-100, 200), b.Digest(FrameSize-100, 200))
	require.Equal(t, a.Digest(2*FrameSize, FrameSize), newPhys(t, 4*FrameSize).Digest(2*FrameSize, FrameSize))
	// The same bytes at another offset of the range are another image.
	c := newPhys(t, 4*FrameSize)
	c.Write(2*FrameSize-2, []byte{1, 2, 3, 4})
	require.NotEqual(t, a.Digest(0, 4*FrameSize), c.Digest(0, 4*FrameSize))
}

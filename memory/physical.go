package memory

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// FrameSize is the granularity, in bytes, at which Physical allocates host
// memory for simulated memory.
const FrameSize uint64 = 1 << frameShift

// MaxPhysicalSize is the largest simulated physical memory NewPhysical
// accepts (16 TiB); its directory then costs 16 MiB of host memory, and
// 64 KiB for a 64 GiB machine.
const MaxPhysicalSize = 1 << 44

const (
	frameShift = 16
	frameMask  = FrameSize - 1
	leafShift  = 7 // frames per directory leaf: 128 (8 MiB of simulated memory, 1 KiB of host)
	leafFrames = 1 << leafShift
	leafMask   = leafFrames - 1
)

type frame = [FrameSize]byte

// zeroFrame is what every untouched frame reads as.
var zeroFrame frame

// Physical is the functional contents of a simulated machine's physical
// memory. It is sparse: a two-level table maps frame numbers to 64 KiB
// frames that are allocated on the first write of a non-zero byte; never
// written memory reads as zeros and costs nothing.
//
// Accesses outside [0, Size()) are twinsim bugs and panic; use Contains to
// check addresses that come from outside the simulator. Physical is not safe
// for concurrent use.
type Physical struct {
	size   uint64
	dir    []*[leafFrames]*frame
	frames uint64 // allocated frames
}

// NewPhysical returns an all-zero physical memory of size bytes. The size
// must be a positive multiple of 64 KiB, at most MaxPhysicalSize.
func NewPhysical(size uint64) (*Physical, error) {
	if size == 0 || size%FrameSize != 0 {
		return nil, fmt.Errorf("physical memory size %d is not a positive multiple of 64 KiB", size)
	}
	if size > MaxPhysicalSize {
		return nil, fmt.Errorf("physical memory size %d exceeds the maximum of %d (16 TiB)", size, uint64(MaxPhysicalSize))
	}
	nframes := size >> frameShift
	return &Physical{size: size, dir: make([]*[leafFrames]*frame, (nframes+leafMask)>>leafShift)}, nil
}

// Size returns the size of the memory in bytes.
func (p *Physical) Size() uint64 { return p.size }

// TouchedBytes returns the host bytes holding simulated data: the number of
// allocated frames times FrameSize. Frames are allocated only by writes that
// store a non-zero byte in them (or copies of such data).
func (p *Physical) TouchedBytes() uint64 { return p.frames * FrameSize }

// Contains reports whether the n bytes starting at addr lie inside the
// memory.
func (p *Physical) Contains(addr, n uint64) bool {
	return n <= p.size && addr <= p.size-n
}

func (p *Physical) check(op string, addr, n uint64) {
	if !p.Contains(addr, n) {
		outOfRange(op, addr, n, p.size)
	}
}

// outOfRange is kept out of line so that the checks inline and the hot paths
// do not allocate.
func outOfRange(op string, addr, n, size uint64) {
	panic(fmt.Sprintf("memory: physical %s of %d bytes at %#x is outside memory of size %#x (twinsim bug; check Contains first)", op, n, addr, size))
}

// frameAt returns the frame holding addr, or nil if it is untouched.
func (p *Physical) frameAt(addr uint64) *frame {
	fn := addr >> frameShift
	leaf := p.dir[fn>>leafShift]
	if leaf == nil {
		return nil
	}
	return leaf[fn&leafMask]
}

// allocFrame returns the frame holding addr, allocating it (and its
// directory leaf) if needed.
func (p *Physical) allocFrame(addr uint64) *frame {
	fn := addr >> frameShift
	leaf := p.dir[fn>>leafShift]
	if leaf == nil {
		leaf = new([leafFrames]*frame)
		p.dir[fn>>leafShift] = leaf
	}
	f := leaf[fn&leafMask]
	if f == nil {
		f = new(frame)
		leaf[fn&leafMask] = f
		p.frames++
	}
	return f
}

// chunk returns how many bytes from addr, at most n, stay inside addr's frame.
func chunk(addr, n uint64) uint64 {
	return min(n, FrameSize-addr&frameMask)
}

// Read fills buf with the bytes at [addr, addr+len(buf)). It never allocates.
func (p *Physical) Read(addr uint64, buf []byte) {
	n := uint64(len(buf))
	p.check("read", addr, n)
	for n > 0 {
		c := chunk(addr, n)
		off := addr & frameMask
		if f := p.frameAt(addr); f != nil {
			copy(buf[:c], f[off:off+c])
		} else {
			clear(buf[:c])
		}
		buf = buf[c:]
		addr += c
		n -= c
	}
}

// Write stores buf at [addr, addr+len(buf)). Storing only zeros into an
// untouched frame leaves it untouched.
func (p *Physical) Write(addr uint64, buf []byte) {
	n := uint64(len(buf))
	p.check("write", addr, n)
	for n > 0 {
		c := chunk(addr, n)
		off := addr & frameMask
		f := p.frameAt(addr)
		if f == nil && !isZero(buf[:c]) {
			f = p.allocFrame(addr)
		}
		if f != nil {
			copy(f[off:off+c], buf[:c])
		}
		buf = buf[c:]
		addr += c
		n -= c
	}
}

// Bytes returns the backing bytes of [addr, addr+n), allocating the frame,
// for a core's fast path to read and write in place. The range must lie
// inside one frame (n a power of two up to FrameSize, addr aligned to n).
// The slice stays valid until Zero releases the frame; the caller must drop
// it then.
func (p *Physical) Bytes(addr, n uint64) []byte {
	p.check("bytes", addr, n)
	if n == 0 || n > FrameSize || n&(n-1) != 0 || addr&(n-1) != 0 {
		panic(fmt.Sprintf("memory: Bytes(%#x, %d) is not an aligned power-of-two range within a frame", addr, n))
	}
	off := addr & frameMask
	return p.allocFrame(addr)[off : off+n : off+n]
}

// Zero sets [addr, addr+n) to zero. Frames the range covers entirely are
// released, so zeroing memory returns its host memory.
func (p *Physical) Zero(addr, n uint64) {
	p.check("zero", addr, n)
	for n > 0 {
		c := chunk(addr, n)
		off := addr & frameMask
		if f := p.frameAt(addr); f != nil {
			if c == FrameSize {
				fn := addr >> frameShift
				p.dir[fn>>leafShift][fn&leafMask] = nil
				p.frames--
			} else {
				clear(f[off : off+c])
			}
		}
		addr += c
		n -= c
	}
}

// ReadU64 returns the little-endian 64-bit word at addr (any alignment).
func (p *Physical) ReadU64(addr uint64) uint64 {
	off := addr & frameMask
	if off > FrameSize-8 || addr > p.size-8 {
		return p.readU64Slow(addr)
	}
	f := p.frameAt(addr)
	if f == nil {
		return 0
	}
	return binary.LittleEndian.Uint64(f[off : off+8])
}

func (p *Physical) readU64Slow(addr uint64) uint64 {
	var b [8]byte
	p.Read(addr, b[:])
	return binary.LittleEndian.Uint64(b[:])
}

// WriteU64 stores v little-endian at addr (any alignment).
func (p *Physical) WriteU64(addr, v uint64) {
	off := addr & frameMask
	if off > FrameSize-8 || addr > p.size-8 {
		p.writeU64Slow(addr, v)
		return
	}
	f := p.frameAt(addr)
	if f == nil {
		if v == 0 {
			return
		}
		f = p.allocFrame(addr)
	}
	binary.LittleEndian.PutUint64(f[off:off+8], v)
}

func (p *Physical) writeU64Slow(addr, v uint64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], v)
	p.Write(addr, b[:])
}

// isZero reports whether b (at most one frame long) is all zeros.
func isZero(b []byte) bool { return bytes.Equal(b, zeroFrame[:len(b)]) }

// firstNonZero returns the index of the first non-zero byte of b, or -1.
func firstNonZero(b []byte) int {
	for i, x := range b {
		if x != 0 {
			return i
		}
	}
	return -1
}

// diffIndex returns the index of the first byte where a and b (of equal
// length) differ, or -1.
func diffIndex(a, b []byte) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}

// Equal compares the n bytes at addr in p and o. When they differ, firstDiff
// is the address of the lowest differing byte; when they are equal it is 0.
// Untouched frames compare as zeros; nothing is allocated. The range must lie
// inside both memories.
func (p *Physical) Equal(o *Physical, addr, n uint64) (equal bool, firstDiff uint64) {
	p.check("compare", addr, n)
	o.check("compare", addr, n)
	for n > 0 {
		c := chunk(addr, n)
		off := addr & frameMask
		a, b := p.frameAt(addr), o.frameAt(addr)
		var x, y []byte
		switch {
		case a == b: // both untouched, or the same frame of the same memory
		case a == nil:
			y = b[off : off+c]
			if !isZero(y) {
				return false, addr + uint64(firstNonZero(y))
			}
		case b == nil:
			x = a[off : off+c]
			if !isZero(x) {
				return false, addr + uint64(firstNonZero(x))
			}
		default:
			x, y = a[off:off+c], b[off:off+c]
			if !bytes.Equal(x, y) {
				return false, addr + uint64(diffIndex(x, y))
			}
		}
		addr += c
		n -= c
	}
	return true, 0
}

// Copy copies the n bytes at srcAddr in p to dstAddr in dst, as if through a
// buffer, so overlapping ranges within one memory are copied correctly.
// Source data that is all zeros does not allocate frames that are untouched
// in dst.
func (p *Physical) Copy(dst *Physical, dstAddr, srcAddr, n uint64) {
	p.check("copy source", srcAddr, n)
	dst.check("copy destination", dstAddr, n)
	if n == 0 || (dst == p && dstAddr == srcAddr) {
		return
	}
	if dst == p && dstAddr > srcAddr && dstAddr-srcAddr < n {
		// Overlap with the destination above the source: copy from the end
		// so no source byte is overwritten before it is read.
		s, d := srcAddr+n, dstAddr+n
		for n > 0 {
			c := min(n, (s-1)&frameMask+1, (d-1)&frameMask+1)
			s -= c
			d -= c
			p.copyChunk(dst, d, s, c)
			n -= c
		}
		return
	}
	for n > 0 {
		c := min(chunk(srcAddr, n), chunk(dstAddr, n))
		p.copyChunk(dst, dstAddr, srcAddr, c)
		srcAddr += c
		dstAddr += c
		n -= c
	}
}

// copyChunk copies c bytes that lie inside one source frame and one
// destination frame.
func (p *Physical) copyChunk(dst *Physical, dstAddr, srcAddr, c uint64) {
	so, do := srcAddr&frameMask, dstAddr&frameMask
	sf, df := p.frameAt(srcAddr), dst.frameAt(dstAddr)
	var src []byte
	if sf != nil {
		src = sf[so : so+c]
	}
	if df == nil {
		if sf == nil || isZero(src) {
			return
		}
		df = dst.allocFrame(dstAddr)
	}
	if sf == nil {
		clear(df[do : do+c])
		return
	}
	copy(df[do:do+c], src)
}

// Hash returns the SHA-256 digest of the n bytes at addr, identical to
// hashing the bytes that Read returns. Untouched frames are hashed as zeros
// without being allocated.
func (p *Physical) Hash(addr, n uint64) [32]byte {
	p.check("hash", addr, n)
	h := sha256.New()
	for n > 0 {
		c := chunk(addr, n)
		off := addr & frameMask
		if f := p.frameAt(addr); f != nil {
			h.Write(f[off : off+c])
		} else {
			h.Write(zeroFrame[:c])
		}
		addr += c
		n -= c
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

// Digest returns a SHA-256 digest of the contents of the n bytes at addr
// that does not depend on which frames are allocated: it covers the offset
// and bytes of every frame-sized piece of the range holding a non-zero
// byte, so two memories with the same contents there have the same digest,
// and hashing costs only the pieces that were ever written.
func (p *Physical) Digest(addr, n uint64) [32]byte {
	p.check("digest", addr, n)
	h := sha256.New()
	var off [8]byte
	for start := addr; n > 0; {
		c := chunk(addr, n)
		if f := p.frameAt(addr); f != nil {
			if b := f[addr&frameMask : addr&frameMask+c]; !isZero(b) {
				binary.LittleEndian.PutUint64(off[:], addr-start)
				h.Write(off[:])
				h.Write(b)
			}
		}
		addr += c
		n -= c
	}
	var sum [32]byte
	h.Sum(sum[:0])
	return sum
}

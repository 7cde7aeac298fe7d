package dbt

import (
	"fmt"
	"sort"

	"github.com/twinsim/twinsim/memory"
)

// ChunkSize is the granularity at which a Backing places guest memory in
// a VM image: 64 KiB of guest addresses, aligned, go to one 64 KiB frame
// of the image, so that a host page of any supported size (4, 16 or
// 64 KiB) is contiguous in host memory and the core can address it
// directly.
const ChunkSize = 64 << 10

// Backing holds the bytes of a guest's memory and says where they are in
// host memory. There are two kinds:
//
//   - identity (NewIdentityBacking): a sparse memory of GuestSpaceTop
//     bytes in which the byte at guest address va is at host address va
//     — the guest alone on a host, as `twinsim exec` runs it;
//   - image (NewImageBacking): guest memory placed into a VM's image, a
//     range of a host's physical memory. A chunk of guest addresses gets
//     a frame of the image when the guest first maps a page in it (the
//     guest kernel's page allocator) and gives it back when its last page
//     is unmapped; mapping more than the image holds fails with ENOMEM,
//     as a VM out of memory does. The checkpoint controller then finds
//     everything the guest wrote in the image.
//
// Writes the firmware makes on the guest's behalf (system calls, zeroing,
// copies) are reported to OnWrite, so that they can go through the caches
// like the guest's own stores; the guest's own stores are the timing
// model's to report.
type Backing struct {
	phys       *memory.Physical
	image      bool
	base, size uint64            // the image: host physical range
	chunks     map[uint64]uint64 // image: guest chunk number → host physical address
	free       []uint64          // image: frames given back, reused last-in first-out
	next       uint64            // image: offset of the next frame never used
	// stale holds the host addresses of image pages that may hold a
	// former mapping's bytes: cleared when a page is mapped there again.
	stale map[uint64]struct{}
	// OnWrite, if set, is told of every write the firmware makes into
	// guest memory on the guest's behalf: the guest range written.
	OnWrite func(va, n uint64)
	// limit bounds the image bytes the guest's chunks may occupy (0: the
	// whole image), as a VM's memory allowance below its image.
	limit uint64
	// OnNoMemory, if set, is told when a mapping fails because the image
	// (or the limit) cannot hold it.
	OnNoMemory func()
}

// SetLimit bounds the image bytes the guest may occupy to limit (rounded
// down to whole 64 KiB frames; 0 or more than the image: the image). It
// takes nothing back: a guest above a lowered limit cannot grow.
func (b *Backing) SetLimit(limit uint64) {
	if limit >= b.size {
		limit = 0
	}
	b.limit = limit &^ (ChunkSize - 1)
}

// Limit returns the image bytes the guest may occupy.
func (b *Backing) Limit() uint64 {
	if b.limit == 0 {
		return b.size
	}
	return b.limit
}

// NewIdentityBacking returns an empty identity backing.
func NewIdentityBacking() (*Backing, error) {
	phys, err := memory.NewPhysical(GuestSpaceTop)
	if err != nil {
		return nil, err
	}
	return &Backing{phys: phys, size: GuestSpaceTop}, nil
}

// NewImageBacking returns a backing that places guest memory in
// [base, base+size) of phys, which must be 64 KiB aligned. The range must
// read as zeros: frames are handed out without clearing them the first
// time.
func NewImageBacking(phys *memory.Physical, base, size uint64) (*Backing, error) {
	switch {
	case base%ChunkSize != 0 || size%ChunkSize != 0 || size == 0:
		return nil, fmt.Errorf("guest image [%#x, +%#x) is not a positive multiple of 64 KiB, 64 KiB aligned", base, size)
	case !phys.Contains(base, size):
		return nil, fmt.Errorf("guest image [%#x, +%#x) lies outside host memory of %#x bytes", base, size, phys.Size())
	}
	return &Backing{phys: phys, image: true, base: base, size: size, chunks: map[uint64]uint64{}, stale: map[uint64]struct{}{}}, nil
}

// Physical returns the host memory that holds the guest's bytes.
func (b *Backing) Physical() *memory.Physical { return b.phys }

// InImage reports whether the backing places guest memory in a VM image.
func (b *Backing) InImage() bool { return b.image }

// Image returns the host physical range of the image (identity: the whole
// guest space).
func (b *Backing) Image() (base, size uint64) { return b.base, b.size }

// UsedBytes returns the image bytes the guest's chunks occupy now
// (identity: 0).
func (b *Backing) UsedBytes() uint64 { return uint64(len(b.chunks)) * ChunkSize }

// PA returns the host physical address of guest address va, and false if
// no frame holds it (an image backing's chunk not in use).
func (b *Backing) PA(va uint64) (uint64, bool) {
	if !b.image {
		return va, va < GuestSpaceTop
	}
	f, ok := b.chunks[va/ChunkSize]
	return f + va%ChunkSize, ok
}

// pa is PA for an address the caller knows is backed.
func (b *Backing) pa(va uint64) uint64 {
	p, ok := b.PA(va)
	if !ok {
		panic(fmt.Sprintf("dbt: guest address %#x has no frame in the image (twinsim bug: it is not mapped)", va))
	}
	return p
}

// reserve gives a frame to every chunk of [start, end) that has none;
// ENOMEM, changing nothing, if the image cannot hold them.
func (b *Backing) reserve(start, end uint64) Errno {
	if !b.image || start >= end {
		return 0
	}
	var need []uint64
	for c := start / ChunkSize; c <= (end-1)/ChunkSize; c++ {
		if _, ok := b.chunks[c]; !ok {
			need = append(need, c)
		}
	}
	if uint64(len(need)) > uint64(len(b.free))+(b.size-b.next)/ChunkSize ||
		uint64(len(b.chunks)+len(need))*ChunkSize > b.Limit() {
		if b.OnNoMemory != nil {
			b.OnNoMemory()
		}
		return ENOMEM
	}
	for _, c := range need {
		if n := len(b.free); n > 0 {
			b.chunks[c], b.free = b.free[n-1], b.free[:n-1]
			continue
		}
		b.chunks[c], b.next = b.base+b.next, b.next+ChunkSize
	}
	return 0
}

// unmapped follows the unmapping of the pages of [start, end). Identity:
// their bytes are zeroed and whole frames go back to the host, at no cost
// to the guest. Image: the bytes stay, as in a kernel's freed pages, and
// the pages are cleared when mapped again (mapped).
func (b *Backing) unmapped(start, end uint64) {
	if !b.image {
		b.phys.Zero(start, end-start)
		return
	}
	for va := start; va < end; va += GuestPageSize {
		if pa, ok := b.PA(va); ok {
			b.stale[pa] = struct{}{}
		}
	}
}

// mapped follows the mapping of the pages of [start, end): in an image, a
// page whose frame held a former mapping is cleared, as the guest kernel
// clears a page before handing it out (reported to OnWrite).
func (b *Backing) mapped(start, end uint64) {
	if !b.image || len(b.stale) == 0 {
		return
	}
	for va := start; va < end; va += GuestPageSize {
		pa := b.pa(va)
		if _, ok := b.stale[pa]; ok {
			delete(b.stale, pa)
			b.Zero(va, GuestPageSize)
		}
	}
}

// release gives back the frames of the chunks of [start, end) in which
// mapped reports no page mapped.
func (b *Backing) release(start, end uint64, mapped func(va uint64) bool) {
	if !b.image || start >= end {
		return
	}
	var gone []uint64
	for c := start / ChunkSize; c <= (end-1)/ChunkSize; c++ {
		if _, ok := b.chunks[c]; !ok {
			continue
		}
		used := false
		for va := c * ChunkSize; va < (c+1)*ChunkSize && !used; va += GuestPageSize {
			used = mapped(va)
		}
		if !used {
			gone = append(gone, c)
		}
	}
	sort.Slice(gone, func(i, j int) bool { return gone[i] < gone[j] })
	for _, c := range gone {
		b.free = append(b.free, b.chunks[c])
		delete(b.chunks, c)
	}
}

// each calls f for the pieces of [va, va+n) that lie in one chunk, with
// each piece's host physical address.
func (b *Backing) each(va, n uint64, f func(pa, off, n uint64)) {
	for off := uint64(0); off < n; {
		c := min(n-off, ChunkSize-(va+off)%ChunkSize)
		f(b.pa(va+off), off, c)
		off += c
	}
}

// Read copies guest memory at va into buf. It never allocates.
func (b *Backing) Read(va uint64, buf []byte) {
	if !b.image {
		b.phys.Read(va, buf)
		return
	}
	b.each(va, uint64(len(buf)), func(pa, off, n uint64) { b.phys.Read(pa, buf[off:off+n]) })
}

// Write copies buf into guest memory at va, as the firmware (reported to
// OnWrite).
func (b *Backing) Write(va uint64, buf []byte) {
	b.load(va, buf)
	b.wrote(va, uint64(len(buf)))
}

// load is Write without the report: the loader filling the image before
// the guest starts.
func (b *Backing) load(va uint64, buf []byte) {
	if !b.image {
		b.phys.Write(va, buf)
		return
	}
	b.each(va, uint64(len(buf)), func(pa, off, n uint64) { b.phys.Write(pa, buf[off:off+n]) })
}

// Zero clears [va, va+n) of guest memory, as the firmware (reported to
// OnWrite). Identity: whole frames go back to the host.
func (b *Backing) Zero(va, n uint64) {
	if !b.image {
		b.phys.Zero(va, n)
	} else {
		b.each(va, n, func(pa, _, n uint64) { b.phys.Zero(pa, n) })
	}
	b.wrote(va, n)
}

func (b *Backing) wrote(va, n uint64) {
	if b.OnWrite != nil && n > 0 {
		b.OnWrite(va, n)
	}
}

// Bytes returns the host bytes of [va, va+n), n a power of two up to
// ChunkSize and va aligned to it, for the core to access in place.
func (b *Backing) Bytes(va, n uint64) []byte {
	return b.phys.Bytes(b.pa(va), n)
}

// move copies n bytes from guest address from to guest address to (the
// ranges do not overlap), as the firmware (reported to OnWrite).
func (b *Backing) move(to, from, n uint64) {
	if !b.image {
		b.phys.Copy(b.phys, to, from, n) // frame by frame: untouched memory costs nothing
	} else {
		buf := make([]byte, min(n, ChunkSize))
		for off := uint64(0); off < n; off += uint64(len(buf)) {
			piece := buf[:min(uint64(len(buf)), n-off)]
			b.Read(from+off, piece)
			b.load(to+off, piece)
		}
	}
	b.wrote(to, n)
}

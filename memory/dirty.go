package memory

import (
	"fmt"
	"math/bits"
)

// DirtyTracker records which pages of a physical range were written, one bit
// per page, as page-modification logging (Intel PML) or a hypervisor's
// dirty bitmap would. It is the page-granularity baseline to the cache's
// image-modification line log: Bytes is what a page-dirty checkpoint moves.
type DirtyTracker struct {
	base, size uint64
	pageShift  uint
	bitmap     []uint64
	count      int
	outside    uint64
}

// NewDirtyTracker returns a clean tracker over [base, base+size) with pages
// of pageSize bytes, a power of two. base and size must be multiples of
// pageSize and size positive.
func NewDirtyTracker(base, size, pageSize uint64) (*DirtyTracker, error) {
	if pageSize == 0 || pageSize&(pageSize-1) != 0 {
		return nil, fmt.Errorf("dirty tracker page size %d is not a power of two", pageSize)
	}
	if size == 0 || size%pageSize != 0 {
		return nil, fmt.Errorf("dirty tracker size %d is not a positive multiple of the page size %d", size, pageSize)
	}
	if base%pageSize != 0 {
		return nil, fmt.Errorf("dirty tracker base %#x is not aligned to the page size %d", base, pageSize)
	}
	if base+size < base {
		return nil, fmt.Errorf("dirty tracker range [%#x, +%#x) wraps around the address space", base, size)
	}
	shift := uint(bits.TrailingZeros64(pageSize))
	pages := size >> shift
	return &DirtyTracker{
		base: base, size: size, pageShift: shift,
		bitmap: make([]uint64, (pages+63)/64),
	}, nil
}

// PageSize returns the tracking granularity in bytes.
func (d *DirtyTracker) PageSize() uint64 { return 1 << d.pageShift }

// Base returns the first address tracked.
func (d *DirtyTracker) Base() uint64 { return d.base }

// Size returns the number of bytes tracked.
func (d *DirtyTracker) Size() uint64 { return d.size }

// Mark records a write to addr. Addresses outside the tracked range are
// ignored and counted by Outside.
func (d *DirtyTracker) Mark(addr uint64) {
	off := addr - d.base
	if addr < d.base || off >= d.size {
		d.outside++
		return
	}
	pg := off >> d.pageShift
	w, b := &d.bitmap[pg/64], uint64(1)<<(pg%64)
	if *w&b == 0 {
		*w |= b
		d.count++
	}
}

// IsDirty reports whether the page containing addr is marked; addresses
// outside the range are never dirty.
func (d *DirtyTracker) IsDirty(addr uint64) bool {
	off := addr - d.base
	if addr < d.base || off >= d.size {
		return false
	}
	pg := off >> d.pageShift
	return d.bitmap[pg/64]&(1<<(pg%64)) != 0
}

// Count returns the number of dirty pages.
func (d *DirtyTracker) Count() int { return d.count }

// Bytes returns the dirty pages' total size: Count × PageSize.
func (d *DirtyTracker) Bytes() uint64 { return uint64(d.count) << d.pageShift }

// Outside returns how many marks fell outside the tracked range.
func (d *DirtyTracker) Outside() uint64 { return d.outside }

// Pages calls fn with the base address of every dirty page in ascending
// order.
func (d *DirtyTracker) Pages(fn func(pageBase uint64)) {
	for i, w := range d.bitmap {
		for w != 0 {
			b := uint64(bits.TrailingZeros64(w))
			w &= w - 1
			fn(d.base + (uint64(i)*64+b)<<d.pageShift)
		}
	}
}

// Reset marks every page clean. The Outside count is kept.
func (d *DirtyTracker) Reset() {
	if d.count == 0 {
		return
	}
	clear(d.bitmap)
	d.count = 0
}

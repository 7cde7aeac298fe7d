package dbt

// Page placement for guests without a VM image. Such a guest's bytes are
// identity-backed, so by default its host address is its guest address:
// its pages are contiguous in host physical memory, as in a freshly booted
// machine or a simulator's syscall-emulation mode. A long-running Linux
// hands out page frames in no useful order, and that order decides which
// sets of a physically indexed cache a footprint's pages fall in (page
// colouring): a footprint as large as a cache already loses lines to
// conflicts where too many of its pages share a colour. A scatter gives
// each host page a frame drawn by a seeded permutation instead.

// scatterBits is how many low bits of the host page number the
// permutation shuffles: pages move within aligned windows of 2^20 host
// pages (4 GiB of 4 KiB pages), so the addresses' upper bits, which keep
// guests, redirected frames and the translator's memory apart, stay put.
const scatterBits = 20

// scatter is a keyed permutation of host page frames: a four-round Feistel
// network on the two 10-bit halves of the page number's low scatterBits
// bits. Every round is invertible whatever its function, so the whole is a
// bijection: no two pages ever share a frame.
type scatter struct {
	shift uint      // log2 of the host page size
	keys  [4]uint64 // one per round, from the seed
	// The last page and its frame: consecutive accesses mostly share a
	// page.
	lastPage, lastFrame uint64
	valid               bool
}

func newScatter(shift uint, seed uint64) *scatter {
	s := &scatter{shift: shift}
	k := seed
	for i := range s.keys {
		k = mix64(k + 0x9E3779B97F4A7C15)
		s.keys[i] = k
	}
	return s
}

// mix64 is a 64-bit finaliser (Stafford's Mix13, as in SplitMix64): close
// inputs give unrelated outputs.
func mix64(x uint64) uint64 {
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
	x = (x ^ (x >> 27)) * 0x94D049BB133111EB
	return x ^ (x >> 31)
}

// frame returns the host page number page is placed at.
func (s *scatter) frame(page uint64) uint64 {
	const half = scatterBits / 2
	const mask = 1<<half - 1
	l, r := page>>half&mask, page&mask
	for _, k := range s.keys {
		l, r = r, l^(mix64(r^k)&mask)
	}
	return page&^(1<<scatterBits-1) | l<<half | r
}

// addr returns the host address a is placed at.
func (s *scatter) addr(a uint64) uint64 {
	page := a >> s.shift
	if !s.valid || page != s.lastPage {
		s.lastPage, s.lastFrame, s.valid = page, s.frame(page), true
	}
	return s.lastFrame<<s.shift | a&(1<<s.shift-1)
}

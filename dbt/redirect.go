package dbt

import "sort"

// RedirectBase is the host address of the redirection pool: the host
// frames the redirection page mapper gives the guest pages of mixed host
// pages. It lies above every guest address and the code cache.
const RedirectBase = 1 << 42

// redirector is the redirection page mapper (PATENTS.md family 1): each
// 4 KiB guest page of a mixed host page gets a host frame of its own in
// the redirection pool, recorded here, and the firmware and inline walks
// reach the page there, since its host page cannot be mapped directly.
// The mapping is brought up to date after every change of the guest's
// layout: pages whose host page became mixed get frames, and frames of
// pages whose host page became uniform again (mapped directly once more)
// or that were unmapped return to a free list.
//
// The timing model asks HostAddr for the host address of every access, so
// the caches see redirected pages at their frames.
type redirector struct {
	shift  uint              // host page size, log2
	mixed  []uint64          // bit per host page number: mixed
	frames map[uint64]uint64 // guest page → its frame
	free   []uint64          // frames given back, reused last-in first-out
	next   uint64            // the next frame never used
	// place, if set, gives each redirected guest page its frame instead
	// of the pool (a guest in a VM image: the page's own frame there).
	place func(gp uint64) uint64
	// Allocated counts frames handed out (reuses included).
	Allocated uint64
}

func newRedirector(shift uint) *redirector {
	return &redirector{shift: shift, frames: map[uint64]uint64{}, next: RedirectBase}
}

// HostAddr returns the host address of guest address va: its redirected
// frame if its host page is mixed, else va itself (a direct mapping).
func (r *redirector) HostAddr(va uint64) uint64 {
	hp := va >> r.shift
	if w := hp >> 6; w >= uint64(len(r.mixed)) || r.mixed[w]&(1<<(hp&63)) == 0 {
		return va
	}
	if f, ok := r.frames[pageDown(va)]; ok {
		return f | va&(GuestPageSize-1)
	}
	return va
}

// Pages returns how many guest pages are redirected now.
func (r *redirector) Pages() int { return len(r.frames) }

// update makes the mapping that of pages, the mapped guest pages of mixed
// host pages in address order.
func (r *redirector) update(pages []uint64) {
	for i := range r.mixed {
		r.mixed[i] = 0
	}
	keep := make(map[uint64]bool, len(pages))
	for _, gp := range pages {
		keep[gp] = true
		hp := gp >> r.shift
		for uint64(len(r.mixed)) <= hp>>6 {
			r.mixed = append(r.mixed, 0)
		}
		r.mixed[hp>>6] |= 1 << (hp & 63)
	}
	// Frames of pages no longer redirected go back, in address order so
	// that the reuse is deterministic.
	var gone []uint64
	for gp := range r.frames {
		if !keep[gp] {
			gone = append(gone, gp)
		}
	}
	sort.Slice(gone, func(i, j int) bool { return gone[i] < gone[j] })
	for _, gp := range gone {
		if r.place == nil {
			r.free = append(r.free, r.frames[gp])
		}
		delete(r.frames, gp)
	}
	for _, gp := range pages {
		if _, ok := r.frames[gp]; ok {
			continue
		}
		var f uint64
		if r.place != nil {
			r.frames[gp] = r.place(gp)
			r.Allocated++
			continue
		}
		if n := len(r.free); n > 0 {
			f, r.free = r.free[n-1], r.free[:n-1]
		} else {
			f, r.next = r.next, r.next+GuestPageSize
		}
		r.frames[gp] = f
		r.Allocated++
	}
}

package memory

import (
	"fmt"
	"math/bits"

	"github.com/twinsim/twinsim/sim"
)

// tlbEntry is one way of one set. lastUse is the TLB's access clock at the
// entry's most recent hit or fill; 0 marks an empty way.
type tlbEntry struct {
	vpn     uint64
	pte     PTE
	lastUse uint64
}

// TLB is a set-associative translation lookaside buffer with true LRU
// replacement in each set. The set is the low bits of the virtual page
// number. Lookup and Insert do not allocate.
//
// Statistics under its scope: "hits", "misses", "evictions", "flushes"
// (whole-TLB flushes) and the derived "hit_rate".
type TLB struct {
	entries   []tlbEntry // set s occupies entries[s*ways : (s+1)*ways]
	ways      int
	setMask   uint64
	pageShift uint
	pageSize  uint64
	clock     uint64

	hits, misses, evictions, flushes *sim.Counter
}

// NewTLB returns an empty TLB of the given number of entries and ways for
// pages of pageSize bytes. entries must be a positive multiple of ways and
// entries/ways (the number of sets) a power of two; ways = entries gives a
// fully associative TLB.
func NewTLB(scope sim.Scope, entries, ways int, pageSize uint64) (*TLB, error) {
	if ways <= 0 {
		return nil, fmt.Errorf("tlb %s: ways %d must be at least 1", scope.Name(), ways)
	}
	if entries <= 0 || entries%ways != 0 {
		return nil, fmt.Errorf("tlb %s: entries %d is not a positive multiple of ways %d", scope.Name(), entries, ways)
	}
	sets := entries / ways
	if sets&(sets-1) != 0 {
		return nil, fmt.Errorf("tlb %s: %d entries / %d ways gives %d sets, not a power of two", scope.Name(), entries, ways, sets)
	}
	if err := checkPageSize(pageSize); err != nil {
		return nil, fmt.Errorf("tlb %s: %w", scope.Name(), err)
	}
	t := &TLB{
		entries:   make([]tlbEntry, entries),
		ways:      ways,
		setMask:   uint64(sets - 1),
		pageShift: uint(bits.TrailingZeros64(pageSize)),
		pageSize:  pageSize,
		hits:      scope.Counter("hits", "TLB lookups that found the page"),
		misses:    scope.Counter("misses", "TLB lookups that did not find the page"),
		evictions: scope.Counter("evictions", "valid entries replaced by a fill"),
		flushes:   scope.Counter("flushes", "whole-TLB flushes"),
	}
	scope.Value("hit_rate", "hits / (hits + misses); 0 before the first lookup", t.HitRate)
	return t, nil
}

// Entries returns the number of entries.
func (t *TLB) Entries() int { return len(t.entries) }

// Ways returns the associativity.
func (t *TLB) Ways() int { return t.ways }

// PageSize returns the page size the TLB translates.
func (t *TLB) PageSize() uint64 { return t.pageSize }

// HitRate returns hits / (hits + misses), or 0 before any lookup.
func (t *TLB) HitRate() float64 {
	n := t.hits.Value() + t.misses.Value()
	if n == 0 {
		return 0
	}
	return float64(t.hits.Value()) / float64(n)
}

func (t *TLB) set(vpn uint64) []tlbEntry {
	s := int(vpn&t.setMask) * t.ways
	return t.entries[s : s+t.ways]
}

// Lookup returns the cached entry for the page containing va, counting a hit
// or a miss; a hit makes the entry the most recently used of its set.
func (t *TLB) Lookup(va uint64) (pte PTE, hit bool) {
	vpn := va >> t.pageShift
	set := t.set(vpn)
	for i := range set {
		e := &set[i]
		if e.lastUse != 0 && e.vpn == vpn {
			t.clock++
			e.lastUse = t.clock
			t.hits.Inc()
			return e.pte, true
		}
	}
	t.misses.Inc()
	return PTE{}, false
}

// Contains reports whether the page containing va is cached, without
// counting a lookup or changing the LRU order.
func (t *TLB) Contains(va uint64) bool {
	vpn := va >> t.pageShift
	for _, e := range t.set(vpn) {
		if e.lastUse != 0 && e.vpn == vpn {
			return true
		}
	}
	return false
}

// Insert caches pte for the page containing va as the most recently used
// entry of its set: it replaces an entry for the same page, else fills an
// empty way, else evicts the least recently used entry.
func (t *TLB) Insert(va uint64, pte PTE) {
	vpn := va >> t.pageShift
	set := t.set(vpn)
	victim := 0
	for i := range set {
		e := &set[i]
		if e.lastUse != 0 && e.vpn == vpn {
			victim = i
			break
		}
		if e.lastUse < set[victim].lastUse {
			victim = i
		}
	}
	e := &set[victim]
	if e.lastUse != 0 && e.vpn != vpn {
		t.evictions.Inc()
	}
	t.clock++
	*e = tlbEntry{vpn: vpn, pte: pte, lastUse: t.clock}
}

// FlushPage drops the entry for the page containing va, if cached.
func (t *TLB) FlushPage(va uint64) {
	vpn := va >> t.pageShift
	set := t.set(vpn)
	for i := range set {
		if set[i].lastUse != 0 && set[i].vpn == vpn {
			set[i] = tlbEntry{}
		}
	}
}

// Flush drops every entry.
func (t *TLB) Flush() {
	clear(t.entries)
	t.flushes.Inc()
}

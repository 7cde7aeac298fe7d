package memory

import (
	"fmt"

	"github.com/twinsim/twinsim/sim"
)

// MMU translates virtual addresses through an optional TLB and a page
// table. A TLB hit costs no extra cycles; a miss walks the page table for a
// fixed walkCycles and fills the TLB. Faults are returned as values.
//
// Statistics under its scope: "translations", "walks", "walk_cycles",
// "faults", "faults_not_mapped" and "faults_protection".
type MMU struct {
	pt         *PageTable
	tlb        *TLB
	walkCycles uint64
	pageMask   uint64

	translations, walks, walkCyc, faults, notMapped, protection *sim.Counter
}

// NewMMU returns an MMU over pt, caching translations in tlb (nil for no
// TLB, so every translation walks), charging walkCycles per walk. A nil page
// table or a TLB whose page size differs from the table's is a twinsim bug
// and panics.
func NewMMU(scope sim.Scope, pt *PageTable, tlb *TLB, walkCycles uint64) *MMU {
	if pt == nil {
		panic(fmt.Sprintf("memory: MMU %s built without a page table", scope.Name()))
	}
	if tlb != nil && tlb.PageSize() != pt.PageSize() {
		panic(fmt.Sprintf("memory: MMU %s: TLB page size %d differs from page-table page size %d",
			scope.Name(), tlb.PageSize(), pt.PageSize()))
	}
	return &MMU{
		pt:           pt,
		tlb:          tlb,
		walkCycles:   walkCycles,
		pageMask:     pt.PageSize() - 1,
		translations: scope.Counter("translations", "addresses translated (including faulting ones)"),
		walks:        scope.Counter("walks", "page-table walks (TLB misses, or every translation without a TLB)"),
		walkCyc:      scope.Counter("walk_cycles", "cycles charged for page-table walks"),
		faults:       scope.Counter("faults", "translations that faulted"),
		notMapped:    scope.Counter("faults_not_mapped", "faults on unmapped pages"),
		protection:   scope.Counter("faults_protection", "faults forbidden by page permissions"),
	}
}

// PageTable returns the page table the MMU walks.
func (m *MMU) PageTable() *PageTable { return m.pt }

// TLB returns the MMU's TLB, or nil if it has none.
func (m *MMU) TLB() *TLB { return m.tlb }

// WalkCycles returns the cycles charged per page-table walk.
func (m *MMU) WalkCycles() uint64 { return m.walkCycles }

// Translate returns the physical address of va for an access of kind k and
// the cycles the translation cost beyond a TLB hit (0 or walkCycles). On a
// fault pa is 0 and f describes it; cycles still include any walk. It does
// not allocate unless it faults.
func (m *MMU) Translate(va uint64, k AccessKind) (pa uint64, cycles uint64, f *Fault) {
	m.translations.Inc()
	var pte PTE
	hit := false
	if m.tlb != nil {
		pte, hit = m.tlb.Lookup(va)
	}
	if !hit {
		cycles = m.walkCycles
		m.walks.Inc()
		m.walkCyc.Add(m.walkCycles)
		var ok bool
		pte, ok = m.pt.Lookup(va)
		if !ok {
			return 0, cycles, m.fault(va, k, NotMapped, 0)
		}
		if m.tlb != nil {
			m.tlb.Insert(va, pte)
		}
	}
	if !pte.Perm.Allows(k) {
		return 0, cycles, m.fault(va, k, Protection, pte.Perm)
	}
	return pte.PA | va&m.pageMask, cycles, nil
}

func (m *MMU) fault(va uint64, k AccessKind, r FaultReason, p Perm) *Fault {
	m.faults.Inc()
	if r == NotMapped {
		m.notMapped.Inc()
	} else {
		m.protection.Inc()
	}
	return &Fault{VA: va, Kind: k, Reason: r, Perm: p}
}

// Invalidate drops any cached translation of the page containing va; call it
// after changing that page's mapping or permissions in the page table.
func (m *MMU) Invalidate(va uint64) {
	if m.tlb != nil {
		m.tlb.FlushPage(va)
	}
}

// InvalidateAll drops every cached translation.
func (m *MMU) InvalidateAll() {
	if m.tlb != nil {
		m.tlb.Flush()
	}
}

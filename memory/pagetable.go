package memory

import (
	"fmt"
	"math/bits"
)

// Page sizes NewPageTable, NewTLB accept.
const (
	MinPageSize = 4 << 10 // 4 KiB
	MaxPageSize = 1 << 30 // 1 GiB
)

// checkPageSize reports an error unless size is a power of two in
// [MinPageSize, MaxPageSize].
func checkPageSize(size uint64) error {
	if size < MinPageSize || size > MaxPageSize || size&(size-1) != 0 {
		return fmt.Errorf("page size %d is not a power of two between 4 KiB and 1 GiB", size)
	}
	return nil
}

// PTE is a page-table entry: the physical base address of the page and its
// permissions.
type PTE struct {
	PA   uint64 // physical address of the page's first byte
	Perm Perm
}

const (
	ptBits  = 9 // index bits per radix level: 512 entries per node
	ptFan   = 1 << ptBits
	ptMask  = ptFan - 1
	ptValid = 1 << 4 // in a leaf word: the entry is mapped; bits 0-3 are the Perm
)

// ptNode is one node of the radix tree: an interior node has kids, a leaf
// has ptes, each word holding PA | ptValid | Perm.
type ptNode struct {
	kids []*ptNode
	ptes []uint64
	used int // non-empty slots, so empty nodes can be freed
}

// PageTable maps virtual pages of one power-of-two size to physical pages
// with permissions. It is a radix tree of 512-entry nodes over the virtual
// page number, so lookups cost one pointer per level and Range visits pages
// in ascending address order. The zero value is not usable; call
// NewPageTable.
type PageTable struct {
	pageSize  uint64
	pageShift uint
	levels    int
	root      *ptNode
	n         int
}

// NewPageTable returns an empty page table for pages of pageSize bytes, a
// power of two from 4 KiB to 1 GiB.
func NewPageTable(pageSize uint64) (*PageTable, error) {
	if err := checkPageSize(pageSize); err != nil {
		return nil, err
	}
	shift := uint(bits.TrailingZeros64(pageSize))
	levels := (64 - int(shift) + ptBits - 1) / ptBits
	t := &PageTable{pageSize: pageSize, pageShift: shift, levels: levels}
	t.root = t.newNode(levels - 1)
	return t, nil
}

// newNode returns an empty node at the given depth above the leaves.
func (t *PageTable) newNode(height int) *ptNode {
	if height == 0 {
		return &ptNode{ptes: make([]uint64, ptFan)}
	}
	return &ptNode{kids: make([]*ptNode, ptFan)}
}

// PageSize returns the page size in bytes.
func (t *PageTable) PageSize() uint64 { return t.pageSize }

// Len returns the number of mapped pages.
func (t *PageTable) Len() int { return t.n }

// leaf returns the leaf node covering virtual page vpn, or nil.
func (t *PageTable) leaf(vpn uint64) *ptNode {
	n := t.root
	for h := t.levels - 1; h > 0; h-- {
		n = n.kids[(vpn>>(uint(h)*ptBits))&ptMask]
		if n == nil {
			return nil
		}
	}
	return n
}

// Lookup returns the entry of the page containing va.
func (t *PageTable) Lookup(va uint64) (PTE, bool) {
	vpn := va >> t.pageShift
	n := t.leaf(vpn)
	if n == nil {
		return PTE{}, false
	}
	e := n.ptes[vpn&ptMask]
	if e&ptValid == 0 {
		return PTE{}, false
	}
	return PTE{PA: e &^ (t.pageSize - 1), Perm: Perm(e & uint64(permAll))}, true
}

// Map maps the page at va to the physical page at pa with permissions perm,
// replacing any existing mapping of va. Both addresses must be aligned to
// the page size.
func (t *PageTable) Map(va, pa uint64, perm Perm) error {
	if va&(t.pageSize-1) != 0 {
		return fmt.Errorf("map: virtual address %#x is not aligned to the %d-byte page size", va, t.pageSize)
	}
	if pa&(t.pageSize-1) != 0 {
		return fmt.Errorf("map: physical address %#x is not aligned to the %d-byte page size", pa, t.pageSize)
	}
	if perm&^permAll != 0 {
		return fmt.Errorf("map: permissions %#x have bits other than read, write, exec and user", uint8(perm))
	}
	vpn := va >> t.pageShift
	n := t.root
	for h := t.levels - 1; h > 0; h-- {
		i := (vpn >> (uint(h) * ptBits)) & ptMask
		next := n.kids[i]
		if next == nil {
			next = t.newNode(h - 1)
			n.kids[i] = next
			n.used++
		}
		n = next
	}
	i := vpn & ptMask
	if n.ptes[i]&ptValid == 0 {
		n.used++
		t.n++
	}
	n.ptes[i] = pa | ptValid | uint64(perm)
	return nil
}

// Protect changes the permissions of the mapped page at va, which must be
// aligned to the page size.
func (t *PageTable) Protect(va uint64, perm Perm) error {
	if va&(t.pageSize-1) != 0 {
		return fmt.Errorf("protect: virtual address %#x is not aligned to the %d-byte page size", va, t.pageSize)
	}
	if perm&^permAll != 0 {
		return fmt.Errorf("protect: permissions %#x have bits other than read, write, exec and user", uint8(perm))
	}
	vpn := va >> t.pageShift
	n := t.leaf(vpn)
	if n == nil || n.ptes[vpn&ptMask]&ptValid == 0 {
		return fmt.Errorf("protect: virtual address %#x is not mapped", va)
	}
	e := &n.ptes[vpn&ptMask]
	*e = *e&^uint64(permAll) | uint64(perm)
	return nil
}

// Unmap removes the mapping of the page containing va and reports whether
// there was one. Nodes left empty are freed.
func (t *PageTable) Unmap(va uint64) bool {
	vpn := va >> t.pageShift
	var path [8]*ptNode // levels ≤ 6 for pages ≥ 4 KiB
	n := t.root
	for h := t.levels - 1; h > 0; h-- {
		path[h] = n
		n = n.kids[(vpn>>(uint(h)*ptBits))&ptMask]
		if n == nil {
			return false
		}
	}
	i := vpn & ptMask
	if n.ptes[i]&ptValid == 0 {
		return false
	}
	n.ptes[i] = 0
	n.used--
	t.n--
	for h := 1; h < t.levels && n.used == 0; h++ {
		parent := path[h]
		parent.kids[(vpn>>(uint(h)*ptBits))&ptMask] = nil
		parent.used--
		n = parent
	}
	return true
}

// Translate returns the physical address of va for an access of kind k, or
// a fault if the page is not mapped or its permissions forbid the access.
// PermUser is not checked. It allocates only when it returns a fault.
func (t *PageTable) Translate(va uint64, k AccessKind) (pa uint64, f *Fault) {
	pte, ok := t.Lookup(va)
	if !ok {
		return 0, &Fault{VA: va, Kind: k, Reason: NotMapped}
	}
	if !pte.Perm.Allows(k) {
		return 0, &Fault{VA: va, Kind: k, Reason: Protection, Perm: pte.Perm}
	}
	return pte.PA | va&(t.pageSize-1), nil
}

// Range calls fn for every mapped page in ascending virtual address order
// until fn returns false. fn must not change the table.
func (t *PageTable) Range(fn func(va uint64, pte PTE) bool) {
	t.rangeNode(t.root, t.levels-1, 0, fn)
}

func (t *PageTable) rangeNode(n *ptNode, height int, prefix uint64, fn func(uint64, PTE) bool) bool {
	if height == 0 {
		for i, e := range n.ptes {
			if e&ptValid == 0 {
				continue
			}
			vpn := prefix<<ptBits | uint64(i)
			pte := PTE{PA: e &^ (t.pageSize - 1), Perm: Perm(e & uint64(permAll))}
			if !fn(vpn<<t.pageShift, pte) {
				return false
			}
		}
		return true
	}
	for i, k := range n.kids {
		if k != nil && !t.rangeNode(k, height-1, prefix<<ptBits|uint64(i), fn) {
			return false
		}
	}
	return true
}

package dbt

import (
	"fmt"
	"sort"

	"github.com/twinsim/twinsim/memory"
)

// Guest address-space layout (RV64 Linux, Sv39: 256 GiB of user space).
const (
	GuestSpaceTop = 1 << 38            // one past the highest user address
	StackTop      = GuestSpaceTop - 16 // the initial stack's top, as BuildStack wants it (16-aligned)
	StackSize     = 8 << 20            // the main stack (RLIMIT_STACK's usual 8 MiB)
	mmapGap       = 128 << 20          // between the stack's lowest address and the first mmap
	MmapTop       = GuestSpaceTop - StackSize - mmapGap
)

// Errno is a Linux error number; system calls return its negation.
type Errno uint16

// Linux error numbers used by the emulation (asm-generic/errno-base.h,
// errno.h).
const (
	EPERM   Errno = 1
	ENOENT  Errno = 2
	ESRCH   Errno = 3
	EIO     Errno = 5
	EBADF   Errno = 9
	EAGAIN  Errno = 11
	ENOMEM  Errno = 12
	EACCES  Errno = 13
	EFAULT  Errno = 14
	EEXIST  Errno = 17
	ENOTDIR Errno = 20
	EISDIR  Errno = 21
	EINVAL  Errno = 22
	EMFILE  Errno = 24
	ENOTTY  Errno = 25
	ESPIPE  Errno = 29
	ERANGE  Errno = 34
	ENOSYS  Errno = 38
	// ETIMEDOUT is asm-generic/errno.h's.
	ETIMEDOUT Errno = 110
)

// Area is a contiguous range of guest pages with one protection, as
// /proc/self/maps lists them.
type Area struct {
	Start, End uint64 // page aligned, End exclusive
	Perm       Perm
	Name       string // "text", "data", "[heap]", "[stack]", "anon", or a file name
}

// AddressSpace is a guest process's virtual memory at the guest's 4 KiB page
// granularity: the areas that the loader, brk, mmap, munmap, mprotect and
// mremap create and change; a guest page table (a memory.PageTable of 4 KiB
// pages) holding each mapped page's protection; and the bytes, in a sparse
// guest memory where the page at guest address va is kept at va. Reads and
// writes made on the guest's behalf (system-call arguments) check the
// guest's own protections.
//
// How guest pages are placed in host memory — directly in uniform 64 KiB
// host pages or redirected for mixed ones — is the page-size manager's
// business: it follows every change through OnChange.
type AddressSpace struct {
	pt    *memory.PageTable
	mem   *Backing
	areas []Area // sorted by Start, non-overlapping, adjacent equal areas merged

	brkBase, brk uint64
	mmapTop      uint64

	// OnChange, if set, is called after the mapping or protection of the
	// pages in [start, end) changed.
	OnChange func(start, end uint64)
}

// NewAddressSpace returns an empty address space on an identity backing.
func NewAddressSpace() (*AddressSpace, error) {
	mem, err := NewIdentityBacking()
	if err != nil {
		return nil, err
	}
	return NewAddressSpaceIn(mem)
}

// NewAddressSpaceIn returns an empty address space whose bytes mem holds.
func NewAddressSpaceIn(mem *Backing) (*AddressSpace, error) {
	pt, err := memory.NewPageTable(GuestPageSize)
	if err != nil {
		return nil, err
	}
	return &AddressSpace{pt: pt, mem: mem, mmapTop: MmapTop}, nil
}

// Backing returns where the guest's bytes are.
func (as *AddressSpace) Backing() *Backing { return as.mem }

// Memory returns the host memory holding the guest's bytes (for an
// identity backing, the byte at guest address va is at va).
func (as *AddressSpace) Memory() *memory.Physical { return as.mem.Physical() }

// PageTable returns the guest page table (4 KiB pages, identity physical
// addresses, the guest's protections).
func (as *AddressSpace) PageTable() *memory.PageTable { return as.pt }

// Areas returns a copy of the areas, in address order.
func (as *AddressSpace) Areas() []Area { return append([]Area(nil), as.areas...) }

func pageDown(a uint64) uint64 { return a &^ (GuestPageSize - 1) }
func pageUp(a uint64) uint64   { return (a + GuestPageSize - 1) &^ (GuestPageSize - 1) }

// hostPerm converts a guest protection to page-table permissions: RISC-V
// has no write-only pages, so write implies read, as Linux maps it.
func hostPerm(p Perm) memory.Perm {
	if p&PermW != 0 {
		p |= PermR
	}
	return memory.Perm(p)&(memory.PermRead|memory.PermWrite|memory.PermExec) | memory.PermUser
}

// LoadProgram maps prog's segments (each rounded out to whole pages; a page
// that two segments share gets both protections, as the kernel's page
// granularity forces), copies their file bytes, and sets the program break
// after the last segment.
func (as *AddressSpace) LoadProgram(prog *Program) error {
	for _, s := range prog.Segments {
		start, end := pageDown(s.Vaddr), pageUp(s.Vaddr+s.Memsz)
		perm := s.Perm
		for _, a := range as.overlapping(start, end) {
			perm |= a.Perm // a shared boundary page
		}
		if err := as.mapRange(start, end, perm, segmentName(s.Perm)); err != 0 {
			return fmt.Errorf("mapping segment %#x..%#x: %s", s.Vaddr, s.Vaddr+s.Memsz, err)
		}
		as.mem.load(s.Vaddr, s.Data)
	}
	as.brkBase = prog.Brk()
	as.brk = as.brkBase
	return nil
}

func segmentName(p Perm) string {
	if p&PermX != 0 {
		return "text"
	}
	return "data"
}

// MapStack maps the main stack, StackSize bytes below StackTop rounded to
// pages, and stores image (from BuildStack) at its top.
func (as *AddressSpace) MapStack(sp uint64, image []byte) error {
	end := pageUp(StackTop)
	start := end - StackSize
	if sp < start || sp+uint64(len(image)) > end {
		return fmt.Errorf("the initial stack (%d bytes) does not fit the %d-byte stack", len(image), StackSize)
	}
	if err := as.mapRange(start, end, PermR|PermW, "[stack]"); err != 0 {
		return fmt.Errorf("mapping the stack: %s", err)
	}
	as.mem.load(sp, image)
	return nil
}

// overlapping returns the areas that intersect [start, end).
func (as *AddressSpace) overlapping(start, end uint64) []Area {
	var out []Area
	for _, a := range as.areas {
		if a.Start < end && start < a.End {
			out = append(out, a)
		}
	}
	return out
}

// mapRange maps [start, end) with perm, replacing whatever was there
// (whose bytes are zeroed, as a fresh mapping reads zeros).
func (as *AddressSpace) mapRange(start, end uint64, perm Perm, name string) Errno {
	if start >= end || end > GuestSpaceTop || start < GuestPageSize {
		return ENOMEM
	}
	as.unmapRange(start, end)
	if err := as.mem.reserve(start, end); err != 0 {
		return err
	}
	as.mem.mapped(start, end)
	hp := hostPerm(perm)
	for va := start; va < end; va += GuestPageSize {
		if err := as.pt.Map(va, va, hp); err != nil {
			panic(fmt.Sprintf("dbt: mapping guest page %#x: %v", va, err))
		}
	}
	as.areas = append(as.areas, Area{Start: start, End: end, Perm: perm, Name: name})
	as.normalize()
	as.changed(start, end)
	return 0
}

// unmapRange removes every mapping in [start, end) and zeroes the bytes.
func (as *AddressSpace) unmapRange(start, end uint64) {
	var kept []Area
	touched := false
	for _, a := range as.areas {
		if a.End <= start || a.Start >= end {
			kept = append(kept, a)
			continue
		}
		touched = true
		if a.Start < start {
			kept = append(kept, Area{a.Start, start, a.Perm, a.Name})
		}
		if a.End > end {
			kept = append(kept, Area{end, a.End, a.Perm, a.Name})
		}
		lo, hi := max(a.Start, start), min(a.End, end)
		for va := lo; va < hi; va += GuestPageSize {
			as.pt.Unmap(va)
		}
		as.mem.unmapped(lo, hi)
		as.mem.release(lo, hi, as.mapped)
	}
	if touched {
		as.areas = kept
		as.normalize()
		as.changed(start, end)
	}
}

// mapped reports whether the guest page holding va is mapped.
func (as *AddressSpace) mapped(va uint64) bool {
	_, ok := as.pt.Lookup(va)
	return ok
}

// normalize sorts the areas and merges neighbours with equal protection
// and name.
func (as *AddressSpace) normalize() {
	sort.Slice(as.areas, func(i, j int) bool { return as.areas[i].Start < as.areas[j].Start })
	out := as.areas[:0]
	for _, a := range as.areas {
		if n := len(out); n > 0 && out[n-1].End == a.Start && out[n-1].Perm == a.Perm && out[n-1].Name == a.Name {
			out[n-1].End = a.End
			continue
		}
		out = append(out, a)
	}
	as.areas = out
}

func (as *AddressSpace) changed(start, end uint64) {
	if as.OnChange != nil {
		as.OnChange(start, end)
	}
}

// Lookup returns the protection of the page holding va.
func (as *AddressSpace) Lookup(va uint64) (Perm, bool) {
	for _, a := range as.areas {
		if va >= a.Start && va < a.End {
			return a.Perm, true
		}
	}
	return 0, false
}

// Mmap flags (asm-generic/mman-common.h) that the emulation understands.
const (
	MapShared         = 0x01
	MapPrivate        = 0x02
	MapFixed          = 0x10
	MapAnonymous      = 0x20
	MapFixedNoReplace = 0x100000
	MapNoReserve      = 0x4000
	MapGrowsDown      = 0x100
	MapStack          = 0x20000
	MapPopulate       = 0x8000
	MapNorm           = MapShared | MapPrivate | MapFixed | MapAnonymous | MapFixedNoReplace | MapNoReserve | MapGrowsDown | MapStack | MapPopulate | 0x800 /* MAP_DENYWRITE */ | 0x1000 /* MAP_EXECUTABLE */ | 0x10000 /* MAP_NONBLOCK */
)

// Mmap maps length bytes (rounded up to pages) with protection prot at
// addr (a hint, or exactly with MapFixed / MapFixedNoReplace) and returns
// the address. Without a usable hint areas are placed top-down below
// MmapTop in the first gap that fits, as Linux does. The new pages read as
// zeros; the caller copies file contents for file mappings.
func (as *AddressSpace) Mmap(addr, length uint64, prot Perm, flags uint64, name string) (uint64, Errno) {
	if length == 0 || length > GuestSpaceTop || prot&^(PermR|PermW|PermX) != 0 {
		return 0, EINVAL
	}
	if flags&(MapShared|MapPrivate) == 0 || flags&^MapNorm != 0 {
		return 0, EINVAL
	}
	size := pageUp(length)
	if flags&(MapFixed|MapFixedNoReplace) != 0 {
		if addr%GuestPageSize != 0 {
			return 0, EINVAL
		}
		if addr+size > GuestSpaceTop || addr+size < addr || addr < GuestPageSize {
			return 0, ENOMEM
		}
		if flags&MapFixedNoReplace != 0 && len(as.overlapping(addr, addr+size)) > 0 {
			return 0, EEXIST
		}
		return addr, as.mapRange(addr, addr+size, prot, name)
	}
	if addr != 0 {
		hint := pageDown(addr)
		if hint >= GuestPageSize && hint+size <= as.mmapTop && hint+size > hint && len(as.overlapping(hint, hint+size)) == 0 {
			return hint, as.mapRange(hint, hint+size, prot, name)
		}
	}
	at, ok := as.findGap(size)
	if !ok {
		return 0, ENOMEM
	}
	return at, as.mapRange(at, at+size, prot, name)
}

// findGap returns the highest address below mmapTop where size bytes are
// free, above the program break's area.
func (as *AddressSpace) findGap(size uint64) (uint64, bool) {
	top := as.mmapTop
	floor := pageUp(as.brk) + mmapGap
	for i := len(as.areas) - 1; i >= -1; i-- {
		lo := floor
		if i >= 0 {
			lo = max(lo, as.areas[i].End)
		}
		if i >= 0 && as.areas[i].Start >= top {
			continue
		}
		if top >= size && top-size >= lo {
			return top - size, true
		}
		if i >= 0 {
			top = min(top, as.areas[i].Start)
		}
	}
	return 0, false
}

// Munmap removes the mappings in [addr, addr+length) (rounded up to pages).
// Unmapping nothing is not an error, as on Linux.
func (as *AddressSpace) Munmap(addr, length uint64) Errno {
	if addr%GuestPageSize != 0 || length == 0 || addr+length < addr || addr+length > GuestSpaceTop {
		return EINVAL
	}
	as.unmapRange(addr, addr+pageUp(length))
	return 0
}

// Mprotect sets the protection of [addr, addr+length); every page in it
// must be mapped (ENOMEM otherwise, changing nothing).
func (as *AddressSpace) Mprotect(addr, length uint64, prot Perm) Errno {
	if addr%GuestPageSize != 0 || prot&^(PermR|PermW|PermX) != 0 {
		return EINVAL
	}
	if length == 0 {
		return 0
	}
	end := addr + pageUp(length)
	if length > GuestSpaceTop || end < addr || end > GuestSpaceTop {
		return ENOMEM
	}
	covered := addr
	for _, a := range as.areas {
		if a.End <= covered || a.Start >= end {
			continue
		}
		if a.Start > covered {
			return ENOMEM
		}
		covered = a.End
	}
	if covered < end {
		return ENOMEM
	}
	var out []Area
	for _, a := range as.areas {
		if a.End <= addr || a.Start >= end {
			out = append(out, a)
			continue
		}
		if a.Start < addr {
			out = append(out, Area{a.Start, addr, a.Perm, a.Name})
		}
		out = append(out, Area{max(a.Start, addr), min(a.End, end), prot, a.Name})
		if a.End > end {
			out = append(out, Area{end, a.End, a.Perm, a.Name})
		}
	}
	as.areas = out
	as.normalize()
	hp := hostPerm(prot)
	for va := addr; va < end; va += GuestPageSize {
		if err := as.pt.Protect(va, hp); err != nil {
			panic(fmt.Sprintf("dbt: protecting mapped guest page %#x: %v", va, err))
		}
	}
	as.changed(addr, end)
	return 0
}

// Brk moves the program break to newBrk if it can (above the initial
// break, not into another mapping) and returns the break, as the brk
// system call does: an impossible request leaves it where it was.
func (as *AddressSpace) Brk(newBrk uint64) uint64 {
	if newBrk < as.brkBase || newBrk > as.mmapTop {
		return as.brk
	}
	oldEnd, newEnd := pageUp(as.brk), pageUp(newBrk)
	switch {
	case newEnd > oldEnd:
		if len(as.overlapping(oldEnd, newEnd)) > 0 {
			return as.brk
		}
		if as.mapRange(oldEnd, newEnd, PermR|PermW, "[heap]") != 0 {
			return as.brk // the VM's image is full
		}
	case newEnd < oldEnd:
		as.unmapRange(newEnd, oldEnd)
	}
	as.brk = newBrk
	return as.brk
}

// Mremap flags.
const (
	MremapMaymove = 1
	MremapFixed   = 2
)

// Mremap resizes the mapping at [old, old+oldLen): it shrinks in place,
// grows in place when the pages above are free, or — with MremapMaymove —
// moves to a new place (MremapFixed: newAddr), carrying the bytes.
func (as *AddressSpace) Mremap(old, oldLen, newLen uint64, flags uint64, newAddr uint64) (uint64, Errno) {
	if old%GuestPageSize != 0 || newLen == 0 || flags&^(MremapMaymove|MremapFixed) != 0 ||
		flags&MremapFixed != 0 && flags&MremapMaymove == 0 {
		return 0, EINVAL
	}
	oldSize, newSize := pageUp(oldLen), pageUp(newLen)
	if oldSize == 0 || newSize == 0 || oldLen > GuestSpaceTop || newLen > GuestSpaceTop || old+oldSize > GuestSpaceTop {
		return 0, EINVAL // a length that rounds past 2^64 wraps to 0
	}
	areas := as.overlapping(old, old+oldSize)
	if len(areas) != 1 || areas[0].Start > old || areas[0].End < old+oldSize {
		return 0, EFAULT // not one mapping (Linux: EFAULT for an unmapped range)
	}
	a := areas[0]
	if flags&MremapFixed == 0 {
		if newSize <= oldSize {
			as.unmapRange(old+newSize, old+oldSize)
			return old, 0
		}
		if old+newSize <= GuestSpaceTop && len(as.overlapping(old+oldSize, old+newSize)) == 0 {
			if err := as.mapRange(old+oldSize, old+newSize, a.Perm, a.Name); err != 0 {
				return 0, err
			}
			return old, 0
		}
		if flags&MremapMaymove == 0 {
			return 0, ENOMEM
		}
	}
	var to uint64
	if flags&MremapFixed != 0 {
		if newAddr%GuestPageSize != 0 || newAddr < old+oldSize && old < newAddr+newSize {
			return 0, EINVAL
		}
		to = newAddr
	} else {
		var ok bool
		if to, ok = as.findGap(newSize); !ok {
			return 0, ENOMEM
		}
	}
	if err := as.mapRange(to, to+newSize, a.Perm, a.Name); err != 0 {
		return 0, err
	}
	as.mem.move(to, old, min(oldSize, newSize))
	as.unmapRange(old, old+oldSize)
	return to, 0
}

// access checks that the guest may access [va, va+n) with kind k.
func (as *AddressSpace) access(va, n uint64, k memory.AccessKind) Errno {
	if n == 0 {
		return 0
	}
	if va+n < va || va+n > GuestSpaceTop {
		return EFAULT
	}
	for p := pageDown(va); p < va+n; p += GuestPageSize {
		if _, f := as.pt.Translate(p, k); f != nil {
			return EFAULT
		}
	}
	return 0
}

// Read copies guest memory at va into buf on the guest's behalf (a system
// call reading its argument); EFAULT if any byte is not readable.
func (as *AddressSpace) Read(va uint64, buf []byte) Errno {
	if len(buf) == 0 {
		return 0
	}
	if err := as.access(va, uint64(len(buf)), memory.Read); err != 0 {
		return err
	}
	as.mem.Read(va, buf)
	return 0
}

// Write copies buf into guest memory at va on the guest's behalf; EFAULT if
// any byte is not writable.
func (as *AddressSpace) Write(va uint64, buf []byte) Errno {
	if len(buf) == 0 {
		return 0
	}
	if err := as.access(va, uint64(len(buf)), memory.Write); err != 0 {
		return err
	}
	as.mem.Write(va, buf)
	return 0
}

// ReadString reads a NUL-terminated string of at most max bytes at va.
func (as *AddressSpace) ReadString(va uint64, max int) (string, Errno) {
	var out []byte
	var b [1]byte
	for len(out) < max {
		if err := as.Read(va+uint64(len(out)), b[:]); err != 0 {
			return "", err
		}
		if b[0] == 0 {
			return string(out), 0
		}
		out = append(out, b[0])
	}
	return "", ERANGE
}

var errnoNames = map[Errno]string{
	EPERM: "EPERM", ENOENT: "ENOENT", EIO: "EIO", EBADF: "EBADF", EAGAIN: "EAGAIN", ENOMEM: "ENOMEM",
	EACCES: "EACCES", EFAULT: "EFAULT", EEXIST: "EEXIST", ENOTDIR: "ENOTDIR", EISDIR: "EISDIR",
	EINVAL: "EINVAL", EMFILE: "EMFILE", ENOTTY: "ENOTTY", ESPIPE: "ESPIPE", ERANGE: "ERANGE", ENOSYS: "ENOSYS",
}

// String returns the error's symbolic name, such as "ENOMEM".
func (e Errno) String() string {
	if n, ok := errnoNames[e]; ok {
		return n
	}
	return fmt.Sprintf("errno %d", uint16(e))
}

package hypervisor

import (
	"fmt"

	"github.com/twinsim/twinsim/memory"
)

// VM is a virtual machine whose image is a contiguous range of host physical
// memory, mapped from guest-physical address 0 by a page table at the host
// page size.
type VM struct {
	ID       uint16 // owner id carried by the VM's cache rows; never 0
	Name     string
	BackedUp bool   // is the image checkpointed to the secondary host?
	Base     uint64 // host physical address of guest-physical 0
	Size     uint64 // image bytes
	PT       *memory.PageTable
}

// NewVM maps guest-physical [0, size) to host-physical [base, base+size) with
// read/write/execute permission at pageSize granularity.
func NewVM(id uint16, name string, backedUp bool, base, size, pageSize uint64) (*VM, error) {
	if id == 0 {
		return nil, fmt.Errorf("vm %s: id 0 is reserved for the hypervisor", name)
	}
	pt, err := memory.NewPageTable(pageSize)
	if err != nil {
		return nil, fmt.Errorf("vm %s: %w", name, err)
	}
	if size == 0 || size%pageSize != 0 || base%pageSize != 0 {
		return nil, fmt.Errorf("vm %s: image [%#x, +%#x) is not page aligned to %d bytes", name, base, size, pageSize)
	}
	for off := uint64(0); off < size; off += pageSize {
		if err := pt.Map(off, base+off, memory.PermRead|memory.PermWrite|memory.PermExec|memory.PermUser); err != nil {
			return nil, fmt.Errorf("vm %s: %w", name, err)
		}
	}
	return &VM{ID: id, Name: name, BackedUp: backedUp, Base: base, Size: size, PT: pt}, nil
}

// Contains reports whether host physical address pa lies in the VM's image.
func (vm *VM) Contains(pa uint64) bool { return pa >= vm.Base && pa-vm.Base < vm.Size }

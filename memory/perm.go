package memory

import "fmt"

// Perm is a set of page permissions.
type Perm uint8

// Page permissions.
const (
	PermRead  Perm = 1 << iota // loads are allowed
	PermWrite                  // stores are allowed
	PermExec                   // instruction fetches are allowed
	PermUser                   // user (unprivileged) mode may access the page

	permAll = PermRead | PermWrite | PermExec | PermUser
)

// String formats p as four characters "rwxu", with '-' for each permission
// not held: PermRead|PermWrite|PermExec is "rwx-".
func (p Perm) String() string {
	b := [4]byte{'-', '-', '-', '-'}
	for i, c := range "rwxu" {
		if p&(1<<i) != 0 {
			b[i] = byte(c)
		}
	}
	s := string(b[:])
	if p&^permAll != 0 {
		s += fmt.Sprintf("+%#x", uint8(p&^permAll))
	}
	return s
}

// Allows reports whether p permits an access of kind k. PermUser is not
// consulted; the privilege check belongs to the core.
func (p Perm) Allows(k AccessKind) bool {
	switch k {
	case Read:
		return p&PermRead != 0
	case Write:
		return p&PermWrite != 0
	case Exec:
		return p&PermExec != 0
	}
	return false
}

// AccessKind is the kind of a memory access being translated.
type AccessKind uint8

// Access kinds.
const (
	Read  AccessKind = iota // a load
	Write                   // a store
	Exec                    // an instruction fetch
)

// String returns "read", "write" or "exec".
func (k AccessKind) String() string {
	switch k {
	case Read:
		return "read"
	case Write:
		return "write"
	case Exec:
		return "exec"
	}
	return fmt.Sprintf("AccessKind(%d)", uint8(k))
}

// FaultReason says why a translation failed.
type FaultReason uint8

// Fault reasons.
const (
	NotMapped  FaultReason = iota // no page is mapped at the address
	Protection                    // the page's permissions forbid the access
)

// String returns "not mapped" or "protection".
func (r FaultReason) String() string {
	switch r {
	case NotMapped:
		return "not mapped"
	case Protection:
		return "protection"
	}
	return fmt.Sprintf("FaultReason(%d)", uint8(r))
}

// Fault is a failed translation: the virtual address, the access, why it
// failed and, for protection faults, the page's permissions. Faults are
// values for the simulated firmware or guest to handle, not simulator
// errors, though *Fault implements error for convenience.
type Fault struct {
	VA     uint64
	Kind   AccessKind
	Reason FaultReason
	Perm   Perm // the page's permissions; zero when not mapped
}

// Error describes the fault, such as
// "write fault at 0x10000: protection (page r-x-)".
func (f *Fault) Error() string {
	if f.Reason == NotMapped {
		return fmt.Sprintf("%s fault at %#x: not mapped", f.Kind, f.VA)
	}
	return fmt.Sprintf("%s fault at %#x: %s (page %s)", f.Kind, f.VA, f.Reason, f.Perm)
}

package cache

import "fmt"

// Replacement is a victim-selection policy.
type Replacement uint8

// Replacement policies.
const (
	LRU    Replacement = iota // true least recently used
	PLRU                      // tree pseudo-LRU (one bit per internal node of a binary tree over the ways)
	Random                    // uniformly random way, from the level's deterministic RNG stream
)

var replacementNames = []string{"lru", "plru", "random"}

// String returns the configuration name of r.
func (r Replacement) String() string { return enumName(replacementNames, int(r), "Replacement") }

// ParseReplacement parses "lru", "plru" or "random".
func ParseReplacement(s string) (Replacement, error) {
	i, err := parseEnum(replacementNames, s, "replacement policy")
	return Replacement(i), err
}

// WritePolicy says when a level passes stores to the level below.
type WritePolicy uint8

// Write policies.
const (
	// WriteBack absorbs stores (write-allocate) and writes dirty lines below
	// when they are evicted. Only write-back levels hold image-modification
	// flags.
	WriteBack WritePolicy = iota
	// WriteThrough passes every store to the level below at once and does
	// not allocate on a store miss; its rows are never dirty and never
	// flagged.
	WriteThrough
)

var writePolicyNames = []string{"write-back", "write-through"}

// String returns the configuration name of w.
func (w WritePolicy) String() string { return enumName(writePolicyNames, int(w), "WritePolicy") }

// ParseWritePolicy parses "write-back" or "write-through".
func ParseWritePolicy(s string) (WritePolicy, error) {
	i, err := parseEnum(writePolicyNames, s, "write policy")
	return WritePolicy(i), err
}

// OverflowPolicy is what the controller does when an address must be logged
// and the modification log is full.
type OverflowPolicy uint8

// Overflow policies.
const (
	// Stall makes the core whose access needs the log wait while the
	// hypervisor drains it (Controller.OnFull); the wait is charged to that
	// access.
	Stall OverflowPolicy = iota
	// InterruptCheckpoint raises an interrupt (Controller.OnInterrupt) when
	// no more than GuardEntries free entries remain, so that the hypervisor
	// brings the next checkpoint forward. If the log fills all the same, the
	// core stalls as with Stall.
	InterruptCheckpoint
	// Drop discards the address and counts it. The backup image is then
	// stale: Controller.DataLoss reports it.
	Drop
)

var overflowNames = []string{"stall", "interrupt-checkpoint", "drop"}

// String returns the configuration name of p.
func (p OverflowPolicy) String() string { return enumName(overflowNames, int(p), "OverflowPolicy") }

// ParseOverflowPolicy parses "stall", "interrupt-checkpoint" or "drop".
func ParseOverflowPolicy(s string) (OverflowPolicy, error) {
	i, err := parseEnum(overflowNames, s, "log overflow policy")
	return OverflowPolicy(i), err
}

// Mode is the privilege mode a memory access is made in.
type Mode uint8

// Privilege modes.
const (
	// Guest is a VM running in guest mode: its stores set the
	// image-modification flag when the VM is backed up.
	Guest Mode = iota
	// Hypervisor is privilege mode: its stores never set the flag
	// (PATENTS.md family 3, step 430).
	Hypervisor
)

var modeNames = []string{"guest", "hypervisor"}

// String returns "guest" or "hypervisor".
func (m Mode) String() string { return enumName(modeNames, int(m), "Mode") }

func enumName(names []string, i int, typ string) string {
	if i >= 0 && i < len(names) {
		return names[i]
	}
	return fmt.Sprintf("%s(%d)", typ, i)
}

func parseEnum(names []string, s, what string) (int, error) {
	for i, n := range names {
		if n == s {
			return i, nil
		}
	}
	list := ""
	for i, n := range names {
		if i > 0 {
			list += ", "
		}
		list += n
	}
	return 0, fmt.Errorf("unknown %s %q; must be one of %s", what, s, list)
}

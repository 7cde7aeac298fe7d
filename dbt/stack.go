package dbt

import (
	"encoding/binary"
	"fmt"
)

// Auxiliary-vector keys (linux/auxvec.h) that twinsim provides.
const (
	AT_NULL          = 0
	AT_PHDR          = 3
	AT_PHENT         = 4
	AT_PHNUM         = 5
	AT_PAGESZ        = 6
	AT_BASE          = 7
	AT_FLAGS         = 8
	AT_ENTRY         = 9
	AT_UID           = 11
	AT_EUID          = 12
	AT_GID           = 13
	AT_EGID          = 14
	AT_HWCAP         = 16
	AT_CLKTCK        = 17
	AT_SECURE        = 23
	AT_RANDOM        = 25
	AT_EXECFN        = 31
	AT_MINSIGSTKSZ   = 51
	hwcapRV64IMAFDC  = 1<<('I'-'A') | 1<<('M'-'A') | 1<<('A'-'A') | 1<<('F'-'A') | 1<<('D'-'A') | 1<<('C'-'A')
	maxStackStrBytes = 1 << 21 // argv and envp strings, as Linux's MAX_ARG_STRLEN-ish bound of 2 MiB
)

// AuxEntry is one (key, value) pair of the auxiliary vector.
type AuxEntry struct{ Key, Val uint64 }

// Auxv returns the auxiliary vector Linux gives p (without AT_RANDOM and
// AT_EXECFN, whose values are addresses BuildStack fills in, and without
// the terminating AT_NULL): the program headers, the 4 KiB guest page
// size, the entry point, user and group ids 0 (the simulated process's
// ids, whoever runs twinsim, so that outputs do not depend on the host),
// and the RV64IMAFDC hardware capabilities.
func (p *Program) Auxv() []AuxEntry {
	return []AuxEntry{
		{AT_PHDR, p.Phdr}, {AT_PHENT, p.Phent}, {AT_PHNUM, p.Phnum},
		{AT_PAGESZ, GuestPageSize}, {AT_BASE, 0}, {AT_FLAGS, 0}, {AT_ENTRY, p.Entry},
		{AT_UID, 0}, {AT_EUID, 0}, {AT_GID, 0}, {AT_EGID, 0},
		{AT_HWCAP, hwcapRV64IMAFDC}, {AT_CLKTCK, 100}, {AT_SECURE, 0},
	}
}

// StackSpec is what goes on a new process's stack.
type StackSpec struct {
	Top    uint64 // one past the highest stack byte; 16-byte aligned
	Argv   []string
	Envp   []string
	ExecFn string   // the program's path as executed (AT_EXECFN)
	Random [16]byte // AT_RANDOM's bytes (from the run's seed, for determinism)
	Aux    []AuxEntry
}

// BuildStack lays out the initial stack as Linux's ELF loader does, from
// Top downwards: the AT_EXECFN string, the argv and envp strings, the 16
// AT_RANDOM bytes, then — 16-byte aligned at the stack pointer — argc, the
// argv pointers and a null, the envp pointers and a null, and the auxiliary
// vector (spec.Aux, AT_RANDOM, AT_EXECFN, AT_NULL). It returns the initial
// stack pointer and the bytes of [sp, Top).
func BuildStack(spec StackSpec) (sp uint64, image []byte, err error) {
	if spec.Top%16 != 0 {
		return 0, nil, fmt.Errorf("stack top %#x is not 16-byte aligned", spec.Top)
	}
	strBytes := len(spec.ExecFn) + 1
	for _, s := range append(append([]string(nil), spec.Argv...), spec.Envp...) {
		strBytes += len(s) + 1
	}
	if strBytes > maxStackStrBytes {
		return 0, nil, fmt.Errorf("arguments and environment take %d bytes; at most %d fit on the stack (E2BIG)", strBytes, maxStackStrBytes)
	}
	// Strings and random bytes, placed downwards from Top (after an 8-byte
	// null guard, as Linux leaves).
	strs := make([]byte, 0, strBytes+16)
	addr := func(off int) uint64 { return spec.Top - 8 - uint64(strBytes+16) + uint64(off) }
	var argvAt, envpAt []uint64
	for _, s := range spec.Argv {
		argvAt = append(argvAt, addr(len(strs)))
		strs = append(append(strs, s...), 0)
	}
	for _, s := range spec.Envp {
		envpAt = append(envpAt, addr(len(strs)))
		strs = append(append(strs, s...), 0)
	}
	execAt := addr(len(strs))
	strs = append(append(strs, spec.ExecFn...), 0)
	randAt := addr(len(strs))
	strs = append(strs, spec.Random[:]...)
	strBase := addr(0)

	aux := append(append([]AuxEntry(nil), spec.Aux...), AuxEntry{AT_RANDOM, randAt}, AuxEntry{AT_EXECFN, execAt}, AuxEntry{AT_NULL, 0})
	words := 1 + len(argvAt) + 1 + len(envpAt) + 1 + 2*len(aux)
	sp = (strBase - uint64(8*words)) &^ 15
	image = make([]byte, spec.Top-sp)
	put := func(a, v uint64) { binary.LittleEndian.PutUint64(image[a-sp:], v) }
	a := sp
	put(a, uint64(len(spec.Argv)))
	a += 8
	for _, p := range argvAt {
		put(a, p)
		a += 8
	}
	a += 8 // null
	for _, p := range envpAt {
		put(a, p)
		a += 8
	}
	a += 8 // null
	for _, e := range aux {
		put(a, e.Key)
		put(a+8, e.Val)
		a += 16
	}
	copy(image[strBase-sp:], strs)
	return sp, image, nil
}

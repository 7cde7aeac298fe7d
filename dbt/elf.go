package dbt

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
)

// GuestPageSize is the page size of the guest environment: RV64 Linux with
// 4 KiB pages. Segment permissions, AT_PAGESZ and mmap granularity follow
// it.
const GuestPageSize = 4096

// StaticPIEBase is where a static position-independent executable (ET_DYN
// without an interpreter) is placed, as Linux places PIE programs in the
// lower part of the address space.
const StaticPIEBase = 0x2aaaaaa000

// Perm is a guest page's permission bits.
type Perm uint8

// Permission bits.
const (
	PermR Perm = 1 << iota
	PermW
	PermX
)

// String formats p as "rwx" with dashes for missing bits.
func (p Perm) String() string {
	b := []byte("---")
	if p&PermR != 0 {
		b[0] = 'r'
	}
	if p&PermW != 0 {
		b[1] = 'w'
	}
	if p&PermX != 0 {
		b[2] = 'x'
	}
	return string(b)
}

// Segment is one loadable segment (PT_LOAD) of a program, at its final
// guest address.
type Segment struct {
	Vaddr uint64 // guest address of the first byte
	Memsz uint64 // bytes in memory; those beyond len(Data) are zero (.bss)
	Data  []byte // the file's bytes for the segment (a sub-slice of the file)
	Perm  Perm
}

// Program is a validated static RV64 Linux executable, ready to be mapped.
type Program struct {
	Entry    uint64    // guest address of the first instruction
	Segments []Segment // sorted by address, non-overlapping
	Phdr     uint64    // guest address of the program headers (AT_PHDR), 0 if not loaded
	Phent    uint64    // size of one program header (AT_PHENT)
	Phnum    uint64    // number of program headers (AT_PHNUM)
	Base     uint64    // load bias: 0 for ET_EXEC, StaticPIEBase for static PIE
	PIE      bool
	RVC      bool   // e_flags: compressed instructions used
	FloatABI string // e_flags: "soft", "single", "double" or "quad"
	StackX   bool   // PT_GNU_STACK asks for an executable stack

	data []byte // the file, for its symbols
}

// Symbol returns the guest address of the symbol called name in the
// program's symbol table (load bias applied), and false if the program
// has none by that name — or no symbol table, as a stripped program.
func (p *Program) Symbol(name string) (uint64, bool) {
	f, err := elf.NewFile(bytes.NewReader(p.data))
	if err != nil {
		return 0, false
	}
	syms, err := f.Symbols()
	if err != nil {
		return 0, false
	}
	for _, s := range syms {
		if s.Name == name && s.Section != elf.SHN_UNDEF {
			return s.Value + p.Base, true
		}
	}
	return 0, false
}

// Brk returns the initial program break: the first page boundary above the
// highest segment.
func (p *Program) Brk() uint64 {
	var end uint64
	for _, s := range p.Segments {
		end = max(end, s.Vaddr+s.Memsz)
	}
	return (end + GuestPageSize - 1) &^ (GuestPageSize - 1)
}

// maxGuestAddr bounds guest addresses to the Sv39 user half (256 GiB),
// which is what RV64 Linux programs may use on every configuration.
const maxGuestAddr = 1 << 38

// ErrNotELF is returned for a file that does not start with the ELF magic.
var ErrNotELF = errors.New("not an ELF file")

// machineName describes e_machine values people are likely to pass by
// mistake.
var machineName = map[elf.Machine]string{
	elf.EM_X86_64:  "an x86-64",
	elf.EM_386:     "a 32-bit x86",
	elf.EM_AARCH64: "an AArch64 (Arm64)",
	elf.EM_ARM:     "a 32-bit Arm",
	elf.EM_PPC64:   "a POWER (ppc64)",
	elf.EM_S390:    "an s390x",
	elf.EM_MIPS:    "a MIPS",
}

// LoadProgram parses and validates an ELF file: a static RV64 Linux
// executable (ET_EXEC) or a static position-independent one (ET_DYN
// without an interpreter). Everything else — other machines, 32-bit files,
// dynamically linked programs, shared libraries, truncated or inconsistent
// files — is an error saying what the file is and what twinsim runs.
// Segments' Data alias data.
func LoadProgram(data []byte) (prog *Program, err error) {
	if len(data) < 4 || !bytes.Equal(data[:4], []byte(elf.ELFMAG)) {
		return nil, ErrNotELF
	}
	if len(data) < 5 || elf.Class(data[elf.EI_CLASS]) != elf.ELFCLASS64 {
		if len(data) >= 5 && elf.Class(data[elf.EI_CLASS]) == elf.ELFCLASS32 {
			return nil, fmt.Errorf("a 32-bit ELF file; twinsim runs 64-bit RISC-V (RV64) Linux programs")
		}
		return nil, fmt.Errorf("an ELF file of unknown class; twinsim runs 64-bit RISC-V (RV64) Linux programs")
	}
	// Only the file header and the program headers matter to a loader (as
	// to Linux's); section headers are not read, so a corrupt section
	// table cannot stall or exhaust memory.
	if len(data) < 64 {
		return nil, fmt.Errorf("malformed ELF file: %d bytes is shorter than an ELF64 header", len(data))
	}
	if elf.Data(data[elf.EI_DATA]) != elf.ELFDATA2LSB {
		return nil, fmt.Errorf("a big-endian ELF file; twinsim runs little-endian RISC-V (RV64) Linux programs")
	}
	var hdr elf.Header64
	if err := binary.Read(bytes.NewReader(data[:64]), binary.LittleEndian, &hdr); err != nil {
		return nil, fmt.Errorf("malformed ELF file: %w", err)
	}
	if machine := elf.Machine(hdr.Machine); machine != elf.EM_RISCV {
		what, ok := machineName[machine]
		if !ok {
			what = fmt.Sprintf("a %v", machine)
		}
		return nil, fmt.Errorf("%s executable; twinsim runs RISC-V (RV64) Linux programs", what)
	}
	typ := elf.Type(hdr.Type)
	switch typ {
	case elf.ET_EXEC, elf.ET_DYN:
	case elf.ET_REL:
		return nil, fmt.Errorf("an object file (ET_REL), not an executable; link it first")
	case elf.ET_CORE:
		return nil, fmt.Errorf("a core dump, not an executable")
	default:
		return nil, fmt.Errorf("an ELF file of type %v, not an executable", typ)
	}
	if hdr.Phentsize != 56 {
		return nil, fmt.Errorf("malformed ELF file: program header size %d, want 56", hdr.Phentsize)
	}
	if hdr.Phnum == 0 || hdr.Phnum == 0xffff {
		return nil, fmt.Errorf("malformed ELF file: %d program headers", hdr.Phnum)
	}
	phBytes := uint64(hdr.Phnum) * 56
	if hdr.Phoff > uint64(len(data)) || phBytes > uint64(len(data))-hdr.Phoff {
		return nil, fmt.Errorf("truncated ELF file: the program headers need bytes %#x..%#x but the file has %#x",
			hdr.Phoff, hdr.Phoff+phBytes, len(data))
	}
	progs := make([]elf.Prog64, hdr.Phnum)
	if err := binary.Read(bytes.NewReader(data[hdr.Phoff:hdr.Phoff+phBytes]), binary.LittleEndian, progs); err != nil {
		return nil, fmt.Errorf("malformed ELF file: %w", err)
	}

	prog = &Program{PIE: typ == elf.ET_DYN, Phent: 56, Phnum: uint64(hdr.Phnum), data: data}
	if prog.PIE {
		prog.Base = StaticPIEBase
	}
	eflags := hdr.Flags
	prog.RVC = eflags&0x1 != 0
	prog.FloatABI = []string{"soft", "single", "double", "quad"}[(eflags>>1)&3]
	if eflags&0x8 != 0 {
		return nil, fmt.Errorf("an RV32E/RV64E (embedded) program; twinsim runs RV64GC programs")
	}
	phoff := hdr.Phoff

	for _, p := range progs {
		switch elf.ProgType(p.Type) {
		case elf.PT_INTERP:
			interp := "an interpreter"
			if p.Off < uint64(len(data)) && p.Filesz <= 256 && p.Filesz <= uint64(len(data))-p.Off {
				interp = string(bytes.TrimRight(data[p.Off:p.Off+p.Filesz], "\x00"))
			}
			return nil, fmt.Errorf("a dynamically linked executable (it needs %s); twinsim runs static executables: link with -static", interp)
		case elf.PT_DYNAMIC:
			if !prog.PIE {
				return nil, fmt.Errorf("an executable with dynamic linking information; twinsim runs static executables: link with -static")
			}
		case elf.PT_GNU_STACK:
			prog.StackX = elf.ProgFlag(p.Flags)&elf.PF_X != 0
		case elf.PT_LOAD:
			if p.Memsz == 0 {
				continue
			}
			if p.Filesz > p.Memsz {
				return nil, fmt.Errorf("malformed ELF file: a segment's file size %#x exceeds its memory size %#x", p.Filesz, p.Memsz)
			}
			if p.Off > uint64(len(data)) || p.Filesz > uint64(len(data))-p.Off {
				return nil, fmt.Errorf("truncated ELF file: a segment needs bytes %#x..%#x but the file has %#x", p.Off, p.Off+p.Filesz, len(data))
			}
			if p.Align > 1 && (p.Align&(p.Align-1) != 0 || p.Vaddr%p.Align != p.Off%p.Align) {
				return nil, fmt.Errorf("malformed ELF file: segment at %#x is not aligned as its alignment %#x says", p.Vaddr, p.Align)
			}
			va := p.Vaddr + prog.Base
			if va < p.Vaddr || va >= maxGuestAddr || p.Memsz > maxGuestAddr-va {
				return nil, fmt.Errorf("a segment at %#x..%#x lies outside the 256 GiB RV64 Linux user address space", va, va+p.Memsz)
			}
			if va < GuestPageSize {
				return nil, fmt.Errorf("a segment at %#x overlaps the first page, which Linux never maps", va)
			}
			var perm Perm
			flags := elf.ProgFlag(p.Flags)
			if flags&elf.PF_R != 0 {
				perm |= PermR
			}
			if flags&elf.PF_W != 0 {
				perm |= PermW
			}
			if flags&elf.PF_X != 0 {
				perm |= PermX
			}
			prog.Segments = append(prog.Segments, Segment{Vaddr: va, Memsz: p.Memsz, Data: data[p.Off : p.Off+p.Filesz], Perm: perm})
			// AT_PHDR: the program headers' address if a segment maps them.
			if phoff >= p.Off && phoff+prog.Phent*prog.Phnum <= p.Off+p.Filesz {
				prog.Phdr = va + (phoff - p.Off)
			}
		}
	}
	if len(prog.Segments) == 0 {
		return nil, fmt.Errorf("malformed ELF file: no loadable segment")
	}
	sort.Slice(prog.Segments, func(i, j int) bool { return prog.Segments[i].Vaddr < prog.Segments[j].Vaddr })
	for i := 1; i < len(prog.Segments); i++ {
		a, b := prog.Segments[i-1], prog.Segments[i]
		// Segments may share a page (text and data often do) but not bytes.
		if a.Vaddr+a.Memsz > b.Vaddr {
			return nil, fmt.Errorf("malformed ELF file: segments %#x..%#x and %#x..%#x overlap", a.Vaddr, a.Vaddr+a.Memsz, b.Vaddr, b.Vaddr+b.Memsz)
		}
	}
	prog.Entry = hdr.Entry + prog.Base
	inExec := false
	for _, s := range prog.Segments {
		if prog.Entry >= s.Vaddr && prog.Entry < s.Vaddr+s.Memsz && s.Perm&PermX != 0 {
			inExec = true
		}
	}
	if !inExec {
		return nil, fmt.Errorf("malformed ELF file: the entry point %#x is not in an executable segment", prog.Entry)
	}
	return prog, nil
}

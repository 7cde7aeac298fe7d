package cpu

import (
	"fmt"
	"strconv"
)

// Op is a host-ISA operation.
type Op uint8

// Host operations. Register-register and register-immediate arithmetic
// follow RV64 semantics (the "W" forms operate on the low 32 bits and
// sign-extend), so a translator maps most guest operations one to one.
// Memory operations are guest-relative: the address is X[Rs1] + Imm plus
// the core's guest base, translated by the host MMU; a failed translation
// exits to firmware with the faulting address. Control operations branch
// within a block (Imm is the target's index in the block) or leave it.
const (
	Nop Op = iota
	// Arithmetic, rd = rs1 op rs2.
	Add
	Sub
	Sll
	Slt
	Sltu
	Xor
	Srl
	Sra
	Or
	And
	Mul
	Mulh
	Mulhsu
	Mulhu
	Div
	Divu
	Rem
	Remu
	Addw
	Subw
	Sllw
	Srlw
	Sraw
	Mulw
	Divw
	Divuw
	Remw
	Remuw
	// Arithmetic, rd = rs1 op imm.
	Addi
	Slti
	Sltiu
	Xori
	Ori
	Andi
	Slli
	Srli
	Srai
	Addiw
	Slliw
	Srliw
	Sraiw
	Li // rd = Imm (64-bit; encoded in two words when it does not fit 32 bits)
	// Loads, rd = mem[X[rs1] + imm], and stores, mem[X[rs1] + imm] = X[rs2].
	Lb
	Lh
	Lw
	Ld
	Lbu
	Lhu
	Lwu
	Sb
	Sh
	Sw
	Sd
	// Atomics on the address in X[rs1] (Imm unused), RV64A semantics.
	LrW
	LrD
	ScW
	ScD
	AmoSwapW
	AmoAddW
	AmoXorW
	AmoAndW
	AmoOrW
	AmoMinW
	AmoMaxW
	AmoMinuW
	AmoMaxuW
	AmoSwapD
	AmoAddD
	AmoXorD
	AmoAndD
	AmoOrD
	AmoMinD
	AmoMaxD
	AmoMinuD
	AmoMaxuD
	// Branches within the block: if X[rs1] cmp X[rs2], continue at index Imm.
	Beq
	Bne
	Blt
	Bge
	Bltu
	Bgeu
	Jmp // continue at index Imm
	// Block exits.
	Leave    // leave the block; the guest continues at Imm
	LeaveReg // leave the block; the guest continues at (X[rs1] + Imm) &^ 1
	Ecall    // system call by the guest instruction at Imm; resume at Imm + Rs2 (its length)
	Ebreak   // breakpoint at guest Imm
	FenceI   // instruction-stream synchronisation at guest Imm; resume at Imm + Rs2
	Illegal  // an instruction the guest may not execute, at guest Imm
	Fence    // memory ordering: a no-op for one core
	// Floating-point registers: loads and stores (rd or rs2 an F register;
	// a 32-bit load NaN-boxes), and moves between the register files.
	Flw
	Fld
	Fsw
	Fsd
	FmvXW // X[rd] = sext32(F[rs1])
	FmvWX // F[rd] = nanbox(X[rs1])
	FmvXD // X[rd] = F[rs1]
	FmvDX // F[rd] = X[rs1]
	// Control and status registers (Imm is the CSR number): X[rd] = csr,
	// then csr = X[rs1] / csr |= X[rs1] / csr &^= X[rs1]. The translator
	// only emits numbers the core knows (CSRFflags, CSRFrm, CSRFcsr,
	// CSRCycle, CSRTime, CSRInstret) and never writes the counters.
	CsrRW
	CsrRS
	CsrRC
	// Fp is a floating-point operation: Imm packs the FOp, the precision,
	// rs3 and the rounding mode (FpImm).
	Fp
	// Walk is the last step of an inline page-table walk: X[rd] = X[rs1],
	// a probe of the software TLB entry X[rs1] selects (timed as a load
	// from SoftTLBBase and a compare folded into it), after which the
	// next instruction's memory access is translated by the core's walk
	// memory (Core.SetWalkMemory) at its granularity where the MMU would
	// refuse it.
	Walk
	numOps
)

var opNames = [...]string{
	Nop: "nop", Add: "add", Sub: "sub", Sll: "sll", Slt: "slt", Sltu: "sltu", Xor: "xor", Srl: "srl", Sra: "sra",
	Or: "or", And: "and", Mul: "mul", Mulh: "mulh", Mulhsu: "mulhsu", Mulhu: "mulhu", Div: "div", Divu: "divu",
	Rem: "rem", Remu: "remu", Addw: "addw", Subw: "subw", Sllw: "sllw", Srlw: "srlw", Sraw: "sraw", Mulw: "mulw",
	Divw: "divw", Divuw: "divuw", Remw: "remw", Remuw: "remuw", Addi: "addi", Slti: "slti", Sltiu: "sltiu",
	Xori: "xori", Ori: "ori", Andi: "andi", Slli: "slli", Srli: "srli", Srai: "srai", Addiw: "addiw",
	Slliw: "slliw", Srliw: "srliw", Sraiw: "sraiw", Li: "li", Lb: "lb", Lh: "lh", Lw: "lw", Ld: "ld", Lbu: "lbu",
	Lhu: "lhu", Lwu: "lwu", Sb: "sb", Sh: "sh", Sw: "sw", Sd: "sd", LrW: "lr.w", LrD: "lr.d", ScW: "sc.w",
	ScD: "sc.d", AmoSwapW: "amoswap.w", AmoAddW: "amoadd.w", AmoXorW: "amoxor.w", AmoAndW: "amoand.w",
	AmoOrW: "amoor.w", AmoMinW: "amomin.w", AmoMaxW: "amomax.w", AmoMinuW: "amominu.w", AmoMaxuW: "amomaxu.w",
	AmoSwapD: "amoswap.d", AmoAddD: "amoadd.d", AmoXorD: "amoxor.d", AmoAndD: "amoand.d", AmoOrD: "amoor.d",
	AmoMinD: "amomin.d", AmoMaxD: "amomax.d", AmoMinuD: "amominu.d", AmoMaxuD: "amomaxu.d", Beq: "beq",
	Bne: "bne", Blt: "blt", Bge: "bge", Bltu: "bltu", Bgeu: "bgeu", Jmp: "jmp", Leave: "leave", LeaveReg: "leavereg",
	Ecall: "ecall", Ebreak: "ebreak", FenceI: "fence.i", Illegal: "illegal", Fence: "fence",
	Flw: "flw", Fld: "fld", Fsw: "fsw", Fsd: "fsd", FmvXW: "fmv.x.w", FmvWX: "fmv.w.x", FmvXD: "fmv.x.d",
	FmvDX: "fmv.d.x", CsrRW: "csrrw", CsrRS: "csrrs", CsrRC: "csrrc", Fp: "fp", Walk: "walk",
}

// SoftTLBBase is the host address of the software TLB that inline page
// walks probe: 256 entries of 16 bytes.
const SoftTLBBase = 1 << 43

// CSR numbers the core implements.
const (
	CSRFflags  = 0x001
	CSRFrm     = 0x002
	CSRFcsr    = 0x003
	CSRCycle   = 0xc00
	CSRTime    = 0xc01
	CSRInstret = 0xc02
)

// String returns the operation's mnemonic.
func (o Op) String() string {
	if int(o) < len(opNames) && opNames[o] != "" {
		return opNames[o]
	}
	return "op" + strconv.Itoa(int(o))
}

// NumRegs is the number of integer registers. X0 reads as zero. A
// translator keeps the guest's x1..x31 in X1..X31 and uses the rest as
// temporaries and for firmware.
const NumRegs = 64

// Inst is one decoded host instruction.
type Inst struct {
	Op           Op
	Rd, Rs1, Rs2 uint8
	Imm          int64
}

// String formats in as assembly, such as "addi x5, x6, -3".
func (in Inst) String() string {
	switch {
	case in.Op >= Add && in.Op <= Remuw:
		return fmt.Sprintf("%v x%d, x%d, x%d", in.Op, in.Rd, in.Rs1, in.Rs2)
	case in.Op >= Addi && in.Op <= Sraiw:
		return fmt.Sprintf("%v x%d, x%d, %d", in.Op, in.Rd, in.Rs1, in.Imm)
	case in.Op == Li:
		return fmt.Sprintf("li x%d, %d", in.Rd, in.Imm)
	case in.Op >= Lb && in.Op <= Lwu:
		return fmt.Sprintf("%v x%d, %d(x%d)", in.Op, in.Rd, in.Imm, in.Rs1)
	case in.Op >= Sb && in.Op <= Sd:
		return fmt.Sprintf("%v x%d, %d(x%d)", in.Op, in.Rs2, in.Imm, in.Rs1)
	case in.Op >= LrW && in.Op <= AmoMaxuD:
		return fmt.Sprintf("%v x%d, x%d, (x%d)", in.Op, in.Rd, in.Rs2, in.Rs1)
	case in.Op >= Beq && in.Op <= Bgeu:
		return fmt.Sprintf("%v x%d, x%d, @%d", in.Op, in.Rs1, in.Rs2, in.Imm)
	case in.Op == Jmp:
		return fmt.Sprintf("jmp @%d", in.Imm)
	case in.Op == LeaveReg:
		return fmt.Sprintf("leavereg %d(x%d)", in.Imm, in.Rs1)
	case in.Op == Walk:
		return fmt.Sprintf("walk x%d, x%d", in.Rd, in.Rs1)
	case in.Op == Flw || in.Op == Fld:
		return fmt.Sprintf("%v f%d, %d(x%d)", in.Op, in.Rd, in.Imm, in.Rs1)
	case in.Op == Fsw || in.Op == Fsd:
		return fmt.Sprintf("%v f%d, %d(x%d)", in.Op, in.Rs2, in.Imm, in.Rs1)
	case in.Op == FmvXW || in.Op == FmvXD:
		return fmt.Sprintf("%v x%d, f%d", in.Op, in.Rd, in.Rs1)
	case in.Op == FmvWX || in.Op == FmvDX:
		return fmt.Sprintf("%v f%d, x%d", in.Op, in.Rd, in.Rs1)
	case in.Op == Fp:
		op, double, rs3, rm := fpFields(in.Imm)
		w := "s"
		if double {
			w = "d"
		}
		return fmt.Sprintf("fp.%d.%s %d, %d, %d, %d, rm=%d", op, w, in.Rd, in.Rs1, in.Rs2, rs3, rm)
	case in.Op >= CsrRW && in.Op <= CsrRC:
		return fmt.Sprintf("%v x%d, %#x, x%d", in.Op, in.Rd, in.Imm, in.Rs1)
	case in.Op == Leave || in.Op == Ecall || in.Op == Ebreak || in.Op == FenceI || in.Op == Illegal:
		return fmt.Sprintf("%v %#x", in.Op, uint64(in.Imm))
	}
	return in.Op.String()
}

// Encoding: one 64-bit word per instruction — bits 0..7 the operation,
// 8..13 rd, 14..19 rs1, 20..25 rs2, 26..31 reserved (zero), 32..63 a
// signed 32-bit immediate. Li, and an exit or system call naming a guest
// address, with an immediate that does not fit 32 bits takes a second word
// holding the full 64-bit value, and bit 26 marks it.
const (
	wideBit = 1 << 26
	regMask = NumRegs - 1
)

// wideOK says whether op's immediate may take a second word: a constant
// (Li) or a guest address (block exits, system calls and the like, whose
// code may sit anywhere in the guest's address space).
func wideOK(op Op) bool {
	switch op {
	case Li, Leave, Ecall, Ebreak, FenceI, Illegal:
		return true
	}
	return false
}

// Words returns how many 64-bit words in takes encoded.
func (in Inst) Words() int {
	if wideOK(in.Op) && int64(int32(in.Imm)) != in.Imm {
		return 2
	}
	return 1
}

// Encode appends in's encoding to dst. Registers must be below NumRegs and
// an immediate must fit 32 bits unless the operation is Li; a violation is
// a translator bug and panics.
func Encode(dst []uint64, in Inst) []uint64 {
	if in.Op >= numOps || in.Rd >= NumRegs || in.Rs1 >= NumRegs || in.Rs2 >= NumRegs {
		panic(fmt.Sprintf("cpu: cannot encode %v", in))
	}
	w := uint64(in.Op) | uint64(in.Rd)<<8 | uint64(in.Rs1)<<14 | uint64(in.Rs2)<<20
	if in.Words() == 2 {
		return append(dst, w|wideBit, uint64(in.Imm))
	}
	if int64(int32(in.Imm)) != in.Imm {
		panic(fmt.Sprintf("cpu: immediate of %v does not fit 32 bits", in))
	}
	return append(dst, w|uint64(uint32(in.Imm))<<32)
}

// DecodeWord decodes the instruction at code[0] and returns it with the
// number of words it took. A malformed word (an unknown operation, a set
// reserved bit, a wide form of an operation that takes none, or one that lacks its second word) is an
// error: host code only ever comes from the translator.
func DecodeWord(code []uint64) (Inst, int, error) {
	if len(code) == 0 {
		return Inst{}, 0, fmt.Errorf("cpu: no code")
	}
	w := code[0]
	in := Inst{Op: Op(w), Rd: uint8(w>>8) & regMask, Rs1: uint8(w>>14) & regMask, Rs2: uint8(w>>20) & regMask,
		Imm: int64(int32(w >> 32))}
	if in.Op >= numOps {
		return Inst{}, 0, fmt.Errorf("cpu: unknown host operation %d in word %#016x", in.Op, w)
	}
	if w>>27&0x1f != 0 {
		return Inst{}, 0, fmt.Errorf("cpu: reserved bits set in word %#016x", w)
	}
	if w&wideBit != 0 {
		if !wideOK(in.Op) || len(code) < 2 || w>>32 != 0 {
			return Inst{}, 0, fmt.Errorf("cpu: malformed wide instruction %#016x", w)
		}
		in.Imm = int64(code[1])
		return in, 2, nil
	}
	return in, 1, nil
}

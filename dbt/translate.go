package dbt

import (
	"github.com/twinsim/twinsim/cpu"
)

// maxBlockInsts bounds a translated block's guest instructions.
const maxBlockInsts = 64

// Host registers the translator uses beyond the guest's x1..x31 (which
// live in cpu X1..X31).
const (
	tmp0 = 32 // a jalr target computed before its link register is written
	// An inline page-table walk's address, page index and probe result.
	tmp1 = 33
	tmp2 = 34
	tmp3 = 35
)

// Block is the translation of one guest basic block: the host code that
// runs it and, for every host instruction, which guest instruction it
// belongs to, so that an exit or a fault in the middle maps back to a
// precise guest state.
type Block struct {
	// cpu.Block holds the host code, the guest instructions each exit
	// completes (Retire), the links to successor blocks (Next), the guest
	// address (PC) and whether the block was discarded (Dead).
	cpu.Block
	End   uint64 // guest address after the last instruction
	Insts int    // guest instructions
	// GuestPC[i] is the guest address of the instruction host instruction
	// i implements; Done[i] counts the guest instructions completed before
	// that instruction.
	GuestPC []uint64
	Done    []uint16
	// Words is the host code's encoding, as it sits in the code cache.
	Words []uint64
	// Walked blocks were translated with every load and store through an
	// inline page-table walk (regeneration); Faults counts the accesses to
	// mixed host pages the firmware completed for this block (the memory
	// fault behaviour detector's count).
	Walked bool
	Faults int
	// WalkPCs, if not nil, are the guest instructions whose loads and
	// stores go through inline walks (selective regeneration); faultPCs
	// the ones that faulted on mixed host pages since the block was
	// translated.
	WalkPCs  map[uint64]bool
	faultPCs map[uint64]bool
}

// fetcher reads a guest instruction's bytes for translation; ok is false
// when the address is not executable.
type fetcher func(pc uint64) (word uint32, ok bool)

// translate translates the guest block at pc: instructions up to the first
// control transfer, system call, fence.i, illegal instruction, the end of
// pc's 4 KiB page or maxBlockInsts. An instruction that cannot be fetched
// ends the block before it; if it is the first, the block is a single
// fetch fault (reported by running it).
//
// With walk, every load and store goes through an inline page-table walk
// (the regenerated form of a block that faulted too often); with walkPCs,
// only those of the guest instructions it holds.
func translate(fetch fetcher, pc uint64, walk bool, walkPCs map[uint64]bool) *Block {
	b := &Block{Walked: walk, WalkPCs: walkPCs}
	b.PC = pc
	b.Meta = b
	page := pc &^ (GuestPageSize - 1)
	for b.Insts < maxBlockInsts {
		word, ok := fetch(pc)
		if !ok {
			// Not executable: let the guest fault when it gets here.
			if b.Insts == 0 {
				b.emit(pc, cpu.Inst{Op: cpu.Illegal, Imm: int64(pc), Rd: 1}) // Rd 1 marks a fetch fault
				b.End = pc
				return b.finish()
			}
			break
		}
		in := Decode(word)
		n := uint64(in.Len)
		next := pc + n
		ends := b.translateOne(pc, in)
		b.Insts++
		for i := len(b.Retire); i < len(b.Code); i++ {
			b.Retire = append(b.Retire, uint16(b.Insts))
		}
		pc = next
		if ends {
			b.End = pc
			return b.finish()
		}
		if pc&^(GuestPageSize-1) != page {
			break
		}
	}
	b.emit(pc, cpu.Inst{Op: cpu.Leave, Imm: int64(pc)})
	b.Retire = append(b.Retire, uint16(b.Insts))
	b.End = pc
	return b.finish()
}

func (b *Block) emit(gpc uint64, in cpu.Inst) {
	if (b.Walked || b.WalkPCs[gpc]) && isWalkable(in.Op) {
		// The inline walk: the address, its 4 KiB page's software-TLB
		// index, the probe; the access after it then never faults on a
		// mixed host page.
		b.Code = append(b.Code, cpu.Inst{Op: cpu.Addi, Rd: tmp1, Rs1: in.Rs1, Imm: in.Imm},
			cpu.Inst{Op: cpu.Srli, Rd: tmp2, Rs1: tmp1, Imm: 12}, cpu.Inst{Op: cpu.Andi, Rd: tmp2, Rs1: tmp2, Imm: 255},
			cpu.Inst{Op: cpu.Walk, Rd: tmp3, Rs1: tmp2})
		for range 4 {
			b.GuestPC = append(b.GuestPC, gpc)
			b.Done = append(b.Done, uint16(b.Insts))
		}
	}
	b.Code = append(b.Code, in)
	b.GuestPC = append(b.GuestPC, gpc)
	b.Done = append(b.Done, uint16(b.Insts))
}

// isWalkable says whether op is a load or store an inline walk can
// precede (atomics are completed by the firmware when they fault).
func isWalkable(op cpu.Op) bool {
	return op >= cpu.Lb && op <= cpu.Sd || op >= cpu.Flw && op <= cpu.Fsd
}

func (b *Block) finish() *Block {
	for len(b.Retire) < len(b.Code) {
		b.Retire = append(b.Retire, uint16(b.Insts))
	}
	for _, in := range b.Code {
		b.Words = cpu.Encode(b.Words, in)
	}
	return b
}

// isLink says whether r is a link register (ra or t0) for the
// return-address stack.
func isLink(r uint8) bool { return r == 1 || r == 5 }

// translateOne emits the host code of guest instruction in at pc and
// reports whether it ends the block.
func (b *Block) translateOne(pc uint64, in Inst) bool {
	emit := b.emit
	rd, rs1, rs2 := in.Rd, in.Rs1, in.Rs2
	next := pc + uint64(in.Len)
	op := func(o cpu.Op) { emit(pc, cpu.Inst{Op: o, Rd: rd, Rs1: rs1, Rs2: rs2, Imm: in.Imm}) }
	switch in.Op {
	case OpLUI:
		emit(pc, cpu.Inst{Op: cpu.Li, Rd: rd, Imm: in.Imm})
	case OpAUIPC:
		emit(pc, cpu.Inst{Op: cpu.Li, Rd: rd, Imm: int64(pc) + in.Imm})
	case OpJAL:
		if rd != 0 {
			emit(pc, cpu.Inst{Op: cpu.Li, Rd: rd, Imm: int64(next)})
		}
		leave := cpu.Inst{Op: cpu.Leave, Imm: int64(pc) + in.Imm}
		if isLink(rd) {
			leave.Rd = rd // a call: the return-address stack pushes rd
		}
		emit(pc, leave)
		return true
	case OpJALR:
		// The target uses rs1 before rd is written (rd may equal rs1).
		emit(pc, cpu.Inst{Op: cpu.Addi, Rd: tmp0, Rs1: rs1, Imm: in.Imm})
		if rd != 0 {
			emit(pc, cpu.Inst{Op: cpu.Li, Rd: rd, Imm: int64(next)})
		}
		// Return-address stack hints as the RISC-V specification gives
		// them: a link rd pushes, a link rs1 other than rd pops.
		leave := cpu.Inst{Op: cpu.LeaveReg, Rs1: tmp0}
		if isLink(rd) {
			leave.Rd = rd
		}
		if isLink(rs1) && rs1 != rd {
			leave.Rs2 = cpu.ExitReturn
		}
		emit(pc, leave)
		return true
	case OpBEQ, OpBNE, OpBLT, OpBGE, OpBLTU, OpBGEU:
		// Branch to a taken stub two instructions on; fall through to the
		// not-taken exit.
		at := int64(len(b.Code))
		emit(pc, cpu.Inst{Op: hostBranch[in.Op], Rs1: rs1, Rs2: rs2, Imm: at + 2})
		emit(pc, cpu.Inst{Op: cpu.Leave, Imm: int64(next)})
		emit(pc, cpu.Inst{Op: cpu.Leave, Imm: int64(pc) + in.Imm})
		return true
	case OpLB:
		op(cpu.Lb)
	case OpLH:
		op(cpu.Lh)
	case OpLW:
		op(cpu.Lw)
	case OpLD:
		op(cpu.Ld)
	case OpLBU:
		op(cpu.Lbu)
	case OpLHU:
		op(cpu.Lhu)
	case OpLWU:
		op(cpu.Lwu)
	case OpSB:
		op(cpu.Sb)
	case OpSH:
		op(cpu.Sh)
	case OpSW:
		op(cpu.Sw)
	case OpSD:
		op(cpu.Sd)
	case OpADDI:
		op(cpu.Addi)
	case OpSLTI:
		op(cpu.Slti)
	case OpSLTIU:
		op(cpu.Sltiu)
	case OpXORI:
		op(cpu.Xori)
	case OpORI:
		op(cpu.Ori)
	case OpANDI:
		op(cpu.Andi)
	case OpSLLI:
		op(cpu.Slli)
	case OpSRLI:
		op(cpu.Srli)
	case OpSRAI:
		op(cpu.Srai)
	case OpADD:
		op(cpu.Add)
	case OpSUB:
		op(cpu.Sub)
	case OpSLL:
		op(cpu.Sll)
	case OpSLT:
		op(cpu.Slt)
	case OpSLTU:
		op(cpu.Sltu)
	case OpXOR:
		op(cpu.Xor)
	case OpSRL:
		op(cpu.Srl)
	case OpSRA:
		op(cpu.Sra)
	case OpOR:
		op(cpu.Or)
	case OpAND:
		op(cpu.And)
	case OpADDIW:
		op(cpu.Addiw)
	case OpSLLIW:
		op(cpu.Slliw)
	case OpSRLIW:
		op(cpu.Srliw)
	case OpSRAIW:
		op(cpu.Sraiw)
	case OpADDW:
		op(cpu.Addw)
	case OpSUBW:
		op(cpu.Subw)
	case OpSLLW:
		op(cpu.Sllw)
	case OpSRLW:
		op(cpu.Srlw)
	case OpSRAW:
		op(cpu.Sraw)
	case OpMUL:
		op(cpu.Mul)
	case OpMULH:
		op(cpu.Mulh)
	case OpMULHSU:
		op(cpu.Mulhsu)
	case OpMULHU:
		op(cpu.Mulhu)
	case OpDIV:
		op(cpu.Div)
	case OpDIVU:
		op(cpu.Divu)
	case OpREM:
		op(cpu.Rem)
	case OpREMU:
		op(cpu.Remu)
	case OpMULW:
		op(cpu.Mulw)
	case OpDIVW:
		op(cpu.Divw)
	case OpDIVUW:
		op(cpu.Divuw)
	case OpREMW:
		op(cpu.Remw)
	case OpREMUW:
		op(cpu.Remuw)
	case OpLR_W:
		op(cpu.LrW)
	case OpLR_D:
		op(cpu.LrD)
	case OpSC_W:
		op(cpu.ScW)
	case OpSC_D:
		op(cpu.ScD)
	case OpAMOSWAP_W, OpAMOADD_W, OpAMOXOR_W, OpAMOAND_W, OpAMOOR_W, OpAMOMIN_W, OpAMOMAX_W, OpAMOMINU_W, OpAMOMAXU_W,
		OpAMOSWAP_D, OpAMOADD_D, OpAMOXOR_D, OpAMOAND_D, OpAMOOR_D, OpAMOMIN_D, OpAMOMAX_D, OpAMOMINU_D, OpAMOMAXU_D:
		op(hostAMO[in.Op])
	case OpFLW:
		op(cpu.Flw)
	case OpFLD:
		op(cpu.Fld)
	case OpFSW:
		op(cpu.Fsw)
	case OpFSD:
		op(cpu.Fsd)
	case OpFMV_X_W:
		op(cpu.FmvXW)
	case OpFMV_W_X:
		op(cpu.FmvWX)
	case OpFMV_X_D:
		op(cpu.FmvXD)
	case OpFMV_D_X:
		op(cpu.FmvDX)
	case OpCSRRW, OpCSRRS, OpCSRRC, OpCSRRWI, OpCSRRSI, OpCSRRCI:
		return b.translateCSR(pc, in)
	default:
		if f, ok := fpOps[in.Op]; ok {
			emit(pc, cpu.Inst{Op: cpu.Fp, Rd: rd, Rs1: rs1, Rs2: rs2, Imm: cpu.FpImm(f.op, f.double, in.Rs3, in.RM)})
			return false
		}
		emit(pc, cpu.Inst{Op: cpu.Illegal, Imm: int64(pc)})
		return true
	case OpFENCE:
		emit(pc, cpu.Inst{Op: cpu.Fence})
	case OpFENCE_I:
		emit(pc, cpu.Inst{Op: cpu.FenceI, Imm: int64(pc), Rs2: in.Len})
		return true
	case OpECALL:
		emit(pc, cpu.Inst{Op: cpu.Ecall, Imm: int64(pc), Rs2: in.Len})
		return true
	case OpEBREAK:
		emit(pc, cpu.Inst{Op: cpu.Ebreak, Imm: int64(pc)})
		return true
	}
	return false
}

// translateCSR translates the Zicsr instructions on the CSRs a user
// program may use: the floating-point flags, rounding mode and fcsr, and
// the read-only cycle, time and instret counters. Any other CSR, or a write
// to a counter, is an illegal instruction, as on Linux.
func (b *Block) translateCSR(pc uint64, in Inst) bool {
	src := in.Rs1
	imm := in.Op == OpCSRRWI || in.Op == OpCSRRSI || in.Op == OpCSRRCI
	writes := in.Op == OpCSRRW || in.Op == OpCSRRWI || in.Rs1 != 0 // rs1 = x0 / uimm = 0: read only
	switch in.CSR {
	case cpu.CSRFflags, cpu.CSRFrm, cpu.CSRFcsr:
	case cpu.CSRCycle, cpu.CSRTime, cpu.CSRInstret:
		if writes {
			b.emit(pc, cpu.Inst{Op: cpu.Illegal, Imm: int64(pc)})
			return true
		}
	default:
		b.emit(pc, cpu.Inst{Op: cpu.Illegal, Imm: int64(pc)})
		return true
	}
	if imm {
		b.emit(pc, cpu.Inst{Op: cpu.Li, Rd: tmp0, Imm: int64(in.Rs1)})
		src = tmp0
	}
	o := map[Op]cpu.Op{OpCSRRW: cpu.CsrRW, OpCSRRWI: cpu.CsrRW, OpCSRRS: cpu.CsrRS, OpCSRRSI: cpu.CsrRS,
		OpCSRRC: cpu.CsrRC, OpCSRRCI: cpu.CsrRC}[in.Op]
	if !writes {
		src = 0
	}
	b.emit(pc, cpu.Inst{Op: o, Rd: in.Rd, Rs1: src, Imm: int64(in.CSR)})
	return false
}

type fpOp struct {
	op     cpu.FOp
	double bool
}

// fpOps maps the F and D arithmetic, comparison, classification and
// conversion instructions to the host's Fp operation.
var fpOps = map[Op]fpOp{
	OpFADD_S: {cpu.FAdd, false}, OpFSUB_S: {cpu.FSub, false}, OpFMUL_S: {cpu.FMul, false}, OpFDIV_S: {cpu.FDiv, false},
	OpFSQRT_S: {cpu.FSqrt, false}, OpFMIN_S: {cpu.FMin, false}, OpFMAX_S: {cpu.FMax, false},
	OpFMADD_S: {cpu.FMadd, false}, OpFMSUB_S: {cpu.FMsub, false}, OpFNMSUB_S: {cpu.FNmsub, false}, OpFNMADD_S: {cpu.FNmadd, false},
	OpFSGNJ_S: {cpu.FSgnj, false}, OpFSGNJN_S: {cpu.FSgnjn, false}, OpFSGNJX_S: {cpu.FSgnjx, false},
	OpFEQ_S: {cpu.FEq, false}, OpFLT_S: {cpu.FLt, false}, OpFLE_S: {cpu.FLe, false}, OpFCLASS_S: {cpu.FClass, false},
	OpFCVT_W_S: {cpu.FCvtW, false}, OpFCVT_WU_S: {cpu.FCvtWU, false}, OpFCVT_L_S: {cpu.FCvtL, false}, OpFCVT_LU_S: {cpu.FCvtLU, false},
	OpFCVT_S_W: {cpu.FCvtFromW, false}, OpFCVT_S_WU: {cpu.FCvtFromWU, false}, OpFCVT_S_L: {cpu.FCvtFromL, false}, OpFCVT_S_LU: {cpu.FCvtFromLU, false},
	OpFADD_D: {cpu.FAdd, true}, OpFSUB_D: {cpu.FSub, true}, OpFMUL_D: {cpu.FMul, true}, OpFDIV_D: {cpu.FDiv, true},
	OpFSQRT_D: {cpu.FSqrt, true}, OpFMIN_D: {cpu.FMin, true}, OpFMAX_D: {cpu.FMax, true},
	OpFMADD_D: {cpu.FMadd, true}, OpFMSUB_D: {cpu.FMsub, true}, OpFNMSUB_D: {cpu.FNmsub, true}, OpFNMADD_D: {cpu.FNmadd, true},
	OpFSGNJ_D: {cpu.FSgnj, true}, OpFSGNJN_D: {cpu.FSgnjn, true}, OpFSGNJX_D: {cpu.FSgnjx, true},
	OpFEQ_D: {cpu.FEq, true}, OpFLT_D: {cpu.FLt, true}, OpFLE_D: {cpu.FLe, true}, OpFCLASS_D: {cpu.FClass, true},
	OpFCVT_W_D: {cpu.FCvtW, true}, OpFCVT_WU_D: {cpu.FCvtWU, true}, OpFCVT_L_D: {cpu.FCvtL, true}, OpFCVT_LU_D: {cpu.FCvtLU, true},
	OpFCVT_D_W: {cpu.FCvtFromW, true}, OpFCVT_D_WU: {cpu.FCvtFromWU, true}, OpFCVT_D_L: {cpu.FCvtFromL, true}, OpFCVT_D_LU: {cpu.FCvtFromLU, true},
	OpFCVT_S_D: {cpu.FCvtSD, true}, OpFCVT_D_S: {cpu.FCvtDS, false},
}

var hostAMO = map[Op]cpu.Op{
	OpAMOSWAP_W: cpu.AmoSwapW, OpAMOADD_W: cpu.AmoAddW, OpAMOXOR_W: cpu.AmoXorW, OpAMOAND_W: cpu.AmoAndW,
	OpAMOOR_W: cpu.AmoOrW, OpAMOMIN_W: cpu.AmoMinW, OpAMOMAX_W: cpu.AmoMaxW, OpAMOMINU_W: cpu.AmoMinuW,
	OpAMOMAXU_W: cpu.AmoMaxuW, OpAMOSWAP_D: cpu.AmoSwapD, OpAMOADD_D: cpu.AmoAddD, OpAMOXOR_D: cpu.AmoXorD,
	OpAMOAND_D: cpu.AmoAndD, OpAMOOR_D: cpu.AmoOrD, OpAMOMIN_D: cpu.AmoMinD, OpAMOMAX_D: cpu.AmoMaxD,
	OpAMOMINU_D: cpu.AmoMinuD, OpAMOMAXU_D: cpu.AmoMaxuD,
}

var hostBranch = map[Op]cpu.Op{OpBEQ: cpu.Beq, OpBNE: cpu.Bne, OpBLT: cpu.Blt, OpBGE: cpu.Bge, OpBLTU: cpu.Bltu, OpBGEU: cpu.Bgeu}

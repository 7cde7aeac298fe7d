package dbt

import "strconv"

// Op is a decoded RV64GC operation: one constant per instruction of RV64I,
// M, A, F, D, Zicsr and Zifencei. Compressed instructions decode to the Op of
// their 32-bit expansion, so the translator sees one Op per operation.
type Op uint16

// Ops, in encoding-space order. OpIllegal (the zero value) stands for every
// encoding that is not a valid RV64GC user-mode instruction.
const (
	OpIllegal Op = iota

	// RV64I
	OpLUI
	OpAUIPC
	OpJAL
	OpJALR
	OpBEQ
	OpBNE
	OpBLT
	OpBGE
	OpBLTU
	OpBGEU
	OpLB
	OpLH
	OpLW
	OpLD
	OpLBU
	OpLHU
	OpLWU
	OpSB
	OpSH
	OpSW
	OpSD
	OpADDI
	OpSLTI
	OpSLTIU
	OpXORI
	OpORI
	OpANDI
	OpSLLI
	OpSRLI
	OpSRAI
	OpADD
	OpSUB
	OpSLL
	OpSLT
	OpSLTU
	OpXOR
	OpSRL
	OpSRA
	OpOR
	OpAND
	OpADDIW
	OpSLLIW
	OpSRLIW
	OpSRAIW
	OpADDW
	OpSUBW
	OpSLLW
	OpSRLW
	OpSRAW
	OpFENCE
	OpECALL
	OpEBREAK

	// Zifencei
	OpFENCE_I

	// Zicsr
	OpCSRRW
	OpCSRRS
	OpCSRRC
	OpCSRRWI
	OpCSRRSI
	OpCSRRCI

	// M
	OpMUL
	OpMULH
	OpMULHSU
	OpMULHU
	OpDIV
	OpDIVU
	OpREM
	OpREMU
	OpMULW
	OpDIVW
	OpDIVUW
	OpREMW
	OpREMUW

	// A
	OpLR_W
	OpSC_W
	OpAMOSWAP_W
	OpAMOADD_W
	OpAMOXOR_W
	OpAMOAND_W
	OpAMOOR_W
	OpAMOMIN_W
	OpAMOMAX_W
	OpAMOMINU_W
	OpAMOMAXU_W
	OpLR_D
	OpSC_D
	OpAMOSWAP_D
	OpAMOADD_D
	OpAMOXOR_D
	OpAMOAND_D
	OpAMOOR_D
	OpAMOMIN_D
	OpAMOMAX_D
	OpAMOMINU_D
	OpAMOMAXU_D

	// F
	OpFLW
	OpFSW
	OpFMADD_S
	OpFMSUB_S
	OpFNMSUB_S
	OpFNMADD_S
	OpFADD_S
	OpFSUB_S
	OpFMUL_S
	OpFDIV_S
	OpFSQRT_S
	OpFSGNJ_S
	OpFSGNJN_S
	OpFSGNJX_S
	OpFMIN_S
	OpFMAX_S
	OpFCVT_W_S
	OpFCVT_WU_S
	OpFCVT_L_S
	OpFCVT_LU_S
	OpFMV_X_W
	OpFEQ_S
	OpFLT_S
	OpFLE_S
	OpFCLASS_S
	OpFCVT_S_W
	OpFCVT_S_WU
	OpFCVT_S_L
	OpFCVT_S_LU
	OpFMV_W_X

	// D
	OpFLD
	OpFSD
	OpFMADD_D
	OpFMSUB_D
	OpFNMSUB_D
	OpFNMADD_D
	OpFADD_D
	OpFSUB_D
	OpFMUL_D
	OpFDIV_D
	OpFSQRT_D
	OpFSGNJ_D
	OpFSGNJN_D
	OpFSGNJX_D
	OpFMIN_D
	OpFMAX_D
	OpFCVT_S_D
	OpFCVT_D_S
	OpFEQ_D
	OpFLT_D
	OpFLE_D
	OpFCLASS_D
	OpFCVT_W_D
	OpFCVT_WU_D
	OpFCVT_L_D
	OpFCVT_LU_D
	OpFMV_X_D
	OpFCVT_D_W
	OpFCVT_D_WU
	OpFCVT_D_L
	OpFCVT_D_LU
	OpFMV_D_X

	// NumOps is one more than the largest Op; tables indexed by Op have
	// NumOps entries.
	NumOps
)

// RegClass says what an operand field of an Inst names.
type RegClass uint8

// Operand classes.
const (
	RegNone RegClass = iota // the field is unused (zero), or holds an immediate
	RegX                    // an integer register x0..x31
	RegF                    // a floating-point register f0..f31
)

// Operands gives the class of each register field of an Op: which fields
// the instruction reads (Rs1, Rs2, Rs3) or writes (Rd), and in which
// register file. A write to x0 is discarded as usual; a RegF field may
// name f0, which is an ordinary register.
//
// The float operands, by group:
//   - FLW/FLD: Rd is RegF, the base Rs1 is RegX. FSW/FSD: Rs2 (the data) is
//     RegF, Rs1 is RegX.
//   - arithmetic, FSGNJ*, FMIN/FMAX, FSQRT, FCVT.S.D/FCVT.D.S and the fused
//     multiply-adds: every used field is RegF.
//   - FEQ/FLT/FLE, FCLASS, FMV.X.W/FMV.X.D and FCVT.{W,WU,L,LU}.{S,D}: Rd is
//     RegX, the sources are RegF.
//   - FMV.W.X/FMV.D.X and FCVT.{S,D}.{W,WU,L,LU}: Rd is RegF, Rs1 is RegX.
type Operands struct {
	Rd, Rs1, Rs2, Rs3 RegClass
}

// operand layouts (format) drive Inst.String.
type format uint8

const (
	fmtNone     format = iota // no operands: ecall, ebreak, fence.i
	fmtR                      // rd,rs1,rs2
	fmtRRM                    // rd,rs1,rs2[,rm]
	fmtR4RM                   // rd,rs1,rs2,rs3[,rm]
	fmtR1                     // rd,rs1
	fmtR1RM                   // rd,rs1[,rm]
	fmtRRMExact               // rd,rs1[,rm]: exact conversions, rm shown unless rne
	fmtI                      // rd,rs1,imm
	fmtShift                  // rd,rs1,0xshamt
	fmtLoad                   // rd,imm(rs1)
	fmtStore                  // rs2,imm(rs1)
	fmtBranch                 // rs1,rs2,target
	fmtJAL                    // rd,target
	fmtU                      // rd,0ximm20
	fmtFence                  // pred,succ (or fence.tso)
	fmtCSR                    // rd,csr,rs1
	fmtCSRI                   // rd,csr,uimm
	fmtLR                     // rd,(rs1)
	fmtAMO                    // rd,rs2,(rs1)
	fmtIllegal                // the raw encoding
)

type opInfo struct {
	name string
	ops  Operands
	fmt  format
}

// Shorthands for the operand table.
var (
	oNone = Operands{}
	oXXX  = Operands{Rd: RegX, Rs1: RegX, Rs2: RegX}
	oXX   = Operands{Rd: RegX, Rs1: RegX}
	oX    = Operands{Rd: RegX}
	oBr   = Operands{Rs1: RegX, Rs2: RegX}
	oSt   = Operands{Rs1: RegX, Rs2: RegX}
	oFX   = Operands{Rd: RegF, Rs1: RegX}  // flw, fld, fmv.w.x, fcvt.s.w
	oXF   = Operands{Rd: RegX, Rs1: RegF}  // fmv.x.w, fclass, fcvt.w.s
	oFSt  = Operands{Rs1: RegX, Rs2: RegF} // fsw, fsd
	oFF   = Operands{Rd: RegF, Rs1: RegF}
	oFFF  = Operands{Rd: RegF, Rs1: RegF, Rs2: RegF}
	oFFFF = Operands{Rd: RegF, Rs1: RegF, Rs2: RegF, Rs3: RegF}
	oXFF  = Operands{Rd: RegX, Rs1: RegF, Rs2: RegF}
	oCSRI = Operands{Rd: RegX} // Rs1 holds the 5-bit immediate
)

var opTable = [NumOps]opInfo{
	OpIllegal: {"illegal", oNone, fmtIllegal},

	OpLUI:    {"lui", oX, fmtU},
	OpAUIPC:  {"auipc", oX, fmtU},
	OpJAL:    {"jal", oX, fmtJAL},
	OpJALR:   {"jalr", oXX, fmtLoad},
	OpBEQ:    {"beq", oBr, fmtBranch},
	OpBNE:    {"bne", oBr, fmtBranch},
	OpBLT:    {"blt", oBr, fmtBranch},
	OpBGE:    {"bge", oBr, fmtBranch},
	OpBLTU:   {"bltu", oBr, fmtBranch},
	OpBGEU:   {"bgeu", oBr, fmtBranch},
	OpLB:     {"lb", oXX, fmtLoad},
	OpLH:     {"lh", oXX, fmtLoad},
	OpLW:     {"lw", oXX, fmtLoad},
	OpLD:     {"ld", oXX, fmtLoad},
	OpLBU:    {"lbu", oXX, fmtLoad},
	OpLHU:    {"lhu", oXX, fmtLoad},
	OpLWU:    {"lwu", oXX, fmtLoad},
	OpSB:     {"sb", oSt, fmtStore},
	OpSH:     {"sh", oSt, fmtStore},
	OpSW:     {"sw", oSt, fmtStore},
	OpSD:     {"sd", oSt, fmtStore},
	OpADDI:   {"addi", oXX, fmtI},
	OpSLTI:   {"slti", oXX, fmtI},
	OpSLTIU:  {"sltiu", oXX, fmtI},
	OpXORI:   {"xori", oXX, fmtI},
	OpORI:    {"ori", oXX, fmtI},
	OpANDI:   {"andi", oXX, fmtI},
	OpSLLI:   {"slli", oXX, fmtShift},
	OpSRLI:   {"srli", oXX, fmtShift},
	OpSRAI:   {"srai", oXX, fmtShift},
	OpADD:    {"add", oXXX, fmtR},
	OpSUB:    {"sub", oXXX, fmtR},
	OpSLL:    {"sll", oXXX, fmtR},
	OpSLT:    {"slt", oXXX, fmtR},
	OpSLTU:   {"sltu", oXXX, fmtR},
	OpXOR:    {"xor", oXXX, fmtR},
	OpSRL:    {"srl", oXXX, fmtR},
	OpSRA:    {"sra", oXXX, fmtR},
	OpOR:     {"or", oXXX, fmtR},
	OpAND:    {"and", oXXX, fmtR},
	OpADDIW:  {"addiw", oXX, fmtI},
	OpSLLIW:  {"slliw", oXX, fmtShift},
	OpSRLIW:  {"srliw", oXX, fmtShift},
	OpSRAIW:  {"sraiw", oXX, fmtShift},
	OpADDW:   {"addw", oXXX, fmtR},
	OpSUBW:   {"subw", oXXX, fmtR},
	OpSLLW:   {"sllw", oXXX, fmtR},
	OpSRLW:   {"srlw", oXXX, fmtR},
	OpSRAW:   {"sraw", oXXX, fmtR},
	OpFENCE:  {"fence", oNone, fmtFence},
	OpECALL:  {"ecall", oNone, fmtNone},
	OpEBREAK: {"ebreak", oNone, fmtNone},

	OpFENCE_I: {"fence.i", oNone, fmtNone},

	OpCSRRW:  {"csrrw", oXX, fmtCSR},
	OpCSRRS:  {"csrrs", oXX, fmtCSR},
	OpCSRRC:  {"csrrc", oXX, fmtCSR},
	OpCSRRWI: {"csrrwi", oCSRI, fmtCSRI},
	OpCSRRSI: {"csrrsi", oCSRI, fmtCSRI},
	OpCSRRCI: {"csrrci", oCSRI, fmtCSRI},

	OpMUL:    {"mul", oXXX, fmtR},
	OpMULH:   {"mulh", oXXX, fmtR},
	OpMULHSU: {"mulhsu", oXXX, fmtR},
	OpMULHU:  {"mulhu", oXXX, fmtR},
	OpDIV:    {"div", oXXX, fmtR},
	OpDIVU:   {"divu", oXXX, fmtR},
	OpREM:    {"rem", oXXX, fmtR},
	OpREMU:   {"remu", oXXX, fmtR},
	OpMULW:   {"mulw", oXXX, fmtR},
	OpDIVW:   {"divw", oXXX, fmtR},
	OpDIVUW:  {"divuw", oXXX, fmtR},
	OpREMW:   {"remw", oXXX, fmtR},
	OpREMUW:  {"remuw", oXXX, fmtR},

	OpLR_W:      {"lr.w", oXX, fmtLR},
	OpSC_W:      {"sc.w", oXXX, fmtAMO},
	OpAMOSWAP_W: {"amoswap.w", oXXX, fmtAMO},
	OpAMOADD_W:  {"amoadd.w", oXXX, fmtAMO},
	OpAMOXOR_W:  {"amoxor.w", oXXX, fmtAMO},
	OpAMOAND_W:  {"amoand.w", oXXX, fmtAMO},
	OpAMOOR_W:   {"amoor.w", oXXX, fmtAMO},
	OpAMOMIN_W:  {"amomin.w", oXXX, fmtAMO},
	OpAMOMAX_W:  {"amomax.w", oXXX, fmtAMO},
	OpAMOMINU_W: {"amominu.w", oXXX, fmtAMO},
	OpAMOMAXU_W: {"amomaxu.w", oXXX, fmtAMO},
	OpLR_D:      {"lr.d", oXX, fmtLR},
	OpSC_D:      {"sc.d", oXXX, fmtAMO},
	OpAMOSWAP_D: {"amoswap.d", oXXX, fmtAMO},
	OpAMOADD_D:  {"amoadd.d", oXXX, fmtAMO},
	OpAMOXOR_D:  {"amoxor.d", oXXX, fmtAMO},
	OpAMOAND_D:  {"amoand.d", oXXX, fmtAMO},
	OpAMOOR_D:   {"amoor.d", oXXX, fmtAMO},
	OpAMOMIN_D:  {"amomin.d", oXXX, fmtAMO},
	OpAMOMAX_D:  {"amomax.d", oXXX, fmtAMO},
	OpAMOMINU_D: {"amominu.d", oXXX, fmtAMO},
	OpAMOMAXU_D: {"amomaxu.d", oXXX, fmtAMO},

	OpFLW:       {"flw", oFX, fmtLoad},
	OpFSW:       {"fsw", oFSt, fmtStore},
	OpFMADD_S:   {"fmadd.s", oFFFF, fmtR4RM},
	OpFMSUB_S:   {"fmsub.s", oFFFF, fmtR4RM},
	OpFNMSUB_S:  {"fnmsub.s", oFFFF, fmtR4RM},
	OpFNMADD_S:  {"fnmadd.s", oFFFF, fmtR4RM},
	OpFADD_S:    {"fadd.s", oFFF, fmtRRM},
	OpFSUB_S:    {"fsub.s", oFFF, fmtRRM},
	OpFMUL_S:    {"fmul.s", oFFF, fmtRRM},
	OpFDIV_S:    {"fdiv.s", oFFF, fmtRRM},
	OpFSQRT_S:   {"fsqrt.s", oFF, fmtR1RM},
	OpFSGNJ_S:   {"fsgnj.s", oFFF, fmtR},
	OpFSGNJN_S:  {"fsgnjn.s", oFFF, fmtR},
	OpFSGNJX_S:  {"fsgnjx.s", oFFF, fmtR},
	OpFMIN_S:    {"fmin.s", oFFF, fmtR},
	OpFMAX_S:    {"fmax.s", oFFF, fmtR},
	OpFCVT_W_S:  {"fcvt.w.s", oXF, fmtR1RM},
	OpFCVT_WU_S: {"fcvt.wu.s", oXF, fmtR1RM},
	OpFCVT_L_S:  {"fcvt.l.s", oXF, fmtR1RM},
	OpFCVT_LU_S: {"fcvt.lu.s", oXF, fmtR1RM},
	OpFMV_X_W:   {"fmv.x.w", oXF, fmtR1},
	OpFEQ_S:     {"feq.s", oXFF, fmtR},
	OpFLT_S:     {"flt.s", oXFF, fmtR},
	OpFLE_S:     {"fle.s", oXFF, fmtR},
	OpFCLASS_S:  {"fclass.s", oXF, fmtR1},
	OpFCVT_S_W:  {"fcvt.s.w", oFX, fmtR1RM},
	OpFCVT_S_WU: {"fcvt.s.wu", oFX, fmtR1RM},
	OpFCVT_S_L:  {"fcvt.s.l", oFX, fmtR1RM},
	OpFCVT_S_LU: {"fcvt.s.lu", oFX, fmtR1RM},
	OpFMV_W_X:   {"fmv.w.x", oFX, fmtR1},

	OpFLD:       {"fld", oFX, fmtLoad},
	OpFSD:       {"fsd", oFSt, fmtStore},
	OpFMADD_D:   {"fmadd.d", oFFFF, fmtR4RM},
	OpFMSUB_D:   {"fmsub.d", oFFFF, fmtR4RM},
	OpFNMSUB_D:  {"fnmsub.d", oFFFF, fmtR4RM},
	OpFNMADD_D:  {"fnmadd.d", oFFFF, fmtR4RM},
	OpFADD_D:    {"fadd.d", oFFF, fmtRRM},
	OpFSUB_D:    {"fsub.d", oFFF, fmtRRM},
	OpFMUL_D:    {"fmul.d", oFFF, fmtRRM},
	OpFDIV_D:    {"fdiv.d", oFFF, fmtRRM},
	OpFSQRT_D:   {"fsqrt.d", oFF, fmtR1RM},
	OpFSGNJ_D:   {"fsgnj.d", oFFF, fmtR},
	OpFSGNJN_D:  {"fsgnjn.d", oFFF, fmtR},
	OpFSGNJX_D:  {"fsgnjx.d", oFFF, fmtR},
	OpFMIN_D:    {"fmin.d", oFFF, fmtR},
	OpFMAX_D:    {"fmax.d", oFFF, fmtR},
	OpFCVT_S_D:  {"fcvt.s.d", oFF, fmtR1RM},
	OpFCVT_D_S:  {"fcvt.d.s", oFF, fmtRRMExact},
	OpFEQ_D:     {"feq.d", oXFF, fmtR},
	OpFLT_D:     {"flt.d", oXFF, fmtR},
	OpFLE_D:     {"fle.d", oXFF, fmtR},
	OpFCLASS_D:  {"fclass.d", oXF, fmtR1},
	OpFCVT_W_D:  {"fcvt.w.d", oXF, fmtR1RM},
	OpFCVT_WU_D: {"fcvt.wu.d", oXF, fmtR1RM},
	OpFCVT_L_D:  {"fcvt.l.d", oXF, fmtR1RM},
	OpFCVT_LU_D: {"fcvt.lu.d", oXF, fmtR1RM},
	OpFMV_X_D:   {"fmv.x.d", oXF, fmtR1},
	OpFCVT_D_W:  {"fcvt.d.w", oFX, fmtRRMExact},
	OpFCVT_D_WU: {"fcvt.d.wu", oFX, fmtRRMExact},
	OpFCVT_D_L:  {"fcvt.d.l", oFX, fmtR1RM},
	OpFCVT_D_LU: {"fcvt.d.lu", oFX, fmtR1RM},
	OpFMV_D_X:   {"fmv.d.x", oFX, fmtR1},
}

// String returns the assembler mnemonic of o ("addi", "fmadd.d", "lr.w"),
// without the .aq/.rl suffixes, which belong to an Inst. OpIllegal is
// "illegal"; a value outside the table is "op(N)".
func (o Op) String() string {
	if o >= NumOps {
		return "op(" + strconv.Itoa(int(o)) + ")"
	}
	return opTable[o].name
}

// Operands returns the register-file class of each operand field of o. It is
// a table lookup, cheap enough for the translator's inner loop.
func (o Op) Operands() Operands {
	if o >= NumOps {
		return Operands{}
	}
	return opTable[o].ops
}

// HasRM reports whether o has a rounding-mode field (Inst.RM is meaningful).
func (o Op) HasRM() bool {
	if o >= NumOps {
		return false
	}
	switch opTable[o].fmt {
	case fmtRRM, fmtR4RM, fmtR1RM, fmtRRMExact:
		return true
	}
	return false
}

// Rounding modes (Inst.RM). RMDyn selects the mode in the frm CSR; 5 and 6
// are reserved, and an encoding that names them decodes to OpIllegal.
const (
	RMRNE uint8 = 0 // round to nearest, ties to even
	RMRTZ uint8 = 1 // round towards zero
	RMRDN uint8 = 2 // round down (towards -inf)
	RMRUP uint8 = 3 // round up (towards +inf)
	RMRMM uint8 = 4 // round to nearest, ties to max magnitude
	RMDyn uint8 = 7 // dynamic: use frm
)

// Inst is one decoded instruction. It is a small value (24 bytes) so that
// decoding never allocates. Fields an Op does not use are zero.
type Inst struct {
	// Op is the operation; compressed instructions carry the Op of their
	// expansion. OpIllegal for every invalid or reserved encoding.
	Op Op
	// Rd is the destination register number (0..31); the register file is
	// Op.Operands().Rd.
	Rd uint8
	// Rs1 is the first source register (0..31). For CSRRWI/CSRRSI/CSRRCI it
	// is not a register but the 5-bit unsigned immediate (uimm).
	Rs1 uint8
	// Rs2 is the second source register (0..31): the data register of
	// stores and AMOs.
	Rs2 uint8
	// Rs3 is the third source register (0..31) of the fused multiply-adds.
	Rs3 uint8
	// Imm is the sign-extended immediate:
	//   - branches, JAL: the byte offset from this instruction's pc;
	//   - loads, stores, JALR: the displacement added to Rs1;
	//   - LUI, AUIPC: the already-shifted value (imm20 << 12, sign-extended);
	//   - shifts: the shift amount (0..63, 0..31 for the W forms);
	//   - FENCE: the raw 12-bit field fm<<8 | pred<<4 | succ (each of pred
	//     and succ is the bit set I=8, O=4, R=2, W=1);
	//   - OpIllegal: the raw encoding (16 or 32 bits, zero-extended), so a
	//     fault can report it.
	Imm int64
	// Len is the encoding's length in bytes: 2 (compressed) or 4.
	Len uint8
	// RM is the rounding-mode field of FP ops that have one (Op.HasRM):
	// RMRNE..RMRMM or RMDyn.
	RM uint8
	// Aq and Rl are the acquire and release bits of LR, SC and AMOs.
	Aq, Rl bool
	// CSR is the 12-bit CSR number of the Zicsr instructions.
	CSR uint16
	// C is the compressed instruction this Inst was expanded from (CNone for
	// 32-bit encodings). Only disassembly needs it: Op and the operand
	// fields already hold the expansion, but some expansions have two
	// compressed spellings (c.addi x2,16 and c.addi16sp x2,16).
	C COp
}

// COp names a compressed (RVC) instruction, for disassembly.
type COp uint8

// Compressed instructions of RV64C (quadrants 0, 1 and 2).
const (
	CNone COp = iota
	CAddi4spn
	CFld
	CLw
	CLd
	CFsd
	CSw
	CSd
	CAddi
	CAddiw
	CLi
	CAddi16sp
	CLui
	CSrli
	CSrai
	CAndi
	CSub
	CXor
	COr
	CAnd
	CSubw
	CAddw
	CJ
	CBeqz
	CBnez
	CSlli
	CFldsp
	CLwsp
	CLdsp
	CJr
	CMv
	CEbreak
	CJalr
	CAdd
	CFsdsp
	CSwsp
	CSdsp
	numCOps
)

var cNames = [numCOps]string{
	CNone: "", CAddi4spn: "c.addi4spn", CFld: "c.fld", CLw: "c.lw", CLd: "c.ld",
	CFsd: "c.fsd", CSw: "c.sw", CSd: "c.sd", CAddi: "c.addi", CAddiw: "c.addiw",
	CLi: "c.li", CAddi16sp: "c.addi16sp", CLui: "c.lui", CSrli: "c.srli",
	CSrai: "c.srai", CAndi: "c.andi", CSub: "c.sub", CXor: "c.xor", COr: "c.or",
	CAnd: "c.and", CSubw: "c.subw", CAddw: "c.addw", CJ: "c.j", CBeqz: "c.beqz",
	CBnez: "c.bnez", CSlli: "c.slli", CFldsp: "c.fldsp", CLwsp: "c.lwsp",
	CLdsp: "c.ldsp", CJr: "c.jr", CMv: "c.mv", CEbreak: "c.ebreak",
	CJalr: "c.jalr", CAdd: "c.add", CFsdsp: "c.fsdsp", CSwsp: "c.swsp",
	CSdsp: "c.sdsp",
}

// String returns the compressed mnemonic ("c.addi4spn"); CNone is "".
func (c COp) String() string {
	if c >= numCOps {
		return "c.op(" + strconv.Itoa(int(c)) + ")"
	}
	return cNames[c]
}

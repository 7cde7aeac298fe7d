package dbt

import (
	"bufio"
	"compress/gzip"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// Builders for expected Insts; every field they do not set must be zero.
func wantI(op Op, rd, rs1, rs2 uint8, imm int64) Inst {
	return Inst{Op: op, Rd: rd, Rs1: rs1, Rs2: rs2, Imm: imm, Len: 4}
}

func wantFP(op Op, rd, rs1, rs2, rs3, rm uint8) Inst {
	return Inst{Op: op, Rd: rd, Rs1: rs1, Rs2: rs2, Rs3: rs3, RM: rm, Len: 4}
}

func wantAMO(op Op, rd, rs1, rs2 uint8, aq, rl bool) Inst {
	return Inst{Op: op, Rd: rd, Rs1: rs1, Rs2: rs2, Aq: aq, Rl: rl, Len: 4}
}

func wantCSR(op Op, rd, rs1 uint8, csr uint16) Inst {
	return Inst{Op: op, Rd: rd, Rs1: rs1, CSR: csr, Len: 4}
}

func wantC(c COp, op Op, rd, rs1, rs2 uint8, imm int64) Inst {
	return Inst{Op: op, Rd: rd, Rs1: rs1, Rs2: rs2, Imm: imm, Len: 2, C: c}
}

type decodeCase struct {
	word uint32
	want Inst
	text string // String()
}

// decodeCases are encodings checked by hand against the ISA manual's
// tables (the words come from GNU as).
var decodeCases = []decodeCase{
	// U and J types: LUI/AUIPC hold the shifted value, JAL the offset.
	{0x123452b7, wantI(OpLUI, 5, 0, 0, 0x12345000), "lui x5,0x12345"},
	{0xfffff2b7, wantI(OpLUI, 5, 0, 0, -4096), "lui x5,0xfffff"},
	{0x800000b7, wantI(OpLUI, 1, 0, 0, -0x80000000), "lui x1,0x80000"},
	{0x00067717, wantI(OpAUIPC, 14, 0, 0, 0x67000), "auipc x14,0x67"},
	{0x7fc000ef, wantI(OpJAL, 1, 0, 0, 2044), "jal x1,.+2044"},
	{0xffdff06f, wantI(OpJAL, 0, 0, 0, -4), "jal x0,.-4"},
	{0x7ffff0ef, wantI(OpJAL, 1, 0, 0, 0xffffe), "jal x1,.+1048574"},
	{0x800000ef, wantI(OpJAL, 1, 0, 0, -0x100000), "jal x1,.-1048576"},
	{0x00008067, wantI(OpJALR, 0, 1, 0, 0), "jalr x0,0(x1)"},
	{0xffc280e7, wantI(OpJALR, 1, 5, 0, -4), "jalr x1,-4(x5)"},

	// Branches: Imm is the pc-relative offset.
	{0x03278063, wantI(OpBEQ, 0, 15, 18, 32), "beq x15,x18,.+32"},
	{0xfe101fe3, wantI(OpBNE, 0, 0, 1, -2), "bne x0,x1,.-2"},
	{0x0062c463, wantI(OpBLT, 0, 5, 6, 8), "blt x5,x6,.+8"},
	{0x8020d063, wantI(OpBGE, 0, 1, 2, -4096), "bge x1,x2,.-4096"},
	{0x7e41efe3, wantI(OpBLTU, 0, 3, 4, 4094), "bltu x3,x4,.+4094"},
	{0x0083f663, wantI(OpBGEU, 0, 7, 8, 12), "bgeu x7,x8,.+12"},

	// Loads and stores: Imm is the displacement.
	{0x80010083, wantI(OpLB, 1, 2, 0, -2048), "lb x1,-2048(x2)"},
	{0x7ff21183, wantI(OpLH, 3, 4, 0, 2047), "lh x3,2047(x4)"},
	{0xfff32283, wantI(OpLW, 5, 6, 0, -1), "lw x5,-1(x6)"},
	{0x01013283, wantI(OpLD, 5, 2, 0, 16), "ld x5,16(x2)"},
	{0x00044383, wantI(OpLBU, 7, 8, 0, 0), "lbu x7,0(x8)"},
	{0x00255483, wantI(OpLHU, 9, 10, 0, 2), "lhu x9,2(x10)"},
	{0x00466583, wantI(OpLWU, 11, 12, 0, 4), "lwu x11,4(x12)"},
	{0x80110023, wantI(OpSB, 0, 2, 1, -2048), "sb x1,-2048(x2)"},
	{0x7e321fa3, wantI(OpSH, 0, 4, 3, 2047), "sh x3,2047(x4)"},
	{0xfe532fa3, wantI(OpSW, 0, 6, 5, -1), "sw x5,-1(x6)"},
	{0x00513823, wantI(OpSD, 0, 2, 5, 16), "sd x5,16(x2)"},

	// OP-IMM; shifts hold the shamt and print it in hex, as objdump does.
	{0xffb58513, wantI(OpADDI, 10, 11, 0, -5), "addi x10,x11,-5"},
	{0x00000013, wantI(OpADDI, 0, 0, 0, 0), "addi x0,x0,0"},
	{0x7ff10093, wantI(OpADDI, 1, 2, 0, 2047), "addi x1,x2,2047"},
	{0x80010093, wantI(OpADDI, 1, 2, 0, -2048), "addi x1,x2,-2048"},
	{0xfff12093, wantI(OpSLTI, 1, 2, 0, -1), "slti x1,x2,-1"},
	{0x00113093, wantI(OpSLTIU, 1, 2, 0, 1), "sltiu x1,x2,1"},
	{0xfff14093, wantI(OpXORI, 1, 2, 0, -1), "xori x1,x2,-1"},
	{0x0ff16093, wantI(OpORI, 1, 2, 0, 255), "ori x1,x2,255"},
	{0xff017093, wantI(OpANDI, 1, 2, 0, -16), "andi x1,x2,-16"},
	{0x03f31293, wantI(OpSLLI, 5, 6, 0, 63), "slli x5,x6,0x3f"},
	{0x00135293, wantI(OpSRLI, 5, 6, 0, 1), "srli x5,x6,0x1"},
	{0x43f35293, wantI(OpSRAI, 5, 6, 0, 63), "srai x5,x6,0x3f"},
	{0x00001013, wantI(OpSLLI, 0, 0, 0, 0), "slli x0,x0,0x0"},

	// OP and OP-32.
	{0x003100b3, wantI(OpADD, 1, 2, 3, 0), "add x1,x2,x3"},
	{0x403100b3, wantI(OpSUB, 1, 2, 3, 0), "sub x1,x2,x3"},
	{0x003110b3, wantI(OpSLL, 1, 2, 3, 0), "sll x1,x2,x3"},
	{0x003120b3, wantI(OpSLT, 1, 2, 3, 0), "slt x1,x2,x3"},
	{0x003130b3, wantI(OpSLTU, 1, 2, 3, 0), "sltu x1,x2,x3"},
	{0x003140b3, wantI(OpXOR, 1, 2, 3, 0), "xor x1,x2,x3"},
	{0x003150b3, wantI(OpSRL, 1, 2, 3, 0), "srl x1,x2,x3"},
	{0x403150b3, wantI(OpSRA, 1, 2, 3, 0), "sra x1,x2,x3"},
	{0x003160b3, wantI(OpOR, 1, 2, 3, 0), "or x1,x2,x3"},
	{0x01df7fb3, wantI(OpAND, 31, 30, 29, 0), "and x31,x30,x29"},
	{0xfff1009b, wantI(OpADDIW, 1, 2, 0, -1), "addiw x1,x2,-1"},
	{0x01f1109b, wantI(OpSLLIW, 1, 2, 0, 31), "slliw x1,x2,0x1f"},
	{0x0001509b, wantI(OpSRLIW, 1, 2, 0, 0), "srliw x1,x2,0x0"},
	{0x41f1509b, wantI(OpSRAIW, 1, 2, 0, 31), "sraiw x1,x2,0x1f"},
	{0x003100bb, wantI(OpADDW, 1, 2, 3, 0), "addw x1,x2,x3"},
	{0x403100bb, wantI(OpSUBW, 1, 2, 3, 0), "subw x1,x2,x3"},
	{0x003110bb, wantI(OpSLLW, 1, 2, 3, 0), "sllw x1,x2,x3"},
	{0x003150bb, wantI(OpSRLW, 1, 2, 3, 0), "srlw x1,x2,x3"},
	{0x403150bb, wantI(OpSRAW, 1, 2, 3, 0), "sraw x1,x2,x3"},

	// MISC-MEM and SYSTEM. FENCE keeps fm|pred|succ in Imm; an empty set
	// prints as objdump prints it.
	{0x0ff0000f, Inst{Op: OpFENCE, Imm: 0x0ff, Len: 4}, "fence iorw,iorw"},
	{0x0f50000f, Inst{Op: OpFENCE, Imm: 0x0f5, Len: 4}, "fence iorw,ow"},
	{0x8330000f, Inst{Op: OpFENCE, Imm: 0x833, Len: 4}, "fence.tso"},
	{0x0100000f, Inst{Op: OpFENCE, Imm: 0x010, Len: 4}, "fence w,unknown"}, // pause
	{0x0000100f, Inst{Op: OpFENCE_I, Len: 4}, "fence.i"},
	{0x00000073, Inst{Op: OpECALL, Len: 4}, "ecall"},
	{0x00100073, Inst{Op: OpEBREAK, Len: 4}, "ebreak"},

	// M.
	{0x023100b3, wantI(OpMUL, 1, 2, 3, 0), "mul x1,x2,x3"},
	{0x023110b3, wantI(OpMULH, 1, 2, 3, 0), "mulh x1,x2,x3"},
	{0x023120b3, wantI(OpMULHSU, 1, 2, 3, 0), "mulhsu x1,x2,x3"},
	{0x023130b3, wantI(OpMULHU, 1, 2, 3, 0), "mulhu x1,x2,x3"},
	{0x023140b3, wantI(OpDIV, 1, 2, 3, 0), "div x1,x2,x3"},
	{0x023150b3, wantI(OpDIVU, 1, 2, 3, 0), "divu x1,x2,x3"},
	{0x023160b3, wantI(OpREM, 1, 2, 3, 0), "rem x1,x2,x3"},
	{0x023170b3, wantI(OpREMU, 1, 2, 3, 0), "remu x1,x2,x3"},
	{0x023100bb, wantI(OpMULW, 1, 2, 3, 0), "mulw x1,x2,x3"},
	{0x023140bb, wantI(OpDIVW, 1, 2, 3, 0), "divw x1,x2,x3"},
	{0x023150bb, wantI(OpDIVUW, 1, 2, 3, 0), "divuw x1,x2,x3"},
	{0x023160bb, wantI(OpREMW, 1, 2, 3, 0), "remw x1,x2,x3"},
	{0x023170bb, wantI(OpREMUW, 1, 2, 3, 0), "remuw x1,x2,x3"},

	// A: the ordering bits are suffixes of the mnemonic.
	{0x100427af, wantAMO(OpLR_W, 15, 8, 0, false, false), "lr.w x15,(x8)"},
	{0x1602b0af, wantAMO(OpLR_D, 1, 5, 0, true, true), "lr.d.aqrl x1,(x5)"},
	{0x1ce426af, wantAMO(OpSC_W, 13, 8, 14, true, false), "sc.w.aq x13,x14,(x8)"},
	{0x1a21b0af, wantAMO(OpSC_D, 1, 3, 2, false, true), "sc.d.rl x1,x2,(x3)"},
	{0x08f4a7af, wantAMO(OpAMOSWAP_W, 15, 9, 15, false, false), "amoswap.w x15,x15,(x9)"},
	{0x0021a0af, wantAMO(OpAMOADD_W, 1, 3, 2, false, false), "amoadd.w x1,x2,(x3)"},
	{0x2021a0af, wantAMO(OpAMOXOR_W, 1, 3, 2, false, false), "amoxor.w x1,x2,(x3)"},
	{0x6021a0af, wantAMO(OpAMOAND_W, 1, 3, 2, false, false), "amoand.w x1,x2,(x3)"},
	{0x4421a0af, wantAMO(OpAMOOR_W, 1, 3, 2, true, false), "amoor.w.aq x1,x2,(x3)"},
	{0x8021a0af, wantAMO(OpAMOMIN_W, 1, 3, 2, false, false), "amomin.w x1,x2,(x3)"},
	{0xa021a0af, wantAMO(OpAMOMAX_W, 1, 3, 2, false, false), "amomax.w x1,x2,(x3)"},
	{0xc021a0af, wantAMO(OpAMOMINU_W, 1, 3, 2, false, false), "amominu.w x1,x2,(x3)"},
	{0xe621a0af, wantAMO(OpAMOMAXU_W, 1, 3, 2, true, true), "amomaxu.w.aqrl x1,x2,(x3)"},
	{0x0821b0af, wantAMO(OpAMOSWAP_D, 1, 3, 2, false, false), "amoswap.d x1,x2,(x3)"},
	{0x0421b0af, wantAMO(OpAMOADD_D, 1, 3, 2, true, false), "amoadd.d.aq x1,x2,(x3)"},
	{0x2021b0af, wantAMO(OpAMOXOR_D, 1, 3, 2, false, false), "amoxor.d x1,x2,(x3)"},
	{0x6021b0af, wantAMO(OpAMOAND_D, 1, 3, 2, false, false), "amoand.d x1,x2,(x3)"},
	{0x4021b0af, wantAMO(OpAMOOR_D, 1, 3, 2, false, false), "amoor.d x1,x2,(x3)"},
	{0x8021b0af, wantAMO(OpAMOMIN_D, 1, 3, 2, false, false), "amomin.d x1,x2,(x3)"},
	{0xa021b0af, wantAMO(OpAMOMAX_D, 1, 3, 2, false, false), "amomax.d x1,x2,(x3)"},
	{0xc021b0af, wantAMO(OpAMOMINU_D, 1, 3, 2, false, false), "amominu.d x1,x2,(x3)"},
	{0xe021b02f, wantAMO(OpAMOMAXU_D, 0, 3, 2, false, false), "amomaxu.d x0,x2,(x3)"},

	// F and D. A rounding mode is printed unless it is dyn.
	{0xffc12087, wantI(OpFLW, 1, 2, 0, -4), "flw f1,-4(x2)"},
	{0x00112427, wantI(OpFSW, 0, 2, 1, 8), "fsw f1,8(x2)"},
	{0x7f813f87, wantI(OpFLD, 31, 2, 0, 2040), "fld f31,2040(x2)"},
	{0x81f13027, wantI(OpFSD, 0, 2, 31, -2048), "fsd f31,-2048(x2)"},
	{0x203100c3, wantFP(OpFMADD_S, 1, 2, 3, 4, RMRNE), "fmadd.s f1,f2,f3,f4,rne"},
	{0x203170c7, wantFP(OpFMSUB_S, 1, 2, 3, 4, RMDyn), "fmsub.s f1,f2,f3,f4"},
	{0x203110cb, wantFP(OpFNMSUB_S, 1, 2, 3, 4, RMRTZ), "fnmsub.s f1,f2,f3,f4,rtz"},
	{0x203120cf, wantFP(OpFNMADD_S, 1, 2, 3, 4, RMRDN), "fnmadd.s f1,f2,f3,f4,rdn"},
	{0x72e7f7c3, wantFP(OpFMADD_D, 15, 15, 14, 14, RMDyn), "fmadd.d f15,f15,f14,f14"},
	{0x223130c7, wantFP(OpFMSUB_D, 1, 2, 3, 4, RMRUP), "fmsub.d f1,f2,f3,f4,rup"},
	{0x223140cb, wantFP(OpFNMSUB_D, 1, 2, 3, 4, RMRMM), "fnmsub.d f1,f2,f3,f4,rmm"},
	{0xe3df7fcf, wantFP(OpFNMADD_D, 31, 30, 29, 28, RMDyn), "fnmadd.d f31,f30,f29,f28"},
	{0x003170d3, wantFP(OpFADD_S, 1, 2, 3, 0, RMDyn), "fadd.s f1,f2,f3"},
	{0x083110d3, wantFP(OpFSUB_S, 1, 2, 3, 0, RMRTZ), "fsub.s f1,f2,f3,rtz"},
	{0x103170d3, wantFP(OpFMUL_S, 1, 2, 3, 0, RMDyn), "fmul.s f1,f2,f3"},
	{0x183170d3, wantFP(OpFDIV_S, 1, 2, 3, 0, RMDyn), "fdiv.s f1,f2,f3"},
	{0x580170d3, wantFP(OpFSQRT_S, 1, 2, 0, 0, RMDyn), "fsqrt.s f1,f2"},
	{0x023100d3, wantFP(OpFADD_D, 1, 2, 3, 0, RMRNE), "fadd.d f1,f2,f3,rne"},
	{0x0a3170d3, wantFP(OpFSUB_D, 1, 2, 3, 0, RMDyn), "fsub.d f1,f2,f3"},
	{0x123170d3, wantFP(OpFMUL_D, 1, 2, 3, 0, RMDyn), "fmul.d f1,f2,f3"},
	{0x1a3170d3, wantFP(OpFDIV_D, 1, 2, 3, 0, RMDyn), "fdiv.d f1,f2,f3"},
	{0x5a047453, wantFP(OpFSQRT_D, 8, 8, 0, 0, RMDyn), "fsqrt.d f8,f8"},
	{0x203100d3, wantFP(OpFSGNJ_S, 1, 2, 3, 0, 0), "fsgnj.s f1,f2,f3"},
	{0x203110d3, wantFP(OpFSGNJN_S, 1, 2, 3, 0, 0), "fsgnjn.s f1,f2,f3"},
	{0x203120d3, wantFP(OpFSGNJX_S, 1, 2, 3, 0, 0), "fsgnjx.s f1,f2,f3"},
	{0x223100d3, wantFP(OpFSGNJ_D, 1, 2, 3, 0, 0), "fsgnj.d f1,f2,f3"},
	{0x223110d3, wantFP(OpFSGNJN_D, 1, 2, 3, 0, 0), "fsgnjn.d f1,f2,f3"},
	{0x22f7a7d3, wantFP(OpFSGNJX_D, 15, 15, 15, 0, 0), "fsgnjx.d f15,f15,f15"},
	{0x283100d3, wantFP(OpFMIN_S, 1, 2, 3, 0, 0), "fmin.s f1,f2,f3"},
	{0x283110d3, wantFP(OpFMAX_S, 1, 2, 3, 0, 0), "fmax.s f1,f2,f3"},
	{0x2a3100d3, wantFP(OpFMIN_D, 1, 2, 3, 0, 0), "fmin.d f1,f2,f3"},
	{0x2a3110d3, wantFP(OpFMAX_D, 1, 2, 3, 0, 0), "fmax.d f1,f2,f3"},
	{0xc00110d3, wantFP(OpFCVT_W_S, 1, 2, 0, 0, RMRTZ), "fcvt.w.s x1,f2,rtz"},
	{0xc01170d3, wantFP(OpFCVT_WU_S, 1, 2, 0, 0, RMDyn), "fcvt.wu.s x1,f2"},
	{0xc02170d3, wantFP(OpFCVT_L_S, 1, 2, 0, 0, RMDyn), "fcvt.l.s x1,f2"},
	{0xc03170d3, wantFP(OpFCVT_LU_S, 1, 2, 0, 0, RMDyn), "fcvt.lu.s x1,f2"},
	{0xc2051553, wantFP(OpFCVT_W_D, 10, 10, 0, 0, RMRTZ), "fcvt.w.d x10,f10,rtz"},
	{0xc21170d3, wantFP(OpFCVT_WU_D, 1, 2, 0, 0, RMDyn), "fcvt.wu.d x1,f2"},
	{0xc22170d3, wantFP(OpFCVT_L_D, 1, 2, 0, 0, RMDyn), "fcvt.l.d x1,f2"},
	{0xc23130d3, wantFP(OpFCVT_LU_D, 1, 2, 0, 0, RMRUP), "fcvt.lu.d x1,f2,rup"},
	{0xd00170d3, wantFP(OpFCVT_S_W, 1, 2, 0, 0, RMDyn), "fcvt.s.w f1,x2"},
	{0xd01170d3, wantFP(OpFCVT_S_WU, 1, 2, 0, 0, RMDyn), "fcvt.s.wu f1,x2"},
	{0xd02170d3, wantFP(OpFCVT_S_L, 1, 2, 0, 0, RMDyn), "fcvt.s.l f1,x2"},
	{0xd03140d3, wantFP(OpFCVT_S_LU, 1, 2, 0, 0, RMRMM), "fcvt.s.lu f1,x2,rmm"},
	{0xd2040453, wantFP(OpFCVT_D_W, 8, 8, 0, 0, RMRNE), "fcvt.d.w f8,x8"},
	{0xd21100d3, wantFP(OpFCVT_D_WU, 1, 2, 0, 0, RMRNE), "fcvt.d.wu f1,x2"},
	{0xd22170d3, wantFP(OpFCVT_D_L, 1, 2, 0, 0, RMDyn), "fcvt.d.l f1,x2"},
	{0xd23170d3, wantFP(OpFCVT_D_LU, 1, 2, 0, 0, RMDyn), "fcvt.d.lu f1,x2"},
	{0x401170d3, wantFP(OpFCVT_S_D, 1, 2, 0, 0, RMDyn), "fcvt.s.d f1,f2"},
	{0x420100d3, wantFP(OpFCVT_D_S, 1, 2, 0, 0, RMRNE), "fcvt.d.s f1,f2"},
	// The exact conversions accept any valid rounding mode (binutils 2.40
	// only rne); it is printed when it is not rne.
	{0xd20570d3, wantFP(OpFCVT_D_W, 1, 10, 0, 0, RMDyn), "fcvt.d.w f1,x10,dyn"},
	{0x420510d3, wantFP(OpFCVT_D_S, 1, 10, 0, 0, RMRTZ), "fcvt.d.s f1,f10,rtz"},
	{0xe00100d3, wantFP(OpFMV_X_W, 1, 2, 0, 0, 0), "fmv.x.w x1,f2"},
	{0xf00100d3, wantFP(OpFMV_W_X, 1, 2, 0, 0, 0), "fmv.w.x f1,x2"},
	{0xe2050753, wantFP(OpFMV_X_D, 14, 10, 0, 0, 0), "fmv.x.d x14,f10"},
	{0xf20007d3, wantFP(OpFMV_D_X, 15, 0, 0, 0, 0), "fmv.d.x f15,x0"},
	{0xa03120d3, wantFP(OpFEQ_S, 1, 2, 3, 0, 0), "feq.s x1,f2,f3"},
	{0xa03110d3, wantFP(OpFLT_S, 1, 2, 3, 0, 0), "flt.s x1,f2,f3"},
	{0xa03100d3, wantFP(OpFLE_S, 1, 2, 3, 0, 0), "fle.s x1,f2,f3"},
	{0xa23120d3, wantFP(OpFEQ_D, 1, 2, 3, 0, 0), "feq.d x1,f2,f3"},
	{0xa23110d3, wantFP(OpFLT_D, 1, 2, 3, 0, 0), "flt.d x1,f2,f3"},
	{0xa23100d3, wantFP(OpFLE_D, 1, 2, 3, 0, 0), "fle.d x1,f2,f3"},
	{0xe00110d3, wantFP(OpFCLASS_S, 1, 2, 0, 0, 0), "fclass.s x1,f2"},
	{0xe20597d3, wantFP(OpFCLASS_D, 15, 11, 0, 0, 0), "fclass.d x15,f11"},

	// Zicsr: named CSRs print by name, others in hex; the I forms keep
	// their immediate in Rs1.
	{0x00171073, wantCSR(OpCSRRW, 0, 14, 0x001), "csrrw x0,fflags,x14"},
	{0x002027f3, wantCSR(OpCSRRS, 15, 0, 0x002), "csrrs x15,frm,x0"},
	{0x003130f3, wantCSR(OpCSRRC, 1, 2, 0x003), "csrrc x1,fcsr,x2"},
	{0x001fd0f3, wantCSR(OpCSRRWI, 1, 31, 0x001), "csrrwi x1,fflags,31"},
	{0x00186073, wantCSR(OpCSRRSI, 0, 16, 0x001), "csrrsi x0,fflags,16"},
	{0x002071f3, wantCSR(OpCSRRCI, 3, 0, 0x002), "csrrci x3,frm,0"},
	{0x7c0020f3, wantCSR(OpCSRRS, 1, 0, 0x7c0), "csrrs x1,0x7c0,x0"},
	{0xc00020f3, wantCSR(OpCSRRS, 1, 0, 0xc00), "csrrs x1,cycle,x0"},
	{0xc01020f3, wantCSR(OpCSRRS, 1, 0, 0xc01), "csrrs x1,time,x0"},
	{0xc1f020f3, wantCSR(OpCSRRS, 1, 0, 0xc1f), "csrrs x1,hpmcounter31,x0"},
	{0xc00010f3, wantCSR(OpCSRRW, 1, 0, 0xc00), "csrrw x1,cycle,x0"},
	{0xfffff0f3, wantCSR(OpCSRRCI, 1, 31, 0xfff), "csrrci x1,0xfff,31"},

	// Compressed: the expansion, Len 2, and the compressed mnemonic. Primed
	// registers (rd', rs1', rs2') are x8..x15.
	{0x0040, wantC(CAddi4spn, OpADDI, 8, 2, 0, 4), "c.addi4spn x8,x2,4"},
	{0x1ffc, wantC(CAddi4spn, OpADDI, 15, 2, 0, 1020), "c.addi4spn x15,x2,1020"},
	{0x3fe0, wantC(CFld, OpFLD, 8, 15, 0, 248), "c.fld f8,248(x15)"},
	{0x5d64, wantC(CLw, OpLW, 9, 10, 0, 124), "c.lw x9,124(x10)"},
	{0x6714, wantC(CLd, OpLD, 13, 14, 0, 8), "c.ld x13,8(x14)"},
	{0xa01c, wantC(CFsd, OpFSD, 0, 8, 15, 0), "c.fsd f15,0(x8)"},
	{0xc0c0, wantC(CSw, OpSW, 0, 9, 8, 4), "c.sw x8,4(x9)"},
	{0xfc7c, wantC(CSd, OpSD, 0, 8, 15, 248), "c.sd x15,248(x8)"},
	{0x0001, wantC(CAddi, OpADDI, 0, 0, 0, 0), "c.addi x0,0"}, // c.nop
	{0x1501, wantC(CAddi, OpADDI, 10, 10, 0, -32), "c.addi x10,-32"},
	{0x057d, wantC(CAddi, OpADDI, 10, 10, 0, 31), "c.addi x10,31"},
	{0x0005, wantC(CAddi, OpADDI, 0, 0, 0, 1), "c.addi x0,1"}, // HINT
	{0x2781, wantC(CAddiw, OpADDIW, 15, 15, 0, 0), "c.addiw x15,0"},
	{0x30fd, wantC(CAddiw, OpADDIW, 1, 1, 0, -1), "c.addiw x1,-1"},
	{0x4681, wantC(CLi, OpADDI, 13, 0, 0, 0), "c.li x13,0"},
	{0x5281, wantC(CLi, OpADDI, 5, 0, 0, -32), "c.li x5,-32"},
	{0x4005, wantC(CLi, OpADDI, 0, 0, 0, 1), "c.li x0,1"}, // HINT
	{0x7101, wantC(CAddi16sp, OpADDI, 2, 2, 0, -512), "c.addi16sp x2,-512"},
	{0x617d, wantC(CAddi16sp, OpADDI, 2, 2, 0, 496), "c.addi16sp x2,496"},
	{0x67fd, wantC(CLui, OpLUI, 15, 0, 0, 0x1f000), "c.lui x15,0x1f"},
	{0x70fd, wantC(CLui, OpLUI, 1, 0, 0, -0x1000), "c.lui x1,0xfffff"},
	{0x7181, wantC(CLui, OpLUI, 3, 0, 0, -0x20000), "c.lui x3,0xfffe0"},
	{0x6005, wantC(CLui, OpLUI, 0, 0, 0, 0x1000), "c.lui x0,0x1"}, // HINT
	{0x907d, wantC(CSrli, OpSRLI, 8, 8, 0, 63), "c.srli x8,0x3f"},
	{0x8785, wantC(CSrai, OpSRAI, 15, 15, 0, 1), "c.srai x15,0x1"},
	{0x8001, wantC(CSrli, OpSRLI, 8, 8, 0, 0), "c.srli64 x8"}, // HINT
	{0x8401, wantC(CSrai, OpSRAI, 8, 8, 0, 0), "c.srai64 x8"}, // HINT
	{0x987d, wantC(CAndi, OpANDI, 8, 8, 0, -1), "c.andi x8,-1"},
	{0x8c05, wantC(CSub, OpSUB, 8, 8, 9, 0), "c.sub x8,x9"},
	{0x8d2d, wantC(CXor, OpXOR, 10, 10, 11, 0), "c.xor x10,x11"},
	{0x8e55, wantC(COr, OpOR, 12, 12, 13, 0), "c.or x12,x13"},
	{0x8f7d, wantC(CAnd, OpAND, 14, 14, 15, 0), "c.and x14,x15"},
	{0x9c1d, wantC(CSubw, OpSUBW, 8, 8, 15, 0), "c.subw x8,x15"},
	{0x9fa1, wantC(CAddw, OpADDW, 15, 15, 8, 0), "c.addw x15,x8"},
	{0xb001, wantC(CJ, OpJAL, 0, 0, 0, -2048), "c.j .-2048"},
	{0xaffd, wantC(CJ, OpJAL, 0, 0, 0, 2046), "c.j .+2046"},
	{0xd001, wantC(CBeqz, OpBEQ, 0, 8, 0, -256), "c.beqz x8,.-256"},
	{0xeffd, wantC(CBnez, OpBNE, 0, 15, 0, 254), "c.bnez x15,.+254"},
	{0x10fe, wantC(CSlli, OpSLLI, 1, 1, 0, 63), "c.slli x1,0x3f"},
	{0x0082, wantC(CSlli, OpSLLI, 1, 1, 0, 0), "c.slli64 x1"}, // HINT
	{0x30fe, wantC(CFldsp, OpFLD, 1, 2, 0, 504), "c.fldsp f1,504(x2)"},
	{0x5ffe, wantC(CLwsp, OpLW, 31, 2, 0, 252), "c.lwsp x31,252(x2)"},
	{0x70fe, wantC(CLdsp, OpLD, 1, 2, 0, 504), "c.ldsp x1,504(x2)"},
	{0x8082, wantC(CJr, OpJALR, 0, 1, 0, 0), "c.jr x1"},
	{0x852e, wantC(CMv, OpADD, 10, 0, 11, 0), "c.mv x10,x11"},
	{0x800a, wantC(CMv, OpADD, 0, 0, 2, 0), "c.mv x0,x2"}, // HINT
	{0x9002, wantC(CEbreak, OpEBREAK, 0, 0, 0, 0), "c.ebreak"},
	{0x9782, wantC(CJalr, OpJALR, 1, 15, 0, 0), "c.jalr x15"},
	{0x952e, wantC(CAdd, OpADD, 10, 10, 11, 0), "c.add x10,x11"},
	{0xbffe, wantC(CFsdsp, OpFSD, 0, 2, 31, 504), "c.fsdsp f31,504(x2)"},
	{0xdf86, wantC(CSwsp, OpSW, 0, 2, 1, 252), "c.swsp x1,252(x2)"},
	{0xff86, wantC(CSdsp, OpSD, 0, 2, 1, 504), "c.sdsp x1,504(x2)"},
	// The upper half of the word is ignored for a compressed instruction.
	{0xdeadffe2&^3 | 2, Decode(0xffe2), Decode(0xffe2).String()},
}

func TestDecode(t *testing.T) {
	for _, tc := range decodeCases {
		t.Run(fmt.Sprintf("%08x", tc.word), func(t *testing.T) {
			got := Decode(tc.word)
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.text, got.String())
		})
	}
}

// TestDecodeCoversEveryOp checks that the hand-written table exercises every
// Op, so that a new Op cannot go untested.
func TestDecodeCoversEveryOp(t *testing.T) {
	seen := map[Op]bool{}
	for _, tc := range decodeCases {
		seen[tc.want.Op] = true
	}
	for op := OpIllegal + 1; op < NumOps; op++ {
		require.True(t, seen[op], "no decode case for %v", op)
	}
}

// illegalCases are reserved or unsupported encodings, each with objdump's
// spelling of it (StringAt) where objdump agrees that it is not an RV64GC
// instruction.
var illegalCases = []struct {
	word uint32
	why  string
	text string
}{
	{0x00000000, "all-zero halfword (c.unimp)", "c.unimp"},
	{0xc0001073, "unimp: csrrw x0,cycle,x0", "unimp"},
	{0xffffffff, "all ones (a >= 192-bit format)", ".4byte 0xffffffff"},
	{0x0000001f, "48-bit format", ".4byte 0x1f"},
	{0x0000003f, "64-bit format", ".4byte 0x3f"},
	{0x0000007f, "80-bit and longer format", ".4byte 0x7f"},
	{0x0004, "c.addi4spn with nzuimm=0", ".2byte 0x4"},
	{0x6101, "c.addi16sp with nzimm=0", ".2byte 0x6101"},
	{0x6081, "c.lui with nzimm=0", ".2byte 0x6081"},
	{0x2001, "c.addiw with rd=x0", ".2byte 0x2001"},
	{0x4002, "c.lwsp with rd=x0", ".2byte 0x4002"},
	{0x6002, "c.ldsp with rd=x0", ".2byte 0x6002"},
	{0x8002, "c.jr with rs1=x0", ".2byte 0x8002"},
	{0x8000, "quadrant 0, funct3 100 (reserved; Zcb)", ".2byte 0x8000"},
	{0x9c41, "c.subw/c.addw space, funct2 10 (reserved; Zcb c.mul)", ".2byte 0x9c41"},
	{0x9c61, "c.subw/c.addw space, funct2 11 (reserved; Zcb)", ".2byte 0x9c61"},
	{0x00007003, "RV128 ldu (LOAD funct3 7)", ".4byte 0x7003"},
	{0x00004023, "RV128 sq (STORE funct3 4)", ".4byte 0x4023"},
	{0x0000200f, "RV128 lq (MISC-MEM funct3 2)", ".4byte 0x200f"},
	{0x04009093, "slli with funct6 != 0", ".4byte 0x4009093"},
	{0x0200109b, "slliw with shamt[5] set (RV64: reserved)", ".4byte 0x200109b"},
	{0x0200509b, "srliw with shamt[5] set", ".4byte 0x200509b"},
	{0x0000107b, "custom-3 opcode", ".4byte 0x107b"},
	{0x1032a0af, "lr.w with rs2 != 0", ".4byte 0x1032a0af"},
	{0x2832b02f, "amocas.d (Zacas)", ".4byte 0x2832b02f"},
	{0x0000c0af, "AMO funct3 4 (amo*.q)", ".4byte 0xc0af"},
	{0x00029067, "jalr with funct3 != 0", ".4byte 0x29067"},
	{0x0000a063, "branch funct3 2", ".4byte 0xa063"},
	{0x00008073, "ecall with rs1 != 0", ".4byte 0x8073"},
	{0x000000f3, "ecall with rd != 0", ".4byte 0xf3"},
	{0x001fc1f3, "SYSTEM funct3 4", ".4byte 0x1fc1f3"},
	{0x02a5d0d3, "fadd.d with rm 5", "fadd.d f1,f11,f10,unknown"},
	{0x02a5e0d3, "fadd.d with rm 6", "fadd.d f1,f11,f10,unknown"},
	{0xd20550d3, "fcvt.d.w with rm 5", ".4byte 0xd20550d3"},
	{0x04a5f0d3, "fadd.h (Zfh)", ".4byte 0x4a5f0d3"},
	{0x06a5f0d3, "fadd.q (Q)", ".4byte 0x6a5f0d3"},
	{0x0000c087, "flq (Q)", ".4byte 0xc087"},
	{0x0000100b, "custom-0 opcode", ".4byte 0x100b"},
	{0x5a1170d3, "fsqrt.d with rs2 != 0", ".4byte 0x5a1170d3"},
	{0xe20120d3, "fmv.x.d funct3 2", ".4byte 0xe20120d3"},
	{0xf20110d3, "fmv.d.x with rm != 0", ".4byte 0xf20110d3"},
	{0x24a5b0d3, "fsgnj.d funct3 3", ".4byte 0x24a5b0d3"},
	{0xc4a5f0d3, "fcvt.w.d with rs2 4", ".4byte 0xc4a5f0d3"},
	{0x404570d3, "fcvt.s.s (rs2 0 with fmt S)", ".4byte 0x404570d3"},
	{0x10200073, "sret (privileged)", "sret"},
	{0x30200073, "mret (privileged)", "mret"},
	{0x10500073, "wfi (privileged)", "wfi"},
	{0x12000073, "sfence.vma (privileged)", "sfence.vma x0,x0"},
	{0x0400003b, "OP-32 funct7 2", ".4byte 0x400003b"},
	{0x4200003b, "OP-32 funct7 0x21", ".4byte 0x4200003b"},
	{0x400010b3, "sll with funct7 0x20", ".4byte 0x400010b3"},
	{0x080000b3, "OP funct7 4 (Zbb/Zbkb)", ".4byte 0x80000b3"},
}

func TestDecodeIllegal(t *testing.T) {
	for _, tc := range illegalCases {
		t.Run(tc.why, func(t *testing.T) {
			got := Decode(tc.word)
			want := Inst{Op: OpIllegal, Imm: int64(tc.word), Len: 4}
			if tc.word&3 != 3 {
				want = Inst{Op: OpIllegal, Imm: int64(tc.word & 0xffff), Len: 2}
			}
			require.Equal(t, want, got)
			if !strings.Contains(tc.text, "unknown") && !privilegedMnemonics[strings.Fields(tc.text)[0]] {
				require.Equal(t, tc.text, got.StringAt(0x10000), "objdump's text")
			}
		})
	}
}

// TestDecodeHints checks the HINT encodings: valid instructions that
// execute as no-ops (or, for FENCE, as ordinary fences).
func TestDecodeHints(t *testing.T) {
	for _, w := range []uint32{0x0005, 0x4005, 0x6005, 0x800a, 0x0082, 0x8001, 0x8401, 0x0002, 0x900a, 0x0100000f, 0x00000013 | 5<<20} {
		in := Decode(w)
		require.NotEqual(t, OpIllegal, in.Op, "%#x", w)
		ops := in.Op.Operands()
		if ops.Rd != RegNone && in.Op != OpFENCE {
			noop := in.Rd == 0 || in.Imm == 0 && (in.Op == OpSLLI || in.Op == OpSRLI || in.Op == OpSRAI)
			require.True(t, noop, "%#x (%v) writes x%d", w, in, in.Rd)
		}
	}
	// FENCE ignores fm (other than TSO), rs1 and rd, as base
	// implementations must.
	require.Equal(t, Inst{Op: OpFENCE, Imm: 0x8ff, Len: 4}, Decode(0x8ff0000f))
	require.Equal(t, Inst{Op: OpFENCE, Imm: 0x0ff, Len: 4}, Decode(0x0ff1800f|5<<7))
	require.Equal(t, Inst{Op: OpFENCE_I, Len: 4}, Decode(0x0010100f|3<<15|1<<7))
}

func TestInstStringAt(t *testing.T) {
	for _, tc := range []struct {
		word uint32
		pc   uint64
		text string
	}{
		{0x03278063, 0x10444, "beq x15,x18,0x10464"},
		{0x77b0e0ef, 0x1045c, "jal x1,0x1f3d6"},
		{0xe781, 0x1044e, "c.bnez x15,0x10456"},
		{0xb001, 0x10000, "c.j 0xf800"},
		{0xffdff06f, 0, "jal x0,0xfffffffffffffffc"},
		{0xd001, 0x3e, "c.beqz x8,0xffffffffffffff3e"},
		{0xffb58513, 0x1234, "addi x10,x11,-5"},
	} {
		require.Equal(t, tc.text, Decode(tc.word).StringAt(tc.pc), "%#x", tc.word)
	}
}

func TestOpTables(t *testing.T) {
	names := map[string]Op{}
	for op := Op(0); op < NumOps; op++ {
		name := op.String()
		require.NotEmpty(t, name, "op %d", op)
		require.Equal(t, strings.ToLower(name), name)
		prev, dup := names[name]
		require.False(t, dup, "%v and %d share a name", prev, op)
		names[name] = op
	}
	require.Equal(t, "fmadd.d", OpFMADD_D.String())
	require.Equal(t, "amoadd.w", OpAMOADD_W.String())
	require.Equal(t, "lr.d", OpLR_D.String())
	require.Equal(t, "fence.i", OpFENCE_I.String())
	require.Equal(t, "illegal", OpIllegal.String())
	require.Equal(t, "op(999)", Op(999).String())
	require.Equal(t, "c.addi16sp", CAddi16sp.String())
	require.Equal(t, Operands{}, Op(999).Operands())
	require.False(t, Op(999).HasRM())

	// Operand classes of the float ops, spot-checked against the manual.
	require.Equal(t, Operands{Rd: RegF, Rs1: RegX}, OpFLD.Operands())
	require.Equal(t, Operands{Rs1: RegX, Rs2: RegF}, OpFSW.Operands())
	require.Equal(t, Operands{Rd: RegF, Rs1: RegF, Rs2: RegF, Rs3: RegF}, OpFNMADD_S.Operands())
	require.Equal(t, Operands{Rd: RegX, Rs1: RegF, Rs2: RegF}, OpFLT_D.Operands())
	require.Equal(t, Operands{Rd: RegX, Rs1: RegF}, OpFCVT_LU_D.Operands())
	require.Equal(t, Operands{Rd: RegF, Rs1: RegX}, OpFCVT_S_WU.Operands())
	require.Equal(t, Operands{Rd: RegF, Rs1: RegF}, OpFCVT_D_S.Operands())
	require.Equal(t, Operands{Rd: RegX, Rs1: RegF}, OpFMV_X_D.Operands())
	require.Equal(t, Operands{Rd: RegF, Rs1: RegX}, OpFMV_W_X.Operands())
	require.Equal(t, Operands{Rd: RegX, Rs1: RegF}, OpFCLASS_S.Operands())
	require.Equal(t, Operands{Rd: RegX}, OpCSRRSI.Operands())
	require.Equal(t, Operands{Rs1: RegX, Rs2: RegX}, OpSD.Operands())
	require.Equal(t, Operands{Rd: RegX, Rs1: RegX, Rs2: RegX}, OpSC_D.Operands())

	// Every op whose table entry has a rounding mode, and no other.
	for op := Op(0); op < NumOps; op++ {
		name := op.String()
		wantRM := strings.HasPrefix(name, "fcvt.") || strings.HasPrefix(name, "fsqrt.") ||
			strings.Contains(name, "add.") && strings.HasPrefix(name, "f") ||
			strings.HasPrefix(name, "fsub.") || strings.HasPrefix(name, "fmul.") ||
			strings.HasPrefix(name, "fdiv.") || strings.HasPrefix(name, "fmsub.") ||
			strings.HasPrefix(name, "fnmsub.")
		require.Equal(t, wantRM, op.HasRM(), "%v", op)
	}

	// Every register an instruction reads or writes is named by a field
	// whose class is not RegNone: decoded fields outside the classes are
	// zero.
	for _, tc := range decodeCases {
		o := tc.want.Op.Operands()
		if o.Rd == RegNone {
			require.Zero(t, tc.want.Rd, "%v", tc.want)
		}
		if o.Rs2 == RegNone {
			require.Zero(t, tc.want.Rs2, "%v", tc.want)
		}
		if o.Rs3 == RegNone {
			require.Zero(t, tc.want.Rs3, "%v", tc.want)
		}
	}
}

func TestInstSize(t *testing.T) {
	require.Equal(t, uintptr(24), unsafe.Sizeof(Inst{}))
}

func TestDecodeNoAlloc(t *testing.T) {
	words := []uint32{0x00000013, 0x7131, 0x1602b0af, 0x203100c3, 0xffffffff, 0}
	allocs := testing.AllocsPerRun(100, func() {
		for _, w := range words {
			decodeSink = Decode(w)
		}
	})
	require.Zero(t, allocs)
}

var decodeSink Inst

// BenchmarkDecode decodes the instruction stream of a workload's .text in
// order, as a translator's decode loop does.
func BenchmarkDecode(b *testing.B) {
	var words []uint32
	for _, sec := range workloadExecSections(b, "printf") {
		for off := 0; off < len(sec.data); {
			w := fetchWord(sec.data, off)
			words = append(words, w)
			off += int(Decode(w).Len)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	n := 0
	for b.Loop() {
		for _, w := range words {
			decodeSink = Decode(w)
		}
		n += len(words)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/inst")
}

// The differential tests compare Inst.StringAt with GNU objdump 2.40
// (riscv64-linux-gnu-objdump -d -M no-aliases,numeric). They run objdump
// when it is installed; the golden files in testdata, generated by
// TestRegenerateObjdumpGolden, keep the workload check running without it.
//
// Data in .text: objdump prints what it cannot decode as ".2byte", ".4byte"
// or ".byte" (the last for 48-bit and longer formats, of which it consumes
// 6 or 8 bytes). The workload walk skips such lines (there are none in the
// committed workloads) and, should objdump then have consumed a different
// length, resynchronises on objdump's next address. The canonical illegal
// encodings objdump names, c.unimp (0x0000) and unimp (0xc0001073), are
// compared like instructions: Decode gives OpIllegal and prints them so.
// Every other line objdump decodes must decode to the identical text; the
// only exceptions, found by the encoding sweeps below, are listed in
// objdumpDivergence.

const (
	objdumpName      = "riscv64-linux-gnu-objdump"
	goldenPathFormat = "testdata/objdump-%s.txt.gz"
)

// workloadNames are the committed RV64 workload binaries (in workloadsDir).
var workloadNames = []string{"sieve", "crc32", "matmul", "qsort", "malloc", "printf", "recursion", "interp", "jit", "faults", "fpops", "intops", "ubench", "smc", "mixpages"}

// odLine is one instruction line of objdump output.
type odLine struct {
	addr uint64
	hex  string // objdump's hex column, e.g. "7131" or "00067717"
	text string // "addi x8,x3,472": one space after the mnemonic, no comment
}

// isData reports whether objdump could not decode the line.
func (l odLine) isData() bool {
	return strings.HasPrefix(l.text, ".byte") || strings.HasPrefix(l.text, ".2byte") ||
		strings.HasPrefix(l.text, ".4byte") || strings.HasPrefix(l.text, ".insn")
}

// findObjdump returns objdump's path, or skips the test when it is absent.
func findObjdump(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath(objdumpName)
	if err != nil {
		t.Skipf("%s not installed", objdumpName)
	}
	return path
}

// runObjdump disassembles the named sections of an ELF file.
func runObjdump(t testing.TB, objdump, file string, sections ...string) []odLine {
	t.Helper()
	args := []string{"-d", "-M", "no-aliases,numeric"}
	for _, s := range sections {
		args = append(args, "-j", s)
	}
	out, err := exec.Command(objdump, append(args, file)...).Output()
	require.NoError(t, err, "objdump %s", file)
	lines, err := parseObjdump(strings.NewReader(string(out)))
	require.NoError(t, err)
	return lines
}

// parseObjdump reads objdump -d output, keeping only instruction lines
// ("   10420:\t7131                \tc.addi16sp\tx2,-192").
func parseObjdump(r io.Reader) ([]odLine, error) {
	var lines []odLine
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.SplitN(sc.Text(), "\t", 3)
		if len(f) < 3 || !strings.HasSuffix(f[0], ":") {
			continue
		}
		addr, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(f[0], ":")), 16, 64)
		if err != nil {
			continue
		}
		text := f[2]
		if k := strings.Index(text, " #"); k >= 0 {
			text = text[:k]
		}
		text = strings.TrimSpace(strings.Replace(text, "\t", " ", 1))
		lines = append(lines, odLine{addr: addr, hex: strings.TrimSpace(f[1]), text: text})
	}
	return lines, sc.Err()
}

// execSection is one executable section of an ELF file.
type execSection struct {
	name string
	addr uint64
	data []byte
}

// workloadExecSections returns a workload's executable sections.
func workloadExecSections(t testing.TB, name string) []execSection {
	t.Helper()
	f, err := elf.Open(filepath.Join(workloadsDir, name))
	require.NoError(t, err)
	defer f.Close()
	var secs []execSection
	for _, s := range f.Sections {
		if s.Type != elf.SHT_PROGBITS || s.Flags&elf.SHF_EXECINSTR == 0 {
			continue
		}
		data, err := s.Data()
		require.NoError(t, err)
		secs = append(secs, execSection{name: s.Name, addr: s.Addr, data: data})
	}
	require.NotEmpty(t, secs, "%s has no executable section", name)
	return secs
}

// fetch returns the 32 bits at offset off of a section (zero-padded at the
// end, where only a compressed instruction can start).
func fetchWord(data []byte, off int) uint32 {
	var b [4]byte
	copy(b[:], data[off:])
	return binary.LittleEndian.Uint32(b[:])
}

// decodeStats summarises a differential run.
type decodeStats struct {
	compared, data, resyncs int
	ops                     map[Op]int
}

// compareWalk decodes a section in order, advancing by Len, and compares
// every instruction with the objdump line at the same address. lines must
// be sorted by address and lie in the section. When objdump consumed a
// different number of bytes (only after data it could not decode) the walk
// resynchronises on objdump's next address.
func compareWalk(t *testing.T, sec execSection, lines []odLine, st *decodeStats) {
	t.Helper()
	pc := sec.addr
	end := sec.addr + uint64(len(sec.data))
	var prev odLine
	for _, l := range lines {
		require.True(t, l.addr >= sec.addr && l.addr < end, "%s: objdump address %#x outside the section", sec.name, l.addr)
		for pc < l.addr {
			pc += uint64(Decode(fetchWord(sec.data, int(pc-sec.addr))).Len)
		}
		if pc != l.addr {
			require.True(t, prev.isData(), "%s: decoding in order reached %#x but objdump has %#x after %q", sec.name, pc, l.addr, prev.text)
			st.resyncs++
			pc = l.addr
		}
		prev = l
		if l.isData() {
			st.data++
			continue
		}
		word := fetchWord(sec.data, int(pc-sec.addr))
		in := Decode(word)
		require.Equal(t, l.text, in.StringAt(pc), "%s at %#x: %s", sec.name, pc, l.hex)
		require.Equal(t, int(in.Len), len(l.hex)/2, "%s at %#x: length of %s", sec.name, pc, l.hex)
		if in.Op != OpIllegal {
			st.ops[in.Op]++
		}
		st.compared++
	}
}

// TestDecodeWorkloadsObjdump runs objdump on every workload and compares
// every instruction of every executable section.
func TestDecodeWorkloadsObjdump(t *testing.T) {
	objdump := findObjdump(t)
	total := decodeStats{ops: map[Op]int{}}
	for _, name := range workloadNames {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(workloadsDir, name)
			st := decodeStats{ops: total.ops}
			for _, sec := range workloadExecSections(t, name) {
				lines := runObjdump(t, objdump, file, sec.name)
				require.NotEmpty(t, lines)
				compareWalk(t, sec, lines, &st)
			}
			require.Greater(t, st.compared, 50000)
			total.compared += st.compared
			total.data += st.data
			total.resyncs += st.resyncs
		})
	}
	t.Logf("objdump: %d instructions compared, %d distinct ops, %d data lines skipped, %d resyncs",
		total.compared, len(total.ops), total.data, total.resyncs)
}

// readGolden reads a golden file: one "addr\thex\ttext" line per
// instruction.
func readGolden(t testing.TB, path string) []odLine {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	var lines []odLine
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		p := strings.SplitN(sc.Text(), "\t", 3)
		require.Len(t, p, 3, "golden line %q", sc.Text())
		addr, err := strconv.ParseUint(p[0], 16, 64)
		require.NoError(t, err)
		lines = append(lines, odLine{addr: addr, hex: p[1], text: p[2]})
	}
	require.NoError(t, sc.Err())
	return lines
}

// TestDecodeWorkloadsGolden compares against the committed objdump output,
// so that the differential check runs where objdump is not installed. Each
// golden file holds the first occurrence of every instruction word of one
// workload that no earlier workload's file holds; together they cover every
// distinct word of all the workloads. The walk still decodes each
// section in order and must land on every golden address.
func TestDecodeWorkloadsGolden(t *testing.T) {
	total := decodeStats{ops: map[Op]int{}}
	goldenLines := 0
	for _, name := range workloadNames {
		lines := readGolden(t, fmt.Sprintf(goldenPathFormat, name))
		goldenLines += len(lines)
		inSections := 0
		for _, sec := range workloadExecSections(t, name) {
			var in []odLine
			for _, l := range lines {
				if l.addr >= sec.addr && l.addr < sec.addr+uint64(len(sec.data)) {
					in = append(in, l)
				}
			}
			inSections += len(in)
			compareWalk(t, sec, in, &total)
		}
		require.Equal(t, len(lines), inSections, "%s: golden lines outside the executable sections", name)
	}
	t.Logf("golden: %d instruction words compared, %d distinct ops", total.compared, len(total.ops))
	require.Equal(t, goldenLines, total.compared+total.data)
	require.Greater(t, total.compared, 60000)
	require.GreaterOrEqual(t, len(total.ops), 94)
}

// TestRegenerateObjdumpGolden rewrites the golden files from objdump. It
// runs only when asked: DBT_REGEN_GOLDEN=1 go test -run RegenerateObjdump.
func TestRegenerateObjdumpGolden(t *testing.T) {
	if os.Getenv("DBT_REGEN_GOLDEN") == "" {
		t.Skip("set DBT_REGEN_GOLDEN=1 to regenerate testdata/objdump-*.txt.gz")
	}
	objdump := findObjdump(t)
	seen := map[string]bool{}
	for _, name := range workloadNames {
		file := filepath.Join(workloadsDir, name)
		var sb strings.Builder
		for _, sec := range workloadExecSections(t, name) {
			for _, l := range runObjdump(t, objdump, file, sec.name) {
				if seen[l.hex] {
					continue
				}
				seen[l.hex] = true
				fmt.Fprintf(&sb, "%x\t%s\t%s\n", l.addr, l.hex, l.text)
			}
		}
		f, err := os.Create(fmt.Sprintf(goldenPathFormat, name))
		require.NoError(t, err)
		zw, err := gzip.NewWriterLevel(f, gzip.BestCompression)
		require.NoError(t, err)
		_, err = io.WriteString(zw, sb.String())
		require.NoError(t, err)
		require.NoError(t, zw.Close())
		require.NoError(t, f.Close())
	}
}

// objdumpEncodings disassembles arbitrary encodings with objdump: it writes
// them, in order, over the .text section of a copy of a workload (so that
// objdump sees the workloads' ELF attributes: rv64gc, privileged spec 1.11)
// and returns one line per encoding, in order. Each encoding is a 16-bit
// (compressed) or 32-bit word; none may be of a longer format.
func objdumpEncodings(t *testing.T, objdump string, encs []uint32) []odLine {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(workloadsDir, "sieve"))
	require.NoError(t, err)
	f, err := elf.Open(filepath.Join(workloadsDir, "sieve"))
	require.NoError(t, err)
	text := f.Section(".text")
	require.NotNil(t, text)
	f.Close()

	dir := t.TempDir()
	var out []odLine
	for chunk := 0; len(encs) > 0; chunk++ {
		buf := make([]byte, 0, text.Size)
		n := 0
		for n < len(encs) && uint64(len(buf))+4 <= text.Size {
			w := encs[n]
			if w&3 != 3 {
				buf = binary.LittleEndian.AppendUint16(buf, uint16(w))
			} else {
				buf = binary.LittleEndian.AppendUint32(buf, w)
			}
			n++
		}
		img := append([]byte(nil), raw...)
		copy(img[text.Offset:], buf)
		// Pad the rest with c.nop so that objdump stays in step.
		for off := text.Offset + uint64(len(buf)); off+2 <= text.Offset+text.Size; off += 2 {
			binary.LittleEndian.PutUint16(img[off:], 0x0001)
		}
		file := filepath.Join(dir, fmt.Sprintf("chunk%d", chunk))
		require.NoError(t, os.WriteFile(file, img, 0o644))
		lines := runObjdump(t, objdump, file, ".text")
		pc := text.Addr
		for k := 0; k < n; k++ {
			require.Less(t, k, len(lines))
			l := lines[k]
			require.Equal(t, pc, l.addr, "objdump out of step at encoding %#x", encs[k])
			out = append(out, l)
			if encs[k]&3 != 3 {
				pc += 2
			} else {
				pc += 4
			}
		}
		encs = encs[n:]
	}
	return out
}

// objdumpDivergence explains why Decode's text may differ from objdump's for
// an encoding, or returns "" when it must not. These are the places where
// Decode follows the RISC-V specification and binutils 2.40 does not, or
// where Decode is deliberately stricter for a user-mode translator.
func objdumpDivergence(enc uint32, in Inst, od odLine) string {
	odData := od.isData()
	mn, _, _ := strings.Cut(od.text, " ")
	switch {
	case in.Op == OpIllegal && strings.HasSuffix(od.text, ",unknown") && !strings.HasPrefix(od.text, "fence"):
		return "reserved static rounding mode (5 or 6): illegal"
	case in.Op == OpIllegal && !odData && privilegedMnemonics[mn]:
		return "privileged instruction: illegal in user mode"
	case in.Op == OpIllegal && mn == "c.addi16sp" && strings.HasSuffix(od.text, ",0"):
		return "c.addi16sp with nzimm=0 is reserved"
	case odData && in.Op == OpFENCE:
		return "FENCE ignores fm, rs1 and rd (spec: treat as a normal fence)"
	case odData && in.Op == OpFENCE_I:
		return "FENCE.I ignores imm, rs1 and rd (spec: reserved for finer-grain fences, ignored)"
	case odData && (in.Op == OpFCVT_D_W || in.Op == OpFCVT_D_WU || in.Op == OpFCVT_D_S) && in.RM != RMRNE:
		return "exact conversion with a rounding mode other than rne"
	}
	return ""
}

// privilegedMnemonics are the SYSTEM instructions objdump decodes that a
// user-mode program cannot execute.
var privilegedMnemonics = map[string]bool{
	"sret": true, "mret": true, "uret": true, "dret": true, "wfi": true,
	"sfence.vma": true, "hfence.vvma": true, "hfence.gvma": true,
	"sfence.vm": true, "sinval.vma": true, "sfence.w.inval": true,
	"sfence.inval.ir": true, "hinval.vvma": true, "hinval.gvma": true,
}

// checkAgainstObjdump compares Decode with objdump over encs and returns how
// many differed for each documented reason.
func checkAgainstObjdump(t *testing.T, encs []uint32) map[string]int {
	objdump := findObjdump(t)
	lines := objdumpEncodings(t, objdump, encs)
	reasons := map[string]int{}
	bad := 0
	for k, enc := range encs {
		in := Decode(enc)
		got := in.StringAt(lines[k].addr)
		if got == lines[k].text && (in.Op != OpIllegal || lines[k].isData() || lines[k].text == "c.unimp" || lines[k].text == "unimp") {
			continue
		}
		if lines[k].isData() && in.Op == OpIllegal {
			continue // both reject it; objdump's spelling of data is not ours to match
		}
		if why := objdumpDivergence(enc, in, lines[k]); why != "" {
			reasons[why]++
			continue
		}
		bad++
		if bad <= 40 {
			t.Errorf("%#x: objdump %q, Decode %q (%v)", enc, lines[k].text, got, in.Op)
		}
	}
	require.Zero(t, bad, "encodings where Decode and objdump differ")
	return reasons
}

// TestDecodeCompressedExhaustiveObjdump compares every 16-bit encoding.
func TestDecodeCompressedExhaustiveObjdump(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	findObjdump(t)
	var encs []uint32
	for h := 0; h < 1<<16; h++ {
		if h&3 != 3 {
			encs = append(encs, uint32(h))
		}
	}
	for why, n := range checkAgainstObjdump(t, encs) {
		t.Logf("%6d  %s", n, why)
	}
}

// TestDecode32SweepObjdump compares, for every major opcode, funct3, funct7
// and rs2 field, one 32-bit encoding with random rd, rs1 and random other
// bits, plus random words.
func TestDecode32SweepObjdump(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	findObjdump(t)
	rng := rand.New(rand.NewPCG(1, 2))
	var encs []uint32
	for opc := uint32(0); opc < 32; opc++ {
		if opc&7 == 7 {
			continue // 48-bit and longer formats: objdump consumes more than 4 bytes
		}
		for fn3 := uint32(0); fn3 < 8; fn3++ {
			for top := uint32(0); top < 1<<12; top++ { // funct7 and rs2
				w := top<<20 | rng.Uint32()&0x000f8f80 | fn3<<12 | opc<<2 | 3
				encs = append(encs, w)
			}
		}
	}
	for k := 0; k < 200000; k++ {
		w := rng.Uint32() | 3
		if (w>>2)&7 != 7 {
			encs = append(encs, w)
		}
	}
	for why, n := range checkAgainstObjdump(t, encs) {
		t.Logf("%6d  %s", n, why)
	}
}

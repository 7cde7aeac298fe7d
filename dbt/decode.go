package dbt

// Decode decodes the instruction at the start of word, which holds the
// 32 bits at the instruction's address in little-endian order (the upper
// half is ignored for a compressed instruction). If the low two bits are
// not 0b11 the low 16 bits are decoded as a compressed instruction (Len 2);
// otherwise the whole word is (Len 4). Every encoding that is not a valid
// RV64GC user-mode instruction — reserved, RV32- or RV128-only, of another
// extension, or of a longer (48-bit and up) format — decodes to OpIllegal
// with the raw bits in Imm. Decode never panics and never allocates.
//
// Choices where the specification leaves room:
//   - HINT encodings (c.nop with an immediate, c.li/c.lui/c.mv/c.add/
//     c.slli with rd=x0, shifts by zero, FENCE with an empty predecessor or
//     successor set, ...) decode as their ordinary instruction, so they
//     execute as the no-ops they are.
//   - FENCE ignores its fm, rs1 and rd fields, and FENCE.I its imm, rs1
//     and rd fields, as the specification asks of base implementations.
//   - A static rounding mode of 5 or 6 is reserved: OpIllegal.
//   - csrrw x0,cycle,x0 (0xc0001073) is the canonical UNIMP: OpIllegal.
//   - The privileged SYSTEM instructions (sret, mret, wfi, sfence.vma, ...)
//     cannot run in user mode: OpIllegal.
func Decode(word uint32) (in Inst) {
	// One function that writes straight into its result: returning the
	// 24-byte Inst (too many fields to travel in registers) through a chain
	// of calls cost a store-forwarding stall per level, twice the time
	// (BenchmarkDecode).
	if word&3 != 3 {
		h := uint16(word)
		r := uint8(h>>7) & 31 // rd/rs1 of the CR/CI formats
		r2 := uint8(h>>2) & 31
		switch (h&3)<<3 | (h>>13)&7 {
		// Quadrant 0.
		case 0x00:
			// nzuimm[5:4|9:6|2|3] = bits 12:11|10:7|6|5
			imm := int64((h>>7)&0x30 | (h>>1)&0x3c0 | (h>>4)&4 | (h>>2)&8)
			if imm == 0 {
				return illegal16(h) // includes the all-zero halfword
			}
			return Inst{Op: OpADDI, Rd: cr3(h, 2), Rs1: 2, Imm: imm, Len: 2, C: CAddi4spn}
		case 0x01:
			return Inst{Op: OpFLD, Rd: cr3(h, 2), Rs1: cr3(h, 7), Imm: cLdOff(h), Len: 2, C: CFld}
		case 0x02:
			return Inst{Op: OpLW, Rd: cr3(h, 2), Rs1: cr3(h, 7), Imm: cLwOff(h), Len: 2, C: CLw}
		case 0x03:
			return Inst{Op: OpLD, Rd: cr3(h, 2), Rs1: cr3(h, 7), Imm: cLdOff(h), Len: 2, C: CLd}
		case 0x05:
			return Inst{Op: OpFSD, Rs1: cr3(h, 7), Rs2: cr3(h, 2), Imm: cLdOff(h), Len: 2, C: CFsd}
		case 0x06:
			return Inst{Op: OpSW, Rs1: cr3(h, 7), Rs2: cr3(h, 2), Imm: cLwOff(h), Len: 2, C: CSw}
		case 0x07:
			return Inst{Op: OpSD, Rs1: cr3(h, 7), Rs2: cr3(h, 2), Imm: cLdOff(h), Len: 2, C: CSd}

		// Quadrant 1.
		case 0x08:
			return Inst{Op: OpADDI, Rd: r, Rs1: r, Imm: cImm6(h), Len: 2, C: CAddi}
		case 0x09:
			if r == 0 {
				return illegal16(h)
			}
			return Inst{Op: OpADDIW, Rd: r, Rs1: r, Imm: cImm6(h), Len: 2, C: CAddiw}
		case 0x0a:
			return Inst{Op: OpADDI, Rd: r, Imm: cImm6(h), Len: 2, C: CLi}
		case 0x0b:
			if r == 2 {
				// nzimm[9]=12, [4]=6, [6]=5, [8:7]=4:3, [5]=2
				x := uint32(h)
				v := (x>>3)&0x200 | (x>>2)&0x10 | (x<<1)&0x40 | (x<<4)&0x180 | (x<<3)&0x20
				if v == 0 {
					return illegal16(h)
				}
				return Inst{Op: OpADDI, Rd: 2, Rs1: 2, Imm: int64(int32(v<<22) >> 22), Len: 2, C: CAddi16sp}
			}
			imm := cImm6(h) << 12
			if imm == 0 {
				return illegal16(h)
			}
			return Inst{Op: OpLUI, Rd: r, Imm: imm, Len: 2, C: CLui}
		case 0x0c:
			rdp := cr3(h, 7)
			switch (h >> 10) & 3 {
			case 0:
				return Inst{Op: OpSRLI, Rd: rdp, Rs1: rdp, Imm: cUimm6(h), Len: 2, C: CSrli}
			case 1:
				return Inst{Op: OpSRAI, Rd: rdp, Rs1: rdp, Imm: cUimm6(h), Len: 2, C: CSrai}
			case 2:
				return Inst{Op: OpANDI, Rd: rdp, Rs1: rdp, Imm: cImm6(h), Len: 2, C: CAndi}
			}
			in := Inst{Rd: rdp, Rs1: rdp, Rs2: cr3(h, 2), Len: 2}
			switch (h>>10)&4 | (h>>5)&3 {
			case 0:
				in.Op, in.C = OpSUB, CSub
			case 1:
				in.Op, in.C = OpXOR, CXor
			case 2:
				in.Op, in.C = OpOR, COr
			case 3:
				in.Op, in.C = OpAND, CAnd
			case 4:
				in.Op, in.C = OpSUBW, CSubw
			case 5:
				in.Op, in.C = OpADDW, CAddw
			default:
				return illegal16(h)
			}
			return in
		case 0x0d:
			return Inst{Op: OpJAL, Imm: cJOff(h), Len: 2, C: CJ}
		case 0x0e:
			return Inst{Op: OpBEQ, Rs1: cr3(h, 7), Imm: cBOff(h), Len: 2, C: CBeqz}
		case 0x0f:
			return Inst{Op: OpBNE, Rs1: cr3(h, 7), Imm: cBOff(h), Len: 2, C: CBnez}

		// Quadrant 2.
		case 0x10:
			return Inst{Op: OpSLLI, Rd: r, Rs1: r, Imm: cUimm6(h), Len: 2, C: CSlli}
		case 0x11:
			return Inst{Op: OpFLD, Rd: r, Rs1: 2, Imm: cLdspOff(h), Len: 2, C: CFldsp}
		case 0x12:
			if r == 0 {
				return illegal16(h)
			}
			return Inst{Op: OpLW, Rd: r, Rs1: 2, Imm: cLwspOff(h), Len: 2, C: CLwsp}
		case 0x13:
			if r == 0 {
				return illegal16(h)
			}
			return Inst{Op: OpLD, Rd: r, Rs1: 2, Imm: cLdspOff(h), Len: 2, C: CLdsp}
		case 0x14:
			if h&0x1000 == 0 {
				if r2 == 0 {
					if r == 0 {
						return illegal16(h)
					}
					return Inst{Op: OpJALR, Rs1: r, Len: 2, C: CJr}
				}
				return Inst{Op: OpADD, Rd: r, Rs2: r2, Len: 2, C: CMv}
			}
			if r2 == 0 {
				if r == 0 {
					return Inst{Op: OpEBREAK, Len: 2, C: CEbreak}
				}
				return Inst{Op: OpJALR, Rd: 1, Rs1: r, Len: 2, C: CJalr}
			}
			return Inst{Op: OpADD, Rd: r, Rs1: r, Rs2: r2, Len: 2, C: CAdd}
		case 0x15:
			return Inst{Op: OpFSD, Rs1: 2, Rs2: r2, Imm: cSdspOff(h), Len: 2, C: CFsdsp}
		case 0x16:
			return Inst{Op: OpSW, Rs1: 2, Rs2: r2, Imm: cSwspOff(h), Len: 2, C: CSwsp}
		case 0x17:
			return Inst{Op: OpSD, Rs1: 2, Rs2: r2, Imm: cSdspOff(h), Len: 2, C: CSdsp}
		}
		return illegal16(h) // quadrant 0 funct3 100 (reserved)
	}
	w := word
	in.Rd, in.Rs1, in.Len = encRd(w), encRs1(w), 4
	switch (w >> 2) & 0x1f {
	case opcLoad:
		in.Op = loadOps[encF3(w)]
		in.Imm = immI(w)
	case opcLoadFP:
		switch encF3(w) {
		case 2:
			in.Op = OpFLW
		case 3:
			in.Op = OpFLD
		default:
			return illegal32(w)
		}
		in.Imm = immI(w)
	case opcMiscMem:
		switch encF3(w) {
		case 0:
			return Inst{Op: OpFENCE, Imm: int64(w >> 20), Len: 4}
		case 1:
			return Inst{Op: OpFENCE_I, Len: 4}
		default:
			return illegal32(w)
		}
	case opcOpImm:
		in.Imm = immI(w)
		switch encF3(w) {
		case 0:
			in.Op = OpADDI
		case 1:
			if w>>26 != 0 {
				return illegal32(w)
			}
			in.Op = OpSLLI
			in.Imm &= 63
		case 2:
			in.Op = OpSLTI
		case 3:
			in.Op = OpSLTIU
		case 4:
			in.Op = OpXORI
		case 5:
			switch w >> 26 {
			case 0x00:
				in.Op = OpSRLI
			case 0x10:
				in.Op = OpSRAI
			default:
				return illegal32(w)
			}
			in.Imm &= 63
		case 6:
			in.Op = OpORI
		case 7:
			in.Op = OpANDI
		}
	case opcAUIPC:
		return Inst{Op: OpAUIPC, Rd: encRd(w), Imm: immU(w), Len: 4}
	case opcLUI:
		return Inst{Op: OpLUI, Rd: encRd(w), Imm: immU(w), Len: 4}
	case opcOpImm32:
		switch encF3(w) {
		case 0:
			in.Op = OpADDIW
			in.Imm = immI(w)
		case 1:
			if encF7(w) != 0 {
				return illegal32(w)
			}
			in.Op = OpSLLIW
			in.Imm = int64(encRs2(w))
		case 5:
			switch encF7(w) {
			case 0x00:
				in.Op = OpSRLIW
			case 0x20:
				in.Op = OpSRAIW
			default:
				return illegal32(w)
			}
			in.Imm = int64(encRs2(w))
		default:
			return illegal32(w)
		}
	case opcStore:
		in.Op = storeOps[encF3(w)]
		in.Rd = 0
		in.Rs2 = encRs2(w)
		in.Imm = immS(w)
	case opcStoreFP:
		switch encF3(w) {
		case 2:
			in.Op = OpFSW
		case 3:
			in.Op = OpFSD
		default:
			return illegal32(w)
		}
		in.Rd = 0
		in.Rs2 = encRs2(w)
		in.Imm = immS(w)
	case opcAMO:
		op := amoOps[w>>27]
		if op == OpIllegal {
			return illegal32(w)
		}
		switch encF3(w) {
		case 2:
		case 3:
			op += amoDOffset
		default:
			return illegal32(w)
		}
		if op == OpLR_W || op == OpLR_D {
			if encRs2(w) != 0 {
				return illegal32(w)
			}
		} else {
			in.Rs2 = encRs2(w)
		}
		in.Op = op
		in.Aq = w&(1<<26) != 0
		in.Rl = w&(1<<25) != 0
	case opcOp:
		in.Rs2 = encRs2(w)
		switch encF7(w) {
		case 0x00:
			in.Op = opOps[encF3(w)]
		case 0x01:
			in.Op = mulOps[encF3(w)]
		case 0x20:
			switch encF3(w) {
			case 0:
				in.Op = OpSUB
			case 5:
				in.Op = OpSRA
			default:
				return illegal32(w)
			}
		default:
			return illegal32(w)
		}
	case opcOp32:
		in.Rs2 = encRs2(w)
		switch encF7(w) {
		case 0x00:
			switch encF3(w) {
			case 0:
				in.Op = OpADDW
			case 1:
				in.Op = OpSLLW
			case 5:
				in.Op = OpSRLW
			default:
				return illegal32(w)
			}
		case 0x01:
			in.Op = mul32Ops[encF3(w)]
		case 0x20:
			switch encF3(w) {
			case 0:
				in.Op = OpSUBW
			case 5:
				in.Op = OpSRAW
			default:
				return illegal32(w)
			}
		default:
			return illegal32(w)
		}
	case opcMAdd, opcMSub, opcNMSub, opcNMAdd:
		width := (w >> 25) & 3 // 0 = S, 1 = D; H and Q are not in G
		rm := encF3(w)
		if width > 1 || rm == 5 || rm == 6 {
			return illegal32(w)
		}
		in.Op = fmaOps[((w>>2)&3)*2+width]
		in.Rs2 = encRs2(w)
		in.Rs3 = encRs3(w)
		in.RM = uint8(rm)
	case opcOpFP:
		return decodeOpFP(w)
	case opcBranch:
		in.Op = branchOps[encF3(w)]
		in.Rd = 0
		in.Rs2 = encRs2(w)
		in.Imm = immB(w)
	case opcJALR:
		if encF3(w) != 0 {
			return illegal32(w)
		}
		in.Op = OpJALR
		in.Imm = immI(w)
	case opcJAL:
		return Inst{Op: OpJAL, Rd: encRd(w), Imm: immJ(w), Len: 4}
	case opcSystem:
		return decodeSystem(w)
	default:
		return illegal32(w)
	}
	if in.Op == OpIllegal {
		return illegal32(w)
	}
	return in
}

func illegal32(w uint32) Inst {
	return Inst{Op: OpIllegal, Imm: int64(w), Len: 4}
}

func illegal16(h uint16) Inst {
	return Inst{Op: OpIllegal, Imm: int64(h), Len: 2}
}

// Field extraction for 32-bit encodings.
func encRd(w uint32) uint8  { return uint8(w>>7) & 31 }
func encRs1(w uint32) uint8 { return uint8(w>>15) & 31 }
func encRs2(w uint32) uint8 { return uint8(w>>20) & 31 }
func encRs3(w uint32) uint8 { return uint8(w >> 27) }
func encF3(w uint32) uint32 { return (w >> 12) & 7 }
func encF7(w uint32) uint32 { return w >> 25 }

func immI(w uint32) int64 { return int64(int32(w) >> 20) }
func immS(w uint32) int64 {
	return int64(int32(w)>>25<<5) | int64((w>>7)&31)
}
func immB(w uint32) int64 {
	return int64(int32(w)>>31<<12) | int64((w<<4)&0x800) |
		int64((w>>20)&0x7e0) | int64((w>>7)&0x1e)
}
func immU(w uint32) int64 { return int64(int32(w & 0xfffff000)) }
func immJ(w uint32) int64 {
	return int64(int32(w)>>31<<20) | int64(w&0xff000) |
		int64((w>>9)&0x800) | int64((w>>20)&0x7fe)
}

// Major opcodes (bits 6:2 of a 32-bit encoding).
const (
	opcLoad    = 0x00
	opcLoadFP  = 0x01
	opcMiscMem = 0x03
	opcOpImm   = 0x04
	opcAUIPC   = 0x05
	opcOpImm32 = 0x06
	opcStore   = 0x08
	opcStoreFP = 0x09
	opcAMO     = 0x0b
	opcOp      = 0x0c
	opcLUI     = 0x0d
	opcOp32    = 0x0e
	opcMAdd    = 0x10
	opcMSub    = 0x11
	opcNMSub   = 0x12
	opcNMAdd   = 0x13
	opcOpFP    = 0x14
	opcBranch  = 0x18
	opcJALR    = 0x19
	opcJAL     = 0x1b
	opcSystem  = 0x1c
)

var loadOps = [8]Op{OpLB, OpLH, OpLW, OpLD, OpLBU, OpLHU, OpLWU, OpIllegal}
var storeOps = [8]Op{OpSB, OpSH, OpSW, OpSD, OpIllegal, OpIllegal, OpIllegal, OpIllegal}
var branchOps = [8]Op{OpBEQ, OpBNE, OpIllegal, OpIllegal, OpBLT, OpBGE, OpBLTU, OpBGEU}

// opOps and mulOps are OP (funct7 0 and 1) by funct3; op32Ops likewise for
// OP-32.
var opOps = [8]Op{OpADD, OpSLL, OpSLT, OpSLTU, OpXOR, OpSRL, OpOR, OpAND}
var mulOps = [8]Op{OpMUL, OpMULH, OpMULHSU, OpMULHU, OpDIV, OpDIVU, OpREM, OpREMU}
var mul32Ops = [8]Op{OpMULW, OpIllegal, OpIllegal, OpIllegal, OpDIVW, OpDIVUW, OpREMW, OpREMUW}

// amoOps is indexed by funct5 (bits 31:27); the .D forms follow the .W ones
// at a fixed distance in the Op numbering.
var amoOps = [32]Op{
	0x00: OpAMOADD_W, 0x01: OpAMOSWAP_W, 0x02: OpLR_W, 0x03: OpSC_W,
	0x04: OpAMOXOR_W, 0x08: OpAMOOR_W, 0x0c: OpAMOAND_W, 0x10: OpAMOMIN_W,
	0x14: OpAMOMAX_W, 0x18: OpAMOMINU_W, 0x1c: OpAMOMAXU_W,
}

const amoDOffset = OpLR_D - OpLR_W

// fmaOps is indexed by (opcode-opcMAdd)*2 + fmt (0 = S, 1 = D).
var fmaOps = [8]Op{OpFMADD_S, OpFMADD_D, OpFMSUB_S, OpFMSUB_D, OpFNMSUB_S, OpFNMSUB_D, OpFNMADD_S, OpFNMADD_D}

func decodeSystem(w uint32) Inst {
	in := Inst{Rd: encRd(w), Rs1: encRs1(w), Len: 4}
	switch encF3(w) {
	case 0:
		switch w {
		case 0x00000073:
			return Inst{Op: OpECALL, Len: 4}
		case 0x00100073:
			return Inst{Op: OpEBREAK, Len: 4}
		}
		return illegal32(w)
	case 4:
		return illegal32(w)
	}
	if w == 0xc0001073 { // unimp: csrrw x0,cycle,x0
		return illegal32(w)
	}
	in.Op = OpCSRRW - 1 + Op(encF3(w)&3)
	if encF3(w) >= 5 {
		in.Op += OpCSRRWI - OpCSRRW
	}
	in.CSR = uint16(w >> 20)
	return in
}

// decodeOpFP decodes the OP-FP major opcode.
func decodeOpFP(w uint32) Inst {
	in := Inst{Rd: encRd(w), Rs1: encRs1(w), Len: 4}
	rm := encF3(w)
	r2 := encRs2(w)
	// funct7's low two bits are the format: 0 = S, 1 = D.
	d := encF7(w)&3 == 1
	if encF7(w)&3 > 1 {
		return illegal32(w)
	}
	pick := func(s, dd Op) Op {
		if d {
			return dd
		}
		return s
	}
	hasRM := false
	switch encF7(w) >> 2 {
	case 0x00:
		in.Op, in.Rs2, hasRM = pick(OpFADD_S, OpFADD_D), r2, true
	case 0x01:
		in.Op, in.Rs2, hasRM = pick(OpFSUB_S, OpFSUB_D), r2, true
	case 0x02:
		in.Op, in.Rs2, hasRM = pick(OpFMUL_S, OpFMUL_D), r2, true
	case 0x03:
		in.Op, in.Rs2, hasRM = pick(OpFDIV_S, OpFDIV_D), r2, true
	case 0x0b:
		if r2 != 0 {
			return illegal32(w)
		}
		in.Op, hasRM = pick(OpFSQRT_S, OpFSQRT_D), true
	case 0x04:
		switch rm {
		case 0:
			in.Op = pick(OpFSGNJ_S, OpFSGNJ_D)
		case 1:
			in.Op = pick(OpFSGNJN_S, OpFSGNJN_D)
		case 2:
			in.Op = pick(OpFSGNJX_S, OpFSGNJX_D)
		default:
			return illegal32(w)
		}
		in.Rs2 = r2
	case 0x05:
		switch rm {
		case 0:
			in.Op = pick(OpFMIN_S, OpFMIN_D)
		case 1:
			in.Op = pick(OpFMAX_S, OpFMAX_D)
		default:
			return illegal32(w)
		}
		in.Rs2 = r2
	case 0x08: // fcvt.s.d (fmt S, rs2 = D) and fcvt.d.s (fmt D, rs2 = S)
		switch {
		case !d && r2 == 1:
			in.Op = OpFCVT_S_D
		case d && r2 == 0:
			in.Op = OpFCVT_D_S
		default:
			return illegal32(w)
		}
		hasRM = true
	case 0x14:
		switch rm {
		case 0:
			in.Op = pick(OpFLE_S, OpFLE_D)
		case 1:
			in.Op = pick(OpFLT_S, OpFLT_D)
		case 2:
			in.Op = pick(OpFEQ_S, OpFEQ_D)
		default:
			return illegal32(w)
		}
		in.Rs2 = r2
	case 0x18: // fcvt.int.fp
		if r2 > 3 {
			return illegal32(w)
		}
		in.Op = pick(OpFCVT_W_S, OpFCVT_W_D) + Op(r2)
		hasRM = true
	case 0x1a: // fcvt.fp.int
		if r2 > 3 {
			return illegal32(w)
		}
		in.Op = pick(OpFCVT_S_W, OpFCVT_D_W) + Op(r2)
		hasRM = true
	case 0x1c:
		if r2 != 0 {
			return illegal32(w)
		}
		switch rm {
		case 0:
			in.Op = pick(OpFMV_X_W, OpFMV_X_D)
		case 1:
			in.Op = pick(OpFCLASS_S, OpFCLASS_D)
		default:
			return illegal32(w)
		}
	case 0x1e:
		if r2 != 0 || rm != 0 {
			return illegal32(w)
		}
		in.Op = pick(OpFMV_W_X, OpFMV_D_X)
	default:
		return illegal32(w)
	}
	if hasRM {
		if rm == 5 || rm == 6 {
			return illegal32(w)
		}
		in.RM = uint8(rm)
	}
	return in
}

// Compressed register fields: rd'/rs1'/rs2' name x8..x15 (f8..f15).
func cr3(h uint16, shift uint) uint8 { return uint8(h>>shift)&7 + 8 }

// cImm6 is the sign-extended 6-bit immediate imm[5]=bit 12, imm[4:0]=bits 6:2.
func cImm6(h uint16) int64 {
	return int64(int32(uint32(h)<<19)>>26&^31) | int64((h>>2)&31)
}

// cUimm6 is the same 6-bit field, unsigned (shift amounts).
func cUimm6(h uint16) int64 { return int64((h>>7)&32 | (h>>2)&31) }

// Offsets of the compressed loads and stores, zero-extended and scaled.
func cLwOff(h uint16) int64 { // c.lw, c.sw: uimm[5:3]=12:10, [2]=6, [6]=5
	return int64((h>>7)&0x38 | (h>>4)&4 | (h<<1)&0x40)
}
func cLdOff(h uint16) int64 { // c.ld, c.sd, c.fld, c.fsd: uimm[5:3]=12:10, [7:6]=6:5
	return int64((h>>7)&0x38 | (h<<1)&0xc0)
}
func cLwspOff(h uint16) int64 { // uimm[5]=12, [4:2]=6:4, [7:6]=3:2
	return int64((h>>7)&0x20 | (h>>2)&0x1c | (h<<4)&0xc0)
}
func cLdspOff(h uint16) int64 { // uimm[5]=12, [4:3]=6:5, [8:6]=4:2
	return int64((h>>7)&0x20 | (h>>2)&0x18 | (h<<4)&0x1c0)
}
func cSwspOff(h uint16) int64 { // uimm[5:2]=12:9, [7:6]=8:7
	return int64((h>>7)&0x3c | (h>>1)&0xc0)
}
func cSdspOff(h uint16) int64 { // uimm[5:3]=12:10, [8:6]=9:7
	return int64((h>>7)&0x38 | (h>>1)&0x1c0)
}

// cJOff is c.j's offset[11|4|9:8|10|6|7|3:1|5] from bits 12..2.
func cJOff(h uint16) int64 {
	x := uint32(h)
	v := (x>>1)&0x800 | (x>>7)&0x10 | (x>>1)&0x300 | (x<<2)&0x400 |
		(x>>1)&0x40 | (x<<1)&0x80 | (x>>2)&0xe | (x<<3)&0x20
	return int64(int32(v<<20) >> 20)
}

// cBOff is c.beqz/c.bnez's offset[8|4:3] = 12:10, [7:6|2:1|5] = 6:2.
func cBOff(h uint16) int64 {
	x := uint32(h)
	v := (x>>4)&0x100 | (x>>7)&0x18 | (x<<1)&0xc0 | (x>>2)&6 | (x<<3)&0x20
	return int64(int32(v<<23) >> 23)
}

// String formats i as GNU objdump -M no-aliases,numeric does ("addi
// x10,x11,-5", "ld x5,16(x2)", "fadd.d f1,f2,f3,rtz", "c.addi16sp x2,-64"),
// with one space after the mnemonic. Only the target of a branch or jump
// differs, since an Inst does not know its address: it is written relative
// to the instruction, in assembler dot syntax (".+8", ".-16"). StringAt
// gives objdump's absolute target.
func (i Inst) String() string {
	return string(i.appendText(make([]byte, 0, 32), 0, false))
}

// StringAt formats i, located at address pc, exactly as GNU objdump 2.40
// -d -M no-aliases,numeric prints it (without objdump's "# address"
// comments, and with one space instead of a tab after the mnemonic).
// OpIllegal prints as objdump prints undecodable data (".4byte 0x...",
// ".2byte 0x..."), or as c.unimp/unimp for the canonical unimplemented
// encodings.
func (i Inst) StringAt(pc uint64) string {
	return string(i.appendText(make([]byte, 0, 32), pc, true))
}

var rmNames = [8]string{"rne", "rtz", "rdn", "rup", "rmm", "unknown", "unknown", "dyn"}

func disReg(b []byte, class RegClass, r uint8) []byte {
	if class == RegF {
		b = append(b, 'f')
	} else {
		b = append(b, 'x')
	}
	return disUint(b, uint64(r), 10)
}

func disInt(b []byte, v int64) []byte {
	if v < 0 {
		b = append(b, '-')
		return disUint(b, uint64(-v), 10)
	}
	return disUint(b, uint64(v), 10)
}

func disHex(b []byte, v uint64) []byte {
	return disUint(append(b, '0', 'x'), v, 16)
}

func disUint(b []byte, v uint64, base uint64) []byte {
	var buf [20]byte
	n := len(buf)
	for {
		n--
		buf[n] = "0123456789abcdef"[v%base]
		v /= base
		if v == 0 {
			break
		}
	}
	return append(b, buf[n:]...)
}

// disTarget writes a pc-relative target: absolute as objdump does when
// the address is known, else in dot syntax.
func disTarget(b []byte, off int64, pc uint64, abs bool) []byte {
	if abs {
		return disHex(b, pc+uint64(off))
	}
	b = append(b, '.')
	if off >= 0 {
		b = append(b, '+')
	}
	return disInt(b, off)
}

// disFenceSet writes a FENCE predecessor or successor set.
func disFenceSet(b []byte, set int64) []byte {
	if set == 0 {
		return append(b, "unknown"...) // as objdump prints an empty set
	}
	for j, c := range "iorw" {
		if set&(8>>j) != 0 {
			b = append(b, byte(c))
		}
	}
	return b
}

func (i Inst) appendText(b []byte, pc uint64, abs bool) []byte {
	if i.C != CNone && i.Op != OpIllegal {
		return i.appendCompressed(b, pc, abs)
	}
	if i.Op >= NumOps {
		return append(b, i.Op.String()...)
	}
	info := &opTable[i.Op]
	if info.fmt == fmtIllegal {
		switch {
		case i.Len == 2 && i.Imm == 0:
			return append(b, "c.unimp"...)
		case i.Len == 4 && i.Imm == 0xc0001073:
			return append(b, "unimp"...)
		case i.Len == 2:
			return disHex(append(b, ".2byte "...), uint64(i.Imm)&0xffff)
		}
		return disHex(append(b, ".4byte "...), uint64(i.Imm)&0xffffffff)
	}
	if info.fmt == fmtFence && i.Imm == 0x833 {
		return append(b, "fence.tso"...)
	}
	b = append(b, info.name...)
	if info.fmt == fmtLR || info.fmt == fmtAMO {
		switch {
		case i.Aq && i.Rl:
			b = append(b, ".aqrl"...)
		case i.Aq:
			b = append(b, ".aq"...)
		case i.Rl:
			b = append(b, ".rl"...)
		}
	}
	if info.fmt == fmtNone {
		return b
	}
	b = append(b, ' ')
	o := info.ops
	switch info.fmt {
	case fmtR, fmtRRM, fmtR4RM:
		b = disReg(b, o.Rd, i.Rd)
		b = disReg(append(b, ','), o.Rs1, i.Rs1)
		b = disReg(append(b, ','), o.Rs2, i.Rs2)
		if info.fmt == fmtR4RM {
			b = disReg(append(b, ','), o.Rs3, i.Rs3)
		}
		if info.fmt != fmtR && i.RM != RMDyn {
			b = append(append(b, ','), rmNames[i.RM&7]...)
		}
	case fmtR1, fmtR1RM, fmtRRMExact:
		b = disReg(b, o.Rd, i.Rd)
		b = disReg(append(b, ','), o.Rs1, i.Rs1)
		// objdump 2.40 knows the exact conversions only with rm = rne and
		// prints no rounding mode for them.
		if (info.fmt == fmtR1RM && i.RM != RMDyn) || (info.fmt == fmtRRMExact && i.RM != RMRNE) {
			b = append(append(b, ','), rmNames[i.RM&7]...)
		}
	case fmtI:
		b = disReg(b, o.Rd, i.Rd)
		b = disReg(append(b, ','), o.Rs1, i.Rs1)
		b = disInt(append(b, ','), i.Imm)
	case fmtShift:
		b = disReg(b, o.Rd, i.Rd)
		b = disReg(append(b, ','), o.Rs1, i.Rs1)
		b = disHex(append(b, ','), uint64(i.Imm))
	case fmtLoad:
		b = disReg(b, o.Rd, i.Rd)
		b = disInt(append(b, ','), i.Imm)
		b = append(disReg(append(b, '('), o.Rs1, i.Rs1), ')')
	case fmtStore:
		b = disReg(b, o.Rs2, i.Rs2)
		b = disInt(append(b, ','), i.Imm)
		b = append(disReg(append(b, '('), o.Rs1, i.Rs1), ')')
	case fmtBranch:
		b = disReg(b, o.Rs1, i.Rs1)
		b = disReg(append(b, ','), o.Rs2, i.Rs2)
		b = disTarget(append(b, ','), i.Imm, pc, abs)
	case fmtJAL:
		b = disReg(b, o.Rd, i.Rd)
		b = disTarget(append(b, ','), i.Imm, pc, abs)
	case fmtU:
		b = disReg(b, o.Rd, i.Rd)
		b = disHex(append(b, ','), uint64(i.Imm>>12)&0xfffff)
	case fmtFence:
		b = disFenceSet(b, i.Imm>>4&15)
		b = disFenceSet(append(b, ','), i.Imm&15)
	case fmtCSR, fmtCSRI:
		b = disReg(b, o.Rd, i.Rd)
		b = disCSR(append(b, ','), i.CSR)
		b = append(b, ',')
		if info.fmt == fmtCSR {
			b = disReg(b, RegX, i.Rs1)
		} else {
			b = disUint(b, uint64(i.Rs1), 10)
		}
	case fmtLR:
		b = disReg(b, o.Rd, i.Rd)
		b = append(disReg(append(b, ",("...), o.Rs1, i.Rs1), ')')
	case fmtAMO:
		b = disReg(b, o.Rd, i.Rd)
		b = disReg(append(b, ','), o.Rs2, i.Rs2)
		b = append(disReg(append(b, ",("...), o.Rs1, i.Rs1), ')')
	}
	return b
}

// appendCompressed writes a compressed instruction with its own mnemonic and
// operands, as objdump shows them.
func (i Inst) appendCompressed(b []byte, pc uint64, abs bool) []byte {
	o := i.Op.Operands()
	switch i.C {
	case CEbreak:
		return append(b, "c.ebreak"...)
	case CSlli, CSrli, CSrai:
		if i.Imm == 0 { // the shift-by-zero HINTs
			b = append(append(b, i.C.String()...), "64 "...)
			return disReg(b, RegX, i.Rd)
		}
	}
	b = append(append(b, i.C.String()...), ' ')
	switch i.C {
	case CAddi4spn:
		b = disReg(b, RegX, i.Rd)
		b = disInt(append(b, ",x2,"...), i.Imm)
	case CFld, CLw, CLd, CFldsp, CLwsp, CLdsp:
		b = disReg(b, o.Rd, i.Rd)
		b = disInt(append(b, ','), i.Imm)
		b = append(disReg(append(b, '('), RegX, i.Rs1), ')')
	case CFsd, CSw, CSd, CFsdsp, CSwsp, CSdsp:
		b = disReg(b, o.Rs2, i.Rs2)
		b = disInt(append(b, ','), i.Imm)
		b = append(disReg(append(b, '('), RegX, i.Rs1), ')')
	case CAddi, CAddiw, CLi, CAddi16sp, CAndi:
		b = disReg(b, RegX, i.Rd)
		b = disInt(append(b, ','), i.Imm)
	case CLui:
		b = disReg(b, RegX, i.Rd)
		b = disHex(append(b, ','), uint64(i.Imm>>12)&0xfffff)
	case CSrli, CSrai, CSlli:
		b = disReg(b, RegX, i.Rd)
		b = disHex(append(b, ','), uint64(i.Imm))
	case CSub, CXor, COr, CAnd, CSubw, CAddw, CMv, CAdd:
		b = disReg(b, RegX, i.Rd)
		b = disReg(append(b, ','), RegX, i.Rs2)
	case CJ:
		b = disTarget(b, i.Imm, pc, abs)
	case CBeqz, CBnez:
		b = disReg(b, RegX, i.Rs1)
		b = disTarget(append(b, ','), i.Imm, pc, abs)
	case CJr, CJalr:
		b = disReg(b, RegX, i.Rs1)
	}
	return b
}

// csrNames are the CSRs objdump 2.40 prints by name (privileged spec 1.11,
// as the workloads' ELF attributes say), sorted by number, apart from the
// numbered families in csrFamilies.
var csrNames = [...]struct {
	num  uint16
	name string
}{
	{0x000, "ustatus"}, {0x001, "fflags"}, {0x002, "frm"}, {0x003, "fcsr"}, {0x004, "uie"},
	{0x005, "utvec"}, {0x008, "vstart"}, {0x009, "vxsat"}, {0x00a, "vxrm"}, {0x00f, "vcsr"},
	{0x015, "seed"}, {0x040, "uscratch"}, {0x041, "uepc"}, {0x042, "ucause"},
	{0x043, "utval"}, {0x044, "uip"}, {0x100, "sstatus"}, {0x102, "sedeleg"},
	{0x103, "sideleg"}, {0x104, "sie"}, {0x105, "stvec"}, {0x106, "scounteren"},
	{0x10c, "sstateen0"}, {0x10d, "sstateen1"}, {0x10e, "sstateen2"}, {0x10f, "sstateen3"},
	{0x114, "sieh"}, {0x140, "sscratch"}, {0x141, "sepc"}, {0x142, "scause"},
	{0x143, "stval"}, {0x144, "sip"}, {0x14d, "stimecmp"}, {0x150, "siselect"},
	{0x151, "sireg"}, {0x154, "siph"}, {0x15c, "stopei"}, {0x15d, "stimecmph"},
	{0x180, "satp"}, {0x200, "vsstatus"}, {0x204, "vsie"}, {0x205, "vstvec"},
	{0x214, "vsieh"}, {0x240, "vsscratch"}, {0x241, "vsepc"}, {0x242, "vscause"},
	{0x243, "vstval"}, {0x244, "vsip"}, {0x24d, "vstimecmp"}, {0x250, "vsiselect"},
	{0x251, "vsireg"}, {0x254, "vsiph"}, {0x25c, "vstopei"}, {0x25d, "vstimecmph"},
	{0x280, "vsatp"}, {0x300, "mstatus"}, {0x301, "misa"}, {0x302, "medeleg"},
	{0x303, "mideleg"}, {0x304, "mie"}, {0x305, "mtvec"}, {0x306, "mcounteren"},
	{0x308, "mvien"}, {0x309, "mvip"}, {0x30c, "mstateen0"}, {0x30d, "mstateen1"},
	{0x30e, "mstateen2"}, {0x30f, "mstateen3"}, {0x313, "midelegh"}, {0x314, "mieh"},
	{0x318, "mvienh"}, {0x319, "mviph"}, {0x31c, "mstateen0h"}, {0x31d, "mstateen1h"},
	{0x31e, "mstateen2h"}, {0x31f, "mstateen3h"}, {0x320, "mcountinhibit"},
	{0x340, "mscratch"}, {0x341, "mepc"}, {0x342, "mcause"}, {0x343, "mtval"},
	{0x344, "mip"}, {0x350, "miselect"}, {0x351, "mireg"}, {0x354, "miph"},
	{0x35c, "mtopei"}, {0x5a8, "scontext"}, {0x600, "hstatus"}, {0x602, "hedeleg"},
	{0x603, "hideleg"}, {0x604, "hie"}, {0x605, "htimedelta"}, {0x606, "hcounteren"},
	{0x607, "hgeie"}, {0x608, "hvien"}, {0x609, "hvictl"}, {0x60a, "henvcfg"},
	{0x60c, "hstateen0"}, {0x60d, "hstateen1"}, {0x60e, "hstateen2"}, {0x60f, "hstateen3"},
	{0x613, "hidelegh"}, {0x615, "htimedeltah"}, {0x618, "hvienh"}, {0x61a, "henvcfgh"},
	{0x61c, "hstateen0h"}, {0x61d, "hstateen1h"}, {0x61e, "hstateen2h"},
	{0x61f, "hstateen3h"}, {0x643, "htval"}, {0x644, "hip"}, {0x645, "hvip"},
	{0x646, "hviprio1"}, {0x647, "hviprio2"}, {0x64a, "htinst"}, {0x655, "hviph"},
	{0x656, "hviprio1h"}, {0x657, "hviprio2h"}, {0x680, "hgatp"}, {0x6a8, "hcontext"},
	{0x7a0, "tselect"}, {0x7a1, "tdata1"}, {0x7a2, "tdata2"}, {0x7a3, "tdata3"},
	{0x7a4, "tinfo"}, {0x7a5, "tcontrol"}, {0x7a8, "mcontext"}, {0x7aa, "mscontext"},
	{0x7b0, "dcsr"}, {0x7b1, "dpc"}, {0x7b2, "dscratch0"}, {0x7b3, "dscratch1"},
	{0xb00, "mcycle"}, {0xb02, "minstret"}, {0xb80, "mcycleh"}, {0xb82, "minstreth"},
	{0xc00, "cycle"}, {0xc01, "time"}, {0xc02, "instret"}, {0xc20, "vl"}, {0xc21, "vtype"},
	{0xc22, "vlenb"}, {0xc80, "cycleh"}, {0xc81, "timeh"}, {0xc82, "instreth"},
	{0xda0, "scountovf"}, {0xdb0, "stopi"}, {0xe12, "hgeip"}, {0xeb0, "vstopi"},
	{0xf11, "mvendorid"}, {0xf12, "marchid"}, {0xf13, "mimpid"}, {0xf14, "mhartid"},
	{0xfb0, "mtopi"},
}

// csrFamilies are the numbered CSR families: numbers first..last are named
// prefix<n>suffix with n counting from base.
var csrFamilies = [...]struct {
	first, last, base uint16
	prefix, suffix    string
}{
	{0x323, 0x33f, 3, "mhpmevent", ""},
	{0x3a0, 0x3a3, 0, "pmpcfg", ""},
	{0x3b0, 0x3bf, 0, "pmpaddr", ""},
	{0x723, 0x73f, 3, "mhpmevent", "h"},
	{0xb03, 0xb1f, 3, "mhpmcounter", ""},
	{0xb83, 0xb9f, 3, "mhpmcounter", "h"},
	{0xc03, 0xc1f, 3, "hpmcounter", ""},
	{0xc83, 0xc9f, 3, "hpmcounter", "h"},
}

// disCSR writes a CSR's name as objdump does, or its number in hex when
// objdump has no name for it.
func disCSR(b []byte, csr uint16) []byte {
	lo, hi := 0, len(csrNames)
	for lo < hi {
		m := (lo + hi) / 2
		if csrNames[m].num < csr {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(csrNames) && csrNames[lo].num == csr {
		return append(b, csrNames[lo].name...)
	}
	for _, f := range csrFamilies {
		if csr >= f.first && csr <= f.last {
			b = disUint(append(b, f.prefix...), uint64(csr-f.first+f.base), 10)
			return append(b, f.suffix...)
		}
	}
	return disHex(b, uint64(csr))
}

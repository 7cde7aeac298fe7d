package cpu

import (
	"math"
	"math/big"
)

// FOp is a floating-point operation of the host's Fp instruction. The
// semantics are RISC-V's F and D extensions: IEEE 754-2008 arithmetic with
// the five rounding modes, canonical NaNs, NaN-boxed single precision in
// 64-bit registers, the accrued exception flags in fcsr, and saturating
// float-to-integer conversions.
type FOp uint8

// Floating-point operations; S and D select single or double precision.
// Operands: F[rs1], F[rs2], F[rs3] and F[rd], except that FCvtXFromF
// (float to integer), FEq/FLt/FLe and FClass write X[rd] and FCvtFFromX
// (integer to float) reads X[rs1].
const (
	FAdd FOp = iota
	FSub
	FMul
	FDiv
	FSqrt
	FMin
	FMax
	FMadd  // rs1·rs2 + rs3
	FMsub  // rs1·rs2 − rs3
	FNmsub // −(rs1·rs2) + rs3
	FNmadd // −(rs1·rs2) − rs3
	FSgnj
	FSgnjn
	FSgnjx
	FEq
	FLt
	FLe
	FClass
	FCvtW  // to int32
	FCvtWU // to uint32
	FCvtL  // to int64
	FCvtLU // to uint64
	FCvtFromW
	FCvtFromWU
	FCvtFromL
	FCvtFromLU
	FCvtSD // double to single (with D: the width field names the source)
	FCvtDS // single to double
	numFOps
)

// Rounding modes (fcsr.frm and the rm field).
const (
	RNE = 0 // nearest, ties to even
	RTZ = 1 // towards zero
	RDN = 2 // down
	RUP = 3 // up
	RMM = 4 // nearest, ties away from zero
	DYN = 7 // the mode in frm
)

// Accrued exception flags (fcsr.fflags).
const (
	flagNX = 1 << iota // inexact
	flagUF             // underflow
	flagOF             // overflow
	flagDZ             // divide by zero
	flagNV             // invalid operation
)

const (
	canonNaN64 = 0x7ff8000000000000
	canonNaN32 = 0x7fc00000
	boxMask    = 0xffffffff00000000
)

// FpImm packs an Fp instruction's immediate: the operation, double
// precision or not, the third source register and the rounding mode.
func FpImm(op FOp, double bool, rs3, rm uint8) int64 {
	d := int64(0)
	if double {
		d = 1
	}
	return int64(op) | d<<8 | int64(rs3&31)<<9 | int64(rm&7)<<14
}

func fpFields(imm int64) (op FOp, double bool, rs3, rm uint8) {
	return FOp(imm), imm>>8&1 != 0, uint8(imm>>9) & 31, uint8(imm>>14) & 7
}

// unbox returns the single-precision value in a register: a value that is
// not properly NaN-boxed reads as the canonical NaN.
func unbox(v uint64) float32 {
	if v&boxMask != boxMask {
		return math.Float32frombits(canonNaN32)
	}
	return math.Float32frombits(uint32(v))
}

func box(f float32) uint64 { return uint64(math.Float32bits(f)) | boxMask }

func isSNaN64(v uint64) bool {
	return v&0x7ff0000000000000 == 0x7ff0000000000000 && v&0xfffffffffffff != 0 && v&(1<<51) == 0
}

func isSNaN32(v uint32) bool { return v&0x7f800000 == 0x7f800000 && v&0x7fffff != 0 && v&(1<<22) == 0 }

// fp executes an Fp instruction. It returns false for a dynamic rounding
// mode whose frm value is reserved: the instruction is illegal.
func (c *Core) fp(in *Inst) bool {
	op, double, rs3, rm := fpFields(in.Imm)
	if rm == DYN {
		rm = uint8(c.FCSR >> 5 & 7)
	}
	if rm > RMM && usesRM(op) {
		return false
	}
	var flags uint32
	F := &c.F
	a, b, c3 := F[in.Rs1&31], F[in.Rs2&31], F[rs3]
	switch op {
	case FEq, FLt, FLe:
		var r bool
		r, flags = compare(op, a, b, double)
		c.X[in.Rd] = b2u(r)
	case FClass:
		c.X[in.Rd] = classify(a, double)
	case FCvtW, FCvtWU, FCvtL, FCvtLU:
		var v float64
		if double {
			v = math.Float64frombits(a)
		} else {
			v = float64(unbox(a))
		}
		c.X[in.Rd], flags = toInt(op, v, rm)
	case FCvtFromW, FCvtFromWU, FCvtFromL, FCvtFromLU:
		F[in.Rd&31], flags = fromInt(op, c.X[in.Rs1], double, rm)
	case FSgnj, FSgnjn, FSgnjx:
		F[in.Rd&31] = signInject(op, a, b, double)
	case FCvtDS: // single to double: exact
		f := unbox(a)
		if f != f {
			if isSNaN32(math.Float32bits(f)) {
				flags = flagNV
			}
			F[in.Rd&31] = canonNaN64
		} else {
			F[in.Rd&31] = math.Float64bits(float64(f))
		}
	case FCvtSD: // double to single, rounded
		v := math.Float64frombits(a)
		if v != v {
			if isSNaN64(a) {
				flags = flagNV
			}
			F[in.Rd&31] = box(math.Float32frombits(canonNaN32))
		} else {
			var r float64
			r, flags = roundBig(new(big.Float).SetFloat64(v), true, rm, v < 0 || v == 0 && math.Signbit(v))
			F[in.Rd&31] = box(float32(r))
		}
	case FMin, FMax:
		F[in.Rd&31], flags = minMax(op, a, b, double)
	default:
		if double {
			F[in.Rd&31], flags = arith64(op, a, b, c3, rm, c.FCSR&flagNX != 0)
		} else {
			var r uint32
			r, flags = arith32(op, a, b, c3, rm)
			F[in.Rd&31] = uint64(r) | boxMask
		}
	}
	c.FCSR |= flags
	return true
}

func usesRM(op FOp) bool {
	switch op {
	case FAdd, FSub, FMul, FDiv, FSqrt, FMadd, FMsub, FNmsub, FNmadd, FCvtW, FCvtWU, FCvtL, FCvtLU,
		FCvtFromW, FCvtFromWU, FCvtFromL, FCvtFromLU, FCvtSD:
		return true
	}
	return false
}

// operands2 reads two FP registers of either width as float64 (exactly)
// and reports whether either is a signalling NaN.
func operands2(a, b uint64, double bool) (x, y float64, snan bool) {
	if double {
		return math.Float64frombits(a), math.Float64frombits(b), isSNaN64(a) || isSNaN64(b)
	}
	fa, fb := unbox(a), unbox(b)
	return float64(fa), float64(fb), isSNaN32(math.Float32bits(fa)) || isSNaN32(math.Float32bits(fb))
}

func compare(op FOp, a, b uint64, double bool) (bool, uint32) {
	x, y, snan := operands2(a, b, double)
	nan := x != x || y != y
	var flags uint32
	if snan || nan && op != FEq {
		flags = flagNV
	}
	switch op {
	case FEq:
		return x == y, flags
	case FLt:
		return x < y, flags
	}
	return x <= y, flags
}

func classify(a uint64, double bool) uint64 {
	var v float64
	var sub, snan bool
	if double {
		v = math.Float64frombits(a)
		sub = a&0x7ff0000000000000 == 0 && a&0xfffffffffffff != 0
		snan = isSNaN64(a)
	} else {
		f := unbox(a)
		bits := math.Float32bits(f)
		v = float64(f)
		sub = bits&0x7f800000 == 0 && bits&0x7fffff != 0
		snan = isSNaN32(bits)
	}
	neg := math.Signbit(v)
	switch {
	case v != v && snan:
		return 1 << 8
	case v != v:
		return 1 << 9
	case math.IsInf(v, -1):
		return 1 << 0
	case math.IsInf(v, 1):
		return 1 << 7
	case v == 0 && neg:
		return 1 << 3
	case v == 0:
		return 1 << 4
	case sub && neg:
		return 1 << 2
	case sub:
		return 1 << 5
	case neg:
		return 1 << 1
	}
	return 1 << 6
}

func signInject(op FOp, a, b uint64, double bool) uint64 {
	if !double {
		x, y := math.Float32bits(unbox(a)), math.Float32bits(unbox(b))
		s := y & (1 << 31)
		switch op {
		case FSgnjn:
			s ^= 1 << 31
		case FSgnjx:
			s = (x ^ y) & (1 << 31)
		}
		return uint64(x&^(1<<31)|s) | boxMask
	}
	s := b & (1 << 63)
	switch op {
	case FSgnjn:
		s ^= 1 << 63
	case FSgnjx:
		s = (a ^ b) & (1 << 63)
	}
	return a&^(1<<63) | s
}

func minMax(op FOp, a, b uint64, double bool) (uint64, uint32) {
	x, y, snan := operands2(a, b, double)
	var flags uint32
	if snan {
		flags = flagNV
	}
	var r float64
	switch {
	case x != x && y != y:
		if double {
			return canonNaN64, flags
		}
		return uint64(canonNaN32) | boxMask, flags
	case x != x:
		r = y
	case y != y:
		r = x
	case x == 0 && y == 0: // -0 is less than +0
		if (op == FMin) == math.Signbit(x) {
			r = x
		} else {
			r = y
		}
	case op == FMin:
		r = math.Min(x, y)
	default:
		r = math.Max(x, y)
	}
	if double {
		return math.Float64bits(r), flags
	}
	return box(float32(r)), flags
}

// roundInt rounds v to an integer in mode rm.
func roundInt(v float64, rm uint8) float64 {
	switch rm {
	case RTZ:
		return math.Trunc(v)
	case RDN:
		return math.Floor(v)
	case RUP:
		return math.Ceil(v)
	case RMM:
		return math.Round(v)
	}
	return math.RoundToEven(v)
}

// toInt converts v to an integer of the op's width with RISC-V's
// saturation: NaN and too-large values give the largest value, too-small
// ones the smallest, and raise NV; a rounded result raises NX. 32-bit
// results are sign-extended.
func toInt(op FOp, v float64, rm uint8) (uint64, uint32) {
	var lo, hi float64 // the representable range, inclusive
	var loV, hiV uint64
	switch op {
	case FCvtW:
		lo, hi, loV, hiV = math.MinInt32, math.MaxInt32, sext32(1<<31), math.MaxInt32
	case FCvtWU:
		lo, hi, loV, hiV = 0, math.MaxUint32, 0, sext32(math.MaxUint32)
	case FCvtL:
		lo, hi, loV, hiV = math.MinInt64, 0x1p63, 1<<63, math.MaxInt64
	default:
		lo, hi, loV, hiV = 0, 0x1p64, 0, math.MaxUint64
	}
	if v != v {
		return hiV, flagNV
	}
	r := roundInt(v, rm)
	// hi for the 64-bit forms is one past the range (2^63 or 2^64, exact
	// in float64); the 32-bit bounds are exact and inclusive.
	tooBig := r > hi || (op == FCvtL || op == FCvtLU) && r == hi
	if tooBig {
		return hiV, flagNV
	}
	if r < lo {
		return loV, flagNV
	}
	var flags uint32
	if r != v {
		flags = flagNX
	}
	switch op {
	case FCvtW:
		return uint64(int64(int32(r))), flags
	case FCvtWU:
		return sext32(uint64(uint32(r))), flags
	case FCvtL:
		return uint64(int64(r)), flags
	}
	if r >= 0x1p63 {
		return uint64(r-0x1p63) + 1<<63, flags
	}
	return uint64(r), flags
}

// fromInt converts an integer register to a float of either width,
// rounding in mode rm.
func fromInt(op FOp, x uint64, double bool, rm uint8) (uint64, uint32) {
	// Exact conversions need no rounding: every 32-bit integer in a double,
	// and any integer the host converts and back unchanged.
	switch {
	case op == FCvtFromW && double:
		return math.Float64bits(float64(int32(x))), 0
	case op == FCvtFromWU && double:
		return math.Float64bits(float64(uint32(x))), 0
	case op == FCvtFromL && double && int64(float64(int64(x))) == int64(x) && float64(int64(x)) != 0x1p63:
		return math.Float64bits(float64(int64(x))), 0
	}
	var z big.Float
	neg := false
	switch op {
	case FCvtFromW:
		v := int64(int32(x))
		z.SetInt64(v)
		neg = v < 0
	case FCvtFromWU:
		z.SetUint64(uint64(uint32(x)))
	case FCvtFromL:
		z.SetInt64(int64(x))
		neg = int64(x) < 0
	default:
		z.SetUint64(x)
	}
	r, flags := roundBig(&z, !double, rm, neg)
	if double {
		return math.Float64bits(r), flags
	}
	return box(float32(r)), flags
}

// roundBig rounds the exact value z to binary32 (single) or binary64 in
// mode rm, with IEEE subnormals, overflow and the flags: NX when inexact,
// OF on overflow, UF when the result is tiny (detected after rounding) and
// inexact. neg is z's sign (needed for zero).
func roundBig(z *big.Float, single bool, rm uint8, neg bool) (float64, uint32) {
	prec, emin, emax := uint(53), -1022, 1023
	if single {
		prec, emin, emax = 24, -126, 127
	}
	if z.Sign() == 0 {
		if neg {
			return math.Copysign(0, -1), 0
		}
		return 0, 0
	}
	mode := bigModes[rm]
	var flags uint32
	// Round with an unbounded exponent first: that decides tininess.
	r := new(big.Float).SetMode(mode).SetPrec(prec).Set(z)
	exact := r.Cmp(z) == 0
	e := r.MantExp(nil) - 1 // r = m·2^e with 1 <= m < 2
	if e > emax {
		flags = flagOF | flagNX
		// Round-to-nearest modes and those rounding away go to infinity;
		// the others stop at the largest finite number.
		toInf := rm == RNE || rm == RMM || rm == RUP && !neg || rm == RDN && neg
		if toInf {
			return math.Inf(sign(neg)), flags
		}
		maxv := math.MaxFloat64
		if single {
			maxv = math.MaxFloat32
		}
		return math.Copysign(maxv, float64(sign(neg))), flags
	}
	if e < emin {
		// Tiny: round again, from the exact value, to the precision the
		// subnormal format leaves.
		p := int(prec) - (emin - e)
		if p < 1 {
			// Below half the smallest subnormal: round to 0 or to it.
			tinyExp := emin - int(prec) + 1 // the smallest subnormal is 2^tinyExp
			half := new(big.Float).SetMantExp(big.NewFloat(1), tinyExp-1)
			abs := new(big.Float).Abs(z)
			var up bool
			switch rm {
			case RNE:
				up = abs.Cmp(half) > 0
			case RMM:
				up = abs.Cmp(half) >= 0
			case RUP:
				up = !neg
			case RDN:
				up = neg
			}
			flags = flagUF | flagNX
			if up {
				return math.Copysign(math.Ldexp(1, tinyExp), float64(sign(neg))), flags
			}
			return math.Copysign(0, float64(sign(neg))), flags
		}
		r = new(big.Float).SetMode(mode).SetPrec(uint(p)).Set(z)
		if r.Cmp(z) != 0 {
			flags = flagUF | flagNX
		}
		f, _ := r.Float64()
		return f, flags
	}
	if !exact {
		flags = flagNX
	}
	f, _ := r.Float64()
	return f, flags
}

var bigModes = [8]big.RoundingMode{RNE: big.ToNearestEven, RTZ: big.ToZero, RDN: big.ToNegativeInf,
	RUP: big.ToPositiveInf, RMM: big.ToNearestAway}

func sign(neg bool) int {
	if neg {
		return -1
	}
	return 1
}

// arith64 performs a double-precision add, sub, mul, div, sqrt or fused
// multiply-add. The common case — round to nearest even, normal results —
// uses the host's IEEE arithmetic, with the inexact flag found by
// error-free transformations (skipped when NX is already set, since flags
// are sticky); other rounding modes, tiny results and fused operations
// whose exactness is unknown go through exact arithmetic.
func arith64(op FOp, a, b, c uint64, rm uint8, haveNX bool) (uint64, uint32) {
	x, y, z := math.Float64frombits(a), math.Float64frombits(b), math.Float64frombits(c)
	// NaN operands and invalid operations.
	nanIn := x != x || (op != FSqrt && y != y) || isFMA(op) && z != z
	snan := isSNaN64(a) || op != FSqrt && isSNaN64(b) || isFMA(op) && isSNaN64(c)
	r := native(op, x, y, z)
	if r != r || nanIn {
		flags := uint32(0)
		if snan || !nanIn || isFMA(op) && (math.IsInf(x, 0) && y == 0 || x == 0 && math.IsInf(y, 0)) {
			flags = flagNV
		}
		return canonNaN64, flags
	}
	var flags uint32
	if op == FDiv && y == 0 && !math.IsInf(x, 0) {
		return math.Float64bits(r), flagDZ
	}
	if math.IsInf(x, 0) || op != FSqrt && math.IsInf(y, 0) || isFMA(op) && math.IsInf(z, 0) {
		return math.Float64bits(r), 0 // arithmetic on infinities is exact
	}
	if math.IsInf(r, 0) {
		// Overflow from finite operands: the mode decides inf or max.
		return exact64(op, x, y, z, rm)
	}
	if rm == RNE && r == 0 {
		// Zero results that are exact keep the host's (IEEE) sign: a sum
		// that cancels exactly, a product or quotient with a zero operand,
		// a fused operation whose product is exactly zero.
		switch {
		case op == FAdd || op == FSub,
			(op == FMul || op == FDiv) && x == 0,
			op == FMul && y == 0,
			isFMA(op) && (x == 0 || y == 0):
			return math.Float64bits(r), 0
		}
	}
	// Error-free transformations of products, quotients and roots are
	// exact only when nothing involved comes near the subnormal range.
	const tiny = 0x1p-969
	small := func(v float64) bool { return v != 0 && math.Abs(v) < tiny }
	// A product of non-zero operands that underflows (to zero, even) hides
	// its inexactness from the transformations below.
	tinyProduct := func() bool {
		p := fmaSign(op, x) * y
		return x != 0 && y != 0 && (p == 0 || small(p))
	}
	if rm != RNE || math.Abs(r) < 0x1p-1021 ||
		op != FAdd && op != FSub && (small(r) || small(x) || small(y) || isFMA(op) && (small(z) || tinyProduct())) {
		return exact64(op, x, y, z, rm)
	}
	if !haveNX {
		inexact := false
		switch op {
		case FAdd, FSub:
			yy := y
			if op == FSub {
				yy = -y
			}
			bv := r - x
			inexact = (x-(r-bv))+(yy-bv) != 0
		case FMul:
			inexact = math.FMA(x, y, -r) != 0
		case FDiv:
			inexact = math.FMA(-r, y, x) != 0
		case FSqrt:
			inexact = math.FMA(-r, r, x) != 0
		default:
			// When the product is exact the fused result is the rounded sum
			// of product and addend, inexact when TwoSum leaves an error.
			px := fmaSign(op, x)
			p := px * y
			if math.FMA(px, y, -p) != 0 || math.IsInf(p, 0) {
				return exact64(op, x, y, z, rm)
			}
			zz := fmaAddend(op, z)
			bv := r - p
			inexact = (p-(r-bv))+(zz-bv) != 0
		}
		if inexact {
			flags = flagNX
		}
	}
	return math.Float64bits(r), flags
}

// native performs op with the host's IEEE double arithmetic (round to
// nearest even).
func native(op FOp, x, y, z float64) float64 {
	switch op {
	case FAdd:
		return x + y
	case FSub:
		return x - y
	case FMul:
		return x * y
	case FDiv:
		return x / y
	case FSqrt:
		return math.Sqrt(x)
	}
	return math.FMA(fmaSign(op, x), y, fmaAddend(op, z))
}

func isFMA(op FOp) bool { return op >= FMadd && op <= FNmadd }

func fmaSign(op FOp, x float64) float64 {
	if op == FNmsub || op == FNmadd {
		return -x
	}
	return x
}

func fmaAddend(op FOp, z float64) float64 {
	if op == FMsub || op == FNmadd {
		return -z
	}
	return z
}

// exactValue computes op's exact result (sqrt to 2·prec+64 bits, which
// rounds correctly) as a big.Float.
func exactValue(op FOp, x, y, z float64, prec uint) *big.Float {
	bx, by := new(big.Float).SetFloat64(x), new(big.Float).SetFloat64(y)
	r := new(big.Float)
	switch op {
	case FAdd:
		r.SetPrec(2200).Add(bx, by)
	case FSub:
		r.SetPrec(2200).Sub(bx, by)
	case FMul:
		r.SetPrec(2*prec).Mul(bx, by)
	case FDiv:
		// Correctly rounded at the target precision: see roundQuo.
		return nil
	case FSqrt:
		return nil
	default:
		p := new(big.Float).SetPrec(2*prec).Mul(new(big.Float).SetFloat64(fmaSign(op, x)), by)
		r.SetPrec(3400).Add(p, new(big.Float).SetFloat64(fmaAddend(op, z))) // spans 2^1024 down to 2^-2148
	}
	return r
}

// exact64 computes a double-precision result through exact arithmetic.
func exact64(op FOp, x, y, z float64, rm uint8) (uint64, uint32) {
	if op == FDiv || op == FSqrt {
		f, flags := roundQuoSqrt(op, x, y, false, rm)
		return math.Float64bits(f), flags
	}
	v := exactValue(op, x, y, z, 53)
	neg := v.Signbit()
	if v.Sign() == 0 {
		// The sign of an exact zero sum: +0 except -0 + -0, and -0 when
		// rounding down.
		neg = zeroSign(op, x, y, z, rm)
	}
	f, flags := roundBig(v, false, rm, neg)
	return math.Float64bits(f), flags
}

// zeroSign is the sign of an exactly zero result (IEEE 754 6.3).
func zeroSign(op FOp, x, y, z float64, rm uint8) bool {
	switch op {
	case FMul, FDiv:
		return math.Signbit(x) != math.Signbit(y)
	case FAdd, FSub:
		yy := math.Signbit(y) != (op == FSub)
		if math.Signbit(x) == yy && x == 0 && y == 0 {
			return math.Signbit(x)
		}
	default:
		p := math.Signbit(fmaSign(op, x)) != math.Signbit(y)
		zz := math.Signbit(fmaAddend(op, z))
		if (x == 0 || y == 0) && z == 0 && p == zz {
			return p
		}
	}
	return rm == RDN
}

// roundQuoSqrt computes a correctly rounded quotient or square root with
// its flags: division and square root are never exact in binary, so they
// are rounded from a result with twice the precision plus a sticky bit.
func roundQuoSqrt(op FOp, x, y float64, single bool, rm uint8) (float64, uint32) {
	prec := uint(53)
	if single {
		prec = 24
	}
	bx := new(big.Float).SetFloat64(x)
	wide := new(big.Float).SetPrec(2*prec + 64)
	if op == FSqrt {
		wide.Sqrt(bx)
		// Sticky: the wide root is exact only if its square is x.
		sq := new(big.Float).SetPrec(4*prec+128).Mul(wide, wide)
		if sq.Cmp(bx) != 0 {
			wide = addSticky(wide, sq.Cmp(bx) < 0)
		}
	} else {
		by := new(big.Float).SetFloat64(y)
		wide.Quo(bx, by)
		back := new(big.Float).SetPrec(4*prec+128).Mul(wide, by)
		if c := back.Cmp(bx); c != 0 {
			// The wide quotient is below the true one when back·sign < x.
			wide = addSticky(wide, (c < 0) != (by.Sign() < 0))
		}
	}
	neg := math.Signbit(x) != math.Signbit(y)
	if op == FSqrt {
		neg = math.Signbit(x)
	}
	return roundBig(wide, single, rm, neg)
}

// addSticky nudges an inexact wide result by a quarter of its last place
// towards the true value, so that rounding to far fewer bits sees it as
// inexact and rounds in the right direction.
func addSticky(w *big.Float, up bool) *big.Float {
	mant := new(big.Float)
	exp := w.MantExp(mant)
	ulp := new(big.Float).SetMantExp(big.NewFloat(1), exp-int(w.Prec())-2)
	r := new(big.Float).SetPrec(w.Prec() + 8)
	if up {
		return r.Add(w, ulp)
	}
	return r.Sub(w, ulp)
}

// arith32 performs a single-precision operation exactly: the operands are
// single, so a double-width computation and one rounding are correct for
// add, sub and mul; div and sqrt use roundQuoSqrt; fused operations use
// exact arithmetic.
func arith32(op FOp, a, b, c uint64, rm uint8) (uint32, uint32) {
	fx, fy, fz := unbox(a), unbox(b), unbox(c)
	x, y, z := float64(fx), float64(fy), float64(fz)
	nanIn := x != x || (op != FSqrt && y != y) || isFMA(op) && z != z
	snan := isSNaN32(math.Float32bits(fx)) || op != FSqrt && isSNaN32(math.Float32bits(fy)) ||
		isFMA(op) && isSNaN32(math.Float32bits(fz))
	invalid := false
	switch op {
	case FAdd:
		invalid = math.IsInf(x, 0) && math.IsInf(y, 0) && math.Signbit(x) != math.Signbit(y)
	case FSub:
		invalid = math.IsInf(x, 0) && math.IsInf(y, 0) && math.Signbit(x) == math.Signbit(y)
	case FMul:
		invalid = math.IsInf(x, 0) && y == 0 || x == 0 && math.IsInf(y, 0)
	case FDiv:
		invalid = x == 0 && y == 0 || math.IsInf(x, 0) && math.IsInf(y, 0)
	case FSqrt:
		invalid = x < 0
	default:
		p := fmaSign(op, x) * y
		invalid = math.IsInf(x, 0) && y == 0 || x == 0 && math.IsInf(y, 0) ||
			math.IsInf(p, 0) && math.IsInf(z, 0) && math.Signbit(p) != math.Signbit(fmaAddend(op, z))
	}
	if nanIn || invalid {
		var flags uint32
		if snan || invalid {
			flags = flagNV
		}
		return canonNaN32, flags
	}
	if op == FDiv && y == 0 && !math.IsInf(x, 0) {
		return math.Float32bits(float32(math.Copysign(math.Inf(1), x) * math.Copysign(1, y))), flagDZ
	}
	// Infinite operands give infinite results exactly.
	if math.IsInf(x, 0) || math.IsInf(y, 0) || isFMA(op) && math.IsInf(z, 0) {
		return math.Float32bits(float32(native(op, x, y, z))), 0
	}
	if op == FDiv || op == FSqrt {
		f, flags := roundQuoSqrt(op, x, y, true, rm)
		return math.Float32bits(float32(f)), flags
	}
	v := exactValue(op, x, y, z, 24)
	neg := v.Signbit()
	if v.Sign() == 0 {
		neg = zeroSign(op, x, y, z, rm)
	}
	f, flags := roundBig(v, true, rm, neg)
	return math.Float32bits(float32(f)), flags
}

package dbt

import (
	"strings"
	"testing"
)

// FuzzDecode checks Decode's invariants on any word: no panic, Len 2 or 4
// as the low bits say, registers below 32, fields an op does not use left
// zero, a mnemonic that String and StringAt both start with, and, for a
// compressed word, that the upper half is ignored.
func FuzzDecode(f *testing.F) {
	for _, tc := range decodeCases {
		f.Add(tc.word)
	}
	for _, tc := range illegalCases {
		f.Add(tc.word)
	}
	for _, w := range []uint32{
		0, 1, 2, 3, 0xffff, 0x10000, 0xffffffff, 0x7fffffff, 0x80000000,
		0xc0001073, 0x8330000f, 0x6101, 0x7101, 0x0004, 0x8002, 0x9002,
		0xffffffe3, 0xfffff06f, 0x02a5d0d3, 0x0000001f, 0x0000003f, 0x0000007f,
	} {
		f.Add(w)
	}
	f.Fuzz(func(t *testing.T, w uint32) {
		in := Decode(w)
		compressed := w&3 != 3
		if compressed && in.Len != 2 || !compressed && in.Len != 4 {
			t.Fatalf("%#x: Len %d", w, in.Len)
		}
		if in.Rd > 31 || in.Rs1 > 31 || in.Rs2 > 31 || in.Rs3 > 31 {
			t.Fatalf("%#x: register out of range: %+v", w, in)
		}
		if in.Op >= NumOps {
			t.Fatalf("%#x: Op %d out of range", w, in.Op)
		}
		if in.RM > 7 || in.RM == 5 || in.RM == 6 || in.RM != 0 && !in.Op.HasRM() {
			t.Fatalf("%#x: RM %d for %v", w, in.RM, in.Op)
		}
		if (in.Aq || in.Rl) && (in.Op < OpLR_W || in.Op > OpAMOMAXU_D) {
			t.Fatalf("%#x: ordering bits on %v", w, in.Op)
		}
		if in.C >= numCOps || (in.C != CNone) != (compressed && in.Op != OpIllegal) {
			t.Fatalf("%#x: C %d for Len %d %v", w, in.C, in.Len, in.Op)
		}
		ops := in.Op.Operands()
		if ops.Rd == RegNone && in.Rd != 0 || ops.Rs2 == RegNone && in.Rs2 != 0 || ops.Rs3 == RegNone && in.Rs3 != 0 {
			t.Fatalf("%#x: unused register field set: %+v", w, in)
		}
		if in.Op == OpIllegal {
			raw := int64(w)
			if compressed {
				raw = int64(w & 0xffff)
			}
			if in.Imm != raw || in.Rd|in.Rs1|in.Rs2|in.Rs3 != 0 {
				t.Fatalf("%#x: illegal Inst %+v", w, in)
			}
		}
		if compressed && Decode(w&0xffff|0xabcd0000) != in {
			t.Fatalf("%#x: the upper half changes a compressed decode", w)
		}
		s := in.String()
		at := in.StringAt(0x10000)
		if s == "" || at == "" || strings.ContainsAny(s, "\t\n") {
			t.Fatalf("%#x: bad text %q / %q", w, s, at)
		}
		if in.Op != OpIllegal {
			mn, _, _ := strings.Cut(s, " ")
			want := in.Op.String()
			if in.C != CNone {
				want = in.C.String()
			}
			if !strings.HasPrefix(mn, want) && !(in.Op == OpFENCE && mn == "fence.tso") {
				t.Fatalf("%#x: text %q does not start with %q", w, s, want)
			}
		}
	})
}

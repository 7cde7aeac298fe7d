// intops: RV64IMA instructions on edge-case operands — division by zero
// and overflow, shifts by every amount, word forms' sign extension,
// multiply-high forms, LR/SC and every AMO, writes to x0 — printing a hash
// per instruction (and every result with -v), for bit-for-bit comparison
// with qemu-riscv64.
#include <stdint.h>
#include <stdio.h>

static const uint64_t V[] = {0, 1, 2, 3, 7, 31, 32, 63, 64, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0x7fffffff, 0x80000000,
	0xffffffff, 0x100000000, 0x7fffffffffffffff, 0x8000000000000000, 0xffffffffffffffff, 0xfffffffffffffffe,
	0xffffffff80000000, 0x123456789abcdef0, 0xdeadbeefcafebabe, 0x5555555555555555};
#define NV (sizeof V / sizeof *V)

static uint64_t h;
static int verbose;
static void mix(uint64_t v) {
	h = (h ^ v) * 0x100000001b3ull;
	if (verbose) printf(" %llx", (unsigned long long)v);
}

#define R(name, insn) \
	static uint64_t name(uint64_t a, uint64_t b) { uint64_t r; __asm__ volatile(insn " %0, %1, %2" : "=r"(r) : "r"(a), "r"(b)); return r; }
R(add, "add") R(sub, "sub") R(sll, "sll") R(slt, "slt") R(sltu, "sltu") R(xor_, "xor") R(srl, "srl") R(sra, "sra")
R(or_, "or") R(and_, "and") R(mul, "mul") R(mulh, "mulh") R(mulhsu, "mulhsu") R(mulhu, "mulhu") R(div_, "div")
R(divu, "divu") R(rem, "rem") R(remu, "remu") R(addw, "addw") R(subw, "subw") R(sllw, "sllw") R(srlw, "srlw")
R(sraw, "sraw") R(mulw, "mulw") R(divw, "divw") R(divuw, "divuw") R(remw, "remw") R(remuw, "remuw")

#define I(name, insn, imm) \
	static uint64_t name(uint64_t a) { uint64_t r; __asm__ volatile(insn " %0, %1, " #imm : "=r"(r) : "r"(a)); return r; }
I(addi_m1, "addi", -1) I(addi_max, "addi", 2047) I(addi_min, "addi", -2048) I(slti_m1, "slti", -1) I(sltiu_m1, "sltiu", -1)
I(xori_m1, "xori", -1) I(ori_5, "ori", 0x555) I(andi_m2048, "andi", -2048) I(slli_63, "slli", 63) I(srli_63, "srli", 63)
I(srai_63, "srai", 63) I(slli_1, "slli", 1) I(srai_1, "srai", 1) I(addiw_m1, "addiw", -1) I(addiw_0, "addiw", 0)
I(slliw_31, "slliw", 31) I(srliw_31, "srliw", 31) I(sraiw_31, "sraiw", 31) I(sraiw_0, "sraiw", 0)

typedef uint64_t (*rr)(uint64_t, uint64_t);
typedef uint64_t (*ri)(uint64_t);

static uint64_t mem[4] __attribute__((aligned(16)));

#define AMO(name, insn) \
	static uint64_t name(uint64_t *p, uint64_t v) { uint64_t r; __asm__ volatile(insn " %0, %2, (%1)" : "=r"(r) : "r"(p), "r"(v) : "memory"); return r; }
AMO(amoswap_d, "amoswap.d") AMO(amoadd_d, "amoadd.d") AMO(amoxor_d, "amoxor.d") AMO(amoand_d, "amoand.d")
AMO(amoor_d, "amoor.d") AMO(amomin_d, "amomin.d") AMO(amomax_d, "amomax.d") AMO(amominu_d, "amominu.d")
AMO(amomaxu_d, "amomaxu.d") AMO(amoswap_w, "amoswap.w.aqrl") AMO(amoadd_w, "amoadd.w") AMO(amoxor_w, "amoxor.w")
AMO(amoand_w, "amoand.w") AMO(amoor_w, "amoor.w") AMO(amomin_w, "amomin.w") AMO(amomax_w, "amomax.w")
AMO(amominu_w, "amominu.w") AMO(amomaxu_w, "amomaxu.w")
typedef uint64_t (*amo)(uint64_t *, uint64_t);

int main(int argc, char **argv) {
	verbose = argc > 1;
	struct { const char *n; rr f; } rrs[] = {
		{"add", add}, {"sub", sub}, {"sll", sll}, {"slt", slt}, {"sltu", sltu}, {"xor", xor_}, {"srl", srl}, {"sra", sra},
		{"or", or_}, {"and", and_}, {"mul", mul}, {"mulh", mulh}, {"mulhsu", mulhsu}, {"mulhu", mulhu}, {"div", div_},
		{"divu", divu}, {"rem", rem}, {"remu", remu}, {"addw", addw}, {"subw", subw}, {"sllw", sllw}, {"srlw", srlw},
		{"sraw", sraw}, {"mulw", mulw}, {"divw", divw}, {"divuw", divuw}, {"remw", remw}, {"remuw", remuw},
	};
	struct { const char *n; ri f; } ris[] = {
		{"addi -1", addi_m1}, {"addi 2047", addi_max}, {"addi -2048", addi_min}, {"slti -1", slti_m1},
		{"sltiu -1", sltiu_m1}, {"xori -1", xori_m1}, {"ori 0x555", ori_5}, {"andi -2048", andi_m2048},
		{"slli 63", slli_63}, {"srli 63", srli_63}, {"srai 63", srai_63}, {"slli 1", slli_1}, {"srai 1", srai_1},
		{"addiw -1", addiw_m1}, {"addiw 0", addiw_0}, {"slliw 31", slliw_31}, {"srliw 31", srliw_31},
		{"sraiw 31", sraiw_31}, {"sraiw 0", sraiw_0},
	};
	struct { const char *n; amo f; } amos[] = {
		{"amoswap.d", amoswap_d}, {"amoadd.d", amoadd_d}, {"amoxor.d", amoxor_d}, {"amoand.d", amoand_d},
		{"amoor.d", amoor_d}, {"amomin.d", amomin_d}, {"amomax.d", amomax_d}, {"amominu.d", amominu_d},
		{"amomaxu.d", amomaxu_d}, {"amoswap.w", amoswap_w}, {"amoadd.w", amoadd_w}, {"amoxor.w", amoxor_w},
		{"amoand.w", amoand_w}, {"amoor.w", amoor_w}, {"amomin.w", amomin_w}, {"amomax.w", amomax_w},
		{"amominu.w", amominu_w}, {"amomaxu.w", amomaxu_w},
	};
	for (size_t k = 0; k < sizeof rrs / sizeof *rrs; k++) {
		h = 1469598103934665603ull;
		for (size_t i = 0; i < NV; i++)
			for (size_t j = 0; j < NV; j++) {
				if (verbose) printf("\n%s %llx %llx:", rrs[k].n, (unsigned long long)V[i], (unsigned long long)V[j]);
				mix(rrs[k].f(V[i], V[j]));
			}
		printf("%-10s %016llx\n", rrs[k].n, (unsigned long long)h);
	}
	for (size_t k = 0; k < sizeof ris / sizeof *ris; k++) {
		h = 1469598103934665603ull;
		for (size_t i = 0; i < NV; i++) mix(ris[k].f(V[i]));
		printf("%-10s %016llx\n", ris[k].n, (unsigned long long)h);
	}
	for (size_t k = 0; k < sizeof amos / sizeof *amos; k++) {
		h = 1469598103934665603ull;
		for (size_t i = 0; i < NV; i++)
			for (size_t j = 0; j < NV; j += 2) {
				mem[0] = V[i];
				mem[1] = ~V[i];
				mix(amos[k].f(&mem[0], V[j]));
				mix(mem[0]);
				mix(mem[1]);
			}
		printf("%-10s %016llx\n", amos[k].n, (unsigned long long)h);
	}
	// LR/SC: a pair succeeds; an SC without a reservation fails and writes nothing.
	uint64_t r1, r2, r3;
	mem[2] = 5;
	__asm__ volatile("lr.d %0, (%3)\n\taddi %0, %0, 1\n\tsc.d %1, %0, (%3)\n\tsc.d %2, %0, (%3)"
	                 : "=&r"(r1), "=&r"(r2), "=&r"(r3) : "r"(&mem[2]) : "memory");
	printf("lr/sc: value %llu, first sc %llu, second sc %llu, memory %llu\n", (unsigned long long)r1,
	       (unsigned long long)r2, (unsigned long long)r3, (unsigned long long)mem[2]);
	uint32_t *w = (uint32_t *)&mem[3];
	w[0] = 0x80000000u;
	uint64_t lw;
	__asm__ volatile("lr.w %0, (%1)\n\tsc.w zero, %0, (%1)" : "=&r"(lw) : "r"(w) : "memory");
	printf("lr.w sign-extends: %016llx\n", (unsigned long long)lw);
	// Writes to x0 are discarded.
	uint64_t z;
	__asm__ volatile("li t0, 5\n\tadd zero, t0, t0\n\tlui zero, 0x12345\n\tmv %0, zero" : "=r"(z) : : "t0");
	printf("x0 after writes: %llu\n", (unsigned long long)z);
	return 0;
}

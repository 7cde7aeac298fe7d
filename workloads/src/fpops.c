// fpops: every F and D arithmetic, comparison, classification and
// conversion instruction on edge-case operands, in every rounding mode,
// printing each result's bits and the accrued exception flags, so that a
// translator's floating point can be compared with qemu-riscv64 bit for bit.
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const uint64_t D[] = {
	0x0000000000000000ull, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull,
	0x3fd5555555555555ull, 0x4000000000000000ull, 0x7fefffffffffffffull, 0x0010000000000000ull,
	0x000fffffffffffffull, 0x0000000000000001ull, 0x7ff0000000000000ull, 0xfff0000000000000ull,
	0x7ff8000000000000ull, 0x7ff4000000000000ull, 0x3ff0000000000001ull, 0xc1e0000000000000ull,
	0x43e0000000000000ull, 0x41dfffffffc00000ull, 0x3fe0000000000000ull, 0x4004000000000000ull,
};
static const uint32_t S[] = {
	0x00000000u, 0x80000000u, 0x3f800000u, 0xbf800000u, 0x3eaaaaabu, 0x40000000u, 0x7f7fffffu,
	0x00800000u, 0x007fffffu, 0x00000001u, 0x7f800000u, 0xff800000u, 0x7fc00000u, 0x7fa00000u,
	0x3f800001u, 0xcf000000u, 0x4f000000u, 0x3f000000u, 0x40200000u,
};
#define ND (sizeof D / sizeof *D)
#define NS (sizeof S / sizeof *S)

static uint64_t h;
static int verbose;
static void mix(uint64_t v) { h = (h ^ v) * 0x100000001b3ull; if (verbose) printf(" %llx", (unsigned long long)v); }

static unsigned flags(void) {
	unsigned f;
	__asm__ volatile("csrrw %0, fflags, zero" : "=r"(f));
	return f;
}
static void setrm(unsigned rm) { __asm__ volatile("csrw frm, %0" ::"r"(rm)); }

#define BIN_D(name, insn) \
	static uint64_t name(uint64_t a, uint64_t b) { \
		double x, y, r; uint64_t o; memcpy(&x, &a, 8); memcpy(&y, &b, 8); \
		__asm__ volatile(insn " %0, %1, %2" : "=f"(r) : "f"(x), "f"(y)); memcpy(&o, &r, 8); return o; }
#define BIN_S(name, insn) \
	static uint64_t name(uint64_t a, uint64_t b) { \
		float x, y, r; uint32_t ua = (uint32_t)a, ub = (uint32_t)b, o; memcpy(&x, &ua, 4); memcpy(&y, &ub, 4); \
		__asm__ volatile(insn " %0, %1, %2" : "=f"(r) : "f"(x), "f"(y)); memcpy(&o, &r, 4); return o; }
BIN_D(fadd_d, "fadd.d") BIN_D(fsub_d, "fsub.d") BIN_D(fmul_d, "fmul.d") BIN_D(fdiv_d, "fdiv.d")
BIN_D(fmin_d, "fmin.d") BIN_D(fmax_d, "fmax.d") BIN_D(fsgnj_d, "fsgnj.d") BIN_D(fsgnjn_d, "fsgnjn.d") BIN_D(fsgnjx_d, "fsgnjx.d")
BIN_S(fadd_s, "fadd.s") BIN_S(fsub_s, "fsub.s") BIN_S(fmul_s, "fmul.s") BIN_S(fdiv_s, "fdiv.s")
BIN_S(fmin_s, "fmin.s") BIN_S(fmax_s, "fmax.s") BIN_S(fsgnj_s, "fsgnj.s") BIN_S(fsgnjn_s, "fsgnjn.s") BIN_S(fsgnjx_s, "fsgnjx.s")

#define CMP(name, insn, T, W) \
	static uint64_t name(uint64_t a, uint64_t b) { \
		T x, y; long r; W ua = (W)a, ub = (W)b; memcpy(&x, &ua, sizeof x); memcpy(&y, &ub, sizeof y); \
		__asm__ volatile(insn " %0, %1, %2" : "=r"(r) : "f"(x), "f"(y)); return (uint64_t)r; }
CMP(feq_d, "feq.d", double, uint64_t) CMP(flt_d, "flt.d", double, uint64_t) CMP(fle_d, "fle.d", double, uint64_t)
CMP(feq_s, "feq.s", float, uint32_t) CMP(flt_s, "flt.s", float, uint32_t) CMP(fle_s, "fle.s", float, uint32_t)

#define FMA_D(name, insn) \
	static uint64_t name(uint64_t a, uint64_t b, uint64_t c) { \
		double x, y, z, r; uint64_t o; memcpy(&x, &a, 8); memcpy(&y, &b, 8); memcpy(&z, &c, 8); \
		__asm__ volatile(insn " %0, %1, %2, %3" : "=f"(r) : "f"(x), "f"(y), "f"(z)); memcpy(&o, &r, 8); return o; }
#define FMA_S(name, insn) \
	static uint64_t name(uint64_t a, uint64_t b, uint64_t c) { \
		float x, y, z, r; uint32_t ua = (uint32_t)a, ub = (uint32_t)b, uc = (uint32_t)c, o; \
		memcpy(&x, &ua, 4); memcpy(&y, &ub, 4); memcpy(&z, &uc, 4); \
		__asm__ volatile(insn " %0, %1, %2, %3" : "=f"(r) : "f"(x), "f"(y), "f"(z)); memcpy(&o, &r, 4); return o; }
FMA_D(fmadd_d, "fmadd.d") FMA_D(fmsub_d, "fmsub.d") FMA_D(fnmsub_d, "fnmsub.d") FMA_D(fnmadd_d, "fnmadd.d")
FMA_S(fmadd_s, "fmadd.s") FMA_S(fmsub_s, "fmsub.s") FMA_S(fnmsub_s, "fnmsub.s") FMA_S(fnmadd_s, "fnmadd.s")

#define UN(name, insn, TI, TO, WI, WO, CI, CO) \
	static uint64_t name(uint64_t a) { \
		TI x; TO r; WI ua = (WI)a; WO o = 0; memcpy(&x, &ua, sizeof x); \
		__asm__ volatile(insn " %0, %1" : "=" CO(r) : CI(x)); memcpy(&o, &r, sizeof r); return (uint64_t)o; }
UN(fsqrt_d, "fsqrt.d", double, double, uint64_t, uint64_t, "f", "f")
UN(fsqrt_s, "fsqrt.s", float, float, uint32_t, uint32_t, "f", "f")
UN(fclass_d, "fclass.d", double, long, uint64_t, uint64_t, "f", "r")
UN(fclass_s, "fclass.s", float, long, uint32_t, uint64_t, "f", "r")
UN(fcvt_w_d, "fcvt.w.d", double, long, uint64_t, uint64_t, "f", "r")
UN(fcvt_wu_d, "fcvt.wu.d", double, long, uint64_t, uint64_t, "f", "r")
UN(fcvt_l_d, "fcvt.l.d", double, long, uint64_t, uint64_t, "f", "r")
UN(fcvt_lu_d, "fcvt.lu.d", double, long, uint64_t, uint64_t, "f", "r")
UN(fcvt_w_s, "fcvt.w.s", float, long, uint32_t, uint64_t, "f", "r")
UN(fcvt_wu_s, "fcvt.wu.s", float, long, uint32_t, uint64_t, "f", "r")
UN(fcvt_l_s, "fcvt.l.s", float, long, uint32_t, uint64_t, "f", "r")
UN(fcvt_lu_s, "fcvt.lu.s", float, long, uint32_t, uint64_t, "f", "r")
UN(fcvt_s_d, "fcvt.s.d", double, float, uint64_t, uint32_t, "f", "f")
UN(fcvt_d_s, "fcvt.d.s", float, double, uint32_t, uint64_t, "f", "f")
UN(fcvt_d_l, "fcvt.d.l", long, double, uint64_t, uint64_t, "r", "f")
UN(fcvt_d_lu, "fcvt.d.lu", long, double, uint64_t, uint64_t, "r", "f")
UN(fcvt_d_w, "fcvt.d.w", long, double, uint64_t, uint64_t, "r", "f")
UN(fcvt_d_wu, "fcvt.d.wu", long, double, uint64_t, uint64_t, "r", "f")
UN(fcvt_s_l, "fcvt.s.l", long, float, uint64_t, uint32_t, "r", "f")
UN(fcvt_s_lu, "fcvt.s.lu", long, float, uint64_t, uint32_t, "r", "f")
UN(fcvt_s_w, "fcvt.s.w", long, float, uint64_t, uint32_t, "r", "f")
UN(fcvt_s_wu, "fcvt.s.wu", long, float, uint64_t, uint32_t, "r", "f")

static const uint64_t I[] = {0, 1, (uint64_t)-1, 0x7fffffff, 0x80000000u, 0xffffffff, 0x7fffffffffffffffull,
	0x8000000000000000ull, 0x20000001, 0x1fffffffffffffull, 0x20000000000001ull, 0xfedcba9876543210ull};
#define NI (sizeof I / sizeof *I)

typedef uint64_t (*bin)(uint64_t, uint64_t);
typedef uint64_t (*tri)(uint64_t, uint64_t, uint64_t);
typedef uint64_t (*un)(uint64_t);

static void report(const char *name, unsigned rm, uint64_t sum) {
	printf("%-10s rm%u %016llx\n", name, rm, (unsigned long long)sum);
}

int main(int argc, char **argv) {
	verbose = argc > 1;
	struct { const char *n; bin f; int d; } bins[] = {
		{"fadd.d", fadd_d, 1}, {"fsub.d", fsub_d, 1}, {"fmul.d", fmul_d, 1}, {"fdiv.d", fdiv_d, 1},
		{"fmin.d", fmin_d, 1}, {"fmax.d", fmax_d, 1}, {"fsgnj.d", fsgnj_d, 1}, {"fsgnjn.d", fsgnjn_d, 1},
		{"fsgnjx.d", fsgnjx_d, 1}, {"feq.d", feq_d, 1}, {"flt.d", flt_d, 1}, {"fle.d", fle_d, 1},
		{"fadd.s", fadd_s, 0}, {"fsub.s", fsub_s, 0}, {"fmul.s", fmul_s, 0}, {"fdiv.s", fdiv_s, 0},
		{"fmin.s", fmin_s, 0}, {"fmax.s", fmax_s, 0}, {"fsgnj.s", fsgnj_s, 0}, {"fsgnjn.s", fsgnjn_s, 0},
		{"fsgnjx.s", fsgnjx_s, 0}, {"feq.s", feq_s, 0}, {"flt.s", flt_s, 0}, {"fle.s", fle_s, 0},
	};
	struct { const char *n; tri f; int d; } tris[] = {
		{"fmadd.d", fmadd_d, 1}, {"fmsub.d", fmsub_d, 1}, {"fnmsub.d", fnmsub_d, 1}, {"fnmadd.d", fnmadd_d, 1},
		{"fmadd.s", fmadd_s, 0}, {"fmsub.s", fmsub_s, 0}, {"fnmsub.s", fnmsub_s, 0}, {"fnmadd.s", fnmadd_s, 0},
	};
	struct { const char *n; un f; int src; } uns[] = { /* src: 1 double, 0 single, 2 integer */
		{"fsqrt.d", fsqrt_d, 1}, {"fclass.d", fclass_d, 1}, {"fcvt.w.d", fcvt_w_d, 1}, {"fcvt.wu.d", fcvt_wu_d, 1},
		{"fcvt.l.d", fcvt_l_d, 1}, {"fcvt.lu.d", fcvt_lu_d, 1}, {"fcvt.s.d", fcvt_s_d, 1},
		{"fsqrt.s", fsqrt_s, 0}, {"fclass.s", fclass_s, 0}, {"fcvt.w.s", fcvt_w_s, 0}, {"fcvt.wu.s", fcvt_wu_s, 0},
		{"fcvt.l.s", fcvt_l_s, 0}, {"fcvt.lu.s", fcvt_lu_s, 0}, {"fcvt.d.s", fcvt_d_s, 0},
		{"fcvt.d.l", fcvt_d_l, 2}, {"fcvt.d.lu", fcvt_d_lu, 2}, {"fcvt.d.w", fcvt_d_w, 2}, {"fcvt.d.wu", fcvt_d_wu, 2},
		{"fcvt.s.l", fcvt_s_l, 2}, {"fcvt.s.lu", fcvt_s_lu, 2}, {"fcvt.s.w", fcvt_s_w, 2}, {"fcvt.s.wu", fcvt_s_wu, 2},
	};
	for (unsigned rm = 0; rm <= 4; rm++) {
		setrm(rm);
		for (size_t k = 0; k < sizeof bins / sizeof *bins; k++) {
			h = 1469598103934665603ull;
			size_t n = bins[k].d ? ND : NS;
			for (size_t i = 0; i < n; i++)
				for (size_t j = 0; j < n; j++) {
					uint64_t a = bins[k].d ? D[i] : S[i], b = bins[k].d ? D[j] : S[j];
					flags();
					if (verbose) printf("\n%s rm%u %llx %llx:", bins[k].n, rm, (unsigned long long)a, (unsigned long long)b);
					mix(bins[k].f(a, b));
					mix(flags());
				}
			report(bins[k].n, rm, h);
		}
		for (size_t k = 0; k < sizeof tris / sizeof *tris; k++) {
			h = 1469598103934665603ull;
			size_t n = tris[k].d ? ND : NS;
			for (size_t i = 0; i < n; i++)
				for (size_t j = 0; j < n; j++)
					for (size_t l = 0; l < n; l += 3) {
						uint64_t a = tris[k].d ? D[i] : S[i], b = tris[k].d ? D[j] : S[j], c = tris[k].d ? D[l] : S[l];
						flags();
						if (verbose) printf("\n%s rm%u %llx %llx %llx:", tris[k].n, rm, (unsigned long long)a, (unsigned long long)b, (unsigned long long)c);
						mix(tris[k].f(a, b, c));
						mix(flags());
					}
			report(tris[k].n, rm, h);
		}
		for (size_t k = 0; k < sizeof uns / sizeof *uns; k++) {
			h = 1469598103934665603ull;
			size_t n = uns[k].src == 1 ? ND : uns[k].src == 0 ? NS : NI;
			for (size_t i = 0; i < n; i++) {
				uint64_t a = uns[k].src == 1 ? D[i] : uns[k].src == 0 ? S[i] : I[i];
				flags();
				if (verbose) printf("\n%s rm%u %llx:", uns[k].n, rm, (unsigned long long)a);
				uint64_t r = uns[k].f(a);
				mix(r);
				mix(flags());
				if (rm == 0 && k < 3) printf("  %s(%016llx) = %016llx\n", uns[k].n, (unsigned long long)a, (unsigned long long)r);
			}
			report(uns[k].n, rm, h);
		}
	}
	return 0;
}

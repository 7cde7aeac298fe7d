// jit: generates RISC-V machine code at run time into memory it maps,
// makes it executable, synchronises the instruction stream (fence.i) and
// calls it; then rewrites the code in place and calls it again, so a
// translator must notice the modification.
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

typedef long (*fn)(long);

static uint32_t addi(int rd, int rs1, int imm) { return ((uint32_t)(imm & 0xfff) << 20) | (rs1 << 15) | (rd << 7) | 0x13; }
static uint32_t add(int rd, int rs1, int rs2) { return (rs2 << 20) | (rs1 << 15) | (rd << 7) | 0x33; }
static uint32_t mul(int rd, int rs1, int rs2) { return (1u << 25) | (rs2 << 20) | (rs1 << 15) | (rd << 7) | 0x33; }
static const uint32_t ret = 0x00008067; // jalr x0, 0(ra)

static void sync_icache(void *p, size_t n) { __builtin___clear_cache((char *)p, (char *)p + n); }

int main(void) {
	size_t page = 4096;
	uint32_t *code = mmap(0, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (code == MAP_FAILED) { perror("mmap"); return 1; }
	long total = 0;
	for (int k = 1; k <= 200; k++) {
		// f(x) = (x + k) * x + k, written, protected W^X, run.
		if (mprotect(code, page, PROT_READ | PROT_WRITE)) { perror("mprotect"); return 1; }
		int n = 0;
		code[n++] = addi(5, 10, k);   // t0 = a0 + k
		code[n++] = mul(10, 5, 10);   // a0 = t0 * a0
		code[n++] = addi(10, 10, k);  // a0 = a0 + k
		code[n++] = ret;
		if (mprotect(code, page, PROT_READ | PROT_EXEC)) { perror("mprotect"); return 1; }
		sync_icache(code, n * 4);
		fn f = (fn)(void *)code;
		for (long x = 0; x < 1000; x++) total += f(x);
	}
	printf("generated 200 functions, total %ld\n", total);

	// Self-modifying in place in a RWX mapping: patch the immediate and
	// call again.
	uint32_t *rwx = mmap(0, page, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (rwx == MAP_FAILED) { perror("mmap rwx"); return 1; }
	long acc = 0;
	for (int k = 0; k < 50; k++) {
		rwx[0] = addi(10, 10, k);
		rwx[1] = add(10, 10, 10);
		rwx[2] = ret;
		sync_icache(rwx, 12);
		acc += ((fn)(void *)rwx)(k);
	}
	printf("patched in place 50 times, acc %ld\n", acc);
	munmap(code, page);
	munmap(rwx, page);
	return 0;
}

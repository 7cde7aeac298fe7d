// smc: self-modifying code a translator must get right, each case printing
// what Linux on RISC-V prints:
//   same-page   a generated function stores into the page it runs from
//   straddle    an 8-byte store straddles a data page and a page of code
//   syscall     read(2) overwrites code already run (no fence.i between)
//   flush       riscv_flush_icache over the whole address space
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *rwx(size_t n) {
	void *p = mmap(0, n, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? 0 : p;
}

int main(void) {
	// same-page: f(ptr, val) = sw a1,0(a0); ret, called on its own page.
	uint32_t *p = rwx(4096);
	if (!p) return 1;
	p[0] = 0x00b52023;
	p[1] = 0x00008067;
	__builtin___clear_cache((char *)p, (char *)p + 8);
	((void (*)(uint32_t *, uint32_t))(void *)p)(p + 100, 42);
	printf("same-page: stored %u\n", p[100]);

	// straddle: run code on the second page, then store across the boundary.
	char *q = rwx(8192);
	if (!q) return 1;
	uint32_t *code = (uint32_t *)(q + 4096);
	code[4] = 0x00008067; // ret
	__builtin___clear_cache((char *)code, (char *)code + 32);
	((void (*)(void))(void *)(code + 4))();
	volatile uint64_t *s = (volatile uint64_t *)(q + 4096 - 4);
	*s = 0x1122334455667788ull;
	printf("straddle: %llx\n", (unsigned long long)*s);

	// syscall: li a0,1; ret, then read(2) writes li a0,2; ret over it.
	uint32_t *r = rwx(4096);
	if (!r) return 1;
	r[0] = 0x00100513;
	r[1] = 0x00008067;
	__builtin___clear_cache((char *)r, (char *)r + 8);
	long a = ((long (*)(void))(void *)r)();
	int fds[2];
	if (pipe(fds)) return 1;
	uint32_t next[2] = {0x00200513, 0x00008067};
	if (write(fds[1], next, 8) != 8 || read(fds[0], r, 8) != 8) return 1;
	long b = ((long (*)(void))(void *)r)();
	printf("syscall: %ld %ld\n", a, b);

	// flush: the whole address space.
	printf("flush: %ld\n", syscall(259, 0ul, ~0ul, 0ul));
	return 0;
}

// mixpages: guest memory layouts that make host pages larger than 4 KiB
// "mixed" (their 4 KiB guest pages differ in protection), for the
// translator's page-size management. Each mode prints a checksum; the ones
// that end in a guest fault do so exactly where Linux on 4 KiB pages would.
//   guard BYTES        write BYTES into a 4 KiB buffer with a PROT_NONE guard
//                      page after it (more than 4096 faults on the guard)
//   roprot             a read-only 4 KiB page inside a read-write region:
//                      writes around it, then one into it (faults)
//   wx N               W^X code generation: N rounds of writing a function
//                      into a page, mprotecting it executable, calling it
//   sidebyside         sixteen 4 KiB mappings side by side, alternately
//                      read-write and read-only, read and written as allowed
//   mix PERCENT N      N loads and stores, PERCENT of them to a page that
//                      shares its host page with a read-only page, the rest
//                      to a region of its own (the loop is twinsim's region
//                      of interest)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

// twinsim's region-of-interest system call (as in ubench.c): 1 begins the
// region, 2 ends it; elsewhere it fails with ENOSYS and does nothing.
static void roi(long op) {
	register long a0 __asm__("a0") = op;
	register long a7 __asm__("a7") = 4000;
	__asm__ volatile("ecall" : "+r"(a0) : "r"(a7) : "memory");
}

#define PAGE 4096
#define HOST 65536 // the largest host page: mappings aligned to it start a host page

// region maps n bytes (a multiple of PAGE) at an address aligned to HOST,
// read-write, and exits if it cannot.
static unsigned char *region(size_t n) {
	unsigned char *p = mmap(0, n + HOST, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	unsigned char *a = (unsigned char *)(((uintptr_t)p + HOST - 1) & ~(uintptr_t)(HOST - 1));
	return a;
}

static void protect(void *p, size_t n, int prot) {
	if (mprotect(p, n, prot) != 0) {
		perror("mprotect");
		exit(2);
	}
}

static uint64_t guard(long bytes) {
	unsigned char *r = region(HOST);
	protect(r + PAGE, PAGE, PROT_NONE);
	volatile unsigned char *buf = r;
	uint64_t s = 0;
	for (long i = 0; i < bytes; i++) {
		buf[i] = (unsigned char)(i * 7);
		s += buf[i];
	}
	return s;
}

static uint64_t roprot(void) {
	unsigned char *r = region(HOST);
	for (int i = 0; i < HOST; i++) r[i] = (unsigned char)i;
	protect(r + 5 * PAGE, PAGE, PROT_READ);
	volatile unsigned char *v = r;
	uint64_t s = 0;
	for (int i = 0; i < HOST; i += 64) s += v[i]; // reads everywhere
	for (int i = 0; i < 5 * PAGE; i += 64) v[i] ^= 1; // writes below
	for (int i = 6 * PAGE; i < HOST; i += 64) v[i] ^= 1; // and above
	for (int i = 0; i < HOST; i += 64) s += v[i];
	printf("roprot %llu\n", (unsigned long long)s);
	fflush(stdout);
	v[5 * PAGE + 8] = 1; // into the read-only page: SIGSEGV
	return s;
}

static uint64_t wx(long rounds) {
	unsigned char *r = region(HOST);
	uint32_t *code = (uint32_t *)(r + 3 * PAGE);
	uint64_t s = 0;
	for (long k = 0; k < rounds; k++) {
		protect(code, PAGE, PROT_READ | PROT_WRITE);
		code[0] = 0x00050513u | (uint32_t)((k & 0x7ff) << 20); // addi a0, a0, k
		code[1] = 0x00008067u;                                 // ret
		protect(code, PAGE, PROT_READ | PROT_EXEC);
		__builtin___clear_cache((char *)code, (char *)(code + 2));
		long (*f)(long) = (long (*)(long))code;
		s += (uint64_t)f((long)k);
		r[k & (PAGE - 1)] += 1; // the page beside the code stays writable
	}
	return s + r[0];
}

static uint64_t sidebyside(void) {
	unsigned char *r = region(16 * PAGE);
	for (int i = 0; i < 16 * PAGE; i++) r[i] = (unsigned char)(i >> 4);
	for (int p = 1; p < 16; p += 2) protect(r + p * PAGE, PAGE, PROT_READ);
	uint64_t s = 0;
	for (int round = 0; round < 50; round++)
		for (int p = 0; p < 16; p++)
			for (int i = 0; i < PAGE; i += 128) {
				s += r[p * PAGE + i];
				if (p % 2 == 0) r[p * PAGE + i] += 3;
			}
	return s;
}

static uint64_t mix(long percent, long n) {
	unsigned char *mixed = region(HOST);
	protect(mixed + PAGE, PAGE, PROT_READ); // its host page is now mixed
	unsigned char *uniform = region(HOST);
	volatile uint64_t *m = (volatile uint64_t *)mixed, *u = (volatile uint64_t *)uniform;
	uint64_t s = 0, x = 88172645463325252ull;
	roi(1);
	for (long i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		long slot = (long)(x >> 40) & 511; // within the first 4 KiB page
		volatile uint64_t *p = (long)(x % 100) < percent ? m : u;
		p[slot] += (uint64_t)i;
		s += p[(slot + 1) & 511];
	}
	roi(2);
	return s;
}

int main(int argc, char **argv) {
	if (argc < 2) {
		fprintf(stderr, "usage: mixpages guard BYTES | roprot | wx N | sidebyside | mix PERCENT N\n");
		return 2;
	}
	const char *what = argv[1];
	uint64_t r;
	if (!strcmp(what, "guard") && argc > 2) {
		r = guard(atol(argv[2]));
	} else if (!strcmp(what, "roprot")) {
		r = roprot();
	} else if (!strcmp(what, "wx") && argc > 2) {
		r = wx(atol(argv[2]));
	} else if (!strcmp(what, "sidebyside")) {
		r = sidebyside();
	} else if (!strcmp(what, "mix") && argc > 3) {
		long pct = atol(argv[2]);
		if (pct < 0 || pct > 100) {
			fprintf(stderr, "mixpages: PERCENT must be 0..100\n");
			return 2;
		}
		r = mix(pct, atol(argv[3]));
	} else {
		fprintf(stderr, "mixpages: unknown mode %s\n", what);
		return 2;
	}
	printf("%s %llu\n", what, (unsigned long long)r);
	return 0;
}

// ubench: microbenchmarks with analytically known timing, for validating
// the cycle-level cores (their outputs are checksums, the same on every
// machine; the timing is what the simulator measures). Each runs its loop
// twice: a short warm-up (so the loop is translated and its code is in the
// caches) and the measured run, which it marks as twinsim's region of
// interest, so the simulator's ROI statistics time exactly that loop:
//   depchain N       N iterations of 64 dependent adds (1 cycle/add on a 1-wide core)
//   indep N          N iterations of 64 adds in 4 independent chains (IPC up to 4)
//   chase BYTES N    N dependent loads through a random cyclic permutation of
//                    BYTES of 128-byte nodes (lmbench lat_mem_rd style), after
//                    one warm-up pass over every node
//   branch KIND N    N conditional branches: "alternate" (T,N,T,N: global
//                    history learns it, a bimodal counter does not), "loop8"
//                    (7 taken then 1 not), "random" (unpredictable)
//   stream BYTES N   N passes summing BYTES of 8-byte words (bandwidth bound)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// twinsim's region-of-interest system call (dbt.SysROI): 1 begins the
// region, 2 ends it. Linux and qemu fail it with ENOSYS and do nothing else.
#define TWINSIM_ROI 4000
static void roi(int measure, long op) {
	if (!measure) return;
	register long a0 __asm__("a0") = op;
	register long a7 __asm__("a7") = TWINSIM_ROI;
	__asm__ volatile("ecall" : "+r"(a0) : "r"(a7) : "memory");
}

#define REP8(x) x x x x x x x x
#define REP64(x) REP8(REP8(x))

// The warm-up and the measured run must execute the same loop code.
#define KERNEL __attribute__((noinline, noclone))
#define WARM 16

static KERNEL uint64_t depchain(long n, int measure) {
	uint64_t a = 1, b = 3;
	roi(measure, 1);
	for (long i = 0; i < n; i++)
		__asm__ volatile(REP64("add %0, %0, %1\n\t") : "+r"(a) : "r"(b));
	roi(measure, 2);
	return a;
}

static KERNEL uint64_t indep(long n, int measure) {
	uint64_t a = 1, b = 2, c = 3, d = 4, k = 5;
	roi(measure, 1);
	for (long i = 0; i < n; i++)
		__asm__ volatile(REP8("add %0, %0, %4\n\tadd %1, %1, %4\n\tadd %2, %2, %4\n\tadd %3, %3, %4\n\t"
		                      "add %0, %0, %4\n\tadd %1, %1, %4\n\tadd %2, %2, %4\n\tadd %3, %3, %4\n\t")
		                 : "+r"(a), "+r"(b), "+r"(c), "+r"(d) : "r"(k));
	roi(measure, 2);
	return a ^ b ^ c ^ d;
}

struct node { struct node *next; char pad[120]; };

static KERNEL struct node *walk(struct node *p, long n, int measure) {
	roi(measure, 1);
	for (long i = 0; i < n; i++) p = p->next;
	roi(measure, 2);
	return p;
}

static uint64_t chase(size_t bytes, long n) {
	size_t count = bytes / sizeof(struct node);
	if (count < 2) count = 2;
	struct node *nodes = aligned_alloc(4096, count * sizeof(struct node));
	size_t *perm = malloc(count * sizeof *perm);
	if (!nodes || !perm) return 0;
	for (size_t i = 0; i < count; i++) perm[i] = i;
	uint64_t x = 0x9E3779B97F4A7C15ull;
	for (size_t i = count - 1; i > 0; i--) { // Fisher-Yates with xorshift
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		size_t j = x % (i + 1), t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	for (size_t i = 0; i < count; i++) nodes[perm[i]].next = &nodes[perm[(i + 1) % count]];
	struct node *p = walk(&nodes[perm[0]], count, 0); // warm-up: every node once
	p = walk(p, n, 1);
	uint64_t r = (uint64_t)(p - nodes);
	free(perm);
	free(nodes);
	return r;
}

static KERNEL uint64_t branch(const char *kind, long n, int measure) {
	uint64_t taken = 0, x = 12345;
	int k = !strcmp(kind, "alternate") ? 0 : !strcmp(kind, "loop8") ? 1 : 2;
	roi(measure, 1);
	for (long i = 0; i < n; i++) {
		int c;
		if (k == 0) c = i & 1;
		else if (k == 1) c = (i & 7) != 7;
		else { x ^= x << 13; x ^= x >> 7; x ^= x << 17; c = x & 1; }
		// The branch under test, written out so the compiler cannot turn it
		// into arithmetic.
		__asm__ volatile("beqz %1, 1f\n\taddi %0, %0, 1\n1:" : "+r"(taken) : "r"(c));
	}
	roi(measure, 2);
	return taken;
}

static KERNEL uint64_t sum(const uint64_t *a, size_t words, long n, int measure) {
	uint64_t s = 0;
	roi(measure, 1);
	for (long k = 0; k < n; k++)
		for (size_t i = 0; i < words; i++) s += a[i];
	roi(measure, 2);
	return s;
}

static uint64_t stream(size_t bytes, long n) {
	size_t words = bytes / 8;
	uint64_t *a = aligned_alloc(4096, words * 8 + 8);
	if (!a) return 0;
	for (size_t i = 0; i < words; i++) a[i] = i * 2654435761u;
	uint64_t s = sum(a, words < WARM ? words : WARM, 1, 0);
	s += sum(a, words, n, 1);
	free(a);
	return s;
}

int main(int argc, char **argv) {
	if (argc < 3) {
		fprintf(stderr, "usage: ubench depchain N | indep N | chase BYTES N | branch KIND N | stream BYTES N\n");
		return 2;
	}
	const char *what = argv[1];
	uint64_t r;
	long n = atol(argv[argc - 1]);
	if (!strcmp(what, "depchain")) r = depchain(WARM, 0) + depchain(n, 1);
	else if (!strcmp(what, "indep")) r = indep(WARM, 0) + indep(n, 1);
	else if (!strcmp(what, "chase") && argc > 3) r = chase(strtoul(argv[2], 0, 0), atol(argv[3]));
	else if (!strcmp(what, "branch") && argc > 3) r = branch(argv[2], WARM, 0) + branch(argv[2], n, 1);
	else if (!strcmp(what, "stream") && argc > 3) r = stream(strtoul(argv[2], 0, 0), atol(argv[3]));
	else {
		fprintf(stderr, "ubench: unknown benchmark %s\n", what);
		return 2;
	}
	printf("%s %llu\n", what, (unsigned long long)r);
	return 0;
}

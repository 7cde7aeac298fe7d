// ubench: microbenchmarks with analytically known timing, for validating
// the cycle-level cores (their outputs are checksums, the same on every
// machine; the timing is what the simulator measures):
//   depchain N       N iterations of 64 dependent adds (1 cycle/add on a 1-wide core)
//   indep N          N iterations of 64 adds in 4 independent chains (IPC up to 4)
//   chase BYTES N    N dependent loads through a random cyclic permutation of
//                    BYTES of 128-byte nodes (lmbench lat_mem_rd style)
//   branch KIND N    N conditional branches: "alternate" (T,N,T,N: global
//                    history learns it, a bimodal counter does not), "loop8"
//                    (7 taken then 1 not), "random" (unpredictable)
//   stream BYTES N   N passes summing BYTES of 8-byte words (bandwidth bound)
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REP8(x) x x x x x x x x
#define REP64(x) REP8(REP8(x))

static uint64_t depchain(long n) {
	uint64_t a = 1, b = 3;
	for (long i = 0; i < n; i++)
		__asm__ volatile(REP64("add %0, %0, %1\n\t") : "+r"(a) : "r"(b));
	return a;
}

static uint64_t indep(long n) {
	uint64_t a = 1, b = 2, c = 3, d = 4, k = 5;
	for (long i = 0; i < n; i++)
		__asm__ volatile(REP8("add %0, %0, %4\n\tadd %1, %1, %4\n\tadd %2, %2, %4\n\tadd %3, %3, %4\n\t"
		                      "add %0, %0, %4\n\tadd %1, %1, %4\n\tadd %2, %2, %4\n\tadd %3, %3, %4\n\t")
		                 : "+r"(a), "+r"(b), "+r"(c), "+r"(d) : "r"(k));
	return a ^ b ^ c ^ d;
}

struct node { struct node *next; char pad[120]; };

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
	struct node *p = &nodes[perm[0]];
	for (long i = 0; i < n; i++) p = p->next;
	uint64_t r = (uint64_t)(p - nodes);
	free(perm);
	free(nodes);
	return r;
}

static uint64_t branch(const char *kind, long n) {
	uint64_t taken = 0, x = 12345;
	int k = !strcmp(kind, "alternate") ? 0 : !strcmp(kind, "loop8") ? 1 : 2;
	for (long i = 0; i < n; i++) {
		int c;
		if (k == 0) c = i & 1;
		else if (k == 1) c = (i & 7) != 7;
		else { x ^= x << 13; x ^= x >> 7; x ^= x << 17; c = x & 1; }
		// The branch under test, written out so the compiler cannot turn it
		// into arithmetic.
		__asm__ volatile("beqz %1, 1f\n\taddi %0, %0, 1\n1:" : "+r"(taken) : "r"(c));
	}
	return taken;
}

static uint64_t stream(size_t bytes, long n) {
	size_t words = bytes / 8;
	uint64_t *a = aligned_alloc(4096, words * 8 + 8);
	if (!a) return 0;
	for (size_t i = 0; i < words; i++) a[i] = i * 2654435761u;
	uint64_t s = 0;
	for (long k = 0; k < n; k++)
		for (size_t i = 0; i < words; i++) s += a[i];
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
	if (!strcmp(what, "depchain")) r = depchain(atol(argv[2]));
	else if (!strcmp(what, "indep")) r = indep(atol(argv[2]));
	else if (!strcmp(what, "chase") && argc > 3) r = chase(strtoul(argv[2], 0, 0), atol(argv[3]));
	else if (!strcmp(what, "branch") && argc > 3) r = branch(argv[2], atol(argv[3]));
	else if (!strcmp(what, "stream") && argc > 3) r = stream(strtoul(argv[2], 0, 0), atol(argv[3]));
	else {
		fprintf(stderr, "ubench: unknown benchmark %s\n", what);
		return 2;
	}
	printf("%s %llu\n", what, (unsigned long long)r);
	return 0;
}

// memval: the memory-system kernels twinsim's timing is validated with,
// built both for RISC-V (run under twinsim, which times the region of
// interest each marks) and for the machine at hand (built natively with
// -DNATIVE, where each times itself and prints its result):
//   clock N          N iterations of 64 dependent adds: ns per add is the
//                    core's cycle time (one add a cycle on any core)
//   lat BYTES N      N dependent loads through a random cyclic permutation of
//                    BYTES of 64-byte nodes, after a warm-up pass (lmbench
//                    lat_mem_rd with a random walk): ns per load
//   stride BYTES STRIDE N
//                    N dependent loads along a chain of pointers STRIDE bytes
//                    apart over BYTES, in address order and back to the start
//                    (lmbench lat_mem_rd's stride walk, which a prefetcher
//                    can follow), after a warm-up pass: ns per load
//   copy BYTES N     N passes of a[i] = b[i] over two BYTES arrays of doubles
//   triad BYTES N    N passes of a[i] = b[i] + s*c[i] over three BYTES arrays
//                    (STREAM's kernels; GB/s counted as STREAM counts: bytes
//                    read plus bytes written)
//   c2c N            two threads bounce one cache line N round trips, each
//                    spinning until the other has written its turn: ns per
//                    one-way transfer (half a round trip)
//   msg K N          N round trips in which one thread writes a word in each
//                    of K lines and hands the turn over, and the other reads
//                    the K lines and hands it back: ns per round trip
// Under twinsim the output is a checksum (the same on every machine); the
// timing is the simulator's ROI statistics.
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KERNEL __attribute__((noinline, noclone))

#ifdef NATIVE
static double t0;
static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}
static void roi(int op) {
	if (op == 1)
		t0 = now();
}
static double elapsed(void) { return now() - t0; }
#else
// twinsim's region-of-interest system call (dbt.SysROI): 1 begins, 2 ends.
#define TWINSIM_ROI 4000
static void roi(long op) {
	register long a0 __asm__("a0") = op;
	register long a7 __asm__("a7") = TWINSIM_ROI;
	__asm__ volatile("ecall" : "+r"(a0) : "r"(a7) : "memory");
}
#endif

#define REP8(x) x x x x x x x x
#define REP64(x) REP8(REP8(x))

static KERNEL uint64_t clockLoop(long n) {
	uint64_t a = 1, b = 3;
	roi(1);
	for (long i = 0; i < n; i++)
#ifdef NATIVE
		__asm__ volatile(REP64("add %1, %0\n\t") : "+r"(a) : "r"(b));
#else
		__asm__ volatile(REP64("add %0, %0, %1\n\t") : "+r"(a) : "r"(b));
#endif
	roi(2);
#ifdef NATIVE
	printf("clock: one dependent add per cycle at %.3f GHz\n", 64.0 * n / elapsed());
#endif
	return a;
}

struct node {
	struct node *next;
	char pad[56];
};

static uint64_t rng = 88172645463325252ULL;
static uint64_t next(void) {
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static KERNEL struct node *walk(struct node *p, long n) {
	for (long i = 0; i < n; i += 16) {
		REP8(p = p->next;)
		REP8(p = p->next;)
	}
	return p;
}

static uint64_t lat(size_t bytes, long n) {
	size_t count = bytes / sizeof(struct node);
	struct node *nodes = aligned_alloc(4096, count * sizeof(struct node));
	size_t *order = malloc(count * sizeof(size_t));
	for (size_t i = 0; i < count; i++)
		order[i] = i;
	for (size_t i = count - 1; i > 0; i--) {
		size_t j = next() % (i + 1), t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (size_t i = 0; i < count; i++)
		nodes[order[i]].next = &nodes[order[(i + 1) % count]];
	struct node *p = walk(&nodes[order[0]], count); // warm-up: every node once
	roi(1);
	p = walk(p, n);
	roi(2);
#ifdef NATIVE
	printf("lat %zu: %.2f ns per load\n", bytes, elapsed() / n);
#endif
	return (uint64_t)(p - nodes);
}

static KERNEL void **chase(void **p, long n) {
	for (long i = 0; i < n; i += 16) {
		REP8(p = (void **)*p;)
		REP8(p = (void **)*p;)
	}
	return p;
}

static uint64_t stride(size_t bytes, size_t step, long n) {
	size_t nodes = bytes > step ? bytes / step : 1;
	char *buf = aligned_alloc(4096, (nodes * step + 4095) / 4096 * 4096);
	for (size_t i = 0; i < nodes; i++)
		*(void **)(buf + i * step) = buf + (i + 1) % nodes * step;
	void **p = chase((void **)buf, (long)nodes); // warm-up: every node once
	roi(1);
	p = chase(p, n);
	roi(2);
#ifdef NATIVE
	printf("stride %zu %zu: %.2f ns per load\n", bytes, step, elapsed() / n);
#endif
	return (uint64_t)((char *)p - buf);
}

static KERNEL double copy(double *a, const double *b, size_t words, long n) {
	for (long k = 0; k < n; k++)
		for (size_t i = 0; i < words; i++)
			a[i] = b[i];
	return a[words / 2];
}

static KERNEL double triad(double *a, const double *b, const double *c, size_t words, long n) {
	const double s = 3.0;
	for (long k = 0; k < n; k++)
		for (size_t i = 0; i < words; i++)
			a[i] = b[i] + s * c[i];
	return a[words / 3];
}

static uint64_t bw(int isTriad, size_t bytes, long n) {
	size_t words = bytes / sizeof(double);
	double *a = aligned_alloc(4096, bytes), *b = aligned_alloc(4096, bytes), *c = aligned_alloc(4096, bytes);
	for (size_t i = 0; i < words; i++)
		a[i] = 0, b[i] = (double)(i & 1023), c[i] = (double)(i & 511);
	double r = isTriad ? triad(a, b, c, words, 1) : copy(a, b, words, 1); // warm-up: page in, translate
	roi(1);
	r += isTriad ? triad(a, b, c, words, n) : copy(a, b, words, n);
	roi(2);
#ifdef NATIVE
	double moved = (isTriad ? 3.0 : 2.0) * bytes * n;
	printf("%s %zu: %.2f GB/s\n", isTriad ? "triad" : "copy", bytes, moved / elapsed());
#endif
	return (uint64_t)r;
}

// c2c: the line holds whose turn it is; each side waits for its turn and
// hands the turn over.
static _Alignas(64) _Atomic long turnWord;
static long trips;

static void *bouncer(void *arg) {
	(void)arg;
	for (long i = 0; i < trips; i++) {
		while (atomic_load_explicit(&turnWord, memory_order_acquire) != 1)
			;
		atomic_store_explicit(&turnWord, 0, memory_order_release);
	}
	return 0;
}

static uint64_t c2c(long n) {
	trips = n + 100;
	pthread_t th;
	pthread_create(&th, 0, bouncer, 0);
	for (long i = 0; i < 100; i++) { // warm-up
		atomic_store_explicit(&turnWord, 1, memory_order_release);
		while (atomic_load_explicit(&turnWord, memory_order_acquire) != 0)
			;
	}
	roi(1);
	for (long i = 0; i < n; i++) {
		atomic_store_explicit(&turnWord, 1, memory_order_release);
		while (atomic_load_explicit(&turnWord, memory_order_acquire) != 0)
			;
	}
	roi(2);
	pthread_join(th, 0);
#ifdef NATIVE
	printf("c2c: %.1f ns per one-way transfer\n", elapsed() / (2.0 * n));
#endif
	return (uint64_t)n;
}

// msg: the turn word as in c2c, and a message of up to 64 lines.
static _Alignas(64) long msgBuf[64 * 8];
static long msgLines, msgSink;

static void *consumer(void *arg) {
	(void)arg;
	for (long i = 0; i < trips; i++) {
		while (atomic_load_explicit(&turnWord, memory_order_acquire) != 1)
			;
		long s = 0;
		for (long k = 0; k < msgLines; k++)
			s += ((volatile long *)msgBuf)[k * 8];
		msgSink += s;
		atomic_store_explicit(&turnWord, 0, memory_order_release);
	}
	return 0;
}

static void send(long v) {
	for (long k = 0; k < msgLines; k++)
		((volatile long *)msgBuf)[k * 8] = v + k;
	atomic_store_explicit(&turnWord, 1, memory_order_release);
	while (atomic_load_explicit(&turnWord, memory_order_acquire) != 0)
		;
}

static uint64_t msg(long lines, long n) {
	msgLines = lines;
	trips = n + 100;
	pthread_t th;
	pthread_create(&th, 0, consumer, 0);
	for (long i = 0; i < 100; i++) // warm-up
		send(i);
	roi(1);
	for (long i = 0; i < n; i++)
		send(i);
	roi(2);
	pthread_join(th, 0);
#ifdef NATIVE
	printf("msg %ld: %.1f ns per round trip\n", lines, elapsed() / n);
#endif
	return (uint64_t)msgSink;
}

int main(int argc, char **argv) {
	uint64_t r = 0;
	if (argc > 2 && !strcmp(argv[1], "clock"))
		r = clockLoop(atol(argv[2]));
	else if (argc > 3 && !strcmp(argv[1], "lat"))
		r = lat(strtoul(argv[2], 0, 0), atol(argv[3]));
	else if (argc > 4 && !strcmp(argv[1], "stride") && strtoul(argv[3], 0, 0) >= sizeof(void *) &&
		 strtoul(argv[3], 0, 0) % sizeof(void *) == 0)
		r = stride(strtoul(argv[2], 0, 0), strtoul(argv[3], 0, 0), atol(argv[4]));
	else if (argc > 3 && !strcmp(argv[1], "copy"))
		r = bw(0, strtoul(argv[2], 0, 0), atol(argv[3]));
	else if (argc > 3 && !strcmp(argv[1], "triad"))
		r = bw(1, strtoul(argv[2], 0, 0), atol(argv[3]));
	else if (argc > 2 && !strcmp(argv[1], "c2c"))
		r = c2c(atol(argv[2]));
	else if (argc > 3 && !strcmp(argv[1], "msg") && atol(argv[2]) >= 0 && atol(argv[2]) <= 64)
		r = msg(atol(argv[2]), atol(argv[3]));
	else {
		fprintf(stderr, "usage: memval clock N | lat BYTES N | stride BYTES STRIDE N | copy BYTES N | triad BYTES N | c2c N | msg K N\n");
		return 2;
	}
	printf("%s %llu\n", argv[1], (unsigned long long)r);
	return 0;
}

// qsort: sorts 200,000 pseudo-random 64-bit keys with a hand-written
// quicksort and with libc qsort, checks both, prints a checksum.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void quicksort(int64_t *a, long lo, long hi) {
	while (lo < hi) {
		int64_t p = a[lo + (hi - lo) / 2];
		long i = lo, j = hi;
		while (i <= j) {
			while (a[i] < p) i++;
			while (a[j] > p) j--;
			if (i <= j) {
				int64_t t = a[i]; a[i] = a[j]; a[j] = t;
				i++; j--;
			}
		}
		if (j - lo < hi - i) { quicksort(a, lo, j); lo = i; }
		else { quicksort(a, i, hi); hi = j; }
	}
}

static int cmp(const void *x, const void *y) {
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
	return (a > b) - (a < b);
}

int main(void) {
	const long n = 200000;
	int64_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
	if (!a || !b) return 1;
	uint64_t x = 88172645463325252ull;
	for (long i = 0; i < n; i++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		a[i] = (int64_t)(x % 1000000007ull) - 500000000;
	}
	memcpy(b, a, n * sizeof *a);
	quicksort(a, 0, n - 1);
	qsort(b, n, sizeof *b, cmp);
	uint64_t sum = 0;
	for (long i = 0; i < n; i++) {
		if (a[i] != b[i] || (i && a[i - 1] > a[i])) {
			printf("mismatch at %ld\n", i);
			return 1;
		}
		sum = sum * 1099511628211ull + (uint64_t)a[i];
	}
	printf("sorted %ld keys: min %lld median %lld max %lld checksum %016llx\n", n,
	       (long long)a[0], (long long)a[n / 2], (long long)a[n - 1], (unsigned long long)sum);
	return 0;
}

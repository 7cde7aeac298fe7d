// sieve: primes below 2,000,000 by the sieve of Eratosthenes; prints the
// count and a checksum of the primes.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 2000000;
	if (n < 2) {
		fprintf(stderr, "sieve: limit must be at least 2\n");
		return 2;
	}
	unsigned char *composite = calloc(n, 1);
	if (!composite) return 1;
	long count = 0;
	unsigned long sum = 0;
	for (long i = 2; i < n; i++) {
		if (composite[i]) continue;
		count++;
		sum = sum * 31 + (unsigned long)i;
		for (long j = i * i; j < n; j += i) composite[j] = 1;
	}
	printf("primes below %ld: %ld (checksum %016lx)\n", n, count, sum);
	free(composite);
	return 0;
}

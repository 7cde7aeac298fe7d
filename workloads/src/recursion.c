// recursion: Ackermann, naive Fibonacci, the Tower of Hanoi and a
// recursive permutation count — deep call chains and many returns.
#include <stdio.h>
#include <stdlib.h>

static long ack(long m, long n) {
	if (m == 0) return n + 1;
	if (n == 0) return ack(m - 1, 1);
	return ack(m - 1, ack(m, n - 1));
}

static long fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

static long hanoi(int n, int from, int to, int via) {
	if (n == 0) return 0;
	return hanoi(n - 1, from, via, to) + 1 + hanoi(n - 1, via, to, from);
}

static long queens(int n, int row, unsigned cols, unsigned d1, unsigned d2) {
	if (row == n) return 1;
	long c = 0;
	for (int col = 0; col < n; col++) {
		unsigned a = 1u << col, b = 1u << (row + col), e = 1u << (row - col + n);
		if (cols & a || d1 & b || d2 & e) continue;
		c += queens(n, row + 1, cols | a, d1 | b, d2 | e);
	}
	return c;
}

int main(void) {
	printf("ack(2, 300) = %ld\n", ack(2, 300));
	printf("ack(3, 6) = %ld\n", ack(3, 6));
	printf("fib(27) = %ld\n", fib(27));
	printf("hanoi(18) moves = %ld\n", hanoi(18, 1, 3, 2));
	printf("queens(9) = %ld\n", queens(9, 0, 0, 0, 0));
	return 0;
}

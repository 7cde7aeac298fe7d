// matmul: C = A × B for 160×160 doubles, naive and blocked; prints the
// trace and a checksum, which the two must share.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define N 160

static double A[N][N], B[N][N], C[N][N], D[N][N];

int main(void) {
	for (int i = 0; i < N; i++)
		for (int j = 0; j < N; j++) {
			A[i][j] = (double)((i * 7 + j * 3) % 17) / 8.0 - 1.0;
			B[i][j] = (double)((i * 5 + j * 11) % 13) / 4.0 + 0.25;
		}
	for (int i = 0; i < N; i++)
		for (int j = 0; j < N; j++) {
			double s = 0;
			for (int k = 0; k < N; k++) s += A[i][k] * B[k][j];
			C[i][j] = s;
		}
	const int bs = 32;
	for (int ii = 0; ii < N; ii += bs)
		for (int kk = 0; kk < N; kk += bs)
			for (int jj = 0; jj < N; jj += bs)
				for (int i = ii; i < ii + bs; i++)
					for (int k = kk; k < kk + bs; k++) {
						double a = A[i][k];
						for (int j = jj; j < jj + bs; j++) D[i][j] += a * B[k][j];
					}
	double trace = 0, sum = 0, maxdiff = 0;
	for (int i = 0; i < N; i++) {
		trace += C[i][i];
		for (int j = 0; j < N; j++) {
			sum += C[i][j] * (double)(i + 1) / (double)(j + 1);
			maxdiff = fmax(maxdiff, fabs(C[i][j] - D[i][j]));
		}
	}
	printf("trace %.6f checksum %.6e max |naive-blocked| %.3e\n", trace, sum, maxdiff);
	printf("sqrt(trace^2) %.9f\n", sqrt(trace * trace));
	return maxdiff < 1e-9 ? 0 : 1;
}

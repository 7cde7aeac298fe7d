// printf: formatting of integers and floating point through libc, plus
// strtod/strtol round trips.
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
	long long ints[] = {0, 1, -1, 42, -42, 1000000007, INT_MIN, INT_MAX, LLONG_MIN, LLONG_MAX};
	for (size_t i = 0; i < sizeof ints / sizeof *ints; i++)
		printf("[%lld] [%20lld] [%-8lld|] [%+lld] [%llx] [%llo] [%#llX]\n", ints[i], ints[i], ints[i], ints[i],
		       (unsigned long long)ints[i], (unsigned long long)ints[i], (unsigned long long)ints[i]);
	double ds[] = {0.0, -0.0, 1.0, -1.5, 3.141592653589793, 1e-300, 6.02214076e23, DBL_MAX, DBL_MIN, 5e-324,
	               1.0 / 3.0, 123456789.123456789, INFINITY, -INFINITY, NAN};
	for (size_t i = 0; i < sizeof ds / sizeof *ds; i++)
		printf("%g | %.17g | %e | %.3f | %a\n", ds[i], ds[i], ds[i], ds[i], ds[i]);
	float f = 0.1f;
	printf("float %.9g %f\n", (double)f, (double)(f * 3));
	char buf[64];
	double sum = 0;
	for (int i = 1; i <= 2000; i++) {
		double v = sqrt((double)i) * (i % 2 ? 1 : -1) / 7.0;
		snprintf(buf, sizeof buf, "%.17g", v);
		double back = strtod(buf, 0);
		if (back != v) { printf("round trip failed for %s\n", buf); return 1; }
		sum += back;
	}
	printf("round trips ok, sum %.15g\n", sum);
	printf("strtol %ld %ld %lu\n", strtol("-0x7fffffff", 0, 16), strtol("0777", 0, 0), strtoul("18446744073709551615", 0, 10));
	printf("%s|%10s|%-10s|%.3s|%c%c\n", "abc", "right", "left", "truncate", 'o', 'k');
	return 0;
}

// crc32: the IEEE CRC-32 of 4 MiB of pseudo-random bytes, table-driven and
// bitwise, which must agree.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint32_t table[256];

static void make_table(void) {
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++) c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		table[i] = c;
	}
}

static uint32_t crc_table(const uint8_t *p, size_t n) {
	uint32_t c = 0xFFFFFFFFu;
	for (size_t i = 0; i < n; i++) c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
	return c ^ 0xFFFFFFFFu;
}

static uint32_t crc_bitwise(const uint8_t *p, size_t n) {
	uint32_t c = 0xFFFFFFFFu;
	for (size_t i = 0; i < n; i++) {
		c ^= p[i];
		for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & -(c & 1));
	}
	return c ^ 0xFFFFFFFFu;
}

int main(void) {
	const size_t n = 4 << 20;
	uint8_t *buf = malloc(n);
	if (!buf) return 1;
	uint64_t x = 0x9E3779B97F4A7C15ull;
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		buf[i] = (uint8_t)x;
	}
	make_table();
	uint32_t a = crc_table(buf, n), b = crc_bitwise(buf, n / 8);
	printf("crc32(4 MiB) = %08x\n", a);
	printf("crc32(first 512 KiB, bitwise) = %08x, table = %08x\n", b, crc_table(buf, n / 8));
	printf("crc32(\"123456789\") = %08x\n", crc_table((const uint8_t *)"123456789", 9));
	free(buf);
	return a == 0 ? 1 : 0;
}

// malloc: a heap workout — a pseudo-random mix of malloc, realloc and free
// of sizes from 1 byte to 256 KiB (large ones go to mmap), with contents
// checked, then a linked list built and torn down.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 4096

struct node { struct node *next; long v; char pad[40]; };

int main(void) {
	static unsigned char *slot[SLOTS];
	static size_t len[SLOTS];
	uint64_t x = 12345;
	unsigned long ops = 0, bytes = 0;
	for (int round = 0; round < 200000; round++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		int i = (int)(x % SLOTS);
		size_t sz = (x >> 20) % 100 == 0 ? (x >> 32) % (256 << 10) + 1 : (x >> 32) % 512 + 1;
		if (slot[i]) {
			for (size_t k = 0; k < len[i]; k += 97)
				if (slot[i][k] != (unsigned char)(i + k)) { printf("corrupt slot %d\n", i); return 1; }
			if ((x >> 8) & 1) {
				free(slot[i]); slot[i] = 0; len[i] = 0;
				continue;
			}
			unsigned char *p = realloc(slot[i], sz);
			if (!p) return 1;
			slot[i] = p;
		} else {
			slot[i] = malloc(sz);
			if (!slot[i]) return 1;
		}
		len[i] = sz;
		for (size_t k = 0; k < sz; k += 97) slot[i][k] = (unsigned char)(i + k);
		ops++;
		bytes += sz;
	}
	for (int i = 0; i < SLOTS; i++) free(slot[i]);
	struct node *head = 0;
	for (long i = 0; i < 100000; i++) {
		struct node *n = malloc(sizeof *n);
		if (!n) return 1;
		n->v = i * i % 1000003;
		n->next = head;
		head = n;
	}
	long sum = 0;
	while (head) {
		struct node *n = head->next;
		sum += head->v;
		free(head);
		head = n;
	}
	printf("allocations %lu, bytes %lu, list sum %ld\n", ops, bytes, sum);
	return 0;
}

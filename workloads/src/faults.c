// faults: makes the guest fault in the way its first argument names, so
// that a translator's fault delivery can be compared with Linux's:
//   null     load from address 16           -> SIGSEGV
//   text     store into the program's code  -> SIGSEGV
//   illegal  execute an illegal instruction -> SIGILL
//   ebreak   execute ebreak                 -> SIGTRAP
//   exit N   exit with status N
// Each prints a line first, flushed, so the output before the fault counts.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
	const char *what = argc > 1 ? argv[1] : "";
	printf("faults: %s\n", what);
	fflush(stdout);
	if (!strcmp(what, "null")) return *(volatile int *)16;
	if (!strcmp(what, "text")) { *(volatile int *)(void *)main = 0; return 1; }
	if (!strcmp(what, "illegal")) { __asm__ volatile(".word 0"); return 1; }
	if (!strcmp(what, "ebreak")) { __asm__ volatile("ebreak"); return 1; }
	if (!strcmp(what, "exit") && argc > 2) return atoi(argv[2]);
	fprintf(stderr, "usage: faults null|text|illegal|ebreak|exit N\n");
	return 2;
}

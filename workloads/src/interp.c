// interp: a bytecode interpreter loop (a small stack machine with a
// switch dispatch) running a program that sums, branches and calls.
#include <stdint.h>
#include <stdio.h>

enum { PUSH, ADD, SUB, MUL, MOD, DUP, SWAP, DROP, JNZ, JMP, LOAD, STORE, LT, HALT, PRINT };

static int64_t run(const int64_t *code, int64_t *mem) {
	int64_t stack[64];
	int sp = 0;
	long pc = 0, steps = 0;
	for (;;) {
		steps++;
		int64_t a, b;
		switch (code[pc++]) {
		case PUSH: stack[sp++] = code[pc++]; break;
		case ADD: b = stack[--sp]; a = stack[--sp]; stack[sp++] = a + b; break;
		case SUB: b = stack[--sp]; a = stack[--sp]; stack[sp++] = a - b; break;
		case MUL: b = stack[--sp]; a = stack[--sp]; stack[sp++] = a * b; break;
		case MOD: b = stack[--sp]; a = stack[--sp]; stack[sp++] = a % b; break;
		case DUP: a = stack[sp - 1]; stack[sp++] = a; break;
		case SWAP: a = stack[sp - 1]; stack[sp - 1] = stack[sp - 2]; stack[sp - 2] = a; break;
		case DROP: sp--; break;
		case JNZ: a = stack[--sp]; if (a) pc = code[pc]; else pc++; break;
		case JMP: pc = code[pc]; break;
		case LOAD: stack[sp++] = mem[code[pc++]]; break;
		case STORE: mem[code[pc++]] = stack[--sp]; break;
		case LT: b = stack[--sp]; a = stack[--sp]; stack[sp++] = a < b; break;
		case PRINT: printf("vm: %lld\n", (long long)stack[--sp]); break;
		case HALT: return steps;
		}
	}
}

int main(void) {
	// mem[0] = i, mem[1] = acc; for i in 0..N: acc = (acc * 31 + i * i) % 1000000007
	const int64_t N = 1500000;
	const int64_t prog[] = {
		/*  0 */ PUSH, 0, STORE, 0, PUSH, 7, STORE, 1,
		/*  8 */ LOAD, 0, PUSH, N, LT, JNZ, 17, JMP, 41,
		/* 17 */ LOAD, 1, PUSH, 31, MUL, LOAD, 0, DUP, MUL, ADD, PUSH, 1000000007, MOD, STORE, 1,
		/* 32 */ LOAD, 0, PUSH, 1, ADD, STORE, 0, JMP, 8,
		/* 41 */ LOAD, 1, PRINT, HALT,
	};
	int64_t mem[4] = {0};
	int64_t steps = run(prog, mem);
	printf("steps %lld acc %lld\n", (long long)steps, (long long)mem[1]);
	return 0;
}

// kvserver: a UDP key-value store, one request per datagram, a hash table
// in the heap. Its loop waits in poll(2) and reads with recvfrom(2) and
// MSG_DONTWAIT, and answers with sendto(2).
//
// Request (integers little-endian):
//   u32 id, u8 op (1 GET, 2 PUT, 3 DEL, 4 STATS), u8 key_len (1..64),
//   u16 value_len (PUT: 0..1024, else 0), key bytes, value bytes.
// Response:
//   u32 id (echoed), u8 status (0 OK, 1 NOT_FOUND, 2 BAD_REQUEST, 3 FULL),
//   u8 0, u16 value_len, value bytes (GET: the value; STATS: counters).
// A datagram that is not a well-formed request is answered BAD_REQUEST
// (with id 0 if it is too short to carry one).
//
// Usage: kvserver [-b BUGS] PORT [REQUESTS]: serve until REQUESTS requests
// have been answered (0 or absent: for ever), then print the counters and a
// digest of the store (independent of insertion order) and exit.
//
// -b switches on input-triggered bugs, a comma-separated list, for the
// application-failure experiments (off by default, when the server has
// none of them):
//   overflow  a PUT copies its key into a 24-byte heap buffer, so a key
//             longer than 24 bytes overwrites the heap block after it —
//             a note the PUT then uses: a crash (SIGSEGV or SIGABRT);
//   null      a GET of a 13-byte key beginning with '!' that is not
//             stored dereferences NULL (SIGSEGV);
//   leak      a PUT of a value of exactly 777 bytes leaks a 64 KiB undo
//             buffer, so a run of them exhausts the memory.
// The per-request buffers come from kv_alloc, a region allocator (its
// blocks one after another in a region emptied after each request, as
// Apache's pools are) that pads every block with twinsim_alloc_pad bytes
// (0 here): a recovery that restarts the server with a padded allocator
// sets that word in the restored image, so that an overflow lands in the
// padding, as Rx's allocator does.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { GET = 1, PUT = 2, DEL = 3, STATS = 4 };
enum { OK = 0, NOT_FOUND = 1, BAD_REQUEST = 2, FULL = 3 };
enum { MAX_KEY = 64, MAX_VALUE = 1024, BUCKETS = 4096, MAX_ENTRIES = 65536 };

struct entry {
	struct entry *next;
	uint8_t key_len;
	uint16_t value_len;
	uint8_t key[MAX_KEY];
	uint8_t *value;
};

static struct entry *table[BUCKETS];
static long entries, gets, puts_, dels, bad, hits;

// The bugs switched on by -b.
static int bug_overflow, bug_null, bug_leak;

// twinsim_alloc_pad is the padding kv_alloc adds after every block: the
// allocator's mode, which a recovery may change in the restored image.
volatile unsigned long twinsim_alloc_pad;

static uint8_t region[1 << 16];
static size_t region_used;

static void *kv_alloc(size_t n) {
	size_t at = region_used;
	region_used = (at + n + twinsim_alloc_pad + 7) & ~(size_t)7;
	if (region_used > sizeof region) abort();
	return region + at;
}

static void kv_reset(void) { region_used = 0; }

// A note on a PUT, allocated after the key's copy.
struct note {
	long *volatile counter;
	long bytes;
};

static uint64_t fnv(const uint8_t *p, size_t n, uint64_t h) {
	for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ULL;
	return h;
}

static struct entry **find(const uint8_t *key, uint8_t len) {
	struct entry **e = &table[fnv(key, len, 0xcbf29ce484222325ULL) % BUCKETS];
	while (*e && ((*e)->key_len != len || memcmp((*e)->key, key, len) != 0)) e = &(*e)->next;
	return e;
}

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

// handle answers request req of n bytes into resp and returns the
// response's length.
static size_t handle(const uint8_t *req, size_t n, uint8_t *resp) {
	memset(resp, 0, 8);
	if (n < 4) {
		bad++;
		resp[4] = BAD_REQUEST;
		return 8;
	}
	memcpy(resp, req, 4);
	uint8_t op = n > 4 ? req[4] : 0, klen = n > 5 ? req[5] : 0;
	uint16_t vlen = n >= 8 ? le16(req + 6) : 0;
	const uint8_t *key = req + 8, *val = req + 8 + klen;
	if (n < 8 || klen == 0 || klen > MAX_KEY || vlen > MAX_VALUE || n != (size_t)8 + klen + vlen ||
	    (op != PUT && vlen != 0) || op < GET || op > STATS) {
		bad++;
		resp[4] = BAD_REQUEST;
		return 8;
	}
	struct entry **e = find(key, klen);
	size_t out = 8;
	switch (op) {
	case GET:
		gets++;
		if (!*e && bug_null && klen == 13 && key[0] == '!') {
			// The bug: this path forgets the entry may be missing.
			struct entry *none = *e;
			resp[6] = none->value_len & 255;
		}
		if (!*e) {
			resp[4] = NOT_FOUND;
			break;
		}
		hits++;
		memcpy(resp + 8, (*e)->value, (*e)->value_len);
		resp[6] = (*e)->value_len & 255, resp[7] = (*e)->value_len >> 8;
		out += (*e)->value_len;
		break;
	case PUT:
		puts_++;
		if (bug_overflow) {
			// The bug: the key's copy holds 24 bytes, and the note after it
			// is overwritten by a longer key.
			volatile uint8_t *copy = kv_alloc(24);
			struct note *note = kv_alloc(sizeof *note);
			note->counter = &puts_, note->bytes = vlen;
			for (int i = 0; i < klen; i++) copy[i] = key[i];
			long *counter = note->counter;
			*counter += 1, puts_--;
			kv_reset();
		}
		if (bug_leak && vlen == 777) {
			// The bug: the undo buffer of such a PUT is never freed.
			uint8_t *undo = malloc(65536);
			if (!undo) abort();
			memset(undo, 1, 65536);
		}
		if (!*e) {
			if (entries >= MAX_ENTRIES) {
				resp[4] = FULL;
				break;
			}
			*e = calloc(1, sizeof **e);
			(*e)->key_len = klen;
			memcpy((*e)->key, key, klen);
			entries++;
		}
		free((*e)->value);
		(*e)->value = malloc(vlen ? vlen : 1);
		memcpy((*e)->value, val, vlen);
		(*e)->value_len = vlen;
		break;
	case DEL:
		dels++;
		if (!*e) {
			resp[4] = NOT_FOUND;
			break;
		}
		struct entry *gone = *e;
		*e = gone->next;
		free(gone->value);
		free(gone);
		entries--;
		break;
	case STATS: {
		int len = snprintf((char *)resp + 8, MAX_VALUE, "entries %ld gets %ld puts %ld dels %ld bad %ld", entries, gets,
		                   puts_, dels, bad);
		resp[6] = len & 255, resp[7] = len >> 8;
		out += len;
		break;
	}
	}
	return out;
}

static uint64_t digest(void) {
	uint64_t d = 0;
	for (int b = 0; b < BUCKETS; b++)
		for (struct entry *e = table[b]; e; e = e->next)
			d += fnv(e->value, e->value_len, fnv(e->key, e->key_len, 0xcbf29ce484222325ULL));
	return d;
}

int main(int argc, char **argv) {
	if (argc > 2 && strcmp(argv[1], "-b") == 0) {
		for (char *b = strtok(argv[2], ","); b; b = strtok(NULL, ",")) {
			if (strcmp(b, "overflow") == 0) bug_overflow = 1;
			else if (strcmp(b, "null") == 0) bug_null = 1;
			else if (strcmp(b, "leak") == 0) bug_leak = 1;
			else {
				fprintf(stderr, "kvserver: unknown bug %s (overflow, null, leak)\n", b);
				return 2;
			}
		}
		argc -= 2, argv += 2;
	}
	if (argc < 2) {
		fprintf(stderr, "usage: kvserver [-b BUGS] PORT [REQUESTS]\n");
		return 2;
	}
	long limit = argc > 2 ? atol(argv[2]) : 0;
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	if (s < 0) {
		perror("kvserver: socket");
		return 1;
	}
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1])), .sin_addr.s_addr = htonl(INADDR_ANY)};
	if (bind(s, (struct sockaddr *)&addr, sizeof addr) < 0) {
		perror("kvserver: bind");
		return 1;
	}
	static uint8_t req[2048], resp[8 + MAX_VALUE];
	long served = 0;
	while (limit == 0 || served < limit) {
		struct pollfd p = {.fd = s, .events = POLLIN};
		if (poll(&p, 1, -1) < 0) {
			perror("kvserver: poll");
			return 1;
		}
		struct sockaddr_in from;
		socklen_t flen = sizeof from;
		ssize_t n = recvfrom(s, req, sizeof req, MSG_DONTWAIT, (struct sockaddr *)&from, &flen);
		if (n < 0) continue;
		size_t out = handle(req, (size_t)n, resp);
		if (sendto(s, resp, out, 0, (struct sockaddr *)&from, flen) < 0) perror("kvserver: sendto");
		served++;
	}
	printf("kvserver: %ld requests: %ld get (%ld found), %ld put, %ld del, %ld bad; %ld keys, digest %016llx\n", served,
	       gets, hits, puts_, dels, bad, entries, (unsigned long long)digest());
	close(s);
	return 0;
}

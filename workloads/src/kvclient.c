// kvclient: a request generator for kvserver. It sends REQUESTS requests,
// one at a time, a mix of 50% GET, 40% PUT and 10% DEL over 256 keys
// with values of 1 to 512 bytes (from a xorshift generator seeded by
// SEED), with sendmsg(2); it waits for each response with epoll (a
// request unanswered within 200 ms is sent again, up to 5 times) and reads
// it with recvmsg(2). Every response is checked against the client's own
// record of the store.
//
// Usage: kvclient SERVER_IP PORT REQUESTS [SEED]. Prints the counts, the
// mismatches and a digest of the responses; exits 0 when every response
// was as expected, 1 otherwise.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

enum { KEYS = 256, MAX_VALUE = 1024 };

static uint64_t state;
static uint64_t next(void) {
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

static uint8_t model[KEYS][512];
static int model_len[KEYS]; // -1: absent

int main(int argc, char **argv) {
	if (argc < 4) {
		fprintf(stderr, "usage: kvclient SERVER_IP PORT REQUESTS [SEED]\n");
		return 2;
	}
	long total = atol(argv[3]);
	state = argc > 4 ? strtoull(argv[4], 0, 10) * 2654435761u + 1 : 88172645463325252ULL;
	struct sockaddr_in srv = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
	if (inet_pton(AF_INET, argv[1], &srv.sin_addr) != 1) {
		fprintf(stderr, "kvclient: bad address %s\n", argv[1]);
		return 2;
	}
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = s};
	if (s < 0 || ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev) < 0) {
		perror("kvclient: socket");
		return 1;
	}
	for (int k = 0; k < KEYS; k++) model_len[k] = -1;
	long counts[4] = {0}, mismatches = 0, retries = 0, lost = 0;
	uint64_t digest = 0;
	static uint8_t req[8 + 16 + MAX_VALUE], resp[2048];
	for (long i = 1; i <= total; i++) {
		uint64_t r = next();
		int k = (int)(r % KEYS), pick = (int)((r >> 32) % 10);
		int op = pick < 5 ? 1 : pick < 9 ? 2 : 3;
		char key[16];
		int klen = snprintf(key, sizeof key, "key%03d", k);
		int vlen = op == 2 ? 1 + (int)(next() % 512) : 0;
		uint32_t id = (uint32_t)i;
		memcpy(req, &id, 4);
		req[4] = (uint8_t)op, req[5] = (uint8_t)klen, req[6] = vlen & 255, req[7] = vlen >> 8;
		memcpy(req + 8, key, klen);
		for (int j = 0; j < vlen; j++) req[8 + klen + j] = (uint8_t)(next() >> 24);
		struct iovec iov = {req, (size_t)(8 + klen + vlen)};
		struct msghdr mh = {.msg_name = &srv, .msg_namelen = sizeof srv, .msg_iov = &iov, .msg_iovlen = 1};
		ssize_t n = -1;
		for (int attempt = 0; attempt <= 5 && n < 0; attempt++) {
			if (attempt > 0) retries++;
			if (sendmsg(s, &mh, 0) < 0) {
				perror("kvclient: sendmsg");
				return 1;
			}
			struct epoll_event got;
			while (epoll_wait(ep, &got, 1, 200) == 1) {
				struct iovec riov = {resp, sizeof resp};
				struct msghdr rh = {.msg_iov = &riov, .msg_iovlen = 1};
				n = recvmsg(s, &rh, MSG_DONTWAIT);
				uint32_t rid;
				if (n >= 8 && (memcpy(&rid, resp, 4), rid == id)) break;
				n = -1; // a late answer to an earlier try
			}
		}
		if (n < 0) {
			lost++;
			continue;
		}
		counts[op]++;
		int status = resp[4], rlen = resp[6] | resp[7] << 8;
		int ok;
		switch (op) {
		case 1:
			ok = model_len[k] < 0 ? status == 1 && rlen == 0
			                      : status == 0 && rlen == model_len[k] && n == 8 + rlen && memcmp(resp + 8, model[k], rlen) == 0;
			break;
		case 2:
			ok = status == 0;
			memcpy(model[k], req + 8 + klen, vlen);
			model_len[k] = vlen;
			break;
		default:
			ok = status == (model_len[k] < 0 ? 1 : 0);
			model_len[k] = -1;
			break;
		}
		if (!ok) mismatches++;
		for (ssize_t j = 0; j < n; j++) digest = (digest ^ resp[j]) * 0x100000001b3ULL;
	}
	printf("kvclient: %ld requests: %ld get, %ld put, %ld del; %ld retries, %ld lost, %ld mismatches; digest %016llx\n",
	       total, counts[1], counts[2], counts[3], retries, lost, mismatches, (unsigned long long)digest);
	close(ep);
	close(s);
	return mismatches || lost ? 1 : 0;
}

// threads: multithreaded kernels whose results do not depend on how the
// threads interleave, so that any correct machine prints the same thing —
// provided its futexes, atomics and LR/SC are right.
//
//   threads queue T N      T workers take N jobs from a mutex/condvar queue
//   threads reduce T N     T threads sum disjoint slices; atomic adds and a barrier
//   threads pingpong R     two threads hand a token back and forth R times
//   threads lrsc T N       T threads each add 1 to a counter N times with LR/SC
//   threads misc           TLS, detached threads, timed waits that time out,
//                          gettid, pthread_kill(t, 0), a semaphore, a rwlock
//   threads sync T         T threads through rounds of a barrier, a spin lock,
//                          a rwlock and atomic adds; pthread_once, keys with
//                          destructors, pthread_exit's value, small stacks,
//                          sched_yield, nanosleep, an affinity mask
//   threads deadlock       a thread waits on a condition nobody signals and
//                          main joins it: waits for ever (not a test case)
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAXT 16

static uint64_t mix(uint64_t x) {
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

// --- queue: a bounded work queue, mutex + two condition variables.
#define QCAP 8
static struct {
	pthread_mutex_t mu;
	pthread_cond_t notEmpty, notFull;
	long items[QCAP];
	int head, len, closed;
} q = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER};

static void qput(long v) {
	pthread_mutex_lock(&q.mu);
	while (q.len == QCAP)
		pthread_cond_wait(&q.notFull, &q.mu);
	q.items[(q.head + q.len++) % QCAP] = v;
	pthread_cond_signal(&q.notEmpty);
	pthread_mutex_unlock(&q.mu);
}

static int qget(long *v) {
	pthread_mutex_lock(&q.mu);
	while (q.len == 0 && !q.closed)
		pthread_cond_wait(&q.notEmpty, &q.mu);
	if (q.len == 0) {
		pthread_mutex_unlock(&q.mu);
		return 0;
	}
	*v = q.items[q.head];
	q.head = (q.head + 1) % QCAP;
	q.len--;
	pthread_cond_signal(&q.notFull);
	pthread_mutex_unlock(&q.mu);
	return 1;
}

struct worker {
	uint64_t sum;
	long done;
};

static void *queueWorker(void *arg) {
	struct worker *w = arg;
	long v;
	while (qget(&v)) {
		uint64_t h = v;
		for (int i = 0; i < 200; i++)
			h = mix(h);
		w->sum += h;
		w->done++;
	}
	return 0;
}

static int queue(int t, long n) {
	pthread_t th[MAXT];
	struct worker w[MAXT];
	memset(w, 0, sizeof w);
	for (int i = 0; i < t; i++)
		pthread_create(&th[i], 0, queueWorker, &w[i]);
	for (long i = 0; i < n; i++)
		qput(i);
	pthread_mutex_lock(&q.mu);
	q.closed = 1;
	pthread_cond_broadcast(&q.notEmpty);
	pthread_mutex_unlock(&q.mu);
	uint64_t sum = 0;
	long done = 0;
	for (int i = 0; i < t; i++) {
		pthread_join(th[i], 0);
		sum += w[i].sum;
		done += w[i].done;
	}
	printf("queue: %ld jobs done, checksum %016llx\n", done, (unsigned long long)sum);
	return done == n ? 0 : 1;
}

// --- reduce: slices summed in parallel, combined with atomic adds after a
// barrier; every thread checks the total.
static pthread_barrier_t bar;
static _Atomic uint64_t total;
static uint64_t *data;
static long dataN;
static int nthreads;
static int agree[MAXT];

static void *reducer(void *arg) {
	long id = (long)arg;
	long lo = dataN * id / nthreads, hi = dataN * (id + 1) / nthreads;
	uint64_t s = 0;
	for (long i = lo; i < hi; i++)
		s += data[i];
	atomic_fetch_add(&total, s);
	pthread_barrier_wait(&bar);
	uint64_t check = 0;
	for (long i = 0; i < dataN; i++)
		check += data[i];
	agree[id] = atomic_load(&total) == check;
	return 0;
}

static int reduce(int t, long n) {
	nthreads = t;
	dataN = n;
	data = malloc(n * sizeof *data);
	for (long i = 0; i < n; i++)
		data[i] = mix(i);
	pthread_barrier_init(&bar, 0, t);
	pthread_t th[MAXT];
	for (long i = 1; i < t; i++)
		pthread_create(&th[i], 0, reducer, (void *)i);
	reducer(0);
	int ok = agree[0];
	for (int i = 1; i < t; i++) {
		pthread_join(th[i], 0);
		ok &= agree[i];
	}
	printf("reduce: %ld values, total %016llx, threads agree: %s\n", n, (unsigned long long)atomic_load(&total), ok ? "yes" : "no");
	return ok ? 0 : 1;
}

// --- pingpong: a token passed between two threads through a mutex and a
// condition variable; each pass is logged in order.
static pthread_mutex_t pmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pcv = PTHREAD_COND_INITIALIZER;
static int turn;
static long rounds;
static uint64_t trail;

static void *ponger(void *arg) {
	long me = (long)arg;
	for (long r = 0; r < rounds; r++) {
		pthread_mutex_lock(&pmu);
		while (turn != me)
			pthread_cond_wait(&pcv, &pmu);
		trail = mix(trail + me);
		turn = 1 - me;
		pthread_cond_broadcast(&pcv);
		pthread_mutex_unlock(&pmu);
	}
	return 0;
}

static int pingpong(long r) {
	rounds = r;
	pthread_t th;
	pthread_create(&th, 0, ponger, (void *)1);
	ponger(0);
	pthread_join(th, 0);
	printf("pingpong: %ld rounds, trail %016llx\n", r, (unsigned long long)trail);
	return 0;
}

// --- lrsc: a counter incremented with an explicit LR/SC loop.
static uint64_t counter;
static long perThread;

static void *lrscAdder(void *arg) {
	(void)arg;
	for (long i = 0; i < perThread; i++) {
		uint64_t old, fail;
		__asm__ volatile("1: lr.d %0, (%2)\n"
				 "   addi %1, %0, 1\n"
				 "   sc.d %1, %1, (%2)\n"
				 "   bnez %1, 1b\n"
				 : "=&r"(old), "=&r"(fail)
				 : "r"(&counter)
				 : "memory");
	}
	return 0;
}

static int lrsc(int t, long n) {
	perThread = n;
	pthread_t th[MAXT];
	for (int i = 0; i < t; i++)
		pthread_create(&th[i], 0, lrscAdder, 0);
	for (int i = 0; i < t; i++)
		pthread_join(th[i], 0);
	printf("lrsc: %d threads x %ld = %llu\n", t, n, (unsigned long long)counter);
	return counter == (uint64_t)t * n ? 0 : 1;
}

// --- misc: the rest of what pthreads programs lean on.
static __thread long tls = 7;
static sem_t sem;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static long shared;

static void *tlsThread(void *arg) {
	tls += (long)arg;
	pthread_rwlock_wrlock(&rw);
	shared += tls;
	pthread_rwlock_unlock(&rw);
	sem_post(&sem);
	return (void *)tls;
}

static int misc(void) {
	sem_init(&sem, 0, 0);
	pthread_t a, b, d;
	pthread_create(&a, 0, tlsThread, (void *)1);
	pthread_create(&b, 0, tlsThread, (void *)2);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_create(&d, &attr, tlsThread, (void *)3);
	void *ra, *rb;
	pthread_join(a, &ra);
	pthread_join(b, &rb);
	for (int i = 0; i < 3; i++)
		sem_wait(&sem);
	pthread_rwlock_rdlock(&rw);
	printf("tls: main %ld, threads %ld %ld; shared %ld\n", tls, (long)ra, (long)rb, shared);
	pthread_rwlock_unlock(&rw);

	// A timed wait nobody signals times out.
	pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 2000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&mu);
	int r = pthread_cond_timedwait(&cv, &mu, &ts);
	pthread_mutex_unlock(&mu);
	printf("timedwait: %s\n", r == ETIMEDOUT ? "timed out" : "woken");
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	r = sem_timedwait(&sem, &ts);
	printf("sem_timedwait: %s\n", r == -1 && errno == ETIMEDOUT ? "timed out" : "acquired");
	printf("gettid is the pid in main: %s\n", syscall(SYS_gettid) == getpid() ? "yes" : "no");
	printf("pthread_kill(self, 0): %d\n", pthread_kill(pthread_self(), 0));
	return 0;
}

static pthread_barrier_t syncBar;
static pthread_spinlock_t syncSpin;
static pthread_once_t syncOnce = PTHREAD_ONCE_INIT;
static pthread_key_t syncKey;
static _Atomic long syncAtomic, syncDtors, syncOnces;
static long syncShared, syncSpun;

static void syncInit(void) { syncOnces++; }
static void syncDtor(void *p) { atomic_fetch_add(&syncDtors, (long)p); }

static void *syncWorker(void *arg) {
	long id = (long)arg;
	pthread_once(&syncOnce, syncInit);
	pthread_setspecific(syncKey, (void *)(id + 1));
	tls += id;
	for (int round = 0; round < 5; round++) {
		pthread_barrier_wait(&syncBar);
		for (int i = 0; i < 200; i++) {
			atomic_fetch_add(&syncAtomic, 1);
			pthread_rwlock_wrlock(&rw);
			syncShared += id;
			pthread_rwlock_unlock(&rw);
			pthread_spin_lock(&syncSpin);
			syncSpun++;
			pthread_spin_unlock(&syncSpin);
			if (i % 50 == 0)
				sched_yield();
		}
	}
	struct timespec ts = {0, 1000000};
	nanosleep(&ts, 0);
	if (id == 1)
		pthread_exit((void *)(tls * 10));
	return (void *)tls;
}

static int syncTest(int t) {
	pthread_barrier_init(&syncBar, 0, t);
	pthread_spin_init(&syncSpin, 0);
	pthread_key_create(&syncKey, syncDtor);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	pthread_t th[MAXT];
	for (long i = 0; i < t; i++)
		pthread_create(&th[i], &attr, syncWorker, (void *)i);
	long sum = 0;
	for (int i = 0; i < t; i++) {
		void *r;
		pthread_join(th[i], &r);
		sum += (long)r;
	}
	cpu_set_t cs;
	CPU_ZERO(&cs);
	CPU_SET(0, &cs);
	printf("setaffinity: %d\n", pthread_setaffinity_np(pthread_self(), sizeof cs, &cs));
	printf("atomic %ld rwlock %ld spin %ld once %ld dtors %ld returns %ld main tls %ld\n", (long)syncAtomic,
	       syncShared, syncSpun, (long)syncOnces, (long)syncDtors, sum, tls);
	return 0;
}

static void *forever(void *arg) {
	(void)arg;
	pthread_mutex_lock(&pmu);
	for (;;)
		pthread_cond_wait(&pcv, &pmu);
	return 0;
}

int main(int argc, char **argv) {
	if (argc < 2)
		goto usage;
	int t = argc > 2 ? atoi(argv[2]) : 0;
	if (!strcmp(argv[1], "queue") && argc > 3 && t >= 1 && t <= MAXT)
		return queue(t, atol(argv[3]));
	if (!strcmp(argv[1], "reduce") && argc > 3 && t >= 1 && t <= MAXT)
		return reduce(t, atol(argv[3]));
	if (!strcmp(argv[1], "pingpong") && argc > 2)
		return pingpong(atol(argv[2]));
	if (!strcmp(argv[1], "lrsc") && argc > 3 && t >= 1 && t <= MAXT)
		return lrsc(t, atol(argv[3]));
	if (!strcmp(argv[1], "misc"))
		return misc();
	if (!strcmp(argv[1], "sync") && t >= 1 && t <= MAXT)
		return syncTest(t);
	if (!strcmp(argv[1], "deadlock")) {
		pthread_t th;
		pthread_create(&th, 0, forever, 0);
		pthread_join(th, 0);
		return 0;
	}
usage:
	fprintf(stderr, "usage: threads queue T N | reduce T N | pingpong R | lrsc T N | misc | sync T | deadlock\n");
	return 2;
}

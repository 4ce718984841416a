// SPDX-License-Identifier: GPL-2.0
/*
 * rpmem_fault: touch one byte of a file through a shared mapping and report
 * how the access ended, for the poison selftests.
 *
 *   rpmem_fault read|write FILE OFFSET
 *   rpmem_fault madvise FILE OFFSET      MADV_HWPOISON on the page, then read
 *   rpmem_fault pfn FILE OFFSET          read, then print the page frame
 *                                        number from /proc/self/pagemap
 *
 * Prints "ok" or "sigbus code=NAME lsb=N in_page=0|1" (si_addr inside the
 * touched page). Exit status 0 when it ran.
 *
 *   rpmem_fault hwpoison FILE PAGE NPAGES    read pages PAGE.. PAGE+NPAGES-1,
 *                                            MADV_HWPOISON all of them with
 *                                            one call, then read PAGE again
 *   rpmem_fault hold FILE PAGE NPAGES SECS   read those pages, print "ready",
 *                                            then wait up to SECS seconds for
 *                                            a signal
 *   rpmem_fault reread FILE LEN SECS         read every page of the first LEN
 *                                            bytes (faulting them in), then
 *                                            again every 200 ms, comparing
 *                                            each round with the first;
 *                                            "ready" after the first; after
 *                                            a SIGBUS it waits to be killed
 *
 *   rpmem_fault pmd FILE LEN SEED PAGE       map LEN bytes at a 2 MiB aligned
 *                                            address, compare every page but
 *                                            PAGE with rpmem_io's pattern of
 *                                            SEED, then read PAGE
 *
 * pmd prints "clean ok" or "mismatch at N", then the line of a read above.
 *
 * These print "sigbus code=NAME lsb=N stage=STAGE page=K" (STAGE: read,
 * madvise, touch, hold or reread: where the signal came; K: the file page
 * of si_addr, -1 outside the mapping), "madvise: errno=NAME", and for a run
 * without a signal "ok" (hwpoison), "no signal" (hold) or "timeout
 * rounds=N" (reread); reread follows its sigbus line with "rounds=N" and
 * prints "mismatch at N rounds=N" (exit status 1) when a round reads other
 * bytes than the first.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static sigjmp_buf env;
static siginfo_t info;
static const char *volatile stage = "read";
static volatile unsigned long rounds;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	info = *si;
	siglongjmp(env, 1);
}

static const char *code_name(int code)
{
	switch (code) {
	case BUS_ADRALN: return "BUS_ADRALN";
	case BUS_ADRERR: return "BUS_ADRERR";
	case BUS_OBJERR: return "BUS_OBJERR";
	case BUS_MCEERR_AR: return "BUS_MCEERR_AR";
	case BUS_MCEERR_AO: return "BUS_MCEERR_AO";
	default: return "OTHER";
	}
}

static void *map_file(const char *path, size_t len)
{
	void *m;
	int fd = open(path, O_RDWR);

	if (fd < 0) {
		printf("open: errno=%s\n", strerrorname_np(errno));
		exit(2);
	}
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		printf("mmap: errno=%s\n", strerrorname_np(errno));
		exit(2);
	}
	close(fd);
	return m;
}

/* hwpoison, hold and reread (see the top of the file). */
static int staged(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO };
	const size_t page = 4096;
	size_t first, n, i, secs;
	static size_t len;
	volatile uint8_t *m;
	uint8_t *copy = NULL;
	time_t end;

	if (argc != (strcmp(argv[1], "hold") ? 5 : 6)) {
		fprintf(stderr, "usage: see the comment in rpmem_fault.c\n");
		return 2;
	}
	if (!strcmp(argv[1], "reread")) {
		first = 0;
		len = strtoull(argv[3], NULL, 0) / page * page;
		n = len / page;
		secs = strtoull(argv[4], NULL, 0);
	} else {
		first = strtoull(argv[3], NULL, 0);
		n = strtoull(argv[4], NULL, 0);
		len = (first + n) * page;
		secs = argc > 5 ? strtoull(argv[5], NULL, 0) : 0;
	}
	if (!n) {
		fprintf(stderr, "usage: see the comment in rpmem_fault.c\n");
		return 2;
	}
	m = map_file(argv[2], len);
	sigaction(SIGBUS, &sa, NULL);
	if (sigsetjmp(env, 1)) {
		uintptr_t a = (uintptr_t)info.si_addr;
		sigset_t bus;

		/* Report the first signal only: more may be queued (one a page). */
		sigemptyset(&bus);
		sigaddset(&bus, SIGBUS);
		sigprocmask(SIG_BLOCK, &bus, NULL);

		/* page=-1: si_addr outside the mapping (a signal from kill). */
		printf("sigbus code=%s lsb=%d stage=%s page=%ld", code_name(info.si_code),
		       info.si_addr_lsb, stage,
		       a >= (uintptr_t)m && a < (uintptr_t)m + len ?
		       (long)((a - (uintptr_t)m) / page) : -1L);
		printf("\n");
		if (!strcmp(argv[1], "reread")) {
			printf("rounds=%lu\n", rounds);
			fflush(stdout);
			/*
			 * Stay, without touching the mapping, until killed: an
			 * exit now would unmap the pages while the kernel may
			 * still be revoking them (see teardown.sh).
			 */
			for (;;)
				pause();
		}
		return 0;
	}
	for (i = first; i < first + n; i++)
		(void)m[i * page];
	if (!strcmp(argv[1], "hwpoison")) {
		stage = "madvise";
		if (madvise((void *)(m + first * page), n * page, MADV_HWPOISON)) {
			printf("madvise: errno=%s\n", strerrorname_np(errno));
			return 0;
		}
		stage = "touch";
		(void)m[first * page];
		printf("ok\n");
		return 0;
	}
	end = time(NULL) + secs;
	if (!strcmp(argv[1], "hold")) {
		stage = "hold";
		printf("ready\n");
		fflush(stdout);
		while (time(NULL) < end)
			usleep(10000);
		printf("no signal\n");
		return 0;
	}
	/*
	 * reread: a quick pass over pages that stay mapped, then a long pause,
	 * so that a pass seldom overlaps the kernel revoking the mapping.
	 */
	copy = malloc(len);
	if (!copy)
		return 2;
	for (i = 0; i < len; i++)
		copy[i] = m[i];
	stage = "reread";
	printf("ready\n");
	fflush(stdout);
	while (time(NULL) < end) {
		for (i = 0; i < len; i += page) {
			if (m[i] != copy[i] || m[i + page - 1] != copy[i + page - 1]) {
				printf("mismatch at %zu rounds=%lu\n", i, rounds);
				return 1;
			}
		}
		rounds++;
		usleep(200000);
	}
	printf("timeout rounds=%lu\n", rounds);
	return 0;
}

/* rpmem_io's pattern: the byte at offset i with seed s. */
static uint8_t pattern(uint64_t i, uint64_t s)
{
	uint64_t x = (i / 8 + 1) * 0x9e3779b97f4a7c15ULL ^ s;

	x ^= x >> 29;
	return (uint8_t)(x >> (8 * (i % 8)));
}

/* pmd (see the top of the file). */
static int pmd(char **argv)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO };
	const size_t page = 4096, sz_2m = 2UL << 20;
	size_t len = strtoull(argv[3], NULL, 0), bad = strtoull(argv[5], NULL, 0), i;
	uint64_t seed = strtoull(argv[4], NULL, 0);
	volatile uint8_t *m;
	uint8_t *hint;
	int fd = open(argv[2], O_RDWR);

	if (fd < 0 || !len || len % sz_2m || bad >= len / page) {
		printf("usage or open: errno=%s\n", strerrorname_np(errno));
		return 2;
	}
	/* A free range with a 2 MiB aligned start, then the file there. */
	hint = mmap(NULL, len + sz_2m, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (hint == MAP_FAILED)
		return 2;
	munmap(hint, len + sz_2m);
	hint = (uint8_t *)(((uintptr_t)hint + sz_2m - 1) & ~(sz_2m - 1));
	m = mmap(hint, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED_NOREPLACE, fd, 0);
	if (m == MAP_FAILED) {
		printf("mmap: errno=%s\n", strerrorname_np(errno));
		return 2;
	}
	sigaction(SIGBUS, &sa, NULL);
	if (sigsetjmp(env, 1)) {
		uintptr_t a = (uintptr_t)info.si_addr, pg = (uintptr_t)(m + bad * page);

		printf("sigbus code=%s lsb=%d in_page=%d\n", code_name(info.si_code),
		       info.si_addr_lsb, a >= pg && a < pg + page);
		return 0;
	}
	for (i = 0; i < len; i++) {
		if (i / page == bad)
			continue;
		if (m[i] != pattern(i, seed)) {
			printf("mismatch at %zu\n", i);
			return 1;
		}
	}
	printf("clean ok\n");
	(void)m[bad * page];
	printf("ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO };
	volatile uint8_t *m, *p;
	size_t page = 4096, off;
	int fd;

	if (argc == 6 && !strcmp(argv[1], "pmd"))
		return pmd(argv);

	if (argc > 2 && (!strcmp(argv[1], "hwpoison") || !strcmp(argv[1], "hold") ||
			 !strcmp(argv[1], "reread"))) {
		return staged(argc, argv);
	}
	if (argc != 4) {
		fprintf(stderr, "usage: %s read|write|madvise|pfn FILE OFFSET\n", argv[0]);
		return 2;
	}
	off = strtoull(argv[3], NULL, 0);
	fd = open(argv[2], O_RDWR);
	if (fd < 0) {
		printf("open: errno=%s\n", strerrorname_np(errno));
		return 2;
	}
	m = mmap(NULL, off / page * page + page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		printf("mmap: errno=%s\n", strerrorname_np(errno));
		return 2;
	}
	p = m + off;
	sigaction(SIGBUS, &sa, NULL);
	if (sigsetjmp(env, 1)) {
		uintptr_t a = (uintptr_t)info.si_addr, pg = (uintptr_t)p & ~(page - 1);

		printf("sigbus code=%s lsb=%d in_page=%d\n", code_name(info.si_code),
		       info.si_addr_lsb, a >= pg && a < pg + page);
		return 0;
	}
	if (!strcmp(argv[1], "write")) {
		*p = 0x5a;
	} else {
		if (!strcmp(argv[1], "madvise") &&
		    madvise((void *)((uintptr_t)p & ~(page - 1)), page, MADV_HWPOISON)) {
			printf("madvise: errno=%s\n", strerrorname_np(errno));
			return 0;
		}
		(void)*p;
	}
	if (!strcmp(argv[1], "pfn")) {
		uint64_t entry = 0;
		int pm = open("/proc/self/pagemap", O_RDONLY);

		if (pm < 0 || pread(pm, &entry, 8, (uintptr_t)p / page * 8) != 8 ||
		    !(entry >> 63)) {
			printf("pagemap: not present\n");
			return 0;
		}
		printf("%llu\n", (unsigned long long)(entry & ((1ULL << 55) - 1)));
		return 0;
	}
	printf("ok\n");
	return 0;
}

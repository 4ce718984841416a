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
#include <unistd.h>

static sigjmp_buf env;
static siginfo_t info;

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

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO };
	volatile uint8_t *m, *p;
	size_t page = 4096, off;
	int fd;

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

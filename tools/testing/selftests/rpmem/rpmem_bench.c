// SPDX-License-Identifier: GPL-2.0
/*
 * rpmem_bench: the timed workloads of the benchmark that fio does not cover
 * (tools/testing/rpmem/bench.sh). Prints one number.
 *
 *   rpmem_bench memcpy BYTES             memcpy bandwidth of RAM, MiB/s
 *   rpmem_bench faults FILE BYTES pte|pmd first touch of every page of a
 *                                        new file through a shared mapping
 *                                        (4 KiB or 2 MiB aligned), pages/s
 *   rpmem_bench recover FILE PAGES       PAGES-page file, written, then
 *                                        overwritten with one page-aligned
 *                                        pwrite (timed: the plain write),
 *                                        then every page poisoned through
 *                                        the disk's badblocks and one more
 *                                        such pwrite over all of it (the
 *                                        recovery write): "RECOVERY PLAIN"
 *                                        in pages/s, RECOVERY 0 when the
 *                                        write fails
 *   rpmem_bench inject BADBLOCKS N FIRST PAGES asc|random
 *                                        N one-sector records written to a
 *                                        disk's sysfs badblocks, one write
 *                                        each, spread evenly over the odd
 *                                        pages of pages FIRST..FIRST+PAGES
 *                                        (sectors 0, 2, 4 and 6 of a page:
 *                                        at most 4 per odd page, none
 *                                        touching another), in ascending or
 *                                        a scattered order: ns per record
 *   rpmem_bench write1 DEV SECTOR        one 4 KiB O_DIRECT pwrite of the
 *                                        page holding SECTOR: ns, or 0 when
 *                                        it fails
 *
 * Times are CLOCK_MONOTONIC: guest time, a count of instructions, in an
 * instruction-clocked guest.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL
#define PMD (2UL << 20)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fail(const char *what)
{
	fprintf(stderr, "rpmem_bench: %s: %s\n", what, strerror(errno));
	return 1;
}

static int bench_memcpy(size_t bytes)
{
	char *a = malloc(bytes), *b = malloc(bytes);
	double t0, t;
	int i, n = 4;

	if (!a || !b)
		return fail("malloc");
	memset(a, 1, bytes);
	memset(b, 2, bytes);
	t0 = now();
	for (i = 0; i < n; i++) {
		memcpy(i % 2 ? a : b, i % 2 ? b : a, bytes);
		__asm__ volatile("" : : "r"(a), "r"(b) : "memory"); /* keep the copy */
	}
	t = now() - t0;
	printf("%.0f\n", n * (double)bytes / (1 << 20) / t);
	return 0;
}

static int bench_faults(const char *path, size_t bytes, int pmd)
{
	volatile char *m;
	char *hint;
	double t0, t;
	size_t off;
	int fd;

	unlink(path);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	if (fd < 0 || fallocate(fd, 0, 0, bytes))
		return fail("fallocate");
	/* Reserve a 2 MiB aligned hole, then map the file at it (+4 KiB for PTEs). */
	hint = mmap(NULL, bytes + 2 * PMD, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (hint == MAP_FAILED)
		return fail("mmap reserve");
	hint = (char *)(((uintptr_t)hint + PMD - 1) & ~(PMD - 1)) + (pmd ? 0 : PAGE);
	m = mmap(hint, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
	if (m == MAP_FAILED)
		return fail("mmap file");
	t0 = now();
	for (off = 0; off < bytes; off += PAGE)
		m[off] = 1;
	t = now() - t0;
	printf("%.0f\n", bytes / PAGE / t);
	munmap((void *)m, bytes);
	close(fd);
	unlink(path);
	return 0;
}

/* The disk sector of byte OFF of FD's file. */
static long long sector_of(int fd, uint64_t off)
{
	struct {
		struct fiemap fm;
		struct fiemap_extent fe;
	} q = { .fm = { .fm_start = off, .fm_length = 1,
			.fm_flags = FIEMAP_FLAG_SYNC, .fm_extent_count = 1 } };

	if (ioctl(fd, FS_IOC_FIEMAP, &q) || q.fm.fm_mapped_extents != 1)
		return -1;
	return (q.fe.fe_physical + off - q.fe.fe_logical) / 512;
}

static int bench_recover(const char *path, size_t pages)
{
	char bb[128], line[64], *buf;
	size_t i, bytes = pages * PAGE;
	struct stat st;
	double t0, t, plain;
	ssize_t n;
	int fd, bfd;

	unlink(path);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	buf = aligned_alloc(PAGE, bytes);
	if (fd < 0 || !buf)
		return fail("open");
	memset(buf, 0x5a, bytes);
	if (pwrite(fd, buf, bytes, 0) != (ssize_t)bytes || fsync(fd) || fstat(fd, &st))
		return fail("write");
	memset(buf, 0x77, bytes);
	t0 = now();
	n = pwrite(fd, buf, bytes, 0);
	plain = now() - t0;
	if (n != (ssize_t)bytes)
		return fail("overwrite");
	snprintf(bb, sizeof(bb), "/sys/dev/block/%u:%u/badblocks", major(st.st_dev), minor(st.st_dev));
	bfd = open(bb, O_WRONLY);
	if (bfd < 0)
		return fail(bb);
	for (i = 0; i < pages; i++) {
		long long s = sector_of(fd, i * PAGE);

		snprintf(line, sizeof(line), "%lld 8\n", s);
		if (s < 0 || write(bfd, line, strlen(line)) < 0)
			return fail("inject");
	}
	memset(buf, 0xa5, bytes);
	t0 = now();
	n = pwrite(fd, buf, bytes, 0);
	t = now() - t0;
	printf("%.0f %.0f\n", n == (ssize_t)bytes ? pages / t : 0.0, pages / plain);
	if (n != (ssize_t)bytes)
		fprintf(stderr, "rpmem_bench: recovery pwrite: %s\n", n < 0 ? strerror(errno) : "short");
	close(fd);
	unlink(path);
	return 0;
}

/* The sector of record K of N spread over the odd pages of FIRST..+PAGES. */
static uint64_t record_sector(uint64_t k, uint64_t n, uint64_t first, uint64_t pages)
{
	uint64_t slots = pages / 2 * 4, slot = k * slots / n;

	return (first + 2 * (slot / 4) + 1) * 8 + slot % 4 * 2;
}

static int bench_inject(const char *path, uint64_t n, uint64_t first, uint64_t pages, int random)
{
	/* A multiplier prime to every N of the form 2^a 5^b: a permutation. */
	const uint64_t scatter = 1000003;
	char line[64];
	uint64_t i, k;
	double t0, t;
	int fd;

	if (!n || n > pages / 2 * 4 || (random && n % scatter == 0)) {
		fprintf(stderr, "rpmem_bench: %llu records do not fit %llu pages\n",
			(unsigned long long)n, (unsigned long long)pages);
		return 1;
	}
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return fail(path);
	t0 = now();
	for (i = 0; i < n; i++) {
		k = random ? (unsigned __int128)i * scatter % n : i;
		snprintf(line, sizeof(line), "%llu 1\n",
			 (unsigned long long)record_sector(k, n, first, pages));
		if (write(fd, line, strlen(line)) < 0)
			return fail("inject");
	}
	t = now() - t0;
	printf("%.0f\n", t * 1e9 / n);
	return close(fd) ? fail("close") : 0;
}

static int bench_write1(const char *dev, uint64_t sector)
{
	void *buf = aligned_alloc(PAGE, PAGE);
	int fd = open(dev, O_WRONLY | O_DIRECT);
	double t0, t;
	ssize_t n;

	if (fd < 0 || !buf)
		return fail(dev);
	memset(buf, 0x3c, PAGE);
	t0 = now();
	n = pwrite(fd, buf, PAGE, sector * 512 / PAGE * PAGE);
	t = now() - t0;
	printf("%.0f\n", n == (ssize_t)PAGE ? t * 1e9 : 0.0);
	if (n != (ssize_t)PAGE)
		fprintf(stderr, "rpmem_bench: write1: %s\n", n < 0 ? strerror(errno) : "short");
	return close(fd) ? fail("close") : 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "memcpy"))
		return bench_memcpy(strtoull(argv[2], NULL, 0));
	if (argc == 5 && !strcmp(argv[1], "faults"))
		return bench_faults(argv[2], strtoull(argv[3], NULL, 0), !strcmp(argv[4], "pmd"));
	if (argc == 4 && !strcmp(argv[1], "recover"))
		return bench_recover(argv[2], strtoull(argv[3], NULL, 0));
	if (argc == 7 && !strcmp(argv[1], "inject"))
		return bench_inject(argv[2], strtoull(argv[3], NULL, 0), strtoull(argv[4], NULL, 0),
				    strtoull(argv[5], NULL, 0), !strcmp(argv[6], "random"));
	if (argc == 4 && !strcmp(argv[1], "write1"))
		return bench_write1(argv[2], strtoull(argv[3], NULL, 0));
	fprintf(stderr, "usage: see the comment in rpmem_bench.c\n");
	return 2;
}

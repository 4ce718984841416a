// SPDX-License-Identifier: GPL-2.0
/*
 * rpmem_mmap: mmap helper for the rpmem selftests.
 *
 *   rpmem_mmap write FILE LEN SEED [sync]   fill the first LEN bytes through a
 *                                           shared mapping (MAP_SYNC with
 *                                           "sync"), msync (not for a
 *                                           device-dax file), unmap
 *   rpmem_mmap verify FILE LEN SEED         compare the mapping with the pattern
 *   rpmem_mmap touch FILE LEN               read one byte per page through a
 *                                           2 MiB aligned shared mapping
 *
 * Exit status: 0 on success, 1 on a mismatch, 2 when a call fails (the
 * errno is printed as "errno=NAME").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif

#define SZ_2M (2UL << 20)

static int fail(const char *what)
{
	printf("%s failed: errno=%s\n", what, strerrorname_np(errno));
	return 2;
}

/* The byte at offset i of the pattern with seed s. */
static uint8_t pattern(uint64_t i, uint64_t s)
{
	uint64_t x = (i / 8 + 1) * 0x9e3779b97f4a7c15ULL ^ s;

	x ^= x >> 29;
	return (uint8_t)(x >> (8 * (i % 8)));
}

/* A 2 MiB aligned address range of len bytes to map at. */
static void *aligned_hint(size_t len)
{
	void *p = mmap(NULL, len + SZ_2M, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	munmap(p, len + SZ_2M);
	return (void *)(((uintptr_t)p + SZ_2M - 1) & ~(SZ_2M - 1));
}

int main(int argc, char **argv)
{
	const char *cmd, *path;
	size_t len, i;
	uint64_t seed = 0;
	struct stat st;
	uint8_t *m;
	int fd, flags = MAP_SHARED;

	if (argc < 4) {
		fprintf(stderr, "usage: %s write|verify|touch FILE LEN [SEED [sync]]\n", argv[0]);
		return 2;
	}
	cmd = argv[1];
	path = argv[2];
	len = strtoull(argv[3], NULL, 0);
	if (argc > 4)
		seed = strtoull(argv[4], NULL, 0);
	if (argc > 5 && !strcmp(argv[5], "sync"))
		flags = MAP_SHARED_VALIDATE | MAP_SYNC;

	fd = open(path, O_RDWR);
	if (fd < 0 || fstat(fd, &st))
		return fail("open");
	m = mmap(aligned_hint(len), len, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (m == MAP_FAILED)
		return fail("mmap");

	if (!strcmp(cmd, "write")) {
		for (i = 0; i < len; i++)
			m[i] = pattern(i, seed);
		/* A device-dax file has no fsync: msync fails with EINVAL. */
		if (!S_ISCHR(st.st_mode) && msync(m, len, MS_SYNC))
			return fail("msync");
	} else if (!strcmp(cmd, "verify")) {
		for (i = 0; i < len; i++) {
			if (m[i] != pattern(i, seed)) {
				printf("mismatch at %zu: %#x != %#x\n", i, m[i], pattern(i, seed));
				return 1;
			}
		}
	} else if (!strcmp(cmd, "touch")) {
		volatile uint8_t sum = 0;

		for (i = 0; i < len; i += 4096)
			sum += m[i];
	} else {
		fprintf(stderr, "unknown command %s\n", cmd);
		return 2;
	}
	munmap(m, len);
	close(fd);
	return 0;
}

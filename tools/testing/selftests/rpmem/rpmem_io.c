// SPDX-License-Identifier: GPL-2.0
/*
 * rpmem_io: one read or write with an exact report, for the selftests.
 *
 *   rpmem_io read  PATH OFFSET LEN [direct]        pread LEN bytes
 *   rpmem_io write PATH OFFSET LEN SEED [direct]   pwrite LEN pattern bytes
 *   rpmem_io check PATH OFFSET LEN SEED            pread and compare with
 *                                                  the pattern
 *   rpmem_io sysfs PATH STRING                     write STRING as is
 *
 * Prints "done N" (bytes transferred) or "errno=NAME"; for check also
 * "mismatch at N". Exit status 0 when the call itself ran.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint8_t pattern(uint64_t i, uint64_t s)
{
	uint64_t x = (i / 8 + 1) * 0x9e3779b97f4a7c15ULL ^ s;

	x ^= x >> 29;
	return (uint8_t)(x >> (8 * (i % 8)));
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	int direct = 0, fd;
	uint64_t off, seed = 0;
	size_t len, i;
	uint8_t *buf;
	ssize_t n;

	if (!strcmp(cmd, "sysfs") && argc == 4) {
		fd = open(argv[2], O_WRONLY);
		if (fd < 0 || (n = write(fd, argv[3], strlen(argv[3]))) < 0) {
			printf("errno=%s\n", strerrorname_np(errno));
			return 0;
		}
		printf("done %zd\n", n);
		return 0;
	}
	if (argc < 5) {
		fprintf(stderr, "usage: see the comment in rpmem_io.c\n");
		return 2;
	}
	off = strtoull(argv[3], NULL, 0);
	len = strtoull(argv[4], NULL, 0);
	if (strcmp(cmd, "read") && argc > 5)
		seed = strtoull(argv[5], NULL, 0);
	for (i = 5; i < (size_t)argc; i++)
		if (!strcmp(argv[i], "direct"))
			direct = O_DIRECT;

	if (posix_memalign((void **)&buf, 4096, len ? len : 1))
		return 2;
	fd = open(argv[2], (strcmp(cmd, "write") ? O_RDONLY : O_WRONLY) | direct);
	if (fd < 0) {
		printf("open: errno=%s\n", strerrorname_np(errno));
		return 2;
	}
	if (!strcmp(cmd, "write")) {
		for (i = 0; i < len; i++)
			buf[i] = pattern(off + i, seed);
		n = pwrite(fd, buf, len, off);
	} else {
		n = pread(fd, buf, len, off);
	}
	if (n < 0) {
		printf("errno=%s\n", strerrorname_np(errno));
		return 0;
	}
	printf("done %zd\n", n);
	if (!strcmp(cmd, "check"))
		for (i = 0; i < (size_t)n; i++)
			if (buf[i] != pattern(off + i, seed)) {
				printf("mismatch at %zu\n", (size_t)off + i);
				break;
			}
	return 0;
}

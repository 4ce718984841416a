// SPDX-License-Identifier: GPL-2.0
/*
 * rpmem_io: one read or write with an exact report, for the selftests.
 *
 *   rpmem_io read  PATH OFFSET LEN [direct]        pread LEN bytes
 *   rpmem_io write PATH OFFSET LEN SEED [direct]   pwrite LEN pattern bytes
 *   rpmem_io check PATH OFFSET LEN SEED [...]      pread and compare with
 *                                                  the pattern (more ranges:
 *                                                  more OFFSET LEN SEED)
 *   rpmem_io zeroes PATH OFFSET LEN [direct]       pread and check that the
 *                                                  bytes are zeroes
 *   rpmem_io blk DEV discard|zeroout OFFSET LEN    ioctl BLKDISCARD or
 *                                                  BLKZEROOUT
 *   rpmem_io falloc FILE punch|zero OFFSET LEN     fallocate PUNCH_HOLE
 *                                                  (KEEP_SIZE) or ZERO_RANGE
 *   rpmem_io sysfs PATH STRING                     write STRING as is
 *   rpmem_io lines PATH                            write each line of stdin
 *                                                  with its own write(2)
 *   rpmem_io phys  FILE OFFSET                     the device byte offset
 *                                                  of a file byte (FIEMAP)
 *   rpmem_io scan  DEV SECTOR STEP COUNT           O_DIRECT read of COUNT
 *                                                  sectors, STEP apart
 *   rpmem_io lbscan DEV COUNT                      O_DIRECT read of each of
 *                                                  the first COUNT logical
 *                                                  blocks
 *   rpmem_io race  FILE OFFSET SEED OLDSEED        4 KiB pwrite at OFFSET
 *                                                  while two threads read it
 *   rpmem_io pollwrite FILE STRING                 poll(2) FILE for POLLPRI
 *                                                  while a child writes it
 *   rpmem_io finit MODULE PARAMS                   finit_module(2)
 *   rpmem_io rmmod MODULE                          delete_module(2), as
 *                                                  rmmod does (O_NONBLOCK)
 *   rpmem_io readfd FD                             read(2) of up to 4 KiB
 *                                                  from an inherited FD
 *   rpmem_io list DIR                              readdir(3) to the end
 *   rpmem_io create FILE                           a new file (O_EXCL),
 *                                                  fsync(2)ed
 *   rpmem_io mount DEV DIR FSTYPE OPTIONS          mount(2)
 *
 * Prints "done N" (bytes transferred) or "errno=NAME"; for check also
 * " mismatch at N", for zeroes " nonzero at N", the results of several
 * ranges on one line; for blk and falloc "done" or "errno=NAME"; for lines
 * "done N" (lines written); for phys the offset; for scan "eio N ok N
 * other N", for lbscan the same and " first B" (the first block that
 * failed, if one did); for race what the readers saw: "eio N new N stale N other N"
 * (stale: the old bytes, other: anything else, such as zeroes); for
 * pollwrite "woke" or "timeout"; for list "done N" (entries, with . and
 * ..); for create and mount "done". Exit status 0 when the call itself ran.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <dirent.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static uint8_t pattern(uint64_t i, uint64_t s)
{
	uint64_t x = (i / 8 + 1) * 0x9e3779b97f4a7c15ULL ^ s;

	x ^= x >> 29;
	return (uint8_t)(x >> (8 * (i % 8)));
}

static int phys(const char *path, uint64_t off)
{
	struct {
		struct fiemap fm;
		struct fiemap_extent fe;
	} q = { .fm = { .fm_start = off, .fm_length = 1,
			.fm_flags = FIEMAP_FLAG_SYNC, .fm_extent_count = 1 } };
	int fd = open(path, O_RDONLY);

	if (fd < 0 || ioctl(fd, FS_IOC_FIEMAP, &q) || q.fm.fm_mapped_extents != 1) {
		printf("errno=%s\n", strerrorname_np(errno ? errno : ENOENT));
		return 0;
	}
	printf("%llu\n", (unsigned long long)(q.fe.fe_physical + off - q.fe.fe_logical));
	return 0;
}

static int scan(const char *dev, uint64_t sector, uint64_t step, uint64_t count)
{
	unsigned long eio = 0, ok = 0, other = 0;
	int fd = open(dev, O_RDONLY | O_DIRECT);
	void *buf;

	if (fd < 0 || posix_memalign(&buf, 4096, 512))
		return 2;
	for (; count--; sector += step) {
		if (pread(fd, buf, 512, sector * 512) == 512)
			ok++;
		else if (errno == EIO)
			eio++;
		else
			other++;
	}
	printf("eio %lu ok %lu other %lu\n", eio, ok, other);
	return 0;
}

/* lbscan: every logical block of the first COUNT, with the first that fails. */
static int lbscan(const char *dev, uint64_t count)
{
	unsigned long eio = 0, ok = 0, other = 0;
	int fd = open(dev, O_RDONLY | O_DIRECT), lbs;
	long long first = -1;
	uint64_t i;
	void *buf;

	if (fd < 0 || ioctl(fd, BLKSSZGET, &lbs) || posix_memalign(&buf, 4096, lbs))
		return 2;
	for (i = 0; i < count; i++) {
		if (pread(fd, buf, lbs, i * lbs) == lbs) {
			ok++;
			continue;
		}
		if (errno == EIO)
			eio++;
		else
			other++;
		if (first < 0)
			first = i;
	}
	printf("eio %lu ok %lu other %lu", eio, ok, other);
	if (first >= 0)
		printf(" first %lld", first);
	printf("\n");
	return 0;
}

/* The race: readers of one page while a recovery write lands on it. */
static struct {
	int fd;
	uint64_t off, seed, oldseed;
	atomic_bool done;
	atomic_ulong eio, new, stale, other;
} race;

static void *reader(void *arg)
{
	uint8_t buf[4096];
	size_t i;

	(void)arg;
	while (!atomic_load(&race.done)) {
		ssize_t n = pread(race.fd, buf, sizeof(buf), race.off);
		int is_new = n == 4096, is_old = n == 4096;

		if (n < 0 && errno == EIO) {
			atomic_fetch_add(&race.eio, 1);
			continue;
		}
		for (i = 0; n == 4096 && i < 4096; i++) {
			is_new &= buf[i] == pattern(race.off + i, race.seed);
			is_old &= buf[i] == pattern(race.off + i, race.oldseed);
		}
		if (is_new) {
			atomic_fetch_add(&race.new, 1);
			atomic_store(&race.done, 1);
		} else {
			atomic_fetch_add(is_old ? &race.stale : &race.other, 1);
		}
	}
	return NULL;
}

static int do_race(const char *path, uint64_t off, uint64_t seed, uint64_t oldseed)
{
	pthread_t t[2];
	uint8_t buf[4096];
	ssize_t n;
	size_t i;

	race.fd = open(path, O_RDWR);
	if (race.fd < 0)
		return 2;
	race.off = off, race.seed = seed, race.oldseed = oldseed;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = pattern(off + i, seed);
	for (i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, reader, NULL);
	for (i = 0; i < 50000 && atomic_load(&race.eio) < 50; i++)
		usleep(100);
	n = pwrite(race.fd, buf, sizeof(buf), off);
	if (n != 4096)
		atomic_store(&race.done, 1);
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	if (n < 0)
		printf("write errno=%s ", strerrorname_np(errno));
	printf("eio %s new %lu stale %lu other %lu\n", atomic_load(&race.eio) ? ">0" : "0",
	       atomic_load(&race.new) ? 1UL : 0UL, atomic_load(&race.stale), atomic_load(&race.other));
	return 0;
}

static int pollwrite(const char *path, const char *str)
{
	struct pollfd p = { .events = POLLPRI | POLLERR };
	char buf[4096];
	pid_t child;
	int n;

	p.fd = open(path, O_RDONLY);
	if (p.fd < 0 || read(p.fd, buf, sizeof(buf)) < 0)
		return 2;
	child = fork();
	if (child == 0) {
		int fd = open(path, O_WRONLY);

		usleep(200000);
		_exit(fd < 0 || write(fd, str, strlen(str)) < 0);
	}
	n = poll(&p, 1, 10000);
	waitpid(child, NULL, 0);
	printf("%s\n", n > 0 ? "woke" : "timeout");
	return 0;
}

static int finit(const char *module, const char *params)
{
	int fd = open(module, O_RDONLY);

	if (fd < 0 || syscall(SYS_finit_module, fd, params, 0))
		printf("errno=%s\n", strerrorname_np(errno));
	else
		printf("done\n");
	return 0;
}

static int rmmod(const char *module)
{
	if (syscall(SYS_delete_module, module, O_NONBLOCK))
		printf("errno=%s\n", strerrorname_np(errno));
	else
		printf("done\n");
	return 0;
}

static int readfd(int fd)
{
	char buf[4096];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n < 0)
		printf("errno=%s\n", strerrorname_np(errno));
	else
		printf("done %zd\n", n);
	return 0;
}

/* Write each line of stdin to PATH with its own write(2), one open. */
static int lines(const char *path)
{
	char line[256];
	long n = 0;
	int fd = open(path, O_WRONLY);

	if (fd < 0) {
		printf("errno=%s\n", strerrorname_np(errno));
		return 0;
	}
	while (fgets(line, sizeof(line), stdin)) {
		if (write(fd, line, strlen(line)) < 0) {
			printf("line %ld: errno=%s\n", n + 1, strerrorname_np(errno));
			return 0;
		}
		n++;
	}
	printf("done %ld\n", n);
	return 0;
}

/* BLKDISCARD or BLKZEROOUT on a block device, fallocate PUNCH_HOLE or
 * ZERO_RANGE on a file, of LEN bytes at OFF. */
static int zero_range(const char *cmd, const char *path, const char *how, uint64_t off, uint64_t len)
{
	uint64_t range[2] = { off, len };
	int fd = open(path, O_WRONLY), rc;

	if (fd < 0) {
		printf("open: errno=%s\n", strerrorname_np(errno));
		return 2;
	}
	if (!strcmp(cmd, "blk") && !strcmp(how, "discard"))
		rc = ioctl(fd, BLKDISCARD, range);
	else if (!strcmp(cmd, "blk") && !strcmp(how, "zeroout"))
		rc = ioctl(fd, BLKZEROOUT, range);
	else if (!strcmp(cmd, "falloc") && !strcmp(how, "punch"))
		rc = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off, len);
	else if (!strcmp(cmd, "falloc") && !strcmp(how, "zero"))
		rc = fallocate(fd, FALLOC_FL_ZERO_RANGE, off, len);
	else
		return 2;
	if (rc)
		printf("errno=%s\n", strerrorname_np(errno));
	else
		printf("done\n");
	return 0;
}

/* list, create and mount: a file system's metadata at work. */
static int meta(char **argv)
{
	struct dirent *e;
	long n = 0;
	DIR *d;
	int fd;

	errno = 0;
	if (!strcmp(argv[1], "list")) {
		d = opendir(argv[2]);
		while (d && (e = readdir(d)))
			n++;
		if (d && !errno) {
			printf("done %ld\n", n);
			closedir(d);
			return 0;
		}
	} else if (!strcmp(argv[1], "create")) {
		fd = open(argv[2], O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd >= 0 && !fsync(fd) && !close(fd)) {
			printf("done\n");
			return 0;
		}
	} else if (!mount(argv[2], argv[3], argv[4], 0, argv[5])) {
		printf("done\n");
		return 0;
	}
	printf("errno=%s\n", strerrorname_np(errno));
	return 0;
}

/* One pread/pwrite (or a checked pread) of LEN bytes at OFF. */
static void transfer(int fd, const char *cmd, uint64_t off, size_t len, uint64_t seed)
{
	uint8_t *buf;
	ssize_t n;
	size_t i;

	if (posix_memalign((void **)&buf, 4096, len ? len : 1))
		exit(2);
	if (!strcmp(cmd, "write")) {
		for (i = 0; i < len; i++)
			buf[i] = pattern(off + i, seed);
		n = pwrite(fd, buf, len, off);
	} else {
		n = pread(fd, buf, len, off);
	}
	if (n < 0) {
		printf("errno=%s", strerrorname_np(errno));
	} else {
		printf("done %zd", n);
		if (!strcmp(cmd, "zeroes"))
			for (i = 0; i < (size_t)n; i++)
				if (buf[i]) {
					printf(" nonzero at %zu", (size_t)off + i);
					break;
				}
		if (!strcmp(cmd, "check"))
			for (i = 0; i < (size_t)n; i++)
				if (buf[i] != pattern(off + i, seed)) {
					printf(" mismatch at %zu", (size_t)off + i);
					break;
				}
	}
	free(buf);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	int direct = 0, fd, nargs, step, i;
	uint64_t v[3];

	if (!strcmp(cmd, "sysfs") && argc == 4) {
		ssize_t n;

		fd = open(argv[2], O_WRONLY);
		if (fd < 0 || (n = write(fd, argv[3], strlen(argv[3]))) < 0) {
			printf("errno=%s\n", strerrorname_np(errno));
			return 0;
		}
		printf("done %zd\n", n);
		return 0;
	}
	if (!strcmp(cmd, "lines") && argc == 3)
		return lines(argv[2]);
	if (!strcmp(cmd, "phys") && argc == 4)
		return phys(argv[2], strtoull(argv[3], NULL, 0));
	if (!strcmp(cmd, "scan") && argc == 6)
		return scan(argv[2], strtoull(argv[3], NULL, 0), strtoull(argv[4], NULL, 0),
			    strtoull(argv[5], NULL, 0));
	if (!strcmp(cmd, "lbscan") && argc == 4)
		return lbscan(argv[2], strtoull(argv[3], NULL, 0));
	if (!strcmp(cmd, "race") && argc == 6)
		return do_race(argv[2], strtoull(argv[3], NULL, 0), strtoull(argv[4], NULL, 0),
			       strtoull(argv[5], NULL, 0));
	if (!strcmp(cmd, "pollwrite") && argc == 4)
		return pollwrite(argv[2], argv[3]);
	if (!strcmp(cmd, "finit") && argc == 4)
		return finit(argv[2], argv[3]);
	if (!strcmp(cmd, "rmmod") && argc == 3)
		return rmmod(argv[2]);
	if (!strcmp(cmd, "readfd") && argc == 3)
		return readfd(atoi(argv[2]));
	if (((!strcmp(cmd, "list") || !strcmp(cmd, "create")) && argc == 3) ||
	    (!strcmp(cmd, "mount") && argc == 6))
		return meta(argv);
	if ((!strcmp(cmd, "blk") || !strcmp(cmd, "falloc")) && argc == 6)
		return zero_range(cmd, argv[2], argv[3], strtoull(argv[4], NULL, 0),
				  strtoull(argv[5], NULL, 0));

	/* read|zeroes PATH OFF LEN | write PATH OFF LEN SEED | check PATH (OFF LEN SEED)... */
	step = !strcmp(cmd, "read") || !strcmp(cmd, "zeroes") ? 2 : 3;
	nargs = argc - 3;
	if (nargs > 0 && !strcmp(argv[argc - 1], "direct")) {
		direct = O_DIRECT;
		nargs--;
	}
	if (strcmp(cmd, "read") && strcmp(cmd, "write") && strcmp(cmd, "check") && strcmp(cmd, "zeroes"))
		nargs = 0;
	if (nargs < step || nargs % step || (strcmp(cmd, "check") && nargs != step)) {
		fprintf(stderr, "usage: see the comment in rpmem_io.c\n");
		return 2;
	}
	fd = open(argv[2], (strcmp(cmd, "write") ? O_RDONLY : O_WRONLY) | direct);
	if (fd < 0) {
		printf("open: errno=%s\n", strerrorname_np(errno));
		return 2;
	}
	for (i = 0; i < nargs; i += step) {
		v[0] = strtoull(argv[3 + i], NULL, 0);
		v[1] = strtoull(argv[4 + i], NULL, 0);
		v[2] = step == 3 ? strtoull(argv[5 + i], NULL, 0) : 0;
		if (i)
			printf(" ");
		transfer(fd, cmd, v[0], v[1], v[2]);
	}
	printf("\n");
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * rpmem_stress: poison injected and cleared while reads and writes run, with
 * a model of every block that says what each read must return.
 *
 *   rpmem_stress [options] TARGET BLOCKS
 *
 * TARGET is a block device (O_DIRECT I/O) or a file on a file system
 * mounted -o dax; its first BLOCKS 4 KiB blocks are written with a seeded
 * pattern (each block carries its number and a generation), then for -t
 * seconds:
 *   - -j worker threads read random blocks and check them, and write new
 *     generations of random blocks (while the count of poisoned blocks
 *     rises, of clean ones only);
 *   - an injector thread poisons random sectors (1 to 8 of one block)
 *     through the methods of -m: "sysfs" (the disk's badblocks file, -b)
 *     and "debugfs" (-i) in turn, and one time in 16 "madvise" (a child
 *     process maps a clean block of the file and calls MADV_HWPOISON on
 *     it: files only);
 *     it raises the number of poisoned blocks to -H, then lets it fall to
 *     -L, and so on (the store's record count is read at each turn: -l);
 *   - a recovery thread, while the count falls, writes a new generation
 *     over a random poisoned block (a recovery write), or with "clear" in
 *     -m drops its records through the clear file (-c) now and then.
 * Each block has a lock: an injection, a write or a read of a block happens
 * alone, so the model is exact. A read of a block with poisoned sectors
 * must fail with EIO; any other read must return the block's last
 * generation, byte for byte. A write must succeed (it repairs the poison)
 * unless -w: then a write over poison may fail, and changes nothing.
 * Afterwards (nothing running): the store's list (-l, "SECTOR COUNT" lines)
 * must hold exactly the sectors the model says are poisoned (the device
 * outside the blocks included); every poisoned block is written once more
 * and the list must be empty; every block must read back its last
 * generation; the file's extents must not have moved.
 *
 * The run lasts -t seconds, and longer until the count has gone up and
 * down once (at most -T seconds in all).
 *
 * Options: -s SEED (1), -t SECONDS (10), -T LIMIT (600), -j JOBS (2), -m METHODS
 * (sysfs,debugfs,clear), -H HIGH (700), -L LOW (300), -r: a MADV_HWPOISON
 * is recorded as poison (rpmem record_simulated=1; else it changes nothing),
 * -w: writes over poison may fail (a driver that cannot clear it).
 *
 * Prints counts and one line per check; violations (at most 20 shown) on
 * stderr. Exit status 0 when every check held, 1 when one did not, 2 when
 * the run itself failed (bad arguments, setup).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BLK 4096u
#define SPB (BLK / 512) /* sectors per block */

enum method { M_SYSFS, M_DEBUGFS, M_MADVISE, M_NR };
static const char *const method_name[M_NR] = { "sysfs", "debugfs", "madvise" };

static const char *target, *sysfs_bb, *inject_file, *clear_file, *list_file;
static int fd;
static uint64_t nblocks, seed = 1;
static unsigned int seconds = 10, limit = 600, jobs = 2, high = 700, low = 300;
static int use[M_NR], use_clear, madvise_records, writes_may_fail, is_file;

/* The model: per block its lock, generation, poisoned sectors (a mask of
 * SPB bits) and device sector. */
struct block {
	pthread_mutex_t lock;
	uint64_t gen;
	uint8_t bad;
	uint64_t sector;
};
static struct block *blocks;
static atomic_uint_fast64_t nbad; /* blocks with bad != 0 */
static atomic_int stop, falling;

static atomic_uint_fast64_t n_reads, n_eio, n_writes, n_write_fail, n_inject[M_NR],
	n_clear, n_recover, n_violations, n_turns;
/* The store's records when the count turned down (most) and up (fewest). */
static uint64_t store_max, store_min_after_max = UINT64_MAX;

static void violation(const char *fmt, ...)
{
	va_list ap;

	if (atomic_fetch_add(&n_violations, 1) >= 20)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void die(const char *what)
{
	fprintf(stderr, "rpmem_stress: %s: %s\n", what, strerror(errno));
	exit(2);
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* Block b's content at generation gen: its number and generation, then
 * seeded noise. */
static void fill(uint64_t *buf, uint64_t b, uint64_t gen)
{
	uint64_t s = (seed * 0x9e3779b97f4a7c15ULL) ^ (b << 20) ^ gen ^ 0x5bd1e995;

	buf[0] = b;
	buf[1] = gen;
	for (unsigned int i = 2; i < BLK / 8; i++)
		buf[i] = xorshift(&s) | 1;
}

static void *block_buf(void)
{
	void *p;

	if (posix_memalign(&p, BLK, BLK))
		die("posix_memalign");
	return p;
}

/* write_str PATH STR: one write(2); 0 or the errno. */
static int write_str(const char *path, const char *s)
{
	int f = open(path, O_WRONLY), err = 0;

	if (f < 0)
		return errno;
	if (write(f, s, strlen(s)) < 0)
		err = errno;
	close(f);
	return err;
}

/* Reads block b and checks it against the model; b is locked. */
static void check_block(struct block *bl, uint64_t b, uint64_t *buf, uint64_t *want)
{
	ssize_t n = pread(fd, buf, BLK, b * BLK);

	atomic_fetch_add(&n_reads, 1);
	if (bl->bad) {
		if (n < 0 && errno == EIO) {
			atomic_fetch_add(&n_eio, 1);
			return;
		}
		if (n < 0)
			violation("block %llu (poisoned 0x%02x): read errno %s, expected EIO",
				  (unsigned long long)b, bl->bad, strerrorname_np(errno));
		else
			violation("block %llu (poisoned 0x%02x): read returned %zd bytes, expected EIO",
				  (unsigned long long)b, bl->bad, n);
		return;
	}
	if (n != BLK) {
		violation("block %llu: read returned %s%zd, expected %u bytes", (unsigned long long)b,
			  n < 0 ? strerrorname_np(errno) : "", n < 0 ? (ssize_t)0 : n, BLK);
		return;
	}
	fill(want, b, bl->gen);
	if (memcmp(buf, want, BLK)) {
		unsigned int i = 0;

		while (i < BLK / 8 && buf[i] == want[i])
			i++;
		violation("block %llu generation %llu: other bytes from byte %u (header: block %llu generation %llu)",
			  (unsigned long long)b, (unsigned long long)bl->gen, i * 8,
			  (unsigned long long)buf[0], (unsigned long long)buf[1]);
	}
}

/* Writes the next generation of block b; b is locked. */
static void write_block(struct block *bl, uint64_t b, uint64_t *buf)
{
	fill(buf, b, bl->gen + 1);
	atomic_fetch_add(&n_writes, 1);
	if (pwrite(fd, buf, BLK, b * BLK) == BLK) {
		bl->gen++;
		if (bl->bad) {
			bl->bad = 0;
			atomic_fetch_sub(&nbad, 1);
		}
		return;
	}
	atomic_fetch_add(&n_write_fail, 1);
	if (!bl->bad || !writes_may_fail)
		violation("block %llu (poisoned 0x%02x): write failed: %s", (unsigned long long)b, bl->bad,
			  strerrorname_np(errno));
}

static void *worker(void *arg)
{
	uint64_t rng = seed * 7919 + (uintptr_t)arg + 1;
	uint64_t *buf = block_buf(), *want = block_buf();

	while (!atomic_load(&stop)) {
		uint64_t r = xorshift(&rng), b = r % nblocks;
		struct block *bl = &blocks[b];

		pthread_mutex_lock(&bl->lock);
		/* While the count rises, writes go to clean blocks only. */
		if ((r >> 40) % 5 < 3 || (bl->bad && !atomic_load(&falling)))
			check_block(bl, b, buf, want);
		else
			write_block(bl, b, buf);
		pthread_mutex_unlock(&bl->lock);
	}
	free(buf);
	free(want);
	return NULL;
}

/* A child maps block b, reads it and calls MADV_HWPOISON on it. Returns
 * whether the madvise call was made (a SIGBUS may follow it: the file
 * system kills the processes that map a failed page). */
static int madvise_block(uint64_t b)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (!pid) {
		volatile char *p = mmap(NULL, BLK, PROT_READ, MAP_SHARED, fd, b * BLK);

		if (p == MAP_FAILED)
			_exit(3);
		signal(SIGBUS, SIG_DFL);
		(void)p[0];
		/* 10: the call was made (and returned). */
		_exit(madvise((void *)p, BLK, MADV_HWPOISON) ? 4 : 10);
	}
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 10)
		return 1;
	/* Killed by SIGBUS after the call: the file system's notification. */
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS)
		return 1;
	violation("block %llu: MADV_HWPOISON child: %s %d", (unsigned long long)b,
		  WIFEXITED(status) ? "exit status" : "signal",
		  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return 0;
}

/* The store's number of records (lines of the list file). */
static uint64_t store_records(void)
{
	FILE *f = fopen(list_file, "r");
	uint64_t n = 0;
	int c;

	if (!f)
		die(list_file);
	while ((c = getc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static void *injector(void *arg)
{
	uint64_t rng = seed * 104729 + 3;
	unsigned int m = 0;
	char cmd[64];

	(void)arg;
	while (!atomic_load(&stop)) {
		uint64_t n = atomic_load(&nbad);

		if (!atomic_load(&falling) && n >= high) {
			uint64_t r = store_records();

			store_max = r > store_max ? r : store_max;
			atomic_store(&falling, 1);
		} else if (atomic_load(&falling) && n <= low) {
			uint64_t r = store_records();

			store_min_after_max = r < store_min_after_max ? r : store_min_after_max;
			atomic_fetch_add(&n_turns, 1);
			atomic_store(&falling, 0);
		}
		if (atomic_load(&falling)) {
			usleep(1000);
			continue;
		}
		uint64_t r = xorshift(&rng), b = r % nblocks;

		/* sysfs and debugfs in turn; one in 16 is a MADV_HWPOISON (a
		 * process is forked for it: slow). */
		if (use[M_MADVISE] && (r >> 48) % 16 == 0) {
			m = M_MADVISE;
		} else {
			do
				m = (m + 1) % M_MADVISE;
			while (!use[m]);
		}
		unsigned int first = (r >> 32) % SPB, count = 1 + (r >> 40) % (SPB - first);
		struct block *bl = &blocks[b];
		uint8_t bits = (uint8_t)(((1u << count) - 1) << first);
		int err;

		pthread_mutex_lock(&bl->lock);
		switch (m) {
		case M_MADVISE:
			if (bl->bad) /* a fault on it fails before the madvise */
				break;
			if (madvise_block(b)) {
				atomic_fetch_add(&n_inject[m], 1);
				if (madvise_records) {
					bl->bad = 0xff;
					atomic_fetch_add(&nbad, 1);
				}
			}
			break;
		default:
			snprintf(cmd, sizeof(cmd), "%llu %u\n", (unsigned long long)(bl->sector + first), count);
			err = write_str(m == M_SYSFS ? sysfs_bb : inject_file, cmd);
			if (err) {
				violation("inject '%.*s' through %s: %s", (int)strlen(cmd) - 1, cmd, method_name[m],
					  strerrorname_np(err));
				break;
			}
			atomic_fetch_add(&n_inject[m], 1);
			if (!bl->bad)
				atomic_fetch_add(&nbad, 1);
			bl->bad |= bits;
		}
		pthread_mutex_unlock(&bl->lock);
	}
	return NULL;
}

static void *recoverer(void *arg)
{
	uint64_t rng = seed * 15485863 + 5;
	uint64_t *buf = block_buf();
	char cmd[64];

	(void)arg;
	while (!atomic_load(&stop)) {
		if (!atomic_load(&falling) || !atomic_load(&nbad)) {
			usleep(1000);
			continue;
		}
		uint64_t r = xorshift(&rng), b = r % nblocks;

		/* The first poisoned block from a random one. */
		for (uint64_t i = 0; i < nblocks && !__atomic_load_n(&blocks[b].bad, __ATOMIC_RELAXED); i++)
			b = (b + 1) % nblocks;
		struct block *bl = &blocks[b];

		pthread_mutex_lock(&bl->lock);
		if (bl->bad && use_clear && (r >> 40) % 4 == 0) {
			snprintf(cmd, sizeof(cmd), "%llu %u\n", (unsigned long long)bl->sector, SPB);
			int err = write_str(clear_file, cmd);

			if (err) {
				violation("clear '%llu %u': %s", (unsigned long long)bl->sector, SPB,
					  strerrorname_np(err));
			} else {
				bl->bad = 0;
				atomic_fetch_sub(&nbad, 1);
				atomic_fetch_add(&n_clear, 1);
			}
		} else if (bl->bad) {
			write_block(bl, b, buf);
			atomic_fetch_add(&n_recover, !bl->bad);
		}
		pthread_mutex_unlock(&bl->lock);
	}
	free(buf);
	return NULL;
}

/* Device sectors of every block, from FIEMAP for a file; returns whether
 * every block is mapped (and, with check, maps where it did before). */
static int map_blocks(int check)
{
	enum { N = 64 };
	struct {
		struct fiemap fm;
		struct fiemap_extent fe[N];
	} q;
	uint64_t b = 0;

	if (!is_file) {
		for (; b < nblocks && !check; b++)
			blocks[b].sector = b * SPB;
		return 1;
	}
	while (b < nblocks) {
		memset(&q, 0, sizeof(q));
		q.fm.fm_start = b * BLK;
		q.fm.fm_length = (nblocks - b) * BLK;
		q.fm.fm_flags = FIEMAP_FLAG_SYNC;
		q.fm.fm_extent_count = N;
		if (ioctl(fd, FS_IOC_FIEMAP, &q))
			die("FIEMAP");
		if (!q.fm.fm_mapped_extents)
			return 0;
		for (unsigned int i = 0; i < q.fm.fm_mapped_extents; i++) {
			struct fiemap_extent *e = &q.fe[i];

			if (e->fe_logical > b * BLK || (e->fe_flags & FIEMAP_EXTENT_UNWRITTEN))
				return 0;
			for (; b < nblocks && b * BLK < e->fe_logical + e->fe_length; b++) {
				uint64_t s = (e->fe_physical + b * BLK - e->fe_logical) / 512;

				if (check && blocks[b].sector != s)
					return 0;
				blocks[b].sector = s;
			}
		}
	}
	return 1;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Compares the store's list with the model, sector by sector. */
static int list_matches(void)
{
	uint64_t *want = NULL, *have = NULL, nw = 0, nh = 0, cap = 0, s, c, i;
	FILE *f = fopen(list_file, "r");

	for (uint64_t b = 0; b < nblocks; b++)
		for (unsigned int k = 0; k < SPB; k++)
			if (blocks[b].bad & (1u << k)) {
				if (nw == cap && !(want = realloc(want, (cap = cap * 2 + 1024) * 8)))
					die("realloc");
				want[nw++] = blocks[b].sector + k;
			}
	if (!f)
		die(list_file);
	cap = 0;
	while (fscanf(f, "%llu %llu", (unsigned long long *)&s, (unsigned long long *)&c) == 2)
		for (i = 0; i < c; i++) {
			if (nh == cap && !(have = realloc(have, (cap = cap * 2 + 1024) * 8)))
				die("realloc");
			have[nh++] = s + i;
		}
	fclose(f);
	qsort(want, nw, 8, cmp_u64);
	qsort(have, nh, 8, cmp_u64);
	for (i = 0; i < nw && i < nh && want[i] == have[i]; i++)
		;
	if (i == nw && i == nh) {
		printf("list: equal to the model, %llu poisoned sectors\n", (unsigned long long)nw);
	} else {
		printf("list: differs from the model (%llu sectors listed, %llu expected)\n",
		       (unsigned long long)nh, (unsigned long long)nw);
		if (i < nh && (i == nw || have[i] < want[i]))
			violation("list: sector %llu listed, not poisoned in the model", (unsigned long long)have[i]);
		else
			violation("list: sector %llu poisoned in the model, not listed", (unsigned long long)want[i]);
	}
	free(want);
	free(have);
	return i == nw && i == nh;
}

int main(int argc, char **argv)
{
	pthread_t tw[64], ti, tr;
	uint64_t *buf, *want, before;
	struct stat st;
	int opt, ok = 1;
	char *m;

	use[M_SYSFS] = use[M_DEBUGFS] = use_clear = 1;
	while ((opt = getopt(argc, argv, "s:t:T:j:m:H:L:b:i:c:l:rw")) != -1) {
		switch (opt) {
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 't': seconds = atoi(optarg); break;
		case 'T': limit = atoi(optarg); break;
		case 'j': jobs = atoi(optarg); break;
		case 'H': high = atoi(optarg); break;
		case 'L': low = atoi(optarg); break;
		case 'b': sysfs_bb = optarg; break;
		case 'i': inject_file = optarg; break;
		case 'c': clear_file = optarg; break;
		case 'l': list_file = optarg; break;
		case 'r': madvise_records = 1; break;
		case 'w': writes_may_fail = 1; break;
		case 'm':
			memset(use, 0, sizeof(use));
			use_clear = 0;
			for (m = strtok(optarg, ","); m; m = strtok(NULL, ",")) {
				int k;

				for (k = 0; k < M_NR && strcmp(m, method_name[k]); k++)
					;
				if (k < M_NR)
					use[k] = 1;
				else if (!strcmp(m, "clear"))
					use_clear = 1;
				else
					goto usage;
			}
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 2 || !list_file || !jobs || jobs > 64 || low >= high ||
	    (use[M_SYSFS] && !sysfs_bb) || (use[M_DEBUGFS] && !inject_file) || (use_clear && !clear_file) ||
	    !(use[M_SYSFS] || use[M_DEBUGFS]))
		goto usage;
	target = argv[optind];
	nblocks = strtoull(argv[optind + 1], NULL, 0);
	if (!nblocks)
		goto usage;
	if (stat(target, &st))
		die(target);
	is_file = S_ISREG(st.st_mode);
	if (use[M_MADVISE] && !is_file)
		goto usage;
	fd = open(target, O_RDWR | (is_file ? 0 : O_DIRECT));
	if (fd < 0)
		die(target);
	blocks = calloc(nblocks, sizeof(*blocks));
	buf = block_buf();
	want = block_buf();
	if (!blocks)
		die("calloc");
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("seed %llu, %llu blocks of %s, %u s, %u jobs\n", (unsigned long long)seed,
	       (unsigned long long)nblocks, target, seconds, jobs);

	/* Generation 1 everywhere, then the map of device sectors. */
	for (uint64_t b = 0; b < nblocks; b++) {
		pthread_mutex_init(&blocks[b].lock, NULL);
		blocks[b].gen = 1;
		fill(buf, b, 1);
		if (pwrite(fd, buf, BLK, b * BLK) != BLK)
			die("writing generation 1");
	}
	if (fsync(fd))
		die("fsync");
	if (!map_blocks(0)) {
		fprintf(stderr, "rpmem_stress: %s: not every block is allocated and written\n", target);
		return 2;
	}
	if (!list_matches()) {
		fprintf(stderr, "rpmem_stress: poison before the run\n");
		return 2;
	}

	for (unsigned int j = 0; j < jobs; j++)
		if (pthread_create(&tw[j], NULL, worker, (void *)(uintptr_t)j))
			die("pthread_create");
	if (pthread_create(&ti, NULL, injector, NULL) || pthread_create(&tr, NULL, recoverer, NULL))
		die("pthread_create");
	/* At least one turn (the count up to -H and back to -L), so that the
	 * run covers both directions however slow the machine: up to -T. */
	time_t start = time(NULL);

	sleep(seconds);
	while (!atomic_load(&n_turns) && time(NULL) - start < limit)
		sleep(1);
	atomic_store(&stop, 1);
	printf("ran %lld s\n", (long long)(time(NULL) - start));
	for (unsigned int j = 0; j < jobs; j++)
		pthread_join(tw[j], NULL);
	pthread_join(ti, NULL);
	pthread_join(tr, NULL);

	printf("reads %llu (eio %llu), writes %llu (failed %llu)\n", (unsigned long long)n_reads,
	       (unsigned long long)n_eio, (unsigned long long)n_writes, (unsigned long long)n_write_fail);
	printf("injected sysfs %llu debugfs %llu madvise %llu, cleared %llu, recovery writes %llu\n",
	       (unsigned long long)n_inject[M_SYSFS], (unsigned long long)n_inject[M_DEBUGFS],
	       (unsigned long long)n_inject[M_MADVISE], (unsigned long long)n_clear,
	       (unsigned long long)n_recover);
	printf("records: turns %llu, most %llu, fewest after it %llu\n", (unsigned long long)n_turns,
	       (unsigned long long)store_max,
	       (unsigned long long)(store_min_after_max == UINT64_MAX ? 0 : store_min_after_max));
	before = atomic_load(&n_violations);
	printf("during the run: %llu violations\n", (unsigned long long)before);

	/* Quiet: the list, the last recovery, every block. */
	ok &= list_matches();
	uint64_t left = 0, failed = 0;

	for (uint64_t b = 0; b < nblocks; b++) {
		if (!blocks[b].bad)
			continue;
		left++;
		write_block(&blocks[b], b, buf);
		failed += blocks[b].bad != 0;
	}
	printf("recovery: %llu poisoned blocks written, %llu still poisoned, %llu records left\n",
	       (unsigned long long)left, (unsigned long long)failed, (unsigned long long)store_records());
	ok &= list_matches();
	before = atomic_load(&n_violations);
	for (uint64_t b = 0; b < nblocks; b++)
		check_block(&blocks[b], b, buf, want);
	printf("verify: %llu blocks (%llu bytes) read, %llu violations\n", (unsigned long long)nblocks,
	       (unsigned long long)(nblocks * BLK), (unsigned long long)(atomic_load(&n_violations) - before));
	if (!map_blocks(1)) {
		violation("%s: the file's blocks moved during the run", target);
		ok = 0;
	}
	return ok && !atomic_load(&n_violations) ? 0 : 1;

usage:
	fprintf(stderr, "usage: rpmem_stress [-s SEED] [-t SECONDS] [-T LIMIT] [-j JOBS] [-m METHODS] [-H HIGH] [-L LOW]\n"
			"\t[-b SYSFS_BADBLOCKS] [-i INJECT] [-c CLEAR] -l LIST [-r] [-w] TARGET BLOCKS\n");
	return 2;
}

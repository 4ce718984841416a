// SPDX-License-Identifier: GPL-2.0
/*
 * rpmem_fuzz: seeded random and mutated writes to one control file, each
 * refused write checked to change nothing.
 *
 *   rpmem_fuzz [-a ERRNO]... [-m MAX] SEED COUNT TARGET [STATE...]
 *
 * Writes COUNT inputs to TARGET, each with one write(2) to one open file
 * (sysfs and debugfs take each write whole, whatever the file position, as
 * from `echo >`; the STATE files are read again with pread(2) from 0):
 * random bytes of random length (NUL included), printable
 * noise, mutations of well-formed commands, numbers of every size (negative,
 * past 2^64), whitespace around commands, and writes of 4 KiB and more. A
 * write must succeed or fail with one of the allowed errnos (EINVAL,
 * ERANGE and those given with -a); after a failed write every STATE file must read as it
 * did before the write (after a successful one they are read again). -m
 * MAX: inputs that are a plain number above MAX are not sent (for a file
 * whose valid numbers are only slow, like lookup_bench).
 *
 * Prints the first violations ("unexpected errno=NAME input=..." or
 * "changed FILE input=..."), then "accepted N refused N unexpected N
 * changed N"; exit status 1 if there was a violation, 2 on a usage or I/O
 * error of its own.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_INPUT 8192
#define MAX_STATE (1 << 20)
#define MAX_STATES 8
#define MAX_ALLOWED 8
#define SHOWN 5

static uint64_t rng;

/* xorshift64*: the same inputs for the same SEED. */
static uint64_t next(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 0x2545f4914f6cdd1dULL;
}

static uint64_t below(uint64_t n)
{
	return n ? next() % n : 0;
}

/* Well-formed commands of rpmem's files, the seeds of the mutations. */
static const char *const seeds[] = {
	"8 1\n", "0 8", "100 1000\n", "sectors 8 1\n", "bytes 4096 4096\n",
	"bytes 4097 1", "1\n", "0", "y", "n\n", "on", "off", "auto\n",
	"firmware", "software\n", "1000", "16\n", "18446744073709551615 1",
	"1 18446744073709551615", "sectors 0 1",
};

/* A number of a random magnitude, as text. */
static int number(char *out, size_t len)
{
	uint64_t v = next() >> below(64);

	switch (below(4)) {
	case 0:
		return snprintf(out, len, "%" PRIu64, v);
	case 1:
		return snprintf(out, len, "-%" PRIu64, v);
	case 2:
		/* Past 2^64. */
		return snprintf(out, len, "%" PRIu64 "%03" PRIu64, v, below(1000));
	default:
		return snprintf(out, len, "0x%" PRIx64, v);
	}
}

static size_t generate(char *buf)
{
	size_t n = 0, i;
	char a[48], b[48];

	switch (below(7)) {
	case 0: /* random bytes */
		n = below(65);
		for (i = 0; i < n; i++)
			buf[i] = (char)next();
		return n;
	case 1: /* printable noise */
		n = below(65);
		for (i = 0; i < n; i++)
			buf[i] = (char)(' ' + below(95));
		return n;
	case 2: /* numbers */
		number(a, sizeof(a));
		number(b, sizeof(b));
		switch (below(4)) {
		case 0:
			return snprintf(buf, MAX_INPUT, "%s %s\n", a, b);
		case 1:
			return snprintf(buf, MAX_INPUT, "%s", a);
		case 2:
			return snprintf(buf, MAX_INPUT, "sectors %s %s", a, b);
		default:
			return snprintf(buf, MAX_INPUT, "bytes %s %s\n", a, b);
		}
	case 3: /* whitespace around a command */
		return snprintf(buf, MAX_INPUT, "%s%s%s", below(2) ? " " : "\t",
				seeds[below(sizeof(seeds) / sizeof(seeds[0]))],
				below(2) ? "\n\n" : " ");
	case 4: /* 4 KiB and more */
		n = 4096 + below(4097);
		for (i = 0; i < n; i++)
			buf[i] = below(8) ? (char)('0' + below(10)) : ' ';
		return n;
	default: /* mutations of a command */
		n = strlen(strcpy(buf, seeds[below(sizeof(seeds) / sizeof(seeds[0]))]));
		for (int m = 1 + below(4); m > 0; m--) {
			size_t at = below(n + 1);

			switch (below(5)) {
			case 0: /* flip a bit */
				if (n)
					buf[below(n)] ^= (char)(1 << below(8));
				break;
			case 1: /* insert a byte (NUL, a digit, anything) */
				if (n + 1 < MAX_INPUT) {
					memmove(buf + at + 1, buf + at, n - at);
					buf[at] = below(3) == 0 ? '\0' : below(2) ? (char)('0' + below(10)) :
						  (char)next();
					n++;
				}
				break;
			case 2: /* delete a byte */
				if (at < n) {
					memmove(buf + at, buf + at + 1, n - at - 1);
					n--;
				}
				break;
			case 3: /* append digits */
				n += snprintf(buf + n, MAX_INPUT - n, "%" PRIu64, next() >> below(64));
				break;
			default: /* double it */
				if (2 * n < MAX_INPUT) {
					memcpy(buf + n, buf, n);
					n *= 2;
				}
			}
		}
		return n;
	}
}

/* Whether `buf` is a plain number (an optional newline after) above max. */
static bool too_big(const char *buf, size_t n, uint64_t max)
{
	char tmp[32];
	size_t i;

	if (!max)
		return false;
	if (n && buf[n - 1] == '\n')
		n--;
	if (!n || n >= sizeof(tmp))
		return n >= sizeof(tmp) && strspn(buf, "0123456789") >= n;
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)buf[i]))
			return false;
	memcpy(tmp, buf, n);
	tmp[n] = 0;
	errno = 0;
	return strtoull(tmp, NULL, 10) > max || errno;
}

/* The whole content of the open file `fd` into `buf` (at most MAX_STATE bytes); -1 on error. */
static ssize_t slurp(int fd, char *buf)
{
	ssize_t len = 0, r;

	while (len < MAX_STATE && (r = pread(fd, buf + len, MAX_STATE - len, len)) > 0)
		len += r;
	return r < 0 ? -1 : len;
}

static void show(const char *what, const char *buf, size_t n)
{
	size_t i;

	printf("%s input=\"", what);
	for (i = 0; i < n && i < 80; i++) {
		unsigned char c = buf[i];

		if (isprint(c) && c != '"' && c != '\\')
			putchar(c);
		else
			printf("\\x%02x", c);
	}
	printf("%s\" (%zu bytes)\n", n > 80 ? "..." : "", n);
}

static int errno_of(const char *name)
{
	for (int e = 1; e < 200; e++) {
		const char *n = strerrorname_np(e);

		if (n && !strcmp(n, name))
			return e;
	}
	return -1;
}

int main(int argc, char **argv)
{
	int allowed[MAX_ALLOWED] = { EINVAL, ERANGE }, nallowed = 2, opt, nstates, i;
	unsigned long accepted = 0, refused = 0, unexpected = 0, changed = 0, count, k;
	static char before[MAX_STATES][MAX_STATE], now[MAX_STATE], buf[MAX_INPUT + 64];
	ssize_t blen[MAX_STATES];
	int sfd[MAX_STATES], fd;
	uint64_t max = 0;
	const char *target;

	while ((opt = getopt(argc, argv, "a:m:")) != -1) {
		if (opt == 'a' && nallowed < MAX_ALLOWED && (allowed[nallowed] = errno_of(optarg)) > 0)
			nallowed++;
		else if (opt == 'm')
			max = strtoull(optarg, NULL, 10);
		else
			return fprintf(stderr, "bad option\n"), 2;
	}
	if (argc - optind < 3 || argc - optind - 3 > MAX_STATES) {
		fprintf(stderr, "usage: rpmem_fuzz [-a ERRNO]... [-m MAX] SEED COUNT TARGET [STATE...]\n");
		return 2;
	}
	rng = strtoull(argv[optind], NULL, 0) * 2 + 1;
	count = strtoul(argv[optind + 1], NULL, 0);
	target = argv[optind + 2];
	char **states = argv + optind + 3;

	nstates = argc - optind - 3;
	for (i = 0; i < nstates; i++) {
		sfd[i] = open(states[i], O_RDONLY);
		if (sfd[i] < 0 || (blen[i] = slurp(sfd[i], before[i])) < 0)
			return fprintf(stderr, "%s: %s\n", states[i], strerror(errno)), 2;
	}
	fd = open(target, O_WRONLY);
	if (fd < 0)
		return fprintf(stderr, "%s: %s\n", target, strerror(errno)), 2;

	for (k = 0; k < count; k++) {
		size_t n;
		ssize_t w;
		int err;

		do
			n = generate(buf);
		while (too_big(buf, n, max));
		w = write(fd, buf, n);
		err = errno;
		if (w >= 0) {
			accepted++;
			for (i = 0; i < nstates; i++)
				if ((blen[i] = slurp(sfd[i], before[i])) < 0)
					return fprintf(stderr, "%s: %s\n", states[i], strerror(errno)), 2;
			continue;
		}
		refused++;
		for (i = 0; i < nallowed && allowed[i] != err; i++)
			;
		if (i == nallowed) {
			if (unexpected++ < SHOWN) {
				char what[64];

				snprintf(what, sizeof(what), "unexpected errno=%s", strerrorname_np(err));
				show(what, buf, n);
			}
		}
		for (i = 0; i < nstates; i++) {
			ssize_t len = slurp(sfd[i], now);

			if (len == blen[i] && !memcmp(now, before[i], len))
				continue;
			if (changed++ < SHOWN) {
				char what[256];

				snprintf(what, sizeof(what), "changed %s", states[i]);
				show(what, buf, n);
			}
			if (len >= 0)
				memcpy(before[i], now, len);
			blen[i] = len;
		}
	}
	printf("accepted %lu refused %lu unexpected %lu changed %lu\n", accepted, refused,
	       unexpected, changed);
	return unexpected || changed ? 1 : 0;
}

/* zlibinflate DUMP [PASSES]: inflates the messages that bench/inflatedump.py
 * wrote with zlib, one z_stream per direction as a receiver keeps it (a new
 * one per message under no_context_takeover), and prints the CPU seconds of
 * the best pass. Built and run by bench/inflate.sh (cc -O2 ... -lz). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

struct msg {
	uint32_t dir, n;
	int noctx;
	unsigned char *p; /* the message and its 00 00 ff ff tail */
};

int main(int argc, char **argv) {
	if (argc < 2) {
		fprintf(stderr, "usage: zlibinflate DUMP [PASSES]\n");
		return 2;
	}
	int passes = argc > 2 ? atoi(argv[2]) : 5;
	FILE *f = fopen(argv[1], "rb");
	if (!f) {
		perror(argv[1]);
		return 1;
	}
	size_t cap = 1024, nmsg = 0;
	struct msg *msgs = malloc(cap * sizeof *msgs);
	uint32_t ndir = 0;
	unsigned char h[9];
	size_t got;
	while ((got = fread(h, 1, 9, f)) == 9) {
		struct msg m;
		memcpy(&m.dir, h, 4);
		m.noctx = h[4];
		memcpy(&m.n, h + 5, 4);
		m.p = malloc(m.n + 4);
		if (!m.p) {
			fprintf(stderr, "out of memory\n");
			return 1;
		}
		if (fread(m.p, 1, m.n, f) != m.n) {
			fprintf(stderr, "truncated dump\n");
			return 1;
		}
		memcpy(m.p + m.n, "\x00\x00\xff\xff", 4);
		if (nmsg == cap && !(msgs = realloc(msgs, (cap *= 2) * sizeof *msgs))) {
			fprintf(stderr, "out of memory\n");
			return 1;
		}
		msgs[nmsg++] = m;
		if (m.dir >= ndir)
			ndir = m.dir + 1;
	}
	if (got != 0 || ferror(f)) {
		fprintf(stderr, "%s: truncated dump or read error\n", argv[1]);
		return 1;
	}
	static unsigned char out[1 << 20], dict[32768];
	z_stream *zs = calloc(ndir, sizeof *zs);
	int *open = calloc(ndir, sizeof *open);
	double best = -1;
	long total = 0;
	for (int pass = 0; pass < passes; pass++) {
		struct timespec t0, t1;
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
		total = 0;
		for (size_t i = 0; i < nmsg; i++) {
			z_stream *z = &zs[msgs[i].dir];
			if (!open[msgs[i].dir] || msgs[i].noctx) {
				if (open[msgs[i].dir])
					inflateEnd(z);
				memset(z, 0, sizeof *z);
				if (inflateInit2(z, -15) != Z_OK) {
					fprintf(stderr, "inflateInit2 failed\n");
					return 1;
				}
				open[msgs[i].dir] = 1;
			}
			z->next_in = msgs[i].p;
			z->avail_in = msgs[i].n + 4;
			do {
				z->next_out = out;
				z->avail_out = sizeof out;
				int r = inflate(z, Z_SYNC_FLUSH);
				total += sizeof out - z->avail_out;
				if (r == Z_STREAM_END) {
					/* A block with BFINAL set (RFC 7692 7.2.3.3): the
					 * next message starts a new DEFLATE stream, with
					 * the window kept under context takeover. */
					uInt n = sizeof dict;
					if (inflateGetDictionary(z, dict, &n) != Z_OK || inflateReset(z) != Z_OK ||
					    (!msgs[i].noctx && inflateSetDictionary(z, dict, n) != Z_OK)) {
						fprintf(stderr, "message %zu: inflate: cannot go on after its final block\n", i);
						return 1;
					}
					break;
				}
				if (r != Z_OK && r != Z_BUF_ERROR) {
					fprintf(stderr, "message %zu: inflate: %d\n", i, r);
					return 1;
				}
			} while (z->avail_out == 0);
		}
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
		double el = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
		if (best < 0 || el < best)
			best = el;
		for (uint32_t d = 0; d < ndir; d++)
			if (open[d]) {
				inflateEnd(&zs[d]);
				open[d] = 0;
			}
	}
	printf("zlib %s (C): %zu messages, %ld bytes out, best of %d: %.3f CPU s, %.0f MB/s\n",
	       zlibVersion(), nmsg, total, passes, best, total / best / 1e6);
	return 0;
}

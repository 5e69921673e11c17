/* Request ids, UUIDs and AWS timestamp formats. */
#include "protocol/ids.h"
#include "sigv4/encode.h"

#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static void random_bytes(unsigned char *buf, int n)
{
    if (RAND_bytes(buf, n) != 1) abort();
}

/* Per-thread xoshiro256** seeded from the OS: ids need uniqueness, not secrecy, and
 * RAND_bytes costs more than the rest of a small request. */
static __thread uint64_t rng_state[4];
static __thread int rng_seeded;

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(void)
{
    if (!rng_seeded) {
        random_bytes((unsigned char *)rng_state, sizeof(rng_state));
        rng_seeded = 1;
    }
    uint64_t *s = rng_state;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

void proto_uuid(char out[37])
{
    unsigned char b[16];
    uint64_t r0 = rng_next(), r1 = rng_next();
    memcpy(b, &r0, 8);
    memcpy(b + 8, &r1, 8);
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    int o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[o++] = '-';
        sigv4_hex(b + i, 1, out + o); /* its NUL is overwritten, the last one ends the id */
        o += 2;
    }
}

void proto_random_alnum(char *out, int n)
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    unsigned char b[64];
    int done = 0;
    while (done < n) {
        random_bytes(b, sizeof(b));
        for (size_t i = 0; i < sizeof(b) && done < n; i++)
            if (b[i] < 248) out[done++] = alphabet[b[i] % 62]; /* 248 = 4 * 62: no modulo bias */
    }
    out[n] = '\0';
}

double proto_now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (double)tv.tv_sec + (double)(tv.tv_usec / 1000) / 1000.0;
}

void proto_http_date(char out[32], time_t t)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

void proto_iso8601(char out[32], double t)
{
    time_t secs = (time_t)t;
    int ms = (int)((t - (double)secs) * 1000.0 + 0.5);
    if (ms >= 1000) {
        secs++;
        ms -= 1000;
    }
    struct tm tm;
    gmtime_r(&secs, &tm);
    char base[24];
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%.23s.%03uZ", base, (unsigned)ms % 1000u); /* bounded: no truncation */
}

/* Request ids, UUIDs and AWS timestamp formats. */
#include "protocol/ids.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

static void random_bytes(unsigned char *buf, int n)
{
    if (RAND_bytes(buf, n) != 1) abort();
}

void proto_uuid(char out[37])
{
    unsigned char b[16];
    random_bytes(b, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
}

void proto_random_alnum(char *out, int n)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
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

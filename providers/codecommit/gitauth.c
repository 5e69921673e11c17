/* Verifying the password that `aws codecommit credential-helper` derives with SigV4. */
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "providers/codecommit/internal.h"
#include "sigv4/sigv4.h"

/* Parses "yyyymmddThhmmss" as UTC. Returns the epoch seconds or -1. */
static long parse_stamp(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    for (int i = 0; i < 15; i++)
        if (i == 8 ? s[i] != 'T' : (s[i] < '0' || s[i] > '9')) return -1;
    if (sscanf(s, "%4d%2d%2dT%2d%2d%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (long)timegm(&tm);
}

int cc_verify_helper_password(const char *password, const char *secret, const char *region,
                              const char *host, const char *path, long now, long max_age)
{
    char stamp[16], date[9], canonical[1024], sts[512], hexhash[65], want[65], hostname[256];
    if (!password || strlen(password) != 15 + 1 + 64 || password[15] != 'Z') return 0;
    memcpy(stamp, password, 15);
    stamp[15] = '\0';
    long t = parse_stamp(stamp);
    if (t < 0 || t < now - max_age || t > now + 300) return 0;
    memcpy(date, stamp, 8);
    date[8] = '\0';
    size_t hl = strcspn(host, ":");
    if (hl >= sizeof hostname) return 0;
    memcpy(hostname, host, hl);
    hostname[hl] = '\0';
    int n = snprintf(canonical, sizeof canonical, "GIT\n%s\n\nhost:%s\n\nhost\n", path, hostname);
    if (n < 0 || (size_t)n >= sizeof canonical) return 0;
    sigv4_sha256_hex(canonical, (size_t)n, hexhash);
    n = snprintf(sts, sizeof sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/codecommit/aws4_request\n%s", stamp,
                 date, region, hexhash);
    if (n < 0 || (size_t)n >= sizeof sts) return 0;
    sigv4_signature(secret, date, region, "codecommit", sts, (size_t)n, want);
    return CRYPTO_memcmp(want, password + 16, 64) == 0;
}

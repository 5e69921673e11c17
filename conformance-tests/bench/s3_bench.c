/* S3 load generator: PutObject / GetObject over keep-alive HTTP/1.1 connections, SigV4-signed with
 * UNSIGNED-PAYLOAD, reporting aggregate throughput.
 *
 * Build: cc -O2 -o s3_bench s3_bench.c -lcrypto -lpthread
 * Usage: s3_bench HOST PORT BUCKET put|get|mix SIZE CONNECTIONS SECONDS [ACCESS SECRET]
 *   put: each connection PUTs SIZE-byte objects (keys bench/<conn>/<n>) for SECONDS;
 *   get: each connection GETs the object bench/get (PUT once first) for SECONDS.
 *   SECONDS = 0 with put: a single request of SIZE bytes (for the memory test). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char *host, *bucket, *access_key = "test", *secret_key = "test";
static int port, seconds;
static unsigned long long size;
static int mode_put, mode_mix;
static char *payload;
#define CHUNK (1 << 20)
static atomic_ullong total_bytes, total_ops;
static atomic_int failed;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void hex(const unsigned char *in, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", in[i]);
}

static void hmac(const void *key, size_t kl, const char *msg, unsigned char out[32])
{
    unsigned int n = 32;
    HMAC(EVP_sha256(), key, (int)kl, (const unsigned char *)msg, strlen(msg), out, &n);
}

/* Writes the signed request head into buf. */
static int request_head(char *buf, size_t cap, const char *method, const char *path,
                        unsigned long long content_length)
{
    char date[17], day[9], hostport[300];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof(date), "%Y%m%dT%H%M%SZ", &tm);
    memcpy(day, date, 8);
    day[8] = 0;
    snprintf(hostport, sizeof(hostport), "%s:%d", host, port);
    char creq[2048], sts[1024];
    snprintf(creq, sizeof(creq),
             "%s\n%s\n\nhost:%s\nx-amz-content-sha256:UNSIGNED-PAYLOAD\nx-amz-date:%s\n\n"
             "host;x-amz-content-sha256;x-amz-date\nUNSIGNED-PAYLOAD",
             method, path, hostport, date);
    unsigned char h[32], k[32];
    char hh[65], sig[65];
    SHA256((const unsigned char *)creq, strlen(creq), h);
    hex(h, 32, hh);
    snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256\n%s\n%s/us-east-1/s3/aws4_request\n%s", date, day,
             hh);
    char kstart[256];
    snprintf(kstart, sizeof(kstart), "AWS4%s", secret_key);
    hmac(kstart, strlen(kstart), day, k);
    hmac(k, 32, "us-east-1", k);
    hmac(k, 32, "s3", k);
    hmac(k, 32, "aws4_request", k);
    hmac(k, 32, sts, h);
    hex(h, 32, sig);
    return snprintf(buf, cap,
                    "%s %s HTTP/1.1\r\nHost: %s\r\nx-amz-date: %s\r\n"
                    "x-amz-content-sha256: UNSIGNED-PAYLOAD\r\n"
                    "Authorization: AWS4-HMAC-SHA256 Credential=%s/%s/us-east-1/s3/aws4_request, "
                    "SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=%s\r\n"
                    "Content-Length: %llu\r\n\r\n",
                    method, path, hostport, date, access_key, day, sig, content_length);
}

static int connect_to(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    inet_pton(AF_INET, host, &sa.sin_addr);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        perror("connect");
        exit(1);
    }
    return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads one response; returns its status, or -1. The body is read and discarded. */
static int read_response(int fd, char *buf, size_t cap, unsigned long long *body_len)
{
    size_t have = 0;
    char *end = NULL;
    while (!end) {
        ssize_t r = recv(fd, buf + have, cap - have - 1, 0);
        if (r <= 0) return -1;
        have += (size_t)r;
        buf[have] = 0;
        end = strstr(buf, "\r\n\r\n");
        if (!end && have >= cap - 1) return -1;
    }
    int status = atoi(buf + 9);
    unsigned long long cl = 0;
    char *p = strcasestr(buf, "\r\ncontent-length:");
    if (p) cl = strtoull(p + 17, NULL, 10);
    size_t head = (size_t)(end + 4 - buf);
    unsigned long long got = have - head;
    while (got < cl) {
        ssize_t r = recv(fd, buf, cap, 0);
        if (r <= 0) return -1;
        got += (unsigned long long)r;
    }
    *body_len = cl;
    return status;
}

static void *worker(void *arg)
{
    long id = (long)arg;
    int put = mode_mix ? id % 2 == 0 : mode_put;
    int fd = connect_to();
    size_t cap = 4 << 20;
    char *buf = malloc(cap);
    char head[4096], path[512];
    double end = now() + seconds;
    unsigned long long n = 0;
    do {
        if (put)
            snprintf(path, sizeof(path), "/%s/bench/%ld/%llu", bucket, id, n);
        else
            snprintf(path, sizeof(path), "/%s/bench/get", bucket);
        int hl = request_head(head, sizeof(head), put ? "PUT" : "GET", path, put ? size : 0);
        if (send_all(fd, head, (size_t)hl)) goto fail;
        if (put) {
            unsigned long long left = size;
            while (left) {
                size_t c = left < CHUNK ? (size_t)left : CHUNK;
                if (send_all(fd, payload, c)) goto fail;
                left -= c;
            }
        }
        unsigned long long bl;
        int st = read_response(fd, buf, cap, &bl);
        if (st != 200) {
            fprintf(stderr, "status %d\n", st);
            goto fail;
        }
        atomic_fetch_add(&total_bytes, put ? size : bl);
        atomic_fetch_add(&total_ops, 1);
        n++;
    } while (seconds > 0 && now() < end);
    close(fd);
    free(buf);
    return NULL;
fail:
    atomic_store(&failed, 1);
    close(fd);
    free(buf);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 8) {
        fprintf(stderr, "usage: %s HOST PORT BUCKET put|get SIZE CONNECTIONS SECONDS [AK SK]\n",
                argv[0]);
        return 2;
    }
    host = argv[1];
    port = atoi(argv[2]);
    bucket = argv[3];
    mode_put = strcmp(argv[4], "put") == 0;
    mode_mix = strcmp(argv[4], "mix") == 0;
    size = strtoull(argv[5], NULL, 10);
    int conns = atoi(argv[6]);
    seconds = atoi(argv[7]);
    if (argc >= 10) {
        access_key = argv[8];
        secret_key = argv[9];
    }
    payload = malloc(CHUNK);
    for (int i = 0; i < CHUNK; i++)
        payload[i] = (char)(i * 7 + 3);
    if (!mode_put) {
        /* one object to read back */
        int fd = connect_to();
        char head[4096], path[512], buf[65536];
        snprintf(path, sizeof(path), "/%s/bench/get", bucket);
        int hl = request_head(head, sizeof(head), "PUT", path, size);
        send_all(fd, head, (size_t)hl);
        for (unsigned long long left = size; left;) {
            size_t c = left < CHUNK ? (size_t)left : CHUNK;
            send_all(fd, payload, c);
            left -= c;
        }
        unsigned long long bl;
        if (read_response(fd, buf, sizeof(buf), &bl) != 200) {
            fprintf(stderr, "seed PUT failed\n");
            return 1;
        }
        close(fd);
    }
    pthread_t th[256];
    if (conns > 256) conns = 256;
    double t0 = now();
    for (long i = 0; i < conns; i++)
        pthread_create(&th[i], NULL, worker, (void *)i);
    for (int i = 0; i < conns; i++)
        pthread_join(th[i], NULL);
    double dt = now() - t0;
    unsigned long long b = atomic_load(&total_bytes), ops = atomic_load(&total_ops);
    printf("%s size=%llu conns=%d ops=%llu bytes=%llu time=%.2fs throughput=%.3f GB/s "
           "(%.1f ops/s)%s\n",
           mode_mix   ? "PUT+GET"
           : mode_put ? "PUT"
                      : "GET",
           size, conns, ops, b, dt, (double)b / dt / 1e9, (double)ops / dt,
           atomic_load(&failed) ? " FAILURES" : "");
    return atomic_load(&failed) ? 1 : 0;
}

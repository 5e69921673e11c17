/* SHA-256 and HMAC-SHA256 on a SHA-256 implementation fetched once and a per-thread context. */
#include "sigv4/digest.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static EVP_MD *sha256_md;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;
static pthread_key_t ctx_key;

static void free_ctx(void *p)
{
    EVP_MD_CTX_free(p);
}

static void md_init(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!sha256_md || pthread_key_create(&ctx_key, free_ctx) != 0) abort();
}

static EVP_MD_CTX *thread_ctx(void)
{
    pthread_once(&md_once, md_init);
    EVP_MD_CTX *ctx = pthread_getspecific(ctx_key);
    if (!ctx) {
        ctx = EVP_MD_CTX_new();
        if (!ctx || pthread_setspecific(ctx_key, ctx) != 0) abort();
    }
    return ctx;
}

void sigv4_sha256_parts(int n, const void *const *data, const size_t *len, unsigned char out[32])
{
    EVP_MD_CTX *ctx = thread_ctx();
    if (EVP_DigestInit_ex2(ctx, sha256_md, NULL) != 1) abort();
    for (int i = 0; i < n; i++)
        if (len[i]) EVP_DigestUpdate(ctx, data[i], len[i]);
    EVP_DigestFinal_ex(ctx, out, NULL);
}

void sigv4_sha256(const void *data, size_t len, unsigned char out[32])
{
    sigv4_sha256_parts(1, &data, &len, out);
}

void sigv4_hmac_sha256(const void *key, size_t klen, const void *data, size_t len,
                       unsigned char out[32])
{
    unsigned char k[64] = {0}, ipad[64], opad[64], inner[32];
    if (klen > 64) {
        sigv4_sha256(key, klen, k);
    } else if (klen) {
        memcpy(k, key, klen);
    }
    for (int i = 0; i < 64; i++) {
        ipad[i] = k[i] ^ 0x36;
        opad[i] = k[i] ^ 0x5c;
    }
    const void *in_parts[2] = {ipad, data};
    size_t in_len[2] = {64, len};
    sigv4_sha256_parts(2, in_parts, in_len, inner);
    const void *out_parts[2] = {opad, inner};
    size_t out_len[2] = {64, 32};
    sigv4_sha256_parts(2, out_parts, out_len, out);
}

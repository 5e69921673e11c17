/* SHA-256 and HMAC-SHA256 without OpenSSL 3's per-call algorithm fetch (about 20k instructions
 * per one-shot call, more than the rest of a signature check). */
#ifndef SIGV4_DIGEST_H
#define SIGV4_DIGEST_H

#include <stddef.h>

/* SHA-256 of the concatenation of n parts (data[i], len[i]) into out. */
void sigv4_sha256_parts(int n, const void *const *data, const size_t *len, unsigned char out[32]);
/* SHA-256 of data into out. */
void sigv4_sha256(const void *data, size_t len, unsigned char out[32]);
/* HMAC-SHA256 of data under key into out. */
void sigv4_hmac_sha256(const void *key, size_t klen, const void *data, size_t len,
                       unsigned char out[32]);

#endif

/* Object digests: MD5 for ETags, SHA-256 for payload hashes, and S3's flexible checksums. */
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "providers/s3/internal.h"
#include "sigv4/encode.h"

static uint32_t crc32_tab[8][256], crc32c_tab[8][256];
static uint64_t crc64_tab[8][256];
static pthread_once_t tab_once = PTHREAD_ONCE_INIT;

static void tables_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t a = i, c = i;
        uint64_t d = i;
        for (int k = 0; k < 8; k++) {
            a = (a & 1) ? (a >> 1) ^ 0xEDB88320u : a >> 1;
            c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
            d = (d & 1) ? (d >> 1) ^ 0x9A6C9329AC4BC9B5ull : d >> 1;
        }
        crc32_tab[0][i] = a;
        crc32c_tab[0][i] = c;
        crc64_tab[0][i] = d;
    }
    for (int t = 1; t < 8; t++)
        for (int i = 0; i < 256; i++) {
            crc32_tab[t][i] = (crc32_tab[t - 1][i] >> 8) ^ crc32_tab[0][crc32_tab[t - 1][i] & 0xff];
            crc32c_tab[t][i] =
                (crc32c_tab[t - 1][i] >> 8) ^ crc32c_tab[0][crc32c_tab[t - 1][i] & 0xff];
            crc64_tab[t][i] = (crc64_tab[t - 1][i] >> 8) ^ crc64_tab[0][crc64_tab[t - 1][i] & 0xff];
        }
}

/* Slicing-by-8 over a reflected 32-bit CRC table set. */
static uint32_t crc32_generic(uint32_t tab[8][256], uint32_t crc, const unsigned char *p, size_t n)
{
    crc = ~crc;
    while (n && ((uintptr_t)p & 7)) {
        crc = (crc >> 8) ^ tab[0][(crc ^ *p++) & 0xff];
        n--;
    }
    while (n >= 8) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + 4, 4);
        lo ^= crc;
        crc = tab[7][lo & 0xff] ^ tab[6][(lo >> 8) & 0xff] ^ tab[5][(lo >> 16) & 0xff] ^
              tab[4][lo >> 24] ^ tab[3][hi & 0xff] ^ tab[2][(hi >> 8) & 0xff] ^
              tab[1][(hi >> 16) & 0xff] ^ tab[0][hi >> 24];
        p += 8;
        n -= 8;
    }
    while (n--)
        crc = (crc >> 8) ^ tab[0][(crc ^ *p++) & 0xff];
    return ~crc;
}

uint32_t s3_crc32_update(uint32_t crc, const void *data, size_t len)
{
    pthread_once(&tab_once, tables_init);
    return crc32_generic(crc32_tab, crc, data, len);
}

uint32_t s3_crc32c_update(uint32_t crc, const void *data, size_t len)
{
    pthread_once(&tab_once, tables_init);
    return crc32_generic(crc32c_tab, crc, data, len);
}

uint64_t s3_crc64nvme_update(uint64_t crc, const void *data, size_t len)
{
    pthread_once(&tab_once, tables_init);
    const unsigned char *p = data;
    crc = ~crc;
    while (len >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        v ^= crc;
        crc = crc64_tab[7][v & 0xff] ^ crc64_tab[6][(v >> 8) & 0xff] ^
              crc64_tab[5][(v >> 16) & 0xff] ^ crc64_tab[4][(v >> 24) & 0xff] ^
              crc64_tab[3][(v >> 32) & 0xff] ^ crc64_tab[2][(v >> 40) & 0xff] ^
              crc64_tab[1][(v >> 48) & 0xff] ^ crc64_tab[0][v >> 56];
        p += 8;
        len -= 8;
    }
    while (len--)
        crc = (crc >> 8) ^ crc64_tab[0][(crc ^ *p++) & 0xff];
    return ~crc;
}

static const struct {
    const char *name, *header, *xml;
} ck_names[] = {
    [S3_CK_NONE] = {"", "", ""},
    [S3_CK_CRC32] = {"CRC32", "x-amz-checksum-crc32", "ChecksumCRC32"},
    [S3_CK_CRC32C] = {"CRC32C", "x-amz-checksum-crc32c", "ChecksumCRC32C"},
    [S3_CK_CRC64NVME] = {"CRC64NVME", "x-amz-checksum-crc64nvme", "ChecksumCRC64NVME"},
    [S3_CK_SHA1] = {"SHA1", "x-amz-checksum-sha1", "ChecksumSHA1"},
    [S3_CK_SHA256] = {"SHA256", "x-amz-checksum-sha256", "ChecksumSHA256"},
    [S3_CK_SHA512] = {"SHA512", "x-amz-checksum-sha512", "ChecksumSHA512"},
    [S3_CK_MD5] = {"MD5", "x-amz-checksum-md5", "ChecksumMD5"},
};

const EVP_MD *s3_cksum_md(enum s3_cksum c)
{
    switch (c) {
    case S3_CK_SHA1:
        return EVP_sha1();
    case S3_CK_SHA256:
        return EVP_sha256();
    case S3_CK_SHA512:
        return EVP_sha512();
    case S3_CK_MD5:
        return EVP_md5();
    default:
        return NULL;
    }
}

int s3_cksum_len(enum s3_cksum c)
{
    switch (c) {
    case S3_CK_CRC32:
    case S3_CK_CRC32C:
        return 4;
    case S3_CK_CRC64NVME:
        return 8;
    case S3_CK_SHA1:
        return 20;
    case S3_CK_SHA256:
        return 32;
    case S3_CK_SHA512:
        return 64;
    case S3_CK_MD5:
        return 16;
    default:
        return 0;
    }
}

enum s3_cksum s3_cksum_from_name(const char *name)
{
    if (!name) return S3_CK_NONE;
    for (int i = S3_CK_CRC32; i <= S3_CK__LAST; i++)
        if (strcasecmp(name, ck_names[i].name) == 0) return (enum s3_cksum)i;
    return S3_CK_NONE;
}

const char *s3_cksum_name(enum s3_cksum c)
{
    return ck_names[c].name;
}

const char *s3_cksum_header(enum s3_cksum c)
{
    return ck_names[c].header;
}

const char *s3_cksum_xml_name(enum s3_cksum c)
{
    return ck_names[c].xml;
}

int s3_hasher_init(struct s3_hasher *h, int want_sha256, enum s3_cksum ck)
{
    memset(h, 0, sizeof(*h));
    h->ck = ck;
    h->md5 = EVP_MD_CTX_new();
    if (!h->md5 || EVP_DigestInit_ex(h->md5, EVP_md5(), NULL) != 1) goto fail;
    if (want_sha256) {
        h->sha256 = EVP_MD_CTX_new();
        if (!h->sha256 || EVP_DigestInit_ex(h->sha256, EVP_sha256(), NULL) != 1) goto fail;
    }
    if (s3_cksum_md(ck)) {
        h->ck_md = EVP_MD_CTX_new();
        if (!h->ck_md || EVP_DigestInit_ex(h->ck_md, s3_cksum_md(ck), NULL) != 1) goto fail;
    }
    return 0;
fail:
    s3_hasher_free(h);
    return -1;
}

void s3_hasher_update(struct s3_hasher *h, const void *data, size_t len)
{
    EVP_DigestUpdate(h->md5, data, len);
    if (h->sha256) EVP_DigestUpdate(h->sha256, data, len);
    switch (h->ck) {
    case S3_CK_CRC32:
        h->crc32 = s3_crc32_update(h->crc32, data, len);
        break;
    case S3_CK_CRC32C:
        h->crc32 = s3_crc32c_update(h->crc32, data, len);
        break;
    case S3_CK_CRC64NVME:
        h->crc64 = s3_crc64nvme_update(h->crc64, data, len);
        break;
    case S3_CK_SHA1:
    case S3_CK_SHA256:
    case S3_CK_SHA512:
    case S3_CK_MD5:
        EVP_DigestUpdate(h->ck_md, data, len);
        break;
    case S3_CK_NONE:
        break;
    }
}

void s3_hasher_final(struct s3_hasher *h, char md5_hex[33], unsigned char md5_raw[16],
                     char sha256_hex[65], char ck_b64[S3_CK_B64_MAX], unsigned char *ck_raw,
                     size_t *ck_len)
{
    unsigned char buf[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(h->md5, buf, &n);
    if (md5_raw) memcpy(md5_raw, buf, 16);
    if (md5_hex) sigv4_hex(buf, 16, md5_hex);
    if (sha256_hex) sha256_hex[0] = '\0';
    if (h->sha256) {
        EVP_DigestFinal_ex(h->sha256, buf, &n);
        if (sha256_hex) sigv4_hex(buf, 32, sha256_hex);
    }
    size_t len = 0;
    switch (h->ck) {
    case S3_CK_CRC32:
    case S3_CK_CRC32C:
        buf[0] = (unsigned char)(h->crc32 >> 24);
        buf[1] = (unsigned char)(h->crc32 >> 16);
        buf[2] = (unsigned char)(h->crc32 >> 8);
        buf[3] = (unsigned char)h->crc32;
        len = 4;
        break;
    case S3_CK_CRC64NVME:
        for (int i = 0; i < 8; i++)
            buf[i] = (unsigned char)(h->crc64 >> (56 - 8 * i));
        len = 8;
        break;
    case S3_CK_SHA1:
    case S3_CK_SHA256:
    case S3_CK_SHA512:
    case S3_CK_MD5:
        EVP_DigestFinal_ex(h->ck_md, buf, &n);
        len = n;
        break;
    case S3_CK_NONE:
        break;
    }
    if (ck_b64) {
        ck_b64[0] = '\0';
        if (len) sigv4_base64(buf, len, ck_b64);
    }
    if (ck_raw) memcpy(ck_raw, buf, len);
    if (ck_len) *ck_len = len;
}

void s3_hasher_free(struct s3_hasher *h)
{
    EVP_MD_CTX_free(h->md5);
    EVP_MD_CTX_free(h->sha256);
    EVP_MD_CTX_free(h->ck_md);
    h->md5 = h->sha256 = h->ck_md = NULL;
}

int s3_base64_decode(const char *in, unsigned char *out, size_t cap)
{
    size_t n = strlen(in);
    if (n == 0 || n % 4 || n > 128) return -1; /* headers carry whole, padded quads */
    return (int)sigv4_base64_decode(in, n, out, cap);
}

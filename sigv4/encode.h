/* Hex and base64, written once for the whole tree (header-only). */
#ifndef SIGV4_ENCODE_H
#define SIGV4_ENCODE_H

/* Why here and header-only: sigv4/ needs hex for signatures and base64 for SigV2, and must stay a
 * pure library with nothing from protocol/; protocol/ (which renders sigv4's failures),
 * persistence/ and the providers include this header without linking cpl_sigv4. */

#include <stddef.h>
#include <stdint.h>

/* Writes the lower-hex form of n bytes of in to out (2n characters, then a NUL: 2n + 1 bytes). */
static inline void sigv4_hex(const void *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *p = in;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

/* Returns the value of hex digit c (either case), or -1. */
static inline int sigv4_hex_value(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Length of the base64 text of n bytes, without the NUL. */
#define SIGV4_BASE64_LEN(n) (((n) + 2) / 3 * 4)

/* Writes the padded standard base64 of n bytes of in to out (SIGV4_BASE64_LEN(n) + 1 bytes) and
 * returns its length. */
static inline size_t sigv4_base64(const void *in, size_t n, char *out)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const unsigned char *p = in;
    size_t o = 0, i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
        out[o++] = tab[v >> 18];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = tab[(v >> 6) & 63];
        out[o++] = tab[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
        out[o++] = tab[v >> 18];
        out[o++] = tab[(v >> 12) & 63];
        out[o++] = i + 1 < n ? tab[(v >> 6) & 63] : '=';
        out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

/* Decodes n characters of standard base64 (padding optional, nothing after it) into out, which
 * holds cap bytes (n / 4 * 3 + 3 always suffice). Returns the decoded length, or -1 for text that
 * is not base64 or does not fit. */
static inline int64_t sigv4_base64_decode(const char *in, size_t n, unsigned char *out, size_t cap)
{
    size_t pad = 0;
    while (n > 0 && in[n - 1] == '=' && pad < 2) {
        n--;
        pad++;
    }
    if (n % 4 == 1 || (pad && (n + pad) % 4)) return -1;
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)in[i], v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+')
            v = 62;
        else if (c == '/')
            v = 63;
        else
            return -1;
        acc = (acc << 6 | (uint32_t)v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= cap) return -1;
            out[o++] = (unsigned char)(acc >> bits);
        }
    }
    return (int64_t)o;
}

#endif

/* sigv4's growable byte buffer. */
#include "sigv4/sb.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void buf_grow(char **buf, size_t len, size_t *cap, size_t extra)
{
    /* No object is larger than PTRDIFF_MAX: a size beyond it (or one that wraps) is out of
     * memory, and doubling towards it would wrap the capacity to 0 and spin. */
    if (extra > PTRDIFF_MAX - 1 - len) abort();
    size_t need = len + extra + 1;
    if (need <= *cap) return;
    size_t c = *cap ? *cap : 256;
    while (c < need)
        c = c > PTRDIFF_MAX / 2 ? need : c * 2;
    char *p = realloc(*buf, c);
    if (!p) abort();
    *buf = p;
    *cap = c;
}

void sigv4_buf_append(char **buf, size_t *len, size_t *cap, const void *data, size_t n)
{
    buf_grow(buf, *len, cap, n);
    if (n) memcpy(*buf + *len, data, n);
    *len += n;
    (*buf)[*len] = '\0';
}

void sigv4_buf_vprintf(char **buf, size_t *len, size_t *cap, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n <= 0) return;
    buf_grow(buf, *len, cap, (size_t)n);
    vsnprintf(*buf + *len, (size_t)n + 1, fmt, ap);
    *len += (size_t)n;
}

void sigv4_sb_append(struct sigv4_sb *sb, const void *data, size_t n)
{
    sigv4_buf_append(&sb->buf, &sb->len, &sb->cap, data, n);
}

void sigv4_sb_puts(struct sigv4_sb *sb, const char *s)
{
    sigv4_sb_append(sb, s, strlen(s));
}

void sigv4_sb_putc(struct sigv4_sb *sb, char c)
{
    sigv4_sb_append(sb, &c, 1);
}

void sigv4_sb_printf(struct sigv4_sb *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sigv4_buf_vprintf(&sb->buf, &sb->len, &sb->cap, fmt, ap);
    va_end(ap);
}

void sigv4_sb_reset(struct sigv4_sb *sb)
{
    sb->len = 0;
    if (sb->buf) sb->buf[0] = '\0';
}

void sigv4_sb_free(struct sigv4_sb *sb)
{
    free(sb->buf);
    sb->buf = NULL;
    sb->len = sb->cap = 0;
}

const char *sigv4_sb_str(const struct sigv4_sb *sb)
{
    return sb->buf ? sb->buf : "";
}

/* sigv4's growable byte buffer. */
#include "sigv4/sb.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void sb_grow(struct sigv4_sb *sb, size_t extra)
{
    /* A size beyond PTRDIFF_MAX (or one that wraps) is out of memory. */
    if (extra > PTRDIFF_MAX - 1 - sb->len) abort();
    size_t need = sb->len + extra + 1;
    if (need <= sb->cap) return;
    size_t cap = sb->cap ? sb->cap : 256;
    while (cap < need)
        cap = cap > PTRDIFF_MAX / 2 ? need : cap * 2;
    char *p = realloc(sb->buf, cap);
    if (!p) abort();
    sb->buf = p;
    sb->cap = cap;
}

void sigv4_sb_append(struct sigv4_sb *sb, const void *data, size_t n)
{
    sb_grow(sb, n);
    if (n) memcpy(sb->buf + sb->len, data, n);
    sb->len += n;
    sb->buf[sb->len] = '\0';
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
    va_list ap, cp;
    va_start(ap, fmt);
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n > 0) {
        sb_grow(sb, (size_t)n);
        vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
        sb->len += (size_t)n;
    }
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

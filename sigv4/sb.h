/* sigv4's own growable byte buffer for canonical requests and strings to sign, so that the
 * library needs nothing from protocol/. */
#ifndef SIGV4_SB_H
#define SIGV4_SB_H

#include <stdarg.h>
#include <stddef.h>

struct sigv4_sb {
    char *buf; /* NUL-terminated once anything was appended; NULL when empty */
    size_t len;
    size_t cap;
};

#define SIGV4_SB_INIT                                                                              \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* The core of this buffer and of protocol's proto_sb, which keeps its own struct: appends n bytes
 * (or the formatted text) to the malloc'ed *buf of *len bytes and *cap capacity, growing it and
 * keeping it NUL-terminated. Aborts on out of memory. */
void sigv4_buf_append(char **buf, size_t *len, size_t *cap, const void *data, size_t n);
void sigv4_buf_vprintf(char **buf, size_t *len, size_t *cap, const char *fmt, va_list ap);

/* Appends n bytes. Aborts on out of memory. */
void sigv4_sb_append(struct sigv4_sb *sb, const void *data, size_t n);
void sigv4_sb_puts(struct sigv4_sb *sb, const char *s);
void sigv4_sb_putc(struct sigv4_sb *sb, char c);
void sigv4_sb_printf(struct sigv4_sb *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Empties the buffer, keeping its memory. */
void sigv4_sb_reset(struct sigv4_sb *sb);
/* Frees the memory; the buffer is empty and reusable afterwards. */
void sigv4_sb_free(struct sigv4_sb *sb);
/* Returns the contents ("" when empty); valid until the next append or free. */
const char *sigv4_sb_str(const struct sigv4_sb *sb);

#endif

/* Growable byte buffer for bodies, XML and canonical requests. */
#ifndef PROTO_STRBUF_H
#define PROTO_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

struct proto_sb {
    char *buf; /* always NUL-terminated once anything was appended; NULL when empty */
    size_t len;
    size_t cap;
};

#define PROTO_SB_INIT                                                                              \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Appends n bytes. Aborts on out of memory. */
void proto_sb_append(struct proto_sb *sb, const void *data, size_t n);
void proto_sb_puts(struct proto_sb *sb, const char *s);
void proto_sb_putc(struct proto_sb *sb, char c);
void proto_sb_printf(struct proto_sb *sb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void proto_sb_vprintf(struct proto_sb *sb, const char *fmt, va_list ap);
/* Appends s with the five XML special characters escaped. */
void proto_sb_xml_escape(struct proto_sb *sb, const char *s, size_t n);
/* Appends s as a JSON string literal, quotes included. */
void proto_sb_json_string(struct proto_sb *sb, const char *s, size_t n);
/* Empties the buffer, keeping its memory. */
void proto_sb_reset(struct proto_sb *sb);
/* Frees the memory; the buffer is empty and reusable afterwards. */
void proto_sb_free(struct proto_sb *sb);
/* Returns the buffer's contents ("" when empty); valid until the next append or free. */
const char *proto_sb_str(const struct proto_sb *sb);

#endif

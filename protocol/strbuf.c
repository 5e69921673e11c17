/* Growable byte buffer. */
#include "protocol/strbuf.h"
#include "sigv4/encode.h"
#include "sigv4/sb.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void proto_sb_append(struct proto_sb *sb, const void *data, size_t n)
{
    sigv4_buf_append(&sb->buf, &sb->len, &sb->cap, data, n);
}

void proto_sb_puts(struct proto_sb *sb, const char *s)
{
    proto_sb_append(sb, s, strlen(s));
}

void proto_sb_putc(struct proto_sb *sb, char c)
{
    proto_sb_append(sb, &c, 1);
}

void proto_sb_vprintf(struct proto_sb *sb, const char *fmt, va_list ap)
{
    sigv4_buf_vprintf(&sb->buf, &sb->len, &sb->cap, fmt, ap);
}

void proto_sb_printf(struct proto_sb *sb, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    proto_sb_vprintf(sb, fmt, ap);
    va_end(ap);
}

void proto_sb_xml_escape(struct proto_sb *sb, const char *s, size_t n)
{
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep = NULL;
        switch (s[i]) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\'':
            rep = "&apos;";
            break;
        case '\r':
            rep = "&#13;";
            break;
        default:
            break;
        }
        char ref[8];
        if (!rep && (unsigned char)s[i] < 0x20 && s[i] != '\t' && s[i] != '\n') {
            /* S3 writes other control characters in keys as character references. */
            snprintf(ref, sizeof(ref), "&#x%X;", (unsigned)(unsigned char)s[i]);
            rep = ref;
        }
        if (rep) {
            proto_sb_append(sb, s + start, i - start);
            proto_sb_puts(sb, rep);
            start = i + 1;
        }
    }
    proto_sb_append(sb, s + start, n - start);
}

void proto_sb_json_string(struct proto_sb *sb, const char *s, size_t n)
{
    proto_sb_putc(sb, '"');
    size_t start = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        proto_sb_append(sb, s + start, i - start);
        start = i + 1;
        switch (c) {
        case '"':
            proto_sb_puts(sb, "\\\"");
            break;
        case '\\':
            proto_sb_puts(sb, "\\\\");
            break;
        case '\n':
            proto_sb_puts(sb, "\\n");
            break;
        case '\r':
            proto_sb_puts(sb, "\\r");
            break;
        case '\t':
            proto_sb_puts(sb, "\\t");
            break;
        default: {
            char u[7] = {'\\', 'u', '0', '0'};
            sigv4_hex(&c, 1, u + 4);
            proto_sb_append(sb, u, 6);
        }
        }
    }
    proto_sb_append(sb, s + start, n - start);
    proto_sb_putc(sb, '"');
}

void proto_sb_reset(struct proto_sb *sb)
{
    sb->len = 0;
    if (sb->buf) sb->buf[0] = '\0';
}

void proto_sb_free(struct proto_sb *sb)
{
    free(sb->buf);
    sb->buf = NULL;
    sb->len = sb->cap = 0;
}

const char *proto_sb_str(const struct proto_sb *sb)
{
    return sb->buf ? sb->buf : "";
}

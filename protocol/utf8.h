/* UTF-8 checks shared by every codec: refusing invalid input and keeping answers valid. */
#ifndef PROTO_UTF8_H
#define PROTO_UTF8_H

#include <stddef.h>

#include "protocol/arena.h"
#include "protocol/strbuf.h"

/* Returns the length of the valid UTF-8 sequence at s (n >= 1 bytes left), or 0 when the bytes
 * there are not UTF-8 (overlong forms, UTF-16 surrogates and code points above U+10FFFF count as
 * invalid). */
size_t proto_utf8_seq(const unsigned char *s, size_t n);
/* Returns the offset of the first byte of s[0..n) that is not valid UTF-8, or n when all are. */
size_t proto_utf8_check(const char *s, size_t n);
/* Appends n bytes of s to sb with each invalid byte replaced by U+FFFD (as Java's decoder does). */
void proto_sb_append_utf8(struct proto_sb *sb, const char *s, size_t n);
/* Returns s itself when its n bytes are valid UTF-8, else an arena-owned NUL-terminated copy
 * with each invalid byte replaced by U+FFFD. */
const char *proto_utf8_sanitize(proto_arena *a, const char *s, size_t n);
/* Replaces, in place, each invalid byte of sb by U+FFFD; a no-op (one scan) when sb is valid. */
void proto_sb_sanitize_utf8(struct proto_sb *sb);

#endif

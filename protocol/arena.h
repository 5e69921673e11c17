/* Per-request bump allocator: everything a request allocates is freed in one call. */
#ifndef PROTO_ARENA_H
#define PROTO_ARENA_H

#include <stdarg.h>
#include <stddef.h>

typedef struct proto_arena proto_arena;

/* Returns a new empty arena (never NULL: aborts on out of memory). Free with proto_arena_free. */
proto_arena *proto_arena_new(void);
/* Frees the arena and every block allocated from it. NULL is a no-op. */
void proto_arena_free(proto_arena *a);
/* Returns n zeroed bytes, 16-byte aligned, owned by the arena (aborts when n cannot be had). */
void *proto_arena_alloc(proto_arena *a, size_t n);
/* Returns a NUL-terminated copy of s (NULL gives NULL), owned by the arena. */
char *proto_arena_strdup(proto_arena *a, const char *s);
/* Returns a NUL-terminated copy of the n bytes at s, owned by the arena. */
char *proto_arena_strndup(proto_arena *a, const char *s, size_t n);
/* Returns a formatted string owned by the arena. */
char *proto_arena_printf(proto_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *proto_arena_vprintf(proto_arena *a, const char *fmt, va_list ap);

#endif

/* Per-request bump allocator backed by a chain of malloc'd blocks. */
#include "protocol/arena.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BLOCK 8192

struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
};

struct proto_arena {
    struct arena_block *head;
};

static struct arena_block *block_new(size_t cap)
{
    struct arena_block *b = malloc(sizeof(*b) + cap);
    if (!b) abort();
    b->next = NULL;
    b->used = 0;
    b->cap = cap;
    return b;
}

proto_arena *proto_arena_new(void)
{
    proto_arena *a = calloc(1, sizeof(*a));
    if (!a) abort();
    return a;
}

void proto_arena_free(proto_arena *a)
{
    if (!a) return;
    struct arena_block *b = a->head;
    while (b) {
        struct arena_block *next = b->next;
        free(b);
        b = next;
    }
    free(a);
}

void *proto_arena_alloc(proto_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n == 0) n = 16;
    struct arena_block *b = a->head;
    if (!b || b->cap - b->used < n) {
        if (n > ARENA_BLOCK / 2) {
            /* Large allocations get their own block, kept behind the current one. */
            struct arena_block *big = block_new(n);
            big->used = n;
            if (b) {
                big->next = b->next;
                b->next = big;
            } else {
                a->head = big;
            }
            memset(big->data, 0, n);
            return big->data;
        }
        b = block_new(ARENA_BLOCK);
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

char *proto_arena_strndup(proto_arena *a, const char *s, size_t n)
{
    char *p = proto_arena_alloc(a, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *proto_arena_strdup(proto_arena *a, const char *s)
{
    return s ? proto_arena_strndup(a, s, strlen(s)) : NULL;
}

char *proto_arena_vprintf(proto_arena *a, const char *fmt, va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0) return proto_arena_strdup(a, "");
    char *p = proto_arena_alloc(a, (size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    return p;
}

char *proto_arena_printf(proto_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = proto_arena_vprintf(a, fmt, ap);
    va_end(ap);
    return p;
}

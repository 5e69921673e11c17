/* Per-request bump allocator backed by a chain of malloc'd blocks. */
#include "protocol/arena.h"

#include <pthread.h>
#include <stdint.h>
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
    if (cap > SIZE_MAX - sizeof(struct arena_block)) abort();
    struct arena_block *b = malloc(sizeof(*b) + cap);
    if (!b) abort();
    b->next = NULL;
    b->used = 0;
    b->cap = cap;
    return b;
}

/* Each thread keeps a few standard blocks for the next request instead of returning them to
 * malloc: a request is served on one thread from start to end. */
#define ARENA_CACHE 4
struct block_cache {
    struct arena_block *blocks[ARENA_CACHE];
    int n;
};
static pthread_key_t cache_key;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void cache_free(void *p)
{
    struct block_cache *c = p;
    for (int i = 0; i < c->n; i++)
        free(c->blocks[i]);
    free(c);
}

static void cache_key_init(void)
{
    pthread_key_create(&cache_key, cache_free);
}

static struct block_cache *thread_cache(void)
{
    pthread_once(&cache_once, cache_key_init);
    struct block_cache *c = pthread_getspecific(cache_key);
    if (!c && (c = calloc(1, sizeof(*c))) && pthread_setspecific(cache_key, c) != 0) {
        free(c);
        c = NULL;
    }
    return c;
}

static struct arena_block *block_standard(void)
{
    struct block_cache *c = thread_cache();
    if (c && c->n) {
        struct arena_block *b = c->blocks[--c->n];
        b->next = NULL;
        b->used = 0;
        return b;
    }
    return block_new(ARENA_BLOCK);
}

static void block_release(struct arena_block *b)
{
    struct block_cache *c = b->cap == ARENA_BLOCK ? thread_cache() : NULL;
    if (c && c->n < ARENA_CACHE)
        c->blocks[c->n++] = b;
    else
        free(b);
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
        block_release(b);
        b = next;
    }
    free(a);
}

void *proto_arena_alloc(proto_arena *a, size_t n)
{
    if (n > SIZE_MAX - 15) abort(); /* rounding up would wrap to a tiny block */
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
        b = block_standard();
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
    if (n == SIZE_MAX) abort();
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

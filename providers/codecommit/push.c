/* Settling a push: the branch heads before and after git receive-pack, the default branch of a
 * repository's first push, and the head listeners. */
#include <stdlib.h>
#include <string.h>

#include "providers/codecommit/internal.h"

#define MAX_REFS 100000

void cc_heads_free(struct cc_heads *h)
{
    for (size_t i = 0; i < h->n; i++)
        free(h->names[i]);
    free(h->names);
    free(h->ids);
    memset(h, 0, sizeof *h);
}

struct head_pair {
    char *name;
    git_oid id;
};

static int pair_cmp(const void *a, const void *b)
{
    return strcmp(((const struct head_pair *)a)->name, ((const struct head_pair *)b)->name);
}

/* Sorts h by name (ids alongside), for heads_find's binary search. */
static void heads_sort(struct cc_heads *h)
{
    if (h->n < 2) return;
    struct head_pair *p = malloc(h->n * sizeof *p);
    if (!p) abort();
    for (size_t i = 0; i < h->n; i++) {
        p[i].name = h->names[i];
        p[i].id = h->ids[i];
    }
    qsort(p, h->n, sizeof *p, pair_cmp);
    for (size_t i = 0; i < h->n; i++) {
        h->names[i] = p[i].name;
        h->ids[i] = p[i].id;
    }
    free(p);
}

int cc_heads_read(const char *path, struct cc_heads *h)
{
    git_repository *repo = NULL;
    git_branch_iterator *it = NULL;
    git_reference *ref = NULL;
    git_branch_t type;
    size_t cap = 0;
    memset(h, 0, sizeof *h);
    if (git_repository_open_bare(&repo, path) != 0) return -1;
    if (git_branch_iterator_new(&it, repo, GIT_BRANCH_LOCAL) == 0) {
        while (h->n < MAX_REFS && git_branch_next(&ref, &type, it) == 0) {
            const char *name = NULL;
            const git_oid *id = git_reference_target(ref);
            if (id && git_branch_name(&name, ref) == 0) {
                if (h->n == cap) {
                    cap = cap ? cap * 2 : 16;
                    h->names = realloc(h->names, cap * sizeof *h->names);
                    h->ids = realloc(h->ids, cap * sizeof *h->ids);
                    if (!h->names || !h->ids) abort();
                }
                h->names[h->n] = strdup(name);
                h->ids[h->n] = *id;
                h->n++;
            }
            git_reference_free(ref);
        }
        git_branch_iterator_free(it);
    }
    git_repository_free(repo);
    heads_sort(h);
    return 0;
}

/* Binary search: a push may leave very many branches, and settling looks each one up. */
static const git_oid *heads_find(const struct cc_heads *h, const char *name)
{
    size_t lo = 0, hi = h->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(h->names[mid], name);
        if (c == 0) return &h->ids[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

void cc_push_settle(store *s, struct cc_repo *r, const struct cc_heads *before)
{
    struct cc_heads after;
    if (cc_heads_read(r->path, &after) != 0) return;
    int changed = 0;
    for (size_t i = 0; i < after.n; i++) {
        const git_oid *old = heads_find(before, after.names[i]);
        if (old && git_oid_equal(old, &after.ids[i])) continue;
        changed = 1;
    }
    for (size_t i = 0; i < before->n; i++)
        if (!heads_find(&after, before->names[i])) changed = 1;
    if (changed) {
        const char *first = NULL;
        if (!r->default_branch[0] && after.n) {
            first = heads_find(&after, "main")     ? "main"
                    : heads_find(&after, "master") ? "master"
                                                   : after.names[0];
        }
        cc_repo_note_branch(s, r, first);
        for (size_t i = 0; i < after.n; i++) {
            const git_oid *old = heads_find(before, after.names[i]);
            if (old && git_oid_equal(old, &after.ids[i])) continue;
            cc_notify_head(r->account, r->region, r->name, after.names[i], old, &after.ids[i]);
        }
        for (size_t i = 0; i < before->n; i++)
            if (!heads_find(&after, before->names[i]))
                cc_notify_head(r->account, r->region, r->name, before->names[i], &before->ids[i],
                               NULL);
    }
    cc_heads_free(&after);
}

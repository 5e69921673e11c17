/* The credentials store: access key -> (secret, account id), thread-safe, loaded from a file. */
#include "sigv4/sigv4.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Entries are never freed before the store is, so pointers handed out by lookup stay valid even
 * when a key is replaced; a replaced entry is simply shadowed (the newest entry comes first). */
struct cred_entry {
    struct cred_entry *next;
    char *access_key, *secret, *account_id;
};

struct sigv4_creds {
    pthread_rwlock_t lock;
    struct cred_entry *head;
    sigv4_temp_resolver resolver;
    void *resolver_ctx;
};

static int valid_access_key(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 128) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= ' ' || c >= 0x7f || c == '/' || c == ',' || c == '=' || c == ';') return 0;
    }
    return 1;
}

static int valid_secret(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 256) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f) return 0;
    return 1;
}

static int valid_account(const char *s)
{
    if (!s || strlen(s) != 12) return 0;
    for (int i = 0; i < 12; i++)
        if (!isdigit((unsigned char)s[i])) return 0;
    return 1;
}

sigv4_creds *sigv4_creds_new(const char *default_account)
{
    sigv4_creds *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    pthread_rwlock_init(&c->lock, NULL);
    const char *acct = valid_account(default_account) ? default_account : "000000000000";
    if (sigv4_creds_add(c, "test", "test", acct) ||
        sigv4_creds_add(c, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                        acct)) {
        sigv4_creds_free(c);
        return NULL;
    }
    return c;
}

void sigv4_creds_free(sigv4_creds *c)
{
    if (!c) return;
    struct cred_entry *e = c->head;
    while (e) {
        struct cred_entry *next = e->next;
        free(e->access_key);
        free(e->secret);
        free(e->account_id);
        free(e);
        e = next;
    }
    pthread_rwlock_destroy(&c->lock);
    free(c);
}

int sigv4_creds_add(sigv4_creds *c, const char *access_key, const char *secret,
                    const char *account_id)
{
    if (!c || !valid_access_key(access_key) || !valid_secret(secret) || !valid_account(account_id))
        return -1;
    struct cred_entry *e = calloc(1, sizeof *e);
    if (!e) return -1;
    e->access_key = strdup(access_key);
    e->secret = strdup(secret);
    e->account_id = strdup(account_id);
    if (!e->access_key || !e->secret || !e->account_id) {
        free(e->access_key);
        free(e->secret);
        free(e->account_id);
        free(e);
        return -1;
    }
    pthread_rwlock_wrlock(&c->lock);
    e->next = c->head;
    c->head = e;
    pthread_rwlock_unlock(&c->lock);
    return 0;
}

int sigv4_creds_lookup(const sigv4_creds *c, const char *access_key, const char **secret,
                       const char **account_id)
{
    if (!c || !access_key) return 0;
    int found = 0;
    sigv4_creds *m = (sigv4_creds *)c;
    pthread_rwlock_rdlock(&m->lock);
    for (const struct cred_entry *e = c->head; e; e = e->next) {
        if (strcmp(e->access_key, access_key) == 0) {
            if (secret) *secret = e->secret;
            if (account_id) *account_id = e->account_id;
            found = 1;
            break;
        }
    }
    pthread_rwlock_unlock(&m->lock);
    return found;
}

int sigv4_creds_of_account(const sigv4_creds *c, const char *account_id, const char **access_key,
                           const char **secret)
{
    if (!c || !account_id) return 0;
    const struct cred_entry *found = NULL;
    sigv4_creds *m = (sigv4_creds *)c;
    pthread_rwlock_rdlock(&m->lock);
    for (const struct cred_entry *e = c->head; e; e = e->next) {
        if (strcmp(e->account_id, account_id) != 0) continue;
        /* a key replaced later for another account shadows this entry: skip it */
        const struct cred_entry *x = c->head;
        while (x != e && strcmp(x->access_key, e->access_key) != 0)
            x = x->next;
        if (x == e) found = e; /* the list is newest first: the last match is the oldest */
    }
    pthread_rwlock_unlock(&m->lock);
    if (!found) return 0;
    if (access_key) *access_key = found->access_key;
    if (secret) *secret = found->secret;
    return 1;
}

void sigv4_creds_set_resolver(sigv4_creds *c, sigv4_temp_resolver fn, void *ctx)
{
    if (!c) return;
    c->resolver = fn;
    c->resolver_ctx = ctx;
}

int sigv4_creds_lookup_temp(const sigv4_creds *c, const char *access_key,
                            struct sigv4_temp_key *out)
{
    if (!c || !c->resolver || !access_key || !valid_access_key(access_key)) return 0;
    memset(out, 0, sizeof *out);
    return c->resolver(c->resolver_ctx, access_key, out) == 1;
}

#define MAX_LINE 4096

int sigv4_creds_load_file(sigv4_creds *c, const char *path, char *err, size_t errlen)
{
    int rc = -1;
    char *line = NULL;
    size_t cap = 0, n_pairs = 0, cap_pairs = 0;
    char **pairs = NULL; /* triples: key, secret, account */
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open credentials file: %s", path, strerror(errno));
        goto out;
    }
    ssize_t len;
    unsigned lineno = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (len > MAX_LINE) {
            snprintf(err, errlen, "%s: line %u: too long", path, lineno);
            goto out;
        }
        if ((size_t)len != strlen(line)) {
            snprintf(err, errlen, "%s: line %u: line contains a NUL byte", path, lineno);
            goto out;
        }
        char *hash = strchr(line, '#');
        if (hash) *hash = '\0';
        char *tok[4] = {0};
        int nt = 0;
        char *save = NULL;
        for (char *t = strtok_r(line, " \t\r\n\v\f", &save); t;
             t = strtok_r(NULL, " \t\r\n\v\f", &save)) {
            if (nt < 4) tok[nt] = t;
            nt++;
        }
        if (nt == 0) continue;
        if (nt != 3) {
            snprintf(err, errlen,
                     "%s: line %u: expected 'ACCESS_KEY_ID SECRET_ACCESS_KEY ACCOUNT_ID', got %d "
                     "field%s",
                     path, lineno, nt, nt == 1 ? "" : "s");
            goto out;
        }
        if (!valid_access_key(tok[0])) {
            snprintf(err, errlen, "%s: line %u: invalid access key id '%.64s'", path, lineno,
                     tok[0]);
            goto out;
        }
        if (!valid_secret(tok[1])) {
            snprintf(err, errlen, "%s: line %u: invalid secret access key", path, lineno);
            goto out;
        }
        if (!valid_account(tok[2])) {
            snprintf(err, errlen, "%s: line %u: account id '%.64s' is not 12 digits", path, lineno,
                     tok[2]);
            goto out;
        }
        if (n_pairs + 3 > cap_pairs) {
            cap_pairs = cap_pairs ? cap_pairs * 2 : 24;
            char **np = realloc(pairs, cap_pairs * sizeof *np);
            if (!np) {
                snprintf(err, errlen, "%s: out of memory", path);
                goto out;
            }
            pairs = np;
        }
        for (int i = 0; i < 3; i++) {
            pairs[n_pairs] = strdup(tok[i]);
            if (!pairs[n_pairs]) {
                snprintf(err, errlen, "%s: out of memory", path);
                goto out;
            }
            n_pairs++;
        }
    }
    if (ferror(f)) {
        snprintf(err, errlen, "%s: read error: %s", path, strerror(errno));
        goto out;
    }
    /* All lines are valid: only now make them visible, so a bad file changes nothing. */
    for (size_t i = 0; i < n_pairs; i += 3) {
        if (sigv4_creds_add(c, pairs[i], pairs[i + 1], pairs[i + 2])) {
            snprintf(err, errlen, "%s: out of memory", path);
            goto out;
        }
    }
    rc = 0;
out:
    for (size_t i = 0; i < n_pairs; i++)
        free(pairs[i]);
    free(pairs);
    free(line);
    if (f) fclose(f);
    return rc;
}

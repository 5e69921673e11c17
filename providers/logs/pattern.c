/* Filter patterns of FilterLogEvents (the unstructured term syntax) and the event tokens. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/logs/internal.h"
#include "sigv4/encode.h"

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int lg_pattern_parse(struct lg_pattern *p, const char *text, char *err, size_t errlen)
{
    memset(p, 0, sizeof *p);
    size_t used = 0, tlen = strlen(text);
    if (tlen >= sizeof p->buf) {
        snprintf(err, errlen, "Invalid filter pattern: longer than 1024 characters");
        return -1;
    }
    const char *s = text;
    while (*s) {
        while (is_blank(*s))
            s++;
        if (!*s) break;
        if (p->n_terms == 0 && (*s == '{' || *s == '[')) {
            snprintf(err, errlen,
                     "Invalid filter pattern: JSON and space-delimited filter patterns are not "
                     "supported by codepipeline-local; use terms and quoted phrases");
            return -1;
        }
        enum lg_term_kind kind = LG_TERM_ALL;
        if (*s == '?' || *s == '-') {
            kind = *s == '?' ? LG_TERM_ANY : LG_TERM_NOT;
            s++;
        }
        char *start = p->buf + used;
        if (*s == '"') {
            s++;
            while (*s && *s != '"') {
                if (*s == '\\' && (s[1] == '"' || s[1] == '\\')) s++;
                p->buf[used++] = *s++;
            }
            if (*s != '"') {
                snprintf(err, errlen, "Invalid filter pattern: unterminated quoted phrase");
                return -1;
            }
            s++;
        } else {
            while (*s && !is_blank(*s))
                p->buf[used++] = *s++;
        }
        size_t n = (size_t)(p->buf + used - start);
        p->buf[used++] = '\0';
        if (n == 0) continue; /* "" or a lone ? or -: nothing to match */
        if (p->n_terms == LG_PATTERN_MAX_TERMS) {
            snprintf(err, errlen, "Invalid filter pattern: more than %d terms",
                     LG_PATTERN_MAX_TERMS);
            return -1;
        }
        p->terms[p->n_terms].s = start;
        p->terms[p->n_terms].n = n;
        p->terms[p->n_terms].kind = kind;
        p->n_terms++;
        if (kind == LG_TERM_ANY) p->n_any++;
    }
    return 0;
}

int lg_pattern_match(const struct lg_pattern *p, const char *msg, size_t len)
{
    int any = 0;
    for (int i = 0; i < p->n_terms; i++) {
        int found = memmem(msg, len, p->terms[i].s, p->terms[i].n) != NULL;
        switch (p->terms[i].kind) {
        case LG_TERM_ALL:
            if (!found) return 0;
            break;
        case LG_TERM_NOT:
            if (found) return 0;
            break;
        case LG_TERM_ANY:
            any |= found;
            break;
        }
    }
    return p->n_any == 0 || any;
}

/* 56 digits: the timestamp (20), the sequence number (20), then 16 zeros. */
void lg_event_id(char out[57], uint64_t ts, uint64_t seq)
{
    snprintf(out, 57, "%020" PRIu64 "%020" PRIu64 "0000000000000000", ts, seq);
}

void lg_token_format(char out[LG_TOKEN_LEN], char dir, uint64_t ts, uint64_t seq)
{
    out[0] = dir;
    out[1] = '/';
    lg_event_id(out + 2, ts, seq);
}

static int parse_digits(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int lg_token_parse(const char *tok, char *dir, uint64_t *ts, uint64_t *seq)
{
    size_t n = strlen(tok);
    if (n == 60 && strcmp(tok + 58, "/s") == 0) n = 58;
    if (n != 58 || (tok[0] != 'f' && tok[0] != 'b') || tok[1] != '/') return -1;
    uint64_t pad;
    if (parse_digits(tok + 2, 20, ts) || parse_digits(tok + 22, 20, seq) ||
        parse_digits(tok + 42, 16, &pad) || pad != 0)
        return -1;
    *dir = tok[0];
    return 0;
}

char *lg_hex_token(struct proto_req *req, const char *plain)
{
    size_t n = strlen(plain);
    char *out = proto_arena_alloc(req->arena, 2 * n + 6);
    memcpy(out, "lg1.", 4);
    sigv4_hex(plain, n, out + 4);
    return out;
}

/* Lowercase only, as lg_hex_token writes them. */
static int hexv(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

char *lg_hex_token_decode(struct proto_req *req, const char *tok)
{
    size_t n = strlen(tok);
    if (n < 6 || strncmp(tok, "lg1.", 4) != 0 || (n - 4) % 2) return NULL;
    size_t m = (n - 4) / 2;
    char *out = proto_arena_alloc(req->arena, m + 1);
    for (size_t i = 0; i < m; i++) {
        int h = hexv(tok[4 + 2 * i]), l = hexv(tok[5 + 2 * i]);
        if (h < 0 || l < 0 || (h == 0 && l == 0)) return NULL;
        out[i] = (char)(h * 16 + l);
    }
    out[m] = 0;
    return out;
}

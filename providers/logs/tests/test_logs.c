/* Unit tests of the logs provider: filter patterns, event tokens, and the in-process append. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "providers/logs/internal.h"

static int matches(const char *pattern, const char *msg)
{
    struct lg_pattern p;
    char err[200];
    cr_assert_eq(lg_pattern_parse(&p, pattern, err, sizeof err), 0, "%s: %s", pattern, err);
    return lg_pattern_match(&p, msg, strlen(msg));
}

Test(lg_pattern, empty_pattern_matches_everything)
{
    cr_assert(matches("", "anything"));
    cr_assert(matches("   ", ""));
}

Test(lg_pattern, every_plain_term_must_appear_case_sensitively)
{
    cr_assert(matches("ERROR disk", "ERROR: disk full"));
    cr_assert(matches("disk ERROR", "ERROR: disk full"));
    cr_assert_not(matches("ERROR network", "ERROR: disk full"));
    cr_assert_not(matches("error", "ERROR: disk full"));
}

Test(lg_pattern, quoted_phrase_matches_as_one_substring_with_escapes)
{
    cr_assert(matches("\"disk full\"", "ERROR: disk full"));
    cr_assert_not(matches("\"full disk\"", "ERROR: disk full"));
    cr_assert(matches("\"say \\\"hi\\\"\"", "they say \"hi\" here"));
    cr_assert(matches("\"a:b\" ERROR", "ERROR at a:b"));
}

Test(lg_pattern, question_mark_terms_need_any_one)
{
    cr_assert(matches("?ERROR ?WARN", "WARN slow"));
    cr_assert(matches("?ERROR ?WARN", "ERROR bad"));
    cr_assert_not(matches("?ERROR ?WARN", "INFO fine"));
    cr_assert(matches("db ?ERROR ?WARN", "WARN db slow"));
    cr_assert_not(matches("db ?ERROR ?WARN", "WARN web slow"));
}

Test(lg_pattern, minus_terms_exclude)
{
    cr_assert(matches("ERROR -Exiting", "ERROR disk"));
    cr_assert_not(matches("ERROR -Exiting", "ERROR Exiting now"));
    cr_assert_not(matches("-\"going down\"", "server going down"));
}

Test(lg_pattern, refuses_what_it_cannot_evaluate)
{
    struct lg_pattern p;
    char err[200];
    cr_assert_eq(lg_pattern_parse(&p, "\"open", err, sizeof err), -1);
    cr_assert(strstr(err, "unterminated"));
    cr_assert_eq(lg_pattern_parse(&p, "{ $.level = \"x\" }", err, sizeof err), -1);
    cr_assert_eq(lg_pattern_parse(&p, "[ip, user]", err, sizeof err), -1);
    char many[400] = "";
    for (int i = 0; i < LG_PATTERN_MAX_TERMS + 1; i++)
        strcat(many, "a ");
    cr_assert_eq(lg_pattern_parse(&p, many, err, sizeof err), -1);
}

Test(lg_token, round_trips_both_directions_in_aws_shape)
{
    char tok[LG_TOKEN_LEN], dir;
    uint64_t ts, seq;
    lg_token_format(tok, 'f', 1433190184356ULL, 42);
    cr_assert_eq(strlen(tok), 58);
    cr_assert_eq(strncmp(tok, "f/", 2), 0);
    cr_assert_eq(lg_token_parse(tok, &dir, &ts, &seq), 0);
    cr_assert_eq(dir, 'f');
    cr_assert_eq(ts, 1433190184356ULL);
    cr_assert_eq(seq, 42);
    lg_token_format(tok, 'b', UINT64_MAX, UINT64_MAX);
    cr_assert_eq(lg_token_parse(tok, &dir, &ts, &seq), 0);
    cr_assert_eq(dir, 'b');
    cr_assert_eq(ts, UINT64_MAX);
    cr_assert_eq(seq, UINT64_MAX);
    char suffixed[LG_TOKEN_LEN + 2];
    snprintf(suffixed, sizeof suffixed, "%s/s", tok);
    cr_assert_eq(lg_token_parse(suffixed, &dir, &ts, &seq), 0, "AWS's newer /s suffix");
}

Test(lg_token, refuses_malformed_tokens)
{
    char dir;
    uint64_t ts, seq;
    cr_assert_eq(lg_token_parse("", &dir, &ts, &seq), -1);
    cr_assert_eq(lg_token_parse("f/123", &dir, &ts, &seq), -1);
    cr_assert_eq(lg_token_parse("x/00000000000000000000000000000000000000000000000000000000", &dir,
                                &ts, &seq),
                 -1);
    cr_assert_eq(lg_token_parse("f/0000000000000000000a000000000000000000000000000000000000", &dir,
                                &ts, &seq),
                 -1);
    /* 20 nines overflow 64 bits. */
    cr_assert_eq(lg_token_parse("f/99999999999999999999000000000000000000000000000000000000", &dir,
                                &ts, &seq),
                 -1);
    /* The padding is zeros. */
    cr_assert_eq(lg_token_parse("f/00000000000000000001000000000000000000010000000000000001", &dir,
                                &ts, &seq),
                 -1);
}

Test(lg_token, event_ids_are_56_digits_and_order_like_the_events)
{
    char a[57], b[57];
    lg_event_id(a, 1000, 5);
    lg_event_id(b, 1001, 1);
    cr_assert_eq(strlen(a), 56);
    cr_assert_lt(strcmp(a, b), 0);
}

static char dir[64];
static store *st;

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/lg-test-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    char err[256];
    struct store_options o;
    memset(&o, 0, sizeof o);
    o.dir = dir;
    o.map_size = 64 << 20;
    o.no_sync = 1;
    cr_assert_eq(store_open(&o, &st, err, sizeof err), 0, "%s", err);
}

static void teardown(void)
{
    store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

static size_t count_events(const char *group, const char *stream)
{
    char key[LG_KEY_MAX];
    int pl = lg_events_prefix(key, "000000000000", "us-east-1", group, stream);
    store_txn *t;
    store_cursor *c;
    cr_assert_eq(store_txn_begin(st, 0, &t), 0);
    cr_assert_eq(store_cursor_open(t, STORE_DB_LG_EVENTS, &c), 0);
    size_t n = 0;
    for (int r = store_cursor_seek(c, key, (size_t)pl); r == 0; r = store_cursor_next(c)) {
        const void *k, *v;
        size_t kl, vl;
        store_cursor_get(c, &k, &kl, &v, &vl);
        if (kl != (size_t)pl + 16 || memcmp(k, key, (size_t)pl)) break;
        n++;
    }
    store_cursor_close(c);
    store_txn_abort(t);
    return n;
}

Test(lg_put_events, creates_group_and_stream_only_when_asked, .init = setup, .fini = teardown)
{
    int64_t now = lg_now_ms();
    struct lg_event ev[] = {{now, "one", 3}, {now, "two", 3}, {now + 1, "three", 5}};
    cr_assert_eq(lg_put_events(st, "000000000000", "us-east-1", "/aws/codebuild/p", "b1", ev, 3, 0),
                 LG_ENOENT);
    cr_assert_eq(
        lg_put_events(st, "000000000000", "us-east-1", "/aws/codebuild/p", "b1", ev, 3, LG_CREATE),
        0);
    cr_assert_eq(lg_put_events(st, "000000000000", "us-east-1", "/aws/codebuild/p", "b1", ev, 3, 0),
                 0);
    cr_assert_eq(count_events("/aws/codebuild/p", "b1"), 6, "same timestamps keep every event");
    /* A stream whose name is a prefix of another's does not see the other's events. */
    cr_assert_eq(count_events("/aws/codebuild/p", "b"), 0);
}

Test(lg_put_events, refuses_events_out_of_order, .init = setup, .fini = teardown)
{
    struct lg_event ev[] = {{2000, "b", 1}, {1000, "a", 1}};
    cr_assert_eq(lg_put_events(st, "000000000000", "us-east-1", "g", "s", ev, 2, LG_CREATE),
                 LG_EINVAL);
}

Test(lg_store, cursor_prev_walks_back_and_starts_from_the_last_key, .init = setup, .fini = teardown)
{
    store_txn *t;
    cr_assert_eq(store_txn_begin(st, 1, &t), 0);
    cr_assert_eq(store_put(t, STORE_DB_LG_EVENTS, "a", 1, "1", 1), 0);
    cr_assert_eq(store_put(t, STORE_DB_LG_EVENTS, "b", 1, "2", 1), 0);
    store_cursor *c;
    cr_assert_eq(store_cursor_open(t, STORE_DB_LG_EVENTS, &c), 0);
    const void *k, *v;
    size_t kl, vl;
    cr_assert_eq(store_cursor_seek(c, "z", 1), STORE_NOTFOUND);
    cr_assert_eq(store_cursor_prev(c), 0);
    store_cursor_get(c, &k, &kl, &v, &vl);
    cr_assert_eq(memcmp(k, "b", 1), 0);
    cr_assert_eq(store_cursor_prev(c), 0);
    store_cursor_get(c, &k, &kl, &v, &vl);
    cr_assert_eq(memcmp(k, "a", 1), 0);
    cr_assert_eq(store_cursor_prev(c), STORE_NOTFOUND);
    cr_assert_eq(store_cursor_seek(c, "b", 1), 0);
    cr_assert_eq(store_cursor_prev(c), 0);
    store_cursor_get(c, &k, &kl, &v, &vl);
    cr_assert_eq(memcmp(k, "a", 1), 0);
    store_cursor_close(c);
    store_txn_abort(t);
}

Test(lg_put_events, invalid_utf8_in_build_output_is_stored_as_replacement_characters, .init = setup,
     .fini = teardown)
{
    struct lg_event ev[] = {{lg_now_ms(), "ok \xff end", 8}};
    cr_assert_eq(lg_put_events(st, "000000000000", "us-east-1", "g", "s", ev, 1, LG_CREATE), 0);
    char key[LG_KEY_MAX];
    int pl = lg_events_prefix(key, "000000000000", "us-east-1", "g", "s");
    store_txn *t;
    store_cursor *c;
    cr_assert_eq(store_txn_begin(st, 0, &t), 0);
    cr_assert_eq(store_cursor_open(t, STORE_DB_LG_EVENTS, &c), 0);
    cr_assert_eq(store_cursor_seek(c, key, (size_t)pl), 0);
    const void *k, *v;
    size_t kl, vl;
    store_cursor_get(c, &k, &kl, &v, &vl);
    cr_assert_eq(vl - 8, strlen("ok \xef\xbf\xbd end"));
    cr_assert_eq(memcmp((const char *)v + 8, "ok \xef\xbf\xbd end", vl - 8), 0);
    store_cursor_close(c);
    store_txn_abort(t);
}

/* Unit tests of the provider's helpers: timestamps, pagination tokens, record parsing. */
#include <criterion/criterion.h>
#include <string.h>

#include "providers/codepipeline/cp_internal.h"

Test(cp_util, formats_timestamps_with_milliseconds)
{
    struct proto_sb sb = PROTO_SB_INIT;
    cp_sb_time(&sb, 1795696645.6174);
    proto_sb_putc(&sb, ' ');
    cp_sb_time(&sb, 12.0);
    proto_sb_putc(&sb, ' ');
    cp_sb_time(&sb, 0.0999);
    cr_assert_str_eq(proto_sb_str(&sb), "1795696645.617 12.000 0.100");
    proto_sb_free(&sb);
}

Test(cp_util, pagination_tokens_round_trip_and_reject_garbage)
{
    proto_arena *a = proto_arena_new();
    char *t = cp_token_encode(a, "pipe-01", 7);
    cr_assert_str_eq(cp_token_decode(a, t), "pipe-01");
    cr_assert_null(cp_token_decode(a, "garbage"));
    cr_assert_null(cp_token_decode(a, "cpl1.7"));
    cr_assert_null(cp_token_decode(a, "cpl1.zz"));
    cr_assert_null(cp_token_decode(a, "cpl1.0041"));
    proto_arena_free(a);
}

Test(cp_util, rejects_records_with_bad_lengths)
{
    struct cp_pipe_hdr h = {CP_PIPE_REC_MAGIC, 1, 1.0, 2.0, 4, 1, 2, 1, 0, {0, 0}}, out;
    char rec[sizeof h + 4];
    memcpy(rec, &h, sizeof h);
    memcpy(rec + sizeof h, "{ab}", 4);
    const char *decl;
    cr_assert_eq(cp_pipe_rec_parse(rec, sizeof rec, &out, &decl), 0);
    cr_assert_eq(memcmp(decl, "ab", 2), 0);
    cr_assert_eq(cp_pipe_rec_parse(rec, sizeof rec - 1, &out, &decl), -1);
    h.decl_len = 4;
    memcpy(rec, &h, sizeof h);
    cr_assert_eq(cp_pipe_rec_parse(rec, sizeof rec, &out, &decl), -1);
}

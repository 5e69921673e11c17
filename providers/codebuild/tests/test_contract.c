/* Unit tests of codebuild.h's contract while builds are not implemented: codes and listeners. */
#include <criterion/criterion.h>
#include <string.h>

#include "providers/codebuild/internal.h"

static int heard;
static char heard_id[64];

static void on_done(void *ctx, const struct cb_build_done *ev)
{
    heard += *(int *)ctx;
    strncpy(heard_id, ev->build_id, sizeof heard_id - 1);
}

Test(cb_contract, builds_answer_not_implemented_in_the_codebuild_range)
{
    char id[CB_BUILD_ID_MAX] = "x", err[128] = "";
    struct cb_start req = {.account = "000000000000", .region = "us-east-1", .project = "p"};
    cr_assert_eq(cb_start_build(NULL, &req, id, err, sizeof err), CB_ENOTIMPL);
    cr_assert_str_eq(id, "");
    cr_assert_str_eq(err, "CodeBuild builds are not implemented in this version");
    cr_assert(CB_ENOTIMPL <= CB_E_BASE && CB_EIO > CD_E_BASE);
    struct cb_build b;
    cr_assert_eq(cb_get_build(NULL, "000000000000", "us-east-1", "p:1", &b), CB_ENOTIMPL);
    cb_build_free(&b);
    cr_assert_eq(cb_stop_build(NULL, "000000000000", "us-east-1", "p:1"), CB_ENOTIMPL);
    cr_assert_str_eq(cb_status_name(CB_STATUS_TIMED_OUT), "TIMED_OUT");
}

Test(cb_contract, build_listeners_hear_completions_until_removed)
{
    int one = 1;
    int h = cb_add_build_listener(on_done, &one);
    cr_assert_gt(h, 0);
    struct cb_build_done ev = {"000000000000", "us-east-1", "p", "p:1", CB_STATUS_SUCCEEDED};
    cb_notify_build_done(&ev);
    cr_assert_eq(heard, 1);
    cr_assert_str_eq(heard_id, "p:1");
    cr_assert_eq(cb_remove_build_listener(h), 0);
    cb_notify_build_done(&ev);
    cr_assert_eq(heard, 1);
    cr_assert_eq(cb_remove_build_listener(h), RT_ENOITEM);
}

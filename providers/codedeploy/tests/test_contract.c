/* Unit tests of codedeploy.h's contract while deployments are not implemented. */
#include <criterion/criterion.h>
#include <string.h>

#include "providers/codedeploy/internal.h"

static int heard;

static void on_done(void *ctx, const struct cd_deployment_done *ev)
{
    (void)ctx;
    if (ev->status == CD_STATUS_FAILED) heard++;
}

Test(cd_contract, deployments_answer_not_implemented_in_the_codedeploy_range)
{
    char id[CD_DEPLOYMENT_ID_MAX] = "x", err[128] = "";
    struct cd_start req = {.account = "000000000000",
                           .region = "us-east-1",
                           .application = "a",
                           .deployment_group = "g",
                           .revision = {"bucket", "app.zip", CD_BUNDLE_ZIP, NULL, NULL}};
    cr_assert_eq(cd_create_deployment(NULL, &req, id, err, sizeof err), CD_ENOTIMPL);
    cr_assert_str_eq(id, "");
    cr_assert_str_eq(err, "CodeDeploy deployments are not implemented in this version");
    cr_assert(CD_ENOTIMPL <= CD_E_BASE && CD_EIO > CP_E_BASE);
    struct cd_deployment d;
    cr_assert_eq(cd_get_deployment(NULL, "000000000000", "us-east-1", "d-1", &d), CD_ENOTIMPL);
    cd_deployment_free(&d);
    cr_assert_eq(cd_stop_deployment(NULL, "000000000000", "us-east-1", "d-1", 0), CD_ENOTIMPL);
    cr_assert_str_eq(cd_status_name(CD_STATUS_IN_PROGRESS), "InProgress");
}

Test(cd_contract, deployment_listeners_hear_completions_until_removed)
{
    int h = cd_add_deployment_listener(on_done, NULL);
    cr_assert_gt(h, 0);
    struct cd_deployment_done ev = {"000000000000", "us-east-1", "a", "g", "d-1", CD_STATUS_FAILED};
    cd_notify_deployment_done(&ev);
    cr_assert_eq(heard, 1);
    cr_assert_eq(cd_remove_deployment_listener(h), 0);
    cd_notify_deployment_done(&ev);
    cr_assert_eq(heard, 1);
}

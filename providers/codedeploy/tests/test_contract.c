/* Unit tests of codedeploy.h's contract: its error range and its listeners. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/codedeploy/internal.h"

static int heard;

static void on_done(void *ctx, const struct cd_deployment_done *ev)
{
    (void)ctx;
    if (ev->status == CD_STATUS_FAILED) heard++;
}

Test(cd_contract, unknown_resources_answer_in_the_codedeploy_range)
{
    char dir[] = "/tmp/cpl-cd-contract-XXXXXX", err[256] = "", msg[256];
    cr_assert_not_null(mkdtemp(dir));
    struct store_options opts = {.dir = dir, .map_size = 64u << 20, .no_sync = 1};
    store *st = NULL;
    cr_assert_eq(store_open(&opts, &st, msg, sizeof msg), 0, "%s", msg);
    char id[CD_DEPLOYMENT_ID_MAX] = "x";
    struct cd_start req = {.account = "000000000000",
                           .region = "us-east-1",
                           .application = "a",
                           .deployment_group = "g",
                           .revision = {"bucket", "app.zip", CD_BUNDLE_ZIP, NULL, NULL}};
    cr_assert_eq(cd_create_deployment(st, &req, id, err, sizeof err), CD_ENOAPP);
    cr_assert_str_eq(id, "");
    cr_assert(strncmp(err, "ApplicationDoesNotExistException: ", 34) == 0, "%s", err);
    cr_assert(CD_ENOTIMPL <= CD_E_BASE && CD_EIO > CP_E_BASE);
    struct cd_deployment d;
    cr_assert_eq(cd_get_deployment(st, "000000000000", "us-east-1", "d-1", &d), CD_ENODEPLOYMENT);
    cd_deployment_free(&d);
    cr_assert_eq(cd_stop_deployment(st, "000000000000", "us-east-1", "d-1", 0), CD_ENODEPLOYMENT);
    cr_assert_str_eq(cd_status_name(CD_STATUS_IN_PROGRESS), "InProgress");
    store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
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

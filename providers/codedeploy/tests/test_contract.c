/* Unit tests of codedeploy.h's contract: its error range and its listeners. */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/ids.h"
#include "providers/codedeploy/cd_internal.h"
#include "providers/codedeploy/internal.h"
#include "providers/runtime/queue.h"

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
    struct cd_target *tgs = (struct cd_target *)&d;
    size_t n = 7;
    cr_assert_eq(cd_list_deployment_targets(st, "000000000000", "us-east-1", "d-1", &tgs, &n),
                 CD_ENODEPLOYMENT);
    cr_assert_null(tgs);
    cr_assert_eq(n, 0);
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

/* Calls the handler op as a request of the default account with input (taken). Returns its rc. */
static int call(store *st, int (*op)(struct proto_req *), struct json_object *input)
{
    struct proto_req r;
    memset(&r, 0, sizeof r);
    r.arena = proto_arena_new();
    r.store = st;
    r.caller.account_id = "000000000000";
    r.caller.region = "us-east-1";
    r.input = input;
    int rc = op(&r);
    json_object_put(r.input);
    json_object_put(r.output);
    proto_arena_free(r.arena);
    return rc;
}

Test(cd_contract, a_create_repeated_with_its_idempotency_key_returns_the_first_deployment)
{
    char dir[] = "/tmp/cpl-cd-idem-XXXXXX", err[256] = "", msg[256];
    cr_assert_not_null(mkdtemp(dir));
    struct store_options opts = {.dir = dir, .map_size = 64u << 20, .no_sync = 1};
    store *st = NULL;
    cr_assert_eq(store_open(&opts, &st, msg, sizeof msg), 0, "%s", msg);
    rt_queue *q = rt_queue_new(st);
    static struct proto_service_config cfg;
    cfg.queue = q;
    cr_assert_eq(cd_service.start(st, &cfg, err, sizeof err), 0, "%s", err);
    cr_assert_eq(
        call(st, cd_op_create_application, json_tokener_parse("{\"applicationName\": \"a\"}")), 0);
    cr_assert_eq(call(st, cd_op_create_group,
                      json_tokener_parse("{\"applicationName\": \"a\", \"deploymentGroupName\": "
                                         "\"g\", \"serviceRoleArn\": "
                                         "\"arn:aws:iam::000000000000:role/r\", "
                                         "\"ec2TagFilters\": [{\"Key\": \"Name\", \"Value\": "
                                         "\"g\", \"Type\": \"KEY_AND_VALUE\"}]}")),
                 0);
    struct cd_start req = {.account = "000000000000",
                           .region = "us-east-1",
                           .application = "a",
                           .deployment_group = "g",
                           .revision = {"bucket", "app.zip", CD_BUNDLE_ZIP, NULL, NULL},
                           .creator = "CodePipeline",
                           .idempotency_key = "action-execution-1"};
    char id1[CD_DEPLOYMENT_ID_MAX], id2[CD_DEPLOYMENT_ID_MAX];
    cr_assert_eq(cd_create_deployment(st, &req, id1, err, sizeof err), 0, "%s", err);
    cr_assert_eq(cd_create_deployment(st, &req, id2, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(id2, id1);
    struct cd_deployment d;
    cr_assert_eq(cd_get_deployment(st, "000000000000", "us-east-1", id1, &d), 0);
    cr_assert_str_eq(d.application, "a");
    cd_deployment_free(&d);
    struct cd_target *tgs = NULL;
    size_t n = 0;
    cr_assert_eq(cd_list_deployment_targets(st, "000000000000", "us-east-1", id1, &tgs, &n), 0);
    cr_assert_eq(n, 1); /* the group's one simulated instance */
    cr_assert_str_eq(tgs[0].type, "EC2");
    cr_assert_gt(tgs[0].n_events, 0);
    cd_targets_free(tgs, n);
    cr_assert_eq(rt_queue_stop(q, 30), 0);
    cd_service.stop(proto_now() + 30);
    rt_queue_free(q);
    store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

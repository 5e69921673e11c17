/* The codebuild operation table and its lifecycle. */
#include "providers/codebuild/codebuild.h"

#include <stdio.h>

#include "protocol/model.h"
#include "providers/codebuild/run.h"

/* Sorted by name, as proto_service_find_op expects of every table. */
static const struct proto_operation cb_ops[] = {
    {"BatchDeleteBuilds", cb_op_batch_delete_builds},
    {"BatchGetBuilds", cb_op_batch_get_builds},
    {"BatchGetProjects", cb_op_batch_get_projects},
    {"BatchGetReportGroups", cb_op_batch_get_report_groups},
    {"BatchGetReports", cb_op_batch_get_reports},
    {"BatchGetBuildBatches", cb_op_not_simulated},
    {"BatchGetFleets", cb_op_not_simulated},
    {"CreateFleet", cb_op_not_simulated},
    {"CreateProject", cb_op_create_project},
    {"CreateWebhook", cb_op_not_simulated},
    {"DeleteProject", cb_op_delete_project},
    {"DeleteBuildBatch", cb_op_not_simulated},
    {"DeleteFleet", cb_op_not_simulated},
    {"DeleteWebhook", cb_op_not_simulated},
    {"DescribeTestCases", cb_op_describe_test_cases},
    {"ListBuildBatches", cb_op_not_simulated},
    {"ListBuildBatchesForProject", cb_op_not_simulated},
    {"ListBuilds", cb_op_list_builds},
    {"ListBuildsForProject", cb_op_list_builds_for_project},
    {"ListFleets", cb_op_not_simulated},
    {"ListProjects", cb_op_list_projects},
    {"ListReportGroups", cb_op_list_report_groups},
    {"ListReports", cb_op_list_reports},
    {"ListReportsForReportGroup", cb_op_list_reports_for_report_group},
    {"RetryBuild", cb_op_retry_build},
    {"RetryBuildBatch", cb_op_not_simulated},
    {"StartBuild", cb_op_start_build},
    {"StartBuildBatch", cb_op_not_simulated},
    {"StopBuild", cb_op_stop_build},
    {"StopBuildBatch", cb_op_not_simulated},
    {"UpdateFleet", cb_op_not_simulated},
    {"UpdateProject", cb_op_update_project},
    {"UpdateWebhook", cb_op_not_simulated},
};

/* Takes the settings and registers the build kind with the work queue, which settles what a
 * previous process left: running builds fail as interrupted, queued ones start. */
static int cb_start(store *st, const struct proto_service_config *cfg, char *err, size_t errlen)
{
    cb_run_configure(cfg);
    int rc = cb_run_register(st);
    if (rc) {
        snprintf(err, errlen, "cannot register the build queue (%d)", rc);
        return -1;
    }
    return 0;
}

/* The queue has stopped the builds (recorded as interrupted) before this runs. */
static void cb_stop(double deadline)
{
    (void)deadline;
    cb_run_configure(NULL);
}

const struct proto_service cb_service = {
    .name = "codebuild",
    .target_prefix = "CodeBuild_20161006",
    .protocol = PROTO_JSON_1_1,
    .ops = cb_ops,
    .n_ops = sizeof cb_ops / sizeof cb_ops[0],
    .model = &proto_model_codebuild,
    .clock_skew_seconds = 300,
    .start = cb_start,
    .stop = cb_stop,
};

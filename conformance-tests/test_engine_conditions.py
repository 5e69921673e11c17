"""Stage conditions: beforeEntry, onSuccess and onFailure rules that really run (VariableCheck,
DeploymentWindow on the local clock, Commands through the runner), rules named as not simulated,
OverrideStageCondition, ListRuleExecutions and ListRuleTypes, with AWS's errors."""
import datetime
import os
import shutil
import tempfile
import unittest
import uuid

import engine_util as U
from harness import ServerTestCase


def rule(name, provider, configuration=None, **extra):
    r = {"name": name, "ruleTypeId": {"category": "Rule", "owner": "AWS", "provider": provider,
                                      "version": "1"}}
    if configuration is not None:
        r["configuration"] = configuration
    r.update(extra)
    return r


def procs_with(marker):
    """The pids whose command line holds marker."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if marker.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def variable_check(name="IsProd", variable="#{variables.Env}", op="EQ", value="prod"):
    return rule(name, "VariableCheck", {"Variable": variable, "Operator": op, "Value": value})


class ConditionsTest(ServerTestCase):
    def setUp(self):
        self.s3 = self.client("s3")
        self.cp = self.client("codepipeline")
        U.setup_buckets(self.s3)
        self.key = U.test_key(self)
        self.s3.put_object(Bucket="engine-src", Key=self.key,
                           Body=U.make_zip({"hello.txt": "hello"}))

    def create(self, name, stage2, actions=None, **extra):
        d = U.pipeline(name, [("Source", [U.s3_source(key=self.key)]),
                              ("Deploy", actions or [U.commands(commands=["true"])])],
                       pipelineType="V2", **extra)
        d["stages"][1].update(stage2)
        self.cp.create_pipeline(pipeline=d)
        return U.first_execution(self.cp, name)

    def stage(self, name, stage="Deploy"):
        for s in self.cp.get_pipeline_state(name=name)["stageStates"]:
            if s["stageName"] == stage:
                return s
        raise AssertionError("no stage " + stage)

    def actions(self, name, eid):
        return {a["actionName"]: a for a in self.cp.list_action_executions(
            pipelineName=name, filter={"pipelineExecutionId": eid})["actionExecutionDetails"]}

    def rules(self, name, eid):
        return self.cp.list_rule_executions(
            pipelineName=name, filter={"pipelineExecutionId": eid})["ruleExecutionDetails"]

    def test_a_before_entry_variable_check_that_fails_blocks_the_stage_until_overridden(self):
        name = "cond-varcheck"
        eid = self.create(name, {"beforeEntry": {"conditions": [
            {"result": "FAIL", "rules": [variable_check()]}]}},
            variables=[{"name": "Env", "defaultValue": "dev"}])
        e = U.wait_execution(self.cp, name, eid)
        self.assertEqual(e["status"], "Failed")
        self.assertNotIn("Run", self.actions(name, eid))
        st = self.stage(name)
        self.assertEqual(st["latestExecution"]["status"], "Failed")
        be = st["beforeEntryConditionState"]
        self.assertEqual(be["latestExecution"]["status"], "Failed")
        rs = be["conditionStates"][0]["ruleStates"][0]
        self.assertEqual(rs["ruleName"], "IsProd")
        self.assertEqual(rs["latestExecution"]["status"], "Failed")
        self.assertIn("'dev' EQ 'prod'", rs["latestExecution"]["summary"])
        [r] = self.rules(name, eid)
        self.assertEqual(r["status"], "Failed")
        self.assertEqual(r["stageName"], "Deploy")
        self.assertEqual(r["ruleName"], "IsProd")
        self.assertEqual(r["pipelineExecutionId"], eid)
        self.assertEqual(r["input"]["ruleTypeId"]["provider"], "VariableCheck")
        self.assertEqual(r["input"]["configuration"]["Variable"], "#{variables.Env}")
        self.assertEqual(r["input"]["resolvedConfiguration"]["Variable"], "dev")
        self.assertEqual(r["output"]["executionResult"]["errorDetails"]["code"], "JobFailed")
        self.assertEqual(rs["latestExecution"]["ruleExecutionId"], r["ruleExecutionId"])

        # The override, through the AWS CLI: the execution enters the stage after all.
        self.aws("codepipeline", "override-stage-condition", "--pipeline-name", name,
                 "--stage-name", "Deploy", "--pipeline-execution-id", eid,
                 "--condition-type", "BEFORE_ENTRY")
        e = U.wait_execution(self.cp, name, eid)
        self.assertEqual(e["status"], "Succeeded")
        self.assertEqual(self.actions(name, eid)["Run"]["status"], "Succeeded")
        be = self.stage(name)["beforeEntryConditionState"]
        self.assertEqual(be["latestExecution"]["status"], "Overridden")
        self.assertEqual(be["conditionStates"][0]["ruleStates"][0]["latestExecution"]["status"],
                         "Failed")
        self.assertClientError(lambda: self.cp.override_stage_condition(
            pipelineName=name, stageName="Deploy", pipelineExecutionId=eid,
            conditionType="BEFORE_ENTRY"), "ConditionNotOverridableException")

        # With the variable the rule wants, the condition is met.
        eid2 = self.cp.start_pipeline_execution(
            name=name, variables=[{"name": "Env", "value": "prod"}])["pipelineExecutionId"]
        e = U.wait_execution(self.cp, name, eid2)
        self.assertEqual(e["status"], "Succeeded")
        be = self.stage(name)["beforeEntryConditionState"]
        self.assertEqual(be["latestExecution"]["status"], "Succeeded")
        [r2] = self.rules(name, eid2)
        self.assertEqual(r2["status"], "Succeeded")
        # The first execution is no longer the latest in the stage.
        self.assertClientError(lambda: self.cp.override_stage_condition(
            pipelineName=name, stageName="Deploy", pipelineExecutionId=eid,
            conditionType="BEFORE_ENTRY"), "NotLatestPipelineExecutionException")
        # Every rule execution of the pipeline, newest first, a page at a time.
        page = self.cp.list_rule_executions(pipelineName=name, maxResults=1)
        self.assertEqual([x["ruleExecutionId"] for x in page["ruleExecutionDetails"]],
                         [r2["ruleExecutionId"]])
        page2 = self.cp.list_rule_executions(pipelineName=name, maxResults=1,
                                             nextToken=page["nextToken"])
        self.assertEqual([x["ruleExecutionId"] for x in page2["ruleExecutionDetails"]],
                         [r["ruleExecutionId"]])
        self.assertNotIn("nextToken", page2)

    def test_a_skip_result_skips_the_stage_and_the_execution_goes_on(self):
        name = "cond-skip"
        eid = self.create(name, {"beforeEntry": {"conditions": [
            {"result": "SKIP", "rules": [variable_check()]}]}},
            variables=[{"name": "Env", "defaultValue": "dev"}])
        e = U.wait_execution(self.cp, name, eid)
        self.assertEqual(e["status"], "Succeeded")
        self.assertEqual(self.stage(name)["latestExecution"]["status"], "Skipped")
        self.assertNotIn("Run", self.actions(name, eid))

    def test_a_deployment_window_rule_outside_its_window_fails_the_stage(self):
        now = datetime.datetime.now(datetime.timezone.utc)
        # A window of one hour twelve hours away: now is outside it whatever the minute.
        away = (now.hour + 12) % 24
        name = "cond-window-closed"
        eid = self.create(name, {"beforeEntry": {"conditions": [{"result": "FAIL", "rules": [
            rule("Window", "DeploymentWindow", {"Cron": "* * %d ? * * *" % away})]}]}})
        e = U.wait_execution(self.cp, name, eid)
        self.assertEqual(e["status"], "Failed")
        [r] = self.rules(name, eid)
        self.assertEqual(r["status"], "Failed")
        self.assertIn("outside the deployment window",
                      r["output"]["executionResult"]["externalExecutionSummary"])
        self.assertNotIn("Run", self.actions(name, eid))

    def test_a_deployment_window_rule_inside_its_window_in_a_time_zone_lets_the_stage_in(self):
        # Tokyo keeps UTC+9 all year; the window spans this hour and the next, in Tokyo time.
        now = datetime.datetime.now(datetime.timezone.utc)
        h = (now.hour + 9) % 24
        name = "cond-window-open"
        eid = self.create(name, {"beforeEntry": {"conditions": [{"result": "FAIL", "rules": [
            rule("Window", "DeploymentWindow",
                 {"Cron": "* * %d,%d ? * * *" % (h, (h + 1) % 24),
                  "TimeZone": "Asia/Tokyo"})]}]}})
        e = U.wait_execution(self.cp, name, eid)
        self.assertEqual(e["status"], "Succeeded")
        [r] = self.rules(name, eid)
        self.assertEqual(r["status"], "Succeeded")
        self.assertIn("inside the deployment window",
                      r["output"]["executionResult"]["externalExecutionSummary"])

    def test_a_commands_rule_passing_lets_the_stage_in(self):
        name = "cond-commands-pass"
        eid = self.create(name, {"beforeEntry": {"conditions": [{"result": "FAIL", "rules": [
            rule("Check", "Commands", commands=["test -f hello.txt", "grep -q hello hello.txt"],
                 inputArtifacts=[{"name": "SourceArtifact"}])]}]}})
        e = U.wait_execution(self.cp, name, eid, timeout=120)
        self.assertEqual(e["status"], "Succeeded", e)
        [r] = self.rules(name, eid)
        self.assertEqual(r["status"], "Succeeded")
        self.assertEqual(r["input"]["inputArtifacts"][0]["name"], "SourceArtifact")
        self.assertEqual(self.actions(name, eid)["Run"]["status"], "Succeeded")

    def test_overriding_a_condition_whose_commands_rule_runs_lets_the_stage_in_and_kills_it(self):
        name = "cond-override-running"
        marker = "cond-marker-" + uuid.uuid4().hex
        eid = self.create(name, {"beforeEntry": {"conditions": [{"result": "FAIL", "rules": [
            rule("Slow", "Commands", commands=["sleep 120 # " + marker])]}]}})
        U.wait_for(lambda: self.stage(name).get("beforeEntryConditionState", {})
                   .get("latestExecution", {}).get("status") == "InProgress", 60, "the check")
        U.wait_for(lambda: procs_with(marker), 60, "the rule's commands")
        self.assertNotIn("Run", self.actions(name, eid))
        self.cp.override_stage_condition(pipelineName=name, stageName="Deploy",
                                         pipelineExecutionId=eid, conditionType="BEFORE_ENTRY")
        e = U.wait_execution(self.cp, name, eid, timeout=120)
        self.assertEqual(e["status"], "Succeeded")
        be = self.stage(name)["beforeEntryConditionState"]
        self.assertEqual(be["latestExecution"]["status"], "Overridden")
        [r] = self.rules(name, eid)
        self.assertEqual(r["status"], "Abandoned")
        U.wait_for(lambda: not procs_with(marker), 60, "the rule's commands to be killed")

    def test_abandoning_an_execution_kills_its_running_commands_rule(self):
        name = "cond-abandon-running"
        marker = "cond-marker-" + uuid.uuid4().hex
        eid = self.create(name, {"beforeEntry": {"conditions": [{"result": "FAIL", "rules": [
            rule("Slow", "Commands", commands=["sleep 120 # " + marker])]}]}})
        U.wait_for(lambda: procs_with(marker), 60, "the rule's commands")
        self.cp.stop_pipeline_execution(pipelineName=name, pipelineExecutionId=eid, abandon=True)
        e = U.wait_execution(self.cp, name, eid, timeout=60)
        self.assertEqual(e["status"], "Stopped")
        [r] = self.rules(name, eid)
        self.assertEqual(r["status"], "Abandoned")
        self.assertEqual(self.stage(name)["beforeEntryConditionState"]["latestExecution"]["status"],
                         "Abandoned")
        U.wait_for(lambda: not procs_with(marker), 60, "the rule's commands to be killed")

    def test_a_failed_rule_stops_the_other_commands_rule_of_its_condition(self):
        name = "cond-fail-stops-sibling"
        marker = "cond-marker-" + uuid.uuid4().hex
        flags = tempfile.mkdtemp(prefix="cond-sibling-")
        self.addCleanup(shutil.rmtree, flags, True)
        started = os.path.join(flags, "started")
        # "Fails" fails only once "Slow" runs, so the condition fails while Slow still runs.
        eid = self.create(name, {"beforeEntry": {"conditions": [{"result": "FAIL", "rules": [
            rule("Slow", "Commands", commands=["touch %s; sleep 120 # %s" % (started, marker)]),
            rule("Fails", "Commands", commands=[
                "until test -f %s; do sleep 0.1; done; exit 3" % started])]}]}})
        e = U.wait_execution(self.cp, name, eid, timeout=120)
        self.assertEqual(e["status"], "Failed")
        status = {r["ruleName"]: r["status"] for r in self.rules(name, eid)}
        self.assertEqual(status, {"Slow": "Abandoned", "Fails": "Failed"})
        U.wait_for(lambda: not procs_with(marker), 60, "the abandoned rule's commands to be killed")

    def test_a_commands_rule_interrupted_by_kill_9_fails_with_a_clear_message(self):
        name = "cond-kill9"
        marker = os.path.join(self.server.data_dir, "cond-kill9-started")
        eid = self.create(name, {"beforeEntry": {"conditions": [{"result": "FAIL", "rules": [
            rule("Slow", "Commands", commands=["touch %s" % marker, "sleep 5"])]}]}})
        U.wait_for(lambda: os.path.exists(marker), what="the rule's commands running")
        self.server.kill9()
        self.server.start()
        self.cp = self.client("codepipeline")
        e = U.wait_execution(self.cp, name, eid)
        self.assertEqual(e["status"], "Failed")
        [r] = self.rules(name, eid)
        self.assertEqual(r["status"], "Failed")
        self.assertIn("interrupted by a restart of codepipeline-local",
                      r["output"]["executionResult"]["errorDetails"]["message"])

    def test_a_commands_rule_failing_an_on_success_condition_fails_the_stage(self):
        name = "cond-commands-fail"
        eid = self.create(name, {"onSuccess": {"conditions": [{"result": "ROLLBACK", "rules": [
            rule("Check", "Commands", commands=["echo checking", "exit 3"])]}]}})
        e = U.wait_execution(self.cp, name, eid, timeout=120)
        self.assertEqual(e["status"], "Failed")
        self.assertEqual(self.actions(name, eid)["Run"]["status"], "Succeeded")
        st = self.stage(name)
        self.assertEqual(st["latestExecution"]["status"], "Failed")
        os_ = st["onSuccessConditionState"]
        self.assertEqual(os_["latestExecution"]["status"], "Failed")
        [r] = self.rules(name, eid)
        self.assertEqual(r["status"], "Failed")
        self.assertIn("exit code 3", r["output"]["executionResult"]["errorDetails"]["message"])

    def test_on_failure_conditions_are_checked_when_the_stage_fails(self):
        name = "cond-onfailure"
        eid = self.create(name, {"onFailure": {"conditions": [{"result": "ROLLBACK", "rules": [
            variable_check(variable="#{codepipeline.PipelineExecutionId}", op="MATCHES",
                           value="[0-9a-f-]{36}")]}]}},
            actions=[U.commands(commands=["exit 1"])])
        e = U.wait_execution(self.cp, name, eid, timeout=120)
        self.assertEqual(e["status"], "Failed")
        of = self.stage(name)["onFailureConditionState"]
        self.assertEqual(of["latestExecution"]["status"], "Succeeded")
        [r] = self.rules(name, eid)
        self.assertEqual(r["status"], "Succeeded")

    def executions(self, name):
        return {s["pipelineExecutionId"]: s for s in self.cp.list_pipeline_executions(
            pipelineName=name)["pipelineExecutionSummaries"]}

    def next_execution(self, name, known):
        """The id of the oldest execution of name not in known, waited for (an automatic
        rollback may already follow it)."""
        def new():
            ids = [i for i in self.executions(name) if i not in known]
            return ids and ids[-1]
        return U.wait_for(new, 60, "a rollback execution")

    def test_an_unmet_on_success_rollback_condition_rolls_the_stage_back(self):
        name = "cond-success-rollback"
        first = self.create(name, {"onSuccess": {"conditions": [{"result": "ROLLBACK", "rules": [
            variable_check()]}]}}, variables=[{"name": "Env", "defaultValue": "prod"}])
        self.assertEqual(U.wait_execution(self.cp, name, first, timeout=120)["status"],
                         "Succeeded")
        second = self.cp.start_pipeline_execution(
            name=name, variables=[{"name": "Env", "value": "dev"}])["pipelineExecutionId"]
        e = U.wait_execution(self.cp, name, second, timeout=120)
        self.assertEqual(e["status"], "Failed")
        self.assertEqual(self.actions(name, second)["Run"]["status"], "Succeeded")
        rid = self.next_execution(name, {first, second})
        r = U.wait_execution(self.cp, name, rid, timeout=120)
        self.assertEqual(r["executionType"], "ROLLBACK")
        self.assertEqual(r["rollbackMetadata"], {"rollbackTargetPipelineExecutionId": first})
        self.assertEqual(r["trigger"], {"triggerType": "AutomatedRollback",
                                        "triggerDetail": second})
        # The rollback runs with the target's variables (Env prod): its condition is met.
        self.assertEqual(r["status"], "Succeeded")
        self.assertEqual(r["variables"], [{"name": "Env", "resolvedValue": "prod"}])
        self.assertEqual(self.stage(name)["onSuccessConditionState"]["latestExecution"]["status"],
                         "Succeeded")
        self.assertEqual(len(self.executions(name)), 3)

    def test_an_unmet_on_success_rollback_condition_without_a_good_execution_just_fails(self):
        name = "cond-success-norollback"
        first = self.create(name, {"onSuccess": {"conditions": [{"result": "ROLLBACK", "rules": [
            variable_check()]}]}}, variables=[{"name": "Env", "defaultValue": "dev"}])
        self.assertEqual(U.wait_execution(self.cp, name, first, timeout=120)["status"], "Failed")
        self.assertEqual(list(self.executions(name)), [first])

    def test_a_met_on_failure_condition_engages_its_own_rollback_result(self):
        # No onFailure.result: the condition's result (ROLLBACK) is the one that engages.
        name = "cond-failure-rollback"
        first = self.create(name, {"onFailure": {"conditions": [{"result": "ROLLBACK", "rules": [
            variable_check()]}]}}, actions=[U.commands(commands=["grep -qv bad hello.txt"])],
            variables=[{"name": "Env", "defaultValue": "prod"}])
        self.assertEqual(U.wait_execution(self.cp, name, first, timeout=120)["status"],
                         "Succeeded")
        self.s3.put_object(Bucket="engine-src", Key=self.key,
                           Body=U.make_zip({"hello.txt": "bad"}))
        second = self.next_execution(name, {first})  # the change of the source starts it
        self.assertEqual(U.wait_execution(self.cp, name, second, timeout=120)["status"], "Failed")
        [rule_run] = self.rules(name, second)
        self.assertEqual(rule_run["status"], "Succeeded")
        rid = self.next_execution(name, {first, second})
        r = U.wait_execution(self.cp, name, rid, timeout=120)
        self.assertEqual(r["executionType"], "ROLLBACK")
        self.assertEqual(r["rollbackMetadata"], {"rollbackTargetPipelineExecutionId": first})
        self.assertEqual(r["status"], "Succeeded", "the rollback deploys the good revision")

    def test_rules_that_need_other_aws_services_fail_naming_them_as_not_simulated(self):
        name = "cond-alarm"
        eid = self.create(name, {"beforeEntry": {"conditions": [{"result": "FAIL", "rules": [
            rule("Alarm", "CloudWatchAlarm", {"AlarmName": "HighErrors"})]}]}})
        e = U.wait_execution(self.cp, name, eid)
        self.assertEqual(e["status"], "Failed")
        [r] = self.rules(name, eid)
        msg = r["output"]["executionResult"]["errorDetails"]["message"]
        self.assertIn("CloudWatchAlarm is not simulated by codepipeline-local", msg)

    def test_list_rule_types_lists_the_built_in_rules(self):
        types = self.cp.list_rule_types()["ruleTypes"]
        by = {t["id"]["provider"]: t for t in types}
        self.assertEqual(set(by), {"CloudWatchAlarm", "Commands", "DeploymentWindow",
                                   "LambdaInvoke", "VariableCheck"})
        for t in types:
            self.assertEqual(t["id"]["category"], "Rule")
            self.assertEqual(t["id"]["owner"], "AWS")
            self.assertEqual(t["id"]["version"], "1")
            self.assertIn("minimumCount", t["inputArtifactDetails"])
        props = {p["name"]: p for p in by["VariableCheck"]["ruleConfigurationProperties"]}
        self.assertEqual(set(props), {"Variable", "Value", "Operator"})
        self.assertTrue(all(p["required"] for p in props.values()))
        props = {p["name"]: p for p in by["DeploymentWindow"]["ruleConfigurationProperties"]}
        self.assertTrue(props["Cron"]["required"])
        self.assertFalse(props["TimeZone"]["required"])
        self.assertEqual(len(self.cp.list_rule_types(ruleOwnerFilter="AWS",
                                                     regionFilter="eu-west-1")["ruleTypes"]), 5)
        _, out, _ = self.aws("codepipeline", "list-rule-types")
        self.assertEqual(len(out["ruleTypes"]), 5)
        self.assertClientError(lambda: self.cp.list_rule_types(ruleOwnerFilter="Custom"),
                               "ValidationException")

    def test_errors(self):
        name = "cond-errors"
        eid = self.create(name, {})
        U.wait_execution(self.cp, name, eid)
        self.assertClientError(lambda: self.cp.override_stage_condition(
            pipelineName="cond-none", stageName="Deploy", pipelineExecutionId=eid,
            conditionType="BEFORE_ENTRY"), "PipelineNotFoundException")
        self.assertClientError(lambda: self.cp.override_stage_condition(
            pipelineName=name, stageName="Nope", pipelineExecutionId=eid,
            conditionType="BEFORE_ENTRY"), "StageNotFoundException")
        self.assertClientError(lambda: self.cp.override_stage_condition(
            pipelineName=name, stageName="Deploy", pipelineExecutionId=eid,
            conditionType="BEFORE_ENTRY"), "ConditionNotOverridableException")
        self.assertClientError(lambda: self.cp.override_stage_condition(
            pipelineName=name, stageName="Deploy", pipelineExecutionId=str(uuid.uuid4()),
            conditionType="ON_SUCCESS"), "ConditionNotOverridableException")
        self.assertClientError(lambda: self.cp.override_stage_condition(
            pipelineName=name, stageName="Deploy", pipelineExecutionId=eid,
            conditionType="ON_FAILURE"), "ValidationException")
        self.assertClientError(lambda: self.cp.list_rule_executions(
            pipelineName=name, filter={"pipelineExecutionId": str(uuid.uuid4())}),
            "PipelineExecutionNotFoundException")
        self.assertClientError(lambda: self.cp.list_rule_executions(pipelineName="cond-none"),
                               "PipelineNotFoundException")
        self.assertClientError(lambda: self.cp.list_rule_executions(
            pipelineName=name, nextToken="bogus"), "InvalidNextTokenException")
        self.assertEqual(self.cp.list_rule_executions(pipelineName=name)["ruleExecutionDetails"],
                         [])

    def bad(self, stage2, message_part):
        d = U.pipeline("cond-bad", [("Source", [U.s3_source(key=self.key)]),
                                    ("Deploy", [U.commands(commands=["true"])])],
                       pipelineType="V2")
        d["stages"][1].update(stage2)
        err = self.assertClientError(lambda: self.cp.create_pipeline(pipeline=d),
                                     "InvalidStageDeclarationException")
        self.assertIn(message_part, err["Error"]["Message"])

    def test_condition_declarations_are_validated(self):
        self.bad({"beforeEntry": {"conditions": [{"result": "ROLLBACK",
                                                  "rules": [variable_check()]}]}},
                 "Result ROLLBACK is not supported for beforeEntry conditions")
        self.bad({"beforeEntry": {"conditions": [{"result": "FAIL", "rules": [
            rule("X", "NoSuchRule", {})]}]}}, "invalid rule type")
        self.bad({"beforeEntry": {"conditions": [{"result": "FAIL", "rules": [
            rule("X", "VariableCheck", {"Variable": "a", "Value": "b"})]}]}},
            "missing required configuration property Operator")
        self.bad({"beforeEntry": {"conditions": [{"result": "FAIL", "rules": [
            variable_check(op="GREATER")]}]}}, "Unsupported operator GREATER")
        self.bad({"beforeEntry": {"conditions": [{"result": "FAIL", "rules": [
            rule("W", "DeploymentWindow", {"Cron": "0 9 * * *"})]}]}},
            "Invalid cron expression")
        self.bad({"beforeEntry": {"conditions": [{"result": "FAIL", "rules": [
            rule("W", "DeploymentWindow", {"Cron": "* * 9-17 ? * MON-FRI *",
                                           "TimeZone": "Mars/Olympus"})]}]}},
            "unknown time zone Mars/Olympus")
        self.bad({"beforeEntry": {"conditions": [{"result": "FAIL", "rules": [
            rule("C", "Commands")]}]}}, "must declare commands")
        self.bad({"onSuccess": {"conditions": [{"result": "ROLLBACK", "rules": [
            variable_check(), variable_check()]}]}}, "Rule name IsProd is used more than once")
        # AWS: onFailure conditions take ROLLBACK, and automatic stage retry cannot go with them.
        self.bad({"onFailure": {"conditions": [{"result": "RETRY", "rules": [
            variable_check()]}]}}, "Result RETRY is not supported for onFailure conditions")
        self.bad({"onFailure": {"result": "RETRY", "conditions": [{"result": "ROLLBACK", "rules": [
            variable_check()]}]}}, "cannot be used with onFailure conditions")
        # The model's own limits: one condition per kind.
        d = U.pipeline("cond-bad2", [("Source", [U.s3_source(key=self.key)]),
                                     ("Deploy", [U.commands(commands=["true"])])])
        d["stages"][1]["beforeEntry"] = {"conditions": [
            {"result": "FAIL", "rules": [variable_check()]},
            {"result": "FAIL", "rules": [variable_check()]}]}
        self.assertClientError(lambda: self.cp.create_pipeline(pipeline=d), "ValidationException")


if __name__ == "__main__":
    unittest.main()

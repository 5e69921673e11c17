/* The Commands action: its commands run like a buildspec's build phase, through the process
 * runner, in a directory holding the input artifacts; the declared outputVariables are read from
 * the shell's environment at the end. */
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "protocol/strbuf.h"
#include "providers/codepipeline/actions/actions.h"
#include "providers/runtime/runner.h"

extern char **environ;

static void on_stop(void *ctx, int reason)
{
    (void)reason;
    rt_stop(ctx);
}

/* Reads up to the last n bytes of path into out. */
static void tail(const char *path, char *out, size_t n)
{
    out[0] = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    off_t size = lseek(fd, 0, SEEK_END);
    off_t from = size > (off_t)n - 1 ? size - (off_t)n + 1 : 0;
    ssize_t k = pread(fd, out, n - 1, from);
    out[k > 0 ? k : 0] = 0;
    close(fd);
}

/* Parses the NUL-separated name/value pairs the script wrote into vars. */
static struct json_object *read_vars(const char *path)
{
    struct json_object *vars = json_object_new_object();
    FILE *f = fopen(path, "rb");
    if (!f) return vars;
    char buf[131072];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    size_t i = 0;
    while (i < n) {
        const char *name = buf + i;
        i += strlen(name) + 1;
        if (i > n) break;
        const char *value = buf + i;
        i += strlen(value) + 1;
        json_object_object_add(vars, name, json_object_new_string(value));
    }
    return vars;
}

static int valid_var(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_'))
            return 0;
    return 1;
}

int cp_act_commands(struct cp_action_ctx *ac, struct cp_action_result *r)
{
    struct json_object *cmds = NULL, *outv = NULL, *envd = NULL;
    json_object_object_get_ex(ac->decl, "commands", &cmds);
    json_object_object_get_ex(ac->decl, "outputVariables", &outv);
    json_object_object_get_ex(ac->decl, "environmentVariables", &envd);
    char dir[512], src[600], log[600], vars[600], err[512];
    if (cp_tmpdir(dir, sizeof dir)) return cp_action_fail(r, "Could not make a working directory");
    snprintf(src, sizeof src, "%s/src", dir);
    snprintf(log, sizeof log, "%s/log", dir);
    snprintf(vars, sizeof vars, "%s/vars", dir);
    mkdir(src, 0755);
    struct proto_sb env = PROTO_SB_INIT, script = PROTO_SB_INIT;
    int st = CP_ACT_FAILED;
    /* Inputs: the first in CODEBUILD_SRC_DIR, the others in CODEBUILD_SRC_DIR_<name>. */
    const char *envp[64 + 256];
    size_t ne = 0;
    for (char **e = environ; *e && ne < 200; e++)
        envp[ne++] = *e;
    char *own[64];
    size_t nown = 0;
    for (size_t i = 0; ac->inputs && i < json_object_array_length(ac->inputs) && nown < 40; i++) {
        struct json_object *a = json_object_array_get_idx(ac->inputs, i), *nm;
        json_object_object_get_ex(a, "name", &nm);
        char sub[700];
        if (i == 0)
            snprintf(sub, sizeof sub, "%s", src);
        else
            snprintf(sub, sizeof sub, "%s/in-%zu", dir, i);
        mkdir(sub, 0755);
        int fd = cp_artifact_open(ac, json_object_get_string(nm), r);
        if (fd < 0) goto out;
        int rc = cp_zip_extract_fd(fd, sub, err, sizeof err);
        close(fd);
        if (rc) {
            cp_action_fail(r, "Could not extract input artifact %s: %s", json_object_get_string(nm),
                           err);
            goto out;
        }
        char *e = NULL;
        if (i == 0 && asprintf(&e, "CODEBUILD_SRC_DIR=%s", sub) < 0) e = NULL;
        if (i > 0 && asprintf(&e, "CODEBUILD_SRC_DIR_%s=%s", json_object_get_string(nm), sub) < 0)
            e = NULL;
        if (e) own[nown++] = e;
    }
    char *e2 = NULL;
    if (asprintf(&e2, "AWS_ENDPOINT_URL=%s", ac->endpoint_url) >= 0) own[nown++] = e2;
    if (asprintf(&e2, "AWS_DEFAULT_REGION=%s", ac->region) >= 0) own[nown++] = e2;
    if (asprintf(&e2, "AWS_REGION=%s", ac->region) >= 0) own[nown++] = e2;
    if (asprintf(&e2, "CODEBUILD_INITIATOR=codepipeline/%s", ac->pipeline) >= 0) own[nown++] = e2;
    for (size_t i = 0; envd && i < json_object_array_length(envd) && nown < 60; i++) {
        struct json_object *v = json_object_array_get_idx(envd, i), *n, *val;
        if (json_object_object_get_ex(v, "name", &n) &&
            json_object_object_get_ex(v, "value", &val) &&
            asprintf(&e2, "%s=%s", json_object_get_string(n), json_object_get_string(val)) >= 0)
            own[nown++] = e2;
    }
    for (size_t i = 0; i < nown; i++)
        envp[ne++] = own[i];
    envp[ne] = NULL;
    /* The build phase: every command in one shell, stopping at the first failure. */
    proto_sb_puts(&script, "set -e\n");
    for (size_t i = 0; cmds && i < json_object_array_length(cmds); i++) {
        proto_sb_puts(&script, json_object_get_string(json_object_array_get_idx(cmds, i)));
        proto_sb_putc(&script, '\n');
    }
    for (size_t i = 0; outv && i < json_object_array_length(outv); i++) {
        const char *n = json_object_get_string(json_object_array_get_idx(outv, i));
        if (!valid_var(n)) continue;
        proto_sb_printf(&script, "printf '%%s\\0%%s\\0' '%s' \"${%s-}\" >> '%s'\n", n, n, vars);
    }
    int logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    const char *argv[] = {"/bin/sh", "-c", proto_sb_str(&script), NULL};
    struct json_object *to = NULL;
    json_object_object_get_ex(ac->decl, "timeoutInMinutes", &to);
    struct rt_cmd cmd = {
        .argv = argv,
        .envp = envp,
        .cwd = src,
        .out = {RT_OUT_FD, logfd},
        .err = {RT_OUT_MERGE, -1},
        .timeout = (to ? json_object_get_int(to) : 60) * 60.0,
    };
    rt_proc *p = NULL;
    struct rt_result res;
    if (logfd < 0 || rt_start(&cmd, &p, &res)) {
        if (logfd >= 0) close(logfd);
        cp_action_fail(r, "The commands could not be started");
        goto out;
    }
    rt_task_on_stop(ac->task, on_stop, p);
    rt_wait(p, &res);
    rt_task_on_stop(ac->task, NULL, NULL);
    rt_free(p);
    close(logfd);
    if (res.end != RT_END_EXITED || res.exit_code != 0) {
        char t[600];
        tail(log, t, sizeof t);
        if (res.end == RT_END_TIMED_OUT)
            cp_action_fail(r, "The commands timed out. Output: %s", t);
        else if (res.end == RT_END_STOPPED)
            cp_action_fail(r, "The commands were stopped");
        else
            cp_action_fail(r, "Command failed with exit code %d. Output: %s", res.exit_code, t);
        goto out;
    }
    r->variables = read_vars(vars);
    for (size_t i = 0; ac->outputs && i < json_object_array_length(ac->outputs); i++) {
        struct json_object *o = json_object_array_get_idx(ac->outputs, i), *nm, *files = NULL;
        json_object_object_get_ex(o, "name", &nm);
        json_object_object_get_ex(o, "files", &files);
        char zp[700];
        snprintf(zp, sizeof zp, "%s/out-%zu.zip", dir, i);
        int fd = open(zp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || cp_zip_dir_fd(src, files, fd, err, sizeof err)) {
            if (fd >= 0) close(fd);
            cp_action_fail(r, "Could not zip output artifact %s: %s", json_object_get_string(nm),
                           err);
            goto out;
        }
        lseek(fd, 0, SEEK_SET);
        int rc = cp_artifact_put_fd(ac, json_object_get_string(nm), fd, r);
        close(fd);
        if (rc) goto out;
    }
    r->summary = strdup("Commands succeeded");
    st = CP_ACT_SUCCEEDED;
out:
    for (size_t i = 0; i < nown; i++)
        free(own[i]);
    proto_sb_free(&env);
    proto_sb_free(&script);
    cp_rmtree(dir);
    return st;
}

/* Unit tests of the child-process runner: exit statuses, timeouts and stops that kill the whole
 * group, TERM-ignoring children, grandchildren holding stdout, large output, no zombies. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "providers/runtime/runner.h"

/* Output collected by the sink. */
struct out {
    char *buf;
    size_t len, cap;
    size_t calls, largest;
    int err_seen;
    size_t stop_after; /* ask to stop once this many bytes arrived; 0: never */
};

static int collect(void *ctx, enum rt_stream st, const char *data, size_t len)
{
    struct out *o = ctx;
    if (st == RT_STDERR) o->err_seen = 1;
    if (o->len + len + 1 > o->cap) {
        o->cap = (o->len + len + 1) * 2;
        o->buf = realloc(o->buf, o->cap);
        cr_assert_not_null(o->buf);
    }
    memcpy(o->buf + o->len, data, len);
    o->len += len;
    o->buf[o->len] = '\0';
    o->calls++;
    if (len > o->largest) o->largest = len;
    return o->stop_after && o->len >= o->stop_after;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A shell command whose output goes to the collecting sink. */
static struct rt_cmd shell(const char *script, struct out *o)
{
    static const char *argv[4];
    argv[0] = "sh";
    argv[1] = "-c";
    argv[2] = script;
    argv[3] = NULL;
    struct rt_cmd c;
    memset(&c, 0, sizeof c);
    c.argv = argv;
    c.out.kind = RT_OUT_SINK;
    c.err.kind = RT_OUT_MERGE;
    c.sink = collect;
    c.sink_ctx = o;
    return c;
}

/* Returns 1 once no process of group pgid is left (polled for up to 10 s). */
static int group_gone(pid_t pgid)
{
    for (int i = 0; i < 1000; i++) {
        if (kill(-pgid, 0) != 0 && errno == ESRCH) return 1;
        usleep(10000);
    }
    return 0;
}

/* The test process has no child left, running or zombie. */
static void assert_no_children(void)
{
    errno = 0;
    cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1, "a child is left");
    cr_assert_eq(errno, ECHILD);
}

/* Reads the pid a script wrote into file path. */
static pid_t read_pid(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f);
    long pid = 0;
    cr_assert_eq(fscanf(f, "%ld", &pid), 1);
    fclose(f);
    return (pid_t)pid;
}

/* Runs c to its end with rt_start and rt_wait into *r, for tests that look at the process group
 * afterwards: returns the group's id and sets *took to the seconds the run lasted. */
static pid_t run_watching_group(struct rt_cmd *c, struct rt_result *r, double *took)
{
    double t0 = now_s();
    rt_proc *p = NULL;
    cr_assert_eq(rt_start(c, &p, r), 0);
    pid_t pgid = rt_pid(p);
    cr_assert_eq(rt_wait(p, r), 0);
    rt_free(p);
    *took = now_s() - t0;
    return pgid;
}

/* Runs c to its end with rt_run into *r; returns the seconds the run lasted. */
static double run_timed(struct rt_cmd *c, struct rt_result *r)
{
    double t0 = now_s();
    cr_assert_eq(rt_run(c, r), 0);
    return now_s() - t0;
}

/* Makes an empty temporary file from the mkstemp template path, for a script to write into. */
static void make_temp_file(char *path)
{
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
}

Test(rt_runner, reports_the_exit_code_and_the_output)
{
    struct out o = {0};
    struct rt_cmd c = shell("echo out; echo err >&2; exit 7", &o);
    struct rt_result r;
    cr_assert_eq(rt_run(&c, &r), 0);
    cr_assert_eq(r.end, RT_END_EXITED);
    cr_assert_eq(r.exit_code, 7);
    cr_assert_eq(r.signal, 0);
    cr_assert_str_eq(o.buf, "out\nerr\n");
    cr_assert_eq(r.out_bytes, 8);
    assert_no_children();
    free(o.buf);
}

Test(rt_runner, reports_a_zero_exit)
{
    const char *argv[] = {"true", NULL};
    struct rt_cmd c = {.argv = argv};
    struct rt_result r;
    cr_assert_eq(rt_run(&c, &r), 0);
    cr_assert_eq(r.end, RT_END_EXITED);
    cr_assert_eq(r.exit_code, 0);
    assert_no_children();
}

Test(rt_runner, reports_a_signal_it_did_not_send)
{
    struct out o = {0};
    struct rt_cmd c = shell("kill -USR1 $$", &o);
    struct rt_result r;
    cr_assert_eq(rt_run(&c, &r), 0);
    cr_assert_eq(r.end, RT_END_SIGNALED);
    cr_assert_eq(r.signal, SIGUSR1);
    cr_assert_eq(r.exit_code, -1);
    free(o.buf);
}

Test(rt_runner, a_missing_program_is_a_spawn_error)
{
    const char *argv[] = {"/nonexistent/program", NULL};
    struct rt_cmd c = {.argv = argv};
    struct rt_result r;
    cr_assert_eq(rt_run(&c, &r), RT_ESPAWN);
    cr_assert_eq(r.error, ENOENT);
    assert_no_children();
}

Test(rt_runner, rejects_a_sink_stream_without_a_sink)
{
    const char *argv[] = {"true", NULL};
    struct rt_cmd c = {.argv = argv};
    c.out.kind = RT_OUT_SINK;
    struct rt_result r;
    cr_assert_eq(rt_run(&c, &r), RT_EINVAL);
}

Test(rt_runner, keeps_stdout_and_stderr_apart_when_both_are_sinks)
{
    struct out o = {0};
    struct rt_cmd c = shell("printf abc; printf de >&2", &o);
    c.err.kind = RT_OUT_SINK;
    struct rt_result r;
    cr_assert_eq(rt_run(&c, &r), 0);
    cr_assert_eq(r.out_bytes, 3);
    cr_assert_eq(r.err_bytes, 2);
    cr_assert(o.err_seen);
    free(o.buf);
}

Test(rt_runner, honours_the_environment_and_the_working_directory)
{
    char dir[] = "/tmp/rt-cwd-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    struct out o = {0};
    struct rt_cmd c = shell("echo \"$GREETING\"; pwd; echo \"${HOME-unset}\"", &o);
    const char *envp[] = {"GREETING=hello there", "PATH=/usr/bin:/bin", NULL};
    c.envp = envp;
    c.cwd = dir;
    struct rt_result r;
    cr_assert_eq(rt_run(&c, &r), 0);
    cr_assert_eq(r.exit_code, 0);
    char want[256];
    snprintf(want, sizeof want, "hello there\n%s\nunset\n", dir);
    cr_assert_str_eq(o.buf, want);
    rmdir(dir);
    free(o.buf);
}

Test(rt_runner, a_missing_working_directory_is_a_spawn_error)
{
    const char *argv[] = {"true", NULL};
    struct rt_cmd c = {.argv = argv, .cwd = "/nonexistent/dir"};
    struct rt_result r;
    cr_assert_eq(rt_run(&c, &r), RT_ESPAWN);
    cr_assert_eq(r.error, ENOENT);
    assert_no_children();
}

Test(rt_runner, runs_in_a_new_process_group)
{
    struct out o = {0};
    struct rt_cmd c = shell("echo $$; ps -o pgid= -p $$", &o);
    struct rt_result r;
    cr_assert_eq(rt_run(&c, &r), 0);
    long pid = 0, pgid = 0;
    cr_assert_eq(sscanf(o.buf, "%ld %ld", &pid, &pgid), 2, "output: %s", o.buf);
    cr_assert_eq(pid, pgid);
    cr_assert_neq(pgid, (long)getpgrp());
    free(o.buf);
}

Test(rt_runner, feeds_stdin_from_data)
{
    static char data[300000]; /* more than a pipe holds */
    memset(data, 'x', sizeof data);
    struct out o = {0};
    struct rt_cmd c = shell("wc -c", &o);
    c.in.kind = RT_IN_DATA;
    c.in.data = data;
    c.in.len = sizeof data;
    struct rt_result r;
    cr_assert_eq(rt_run(&c, &r), 0);
    cr_assert_eq(atol(o.buf), (long)sizeof data);
    free(o.buf);
}

Test(rt_runner, a_child_that_does_not_read_its_stdin_data_does_not_hang_the_runner, .timeout = 30)
{
    static char data[1 << 20];
    struct out o = {0};
    struct rt_cmd c = shell("exit 3", &o);
    c.in.kind = RT_IN_DATA;
    c.in.data = data;
    c.in.len = sizeof data;
    struct rt_result r;
    cr_assert_eq(rt_run(&c, &r), 0);
    cr_assert_eq(r.exit_code, 3);
    sigset_t pending;
    sigpending(&pending);
    cr_assert(!sigismember(&pending, SIGPIPE), "a SIGPIPE was left pending");
    free(o.buf);
}

Test(rt_runner, feeds_stdin_from_a_file_descriptor_and_a_path)
{
    char path[] = "/tmp/rt-in-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, "12345", 5), 5);
    lseek(fd, 0, SEEK_SET);
    struct out o = {0};
    struct rt_cmd c = shell("cat", &o);
    c.in.kind = RT_IN_FD;
    c.in.fd = fd;
    struct rt_result r;
    cr_assert_eq(rt_run(&c, &r), 0);
    cr_assert_str_eq(o.buf, "12345");
    o.len = 0;
    c.in.kind = RT_IN_PATH;
    c.in.path = path;
    cr_assert_eq(rt_run(&c, &r), 0);
    cr_assert_str_eq(o.buf, "12345");
    close(fd);
    unlink(path);
    free(o.buf);
}

static void *write_stdin(void *arg)
{
    int fd = *(int *)arg;
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(write(fd, "line\n", 5), 5);
    close(fd);
    return NULL;
}

Test(rt_runner, hands_a_stdin_pipe_to_the_caller)
{
    struct out o = {0};
    struct rt_cmd c = shell("wc -l", &o);
    c.in.kind = RT_IN_PIPE;
    rt_proc *p = NULL;
    struct rt_result r;
    cr_assert_eq(rt_start(&c, &p, &r), 0);
    int fd = rt_stdin_take(p);
    cr_assert_geq(fd, 0);
    cr_assert_eq(rt_stdin_take(p), -1);
    pthread_t t;
    pthread_create(&t, NULL, write_stdin, &fd);
    cr_assert_eq(rt_wait(p, &r), 0);
    pthread_join(t, NULL);
    rt_free(p);
    cr_assert_eq(atol(o.buf), 1000);
    free(o.buf);
}

Test(rt_runner, writes_stdout_to_a_file_descriptor)
{
    char path[] = "/tmp/rt-out-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    unlink(path);
    const char *argv[] = {"echo", "to a file", NULL};
    struct rt_cmd c = {.argv = argv};
    c.out.kind = RT_OUT_FD;
    c.out.fd = fd;
    struct rt_result r;
    cr_assert_eq(rt_run(&c, &r), 0);
    char buf[64] = {0};
    cr_assert_eq(pread(fd, buf, sizeof buf - 1, 0), 10);
    cr_assert_str_eq(buf, "to a file\n");
    close(fd);
}

Test(rt_runner, streams_output_larger_than_a_pipe_completely, .timeout = 60)
{
    struct out o = {0};
    /* 5 MiB of 'a' */
    struct rt_cmd c = shell("head -c 5242880 /dev/zero | tr '\\0' a", &o);
    c.chunk = 16384;
    struct rt_result r;
    cr_assert_eq(rt_run(&c, &r), 0);
    cr_assert_eq(r.exit_code, 0, "end %d code %d signal %d: %s", r.end, r.exit_code, r.signal,
                 o.buf && o.len > 300 ? o.buf + o.len - 300 : "");
    cr_assert_eq(o.len, 5242880);
    cr_assert_eq(r.out_bytes, 5242880);
    cr_assert_eq(r.dropped, 0);
    cr_assert_leq(o.largest, 16384);
    for (size_t i = 0; i < o.len; i++)
        if (o.buf[i] != 'a') cr_assert_fail("byte %zu is %d", i, o.buf[i]);
    free(o.buf);
}

Test(rt_runner, caps_what_reaches_the_sink_but_lets_the_child_finish, .timeout = 60)
{
    struct out o = {0};
    struct rt_cmd c = shell("head -c 3000000 /dev/zero; echo done >&2", &o);
    c.max_output = 1000;
    struct rt_result r;
    cr_assert_eq(rt_run(&c, &r), 0);
    cr_assert_eq(r.end, RT_END_EXITED);
    cr_assert_eq(r.exit_code, 0);
    cr_assert_eq(o.len, 1000);
    cr_assert_eq(r.out_bytes, 3000005);
    cr_assert_eq(r.dropped, 3000005 - 1000);
    free(o.buf);
}

Test(rt_runner, a_sink_can_stop_the_command, .timeout = 60)
{
    struct out o = {0};
    o.stop_after = 1;
    struct rt_cmd c = shell("while :; do echo y; sleep 0.05; done", &o);
    struct rt_result r;
    cr_assert_eq(rt_run(&c, &r), 0);
    cr_assert_eq(r.end, RT_END_STOPPED);
    cr_assert_eq(r.signal, SIGTERM);
    assert_no_children();
    free(o.buf);
}

/* A command that sleeps long is timed out: the whole group, the shell and its sleep, goes. */
Test(rt_runner, times_out_and_kills_the_whole_group, .timeout = 60)
{
    struct out o = {0};
    struct rt_cmd c = shell("sleep 600 & echo $!; wait", &o);
    c.timeout = 1;
    struct rt_result r;
    double took;
    pid_t pgid = run_watching_group(&c, &r, &took);
    cr_assert_eq(r.end, RT_END_TIMED_OUT);
    cr_assert_eq(r.killed, 0, "TERM should have been enough");
    cr_assert(took >= 0.9 && took < 10, "ended after %.2f s", took);
    cr_assert(group_gone(pgid), "the group is still there");
    cr_assert_gt(atol(o.buf), 0);
    cr_assert_eq(kill((pid_t)atol(o.buf), 0), -1, "the background sleep survived");
    assert_no_children();
    free(o.buf);
}

/* A group that ignores TERM is killed with KILL after the grace. */
static void kills_a_term_ignoring_group(int fallback)
{
    rt_test_disable_pidfd(fallback);
    struct out o = {0};
    /* The ignored TERM is inherited by the background sleep. The sink stops the command on
     * "ready", so the TERM cannot arrive before the trap is set. */
    o.stop_after = 1;
    struct rt_cmd c = shell("trap '' TERM; sleep 600 & echo ready; wait; wait", &o);
    c.grace = 1;
    struct rt_result r;
    double took;
    pid_t pgid = run_watching_group(&c, &r, &took);
    cr_assert_eq(r.end, RT_END_STOPPED);
    cr_assert_eq(r.killed, 1);
    cr_assert_eq(r.signal, SIGKILL);
    cr_assert(took >= 0.9 && took < 12, "ended after %.2f s", took);
    cr_assert(group_gone(pgid), "the group is still there");
    assert_no_children();
    free(o.buf);
}

Test(rt_runner, kills_a_term_ignoring_group_after_the_grace, .timeout = 60)
{
    kills_a_term_ignoring_group(0);
}

Test(rt_runner, kills_a_term_ignoring_group_without_a_pidfd, .timeout = 60)
{
    kills_a_term_ignoring_group(1);
}

/* The shell exits at once but leaves a sleep holding stdout: the runner does not wait for it,
 * and kills it. */
static void grandchild_holding_stdout(int fallback)
{
    rt_test_disable_pidfd(fallback);
    char pidfile[] = "/tmp/rt-gc-XXXXXX";
    make_temp_file(pidfile);
    char script[256];
    snprintf(script, sizeof script, "sleep 600 & echo $! > %s; echo hi", pidfile);
    struct out o = {0};
    struct rt_cmd c = shell(script, &o);
    struct rt_result r;
    double took;
    pid_t pgid = run_watching_group(&c, &r, &took);
    cr_assert_eq(r.end, RT_END_EXITED);
    cr_assert_eq(r.exit_code, 0);
    cr_assert_str_eq(o.buf, "hi\n");
    cr_assert(took < 10, "ended after %.2f s", took);
    pid_t gc = read_pid(pidfile);
    cr_assert(group_gone(pgid), "the group is still there");
    cr_assert_eq(kill(gc, 0), -1, "the grandchild %d survived", (int)gc);
    assert_no_children();
    unlink(pidfile);
    free(o.buf);
}

Test(rt_runner, a_grandchild_holding_stdout_neither_hangs_nor_survives, .timeout = 60)
{
    grandchild_holding_stdout(0);
}

Test(rt_runner, a_grandchild_holding_stdout_without_a_pidfd, .timeout = 60)
{
    grandchild_holding_stdout(1);
}

/* A process that left the group (setsid) and keeps stdout open cannot hang the runner. */
Test(rt_runner, a_process_that_left_the_group_does_not_hang_the_reader, .timeout = 60)
{
    char pidfile[] = "/tmp/rt-sid-XXXXXX";
    make_temp_file(pidfile);
    char script[256];
    snprintf(script, sizeof script,
             "setsid sh -c 'echo $$ > %s; exec sleep 600' & sleep 0.2; echo hi", pidfile);
    struct out o = {0};
    struct rt_cmd c = shell(script, &o);
    struct rt_result r;
    double took = run_timed(&c, &r);
    cr_assert_eq(r.exit_code, 0);
    cr_assert(took < 15, "ended after %.2f s", took);
    cr_assert_str_eq(o.buf, "hi\n");
    /* It is out of the runner's reach: clean up here. */
    for (int i = 0; i < 500; i++) {
        struct stat st;
        if (stat(pidfile, &st) == 0 && st.st_size > 0) break;
        usleep(10000);
    }
    pid_t escaped = read_pid(pidfile);
    if (escaped > 0) kill(escaped, SIGKILL);
    unlink(pidfile);
    free(o.buf);
}

static void *stop_later(void *arg)
{
    usleep(300000);
    rt_stop(arg);
    rt_stop(arg); /* twice is harmless */
    return NULL;
}

Test(rt_runner, stops_on_request_from_another_thread, .timeout = 60)
{
    struct out o = {0};
    struct rt_cmd c = shell("sleep 600 & wait", &o);
    c.timeout = 300;
    rt_proc *p = NULL;
    struct rt_result r;
    cr_assert_eq(rt_start(&c, &p, &r), 0);
    pid_t pgid = rt_pid(p);
    pthread_t t;
    double t0 = now_s();
    pthread_create(&t, NULL, stop_later, p);
    cr_assert_eq(rt_wait(p, &r), 0);
    pthread_join(t, NULL);
    rt_free(p);
    cr_assert_eq(r.end, RT_END_STOPPED);
    cr_assert_lt(now_s() - t0, 10);
    cr_assert(group_gone(pgid));
    assert_no_children();
    free(o.buf);
}

Test(rt_runner, a_stop_before_the_wait_takes_effect_when_it_starts, .timeout = 60)
{
    const char *argv[] = {"sleep", "600", NULL};
    struct rt_cmd c = {.argv = argv};
    rt_proc *p = NULL;
    struct rt_result r;
    cr_assert_eq(rt_start(&c, &p, &r), 0);
    rt_stop(p);
    cr_assert_eq(rt_wait(p, &r), 0);
    cr_assert_eq(rt_wait(p, &r), RT_EINVAL);
    rt_free(p);
    cr_assert_eq(r.end, RT_END_STOPPED);
    cr_assert_eq(r.signal, SIGTERM);
    assert_no_children();
}

Test(rt_runner, freeing_an_unwaited_command_kills_and_reaps_it, .timeout = 60)
{
    const char *argv[] = {"sleep", "600", NULL};
    struct rt_cmd c = {.argv = argv};
    rt_proc *p = NULL;
    cr_assert_eq(rt_start(&c, &p, NULL), 0);
    pid_t pgid = rt_pid(p);
    rt_free(p);
    cr_assert(group_gone(pgid));
    assert_no_children();
}

/* The idle and total limits that CodeCommit's git transport uses, with a pidfd and without. */
static void killed_when_idle(int fallback)
{
    rt_test_disable_pidfd(fallback);
    struct out o = {0};
    struct rt_cmd c = shell("echo start; sleep 30", &o);
    c.idle = 1;
    c.timeout = 60;
    struct rt_result r;
    double took = run_timed(&c, &r);
    cr_assert_eq(r.end, RT_END_IDLE);
    cr_assert(took >= 0.9 && took < 10, "killed after %.2f s", took);
    assert_no_children();
    free(o.buf);
}

Test(rt_runner, kills_an_idle_command, .timeout = 60)
{
    killed_when_idle(0);
}

Test(rt_runner, kills_an_idle_command_without_a_pidfd, .timeout = 60)
{
    killed_when_idle(1);
}

Test(rt_runner, output_keeps_a_command_from_being_idle_but_not_past_the_timeout, .timeout = 60)
{
    rt_test_disable_pidfd(1);
    struct out o = {0};
    struct rt_cmd c = shell("while :; do echo x; sleep 0.2; done", &o);
    c.idle = 3; /* a writer that a loaded machine pauses for a moment is still not idle */
    c.timeout = 6;
    struct rt_result r;
    double took = run_timed(&c, &r);
    cr_assert_eq(r.end, RT_END_TIMED_OUT);
    cr_assert(took >= 5.9 && took < 30, "killed after %.2f s", took);
    free(o.buf);
}

Test(rt_runner, reaps_a_quick_exit_soon_without_a_pidfd, .timeout = 60)
{
    rt_test_disable_pidfd(1);
    struct out o = {0};
    struct rt_cmd c = shell("sleep 0.3; exit 7", &o);
    c.idle = 30;
    struct rt_result r;
    double took = run_timed(&c, &r);
    cr_assert_eq(r.end, RT_END_EXITED);
    cr_assert_eq(r.exit_code, 7);
    cr_assert_lt(took, 15); /* long before the idle limit, even on a loaded machine */
    free(o.buf);
}

Test(rt_runner, an_untaken_stdin_pipe_reads_as_empty, .timeout = 60)
{
    struct out o = {0};
    struct rt_cmd c = shell("wc -c", &o);
    c.in.kind = RT_IN_PIPE;
    struct rt_result r;
    cr_assert_eq(rt_run(&c, &r), 0);
    cr_assert_eq(r.end, RT_END_EXITED);
    cr_assert_eq(atol(o.buf), 0);
    free(o.buf);
}

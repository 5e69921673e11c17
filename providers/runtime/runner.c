/* The child-process runner: posix_spawn in a new process group, a poll loop over the output
 * pipes, a pidfd (or waitpid polling) and a wake pipe, group kills and the final reap. */
#include "providers/runtime/runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define DEFAULT_CHUNK (64 * 1024)
#define DEFAULT_GRACE 5.0
/* After the leader ended and its group was killed, what is in the pipes is read for at most
 * this long: only a process that left the group can still hold them open. */
#define DRAIN_SECONDS 2.0
/* Without a pidfd the leader's end is noticed by polling waitid this often. */
#define FALLBACK_TICK_MS 100

struct rt_proc {
    pid_t pid;
    int pidfd;        /* -1: waitid polling */
    int wake[2];      /* rt_stop writes a byte to wake[1] */
    int out_fd;       /* read end of the stdout pipe, or -1 */
    int err_fd;       /* read end of the stderr pipe, or -1 */
    int in_fd;        /* write end of the stdin pipe (RT_IN_DATA or RT_IN_PIPE), or -1 */
    int in_is_data;   /* the runner writes in_fd from cmd.in.data */
    const char *data; /* RT_IN_DATA bytes still to write (the caller's, valid until rt_wait) */
    size_t data_left;
    rt_sink_fn sink;
    void *sink_ctx;
    size_t chunk;
    uint64_t max_output;
    double timeout, idle, grace;
    double started;
    atomic_int stop;
    int waited;
    int reaped;
};

static int no_pidfd; /* tests force the waitid fallback */

void rt_test_disable_pidfd(int disable)
{
    no_pidfd = disable;
}

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void close_fd(int *fd)
{
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

static void fail(struct rt_result *res, int err)
{
    if (!res) return;
    memset(res, 0, sizeof *res);
    res->exit_code = -1;
    res->error = err;
}

int rt_start(const struct rt_cmd *cmd, rt_proc **out, struct rt_result *res)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int fa_init = 0, attr_init = 0, rc = 0, err = 0;
    int child_in = -1, child_out = -1, child_err = -1;
    rt_proc *p = NULL;
    *out = NULL;
    if (!cmd || !cmd->argv || !cmd->argv[0] || cmd->out.kind == RT_OUT_MERGE ||
        ((cmd->out.kind == RT_OUT_SINK || cmd->err.kind == RT_OUT_SINK) && !cmd->sink) ||
        (cmd->in.kind == RT_IN_PATH && !cmd->in.path) ||
        (cmd->in.kind == RT_IN_DATA && cmd->in.len && !cmd->in.data)) {
        fail(res, EINVAL);
        return RT_EINVAL;
    }
    p = calloc(1, sizeof *p);
    if (!p) {
        err = ENOMEM;
        rc = RT_ESYS;
        goto out;
    }
    p->pid = -1;
    p->pidfd = p->out_fd = p->err_fd = p->in_fd = p->wake[0] = p->wake[1] = -1;
    p->sink = cmd->sink;
    p->sink_ctx = cmd->sink_ctx;
    p->chunk = cmd->chunk ? cmd->chunk : DEFAULT_CHUNK;
    p->max_output = cmd->max_output;
    p->timeout = cmd->timeout;
    p->idle = cmd->idle;
    p->grace = cmd->grace > 0 ? cmd->grace : DEFAULT_GRACE;
    atomic_init(&p->stop, 0);
    rc = RT_ESYS;
    /* Every descriptor is close-on-exec, so a child that another thread spawns meanwhile
     * inherits none of them: a pipe end held there would delay this child's EOF. */
    if (pipe2(p->wake, O_CLOEXEC | O_NONBLOCK) != 0) goto sys;
    if (posix_spawn_file_actions_init(&fa) != 0) goto sys;
    fa_init = 1;

    if (cmd->in.kind == RT_IN_DATA || cmd->in.kind == RT_IN_PIPE) {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0) goto sys;
        child_in = fds[0];
        p->in_fd = fds[1];
        p->in_is_data = cmd->in.kind == RT_IN_DATA;
        p->data = cmd->in.data;
        p->data_left = cmd->in.len;
        if (p->in_is_data && fcntl(p->in_fd, F_SETFL, O_NONBLOCK) != 0) goto sys;
        err = posix_spawn_file_actions_adddup2(&fa, child_in, 0);
    } else if (cmd->in.kind == RT_IN_FD) {
        err = posix_spawn_file_actions_adddup2(&fa, cmd->in.fd, 0);
    } else {
        const char *path = cmd->in.kind == RT_IN_PATH ? cmd->in.path : "/dev/null";
        err = posix_spawn_file_actions_addopen(&fa, 0, path, O_RDONLY, 0);
    }
    if (err) goto sys_err;

    if (cmd->out.kind == RT_OUT_SINK) {
        int fds[2];
        /* Only the runner's end is non-blocking: the flag is per end, and a child that gets
         * EAGAIN on its stdout fails its write. */
        if (pipe2(fds, O_CLOEXEC) != 0) goto sys;
        p->out_fd = fds[0];
        if (fcntl(p->out_fd, F_SETFL, O_NONBLOCK) != 0) goto sys;
        child_out = fds[1];
        err = posix_spawn_file_actions_adddup2(&fa, child_out, 1);
    } else if (cmd->out.kind == RT_OUT_FD) {
        err = posix_spawn_file_actions_adddup2(&fa, cmd->out.fd, 1);
    } else {
        err = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    }
    if (err) goto sys_err;

    if (cmd->err.kind == RT_OUT_MERGE) {
        err = posix_spawn_file_actions_adddup2(&fa, 1, 2);
    } else if (cmd->err.kind == RT_OUT_SINK) {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0) goto sys;
        p->err_fd = fds[0];
        if (fcntl(p->err_fd, F_SETFL, O_NONBLOCK) != 0) goto sys;
        child_err = fds[1];
        err = posix_spawn_file_actions_adddup2(&fa, child_err, 2);
    } else if (cmd->err.kind == RT_OUT_FD) {
        err = posix_spawn_file_actions_adddup2(&fa, cmd->err.fd, 2);
    } else {
        err = posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    }
    if (err) goto sys_err;
    if (cmd->cwd && (err = posix_spawn_file_actions_addchdir_np(&fa, cmd->cwd)) != 0) goto sys_err;
    if ((err = posix_spawn_file_actions_addclosefrom_np(&fa, 3)) != 0) goto sys_err;

    /* A new group (pgid = pid) so that timeouts and stops reach the command's own children;
     * signals at their defaults and none blocked, whatever this thread has set. */
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    sigdelset(&all, SIGKILL);
    sigdelset(&all, SIGSTOP);
    if ((err = posix_spawnattr_init(&attr)) != 0) goto sys_err;
    attr_init = 1;
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);

    const char *file = cmd->file ? cmd->file : cmd->argv[0];
    /* posix_spawn's char *const[] is historical: it never writes the strings (POSIX) */
    char *const *argv = (char *const *)(uintptr_t)cmd->argv;
    char *const *envp = cmd->envp ? (char *const *)(uintptr_t)cmd->envp : environ;
    p->started = mono();
    if (strchr(file, '/'))
        err = posix_spawn(&p->pid, file, &fa, &attr, argv, envp);
    else
        err = posix_spawnp(&p->pid, file, &fa, &attr, argv, envp);
    if (err) {
        p->pid = -1;
        rc = RT_ESPAWN;
        goto out;
    }
    /* pidfd_open needs Linux 5.3 and may be refused (ENOSYS, seccomp, EMFILE); the loop then
     * polls waitid, with the same limits. */
    if (!no_pidfd) {
        long fd = syscall(SYS_pidfd_open, p->pid, 0);
        if (fd >= 0) {
            p->pidfd = (int)fd;
            fcntl(p->pidfd, F_SETFD, FD_CLOEXEC);
        }
    }
    rc = 0;
    err = 0;
    goto out;
sys:
    err = errno;
    goto out;
sys_err:
    rc = RT_ESYS;
out:
    if (fa_init) posix_spawn_file_actions_destroy(&fa);
    if (attr_init) posix_spawnattr_destroy(&attr);
    close_fd(&child_in);
    close_fd(&child_out);
    close_fd(&child_err);
    if (rc) {
        fail(res, err);
        rt_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

pid_t rt_pid(const rt_proc *p)
{
    return p->pid;
}

int rt_stdin_take(rt_proc *p)
{
    if (p->in_is_data) return -1;
    int fd = p->in_fd;
    p->in_fd = -1;
    return fd;
}

void rt_stop(rt_proc *p)
{
    atomic_store(&p->stop, 1);
    ssize_t n = write(p->wake[1], "s", 1); /* a full pipe already says wake up */
    (void)n;
}

/* Hands len bytes of stream to the sink, within max_output. Returns 1 when the sink asked to
 * stop. */
static int deliver(rt_proc *p, struct rt_result *res, enum rt_stream st, const char *buf,
                   size_t len, int *sink_stopped)
{
    size_t give = len;
    uint64_t given = res->out_bytes + res->err_bytes - res->dropped;
    if (st == RT_STDOUT)
        res->out_bytes += len;
    else
        res->err_bytes += len;
    if (*sink_stopped)
        give = 0;
    else if (p->max_output && given + give > p->max_output)
        give = (size_t)(p->max_output - given);
    res->dropped += len - give;
    if (give && p->sink(p->sink_ctx, st, buf, give) != 0) {
        *sink_stopped = 1;
        return 1;
    }
    return 0;
}

/* Reads one chunk from *fd. Returns 1 when bytes were read, 0 otherwise (EOF closes *fd). */
static int read_chunk(rt_proc *p, int *fd, enum rt_stream st, char *buf, struct rt_result *res,
                      int *sink_stopped, int *stop_now)
{
    ssize_t n = read(*fd, buf, p->chunk);
    if (n > 0) {
        if (deliver(p, res, st, buf, (size_t)n, sink_stopped)) *stop_now = 1;
        return 1;
    }
    if (n == 0 || (errno != EAGAIN && errno != EINTR)) close_fd(fd);
    return 0;
}

/* Writes what the pipe takes of the stdin data; closes it at the end or when the child has
 * stopped reading (EPIPE, with SIGPIPE blocked by rt_wait). */
static void feed_stdin(rt_proc *p)
{
    while (p->data_left > 0) {
        ssize_t n = write(p->in_fd, p->data, p->data_left);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        if (n < 0) break;
        p->data += n;
        p->data_left -= (size_t)n;
    }
    close_fd(&p->in_fd);
}

/* Returns 1 when the leader has ended (still unreaped, so its pid keeps naming the group). */
static int leader_ended(rt_proc *p)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0)
        return errno == ECHILD; /* reaped by someone else (SIGCHLD ignored): nothing to wait */
    return si.si_pid == p->pid;
}

static void reap(rt_proc *p, struct rt_result *res)
{
    int status = 0;
    while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR) {
    }
    p->reaped = 1;
    res->wait_status = status;
    res->seconds = mono() - p->started;
}

int rt_wait(rt_proc *p, struct rt_result *res)
{
    if (!p || p->waited) return RT_EINVAL;
    p->waited = 1;
    if (!p->in_is_data) close_fd(&p->in_fd); /* an RT_IN_PIPE nobody took: EOF */
    memset(res, 0, sizeof *res);
    res->exit_code = -1;
    char *buf = malloc(p->chunk);
    if (!buf) {
        kill(-p->pid, SIGKILL);
        reap(p, res);
        res->error = ENOMEM;
        res->end = RT_END_STOPPED;
        return RT_ESYS;
    }
    /* Writing stdin to a child that exited raises SIGPIPE on this thread: block it here and
     * consume the one raised, so that the process (and its handler, if any) never sees it. */
    sigset_t pipe_set, old_mask, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigemptyset(&pending);
    sigpending(&pending);
    int pipe_was_pending = sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);

    enum rt_end reason = 0;
    int term_sent = 0, sink_stopped = 0, leader_gone = 0;
    double now = mono(), last_output = now, term_at = 0, drain_until = 0;
    for (;;) {
        now = mono();
        if (!reason) {
            if (atomic_load(&p->stop))
                reason = RT_END_STOPPED;
            else if (p->timeout > 0 && now - p->started >= p->timeout)
                reason = RT_END_TIMED_OUT;
            else if (p->idle > 0 && now - last_output >= p->idle)
                reason = RT_END_IDLE;
        }
        if (reason && !term_sent && !leader_gone) {
            kill(-p->pid, SIGTERM);
            term_sent = 1;
            term_at = now;
        }
        if (term_sent && !res->killed && !leader_gone && now - term_at >= p->grace) {
            kill(-p->pid, SIGKILL);
            res->killed = 1;
        }
        if (!leader_gone && p->pidfd < 0 && leader_ended(p)) leader_gone = 1;
        if (leader_gone && !p->reaped) {
            /* The leader is a zombie, so its pid still names the group: whatever it left
             * running (a background job holding stdout) goes now, then the leader is reaped. */
            kill(-p->pid, SIGKILL);
            reap(p, res);
            close_fd(&p->in_fd);
            drain_until = now + DRAIN_SECONDS;
        }
        if (p->reaped && ((p->out_fd < 0 && p->err_fd < 0) || now >= drain_until)) break;

        /* The next deadline bounds the wait. */
        double next = now + 3600;
        if (!reason && p->timeout > 0 && p->started + p->timeout < next)
            next = p->started + p->timeout;
        if (!reason && p->idle > 0 && last_output + p->idle < next) next = last_output + p->idle;
        if (term_sent && !res->killed && term_at + p->grace < next) next = term_at + p->grace;
        if (p->reaped && drain_until < next) next = drain_until;
        int wait_ms = (int)((next - now) * 1000.0) + 1;
        if (wait_ms < 0) wait_ms = 0;
        if (!leader_gone && p->pidfd < 0 && wait_ms > FALLBACK_TICK_MS) wait_ms = FALLBACK_TICK_MS;

        struct pollfd fds[5];
        int nf = 0, i_wake = -1, i_pid = -1, i_out = -1, i_err = -1, i_in = -1;
        fds[i_wake = nf++] = (struct pollfd){p->wake[0], POLLIN, 0};
        if (!leader_gone && p->pidfd >= 0) fds[i_pid = nf++] = (struct pollfd){p->pidfd, POLLIN, 0};
        if (p->out_fd >= 0) fds[i_out = nf++] = (struct pollfd){p->out_fd, POLLIN, 0};
        if (p->err_fd >= 0) fds[i_err = nf++] = (struct pollfd){p->err_fd, POLLIN, 0};
        if (p->in_is_data && p->in_fd >= 0)
            fds[i_in = nf++] = (struct pollfd){p->in_fd, POLLOUT, 0};
        int r = poll(fds, (nfds_t)nf, wait_ms);
        if (r < 0 && errno != EINTR) break; /* cannot happen with valid fds; still reap below */
        if (r <= 0) continue;

        if (fds[i_wake].revents) {
            char drain[16];
            while (read(p->wake[0], drain, sizeof drain) > 0) {
            }
        }
        if (i_pid >= 0 && fds[i_pid].revents) leader_gone = 1;
        int stop_now = 0;
        if (i_out >= 0 && fds[i_out].revents &&
            read_chunk(p, &p->out_fd, RT_STDOUT, buf, res, &sink_stopped, &stop_now))
            last_output = mono();
        if (i_err >= 0 && fds[i_err].revents &&
            read_chunk(p, &p->err_fd, RT_STDERR, buf, res, &sink_stopped, &stop_now))
            last_output = mono();
        if (stop_now && !reason) reason = RT_END_STOPPED;
        if (i_in >= 0 && fds[i_in].revents) feed_stdin(p);
    }
    if (!p->reaped) {
        kill(-p->pid, SIGKILL);
        reap(p, res);
    }
    close_fd(&p->out_fd);
    close_fd(&p->err_fd);
    if (p->in_is_data) close_fd(&p->in_fd);
    free(buf);

    if (!pipe_was_pending) {
        struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_set, NULL, &zero) == SIGPIPE) {
        }
    }
    pthread_sigmask(SIG_SETMASK, &old_mask, NULL);

    int st = res->wait_status;
    if (WIFEXITED(st)) res->exit_code = WEXITSTATUS(st);
    if (WIFSIGNALED(st)) res->signal = WTERMSIG(st);
    if (reason)
        res->end = reason;
    else
        res->end = WIFSIGNALED(st) ? RT_END_SIGNALED : RT_END_EXITED;
    return 0;
}

void rt_free(rt_proc *p)
{
    if (!p) return;
    if (p->pid > 0 && !p->reaped) {
        kill(-p->pid, SIGKILL);
        int status;
        while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
    close_fd(&p->pidfd);
    close_fd(&p->wake[0]);
    close_fd(&p->wake[1]);
    close_fd(&p->out_fd);
    close_fd(&p->err_fd);
    close_fd(&p->in_fd);
    free(p);
}

int rt_run(const struct rt_cmd *cmd, struct rt_result *res)
{
    rt_proc *p = NULL;
    int rc = rt_start(cmd, &p, res);
    if (rc) return rc;
    rc = rt_wait(p, res);
    rt_free(p);
    return rc;
}

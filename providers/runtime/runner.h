/* The child-process runner: spawn a command in its own process group, stream its output to a
 * sink, time it out or stop it, reap it and whatever it left behind. */
#ifndef CPL_RUNTIME_RUNNER_H
#define CPL_RUNTIME_RUNNER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "providers/runtime/errors.h" /* RT_EINVAL, RT_ESPAWN, RT_ESYS */

/* Where the child's stdin comes from. */
enum rt_in_kind {
    RT_IN_NULL = 0, /* /dev/null */
    RT_IN_FD,       /* in.fd, dup'ed into the child from its current offset; the caller keeps it */
    RT_IN_PATH,     /* in.path opened read-only */
    RT_IN_DATA,     /* in.data/in.len written by the runner through a pipe, then closed */
    RT_IN_PIPE,     /* a pipe whose write end the caller takes with rt_stdin_take() */
};

/* Where the child's stdout or stderr goes. */
enum rt_out_kind {
    RT_OUT_NULL = 0, /* /dev/null */
    RT_OUT_SINK,     /* a pipe read by the runner and handed to cmd.sink as it arrives */
    RT_OUT_FD,       /* out.fd (e.g. a log file), dup'ed; the caller keeps it; not seen by idle */
    RT_OUT_MERGE,    /* stderr only: the same place as stdout (one pipe when stdout is a sink) */
};

enum rt_stream { RT_STDOUT = 1, RT_STDERR = 2 };

/* Receives output on the thread that runs rt_wait/rt_run, in arrival order, each chunk at most
 * cmd.chunk bytes; data is only valid during the call (copy what must be kept). Returns 0 to go
 * on, or non-zero to stop the command as rt_stop does (the result then says RT_END_STOPPED). */
typedef int (*rt_sink_fn)(void *ctx, enum rt_stream stream, const char *data, size_t len);

/* What to run. Read during rt_start only, except sink/sink_ctx and in.data, which must stay
 * valid until rt_wait returns. */
struct rt_cmd {
    const char *file;        /* the program; without a '/', searched in the server's PATH;
                                NULL: argv[0] */
    const char *const *argv; /* NULL-terminated, required */
    const char *const *envp; /* NULL-terminated; NULL: the server's environment */
    const char *cwd;         /* working directory; NULL: the server's */
    struct {
        enum rt_in_kind kind;
        int fd;
        const char *path;
        const void *data;
        size_t len;
    } in;
    struct {
        enum rt_out_kind kind;
        int fd;
    } out, err;
    rt_sink_fn sink; /* required when out or err is RT_OUT_SINK */
    void *sink_ctx;
    size_t chunk;        /* largest chunk handed to the sink; 0: 64 KiB */
    uint64_t max_output; /* bytes handed to the sink at most, then read and dropped (counted in
                            rt_result.dropped) so the child never blocks; 0: no cap */
    double timeout;      /* seconds from the start until the group is killed; 0: none */
    double idle;         /* seconds without any piped output until the group is killed; 0: none */
    double grace;        /* seconds between SIGTERM and SIGKILL; 0: 5 s */
};

/* How the command ended. A timeout or stop is reported as such even when the command then
 * exited by itself in the grace; exit_code/signal still say how it ended. */
enum rt_end {
    RT_END_EXITED = 1, /* exited by itself: exit_code */
    RT_END_SIGNALED,   /* killed by a signal nobody here sent: signal */
    RT_END_TIMED_OUT,  /* cmd.timeout reached */
    RT_END_IDLE,       /* cmd.idle reached without output */
    RT_END_STOPPED,    /* rt_stop, or the sink asked to stop */
};

struct rt_result {
    enum rt_end end;
    int exit_code;      /* when it exited, else -1 */
    int signal;         /* the signal that ended it, else 0 */
    int wait_status;    /* the raw waitpid status */
    int killed;         /* 1 when SIGKILL had to be sent to the group (TERM not obeyed) */
    int error;          /* errno of a RT_ESPAWN/RT_ESYS failure, else 0 */
    uint64_t out_bytes; /* piped stdout bytes read (merged stderr included) */
    uint64_t err_bytes; /* piped stderr bytes read */
    uint64_t dropped;   /* bytes read past cmd.max_output, not handed to the sink */
    double seconds;     /* from the spawn until the leader was reaped */
};

/* A started command. Owned by the caller from rt_start until rt_free. */
typedef struct rt_proc rt_proc;

/* Spawns cmd (posix_spawn, a new process group whose id is the child's pid, signals at their
 * defaults and an empty mask, fds above 2 closed). Returns 0 and *out, or RT_EINVAL, RT_ESPAWN
 * or RT_ESYS with *out NULL and res->error set (res may be NULL). The child runs at once; output
 * is only read, and limits only enforced, inside rt_wait, so call it promptly. */
int rt_start(const struct rt_cmd *cmd, rt_proc **out, struct rt_result *res);

/* Runs p to its end on the calling thread: feeds stdin data, streams output to the sink,
 * enforces timeout and idle, obeys rt_stop; when the leader has ended, kills what is left of its
 * group with SIGKILL, reads what is already in the pipes, then stops reading (a grandchild that
 * left the group with setsid and kept stdout open cannot hang it). Reaps the leader: no zombie.
 * Fills *res. Returns 0, or RT_EINVAL when called twice. One thread at a time. */
int rt_wait(rt_proc *p, struct rt_result *res);

/* Asks p to stop: SIGTERM to its group at once (from rt_wait's thread, woken through a pipe),
 * SIGKILL after the grace. Safe from any thread, any number of times, while p is not freed;
 * a stop before rt_wait runs takes effect when it starts. */
void rt_stop(rt_proc *p);

/* Returns the leader's pid (also its process group id), for logs. Only rt_wait and rt_free
 * reap it: nothing else in the process may wait for any child (waitpid(-1)) or set SIGCHLD to
 * SIG_IGN, which the server does not. */
pid_t rt_pid(const rt_proc *p);

/* For RT_IN_PIPE: returns the write end of the child's stdin, now owned by the caller (write
 * from another thread than rt_wait's, close it to send EOF), or -1 if already taken or not a
 * pipe. Take it before rt_wait, which otherwise closes it (the child reads EOF). */
int rt_stdin_take(rt_proc *p);

/* Frees p. If rt_wait never ran, the group is killed with SIGKILL and the leader reaped first.
 * Not concurrently with rt_stop on the same p. NULL is accepted. */
void rt_free(rt_proc *p);

/* rt_start + rt_wait + rt_free for a worker thread: blocks until the command has ended. Returns
 * 0 with *res filled (the command's own failure is in *res, not the return value), or an RT_E*
 * error when it could not be run. A stop from another thread needs rt_start/rt_wait instead. */
int rt_run(const struct rt_cmd *cmd, struct rt_result *res);

/* Tests only: 1 makes later rt_start calls skip pidfd_open, as when the kernel refuses it. */
void rt_test_disable_pidfd(int disable);

#endif

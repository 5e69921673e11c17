/* codepipeline-local: parse the flags, start the server, wait for SIGINT or SIGTERM, shut down. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/log.h"
#include "server/options.h"
#include "server/server.h"

/* The stop signals are caught, not blocked, and SIGPIPE is caught, not ignored: child processes
 * (git http-backend, builds, hooks) inherit a blocked mask and ignored signals across exec, but
 * caught signals go back to their defaults there. A handler only writes the signal number to a
 * pipe that main reads. */
static int stop_pipe[2] = {-1, -1};

static void on_stop_signal(int sig)
{
    int saved = errno;
    unsigned char c = (unsigned char)sig;
    ssize_t n = write(stop_pipe[1], &c, 1); /* async-signal-safe; a full pipe already says stop */
    (void)n;
    errno = saved;
}

static void on_sigpipe(int sig)
{
    (void)sig; /* the write that raised it fails with EPIPE, which its caller handles */
}

/* Installs the handlers. Returns 0 or -1. */
static int catch_signals(void)
{
    if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return -1;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sa.sa_handler = on_stop_signal;
    if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0) return -1;
    sa.sa_handler = on_sigpipe;
    return sigaction(SIGPIPE, &sa, NULL);
}

/* Blocks until a stop signal arrives; returns its number. */
static int wait_for_stop(void)
{
    for (;;) {
        fd_set rd;
        FD_ZERO(&rd);
        FD_SET(stop_pipe[0], &rd);
        if (select(stop_pipe[0] + 1, &rd, NULL, NULL, NULL) < 0 && errno != EINTR) return SIGTERM;
        unsigned char c;
        if (read(stop_pipe[0], &c, 1) == 1) return c;
    }
}

int main(int argc, char **argv)
{
    struct srv_options opts;
    char err[512];
    srv_options_defaults(&opts);
    int rc = srv_options_parse(argc, argv, &opts, err, sizeof(err));
    if (rc == 1) return 0;
    if (rc < 0) {
        fprintf(stderr, "codepipeline-local: %s\n", err);
        return 2;
    }
    /* Before any thread starts, so a signal during start-up is kept for wait_for_stop. */
    if (catch_signals() != 0) {
        fprintf(stderr, "codepipeline-local: cannot install signal handlers: %s\n",
                strerror(errno));
        return 1;
    }

    srv *s;
    if (srv_start(&opts, &s, err, sizeof(err)) < 0) {
        fprintf(stderr, "codepipeline-local: %s\n", err);
        return 1;
    }
    srv_log(SRV_LOG_INFO, "codepipeline-local listening on %s:%u, data dir %s", opts.host,
            srv_port(s), opts.data_dir);
    int sig = wait_for_stop();
    srv_log(SRV_LOG_INFO, "received %s, shutting down", sig == SIGINT ? "SIGINT" : "SIGTERM");
    srv_stop(s);
    srv_log(SRV_LOG_INFO, "stopped");
    return 0;
}

/* Unit tests of the git-http-backend watchdog: a stuck child is killed after the same limits
 * whether the wait uses a pidfd or, when pidfd_open fails, polls waitpid. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "providers/codecommit/internal.h"

/* Starts argv in its own process group, as git_http.c spawns the backend. */
static pid_t spawn_group(char *const argv[])
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        setpgid(0, 0);
        execvp(argv[0], argv);
        _exit(127);
    }
    setpgid(pid, pid);
    return pid;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int temp_fd(void)
{
    char path[] = "/tmp/cc-wait-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    unlink(path);
    return fd;
}

/* A child that writes nothing is killed after idle seconds, by either mechanism. */
static void killed_when_idle(int use_pidfd)
{
    char *argv[] = {"sleep", "30", NULL};
    int fd = temp_fd();
    double t0 = now_s();
    pid_t pid = spawn_group(argv);
    int status = cc_git_wait_child(pid, fd, 1, 60, use_pidfd);
    double took = now_s() - t0;
    close(fd);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %#x", status);
    cr_assert(took >= 0.9 && took < 5.0, "killed after %.2f s", took);
    cr_assert_eq(kill(pid, 0), -1, "the child was not reaped");
}

Test(cc_git_wait, fallback_kills_an_idle_child, .timeout = 15)
{
    killed_when_idle(0);
}

Test(cc_git_wait, pidfd_kills_an_idle_child, .timeout = 15)
{
    killed_when_idle(1);
}

/* A child that keeps writing is not idle, but still ends at max seconds. */
Test(cc_git_wait, fallback_kills_a_child_running_past_max, .timeout = 15)
{
    int fd = temp_fd();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "while :; do echo x >&%d; sleep 0.2; done", fd);
    char *argv[] = {"sh", "-c", cmd, NULL};
    double t0 = now_s();
    pid_t pid = spawn_group(argv);
    int status = cc_git_wait_child(pid, fd, 1, 3, 0);
    double took = now_s() - t0;
    close(fd);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "status %#x", status);
    cr_assert(took >= 2.5 && took < 8.0, "killed after %.2f s", took);
}

/* A child that ends by itself is reaped with its exit status, soon after it ends. */
Test(cc_git_wait, fallback_returns_the_exit_status, .timeout = 15)
{
    char *argv[] = {"sh", "-c", "sleep 0.3; exit 7", NULL};
    int fd = temp_fd();
    double t0 = now_s();
    pid_t pid = spawn_group(argv);
    int status = cc_git_wait_child(pid, fd, 5, 60, 0);
    double took = now_s() - t0;
    close(fd);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 7, "status %#x", status);
    cr_assert(took < 2.0, "reaped after %.2f s", took);
}

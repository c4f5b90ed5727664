/* The process_* figures of /metrics, read from /proc/self (Linux proc(5)). */
#include "metrics.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Fields 14 (utime), 15 (stime) and 22 (starttime) of /proc/self/stat, in
 * clock ticks. The command name (field 2) may hold spaces and parentheses,
 * so parsing starts after its last ')'. */
static int read_stat(unsigned long long *utime, unsigned long long *stime,
                     unsigned long long *start)
{
    char buf[1024], *p;
    size_t n;
    FILE *f = fopen("/proc/self/stat", "re");

    if (!f) {
        return -errno;
    }
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    p = strrchr(buf, ')');
    /* after ")": field 3 (state) ... 14 utime 15 stime ... 22 starttime */
    if (!p || sscanf(p + 1,
                     " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d "
                     "%*d %*d %llu",
                     utime, stime, start) != 3) {
        return -EINVAL;
    }
    return 0;
}

static int read_btime(unsigned long long *out)
{
    char line[256];
    int rc = -ENOENT;
    FILE *f = fopen("/proc/stat", "re");

    if (!f) {
        return -errno;
    }
    while (fgets(line, sizeof(line), f)) {
        if (sscanf(line, "btime %llu", out) == 1) {
            rc = 0;
            break;
        }
    }
    fclose(f);
    return rc;
}

int admin_process_start_time(double *out)
{
    unsigned long long utime, stime, start, btime;
    long hz = sysconf(_SC_CLK_TCK);
    int rc = read_stat(&utime, &stime, &start);

    if (rc == 0) {
        rc = read_btime(&btime);
    }
    if (rc == 0 && hz > 0) {
        *out = (double)btime + (double)start / (double)hz;
    }
    return rc;
}

uint64_t admin_open_fds(void)
{
    uint64_t n = 0;
    struct dirent *e;
    DIR *d = opendir("/proc/self/fd");

    if (!d) {
        return 0;
    }
    while ((e = readdir(d))) {
        n += e->d_name[0] != '.';
    }
    closedir(d);
    return n > 0 ? n - 1 : 0; /* not the descriptor of the listing itself */
}

void admin_process_read(struct admin_process *out)
{
    unsigned long long utime, stime, start, vsize_pages, rss_pages;
    long hz = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
    struct rlimit rl;
    FILE *f;

    if (read_stat(&utime, &stime, &start) == 0 && hz > 0) {
        out->cpu_seconds = (double)(utime + stime) / (double)hz;
    }
    f = fopen("/proc/self/statm", "re");
    if (f) {
        if (fscanf(f, "%llu %llu", &vsize_pages, &rss_pages) == 2 && page > 0) {
            out->virtual_bytes = vsize_pages * (uint64_t)page;
            out->resident_bytes = rss_pages * (uint64_t)page;
        }
        fclose(f);
    }
    out->open_fds = admin_open_fds();
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        out->max_fds = rl.rlim_cur == RLIM_INFINITY ? 0 : (uint64_t)rl.rlim_cur;
    }
}

/* Private to admin/: the Prometheus text exposition (format 0.0.4) of a
 * snapshot of aggregate counters, and the process figures read from
 * /proc/self. Pure functions of their inputs, so the renderer is tested
 * without a socket. */
#ifndef ADMIN_METRICS_H
#define ADMIN_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "admin/admin.h"

/* Everything /metrics renders fits in this many bytes with room to spare
 * (about 9 KB today; a unit test keeps the margin). */
#define ADMIN_METRICS_MAX 32768

/* Standard process_* figures of the Prometheus client libraries. */
struct admin_process {
    uint64_t resident_bytes;
    uint64_t virtual_bytes;
    uint64_t open_fds;
    uint64_t max_fds;
    double cpu_seconds;
    double start_time; /* seconds since the Unix epoch */
};

/* Writes the exposition of snap and proc into buf. Returns its length, or
 * -ENOSPC if it does not fit (buf then holds a truncated, useless text). */
int admin_metrics_render(char *buf, size_t len, const struct admin_snapshot *snap,
                         const struct admin_process *proc);

/* Process start time in seconds since the epoch, from /proc/self/stat and
 * the boot time in /proc/stat. Returns 0 or a negative errno. */
int admin_process_start_time(double *out);

/* Fills resident and virtual memory, open and maximum fds and CPU seconds
 * (start_time is left alone). Fields it cannot read stay 0. */
void admin_process_read(struct admin_process *out);

#endif

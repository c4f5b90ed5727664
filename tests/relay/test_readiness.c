/* Tests for relay/readiness: full at the high water mark, ready again only
 * below the low one on every resource (hysteresis), no limit never full,
 * the reason names the fullest resource, and the descriptor count. */
#include <criterion/criterion.h>

#include <fcntl.h>
#include <unistd.h>

#include "admin/admin.h"
#include "relay/readiness.h"

static struct readiness with(uint64_t allocs, uint64_t ports, uint64_t fds)
{
    struct readiness r = {
        .used = {allocs, ports, fds},
        .limit = {1000, 100, 10000},
    };
    return r;
}

/* Sets the figures of r and evaluates with marks 90 and 80. */
static bool step(struct readiness *r, uint64_t allocs, uint64_t ports, uint64_t fds)
{
    r->used[READINESS_ALLOCATIONS] = allocs;
    r->used[READINESS_RELAY_PORTS] = ports;
    r->used[READINESS_FDS] = fds;
    readiness_update(r, 90, 80);
    return r->full;
}

Test(readiness, full_at_the_high_mark_not_below)
{
    struct readiness r = with(0, 0, 0);

    cr_assert_not(step(&r, 899, 0, 0), "89.9% is below 90%");
    cr_assert(step(&r, 900, 0, 0), "90% is at the high mark");
    cr_assert_eq(r.reason, READINESS_ALLOCATIONS);
}

Test(readiness, hysteresis_down_to_the_low_mark)
{
    struct readiness r = with(0, 0, 0);

    cr_assert(step(&r, 950, 0, 0));
    cr_assert(step(&r, 850, 0, 0), "between the marks: stays full");
    cr_assert(step(&r, 800, 0, 0), "at the low mark: stays full");
    cr_assert_not(step(&r, 799, 0, 0), "below the low mark: ready");
    cr_assert_not(step(&r, 850, 0, 0), "between the marks from below: stays ready");
    cr_assert(step(&r, 900, 0, 0));
}

Test(readiness, every_resource_must_be_below_low)
{
    struct readiness r = with(0, 0, 0);

    cr_assert(step(&r, 0, 95, 0), "relay ports at 95%");
    cr_assert_eq(r.reason, READINESS_RELAY_PORTS);
    cr_assert(step(&r, 850, 10, 0), "ports fell, allocations between the marks");
    cr_assert_eq(r.reason, READINESS_ALLOCATIONS);
    cr_assert(step(&r, 0, 10, 8500), "descriptors between the marks");
    cr_assert_eq(r.reason, READINESS_FDS);
    cr_assert_not(step(&r, 799, 79, 7999), "all below 80%");
}

Test(readiness, no_limit_is_never_full)
{
    struct readiness r = {.used = {UINT32_MAX, 0, 0}, .limit = {0, 0, 0}};

    readiness_update(&r, 1, 0);
    cr_assert_not(r.full);
}

Test(readiness, reason_text)
{
    struct readiness r = with(0, 0, 0);
    char buf[64];

    step(&r, 0, 0, 0);
    readiness_describe(&r, buf, sizeof(buf));
    cr_assert_str_eq(buf, "", "no reason while ready");
    step(&r, 915, 50, 9000);
    readiness_describe(&r, buf, sizeof(buf));
    cr_assert_str_eq(buf, "allocations 91% of 1000", "the fullest resource: %s", buf);
    readiness_describe(&r, buf, 8);
    cr_assert_str_eq(buf, "allocat", "cut to the buffer");
}

Test(readiness, water_marks_change_on_reload)
{
    struct readiness r = with(600, 0, 0);

    readiness_update(&r, 90, 80);
    cr_assert_not(r.full);
    readiness_update(&r, 50, 30);
    cr_assert(r.full, "a lower ready-high applies at the next evaluation");
    readiness_update(&r, 90, 60);
    cr_assert(r.full, "60%% is not below a ready-low of 60%%: still full");
    readiness_update(&r, 90, 61);
    cr_assert_not(r.full, "60%% is below a ready-low of 61%%");
}

/* The descriptor count the daemon compares with RLIMIT_NOFILE. */
Test(readiness, counts_open_descriptors)
{
    uint64_t before = admin_open_fds();
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

    cr_assert_geq(before, 3, "at least the standard streams: %llu", (unsigned long long)before);
    cr_assert_geq(fd, 0);
    cr_assert_eq(admin_open_fds(), before + 1);
    close(fd);
    cr_assert_eq(admin_open_fds(), before);
}

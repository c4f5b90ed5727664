/* The admin endpoint on libmicrohttpd: /metrics, /healthz, /readyz. One
 * thread of its own polls MHD's epoll set, so every callback runs there;
 * between polls it closes connections that overstay their request deadline
 * (MHD's own timeout is an idle timeout, which a client dribbling one byte
 * at a time never reaches). */
#include "admin/admin.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "admin/metrics.h"
#include "admin/token.h"

#define ADMIN_CONN_MAX 64      /* connections at once */
#define ADMIN_CONN_PER_IP 16   /* from one address */
#define ADMIN_IDLE_TIMEOUT 5   /* seconds without a byte */
#define ADMIN_DEADLINE_MS 5000 /* for each request, from accept or the previous request's end */
#define ADMIN_MEMORY 16384     /* per connection: request line and headers must fit */
#define ADMIN_URL_MAX 256      /* longer paths get 414 */
#define ADMIN_POLL_MAX_MS 1000

/* A connection and when its current request must be done. */
struct slot {
    int fd; /* -1: free */
    int64_t deadline_ms;
};

struct admin {
    struct MHD_Daemon *mhd;
    pthread_t thread;
    int stop_fd; /* eventfd: admin_stop wakes the thread */
    struct admin_source src;
    pthread_mutex_t token_lock; /* a reload replaces the token from the daemon's thread */
    struct admin_token token;
    double start_time;
    struct slot slots[ADMIN_CONN_MAX];
    struct MHD_Response *healthy, *unready, *unauthorized, *not_found, *not_allowed, *too_long;
    char body[ADMIN_METRICS_MAX]; /* touched by the admin thread only */
};

static const char metrics_type[] = "text/plain; version=0.0.4; charset=utf-8";

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct slot *slot_of(struct admin *a, int fd)
{
    for (unsigned i = 0; i < ADMIN_CONN_MAX; i++) {
        if (a->slots[i].fd == fd) {
            return &a->slots[i];
        }
    }
    return NULL;
}

static int conn_fd(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    return info ? info->connect_fd : -1;
}

static void notify_connection_cb(void *arg, struct MHD_Connection *c, void **socket_context,
                                 enum MHD_ConnectionNotificationCode code)
{
    struct admin *a = arg;
    struct slot *s;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        s = slot_of(a, -1);
        if (s) { /* MHD's own limit keeps the table from filling */
            s->fd = conn_fd(c);
            s->deadline_ms = now_ms() + ADMIN_DEADLINE_MS;
        }
        *socket_context = s;
    } else if ((s = *socket_context)) {
        s->fd = -1;
    }
}

/* A kept-alive connection gets a fresh deadline for its next request. */
static void request_completed_cb(void *arg, struct MHD_Connection *c, void **req_context,
                                 enum MHD_RequestTerminationCode toe)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    struct slot *s = info ? info->socket_context : NULL;

    if (s) {
        s->deadline_ms = now_ms() + ADMIN_DEADLINE_MS;
    }
}

/* Runs between MHD_run calls, when every tracked fd is still open: MHD
 * sees the shutdown as a closed connection and cleans up itself. */
static int64_t enforce_deadlines(struct admin *a)
{
    int64_t now = now_ms(), next = now + ADMIN_POLL_MAX_MS;

    for (unsigned i = 0; i < ADMIN_CONN_MAX; i++) {
        struct slot *s = &a->slots[i];
        if (s->fd < 0 || s->deadline_ms == INT64_MAX) {
            continue;
        }
        if (s->deadline_ms <= now) {
            shutdown(s->fd, SHUT_RDWR);
            s->deadline_ms = INT64_MAX;
        } else if (s->deadline_ms < next) {
            next = s->deadline_ms;
        }
    }
    return next - now;
}

static enum MHD_Result queue_metrics(struct admin *a, struct MHD_Connection *c)
{
    struct admin_snapshot snap;
    struct admin_process proc = {.start_time = a->start_time};
    struct MHD_Response *r;
    enum MHD_Result ret;
    int n;

    memset(&snap, 0, sizeof(snap));
    a->src.collect(a->src.arg, &snap);
    admin_process_read(&proc);
    n = admin_metrics_render(a->body, sizeof(a->body), &snap, &proc);
    if (n < 0) {
        return MHD_NO; /* cannot happen: a unit test keeps the margin */
    }
    r = MHD_create_response_from_buffer((size_t)n, a->body, MHD_RESPMEM_MUST_COPY);
    if (!r) {
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, metrics_type);
    ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* Every request is answered on the first call, before any body is read:
 * a request with a body is refused (405) and MHD closes the connection. */
static enum MHD_Result request_cb(void *arg, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_len, void **req_context)
{
    struct admin *a = arg;

    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        return MHD_queue_response(c, MHD_HTTP_METHOD_NOT_ALLOWED, a->not_allowed);
    }
    if (strnlen(url, ADMIN_URL_MAX + 1) > ADMIN_URL_MAX) {
        return MHD_queue_response(c, MHD_HTTP_URI_TOO_LONG, a->too_long);
    }
    if (strcmp(url, "/healthz") == 0) {
        return MHD_queue_response(c, MHD_HTTP_OK, a->healthy);
    }
    if (strcmp(url, "/readyz") == 0) {
        if (a->src.ready(a->src.arg)) {
            return MHD_queue_response(c, MHD_HTTP_OK, a->healthy);
        }
        return MHD_queue_response(c, MHD_HTTP_SERVICE_UNAVAILABLE, a->unready);
    }
    if (strcmp(url, "/metrics") == 0) {
        const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
        pthread_mutex_lock(&a->token_lock);
        bool allowed = admin_token_check(&a->token, auth);
        pthread_mutex_unlock(&a->token_lock);
        if (!allowed) {
            return MHD_queue_response(c, MHD_HTTP_UNAUTHORIZED, a->unauthorized);
        }
        return queue_metrics(a, c);
    }
    return MHD_queue_response(c, MHD_HTTP_NOT_FOUND, a->not_found);
}

static void *admin_thread(void *arg)
{
    struct admin *a = arg;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(a->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    struct pollfd fds[2] = {{.fd = info->epoll_fd, .events = POLLIN},
                            {.fd = a->stop_fd, .events = POLLIN}};

    for (;;) {
        MHD_UNSIGNED_LONG_LONG mhd_ms;
        int64_t wait = enforce_deadlines(a);

        if (MHD_get_timeout(a->mhd, &mhd_ms) == MHD_YES && (int64_t)mhd_ms < wait) {
            wait = (int64_t)mhd_ms;
        }
        if (poll(fds, 2, (int)(wait > 0 ? wait : 0)) < 0 && errno != EINTR) {
            break;
        }
        if (fds[1].revents) {
            break;
        }
        MHD_run(a->mhd);
    }
    return NULL;
}

static struct MHD_Response *fixed(const char *text, const char *header, const char *value)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);

    if (r) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
        if (header) {
            MHD_add_response_header(r, header, value);
        }
    }
    return r;
}

static int make_responses(struct admin *a)
{
    a->healthy = fixed("ok\n", NULL, NULL);
    a->unready = fixed("not ready\n", NULL, NULL);
    a->unauthorized = fixed("unauthorized\n", MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    a->not_found = fixed("not found: /metrics, /healthz, /readyz\n", NULL, NULL);
    a->not_allowed = fixed("method not allowed\n", MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    a->too_long = fixed("URI too long\n", NULL, NULL);
    return a->healthy && a->unready && a->unauthorized && a->not_found && a->not_allowed &&
                   a->too_long
               ? 0
               : -ENOMEM;
}

/* The listening socket is made here, not by MHD, so a failure has an errno. */
static int listen_socket(const union turn_addr *addr)
{
    int fd = socket(addr->sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

    if (fd < 0) {
        return -errno;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (addr->sa.sa_family == AF_INET6) {
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    }
    if (bind(fd, &addr->sa, turn_addr_len(addr)) < 0 || listen(fd, ADMIN_CONN_PER_IP) < 0) {
        int err = -errno;
        close(fd);
        return err;
    }
    return fd;
}

static int start_mhd(struct admin *a, const union turn_addr *listen_addr)
{
    int fd = listen_socket(listen_addr);
    unsigned flags = MHD_USE_EPOLL | (listen_addr->sa.sa_family == AF_INET6 ? MHD_USE_IPv6 : 0);

    if (fd < 0) {
        return fd;
    }
    a->mhd = MHD_start_daemon(flags, 0, NULL, NULL, request_cb, a, MHD_OPTION_LISTEN_SOCKET, fd,
                              MHD_OPTION_CONNECTION_LIMIT, (unsigned)ADMIN_CONN_MAX,
                              MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)ADMIN_CONN_PER_IP,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)ADMIN_IDLE_TIMEOUT,
                              MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)ADMIN_MEMORY,
                              MHD_OPTION_NOTIFY_CONNECTION, notify_connection_cb, a,
                              MHD_OPTION_NOTIFY_COMPLETED, request_completed_cb, a, MHD_OPTION_END);
    if (!a->mhd) {
        return -EIO; /* fd is left to MHD, which may or may not have closed it */
    }
    return 0;
}

static void admin_free(struct admin *a)
{
    struct MHD_Response *const responses[] = {a->healthy,   a->unready,     a->unauthorized,
                                              a->not_found, a->not_allowed, a->too_long};

    if (a->mhd) {
        MHD_stop_daemon(a->mhd);
    }
    for (size_t i = 0; i < sizeof(responses) / sizeof(responses[0]); i++) {
        if (responses[i]) {
            MHD_destroy_response(responses[i]);
        }
    }
    if (a->stop_fd >= 0) {
        close(a->stop_fd);
    }
    admin_token_clear(&a->token);
    pthread_mutex_destroy(&a->token_lock);
    free(a);
}

int admin_start(struct admin **out, const struct admin_config *cfg, const struct admin_source *src,
                char *err, size_t err_len)
{
    struct admin *a = calloc(1, sizeof(*a));
    char where[64];
    int rc;

    *out = NULL;
    if (!a) {
        snprintf(err, err_len, "admin-listen: out of memory");
        return -ENOMEM;
    }
    pthread_mutex_init(&a->token_lock, NULL);
    a->src = *src;
    a->stop_fd = -1;
    for (unsigned i = 0; i < ADMIN_CONN_MAX; i++) {
        a->slots[i].fd = -1;
    }
    rc = admin_token_load(&a->token, cfg->token_file, err, err_len);
    if (rc < 0) {
        goto out;
    }
    if (admin_process_start_time(&a->start_time) < 0 || make_responses(a) < 0 ||
        (a->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
        rc = -ENOMEM;
        snprintf(err, err_len, "admin-listen: cannot set up the endpoint");
        goto out;
    }
    rc = start_mhd(a, &cfg->listen);
    if (rc < 0) {
        snprintf(err, err_len, "admin-listen: cannot listen on %s: %s",
                 turn_addr_format(&cfg->listen, where, sizeof(where)),
                 rc == -EIO ? "libmicrohttpd refused to start" : strerror(-rc));
        goto out;
    }
    rc = -pthread_create(&a->thread, NULL, admin_thread, a);
    if (rc < 0) {
        snprintf(err, err_len, "admin-listen: cannot start the thread: %s", strerror(-rc));
    }
out:
    if (rc < 0) {
        admin_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

int admin_set_token_file(struct admin *admin, const char *path, char *err, size_t err_len)
{
    struct admin_token fresh;
    int rc = admin_token_load(&fresh, path, err, err_len);

    if (rc < 0) {
        return rc;
    }
    pthread_mutex_lock(&admin->token_lock);
    admin->token = fresh;
    pthread_mutex_unlock(&admin->token_lock);
    admin_token_clear(&fresh);
    return 0;
}

void admin_stop(struct admin *admin)
{
    uint64_t one = 1;

    if (!admin) {
        return;
    }
    if (write(admin->stop_fd, &one, sizeof(one)) != sizeof(one)) {
        abort(); /* an eventfd write of 1 cannot fail short of a bug */
    }
    pthread_join(admin->thread, NULL);
    admin_free(admin);
}

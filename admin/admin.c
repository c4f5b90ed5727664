/* The admin endpoint on libmicrohttpd: /metrics, /healthz, /readyz. One
 * thread of its own polls MHD's epoll set, so every callback runs there;
 * between polls it closes connections that overstay their request deadline
 * (MHD's own timeout is an idle timeout, which a client dribbling one byte
 * at a time never reaches) and those closed to make room (admin/conns.c):
 * clients holding connections open cannot keep a probe out. */
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

#include "admin/conns.h"
#include "admin/metrics.h"
#include "admin/token.h"

/* Past ADMIN_CONN_SOFT connections (or ADMIN_CONN_PER_IP from one address)
 * a newcomer closes the longest-idle connection of the busiest address; the
 * reserve up to ADMIN_CONNS_MAX keeps accepting while those close. */
#define ADMIN_CONN_SOFT (ADMIN_CONNS_MAX - 8)
#define ADMIN_CONN_PER_IP 16
#define ADMIN_CONN_REQUESTS 100 /* per connection; the last answer says Connection: close */
#define ADMIN_IDLE_TIMEOUT 5    /* seconds without a byte */
#define ADMIN_DEADLINE_MS 5000  /* for the first request, from accept */
#define ADMIN_KEEPALIVE_MS 2000 /* for each next request, from the previous answer */
#define ADMIN_MEMORY 16384      /* per connection: request line and headers must fit */
#define ADMIN_URL_MAX 256       /* longer paths get 414 */
#define ADMIN_POLL_MAX_MS 1000

/* The fixed answers, each in two versions: kept alive, and closing. */
enum reply {
    REPLY_HEALTHY,
    REPLY_UNREADY,
    REPLY_UNAUTHORIZED,
    REPLY_NOT_FOUND,
    REPLY_NOT_ALLOWED,
    REPLY_TOO_LONG,
    REPLY_COUNT,
};

struct admin {
    struct MHD_Daemon *mhd;
    pthread_t thread;
    int stop_fd; /* eventfd: admin_stop wakes the thread */
    struct admin_source src;
    pthread_mutex_t token_lock; /* a reload replaces the token from the daemon's thread */
    struct admin_token token;
    double start_time;
    struct admin_conns conns;
    struct MHD_Response *replies[REPLY_COUNT][2]; /* [1]: with Connection: close */
    char body[ADMIN_METRICS_MAX];                 /* touched by the admin thread only */
};

static const char metrics_type[] = "text/plain; version=0.0.4; charset=utf-8";

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int conn_fd(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    return info ? info->connect_fd : -1;
}

static struct admin_conn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return info ? info->socket_context : NULL;
}

/* MHD calls back with a connection's fd still open (it closes it after
 * CLOSED), so every fd in the table is one of its live connections. */
static void notify_connection_cb(void *arg, struct MHD_Connection *c, void **socket_context,
                                 enum MHD_ConnectionNotificationCode code)
{
    struct admin *a = arg;
    const union MHD_ConnectionInfo *peer;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        peer = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        /* MHD's own limit keeps the table from filling */
        *socket_context = admin_conns_open(&a->conns, conn_fd(c), peer ? peer->client_addr : NULL,
                                           now_ms(), ADMIN_DEADLINE_MS);
    } else {
        admin_conns_close(*socket_context);
    }
}

/* A kept-alive connection gets a short deadline for its next request. */
static void request_completed_cb(void *arg, struct MHD_Connection *c, void **req_context,
                                 enum MHD_RequestTerminationCode toe)
{
    struct admin_conn *conn = conn_of(c);

    if (conn) {
        admin_conns_answered(conn, now_ms(), ADMIN_KEEPALIVE_MS);
    }
}

static enum MHD_Result queue_metrics(struct admin *a, struct MHD_Connection *c, bool last)
{
    struct admin_snapshot snap;
    struct admin_process proc = {.start_time = a->start_time};
    struct MHD_Response *r;
    enum MHD_Result ret;
    int n;

    memset(&snap, 0, sizeof(snap));
    a->src.collect(a->src.arg, &snap);
    snap.admin_closed[0] = a->conns.closed[ADMIN_CLOSE_ROOM];
    snap.admin_closed[1] = a->conns.closed[ADMIN_CLOSE_DEADLINE];
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
    if (last) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    }
    ret = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}

/* 503 names why when the daemon gives a reason (draining, or which limit is
 * near): aggregates only, never client data. */
static enum MHD_Result queue_readyz(struct admin *a, struct MHD_Connection *c, bool last)
{
    char why[128] = "", text[160];
    struct MHD_Response *r;
    enum MHD_Result ret;

    if (a->src.ready(a->src.arg, why, sizeof(why))) {
        return MHD_queue_response(c, MHD_HTTP_OK, a->replies[REPLY_HEALTHY][last]);
    }
    if (!why[0]) {
        return MHD_queue_response(c, MHD_HTTP_SERVICE_UNAVAILABLE, a->replies[REPLY_UNREADY][last]);
    }
    snprintf(text, sizeof(text), "not ready: %s\n", why);
    r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_COPY);
    if (!r) {
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    if (last) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    }
    ret = MHD_queue_response(c, MHD_HTTP_SERVICE_UNAVAILABLE, r);
    MHD_destroy_response(r);
    return ret;
}

static bool has_body(struct MHD_Connection *c)
{
    const char *len = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");

    return (len && strcmp(len, "0") != 0) ||
           MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Transfer-Encoding");
}

static enum MHD_Result answer(struct admin *a, struct MHD_Connection *c, const char *url, bool last)
{
    const char *auth;
    bool allowed;

    if (strnlen(url, ADMIN_URL_MAX + 1) > ADMIN_URL_MAX) {
        return MHD_queue_response(c, MHD_HTTP_URI_TOO_LONG, a->replies[REPLY_TOO_LONG][last]);
    }
    if (strcmp(url, "/healthz") == 0) {
        return MHD_queue_response(c, MHD_HTTP_OK, a->replies[REPLY_HEALTHY][last]);
    }
    if (strcmp(url, "/readyz") == 0) {
        return queue_readyz(a, c, last);
    }
    if (strcmp(url, "/metrics") == 0) {
        auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
        pthread_mutex_lock(&a->token_lock);
        allowed = admin_token_check(&a->token, auth);
        pthread_mutex_unlock(&a->token_lock);
        if (!allowed) {
            return MHD_queue_response(c, MHD_HTTP_UNAUTHORIZED,
                                      a->replies[REPLY_UNAUTHORIZED][last]);
        }
        return queue_metrics(a, c, last);
    }
    return MHD_queue_response(c, MHD_HTTP_NOT_FOUND, a->replies[REPLY_NOT_FOUND][last]);
}

/* A request with a body is answered on the first call, before the body is
 * read: a method other than GET or HEAD gets 405, and MHD closes the
 * connection. A GET or HEAD without one is answered on the second call,
 * once MHD holds the whole request: an answer queued sooner would make MHD
 * close the connection, and keep-alive would never happen. */
static enum MHD_Result request_cb(void *arg, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_len, void **req_context)
{
    struct admin *a = arg;
    struct admin_conn *conn = conn_of(c);
    bool last;

    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        return MHD_queue_response(c, MHD_HTTP_METHOD_NOT_ALLOWED, a->replies[REPLY_NOT_ALLOWED][1]);
    }
    if (!*req_context && !has_body(c)) {
        *req_context = a;
        return MHD_YES;
    }
    last = !conn || admin_conns_request(conn) >= ADMIN_CONN_REQUESTS;
    return answer(a, c, url, last);
}

static void *admin_thread(void *arg)
{
    struct admin *a = arg;
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(a->mhd, MHD_DAEMON_INFO_EPOLL_FD);
    struct pollfd fds[2] = {{.fd = info->epoll_fd, .events = POLLIN},
                            {.fd = a->stop_fd, .events = POLLIN}};

    for (;;) {
        MHD_UNSIGNED_LONG_LONG mhd_ms;
        int64_t wait = admin_conns_enforce(&a->conns, now_ms(), ADMIN_POLL_MAX_MS);

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

static struct MHD_Response *fixed(const char *text, const char *header, const char *value,
                                  bool close)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);

    if (r) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
        if (header) {
            MHD_add_response_header(r, header, value);
        }
        if (close) {
            MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
        }
    }
    return r;
}

static int make_responses(struct admin *a)
{
    static const struct {
        const char *text, *header, *value;
    } texts[REPLY_COUNT] = {
        [REPLY_HEALTHY] = {"ok\n", NULL, NULL},
        [REPLY_UNREADY] = {"not ready\n", NULL, NULL},
        [REPLY_UNAUTHORIZED] = {"unauthorized\n", MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer"},
        [REPLY_NOT_FOUND] = {"not found: /metrics, /healthz, /readyz\n", NULL, NULL},
        [REPLY_NOT_ALLOWED] = {"method not allowed\n", MHD_HTTP_HEADER_ALLOW, "GET, HEAD"},
        [REPLY_TOO_LONG] = {"URI too long\n", NULL, NULL},
    };

    for (unsigned i = 0; i < REPLY_COUNT; i++) {
        for (unsigned close = 0; close < 2; close++) {
            a->replies[i][close] = fixed(texts[i].text, texts[i].header, texts[i].value, close);
            if (!a->replies[i][close]) {
                return -ENOMEM;
            }
        }
    }
    return 0;
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
    if (bind(fd, &addr->sa, turn_addr_len(addr)) < 0 || listen(fd, ADMIN_CONNS_MAX) < 0) {
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
                              MHD_OPTION_CONNECTION_LIMIT, (unsigned)ADMIN_CONNS_MAX,
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
    if (a->mhd) {
        MHD_stop_daemon(a->mhd);
    }
    for (unsigned i = 0; i < REPLY_COUNT; i++) {
        for (unsigned close = 0; close < 2; close++) {
            if (a->replies[i][close]) {
                MHD_destroy_response(a->replies[i][close]);
            }
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
    admin_conns_init(&a->conns, ADMIN_CONN_SOFT, ADMIN_CONN_PER_IP);
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

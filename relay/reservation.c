/* Reserved relay ports, held under random tokens. */
#include "reservation.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

struct held {
    uint8_t token[TURN_TOKEN_LEN];
    int fd;
    union turn_addr bound;
    uint64_t expires;
};

struct reservations {
    pthread_mutex_t lock;
    struct relay_ports *ports;
    size_t n;
    struct held items[RESERVATION_MAX];
};

int reservations_new(struct reservations **out, struct relay_ports *ports)
{
    struct reservations *r = calloc(1, sizeof(*r));

    if (!r) {
        return -ENOMEM;
    }
    pthread_mutex_init(&r->lock, NULL);
    r->ports = ports;
    *out = r;
    return 0;
}

void reservations_free(struct reservations *r)
{
    if (!r) {
        return;
    }
    for (size_t i = 0; i < r->n; i++) {
        relay_ports_mark(r->ports, &r->items[i].bound, false);
        close(r->items[i].fd);
    }
    pthread_mutex_destroy(&r->lock);
    free(r);
}

static void drop(struct reservations *r, size_t i, bool close_fd)
{
    if (close_fd) {
        relay_ports_mark(r->ports, &r->items[i].bound, false);
        close(r->items[i].fd);
    }
    r->items[i] = r->items[--r->n];
}

static void expire(struct reservations *r, uint64_t now)
{
    for (size_t i = r->n; i-- > 0;) {
        if (r->items[i].expires <= now) {
            drop(r, i, true);
        }
    }
}

int reservations_put(struct reservations *r, int fd, const union turn_addr *bound, uint64_t now,
                     uint8_t token[TURN_TOKEN_LEN])
{
    int err = 0;

    pthread_mutex_lock(&r->lock);
    expire(r, now);
    if (r->n == RESERVATION_MAX || RAND_bytes(token, TURN_TOKEN_LEN) != 1) {
        close(fd);
        err = -ENOSPC;
    } else {
        struct held *h = &r->items[r->n++];
        memcpy(h->token, token, TURN_TOKEN_LEN);
        h->fd = fd;
        h->bound = *bound;
        h->expires = now + RESERVATION_LIFETIME;
        relay_ports_mark(r->ports, bound, true);
    }
    pthread_mutex_unlock(&r->lock);
    return err;
}

int reservations_take(struct reservations *r, const uint8_t token[TURN_TOKEN_LEN], uint64_t now,
                      union turn_addr *bound)
{
    int fd = -ENOENT;

    pthread_mutex_lock(&r->lock);
    expire(r, now);
    for (size_t i = 0; i < r->n; i++) {
        if (CRYPTO_memcmp(r->items[i].token, token, TURN_TOKEN_LEN) == 0) {
            fd = r->items[i].fd;
            *bound = r->items[i].bound;
            drop(r, i, false);
            break;
        }
    }
    pthread_mutex_unlock(&r->lock);
    return fd;
}

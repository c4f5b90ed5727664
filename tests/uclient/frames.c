/* An LD_PRELOAD shim for coturn's turnutils_uclient (4.6.1) over TLS: each
 * SSL_read returns one whole STUN message or ChannelData frame.
 *
 * TURN over TLS is a byte stream framed by the messages' own lengths (RFC
 * 8656 12.6); TLS record boundaries carry no meaning. uclient reads one TLS
 * record per SSL_read and takes it as one message: when a server puts two
 * ChannelData frames in one record (blindrelay does when both are queued
 * for the client before its connection is writable, e.g. on a loaded
 * machine), uclient counts the first and silently discards the rest, and
 * reports them lost. coturn writes each message as its own record, which is
 * why uclient works against it. This shim cuts the decrypted stream at
 * message boundaries, as a TURN client must; it changes no byte, so every
 * frame uclient counts is one the server really sent. At exit, after TLS,
 * it prints one line to stderr: how many frames shared a record with an
 * earlier one (tests/integration/lib.sh reads it). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* RTLD_NEXT */
#endif
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

/* Enough for the largest STUN message or padded ChannelData frame. */
#define FRAMES_MAX_FRAME (4 + 65535 + 3)
#define FRAMES_CAP (2 * FRAMES_MAX_FRAME)
#define FRAMES_CONNS 64
#define FRAMES_UNFRAMED SIZE_MAX

struct frames_conn {
    SSL *ssl;
    uint8_t *buf; /* decrypted bytes read but not yet handed out */
    size_t len;
};

static struct frames_conn frames_conns[FRAMES_CONNS];
static unsigned long frames_split, frames_reads;
static int (*frames_real_read)(SSL *, void *, int);
static void (*frames_real_free)(SSL *);

static void frames_report(void)
{
    if (!frames_reads) {
        return; /* no TLS */
    }
    fprintf(stderr, "br-uclient-frames: ssl_reads=%lu frames_sharing_a_record=%lu\n", frames_reads,
            frames_split);
}

static void frames_init(void)
{
    if (!frames_real_read) {
        frames_real_read = (int (*)(SSL *, void *, int))dlsym(RTLD_NEXT, "SSL_read");
        frames_real_free = (void (*)(SSL *))dlsym(RTLD_NEXT, "SSL_free");
        if (!frames_real_read || !frames_real_free) {
            fprintf(stderr, "br-uclient-frames: libssl not found\n");
            abort();
        }
        atexit(frames_report);
    }
}

/* The connection's state; a new one when create is set. NULL when the
 * table is full: that connection then reads unchanged. */
static struct frames_conn *frames_find(SSL *ssl, int create)
{
    struct frames_conn *free_slot = NULL;

    for (size_t i = 0; i < FRAMES_CONNS; i++) {
        if (frames_conns[i].ssl == ssl) {
            return &frames_conns[i];
        }
        if (!frames_conns[i].ssl && !free_slot) {
            free_slot = &frames_conns[i];
        }
    }
    if (!create || !free_slot || !(free_slot->buf = malloc(FRAMES_CAP))) {
        return NULL;
    }
    free_slot->ssl = ssl;
    free_slot->len = 0;
    return free_slot;
}

/* Length of the message at the head of p, 0 while its header is incomplete,
 * FRAMES_UNFRAMED when it is neither STUN nor ChannelData (RFC 7983). */
static size_t frames_length(const uint8_t *p, size_t n)
{
    size_t body;

    if (n < 4) {
        return 0;
    }
    body = (size_t)p[2] << 8 | p[3];
    switch (p[0] >> 6) {
    case 0:
        return 20 + body;
    case 1:
        return 4 + ((body + 3) & ~(size_t)3); /* padding is mandatory over streams */
    default:
        return FRAMES_UNFRAMED;
    }
}

static int frames_serve(struct frames_conn *c, void *out, size_t k)
{
    memcpy(out, c->buf, k);
    memmove(c->buf, c->buf + k, c->len - k);
    c->len -= k;
    return (int)k;
}

int SSL_read(SSL *ssl, void *out, int num)
{
    struct frames_conn *c;

    frames_init();
    c = frames_find(ssl, 1);
    if (!c || num <= 0) {
        return frames_real_read(ssl, out, num);
    }
    for (;;) {
        size_t want = frames_length(c->buf, c->len);
        int n;

        if (want == FRAMES_UNFRAMED || (want && c->len >= want) || c->len == FRAMES_CAP) {
            size_t k = want && want < c->len ? want : c->len;
            /* what is left begins another message read with this one */
            frames_split += k < c->len;
            /* uclient reads into a 64 KiB buffer: a message always fits */
            return frames_serve(c, out, k < (size_t)num ? k : (size_t)num);
        }
        n = frames_real_read(ssl, c->buf + c->len, (int)(FRAMES_CAP - c->len));
        if (n <= 0) {
            return n; /* SSL_get_error sees the state this call left */
        }
        frames_reads++;
        c->len += (size_t)n;
    }
}

void SSL_free(SSL *ssl)
{
    struct frames_conn *c;

    frames_init();
    c = frames_find(ssl, 0);
    if (c) {
        free(c->buf);
        *c = (struct frames_conn){0};
    }
    frames_real_free(ssl);
}

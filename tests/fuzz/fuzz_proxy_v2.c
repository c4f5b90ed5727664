/* libFuzzer target for the PROXY protocol v2 parser (relay/proxy_v2.c): an
 * input is the first bytes of a connection from a trusted proxy. The
 * parser is fed as relay/client_stream.c feeds it (never more bytes than it
 * asked for) and must agree with a parse of the whole input, keep every
 * length within PROXY_V2_MAX_LEN, and never take back a verdict when more
 * bytes come. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "relay/proxy_v2.h"

/* Release builds define NDEBUG; the fuzzer's checks must stay. */
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            __builtin_trap();                                                                      \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Feeds data as the reader does: asks, takes at most what was asked. */
static int fed(const uint8_t *data, size_t size, struct proxy_v2_header *h, size_t *hlen)
{
    size_t have = 0;
    int r;

    for (;;) {
        r = proxy_v2_parse(data, have, h, hlen);
        if (r != -EAGAIN) {
            return r;
        }
        CHECK(*hlen > have && *hlen <= PROXY_V2_MAX_LEN);
        if (have == size) {
            return r;
        }
        have = *hlen < size ? *hlen : size;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct proxy_v2_header whole, step;
    size_t hlen = 0, hlen2 = 0;
    int r = proxy_v2_parse(data, size, &whole, &hlen);
    int r2 = fed(data, size, &step, &hlen2);

    CHECK(r == 0 || r == -EAGAIN || r == -EINVAL || r == -EMSGSIZE);
    CHECK(r == r2);
    if (r == 0) {
        CHECK(hlen == hlen2 && hlen >= PROXY_V2_FIXED_LEN && hlen <= PROXY_V2_MAX_LEN);
        CHECK(hlen <= size);
        CHECK(whole.local == step.local);
        CHECK(whole.local ||
              (turn_addr_equal(&whole.src, &step.src) && turn_addr_equal(&whole.dst, &step.dst)));
        CHECK(whole.local || whole.src.sa.sa_family == AF_INET ||
              whole.src.sa.sa_family == AF_INET6);
        /* a header one byte short is not a header yet */
        CHECK(proxy_v2_parse(data, hlen - 1, &step, &hlen2) == -EAGAIN && hlen2 == hlen);
    } else if (r == -EAGAIN) {
        CHECK(hlen > size && hlen <= PROXY_V2_MAX_LEN && hlen == hlen2);
    }
    /* a refusal from the first bytes stays the verdict of every longer input */
    for (size_t n = 0; n <= size && n <= PROXY_V2_FIXED_LEN; n++) {
        int rn = proxy_v2_parse(data, n, &step, &hlen2);

        CHECK(rn == -EAGAIN || rn == 0 || rn == r);
    }
    return 0;
}

/* libFuzzer target for the STUN codec: classification, ChannelData headers,
 * decoding, every typed reader, the integrity checks, and a rebuild of what
 * was decoded (which must decode again). */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "turn/stun_msg.h"

/* Release builds define NDEBUG; the fuzzer's checks must stay. */
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            __builtin_trap();                                                                      \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_all(const struct stun_msg *msg)
{
    static const uint16_t u32_types[] = {STUN_ATTR_LIFETIME, STUN_ATTR_PRIORITY,
                                         STUN_ATTR_CONNECTION_ID, STUN_ATTR_FINGERPRINT};
    static const uint16_t addr_types[] = {STUN_ATTR_MAPPED_ADDRESS, STUN_ATTR_ALTERNATE_SERVER,
                                          STUN_ATTR_RESPONSE_ORIGIN, STUN_ATTR_OTHER_ADDRESS};
    static const uint16_t xaddr_types[] = {STUN_ATTR_XOR_MAPPED_ADDRESS, STUN_ATTR_XOR_PEER_ADDRESS,
                                           STUN_ATTR_XOR_RELAYED_ADDRESS};
    union turn_addr addr;
    uint32_t u32;
    uint16_t ch;
    uint8_t byte;
    bool flag;
    int code;
    const char *reason;
    size_t reason_len;

    for (size_t i = 0; i < sizeof(u32_types) / sizeof(u32_types[0]); i++) {
        (void)stun_msg_get_u32(msg, u32_types[i], &u32);
    }
    for (size_t i = 0; i < sizeof(addr_types) / sizeof(addr_types[0]); i++) {
        (void)stun_msg_get_addr(msg, addr_types[i], &addr);
    }
    for (size_t i = 0; i < sizeof(xaddr_types) / sizeof(xaddr_types[0]); i++) {
        (void)stun_msg_get_xaddr(msg, xaddr_types[i], &addr);
    }
    for (unsigned i = 0; i < msg->n_attrs; i++) {
        const struct stun_attr *a = &msg->attrs[i];

        CHECK(a->off + (size_t)a->len <= msg->len);
        CHECK(stun_msg_find(msg, a->type) != NULL);
        (void)stun_attr_get_xaddr(msg, a, &addr);
    }
    (void)stun_msg_get_channel(msg, &ch);
    (void)stun_msg_get_transport(msg, &byte);
    (void)stun_msg_get_family(msg, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, &byte);
    (void)stun_msg_get_family(msg, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, &byte);
    (void)stun_msg_get_even_port(msg, &flag);
    if (stun_msg_get_error(msg, &code, &reason, &reason_len) == 0) {
        CHECK(code >= 300 && code <= 699);
        CHECK(reason + reason_len <= (const char *)msg->buf + msg->len);
    }
    (void)stun_msg_check_integrity(msg, STUN_ATTR_MESSAGE_INTEGRITY, (const uint8_t *)"k", 1);
    (void)stun_msg_check_integrity(msg, STUN_ATTR_MESSAGE_INTEGRITY_SHA256, (const uint8_t *)"k",
                                   1);
}

/* Copies the decoded attributes into a new message; it must decode. */
static void rebuild(const struct stun_msg *msg)
{
    static uint8_t out[STUN_HEADER_LEN + 0x10000];
    struct stun_builder b;
    struct stun_msg again;
    unsigned copied = 0;
    int n;

    stun_build_start(&b, out, sizeof(out), msg->method, msg->cls, msg->tid);
    for (unsigned i = 0; i < msg->n_attrs; i++) {
        const struct stun_attr *a = &msg->attrs[i];

        if (a->type == STUN_ATTR_FINGERPRINT || a->type == STUN_ATTR_MESSAGE_INTEGRITY ||
            a->type == STUN_ATTR_MESSAGE_INTEGRITY_SHA256) {
            continue;
        }
        stun_build_attr(&b, a->type, stun_attr_value(msg, a), a->len);
        copied++;
    }
    /* Room for two more attributes under STUN_MAX_ATTRS. */
    if (copied + 2 <= STUN_MAX_ATTRS) {
        stun_build_integrity(&b, STUN_ATTR_MESSAGE_INTEGRITY, (const uint8_t *)"k", 1);
        stun_build_fingerprint(&b);
    }
    n = stun_build_finish(&b);
    if (n < 0) {
        CHECK(n == -ENOBUFS);
        return;
    }
    CHECK(stun_msg_decode(&again, out, (size_t)n) == 0);
    CHECK(again.n_attrs == copied + (copied + 2 <= STUN_MAX_ATTRS ? 2 : 0));
    if (copied + 2 <= STUN_MAX_ATTRS) {
        CHECK(stun_msg_check_integrity(&again, STUN_ATTR_MESSAGE_INTEGRITY, (const uint8_t *)"k",
                                       1) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct stun_msg msg;
    uint16_t ch;
    uint16_t plen;
    size_t frame;

    (void)stun_classify(data, size, false);
    (void)stun_classify(data, size, true);
    for (int stream = 0; stream < 2; stream++) {
        if (turn_channel_decode(data, size, stream, &ch, &plen, &frame) == 0) {
            CHECK(frame <= size && frame >= TURN_CHANNEL_HEADER_LEN + (size_t)plen);
        }
    }
    if (stun_msg_decode(&msg, data, size) == 0) {
        CHECK(msg.len <= size && msg.n_attrs <= STUN_MAX_ATTRS);
        read_all(&msg);
        rebuild(&msg);
    }
    return 0;
}

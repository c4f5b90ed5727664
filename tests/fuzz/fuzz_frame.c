/* libFuzzer target for the stream framer (turn/frame.c): an input is a TCP
 * byte stream, split frame by frame as relay/stream.c does. Every verdict
 * must agree with the codec (turn_channel_decode, stun_msg_decode), follow
 * from the first four bytes only, and stay within TURN_FRAME_MAX. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "turn/frame.h"
#include "turn/stun_msg.h"

/* Release builds define NDEBUG; the fuzzer's checks must stay. */
#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            __builtin_trap();                                                                      \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* One frame at the head of buf (len bytes there): checks it; returns its
 * length, or 0 when the stream ends or has lost its framing here. */
static size_t check_one(const uint8_t *buf, size_t len, bool rfc5766)
{
    size_t n = 0, again = 0, flen;
    uint16_t ch, plen;
    struct stun_msg msg;
    int r = turn_frame_len(buf, len, rfc5766, &n);

    CHECK(r == 0 || r == -EAGAIN || r == -EBADMSG);
    if (len >= TURN_FRAME_HEADER_LEN) {
        /* the first four bytes decide */
        CHECK(turn_frame_len(buf, TURN_FRAME_HEADER_LEN, rfc5766, &again) == r);
        CHECK(r != 0 || again == n);
        CHECK(r != -EAGAIN);
    } else {
        CHECK(r != 0);
    }
    if (r != 0) {
        CHECK(r == -EAGAIN || len == 0 || stun_classify(buf, len, rfc5766) == STUN_PKT_OTHER ||
              (buf[0] <= 3 && (buf[3] & 3) != 0));
        return 0;
    }
    CHECK(n >= TURN_FRAME_HEADER_LEN && n <= TURN_FRAME_MAX && n % 4 == 0);
    if (stun_classify(buf, len, rfc5766) == STUN_PKT_CHANNEL_DATA) {
        int d = turn_channel_decode(buf, len, true, &ch, &plen, &flen);

        CHECK(d == (len < n ? -EAGAIN : 0));
        CHECK(d != 0 || flen == n);
    } else if (len >= n && stun_msg_decode(&msg, buf, len) == 0) {
        CHECK(msg.len == n);
    }
    return len >= n ? n : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int rfc5766 = 0; rfc5766 < 2; rfc5766++) {
        size_t off = 0, n;

        while ((n = check_one(data + off, size - off, rfc5766)) > 0) {
            off += n;
        }
        CHECK(off <= size);
    }
    return 0;
}

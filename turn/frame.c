/* Stream framing for TURN over TCP and TLS (RFC 8656 12.5). */
#include "frame.h"

#include <errno.h>
#include <string.h>

#include "stun_msg.h"

int turn_frame_len(const uint8_t *buf, size_t len, bool rfc5766_channels, size_t *frame_len)
{
    enum stun_pkt_kind kind;
    size_t body;

    if (len == 0) {
        return -EAGAIN;
    }
    kind = stun_classify(buf, len, rfc5766_channels);
    if (kind == STUN_PKT_OTHER) {
        return -EBADMSG;
    }
    if (len < TURN_FRAME_HEADER_LEN) {
        return -EAGAIN;
    }
    body = (size_t)buf[2] << 8 | buf[3];
    if (kind == STUN_PKT_CHANNEL_DATA) {
        /* RFC 8656 12.5: padded to 4 over streams, the padding not counted */
        *frame_len = TURN_CHANNEL_HEADER_LEN + ((body + 3) & ~(size_t)3);
        return 0;
    }
    if (body & 3) {
        return -EBADMSG; /* RFC 8489 5: attributes are padded to 4 */
    }
    *frame_len = STUN_HEADER_LEN + body;
    return 0;
}

size_t turn_frame_channel(uint8_t *frame, uint16_t channel, uint16_t payload_len, bool stream)
{
    size_t len = TURN_CHANNEL_HEADER_LEN + (size_t)payload_len;
    size_t padded = stream ? (len + 3) & ~(size_t)3 : len;

    turn_channel_header(frame, channel, payload_len);
    memset(frame + len, 0, padded - len);
    return padded;
}

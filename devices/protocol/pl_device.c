/* pl_device.c: the device side of a session, shared by the device emulator and firmware.
 *
 * The one rule that makes retries safe: a request repeated with the same sequence number and
 * the same checksum is answered from the cached reply, never run again. A host that lost a
 * reply (garbage, a dropped or corrupted frame, a slow answer) re-sends the identical frame;
 * the device's physics, its noise stream and its drift advance once per batch, exactly as
 * if nothing had gone wrong. See "Sequence numbers and retries" in docs/protocol.md. */
#include <string.h>

#include "patlab_protocol.h"

#define PL_STR2(x) #x
#define PL_STR(x) PL_STR2(x)

/* The texts sent with ERROR. On AVR string literals are copied into RAM at start-up, a few
 * hundred scarce bytes: firmware may define PL_NO_TEXT and send the codes alone. */
#ifdef PL_NO_TEXT
#define PL_T(s) 0
#else
#define PL_T(s) s
#endif

void pl_device_init(pl_device* dev, const pl_describe* desc, pl_run_fn run, pl_reset_fn reset,
                    void* ctx, uint8_t* rx, size_t rx_cap, uint8_t* tx, size_t tx_cap) {
  memset(dev, 0, sizeof *dev);
  dev->desc = desc;
  dev->run = run;
  dev->reset = reset;
  dev->ctx = ctx;
  dev->tx = tx;
  dev->tx_cap = tx_cap;
  pl_parser_init(&dev->parser, rx, rx_cap);
}

static size_t reply_error(pl_device* dev, const pl_frame* req, uint8_t code, const char* text) {
  pl_writer w;
  size_t n = text ? strlen(text) : 0;
  if (n > PL_TEXT_MAX) n = PL_TEXT_MAX;
  pl_writer_begin(&w, dev->tx, dev->tx_cap, PL_ERROR, req->seq);
  pl_put_u8(&w, code);
  pl_put_u8(&w, req->type);
  pl_put_u8(&w, (uint8_t)n);
  pl_put_bytes(&w, (const uint8_t*)text, n);
  return pl_writer_end(&w);
}

static size_t on_hello(pl_device* dev, const pl_frame* req) {
  pl_reader r;
  pl_writer w;
  uint8_t lo, hi;
  size_t n;
  pl_reader_init(&r, req->payload, req->len);
  lo = pl_get_u8(&r);
  hi = pl_get_u8(&r);
  if (!pl_reader_done(&r)) return reply_error(dev, req, PL_ERR_MALFORMED, PL_T("HELLO: 2 bytes"));
  if (PL_VERSION < lo || PL_VERSION > hi)
    return reply_error(dev, req, PL_ERR_VERSION,
                       PL_T("this device speaks version " PL_STR(PL_VERSION)));
  pl_writer_begin(&w, dev->tx, dev->tx_cap, PL_DESCRIBE, req->seq);
  pl_put_describe(&w, dev->desc);
  n = pl_writer_end(&w);
  if (n) dev->session = 1;
  return n ? n : reply_error(dev, req, PL_ERR_TOO_LARGE, PL_T("description exceeds max_frame"));
}

/* *cache is cleared for an answer that must not be replayed (BUSY: try again for real). */
static size_t on_run(pl_device* dev, const pl_frame* req, int* cache) {
  const pl_describe* d = dev->desc;
  pl_reader r;
  pl_writer w;
  uint8_t format, err;
  uint16_t count;
  const char* text = 0;
  size_t n;
  if (!dev->session) return reply_error(dev, req, PL_ERR_NO_SESSION, 0);
  pl_reader_init(&r, req->payload, req->len);
  format = pl_get_u8(&r);
  count = pl_get_u16(&r);
  if (r.error) return reply_error(dev, req, PL_ERR_MALFORMED, PL_T("RUN_BATCH: no header"));
  if (pl_sample_size(format) == 0 || !(d->formats & PL_FORMAT_BIT(format)))
    return reply_error(dev, req, PL_ERR_FORMAT, 0);
  if (count == 0 || count > d->max_batch)
    return reply_error(dev, req, PL_ERR_TOO_LARGE, PL_T("count outside 1..max_batch"));
  /* The payload must hold exactly theta and count samples: a frame that passed its CRC but
   * carries another shape is a host bug, never something to guess around. */
  if (pl_request_body(d, format, count) != req->len + PL_FRAME_OVERHEAD)
    return reply_error(dev, req, PL_ERR_MALFORMED, PL_T("RUN_BATCH: length does not match count"));
  if (pl_result_body(d, format, count) > d->max_frame)
    return reply_error(dev, req, PL_ERR_TOO_LARGE, PL_T("result would exceed max_frame"));
  pl_writer_begin(&w, dev->tx, dev->tx_cap, PL_RESULT, req->seq);
  pl_put_u8(&w, format);
  pl_put_u16(&w, count);
  err = dev->run(dev->ctx, d, format, count, &r, &w, &text);
  if (err == PL_ERR_BUSY) *cache = 0;
  if (err != PL_OK) return reply_error(dev, req, err, text);
  if (r.error) return reply_error(dev, req, PL_ERR_MALFORMED, PL_T("RUN_BATCH: short payload"));
  n = pl_writer_end(&w);
  return n ? n : reply_error(dev, req, PL_ERR_TOO_LARGE, PL_T("result exceeds the reply buffer"));
}

size_t pl_device_handle(pl_device* dev, const pl_frame* req) {
  size_t n;
  int cache = 1;
  /* Replies are never answered: a line that echoes, or two hosts, must not start a storm. */
  if (req->type & 0x80u) return 0;
  ++dev->requests;
  if (req->type == PL_HELLO) {
    /* A new session: whatever reply was cached belongs to another conversation, and a host
     * that restarted its sequence numbers must never be handed it. */
    dev->has_last = 0;
    dev->tx_len = on_hello(dev, req);
    return dev->tx_len;
  }
  if (dev->has_last && req->seq == dev->last_seq && req->crc == dev->last_crc) {
    ++dev->replays;
    return dev->tx_len;
  }
  switch (req->type) {
    case PL_RUN_BATCH:
      n = on_run(dev, req, &cache);
      break;
    case PL_RESET: {
      pl_writer w;
      if (req->len != 0) {
        n = reply_error(dev, req, PL_ERR_MALFORMED, PL_T("RESET: no payload"));
        break;
      }
      if (dev->reset) dev->reset(dev->ctx);
      pl_writer_begin(&w, dev->tx, dev->tx_cap, PL_RESET_OK, req->seq);
      n = pl_writer_end(&w);
      break;
    }
    case PL_PING: {
      pl_writer w;
      if (req->len > PL_PING_MAX) {
        n = reply_error(dev, req, PL_ERR_MALFORMED, PL_T("PING: at most 64 bytes"));
        break;
      }
      pl_writer_begin(&w, dev->tx, dev->tx_cap, PL_PONG, req->seq);
      pl_put_bytes(&w, req->payload, req->len);
      n = pl_writer_end(&w);
      break;
    }
    default:
      n = reply_error(dev, req, PL_ERR_UNKNOWN_TYPE, 0);
      break;
  }
  dev->tx_len = n;
  dev->has_last = n != 0 && cache;
  dev->last_seq = req->seq;
  dev->last_crc = req->crc;
  return n;
}

size_t pl_device_push(pl_device* dev, uint8_t byte) {
  pl_frame f;
  const int r = pl_parser_push(&dev->parser, byte, &f);
  if (r == PL_RX_FRAME) return pl_device_handle(dev, &f);
  if (r < 0) ++dev->bad_frames;
  return 0;
}

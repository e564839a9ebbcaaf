/* libFuzzer target for patlab's wire protocol (devices/protocol, docs/protocol.md).
 *
 * The input is used four ways, and each checks a property beyond "no crash, no hang" (which
 * AddressSanitizer, UndefinedBehaviorSanitizer and libFuzzer's -timeout watch for):
 *   1. as a raw byte stream into the parser (small buffer): every frame it accepts passes
 *      the frame check again and fits the buffer;
 *   2. followed by a known good frame: that frame arrives intact, whatever came before it
 *      (resynchronisation);
 *   3. as a payload: it encodes within PL_WIRE_SIZE and decodes back unchanged;
 *   4. as a stream, then as a request body wrapped into a frame with a valid checksum (so the
 *      fuzzer reaches the message decoders, not just the CRC), into the device side: every
 *      reply it produces is a well-formed frame answering that request's sequence number.
 * A failed property calls __builtin_trap(), which libFuzzer reports as a crash. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "patlab_protocol.h"

#define CHECK(cond)                \
  do {                             \
    if (!(cond)) __builtin_trap(); \
  } while (0)

enum { SMALL = 64, BIG = 1200 };

static uint8_t small_buf[SMALL];
static uint8_t body[BIG + PL_FRAME_OVERHEAD];
static uint8_t wire[PL_WIRE_SIZE(BIG + PL_FRAME_OVERHEAD)];
static uint8_t back[PL_MAX_BODY];

/* A device with finite ranges, so every sample format is exercised. */
static pl_range_run runs[2] = {{2, -1.0f, 1.0f}, {1, 0.0f, 5.0f}};
static pl_describe desc;
static uint8_t dev_rx[256];
static uint8_t dev_tx[PL_WIRE_SIZE(256)];

static uint8_t run(void* ctx, const pl_describe* d, uint8_t format, uint16_t count, pl_reader* in,
                   pl_writer* out, const char** text) {
  double acc = 0;
  uint16_t i, j;
  (void)ctx;
  (void)text;
  for (i = 0; i < d->param_size; ++i) acc += pl_get_sample(in, format, -1.0f, 5.0f);
  for (j = 0; j < count; ++j) {
    double s = acc;
    for (i = 0; i < d->input_size; ++i) s += pl_get_sample(in, format, d->input_min, d->input_max);
    for (i = 0; i < d->output_size; ++i)
      pl_put_sample(out, format, s * 0.001, d->output_min, d->output_max);
  }
  return in->error ? PL_ERR_MALFORMED : PL_OK;
}

static void check_reply(const uint8_t* p, size_t n, int want_seq) {
  pl_parser parser;
  pl_frame f;
  size_t i;
  int frames = 0;
  CHECK(n >= 2 && n <= sizeof dev_tx && p[0] == 0 && p[n - 1] == 0);
  pl_parser_init(&parser, back, sizeof back);
  for (i = 0; i < n; ++i) {
    const int r = pl_parser_push(&parser, p[i], &f);
    CHECK(r >= 0);
    if (r == PL_RX_FRAME) {
      ++frames;
      CHECK(f.type & 0x80u);
      if (want_seq >= 0) CHECK(f.seq == (uint16_t)want_seq);
    }
  }
  CHECK(frames == 1);
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  pl_parser parser;
  pl_frame f;
  pl_writer w;
  pl_device dev;
  size_t i, n;
  static const uint8_t known[] = {9, 8, 0, 7, 0, 0, 6};
  int got_known = 0;

  /* 1 and 2 */
  pl_parser_init(&parser, small_buf, SMALL);
  for (i = 0; i < size; ++i)
    if (pl_parser_push(&parser, data[i], &f) == PL_RX_FRAME) {
      pl_frame again;
      CHECK(f.len + PL_FRAME_OVERHEAD <= SMALL);
      CHECK(f.payload >= small_buf && f.payload + f.len <= small_buf + SMALL);
      CHECK(pl_frame_check(small_buf, f.len + PL_FRAME_OVERHEAD, &again));
    }
  pl_writer_begin(&w, wire, sizeof wire, PL_PONG, 0x1234);
  pl_put_bytes(&w, known, sizeof known);
  n = pl_writer_end(&w);
  CHECK(n > 0);
  for (i = 0; i < n; ++i)
    if (pl_parser_push(&parser, wire[i], &f) == PL_RX_FRAME) {
      if (i == 0) {
        /* The known frame's leading delimiter ends whatever the input left half-received;
         * with a CRC that happens to check (1 in 65536: the fuzzer finds such inputs) that
         * is a frame too. It must be as sound as any other. */
        pl_frame again;
        CHECK(f.payload >= small_buf && f.payload + f.len <= small_buf + SMALL);
        CHECK(pl_frame_check(small_buf, f.len + PL_FRAME_OVERHEAD, &again));
        continue;
      }
      CHECK(i == n - 1 && f.type == PL_PONG && f.seq == 0x1234 && f.len == sizeof known &&
            memcmp(f.payload, known, sizeof known) == 0);
      got_known = 1;
    }
  CHECK(got_known);

  /* 3 */
  if (size <= BIG) {
    n = pl_cobs_encode(data, size, wire, sizeof wire);
    CHECK(n > 0 && n <= PL_WIRE_SIZE(size));
    for (i = 1; i + 1 < n; ++i) CHECK(wire[i] != 0);
    CHECK(pl_cobs_decode(wire + 1, n - 2, back, sizeof back) == size);
    CHECK(memcmp(back, data, size) == 0);
  }

  /* 4 */
  memset(&desc, 0, sizeof desc);
  desc.version = PL_VERSION;
  desc.formats = PL_FORMAT_BIT(PL_FMT_F32) | PL_FORMAT_BIT(PL_FMT_Q16) | PL_FORMAT_BIT(PL_FMT_F64);
  desc.input_size = 2;
  desc.param_size = 3;
  desc.output_size = 3;
  desc.max_batch = 8;
  desc.max_frame = sizeof dev_rx;
  desc.input_min = -2.0f;
  desc.input_max = 2.0f;
  desc.output_min = -1.0f;
  desc.output_max = 1.0f;
  desc.runs = runs;
  desc.run_count = 2;
  strcpy(desc.name, "fuzz");
  pl_device_init(&dev, &desc, run, 0, 0, dev_rx, sizeof dev_rx, dev_tx, sizeof dev_tx);
  {
    /* A session first, so RUN_BATCH gets past NO_SESSION. */
    static const uint8_t hello[2] = {PL_VERSION, PL_VERSION};
    pl_writer_begin(&w, wire, sizeof wire, PL_HELLO, 1);
    pl_put_bytes(&w, hello, 2);
    n = pl_writer_end(&w);
    for (i = 0; i < n; ++i) {
      const size_t k = pl_device_push(&dev, wire[i]);
      if (k) check_reply(dev.tx, k, 1);
    }
  }
  for (i = 0; i < size; ++i) {
    const size_t k = pl_device_push(&dev, data[i]);
    if (k) check_reply(dev.tx, k, -1);
  }
  if (size >= PL_HEADER_SIZE && size - PL_HEADER_SIZE <= BIG) {
    const uint16_t seq = (uint16_t)(data[1] | (data[2] << 8));
    pl_writer_begin(&w, wire, sizeof wire, data[0], seq);
    pl_put_bytes(&w, data + PL_HEADER_SIZE, size - PL_HEADER_SIZE);
    n = pl_writer_end(&w);
    CHECK(n > 0);
    for (i = 0; i < n; ++i) {
      const size_t k = pl_device_push(&dev, wire[i]);
      if (k) check_reply(dev.tx, k, seq);
    }
  }
  return 0;
}

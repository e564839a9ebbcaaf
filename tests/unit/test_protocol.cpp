// The serial wire protocol's C library (devices/protocol, docs/protocol.md): checksum,
// framing, parser resynchronisation, message records, sample formats, and the device side
// of a session with its replay of retried requests. Runs natively and in wasm.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "patlab/core/rng.h"
#include "patlab_protocol.h"

namespace patlab {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes random_bytes(size_t n, Rng& rng, bool zeros = true) {
  Bytes b(n);
  for (uint8_t& v : b) {
    v = uint8_t(rng.next_u64());
    if (!zeros && v == 0) v = 1;
  }
  return b;
}

Bytes encode(uint8_t type, uint16_t seq, const Bytes& payload) {
  Bytes out(PL_WIRE_SIZE(payload.size() + PL_FRAME_OVERHEAD));
  pl_writer w;
  pl_writer_begin(&w, out.data(), out.size(), type, seq);
  pl_put_bytes(&w, payload.data(), payload.size());
  out.resize(pl_writer_end(&w));
  return out;
}

// What a receiver makes of a byte stream: every checked frame, and how many were refused.
struct Received {
  struct Frame {
    uint8_t type;
    uint16_t seq;
    Bytes payload;
  };
  std::vector<Frame> frames;
  std::vector<int> errors;  // PL_RX_* of refused frames, in order
};

Received receive(const Bytes& wire, size_t cap = PL_MAX_BODY) {
  Bytes buf(cap);
  pl_parser p;
  pl_parser_init(&p, buf.data(), buf.size());
  Received r;
  for (uint8_t b : wire) {
    pl_frame f;
    const int k = pl_parser_push(&p, b, &f);
    if (k == PL_RX_FRAME) r.frames.push_back({f.type, f.seq, Bytes(f.payload, f.payload + f.len)});
    if (k < 0) r.errors.push_back(k);
  }
  return r;
}

Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

}  // namespace

TEST(Protocol, Crc16MatchesTheCcittFalseCheckValue) {
  const char* check = "123456789";  // the catalogue's check input for every CRC
  EXPECT_EQ(pl_crc16(0xFFFF, reinterpret_cast<const uint8_t*>(check), 9), 0x29B1);
  // Continuing a CRC over a split message gives the same value.
  const uint16_t half = pl_crc16(0xFFFF, reinterpret_cast<const uint8_t*>(check), 4);
  EXPECT_EQ(pl_crc16(half, reinterpret_cast<const uint8_t*>(check) + 4, 5), 0x29B1);
}

TEST(Protocol, FramesRoundTripAtEveryCobsBlockBoundary) {
  Rng rng(1);
  // Sizes around the 254-byte COBS block (the body adds 5 bytes of header and CRC).
  for (size_t n : {0, 1, 2, 248, 249, 250, 251, 252, 253, 254, 255, 500, 503, 504, 1000, 4096}) {
    for (bool zeros : {true, false}) {
      const Bytes payload = random_bytes(n, rng, zeros);
      const Bytes wire = encode(PL_RUN_BATCH, uint16_t(n * 7 + 3), payload);
      ASSERT_GT(wire.size(), 0u) << n;
      EXPECT_LE(wire.size(), PL_WIRE_SIZE(n + PL_FRAME_OVERHEAD)) << n;
      // 0x00 only as the two delimiters: that is what lets a receiver resynchronise.
      EXPECT_EQ(wire.front(), 0);
      EXPECT_EQ(wire.back(), 0);
      for (size_t i = 1; i + 1 < wire.size(); ++i) ASSERT_NE(wire[i], 0) << n << " at " << i;
      const Received r = receive(wire);
      ASSERT_EQ(r.frames.size(), 1u) << n;
      EXPECT_TRUE(r.errors.empty());
      EXPECT_EQ(r.frames[0].type, PL_RUN_BATCH);
      EXPECT_EQ(r.frames[0].seq, uint16_t(n * 7 + 3));
      EXPECT_EQ(r.frames[0].payload, payload) << n;
    }
  }
}

TEST(Protocol, WholeBufferCobsMatchesTheStreamingCodec) {
  Rng rng(2);
  for (size_t n : {1, 253, 254, 255, 700}) {
    const Bytes body = random_bytes(n, rng);
    Bytes wire(PL_WIRE_SIZE(n));
    wire.resize(pl_cobs_encode(body.data(), n, wire.data(), wire.size()));
    ASSERT_GT(wire.size(), 2u);
    Bytes back(n);
    ASSERT_EQ(pl_cobs_decode(wire.data() + 1, wire.size() - 2, back.data(), back.size()), n);
    EXPECT_EQ(back, body);
    // A delimiter inside is not COBS; nor is a body too large for the output.
    Bytes broken(wire.begin() + 1, wire.end() - 1);
    broken[broken.size() / 2] = 0;
    EXPECT_EQ(pl_cobs_decode(broken.data(), broken.size(), back.data(), back.size()), 0u);
    EXPECT_EQ(pl_cobs_decode(wire.data() + 1, wire.size() - 2, back.data(), n - 1), 0u);
  }
  // A block promising more bytes than there are.
  const uint8_t short_block[] = {0x05, 1, 2};
  uint8_t out[8];
  EXPECT_EQ(pl_cobs_decode(short_block, 3, out, sizeof out), 0u);
  const uint8_t whole_block[] = {0x03, 1, 2, 0x02, 7};
  EXPECT_EQ(pl_cobs_decode(whole_block, 5, out, sizeof out), 4u);
  EXPECT_EQ(out[2], 0) << "the implied zero between blocks";
}

TEST(Protocol, ParserResynchronisesAfterGarbage) {
  Rng rng(3);
  const Bytes payload = random_bytes(100, rng);
  const Bytes frame = encode(PL_RESULT, 42, payload);
  for (int trial = 0; trial < 200; ++trial) {
    // Junk of any length and content, with or without zeros, even a stray delimiter-free
    // tail glued to the frame's start: the frame's own leading 0x00 ends it.
    const Bytes junk = random_bytes(size_t(rng.below(300)), rng, trial % 2 == 0);
    const Received r = receive(cat(cat(junk, frame), frame));
    ASSERT_EQ(r.frames.size(), 2u) << "trial " << trial;
    EXPECT_EQ(r.frames[0].payload, payload);
    EXPECT_EQ(r.frames[1].payload, payload);
  }
}

TEST(Protocol, ChecksumRejectsEverySingleBitError) {
  Rng rng(4);
  const Bytes payload = random_bytes(60, rng);
  const Bytes frame = encode(PL_RUN_BATCH, 7, payload);
  int refused = 0;
  for (size_t i = 1; i + 1 < frame.size(); ++i)
    for (int bit = 0; bit < 8; ++bit) {
      Bytes bad = frame;
      bad[i] ^= uint8_t(1 << bit);
      // Whatever the flip does to the COBS structure, no frame may be accepted from it, and
      // the next good frame must still arrive.
      const Received r = receive(cat(bad, frame));
      ASSERT_EQ(r.frames.size(), 1u) << "byte " << i << " bit " << bit;
      EXPECT_EQ(r.frames[0].payload, payload);
      refused += !r.errors.empty();
    }
  EXPECT_GT(refused, 0);
  // A flipped bit in the body itself (CRC-16 catches every single-bit error): BAD_CRC.
  Bytes body(payload.size() + PL_FRAME_OVERHEAD);
  ASSERT_EQ(pl_cobs_decode(frame.data() + 1, frame.size() - 2, body.data(), body.size()),
            body.size());
  for (size_t i = 0; i < body.size(); ++i) {
    Bytes bad = body;
    bad[i] ^= 0x01;
    Bytes wire(PL_WIRE_SIZE(bad.size()));
    wire.resize(pl_cobs_encode(bad.data(), bad.size(), wire.data(), wire.size()));
    const Received r = receive(wire);
    EXPECT_TRUE(r.frames.empty()) << i;
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0], PL_RX_BAD_CRC);
  }
}

TEST(Protocol, TruncatedFramesAreRefusedAndTheNextFrameSurvives) {
  Rng rng(5);
  const Bytes payload = random_bytes(300, rng);
  const Bytes frame = encode(PL_RESULT, 9, payload);
  // Cut anywhere (a reply interrupted by a device that vanished), then a delimiter-led frame.
  for (size_t cut = 2; cut + 1 < frame.size(); ++cut) {
    const Bytes partial(frame.begin(), frame.begin() + long(cut));
    const Received r = receive(cat(partial, frame));
    ASSERT_EQ(r.frames.size(), 1u) << cut;
    EXPECT_EQ(r.frames[0].payload, payload);
    ASSERT_EQ(r.errors.size(), 1u) << cut;
    EXPECT_TRUE(r.errors[0] == PL_RX_BAD_COBS || r.errors[0] == PL_RX_BAD_CRC ||
                r.errors[0] == PL_RX_SHORT)
        << cut;
  }
  // Fewer bytes than a header and a checksum.
  const Bytes tiny = {0, 3, 1, 2, 0};
  EXPECT_EQ(receive(tiny).errors, std::vector<int>{PL_RX_SHORT});
}

TEST(Protocol, FramesLongerThanTheBufferAreSkipped) {
  Rng rng(6);
  const Bytes big = random_bytes(200, rng), small = random_bytes(20, rng);
  const Received r = receive(cat(encode(PL_RESULT, 1, big), encode(PL_RESULT, 2, small)), 64);
  ASSERT_EQ(r.frames.size(), 1u);
  EXPECT_EQ(r.frames[0].seq, 2);
  EXPECT_EQ(r.errors, std::vector<int>{PL_RX_TOO_LONG});
  // Exactly the buffer's size still fits.
  const Bytes fits = random_bytes(64 - PL_FRAME_OVERHEAD, rng);
  EXPECT_EQ(receive(encode(PL_RESULT, 3, fits), 64).frames.size(), 1u);
  EXPECT_EQ(receive(encode(PL_RESULT, 3, cat(fits, {1})), 64).frames.size(), 0u);
}

TEST(Protocol, LargestBodyFitsAndOneByteMoreIsRefused) {
  Rng rng(7);
  const size_t max_payload = PL_MAX_BODY - PL_FRAME_OVERHEAD;
  const Bytes payload = random_bytes(max_payload, rng);
  const Bytes wire = encode(PL_RESULT, 65535, payload);
  ASSERT_GT(wire.size(), 0u);
  const Received r = receive(wire);
  ASSERT_EQ(r.frames.size(), 1u);
  EXPECT_EQ(r.frames[0].seq, 65535);
  EXPECT_EQ(r.frames[0].payload, payload);
  EXPECT_EQ(encode(PL_RESULT, 1, cat(payload, {9})).size(), 0u) << "max_frame is a u16";
}

TEST(Protocol, WriterReportsOverflowInsteadOfWritingPastTheBuffer) {
  Bytes out(40, 0xAA);
  pl_writer w;
  pl_writer_begin(&w, out.data(), 30, PL_PING, 1);
  for (int i = 0; i < 40; ++i) pl_put_u8(&w, uint8_t(i + 1));
  EXPECT_EQ(pl_writer_end(&w), 0u);
  for (size_t i = 30; i < out.size(); ++i) EXPECT_EQ(out[i], 0xAA) << "wrote past cap at " << i;
  // The exact worst-case size is enough.
  Bytes payload(200, 0x55);
  Bytes exact(PL_WIRE_SIZE(200 + PL_FRAME_OVERHEAD));
  pl_writer_begin(&w, exact.data(), exact.size(), PL_PING, 1);
  pl_put_bytes(&w, payload.data(), payload.size());
  EXPECT_GT(pl_writer_end(&w), 0u);
}

TEST(Protocol, ReaderRefusesToReadPastThePayload) {
  const uint8_t data[3] = {1, 2, 3};
  pl_reader r;
  pl_reader_init(&r, data, 3);
  EXPECT_EQ(pl_get_u16(&r), 0x0201);
  EXPECT_FALSE(pl_reader_done(&r));
  EXPECT_EQ(pl_get_u16(&r), 0) << "only one byte left";
  EXPECT_TRUE(r.error);
  EXPECT_EQ(pl_get_u8(&r), 0) << "errors are sticky";
  EXPECT_FALSE(pl_reader_done(&r));
}

TEST(Protocol, FloatSamplesRoundTripAndQ16StaysWithinHalfAStep) {
  Bytes buf(4096);
  pl_writer w;
  pl_writer_begin(&w, buf.data(), buf.size(), PL_RESULT, 1);
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> values = {0.0, -1.0, 1.0, 0.1, -0.7312, 3.0e-8, 12345.678};
  for (double v : values) pl_put_sample(&w, PL_FMT_F64, v, 0, 0);
  for (double v : values) pl_put_sample(&w, PL_FMT_F32, v, 0, 0);
  pl_put_sample(&w, PL_FMT_F32, inf, 0, 0);  // float formats carry infinities as they are
  const float lo = -1.5f, hi = 2.0f;
  const std::vector<double> q = {-1.5, 2.0, 0.0, 0.123456, -1.49999, 1.99999, 5.0, -9.0};
  for (double v : q) pl_put_sample(&w, PL_FMT_Q16, v, lo, hi);
  const size_t n = pl_writer_end(&w);
  ASSERT_GT(n, 0u);
  const Received got = receive(Bytes(buf.begin(), buf.begin() + long(n)));
  ASSERT_EQ(got.frames.size(), 1u);
  EXPECT_EQ(got.frames[0].payload.size(), values.size() * 12 + 4 + q.size() * 2);
  pl_reader r;
  pl_reader_init(&r, got.frames[0].payload.data(), got.frames[0].payload.size());
  for (double v : values) EXPECT_EQ(pl_get_sample(&r, PL_FMT_F64, 0, 0), v);
  for (double v : values) EXPECT_EQ(pl_get_sample(&r, PL_FMT_F32, 0, 0), double(float(v)));
  EXPECT_EQ(pl_get_sample(&r, PL_FMT_F32, 0, 0), inf);
  const double step = (double(hi) - lo) / 65535.0;
  for (double v : q) {
    const double back = pl_get_sample(&r, PL_FMT_Q16, lo, hi);
    const double want = std::min<double>(std::max<double>(v, lo), hi);  // saturates
    EXPECT_LE(std::fabs(back - want), 0.5 * step + 1e-12) << v;
    EXPECT_GE(back, lo);
    EXPECT_LE(back, hi);
  }
  EXPECT_TRUE(pl_reader_done(&r));
}

TEST(Protocol, Q16RefusesNonFiniteValuesAndRanges) {
  Bytes buf(64);
  for (double v : {std::nan(""), std::numeric_limits<double>::infinity()}) {
    pl_writer w;
    pl_writer_begin(&w, buf.data(), buf.size(), PL_RESULT, 1);
    pl_put_sample(&w, PL_FMT_Q16, v, -1, 1);
    EXPECT_EQ(pl_writer_end(&w), 0u) << v;
  }
  pl_writer w;
  pl_writer_begin(&w, buf.data(), buf.size(), PL_RESULT, 1);
  pl_put_sample(&w, PL_FMT_Q16, 0.5, -1, std::numeric_limits<float>::infinity());
  EXPECT_EQ(pl_writer_end(&w), 0u);
  EXPECT_EQ(pl_sample_size(PL_FMT_Q16), 2u);
  EXPECT_EQ(pl_sample_size(PL_FMT_F32), 4u);
  EXPECT_EQ(pl_sample_size(PL_FMT_F64), 8u);
  EXPECT_EQ(pl_sample_size(0), 0u);
  EXPECT_EQ(pl_sample_size(9), 0u);
}

namespace {

// A small device: 3 inputs, 5 parameters in two ranges, 2 outputs.
struct TestDevice {
  pl_range_run runs[2] = {{3, -1.0f, 1.0f}, {2, 0.0f, 4.0f}};
  pl_describe desc{};
  Bytes rx = Bytes(512), tx = Bytes(PL_WIRE_SIZE(512));
  pl_device dev{};
  int runs_done = 0, resets = 0;
  uint8_t fail_with = PL_OK;
  double counter = 0;  // changes every run, like a device's noise stream

  TestDevice() {
    desc.version = PL_VERSION;
    desc.formats = PL_FORMAT_BIT(PL_FMT_F32) | PL_FORMAT_BIT(PL_FMT_F64);
    desc.input_size = 3;
    desc.param_size = 5;
    desc.output_size = 2;
    desc.max_batch = 4;
    desc.max_frame = 512;
    desc.boot_id = 0xC0FFEE;
    desc.input_min = -2.0f;
    desc.input_max = 2.0f;
    desc.output_min = -std::numeric_limits<float>::infinity();
    desc.output_max = std::numeric_limits<float>::infinity();
    desc.runs = runs;
    desc.run_count = 2;
    std::strcpy(desc.name, "test-device");
    pl_device_init(&dev, &desc, &TestDevice::run, &TestDevice::reset, this, rx.data(), rx.size(),
                   tx.data(), tx.size());
  }

  // y_0 = Σx + counter, y_1 = Σθ, per sample.
  static uint8_t run(void* ctx, const pl_describe* d, uint8_t format, uint16_t count, pl_reader* in,
                     pl_writer* out, const char** text) {
    auto* self = static_cast<TestDevice*>(ctx);
    if (self->fail_with != PL_OK) {
      *text = "told to fail";
      return self->fail_with;
    }
    double st = 0;
    for (int i = 0; i < d->param_size; ++i) st += pl_get_sample(in, format, 0, 0);
    self->counter += 1;
    for (int j = 0; j < count; ++j) {
      double sx = 0;
      for (int k = 0; k < d->input_size; ++k) sx += pl_get_sample(in, format, 0, 0);
      pl_put_sample(out, format, sx + self->counter, 0, 0);
      pl_put_sample(out, format, st, 0, 0);
    }
    ++self->runs_done;
    return PL_OK;
  }
  static void reset(void* ctx) { ++static_cast<TestDevice*>(ctx)->resets; }

  // Pushes the bytes in; returns every reply frame the device sent.
  Received talk(const Bytes& wire) {
    Bytes replies;
    for (uint8_t b : wire) {
      const size_t n = pl_device_push(&dev, b);
      replies.insert(replies.end(), dev.tx, dev.tx + n);
    }
    return receive(replies);
  }
};

Bytes hello(uint16_t seq, uint8_t lo = PL_VERSION, uint8_t hi = PL_VERSION) {
  return encode(PL_HELLO, seq, {lo, hi});
}

Bytes run_batch(uint16_t seq, uint8_t format, int count, double base, int param_size = 5,
                int input_size = 3) {
  Bytes out(2048);
  pl_writer w;
  pl_writer_begin(&w, out.data(), out.size(), PL_RUN_BATCH, seq);
  pl_put_u8(&w, format);
  pl_put_u16(&w, uint16_t(count));
  for (int i = 0; i < param_size; ++i) pl_put_sample(&w, format, 0.25 * (i + 1), 0, 0);
  for (int j = 0; j < count; ++j)
    for (int k = 0; k < input_size; ++k) pl_put_sample(&w, format, base + j + 0.5 * k, 0, 0);
  out.resize(pl_writer_end(&w));
  return out;
}

uint8_t error_code(const Received::Frame& f) {
  return f.type == PL_ERROR && !f.payload.empty() ? f.payload[0] : uint8_t(PL_OK);
}

}  // namespace

TEST(Protocol, DescribeRoundTripsWithRangesAndName) {
  TestDevice t;
  const Received r = t.talk(hello(1));
  ASSERT_EQ(r.frames.size(), 1u);
  ASSERT_EQ(r.frames[0].type, PL_DESCRIBE);
  EXPECT_EQ(r.frames[0].seq, 1);
  pl_reader rd;
  pl_reader_init(&rd, r.frames[0].payload.data(), r.frames[0].payload.size());
  pl_describe d;
  pl_range_run runs[4];
  ASSERT_EQ(pl_get_describe(&rd, &d, runs, 4), PL_OK);
  EXPECT_EQ(d.version, PL_VERSION);
  EXPECT_EQ(d.formats, t.desc.formats);
  EXPECT_EQ(d.input_size, 3);
  EXPECT_EQ(d.param_size, 5);
  EXPECT_EQ(d.output_size, 2);
  EXPECT_EQ(d.max_batch, 4);
  EXPECT_EQ(d.max_frame, 512);
  EXPECT_EQ(d.boot_id, 0xC0FFEEu);
  EXPECT_EQ(d.input_min, -2.0f);
  EXPECT_EQ(d.output_max, std::numeric_limits<float>::infinity());
  EXPECT_STREQ(d.name, "test-device");
  float lo = 0, hi = 0;
  ASSERT_TRUE(pl_param_range(&d, 2, &lo, &hi));
  EXPECT_EQ(lo, -1.0f);
  ASSERT_TRUE(pl_param_range(&d, 3, &lo, &hi));
  EXPECT_EQ(hi, 4.0f);
  EXPECT_FALSE(pl_param_range(&d, 5, &lo, &hi));

  // Every truncation, one byte too many, too little room for the runs, counts that do not
  // add up to P, and another version are all refused.
  const Bytes good = r.frames[0].payload;
  for (size_t n = 0; n < good.size(); ++n) {
    pl_reader_init(&rd, good.data(), n);
    EXPECT_NE(pl_get_describe(&rd, &d, runs, 4), PL_OK) << n;
  }
  Bytes longer = cat(good, {0});
  pl_reader_init(&rd, longer.data(), longer.size());
  EXPECT_EQ(pl_get_describe(&rd, &d, runs, 4), PL_ERR_MALFORMED);
  pl_reader_init(&rd, good.data(), good.size());
  EXPECT_EQ(pl_get_describe(&rd, &d, runs, 1), PL_ERR_MALFORMED);
  Bytes bad_counts = good;
  bad_counts[34] += 1;  // the first run's count (after 32 fixed bytes and the run count)
  pl_reader_init(&rd, bad_counts.data(), bad_counts.size());
  EXPECT_EQ(pl_get_describe(&rd, &d, runs, 4), PL_ERR_MALFORMED);
  Bytes v2 = good;
  v2[0] = PL_VERSION + 1;
  pl_reader_init(&rd, v2.data(), v2.size());
  EXPECT_EQ(pl_get_describe(&rd, &d, runs, 4), PL_ERR_VERSION);
}

TEST(Protocol, BatchLimitIsTheLargestCountThatFitsBothFrames) {
  TestDevice t;
  t.desc.max_batch = 1000;
  for (uint8_t f : {uint8_t(PL_FMT_F32), uint8_t(PL_FMT_F64)}) {
    const uint16_t n = pl_batch_limit(&t.desc, f);
    ASSERT_GT(n, 0);
    EXPECT_LE(pl_request_body(&t.desc, f, n), 512u);
    EXPECT_LE(pl_result_body(&t.desc, f, n), 512u);
    EXPECT_GT(pl_request_body(&t.desc, f, n + 1u), 512u);
  }
  // f32: 8 + (5 + 3n) 4 <= 512 gives n = 40.
  EXPECT_EQ(pl_batch_limit(&t.desc, PL_FMT_F32), 40);
  t.desc.max_batch = 7;
  EXPECT_EQ(pl_batch_limit(&t.desc, PL_FMT_F32), 7);
  EXPECT_EQ(pl_batch_limit(&t.desc, PL_FMT_Q16), 0) << "not offered";
  EXPECT_EQ(pl_request_body(&t.desc, PL_FMT_F64, 0xFFFFFFFFu), 0xFFFFFFFFu) << "saturates";
}

TEST(Protocol, DeviceRunsABatchOnlyWithinASession) {
  TestDevice t;
  Received r = t.talk(run_batch(5, PL_FMT_F64, 2, 1.0));
  ASSERT_EQ(r.frames.size(), 1u);
  EXPECT_EQ(error_code(r.frames[0]), PL_ERR_NO_SESSION);
  EXPECT_EQ(t.runs_done, 0);

  t.talk(hello(6));
  r = t.talk(run_batch(7, PL_FMT_F64, 2, 1.0));
  ASSERT_EQ(r.frames.size(), 1u);
  ASSERT_EQ(r.frames[0].type, PL_RESULT);
  EXPECT_EQ(r.frames[0].seq, 7);
  pl_reader rd;
  pl_reader_init(&rd, r.frames[0].payload.data(), r.frames[0].payload.size());
  EXPECT_EQ(pl_get_u8(&rd), PL_FMT_F64);
  EXPECT_EQ(pl_get_u16(&rd), 2);
  // sample 0: x = 1, 1.5, 2 -> 4.5 + counter 1; theta = .25 .. 1.25 -> 3.75
  EXPECT_EQ(pl_get_sample(&rd, PL_FMT_F64, 0, 0), 5.5);
  EXPECT_EQ(pl_get_sample(&rd, PL_FMT_F64, 0, 0), 3.75);
  EXPECT_EQ(pl_get_sample(&rd, PL_FMT_F64, 0, 0), 8.5);
  EXPECT_EQ(pl_get_sample(&rd, PL_FMT_F64, 0, 0), 3.75);
  EXPECT_TRUE(pl_reader_done(&rd));
}

TEST(Protocol, DeviceReplaysARetriedRequestInsteadOfRunningItAgain) {
  TestDevice t;
  t.talk(hello(1));
  const Bytes req = run_batch(2, PL_FMT_F32, 3, 0.0);
  const Received first = t.talk(req);
  ASSERT_EQ(first.frames.size(), 1u);
  ASSERT_EQ(t.runs_done, 1);
  // The host lost the reply and sends the identical frame: same answer, no second run.
  const Received again = t.talk(req);
  ASSERT_EQ(again.frames.size(), 1u);
  EXPECT_EQ(again.frames[0].payload, first.frames[0].payload);
  EXPECT_EQ(t.runs_done, 1);
  EXPECT_EQ(t.dev.replays, 1u);
  // Garbage between the two copies changes nothing.
  Rng rng(8);
  t.talk(cat(random_bytes(50, rng), req));
  EXPECT_EQ(t.runs_done, 1);
  // Same sequence number but other content (a host that restarted its numbering): run.
  const Received other = t.talk(run_batch(2, PL_FMT_F32, 3, 10.0));
  ASSERT_EQ(other.frames.size(), 1u);
  EXPECT_EQ(t.runs_done, 2);
  EXPECT_NE(other.frames[0].payload, first.frames[0].payload);
  // A new sequence number with the same content is a new request: run.
  t.talk(run_batch(3, PL_FMT_F32, 3, 10.0));
  EXPECT_EQ(t.runs_done, 3);
  // HELLO starts a new session: the cache is gone, the old request runs again.
  t.talk(hello(4));
  t.talk(run_batch(3, PL_FMT_F32, 3, 10.0));
  EXPECT_EQ(t.runs_done, 4);
}

TEST(Protocol, DeviceAnswersBadRequestsWithErrorCodes) {
  TestDevice t;
  t.talk(hello(1));
  auto code_of = [&](const Bytes& req) {
    const Received r = t.talk(req);
    return r.frames.size() == 1 ? error_code(r.frames[0]) : uint8_t(255);
  };
  // A well-sized q16 request (format, count 1, eight 2-byte values) to a device without q16.
  Bytes q16 = {PL_FMT_Q16, 1, 0};
  q16.resize(3 + 8 * 2, 0x11);
  EXPECT_EQ(code_of(encode(PL_RUN_BATCH, 2, q16)), PL_ERR_FORMAT) << "q16 not offered";
  EXPECT_EQ(code_of(encode(PL_RUN_BATCH, 3, {7, 1, 0, 1, 2, 3, 4})), PL_ERR_FORMAT);
  EXPECT_EQ(code_of(run_batch(4, PL_FMT_F32, 5, 0.0)), PL_ERR_TOO_LARGE) << "max_batch is 4";
  EXPECT_EQ(code_of(run_batch(5, PL_FMT_F32, 0, 0.0)), PL_ERR_TOO_LARGE);
  EXPECT_EQ(code_of(run_batch(6, PL_FMT_F32, 2, 0.0, 4)), PL_ERR_MALFORMED) << "theta short";
  EXPECT_EQ(code_of(encode(PL_RUN_BATCH, 7, {PL_FMT_F32})), PL_ERR_MALFORMED);
  EXPECT_EQ(code_of(encode(0x33, 8, {})), PL_ERR_UNKNOWN_TYPE);
  EXPECT_EQ(code_of(encode(PL_RESET, 9, {1})), PL_ERR_MALFORMED);
  EXPECT_EQ(code_of(encode(PL_PING, 10, Bytes(PL_PING_MAX + 1, 1))), PL_ERR_MALFORMED);
  EXPECT_EQ(code_of(hello(11, PL_VERSION + 1, PL_VERSION + 3)), PL_ERR_VERSION);
  EXPECT_EQ(code_of(encode(PL_HELLO, 12, {1})), PL_ERR_MALFORMED);
  t.fail_with = PL_ERR_DEVICE;
  const Received r = t.talk(run_batch(13, PL_FMT_F32, 1, 0.0));
  ASSERT_EQ(r.frames.size(), 1u);
  EXPECT_EQ(error_code(r.frames[0]), PL_ERR_DEVICE);
  EXPECT_EQ(r.frames[0].payload[1], PL_RUN_BATCH);
  const std::string text(r.frames[0].payload.begin() + 3, r.frames[0].payload.end());
  EXPECT_EQ(text, "told to fail");
  EXPECT_EQ(t.runs_done, 0);
  EXPECT_STREQ(pl_error_name(PL_ERR_FORMAT), "unsupported sample format");
}

TEST(Protocol, BusyIsNotReplayedSoARetryRunsForReal) {
  TestDevice t;
  t.talk(hello(1));
  const Bytes req = run_batch(2, PL_FMT_F32, 1, 0.0);
  t.fail_with = PL_ERR_BUSY;
  EXPECT_EQ(error_code(t.talk(req).frames.at(0)), PL_ERR_BUSY);
  t.fail_with = PL_OK;
  EXPECT_EQ(t.talk(req).frames.at(0).type, PL_RESULT);
  EXPECT_EQ(t.runs_done, 1);
}

TEST(Protocol, DevicePingsResetsAndIgnoresReplies) {
  TestDevice t;
  Rng rng(9);
  const Bytes echo = random_bytes(PL_PING_MAX, rng);
  Received r = t.talk(encode(PL_PING, 77, echo));  // no session needed
  ASSERT_EQ(r.frames.size(), 1u);
  EXPECT_EQ(r.frames[0].type, PL_PONG);
  EXPECT_EQ(r.frames[0].payload, echo);
  r = t.talk(encode(PL_RESET, 78, {}));
  ASSERT_EQ(r.frames.size(), 1u);
  EXPECT_EQ(r.frames[0].type, PL_RESET_OK);
  EXPECT_EQ(t.resets, 1);
  // A reply type arriving at a device (an echoing line) gets no answer at all.
  EXPECT_TRUE(t.talk(encode(PL_RESULT, 79, {1, 2, 3})).frames.empty());
  EXPECT_TRUE(t.talk(encode(PL_ERROR, 80, {1, 2, 0})).frames.empty());
  // Broken frames are counted, not answered.
  const uint32_t bad = t.dev.bad_frames;
  Bytes corrupt = encode(PL_PING, 81, {1, 2, 3});
  corrupt[3] ^= 0x40;
  EXPECT_TRUE(t.talk(corrupt).frames.empty());
  EXPECT_EQ(t.dev.bad_frames, bad + 1);
}

}  // namespace patlab

#include "patlab/devices/serial_device.h"

#ifndef ASIO_STANDALONE
#define ASIO_STANDALONE
#endif
#include <termios.h>

#include <algorithm>
#include <asio/io_context.hpp>
#include <asio/serial_port.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <chrono>
#include <cmath>
#include <deque>
#include <stdexcept>

#include "patlab_protocol.h"

namespace patlab {

const std::vector<int>& standard_baud_rates() {
  static const std::vector<int> rates = {
      300,    600,    1200,   2400,   4800,    9600,    19200,   38400,   57600,   115200, 230400,
      460800, 500000, 576000, 921600, 1000000, 1152000, 2000000, 3000000, 3500000, 4000000};
  return rates;
}

bool is_standard_baud_rate(int baud) {
  const std::vector<int>& r = standard_baud_rates();
  return std::find(r.begin(), r.end(), baud) != r.end();
}

namespace {

using Clock = std::chrono::steady_clock;

Clock::time_point after_seconds(double s) {
  return Clock::now() +
         std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

std::string milliseconds(double s) { return std::to_string(int(std::lround(s * 1e3))) + " ms"; }

// What a request asks, whatever its sequence number: a 128-bit hash of its type and payload
// (two independent 64-bit lanes) and the payload's length.
struct RequestKey {
  uint64_t a = 0, b = 0;
  size_t n = 0;
  bool operator==(const RequestKey& o) const { return a == o.a && b == o.b && n == o.n; }
  bool operator!=(const RequestKey& o) const { return !(*this == o); }
};

RequestKey key_of(const uint8_t* p, size_t n) {
  RequestKey k;
  k.n = n;
  uint64_t a = 0xcbf29ce484222325ull, b = 0x9e3779b97f4a7c15ull ^ uint64_t(n);
  for (size_t i = 0; i < n; ++i) {
    a = (a ^ p[i]) * 0x100000001b3ull;  // FNV-1a
    b = (b + p[i] + 1) * 0xff51afd7ed558ccdull;
    b ^= b >> 29;
  }
  k.a = a;
  k.b = b;
  return k;
}

// Bumped whenever a SerialDevice gives up on a forward(): its caller rolls the operation back
// and repeats it, and that operation may have asked other serial devices as well (one per
// physical layer). Every device then answers the repeated requests it already answered from
// its journal instead of running them again.
std::atomic<unsigned> g_failures{0};

// The journal keeps at most this many bytes of replies (the newest ones).
constexpr size_t kJournalBytes = size_t(16) << 20;

}  // namespace

struct SerialDevice::Impl {
  std::string path;
  SerialOptions opt;
  asio::io_context io;
  asio::serial_port port{io};

  bool session = false;    // a HELLO was answered on the open port
  bool described = false;  // desc holds the answer of a handshake (later ones must match it)
  DeviceDescription desc;
  pl_describe raw{};               // desc in the C library's terms (for pl_batch_limit)
  std::vector<pl_range_run> runs;  // raw.runs points here
  uint8_t format = 0;
  int limit = 0;
  uint16_t seq = 0;

  std::vector<uint8_t> body = std::vector<uint8_t>(PL_MAX_BODY);  // the parser's buffer
  pl_parser parser{};
  std::vector<uint8_t> inbox;  // bytes received and not yet parsed
  size_t inbox_pos = 0;
  std::vector<uint8_t> frame;  // the request in flight, wire form
  uint16_t want = 0;           // the sequence number of the request in `frame`
  std::vector<uint8_t> reply;  // payload of the reply taken
  uint8_t reply_type = 0;
  SerialStats stats;

  // A RUN_BATCH given up on (no reply within the retries), as it went out. If the next
  // request is the same batch (the caller repeats the rolled-back operation), it goes out as
  // this very frame, sequence number included, so a device that did run it replays its
  // reply instead of running it twice. Any other request forgets it, and so does a
  // handshake: HELLO empties the device's replay cache anyway.
  struct Abandoned {
    bool valid = false;
    RequestKey key;
    uint16_t seq = 0;
    std::vector<uint8_t> frame;
  } abandoned;

  // The device keeps only its last reply, but an operation the caller repeats (a forward
  // split into several requests, an evaluation of several batches, a forward pass through
  // several devices) may have had several requests answered before one failed. The journal
  // keeps the replies to recent requests; after a failure, the repeated requests are taken
  // from it in the order they were first answered, until one differs.
  struct Answered {
    RequestKey key;
    std::vector<uint8_t> reply;
  };
  std::deque<Answered> journal;
  size_t journal_bytes = 0;
  unsigned seen_failures = 0;  // g_failures when this device last checked
  bool recalling = false;      // a repeated operation may be under way
  size_t recall_next = 0;      // journal index the next repeated request must match
  bool recall_started = false;

  std::string who() const {
    return described ? "serial device '" + desc.name + "' on " + path : "serial device on " + path;
  }

  // ---- the port --------------------------------------------------------------------------

  void open_port() {
    asio::error_code ec;
    port.open(path, ec);
    if (ec) throw DeviceError(who() + ": not available (" + ec.message() + ")");
    using B = asio::serial_port_base;
    port.set_option(B::baud_rate(unsigned(opt.baud)), ec);
    if (!ec) port.set_option(B::character_size(8), ec);
    if (!ec) port.set_option(B::parity(B::parity::none), ec);
    if (!ec) port.set_option(B::stop_bits(B::stop_bits::one), ec);
    if (!ec) port.set_option(B::flow_control(B::flow_control::none), ec);
    if (ec) {
      close_port();
      throw DeviceError(who() + ": cannot set up the port at " + std::to_string(opt.baud) +
                        " baud (" + ec.message() + ")");
    }
    // Whatever sat in the buffers belongs to an earlier conversation.
    ::tcflush(port.native_handle(), TCIOFLUSH);
    pl_parser_init(&parser, body.data(), body.size());
    inbox.clear();
    inbox_pos = 0;
  }

  void close_port() {
    asio::error_code ignored;
    if (port.is_open()) port.close(ignored);
    session = false;
  }

  [[noreturn]] void lost(const std::string& why) {
    close_port();
    ++stats.connection_losses;
    throw DeviceError(who() + ": connection lost (" + why +
                      "); the port is reopened on the next query");
  }

  // Runs the io_context until the pending operation completes or the deadline passes; then
  // cancels it. Returns the operation's error (operation_aborted on timeout).
  template <typename Start>
  asio::error_code run_with_deadline(Start start, Clock::time_point deadline, size_t* n) {
    asio::error_code result = asio::error::would_block;
    start([&](const asio::error_code& e, size_t k) {
      result = e;
      *n = k;
    });
    io.restart();
    io.run_until(deadline);
    if (result == asio::error::would_block) {
      asio::error_code ignored;
      port.cancel(ignored);
      io.restart();
      io.run();  // the handler runs now, with operation_aborted or a late success
    }
    return result;
  }

  // Writes the frame; false if the port would not take all of it before the deadline (a
  // device busy sending, or flow control). The cut-off rest is garbage to the device, which
  // it skips at the next delimiter; a retry sends the whole frame again.
  bool send(const std::vector<uint8_t>& bytes, Clock::time_point deadline) {
    size_t n = 0;
    const asio::error_code ec = run_with_deadline(
        [&](auto handler) { asio::async_write(port, asio::buffer(bytes), handler); }, deadline, &n);
    stats.bytes_sent += (long long)n;
    if (ec == asio::error::operation_aborted) return false;
    if (ec) lost(ec.message());
    return true;
  }

  // Waits for bytes until the deadline; false on timeout.
  bool receive(Clock::time_point deadline) {
    uint8_t buf[4096];
    size_t n = 0;
    const asio::error_code ec = run_with_deadline(
        [&](auto handler) { port.async_read_some(asio::buffer(buf), handler); }, deadline, &n);
    if (ec == asio::error::operation_aborted) return false;
    if (ec) lost(ec == asio::error::eof ? std::string("the other end closed") : ec.message());
    stats.bytes_received += (long long)n;
    inbox.insert(inbox.end(), buf, buf + n);
    return true;
  }

  // Parses received bytes until a checked frame answering `want` appears; bytes after it
  // stay in the inbox for the next request.
  bool take_reply(uint16_t number, uint8_t expect) {
    while (inbox_pos < inbox.size()) {
      pl_frame f;
      const int r = pl_parser_push(&parser, inbox[inbox_pos++], &f);
      if (r < 0) ++stats.bad_frames;
      if (r != PL_RX_FRAME) continue;
      // A reply to an earlier request (a late answer to a retried one) is not ours.
      if (f.seq != number || (f.type != expect && f.type != PL_ERROR)) {
        ++stats.stale_replies;
        continue;
      }
      reply.assign(f.payload, f.payload + f.len);
      reply_type = f.type;
      inbox.erase(inbox.begin(), inbox.begin() + long(inbox_pos));
      inbox_pos = 0;
      return true;
    }
    inbox.clear();
    inbox_pos = 0;
    return false;
  }

  // ---- requests --------------------------------------------------------------------------

  // Starts a request frame with a fresh sequence number.
  pl_writer begin(uint8_t type, size_t payload_bytes) {
    frame.resize(PL_WIRE_SIZE(payload_bytes + PL_FRAME_OVERHEAD));
    pl_writer w;
    want = ++seq;
    pl_writer_begin(&w, frame.data(), frame.size(), type, want);
    return w;
  }

  // The key of the request in `frame`: its type and payload, not its sequence number.
  RequestKey frame_key() const {
    std::vector<uint8_t> b(frame.size());
    const size_t n = frame.size() < 2
                         ? 0
                         : pl_cobs_decode(frame.data() + 1, frame.size() - 2, b.data(), b.size());
    if (n < PL_FRAME_OVERHEAD) throw std::logic_error("SerialDevice: cannot read back a request");
    b.erase(b.begin() + 1, b.begin() + PL_HEADER_SIZE);  // the sequence number
    return key_of(b.data(), n - PL_FRAME_OVERHEAD + 1);
  }

  // ---- repeated operations ---------------------------------------------------------------

  // Called at the start of every forward(): a failure anywhere since the last one means the
  // caller may be repeating an operation.
  void check_failures() {
    const unsigned now = g_failures.load();
    if (now == seen_failures) return;
    seen_failures = now;
    recalling = true;
    recall_started = false;
  }

  // The journal's reply to this request if it repeats one of a failed operation: the first
  // repeated request matches the newest identical entry, each following one the entry after
  // the previous. The first request that does not match ends the recall.
  const Answered* recall(const RequestKey& key) {
    if (!recalling) return nullptr;
    if (!recall_started) {
      recall_started = true;
      recall_next = journal.size();
      for (size_t i = journal.size(); i-- > 0;)
        if (journal[i].key == key) {
          recall_next = i;
          break;
        }
    }
    if (recall_next >= journal.size() || journal[recall_next].key != key) {
      recalling = false;
      return nullptr;
    }
    ++stats.recalled;
    return &journal[recall_next++];
  }

  void remember(const RequestKey& key) {
    journal.push_back({key, reply});
    journal_bytes += reply.size() + sizeof(Answered);
    while (journal.size() > 1 && journal_bytes > kJournalBytes) {
      journal_bytes -= journal.front().reply.size() + sizeof(Answered);
      journal.pop_front();
    }
  }

  void finish(pl_writer& w) {
    const size_t n = pl_writer_end(&w);
    if (n == 0) throw std::logic_error("SerialDevice: request frame overflow");
    frame.resize(n);
  }

  // Sends the request in `frame` until a reply with its sequence number `want` arrives: a
  // re-send is the identical frame, so the device replays instead of running it again.
  void transact(uint8_t expect, size_t reply_payload) {
    // 10 bits a byte (8N1) for the request and the reply, with a quarter more for gaps
    // between bytes and USB adapters' latency.
    const double wire_s = 1.25 * 10.0 *
                          double(frame.size() + PL_WIRE_SIZE(reply_payload + PL_FRAME_OVERHEAD)) /
                          opt.baud;
    const double wait_s = opt.timeout_s + wire_s;
    for (int attempt = 0; attempt <= opt.retries; ++attempt) {
      if (attempt == 0)
        ++stats.requests;
      else
        ++stats.retries;
      const Clock::time_point deadline = after_seconds(wait_s);
      if (!send(frame, deadline)) continue;
      for (;;) {
        if (take_reply(want, expect)) return;
        if (!receive(deadline)) break;
      }
    }
    // The session stays: a device that is merely slow still holds it, and will replay its
    // reply to this request if it comes again (see Abandoned); one that restarted meanwhile
    // answers the next request NO_SESSION, and gets a handshake then.
    if (frame.size() > 1 && expect == PL_RESULT) {
      abandoned.valid = true;
      abandoned.key = frame_key();
      abandoned.seq = want;
      abandoned.frame = frame;
    }
    throw DeviceError(who() + ": no reply after " + std::to_string(opt.retries + 1) + " tries of " +
                      milliseconds(wait_s) + " each (the device is busy, slow or gone)");
  }

  uint8_t error_code() const { return reply_type == PL_ERROR && !reply.empty() ? reply[0] : 0; }

  void throw_if_error() {
    if (reply_type != PL_ERROR) return;
    pl_reader r;
    pl_reader_init(&r, reply.data(), reply.size());
    const uint8_t code = pl_get_u8(&r);
    pl_get_u8(&r);  // the request type it answers: ours
    const uint8_t n = pl_get_u8(&r);
    std::string text(n, '\0');
    pl_get_bytes(&r, reinterpret_cast<uint8_t*>(&text[0]), n);
    if (code == PL_ERR_NO_SESSION) session = false;
    throw DeviceError(who() + ": the device refused the request: " + pl_error_name(code) +
                      (r.error || text.empty() ? std::string() : " (" + text + ")"));
  }

  // ---- the handshake ---------------------------------------------------------------------

  void ensure_session() {
    if (!port.is_open()) open_port();
    if (session) return;
    try {
      handshake();
    } catch (...) {
      close_port();  // start from a clean port next time
      throw;
    }
  }

  void handshake() {
    abandoned.valid = false;  // HELLO empties the device's replay cache
    pl_writer w = begin(PL_HELLO, 2);
    pl_put_u8(&w, PL_VERSION);  // the range of versions this host speaks
    pl_put_u8(&w, PL_VERSION);
    finish(w);
    transact(PL_DESCRIBE, 1024);
    throw_if_error();

    DescribeReply rep = decode_describe(reply.data(), reply.size());
    if (rep.status == PL_ERR_VERSION)
      throw DeviceError(who() + ": speaks protocol version " + std::to_string(rep.desc.version) +
                        ", this host version " + std::to_string(PL_VERSION));
    if (rep.status != PL_OK) throw DeviceError(who() + ": sent a malformed description");
    const DeviceDescription& nd = rep.desc;

    if (described) {
      // Training state (parameters, twin) belongs to the device we first met.
      if (!same_device(desc, nd))
        throw DeviceError(who() + ": a different device answered ('" + nd.name + "', " +
                          std::to_string(nd.input_size) + " -> " + std::to_string(nd.output_size) +
                          ", " + std::to_string(nd.param_size) + " parameters)");
      if (nd.boot_id != desc.boot_id) ++stats.device_restarts;
    }

    const uint8_t fmt = uint8_t(choose_format(opt.format, rep.raw.formats));
    if (!fmt) {
      std::string offered;
      for (SampleFormat f : nd.formats)
        offered += std::string(offered.empty() ? "" : ", ") + sample_format_name(f);
      throw DeviceError(who() + ": does not offer sample format " +
                        sample_format_name(SampleFormat(opt.format)) + " (offers " + offered + ")");
    }
    runs = std::move(rep.runs);
    raw = rep.raw;
    raw.runs = runs.data();
    const int new_limit = pl_batch_limit(&raw, fmt);
    if (new_limit < 1)
      throw DeviceError(who() + ": cannot take one sample within its frame limit of " +
                        std::to_string(nd.max_frame) + " bytes");
    desc = nd;
    described = true;
    format = fmt;
    limit = new_limit;
    session = true;
    ++stats.handshakes;
  }

  // ---- one batch -------------------------------------------------------------------------

  // Returns false if the answer came from the journal (asked and counted before).
  bool run_chunk(const Mat& x, int c0, int n, const Vec& theta, Mat& y) {
    const int P = desc.param_size, I = desc.input_size, O = desc.output_size;
    const size_t s = pl_sample_size(format);
    auto build = [&] {
      pl_writer w = begin(PL_RUN_BATCH, 3 + size_t(P + I * n) * s);
      pl_put_u8(&w, format);
      pl_put_u16(&w, uint16_t(n));
      for (int i = 0; i < P; ++i)
        pl_put_sample(&w, format, theta[i], float(desc.param_min[i]), float(desc.param_max[i]));
      const float lo = float(desc.input_min), hi = float(desc.input_max);
      for (int j = 0; j < n; ++j)
        for (int k = 0; k < I; ++k) pl_put_sample(&w, format, x(k, c0 + j), lo, hi);
      if (w.error)
        throw DeviceError(who() + ": a value cannot be sent as " +
                          sample_format_name(SampleFormat(format)) + " (NaN or infinite)");
      finish(w);
      return frame_key();
    };
    // A request of an operation being repeated that was answered before: the device ran it
    // once already, and may not hold the reply any more. Taken from the journal, even while
    // the device is away.
    // The batch given up on last time is the point where the repeated operation failed: it
    // goes to the device (below), and the recall ends.
    RequestKey key = build();
    const bool resuming = abandoned.valid && abandoned.key == key;
    if (resuming) recalling = false;
    const Answered* known = resuming ? nullptr : recall(key);
    if (known) {
      reply = known->reply;
      reply_type = PL_RESULT;
    }
    // A device that restarted on its own (no disconnect) answers NO_SESSION: one fresh
    // handshake, then the same request again with a new sequence number.
    for (int attempt = 0; !known; ++attempt) {
      // A handshake here uses `frame` (and may change the format): build the request again.
      const long long handshakes = stats.handshakes;
      ensure_session();
      if (stats.handshakes != handshakes || attempt > 0) key = build();
      if (abandoned.valid && abandoned.key == key) {
        // The batch given up on last time: the same frame, so a device that ran it replays.
        frame = abandoned.frame;
        want = abandoned.seq;
        ++stats.resumed;
      }
      abandoned.valid = false;
      transact(PL_RESULT, 3 + size_t(O * n) * s);
      if (error_code() == PL_ERR_NO_SESSION && attempt == 0) {
        session = false;
        continue;
      }
      throw_if_error();
      break;
    }
    pl_reader r;
    pl_reader_init(&r, reply.data(), reply.size());
    const uint8_t fmt = pl_get_u8(&r);
    const uint16_t count = pl_get_u16(&r);
    const float lo = float(desc.output_min), hi = float(desc.output_max);
    if (fmt == format && count == n)
      for (int j = 0; j < n; ++j)
        for (int k = 0; k < O; ++k) y(k, c0 + j) = pl_get_sample(&r, format, lo, hi);
    if (fmt != format || count != n || !pl_reader_done(&r)) {
      session = false;
      throw DeviceError(who() + ": sent a malformed result (" + std::to_string(count) +
                        " samples for " + std::to_string(n) + ")");
    }
    if (known) return false;
    remember(key);
    stats.payload_sent += (long long)(size_t(P + I * n) * s);
    stats.payload_received += (long long)(size_t(O * n) * s);
    return true;
  }
};

SerialDevice::SerialDevice(const std::string& path, const SerialOptions& options)
    : impl_(std::make_unique<Impl>()) {
  if (options.baud <= 0 || options.retries < 0 || !(options.timeout_s > 0) ||
      !std::isfinite(options.timeout_s))
    throw std::invalid_argument("SerialDevice: need baud > 0, retries >= 0, finite timeout_s > 0");
  impl_->path = path;
  impl_->opt = options;
  impl_->ensure_session();
}

SerialDevice::~SerialDevice() { impl_->close_port(); }

std::string SerialDevice::name() const { return impl_->desc.name; }
int SerialDevice::input_size() const { return impl_->desc.input_size; }
int SerialDevice::param_size() const { return impl_->desc.param_size; }
int SerialDevice::output_size() const { return impl_->desc.output_size; }
double SerialDevice::input_min() const { return impl_->desc.input_min; }
double SerialDevice::input_max() const { return impl_->desc.input_max; }
Vec SerialDevice::param_min() const { return impl_->desc.param_min; }
Vec SerialDevice::param_max() const { return impl_->desc.param_max; }
const std::string& SerialDevice::path() const { return impl_->path; }
const DeviceDescription& SerialDevice::description() const { return impl_->desc; }
SampleFormat SerialDevice::format() const { return SampleFormat(impl_->format); }
int SerialDevice::batch_limit() const { return impl_->limit; }
bool SerialDevice::connected() const { return impl_->port.is_open() && impl_->session; }
SerialStats SerialDevice::stats() const { return impl_->stats; }

void SerialDevice::run(const Mat& x, const Vec& theta, Mat& y) {
  Impl& d = *impl_;
  if (x.rows() != input_size() || theta.size() != param_size())
    throw std::invalid_argument(d.who() + ": input or parameter size does not match the device");
  y.resize(output_size(), x.cols());
  d.check_failures();
  // forward() counted every sample; queries() counts each sample the device answered once:
  // neither one it never answered nor one taken from the journal (counted when it was first
  // answered). So an operation repeated after a failure counts as if it had run once.
  long long answered = 0;
  try {
    for (int c0 = 0; c0 < x.cols();) {
      const int n = std::min<int>(d.limit, int(x.cols()) - c0);
      if (d.run_chunk(x, c0, n, theta, y)) answered += n;
      c0 += n;
    }
  } catch (...) {
    set_queries(queries() - x.cols() + answered);
    // The caller rolls the operation back and repeats it: every serial device recalls.
    d.seen_failures = ++g_failures;
    d.recalling = true;
    d.recall_started = false;
    throw;
  }
  set_queries(queries() - x.cols() + answered);
}

double SerialDevice::ping(int bytes) {
  Impl& d = *impl_;
  if (bytes < 0 || bytes > PL_PING_MAX)
    throw std::invalid_argument("SerialDevice::ping: 0 to 64 bytes");
  d.ensure_session();
  d.abandoned.valid = false;  // the device's replay cache will hold the PONG
  const Clock::time_point t0 = Clock::now();
  pl_writer w = d.begin(PL_PING, size_t(bytes));
  std::vector<uint8_t> echo(static_cast<size_t>(bytes));
  for (int i = 0; i < bytes; ++i)
    echo[size_t(i)] = uint8_t(i * 37);  // zeros too: COBS must carry them
  pl_put_bytes(&w, echo.data(), echo.size());
  d.finish(w);
  d.transact(PL_PONG, size_t(bytes));
  d.throw_if_error();
  if (d.reply != echo) throw DeviceError(d.who() + ": PONG does not echo the PING");
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void SerialDevice::reset() {
  Impl& d = *impl_;
  d.ensure_session();
  d.abandoned.valid = false;  // the device's replay cache will hold RESET_OK
  pl_writer w = d.begin(PL_RESET, 0);
  d.finish(w);
  d.transact(PL_RESET_OK, 0);
  d.throw_if_error();
}

}  // namespace patlab

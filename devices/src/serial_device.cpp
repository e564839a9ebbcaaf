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
#include <stdexcept>

#include "patlab_protocol.h"

namespace patlab {

namespace {

using Clock = std::chrono::steady_clock;

// Bumped whenever a SerialDevice gives up on a forward(): its caller rolls the operation back
// and repeats it, and that operation may have asked other serial devices as well (one per
// physical layer). Every device then answers the repeated requests it already answered from
// its link's journal instead of running them again.
std::atomic<unsigned> g_failures{0};

}  // namespace

struct SerialDevice::Impl {
  std::string path;
  LinkOptions opt;
  asio::io_context io;
  asio::serial_port port{io};
  DeviceLink link;
  const Clock::time_point t0 = Clock::now();
  unsigned seen_failures = 0;  // g_failures when this device last checked

  Impl(const std::string& p, const LinkOptions& o) : path(p), opt(o), link(o, p) {}

  double now() const { return std::chrono::duration<double>(Clock::now() - t0).count(); }
  Clock::time_point at(double s) const {
    if (!std::isfinite(s)) s = now() + 1.0;
    return t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  }

  // ---- the port --------------------------------------------------------------------------

  void open_port() {
    asio::error_code ec;
    port.open(path, ec);
    if (ec) throw DeviceError(link.who() + ": not available (" + ec.message() + ")");
    using B = asio::serial_port_base;
    port.set_option(B::baud_rate(unsigned(opt.baud)), ec);
    if (!ec) port.set_option(B::character_size(8), ec);
    if (!ec) port.set_option(B::parity(B::parity::none), ec);
    if (!ec) port.set_option(B::stop_bits(B::stop_bits::one), ec);
    if (!ec) port.set_option(B::flow_control(B::flow_control::none), ec);
    if (ec) {
      close_port("cannot set up the port");
      throw DeviceError(link.who() + ": cannot set up the port at " + std::to_string(opt.baud) +
                        " baud (" + ec.message() + ")");
    }
    // Whatever sat in the buffers belongs to an earlier conversation.
    ::tcflush(port.native_handle(), TCIOFLUSH);
  }

  void close_port(const std::string& why) {
    asio::error_code ignored;
    if (port.is_open()) port.close(ignored);
    link.closed(why);
    link.cancel();
  }

  [[noreturn]] void lost(const std::string& why) {
    close_port(why);  // the link counts a lost session
    throw DeviceError(link.who() + ": connection lost (" + why +
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

  // Writes what the link sends. A port that would not take all of it before the request's
  // deadline (a device busy sending, flow control) cuts the frame: garbage to the device,
  // which skips it at the next delimiter; the link's retry sends the whole frame again.
  void flush() {
    const std::vector<uint8_t> bytes = link.take_output();
    if (bytes.empty()) return;
    size_t n = 0;
    const asio::error_code ec = run_with_deadline(
        [&](auto handler) { asio::async_write(port, asio::buffer(bytes), handler); },
        at(link.deadline()), &n);
    if (ec && ec != asio::error::operation_aborted) lost(ec.message());
  }

  // Feeds the link what arrives until the deadline.
  void receive(Clock::time_point deadline) {
    uint8_t buf[4096];
    size_t n = 0;
    const asio::error_code ec = run_with_deadline(
        [&](auto handler) { port.async_read_some(asio::buffer(buf), handler); }, deadline, &n);
    if (ec == asio::error::operation_aborted) return;
    if (ec) lost(ec == asio::error::eof ? std::string("the other end closed") : ec.message());
    link.receive_bytes(buf, n, now());
  }

  // Moves bytes and polls the link until done(); throws DeviceError when the link gives up
  // on a request or refuses the device.
  template <typename Done>
  void wait(Done done) {
    const long long give_ups = link.give_ups();
    for (;;) {
      flush();
      if (done()) return;
      if (link.give_ups() != give_ups || link.state() == DeviceLink::State::Refused)
        throw DeviceError(link.last_error());
      if (link.waiting() == 0 && link.state() == DeviceLink::State::Ready)
        throw DeviceError(link.who() + ": the request was dropped (the sample format changed)");
      receive(at(link.deadline()));
      link.poll(now());
    }
  }

  // ---- the session -----------------------------------------------------------------------

  void ensure_session() {
    if (!port.is_open()) {
      open_port();
      link.opened(now());
    }
    if (link.ready()) return;
    try {
      if (link.state() != DeviceLink::State::Handshaking) link.opened(now());
      wait([&] { return link.ready(); });
    } catch (const DeviceError& e) {
      if (port.is_open()) close_port(e.what());  // start from a clean port next time
      throw;
    }
  }

  // A request and its reply; the reply is dropped from the journal if it is a refusal.
  const DeviceLink::Reply& transact(uint64_t ticket) {
    wait([&] { return link.answer(ticket) != nullptr; });
    const DeviceLink::Reply& r = *link.answer(ticket);
    if (!r.error.empty()) {
      const std::string what = r.error;
      link.drop(ticket);
      throw DeviceError(what);
    }
    return r;
  }

  // Returns false if the answer came from the journal (asked and counted before).
  bool run_chunk(const Mat& x, int c0, int n, const Vec& theta, Mat& y) {
    DeviceLink::Batch b = link.batch(x, c0, n, theta);
    // A request of an operation being repeated that was answered before: the device ran it
    // once already, and may not hold the reply any more. Taken from the journal, even while
    // the device is away.
    if (const DeviceLink::Reply* known = link.recall(b.key)) {
      y.middleCols(c0, n) = known->y;
      return false;
    }
    const long long handshakes = link.stats().handshakes;
    ensure_session();
    // A handshake may change the format: build the request again.
    if (link.stats().handshakes != handshakes) b = link.batch(x, c0, n, theta);
    y.middleCols(c0, n) = transact(link.ask(b, now())).y;
    return true;
  }

  std::string control(uint8_t type, const std::string& payload) {
    ensure_session();
    return transact(link.ask(type, payload, now())).bytes;
  }
};

SerialDevice::SerialDevice(const std::string& path, const LinkOptions& options)
    : impl_(std::make_unique<Impl>(path, options)) {
  impl_->ensure_session();
}

SerialDevice::~SerialDevice() {
  asio::error_code ignored;
  if (impl_->port.is_open()) impl_->port.close(ignored);
}

const std::string& SerialDevice::path() const { return impl_->path; }
const DeviceDescription& SerialDevice::description() const { return impl_->link.description(); }
SampleFormat SerialDevice::format() const { return impl_->link.description().sample_format; }
int SerialDevice::batch_limit() const { return impl_->link.description().batch_limit; }
bool SerialDevice::connected() const { return impl_->port.is_open() && impl_->link.ready(); }
LinkStats SerialDevice::stats() const { return impl_->link.stats(); }

void SerialDevice::run(const Mat& x, const Vec& theta, Mat& y) {
  Impl& d = *impl_;
  if (x.rows() != input_size() || theta.size() != param_size())
    throw std::invalid_argument(d.link.who() + ": input or parameter size does not match the device");
  y.resize(output_size(), x.cols());
  // A failure anywhere since the last forward() means the caller may be repeating an operation.
  const unsigned failures = g_failures.load();
  if (failures != d.seen_failures) {
    d.seen_failures = failures;
    d.link.repeat();
  }
  // forward() counted every sample; queries() counts each sample the device answered once:
  // neither one it never answered nor one taken from the journal (counted when it was first
  // answered). So an operation repeated after a failure counts as if it had run once.
  long long answered = 0;
  try {
    for (int c0 = 0; c0 < x.cols();) {
      const int n = std::min<int>(batch_limit(), int(x.cols()) - c0);  // may change on a handshake
      if (d.run_chunk(x, c0, n, theta, y)) answered += n;
      c0 += n;
    }
  } catch (...) {
    set_queries(queries() - x.cols() + answered);
    d.link.cancel();
    // The caller rolls the operation back and repeats it: every serial device recalls.
    d.seen_failures = ++g_failures;
    d.link.repeat();
    throw;
  }
  set_queries(queries() - x.cols() + answered);
}

double SerialDevice::ping(int bytes) {
  if (bytes < 0 || bytes > PL_PING_MAX)
    throw std::invalid_argument("SerialDevice::ping: 0 to 64 bytes");
  std::string echo(size_t(bytes), '\0');
  for (int i = 0; i < bytes; ++i) echo[size_t(i)] = char(uint8_t(i * 37));  // zeros too: COBS
  const Clock::time_point t0 = Clock::now();
  if (impl_->control(PL_PING, echo) != echo)
    throw DeviceError(impl_->link.who() + ": PONG does not echo the PING");
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void SerialDevice::reset() { impl_->control(PL_RESET, std::string()); }

}  // namespace patlab

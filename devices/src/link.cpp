#include "patlab/devices/link.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
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

std::vector<std::pair<const char*, long long>> LinkStats::fields() const {
  return {{"requests", requests},
          {"retries", retries},
          {"bad_frames", bad_frames},
          {"stale_replies", stale_replies},
          {"resumed", resumed},
          {"recalled", recalled},
          {"cached_answers", cached_answers},
          {"handshakes", handshakes},
          {"device_restarts", device_restarts},
          {"connection_losses", connection_losses},
          {"bytes_sent", bytes_sent},
          {"bytes_received", bytes_received},
          {"payload_sent", payload_sent},
          {"payload_received", payload_received}};
}

namespace {

std::string milliseconds(double s) { return std::to_string(int(std::lround(s * 1e3))) + " ms"; }

// Two independent 64-bit lanes over the type and the payload (FNV-1a and a multiply-xorshift).
RequestKey key_of(uint8_t type, const std::string& payload) {
  RequestKey k;
  k.n = payload.size();
  uint64_t a = (0xcbf29ce484222325ull ^ type) * 0x100000001b3ull;
  uint64_t b = 0x9e3779b97f4a7c15ull ^ uint64_t(payload.size()) ^ (uint64_t(type) << 56);
  for (unsigned char c : payload) {
    a = (a ^ c) * 0x100000001b3ull;
    b = (b + c + 1) * 0xff51afd7ed558ccdull;
    b ^= b >> 29;
  }
  k.a = a;
  k.b = b;
  return k;
}

size_t reply_size(const DeviceLink::Reply& r) {
  return sizeof(r) + size_t(r.y.size()) * sizeof(double) + r.bytes.size() + r.error.size();
}

}  // namespace

struct DeviceLink::Impl {
  LinkOptions opt;
  std::string port;
  State state = State::Closed;
  bool described = false;
  LinkDescription desc;
  pl_describe raw{};
  std::vector<pl_range_run> runs;
  uint8_t format = 0;
  uint16_t seq = 0;
  LinkStats stats;
  std::string last_error;
  bool stalled = false;  // given up on a request since the last reply
  double last_now = 0;   // the latest time the port's side gave
  long long give_ups = 0;
  std::vector<uint8_t> output;
  std::vector<uint8_t> body = std::vector<uint8_t>(PL_MAX_BODY);  // a decoded received frame
  pl_parser parser{};

  struct Request {
    uint8_t type = 0;
    std::string payload;
    RequestKey key;
    int count = 0;
    uint64_t ticket = 0;
    bool again = false;  // already sent again after NO_SESSION or BUSY: the next one is final
  };
  struct InFlight {
    bool active = false;
    Request req;
    std::vector<uint8_t> frame;
    uint16_t seq = 0;
    double deadline = 0, wait_s = 0;
    int attempts = 0;
  } flight;
  std::deque<Request> queue;
  uint64_t tickets = 0;

  // The RUN_BATCH given up on last, as it went out: asked again next, it is this very frame.
  // Any other request forgets it, and so does a handshake (HELLO empties the device's cache).
  struct Abandoned {
    bool valid = false;
    RequestKey key;
    uint16_t seq = 0;
    std::vector<uint8_t> frame;
  } abandoned;

  // The journal: replies in the order they came, the oldest dropped beyond the bounds.
  std::deque<Reply> replies;
  size_t reply_bytes = 0;
  bool recalling = false, recall_started = false;
  size_t recall_next = 0;

  Impl() { pl_parser_init(&parser, body.data(), body.size()); }

  std::string who() const {
    const std::string kind = port.empty() ? "device" : "serial device";
    const std::string on = port.empty() ? std::string() : " on " + port;
    return described ? kind + " '" + desc.name + "'" + on
                     : (port.empty() ? std::string("the serial device") : kind + on);
  }

  // ---- sending ----

  void send(Request r, double now) {
    flight = InFlight();
    flight.active = true;
    if (r.type == PL_RUN_BATCH && abandoned.valid && abandoned.key == r.key) {
      // The batch given up on last time: the same frame, so a device that ran it replays.
      flight.frame = abandoned.frame;
      flight.seq = abandoned.seq;
      ++stats.resumed;
    } else {
      flight.seq = ++seq;
      flight.frame.resize(PL_WIRE_SIZE(r.payload.size() + PL_FRAME_OVERHEAD));
      pl_writer w;
      pl_writer_begin(&w, flight.frame.data(), flight.frame.size(), r.type, flight.seq);
      pl_put_bytes(&w, reinterpret_cast<const uint8_t*>(r.payload.data()), r.payload.size());
      const size_t n = pl_writer_end(&w);
      if (n == 0) throw std::logic_error("DeviceLink: request frame overflow");
      flight.frame.resize(n);
    }
    abandoned.valid = false;
    // 10 bits a byte (8N1) for the request and the largest reply, a quarter more for gaps
    // between bytes and USB adapters' latency.
    const size_t reply_payload =
        r.type == PL_HELLO      ? 1024
        : r.type == PL_RUN_BATCH ? 3 + size_t(desc.output_size) * size_t(r.count) * pl_sample_size(format)
                                 : r.payload.size();
    flight.wait_s = opt.timeout_s +
                    1.25 * 10.0 * double(flight.frame.size() + PL_WIRE_SIZE(reply_payload + PL_FRAME_OVERHEAD)) /
                        double(opt.baud);
    flight.req = std::move(r);
    ++stats.requests;
    transmit(now);
  }

  void transmit(double now) {
    ++flight.attempts;
    flight.deadline = now + flight.wait_s;
    output.insert(output.end(), flight.frame.begin(), flight.frame.end());
    stats.bytes_sent += (long long)flight.frame.size();
  }

  // Starts the next request when none is in flight: a handshake first if there is no session.
  void pump(double now) {
    last_now = now;
    if (flight.active || state == State::Closed || state == State::Refused) return;
    if (state == State::Handshaking) {
      abandoned.valid = false;  // HELLO empties the device's replay cache
      Request hello;
      hello.type = PL_HELLO;
      hello.payload = std::string{char(PL_VERSION), char(PL_VERSION)};  // versions spoken: 1..1
      send(std::move(hello), now);
      return;
    }
    if (queue.empty()) return;
    Request next = std::move(queue.front());
    queue.pop_front();
    send(std::move(next), now);
  }

  void requeue_front() {
    if (flight.active && flight.req.type != PL_HELLO) queue.push_front(flight.req);
    flight = InFlight();
  }

  // ---- replies ----

  void keep(Reply r) {
    reply_bytes += reply_size(r);
    replies.push_back(std::move(r));
    while (replies.size() > 1 &&
           (replies.size() > opt.max_replies || reply_bytes > opt.max_reply_bytes)) {
      reply_bytes -= reply_size(replies.front());
      replies.pop_front();
      if (recall_next > 0) --recall_next;
    }
  }

  // The request in flight is answered (or refused): its reply is kept, the line is free.
  void settle(Reply r) {
    r.key = flight.req.key;
    r.ticket = flight.req.ticket;
    keep(std::move(r));
    flight = InFlight();
  }

  void settle_error(const std::string& what) {
    Reply r;
    r.error = what;
    last_error = what;
    settle(std::move(r));
  }

  void refuse(const std::string& why) {
    state = State::Refused;
    last_error = why;
    flight = InFlight();
  }

  void on_describe(const pl_frame& f) {
    DescribeReply rep = decode_describe(f.payload, f.len);
    if (rep.status != PL_OK) {
      refuse(rep.status == PL_ERR_VERSION
                 ? who() + ": speaks protocol version " + std::to_string(rep.desc.version) +
                       ", this host version " + std::to_string(PL_VERSION)
                 : who() + ": sent a malformed description");
      return;
    }
    LinkDescription nd;
    static_cast<DeviceDescription&>(nd) = rep.desc;
    if (described) {
      // The training state (parameters, twin) belongs to the device met first.
      if (!same_device(desc, nd)) {
        refuse(who() + ": a different device answered ('" + nd.name + "', " +
               std::to_string(nd.input_size) + " -> " + std::to_string(nd.output_size) + ", " +
               std::to_string(nd.param_size) + " parameters) where '" + desc.name +
               "' was: disconnect, then connect again to use it");
        return;
      }
      if (nd.boot_id != desc.boot_id) ++stats.device_restarts;
    }
    const uint8_t fmt = uint8_t(choose_format(opt.format, rep.raw.formats));
    if (!fmt) {
      std::string offered;
      for (SampleFormat s : nd.formats)
        offered += std::string(offered.empty() ? "" : ", ") + sample_format_name(s);
      refuse(who() + ": does not offer sample format " + sample_format_name(opt.format) +
             " (offers " + offered + ")");
      return;
    }
    runs = std::move(rep.runs);
    raw = rep.raw;
    raw.runs = runs.data();
    const int limit = pl_batch_limit(&raw, fmt);
    if (limit < 1) {
      refuse(who() + ": cannot take one sample within its frame limit of " +
             std::to_string(nd.max_frame) + " bytes");
      return;
    }
    if (described && fmt != format) forget();  // requests in the old format mean nothing now
    nd.batch_limit = limit;
    nd.sample_format = SampleFormat(fmt);
    nd.format = sample_format_name(SampleFormat(fmt));
    desc = nd;
    described = true;
    format = fmt;
    state = State::Ready;
    last_error.clear();
    flight = InFlight();
    ++stats.handshakes;
  }

  void on_result(const pl_frame& f) {
    Reply rep;
    pl_reader r;
    pl_reader_init(&r, f.payload, f.len);
    const uint8_t fmt = pl_get_u8(&r);
    const uint16_t count = pl_get_u16(&r);
    const int want = flight.req.count;
    if (fmt == format && count == want) {
      rep.y.resize(desc.output_size, count);
      const float lo = float(desc.output_min), hi = float(desc.output_max);
      for (int j = 0; j < count; ++j)
        for (int k = 0; k < desc.output_size; ++k) rep.y(k, j) = pl_get_sample(&r, format, lo, hi);
    }
    if (fmt != format || count != want || !pl_reader_done(&r)) {
      // Checked by CRC, yet not what was asked: a confused device. Shake hands again.
      settle_error(who() + ": sent a malformed result (" + std::to_string(count) + " samples for " +
                   std::to_string(want) + ")");
      state = State::Handshaking;
      return;
    }
    const size_t s = pl_sample_size(format);
    stats.payload_sent += (long long)(size_t(desc.param_size + desc.input_size * want) * s);
    stats.payload_received += (long long)(size_t(desc.output_size * want) * s);
    settle(std::move(rep));
  }

  void on_error(const pl_frame& f) {
    pl_reader r;
    pl_reader_init(&r, f.payload, f.len);
    const uint8_t code = pl_get_u8(&r);
    pl_get_u8(&r);  // the request type it answers: ours
    const uint8_t n = pl_get_u8(&r);
    std::string text(n, '\0');
    if (n) pl_get_bytes(&r, reinterpret_cast<uint8_t*>(&text[0]), n);
    const std::string what = who() + ": the device refused the request: " + pl_error_name(code) +
                             (r.error || text.empty() ? std::string() : " (" + text + ")");
    if (flight.req.type == PL_HELLO) {
      refuse(what);
      return;
    }
    if ((code == PL_ERR_NO_SESSION || code == PL_ERR_BUSY) && !flight.req.again) {
      // A device that restarted on its own (no session): one fresh handshake, then the same
      // request again with a new sequence number; busy: ask once more.
      if (code == PL_ERR_NO_SESSION) state = State::Handshaking;
      flight.req.again = true;
      requeue_front();
      return;
    }
    if (code == PL_ERR_NO_SESSION) state = State::Handshaking;
    settle_error(what);
  }

  void on_frame(const pl_frame& f, double now) {
    if (!(f.type & 0x80)) return;  // an echo of a request: never ours
    const uint8_t expect = flight.req.type | 0x80;
    if (!flight.active || f.seq != flight.seq || (f.type != expect && f.type != PL_ERROR)) {
      ++stats.stale_replies;  // e.g. a late answer to a re-sent request
      return;
    }
    stalled = false;
    if (f.type == PL_ERROR) {
      on_error(f);
    } else if (f.type == PL_DESCRIBE) {
      on_describe(f);
    } else if (f.type == PL_RESULT) {
      on_result(f);
    } else {
      Reply rep;
      rep.bytes.assign(reinterpret_cast<const char*>(f.payload), f.len);
      settle(std::move(rep));
    }
    pump(now);
  }

  void forget() {
    replies.clear();
    reply_bytes = 0;
    queue.clear();
    recalling = false;
  }
};

DeviceLink::DeviceLink(const LinkOptions& options, const std::string& port)
    : impl_(std::make_unique<Impl>()) {
  if (options.baud <= 0 || options.retries < 0 || !(options.timeout_s > 0) ||
      !std::isfinite(options.timeout_s) || options.max_replies < 1)
    throw std::invalid_argument(
        "DeviceLink: need baud > 0, retries >= 0, finite timeout_s > 0, max_replies >= 1");
  impl_->opt = options;
  impl_->port = port;
}
DeviceLink::~DeviceLink() = default;

void DeviceLink::opened(double now) {
  Impl& m = *impl_;
  m.requeue_front();
  m.state = State::Handshaking;
  pl_parser_reset(&m.parser);
  m.pump(now);
}

void DeviceLink::closed(const std::string& why) {
  Impl& m = *impl_;
  if (m.state == State::Closed) return;
  if (m.state == State::Ready) ++m.stats.connection_losses;
  m.requeue_front();
  m.state = State::Closed;
  m.last_error = why;
  m.output.clear();
}

void DeviceLink::receive(const uint8_t* bytes, size_t n, double now) {
  Impl& m = *impl_;
  if (n == 0) return;
  m.stats.bytes_received += (long long)n + 1;  // and the delimiter that ended it
  const size_t len = pl_cobs_decode(bytes, n, m.body.data(), m.body.size());
  pl_frame f;
  if (len == 0 || !pl_frame_check(m.body.data(), len, &f)) {
    ++m.stats.bad_frames;
    return;
  }
  m.on_frame(f, now);
}

void DeviceLink::receive_bytes(const uint8_t* bytes, size_t n, double now) {
  Impl& m = *impl_;
  m.stats.bytes_received += (long long)n;
  for (size_t i = 0; i < n; ++i) {
    pl_frame f;
    const int r = pl_parser_push(&m.parser, bytes[i], &f);
    if (r < 0) ++m.stats.bad_frames;
    if (r == PL_RX_FRAME) m.on_frame(f, now);
  }
}

void DeviceLink::poll(double now) {
  Impl& m = *impl_;
  if (m.flight.active && now >= m.flight.deadline) {
    if (m.flight.attempts <= m.opt.retries) {
      ++m.stats.retries;
      m.transmit(now);  // the identical frame: the device replays rather than runs it again
    } else {
      // The session stays: a device that is merely slow still holds it, and replays its reply
      // when the request comes again as the same frame; one that restarted meanwhile answers
      // the next request NO_SESSION, and gets a handshake then.
      const std::string what = m.who() + ": no reply after " + std::to_string(m.opt.retries + 1) +
                               " tries of " + milliseconds(m.flight.wait_s) +
                               " each (the device is busy, slow or gone)";
      ++m.give_ups;
      m.stalled = true;
      m.last_error = what;
      if (m.flight.req.type == PL_RUN_BATCH) {
        m.abandoned.valid = true;
        m.abandoned.key = m.flight.req.key;
        m.abandoned.seq = m.flight.seq;
        m.abandoned.frame = m.flight.frame;
      }
      if (m.flight.req.type == PL_HELLO || m.flight.req.type == PL_RUN_BATCH)
        m.flight = Impl::InFlight();  // asked again when the caller repeats it
      else
        m.settle_error(what);  // PING and RESET: the caller hears of it
    }
  }
  m.pump(now);
}

std::vector<uint8_t> DeviceLink::take_output() {
  std::vector<uint8_t> out;
  out.swap(impl_->output);
  return out;
}

double DeviceLink::deadline() const {
  return impl_->flight.active ? impl_->flight.deadline : std::numeric_limits<double>::infinity();
}

DeviceLink::State DeviceLink::state() const { return impl_->state; }
bool DeviceLink::described() const { return impl_->described; }
const LinkDescription& DeviceLink::description() const { return impl_->desc; }
const LinkStats& DeviceLink::stats() const { return impl_->stats; }
const std::string& DeviceLink::last_error() const { return impl_->last_error; }
std::string DeviceLink::who() const { return impl_->who(); }
int DeviceLink::waiting() const { return int(impl_->queue.size()) + (impl_->flight.active ? 1 : 0); }
long long DeviceLink::give_ups() const { return impl_->give_ups; }
void DeviceLink::forget_replies() { impl_->forget(); }
void DeviceLink::cancel() { impl_->queue.clear(); }

std::string DeviceLink::state_text() const {
  switch (impl_->state) {
    case State::Closed: return "closed";
    case State::Handshaking: return "handshaking";
    case State::Ready: return "ready";
    case State::Refused: return "refused";
  }
  return "?";
}

DeviceLink::Batch DeviceLink::batch(const Mat& x, Eigen::Index c0, int n, const Vec& theta) const {
  const Impl& m = *impl_;
  const LinkDescription& d = m.desc;
  const size_t payload = 3 + size_t(d.param_size + d.input_size * n) * pl_sample_size(m.format);
  // Written as a frame (the writer's sample coding), then read back without its framing.
  std::vector<uint8_t> wire(PL_WIRE_SIZE(payload + PL_FRAME_OVERHEAD)), body(payload + PL_FRAME_OVERHEAD);
  pl_writer w;
  pl_writer_begin(&w, wire.data(), wire.size(), PL_RUN_BATCH, 0);
  pl_put_u8(&w, m.format);
  pl_put_u16(&w, uint16_t(n));
  for (int i = 0; i < d.param_size; ++i)
    pl_put_sample(&w, m.format, theta[i], float(d.param_min[i]), float(d.param_max[i]));
  const float lo = float(d.input_min), hi = float(d.input_max);
  for (int j = 0; j < n; ++j)
    for (int k = 0; k < d.input_size; ++k) pl_put_sample(&w, m.format, x(k, c0 + j), lo, hi);
  if (w.error)
    throw DeviceError(m.who() + ": a value cannot be sent as " + d.format + " (NaN or infinite)");
  const size_t len = pl_writer_end(&w);
  const size_t got = pl_cobs_decode(wire.data() + 1, len - 2, body.data(), body.size());
  if (got != payload + PL_FRAME_OVERHEAD) throw std::logic_error("DeviceLink: cannot read back a request");
  Batch b;
  b.payload.assign(reinterpret_cast<const char*>(body.data()) + PL_HEADER_SIZE, payload);
  b.key = key_of(PL_RUN_BATCH, b.payload);
  b.count = n;
  return b;
}

uint64_t DeviceLink::ask(const Batch& b, double now) {
  Impl& m = *impl_;
  if (m.flight.active && m.flight.req.key == b.key) return m.flight.req.ticket;
  for (const Impl::Request& q : m.queue)
    if (q.key == b.key) return q.ticket;
  Impl::Request r;
  r.type = PL_RUN_BATCH;
  r.payload = b.payload;
  r.key = b.key;
  r.count = b.count;
  r.ticket = ++m.tickets;
  m.queue.push_back(std::move(r));
  while (m.queue.size() > m.opt.max_queue) m.queue.pop_front();
  const uint64_t ticket = m.tickets;
  m.pump(now);
  return ticket;
}

uint64_t DeviceLink::ask(uint8_t type, const std::string& payload, double now) {
  Impl& m = *impl_;
  Impl::Request r;
  r.type = type;
  r.payload = payload;
  r.key = key_of(type, payload);
  r.ticket = ++m.tickets;
  m.queue.push_back(std::move(r));
  const uint64_t ticket = m.tickets;
  m.pump(now);
  return ticket;
}

const DeviceLink::Reply* DeviceLink::answer(const RequestKey& key) const {
  for (auto i = impl_->replies.rbegin(); i != impl_->replies.rend(); ++i)
    if (i->key == key) return &*i;
  return nullptr;
}

const DeviceLink::Reply* DeviceLink::answer(uint64_t ticket) const {
  for (auto i = impl_->replies.rbegin(); i != impl_->replies.rend(); ++i)
    if (i->ticket == ticket) return &*i;
  return nullptr;
}

void DeviceLink::drop(uint64_t ticket) {
  Impl& m = *impl_;
  for (size_t i = m.replies.size(); i-- > 0;)
    if (m.replies[i].ticket == ticket) {
      m.reply_bytes -= reply_size(m.replies[i]);
      m.replies.erase(m.replies.begin() + long(i));
      if (m.recall_next > i) --m.recall_next;
      return;
    }
}

void DeviceLink::repeat() {
  impl_->recalling = true;
  impl_->recall_started = false;
}

const DeviceLink::Reply* DeviceLink::recall(const RequestKey& key) {
  Impl& m = *impl_;
  // The batch given up on last time is where the repeated operation failed: it goes to the
  // device (as the same frame), and the recall ends.
  if (m.abandoned.valid && m.abandoned.key == key) m.recalling = false;
  if (!m.recalling) return nullptr;
  if (!m.recall_started) {
    m.recall_started = true;
    m.recall_next = m.replies.size();
    for (size_t i = m.replies.size(); i-- > 0;)
      if (m.replies[i].key == key) {
        m.recall_next = i;
        break;
      }
  }
  if (m.recall_next >= m.replies.size() || m.replies[m.recall_next].key != key ||
      !m.replies[m.recall_next].error.empty()) {
    m.recalling = false;
    return nullptr;
  }
  ++m.stats.recalled;
  return &m.replies[m.recall_next++];
}

void DeviceLink::run(const Mat& x, const Vec& theta, Mat& y) {
  Impl& m = *impl_;
  if (!m.described) throw DeviceError("no device connected");
  const LinkDescription& d = m.desc;
  if (m.state == State::Refused) throw DeviceError(m.last_error);
  if (x.rows() != d.input_size || theta.size() != d.param_size)
    throw DeviceError(m.who() + " takes " + std::to_string(d.input_size) + " inputs and " +
                      std::to_string(d.param_size) + " parameters, not " +
                      std::to_string(x.rows()) + " and " + std::to_string(theta.size()));
  y.resize(d.output_size, x.cols());
  const int limit = std::max(1, d.batch_limit);
  bool missing = false;
  for (Eigen::Index c0 = 0; c0 < x.cols(); c0 += limit) {
    const int n = int(std::min<Eigen::Index>(limit, x.cols() - c0));
    const Batch b = batch(x, c0, n, theta);
    if (const Reply* r = answer(b.key)) {
      if (!r->error.empty()) {
        const std::string what = r->error;
        drop(r->ticket);  // asked again later, it is sent again
        throw DeviceError(what);
      }
      y.middleCols(c0, n) = r->y;
      ++m.stats.cached_answers;
      continue;
    }
    missing = true;
    ask(b, m.last_now);  // the first request goes out at once if the line is free
  }
  if (!missing) return;
  switch (m.state) {
    case State::Ready:
      if (m.stalled) throw DevicePending(m.last_error, true);
      throw DevicePending("waiting for " + m.who(), false);
    case State::Handshaking:
      throw DevicePending(m.last_error.empty() ? "waiting for " + m.who() + " to answer the handshake"
                                               : m.last_error,
                          !m.last_error.empty());
    default:
      throw DevicePending(m.who() + " is not connected" +
                              (m.last_error.empty() ? std::string() : " (" + m.last_error + ")") +
                              ": training waits until it is back",
                          true);
  }
}

// ---- LinkedDevice -------------------------------------------------------------------------

LinkedDevice::LinkedDevice(std::shared_ptr<DeviceLink> link) : link_(std::move(link)) {
  if (!link_ || !link_->described())
    throw std::invalid_argument("LinkedDevice: the link has no device yet");
  desc_ = link_->description();
}

void LinkedDevice::run(const Mat& x, const Vec& theta, Mat& y) {
  try {
    link_->run(x, theta, y);
  } catch (const DeviceError&) {
    set_queries(queries() - x.cols());  // nothing was measured: the query is not spent yet
    throw;
  }
}

}  // namespace patlab

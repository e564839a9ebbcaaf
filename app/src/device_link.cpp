#include "patlab/app/device_link.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "patlab_protocol.h"

namespace patlab {

namespace {

std::string milliseconds(double s) { return std::to_string(int(std::lround(s * 1e3))) + " ms"; }

}  // namespace

struct DeviceLink::Impl {
  LinkOptions opt;
  State state = State::Closed;
  bool described = false;
  LinkDescription desc;
  pl_describe raw{};
  std::vector<pl_range_run> runs;
  uint8_t format = 0;
  uint16_t seq = 0;
  LinkStats stats;
  std::string last_error;
  std::vector<uint8_t> output;
  std::vector<uint8_t> body = std::vector<uint8_t>(PL_MAX_BODY);

  // A request is known by its payload (format, count, θ, x as sent): the same question
  // asked again by a retried step finds the answer that came for it.
  struct InFlight {
    bool active = false;
    uint8_t type = 0;
    std::string key;  // RUN_BATCH payload; empty for HELLO
    int count = 0;
    std::vector<uint8_t> frame;
    uint16_t seq = 0;
    double deadline = 0, wait_s = 0;
    int attempts = 0;
  } flight;
  std::deque<std::pair<std::string, int>> queue;  // payload, sample count
  struct Reply {
    Mat y;              // output_size x count
    std::string error;  // or the device's refusal
    uint64_t used = 0;
  };
  std::map<std::string, Reply> replies;
  size_t reply_bytes = 0;
  uint64_t clock = 0;
  double last_now = 0;  // the latest time the port's side gave

  std::string who() const { return described ? "device '" + desc.name + "'" : std::string("the serial device"); }

  // ---- sending ----

  void send_frame(uint8_t type, const std::string& payload, int count, double now) {
    flight = InFlight();
    flight.active = true;
    flight.type = type;
    flight.key = payload;
    flight.count = count;
    flight.seq = ++seq;
    flight.frame.resize(PL_WIRE_SIZE(payload.size() + PL_FRAME_OVERHEAD));
    pl_writer w;
    pl_writer_begin(&w, flight.frame.data(), flight.frame.size(), type, flight.seq);
    pl_put_bytes(&w, reinterpret_cast<const uint8_t*>(payload.data()), payload.size());
    const size_t n = pl_writer_end(&w);
    if (n == 0) throw std::logic_error("DeviceLink: request frame overflow");
    flight.frame.resize(n);
    // 10 bits a byte (8N1) for the request and the largest reply, a quarter more for gaps.
    const size_t reply_payload =
        type == PL_HELLO ? 1024 : 3 + size_t(desc.output_size) * size_t(count) * pl_sample_size(format);
    flight.wait_s = opt.timeout_s + 1.25 * 10.0 *
                                        double(n + PL_WIRE_SIZE(reply_payload + PL_FRAME_OVERHEAD)) /
                                        double(opt.baud);
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
  void pump(double t) {
    last_now = t;
    if (flight.active || state == State::Closed || state == State::Refused) return;
    if (state == State::Handshaking) {
      const char hello[2] = {char(PL_VERSION), char(PL_VERSION)};  // versions spoken: 1..1
      send_frame(PL_HELLO, std::string(hello, 2), 0, t);
      return;
    }
    if (queue.empty()) return;
    const auto next = queue.front();
    queue.pop_front();
    send_frame(PL_RUN_BATCH, next.first, next.second, t);
  }

  void requeue_front() {
    if (flight.active && flight.type == PL_RUN_BATCH) queue.emplace_front(flight.key, flight.count);
    flight = InFlight();
  }

  // ---- replies ----

  void keep(const std::string& key, Reply r) {
    const size_t bytes = key.size() + size_t(r.y.size()) * sizeof(double);
    r.used = ++clock;
    auto it = replies.find(key);
    if (it != replies.end()) {
      reply_bytes -= it->first.size() + size_t(it->second.y.size()) * sizeof(double);
      replies.erase(it);
    }
    replies.emplace(key, std::move(r));
    reply_bytes += bytes;
    // Bounded: the least recently used go. A step's own replies were used a moment ago.
    while (replies.size() > opt.max_replies || (reply_bytes > opt.max_reply_bytes && replies.size() > 1)) {
      auto oldest = replies.begin();
      for (auto i = replies.begin(); i != replies.end(); ++i)
        if (i->second.used < oldest->second.used) oldest = i;
      reply_bytes -= oldest->first.size() + size_t(oldest->second.y.size()) * sizeof(double);
      replies.erase(oldest);
    }
  }

  void on_describe(const pl_frame& f) {
    DescribeReply rep = decode_describe(f.payload, f.len);
    if (rep.status != PL_OK) {
      refuse(rep.status == PL_ERR_VERSION
                 ? who() + " speaks protocol version " + std::to_string(rep.desc.version) +
                       ", this page version " + std::to_string(PL_VERSION)
                 : who() + " sent a malformed description");
      return;
    }
    LinkDescription nd;
    static_cast<DeviceDescription&>(nd) = rep.desc;
    if (described) {
      // The training state belongs to the device met first (as SerialDevice does).
      if (!same_device(desc, nd)) {
        refuse("a different device answered ('" + nd.name + "', " + std::to_string(nd.input_size) +
               " -> " + std::to_string(nd.output_size) + ", " + std::to_string(nd.param_size) +
               " parameters) where '" + desc.name + "' was: disconnect, then connect again to use it");
        return;
      }
      if (nd.boot_id != desc.boot_id) ++stats.device_restarts;
    }
    const uint8_t fmt = uint8_t(choose_format(SampleFormat(opt.format), rep.raw.formats));
    if (!fmt) {
      refuse(who() + " offers no sample format this page can use");
      return;
    }
    runs = std::move(rep.runs);
    raw = rep.raw;
    raw.runs = runs.data();
    const int limit = pl_batch_limit(&raw, fmt);
    if (limit < 1) {
      refuse(who() + " cannot take one sample within its frame limit of " + std::to_string(nd.max_frame) + " bytes");
      return;
    }
    if (described && fmt != format) forget();
    nd.batch_limit = limit;
    nd.format = sample_format_name(SampleFormat(fmt));
    desc = nd;
    described = true;
    format = fmt;
    state = State::Ready;
    last_error.clear();
    flight = InFlight();
    ++stats.handshakes;
  }

  void refuse(const std::string& why) {
    state = State::Refused;
    last_error = why;
    flight = InFlight();
  }

  void on_result(const pl_frame& f) {
    Reply rep;
    pl_reader r;
    pl_reader_init(&r, f.payload, f.len);
    const uint8_t fmt = pl_get_u8(&r);
    const uint16_t count = pl_get_u16(&r);
    if (fmt == format && count == flight.count) {
      rep.y.resize(desc.output_size, count);
      const float lo = float(desc.output_min), hi = float(desc.output_max);
      for (int j = 0; j < count; ++j)
        for (int k = 0; k < desc.output_size; ++k) rep.y(k, j) = pl_get_sample(&r, format, lo, hi);
    }
    if (fmt != format || count != flight.count || !pl_reader_done(&r)) {
      // Checked by CRC, yet not what was asked: a confused device. Shake hands again.
      last_error = who() + " sent a malformed result (" + std::to_string(count) + " samples for " +
                   std::to_string(flight.count) + ")";
      requeue_front();
      state = State::Handshaking;
      return;
    }
    keep(flight.key, std::move(rep));
    flight = InFlight();
  }

  void on_error(const pl_frame& f) {
    pl_reader r;
    pl_reader_init(&r, f.payload, f.len);
    const uint8_t code = pl_get_u8(&r);
    pl_get_u8(&r);
    const uint8_t n = pl_get_u8(&r);
    std::string text(n, '\0');
    if (n) pl_get_bytes(&r, reinterpret_cast<uint8_t*>(&text[0]), n);
    const std::string what = who() + " refused the request: " + pl_error_name(code) +
                             (r.error || text.empty() ? std::string() : " (" + text + ")");
    if (flight.type == PL_HELLO) {
      refuse(what);
      return;
    }
    if (code == PL_ERR_NO_SESSION || code == PL_ERR_BUSY) {
      // A restarted device (no session): shake hands, then ask again; busy: ask again.
      if (code == PL_ERR_NO_SESSION) state = State::Handshaking;
      requeue_front();
      return;
    }
    Reply rep;
    rep.error = what;
    keep(flight.key, std::move(rep));
    last_error = what;
    flight = InFlight();
  }

  void forget() {
    replies.clear();
    reply_bytes = 0;
    queue.clear();
  }
};

DeviceLink::DeviceLink(const LinkOptions& options) : impl_(std::make_unique<Impl>()) {
  if (options.baud <= 0 || options.retries < 0 || !(options.timeout_s > 0) || options.max_replies < 1)
    throw std::invalid_argument("DeviceLink: need baud > 0, retries >= 0, timeout_s > 0, max_replies >= 1");
  impl_->opt = options;
}
DeviceLink::~DeviceLink() = default;

void DeviceLink::opened(double now) {
  Impl& m = *impl_;
  m.requeue_front();
  m.state = State::Handshaking;
  m.pump(now);
}

void DeviceLink::closed(const std::string& why) {
  Impl& m = *impl_;
  if (m.state == State::Closed) return;
  if (m.state != State::Refused) ++m.stats.connection_losses;
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
  if (!(f.type & 0x80)) return;  // an echo of a request: never ours
  const uint8_t expect = m.flight.type | 0x80;
  if (!m.flight.active || f.seq != m.flight.seq || (f.type != expect && f.type != PL_ERROR)) {
    ++m.stats.stale_replies;
    return;
  }
  if (f.type == PL_ERROR)
    m.on_error(f);
  else if (f.type == PL_DESCRIBE)
    m.on_describe(f);
  else
    m.on_result(f);
  m.pump(now);
}

void DeviceLink::poll(double now) {
  Impl& m = *impl_;
  if (m.flight.active && now >= m.flight.deadline) {
    if (m.flight.attempts <= m.opt.retries) {
      ++m.stats.retries;
      m.transmit(now);  // the identical frame: the device replays rather than runs it again
    } else {
      m.last_error = m.who() + ": no reply after " + std::to_string(m.opt.retries + 1) + " tries of " +
                     milliseconds(m.flight.wait_s) + " each (busy, slow or gone); shaking hands again";
      m.requeue_front();
      m.state = State::Handshaking;  // the line is in an unknown state
    }
  }
  m.pump(now);
}

std::vector<uint8_t> DeviceLink::take_output() {
  std::vector<uint8_t> out;
  out.swap(impl_->output);
  return out;
}

DeviceLink::State DeviceLink::state() const { return impl_->state; }
bool DeviceLink::described() const { return impl_->described; }
const LinkDescription& DeviceLink::description() const { return impl_->desc; }
const LinkStats& DeviceLink::stats() const { return impl_->stats; }
const std::string& DeviceLink::last_error() const { return impl_->last_error; }
int DeviceLink::waiting() const { return int(impl_->queue.size()) + (impl_->flight.active ? 1 : 0); }
void DeviceLink::forget_replies() { impl_->forget(); }

std::string DeviceLink::state_text() const {
  switch (impl_->state) {
    case State::Closed: return "closed";
    case State::Handshaking: return "handshaking";
    case State::Ready: return "ready";
    case State::Refused: return "refused";
  }
  return "?";
}

void DeviceLink::run(const Mat& x, const Vec& theta, Mat& y) {
  Impl& m = *impl_;
  if (!m.described) throw DeviceError("no device connected");
  const LinkDescription& d = m.desc;
  if (m.state == State::Refused) throw DeviceError(m.last_error);
  if (x.rows() != d.input_size || theta.size() != d.param_size)
    throw DeviceError(m.who() + " takes " + std::to_string(d.input_size) + " inputs and " +
                      std::to_string(d.param_size) + " parameters, not " + std::to_string(x.rows()) +
                      " and " + std::to_string(theta.size()));
  y.resize(d.output_size, x.cols());
  const size_t s = pl_sample_size(m.format);
  const int limit = std::max(1, d.batch_limit);
  bool missing = false;
  std::vector<uint8_t> wire;
  for (Eigen::Index c0 = 0; c0 < x.cols(); c0 += limit) {
    const int n = int(std::min<Eigen::Index>(limit, x.cols() - c0));
    // The payload, as the device will get it: the request's identity.
    const size_t payload = 3 + size_t(d.param_size + d.input_size * n) * s;
    wire.resize(PL_WIRE_SIZE(payload + PL_FRAME_OVERHEAD));
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
      throw DeviceError(m.who() + ": a value cannot be sent as " + sample_format_name(SampleFormat(m.format)) + " (NaN or infinite)");
    const size_t len = pl_writer_end(&w);
    const size_t body = pl_cobs_decode(wire.data() + 1, len - 2, m.body.data(), m.body.size());
    const std::string key(reinterpret_cast<const char*>(m.body.data()) + PL_HEADER_SIZE,
                          body - PL_FRAME_OVERHEAD);
    auto it = m.replies.find(key);
    if (it != m.replies.end()) {
      if (!it->second.error.empty()) {
        const std::string what = it->second.error;
        m.reply_bytes -= it->first.size();
        m.replies.erase(it);  // asked again later, it is sent again
        throw DeviceError(what);
      }
      it->second.used = ++m.clock;
      y.middleCols(c0, n) = it->second.y;
      ++m.stats.cached_answers;
      continue;
    }
    missing = true;
    const bool asked = (m.flight.active && m.flight.key == key) ||
                       std::any_of(m.queue.begin(), m.queue.end(), [&](const auto& q) { return q.first == key; });
    if (!asked) {
      m.queue.emplace_back(key, n);
      while (m.queue.size() > m.opt.max_queue) m.queue.pop_front();
    }
  }
  if (!missing) return;
  m.pump(m.last_now);  // the first request goes out at once if the line is free
  switch (m.state) {
    case State::Ready:
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
  if (!link_ || !link_->described()) throw std::invalid_argument("LinkedDevice: the link has no device yet");
  desc_ = link_->description();
}
std::string LinkedDevice::name() const { return desc_.name; }
int LinkedDevice::input_size() const { return desc_.input_size; }
int LinkedDevice::param_size() const { return desc_.param_size; }
int LinkedDevice::output_size() const { return desc_.output_size; }
double LinkedDevice::input_min() const { return desc_.input_min; }
double LinkedDevice::input_max() const { return desc_.input_max; }
Vec LinkedDevice::param_min() const { return desc_.param_min; }
Vec LinkedDevice::param_max() const { return desc_.param_max; }

void LinkedDevice::run(const Mat& x, const Vec& theta, Mat& y) {
  try {
    link_->run(x, theta, y);
  } catch (const DeviceError&) {
    set_queries(queries() - x.cols());  // nothing was measured: the query is not spent yet
    throw;
  }
}

// ---- LoopbackDevice ------------------------------------------------------------------------

struct LoopbackDevice::Impl {
  std::shared_ptr<PhysicalSystem> device;
  pl_describe desc{};
  std::vector<pl_range_run> runs;
  std::vector<uint8_t> rx, tx;
  pl_device dev{};
  long long batches = 0;
  Mat x, y;
  Vec theta;

  static uint8_t run_batch(void* ctx, const pl_describe* d, uint8_t format, uint16_t count,
                           pl_reader* in, pl_writer* out, const char** text) {
    Impl& m = *static_cast<Impl*>(ctx);
    const int P = d->param_size, I = d->input_size, O = d->output_size;
    m.theta.resize(P);
    for (int i = 0; i < P; ++i) {
      float lo = 0, hi = 0;
      pl_param_range(d, uint16_t(i), &lo, &hi);
      m.theta[i] = pl_get_sample(in, format, lo, hi);
      if (!std::isfinite(m.theta[i]) || m.theta[i] < lo || m.theta[i] > hi) {
        *text = "a parameter is not finite or outside its range";
        return PL_ERR_BAD_VALUE;
      }
    }
    m.x.resize(I, count);
    for (int j = 0; j < count; ++j)
      for (int k = 0; k < I; ++k) {
        m.x(k, j) = pl_get_sample(in, format, d->input_min, d->input_max);
        if (!std::isfinite(m.x(k, j)) || m.x(k, j) < d->input_min || m.x(k, j) > d->input_max) {
          *text = "an input is not finite or outside its range";
          return PL_ERR_BAD_VALUE;
        }
      }
    if (!pl_reader_done(in)) return PL_ERR_MALFORMED;
    try {
      m.device->forward(m.x, m.theta, m.y);
    } catch (const std::exception&) {
      *text = "the emulated device failed";
      return PL_ERR_DEVICE;
    }
    ++m.batches;
    for (int j = 0; j < count; ++j)
      for (int k = 0; k < O; ++k) pl_put_sample(out, format, m.y(k, j), d->output_min, d->output_max);
    return PL_OK;
  }
};

LoopbackDevice::LoopbackDevice(std::shared_ptr<PhysicalSystem> device, const LoopbackOptions& o)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.device = std::move(device);
  const PhysicalSystem& d = *m.device;
  m.desc.version = PL_VERSION;
  m.desc.input_size = uint16_t(d.input_size());
  m.desc.param_size = uint16_t(d.param_size());
  m.desc.output_size = uint16_t(d.output_size());
  m.desc.max_batch = uint16_t(o.max_batch);
  m.desc.max_frame = uint16_t(o.max_frame);
  m.desc.boot_id = o.boot_id;
  m.desc.input_min = float(d.input_min());
  m.desc.input_max = float(d.input_max());
  m.desc.output_min = -INFINITY;
  m.desc.output_max = INFINITY;
  const Vec lo = d.param_min(), hi = d.param_max();
  for (int i = 0; i < lo.size(); ++i) {
    if (!m.runs.empty() && m.runs.back().lo == float(lo[i]) && m.runs.back().hi == float(hi[i]) &&
        m.runs.back().count < 65535)
      ++m.runs.back().count;
    else
      m.runs.push_back({1, float(lo[i]), float(hi[i])});
  }
  m.desc.runs = m.runs.data();
  m.desc.run_count = uint16_t(m.runs.size());
  m.desc.formats = 0;
  if (o.offer_float32) m.desc.formats |= PL_FORMAT_BIT(PL_FMT_F32);
  if (o.offer_float64) m.desc.formats |= PL_FORMAT_BIT(PL_FMT_F64);
  std::strncpy(m.desc.name, d.name().c_str(), PL_NAME_MAX);
  m.desc.name[PL_NAME_MAX] = '\0';
  m.rx.resize(size_t(o.max_frame));
  m.tx.resize(PL_WIRE_SIZE(size_t(o.max_frame)));
  pl_device_init(&m.dev, &m.desc, &Impl::run_batch, nullptr, &m, m.rx.data(), m.rx.size(),
                 m.tx.data(), m.tx.size());
}
LoopbackDevice::~LoopbackDevice() = default;

std::vector<uint8_t> LoopbackDevice::push(const uint8_t* bytes, size_t n) {
  Impl& m = *impl_;
  std::vector<uint8_t> out;
  for (size_t i = 0; i < n; ++i) {
    const size_t k = pl_device_push(&m.dev, bytes[i]);
    if (k) out.insert(out.end(), m.dev.tx, m.dev.tx + k);
  }
  return out;
}
long long LoopbackDevice::batches_run() const { return impl_->batches; }
long long LoopbackDevice::replays() const { return (long long)impl_->dev.replays; }

}  // namespace patlab

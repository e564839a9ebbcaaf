// A SerialDevice talking to the device emulator (DeviceServer) over a real pseudo-terminal:
// the handshake, every sample format, batch splitting, each fault of the fault model in
// docs/protocol.md, and PAT training across the pty. Native only (no ptys in the browser).
#ifndef __EMSCRIPTEN__

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "patlab/core/trainer.h"
#include "patlab/datasets/toy2d.h"
#include "patlab/devices/device_server.h"
#include "patlab/devices/registry.h"
#include "patlab/devices/serial_device.h"
#include "patlab/devices/serial_port.h"
#include "patlab/emulators/catalog.h"

namespace patlab {
namespace {

using Clock = std::chrono::steady_clock;

// Mismatched but noiseless: the device is a pure function, so a run that repeats a query
// still matches one that did not.
const KnobValues kExact = {{"eta", 0.2}, {"coupling_noise", 0.1}};
// Noisy: every query draws from the device's noise stream, so running a batch twice
// shows in every later answer.
const KnobValues kNoisy = {{"eta", 0.2}, {"readout_noise_rad", 0.02}};

SystemInstance oscillators(const KnobValues& knobs, uint64_t seed = 7) {
  return make_system("oscillators", Shape{8, 8}, knobs, seed);
}

LinkOptions options(SampleFormat format = SampleFormat::Float64) {
  LinkOptions o;
  o.format = format;
  o.baud = 1000000;  // a pty has no wire; a fast rate keeps the wire-time share of timeouts small
  // Short enough to keep the tests quick, long enough that a loaded machine (sanitizers, a
  // parallel build) does not time out a healthy reply and upset the exact retry counts.
  o.timeout_s = 0.25;
  o.retries = 3;
  return o;
}

Mat inputs(int n, uint64_t seed) {
  Rng rng(seed);
  return uniform_matrix(8, n, rng, -1.0, 1.0);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The same queries to the device over the pty and to an identical in-process device.
struct Pair {
  SystemInstance served, reference;
  std::unique_ptr<DeviceServer> server;
  std::unique_ptr<SerialDevice> serial;

  Pair(const KnobValues& knobs, SampleFormat format = SampleFormat::Float64,
       const ServerOptions& server_options = ServerOptions())
      : served(oscillators(knobs)), reference(oscillators(knobs)) {
    server = std::make_unique<DeviceServer>(served.device, server_options);
    serial = std::make_unique<SerialDevice>(server->path(), options(format));
  }

  // Runs query k on both; returns the largest difference.
  double query(int k, int batch = 16) {
    const Mat x = inputs(batch, uint64_t(100 + k));
    const Vec theta = served.theta0;
    Mat y, y_ref;
    serial->forward(x, theta, y);
    reference.device->forward(x, theta, y_ref);
    return (y - y_ref).cwiseAbs().maxCoeff();
  }
};

}  // namespace

TEST(SerialPty, HandshakeDescribesTheServedDevice) {
  Pair p(kExact);
  const SerialDevice& d = *p.serial;
  const EmulatedDevice& emu = *p.served.device;
  EXPECT_EQ(d.name(), "oscillators");
  EXPECT_EQ(d.input_size(), 8);
  EXPECT_EQ(d.output_size(), 8);
  EXPECT_EQ(d.param_size(), emu.param_size());
  EXPECT_EQ(d.param_min(), emu.param_min());
  EXPECT_EQ(d.param_max(), emu.param_max());
  EXPECT_EQ(d.input_min(), emu.input_min());  // -inf: pendula start at any angle
  EXPECT_EQ(d.format(), SampleFormat::Float64);
  const auto& f = d.description().formats;
  EXPECT_NE(std::find(f.begin(), f.end(), SampleFormat::Float32), f.end());
  EXPECT_EQ(std::find(f.begin(), f.end(), SampleFormat::Q16), f.end()) << "no finite input range";
  EXPECT_EQ(d.description().version, 1);
  EXPECT_GT(d.batch_limit(), 100);
  EXPECT_TRUE(d.connected());
  EXPECT_GT(p.serial->ping(64), 0.0);
  EXPECT_NO_THROW(p.serial->reset());
  // Asking for a format the device does not offer is refused by name.
  try {
    SerialDevice q16(p.server->path(), options(SampleFormat::Q16));
    ADD_FAILURE() << "q16 accepted";
  } catch (const DeviceError& e) {
    EXPECT_TRUE(contains(e.what(), "does not offer sample format q16")) << e.what();
  }
}

TEST(SerialPty, OutputsMatchInProcessEmulationInEveryFormat) {
  {
    Pair p(kNoisy, SampleFormat::Float64);  // lossless: bit for bit, noise stream included
    for (int k = 0; k < 5; ++k) EXPECT_EQ(p.query(k), 0.0) << k;
  }
  {
    Pair p(kNoisy, SampleFormat::Float32);
    for (int k = 0; k < 5; ++k) EXPECT_LT(p.query(k), 1e-5) << k;
  }
  // q16 needs finite ranges: the crossbar's inputs and weights live in [-1, 1].
  SystemInstance served = make_system("crossbar", Shape{8, 8}, {}, 3);
  SystemInstance reference = make_system("crossbar", Shape{8, 8}, {}, 3);
  ServerOptions so;
  so.output_min = -8.0;
  so.output_max = 8.0;
  DeviceServer server(served.device, so);
  SerialDevice q16(server.path(), options(SampleFormat::Q16));
  Mat x = inputs(32, 5), y, y_ref;
  q16.forward(x, served.theta0, y);
  reference.device->forward(x, served.theta0, y_ref);
  EXPECT_GT(y_ref.cwiseAbs().maxCoeff(), 0.1);
  // Inputs and weights quantised to 2/65535, outputs to 16/65535: a few of those steps.
  EXPECT_LT((y - y_ref).cwiseAbs().maxCoeff(), 2e-3);
  EXPECT_GT((y - y_ref).cwiseAbs().maxCoeff(), 0.0) << "q16 cannot be lossless here";
}

TEST(SerialPty, SplitsBatchesAboveTheDeviceLimit) {
  ServerOptions so;
  so.max_batch = 5;
  Pair p(kNoisy, SampleFormat::Float64, so);
  EXPECT_EQ(p.serial->batch_limit(), 5);
  // The same samples, the same noise; only the rounding may differ, since the in-process
  // device integrates all 23 at once (two column chunks, other vector-loop tails and product
  // blockings than batches of 5).
  EXPECT_LT(p.query(0, 23), 1e-12);
  EXPECT_EQ(p.server->stats().batches_run, 5);  // 5 + 5 + 5 + 5 + 3
  EXPECT_EQ(p.serial->queries(), 23);
}

namespace {

// A fault of this kind, after that many requests, lasting that long (delay, disconnect).
Fault fault(Fault::Kind kind, int after = 0, double seconds = 0.0) {
  Fault f;
  f.kind = kind;
  f.after = after;
  f.seconds = seconds;
  return f;
}

// One fault before the second of three queries; every answer must equal the in-process
// device's, which ran each batch exactly once.
void expect_survives(const Fault& fault, Pair& p) {
  EXPECT_EQ(p.query(0), 0.0);
  p.server->inject(fault);
  EXPECT_EQ(p.query(1), 0.0) << fault_name(fault.kind);
  EXPECT_EQ(p.query(2), 0.0) << fault_name(fault.kind);
  EXPECT_EQ(p.server->pending_faults(), 0);
  EXPECT_EQ(p.server->stats().batches_run, 3) << "a batch ran twice or not at all";
}

}  // namespace

TEST(SerialPty, SurvivesGarbageBeforeAReply) {
  Pair p(kNoisy);
  Fault f = fault(Fault::Kind::Garbage);
  f.bytes = 300;
  expect_survives(f, p);
  const LinkStats s = p.serial->stats();
  EXPECT_GT(s.bad_frames, 0) << "the garbage reached the parser";
  EXPECT_EQ(s.retries, 0) << "resynchronised at the reply's own delimiter, no retry needed";
}

TEST(SerialPty, SurvivesADroppedRequest) {
  Pair p(kNoisy);
  expect_survives(fault(Fault::Kind::DropRequest), p);
  EXPECT_EQ(p.serial->stats().retries, 1);
  EXPECT_EQ(p.server->stats().replays, 0) << "the device never saw the first copy";
}

TEST(SerialPty, ADroppedReplyIsReplayedNotRunTwice) {
  Pair p(kNoisy);
  expect_survives(fault(Fault::Kind::DropReply), p);
  EXPECT_EQ(p.serial->stats().retries, 1);
  EXPECT_EQ(p.server->stats().replays, 1);
}

TEST(SerialPty, ACorruptedChecksumIsRefusedAndRetried) {
  Pair p(kNoisy);
  expect_survives(fault(Fault::Kind::CorruptChecksum), p);
  EXPECT_EQ(p.serial->stats().bad_frames, 1);
  EXPECT_EQ(p.serial->stats().retries, 1);
  EXPECT_EQ(p.server->stats().replays, 1);
}

TEST(SerialPty, ASlowReplyIsWaitedForAndItsLateCopiesIgnored) {
  Pair p(kNoisy);
  // Longer than the 0.25 s timeout, shorter than 4 tries of it.
  expect_survives(fault(Fault::Kind::Delay, 0, 0.6), p);
  const LinkStats s = p.serial->stats();
  EXPECT_GE(s.retries, 1);
  // The re-sent copies were answered from the cache after the slow reply, and those late
  // answers were recognised by their sequence number and dropped.
  EXPECT_GE(p.server->stats().replays, 1);
  EXPECT_GE(s.stale_replies, 1);
}

namespace {

// A reply later than the whole retry window (every try and re-send of it): the host gives up,
// and the caller repeats the operation, as the CLI does after a DeviceError.
Fault long_delay(int after = 0) {
  return fault(Fault::Kind::Delay, after, 1.6);  // the window: 4 tries of 0.25 s plus the wire time
}

// Calls `op` until it goes through; returns how many times it failed.
template <class F>
int until_it_works(F&& op) {
  for (int failures = 0;; ++failures) {
    try {
      op();
      return failures;
    } catch (const DeviceError&) {
      if (failures > 50) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

}  // namespace

TEST(SerialPty, ALateReplyToAnAbandonedRequestIsReplayedNotRunAgain) {
  Pair p(kNoisy);
  EXPECT_EQ(p.query(0), 0.0);
  p.server->inject(long_delay());
  const Mat x = inputs(16, 101);
  const Vec theta = p.served.theta0;
  Mat y, y_ref;
  EXPECT_GE(until_it_works([&] { p.serial->forward(x, theta, y); }), 1)
      << "the delay should outlast the retry window";
  p.reference.device->forward(x, theta, y_ref);
  EXPECT_EQ((y - y_ref).cwiseAbs().maxCoeff(), 0.0) << "the device ran the batch twice";
  EXPECT_EQ(p.query(2), 0.0) << "the noise stream moved on by a second run";
  EXPECT_EQ(p.server->stats().batches_run, 3);
  EXPECT_EQ(p.serial->queries(), p.reference.device->queries())
      << "an abandoned request is not a query answered";
  EXPECT_GE(p.serial->stats().resumed, 1);
}

TEST(SerialPty, ARepeatedOperationIsAnsweredFromTheHostsJournal) {
  // One forward of 23 samples is 5 requests; the third one's reply comes too late. Repeating
  // the forward must not run the first two again (the device keeps only its last reply).
  ServerOptions so;
  so.max_batch = 5;
  Pair p(kNoisy, SampleFormat::Float64, so);
  p.server->inject(long_delay(2));
  const Mat x = inputs(23, 7);
  const Vec theta = p.served.theta0;
  Mat y;
  const int failures = until_it_works([&] { p.serial->forward(x, theta, y); });
  EXPECT_GE(failures, 1);
  EXPECT_EQ(p.server->stats().batches_run, 5) << "a request of the repeated forward ran twice";
  // The in-process device, asked the same five batches once each.
  for (int c0 = 0; c0 < 23; c0 += 5) {
    const int n = std::min(5, 23 - c0);
    Mat yc;
    p.reference.device->forward(x.middleCols(c0, n), theta, yc);
    EXPECT_EQ((y.middleCols(c0, n) - yc).cwiseAbs().maxCoeff(), 0.0) << "chunk at " << c0;
  }
  EXPECT_EQ(p.serial->queries(), 23);
  EXPECT_EQ(p.serial->stats().recalled, 2 * failures) << "the first two, at every repetition";
  // A new forward of the same samples, after one that succeeded, is a new query: asked again,
  // not recalled.
  Mat y2;
  p.serial->forward(x, theta, y2);
  EXPECT_EQ(p.server->stats().batches_run, 10);
  EXPECT_GT((y2 - y).cwiseAbs().maxCoeff(), 0.0) << "a noisy device draws new noise";
}

TEST(SerialPty, AnotherDevicesFailureDoesNotMakeThisOneRunTwice) {
  // Two physical layers on two ports: the first answers, the second's reply comes too late;
  // the caller repeats the whole forward pass.
  Pair a(kNoisy), b(kNoisy);
  b.server->inject(long_delay());
  const Mat x = inputs(16, 3);
  Mat h, y;
  until_it_works([&] {
    a.serial->forward(x, a.served.theta0, h);
    b.serial->forward(x, b.served.theta0, y);
  });
  EXPECT_EQ(a.server->stats().batches_run, 1) << "the first device ran the batch twice";
  EXPECT_EQ(b.server->stats().batches_run, 1);
  Mat h_ref, y_ref;
  a.reference.device->forward(x, a.served.theta0, h_ref);
  b.reference.device->forward(x, b.served.theta0, y_ref);
  EXPECT_EQ((h - h_ref).cwiseAbs().maxCoeff(), 0.0);
  EXPECT_EQ((y - y_ref).cwiseAbs().maxCoeff(), 0.0);
  EXPECT_EQ(a.serial->queries(), 16);
  EXPECT_EQ(b.serial->queries(), 16);
  EXPECT_EQ(a.query(1), 0.0);
  EXPECT_EQ(b.query(1), 0.0);
}

TEST(SerialPty, GivesUpWithAClearErrorWhenNoReplyComes) {
  Pair p(kNoisy);
  for (int i = 0; i < 4; ++i) p.server->inject(fault(Fault::Kind::DropRequest));  // 1 + 3 retries
  const Clock::time_point t0 = Clock::now();
  try {
    p.query(0);
    ADD_FAILURE() << "no error";
  } catch (const DeviceError& e) {
    EXPECT_TRUE(contains(e.what(), "'oscillators'")) << e.what();
    EXPECT_TRUE(contains(e.what(), p.server->path())) << e.what();
    EXPECT_TRUE(contains(e.what(), "no reply after 4 tries")) << e.what();
  }
  EXPECT_LT(std::chrono::duration<double>(Clock::now() - t0).count(), 3.0);
  // The next query goes through. The session was kept (the device may just be slow, and a
  // restarted one would answer NO_SESSION), so no second handshake was needed.
  Mat y;
  p.serial->forward(inputs(4, 1), p.served.theta0, y);
  EXPECT_EQ(p.serial->stats().handshakes, 1);
  EXPECT_EQ(p.server->stats().batches_run, 1);
  EXPECT_EQ(p.serial->queries(), 4) << "the 16 samples given up on were never answered";
}

TEST(SerialPty, RefusedValuesBecomeDeviceErrors) {
  Pair p(kExact);
  Vec theta = p.served.theta0;
  theta[0] = std::nan("");
  Mat y;
  try {
    p.serial->forward(inputs(4, 1), theta, y);
    ADD_FAILURE() << "NaN accepted";
  } catch (const DeviceError& e) {
    EXPECT_TRUE(contains(e.what(), "refused")) << e.what();
    EXPECT_TRUE(contains(e.what(), "parameter")) << e.what();
  }
  theta[0] = 2.0;  // outside [-1, 1]: a real device must not be driven there
  EXPECT_THROW(p.serial->forward(inputs(4, 1), theta, y), DeviceError);
  EXPECT_EQ(p.server->stats().batches_run, 0);
  EXPECT_EQ(p.query(0), 0.0);
}

TEST(SerialPty, ADeviceThatVanishesIsReopenedWhenItComesBack) {
  Pair p(kExact);
  p.server->inject(fault(Fault::Kind::Disconnect, 0, 0.3));
  try {
    p.query(0);
    ADD_FAILURE() << "no error";
  } catch (const DeviceError& e) {
    EXPECT_TRUE(contains(e.what(), "connection lost")) << e.what();
  }
  EXPECT_FALSE(p.serial->connected());
  try {
    p.query(1);
    ADD_FAILURE() << "a vanished device answered";
  } catch (const DeviceError& e) {
    EXPECT_TRUE(contains(e.what(), "not available")) << e.what();
  }
  // Back after 0.3 s, as a restarted device on a new pty behind the same link.
  const Clock::time_point t0 = Clock::now();
  double diff = -1;
  while (diff < 0 && Clock::now() - t0 < std::chrono::seconds(3)) {
    try {
      diff = p.query(2);
    } catch (const DeviceError&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  EXPECT_EQ(diff, 0.0);
  EXPECT_TRUE(p.serial->connected());
  EXPECT_EQ(p.serial->stats().connection_losses, 1);
  EXPECT_EQ(p.serial->stats().device_restarts, 1);
  EXPECT_EQ(p.server->stats().connections, 2);
}

// The desktop lab's way onto a serial port: a transport pumped once a frame that never waits,
// under a link the registry hands out as a LinkedDevice (DevicePending until the reply is in).
TEST(SerialPty, APolledPortNeverWaitsAndItsDeviceAnswersOnALaterFrame) {
  SystemInstance served = oscillators(kNoisy), reference = oscillators(kNoisy);
  DeviceServer server(served.device);
  auto link = std::make_shared<DeviceLink>(options(), server.path());
  SerialPortTransport port(server.path(), link, options().baud);
  DeviceRegistry registry;
  registry.add_link(server.path(), link);  // a bare path is serial:<path>
  const Clock::time_point t0 = Clock::now();
  auto now = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  while (!link->ready() && now() < 3.0) {
    port.pump(now());
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_TRUE(link->ready()) << link->last_error() << port.error();
  auto device = registry.open_for_layer("serial:" + server.path(), reference.device, 0);
  ASSERT_NE(dynamic_cast<LinkedDevice*>(device.get()), nullptr);
  const Mat x = inputs(16, 1);
  Mat y, y_ref;
  int frames = 0;
  for (bool done = false; !done && now() < 6.0; ++frames) {
    port.pump(now());
    try {
      device->forward(x, served.theta0, y);
      done = true;
    } catch (const DevicePending&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  EXPECT_GE(frames, 2) << "the first frame only asks";
  reference.device->forward(x, served.theta0, y_ref);
  EXPECT_EQ((y - y_ref).cwiseAbs().maxCoeff(), 0.0);
  EXPECT_EQ(server.stats().batches_run, 1);
  EXPECT_EQ(device->queries(), 16);
}

namespace {

// A temporary folder, removed however the test ends.
struct TempDir {
  std::string path = (std::filesystem::temp_directory_path() / "patlab-test-XXXXXX").string();
  TempDir() {
    if (!::mkdtemp(&path[0])) path.clear();
  }
  ~TempDir() {
    if (!path.empty()) std::filesystem::remove_all(path);
  }
};

}  // namespace

TEST(SerialPty, ADifferentDeviceBehindTheSamePortIsRefused) {
  TempDir dir;
  ASSERT_FALSE(dir.path.empty());
  ServerOptions so;
  so.link_path = dir.path + "/tty";
  SystemInstance a = oscillators(kExact);
  auto server = std::make_unique<DeviceServer>(a.device, so);
  SerialDevice serial(so.link_path, options());
  Mat y;
  serial.forward(inputs(2, 1), a.theta0, y);
  server.reset();  // unplugged; a crossbar is plugged in its place
  SystemInstance b = make_system("crossbar", Shape{8, 8}, {}, 1);
  server = std::make_unique<DeviceServer>(b.device, so);
  bool refused = false;
  for (int i = 0; i < 3 && !refused; ++i) {  // the first may only notice the lost connection
    try {
      serial.forward(inputs(2, 1), a.theta0, y);
    } catch (const DeviceError& e) {
      refused = contains(e.what(), "a different device answered ('crossbar'");
    }
  }
  EXPECT_TRUE(refused);
}

TEST(SerialPty, TheLinkReplacesOnlyAStaleLinkToAPtyAndIsRemovedOnlyIfOurs) {
  namespace fs = std::filesystem;
  TempDir dir;
  ASSERT_FALSE(dir.path.empty());
  SystemInstance s = oscillators(kExact);
  ServerOptions so;
  auto serve_at = [&](const std::string& name) {
    so.link_path = dir.path + "/" + name;
    return std::make_unique<DeviceServer>(s.device, so);
  };
  // Taken: a regular file, a folder, a link elsewhere. Refused by path, and left as they are.
  { std::ofstream(dir.path + "/file") << "precious"; }
  fs::create_directory(dir.path + "/folder");
  fs::create_symlink(dir.path + "/file", dir.path + "/elsewhere");
  for (const char* name : {"file", "folder", "elsewhere"}) {
    try {
      serve_at(name);
      ADD_FAILURE() << name << " was replaced";
    } catch (const std::invalid_argument& e) {
      EXPECT_TRUE(contains(e.what(), dir.path + "/" + name)) << e.what();
      EXPECT_TRUE(contains(e.what(), "not replacing it")) << e.what();
    }
  }
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(dir.path + "/file")));
  EXPECT_TRUE(fs::is_directory(fs::symlink_status(dir.path + "/folder")));
  EXPECT_EQ(fs::read_symlink(dir.path + "/elsewhere"), dir.path + "/file");
  // A link to a pty in use (another server's) is refused too.
  auto live = serve_at("live");
  const fs::path live_target = fs::read_symlink(dir.path + "/live");
  EXPECT_TRUE(contains(link_refusal(dir.path + "/live"), "still in use"));
  EXPECT_THROW(serve_at("live"), std::invalid_argument);
  EXPECT_EQ(fs::read_symlink(dir.path + "/live"), live_target);
  // A link to a pty that is gone (left by a server that was killed) is taken over, and
  // removed when the server stops.
  fs::create_symlink("/dev/pts/987654321", dir.path + "/stale");
  EXPECT_EQ(link_refusal(dir.path + "/stale"), "");
  {
    auto server = serve_at("stale");
    EXPECT_NE(fs::read_symlink(dir.path + "/stale"), "/dev/pts/987654321");
    SerialDevice serial(dir.path + "/stale", options());
    EXPECT_EQ(serial.name(), "oscillators");
  }
  EXPECT_FALSE(fs::exists(fs::symlink_status(dir.path + "/stale")));
  // Our link replaced by someone else's file while we served: not ours, so not removed.
  {
    auto server = serve_at("mine");
    fs::remove(dir.path + "/mine");
    std::ofstream(dir.path + "/mine") << "theirs";
  }
  EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(dir.path + "/mine")));
}

TEST(SerialPty, FaultsOutsideTheirLimitsAreRefused) {
  SystemInstance s = oscillators(kExact);
  DeviceServer server(s.device);
  auto with = [](double seconds, int after = 0, int bytes = 48) {
    Fault f;
    f.kind = Fault::Kind::Delay;
    f.seconds = seconds;
    f.after = after;
    f.bytes = bytes;
    return f;
  };
  for (const Fault& f : {with(std::nan("")), with(INFINITY), with(-1.0), with(1e6), with(1.0, -1),
                         with(1.0, 0, -5)}) {
    EXPECT_FALSE(fault_problem(f).empty());
    EXPECT_THROW(server.inject(f), std::invalid_argument);
  }
  EXPECT_EQ(server.pending_faults(), 0);
  EXPECT_EQ(fault_problem(with(2.5, 3)), "");
  EXPECT_NO_THROW(server.inject(with(0.0)));
  ServerOptions bad;
  bad.baud = -1;
  EXPECT_THROW(DeviceServer(s.device, bad), std::invalid_argument);
}

namespace {

struct Lane {
  Network net;
  std::unique_ptr<Trainer> trainer;
};

// affine(2 -> 8) -> 8 pendula -> affine(8 -> 2), as in test_training.cpp.
void build(Lane& lane, std::shared_ptr<PhysicalSystem> device, const SystemInstance& s,
           const Dataset& train) {
  Rng rng(11);
  lane.net.add(std::make_unique<AffineLayer>(2, 8, rng));
  lane.net.add(std::make_unique<PhysicalLayer>(std::move(device), s.twin, s.theta0));
  lane.net.add(std::make_unique<AffineLayer>(8, 2, rng));
  TrainConfig cfg;
  cfg.method = Method::PAT;
  lane.trainer = std::make_unique<Trainer>(lane.net, train, cfg);
}

}  // namespace

TEST(SerialPty, PatTrainingSurvivesEveryFaultWithoutLosingOrRepeatingAnUpdate) {
  // A noisy device: a batch run twice, or run once too few, would show in every later answer.
  const Dataset train = make_moons(200, 0.08, 1), test = make_moons(200, 0.08, 2);
  SystemInstance local = oscillators(kNoisy), served = oscillators(kNoisy);
  Lane ref, pty;
  build(ref, local.device, local, train);
  DeviceServer server(served.device);
  build(pty, std::make_shared<SerialDevice>(server.path(), options()), served, train);

  // One fault of every kind, spread over the run (`after` counts from the previous one).
  server.inject(fault(Fault::Kind::Garbage, 5));
  server.inject(fault(Fault::Kind::DropRequest, 8));
  server.inject(fault(Fault::Kind::DropReply, 8));
  server.inject(fault(Fault::Kind::CorruptChecksum, 8));
  server.inject(fault(Fault::Kind::Delay, 8, 0.6));
  server.inject(fault(Fault::Kind::Disconnect, 8, 0.3));  // vanishes mid-epoch
  server.inject(fault(Fault::Kind::Delay, 8, 1.6));       // longer than every retry: given up

  const int steps = 100;
  for (int i = 0; i < steps; ++i) ref.trainer->step();
  int pauses = 0;
  while (pty.trainer->steps() < steps) {
    try {
      pty.trainer->step();
    } catch (const DeviceError& e) {
      // Training pauses: the step was rejected as a whole; the message says why and where.
      ++pauses;
      EXPECT_TRUE(contains(e.what(), "'oscillators' on " + server.path())) << e.what();
      ASSERT_LT(pauses, 200) << "never came back: " << e.what();
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  EXPECT_EQ(server.pending_faults(), 0);
  EXPECT_GE(pauses, 2) << "the disconnect and the long delay should have paused training";
  // Every update applied once: the very same parameters as training in-process.
  EXPECT_EQ(pty.net.get_params(), ref.net.get_params());
  EXPECT_EQ(pty.trainer->epoch(), ref.trainer->epoch());
  EXPECT_EQ(pty.net.device_queries(), ref.net.device_queries());

  // An evaluation in four batches whose third one's reply comes too late: repeated, it
  // measures exactly what the in-process evaluation measures.
  const Evaluation e_ref = ref.trainer->evaluate(test, Pass::Device, 50);
  server.inject(fault(Fault::Kind::Delay, 2, 1.6));
  Evaluation e_pty;
  int failures = 0;
  for (;;) {
    try {
      e_pty = pty.trainer->evaluate(test, Pass::Device, 50);
      break;
    } catch (const DeviceError&) {
      ASSERT_LT(++failures, 50);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  EXPECT_GE(failures, 1);
  EXPECT_EQ(e_pty.loss, e_ref.loss);
  EXPECT_EQ(e_pty.accuracy, e_ref.accuracy);
  EXPECT_EQ(pty.net.device_queries(), ref.net.device_queries());
  EXPECT_EQ(server.stats().batches_run, steps + 4) << "a batch ran twice or not at all";
}

TEST(SerialPty, PatTrainingOverThePtyReachesTheInProcessAccuracy) {
  const Dataset train = make_moons(400, 0.08, 1), test = make_moons(400, 0.08, 2);
  SystemInstance local = oscillators(kNoisy), served = oscillators(kNoisy);
  Lane ref, pty;
  build(ref, local.device, local, train);
  DeviceServer server(served.device);
  auto serial = std::make_shared<SerialDevice>(server.path(), options(SampleFormat::Float32));
  build(pty, serial, served, train);
  const double before = pty.trainer->evaluate(test, Pass::Device).accuracy;
  const int steps = 150;
  for (int i = 0; i < steps; ++i) {
    ref.trainer->step();
    pty.trainer->step();
  }
  const double acc_ref = ref.trainer->evaluate(test, Pass::Device).accuracy;
  const double acc_pty = pty.trainer->evaluate(test, Pass::Device).accuracy;
  EXPECT_LT(before, 0.85) << "the network must learn across the pty, not start out right";
  EXPECT_GT(acc_ref, 0.9);
  EXPECT_GT(acc_pty, 0.9);
  EXPECT_NEAR(acc_pty, acc_ref, 0.03);
  EXPECT_EQ(serial->stats().retries, 0);
  EXPECT_EQ(server.stats().batches_run, steps + 4);  // one per step, two per test-set pass
}

}  // namespace patlab

#endif  // __EMSCRIPTEN__

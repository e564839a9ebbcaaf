// The protocol host without a port (patlab/devices/link.h), as the browser's Web Serial port
// drives it: DeviceLink, with no I/O of its own, fed with frames from the C device code
// (pl_device_*, through LoopbackDevice); LinkedDevice's pending-and-retry answers; PAT through
// it; and the lab stepping its lanes in lockstep while a reply is on its way. Its noisy
// oscillators are the lab's (lab_knobs), so it builds with the app.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "patlab/core/layer.h"
#include "patlab/core/network.h"
#include "patlab/core/rng.h"
#include "patlab/core/trainer.h"
#include "patlab/datasets/toy2d.h"
#include "patlab/devices/link.h"
#include "patlab/devices/served_device.h"
#include "patlab/emulators/catalog.h"
#include "patlab_protocol.h"
#include "patlab/app/lab.h"

namespace patlab {
namespace {

SystemInstance noisy_oscillators(uint64_t seed) {
  return make_system("oscillators", Shape{}, lab_knobs("oscillators"), seed);
}

// Moves bytes both ways, as serial.js and a wire would: the link's output to the device, the
// device's reply split at the delimiters into frames for the link. Returns frames delivered.
struct Wire {
  DeviceLink& link;
  LoopbackDevice& device;
  double now = 0;
  bool drop_next_reply = false;
  bool garbage_before_reply = false;
  int frames = 0;

  void deliver(const std::vector<uint8_t>& bytes) {
    std::vector<uint8_t> frame;
    for (uint8_t b : bytes) {
      if (b == 0) {
        if (!frame.empty()) {
          link.receive(frame.data(), frame.size(), now);
          ++frames;
        }
        frame.clear();
      } else {
        frame.push_back(b);
      }
    }
  }
  void pump() {
    for (int guard = 0; guard < 100; ++guard) {
      const std::vector<uint8_t> out = link.take_output();
      if (out.empty()) return;
      std::vector<uint8_t> reply = device.push(out.data(), out.size());
      if (drop_next_reply && !reply.empty()) {
        drop_next_reply = false;
        continue;
      }
      if (garbage_before_reply && !reply.empty()) {
        garbage_before_reply = false;
        std::vector<uint8_t> junk = {0x00, 0x13, 0x37, 0xFF, 0x42, 0x07, 0x99, 0x00, 0x55, 0x66};
        reply.insert(reply.begin(), junk.begin(), junk.end());
      }
      deliver(reply);
    }
  }
};

// A link that has shaken hands with a loopback device over a test wire: where most tests start.
struct Connected {
  SystemInstance sys;
  LoopbackDevice device;
  std::shared_ptr<DeviceLink> link;
  Wire wire;
  explicit Connected(SystemInstance s, const LinkOptions& o = LinkOptions())
      : sys(std::move(s)), device(sys.device), link(std::make_shared<DeviceLink>(o)),
        wire{*link, device} {
    link->opened(0);
    wire.pump();
  }
};

LinkOptions with_retries(int retries, SampleFormat format = SampleFormat::Auto) {
  LinkOptions o;
  o.retries = retries;
  o.format = format;
  return o;
}

// Lets every try of the request in flight time out, its copies lost on the way, until the link
// gives up on it.
void time_out(DeviceLink& link) {
  const long long before = link.give_ups();
  for (double t = 10; link.give_ups() == before && t < 1000; t += 10) {
    link.take_output();
    link.poll(t);
  }
}

TEST(WebSerial, HandshakeDescribesTheDevice) {
  SystemInstance sys = noisy_oscillators(1);
  LoopbackDevice device(sys.device);
  DeviceLink link;
  Wire wire{link, device};
  EXPECT_EQ(link.state(), DeviceLink::State::Closed);
  link.opened(0);
  EXPECT_EQ(link.state(), DeviceLink::State::Handshaking);
  wire.pump();
  ASSERT_TRUE(link.ready()) << link.last_error();
  const LinkDescription& d = link.description();
  EXPECT_EQ(d.name, "oscillators");
  EXPECT_EQ(d.input_size, sys.device->input_size());
  EXPECT_EQ(d.param_size, sys.device->param_size());
  EXPECT_EQ(d.output_size, sys.device->output_size());
  EXPECT_EQ(d.format, "f32");
  EXPECT_GE(d.batch_limit, 100);
  EXPECT_EQ(link.stats().handshakes, 1);
}

TEST(WebSerial, PendingUntilTheReplyArrivesThenTheSameAnswer) {
  SystemInstance twin_copy = noisy_oscillators(2);
  LinkOptions o;
  o.format = SampleFormat::Float64;  // lossless: the answers match in-process emulation bit for bit
  Connected c(noisy_oscillators(2), o);
  ASSERT_TRUE(c.link->ready());
  LinkedDevice remote(c.link);
  const Mat x = Mat::Random(remote.input_size(), 5) * 0.5;
  Mat y;
  EXPECT_THROW(remote.forward(x, c.sys.theta0, y), DevicePending);
  EXPECT_EQ(remote.queries(), 0) << "a pending query is not spent";
  EXPECT_EQ(c.link->waiting(), 1);
  // Asked again before the reply: no second request.
  EXPECT_THROW(remote.forward(x, c.sys.theta0, y), DevicePending);
  EXPECT_EQ(c.link->stats().requests, 2);  // HELLO and this one
  c.wire.pump();
  remote.forward(x, c.sys.theta0, y);
  Mat expected;
  twin_copy.device->forward(x, c.sys.theta0, expected);
  EXPECT_EQ(y, expected);
  EXPECT_EQ(remote.queries(), 5);
  EXPECT_EQ(c.device.batches_run(), 1);
  // The same question again is answered from the kept reply: no second run on the device.
  Mat again;
  remote.forward(x, c.sys.theta0, again);
  EXPECT_EQ(again, y);
  EXPECT_EQ(c.device.batches_run(), 1);
}

TEST(WebSerial, ADroppedReplyIsResentAsTheSameFrameAndReplayed) {
  Connected c(noisy_oscillators(3));
  LinkedDevice remote(c.link);
  const Mat x = Mat::Random(remote.input_size(), 3) * 0.5;
  Mat y;
  c.wire.drop_next_reply = true;
  EXPECT_THROW(remote.forward(x, c.sys.theta0, y), DevicePending);
  c.wire.pump();
  EXPECT_THROW(remote.forward(x, c.sys.theta0, y), DevicePending);
  c.link->poll(0.1);  // not yet timed out
  EXPECT_EQ(c.link->stats().retries, 0);
  c.link->poll(5.0);  // timed out: the identical frame again
  EXPECT_EQ(c.link->stats().retries, 1);
  c.wire.pump();
  remote.forward(x, c.sys.theta0, y);
  EXPECT_EQ(c.device.batches_run(), 1) << "the batch ran once";
  EXPECT_EQ(c.device.replays(), 1) << "the retry was answered from the device's cache";
}

TEST(WebSerial, GarbageOnTheLineIsSkipped) {
  Connected c(noisy_oscillators(4));
  LinkedDevice remote(c.link);
  const Mat x = Mat::Random(remote.input_size(), 3) * 0.5;
  Mat y;
  c.wire.garbage_before_reply = true;
  EXPECT_THROW(remote.forward(x, c.sys.theta0, y), DevicePending);
  c.wire.pump();
  remote.forward(x, c.sys.theta0, y);
  EXPECT_GE(c.link->stats().bad_frames, 1);
  EXPECT_EQ(c.link->stats().retries, 0);
}

TEST(WebSerial, NoReplyAtAllStallsThenTheSameFrameResumesWithoutANewHandshake) {
  Connected c(noisy_oscillators(5), with_retries(1));
  LinkedDevice remote(c.link);
  const Mat x = Mat::Random(remote.input_size(), 2) * 0.5;
  Mat y;
  EXPECT_THROW(remote.forward(x, c.sys.theta0, y), DevicePending);
  time_out(*c.link);  // the request and its retry lost: given up, the session kept
  EXPECT_EQ(c.link->state(), DeviceLink::State::Ready);
  EXPECT_EQ(c.link->give_ups(), 1);
  try {
    remote.forward(x, c.sys.theta0, y);
    FAIL() << "expected DevicePending";
  } catch (const DevicePending& e) {
    EXPECT_TRUE(e.stalled());
    EXPECT_NE(std::string(e.what()).find("no reply"), std::string::npos) << e.what();
  }
  c.wire.pump();  // the request again, as the very same frame
  remote.forward(x, c.sys.theta0, y);
  EXPECT_EQ(c.link->stats().handshakes, 1);
  EXPECT_EQ(c.link->stats().resumed, 1);
  EXPECT_EQ(c.device.batches_run(), 1);
}

// A reply later than every retry: the device ran the batch, the link gave up. Asked again, the
// request goes out as the same frame, so the device replays its reply: nothing runs twice, and
// the late copy is recognised as stale.
TEST(WebSerial, ALateReplyToAGivenUpRequestIsReplayedNotRunTwice) {
  SystemInstance reference = noisy_oscillators(10);
  Connected c(noisy_oscillators(10), with_retries(1, SampleFormat::Float64));
  LinkedDevice remote(c.link);
  const Mat x = Mat::Random(remote.input_size(), 4) * 0.5;
  Mat y;
  EXPECT_THROW(remote.forward(x, c.sys.theta0, y), DevicePending);
  const std::vector<uint8_t> request = c.link->take_output();
  const std::vector<uint8_t> late = c.device.push(request.data(), request.size());  // held back
  time_out(*c.link);
  EXPECT_THROW(remote.forward(x, c.sys.theta0, y), DevicePending);
  c.wire.pump();         // the same frame: replayed
  c.wire.deliver(late);  // and the late copy arrives after all
  remote.forward(x, c.sys.theta0, y);
  Mat expected;
  reference.device->forward(x, c.sys.theta0, expected);
  EXPECT_EQ(y, expected);
  EXPECT_EQ(c.device.batches_run(), 1) << "the batch ran twice";
  EXPECT_EQ(c.device.replays(), 1);
  EXPECT_EQ(c.link->stats().resumed, 1);
  EXPECT_GE(c.link->stats().stale_replies, 1);
}

TEST(WebSerial, ALostPortWaitsAndARestartedDeviceIsAcceptedAgain) {
  SystemInstance sys = noisy_oscillators(6);
  auto device = std::make_unique<LoopbackDevice>(sys.device);
  auto link = std::make_shared<DeviceLink>();
  Wire wire{*link, *device};
  link->opened(0);
  wire.pump();
  LinkedDevice remote(link);
  link->closed("the device was unplugged");
  const Mat x = Mat::Random(remote.input_size(), 2) * 0.5;
  Mat y;
  try {
    remote.forward(x, sys.theta0, y);
    FAIL() << "expected DevicePending";
  } catch (const DevicePending& e) {
    EXPECT_TRUE(e.stalled());
    EXPECT_NE(std::string(e.what()).find("unplugged"), std::string::npos) << e.what();
  }
  // Back, restarted (a new boot id, no session).
  LoopbackOptions lo;
  lo.boot_id = 2;
  LoopbackDevice restarted(sys.device, lo);
  Wire wire2{*link, restarted};
  link->opened(1);
  wire2.pump();
  remote.forward(x, sys.theta0, y);
  EXPECT_EQ(link->stats().device_restarts, 1);
  EXPECT_EQ(link->stats().connection_losses, 1);
}

TEST(WebSerial, ADifferentDeviceIsRefused) {
  SystemInstance a = noisy_oscillators(7);
  SystemInstance b = make_system("crossbar", Shape{}, lab_knobs("crossbar"), 7);
  LoopbackDevice da(a.device), db(b.device);
  auto link = std::make_shared<DeviceLink>();
  Wire wa{*link, da}, wb{*link, db};
  link->opened(0);
  wa.pump();
  link->closed("lost");
  link->opened(1);
  wb.pump();
  EXPECT_EQ(link->state(), DeviceLink::State::Refused);
  EXPECT_NE(link->last_error().find("different device"), std::string::npos);
  LinkedDevice remote(link);
  Mat y;
  EXPECT_THROW(remote.forward(Mat::Zero(remote.input_size(), 1), a.theta0, y), DeviceError);
}

TEST(WebSerial, KeptRepliesAreBounded) {
  LinkOptions o;
  o.max_replies = 4;
  Connected c(noisy_oscillators(8), o);
  LinkedDevice remote(c.link);
  Mat y;
  for (int i = 0; i < 10; ++i) {
    const Mat x = Mat::Constant(remote.input_size(), 1, 0.05 * i);
    EXPECT_THROW(remote.forward(x, c.sys.theta0, y), DevicePending);
    c.wire.pump();
    remote.forward(x, c.sys.theta0, y);
  }
  // The first question's answer is gone: asking it again is a new request.
  EXPECT_THROW(remote.forward(Mat::Constant(remote.input_size(), 1, 0.0), c.sys.theta0, y), DevicePending);
}

// PAT over the link, retrying each rejected step after the wire moved, ends with exactly the
// parameters of the same training in-process (f64: lossless; the device runs every batch once,
// so its noise stream advances the same way).
TEST(WebSerial, PatThroughPendingStepsMatchesInProcessTraining) {
  const Dataset train = make_toy2d("circles", 200, 0.1, 1);
  auto build = [&](std::shared_ptr<PhysicalSystem> device, const SystemInstance& sys, Network& net) {
    Rng rng(1);
    net.add(std::make_unique<AffineLayer>(2, device->input_size(), rng));
    net.add(std::make_unique<PhysicalLayer>(device, sys.twin, sys.theta0));
    net.add(std::make_unique<PhysicalLayer>(device, sys.twin, sys.theta0));
    net.add(std::make_unique<AffineLayer>(device->output_size(), 2, rng));
  };
  SystemInstance local = noisy_oscillators(9), served = noisy_oscillators(9);
  LoopbackDevice device(served.device);
  LinkOptions o;
  o.format = SampleFormat::Float64;
  auto link = std::make_shared<DeviceLink>(o);
  Wire wire{*link, device};
  link->opened(0);
  wire.pump();
  Network a, b;
  build(local.device, local, a);
  build(std::make_shared<LinkedDevice>(link), served, b);
  TrainConfig cfg;
  cfg.method = Method::PAT;
  cfg.measure_alignment = false;
  Trainer ta(a, train, cfg), tb(b, train, cfg);
  int pending = 0;
  for (int i = 0; i < 40; ++i) {
    ta.step();
    for (;;) {
      try {
        tb.step();
        break;
      } catch (const DevicePending&) {
        ++pending;
        wire.pump();
      }
    }
  }
  EXPECT_EQ(tb.steps(), 40);
  EXPECT_EQ(pending, 80) << "one round trip per physical layer per step";
  EXPECT_EQ(device.batches_run(), 80);
  EXPECT_EQ(a.get_params(), b.get_params());
}

// The lab with a device hook: PAT and in-silico on the linked device (in-silico trains on its
// twin, but is measured on the device), the lanes in lockstep while replies come a frame later;
// measurements and maps wait for their replies.
TEST(WebSerial, TheLabTrainsItsLanesOnALinkedDeviceInLockstep) {
  Connected c(make_system("oscillators", Shape{}, lab_knobs("oscillators"), 1));
  ASSERT_TRUE(c.link->ready());
  Lab lab;
  EXPECT_FALSE(lab.any_lane_on_device());  // the knobs reach every lane
  Lab::DeviceHook hook;
  int asked = 0;
  hook.layers = [&](const LayerSpec& l, int, const SystemInstance& sys) -> std::shared_ptr<PhysicalSystem> {
    ++asked;
    EXPECT_EQ(l.system, "oscillators");
    return sys.device->name() == c.link->description().name ? std::make_shared<LinkedDevice>(c.link) : nullptr;
  };
  lab.set_device_hook(hook);
  EXPECT_EQ(asked, 4) << "two lanes of two physical layers";
  auto status = [&] { return nlohmann::json::parse(lab.status_json()); };
  EXPECT_TRUE(status()["lanes"][0]["on_device"]);
  EXPECT_TRUE(status()["lanes"][1]["on_device"]);
  EXPECT_EQ(status()["lanes"][1]["emulated_because"], "");
  EXPECT_TRUE(lab.any_lane_on_device());  // the knobs panel says they cannot reach it
  EXPECT_TRUE(lab.command("train"));
  for (int frame = 0; frame < 400 && lab.steps() < 60; ++frame) {
    lab.advance(50.0);
    EXPECT_LE(std::abs(lab.lane(0).trainer->steps() - lab.lane(1).trainer->steps()), 1);
    c.wire.pump();
  }
  const auto s = status();
  EXPECT_GE(lab.steps(), 60);
  EXPECT_TRUE(s["training"]) << s["error"];
  EXPECT_EQ(s["error"], "");
  EXPECT_GT(s["measured_at_step"].get<int>(), 0);
  EXPECT_GT(lab.lane(0).net.device_queries(), 60 * 32);
  // In-silico never asks the device while it trains, only when it is measured and mapped.
  const long long insilico = lab.lane(1).net.device_queries();
  EXPECT_GT(insilico, 0);
  EXPECT_LT(insilico, lab.lane(0).net.device_queries());
  // A device that vanishes: training waits (not paused) with a message, and resumes.
  c.link->closed("the device was unplugged");
  for (int frame = 0; frame < 5; ++frame) lab.advance(50.0);
  const long long at = lab.steps();
  EXPECT_TRUE(status()["training"]);
  EXPECT_NE(status()["error"].get<std::string>().find("unplugged"), std::string::npos) << status()["error"];
  c.link->opened(1);
  for (int frame = 0; frame < 200 && lab.steps() < at + 20; ++frame) {
    c.wire.pump();
    lab.advance(50.0);
  }
  EXPECT_GE(lab.steps(), at + 20);
  EXPECT_EQ(status()["error"], "");
  // Step while paused: finished on later frames, once the replies are there.
  lab.command("pause");
  const long long before = lab.steps();
  lab.command("step");
  for (int frame = 0; frame < 20; ++frame) {
    c.wire.pump();
    lab.advance(50.0);
  }
  EXPECT_EQ(lab.steps(), before + 1);
}

// An ideal lane cannot train on a real device (its gradients are the emulator's true physics):
// it stays on the emulator, says why, and is never offered the device; the others go.
TEST(WebSerial, AnIdealLaneStaysOnTheEmulatorAndSaysWhy) {
  Connected c(make_system("oscillators", Shape{}, lab_knobs("oscillators"), 1));
  ASSERT_TRUE(c.link->ready());
  Lab lab;
  ASSERT_TRUE(lab.command("methods:ideal,pat,spsa"));
  Lab::DeviceHook hook;
  int asked = 0;
  hook.layers = [&](const LayerSpec&, int, const SystemInstance&) -> std::shared_ptr<PhysicalSystem> {
    ++asked;
    return std::make_shared<LinkedDevice>(c.link);
  };
  lab.set_device_hook(hook);
  EXPECT_EQ(asked, 4) << "PAT's and SPSA's two layers each";
  const auto s = nlohmann::json::parse(lab.status_json());
  EXPECT_FALSE(s["lanes"][0]["on_device"]);
  EXPECT_NE(s["lanes"][0]["emulated_because"].get<std::string>().find("true physics"), std::string::npos)
      << s["lanes"][0]["emulated_because"];
  EXPECT_TRUE(s["lanes"][1]["on_device"]);
  EXPECT_TRUE(s["lanes"][2]["on_device"]);
  EXPECT_EQ(s["lanes"][2]["emulated_because"], "");
  // Without a hook nobody is told anything.
  Lab plain;
  ASSERT_TRUE(plain.command("methods:ideal"));
  EXPECT_EQ(nlohmann::json::parse(plain.status_json())["lanes"][0]["emulated_because"], "");
}

}  // namespace
}  // namespace patlab

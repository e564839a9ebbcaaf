// patlab/core/errors.h: how a training step can fail, and who is to blame. Callers react
// differently to each, so each is its own type:
//
//   DeviceError    the device answered with something unusable (NaN, Inf, wrong shape) or could
//                  not answer. Not the training's fault: waiting and trying the step again is
//                  reasonable (the command line does, for --device-wait).
//   TrainingError  the training itself went wrong: a non-finite loss, gradient, learning rate,
//                  parameter or optimiser state (a learning rate or schedule that diverges, an
//                  optimiser setting out of its range). Trying again gives the same result, so
//                  nobody retries it; the step is rejected and nothing it computed is kept.
//   Interrupted    the caller asked the step to stop (Ctrl-C, SIGTERM) through the Interrupt
//                  it handed in; the step is rolled back completely, devices included.
#pragma once

#include <functional>
#include <stdexcept>
#include <string>

namespace patlab {

class DeviceError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class TrainingError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Interrupted : public std::runtime_error {
 public:
  Interrupted() : std::runtime_error("interrupted") {}
};

// Asked now and then during long work (zeroth-order loops, twin refits); true means stop
// now. It must be cheap and thread-safe to call (e.g. read a signal flag). Empty: never stop.
using Interrupt = std::function<bool()>;

}  // namespace patlab

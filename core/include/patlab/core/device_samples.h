// patlab/core/device_samples.h: (x, θ, y) measured on a device, for fitting twins.
#pragma once

#include "patlab/core/tensor.h"

namespace patlab {

struct DeviceSamples {
  Mat x;      // input_size x N
  Mat theta;  // param_size x N: the parameters each sample was measured with
  Mat y;      // output_size x N, measured

  int size() const { return int(x.cols()); }
  // Appends another set's columns, keeping at most `capacity` (the newest; 0 = unlimited).
  void append(const DeviceSamples& more, int capacity = 0);
};

}  // namespace patlab

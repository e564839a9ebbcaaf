// patlab/emulators/drive_segments.h: the schedule of the systems driven by a waveform of held
// segments (the mechanical plate, the analog circuit), one copy of its arithmetic.
//
// Data and parameter segments alternate, data first: x_0, θ_0, x_1, θ_1, ...; whichever list
// is longer continues alone at the end. Each segment is integrated in `substeps` steps; the
// readout takes `outputs` samples evenly spaced over the N = segments · substeps steps, the
// last at the end: sample k is read after ⌊(k + 1) N / outputs⌋ steps.
#pragma once

#include <algorithm>
#include <vector>

namespace patlab {

struct DriveSegments {
  // Segment s plays data x[j] if source[s] = j >= 0, else parameter θ[−source[s] − 1].
  std::vector<int> source;
  std::vector<int> sample_step;  // output k is read after this many steps

  int segments() const { return int(source.size()); }
};

// The schedule of `inputs` data and `params` parameter segments. The caller checks that
// outputs does not exceed the steps (with its own message).
inline DriveSegments interleave_segments(int inputs, int params, int outputs, int substeps) {
  DriveSegments d;
  for (int s = 0; s < std::max(inputs, params); ++s) {
    if (s < inputs) d.source.push_back(s);
    if (s < params) d.source.push_back(-s - 1);
  }
  const long long steps = (long long)d.segments() * substeps;
  for (int k = 0; k < outputs; ++k) d.sample_step.push_back(int((k + 1) * steps / outputs));
  return d;
}

}  // namespace patlab

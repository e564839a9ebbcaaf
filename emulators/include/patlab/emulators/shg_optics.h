// patlab/emulators/shg_optics.h: ultrafast second-harmonic generation (SHG), the optical
// physical layer of Wright et al., Nature 601, 549 (2022) (vowels 93 %, hybrid MNIST 97 %).
//
// A femtosecond pulse passes a pulse shaper, whose N = n_in + n_param spectral pixels set the
// real amplitudes a_j of the fundamental spectrum (a sign is a 0/π spectral phase, which the
// shaper also sets). A nonlinear crystal doubles the frequency: every pair of fundamental
// frequencies (ω_j, ω_k−j) adds up to the second-harmonic (SH) frequency ω_k, so the SH field is a
// discrete self-convolution of the spectrum weighted by the crystal's phase-matching envelope:
//
//   E_j = √p · (T a)_j · exp(i φ_j)                        shaped fundamental field
//   C_k = Σ_j h_jk E_j E_(k−j),   k = 0 … 2N−2              SH field
//   B_k = |C_k|² / N                                        SH power spectrum
//   y_m = Σ_(k in pixel m) B_k                              spectrometer pixel m
//
// Frequencies are in bins; u = 2j/(N−1) − 1 ∈ [−1, 1] is a pixel's offset from the band centre.
// The phase-matching amplitude is a Gaussian acceptance in the phase mismatch Δk, which to
// second order depends on the SH detuning s_k = (k − (N−1))/(N−1) (group-velocity mismatch)
// and on the difference frequency d_jk = (2j − k)/(N−1) (the fundamental's dispersion):
//
//   h_jk = exp(−(s_k² + d_jk²/4) / (2 w²)),   w the phase-matching bandwidth (in band widths).
//
// The spectrometer's n_out pixels tile the 2N−1 SH bins evenly (pixel m sums bins
// [⌊mK/n_out⌋, ⌊(m+1)K/n_out⌋), K = 2N−1), so n_out <= 2N−1.
//
// Layout: the n_in data pixels are spread evenly among the N shaper pixels (pixel j carries data
// when ⌊(j+1) n_in/N⌋ > ⌊j n_in/N⌋), the parameter pixels fill the rest, in order. Data and
// parameters are amplitudes in [−1, 1].
//
// Twin: nominal bandwidth w, no dispersion (φ = 0), no crosstalk (T = I), power p = 1.
// Device (the knobs): bandwidth off by a fraction (parametric), a quadratic spectral phase
// φ_j = β u_j² from uncompensated dispersion (structural: makes the field complex), shaper pixel
// crosstalk T = (1−2c) I + c (shift up + shift down) (structural), shot noise, detector noise,
// source-power fluctuation per query, quantization of the shaper's amplitudes (bits), and a
// source-power drift.
#pragma once

#include <complex>
#include <cstdint>
#include <memory>
#include <vector>

#include "patlab/core/rng.h"
#include "patlab/emulators/emulated_system.h"

namespace patlab {

struct ShgSpec {
  int n_in = 8;              // data pixels of the shaper (layer inputs)
  int n_param = 16;          // parameter pixels of the shaper
  int n_out = 8;             // spectrometer pixels (layer outputs), <= 2 (n_in + n_param) − 1
  double bandwidth = 0.5;    // nominal phase-matching bandwidth w, in units of the shaper band
};

// The constants of the physics; ShgPhysics{} with spec.bandwidth is the twin's nominal set.
struct ShgPhysics {
  double bandwidth = 0.5;     // w, in units of the shaper band
  double dispersion_rad = 0;  // β: spectral phase at the band edges, radians
  double crosstalk = 0;       // c: fraction of a pixel's amplitude leaking into each neighbour
  double power = 1;           // p: source power relative to nominal
};

// The equations above with their exact vector-Jacobian product. With nominal constants this
// is the twin; with the device's true constants, the device's noiseless physics (the oracle).
class ShgModel {
 public:
  ShgModel(const ShgSpec& spec, const ShgPhysics& physics);
  // The nominal model (the twin's): the spec's bandwidth, no dispersion or crosstalk, p = 1.
  explicit ShgModel(const ShgSpec& spec);

  int input_size() const { return spec_.n_in; }
  int param_size() const { return spec_.n_param; }
  // Initial parameter amplitudes: each uniform in [-0.5, 0.5].
  Vec initial_theta(Rng& rng) const;
  int output_size() const { return spec_.n_out; }
  int pixels() const { return n_; }
  const ShgSpec& spec() const { return spec_; }
  const ShgPhysics& physics() const { return phys_; }

  void forward(const Mat& x, const Vec& theta, Mat& y) const;
  // g_const, if given (2 entries), receives += Σ_b ∂<g_y, y>/∂(w, p) for calibration.
  void vjp(const Mat& x, const Vec& theta, const Mat& g_y, Mat* g_x, Vec* g_theta,
           Vec* g_const = nullptr) const;

  // Calibration (ModelTwin): [bandwidth w, power p] (dispersion and crosstalk, structural
  // mismatches, stay unknown to it); calibrated throws std::invalid_argument unless w, p > 0.
  Vec calibration() const;
  ShgModel calibrated(const Vec& c) const;

  // Shaper pixel that carries data entry i / parameter entry i.
  const std::vector<int>& data_pixels() const { return data_pix_; }
  const std::vector<int>& param_pixels() const { return param_pix_; }

 private:
  using cplx = std::complex<double>;
  // Writes the shaper amplitudes of sample b: a = layout(x[:, b], θ).
  void gather(const Mat& x, int b, const Vec& theta, Vec& a) const;
  // E = √p T a e^{iφ} and the SH field C of one sample.
  void fields(const Vec& a, std::vector<cplx>& E, std::vector<cplx>& C) const;

  ShgSpec spec_;
  ShgPhysics phys_;
  int n_ = 0;                    // shaper pixels N
  int k_ = 0;                    // SH bins 2N − 1
  Mat h_;                        // N x K phase-matching amplitudes h_jk
  Mat dh_dw_;                    // N x K, ∂h_jk/∂w
  std::vector<cplx> phase_;      // e^{iφ_j}
  std::vector<int> pixel_of_bin_;  // spectrometer pixel of each SH bin
  std::vector<int> data_pix_, param_pix_;
};

// ShgTwin(spec) is the nominal twin; the device's oracle is the same class around the true
// constants.
using ShgTwin = ModelTwin<ShgModel>;

class ShgDevice : public ModelDevice<ShgModel> {
 public:
  ShgDevice(const ShgSpec& spec, const KnobValues& knobs, uint64_t seed);

  const SystemInfo& info() const override;
  // Source power relative to nominal after the drift so far.
  double drifted_power() const;

 protected:
  void run(const Mat& x, const Vec& theta, Mat& y) override;
  void apply_knobs() override;
  void resume() override;

 private:
  ShgSpec spec_;
  double log_power_walk_ = 0.0;
  Mat xq_;  // scratch: quantized inputs
};

const SystemInfo& shg_entry_info();
// The catalog entry: id "shg"; Shape inputs = data pixels (default 8), outputs = spectrometer
// pixels (default 8); the parameter pixels are the "param_bins" setting.
CatalogEntry shg_entry();

}  // namespace patlab

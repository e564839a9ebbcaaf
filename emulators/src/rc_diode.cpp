#include "patlab/emulators/rc_diode.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "patlab/emulators/analog_circuit.h"  // diode_at_temperature: the SPICE law for I_s(T)

// The circuit's equations: one copy, shared with the firmware's simulated chip.
#include "pd_circuit.h"

namespace patlab {

namespace {

constexpr double kT0K = 300.0;  // PD_VT is kT/q at 300 K

// Rounds to the nearest of 2^bits levels over [0, 1] (the PWM's k / (2^bits − 1)).
inline double pwm_level(double d, int bits) {
  const double levels = std::ldexp(1.0, bits) - 1.0;
  return std::round(std::clamp(d, 0.0, 1.0) * levels) / levels;
}

}  // namespace

RcDiodeConstants RcDiodeConstants::nominal() {
  RcDiodeConstants k;
  for (int j = 0; j < PD_NODES; ++j) pd_node_conductances(j, k.g[j].data());
  k.g_ground = 0.0;
  k.vcc = PD_VCC;
  k.is = PD_IS;
  k.nvt = PD_N * PD_VT;
  k.out_scale = 1.0;
  return k;
}

// ---------------------------------------------------------------------------------------
// RcDiodeModel

RcDiodeModel::RcDiodeModel(int inputs, int outputs, const RcDiodeConstants& k)
    : inputs_(inputs), outputs_(outputs), k_(k) {
  if (inputs < 1 || inputs > 2 || outputs < 1 || outputs > PD_NODES)
    throw std::invalid_argument("rc_diode: the board has 1 or 2 inputs and 1 to 3 outputs");
  if (!(k.vcc > 0 && k.is > 0 && k.nvt > 0 && k.g_ground >= 0 && k.out_scale > 0))
    throw std::invalid_argument("rc_diode: VCC, I_s, nV_T and the output scale must be "
                                "positive, the leakage non-negative");
}

Vec RcDiodeModel::initial_theta(Rng& rng) const {
  Vec theta0(4);
  for (int j = 0; j < 4; ++j) theta0[j] = rng.uniform(0.1, 0.5);
  return theta0;
}

void RcDiodeModel::check(const Mat& x, const Vec& theta) const {
  if (x.rows() != inputs_ || theta.size() != 4)
    throw std::invalid_argument("rc_diode: input has " + std::to_string(x.rows()) +
                                " rows and theta " + std::to_string(theta.size()) +
                                " entries, expected " + std::to_string(inputs_) + " and 4");
}

void RcDiodeModel::duties(const Mat& x, const Vec& theta, Eigen::Index b, double d[6]) const {
  d[0] = x(0, b);
  d[1] = inputs_ > 1 ? x(1, b) : 0.0;
  for (int k = 0; k < 4; ++k) d[2 + k] = theta[k];
}

void RcDiodeModel::forward(const Mat& x, const Vec& theta, Mat& y) const {
  check(x, theta);
  y.resize(outputs_, x.cols());
  double d[6];
  for (Eigen::Index b = 0; b < x.cols(); ++b) {
    duties(x, theta, b, d);
    for (int j = 0; j < outputs_; ++j)
      y(j, b) = k_.out_scale * pd_solve_node(k_.g[j].data(), k_.g_ground, k_.vcc, k_.is, k_.nvt, d);
  }
}

// Implicit differentiation of F(V; d, c) = 0 (pd_circuit.h): dV/dp = (∂F/∂p) / G_tot with
// G_tot = −∂F/∂V = pd_node_conductance. ∂F/∂d_k = G_k VCC; for the constants, in logs:
// I_s ∂F/∂I_s = −I_s (e − 1), nV_T ∂F/∂nV_T = I_s e V / nV_T, VCC ∂F/∂VCC = VCC Σ_k G_k d_k
// (e = exp(V / nV_T)); and y = s V gives s ∂y/∂s = y.
void RcDiodeModel::backward(const Mat& x, const Vec& theta, const Mat& g_y, Mat* g_x,
                           Vec* g_theta, Vec* g_c) const {
  check(x, theta);
  if (g_y.rows() != outputs_ || g_y.cols() != x.cols())
    throw std::invalid_argument("rc_diode: g_y must be outputs x batch");
  if (g_theta && g_theta->size() != 4)
    throw std::invalid_argument("rc_diode: g_theta must have 4 entries");
  if (g_c && g_c->size() != 4)
    throw std::invalid_argument("rc_diode: the constants' gradient must have 4 entries");
  if (g_x) g_x->setZero(inputs_, x.cols());
  double d[6];
  for (Eigen::Index b = 0; b < x.cols(); ++b) {
    duties(x, theta, b, d);
    double gd[6] = {0, 0, 0, 0, 0, 0};
    for (int j = 0; j < outputs_; ++j) {
      const double gy = g_y(j, b);
      if (gy == 0.0) continue;
      const double* g = k_.g[j].data();
      const double v = pd_solve_node(g, k_.g_ground, k_.vcc, k_.is, k_.nvt, d);
      const double w = gy * k_.out_scale / pd_node_conductance(g, k_.g_ground, k_.is, k_.nvt, v);
      for (int k = 0; k < 6; ++k) gd[k] += w * g[k] * k_.vcc;
      if (g_c) {
        const double e = std::exp(v / k_.nvt);
        double gdot = 0.0;
        for (int k = 0; k < 6; ++k) gdot += g[k] * d[k];
        (*g_c)[0] -= w * k_.is * (e - 1.0);
        (*g_c)[1] += w * k_.is * e * v / k_.nvt;
        (*g_c)[2] += w * k_.vcc * gdot;
        (*g_c)[3] += gy * k_.out_scale * v;
      }
    }
    if (g_x)
      for (int i = 0; i < inputs_; ++i) (*g_x)(i, b) = gd[i];
    if (g_theta)
      for (int k = 0; k < 4; ++k) (*g_theta)[k] += gd[2 + k];
  }
}

void RcDiodeModel::vjp(const Mat& x, const Vec& theta, const Mat& g_y, Mat* g_x,
                      Vec* g_theta) const {
  backward(x, theta, g_y, g_x, g_theta, nullptr);
}

void RcDiodeModel::calibration_vjp(const Mat& x, const Vec& theta, const Mat& g_y,
                                   Vec& g_c) const {
  backward(x, theta, g_y, nullptr, nullptr, &g_c);
}

Vec RcDiodeModel::calibration() const {
  const RcDiodeConstants n = RcDiodeConstants::nominal();
  Vec c(4);
  c << std::log(k_.is / n.is), std::log(k_.nvt / n.nvt), std::log(k_.vcc / n.vcc),
      std::log(k_.out_scale / n.out_scale);
  return c;
}

RcDiodeModel RcDiodeModel::calibrated(const Vec& c) const {
  if (c.size() != 4)
    throw std::invalid_argument("rc_diode: 4 constants (ln I_s, nV_T, VCC, output scale ratios)");
  const RcDiodeConstants n = RcDiodeConstants::nominal();
  RcDiodeConstants k = k_;
  k.is = n.is * std::exp(c[0]);
  k.nvt = n.nvt * std::exp(c[1]);
  k.vcc = n.vcc * std::exp(c[2]);
  k.out_scale = n.out_scale * std::exp(c[3]);
  return RcDiodeModel(inputs_, outputs_, k);
}

// ---------------------------------------------------------------------------------------
// RcDiodeDevice

const SystemInfo& RcDiodeDevice::info() const { return rc_diode_entry_info(); }

RcDiodeDevice::RcDiodeDevice(int inputs, int outputs, const KnobValues& knobs, uint64_t seed)
    : ModelDevice({0.0, 1.0, 0.0, 1.0}, seed), inputs_(inputs), outputs_(outputs) {
  // State: [queries, noise RNG (6 words), drift RNG (6 words), bits of the temperature walk].
  keep_state({&noise_rng_, &drift_rng_}, {&temp_walk_k_});
  set_knobs(knobs);
}

double RcDiodeDevice::temperature_k() const {
  return kT0K + knobs_.at("temp_offset_k") + temp_walk_k_;
}

void RcDiodeDevice::apply_knobs() {
  // This board's resistors: each sits somewhere in the tolerance band, the same place for the
  // same seed (a property of the board, not of its use).
  Rng parts(seed_ ^ 0x7061727473ull);  // "parts"
  for (auto& row : tol_)
    for (double& t : row) t = parts.uniform(-1.0, 1.0);
  reseed_streams();
  temp_walk_k_ = 0.0;
  resume();
}

void RcDiodeDevice::resume() {
  RcDiodeConstants k = RcDiodeConstants::nominal();
  const double tol = knobs_.at("r_tolerance");
  for (int j = 0; j < PD_NODES; ++j)
    for (int c = 0; c < PD_CHANNELS; ++c)
      if (k.g[j][c] > 0) k.g[j][c] /= 1.0 + tol * tol_[j][c];
  // The diode at this board's temperature: V_T = kT/q, and I_s by the SPICE law (XTI = 3,
  // E_g = 1.11 eV) the circuit system uses, at the same ratio T / 300 K to its reference.
  const double n = PD_N * (1.0 + knobs_.at("n_rel"));
  const double t = temperature_k();
  double is = 0.0, nvt_unused = 0.0;
  diode_at_temperature(PD_IS * (1.0 + knobs_.at("is_rel")), n, kCircuitT0K * (t / kT0K), &is,
                       &nvt_unused);
  k.is = is;
  k.nvt = n * PD_VT * (t / kT0K);
  k.vcc = PD_VCC * (1.0 + knobs_.at("vcc_rel"));
  k.out_scale = 1.0 / (1.0 + knobs_.at("vref_rel"));
  // A leakage of adc_loading times the 10 kOhm input resistors' conductance.
  k.g_ground = knobs_.at("adc_loading") / 10000.0;
  set_truth(RcDiodeModel(inputs_, outputs_, k));
}

void RcDiodeDevice::run(const Mat& x, const Vec& theta, Mat& y) {
  if (x.rows() != inputs_ || theta.size() != 4)
    throw std::invalid_argument("rc_diode: wrong input or parameter size");
  // The PWM: a duty cycle cannot leave [0, 1], and with pwm_bits > 0 it has 2^bits levels.
  const int pwm_bits = int(knobs_.at("pwm_bits"));
  auto pwm = [pwm_bits](double d) {
    return pwm_bits > 0 ? pwm_level(d, pwm_bits) : std::clamp(d, 0.0, 1.0);
  };
  xq_ = x;
  thq_ = theta;
  for (Eigen::Index j = 0; j < xq_.size(); ++j) xq_.data()[j] = pwm(xq_.data()[j]);
  for (Eigen::Index j = 0; j < thq_.size(); ++j) thq_[j] = pwm(thq_[j]);
  truth_->forward(xq_, thq_, y);  // the settled node voltages, in the firmware's volts
  // The ADC, as the firmware reads it: the mean of 16 conversions, each of the node voltage
  // plus noise, truncated to a code of adc_bits against the (true) reference. y is already in
  // the firmware's volts (1.1 V full scale), so a code is floor(y / 1.1 V 2^bits).
  const int adc_bits = int(knobs_.at("adc_bits"));
  const double noise_v = knobs_.at("adc_noise_lsb") * kVrefV / 1024.0;
  if (adc_bits > 0 || noise_v > 0) {
    const double levels = std::ldexp(1.0, adc_bits);
    for (Eigen::Index j = 0; j < y.size(); ++j) {
      double sum = 0.0;
      for (int c = 0; c < kAdcAverage; ++c) {
        const double v = y.data()[j] + (noise_v > 0 ? noise_v * noise_rng_.normal() : 0.0);
        sum += adc_bits > 0
                   ? std::clamp(std::floor(v / kVrefV * levels), 0.0, levels - 1.0) * kVrefV / levels
                   : v;
      }
      y.data()[j] = sum / kAdcAverage;
    }
  }
  const double drift_k = knobs_.at("temp_drift_k");
  if (drift_k > 0) {
    // The board temperature takes a random walk: variance grows linearly with the queries.
    temp_walk_k_ += drift_k * std::sqrt(double(x.cols()) / 1000.0) * drift_rng_.normal();
    resume();
  }
}

// ---------------------------------------------------------------------------------------
// Catalog entry

const SystemInfo& rc_diode_entry_info() {
  static const SystemInfo info{
    kRcDiodeId,
    "PWM + RC + diode board (Arduino)",
    "The reference firmware's circuit, a physical layer a class can build for a few euros: "
    "an Arduino Uno drives six PWM pins through resistors into three capacitor nodes, each "
    "clamped to ground by a silicon diode, and reads the nodes with its ADC. Every node "
    "settles where the pins' mean currents balance the diode's: a weighted mean of the "
    "duty cycles while the diode is off, rising only logarithmically once it conducts "
    "(about 0.3 to 0.6 V). The two inputs feed all three nodes, three parameters set each "
    "node's operating point (and with it its gain) and the fourth biases all three. The "
    "twin is the circuit with nominal parts (firmware/sim/pd_circuit.h, the same model the "
    "simulated chip answers with); the real board has resistor tolerances, its own diode, "
    "supply and reference, 8-bit PWM and a noisy 10-bit ADC. (The capacitors only set "
    "how fast a node settles, which the firmware waits out.) Building the board, flashing "
    "it and training it: firmware/README.md.",
    "layer input x_i -> PWM duty cycle of D9 (x1) and D10 (x2), in [0, 1]; "
    "each feeds all three nodes",
    "4 duty cycles in [0, 1]: D5 (node A), D6 (node B), D3 (node C), D11 "
    "(a shared bias into all three nodes)",
    {2, 3},
    {
        {"adc_noise_lsb", "ADC noise", "LSB", "noise", 0.0, 4.0, 0.0,
         "std of Gaussian noise on each ADC conversion, in steps of the Uno's 10-bit ADC "
         "(1.07 mV); a reading averages 16 conversions"},
        {"pwm_bits", "PWM resolution", "bits", "noise", 0, 16, 0,
         "duty cycles are rounded to 2^bits - 1 steps (0 = ideal; the Uno has 8)", true},
        {"adc_bits", "ADC resolution", "bits", "noise", 0, 16, 0,
         "each conversion is truncated to 2^bits codes over [0, 1.1] V (0 = ideal; the Uno "
         "has 10)", true},
        {"r_tolerance", "resistor tolerance", "", "mismatch", 0.0, 0.1, 0.0,
         "each of the 12 resistors sits up to this fraction off nominal (fixed per board seed)"},
        {"is_rel", "diode saturation current", "", "mismatch", -0.5, 2.0, 0.0,
         "the diodes' saturation current is (1 + is_rel) times the SPICE model's"},
        {"n_rel", "diode ideality", "", "mismatch", -0.2, 0.2, 0.0,
         "the diodes' ideality factor n is (1 + n_rel) times the SPICE model's"},
        {"temp_offset_k", "board temperature", "K", "mismatch", -20.0, 20.0, 0.0,
         "the board runs this much warmer than the twin's 300 K (V_T and I_s(T): about -2 mV/K "
         "on a conducting node)"},
        {"vcc_rel", "supply voltage", "", "mismatch", -0.05, 0.05, 0.0,
         "the pins swing to (1 + vcc_rel) x 5 V (USB gives 4.75 to 5.25 V)"},
        {"vref_rel", "ADC reference", "", "mismatch", -0.1, 0.1, 0.0,
         "the internal reference is (1 + vref_rel) x 1.1 V, so every reading is 1 / (1 + "
         "vref_rel) times the node's voltage (chips range from 1.0 to 1.2 V)"},
        {"adc_loading", "node leakage", "", "structural", 0.0, 0.5, 0.0,
         "a leakage from every node to ground with this fraction of a 10 kOhm resistor's "
         "conductance; the twin has none"},
        {"temp_drift_k", "temperature drift", "K per sqrt(1000 queries)", "drift", 0.0, 5.0,
         0.0, "the board temperature wanders as a random walk with this std per 1000 queries"},
    },
    // The firmware waits 15 ms for the nodes to settle, then averages 16 conversions on each
    // of three channels at 125 kHz ADC clock (13 cycles + a discarded first one: ~1.8 ms per
    // node), plus the UART: about 20 ms per sample (firmware/README.md). An Uno with the
    // circuit draws ~50 mA at 5 V: ~0.25 W for 20 ms, ~5 mJ per query.
    {0.02, 0.005,
     "the reference firmware (firmware/README.md): 15 ms settling + 3 x 17 averaged "
     "ADC conversions, ~20 ms per sample; an Uno at ~0.25 W (~5 mJ per query)"},
  };
  return info;
}

CatalogEntry rc_diode_entry() {
  return system_entry(rc_diode_entry_info(), [](const Shape& shape, const KnobValues& k,
                                                uint64_t seed, const Shape&) {
    if (shape.inputs < 1 || shape.inputs > 2)
      throw std::invalid_argument("rc_diode: the board has 2 inputs (x1, x2; 1 leaves x2 off), "
                                  "not " + std::to_string(shape.inputs));
    if (shape.outputs < 1 || shape.outputs > PD_NODES)
      throw std::invalid_argument("rc_diode: the board reads 3 nodes (1 or 2: the first ones), "
                                  "not " + std::to_string(shape.outputs));
    return model_instance<RcDiodeDevice, RcDiodeTwin>(k, seed, shape.inputs, shape.outputs);
  });
}

}  // namespace patlab

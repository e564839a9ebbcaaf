/* pd_circuit.h: the DC model of the reference device's circuit (firmware/README.md), the one
 * copy of its equations. Plain C (C99 and C++), header-only. Used by the simulator harness (it
 * feeds the nominal circuit to the simulated ADC), the firmware test (it checks the chip's
 * answers against it) and patlab's emulated `rc_diode` system (emulators/src/rc_diode.cpp:
 * the same equations with the board's tolerances as its true physics, nominal as its twin).
 *
 * Node j (A0, A1, A2) is tied by resistors to the six PWM pins (channel order x1, x2, th1,
 * th2, th3, th4), to ground through a 470 nF capacitor and through a 1N4148 diode (anode at
 * the node). A pin at duty d is at VCC a fraction d of the time; the capacitor holds the node
 * nearly still over one PWM period, so the mean current through a resistor of conductance G
 * is G (d VCC - V), and the settled node voltage V solves Kirchhoff's current law:
 *
 *     F(V) = sum_k G_k (d_k VCC - V) - G_0 V - IS (exp(V / (N VT)) - 1) = 0
 *
 * (G_0: a conductance to ground, none on the board.) F falls strictly with V: one root, found
 * by bisection. Its derivative is -pd_node_conductance(), so by implicit differentiation
 * dV/dd_k = G_k VCC / pd_node_conductance(V), and likewise for the constants. */
#ifndef PATLAB_PD_CIRCUIT_H
#define PATLAB_PD_CIRCUIT_H

#include <math.h>

#define PD_CHANNELS 6
#define PD_NODES 3
#define PD_VCC 5.0
#define PD_IS 2.52e-9 /* 1N4148 saturation current, A (a common SPICE model) */
#define PD_N 1.752    /* its ideality factor */
#define PD_VT 0.025852 /* thermal voltage kT/q at 300 K, V */

/* Resistor from channel k to node j, ohms; 0: not connected. */
static const double pd_resistors[PD_NODES][PD_CHANNELS] = {
    /*   x1       x2       th1      th2      th3      th4 */
    {10000.0, 22000.0, 10000.0, 0.0, 0.0, 47000.0}, /* A0 */
    {22000.0, 10000.0, 0.0, 10000.0, 0.0, 47000.0}, /* A1 */
    {15000.0, 15000.0, 0.0, 0.0, 10000.0, 47000.0}, /* A2 */
};

/* Net current into a node at voltage v: F(v) above. g[k]: conductance from channel k, siemens
 * (0: not connected); g0: conductance to ground; is: diode saturation current, A; nvt: N VT,
 * V; d[k]: duty cycles. */
static inline double pd_node_current(const double g[PD_CHANNELS], double g0, double vcc,
                                     double is, double nvt, const double d[PD_CHANNELS],
                                     double v) {
  double i = -g0 * v - is * (exp(v / nvt) - 1.0);
  int k;
  for (k = 0; k < PD_CHANNELS; ++k) i += g[k] * (d[k] * vcc - v);
  return i;
}

/* The settled node voltage: the root of F, which lies between vcc min(0, d_k) (F >= 0 there)
 * and vcc max(1, d_k) (F <= 0): in [0, vcc] for duties in [0, 1]. Bisection to double
 * precision (the interval stops shrinking long before 200 halvings). */
static inline double pd_solve_node(const double g[PD_CHANNELS], double g0, double vcc, double is,
                                   double nvt, const double d[PD_CHANNELS]) {
  double lo = 0.0, hi = vcc;
  int it, k;
  for (k = 0; k < PD_CHANNELS; ++k) {
    if (d[k] * vcc < lo) lo = d[k] * vcc;
    if (d[k] * vcc > hi) hi = d[k] * vcc;
  }
  for (it = 0; it < 200; ++it) {
    const double v = 0.5 * (lo + hi);
    if (v <= lo || v >= hi) break;
    if (pd_node_current(g, g0, vcc, is, nvt, d, v) > 0.0)
      lo = v; /* current still flows into the node: the root lies above */
    else
      hi = v;
  }
  return 0.5 * (lo + hi);
}

/* -dF/dV at v: every conductance at the node plus the diode's small-signal conductance. */
static inline double pd_node_conductance(const double g[PD_CHANNELS], double g0, double is,
                                         double nvt, double v) {
  double s = g0 + is / nvt * exp(v / nvt);
  int k;
  for (k = 0; k < PD_CHANNELS; ++k) s += g[k];
  return s;
}

/* Conductances of node j's resistors as built (pd_resistors), siemens. */
static inline void pd_node_conductances(int j, double g[PD_CHANNELS]) {
  int k;
  for (k = 0; k < PD_CHANNELS; ++k)
    g[k] = pd_resistors[j][k] > 0.0 ? 1.0 / pd_resistors[j][k] : 0.0;
}

/* Settled voltage of node j of the nominal circuit, volts, for duty cycles d[k] in [0, 1]. */
static inline double pd_node_volts(int j, const double d[PD_CHANNELS]) {
  double g[PD_CHANNELS];
  pd_node_conductances(j, g);
  return pd_solve_node(g, 0.0, PD_VCC, PD_IS, PD_N * PD_VT, d);
}

#endif /* PATLAB_PD_CIRCUIT_H */

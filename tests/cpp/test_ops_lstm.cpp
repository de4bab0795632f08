// UnidirectionalSequenceLstm (issue 13): TFLM's integer LSTM step (lstm_eval.h: CalculateLstmGate,
// UpdateLstmCell, UpdateLstmHidden) on one-unit networks whose every intermediate value is worked out
// by hand beside the checks, from TFLM's formulas and its sigmoid_table_uint16 entries
// (t[0..4] = 32768, 33451, 34133, 34813, 35493, t[5] = 36169). MBQM(x, 2^30, s) is
// MultiplyByQuantizedMultiplier: floor((x + 1) / 2), then a rounding right shift by -s (s < 0), or
// the identity for s = 1. The byte-for-byte comparison with TFLM is the trained_lstm_int8 goldens.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <cstdint>

#include <tinynet/tinynet.hpp>

using namespace tinynet;
using i8 = std::int8_t;
using i16 = std::int16_t;

namespace lstm1 {
inline constexpr Quant in_q{0.05f, 10};
inline constexpr Quant hidden_q{1.0f / 128, -5};
inline constexpr QuantizedMultiplier identity{1 << 30, 1};
// One input feature, one unit; gates i, f, g, o.
inline constexpr i8 input_weights[4] = {2, 3, 4, 5};
inline constexpr i8 recurrent_weights[4] = {7, 7, 7, 7};
inline constexpr std::int32_t bias[4] = {100, 200, 300, 400};
// A cell state of scale 2^-12 and a hidden state of scale 2^-7: f x cell: 2^-15 = 0.5 x 2^-14;
// i x g: 2^-30 / 2^-12 = 0.5 x 2^-17; tanh(cell) x o: 2^-30 / 2^-7 = 0.5 x 2^-22.
inline constexpr LstmParams params{.time_major = false,
                                   .cell_clip = 0.0f,
                                   .input_to_gate = {identity, identity, identity, identity},
                                   .recurrent_to_gate = {identity, identity, identity, identity},
                                   .forget_times_cell = {1 << 30, -14},
                                   .input_times_cell_gate = {1 << 30, -17},
                                   .output_times_tanh = {1 << 30, -22},
                                   .cell_tanh = {0, 0},
                                   .quantized_cell_clip = 0};
inline constexpr LstmParams clipped = [] {
  LstmParams p = params;
  p.cell_clip = 100.0f / 4096;
  p.quantized_cell_clip = 100;
  return p;
}();
inline constexpr LstmParams time_major = [] {
  LstmParams p = params;
  p.time_major = true;
  return p;
}();
inline constexpr Quant cell_q{1.0f / 4096, 0};
struct x : Tensor<i8, Shape<1, 2, 1>, in_q> {};
struct y : Tensor<i8, Shape<1, 2, 1>, hidden_q> {};
struct hidden : StateTensor<i8, Shape<1, 1>, hidden_q> {};
struct cell : StateTensor<i16, Shape<1, 1>, cell_q> {};
using lstm = UnidirectionalSequenceLstm<x, hidden, cell, y, input_weights, recurrent_weights, bias, params>;
using lstm_clipped = UnidirectionalSequenceLstm<x, hidden, cell, y, input_weights, recurrent_weights, bias, clipped>;
struct x2 : Tensor<i8, Shape<2, 2, 1>, in_q> {};
struct y2 : Tensor<i8, Shape<2, 2, 1>, hidden_q> {};
struct hidden2 : StateTensor<i8, Shape<2, 1>, hidden_q> {};
struct cell2 : StateTensor<i16, Shape<2, 1>, cell_q> {};
using lstm_batch_major =
    UnidirectionalSequenceLstm<x2, hidden2, cell2, y2, input_weights, recurrent_weights, bias, params>;
using lstm_time_major =
    UnidirectionalSequenceLstm<x2, hidden2, cell2, y2, input_weights, recurrent_weights, bias, time_major>;

// Runs op on `in` from the reset state (hidden at its zero point, cell 0).
template <class Op, std::size_t N, std::size_t Rows>
constexpr std::array<i8, N> run_fresh(const std::array<i8, N>& in) {
  std::array<i8, Rows> h{};
  std::array<i16, Rows> c{};
  for (auto& v : h) v = -5;
  std::array<i8, N> out{};
  Op::run(in.data(), h.data(), c.data(), out.data());
  return out;
}

// Gate pre-activations that saturate: bias 40000 or 30000, recurrent weights +-100.
inline constexpr i8 one[4] = {1, 1, 1, 1};
inline constexpr i8 hundreds[4] = {100, -100, 100, 100};
inline constexpr std::int32_t big_bias[4] = {40000, 30000, -40000, 0};
using saturating = UnidirectionalSequenceLstm<x, hidden, cell, y, one, hundreds, big_bias, params>;
using network = Network<Inputs<x>, Outputs<y>, lstm>;
}  // namespace lstm1

TEST_CASE("LSTM int8: two steps of one unit, worked by hand from TFLM's formulas") {
  using namespace lstm1;
  // Step 1, x = 30 (x - 10 = 20), h at its zero point (h + 5 = 0): the FullyConnected outputs are
  // the folded bias plus the dot product: z = 100 + 40, 200 + 60, 300 + 80, 400 + 100
  // = 140, 260, 380, 500 (Q3.12); the gates' Logistic / Tanh scale them by 3:
  //   i = sigmoid(420): t[0] << 9 + 420 * 683 = 17064076, + 512 >> 10 = 16664
  //   f = sigmoid(780): t[1] << 9 + 268 * 682 = 17309688, + 512 >> 10 = 16904
  //   g = tanh(1140):   t[4] << 8 + 116 * 676 = 9164624, - 2^23 + 128 >> 8 = 3031
  //   o = sigmoid(1500): t[2] << 9 + 476 * 680 = 17799776, + 512 >> 10 = 17383
  // cell = MBQM(f x 0) + MBQM(16664 x 3031 = 50508584, 2^30, -17) = 0 + 193 (25254292 / 2^17 = 192.7)
  // tanh(3 x 193 = 579): t[2] << 8 + 67 * 680 = 8783608, - 2^23 + 128 >> 8 = 1543
  // h = -5 + MBQM(1543 x 17383 = 26821969, 2^30, -22) = -5 + 3 (13410985 / 2^22 = 3.2) = -2.
  // Step 2, x = 10 (x - 10 = 0), h + 5 = 3: z = bias + 7 x 3 = 121, 221, 321, 421:
  //   i = sigmoid(363) = 16626, f = sigmoid(663): t[1] << 9 + 151 * 682 = 17230406 -> 16826,
  //   g = tanh(963): t[3] << 8 + 195 * 680 = 9044728 - 2^23 + 128 >> 8 = 2563,
  //   o = sigmoid(1263): t[2] << 9 + 239 * 680 = 17638616 -> 17225
  // cell = MBQM(16826 x 193 = 3247418, 2^30, -14) + MBQM(16626 x 2563 = 42612438, 2^30, -17)
  //      = 99 (1623709 / 2^14 = 99.1) + 163 (21306219 / 2^17 = 162.6) = 262
  // tanh(786): t[3] << 8 + 18 * 680 = 8924368, - 2^23 + 128 >> 8 = 2093
  // h = -5 + MBQM(2093 x 17225 = 36051925, 2^30, -22) = -5 + 4 (18025963 / 2^22 = 4.3) = -1.
  const std::array<i8, 2> in{30, 10};
  const auto out = run_fresh<lstm, 2, 1>(in);
  CHECK(out[0] == -2);
  CHECK(out[1] == -1);
  // The folded biases: bias - 10 x w and -(-5) x 7.
  CHECK(lstm::folded_input_bias[0] == 100 - 10 * 2);
  CHECK(lstm::folded_recurrent_bias[3] == 35);
  // And in constant evaluation.
  static_assert(run_fresh<lstm, 2, 1>(std::array<i8, 2>{30, 10}) == std::array<i8, 2>{-2, -1});
}

TEST_CASE("LSTM int8: the state carries over to the next invoke; reset() starts the sequence again") {
  using namespace lstm1;
  static_assert(network::is_stateful && network::state_count == 2 && network::state_bytes == 1 + 2);
  static Instance<network> net;
  const std::array<i8, 2> in{30, 10};
  std::copy(in.begin(), in.end(), net.input().begin());
  net.invoke();
  CHECK(net.output()[0] == -2);  // the first invoke starts from the reset state: the hand values
  CHECK(net.output()[1] == -1);
  CHECK(net.state<0>()[0] == -1);   // the hidden state after step 2
  CHECK(net.state<1>()[0] == 262);  // the cell state after step 2
  // The second invoke continues from h = -1 (h + 5 = 4), cell 262: step 1's gates see z = 140 + 28,
  // so its output is not step 1's -2 of a fresh sequence.
  std::copy(in.begin(), in.end(), net.input().begin());
  net.invoke();
  const std::array<i8, 2> second{net.output()[0], net.output()[1]};
  CHECK(second != std::array<i8, 2>{-2, -1});
  net.reset();
  CHECK(net.state<0>()[0] == -5);
  CHECK(net.state<1>()[0] == 0);
  std::copy(in.begin(), in.end(), net.input().begin());
  net.invoke();
  CHECK(net.output()[0] == -2);
  CHECK(net.output()[1] == -1);
}

TEST_CASE("LSTM int8: the cell clip") {
  using namespace lstm1;
  // cell_clip 100 x 2^-12: step 1's cell 193 becomes 100; tanh(300): t[1] << 8 + 44 * 682 = 8593464,
  // - 2^23 + 128 >> 8 = 800; h = -5 + MBQM(800 x 17383 = 13906400, 2^30, -22) = -5 + 2 = -3
  // (6953200 / 2^22 = 1.66). Step 2's cell (f x 100 / 2^15 + i x g / 2^18, about 51 + 163) is
  // clipped to 100 again, and o = sigmoid(3 x (400 + 7 x 2) = 1242): t[2] << 9 + 218 * 680 = 17624336
  // -> 17211 gives MBQM(800 x 17211 = 13768800, 2^30, -22) = 2 (6884400 / 2^22 = 1.64): h = -3.
  const auto out = run_fresh<lstm_clipped, 2, 1>(std::array<i8, 2>{30, 10});
  CHECK(out[0] == -3);
  CHECK(out[1] == -3);
}

TEST_CASE("LSTM int8: each FullyConnected saturates to int16 before the gate's sum, as TFLM") {
  using namespace lstm1;
  // x - 10 = 0 and h + 5 = -100: input FC = bias, recurrent FC = -100 x weight (the folded
  // recurrent bias holds +5 x weight, the patch the raw h = -105).
  const std::int16_t x_patch[1] = {10};
  const std::int16_t h_patch[1] = {-105};
  std::int16_t z[1] = {};
  // i: sat16(40000) + (-10000) = 32767 - 10000 = 22767 (not 40000 - 10000 = 30000).
  saturating::gate_inputs(0, x_patch, h_patch, z);
  CHECK(z[0] == 22767);
  // f: 30000 + 10000 saturates the sum: 32767.
  saturating::gate_inputs(1, x_patch, h_patch, z);
  CHECK(z[0] == 32767);
  // g: sat16(-40000) + (-10000) = -32768 - 10000 saturates: -32768.
  saturating::gate_inputs(2, x_patch, h_patch, z);
  CHECK(z[0] == -32768);
}

TEST_CASE("LSTM int8: batch rows keep their own state, batch-major and time-major") {
  using namespace lstm1;
  // Two rows with step 1's and step 2's inputs of the first case each: both give -2, -1.
  const std::array<i8, 4> batch_major{30, 10, 30, 10};  // [batch][time]
  CHECK(run_fresh<lstm_batch_major, 4, 2>(batch_major) == std::array<i8, 4>{-2, -1, -2, -1});
  const std::array<i8, 4> time_major_in{30, 30, 10, 10};  // [time][batch]
  CHECK(run_fresh<lstm_time_major, 4, 2>(time_major_in) == std::array<i8, 4>{-2, -2, -1, -1});
}

namespace lstmf {
struct x : Tensor<float, Shape<1, 2, 1>> {};
struct y : Tensor<float, Shape<1, 2, 1>> {};
struct hidden : StateTensor<float, Shape<1, 1>> {};
struct cell : StateTensor<float, Shape<1, 1>> {};
inline constexpr float zeros[4] = {0, 0, 0, 0};
inline constexpr float bias[4] = {0.0f, 0.0f, 20.0f, -10.0f};  // i, f, g, o
inline constexpr LstmParams params{};
using lstm = UnidirectionalSequenceLstm<x, hidden, cell, y, zeros, zeros, bias, params>;
}  // namespace lstmf

TEST_CASE("LSTM float: gates from the biases") {
  // i = f = sigmoid(0) = 0.5, g = tanh(20) = 1, o = TFLM's Logistic below -9: exp(-10).
  // cell 1 = 0.5 x 0 + 0.5 x 1 = 0.5, h = tanh(0.5) x e^-10; cell 2 = 0.5 x 0.5 + 0.5 = 0.75.
  const std::array<float, 2> in{3.0f, -7.0f};  // weights are zero: the input does not matter
  std::array<float, 2> out{};
  float h[1] = {0.0f}, c[1] = {0.0f};
  lstmf::lstm::run(in.data(), h, c, out.data());
  CHECK(out[0] == doctest::Approx(std::tanh(0.5) * std::exp(-10.0)).epsilon(1e-6));
  CHECK(out[1] == doctest::Approx(std::tanh(0.75) * std::exp(-10.0)).epsilon(1e-6));
}

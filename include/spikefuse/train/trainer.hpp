// One batch of online training: for t < T: x_t → forward → L_t → backward (chosen steps) → update (per schedule); memory flat in T.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "spikefuse/core/phase.hpp"
#include "spikefuse/train/loss.hpp"
#include "spikefuse/train/method.hpp"
#include "spikefuse/train/optimizer.hpp"

namespace spikefuse {

/// Training produced NaN or infinity; nothing is saved after it, so what is on disk is intact.
struct non_finite_training : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Thrown when a loss becomes NaN or infinite. The model may already hold updates of the failing
/// batch (OTTT_O updates every step); the trainer writes no checkpoint, so what is on disk is intact.
struct non_finite_loss : non_finite_training {
  using non_finite_training::non_finite_training;
};

/// Thrown (by fit_model) when an epoch's updates left a parameter or optimizer state NaN or infinite
/// before any loss showed it (the last update of an epoch): such a model is never saved.
struct non_finite_parameters : non_finite_training {
  using non_finite_training::non_finite_training;
};

struct batch_result {
  double loss = 0.0;  // Σ_t L_t (already divided by T) over all T steps, also under SLTT-K (design.md)
  int correct = 0;    // argmax Σ_t y_t == label
  int samples = 0;
};

/// Optional observation points (tests, monitors). All see the model's gradients before the update;
/// a per-step hook also turns off the CPU backend's per-batch weight gradient of input layers
/// (Network::defers_weight_gradient), so the gradients it sees are the per-step sums.
struct train_hooks {
  std::function<void(int t, float step_loss)> after_forward;   // every step, before any backward
  std::function<void(int t, float step_loss)> after_backward;  // after the backward of step t
  std::function<void()> before_batch_update;                   // per-batch schedule only
};

/// Writes x_t of the whole batch into the model's input buffer. `same_every_step` (direct encoding)
/// lets a backend encode once per batch and keep the input for every step.
struct step_encoder {
  std::function<void(int t, float* input)> write;
  bool same_every_step = false;

  step_encoder() = default;
  template <class F>
    requires std::is_invocable_v<F&, int, float*>
  step_encoder(F f, bool same = false) : write(std::move(f)), same_every_step(same) {}  // NOLINT: implicit from a lambda
  void operator()(int t, float* input) const { write(t, input); }
};

/// Step t sees the same input and the same parameters as step t − 1 (a static input, no update in
/// between), so the layers that see only those and are worth keeping (Network::reuses_output) keep their outputs.
/// Every backend's batch loop asks this; evaluation passes per_batch (it never updates).
inline bool input_and_parameters_unchanged(int t, const step_encoder& encode, update_schedule schedule) {
  return t > 0 && encode.same_every_step && schedule == update_schedule::per_batch;
}

/// The error for a loss that became `loss` (NaN or infinite) at step t.
inline non_finite_loss non_finite_loss_at(int t, float loss) {
  return non_finite_loss("spikefuse: the loss became " + std::string(std::isnan(loss) ? "NaN" : "infinite") +
                         " at time step " + std::to_string(t) + "; lower the learning rate or check the input");
}

/// What every backend's batch loop checks first: one backward flag per step, enough optimizer state.
template <class Model>
void check_batch_arguments(const Model& model, const optimizer& opt, int time_steps, std::span<const char> backward_at) {
  if (static_cast<int>(backward_at.size()) != time_steps)
    throw std::invalid_argument("spikefuse: backward_at must have one entry per time step");
  const int slots = optimizer_slots(opt.config());
  if (slots > model.optimizer_slots())
    throw std::invalid_argument("spikefuse: the optimizer needs " + std::to_string(slots) +
                                " state floats per parameter, but the model was built with " +
                                std::to_string(model.optimizer_slots()));
}

/// A backend with its own batch loop (the CUDA model) sets `runs_on_device` and provides
/// device_train_batch / device_evaluate_batch next to it; the two functions below forward to them.
template <class Model>
concept device_model = Model::runs_on_device;

/// The loop on the host, one call per step into the model (CPU backend).
template <class Model>
batch_result host_train_batch(Model& model, optimizer& opt, float lr, int batch, int time_steps, const step_encoder& encode,
                              std::span<const std::uint8_t> labels, const loss_config& loss_cfg, update_schedule schedule,
                              std::span<const char> backward_at, const train_hooks& hooks) {
  constexpr int classes = Model::network::num_outputs;
  check_batch_arguments(model, opt, time_steps, backward_at);
  const int slots = optimizer_slots(opt.config());
  auto slot = [&](int k) { return k < slots ? model.optimizer_slot(k) : std::span<float>{}; };
  batch_result result;
  result.samples = batch;
  model.reset_state(batch, phase::train);
  if (schedule == update_schedule::per_batch) model.zero_grad();
  // A static input and one update per batch: weight gradients that are linear in a constant input
  // can be summed over the steps first (Network::defers_weight_gradient), unless a hook reads the
  // gradients after every backward.
  const bool defer = encode.same_every_step && schedule == update_schedule::per_batch && !hooks.after_backward &&
                     !hooks.after_forward;
  bool any_backward = false;
  for (int t = 0; t < time_steps; ++t) {
    const bool with_grad = backward_at[static_cast<std::size_t>(t)] != 0;
    if (t == 0 || !encode.same_every_step) encode(t, model.input());
    model.forward(with_grad ? phase::train : phase::train_no_grad, input_and_parameters_unchanged(t, encode, schedule));
    const float loss_t = step_loss(loss_cfg, batch, classes, model.logits(), labels, time_steps, model.logits_grad());
    if (!std::isfinite(loss_t)) throw non_finite_loss_at(t, loss_t);
    result.loss += loss_t;
    if (hooks.after_forward) hooks.after_forward(t, loss_t);
    if (!with_grad) continue;
    if (schedule == update_schedule::per_step) model.zero_grad();
    model.backward(defer);
    any_backward = true;
    if (hooks.after_backward) hooks.after_backward(t, loss_t);
    if (schedule == update_schedule::per_step) opt.step(lr, model.parameters(), model.gradients(), slot(0), slot(1));
  }
  if (schedule == update_schedule::per_batch && any_backward) {
    if (defer) model.flush_deferred_gradients();
    if (hooks.before_batch_update) hooks.before_batch_update();
    opt.step(lr, model.parameters(), model.gradients(), slot(0), slot(1));
  }
  result.correct = count_correct(batch, classes, model.logits_sum(), labels);
  return result;
}

/// Trains on one batch. `backward_at[t]` says whether step t gets a backward (all ones except for
/// SLTT-K). Parameter gradients are zeroed here according to the schedule.
template <class Model>
batch_result train_batch(Model& model, optimizer& opt, float lr, int batch, int time_steps, const step_encoder& encode,
                         std::span<const std::uint8_t> labels, const loss_config& loss_cfg, update_schedule schedule,
                         std::span<const char> backward_at, const train_hooks& hooks = {}) {
  if constexpr (device_model<Model>) {
    return device_train_batch(model, opt, lr, batch, time_steps, encode, labels, loss_cfg, schedule, backward_at, hooks);
  } else {
    return host_train_batch(model, opt, lr, batch, time_steps, encode, labels, loss_cfg, schedule, backward_at, hooks);
  }
}

/// Eval-mode pass over one batch (no trace, no dropout, nothing kept): number of correct predictions.
template <class Model>
int evaluate_batch(Model& model, int batch, int time_steps, const step_encoder& encode,
                   std::span<const std::uint8_t> labels) {
  if constexpr (device_model<Model>) {
    return device_evaluate_batch(model, batch, time_steps, encode, labels);
  } else {
    constexpr int classes = Model::network::num_outputs;
    model.reset_state(batch, phase::eval);
    for (int t = 0; t < time_steps; ++t) {
      if (t == 0 || !encode.same_every_step) encode(t, model.input());
      model.forward(phase::eval, input_and_parameters_unchanged(t, encode, update_schedule::per_batch));
    }
    return count_correct(batch, classes, model.logits_sum(), labels);
  }
}

}  // namespace spikefuse

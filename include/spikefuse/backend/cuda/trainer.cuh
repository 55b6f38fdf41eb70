// Online training of one batch on the CUDA backend: the CPU trainer's loop, with the loss on the device and one copy back per batch.
//
// Called through spikefuse::train_batch / evaluate_batch (train/trainer.hpp), which forward here for a
// cuda::model; same signature and semantics. Differences, by design:
//   - the host learns L_t at the end of the batch (no synchronisation per step); a non-finite loss is
//     reported with its step then, after the optimizer may already have applied the batch;
//   - hooks, when given, synchronise every step; after_forward and after_backward are both called
//     after the step's backward (the step is one graph), with that step's gradients.
#pragma once

#include <cstdint>
#include <span>

#include "spikefuse/backend/cuda/model.cuh"
#include "spikefuse/train/trainer.hpp"

namespace spikefuse::cuda {

template <class Net>
batch_result device_train_batch(model<Net>& m, optimizer& opt, float lr, int batch, int time_steps, const step_encoder& encode,
                         std::span<const std::uint8_t> labels, const loss_config& loss_cfg, update_schedule schedule,
                         std::span<const char> backward_at, const train_hooks& hooks = {}) {
  check_batch_arguments(m, opt, time_steps, backward_at);
  m.reset_state(batch, phase::train);
  m.set_labels(labels);
  if (schedule == update_schedule::per_batch) m.zero_grad();
  const bool watch_steps = static_cast<bool>(hooks.after_forward) || static_cast<bool>(hooks.after_backward);
  bool any_backward = false;
  for (int t = 0; t < time_steps; ++t) {
    const bool with_grad = backward_at[static_cast<std::size_t>(t)] != 0;
    if (t == 0 || !encode.same_every_step) {
      encode(t, m.input_staging());
      m.upload_input();
    }
    const bool update_now = schedule == update_schedule::per_step && with_grad;
    m.step(with_grad ? phase::train : phase::train_no_grad, with_grad, update_now, time_steps, loss_cfg,
           input_and_parameters_unchanged(t, encode, schedule));
    any_backward = any_backward || with_grad;
    if (watch_steps) {
      const loss_accumulator acc = m.read_loss();
      if (acc.nonfinite_step_plus_one != 0)
        throw non_finite_loss_at(acc.nonfinite_step_plus_one - 1, acc.first_nonfinite_loss);
      if (hooks.after_forward) hooks.after_forward(t, acc.last_loss);
      if (with_grad && hooks.after_backward) hooks.after_backward(t, acc.last_loss);
    }
    if (update_now) m.apply_optimizer(opt.begin_step(lr));
  }
  if (schedule == update_schedule::per_batch && any_backward) {
    if (hooks.before_batch_update) {
      m.synchronize();
      hooks.before_batch_update();
    }
    m.apply_optimizer(opt.begin_step(lr));
  }
  const loss_accumulator acc = m.read_loss();
  if (acc.nonfinite_step_plus_one != 0)
    throw non_finite_loss_at(acc.nonfinite_step_plus_one - 1, acc.first_nonfinite_loss);
  batch_result result;
  result.samples = batch;
  result.loss = acc.loss_sum;
  const auto sums = m.logits_sum();
  result.correct = count_correct(batch, model<Net>::classes, sums.data(), labels);
  return result;
}

/// Eval-mode pass over one batch (no trace, no dropout, nothing kept): number of correct predictions.
template <class Net>
int device_evaluate_batch(model<Net>& m, int batch, int time_steps, const step_encoder& encode,
                   std::span<const std::uint8_t> labels) {
  m.reset_state(batch, phase::eval);
  for (int t = 0; t < time_steps; ++t) {
    if (t == 0 || !encode.same_every_step) {
      encode(t, m.input_staging());
      m.upload_input();
    }
    m.step(phase::eval, false, false, time_steps, loss_config{},
           input_and_parameters_unchanged(t, encode, update_schedule::per_batch));
  }
  const auto sums = m.logits_sum();
  return count_correct(batch, model<Net>::classes, sums.data(), labels);
}

}  // namespace spikefuse::cuda

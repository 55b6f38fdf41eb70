// Train the OTTT/SLTT papers' CIFAR-10 networks online through time: OTTT VGG-11-WS (--method ottt_a|ottt_o)
// or the SLTT pre-activation ResNet-18 (--method sltt|sltt_k), on the CIFAR-10 binary files or on synthetic data.
//
//   cifar10_convnet --data-dir DIR [--method ottt_a] [--epochs N] [--T 6] ...
//   cifar10_convnet --synthetic 2048 --epochs 1        (no files: CIFAR-shaped data for benchmarking)
//
// The user supplies the binary version of CIFAR-10 (data_batch_1.bin … test_batch.bin, from
// https://www.cs.toronto.edu/~kriz/cifar.html); nothing is downloaded. Training images get the
// papers' augmentation, a random 32×32 crop of the image padded by 4, torchtoolbox's Cutout (p = 0.5)
// and a horizontal flip with p = 0.5, then the CIFAR-10 normalisation; test images only the
// normalisation.
#include <spikefuse/spikefuse.hpp>
#include <spikefuse/data/cifar10.hpp>
#include <spikefuse/io/openmp_env.hpp>
#include <spikefuse/io/training_cli.hpp>
#include <spikefuse/models/ottt_vgg11_ws.hpp>
#include <spikefuse/models/sltt_resnet18.hpp>

#include <cstdio>
#include <span>
#include <utility>

namespace sf = spikefuse;

using OTTTNet = sf::models::ottt_vgg11_ws<10>;         // spec §F.1, OTTTLIFNode defaults
using SLTTNet = sf::models::sltt_preact_resnet18<10>;  // spec §F.3, the SLTT paper's neuron

int main(int argc, char** argv) {
  sf::io::ensure_passive_openmp_wait(argv);
  sf::io::training_cli cli;
  // The OTTT/SLTT scripts' settings (spec §D.2, §D.4).
  cli.opt.epochs = 300;
  cli.opt.batch_size = 128;
  cli.opt.time_steps = 6;
  cli.opt.lr = 0.1f;
  cli.optimizer = "sgd";
  cli.opt.optimizer.momentum = 0.9f;
  cli.opt.loss.mse_weight = 0.05f;
  cli.opt.seed = 2022;
  cli.opt.out_dir = "runs/cifar10_convnet";
  cli.data_dir = "cifar-10-batches-bin";
  int synthetic = 0;
  bool no_augment = false;

  sf::io::flag_parser flags(
      "cifar10_convnet: train OTTT VGG-11-WS (ottt_a, ottt_o) or SLTT ResNet-18 (sltt, sltt_k) on CIFAR-10.\n"
      "The defaults are the OTTT scripts'; with --method sltt or sltt_k, the SLTT README's CIFAR-10 command's\n"
      "where they differ: --epochs 200, --weight-decay 5e-05, --mse-target constant (flags given win).");
  cli.add_flags(flags, "directory with the CIFAR-10 binary files (data_batch_1.bin ... test_batch.bin)");
  flags.add("synthetic", synthetic, "use N synthetic CIFAR-shaped training images (and N/4 + 1 test images) instead of files");
  flags.add_switch("no-augment", no_augment, "train on the images as they are (no random crop, Cutout and flip)");
  if (const int code = sf::io::parse_training_flags(cli, flags, argc, argv); code >= 0) return code;
  if (cli.opt.method == sf::training_method::sltt || cli.opt.method == sf::training_method::sltt_k) {
    // SLTT's train_SLTT.py with its README's CIFAR-10 command (spec §D.4). Its AMP is not offered:
    // spikefuse trains in fp32 (or TF32 tensor cores on a GPU, --precision tf32).
    if (!flags.given("epochs")) cli.opt.epochs = 200;
    if (!flags.given("weight-decay")) cli.opt.optimizer.weight_decay = 5e-5f;
    if (!flags.given("mse-target")) cli.mse_target = "constant";  // every logit -> 1.0 (loss_means)
    try {
      cli.validate();  // again: --warmup-epochs against 200 epochs, the target into the loss settings
    } catch (const std::exception& e) {
      std::fprintf(stderr, "error: %s\n", e.what());
      return 2;
    }
  }
  if (synthetic < 0) {
    std::fprintf(stderr, "error: --synthetic must be at least 0, got %d\n", synthetic);
    return 2;
  }
  if (cli.opt.encoding != sf::data::encoding::direct) {
    // Rate coding reads pixels as spike probabilities in [0, 1]; these networks take normalised images.
    std::fprintf(stderr, "error: --encoding %s: the CIFAR-10 networks take normalised images (direct encoding, as in the "
                         "OTTT and SLTT papers), which are no spike probabilities\n",
                 sf::data::to_string(cli.opt.encoding));
    return 2;
  }
  if (synthetic > 0) cli.data_dir = "synthetic data (seed " + std::to_string(cli.opt.seed) + ")";

  if (!no_augment) {
    cli.opt.train_augment = [](const sf::data::dataset& train, std::span<const int> idx, std::mt19937_64& rng, float* x) {
      const std::size_t image = static_cast<std::size_t>(train.features());
      for (std::size_t b = 0; b < idx.size(); ++b) {
        float* out = x + b * image;
        sf::data::apply_crop_flip(train.images.data() + static_cast<std::size_t>(idx[b]) * image, out,
                                  sf::data::cifar10_channels, sf::data::cifar10_side, sf::data::cifar10_side, 4,
                                  sf::data::draw_crop_flip(rng, 4));
        sf::data::apply_cutout(out, sf::data::cifar10_channels, sf::data::cifar10_side, sf::data::cifar10_side,
                               sf::data::draw_cutout(rng, sf::data::cifar10_side, sf::data::cifar10_side));
      }
      sf::data::normalize_cifar10(x, idx.size());
    };
  }
  return sf::io::run_training<OTTTNet, SLTTNet>(cli, [&] {
    auto split = synthetic > 0 ? sf::data::cifar10_split{sf::data::synthetic_cifar10(synthetic, cli.opt.seed),
                                                         sf::data::synthetic_cifar10(synthetic / 4 + 1, cli.opt.seed + 1)}
                               : sf::data::load_cifar10(cli.data_dir);
    // Augmentation crops the raw images and normalises each batch; without it the set is normalised once.
    if (no_augment) sf::data::normalize_cifar10(split.train);
    sf::data::normalize_cifar10(split.test);
    return std::pair{sf::data::to_dataset(std::move(split.train)), sf::data::to_dataset(std::move(split.test))};
  });
}

// Train a convolutional spiking network on Fashion-MNIST online through time (OTTT or SLTT).
//
//   fashion_mnist_csnn [--epochs N] [--method ottt_a|ottt_o|sltt|sltt_k] [--T T] ...
//
// The network is models::fashion_mnist_csnn: two [Conv 3×3 → BatchNorm → LIF → AvgPool 2] stages
// and a spiking hidden Linear layer, with OTTT or SLTT neurons as --method says.
#include <spikefuse/spikefuse.hpp>
#include <spikefuse/io/openmp_env.hpp>
#include <spikefuse/io/training_cli.hpp>
#include <spikefuse/models/fashion_mnist_csnn.hpp>

#include <utility>

namespace sf = spikefuse;

using OTTTNet = sf::models::fashion_mnist_csnn<sf::OTTTLIF<>>;  // SpikingJelly OTTTLIFNode defaults: tau 2, soft reset, sigmoid(4)
using SLTTNet = sf::models::fashion_mnist_csnn<sf::SLTTLIF<>>;  // SpikingJelly SLTTLIFNode defaults: tau 2, decay_input, hard reset to 0

int main(int argc, char** argv) {
  sf::io::ensure_passive_openmp_wait(argv);
  sf::io::training_cli cli;
  cli.opt.epochs = 10;
  cli.opt.batch_size = 64;
  cli.opt.time_steps = 4;
  cli.opt.lr = 1e-3f;
  cli.opt.out_dir = "runs/fashion_mnist_csnn";
  cli.data_dir = sf::data::default_fashion_mnist_dir;

  sf::io::flag_parser flags(
      "fashion_mnist_csnn: train a convolutional spiking network on Fashion-MNIST (or MNIST) with OTTT or SLTT.");
  cli.add_flags(flags, "directory with the IDX files (train-images-idx3-ubyte[.gz], ...)");
  if (const int code = sf::io::parse_training_flags(cli, flags, argc, argv); code >= 0) return code;

  return sf::io::run_training<OTTTNet, SLTTNet>(cli, [&] {
    const auto paths = sf::data::mnist_layout(cli.data_dir);
    return std::pair{sf::data::load_idx_pair(paths.train_images, paths.train_labels),
                     sf::data::load_idx_pair(paths.test_images, paths.test_labels)};
  });
}

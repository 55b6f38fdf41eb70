// Train a spiking MLP on Fashion-MNIST online through time (OTTT or SLTT), on a GPU or the CPU.
//
//   fashion_mnist_mlp [--epochs N] [--method ottt_a|ottt_o|sltt|sltt_k] [--T T] [--device auto|cpu|cuda] ...
//
// The network is declared once per neuron type; the method flag picks which one is trained. Built
// with nvcc (when CMake finds it) the same declaration also trains on the CUDA backend: --device auto
// (the default) takes the GPU when there is one and otherwise says so in one line and trains on the
// CPU; --device cuda without a GPU is an error (exit 4).
#include <spikefuse/spikefuse.hpp>
#include <spikefuse/io/openmp_env.hpp>
#include <spikefuse/io/training_cli.hpp>

#include <utility>

namespace sf = spikefuse;

template <class Neuron>
using MLP = sf::Network<sf::Input<784>,
                        sf::Linear<800>, Neuron,
                        sf::Linear<10>>;

using OTTTNet = MLP<sf::OTTTLIF<>>;  // SpikingJelly OTTTLIFNode defaults: tau 2, soft reset, sigmoid(4)
using SLTTNet = MLP<sf::SLTTLIF<>>;  // SpikingJelly SLTTLIFNode defaults: tau 2, decay_input, hard reset to 0

int main(int argc, char** argv) {
  sf::io::ensure_passive_openmp_wait(argv);
  sf::io::training_cli cli;
  cli.opt.epochs = 8;
  cli.opt.batch_size = 128;
  cli.opt.time_steps = 4;
  cli.opt.lr = 1e-3f;
  cli.opt.out_dir = "runs/fashion_mnist_mlp";
  cli.data_dir = sf::data::default_fashion_mnist_dir;

  sf::io::flag_parser flags(
      "fashion_mnist_mlp: train a 784-800-10 spiking MLP on Fashion-MNIST (or MNIST) with OTTT or SLTT.");
  cli.add_flags(flags, "directory with the IDX files (train-images-idx3-ubyte[.gz], ...)");
  if (const int code = sf::io::parse_training_flags(cli, flags, argc, argv); code >= 0) return code;

  return sf::io::run_training<OTTTNet, SLTTNet>(cli, [&] {
    const auto paths = sf::data::mnist_layout(cli.data_dir);
    auto train = sf::data::load_idx_pair(paths.train_images, paths.train_labels);
    auto test = sf::data::load_idx_pair(paths.test_images, paths.test_labels);
    return std::pair{std::move(train), std::move(test)};
  });
}

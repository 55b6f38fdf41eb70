// Tutorial example (docs/tutorial.md, "Train on a dataset"): Fashion-MNIST through the data API and
// sf::fit (shuffling, progress, per-epoch test accuracy, metrics.jsonl, checkpoints, resume), with a
// per-batch callback. Compiled and run by CTest (docs_fit_dataset), on 512 training and 256 test
// images when the Debian package dataset-fashion-mnist is installed, else on a synthetic stand-in.
#include <spikefuse/spikefuse.hpp>
#include <spikefuse/io/openmp_env.hpp>

#include <unistd.h>  // getpid

#include <cstdio>
#include <filesystem>
#include <string>
#include <utility>

namespace sf = spikefuse;

using Net = sf::Network<sf::Input<784>, sf::Linear<200>, sf::SLTTLIF<>, sf::Linear<10>>;

// A stand-in with the same shape where the dataset is not installed: class c lights row 2c + 4.
sf::data::dataset synthetic(int count) {
  sf::data::dataset d;
  d.count = count;
  d.rows = d.cols = 28;
  d.num_classes = 10;
  d.images.assign(static_cast<std::size_t>(count) * 784, 0.f);
  for (int i = 0; i < count; ++i) {
    d.labels.push_back(static_cast<std::uint8_t>(i % 10));
    for (int x = 0; x < 28; ++x) d.images[static_cast<std::size_t>(i) * 784 + (2 * (i % 10) + 4) * 28 + x] = 1.f;
  }
  return d;
}

int main(int argc, char** argv) {
  // [passive]
  // Idle OpenMP threads spin by default and steal the cores the GEMMs need on a busy machine; libgomp
  // reads the policy only at start-up, so this re-runs the program once with OMP_WAIT_POLICY=passive
  // (a policy set by the user is kept).
  sf::io::ensure_passive_openmp_wait(argv);
  // [passive]
  (void)argc;

  std::pair<sf::data::dataset, sf::data::dataset> data;
  if (std::filesystem::exists(sf::data::default_fashion_mnist_dir)) {
    // [data]
    // IDX files, gzipped or not: train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], t10k-...
    const auto paths = sf::data::mnist_layout(sf::data::default_fashion_mnist_dir);
    auto train = sf::data::load_idx_pair(paths.train_images, paths.train_labels);  // pixels scaled to [0, 1]
    auto test = sf::data::load_idx_pair(paths.test_images, paths.test_labels);
    sf::data::truncate(train, 512);  // the first 512 images only (a quick run)
    sf::data::truncate(test, 256);
    // [data]
    data = {std::move(train), std::move(test)};
  } else {
    std::printf("no %s: a synthetic stand-in\n", sf::data::default_fashion_mnist_dir);
    data = {synthetic(512), synthetic(256)};
  }
  const auto& [train, test] = data;

  // Its own folder (two build trees may run this test at once).
  const auto out_dir = std::filesystem::temp_directory_path() / ("spikefuse_docs_fit_dataset_" + std::to_string(::getpid()));
  std::filesystem::remove_all(out_dir);
  // [fit]
  sf::fit_options opt;
  opt.epochs = 2;
  opt.batch_size = 64;
  opt.time_steps = 4;
  opt.method = sf::training_method::sltt;       // must match the network's neurons (SLTTLIF)
  opt.optimizer.kind = sf::optimizer_kind::adam;
  opt.lr = 5e-3f;                               // cosine-annealed per batch over the run
  opt.out_dir = out_dir.string();               // checkpoint.bin and metrics.jsonl go here
  opt.quiet = true;                             // no progress bar (metrics.jsonl is written anyway)
  opt.after_batch = [](int epoch, int batch, const sf::batch_result& r) {
    if (batch % 4 == 0)
      std::printf("epoch %d batch %d: loss %.4f, %d of %d correct\n", epoch + 1, batch, r.loss, r.correct, r.samples);
  };
  const sf::fit_result result = sf::fit<Net>(opt, train, test);
  std::printf("test accuracy after %d epochs: %.2f %%\n", result.total_epochs, 100 * result.final_test_accuracy);

  opt.epochs = 3;       // one more epoch on top of the checkpoint (the schedule now spans 3 epochs)
  opt.resume = true;
  sf::fit<Net>(opt, train, test);
  // [fit]
  std::filesystem::remove_all(out_dir);
  return result.final_test_accuracy > 0.5 ? 0 : 1;  // 70 % here; chance is 10 %
}

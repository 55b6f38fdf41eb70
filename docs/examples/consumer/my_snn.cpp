// The program of docs/examples/consumer: a network of one's own, trained with sf::fit from the one
// umbrella header. Exit 0 when it learns a two-class toy task.
#include <spikefuse/spikefuse.hpp>

#include <unistd.h>  // getpid

#include <cstdio>
#include <filesystem>
#include <string>

namespace sf = spikefuse;

using Net = sf::Network<sf::Input<1, 6, 6>, sf::Conv2d<4, 3, sf::conv_opts{.padding = 1}>, sf::OTTTLIF<>,
                        sf::AvgPool2d<2>, sf::Flatten, sf::Linear<2>>;

int main() {
  sf::data::dataset d;  // class 1: the left half lit, class 0: the right half
  d.count = 64;
  d.rows = d.cols = 6;
  d.num_classes = 2;
  for (int i = 0; i < d.count; ++i) {
    d.labels.push_back(static_cast<std::uint8_t>(i % 2));
    for (int p = 0; p < 36; ++p) d.images.push_back(((p % 6 < 3) == (i % 2 == 1)) ? 0.9f : 0.1f);
  }
  sf::fit_options opt;
  opt.epochs = 3;
  opt.batch_size = 16;
  opt.time_steps = 4;
  opt.lr = 1e-2f;
  opt.quiet = true;
  opt.out_dir = (std::filesystem::temp_directory_path() / ("spikefuse_my_snn_" + std::to_string(::getpid()))).string();
  std::filesystem::remove_all(opt.out_dir);
  const auto result = sf::fit<Net>(opt, d, d);
  std::filesystem::remove_all(opt.out_dir);
  std::printf("my_snn: test accuracy %.1f %%\n", 100 * result.final_test_accuracy);
  return result.final_test_accuracy > 0.9 ? 0 : 1;
}

// The CUDA backend built without cuDNN's headers (SPIKEFUSE_NO_CUDNN): it compiles, and a model that asks for cuDNN convolutions is told why it cannot have them.
//
// Every machine this project builds on has cudnn.h, so without this translation unit the stand-in of
// backend/cuda/cudnn_conv.cuh would never be compiled (it once fell behind the real class's
// signature). Needs no GPU: the stand-in throws before any CUDA call.
#include <cstdio>
#include <string>

#include <spikefuse/spikefuse.hpp>
#include <spikefuse/backend/cuda/trainer.cuh>

#ifdef SPIKEFUSE_HAS_CUDNN
#error "test_no_cudnn must be built with SPIKEFUSE_NO_CUDNN"
#endif

namespace sf = spikefuse;

using ConvNet = sf::Network<sf::Input<2, 8, 8>, sf::WSConv2d<4, 3, sf::conv_opts{.padding = 1}>, sf::OTTTLIF<>,
                            sf::Scale<2.74f>, sf::Conv2d<4, 3, sf::conv_opts{.padding = 1}>, sf::OTTTLIF<>, sf::Flatten,
                            sf::Linear<10>>;

// Instantiates the convolution layers' forward, backward and reset against the stand-in; never called.
[[maybe_unused]] void train_one_batch_with_cudnn(const float* images, std::span<const std::uint8_t> labels) {
  sf::cuda::model<ConvNet> gpu(2, 0, 1, sf::cuda::model_options{.convolutions = sf::cuda::convolution_backend::cudnn});
  sf::optimizer opt(sf::optimizer_config{});
  const sf::step_encoder encode([&](int, float* x) { std::copy(images, images + 2 * ConvNet::input_size, x); }, true);
  const std::vector<char> all(2, 1);
  sf::train_batch(gpu, opt, 1e-3f, 2, 2, encode, labels, sf::loss_config{}, sf::update_schedule::per_batch, all);
}

int main() {
  try {
    const sf::cuda::cudnn_convolutions convolutions(nullptr, sf::cuda::gemm_precision::fp32);
    std::printf("FAIL: the stand-in for cuDNN was constructed\n");
    return 1;
  } catch (const sf::cuda::cuda_error& e) {
    const std::string why = e.what();
    std::printf("%s\n", why.c_str());
    const bool says_why = why.find("cudnn.h") != std::string::npos && why.find("im2col") != std::string::npos;
    std::printf(says_why ? "built without cuDNN: the option fails with its reason\n" : "FAIL: the reason is not given\n");
    return says_why ? 0 : 1;
  }
}

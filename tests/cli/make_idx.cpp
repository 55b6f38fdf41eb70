// Test helper for the command-line tests: writes small MNIST-layout IDX data sets (valid or broken
// in one specific way) and corrupts files in place. CMake scripts cannot write NUL bytes, hence this.
//
//   cli_make_idx <kind> <dir>     writes the four MNIST-named plain IDX files into <dir> (created)
//   cli_make_idx corrupt <file>   inverts 8 bytes in the middle of <file>
//
// kinds: valid              20 training and 10 test images of 28x28, labels 0..9
//        bad_magic          train-images-idx3-ubyte has magic 0x12345678
//        truncated_images   t10k-images-idx3-ubyte promises 10 images but holds 9.5
//        label_out_of_range train-labels-idx1-ubyte has the value 10 at index 13
//        count_mismatch     20 training images but 19 training labels
//        small_images       valid files, but the images are 10x10 (100 features, the network takes 784)
//        wide_images        valid files of 14x56 images: 784 pixels, but not the 28x28 an image input takes
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

using bytes = std::vector<std::uint8_t>;

void put_be32(bytes& b, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<std::uint8_t>(v >> s));
}

int label_of(int i) { return i % 10; }

/// count images of side x side; class c is a bright horizontal band at a class-specific height plus
/// deterministic texture, so that a few epochs can learn something.
bytes images(int count, int rows, int cols, std::uint32_t magic = 0x00000803u, int keep_pixels = -1) {
  bytes b;
  put_be32(b, magic);
  put_be32(b, static_cast<std::uint32_t>(count));
  put_be32(b, static_cast<std::uint32_t>(rows));
  put_be32(b, static_cast<std::uint32_t>(cols));
  std::uint32_t state = 12345;
  const long long total = static_cast<long long>(count) * rows * cols;
  for (long long p = 0; p < total; ++p) {
    if (keep_pixels >= 0 && p >= keep_pixels) break;
    const int i = static_cast<int>(p / (rows * cols));
    const int row = static_cast<int>(p % (rows * cols)) / cols;
    state = state * 1664525u + 1013904223u;
    const int band = label_of(i) * rows / 10;
    const int noise = static_cast<int>(state >> 27);  // 0..31
    b.push_back(static_cast<std::uint8_t>(row >= band && row < band + rows / 10 + 1 ? 255 - noise : noise));
  }
  return b;
}

bytes labels(int count, int bad_index = -1) {
  bytes b;
  put_be32(b, 0x00000801u);
  put_be32(b, static_cast<std::uint32_t>(count));
  for (int i = 0; i < count; ++i) b.push_back(static_cast<std::uint8_t>(i == bad_index ? 10 : label_of(i)));
  return b;
}

bool write(const std::filesystem::path& p, const bytes& b) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  if (!out) std::fprintf(stderr, "cli_make_idx: cannot write %s\n", p.c_str());
  return static_cast<bool>(out);
}

int corrupt(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cli_make_idx: cannot read %s\n", path.c_str());
    return 1;
  }
  bytes b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  in.close();
  if (b.size() < 64) {
    std::fprintf(stderr, "cli_make_idx: %s has only %zu bytes\n", path.c_str(), b.size());
    return 1;
  }
  for (std::size_t i = b.size() / 2; i < b.size() / 2 + 8; ++i) b[i] = static_cast<std::uint8_t>(~b[i]);
  return write(path, b) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: cli_make_idx <kind> <dir> | cli_make_idx corrupt <file>\n");
    return 2;
  }
  const std::string kind = argv[1];
  if (kind == "corrupt") return corrupt(argv[2]);

  const std::filesystem::path dir = argv[2];
  std::filesystem::create_directories(dir);
  int train = 20, test = 10, rows = 28, cols = 28, train_labels = 20, bad_label = -1, test_pixels = -1;
  std::uint32_t train_magic = 0x00000803u;
  if (kind == "valid") {
  } else if (kind == "bad_magic") {
    train_magic = 0x12345678u;
  } else if (kind == "truncated_images") {
    test_pixels = 9 * 28 * 28 + 28 * 14;
  } else if (kind == "label_out_of_range") {
    bad_label = 13;
  } else if (kind == "count_mismatch") {
    train_labels = 19;
  } else if (kind == "small_images") {
    rows = cols = 10;
  } else if (kind == "wide_images") {
    rows = 14;
    cols = 56;
  } else {
    std::fprintf(stderr, "cli_make_idx: unknown kind '%s'\n", kind.c_str());
    return 2;
  }
  const bool ok = write(dir / "train-images-idx3-ubyte", images(train, rows, cols, train_magic)) &&
                  write(dir / "train-labels-idx1-ubyte", labels(train_labels, bad_label)) &&
                  write(dir / "t10k-images-idx3-ubyte", images(test, rows, cols, 0x00000803u, test_pixels)) &&
                  write(dir / "t10k-labels-idx1-ubyte", labels(test));
  return ok ? 0 : 1;
}

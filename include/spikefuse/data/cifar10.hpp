// CIFAR-10 binary reader, per-channel normalisation, crop/flip augmentation, synthetic data.
#pragma once

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "spikefuse/data/idx.hpp"

namespace spikefuse::data {

/// Images of channels x rows x cols floats, channel-major (C, H, W) within a sample, sample after
/// sample, with their labels. A sibling of `dataset`, which has no channel count; to_dataset()
/// hands the same samples to code that takes a `dataset`.
struct image_dataset {
  int count = 0, channels = 0, rows = 0, cols = 0, num_classes = 0;
  std::vector<float> images;  // count * channels * rows * cols
  std::vector<std::uint8_t> labels;
  int plane() const { return rows * cols; }
  int features() const { return channels * rows * cols; }
};

/// The same samples as a `dataset` (for the encoders, truncate() and the trainers): the channel
/// planes are stacked as channels * rows rows of cols, so features() and every sample's floats are
/// unchanged. Takes d by value: std::move it in to avoid copying the images.
inline dataset to_dataset(image_dataset d) {
  dataset out;
  out.count = d.count;
  out.rows = d.channels * d.rows;
  out.cols = d.cols;
  out.num_classes = d.num_classes;
  out.images = std::move(d.images);
  out.labels = std::move(d.labels);
  return out;
}

inline constexpr int cifar10_channels = 3;
inline constexpr int cifar10_side = 32;
inline constexpr int cifar10_num_classes = 10;
inline constexpr int cifar10_image_bytes = cifar10_channels * cifar10_side * cifar10_side;
inline constexpr int cifar10_record_bytes = 1 + cifar10_image_bytes;  // label byte first

inline constexpr std::array<const char*, 5> cifar10_train_files = {
    "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin",
    "data_batch_5.bin"};
inline constexpr const char* cifar10_test_file = "test_batch.bin";
/// The folder the official cifar-10-binary.tar.gz extracts to.
inline constexpr const char* cifar10_archive_folder = "cifar-10-batches-bin";

inline constexpr std::array<const char*, 10> cifar10_class_names = {
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};

/// Per-channel (R, G, B) mean and standard deviation used by the OTTT and SLTT training scripts.
inline constexpr std::array<float, 3> cifar10_mean = {0.4914f, 0.4822f, 0.4465f};
inline constexpr std::array<float, 3> cifar10_std = {0.2023f, 0.1994f, 0.2010f};

struct cifar10_paths {
  std::vector<std::string> train;  // the five data_batch_k.bin, in order
  std::string test;
};

struct cifar10_split {
  image_dataset train, test;
};

namespace detail {

inline const std::string& cifar10_download_hint() {
  static const std::string hint =
      "download the CIFAR-10 binary version (cifar-10-binary.tar.gz) from "
      "https://www.cs.toronto.edu/~kriz/cifar.html, extract it, and pass the directory holding "
      "data_batch_1.bin ... test_batch.bin (or the one above cifar-10-batches-bin)";
  return hint;
}

inline image_dataset empty_cifar10() {
  image_dataset d;
  d.channels = cifar10_channels;
  d.rows = cifar10_side;
  d.cols = cifar10_side;
  d.num_classes = cifar10_num_classes;
  return d;
}

/// Appends the first min(records in file, max_records) records of one batch file to d. The whole
/// file's size is checked even when fewer records are taken, so a truncated file is never silently
/// accepted just because a subset was asked for.
inline void append_cifar10_batch(const std::string& path, image_dataset& d, int max_records) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (!fs::exists(st)) fail(path, "CIFAR-10 file not found; " + cifar10_download_hint());
  if (fs::is_directory(st)) fail(path, "is a directory, not a CIFAR-10 batch file");
  const std::uintmax_t size = fs::file_size(path, ec);
  if (ec) fail(path, "cannot read the file size: " + ec.message());
  const std::uintmax_t record = cifar10_record_bytes;
  if (size == 0) {
    fail(path, "empty file; a CIFAR-10 batch is a sequence of 3073-byte records "
               "(1 label byte + 3072 pixel bytes)");
  }
  if (size % record != 0) {
    fail(path, "size " + std::to_string(size) + " bytes is not a multiple of the 3073-byte "
               "CIFAR-10 record (1 label byte + 3072 pixel bytes): the file is truncated or not "
               "the binary version");
  }
  const std::uintmax_t records = size / record;
  if (records > static_cast<std::uintmax_t>(INT_MAX - d.count)) {
    fail(path, "absurd size: " + std::to_string(records) + " records");
  }
  const int take = static_cast<int>(
      std::min<std::uintmax_t>(records, static_cast<std::uintmax_t>(max_records)));
  if (take == 0) return;

  errno = 0;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    fail(path, std::string("cannot open: ") +
                   (errno != 0 ? std::strerror(errno) : "unknown error"));
  }
  std::vector<std::uint8_t> raw(static_cast<std::size_t>(take) * record);
  in.read(reinterpret_cast<char*>(raw.data()), static_cast<std::streamsize>(raw.size()));
  const auto got = static_cast<std::size_t>(in.gcount());
  if (got != raw.size()) {
    // The size was checked above, so this is a file that shrank or an I/O error.
    fail(path, "read error: expected " + std::to_string(raw.size()) + " bytes, got " +
                   std::to_string(got));
  }

  const std::size_t image = cifar10_image_bytes;
  const std::size_t first = static_cast<std::size_t>(d.count);
  d.images.resize((first + static_cast<std::size_t>(take)) * image);
  d.labels.resize(first + static_cast<std::size_t>(take));
  for (std::size_t r = 0; r < static_cast<std::size_t>(take); ++r) {
    const std::uint8_t* rec = raw.data() + r * record;
    if (rec[0] >= cifar10_num_classes) {
      fail(path, "label out of range in record " + std::to_string(r) + ": value " +
                     std::to_string(rec[0]) + " not in [0, 10)");
    }
    d.labels[first + r] = rec[0];
    // The file already stores R, G, B planes of row-major 32 x 32, the (C, H, W) layout wanted.
    // Division (not multiplication by 1/255) matches load_idx_pair: 255 -> exactly 1.0f.
    float* dst = d.images.data() + (first + r) * image;
    std::transform(rec + 1, rec + 1 + image, dst,
                   [](std::uint8_t p) { return static_cast<float>(p) / 255.0f; });
  }
  d.count += take;
}

/// Unbiased integer in [0, n) by rejection of the top partial block of 2^64 (n >= 1); written out
/// because std::uniform_int_distribution's algorithm is implementation-defined.
inline std::uint64_t unbiased_below(std::mt19937_64& rng, std::uint64_t n) {
  const std::uint64_t threshold = (0 - n) % n;  // 2^64 mod n
  for (;;) {
    const std::uint64_t x = rng();
    if (x >= threshold) return x % n;
  }
}

inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15u;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9u;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBu;
  return x ^ (x >> 31);
}

inline const float* image_of(const image_dataset& d, int i) {
  if (i < 0 || i >= d.count) {
    throw std::out_of_range("sample index " + std::to_string(i) + " not in [0, " +
                            std::to_string(d.count) + ")");
  }
  return d.images.data() + static_cast<std::size_t>(i) * static_cast<std::size_t>(d.features());
}

}  // namespace detail

/// Finds the six batch files in dir, or else in dir/cifar-10-batches-bin when dir holds none of
/// them; throws data_error naming every missing path and where to get the data.
inline cifar10_paths cifar10_layout(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw data_error("'" + dir + "': CIFAR-10 directory not found (or not a directory); " +
                     detail::cifar10_download_hint());
  }
  std::vector<std::string> names(cifar10_train_files.begin(), cifar10_train_files.end());
  names.emplace_back(cifar10_test_file);
  auto count_present = [&](const fs::path& base) {
    int n = 0;
    for (const auto& name : names) n += fs::is_regular_file(base / name, ec) ? 1 : 0;
    return n;
  };
  fs::path base = dir;
  if (count_present(base) == 0 && fs::is_directory(base / cifar10_archive_folder, ec)) {
    base /= cifar10_archive_folder;
  }
  std::string missing;
  for (const auto& name : names) {
    if (!fs::is_regular_file(base / name, ec)) {
      missing += (missing.empty() ? "'" : ", '") + (base / name).string() + "'";
    }
  }
  if (!missing.empty()) {
    // The Python version's batches have the same names without .bin and are pickles.
    const std::string python_hint =
        fs::exists(base / "data_batch_1", ec)
            ? " ('" + (base / "data_batch_1").string() + "' without .bin is the Python version)"
            : "";
    throw data_error("CIFAR-10 file(s) not found: " + missing + python_hint + "; " +
                     detail::cifar10_download_hint());
  }
  cifar10_paths p;
  for (const auto& name : cifar10_train_files) p.train.push_back((base / name).string());
  p.test = (base / cifar10_test_file).string();
  return p;
}

/// Reads CIFAR-10 binary batch files in order, keeping at most max_count records (the first ones);
/// files not reached are not opened. Pixels are scaled to [0, 1], (3, 32, 32) per sample.
/// std::invalid_argument if max_count < 0.
inline image_dataset read_cifar10_batches(std::span<const std::string> paths,
                                          int max_count = INT_MAX) {
  if (max_count < 0) {
    throw std::invalid_argument("read_cifar10_batches: max_count must be >= 0, got " +
                                std::to_string(max_count));
  }
  image_dataset d = detail::empty_cifar10();
  for (const auto& path : paths) {
    if (d.count >= max_count) break;
    detail::append_cifar10_batch(path, d, max_count - d.count);
  }
  return d;
}

/// The 50000 training and 10000 test images from the binary version in dir (see cifar10_layout),
/// optionally only the first max_train / max_test of each (quick runs).
inline cifar10_split load_cifar10(const std::string& dir, int max_train = INT_MAX,
                                  int max_test = INT_MAX) {
  const cifar10_paths p = cifar10_layout(dir);
  cifar10_split s;
  s.train = read_cifar10_batches(p.train, max_train);
  s.test = read_cifar10_batches(std::span<const std::string>(&p.test, 1), max_test);
  return s;
}

/// x = (x - mean[c]) / stddev[c] in place over `samples` consecutive samples of mean.size()
/// channel planes of `plane` floats each. Subtract-then-divide, in float, as torchvision's
/// Normalize does, so results match it bit for bit on the same inputs.
inline void normalize_channels(float* images, std::size_t samples, int plane,
                               std::span<const float> mean, std::span<const float> stddev) {
  if (mean.size() != stddev.size() || mean.empty() || plane < 0) {
    throw std::invalid_argument("normalize_channels: need equal, non-empty mean and stddev and "
                                "plane >= 0");
  }
  const std::size_t channels = mean.size();
  const std::size_t n = static_cast<std::size_t>(plane);
  for (std::size_t s = 0; s < samples; ++s) {
    for (std::size_t c = 0; c < channels; ++c) {
      float* p = images + (s * channels + c) * n;
      const float m = mean[c], sd = stddev[c];
      for (std::size_t k = 0; k < n; ++k) p[k] = (p[k] - m) / sd;
    }
  }
}

/// Normalises `samples` images of (3, 32, 32) with cifar10_mean / cifar10_std, e.g. a batch
/// written by augment_batch().
inline void normalize_cifar10(float* images, std::size_t samples) {
  normalize_channels(images, samples, cifar10_side * cifar10_side, cifar10_mean, cifar10_std);
}

/// Normalises the whole dataset in place (once: it does not know whether it already was);
/// std::invalid_argument unless it has 3 channels. Augment before normalising, see augment_batch.
inline void normalize_cifar10(image_dataset& d) {
  if (d.channels != cifar10_channels) {
    throw std::invalid_argument("normalize_cifar10: expected 3 channels, got " +
                                std::to_string(d.channels));
  }
  normalize_channels(d.images.data(), static_cast<std::size_t>(d.count), d.plane(), cifar10_mean,
                     cifar10_std);
}

/// One sample's augmentation: the crop's top-left corner in the image zero-padded by `padding` on
/// every side (0 .. 2 * padding in each axis; (padding, padding) keeps the image in place), and
/// whether to mirror left-right after cropping.
struct crop_flip {
  int top = 0, left = 0;
  bool flip = false;
};

/// torchvision's RandomCrop(size, padding) then RandomHorizontalFlip(0.5), drawn from rng as one
/// value k uniform in [0, 2 * s * s) with s = 2 * padding + 1 (unbiased rejection on rng(), so one
/// engine draw except with probability < 2^-56): top = k % s, left = (k / s) % s,
/// flip = k >= s * s. The crops are therefore a function of the engine's seed and the sequence of
/// calls only, identical across compilers and standard libraries.
inline crop_flip draw_crop_flip(std::mt19937_64& rng, int padding = 4) {
  if (padding < 0) {
    throw std::invalid_argument("draw_crop_flip: padding must be >= 0, got " +
                                std::to_string(padding));
  }
  const std::uint64_t s = 2 * static_cast<std::uint64_t>(padding) + 1;
  const std::uint64_t k = detail::unbiased_below(rng, 2 * s * s);
  return crop_flip{static_cast<int>(k % s), static_cast<int>((k / s) % s), k >= s * s};
}

/// Writes into dst (channels x rows x cols) the rows x cols window at (a.top, a.left) of src
/// zero-padded by `padding`, mirrored left-right when a.flip. dst must not overlap src.
inline void apply_crop_flip(const float* src, float* dst, int channels, int rows, int cols,
                            int padding, crop_flip a) {
  if (a.top < 0 || a.top > 2 * padding || a.left < 0 || a.left > 2 * padding) {
    throw std::invalid_argument("apply_crop_flip: offset (" + std::to_string(a.top) + ", " +
                                std::to_string(a.left) + ") not in [0, " +
                                std::to_string(2 * padding) + "] for padding " +
                                std::to_string(padding));
  }
  const int dy = a.top - padding, dx = a.left - padding;  // source = output + (dy, dx)
  for (int c = 0; c < channels; ++c) {
    const float* in = src + static_cast<std::ptrdiff_t>(c) * rows * cols;
    float* out = dst + static_cast<std::ptrdiff_t>(c) * rows * cols;
    for (int y = 0; y < rows; ++y) {
      float* row = out + static_cast<std::ptrdiff_t>(y) * cols;
      const int sy = y + dy;
      if (sy < 0 || sy >= rows) {
        std::fill(row, row + cols, 0.0f);
        continue;
      }
      const float* in_row = in + static_cast<std::ptrdiff_t>(sy) * cols;
      for (int x = 0; x < cols; ++x) {
        const int sx = (a.flip ? cols - 1 - x : x) + dx;
        row[x] = (sx >= 0 && sx < cols) ? in_row[sx] : 0.0f;
      }
    }
  }
}

/// One draw of torchtoolbox's Cutout() with its defaults, as the OTTT and SLTT CIFAR scripts apply
/// it (between RandomCrop and RandomHorizontalFlip, on the PIL image): with probability 0.5 a
/// box of area s·H·W, s ~ U(0.02, 0.4), and aspect r ~ U(0.4, 2.5), width ⌊√(s/r)⌋ and height
/// ⌊√(s·r)⌋, at a uniform position inside the image, is filled with one value c ~ U{0 … 255}. PIL
/// pastes an integer c into an RGB image as the colour (c, 0, 0): the first channel gets c / 255,
/// the others 0 (in the [0, 1] pixel space, before normalisation).
struct cutout_box {
  bool apply = false;
  int top = 0, left = 0, height = 0, width = 0;
  float value = 0.f;  // the first channel's fill, c / 255
};

/// A uniform double in [0, 1) from the top 53 bits of one engine draw (the same on every platform).
inline double uniform53(std::mt19937_64& rng) { return static_cast<double>(rng() >> 11) * 0x1p-53; }

inline cutout_box draw_cutout(std::mt19937_64& rng, int rows, int cols) {
  cutout_box box;
  if (uniform53(rng) >= 0.5) return box;
  const double area = (0.02 + (0.4 - 0.02) * uniform53(rng)) * rows * cols;
  const double aspect = 0.4 + (1 / 0.4 - 0.4) * uniform53(rng);
  box.apply = true;
  box.width = std::min(cols, static_cast<int>(std::sqrt(area / aspect)));
  box.height = std::min(rows, static_cast<int>(std::sqrt(area * aspect)));
  box.left = static_cast<int>(detail::unbiased_below(rng, static_cast<std::uint64_t>(cols - box.width) + 1));
  box.top = static_cast<int>(detail::unbiased_below(rng, static_cast<std::uint64_t>(rows - box.height) + 1));
  box.value = static_cast<float>(detail::unbiased_below(rng, 256)) / 255.f;
  return box;
}

/// Fills `box` of one image (channels x rows x cols, [0, 1] pixels): (value, 0, 0, …) per pixel.
/// Cutout before the flip or after it is the same distribution (the box's left edge is uniform
/// over a range symmetric under the mirror), so it can follow apply_crop_flip.
inline void apply_cutout(float* image, int channels, int rows, int cols, const cutout_box& box) {
  if (!box.apply) return;
  for (int c = 0; c < channels; ++c)
    for (int y = box.top; y < box.top + box.height; ++y) {
      float* row = image + (static_cast<std::ptrdiff_t>(c) * rows + y) * cols;
      std::fill(row + box.left, row + box.left + box.width, c == 0 ? box.value : 0.f);
    }
}

/// Writes augmented copies of samples idx[0..n) of d into out[n * d.features()]: for each sample in
/// order, draw_crop_flip(rng, padding) then apply_crop_flip, and with `cutout` draw_cutout then
/// apply_cutout (the OTTT/SLTT scripts' RandomCrop, Cutout, RandomHorizontalFlip).
///
/// The padding is 0 in the [0, 1] pixel space, as in the OTTT/SLTT pipeline (RandomCrop(32,
/// padding=4) and RandomHorizontalFlip on the PIL image, then ToTensor, then Normalize): so pass
/// unnormalised images and normalise the batch afterwards (normalize_cifar10(out, n)), which turns
/// padded pixels into -mean / std exactly as torchvision does. Augmenting an already normalised
/// dataset would pad with the channel mean instead.
inline void augment_batch(const image_dataset& d, std::span<const int> idx, float* out,
                          std::mt19937_64& rng, int padding = 4, bool cutout = false) {
  const std::size_t f = static_cast<std::size_t>(d.features());
  for (std::size_t b = 0; b < idx.size(); ++b) {
    const float* src = detail::image_of(d, idx[b]);
    apply_crop_flip(src, out + b * f, d.channels, d.rows, d.cols, padding,
                    draw_crop_flip(rng, padding));
    if (cutout) apply_cutout(out + b * f, d.channels, d.rows, d.cols, draw_cutout(rng, d.rows, d.cols));
  }
}

/// Writes plain copies of samples idx[0..n) of d into out[n * d.features()] (evaluation batches).
inline void copy_batch(const image_dataset& d, std::span<const int> idx, float* out) {
  const std::size_t f = static_cast<std::size_t>(d.features());
  for (std::size_t b = 0; b < idx.size(); ++b) {
    const float* src = detail::image_of(d, idx[b]);
    std::copy(src, src + f, out + b * f);
  }
}

/// An engine for one epoch's augmentation that is a pure function of (seed, epoch), so a run
/// resumed at an epoch redraws the same crops: std::mt19937_64(splitmix64(seed) ^ (epoch *
/// 0x9E3779B97F4A7C15)). The seed is mixed first so that the same seed given to the batcher
/// (which seeds with seed ^ epoch * the same constant) does not produce the same stream.
inline std::mt19937_64 augmentation_rng(std::uint64_t seed, int epoch) {
  if (epoch < 0) {
    throw std::invalid_argument("augmentation_rng: epoch must be >= 0, got " +
                                std::to_string(epoch));
  }
  constexpr std::uint64_t golden = 0x9E3779B97F4A7C15u;
  return std::mt19937_64(detail::splitmix64(seed) ^ (static_cast<std::uint64_t>(epoch) * golden));
}

/// Each class's mean colour (R, G, B bytes) in synthetic_cifar10: far enough apart (at least 60
/// in some channel) that the average colour of an image identifies its class.
inline constexpr std::array<std::array<std::uint8_t, 3>, 10> synthetic_cifar10_colours = {{
    {200, 60, 60},   {60, 200, 60},  {60, 60, 200},   {200, 200, 60},  {200, 60, 200},
    {60, 200, 200},  {128, 128, 128}, {230, 140, 30}, {30, 140, 230},  {140, 30, 230},
}};

/// `count` samples of CIFAR-10's shape (3 x 32 x 32, 10 classes, [0, 1]) for benchmarking without
/// the files, a pure function of (count, seed) on every platform. From std::mt19937_64(seed), per
/// sample: the label is unbiased_below(10) (one draw, rejection aside); then 384 draws give the
/// 3072 pixel bytes in (C, H, W) order, eight per draw from the low byte up, each
/// clamp(colour[label][c] + (byte >> 1) - 64, 0, 255) / 255. The labels are thus learnable from the
/// mean colour alone (uniform noise in [-64, 63] around synthetic_cifar10_colours).
inline image_dataset synthetic_cifar10(int count, std::uint64_t seed) {
  if (count < 0) {
    throw std::invalid_argument("synthetic_cifar10: count must be >= 0, got " +
                                std::to_string(count));
  }
  image_dataset d = detail::empty_cifar10();
  d.count = count;
  const std::size_t image = cifar10_image_bytes;
  const std::size_t plane = cifar10_side * cifar10_side;
  d.images.resize(static_cast<std::size_t>(count) * image);
  d.labels.resize(static_cast<std::size_t>(count));
  std::mt19937_64 rng(seed);
  for (std::size_t i = 0; i < static_cast<std::size_t>(count); ++i) {
    const auto label = static_cast<std::uint8_t>(detail::unbiased_below(rng, cifar10_num_classes));
    d.labels[i] = label;
    float* img = d.images.data() + i * image;
    std::uint64_t word = 0;
    for (std::size_t k = 0; k < image; ++k) {
      if (k % 8 == 0) word = rng();
      const int noise = static_cast<int>((word >> (8 * (k % 8))) & 0xFFu) / 2 - 64;
      const int base = synthetic_cifar10_colours[label][k / plane];
      img[k] = static_cast<float>(std::clamp(base + noise, 0, 255)) / 255.0f;
    }
  }
  return d;
}

}  // namespace spikefuse::data

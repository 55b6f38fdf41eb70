// IDX reader (MNIST / Fashion-MNIST): magic, big-endian dims, uint8 payload; gzip or plain. Link -lz.
#pragma once

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace spikefuse::data {

/// Every problem with a data file (missing, malformed, inconsistent) is reported as a data_error
/// whose message names the file and says what is wrong.
struct data_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// `count` images of rows x cols unsigned bytes, row-major, image after image.
struct image_set {
  int count = 0, rows = 0, cols = 0;
  std::vector<std::uint8_t> pixels;  // count * rows * cols
};

struct label_set {
  int count = 0;
  std::vector<std::uint8_t> labels;
};

/// Images scaled to [0, 1] (pixel / 255) with their labels, ready for the encoders. A sample of C
/// channels is C*H rows of W (its planes stacked); rows = 1 is a flat record of `cols` features.
struct dataset {
  int count = 0, rows = 0, cols = 0, num_classes = 0;
  std::vector<float> images;  // count * rows * cols
  std::vector<std::uint8_t> labels;
  int features() const { return rows * cols; }
};

struct split_paths {
  std::string train_images, train_labels, test_images, test_labels;
};

/// Where Debian's `dataset-fashion-mnist` package installs the gzipped IDX files.
inline constexpr const char* default_fashion_mnist_dir = "/usr/share/datasets/fashion-mnist";

namespace detail {

// Limits that no real IDX image/label file reaches; they catch corrupt headers before a huge
// allocation is attempted.
inline constexpr std::uint64_t max_image_elems = std::uint64_t{1} << 24;  // rows * cols
inline constexpr std::uint64_t max_payload_bytes = std::uint64_t{1} << 31;

inline std::string hex32(std::uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08X", static_cast<unsigned>(v));
  return buf;
}

[[noreturn]] inline void fail(const std::string& path, const std::string& what) {
  throw data_error("'" + path + "': " + what);
}

/// RAII over a zlib file handle; gzread passes non-gzip files through unchanged, so one code path
/// serves both .gz and plain files.
class gz_reader {
 public:
  explicit gz_reader(const std::string& path) : path_(path) {
    std::error_code ec;
    const auto st = std::filesystem::status(path, ec);
    if (!std::filesystem::exists(st)) fail(path, "file not found");
    if (std::filesystem::is_directory(st)) fail(path, "is a directory, not an IDX file");
    errno = 0;
    f_ = gzopen(path.c_str(), "rb");
    if (f_ == nullptr) {
      fail(path, std::string("cannot open: ") +
                     (errno != 0 ? std::strerror(errno) : "zlib could not allocate its state"));
    }
  }
  gz_reader(const gz_reader&) = delete;
  gz_reader& operator=(const gz_reader&) = delete;
  ~gz_reader() { gzclose(f_); }

  /// Reads up to n bytes into dst; returns how many were read (fewer only at end of data).
  std::size_t read_some(void* dst, std::size_t n) {
    auto* p = static_cast<unsigned char*>(dst);
    std::size_t got = 0;
    while (got < n) {
      // gzread takes an unsigned length and returns int, so large reads are split.
      const unsigned chunk = static_cast<unsigned>(std::min<std::size_t>(n - got, 1u << 30));
      const int r = gzread(f_, p + got, chunk);
      if (r < 0) fail(path_, "read error: " + zlib_message());
      if (r == 0) break;
      got += static_cast<std::size_t>(r);
    }
    return got;
  }

  /// Appends exactly n bytes to out, or throws naming what was expected; `what` says which part.
  /// The buffer grows as data arrives so that a corrupt header promising gigabytes fails on the
  /// missing data rather than on the allocation.
  void read_exact(std::vector<std::uint8_t>& out, std::size_t n, const char* what,
                  std::size_t already_read) {
    const std::size_t start = out.size();
    std::size_t got = 0;
    constexpr std::size_t step = std::size_t{16} << 20;
    while (got < n) {
      const std::size_t want = std::min(n - got, step);
      out.resize(start + got + want);
      const std::size_t r = read_some(out.data() + start + got, want);
      got += r;
      if (r < want) {
        out.resize(start + got);
        std::string msg = "truncated " + std::string(what) + ": expected " +
                          std::to_string(already_read + n) + " bytes, got " +
                          std::to_string(already_read + got);
        if (const std::string z = zlib_error(); !z.empty()) msg += " (gzip: " + z + ")";
        fail(path_, msg);
      }
    }
  }

  /// Throws if anything follows the declared payload; counts the extra bytes for the message.
  void expect_eof(std::size_t expected_total) {
    unsigned char buf[4096];
    std::size_t extra = 0;
    for (;;) {
      const std::size_t r = read_some(buf, sizeof buf);
      extra += r;
      if (r < sizeof buf) break;
    }
    if (extra != 0) {
      fail(path_, "trailing garbage: " + std::to_string(extra) + " byte(s) beyond the " +
                      std::to_string(expected_total) + " promised by the header");
    }
  }

 private:
  std::string zlib_error() {
    int err = Z_OK;
    const char* msg = gzerror(f_, &err);
    if (err == Z_OK || msg == nullptr) return {};
    std::string s = msg;
    // zlib prefixes the path, which the caller's message already names.
    if (const std::string prefix = path_ + ": "; s.starts_with(prefix)) s.erase(0, prefix.size());
    return s;
  }
  std::string zlib_message() {
    int err = Z_OK;
    gzerror(f_, &err);
    if (err == Z_ERRNO) return std::strerror(errno);
    std::string s = zlib_error();
    return s.empty() ? "unknown zlib error" : s;
  }

  std::string path_;
  gzFile f_ = nullptr;
};

inline std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

/// Reads and checks the magic and the dimension sizes; returns the sizes.
inline std::vector<std::uint32_t> read_header(gz_reader& in, const std::string& path,
                                              std::uint32_t expected_magic, const char* kind) {
  std::vector<std::uint8_t> head;
  in.read_exact(head, 4, "header", 0);
  const std::uint32_t magic = be32(head.data());
  const unsigned expected_dims = expected_magic & 0xFFu;
  // The top three bytes are fixed (0, 0, type 0x08 = unsigned byte); the last is the dim count.
  if ((magic & 0xFFFFFF00u) != (expected_magic & 0xFFFFFF00u)) {
    fail(path, std::string("wrong magic number for an IDX ") + kind + " file: expected " +
                   hex32(expected_magic) + ", found " + hex32(magic));
  }
  const unsigned dims = magic & 0xFFu;
  if (dims != expected_dims) {
    fail(path, std::string("wrong dimension count for an IDX ") + kind + " file: expected " +
                   std::to_string(expected_dims) + ", found " + std::to_string(dims) +
                   " (magic " + hex32(magic) + ", expected " + hex32(expected_magic) + ")");
  }
  in.read_exact(head, 4 * std::size_t{dims}, "header", 4);
  std::vector<std::uint32_t> sizes(dims);
  for (unsigned d = 0; d < dims; ++d) sizes[d] = be32(head.data() + 4 + 4 * d);
  return sizes;
}

}  // namespace detail

/// Reads an IDX3 unsigned-byte file (magic 0x00000803; dims count, rows, cols).
inline image_set read_idx_images(const std::string& path) {
  detail::gz_reader in(path);
  const auto dims = detail::read_header(in, path, 0x00000803u, "image");
  const std::uint64_t count = dims[0], rows = dims[1], cols = dims[2];
  const std::string shape =
      std::to_string(count) + " x " + std::to_string(rows) + " x " + std::to_string(cols);
  if (count == 0 || rows == 0 || cols == 0) detail::fail(path, "zero size in header: " + shape);
  if (rows * cols > detail::max_image_elems) {
    detail::fail(path, "absurd image size in header: " + std::to_string(rows) + " x " +
                           std::to_string(cols) + " exceeds " +
                           std::to_string(detail::max_image_elems) + " pixels");
  }
  const std::uint64_t total = count * rows * cols;
  if (count > static_cast<std::uint64_t>(INT_MAX) || total > detail::max_payload_bytes) {
    detail::fail(path, "absurd size in header: " + shape + " exceeds " +
                           std::to_string(detail::max_payload_bytes) + " bytes");
  }
  const std::size_t header_bytes = 16;
  image_set s;
  s.count = static_cast<int>(count);
  s.rows = static_cast<int>(rows);
  s.cols = static_cast<int>(cols);
  in.read_exact(s.pixels, static_cast<std::size_t>(total), "image data", header_bytes);
  in.expect_eof(header_bytes + static_cast<std::size_t>(total));
  return s;
}

/// Reads an IDX1 unsigned-byte file (magic 0x00000801); every label must be < num_classes
/// (std::invalid_argument unless 1 <= num_classes <= 256).
inline label_set read_idx_labels(const std::string& path, int num_classes = 10) {
  if (num_classes < 1 || num_classes > 256) {
    throw std::invalid_argument("read_idx_labels: num_classes must be in [1, 256], got " +
                                std::to_string(num_classes));
  }
  detail::gz_reader in(path);
  const auto dims = detail::read_header(in, path, 0x00000801u, "label");
  const std::uint64_t count = dims[0];
  if (count == 0) detail::fail(path, "zero label count in header");
  if (count > static_cast<std::uint64_t>(INT_MAX)) {
    detail::fail(path, "absurd label count in header: " + std::to_string(count));
  }
  const std::size_t header_bytes = 8;
  label_set s;
  s.count = static_cast<int>(count);
  in.read_exact(s.labels, static_cast<std::size_t>(count), "label data", header_bytes);
  in.expect_eof(header_bytes + static_cast<std::size_t>(count));
  for (std::size_t i = 0; i < s.labels.size(); ++i) {
    if (s.labels[i] >= num_classes) {
      detail::fail(path, "label out of range at index " + std::to_string(i) + ": value " +
                             std::to_string(s.labels[i]) + " not in [0, " +
                             std::to_string(num_classes) + ")");
    }
  }
  return s;
}

/// Loads an image file and its label file, checks that the counts agree, and scales pixels to
/// [0, 1].
inline dataset load_idx_pair(const std::string& images_path, const std::string& labels_path,
                             int num_classes = 10) {
  image_set img = read_idx_images(images_path);
  label_set lab = read_idx_labels(labels_path, num_classes);
  if (img.count != lab.count) {
    throw data_error("image/label count mismatch: '" + images_path + "' has " +
                     std::to_string(img.count) + " images, '" + labels_path + "' has " +
                     std::to_string(lab.count) + " labels");
  }
  dataset d;
  d.count = img.count;
  d.rows = img.rows;
  d.cols = img.cols;
  d.num_classes = num_classes;
  d.images.resize(img.pixels.size());
  // Division (not multiplication by 1/255) keeps 255 -> exactly 1.0f and each value correctly
  // rounded.
  std::transform(img.pixels.begin(), img.pixels.end(), d.images.begin(),
                 [](std::uint8_t p) { return static_cast<float>(p) / 255.0f; });
  d.labels = std::move(lab.labels);
  return d;
}

/// Finds the four MNIST-named files in dir, taking `name.gz` when present and else `name`; throws
/// data_error listing every file for which neither exists.
inline split_paths mnist_layout(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw data_error("'" + dir + "': dataset directory not found (or not a directory)");
  }
  std::string missing;
  auto find = [&](const char* name) -> std::string {
    const fs::path base = fs::path(dir) / name;
    fs::path gz = base;
    gz += ".gz";
    std::error_code e;
    if (fs::is_regular_file(gz, e)) return gz.string();
    if (fs::is_regular_file(base, e)) return base.string();
    missing += (missing.empty() ? "" : ", ") + std::string(name) + "(.gz)";
    return {};
  };
  split_paths p;
  p.train_images = find("train-images-idx3-ubyte");
  p.train_labels = find("train-labels-idx1-ubyte");
  p.test_images = find("t10k-images-idx3-ubyte");
  p.test_labels = find("t10k-labels-idx1-ubyte");
  if (!missing.empty()) throw data_error("'" + dir + "': missing " + missing);
  return p;
}

}  // namespace spikefuse::data

// Checkpoint file: magic, version, network signature, counters, parameters, optimizer state, running statistics, FNV-1a checksum; written atomically.
//
// A checkpoint is written to `<path>.tmp`, flushed to disk and renamed over `<path>`, so a crash or a
// full disk never destroys the previous checkpoint. Loading checks every field and says what is wrong.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace spikefuse::io {

struct checkpoint_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct checkpoint_state {
  std::string network;            // dsl::network_signature<Net>()
  std::string method;             // e.g. "ottt_a"
  std::string optimizer;          // e.g. "adam"
  std::string run_config;         // settings a resume must share (seed, batch size, T, encoding, k, training set size, augmentation)
  std::int32_t epochs_done = 0;
  std::int64_t optimizer_steps = 0;
  std::uint64_t seed = 0;
  std::vector<float> parameters;
  std::vector<float> optimizer_state;  // slots × parameters
  std::vector<float> statistics;       // BatchNorm running mean/variance (empty without BatchNorm)
};

namespace detail {
inline constexpr char checkpoint_magic[8] = {'S', 'P', 'K', 'F', 'C', 'K', 'P', 'T'};
inline constexpr std::uint32_t checkpoint_version = 3;
/// Version 2 files (no running statistics) are still read: they come from networks without BatchNorm.
inline constexpr std::uint32_t oldest_readable_version = 2;

struct fnv1a {
  std::uint64_t h = 1469598103934665603ull;
  void feed(const void* p, std::size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (std::size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  }
};

class writer {
 public:
  explicit writer(std::FILE* f) : f_(f) {}
  void bytes(const void* p, std::size_t n) {
    if (n && std::fwrite(p, 1, n, f_) != n) ok_ = false;
    sum_.feed(p, n);
  }
  template <class T>
  void pod(const T& v) { bytes(&v, sizeof v); }
  void str(const std::string& s) {
    pod(static_cast<std::uint32_t>(s.size()));
    bytes(s.data(), s.size());
  }
  void floats(const std::vector<float>& v) {
    pod(static_cast<std::uint64_t>(v.size()));
    bytes(v.data(), v.size() * sizeof(float));
  }
  std::uint64_t checksum() const { return sum_.h; }
  bool ok() const { return ok_; }

 private:
  std::FILE* f_;
  fnv1a sum_;
  bool ok_ = true;
};

class reader {
 public:
  reader(std::FILE* f, std::string path, std::uint64_t file_size)
      : f_(f), path_(std::move(path)), file_size_(file_size) {}
  void bytes(void* p, std::size_t n) {
    if (n && std::fread(p, 1, n, f_) != n) fail("the file is truncated");
    sum_.feed(p, n);
  }
  template <class T>
  T pod() {
    T v{};
    bytes(&v, sizeof v);
    return v;
  }
  std::string str() {
    const auto n = pod<std::uint32_t>();
    if (n > (1u << 20)) fail("a text field claims " + std::to_string(n) + " bytes: the file is corrupt");
    std::string s(n, '\0');
    bytes(s.data(), n);
    return s;
  }
  std::vector<float> floats() {
    const auto n = pod<std::uint64_t>();
    // Check against the bytes left before allocating: a corrupt length must not ask for gigabytes.
    const auto pos = static_cast<std::uint64_t>(std::ftell(f_));
    if (n > (file_size_ - pos) / sizeof(float)) fail("the file is truncated (an array claims " + std::to_string(n) + " floats)");
    std::vector<float> v(static_cast<std::size_t>(n));
    bytes(v.data(), v.size() * sizeof(float));
    return v;
  }
  std::uint64_t checksum() const { return sum_.h; }
  [[noreturn]] void fail(const std::string& why) const { throw checkpoint_error("checkpoint " + path_ + ": " + why); }

 private:
  std::FILE* f_;
  std::string path_;
  std::uint64_t file_size_;
  fnv1a sum_;
};

/// Makes a rename durable: the directory entry is flushed too.
inline void sync_directory(const std::string& path) {
  const auto dir = std::filesystem::path(path).parent_path();
  const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;  // best effort: the file itself is already on disk
  ::fsync(fd);
  ::close(fd);
}
}  // namespace detail

/// Writes atomically: the previous file at `path` stays intact until the new one is complete on disk.
inline void save_checkpoint(const std::string& path, const checkpoint_state& s) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw checkpoint_error("cannot write checkpoint " + tmp + ": " + std::strerror(errno));
  detail::writer w(f);
  w.bytes(detail::checkpoint_magic, sizeof detail::checkpoint_magic);
  w.pod(detail::checkpoint_version);
  w.str(s.network);
  w.str(s.method);
  w.str(s.optimizer);
  w.str(s.run_config);
  w.pod(s.epochs_done);
  w.pod(s.optimizer_steps);
  w.pod(s.seed);
  w.floats(s.parameters);
  w.floats(s.optimizer_state);
  w.floats(s.statistics);
  const std::uint64_t sum = w.checksum();
  w.pod(sum);
  bool ok = w.ok() && std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    throw checkpoint_error("failed to write checkpoint " + tmp + " (disk full?); the previous checkpoint is untouched");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    throw checkpoint_error("cannot rename " + tmp + " to " + path + ": " + ec.message());
  }
  detail::sync_directory(path);
}

inline checkpoint_state load_checkpoint(const std::string& path) {
  if (std::filesystem::is_directory(path)) throw checkpoint_error("checkpoint " + path + " is a directory, not a file");
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw checkpoint_error("cannot open checkpoint " + path + ": " + std::strerror(errno));
  struct closer {
    std::FILE* f;
    ~closer() { std::fclose(f); }
  } close_on_exit{f};
  std::error_code size_ec;
  const auto file_size = std::filesystem::file_size(path, size_ec);
  detail::reader r(f, path, size_ec ? 0 : static_cast<std::uint64_t>(file_size));
  char magic[8];
  r.bytes(magic, sizeof magic);
  if (std::memcmp(magic, detail::checkpoint_magic, sizeof magic) != 0) r.fail("not a spikefuse checkpoint (bad magic)");
  const auto version = r.pod<std::uint32_t>();
  if (version < detail::oldest_readable_version || version > detail::checkpoint_version)
    r.fail("format version " + std::to_string(version) + ", this build reads versions " +
           std::to_string(detail::oldest_readable_version) + " to " + std::to_string(detail::checkpoint_version));
  checkpoint_state s;
  s.network = r.str();
  s.method = r.str();
  s.optimizer = r.str();
  s.run_config = r.str();
  s.epochs_done = r.pod<std::int32_t>();
  s.optimizer_steps = r.pod<std::int64_t>();
  s.seed = r.pod<std::uint64_t>();
  s.parameters = r.floats();
  s.optimizer_state = r.floats();
  if (version >= 3) s.statistics = r.floats();
  const std::uint64_t expected = r.checksum();
  std::uint64_t stored = 0;
  if (std::fread(&stored, 1, sizeof stored, f) != sizeof stored) r.fail("the file is truncated (no checksum)");
  if (stored != expected) r.fail("checksum mismatch: the file is corrupt (delete it, or run without --resume)");
  if (std::fgetc(f) != EOF) r.fail("trailing bytes after the checksum: the file is corrupt");
  return s;
}

}  // namespace spikefuse::io

// Checks that every `<!-- snippet: FILE#NAME -->` code block in the given Markdown files is, line for
// line (indentation removed), the region between the two `// [NAME]` (or `# [NAME]`) lines of
// docs/examples/FILE, and
// that every `<!-- output: NAME -->` block is, line for line, a run of lines that the program given as
// `--output NAME=PATH` prints. Run by CTest (docs_snippets) so the documented code is the compiled code
// and the documented output what it prints.
//
//   check_snippets EXAMPLES_DIR [--output NAME=PATH]... FILE.md...
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::vector<std::string> region(const std::string& file, const std::string& name) {
  const auto src = lines_of(file);
  std::vector<std::size_t> marks;
  for (std::size_t i = 0; i < src.size(); ++i)
    if (trim(src[i]) == "// [" + name + "]" || trim(src[i]) == "# [" + name + "]") marks.push_back(i);
  if (marks.size() != 2) throw std::runtime_error(file + ": region [" + name + "] needs exactly two markers");
  std::vector<std::string> out;
  for (std::size_t i = marks[0] + 1; i < marks[1]; ++i) out.push_back(trim(src[i]));
  return out;
}

/// The trimmed lines `program` prints on stdout (run once; it must exit 0).
std::vector<std::string> output_of(const std::string& program) {
  std::string quoted = "'";  // the shell sees one word, whatever the path holds
  for (const char c : program) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  quoted += "'";
  FILE* pipe = ::popen(quoted.c_str(), "r");
  if (!pipe) throw std::runtime_error("cannot run " + program);
  std::string text;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, pipe)) > 0;) text.append(buf, n);
  if (::pclose(pipe) != 0) throw std::runtime_error(program + " failed");
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(trim(l));
  return out;
}

/// The code block after the marker on line i, trimmed; `end` is set to the closing fence's line.
std::vector<std::string> block_after(const std::vector<std::string>& md, std::size_t i, std::size_t& end) {
  std::vector<std::string> block;
  std::size_t j = i + 2;
  for (; j < md.size() && md[j].rfind("```", 0) != 0; ++j) block.push_back(trim(md[j]));
  end = j;
  return block;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: check_snippets EXAMPLES_DIR [--output NAME=PATH]... FILE.md...\n";
    return 2;
  }
  const std::string examples = argv[1];
  std::map<std::string, std::string> programs;            // NAME -> PATH
  std::map<std::string, std::vector<std::string>> printed;  // NAME -> its output, once run
  int a = 2;
  for (; a + 1 < argc && std::string(argv[a]) == "--output"; a += 2) {
    const std::string spec = argv[a + 1];
    const auto eq = spec.find('=');
    if (eq == std::string::npos) {
      std::cerr << "--output takes NAME=PATH, not '" << spec << "'\n";
      return 2;
    }
    programs[spec.substr(0, eq)] = spec.substr(eq + 1);
  }
  const std::regex snippet(R"(<!-- snippet: ([A-Za-z0-9_./]+)#([A-Za-z0-9_-]+) -->)");
  const std::regex output(R"(<!-- output: ([A-Za-z0-9_.-]+) -->)");
  int checked = 0, failures = 0;
  try {
    for (; a < argc; ++a) {
      const auto md = lines_of(argv[a]);
      for (std::size_t i = 0; i < md.size(); ++i) {
        std::smatch m;
        const bool is_snippet = std::regex_search(md[i], m, snippet);
        if (!is_snippet && !std::regex_search(md[i], m, output)) {
          if (md[i].find("<!-- snippet:") != std::string::npos || md[i].find("<!-- output:") != std::string::npos) {
            std::cerr << argv[a] << ":" << i + 1 << ": a marker this checker cannot read: " << md[i] << "\n";
            ++failures;  // it would otherwise be skipped in silence
          }
          continue;
        }
        if (i + 1 >= md.size() || md[i + 1].rfind("```", 0) != 0) {
          std::cerr << argv[a] << ":" << i + 1 << ": marker not followed by a code block\n";
          ++failures;
          continue;
        }
        std::size_t end = i;
        const auto block = block_after(md, i, end);
        ++checked;
        if (is_snippet) {
          if (block != region(examples + "/" + m[1].str(), m[2].str())) {
            ++failures;
            std::cerr << argv[a] << ":" << i + 1 << ": code block differs from " << m[1] << " [" << m[2] << "]\n";
          }
        } else if (!programs.count(m[1].str())) {
          ++failures;
          std::cerr << argv[a] << ":" << i + 1 << ": no --output " << m[1] << "=PATH to check this block against\n";
        } else {
          auto [it, fresh] = printed.try_emplace(m[1].str());
          if (fresh) it->second = output_of(programs[m[1].str()]);
          if (block.empty() || std::search(it->second.begin(), it->second.end(), block.begin(), block.end()) == it->second.end()) {
            ++failures;
            std::cerr << argv[a] << ":" << i + 1 << ": this block is not what " << m[1] << " prints\n";
          }
        }
        i = end;
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  std::cout << checked << " snippets and outputs checked, " << failures << " differ\n";
  return (failures == 0 && checked > 0) ? 0 : 1;
}

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <map>

#include <yaml-cpp/yaml.h>

#include "config/config.hpp"
#include "config/internal.hpp"
#include "error/error.hpp"

namespace waddle::config {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxConfigBytes = 4 * 1024 * 1024;
constexpr std::size_t kMaxSecretBytes = 64 * 1024;
constexpr std::string_view kFileSuffix = "_file";

// Reads a regular file of at most max_bytes; returns an error message, empty on success.
// Non-blocking open so that a FIFO named by mistake cannot hang the daemon at start.
std::string read_small_file(const std::string& path, std::size_t max_bytes, std::string& out,
                            int* open_errno = nullptr) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    if (open_errno) *open_errno = errno;
    return std::strerror(errno);
  }
  struct stat st {};
  std::string error;
  if (::fstat(fd, &st) != 0) {
    error = std::strerror(errno);
  } else if (!S_ISREG(st.st_mode)) {
    error = S_ISDIR(st.st_mode) ? "is a directory" : "not a regular file";
  } else {
    out.clear();
    char buf[8192];
    for (;;) {
      ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        error = std::strerror(errno);
        break;
      }
      if (n == 0) break;
      out.append(buf, static_cast<std::size_t>(n));
      if (out.size() > max_bytes) {
        error = "larger than " + std::to_string(max_bytes) + " bytes";
        break;
      }
    }
  }
  ::close(fd);
  return error;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// "; did you mean "x"?" when a candidate is close enough to be a likely typo, else "".
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  std::size_t limit = word.size() <= 3 ? 1 : word.size() <= 7 ? 2 : 3;
  const std::string* best = nullptr;
  std::size_t best_distance = limit + 1;
  for (const auto& c : candidates) {
    auto d = edit_distance(word, c);
    if (d < best_distance) {
      best = &c;
      best_distance = d;
    }
  }
  return best ? "; did you mean \"" + *best + "\"?" : std::string();
}

std::string quoted(std::string_view text) {
  return internal::json_text(json(std::string(text)));
}

std::string shown(const KeySpec& spec, std::string_view text) {
  return spec.secret ? std::string("a value (hidden: secret)") : quoted(text);
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += sep;
    out += item;
  }
  return out;
}

std::string node_kind(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Null: return "nothing";
    default: return "a scalar";
  }
}

int line_of(const YAML::Node& node) {
  auto mark = node.Mark();
  return mark.is_null() ? 0 : mark.line + 1;
}

std::string trim(std::string_view s) {
  auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return out;
}

struct Parsed {
  json value;
  std::string error;  // non-empty when the text did not fit the type
};

std::string format_bound(const KeySpec& spec, double bound) {
  if (spec.type == Type::duration) return format_duration(static_cast<std::int64_t>(bound));
  return internal::json_text(json(bound == std::floor(bound) && std::abs(bound) < 1e15
                                      ? json(static_cast<std::int64_t>(bound))
                                      : json(bound)));
}

std::string check_bounds(const KeySpec& spec, const json& value) {
  if (!spec.min && !spec.max) return {};
  double m = 0;
  std::string what;
  switch (spec.type) {
    case Type::string:
    case Type::enumeration:
      m = static_cast<double>(value.get_ref<const std::string&>().size());
      what = "length ";
      break;
    case Type::string_list:
      m = static_cast<double>(value.size());
      what = "number of items ";
      break;
    case Type::boolean: return {};
    default: m = value.get<double>();
  }
  std::string range = "(allowed: " + (spec.min ? format_bound(spec, *spec.min) : "") + ".." +
                      (spec.max ? format_bound(spec, *spec.max) : "") + ")";
  auto current = what.empty() && !spec.secret
                     ? internal::json_text(internal::display_value(value, spec.type))
                 : what.empty() ? std::string("value")
                                : what + std::to_string(static_cast<std::int64_t>(m));
  if (spec.min && m < *spec.min) return current + " is below the minimum " + range;
  if (spec.max && m > *spec.max) return current + " is above the maximum " + range;
  return {};
}

// Parses a textual value (a YAML scalar, an environment variable, a secret file's content).
Parsed parse_text(const KeySpec& spec, std::string_view text) {
  Parsed p;
  switch (spec.type) {
    case Type::string: p.value = std::string(text); break;
    case Type::integer: {
      std::int64_t n = 0;
      auto t = text;
      if (!t.empty() && t.front() == '+') t.remove_prefix(1);
      auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), n);
      if (t.empty() || ec != std::errc() || ptr != t.data() + t.size()) {
        p.error = "expected an integer, got " + shown(spec, text);
      } else {
        p.value = n;
      }
      break;
    }
    case Type::number: {
      double d = 0;
      auto t = text;
      if (!t.empty() && t.front() == '+') t.remove_prefix(1);
      auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), d);
      if (t.empty() || ec != std::errc() || ptr != t.data() + t.size() || !std::isfinite(d)) {
        p.error = "expected a number, got " + shown(spec, text);
      } else {
        p.value = d;
      }
      break;
    }
    case Type::boolean: {
      auto l = lower(text);
      if (l == "true" || l == "yes" || l == "on" || l == "1") {
        p.value = true;
      } else if (l == "false" || l == "no" || l == "off" || l == "0") {
        p.value = false;
      } else {
        p.error = "expected true or false (or yes/no), got " + shown(spec, text);
      }
      break;
    }
    case Type::duration: {
      auto ms = parse_duration_ms(text);
      if (!ms) {
        p.error =
            "expected a duration such as 250ms, 30s, 5m or 1h (a bare number is seconds), "
            "got " +
            shown(spec, text);
      } else {
        p.value = *ms;
      }
      break;
    }
    case Type::string_list: {
      // Environment variables and files carry lists comma-separated.
      p.value = json::array();
      std::size_t start = 0;
      while (start <= text.size()) {
        auto comma = text.find(',', start);
        if (comma == std::string_view::npos) comma = text.size();
        auto item = trim(text.substr(start, comma - start));
        if (!item.empty()) p.value.push_back(item);
        start = comma + 1;
      }
      break;
    }
    case Type::enumeration: {
      std::string value(text);
      if (std::find(spec.choices.begin(), spec.choices.end(), value) == spec.choices.end()) {
        p.error = shown(spec, text) + " is not one of: " + join(spec.choices, ", ") +
                  (spec.secret ? std::string() : did_you_mean(value, spec.choices));
      } else {
        p.value = value;
      }
      break;
    }
  }
  if (p.error.empty()) p.error = check_bounds(spec, p.value);
  return p;
}

// Parses a YAML value; the node is not null.
Parsed parse_node(const KeySpec& spec, const YAML::Node& node) {
  if (spec.type == Type::string_list) {
    Parsed p;
    if (!node.IsSequence()) {
      p.error = "expected a list of strings (e.g. [a, b]), got " + node_kind(node);
      return p;
    }
    p.value = json::array();
    for (std::size_t i = 0; i < node.size(); ++i) {
      if (!node[i].IsScalar()) {
        p.error = "item " + std::to_string(i + 1) + " must be a string, got " + node_kind(node[i]);
        return p;
      }
      p.value.push_back(node[i].Scalar());
    }
    p.error = check_bounds(spec, p.value);
    return p;
  }
  if (!node.IsScalar()) {
    Parsed p;
    p.error = "expected " + std::string(spec.type == Type::integer ? "an " : "a ") +
              std::string(type_name(spec.type)) + ", got " + node_kind(node);
    return p;
  }
  return parse_text(spec, node.Scalar());
}

std::string strip_one_newline(std::string s) {
  if (!s.empty() && s.back() == '\n') {
    s.pop_back();
    if (!s.empty() && s.back() == '\r') s.pop_back();
  }
  return s;
}

}  // namespace

struct DocumentShape {
  int first_content_line = 0;    // 1-based; 0 when the text holds only comments and markers
  int second_document_line = 0;  // the "---" that starts a second document; 0 when none
};

// Finds content and document markers line by line. A leading "---" before any content opens the
// first document; one after content starts a second.
DocumentShape document_shape(std::string_view text) {
  DocumentShape shape;
  int line_no = 0;
  std::size_t pos = 0;
  while (pos <= text.size() && shape.second_document_line == 0) {
    auto end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    auto line = text.substr(pos, end - pos);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    bool marker =
        line.substr(0, 3) == "---" && (line.size() == 3 || line[3] == ' ' || line[3] == '\t');
    auto rest = marker ? line.substr(3) : line;
    auto first = rest.find_first_not_of(" \t");
    bool has_content = first != std::string_view::npos && rest[first] != '#' &&
                       !(rest == line && !line.empty() && line[0] == '%');
    if (marker && shape.first_content_line > 0) {
      shape.second_document_line = line_no;
    } else if (has_content && shape.first_content_line == 0) {
      shape.first_content_line = line_no;
    }
    pos = end + 1;
  }
  return shape;
}

class Loader {
 public:
  Loader(const Schema& schema, std::string name, const Environment& env)
      : schema_(std::make_shared<const Schema>(schema)),
        name_(std::move(name)),
        env_(env ? env : fixed_environment({})),
        file_value_(schema_->size()),
        file_line_(schema_->size(), 0),
        value_(schema_->size()),
        from_higher_source_(schema_->size(), false) {}

  LoadResult run(std::string_view text) {
    read_yaml(text);
    read_environment();
    read_credentials();
    finish();
    LoadResult result;
    result.errors = std::move(errors_);
    if (result.errors.empty()) {
      result.config = Config(schema_, std::move(value_), name_);
    }
    return result;
  }

 private:
  void error(std::string key, int line, std::string message, std::string file = {}) {
    errors_.push_back(
        {std::move(key), file.empty() ? name_ : std::move(file), line, std::move(message)});
  }
  void env_error(std::string var, std::string message) {
    errors_.push_back({std::move(var), std::string(), 0, std::move(message)});
  }

  // yaml-cpp 0.7's LoadAll loops forever on some malformed input (found by the config fuzz
  // target: ",routep"), so the document is read with Load, which stops after the first one, and
  // a second document is found by its "---" marker.
  void read_yaml(std::string_view text) {
    auto shape = document_shape(text);
    if (shape.second_document_line > 0) {
      error("", shape.second_document_line,
            "expected one YAML document, found a second one starting here");
      return;
    }
    YAML::Node doc;
    try {
      doc = YAML::Load(std::string(text));
    } catch (const YAML::Exception& e) {
      error("", e.mark.is_null() ? 0 : e.mark.line + 1, "malformed YAML: " + e.msg);
      return;
    }
    const auto& root = doc;
    if (root.IsNull()) {
      // yaml-cpp reads some garbage (",x") as an empty document: text that is not only comments
      // must give a mapping.
      if (shape.first_content_line > 0) {
        error("", shape.first_content_line,
              "malformed YAML: expected a mapping of sections (e.g. \"database:\")");
      }
      return;
    }
    if (!root.IsMap()) {
      error("", line_of(root),
            "the file must be a mapping of sections (e.g. \"database:\"), got " + node_kind(root));
      return;
    }
    auto sections = schema_->sections();
    std::map<std::string, int, std::less<>> seen;
    for (auto it = root.begin(); it != root.end(); ++it) {
      const YAML::Node key = it->first;  // a copy: it-> yields a temporary proxy
      int line = line_of(key);
      if (!key.IsScalar()) {
        error("", line, "section names must be plain words, got " + node_kind(key));
        continue;
      }
      auto section = key.Scalar();
      if (auto [first, inserted] = seen.emplace(section, line); !inserted) {
        error(section, line,
              "section appears twice (first at line " + std::to_string(first->second) + ")");
        continue;
      }
      if (schema_->ignores_section(section)) continue;
      if (!schema_->has_section(section)) {
        error(section, line, "unknown section" + did_you_mean(section, sections));
        continue;
      }
      section_line_[section] = line;
      read_section(section, it->second, line);
    }
  }

  void read_section(const std::string& section, const YAML::Node& node, int section_line) {
    if (node.IsNull()) return;  // a section whose keys are all commented out
    if (!node.IsMap()) {
      error(section, section_line, "expected a mapping of keys, got " + node_kind(node));
      return;
    }
    std::vector<std::string> names;
    for (const auto& spec : *schema_) {
      if (spec.section != section) continue;
      names.push_back(spec.name);
      if (spec.secret) names.push_back(spec.name + std::string(kFileSuffix));
    }
    std::map<std::string, int, std::less<>> seen;
    for (auto it = node.begin(); it != node.end(); ++it) {
      const YAML::Node key = it->first;  // a copy: it-> yields a temporary proxy
      int line = line_of(key);
      if (!key.IsScalar()) {
        error(section, line, "key names must be plain words, got " + node_kind(key));
        continue;
      }
      auto name = key.Scalar();
      auto full = section + "." + name;
      if (auto [first, inserted] = seen.emplace(name, line); !inserted) {
        error(full, line, "set twice (first at line " + std::to_string(first->second) + ")");
        continue;
      }
      if (auto i = schema_->index_of(section, name)) {
        read_value(*i, it->second, line);
        continue;
      }
      if (name.size() > kFileSuffix.size() && name.ends_with(kFileSuffix)) {
        auto base = name.substr(0, name.size() - kFileSuffix.size());
        if (auto i = schema_->index_of(section, base)) {
          if (schema_->keys()[*i].secret) {
            read_secret_path(*i, it->second, line);
          } else {
            error(full, line,
                  "only secret keys can be read from a file, and " + section + "." + base +
                      " is not secret; set " + base + " itself");
          }
          continue;
        }
      }
      std::string elsewhere;
      for (const auto& spec : *schema_) {
        if (spec.name == name) {
          elsewhere = " (" + name + " is a key of section \"" + spec.section + "\")";
          break;
        }
      }
      error(full, line, "unknown key" + did_you_mean(name, names) + elsewhere);
    }
  }

  // Records a value from the file, refusing a secret set both directly and through K_file.
  bool claim_file_slot(std::size_t i, int line) {
    if (file_line_[i] != 0) {
      const auto& spec = schema_->keys()[i];
      error(spec.section + "." + spec.name, line,
            "both " + spec.name + " and " + spec.name + std::string(kFileSuffix) +
                " are set (the other at line " + std::to_string(file_line_[i]) + "); use one");
      return false;
    }
    file_line_[i] = line;
    return true;
  }

  void read_value(std::size_t i, const YAML::Node& node, int line) {
    const auto& spec = schema_->keys()[i];
    if (node.IsNull()) return;  // "key:" with nothing leaves the key unset
    if (!claim_file_slot(i, line)) return;
    auto parsed = parse_node(spec, node);
    if (!parsed.error.empty()) {
      error(spec.section + "." + spec.name, line, parsed.error);
      return;
    }
    file_value_[i] = std::move(parsed.value);
  }

  void read_secret_path(std::size_t i, const YAML::Node& node, int line) {
    const auto& spec = schema_->keys()[i];
    auto path_key = spec.section + "." + spec.name + std::string(kFileSuffix);
    if (node.IsNull()) return;
    if (!claim_file_slot(i, line)) return;
    if (!node.IsScalar() || node.Scalar().empty()) {
      error(path_key, line, "expected a file path, got " + node_kind(node));
      return;
    }
    auto path = node.Scalar();
    std::string content;
    if (auto why = read_small_file(path, kMaxSecretBytes, content); !why.empty()) {
      error(path_key, line, "cannot read " + path + ": " + why);
      return;
    }
    auto parsed = parse_text(spec, strip_one_newline(std::move(content)));
    if (!parsed.error.empty()) {
      error(spec.section + "." + spec.name, line, "in " + path + ": " + parsed.error);
      return;
    }
    file_value_[i] = std::move(parsed.value);
  }

  void read_environment() {
    const auto& keys = schema_->keys();
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const auto& spec = keys[i];
      auto var = env_var_name(spec.section, spec.name);
      auto text = env_(var);
      std::optional<std::string> path;
      if (spec.secret) path = env_(var + "_FILE");
      auto overrides = " (overrides " + spec.section + "." + spec.name + ")";
      // Even a failed override counts as set, so that its error is not followed by a second
      // "required key is missing" for the same key.
      if (text || path) from_higher_source_[i] = true;
      if (text && path) {
        env_error(var, "both " + var + " and " + var + "_FILE are set; use one");
        continue;
      }
      if (path) {
        std::string content;
        if (auto why = read_small_file(*path, kMaxSecretBytes, content); !why.empty()) {
          env_error(var + "_FILE", "cannot read " + *path + ": " + why + overrides);
          continue;
        }
        text = strip_one_newline(std::move(content));
      }
      if (!text) continue;
      auto parsed = parse_text(spec, *text);
      if (!parsed.error.empty()) {
        env_error(path ? var + "_FILE" : var, parsed.error + overrides);
        continue;
      }
      value_[i] = std::move(parsed.value);
    }
  }

  void read_credentials() {
    auto dir = env_("CREDENTIALS_DIRECTORY");
    if (!dir || dir->empty()) return;
    const auto& keys = schema_->keys();
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const auto& spec = keys[i];
      if (!spec.secret || from_higher_source_[i] || file_line_[i] != 0) continue;
      auto path = *dir + "/" + spec.section + "." + spec.name;
      std::string content;
      int open_errno = 0;
      auto why = read_small_file(path, kMaxSecretBytes, content, &open_errno);
      if (open_errno == ENOENT) continue;  // no such credential: not an error
      auto full = spec.section + "." + spec.name;
      if (!why.empty()) {
        error(full, 0, "cannot read the credential: " + why, path);
        continue;
      }
      auto parsed = parse_text(spec, strip_one_newline(std::move(content)));
      if (!parsed.error.empty()) {
        error(full, 0, parsed.error, path);
        continue;
      }
      credential_value_.emplace(i, std::move(parsed.value));
    }
  }

  void finish() {
    const auto& keys = schema_->keys();
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (from_higher_source_[i]) continue;
      if (!file_value_[i].is_null()) {
        value_[i] = std::move(file_value_[i]);
      } else if (auto it = credential_value_.find(i); it != credential_value_.end()) {
        value_[i] = std::move(it->second);
      } else {
        value_[i] = keys[i].default_value;
      }
      if (value_[i].is_null() && keys[i].required && file_line_[i] == 0) {
        const auto& spec = keys[i];
        auto it = section_line_.find(spec.section);
        std::string how = "set " + spec.name + " in section \"" + spec.section + "\" or " +
                          env_var_name(spec.section, spec.name);
        if (spec.secret) {
          how += ", " + spec.name + std::string(kFileSuffix) + ", or the credential " +
                 spec.section + "." + spec.name;
        }
        error(spec.section + "." + spec.name, it == section_line_.end() ? 0 : it->second,
              "required key is missing; " + how);
      }
    }
  }

  std::shared_ptr<const Schema> schema_;
  std::string name_;
  Environment env_;
  std::vector<ConfigError> errors_;
  std::vector<json> file_value_;
  std::vector<int> file_line_;  // where the file set the key (directly or via K_file); 0 = not
  std::vector<json> value_;
  std::vector<bool> from_higher_source_;  // the environment set it (or tried to)
  std::map<std::size_t, json> credential_value_;
  std::map<std::string, int, std::less<>> section_line_;
};

LoadResult load_string(const Schema& schema, std::string_view yaml, std::string name,
                       const Environment& env) {
  return Loader(schema, std::move(name), env).run(yaml);
}

LoadResult load(const Schema& schema, const std::string& path, const Environment& env) {
  std::string text;
  if (auto why = read_small_file(path, kMaxConfigBytes, text); !why.empty()) {
    LoadResult result;
    result.errors.push_back({"", path, 0, "cannot read the config file: " + why});
    return result;
  }
  return load_string(schema, text, path, env);
}

Config load_or_throw(const Schema& schema, const std::string& path, const Environment& env) {
  auto result = load(schema, path, env);
  if (result.config) return std::move(*result.config);
  std::string message;
  for (const auto& e : result.errors) {
    if (!message.empty()) message += '\n';
    message += e.to_string();
  }
  throw Error(Errc::invalid_argument, message);
}

}  // namespace waddle::config

#include "hf/model_name.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <regex>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace edgelm {

namespace {

// Tags of one dash-separated part of a model id, as gguf-py annotates them.
enum PartTag : unsigned {
  kBasename = 1u << 0,
  kSizeLabel = 1u << 1,
  kFinetune = 1u << 2,
  kVersion = 1u << 3,
  kType = 1u << 4,
};

// Character classes in the sense of Python's str methods, for ASCII.
// NOTE: bytes of non-ASCII characters count as letters without case, so a
// name with non-ASCII letters can be capitalized differently than Python does.
bool is_decimal(char c) { return c >= '0' && c <= '9'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_alpha(char c) { return is_upper(c) || is_lower(c) || static_cast<unsigned char>(c) >= 0x80; }
char to_upper(char c) { return is_lower(c) ? static_cast<char>(c - 'a' + 'A') : c; }
char to_lower(char c) { return is_upper(c) ? static_cast<char>(c - 'A' + 'a') : c; }

bool full_match(const std::string& text, const char* pattern) {
  const std::regex regex(pattern, std::regex::ECMAScript | std::regex::icase);
  return std::regex_match(text, regex);
}

std::string upper(std::string text) {
  for (char& c : text) c = to_upper(c);
  return text;
}

// Python's str.islower(): some cased character and no uppercase one.
bool is_all_lowercase(std::string_view word) {
  bool has_lower = false;
  for (char c : word) {
    if (is_upper(c)) return false;
    has_lower = has_lower || is_lower(c);
  }
  return has_lower;
}

// Python's str.title(): a letter after a non-letter is uppercased, any other lowercased.
std::string title(std::string_view word) {
  std::string result(word);
  bool previous_cased = false;
  for (char& c : result) {
    const bool cased = is_upper(c) || is_lower(c);
    if (cased) {
      c = previous_cased ? to_lower(c) : to_upper(c);
    }
    previous_cased = cased;
  }
  return result;
}

std::vector<std::string> split_nonempty(std::string_view text, char separator) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(separator, start);
    if (end == std::string_view::npos) end = text.size();
    if (end > start) parts.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

std::optional<std::string> join_tagged(const std::vector<std::string>& parts, const std::vector<unsigned>& tags,
                                       unsigned wanted, unsigned excluded = 0, bool deduplicate = false) {
  std::vector<std::string> chosen;
  for (size_t i = 0; i < parts.size(); ++i) {
    if ((tags[i] & wanted) == 0 || (tags[i] & excluded) != 0) continue;
    if (deduplicate && std::find(chosen.begin(), chosen.end(), parts[i]) != chosen.end()) continue;
    chosen.push_back(parts[i]);
  }
  if (chosen.empty()) return std::nullopt;
  return fmt::format("{}", fmt::join(chosen, "-"));
}

// The number before the suffix of a size such as "1.5B", or nullopt where
// Python's float() would raise ("8x7", "A3", "smal").
std::optional<double> parse_size_number(std::string_view text) {
  double value = 0.0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Annotates a size part ("8b", "7b1", "32k"), normalizing its spelling, and
// returns its tags: a size label, or a finetune where it is far from the
// parameter count (then it is likely a context length).
unsigned tag_size_part(std::string& part, uint64_t total_params) {
  unsigned tags = 0;
  std::replace(part.begin(), part.end(), '_', '.');

  // BLOOM writes 7.1B as "7b1".
  if (part.size() >= 2 && is_decimal(part.back())) {
    const char digit = part[part.size() - 1];
    const char suffix = part[part.size() - 2];
    part = part.substr(0, part.size() - 2) + "." + digit + suffix;
  }
  if (part.size() > 1 && is_decimal(part[part.size() - 2]) && std::string_view("kmbt").find(part.back()) != std::string_view::npos) {
    part.back() = to_upper(part.back());
  }

  if (total_params != 0 && !part.empty()) {
    if (const auto number = parse_size_number(std::string_view(part).substr(0, part.size() - 1))) {
      const size_t scale_index = std::string_view(" KMBT").find(part.back());
      const double scale = scale_index == std::string_view::npos ? 1e-3 : std::pow(1000.0, static_cast<double>(scale_index));
      const long double label_params = static_cast<long double>(*number * scale);
      const long double threshold = static_cast<long double>(7 * (total_params / 8) + (7 * (total_params % 8)) / 8);
      if (std::fabs(label_params - static_cast<long double>(total_params)) > threshold) {
        tags |= kFinetune;
        part.back() = to_lower(part.back());
      }
    }
  }
  if (tags == 0) tags |= kSizeLabel;
  return tags;
}

void fill_missing(ModelNameMetadata& metadata, const ModelIdComponents& components) {
  if (!metadata.name && components.full_name) metadata.name = model_id_to_title(*components.full_name);
  if (!metadata.organization && components.organization) metadata.organization = model_id_to_title(*components.organization);
  if (!metadata.basename) metadata.basename = components.basename;
  if (!metadata.finetune) metadata.finetune = components.finetune;
  if (!metadata.version) metadata.version = components.version;
  if (!metadata.size_label) metadata.size_label = components.size_label;
}

// The last component of `dir`, ignoring a trailing separator. Relative paths
// such as "." are made absolute first, where the converter would take "."
// itself as the name.
std::string directory_name(const std::string& dir) {
  std::filesystem::path path = std::filesystem::path(dir).lexically_normal();
  if (path.filename().empty() || path.filename() == "." || path.filename() == "..") {
    std::error_code error;
    const std::filesystem::path absolute = std::filesystem::absolute(path, error);
    if (!error) path = absolute.lexically_normal();
  }
  if (path.filename().empty()) path = path.parent_path();
  return path.filename().string();
}

}  // namespace

ModelIdComponents split_model_id(std::string_view model_id, uint64_t total_params) {
  ModelIdComponents result;

  // An id with spaces is a plain name, not hub-style.
  if (model_id.find(' ') != std::string_view::npos) {
    result.full_name = std::string(model_id);
    return result;
  }

  std::string_view full_name = model_id;
  if (const size_t slash = model_id.find('/'); slash != std::string_view::npos) {
    result.organization = std::string(model_id.substr(0, slash));
    full_name = model_id.substr(slash + 1);
  }
  // "./model" or "../model" names no organization.
  if (result.organization && !result.organization->empty() && result.organization->front() == '.') {
    result.organization.reset();
  }
  result.full_name = std::string(full_name);

  std::vector<std::string> parts = split_nonempty(full_name, '-');
  std::vector<unsigned> tags(parts.size(), 0);
  for (size_t i = 0; i < parts.size(); ++i) {
    std::string& part = parts[i];
    if (full_match(part, R"((?:v|iter)?\d+(?:[.]\d+)*)")) {
      tags[i] |= kVersion;
    } else if (full_match(part, R"(i?q\d(?:_\w)*|b?fp?(?:16|32))")) {
      tags[i] |= kType;  // a quantization type such as "Q4_K" or "bf16"
      part = upper(part);
    } else if (i > 0 && full_match(part, R"((?:[A]|\d+[x])?\d+(?:[._]\d+)?[KMBT]\d?|small|mini|medium|large|x?xl)")) {
      tags[i] |= tag_size_part(part, total_params);
    } else if (i > 0 && full_match(part, "chat|instruct|vision|lora")) {
      tags[i] |= kFinetune;
    }
  }

  // A word size ("small") is no size label when a numeric one ("7B") is present.
  bool has_numeric_size = false;
  for (size_t i = 0; i < parts.size(); ++i) {
    if ((tags[i] & kSizeLabel) && std::any_of(parts[i].begin(), parts[i].end(), is_decimal)) has_numeric_size = true;
  }
  if (has_numeric_size) {
    for (size_t i = 0; i < parts.size(); ++i) {
      if ((tags[i] & kSizeLabel) && std::all_of(parts[i].begin(), parts[i].end(), is_alpha)) tags[i] &= ~kSizeLabel;
    }
  }

  // The basename is the leading run of untagged words and versions; any
  // untagged part after it belongs to the finetune.
  bool at_start = true;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (at_start && ((tags[i] == 0 && is_alpha(parts[i].front())) || (tags[i] & kVersion))) {
      tags[i] |= kBasename;
    } else {
      at_start = false;
      if (tags[i] == 0) tags[i] |= kFinetune;
    }
  }

  // A trailing version is no part of the basename.
  for (size_t i = parts.size(); i-- > 0;) {
    if ((tags[i] & kBasename) && tags[i] != kBasename) {
      tags[i] &= ~kBasename;
    } else {
      break;
    }
  }

  result.basename = join_tagged(parts, tags, kBasename);
  result.size_label = join_tagged(parts, tags, kSizeLabel, 0, /*deduplicate=*/true);
  result.finetune = join_tagged(parts, tags, kFinetune);
  result.version = join_tagged(parts, tags, kVersion, kBasename);

  // A bare name is too ambiguous to split.
  if (!result.size_label && !result.finetune && !result.version) {
    result.basename.reset();
  }
  return result;
}

std::string model_id_to_title(std::string_view model_id) {
  std::string spaced(model_id);
  for (char& c : spaced) {
    if (c == '-' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') c = ' ';
  }
  const std::vector<std::string> words = split_nonempty(spaced, ' ');

  std::vector<std::string> titled;
  for (const std::string& word : words) {
    const bool keep = !is_all_lowercase(word) || full_match(word, R"(v\d+(?:\.\d+)*|\d.*)");
    titled.push_back(keep ? word : title(word));
  }
  return fmt::format("{}", fmt::join(titled, " "));
}

std::string parameter_count_label(uint64_t n_params) {
  const double count = static_cast<double>(n_params);
  double scaled = 0.0;
  char suffix = 'K';
  if (count > 1e12) {
    scaled = count * 1e-12;
    suffix = 'T';
  } else if (count > 1e9) {
    scaled = count * 1e-9;
    suffix = 'B';
  } else if (count > 1e6) {
    scaled = count * 1e-6;
    suffix = 'M';
  } else {
    scaled = count * 1e-3;
  }

  // Digits to show after the point so that at least two significant digits
  // show; the integer part is rounded half to even, as Python's round().
  const double rounded = std::nearbyint(scaled);
  const std::string integer_digits = rounded == 0.0 ? "" : fmt::format("{:.0f}", rounded);
  const int decimals = std::max(2 - static_cast<int>(integer_digits.size()), 0);
  return fmt::format("{:.{}f}{}", scaled, decimals, suffix);
}

ModelNameMetadata derive_model_name(const std::string& dir, const std::optional<std::string>& name_or_path,
                                    uint64_t n_params) {
  ModelNameMetadata metadata;

  // "_name_or_path" is used only when it looks like a hub id, not a local path.
  if (name_or_path && std::count(name_or_path->begin(), name_or_path->end(), '/') <= 1) {
    fill_missing(metadata, split_model_id(*name_or_path, n_params));
  }

  const std::string dir_name = directory_name(dir);
  fill_missing(metadata, split_model_id(dir_name, n_params));

  if (!metadata.name) metadata.name = dir_name;
  if (!metadata.size_label && n_params > 0) metadata.size_label = parameter_count_label(n_params);
  return metadata;
}

}  // namespace edgelm

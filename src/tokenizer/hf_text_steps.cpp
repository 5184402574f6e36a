#include "tokenizer/hf_text_steps.h"

#include <algorithm>
#include <optional>

namespace edgelm::hf {

namespace {

// Sequences nest; real files use one level, and a bound keeps a crafted file
// from recursing deeply.
constexpr int kMaxSequenceDepth = 8;

constexpr std::string_view kSpaceMarker = "\xE2\x96\x81";  // U+2581 "▁"

void check_depth(int depth, const JsonPath& where) {
  if (depth > kMaxSequenceDepth) {
    fail_at(where, "Sequence nests more than {} levels deep", kMaxSequenceDepth);
  }
}

// The array of steps of a Sequence, under whichever key its kind uses.
const Json& sequence_items(const Json& sequence, std::string_view key, const JsonPath& where) {
  const Json& items = require_field(sequence, key, where);
  if (!items.is_array()) {
    fail_at(where / key, "expected an array, found {}", items.type_name());
  }
  return items;
}

// A Replace pattern: {"String": "text"}. Regex patterns are rejected because
// tokenizers uses Oniguruma syntax, which edgelm does not implement.
std::string string_pattern(const Json& step, const JsonPath& where) {
  const Json& pattern = require_field(step, "pattern", where);
  if (optional_field(pattern, "Regex") != nullptr) {
    fail_at(where / "pattern", "regular expression patterns are not supported; edgelm reads {{\"String\": ...}} patterns");
  }
  const std::string& text = string_field(pattern, "String", where / "pattern");
  if (text.empty()) {
    fail_at(where / "pattern" / "String", "the pattern must not be empty");
  }
  return text;
}

// The bytes of "<0xNN>", or nothing for any other text.
std::optional<char> byte_token_value(std::string_view text) {
  if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') {
    return std::nullopt;
  }
  int value = 0;
  for (char c : text.substr(3, 2)) {
    value *= 16;
    if (c >= '0' && c <= '9') {
      value += c - '0';
    } else if (c >= 'A' && c <= 'F') {
      value += c - 'A' + 10;
    } else if (c >= 'a' && c <= 'f') {
      value += c - 'a' + 10;
    } else {
      return std::nullopt;
    }
  }
  return static_cast<char>(value);
}

// Metaspace's replacement character (default "▁").
std::string metaspace_replacement(const Json& step, const JsonPath& where) {
  const Json* replacement = optional_field(step, "replacement");
  if (replacement == nullptr) {
    return std::string(kSpaceMarker);
  }
  const std::string& text = as_string(*replacement, where / "replacement");
  if (text.empty()) {
    fail_at(where / "replacement", "the replacement must not be empty");
  }
  return text;
}

}  // namespace

std::string replace_all(std::string_view text, std::string_view pattern, std::string_view replacement) {
  std::string out;
  out.reserve(text.size());
  size_t pos = 0;
  for (size_t match = text.find(pattern); match != std::string_view::npos; match = text.find(pattern, pos)) {
    out.append(text.substr(pos, match - pos));
    out.append(replacement);
    pos = match + pattern.size();
  }
  out.append(text.substr(pos));
  return out;
}

// ---- Normalizer ----

Normalizer Normalizer::from_json(const Json* normalizer, const JsonPath& where) {
  Normalizer result;
  if (normalizer != nullptr) {
    result.add(*normalizer, where, 0);
  }
  return result;
}

void Normalizer::add(const Json& normalizer, const JsonPath& where, int depth) {
  check_depth(depth, where);
  const std::string& type = type_field(normalizer, where);
  if (type == "Sequence") {
    const Json& items = sequence_items(normalizer, "normalizers", where);
    for (size_t i = 0; i < items.size(); ++i) {
      add(items[i], (where / "normalizers")[i], depth + 1);
    }
  } else if (type == "Replace") {
    steps_.push_back({string_pattern(normalizer, where), string_field(normalizer, "content", where)});
  } else if (type == "Prepend") {
    steps_.push_back({std::string(), string_field(normalizer, "prepend", where)});
  } else {
    fail_at(where / "type",
            "normalizer \"{}\" is not supported; edgelm reads Replace (string patterns), Prepend and Sequence", type);
  }
}

std::string Normalizer::apply(std::string_view text) const {
  std::string out(text);
  for (const Step& step : steps_) {
    if (step.pattern.empty()) {
      // Prepend leaves an empty text empty, as the tokenizers library does.
      if (!out.empty()) {
        out.insert(0, step.replacement);
      }
    } else {
      out = replace_all(out, step.pattern, step.replacement);
    }
  }
  return out;
}

// ---- PreTokenizer ----

PreTokenizer PreTokenizer::from_json(const Json* pre_tokenizer, const JsonPath& where) {
  PreTokenizer result;
  if (pre_tokenizer != nullptr) {
    result.add(*pre_tokenizer, where, 0);
  }
  return result;
}

void PreTokenizer::add(const Json& pre_tokenizer, const JsonPath& where, int depth) {
  check_depth(depth, where);
  const std::string& type = type_field(pre_tokenizer, where);

  if (type == "Sequence") {
    const Json& items = sequence_items(pre_tokenizer, "pretokenizers", where);
    for (size_t i = 0; i < items.size(); ++i) {
      add(items[i], (where / "pretokenizers")[i], depth + 1);
    }
    return;
  }

  if (type == "Split") {
    Step step{Kind::SPLIT, string_pattern(pre_tokenizer, where)};
    if (bool_field(pre_tokenizer, "invert", false, where)) {
      fail_at(where / "invert", "inverted Split patterns are not supported");
    }
    const std::string& behavior = string_field(pre_tokenizer, "behavior", where);
    if (behavior == "Removed") {
      step.behavior = Behavior::REMOVED;
    } else if (behavior == "Isolated") {
      step.behavior = Behavior::ISOLATED;
    } else if (behavior == "MergedWithPrevious") {
      step.behavior = Behavior::MERGED_WITH_PREVIOUS;
    } else if (behavior == "MergedWithNext") {
      step.behavior = Behavior::MERGED_WITH_NEXT;
    } else if (behavior == "Contiguous") {
      step.behavior = Behavior::CONTIGUOUS;
    } else {
      fail_at(where / "behavior", "unknown Split behavior \"{}\"", behavior);
    }
    steps_.push_back(std::move(step));
    return;
  }

  if (type == "Metaspace") {
    Step step{Kind::METASPACE, metaspace_replacement(pre_tokenizer, where)};
    step.split = bool_field(pre_tokenizer, "split", true, where);
    if (const Json* scheme = optional_field(pre_tokenizer, "prepend_scheme"); scheme != nullptr) {
      const std::string& name = as_string(*scheme, where / "prepend_scheme");
      if (name == "always") {
        step.prepend = Prepend::ALWAYS;
      } else if (name == "first") {
        step.prepend = Prepend::FIRST;
      } else if (name == "never") {
        step.prepend = Prepend::NEVER;
      } else {
        fail_at(where / "prepend_scheme", "unknown prepend_scheme \"{}\"; expected always, first or never", name);
      }
    } else if (!bool_field(pre_tokenizer, "add_prefix_space", true, where)) {
      // Files written before prepend_scheme existed store add_prefix_space instead.
      step.prepend = Prepend::NEVER;
    }
    steps_.push_back(std::move(step));
    return;
  }

  fail_at(where / "type", "pre_tokenizer \"{}\" is not supported; edgelm reads Split (string patterns), Metaspace and "
          "Sequence", type);
}

void PreTokenizer::split_word(std::string_view word, std::string_view delimiter, Behavior behavior,
                              std::vector<std::string>& words) {
  auto emit = [&](std::string_view piece) {
    if (!piece.empty()) {
      words.emplace_back(piece);
    }
  };

  // `start` is where the text not yet emitted begins.
  size_t start = 0;
  size_t pos = word.find(delimiter);
  while (pos != std::string_view::npos) {
    const size_t end = pos + delimiter.size();
    switch (behavior) {
      case Behavior::REMOVED:
        emit(word.substr(start, pos - start));
        start = end;
        break;
      case Behavior::ISOLATED:
        emit(word.substr(start, pos - start));
        emit(word.substr(pos, delimiter.size()));
        start = end;
        break;
      case Behavior::MERGED_WITH_PREVIOUS:
        emit(word.substr(start, end - start));
        start = end;
        break;
      case Behavior::MERGED_WITH_NEXT:
        emit(word.substr(start, pos - start));
        start = pos;
        break;
      case Behavior::CONTIGUOUS: {
        size_t run_end = end;
        while (word.substr(run_end, delimiter.size()) == delimiter) {
          run_end += delimiter.size();
        }
        emit(word.substr(start, pos - start));
        emit(word.substr(pos, run_end - pos));
        start = run_end;
        break;
      }
    }
    pos = word.find(delimiter, std::max(end, start));
  }
  emit(word.substr(start));
}

std::vector<std::string> PreTokenizer::split(std::string text, bool at_text_start) const {
  std::vector<std::string> words;
  words.push_back(std::move(text));

  std::vector<std::string> next;
  for (const Step& step : steps_) {
    next.clear();
    for (size_t i = 0; i < words.size(); ++i) {
      if (step.kind == Kind::SPLIT) {
        split_word(words[i], step.pattern, step.behavior, next);
        continue;
      }

      // Metaspace: spaces become the replacement, which the prepend scheme
      // may also put at the start of the word.
      std::string word = replace_all(words[i], " ", step.pattern);
      const bool prepend = step.prepend == Prepend::ALWAYS || (step.prepend == Prepend::FIRST && at_text_start && i == 0);
      if (prepend && word.compare(0, step.pattern.size(), step.pattern) != 0) {
        word.insert(0, step.pattern);
      }
      if (step.split) {
        split_word(word, step.pattern, Behavior::MERGED_WITH_NEXT, next);
      } else if (!word.empty()) {
        next.push_back(std::move(word));
      }
    }
    words.swap(next);
  }
  return words;
}

// ---- Decoder ----

Decoder Decoder::from_json(const Json* decoder, const JsonPath& where) {
  Decoder result;
  if (decoder != nullptr) {
    result.add(*decoder, where, 0);
  }
  return result;
}

void Decoder::add(const Json& decoder, const JsonPath& where, int depth) {
  check_depth(depth, where);
  const std::string& type = type_field(decoder, where);
  if (type == "Sequence") {
    const Json& items = sequence_items(decoder, "decoders", where);
    for (size_t i = 0; i < items.size(); ++i) {
      add(items[i], (where / "decoders")[i], depth + 1);
    }
  } else if (type == "Replace") {
    steps_.push_back({Kind::REPLACE, string_pattern(decoder, where), string_field(decoder, "content", where)});
  } else if (type == "ByteFallback") {
    steps_.push_back({Kind::BYTE_FALLBACK, "", ""});
  } else if (type == "Metaspace") {
    steps_.push_back({Kind::REPLACE, metaspace_replacement(decoder, where), " "});
  } else if (type == "Fuse" || type == "Strip") {
    // Both act on the decoded text as a whole; see token_bytes.
  } else {
    fail_at(where / "type",
            "decoder \"{}\" is not supported; edgelm reads Replace (string patterns), ByteFallback, Fuse, Strip, "
            "Metaspace and Sequence",
            type);
  }
}

std::string Decoder::token_bytes(std::string_view piece) const {
  std::string text(piece);
  for (const Step& step : steps_) {
    if (step.kind == Kind::REPLACE) {
      text = replace_all(text, step.pattern, step.replacement);
    } else if (const std::optional<char> byte = byte_token_value(text)) {
      text.assign(1, *byte);
    }
  }
  return text;
}

}  // namespace edgelm::hf

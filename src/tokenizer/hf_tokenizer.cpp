#include "tokenizer/hf_tokenizer.h"

#include <algorithm>
#include <optional>

#include "core/mapped_file.h"
#include "tokenizer/well_known_tokens.h"

namespace edgelm {

namespace {

// Processor Sequences nest one level in real files.
constexpr int kMaxProcessorDepth = 8;

// Drops nlohmann's "[json.exception.parse_error.101] " tag, which means nothing to a user.
std::string_view without_exception_tag(std::string_view message) {
  if (!message.empty() && message.front() == '[') {
    const size_t end = message.find("] ");
    if (end != std::string_view::npos) {
      message.remove_prefix(end + 2);
    }
  }
  return message;
}

bool starts_with_ids(const std::vector<int32_t>& ids, const std::vector<int32_t>& prefix) {
  return ids.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), ids.begin());
}

}  // namespace

std::unique_ptr<HfTokenizer> HfTokenizer::from_file(const std::string& path) {
  const MappedFile file(path);
  const char* begin = reinterpret_cast<const char*>(file.data());

  hf::Json json;
  try {
    json = hf::Json::parse(begin, begin + file.size());
  } catch (const hf::Json::parse_error& e) {
    fail("{}: invalid JSON: {}", path, without_exception_tag(e.what()));
  }
  return from_json(json, path);
}

std::unique_ptr<HfTokenizer> HfTokenizer::from_json(const hf::Json& json, std::string_view source) {
  const hf::JsonPath root{source, ""};
  if (!json.is_object()) {
    hf::fail_at(root, "expected a JSON object with a \"model\" field, found {}", json.type_name());
  }

  std::unique_ptr<HfTokenizer> tokenizer(new HfTokenizer());
  try {
    tokenizer->model_ = hf::BpeModel::from_json(hf::require_field(json, "model", root), root / "model");
    tokenizer->added_tokens_ = hf::read_added_tokens(hf::optional_field(json, "added_tokens"), root / "added_tokens");
    tokenizer->normalizer_ = hf::Normalizer::from_json(hf::optional_field(json, "normalizer"), root / "normalizer");
    tokenizer->pre_tokenizer_ =
        hf::PreTokenizer::from_json(hf::optional_field(json, "pre_tokenizer"), root / "pre_tokenizer");
    tokenizer->decoder_ = hf::Decoder::from_json(hf::optional_field(json, "decoder"), root / "decoder");
    tokenizer->build_token_table(source);
    tokenizer->read_post_processor(hf::optional_field(json, "post_processor"), root / "post_processor", 0);
  } catch (const hf::Json::exception& e) {
    // The field readers check types first; this is a backstop for the rest.
    fail("{}: {}", source, without_exception_tag(e.what()));
  }

  // Which ids begin and end a text, for callers that ask.
  tokenizer->bos_id_ = tokenizer->prefix_ids_.empty() ? -1 : tokenizer->prefix_ids_.front();
  for (std::string_view text : kBosTokenTexts) {
    if (tokenizer->bos_id_ < 0) {
      tokenizer->bos_id_ = tokenizer->find_token(text);
    }
  }
  for (std::string_view text : kEosTokenTexts) {
    if (tokenizer->eos_id_ < 0) {
      tokenizer->eos_id_ = tokenizer->find_token(text);
    }
  }
  if (tokenizer->eos_id_ >= 0) {
    tokenizer->end_of_generation_ids_.push_back(tokenizer->eos_id_);
  }
  for (std::string_view text : kEndOfGenerationTexts) {
    if (const int32_t id = tokenizer->find_token(text); id >= 0) {
      tokenizer->end_of_generation_ids_.push_back(id);
    }
  }
  std::sort(tokenizer->end_of_generation_ids_.begin(), tokenizer->end_of_generation_ids_.end());
  return tokenizer;
}

void HfTokenizer::build_token_table(std::string_view source) {
  // Added tokens may extend the model's ids, but only by as many as there are.
  size_t slots = model_.size();
  for (const hf::AddedToken& token : added_tokens_) {
    slots = std::max(slots, static_cast<size_t>(token.id) + 1);
  }
  if (slots > model_.size() + added_tokens_.size()) {
    fail("{}: added_tokens: ids reach {}, beyond the {} model pieces and {} added tokens", source, slots - 1,
         model_.size(), added_tokens_.size());
  }

  pieces_.resize(slots);
  special_.assign(slots, false);
  for (size_t id = 0; id < model_.size(); ++id) {
    pieces_[id] = model_.piece(static_cast<int32_t>(id));
  }

  std::vector<const hf::AddedToken*> raw_tokens;
  std::vector<std::string> raw_texts;
  std::vector<const hf::AddedToken*> normalized_tokens;
  std::vector<std::string> normalized_texts;
  for (const hf::AddedToken& token : added_tokens_) {
    pieces_[token.id] = token.content;
    special_[token.id] = token.special;
    if (token.normalized) {
      normalized_tokens.push_back(&token);
      normalized_texts.push_back(normalizer_.apply(token.content));
    } else {
      raw_tokens.push_back(&token);
      raw_texts.push_back(token.content);
    }
  }
  raw_matcher_ = hf::AddedTokenMatcher(raw_tokens, raw_texts);
  normalized_matcher_ = hf::AddedTokenMatcher(normalized_tokens, normalized_texts);
}

void HfTokenizer::read_post_processor(const hf::Json* processor, const hf::JsonPath& where, int depth) {
  if (processor == nullptr) {
    return;
  }
  if (depth > kMaxProcessorDepth) {
    hf::fail_at(where, "Sequence nests more than {} levels deep", kMaxProcessorDepth);
  }

  // The ids of a token named in a processor, checked against the table.
  auto checked_id = [&](const hf::Json& value, const hf::JsonPath& path) {
    const int32_t id = hf::as_token_id(value, path);
    if (static_cast<size_t>(id) >= pieces_.size()) {
      hf::fail_at(path, "token id {} is out of range for a vocabulary of {} tokens", id, pieces_.size());
    }
    return id;
  };

  const std::string& type = hf::type_field(*processor, where);
  if (type == "Sequence") {
    const hf::Json& items = hf::require_field(*processor, "processors", where);
    if (!items.is_array()) {
      hf::fail_at(where / "processors", "expected an array, found {}", items.type_name());
    }
    for (size_t i = 0; i < items.size(); ++i) {
      read_post_processor(&items[i], (where / "processors")[i], depth + 1);
    }
  } else if (type == "ByteLevel") {
    // Only adjusts offsets; the ids stay as they are.
  } else if (type == "TemplateProcessing") {
    // "single" lists special tokens around the text, written {"Sequence": {"id": "A"}}.
    const hf::Json& single = hf::require_field(*processor, "single", where);
    const hf::Json& special_tokens = hf::require_field(*processor, "special_tokens", where);
    if (!single.is_array()) {
      hf::fail_at(where / "single", "expected an array, found {}", single.type_name());
    }
    bool after_text = false;
    for (size_t i = 0; i < single.size(); ++i) {
      const hf::JsonPath item_path = (where / "single")[i];
      if (const hf::Json* sequence = hf::optional_field(single[i], "Sequence")) {
        const std::string& name = hf::string_field(*sequence, "id", item_path / "Sequence");
        if (name != "A") {
          hf::fail_at(item_path / "Sequence" / "id", "a single-text template can only hold sequence A, found {}", name);
        }
        after_text = true;
        continue;
      }
      const hf::Json& special = hf::require_field(single[i], "SpecialToken", item_path);
      const std::string& name = hf::string_field(special, "id", item_path / "SpecialToken");
      const hf::JsonPath entry_path = where / "special_tokens" / name;
      const hf::Json& ids = hf::require_field(hf::require_field(special_tokens, name, where / "special_tokens"), "ids",
                                              entry_path);
      if (!ids.is_array()) {
        hf::fail_at(entry_path / "ids", "expected an array, found {}", ids.type_name());
      }
      for (size_t k = 0; k < ids.size(); ++k) {
        (after_text ? suffix_ids_ : prefix_ids_).push_back(checked_id(ids[k], (entry_path / "ids")[k]));
      }
    }
  } else if (type == "BertProcessing" || type == "RobertaProcessing") {
    // "cls": ["[CLS]", id] goes before the text, "sep": ["[SEP]", id] after it.
    for (const char* key : {"cls", "sep"}) {
      const hf::Json& entry = hf::require_field(*processor, key, where);
      if (!entry.is_array() || entry.size() != 2) {
        hf::fail_at(where / key, "expected [\"text\", id], found {}", entry.dump());
      }
      (std::string_view(key) == "cls" ? prefix_ids_ : suffix_ids_).push_back(checked_id(entry[1], (where / key)[1]));
    }
  } else {
    hf::fail_at(where / "type",
                "post_processor \"{}\" is not supported; edgelm reads TemplateProcessing, BertProcessing, "
                "RobertaProcessing, ByteLevel and Sequence",
                type);
  }
}

int32_t HfTokenizer::find_token(std::string_view text) const {
  for (const hf::AddedToken& token : added_tokens_) {
    if (token.content == text) {
      return token.id;
    }
  }
  return model_.find(text);
}

std::vector<int32_t> HfTokenizer::encode(std::string_view text, bool add_bos, bool parse_special) const {
  std::vector<int32_t> ids;

  // Raw-matched added tokens split the text; what lies between them is encoded.
  size_t pos = 0;
  while (pos < text.size()) {
    const std::optional<hf::AddedTokenMatch> match = raw_matcher_.find(text, pos, parse_special);
    const size_t end = match ? match->begin : text.size();
    if (end > pos) {
      encode_segment(text.substr(pos, end - pos), pos == 0, parse_special, ids);
    }
    if (!match) {
      break;
    }
    ids.push_back(match->token->id);
    pos = match->end;
  }

  if (add_bos) {
    if (!starts_with_ids(ids, prefix_ids_)) {
      ids.insert(ids.begin(), prefix_ids_.begin(), prefix_ids_.end());
    }
    ids.insert(ids.end(), suffix_ids_.begin(), suffix_ids_.end());
  }
  return ids;
}

void HfTokenizer::encode_segment(std::string_view text, bool at_text_start, bool parse_special,
                                 std::vector<int32_t>& ids) const {
  const std::string normalized = normalizer_.apply(text);
  if (normalized_matcher_.empty()) {
    encode_normalized(normalized, at_text_start, ids);
    return;
  }

  size_t pos = 0;
  while (pos < normalized.size()) {
    const std::optional<hf::AddedTokenMatch> match = normalized_matcher_.find(normalized, pos, parse_special);
    const size_t end = match ? match->begin : normalized.size();
    if (end > pos) {
      encode_normalized(normalized.substr(pos, end - pos), at_text_start && pos == 0, ids);
    }
    if (!match) {
      break;
    }
    ids.push_back(match->token->id);
    pos = match->end;
  }
}

void HfTokenizer::encode_normalized(std::string text, bool at_text_start, std::vector<int32_t>& ids) const {
  for (const std::string& word : pre_tokenizer_.split(std::move(text), at_text_start)) {
    model_.encode_word(word, ids);
  }
}

void HfTokenizer::check_id(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= pieces_.size()) {
    fail("token id {} is out of range for a vocabulary of {} tokens", id, pieces_.size());
  }
}

std::string HfTokenizer::token_bytes(int32_t id, bool show_special) const {
  check_id(id);
  if (special_[id]) {
    return show_special ? std::string(pieces_[id]) : std::string();
  }
  return decoder_.token_bytes(pieces_[id]);
}

bool HfTokenizer::is_end_of_generation(int32_t id) const {
  return std::binary_search(end_of_generation_ids_.begin(), end_of_generation_ids_.end(), id);
}

std::string_view HfTokenizer::piece(int32_t id) const {
  check_id(id);
  return pieces_[id];
}

}  // namespace edgelm

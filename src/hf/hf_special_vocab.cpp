#include "hf/hf_special_vocab.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <sstream>
#include <vector>

#include "core/error.h"
#include "hf/hf_json_file.h"

namespace edgelm {

namespace {

using hf::fail_at;
using hf::Json;
using hf::JsonPath;

namespace fs = std::filesystem;

// Python's dict.get: the value, or nullptr when `object` is not an object or lacks `key`.
const Json* get(const Json* object, std::string_view key) {
  if (object == nullptr || !object->is_object()) {
    return nullptr;
  }
  const auto it = object->find(key);
  return it == object->end() ? nullptr : &*it;
}

// Python's truth value of a JSON value: false for null, false, 0, "", [] and {}.
bool truthy(const Json* value) {
  if (value == nullptr || value->is_null()) return false;
  if (value->is_boolean()) return value->get<bool>();
  if (value->is_number()) return value->get<double>() != 0.0;
  if (value->is_string() || value->is_array() || value->is_object()) return !value->empty();
  return false;
}

bool truthy(const Json& value) { return truthy(&value); }

bool equals(const Json* value, std::string_view text) {
  return value != nullptr && value->is_string() && value->get_ref<const std::string&>() == text;
}

// The "id" of a {"SpecialToken": {"id": ...}} entry of a TemplateProcessing, or null.
Json special_token_id(const Json& entry) {
  const Json* id = get(get(&entry, "SpecialToken"), "id");
  return id != nullptr ? *id : Json();
}

std::string path_in(const std::string& dir, std::string_view name) { return (fs::path(dir) / name).string(); }

bool is_file(const std::string& path) {
  std::error_code error;
  return fs::is_regular_file(path, error);
}

// A chat template name with every character other than an ASCII letter or
// digit replaced by "_", one per code point, as GGUF key names need.
std::string sanitized_template_name(std::string_view name) {
  std::string result;
  for (const char c : name) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) && byte < 0x80) {
      result += c;
    } else if ((byte & 0xC0) != 0x80) {  // skip UTF-8 continuation bytes
      result += '_';
    }
  }
  return result;
}

std::vector<std::string> split_whitespace(std::string_view line) {
  std::vector<std::string> fields;
  std::istringstream stream{std::string(line)};
  for (std::string field; stream >> field;) {
    fields.push_back(field);
  }
  return fields;
}

// GGUF key of a special token id and of an add-token flag; gguf-py has no
// key for the others (such as "cls") and skips them.
std::optional<std::string> special_id_key(std::string_view type) {
  if (type == "bos") return "tokenizer.ggml.bos_token_id";
  if (type == "eos") return "tokenizer.ggml.eos_token_id";
  if (type == "unk") return "tokenizer.ggml.unknown_token_id";
  if (type == "sep") return "tokenizer.ggml.seperator_token_id";  // sic, as the format spells it
  if (type == "pad") return "tokenizer.ggml.padding_token_id";
  if (type == "mask") return "tokenizer.ggml.mask_token_id";
  if (type == "eot") return "tokenizer.ggml.eot_token_id";
  if (type == "eom") return "tokenizer.ggml.eom_token_id";
  return std::nullopt;
}

std::optional<std::string> add_flag_key(std::string_view type) {
  if (type == "bos") return "tokenizer.ggml.add_bos_token";
  if (type == "eos") return "tokenizer.ggml.add_eos_token";
  if (type == "sep") return "tokenizer.ggml.add_sep_token";
  return std::nullopt;
}

// The bos/cls/eos/sep token texts of tokenizer_config.json as the
// post-processor step updates them (JSON values: a string, an object or null).
struct SpecialTexts {
  Json bos;
  Json cls;
  Json eos;
  Json sep;
};

class SpecialVocab {
 public:
  SpecialVocab(std::string dir, SpecialVocabOptions options) : dir_(std::move(dir)), options_(options) {
    load_from_tokenizer_files();
    load_from_config_json();
    if (options_.load_merges && merges_.empty()) {
      load_merges_txt();
    }
  }

  void add_to(GgufMetadataBuilder& metadata) const;

 private:
  void load_from_tokenizer_files();
  void read_merges(const Json& tokenizer, const JsonPath& where);
  void read_normalizer(const Json& normalizer);
  void read_post_processor(const Json& post_processor, Json* tokenizer_config, SpecialTexts& texts);
  void read_template_processing(const Json& processor, Json* tokenizer_config, SpecialTexts& texts);
  void read_chat_template(const Json& tokenizer_config);
  void read_special_tokens(const Json& tokenizer_config, const Json& added_tokens, const JsonPath& where);
  void load_from_config_json();
  void load_merges_txt();
  void set_special_token(const std::string& type, const Json* id, const JsonPath& where);
  void set_add_flag(const std::string& type, bool value);
  void add_chat_template(GgufMetadataBuilder& metadata) const;

  std::string dir_;
  SpecialVocabOptions options_;
  std::vector<std::string> types_ = {"bos", "eos", "unk", "sep", "pad", "cls", "mask"};
  std::vector<std::string> merges_;
  std::vector<std::pair<std::string, uint32_t>> special_ids_;  // in the order they were found
  std::vector<std::pair<std::string, bool>> add_flags_;
  Json chat_template_;  // null, a string or an array of {"name", "template"}
  std::optional<bool> lowercase_;
  std::optional<bool> strip_accents_;
};

void SpecialVocab::set_add_flag(const std::string& type, bool value) {
  for (auto& [known, flag] : add_flags_) {
    if (known == type) {
      flag = value;
      return;
    }
  }
  add_flags_.emplace_back(type, value);
}

void SpecialVocab::set_special_token(const std::string& type, const Json* id, const JsonPath& where) {
  if (id == nullptr || !id->is_number_integer()) {
    return;
  }
  if (id->is_number_integer() && !id->is_number_unsigned() && id->get<int64_t>() < 0) {
    fail_at(where, "invalid {} token id {}: token ids are not negative", type, id->get<int64_t>());
  }
  const uint64_t value = id->get<uint64_t>();
  if (value > UINT32_MAX) {
    fail_at(where, "{} token id {} is out of range", type, value);
  }
  if (options_.n_vocab && value >= *options_.n_vocab) {
    spdlog::warn("{}: {} token id {} is not below the vocabulary size {}; not written", where.file, type, value,
                 *options_.n_vocab);
    return;
  }
  // The first source that names a type wins.
  for (const auto& [known, known_id] : special_ids_) {
    if (known == type) return;
  }
  special_ids_.emplace_back(type, static_cast<uint32_t>(value));
}

void SpecialVocab::read_merges(const Json& tokenizer, const JsonPath& where) {
  const Json* merges = get(get(&tokenizer, "model"), "merges");
  if (merges == nullptr || !merges->is_array() || merges->empty()) {
    return;
  }

  const JsonPath merges_where = where / "model" / "merges";
  merges_.reserve(merges->size());
  for (size_t i = 0; i < merges->size(); ++i) {
    const Json& entry = (*merges)[i];

    // Older files write "left right". transformers 4.45 and later write
    // ["left", "right"] so that pieces may contain spaces, and those spaces
    // become U+0120 in the "left right" form that llama.cpp reads.
    // NOTE: the converter picks the form from the first entry and fails on a
    // list that mixes both, while this reads each entry in its own form.
    if (entry.is_string()) {
      merges_.push_back(entry.get<std::string>());
    } else if (entry.is_array() && entry.size() == 2 && entry[0].is_string() && entry[1].is_string()) {
      std::string line;
      for (size_t side = 0; side < 2; ++side) {
        if (side == 1) line += ' ';
        for (const char c : entry[side].get_ref<const std::string&>()) {
          line += c == ' ' ? std::string("\xC4\xA0") : std::string(1, c);
        }
      }
      merges_.push_back(std::move(line));
    } else {
      fail_at(merges_where[i], "expected \"left right\" or [\"left\", \"right\"], found {}", entry.dump());
    }
  }
}

void SpecialVocab::read_normalizer(const Json& normalizer) {
  const Json* type = get(&normalizer, "type");
  const auto flag = [](const Json& value) -> std::optional<bool> {
    if (value.is_null()) return std::nullopt;
    return truthy(value);
  };

  if (equals(type, "Lowercase")) {
    lowercase_ = true;
  } else if (equals(type, "StripAccents")) {
    strip_accents_ = true;
  } else if (equals(type, "BertNormalizer")) {
    if (const Json* lowercase = get(&normalizer, "lowercase")) lowercase_ = flag(*lowercase);
    if (const Json* strip = get(&normalizer, "strip_accents")) strip_accents_ = flag(*strip);
  } else if (equals(type, "Sequence")) {
    const Json* steps = get(&normalizer, "normalizers");
    if (steps != nullptr && steps->is_array()) {
      for (const Json& step : *steps) read_normalizer(step);
    }
  }
}

// Crude reading of a TemplateProcessing, as gguf-py does it: a special token
// before the single sequence means add BOS, one after it add EOS, and one
// between the two sequences of a pair add SEP. Unusual templates can read
// wrong, exactly as in the converter.
void SpecialVocab::read_template_processing(const Json& processor, Json* tokenizer_config, SpecialTexts& texts) {
  static const Json kEmpty = Json::array();
  const Json* single_field = get(&processor, "single");
  const Json* pair_field = get(&processor, "pair");
  const Json& single = single_field != nullptr && single_field->is_array() ? *single_field : kEmpty;
  const Json& pair = pair_field != nullptr && pair_field->is_array() ? *pair_field : kEmpty;
  const bool has_config = tokenizer_config != nullptr && truthy(*tokenizer_config);

  Json first;
  Json last;
  if (single.size() > 1) {
    first = special_token_id(single.front());
    if (truthy(first)) {
      if (!has_config) {
        texts.bos = first;
      } else if (first != texts.bos && first != texts.cls) {
        if (!truthy(texts.bos)) (*tokenizer_config)["bos_token"] = texts.bos = first;
        if (!truthy(texts.cls)) (*tokenizer_config)["cls_token"] = texts.cls = first;
      }
      set_add_flag("bos", first == texts.bos || first == texts.cls);
    }

    last = special_token_id(single.back());
    if (truthy(last)) {
      if (!has_config) {
        texts.eos = last;
      } else if (last != texts.eos) {
        // The configured EOS stays known as EOT (or EOM) when the template ends with another token.
        if (std::find(types_.begin(), types_.end(), "eot") == types_.end()) {
          types_.push_back("eot");
          (*tokenizer_config)["eot_token"] = texts.eos;
        } else if (std::find(types_.begin(), types_.end(), "eom") == types_.end()) {
          types_.push_back("eom");
          (*tokenizer_config)["eom_token"] = texts.eos;
        }
        (*tokenizer_config)["eos_token"] = texts.eos = last;
      }
      set_add_flag("eos", last == texts.eos);
    }
  }

  if (pair.empty()) {
    return;
  }
  const size_t start = truthy(first) && special_token_id(pair.front()) == first ? 1 : 0;
  const size_t stop = truthy(last) && special_token_id(pair.back()) == last ? pair.size() - 1 : pair.size();
  if (start >= stop) {
    return;
  }
  const Json& sequence_a = pair[start];
  const Json& sequence_b = pair[stop - 1];
  if (!equals(get(get(&sequence_a, "Sequence"), "id"), "A") || !equals(get(get(&sequence_b, "Sequence"), "id"), "B") ||
      stop - start <= 2) {
    return;
  }

  // The entries between A and B: "A [sep] [eos] B".
  bool add_sep = false;
  const Json separator = special_token_id(pair[start + 1]);
  if (truthy(separator) && (separator == texts.sep || separator == texts.eos) && !truthy(last)) {
    add_sep = true;
  }
  if (stop - start - 2 == 2) {
    const Json second = special_token_id(pair[start + 2]);
    if (truthy(second) && (second == texts.sep || second == texts.eos)) {
      add_sep = true;
    }
  }
  set_add_flag("sep", add_sep);
  if (add_sep && !truthy(texts.sep) && has_config) {
    (*tokenizer_config)["sep_token"] = texts.eos;
  }
}

void SpecialVocab::read_post_processor(const Json& post_processor, Json* tokenizer_config, SpecialTexts& texts) {
  std::vector<const Json*> processors;
  const Json* list = get(&post_processor, "processors");
  if (list == nullptr) {
    processors.push_back(&post_processor);
  } else if (list->is_array()) {
    for (const Json& processor : *list) processors.push_back(&processor);
  }

  const bool has_config = tokenizer_config != nullptr && truthy(*tokenizer_config);
  for (const Json* processor : processors) {
    const Json* type = get(processor, "type");
    if (equals(type, "RobertaProcessing")) {
      set_add_flag("bos", true);
      set_add_flag("eos", true);
      set_add_flag("sep", true);

      // "cls": ["<s>", 0] names the token. Without it the BOS text is used.
      const auto first_of = [](const Json* field, const Json& fallback) {
        if (field == nullptr) return fallback;
        return field->is_array() && !field->empty() ? (*field)[0] : Json();
      };
      if (!truthy(texts.cls) && has_config) {
        (*tokenizer_config)["cls_token"] = texts.cls = first_of(get(processor, "cls"), texts.bos);
      }
      if (!truthy(texts.sep) && has_config) {
        (*tokenizer_config)["sep_token"] = texts.sep = first_of(get(processor, "sep"), texts.eos);
      }
    } else if (equals(type, "TemplateProcessing")) {
      read_template_processing(*processor, tokenizer_config, texts);
    }
  }
}

// tokenizer_config.json's "chat_template" wins; without the key, the
// template comes from chat_template.jinja (with any
// additional_chat_templates/*.jinja as named templates) or chat_template.json.
void SpecialVocab::read_chat_template(const Json& tokenizer_config) {
  Json from_files;
  const std::string jinja_path = path_in(dir_, "chat_template.jinja");
  const std::string json_path = path_in(dir_, "chat_template.json");
  if (is_file(jinja_path)) {
    from_files = hf::read_text_file(jinja_path);

    std::vector<fs::path> additional;
    std::error_code error;
    for (const auto& entry : fs::directory_iterator(fs::path(dir_) / "additional_chat_templates", error)) {
      if (entry.path().extension() == ".jinja") additional.push_back(entry.path());
    }
    // NOTE: the converter takes these in file system order; sorting makes the order repeatable.
    std::sort(additional.begin(), additional.end());
    if (!additional.empty()) {
      Json list = Json::array({Json{{"name", "default"}, {"template", from_files}}});
      for (const fs::path& path : additional) {
        list.push_back(Json{{"name", path.stem().string()}, {"template", hf::read_text_file(path.string())}});
      }
      from_files = std::move(list);
    }
  } else if (is_file(json_path)) {
    const Json chat_json = hf::read_json_file(json_path);
    if (const Json* chat_template = get(&chat_json, "chat_template")) from_files = *chat_template;
  }

  const Json* from_config = get(&tokenizer_config, "chat_template");
  const Json& chat_template = from_config != nullptr ? *from_config : from_files;
  if (chat_template.is_null() || chat_template.is_string() || chat_template.is_array()) {
    chat_template_ = chat_template;
  } else {
    spdlog::warn("{}: chat_template is {}, not a string or a list; not written", path_in(dir_, "tokenizer_config.json"),
                 chat_template.type_name());
  }
}

// Resolves the bos_token, eos_token, ... texts of tokenizer_config.json to
// ids through tokenizer.json's added_tokens, and reads the add_*_token flags.
void SpecialVocab::read_special_tokens(const Json& tokenizer_config, const Json& added_tokens, const JsonPath& where) {
  for (size_t i = 0; i < types_.size(); ++i) {
    const std::string type = types_[i];
    if (const Json* add = get(&tokenizer_config, "add_" + type + "_token"); add != nullptr && add->is_boolean()) {
      set_add_flag(type, add->get<bool>());
    }

    const Json* entry = get(&tokenizer_config, type + "_token");
    if (entry != nullptr && entry->is_object()) {
      entry = get(entry, "content");  // an AddedToken object written by older transformers
    }
    if (entry == nullptr || !entry->is_string()) {
      continue;
    }

    const Json* id = nullptr;
    if (added_tokens.is_array()) {
      for (const Json& token : added_tokens) {
        if (equals(get(&token, "content"), entry->get_ref<const std::string&>())) {
          id = get(&token, "id");
          break;
        }
      }
    }
    set_special_token(type, id, where / (type + "_token"));
  }
}

void SpecialVocab::load_from_tokenizer_files() {
  const std::string tokenizer_path = path_in(dir_, "tokenizer.json");
  std::optional<Json> tokenizer;
  Json added_tokens = Json::array();
  if (is_file(tokenizer_path)) {
    tokenizer = hf::read_json_file(tokenizer_path);
    if (options_.load_merges) {
      read_merges(*tokenizer, JsonPath{tokenizer_path, ""});
    }
    if (const Json* normalizer = get(&*tokenizer, "normalizer"); truthy(normalizer)) {
      read_normalizer(*normalizer);
    }
    if (const Json* tokens = get(&*tokenizer, "added_tokens")) {
      added_tokens = *tokens;
    }
  }

  const std::string config_path = path_in(dir_, "tokenizer_config.json");
  std::optional<Json> tokenizer_config;
  if (is_file(config_path)) {
    tokenizer_config = hf::read_json_file(config_path);
    if (!tokenizer_config->is_object()) {
      fail("{}: expected a JSON object, found {}", config_path, tokenizer_config->type_name());
    }
  }
  Json* config = tokenizer_config ? &*tokenizer_config : nullptr;
  const bool has_config = config != nullptr && truthy(*config);

  if (tokenizer && truthy(*tokenizer)) {
    SpecialTexts texts;
    const auto text_of = [&](const char* key) {
      const Json* value = get(config, key);
      return value != nullptr ? *value : Json();
    };
    texts.bos = text_of("bos_token");
    texts.cls = text_of("cls_token");
    texts.eos = text_of("eos_token");
    texts.sep = text_of("sep_token");
    if (!truthy(texts.bos) && truthy(texts.cls) && has_config) (*config)["bos_token"] = texts.bos = texts.cls;
    if (!truthy(texts.eos) && truthy(texts.sep) && has_config) (*config)["eos_token"] = texts.eos = texts.sep;

    if (const Json* post_processor = get(&*tokenizer, "post_processor"); truthy(post_processor)) {
      read_post_processor(*post_processor, config, texts);
    }
  }

  if (!has_config) {
    return;
  }
  read_chat_template(*config);
  read_special_tokens(*config, added_tokens, JsonPath{config_path, ""});
}

void SpecialVocab::load_from_config_json() {
  const std::string config_path = path_in(dir_, "config.json");
  if (!is_file(config_path)) {
    return;
  }
  const Json config = hf::read_json_file(config_path);
  const JsonPath where{config_path, ""};
  for (const std::string& type : types_) {
    const std::string key = type + "_token_id";
    const Json* id = get(&config, key);
    if ((id == nullptr || id->is_null()) && get(&config, "text_config") != nullptr) {
      // Multimodal configs keep the ids in text_config.
      set_special_token(type, get(get(&config, "text_config"), key), where / "text_config" / key);
    } else {
      set_special_token(type, id, where / key);
    }
  }
}

void SpecialVocab::load_merges_txt() {
  const std::string path = path_in(dir_, "merges.txt");
  if (!is_file(path)) {
    return;
  }

  std::istringstream lines(hf::read_text_file(path));
  std::string line;
  size_t line_number = 0;
  std::vector<std::string> merges;
  while (std::getline(lines, line)) {
    ++line_number;
    const std::vector<std::string> fields = split_whitespace(line);
    // A first line starting with "#" is a version header.
    if (line_number == 1 && !fields.empty() && fields.front().front() == '#') {
      continue;
    }
    if (fields.empty()) {
      continue;
    }
    if (fields.size() != 2) {
      spdlog::warn("{}: line {}: expected two pieces, found {}; line skipped", path, line_number, fields.size());
      continue;
    }
    merges.push_back(fields[0] + " " + fields[1]);
  }
  merges_ = std::move(merges);
}

void SpecialVocab::add_chat_template(GgufMetadataBuilder& metadata) const {
  if (chat_template_.is_string()) {
    metadata.add_string("tokenizer.chat_template", chat_template_.get<std::string>());
    return;
  }
  if (!chat_template_.is_array()) {
    return;
  }

  // A list of named templates: "default" is the main one, each other one gets
  // its own key and its name is listed in tokenizer.chat_templates.
  std::optional<std::string> default_template;
  std::vector<std::string> names;
  for (const Json& choice : chat_template_) {
    const Json* name_field = get(&choice, "name");
    const Json* template_field = get(&choice, "template");
    const std::string name =
        sanitized_template_name(name_field != nullptr && name_field->is_string() ? name_field->get_ref<const std::string&>() : "");
    if (name.empty() || template_field == nullptr || template_field->is_null()) {
      continue;
    }
    if (!template_field->is_string()) {
      fail("{}: chat template \"{}\" is {}, not a string", dir_, name, template_field->type_name());
    }
    if (name == "default") {
      default_template = template_field->get<std::string>();
      continue;
    }
    // NOTE: the converter lists the names in Python set order, which varies
    // between runs; this keeps the order of the list.
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    metadata.add_string("tokenizer.chat_template." + name, template_field->get<std::string>());
  }
  metadata.add_string_array("tokenizer.chat_templates", names);
  if (default_template) {
    metadata.add_string("tokenizer.chat_template", *default_template);
  }
}

void SpecialVocab::add_to(GgufMetadataBuilder& metadata) const {
  if (!merges_.empty()) {
    metadata.add_string_array("tokenizer.ggml.merges", merges_);
  }
  for (const auto& [type, id] : special_ids_) {
    if (const auto key = special_id_key(type)) metadata.add_uint32(*key, id);
  }
  for (const auto& [type, value] : add_flags_) {
    if (const auto key = add_flag_key(type)) metadata.add_bool(*key, value);
  }
  add_chat_template(metadata);
  if (lowercase_) {
    metadata.add_bool("tokenizer.ggml.normalizer.lowercase", *lowercase_);
  }
  if (strip_accents_) {
    metadata.add_bool("tokenizer.ggml.normalizer.strip_accents", *strip_accents_);
  }
}

}  // namespace

void add_special_vocab(const std::string& dir, const SpecialVocabOptions& options, GgufMetadataBuilder& metadata) {
  const SpecialVocab vocab(dir, options);
  vocab.add_to(metadata);
}

}  // namespace edgelm

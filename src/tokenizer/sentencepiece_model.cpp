#include "tokenizer/sentencepiece_model.h"

#include <sentencepiece_processor.h>

#include <algorithm>
#include <charconv>

#include "core/error.h"
#include "core/mapped_file.h"
#include "tokenizer/end_of_generation.h"

namespace edgelm {

namespace {

constexpr std::string_view kSpaceMarker = "\xE2\x96\x81";  // U+2581 "▁", SentencePiece's space

// The pieces and types the processor reports, as a Vocab for SpecialTokenSplitter.
Vocab vocab_of(const sentencepiece::SentencePieceProcessor& processor) {
  Vocab vocab;
  const int size = processor.GetPieceSize();
  vocab.tokens.reserve(static_cast<size_t>(size));
  vocab.types.reserve(static_cast<size_t>(size));
  for (int id = 0; id < size; ++id) {
    vocab.tokens.push_back(processor.IdToPiece(id));
    if (processor.IsControl(id)) {
      vocab.types.push_back(TokenType::CONTROL);
    } else if (processor.IsUnknown(id)) {
      vocab.types.push_back(TokenType::UNKNOWN);
    } else if (processor.IsByte(id)) {
      vocab.types.push_back(TokenType::BYTE);
    } else if (processor.IsUnused(id)) {
      vocab.types.push_back(TokenType::UNUSED);
    } else {
      vocab.types.push_back(TokenType::NORMAL);
    }
  }
  vocab.bos_id = processor.bos_id();
  vocab.eos_id = processor.eos_id();
  vocab.unk_id = processor.unk_id();
  vocab.pad_id = processor.pad_id();
  return vocab;
}

}  // namespace

std::unique_ptr<SentencePieceModel> SentencePieceModel::from_file(const std::string& path) {
  const MappedFile file(path);
  auto processor = std::make_unique<sentencepiece::SentencePieceProcessor>();
  const auto status = processor->LoadFromSerializedProto(
      std::string_view(reinterpret_cast<const char*>(file.data()), file.size()));
  if (!status.ok()) {
    fail("{}: not a valid SentencePiece model: {}", path, status.ToString());
  }
  if (processor->GetPieceSize() <= 0) {
    fail("{}: the SentencePiece model has no pieces", path);
  }

  Vocab vocab = vocab_of(*processor);
  return std::unique_ptr<SentencePieceModel>(new SentencePieceModel(std::move(processor), std::move(vocab)));
}

SentencePieceModel::SentencePieceModel(std::unique_ptr<sentencepiece::SentencePieceProcessor> processor, Vocab vocab)
    : processor_(std::move(processor)),
      vocab_(std::move(vocab)),
      splitter_(vocab_),
      end_of_generation_ids_(end_of_generation_ids(vocab_)) {}

SentencePieceModel::~SentencePieceModel() = default;

void SentencePieceModel::encode_text(std::string_view text, std::vector<int32_t>& ids) const {
  std::vector<int> pieces;
  const auto status = processor_->Encode(text, &pieces);
  if (!status.ok()) {
    fail("SentencePiece could not encode a text of {} bytes: {}", text.size(), status.ToString());
  }
  ids.insert(ids.end(), pieces.begin(), pieces.end());
}

std::vector<int32_t> SentencePieceModel::encode(std::string_view text, bool add_bos, bool parse_special) const {
  std::vector<int32_t> ids;
  if (add_bos && vocab_.bos_id >= 0) {
    ids.push_back(vocab_.bos_id);
  }

  if (!parse_special) {
    encode_text(text, ids);
  } else {
    for (const TextFragment& fragment : splitter_.split(text, /*parse_special=*/true)) {
      if (fragment.is_token()) {
        ids.push_back(fragment.token);
      } else {
        encode_text(fragment.text, ids);
      }
    }
  }

  // A text that begins with "<bos>" parsed as a control piece keeps one BOS.
  if (add_bos && vocab_.bos_id >= 0 && ids.size() >= 2 && ids[1] == vocab_.bos_id) {
    ids.erase(ids.begin());
  }
  return ids;
}

void SentencePieceModel::check_id(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= vocab_.tokens.size()) {
    fail("token id {} is out of range for a vocabulary of {} tokens", id, vocab_.tokens.size());
  }
}

std::string SentencePieceModel::token_bytes(int32_t id, bool show_special) const {
  check_id(id);
  const std::string& piece = vocab_.tokens[id];

  switch (vocab_.type(id)) {
    case TokenType::BYTE: {
      // Byte pieces are "<0xNN>".
      unsigned value = 0;
      if (piece.size() == 6) {
        std::from_chars(piece.data() + 3, piece.data() + 5, value, 16);
      }
      return std::string(1, static_cast<char>(value));
    }
    case TokenType::CONTROL:
    case TokenType::UNKNOWN:
      return show_special ? piece : std::string();
    case TokenType::UNUSED:
      return std::string();
    default: {
      std::string out;
      size_t pos = 0;
      for (size_t match = piece.find(kSpaceMarker); match != std::string::npos; match = piece.find(kSpaceMarker, pos)) {
        out.append(piece, pos, match - pos);
        out += ' ';
        pos = match + kSpaceMarker.size();
      }
      out.append(piece, pos);
      return out;
    }
  }
}

bool SentencePieceModel::is_end_of_generation(int32_t id) const {
  return std::binary_search(end_of_generation_ids_.begin(), end_of_generation_ids_.end(), id);
}

std::string_view SentencePieceModel::piece(int32_t id) const {
  check_id(id);
  return vocab_.tokens[id];
}

}  // namespace edgelm

#pragma once
// A loaded model: its file, hyperparameters, bound weights and tokenizer.

#include <memory>
#include <string>

#include "gguf/gguf_file.h"
#include "model/hparams.h"
#include "model/weights.h"
#include "tokenizer/tokenizer.h"

namespace edgelm {

class Model {
 public:
  // Opens a GGUF file or a Hugging Face model directory and binds everything
  // needed to run it. A GGUF file is read into memory unless `access` is
  // kMap. Throws Error naming the file and what is wrong with it.
  static std::unique_ptr<Model> load(const std::string& path,
                                     FileAccess access = FileAccess::kReadIntoMemory);

  const GgufFile& file() const { return *file_; }
  const HParams& hparams() const { return hparams_; }
  const ModelWeights& weights() const { return weights_; }
  const Tokenizer& tokenizer() const { return *tokenizer_; }

 private:
  Model() = default;

  std::unique_ptr<GgufFile> file_;
  HParams hparams_;
  ModelWeights weights_;
  std::unique_ptr<Tokenizer> tokenizer_;
};

}  // namespace edgelm

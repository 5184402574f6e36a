#include "model/model.h"

#include "core/error.h"

namespace edgelm {

std::unique_ptr<Model> Model::load(const std::string& path) {
  std::unique_ptr<Model> model(new Model());
  model->file_ = GgufFile::open(path);
  model->hparams_ = HParams::from_gguf(*model->file_);
  model->weights_ = ModelWeights::bind(*model->file_, model->hparams_);
  model->tokenizer_ = Tokenizer::from_gguf(*model->file_);

  if (model->tokenizer_->n_vocab() != model->hparams_.n_vocab) {
    fail("{}: the tokenizer has {} tokens but the embedding has {} rows; the file is inconsistent", path,
         model->tokenizer_->n_vocab(), model->hparams_.n_vocab);
  }
  return model;
}

}  // namespace edgelm

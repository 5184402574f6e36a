#include "model/model.h"

#include "core/error.h"
#include "hf/hf_checkpoint.h"

namespace edgelm {

std::unique_ptr<Model> Model::load(const std::string& path, FileAccess access) {
  std::unique_ptr<Model> model(new Model());

  // A Hugging Face directory is read as the GGUF file the converter would
  // write, except that Q and K keep their rows and RoPE rotates halves.
  // NOTE: its safetensors files are always mapped, whatever `access` requests.
  bool rotates_halves = false;
  if (is_hf_model_dir(path)) {
    HfModel hf = open_hf_model(path, HfTensorLayout::kRun);
    model->file_ = std::move(hf.file);
    rotates_halves = hf.rotates_halves;
  } else {
    model->file_ = GgufFile::open(path, access);
  }

  model->hparams_ = HParams::from_gguf(*model->file_);
  if (rotates_halves) model->hparams_.rope_style = RopeStyle::kHalves;
  model->weights_ = ModelWeights::bind(*model->file_, model->hparams_);
  model->tokenizer_ = Tokenizer::from_gguf(*model->file_);

  if (model->tokenizer_->n_vocab() != model->hparams_.n_vocab) {
    fail("{}: the tokenizer has {} tokens but the embedding has {} rows; the file is inconsistent", path,
         model->tokenizer_->n_vocab(), model->hparams_.n_vocab);
  }
  return model;
}

}  // namespace edgelm

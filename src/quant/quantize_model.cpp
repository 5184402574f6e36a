#include "quant/quantize_model.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <numeric>

#include "core/error.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/thread_pool.h"
#include "gguf/gguf_writer.h"
#include "model/model_file.h"
#include "quant/quantize.h"
#include "tensor/reference.h"

namespace edgelm {
namespace {

// GGML_QNT_VERSION: the block layout generation of the quantized types written here.
constexpr uint32_t kQuantizationVersion = 2;

// Rows are converted in slices of about this many input bytes, so the
// progress bar moves within large tensors.
constexpr uint64_t kSliceBytes = uint64_t{16} << 20;

bool is_float_type(DType type) { return type == DType::F32 || type == DType::F16 || type == DType::BF16; }

// Whether a float row can be converted to `type`: a quantized type, or a
// float type (F16 is llama.cpp's last fallback for rows no block type fits).
bool can_convert_to(DType type) { return quantize_supported(type) || is_float_type(type); }

// Reads element values of a float-type row into dst.
void load_row(DType type, const uint8_t* src, float* dst, size_t n) {
  switch (type) {
    case DType::F32:
      std::memcpy(dst, src, n * sizeof(float));
      return;
    case DType::F16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = f16_to_f32(h);
      }
      return;
    case DType::BF16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t b;
        std::memcpy(&b, src + 2 * i, 2);
        dst[i] = bf16_to_f32(b);
      }
      return;
    default:
      fail("cannot read {} rows as float", dtype_name(type));
  }
}

void store_row(DType type, const float* src, uint8_t* dst, size_t n) {
  switch (type) {
    case DType::F32:
      std::memcpy(dst, src, n * sizeof(float));
      return;
    case DType::F16:
      for (size_t i = 0; i < n; ++i) {
        const uint16_t h = f32_to_f16(src[i]);
        std::memcpy(dst + 2 * i, &h, 2);
      }
      return;
    case DType::BF16:
      for (size_t i = 0; i < n; ++i) {
        const uint16_t b = f32_to_bf16(src[i]);
        std::memcpy(dst + 2 * i, &b, 2);
      }
      return;
    default:
      quantize_row(type, src, dst, n);
  }
}

// Converts every row of one tensor into `out`, rows split across the pool.
// Throws Error naming the first row and column that contains NaN or infinity.
void convert_tensor(const GgufTensor& tensor, DType type, ThreadPool& pool, ProgressBar* progress,
                    std::vector<uint8_t>& out) {
  const size_t n_per_row = tensor.dims[0];
  const size_t n_rows = tensor.n_rows();
  const size_t in_row_bytes = row_bytes(tensor.type, n_per_row);
  const size_t out_row_bytes = row_bytes(type, n_per_row);
  out.resize(n_rows * out_row_bytes);

  // Index of the first non-finite element, kept as the minimum over threads.
  constexpr uint64_t kNone = std::numeric_limits<uint64_t>::max();
  std::atomic<uint64_t> first_bad{kNone};

  const size_t slice_rows = std::max<size_t>(1, kSliceBytes / std::max<size_t>(1, in_row_bytes));
  for (size_t slice_begin = 0; slice_begin < n_rows; slice_begin += slice_rows) {
    const size_t slice_end = std::min(n_rows, slice_begin + slice_rows);
    pool.parallel_for(slice_end - slice_begin, [&](size_t begin, size_t end) {
      std::vector<float> row(n_per_row);
      for (size_t r = slice_begin + begin; r < slice_begin + end; ++r) {
        load_row(tensor.type, tensor.data + r * in_row_bytes, row.data(), n_per_row);

        // A NaN or infinity would make the rounding undefined; skip the row and report it.
        auto bad = std::find_if(row.begin(), row.end(), [](float v) { return !std::isfinite(v); });
        if (bad != row.end()) {
          const uint64_t index = r * n_per_row + static_cast<uint64_t>(bad - row.begin());
          uint64_t seen = first_bad.load();
          while (index < seen && !first_bad.compare_exchange_weak(seen, index)) {
          }
          continue;
        }
        store_row(type, row.data(), out.data() + r * out_row_bytes, n_per_row);
      }
    });
    if (progress != nullptr) progress->advance((slice_end - slice_begin) * in_row_bytes);
  }

  if (const uint64_t index = first_bad.load(); index != kNone) {
    fail("tensor '{}' holds a non-finite value (NaN or infinity) at row {}, column {}; the input weights are damaged",
         tensor.name, index / n_per_row, index % n_per_row);
  }
}

// Throws Error when `output` is empty or names the input file, or any file
// of an input directory (its weights, config or tokenizer), which the write
// would replace while they are read.
void check_output_path(const std::string& input, const std::string& output) {
  if (output.empty()) fail("the output path is empty; name the GGUF file to write");

  std::error_code error;
  if (std::filesystem::equivalent(input, output, error)) {
    fail("output '{}' is the input file; write the model to a different path", output);
  }
  if (!std::filesystem::is_directory(input, error)) return;
  for (const auto& entry : std::filesystem::directory_iterator(input, error)) {
    if (std::filesystem::equivalent(entry.path(), output, error)) {
      fail("output '{}' is {}, a file of the input model directory; write the model to a different path", output,
           entry.path().string());
    }
  }
}

// Bytes of the input: the file, or every file of a model directory.
uint64_t input_bytes(const std::string& input) {
  std::error_code error;
  if (std::filesystem::is_regular_file(input, error)) return std::filesystem::file_size(input, error);

  uint64_t total = 0;
  for (const auto& entry : std::filesystem::directory_iterator(input, error)) {
    if (entry.is_regular_file(error)) total += entry.file_size(error);
  }
  return total;
}

}  // namespace

std::vector<TensorPlan> plan_quantization(const GgufFile& input, const QuantPreset& preset) {
  if (input.find_uint("split.count").value_or(1) > 1) {
    fail("{} is one part of a split model; merge the parts into one GGUF file first", input.path());
  }

  // llama.cpp's order, which the type rules' layer counting relies on.
  std::vector<const GgufTensor*> ordered;
  for (const GgufTensor& t : input.tensors()) ordered.push_back(&t);
  std::stable_sort(ordered.begin(), ordered.end(),
                   [](const GgufTensor* a, const GgufTensor* b) { return llama_tensor_order(a->name, b->name); });

  std::vector<TensorDesc> descs;
  descs.reserve(ordered.size());
  for (const GgufTensor* t : ordered) descs.push_back({t->name, t->dims, t->type});
  const std::vector<DType> types = choose_tensor_types(preset, read_quant_model_info(input), descs);

  std::vector<TensorPlan> plan;
  plan.reserve(ordered.size());
  for (size_t i = 0; i < ordered.size(); ++i) {
    const GgufTensor& tensor = *ordered[i];
    const DType type = types[i];
    if (type != tensor.type) {
      if (!is_float_type(tensor.type)) {
        fail("tensor '{}' is {}, but edgelm quantizes only from f32, f16 or bf16 tensors; "
             "start from the unquantized model",
             tensor.name, dtype_name(tensor.type));
      }
      if (!can_convert_to(type)) {
        fail("tensor '{}' would need type {}, which edgelm cannot produce", tensor.name, dtype_name(type));
      }
    }
    plan.push_back({&tensor, type});
  }
  return plan;
}

QuantizeSummary quantize_model(const QuantizeRequest& request) {
  auto input = open_model_file(request.input_path);
  return quantize_model(*input, request);
}

QuantizeSummary quantize_model(const GgufFile& input, const QuantizeRequest& request) {
  const QuantPreset& preset = find_quant_preset(request.preset_name);
  const std::vector<TensorPlan> plan = plan_quantization(input, preset);

  // Metadata as llama-quantize writes it: the input's keys, then the two
  // quantization keys moved to the end, without split bookkeeping.
  GgufWriter writer;
  writer.copy_metadata(input);
  writer.set_uint32("general.quantization_version", kQuantizationVersion);
  writer.set_uint32("general.file_type", preset.file_type);
  writer.remove("split.no");
  writer.remove("split.count");
  writer.remove("split.tensors.count");

  QuantizeSummary summary = write_model(input, plan, writer.metadata(), request);
  summary.preset_name = std::string(preset.name);
  return summary;
}

QuantizeSummary write_model(const GgufFile& input, std::span<const TensorPlan> plan,
                            const std::vector<std::pair<std::string, GgufValue>>& metadata,
                            const QuantizeRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  check_output_path(input.path(), request.output_path);

  GgufWriter writer;
  for (const auto& [key, value] : metadata) writer.set(key, value);
  for (const TensorPlan& entry : plan) writer.add_tensor(entry.tensor->name, entry.tensor->dims, entry.type);
  writer.open(request.output_path);

  QuantizeSummary summary;
  summary.n_tensors = plan.size();
  summary.input_file_bytes = input_bytes(input.path());

  ThreadPool pool(request.threads);
  summary.n_threads = pool.size();
  spdlog::info("writing {}: {} tensors from {}, threads: {}", request.output_path, plan.size(), input.path(),
               pool.size());

  const uint64_t total_bytes = std::accumulate(plan.begin(), plan.end(), uint64_t{0},
                                               [](uint64_t sum, const TensorPlan& p) { return sum + p.tensor->n_bytes; });
  std::unique_ptr<ProgressBar> progress;
  if (request.show_progress) {
    progress = std::make_unique<ProgressBar>(request.progress_label, total_bytes, ProgressUnit::kBytes);
  }

  std::vector<uint8_t> converted;
  for (size_t i = 0; i < plan.size(); ++i) {
    const GgufTensor& tensor = *plan[i].tensor;
    const DType type = plan[i].type;
    spdlog::debug("[{}/{}] {} {} -> {}", i + 1, plan.size(), tensor.name, dtype_name(tensor.type), dtype_name(type));

    if (type == tensor.type) {
      writer.write_tensor(tensor.data, tensor.n_bytes);
      if (progress) progress->advance(tensor.n_bytes);
    } else {
      convert_tensor(tensor, type, pool, progress.get(), converted);
      writer.write_tensor(converted.data(), converted.size());
    }

    summary.n_elements += tensor.n_elements();
    summary.output_tensor_bytes += writer.tensor_bytes(i);
    ++summary.tensors_per_type[type];
  }
  writer.finish();
  if (progress) progress->finish();

  summary.output_file_bytes = writer.bytes_written();
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace edgelm

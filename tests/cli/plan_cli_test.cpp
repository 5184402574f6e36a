// `edgelm plan` run as a user would: JSON figures, the table, --check and errors.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "gguf/gguf_file.h"
#include "hf/hf_checkpoint.h"
#include "support/expected_output.h"
#include "support/run_command.h"

namespace edgelm {
namespace {

using testing::fixtures_dir;
using testing::run_edgelm;
using testing::shell_quote;

std::string fixture(const std::string& name) { return fixtures_dir() + "/" + name; }

nlohmann::json run_plan_json(const std::string& args) {
  const auto r = run_edgelm("plan " + args + " --json");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (r.exit_code != 0) return nlohmann::json::object();
  return nlohmann::json::parse(r.out);
}

// An error is one "error: ..." line on stderr, exit status 1, nothing on stdout.
void expect_error_line(const std::string& args, const std::string& expected) {
  const auto r = run_edgelm("plan " + args);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(expected), std::string::npos) << "expected \"" << expected << "\" in " << r.err;
}

// Sums of the file's tensor bytes, in total and by type name.
std::map<std::string, uint64_t> tensor_bytes_by_type(const GgufFile& file, uint64_t& total) {
  std::map<std::string, uint64_t> by_type;
  total = 0;
  for (const GgufTensor& tensor : file.tensors()) {
    by_type[std::string(dtype_name(tensor.type))] += tensor.n_bytes;
    total += tensor.n_bytes;
  }
  return by_type;
}

TEST(PlanCli, FileWeightsAreTensorBytes) {
  for (const char* name : {"tiny-gemma2-f32.gguf", "tiny-gemma2-bf16.gguf", "tiny-gemma2-q8_0.gguf",
                           "tiny-gemma2-q4_k_m.gguf"}) {
    auto file = GgufFile::open(fixture(name));
    uint64_t total = 0;
    const auto by_type = tensor_bytes_by_type(*file, total);

    const nlohmann::json plan = run_plan_json("-m " + shell_quote(fixture(name)) + " -c 1024 -t 2");
    EXPECT_EQ(plan["weights_bytes"].get<uint64_t>(), total) << name;
    EXPECT_EQ(plan["weights_by_type"].get<decltype(by_type)>(), by_type) << name;
    EXPECT_EQ(plan["overhead"]["metadata_bytes"].get<uint64_t>(), file->data_offset()) << name;
  }
}

TEST(PlanCli, HuggingFaceDirectory) {
  HfModel hf = open_hf_model(fixture("tiny-gemma2"), HfTensorLayout::kRun);
  uint64_t total = 0;
  const auto by_type = tensor_bytes_by_type(*hf.file, total);

  const nlohmann::json plan = run_plan_json("-m " + shell_quote(fixture("tiny-gemma2")) + " -c 1024");
  EXPECT_EQ(plan["weights_bytes"].get<uint64_t>(), total);
  EXPECT_EQ(plan["weights_by_type"].get<decltype(by_type)>(), by_type);
  EXPECT_EQ(plan["n_ctx"].get<uint32_t>(), 1024u);
}

TEST(PlanCli, TinyKvAndDefaults) {
  // 3 global layers of 1024 positions and 3 sliding layers of 32; K and V of 2 heads x 64 floats.
  const nlohmann::json plan = run_plan_json("-m " + shell_quote(fixture("tiny-gemma2-f32.gguf")) + " -c 1024");
  EXPECT_EQ(plan["kv_global_bytes"].get<uint64_t>(), 3u * 1024 * 2 * 2 * 64 * 4);
  EXPECT_EQ(plan["kv_sliding_bytes"].get<uint64_t>(), 3u * 32 * 2 * 2 * 64 * 4);
  EXPECT_EQ(plan["kv_bytes"].get<uint64_t>(), 3u * (1024 + 32) * 2 * 2 * 64 * 4);
  EXPECT_EQ(plan["kv_bytes_without_swa"].get<uint64_t>(), 6u * 1024 * 2 * 2 * 64 * 4);
  EXPECT_EQ(plan["parallel"].get<uint32_t>(), 1u);
  EXPECT_EQ(plan["kv_type"].get<std::string>(), "f32");
  EXPECT_EQ(plan["batch_tokens"].get<uint32_t>(), 64u);

  // -c 0 is the trained context, which the file stores.
  const nlohmann::json trained = run_plan_json("-m " + shell_quote(fixture("tiny-gemma2-f32.gguf")));
  auto file = GgufFile::open(fixture("tiny-gemma2-f32.gguf"));
  EXPECT_EQ(trained["n_ctx"].get<uint64_t>(), file->get_uint("gemma2.context_length"));

  const uint64_t total = plan["weights_bytes"].get<uint64_t>() + plan["kv_bytes"].get<uint64_t>() +
                         plan["compute_bytes"].get<uint64_t>() + plan["overhead_bytes"].get<uint64_t>();
  EXPECT_EQ(plan["total_bytes"].get<uint64_t>(), total);
}

TEST(PlanCli, ShapeGemma9bKv) {
  const nlohmann::json plan = run_plan_json("--shape gemma-2-9b --type q8_0 -c 8192");
  EXPECT_EQ(plan["kv_bytes"].get<uint64_t>(), 21ull * (8192 + 4096) * 2 * 8 * 256 * 4);
  EXPECT_EQ(plan["kv_bytes_without_swa"].get<uint64_t>(), 42ull * 8192 * 2 * 8 * 256 * 4);
  EXPECT_EQ(plan["model"].get<std::string>(), "gemma-2-9b (q8_0)");
}

TEST(PlanCli, ShapeGemma2bQ8Weights) {
  const nlohmann::json plan = run_plan_json("--shape gemma-2-2b --type q8_0 -c 4096");
  EXPECT_EQ(plan["weights_bytes"].get<uint64_t>(), 2778448896ull);
  EXPECT_EQ(plan["weights_by_type"]["f32"].get<uint64_t>(), 26ull * 4 * 2304 * 4 + 2304 * 4);
}

TEST(PlanCli, ParallelAndKvType) {
  const std::string model = "--shape llama-3.1-8b --type q4_k_m -c 4096";
  const uint64_t single = run_plan_json(model)["kv_bytes"].get<uint64_t>();
  EXPECT_EQ(single, 32ull * 4096 * 2 * 8 * 128 * 4);
  EXPECT_EQ(run_plan_json(model + " --parallel 3")["kv_bytes"].get<uint64_t>(), 3 * single);
  EXPECT_EQ(run_plan_json(model + " --kv-type bf16")["kv_bytes"].get<uint64_t>(), single / 2);
  const nlohmann::json q8 = run_plan_json(model + " --kv-type q8_0");
  EXPECT_EQ(q8["kv_bytes"].get<uint64_t>(), single / 128 * 34);
  EXPECT_FALSE(q8["kv_type_runs_in_edgelm"].get<bool>());

  // Without -c, serve's default context is the trained length capped at 8192.
  EXPECT_EQ(run_plan_json("--shape llama-3.1-8b --type q8_0 --parallel 2")["n_ctx"].get<uint32_t>(), 8192u);
  EXPECT_EQ(run_plan_json("--shape llama-3.1-8b --type q8_0")["n_ctx"].get<uint32_t>(), 131072u);
}

TEST(PlanCli, TableNamesEveryPart) {
  const auto r = run_edgelm("plan --shape gemma-2-9b --type q8_0 -c 8192 --kv-type bf16");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* part : {"model: gemma-2-9b (q8_0)", "weights", "q8_0", "KV cache", "global layers",
                           "sliding-window layers", "KV cache without SWA", "compute buffers", "runtime overhead",
                           "total", "2113929216", "note: edgelm itself stores the KV cache in f32"}) {
    EXPECT_NE(r.out.find(part), std::string::npos) << part << " missing in\n" << r.out;
  }
}

TEST(PlanCli, CheckTinyWithinFivePercent) {
  for (const char* name : {"tiny-gemma2-f32.gguf", "tiny-gemma2-q8_0.gguf"}) {
    const nlohmann::json plan = run_plan_json("-m " + shell_quote(fixture(name)) + " -c 1024 -t 2 --check");
    ASSERT_TRUE(plan.contains("check")) << name << " " << plan.dump();
    const nlohmann::json& check = plan["check"];
    EXPECT_LT(std::abs(check["relative_difference"].get<double>()), 0.05) << name << " " << check.dump();
    EXPECT_GT(check["measured_bytes"].get<uint64_t>(), plan["weights_bytes"].get<uint64_t>()) << name;

    // The measured baseline takes the place of the estimated one.
    const uint64_t planned = plan["total_bytes"].get<uint64_t>() - plan["overhead"]["baseline_bytes"].get<uint64_t>() +
                             check["baseline_bytes"].get<uint64_t>();
    EXPECT_EQ(check["planned_bytes"].get<uint64_t>(), planned) << name;
  }
}

TEST(PlanCli, Errors) {
  expect_error_line("--shape gemma-3-4b --type q8_0", "unknown model shape 'gemma-3-4b'; known shapes are gemma-2-2b");
  expect_error_line("--shape gemma-2-9b", "--shape gemma-2-9b needs --type");
  expect_error_line("-m " + shell_quote(fixture("tiny-gemma2-f32.gguf")) + " --shape gemma-2-9b --type q8_0",
                    "-m and --shape cannot be used together");
  expect_error_line("--shape gemma-2-9b --type q8_0 --kv-type f16", "--kv-type 'f16' is invalid; give f32, bf16 or q8_0");
  expect_error_line("--shape gemma-2-9b --type q9", "unknown weight type 'q9'");
  expect_error_line("", "plan needs a model");
  expect_error_line("--shape gemma-2-9b --type q8_0 --check", "--check loads the model");
  expect_error_line("--shape gemma-2-9b --type q8_0 --parallel 0", "--parallel 0 is invalid");
  expect_error_line("-m " + shell_quote(fixture("tiny-gemma2-f32.gguf")) + " --type q8_0", "--type q8_0 applies to --shape only");
  expect_error_line("-m " + shell_quote(fixture("tiny-gemma2-f32.gguf")) + " --kv-type bf16 --check",
                    "edgelm's KV cache stores f32 only");
}

}  // namespace
}  // namespace edgelm

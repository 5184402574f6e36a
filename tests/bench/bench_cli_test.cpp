// `edgelm bench` run as a user would: the JSON report, the table, skipped tests and option errors.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "bench/decode_traffic.h"
#include "bench/machine_info.h"
#include "core/thread_pool.h"
#include "gguf/gguf_file.h"
#include "kernels/matvec.h"
#include "kv/kv_cache.h"
#include "model/hparams.h"
#include "support/run_command.h"

namespace edgelm {
namespace {

using testing::run_edgelm;
using testing::shell_quote;

std::string tiny_model() { return std::string(EDGELM_FIXTURES_DIR) + "/tiny-gemma2-q8_0.gguf"; }

// An error is one "error: ..." line on stderr naming `expected`, exit status 1, nothing on stdout.
void expect_error_line(const std::string& args, const std::string& expected) {
  const auto r = run_edgelm("bench " + args);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(expected), std::string::npos) << "expected \"" << expected << "\" in " << r.err;
}

void expect_speed_fields(const nlohmann::json& report, const std::string& prefix) {
  SCOPED_TRACE(prefix);
  const double median = report.at(prefix).get<double>();
  EXPECT_GT(report.at(prefix + "_min").get<double>(), 0.0);
  EXPECT_LE(report.at(prefix + "_min").get<double>(), median);
  EXPECT_GE(report.at(prefix + "_max").get<double>(), median);
  EXPECT_GE(report.at(prefix + "_stddev").get<double>(), 0.0);
  EXPECT_EQ(report.at(prefix + "_samples").size(), 2u);
}

// Settings that make the figures misleading run, with one warning each: a
// context past the tiny model's trained 1,024 tokens, and more threads than CPUs.
TEST(BenchCli, WarnsPastContextAndCpus) {
  const size_t cpus = ThreadPool::hardware_threads();
  const auto r = run_edgelm("bench -m " + shell_quote(tiny_model()) + " -p 1000 -n 100 -r 1 --bandwidth-mib 8 -t " +
                            std::to_string(cpus + 1));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("-p + -n = 1100 tokens exceeds the trained context of 1024 tokens"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find(std::to_string(cpus + 1) + " threads share "), std::string::npos) << r.err;
  // The results carry them too: under the table, and in the JSON report.
  EXPECT_NE(r.out.find("warning: -p + -n = 1100 tokens exceeds"), std::string::npos) << r.out;
  const auto json_run = run_edgelm("bench -m " + shell_quote(tiny_model()) +
                                   " -p 1000 -n 100 -r 1 --bandwidth-mib 8 --json -t " + std::to_string(cpus + 1));
  ASSERT_EQ(json_run.exit_code, 0) << json_run.err;
  const nlohmann::json warnings = nlohmann::json::parse(json_run.out).at("warnings");
  ASSERT_EQ(warnings.size(), 2u) << warnings;
  EXPECT_NE(warnings[0].get<std::string>().find("trained context of 1024 tokens"), std::string::npos);
  EXPECT_NE(warnings[1].get<std::string>().find("threads share"), std::string::npos);

  const auto within = run_edgelm("bench -m " + shell_quote(tiny_model()) + " -p 16 -n 8 -r 1 --bandwidth-mib 8 -t 1");
  ASSERT_EQ(within.exit_code, 0) << within.err;
  EXPECT_EQ(within.err.find("trained context"), std::string::npos) << within.err;
  EXPECT_EQ(within.err.find(" share "), std::string::npos) << within.err;
}

TEST(BenchCli, JsonReportIsConsistent) {
  // The default bandwidth buffer (1 GiB) as a user runs it.
  const auto r = run_edgelm("bench -m " + shell_quote(tiny_model()) + " -p 16 -n 8 -r 2 -t 2 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  const nlohmann::json report = nlohmann::json::parse(r.out);
  ASSERT_TRUE(report.is_object());

  EXPECT_EQ(report.at("threads").get<int>(), 2);
  EXPECT_EQ(report.at("n_prompt").get<int>(), 16);
  EXPECT_EQ(report.at("n_gen").get<int>(), 8);
  EXPECT_EQ(report.at("repetitions").get<int>(), 2);
  EXPECT_EQ(report.at("architecture").get<std::string>(), "gemma2");
  EXPECT_EQ(report.at("cpu").get<std::string>(), cpu_model_name());
  const auto isas = available_isas();
  EXPECT_NE(std::find(isas.begin(), isas.end(), report.at("isa").get<std::string>()), isas.end()) << report["isa"];

  expect_speed_fields(report, "prefill_tok_s");
  expect_speed_fields(report, "decode_tok_s");
  EXPECT_GT(report.at("load_s").get<double>(), 0.0);
  EXPECT_FALSE(report.at("mapped").get<bool>());

  auto file = GgufFile::open(tiny_model());
  const HParams hp = HParams::from_gguf(*file);
  EXPECT_EQ(report.at("file_bytes").get<uint64_t>(), std::filesystem::file_size(tiny_model()));
  EXPECT_EQ(report.at("weights_bytes").get<uint64_t>(), 7267328u);
  EXPECT_EQ(report.at("kv_bytes").get<uint64_t>(), KvCache(hp, 24).total_bytes());
  EXPECT_EQ(report.at("weight_bytes_per_token").get<uint64_t>(), 7267328u + 272u);
  EXPECT_EQ(report.at("kv_read_bytes_per_token").get<uint64_t>(), 27648u);
  const uint64_t bytes_per_token = report.at("bytes_per_token").get<uint64_t>();
  EXPECT_EQ(bytes_per_token, 7267328u + 272u + 27648u);

  // The file is read into memory, so every weight is resident.
  const uint64_t rss_bytes = report.at("rss_bytes").get<uint64_t>();
  EXPECT_GT(rss_bytes, report.at("weights_bytes").get<uint64_t>());
  EXPECT_LT(rss_bytes, uint64_t{24} << 30);

  const double bandwidth = report.at("bandwidth_gb_s").get<double>();
  const auto passes = report.at("bandwidth_pass_gb_s").get<std::vector<double>>();
  ASSERT_EQ(passes.size(), 5u);
  EXPECT_GT(bandwidth, 0.0);
  EXPECT_EQ(bandwidth, *std::max_element(passes.begin(), passes.end()));
  EXPECT_EQ(report.at("bandwidth_method").get<std::string>(), "fastest of 5 passes");
  EXPECT_GE(report.at("bandwidth_buffer_bytes").get<uint64_t>(), uint64_t{1} << 30);

  // JSON numbers round-trip exactly, so the reported figures obey the formulas exactly.
  const double roofline = report.at("roofline_tok_s").get<double>();
  EXPECT_EQ(roofline, bandwidth * 1e9 / static_cast<double>(bytes_per_token));
  EXPECT_EQ(report.at("roofline_fraction").get<double>(), report.at("decode_tok_s").get<double>() / roofline);
  EXPECT_GT(report.at("roofline_fraction").get<double>(), 0.0);
}

TEST(BenchCli, TableHasOneRowPerTest) {
  const auto r = run_edgelm("bench -m " + shell_quote(tiny_model()) + " -p 4 -n 3 -r 1 -t 2 --bandwidth-mib 16");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("| model ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("| tiny-gemma2-q8_0.gguf (gemma2) | 6.93 MiB |       2 | pp4  |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("| tiny-gemma2-q8_0.gguf (gemma2) | 6.93 MiB |       2 | tg3  |"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("fastest of 5 passes over 16.00 MiB with 2 threads"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("% of the roofline"), std::string::npos) << r.out;
}

TEST(BenchCli, MmapMapsFile) {
  const std::string command = "bench -m " + shell_quote(tiny_model()) + " -p 0 -n 2 -r 1 -t 1 --bandwidth-mib 16";
  const auto mapped = run_edgelm(command + " --mmap --json");
  ASSERT_EQ(mapped.exit_code, 0) << mapped.err;
  EXPECT_TRUE(nlohmann::json::parse(mapped.out).at("mapped").get<bool>());

  const auto table = run_edgelm(command);
  ASSERT_EQ(table.exit_code, 0) << table.err;
  EXPECT_NE(table.out.find(" s (read into memory); file: "), std::string::npos) << table.out;
}

TEST(BenchCli, ZeroPromptSkipsPrefill) {
  const auto r =
      run_edgelm("bench -m " + shell_quote(tiny_model()) + " -p 0 -n 2 -r 1 -t 1 --bandwidth-mib 16 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json report = nlohmann::json::parse(r.out);
  EXPECT_TRUE(report.at("prefill_tok_s").is_null());
  EXPECT_TRUE(report.at("prefill_tok_s_samples").is_null());
  EXPECT_GT(report.at("decode_tok_s").get<double>(), 0.0);
  EXPECT_EQ(report.at("kv_bytes").get<uint64_t>(),
            KvCache(HParams::from_gguf(*GgufFile::open(tiny_model())), 2).total_bytes());
}

TEST(BenchCli, InvalidOptionsNameTheOption) {
  const std::string model = "-m " + shell_quote(tiny_model()) + " ";
  expect_error_line(model + "-p -1", "-p -1 is invalid");
  expect_error_line(model + "-p 100000", "-p 100000 is invalid");
  expect_error_line(model + "-n -5", "-n -5 is invalid");
  expect_error_line(model + "-p 0 -n 0", "-p 0 and -n 0");
  expect_error_line(model + "-r 0", "-r 0 is invalid");
  expect_error_line(model + "-t -2", "-t -2 is invalid");
  expect_error_line(model + "-t 5000", "-t 5000 is invalid");
  expect_error_line(model + "--bandwidth-mib -1", "--bandwidth-mib -1 is invalid");
  expect_error_line(model + "-p abc", "abc");
  expect_error_line("-m /nonexistent/model.gguf",
                    "model file '/nonexistent/model.gguf' not found; check the path");
}

}  // namespace
}  // namespace edgelm

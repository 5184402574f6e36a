// `edgelm quant-report` through the real binary: the table, report.json,
// report.svg, the thresholds, the temporary folder and argument errors.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "quant/temp_dir.h"
#include "support/expected_output.h"
#include "support/run_command.h"

namespace edgelm {
namespace {

using testing::run_edgelm;
using testing::shell_quote;
using testing::TempDir;

std::string fixture_path(const std::string& name) { return testing::fixtures_dir() + "/" + name; }

// Runs the report on the f32 fixture with short windows. The temporary folder goes under `temp_parent`.
testing::CommandResult quant_report(const TempDir& output, const TempDir& temp_parent, const std::string& extra,
                                    const std::string& types = "q8_0,q4_k_m") {
  return run_edgelm("quant-report -m " + shell_quote(fixture_path("tiny-gemma2-f32.gguf")) +
                        " -f /usr/share/common-licenses/GPL-3 -c 128 --chunks 20 -t 2 --types " + types + " -o " +
                        shell_quote(output.path()) + " " + extra,
                    "TMPDIR=" + shell_quote(temp_parent.path()));
}

size_t count_occurrences(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++count;
  return count;
}

TEST(QuantReportCli, WritesTableJsonAndChart) {
  TempDir output;
  TempDir temp_parent;
  auto r = quant_report(output, temp_parent, "");
  ASSERT_EQ(r.exit_code, 0) << r.err;

  // One table line per model, the base first.
  EXPECT_NE(r.out.find("| type | size | bits/weight | PPL | mean KL (nats) | max KL (nats) | same top-1 | decode (tokens/s) |"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\n| F32 (base) | 26.20 MiB | 32.00 | "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n| Q8_0 | 7.11 MiB | "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n| Q4_K_M | 4.49 MiB | "), std::string::npos) << r.out;
  EXPECT_EQ(count_occurrences(r.out, "\n| "), 4u) << "header and three rows: " << r.out;
  EXPECT_NE(r.out.find("- perplexity and KL: 20 windows of 128 tokens, 1260 predictions scored per model"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("Thresholds: mean KL <= 0.01 nats and same top-1 >= 95.00%."), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Recommendation: Q4_K_M (4.49 MiB), the smallest type within both thresholds."),
            std::string::npos)
      << r.out;

  const nlohmann::json json = nlohmann::json::parse(testing::read_file_bytes(output.file("report.json")));
  ASSERT_EQ(json.at("rows").size(), 3u);
  EXPECT_EQ(json["rows"][0].at("type"), "F32");
  EXPECT_EQ(json["rows"][1].at("file_bytes"), std::filesystem::file_size(fixture_path("tiny-gemma2-q8_0.gguf")));
  EXPECT_EQ(json["rows"][2].at("file_bytes"), std::filesystem::file_size(fixture_path("tiny-gemma2-q4_k_m.gguf")));
  EXPECT_LT(json["rows"][1]["kl_mean"].at("value").get<double>(), json["rows"][2]["kl_mean"].at("value").get<double>());
  EXPECT_EQ(json.at("recommended"), "Q4_K_M");
  EXPECT_EQ(json.at("recommended_is_base"), false);

  const std::vector<char> svg_bytes = testing::read_file_bytes(output.file("report.svg"));
  const std::string svg(svg_bytes.begin(), svg_bytes.end());
  EXPECT_EQ(count_occurrences(svg, "<circle "), 2u);
  EXPECT_NE(svg.find(">Q8_0</text>"), std::string::npos);
  EXPECT_NE(svg.find(">Q4_K_M</text>"), std::string::npos);
  EXPECT_TRUE(svg.ends_with("</svg>\n"));

  EXPECT_NE(r.err.find("wrote " + output.file("report.json") + " and " + output.file("report.svg")), std::string::npos)
      << r.err;
  EXPECT_EQ(temp_parent.entry_count(), 0u) << "the temporary folder is removed";
}

TEST(QuantReportCli, StrictThresholdsKeepTheBase) {
  TempDir output;
  TempDir temp_parent;
  auto r = quant_report(output, temp_parent, "--max-kl 0.00001 --min-same-top1 0.5");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Thresholds: mean KL <= 1e-05 nats and same top-1 >= 50.00%."), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Recommendation: no type is within both thresholds; keep the base (F32)."), std::string::npos)
      << r.out;

  const nlohmann::json json = nlohmann::json::parse(testing::read_file_bytes(output.file("report.json")));
  EXPECT_EQ(json.at("recommended"), "F32");
  EXPECT_EQ(json.at("recommended_is_base"), true);
  EXPECT_EQ(json.at("thresholds").at("max_kl"), 0.00001);
  EXPECT_EQ(json.at("thresholds").at("min_same_top1"), 0.5);
  EXPECT_EQ(temp_parent.entry_count(), 0u);
}

TEST(QuantReportCli, RejectsBadArguments) {
  TempDir output;
  TempDir temp_parent;

  auto unknown = quant_report(output, temp_parent, "", "q8_0,q9_9");
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("q9_9"), std::string::npos) << unknown.err;

  auto missing_text = run_edgelm("quant-report -m " + shell_quote(fixture_path("tiny-gemma2-f32.gguf")) +
                                 " -f /nonexistent/text.txt -o " + shell_quote(output.path()));
  EXPECT_EQ(missing_text.exit_code, 1);
  EXPECT_NE(missing_text.err.find("error: /nonexistent/text.txt: opening the text file failed"), std::string::npos)
      << missing_text.err;

  auto bad_fraction = quant_report(output, temp_parent, "--min-same-top1 1.5");
  EXPECT_EQ(bad_fraction.exit_code, 1);
  EXPECT_NE(bad_fraction.err.find("--min-same-top1"), std::string::npos) << bad_fraction.err;

  auto quantized_base = run_edgelm("quant-report -m " + shell_quote(fixture_path("tiny-gemma2-q4_0.gguf")) +
                                   " -f /usr/share/common-licenses/GPL-3 -o " + shell_quote(output.path()),
                                   "TMPDIR=" + shell_quote(temp_parent.path()));
  EXPECT_EQ(quantized_base.exit_code, 1);
  EXPECT_NE(quantized_base.err.find("but the base must have f32, f16 or bf16 weights"), std::string::npos)
      << quantized_base.err;

  EXPECT_EQ(output.entry_count(), 0u) << "no report is written on error";
  EXPECT_EQ(temp_parent.entry_count(), 0u);
}

}  // namespace
}  // namespace edgelm

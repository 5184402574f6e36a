// The quantization report on the tiny Gemma 2 fixtures: rows, sizes against
// llama.cpp's files, divergence order, recommendation, JSON, table and chart.

#include "eval/quant_report.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/progress.h"
#include "eval/report_chart.h"
#include "quant/temp_dir.h"
#include "support/expected_output.h"

namespace edgelm {
namespace {

using testing::TempDir;

std::string fixture_path(const std::string& name) { return testing::fixtures_dir() + "/" + name; }

constexpr const char* kTextPath = "/usr/share/common-licenses/GPL-3";

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The settings every fixture run shares: short windows and few of them, to stay fast.
QuantReportOptions small_options(const std::string& base) {
  QuantReportOptions options;
  options.base_path = base;
  options.text = read_text(kTextPath);
  options.text_name = kTextPath;
  options.types = {"q8_0", "Q4_K_M"};
  options.n_ctx = 128;
  options.max_chunks = 20;
  options.threads = 2;
  options.show_progress = false;
  return options;
}

// Returns the trimmed cells of the markdown table's data lines, without the header and the separator.
std::vector<std::vector<std::string>> table_rows(const std::string& markdown) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(markdown);
  std::string line;
  bool header_seen = false;
  while (std::getline(lines, line)) {
    if (!line.starts_with("|")) continue;
    if (!header_seen || line.starts_with("|---")) {
      header_seen = true;
      continue;
    }
    std::vector<std::string> cells;
    size_t start = 1;
    for (size_t bar = line.find('|', start); bar != std::string::npos; bar = line.find('|', start)) {
      std::string cell = line.substr(start, bar - start);
      cell.erase(0, cell.find_first_not_of(' '));
      cell.erase(cell.find_last_not_of(' ') + 1);
      cells.push_back(cell);
      start = bar + 1;
    }
    rows.push_back(cells);
  }
  return rows;
}

size_t count_occurrences(const std::string& text, const std::string& needle) {
  size_t count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++count;
  return count;
}

// Checks that every element is closed in order or self-closed, which is
// what an XML parser needs from this kind of generated SVG. Returns the
// first problem, or an empty string.
std::string check_xml_nesting(const std::string& svg) {
  std::vector<std::string> open;
  size_t at = 0;
  while ((at = svg.find('<', at)) != std::string::npos) {
    const size_t end = svg.find('>', at);
    if (end == std::string::npos) return "unterminated tag at " + std::to_string(at);
    const std::string tag = svg.substr(at + 1, end - at - 1);
    at = end + 1;
    if (tag.starts_with("?")) continue;
    if (tag.starts_with("/")) {
      if (open.empty() || open.back() != tag.substr(1)) return "unexpected </" + tag.substr(1) + ">";
      open.pop_back();
      continue;
    }
    if (tag.ends_with("/")) continue;
    open.push_back(tag.substr(0, tag.find(' ')));
  }
  return open.empty() ? "" : "unclosed <" + open.back() + ">";
}

// One report over the f32 base, shared by the tests that only read it.
class QuantReportFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    report_ = new QuantReport(run_quant_report(small_options(fixture_path("tiny-gemma2-f32.gguf"))));
  }
  static void TearDownTestSuite() {
    delete report_;
    report_ = nullptr;
  }
  static const QuantReport& report() { return *report_; }

 private:
  static QuantReport* report_;
};

QuantReport* QuantReportFixture::report_ = nullptr;

TEST_F(QuantReportFixture, RowsAreBaseThenTypes) {
  ASSERT_EQ(report().rows.size(), 3u);
  EXPECT_EQ(report().rows[0].type, "F32");
  EXPECT_TRUE(report().rows[0].is_base);
  EXPECT_EQ(report().rows[1].type, "Q8_0");
  EXPECT_FALSE(report().rows[1].is_base);
  EXPECT_EQ(report().rows[2].type, "Q4_K_M");
  EXPECT_FALSE(report().rows[2].is_base);
  EXPECT_EQ(report().n_ctx, 128u);
  EXPECT_EQ(report().n_chunks, 20u);
  EXPECT_EQ(report().n_scored, 20u * (128 - 1 - 64));
  EXPECT_EQ(report().decode_tokens, 64u);
  EXPECT_EQ(report().decode_prompt_tokens, 16u);
  EXPECT_EQ(report().decode_runs, 3u);
  EXPECT_EQ(report().threads, 2u);
}

TEST_F(QuantReportFixture, SizesEqualLlamaCppFiles) {
  // The quantized files are byte-identical to these, so their sizes match too.
  ASSERT_EQ(report().rows.size(), 3u);
  EXPECT_EQ(report().rows[0].file_bytes, std::filesystem::file_size(fixture_path("tiny-gemma2-f32.gguf")));
  EXPECT_EQ(report().rows[1].file_bytes, std::filesystem::file_size(fixture_path("tiny-gemma2-q8_0.gguf")));
  EXPECT_EQ(report().rows[2].file_bytes, std::filesystem::file_size(fixture_path("tiny-gemma2-q4_k_m.gguf")));
  EXPECT_DOUBLE_EQ(report().rows[0].bits_per_weight, 32.0);
  EXPECT_GT(report().rows[1].bits_per_weight, 8.5);
  EXPECT_LT(report().rows[1].bits_per_weight, 9.0);
  EXPECT_GT(report().rows[2].bits_per_weight, 4.5);
  EXPECT_LT(report().rows[2].bits_per_weight, 6.0);
}

TEST_F(QuantReportFixture, Q8DivergesLessThanQ4KM) {
  ASSERT_EQ(report().rows.size(), 3u);
  const QuantReportRow& base = report().rows[0];
  const QuantReportRow& q8_0 = report().rows[1];
  const QuantReportRow& q4_k_m = report().rows[2];

  EXPECT_EQ(base.kl_mean.value, 0.0);
  EXPECT_EQ(base.kl_max, 0.0);
  EXPECT_EQ(base.same_top1.value, 1.0);
  EXPECT_GT(q8_0.kl_mean.value, 0.0);
  EXPECT_LT(q8_0.kl_mean.value, q4_k_m.kl_mean.value);
  EXPECT_GT(q8_0.same_top1.value, q4_k_m.same_top1.value);
  EXPECT_LE(q8_0.kl_mean.value, q8_0.kl_max);
  EXPECT_GT(q8_0.kl_mean.error, 0.0);
  EXPECT_GT(q4_k_m.same_top1.error, 0.0);

  // Quantization moves perplexity by well under 1 percent on this model.
  for (const QuantReportRow& row : report().rows) {
    EXPECT_GT(row.ppl.error, 0.0) << row.type;
    EXPECT_NEAR(row.ppl.value, base.ppl.value, 0.01 * base.ppl.value) << row.type;
    EXPECT_GT(row.decode_tokens_per_second, 0.0) << row.type;
  }
}

TEST_F(QuantReportFixture, RecommendationFollowsThresholds) {
  const std::vector<QuantReportRow>& rows = report().rows;
  ASSERT_EQ(rows.size(), 3u);
  const double kl_between = (rows[1].kl_mean.value + rows[2].kl_mean.value) / 2.0;
  const double top1_between = (rows[1].same_top1.value + rows[2].same_top1.value) / 2.0;

  // Loose: both qualify, and the smaller file wins.
  EXPECT_EQ(recommend_row(rows, 1.0, 0.0), 2u);
  // Strict on KL or on same top-1: only Q8_0 qualifies.
  EXPECT_EQ(recommend_row(rows, kl_between, 0.0), 1u);
  EXPECT_EQ(recommend_row(rows, 1.0, top1_between), 1u);
  // Stricter than either: the base.
  EXPECT_EQ(recommend_row(rows, rows[1].kl_mean.value / 2.0, 0.0), 0u);
  EXPECT_EQ(recommend_row(rows, 1.0, 1.0), 0u);
  // A threshold equal to the value qualifies.
  EXPECT_EQ(recommend_row(rows, rows[2].kl_mean.value, rows[2].same_top1.value), 2u);

  EXPECT_EQ(report().max_kl, 0.01);
  EXPECT_EQ(report().min_same_top1, 0.95);
  EXPECT_EQ(report().recommended, recommend_row(rows, 0.01, 0.95));
}

TEST_F(QuantReportFixture, MarkdownTableMatchesJson) {
  const std::string markdown = format_report_markdown(report());
  const nlohmann::json json = nlohmann::json::parse(format_report_json(report()));

  const auto table = table_rows(markdown);
  ASSERT_EQ(table.size(), 3u) << markdown;
  ASSERT_EQ(json.at("rows").size(), 3u);
  for (size_t i = 0; i < table.size(); ++i) {
    const nlohmann::json& row = json["rows"][i];
    const std::vector<std::string>& cells = table[i];
    ASSERT_EQ(cells.size(), 8u) << markdown;
    const bool is_base = row.at("base").get<bool>();
    EXPECT_EQ(cells[0], row.at("type").get<std::string>() + (is_base ? " (base)" : ""));
    EXPECT_EQ(cells[1], format_bytes(row.at("file_bytes").get<uint64_t>()));
    EXPECT_EQ(cells[2], fmt::format("{:.2f}", row.at("bits_per_weight").get<double>()));
    EXPECT_EQ(cells[3], fmt::format("{:.4f} ± {:.4f}", row["ppl"].at("value").get<double>(),
                                    row["ppl"].at("error").get<double>()));
    EXPECT_EQ(cells[7], fmt::format("{:.1f}", row.at("decode_tokens_per_second").get<double>()));
    if (is_base) {
      EXPECT_EQ(cells[4], "0");
      EXPECT_EQ(cells[5], "0");
      EXPECT_EQ(cells[6], "100%");
      continue;
    }
    EXPECT_EQ(cells[4], fmt::format("{:.6f} ± {:.6f}", row["kl_mean"].at("value").get<double>(),
                                    row["kl_mean"].at("error").get<double>()));
    EXPECT_EQ(cells[5], fmt::format("{:.4f}", row.at("kl_max").get<double>()));
    EXPECT_EQ(cells[6], fmt::format("{:.2f} ± {:.2f}%", 100.0 * row["same_top1"].at("value").get<double>(),
                                    100.0 * row["same_top1"].at("error").get<double>()));
  }
}

TEST_F(QuantReportFixture, JsonHasEveryField) {
  const nlohmann::json json = nlohmann::json::parse(format_report_json(report()));
  EXPECT_EQ(json.at("base"), fixture_path("tiny-gemma2-f32.gguf"));
  EXPECT_EQ(json.at("text"), kTextPath);
  EXPECT_EQ(json.at("n_ctx"), 128);
  EXPECT_EQ(json.at("n_chunks"), 20);
  EXPECT_EQ(json.at("n_scored"), report().n_scored);
  EXPECT_EQ(json.at("decode").at("prompt_tokens"), 16);
  EXPECT_EQ(json.at("decode").at("generated_tokens"), 64);
  EXPECT_EQ(json.at("decode").at("runs"), 3);
  EXPECT_EQ(json.at("threads"), 2);
  EXPECT_EQ(json.at("thresholds").at("max_kl"), 0.01);
  EXPECT_EQ(json.at("thresholds").at("min_same_top1"), 0.95);
  EXPECT_EQ(json.at("recommended"), report().rows[report().recommended].type);
  EXPECT_EQ(json.at("recommended_is_base"), report().recommended == 0);

  ASSERT_EQ(json.at("rows").size(), report().rows.size());
  for (size_t i = 0; i < report().rows.size(); ++i) {
    const QuantReportRow& row = report().rows[i];
    const nlohmann::json& entry = json["rows"][i];
    EXPECT_EQ(entry.at("type"), row.type);
    EXPECT_EQ(entry.at("base"), row.is_base);
    EXPECT_EQ(entry.at("file_bytes"), row.file_bytes);
    EXPECT_EQ(entry.at("bits_per_weight"), row.bits_per_weight);
    EXPECT_EQ(entry.at("ppl").at("value"), row.ppl.value);
    EXPECT_EQ(entry.at("ppl").at("error"), row.ppl.error);
    EXPECT_EQ(entry.at("kl_mean").at("value"), row.kl_mean.value);
    EXPECT_EQ(entry.at("kl_mean").at("error"), row.kl_mean.error);
    EXPECT_EQ(entry.at("kl_max"), row.kl_max);
    EXPECT_EQ(entry.at("same_top1").at("value"), row.same_top1.value);
    EXPECT_EQ(entry.at("same_top1").at("error"), row.same_top1.error);
    EXPECT_EQ(entry.at("decode_tokens_per_second"), row.decode_tokens_per_second);
    EXPECT_EQ(entry.at("quantize_seconds"), row.quantize_seconds);
  }
}

TEST_F(QuantReportFixture, MarkdownStatesThresholdsAndChoice) {
  QuantReport loose = report();
  loose.recommended = recommend_row(loose.rows, 1.0, 0.0);
  loose.max_kl = 1.0;
  loose.min_same_top1 = 0.0;
  const std::string loose_text = format_report_markdown(loose);
  EXPECT_NE(loose_text.find("Thresholds: mean KL <= 1 nats and same top-1 >= 0.00%."), std::string::npos) << loose_text;
  EXPECT_NE(loose_text.find("Recommendation: Q4_K_M (4.49 MiB), the smallest type within both thresholds."),
            std::string::npos)
      << loose_text;

  QuantReport strict = report();
  strict.max_kl = 1e-6;
  strict.min_same_top1 = 0.999;
  strict.recommended = recommend_row(strict.rows, strict.max_kl, strict.min_same_top1);
  const std::string strict_text = format_report_markdown(strict);
  EXPECT_NE(strict_text.find("Thresholds: mean KL <= 1e-06 nats and same top-1 >= 99.90%."), std::string::npos)
      << strict_text;
  EXPECT_NE(strict_text.find("Recommendation: no type is within both thresholds; keep the base (F32)."),
            std::string::npos)
      << strict_text;
  EXPECT_EQ(nlohmann::json::parse(format_report_json(strict)).at("recommended"), "F32");
}

TEST_F(QuantReportFixture, ChartHasOnePointPerType) {
  const std::string svg = render_report_chart(report());
  EXPECT_EQ(check_xml_nesting(svg), "");
  EXPECT_TRUE(svg.starts_with("<?xml")) << svg.substr(0, 100);
  EXPECT_EQ(count_occurrences(svg, "<svg "), 1u);
  EXPECT_EQ(count_occurrences(svg, "<circle "), 2u);
  EXPECT_EQ(count_occurrences(svg, ">Q8_0</text>"), 1u);
  EXPECT_EQ(count_occurrences(svg, ">Q4_K_M</text>"), 1u);
  EXPECT_EQ(count_occurrences(svg, ">F32"), 0u) << "the base has no KL to plot";
  EXPECT_NE(svg.find(">Mean KL from the F32 base vs file size: tiny-gemma2-f32.gguf</text>"), std::string::npos);
  EXPECT_NE(svg.find(">file size (MiB)</text>"), std::string::npos);
  EXPECT_NE(svg.find(">mean KL divergence from the base (nats, log scale)</text>"), std::string::npos);
  EXPECT_NE(svg.find(">max KL 0.01 nats</text>"), std::string::npos);
  // Decade ticks from below Q8_0's KL (about 9e-5) to the threshold.
  EXPECT_NE(svg.find(">1e-05</text>"), std::string::npos);
  EXPECT_NE(svg.find(">0.01</text>"), std::string::npos);
}

TEST(QuantReportRecommendation, SmallestQualifyingRowWins) {
  std::vector<QuantReportRow> rows(4);
  rows[0].is_base = true;
  rows[0].file_bytes = 100;
  rows[1].file_bytes = 30;
  rows[1].kl_mean.value = 0.001;
  rows[1].same_top1.value = 0.99;
  rows[2].file_bytes = 20;
  rows[2].kl_mean.value = 0.005;
  rows[2].same_top1.value = 0.96;
  rows[3].file_bytes = 50;
  rows[3].kl_mean.value = 0.0001;
  rows[3].same_top1.value = 0.999;

  EXPECT_EQ(recommend_row(rows, 0.01, 0.95), 2u);
  EXPECT_EQ(recommend_row(rows, 0.002, 0.95), 1u);
  EXPECT_EQ(recommend_row(rows, 0.01, 0.995), 3u);
  EXPECT_EQ(recommend_row(rows, 0.00001, 0.0), 0u);
  EXPECT_EQ(recommend_row({rows[0]}, 1.0, 0.0), 0u);
}

TEST(QuantReportChart, PlacesPointsOnLogAxis) {
  LogScatterChart chart;
  chart.title = "a <b> & \"c\"";
  chart.x_label = "x";
  chart.y_label = "y";
  chart.points = {{"low", 100.0, 0.001}, {"high", 300.0, 0.1}, {"zero", 200.0, 0.0}};
  chart.line = ChartLine{"limit", 0.01};
  const std::string svg = render_log_scatter_svg(chart);

  EXPECT_EQ(check_xml_nesting(svg), "");
  EXPECT_NE(svg.find(">a &lt;b&gt; &amp; &quot;c&quot;</text>"), std::string::npos) << svg;
  EXPECT_EQ(count_occurrences(svg, "<circle "), 3u);

  // The plot spans 420 to 50 pixels up for the decades 0.0001 to 1: one
  // decade of room on each side of the data, 92.5 pixels each.
  EXPECT_EQ(count_occurrences(svg, "cy=\"327.5\" r=\"5\""), 1u) << "0.001 one decade up: " << svg;
  EXPECT_EQ(count_occurrences(svg, "cy=\"142.5\" r=\"5\""), 1u) << "0.1 one decade down";
  EXPECT_EQ(count_occurrences(svg, "cy=\"420.0\" r=\"5\""), 1u) << "zero goes to the bottom edge";
  EXPECT_NE(svg.find("y1=\"235.0\" x2=\"680.0\" y2=\"235.0\" stroke=\"#c0392b\""), std::string::npos)
      << "the line at 0.01 is halfway: " << svg;
  for (const char* tick : {">0.0001</text>", ">0.001</text>", ">0.01</text>", ">0.1</text>", ">1</text>"}) {
    EXPECT_EQ(count_occurrences(svg, tick), 1u) << tick;
  }
  EXPECT_EQ(svg.find(">1e-05</text>"), std::string::npos) << "no decade beyond the room below the data";
  EXPECT_EQ(svg.find(">10</text>"), std::string::npos) << "no decade beyond the room above the data";
}

TEST(QuantReportChart, NoPointsStillRenders) {
  LogScatterChart chart;
  chart.title = "empty";
  const std::string svg = render_log_scatter_svg(chart);
  EXPECT_EQ(check_xml_nesting(svg), "");
  EXPECT_EQ(count_occurrences(svg, "<circle "), 0u);
}

TEST(QuantReport, HuggingFaceDirectoryBase) {
  QuantReportOptions options = small_options(fixture_path("tiny-gemma2"));
  options.types = {"q8_0"};
  options.max_chunks = 4;
  options.decode_runs = 1;
  const QuantReport report = run_quant_report(options);

  ASSERT_EQ(report.rows.size(), 2u);
  EXPECT_EQ(report.rows[0].type, "BF16");
  EXPECT_TRUE(report.rows[0].is_base);
  EXPECT_EQ(report.rows[1].type, "Q8_0");
  EXPECT_EQ(report.n_chunks, 4u);
  EXPECT_EQ(report.decode_runs, 1u);
  // Quantizing the bf16 weights gives the same tensors as quantizing the f32 file that stores them.
  EXPECT_EQ(report.rows[1].file_bytes, std::filesystem::file_size(fixture_path("tiny-gemma2-q8_0.gguf")));
  EXPECT_GT(report.rows[1].kl_mean.value, 0.0);
  EXPECT_LT(report.rows[1].kl_mean.value, 0.001);
  EXPECT_NE(render_report_chart(report).find("vs file size: tiny-gemma2</text>"), std::string::npos);
}

TEST(QuantReport, TemporaryFolderRemoved) {
  TempDir parent;
  QuantReportOptions options = small_options(fixture_path("tiny-gemma2-f32.gguf"));
  options.types = {"q4_0"};
  options.max_chunks = 2;
  options.decode_runs = 1;
  options.decode_tokens = 4;
  options.temp_parent = parent.path();
  const QuantReport report = run_quant_report(options);
  ASSERT_EQ(report.rows.size(), 2u);
  EXPECT_EQ(report.rows[1].file_bytes, std::filesystem::file_size(fixture_path("tiny-gemma2-q4_0.gguf")));
  EXPECT_EQ(parent.entry_count(), 0u);

  // A text too short for two windows fails inside the measurement, after the folder exists.
  options.text = "Too short.";
  EXPECT_THROW(run_quant_report(options), Error);
  EXPECT_EQ(parent.entry_count(), 0u);
}

TEST(QuantReport, RejectsBadInput) {
  TempDir parent;
  QuantReportOptions options = small_options(fixture_path("tiny-gemma2-f32.gguf"));
  options.temp_parent = parent.path();

  auto message_of = [&](const QuantReportOptions& bad) -> std::string {
    try {
      run_quant_report(bad);
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };

  QuantReportOptions unknown = options;
  unknown.types = {"q8_0", "q9_9"};
  EXPECT_NE(message_of(unknown).find("q9_9"), std::string::npos) << message_of(unknown);

  QuantReportOptions repeated = options;
  repeated.types = {"q8_0", "Q8_0"};
  EXPECT_NE(message_of(repeated).find("type 'Q8_0' is listed twice"), std::string::npos) << message_of(repeated);

  QuantReportOptions none = options;
  none.types.clear();
  EXPECT_NE(message_of(none).find("no quantization types given"), std::string::npos);

  QuantReportOptions top1 = options;
  top1.min_same_top1 = 1.5;
  EXPECT_NE(message_of(top1).find("minimum same-top-1 fraction 1.5 is invalid"), std::string::npos);

  QuantReportOptions quantized = options;
  quantized.base_path = fixture_path("tiny-gemma2-q8_0.gguf");
  const std::string quantized_message = message_of(quantized);
  EXPECT_NE(quantized_message.find("tiny-gemma2-q8_0.gguf: tensor '"), std::string::npos) << quantized_message;
  EXPECT_NE(quantized_message.find("' is q8_0, but the base must have f32, f16 or bf16 weights"), std::string::npos)
      << quantized_message;

  EXPECT_EQ(parent.entry_count(), 0u);
}

}  // namespace
}  // namespace edgelm

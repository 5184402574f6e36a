#pragma once
// A scatter chart with a linear x axis and a logarithmic y axis, written as
// standalone SVG text.

#include <optional>
#include <string>
#include <vector>

namespace edgelm {

struct ChartPoint {
  std::string label;  // drawn next to the point
  double x = 0.0;
  double y = 0.0;  // values at or below zero are drawn on the bottom edge
};

// A horizontal reference line, such as a threshold.
struct ChartLine {
  std::string label;
  double y = 0.0;
};

struct LogScatterChart {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<ChartPoint> points;
  std::optional<ChartLine> line;
  int width = 720;   // pixels
  int height = 480;  // pixels
};

// Renders the chart: axes with ticks and tick labels, the axis labels, the
// title, one labelled circle per point and the reference line. The x range
// is padded around the points; the y range spans whole decades around the
// positive y values and the line. Text is XML-escaped.
std::string render_log_scatter_svg(const LogScatterChart& chart);

}  // namespace edgelm

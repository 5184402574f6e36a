// A scatter chart with a linear x axis and a logarithmic y axis, written as SVG text.

#include "eval/report_chart.h"

#include <algorithm>
#include <cmath>
#include <string_view>

#include <fmt/format.h>

namespace edgelm {
namespace {

// Plot area margins in pixels: room for tick labels, axis labels and the title.
constexpr double kMarginLeft = 80.0;
constexpr double kMarginRight = 40.0;
constexpr double kMarginTop = 50.0;
constexpr double kMarginBottom = 60.0;

std::string escape_xml(std::string_view text) {
  std::string escaped;
  for (char c : text) {
    switch (c) {
      case '&': escaped += "&amp;"; break;
      case '<': escaped += "&lt;"; break;
      case '>': escaped += "&gt;"; break;
      case '"': escaped += "&quot;"; break;
      case '\'': escaped += "&apos;"; break;
      default: escaped += c;
    }
  }
  return escaped;
}

// 1, 2 or 5 times a power of ten, the smallest such step at or above `raw`.
double nice_step(double raw) {
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (double factor : {1.0, 2.0, 5.0}) {
    if (factor * magnitude >= raw) return factor * magnitude;
  }
  return 10.0 * magnitude;
}

struct LinearAxis {
  double low = 0.0;
  double high = 1.0;
  double step = 0.2;
};

// The x range: the points' span padded by 8 percent on each side, kept at
// or above zero when every value is, with about five ticks.
LinearAxis make_x_axis(const std::vector<ChartPoint>& points) {
  if (points.empty()) return {};

  double low = points.front().x;
  double high = points.front().x;
  for (const ChartPoint& point : points) {
    low = std::min(low, point.x);
    high = std::max(high, point.x);
  }

  double span = high - low;
  if (span <= 0.0) span = std::max(std::abs(high) * 0.2, 1.0);
  const bool non_negative = low >= 0.0;
  low -= 0.08 * span;
  high += 0.08 * span;
  if (non_negative) low = std::max(low, 0.0);

  return {low, high, nice_step((high - low) / 5.0)};
}

struct LogAxis {
  int low_exponent = -3;
  int high_exponent = 0;
};

// Whole decades around the positive values, with room above and below so
// that no value sits on the plot's edge.
LogAxis make_y_axis(const LogScatterChart& chart) {
  double low = 0.0;
  double high = 0.0;
  auto include = [&](double y) {
    if (!(y > 0.0) || !std::isfinite(y)) return;
    low = low > 0.0 ? std::min(low, y) : y;
    high = std::max(high, y);
  };
  for (const ChartPoint& point : chart.points) include(point.y);
  if (chart.line) include(chart.line->y);
  if (high <= 0.0) return {};

  return {static_cast<int>(std::ceil(std::log10(low))) - 1, static_cast<int>(std::floor(std::log10(high))) + 1};
}

class Plot {
 public:
  Plot(const LogScatterChart& chart, LinearAxis x_axis, LogAxis y_axis)
      : left_(kMarginLeft),
        right_(chart.width - kMarginRight),
        top_(kMarginTop),
        bottom_(chart.height - kMarginBottom),
        x_axis_(x_axis),
        y_axis_(y_axis) {}

  double pixel_x(double x) const { return left_ + (x - x_axis_.low) / (x_axis_.high - x_axis_.low) * (right_ - left_); }

  // Values at or below zero, which a log axis cannot show, go to the bottom edge.
  double pixel_y(double y) const {
    if (!(y > 0.0)) return bottom_;
    const double fraction = (std::log10(y) - y_axis_.low_exponent) / (y_axis_.high_exponent - y_axis_.low_exponent);
    return bottom_ - std::clamp(fraction, 0.0, 1.0) * (bottom_ - top_);
  }

  double left() const { return left_; }
  double right() const { return right_; }
  double top() const { return top_; }
  double bottom() const { return bottom_; }
  const LinearAxis& x_axis() const { return x_axis_; }
  const LogAxis& y_axis() const { return y_axis_; }

 private:
  double left_, right_, top_, bottom_;
  LinearAxis x_axis_;
  LogAxis y_axis_;
};

void append_x_ticks(std::string& svg, const Plot& plot) {
  const LinearAxis& axis = plot.x_axis();
  const double first = std::ceil(axis.low / axis.step - 1e-9) * axis.step;
  for (double value = first; value <= axis.high + 1e-9 * axis.step; value += axis.step) {
    const double x = plot.pixel_x(value);
    // Rounding to the step's precision keeps labels such as "0.6" free of float noise.
    const double label = std::round(value / axis.step) * axis.step;
    svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#e0e0e0\"/>\n", x,
                       plot.top(), plot.bottom());
    svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"black\"/>\n", x,
                       plot.bottom(), plot.bottom() + 5);
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{:g}</text>\n", x, plot.bottom() + 20,
                       label);
  }
}

void append_y_ticks(std::string& svg, const Plot& plot) {
  const LogAxis& axis = plot.y_axis();
  for (int exponent = axis.low_exponent; exponent <= axis.high_exponent; ++exponent) {
    const double decade = std::pow(10.0, exponent);
    const double y = plot.pixel_y(decade);
    svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"{2:.1f}\" x2=\"{1:.1f}\" y2=\"{2:.1f}\" stroke=\"#e0e0e0\"/>\n",
                       plot.left(), plot.right(), y);
    svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"{2:.1f}\" x2=\"{1:.1f}\" y2=\"{2:.1f}\" stroke=\"black\"/>\n",
                       plot.left() - 6, plot.left(), y);
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{:g}</text>\n", plot.left() - 9, y + 4,
                       decade);

    // Minor ticks at 2 to 9 times the decade.
    if (exponent == axis.high_exponent) break;
    for (int multiple = 2; multiple <= 9; ++multiple) {
      const double minor_y = plot.pixel_y(multiple * decade);
      svg += fmt::format("<line x1=\"{0:.1f}\" y1=\"{2:.1f}\" x2=\"{1:.1f}\" y2=\"{2:.1f}\" stroke=\"black\"/>\n",
                         plot.left() - 3, plot.left(), minor_y);
    }
  }
}

}  // namespace

std::string render_log_scatter_svg(const LogScatterChart& chart) {
  const Plot plot(chart, make_x_axis(chart.points), make_y_axis(chart));
  const double center_x = (plot.left() + plot.right()) / 2.0;
  const double center_y = (plot.top() + plot.bottom()) / 2.0;

  std::string svg = fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"{0}\" height=\"{1}\" fill=\"white\"/>\n",
      chart.width, chart.height);

  // Title and axis labels.
  svg += fmt::format("<text x=\"{:.1f}\" y=\"30\" text-anchor=\"middle\" font-size=\"16\">{}</text>\n", center_x,
                     escape_xml(chart.title));
  svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", center_x,
                     plot.bottom() + 45, escape_xml(chart.x_label));
  svg += fmt::format("<text x=\"20\" y=\"{0:.1f}\" text-anchor=\"middle\" transform=\"rotate(-90 20 {0:.1f})\">{1}</text>\n",
                     center_y, escape_xml(chart.y_label));

  // Grid, ticks and the axes on top of the grid.
  append_x_ticks(svg, plot);
  append_y_ticks(svg, plot);
  svg += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"none\" stroke=\"black\"/>\n",
                     plot.left(), plot.top(), plot.right() - plot.left(), plot.bottom() - plot.top());

  if (chart.line) {
    const double y = plot.pixel_y(chart.line->y);
    svg += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{2:.1f}\" x2=\"{1:.1f}\" y2=\"{2:.1f}\" stroke=\"#c0392b\" stroke-dasharray=\"6 4\"/>\n",
        plot.left(), plot.right(), y);
    svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\" fill=\"#c0392b\">{}</text>\n",
                       plot.right() - 4, y - 5, escape_xml(chart.line->label));
  }

  for (const ChartPoint& point : chart.points) {
    const double x = plot.pixel_x(point.x);
    const double y = plot.pixel_y(point.y);
    svg += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"5\" fill=\"#2e6da4\"/>\n", x, y);
    // Labels of points near the right edge go to their left, inside the plot.
    if (x > plot.left() + 0.75 * (plot.right() - plot.left())) {
      svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", x - 8, y - 8,
                         escape_xml(point.label));
    } else {
      svg += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n", x + 8, y - 8, escape_xml(point.label));
    }
  }

  svg += "</svg>\n";
  return svg;
}

}  // namespace edgelm

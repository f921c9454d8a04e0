#include "lab/svg.hpp"

#include "messages/types.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace netpol::lab {

namespace {

// Canvas and plot area, in pixels.
constexpr double width = 860;
constexpr double height = 440;
constexpr double left = 72;
constexpr double right = width - 210; // the legend sits right of the plot
constexpr double top = 48;
constexpr double bottom = height - 58;

struct series_style {
  pod_state state;
  const char* color;
};

// Stacked bottom to top: finished pods settle at the bottom, pods still
// waiting sit on top, so progress reads as the lower bands growing.
constexpr series_style stack[] = {
  {pod_state::collected, "#2ca02c"},
  {pod_state::collect_failed, "#8c1c13"},
  {pod_state::delivered, "#1f77b4"},
  {pod_state::unconfirmed, "#ff9f1c"},
  {pod_state::failed, "#d62728"},
  {pod_state::collecting, "#98df8a"},
  {pod_state::collect_queued, "#d9ead3"},
  {pod_state::delivering, "#aec7e8"},
  {pod_state::queued, "#c7c7c7"},
};

/// Coordinates in whole pixels are precise enough and keep the file small.
std::string px(double x) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.0f", x);
  return buf;
}

std::string num(double x) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", x);
  std::string s = buf;
  if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0)
    s.resize(s.size() - 2);
  return s;
}

std::string escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

/// A tick step of 1, 2 or 5 × 10^k giving at most `ticks` intervals.
double nice_step(double range, int ticks) {
  if (range <= 0)
    return 1;
  auto raw = range / ticks;
  auto magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * magnitude >= raw)
      return m * magnitude;
  return 10 * magnitude;
}

std::string tick_label(double value, double step) {
  char buf[32];
  if (step >= 1)
    std::snprintf(buf, sizeof(buf), "%.0f", value);
  else
    std::snprintf(buf, sizeof(buf), "%.*f",
                  static_cast<int>(std::ceil(-std::log10(step))), value);
  return buf;
}

/// Samples worth drawing: at most one per 1/max_points of the time axis (a
/// long round sampled every 100 ms would make a chart of hundreds of KB),
/// every change of phase, and no sample in the middle of a run of equal
/// counts (they add bytes, not information, to straight lines).
constexpr double max_points = 200;

std::vector<const sample*> significant(const std::vector<sample>& samples) {
  std::vector<const sample*> out;
  auto span = samples.empty() ? 0.0 : samples.back().seconds;
  auto bucket = [&](size_t i) {
    return span > 0 ? std::floor(samples[i].seconds / span * max_points) : 0;
  };
  for (size_t i = 0; i < samples.size(); ++i) {
    bool edge = i == 0 || i + 1 == samples.size()
                || samples[i].phase != samples[i - 1].phase
                || samples[i].phase != samples[i + 1].phase;
    if (!edge && bucket(i) == bucket(i - 1))
      continue;
    bool same_as_before = !edge
                          && samples[i].states == samples[i - 1].states
                          && samples[i].waiting_retry
                               == samples[i - 1].waiting_retry;
    bool same_as_after = !edge
                         && samples[i].states == samples[i + 1].states
                         && samples[i].waiting_retry
                              == samples[i + 1].waiting_retry;
    if (edge || !same_as_before || !same_as_after)
      out.push_back(&samples[i]);
  }
  return out;
}

uint32_t count(const sample& s, pod_state state) {
  auto i = static_cast<size_t>(state);
  return i < s.states.size() ? s.states[i] : 0;
}

} // namespace

std::string state_chart(const std::string& title,
                        const std::vector<sample>& samples, double stop_at,
                        uint64_t pods) {
  auto points = significant(samples);
  double t_end = std::max(stop_at, 0.0);
  if (!samples.empty())
    t_end = std::max(t_end, samples.back().seconds);
  auto x_step = nice_step(std::max(t_end, 0.1), 8);
  auto x_max = std::max(x_step, std::ceil(t_end / x_step) * x_step);
  auto y_step = nice_step(std::max<double>(pods, 1), 5);
  auto y_max = std::max(y_step, std::ceil(pods / y_step) * y_step);
  auto x = [&](double t) { return left + (right - left) * t / x_max; };
  auto y = [&](double n) { return bottom - (bottom - top) * n / y_max; };

  std::ostringstream svg;
  svg << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << num(width)
      << "\" height=\"" << num(height) << "\" viewBox=\"0 0 " << num(width)
      << " " << num(height)
      << "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  svg << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg << "<text x=\"" << num(left) << "\" y=\"24\" font-size=\"15\" "
      << "font-weight=\"bold\">" << escape(title) << "</text>\n";

  // Grid and tick labels.
  svg << "<g stroke=\"#e4e4e4\">\n";
  for (double v = y_step; v <= y_max + 1e-9; v += y_step)
    svg << "<line x1=\"" << num(left) << "\" y1=\"" << num(y(v)) << "\" x2=\""
        << num(right) << "\" y2=\"" << num(y(v)) << "\"/>\n";
  for (double t = x_step; t <= x_max + 1e-9; t += x_step)
    svg << "<line x1=\"" << num(x(t)) << "\" y1=\"" << num(top) << "\" x2=\""
        << num(x(t)) << "\" y2=\"" << num(bottom) << "\"/>\n";
  svg << "</g>\n";

  // Stacked areas.
  if (!points.empty()) {
    std::vector<double> below(points.size(), 0.0);
    for (auto& style : stack) {
      std::vector<double> above(below);
      bool any = false;
      for (size_t i = 0; i < points.size(); ++i) {
        auto n = count(*points[i], style.state);
        any = any || n > 0;
        above[i] += n;
      }
      if (any) {
        svg << "<polygon fill=\"" << style.color << "\" points=\"";
        for (size_t i = 0; i < points.size(); ++i)
          svg << px(x(points[i]->seconds)) << "," << px(y(above[i])) << " ";
        for (size_t i = points.size(); i-- > 0;)
          svg << px(x(points[i]->seconds)) << "," << px(y(below[i]))
              << (i > 0 ? " " : "");
        svg << "\"><title>" << to_string(style.state)
            << "</title></polygon>\n";
      }
      below = std::move(above);
    }
    // Pods waiting out a backoff (they are counted as queued meanwhile).
    svg << "<polyline fill=\"none\" stroke=\"black\" stroke-width=\"1.5\" "
           "stroke-dasharray=\"4 3\" points=\"";
    for (size_t i = 0; i < points.size(); ++i)
      svg << (i > 0 ? " " : "") << px(x(points[i]->seconds)) << ","
          << px(y(points[i]->waiting_retry));
    svg << "\"/>\n";
  } else {
    svg << "<text x=\"" << num((left + right) / 2) << "\" y=\""
        << num((top + bottom) / 2)
        << "\" text-anchor=\"middle\">no /status samples</text>\n";
  }

  if (stop_at >= 0) {
    svg << "<line x1=\"" << num(x(stop_at)) << "\" y1=\"" << num(top - 6)
        << "\" x2=\"" << num(x(stop_at)) << "\" y2=\"" << num(bottom)
        << "\" stroke=\"#444\" stroke-dasharray=\"6 4\"/>\n";
    svg << "<text x=\"" << num(x(stop_at) + 4) << "\" y=\"" << num(top - 8)
        << "\" font-size=\"11\" fill=\"#444\">GET /stop</text>\n";
  }

  // Axes, ticks, labels.
  svg << "<g stroke=\"black\">\n";
  svg << "<line x1=\"" << num(left) << "\" y1=\"" << num(bottom) << "\" x2=\""
      << num(right) << "\" y2=\"" << num(bottom) << "\"/>\n";
  svg << "<line x1=\"" << num(left) << "\" y1=\"" << num(top) << "\" x2=\""
      << num(left) << "\" y2=\"" << num(bottom) << "\"/>\n";
  svg << "</g>\n";
  for (double t = 0; t <= x_max + 1e-9; t += x_step)
    svg << "<text x=\"" << num(x(t)) << "\" y=\"" << num(bottom + 16)
        << "\" text-anchor=\"middle\">" << tick_label(t, x_step)
        << "</text>\n";
  for (double v = 0; v <= y_max + 1e-9; v += y_step)
    svg << "<text x=\"" << num(left - 6) << "\" y=\"" << num(y(v) + 4)
        << "\" text-anchor=\"end\">" << tick_label(v, y_step) << "</text>\n";
  svg << "<text x=\"" << num((left + right) / 2) << "\" y=\""
      << num(height - 16)
      << "\" text-anchor=\"middle\">seconds since POST /initiate</text>\n";
  svg << "<text transform=\"translate(18 " << num((top + bottom) / 2)
      << ") rotate(-90)\" text-anchor=\"middle\">pods</text>\n";

  // Legend, top to bottom as the bands are stacked.
  auto ly = top;
  for (size_t i = std::size(stack); i-- > 0;) {
    svg << "<rect x=\"" << num(right + 22) << "\" y=\"" << num(ly)
        << "\" width=\"14\" height=\"14\" fill=\"" << stack[i].color
        << "\" stroke=\"#888\" stroke-width=\"0.5\"/>\n";
    svg << "<text x=\"" << num(right + 42) << "\" y=\"" << num(ly + 11)
        << "\">" << to_string(stack[i].state) << "</text>\n";
    ly += 20;
  }
  svg << "<line x1=\"" << num(right + 22) << "\" y1=\"" << num(ly + 7)
      << "\" x2=\"" << num(right + 36) << "\" y2=\"" << num(ly + 7)
      << "\" stroke=\"black\" stroke-width=\"1.5\" "
         "stroke-dasharray=\"4 3\"/>\n";
  svg << "<text x=\"" << num(right + 42) << "\" y=\"" << num(ly + 11)
      << "\">waiting to retry</text>\n";
  svg << "<text x=\"" << num(right + 42) << "\" y=\"" << num(ly + 25)
      << "\" font-size=\"10\" fill=\"#555\">(inside the queued bands)</text>\n";
  svg << "</svg>\n";
  return svg.str();
}

} // namespace netpol::lab

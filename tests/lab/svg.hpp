// The chart of a round: pods by state over time as stacked areas, written as
// plain SVG text (axes, labels, legend; no scripts, no external resources).
#pragma once

#include "lab/runner.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace netpol::lab {

/// An SVG document: one stacked area per pod state (from the /status
/// samples), a dashed line for pods waiting out a backoff, a marker where
/// GET /stop was sent (`stop_at` seconds after /initiate; negative: none).
std::string state_chart(const std::string& title,
                        const std::vector<sample>& samples, double stop_at,
                        uint64_t pods);

} // namespace netpol::lab

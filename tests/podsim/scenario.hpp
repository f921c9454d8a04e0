#pragma once
// Scenario files: one JSON document naming a simulated fleet (size, addresses,
// listen mode, latency, seed), the faults placed on it and the proxy settings
// the fault-injection lab runs it with. The format is documented in
// docs/experiments.md. Fault placement depends on the seed only, so a scenario
// file describes one exact fleet.

#include "podsim/fleet.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace podsim {

using std::chrono::milliseconds;

// One entry of "faults": `pods` pods (resolved from a count or a fraction of the
// fleet) get this profile.
struct fault_group {
    fault kind = fault::none;
    std::optional<std::size_t> count;  // as written
    std::optional<double> fraction;    // as written
    std::size_t pods = 0;              // resolved by resolve_faults()
    int failures = 2;                  // flaky: requests that fail first
    milliseconds delay{2000};          // slow: extra delay of every answer
    milliseconds interval{1000};       // trickle_headers, slow_answer: time between bytes
    // partial: share of its tests a pod reports; duplicate: share it repeats.
    // (Not "fraction", which is the group's share of the fleet.)
    double test_fraction = 0.5;
    milliseconds after{2000};          // restart, vanish: time from the accepted /check
    std::optional<milliseconds> latency;  // overrides the fleet's for these pods
    std::optional<milliseconds> jitter;
    std::optional<milliseconds> reveal;
};

// The proxy flags a scenario is run with; defaults are the proxy's own.
struct proxy_config {
    unsigned workers = 20;
    milliseconds connect_timeout{3000};
    milliseconds request_timeout{10000};
    unsigned retries = 3;
    milliseconds backoff_base{500};
    milliseconds backoff_cap{8000};
    std::vector<std::string> extra_args;  // passed to netpol-proxy as they are
};

struct scenario {
    std::string name;  // defaults to the file name without its extension
    std::string description;
    std::size_t pods = 0;
    std::string first_address = "127.1.0.1";
    listen_mode mode = listen_mode::per_pod;
    uint16_t port = 9001;  // netpol-podsim only: the lab always takes a free port
    unsigned threads = 1;
    uint64_t seed = 1;
    milliseconds latency{0};
    milliseconds jitter{0};
    milliseconds reveal{0};  // results appear over this long after /check (0: at once)
    std::size_t connections_per_pod = 3;  // of the /initiate body
    std::vector<fault_group> faults;      // placed in this order
    proxy_config proxy;
};

// A scenario that cannot be used. what() is the whole message,
// "<source>:<line>:<column>: <key>: <problem>"; line and column are 0 when the
// problem has no place in the text (a scenario built in code).
class scenario_error : public std::runtime_error {
public:
    scenario_error(const std::string& message, std::string key, std::size_t line, std::size_t column);
    const std::string& key() const { return key_; }  // e.g. "faults[2].kind"; empty for syntax errors
    std::size_t line() const { return line_; }
    std::size_t column() const { return column_; }

private:
    std::string key_;
    std::size_t line_;
    std::size_t column_;
};

// Parses and validates a scenario document (unknown keys, wrong types, ranges,
// fault totals) and resolves every group's pod count. `source` names the text
// in messages and is the default scenario name.
scenario parse_scenario(std::string_view text, std::string_view source = "scenario");

// Reads and parses a file; the default name is the file name without extension.
scenario load_scenario(const std::string& path);

// Sets fault_group::pods from its count or fraction (rounded to the nearest
// pod) and checks that the groups fit in the fleet. Throws scenario_error.
void resolve_faults(scenario& s);

// The pods of the fleet: addresses from first_address, faults placed on a
// seeded shuffle in the order of `faults`. Needs resolved faults.
std::vector<pod_spec> place_faults(const scenario& s);

// kube-burner's /initiate body for these pods: pod IP -> its connections.
// Connection j of pod i targets pod i+1+j (wrapping), so every pod has
// distinct peers.
std::string initiate_body(const std::vector<std::string>& ips, std::size_t connections_per_pod);

// netpol::parse_duration (messages/duration.hpp, the proxy's flags take the
// same text): "500ms", "2s", "1.5s", "1m30s", "1h", "250us", a bare "0";
// rounded to the nearest millisecond, half up; nullopt for anything else.
std::optional<milliseconds> parse_milliseconds(std::string_view text);
std::string format_duration(milliseconds d);  // "2s", "1500ms"

std::string to_string(listen_mode mode);  // "per_pod", "shared"
std::optional<listen_mode> parse_listen_mode(std::string_view text);  // '-' or '_'

}  // namespace podsim

// netpol-podsim: serves a simulated fleet of client pods until signalled (or for
// --duration), for hand tests and the fault-injection lab.

#include "podsim/fleet.hpp"

#include <CLI/CLI.hpp>

#include <csignal>
#include <ctime>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <iostream>
#include <numeric>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

using std::chrono::milliseconds;

// "500ms", "2s", "1m", "1h"; a bare "0" means zero.
std::optional<milliseconds> parse_duration(const std::string& text) {
    std::size_t digits = 0;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    if (digits == 0 || digits > 12) return std::nullopt;
    const long long value = std::stoll(text.substr(0, digits));
    const std::string unit = text.substr(digits);
    if (unit == "ms") return milliseconds(value);
    if (unit == "s") return milliseconds(value * 1000);
    if (unit == "m") return milliseconds(value * 60 * 1000);
    if (unit == "h") return milliseconds(value * 60 * 60 * 1000);
    if (unit.empty() && value == 0) return milliseconds(0);
    return std::nullopt;
}

std::string format_duration(milliseconds d) {
    const auto ms = d.count();
    if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
    return std::to_string(ms) + "ms";
}

bool write_file(const std::string& path, const std::string& content) {
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file << content;
    file.close();
    return static_cast<bool>(file);
}

// kube-burner's /initiate body: pod IP -> its connections. Connection j of pod i
// targets pod i+1+j (wrapping), so every pod has distinct peers. Written as text:
// addresses and policy names need no escaping, and a json object of tens of
// thousands of keys would cost far more time and memory.
std::string initiate_body(const std::vector<std::string>& ips, std::size_t connections_per_pod) {
    std::string body = "{";
    for (std::size_t i = 0; i < ips.size(); ++i) {
        if (i != 0) body += ',';
        body += '"' + ips[i] + "\":[";
        for (std::size_t j = 0; j < connections_per_pod; ++j) {
            if (j != 0) body += ',';
            body += "{\"addresses\":[\"" + ips[(i + 1 + j) % ips.size()] + "\"],\"ports\":[8080],\"netpol\":\"ingress-" +
                    std::to_string(j) + "-" + std::to_string(i) + "\"}";
        }
        body += ']';
    }
    body += "}\n";
    return body;
}

// Blocks until SIGINT/SIGTERM or, if `limit` is nonzero, until it has passed.
void wait_for_end(const sigset_t& signals, milliseconds limit) {
    if (limit.count() == 0) {
        int signal = 0;
        while (sigwait(&signals, &signal) != 0) {
        }
        return;
    }
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
        const auto left = deadline - std::chrono::steady_clock::now();
        if (left <= std::chrono::steady_clock::duration::zero()) return;
        const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
        timespec timeout{static_cast<std::time_t>(ns / 1000000000), static_cast<long>(ns % 1000000000)};
        if (sigtimedwait(&signals, nullptr, &timeout) >= 0) return;  // signalled
        if (errno == EAGAIN) return;                                 // time is up
    }
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Simulated fleet of netpol client pods on 127.x.y.z addresses"};
    app.option_defaults()->always_capture_default();

    std::size_t pod_count = 10;
    std::string first_address = "127.1.0.1";
    int port = 9001;
    std::string mode = "per-pod";
    unsigned threads = 1;
    uint64_t seed = 1;
    std::string latency_text = "0ms", jitter_text = "0ms", slow_delay_text = "2s", duration_text = "0";
    int flaky_failures = 2;
    std::size_t connections_per_pod = 3;
    std::string initiate_path, pods_path;

    app.add_option("--pods", pod_count, "Number of pods")->check(CLI::Range(std::size_t{1}, std::size_t{16000000}));
    app.add_option("--first-address", first_address, "First pod address (127/8)");
    app.add_option("--port", port, "Port every pod listens on (0: any free port)")->check(CLI::Range(0, 65535));
    app.add_option("--mode", mode, "per-pod: a socket per pod (down pods refuse); shared: one 0.0.0.0 socket "
                                   "(down pods reset)")
        ->check(CLI::IsMember({"per-pod", "shared"}));
    app.add_option("--threads", threads, "Event loops")->check(CLI::Range(1u, 64u));
    app.add_option("--seed", seed, "Seed for fault placement and latency jitter");
    app.add_option("--latency", latency_text, "Delay of every answer, e.g. 20ms");
    app.add_option("--jitter", jitter_text, "Extra uniform random delay 0..jitter per answer");
    app.add_option("--duration", duration_text, "Exit after this long (0: run until SIGINT/SIGTERM)");

    // Faults are placed on a seeded shuffle of the pods, in this order.
    std::vector<std::pair<podsim::fault, std::size_t>> fault_counts = {
        {podsim::fault::down, 0},         {podsim::fault::hang, 0},
        {podsim::fault::reset, 0},        {podsim::fault::http_500, 0},
        {podsim::fault::bad_json, 0},     {podsim::fault::reject_check, 0},
        {podsim::fault::crash_after_check, 0}, {podsim::fault::flaky, 0},
        {podsim::fault::slow, 0},
    };
    for (auto& [kind, count] : fault_counts) {
        std::string flag = "--" + podsim::to_string(kind);
        std::replace(flag.begin(), flag.end(), '_', '-');
        app.add_option(flag, count, "Pods with the " + podsim::to_string(kind) + " fault");
    }
    app.add_option("--flaky-failures", flaky_failures, "Requests a flaky pod fails before it heals")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--slow-delay", slow_delay_text, "Extra delay of every answer of a slow pod");
    app.add_option("--connections-per-pod", connections_per_pod, "Connections per pod in --write-initiate");
    app.add_option("--write-initiate", initiate_path, "Write the /initiate body for this fleet to FILE");
    app.add_option("--write-pods", pods_path, "Write one \"ip fault\" line per pod to FILE");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }

    const auto latency = parse_duration(latency_text);
    const auto jitter = parse_duration(jitter_text);
    const auto slow_delay = parse_duration(slow_delay_text);
    const auto duration = parse_duration(duration_text);
    if (!latency || !jitter || !slow_delay || !duration) {
        std::cerr << "netpol-podsim: durations look like 500ms, 2s, 1m or 1h\n";
        return 2;
    }
    std::size_t faulty = 0;
    for (const auto& entry : fault_counts) faulty += entry.second;
    if (faulty > pod_count) {
        std::cerr << "netpol-podsim: " << faulty << " faulty pods requested but only " << pod_count << " pods\n";
        return 2;
    }
    std::vector<std::string> ips;
    try {
        ips = podsim::loopback_addresses(pod_count, first_address);
    } catch (const std::invalid_argument& e) {
        std::cerr << "netpol-podsim: " << e.what() << "\n";
        return 2;
    }

    // Fisher-Yates with raw engine output, so placement depends on the seed only.
    std::vector<std::size_t> order(pod_count);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::mt19937_64 rng(seed);
    for (std::size_t i = pod_count; i > 1; --i) std::swap(order[i - 1], order[rng() % i]);

    std::vector<podsim::pod_spec> specs(pod_count);
    for (std::size_t i = 0; i < pod_count; ++i) {
        specs[i].ip = ips[i];
        specs[i].profile.latency = *latency;
        specs[i].profile.jitter = *jitter;
    }
    std::size_t next = 0;
    for (const auto& [kind, count] : fault_counts) {
        for (std::size_t n = 0; n < count; ++n) {
            podsim::pod_profile& profile = specs[order[next++]].profile;
            profile.kind = kind;
            if (kind == podsim::fault::flaky) profile.failures = flaky_failures;
            if (kind == podsim::fault::slow) profile.delay = *slow_delay;
        }
    }

    if (!initiate_path.empty() && !write_file(initiate_path, initiate_body(ips, connections_per_pod))) {
        std::cerr << "netpol-podsim: cannot write " << initiate_path << "\n";
        return 2;
    }
    if (!pods_path.empty()) {
        std::string lines;
        for (const auto& spec : specs) lines += spec.ip + " " + podsim::to_string(spec.profile.kind) + "\n";
        if (!write_file(pods_path, lines)) {
            std::cerr << "netpol-podsim: cannot write " << pods_path << "\n";
            return 2;
        }
    }

    // Blocked before the fleet's threads exist, so they inherit the mask and only
    // wait_for_end() sees these signals.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    podsim::fleet_options options;
    options.port = static_cast<uint16_t>(port);
    options.mode = mode == "shared" ? podsim::listen_mode::shared : podsim::listen_mode::per_pod;
    options.threads = threads;
    options.seed = seed;
    podsim::fleet fleet(options, specs);
    std::string error;
    if (!fleet.start(error)) {
        std::cerr << "netpol-podsim: " << error << "\n";
        return 2;
    }

    std::ostringstream faults;
    for (const auto& [kind, count] : fault_counts)
        if (count != 0) faults << (faults.tellp() == 0 ? "" : " ") << podsim::to_string(kind) << "=" << count;
    std::cout << "netpol-podsim: " << pod_count << " pods on " << ips.front() << ".." << ips.back() << " port "
              << fleet.port() << " (" << mode << "), faults: " << (faulty == 0 ? "none" : faults.str())
              << ", latency " << format_duration(*latency) << " jitter " << format_duration(*jitter) << ", "
              << threads << (threads == 1 ? " thread" : " threads") << ", seed " << seed << std::endl;

    wait_for_end(signals, *duration);
    fleet.stop();

    std::size_t accepted = 0, check_calls = 0, results_calls = 0, duplicates = 0;
    for (const auto& report : fleet.snapshot()) {
        accepted += report.accepted_check ? 1 : 0;
        check_calls += report.check_calls;
        results_calls += report.results_calls;
        duplicates += report.duplicate_checks;
    }
    std::cout << "netpol-podsim: summary: checks accepted " << accepted << "/" << pod_count << " pods ("
              << check_calls << " /check calls), " << results_calls << " /results calls, duplicate checks "
              << duplicates << std::endl;
    return 0;
}

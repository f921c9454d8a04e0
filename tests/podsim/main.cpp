// netpol-podsim: serves a simulated fleet of client pods until signalled (or for
// --duration), for hand tests and the fault-injection lab.

#include "podsim/fleet.hpp"
#include "podsim/scenario.hpp"

#include <CLI/CLI.hpp>

#include <csignal>
#include <ctime>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace {

using std::chrono::milliseconds;

bool write_file(const std::string& path, const std::string& content) {
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file << content;
    file.close();
    return static_cast<bool>(file);
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
    std::string byte_interval_text = "1s", after_text = "2s", reveal_text = "0ms";
    int flaky_failures = 2;
    double test_fraction = 0.5;
    std::size_t connections_per_pod = 3;
    std::string initiate_path, pods_path, scenario_path;

    // Flags that shape the fleet; a scenario file gives all of these itself.
    std::vector<CLI::Option*> fleet_flags;
    fleet_flags.push_back(
        app.add_option("--pods", pod_count, "Number of pods")->check(CLI::Range(std::size_t{1}, std::size_t{16000000})));
    fleet_flags.push_back(app.add_option("--first-address", first_address, "First pod address (127/8)"));
    auto* port_flag =
        app.add_option("--port", port, "Port every pod listens on (0: any free port)")->check(CLI::Range(0, 65535));
    fleet_flags.push_back(
        app.add_option("--mode", mode, "per-pod: a socket per pod (down pods refuse); shared: one 0.0.0.0 socket "
                                       "(down pods reset)")
            ->check(CLI::IsMember({"per-pod", "shared"})));
    auto* threads_flag = app.add_option("--threads", threads, "Event loops")->check(CLI::Range(1u, 64u));
    fleet_flags.push_back(app.add_option("--seed", seed, "Seed for fault placement and latency jitter"));
    fleet_flags.push_back(app.add_option("--latency", latency_text, "Delay of every answer, e.g. 20ms"));
    fleet_flags.push_back(app.add_option("--jitter", jitter_text, "Extra uniform random delay 0..jitter per answer"));
    app.add_option("--duration", duration_text, "Exit after this long (0: run until SIGINT/SIGTERM)");

    // Faults are placed on a seeded shuffle of the pods, in this order.
    std::vector<std::pair<podsim::fault, std::size_t>> fault_counts = {
        {podsim::fault::down, 0},         {podsim::fault::hang, 0},
        {podsim::fault::reset, 0},        {podsim::fault::http_500, 0},
        {podsim::fault::bad_json, 0},     {podsim::fault::reject_check, 0},
        {podsim::fault::crash_after_check, 0}, {podsim::fault::flaky, 0},
        {podsim::fault::slow, 0},
        {podsim::fault::trickle_headers, 0}, {podsim::fault::endless_header, 0},
        {podsim::fault::slow_answer, 0},  {podsim::fault::case_variant, 0},
        {podsim::fault::too_deep, 0},     {podsim::fault::partial, 0},
        {podsim::fault::duplicate, 0},    {podsim::fault::alien, 0},
        {podsim::fault::restart, 0},      {podsim::fault::vanish, 0},
        {podsim::fault::check_unanswered, 0}, {podsim::fault::check_lost, 0},
    };
    for (auto& [kind, count] : fault_counts) {
        std::string flag = "--" + podsim::to_string(kind);
        std::replace(flag.begin(), flag.end(), '_', '-');
        fleet_flags.push_back(app.add_option(flag, count, "Pods with the " + podsim::to_string(kind) + " fault"));
    }
    fleet_flags.push_back(app.add_option("--flaky-failures", flaky_failures, "Requests a flaky pod fails before it heals")
                              ->check(CLI::NonNegativeNumber));
    fleet_flags.push_back(app.add_option("--slow-delay", slow_delay_text, "Extra delay of every answer of a slow pod"));
    fleet_flags.push_back(app.add_option("--byte-interval", byte_interval_text,
                                         "trickle-headers and slow-answer pods: time between the bytes they trickle"));
    fleet_flags.push_back(app.add_option("--test-fraction", test_fraction,
                                         "partial pods: share of their tests they report; duplicate pods: share "
                                         "they report twice")
                              ->check(CLI::Range(0.0, 1.0)));
    fleet_flags.push_back(app.add_option("--after", after_text,
                                         "restart and vanish pods: time from their accepted /check to the loss"));
    fleet_flags.push_back(app.add_option("--reveal", reveal_text,
                                         "Every pod's results appear one by one, evenly over this time after /check "
                                         "(0: all at once)"));
    fleet_flags.push_back(
        app.add_option("--connections-per-pod", connections_per_pod, "Connections per pod in --write-initiate"));
    auto* scenario_flag = app.add_option("--scenario", scenario_path,
                                         "Scenario file (JSON, docs/experiments.md) giving the fleet and its faults; "
                                         "--port and --threads override it");
    for (auto* flag : fleet_flags) scenario_flag->excludes(flag);
    bool answer_status = false;
    app.add_flag("--answer-status", answer_status,
                 "Every pod answers GET /status as netpol-client does (whether it took a list, its SHA-256) "
                 "and a second /check with the same list 200; otherwise /status is a 404, as the real client's");
    app.add_option("--write-initiate", initiate_path, "Write the /initiate body for this fleet to FILE");
    app.add_option("--write-pods", pods_path, "Write one \"ip fault\" line per pod to FILE");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }

    const auto duration = podsim::parse_milliseconds(duration_text);
    if (!duration) {
        std::cerr << "netpol-podsim: durations look like 500ms, 2s, 1m or 1h\n";
        return 2;
    }
    podsim::scenario plan;
    try {
        if (!scenario_path.empty()) {
            plan = podsim::load_scenario(scenario_path);
            if (port_flag->count() != 0) plan.port = static_cast<uint16_t>(port);
            if (threads_flag->count() != 0) plan.threads = threads;
        } else {
            const auto latency = podsim::parse_milliseconds(latency_text);
            const auto jitter = podsim::parse_milliseconds(jitter_text);
            const auto slow_delay = podsim::parse_milliseconds(slow_delay_text);
            const auto byte_interval = podsim::parse_milliseconds(byte_interval_text);
            const auto after = podsim::parse_milliseconds(after_text);
            const auto reveal = podsim::parse_milliseconds(reveal_text);
            if (!latency || !jitter || !slow_delay || !byte_interval || !after || !reveal) {
                std::cerr << "netpol-podsim: durations look like 500ms, 2s, 1m or 1h\n";
                return 2;
            }
            if (byte_interval->count() == 0) {
                std::cerr << "netpol-podsim: --byte-interval must be longer than zero\n";
                return 2;
            }
            plan.name = "flags";
            plan.pods = pod_count;
            plan.first_address = first_address;
            plan.mode = mode == "shared" ? podsim::listen_mode::shared : podsim::listen_mode::per_pod;
            plan.port = static_cast<uint16_t>(port);
            plan.threads = threads;
            plan.seed = seed;
            plan.latency = *latency;
            plan.jitter = *jitter;
            plan.reveal = *reveal;
            plan.connections_per_pod = connections_per_pod;
            for (const auto& [kind, count] : fault_counts) {
                if (count == 0) continue;
                podsim::fault_group group;
                group.kind = kind;
                group.count = count;
                group.failures = flaky_failures;
                group.delay = *slow_delay;
                group.interval = *byte_interval;
                group.test_fraction = test_fraction;
                group.after = *after;
                plan.faults.push_back(group);
            }
            podsim::loopback_addresses(plan.pods, plan.first_address);  // throws when it does not fit
            podsim::resolve_faults(plan);
        }
    } catch (const podsim::scenario_error& e) {
        std::cerr << "netpol-podsim: " << e.what() << "\n";
        return 2;
    } catch (const std::invalid_argument& e) {
        std::cerr << "netpol-podsim: " << e.what() << "\n";
        return 2;
    }
    auto specs = podsim::place_faults(plan);
    for (auto& spec : specs) spec.profile.answers_status = answer_status;
    std::vector<std::string> ips;
    ips.reserve(specs.size());
    for (const auto& spec : specs) ips.push_back(spec.ip);

    if (!initiate_path.empty() && !write_file(initiate_path, podsim::initiate_body(ips, plan.connections_per_pod))) {
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
    options.port = plan.port;
    options.mode = plan.mode;
    options.threads = plan.threads;
    options.seed = plan.seed;
    podsim::fleet fleet(options, specs);
    std::string error;
    if (!fleet.start(error)) {
        std::cerr << "netpol-podsim: " << error << "\n";
        return 2;
    }

    std::size_t faulty = 0;
    std::ostringstream faults;
    for (const auto& group : plan.faults) {
        if (group.pods == 0) continue;
        faulty += group.kind == podsim::fault::none ? 0 : group.pods;
        faults << (faults.tellp() == 0 ? "" : " ") << podsim::to_string(group.kind) << "=" << group.pods;
    }
    std::cout << "netpol-podsim: " << plan.pods << " pods on " << ips.front() << ".." << ips.back() << " port "
              << fleet.port() << " (" << (plan.mode == podsim::listen_mode::shared ? "shared" : "per-pod")
              << "), faults: " << (faults.tellp() == 0 ? "none" : faults.str()) << ", latency "
              << podsim::format_duration(plan.latency) << " jitter " << podsim::format_duration(plan.jitter) << ", "
              << (plan.reveal.count() == 0 ? "" : "reveal " + podsim::format_duration(plan.reveal) + ", ")
              << plan.threads << (plan.threads == 1 ? " thread" : " threads") << ", seed " << plan.seed << std::endl;
    if (!scenario_path.empty()) {
        // The proxy side of the scenario, for running it by hand.
        const auto& p = plan.proxy;
        std::cout << "netpol-podsim: scenario " << plan.name << " (" << faulty << " faulty pods); proxy flags: "
                  << "--client-port " << fleet.port() << " --workers " << p.workers << " --connect-timeout "
                  << podsim::format_duration(p.connect_timeout) << " --request-timeout "
                  << podsim::format_duration(p.request_timeout) << " --retries " << p.retries << " --backoff-base "
                  << podsim::format_duration(p.backoff_base) << " --backoff-cap "
                  << podsim::format_duration(p.backoff_cap);
        for (const auto& arg : p.extra_args) std::cout << " " << arg;
        std::cout << std::endl;
    }

    wait_for_end(signals, *duration);
    fleet.stop();

    std::size_t accepted = 0, check_calls = 0, results_calls = 0, duplicates = 0;
    for (const auto& report : fleet.snapshot()) {
        accepted += report.accepted_check ? 1 : 0;
        check_calls += report.check_calls;
        results_calls += report.results_calls;
        duplicates += report.duplicate_checks;
    }
    std::cout << "netpol-podsim: summary: checks accepted " << accepted << "/" << plan.pods << " pods ("
              << check_calls << " /check calls), " << results_calls << " /results calls, duplicate checks "
              << duplicates << std::endl;
    return 0;
}

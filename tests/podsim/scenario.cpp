#include "podsim/scenario.hpp"

#include "podsim/json_scan.hpp"

#include "messages/duration.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <limits>
#include <numeric>
#include <random>
#include <sstream>
#include <utility>

namespace podsim {
namespace {

using json = nlohmann::json;

// Where a value sits in the document: member names and array indexes.
struct key_path {
    std::vector<json_scan::step> steps;

    key_path operator/(const std::string& name) const {
        key_path out = *this;
        out.steps.emplace_back(name);
        return out;
    }
    key_path operator[](std::size_t index) const {
        key_path out = *this;
        out.steps.emplace_back(index);
        return out;
    }
    std::string str() const {
        std::string out;
        for (const auto& step : steps) {
            if (const auto* name = std::get_if<std::string>(&step))
                out += (out.empty() ? "" : ".") + *name;
            else
                out += "[" + std::to_string(std::get<std::size_t>(step)) + "]";
        }
        return out.empty() ? "(top level)" : out;
    }
};

// Thrown while validating; parse_scenario() adds the position in the text.
struct invalid {
    key_path where;
    std::string problem;
};

std::string shown(const json& value) {
    std::string text = value.dump();
    if (text.size() > 40) text = text.substr(0, 37) + "...";
    return text;
}

std::string got(const json& value) { return ", got " + std::string(value.type_name()) + " " + shown(value); }

void only_keys(const json& object, const key_path& at, std::initializer_list<const char*> allowed) {
    for (const auto& item : object.items()) {
        if (std::none_of(allowed.begin(), allowed.end(), [&](const char* k) { return item.key() == k; })) {
            std::string names;
            for (const char* k : allowed) names += (names.empty() ? "" : ", ") + std::string(k);
            throw invalid{at / item.key(), "unknown key (expected one of: " + names + ")"};
        }
    }
}

const json& require_object(const json& value, const key_path& at) {
    if (!value.is_object()) throw invalid{at, "expected an object" + got(value)};
    return value;
}

const json* member(const json& object, const char* name) {
    const auto it = object.find(name);
    return it == object.end() ? nullptr : &*it;
}

const json& required(const json& object, const key_path& at, const char* name) {
    const json* value = member(object, name);
    if (!value) throw invalid{at / name, "missing (required)"};
    return *value;
}

uint64_t to_uint(const json& value, const key_path& at, uint64_t min, uint64_t max) {
    if (value.is_number_float()) throw invalid{at, "expected an integer" + got(value)};
    if (!value.is_number_integer()) throw invalid{at, "expected an integer" + got(value)};
    if (!value.is_number_unsigned()) {
        throw invalid{at, "must not be negative, got " + shown(value)};
    }
    const auto n = value.get<uint64_t>();
    if (n < min || n > max)
        throw invalid{at, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
                              shown(value)};
    return n;
}

std::string to_text(const json& value, const key_path& at) {
    if (!value.is_string()) throw invalid{at, "expected a string" + got(value)};
    return value.get<std::string>();
}

milliseconds to_duration(const json& value, const key_path& at, bool allow_zero = true) {
    if (!value.is_string())
        throw invalid{at, "expected a duration string such as \"500ms\" or \"2s\"" + got(value)};
    const auto d = parse_milliseconds(value.get<std::string>());
    if (!d) throw invalid{at, "not a duration (e.g. \"500ms\", \"2s\", \"1m30s\"): " + shown(value)};
    if (!allow_zero && d->count() == 0) throw invalid{at, "must be longer than zero"};
    return *d;
}

void parse_fleet(const json& fleet, const key_path& at, scenario& s) {
    require_object(fleet, at);
    only_keys(fleet, at,
              {"pods", "first_address", "mode", "port", "threads", "seed", "latency", "jitter", "reveal",
               "connections_per_pod"});
    s.pods = to_uint(required(fleet, at, "pods"), at / "pods", 1, 16'000'000);
    if (const json* v = member(fleet, "first_address")) {
        s.first_address = to_text(*v, at / "first_address");
        try {
            // Validates the address and that the whole fleet fits in 127/8.
            loopback_addresses(s.pods, s.first_address);
        } catch (const std::invalid_argument& e) {
            throw invalid{at / "first_address", e.what()};
        }
    }
    if (const json* v = member(fleet, "mode")) {
        const auto mode = parse_listen_mode(to_text(*v, at / "mode"));
        if (!mode) throw invalid{at / "mode", "expected \"per_pod\" or \"shared\", got " + shown(*v)};
        s.mode = *mode;
    }
    if (const json* v = member(fleet, "port")) s.port = static_cast<uint16_t>(to_uint(*v, at / "port", 0, 65535));
    if (const json* v = member(fleet, "threads")) s.threads = static_cast<unsigned>(to_uint(*v, at / "threads", 1, 64));
    if (const json* v = member(fleet, "seed"))
        s.seed = to_uint(*v, at / "seed", 0, std::numeric_limits<uint64_t>::max());
    if (const json* v = member(fleet, "latency")) s.latency = to_duration(*v, at / "latency");
    if (const json* v = member(fleet, "jitter")) s.jitter = to_duration(*v, at / "jitter");
    if (const json* v = member(fleet, "reveal")) s.reveal = to_duration(*v, at / "reveal");
    if (const json* v = member(fleet, "connections_per_pod"))
        s.connections_per_pod = to_uint(*v, at / "connections_per_pod", 0, 10'000);
}

fault_group parse_fault_group(const json& entry, const key_path& at) {
    require_object(entry, at);
    only_keys(entry, at,
              {"kind", "count", "fraction", "failures", "delay", "interval", "test_fraction", "latency", "jitter",
               "after", "reveal"});
    fault_group group;
    const json& kind = required(entry, at, "kind");
    const auto parsed = parse_fault(to_text(kind, at / "kind"));
    if (!parsed) {
        std::string names;
        for (auto k : all_faults()) names += (names.empty() ? "" : ", ") + to_string(k);
        throw invalid{at / "kind", "unknown fault kind " + shown(kind) + " (expected one of: " + names + ")"};
    }
    group.kind = *parsed;

    const json* count = member(entry, "count");
    const json* fraction = member(entry, "fraction");
    if (count && fraction) throw invalid{at, "give either \"count\" or \"fraction\", not both"};
    if (!count && !fraction) throw invalid{at / "count", "missing: give \"count\" (pods) or \"fraction\" (of the fleet)"};
    if (count) group.count = to_uint(*count, at / "count", 0, 16'000'000);
    if (fraction) {
        if (!fraction->is_number())
            throw invalid{at / "fraction", "expected a number between 0 and 1" + got(*fraction)};
        const double f = fraction->get<double>();
        if (!(f >= 0.0 && f <= 1.0))
            throw invalid{at / "fraction", "must be between 0 and 1, got " + shown(*fraction)};
        group.fraction = f;
    }

    if (const json* v = member(entry, "failures")) {
        if (group.kind != fault::flaky) throw invalid{at / "failures", "applies to the flaky fault only"};
        group.failures = static_cast<int>(to_uint(*v, at / "failures", 0, 1'000'000));
    }
    if (const json* v = member(entry, "delay")) {
        if (group.kind != fault::slow) throw invalid{at / "delay", "applies to the slow fault only"};
        group.delay = to_duration(*v, at / "delay");
    }
    if (const json* v = member(entry, "interval")) {
        if (group.kind != fault::trickle_headers && group.kind != fault::slow_answer)
            throw invalid{at / "interval", "applies to the trickle_headers and slow_answer faults only"};
        group.interval = to_duration(*v, at / "interval", false);
    }
    if (const json* v = member(entry, "test_fraction")) {
        if (group.kind != fault::partial && group.kind != fault::duplicate)
            throw invalid{at / "test_fraction", "applies to the partial and duplicate faults only"};
        if (!v->is_number()) throw invalid{at / "test_fraction", "expected a number between 0 and 1" + got(*v)};
        const double f = v->get<double>();
        if (!(f >= 0.0 && f <= 1.0)) throw invalid{at / "test_fraction", "must be between 0 and 1, got " + shown(*v)};
        group.test_fraction = f;
    }
    if (const json* v = member(entry, "after")) {
        if (group.kind != fault::restart && group.kind != fault::vanish)
            throw invalid{at / "after", "applies to the restart and vanish faults only"};
        group.after = to_duration(*v, at / "after");
    }
    if (const json* v = member(entry, "latency")) group.latency = to_duration(*v, at / "latency");
    if (const json* v = member(entry, "jitter")) group.jitter = to_duration(*v, at / "jitter");
    if (const json* v = member(entry, "reveal")) group.reveal = to_duration(*v, at / "reveal");
    return group;
}

void parse_proxy(const json& proxy, const key_path& at, proxy_config& p) {
    require_object(proxy, at);
    only_keys(proxy, at,
              {"workers", "connect_timeout", "request_timeout", "retries", "backoff_base", "backoff_cap",
               "extra_args"});
    // Ranges are the proxy's own (http_bridge/options.cpp).
    if (const json* v = member(proxy, "workers")) p.workers = static_cast<unsigned>(to_uint(*v, at / "workers", 1, 2000));
    if (const json* v = member(proxy, "connect_timeout")) p.connect_timeout = to_duration(*v, at / "connect_timeout", false);
    if (const json* v = member(proxy, "request_timeout")) p.request_timeout = to_duration(*v, at / "request_timeout", false);
    if (const json* v = member(proxy, "retries")) p.retries = static_cast<unsigned>(to_uint(*v, at / "retries", 0, 100));
    if (const json* v = member(proxy, "backoff_base")) p.backoff_base = to_duration(*v, at / "backoff_base");
    if (const json* v = member(proxy, "backoff_cap")) p.backoff_cap = to_duration(*v, at / "backoff_cap");
    if (p.backoff_cap < p.backoff_base) throw invalid{at / "backoff_cap", "must not be shorter than backoff_base"};
    if (const json* v = member(proxy, "extra_args")) {
        if (!v->is_array()) throw invalid{at / "extra_args", "expected an array of strings" + got(*v)};
        for (std::size_t i = 0; i < v->size(); ++i) p.extra_args.push_back(to_text((*v)[i], (at / "extra_args")[i]));
    }
}

scenario parse_document(const json& doc, std::string_view source) {
    const key_path root;
    require_object(doc, root);
    only_keys(doc, root, {"name", "description", "fleet", "faults", "proxy"});
    scenario s;
    s.name = std::string(source);
    if (const json* v = member(doc, "name")) {
        s.name = to_text(*v, root / "name");
        // It names the lab's output files.
        const bool usable = !s.name.empty() && s.name.front() != '.' &&
                            std::all_of(s.name.begin(), s.name.end(), [](char c) {
                                return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
                            });
        if (!usable) throw invalid{root / "name", "use letters, digits, '-', '_' and '.' only, got " + shown(*v)};
    }
    if (const json* v = member(doc, "description")) s.description = to_text(*v, root / "description");
    parse_fleet(required(doc, root, "fleet"), root / "fleet", s);
    if (const json* v = member(doc, "faults")) {
        if (!v->is_array()) throw invalid{root / "faults", "expected an array of fault groups" + got(*v)};
        for (std::size_t i = 0; i < v->size(); ++i) s.faults.push_back(parse_fault_group((*v)[i], (root / "faults")[i]));
    }
    if (const json* v = member(doc, "proxy")) parse_proxy(*v, root / "proxy", s.proxy);
    return s;
}

std::string located(std::string_view source, json_scan::position at, const std::string& rest) {
    return std::string(source) + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) + ": " + rest;
}

std::string file_stem(const std::string& path) {
    const auto slash = path.find_last_of('/');
    std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    const auto dot = name.rfind('.');
    if (dot != std::string::npos && dot != 0) name.erase(dot);
    return name;
}

}  // namespace

scenario_error::scenario_error(const std::string& message, std::string key, std::size_t line, std::size_t column)
    : std::runtime_error(message), key_(std::move(key)), line_(line), column_(column) {}

scenario parse_scenario(std::string_view text, std::string_view source) {
    json doc;
    try {
        // Scenario files are a few levels deep; deeper nesting is an error, not
        // a stack overflow later when a value is printed in a message.
        constexpr int max_nesting = 64;
        doc = json::parse(text, [&](int depth, json::parse_event_t event, json&) {
            if (depth > max_nesting &&
                (event == json::parse_event_t::object_start || event == json::parse_event_t::array_start))
                throw scenario_error(located(source, json_scan::line_column(text, 0),
                                             "nested deeper than " + std::to_string(max_nesting) + " levels"),
                                     "", 1, 1);
            return true;
        });
    } catch (const json::out_of_range& e) {
        // A number too large for a double: nlohmann reports it like a syntax error.
        throw scenario_error(located(source, json_scan::line_column(text, 0), std::string("bad number: ") + e.what()),
                             "", 1, 1);
    } catch (const json::parse_error& e) {
        // e.byte counts from 1 and points at the last character read.
        const auto at = json_scan::line_column(text, e.byte == 0 ? 0 : e.byte - 1);
        std::string why = e.what();
        // Drop nlohmann's "[json.exception.parse_error.101] parse error at line 1, column 2: ".
        const auto colon = why.find(": ");
        if (colon != std::string::npos) why = why.substr(colon + 2);
        throw scenario_error(located(source, at, "syntax error: " + why), "", at.line, at.column);
    }
    try {
        scenario s = parse_document(doc, source);
        resolve_faults(s);
        return s;
    } catch (const invalid& e) {
        const auto at = json_scan::line_column(text, json_scan::locate(text, e.where.steps));
        const std::string key = e.where.str();
        throw scenario_error(located(source, at, key + ": " + e.problem), key, at.line, at.column);
    } catch (const scenario_error& e) {
        // resolve_faults() knows no positions: the totals belong to "faults".
        const auto at = json_scan::line_column(text, json_scan::locate(text, {std::string("faults")}));
        throw scenario_error(located(source, at, e.what()), e.key(), at.line, at.column);
    }
}

scenario load_scenario(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) throw scenario_error(path + ": cannot read the file", "", 0, 0);
    std::ostringstream text;
    text << file.rdbuf();
    scenario s = parse_scenario(text.str(), path);
    // A name from the document wins; parse_scenario() defaulted it to the path.
    if (s.name == path) s.name = file_stem(path);
    return s;
}

void resolve_faults(scenario& s) {
    double fractions = 0;
    std::size_t total = 0;
    for (std::size_t i = 0; i < s.faults.size(); ++i) {
        auto& group = s.faults[i];
        if (group.fraction) {
            fractions += *group.fraction;
            group.pods = static_cast<std::size_t>(std::llround(*group.fraction * static_cast<double>(s.pods)));
        } else {
            group.pods = group.count.value_or(0);
        }
        total += group.pods;
    }
    // A little slack for fractions such as 0.1 + 0.2 that are not exact in binary.
    if (fractions > 1.0 + 1e-9) {
        std::ostringstream text;
        text << "faults: the fractions add up to " << fractions << ", more than the whole fleet";
        throw scenario_error(text.str(), "faults", 0, 0);
    }
    if (total > s.pods)
        throw scenario_error("faults: " + std::to_string(total) + " faulty pods but the fleet has " +
                                 std::to_string(s.pods),
                             "faults", 0, 0);
}

std::vector<pod_spec> place_faults(const scenario& s) {
    const auto ips = loopback_addresses(s.pods, s.first_address);
    // Fisher-Yates with raw engine output, so placement depends on the seed only.
    std::vector<std::size_t> order(s.pods);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::mt19937_64 rng(s.seed);
    for (std::size_t i = s.pods; i > 1; --i) std::swap(order[i - 1], order[rng() % i]);

    std::vector<pod_spec> specs(s.pods);
    for (std::size_t i = 0; i < s.pods; ++i) {
        specs[i].ip = ips[i];
        specs[i].profile.latency = s.latency;
        specs[i].profile.jitter = s.jitter;
        specs[i].profile.reveal = s.reveal;
    }
    std::size_t next = 0;
    for (const auto& group : s.faults) {
        for (std::size_t n = 0; n < group.pods && next < s.pods; ++n) {
            pod_profile& profile = specs[order[next++]].profile;
            profile.kind = group.kind;
            if (group.kind == fault::flaky) profile.failures = group.failures;
            if (group.kind == fault::slow) profile.delay = group.delay;
            if (group.kind == fault::trickle_headers || group.kind == fault::slow_answer)
                profile.interval = group.interval;
            if (group.kind == fault::partial || group.kind == fault::duplicate)
                profile.test_fraction = group.test_fraction;
            if (group.kind == fault::restart || group.kind == fault::vanish) profile.after = group.after;
            if (group.latency) profile.latency = *group.latency;
            if (group.jitter) profile.jitter = *group.jitter;
            if (group.reveal) profile.reveal = *group.reveal;
        }
    }
    return specs;
}

std::string initiate_body(const std::vector<std::string>& ips, std::size_t connections_per_pod) {
    // Written as text: addresses and policy names need no escaping, and a json
    // object of tens of thousands of keys would cost far more time and memory.
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

std::optional<milliseconds> parse_milliseconds(std::string_view text) {
    const auto ns = netpol::parse_duration(text);
    if (!ns) return std::nullopt;
    // To the nearest millisecond, half up (std::chrono::round rounds half to even).
    return milliseconds((ns->count() + 500'000) / 1'000'000);
}

std::string format_duration(milliseconds d) {
    const auto ms = d.count();
    if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
    return std::to_string(ms) + "ms";
}

std::string to_string(listen_mode mode) { return mode == listen_mode::shared ? "shared" : "per_pod"; }

std::optional<listen_mode> parse_listen_mode(std::string_view text) {
    if (text == "per_pod" || text == "per-pod") return listen_mode::per_pod;
    if (text == "shared") return listen_mode::shared;
    return std::nullopt;
}

}  // namespace podsim

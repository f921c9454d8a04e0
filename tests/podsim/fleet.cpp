#include "podsim/fleet.hpp"

#include "podsim/http.hpp"

#include "messages/digest.hpp"

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <functional>
#include <mutex>
#include <queue>
#include <random>
#include <stdexcept>
#include <thread>
#include <unordered_map>
#include <utility>

namespace podsim {
namespace {

using steady = std::chrono::steady_clock;

constexpr std::string_view check_accepted_reply = "Check Request received, processing...\n";
constexpr std::string_view unparsable_reply = "Unable to parse request body\n";
constexpr std::string_view empty_results = "[]\n";
constexpr std::string_view text_plain = "text/plain; charset=utf-8";
constexpr std::size_t no_pod = static_cast<std::size_t>(-1);
constexpr int listen_backlog = 4096;
// After answering with "Connection: close" the write side is shut and input is
// discarded until the peer closes (or this long), so unread input cannot turn
// the close into a RST that destroys the answer in flight.
constexpr auto linger_timeout = std::chrono::seconds(1);

struct fault_name {
    fault kind;
    std::string_view name;
};
constexpr fault_name fault_names[] = {
    {fault::none, "none"},
    {fault::down, "down"},
    {fault::hang, "hang"},
    {fault::reset, "reset"},
    {fault::http_500, "http_500"},
    {fault::flaky, "flaky"},
    {fault::slow, "slow"},
    {fault::bad_json, "bad_json"},
    {fault::reject_check, "reject_check"},
    {fault::crash_after_check, "crash_after_check"},
    {fault::trickle_headers, "trickle_headers"},
    {fault::endless_header, "endless_header"},
    {fault::slow_answer, "slow_answer"},
    {fault::case_variant, "case_variant"},
    {fault::too_deep, "too_deep"},
    {fault::partial, "partial"},
    {fault::duplicate, "duplicate"},
    {fault::alien, "alien"},
    {fault::restart, "restart"},
    {fault::vanish, "vanish"},
    {fault::check_unanswered, "check_unanswered"},
    {fault::check_lost, "check_lost"},
};
// What endless_header sends before its endless value, and the size of each
// chunk of 'a' it queues once the previous one has gone out.
constexpr std::string_view endless_prefix = "HTTP/1.1 200 OK\r\nX-A: ";
constexpr std::size_t endless_chunk = 16 * 1024;

std::string system_error(const std::string& what) { return what + ": " + std::strerror(errno); }

std::optional<uint32_t> parse_ipv4(std::string_view text) {  // host byte order
    in_addr address{};
    if (inet_pton(AF_INET, std::string(text).c_str(), &address) != 1) return std::nullopt;
    return ntohl(address.s_addr);
}

std::string format_ipv4(uint32_t host_order) {
    in_addr address{};
    address.s_addr = htonl(host_order);
    char text[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &address, text, sizeof text);
    return text;
}

void close_with_reset(int fd) {
    // A zero linger timeout makes close() abort the connection with RST.
    linger abort_on_close{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
    ::close(fd);
}

// Go's time.Time JSON form, always with nine fractional digits.
std::string rfc3339_nano(std::chrono::system_clock::time_point when) {
    const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(when.time_since_epoch()).count();
    std::time_t seconds = static_cast<std::time_t>(nanos / 1000000000);
    long fraction = static_cast<long>(nanos % 1000000000);
    if (fraction < 0) {
        fraction += 1000000000;
        --seconds;
    }
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[48];
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", utc.tm_year + 1900, utc.tm_mon + 1,
                  utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, fraction);
    return text;
}

struct generated_results {
    std::string body;
    std::vector<std::string> entry_texts;  // each entry's JSON, in body order
    std::size_t tests = 0;    // (connection, address, port) triples of the list
    std::size_t entries = 0;  // entries in body
    std::size_t omitted = 0;
    std::size_t duplicated = 0;
    std::size_t alien = 0;
};

// The first `count` entries as the pod's /results body.
std::string encode_results(const std::vector<std::string>& entries, std::size_t count) {
    std::size_t size = 3;
    for (std::size_t i = 0; i < count; ++i) size += entries[i].size() + 1;
    std::string body;
    body.reserve(size);
    body = "[";
    for (std::size_t i = 0; i < count; ++i) {
        if (i != 0) body += ',';
        body += entries[i];
    }
    body += "]\n";  // json.Encoder.Encode ends with a newline
    return body;
}

// A name or address that is not in `taken`: `base`, else base-2, base-3, ...
std::string unused(const std::string& base, const std::vector<std::string>& taken) {
    std::string candidate = base;
    for (int n = 2; std::find(taken.begin(), taken.end(), candidate) != taken.end(); ++n)
        candidate = base + "-" + std::to_string(n);
    return candidate;
}

// The results a pod reports for an accepted /check body, or nullopt when the body
// is not an array of {"addresses": [string], "ports": [integer], "netpol": string}.
// A healthy pod reports one entry per test in list order; the reporting faults
// change the body as fleet.hpp describes.
std::optional<generated_results> generate_results(const std::string& check_body, const pod_profile& profile,
                                                  std::chrono::system_clock::time_point now) {
    const auto connections = nlohmann::json::parse(check_body, nullptr, false);
    if (connections.is_discarded() || !connections.is_array()) return std::nullopt;
    for (const auto& connection : connections) {
        if (!connection.is_object()) return std::nullopt;
        const auto addresses = connection.find("addresses");
        const auto ports = connection.find("ports");
        const auto netpol = connection.find("netpol");
        if (addresses == connection.end() || ports == connection.end() || netpol == connection.end() ||
            !addresses->is_array() || !ports->is_array() || !netpol->is_string())
            return std::nullopt;
        for (const auto& address : *addresses)
            if (!address.is_string()) return std::nullopt;
        for (const auto& port : *ports)
            if (!port.is_number_integer()) return std::nullopt;
    }

    const fault kind = profile.kind;
    std::size_t planned = 0;  // tests of the list
    for (const auto& connection : connections) planned += connection.at("addresses").size() * connection.at("ports").size();
    std::size_t stamped = 0;
    // Distinct, deterministic timestamps, as if probes succeeded one by one:
    // 1 ms apart, or when each appears while the pod reveals its results.
    auto stamp = [&] {
        const auto k = stamped++;
        if (profile.reveal.count() == 0 || planned == 0) return now + std::chrono::milliseconds(k);
        const auto reveal = std::chrono::duration_cast<std::chrono::nanoseconds>(profile.reveal);
        return now + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                         reveal * static_cast<long long>(k + 1) / static_cast<long long>(planned));
    };
    auto entry = [&](const std::string& address_json, const std::string& port_json, std::size_t connectionidx,
                     const std::string& npname_json) {
        std::string e = "{\"address\":";
        e += address_json;
        e += ",\"port\":";
        e += port_json;
        if (kind == fault::case_variant) e += ",\"PORT\":\"eighty\"";
        e += ",\"connectionidx\":";
        e += std::to_string(connectionidx);
        e += ",\"npname\":";
        e += npname_json;
        e += ",\"timestamp\":\"";
        e += rfc3339_nano(stamp());
        e += "\"}";
        return e;
    };

    std::vector<std::string> entries;
    for (std::size_t index = 0; index < connections.size(); ++index) {
        const auto& connection = connections[index];
        const std::string npname = connection.at("netpol").dump();  // quoted and escaped
        for (const auto& address : connection.at("addresses")) {
            const std::string address_json = address.dump();
            for (const auto& port : connection.at("ports")) entries.push_back(entry(address_json, port.dump(), index, npname));
        }
    }

    generated_results out;
    out.tests = entries.size();
    const std::size_t n = entries.size();
    const auto share = [&](double f) { return static_cast<std::size_t>(std::llround(f * static_cast<double>(n))); };
    if (kind == fault::partial && n > 0) {
        const std::size_t kept = profile.test_fraction < 1.0 ? std::min(share(profile.test_fraction), n - 1) : n;
        out.omitted = n - kept;
        entries.resize(kept);
    } else if (kind == fault::duplicate && n > 0) {
        out.duplicated = std::clamp<std::size_t>(share(profile.test_fraction), 1, n);
        for (std::size_t i = 0; i < out.duplicated; ++i) entries.push_back(entries[i]);  // the same bytes again
    } else if (kind == fault::alien) {
        // Relative to connection 0 (placeholders when the list has none).
        std::vector<std::string> addresses, netpols;
        std::vector<long long> ports;
        for (const auto& connection : connections) netpols.push_back(connection.at("netpol").get<std::string>());
        if (!connections.empty()) {
            for (const auto& a : connections[0].at("addresses")) addresses.push_back(a.get<std::string>());
            for (const auto& p : connections[0].at("ports")) ports.push_back(p.get<long long>());
        }
        const std::string address0 = addresses.empty() ? "192.0.2.1" : addresses.front();
        const long long port0 = ports.empty() ? 8080 : ports.front();
        const std::string netpol0 = netpols.empty() ? "alien" : netpols.front();
        long long other_port = 9;
        while (std::find(ports.begin(), ports.end(), other_port) != ports.end()) ++other_port;
        using nlohmann::json;
        const std::string a0 = json(address0).dump(), p0 = std::to_string(port0), n0 = json(netpol0).dump();
        entries.push_back(entry(a0, p0, connections.size(), n0));                                  // past the list
        entries.push_back(entry(json(unused("192.0.2.77", addresses)).dump(), p0, 0, n0));          // not its address
        entries.push_back(entry(a0, std::to_string(other_port), 0, n0));                           // not its port
        entries.push_back(entry(a0, p0, 0, json(unused(netpol0 + "-alien", netpols)).dump()));    // unknown npname
        out.alien = alien_entries;
    } else if (kind == fault::too_deep && n > 0) {
        std::string& first = entries.front();
        first.pop_back();  // its closing brace
        first += ",\"nested\":";
        first.append(too_deep_arrays, '[');
        first.append(too_deep_arrays, ']');
        first += '}';
    }

    out.body = encode_results(entries, entries.size());
    out.entries = entries.size();
    out.entry_texts = std::move(entries);
    return out;
}

// Cutting a JSON array anywhere before its closing bracket leaves invalid JSON,
// as a pod that died mid-answer would.
std::string truncated(std::string_view valid_body) {
    return std::string(valid_body.substr(0, std::max<std::size_t>(1, valid_body.size() / 2)));
}

std::string text_response(int status, bool keep_alive, std::string_view extra_headers = {}) {
    return http::format_response(status, text_plain, std::string(http::reason_phrase(status)) + "\n", keep_alive,
                                 extra_headers);
}

// What a pod does with one complete request.
struct answer {
    enum class action { respond, reset, hang, endless };
    action what = action::respond;
    std::string response;  // complete HTTP response, for respond
    // respond: bytes of `response` past this offset go out one per `pace`
    // (npos: all at once).
    std::size_t paced_from = std::string::npos;
    steady::duration pace{};
    bool keep_alive = true;
    bool crash_after = false;  // crash_after_check: the pod dies once this is sent
    bool vanish_now = false;   // vanish: the pod is gone from now on (this answer is a reset)
    steady::duration delay{};  // the slow fault's extra delay (latency is added by the loop)
};

struct pod_state {
    // Fixed at construction, read without the lock.
    std::string ip;
    uint32_t address = 0;  // host byte order
    pod_profile profile;
    // Guarded by pod_registry::mutex_.
    std::size_t check_calls = 0;
    std::size_t duplicate_checks = 0;
    std::size_t results_calls = 0;
    int failures_served = 0;
    bool accepted = false;
    bool crashed = false;
    std::string check_body;
    std::string results_body;
    std::vector<std::string> entries;  // what it will have reported once all revealed
    steady::time_point accepted_at;
    std::size_t revealed = 0;          // entries in results_body (reveal)
    std::size_t restarts = 0;
    bool vanished = false;
    bool first_check_seen = false;  // check_unanswered, check_lost
    std::size_t tests = 0;
    std::size_t results_entries = 0;
    std::size_t results_omitted = 0;
    std::size_t results_duplicated = 0;
    std::size_t results_alien = 0;
};

// All pods' state and behaviour, shared by the event loops and snapshot().
class pod_registry {
public:
    explicit pod_registry(std::vector<pod_spec> specs) {
        pods_.reserve(specs.size());
        by_address_.reserve(specs.size());
        for (auto& spec : specs) {
            const auto address = parse_ipv4(spec.ip);
            if (!address) throw std::invalid_argument("not an IPv4 address: " + spec.ip);
            if (!by_address_.emplace(*address, pods_.size()).second)
                throw std::invalid_argument("duplicate pod address: " + spec.ip);
            pod_state pod;
            pod.ip = std::move(spec.ip);
            pod.address = *address;
            pod.profile = spec.profile;
            pod.results_body = served_results(pod.profile.kind, empty_results);
            pods_.push_back(std::move(pod));
        }
    }

    std::size_t size() const { return pods_.size(); }
    uint32_t address(std::size_t pod) const { return pods_[pod].address; }
    const pod_profile& profile(std::size_t pod) const { return pods_[pod].profile; }

    std::optional<std::size_t> find(uint32_t address) const {
        const auto it = by_address_.find(address);
        if (it == by_address_.end()) return std::nullopt;
        return it->second;
    }

    bool crashed(std::size_t pod) const {
        std::lock_guard<std::mutex> lock(mutex_);
        return pods_[pod].crashed;
    }

    // Whether a new connection may be served (shared mode; per_pod has no socket otherwise).
    bool reachable(std::size_t pod) const {
        std::lock_guard<std::mutex> lock(mutex_);
        return pods_[pod].profile.kind != fault::down && !pods_[pod].crashed;
    }

    void mark_crashed(std::size_t pod) {
        std::lock_guard<std::mutex> lock(mutex_);
        pods_[pod].crashed = true;
    }

    // What the pod does with a request, shaped by the faults that misbehave
    // inside an answer.
    answer decide(std::size_t index, http::request& request) {
        answer out = decide_content(index, request);
        const pod_profile& profile = pods_[index].profile;
        switch (profile.kind) {
            case fault::endless_header:
                // Every request, a duplicate /check included.
                out.what = answer::action::endless;
                out.response.clear();
                break;
            case fault::trickle_headers:
                if (out.what == answer::action::respond) {
                    out.paced_from = 1;
                    out.pace = profile.interval;
                }
                break;
            case fault::slow_answer:
                if (out.what == answer::action::respond) {
                    const auto head_end = out.response.find("\r\n\r\n");
                    out.paced_from = head_end == std::string::npos ? 0 : head_end + 4;
                    out.pace = profile.interval;
                }
                break;
            default: break;
        }
        return out;
    }

    answer decide_content(std::size_t index, http::request& request) {
        pod_state& pod = pods_[index];
        const fault kind = pod.profile.kind;
        const bool is_check = request.path == "/check";
        const bool is_results = request.path == "/results";
        const bool check_call = is_check && request.method == "POST";
        const bool results_call = is_results && request.method == "GET";

        answer out;
        out.keep_alive = request.keep_alive;
        if (kind == fault::slow) out.delay = pod.profile.delay;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (pod.crashed) {
                // A keep-alive connection on another loop outlived the crash (shared mode).
                out.what = answer::action::reset;
                return out;
            }
            if (lose_if_due(pod)) {
                out.what = answer::action::reset;
                out.vanish_now = true;
                return out;
            }
            if (check_call) ++pod.check_calls;
            if (results_call) ++pod.results_calls;
            switch (kind) {
                case fault::hang: out.what = answer::action::hang; return out;
                case fault::reset: out.what = answer::action::reset; return out;
                case fault::http_500: out.response = text_response(500, out.keep_alive); return out;
                case fault::flaky:
                    if (pod.failures_served < pod.profile.failures) {
                        ++pod.failures_served;
                        out.response = text_response(500, out.keep_alive);
                        return out;
                    }
                    break;
                default: break;
            }
            if (check_call && pod.accepted) {
                ++pod.duplicate_checks;
                if (pod.profile.answers_status) {  // netpol-client: no harm
                    const bool same = request.body == pod.check_body;
                    out.response = same ? http::format_response(200, text_plain, check_accepted_reply, out.keep_alive)
                                        : text_response(409, out.keep_alive);
                    return out;
                }
                // The real client's hand-off channel has no reader any more.
                out.what = answer::action::hang;
                return out;
            }
            if (request.path == "/status" && request.method == "GET" && pod.profile.answers_status) {
                out.response = http::format_response(200, "application/json", status_body(pod), out.keep_alive);
                return out;
            }
            if (check_call && kind == fault::check_lost && !pod.first_check_seen) {
                pod.first_check_seen = true;
                out.what = answer::action::hang;
                return out;
            }
            if (results_call) {
                reveal_due(pod);
                out.response = http::format_response(200, "application/json", pod.results_body, out.keep_alive);
                return out;
            }
        }
        if (!is_check && !is_results) {
            out.response = text_response(404, out.keep_alive);
            return out;
        }
        if (!check_call) {
            out.response = text_response(405, out.keep_alive, is_check ? "Allow: POST\r\n" : "Allow: GET\r\n");
            return out;
        }
        if (kind == fault::reject_check) {
            out.response = http::format_response(400, text_plain, unparsable_reply, out.keep_alive);
            return out;
        }
        // Parsing and generating happen outside the lock; a /check that raced in
        // on another connection meanwhile is re-checked below.
        auto results = generate_results(request.body, pod.profile, std::chrono::system_clock::now());
        if (!results) {
            out.response = http::format_response(400, text_plain, unparsable_reply, out.keep_alive);
            return out;
        }
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (pod.accepted) {
                ++pod.duplicate_checks;
                out.what = answer::action::hang;
                return out;
            }
            pod.accepted = true;
            pod.accepted_at = steady::now();
            pod.check_body = std::move(request.body);
            pod.results_body = served_results(kind, results->body);
            if (pod.profile.reveal.count() > 0) {
                // Kept to reveal from; a pod that shows all at once needs only the body.
                pod.entries = std::move(results->entry_texts);
                pod.revealed = 0;
                pod.results_body = served_results(kind, empty_results);
            }
            pod.tests = results->tests;
            pod.results_entries = results->entries;
            pod.results_omitted = results->omitted;
            pod.results_duplicated = results->duplicated;
            pod.results_alien = results->alien;
        }
        out.response = http::format_response(200, text_plain, check_accepted_reply, out.keep_alive);
        out.crash_after = kind == fault::crash_after_check;
        if (kind == fault::check_unanswered) {
            std::lock_guard<std::mutex> lock(mutex_);
            if (!pod.first_check_seen) {
                pod.first_check_seen = true;
                out.what = answer::action::hang;  // taken, never answered
            }
        }
        return out;
    }

    // netpol-client's GET /status, the fields the proxy reads.
    static std::string status_body(const pod_state& pod) {
        nlohmann::json j;
        j["version"] = "netpol-podsim";
        j["list_taken"] = pod.accepted;
        if (pod.accepted) j["list_sha256"] = netpol::sha256_hex(pod.check_body);
        return j.dump() + "\n";
    }

    std::vector<pod_report> snapshot() const {
        std::vector<pod_report> reports;
        reports.reserve(pods_.size());
        std::lock_guard<std::mutex> lock(mutex_);
        for (const auto& pod : pods_) {
            pod_report report;
            report.ip = pod.ip;
            report.kind = pod.profile.kind;
            report.check_calls = pod.check_calls;
            report.duplicate_checks = pod.duplicate_checks;
            report.accepted_check = pod.accepted;
            report.results_calls = pod.results_calls;
            report.check_body = pod.check_body;
            report.results_body = pod.results_body;
            report.tests = pod.tests;
            report.results_entries = pod.results_entries;
            report.results_omitted = pod.results_omitted;
            report.results_duplicated = pod.results_duplicated;
            report.results_alien = pod.results_alien;
            report.restarts = pod.restarts;
            report.vanished = pod.vanished;
            reports.push_back(std::move(report));
        }
        return reports;
    }

private:
    // restart and vanish strike `after` past the accepted /check, seen at the
    // pod's next request: true when the pod vanished with it. Holds mutex_.
    static bool lose_if_due(pod_state& pod) {
        const fault kind = pod.profile.kind;
        if ((kind != fault::restart && kind != fault::vanish) || !pod.accepted ||
            steady::now() < pod.accepted_at + pod.profile.after)
            return false;
        if (kind == fault::vanish) {
            pod.crashed = true;
            pod.vanished = true;
            return true;
        }
        // A fresh process: no list, nothing to report, a /check is welcome.
        ++pod.restarts;
        pod.accepted = false;
        pod.entries.clear();
        pod.revealed = 0;
        pod.results_body = std::string(empty_results);
        return false;
    }

    // Brings results_body up to the entries revealed by now. Holds mutex_.
    static void reveal_due(pod_state& pod) {
        const auto reveal = pod.profile.reveal;
        if (reveal.count() == 0 || !pod.accepted || pod.revealed == pod.entries.size()) return;
        const auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now() - pod.accepted_at);
        const auto total = std::chrono::duration_cast<std::chrono::nanoseconds>(reveal);
        // Entry j of n appears at reveal * (j + 1) / n.
        const auto n = pod.entries.size();
        const auto due = elapsed >= total ? n
                                          : static_cast<std::size_t>(static_cast<long double>(elapsed.count()) *
                                                                     static_cast<long double>(n) /
                                                                     static_cast<long double>(total.count()));
        if (due <= pod.revealed) return;
        pod.revealed = std::min(due, n);
        pod.results_body = served_results(pod.profile.kind, encode_results(pod.entries, pod.revealed));
    }

    static std::string served_results(fault kind, std::string_view valid_body) {
        return kind == fault::bad_json ? truncated(valid_body) : std::string(valid_body);
    }

    std::vector<pod_state> pods_;  // never resized after construction
    std::unordered_map<uint32_t, std::size_t> by_address_;
    mutable std::mutex mutex_;
};

// One epoll loop serving its own listeners and the connections they accept.
class event_loop {
public:
    event_loop(pod_registry& pods, uint64_t seed) : pods_(pods), rng_(seed) {}

    ~event_loop() {
        for (auto& entry : connections_) ::close(entry.first);
        for (const auto& l : listeners_)
            if (l.fd >= 0) ::close(l.fd);
        for (int fd : {epoll_fd_, wake_fd_, reserve_fd_})
            if (fd >= 0) ::close(fd);
    }

    event_loop(const event_loop&) = delete;
    event_loop& operator=(const event_loop&) = delete;

    bool open(std::string& error) {
        epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
        if (epoll_fd_ < 0) {
            error = system_error("epoll_create1");
            return false;
        }
        wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (wake_fd_ < 0) {
            error = system_error("eventfd");
            return false;
        }
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.u64 = key(tag_wake, 0, 0);
        if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event) != 0) {
            error = system_error("epoll_ctl(eventfd)");
            return false;
        }
        reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
        return true;
    }

    // Takes ownership of fd. pod is no_pod for the shared listener.
    bool add_listener(int fd, std::size_t pod, std::string& error) {
        listeners_.push_back({fd, pod});
        epoll_event event{};
        // In shared mode every loop watches the same socket; EPOLLEXCLUSIVE wakes
        // one loop per connection instead of all of them.
        event.events = EPOLLIN | (pod == no_pod ? EPOLLEXCLUSIVE : 0u);
        event.data.u64 = key(tag_listener, 0, static_cast<uint32_t>(listeners_.size() - 1));
        if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
            error = system_error("epoll_ctl(listener)");
            return false;
        }
        return true;
    }

    void run() {
        // The default 50 us timer slack would make every pod answer late by
        // up to that much; a pod's latency is what the scenario says.
        prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
        std::vector<epoll_event> events(256);
        while (!stopping_.load()) {
            const int ready = wait_for_events(events);
            if (ready < 0) {
                if (errno == EINTR) continue;
                return;
            }
            for (int i = 0; i < ready; ++i) {
                const uint64_t k = events[i].data.u64;
                const uint64_t tag = k >> 62;
                const auto low = static_cast<uint32_t>(k);
                if (tag == tag_wake) {
                    uint64_t count = 0;
                    [[maybe_unused]] const ssize_t n = ::read(wake_fd_, &count, sizeof count);
                } else if (tag == tag_listener) {
                    accept_from(low);
                } else {
                    on_connection(static_cast<int>(low), static_cast<uint32_t>(k >> 32) & serial_mask,
                                  events[i].events);
                }
            }
            fire_timers();
        }
    }

    // Callable from any thread.
    std::size_t open_connections() const { return open_.load(std::memory_order_relaxed); }

    // Callable from any thread.
    void request_stop() {
        stopping_.store(true);
        const uint64_t one = 1;
        [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof one);
    }

private:
    enum class phase {
        reading,   // parsing requests (or writing the answer to the last one)
        waiting,   // an answer is due at a timer
        hanging,   // never answers; input is discarded until the peer leaves
        lingering, // answered with "Connection: close"; waiting for the peer to leave
        pacing,    // an answer goes out one byte per timer (trickle_headers, slow_answer)
        endless,   // endless_header: 'a' for ever while the peer reads
    };

    struct listener {
        int fd;
        std::size_t pod;
    };

    struct connection {
        int fd = -1;
        uint32_t serial = 0;
        std::size_t pod = no_pod;
        phase state = phase::reading;
        std::string in;
        http::request_parser parser;
        bool continue_sent = false;
        std::string out;
        std::size_t out_sent = 0;
        bool peer_closed = false;
        bool close_after_write = false;
        uint32_t interest = 0;  // events registered with epoll
        answer pending;         // while waiting
        // While pacing: the rest of the answer, one byte per `pace`.
        std::string paced;
        std::size_t paced_sent = 0;
        steady::duration pace{};
        bool paced_keep_alive = true;
    };

    enum class timer_kind : uint8_t {
        answer_due,  // a delayed answer is due
        linger_end,  // a lingering connection has waited long enough
        pace,        // a pacing answer's next byte is due
    };

    struct timer {
        steady::time_point due;
        int fd;
        uint32_t serial;
        timer_kind what;
        bool operator>(const timer& other) const { return due > other.due; }
    };

    // epoll keys: 2-bit tag, 30-bit connection serial, 32-bit fd or listener slot.
    // The serial tells a live connection from an earlier one that had the same fd.
    static constexpr uint64_t tag_wake = 0, tag_listener = 1, tag_connection = 2;
    static constexpr uint32_t serial_mask = 0x3fffffff;
    static uint64_t key(uint64_t tag, uint32_t serial, uint32_t low) {
        return tag << 62 | static_cast<uint64_t>(serial & serial_mask) << 32 | low;
    }

    // Sleeps until an event or the next timer. epoll_wait counts in whole
    // milliseconds and must round up, which made a 20 ms pod answer in
    // 20.5 ms on average; epoll_pwait2 (Linux 5.11) takes nanoseconds.
    int wait_for_events(std::vector<epoll_event>& events) {
        const int capacity = static_cast<int>(events.size());
        const bool forever = timers_.empty();
        auto left = forever ? steady::duration::zero() : timers_.top().due - steady::now();
        if (left < steady::duration::zero()) left = steady::duration::zero();
        if (precise_timeouts_) {
            timespec timeout{};
            const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
            timeout.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
            timeout.tv_nsec = static_cast<long>(ns % 1'000'000'000);
            const int ready = epoll_pwait2(epoll_fd_, events.data(), capacity, forever ? nullptr : &timeout, nullptr);
            if (ready >= 0 || errno != ENOSYS) return ready;
            precise_timeouts_ = false;
        }
        // Round up so a timer is never polled for before it is due.
        const int timeout_ms =
            forever ? -1 : static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(left).count());
        return epoll_wait(epoll_fd_, events.data(), capacity, timeout_ms);
    }

    void accept_from(uint32_t slot) {
        // A bounded batch keeps one busy listener from starving the others.
        for (int batch = 0; batch < 64; ++batch) {
            const int listen_fd = listeners_[slot].fd;
            if (listen_fd < 0) return;
            const int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) {
                if (errno == EINTR || errno == ECONNABORTED) continue;
                if ((errno == EMFILE || errno == ENFILE) && reserve_fd_ >= 0) {
                    // Out of descriptors, the pending connection would keep the listener
                    // readable forever: spend the reserve descriptor to reset it.
                    ::close(reserve_fd_);
                    const int victim = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
                    if (victim >= 0) close_with_reset(victim);
                    reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
                }
                return;
            }
            std::size_t pod = listeners_[slot].pod;
            if (pod == no_pod) {
                // Shared listener: the pod is the address the client connected to.
                sockaddr_in local{};
                socklen_t length = sizeof local;
                std::optional<std::size_t> found;
                if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) == 0 && local.sin_family == AF_INET)
                    found = pods_.find(ntohl(local.sin_addr.s_addr));
                if (!found || !pods_.reachable(*found)) {
                    close_with_reset(fd);
                    continue;
                }
                pod = *found;
            }
            const int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

            const uint32_t serial = next_serial_++ & serial_mask;
            epoll_event event{};
            event.events = EPOLLIN | EPOLLRDHUP;
            event.data.u64 = key(tag_connection, serial, static_cast<uint32_t>(fd));
            if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
                close_with_reset(fd);
                continue;
            }
            connection& c = connections_[fd];
            open_.fetch_add(1, std::memory_order_relaxed);
            c.fd = fd;
            c.serial = serial;
            c.pod = pod;
            c.interest = event.events;
        }
    }

    void on_connection(int fd, uint32_t serial, uint32_t events) {
        const auto it = connections_.find(fd);
        if (it == connections_.end() || it->second.serial != serial) return;  // closed earlier in this batch
        connection& c = it->second;
        if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) && !read_input(c)) return;
        if ((events & EPOLLOUT) && !flush(c)) return;
        advance(c);
    }

    // Each of the following returns false when it closed the connection.

    bool read_input(connection& c) {
        char buffer[64 * 1024];
        for (;;) {
            const ssize_t n = ::recv(c.fd, buffer, sizeof buffer, 0);
            if (n > 0) {
                if (c.state == phase::reading || c.state == phase::waiting || c.state == phase::pacing) {
                    c.in.append(buffer, static_cast<std::size_t>(n));
                    // The parser bounds one request; this bounds requests pipelined
                    // behind one that is waiting for its answer.
                    if (c.in.size() > http::max_head_bytes + http::max_body_bytes) {
                        close_connection(c, true);
                        return false;
                    }
                }
                continue;
            }
            if (n == 0) {
                c.peer_closed = true;
                return true;
            }
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
            close_connection(c, false);
            return false;
        }
    }

    bool flush(connection& c) {
        while (c.out_sent < c.out.size()) {
            const ssize_t n = ::send(c.fd, c.out.data() + c.out_sent, c.out.size() - c.out_sent, MSG_NOSIGNAL);
            if (n > 0) {
                c.out_sent += static_cast<std::size_t>(n);
            } else if (n < 0 && errno == EINTR) {
                continue;
            } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                return true;
            } else {
                close_connection(c, false);
                return false;
            }
        }
        c.out.clear();
        c.out_sent = 0;
        return true;
    }

    // Moves a connection on after input arrived, output drained or an answer was
    // delivered: parses and answers buffered requests one at a time.
    bool advance(connection& c) {
        for (;;) {
            if (c.out_sent < c.out.size()) break;  // resumes on EPOLLOUT
            if (c.state == phase::hanging || c.state == phase::lingering || c.state == phase::pacing) {
                if (c.peer_closed) {
                    close_connection(c, false);
                    return false;
                }
                break;
            }
            if (c.state == phase::endless) {
                if (c.peer_closed) {
                    close_connection(c, false);
                    return false;
                }
                // One bounded chunk per wake-up, queued only once the last has
                // gone: memory stays at one chunk, and other connections get
                // their turn. EPOLLOUT stays registered (update_interest).
                c.out.assign(endless_chunk, 'a');
                if (!flush(c)) return false;
                break;
            }
            if (c.state == phase::waiting) break;

            if (c.close_after_write) {
                ::shutdown(c.fd, SHUT_WR);
                c.state = phase::lingering;
                c.in.clear();
                timers_.push({steady::now() + linger_timeout, c.fd, c.serial, timer_kind::linger_end});
                continue;
            }
            const http::parse_status status = c.parser.parse(c.in);
            if (status == http::parse_status::incomplete) {
                if (c.peer_closed) {
                    close_connection(c, false);
                    return false;
                }
                if (c.parser.awaiting_body() && c.parser.expects_continue() && !c.continue_sent) {
                    c.continue_sent = true;
                    c.out += "HTTP/1.1 100 Continue\r\n\r\n";
                    if (!flush(c)) return false;
                }
                break;
            }
            if (status == http::parse_status::error) {
                c.out += text_response(c.parser.error_status(), false);
                c.close_after_write = true;
                if (!flush(c)) return false;
                continue;
            }
            http::request request;
            c.in.erase(0, c.parser.take(request));
            c.continue_sent = false;
            if (!begin_answer(c, pods_.decide(c.pod, request))) return false;
        }
        update_interest(c);
        return true;
    }

    bool begin_answer(connection& c, answer decided) {
        if (decided.what == answer::action::hang) {
            c.state = phase::hanging;
            c.in.clear();
            return true;
        }
        const pod_profile& profile = pods_.profile(c.pod);
        steady::duration delay = decided.delay + profile.latency;
        if (profile.jitter.count() > 0) {
            const auto max_us = std::chrono::duration_cast<std::chrono::microseconds>(profile.jitter).count();
            delay += std::chrono::microseconds(std::uniform_int_distribution<long long>(0, max_us)(rng_));
        }
        c.pending = std::move(decided);
        if (delay > steady::duration::zero()) {
            c.state = phase::waiting;
            timers_.push({steady::now() + delay, c.fd, c.serial, timer_kind::answer_due});
            return true;
        }
        return deliver(c);
    }

    bool deliver(connection& c) {
        answer due = std::move(c.pending);
        c.pending = answer{};
        c.state = phase::reading;
        if (due.vanish_now) crash_locally(c.pod, c.fd);
        // A pod that crashed while this answer was delayed never sends it.
        if (due.what == answer::action::reset || pods_.crashed(c.pod)) {
            close_connection(c, true);
            return false;
        }
        if (due.what == answer::action::endless) {
            c.state = phase::endless;
            c.in.clear();
            c.out += endless_prefix;
            return flush(c);
        }
        if (due.paced_from < due.response.size()) {
            c.out.append(due.response, 0, due.paced_from);
            c.paced = due.response.substr(due.paced_from);
            c.paced_sent = 0;
            c.pace = due.pace;
            c.paced_keep_alive = due.keep_alive;
            c.state = phase::pacing;
            timers_.push({steady::now() + c.pace, c.fd, c.serial, timer_kind::pace});
            return flush(c);
        }
        c.out += due.response;
        if (!due.keep_alive) c.close_after_write = true;
        if (due.crash_after) {
            pods_.mark_crashed(c.pod);
            crash_locally(c.pod, c.fd);
            c.close_after_write = true;
        }
        return flush(c);
    }

    // The pod's listener (per_pod mode) and its other connections on this loop go
    // away at once. Connections on other loops (shared mode) are reset when they
    // next send a request or have an answer due.
    void crash_locally(std::size_t pod, int keep_fd) {
        for (auto& l : listeners_) {
            if (l.pod == pod && l.fd >= 0) {
                ::close(l.fd);  // connections still in its backlog are reset by the kernel
                l.fd = -1;
            }
        }
        std::vector<int> victims;
        for (const auto& entry : connections_)
            if (entry.second.pod == pod && entry.first != keep_fd) victims.push_back(entry.first);
        for (int fd : victims) close_connection(connections_.at(fd), true);
    }

    void fire_timers() {
        const auto now = steady::now();
        while (!timers_.empty() && timers_.top().due <= now) {
            const timer due = timers_.top();
            timers_.pop();
            const auto it = connections_.find(due.fd);
            if (it == connections_.end() || it->second.serial != due.serial) continue;
            connection& c = it->second;
            if (due.what == timer_kind::linger_end) {
                if (c.state == phase::lingering) close_connection(c, false);
            } else if (due.what == timer_kind::pace) {
                if (c.state == phase::pacing) pace_one_byte(c);
            } else if (c.state == phase::waiting) {
                if (deliver(c)) advance(c);
            }
        }
    }

    // The next byte of a pacing answer; once the last is out, the connection
    // goes on like after any answer.
    void pace_one_byte(connection& c) {
        c.out += c.paced[c.paced_sent++];
        if (c.paced_sent == c.paced.size()) {
            c.paced.clear();
            c.paced.shrink_to_fit();
            c.paced_sent = 0;
            c.state = phase::reading;
            if (!c.paced_keep_alive) c.close_after_write = true;
            if (flush(c)) advance(c);
            return;
        }
        timers_.push({steady::now() + c.pace, c.fd, c.serial, timer_kind::pace});
        if (flush(c)) update_interest(c);
    }

    void update_interest(connection& c) {
        uint32_t wanted = 0;
        if (!c.peer_closed) wanted |= EPOLLIN | EPOLLRDHUP;
        if (c.out_sent < c.out.size() || (c.state == phase::endless && !c.peer_closed)) wanted |= EPOLLOUT;
        if (wanted == c.interest) return;
        epoll_event event{};
        event.events = wanted;
        event.data.u64 = key(tag_connection, c.serial, static_cast<uint32_t>(c.fd));
        epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &event);
        c.interest = wanted;
    }

    void close_connection(connection& c, bool reset) {
        const int fd = c.fd;
        if (reset)
            close_with_reset(fd);
        else
            ::close(fd);
        connections_.erase(fd);
        open_.fetch_sub(1, std::memory_order_relaxed);
    }

    pod_registry& pods_;
    std::mt19937_64 rng_;  // latency jitter
    bool precise_timeouts_ = true;  // false once epoll_pwait2 proved missing
    int epoll_fd_ = -1;
    int wake_fd_ = -1;
    int reserve_fd_ = -1;  // spare descriptor for shedding connections at EMFILE
    std::vector<listener> listeners_;
    std::unordered_map<int, connection> connections_;  // by fd; node-based, so references stay valid
    std::priority_queue<timer, std::vector<timer>, std::greater<timer>> timers_;
    uint32_t next_serial_ = 0;
    std::atomic<bool> stopping_{false};
    std::atomic<std::size_t> open_{0};  // entries of connections_
};

// Binds a non-blocking listening socket; returns -1 with a message on failure.
int open_listener(uint32_t address, uint16_t port, std::string& error) {
    const std::string where = "listen on " + format_ipv4(address) + ":" + std::to_string(port);
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        error = system_error(where);
        return -1;
    }
    const int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_port = htons(port);
    local.sin_addr.s_addr = htonl(address);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 || ::listen(fd, listen_backlog) != 0) {
        error = system_error(where);
        ::close(fd);
        return -1;
    }
    return fd;
}

uint16_t local_port(int fd) {
    sockaddr_in local{};
    socklen_t length = sizeof local;
    getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length);
    return ntohs(local.sin_port);
}

void raise_descriptor_limit() {
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
        limit.rlim_cur = limit.rlim_max;
        setrlimit(RLIMIT_NOFILE, &limit);
    }
}

}  // namespace

std::string to_string(fault kind) {
    for (const auto& entry : fault_names)
        if (entry.kind == kind) return std::string(entry.name);
    return "unknown";
}

std::optional<fault> parse_fault(std::string_view name) {
    std::string normalized(name);
    std::replace(normalized.begin(), normalized.end(), '-', '_');
    for (const auto& entry : fault_names)
        if (entry.name == normalized) return entry.kind;
    return std::nullopt;
}

struct fleet::impl {
    impl(fleet_options options, std::vector<pod_spec> specs)
        : opts(options), pods(std::move(specs)), bound_port(options.port) {}
    ~impl() { stop(); }

    bool start(std::string& error) {
        if (started) {
            error = "fleet already started";
            return false;
        }
        raise_descriptor_limit();
        const unsigned count = std::max(1u, opts.threads);
        for (unsigned i = 0; i < count; ++i) {
            loops.push_back(std::make_unique<event_loop>(pods, opts.seed + i));
            if (!loops.back()->open(error)) return fail();
        }
        if (opts.mode == listen_mode::shared) {
            const int fd = open_listener(INADDR_ANY, bound_port, error);
            if (fd < 0) return fail();
            bound_port = local_port(fd);
            for (unsigned i = 0; i < count; ++i) {
                // Each loop owns a duplicate of the one socket, so each can close its own.
                const int copy = i == 0 ? fd : ::dup(fd);
                if (copy < 0) {
                    error = system_error("dup");
                    return fail();
                }
                if (!loops[i]->add_listener(copy, no_pod, error)) return fail();
            }
        } else {
            std::size_t next_loop = 0;
            for (std::size_t pod = 0; pod < pods.size(); ++pod) {
                if (pods.profile(pod).kind == fault::down) continue;  // refused: nothing listens
                const int fd = open_listener(pods.address(pod), bound_port, error);
                if (fd < 0) return fail();
                if (bound_port == 0) bound_port = local_port(fd);  // the rest share the first's port
                if (!loops[next_loop++ % count]->add_listener(fd, pod, error)) return fail();
            }
        }
        for (auto& loop : loops) threads.emplace_back([raw = loop.get()] { raw->run(); });
        started = true;
        return true;
    }

    bool fail() {
        loops.clear();  // closes whatever was opened
        bound_port = opts.port;
        return false;
    }

    void stop() {
        for (auto& loop : loops) loop->request_stop();
        for (auto& thread : threads) thread.join();
        threads.clear();
        loops.clear();
    }

    const fleet_options opts;
    pod_registry pods;
    uint16_t bound_port;
    bool started = false;
    std::vector<std::unique_ptr<event_loop>> loops;
    std::vector<std::thread> threads;
};

fleet::fleet(fleet_options opts, std::vector<pod_spec> pods) : impl_(std::make_unique<impl>(opts, std::move(pods))) {}

fleet::~fleet() = default;

bool fleet::start(std::string& error) { return impl_->start(error); }

void fleet::stop() { impl_->stop(); }

std::vector<pod_report> fleet::snapshot() const { return impl_->pods.snapshot(); }

std::size_t fleet::open_connections() const {
    std::size_t total = 0;
    for (const auto& loop : impl_->loops) total += loop->open_connections();
    return total;
}

const std::vector<fault>& all_faults() {
    static const std::vector<fault> kinds = [] {
        std::vector<fault> out;
        for (const auto& entry : fault_names) out.push_back(entry.kind);
        return out;
    }();
    return kinds;
}

uint16_t fleet::port() const { return impl_->bound_port; }

std::vector<std::string> loopback_addresses(std::size_t count, std::string_view first) {
    const auto start = parse_ipv4(first);
    if (!start || (*start >> 24) != 127)
        throw std::invalid_argument("not an address in 127.0.0.0/8: " + std::string(first));
    std::vector<std::string> addresses;
    addresses.reserve(count);
    for (uint64_t address = *start; addresses.size() < count; ++address) {
        if ((address >> 24) != 127)
            throw std::invalid_argument("" + std::to_string(count) + " addresses from " + std::string(first) +
                                        " would leave 127.0.0.0/8");
        const auto host_byte = address & 0xff;
        if (host_byte != 0 && host_byte != 255) addresses.push_back(format_ipv4(static_cast<uint32_t>(address)));
    }
    return addresses;
}

}  // namespace podsim

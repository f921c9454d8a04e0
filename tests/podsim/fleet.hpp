#pragma once
// A simulated fleet of netpolvalidator client pods (docs/protocol.md
// §3) served from one process on loopback addresses 127.x.y.z, all on the
// same TCP port.
//
// Each pod answers like the real client:
//   POST /check    JSON array of {"addresses":[string],"ports":[int],"netpol":string}.
//                  200 "Check Request received, processing...\n" when accepted,
//                  400 when the body is not such an array. A pod accepts /check once;
//                  a second /check after acceptance hangs (never answered until the
//                  fleet stops), as the real client's does, and is counted in
//                  pod_report::duplicate_checks.
//   GET /results   200 with a JSON array of connTest objects, "[]\n" before /check.
//                  The results are generated when /check is accepted: for connection
//                  index i, each address, each port, one
//                  {"address":..,"port":..,"connectionidx":i,"npname":..,"timestamp":..}
//                  with an RFC 3339 UTC timestamp with nine fractional digits (wall
//                  clock at /check time plus 1 ms per entry). The same bytes are served
//                  on every call; like Go's json.Encoder, the body ends with "\n".
//                  With pod_profile::reveal, the entries appear one by one instead,
//                  evenly over that time after /check, each stamped with the time it
//                  appeared: every answer is a prefix of the next, as the real
//                  client's are while it tests.
// Other paths answer 404, other methods 405. Malformed requests answer 400 (431 for
// heads over 64 KiB, 413 for bodies over 64 MiB, 501 for Transfer-Encoding) at once,
// without latency or fault, and the connection is closed.
//
// A pod's "tests" are the (connection index, address, port) triples of the list it
// accepted, each with its connection's netpol: a healthy pod reports one entry per
// test, in list order. Faults that report wrongly (partial, duplicate, alien,
// case_variant, too_deep) change only the body /results serves; pod_report says how.
//
// Pods are told apart by the local address of the accepted connection.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace podsim {

enum class fault {
    none,               // healthy
    down,               // nothing listening: connection refused (per_pod) / reset (shared)
    hang,               // reads each request, never answers (until the fleet stops)
    reset,              // reads each request, then closes with RST
    http_500,           // answers every request with 500
    flaky,              // the first `failures` requests (any path) answer 500, then healthy
    slow,               // healthy, but every answer is delayed by `delay`
    bad_json,           // /check accepted; /results serves truncated (invalid) JSON
    reject_check,       // /check answers 400 and is never accepted
    crash_after_check,  // answers /check 200, then stops: later connections are refused
                        // (per_pod) or reset (shared), open ones are reset
    // Misbehaving inside an answer. Each accepts /check like a healthy pod (its
    // results are generated); a second /check after that hangs like a healthy
    // pod's, except for endless_header, which answers it like any request.
    trickle_headers,    // every answer, from its status line on, goes out one byte per
                        // `interval` (the first byte at once)
    endless_header,     // every answer is "HTTP/1.1 200 OK\r\nX-A: " and then 'a' for ever,
                        // never a newline, in bounded chunks as fast as the peer reads,
                        // until the peer closes
    slow_answer,        // every answer's status line and headers go out at once, then
                        // its body one byte per `interval`
    case_variant,       // healthy, but each /results entry also carries "PORT":"eighty"
                        // (Go's decoder matches field names case-insensitively: the
                        // string lands in the integer port and the decode fails)
    too_deep,           // healthy, but the first /results entry also carries an unknown
                        // member nested 10,001 arrays deep (Go's decoder stops at 10,000)
    // Reporting wrongly; each accepts /check normally.
    partial,            // reports only its first round(test_fraction x tests) entries,
                        // at least one fewer than its tests
    duplicate,          // reports every test, then repeats its first
                        // round(test_fraction x tests) entries (at least one) at the end
    alien,              // reports every test, then 4 entries it was never sent: a
                        // connectionidx past its list, an address and a port not in
                        // connection 0, an unknown npname
    // Lost during the job: `after` past its accepted /check.
    restart,            // the container restarted: the pod forgets its list and results
                        // ("[]\n" again) and takes a new /check as a fresh pod would
    vanish,             // the pod is gone (evicted, node lost): the first connection
                        // after that is reset, later ones are refused (per_pod) or
                        // reset (shared)
    // A /check written whole and never answered (the proxy's call times out:
    // the pod is unconfirmed); later requests are answered.
    check_unanswered,   // the pod takes that first /check
    check_lost,         // the first /check never reaches it: it takes none
};

// Every fault kind, in declaration order.
const std::vector<fault>& all_faults();

// Nesting of too_deep's extra member, and what Go's decoder allows.
constexpr std::size_t too_deep_arrays = 10001;
constexpr std::size_t go_max_nesting = 10000;

// Entries an alien pod adds.
constexpr std::size_t alien_entries = 4;

// Names are the enumerator names ("http_500"); parse_fault also accepts '-' for '_'.
std::string to_string(fault kind);
std::optional<fault> parse_fault(std::string_view name);

struct pod_profile {
    fault kind = fault::none;
    int failures = 0;                    // flaky: how many requests fail first
    std::chrono::milliseconds delay{0};  // slow: extra delay of every answer
    std::chrono::milliseconds interval{1000};  // trickle_headers, slow_answer: between bytes
    double test_fraction = 0.5;          // partial: share reported; duplicate: share repeated
    std::chrono::milliseconds after{2000};  // restart, vanish: time from the accepted /check
    // Results appear one by one, evenly over this time after /check (0: all at once).
    std::chrono::milliseconds reveal{0};
    // Answers GET /status as netpol-client does (whether it took a list, and
    // its SHA-256), and a second /check with the same list 200 (docs/client.md,
    // "Endpoints"); otherwise /status is a 404, as the real client's.
    bool answers_status = false;
    // Network delay of every answer (including resets), plus a uniform random
    // 0..jitter drawn from a RNG seeded with fleet_options::seed.
    std::chrono::milliseconds latency{0};
    std::chrono::milliseconds jitter{0};
};

struct pod_spec {
    std::string ip;  // dotted IPv4, unique within the fleet
    pod_profile profile;
};

enum class listen_mode {
    // One listening socket per pod, bound to the pod's address. Down and crashed
    // pods have no socket, so connecting to them is refused, as for a real pod.
    per_pod,
    // One socket bound to 0.0.0.0:port; every 127/8 address reaches it. Scales to
    // any number of pods with one file descriptor, but a connection cannot be
    // refused once the kernel has completed it: down pods, crashed pods and
    // addresses that are not pods of the fleet are accepted and reset (RST), so
    // they look like "connection reset", not "connection refused".
    shared,
};

struct fleet_options {
    uint16_t port = 9001;  // 0 picks a free port (see fleet::port())
    listen_mode mode = listen_mode::per_pod;
    unsigned threads = 1;  // epoll loops; 0 counts as 1
    uint64_t seed = 1;     // latency jitter
};

struct pod_report {
    std::string ip;
    fault kind = fault::none;
    std::size_t check_calls = 0;       // every POST /check the pod read, whatever it answered
    std::size_t duplicate_checks = 0;  // POST /check after acceptance (each one hangs)
    bool accepted_check = false;
    std::size_t results_calls = 0;     // every GET /results the pod read, whatever it answered
    std::string check_body;            // bytes of the accepted /check body
    std::string results_body;          // exact bytes /results serves now (after /check:
                                       // the generated results; truncated for bad_json)
    std::size_t tests = 0;             // tests of the accepted list (one entry each when healthy)
    std::size_t results_entries = 0;   // connTest entries generated at /check, i.e. in
                                       // results_body (bad_json: before truncation)
    std::size_t results_omitted = 0;     // partial: tests left out
    std::size_t results_duplicated = 0;  // duplicate: entries repeated
    std::size_t results_alien = 0;       // alien: entries matching no test
    std::size_t restarts = 0;            // restart: times it forgot its list
    bool vanished = false;               // vanish: gone
};

class fleet {
public:
    // Throws std::invalid_argument for an IP that is not dotted IPv4 or appears twice.
    fleet(fleet_options opts, std::vector<pod_spec> pods);
    ~fleet();  // stops if running
    fleet(const fleet&) = delete;
    fleet& operator=(const fleet&) = delete;

    // Raises the RLIMIT_NOFILE soft limit to the hard limit, binds and starts
    // serving in background thread(s). On failure (port in use, address not
    // available, too many files, already started) returns false with a message.
    // A fleet can be started once.
    bool start(std::string& error);

    // Closes every socket (hung connections are released) and joins the threads.
    void stop();

    std::vector<pod_report> snapshot() const;  // thread-safe, in pod order

    // Connections open on every loop now (thread-safe): lets a test see that the
    // fleet lets go of a connection once its peer has gone.
    std::size_t open_connections() const;

    // The bound port once started (resolves port 0), the requested one before.
    uint16_t port() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

// `count` consecutive addresses from `first` (which must be in 127.0.0.0/8),
// skipping addresses whose last byte is 0 or 255. Throws std::invalid_argument if
// `first` is not a 127/8 IPv4 address or the range would leave 127.0.0.0/8.
std::vector<std::string> loopback_addresses(std::size_t count, std::string_view first = "127.1.0.1");

}  // namespace podsim

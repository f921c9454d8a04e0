#pragma once
// Internal to netpol_podsim: just enough HTTP/1.x to stand in for a client pod's
// Go net/http server. Requests are parsed incrementally from a connection's
// input buffer; responses are formatted whole.

#include <cstddef>
#include <string>
#include <string_view>

namespace podsim::http {

constexpr std::size_t max_head_bytes = 64 * 1024;
constexpr std::size_t max_body_bytes = 64 * 1024 * 1024;

struct request {
    std::string method;
    std::string path;  // request target without query string or scheme/authority
    bool keep_alive = true;
    bool expect_continue = false;
    std::size_t content_length = 0;
    std::string body;
};

enum class parse_status { incomplete, complete, error };

// Parses one request at a time. Call parse() with all unconsumed input each time
// more bytes arrive; it remembers how far it has scanned, so a request that
// trickles in costs linear time.
class request_parser {
public:
    parse_status parse(std::string_view input);

    // After parse() returned complete: moves the request into `out`, readies the
    // parser for the next request on the connection and returns how many input
    // bytes the request used.
    std::size_t take(request& out);

    // After parse() returned error: the status to answer with before closing.
    int error_status() const { return error_status_; }

    // True while the head is parsed and the body is still arriving
    // (the moment to send "100 Continue" if the client asked for it).
    bool awaiting_body() const { return head_length_ != 0; }
    bool expects_continue() const { return current_.expect_continue; }

private:
    parse_status fail(int status);
    bool parse_head(std::string_view head);

    std::size_t scanned_ = 0;      // input offset where the search for the blank line resumes
    std::size_t head_length_ = 0;  // nonzero once the head is parsed
    int error_status_ = 0;
    request current_;
};

std::string_view reason_phrase(int status);

// A complete response with Content-Length and an explicit Connection header.
// extra_headers, if any, are whole "Name: value\r\n" lines.
std::string format_response(int status, std::string_view content_type, std::string_view body,
                            bool keep_alive, std::string_view extra_headers = {});

}  // namespace podsim::http

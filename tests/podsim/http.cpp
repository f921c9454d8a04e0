#include "podsim/http.hpp"

#include <cctype>
#include <utility>

namespace podsim::http {
namespace {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    }
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool is_token(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (!std::isalnum(u) && std::string_view("!#$%&'*+-.^_`|~").find(c) == std::string_view::npos)
            return false;
    }
    return true;
}

// Splits off the next line (without its "\n" or "\r\n").
std::string_view next_line(std::string_view& rest) {
    const std::size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return line;
}

}  // namespace

parse_status request_parser::fail(int status) {
    error_status_ = status;
    return parse_status::error;
}

parse_status request_parser::parse(std::string_view input) {
    if (error_status_ != 0) return parse_status::error;
    if (head_length_ == 0) {
        // The head ends at the first empty line; bare "\n" line ends are tolerated
        // as Go's server does.
        std::size_t end = std::string_view::npos;
        std::size_t pos = scanned_;
        while ((pos = input.find('\n', pos)) != std::string_view::npos) {
            if (pos + 1 >= input.size()) break;
            if (input[pos + 1] == '\n') {
                end = pos + 2;
                break;
            }
            if (input[pos + 1] == '\r') {
                if (pos + 2 >= input.size()) break;
                if (input[pos + 2] == '\n') {
                    end = pos + 3;
                    break;
                }
            }
            ++pos;
        }
        if (end == std::string_view::npos) {
            // Resume at a newline that may still turn out to start the terminator.
            scanned_ = pos == std::string_view::npos ? input.size() : pos;
            if (input.size() > max_head_bytes) return fail(431);
            return parse_status::incomplete;
        }
        if (end > max_head_bytes) return fail(431);
        if (!parse_head(input.substr(0, end))) return parse_status::error;
        head_length_ = end;
    }
    if (input.size() - head_length_ < current_.content_length) return parse_status::incomplete;
    current_.body.assign(input.substr(head_length_, current_.content_length));
    return parse_status::complete;
}

std::size_t request_parser::take(request& out) {
    const std::size_t used = head_length_ + current_.content_length;
    out = std::move(current_);
    current_ = request{};
    scanned_ = 0;
    head_length_ = 0;
    return used;
}

bool request_parser::parse_head(std::string_view head) {
    std::string_view rest = head;
    const std::string_view request_line = next_line(rest);

    const std::size_t sp1 = request_line.find(' ');
    const std::size_t sp2 = sp1 == std::string_view::npos ? sp1 : request_line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos || request_line.find(' ', sp2 + 1) != std::string_view::npos) {
        fail(400);
        return false;
    }
    const std::string_view method = request_line.substr(0, sp1);
    std::string_view target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
    const std::string_view version = request_line.substr(sp2 + 1);
    if (!is_token(method) || target.empty()) {
        fail(400);
        return false;
    }
    bool http11 = false;
    if (version == "HTTP/1.1") {
        http11 = true;
    } else if (version != "HTTP/1.0") {
        fail(version.substr(0, 5) == "HTTP/" ? 505 : 400);
        return false;
    }
    if (target.size() > 7 && iequals(target.substr(0, 7), "http://")) {
        // Absolute form (as sent through a forward proxy): keep only the path.
        const std::size_t slash = target.find('/', 7);
        target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
    } else if (target.front() != '/' && target != "*") {
        fail(400);
        return false;
    }
    target = target.substr(0, target.find_first_of("?#"));

    bool has_length = false;
    bool conn_close = false;
    bool conn_keep_alive = false;
    while (!rest.empty()) {
        const std::string_view line = next_line(rest);
        if (line.empty()) break;  // the blank line ending the head
        if (line.front() == ' ' || line.front() == '\t') {
            fail(400);  // obsolete line folding
            return false;
        }
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) {
            fail(400);
            return false;
        }
        const std::string_view name = line.substr(0, colon);
        const std::string_view value = trim(line.substr(colon + 1));
        if (iequals(name, "Content-Length")) {
            if (value.empty() || value.size() > 19) {
                fail(value.empty() ? 400 : 413);
                return false;
            }
            std::size_t length = 0;
            for (char c : value) {
                if (c < '0' || c > '9') {
                    fail(400);
                    return false;
                }
                length = length * 10 + static_cast<std::size_t>(c - '0');
            }
            if (has_length && length != current_.content_length) {
                fail(400);
                return false;
            }
            if (length > max_body_bytes) {
                fail(413);
                return false;
            }
            has_length = true;
            current_.content_length = length;
        } else if (iequals(name, "Transfer-Encoding")) {
            fail(501);  // chunked bodies are not supported; pods only get Content-Length bodies
            return false;
        } else if (iequals(name, "Connection")) {
            std::string_view tokens = value;
            while (!tokens.empty()) {
                const std::size_t comma = tokens.find(',');
                const std::string_view token = trim(tokens.substr(0, comma));
                tokens.remove_prefix(comma == std::string_view::npos ? tokens.size() : comma + 1);
                if (iequals(token, "close")) conn_close = true;
                if (iequals(token, "keep-alive")) conn_keep_alive = true;
            }
        } else if (iequals(name, "Expect")) {
            if (!iequals(value, "100-continue")) {
                fail(417);
                return false;
            }
            current_.expect_continue = true;
        }
    }
    current_.method.assign(method);
    current_.path.assign(target);
    current_.keep_alive = !conn_close && (http11 || conn_keep_alive);
    return true;
}

std::string_view reason_phrase(int status) {
    switch (status) {
        case 100: return "Continue";
        case 200: return "OK";
        case 400: return "Bad Request";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 413: return "Content Too Large";
        case 417: return "Expectation Failed";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 505: return "HTTP Version Not Supported";
        default: return "Unknown";
    }
}

std::string format_response(int status, std::string_view content_type, std::string_view body,
                            bool keep_alive, std::string_view extra_headers) {
    std::string out;
    out.reserve(160 + extra_headers.size() + body.size());
    out += "HTTP/1.1 ";
    out += std::to_string(status);
    out += ' ';
    out += reason_phrase(status);
    out += "\r\nContent-Type: ";
    out += content_type;
    out += "\r\nContent-Length: ";
    out += std::to_string(body.size());
    out += keep_alive ? "\r\nConnection: keep-alive\r\n" : "\r\nConnection: close\r\n";
    out += extra_headers;
    out += "\r\n";
    out += body;
    return out;
}

}  // namespace podsim::http

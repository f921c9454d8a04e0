#include "podsim/json_scan.hpp"

#include <algorithm>
#include <cctype>

namespace podsim::json_scan {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Past an object member's name and its colon (and the whitespace after it),
// or npos.
std::size_t skip_member_name(std::string_view text, std::size_t pos) {
    pos = skip_string(text, pos);
    if (pos == npos) return npos;
    pos = skip_whitespace(text, pos);
    if (pos >= text.size() || text[pos] != ':') return npos;
    return skip_whitespace(text, pos + 1);
}

}  // namespace

std::size_t skip_whitespace(std::string_view text, std::size_t pos) {
    while (pos < text.size() && is_space(text[pos])) ++pos;
    return pos;
}

std::size_t skip_string(std::string_view text, std::size_t pos) {
    if (pos >= text.size() || text[pos] != '"') return npos;
    for (++pos; pos < text.size(); ++pos) {
        if (text[pos] == '\\')
            ++pos;
        else if (text[pos] == '"')
            return pos + 1;
    }
    return npos;
}

// Iterative, with the closers of the open containers on a stack: a value
// nested 10,001 arrays deep (the too_deep fault's) is skipped like any other.
std::size_t skip_value(std::string_view text, std::size_t pos) {
    std::vector<char> open;  // closers of the containers entered, innermost last
    for (;;) {
        // At the start of a value.
        if (pos >= text.size()) return npos;
        const char first = text[pos];
        if (first == '{' || first == '[') {
            const char close = first == '{' ? '}' : ']';
            pos = skip_whitespace(text, pos + 1);
            if (pos < text.size() && text[pos] == close) {
                ++pos;  // empty: the value ends here
            } else {
                open.push_back(close);
                if (close == '}' && (pos = skip_member_name(text, pos)) == npos) return npos;
                continue;  // its first value
            }
        } else if (first == '"') {
            pos = skip_string(text, pos);
            if (pos == npos) return npos;
        } else {
            // Numbers and literals: a run of the characters they are made of.
            const std::size_t start = pos;
            while (pos < text.size() && (std::isalnum(static_cast<unsigned char>(text[pos])) || text[pos] == '-' ||
                                         text[pos] == '+' || text[pos] == '.'))
                ++pos;
            if (pos == start) return npos;
        }
        // A value ended at pos: close what it ends, or go on to the next one.
        for (;;) {
            if (open.empty()) return pos;
            pos = skip_whitespace(text, pos);
            if (pos >= text.size()) return npos;
            if (text[pos] == open.back()) {
                open.pop_back();
                ++pos;
                continue;
            }
            if (text[pos] != ',') return npos;
            pos = skip_whitespace(text, pos + 1);
            if (open.back() == '}' && (pos = skip_member_name(text, pos)) == npos) return npos;
            break;
        }
    }
}

std::size_t locate(std::string_view text, const std::vector<step>& path) {
    std::size_t here = skip_whitespace(text, 0);
    if (here >= text.size()) return 0;
    for (const auto& next : path) {
        const char open = text[here];
        std::size_t pos = skip_whitespace(text, here + 1);
        std::size_t found = npos;
        if (open == '{' && std::holds_alternative<std::string>(next)) {
            const auto& name = std::get<std::string>(next);
            while (pos < text.size() && text[pos] == '"') {
                const std::size_t name_end = skip_string(text, pos);
                if (name_end == npos) break;
                const auto written = text.substr(pos + 1, name_end - pos - 2);
                pos = skip_whitespace(text, name_end);
                if (pos >= text.size() || text[pos] != ':') break;
                pos = skip_whitespace(text, pos + 1);
                if (written == name) found = pos;  // the last one wins, as in nlohmann/json
                pos = skip_value(text, pos);
                if (pos == npos) break;
                pos = skip_whitespace(text, pos);
                if (pos >= text.size() || text[pos] != ',') break;
                pos = skip_whitespace(text, pos + 1);
            }
        } else if (open == '[' && std::holds_alternative<std::size_t>(next)) {
            const std::size_t index = std::get<std::size_t>(next);
            for (std::size_t i = 0; pos < text.size() && text[pos] != ']'; ++i) {
                if (i == index) {
                    found = pos;
                    break;
                }
                pos = skip_value(text, pos);
                if (pos == npos) break;
                pos = skip_whitespace(text, pos);
                if (pos >= text.size() || text[pos] != ',') break;
                pos = skip_whitespace(text, pos + 1);
            }
        }
        if (found == npos || found >= text.size()) return here;
        here = found;
    }
    return here;
}

position line_column(std::string_view text, std::size_t offset) {
    offset = std::min(offset, text.size());
    position at;
    for (std::size_t i = 0; i < offset; ++i) {
        if (text[i] == '\n') {
            ++at.line;
            at.column = 1;
        } else {
            ++at.column;
        }
    }
    return at;
}

}  // namespace podsim::json_scan

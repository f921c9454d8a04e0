#pragma once
// Byte positions in JSON text, which nlohmann/json does not keep once parsed:
// the line and column of a scenario key for error messages, and the exact
// bytes of one member of a large object (the lab compares the proxy's /results
// with each pod's body byte for byte).
//
// The scanners assume nothing about validity: malformed input yields npos,
// never a read past the end. They do not recurse: any nesting depth is fine.

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace podsim::json_scan {

constexpr std::size_t npos = std::string_view::npos;

// First offset at or after pos that is not JSON whitespace.
std::size_t skip_whitespace(std::string_view text, std::size_t pos);

// End (one past the closing quote) of the string starting at pos, or npos.
std::size_t skip_string(std::string_view text, std::size_t pos);

// End of the value (object, array, string, number, literal) starting at pos,
// or npos.
std::size_t skip_value(std::string_view text, std::size_t pos);

// One step into a document: a member name or an array index.
using step = std::variant<std::string, std::size_t>;

// Offset of the value at `path` from the top-level value; where a step is
// missing, the offset of the deepest value found on the way (0 for the root).
// Member names are compared as written, escapes included.
std::size_t locate(std::string_view text, const std::vector<step>& path);

struct position {
    std::size_t line = 1;    // 1-based
    std::size_t column = 1;  // 1-based, in bytes
};

// Line and column of a byte offset (clamped to the text).
position line_column(std::string_view text, std::size_t offset);

}  // namespace podsim::json_scan

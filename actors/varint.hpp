// Unsigned LEB128 varints: the packed expected tests (completeness).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace netpol {

/// Appends `value` in 7-bit groups, low first, the high bit set on all but
/// the last byte.
inline void append_varint(std::string& out, uint64_t value) {
  while (value >= 0x80) {
    out += static_cast<char>((value & 0x7f) | 0x80);
    value >>= 7;
  }
  out += static_cast<char>(value);
}

/// Reads one varint at `pos` and moves `pos` past it. Clears `ok` and
/// returns 0 when the input ends inside it or it runs over 64 bits.
inline uint64_t read_varint(std::string_view in, size_t& pos, bool& ok) {
  uint64_t value = 0;
  for (unsigned shift = 0; shift < 64; shift += 7) {
    if (pos >= in.size())
      break;
    auto byte = static_cast<unsigned char>(in[pos++]);
    value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0)
      return value;
  }
  ok = false;
  return 0;
}

} // namespace netpol

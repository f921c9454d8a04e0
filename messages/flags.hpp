// Command-line helpers shared by netpol-proxy (http_bridge/options.cpp) and
// netpol-client (client/options.cpp): sizes, listen addresses, duration and
// size flags with their environment variables, and one way to report a bad
// flag. Its own library, netpol_flags, without CAF: the client links it
// without the proxy's libraries.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace CLI {
class App;
} // namespace CLI

namespace netpol {

/// Parses `1048576`, `64KiB`, `256MiB`, `1GiB`, `100MB`, `10kB`.
std::optional<uint64_t> parse_size(std::string_view text);

/// Splits `0.0.0.0:9002`, `[::]:9002`, `:9002` into host and port; an empty
/// host is `0.0.0.0`.
std::optional<std::pair<std::string, uint16_t>>
parse_listen_address(std::string_view text);

/// `500ms`, `1500ms`, `10s`: how the flags show a duration's default.
std::string duration_flag_text(std::chrono::nanoseconds x);

/// Adds `name` (e.g. --connect-timeout), a duration read by parse_duration,
/// with its environment variable `env`; zero only when `allow_zero`.
void add_duration_flag(CLI::App& app, const std::string& name,
                       const std::string& env,
                       std::chrono::nanoseconds& target,
                       const std::string& description, bool allow_zero = false);

/// Adds `name`, a size read by parse_size (greater than zero), with its
/// environment variable `env`.
void add_size_flag(CLI::App& app, const std::string& name,
                   const std::string& env, uint64_t& target,
                   const std::string& description);

/// Adds `name` (e.g. -w,--workers), a whole number from `min` to `max`,
/// with its environment variable `env`; `set` takes the value, `current` is
/// the default shown. Anything else is refused with the flag's name and the
/// range ("--workers: 'many' is not a number from 1 to 2000").
void add_number_flag(CLI::App& app, const std::string& name,
                     const std::string& env, uint64_t min, uint64_t max,
                     std::function<void(uint64_t)> set, uint64_t current,
                     const std::string& description);

/// The same, into `target`.
template <class T>
void add_number_flag(CLI::App& app, const std::string& name,
                     const std::string& env, T& target, uint64_t min,
                     uint64_t max, const std::string& description) {
  add_number_flag(
    app, name, env, min, max,
    [&target](uint64_t x) { target = static_cast<T>(x); },
    static_cast<uint64_t>(target), description);
}

/// Runs `app.parse`. Returns nothing when the flags are good; otherwise the
/// exit code (0 after --help or --version), having printed the help or the
/// error. An error in a value that came from an environment variable names
/// the variable, since that is what the user set.
std::optional<int> parse_flags(CLI::App& app, int argc, char** argv);

} // namespace netpol

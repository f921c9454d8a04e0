#include "messages/flags.hpp"

#include "messages/duration.hpp"

#include <CLI/CLI.hpp>

#include <cctype>
#include <cstdlib>
#include <iostream>

namespace netpol {

namespace {

/// Whether the command line names `option` (so its value is not the
/// environment variable's).
bool on_command_line(const CLI::Option& option, int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg{argv[i]};
    for (auto& name : option.get_lnames())
      if (arg == "--" + name || arg.rfind("--" + name + "=", 0) == 0)
        return true;
    for (auto& name : option.get_snames())
      if (arg.rfind("-" + name, 0) == 0)
        return true;
  }
  return false;
}

/// The variable behind a bad value, when the value came from the
/// environment: the error names the flag, the user set the variable.
std::string from_environment(const CLI::App& app, const std::string& error,
                             int argc, char** argv) {
  for (const auto* option : app.get_options()) {
    auto env = option->get_envname();
    if (env.empty() || std::getenv(env.c_str()) == nullptr
        || on_command_line(*option, argc, argv))
      continue;
    for (auto& name : option->get_lnames())
      if (error.find("--" + name) != std::string::npos)
        return env + "=" + std::getenv(env.c_str()) + " (the environment "
               + "variable of --" + name + "): " + error;
  }
  return {};
}

} // namespace

std::optional<uint64_t> parse_size(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])))
    ++pos;
  if (pos == 0 || pos > 15)
    return std::nullopt;
  uint64_t value = std::stoull(std::string{text.substr(0, pos)});
  auto unit = text.substr(pos);
  uint64_t scale;
  if (unit.empty() || unit == "B")
    scale = 1;
  else if (unit == "KiB")
    scale = 1ull << 10;
  else if (unit == "MiB")
    scale = 1ull << 20;
  else if (unit == "GiB")
    scale = 1ull << 30;
  else if (unit == "kB" || unit == "KB")
    scale = 1000;
  else if (unit == "MB")
    scale = 1000 * 1000;
  else if (unit == "GB")
    scale = 1000 * 1000 * 1000;
  else
    return std::nullopt;
  if (value > (uint64_t{1} << 50) / scale)
    return std::nullopt;
  return value * scale;
}

std::optional<std::pair<std::string, uint16_t>>
parse_listen_address(std::string_view text) {
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos)
    return std::nullopt;
  std::string host{text.substr(0, colon)};
  auto port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  else if (host.find(':') != std::string::npos)
    return std::nullopt; // IPv6 needs brackets
  if (host.empty())
    host = "0.0.0.0";
  if (port_text.empty() || port_text.size() > 5)
    return std::nullopt;
  for (auto c : port_text)
    if (!std::isdigit(static_cast<unsigned char>(c)))
      return std::nullopt;
  auto port = std::stoul(std::string{port_text});
  if (port > 65535)
    return std::nullopt;
  return std::make_pair(host, static_cast<uint16_t>(port));
}

std::string duration_flag_text(std::chrono::nanoseconds x) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(x).count();
  return ms % 1000 == 0 ? std::to_string(ms / 1000) + "s"
                        : std::to_string(ms) + "ms";
}

void add_duration_flag(CLI::App& app, const std::string& name,
                       const std::string& env,
                       std::chrono::nanoseconds& target,
                       const std::string& description, bool allow_zero) {
  app
    .add_option_function<std::string>(
      name,
      [&target, name, allow_zero](const std::string& text) {
        auto value = parse_duration(text);
        if (!value || (!allow_zero && value->count() <= 0))
          throw CLI::ValidationError(
            name, "'" + text
                    + "' is not a duration like 500ms, 10s or 1m30s"
                    + (allow_zero ? "" : " (greater than zero)"));
        target = *value;
      },
      description)
    ->envname(env)
    ->type_name("DURATION")
    ->default_str(duration_flag_text(target));
}

void add_number_flag(CLI::App& app, const std::string& name,
                     const std::string& env, uint64_t min, uint64_t max,
                     std::function<void(uint64_t)> set, uint64_t current,
                     const std::string& description) {
  // CLI11's own check says "Value many not in range 1 to 2000", naming
  // neither the flag nor what a value looks like.
  auto flag = name.substr(name.rfind(',') + 1);
  app
    .add_option_function<std::string>(
      name,
      [flag, min, max, set = std::move(set)](const std::string& text) {
        bool digits = !text.empty() && text.size() <= 19
                      && text.find_first_not_of("0123456789")
                           == std::string::npos;
        auto value = digits ? std::stoull(text) : uint64_t{0};
        if (!digits || value < min || value > max)
          throw CLI::ValidationError(
            flag, "'" + text + "' is not a number from " + std::to_string(min)
                    + " to " + std::to_string(max));
        set(value);
      },
      description)
    ->envname(env)
    ->type_name("INT in [" + std::to_string(min) + " - " + std::to_string(max)
                + "]")
    ->default_str(std::to_string(current));
}

void add_size_flag(CLI::App& app, const std::string& name,
                   const std::string& env, uint64_t& target,
                   const std::string& description) {
  app
    .add_option_function<std::string>(
      name,
      [&target, name](const std::string& text) {
        auto value = parse_size(text);
        if (!value || *value == 0)
          throw CLI::ValidationError(
            name, "'" + text + "' is not a size like 1048576, 64MiB or 1GB");
        target = *value;
      },
      description)
    ->envname(env)
    ->type_name("SIZE")
    ->default_str(std::to_string(target >> 20) + "MiB");
}

std::optional<int> parse_flags(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& ex) {
    auto env = from_environment(app, ex.what(), argc, argv);
    if (!env.empty() && ex.get_exit_code() != 0) {
      std::cerr << env << "\n";
      return ex.get_exit_code();
    }
    return app.exit(ex);
  }
  return std::nullopt;
}

} // namespace netpol

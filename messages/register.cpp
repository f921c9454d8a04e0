#include "messages/register.hpp"

#include "messages/error.hpp"
#include "messages/type_ids.hpp"

namespace netpol {

void register_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::netpol>();
  cfg.add_error_category(error_category,
                         [](uint8_t code, caf::atom_value,
                            const caf::message& ctx) {
                           std::string result = "netpol: ";
                           result += to_string(static_cast<errc>(code));
                           if (ctx.match_elements<std::string>()) {
                             result += " (";
                             result += ctx.get_as<std::string>(0);
                             result += ")";
                           }
                           return result;
                         });
}

} // namespace netpol

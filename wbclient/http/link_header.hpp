// RFC 8288 Link headers, as registries page the catalog with them.
#pragma once

#include "wbclient/http/http.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace wbclient {

/// One entry of an RFC 8288 `Link` header: `<target>; rel="next"; ...`.
struct LinkValue {
    std::string target;                  ///< the URI reference between < and >, as sent
    std::vector<std::string> relations;  ///< the rel parameter's types, lower-cased
};

/// Parses a `Link` header value: comma-separated entries, parameters in any order and any
/// case, quoted or bare values, commas and semicolons inside quotes or <...> kept intact.
/// Throws std::invalid_argument with a one-line reason when the value is malformed.
std::vector<LinkValue> parse_link_header(std::string_view value);

/// The target of the first rel="next" link among every `Link` field of `headers`, if any.
std::optional<std::string> next_link(const Headers& headers);

}  // namespace wbclient

#include "wbclient/distribution/upload_location.hpp"

#include "wbclient/http/url.hpp"
#include "wbclient/model/text.hpp"

#include <optional>

namespace wbclient {

LocationRefused::LocationRefused(std::string location, const std::string& reason)
    : std::runtime_error("upload Location '" + printable(location) + "' " + reason),
      location_(std::move(location)) {}

std::string resolve_upload_location(std::string_view base_url, std::string_view location) {
    const Url base(base_url);
    // RFC 3986's reference forms: "//host/..." (network path) and "/v2/..." (absolute path)
    // resolve against the registry; anything else must be an absolute URL, kept as written.
    std::optional<Url> absolute;
    try {
        absolute = location.starts_with("/") ? base.resolve(location) : Url(location);
    } catch (const std::invalid_argument&) {
        throw LocationRefused(std::string(location), "is neither an absolute URL nor a path");
    }
    if (absolute->origin() != base.origin())
        throw LocationRefused(std::string(location), "points to another host than " + base.origin());
    return location.starts_with("/") ? absolute->str() : std::string(location);
}

}  // namespace wbclient

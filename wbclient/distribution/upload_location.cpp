#include "wbclient/distribution/upload_location.hpp"

#include "wbclient/model/text.hpp"
#include "wbclient/http/url.hpp"

namespace wbclient {

LocationRefused::LocationRefused(std::string location, const std::string& reason)
    : std::runtime_error("upload Location '" + printable(location) + "' " + reason),
      location_(std::move(location)) {}

std::string resolve_upload_location(std::string_view base_url, std::string_view location) {
    const bool names_a_server = is_absolute_http_url(location) || location.starts_with("//");
    if (!names_a_server && !location.starts_with("/"))
        throw LocationRefused(std::string(location), "is neither an absolute URL nor a path");
    const std::string absolute = resolve_link(base_url, location);
    if (!equals_ignoring_case(origin_of(absolute), origin_of(base_url)))
        throw LocationRefused(std::string(location),
                              "points to another host than " + std::string(origin_of(base_url)));
    return absolute;
}

}  // namespace wbclient

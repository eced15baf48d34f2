#include "wbclient/http/url.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace wbclient {

std::string lower(std::string_view text) {
    std::string result(text);
    for (char& c : result) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return result;
}

bool is_absolute_http_url(std::string_view url) {
    return lower(url.substr(0, 7)) == "http://" || lower(url.substr(0, 8)) == "https://";
}

std::string_view origin_of(std::string_view url) {
    if (!is_absolute_http_url(url)) return {};
    const auto authority = url.find("://") + 3;
    return url.substr(0, std::min(url.find_first_of("/?#", authority), url.size()));
}

std::string resolve_link(std::string_view base_url, std::string_view target) {
    const auto scheme_end = base_url.find("://");
    if (scheme_end == std::string_view::npos)
        throw std::invalid_argument("cannot resolve a link against '" + std::string(base_url) +
                                    "': not an absolute URL");
    if (is_absolute_http_url(target)) return std::string(target);
    const auto path_start = std::min(base_url.find('/', scheme_end + 3), base_url.size());
    const std::string_view origin = base_url.substr(0, path_start);
    const std::string_view path = base_url.substr(0, std::min(base_url.find('?'), base_url.size()));
    if (target.starts_with("//")) return std::string(base_url.substr(0, scheme_end + 1)) + std::string(target);
    if (target.starts_with("/")) return std::string(origin) + std::string(target);
    if (target.starts_with("?")) return std::string(path) + std::string(target);
    // A relative path replaces the last segment of the base's path.
    const auto last_slash = path.rfind('/');
    const std::string_view directory =
        last_slash == std::string_view::npos || last_slash < path_start ? origin
                                                                         : path.substr(0, last_slash);
    return std::string(directory) + "/" + std::string(target);
}

}  // namespace wbclient

// URLs as the registry API hands them out (Location, Link): resolving a reference against the
// URL it came with, and telling which server a URL names.
#pragma once

#include <string>
#include <string_view>

namespace wbclient {

/// Resolves a URI reference against the absolute URL of the answer that sent it (RFC 3986,
/// section 5, for the forms registries use): absolute URLs stay as they are, "//host/..."
/// keeps the scheme, "/v2/..." keeps the scheme and host, "?..." keeps the path, and a
/// relative path replaces the last segment. Throws std::invalid_argument if `base_url` is not
/// an absolute URL.
std::string resolve_link(std::string_view base_url, std::string_view target);

/// "scheme://host:port" of an absolute http(s) URL, as written (no case folding), or "" if
/// `url` is not one.
std::string_view origin_of(std::string_view url);

/// True for "http://..." and "https://..." in any case.
bool is_absolute_http_url(std::string_view url);

/// ASCII lower case, as URL schemes, host names and header names compare.
std::string lower(std::string_view text);

}  // namespace wbclient

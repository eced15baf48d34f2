// URLs: the one type that takes a URL apart (registry base URLs, Location and Link targets,
// token realms, transcript lines), parsed and resolved by libcurl's URL API, so no code in
// the workbook slices "scheme://host:port/path" by hand.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

struct Curl_URL;  // libcurl's CURLU, known here by name only

namespace wbclient {

/// An absolute http:// or https:// URL, as libcurl's URL API (curl_url) parses it. A value:
/// copyable, comparable through str(); no libcurl handle outlives a call.
class Url {
public:
    /// Parses `text`; throws std::invalid_argument ("... is not an http(s) URL", quoting the
    /// text, then the reason) for anything else: no scheme, another scheme, no host, a bad
    /// port, ...
    explicit Url(std::string_view text);

    /// The whole URL as libcurl writes it back: scheme in lower case, "/" as the least path,
    /// dot segments removed, percent-encoding as given.
    const std::string& str() const { return text_; }
    /// "http" or "https".
    const std::string& scheme() const { return scheme_; }
    /// The host in lower case (host names compare ignoring case); an IPv6 literal keeps its
    /// brackets: "[::1]".
    const std::string& host() const { return host_; }
    /// The port: as written, or the scheme's default (80, 443).
    std::uint16_t port() const { return port_; }
    /// "host:port" with the port only if the URL wrote one: what a reference names as its
    /// registry, and what a request's Host header carries.
    std::string authority() const;
    /// "scheme://host[:port]", the port left out when it is the scheme's default: two URLs
    /// are on the same server exactly when their origins are equal.
    std::string origin() const;
    /// The path, "/" at least, percent-encoding kept.
    const std::string& path() const { return path_; }
    /// The query without its '?', "" if there is none.
    const std::string& query() const { return query_; }
    /// The request target: path, then '?' and the query if there is one.
    std::string path_and_query() const;

    /// Resolves a URI reference against this URL (RFC 3986, section 5, done by libcurl): an
    /// absolute URL stands for itself, "//host/x" keeps the scheme, "/v2/x" the origin, "?q"
    /// the path, and a relative path replaces the last segment. Throws std::invalid_argument
    /// if the result is not an http(s) URL (another scheme, a malformed reference). (A bare
    /// fragment reference, which no registry sends, loses the path with libcurl 7.88.)
    Url resolve(std::string_view reference) const;

    /// This URL with `name=value` appended to its query, both percent-encoded by libcurl
    /// (CURLU_URLENCODE): "application/spdx+json" goes out as "application%2fspdx%2bjson", so
    /// the '+' is not read back as a space.
    Url with_query(std::string_view name, std::string_view value) const;

private:
    // Reads the parts of the URL that `handle` (a CURLU) holds; `text` is quoted in errors.
    Url(::Curl_URL* handle, std::string_view text);

    std::string text_, scheme_, host_, path_, query_;
    std::uint16_t port_ = 0;
    bool port_written_ = false;
};

/// The base URL of a registry given as "host:port" or "http(s)://host:port" (a trailing
/// '/' allowed). Without a scheme the workbook speaks plain HTTP, which is what a local
/// registry serves. Throws std::invalid_argument for anything else: another scheme, a path,
/// a host or port a reference could not name.
std::string registry_base_url(std::string_view registry);

}  // namespace wbclient

// Listing what a registry holds: the catalog page by page, each repository's tags, and what a
// tag points at, the way `crane catalog`, `crane ls` and `crane digest` ask for them.
#pragma once

#include "wbclient/digest.hpp"
#include "wbclient/http.hpp"
#include "wbclient/registry_client.hpp"
#include "wbclient/url.hpp"

#include <cstdint>
#include <functional>
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

/// One answer of GET /v2/_catalog.
struct CatalogPage {
    std::string url;                        ///< what was asked for
    std::vector<std::string> repositories;  ///< in the order the registry sent them
    std::optional<std::string> link;        ///< the Link header as received, if any
    std::optional<std::string> next;        ///< the next page's absolute URL, if any
};
using CatalogPageObserver = std::function<void(const CatalogPage&)>;

/// GET /v2/_catalog?n=`page_size`, then every rel="next" Link until none is left. Throws if a
/// Link leads back to a page already fetched, so a misbehaving registry cannot loop us.
/// Returns every repository, in the order the pages gave them.
std::vector<std::string> list_repositories(RegistryClient& client, unsigned page_size,
                                           const CatalogPageObserver& on_page = {});

/// GET /v2/<name>/tags/list: the tags in the order the registry sent them (2.8.2 neither
/// sorts them nor pages them). A repository that holds blobs but no manifest yet is listed
/// by the catalog and answers 404 NAME_UNKNOWN here; one whose tags were all deleted answers
/// "tags": null. Both give an empty list.
std::vector<std::string> list_tags(RegistryClient& client, std::string_view repository);

/// What a tag or digest points at, from headers alone.
struct ManifestSummary {
    Digest digest;           ///< Docker-Content-Digest
    std::string media_type;  ///< Content-Type
    std::uint64_t size = 0;  ///< Content-Length: the manifest's own bytes
};

/// HEAD /v2/<name>/manifests/<reference> with every manifest type in Accept, so the digest
/// is that of the manifest as pushed (not a schema1 rewrite). No body is downloaded.
ManifestSummary head_manifest(RegistryClient& client, std::string_view repository,
                              std::string_view reference);

}  // namespace wbclient

// The catalog (GET /v2/_catalog): every repository, page by page along rel="next" Links, the
// way `crane catalog` asks for it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace wbclient {

class RegistryClient;

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

}  // namespace wbclient

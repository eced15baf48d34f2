#include "wbclient/distribution/catalog.hpp"

#include "wbclient/distribution/json_body.hpp"
#include "wbclient/distribution/registry_client.hpp"
#include "wbclient/distribution/registry_error.hpp"
#include "wbclient/http/link_header.hpp"
#include "wbclient/model/text.hpp"
#include "wbclient/http/url.hpp"

#include <set>
#include <stdexcept>

namespace wbclient {

std::vector<std::string> list_repositories(RegistryClient& client, unsigned page_size,
                                           const CatalogPageObserver& on_page) {
    if (page_size == 0) throw std::invalid_argument("a catalog page must hold at least one repository");
    std::vector<std::string> all;
    std::set<std::string> fetched;
    //! [catalog_pages]
    std::optional<std::string> url =
        client.base_url() + "/v2/_catalog?n=" + std::to_string(page_size);
    while (url) {
        fetched.insert(*url);
        const Request request{.method = "GET", .url = *url};
        const Response response = perform_expecting(client.http(), request, {200});
        CatalogPage page{.url = *url,
                         .repositories = string_array(request, parse_body(request, response),
                                                      "repositories")};
        for (const auto& [name, value] : response.headers.fields())
            if (equals_ignoring_case(name, "Link")) page.link = page.link ? *page.link + ", " + value : value;
        if (const auto target = next_link(response.headers)) {
            try {
                page.next = Url(*url).resolve(*target).str();
            } catch (const std::invalid_argument& error) {
                throw std::runtime_error("GET " + *url + ": the Link header's next page is no URL: " + error.what());
            }
            if (fetched.contains(*page.next))
                throw std::runtime_error("GET " + *url + ": the Link header leads back to " +
                                         *page.next + ", a page already fetched");
        }
        all.insert(all.end(), page.repositories.begin(), page.repositories.end());
        if (on_page) on_page(page);
        url = page.next;
    }
    //! [catalog_pages]
    return all;
}

}  // namespace wbclient

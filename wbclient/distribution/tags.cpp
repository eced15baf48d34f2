#include "wbclient/distribution/tags.hpp"

#include "wbclient/distribution/json_body.hpp"
#include "wbclient/distribution/registry_client.hpp"
#include "wbclient/distribution/registry_error.hpp"

namespace wbclient {

//! [tags_list]
std::vector<std::string> list_tags(RegistryClient& client, std::string_view repository) {
    const Request request{.method = "GET", .url = client.url(repository, "tags/list")};
    const Response response = perform_expecting(client.http(), request, {200, 404});
    if (response.status == 404) {
        const RegistryError error(request, response);
        if (error.code() == "NAME_UNKNOWN") return {};
        throw error;
    }
    return string_array(request, parse_body(request, response), "tags");
}
//! [tags_list]

}  // namespace wbclient
